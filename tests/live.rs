//! Reads real processes: starts dummy processes carrying the sample node's
//! kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kubelet
//! command lines inside a new PID namespace (`unshare`), and audits them
//! live with `--host-root` pointing at a copy of the node's files.
//! Needs root; on CI (CI=true) it must run, elsewhere it is skipped without
//! root.

mod common;
use common::*;
use std::process::Command;

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[test]
fn audits_live_processes_in_a_pid_namespace() {
    let on_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !nix::unistd::geteuid().is_root() {
        assert!(
            !on_ci,
            "CI runs as root; this test must not be skipped there"
        );
        eprintln!("skipped: needs root for unshare");
        return;
    }
    let sample = repo_path("tests/fixtures/nodes/kubeadm-sample");
    let node: serde_json::Value = {
        let text = std::fs::read_to_string(sample.join("node.yaml")).unwrap();
        kubecis::yaml::to_document(&text).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("host");
    copy_tree(&sample.join("root"), &root);
    // Give the copy the modes the snapshot records (git keeps none).
    use std::os::unix::fs::PermissionsExt;
    for (path, meta) in node["files"].as_object().unwrap() {
        if let Some(mode) = meta["mode"].as_str() {
            let mode = u32::from_str_radix(mode, 8).unwrap();
            std::fs::set_permissions(
                root.join(path.trim_start_matches('/')),
                std::fs::Permissions::from_mode(mode),
            )
            .unwrap();
        }
    }

    // Each dummy is a sleeping python whose argv[0] is the component's
    // name, followed by the component's real flags.
    let mut script = String::from("set -e\n");
    for p in node["processes"].as_array().unwrap() {
        let argv: Vec<String> = p["cmdline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        let flags: Vec<String> = argv[1..].iter().map(|a| shell_quote(a)).collect();
        script.push_str(&format!(
            "(exec -a {} python3 -c 'import time; time.sleep(60)' {}) &\n",
            shell_quote(&argv[0]),
            flags.join(" ")
        ));
    }
    script.push_str("sleep 0.5\n");
    script.push_str(&format!(
        "{} --host-root {} --benchmark cis-1.12 --json run --targets master,etcd,node\n",
        shell_quote(env!("CARGO_BIN_EXE_kubecis")),
        shell_quote(root.to_str().unwrap())
    ));
    script.push_str("kill $(jobs -p) 2>/dev/null || true\n");

    // A clean environment, so no ETCD_* variable leaks into the dummies.
    let out = Command::new("unshare")
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .args(["--pid", "--fork", "--mount-proc", "bash", "-c", &script])
        .output()
        .expect("unshare runs");
    let err = stderr(&out);
    assert!(out.status.success(), "unshare run failed: {err}");
    assert!(err.contains("auditing the live node"), "{err}");
    let report = json(&out);

    let result = |id: &str| -> serde_json::Value {
        for c in report["Controls"].as_array().unwrap() {
            for g in c["tests"].as_array().unwrap() {
                for r in g["results"].as_array().unwrap() {
                    if r["test_number"] == id {
                        return r.clone();
                    }
                }
            }
        }
        panic!("{id} not in the report");
    };
    // Flags come from the live command lines, with the pid as evidence.
    let profiling = result("1.2.15");
    assert_eq!(profiling["status"], "FAIL");
    let client_auth = result("2.2");
    assert_eq!(client_auth["status"], "PASS", "{client_auth:#}");
    assert_eq!(client_auth["evidence"][0]["source"], "command_line");
    assert!(client_auth["evidence"][0]["pid"].as_u64().is_some());
    let bind = result("1.4.2");
    assert_eq!(bind["status"], "PASS");
    assert_eq!(bind["evidence"][0]["source"], "command_line");
    // The kubelet's --config on its live command line leads to its file.
    let anon = result("4.2.1");
    assert_eq!(anon["status"], "PASS");
    assert_eq!(anon["evidence"][0]["source"], "config_file");
    assert_eq!(anon["evidence"][0]["path"], "/var/lib/kubelet/config.yaml");
    // Files are read under the host root, at the node's own paths.
    assert_eq!(result("1.1.1")["status"], "PASS");
}
