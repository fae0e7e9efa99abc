//! kubecis never writes to the host: full audits run under `strace -f`
//! (live under `--host-root` with a fake /proc, a snapshot, with and
//! without `--outputfile`), and every system call that could change a file
//! is an error, except creating the `--outputfile` temporary file in its
//! directory, writing it and renaming it onto the output file. The
//! checker is tested on hand-written lines and on a real traced shell that
//! does write. Needs `strace` (Debian package `strace`); skipped without
//! it, except on CI (`CI=true`), where it must run.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// System calls that change the filesystem whatever their arguments.
const CHANGING: &[&str] = &[
    "creat",
    "rename",
    "renameat",
    "renameat2",
    "unlink",
    "unlinkat",
    "mkdir",
    "mkdirat",
    "rmdir",
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "truncate",
    "ftruncate",
    "fallocate",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "mknod",
    "mknodat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "mount",
    "umount2",
    "copy_file_range",
    "sendfile",
    "splice",
];

/// Open flags that ask for write access, creation or truncation.
const WRITE_FLAGS: &[&str] = &[
    "O_WRONLY",
    "O_RDWR",
    "O_CREAT",
    "O_TRUNC",
    "O_APPEND",
    "O_TMPFILE",
];

/// System calls that write through a file descriptor (its path shown by
/// `strace -y`).
const FD_WRITES: &[&str] = &["write", "pwrite64", "writev", "pwritev", "pwritev2"];

/// The one place a run may write: `--outputfile`.
struct Allowed {
    output: Option<PathBuf>,
}

impl Allowed {
    /// A temporary file for the output, in the output's own directory.
    fn is_temp(&self, path: &str) -> bool {
        let Some(out) = &self.output else {
            return false;
        };
        let p = Path::new(path);
        p.parent() == out.parent()
            && p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".tmp"))
    }

    fn is_output(&self, path: &str) -> bool {
        self.output.as_deref() == Some(Path::new(path))
    }
}

/// The text of a line with quoted strings and `<...>` fd annotations
/// blanked, so that a path cannot pass for a flag.
fn without_strings(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push_str("\"\"");
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '<' => {
                out.push_str("<>");
                for d in chars.by_ref() {
                    if d == '>' {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The quoted strings of a line, unescaped just enough for paths.
fn strings(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(d) = chars.next() {
            match d {
                '\\' => {
                    if let Some(e) = chars.next() {
                        s.push(e);
                    }
                }
                '"' => break,
                _ => s.push(d),
            }
        }
        out.push(s);
    }
    out
}

/// The path strace -y shows for the descriptor `call(N<path>, ...)` or
/// for the result `= N<path>`.
fn fd_path(text: &str) -> Option<&str> {
    let start = text.find('<')? + 1;
    let end = start + text[start..].find('>')?;
    Some(&text[start..end])
}

/// The problems in one line of `strace -y` output.
fn check_line(line: &str, allowed: &Allowed) -> Option<String> {
    // `strace -f` without -ff prefixes the pid; `-ff` does not.
    let body = line
        .trim_start()
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start();
    let name: String = body
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() || !body[name.len()..].starts_with('(') {
        return None; // signals, exits, "resumed" lines carry no new call
    }
    let bare = without_strings(body);
    let bad = |why: &str| Some(format!("{why}: {line}"));
    match name.as_str() {
        "open" | "openat" | "openat2" | "creat" => {
            let writes = bare
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|t| WRITE_FLAGS.contains(&t));
            if name == "creat" || writes {
                let result = body.rsplit_once(" = ").map(|(_, r)| r).unwrap_or_default();
                let target = fd_path(result)
                    .map(str::to_string)
                    .or_else(|| strings(body).into_iter().next());
                match target {
                    Some(p) if allowed.is_temp(&p) => None,
                    _ => bad("opened for writing"),
                }
            } else {
                None
            }
        }
        "rename" | "renameat" | "renameat2" => {
            let s = strings(body);
            match (s.first(), s.get(1)) {
                (Some(from), Some(to)) if allowed.is_temp(from) && allowed.is_output(to) => None,
                _ => bad("renamed"),
            }
        }
        // Removing a temporary output file that could not be put in place.
        "unlink" | "unlinkat" if strings(body).first().is_some_and(|p| allowed.is_temp(p)) => None,
        n if CHANGING.contains(&n) => bad("changed the filesystem"),
        n if FD_WRITES.contains(&n) => {
            let target = fd_path(&body[name.len()..]).unwrap_or_default();
            let harmless = target.starts_with("pipe:")
                || target == "/dev/null"
                || target.starts_with("/dev/pts/")
                || target == "/dev/tty";
            if harmless || allowed.is_temp(target) {
                None
            } else {
                bad("wrote to a file")
            }
        }
        _ => None,
    }
}

/// Every problem in the trace files `prefix.*` written by `strace -ff`.
fn check_traces(dir: &Path, allowed: &Allowed) -> (Vec<String>, usize) {
    let mut problems = Vec::new();
    let mut calls = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            calls += 1;
            problems.extend(check_line(line, allowed));
        }
    }
    (problems, calls)
}

fn strace_available() -> bool {
    let found = Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(!on_ci(), "CI must install strace (apt package strace)");
        eprintln!("skipped: strace is not installed");
    }
    found
}

/// Run `program args` under `strace -f`, one trace file per thread.
fn traced(program: &str, args: &[&str], traces: &Path) -> std::process::Output {
    std::fs::create_dir_all(traces).unwrap();
    Command::new("strace")
        .args(["-f", "-ff", "-y", "-qq", "-s", "256", "-o"])
        .arg(traces.join("trace"))
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_full_audit_writes_nothing_but_its_output_file() {
    if !strace_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("host");
    live_root_from_snapshot("kubeadm-sample", &root);
    write_fake_proc(&root, &snapshot_processes("kubeadm-sample"));
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let output = out_dir.join("report.json");
    std::fs::write(&output, "old").unwrap();
    let root_s = root.to_str().unwrap();
    let sample = repo_path("tests/fixtures/nodes/kubeadm-sample");
    let runs: Vec<(&str, Vec<&str>, Option<&Path>)> = vec![
        ("live, auto mode", vec!["--host-root", root_s], None),
        (
            "live, every target, JSON",
            vec!["--host-root", root_s, "--json", "run"],
            None,
        ),
        (
            "live, --outputfile",
            vec![
                "--host-root",
                root_s,
                "--json",
                "--outputfile",
                output.to_str().unwrap(),
                "run",
            ],
            Some(&output),
        ),
        (
            "snapshot, --outputfile",
            vec![
                "--snapshot",
                sample.to_str().unwrap(),
                "--outputfile",
                output.to_str().unwrap(),
            ],
            Some(&output),
        ),
    ];
    for (i, (what, args, out)) in runs.into_iter().enumerate() {
        let traces = dir.path().join(format!("traces-{i}"));
        let o = traced(env!("CARGO_BIN_EXE_kubecis"), &args, &traces);
        assert!(o.status.success(), "{what}: {}", stderr(&o));
        if out.is_none() {
            assert!(json_or_text_report(&o), "{what}: no report on stdout");
        } else {
            let written = std::fs::read_to_string(&output).unwrap();
            assert!(
                written.contains("1.1.1"),
                "{what}: the output file holds the report"
            );
        }
        let allowed = Allowed {
            output: out.map(Path::to_path_buf),
        };
        let (problems, calls) = check_traces(&traces, &allowed);
        assert!(calls > 500, "{what}: only {calls} system calls traced");
        assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
        assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1, "{what}");
    }
}

fn json_or_text_report(o: &std::process::Output) -> bool {
    let out = stdout(o);
    out.contains("[PASS]") || out.contains("\"Controls\"")
}

#[test]
fn the_checker_catches_a_program_that_writes() {
    if !strace_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let script = format!(
        "echo x > {d}/f; mkdir {d}/sub; chmod 600 {d}/f; mv {d}/f {d}/g; ln -s g {d}/l; touch -d @0 {d}/g; truncate -s 0 {d}/g; rm {d}/g {d}/l; rmdir {d}/sub"
    );
    let traces = dir.path().join("traces");
    let o = traced("sh", &["-c", &script], &traces);
    assert!(o.status.success(), "{}", stderr(&o));
    let (problems, _) = check_traces(&traces, &Allowed { output: None });
    let all = problems.join("\n");
    for call in [
        "opened for writing",
        "mkdir",
        "chmod",
        "rename",
        "symlink",
        "utimensat",
        "truncate",
        "unlink",
        "rmdir",
        "wrote to a file",
    ] {
        assert!(all.contains(call), "{call} not caught in:\n{all}");
    }
}

#[test]
fn the_checker_reads_strace_lines_precisely() {
    let out = Allowed {
        output: Some(PathBuf::from("/out/report.json")),
    };
    let none = Allowed { output: None };
    let flagged = [
        r#"openat(AT_FDCWD</>, "/etc/x", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 3</etc/x>"#,
        r#"open("/etc/x", O_RDWR) = 3</etc/x>"#,
        r#"openat2(3</host>, "etc/x", {flags=O_RDONLY|O_CREAT, resolve=RESOLVE_IN_ROOT}, 24) = -1 EACCES (Permission denied)"#,
        r#"creat("/etc/x", 0644) = 3</etc/x>"#,
        r#"1234  unlinkat(AT_FDCWD</>, "/etc/x", 0) = 0"#,
        r#"renameat2(AT_FDCWD</>, "/out/.tmpAb12", AT_FDCWD</>, "/out/other.json", 0) = 0"#,
        r#"fchmod(3</etc/x>, 0600) = 0"#,
        r#"write(3</etc/kubernetes/admin.conf>, "x", 1) = 1"#,
        r#"mkdir("/tmp/x", 0777) = -1 EEXIST (File exists)"#,
    ];
    for line in flagged {
        assert!(check_line(line, &out).is_some(), "missed: {line}");
    }
    let fine = [
        r#"openat(AT_FDCWD</>, "/etc/O_CREAT|O_WRONLY", O_RDONLY|O_CLOEXEC) = 3</etc/O_CREAT|O_WRONLY>"#,
        r#"openat2(3</host>, "etc/passwd", {flags=O_RDONLY|O_CLOEXEC|O_NOCTTY|O_NONBLOCK, resolve=RESOLVE_NO_MAGICLINKS|RESOLVE_IN_ROOT}, 24) = 4</host/etc/passwd>"#,
        r#"openat(AT_FDCWD</>, "/out/.tmpAb12", O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = 3</out/.tmpAb12>"#,
        r#"write(3</out/.tmpAb12>, "{", 1) = 1"#,
        r#"rename("/out/.tmpAb12", "/out/report.json") = 0"#,
        r#"write(1<pipe:[123]>, "[INFO] 1", 8) = 8"#,
        r#"read(3</etc/x>, "", 8192) = 0"#,
        "+++ exited with 0 +++",
        "--- SIGCHLD {si_signo=SIGCHLD} ---",
    ];
    for line in fine {
        assert_eq!(check_line(line, &out), None, "flagged: {line}");
    }
    // Without --outputfile, the same temporary file is a write.
    assert!(check_line(fine[2], &none).is_some());
    assert!(check_line(fine[4], &none).is_some());
}
