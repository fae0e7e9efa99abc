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
    for n in ["kubeadm-hardened", "kubeadm-insecure"] {
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
