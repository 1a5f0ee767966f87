//! `s3://BUCKET/PREFIX`: where a shared state lives, and the local working copy it maps to.
use std::fmt;
use std::path::{Path, PathBuf};

use super::RemoteStateError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateUrl {
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
}

impl StateUrl {
    pub fn parse(url: &str) -> Result<StateUrl, RemoteStateError> {
        let bad = |reason: &str| RemoteStateError::BadUrl { url: url.to_string(), reason: reason.to_string() };
        let rest = url.strip_prefix("s3://").ok_or_else(|| bad("expected s3://BUCKET/PREFIX"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.len() < 3 || bucket.len() > 63 || !bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.') {
            return Err(bad("the bucket name must be 3 to 63 lowercase letters, digits, `-` or `.`"));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|p| p == "." || p == "..") {
            return Err(bad("`.` and `..` are not allowed in the prefix"));
        }
        Ok(StateUrl { bucket: bucket.to_string(), prefix: prefix.to_string() })
    }

    fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    pub fn lock_key(&self) -> String {
        self.key("lock.json")
    }

    pub fn state_key(&self) -> String {
        self.key("state.db")
    }

    /// The default working copy of this remote state on this machine: `<cache>/orgtrail/<hash of
    /// the url>`, `cache` being the user's cache directory (the settings decide it).
    pub fn cache_dir(&self, cache: &Path) -> PathBuf {
        cache.join("orgtrail").join(format!("{:016x}", fnv1a(self.to_string().as_bytes())))
    }
}

impl fmt::Display for StateUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// FNV-1a: a stable, dependency-free name for the cache directory (not a security boundary).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_and_prefix() {
        let u = StateUrl::parse("s3://team-state/orgtrail/prod/").unwrap();
        assert_eq!((u.bucket.as_str(), u.prefix.as_str()), ("team-state", "orgtrail/prod"));
        assert_eq!(u.lock_key(), "orgtrail/prod/lock.json");
        assert_eq!(u.state_key(), "orgtrail/prod/state.db");
        assert_eq!(StateUrl::parse("s3://team-state").unwrap().state_key(), "state.db");
    }

    #[test]
    fn refuses_what_is_not_an_s3_url() {
        for bad in ["team-state/x", "s3://Team/x", "s3://ab/x", "s3://team-state/../x", "file:///tmp"] {
            assert!(StateUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn each_url_has_its_own_cache_dir() {
        let cache = Path::new("/home/op/.cache");
        let a = StateUrl::parse("s3://team-state/a").unwrap().cache_dir(cache);
        let b = StateUrl::parse("s3://team-state/b").unwrap().cache_dir(cache);
        assert_ne!(a, b);
        assert!(a.starts_with("/home/op/.cache/orgtrail/"), "{}", a.display());
        assert_eq!(a, StateUrl::parse("s3://team-state/a/").unwrap().cache_dir(cache), "a trailing slash is the same state");
    }
}
