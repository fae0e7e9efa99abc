//! Works out which distribution this node runs (from markers cfg names:
//! processes and paths), its Kubernetes version (from the sources cfg lists
//! for it: static pod image tags, `<binary> --version`) and so the benchmark,
//! and which targets fit this node's role. Reads the node only through
//! `NodeFacts` and the `Host` trait.

use crate::benchmark::model::{Catalog, Distribution, KubeVersion, VersionSource};
use crate::collect::host::ReadError;
use crate::collect::node::{component_bins_match, NodeFacts, Presence, MAX_CONFIG_BYTES};
use crate::yaml;
use serde::Serialize;
use std::fmt;

/// How the benchmark was chosen, for stderr and the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    /// The distribution recognised (or named with --distribution); `None`
    /// when no distribution's markers were found.
    pub distribution: Option<String>,
    /// What identified the distribution: the markers found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub distribution_evidence: Vec<String>,
    /// The Kubernetes version found, `None` when not needed or not found.
    pub kubernetes_version: Option<String>,
    /// Which source decided the benchmark: a flag, a version source, the
    /// distribution itself.
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
    pub distribution: Option<String>,
}

/// Map a version onto a table: exact minor, else the newest benchmark for
/// versions past the table, else the oldest for versions before it — both
/// said out loud.
pub fn benchmark_for(
    catalog: &Catalog,
    table: &[(KubeVersion, String)],
    v: KubeVersion,
) -> Result<(String, Vec<String>), DetectError> {
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
        benchmark_names(catalog)
    )))
}

fn distribution_names(catalog: &Catalog) -> String {
    catalog
        .distributions
        .iter()
        .map(|d| d.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn benchmark_names(catalog: &Catalog) -> String {
    catalog
        .benchmarks
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
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

/// The version word in `--version` output: "Kubernetes v1.29.0",
/// "k3s version v1.31.1+k3s1 (452dbbc1)".
pub fn version_from_output(text: &str) -> Option<String> {
    text.split_whitespace()
        .find(|w| {
            let t = w.strip_prefix('v').unwrap_or(w);
            t.starts_with(|c: char| c.is_ascii_digit())
                && t.contains('.')
                && KubeVersion::parse(t).is_some()
        })
        .map(str::to_string)
}

/// A distribution recognised on the node, with the markers that matched.
pub struct Recognised<'c> {
    pub distribution: &'c Distribution,
    pub evidence: Vec<String>,
}

/// Which distributions' markers are on this node. Errors reading a marker
/// path other than "absent" are reported, not taken as absence.
pub fn recognise<'c>(
    catalog: &'c Catalog,
    facts: &NodeFacts,
) -> (Vec<Recognised<'c>>, Vec<String>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let procs = facts.processes();
    for d in &catalog.distributions {
        let mut evidence = Vec::new();
        if let Ok(list) = procs {
            for words in &d.detect_processes {
                if let Some(p) = list
                    .processes
                    .iter()
                    .find(|p| component_bins_match(words, &p.argv))
                {
                    evidence.push(format!("process {} (pid {})", words.join(" "), p.pid));
                }
            }
        }
        for path in &d.detect_paths {
            match facts.host().stat(path, false) {
                Ok(_) => evidence.push(path.clone()),
                Err(ReadError::NotFound) => {}
                Err(e) => problems.push(format!("{} marker {path} {e}", d.name)),
            }
        }
        if !evidence.is_empty() {
            found.push(Recognised {
                distribution: d,
                evidence,
            });
        }
    }
    if let Err(e) = procs {
        problems.push(format!("cannot list processes: {e}"));
    }
    (found, problems)
}

/// Pick the distribution: the one requested, else the single one whose
/// markers are present. Several is an error; none is `None`.
pub fn detect_distribution<'c>(
    catalog: &'c Catalog,
    facts: &NodeFacts,
    requested: Option<&str>,
) -> Result<(Option<Recognised<'c>>, Vec<String>), DetectError> {
    if let Some(name) = requested {
        let d = catalog.distribution(name).ok_or_else(|| {
            DetectError(format!(
                "unknown distribution {name:?}; the cfg has: {}",
                distribution_names(catalog)
            ))
        })?;
        return Ok((
            Some(Recognised {
                distribution: d,
                evidence: vec!["--distribution".to_string()],
            }),
            Vec::new(),
        ));
    }
    let (mut found, problems) = recognise(catalog, facts);
    match found.len() {
        0 => {
            let mut notes = vec![format!(
                "no distribution was recognised (none of the markers of {} is on this node); using the upstream Kubernetes benchmark table",
                distribution_names(catalog)
            )];
            notes.extend(problems);
            Ok((None, notes))
        }
        1 => Ok((found.pop(), problems)),
        _ => Err(DetectError(format!(
            "this node looks like more than one distribution: {}. Pass --distribution <name> (or --benchmark)",
            found
                .iter()
                .map(|r| format!("{} ({})", r.distribution.name, r.evidence.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        ))),
    }
}

/// Try each version source in order; the first that answers wins.
fn find_version(
    facts: &NodeFacts,
    sources: &[VersionSource],
    tried: &mut Vec<String>,
) -> Option<(String, String)> {
    for src in sources {
        match src {
            VersionSource::ManifestImages(comps) => {
                for comp in comps {
                    let Some(path) = facts.manifest_path(comp) else {
                        continue;
                    };
                    let Ok(bytes) = facts.host().read(&path, MAX_CONFIG_BYTES) else {
                        continue;
                    };
                    if let Some(v) = version_from_manifest(&String::from_utf8_lossy(&bytes)) {
                        return Some((v, format!("image tag in the static pod manifest {path}")));
                    }
                }
                tried.push(format!(
                    "image tags in the static pod manifests of {} (none found)",
                    comps.join(", ")
                ));
            }
            VersionSource::Binary { processes, paths } => {
                let mut candidates: Vec<String> = Vec::new();
                if let Ok(list) = facts.processes() {
                    for words in processes {
                        for p in &list.processes {
                            if component_bins_match(words, &p.argv) {
                                if let Some(a0) = p.argv.first().filter(|a| a.starts_with('/')) {
                                    if !candidates.contains(a0) {
                                        candidates.push(a0.clone());
                                    }
                                }
                            }
                        }
                    }
                }
                for p in paths {
                    if !candidates.contains(p) {
                        candidates.push(p.clone());
                    }
                }
                let mut why = Vec::new();
                for cand in &candidates {
                    match facts.host().binary_version(cand) {
                        Ok(out) => match version_from_output(&out) {
                            Some(v) => return Some((v, format!("`{cand} --version`"))),
                            None => why.push(format!("`{cand} --version` printed no version")),
                        },
                        Err(e) => why.push(e),
                    }
                }
                tried.push(if why.is_empty() {
                    "a binary's --version (no binary found)".to_string()
                } else {
                    why.join("; ")
                });
            }
        }
    }
    None
}

/// Detect the distribution and the benchmark.
pub fn detect_benchmark(
    catalog: &Catalog,
    facts: &NodeFacts,
    default_version_from: &[VersionSource],
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
                benchmark_names(catalog)
            )));
        }
        let owner = catalog.distribution_of(b).map(|d| d.name.clone());
        let mut notes = Vec::new();
        if req.distribution.is_none() {
            if let Ok((Some(r), _)) = detect_distribution(catalog, facts, None) {
                // A distribution without benchmarks of its own (kubeadm)
                // is audited with the upstream ones: no mismatch to report.
                let upstream_is_its_own = owner.is_none()
                    && r.distribution.benchmarks.is_empty()
                    && r.distribution.benchmark.is_none();
                if owner.as_deref() != Some(r.distribution.name.as_str()) && !upstream_is_its_own {
                    notes.push(format!(
                        "this node looks like {} ({}), but {b} is {}",
                        r.distribution.name,
                        r.evidence.join(", "),
                        match &owner {
                            Some(o) => format!("a benchmark of the {o} distribution"),
                            None => "an upstream Kubernetes benchmark".to_string(),
                        }
                    ));
                }
            }
        }
        return Ok(Detection {
            distribution: owner,
            distribution_evidence: Vec::new(),
            kubernetes_version: None,
            source: "--benchmark".to_string(),
            benchmark: b.clone(),
            notes,
        });
    }
    if let Some(v) = &req.version {
        // Platform names a kube-bench cfg maps (`ocp-3.10`, `gke-1.0`).
        if let Some((_, b)) = catalog.version_aliases.iter().find(|(a, _)| a == v) {
            return Ok(Detection {
                distribution: None,
                distribution_evidence: Vec::new(),
                kubernetes_version: None,
                source: "--version".to_string(),
                benchmark: b.clone(),
                notes: Vec::new(),
            });
        }
    }
    let (recognised, mut notes) = detect_distribution(catalog, facts, req.distribution.as_deref())?;
    let (dist, evidence) = match recognised {
        Some(r) => (Some(r.distribution), r.evidence),
        None => (None, Vec::new()),
    };
    let sources = match dist {
        Some(d) if !d.version_from.is_empty() => d.version_from.as_slice(),
        _ => default_version_from,
    };
    let mut tried = Vec::new();
    let found = match &req.version {
        Some(v) => {
            if KubeVersion::parse(v).is_none() {
                return Err(DetectError(format!(
                    "--version {v:?} is not a Kubernetes version such as 1.31"
                )));
            }
            Some((v.clone(), "--version".to_string()))
        }
        None => find_version(facts, sources, &mut tried),
    };
    let dist_name = dist.map(|d| d.name.clone());
    // A managed platform's benchmark does not follow the Kubernetes version.
    if let Some(b) = dist.and_then(|d| d.benchmark.clone()) {
        return Ok(Detection {
            distribution: dist_name,
            distribution_evidence: evidence,
            kubernetes_version: found.as_ref().map(|(v, _)| v.clone()),
            source: format!(
                "the {} benchmark{}",
                dist.map(|d| d.title.as_str()).unwrap_or_default(),
                match &found {
                    Some((_, how)) => format!("; version from {how}"),
                    None => String::new(),
                }
            ),
            benchmark: b,
            notes,
        });
    }
    let Some((version_text, source)) = found else {
        // With no distribution recognised either, say so: a managed
        // platform's benchmark needs no version, only --distribution.
        let unrecognised = match dist {
            Some(_) => String::new(),
            None => format!(
                ". No distribution was recognised either (none of the markers of {} is on this node); --distribution <name> picks a platform's benchmark without a version",
                distribution_names(catalog)
            ),
        };
        return Err(DetectError(format!(
            "cannot work out the Kubernetes version{}; tried: {}{unrecognised}. Pass --version <major.minor> or --benchmark <name>",
            match dist {
                Some(d) => format!(" of this {} node", d.title),
                None => String::new(),
            },
            tried.join("; ")
        )));
    };
    let v = KubeVersion::parse(&version_text).ok_or_else(|| {
        DetectError(format!(
            "{source} gave {version_text:?}, which is not a Kubernetes version"
        ))
    })?;
    let table = match dist {
        Some(d) if !d.version_mapping.is_empty() => d.version_mapping.as_slice(),
        _ => catalog.version_mapping.as_slice(),
    };
    let (benchmark, more) = benchmark_for(catalog, table, v)?;
    notes.extend(more);
    Ok(Detection {
        distribution: dist_name,
        distribution_evidence: evidence,
        kubernetes_version: Some(version_text),
        source,
        benchmark,
        notes,
    })
}

/// One target chosen (or not) in auto mode, with why.
#[derive(Debug, Clone, Serialize)]
pub struct TargetChoice {
    pub target: String,
    pub selected: bool,
    pub reason: String,
}

/// Auto mode: a target runs when none of the components it detects is
/// known to be absent. A component whose presence could not be decided (a
/// journal that cannot be read, a malformed manifest) does not skip the
/// target: its checks run and say WARN with the reason, rather than the
/// target silently disappearing from the report.
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
        let mut unknown = Vec::new();
        let mut missing = Vec::new();
        for comp in &rule.detect {
            match facts.presence(comp) {
                Presence::Running(cmd) => found.push(cmd.describe(comp)),
                Presence::Absent(why) => missing.push(format!("{comp}: {why}")),
                Presence::Unknown(why) => unknown.push(format!("{comp}: {why}")),
            }
        }
        let selected = missing.is_empty();
        let reason = match (selected, found.is_empty(), unknown.is_empty()) {
            (false, _, _) => format!("not found: {}", missing.join("; ")),
            (true, _, true) => format!("found {}", found.join(", ")),
            (true, true, false) => format!(
                "could not tell whether it runs here, so its checks report why: {}",
                unknown.join("; ")
            ),
            (true, false, false) => format!(
                "found {}; could not read {}",
                found.join(", "),
                unknown.join("; ")
            ),
        };
        out.push(TargetChoice {
            target: target.clone(),
            selected,
            reason,
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

#[cfg(test)]
mod version_tests {
    use super::*;

    #[test]
    fn version_words_in_binary_output() {
        assert_eq!(
            version_from_output("k3s version v1.31.1+k3s1 (452dbbc1)\ngo version go1.22.6")
                .as_deref(),
            Some("v1.31.1+k3s1")
        );
        assert_eq!(
            version_from_output("Kubernetes v1.29.0-eks-5e0fdde").as_deref(),
            Some("v1.29.0-eks-5e0fdde")
        );
        assert_eq!(
            version_from_output("rke2 version v1.30.5+rke2r1 (abc)").as_deref(),
            Some("v1.30.5+rke2r1")
        );
        assert_eq!(version_from_output("no version here"), None);
    }
}
