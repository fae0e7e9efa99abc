//! kube-bench's own cfg, unmodified (../shared/reference/kube-bench-cfg):
//! every benchmark folder loads, with every check of every target file.
//! Skipped when the folder is absent, except on CI (CI=true), where it
//! must run.

mod common;
use common::*;
use kubecis::benchmark::{load_catalog, Audit, CfgForm, CfgSource};
use std::path::PathBuf;

fn reference_cfg() -> Option<PathBuf> {
    let dir = repo_path("../shared/reference/kube-bench-cfg");
    if dir.join("config.yaml").is_file() {
        return Some(dir);
    }
    let on_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !on_ci,
        "{} is missing; CI must run this test",
        dir.display()
    );
    eprintln!("skipped: {} is absent", dir.display());
    None
}

/// The number of checks in a controls file, counted on a generic parse of
/// the YAML (independent of the loader).
fn count_checks(path: &std::path::Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = kubecis::yaml::to_document(&text).unwrap();
    doc["groups"]
        .as_array()
        .map(|groups| {
            groups
                .iter()
                .map(|g| g["checks"].as_array().map_or(0, Vec::len))
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn every_benchmark_folder_loads_with_all_its_checks() {
    let Some(dir) = reference_cfg() else { return };
    let catalog = load_catalog(&CfgSource::Dir(dir.clone())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(catalog.form, CfgForm::KubeBench);

    let mut folders: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    assert_eq!(folders.len(), 46, "{folders:?}");
    let loaded: Vec<&String> = catalog.benchmarks.keys().collect();
    assert_eq!(loaded, folders.iter().collect::<Vec<_>>());

    let mut total = 0;
    for (name, bench) in &catalog.benchmarks {
        assert!(!bench.controls.is_empty(), "{name} has no targets");
        for controls in &bench.controls {
            let file = dir.join(name).join(format!("{}.yaml", controls.target));
            let expected = count_checks(&file);
            let got: usize = controls.groups.iter().map(|g| g.checks.len()).sum();
            assert_eq!(got, expected, "{}", file.display());
            total += got;
            for check in controls.groups.iter().flat_map(|g| &g.checks) {
                assert!(
                    matches!(check.audit, Some(Audit::Shell(_))),
                    "{name} {}: every kube-bench check is a shell check",
                    check.id
                );
            }
        }
    }
    assert!(total > 4000, "only {total} checks loaded");
}

#[test]
fn its_tables_and_sections_become_the_model() {
    let Some(dir) = reference_cfg() else { return };
    let catalog = load_catalog(&CfgSource::Dir(dir)).unwrap();
    let mapped = |v: &str| {
        catalog
            .version_mapping
            .iter()
            .find(|(k, _)| k.to_string() == v)
            .map(|(_, b)| b.as_str())
    };
    assert_eq!(mapped("1.28"), Some("cis-1.10"));
    assert_eq!(mapped("1.15"), Some("cis-1.5"));
    assert!(catalog
        .version_aliases
        .contains(&("ocp-3.10".to_string(), "rh-0.7".to_string())));

    let rule = |t: &str| {
        catalog
            .targets
            .iter()
            .find(|r| r.name == t)
            .map(|r| r.detect.clone())
            .unwrap()
    };
    assert_eq!(
        rule("master"),
        vec!["apiserver", "scheduler", "controllermanager"]
    );
    assert_eq!(rule("controlplane"), rule("master"));
    assert_eq!(rule("etcd"), vec!["etcd"]);
    assert_eq!(rule("node"), vec!["kubelet"]);
    assert!(rule("policies").is_empty());

    let cis = catalog.benchmark("cis-1.10").unwrap();
    let master = cis.controls_for("master").unwrap();
    let names: Vec<&str> = master.variables.iter().map(|v| v.name.as_str()).collect();
    for v in [
        "apiserverbin",
        "apiserverconf",
        "schedulerkubeconfig",
        "etcddatadir",
        "kubernetesconf",
    ] {
        assert!(names.contains(&v), "{v} missing from {names:?}");
    }
    // A benchmark's own config.yaml is merged over the global one: k3s
    // finds its control plane in the containerd process.
    let k3s = catalog.benchmark("k3s-cis-1.7").unwrap();
    assert_eq!(k3s.components["apiserver"].bins, vec![vec!["containerd"]]);
}
