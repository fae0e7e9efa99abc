//! File access confined to a root directory, resolving every path (symlinks,
//! `..`, absolute link targets) the way the node would from its own `/`.
//! Uses the kernel's `openat2(RESOLVE_IN_ROOT)` and falls back to resolving
//! components in user space, with the same rules, when the kernel or a
//! seccomp profile refuses `openat2`. Opens are read-only and non-blocking.

use super::host::{FileKind, FileStat, ReadError};
use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstat, SFlag};
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Symlinks followed in one resolution before giving up, as Linux does.
const MAX_SYMLINKS: usize = 40;

#[derive(Debug)]
pub struct RootedFs {
    root: PathBuf,
    root_fd: OwnedFd,
    /// Cleared the first time the kernel refuses openat2.
    use_openat2: AtomicBool,
}

fn errno_to_read_error(e: Errno, path: &str) -> ReadError {
    match e {
        Errno::ENOENT | Errno::ENOTDIR => ReadError::NotFound,
        Errno::EACCES | Errno::EPERM => ReadError::PermissionDenied(e.desc().to_string()),
        Errno::EXDEV => ReadError::EscapesRoot(format!("a symlink in {path} points outside it")),
        Errno::ELOOP => ReadError::Other("too many levels of symbolic links".to_string()),
        other => ReadError::Other(other.desc().to_string()),
    }
}

impl RootedFs {
    pub fn open(root: &Path) -> Result<RootedFs, String> {
        RootedFs::open_dir(root).map_err(|e| format!("{}: {}", root.display(), e.desc()))
    }

    /// `open`, keeping the errno so callers can tell why it failed.
    pub fn open_dir(root: &Path) -> Result<RootedFs, Errno> {
        let fd = nix::fcntl::open(
            root,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )?;
        // SAFETY: `open` returned a fresh descriptor that nothing else owns.
        let root_fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(RootedFs {
            root: root.to_path_buf(),
            root_fd,
            use_openat2: AtomicBool::new(true),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Open `path` (as the node names it) with `flags`, never leaving the root.
    fn open_in_root(
        &self,
        path: &str,
        flags: OFlag,
        follow_last: bool,
    ) -> Result<OwnedFd, ReadError> {
        let rel = path.trim_start_matches('/');
        let rel = if rel.is_empty() { "." } else { rel };
        // openat2 refuses O_PATH combined with anything but these.
        let mut flags = if flags.contains(OFlag::O_PATH) {
            flags | OFlag::O_CLOEXEC
        } else {
            flags | OFlag::O_CLOEXEC | OFlag::O_NOCTTY
        };
        if !follow_last {
            flags |= OFlag::O_NOFOLLOW;
        }
        if self.use_openat2.load(Ordering::Relaxed) {
            let how = OpenHow::new()
                .flags(flags)
                .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
            match nix::fcntl::openat2(self.root_fd.as_raw_fd(), rel, how) {
                // SAFETY: openat2 returned a fresh descriptor.
                Ok(fd) => return Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
                Err(Errno::ENOSYS) | Err(Errno::EPERM) if !self.looks_denied(rel) => {
                    self.use_openat2.store(false, Ordering::Relaxed);
                }
                Err(e) => return Err(errno_to_read_error(e, path)),
            }
        }
        // Every symlink is resolved above, so the final open must not follow
        // one (a link swapped in since would be refused, not followed).
        let resolved = self.resolve_userspace(path, follow_last)?;
        let full = self.root.join(resolved.trim_start_matches('/'));
        nix::fcntl::open(
            &full,
            flags | OFlag::O_NOFOLLOW,
            nix::sys::stat::Mode::empty(),
        )
        // SAFETY: open returned a fresh descriptor.
        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
        .map_err(|e| errno_to_read_error(e, path))
    }

    /// EPERM from openat2 can be a seccomp refusal or a real permission
    /// problem; a real one shows up on a plain open of the same path too.
    fn looks_denied(&self, rel: &str) -> bool {
        let full = self.root.join(rel);
        matches!(
            nix::fcntl::open(
                &full,
                OFlag::O_PATH | OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty()
            ),
            Err(Errno::EPERM) | Err(Errno::EACCES)
        )
    }

    /// Resolve `path` component by component inside the root: `..` stops at
    /// the root, absolute symlink targets restart at the root.
    pub fn resolve_userspace(&self, path: &str, follow_last: bool) -> Result<String, ReadError> {
        let mut pending: Vec<String> = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .map(str::to_string)
            .rev()
            .collect();
        let mut done: Vec<String> = Vec::new();
        let mut links = 0;
        while let Some(comp) = pending.pop() {
            if comp == ".." {
                done.pop();
                continue;
            }
            let candidate = format!(
                "/{}",
                [done.join("/"), comp.clone()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("/")
            );
            let full = self.root.join(candidate.trim_start_matches('/'));
            let is_last = pending.is_empty();
            match std::fs::symlink_metadata(&full) {
                Ok(m) if m.file_type().is_symlink() && (follow_last || !is_last) => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(ReadError::Other(
                            "too many levels of symbolic links".to_string(),
                        ));
                    }
                    let target = std::fs::read_link(&full).map_err(ReadError::from)?;
                    let target = target.to_string_lossy().to_string();
                    if target.starts_with('/') {
                        done.clear();
                    }
                    for c in target
                        .split('/')
                        .filter(|c| !c.is_empty() && *c != ".")
                        .rev()
                    {
                        pending.push(c.to_string());
                    }
                }
                Ok(_) => done.push(comp),
                Err(e) => return Err(ReadError::from(e)),
            }
        }
        Ok(format!("/{}", done.join("/")))
    }

    pub fn stat(&self, path: &str, follow: bool) -> Result<FileStat, ReadError> {
        let fd = self.open_in_root(path, OFlag::O_PATH, follow)?;
        let st = fstat(fd.as_raw_fd()).map_err(|e| errno_to_read_error(e, path))?;
        Ok(to_file_stat(&st))
    }

    pub fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        // O_NONBLOCK: a FIFO where a config file should be must not hang the run.
        let fd = self.open_in_root(path, OFlag::O_RDONLY | OFlag::O_NONBLOCK, true)?;
        let st = fstat(fd.as_raw_fd()).map_err(|e| errno_to_read_error(e, path))?;
        let kind = to_file_stat(&st).kind;
        if kind != FileKind::File {
            return Err(ReadError::NotRegularFile(match kind {
                FileKind::Dir => "a directory".to_string(),
                _ => "a device, socket or FIFO".to_string(),
            }));
        }
        let mut file = std::fs::File::from(fd);
        let mut buf = Vec::new();
        file.by_ref()
            .take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(ReadError::from)?;
        if buf.len() as u64 > limit {
            return Err(ReadError::TooLarge { limit });
        }
        Ok(buf)
    }

    pub fn list_dir(&self, path: &str) -> Result<Vec<String>, ReadError> {
        let fd = self.open_in_root(path, OFlag::O_RDONLY | OFlag::O_DIRECTORY, true)?;
        let dir = nix::dir::Dir::from_fd(std::os::fd::IntoRawFd::into_raw_fd(fd))
            .map_err(|e| errno_to_read_error(e, path))?;
        let mut names = Vec::new();
        for entry in dir {
            let entry = entry.map_err(|e| errno_to_read_error(e, path))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if name != "." && name != ".." {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }
}

fn to_file_stat(st: &nix::sys::stat::FileStat) -> FileStat {
    let fmt = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
    let kind = if fmt == SFlag::S_IFREG {
        FileKind::File
    } else if fmt == SFlag::S_IFDIR {
        FileKind::Dir
    } else if fmt == SFlag::S_IFLNK {
        FileKind::Symlink
    } else {
        FileKind::Other
    };
    FileStat {
        kind,
        mode: st.st_mode & 0o7777,
        uid: st.st_uid,
        gid: st.st_gid,
        size: st.st_size as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn fixture() -> (tempfile::TempDir, RootedFs) {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        std::fs::create_dir_all(r.join("etc/kubernetes")).unwrap();
        std::fs::write(r.join("etc/kubernetes/admin.conf"), "inside").unwrap();
        symlink("/etc/kubernetes", r.join("etc/k8s-abs")).unwrap();
        symlink(
            "../../../../../../etc/kubernetes/admin.conf",
            r.join("etc/dotdot"),
        )
        .unwrap();
        symlink("/etc/loop-b", r.join("etc/loop-a")).unwrap();
        symlink("/etc/loop-a", r.join("etc/loop-b")).unwrap();
        let fs = RootedFs::open(r).unwrap();
        (dir, fs)
    }

    #[test]
    fn absolute_links_resolve_inside_the_root() {
        let (_d, fs) = fixture();
        for use_openat2 in [true, false] {
            fs.use_openat2.store(use_openat2, Ordering::Relaxed);
            assert_eq!(fs.read("/etc/k8s-abs/admin.conf", 100).unwrap(), b"inside");
            // `..` past the top stays at the root, like on the node itself.
            assert_eq!(fs.read("/etc/dotdot", 100).unwrap(), b"inside");
            assert_eq!(
                fs.read("/../../etc/kubernetes/admin.conf", 100).unwrap(),
                b"inside"
            );
            assert!(
                matches!(fs.read("/etc/loop-a", 100), Err(ReadError::Other(m)) if m.contains("symbolic links"))
            );
            assert_eq!(fs.read("/etc/nope", 100), Err(ReadError::NotFound));
            assert_eq!(
                fs.stat("/etc/k8s-abs", false).unwrap().kind,
                FileKind::Symlink
            );
            assert_eq!(fs.stat("/etc/k8s-abs", true).unwrap().kind, FileKind::Dir);
        }
    }

    #[test]
    fn reads_are_bounded_and_refuse_non_files() {
        let (d, fs) = fixture();
        std::fs::write(d.path().join("big"), vec![b'x'; 2048]).unwrap();
        assert_eq!(
            fs.read("/big", 1024),
            Err(ReadError::TooLarge { limit: 1024 })
        );
        assert!(matches!(
            fs.read("/etc", 1024),
            Err(ReadError::NotRegularFile(_))
        ));
        nix::unistd::mkfifo(
            &d.path().join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        assert!(matches!(
            fs.read("/fifo", 1024),
            Err(ReadError::NotRegularFile(_))
        ));
    }

    #[test]
    fn lists_directories_sorted() {
        let (_d, fs) = fixture();
        assert_eq!(fs.list_dir("/etc/kubernetes").unwrap(), vec!["admin.conf"]);
        assert_eq!(fs.list_dir("/etc/k8s-abs").unwrap(), vec!["admin.conf"]);
    }
}
