//! Works out which benchmark applies (from flags, static pod image tags, the
//! kubelet's version, or the API server) and which targets fit this node's
//! role. Reads the node only through `NodeFacts`.

use crate::benchmark::model::{Catalog, KubeVersion};
use crate::collect::node::{NodeFacts, Presence, MAX_CONFIG_BYTES};
use crate::yaml;
use serde::Serialize;
use std::fmt;

/// How the benchmark was chosen, for stderr and the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    /// The Kubernetes version found, `None` when the benchmark was forced.
    pub kubernetes_version: Option<String>,
    /// Which source decided: flag, static pod image, kubelet, API server.
    pub source: String,
    pub benchmark: String,
    /// Anything the user should know (a version past the table, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug)]
pub struct DetectError(pub String);

impl fmt::Display for DetectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DetectError {}

/// What the user asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct Requested {
    pub benchmark: Option<String>,
    pub version: Option<String>,
}

/// Map a version onto the table: exact minor, else the newest benchmark for
/// versions past the table, else the oldest for versions before it — both
/// said out loud.
pub fn benchmark_for(
    catalog: &Catalog,
    v: KubeVersion,
) -> Result<(String, Vec<String>), DetectError> {
    let table = &catalog.version_mapping;
    if let Some((_, b)) = table.iter().find(|(tv, _)| *tv == v) {
        return Ok((b.clone(), Vec::new()));
    }
    let (Some((first_v, first_b)), Some((last_v, last_b))) = (table.first(), table.last()) else {
        return Err(DetectError(
            "the cfg's version_mapping is empty".to_string(),
        ));
    };
    if v > *last_v {
        return Ok((
            last_b.clone(),
            vec![format!(
                "Kubernetes {v} is newer than any version in the benchmark table (newest {last_v}); using {last_b}, the newest benchmark"
            )],
        ));
    }
    if v < *first_v {
        return Ok((
            first_b.clone(),
            vec![format!(
                "Kubernetes {v} is older than any version in the benchmark table (oldest {first_v}); using {first_b}, the oldest benchmark shipped — its checks may not match this version"
            )],
        ));
    }
    Err(DetectError(format!(
        "no benchmark is mapped to Kubernetes {v}; pass --benchmark (one of: {})",
        catalog
            .benchmarks
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// The Kubernetes version in a static pod manifest's image tag
/// (`registry.k8s.io/kube-apiserver:v1.29.0`).
pub fn version_from_manifest(text: &str) -> Option<String> {
    let doc = yaml::to_document(text).ok()?;
    let containers = doc.pointer("/spec/containers")?.as_array()?;
    containers.iter().find_map(|c| {
        let image = c.get("image")?.as_str()?;
        let (_, tag) = image.rsplit_once(':')?;
        let tag = tag.split('@').next()?;
        KubeVersion::parse(tag).map(|_| tag.to_string())
    })
}

const VERSIONED_MANIFEST_COMPONENTS: [&str; 3] = ["apiserver", "controllermanager", "scheduler"];

/// Detect the benchmark, trying each source in order and stopping at the
/// first that works.
pub fn detect_benchmark(
    catalog: &Catalog,
    facts: &NodeFacts,
    req: &Requested,
) -> Result<Detection, DetectError> {
    if let (Some(_), Some(_)) = (&req.benchmark, &req.version) {
        return Err(DetectError(
            "--benchmark and --version cannot be used together".to_string(),
        ));
    }
    if let Some(b) = &req.benchmark {
        if catalog.benchmark(b).is_none() {
            return Err(DetectError(format!(
                "unknown benchmark {b:?}; the cfg has: {}",
                catalog
                    .benchmarks
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        return Ok(Detection {
            kubernetes_version: None,
            source: "--benchmark".to_string(),
            benchmark: b.clone(),
            notes: Vec::new(),
        });
    }
    if let Some(v) = &req.version {
        // Platform names a kube-bench cfg maps (`ocp-3.10`, `gke-1.0`).
        if let Some((_, b)) = catalog.version_aliases.iter().find(|(a, _)| a == v) {
            return Ok(Detection {
                kubernetes_version: None,
                source: "--version".to_string(),
                benchmark: b.clone(),
                notes: Vec::new(),
            });
        }
    }
    let mut tried = Vec::new();
    let found: Option<(String, String)> = if let Some(v) = &req.version {
        if KubeVersion::parse(v).is_none() {
            return Err(DetectError(format!(
                "--version {v:?} is not a Kubernetes version such as 1.31"
            )));
        }
        Some((v.clone(), "--version".to_string()))
    } else {
        let mut found = None;
        for comp in VERSIONED_MANIFEST_COMPONENTS {
            let Some(def) = facts_component_manifest(facts, comp) else {
                continue;
            };
            if let Some(v) = version_from_manifest(&def.1) {
                found = Some((v, format!("image tag in the static pod manifest {}", def.0)));
                break;
            }
        }
        if found.is_none() {
            tried.push("image tags in static pod manifests (none found)".to_string());
            let argv0 = match facts.presence("kubelet") {
                Presence::Running(cmd) => cmd.argv.first().cloned(),
                _ => None,
            };
            found = facts
                .host()
                .kubelet_version(argv0.as_deref())
                .map(|(v, how)| (v, format!("kubelet version from {how}")));
            if found.is_none() {
                tried.push(
                    "the kubelet's version (no kubelet binary found or it did not answer)"
                        .to_string(),
                );
            }
        }
        found
    };
    let Some((version_text, source)) = found else {
        return Err(DetectError(format!(
            "cannot work out the Kubernetes version; tried: {}. Pass --version <major.minor> or --benchmark <name>",
            tried.join("; ")
        )));
    };
    let v = KubeVersion::parse(&version_text).ok_or_else(|| {
        DetectError(format!(
            "{source} gave {version_text:?}, which is not a Kubernetes version"
        ))
    })?;
    let (benchmark, notes) = benchmark_for(catalog, v)?;
    Ok(Detection {
        kubernetes_version: Some(version_text),
        source,
        benchmark,
        notes,
    })
}

fn facts_component_manifest(facts: &NodeFacts, component: &str) -> Option<(String, String)> {
    let path = facts.manifest_path(component)?;
    let bytes = facts.host().read(&path, MAX_CONFIG_BYTES).ok()?;
    Some((path, String::from_utf8_lossy(&bytes).into_owned()))
}

/// One target chosen (or not) in auto mode, with why.
#[derive(Debug, Clone, Serialize)]
pub struct TargetChoice {
    pub target: String,
    pub selected: bool,
    pub reason: String,
}

/// Auto mode: a target runs when every component it detects is present.
pub fn choose_targets(
    catalog: &Catalog,
    facts: &NodeFacts,
    benchmark_targets: &[String],
) -> Vec<TargetChoice> {
    let mut out = Vec::new();
    for target in benchmark_targets {
        let Some(rule) = catalog.targets.iter().find(|t| &t.name == target) else {
            out.push(TargetChoice {
                target: target.clone(),
                selected: true,
                reason: "no detection rule; always runs".to_string(),
            });
            continue;
        };
        if rule.detect.is_empty() {
            out.push(TargetChoice {
                target: target.clone(),
                selected: true,
                reason: "always runs".to_string(),
            });
            continue;
        }
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for comp in &rule.detect {
            match facts.presence(comp) {
                Presence::Running(cmd) => found.push(cmd.describe(comp)),
                Presence::Absent(why) => missing.push(format!("{comp}: {why}")),
                Presence::Unknown(why) => missing.push(format!("{comp}: {why}")),
            }
        }
        let selected = missing.is_empty();
        out.push(TargetChoice {
            target: target.clone(),
            selected,
            reason: if selected {
                format!("found {}", found.join(", "))
            } else {
                format!("not found: {}", missing.join("; "))
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tags_give_the_version() {
        let m = "spec:\n  containers:\n  - image: registry.k8s.io/kube-apiserver:v1.29.0\n";
        assert_eq!(version_from_manifest(m).as_deref(), Some("v1.29.0"));
        let m = "spec:\n  containers:\n  - image: localhost:5000/kube-apiserver:latest\n";
        assert_eq!(version_from_manifest(m), None);
    }
}
