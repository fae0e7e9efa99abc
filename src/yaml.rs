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
