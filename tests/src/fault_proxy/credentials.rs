//! Short-lived credentials: AssumeRole answers whose expiry the proxy shortens, and the session
//! tokens it then refuses once that expiry has passed, as AWS would.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::http;

/// Session tokens whose expiry the proxy shortened, with that expiry.
#[derive(Default)]
pub(super) struct ShortTokens(Mutex<HashMap<String, Instant>>);

impl ShortTokens {
    /// True when `token` is one the proxy shortened and its expiry has passed.
    pub fn expired(&self, token: Option<&str>) -> bool {
        let Some(token) = token else { return false };
        self.0.lock().expect("fault proxy tokens").get(token).is_some_and(|exp| Instant::now() >= *exp)
    }

    /// Shortens an AssumeRole answer's expiry to `life` from now and remembers its session token;
    /// false when the answer carries no credentials.
    pub fn shorten(&self, resp: &mut http::Response, life: Duration) -> bool {
        let Some(token) = shorten_expiry(resp, life) else { return false };
        self.0.lock().expect("fault proxy tokens").insert(token, Instant::now() + life);
        true
    }
}

/// Rewrites `<Expiration>` in an AssumeRole answer to `life` from now; returns the session token.
fn shorten_expiry(resp: &mut http::Response, life: Duration) -> Option<String> {
    let body = String::from_utf8_lossy(&resp.body).into_owned();
    let token = between(&body, "<SessionToken>", "</SessionToken>")?.to_string();
    let old = between(&body, "<Expiration>", "</Expiration>")?;
    let new = iso8601(SystemTime::now() + life);
    resp.body = body.replacen(&format!("<Expiration>{old}</Expiration>"), &format!("<Expiration>{new}</Expiration>"), 1).into_bytes();
    Some(token)
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let len = s[start..].find(close)?;
    Some(&s[start..start + len])
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC), as STS writes `Expiration`.
fn iso8601(t: SystemTime) -> String {
    orgtrail_state::format_millis(t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_utc() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(UNIX_EPOCH + Duration::from_secs(1_709_210_096)), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn shortened_expiry_replaces_the_timestamp() {
        let body = "<AssumeRoleResult><Credentials><SessionToken>tok</SessionToken><Expiration>2099-01-01T00:00:00.000Z</Expiration></Credentials></AssumeRoleResult>";
        let mut resp = http::Response::new(200, "text/xml", body);
        assert_eq!(shorten_expiry(&mut resp, Duration::from_secs(5)).as_deref(), Some("tok"));
        let text = String::from_utf8(resp.body).unwrap();
        assert!(!text.contains("2099") && text.contains("<Expiration>20"), "{text}");
    }

    #[test]
    fn only_shortened_tokens_expire() {
        let tokens = ShortTokens::default();
        let body = "<Credentials><SessionToken>tok</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>";
        assert!(tokens.shorten(&mut http::Response::new(200, "text/xml", body), Duration::ZERO));
        assert!(tokens.expired(Some("tok")));
        assert!(!tokens.expired(Some("other")) && !tokens.expired(None));
        assert!(!tokens.shorten(&mut http::Response::new(200, "text/xml", "<NoCredentials/>"), Duration::ZERO));
    }
}
