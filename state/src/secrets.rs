//! A last line of defence: no credential-looking string is ever written to the state, whatever
//! a caller passes (an error message that quoted a signed URL, a mis-serialized config, ...).

/// The kind of credential `text` seems to contain, if any.
pub fn find_secret(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    for (needle, kind) in [
        ("aws_secret_access_key", "secret access key"),
        ("secretaccesskey", "secret access key"),
        ("aws_session_token", "session token"),
        ("sessiontoken", "session token"),
        ("x-amz-security-token", "session token"),
        ("x-amz-signature", "request signature"),
    ] {
        if lower.contains(needle) {
            return Some(kind);
        }
    }
    has_access_key_id(text.as_bytes()).then_some("access key id")
}

/// `AKIA`/`ASIA` followed by 16 upper-case letters or digits (long-term and temporary key ids).
fn has_access_key_id(b: &[u8]) -> bool {
    b.windows(20).any(|w| {
        (w.starts_with(b"AKIA") || w.starts_with(b"ASIA")) && w[4..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::find_secret;

    #[test]
    fn finds_key_ids_and_secret_fields() {
        assert_eq!(find_secret("denied for ASIAY34FZKBOKMUTVV7A at ..."), Some("access key id"));
        assert_eq!(find_secret("AKIAIOSFODNN7EXAMPLE"), Some("access key id"));
        assert_eq!(find_secret(r#"{"SessionToken":"x"}"#), Some("session token"));
        assert_eq!(find_secret("aws_secret_access_key = abc"), Some("secret access key"));
        assert_eq!(find_secret("https://b.s3/x?X-Amz-Signature=abc"), Some("request signature"));
    }

    #[test]
    fn ordinary_text_passes() {
        assert_eq!(find_secret("account 123456789012: s3-bucket logs: AccessDenied"), None);
        assert_eq!(find_secret("ASIA is a continent"), None);
        assert_eq!(find_secret("arn:aws:iam::123456789012:role/OrganizationAccountAccessRole"), None);
    }
}
