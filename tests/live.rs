//! Reads real processes: starts dummy processes carrying a snapshot's
//! command lines inside a new PID namespace (`unshare`), and audits them
//! live with `--host-root` pointing at a copy of the node's files: the
//! kubeadm sample's components, and a K3s server whose components' command
//! lines come from a real systemd journal read with journalctl.
//! Needs root; on CI (CI=true) it must run, elsewhere it is skipped without
//! root (and the K3s test without systemd-journal-remote, which writes the
//! journal file; .ci/k3s-journal installs it on CI).

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A copy of a snapshot's files in `dir/host`, with the modes its node.yaml
/// records (git keeps none), and the node.yaml itself.
fn host_from_snapshot(name: &str, dir: &Path) -> (PathBuf, Value) {
    let root = dir.join("host");
    live_root_from_snapshot(name, &root);
    (root, snapshot_node(name))
}

/// Start the snapshot's processes as sleeping dummies (a python whose
/// argv[0] is the process's, followed by its real arguments), run kubecis
/// with `args` against `root`, and return its output.
fn audit_with_dummies(node: &Value, root: &Path, args: &str) -> std::process::Output {
    let mut script = String::from("set -e\n");
    for p in node["processes"].as_array().unwrap() {
        let argv: Vec<String> = p["cmdline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        if let [argv0, sub] = argv.as_slice() {
            if !sub.starts_with('-') {
                // A subcommand (`k3s server`) must be argv[1] exactly: the
                // dummy runs a sleeping script of that name, in its folder.
                let scripts = root.parent().unwrap().join(format!("dummy-{}", p["pid"]));
                std::fs::create_dir_all(&scripts).unwrap();
                std::fs::write(scripts.join(sub), "import time\ntime.sleep(60)\n").unwrap();
                script.push_str(&format!(
                    "(cd {} && exec -a {} python3 {}) &\n",
                    shell_quote(scripts.to_str().unwrap()),
                    shell_quote(argv0),
                    shell_quote(sub)
                ));
                continue;
            }
        }
        let flags: Vec<String> = argv[1..].iter().map(|a| shell_quote(a)).collect();
        script.push_str(&format!(
            "(exec -a {} python3 -c 'import time; time.sleep(60)' {}) &\n",
            shell_quote(&argv[0]),
            flags.join(" ")
        ));
    }
    script.push_str("sleep 0.5\n");
    script.push_str(&format!(
        "{} --host-root {} {args}\n",
        shell_quote(env!("CARGO_BIN_EXE_kubecis")),
        shell_quote(root.to_str().unwrap())
    ));
    script.push_str("kill $(jobs -p) 2>/dev/null || true\n");
    // A clean environment, so no ETCD_* variable leaks into the dummies.
    Command::new("unshare")
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .args(["--pid", "--fork", "--mount-proc", "bash", "-c", &script])
        .output()
        .expect("unshare runs")
}

fn result(report: &Value, id: &str) -> Value {
    for c in report["Controls"].as_array().unwrap() {
        for g in c["tests"].as_array().into_iter().flatten() {
            for r in g["results"].as_array().unwrap() {
                if r["test_number"] == id {
                    return r.clone();
                }
            }
        }
    }
    panic!("{id} not in the report");
}

#[test]
fn audits_live_processes_in_a_pid_namespace() {
    if !root_or_skip("unshare") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (root, node) = host_from_snapshot("kubeadm-sample", dir.path());
    let out = audit_with_dummies(
        &node,
        &root,
        "--benchmark cis-1.12 --json run --targets master,etcd,node",
    );
    let err = stderr(&out);
    assert!(out.status.success(), "unshare run failed: {err}");
    assert!(err.contains("auditing the live node"), "{err}");
    let report = json(&out);
    let result = |id: &str| result(&report, id);
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

/// Where systemd-journal-remote is installed on Debian.
const JOURNAL_REMOTE: &str = "/lib/systemd/systemd-journal-remote";

/// Write `lines` (journald's short format, "Mon DD hh:mm:ss host ident[pid]:
/// message") as entries of `unit` into a journal file under `root`, the way
/// journald would have stored them.
fn write_journal(root: &Path, unit: &str, lines: &[String]) {
    let machine = "0123456789abcdef0123456789abcdef";
    let dir = root.join("var/log/journal").join(machine);
    std::fs::create_dir_all(&dir).unwrap();
    let mut export = String::new();
    for (i, line) in lines.iter().enumerate() {
        let (prefix, message) = line.split_once("]: ").unwrap();
        let pid = prefix.rsplit_once('[').unwrap().1;
        export.push_str(&format!(
            "__REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID=00112233445566778899aabbccddeeff\n_MACHINE_ID={machine}\n_HOSTNAME=server-0\n_SYSTEMD_UNIT={unit}.service\nSYSLOG_IDENTIFIER=k3s\n_PID={pid}\nPRIORITY=6\nMESSAGE={message}\n\n",
            1_757_611_328_000_000u64 + i as u64,
            1_000_000 + i as u64
        ));
    }
    let export_file = root.join("export.txt");
    std::fs::write(&export_file, export).unwrap();
    let out = Command::new(JOURNAL_REMOTE)
        .arg(format!("--output={}", dir.join("k3s.journal").display()))
        .arg(&export_file)
        .output()
        .expect("systemd-journal-remote runs");
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::remove_file(export_file).unwrap();
}

#[test]
fn audits_a_live_k3s_server_through_its_journal() {
    if !root_or_skip("unshare") {
        return;
    }
    let have = |p: &str| Path::new(p).exists();
    let journalctl = ["/usr/bin/journalctl", "/bin/journalctl"];
    if !have(JOURNAL_REMOTE) || !journalctl.iter().any(|p| have(p)) {
        assert!(
            !on_ci(),
            "CI installs systemd-journal-remote (.ci/k3s-journal); this test must run there"
        );
        eprintln!("skipped: needs journalctl and {JOURNAL_REMOTE}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (root, node) = host_from_snapshot("k3s-hardened", dir.path());
    let lines: Vec<String> = node["journal"]["k3s"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    write_journal(&root, "k3s", &lines);
    // The k3s binary only needs to answer --version.
    let k3s = root.join("usr/local/bin/k3s");
    std::fs::create_dir_all(k3s.parent().unwrap()).unwrap();
    std::fs::write(
        &k3s,
        "#!/bin/sh\necho 'k3s version v1.31.1+k3s1 (452dbbc1)'\necho 'go version go1.22.6'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&k3s, std::fs::Permissions::from_mode(0o755)).unwrap();

    let out = audit_with_dummies(&node, &root, "--json");
    let err = stderr(&out);
    assert!(out.status.success(), "unshare run failed: {err}");
    assert!(
        err.contains("kubecis: distribution k3s (from process k3s server (pid "),
        "{err}"
    );
    assert!(
        err.contains("kubecis: benchmark k3s-cis-1.10 for Kubernetes v1.31.1+k3s1 (from `/usr/local/bin/k3s --version`)"),
        "{err}"
    );
    let report = json(&out);
    // The API server's and the kubelet's flags come from the journal.
    for (id, flag) in [
        ("1.2.1", "--anonymous-auth=false"),
        ("4.2.4", "--read-only-port=0"),
    ] {
        let r = result(&report, id);
        assert_eq!(r["status"], "PASS", "{id}: {r:#}");
        assert_eq!(r["evidence"][0]["source"], "journal", "{id}");
        let detail = r["evidence"][0]["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(flag) && detail.contains("read with journalctl"),
            "{id}: {detail}"
        );
    }
    // The embedded etcd's settings come from its config file.
    let r = result(&report, "2.2");
    assert_eq!(r["status"], "PASS", "{r:#}");
    assert_eq!(
        r["evidence"][0]["path"],
        "/var/lib/rancher/k3s/server/db/etcd/config"
    );
    // The guide's verdicts, live: no FAIL on the hardened server.
    let fails: Vec<_> = verdicts(&report)
        .into_iter()
        .filter(|v| v.1 == "FAIL")
        .collect();
    assert!(fails.is_empty(), "{fails:?}");
}
