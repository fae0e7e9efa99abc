//! The kubelet, kube-proxy and etcd config readers: a config file (YAML or
//! JSON, `yaml::to_document`) that the running component names, a kubelet
//! `--config-dir` drop-in, etcd's environment and a static pod manifest,
//! all fuzzed; then every effective-setting lookup the built-in cis-1.12
//! checks make, under the kubelet and etcd precedence models, and every
//! check of the benchmark.
//!
//! Input: one layout byte, then up to four parts separated by NUL:
//! config file, drop-in (kubelet, kube-proxy) or `NAME=value` lines (etcd's
//! environment), static pod manifest, extra command-line arguments (one a
//! line). Layout bits: 0-1 component (kubelet, etcd, kube-proxy,
//! kube-apiserver from its manifest only); 2 the config file is named by
//! the environment (etcd) rather than a flag; 3 no process runs (etcd and
//! the API server come from their manifests); 4 a `--config-dir`.

#![no_main]

use kubecis::collect::host::Process;
use kubecis::collect::NodeFacts;
use kubecis_fuzz::{audit, embedded_catalog, MemoryHost};
use libfuzzer_sys::fuzz_target;

const MANIFESTS: &str = "/etc/kubernetes/manifests";

fuzz_target!(|data: &[u8]| {
    let Some((&layout, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(4, |b| *b == 0);
    let config = parts.next().unwrap_or_default();
    let second = parts.next().unwrap_or_default();
    let manifest = parts.next();
    let extra = String::from_utf8_lossy(parts.next().unwrap_or_default());

    let catalog = embedded_catalog();
    let Some(bench) = catalog.benchmark("cis-1.12") else {
        return;
    };
    let (component, bin, manifest_name) = match layout & 3 {
        0 => ("kubelet", "/usr/bin/kubelet", None),
        1 => ("etcd", "etcd", Some("etcd.yaml")),
        2 => ("proxy", "kube-proxy", None),
        _ => ("apiserver", "kube-apiserver", Some("kube-apiserver.yaml")),
    };
    let by_env = layout & 4 != 0;
    let running = layout & 8 == 0 && component != "apiserver";
    let drop_in = layout & 16 != 0;

    let mut host = MemoryHost::default();
    let config_path = if component == "etcd" {
        "/etc/etcd/etcd.conf.yml"
    } else {
        "/var/lib/kubelet/config.yaml"
    };
    host.add_file(config_path, config);
    let mut argv = vec![bin.to_string()];
    let mut env = Vec::new();
    if component == "etcd" {
        if by_env {
            env.push(("ETCD_CONFIG_FILE".to_string(), config_path.to_string()));
        } else {
            argv.push(format!("--config-file={config_path}"));
        }
        for line in String::from_utf8_lossy(second).lines() {
            if let Some((k, v)) = line.split_once('=') {
                env.push((k.to_string(), v.to_string()));
            }
        }
    } else {
        argv.push(format!("--config={config_path}"));
        if drop_in {
            argv.push("--config-dir=/etc/kubernetes/kubelet.conf.d".to_string());
            host.add_file("/etc/kubernetes/kubelet.conf.d/10-fuzz.conf", second);
        }
    }
    argv.extend(extra.lines().map(str::to_string));
    if running {
        host.processes.push(Process { pid: 100, argv });
        host.environ.insert(100, env);
    }
    if let (Some(name), Some(text)) = (manifest_name, manifest) {
        host.add_file(&format!("{MANIFESTS}/{name}"), text);
    }

    // Every setting the benchmark asks of this component, then every check.
    let facts = NodeFacts::new(&host, &bench.components);
    if let Some(comp) = bench.components.get(component) {
        for d in &comp.defaults {
            let _ = facts.setting(component, &d.query);
        }
    }
    audit(catalog, bench, &host);
});
