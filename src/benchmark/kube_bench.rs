//! kube-bench's `config.yaml`, turned into the project's model: its
//! `version_mapping` and `target_mapping` become the catalog's tables; each
//! target section (`master`, `node`, `etcd`, `controlplane`, `policies`,
//! `managedservices`) with its `components` list becomes a target rule (the
//! components that must run for auto mode to pick the target) and the
//! target's `$<component>bin` / `$<component>conf` / ... variables; each
//! component's `bins` become a model `Component` used to find its process.
//! A benchmark folder's own config.yaml is merged over the global one the
//! way kube-bench's configuration library merges it: mappings key by key,
//! anything else replaced; keys compared without case.
//! It reads text handed to it, never a file or the host.

use super::model::{Component, SettingsModel, ShellVariable, VariableSource, FILE_KINDS};
use crate::jsonpath::value_text;
use serde_json::Value;
use std::collections::BTreeMap;

/// The tables and sections of a kube-bench config.yaml.
#[derive(Debug, Clone)]
pub struct KubeBenchConfig {
    /// Keys as written (Kubernetes versions and platform names).
    pub version_mapping: BTreeMap<String, String>,
    pub target_mapping: BTreeMap<String, Vec<String>>,
    /// The whole document, keys lower-cased, for merging per benchmark.
    pub document: Value,
}

/// One target's view of its components, after merging.
#[derive(Debug, Clone, Default)]
pub struct TargetComponents {
    pub variables: Vec<ShellVariable>,
    /// Components that must run (listed, with `bins`, not `optional`).
    pub required: Vec<String>,
    /// Every component with `bins`, and its bins.
    pub binaries: Vec<(String, Vec<String>)>,
}

/// Is this config.yaml document in kube-bench's form? The project's form
/// has top-level `components` (and `targets`); kube-bench's has neither,
/// and keeps components under each target section.
pub fn is_kube_bench_config(doc: &Value) -> bool {
    match doc.as_object() {
        Some(map) => !map.contains_key("components") && !map.contains_key("targets"),
        None => false,
    }
}

fn lower_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.to_lowercase(), lower_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(lower_keys).collect()),
        other => other,
    }
}

/// Merge `over` into `base`: mappings key by key, anything else replaced.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// A list of strings as kube-bench's configuration library reads one: a
/// YAML list (each item as text), or a string split at white space.
fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter(|i| !i.is_null())
            .map(value_text)
            .collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![value_text(other)],
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.to_ascii_lowercase().as_str(), "true" | "yes" | "1"),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

impl KubeBenchConfig {
    /// Read the tables; `Err` names what is malformed.
    pub fn from_document(doc: Value) -> Result<KubeBenchConfig, String> {
        let document = lower_keys(doc);
        let mut version_mapping = BTreeMap::new();
        match document.get("version_mapping") {
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    version_mapping.insert(k.clone(), value_text(v));
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => return Err("version_mapping is not a mapping".to_string()),
        }
        let mut target_mapping = BTreeMap::new();
        match document.get("target_mapping") {
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    target_mapping.insert(k.clone(), string_list(Some(v)));
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => return Err("target_mapping is not a mapping".to_string()),
        }
        Ok(KubeBenchConfig {
            version_mapping,
            target_mapping,
            document,
        })
    }

    /// The configuration a benchmark runs with: the global document with
    /// the benchmark folder's config.yaml (if any) merged over it.
    pub fn merged(&self, benchmark_doc: Option<Value>) -> Value {
        let mut merged = self.document.clone();
        if let Some(over) = benchmark_doc {
            if over.is_object() {
                merge(&mut merged, lower_keys(over));
            }
        }
        merged
    }
}

/// The components of one target section of a merged configuration, or
/// `None` when the configuration has no such section.
pub fn target_components(merged: &Value, target: &str) -> Option<TargetComponents> {
    let section = merged.get(target)?.as_object()?;
    let mut out = TargetComponents::default();
    let names = string_list(section.get("components"));
    let mut bin_vars = Vec::new();
    let mut file_vars: Vec<Vec<ShellVariable>> = vec![Vec::new(); FILE_KINDS.len()];
    for name in &names {
        // A listed component without a definition is skipped, as kube-bench
        // skips it.
        let Some(def) = section.get(name).and_then(Value::as_object) else {
            continue;
        };
        let bins = string_list(def.get("bins"));
        if !bins.is_empty() {
            if !truthy(def.get("optional")) {
                out.required.push(name.clone());
            }
            out.binaries.push((name.clone(), bins.clone()));
            bin_vars.push(ShellVariable {
                name: format!("{name}bin"),
                component: name.clone(),
                source: VariableSource::Binary { candidates: bins },
            });
        }
        for (i, (suffix, list_key, default_key)) in FILE_KINDS.iter().enumerate() {
            file_vars[i].push(ShellVariable {
                name: format!("{name}{suffix}"),
                component: name.clone(),
                source: VariableSource::File {
                    candidates: string_list(def.get(*list_key)),
                    default: def.get(*default_key).map(|d| match d {
                        Value::String(s) => s.clone(),
                        Value::Array(_) | Value::Object(_) | Value::Null => String::new(),
                        other => value_text(other),
                    }),
                },
            });
        }
    }
    out.variables = bin_vars;
    for vars in file_vars {
        out.variables.extend(vars);
    }
    Some(out)
}

/// A model component for a kube-bench component: only its programs, which
/// is what auto mode needs to tell whether it runs here.
pub fn component(name: &str, bins: &[String]) -> Component {
    Component {
        name: name.to_string(),
        bins: bins
            .iter()
            .map(|b| {
                b.trim_matches(['\'', '"'])
                    .split_whitespace()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|w| !w.is_empty())
            .collect(),
        static_pod: Vec::new(),
        settings: SettingsModel::Flags,
        config_file: None,
        drop_in_dir: None,
        files: BTreeMap::new(),
        defaults: Vec::new(),
        journal: None,
        present_with: None,
    }
}

/// Auto mode's rule for a target: the components that must run. kube-bench
/// runs `controlplane` exactly when it runs `master`.
pub fn detect_rule(merged: &Value, target: &str) -> Vec<String> {
    let section = if target == "controlplane" && merged.get("master").is_some() {
        "master"
    } else {
        target
    };
    target_components(merged, section)
        .map(|t| t.required)
        .unwrap_or_default()
}

/// Every component a benchmark's targets need, for finding processes: the
/// definition from the section that requires it, else the first one.
pub fn components_for(merged: &Value, targets: &[String]) -> BTreeMap<String, Component> {
    let mut chosen: BTreeMap<String, (bool, Vec<String>)> = BTreeMap::new();
    for t in targets {
        let Some(tc) = target_components(merged, t) else {
            continue;
        };
        for (name, bins) in &tc.binaries {
            let required = tc.required.contains(name);
            match chosen.get(name) {
                Some((true, _)) => {}
                Some((false, _)) if !required => {}
                _ => {
                    chosen.insert(name.clone(), (required, bins.clone()));
                }
            }
        }
    }
    chosen
        .into_iter()
        .map(|(name, (_, bins))| {
            let c = component(&name, &bins);
            (name, c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recognises_the_form_by_its_top_level_keys() {
        assert!(is_kube_bench_config(
            &json!({"master": {"components": []}, "version_mapping": {}})
        ));
        assert!(!is_kube_bench_config(
            &json!({"components": {}, "targets": {}})
        ));
    }

    #[test]
    fn merging_replaces_lists_and_merges_mappings_without_case() {
        let cfg = KubeBenchConfig::from_document(json!({
            "master": {"components": ["apiserver"], "apiserver": {"bins": ["kube-apiserver"], "confs": ["/a"]}},
        }))
        .unwrap();
        let merged = cfg.merged(Some(
            json!({"Master": {"apiserver": {"bins": ["containerd"]}}}),
        ));
        assert_eq!(merged["master"]["apiserver"]["bins"], json!(["containerd"]));
        assert_eq!(merged["master"]["apiserver"]["confs"], json!(["/a"]));
        assert_eq!(merged["master"]["components"], json!(["apiserver"]));
    }

    #[test]
    fn a_section_gives_variables_in_substitution_order() {
        let merged = json!({"node": {
            "components": ["kubelet", "proxy", "kubernetes", "undefined"],
            "kubelet": {"bins": ["kubelet"], "confs": ["/etc/k.yaml"], "defaultconf": "/var/lib/kubelet/config.yaml"},
            "proxy": {"optional": true, "bins": "kube-proxy proxy"},
            "kubernetes": {"defaultconf": "/etc/kubernetes/config"},
        }});
        let tc = target_components(&merged, "node").unwrap();
        assert_eq!(tc.required, vec!["kubelet"]);
        let names: Vec<&str> = tc.variables.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(&names[..3], &["kubeletbin", "proxybin", "kubeletconf"]);
        assert!(names.contains(&"kubernetesconf") && names.contains(&"proxydatadir"));
        assert!(!names.iter().any(|n| n.starts_with("undefined")));
        let proxy = tc.variables.iter().find(|v| v.name == "proxybin").unwrap();
        assert_eq!(
            proxy.source,
            VariableSource::Binary {
                candidates: vec!["kube-proxy".into(), "proxy".into()]
            }
        );
        let conf = tc
            .variables
            .iter()
            .find(|v| v.name == "kubeletconf")
            .unwrap();
        assert_eq!(
            conf.source,
            VariableSource::File {
                candidates: vec!["/etc/k.yaml".into()],
                default: Some("/var/lib/kubelet/config.yaml".into())
            }
        );
        assert_eq!(detect_rule(&merged, "node"), vec!["kubelet"]);
        assert!(target_components(&merged, "master").is_none());
    }
}
