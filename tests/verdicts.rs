//! One table per shipped benchmark (tests/fixtures/expectations/<name>.yaml)
//! drives the verdict of every audited check on that benchmark's fixture
//! nodes: typically one hardened node where everything passes and one
//! insecure node where everything fails (or warns, where CIS does not score
//! the check). Every shipped benchmark must have a table, every audited check
//! a row, and every row a PASS and a failing verdict somewhere, so a new
//! check or benchmark without fixtures fails this test.

mod common;
use common::*;
use kubecis::benchmark::{load_catalog, CfgSource, CheckKind};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    benchmark: String,
    /// Snapshot names under tests/fixtures/nodes, one verdict column each.
    nodes: Vec<String>,
    /// Checks that no fixture node can fail, each with where it is shown to
    /// fail or why it cannot.
    #[serde(default)]
    pass_everywhere: BTreeMap<String, String>,
    verdicts: BTreeMap<String, Vec<String>>,
}

fn tables() -> Vec<(String, Table)> {
    let dir = repo_path("tests/fixtures/expectations");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let table: Table =
            kubecis::yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            file,
            format!("{}.yaml", table.benchmark),
            "a table is named after its benchmark"
        );
        out.push((file, table));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_shipped_benchmark_has_a_complete_table() {
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    let tables = tables();
    let mut problems = Vec::new();
    for (name, bench) in &catalog.benchmarks {
        let Some((file, table)) = tables.iter().find(|(_, t)| &t.benchmark == name) else {
            problems.push(format!(
                "{name}: no tests/fixtures/expectations/{name}.yaml"
            ));
            continue;
        };
        let mut seen = BTreeSet::new();
        for c in bench.checks() {
            if !seen.insert(c.id.clone()) {
                problems.push(format!("{name}: check ID {} is not unique", c.id));
            }
        }
        let audited: BTreeMap<&str, bool> = bench
            .checks()
            .filter(|c| c.kind == CheckKind::Audited)
            .map(|c| (c.id.as_str(), c.scored))
            .collect();
        for id in audited.keys() {
            if !table.verdicts.contains_key(*id) {
                problems.push(format!("{file}: audited check {id} has no row"));
            }
        }
        for (id, row) in &table.verdicts {
            let Some(scored) = audited.get(id.as_str()) else {
                problems.push(format!(
                    "{file}: row {id} is not an audited check of {name}"
                ));
                continue;
            };
            if row.len() != table.nodes.len() {
                problems.push(format!(
                    "{file}: row {id} has {} verdicts for {} nodes",
                    row.len(),
                    table.nodes.len()
                ));
            }
            if !row.iter().any(|v| v == "PASS") {
                problems.push(format!("{file}: {id} passes on no fixture node"));
            }
            // A scored check fails with FAIL; an unscored one with WARN.
            let failing = if *scored { "FAIL" } else { "WARN" };
            if !row.iter().any(|v| v == failing) && !table.pass_everywhere.contains_key(id) {
                problems.push(format!(
                    "{file}: {id} has no fixture node where it gives {failing}"
                ));
            }
        }
        for id in table.pass_everywhere.keys() {
            if !table.verdicts.contains_key(id) {
                problems.push(format!("{file}: pass_everywhere names unknown row {id}"));
            }
        }
    }
    for (file, t) in &tables {
        if catalog.benchmark(&t.benchmark).is_none() {
            problems.push(format!(
                "{file}: {} is not a shipped benchmark",
                t.benchmark
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_verdict_on_every_fixture_node_matches_its_table() {
    let mut mismatches = Vec::new();
    for (file, table) in tables() {
        for (i, node_name) in table.nodes.iter().enumerate() {
            let o = run(&[
                "--snapshot",
                &node(node_name),
                "--benchmark",
                &table.benchmark,
                "--json",
                "run",
            ]);
            assert!(o.status.success(), "{file} {node_name}: {}", stderr(&o));
            let report = json(&o);
            for (id, status, reason) in verdicts(&report) {
                if let Some(expected) = table.verdicts.get(&id).and_then(|row| row.get(i)) {
                    // An audited verdict always says why.
                    assert!(!reason.is_empty(), "{file} {node_name} {id}: empty reason");
                    if *expected != status {
                        mismatches.push(format!(
                            "{file} {node_name} {id}: expected {expected}, got {status} ({reason})"
                        ));
                    }
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn the_documented_exceptions_fail_somewhere() {
    // The --encryption-provider-config check, numbered as each benchmark
    // numbers it: kubeadm-sample has no encryption config.
    for (bench, id) in [
        ("cis-1.7", "1.2.29"),
        ("cis-1.8", "1.2.28"),
        ("cis-1.9", "1.2.27"),
        ("cis-1.12", "1.2.27"),
    ] {
        let (status, reason) = verdict_of(&node("kubeadm-sample"), bench, id);
        assert_eq!(status, "WARN", "{bench}: {reason}");
        assert!(
            reason.contains("--encryption-provider-config is not set"),
            "{bench}: {reason}"
        );
    }
}

/// cis-1.7 1.2.16: an API server refuses --secure-port=0, so only a node
/// whose manifest asks for it (and whose API server therefore is not
/// running) can fail; the manifest is then the evidence.
#[test]
fn cis_1_7_secure_port_zero_in_a_manifest_warns() {
    let manifest = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  namespace: kube-system\nspec:\n  containers:\n  - name: kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v1.25.16\n    command:\n    - kube-apiserver\n    - --secure-port=0\n";
    let dir = snapshot(
        "hostname: controlplane\n",
        &[("/etc/kubernetes/manifests/kube-apiserver.yaml", manifest)],
    );
    let o = run(&[
        "--snapshot",
        dir.path().to_str().unwrap(),
        "--json",
        "--check",
        "1.2.16",
        "run",
        "--targets",
        "master",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("benchmark cis-1.7 for Kubernetes v1.25.16"),
        "{}",
        stderr(&o)
    );
    let v = verdicts(&json(&o));
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].1, "WARN", "{v:?}");
    assert!(v[0].2.contains("--secure-port=0"), "{v:?}");
    assert!(v[0].2.contains("kube-apiserver.yaml"), "{v:?}");
}

/// The kubeadm 1.26 snapshots with their image tags rewritten to `tag`.
fn kubeadm_node_at(tag: &str) -> tempfile::TempDir {
    let dir = copy_of_node("kubeadm-1.26-hardened");
    let manifests = dir.path().join("root/etc/kubernetes/manifests");
    for name in [
        "kube-apiserver.yaml",
        "kube-controller-manager.yaml",
        "kube-scheduler.yaml",
    ] {
        let path = manifests.join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(":v1.26.0"), "{name}");
        std::fs::write(&path, text.replace(":v1.26.0", &format!(":{tag}"))).unwrap();
    }
    dir
}

/// What kubecis says on stderr about the benchmark it picks for a snapshot
/// folder, with `extra` arguments.
fn pick(snapshot_dir: &str, extra: &[&str]) -> String {
    let mut args = vec!["--snapshot", snapshot_dir, "--check", "1.1.1"];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    stderr(&o)
}

#[test]
fn detection_picks_cis_1_7_1_8_1_9_for_kubernetes_1_25_1_26_1_27() {
    for n in ["kubeadm-1.26-hardened", "kubeadm-1.26-insecure"] {
        let err = pick(&node(n), &[]);
        assert!(
            err.contains("benchmark cis-1.8 for Kubernetes v1.26.0 (from image tag in the static pod manifest /etc/kubernetes/manifests/kube-apiserver.yaml)"),
            "{n}: {err}"
        );
    }
    for (tag, bench) in [
        ("v1.25.16", "cis-1.7"),
        ("v1.26.15", "cis-1.8"),
        ("v1.27.16", "cis-1.9"),
        ("v1.28.0", "cis-1.10"),
    ] {
        let dir = kubeadm_node_at(tag);
        let err = pick(dir.path().to_str().unwrap(), &[]);
        let want = format!("benchmark {bench} for Kubernetes {tag} (from image tag");
        assert!(err.contains(&want), "{tag}: {err}");
        assert!(!err.contains("note:"), "{tag}: {err}");
    }
    for (version, bench) in [
        ("1.25", "cis-1.7"),
        ("1.26", "cis-1.8"),
        ("1.27", "cis-1.9"),
    ] {
        let err = pick(&node("kubeadm-1.26-hardened"), &["--version", version]);
        let want = format!("benchmark {bench} for Kubernetes {version} (from --version)");
        assert!(err.contains(&want), "{version}: {err}");
        assert!(!err.contains("note:"), "{version}: {err}");
    }
}

#[test]
fn versions_before_the_table_use_cis_1_7_and_say_so() {
    let o = run(&[
        "--snapshot",
        &node("kubeadm-1.26-hardened"),
        "--version",
        "1.24",
        "--json",
        "--check",
        "1.1.1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("benchmark cis-1.7 for Kubernetes 1.24 (from --version)"),
        "{err}"
    );
    assert!(
        err.contains("note: Kubernetes 1.24 is older than any version in the benchmark table (oldest 1.25); using cis-1.7, the oldest benchmark shipped"),
        "{err}"
    );
    let report = json(&o);
    let detection = &report["kubecis"]["detection"];
    assert_eq!(detection["benchmark"], "cis-1.7", "{detection}");
    assert!(
        detection["notes"][0]
            .as_str()
            .unwrap()
            .contains("older than any version"),
        "{detection}"
    );
    // The same for a node whose image tags say 1.24.
    let dir = kubeadm_node_at("v1.24.17");
    let err = pick(dir.path().to_str().unwrap(), &[]);
    assert!(
        err.contains("benchmark cis-1.7 for Kubernetes v1.24.17"),
        "{err}"
    );
    assert!(
        err.contains("note: Kubernetes 1.24 is older than any version"),
        "{err}"
    );
}

#[test]
fn detection_picks_cis_1_12_for_kubeadm_1_32() {
    for n in ["kubeadm-hardened", "kubeadm-insecure"] {
        let err = pick(&node(n), &[]);
        assert!(
            err.contains("benchmark cis-1.12 for Kubernetes v1.32.0"),
            "{err}"
        );
    }
}

#[test]
fn cis_1_10_and_1_11_differ_from_1_12_where_cis_does() {
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    let ids = |b: &str| -> Vec<String> {
        catalog
            .benchmark(b)
            .unwrap()
            .checks()
            .map(|c| c.id.clone())
            .collect()
    };
    let (v10, v11, v12) = (ids("cis-1.10"), ids("cis-1.11"), ids("cis-1.12"));
    assert!(!v10.contains(&"1.2.30".to_string()) && v11.contains(&"1.2.30".to_string()));
    assert!(!v10.contains(&"4.2.14".to_string()) && v12.contains(&"4.2.14".to_string()));
    assert!(v11.contains(&"4.2.15".to_string()) && !v12.contains(&"4.2.15".to_string()));
    // Certificate files: 600 in 1.10, 644 later.
    let text = |b: &str, id: &str| {
        catalog
            .benchmark(b)
            .unwrap()
            .checks()
            .find(|c| c.id == id)
            .unwrap()
            .text
            .clone()
    };
    assert!(text("cis-1.10", "1.1.20").contains("600"));
    assert!(text("cis-1.12", "1.1.20").contains("644"));
    // The same node under each benchmark: 1.1.20 passes with 644 certs only
    // where CIS allows 644.
    for (bench, want) in [
        ("cis-1.10", "FAIL"),
        ("cis-1.11", "PASS"),
        ("cis-1.12", "PASS"),
    ] {
        let o = run(&[
            "--snapshot",
            &node("kubeadm-sample"),
            "--benchmark",
            bench,
            "--json",
            "--check",
            "1.1.20",
        ]);
        let v = verdicts(&json(&o));
        let expected_status = if want == "FAIL" {
            ["FAIL", "WARN"]
        } else {
            ["PASS", "PASS"]
        };
        assert!(expected_status.contains(&v[0].1.as_str()), "{bench}: {v:?}");
    }
}

/// The verdict of one check of `bench` on a snapshot folder.
fn verdict_of(snapshot_dir: &str, bench: &str, id: &str) -> (String, String) {
    let o = run(&[
        "--snapshot",
        snapshot_dir,
        "--benchmark",
        bench,
        "--json",
        "--check",
        id,
    ]);
    assert!(o.status.success(), "{bench} {id}: {}", stderr(&o));
    let v = verdicts(&json(&o));
    assert_eq!(v.len(), 1, "{bench} {id}: {v:?}");
    (v[0].1.clone(), v[0].2.clone())
}

#[test]
fn cis_1_7_1_8_1_9_differ_from_1_10_where_cis_does() {
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    let check = |b: &str, id: &str| {
        catalog
            .benchmark(b)
            .unwrap()
            .checks()
            .find(|c| c.id == id)
            .map(|c| (c.text.clone(), c.scored))
    };
    let title = |b: &str, id: &str| check(b, id).map(|c| c.0).unwrap_or_default();
    // 1.2.16 --secure-port only in 1.7; its later checks move up by one.
    assert!(title("cis-1.7", "1.2.16").contains("--secure-port"));
    assert!(title("cis-1.7", "1.2.17").contains("--profiling"));
    assert!(title("cis-1.8", "1.2.16").contains("--profiling"));
    assert!(title("cis-1.7", "1.2.31").contains("Strong Cryptographic Ciphers"));
    assert!(check("cis-1.8", "1.2.31").is_none());
    // SecurityContextDeny in 1.7 and 1.8, gone from 1.9.
    assert!(title("cis-1.8", "1.2.12").contains("SecurityContextDeny"));
    assert!(title("cis-1.9", "1.2.12").contains("ServiceAccount"));
    assert!(check("cis-1.9", "1.2.30").is_none());
    // kube-proxy metrics (4.3.1) from 1.9 on.
    assert!(check("cis-1.7", "4.3.1").is_none() && check("cis-1.8", "4.3.1").is_none());
    assert!(check("cis-1.9", "4.3.1").is_some());
    // The kubelet config file checks are scored from 1.8 on.
    assert_eq!(check("cis-1.7", "4.1.9").map(|c| c.1), Some(false));
    assert_eq!(check("cis-1.8", "4.1.9").map(|c| c.1), Some(true));
    // admin.conf only before 1.9, super-admin.conf too from 1.9 on.
    assert!(title("cis-1.8", "1.1.13").contains("admin.conf file"));
    assert!(title("cis-1.9", "1.1.13").contains("default administrative credential file"));

    // The same node under each benchmark. kubeadm-insecure offers 3DES and
    // TLS_RSA_* suites, which CIS accepted up to 1.9 only.
    let insecure = node("kubeadm-insecure");
    assert_eq!(verdict_of(&insecure, "cis-1.9", "1.2.29").0, "PASS");
    assert_eq!(verdict_of(&insecure, "cis-1.10", "1.2.29").0, "WARN");
    // A hardened node whose super-admin.conf was left world-readable: 1.9
    // looks at that file, 1.8 only at admin.conf.
    let dir = copy_of_node("kubeadm-hardened");
    let node_yaml = dir.path().join("node.yaml");
    let text = std::fs::read_to_string(&node_yaml).unwrap();
    let entry = "  /etc/kubernetes/super-admin.conf:\n    mode: '0600'\n";
    assert!(text.contains(entry));
    std::fs::write(
        &node_yaml,
        text.replace(
            entry,
            "  /etc/kubernetes/super-admin.conf:\n    mode: '0644'\n",
        ),
    )
    .unwrap();
    let hardened = dir.path().to_str().unwrap();
    assert_eq!(verdict_of(hardened, "cis-1.8", "1.1.13").0, "PASS");
    let (status, reason) = verdict_of(hardened, "cis-1.9", "1.1.13");
    assert_eq!(status, "FAIL", "{reason}");
    assert!(
        reason.contains("/etc/kubernetes/super-admin.conf: mode 644"),
        "{reason}"
    );
    // The kubelet's eventRecordQPS default: 5 up to Kubernetes 1.26, 50 from 1.27.
    let k126 = node("kubeadm-1.26-hardened");
    for (bench, default) in [("cis-1.7", "5"), ("cis-1.8", "5"), ("cis-1.9", "50")] {
        let (status, reason) = verdict_of(&k126, bench, "4.2.8");
        assert_eq!(status, "PASS", "{bench}: {reason}");
        assert!(
            reason.ends_with(&format!("defaults it to {default}")),
            "{bench}: {reason}"
        );
    }
}

/// cfg/cis-1.7/config.yaml and cfg/cis-1.8/config.yaml override the
/// kubelet's eventRecordQPS default for 1.25/1.26; the merge must leave the
/// rest of the shared kubelet as it is.
#[test]
fn the_kubelet_overrides_differ_from_the_shared_kubelet_only_in_event_qps() {
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    let kubelet = |bench: &str| {
        let mut k = catalog.benchmark(bench).unwrap().components["kubelet"].clone();
        let is_qps =
            |d: &kubecis::benchmark::SettingDefault| d.query.flag.as_deref() == Some("--event-qps");
        let qps: Vec<String> = k
            .defaults
            .iter()
            .filter(|d| is_qps(d))
            .map(|d| d.value.clone())
            .collect();
        k.defaults.retain(|d| !is_qps(d));
        (format!("{k:?}"), qps)
    };
    let (shared, qps) = kubelet("cis-1.10");
    assert_eq!(qps, ["50"]);
    for bench in ["cis-1.7", "cis-1.8"] {
        let (k, qps) = kubelet(bench);
        assert_eq!(qps, ["5"], "{bench}");
        assert_eq!(
            k, shared,
            "{bench}: its kubelet differs from cfg/config.yaml's"
        );
    }
}
