//! The command line with a cfg in kube-bench's form (tests/fixtures/
//! kube-bench-mini) on a snapshot whose shell audits answer with recorded
//! output: the text report byte for byte as kube-bench's format strings
//! write it, the JSON shape and escaping, --nototals, JUnit to a file, and
//! the flags CI pipelines use (--exit-code, --check, --skip, --scored,
//! --no-exec, --version with a platform name, --targets worker).

mod common;
use common::*;

const CFG: &str = "tests/fixtures/kube-bench-mini";
const NODE: &str = "tests/fixtures/nodes/kube-bench-mini";

fn kb(args: &[&str]) -> std::process::Output {
    let mut all = vec!["--config-dir", CFG, "--snapshot", NODE];
    all.extend_from_slice(args);
    run(&all)
}

/// What kube-bench prints for these results: `[STATE] ` and the message,
/// a blank line, remediations as written (a block remediation keeps its
/// newline, so a blank line follows it; a plain one does not), the
/// summaries, and the total even for one target's worth of checks.
const EXPECTED_TEXT: &str = "\
[INFO] 1 Mini control plane
[INFO] 1.1 API server <flags> & files
[PASS] 1.1.1 Profiling is off
[FAIL] 1.1.2 The audit log has a path
[WARN] 1.1.3 Something to look at by hand
[INFO] 1.1.4 A check the cfg skips
[FAIL] 1.1.5 The manifest is 600 or more restrictive
[WARN] 1.1.6 An audit that cannot run

== Remediations master ==
1.1.2 Set --audit-log-path in /etc/kubernetes/manifests/kube-apiserver.yaml.
1.1.3 Look at it by hand.

1.1.5 chmod 600 /etc/kubernetes/manifests/kube-apiserver.yaml

1.1.6 audit test did not run: failed to run: \"grep -c nothing /nonexistent\", output: \"grep: /nonexistent: No such file or directory\\n\", error: exit status 2

== Summary master ==
1 checks PASS
2 checks FAIL
2 checks WARN
1 checks INFO

[INFO] 4 Mini worker node
[INFO] 4.2 Kubelet
[PASS] 4.2.1 Anonymous auth is off

== Summary node ==
1 checks PASS
0 checks FAIL
0 checks WARN
0 checks INFO

== Summary total ==
2 checks PASS
2 checks FAIL
2 checks WARN
1 checks INFO

";

#[test]
fn the_text_report_is_kube_bench_s_byte_for_byte() {
    let o = kb(&["--benchmark", "m", "run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), EXPECTED_TEXT);

    // --include-test-output adds each FAIL's actual value, tab-indented.
    let o = kb(&[
        "--benchmark",
        "m",
        "--include-test-output",
        "--noremediations",
        "--nosummary",
        "--nototals",
        "run",
        "--targets",
        "master",
    ]);
    let text = stdout(&o);
    assert!(
        text.contains("[FAIL] 1.1.5 The manifest is 600 or more restrictive\n\t permissions=644\n[WARN] 1.1.6"),
        "{text}"
    );
    assert!(!text.contains("== "), "{text}");

    // Only the [STATE] tags and the headers are coloured, as kube-bench
    // colours them.
    let o = kb(&[
        "--benchmark",
        "m",
        "--color",
        "always",
        "--check",
        "1.1.1",
        "run",
        "--targets",
        "master",
    ]);
    assert!(
        stdout(&o).starts_with("\u{1b}[34m[INFO] \u{1b}[0m1 Mini control plane\n"),
        "{:?}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("\u{1b}[32m[PASS] \u{1b}[0m1.1.1 Profiling is off\n"));
    assert!(stdout(&o).contains("\u{1b}[32m== Summary master ==\n\u{1b}[0m"));
}

#[test]
fn json_has_kube_bench_s_fields_order_and_escaping() {
    let o = kb(&["--benchmark", "m", "--json", "run"]);
    let raw = stdout(&o);
    assert!(
        raw.ends_with("}\n") && raw.lines().count() == 1,
        "one compact line"
    );
    assert!(
        raw.contains(r#""desc":"API server \u003cflags\u003e \u0026 files""#),
        "Go escapes <, > and &: {raw}"
    );
    let report = json(&o);
    let check = &report["Controls"][0]["tests"][0]["results"][0];
    let keys: Vec<&str> = check
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "test_number",
            "test_desc",
            "audit",
            "AuditEnv",
            "AuditConfig",
            "type",
            "remediation",
            "test_info",
            "status",
            "actual_value",
            "scored",
            "IsMultiple",
            "expected_result",
            "evidence",
            "defined_at"
        ],
        "kube-bench's fields in its order, no empty reason, then kubecis's"
    );
    assert_eq!(
        check["audit"],
        "/bin/ps -ef | grep kube-apiserver | grep -v grep"
    );
    assert_eq!(
        check["expected_result"],
        "'--profiling' is equal to 'false'"
    );
    assert_eq!(
        check["actual_value"],
        "root 100 1 0 10:00 ? 00:00:01 kube-apiserver --profiling=false --authorization-mode=Node,RBAC"
    );
    assert_eq!(check["test_info"][0], check["remediation"]);
    let controls = report["Controls"][0].as_object().unwrap();
    let keys: Vec<&str> = controls.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "version",
            "text",
            "node_type",
            "tests",
            "total_pass",
            "total_fail",
            "total_warn",
            "total_info"
        ]
    );
    let not_run = &report["Controls"][0]["tests"][0]["results"][5];
    assert_eq!(not_run["status"], "WARN");
    assert!(not_run["reason"]
        .as_str()
        .unwrap()
        .starts_with("failed to run: "));
    let config = &report["Controls"][1]["tests"][0]["results"][0];
    assert_eq!(
        config["AuditConfig"],
        "/bin/cat /var/lib/kubelet/config.yaml"
    );
    assert_eq!(
        config["expected_result"],
        "'{.authentication.anonymous.enabled}' is equal to 'false'"
    );

    // --nototals: kube-bench's bare list of targets.
    let o = kb(&["--benchmark", "m", "--json", "--nototals", "run"]);
    let list = json(&o);
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    assert_eq!(list[1]["node_type"], "node");
}

#[test]
fn junit_goes_to_the_output_file_in_kube_bench_s_shape() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xml");
    // The JUnit report of these targets, written to `file`.
    let junit_of = |targets: &[&str]| {
        let mut args = vec!["--benchmark", "m", "--junit", "--outputfile"];
        args.push(file.to_str().unwrap());
        args.push("run");
        args.extend_from_slice(targets);
        let o = kb(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).is_empty());
        std::fs::read_to_string(&file).unwrap()
    };
    let xml = junit_of(&["--targets", "master"]);
    assert!(
        xml.starts_with("<testsuite name=\"Mini control plane\" tests=\"6\" failures=\"2\" errors=\"0\" time=\"0\">\n    <testcase name=\"1.1.1 Profiling is off\" classname=\"API server &lt;flags&gt; &amp; files\" time=\"0\">\n        <system-out>{&#34;test_number&#34;:&#34;1.1.1&#34;"),
        "{xml}"
    );
    assert!(xml.contains("<failure type=\"\">Set --audit-log-path in /etc/kubernetes/manifests/kube-apiserver.yaml.</failure>"));
    assert_eq!(
        xml.matches("<skipped></skipped>").count(),
        3,
        "WARN and INFO are skipped"
    );
    assert!(xml.ends_with("</testsuite>\n"));

    // Several targets: one document, a testsuites element around them.
    let xml = junit_of(&[]);
    assert!(
        xml.starts_with(
            "<testsuites tests=\"7\" failures=\"2\">\n    <testsuite name=\"Mini control plane\""
        ),
        "{xml}"
    );
    assert_eq!(xml.matches("<testsuite ").count(), 2);
}

#[test]
fn ci_flags_behave_as_in_kube_bench() {
    let o = kb(&["--benchmark", "m", "--exit-code", "3", "run"]);
    assert_eq!(o.status.code(), Some(3), "a FAIL gives --exit-code");
    let o = kb(&[
        "--benchmark",
        "m",
        "--json",
        "--exit-code",
        "3",
        "--check",
        "1.1.1, 4.2.1",
        "run",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v = verdicts(&json(&o));
    assert_eq!(
        v.iter().map(|(id, _, _)| id.as_str()).collect::<Vec<_>>(),
        ["1.1.1", "4.2.1"]
    );

    let o = kb(&[
        "--benchmark",
        "m",
        "--json",
        "--skip",
        "1.1.2",
        "--group",
        "1.1",
        "run",
    ]);
    let report = json(&o);
    let skipped = &report["Controls"][0]["tests"][0]["results"][1];
    assert_eq!(
        (skipped["status"].as_str(), skipped["type"].as_str()),
        (Some("INFO"), Some("skip"))
    );
    assert_eq!(skipped["reason"], "Test marked as skip");
    assert!(
        report["Controls"][1]["tests"].is_null(),
        "node has no check in group 1.1"
    );

    let o = kb(&["--benchmark", "m", "--json", "--scored=false", "run"]);
    let ids: Vec<String> = verdicts(&json(&o))
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(ids, ["1.1.3", "1.1.6"], "scored defaults to false");

    let o = kb(&[
        "--version",
        "mini-1",
        "--json",
        "run",
        "--targets",
        "worker",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = json(&o);
    assert_eq!(report["kubecis"]["benchmark"], "m");
    assert_eq!(report["Controls"].as_array().unwrap().len(), 1);
    assert_eq!(report["Controls"][0]["node_type"], "node");
}

#[test]
fn no_exec_runs_nothing_and_says_so_for_each_shell_audit() {
    let o = kb(&[
        "--benchmark",
        "m",
        "--json",
        "--no-exec",
        "--exit-code",
        "3",
        "run",
    ]);
    assert_eq!(o.status.code(), Some(0), "nothing FAILs when nothing ran");
    for (id, status, reason) in verdicts(&json(&o)) {
        match id.as_str() {
            "1.1.3" => assert_eq!(
                (status.as_str(), reason.as_str()),
                ("WARN", "Test marked as a manual test")
            ),
            "1.1.4" => assert_eq!(
                (status.as_str(), reason.as_str()),
                ("INFO", "Test marked as skip")
            ),
            _ => {
                assert_eq!(status, "WARN", "{id}");
                assert!(
                    reason
                        .starts_with("audit not run: --no-exec refuses to run shell commands: \""),
                    "{id}: {reason}"
                );
            }
        }
    }
}

#[test]
fn a_host_root_elsewhere_refuses_shell_audits_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "--config-dir",
        CFG,
        "--host-root",
        dir.path().to_str().unwrap(),
        "--benchmark",
        "m",
        "--json",
        "run",
        "--targets",
        "master",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = verdicts(&json(&o));
    let first = v.iter().find(|(id, _, _)| id == "1.1.1").unwrap();
    assert_eq!(first.1, "WARN");
    assert!(first.2.contains("--host-root"), "{}", first.2);
}
