//! The cfg loader on hostile cfg files: a controls file, a `config.yaml`
//! and a benchmark's `config.yaml` overrides, through the real validating
//! loader (`CfgSource::Files`). A cfg that loads is then run against a
//! small node in memory, so fuzzed compare values, regexes, paths and
//! patterns reach the evaluator too.
//!
//! Input: text cut into files by header lines `#== <path in the cfg dir>`
//! (a YAML comment, so a seed stays valid YAML). Text before the first
//! header is `cis-1.12/master.yaml`. Without a `config.yaml` part, the
//! built-in `config.yaml` is used.

#![no_main]

use kubecis::benchmark::{load_catalog, CfgSource};
use kubecis::collect::host::Process;
use kubecis_fuzz::{argv, audit, MemoryHost};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

const BUILTIN_CONFIG: &str = include_str!("../../cfg/config.yaml");
const HEADER: &str = "#== ";

fn files(text: &str) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut name = "cis-1.12/master.yaml".to_string();
    let mut body = String::new();
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix(HEADER) {
            files.insert(std::mem::take(&mut name), std::mem::take(&mut body));
            name = rest.trim().to_string();
        } else {
            body.push_str(line);
        }
    }
    files.insert(name, body);
    files
        .entry("config.yaml".to_string())
        .or_insert_with(|| BUILTIN_CONFIG.to_string());
    files
}

fn node() -> MemoryHost {
    let mut host = MemoryHost {
        processes: vec![
        Process {
            pid: 10,
            argv: argv("/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --anonymous-auth=false --feature-gates=A=true,RotateKubeletServerCertificate=true"),
        },
        Process {
            pid: 20,
            argv: argv("kube-apiserver --profiling=false --authorization-mode=Node,RBAC --encryption-provider-config=/etc/kubernetes/enc.yaml --request-timeout=300s"),
        },
        Process {
            pid: 30,
            argv: argv("etcd --client-cert-auth --data-dir=/var/lib/etcd"),
        },
        ],
        ..MemoryHost::default()
    };
    host.environ
        .insert(30, vec![("ETCD_AUTO_TLS".into(), "false".into())]);
    host.add_file(
        "/var/lib/kubelet/config.yaml",
        "authentication:\n  anonymous:\n    enabled: false\nreadOnlyPort: 0\nstreamingConnectionIdleTimeout: 0s\ntlsCipherSuites: [A, B]\n",
    );
    host.add_file(
        "/etc/kubernetes/enc.yaml",
        "resources:\n- resources: [secrets]\n  providers:\n  - aescbc: {}\n  - identity: {}\n",
    );
    host.add_file("/etc/kubernetes/pki/ca.key", "key");
    host.add_file("/etc/kubernetes/pki/sub/a.crt", "crt");
    host.add_file("/var/lib/etcd/member/snap", "x");
    host
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let source = CfgSource::Files(files(&text));
    match load_catalog(&source) {
        Ok(catalog) => {
            let host = node();
            for bench in catalog.benchmarks.values() {
                audit(&catalog, bench, &host);
            }
        }
        Err(errors) => {
            // Every message is printed to the user: build each one.
            let _ = errors.to_string();
        }
    }
});
