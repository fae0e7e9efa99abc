//! The compare ops, with kube-bench's meanings, and the wording of the
//! expected result. Pure functions of two strings.

use crate::benchmark::model::{Compare, CompareOp};

/// A number, or a Go duration (`4h0m0s`, `1m30s`, `500ms`) in seconds.
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if let Ok(n) = t.parse::<f64>() {
        return n.is_finite().then_some(n);
    }
    parse_duration(t)
}

fn parse_duration(t: &str) -> Option<f64> {
    let (neg, mut rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * factor;
        rest = &rest[unit_len..];
    }
    Some(if neg { -total } else { total })
}

/// How `actual` orders against `expected` as numbers: integers exactly (as
/// kube-bench compares them after `strconv.Atoi`; a float loses the last
/// digits past 2^53), anything else as a float or a duration in seconds.
fn numeric_order(actual: &str, expected: &str) -> Option<std::cmp::Ordering> {
    let integer = |t: &str| t.trim().parse::<i128>().ok();
    if let (Some(a), Some(e)) = (integer(actual), integer(expected)) {
        return Some(a.cmp(&e));
    }
    parse_number(actual)?.partial_cmp(&parse_number(expected)?)
}

fn octal(text: &str) -> Option<u32> {
    u32::from_str_radix(text.trim(), 8).ok()
}

/// Does `actual` satisfy the comparison?
pub fn holds(cmp: &Compare, actual: &str) -> bool {
    let expected = cmp.value.as_str();
    match cmp.op {
        CompareOp::Eq => equal(actual, expected),
        CompareOp::NotEq => !equal(actual, expected),
        CompareOp::Gt | CompareOp::Gte | CompareOp::Lt | CompareOp::Lte => {
            let Some(order) = numeric_order(actual, expected) else {
                return false;
            };
            match cmp.op {
                CompareOp::Gt => order.is_gt(),
                CompareOp::Gte => order.is_ge(),
                CompareOp::Lt => order.is_lt(),
                _ => order.is_le(),
            }
        }
        CompareOp::Has => actual.contains(expected),
        CompareOp::NotHave => !actual.contains(expected),
        CompareOp::Regex => cmp.regex.as_ref().is_some_and(|r| r.is_match(actual)),
        CompareOp::ValidElements => {
            let allowed: Vec<&str> = expected.split(',').map(str::trim).collect();
            let elems: Vec<&str> = actual
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .collect();
            !elems.is_empty() && elems.iter().all(|e| allowed.contains(e))
        }
        CompareOp::Bitmask => match (octal(actual), octal(expected)) {
            (Some(a), Some(e)) => a & !e == 0,
            _ => false,
        },
        CompareOp::ModeEq => match (octal(actual), octal(expected)) {
            (Some(a), Some(e)) => a == e,
            _ => false,
        },
        CompareOp::In => expected
            .split(',')
            .map(str::trim)
            .any(|e| e == actual.trim()),
    }
}

/// kube-bench compares booleans without regard to case and everything else
/// exactly.
fn equal(actual: &str, expected: &str) -> bool {
    let a = actual.trim();
    let e = expected.trim();
    let is_bool = |s: &str| s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false");
    if is_bool(a) && is_bool(e) {
        a.eq_ignore_ascii_case(e)
    } else {
        a == e
    }
}

/// kube-bench's wording of what a test expects.
pub fn expectation(subject: &str, cmp: &Compare) -> String {
    let v = &cmp.value;
    match cmp.op {
        CompareOp::Eq => format!("'{subject}' is equal to '{v}'"),
        CompareOp::NotEq => format!("'{subject}' is not equal to '{v}'"),
        CompareOp::Gt => format!("'{subject}' is greater than {v}"),
        CompareOp::Gte => format!("'{subject}' is greater or equal to {v}"),
        CompareOp::Lt => format!("'{subject}' is lower than {v}"),
        CompareOp::Lte => format!("'{subject}' is lower or equal to {v}"),
        CompareOp::Has => format!("'{subject}' has '{v}'"),
        CompareOp::NotHave => format!("'{subject}' does not have '{v}'"),
        CompareOp::Regex => format!("'{subject}' matched by regex expression '{v}'"),
        CompareOp::ValidElements => format!("'{subject}' contains valid elements from '{v}'"),
        CompareOp::Bitmask => format!("{subject} is {v} or more restrictive"),
        CompareOp::ModeEq => format!("{subject} is exactly {v}"),
        CompareOp::In => format!("'{subject}' is one of '{v}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn cmp(op: &str, value: &str) -> Compare {
        let op = CompareOp::parse(op).unwrap();
        let regex = (op == CompareOp::Regex).then(|| Regex::new(value).unwrap());
        Compare {
            op,
            value: value.to_string(),
            regex,
        }
    }

    /// (op, expected value, actual value, holds)
    const CASES: &[(&str, &str, &str, bool)] = &[
        ("eq", "false", "false", true),
        ("eq", "false", "False", true),
        ("eq", "false", "true", false),
        ("eq", "RBAC", "rbac", false),
        ("eq", "", "", true),
        ("noteq", "0", "0", false),
        ("noteq", "0", "10", true),
        ("gt", "0", "4h0m0s", true),
        ("gt", "0", "0s", false),
        ("gte", "30", "30", true),
        ("gte", "30", "29", false),
        ("gte", "30", "abc", false),
        ("gte", "0", "50", true),
        ("lt", "5m", "4m59s", true),
        ("lte", "100", "100", true),
        ("lte", "100", "101", false),
        (
            "has",
            "NodeRestriction",
            "NodeRestriction,PodSecurity",
            true,
        ),
        ("has", "Node", "RBAC", false),
        ("nothave", "AlwaysAllow", "Node,RBAC", true),
        ("nothave", "AlwaysAllow", "AlwaysAllow", false),
        (
            "regex",
            "^(127\\.0\\.0\\.1|localhost):",
            "127.0.0.1:10249",
            true,
        ),
        (
            "regex",
            "^(127\\.0\\.0\\.1|localhost):",
            "0.0.0.0:10249",
            false,
        ),
        ("valid_elements", "A,B,C", "A,C", true),
        ("valid_elements", "A,B,C", "A, C", true),
        ("valid_elements", "A,B,C", "A,D", false),
        ("valid_elements", "A,B,C", "", false),
        ("bitmask", "600", "600", true),
        ("bitmask", "600", "400", true),
        ("bitmask", "600", "0", true),
        ("bitmask", "600", "644", false),
        ("bitmask", "600", "700", false),
        ("bitmask", "644", "640", true),
        ("bitmask", "700", "750", false),
        ("bitmask", "600", "notoctal", false),
        ("mode_eq", "600", "600", true),
        ("mode_eq", "600", "400", false),
        ("in", "a,b", "b", true),
        ("in", "a,b", "c", false),
    ];

    #[test]
    fn every_op_on_the_table() {
        for (op, expected, actual, want) in CASES {
            assert_eq!(
                holds(&cmp(op, expected), actual),
                *want,
                "{op} {expected:?} on {actual:?}"
            );
        }
    }

    /// The reference definitions of the mode ops, bit by bit over all twelve
    /// permission bits (setuid, setgid and sticky included).
    fn mode_reference(op: CompareOp, actual: u32, expected: u32) -> bool {
        let mut bit = 0;
        while bit < 12 {
            let (a, e) = (actual >> bit & 1 == 1, expected >> bit & 1 == 1);
            let agrees = match op {
                // As or more restrictive: no bit set that the expected mode lacks.
                CompareOp::Bitmask => !a || e,
                CompareOp::ModeEq => a == e,
                _ => unreachable!("not a mode op: {op:?}"),
            };
            if !agrees {
                return false;
            }
            bit += 1;
        }
        true
    }

    /// Every (actual, expected) pair of modes, the actual mode written as the
    /// evaluator writes it (`{:o}`), the expected one with a leading 0 as a
    /// cfg may write it.
    fn assert_mode_op_on_every_pair(op: &str) {
        let text: Vec<String> = (0..=0o7777u32).map(|m| format!("{m:o}")).collect();
        for expected in 0..=0o7777u32 {
            let c = cmp(op, &format!("0{expected:o}"));
            for (actual, actual_text) in (0..=0o7777u32).zip(&text) {
                let want = mode_reference(c.op, actual, expected);
                if holds(&c, actual_text) != want {
                    panic!("{op} {expected:o} on {actual:o}: expected {want}");
                }
            }
        }
    }

    #[test]
    fn bitmask_agrees_with_its_definition_on_every_pair_of_modes() {
        assert_mode_op_on_every_pair("bitmask");
    }

    #[test]
    fn mode_eq_agrees_with_its_definition_on_every_pair_of_modes() {
        assert_mode_op_on_every_pair("mode_eq");
    }

    #[test]
    fn durations_and_numbers() {
        assert_eq!(parse_number("4h0m0s"), Some(14400.0));
        assert_eq!(parse_number("1m30s"), Some(90.0));
        assert_eq!(parse_number("500ms"), Some(0.5));
        assert_eq!(parse_number("-1"), Some(-1.0));
        assert_eq!(parse_number("10x"), None);
        assert_eq!(parse_number(""), None);
    }

    #[test]
    fn large_integers_compare_exactly() {
        // Equal as f64 (past 2^53), different as integers.
        let big = "9007199254740993";
        assert!(holds(&cmp("gt", "9007199254740992"), big));
        assert!(!holds(&cmp("lte", "9007199254740992"), big));
        assert!(holds(
            &cmp("lt", "-34270545515314541"),
            "-34270545515314542"
        ));
        assert!(holds(&cmp("gte", "4h"), "14400"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use std::collections::BTreeSet;

        fn check(op: &str, expected: &str, actual: &str) -> bool {
            holds(&cmp(op, expected), actual)
        }

        /// A value as a cfg or a node may write it: a base word, its case
        /// changed (which matters for booleans only), padded with spaces.
        #[derive(Debug, Clone)]
        struct Written {
            base: &'static str,
            upper: bool,
            pad: (bool, bool),
        }

        impl Written {
            fn text(&self) -> String {
                let word = if self.upper {
                    self.base.to_uppercase()
                } else {
                    self.base.to_string()
                };
                format!(
                    "{}{word}{}",
                    if self.pad.0 { " " } else { "" },
                    if self.pad.1 { "  " } else { "" }
                )
            }

            fn is_bool(&self) -> bool {
                ["true", "false"]
                    .iter()
                    .any(|b| b.eq_ignore_ascii_case(self.base))
            }
        }

        fn written() -> impl Strategy<Value = Written> {
            (
                prop::sample::select(vec!["true", "false", "True", "RBAC", "x", ""]),
                any::<bool>(),
                any::<(bool, bool)>(),
            )
                .prop_map(|(base, upper, pad)| Written { base, upper, pad })
        }

        /// An element list as the node writes it: elements from a small
        /// universe, with spaces and empty entries between them.
        fn element_list() -> impl Strategy<Value = (Vec<&'static str>, String)> {
            prop::collection::vec(
                (
                    prop::sample::select(vec!["A", "B", "C", "D", ""]),
                    any::<bool>(),
                ),
                0..5,
            )
            .prop_map(|items| {
                let elems = items.iter().map(|(e, _)| *e).filter(|e| !e.is_empty());
                let text = items
                    .iter()
                    .map(|(e, spaced)| {
                        if *spaced {
                            format!(" {e} ")
                        } else {
                            e.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(",");
                (elems.collect(), text)
            })
        }

        /// Byte-by-byte substring search.
        fn contains(hay: &str, needle: &str) -> bool {
            let (h, n) = (hay.as_bytes(), needle.as_bytes());
            n.is_empty()
                || (n.len() <= h.len() && (0..=h.len() - n.len()).any(|i| &h[i..i + n.len()] == n))
        }

        proptest! {
            #[test]
            fn numeric_ops_follow_integer_order(a in any::<i64>(), e in any::<i64>(), near in -2i64..=2, close in any::<bool>()) {
                // Close pairs too: large neighbours differ in the last digit.
                let e = if close { a.saturating_add(near) } else { e };
                let (a_text, e_text) = (a.to_string(), e.to_string());
                prop_assert_eq!(check("gt", &e_text, &a_text), a > e);
                prop_assert_eq!(check("gte", &e_text, &a_text), a >= e);
                prop_assert_eq!(check("lt", &e_text, &a_text), a < e);
                prop_assert_eq!(check("lte", &e_text, &a_text), a <= e);
            }

            #[test]
            fn numeric_ops_follow_duration_order(h in 0u64..200, m in 0u64..60, s in 0u64..60, e in 0u64..800_000, near in -2i64..=2, close in any::<bool>()) {
                let actual = format!("{h}h{m}m{s}s");
                let seconds = h * 3600 + m * 60 + s;
                let e = if close { seconds.saturating_add_signed(near) } else { e };
                prop_assert_eq!(check("gt", &e.to_string(), &actual), seconds > e);
                prop_assert_eq!(check("lte", &e.to_string(), &actual), seconds <= e);
            }

            #[test]
            fn numeric_ops_never_hold_on_text(a in "[a-z]{1,4}", e in any::<i32>()) {
                for op in ["gt", "gte", "lt", "lte"] {
                    prop_assert!(!check(op, &e.to_string(), &a), "{} {} on {:?}", op, e, a);
                }
            }

            #[test]
            fn eq_compares_booleans_in_any_case_and_the_rest_exactly(a in written(), e in written()) {
                let same = if a.is_bool() && e.is_bool() {
                    a.base.eq_ignore_ascii_case(e.base)
                } else {
                    a.text().trim() == e.text().trim()
                };
                prop_assert_eq!(check("eq", &e.text(), &a.text()), same);
                prop_assert_eq!(check("noteq", &e.text(), &a.text()), !same);
            }

            #[test]
            fn has_is_substring_search(hay in "[ab,]{0,8}", needle in "[ab,]{0,3}") {
                prop_assert_eq!(check("has", &needle, &hay), contains(&hay, &needle));
                prop_assert_eq!(check("nothave", &needle, &hay), !contains(&hay, &needle));
            }

            #[test]
            fn regex_searches_the_actual_value(lit in r"[a.*+?()|^$\\\[\]{}]{0,4}", hay in r"[a.*+?()|^$\\]{0,6}") {
                let escaped = regex::escape(&lit);
                prop_assert_eq!(check("regex", &escaped, &hay), hay.contains(lit.as_str()));
                prop_assert_eq!(check("regex", &format!("^{escaped}$"), &hay), hay == lit);
                prop_assert_eq!(check("regex", &format!("^{escaped}"), &hay), hay.starts_with(lit.as_str()));
            }

            #[test]
            fn valid_elements_needs_some_elements_all_allowed(
                (actual, actual_text) in element_list(),
                (allowed, allowed_text) in element_list(),
            ) {
                let allowed: BTreeSet<&str> = allowed.into_iter().collect();
                let want = !actual.is_empty() && actual.iter().all(|e| allowed.contains(e));
                prop_assert_eq!(check("valid_elements", &allowed_text, &actual_text), want);
            }

            #[test]
            fn in_is_list_membership(
                (allowed, allowed_text) in element_list(),
                actual in prop::sample::select(vec!["A", "B", "C", "D"]),
                padded in any::<bool>(),
            ) {
                let actual_text = if padded { format!(" {actual}") } else { actual.to_string() };
                prop_assert_eq!(check("in", &allowed_text, &actual_text), allowed.contains(&actual));
            }
        }
    }
}
