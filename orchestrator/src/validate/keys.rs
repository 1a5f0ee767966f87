//! The public keys CloudTrail signed digests with: `ListPublicKeys` in each region, for the window
//! and two hours past it (the AWS CLI's range), read once per region per run.
use aws_sdk_cloudtrail::Client;
use aws_smithy_types::DateTime;

use super::signature::{KeyRing, PublicKey};
use super::times::Time;
use crate::aws::{CallError, Site};

fn to_sdk(t: Time) -> DateTime {
    DateTime::from_secs(t.unix_timestamp())
}

fn from_sdk(t: Option<&DateTime>) -> Option<Time> {
    t.and_then(|t| Time::from_unix_timestamp(t.secs()).ok())
}

/// The region's keys valid at some point of `[from, to]`. A key that is not PKCS #1 RSA is left
/// out (a digest naming it is then `unknown key`).
pub async fn load(ct: &Client, site: &Site, from: Time, to: Time) -> Result<KeyRing, CallError> {
    let mut ring = KeyRing::default();
    let mut token: Option<String> = None;
    loop {
        let page = ct.list_public_keys().start_time(to_sdk(from)).end_time(to_sdk(to)).set_next_token(token.take()).send().await.map_err(site.fail("CloudTrail.ListPublicKeys"))?;
        for k in page.public_key_list() {
            let (Some(fingerprint), Some(value)) = (k.fingerprint(), k.value()) else { continue };
            if let Ok(key) = PublicKey::from_value(fingerprint, value.as_ref(), from_sdk(k.validity_start_time()), from_sdk(k.validity_end_time())) {
                ring.insert(fingerprint, key);
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(ring),
        }
    }
}
