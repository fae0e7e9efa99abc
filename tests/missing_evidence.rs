//! No PASS or FAIL from missing evidence: every check of every shipped
//! benchmark runs against three node snapshots where evidence is missing
//! (`empty`), refused (`unreadable`) or malformed (`malformed`), and each
//! verdict is held to what the evidence that could be read allows.

mod common;
use common::*;
use kubecis::benchmark::{
    load_catalog, AbsentVerdict, Audit, Benchmark, CfgSource, Check, CheckKind, SettingsModel,
    StatField,
};
use serde_json::Value;

/// Evidence a PASS or FAIL may rest on when configuration files cannot be
/// read or parsed: what /proc showed, what follows from it (a default, a
/// flag that is not set), and a file's stat.
const READABLE_SOURCES: [&str; 4] = ["command_line", "default", "not_set", "file"];

/// What each degraded node withholds: every entry must be named in at least
/// one WARN reason (so the node really exercises it), and no PASS or FAIL
/// may cite it as evidence.
const UNREADABLE_SOURCES: [&str; 5] = [
    "/etc/kubernetes/manifests",
    "/etc/kubernetes/pki",
    "/var/lib/kubelet",
    "/etc/passwd",
    "environment of pid 1000",
];
const MALFORMED_SOURCES: [(&str, &str); 6] = [
    (
        "/etc/kubernetes/manifests/kube-controller-manager.yaml",
        "is malformed: line 10",
    ),
    (
        "/etc/kubernetes/manifests/kube-scheduler.yaml",
        "is not UTF-8 text",
    ),
    (
        "/etc/kubernetes/enc/encryption-config.yaml",
        ":5 is malformed",
    ),
    ("/etc/etcd/etcd.conf.yml", "(an alias bomb?)"),
    (
        "/var/lib/kubelet/config.yaml",
        "nested more than 128 levels deep",
    ),
    (
        "/var/lib/kube-proxy/config.conf",
        "is not a mapping of settings",
    ),
];

struct Verdict {
    id: String,
    status: String,
    reason: String,
    evidence: Vec<Value>,
}

fn audit(node_name: &str, bench: &str) -> Vec<Verdict> {
    let o = run(&[
        "--snapshot",
        &node(node_name),
        "--benchmark",
        bench,
        "--json",
        "run",
    ]);
    assert!(o.status.success(), "{node_name} {bench}: {}", stderr(&o));
    let report = json(&o);
    let mut out = Vec::new();
    for c in report["Controls"].as_array().unwrap() {
        // kube-bench's shape: `"tests": null` for a target with nothing
        // selected, and no `reason` when it is empty.
        for g in c["tests"].as_array().into_iter().flatten() {
            for r in g["results"].as_array().unwrap() {
                out.push(Verdict {
                    id: r["test_number"].as_str().unwrap().to_string(),
                    status: r["status"].as_str().unwrap().to_string(),
                    reason: r["reason"].as_str().unwrap_or_default().to_string(),
                    evidence: r["evidence"].as_array().cloned().unwrap_or_default(),
                });
            }
        }
    }
    out
}

fn check<'b>(bench: &'b Benchmark, id: &str) -> &'b Check {
    bench
        .checks()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("{id} is not in {}", bench.name))
}

/// Whether a settings check may be decided by the command line alone: its
/// component takes settings from flags only, or no item names a config
/// file path (a flag-only setting of the kubelet or etcd).
fn decidable_from_command_line(bench: &Benchmark, c: &Check) -> bool {
    match &c.audit {
        Some(Audit::Settings { component }) => {
            bench.components[component].settings == SettingsModel::Flags
                || c.tests.items.iter().all(|i| i.query.path.is_none())
        }
        _ => true,
    }
}

/// The rules every degraded node shares; returns the problems found.
fn common_rules(bench: &Benchmark, v: &Verdict, problems: &mut Vec<String>) {
    let c = check(bench, &v.id);
    let mut fail = |why: &str| {
        problems.push(format!(
            "{} {}: {} {why} (reason: {:?})",
            bench.name, v.id, v.status, v.reason
        ))
    };
    match c.kind {
        CheckKind::Manual if v.status != "WARN" => fail("a manual check must be WARN"),
        CheckKind::Skip if v.status != "INFO" => fail("a skipped check must be INFO"),
        CheckKind::Audited if v.reason.trim().is_empty() => fail("has no reason"),
        _ => {}
    }
    if c.kind != CheckKind::Audited {
        return;
    }
    if let Some(why) = v.reason.strip_prefix("could not be audited: ") {
        if v.status != "WARN" {
            fail("a check that could not be audited must be WARN");
        }
        if !(why.contains('/') || why.contains("pid")) {
            fail("must name the file or process it could not use");
        }
        return;
    }
    match v.status.as_str() {
        "PASS" | "FAIL" | "WARN" if v.evidence.is_empty() => {
            let absent_pass = v.status == "PASS"
                && c.if_absent == AbsentVerdict::Pass
                && v.reason.starts_with("not applicable on this node: ");
            if !absent_pass {
                fail("without evidence");
            }
        }
        // A verdict from evidence (an unscored check's WARN included).
        "PASS" | "FAIL" | "WARN" => {
            for e in &v.evidence {
                let source = e["source"].as_str().unwrap_or_default();
                if !READABLE_SOURCES.contains(&source) {
                    fail(&format!("rests on {source} evidence: {}", e["detail"]));
                }
            }
            if !decidable_from_command_line(bench, c) {
                fail("decides a setting that a config file it could not read may override");
            }
        }
        "INFO" if !v.reason.starts_with("not applicable on this node: ") => {
            fail("INFO must say why the check does not apply")
        }
        _ => {}
    }
}

/// Whether a verdict rests on evidence read from under `source`.
fn rests_on(v: &Verdict, source: &str) -> bool {
    v.evidence
        .iter()
        .any(|e| e["path"].as_str().is_some_and(|p| p.starts_with(source)))
}

#[test]
fn every_check_on_an_empty_node_is_info_or_a_pass_for_absence() {
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    let mut problems = Vec::new();
    let mut audited = 0;
    for bench in catalog.benchmarks.values() {
        let verdicts = audit("empty", &bench.name);
        assert_eq!(verdicts.len(), bench.checks().count(), "{}", bench.name);
        for v in &verdicts {
            common_rules(bench, v, &mut problems);
            let c = check(bench, &v.id);
            if c.kind != CheckKind::Audited {
                continue;
            }
            audited += 1;
            let expected = match c.if_absent {
                AbsentVerdict::Info => "INFO",
                AbsentVerdict::Pass => "PASS",
            };
            if v.status != expected || !v.reason.starts_with("not applicable on this node: ") {
                problems.push(format!(
                    "{} {}: {} on an empty node, expected {expected} (reason: {:?})",
                    bench.name, v.id, v.status, v.reason
                ));
            }
        }
    }
    assert!(audited > 200, "only {audited} audited checks ran");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn refused_files_and_environments_give_warn_never_a_verdict() {
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    let mut problems = Vec::new();
    for bench in catalog.benchmarks.values() {
        let verdicts = audit("unreadable", &bench.name);
        assert_eq!(verdicts.len(), bench.checks().count(), "{}", bench.name);
        for v in &verdicts {
            common_rules(bench, v, &mut problems);
            for source in UNREADABLE_SOURCES {
                let audited = !v.reason.starts_with("could not be audited: ");
                if v.status != "INFO" && audited && rests_on(v, source) {
                    problems.push(format!(
                        "{} {}: {} rests on {source}",
                        bench.name, v.id, v.status
                    ));
                }
                // Nothing below a refused directory can be known absent.
                if v.status == "INFO" && v.reason.contains(source) {
                    problems.push(format!(
                        "{} {}: INFO from refused {source}: {}",
                        bench.name, v.id, v.reason
                    ));
                }
            }
        }
        // The degraded nodes have kubeadm's layout: only the upstream
        // benchmarks read those paths (a distribution's benchmarks read its
        // own), so only they must name each source. The rules above hold
        // for every benchmark.
        if catalog.distribution_of(&bench.name).is_some() {
            continue;
        }
        for source in UNREADABLE_SOURCES {
            let named = verdicts
                .iter()
                .any(|v| v.status == "WARN" && v.reason.contains(source));
            if !named {
                problems.push(format!("{}: no WARN names {source}", bench.name));
            }
        }
        // The controller manager and scheduler are only visible through
        // their (refused) manifests: every one of their checks is WARN. No
        // owner can be named without /etc/passwd and /etc/group.
        for v in &verdicts {
            let c = check(bench, &v.id);
            let names_owner = c.tests.items.iter().any(|i| {
                matches!(
                    i.stat,
                    Some(StatField::Owner | StatField::User | StatField::Group)
                )
            });
            let judged = !v.evidence.is_empty() && (v.status == "PASS" || v.status == "FAIL");
            if names_owner && judged {
                problems.push(format!(
                    "{} {}: {} on an owner without /etc/passwd",
                    bench.name, v.id, v.status
                ));
            }
            if let Some(Audit::Settings { component }) = &c.audit {
                if (component == "controllermanager" || component == "scheduler")
                    && v.status != "WARN"
                {
                    problems.push(format!("{} {}: {}", bench.name, v.id, v.status));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn malformed_configs_give_warn_naming_the_file_never_a_verdict() {
    let catalog = load_catalog(&CfgSource::Embedded).unwrap();
    let mut problems = Vec::new();
    for bench in catalog.benchmarks.values() {
        let started = std::time::Instant::now();
        let verdicts = audit("malformed", &bench.name);
        // The alias bomb and the deep nesting are refused, not expanded.
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        assert_eq!(verdicts.len(), bench.checks().count(), "{}", bench.name);
        for v in &verdicts {
            common_rules(bench, v, &mut problems);
        }
        // As above: the kubeadm-layout node exercises the upstream benchmarks.
        if catalog.distribution_of(&bench.name).is_some() {
            continue;
        }
        for (source, why) in MALFORMED_SOURCES {
            let named = verdicts
                .iter()
                .any(|v| v.status == "WARN" && v.reason.contains(source) && v.reason.contains(why));
            if !named {
                problems.push(format!("{}: no WARN says {source} {why}", bench.name));
            }
        }
        // Each component whose configuration is malformed: every settings
        // check that a config file could decide is WARN, naming the file.
        for (component, source) in [
            ("kubelet", "/var/lib/kubelet/config.yaml"),
            ("etcd", "/etc/etcd/etcd.conf.yml"),
            ("proxy", "/var/lib/kube-proxy/config.conf"),
            (
                "controllermanager",
                "/etc/kubernetes/manifests/kube-controller-manager.yaml",
            ),
            ("scheduler", "/etc/kubernetes/manifests/kube-scheduler.yaml"),
        ] {
            for v in &verdicts {
                let c = check(bench, &v.id);
                let reads_it = matches!(&c.audit, Some(Audit::Settings { component: comp }) if comp == component)
                    && (!decidable_from_command_line(bench, c)
                        || component == "controllermanager"
                        || component == "scheduler");
                if reads_it && !(v.status == "WARN" && v.reason.contains(source)) {
                    problems.push(format!(
                        "{} {}: {} (reason: {:?}), expected WARN naming {source}",
                        bench.name, v.id, v.status, v.reason
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
