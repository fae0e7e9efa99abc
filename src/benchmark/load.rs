//! Loads and validates a cfg directory (the embedded one or `--config-dir`):
//! every file is parsed and every mistake collected with file, line and check
//! ID before anything runs. It reads cfg files only, never the host.

use super::kube_bench::{self, KubeBenchConfig};
use super::model::*;
use super::raw::*;
use crate::jsonpath::JsonPath;
use crate::yaml;
use include_dir::{include_dir, Dir};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

static EMBEDDED_CFG: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/cfg");

/// A cfg file larger than this is refused: real ones are a few hundred KiB.
const MAX_CFG_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// Where cfg files are read from.
#[derive(Debug, Clone)]
pub enum CfgSource {
    Embedded,
    Dir(PathBuf),
    /// Files held in memory, by path relative to the cfg directory
    /// (`config.yaml`, `cis-1.12/master.yaml`): for tests and fuzzing, which
    /// go through the same loader as a directory.
    Files(BTreeMap<String, String>),
}

impl CfgSource {
    pub fn describe(&self) -> String {
        match self {
            CfgSource::Embedded => "built-in cfg".to_string(),
            CfgSource::Dir(dir) => dir.display().to_string(),
            CfgSource::Files(_) => "in-memory cfg".to_string(),
        }
    }

    fn display_path(&self, rel: &str) -> String {
        match self {
            CfgSource::Embedded => format!("cfg/{rel}"),
            CfgSource::Dir(dir) => dir.join(rel).display().to_string(),
            CfgSource::Files(_) => rel.to_string(),
        }
    }

    /// The text of `rel`, `Ok(None)` when it does not exist.
    fn read(&self, rel: &str) -> Result<Option<String>, ReadFailure> {
        match self {
            CfgSource::Embedded => match EMBEDDED_CFG.get_file(rel) {
                None => Ok(None),
                Some(f) => utf8_text(f.contents().to_vec()).map(Some),
            },
            CfgSource::Dir(dir) => read_bounded(&dir.join(rel)),
            CfgSource::Files(files) => Ok(files.get(rel).cloned()),
        }
    }
}

/// Why a cfg file could not be read, and where in it when that is known.
#[derive(Debug, Clone)]
struct ReadFailure {
    message: String,
    line: Option<usize>,
    check: Option<String>,
}

impl From<String> for ReadFailure {
    fn from(message: String) -> Self {
        ReadFailure {
            message,
            line: None,
            check: None,
        }
    }
}

/// The text of a cfg file; bytes that are not UTF-8 are reported at their
/// line, with the check they are in.
fn utf8_text(bytes: Vec<u8>) -> Result<String, ReadFailure> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let lossy = String::from_utf8_lossy(e.as_bytes());
        ReadFailure {
            message: "is not UTF-8 text".to_string(),
            line: Some(line),
            check: enclosing_check_id(&lossy, line),
        }
    })
}

fn read_bounded(path: &Path) -> Result<Option<String>, ReadFailure> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: a FIFO in place of a cfg file must not hang the run.
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot be read: {e}").into()),
    };
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read: {e}"))?;
    if meta.is_dir() {
        return Err("is a directory, not a file".to_string().into());
    }
    if !meta.is_file() {
        return Err("is not a regular file".to_string().into());
    }
    let mut buf = Vec::new();
    file.take(MAX_CFG_FILE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot be read: {e}"))?;
    if buf.len() as u64 > MAX_CFG_FILE_BYTES {
        return Err(format!("is larger than {MAX_CFG_FILE_BYTES} bytes").into());
    }
    utf8_text(buf).map(Some)
}

/// serde's message without the path of the check it is in (the error
/// already names the check), and with "a string" said as the cfg means it:
/// every scalar is read as text.
fn tidy_message(message: &str, in_check: bool) -> String {
    let mut message = message.to_string();
    if in_check {
        if let Some(i) = message.find("checks[") {
            let after = &message[i..];
            let cut = after
                .find("].")
                .map(|j| j + 2)
                .or_else(|| after.find("]: ").map(|j| j + 3));
            if let Some(j) = cut {
                message = message[i + j..].to_string();
            }
        }
    }
    message.replace(
        "expected a string",
        "expected a single value (text, a number or true/false)",
    )
}

/// One mistake in the cfg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfgError {
    pub location: Location,
    pub check: Option<String>,
    pub message: String,
}

impl fmt::Display for CfgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location)?;
        if let Some(id) = &self.check {
            write!(f, "check {id}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Every mistake found; loading fails when there is at least one.
#[derive(Debug, Clone)]
pub struct CfgErrors(pub Vec<CfgError>);

impl fmt::Display for CfgErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the cfg is invalid ({} problem{}):",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CfgErrors {}

/// A controls file parsed, with the paths of the keys the mirror does not
/// know.
type ParsedControls = Result<(RawControls, Vec<Vec<String>>), yaml::YamlError>;
/// A controls file read and parsed ahead of validation.
type Parsed = Result<Option<(String, ParsedControls)>, ReadFailure>;

struct Collector<'a> {
    source: &'a CfgSource,
    /// The built-in cfg: it must not contain shell audits.
    builtin: bool,
    errors: Vec<CfgError>,
    /// Controls files parsed in parallel before validation, by relative path.
    parsed: HashMap<String, Parsed>,
    /// The benchmarks whose controls files are read; `None`: all of them.
    controls_of: Option<&'a [String]>,
    /// config.yaml's text, for errors that point into it.
    config_text: String,
}

impl Collector<'_> {
    fn wants_controls(&self, bench: &str) -> bool {
        self.controls_of
            .is_none_or(|list| list.iter().any(|b| b == bench))
    }
}

impl Collector<'_> {
    fn push(&mut self, file: &str, line: Option<usize>, check: Option<&str>, message: String) {
        self.errors.push(CfgError {
            location: Location {
                file: self.source.display_path(file),
                line,
            },
            check: check.map(str::to_string),
            message,
        });
    }

    fn parse<T: serde::de::DeserializeOwned>(&mut self, rel: &str, text: &str) -> Option<T> {
        match yaml::from_str::<T>(text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.push_yaml_error(rel, text, e);
                None
            }
        }
    }

    fn push_yaml_error(&mut self, rel: &str, text: &str, e: yaml::YamlError) {
        let check = e.line.and_then(|l| enclosing_check_id(text, l));
        let message = tidy_message(&e.message, check.is_some());
        self.push(rel, e.line, check.as_deref(), message);
    }

    fn push_read_failure(&mut self, rel: &str, f: ReadFailure) {
        self.push(rel, f.line, f.check.as_deref(), f.message);
    }

    fn read(&mut self, rel: &str) -> Option<String> {
        match self.source.read(rel) {
            Ok(Some(text)) => Some(text),
            Ok(None) => {
                self.push(rel, None, None, "file not found".to_string());
                None
            }
            Err(f) => {
                self.push_read_failure(rel, f);
                None
            }
        }
    }
}

/// The ID in the nearest `id:` line at or above `line` (1-based) that looks
/// like a check ID (three or more parts), for errors serde reports by line.
fn enclosing_check_id(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let upto = line.min(lines.len());
    lines[..upto].iter().rev().find_map(|l| {
        let id = id_on_line(l)?;
        (id.split('.').count() >= 3).then_some(id)
    })
}

fn id_on_line(line: &str) -> Option<String> {
    let t = line.trim_start().trim_start_matches('-').trim_start();
    let rest = t.strip_prefix("id:")?;
    let v = rest.split('#').next()?.trim().trim_matches(['"', '\'']);
    (!v.is_empty()).then(|| v.to_string())
}

/// 1-based lines of the `id:` values in a controls file, each ID's
/// occurrences in order, handed out as the file's groups and checks are
/// read in the same order (so a duplicate ID gets its own line).
struct IdLines(HashMap<String, std::collections::VecDeque<usize>>);

impl IdLines {
    /// The line of the first definition of `id`, without moving on.
    fn first(&self, id: &str) -> Option<usize> {
        self.0.get(id).and_then(|l| l.front().copied())
    }

    fn of(text: &str) -> IdLines {
        let mut map: HashMap<String, std::collections::VecDeque<usize>> = HashMap::new();
        for (i, l) in text.lines().enumerate() {
            if let Some(id) = id_on_line(l) {
                map.entry(id).or_default().push_back(i + 1);
            }
        }
        IdLines(map)
    }

    /// The line of the next definition of `id`.
    fn next(&mut self, id: &str) -> Option<usize> {
        let lines = self.0.get_mut(id)?;
        if lines.len() > 1 {
            lines.pop_front()
        } else {
            lines.front().copied()
        }
    }
}

/// 1-based line of `key:` at the top level of a YAML file.
fn top_level_line(text: &str, key: &str) -> Option<usize> {
    let needle = format!("{key}:");
    text.lines()
        .position(|l| l.starts_with(&needle))
        .map(|i| i + 1)
}

/// 1-based line of `  name:` (or `"name":`) under the top-level `section:`.
/// Only error messages need it, but component conversion asks for every
/// component of every benchmark, so it allocates nothing per line.
fn entry_line(text: &str, section: &str, name: &str) -> Option<usize> {
    let keys = [
        format!("{name}:"),
        format!("\"{name}\":"),
        format!("'{name}':"),
    ];
    let head = format!("{section}:");
    let mut inside = false;
    for (i, l) in text.lines().enumerate() {
        if !l.starts_with(' ') {
            if l.starts_with(head.as_str()) {
                inside = true;
                continue;
            }
            if !l.trim().is_empty() && !l.starts_with('#') {
                inside = false;
            }
        }
        if !inside {
            continue;
        }
        let t = l.trim_start();
        if keys.iter().any(|k| t.starts_with(k.as_str())) {
            let rest = &t[t.find(':').map_or(0, |c| c + 1)..];
            if rest.is_empty() || rest.starts_with(' ') {
                return Some(i + 1);
            }
        }
    }
    None
}

/// 1-based line of `  name:` under `components:` in a config file.
fn component_line(text: &str, name: &str) -> Option<usize> {
    entry_line(text, "components", name)
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

fn parse_all(source: &CfgSource, rels: &[String]) -> HashMap<String, Parsed> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = rels.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = rels
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|rel| {
                            let parsed = source.read(rel).map(|t| {
                                t.map(|text| {
                                    let raw = yaml::from_str_with_unknown::<RawControls>(&text);
                                    (text, raw)
                                })
                            });
                            (rel.clone(), parsed)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        // A worker that panicked leaves its files unparsed; they are parsed
        // again in order below, so nothing is lost.
        handles
            .into_iter()
            .filter_map(|h| h.join().ok())
            .flatten()
            .collect()
    })
}

/// Load and validate the whole cfg: config.yaml and every benchmark's
/// controls files. config.yaml decides the form: the project's own, or
/// kube-bench's (see `kube_bench`).
pub fn load_catalog(source: &CfgSource) -> Result<Catalog, CfgErrors> {
    load(source, None)
}

/// Load config.yaml and every benchmark's components, but the controls
/// files of the named benchmarks only (the others have no controls): what
/// one run needs, at a fraction of the cost once many benchmarks ship.
pub fn load_catalog_for(source: &CfgSource, benchmarks: &[String]) -> Result<Catalog, CfgErrors> {
    load(source, Some(benchmarks))
}

fn load(source: &CfgSource, controls_of: Option<&[String]>) -> Result<Catalog, CfgErrors> {
    load_as(source, controls_of, matches!(source, CfgSource::Embedded))
}

/// `builtin`: hold the cfg to the built-in cfg's rules (no shell audits).
fn load_as(
    source: &CfgSource,
    controls_of: Option<&[String]>,
    builtin: bool,
) -> Result<Catalog, CfgErrors> {
    let mut c = Collector {
        source,
        builtin,
        errors: Vec::new(),
        parsed: HashMap::new(),
        controls_of,
        config_text: String::new(),
    };
    let Some(config_text) = c.read("config.yaml") else {
        return Err(CfgErrors(c.errors));
    };
    c.config_text = config_text.clone();
    let doc = match yaml::to_document(&config_text) {
        Ok(d) => d,
        Err(e) => {
            c.push("config.yaml", e.line, None, e.message);
            return Err(CfgErrors(c.errors));
        }
    };
    if kube_bench::is_kube_bench_config(&doc) {
        return load_kube_bench(c, &config_text, doc);
    }
    let Some(raw) = c.parse::<RawConfig>("config.yaml", &config_text) else {
        return Err(CfgErrors(c.errors));
    };

    let version_mapping = convert_version_mapping(
        &mut c,
        &config_text,
        ("version_mapping", "version_mapping"),
        &raw.version_mapping,
        &raw.target_mapping,
    );
    let distributions = convert_distributions(&mut c, &config_text, &raw);
    let version_from = convert_version_sources(&raw, &raw.version_from).unwrap_or_else(|m| {
        let line = config_text
            .lines()
            .position(|l| l.starts_with("version_from:"))
            .map(|i| i + 1);
        c.push("config.yaml", line, None, m);
        Vec::new()
    });
    let version_aliases = Vec::new();

    let targets: Vec<TargetRule> = raw
        .targets
        .iter()
        .map(|(name, t)| TargetRule {
            name: name.clone(),
            detect: t.detect.clone(),
        })
        .collect();

    let global_components = raw.components.clone();
    for rule in &targets {
        for comp in &rule.detect {
            if !global_components.contains_key(comp) {
                c.push(
                    "config.yaml",
                    entry_line(&config_text, "targets", &rule.name),
                    None,
                    format!("target {} detects unknown component {comp:?}", rule.name),
                );
            }
        }
    }

    parse_controls_files(&mut c, &raw.target_mapping);
    let mut benchmarks = BTreeMap::new();
    for (bench, target_names) in &raw.target_mapping {
        let errors_before = c.errors.len();
        let mut raw_components = global_components.clone();
        if let Some(d) = distributions.iter().find(|d| d.benchmarks.contains(bench)) {
            if let Some(rd) = raw.distributions.get(&d.name) {
                merge_components(&mut raw_components, &rd.components);
            }
        }
        let (components, broken) = project_components(&mut c, bench, &raw_components, &config_text);
        let vars = BTreeMap::new();
        let form = CfgForm::Project;
        if let Some(b) = load_benchmark(
            &mut c,
            form,
            bench,
            target_names,
            (components, broken),
            &vars,
            errors_before,
        ) {
            benchmarks.insert(bench.clone(), b);
        }
    }

    finish(
        c,
        Catalog {
            form: CfgForm::Project,
            version_mapping,
            version_aliases,
            version_from,
            distributions,
            targets,
            benchmarks,
            origin: source.describe(),
        },
    )
}

/// A benchmark's controls files; `None` when loading it (since
/// `errors_before`) found a mistake.
fn load_benchmark(
    c: &mut Collector,
    form: CfgForm,
    bench: &str,
    target_names: &[String],
    (components, broken): (BTreeMap<String, Component>, BTreeSet<String>),
    variables: &BTreeMap<String, Vec<ShellVariable>>,
    errors_before: usize,
) -> Option<Benchmark> {
    let controls_loaded = c.wants_controls(bench);
    let known = KnownComponents {
        valid: &components,
        broken: &broken,
    };
    let controls = if controls_loaded {
        load_controls(c, form, bench, target_names, &known, variables)
    } else {
        Vec::new()
    };
    (c.errors.len() == errors_before).then(|| Benchmark {
        name: bench.to_string(),
        controls,
        controls_loaded,
        components,
    })
}

fn finish(c: Collector, catalog: Catalog) -> Result<Catalog, CfgErrors> {
    if c.errors.is_empty() {
        Ok(catalog)
    } else {
        Err(CfgErrors(c.errors))
    }
}

/// Parse a `"major.minor": benchmark` table, reporting bad keys and
/// benchmarks that target_mapping does not list.
/// `(what, section)`: how errors name the table, and the top-level
/// config.yaml section it sits under (for the line of a mistake).
fn convert_version_mapping(
    c: &mut Collector,
    config_text: &str,
    (what, section): (&str, &str),
    table: &BTreeMap<String, String>,
    target_mapping: &BTreeMap<String, Vec<String>>,
) -> Vec<(KubeVersion, String)> {
    let mut out = Vec::new();
    for (version, bench) in table {
        // Found only when there is something to report.
        let line = || entry_line(config_text, section, version);
        match KubeVersion::parse(version) {
            Some(v) if v.to_string() == *version => out.push((v, bench.clone())),
            _ => c.push(
                "config.yaml",
                line(),
                None,
                format!("{what} key {version:?} is not a Kubernetes major.minor version"),
            ),
        }
        if !target_mapping.contains_key(bench) {
            c.push(
                "config.yaml",
                line(),
                None,
                format!("{what} maps {version} to {bench:?}, which target_mapping does not list"),
            );
        }
    }
    out.sort();
    out
}

/// 1-based line of `  name:` under a top-level `section:` key.
fn section_entry_line(text: &str, section: &str, name: &str) -> Option<usize> {
    let head = format!("{section}:");
    let needle = format!("{name}:");
    let mut inside = false;
    for (i, l) in text.lines().enumerate() {
        if !l.starts_with(' ') && !l.trim().is_empty() && !l.starts_with('#') {
            inside = l.starts_with(&head);
            continue;
        }
        if inside && l.starts_with("  ") && !l.starts_with("   ") && l.trim() == needle {
            return Some(i + 1);
        }
    }
    None
}

fn bins_words(list: &[String]) -> Result<Vec<Vec<String>>, String> {
    list.iter()
        .map(|b| {
            let words: Vec<String> = b.split_whitespace().map(str::to_string).collect();
            if words.is_empty() {
                Err("a process entry is empty".to_string())
            } else {
                Ok(words)
            }
        })
        .collect()
}

fn convert_version_sources(
    raw: &RawConfig,
    list: &[RawVersionSource],
) -> Result<Vec<VersionSource>, String> {
    let mut out = Vec::new();
    for vs in list {
        match (&vs.binary, vs.manifest_images.is_empty()) {
            (Some(b), true) => {
                let processes =
                    bins_words(&b.processes).map_err(|m| format!("version_from binary: {m}"))?;
                if processes.is_empty() && b.paths.is_empty() {
                    return Err("version_from binary names no process or path".to_string());
                }
                out.push(VersionSource::Binary {
                    processes,
                    paths: b.paths.clone(),
                });
            }
            (None, false) => {
                if let Some(comp) = vs
                    .manifest_images
                    .iter()
                    .find(|c| !raw.components.contains_key(*c))
                {
                    return Err(format!("version_from names unknown component {comp:?}"));
                }
                out.push(VersionSource::ManifestImages(vs.manifest_images.clone()));
            }
            _ => {
                return Err(
                    "each version_from entry gives exactly one of binary or manifest_images"
                        .to_string(),
                )
            }
        }
    }
    Ok(out)
}

fn convert_distributions(
    c: &mut Collector,
    config_text: &str,
    raw: &RawConfig,
) -> Vec<Distribution> {
    let mut out = Vec::new();
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for (name, rd) in &raw.distributions {
        let line = section_entry_line(config_text, "distributions", name);
        let before = c.errors.len();
        let err = |c: &mut Collector, msg: String| {
            c.push(
                "config.yaml",
                line,
                None,
                format!("distribution {name}: {msg}"),
            )
        };
        let detect_processes = bins_words(&rd.detect.processes).unwrap_or_else(|m| {
            err(c, format!("detect.processes: {m}"));
            Vec::new()
        });
        for p in &rd.detect.paths {
            if !p.starts_with('/') {
                err(c, format!("detect path {p:?} is not absolute"));
            }
        }
        if detect_processes.is_empty() && rd.detect.paths.is_empty() {
            err(c, "detect names no process and no path".to_string());
        }
        let version_from = convert_version_sources(raw, &rd.version_from).unwrap_or_else(|m| {
            err(c, m);
            Vec::new()
        });
        let version_mapping = convert_version_mapping(
            c,
            config_text,
            (
                &format!("distribution {name} version_mapping"),
                "distributions",
            ),
            &rd.version_mapping,
            &raw.target_mapping,
        );
        if !version_mapping.is_empty() && rd.benchmark.is_some() {
            err(
                c,
                "give version_mapping or benchmark, not both (neither: the upstream table)"
                    .to_string(),
            );
        }
        let mut benchmarks: Vec<String> = Vec::new();
        for b in version_mapping
            .iter()
            .map(|(_, b)| b)
            .chain(rd.benchmark.iter())
            .chain(rd.benchmarks.iter())
        {
            if !benchmarks.contains(b) {
                benchmarks.push(b.clone());
            }
        }
        for b in &benchmarks {
            if !raw.target_mapping.contains_key(b) {
                c.push(
                    "config.yaml",
                    line,
                    None,
                    format!("distribution {name}: benchmark {b:?} is not in target_mapping"),
                );
            }
            if let Some(other) = owner.insert(b.clone(), name.clone()) {
                c.push(
                    "config.yaml",
                    line,
                    None,
                    format!("benchmark {b:?} belongs to both distribution {other} and {name}"),
                );
            }
        }
        for comp in rd.components.keys() {
            if !raw.components.contains_key(comp) {
                c.push(
                    "config.yaml",
                    line,
                    None,
                    format!("distribution {name} overrides unknown component {comp:?}"),
                );
            }
        }
        if c.errors.len() == before {
            out.push(Distribution {
                name: name.clone(),
                title: rd.title.clone(),
                detect_processes,
                detect_paths: rd.detect.paths.clone(),
                version_from,
                version_mapping,
                benchmark: rd.benchmark.clone(),
                benchmarks,
            });
        }
    }
    out
}

/// Apply component overrides field by field: a field the override gives
/// replaces the base's, named files and defaults (by the flag, path, env and
/// key they are for) are replaced one by one, and a component the base lacks
/// is added whole.
fn merge_components(
    base: &mut BTreeMap<String, RawComponent>,
    overrides: &BTreeMap<String, RawComponent>,
) {
    for (name, o) in overrides {
        let Some(b) = base.get_mut(name) else {
            base.insert(name.clone(), o.clone());
            continue;
        };
        if !o.bins.is_empty() {
            b.bins = o.bins.clone();
        }
        if !o.static_pod.is_empty() {
            b.static_pod = o.static_pod.clone();
        }
        if o.settings.is_some() {
            b.settings = o.settings.clone();
        }
        if o.config_file.is_some() {
            b.config_file = o.config_file.clone();
        }
        if o.drop_in_dir.is_some() {
            b.drop_in_dir = o.drop_in_dir.clone();
        }
        for (f, src) in &o.files {
            b.files.insert(f.clone(), src.clone());
        }
        for d in &o.defaults {
            let same = |e: &&mut RawDefault| {
                e.flag == d.flag && e.path == d.path && e.env == d.env && e.key == d.key
            };
            match b.defaults.iter_mut().find(|e| same(e)) {
                Some(e) => *e = d.clone(),
                None => b.defaults.push(d.clone()),
            }
        }
        if o.journal.is_some() {
            b.journal = o.journal.clone();
        }
        if o.present_with.is_some() {
            b.present_with = o.present_with.clone();
        }
    }
}

/// Parsing YAML is most of the load time: parse every controls file on
/// all cores first, then validate in order so errors stay deterministic.
fn parse_controls_files(c: &mut Collector, target_mapping: &BTreeMap<String, Vec<String>>) {
    let rels: Vec<String> = target_mapping
        .iter()
        .filter(|(b, _)| c.wants_controls(b))
        .flat_map(|(b, ts)| ts.iter().map(move |t| format!("{b}/{t}.yaml")))
        .collect();
    c.parsed = parse_all(c.source, &rels);
}

/// Kubernetes versions with their benchmark, and other names with theirs.
type VersionTables = (Vec<(KubeVersion, String)>, Vec<(String, String)>);

/// `version_mapping` split into Kubernetes versions (sorted) and, where the
/// form allows them, other names (`ocp-3.10`, `gke-1.0`).
fn version_tables(
    c: &mut Collector,
    config_text: &str,
    mapping: &BTreeMap<String, String>,
    target_mapping: &BTreeMap<String, Vec<String>>,
    aliases_allowed: bool,
) -> VersionTables {
    let mut versions = Vec::new();
    let mut aliases = Vec::new();
    for (version, bench) in mapping {
        match KubeVersion::parse(version) {
            Some(v) if v.to_string() == *version => versions.push((v, bench.clone())),
            _ if aliases_allowed => aliases.push((version.clone(), bench.clone())),
            _ => {
                let line = config_text
                    .lines()
                    .position(|l| l.trim_start().starts_with(&format!("\"{version}\"")))
                    .map(|i| i + 1);
                c.push(
                    "config.yaml",
                    line,
                    None,
                    format!(
                        "version_mapping key {version:?} is not a Kubernetes major.minor version"
                    ),
                );
            }
        }
        if !target_mapping.contains_key(bench) {
            c.push(
                "config.yaml",
                None,
                None,
                format!("version_mapping maps {version} to {bench:?}, which target_mapping does not list"),
            );
        }
    }
    versions.sort();
    (versions, aliases)
}

/// A cfg in kube-bench's form: its config.yaml's sections become target
/// rules, components and per-target variables; its controls files are read
/// with kube-bench's leniency.
fn load_kube_bench(
    mut c: Collector,
    config_text: &str,
    doc: serde_json::Value,
) -> Result<Catalog, CfgErrors> {
    let cfg = match KubeBenchConfig::from_document(doc) {
        Ok(cfg) => cfg,
        Err(m) => {
            c.push("config.yaml", None, None, m);
            return Err(CfgErrors(c.errors));
        }
    };
    let (version_mapping, version_aliases) = version_tables(
        &mut c,
        config_text,
        &cfg.version_mapping,
        &cfg.target_mapping,
        true,
    );
    let global = cfg.merged(None);
    let mut target_names: Vec<String> = Vec::new();
    for ts in cfg.target_mapping.values() {
        for t in ts {
            if !target_names.contains(t) {
                target_names.push(t.clone());
            }
        }
    }
    let targets = target_names
        .iter()
        .map(|t| TargetRule {
            name: t.clone(),
            detect: kube_bench::detect_rule(&global, t),
        })
        .collect();

    parse_controls_files(&mut c, &cfg.target_mapping);
    let mut benchmarks = BTreeMap::new();
    for (bench, bench_targets) in &cfg.target_mapping {
        let errors_before = c.errors.len();
        let overrides_rel = format!("{bench}/config.yaml");
        let bench_doc = match c.source.read(&overrides_rel) {
            Ok(Some(text)) => match yaml::to_document(&text) {
                Ok(d) => Some(d),
                Err(e) => {
                    c.push(&overrides_rel, e.line, None, e.message);
                    None
                }
            },
            Ok(None) => None,
            Err(msg) => {
                c.push_read_failure(&overrides_rel, msg);
                None
            }
        };
        let merged = cfg.merged(bench_doc);
        let components = kube_bench::components_for(&merged, bench_targets);
        let mut variables = BTreeMap::new();
        for t in bench_targets {
            match kube_bench::target_components(&merged, t) {
                Some(tc) => {
                    variables.insert(t.clone(), tc.variables);
                }
                None => c.push(
                    "config.yaml",
                    None,
                    None,
                    format!("benchmark {bench} lists target {t:?}, but the configuration has no {t} section"),
                ),
            }
        }
        let form = CfgForm::KubeBench;
        let (targets, vars) = (bench_targets, &variables);
        if let Some(b) = load_benchmark(
            &mut c,
            form,
            bench,
            targets,
            (components, BTreeSet::new()),
            vars,
            errors_before,
        ) {
            benchmarks.insert(bench.clone(), b);
        }
    }
    let origin = c.source.describe();
    finish(
        c,
        Catalog {
            form: CfgForm::KubeBench,
            version_mapping,
            version_aliases,
            version_from: Vec::new(),
            distributions: Vec::new(),
            targets,
            benchmarks,
            origin,
        },
    )
}

/// The project's components of a benchmark: the global ones with the
/// benchmark folder's config.yaml overrides.
fn project_components(
    c: &mut Collector,
    bench: &str,
    global: &BTreeMap<String, RawComponent>,
    config_text: &str,
) -> (BTreeMap<String, Component>, BTreeSet<String>) {
    let mut raw_components = global.clone();
    let mut component_file = ("config.yaml".to_string(), config_text.to_string());
    let overrides_rel = format!("{bench}/config.yaml");
    match c.source.read(&overrides_rel) {
        Ok(Some(text)) => {
            if let Some(o) = c.parse::<RawBenchmarkConfig>(&overrides_rel, &text) {
                merge_components(&mut raw_components, &o.components);
            }
            component_file = (overrides_rel, text);
        }
        Ok(None) => {}
        Err(f) => c.push_read_failure(&overrides_rel, f),
    }

    let mut components = BTreeMap::new();
    // Components that are defined but wrong: their errors are reported
    // once, not again for every check that names them.
    let mut broken = std::collections::BTreeSet::new();
    for (name, rc) in &raw_components {
        // An override's errors point at the override file when it defines
        // the component, else at the global config.
        let overridden =
            component_file.0 != "config.yaml" && component_line(&component_file.1, name).is_some();
        let (file, text) = if overridden {
            (component_file.0.as_str(), component_file.1.as_str())
        } else {
            ("config.yaml", config_text)
        };
        let line = || component_line(text, name);
        match convert_component(c, file, &line, name, rc) {
            Some(comp) => {
                components.insert(name.clone(), comp);
            }
            None => {
                broken.insert(name.clone());
            }
        }
    }
    (components, broken)
}

/// Where a key the mirror does not know sits, for the error message.
fn describe_unknown(path: &[String]) -> (Option<(usize, usize)>, String) {
    let key = path.last().cloned().unwrap_or_default();
    let idx = |i: usize| path.get(i).and_then(|s| s.parse::<usize>().ok());
    let check = match (
        path.first().map(String::as_str),
        path.get(2).map(String::as_str),
    ) {
        (Some("groups"), Some("checks")) => idx(1).zip(idx(3)),
        _ => None,
    };
    let place = match (path.get(4).map(String::as_str), path.len()) {
        (Some("tests"), 6) => " in tests".to_string(),
        (Some("tests"), 8) => format!(" in test item {}", idx(6).map_or(0, |n| n + 1)),
        (Some("tests"), 9) => format!(
            " in the compare of test item {}",
            idx(6).map_or(0, |n| n + 1)
        ),
        _ if check.is_none() && path.len() == 3 => " in a group".to_string(),
        _ => String::new(),
    };
    (check, format!("unknown key `{key}`{place}"))
}

/// The line of `key:` at or after `from` (1-based), before the next check.
fn key_line_after(text: &str, from: usize, key: &str) -> Option<usize> {
    let needle = format!("{key}:");
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .take_while(|(i, l)| *i + 1 == from || id_on_line(l).is_none())
        .find(|(_, l)| {
            let t = l.trim_start().trim_start_matches('-').trim_start();
            t.starts_with(&needle)
        })
        .map(|(i, _)| i + 1)
}

fn load_controls(
    c: &mut Collector,
    form: CfgForm,
    bench: &str,
    target_names: &[String],
    known: &KnownComponents,
    variables: &BTreeMap<String, Vec<ShellVariable>>,
) -> Vec<Controls> {
    let mut controls = Vec::new();
    let mut seen_ids: HashMap<String, Location> = HashMap::new();
    let controls_loaded = c.wants_controls(bench);
    for target in target_names.iter().filter(|_| controls_loaded) {
        let rel = format!("{bench}/{target}.yaml");
        let read = match c.parsed.remove(&rel) {
            Some(r) => r,
            None => c.source.read(&rel).map(|t| {
                t.map(|text| {
                    (
                        text.clone(),
                        yaml::from_str_with_unknown::<RawControls>(&text),
                    )
                })
            }),
        };
        let (text, parsed) = match read {
            Ok(Some(pair)) => pair,
            // The mapping that names the file is what to fix (or the file
            // is what to add): point at the mapping.
            Ok(None) => {
                c.push(
                    "config.yaml",
                    entry_line(&c.config_text, "target_mapping", bench),
                    None,
                    format!("target_mapping lists target {target} for {bench}, but {rel} does not exist"),
                );
                continue;
            }
            Err(f) => {
                c.push_read_failure(&rel, f);
                continue;
            }
        };
        let (raw, unknown) = match parsed {
            Ok(pair) => pair,
            Err(e) => {
                c.push_yaml_error(&rel, &text, e);
                continue;
            }
        };
        let mut lines = IdLines::of(&text);
        if form == CfgForm::Project {
            for path in &unknown {
                let (check, message) = describe_unknown(path);
                let check_id = check.and_then(|(g, i)| {
                    raw.groups
                        .get(g)
                        .and_then(|grp| grp.checks.get(i))
                        .map(|ch| ch.id.clone())
                });
                let check_line = check_id.as_ref().and_then(|id| lines.first(id));
                let key = path.last().map(String::as_str).unwrap_or_default();
                let line = check_line
                    .and_then(|l| key_line_after(&text, l, key))
                    .or(check_line);
                c.push(&rel, line, check_id.as_deref(), message);
            }
        }
        if raw.target != *target {
            c.push(
                &rel,
                top_level_line(&text, "type"),
                None,
                format!(
                    "type is {:?} but the file is the {target:?} target",
                    raw.target
                ),
            );
        }
        // kube-bench does not compare the two (its microk8s folder reuses
        // another benchmark's files).
        if let (Some(v), CfgForm::Project) = (&raw.version, form) {
            if v != bench {
                c.push(
                    &rel,
                    None,
                    None,
                    format!("version is {v:?} but the folder is {bench:?}"),
                );
            }
        }
        let mut groups = Vec::new();
        for g in raw.groups {
            let group_line = lines.next(&g.id);
            let skip = match (g.kind.as_deref(), form) {
                (None | Some(""), _) => false,
                (Some("skip"), _) => true,
                // kube-bench skips a group only for exactly "skip".
                (Some(_), CfgForm::KubeBench) => false,
                (Some(other), CfgForm::Project) => {
                    c.push(
                        &rel,
                        group_line,
                        None,
                        format!("group {}: type {other:?} is not \"skip\"", g.id),
                    );
                    false
                }
            };
            let mut checks = Vec::new();
            for rc in g.checks {
                let location = Location {
                    file: c.source.display_path(&rel),
                    line: lines.next(&rc.id),
                };
                // kube-bench does not require unique IDs (its STIG folder
                // repeats some across targets).
                if let (Some(prev), CfgForm::Project) = (seen_ids.get(&rc.id), form) {
                    c.push(
                        &rel,
                        location.line,
                        Some(&rc.id),
                        format!("duplicate check ID (first defined at {prev})"),
                    );
                    continue;
                }
                seen_ids.insert(rc.id.clone(), location.clone());
                let check = match (form, &rc.audit) {
                    (CfgForm::KubeBench, _) | (_, Some(RawAuditSpec::Shell(_))) => {
                        convert_shell_check(c, form, &rel, location, rc)
                    }
                    _ => convert_check(c, &rel, location, rc, known),
                };
                if let Some(check) = check {
                    checks.push(check);
                }
            }
            groups.push(Group {
                id: g.id,
                text: g.text,
                skip,
                checks,
            });
        }
        controls.push(Controls {
            id: raw.id,
            version: raw.version.unwrap_or_else(|| match form {
                CfgForm::Project => bench.to_string(),
                CfgForm::KubeBench => String::new(),
            }),
            text: raw.text,
            target: target.clone(),
            groups,
            file: c.source.display_path(&rel),
            variables: variables.get(target).cloned().unwrap_or_default(),
        });
    }
    controls
}

fn parse_query(
    flag: &Option<String>,
    path: &Option<String>,
    env: &Option<String>,
    key: &Option<String>,
) -> Result<SettingQuery, String> {
    if let Some(f) = flag {
        if !f.starts_with('-') && key.is_none() {
            return Err(format!("flag {f:?} must start with '-'"));
        }
    }
    let path = path.as_deref().map(JsonPath::parse).transpose()?;
    Ok(SettingQuery {
        flag: flag.clone(),
        path,
        env: env.clone(),
        key: key.clone(),
    })
}

/// `applies_when`: a settings test item on a known component.
fn convert_condition(
    raw: &RawCondition,
    components: &BTreeMap<String, Component>,
) -> Result<Condition, String> {
    if !components.contains_key(&raw.settings) {
        return Err(format!("unknown component {:?}", raw.settings));
    }
    let query = parse_query(&raw.flag, &raw.path, &raw.env, &raw.key)?;
    if query.is_empty() {
        return Err("needs flag, path or env".to_string());
    }
    let set = match raw.set.as_deref() {
        None => true,
        Some(s) => parse_bool(s).ok_or_else(|| format!("set must be true or false, not {s:?}"))?,
    };
    let compare = raw.compare.as_ref().map(convert_compare).transpose()?;
    Ok(Condition {
        component: raw.settings.clone(),
        item: TestItem {
            query,
            stat: None,
            set,
            compare,
        },
    })
}

fn parse_filter(
    pattern: &Option<String>,
    recursive: &Option<String>,
) -> Result<Option<DirFilter>, String> {
    let recursive = match recursive.as_deref() {
        None => false,
        Some(r) => {
            parse_bool(r).ok_or_else(|| format!("recursive must be true or false, not {r:?}"))?
        }
    };
    match pattern {
        None if recursive => Err("recursive needs a pattern".to_string()),
        None => Ok(None),
        Some(p) => {
            let glob = globset::GlobBuilder::new(p)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("pattern {p:?} is not a valid glob: {e}"))?;
            Ok(Some(DirFilter {
                pattern: p.clone(),
                matcher: glob.compile_matcher(),
                recursive,
            }))
        }
    }
}

fn convert_file_source(raw: &RawFileSource) -> Result<FileSource, String> {
    let query = parse_query(&raw.flag, &raw.path, &raw.env, &raw.key)?;
    for cand in &raw.candidates {
        if !cand.starts_with('/') {
            return Err(format!("candidate {cand:?} is not an absolute path"));
        }
    }
    let static_pod_manifest = match raw.static_pod_manifest.as_deref() {
        None => false,
        Some(v) => parse_bool(v)
            .ok_or_else(|| format!("static_pod_manifest must be true or false, not {v:?}"))?,
    };
    let fs = FileSource {
        setting: (!query.is_empty()).then_some(query),
        candidates: raw.candidates.clone(),
        systemd_unit: raw.systemd_unit.clone(),
        static_pod_manifest,
        filter: parse_filter(&raw.pattern, &raw.recursive)?,
    };
    if fs.setting.is_none()
        && fs.candidates.is_empty()
        && fs.systemd_unit.is_none()
        && !fs.static_pod_manifest
    {
        return Err(
            "names no source (flag, path, env, candidates, systemd_unit or static_pod_manifest)"
                .to_string(),
        );
    }
    Ok(fs)
}

fn convert_component(
    c: &mut Collector,
    file: &str,
    // Where the component is defined, looked up only to report a mistake.
    line: &dyn Fn() -> Option<usize>,
    name: &str,
    raw: &RawComponent,
) -> Option<Component> {
    let before = c.errors.len();
    let err = |c: &mut Collector, msg: String| {
        c.push(file, line(), None, format!("component {name}: {msg}"))
    };
    let settings = match raw.settings.as_deref() {
        None | Some("flags") => SettingsModel::Flags,
        Some("kubelet") => SettingsModel::Kubelet,
        Some("etcd") => SettingsModel::Etcd,
        Some(other) => {
            err(
                c,
                format!("settings {other:?} is not one of flags, kubelet, etcd"),
            );
            SettingsModel::Flags
        }
    };
    let bins: Vec<Vec<String>> = raw
        .bins
        .iter()
        .map(|b| b.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
        .collect();
    if bins.len() != raw.bins.len() {
        err(c, "a bins entry is empty".to_string());
    }
    let one = |c: &mut Collector, what: &str, src: &Option<RawFileSource>| -> Option<FileSource> {
        let s = src.as_ref()?;
        match convert_file_source(s) {
            Ok(fs) => Some(fs),
            Err(m) => {
                c.push(file, line(), None, format!("component {name}: {what}: {m}"));
                None
            }
        }
    };
    let config_file = one(c, "config_file", &raw.config_file);
    let drop_in_dir = one(c, "drop_in_dir", &raw.drop_in_dir);
    let mut files = BTreeMap::new();
    for (fname, src) in &raw.files {
        if let Some(fs) = one(c, &format!("file {fname}"), &Some(src.clone())) {
            files.insert(fname.clone(), fs);
        }
    }
    let mut defaults = Vec::new();
    for d in &raw.defaults {
        match parse_query(&d.flag, &d.path, &d.env, &d.key) {
            Ok(q) if !q.is_empty() => defaults.push(SettingDefault {
                query: q,
                value: d.value.clone(),
                flags_only: d.flags_only.clone(),
                config_unset: d.config_unset.clone(),
            }),
            Ok(_) => c.push(
                file,
                line(),
                None,
                format!("component {name}: a default names no flag, path or env"),
            ),
            Err(m) => c.push(
                file,
                line(),
                None,
                format!("component {name}: default: {m}"),
            ),
        }
    }
    let journal = raw
        .journal
        .as_ref()
        .and_then(|j| match bins_words(&j.carriers) {
            Ok(carriers)
                if !carriers.is_empty() && !j.units.is_empty() && !j.marker.trim().is_empty() =>
            {
                Some(JournalSource {
                    units: j.units.clone(),
                    marker: j.marker.clone(),
                    carriers,
                })
            }
            Ok(_) => {
                err(c, "journal needs units, a marker and carriers".to_string());
                None
            }
            Err(m) => {
                err(c, format!("journal carriers: {m}"));
                None
            }
        });
    let present_with = raw
        .present_with
        .as_ref()
        .and_then(|p| match bins_words(&p.carriers) {
            Ok(carriers) if !carriers.is_empty() && !p.paths.is_empty() => Some(PresentWith {
                paths: p.paths.clone(),
                carriers,
            }),
            Ok(_) => {
                err(c, "present_with needs paths and carriers".to_string());
                None
            }
            Err(m) => {
                err(c, format!("present_with carriers: {m}"));
                None
            }
        });
    (c.errors.len() == before).then(|| Component {
        name: name.to_string(),
        bins,
        static_pod: raw.static_pod.clone(),
        settings,
        config_file,
        drop_in_dir,
        files,
        defaults,
        journal,
        present_with,
    })
}

/// The components a check may name: those that loaded, and those that are
/// defined but were reported wrong (a check naming one is not reported
/// again for it).
struct KnownComponents<'a> {
    valid: &'a BTreeMap<String, Component>,
    broken: &'a std::collections::BTreeSet<String>,
}

impl KnownComponents<'_> {
    fn names_broken(&self, audit: &RawAudit) -> bool {
        let named = [
            audit.settings.as_ref(),
            audit.file.as_ref().and_then(|f| f.component.as_ref()),
            audit.document.as_ref().and_then(|f| f.component.as_ref()),
        ];
        named.into_iter().flatten().any(|c| self.broken.contains(c))
    }
}

fn convert_file_ref(
    raw: &RawFileRef,
    components: &BTreeMap<String, Component>,
) -> Result<FileRef, String> {
    let filter = parse_filter(&raw.pattern, &raw.recursive)?;
    let forms = [
        raw.component.is_some() || raw.name.is_some(),
        raw.path.is_some() || !raw.paths.is_empty(),
        raw.dir.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if forms != 1 {
        return Err(
            "a file reference needs exactly one of {component, name}, path/paths, or dir"
                .to_string(),
        );
    }
    if let Some(comp) = &raw.component {
        let name = raw
            .name
            .clone()
            .ok_or_else(|| format!("file reference to component {comp} needs a name"))?;
        let def = components
            .get(comp)
            .ok_or_else(|| format!("unknown component {comp:?}"))?;
        if !def.files.contains_key(&name) {
            let known: Vec<&str> = def.files.keys().map(String::as_str).collect();
            return Err(format!(
                "component {comp} has no file named {name:?} (it has: {})",
                known.join(", ")
            ));
        }
        return Ok(FileRef::Named {
            component: comp.clone(),
            name,
            filter,
        });
    }
    if raw.name.is_some() {
        return Err("name needs a component".to_string());
    }
    if let Some(dir) = &raw.dir {
        if !dir.starts_with('/') {
            return Err(format!("dir {dir:?} is not an absolute path"));
        }
        let filter = filter.ok_or_else(|| "dir needs a pattern".to_string())?;
        return Ok(FileRef::Dir {
            dir: dir.clone(),
            filter,
        });
    }
    if filter.is_some() {
        return Err("pattern only applies to dir or a named directory".to_string());
    }
    let mut paths: Vec<String> = raw.path.iter().cloned().collect();
    paths.extend(raw.paths.iter().cloned());
    if let Some(p) = paths.iter().find(|p| !p.starts_with('/')) {
        return Err(format!("path {p:?} is not absolute"));
    }
    Ok(FileRef::Paths(paths))
}

fn convert_compare(raw: &RawCompare) -> Result<Compare, String> {
    let op = CompareOp::parse(&raw.op).ok_or_else(|| {
        format!(
            "unknown compare op {:?} (known: {})",
            raw.op,
            CompareOp::NAMES
        )
    })?;
    let value = raw
        .value
        .clone()
        .ok_or_else(|| format!("compare op {} needs a value", raw.op))?;
    let regex = if op == CompareOp::Regex {
        Some(Regex::new(&value).map_err(|e| {
            // The regex crate draws a caret diagram over several lines;
            // its last line says what is wrong.
            let text = e.to_string();
            let why = text.lines().last().unwrap_or_default();
            let why = why.strip_prefix("error: ").unwrap_or(why);
            format!("regex {value:?} does not compile: {why}")
        })?)
    } else {
        None
    };
    if matches!(op, CompareOp::Bitmask | CompareOp::ModeEq)
        && u32::from_str_radix(&value, 8).is_err()
    {
        return Err(format!("{} needs an octal mode, not {value:?}", raw.op));
    }
    Ok(Compare { op, value, regex })
}

fn convert_check(
    c: &mut Collector,
    rel: &str,
    location: Location,
    raw: RawCheck,
    known: &KnownComponents,
) -> Option<Check> {
    let components = known.valid;
    let before = c.errors.len();
    let line = location.line;
    let id = raw.id.clone();
    let err = |c: &mut Collector, msg: String| c.push(rel, line, Some(&id), msg);

    if raw.id.trim().is_empty() {
        err(c, "the check ID is empty".to_string());
    }
    let kind = match raw.kind.as_deref() {
        None | Some("") => CheckKind::Audited,
        Some("manual") => CheckKind::Manual,
        Some("skip") => CheckKind::Skip,
        Some(other) => {
            err(c, format!("type {other:?} is not manual or skip"));
            CheckKind::Audited
        }
    };
    let scored = match raw.scored.as_deref() {
        None => false,
        Some(s) => parse_bool(s).unwrap_or_else(|| {
            err(c, format!("scored must be true or false, not {s:?}"));
            false
        }),
    };
    let if_absent = match raw.if_absent.as_deref() {
        None | Some("info") => AbsentVerdict::Info,
        Some("pass") => AbsentVerdict::Pass,
        Some(other) => {
            err(c, format!("if_absent {other:?} is not info or pass"));
            AbsentVerdict::Info
        }
    };
    for (key, present) in [
        ("audit_config", raw.audit_config.is_some()),
        ("audit_env", raw.audit_env.is_some()),
        ("use_multiple_values", raw.use_multiple_values.is_some()),
        ("disableenvtesting", raw.disableenvtesting.is_some()),
    ] {
        if present {
            err(
                c,
                format!("{key} applies to a shell audit (a string audit)"),
            );
        }
    }
    let applies_when = match raw
        .applies_when
        .as_ref()
        .map(|w| convert_condition(w, components))
    {
        None => None,
        Some(Ok(cond)) => Some(cond),
        Some(Err(m)) => {
            err(c, format!("applies_when: {m}"));
            None
        }
    };
    let audit = match &raw.audit {
        None => None,
        Some(RawAuditSpec::Shell(_)) => {
            unreachable!("checks with a shell audit are converted by convert_shell_check")
        }
        Some(RawAuditSpec::Typed(a)) if known.names_broken(a) => None,
        Some(RawAuditSpec::Typed(a)) => {
            let forms = [a.settings.is_some(), a.file.is_some(), a.document.is_some()]
                .iter()
                .filter(|b| **b)
                .count();
            if forms != 1 {
                err(
                    c,
                    "audit needs exactly one of settings, file, document".to_string(),
                );
                None
            } else if let Some(comp) = &a.settings {
                if components.contains_key(comp) {
                    Some(Audit::Settings {
                        component: comp.clone(),
                    })
                } else {
                    err(c, format!("audit names unknown component {comp:?}"));
                    None
                }
            } else {
                let (is_file, r) = match (&a.file, &a.document) {
                    (Some(f), _) => (true, f),
                    (None, Some(d)) => (false, d),
                    (None, None) => unreachable!("exactly one audit form was counted above"),
                };
                match convert_file_ref(r, components) {
                    Ok(fr) if is_file => Some(Audit::File(fr)),
                    Ok(fr) => Some(Audit::Document(fr)),
                    Err(m) => {
                        err(c, format!("audit: {m}"));
                        None
                    }
                }
            }
        }
    };
    if kind == CheckKind::Audited && raw.audit.is_none() {
        err(
            c,
            "an audited check needs an audit (or type: manual / skip)".to_string(),
        );
    }

    let bin_op = match raw.tests.as_ref().and_then(|t| t.bin_op.as_deref()) {
        None | Some("and") | Some("") => BinOp::And,
        Some("or") => BinOp::Or,
        Some(other) => {
            err(c, format!("bin_op {other:?} is not and / or"));
            BinOp::And
        }
    };
    let mut items = Vec::new();
    for (n, ri) in raw
        .tests
        .iter()
        .flat_map(|t| t.test_items.iter())
        .enumerate()
    {
        let n = n + 1;
        let query = match parse_query(&ri.flag, &ri.path, &ri.env, &ri.key) {
            Ok(q) => q,
            Err(m) => {
                err(c, format!("test item {n}: {m}"));
                continue;
            }
        };
        let stat = match ri.stat.as_deref() {
            None => None,
            Some("mode") => Some(StatField::Mode),
            Some("owner") => Some(StatField::Owner),
            Some("user") => Some(StatField::User),
            Some("group") => Some(StatField::Group),
            Some(other) => {
                err(
                    c,
                    format!("test item {n}: stat {other:?} is not mode, owner, user or group"),
                );
                continue;
            }
        };
        let set = match ri.set.as_deref() {
            None => true,
            Some(s) => match parse_bool(s) {
                Some(b) => b,
                None => {
                    err(
                        c,
                        format!("test item {n}: set must be true or false, not {s:?}"),
                    );
                    continue;
                }
            },
        };
        let compare = match ri.compare.as_ref().map(convert_compare).transpose() {
            Ok(cmp) => cmp,
            Err(m) => {
                err(c, format!("test item {n}: {m}"));
                continue;
            }
        };
        match &audit {
            Some(Audit::Settings { .. }) if query.is_empty() || stat.is_some() => {
                err(
                    c,
                    format!(
                        "test item {n}: a settings audit needs flag, path or env (and no stat)"
                    ),
                );
            }
            Some(Audit::File(_)) if stat.is_none() || !query.is_empty() => {
                err(
                    c,
                    format!("test item {n}: a file audit needs stat (and no flag, path or env)"),
                );
            }
            Some(Audit::Document(_))
                if query.path.is_none() || stat.is_some() || query.flag.is_some() =>
            {
                err(
                    c,
                    format!("test item {n}: a document audit needs path (and no flag or stat)"),
                );
            }
            _ => {}
        }
        if query.key.is_some() && query.flag.is_none() {
            err(c, format!("test item {n}: key applies to a flag"));
        }
        items.push(TestItem {
            query,
            stat,
            set,
            compare,
        });
    }
    if kind == CheckKind::Audited && items.is_empty() && c.errors.len() == before {
        err(
            c,
            "an audited check needs at least one test item".to_string(),
        );
    }

    (c.errors.len() == before).then(|| Check {
        id: raw.id,
        text: raw.text,
        kind,
        audit,
        tests: Tests { bin_op, items },
        remediation: raw.remediation.unwrap_or_default(),
        scored,
        if_absent,
        applies_when,
        location,
    })
}

/// The compare ops kube-bench knows, for shell audits in the project's form
/// (kube-bench's own form accepts any op, as kube-bench does: an unknown
/// op is a test that fails).
const SHELL_OPS: [&str; 11] = [
    "eq",
    "noteq",
    "gt",
    "gte",
    "lt",
    "lte",
    "has",
    "nothave",
    "regex",
    "valid_elements",
    "bitmask",
];

/// A check whose audit is a shell command (every check of a cfg in
/// kube-bench's form, and string audits in the project's form).
fn convert_shell_check(
    c: &mut Collector,
    form: CfgForm,
    rel: &str,
    location: Location,
    raw: RawCheck,
) -> Option<Check> {
    let before = c.errors.len();
    let line = location.line;
    let id = raw.id.clone();
    let err = |c: &mut Collector, msg: String| c.push(rel, line, Some(&id), msg);
    let strict = form == CfgForm::Project;

    if c.builtin {
        err(
            c,
            "the built-in cfg must not contain a shell audit: its checks are typed and never start a process"
                .to_string(),
        );
    }
    let check_type = raw.kind.clone().unwrap_or_default();
    let kind = match check_type.as_str() {
        "manual" => CheckKind::Manual,
        "skip" => CheckKind::Skip,
        "" => CheckKind::Audited,
        other => {
            if strict {
                err(c, format!("type {other:?} is not manual or skip"));
            }
            CheckKind::Audited
        }
    };
    let boolean = |c: &mut Collector, key: &str, v: &Option<String>, default: bool| match v {
        None => default,
        Some(s) => parse_bool(s).unwrap_or_else(|| {
            c.push(
                rel,
                line,
                Some(&id),
                format!("{key} must be true or false, not {s:?}"),
            );
            default
        }),
    };
    let scored = boolean(c, "scored", &raw.scored, false);
    let use_multiple_values = boolean(c, "use_multiple_values", &raw.use_multiple_values, false);
    let disable_env_testing = boolean(c, "disableenvtesting", &raw.disableenvtesting, false);
    let audit = match raw.audit {
        Some(RawAuditSpec::Shell(s)) => s,
        Some(RawAuditSpec::Typed(_)) => {
            err(
                c,
                "a typed audit (a mapping) is not part of kube-bench's cfg form; write the audit as a shell command"
                    .to_string(),
            );
            String::new()
        }
        None => String::new(),
    };
    if strict && (raw.if_absent.is_some() || raw.applies_when.is_some()) {
        err(
            c,
            "if_absent and applies_when apply to typed audits".to_string(),
        );
    }
    let tests = raw.tests.map(|t| {
        let bin_op = t.bin_op.unwrap_or_default();
        if strict && !matches!(bin_op.as_str(), "" | "and" | "or") {
            err(c, format!("bin_op {bin_op:?} is not and / or"));
        }
        let mut items = Vec::new();
        for (n, ri) in t.test_items.into_iter().enumerate() {
            let n = n + 1;
            if strict && (ri.key.is_some() || ri.stat.is_some()) {
                err(
                    c,
                    format!("test item {n}: key and stat apply to typed audits"),
                );
            }
            let set = boolean(c, &format!("test item {n}: set"), &ri.set, true);
            let (op, value) = match ri.compare {
                Some(cmp) => (cmp.op, cmp.value.unwrap_or_default()),
                None => (String::new(), String::new()),
            };
            if strict && !op.is_empty() && !SHELL_OPS.contains(&op.as_str()) {
                err(
                    c,
                    format!(
                        "test item {n}: unknown compare op {op:?} for a shell audit (known: {})",
                        SHELL_OPS.join(", ")
                    ),
                );
            }
            // kube-bench compiles the regex when the test runs and stops
            // with a panic when it does not compile; say so before running.
            if op == "regex" {
                if let Err(e) = Regex::new(&value) {
                    err(
                        c,
                        format!("test item {n}: regex {value:?} does not compile: {e}"),
                    );
                }
            }
            items.push(ShellItem {
                flag: ri.flag.unwrap_or_default(),
                path: ri.path.unwrap_or_default(),
                env: ri.env.unwrap_or_default(),
                set,
                op,
                value,
            });
        }
        ShellTests { bin_op, items }
    });
    (c.errors.len() == before).then(|| Check {
        id: raw.id,
        text: raw.text,
        kind,
        audit: Some(Audit::Shell(ShellAudit {
            audit,
            audit_config: raw.audit_config.unwrap_or_default(),
            audit_env: raw.audit_env.unwrap_or_default(),
            use_multiple_values,
            disable_env_testing,
            check_type,
            tests,
        })),
        tests: Tests {
            bin_op: BinOp::And,
            items: Vec::new(),
        },
        remediation: raw.remediation.unwrap_or_default(),
        scored,
        if_absent: AbsentVerdict::Info,
        applies_when: None,
        location,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_cfg(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    const CONFIG: &str = "version_mapping:\n  \"1.30\": b\ntarget_mapping:\n  b: [master]\ncomponents:\n  apiserver:\n    bins: [kube-apiserver]\n    files:\n      manifest: {static_pod_manifest: true}\n";

    fn load_with(master: &str) -> Result<Catalog, CfgErrors> {
        let dir = write_cfg(&[("config.yaml", CONFIG), ("b/master.yaml", master)]);
        load_catalog(&CfgSource::Dir(dir.path().to_path_buf()))
    }

    const HEAD: &str = "controls:\nversion: b\nid: 1\ntext: t\ntype: master\ngroups:\n  - id: 1.1\n    text: g\n    checks:\n";

    #[test]
    fn distribution_and_benchmark_overrides_merge_field_by_field() {
        let config = "version_mapping:\n  \"1.30\": b\ntarget_mapping:\n  b: [master]\n  d: [master]\n\
components:\n  apiserver:\n    bins: [kube-apiserver]\n    files:\n      manifest: {static_pod_manifest: true}\n      pki-dir: {candidates: [/etc/kubernetes/pki]}\n    defaults:\n      - {flag: --a, value: \"1\"}\n      - {flag: --b, value: \"2\"}\n\
distributions:\n  dist:\n    title: Dist\n    detect: {paths: [/var/lib/dist]}\n    benchmark: d\n    components:\n      apiserver:\n        files:\n          pki-dir: {candidates: [/var/lib/dist/tls]}\n";
        let bench_cfg = "components:\n  apiserver:\n    defaults:\n      - {flag: --a, value: \"9\"}\n      - {flag: --c, value: \"3\"}\n";
        let master = |b: &str| HEAD.replace("version: b", &format!("version: {b}"));
        let dir = write_cfg(&[
            ("config.yaml", config),
            ("b/master.yaml", &master("b")),
            ("d/master.yaml", &master("d")),
            ("d/config.yaml", bench_cfg),
        ]);
        let cat = load_catalog(&CfgSource::Dir(dir.path().to_path_buf())).unwrap();
        let upstream = &cat.benchmark("b").unwrap().components["apiserver"];
        let dist = &cat.benchmark("d").unwrap().components["apiserver"];
        assert_eq!(
            upstream.files["pki-dir"].candidates,
            ["/etc/kubernetes/pki"]
        );
        assert_eq!(dist.files["pki-dir"].candidates, ["/var/lib/dist/tls"]);
        assert!(
            dist.files["manifest"].static_pod_manifest,
            "other files stay"
        );
        assert_eq!(dist.bins, upstream.bins, "fields not given stay");
        let defaults: Vec<(String, String)> = dist
            .defaults
            .iter()
            .map(|d| (d.query.flag.clone().unwrap(), d.value.clone()))
            .collect();
        assert_eq!(
            defaults,
            [
                ("--a".into(), "9".into()),
                ("--b".into(), "2".into()),
                ("--c".into(), "3".into())
            ]
        );
        assert_eq!(
            cat.distribution_of("d").map(|d| d.name.as_str()),
            Some("dist")
        );
        assert!(cat.distribution_of("b").is_none());
    }

    #[test]
    fn the_embedded_cfg_loads() {
        let cat = load_catalog(&CfgSource::Embedded).unwrap_or_else(|e| panic!("{e}"));
        assert!(cat.benchmark("cis-1.12").is_some());
    }

    #[test]
    fn a_valid_check_loads_with_its_line() {
        let text = format!("{HEAD}      - id: 1.1.1\n        text: x\n        audit: {{settings: apiserver}}\n        tests:\n          test_items:\n            - flag: --profiling\n              compare: {{op: eq, value: false}}\n        scored: true\n");
        let cat = load_with(&text).unwrap_or_else(|e| panic!("{e}"));
        let b = cat.benchmark("b").unwrap();
        let check = b.checks().next().unwrap();
        assert_eq!(check.location.line, Some(10));
        assert_eq!(
            check.tests.items[0].compare.as_ref().unwrap().value,
            "false"
        );
        assert!(check.scored);
    }

    #[test]
    fn every_mistake_is_reported_with_line_and_check() {
        let text = format!("{HEAD}      - id: 1.1.1\n        text: x\n        audit: {{settings: apiserver}}\n        tests:\n          test_items:\n            - flag: --a\n              compare: {{op: equal, value: x}}\n      - id: 1.1.2\n        text: y\n        audit: {{settings: apiserver}}\n        tests:\n          test_items:\n            - flag: --b\n              compare: {{op: regex, value: '(' }}\n      - id: 1.1.2\n        text: z\n        type: manual\n");
        let errs = load_with(&text).unwrap_err();
        let msgs: Vec<String> = errs.0.iter().map(|e| e.to_string()).collect();
        assert_eq!(msgs.len(), 3, "{msgs:#?}");
        assert!(
            msgs[0]
                .contains("master.yaml:10: check 1.1.1: test item 1: unknown compare op \"equal\""),
            "{}",
            msgs[0]
        );
        assert!(
            msgs[1].contains(":17: check 1.1.2:") && msgs[1].contains("does not compile"),
            "{}",
            msgs[1]
        );
        assert!(msgs[2].contains("duplicate check ID"), "{}", msgs[2]);
    }

    #[test]
    fn unknown_keys_and_syntax_errors_name_the_line() {
        let text = format!(
            "{HEAD}      - id: 1.1.1\n        text: x\n        audti: {{settings: apiserver}}\n"
        );
        let errs = load_with(&text).unwrap_err();
        let msg = errs.0[0].to_string();
        assert!(
            msg.contains("master.yaml:12") && msg.contains("audti") && msg.contains("check 1.1.1"),
            "{msg}"
        );

        let errs = load_with("controls:\n  - [unclosed\n").unwrap_err();
        assert!(errs.0[0].location.line.is_some());
    }

    #[test]
    fn unknown_component_and_file_names_are_load_errors() {
        let text = format!("{HEAD}      - id: 1.1.1\n        text: x\n        audit: {{file: {{component: apiserver, name: nope}}}}\n        tests:\n          test_items:\n            - stat: mode\n              compare: {{op: bitmask, value: \"600\"}}\n");
        let errs = load_with(&text).unwrap_err();
        assert!(
            errs.0[0].message.contains("has no file named \"nope\""),
            "{}",
            errs
        );
    }

    #[test]
    fn a_string_audit_is_a_shell_check_but_never_in_the_built_in_cfg() {
        let text = format!("{HEAD}      - id: 1.1.1\n        text: x\n        audit: \"ps -ef | grep kube-apiserver\"\n        tests:\n          test_items:\n            - flag: --profiling\n              compare: {{op: eq, value: false}}\n        scored: true\n");
        let cat = load_with(&text).unwrap_or_else(|e| panic!("{e}"));
        let check = cat.benchmark("b").unwrap().checks().next().unwrap();
        let Some(Audit::Shell(shell)) = &check.audit else {
            panic!("{:?}", check.audit)
        };
        assert_eq!(shell.audit, "ps -ef | grep kube-apiserver");
        let items = &shell.tests.as_ref().unwrap().items;
        assert_eq!(
            (items[0].op.as_str(), items[0].value.as_str()),
            ("eq", "false")
        );

        let dir = write_cfg(&[("config.yaml", CONFIG), ("b/master.yaml", &text)]);
        let errs = load_as(&CfgSource::Dir(dir.path().to_path_buf()), None, true).unwrap_err();
        assert!(
            errs.0[0].to_string().contains(
                "master.yaml:10: check 1.1.1: the built-in cfg must not contain a shell audit"
            ),
            "{errs}"
        );
    }

    #[test]
    fn shell_only_keys_are_refused_on_typed_checks_and_unknown_keys_everywhere() {
        let text = format!("{HEAD}      - id: 1.1.1\n        text: x\n        audit: {{settings: apiserver}}\n        audit_config: cat /x\n        tests:\n          scored: true\n          test_items:\n            - flag: --a\n              colour: red\n        scored: true\n");
        let errs = load_with(&text).unwrap_err();
        let msgs: Vec<String> = errs.0.iter().map(|e| e.to_string()).collect();
        assert!(
            msgs.iter()
                .any(|m| m.contains(":15: check 1.1.1: unknown key `scored` in tests")),
            "{msgs:#?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains(":18: check 1.1.1: unknown key `colour` in test item 1")),
            "{msgs:#?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("audit_config applies to a shell audit")),
            "{msgs:#?}"
        );
    }

    #[test]
    fn kube_bench_form_is_lenient_where_kube_bench_is() {
        let config = "master:\n  components: [apiserver]\n  apiserver:\n    bins: [kube-apiserver]\n    confs: [/etc/kubernetes/manifests/kube-apiserver.yaml]\nversion_mapping:\n  \"1.30\": b\n  ocp-4.0: b\ntarget_mapping:\n  b: [master]\n";
        let master = "controls:\nversion: other\nid: 1\ntext: t\ntype: master\ngroups:\n  - id: 1.1\n    text: g\n    type: automated\n    checks:\n      - id: 1.1.1\n        text: x\n        audit: stat -c %a $apiserverconf\n        type: automated\n        tests:\n          remediation: misplaced\n          bin_op: xor\n          test_items:\n            - flag: \"600\"\n              compare: {op: noteqx, value: 1}\n        labels: [ignored]\n      - id: 1.1.2\n        text: y\n        type: manual\n";
        let dir = write_cfg(&[("config.yaml", config), ("b/master.yaml", master)]);
        let cat = load_catalog(&CfgSource::Dir(dir.path().to_path_buf()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cat.form, CfgForm::KubeBench);
        assert_eq!(
            cat.version_aliases,
            vec![("ocp-4.0".to_string(), "b".to_string())]
        );
        let b = cat.benchmark("b").unwrap();
        let ctl = b.controls_for("master").unwrap();
        assert_eq!(ctl.version, "other");
        assert_eq!(ctl.variables[0].name, "apiserverbin");
        assert!(ctl.variables.iter().any(|v| v.name == "apiserverconf"));
        let checks: Vec<&Check> = b.checks().collect();
        let Some(Audit::Shell(first)) = &checks[0].audit else {
            panic!()
        };
        assert_eq!(first.check_type, "automated");
        assert_eq!(first.tests.as_ref().unwrap().bin_op, "xor");
        assert!(!checks[0].scored, "scored defaults to false");
        assert_eq!(checks[1].kind, CheckKind::Manual);
        assert!(matches!(&checks[1].audit, Some(Audit::Shell(s)) if s.tests.is_none()));
        assert_eq!(cat.targets[0].detect, vec!["apiserver"]);
        assert!(b.components["apiserver"].bins == vec![vec!["kube-apiserver".to_string()]]);
    }

    #[test]
    fn applies_when_is_a_settings_test_on_a_known_component() {
        let check = |cond: &str| {
            format!("{HEAD}      - id: 1.1.1\n        text: x\n        applies_when: {cond}\n        audit: {{settings: apiserver}}\n        tests:\n          test_items:\n            - flag: --etcd-certfile\n        scored: true\n")
        };
        let cat = load_with(&check(
            "{settings: apiserver, flag: --etcd-servers, compare: {op: nothave, value: 'unix://'}}",
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let c = cat.benchmark("b").unwrap().checks().next().unwrap().clone();
        let cond = c.applies_when.unwrap();
        assert_eq!(cond.component, "apiserver");
        assert_eq!(cond.item.query.flag.as_deref(), Some("--etcd-servers"));
        for (bad, message) in [
            ("{settings: etcd, flag: --x}", "unknown component \"etcd\""),
            ("{settings: apiserver}", "needs flag, path or env"),
            (
                "{settings: apiserver, flag: --x, compare: {op: near, value: y}}",
                "unknown compare op",
            ),
        ] {
            let errs = load_with(&check(bad)).unwrap_err();
            let msg = errs.0[0].to_string();
            assert!(
                msg.contains("check 1.1.1: applies_when:") && msg.contains(message),
                "{bad}: {msg}"
            );
        }
    }

    #[test]
    fn a_fifo_in_place_of_a_cfg_file_is_refused_at_once() {
        let dir = write_cfg(&[("config.yaml", CONFIG)]);
        std::fs::create_dir_all(dir.path().join("b")).unwrap();
        nix::unistd::mkfifo(
            &dir.path().join("b/master.yaml"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        let errs = load_catalog(&CfgSource::Dir(dir.path().to_path_buf())).unwrap_err();
        assert!(
            errs.to_string()
                .contains("b/master.yaml: is not a regular file"),
            "{errs}"
        );
    }

    #[test]
    fn files_in_memory_load_like_a_directory() {
        let master = format!("{HEAD}      - id: 1.1.1\n        text: x\n        type: manual\n");
        let files = BTreeMap::from([
            ("config.yaml".to_string(), CONFIG.to_string()),
            ("b/master.yaml".to_string(), master),
        ]);
        let cat = load_catalog(&CfgSource::Files(files)).unwrap_or_else(|e| panic!("{e}"));
        let check = cat.benchmark("b").unwrap().checks().next().unwrap();
        assert_eq!(check.location.to_string(), "b/master.yaml:10");

        let files = BTreeMap::from([("config.yaml".to_string(), CONFIG.to_string())]);
        let errs = load_catalog(&CfgSource::Files(files)).unwrap_err();
        assert_eq!(
            errs.0[0].to_string(),
            "config.yaml:4: target_mapping lists target master for b, but b/master.yaml does not exist"
        );
    }

    #[test]
    fn a_missing_target_file_is_reported() {
        let dir = write_cfg(&[("config.yaml", CONFIG)]);
        let errs = load_catalog(&CfgSource::Dir(dir.path().to_path_buf())).unwrap_err();
        assert!(
            errs.to_string().contains(
                "config.yaml:4: target_mapping lists target master for b, but b/master.yaml does not exist"
            ),
            "{errs}"
        );
    }
}
