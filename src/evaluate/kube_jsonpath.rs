//! Kubernetes JSONPath templates as kube-bench runs them on audit output
//! (client-go's `util/jsonpath` with missing keys allowed): text outside
//! `{...}` is printed as written, `{.a.b}` prints what the path reaches,
//! `{range .list[*]}...{end}` repeats its body, `{'x'}` prints `x`, and
//! several results of one action are joined by spaces. Values print as Go
//! prints them: strings bare, numbers from JSON as Go's float64, lists and
//! maps as compact JSON. Filters (`[?()]`) and recursive descent (`..`) are
//! refused with an error rather than guessed. Pure: it walks a parsed
//! document and never reads anything itself.

use serde_json::Value;

/// A parsed document and where it came from: JSON numbers are float64 to
/// Go, and mappings decoded from YAML cannot be printed as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Json,
    Yaml,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    List(Vec<Node>),
    Field(String),
    Wildcard,
    /// start, end, step; `None` when not written. `derived_end`: a single
    /// index `[n]`, whose end is `n + 1`.
    Array {
        start: Option<i64>,
        end: Option<i64>,
        step: Option<i64>,
        derived_end: bool,
    },
    Union(Vec<Vec<Node>>),
    Range,
    End,
    Literal(String),
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
}

fn is_terminator(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => matches!(
            c,
            ' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}'
        ),
    }
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn next(&mut self) -> Option<char> {
        let c = self.rest().chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Text and `{...}` actions until the end of the input.
    fn parse_template(&mut self) -> Result<Vec<Node>, String> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if c == '{' {
                if !text.is_empty() {
                    nodes.push(Node::Text(std::mem::take(&mut text)));
                }
                self.pos += 1;
                nodes.push(Node::List(self.parse_action()?));
            } else {
                text.push(c);
                self.pos += c.len_utf8();
            }
        }
        if !text.is_empty() {
            nodes.push(Node::Text(text));
        }
        Ok(nodes)
    }

    /// The inside of one `{...}`, up to and including its `}`.
    fn parse_action(&mut self) -> Result<Vec<Node>, String> {
        let mut nodes = Vec::new();
        loop {
            if self.rest().starts_with('}') {
                self.pos += 1;
                return Ok(nodes);
            }
            if self.rest().starts_with("[?(") {
                return Err("filter expressions ([?(...)]) are not supported".to_string());
            }
            if self.rest().starts_with("..") {
                return Err("recursive descent (..) is not supported".to_string());
            }
            match self.next() {
                None | Some('\r') | Some('\n') => return Err("unclosed action".to_string()),
                Some(' ') | Some('@') | Some('$') => {}
                Some('[') => nodes.push(self.parse_array()?),
                Some(q @ ('"' | '\'')) => nodes.push(Node::Literal(self.parse_quote(q)?)),
                Some('.') => {
                    let start = self.pos;
                    let mut name = String::new();
                    loop {
                        match self.peek() {
                            Some('\\') => {
                                self.pos += 1;
                                if let Some(c) = self.next() {
                                    name.push(c);
                                }
                            }
                            c if is_terminator(c) => break,
                            Some(c) => {
                                name.push(c);
                                self.pos += c.len_utf8();
                            }
                            None => break,
                        }
                    }
                    if &self.input[start..self.pos] == "*" {
                        nodes.push(Node::Wildcard);
                    } else {
                        nodes.push(Node::Field(name));
                    }
                }
                Some(c) if c == '+' || c == '-' || c.is_ascii_digit() => {
                    let start = self.pos - 1;
                    while self.peek().is_some_and(|c| c == '.' || c.is_ascii_digit()) {
                        self.pos += 1;
                    }
                    let text = &self.input[start..self.pos];
                    if text.parse::<i64>().is_err() && text.parse::<f64>().is_err() {
                        return Err(format!("cannot parse number {text}"));
                    }
                    nodes.push(Node::Literal(text.to_string()));
                }
                Some(c) if c == '_' || c.is_alphanumeric() => {
                    let start = self.pos - c.len_utf8();
                    while !is_terminator(self.peek()) {
                        self.next();
                    }
                    match &self.input[start..self.pos] {
                        "range" => nodes.push(Node::Range),
                        "end" => nodes.push(Node::End),
                        "true" | "false" => {
                            nodes.push(Node::Literal(self.input[start..self.pos].to_string()))
                        }
                        other => return Err(format!("unrecognized identifier {other}")),
                    }
                }
                Some(c) => return Err(format!("unrecognized character in action: {c:?}")),
            }
        }
    }

    fn parse_quote(&mut self, quote: char) -> Result<String, String> {
        let mut out = String::new();
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated quoted string".to_string()),
                Some('\\') => match self.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(c) => out.push(c),
                    None => return Err("unterminated quoted string".to_string()),
                },
                Some(c) if c == quote => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    fn parse_array(&mut self) -> Result<Node, String> {
        let start = self.pos;
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated array".to_string()),
                Some(']') => break,
                Some(_) => {}
            }
        }
        let body = &self.input[start..self.pos - 1];
        array_node(if body == "*" { ":" } else { body })
    }
}

fn array_node(body: &str) -> Result<Node, String> {
    if body.contains(',') {
        let mut alternatives = Vec::new();
        for part in body.split(',') {
            let mut p = Parser {
                input: part.trim(),
                pos: 0,
            };
            let inner = format!("[{}]", p.input);
            p.input = &inner;
            p.pos = 1;
            alternatives.push(vec![p.parse_array()?]);
        }
        return Ok(Node::Union(alternatives));
    }
    if let Some(key) = body.strip_prefix('\'').and_then(|b| b.strip_suffix('\'')) {
        if !key.contains('\'') {
            return Ok(Node::Field(key.to_string()));
        }
    }
    let parts: Vec<&str> = body.split(':').collect();
    if parts.len() > 3 || parts.iter().any(|p| !is_index(p)) {
        return Err(format!("invalid array index {body}"));
    }
    let num = |s: &str| -> Result<Option<i64>, String> {
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse::<i64>()
                .map(Some)
                .map_err(|_| format!("array index {s} is not a number"))
        }
    };
    let start = num(parts[0])?;
    let (end, derived_end) = match parts.get(1) {
        None => (start.map(|s| s + 1).or(Some(1)), true),
        Some(e) => (num(e)?, false),
    };
    let step = match parts.get(2) {
        None => None,
        Some(s) => num(s)?,
    };
    Ok(Node::Array {
        start,
        end,
        step,
        derived_end,
    })
}

fn is_index(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    digits.chars().all(|c| c.is_ascii_digit())
}

/// A number's text as Go prints the value kube-bench decoded.
fn number_text(n: &serde_json::Number, source: Source) -> String {
    match source {
        Source::Json => crate::go_text::float_v(n.as_f64().unwrap_or(0.0)),
        Source::Yaml => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => u.to_string(),
            _ => crate::go_text::float_v(n.as_f64().unwrap_or(0.0)),
        },
    }
}

/// A list or map as Go's `json.Marshal` writes it: keys sorted, `<`, `>`,
/// `&` escaped.
fn go_json(v: &Value, source: Source) -> Result<String, String> {
    Ok(match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (source, n.as_i64(), n.as_u64()) {
            (Source::Yaml, Some(i), _) => i.to_string(),
            (Source::Yaml, None, Some(u)) => u.to_string(),
            _ => crate::go_text::json_float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => crate::go_text::json_string(s),
        Value::Array(items) => {
            let parts: Result<Vec<String>, String> =
                items.iter().map(|i| go_json(i, source)).collect();
            format!("[{}]", parts?.join(","))
        }
        Value::Object(map) => {
            if source == Source::Yaml {
                return Err("json: unsupported type: map[interface {}]interface {}".to_string());
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut parts = Vec::new();
            for k in keys {
                parts.push(format!(
                    "{}:{}",
                    crate::go_text::json_string(k),
                    go_json(&map[k], source)?
                ));
            }
            format!("{{{}}}", parts.join(","))
        }
    })
}

fn print_value(v: &Value, source: Source) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(number_text(n, source)),
        Value::Null => Ok("null".to_string()),
        Value::Array(_) | Value::Object(_) => go_json(v, source),
    }
}

/// One value a path reached: a node of the document, or text.
#[derive(Debug, Clone)]
enum Found<'a> {
    Doc(&'a Value),
    Text(String),
}

fn walk<'a>(cur: Vec<Found<'a>>, node: &Node) -> Result<Vec<Found<'a>>, String> {
    match node {
        Node::Text(t) | Node::Literal(t) => Ok(vec![Found::Text(t.clone())]),
        Node::List(nodes) => {
            let mut cur = cur;
            for n in nodes {
                cur = walk(cur, n)?;
            }
            Ok(cur)
        }
        Node::Field(name) => Ok(cur
            .into_iter()
            .filter_map(|f| match f {
                Found::Doc(Value::Object(map)) => map.get(name).map(Found::Doc),
                _ => None,
            })
            .collect()),
        Node::Wildcard => {
            let mut out = Vec::new();
            for f in cur {
                match f {
                    Found::Doc(Value::Object(map)) => {
                        let mut keys: Vec<&String> = map.keys().collect();
                        keys.sort();
                        out.extend(keys.into_iter().map(|k| Found::Doc(&map[k])));
                    }
                    Found::Doc(Value::Array(items)) => out.extend(items.iter().map(Found::Doc)),
                    _ => {}
                }
            }
            Ok(out)
        }
        Node::Array {
            start,
            end,
            step,
            derived_end,
        } => {
            let mut out = Vec::new();
            for f in cur {
                let items = match f {
                    Found::Doc(Value::Array(items)) => items,
                    Found::Doc(Value::Null) => continue,
                    Found::Doc(other) => {
                        return Err(format!("{} is not array or slice", go_type(other)))
                    }
                    Found::Text(_) => return Err("string is not array or slice".to_string()),
                };
                let len = items.len() as i64;
                let mut s = start.unwrap_or(0);
                if s < 0 {
                    s += len;
                }
                let mut e = end.unwrap_or(len);
                if e < 0 || (e == 0 && *derived_end) {
                    e += len;
                }
                if e == s {
                    continue;
                }
                if s >= len || s < 0 {
                    return Err(format!(
                        "array index out of bounds: index {s}, length {len}"
                    ));
                }
                if e > len || e < 0 {
                    return Err(format!(
                        "array index out of bounds: index {}, length {len}",
                        e - 1
                    ));
                }
                if s > e {
                    return Err(format!(
                        "starting index {s} is greater than ending index {e}"
                    ));
                }
                let step = step.filter(|st| *st > 0).unwrap_or(1) as usize;
                out.extend(
                    items[s as usize..e as usize]
                        .iter()
                        .step_by(step)
                        .map(Found::Doc),
                );
            }
            Ok(out)
        }
        Node::Union(alternatives) => {
            let mut out = Vec::new();
            for alt in alternatives {
                out.extend(walk(cur.clone(), &Node::List(alt.clone()))?);
            }
            Ok(out)
        }
        Node::Range | Node::End => Ok(cur),
    }
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "map[string]interface {}",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::Array(_) => "[]interface {}",
        Value::Null => "<nil>",
    }
}

/// Does the action start a `range` (its first node) or close one?
fn action_kind(node: &Node) -> Option<&Node> {
    match node {
        Node::List(nodes) => nodes
            .first()
            .filter(|n| matches!(n, Node::Range | Node::End)),
        _ => None,
    }
}

/// Run `nodes` on `data`, appending what they print to `out`; returns the
/// index just past the `{end}` that closed this block (or the length).
fn execute_nodes(
    nodes: &[Node],
    data: Option<&Value>,
    source: Source,
    out: &mut String,
) -> Result<usize, String> {
    let mut i = 0;
    while i < nodes.len() {
        let node = &nodes[i];
        match action_kind(node) {
            Some(Node::End) => return Ok(i + 1),
            Some(Node::Range) => {
                let Node::List(inner) = node else {
                    unreachable!("action_kind only matches lists")
                };
                let cur = data.map(Found::Doc).into_iter().collect();
                let items = walk(cur, &Node::List(inner[1..].to_vec()))?;
                let body = &nodes[i + 1..];
                let mut consumed = None;
                for item in &items {
                    let value = match item {
                        Found::Doc(v) => Some(*v),
                        Found::Text(_) => None,
                    };
                    consumed = Some(execute_nodes(body, value, source, out)?);
                }
                let used = match consumed {
                    Some(n) => n,
                    None => execute_nodes(body, None, source, &mut String::new())?,
                };
                i += 1 + used;
                continue;
            }
            _ => {}
        }
        let cur = data.map(Found::Doc).into_iter().collect();
        let results = walk(cur, node)?;
        let mut texts = Vec::new();
        for r in results {
            texts.push(match r {
                Found::Text(t) => t,
                Found::Doc(v) => print_value(v, source)?,
            });
        }
        out.push_str(&texts.join(" "));
        i += 1;
    }
    Ok(nodes.len())
}

/// Print `template` against `doc` as kube-bench's JSONPath does. `Err` is
/// the message kube-bench would give (a template that does not parse, or
/// a value that cannot be printed).
pub fn execute(template: &str, doc: &Value, source: Source) -> Result<String, String> {
    let nodes = Parser {
        input: template,
        pos: 0,
    }
    .parse_template()?;
    let mut out = String::new();
    let data = (!doc.is_null()).then_some(doc);
    execute_nodes(&nodes, data, source, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(t: &str, doc: Value) -> String {
        execute(t, &doc, Source::Json).unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn fields_ranges_literals_and_text() {
        let doc = json!({"authentication": {"anonymous": {"enabled": false}}, "readOnlyPort": 15000,
            "tlsCipherSuites": ["A", "B"], "a-b": {"c": "d"}, "m": {"z": 1, "a": "<x>"}});
        assert_eq!(
            run("{.authentication.anonymous.enabled}", doc.clone()),
            "false"
        );
        assert_eq!(run("{.readOnlyPort}", doc.clone()), "15000");
        assert_eq!(run("{.missing.key}", doc.clone()), "");
        assert_eq!(
            run("{range .tlsCipherSuites[:]}{}{','}{end}", doc.clone()),
            "A,B,"
        );
        assert_eq!(run("{range .nothing[*]}{}{','}{end}", doc.clone()), "");
        assert_eq!(run("{.tlsCipherSuites}", doc.clone()), r#"["A","B"]"#);
        assert_eq!(run("{.tlsCipherSuites[*]}", doc.clone()), "A B");
        assert_eq!(run("{.tlsCipherSuites[1]}", doc.clone()), "B");
        assert_eq!(run("{.tlsCipherSuites[-1]}", doc.clone()), "B");
        assert_eq!(run("{.a-b.c}", doc.clone()), "d");
        assert_eq!(run("{.m}", doc.clone()), r#"{"a":"\u003cx\u003e","z":1}"#);
        // Text outside braces is printed as written, whatever the document.
        assert_eq!(run(".kubeAPIQPS", doc.clone()), ".kubeAPIQPS");
        assert_eq!(run("{.readOnlyPort}}", doc.clone()), "15000}");
    }

    #[test]
    fn errors_are_kube_bench_errors() {
        let doc = json!({"l": ["x"], "m": {"a": 1}});
        assert!(run("{.ApiVersion", doc.clone()).starts_with("ERR unclosed action"));
        assert!(run("{.l[3]}", doc.clone()).contains("out of bounds"));
        assert!(run("{.m[0]}", doc.clone()).contains("is not array or slice"));
        assert!(run("{.l[?(@.x)]}", doc.clone()).contains("not supported"));
        let yaml_map = execute("{.m}", &doc, Source::Yaml).unwrap_err();
        assert!(yaml_map.contains("unsupported type"), "{yaml_map}");
    }

    #[test]
    fn numbers_print_as_go_prints_them() {
        let doc = json!({"n": 1_000_000});
        assert_eq!(run("{.n}", doc.clone()), "1e+06");
        assert_eq!(execute("{.n}", &doc, Source::Yaml).unwrap(), "1000000");
    }
}
