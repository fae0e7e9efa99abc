//! The live node: files under `--host-root` (through `RootedFs`) and
//! processes from the host's `/proc` (the one under the host root when it is
//! mounted there, read through `RootedFs` like any node file, else this
//! container's own, which is the host's with `hostPID: true`).

use super::host::{FileStat, Host, Process, ProcessList, ReadError};
use super::node_text;
use super::rooted::RootedFs;
use std::path::{Path, PathBuf};

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

/// Split a raw `/proc/<pid>/cmdline` into arguments. The kernel separates
/// arguments with NUL and ends the last one with NUL; empty arguments in
/// the middle are real and kept. Bytes that are not UTF-8 are kept as
/// `\xNN` escapes (see `node_text`).
pub fn split_cmdline(raw: &[u8]) -> Vec<String> {
    let trimmed = raw.strip_suffix(b"\0").unwrap_or(raw);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed
        .split(|b| *b == 0)
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
        match self.read_proc(pid, "environ") {
            Ok(raw) => Ok(split_environ(&raw)),
            Err(ProcRead::Denied) => Err(ReadError::PermissionDenied(format!(
                "/proc/{pid}/environ needs root or CAP_SYS_PTRACE"
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

    fn kubelet_version(&self, kubelet_argv0: Option<&str>) -> Option<(String, String)> {
        // Running the node's own kubelet binary with --version is the one
        // place kubecis starts a process; it is confined to the host root's
        // binary, bounded in time, and only used for version detection.
        let candidates: Vec<String> = kubelet_argv0
            .filter(|p| p.starts_with('/'))
            .map(str::to_string)
            .into_iter()
            .chain(["/usr/bin/kubelet", "/usr/local/bin/kubelet"].map(String::from))
            .collect();
        for cand in candidates {
            // The binary is opened inside the root and run through its
            // descriptor, so the path cannot be swapped for one outside the
            // root between the check and the exec.
            let Ok(binary) = self.fs.open_regular_file(&cand) else {
                continue;
            };
            if let Some(v) = run_version(&binary) {
                return Some((v, format!("`{} --version`", cand)));
            }
        }
        None
    }
}

/// `<binary> --version`, bounded to two seconds and 4 KiB of output.
fn run_version(binary: &std::os::fd::OwnedFd) -> Option<String> {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let mut child = Command::new(format!("/proc/self/fd/{}", binary.as_raw_fd()))
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env_clear()
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    // Read what is in the pipe without waiting for EOF: a process the
    // binary left behind could hold the pipe open forever.
    let stdout = child.stdout.take()?;
    let flags = nix::fcntl::fcntl(stdout.as_raw_fd(), nix::fcntl::FcntlArg::F_GETFL).ok()?;
    let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(stdout.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFL(flags)).ok()?;
    let mut out = Vec::new();
    let _ = stdout.take(4096).read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out);
    // "Kubernetes v1.29.0"
    out.split_whitespace()
        .find(|w| w.starts_with('v') && w[1..].starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
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
