//! The digest signature: SHA256withRSA (RSASSA-PKCS1-v1_5) over the signing string of "Custom
//! implementations of CloudTrail log file integrity validation", checked with the region's public
//! key that `ListPublicKeys` names by the digest's `digestPublicKeyFingerprint`. RustCrypto does the
//! cryptography; this module only builds the string and picks the key.
use std::collections::HashMap;

use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use sha2::Sha256;

use super::digest::Parsed;
use super::times::Time;

/// The only algorithm CloudTrail signs with.
pub const ALGORITHM: &str = "SHA256withRSA";

/// `digestEndTime \n bucket/object \n hex(SHA-256 of the inflated digest) \n previousDigestSignature`
/// (`null` for the first digest of a chain), as the digest wrote each value.
pub fn signing_string(parsed: &Parsed) -> String {
    let d = &parsed.digest;
    format!("{}\n{}/{}\n{}\n{}", d.digest_end_time, d.digest_s3_bucket, d.digest_s3_object, parsed.inflated_sha256, d.previous_digest_signature.as_deref().unwrap_or("null"))
}

/// One public key of a region, as `ListPublicKeys` returned it.
#[derive(Clone)]
pub struct PublicKey {
    pub key: RsaPublicKey,
    pub valid_from: Option<Time>,
    pub valid_until: Option<Time>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("public key {fingerprint} is not a PKCS #1 RSA key")]
    NotRsa { fingerprint: String },
}

impl PublicKey {
    /// `ListPublicKeys`' `Value`: the DER of a PKCS #1 RSAPublicKey. The AWS CLI base64-decodes the
    /// SDK's bytes once more, so a value that is base64 text of the DER is read the same way.
    pub fn from_value(fingerprint: &str, value: &[u8], valid_from: Option<Time>, valid_until: Option<Time>) -> Result<PublicKey, KeyError> {
        let key = RsaPublicKey::from_pkcs1_der(value)
            .ok()
            .or_else(|| {
                let text = std::str::from_utf8(value).ok()?;
                let der = aws_smithy_types::base64::decode(text.trim()).ok()?;
                RsaPublicKey::from_pkcs1_der(&der).ok()
            })
            .ok_or_else(|| KeyError::NotRsa { fingerprint: fingerprint.to_string() })?;
        Ok(PublicKey { key, valid_from, valid_until })
    }

    fn valid_at(&self, t: Time) -> bool {
        self.valid_from.is_none_or(|f| f <= t) && self.valid_until.is_none_or(|u| t <= u)
    }
}

/// A region's public keys by fingerprint.
#[derive(Clone, Default)]
pub struct KeyRing {
    keys: HashMap<String, PublicKey>,
}

/// Why a digest's signature is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no signature in the object metadata (x-amz-meta-signature, x-amz-meta-signature-algorithm)")]
    NoMetadata,
    #[error("signature algorithm {0:?}, not {ALGORITHM}")]
    Algorithm(String),
    #[error("no public key with fingerprint {fingerprint} valid at {at} in ListPublicKeys")]
    UnknownKey { fingerprint: String, at: String },
    #[error("the signature is not hex")]
    NotHex,
    #[error("signature verification failed")]
    Mismatch,
}

impl KeyRing {
    pub fn insert(&mut self, fingerprint: &str, key: PublicKey) {
        self.keys.insert(fingerprint.to_string(), key);
    }

    pub fn has(&self, fingerprint: &str) -> bool {
        self.keys.contains_key(fingerprint)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds every key of `other` (a later ListPublicKeys answer).
    pub fn merge(&mut self, other: &KeyRing) {
        self.keys.extend(other.keys.iter().map(|(f, k)| (f.clone(), k.clone())));
    }

    /// Checks a digest against the metadata `signature` and `signature-algorithm` of its object.
    /// The key must carry the digest's fingerprint and be valid at `signed_at`: the digest's end
    /// time, or for a backfill digest its `backfill-generation-timestamp`.
    pub fn verify(&self, parsed: &Parsed, signature: Option<&str>, algorithm: Option<&str>, signed_at: Time) -> Result<(), SignatureError> {
        let (Some(signature), Some(algorithm)) = (signature, algorithm) else {
            return Err(SignatureError::NoMetadata);
        };
        if algorithm != ALGORITHM {
            return Err(SignatureError::Algorithm(algorithm.to_string()));
        }
        let fingerprint = &parsed.digest.digest_public_key_fingerprint;
        let key = self.keys.get(fingerprint).filter(|k| k.valid_at(signed_at)).ok_or_else(|| SignatureError::UnknownKey { fingerprint: fingerprint.clone(), at: super::times::display(signed_at) })?;
        let bytes = hex::decode(signature).map_err(|_| SignatureError::NotHex)?;
        let signature = Signature::try_from(bytes.as_slice()).map_err(|_| SignatureError::Mismatch)?;
        VerifyingKey::<Sha256>::new(key.key.clone()).verify(signing_string(parsed).as_bytes(), &signature).map_err(|_| SignatureError::Mismatch)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::pkcs1v15::SigningKey;
    use rsa::signature::{SignatureEncoding, Signer};
    use rsa::RsaPrivateKey;
    use time::macros::datetime;

    use super::*;
    use crate::validate::digest;

    pub fn private_key() -> RsaPrivateKey {
        RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap()
    }

    pub fn sign(key: &RsaPrivateKey, parsed: &Parsed) -> String {
        hex::encode(SigningKey::<Sha256>::new(key.clone()).sign(signing_string(parsed).as_bytes()).to_bytes())
    }

    pub fn ring(fingerprint: &str, key: &RsaPrivateKey) -> KeyRing {
        let der = key.to_public_key().to_pkcs1_der().unwrap();
        let mut ring = KeyRing::default();
        ring.insert(fingerprint, PublicKey::from_value(fingerprint, der.as_bytes(), None, None).unwrap());
        ring
    }

    const END: Time = datetime!(2026-01-08 05:00 UTC);

    fn parsed(prev_sig: Option<&str>) -> Parsed {
        let v = serde_json::json!({
            "digestStartTime": "2026-01-08T04:00:00Z", "digestEndTime": "2026-01-08T05:00:00Z", "digestS3Bucket": "logs",
            "digestS3Object": "AWSLogs/x.json.gz", "digestPublicKeyFingerprint": "fp1", "previousDigestSignature": prev_sig, "logFiles": []
        });
        digest::parse(&digest::tests::gzip(v.to_string().as_bytes())).unwrap()
    }

    #[test]
    fn the_signing_string_is_the_documented_one() {
        let p = parsed(None);
        assert_eq!(signing_string(&p), format!("2026-01-08T05:00:00Z\nlogs/AWSLogs/x.json.gz\n{}\nnull", p.inflated_sha256));
        assert!(signing_string(&parsed(Some("abcd"))).ends_with("\nabcd"));
    }

    #[test]
    fn verifies_a_good_signature_and_refuses_the_rest() {
        let key = private_key();
        let ring = ring("fp1", &key);
        let p = parsed(Some("00ff"));
        let sig = sign(&key, &p);
        assert_eq!(ring.verify(&p, Some(&sig), Some(ALGORITHM), END), Ok(()));
        // Another digest's content under this signature.
        assert_eq!(ring.verify(&parsed(Some("00fe")), Some(&sig), Some(ALGORITHM), END), Err(SignatureError::Mismatch));
        // Re-signed with a key that ListPublicKeys does not know under that fingerprint.
        assert_eq!(ring.verify(&p, Some(&sign(&private_key(), &p)), Some(ALGORITHM), END), Err(SignatureError::Mismatch));
        assert_eq!(ring.verify(&p, None, Some(ALGORITHM), END), Err(SignatureError::NoMetadata));
        assert_eq!(ring.verify(&p, Some(&sig), None, END), Err(SignatureError::NoMetadata));
        assert_eq!(ring.verify(&p, Some(&sig), Some("SHA1withRSA"), END), Err(SignatureError::Algorithm("SHA1withRSA".into())));
        assert_eq!(ring.verify(&p, Some("zz"), Some(ALGORITHM), END), Err(SignatureError::NotHex));
        assert!(matches!(ring_of_other_fingerprint(&key).verify(&p, Some(&sig), Some(ALGORITHM), END), Err(SignatureError::UnknownKey { .. })));
    }

    fn ring_of_other_fingerprint(key: &RsaPrivateKey) -> KeyRing {
        ring("fp2", key)
    }

    #[test]
    fn a_key_must_be_valid_at_the_digest_end_and_may_come_base64_encoded() {
        let key = private_key();
        let der = key.to_public_key().to_pkcs1_der().unwrap();
        let text = aws_smithy_types::base64::encode(der.as_bytes());
        let p = parsed(None);
        let sig = sign(&key, &p);
        let mut ring = KeyRing::default();
        ring.insert("fp1", PublicKey::from_value("fp1", text.as_bytes(), Some(datetime!(2026-01-08 06:00 UTC)), None).unwrap());
        assert!(matches!(ring.verify(&p, Some(&sig), Some(ALGORITHM), END), Err(SignatureError::UnknownKey { .. })));
        ring.insert("fp1", PublicKey::from_value("fp1", text.as_bytes(), Some(datetime!(2026-01-08 04:00 UTC)), Some(datetime!(2026-01-08 05:00 UTC))).unwrap());
        assert_eq!(ring.verify(&p, Some(&sig), Some(ALGORITHM), END), Ok(()));
        assert!(PublicKey::from_value("fp3", b"not a key", None, None).is_err());
    }
}
