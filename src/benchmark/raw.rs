//! Raw serde mirror of the cfg YAML files. These structs follow the files
//! exactly (unknown keys are errors) and hold text; `load` turns them into the
//! validated model. Nothing here interprets a value.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub version_mapping: BTreeMap<String, String>,
    #[serde(default)]
    pub target_mapping: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub targets: BTreeMap<String, RawTarget>,
    #[serde(default)]
    pub components: BTreeMap<String, RawComponent>,
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
#[serde(deny_unknown_fields)]
pub struct RawControls {
    /// kube-bench files start with an empty `controls:` key; it carries nothing.
    #[serde(default, rename = "controls")]
    pub _controls: Option<String>,
    pub version: Option<String>,
    pub id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub target: String,
    #[serde(default)]
    pub groups: Vec<RawGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    pub id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub checks: Vec<RawCheck>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    pub id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub audit: Option<RawAudit>,
    pub tests: Option<RawTests>,
    pub remediation: Option<String>,
    pub scored: Option<String>,
    pub if_absent: Option<String>,
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
#[serde(deny_unknown_fields)]
pub struct RawTests {
    pub bin_op: Option<String>,
    #[serde(default)]
    pub test_items: Vec<RawTestItem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct RawCompare {
    pub op: String,
    pub value: Option<String>,
}
