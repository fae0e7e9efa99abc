//! A node captured in a folder: `node.yaml` (host name, processes, file
//! modes and owners) beside `root/` (the node's files at their paths). Git
//! keeps neither owners nor most mode bits, so `node.yaml` holds them.

use super::host::{FileKind, FileStat, Host, Process, ProcessList, ReadError};
use super::rooted::RootedFs;
use super::shell::{ShellError, ShellRun, ShellRunner, ShellStatus};
use crate::yaml;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Name of the description file in a snapshot folder.
pub const NODE_FILE: &str = "node.yaml";
/// Name of the folder holding the node's files.
pub const ROOT_DIR: &str = "root";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SnapshotMeta {
    /// Octal permission bits, e.g. "0600".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// Reading the file is refused; for a directory, listing it and reaching
    /// anything below it are refused (as a directory without search
    /// permission). `false` on an entry overrides a default of `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SnapshotProcess {
    pub pid: u32,
    pub cmdline: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environ: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SnapshotDefaults {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<SnapshotMeta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<SnapshotMeta>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SnapshotNode {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// What `<binary> --version` printed, by the binary's path on the node.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub versions: BTreeMap<String, String>,
    /// Systemd journal messages by unit, oldest first; absent when the
    /// journal was not captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    pub processes: Vec<SnapshotProcess>,
    /// Processes that exist but whose command line could not be read.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unreadable_processes: usize,
    #[serde(default)]
    pub defaults: SnapshotDefaults,
    #[serde(default)]
    pub files: BTreeMap<String, SnapshotMeta>,
    /// Outputs of shell audits, keyed by the command as run (after
    /// variable substitution, trimmed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub shell: BTreeMap<String, SnapshotShellRun>,
}

/// A shell audit's recorded result.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SnapshotShellRun {
    #[serde(default)]
    pub output: String,
    #[serde(default)]
    pub exit_code: i32,
}

/// Largest `node.yaml` read, far above what a node with thousands of
/// processes needs.
const MAX_NODE_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// `node.yaml`: a regular file (a FIFO must not hang the run), bounded,
/// UTF-8.
fn read_node_file(path: &Path) -> Result<String, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("is not a regular file".to_string());
    }
    let mut buf = Vec::new();
    file.take(MAX_NODE_FILE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if buf.len() as u64 > MAX_NODE_FILE_BYTES {
        return Err(format!("is larger than {MAX_NODE_FILE_BYTES} bytes"));
    }
    String::from_utf8(buf).map_err(|_| "is not UTF-8 text".to_string())
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

pub struct SnapshotHost {
    dir: PathBuf,
    fs: RootedFs,
    node: SnapshotNode,
    modes: BTreeMap<String, u32>,
}

fn parse_mode(text: &str) -> Option<u32> {
    u32::from_str_radix(text.trim(), 8)
        .ok()
        .filter(|m| *m <= 0o7777)
}

impl SnapshotHost {
    pub fn open(dir: &Path) -> Result<SnapshotHost, String> {
        let node_path = dir.join(NODE_FILE);
        let text = read_node_file(&node_path)
            .map_err(|e| format!("snapshot {}: {e}", node_path.display()))?;
        SnapshotHost::with_node_text(dir, &text)
    }

    /// The snapshot in `dir` described by `text` instead of its `node.yaml`
    /// (errors still name `dir/node.yaml`). `dir` must hold `root/`.
    pub fn with_node_text(dir: &Path, text: &str) -> Result<SnapshotHost, String> {
        let node_path = dir.join(NODE_FILE);
        let node: SnapshotNode = yaml::from_str(text).map_err(|e| match e.line {
            Some(line) => format!("{}:{line}: {}", node_path.display(), e.message),
            None => format!("{}: {}", node_path.display(), e.message),
        })?;
        let mut modes = BTreeMap::new();
        let all_meta = node
            .files
            .iter()
            .map(|(p, m)| (p.clone(), m))
            .chain(
                node.defaults
                    .file
                    .iter()
                    .map(|m| ("defaults.file".to_string(), m)),
            )
            .chain(
                node.defaults
                    .dir
                    .iter()
                    .map(|m| ("defaults.dir".to_string(), m)),
            );
        for (path, meta) in all_meta {
            if let Some(m) = &meta.mode {
                let mode = parse_mode(m).ok_or_else(|| {
                    format!(
                        "{}: {path}: mode {m:?} is not an octal permission",
                        node_path.display()
                    )
                })?;
                modes.insert(path, mode);
            }
        }
        let root = dir.join(ROOT_DIR);
        let fs = RootedFs::open(&root).map_err(|e| format!("snapshot root: {e}"))?;
        Ok(SnapshotHost {
            dir: dir.to_path_buf(),
            fs,
            node,
            modes,
        })
    }

    fn meta_for(&self, node_path: &str, kind: FileKind) -> (Option<&SnapshotMeta>, u32, u32, u32) {
        let (default_key, default_mode) = match kind {
            FileKind::Dir => ("defaults.dir", 0o755),
            _ => ("defaults.file", 0o644),
        };
        let default = match kind {
            FileKind::Dir => self.node.defaults.dir.as_ref(),
            _ => self.node.defaults.file.as_ref(),
        };
        let entry = self.node.files.get(node_path);
        let mode = self
            .modes
            .get(node_path)
            .or_else(|| self.modes.get(default_key))
            .copied()
            .unwrap_or(default_mode);
        let uid = entry
            .and_then(|e| e.uid)
            .or(default.and_then(|d| d.uid))
            .unwrap_or(0);
        let gid = entry
            .and_then(|e| e.gid)
            .or(default.and_then(|d| d.gid))
            .unwrap_or(0);
        (entry, mode, uid, gid)
    }

    /// Whether the snapshot marks the file or directory at `node_path`
    /// (already resolved) unreadable.
    fn marked_unreadable(&self, node_path: &str, kind: FileKind) -> bool {
        let default = match kind {
            FileKind::Dir => self.node.defaults.dir.as_ref(),
            _ => self.node.defaults.file.as_ref(),
        };
        self.node
            .files
            .get(node_path)
            .and_then(|m| m.unreadable)
            .or(default.and_then(|d| d.unreadable))
            .unwrap_or(false)
    }

    /// Refuse access to `path` when a directory above it is marked
    /// unreadable, as the kernel refuses a path through a directory without
    /// search permission, whether or not the rest of the path exists.
    fn check_reachable(&self, path: &str) -> Result<(), ReadError> {
        let any_dir_marked = self.node.files.values().any(|m| m.unreadable == Some(true))
            || self
                .node
                .defaults
                .dir
                .as_ref()
                .is_some_and(|d| d.unreadable == Some(true));
        if !any_dir_marked {
            return Ok(());
        }
        let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        for depth in 0..parts.len() {
            let prefix = format!("/{}", parts[..depth].join("/"));
            let Ok(resolved) = self.fs.resolve(&prefix, true) else {
                break;
            };
            let is_dir = self
                .fs
                .stat(&prefix, true)
                .is_ok_and(|st| st.kind == FileKind::Dir);
            if is_dir && self.marked_unreadable(&resolved, FileKind::Dir) {
                return Err(ReadError::PermissionDenied(format!(
                    "directory {resolved} is marked unreadable in the snapshot"
                )));
            }
        }
        Ok(())
    }

    /// Refuse reading `path` itself when the snapshot marks it unreadable.
    fn check_readable(&self, path: &str, kind: FileKind) -> Result<(), ReadError> {
        self.check_reachable(path)?;
        let resolved = self.fs.resolve(path, true)?;
        if self.marked_unreadable(&resolved, kind) {
            return Err(ReadError::PermissionDenied(format!(
                "{path}: marked unreadable in the snapshot"
            )));
        }
        Ok(())
    }
}

impl ShellRunner for SnapshotHost {
    fn run(&self, script: &str) -> Result<ShellRun, ShellError> {
        let recorded = self.node.shell.get(script).ok_or(ShellError::NotRecorded)?;
        Ok(ShellRun {
            output: recorded.output.clone(),
            status: ShellStatus::Exited(recorded.exit_code),
        })
    }
}

impl Host for SnapshotHost {
    fn describe(&self) -> String {
        format!("the snapshot in {}", self.dir.display())
    }

    fn processes(&self) -> Result<ProcessList, String> {
        let mut processes: Vec<Process> = self
            .node
            .processes
            .iter()
            .filter(|p| !p.cmdline.is_empty())
            .map(|p| Process {
                pid: p.pid,
                argv: p.cmdline.clone(),
            })
            .collect();
        processes.sort_by_key(|p| p.pid);
        Ok(ProcessList {
            processes,
            unreadable: self.node.unreadable_processes,
        })
    }

    fn environ(&self, pid: u32) -> Result<Vec<(String, String)>, ReadError> {
        let p = self
            .node
            .processes
            .iter()
            .find(|p| p.pid == pid)
            .ok_or_else(|| ReadError::Other(format!("process {pid} has ended")))?;
        match &p.environ {
            Some(env) => Ok(env.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            None => Err(ReadError::PermissionDenied(format!(
                "the snapshot did not record the environment of process {pid}"
            ))),
        }
    }

    fn stat(&self, path: &str, follow: bool) -> Result<FileStat, ReadError> {
        self.check_reachable(path)?;
        let real = self.fs.stat(path, follow)?;
        let node_path = self.fs.resolve(path, follow)?;
        if real.kind == FileKind::Symlink {
            return Ok(FileStat {
                mode: 0o777,
                ..real
            });
        }
        let (_, mode, uid, gid) = self.meta_for(&node_path, real.kind);
        Ok(FileStat {
            mode,
            uid,
            gid,
            ..real
        })
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        self.check_readable(path, FileKind::File)?;
        self.fs.read(path, limit)
    }

    fn list_dir(&self, path: &str) -> Result<Vec<String>, ReadError> {
        self.check_readable(path, FileKind::Dir)?;
        self.fs.list_dir(path)
    }

    fn read_as_process(&self, _pid: u32, _path: &str, _limit: u64) -> Result<Vec<u8>, ReadError> {
        // A snapshot holds the node's files, not its processes' own.
        Err(ReadError::NotFound)
    }

    fn hostname(&self) -> Option<String> {
        self.node.hostname.clone().or_else(|| {
            self.fs
                .read("/etc/hostname", 4096)
                .ok()
                .map(|b| String::from_utf8_lossy(&b).trim().to_string())
                .filter(|s| !s.is_empty())
        })
    }

    fn binary_version(&self, path: &str) -> Result<String, String> {
        self.node.versions.get(path).cloned().ok_or_else(|| {
            format!(
                "{} records no version for {path}",
                self.dir.join(NODE_FILE).display()
            )
        })
    }

    fn journal_lines(&self, units: &[String], marker: &str) -> Result<Vec<String>, String> {
        let journal =
            self.node.journal.as_ref().ok_or_else(|| {
                format!("{} holds no journal", self.dir.join(NODE_FILE).display())
            })?;
        Ok(units
            .iter()
            .filter_map(|u| journal.get(u))
            .flatten()
            .filter(|l| l.contains(marker))
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(node_yaml: &str) -> (tempfile::TempDir, SnapshotHost) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(ROOT_DIR);
        std::fs::create_dir_all(root.join("etc/kubernetes/pki")).unwrap();
        std::fs::write(root.join("etc/kubernetes/pki/ca.key"), "key").unwrap();
        std::fs::write(root.join("etc/kubernetes/admin.conf"), "conf").unwrap();
        std::fs::write(dir.path().join(NODE_FILE), node_yaml).unwrap();
        let host = SnapshotHost::open(dir.path()).unwrap();
        (dir, host)
    }

    fn denied<T: std::fmt::Debug>(r: Result<T, ReadError>) -> bool {
        matches!(r, Err(ReadError::PermissionDenied(_)))
    }

    #[test]
    fn a_node_file_that_is_not_a_regular_file_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(ROOT_DIR)).unwrap();
        nix::unistd::mkfifo(
            &dir.path().join(NODE_FILE),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        let err = SnapshotHost::open(dir.path()).err().unwrap();
        assert!(err.ends_with("node.yaml: is not a regular file"), "{err}");
    }

    #[test]
    fn an_unreadable_file_can_be_stat_but_not_read() {
        let (_d, host) = snapshot("files:\n  /etc/kubernetes/admin.conf: {unreadable: true}\n");
        assert!(host.stat("/etc/kubernetes/admin.conf", true).is_ok());
        assert!(denied(host.read("/etc/kubernetes/admin.conf", 100)));
        assert_eq!(
            host.read("/etc/kubernetes/pki/ca.key", 100).unwrap(),
            b"key"
        );
    }

    #[test]
    fn an_unreadable_directory_hides_everything_below_it() {
        let (_d, host) = snapshot("files:\n  /etc/kubernetes/pki: {unreadable: true}\n");
        assert!(denied(host.list_dir("/etc/kubernetes/pki")));
        assert!(denied(host.stat("/etc/kubernetes/pki/ca.key", true)));
        assert!(denied(host.read("/etc/kubernetes/pki/ca.key", 100)));
        // Absent or present cannot be told behind it.
        assert!(denied(host.stat("/etc/kubernetes/pki/nope.key", true)));
        assert!(host.stat("/etc/kubernetes/pki", true).is_ok());
        assert!(host.stat("/etc/kubernetes/admin.conf", true).is_ok());
    }

    #[test]
    fn defaults_mark_everything_and_entries_override_them() {
        let (_d, host) = snapshot(
            "defaults:\n  file: {unreadable: true}\n  dir: {unreadable: true}\nfiles:\n  /etc: {unreadable: false}\n",
        );
        assert!(denied(host.list_dir("/")));
        assert!(denied(host.stat("/etc/kubernetes/admin.conf", true)));
        assert!(denied(host.stat("/var/lib/nothing", true)));
        let (_d, host) = snapshot("defaults:\n  file: {unreadable: true}\n");
        assert!(host.stat("/etc/kubernetes/admin.conf", true).is_ok());
        assert!(denied(host.read("/etc/kubernetes/admin.conf", 100)));
        assert_eq!(
            host.list_dir("/etc/kubernetes").unwrap(),
            vec!["admin.conf", "pki"]
        );
    }
}
