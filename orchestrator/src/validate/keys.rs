//! The public keys CloudTrail signed digests with: `ListPublicKeys` in each region, for the window
//! and two hours past it (the AWS CLI's range), read once per region per run. A backfill digest is
//! signed when it is generated, which may be long after the window (with a key the window's range
//! does not hold): for a fingerprint not in the ring, the region is asked again for the hour either
//! side of the digest's `backfill-generation-timestamp`, as the AWS CLI does, and the answer joins
//! the ring for the rest of the run.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

/// How far either side of a backfill digest's generation time its key is looked for (the AWS CLI's).
const AROUND_GENERATION: time::Duration = time::Duration::hours(1);

struct Region {
    ct: Client,
    site: Site,
    ring: Mutex<Arc<KeyRing>>,
}

/// Every region's ring for one run, shared by its pairs.
#[derive(Default)]
pub struct Keys {
    regions: HashMap<String, Region>,
}

impl Keys {
    /// Reads each region's keys for `[from, to]`; a region whose read failed is returned with
    /// its error instead (its pairs cannot be checked).
    pub async fn load_all(clients: Vec<(String, Client, Site)>, from: Time, to: Time) -> (Keys, HashMap<String, String>) {
        let mut keys = Keys::default();
        let mut errors = HashMap::new();
        for (region, ct, site) in clients {
            match load(&ct, &site, from, to).await {
                Ok(ring) => {
                    keys.regions.insert(region, Region { ct, site, ring: Mutex::new(Arc::new(ring)) });
                }
                Err(e) => {
                    errors.insert(region, e.to_string());
                }
            }
        }
        (keys, errors)
    }

    pub fn ring(&self, region: &str) -> Option<Arc<KeyRing>> {
        self.regions.get(region).map(|r| r.ring.lock().expect("the ring lock is never poisoned").clone())
    }

    /// The ring to check a backfill digest generated at `generated` with: the run's, or when it
    /// lacks `fingerprint`, the run's joined with the keys ListPublicKeys has around `generated`.
    pub async fn for_backfill(&self, region: &str, fingerprint: &str, generated: Time) -> Result<Option<Arc<KeyRing>>, CallError> {
        let Some(r) = self.regions.get(region) else { return Ok(None) };
        let current = r.ring.lock().expect("the ring lock is never poisoned").clone();
        if current.has(fingerprint) {
            return Ok(Some(current));
        }
        let more = load(&r.ct, &r.site, generated - AROUND_GENERATION, generated + AROUND_GENERATION).await?;
        let mut ring = r.ring.lock().expect("the ring lock is never poisoned");
        let mut joined = (**ring).clone();
        joined.merge(&more);
        *ring = Arc::new(joined);
        Ok(Some(ring.clone()))
    }
}
