//! Reading one object: a digest (small: read whole, with its signature metadata) or a log file
//! (streamed through gzip into SHA-256, so memory stays a buffer per file in flight).
use std::collections::HashMap;
use std::io::Write;

use aws_sdk_s3::Client;
use sha2::{Digest as _, Sha256};

use crate::aws::{AwsError, CallError, Site};

/// A digest object's bytes and metadata.
pub struct DigestObject {
    pub body: Vec<u8>,
    pub metadata: HashMap<String, String>,
}

impl DigestObject {
    pub fn meta(&self, name: &str) -> Option<&str> {
        self.metadata.get(name).map(String::as_str)
    }
}

/// Whether an S3 read found nothing at the key.
pub fn is_not_found(e: &CallError) -> bool {
    e.source.is_code("NoSuchKey") || e.source.is_code("NotFound")
}

pub async fn digest(s3: &Client, site: &Site, bucket: &str, key: &str) -> Result<DigestObject, CallError> {
    let out = s3.get_object().bucket(bucket).key(key).send().await.map_err(site.fail("S3.GetObject"))?;
    let metadata = out.metadata().cloned().unwrap_or_default();
    let body = out.body.collect().await.map_err(|e| site.error(AwsError { operation: "S3.GetObject".into(), code: Some("ResponseError".into()), message: e.to_string() }))?;
    Ok(DigestObject { body: body.into_bytes().to_vec(), metadata })
}

/// The metadata `signature` of an object, without its body (HeadObject); Ok(None) when the object
/// is gone. A bare 404 of HeadObject has no error code.
pub async fn signature_of(s3: &Client, site: &Site, bucket: &str, key: &str) -> Result<Option<Option<String>>, CallError> {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(out) => Ok(Some(out.metadata().and_then(|m| m.get("signature").cloned()))),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
        Err(e) => Err(site.error(AwsError::from_sdk("S3.HeadObject", &e))),
    }
}

/// How a log file compares with the hash its digest recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogCheck {
    Valid,
    Mismatch { actual: String },
    NotGzip(String),
    NotFound,
}

struct Hasher(Sha256);

impl Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Streams `key` through gzip into SHA-256 and compares with `expected` (hex). Every gzip member
/// is hashed: bytes appended as another member change the hash.
pub async fn check_log(s3: &Client, site: &Site, bucket: &str, key: &str, expected: &str) -> Result<LogCheck, CallError> {
    let out = match s3.get_object().bucket(bucket).key(key).send().await.map_err(site.fail("S3.GetObject")) {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(LogCheck::NotFound),
        Err(e) => return Err(e),
    };
    let mut body = out.body;
    let mut inflate = flate2::write::MultiGzDecoder::new(Hasher(Sha256::new()));
    loop {
        let chunk = body.try_next().await.map_err(|e| site.error(AwsError { operation: "S3.GetObject".into(), code: Some("ResponseError".into()), message: e.to_string() }))?;
        let Some(chunk) = chunk else { break };
        if let Err(e) = inflate.write_all(&chunk) {
            return Ok(LogCheck::NotGzip(e.to_string()));
        }
    }
    let hasher = match inflate.finish() {
        Ok(h) => h,
        Err(e) => return Ok(LogCheck::NotGzip(e.to_string())),
    };
    let actual = hex::encode(hasher.0.finalize());
    Ok(if actual.eq_ignore_ascii_case(expected) { LogCheck::Valid } else { LogCheck::Mismatch { actual } })
}
