//! JUnit XML in kube-bench's shape (its `Controls.JUnit`, ginkgo's JUnit
//! types, Go's XML encoder with four-space indentation): one `testsuite`
//! per target named by its text, one `testcase` per check named
//! `<id> <text>` with its group as the class, a `failure` holding the
//! remediation for FAIL, `skipped` for WARN and INFO, and the check's JSON
//! as `system-out`. One target gives kube-bench's document exactly; several
//! are wrapped in one `testsuites` element, where kube-bench printed one
//! document after another (not well-formed XML, and `--outputfile` kept
//! only the last).

use super::json::check_json;
use super::RunReport;
use crate::evaluate::{ControlsResult, Status};

/// An element with attributes, and either children or text.
struct Element {
    name: &'static str,
    attrs: Vec<(&'static str, String)>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn new(name: &'static str) -> Element {
        Element {
            name,
            attrs: Vec::new(),
            children: Vec::new(),
            text: String::new(),
        }
    }

    fn attr(mut self, key: &'static str, value: impl Into<String>) -> Element {
        self.attrs.push((key, value.into()));
        self
    }
}

fn in_xml_range(c: char) -> bool {
    matches!(c as u32, 0x09 | 0x0A | 0x0D | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// Go's `xml.EscapeText`.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c if !in_xml_range(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn write(out: &mut String, e: &Element, depth: usize) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&"    ".repeat(depth));
    out.push('<');
    out.push_str(e.name);
    for (k, v) in &e.attrs {
        out.push_str(&format!(" {k}=\"{}\"", escape(v)));
    }
    out.push('>');
    if e.children.is_empty() {
        out.push_str(&escape(&e.text));
    } else {
        for child in &e.children {
            write(out, child, depth + 1);
        }
        out.push('\n');
        out.push_str(&"    ".repeat(depth));
    }
    out.push_str(&format!("</{}>", e.name));
}

fn suite(c: &ControlsResult) -> Element {
    let s = &c.summary;
    let mut suite = Element::new("testsuite")
        .attr("name", &c.text)
        .attr("tests", (s.pass + s.fail + s.info + s.warn).to_string())
        .attr("failures", s.fail.to_string())
        .attr("errors", "0")
        .attr("time", "0");
    for g in &c.groups {
        for r in &g.checks {
            let mut case = Element::new("testcase")
                .attr("name", format!("{} {}", r.id, r.text))
                .attr("classname", &g.text)
                .attr("time", "0");
            match r.status {
                Status::Fail => {
                    let mut failure = Element::new("failure").attr("type", "");
                    failure.text = r.remediation.clone();
                    case.children.push(failure);
                }
                Status::Warn | Status::Info => case.children.push(Element::new("skipped")),
                Status::Pass => {}
            }
            let mut out = Element::new("system-out");
            out.text = crate::go_text::to_json(&check_json(r)).unwrap_or_default();
            case.children.push(out);
            suite.children.push(case);
        }
    }
    suite
}

/// The JUnit document for a run, with its final newline.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    match report.controls.as_slice() {
        [one] => write(&mut out, &suite(one), 0),
        many => {
            let s = report.totals();
            let mut root = Element::new("testsuites")
                .attr("tests", (s.pass + s.fail + s.info + s.warn).to_string())
                .attr("failures", s.fail.to_string());
            root.children = many.iter().map(suite).collect();
            write(&mut out, &root, 0);
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_indent_and_escape_as_go_does() {
        let mut root = Element::new("a").attr("n", "x\"y<'&\n");
        let mut b = Element::new("b");
        b.text = "t\tz".to_string();
        root.children.push(b);
        root.children.push(Element::new("c"));
        let mut out = String::new();
        write(&mut out, &root, 0);
        assert_eq!(
            out,
            "<a n=\"x&#34;y&lt;&#39;&amp;&#xA;\">\n    <b>t&#x9;z</b>\n    <c></c>\n</a>"
        );
        let mut out = String::new();
        write(&mut out, &Element::new("empty"), 0);
        assert_eq!(out, "<empty></empty>");
    }
}
