//! Shared helpers for the integration tests: run the real binary, compare
//! golden files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn kubecis() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubecis"));
    c.env_remove("NO_COLOR");
    c
}

pub fn run(args: &[&str]) -> Output {
    kubecis().args(args).output().expect("run kubecis")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn node(name: &str) -> String {
    format!("tests/fixtures/nodes/{name}")
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A snapshot in a temporary folder: `node.yaml` and the given files under
/// `root/`.
pub fn snapshot(node_yaml: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("node.yaml"), node_yaml).unwrap();
    for (path, text) in files {
        let p = dir.path().join("root").join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("root")).unwrap();
    dir
}

/// Copy the folder `from` with everything in it to `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A copy of the bundled snapshot `name` in a temporary folder, to edit.
pub fn copy_of_node(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo_path(&node(name)), dir.path());
    dir
}

/// Compare with a golden file; `KUBECIS_BLESS=1` rewrites it instead.
pub fn assert_golden(rel: &str, actual: &str) {
    let path = repo_path(rel);
    if std::env::var_os("KUBECIS_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with KUBECIS_BLESS=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the output at line {}:\n  golden: {:?}\n  actual: {:?}\n(review, then KUBECIS_BLESS=1 cargo test to accept)",
            path.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", stdout(o)))
}

/// Every check result in a JSON report, as (id, status, reason).
pub fn verdicts(report: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for c in report["Controls"].as_array().unwrap() {
        // kube-bench writes `tests: null` for a target none of whose
        // checks was selected.
        for g in c["tests"].as_array().into_iter().flatten() {
            for r in g["results"].as_array().unwrap() {
                out.push((
                    r["test_number"].as_str().unwrap().to_string(),
                    r["status"].as_str().unwrap().to_string(),
                    // Left out when empty, as kube-bench leaves it out.
                    r["reason"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    out
}

/// The published JSON Schema of reports (docs/report.schema.json), compiled.
pub fn report_schema() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path("docs/report.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

/// Where a report breaks the schema, one line each.
pub fn schema_errors(validator: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}
