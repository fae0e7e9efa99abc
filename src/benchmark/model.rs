//! Validated cfg model: what a benchmark, a check, a test and a component
//! definition mean once the YAML has been checked. Built only by `load`.

pub use super::shell::{
    ShellAudit, ShellItem, ShellTests, ShellVariable, VariableSource, FILE_KINDS,
};
use crate::jsonpath::JsonPath;
use regex::Regex;
use std::collections::BTreeMap;
use std::fmt;

/// Where a definition came from, for error messages and JSON output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}", self.file, line),
            None => f.write_str(&self.file),
        }
    }
}

/// A Kubernetes `major.minor` version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

impl KubeVersion {
    /// Accepts `1.29`, `v1.29.3`, `1.29.0-eks-5e0fdde`, `v1.32.2+k3s1`.
    pub fn parse(text: &str) -> Option<KubeVersion> {
        let t = text.trim().trim_start_matches('v');
        let mut parts = t.split(|c: char| !c.is_ascii_digit());
        let major = parts.next()?.parse().ok()?;
        let minor_text = t.split('.').nth(1)?;
        let digits: String = minor_text
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let minor = digits.parse().ok()?;
        Some(KubeVersion { major, minor })
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsModel {
    /// Command line, then default.
    Flags,
    /// Command line, then `--config-dir` drop-ins, then `--config`, then default.
    Kubelet,
    /// A config file alone when given; else command line, then environment, then default.
    Etcd,
}

/// Which setting a test item (or a file source) asks about, by every name
/// it can have.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SettingQuery {
    pub flag: Option<String>,
    pub path: Option<JsonPath>,
    pub env: Option<String>,
    /// For `k=v,k=v` flag values such as `--feature-gates`.
    pub key: Option<String>,
}

impl SettingQuery {
    pub fn is_empty(&self) -> bool {
        self.flag.is_none() && self.path.is_none() && self.env.is_none()
    }

    /// A short name for messages: the flag, else the path, else the env var.
    pub fn label(&self) -> String {
        let base = if let Some(f) = &self.flag {
            f.clone()
        } else if let Some(p) = &self.path {
            p.to_string()
        } else {
            self.env.clone().unwrap_or_default()
        };
        match &self.key {
            Some(k) => format!("{base} {k}"),
            None => base,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SettingDefault {
    pub query: SettingQuery,
    pub value: String,
    /// The value when the component runs without a config file, if different.
    pub flags_only: Option<String>,
    /// Config file values the component replaces with the default (the
    /// kubelet turns `streamingConnectionIdleTimeout: 0s` into 4h).
    pub config_unset: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct DirFilter {
    pub pattern: String,
    pub matcher: globset::GlobMatcher,
    pub recursive: bool,
}

/// How to find a file (or files, or a directory) of a component.
#[derive(Debug, Clone, Default)]
pub struct FileSource {
    pub setting: Option<SettingQuery>,
    pub candidates: Vec<String>,
    pub systemd_unit: Option<String>,
    pub static_pod_manifest: bool,
    pub filter: Option<DirFilter>,
}

#[derive(Debug, Clone)]
pub struct Component {
    pub name: String,
    /// Each entry is the words a command line must start with; the first is
    /// compared with the base name of argv[0].
    pub bins: Vec<Vec<String>>,
    pub static_pod: Vec<String>,
    pub settings: SettingsModel,
    pub config_file: Option<FileSource>,
    pub drop_in_dir: Option<FileSource>,
    pub files: BTreeMap<String, FileSource>,
    pub defaults: Vec<SettingDefault>,
    pub journal: Option<JournalSource>,
    pub present_with: Option<PresentWith>,
}

/// A component whose command line a carrier process writes to the journal
/// (k3s logs `Running kube-apiserver --flag=value ...`).
#[derive(Debug, Clone)]
pub struct JournalSource {
    pub units: Vec<String>,
    pub marker: String,
    /// Bins-style word lists of the processes that run the component.
    pub carriers: Vec<Vec<String>>,
}

/// A component that has no process of its own and is recognised by a file
/// (k3s's embedded etcd by its config file), while a carrier runs.
#[derive(Debug, Clone)]
pub struct PresentWith {
    pub paths: Vec<String>,
    pub carriers: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
pub enum FileRef {
    Named {
        component: String,
        name: String,
        filter: Option<DirFilter>,
    },
    Paths(Vec<String>),
    Dir {
        dir: String,
        filter: DirFilter,
    },
}

#[derive(Debug, Clone)]
pub enum Audit {
    Settings {
        component: String,
    },
    File(FileRef),
    Document(FileRef),
    /// A shell command whose output the test items read (kube-bench's form).
    Shell(ShellAudit),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatField {
    Mode,
    Owner,
    User,
    Group,
}

impl StatField {
    pub fn name(self) -> &'static str {
        match self {
            StatField::Mode => "mode",
            StatField::Owner => "owner",
            StatField::User => "user",
            StatField::Group => "group",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    NotEq,
    Gt,
    Gte,
    Lt,
    Lte,
    Has,
    NotHave,
    Regex,
    ValidElements,
    Bitmask,
    ModeEq,
    In,
}

impl CompareOp {
    pub fn parse(text: &str) -> Option<CompareOp> {
        Some(match text {
            "eq" => CompareOp::Eq,
            "noteq" => CompareOp::NotEq,
            "gt" => CompareOp::Gt,
            "gte" => CompareOp::Gte,
            "lt" => CompareOp::Lt,
            "lte" => CompareOp::Lte,
            "has" => CompareOp::Has,
            "nothave" => CompareOp::NotHave,
            "regex" => CompareOp::Regex,
            "valid_elements" => CompareOp::ValidElements,
            "bitmask" => CompareOp::Bitmask,
            "mode_eq" => CompareOp::ModeEq,
            "in" => CompareOp::In,
            _ => return None,
        })
    }

    pub const NAMES: &'static str =
        "eq, noteq, gt, gte, lt, lte, has, nothave, regex, valid_elements, bitmask, mode_eq, in";
}

#[derive(Debug, Clone)]
pub struct Compare {
    pub op: CompareOp,
    pub value: String,
    /// Compiled once at load time for `regex`.
    pub regex: Option<Regex>,
}

#[derive(Debug, Clone)]
pub struct TestItem {
    pub query: SettingQuery,
    pub stat: Option<StatField>,
    pub set: bool,
    pub compare: Option<Compare>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    And,
    Or,
}

#[derive(Debug, Clone)]
pub struct Tests {
    pub bin_op: BinOp,
    pub items: Vec<TestItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    Audited,
    Manual,
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbsentVerdict {
    Info,
    Pass,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub id: String,
    pub text: String,
    pub kind: CheckKind,
    pub audit: Option<Audit>,
    pub tests: Tests,
    pub remediation: String,
    pub scored: bool,
    pub if_absent: AbsentVerdict,
    /// When the check applies at all (the API server's etcd client flags
    /// mean nothing when k3s keeps its data in SQLite behind a local
    /// socket); when the condition does not hold the check is INFO, like an
    /// absent subject.
    pub applies_when: Option<Condition>,
    pub location: Location,
}

/// A test on one component's effective settings that decides whether a
/// check applies to this node.
#[derive(Debug, Clone)]
pub struct Condition {
    pub component: String,
    pub item: TestItem,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub text: String,
    pub skip: bool,
    pub checks: Vec<Check>,
}

/// One target file of a benchmark (`master.yaml`, ...).
#[derive(Debug, Clone)]
pub struct Controls {
    pub id: String,
    pub version: String,
    pub text: String,
    pub target: String,
    pub groups: Vec<Group>,
    pub file: String,
    /// The `$apiserverbin`-style variables shell audits of this target may
    /// use, in the order they are substituted (kube-bench's cfg only).
    pub variables: Vec<ShellVariable>,
}

#[derive(Debug, Clone)]
pub struct Benchmark {
    pub name: String,
    /// In the order of `target_mapping`.
    pub controls: Vec<Controls>,
    /// False when the catalog was loaded without this benchmark's controls
    /// files (`load_catalog_for`).
    pub controls_loaded: bool,
    /// Global components with this benchmark's overrides applied.
    pub components: BTreeMap<String, Component>,
}

impl Benchmark {
    pub fn controls_for(&self, target: &str) -> Option<&Controls> {
        self.controls.iter().find(|c| c.target == target)
    }

    pub fn checks(&self) -> impl Iterator<Item = &Check> {
        self.controls
            .iter()
            .flat_map(|c| c.groups.iter())
            .flat_map(|g| g.checks.iter())
    }
}

#[derive(Debug, Clone)]
pub struct TargetRule {
    pub name: String,
    pub detect: Vec<String>,
}

/// Which form a cfg directory is written in, decided by its config.yaml.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CfgForm {
    /// The project's own: typed audits, strict keys.
    Project,
    /// kube-bench's: shell audits, per-target component sections, unknown
    /// keys ignored as kube-bench's decoder ignores them.
    KubeBench,
}

/// Where a distribution's Kubernetes version can be read.
#[derive(Debug, Clone)]
pub enum VersionSource {
    /// Image tags in these components' static pod manifests.
    ManifestImages(Vec<String>),
    /// `--version` of the binary of a matching process, else of a path.
    Binary {
        processes: Vec<Vec<String>>,
        paths: Vec<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Distribution {
    pub name: String,
    pub title: String,
    /// Bins-style word lists; any running match is a marker.
    pub detect_processes: Vec<Vec<String>>,
    /// Paths on the node; any that exists is a marker.
    pub detect_paths: Vec<String>,
    pub version_from: Vec<VersionSource>,
    /// Sorted by version; empty when `benchmark` decides.
    pub version_mapping: Vec<(KubeVersion, String)>,
    pub benchmark: Option<String>,
    /// Every benchmark of this distribution.
    pub benchmarks: Vec<String>,
}

/// Everything the cfg directory defines.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub form: CfgForm,
    /// Upstream Kubernetes; sorted by version.
    pub version_mapping: Vec<(KubeVersion, String)>,
    /// version_mapping keys that are not Kubernetes versions
    /// (`ocp-3.10`, `gke-1.0`): `--version` accepts them as written.
    pub version_aliases: Vec<(String, String)>,
    /// Version sources for a distribution that names none.
    pub version_from: Vec<VersionSource>,
    /// In the order of config.yaml's keys (sorted by name).
    pub distributions: Vec<Distribution>,
    pub targets: Vec<TargetRule>,
    pub benchmarks: BTreeMap<String, Benchmark>,
    /// Where the cfg came from, for the report.
    pub origin: String,
}

impl Catalog {
    pub fn benchmark(&self, name: &str) -> Option<&Benchmark> {
        self.benchmarks.get(name)
    }

    pub fn distribution(&self, name: &str) -> Option<&Distribution> {
        self.distributions.iter().find(|d| d.name == name)
    }

    /// The distribution a benchmark belongs to, if any.
    pub fn distribution_of(&self, benchmark: &str) -> Option<&Distribution> {
        self.distributions
            .iter()
            .find(|d| d.benchmarks.iter().any(|b| b == benchmark))
    }
}
