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

    #[test]
    fn bitmask_agrees_with_its_definition_for_every_mode() {
        for expected in [0o600u32, 0o644, 0o700, 0o640, 0o000, 0o777] {
            for actual in 0..=0o777u32 {
                let reference =
                    (0..9).all(|bit| actual & (1 << bit) == 0 || expected & (1 << bit) != 0);
                let c = cmp("bitmask", &format!("{expected:o}"));
                assert_eq!(
                    holds(&c, &format!("{actual:o}")),
                    reference,
                    "{actual:o} vs {expected:o}"
                );
            }
        }
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
}
