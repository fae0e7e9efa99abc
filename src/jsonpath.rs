//! A small JSONPath evaluator for config documents: `{.a.b}`, `{.a[0]}`,
//! `{.a[*].b}`, `{.a['dotted.key']}`. It is pure: it walks a parsed
//! document and never reads anything itself.

use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
    Wildcard,
}

/// A parsed path. Two paths written differently but naming the same keys
/// (`{.a.b}` and `a.b`) compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JsonPath {
    segments: Vec<Segment>,
}

/// Prints text that parses back to the same path: a key is written plainly
/// unless it is empty or holds a `.` or `[`, and then quoted (the parser
/// never yields such a key holding `]`). Whitespace at either end, which
/// parsing trims, is kept by wrapping the path in `{...}`.
impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key_at = |i: usize| match self.segments.get(i) {
            Some(Segment::Key(k)) => Some(k.as_str()),
            _ => None,
        };
        let last = self.segments.len().saturating_sub(1);
        let braces = key_at(0).is_some_and(|k| k.starts_with(char::is_whitespace))
            || key_at(last).is_some_and(|k| k.ends_with(char::is_whitespace));
        if braces {
            f.write_str("{")?;
        }
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Key(k) if k.is_empty() || k.contains(['.', '[']) => write!(f, "['{k}']")?,
                Segment::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    } else if k.starts_with('$') {
                        // A leading `$` is the root, not part of a key.
                        f.write_str("$.")?;
                    }
                    f.write_str(k)?
                }
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Wildcard => f.write_str("[*]")?,
            }
        }
        if braces {
            f.write_str("}")?;
        }
        Ok(())
    }
}

impl JsonPath {
    /// Parse `{.a.b[0]}`, `.a.b` or `a.b`.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let trimmed = text.trim();
        let inner = match trimmed.strip_prefix('{') {
            Some(rest) => rest
                .strip_suffix('}')
                .ok_or_else(|| format!("path {text:?} opens '{{' but does not close it"))?,
            None => trimmed,
        };
        if inner.contains('{') || inner.contains('}') {
            return Err(format!(
                "path {text:?}: only a single {{...}} expression is supported"
            ));
        }
        let chars: Vec<char> = inner.chars().collect();
        let mut segments = Vec::new();
        let mut i = 0;
        if chars.first() == Some(&'$') {
            i += 1;
        }
        let mut expect_key = chars.get(i).is_some_and(|c| *c != '.' && *c != '[');
        while i < chars.len() || expect_key {
            if expect_key {
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                let key: String = chars[start..i].iter().collect();
                if key.is_empty() {
                    return Err(format!("path {text:?} has an empty key"));
                }
                segments.push(Segment::Key(key));
                expect_key = false;
                continue;
            }
            match chars[i] {
                '.' => {
                    i += 1;
                    expect_key = true;
                }
                '[' => {
                    let close = chars[i..]
                        .iter()
                        .position(|c| *c == ']')
                        .map(|p| p + i)
                        .ok_or_else(|| format!("path {text:?} has an unclosed '['"))?;
                    let body: String = chars[i + 1..close].iter().collect();
                    let body = body.trim();
                    let seg = if body == "*" || body == ":" {
                        Segment::Wildcard
                    } else if let Some(q) = body
                        .strip_prefix('\'')
                        .and_then(|b| b.strip_suffix('\''))
                        .or_else(|| body.strip_prefix('"').and_then(|b| b.strip_suffix('"')))
                    {
                        Segment::Key(q.to_string())
                    } else {
                        Segment::Index(body.parse::<usize>().map_err(|_| {
                            format!("path {text:?}: [{body}] is not an index, '*' or a quoted key")
                        })?)
                    };
                    segments.push(seg);
                    i = close + 1;
                }
                c => return Err(format!("path {text:?}: unexpected {c:?}")),
            }
        }
        if segments.is_empty() {
            return Err(format!("path {text:?} names no key"));
        }
        Ok(JsonPath { segments })
    }

    /// The key names when the path is keys only (no index or wildcard).
    pub fn keys(&self) -> Option<Vec<&str>> {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Key(k) => Some(k.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Every value the path reaches in `doc`, in document order.
    pub fn select<'a>(&self, doc: &'a Value) -> Vec<&'a Value> {
        let mut current = vec![doc];
        for seg in &self.segments {
            let mut next = Vec::new();
            for v in current {
                match (seg, v) {
                    (Segment::Key(k), Value::Object(map)) => next.extend(map.get(k)),
                    (Segment::Index(n), Value::Array(items)) => next.extend(items.get(*n)),
                    (Segment::Wildcard, Value::Array(items)) => next.extend(items.iter()),
                    (Segment::Wildcard, Value::Object(map)) => next.extend(map.values()),
                    _ => {}
                }
            }
            current = next;
        }
        current
    }

    /// The text of what the path reaches, or `None` when it reaches nothing
    /// (or only `null`). Lists are joined with commas, scalars are their
    /// plain text, maps are compact JSON.
    pub fn lookup_text(&self, doc: &Value) -> Option<String> {
        let found: Vec<&Value> = self
            .select(doc)
            .into_iter()
            .filter(|v| !v.is_null())
            .collect();
        if found.is_empty() {
            return None;
        }
        let parts: Vec<String> = found.iter().map(|v| value_text(v)).collect();
        Some(parts.join(","))
    }
}

/// Plain text of a JSON value as a setting: strings unquoted, arrays
/// comma-joined, maps as compact JSON.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(","),
        Value::Object(_) => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_common_forms_alike() {
        let a = JsonPath::parse("{.authentication.anonymous.enabled}").unwrap();
        let b = JsonPath::parse("authentication.anonymous.enabled").unwrap();
        let c = JsonPath::parse(".authentication['anonymous'].enabled").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.to_string(), "authentication.anonymous.enabled");
    }

    #[test]
    fn walks_maps_lists_and_wildcards() {
        let doc = json!({"a": {"b": [{"c": 1}, {"c": 2}], "d-e": true}, "list": ["x", "y"]});
        let p = JsonPath::parse("{.a.b[*].c}").unwrap();
        assert_eq!(p.lookup_text(&doc).as_deref(), Some("1,2"));
        let p = JsonPath::parse("{.a.b[1].c}").unwrap();
        assert_eq!(p.lookup_text(&doc).as_deref(), Some("2"));
        let p = JsonPath::parse("{.a.d-e}").unwrap();
        assert_eq!(p.lookup_text(&doc).as_deref(), Some("true"));
        let p = JsonPath::parse("{.list}").unwrap();
        assert_eq!(p.lookup_text(&doc).as_deref(), Some("x,y"));
        let p = JsonPath::parse("{.missing.key}").unwrap();
        assert_eq!(p.lookup_text(&doc), None);
    }

    #[test]
    fn null_is_not_a_value() {
        let doc = json!({"a": null});
        assert_eq!(JsonPath::parse("a").unwrap().lookup_text(&doc), None);
    }

    #[test]
    fn prints_paths_that_parse_back_to_themselves() {
        // Keys holding a quote, a bracket, a dot, edge whitespace, a leading
        // `$`, or nothing at all printed as text that named another path or
        // did not parse.
        for text in [
            "['a.b'].c",
            "a['x.y'z['w']",
            "a.b]c",
            "['']",
            "[' a'].b",
            "a['b ']",
            "{ a.b ]\n}",
            "$$x",
            "['$x'][0]",
            "a[*]['k.k'][2]",
        ] {
            let path = JsonPath::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let printed = path.to_string();
            assert_eq!(
                JsonPath::parse(&printed).as_ref(),
                Ok(&path),
                "{text:?} printed as {printed:?}"
            );
        }
        assert_eq!(
            JsonPath::parse("{.authentication.anonymous.enabled}")
                .unwrap()
                .to_string(),
            "authentication.anonymous.enabled"
        );
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in [
            "{.a",
            "{}",
            "{.a[}",
            "{.a[x]}",
            "{.a..b}",
            "{range .a}{end}",
        ] {
            assert!(JsonPath::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const KEYS: [&str; 4] = ["a", "b", "a.b", "c-d"];

        fn document() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                (-5i64..50).prop_map(Value::from),
                prop::sample::select(vec!["x", "", "1,2", "true"]).prop_map(Value::from),
            ];
            leaf.prop_recursive(4, 40, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map(prop::sample::select(KEYS.to_vec()), inner, 0..4)
                        .prop_map(|m| Value::Object(
                            m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                        )),
                ]
            })
        }

        fn segments() -> impl Strategy<Value = Vec<Segment>> {
            let seg = prop_oneof![
                3 => prop::sample::select(KEYS.to_vec()).prop_map(|k| Segment::Key(k.to_string())),
                1 => (0usize..4).prop_map(Segment::Index),
                1 => Just(Segment::Wildcard),
            ];
            prop::collection::vec(seg, 1..5)
        }

        /// The path as a cfg writes it: `{.a['a.b'][0][*]}`.
        fn written(segments: &[Segment]) -> String {
            let mut text = String::from("{");
            for s in segments {
                match s {
                    Segment::Key(k) if k.contains('.') => text.push_str(&format!("['{k}']")),
                    Segment::Key(k) => text.push_str(&format!(".{k}")),
                    Segment::Index(n) => text.push_str(&format!("[{n}]")),
                    Segment::Wildcard => text.push_str("[*]"),
                }
            }
            text.push('}');
            text
        }

        /// A direct walk: each step keeps what the segment names under each
        /// value reached so far.
        fn walk<'a>(doc: &'a Value, segments: &[Segment]) -> Vec<&'a Value> {
            let Some((first, rest)) = segments.split_first() else {
                return vec![doc];
            };
            let children: Vec<&Value> = match (first, doc) {
                (Segment::Key(k), Value::Object(m)) => m.get(k).into_iter().collect(),
                (Segment::Index(n), Value::Array(a)) => a.get(*n).into_iter().collect(),
                (Segment::Wildcard, Value::Array(a)) => a.iter().collect(),
                (Segment::Wildcard, Value::Object(m)) => m.values().collect(),
                _ => Vec::new(),
            };
            children.into_iter().flat_map(|c| walk(c, rest)).collect()
        }

        proptest! {
            #[test]
            fn lookup_agrees_with_a_direct_walk(doc in document(), segments in segments()) {
                let text = written(&segments);
                let path = JsonPath::parse(&text).map_err(TestCaseError::fail)?;
                let reached = walk(&doc, &segments);
                prop_assert_eq!(path.select(&doc), reached.clone(), "{}", text);
                // Without wildcards, a JSON pointer names the same value.
                if !segments.contains(&Segment::Wildcard) {
                    let pointer: String = segments
                        .iter()
                        .map(|s| match s {
                            Segment::Key(k) => format!("/{k}"),
                            Segment::Index(n) => format!("/{n}"),
                            Segment::Wildcard => unreachable!("no wildcard here"),
                        })
                        .collect();
                    prop_assert_eq!(path.select(&doc), doc.pointer(&pointer).into_iter().collect::<Vec<_>>(), "{}", text);
                }
                let values: Vec<String> = reached.iter().filter(|v| !v.is_null()).map(|v| value_text(v)).collect();
                let want = (!values.is_empty()).then(|| values.join(","));
                prop_assert_eq!(path.lookup_text(&doc), want, "{}", text);
                prop_assert_eq!(JsonPath::parse(&path.to_string()), Ok(path.clone()), "{}", text);
            }
        }
    }
}
