//! The digest file as CloudTrail writes it ("CloudTrail digest file structure"): gzip JSON, the
//! signature in the object's metadata, and the key that names account, region, trail and time.
use std::io::Read;

use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::times::{self, Time};

/// The fields validation needs. The AWS CLI refuses a digest lacking any of `REQUIRED` (a null
/// `previousDigestSignature` is allowed: the first digest of a chain has none).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    pub digest_start_time: String,
    pub digest_end_time: String,
    #[serde(rename = "digestS3Bucket")]
    pub digest_s3_bucket: String,
    #[serde(rename = "digestS3Object")]
    pub digest_s3_object: String,
    pub digest_public_key_fingerprint: String,
    #[serde(default, rename = "previousDigestS3Bucket")]
    pub previous_digest_s3_bucket: Option<String>,
    #[serde(default, rename = "previousDigestS3Object")]
    pub previous_digest_s3_object: Option<String>,
    #[serde(default)]
    pub previous_digest_hash_value: Option<String>,
    #[serde(default)]
    pub previous_digest_signature: Option<String>,
    #[serde(default)]
    pub log_files: Vec<LogEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    #[serde(rename = "s3Bucket")]
    pub s3_bucket: String,
    #[serde(rename = "s3Object")]
    pub s3_object: String,
    pub hash_value: String,
    #[serde(default)]
    pub hash_algorithm: Option<String>,
}

const REQUIRED: [&str; 6] = ["digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object", "previousDigestSignature", "digestEndTime", "digestStartTime"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("not gzip: {0}")]
    Gzip(String),
    #[error("not a digest: {0}")]
    Json(String),
    #[error("no `{0}` field")]
    Missing(&'static str),
    #[error("`{field}` is not a time: {value}")]
    BadTime { field: &'static str, value: String },
}

/// A digest read from its object: the parsed fields, the hash of its inflated bytes (what the
/// signature and the next digest's `previousDigestHashValue` cover), and its period.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub digest: Digest,
    pub inflated_sha256: String,
    pub start: Time,
    pub end: Time,
}

/// Inflates and parses a digest object's body.
pub fn parse(gzipped: &[u8]) -> Result<Parsed, FormatError> {
    let mut inflated = Vec::with_capacity(gzipped.len() * 4);
    flate2::read::MultiGzDecoder::new(gzipped).read_to_end(&mut inflated).map_err(|e| FormatError::Gzip(e.to_string()))?;
    let value: serde_json::Value = serde_json::from_slice(&inflated).map_err(|e| FormatError::Json(e.to_string()))?;
    let object = value.as_object().ok_or_else(|| FormatError::Json("not a JSON object".into()))?;
    if let Some(missing) = REQUIRED.iter().find(|k| !object.contains_key(**k)) {
        return Err(FormatError::Missing(missing));
    }
    let digest: Digest = serde_json::from_value(value).map_err(|e| FormatError::Json(e.to_string()))?;
    let time = |field: &'static str, value: &str| times::parse_time(value).map_err(|_| FormatError::BadTime { field, value: value.to_string() });
    let start = time("digestStartTime", &digest.digest_start_time)?;
    let end = time("digestEndTime", &digest.digest_end_time)?;
    Ok(Parsed { inflated_sha256: hex::encode(Sha256::digest(&inflated)), start, end, digest })
}

/// What a digest key says (`.../ACCOUNT/CloudTrail-Digest/REGION/YYYY/MM/DD/
/// ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOME_YYYYMMDDTHHmmssZ[_backfill].json.gz`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestKey {
    pub account: String,
    pub region: String,
    pub trail: String,
    pub home_region: String,
    pub stamp: Time,
    pub backfill: bool,
}

/// The digest key's parts, or None when the key is not a digest key.
pub fn parse_digest_key(key: &str) -> Option<DigestKey> {
    let file = key.rsplit('/').next()?;
    let stem = file.strip_suffix(".json.gz")?;
    let (stem, backfill) = match stem.strip_suffix("_backfill") {
        Some(s) => (s, true),
        None => (stem, false),
    };
    let (account, rest) = stem.split_once("_CloudTrail-Digest_")?;
    let (region, rest) = rest.split_once('_')?;
    let (rest, stamp) = rest.rsplit_once('_')?;
    let (trail, home_region) = rest.rsplit_once('_')?;
    let stamp = times::parse_key_stamp(stamp)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !trail.is_empty()).then(|| DigestKey {
        account: account.into(),
        region: region.into(),
        trail: trail.into(),
        home_region: home_region.into(),
        stamp,
        backfill,
    })
}

/// A log file key's time (`ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz`), or None
/// when the key is not a CloudTrail log file key.
pub fn log_key_stamp(key: &str) -> Option<Time> {
    let file = key.rsplit('/').next()?;
    let (_, rest) = file.strip_suffix(".json.gz")?.split_once("_CloudTrail_")?;
    let (_, rest) = rest.split_once('_')?;
    times::parse_log_stamp(rest.split('_').next()?)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;

    pub fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    const KEY: &str = "AWSLogs/o-abc/111111111111/CloudTrail-Digest/eu-west-1/2026/01/08/111111111111_CloudTrail-Digest_eu-west-1_org_trail_us-east-1_20260108T052142Z.json.gz";

    #[test]
    fn reads_a_digest_key() {
        let k = parse_digest_key(KEY).unwrap();
        assert_eq!((k.account.as_str(), k.region.as_str(), k.trail.as_str(), k.home_region.as_str(), k.backfill), ("111111111111", "eu-west-1", "org_trail", "us-east-1", false));
        assert_eq!(times::key_stamp(k.stamp), "20260108T052142Z");
        let b = parse_digest_key(&KEY.replace(".json.gz", "_backfill.json.gz")).unwrap();
        assert!(b.backfill && b.trail == "org_trail");
        assert_eq!(parse_digest_key("AWSLogs/o-abc/111111111111/CloudTrail/eu-west-1/2026/01/08/x.json.gz"), None);
        assert_eq!(parse_digest_key(&KEY.replace("20260108T052142Z", "2026")), None);
    }

    #[test]
    fn reads_a_log_key_stamp() {
        let t = log_key_stamp("AWSLogs/o-abc/111111111111/CloudTrail/eu-west-1/2026/01/08/111111111111_CloudTrail_eu-west-1_20260108T0520Z_AbCd1234.json.gz").unwrap();
        assert_eq!(times::log_stamp(t), "20260108T0520Z");
        assert_eq!(log_key_stamp("AWSLogs/o-abc/111111111111/CloudTrail/eu-west-1/2026/01/08/notes.txt"), None);
    }

    fn body(skip: Option<&str>) -> Vec<u8> {
        let mut v = serde_json::json!({
            "awsAccountId": "111111111111", "digestStartTime": "2026-01-08T04:21:42Z", "digestEndTime": "2026-01-08T05:21:42Z",
            "digestS3Bucket": "logs", "digestS3Object": KEY, "digestPublicKeyFingerprint": "ab", "digestSignatureAlgorithm": "SHA256withRSA",
            "previousDigestS3Bucket": null, "previousDigestS3Object": null, "previousDigestHashValue": null, "previousDigestHashAlgorithm": null,
            "previousDigestSignature": null, "logFiles": [{"s3Bucket": "logs", "s3Object": "a.json.gz", "hashValue": "00", "hashAlgorithm": "SHA-256"}]
        });
        if let Some(k) = skip {
            v.as_object_mut().unwrap().remove(k);
        }
        gzip(v.to_string().as_bytes())
    }

    #[test]
    fn parses_a_digest_and_hashes_its_inflated_bytes() {
        let p = parse(&body(None)).unwrap();
        assert_eq!(p.digest.previous_digest_signature, None);
        assert_eq!(p.digest.log_files.len(), 1);
        assert_eq!(p.end - p.start, time::Duration::hours(1));
        assert_eq!(p.inflated_sha256.len(), 64);
    }

    #[test]
    fn refuses_what_the_aws_cli_refuses() {
        assert_eq!(parse(&body(Some("previousDigestSignature"))).unwrap_err(), FormatError::Missing("previousDigestSignature"));
        assert!(matches!(parse(b"plain"), Err(FormatError::Gzip(_))));
        assert!(matches!(parse(&gzip(b"[1]")), Err(FormatError::Json(_))));
    }
}
