//! The log writer's last line of defence: the SDK's debug logs print credential key ids (its
//! `Credentials` Debug redacts the secret, not the key id), so every log line is scrubbed of
//! AWS access key ids before it reaches stderr, whatever the filter lets through.
use std::borrow::Cow;
use std::io::{self, Write};

/// `AKIA`/`ASIA` + 16 upper-case letters or digits become `AKIA****************`.
pub fn redact_key_ids(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let is_key = |i: usize| {
        b.len() >= i + 20
            && (b[i..].starts_with(b"AKIA") || b[i..].starts_with(b"ASIA"))
            && b[i + 4..i + 20].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    if !(0..b.len()).any(is_key) {
        return Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if is_key(i) {
            out.extend_from_slice(&b[i..i + 4]);
            out.extend_from_slice(b"****************");
            i += 20;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Cow::Owned(String::from_utf8(out).expect("only ASCII replaced"))
}

/// stderr, with every write scrubbed (tracing-subscriber writes one event per call).
pub struct RedactingStderr;

impl Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        io::stderr().lock().write_all(redact_key_ids(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::redact_key_ids;

    #[test]
    fn key_ids_are_masked_and_other_text_kept() {
        assert_eq!(redact_key_ids(r#"access_key_id: "ASIAY34FZKBOKMUTVV7A", x"#), r#"access_key_id: "ASIA****************", x"#);
        assert_eq!(redact_key_ids("AKIAIOSFODNN7EXAMPLE"), "AKIA****************");
        assert_eq!(redact_key_ids("ASIA is big; account 123456789012 ✓"), "ASIA is big; account 123456789012 ✓");
    }
}
