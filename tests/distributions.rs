//! K3s and RKE2 detection and sources of truth, through the real binary:
//! each snapshot is recognised from its markers and mapped to its own
//! benchmark unaided; the flags override; ambiguous or unreadable nodes give
//! clear messages and WARN, never FAIL.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

/// Rewrite a snapshot's node.yaml.
fn edit_node_yaml(dir: &Path, edit: impl Fn(&str) -> String) {
    let p = dir.join("node.yaml");
    let text = std::fs::read_to_string(&p).unwrap();
    let edited = edit(&text);
    assert_ne!(text, edited, "the edit changed nothing");
    std::fs::write(p, edited).unwrap();
}

/// `text` without the lines that contain `needle`.
fn without_lines(text: &str, needle: &str) -> String {
    text.lines()
        .filter(|l| !l.contains(needle))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn result<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["Controls"]
        .as_array()
        .unwrap()
        .iter()
        // A target none of whose checks is selected has `tests: null`.
        .flat_map(|c| c["tests"].as_array().into_iter().flatten())
        .flat_map(|g| g["results"].as_array().unwrap())
        .find(|r| r["test_number"] == id)
        .unwrap_or_else(|| panic!("no result for {id}"))
}

#[test]
fn each_snapshot_is_recognised_and_mapped_to_its_benchmark_unaided() {
    // (snapshot, the distribution line, the benchmark line, version)
    let cases = [
        (
            "k3s-hardened",
            "kubecis: distribution k3s (from process k3s server (pid 2234), /var/lib/rancher/k3s, /etc/rancher/k3s)",
            "kubecis: benchmark k3s-cis-1.10 for Kubernetes v1.31.1+k3s1 (from `/usr/local/bin/k3s --version`)",
            "v1.31.1+k3s1",
        ),
        (
            "k3s-strict",
            "kubecis: distribution k3s (from process k3s server (pid 1843), /var/lib/rancher/k3s, /etc/rancher/k3s)",
            "kubecis: benchmark k3s-cis-1.10 for Kubernetes v1.32.2+k3s1 (from `/usr/local/bin/k3s --version`)",
            "v1.32.2+k3s1",
        ),
        (
            "k3s-sqlite",
            "kubecis: distribution k3s (from process k3s server (pid 907), /var/lib/rancher/k3s, /etc/rancher/k3s)",
            "kubecis: benchmark k3s-cis-1.10 for Kubernetes v1.30.5+k3s1 (from `/usr/local/bin/k3s --version`)",
            "v1.30.5+k3s1",
        ),
        (
            "k3s-agent",
            "kubecis: distribution k3s (from process k3s agent (pid 1187), /var/lib/rancher/k3s, /etc/rancher/k3s)",
            "kubecis: benchmark k3s-cis-1.10 for Kubernetes v1.31.1+k3s1 (from `/usr/local/bin/k3s --version`)",
            "v1.31.1+k3s1",
        ),
        (
            "rke2-hardened",
            "kubecis: distribution rke2 (from process rke2 server (pid 2330), /var/lib/rancher/rke2, /etc/rancher/rke2)",
            "kubecis: benchmark rke2-cis-1.10 for Kubernetes v1.31.1-rke2r1-build20240912 (from image tag in the static pod manifest /var/lib/rancher/rke2/agent/pod-manifests/kube-apiserver.yaml)",
            "v1.31.1-rke2r1-build20240912",
        ),
        (
            "rke2-insecure",
            "kubecis: distribution rke2 (from process rke2 server (pid 2330), /var/lib/rancher/rke2, /etc/rancher/rke2)",
            "kubecis: benchmark rke2-cis-1.10 for Kubernetes v1.31.1-rke2r1-build20240912",
            "v1.31.1-rke2r1-build20240912",
        ),
    ];
    for (name, dist_line, bench_line, version) in cases {
        let o = run(&["--snapshot", &node(name), "--json"]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(dist_line), "{name}: {err}");
        assert!(err.contains(bench_line), "{name}: {err}");
        let det = &json(&o)["kubecis"]["detection"];
        let dist = if name.starts_with("k3s") {
            "k3s"
        } else {
            "rke2"
        };
        assert_eq!(det["distribution"], dist, "{name}: {det}");
        assert_eq!(det["kubernetes_version"], version, "{name}: {det}");
        let bench = bench_line.split_whitespace().nth(2).unwrap();
        assert_eq!(det["benchmark"], bench, "{name}: {det}");
        assert!(
            det["distribution_evidence"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e.as_str().unwrap().starts_with("process ")),
            "{name}: {det}"
        );
    }
}

#[test]
fn auto_mode_picks_the_targets_of_the_node_role() {
    let o = run(&["--snapshot", &node("k3s-agent"), "--nosummary"]);
    let err = stderr(&o);
    for t in ["master", "controlplane", "etcd"] {
        assert!(err.contains(&format!("target {t}: skipped")), "{t}: {err}");
    }
    assert!(
        err.contains("target node: runs (found kubelet inside k3s agent (pid 1187; command line from the journal of k3s, k3s-agent, read with journalctl))"),
        "{err}"
    );
    // A server with SQLite has no etcd, and says why.
    let o = run(&["--snapshot", &node("k3s-sqlite"), "--nosummary"]);
    let err = stderr(&o);
    assert!(
        err.contains("target etcd: skipped (not found: etcd: no process named etcd is running and there is no static pod manifest for it; k3s server (pid 907) does not embed it (/var/lib/rancher/k3s/server/db/etcd/config does not exist))"),
        "{err}"
    );
    assert!(err.contains("target master: runs"), "{err}");
    // RKE2: every component from its process, etcd too.
    let o = run(&["--snapshot", &node("rke2-hardened"), "--nosummary"]);
    let err = stderr(&o);
    assert!(
        err.contains("target etcd: runs (found etcd (pid 2420))"),
        "{err}"
    );
}

#[test]
fn versions_map_through_each_distributions_own_table() {
    let cases = [
        ("k3s", "v1.25.16+k3s4", "k3s-cis-1.7"),
        ("k3s", "v1.26.15+k3s1", "k3s-cis-1.8"),
        ("k3s", "v1.27.16+k3s1", "k3s-cis-1.9"),
        ("k3s", "v1.28.15+k3s1", "k3s-cis-1.10"),
        ("k3s", "v1.33.4+k3s1", "k3s-cis-1.10"),
        ("rke2", "v1.25.16+rke2r2", "rke2-cis-1.7"),
        ("rke2", "v1.26.15+rke2r1", "rke2-cis-1.8"),
        ("rke2", "v1.27.16+rke2r2", "rke2-cis-1.8"),
        ("rke2", "v1.28.15+rke2r1", "rke2-cis-1.10"),
        ("rke2", "v1.33.4+rke2r1", "rke2-cis-1.10"),
    ];
    for (dist, version, bench) in cases {
        // No static pods: RKE2 falls back to its binary's --version.
        let dir = snapshot(&format!(
            "versions:\n  /usr/local/bin/{dist}: \"{dist} version {version} (0123abcd)\"\nprocesses:\n- pid: 1\n  cmdline: [/usr/local/bin/{dist}, server]\n"
        ), &[]);
        let o = run(&[
            "--snapshot",
            dir.path().to_str().unwrap(),
            "--json",
            "--check",
            "1.1.13",
        ]);
        assert!(o.status.success(), "{version}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!(
                "kubecis: benchmark {bench} for Kubernetes {version} (from `/usr/local/bin/{dist} --version`)"
            )),
            "{version}: {}",
            stderr(&o)
        );
        assert_eq!(json(&o)["kubecis"]["detection"]["benchmark"], bench);
    }
}

#[test]
fn versions_outside_a_distributions_table_say_so() {
    for (version, bench, words) in [
        (
            "v1.24.17+k3s1",
            "k3s-cis-1.7",
            "Kubernetes 1.24 is older than any version in the benchmark table (oldest 1.25); using k3s-cis-1.7, the oldest benchmark shipped",
        ),
        (
            "v1.34.1+k3s1",
            "k3s-cis-1.10",
            "Kubernetes 1.34 is newer than any version in the benchmark table (newest 1.33); using k3s-cis-1.10, the newest benchmark",
        ),
    ] {
        let dir = snapshot(&format!(
            "versions:\n  /usr/local/bin/k3s: \"k3s version {version} (0123abcd)\"\nprocesses:\n- pid: 1\n  cmdline: [/usr/local/bin/k3s, server]\n"
        ), &[]);
        let o = run(&["--snapshot", dir.path().to_str().unwrap(), "--json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!("kubecis: note: {words}")), "{err}");
        let det = &json(&o)["kubecis"]["detection"];
        assert_eq!(det["benchmark"], bench);
        assert!(det["notes"][0].as_str().unwrap().contains(words), "{det}");
    }
}

#[test]
fn a_node_with_two_distributions_markers_asks_which_one() {
    let dir = copy_of_node("k3s-hardened");
    let rke2 = dir.path().join("root/var/lib/rancher/rke2/server");
    std::fs::create_dir_all(&rke2).unwrap();
    std::fs::write(rke2.join("token"), "REDACTED\n").unwrap();
    let snap = dir.path().to_str().unwrap();
    let o = run(&["--snapshot", snap]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("this node looks like more than one distribution: k3s (process k3s server (pid 2234), /var/lib/rancher/k3s, /etc/rancher/k3s); rke2 (/var/lib/rancher/rke2). Pass --distribution <name> (or --benchmark)"),
        "{err}"
    );
    assert!(o.stdout.is_empty(), "no report is half-written");
    // Naming the distribution settles it.
    let o = run(&["--snapshot", snap, "--distribution", "k3s", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("kubecis: distribution k3s (from --distribution)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        json(&o)["kubecis"]["detection"]["benchmark"],
        "k3s-cis-1.10"
    );
    let o = run(&["--snapshot", snap, "--distribution", "openshift"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown distribution \"openshift\""),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_flags_override_detection() {
    let k3s = node("k3s-hardened");
    // --benchmark: no version detection, the benchmark as given.
    let o = run(&["--snapshot", &k3s, "--benchmark", "k3s-cis-1.8", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("kubecis: benchmark k3s-cis-1.8 (from --benchmark)"));
    let det = &json(&o)["kubecis"]["detection"];
    assert_eq!(det["benchmark"], "k3s-cis-1.8");
    assert_eq!(det["distribution"], "k3s");
    // --version: the distribution's own table.
    let o = run(&["--snapshot", &k3s, "--version", "1.27", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("kubecis: benchmark k3s-cis-1.9 for Kubernetes 1.27 (from --version)"),
        "{}",
        stderr(&o)
    );
    // --distribution with --version: that distribution's table.
    let o = run(&[
        "--snapshot",
        &k3s,
        "--distribution",
        "rke2",
        "--version",
        "1.27",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        json(&o)["kubecis"]["detection"]["benchmark"],
        "rke2-cis-1.8"
    );
    // --distribution alone must still find the version, and says where it
    // looked when it cannot.
    let o = run(&["--snapshot", &k3s, "--distribution", "rke2"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("cannot work out the Kubernetes version of this RKE2 node; tried: image tags in the static pod manifests of apiserver, controllermanager, scheduler (none found)"),
        "{err}"
    );
    // An upstream benchmark on a K3s node is allowed, with a note; on a
    // kubeadm node the upstream benchmarks are its own and there is none.
    let o = run(&[
        "--snapshot",
        &k3s,
        "--benchmark",
        "cis-1.12",
        "--check",
        "1.1.1",
    ]);
    assert!(
        stderr(&o).contains("kubecis: note: this node looks like k3s (process k3s server (pid 2234), /var/lib/rancher/k3s, /etc/rancher/k3s), but cis-1.12 is an upstream Kubernetes benchmark"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "--snapshot",
        &node("kubeadm-hardened"),
        "--benchmark",
        "cis-1.12",
        "--check",
        "1.1.1",
    ]);
    assert!(!stderr(&o).contains("note:"), "{}", stderr(&o));
}

#[test]
fn a_k3s_node_whose_journal_cannot_be_read_warns_with_the_reason() {
    // No journal was captured: the components' command lines are unknown.
    let dir = copy_of_node("k3s-hardened");
    edit_node_yaml(dir.path(), |t| {
        let start = t.find("journal:\n").unwrap();
        let end = t.find("processes:\n").unwrap();
        format!("{}{}", &t[..start], &t[end..])
    });
    let o = run(&["--snapshot", dir.path().to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    // The targets still run; their checks say why they cannot be judged.
    for t in ["master", "controlplane", "node"] {
        assert!(
            err.contains(&format!(
                "target {t}: runs (could not tell whether it runs here, so its checks report why:"
            )),
            "{t}: {err}"
        );
    }
    let report = json(&o);
    for id in [
        "1.2.1", "1.1.15", "1.3.2", "1.4.1", "3.2.1", "4.2.1", "4.3.1",
    ] {
        let r = result(&report, id);
        assert_eq!(r["status"], "WARN", "{id}: {r}");
        let reason = r["reason"].as_str().unwrap();
        assert!(
            reason.contains("but its command line cannot be read from the journal of")
                && reason.contains("holds no journal"),
            "{id}: {reason}"
        );
    }
    // What does not come from the journal is still judged.
    assert_eq!(result(&report, "1.1.13")["status"], "PASS");
    assert_eq!(result(&report, "2.1")["status"], "PASS");
    let fails: Vec<_> = common::verdicts(&report)
        .into_iter()
        .filter(|v| v.1 == "FAIL")
        .collect();
    assert!(
        fails.is_empty(),
        "an unreadable journal never FAILs: {fails:?}"
    );

    // The journal was captured, but the API server's line has rotated away.
    let dir = copy_of_node("k3s-hardened");
    edit_node_yaml(dir.path(), |t| {
        without_lines(t, "msg=\"Running kube-apiserver ")
    });
    let o = run(&[
        "--snapshot",
        dir.path().to_str().unwrap(),
        "--json",
        "--check",
        "1.2.1,1.3.2",
    ]);
    let report = json(&o);
    let r = result(&report, "1.2.1");
    assert_eq!(r["status"], "WARN");
    assert!(
        r["reason"].as_str().unwrap().contains(
            "the journal of k3s has no \"Running kube-apiserver\" message (rotated away, or the journal is not persistent)"
        ),
        "{r}"
    );
    assert_eq!(result(&report, "1.3.2")["status"], "PASS");
}

#[test]
fn k3s_sources_of_truth_show_in_the_evidence() {
    let o = run(&[
        "--snapshot",
        &node("k3s-strict"),
        "--json",
        "--check",
        "1.2.1,2.2,4.2.1,4.2.5,4.2.13",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = json(&o);
    let detail = |id: &str| {
        result(&report, id)["evidence"][0]["detail"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let source = |id: &str| {
        result(&report, id)["evidence"][0]["source"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        detail("1.2.1"),
        "--anonymous-auth=false on apiserver inside k3s server (pid 1843; command line from the journal of k3s, read with journalctl)"
    );
    assert_eq!(
        detail("2.2"),
        "client-transport-security.client-cert-auth: true in config file /var/lib/rancher/k3s/server/db/etcd/config"
    );
    // From v1.32 K3s gives the kubelet drop-ins; the later file wins.
    assert_eq!(
        detail("4.2.1"),
        "authentication.anonymous.enabled: false in drop-in /var/lib/rancher/k3s/agent/etc/kubelet.conf.d/00-k3s-defaults.conf"
    );
    assert_eq!(
        detail("4.2.13"),
        "podPidsLimit: 4096 in drop-in /var/lib/rancher/k3s/agent/etc/kubelet.conf.d/50-pids.conf"
    );
    assert!(detail("4.2.5").starts_with(
        "--streaming-connection-idle-timeout=5m on kubelet inside k3s server (pid 1843;"
    ));
    for id in ["1.2.1", "4.2.5"] {
        assert_eq!(source(id), "journal", "{id}");
    }
}

#[test]
fn etcd_client_checks_do_not_apply_to_k3s_on_sqlite() {
    let o = run(&[
        "--snapshot",
        &node("k3s-sqlite"),
        "--json",
        "--check",
        "1.2.23,1.2.26,1.1.11",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = json(&o);
    for id in ["1.2.23", "1.2.26"] {
        let r = result(&report, id);
        assert_eq!(r["status"], "INFO", "{id}: {r}");
        assert!(
            r["reason"].as_str().unwrap().starts_with("not applicable on this node: the check applies only where '--etcd-servers' does not have 'unix://'; found --etcd-servers=unix:///var/lib/rancher/k3s/server/kine.sock on apiserver inside k3s server (pid 907;"),
            "{r}"
        );
    }
    assert_eq!(result(&report, "1.1.11")["status"], "INFO");
    // Where etcd is used, the same flags are judged.
    let o = run(&[
        "--snapshot",
        &node("k3s-insecure"),
        "--json",
        "--check",
        "1.2.23",
    ]);
    assert_eq!(result(&json(&o), "1.2.23")["status"], "FAIL");
}

#[test]
fn rke2_encryption_config_check_fails_without_the_flag() {
    // RKE2 always passes --encryption-provider-config, so the fixtures keep
    // it; here it is taken away from a copy of rke2-insecure.
    let dir = copy_of_node("rke2-insecure");
    edit_node_yaml(dir.path(), |t| {
        without_lines(t, "- --encryption-provider-config=")
    });
    let manifest = dir
        .path()
        .join("root/var/lib/rancher/rke2/agent/pod-manifests/kube-apiserver.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let edited = without_lines(&text, "- --encryption-provider-config=");
    assert_ne!(text, edited);
    std::fs::write(&manifest, edited).unwrap();
    for (bench, id, want) in [
        ("rke2-cis-1.10", "1.2.27", "FAIL"),
        ("rke2-cis-1.8", "1.2.28", "WARN"),
        ("rke2-cis-1.7", "1.2.29", "WARN"),
    ] {
        let o = run(&[
            "--snapshot",
            dir.path().to_str().unwrap(),
            "--benchmark",
            bench,
            "--json",
            "--check",
            id,
        ]);
        let r = result(&json(&o), id).clone();
        assert_eq!(r["status"], want, "{bench} {id}: {r}");
        assert!(
            r["reason"]
                .as_str()
                .unwrap()
                .contains("--encryption-provider-config is not set"),
            "{r}"
        );
    }
}

#[test]
fn checks_that_do_not_apply_say_why() {
    let o = run(&[
        "--snapshot",
        &node("k3s-hardened"),
        "--json",
        "--check",
        "1.1.1,1.1.12,4.1.1,4.2.7",
    ]);
    let report = json(&o);
    for id in ["1.1.1", "1.1.12", "4.1.1", "4.2.7"] {
        let r = result(&report, id);
        assert_eq!(r["status"], "INFO", "{id}: {r}");
        assert_eq!(r["type"], "skip", "{id}: {r}");
        assert!(
            r["remediation"]
                .as_str()
                .unwrap()
                .starts_with("Not applicable to K3s"),
            "{id}: {r}"
        );
    }
    // RKE2 audits the same pod specification files K3s has none of.
    let o = run(&[
        "--snapshot",
        &node("rke2-hardened"),
        "--json",
        "--check",
        "1.1.1",
    ]);
    let r = result(&json(&o), "1.1.1").clone();
    assert_eq!(r["status"], "PASS");
    assert_eq!(
        r["reason"],
        "/var/lib/rancher/rke2/agent/pod-manifests/kube-apiserver.yaml: mode 600, owner root:root"
    );
}
