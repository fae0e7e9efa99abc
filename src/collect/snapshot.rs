//! A node captured in a folder: `node.yaml` (host name, processes, file
//! modes and owners) beside `root/` (the node's files at their paths). Git
//! keeps neither owners nor most mode bits, so `node.yaml` holds them.

use super::host::{FileKind, FileStat, Host, Process, ProcessList, ReadError};
use super::rooted::RootedFs;
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
    /// Reading the file (or listing the directory) is refused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreadable: bool,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubelet_version: Option<String>,
    #[serde(default)]
    pub processes: Vec<SnapshotProcess>,
    #[serde(default)]
    pub defaults: SnapshotDefaults,
    #[serde(default)]
    pub files: BTreeMap<String, SnapshotMeta>,
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
        let text = std::fs::read_to_string(&node_path)
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

    fn check_readable(&self, path: &str) -> Result<(), ReadError> {
        let resolved = self.fs.resolve_userspace(path, true)?;
        if self.node.files.get(&resolved).is_some_and(|m| m.unreadable) {
            return Err(ReadError::PermissionDenied(format!(
                "{path}: marked unreadable in the snapshot"
            )));
        }
        Ok(())
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
            unreadable: 0,
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
        let real = self.fs.stat(path, follow)?;
        let node_path = self.fs.resolve_userspace(path, follow)?;
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
        self.check_readable(path)?;
        self.fs.read(path, limit)
    }

    fn list_dir(&self, path: &str) -> Result<Vec<String>, ReadError> {
        self.check_readable(path)?;
        self.fs.list_dir(path)
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

    fn kubelet_version(&self, _kubelet_argv0: Option<&str>) -> Option<(String, String)> {
        self.node.kubelet_version.clone().map(|v| {
            (
                v,
                format!("kubelet_version in {}", self.dir.join(NODE_FILE).display()),
            )
        })
    }
}
