//! The command line end to end: exit statuses, filters, output files,
//! golden text and JSON on the sample node, the JSON schema.

mod common;
use common::*;

const SAMPLE: &str = "tests/fixtures/nodes/kubeadm-sample";

#[test]
fn version_prints_the_tool_version() {
    let o = run(&["version"]);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o),
        format!("kubecis {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    let o = run(&["--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--no-such-flag"), "{}", stderr(&o));

    let o = run(&[
        "--snapshot",
        SAMPLE,
        "--benchmark",
        "cis-1.12",
        "--version",
        "1.30",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));

    let o = run(&["--snapshot", SAMPLE, "--benchmark", "cis-9.99"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown benchmark \"cis-9.99\""),
        "{}",
        stderr(&o)
    );

    let o = run(&["--snapshot", SAMPLE, "--version", "banana"]);
    assert_eq!(o.status.code(), Some(2));

    let o = run(&["--snapshot", SAMPLE, "run", "--targets", "master,nodes"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown target \"nodes\""),
        "{}",
        stderr(&o)
    );

    let o = run(&["--snapshot", SAMPLE, "--check", "9.9.9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--check 9.9.9: no such check"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_missing_host_root_or_snapshot_exits_2() {
    let o = run(&["--host-root", "/no/such/root", "--benchmark", "cis-1.12"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/no/such/root"), "{}", stderr(&o));
    let o = run(&["--snapshot", "/no/such/snapshot"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/no/such/snapshot/node.yaml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_unknown_version_says_what_was_tried() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("root")).unwrap();
    std::fs::write(dir.path().join("node.yaml"), "hostname: empty\n").unwrap();
    let o = run(&["--snapshot", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("cannot work out the Kubernetes version"),
        "{err}"
    );
    assert!(
        err.contains("image tags") && err.contains("kubelet"),
        "{err}"
    );
    assert!(err.contains("--version"), "{err}");
    // Nothing identifies the platform either, and the message says how to
    // name one.
    assert!(
        err.contains("No distribution was recognised either") && err.contains("--distribution"),
        "{err}"
    );
}

#[test]
fn a_malformed_cfg_exits_2_naming_file_line_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path();
    std::fs::write(
        cfg.join("config.yaml"),
        "version_mapping:\n  \"1.29\": mine\ntarget_mapping:\n  mine: [node]\ncomponents:\n  kubelet:\n    bins: [kubelet]\n    settings: kubelet\n",
    )
    .unwrap();
    std::fs::create_dir_all(cfg.join("mine")).unwrap();
    std::fs::write(
        cfg.join("mine/node.yaml"),
        "controls:\nversion: mine\nid: 4\ntext: Node\ntype: node\ngroups:\n  - id: 4.2\n    text: Kubelet\n    checks:\n      - id: 4.2.1\n        text: anonymous auth\n        audit: {settings: kubelet}\n        tests:\n          test_items:\n            - flag: --anonymous-auth\n              compare: {op: equals, value: \"false\"}\n        scored: true\n",
    )
    .unwrap();
    let o = run(&[
        "--config-dir",
        cfg.to_str().unwrap(),
        "--snapshot",
        SAMPLE,
        "--benchmark",
        "mine",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("mine/node.yaml:10: check 4.2.1: test item 1: unknown compare op \"equals\""),
        "{err}"
    );
    assert!(
        stdout(&o).is_empty(),
        "nothing may be audited with an invalid cfg"
    );
}

#[test]
fn check_group_and_skip_select_and_silence() {
    let o = run(&["--snapshot", SAMPLE, "--json", "--check", "1.2.15,4.2.1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = verdicts(&json(&o));
    let ids: Vec<&str> = v.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(ids, vec!["1.2.15", "4.2.1"]);

    let o = run(&["--snapshot", SAMPLE, "--json", "--group", "1.4"]);
    let v = verdicts(&json(&o));
    assert_eq!(
        v.iter().map(|(id, _, _)| id.as_str()).collect::<Vec<_>>(),
        vec!["1.4.1", "1.4.2"]
    );

    let o = run(&[
        "--snapshot",
        SAMPLE,
        "--json",
        "--group",
        "1.4",
        "--skip",
        "1.4.1",
    ]);
    let v = verdicts(&json(&o));
    assert_eq!(v[0].1, "INFO");
    assert_eq!(v[0].2, "skipped with --skip");
    assert_eq!(v[1].1, "PASS");

    // kube-bench's --scored and --unscored are on unless turned off.
    let o = run(&[
        "--snapshot",
        SAMPLE,
        "--json",
        "--group",
        "1.2",
        "--unscored=false",
    ]);
    let report = json(&o);
    let results = report["Controls"][0]["tests"][0]["results"]
        .as_array()
        .unwrap();
    assert!(!results.is_empty());
    for r in results {
        assert_eq!(r["scored"], true);
    }
    let all = verdicts(&json(&run(&[
        "--snapshot",
        SAMPLE,
        "--json",
        "--group",
        "1.2",
    ])));
    let with_bare_flag = verdicts(&json(&run(&[
        "--snapshot",
        SAMPLE,
        "--json",
        "--group",
        "1.2",
        "--scored",
    ])));
    assert_eq!(all, with_bare_flag, "a bare --scored changes nothing");
    assert!(all.len() > results.len(), "1.2 has unscored checks too");
    let unscored_only = verdicts(&json(&run(&[
        "--snapshot",
        SAMPLE,
        "--json",
        "--group",
        "1.2",
        "--scored=false",
    ])));
    assert_eq!(unscored_only.len(), all.len() - results.len());

    // A target none of whose checks is selected still shows, empty.
    let o = run(&["--snapshot", SAMPLE, "--json", "--check", "1.4.2"]);
    let report = json(&o);
    let empty: Vec<&serde_json::Value> = report["Controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["tests"].is_null())
        .collect();
    assert!(!empty.is_empty(), "{report:#}");
    assert!(empty.iter().all(|c| c["total_pass"] == 0));

    let o = run(&["--snapshot", SAMPLE, "--check", "1.4.2", "--group", "1.4"]);
    assert_eq!(o.status.code(), Some(2), "--check and --group together");
}

#[test]
fn exit_code_is_used_only_when_something_fails() {
    let o = run(&[
        "--snapshot",
        SAMPLE,
        "--exit-code",
        "7",
        "--check",
        "1.2.15",
    ]);
    assert_eq!(o.status.code(), Some(7), "1.2.15 fails on the sample node");
    let o = run(&["--snapshot", SAMPLE, "--exit-code", "7", "--check", "1.4.2"]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn outputfile_receives_the_whole_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    std::fs::write(&out, "old").unwrap();
    let o = run(&[
        "--snapshot",
        SAMPLE,
        "--json",
        "--outputfile",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(written["Totals"]["total_pass"].as_u64().unwrap() > 0);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file may be left behind");
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let o = run(&[
        "--snapshot",
        SAMPLE,
        "--check",
        "1.2.15",
        "--color",
        "always",
    ]);
    assert!(stdout(&o).contains("\u{1b}["), "--color always colours");
    let o = kubecis()
        .args(["--snapshot", SAMPLE, "--check", "1.2.15"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        !stdout(&o).contains("\u{1b}["),
        "a pipe and NO_COLOR get no colour"
    );
}

#[test]
fn auto_mode_explains_the_targets_it_chose() {
    let o = run(&["--snapshot", SAMPLE, "--nosummary"]);
    let err = stderr(&o);
    assert!(err.contains("benchmark cis-1.11 for Kubernetes v1.29.0 (from image tag in the static pod manifest /etc/kubernetes/manifests/kube-apiserver.yaml)"), "{err}");
    for t in ["master", "controlplane", "etcd", "node", "policies"] {
        assert!(err.contains(&format!("target {t}: runs")), "{t}: {err}");
    }
}

#[test]
fn a_component_that_cannot_be_read_runs_its_target_with_warnings() {
    // The scheduler's manifest is malformed and no scheduler process is
    // visible: kubecis cannot tell whether it runs, so the master target
    // still runs and the scheduler's checks say WARN with the reason
    // instead of the target vanishing from the report.
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("root/etc/kubernetes/manifests");
    std::fs::create_dir_all(&manifests).unwrap();
    std::fs::write(manifests.join("kube-scheduler.yaml"), "spec: [unclosed\n").unwrap();
    std::fs::write(
        dir.path().join("node.yaml"),
        "processes:\n- pid: 10\n  cmdline: [kube-apiserver, --profiling=false]\n- pid: 11\n  cmdline: [kube-controller-manager, --profiling=false]\n",
    )
    .unwrap();
    let o = run(&[
        "--snapshot",
        dir.path().to_str().unwrap(),
        "--version",
        "1.32",
        "--json",
        "--check",
        "1.3.2,1.4.1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("target master: runs (found apiserver (pid 10), controllermanager (pid 11); could not read scheduler: the scheduler static pod manifest /etc/kubernetes/manifests/kube-scheduler.yaml is malformed"),
        "{err}"
    );
    assert!(err.contains("target etcd: skipped"), "{err}");
    let v = verdicts(&json(&o));
    let status = |id: &str| v.iter().find(|r| r.0 == id).cloned().unwrap();
    assert_eq!(status("1.3.2").1, "PASS", "{v:?}");
    let (_, s, reason) = status("1.4.1");
    assert_eq!(s, "WARN");
    assert!(reason.contains("is malformed"), "{reason}");
}

#[test]
fn golden_text_report_on_the_sample_node() {
    let o = run(&["--snapshot", SAMPLE, "--benchmark", "cis-1.12"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_golden("tests/golden/sample-cis-1.12.txt", &stdout(&o));
    let o = run(&[
        "--snapshot",
        SAMPLE,
        "--benchmark",
        "cis-1.12",
        "--include-test-output",
        "--noremediations",
        "--nototals",
        "run",
        "--targets",
        "node",
    ]);
    assert_golden(
        "tests/golden/sample-cis-1.12-node-test-output.txt",
        &stdout(&o),
    );
}

#[test]
fn golden_json_report_on_the_sample_node() {
    let o = run(&["--snapshot", SAMPLE, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let pretty = serde_json::to_string_pretty(&json(&o)).unwrap() + "\n";
    assert_golden("tests/golden/sample-auto.json", &pretty);
}

#[test]
fn json_reports_validate_against_the_published_schema() {
    let validator = report_schema();
    for args in [
        vec!["--snapshot", SAMPLE, "--json"],
        vec!["--snapshot", SAMPLE, "--json", "--benchmark", "cis-1.12"],
        vec![
            "--snapshot",
            SAMPLE,
            "--json",
            "--skip",
            "1.1",
            "run",
            "--targets",
            "master,policies",
        ],
    ] {
        let o = run(&args);
        let doc = json(&o);
        let errors = schema_errors(&validator, &doc);
        assert!(errors.is_empty(), "{args:?}: {errors:#?}");
    }
    // The schema must be able to reject: a report missing Totals fails.
    let mut doc = json(&run(&["--snapshot", SAMPLE, "--json"]));
    doc.as_object_mut().unwrap().remove("Totals");
    assert!(!validator.is_valid(&doc));
}

#[test]
fn a_run_reads_only_its_own_benchmark_and_check_cfg_reads_all() {
    let cfg = tempfile::tempdir().unwrap();
    copy_tree(&repo_path("cfg"), cfg.path());
    let broken = cfg.path().join("cis-1.7/node.yaml");
    let text = std::fs::read_to_string(&broken).unwrap();
    std::fs::write(&broken, text.replacen("tests:", "testz:", 1)).unwrap();
    let dir = cfg.path().to_str().unwrap();

    // The sample node is 1.29: cis-1.11 runs, and cis-1.7 is never read.
    let o = run(&[
        "--config-dir",
        dir,
        "--snapshot",
        &node("kubeadm-sample"),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    // The broken benchmark itself, and a full validation, name the mistake.
    for args in [
        vec![
            "--config-dir",
            dir,
            "--snapshot",
            "tests/fixtures/nodes/kubeadm-sample",
            "--benchmark",
            "cis-1.7",
        ],
        vec!["--config-dir", dir, "check-cfg"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(
            err.contains("cis-1.7/node.yaml:") && err.contains("testz"),
            "{args:?}: {err}"
        );
    }
    let o = run(&["check-cfg"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("no mistakes"), "{}", stdout(&o));
}
