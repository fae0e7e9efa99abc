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

/// Most values a config document from the node may hold, aliases
/// expanded. Real configs hold a few hundred; an alias bomb ("billion
/// laughs") holds billions in a few hundred bytes and is stopped here,
/// while it is being expanded, before it costs memory.
pub const MAX_DOCUMENT_VALUES: usize = 200_000;

/// For typed text (cfg files, snapshots), which may be large: how many
/// values aliases may add beyond those the text spells out (every value
/// takes at least a byte of text).
const MAX_ALIAS_VALUES: usize = 100_000;

/// The errors the value budget gives, for documents and for typed text.
const TOO_MANY_VALUES: &str = "holds more than";
const ALIASES_EXPAND: &str = "aliases expand to more than";

/// How deep serde_yaml lets collections nest before it stops.
const MAX_DEPTH: usize = 128;

fn convert(err: serde_yaml::Error) -> YamlError {
    let line = err.location().map(|l| l.line());
    // serde_yaml appends " at line X column Y" to its message; the line is
    // reported separately, so keep the message short.
    let mut message = err.to_string();
    if let Some(idx) = message.find(" at line ") {
        message.truncate(idx);
    }
    // serde_yaml's own limits, said in the terms of the document; the
    // value budget's error comes prefixed with the path it stopped at.
    if let Some(i) = message
        .find(TOO_MANY_VALUES)
        .or_else(|| message.find(ALIASES_EXPAND))
    {
        message.drain(..i);
    }
    if message == "recursion limit exceeded" {
        message = format!("nested more than {MAX_DEPTH} levels deep");
    } else if message == "repetition limit exceeded" {
        message = "aliases expand to far more values than the document holds (an alias bomb?)"
            .to_string();
    }
    YamlError { line, message }
}

fn too_deep(line: usize) -> YamlError {
    YamlError {
        line: Some(line),
        message: format!("nested more than {MAX_DEPTH} levels deep"),
    }
}

/// The scanner's states while inside what may be a flow collection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// Between tokens.
    Token,
    Plain,
    /// An anchor or alias name (`&a`, `*a`).
    Name,
    Single,
    Double,
    Comment,
}

/// libyaml's scanner spends time proportional to the flow depth on every
/// token, so a few megabytes of `{a: [` take hours, long before serde_yaml's
/// depth limit applies. Text whose length times its number of `[` and `{`
/// (a bound on that cost) stays under this is always parsed.
const FLOW_COST_BUDGET: usize = 100_000_000;

/// Refuse text whose flow collections (`[`, `{`) may nest more than
/// `MAX_DEPTH` deep, before libyaml sees it, when the text is large enough
/// for that to be slow (see `FLOW_COST_BUDGET`).
///
/// The count is an upper bound of libyaml's flow level: every `[` or `{`
/// counts, wherever it is, and a `]` or `}` uncounts one only where
/// libyaml's own rules for flow context (quoted scalars, plain scalars,
/// comments) make it a closing token; after a tag, nothing is uncounted.
/// Outside flow collections (block context, block scalars) the rules are
/// not applied, so brackets there only ever count up. Returns the 1-based
/// line where the bound first exceeds the limit.
fn check_flow_depth(text: &str) -> Result<(), usize> {
    let b = text.as_bytes();
    let openers = b.iter().filter(|c| **c == b'[' || **c == b'{').count();
    if b.len().saturating_mul(openers + 1) <= FLOW_COST_BUDGET {
        return Ok(());
    }
    let blankz = |i: usize| {
        b.get(i)
            .is_none_or(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
    };
    let mut structural = 0usize; // openers the flow rules account for
    let mut uncounted = 0usize; // openers inside quotes or comments: never closed
    let mut no_closing = false;
    let mut state = Flow::Token;
    let mut line = 1;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
        }
        let opener = c == b'[' || c == b'{';
        let closer = c == b']' || c == b'}';
        if structural == 0 {
            if opener {
                structural = 1;
                state = Flow::Token;
            }
        } else {
            match state {
                Flow::Token => match c {
                    b'#' => state = Flow::Comment,
                    b'\'' => state = Flow::Single,
                    b'"' => state = Flow::Double,
                    b'&' | b'*' => state = Flow::Name,
                    b'!' => no_closing = true,
                    b'[' | b'{' => structural += 1,
                    b']' | b'}' if !no_closing => structural -= 1,
                    b' ' | b'\t' | b'\r' | b'\n' | b',' | b'?' | b':' | b']' | b'}' => {}
                    _ => state = Flow::Plain,
                },
                Flow::Plain => {
                    if opener {
                        structural += 1;
                        state = Flow::Token;
                    } else if closer {
                        if !no_closing {
                            structural -= 1;
                        }
                        state = Flow::Token;
                    } else if c == b',' || (c == b':' && blankz(i + 1)) {
                        state = Flow::Token;
                    } else if c == b'#' && i > 0 && blankz(i - 1) {
                        state = Flow::Comment;
                    }
                }
                Flow::Name => {
                    if !(c.is_ascii_alphanumeric() || c == b'-' || c == b'_') {
                        state = Flow::Token;
                        continue;
                    }
                }
                Flow::Single => {
                    if c == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 1;
                        } else {
                            state = Flow::Token;
                        }
                    } else if opener {
                        uncounted += 1;
                    }
                }
                Flow::Double => {
                    if c == b'\\' {
                        i += 1;
                    } else if c == b'"' {
                        state = Flow::Token;
                    } else if opener {
                        uncounted += 1;
                    }
                }
                Flow::Comment => {
                    if c == b'\n' {
                        state = Flow::Token;
                    } else if opener {
                        uncounted += 1;
                    }
                }
            }
        }
        if structural + uncounted > MAX_DEPTH {
            return Err(line);
        }
        i += 1;
    }
    Ok(())
}

/// Whether `text` may define an anchor (`&name`), without which it can hold
/// no alias. Errs towards yes: `&&` in a shell command counts too.
fn may_have_anchors(text: &str) -> bool {
    text.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'&' && !w[1].is_ascii_whitespace())
}

/// Deserialize YAML text into `T`. Plain scalars deserialize into `String`
/// as their source text (`1.10` stays "1.10", `false` stays "false"). A
/// text with anchors is first measured, so an alias bomb is refused before
/// `T` is built from it.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    check_flow_depth(text).map_err(too_deep)?;
    if may_have_anchors(text) {
        let limit = text.len().saturating_add(MAX_ALIAS_VALUES);
        let why =
            format!("{ALIASES_EXPAND} {MAX_ALIAS_VALUES} values beyond the text (an alias bomb?)");
        parse_document(text, limit, &why)?;
    }
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
/// streams yield their first document. A document of more than
/// `MAX_DOCUMENT_VALUES` values (aliases expanded), or that nests more than
/// 128 levels, is an error.
pub fn to_document(text: &str) -> Result<serde_json::Value, YamlError> {
    let why = format!(
        "{TOO_MANY_VALUES} {MAX_DOCUMENT_VALUES} values, counting what its aliases expand to"
    );
    parse_document(text, MAX_DOCUMENT_VALUES, &why)
}

/// The first document of `text`, refused with `why` past `limit` values.
fn parse_document(text: &str, limit: usize, why: &str) -> Result<serde_json::Value, YamlError> {
    check_flow_depth(text).map_err(too_deep)?;
    let mut docs = serde_yaml::Deserializer::from_str(text);
    let Some(first) = docs.next() else {
        return Ok(serde_json::Value::Null);
    };
    let budget = std::cell::Cell::new(limit);
    serde::de::DeserializeSeed::deserialize(
        DocumentSeed {
            budget: &budget,
            why,
        },
        first,
    )
    .map_err(convert)
}

/// Builds a JSON value from any YAML node, spending one unit of `budget`
/// per value, so an expanding alias is stopped as it is expanded.
#[derive(Clone, Copy)]
struct DocumentSeed<'b> {
    budget: &'b std::cell::Cell<usize>,
    why: &'b str,
}

impl DocumentSeed<'_> {
    fn spend<E: serde::de::Error>(&self) -> Result<(), E> {
        match self.budget.get().checked_sub(1) {
            Some(left) => {
                self.budget.set(left);
                Ok(())
            }
            None => Err(E::custom(self.why)),
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = serde_json::Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for DocumentSeed<'_> {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.spend()?;
        Ok(v.into())
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.spend()?;
        Ok(v.into())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.spend()?;
        Ok(v.into())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.spend()?;
        // JSON has no infinities or NaN; keep YAML's spelling as text.
        Ok(match serde_json::Number::from_f64(v) {
            Some(n) => serde_json::Value::Number(n),
            None if v.is_nan() => ".nan".into(),
            None if v > 0.0 => ".inf".into(),
            None => "-.inf".into(),
        })
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.spend()?;
        Ok(v.into())
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
        self.spend()?;
        Ok(v.into())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.spend()?;
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        self.spend()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        self.spend()?;
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key_seed(self)? {
            let value = map.next_value_seed(self)?;
            out.insert(key_text(key), value);
        }
        Ok(serde_json::Value::Object(out))
    }

    /// A tagged value (`!Secret x`): the tag is dropped, the value kept.
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        use serde::de::VariantAccess;
        let (_tag, variant): (serde::de::IgnoredAny, _) = data.variant()?;
        variant.newtype_variant_seed(self)
    }
}

/// A mapping key as text: strings as they are, other scalars as written
/// in JSON (`1`, `true`, `null`), collections as compact JSON.
fn key_text(key: serde_json::Value) -> String {
    match key {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
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
        let doc = to_document(
            "1: one\ntrue: yes\n~: nothing\nf: 1.5\ninf: .inf\nt: !Secret s\nx: &x [1]\ny: *x\n",
        )
        .unwrap();
        assert_eq!(doc["1"], "one");
        assert_eq!(doc["true"], "yes");
        assert_eq!(doc["null"], "nothing");
        assert_eq!(doc["f"], 1.5);
        assert_eq!(doc["inf"], ".inf");
        assert_eq!(doc["t"], "s");
        assert_eq!(doc["y"][0], 1);
        assert_eq!(to_document("").unwrap(), serde_json::Value::Null);
        assert_eq!(to_document("a: 1\n---\na: 2\n").unwrap()["a"], 1);
    }

    /// 10 aliases per level, 9 levels: 10^9 values once expanded.
    fn billion_laughs() -> String {
        let mut text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n".to_string();
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let refs = vec![format!("*{}", w[0]); 10].join(", ");
            text.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
        }
        text
    }

    #[test]
    fn alias_bombs_are_refused_quickly() {
        let started = std::time::Instant::now();
        let err = to_document(&billion_laughs()).unwrap_err();

        assert!(err.message.contains("alias bomb"), "{err:?}");
        #[derive(Debug, serde::Deserialize)]
        struct Any {
            #[allow(dead_code)]
            i: serde_yaml::Value,
        }
        let err = from_str::<Any>(&billion_laughs()).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{err:?}");

        // Within serde_yaml's own alias limit (100 jumps per event), a large
        // anchor repeated still builds a quadratic number of values; the
        // value budget stops that too.
        let big = vec!["x"; 3000].join(", ");
        let refs = vec!["*a"; 3000].join(", ");
        let err = to_document(&format!("a: &a [{big}]\nb: [{refs}]\n")).unwrap_err();
        assert_eq!(
            err.message,
            "holds more than 200000 values, counting what its aliases expand to"
        );
        // A generous bound: this guards against hangs, not for speed.
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        // Large documents without aliases are not bombs; typed text (cfg,
        // snapshots) may hold more values than a config document.
        let list = vec!["1"; 150_000].join(", ");
        assert_eq!(to_document(&format!("[{list}]")).unwrap()[149_999], 1);
        let many = format!("i: &x [{}]\n", vec!["1"; 300_000].join(", "));
        assert!(from_str::<Scalars>(&many).is_err_and(|e| e.message.contains("missing field")));
    }

    #[test]
    fn deep_nesting_is_refused_with_its_line() {
        let deep: String = (0..200)
            .map(|i| format!("{}a:\n", "  ".repeat(i)))
            .collect();
        let err = to_document(&deep).unwrap_err();
        assert_eq!(err.message, "nested more than 128 levels deep");
        assert!(err.line.is_some_and(|l| l > 100), "{err:?}");
    }

    #[test]
    fn deep_flow_nesting_is_refused_before_parsing() {
        // libyaml needs time quadratic in this depth; these would take
        // hours at a few megabytes.
        for unit in [
            "[", "{a: ", "{a: [", "[{", "[&a ", "['x', ", "[\"]\", ", "[# ]\n",
        ] {
            let text = unit.repeat(400_000 / unit.len());
            let started = std::time::Instant::now();
            let err = to_document(&text).unwrap_err();
            assert_eq!(err.message, "nested more than 128 levels deep", "{unit}");
            assert!(from_str::<Scalars>(&text).is_err());
            assert!(
                started.elapsed() < std::time::Duration::from_secs(1),
                "{unit}"
            );
        }
        // A closing bracket inside a string or a comment closes nothing.
        let tricky = format!("{}x", "[\"]\", '}', # ]\n".repeat(5000));
        assert_eq!(check_flow_depth(&tricky), Err(129));
        // Quotes in block text cannot hide the brackets after them.
        let hiding = format!("k: a[ 'x\nk2: {}", "{a: ".repeat(100_000));
        assert_eq!(check_flow_depth(&hiding), Err(2));
    }

    #[test]
    fn wide_flow_collections_are_not_deep() {
        // Large: the depth is bounded by the scan, and it closes each one.
        let item = "{op: eq, value: \"x\", re: '^a+$', a: &x [1, 2], b: *x}";
        let text = format!("items: [\n{}]\n", vec![item; 10_000].join(",\n"));
        assert!(text.len() * 30_000 > FLOW_COST_BUDGET);
        let doc = to_document(&text).unwrap();
        assert_eq!(doc["items"][9_999]["a"][1], 2);
        // Small: brackets in strings, comments and block text do not matter.
        let item = "{op: eq, value: \"[x]\", re: '^[a-z]+$'}, # [\n";
        let text = format!("items: [\n{}{{}}]\n", item.repeat(200));
        assert_eq!(to_document(&text).unwrap()["items"][199]["value"], "[x]");
        let block = "r: |\n  see [docs] and {x\nre: ^[0-9]+$\n".repeat(200);
        assert!(to_document(&block).is_ok());
    }
}
