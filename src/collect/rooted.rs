//! File access confined to a root directory, resolving every path (symlinks,
//! `..`, absolute link targets) the way the node would from its own `/`.
//! Uses the kernel's `openat2(RESOLVE_IN_ROOT)` and falls back to resolving
//! components in user space, with the same rules, when the kernel or a
//! seccomp profile refuses `openat2`. Opens are read-only and non-blocking.
//!
//! What "inside the root" means, as `openat2(2)` defines RESOLVE_IN_ROOT:
//! an absolute symlink target starts again at the root, and `..` at the
//! root stays at the root, exactly as on the node itself. So an ordinary
//! symlink cannot lead out of the root: `/etc/x -> /etc/shadow` is the
//! node's own `/etc/shadow`, and `../../../../tmp/y` is the node's `/tmp/y`.
//! What can lead out is refused and reported as `EscapesRoot`:
//! - a `/proc` "magic link" (`/proc/<pid>/root`, `cwd`, `exe`, `fd/*`,
//!   `map_files/*`, `ns/*`) when a procfs is mounted inside the root: it
//!   jumps to a kernel object wherever it is (RESOLVE_NO_MAGICLINKS);
//! - a directory moved out of the root while a path through it is being
//!   resolved (the kernel's EXDEV, or EAGAIN that persists).
//!
//! The user-space fallback walks one component at a time with `O_PATH |
//! O_NOFOLLOW` descriptors, reading each link itself, so a path swapped for
//! a symlink during the walk is never followed blindly; `..` pops the
//! walked directories instead of asking the filesystem.

use super::host::{FileKind, FileStat, ReadError};
use super::node_text;
use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstat, Mode, SFlag};
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Symlinks followed in one resolution before giving up, as Linux does.
const MAX_SYMLINKS: usize = 40;
/// How often an `openat2` that returned EAGAIN (a rename raced with `..`)
/// is retried before the path is reported as escaping.
const EAGAIN_RETRIES: usize = 8;
/// The inode number of a procfs root directory (`PROC_ROOT_INO`).
const PROC_ROOT_INO: u64 = 1;

const LOOP: &str = "too many levels of symbolic links";

#[derive(Debug)]
pub struct RootedFs {
    root: PathBuf,
    root_fd: OwnedFd,
    /// Cleared the first time the kernel refuses openat2.
    use_openat2: AtomicBool,
}

fn errno_to_read_error(e: Errno, path: &str) -> ReadError {
    match e {
        // ESRCH: a /proc/<pid> entry whose process has just ended.
        Errno::ENOENT | Errno::ENOTDIR | Errno::ESRCH => ReadError::NotFound,
        Errno::EACCES | Errno::EPERM => ReadError::PermissionDenied(e.desc().to_string()),
        Errno::EXDEV | Errno::EAGAIN => ReadError::EscapesRoot(format!(
            "a directory on the way to {path} was moved out of the root while it was being resolved"
        )),
        Errno::ELOOP => ReadError::Other(LOOP.to_string()),
        other => ReadError::Other(other.desc().to_string()),
    }
}

/// Take ownership of a descriptor a successful system call returned.
fn owned(fd: std::os::fd::RawFd) -> OwnedFd {
    // SAFETY: only called with a descriptor the kernel just returned to us,
    // which nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// The components of a node path, as bytes, without empty ones and `.`.
fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|b| *b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
}

fn node_path(parts: &[Vec<u8>]) -> String {
    let mut bytes = Vec::new();
    for p in parts {
        bytes.push(b'/');
        bytes.extend_from_slice(p);
    }
    if bytes.is_empty() {
        bytes.push(b'/');
    }
    node_text::from_bytes(&bytes).into_owned()
}

/// Where a user-space walk ended: the directories walked through (each
/// pinned by an `O_PATH` descriptor) and the last component's name in the
/// last of them; `last` is `None` when the path is the root itself.
struct Walk {
    dirs: Vec<(OwnedFd, Vec<u8>)>,
    last: Option<Vec<u8>>,
}

impl Walk {
    fn resolved(&self) -> String {
        let mut parts: Vec<Vec<u8>> = self.dirs.iter().map(|(_, n)| n.clone()).collect();
        parts.extend(self.last.clone());
        node_path(&parts)
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
            Mode::empty(),
        )?;
        Ok(RootedFs {
            root: root.to_path_buf(),
            root_fd: owned(fd),
            use_openat2: AtomicBool::new(true),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolve with the user-space walk only, from now on (tests use this
    /// to prove the fallback agrees with the kernel).
    #[cfg(test)]
    fn force_fallback(&self, on: bool) {
        self.use_openat2.store(!on, Ordering::Relaxed);
    }

    /// Open `path` (as the node names it) with `flags`, never leaving the root.
    fn open_in_root(
        &self,
        path: &str,
        flags: OFlag,
        follow_last: bool,
    ) -> Result<OwnedFd, ReadError> {
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
            let bytes = node_text::to_bytes(path);
            let rel: Vec<u8> = match bytes.iter().position(|b| *b != b'/') {
                Some(i) => bytes[i..].to_vec(),
                None => b".".to_vec(),
            };
            let rel = std::ffi::OsStr::from_bytes(&rel);
            let how = OpenHow::new()
                .flags(flags)
                .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
            let mut attempts = 0;
            loop {
                match nix::fcntl::openat2(self.root_fd.as_raw_fd(), rel, how) {
                    Ok(fd) => return Ok(owned(fd)),
                    // The kernel could not rule out that a `..` raced with
                    // a rename; openat2(2) says to retry.
                    Err(Errno::EAGAIN) if attempts < EAGAIN_RETRIES => attempts += 1,
                    Err(Errno::ENOSYS) | Err(Errno::EPERM) if !self.looks_denied(rel) => {
                        self.use_openat2.store(false, Ordering::Relaxed);
                        break;
                    }
                    // ELOOP is a real loop or a refused magic link; the walk
                    // tells which, with the link's name.
                    Err(Errno::ELOOP) => {
                        return Err(match self.walk(path, follow_last) {
                            Err(e) => e,
                            Ok(_) => ReadError::Other(LOOP.to_string()),
                        })
                    }
                    Err(e) => return Err(errno_to_read_error(e, path)),
                }
            }
        }
        let walk = self.walk(path, follow_last)?;
        let dir = walk
            .dirs
            .last()
            .map_or(self.root_fd.as_raw_fd(), |(fd, _)| fd.as_raw_fd());
        // Every symlink on the way was resolved by the walk, so the final
        // open must not follow one (a link swapped in since is refused).
        let last: &[u8] = walk.last.as_deref().unwrap_or(b".");
        nix::fcntl::openat(
            Some(dir),
            std::ffi::OsStr::from_bytes(last),
            flags | OFlag::O_NOFOLLOW,
            Mode::empty(),
        )
        .map(owned)
        .map_err(|e| errno_to_read_error(e, path))
    }

    /// EPERM from openat2 can be a seccomp refusal or a real permission
    /// problem; a real one shows up on a plain open of the same path too.
    fn looks_denied(&self, rel: &std::ffi::OsStr) -> bool {
        matches!(
            nix::fcntl::openat(
                Some(self.root_fd.as_raw_fd()),
                rel,
                OFlag::O_PATH | OFlag::O_CLOEXEC,
                Mode::empty()
            ),
            Err(Errno::EPERM) | Err(Errno::EACCES)
        )
    }

    /// Whether a symlink found in `dir` is a procfs magic link: every
    /// symlink on a procfs is one, except those in its top directory
    /// (`self`, `thread-self`, `mounts`, `net`), which hold plain paths.
    fn is_magic_link_dir(dir: std::os::fd::BorrowedFd<'_>) -> bool {
        let on_procfs = nix::sys::statfs::fstatfs(dir)
            .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC);
        on_procfs && fstat(dir.as_raw_fd()).is_ok_and(|st| st.st_ino != PROC_ROOT_INO)
    }

    /// Resolve `path` one component at a time inside the root: `..` stops
    /// at the root, absolute symlink targets restart at the root, magic
    /// links are refused.
    fn walk(&self, path: &str, follow_last: bool) -> Result<Walk, ReadError> {
        let bytes = node_text::to_bytes(path);
        let mut pending: Vec<Vec<u8>> = components(&bytes).rev().map(<[u8]>::to_vec).collect();
        let mut dirs: Vec<(OwnedFd, Vec<u8>)> = Vec::new();
        let mut links = 0;
        while let Some(comp) = pending.pop() {
            if comp == b".." {
                dirs.pop();
                continue;
            }
            let is_last = pending.is_empty();
            let dir = dirs
                .last()
                .map_or(self.root_fd.as_fd(), |(fd, _)| fd.as_fd());
            let fd = nix::fcntl::openat(
                Some(dir.as_raw_fd()),
                std::ffi::OsStr::from_bytes(&comp),
                OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map(owned)
            .map_err(|e| errno_to_read_error(e, path))?;
            let st = fstat(fd.as_raw_fd()).map_err(|e| errno_to_read_error(e, path))?;
            let kind = to_file_stat(&st).kind;
            if kind == FileKind::Symlink && (follow_last || !is_last) {
                let here = {
                    let mut parts: Vec<Vec<u8>> = dirs.iter().map(|(_, n)| n.clone()).collect();
                    parts.push(comp.clone());
                    node_path(&parts)
                };
                let target = nix::fcntl::readlinkat(Some(fd.as_raw_fd()), "")
                    .map_err(|e| errno_to_read_error(e, path))?;
                let target = target.as_bytes().to_vec();
                if Self::is_magic_link_dir(dir) {
                    return Err(ReadError::EscapesRoot(format!(
                        "{here} is a /proc magic link (to {}), which is not followed",
                        node_text::from_bytes(&target)
                    )));
                }
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(ReadError::Other(LOOP.to_string()));
                }
                if target.starts_with(b"/") {
                    dirs.clear();
                }
                pending.extend(components(&target).rev().map(<[u8]>::to_vec));
                continue;
            }
            if is_last {
                return Ok(Walk {
                    dirs,
                    last: Some(comp),
                });
            }
            if kind != FileKind::Dir {
                return Err(ReadError::NotFound);
            }
            dirs.push((fd, comp));
        }
        // The path ended on a directory (or `..`): name it by its parent.
        let last = dirs.pop().map(|(_, name)| name);
        Ok(Walk { dirs, last })
    }

    /// The node path `path` resolves to (following a final symlink when
    /// `follow_last`), by the same rules as every open.
    pub fn resolve(&self, path: &str, follow_last: bool) -> Result<String, ReadError> {
        self.walk(path, follow_last).map(|w| w.resolved())
    }

    /// An `O_PATH` descriptor of the regular file at `path`.
    pub fn open_regular_file(&self, path: &str) -> Result<OwnedFd, ReadError> {
        let fd = self.open_in_root(path, OFlag::O_PATH, true)?;
        let st = fstat(fd.as_raw_fd()).map_err(|e| errno_to_read_error(e, path))?;
        match to_file_stat(&st).kind {
            FileKind::File => Ok(fd),
            _ => Err(ReadError::NotRegularFile(path.to_string())),
        }
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

    /// Names in a directory, sorted; names that are not UTF-8 are escaped
    /// (`node_text`), so they can be opened again.
    pub fn list_dir(&self, path: &str) -> Result<Vec<String>, ReadError> {
        let fd = self.open_in_root(path, OFlag::O_RDONLY | OFlag::O_DIRECTORY, true)?;
        let dir = nix::dir::Dir::from_fd(std::os::fd::IntoRawFd::into_raw_fd(fd))
            .map_err(|e| errno_to_read_error(e, path))?;
        let mut names = Vec::new();
        for entry in dir {
            let entry = entry.map_err(|e| errno_to_read_error(e, path))?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(node_text::from_bytes(name).into_owned());
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

    /// Both resolvers, the kernel's first.
    fn each_mode(fs: &RootedFs, mut f: impl FnMut(&str)) {
        for (fallback, mode) in [(false, "openat2"), (true, "user-space walk")] {
            fs.force_fallback(fallback);
            f(mode);
        }
        fs.force_fallback(false);
    }

    #[test]
    fn absolute_links_resolve_inside_the_root() {
        let (_d, fs) = fixture();
        each_mode(&fs, |_| {
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
        });
    }

    /// A root full of hostile links next to a secret outside it. `outside`
    /// is the secret's absolute path on the machine running the test.
    struct Hostile {
        _dir: tempfile::TempDir,
        root: PathBuf,
        outside: String,
    }

    fn hostile() -> Hostile {
        let dir = tempfile::tempdir().unwrap();
        let out_dir = dir.path().join("outside");
        std::fs::create_dir_all(&out_dir).unwrap();
        std::fs::write(out_dir.join("shadow"), "SECRET-OUTSIDE").unwrap();
        let outside = out_dir.join("shadow").to_str().unwrap().to_string();
        let root = dir.path().join("root");
        let r = &root;
        for d in ["etc", "srv/kube", "a/b/c", "var/lib"] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        std::fs::write(r.join("etc/shadow"), "node-shadow").unwrap();
        std::fs::write(r.join("srv/kube/admin.conf"), "node-admin").unwrap();
        let link = |target: &str, at: &str| symlink(target, r.join(at)).unwrap();
        link("/etc/shadow", "etc/abs-shadow");
        link(&outside, "etc/abs-outside");
        link(
            &format!("../../../../../../../../../..{outside}"),
            "etc/rel-outside",
        );
        link("../../../etc/shadow", "a/b/c/up");
        link("../../../../../../etc/shadow", "a/b/c/up-too-far");
        link("/srv/kube", "etc/kubernetes");
        link(out_dir.to_str().unwrap(), "etc/outside-dir");
        link("/proc/self/root/etc/shadow", "etc/proc-self-root");
        link(&format!("/proc/1/root{outside}"), "etc/proc-1-root");
        link("self-loop", "etc/self-loop");
        link("/a/b/c/up", "var/lib/chain-0");
        for i in 1..=MAX_SYMLINKS {
            link(&format!("chain-{}", i - 1), &format!("var/lib/chain-{i}"));
        }
        std::fs::write(
            r.join(std::ffi::OsStr::from_bytes(b"etc/name-\xff.conf")),
            "raw-name",
        )
        .unwrap();
        Hostile {
            _dir: dir,
            root,
            outside,
        }
    }

    #[test]
    fn hostile_links_never_leave_the_root_and_both_resolvers_agree() {
        let h = hostile();
        let fs = RootedFs::open(&h.root).unwrap();
        let ok = |text: &str| Ok::<Vec<u8>, ReadError>(text.as_bytes().to_vec());
        // chain-N takes N + 2 links to reach the file; Linux allows 40.
        let chain_40_links = format!("/var/lib/chain-{}", MAX_SYMLINKS - 2);
        let chain_41_links = format!("/var/lib/chain-{}", MAX_SYMLINKS - 1);
        // (path, what reading it gives, where it resolves)
        type Case<'a> = (&'a str, Result<Vec<u8>, ReadError>, Option<&'a str>);
        let cases: Vec<Case> = vec![
            ("/etc/abs-shadow", ok("node-shadow"), Some("/etc/shadow")),
            ("/etc/abs-outside", Err(ReadError::NotFound), None),
            ("/etc/rel-outside", Err(ReadError::NotFound), None),
            ("/a/b/c/up", ok("node-shadow"), Some("/etc/shadow")),
            ("/a/b/c/up-too-far", ok("node-shadow"), Some("/etc/shadow")),
            (
                "/etc/kubernetes/admin.conf",
                ok("node-admin"),
                Some("/srv/kube/admin.conf"),
            ),
            (
                "/etc/kubernetes/../kube/admin.conf",
                ok("node-admin"),
                Some("/srv/kube/admin.conf"),
            ),
            ("/etc/outside-dir/shadow", Err(ReadError::NotFound), None),
            ("/etc/proc-self-root", Err(ReadError::NotFound), None),
            ("/etc/proc-1-root", Err(ReadError::NotFound), None),
            (
                "/etc/self-loop",
                Err(ReadError::Other(LOOP.to_string())),
                None,
            ),
            (&chain_40_links, ok("node-shadow"), Some("/etc/shadow")),
            (
                &chain_41_links,
                Err(ReadError::Other(LOOP.to_string())),
                None,
            ),
            ("/etc/name-\\xff.conf", ok("raw-name"), None),
            (&h.outside, Err(ReadError::NotFound), None),
        ];
        each_mode(&fs, |mode| {
            for (path, expected, resolved) in &cases {
                assert_eq!(&fs.read(path, 1024), expected, "{mode}: {path}");
                if let Some(r) = resolved {
                    assert_eq!(fs.resolve(path, true).as_deref(), Ok(*r), "{path}");
                }
            }
            // A symlinked directory in the middle of a path is listed as
            // its target; a non-UTF-8 name comes back escaped and opens.
            assert_eq!(
                fs.list_dir("/etc/kubernetes").unwrap(),
                vec!["admin.conf"],
                "{mode}"
            );
            let names = fs.list_dir("/etc").unwrap();
            assert!(names.contains(&"name-\\xff.conf".to_string()), "{names:?}");
        });
    }

    #[test]
    fn reads_are_bounded_and_refuse_non_files() {
        let (d, fs) = fixture();
        std::fs::write(d.path().join("big"), vec![b'x'; 2048]).unwrap();
        nix::unistd::mkfifo(&d.path().join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        symlink("/dev/zero", d.path().join("zero")).unwrap();
        each_mode(&fs, |mode| {
            assert_eq!(
                fs.read("/big", 1024),
                Err(ReadError::TooLarge { limit: 1024 }),
                "{mode}"
            );
            assert!(matches!(
                fs.read("/etc", 1024),
                Err(ReadError::NotRegularFile(_))
            ));
            // A FIFO with no writer would block a plain open forever.
            let started = std::time::Instant::now();
            assert!(matches!(
                fs.read("/fifo", 1024),
                Err(ReadError::NotRegularFile(_))
            ));
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
        });
        // The root here has no /dev, so the link is re-rooted and missing;
        // the device itself is refused before a byte is read.
        assert_eq!(fs.read("/zero", 1024), Err(ReadError::NotFound));
        let dev = RootedFs::open(Path::new("/dev")).unwrap();
        assert!(matches!(
            dev.read("/zero", 1024),
            Err(ReadError::NotRegularFile(_))
        ));
    }

    #[test]
    fn lists_directories_sorted() {
        let (_d, fs) = fixture();
        assert_eq!(fs.list_dir("/etc/kubernetes").unwrap(), vec!["admin.conf"]);
        assert_eq!(fs.list_dir("/etc/k8s-abs").unwrap(), vec!["admin.conf"]);
    }

    #[test]
    fn kernel_escape_reports_name_the_path() {
        for e in [Errno::EXDEV, Errno::EAGAIN] {
            assert!(matches!(
                errno_to_read_error(e, "/etc/x"),
                ReadError::EscapesRoot(m) if m.contains("/etc/x")
            ));
        }
    }

    /// Magic links need a procfs inside the root: this mounts one in a
    /// mount namespace private to one thread. Needs root; on CI it must run.
    #[test]
    fn proc_magic_links_inside_the_root_are_refused() {
        let on_ci = std::env::var("CI").is_ok_and(|v| v == "true");
        if !nix::unistd::geteuid().is_root() {
            assert!(!on_ci, "CI runs as root; this test must not be skipped");
            eprintln!("skipped: mounting a procfs needs root");
            return;
        }
        let h = hostile();
        let root = h.root.clone();
        let outside = h.outside.clone();
        std::thread::spawn(move || {
            use nix::mount::{mount, MsFlags};
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).unwrap();
            mount(
                None::<&str>,
                "/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&str>,
            )
            .unwrap();
            std::fs::create_dir_all(root.join("proc")).unwrap();
            mount(
                Some("proc"),
                &root.join("proc"),
                Some("proc"),
                MsFlags::empty(),
                None::<&str>,
            )
            .unwrap();
            std::fs::write(root.join("etc/x"), "x").unwrap();
            let fd = std::fs::File::open(&outside).unwrap();
            let fd_link = format!("/proc/self/fd/{}", fd.as_raw_fd());
            symlink(&fd_link, root.join("etc/proc-fd")).unwrap();
            symlink("/proc/thread-self/cwd", root.join("etc/proc-cwd")).unwrap();
            let fs = RootedFs::open(&root).unwrap();
            let mut seen: Vec<Vec<Result<Vec<u8>, ReadError>>> = Vec::new();
            each_mode(&fs, |mode| {
                let mut results = Vec::new();
                for path in [
                    "/etc/proc-self-root",
                    "/etc/proc-1-root",
                    "/etc/proc-fd",
                    "/proc/self/root/etc/shadow",
                    &format!("/proc/self/root{outside}"),
                ] {
                    let read = fs.read(path, 1024);
                    match &read {
                        Err(ReadError::EscapesRoot(m)) => {
                            assert!(m.contains("magic link"), "{mode}: {path}: {m}")
                        }
                        // Reading pid 1's root link needs ptrace access to
                        // pid 1, which may be refused first.
                        Err(ReadError::PermissionDenied(_)) if path.contains("-1-") => {}
                        other => panic!("{mode}: {path}: {other:?}"),
                    }
                    assert!(
                        matches!(
                            fs.stat(path, true),
                            Err(ReadError::EscapesRoot(_) | ReadError::PermissionDenied(_))
                        ),
                        "{mode}: {path}"
                    );
                    results.push(read);
                }
                seen.push(results);
                assert!(matches!(
                    fs.list_dir("/etc/proc-cwd"),
                    Err(ReadError::EscapesRoot(_))
                ));
                // Plain links on the procfs are followed: /proc/self is the
                // process's own directory, inside the mounted procfs.
                let status = fs.read("/proc/self/status", 1 << 20).unwrap();
                assert!(status.starts_with(b"Name:"), "{mode}");
                // Not following the last link is a plain lstat.
                assert_eq!(
                    fs.stat("/proc/self/root", false).unwrap().kind,
                    FileKind::Symlink
                );
            });
            assert_eq!(seen[0], seen[1], "the kernel and the walk disagree");
            nix::mount::umount2(&root.join("proc"), nix::mount::MntFlags::MNT_DETACH).unwrap();
        })
        .join()
        .unwrap();
    }
}
