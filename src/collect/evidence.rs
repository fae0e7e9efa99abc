//! Evidence: where a fact came from (a flag on a process, a key in a config
//! file, a default, a file's stat), carried into the report unchanged.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceSource {
    /// A flag on a running process's command line.
    CommandLine,
    /// A flag in a static pod manifest (the process was not visible).
    Manifest,
    /// A flag on a command line a carrier process logged to the journal.
    Journal,
    Environment,
    ConfigFile,
    DropIn,
    Default,
    NotSet,
    File,
    Document,
    /// A shell audit command (the command is in `key`).
    ShellAudit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub source: EvidenceSource,
    /// One sentence a person can check by hand.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Evidence {
    pub fn new(source: EvidenceSource, detail: impl Into<String>) -> Evidence {
        Evidence {
            source,
            detail: detail.into(),
            path: None,
            line: None,
            flag: None,
            key: None,
            pid: None,
            value: None,
        }
    }
}

/// Best-effort 1-based line of the key a path names in YAML or JSON text:
/// each key is searched below the previous one at a deeper indentation.
pub fn key_line(text: &str, keys: &[&str]) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut start = 0;
    let mut min_indent: Option<usize> = None;
    let mut found = None;
    for key in keys {
        let plain = format!("{key}:");
        let quoted = format!("\"{key}\":");
        let mut hit = None;
        for (i, l) in lines.iter().enumerate().skip(start) {
            let t = l.trim_start().trim_start_matches("- ");
            let indent = l.len() - l.trim_start().len();
            if min_indent.is_some_and(|m| indent <= m) && i > start {
                // Left the enclosing block.
                if !l.trim().is_empty()
                    && !t.starts_with('#')
                    && !t.starts_with('}')
                    && !t.starts_with(']')
                {
                    break;
                }
            }
            if t.starts_with(&plain) || t.starts_with(&quoted) {
                hit = Some((i, indent));
                break;
            }
        }
        let (i, indent) = hit?;
        found = Some(i + 1);
        start = i + 1;
        min_indent = Some(indent);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_in_yaml_and_json() {
        let yaml = "apiVersion: v1\nauthentication:\n  anonymous:\n    enabled: false\n  webhook:\n    enabled: true\nreadOnlyPort: 0\n";
        assert_eq!(
            key_line(yaml, &["authentication", "anonymous", "enabled"]),
            Some(4)
        );
        assert_eq!(
            key_line(yaml, &["authentication", "webhook", "enabled"]),
            Some(6)
        );
        assert_eq!(key_line(yaml, &["readOnlyPort"]), Some(7));
        assert_eq!(key_line(yaml, &["missing"]), None);
        let json = "{\n  \"authentication\": {\n    \"anonymous\": {\n      \"enabled\": false\n    }\n  }\n}\n";
        assert_eq!(
            key_line(json, &["authentication", "anonymous", "enabled"]),
            Some(4)
        );
    }
}
