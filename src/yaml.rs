//! The one place that names the YAML crate: parsing text into serde types or
//! into a JSON-shaped document. Swapping the YAML library means editing this
//! file only. It never reads files itself.

use serde::de::DeserializeOwned;

/// A YAML syntax or shape error, with the 1-based line where the parser
/// stopped when it knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn convert(err: serde_yaml::Error) -> YamlError {
    let line = err.location().map(|l| l.line());
    // serde_yaml appends " at line X column Y" to its message; the line is
    // reported separately, so keep the message short.
    let mut message = err.to_string();
    if let Some(idx) = message.find(" at line ") {
        message.truncate(idx);
    }
    YamlError { line, message }
}

/// Deserialize YAML text into `T`. Plain scalars deserialize into `String`
/// as their source text (`1.10` stays "1.10", `false` stays "false").
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_yaml::from_str(text).map_err(convert)
}

/// Like `from_str`, and also returns the path (keys and list indexes) of
/// every mapping key that `T` does not know and so skipped, for callers
/// that decide per format whether such a key is a mistake.
pub fn from_str_with_unknown<T: DeserializeOwned>(
    text: &str,
) -> Result<(T, Vec<Vec<String>>), YamlError> {
    let mut unknown = Vec::new();
    let de = serde_yaml::Deserializer::from_str(text);
    let value = serde_ignored::deserialize(de, |path| unknown.push(path_segments(&path)))
        .map_err(convert)?;
    Ok((value, unknown))
}

fn path_segments(path: &serde_ignored::Path) -> Vec<String> {
    use serde_ignored::Path;
    let mut out = match path {
        Path::Root => return Vec::new(),
        Path::Seq { parent, .. }
        | Path::Map { parent, .. }
        | Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => path_segments(parent),
    };
    match path {
        Path::Seq { index, .. } => out.push(index.to_string()),
        Path::Map { key, .. } => out.push(key.clone()),
        _ => {}
    }
    out
}

/// Parse YAML (or JSON, which is YAML) into a JSON-shaped value, so that
/// config documents can be walked with one path evaluator. Multi-document
/// streams yield their first document.
pub fn to_document(text: &str) -> Result<serde_json::Value, YamlError> {
    let mut docs = serde_yaml::Deserializer::from_str(text);
    let Some(first) = docs.next() else {
        return Ok(serde_json::Value::Null);
    };
    let value: serde_yaml::Value = serde::Deserialize::deserialize(first).map_err(convert)?;
    Ok(yaml_to_json(value))
}

fn yaml_to_json(value: serde_yaml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    use serde_yaml::Value as Y;
    match value {
        Y::Null => J::Null,
        Y::Bool(b) => J::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                J::from(i)
            } else if let Some(u) = n.as_u64() {
                J::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(J::Number)
                    .unwrap_or_else(|| J::String(n.to_string()))
            }
        }
        Y::String(s) => J::String(s),
        Y::Sequence(items) => J::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    other => scalar_text(&other),
                };
                out.insert(key, yaml_to_json(v));
            }
            J::Object(out)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

fn scalar_text(value: &serde_yaml::Value) -> String {
    match value {
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Null => "null".to_string(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Scalars {
        id: String,
        value: String,
        n: String,
    }

    #[test]
    fn plain_scalars_keep_their_source_text() {
        let s: Scalars = from_str("id: 1.10\nvalue: false\nn: 0600\n").unwrap();
        assert_eq!(s.id, "1.10");
        assert_eq!(s.value, "false");
        assert_eq!(s.n, "0600");
    }

    #[test]
    fn unknown_keys_are_reported_with_their_path() {
        #[derive(Debug, serde::Deserialize)]
        struct Outer {
            items: Vec<Scalars>,
        }
        let (v, unknown) = from_str_with_unknown::<Outer>(
            "items:\n  - {id: a, value: b, n: c}\n  - {id: a, value: b, n: c, extra: 1}\nother: x\n",
        )
        .unwrap();
        assert_eq!(v.items.len(), 2);
        assert_eq!(
            unknown,
            vec![
                vec!["items".to_string(), "1".to_string(), "extra".to_string()],
                vec!["other".to_string()],
            ]
        );
    }

    #[test]
    fn errors_carry_the_line() {
        let err = from_str::<Scalars>("id: a\nvalue: [\n").unwrap_err();
        assert!(err.line.is_some(), "{err:?}");
    }

    #[test]
    fn documents_become_json_values() {
        let doc = to_document("a:\n  b: [1, two]\n  c: true\n").unwrap();
        assert_eq!(doc["a"]["b"][1], "two");
        assert_eq!(doc["a"]["c"], true);
    }
}
