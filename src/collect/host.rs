//! The `Host` trait: the only door to a node's processes and files. A live
//! implementation reads the machine under `--host-root`; a snapshot
//! implementation reads a captured node folder. Nothing outside `collect`
//! sees a path on the real filesystem.

use std::fmt;

/// Why a fact could not be gathered. `NotFound` means the subject does not
/// exist; every other variant means it may exist but could not be read, and
/// must never be treated as absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    PermissionDenied(String),
    TooLarge {
        limit: u64,
    },
    NotRegularFile(String),
    /// A symlink that points outside the host root.
    EscapesRoot(String),
    Other(String),
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::NotFound)
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("does not exist"),
            ReadError::PermissionDenied(m) => write!(f, "permission denied ({m})"),
            ReadError::TooLarge { limit } => {
                write!(f, "is larger than the {limit}-byte read limit")
            }
            ReadError::NotRegularFile(kind) => write!(f, "is not a regular file ({kind})"),
            ReadError::EscapesRoot(m) => write!(f, "resolves outside the host root ({m})"),
            ReadError::Other(m) => f.write_str(m),
        }
    }
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::NotFound => ReadError::NotFound,
            std::io::ErrorKind::PermissionDenied => ReadError::PermissionDenied(e.to_string()),
            _ => match e.raw_os_error() {
                Some(libc_enotdir) if libc_enotdir == nix::libc::ENOTDIR => ReadError::NotFound,
                Some(code) if code == nix::libc::EXDEV => {
                    ReadError::EscapesRoot("a symlink leads out of the root".to_string())
                }
                Some(code) if code == nix::libc::ELOOP => {
                    ReadError::Other("too many levels of symbolic links".to_string())
                }
                _ => ReadError::Other(e.to_string()),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    Other,
}

/// What `stat` says about a path on the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    pub kind: FileKind,
    /// Permission bits only (`0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
}

/// One process as its command line shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    pub argv: Vec<String>,
}

/// Result of listing processes: the ones read, and how many could not be.
#[derive(Debug, Clone, Default)]
pub struct ProcessList {
    pub processes: Vec<Process>,
    pub unreadable: usize,
}

pub trait Host {
    /// "the live node under /host", "snapshot tests/fixtures/...".
    fn describe(&self) -> String;
    /// Every process with a non-empty command line, read once.
    fn processes(&self) -> Result<ProcessList, String>;
    /// The environment of a process.
    fn environ(&self, pid: u32) -> Result<Vec<(String, String)>, ReadError>;
    /// `stat` (following symlinks inside the root) or `lstat`.
    fn stat(&self, path: &str, follow: bool) -> Result<FileStat, ReadError>;
    /// A regular file's bytes, up to `limit`; larger files are an error.
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError>;
    /// Names in a directory, sorted.
    fn list_dir(&self, path: &str) -> Result<Vec<String>, ReadError>;
    /// A regular file as process `pid` sees it, from its own root (a
    /// container's filesystem), up to `limit` bytes. `NotFound` where the
    /// host cannot see processes' own filesystems.
    fn read_as_process(&self, pid: u32, path: &str, limit: u64) -> Result<Vec<u8>, ReadError>;
    /// The node's host name, when known.
    fn hostname(&self) -> Option<String>;
    /// What `<binary> --version` prints (the binary at `path` on the node),
    /// or what a snapshot recorded for it.
    fn binary_version(&self, path: &str) -> Result<String, String>;
    /// Lines of the systemd journal of `units` whose message contains
    /// `marker`, oldest first (the last few only).
    fn journal_lines(&self, units: &[String], marker: &str) -> Result<Vec<String>, String>;
}
