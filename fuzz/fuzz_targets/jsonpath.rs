//! The JSONPath evaluator: the expression parser on any text, and lookups
//! of a parsed path over any YAML or JSON document (`yaml::to_document`),
//! with the line finder the evidence uses. A path that parses must print
//! back to text that parses to the same path.
//!
//! Input: `<path expression>` NUL `<document text>`; without a NUL, the
//! whole input is the expression and the document is empty.

#![no_main]

use kubecis::collect::evidence::key_line;
use kubecis::jsonpath::JsonPath;
use kubecis::yaml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (expr, doc_bytes) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let expr = String::from_utf8_lossy(expr);
    let Ok(path) = JsonPath::parse(&expr) else {
        return;
    };
    let printed = path.to_string();
    let again = JsonPath::parse(&printed)
        .unwrap_or_else(|e| panic!("{expr:?} printed as {printed:?}, which does not parse: {e}"));
    assert_eq!(again, path, "{expr:?} printed as {printed:?}");

    let Ok(text) = std::str::from_utf8(doc_bytes) else {
        return;
    };
    let Ok(doc) = yaml::to_document(text) else {
        return;
    };
    let found = path.select(&doc);
    let text_value = path.lookup_text(&doc);
    assert_eq!(
        text_value.is_some(),
        found.iter().any(|v| !v.is_null()),
        "lookup_text and select disagree"
    );
    if let Some(keys) = path.keys() {
        let _ = key_line(text, &keys);
    }
});
