//! A fake kubeadm node in its own mount and PID namespaces (`unshare
//! --mount --pid --fork --mount-proc`), audited twice: with kube-bench's
//! own cis-1.10 cfg (shell audits, run for real through /bin/sh) and with
//! the built-in typed cis-1.10 checks. The node's files sit at their real
//! paths in overlays of /etc and /var whose writable layer is a tmpfs, and
//! its components are sleeping processes whose program name and command
//! line are the snapshot's (a symlink named like the component to python3,
//! started with `exec -a`), so `ps -C kubelet` finds them as it finds the
//! real ones. Nothing on the machine changes.
//!
//! It asserts that both runs give the same verdict for every check except
//! the differences listed, with why, in
//! tests/fixtures/kube-bench-differences-cis-1.10.yaml; compares the
//! kube-bench run's text, JSON and JUnit reports with golden files (with
//! the columns of `ps` output that change from run to run masked); and
//! prints how long each run took. Needs root, unshare, python3 and
//! ../shared/reference/kube-bench-cfg; skipped without them, except on CI
//! (CI=true), where it must run.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const NODES: [&str; 2] = ["kubeadm-hardened-600", "kubeadm-insecure"];
/// The node whose kube-bench reports are kept as golden files.
const GOLDEN_NODE: &str = "kubeadm-insecure";
/// Runs of each kind, for the timing figures.
const TIMED_RUNS: usize = 3;
/// The targets audited. `policies` needs the Kubernetes API, which the fake
/// node does not serve: kube-bench's checks there run kubectl, whose answer
/// depends on the machine (installed or not, its configuration). `ETCD` is
/// written in capitals (target names are case-insensitive, as in
/// kube-bench) because kube-bench's `ps -ef | grep etcd` audits would
/// otherwise find kubecis's own command line, as they find kube-bench's.
const TARGETS: &str = "master,controlplane,ETCD,node";

/// The only environment the fake node and the audits get.
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where a tool is on `PATH`, symlinks resolved (a wrapper script found
/// first on a developer's own PATH is not the tool).
fn tool(name: &str) -> Option<PathBuf> {
    let out = Command::new("sh")
        .env_clear()
        .env("PATH", PATH)
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !path.is_empty())
        .then(|| std::fs::canonicalize(path).ok())
        .flatten()
}

fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Why the test cannot run here, if it cannot.
fn missing_prerequisite() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("needs root for unshare and mounts".to_string());
    }
    for name in ["unshare", "python3", "mount", "ps"] {
        if tool(name).is_none() {
            return Some(format!("{name} is missing"));
        }
    }
    if !repo_path("../shared/reference/kube-bench-cfg/config.yaml").is_file() {
        return Some("../shared/reference/kube-bench-cfg is absent".to_string());
    }
    None
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn octal(v: &Value) -> Option<u32> {
    v.as_str().and_then(|m| u32::from_str_radix(m, 8).ok())
}

/// Copy the snapshot's files and give each the mode and owner its
/// node.yaml records (git keeps neither).
fn stage_files(snapshot: &Path, node: &Value, dest: &Path) {
    let status = Command::new("cp")
        .args(["-a", "--"])
        .arg(snapshot.join("root"))
        .arg(dest)
        .status()
        .unwrap();
    assert!(status.success());
    for entry in std::fs::read_dir(dest).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(
            name == "etc" || name == "var",
            "the fake node only overlays /etc and /var, not {name:?}"
        );
    }
    let defaults = &node["defaults"];
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let full = dest.join(&rel);
        let meta = std::fs::symlink_metadata(&full).unwrap();
        if meta.file_type().is_symlink() {
            continue;
        }
        if meta.is_dir() {
            for e in std::fs::read_dir(&full).unwrap() {
                stack.push(rel.join(e.unwrap().file_name()));
            }
        }
        if rel.as_os_str().is_empty() {
            continue;
        }
        let node_path = format!("/{}", rel.display());
        let entry = &node["files"][&node_path];
        let kind = if meta.is_dir() { "dir" } else { "file" };
        let mode = octal(&entry["mode"])
            .or_else(|| octal(&defaults[kind]["mode"]))
            .unwrap_or(if meta.is_dir() { 0o755 } else { 0o644 });
        let id = |key: &str| {
            entry[key]
                .as_u64()
                .or_else(|| defaults[kind][key].as_u64())
                .unwrap_or(0) as u32
        };
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode)).unwrap();
        std::os::unix::fs::chown(&full, Some(id("uid")), Some(id("gid"))).unwrap();
    }
}

/// Everything the namespace's PID 1 does: mount the node, start its
/// processes, audit, time.
fn node_script(work: &Path, node: &Value, kube_bench_cfg: &Path, golden: bool) -> String {
    let w = work.display();
    let mut s = format!(
        "set -eu\n\
         cd /\n\
         mount --make-rprivate /\n\
         mount -t tmpfs -o mode=700 kubecis-fake-node {w}/layers\n\
         for d in etc var; do\n\
           mkdir -p {w}/layers/$d-upper {w}/layers/$d-work\n\
           mount -t overlay overlay -o lowerdir=/$d,upperdir={w}/layers/$d-upper,workdir={w}/layers/$d-work /$d\n\
         done\n\
         # Whatever the machine has at the node's paths is hidden, not changed.\n\
         rm -rf /etc/kubernetes /var/lib/kubelet /var/lib/etcd /var/lib/kube-proxy \\\n\
           /etc/systemd/system/kubelet.service /etc/systemd/system/kubelet.service.d\n\
         cp -a {w}/root/etc/. /etc/\n\
         cp -a {w}/root/var/. /var/\n"
    );
    for (_, argv) in process_argvs(node) {
        let base = argv[0].rsplit('/').next().unwrap();
        let args: Vec<String> = argv[1..].iter().map(|a| shell_quote(a)).collect();
        s.push_str(&format!(
            "(exec -c -a {} {w}/bin/{base} -c 'import time; time.sleep(3600)' {}) &\n",
            shell_quote(&argv[0]),
            args.join(" ")
        ));
    }
    let kubecis = env!("CARGO_BIN_EXE_kubecis");
    let kb = kube_bench_cfg.display();
    s.push_str(&format!(
        "sleep 1\nps -e -o pid,comm,args > {w}/out/ps.txt\n"
    ));
    s.push_str(&format!(
        "timed() {{ out=$1; shift; s=$(date +%s%N); \"$@\" > {w}/out/$out 2>> {w}/out/stderr; \
         e=$(date +%s%N); echo \"$out $(( (e - s) / 1000 ))\" >> {w}/out/times; }}\n\
         for i in $(seq {TIMED_RUNS}); do\n\
           timed typed.json {kubecis} --benchmark cis-1.10 --json run --targets {TARGETS}\n\
           timed kube-bench.json {kubecis} --config-dir {kb} --benchmark cis-1.10 --json run --targets {TARGETS}\n\
         done\n"
    ));
    if golden {
        s.push_str(&format!(
            "{kubecis} --config-dir {kb} --benchmark cis-1.10 --color never run --targets {TARGETS} > {w}/out/kube-bench.txt 2>> {w}/out/stderr\n\
             {kubecis} --config-dir {kb} --benchmark cis-1.10 --junit run --targets {TARGETS} > {w}/out/kube-bench.xml 2>> {w}/out/stderr\n"
        ));
    }
    s.push_str("kill $(jobs -p) 2>/dev/null || true\n");
    s
}

struct NodeRun {
    typed: Value,
    kube_bench: Value,
    text: Option<String>,
    junit: Option<String>,
    /// Microseconds per run, by report name.
    times: BTreeMap<String, Vec<u64>>,
}

fn audit_fake_node(name: &str, golden: bool) -> NodeRun {
    let snapshot = repo_path(&node(name));
    let node: Value =
        kubecis::yaml::to_document(&std::fs::read_to_string(snapshot.join("node.yaml")).unwrap())
            .unwrap();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    for d in ["layers", "bin", "out"] {
        std::fs::create_dir_all(w.join(d)).unwrap();
    }
    stage_files(&snapshot, &node, &w.join("root"));
    // A program started through a link named `kubelet` is `kubelet` to the
    // kernel (and so to `ps -C kubelet`), whatever it runs.
    let python = tool("python3").expect("python3 was found before");
    for p in node["processes"].as_array().unwrap() {
        let argv0 = p["cmdline"][0].as_str().unwrap();
        let base = argv0.rsplit('/').next().unwrap();
        let link = w.join("bin").join(base);
        if !link.exists() {
            std::os::unix::fs::symlink(&python, link).unwrap();
        }
    }
    let kb_cfg = std::fs::canonicalize(repo_path("../shared/reference/kube-bench-cfg")).unwrap();
    // The script goes in a file: PID 1's command line must not carry the
    // components' flags, or `ps -ef | grep` audits would find them there.
    let script = w.join("node.sh");
    std::fs::write(&script, node_script(w, &node, &kb_cfg, golden)).unwrap();
    let out = Command::new("unshare")
        .env_clear()
        .env("PATH", PATH)
        .args(["--mount", "--pid", "--fork", "--mount-proc", "bash"])
        .arg(&script)
        .output()
        .expect("unshare runs");
    let stderr_file = std::fs::read_to_string(w.join("out/stderr")).unwrap_or_default();
    assert!(
        out.status.success(),
        "{name}: the fake node failed: {}\n{stderr_file}",
        stderr(&out)
    );
    let read = |f: &str| std::fs::read_to_string(w.join("out").join(f)).unwrap();
    let report = |f: &str| -> Value {
        serde_json::from_str(&read(f))
            .unwrap_or_else(|e| panic!("{name}: {f} is not JSON: {e}\n{stderr_file}"))
    };
    let mut times: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for line in read("times").lines() {
        let (k, v) = line.split_once(' ').unwrap();
        times
            .entry(k.to_string())
            .or_default()
            .push(v.parse().unwrap());
    }
    if let Some(keep) = std::env::var_os("KUBECIS_FAKE_NODE_KEEP") {
        let dest = Path::new(&keep).join(name);
        let _ = std::fs::remove_dir_all(&dest);
        let status = Command::new("cp")
            .arg("-a")
            .arg(w.join("out"))
            .arg(&dest)
            .status();
        eprintln!(
            "kept the reports of {name} in {} ({status:?})",
            dest.display()
        );
    }
    NodeRun {
        typed: report("typed.json"),
        kube_bench: report("kube-bench.json"),
        text: golden.then(|| read("kube-bench.txt")),
        junit: golden.then(|| read("kube-bench.xml")),
        times,
    }
}

/// Every check's status by ID.
fn statuses(report: &Value) -> BTreeMap<String, String> {
    verdicts(report)
        .into_iter()
        .map(|(id, status, _)| (id, status))
        .collect()
}

/// What changes from run to run or machine to machine, masked for golden
/// files: the `ps` columns CPU share, start time and CPU time, the column
/// widths (`ps` sizes them from the kernel's largest PID), and the cfg's
/// absolute path.
fn stable(text: &str, cfg: &Path) -> String {
    let row =
        regex::Regex::new(r"root +(\d+) +(\d+) +\d+ +\d\d:\d\d +(\S+) +\d\d:\d\d:\d\d ").unwrap();
    let header = regex::Regex::new(r"UID +PID +PPID +C +STIME +TTY +TIME +CMD").unwrap();
    let masked = row.replace_all(text, "root $1 $2 C STIME $3 TIME ");
    let masked = header.replace_all(&masked, "UID PID PPID C STIME TTY TIME CMD");
    masked.replace(&cfg.display().to_string(), "KUBE_BENCH_CFG")
}

#[derive(serde::Deserialize)]
struct Differences {
    #[serde(flatten)]
    nodes: BTreeMap<String, BTreeMap<String, (String, String, String)>>,
}

#[test]
fn kube_bench_cfg_and_typed_checks_agree_on_a_fake_node() {
    if let Some(why) = missing_prerequisite() {
        assert!(!on_ci(), "CI must run this test: {why}");
        eprintln!("skipped: {why}");
        return;
    }
    let listed: Differences = kubecis::yaml::from_str(
        &std::fs::read_to_string(repo_path(
            "tests/fixtures/kube-bench-differences-cis-1.10.yaml",
        ))
        .unwrap(),
    )
    .unwrap();
    let kb_cfg = std::fs::canonicalize(repo_path("../shared/reference/kube-bench-cfg")).unwrap();
    let mut problems = Vec::new();
    for name in NODES {
        let run = audit_fake_node(name, name == GOLDEN_NODE);
        let typed = statuses(&run.typed);
        let kb = statuses(&run.kube_bench);
        assert!(typed.len() > 80 && kb.len() > 80, "{name}: too few checks");
        let expected = listed.nodes.get(name).cloned().unwrap_or_default();
        let ids: std::collections::BTreeSet<&String> = typed.keys().chain(kb.keys()).collect();
        for id in ids {
            let t = typed.get(id).map_or("absent", String::as_str);
            let k = kb.get(id).map_or("absent", String::as_str);
            match expected.get(id) {
                Some((et, ek, _)) if (et.as_str(), ek.as_str()) == (t, k) => {}
                Some((et, ek, why)) => problems.push(format!(
                    "{name} {id}: listed as typed {et} / kube-bench {ek} ({why}), got typed {t} / kube-bench {k}"
                )),
                None if t != k => problems.push(format!(
                    "{name} {id}: typed {t}, kube-bench {k}, and the difference is not listed"
                )),
                None => {}
            }
        }
        for id in expected.keys() {
            if !typed.contains_key(id) && !kb.contains_key(id) {
                problems.push(format!("{name} {id}: listed but in neither report"));
            }
        }
        let mean = |k: &str| {
            let v = &run.times[k];
            v.iter().sum::<u64>() / v.len() as u64
        };
        let best = |k: &str| run.times[k].iter().copied().min().unwrap_or(0);
        eprintln!(
            "figures: {name}: typed run best {} ms, mean {} ms; kube-bench cfg run best {} ms, mean {} ms ({} runs each)",
            best("typed.json") / 1000,
            mean("typed.json") / 1000,
            best("kube-bench.json") / 1000,
            mean("kube-bench.json") / 1000,
            TIMED_RUNS
        );
        assert!(
            best("kube-bench.json") > best("typed.json"),
            "{name}: the shell-audit run should be slower than the typed one: {:?}",
            run.times
        );
        if let (Some(text), Some(junit)) = (&run.text, &run.junit) {
            let json = serde_json::to_string_pretty(&run.kube_bench).unwrap() + "\n";
            assert_golden(
                "tests/golden/kube-bench-cis-1.10-insecure.txt",
                &stable(text, &kb_cfg),
            );
            assert_golden(
                "tests/golden/kube-bench-cis-1.10-insecure.json",
                &stable(&json, &kb_cfg),
            );
            assert_golden(
                "tests/golden/kube-bench-cis-1.10-insecure.xml",
                &stable(junit, &kb_cfg),
            );
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
