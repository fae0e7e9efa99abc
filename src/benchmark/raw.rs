//! Raw serde mirror of the cfg YAML files. These structs follow the files
//! and hold text; `load` turns them into the validated model. Nothing here
//! interprets a value.
//!
//! The controls files (targets, groups, checks, tests) share one mirror for
//! both cfg forms: the project's own and kube-bench's. Keys they do not
//! know are reported by the parser (`yaml::from_str_with_unknown`) and the
//! loader decides: an error in the project's form, ignored in kube-bench's,
//! as kube-bench's YAML decoder ignores them. `config.yaml` has one mirror
//! per form (`RawConfig` here; kube-bench's is read by `kube_bench`).

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub version_mapping: BTreeMap<String, String>,
    /// Where the Kubernetes version is read when the distribution names no
    /// sources of its own.
    #[serde(default)]
    pub version_from: Vec<RawVersionSource>,
    #[serde(default)]
    pub target_mapping: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub targets: BTreeMap<String, RawTarget>,
    #[serde(default)]
    pub components: BTreeMap<String, RawComponent>,
    #[serde(default)]
    pub distributions: BTreeMap<String, RawDistribution>,
}

/// A Kubernetes distribution: how to recognise it, where its version comes
/// from, which benchmarks apply, and where its components differ from the
/// upstream layout.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawDistribution {
    pub title: String,
    #[serde(default)]
    pub detect: RawDistributionDetect,
    #[serde(default)]
    pub version_from: Vec<RawVersionSource>,
    #[serde(default)]
    pub version_mapping: BTreeMap<String, String>,
    /// The benchmark for every version (managed platforms version their
    /// benchmark apart from Kubernetes).
    pub benchmark: Option<String>,
    /// Further benchmarks of this distribution, chosen only with --benchmark.
    #[serde(default)]
    pub benchmarks: Vec<String>,
    #[serde(default)]
    pub components: BTreeMap<String, RawComponent>,
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDistributionDetect {
    #[serde(default)]
    pub processes: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawVersionSource {
    /// Image tags of these components' static pod manifests.
    #[serde(default)]
    pub manifest_images: Vec<String>,
    /// `<binary> --version`, the binary being that of a running process
    /// matching one of `processes`, else the first of `paths` that exists.
    pub binary: Option<RawBinarySource>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawBinarySource {
    #[serde(default)]
    pub processes: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    #[serde(default)]
    pub detect: Vec<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawComponent {
    #[serde(default)]
    pub bins: Vec<String>,
    #[serde(default)]
    pub static_pod: Vec<String>,
    pub settings: Option<String>,
    pub config_file: Option<RawFileSource>,
    pub drop_in_dir: Option<RawFileSource>,
    #[serde(default)]
    pub files: BTreeMap<String, RawFileSource>,
    #[serde(default)]
    pub defaults: Vec<RawDefault>,
    /// Command line logged by a carrier process (k3s) to the systemd journal.
    pub journal: Option<RawJournalSource>,
    /// The component is on the node when one of these exists (an embedded
    /// etcd with only a config file), provided a carrier process runs.
    pub present_with: Option<RawPresentWith>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawJournalSource {
    pub units: Vec<String>,
    /// Text that precedes the command line in the log message.
    pub marker: String,
    /// Processes that run the component inside themselves.
    pub carriers: Vec<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawPresentWith {
    pub paths: Vec<String>,
    pub carriers: Vec<String>,
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawFileSource {
    pub flag: Option<String>,
    pub path: Option<String>,
    pub env: Option<String>,
    pub key: Option<String>,
    #[serde(default)]
    pub candidates: Vec<String>,
    pub systemd_unit: Option<String>,
    pub static_pod_manifest: Option<String>,
    pub pattern: Option<String>,
    pub recursive: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawDefault {
    pub flag: Option<String>,
    pub path: Option<String>,
    pub env: Option<String>,
    pub key: Option<String>,
    pub value: String,
    pub flags_only: Option<String>,
    #[serde(default)]
    pub config_unset: Vec<String>,
}

/// Per-benchmark `config.yaml`: component overrides only.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBenchmarkConfig {
    #[serde(default)]
    pub components: BTreeMap<String, RawComponent>,
}

#[derive(Debug, Deserialize)]
pub struct RawControls {
    /// kube-bench files start with an empty `controls:` key; it carries nothing.
    #[serde(default, rename = "controls")]
    pub _controls: Option<IgnoredAny>,
    pub version: Option<String>,
    pub id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub target: String,
    #[serde(default)]
    pub groups: Vec<RawGroup>,
}

#[derive(Debug, Deserialize)]
pub struct RawGroup {
    pub id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub checks: Vec<RawCheck>,
}

#[derive(Debug, Deserialize)]
pub struct RawCheck {
    pub id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub audit: Option<RawAuditSpec>,
    /// Shell audits only: a command whose output `path` items read when
    /// the `audit` output does not name the flag (kube-bench's form).
    pub audit_config: Option<String>,
    /// Shell audits only: a command printing `NAME=value` lines for `env`
    /// items; generated from the component's binary when absent.
    pub audit_env: Option<String>,
    /// Shell audits only: evaluate every line of the output on its own.
    pub use_multiple_values: Option<String>,
    /// Shell audits only: do not generate an `audit_env` command
    /// (kube-bench's `DisableEnvTesting`, spelled as its decoder reads it).
    pub disableenvtesting: Option<String>,
    pub tests: Option<RawTests>,
    pub remediation: Option<String>,
    pub scored: Option<String>,
    pub if_absent: Option<String>,
    /// A condition on a component's settings for the check to apply.
    pub applies_when: Option<RawCondition>,
}

/// `applies_when`: one test item on a component's effective settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCondition {
    pub settings: String,
    pub flag: Option<String>,
    pub path: Option<String>,
    pub env: Option<String>,
    pub key: Option<String>,
    pub set: Option<String>,
    pub compare: Option<RawCompare>,
}

/// `audit:` is either a shell command (a string, kube-bench's form) or a
/// typed audit (a mapping, the project's form).
#[derive(Debug)]
pub enum RawAuditSpec {
    Shell(String),
    Typed(Box<RawAudit>),
}

impl<'de> Deserialize<'de> for RawAuditSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AuditVisitor;
        impl<'de> Visitor<'de> for AuditVisitor {
            type Value = RawAuditSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a shell command (a string) or a typed audit (a mapping)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawAuditSpec, E> {
                Ok(RawAuditSpec::Shell(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawAuditSpec, A::Error> {
                RawAudit::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|a| RawAuditSpec::Typed(Box::new(a)))
            }
        }
        deserializer.deserialize_any(AuditVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAudit {
    pub settings: Option<String>,
    pub file: Option<RawFileRef>,
    pub document: Option<RawFileRef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFileRef {
    pub component: Option<String>,
    pub name: Option<String>,
    pub path: Option<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    pub dir: Option<String>,
    pub pattern: Option<String>,
    pub recursive: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RawTests {
    pub bin_op: Option<String>,
    #[serde(default)]
    pub test_items: Vec<RawTestItem>,
}

#[derive(Debug, Deserialize)]
pub struct RawTestItem {
    pub flag: Option<String>,
    pub path: Option<String>,
    pub env: Option<String>,
    pub key: Option<String>,
    pub stat: Option<String>,
    pub set: Option<String>,
    pub compare: Option<RawCompare>,
}

#[derive(Debug, Deserialize)]
pub struct RawCompare {
    #[serde(default)]
    pub op: String,
    pub value: Option<String>,
}
