//! Live audits (`--host-root`) of a node built to trip kubecis up: links
//! that lead out of the host root, FIFOs, devices and huge files where
//! configs should be, bytes that are not UTF-8 in command lines and file
//! names, processes that vanish, and files the auditing user may not read.
//! The host root is a copy of the kubeadm sample node with a fake `/proc`
//! beside it; every verdict must come from the node inside the root, or be
//! WARN/INFO with the reason.

mod common;
use common::*;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A host root with the sample node's files and processes, and a
/// directory outside it holding files that must never be judged.
struct Node {
    _dir: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

impl Node {
    fn new() -> Node {
        let dir = tempfile::tempdir().unwrap();
        // Readable by the unprivileged user some tests run kubecis as.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let root = dir.path().join("host");
        live_root_from_snapshot("kubeadm-sample", &root);
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        Node {
            _dir: dir,
            root,
            outside,
        }
    }

    fn path(&self, node_path: &str) -> PathBuf {
        self.root.join(node_path.trim_start_matches('/'))
    }

    /// Replace a node file with a symlink to `target`.
    fn link(&self, node_path: &str, target: &str) {
        let p = self.path(node_path);
        let _ = std::fs::remove_file(&p);
        symlink(target, p).unwrap();
    }

    fn audit(&self, args: &[&str]) -> (serde_json::Value, String) {
        let o = kubecis()
            .arg("--host-root")
            .arg(&self.root)
            .args(["--benchmark", "cis-1.12", "--json"])
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        (json(&o), stderr(&o))
    }
}

fn write_mode(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn status(results: &std::collections::BTreeMap<String, serde_json::Value>, id: &str) -> String {
    results[id]["status"].as_str().unwrap().to_string()
}

fn reason(results: &std::collections::BTreeMap<String, serde_json::Value>, id: &str) -> String {
    results[id]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn links_out_of_the_root_never_reach_the_outside_files() {
    let n = Node::new();
    let mut processes = snapshot_processes("kubeadm-sample");
    // The kubelet names its static pod directory itself, so the manifests
    // are looked for even though its config file is one of the links.
    add_arg(
        &mut processes,
        700,
        b"--pod-manifest-path=/etc/kubernetes/manifests\0",
    );
    write_processes(&n, processes);
    let outside = n.outside.to_str().unwrap().to_string();
    // Outside files that would FAIL (mode 777) or PASS if they were read.
    write_mode(&n.outside.join("kube-apiserver.yaml"), "spec: {}\n", 0o777);
    write_mode(&n.outside.join("admin.conf"), "kind: Config\n", 0o777);
    write_mode(
        &n.outside.join("config.yaml"),
        "readOnlyPort: 0\nauthentication: {anonymous: {enabled: false}}\n",
        0o600,
    );
    // An absolute link to the outside path: the node's own /tmp/..., absent.
    n.link(
        "/etc/kubernetes/admin.conf",
        &format!("{outside}/admin.conf"),
    );
    // A relative chain that climbs past the top: clamped at the root.
    n.link(
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        &format!("../../../../../../../../..{outside}/kube-apiserver.yaml"),
    );
    // The kubelet's config through /proc/self/root (no procfs in the root
    // here: the node's own /proc/self/root, absent).
    n.link(
        "/var/lib/kubelet/config.yaml",
        &format!("/proc/self/root{outside}/config.yaml"),
    );
    // A symlinked directory in the middle of a path, pointing outside.
    std::fs::create_dir(n.outside.join("pki")).unwrap();
    write_mode(&n.outside.join("pki/outside.key"), "k", 0o777);
    std::fs::remove_dir_all(n.path("/etc/kubernetes/pki/etcd")).unwrap();
    n.link("/etc/kubernetes/pki/etcd", &format!("{outside}/pki"));
    // A loop where the scheduler's kubeconfig should be.
    n.link(
        "/etc/kubernetes/scheduler.conf",
        "/etc/kubernetes/scheduler.conf",
    );

    let (report, _) = n.audit(&["run"]);
    let results = results_by_id(&report);
    // Nothing in the report comes from the outside files.
    for (id, r) in &results {
        let text = r.to_string();
        assert!(!text.contains("777"), "{id} judged an outside file: {r:#}");
        if matches!(status(&results, id).as_str(), "PASS" | "FAIL") {
            assert!(!text.contains(&outside), "{id}: {r:#}");
        }
    }
    // Each hostile link gives INFO (absent on the node) or WARN, with why.
    assert_eq!(
        status(&results, "1.1.1"),
        "INFO",
        "{}",
        reason(&results, "1.1.1")
    );
    assert!(reason(&results, "1.1.1").contains("no apiserver static pod manifest"));
    let r = reason(&results, "1.1.13");
    assert!(
        r.contains("super-admin.conf") && !r.contains("/etc/kubernetes/admin.conf:"),
        "{r}"
    );
    assert_eq!(status(&results, "1.1.15"), "WARN");
    assert!(reason(&results, "1.1.15").contains("too many levels of symbolic links"));
    assert_eq!(status(&results, "4.2.1"), "WARN");
    assert!(
        reason(&results, "4.2.1").contains("/var/lib/kubelet/config.yaml does not exist"),
        "{}",
        reason(&results, "4.2.1")
    );
    // The PKI walk does not descend into the symlinked directory.
    assert!(!results["1.1.21"].to_string().contains("outside.key"));
}

/// A /proc under the host root is read like any node file: a link there
/// cannot make a file outside the root pass for a process.
#[test]
fn links_in_the_proc_under_the_root_stay_inside_it() {
    let n = Node::new();
    let processes: Vec<FakeProcess> = snapshot_processes("kubeadm-sample")
        .into_iter()
        .filter(|p| p.pid != 1100)
        .collect();
    write_processes(&n, processes);
    let fake = n.outside.join("cmdline");
    std::fs::write(&fake, b"kube-apiserver\0--profiling=false\0").unwrap();
    std::fs::create_dir(n.path("/proc/1100")).unwrap();
    symlink(&fake, n.path("/proc/1100/cmdline")).unwrap();
    let environ = n.outside.join("environ");
    std::fs::write(&environ, b"ETCD_CLIENT_CERT_AUTH=true\0").unwrap();
    std::fs::remove_file(n.path("/proc/1000/environ")).unwrap();
    symlink(
        format!("../../../../../../..{}", environ.display()),
        n.path("/proc/1000/environ"),
    )
    .unwrap();
    let (report, _) = n.audit(&["run", "--targets", "master,etcd"]);
    let results = results_by_id(&report);
    // No process 1100: the API server's flags come from its manifest, which
    // does not set --profiling.
    let r = &results["1.2.15"];
    assert_eq!(r["status"], "FAIL", "{r:#}");
    assert_eq!(r["evidence"][0]["source"], "default", "{r:#}");
    assert!(!r.to_string().contains("pid 1100"), "{r:#}");
    // etcd's environment link leads nowhere inside the root.
    let r = reason(&results, "2.1");
    assert_eq!(status(&results, "2.1"), "WARN", "{r}");
    assert!(r.contains("process 1000 has ended"), "{r}");
}

/// With a real procfs mounted inside the host root (as when a node's / is
/// mounted at /host), /proc/<pid>/root is a magic link: refused, and the
/// check that names it says so. Needs a mount namespace (root).
#[test]
fn proc_magic_links_in_the_root_are_reported_not_followed() {
    if !root_or_skip("mounting a procfs") {
        return;
    }
    let n = Node::new();
    let outside = n.outside.to_str().unwrap().to_string();
    write_mode(&n.outside.join("scheduler.conf"), "kind: Config\n", 0o777);
    n.link(
        "/etc/kubernetes/scheduler.conf",
        &format!("/proc/self/root{outside}/scheduler.conf"),
    );
    n.link(
        "/etc/kubernetes/controller-manager.conf",
        &format!("/proc/1/root{outside}/scheduler.conf"),
    );
    std::fs::create_dir_all(n.path("/proc")).unwrap();
    let script = format!(
        "mount -t proc proc {root}/proc && exec {bin} --host-root {root} --benchmark cis-1.12 --json --group 1.1 run --targets master",
        root = n.root.display(),
        bin = env!("CARGO_BIN_EXE_kubecis"),
    );
    let o = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let results = results_by_id(&json(&o));
    for id in ["1.1.15", "1.1.16"] {
        assert_eq!(status(&results, id), "WARN", "{id}: {}", results[id]);
        let r = reason(&results, id);
        assert!(
            r.contains("/etc/kubernetes/scheduler.conf resolves outside the host root")
                && r.contains("magic link"),
            "{id}: {r}"
        );
    }
    for id in ["1.1.17", "1.1.18"] {
        assert_eq!(status(&results, id), "WARN", "{id}: {}", results[id]);
        let r = reason(&results, id);
        // pid 1's root needs ptrace access to pid 1, which may be refused
        // before the link is even looked at; either way it is not followed.
        assert!(
            r.contains("magic link") || r.contains("permission denied"),
            "{id}: {r}"
        );
    }
    assert!(!json(&o).to_string().contains("777"));
}

/// Append a raw argument (NUL-terminated) to a fake process's command line.
fn add_arg(processes: &mut [FakeProcess], pid: u32, arg: &[u8]) {
    let p = processes.iter_mut().find(|p| p.pid == pid).unwrap();
    p.cmdline.extend_from_slice(arg);
}

/// Write the fake /proc for these processes.
fn write_processes(n: &Node, processes: Vec<FakeProcess>) {
    write_fake_proc(&n.root, &processes);
}

#[test]
fn fifos_devices_and_huge_files_where_configs_should_be_give_warn_quickly() {
    let n = Node::new();
    let mut processes = snapshot_processes("kubeadm-sample");
    // The API server names an encryption config; kube-proxy runs too.
    add_arg(
        &mut processes,
        1100,
        b"--encryption-provider-config=/etc/kubernetes/enc/enc.yaml\0",
    );
    processes.push(FakeProcess::new(
        800,
        &[
            "/usr/local/bin/kube-proxy",
            "--config=/var/lib/kube-proxy/config.conf",
        ],
    ));
    write_processes(&n, processes);
    // A FIFO with no writer: a plain open would wait forever.
    std::fs::remove_file(n.path("/var/lib/kubelet/config.yaml")).unwrap();
    nix::unistd::mkfifo(
        &n.path("/var/lib/kubelet/config.yaml"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    // An endless file: a link to the node's /dev/zero (a real device when
    // root may create one, else a FIFO standing in for it).
    std::fs::create_dir_all(n.path("/dev")).unwrap();
    let zero = n.path("/dev/zero");
    let made_device = nix::sys::stat::mknod(
        &zero,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 5),
    )
    .is_ok();
    if !made_device {
        assert!(!on_ci(), "CI runs as root and can create /dev/zero");
        nix::unistd::mkfifo(&zero, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    }
    std::fs::create_dir_all(n.path("/var/lib/kube-proxy")).unwrap();
    symlink("/dev/zero", n.path("/var/lib/kube-proxy/config.conf")).unwrap();
    // A config far larger than any real one (sparse: costs no disk).
    std::fs::create_dir_all(n.path("/etc/kubernetes/enc")).unwrap();
    let huge = std::fs::File::create(n.path("/etc/kubernetes/enc/enc.yaml")).unwrap();
    huge.set_len(64 * 1024 * 1024).unwrap();

    let started = Instant::now();
    let (report, _) = n.audit(&["run"]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let results = results_by_id(&report);
    let r = reason(&results, "4.2.1");
    assert_eq!(status(&results, "4.2.1"), "WARN");
    assert!(
        r.contains("/var/lib/kubelet/config.yaml is not a regular file (a device, socket or FIFO)"),
        "{r}"
    );
    let r = reason(&results, "4.3.1");
    assert_eq!(status(&results, "4.3.1"), "WARN");
    assert!(
        r.contains("/var/lib/kube-proxy/config.conf is not a regular file"),
        "{r}"
    );
    let r = reason(&results, "1.2.28");
    assert_eq!(status(&results, "1.2.28"), "WARN");
    assert!(
        r.contains("/etc/kubernetes/enc/enc.yaml is larger than the 1048576-byte read limit"),
        "{r}"
    );
}

#[test]
fn non_utf8_command_lines_and_file_names_are_kept_and_shown_escaped() {
    let n = Node::new();
    let mut processes = snapshot_processes("kubeadm-sample");
    add_arg(
        &mut processes,
        1100,
        b"--profiling=\xff\xfe\0--token-auth-file=/etc/k\xe9.csv\0",
    );
    write_processes(&n, processes);
    // A key whose name is not UTF-8, world-readable: 1.1.21 must see it.
    let key = n.path("/etc/kubernetes/pki");
    let bad_name =
        key.join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"bad-\xff.key"));
    write_mode(&bad_name, "k", 0o644);

    let (report, _) = n.audit(&["run", "--targets", "master"]);
    let results = results_by_id(&report);
    assert_eq!(status(&results, "1.2.15"), "FAIL");
    assert!(
        reason(&results, "1.2.15").contains("--profiling=\\xff\\xfe on apiserver (pid 1100)"),
        "{}",
        reason(&results, "1.2.15")
    );
    assert_eq!(status(&results, "1.2.2"), "FAIL");
    assert!(reason(&results, "1.2.2").contains("--token-auth-file=/etc/k\\xe9.csv"));
    // 1.1.21 is unscored: a failing key mode is WARN, naming the key.
    let r = &results["1.1.21"];
    assert_eq!(r["status"], "WARN", "{r:#}");
    assert!(
        reason(&results, "1.1.21").contains("/etc/kubernetes/pki/bad-\\xff.key: mode 644"),
        "{r:#}"
    );
}

#[test]
fn processes_that_vanish_mid_scan_are_skipped_or_reported() {
    let n = Node::new();
    let mut processes = snapshot_processes("kubeadm-sample");
    // etcd ended after its command line was read: no environ any more.
    processes
        .iter_mut()
        .find(|p| p.pid == 1000)
        .unwrap()
        .environ = None;
    write_processes(&n, processes);
    // Listed, then gone before its command line was read.
    std::fs::create_dir(n.path("/proc/4242")).unwrap();

    let (report, err) = n.audit(&["run", "--targets", "etcd,node"]);
    assert!(!err.contains("4242"), "{err}");
    let results = results_by_id(&report);
    // Whether etcd reads a config file (ETCD_CONFIG_FILE) was in its
    // environment: every etcd setting is WARN naming the ended process.
    for id in ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7"] {
        let r = reason(&results, id);
        assert_eq!(status(&results, id), "WARN", "{id}: {r}");
        assert!(r.contains("process 1000 has ended"), "{id}: {r}");
    }
    // The kubelet, still running, is judged as usual.
    assert_eq!(status(&results, "4.2.1"), "PASS", "{}", results["4.2.1"]);
    // The vanished process counts as neither present nor unreadable.
    assert_eq!(status(&results, "4.3.1"), "INFO");
    assert!(
        reason(&results, "4.3.1").contains("no process named kube-proxy"),
        "{}",
        reason(&results, "4.3.1")
    );
}

/// Files the auditing user may not read: kubecis runs as `nobody` (root
/// drops to it with setpriv) against root-owned 0600/0700 files, or, run
/// by an unprivileged user, against files with no permissions at all.
#[test]
fn permission_denied_is_reported_never_judged() {
    let n = Node::new();
    write_processes(&n, snapshot_processes("kubeadm-sample"));
    let as_root = nix::unistd::geteuid().is_root();
    let (closed_dir, closed_file) = if as_root {
        (0o700, 0o600)
    } else {
        (0o000, 0o000)
    };
    std::fs::set_permissions(
        n.path("/etc/kubernetes/pki"),
        std::fs::Permissions::from_mode(closed_dir),
    )
    .unwrap();
    std::fs::set_permissions(
        n.path("/var/lib/kubelet/config.yaml"),
        std::fs::Permissions::from_mode(closed_file),
    )
    .unwrap();
    std::fs::set_permissions(
        n.path("/proc/1000/environ"),
        std::fs::Permissions::from_mode(closed_file),
    )
    .unwrap();
    let mut cmd = if as_root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_kubecis"));
        c
    } else {
        kubecis()
    };
    let o = cmd
        .arg("--host-root")
        .arg(&n.root)
        .args(["--benchmark", "cis-1.12", "--json", "run"])
        .output()
        .unwrap();
    // Give the tempdir back to its owner for cleanup.
    std::fs::set_permissions(
        n.path("/etc/kubernetes/pki"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let results = results_by_id(&json(&o));
    for id in ["1.1.19", "1.1.20", "1.1.21"] {
        assert_eq!(status(&results, id), "WARN", "{id}: {}", results[id]);
        assert!(
            reason(&results, id).contains("/etc/kubernetes/pki permission denied"),
            "{id}: {}",
            reason(&results, id)
        );
    }
    for id in ["4.2.1", "4.2.4"] {
        assert_eq!(status(&results, id), "WARN", "{id}: {}", results[id]);
        assert!(
            reason(&results, id).contains("/var/lib/kubelet/config.yaml permission denied"),
            "{id}: {}",
            reason(&results, id)
        );
    }
    let r = reason(&results, "2.3");
    assert_eq!(status(&results, "2.3"), "WARN", "{r}");
    assert!(r.contains("/proc/1000/environ needs CAP_SYS_PTRACE"), "{r}");
}
