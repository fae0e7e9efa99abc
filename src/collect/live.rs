//! The live node: files under `--host-root` (through `RootedFs`) and
//! processes from the host's `/proc` (the one under the host root when it is
//! mounted there, read through `RootedFs` like any node file, else this
//! container's own, which is the host's with `hostPID: true`).

use super::host::{FileStat, Host, Process, ProcessList, ReadError};
use super::node_text;
use super::rooted::RootedFs;
use nix::errno::Errno;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest command line or environment read; the kernel's own limit for
/// argv and envp is far above anything a component uses, but a hostile
/// process must not cost memory.
const MAX_CMDLINE_BYTES: u64 = 1024 * 1024;

/// Where the node's processes are read from.
enum ProcSource {
    /// `/proc` inside the host root, read like any node file.
    InRoot,
    /// This machine's own `/proc` (the host's with `hostPID: true`).
    Own(PathBuf),
}

pub struct LiveHost {
    fs: RootedFs,
    procs: ProcSource,
}

/// Why a `/proc/<pid>/` file could not be read.
enum ProcRead {
    /// The process ended between being listed and being read.
    Gone,
    Denied,
    Other(String),
}

impl LiveHost {
    pub fn new(host_root: &Path) -> Result<LiveHost, String> {
        let meta = std::fs::metadata(host_root)
            .map_err(|e| format!("host root {}: {e}", host_root.display()))?;
        if !meta.is_dir() {
            return Err(format!(
                "host root {} is not a directory",
                host_root.display()
            ));
        }
        let fs = RootedFs::open(host_root)?;
        let procs = if fs.stat("/proc/self", true).is_ok() {
            ProcSource::InRoot
        } else {
            ProcSource::Own(PathBuf::from("/proc"))
        };
        Ok(LiveHost { fs, procs })
    }

    fn proc_dir_text(&self) -> String {
        match &self.procs {
            ProcSource::InRoot => self.fs.root().join("proc").display().to_string(),
            ProcSource::Own(dir) => dir.display().to_string(),
        }
    }

    /// The pids in `/proc`, sorted.
    fn pids(&self) -> Result<Vec<u32>, String> {
        let names: Vec<String> = match &self.procs {
            ProcSource::InRoot => self.fs.list_dir("/proc").map_err(|e| e.to_string())?,
            ProcSource::Own(dir) => std::fs::read_dir(dir)
                .map_err(|e| e.to_string())?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
        };
        let mut pids: Vec<u32> = names.iter().filter_map(|n| n.parse().ok()).collect();
        pids.sort();
        Ok(pids)
    }

    /// `/proc/<pid>/<name>`, at most `MAX_CMDLINE_BYTES` of it.
    fn read_proc(&self, pid: u32, name: &str) -> Result<Vec<u8>, ProcRead> {
        match &self.procs {
            ProcSource::InRoot => self
                .fs
                .read(&format!("/proc/{pid}/{name}"), MAX_CMDLINE_BYTES)
                .map_err(|e| match e {
                    ReadError::NotFound => ProcRead::Gone,
                    ReadError::PermissionDenied(_) => ProcRead::Denied,
                    other => ProcRead::Other(other.to_string()),
                }),
            ProcSource::Own(dir) => {
                use std::io::Read;
                let path = dir.join(pid.to_string()).join(name);
                let mut buf = Vec::new();
                let read = std::fs::File::open(path)
                    .and_then(|f| f.take(MAX_CMDLINE_BYTES + 1).read_to_end(&mut buf));
                if buf.len() as u64 > MAX_CMDLINE_BYTES {
                    return Err(ProcRead::Other(
                        ReadError::TooLarge {
                            limit: MAX_CMDLINE_BYTES,
                        }
                        .to_string(),
                    ));
                }
                read.map(|_| buf).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::NotFound
                        || e.raw_os_error() == Some(nix::libc::ESRCH)
                    {
                        ProcRead::Gone
                    } else if e.kind() == std::io::ErrorKind::PermissionDenied {
                        ProcRead::Denied
                    } else {
                        ProcRead::Other(e.to_string())
                    }
                })
            }
        }
    }
}

/// The arguments of a raw `/proc/<pid>/cmdline`, byte for byte. The kernel
/// ends every argument with NUL, and empty arguments are real and kept; an
/// empty file (a kernel thread, a zombie) has none. A process that rewrote
/// its command line may leave out the final NUL: the last argument then runs
/// to the end.
pub fn cmdline_args(raw: &[u8]) -> Vec<&[u8]> {
    if raw.is_empty() {
        return Vec::new();
    }
    raw.strip_suffix(b"\0")
        .unwrap_or(raw)
        .split(|b| *b == 0)
        .collect()
}

/// The arguments of a raw `/proc/<pid>/cmdline` as text, each on its own;
/// bytes that are not UTF-8 are kept as `\xNN` escapes (see `node_text`).
pub fn split_cmdline(raw: &[u8]) -> Vec<String> {
    cmdline_args(raw)
        .into_iter()
        .map(|a| node_text::from_bytes(a).into_owned())
        .collect()
}

/// Split a raw `/proc/<pid>/environ` into `(name, value)` pairs, sorted.
/// An entry without `=` is a name with an empty value.
pub fn split_environ(raw: &[u8]) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = raw
        .split(|b| *b == 0)
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (name, value) = match e.iter().position(|b| *b == b'=') {
                Some(i) => (&e[..i], &e[i + 1..]),
                None => (e, &e[e.len()..]),
            };
            (
                node_text::from_bytes(name).into_owned(),
                node_text::from_bytes(value).into_owned(),
            )
        })
        .collect();
    vars.sort();
    vars
}

impl Host for LiveHost {
    fn describe(&self) -> String {
        format!(
            "the live node under {} (processes from {})",
            self.fs.root().display(),
            self.proc_dir_text()
        )
    }

    fn processes(&self) -> Result<ProcessList, String> {
        let pids = self
            .pids()
            .map_err(|e| format!("cannot list processes in {}: {e}", self.proc_dir_text()))?;
        let mut list = ProcessList::default();
        for pid in pids {
            match self.read_proc(pid, "cmdline") {
                Ok(raw) => {
                    let argv = split_cmdline(&raw);
                    if !argv.is_empty() {
                        list.processes.push(Process { pid, argv });
                    }
                }
                // Listed, then gone before it could be read: skip it.
                Err(ProcRead::Gone) => {}
                Err(_) => list.unreadable += 1,
            }
        }
        Ok(list)
    }

    fn environ(&self, pid: u32) -> Result<Vec<(String, String)>, ReadError> {
        // The kernel's ptrace read check: the same user *and* at least the
        // target's capabilities, or CAP_SYS_PTRACE. Root in a container
        // that dropped its capabilities is refused (docs/deploy.md).
        match self.read_proc(pid, "environ") {
            Ok(raw) => Ok(split_environ(&raw)),
            Err(ProcRead::Denied) => Err(ReadError::PermissionDenied(format!(
                "/proc/{pid}/environ needs CAP_SYS_PTRACE, or the process's own user and capabilities"
            ))),
            Err(ProcRead::Gone) => Err(ReadError::Other(format!("process {pid} has ended"))),
            Err(ProcRead::Other(e)) => Err(ReadError::Other(format!("/proc/{pid}/environ: {e}"))),
        }
    }

    fn stat(&self, path: &str, follow: bool) -> Result<FileStat, ReadError> {
        self.fs.stat(path, follow)
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        self.fs.read(path, limit)
    }

    fn list_dir(&self, path: &str) -> Result<Vec<String>, ReadError> {
        self.fs.list_dir(path)
    }

    fn read_as_process(&self, pid: u32, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        // /proc/<pid>/root is the process's root directory, in its own mount
        // namespace (proc(5)); paths resolve inside it as the process would
        // resolve them. The kernel allows it to a caller that may ptrace the
        // process: root with CAP_SYS_PTRACE when the target has capabilities
        // the caller lacks.
        let proc_dir = match &self.procs {
            ProcSource::InRoot => self.fs.root().join("proc"),
            ProcSource::Own(dir) => dir.clone(),
        };
        let root = proc_dir.join(pid.to_string()).join("root");
        let fs = RootedFs::open_dir(&root).map_err(|e| match e {
            Errno::ENOENT | Errno::ESRCH => ReadError::Other(format!("process {pid} has ended")),
            Errno::EACCES | Errno::EPERM => ReadError::PermissionDenied(format!(
                "{} needs root with CAP_SYS_PTRACE",
                root.display()
            )),
            other => ReadError::Other(format!("{}: {}", root.display(), other.desc())),
        })?;
        fs.read(path, limit)
    }

    fn hostname(&self) -> Option<String> {
        if let Ok(bytes) = self.fs.read("/etc/hostname", 4096) {
            let name = String::from_utf8_lossy(&bytes).trim().to_string();
            if !name.is_empty() {
                return Some(name);
            }
        }
        if self.fs.root() == Path::new("/") {
            return sysinfo::System::host_name();
        }
        None
    }

    fn binary_version(&self, path: &str) -> Result<String, String> {
        // Running a node binary with --version (version detection only) and
        // journalctl (k3s command lines) are the only processes kubecis
        // starts for the built-in cfg (a cfg with shell audits runs those
        // through `shell::LiveShell`); both are bounded in time and output.
        // The binary is opened inside the root and run through its
        // descriptor, so the path cannot be swapped for one outside the root
        // between the check and the exec.
        let binary = self
            .fs
            .open_regular_file(path)
            .map_err(|e| format!("{path} {e}"))?;
        // A copy without close-on-exec, so that an interpreted binary (a
        // script) can still be read by its interpreter through /proc/self/fd.
        let inheritable = nix::unistd::dup(binary.as_raw_fd())
            .map(|fd| {
                // SAFETY: `dup` returned a fresh descriptor that nothing else owns.
                unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }
            })
            .map_err(|e| format!("{path}: {}", e.desc()))?;
        let mut cmd = Command::new(format!("/proc/self/fd/{}", inheritable.as_raw_fd()));
        cmd.arg("--version").env_clear();
        let out = run_bounded(cmd, Duration::from_secs(2), |_| true)
            .map_err(|e| format!("`{path} --version`: {e}"))?;
        drop(inheritable);
        Ok(out.join("\n"))
    }

    fn journal_lines(&self, units: &[String], marker: &str) -> Result<Vec<String>, String> {
        let mut cmd = Command::new("journalctl");
        cmd.args(["--no-pager", "--merge", "--output=cat", "--quiet"]);
        if self.fs.root() != Path::new("/") {
            cmd.arg(format!("--root={}", self.fs.root().display()));
        }
        for u in units {
            cmd.arg(format!("--unit={u}"));
        }
        let mut lines = run_bounded(cmd, Duration::from_secs(30), |l| l.contains(marker))
            .map_err(|e| format!("journalctl: {e}"))?;
        let keep = lines.len().saturating_sub(MAX_KEPT_LINES);
        lines.drain(..keep);
        Ok(lines)
    }
}

/// Matching output lines kept per command: only the last matters.
const MAX_KEPT_LINES: usize = 16;
/// Output lines read from a command at most (a journal can be huge).
const MAX_COMMAND_LINES: usize = 5_000_000;
/// A longer output line is cut here.
const MAX_LINE_BYTES: u64 = 1 << 20;

/// Run a command with a deadline, keeping the last stdout lines `keep`
/// accepts.
fn run_bounded(
    mut cmd: Command,
    limit: Duration,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<String>, String> {
    use std::os::unix::process::CommandExt;
    // Its own process group, so the deadline ends everything it started
    // (a child holding the output pipe open would otherwise stall the read).
    let mut child = cmd
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdout = child.stdout.take().ok_or("no output pipe")?;
    let started = Instant::now();
    let pid = child.id();
    // A watchdog kills the child at the deadline, so a hung command cannot
    // stall the read loop below.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit).is_err() {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    });
    let mut kept: Vec<String> = Vec::new();
    let mut reader = BufReader::new(stdout);
    let mut buf = Vec::new();
    let mut read_error = None;
    for _ in 0..MAX_COMMAND_LINES {
        buf.clear();
        match (&mut reader)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut buf)
        {
            Ok(0) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf);
                let line = line.trim_end_matches('\n');
                if keep(line) {
                    kept.push(line.to_string());
                    if kept.len() > 4 * MAX_KEPT_LINES {
                        kept.drain(..kept.len() - MAX_KEPT_LINES);
                    }
                }
            }
            Err(e) => {
                read_error = Some(e.to_string());
                break;
            }
        }
    }
    drop(reader);
    let status = child.wait().map_err(|e| e.to_string());
    let _ = done_tx.send(());
    let _ = watchdog.join();
    if started.elapsed() >= limit {
        return Err(format!("did not finish within {} s", limit.as_secs()));
    }
    if let Some(e) = read_error {
        return Err(e);
    }
    match status? {
        s if s.success() => Ok(kept),
        s => Err(format!("exited with {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline_splitting_keeps_empty_arguments() {
        assert_eq!(
            split_cmdline(b"kubelet\0--a=1\0\0--b\0"),
            vec!["kubelet", "--a=1", "", "--b"]
        );
        assert_eq!(split_cmdline(b""), Vec::<String>::new());
        assert_eq!(split_cmdline(b"x"), vec!["x"]);
        assert_eq!(split_cmdline(b"a\xff\0"), vec!["a\\xff"]);
        // One empty argument is not the same as none.
        assert_eq!(split_cmdline(b"\0"), vec![""]);
    }

    #[test]
    fn cmdline_args_keep_every_byte() {
        let raw = b"etcd\0--name=\xff\xfe\0\0--x\0";
        assert_eq!(
            cmdline_args(raw),
            vec![&b"etcd"[..], b"--name=\xff\xfe", b"", b"--x"]
        );
        // A rewritten command line without the final NUL.
        assert_eq!(cmdline_args(b"a\0b"), vec![&b"a"[..], b"b"]);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// Arguments of random bytes other than NUL, most not UTF-8.
        fn args() -> impl Strategy<Value = Vec<Vec<u8>>> {
            prop::collection::vec(prop::collection::vec(1u8..=255, 0..8), 1..6)
        }

        fn as_kernel_writes(args: &[Vec<u8>]) -> Vec<u8> {
            args.iter()
                .flat_map(|a| a.iter().copied().chain([0]))
                .collect()
        }

        proptest! {
            #[test]
            fn splitting_gives_back_every_argument_byte_for_byte(args in args()) {
                let raw = as_kernel_writes(&args);
                let split: Vec<Vec<u8>> = cmdline_args(&raw).into_iter().map(<[u8]>::to_vec).collect();
                prop_assert_eq!(&split, &args);
                // Without the final NUL (a rewritten command line) too.
                if args.last().is_some_and(|a| !a.is_empty()) {
                    let split: Vec<Vec<u8>> = cmdline_args(&raw[..raw.len() - 1]).into_iter().map(<[u8]>::to_vec).collect();
                    prop_assert_eq!(&split, &args);
                }
                // The text form decodes each argument on its own.
                let text = split_cmdline(&raw);
                prop_assert_eq!(text.len(), args.len());
                for (t, a) in text.iter().zip(&args) {
                    prop_assert_eq!(t, &node_text::from_bytes(a));
                }
            }

            #[test]
            fn splitting_any_bytes_loses_nothing(raw in prop::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..24)) {
                let args = cmdline_args(&raw);
                let mut joined = args.join(&0u8);
                if !args.is_empty() && raw.ends_with(&[0]) {
                    joined.push(0);
                }
                prop_assert_eq!(joined, raw);
            }
        }
    }

    #[test]
    fn environ_splitting_keeps_every_byte() {
        assert_eq!(
            split_environ(b"B=2\0A=x=y\0EMPTY=\0NOVALUE\0BAD=\xfe\0"),
            vec![
                ("A".to_string(), "x=y".to_string()),
                ("B".to_string(), "2".to_string()),
                ("BAD".to_string(), "\\xfe".to_string()),
                ("EMPTY".to_string(), String::new()),
                ("NOVALUE".to_string(), String::new()),
            ]
        );
    }

    fn sh(script: &str) -> Command {
        let mut c = Command::new("/bin/sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn bounded_commands_keep_matching_lines_and_fail_loudly() {
        let out = run_bounded(
            sh("echo 'Running kubelet --a=1'; echo other; echo 'Running kubelet --a=2'"),
            Duration::from_secs(5),
            |l| l.contains("Running kubelet"),
        )
        .unwrap();
        assert_eq!(out, vec!["Running kubelet --a=1", "Running kubelet --a=2"]);
        let err = run_bounded(sh("echo x; exit 3"), Duration::from_secs(5), |_| true).unwrap_err();
        assert!(err.contains("exit status: 3"), "{err}");
        let started = Instant::now();
        let err = run_bounded(sh("sleep 20"), Duration::from_millis(300), |_| true).unwrap_err();
        assert!(err.contains("did not finish"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let err = run_bounded(
            Command::new("/nonexistent/journalctl"),
            Duration::from_secs(1),
            |_| true,
        )
        .unwrap_err();
        assert!(err.contains("No such file"), "{err}");
    }

    #[test]
    fn only_the_last_matching_lines_are_kept() {
        let out = run_bounded(
            sh("i=0; while [ $i -lt 200 ]; do echo \"m $i\"; i=$((i+1)); done"),
            Duration::from_secs(5),
            |l| l.starts_with('m'),
        )
        .unwrap();
        assert!(out.len() <= 4 * MAX_KEPT_LINES, "{}", out.len());
        assert_eq!(out.last().map(String::as_str), Some("m 199"));
    }

    #[test]
    fn reads_a_file_as_a_process_sees_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.conf");
        std::fs::write(&file, "metricsBindAddress: 127.0.0.1:10249\n").unwrap();
        let host = LiveHost::new(Path::new("/")).unwrap();
        // This process's own root is /, so its view of the file is the file.
        let me = std::process::id();
        assert_eq!(
            host.read_as_process(me, file.to_str().unwrap(), 1024)
                .unwrap(),
            b"metricsBindAddress: 127.0.0.1:10249\n"
        );
        assert_eq!(
            host.read_as_process(me, "/no/such/file", 1024),
            Err(ReadError::NotFound)
        );
        // PID 0 never has a /proc entry: a process that has ended.
        assert!(matches!(
            host.read_as_process(0, file.to_str().unwrap(), 1024),
            Err(ReadError::Other(m)) if m.contains("has ended")
        ));
    }

    #[test]
    fn lists_this_test_process() {
        let host = LiveHost::new(Path::new("/")).unwrap();
        let list = host.processes().unwrap();
        let me = std::process::id();
        assert!(
            list.processes.iter().any(|p| p.pid == me),
            "own pid {me} not listed"
        );
    }
}
