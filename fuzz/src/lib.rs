//! Shared pieces of the fuzz targets: a node held in memory (a `Host` with
//! no filesystem behind it) and a full evaluation of a benchmark against a
//! host. Nothing here checks a verdict; the targets look for panics,
//! hangs and runaway memory.

use kubecis::benchmark::{load_catalog, Benchmark, Catalog, CfgSource};
use kubecis::collect::host::{FileKind, FileStat, Process, ProcessList, ReadError};
use kubecis::collect::{Host, NodeFacts};
use kubecis::detect::{detect_benchmark, Requested};
use kubecis::evaluate::{evaluate_controls, Selection};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// A node whose files, processes and environments are given in memory.
/// Every file is a regular file with mode 600 owned by root; a directory
/// exists when a file lies under it.
#[derive(Debug, Default, Clone)]
pub struct MemoryHost {
    pub files: BTreeMap<String, Vec<u8>>,
    pub processes: Vec<Process>,
    pub environ: BTreeMap<u32, Vec<(String, String)>>,
}

/// `/a/./b//c/` → `/a/b/c`; `..` climbs, stopping at `/`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

impl MemoryHost {
    pub fn add_file(&mut self, path: &str, bytes: impl Into<Vec<u8>>) {
        self.files.insert(normalize(path), bytes.into());
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        self.files.keys().any(|k| k.starts_with(&prefix))
    }
}

impl Host for MemoryHost {
    fn describe(&self) -> String {
        "a node in memory".to_string()
    }

    fn processes(&self) -> Result<ProcessList, String> {
        Ok(ProcessList {
            processes: self.processes.clone(),
            unreadable: 0,
        })
    }

    fn environ(&self, pid: u32) -> Result<Vec<(String, String)>, ReadError> {
        self.environ
            .get(&pid)
            .cloned()
            .ok_or_else(|| ReadError::PermissionDenied(format!("environment of {pid}")))
    }

    fn stat(&self, path: &str, _follow: bool) -> Result<FileStat, ReadError> {
        let p = normalize(path);
        let (kind, size) = match self.files.get(&p) {
            Some(bytes) => (FileKind::File, bytes.len() as u64),
            None if self.is_dir(&p) => (FileKind::Dir, 4096),
            None => return Err(ReadError::NotFound),
        };
        Ok(FileStat {
            kind,
            mode: if kind == FileKind::Dir { 0o755 } else { 0o600 },
            uid: 0,
            gid: 0,
            size,
        })
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        let p = normalize(path);
        match self.files.get(&p) {
            Some(bytes) if bytes.len() as u64 > limit => Err(ReadError::TooLarge { limit }),
            Some(bytes) => Ok(bytes.clone()),
            None if self.is_dir(&p) => Err(ReadError::NotRegularFile("a directory".to_string())),
            None => Err(ReadError::NotFound),
        }
    }

    fn list_dir(&self, path: &str) -> Result<Vec<String>, ReadError> {
        let p = normalize(path);
        if self.files.contains_key(&p) {
            return Err(ReadError::Other("not a directory".to_string()));
        }
        let prefix = if p == "/" { p.clone() } else { format!("{p}/") };
        let mut names: Vec<String> = self
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
            .collect();
        if names.is_empty() {
            return Err(ReadError::NotFound);
        }
        names.dedup();
        Ok(names)
    }

    fn hostname(&self) -> Option<String> {
        Some("fuzz".to_string())
    }

    fn read_as_process(&self, _pid: u32, _path: &str, _limit: u64) -> Result<Vec<u8>, ReadError> {
        Err(ReadError::NotFound)
    }

    fn binary_version(&self, path: &str) -> Result<String, String> {
        Err(format!("{path}: no binaries in memory"))
    }

    fn journal_lines(&self, _units: &[String], _marker: &str) -> Result<Vec<String>, String> {
        Err("no journal in memory".to_string())
    }
}

/// The built-in cfg, loaded once per fuzzing process.
pub fn embedded_catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        load_catalog(&CfgSource::Embedded).unwrap_or_else(|e| panic!("built-in cfg: {e}"))
    })
}

/// Detect the benchmark on `host` (as auto mode does), then run every
/// check of `bench` against it and render nothing: the point is to reach
/// every lookup, compare op and evidence path.
pub fn audit(catalog: &Catalog, bench: &Benchmark, host: &dyn Host) -> usize {
    let facts = NodeFacts::new(host, &bench.components);
    let _ = detect_benchmark(catalog, &facts, &catalog.version_from, &Requested::default());
    let mut checks = 0;
    for controls in &bench.controls {
        let result = evaluate_controls(&facts, controls, &Selection::default());
        for g in &result.groups {
            for c in &g.checks {
                // Touch the text a report would print.
                checks += c.reason.len().min(1) + c.actual_value.len().min(1);
            }
        }
    }
    checks
}

/// The process argv a test gives, split on whitespace.
pub fn argv(words: &str) -> Vec<String> {
    words.split_whitespace().map(str::to_string).collect()
}
