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

/// Copy a directory tree (files, directories and symlinks as they are).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A snapshot's `node.yaml` as a JSON value.
pub fn snapshot_node(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(repo_path(&node(name)).join("node.yaml")).unwrap();
    kubecis::yaml::to_document(&text).unwrap()
}

/// A live host root at `root` built from a snapshot: its files, with the
/// modes `node.yaml` records (git keeps none).
pub fn live_root_from_snapshot(name: &str, root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    copy_tree(&repo_path(&node(name)).join("root"), root);
    let meta = snapshot_node(name);
    if let Some(files) = meta["files"].as_object() {
        for (path, m) in files {
            if let Some(mode) = m["mode"].as_str() {
                let mode = u32::from_str_radix(mode, 8).unwrap();
                std::fs::set_permissions(
                    root.join(path.trim_start_matches('/')),
                    std::fs::Permissions::from_mode(mode),
                )
                .unwrap();
            }
        }
    }
}

/// One process of a fake `/proc`: its pid, raw command line and, when
/// given, raw environment (NUL-separated as the kernel writes them).
pub struct FakeProcess {
    pub pid: u32,
    pub cmdline: Vec<u8>,
    pub environ: Option<Vec<u8>>,
}

impl FakeProcess {
    pub fn new(pid: u32, argv: &[&str]) -> FakeProcess {
        let mut cmdline = Vec::new();
        for a in argv {
            cmdline.extend_from_slice(a.as_bytes());
            cmdline.push(0);
        }
        FakeProcess {
            pid,
            cmdline,
            environ: Some(Vec::new()),
        }
    }
}

/// The processes a snapshot records, as fake `/proc` entries.
/// The `(pid, argv)` of every process a snapshot's `node.yaml` lists.
pub fn process_argvs(node: &serde_json::Value) -> Vec<(u32, Vec<String>)> {
    node["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let argv = p["cmdline"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            (p["pid"].as_u64().unwrap() as u32, argv)
        })
        .collect()
}

pub fn snapshot_processes(name: &str) -> Vec<FakeProcess> {
    process_argvs(&snapshot_node(name))
        .into_iter()
        .map(|(pid, argv)| {
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            FakeProcess::new(pid, &argv)
        })
        .collect()
}

/// Write a fake `/proc` under `root/proc`: kubecis reads the processes
/// from there when `root/proc/self` exists, as with a host's /proc mounted
/// under the host root.
pub fn write_fake_proc(root: &Path, processes: &[FakeProcess]) {
    let proc_dir = root.join("proc");
    std::fs::create_dir_all(proc_dir.join("self")).unwrap();
    for p in processes {
        let dir = proc_dir.join(p.pid.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cmdline"), &p.cmdline).unwrap();
        if let Some(env) = &p.environ {
            std::fs::write(dir.join("environ"), env).unwrap();
        }
    }
}

pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether a test that needs root may run; on CI it must.
pub fn root_or_skip(why: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert!(!on_ci(), "CI runs as root; this test must not be skipped");
    eprintln!("skipped: {why} needs root");
    false
}

/// Every check result in a JSON report, by ID.
pub fn results_by_id(
    report: &serde_json::Value,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut out = std::collections::BTreeMap::new();
    for c in report["Controls"].as_array().unwrap() {
        for g in c["tests"].as_array().into_iter().flatten() {
            for r in g["results"].as_array().unwrap() {
                out.insert(r["test_number"].as_str().unwrap().to_string(), r.clone());
            }
        }
    }
    out
}
