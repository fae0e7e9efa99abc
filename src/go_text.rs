//! Text as kube-bench's Go code writes it, for output that must match it
//! byte for byte: `encoding/json`'s string escaping (`<`, `>`, `&`, U+2028
//! and U+2029 as `\u` escapes) and float forms, `fmt`'s `%v` of a float64,
//! and `strconv.Quote` (`%q`). Pure functions of their input.

use serde::Serialize;
use std::io;

/// A serde_json formatter that escapes strings as Go's `encoding/json`.
struct GoFormatter;

impl serde_json::ser::Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let esc = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(esc.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Compact JSON as Go's `json.Marshal` writes it (field order as given).
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    value.serialize(&mut ser)?;
    // serde_json writes UTF-8 only.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A JSON string literal as Go writes it.
pub fn json_string(s: &str) -> String {
    to_json(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// `strconv.Quote`: Go's `%q` of a string.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() || (c.is_whitespace() && c != ' ') || c == '\u{feff}' => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32))
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `fmt`'s `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`).
pub fn float_v(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let (neg, digits, exp) = shortest_digits(f);
    let sign = if neg { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        format!("{sign}{}", exponent_form(&digits, exp))
    } else {
        format!("{sign}{}", fixed_form(&digits, exp))
    }
}

/// `encoding/json`'s form of a float64.
pub fn json_float(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return "0".to_string();
    }
    let (neg, digits, exp) = shortest_digits(f);
    let sign = if neg { "-" } else { "" };
    let abs = f.abs();
    if !(1e-6..1e21).contains(&abs) {
        // Go trims e-09 to e-9 here.
        let text = exponent_form(&digits, exp);
        let text = match text.split_once("e-0") {
            Some((m, e)) => format!("{m}e-{e}"),
            None => text,
        };
        return format!("{sign}{text}");
    }
    format!("{sign}{}", fixed_form(&digits, exp))
}

/// Sign, the shortest decimal digits that round-trip, and the decimal
/// exponent of the first digit.
fn shortest_digits(f: f64) -> (bool, String, i32) {
    let text = format!("{:e}", f.abs());
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    (f < 0.0, digits, exp.parse().unwrap_or(0))
}

fn exponent_form(digits: &str, exp: i32) -> String {
    let mut out = digits[..1].to_string();
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    out.push_str(&format!("{:02}", exp.abs()));
    out
}

fn fixed_form(digits: &str, exp: i32) -> String {
    if exp < 0 {
        format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
    } else if (exp as usize) + 1 >= digits.len() {
        format!("{digits}{}", "0".repeat(exp as usize + 1 - digits.len()))
    } else {
        let (int, frac) = digits.split_at(exp as usize + 1);
        format!("{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_html_characters_as_go_does() {
        assert_eq!(
            json_string("a<b>&c\u{2028}\n\"\t\u{1}"),
            r#""a\u003cb\u003e\u0026c\u2028\n\"\t\u0001""#
        );
        let v = serde_json::json!({"z": "--x=<y>", "a": [1, true]});
        assert_eq!(
            to_json(&v).unwrap(),
            r#"{"z":"--x=\u003cy\u003e","a":[1,true]}"#
        );
    }

    #[test]
    fn quote_is_go_percent_q() {
        assert_eq!(quote("ps -ef | grep \"x\"\n"), r#""ps -ef | grep \"x\"\n""#);
        assert_eq!(quote("tab\there\u{7f}\u{a0}é"), r#""tab\there\x7f\u00a0é""#);
    }

    #[test]
    fn floats_print_as_go_prints_them() {
        assert_eq!(float_v(15000.0), "15000");
        assert_eq!(float_v(1_000_000.0), "1e+06");
        assert_eq!(float_v(123_456_789.0), "1.23456789e+08");
        assert_eq!(float_v(0.5), "0.5");
        assert_eq!(float_v(0.0001), "0.0001");
        assert_eq!(float_v(0.00001), "1e-05");
        assert_eq!(float_v(-2.5), "-2.5");
        assert_eq!(json_float(1_000_000.0), "1000000");
        assert_eq!(json_float(1e21), "1e+21");
        assert_eq!(json_float(1e-7), "1e-7");
        assert_eq!(json_float(0.25), "0.25");
    }
}
