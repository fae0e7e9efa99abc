//! One table drives the verdict of every audited cis-1.12 check on two
//! kubeadm 1.32 nodes: one hardened (everything passes) and one insecure
//! (everything fails, or warns where CIS does not score the check). The
//! table must cover every audited check, so a new check without fixtures
//! fails this test.

mod common;
use common::*;
use kubecis::benchmark::{load_catalog, CfgSource, CheckKind};
use std::collections::BTreeMap;

const NODES: [&str; 2] = ["kubeadm-hardened", "kubeadm-insecure"];

/// Checks the insecure node cannot fail without breaking a check that
/// reads the same setting; each is driven to a non-PASS verdict elsewhere.
const PASS_ON_BOTH: &[(&str, &str)] = &[
    (
        "1.2.27",
        "fails (WARN) on kubeadm-sample, which has no --encryption-provider-config",
    ),
    (
        "4.2.3",
        "the insecure kubelet keeps clientCAFile so 4.1.7/4.1.8 can judge the CA file",
    ),
    (
        "4.2.8",
        "eventRecordQPS >= 0 holds for every value a kubelet accepts",
    ),
];

fn table() -> BTreeMap<String, [String; 2]> {
    let text =
        std::fs::read_to_string(repo_path("tests/fixtures/expectations/cis-1.12.yaml")).unwrap();
    kubecis::yaml::from_str(&text).unwrap()
}

#[test]
fn the_table_covers_every_audited_check() {
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    let bench = catalog.benchmark("cis-1.12").unwrap();
    let table = table();
    let audited: Vec<&str> = bench
        .checks()
        .filter(|c| c.kind == CheckKind::Audited)
        .map(|c| c.id.as_str())
        .collect();
    for id in &audited {
        assert!(
            table.contains_key(*id),
            "check {id} has no row in tests/fixtures/expectations/cis-1.12.yaml"
        );
    }
    for id in table.keys() {
        assert!(
            audited.contains(&id.as_str()),
            "row {id} is not an audited cis-1.12 check"
        );
    }
    for (id, [hardened, insecure]) in &table {
        assert_eq!(hardened, "PASS", "{id} must pass on the hardened node");
        if !PASS_ON_BOTH.iter().any(|(e, _)| e == id) {
            assert_ne!(insecure, "PASS", "{id} must not pass on the insecure node");
        }
    }
}

#[test]
fn every_verdict_on_both_nodes_matches_the_table() {
    let table = table();
    for (i, node_name) in NODES.iter().enumerate() {
        let o = run(&[
            "--snapshot",
            &node(node_name),
            "--benchmark",
            "cis-1.12",
            "--json",
            "run",
        ]);
        assert!(o.status.success(), "{node_name}: {}", stderr(&o));
        let report = json(&o);
        let mut mismatches = Vec::new();
        for (id, status, reason) in verdicts(&report) {
            if let Some(expected) = table.get(&id) {
                if expected[i] != status {
                    mismatches.push(format!(
                        "{id}: expected {}, got {status} ({reason})",
                        expected[i]
                    ));
                }
                // A verdict always says why.
                assert!(!reason.is_empty(), "{node_name} {id}: empty reason");
            }
        }
        assert!(
            mismatches.is_empty(),
            "{node_name}:\n{}",
            mismatches.join("\n")
        );
    }
}

#[test]
fn the_documented_exceptions_fail_somewhere() {
    let o = run(&[
        "--snapshot",
        &node("kubeadm-sample"),
        "--benchmark",
        "cis-1.12",
        "--json",
        "--check",
        "1.2.27",
    ]);
    let v = verdicts(&json(&o));
    assert_eq!(v[0].1, "WARN", "{v:?}");
}

#[test]
fn detection_picks_cis_1_12_for_kubeadm_1_32() {
    for n in NODES {
        let o = run(&["--snapshot", &node(n), "--check", "1.1.1"]);
        assert!(
            stderr(&o).contains("benchmark cis-1.12 for Kubernetes v1.32.0"),
            "{}",
            stderr(&o)
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
