//! The live node: files under `--host-root` (through `RootedFs`) and
//! processes from the host's `/proc` (the one under the host root when it is
//! mounted there, else this container's own, which is the host's with
//! `hostPID: true`).

use super::host::{FileStat, Host, Process, ProcessList, ReadError};
use super::rooted::RootedFs;
use std::path::{Path, PathBuf};

/// Longest command line read; the kernel's own limit for argv is far above
/// anything a component uses, but a hostile process must not cost memory.
const MAX_CMDLINE_BYTES: u64 = 1024 * 1024;

pub struct LiveHost {
    fs: RootedFs,
    proc_dir: PathBuf,
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
        let under_root = host_root.join("proc");
        let proc_dir = if under_root.join("self").exists() {
            under_root
        } else {
            PathBuf::from("/proc")
        };
        Ok(LiveHost { fs, proc_dir })
    }

    pub fn proc_dir(&self) -> &Path {
        &self.proc_dir
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

/// The arguments of a raw `/proc/<pid>/cmdline` as text; bytes that are not
/// UTF-8 are replaced, each argument on its own.
pub fn split_cmdline(raw: &[u8]) -> Vec<String> {
    cmdline_args(raw)
        .into_iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

fn read_cmdline(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_CMDLINE_BYTES)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

impl Host for LiveHost {
    fn describe(&self) -> String {
        format!(
            "the live node under {} (processes from {})",
            self.fs.root().display(),
            self.proc_dir.display()
        )
    }

    fn processes(&self) -> Result<ProcessList, String> {
        let iter = procfs::process::all_processes_with_root(&self.proc_dir)
            .map_err(|e| format!("cannot list processes in {}: {e}", self.proc_dir.display()))?;
        let mut list = ProcessList::default();
        for entry in iter {
            let Ok(proc_) = entry else {
                list.unreadable += 1;
                continue;
            };
            let pid = proc_.pid() as u32;
            match read_cmdline(&self.proc_dir.join(pid.to_string()).join("cmdline")) {
                Ok(raw) => {
                    let argv = split_cmdline(&raw);
                    if !argv.is_empty() {
                        list.processes.push(Process { pid, argv });
                    }
                }
                // The process ended between listing and reading: skip it.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) if e.raw_os_error() == Some(nix::libc::ESRCH) => {}
                Err(_) => list.unreadable += 1,
            }
        }
        list.processes.sort_by_key(|p| p.pid);
        Ok(list)
    }

    fn environ(&self, pid: u32) -> Result<Vec<(String, String)>, ReadError> {
        let proc_ = procfs::process::Process::new_with_root(self.proc_dir.join(pid.to_string()))
            .map_err(|e| ReadError::Other(e.to_string()))?;
        match proc_.environ() {
            Ok(map) => {
                let mut vars: Vec<(String, String)> = map
                    .into_iter()
                    .map(|(k, v)| {
                        (
                            k.to_string_lossy().into_owned(),
                            v.to_string_lossy().into_owned(),
                        )
                    })
                    .collect();
                vars.sort();
                Ok(vars)
            }
            Err(procfs::ProcError::PermissionDenied(_)) => Err(ReadError::PermissionDenied(
                format!("/proc/{pid}/environ needs root or CAP_SYS_PTRACE"),
            )),
            Err(procfs::ProcError::NotFound(_)) => {
                Err(ReadError::Other(format!("process {pid} has ended")))
            }
            Err(e) => Err(ReadError::Other(e.to_string())),
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
            let Ok(resolved) = self.fs.resolve_userspace(&cand, true) else {
                continue;
            };
            let full = self.fs.root().join(resolved.trim_start_matches('/'));
            if !full.is_file() {
                continue;
            }
            if let Some(v) = run_version(&full) {
                return Some((v, format!("`{} --version`", cand)));
            }
        }
        None
    }
}

fn run_version(binary: &Path) -> Option<String> {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let mut child = Command::new(binary)
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
    let mut out = String::new();
    use std::io::Read;
    child
        .stdout
        .take()?
        .take(4096)
        .read_to_string(&mut out)
        .ok()?;
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
        assert_eq!(split_cmdline(b"a\xff\0"), vec!["a\u{fffd}"]);
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
                    prop_assert_eq!(t, &String::from_utf8_lossy(a));
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
