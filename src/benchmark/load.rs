//! Loads and validates a cfg directory (the embedded one or `--config-dir`):
//! every file is parsed and every mistake collected with file, line and check
//! ID before anything runs. It reads cfg files only, never the host.

use super::model::*;
use super::raw::*;
use crate::jsonpath::JsonPath;
use crate::yaml;
use include_dir::{include_dir, Dir};
use regex::Regex;
use std::collections::{BTreeMap, HashMap};
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
    fn read(&self, rel: &str) -> Result<Option<String>, String> {
        match self {
            CfgSource::Embedded => match EMBEDDED_CFG.get_file(rel) {
                None => Ok(None),
                Some(f) => f
                    .contents_utf8()
                    .map(|s| Some(s.to_string()))
                    .ok_or_else(|| "is not UTF-8 text".to_string()),
            },
            CfgSource::Dir(dir) => read_bounded(&dir.join(rel)),
            CfgSource::Files(files) => Ok(files.get(rel).cloned()),
        }
    }
}

fn read_bounded(path: &Path) -> Result<Option<String>, String> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot be read: {e}")),
    };
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read: {e}"))?;
    if meta.is_dir() {
        return Err("is a directory, not a file".to_string());
    }
    let mut buf = Vec::new();
    file.take(MAX_CFG_FILE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot be read: {e}"))?;
    if buf.len() as u64 > MAX_CFG_FILE_BYTES {
        return Err(format!("is larger than {MAX_CFG_FILE_BYTES} bytes"));
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| "is not UTF-8 text".to_string())
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

/// A controls file read and parsed ahead of validation.
type Parsed = Result<Option<(String, Result<RawControls, yaml::YamlError>)>, String>;

struct Collector<'a> {
    source: &'a CfgSource,
    errors: Vec<CfgError>,
    /// Controls files parsed in parallel before validation, by relative path.
    parsed: HashMap<String, Parsed>,
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
                let check = e.line.and_then(|l| enclosing_check_id(text, l));
                self.push(rel, e.line, check.as_deref(), e.message);
                None
            }
        }
    }

    fn read(&mut self, rel: &str) -> Option<String> {
        match self.source.read(rel) {
            Ok(Some(text)) => Some(text),
            Ok(None) => {
                self.push(rel, None, None, "file not found".to_string());
                None
            }
            Err(msg) => {
                self.push(rel, None, None, msg);
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

/// 1-based line of each `id:` value in a controls file (first occurrence).
fn id_lines(text: &str) -> HashMap<String, usize> {
    let mut map = HashMap::new();
    for (i, l) in text.lines().enumerate() {
        if let Some(id) = id_on_line(l) {
            map.entry(id).or_insert(i + 1);
        }
    }
    map
}

/// 1-based line of `  name:` under `components:` in a config file.
fn component_line(text: &str, name: &str) -> Option<usize> {
    let needle = format!("{name}:");
    let mut in_components = false;
    for (i, l) in text.lines().enumerate() {
        if l.starts_with("components:") {
            in_components = true;
            continue;
        }
        if in_components && !l.starts_with(' ') && !l.trim().is_empty() && !l.starts_with('#') {
            in_components = false;
        }
        let t = l.trim_start();
        if in_components && (t == needle.as_str() || t.starts_with(&format!("{needle} "))) {
            return Some(i + 1);
        }
    }
    None
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
                                    let raw = yaml::from_str::<RawControls>(&text);
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

/// Load and validate the whole cfg.
pub fn load_catalog(source: &CfgSource) -> Result<Catalog, CfgErrors> {
    let mut c = Collector {
        source,
        errors: Vec::new(),
        parsed: HashMap::new(),
    };
    let Some(config_text) = c.read("config.yaml") else {
        return Err(CfgErrors(c.errors));
    };
    let Some(raw) = c.parse::<RawConfig>("config.yaml", &config_text) else {
        return Err(CfgErrors(c.errors));
    };

    let mut version_mapping = Vec::new();
    for (version, bench) in &raw.version_mapping {
        match KubeVersion::parse(version) {
            Some(v) if v.to_string() == *version => version_mapping.push((v, bench.clone())),
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
        if !raw.target_mapping.contains_key(bench) {
            c.push(
                "config.yaml",
                None,
                None,
                format!("version_mapping maps {version} to {bench:?}, which target_mapping does not list"),
            );
        }
    }
    version_mapping.sort();

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
                    None,
                    None,
                    format!("target {} detects unknown component {comp:?}", rule.name),
                );
            }
        }
    }

    // Parsing YAML is most of the load time: parse every controls file on
    // all cores first, then validate in order so errors stay deterministic.
    let rels: Vec<String> = raw
        .target_mapping
        .iter()
        .flat_map(|(b, ts)| ts.iter().map(move |t| format!("{b}/{t}.yaml")))
        .collect();
    c.parsed = parse_all(source, &rels);

    let mut benchmarks = BTreeMap::new();
    for (bench, target_names) in &raw.target_mapping {
        if let Some(b) = load_benchmark(
            &mut c,
            bench,
            target_names,
            &global_components,
            &config_text,
        ) {
            benchmarks.insert(bench.clone(), b);
        }
    }

    if c.errors.is_empty() {
        Ok(Catalog {
            version_mapping,
            targets,
            benchmarks,
            origin: source.describe(),
        })
    } else {
        Err(CfgErrors(c.errors))
    }
}

fn load_benchmark(
    c: &mut Collector,
    bench: &str,
    target_names: &[String],
    global: &BTreeMap<String, RawComponent>,
    config_text: &str,
) -> Option<Benchmark> {
    let errors_before = c.errors.len();
    let mut raw_components = global.clone();
    let mut component_file = ("config.yaml".to_string(), config_text.to_string());
    let overrides_rel = format!("{bench}/config.yaml");
    match c.source.read(&overrides_rel) {
        Ok(Some(text)) => {
            if let Some(o) = c.parse::<RawBenchmarkConfig>(&overrides_rel, &text) {
                raw_components.extend(o.components);
            }
            component_file = (overrides_rel, text);
        }
        Ok(None) => {}
        Err(msg) => c.push(&overrides_rel, None, None, msg),
    }

    let mut components = BTreeMap::new();
    for (name, rc) in &raw_components {
        // An override's errors point at the override file when it defines
        // the component, else at the global config.
        let (file, text) = if component_line(&component_file.1, name).is_some() {
            (component_file.0.as_str(), component_file.1.as_str())
        } else {
            ("config.yaml", config_text)
        };
        let line = component_line(text, name);
        if let Some(comp) = convert_component(c, file, line, name, rc) {
            components.insert(name.clone(), comp);
        }
    }

    let mut controls = Vec::new();
    let mut seen_ids: HashMap<String, Location> = HashMap::new();
    for target in target_names {
        let rel = format!("{bench}/{target}.yaml");
        let (text, parsed) = match c.parsed.remove(&rel) {
            Some(Ok(Some(pair))) => pair,
            Some(Ok(None)) => {
                c.push(&rel, None, None, "file not found".to_string());
                continue;
            }
            Some(Err(msg)) => {
                c.push(&rel, None, None, msg);
                continue;
            }
            None => {
                let Some(text) = c.read(&rel) else { continue };
                let parsed = yaml::from_str::<RawControls>(&text);
                (text, parsed)
            }
        };
        let raw = match parsed {
            Ok(raw) => raw,
            Err(e) => {
                let check = e.line.and_then(|l| enclosing_check_id(&text, l));
                c.push(&rel, e.line, check.as_deref(), e.message);
                continue;
            }
        };
        let lines = id_lines(&text);
        if raw.target != *target {
            c.push(
                &rel,
                lines.get(&raw.id).copied(),
                None,
                format!(
                    "type is {:?} but the file is the {target:?} target",
                    raw.target
                ),
            );
        }
        if let Some(v) = &raw.version {
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
            let skip = match g.kind.as_deref() {
                None | Some("") => false,
                Some("skip") => true,
                Some(other) => {
                    c.push(
                        &rel,
                        lines.get(&g.id).copied(),
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
                    line: lines.get(&rc.id).copied(),
                };
                if let Some(prev) = seen_ids.get(&rc.id) {
                    c.push(
                        &rel,
                        location.line,
                        Some(&rc.id),
                        format!("duplicate check ID (first defined at {prev})"),
                    );
                    continue;
                }
                seen_ids.insert(rc.id.clone(), location.clone());
                if let Some(check) = convert_check(c, &rel, location, rc, &components) {
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
            version: raw.version.unwrap_or_else(|| bench.to_string()),
            text: raw.text,
            target: target.clone(),
            groups,
            file: c.source.display_path(&rel),
        });
    }
    (c.errors.len() == errors_before).then(|| Benchmark {
        name: bench.to_string(),
        controls,
        components,
    })
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
    line: Option<usize>,
    name: &str,
    raw: &RawComponent,
) -> Option<Component> {
    let before = c.errors.len();
    let err = |c: &mut Collector, msg: String| {
        c.push(file, line, None, format!("component {name}: {msg}"))
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
                c.push(file, line, None, format!("component {name}: {what}: {m}"));
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
                line,
                None,
                format!("component {name}: a default names no flag, path or env"),
            ),
            Err(m) => c.push(file, line, None, format!("component {name}: default: {m}")),
        }
    }
    (c.errors.len() == before).then(|| Component {
        name: name.to_string(),
        bins,
        static_pod: raw.static_pod.clone(),
        settings,
        config_file,
        drop_in_dir,
        files,
        defaults,
    })
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
        Some(Regex::new(&value).map_err(|e| format!("regex {value:?} does not compile: {e}"))?)
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
    components: &BTreeMap<String, Component>,
) -> Option<Check> {
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
    let audit = match &raw.audit {
        None => None,
        Some(a) => {
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
        assert_eq!(errs.0[0].to_string(), "b/master.yaml: file not found");
    }

    #[test]
    fn a_missing_target_file_is_reported() {
        let dir = write_cfg(&[("config.yaml", CONFIG)]);
        let errs = load_catalog(&CfgSource::Dir(dir.path().to_path_buf())).unwrap_err();
        assert!(
            errs.to_string().contains("b/master.yaml: file not found"),
            "{errs}"
        );
    }
}
