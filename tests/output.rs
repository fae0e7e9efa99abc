//! The report is never half-written: `--outputfile` is replaced atomically
//! (a temporary file in the same directory, then a rename) or left as it
//! was, with no temporary file left behind; a closed pipe ends the run
//! quietly.

mod common;
use common::*;
use std::io::Read;
use std::path::Path;
use std::process::Stdio;

const SAMPLE: &str = "tests/fixtures/nodes/kubeadm-sample";
const OLD: &str = "the previous report\n";

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_failed_run_leaves_the_previous_report_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    std::fs::write(&out, OLD).unwrap();
    let bad_cfg = repo_path("tests/fixtures/cfg-malformed/unknown-op");
    let runs: Vec<Vec<&str>> = vec![
        // An invalid cfg: stops before auditing.
        vec![
            "--config-dir",
            bad_cfg.to_str().unwrap(),
            "--snapshot",
            SAMPLE,
        ],
        // A node that cannot be audited.
        vec!["--snapshot", "/no/such/snapshot"],
        // A version that cannot be detected.
        vec!["--snapshot", "tests/fixtures/nodes/empty"],
    ];
    for args in runs {
        let mut args = args.clone();
        args.extend(["--json", "--outputfile", out.to_str().unwrap()]);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), OLD, "{args:?}");
        assert_eq!(names_in(dir.path()), vec!["report.json"], "{args:?}");
    }
}

#[test]
fn a_report_that_cannot_be_put_in_place_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    // The target is a directory: the rename fails after the report is written.
    let target = dir.path().join("report.json");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), OLD).unwrap();
    let o = run(&[
        "--snapshot",
        SAMPLE,
        "--json",
        "--outputfile",
        target.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("replacing {}", target.display())),
        "{err}"
    );
    assert!(stdout(&o).is_empty());
    assert_eq!(names_in(dir.path()), vec!["report.json"]);
    assert_eq!(std::fs::read_to_string(target.join("keep")).unwrap(), OLD);
}

/// A full filesystem: the write fails half-way. Needs a tmpfs mounted in a
/// private mount namespace (root); on CI it must run.
#[test]
fn a_full_disk_leaves_the_previous_report_whole() {
    if !root_or_skip("mounting a tmpfs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("full");
    std::fs::create_dir(&mnt).unwrap();
    // 12 KiB holds the old report but not the new one (over 100 KiB).
    let script = format!(
        "set -e\nmount -t tmpfs -o size=12k tmpfs {mnt}\nprintf '{old}' > {mnt}/report.json\n\
         set +e\n{bin} --snapshot {sample} --json --outputfile {mnt}/report.json 2>{dir}/stderr\n\
         echo $? > {dir}/status\ncat {mnt}/report.json > {dir}/after\nls -A {mnt} > {dir}/names\n",
        mnt = mnt.display(),
        old = OLD.trim_end().to_string() + "\\n",
        bin = env!("CARGO_BIN_EXE_kubecis"),
        sample = repo_path(SAMPLE).display(),
        dir = dir.path().display(),
    );
    let o = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    assert_eq!(read("status").trim(), "1", "{}", read("stderr"));
    assert!(
        read("stderr").contains("No space left on device"),
        "{}",
        read("stderr")
    );
    assert_eq!(read("after"), OLD);
    assert_eq!(read("names").trim(), "report.json");
}

/// Without write permission on the directory: kubecis runs as `nobody`
/// (setpriv, as root), or as the unprivileged user running the tests.
#[test]
fn an_unwritable_directory_leaves_the_previous_report_whole() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out_dir = dir.path().join("reports");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("report.txt");
    std::fs::write(&out, OLD).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o666)).unwrap();
    std::fs::set_permissions(&out_dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let mut cmd = if nix::unistd::geteuid().is_root() {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        c.arg(env!("CARGO_BIN_EXE_kubecis"));
        c
    } else {
        kubecis()
    };
    let o = cmd
        .args(["--snapshot"])
        .arg(repo_path(SAMPLE))
        .args(["--outputfile", out.to_str().unwrap()])
        .output()
        .unwrap();
    std::fs::set_permissions(&out_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("creating a temporary file in"), "{err}");
    assert!(err.contains("Permission denied"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), OLD);
    assert_eq!(names_in(&out_dir), vec!["report.txt"]);
}

/// `kubecis | head -c 100`: the reader goes away after a few bytes.
#[test]
fn a_closed_pipe_ends_quietly_with_status_0() {
    for extra in [&[][..], &["--json"][..]] {
        let mut child = kubecis()
            .args(["--snapshot", SAMPLE, "--benchmark", "cis-1.12"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 100];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut first)
            .unwrap();
        drop(child.stdout.take());
        let status = child.wait().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(status.code(), Some(0), "{extra:?}: {err}");
        assert!(!err.contains("error") && !err.contains("panicked"), "{err}");
    }
}

/// `kubecis 2>&1 | true`: stdout and stderr both closed before the run
/// writes anything; the notes on stderr are lost, quietly.
#[test]
fn closed_stdout_and_stderr_end_quietly_with_status_0() {
    for (args, expected) in [
        (vec!["--snapshot", SAMPLE], 0),
        (vec!["--snapshot", "/no/such/snapshot"], 2),
        (vec!["--no-such-flag"], 2),
        (vec!["--help"], 0),
        (vec!["version"], 0),
    ] {
        let mut child = kubecis()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        drop(child.stderr.take());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(expected), "{args:?}: {status:?}");
    }
}
