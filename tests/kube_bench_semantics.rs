//! kube-bench's semantics for shell-audit checks, driven by one table
//! (tests/fixtures/kube-bench-semantics.yaml): every compare op with its
//! wording, how flags, paths and environment variables are found in audit
//! output, and whole checks (state rules, bin_op, audit_config and env
//! fallbacks, use_multiple_values, variables, audit errors) run on a
//! snapshot whose shell audits answer with recorded output.

mod common;
use common::*;
use kubecis::benchmark::{load_catalog, CfgSource};
use kubecis::collect::{NodeFacts, SnapshotHost};
use kubecis::evaluate::shell::{compare_op, env_value, flag_value, path_value};
use kubecis::evaluate::{evaluate_controls, CheckResult, Selection, Status};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Table {
    compare: Vec<(String, String, String, String, String, bool)>,
    extract: Vec<Extract>,
    checks: Vec<CheckCase>,
}

#[derive(Deserialize)]
struct Extract {
    from: String,
    output: String,
    name: String,
    found: Option<bool>,
    value: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct CheckCase {
    name: String,
    check: String,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    group_type: Option<String>,
    #[serde(default)]
    skip: bool,
    #[serde(default)]
    outputs: BTreeMap<String, (i32, String)>,
    status: String,
    #[serde(default)]
    reason: String,
    actual: Option<String>,
    expected: Option<String>,
    kind: Option<String>,
    audit: Option<String>,
    audit_env: Option<String>,
    remediation: Option<String>,
}

fn table() -> Table {
    let text = std::fs::read_to_string(repo_path("tests/fixtures/kube-bench-semantics.yaml"))
        .expect("the table exists");
    kubecis::yaml::from_str(&text).unwrap_or_else(|e| panic!("the table: {e:?}"))
}

#[test]
fn every_compare_op_with_its_wording() {
    let t = table();
    assert!(t.compare.len() > 30);
    for (op, actual, value, name, expected, holds) in &t.compare {
        let got = compare_op(op, actual, value, name);
        assert_eq!(
            got,
            (expected.clone(), *holds),
            "{op} {actual:?} vs {value:?}"
        );
    }
}

#[test]
fn flags_paths_and_environment_are_found_as_kube_bench_finds_them() {
    let t = table();
    for case in &t.extract {
        let got = match case.from.as_str() {
            "flag" => flag_value(&case.output, &case.name),
            "path" => path_value(&case.output, &case.name),
            "env" => env_value(&case.output, &case.name),
            other => panic!("unknown source {other}"),
        };
        let label = format!("{} {:?} in {:?}", case.from, case.name, case.output);
        match (&case.error, got) {
            (Some(prefix), Err(e)) => assert!(e.starts_with(prefix), "{label}: {e}"),
            (Some(_), Ok(v)) => panic!("{label}: expected an error, got {v:?}"),
            (None, Err(e)) => panic!("{label}: {e}"),
            (None, Ok((found, value))) => {
                assert_eq!(Some(found), case.found, "{label}");
                assert_eq!(Some(value), case.value.clone(), "{label}");
            }
        }
    }
}

const CONFIG: &str = "\
master:
  components: [apiserver]
  apiserver:
    bins: [kube-apiserver]
    confs: [/etc/kubernetes/manifests/kube-apiserver.yaml]
etcd:
  components: [etcd]
  etcd:
    bins: [etcd]
version_mapping:
  \"1.30\": t
target_mapping:
  t: [master, etcd]
";

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let mut out = format!("{pad}- {first}\n");
    for l in lines {
        out.push_str(&format!("{pad}  {l}\n"));
    }
    out
}

fn run_case(case: &CheckCase) -> CheckResult {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg");
    let target = case.target.as_deref().unwrap_or("master");
    std::fs::create_dir_all(cfg.join("t")).unwrap();
    std::fs::write(cfg.join("config.yaml"), CONFIG).unwrap();
    for (t, id) in [("master", "1"), ("etcd", "2")] {
        let checks = if t == target {
            indent(&case.check, 6)
        } else {
            String::new()
        };
        let group_type = case
            .group_type
            .as_deref()
            .map(|g| format!("    type: {g}\n"))
            .unwrap_or_default();
        std::fs::write(
            cfg.join(format!("t/{t}.yaml")),
            format!("controls:\nversion: t\nid: {id}\ntext: T\ntype: {t}\ngroups:\n  - id: {id}.1\n    text: G\n{group_type}    checks:\n{checks}"),
        )
        .unwrap();
    }
    let snap = dir.path().join("node");
    let manifests = snap.join("root/etc/kubernetes/manifests");
    std::fs::create_dir_all(&manifests).unwrap();
    std::fs::write(manifests.join("kube-apiserver.yaml"), "kind: Pod\n").unwrap();
    let mut node = String::from("processes:\n  - {pid: 10, cmdline: [kube-apiserver, --x=1]}\n  - {pid: 20, cmdline: [/usr/local/bin/etcd, --name=a]}\nshell:\n");
    for (cmd, (code, output)) in &case.outputs {
        node.push_str(&format!(
            "  {}: {{exit_code: {code}, output: {}}}\n",
            serde_json::to_string(cmd).unwrap(),
            serde_json::to_string(output).unwrap()
        ));
    }
    std::fs::write(snap.join("node.yaml"), node).unwrap();

    let catalog = load_catalog(&CfgSource::Dir(cfg)).unwrap_or_else(|e| panic!("{e}"));
    let host = SnapshotHost::open(&snap).unwrap();
    let bench = catalog.benchmark("t").unwrap();
    let facts = NodeFacts::new(&host, &bench.components).with_shell(&host);
    let selection = Selection {
        skip: if case.skip {
            vec!["1".to_string(), "2.1".to_string()]
        } else {
            Vec::new()
        },
        ..Selection::default()
    };
    let result = evaluate_controls(&facts, bench.controls_for(target).unwrap(), &selection);
    result.groups[0].checks[0].clone()
}

#[test]
fn whole_checks_follow_kube_bench_state_rules_and_wording() {
    let t = table();
    assert!(t.checks.len() > 20);
    for case in &t.checks {
        let r = run_case(case);
        let n = &case.name;
        let status = match case.status.as_str() {
            "PASS" => Status::Pass,
            "FAIL" => Status::Fail,
            "WARN" => Status::Warn,
            "INFO" => Status::Info,
            other => panic!("{n}: status {other}"),
        };
        assert_eq!(r.status, status, "{n}: {r:#?}");
        assert_eq!(r.reason, case.reason, "{n}");
        assert!(r.shell, "{n}");
        let fields = [
            (&case.actual, &r.actual_value, "actual"),
            (&case.expected, &r.expected_result, "expected"),
            (&case.kind, &r.kind, "kind"),
            (&case.audit, &r.audit, "audit"),
            (&case.audit_env, &r.audit_env, "audit_env"),
            (&case.remediation, &r.remediation, "remediation"),
        ];
        for (want, got, what) in fields {
            if let Some(want) = want {
                assert_eq!(got, want, "{n}: {what}");
            }
        }
    }
}
