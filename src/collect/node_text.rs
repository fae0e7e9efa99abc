//! Lossless text for bytes read from the node (command lines, environment,
//! file names, link targets), which Linux does not require to be UTF-8. It
//! owns the escaping rule only and touches nothing.
//!
//! A byte that is not part of valid UTF-8 is written `\xNN` (two lowercase
//! hex digits, always 80-ff). So that the text maps back to exactly the
//! original bytes, a literal backslash is written `\x5c` when it is followed
//! by `x` and two hex digits that would otherwise read as an escape.
//! Everything else, backslashes included, is kept as it is, so ordinary
//! text reads the same before and after.

use std::borrow::Cow;

/// Whether `\xHH` with this value is an escape (as opposed to literal text).
fn is_escape_value(b: u8) -> bool {
    b == b'\\' || b >= 0x80
}

/// The value of `xHH` at the start of `rest`, when it is one.
fn escape_at(rest: &[u8]) -> Option<u8> {
    match rest {
        [b'x', h, l, ..] => {
            let hex = std::str::from_utf8(&[*h, *l]).ok()?.to_string();
            u8::from_str_radix(&hex, 16)
                .ok()
                .filter(|b| is_escape_value(*b))
        }
        _ => None,
    }
}

/// The text for `bytes`: valid UTF-8 as it is, every other byte as `\xNN`.
pub fn from_bytes(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if !text.contains('\\') {
            return Cow::Borrowed(text);
        }
    }
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        for (i, c) in valid.char_indices() {
            if c == '\\' && escape_at(&valid.as_bytes()[i + 1..]).is_some() {
                out.push_str("\\x5c");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    Cow::Owned(out)
}

/// The bytes `text` stands for: the inverse of [`from_bytes`].
pub fn to_bytes(text: &str) -> Cow<'_, [u8]> {
    if !text.contains("\\x") {
        return Cow::Borrowed(text.as_bytes());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if let Some(b) = escape_at(&bytes[i + 1..]) {
                out.push(b);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_text_is_unchanged() {
        for text in ["", "kube-apiserver", "--a=b", "C:\\dir\\x", "é\\n", "\\xzz"] {
            assert_eq!(from_bytes(text.as_bytes()), text);
            assert_eq!(to_bytes(text), text.as_bytes());
        }
    }

    #[test]
    fn invalid_bytes_are_escaped() {
        assert_eq!(from_bytes(b"a\xffb"), "a\\xffb");
        assert_eq!(from_bytes(b"\xc3"), "\\xc3");
        assert_eq!(to_bytes("a\\xffb"), &b"a\xffb"[..]);
    }

    #[test]
    fn literal_escape_lookalikes_survive_the_round_trip() {
        assert_eq!(from_bytes(b"\\xff"), "\\x5cxff");
        assert_eq!(from_bytes(b"\\x5c"), "\\x5cx5c");
        // `\x41` is not an escape (0x41 is ASCII), so it stays as written.
        assert_eq!(from_bytes(b"\\x41"), "\\x41");
        assert_eq!(to_bytes("\\x41"), &b"\\x41"[..]);
    }

    #[test]
    fn every_short_byte_string_round_trips() {
        // All strings of up to three bytes over an alphabet that mixes the
        // escape's own characters with invalid and multi-byte UTF-8.
        let alphabet: &[u8] = b"\\x5cf8\xff\xc3\xa9a";
        let mut cases: Vec<Vec<u8>> = vec![vec![]];
        for _ in 0..4 {
            let mut next = Vec::new();
            for c in &cases {
                for b in alphabet {
                    let mut n = c.clone();
                    n.push(*b);
                    next.push(n);
                }
            }
            cases.extend(next.into_iter().filter(|n| n.len() <= 4));
            cases.sort();
            cases.dedup();
        }
        assert!(cases.len() > 5000, "{}", cases.len());
        for bytes in &cases {
            let text = from_bytes(bytes);
            assert_eq!(to_bytes(&text), &bytes[..], "{bytes:?} -> {text:?}");
        }
    }
}
