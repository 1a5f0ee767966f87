//! The S3 reads of one account x region: its digest keys in the window, its log file keys in a
//! period, the regions an account has digests in. Keys are listed from a computed `StartAfter`
//! (the AWS CLI's marker) and the listing stops past the last day folder wanted, so a 90-day
//! bucket costs the window's pages only.
use aws_sdk_s3::Client;

use super::digest::{self, DigestKey};
use super::times::{self, Time};
use crate::aws::{CallError, Site};

/// Where one account x region's files are: `[prefix/]AWSLogs/[O-ID/]ACCOUNT/` in `bucket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub bucket: String,
    /// The account's folder, ending in `/`.
    pub base: String,
    pub account: String,
    pub region: String,
    pub trail_name: String,
    pub home_region: String,
}

impl Place {
    pub fn digest_folder(&self) -> String {
        format!("{}CloudTrail-Digest/{}/", self.base, self.region)
    }

    pub fn log_folder(&self) -> String {
        format!("{}CloudTrail/{}/", self.base, self.region)
    }

    /// The key CloudTrail would give a digest stamped `t` (the listing's marker).
    pub fn digest_key_at(&self, t: Time) -> String {
        format!(
            "{}{}/{}_CloudTrail-Digest_{}_{}_{}_{}.json.gz",
            self.digest_folder(),
            times::day_path(t),
            self.account,
            self.region,
            self.trail_name,
            self.home_region,
            times::key_stamp(t)
        )
    }

    /// Whether a parsed digest key is this trail's, for this account and region.
    pub fn owns(&self, k: &DigestKey) -> bool {
        k.account == self.account && k.region == self.region && k.trail == self.trail_name && k.home_region == self.home_region
    }
}

/// A digest key in the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub parts: DigestKey,
}

/// The `YYYY/MM/DD` folder right after `folder` in `key`.
fn day_of<'k>(key: &'k str, folder: &str) -> Option<&'k str> {
    key.strip_prefix(folder).and_then(|rest| rest.get(..10))
}

/// Every key under `folder` after `start_after`, page by page, until a key's day folder passes
/// `last_day` (`YYYY/MM/DD`).
async fn keys_until(s3: &Client, site: &Site, bucket: &str, folder: &str, start_after: &str, last_day: &str, mut each: impl FnMut(String)) -> Result<(), CallError> {
    let mut token: Option<String> = None;
    loop {
        let mut req = s3.list_objects_v2().bucket(bucket).prefix(folder);
        req = match token.take() {
            Some(t) => req.continuation_token(t),
            None => req.start_after(start_after),
        };
        let page = req.send().await.map_err(site.fail("S3.ListObjectsV2"))?;
        for o in page.contents() {
            let Some(key) = o.key() else { continue };
            if day_of(key, folder).is_some_and(|d| d > last_day) {
                return Ok(());
            }
            each(key.to_string());
        }
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => return Ok(()),
        }
    }
}

/// This trail's digest keys for `place` stamped in `[from, to]`, oldest first; `after` (a recorded
/// head) replaces the marker computed from `from`.
pub async fn digest_keys(s3: &Client, site: &Site, place: &Place, from: Time, to: Time, after: Option<&str>) -> Result<Vec<Listed>, CallError> {
    // One minute before, so a digest stamped exactly at `from` is listed (the AWS CLI's marker).
    let marker = after.map_or_else(|| place.digest_key_at(from - time::Duration::minutes(1)), str::to_string);
    let mut out = Vec::new();
    keys_until(s3, site, &place.bucket, &place.digest_folder(), &marker, &times::day_path(to), |key| {
        if let Some(parts) = digest::parse_digest_key(&key).filter(|k| place.owns(k) && k.stamp >= from && k.stamp <= to) {
            out.push(Listed { key, parts });
        }
    })
    .await?;
    out.sort_by(|a, b| (a.parts.stamp, &a.key).cmp(&(b.parts.stamp, &b.key)));
    Ok(out)
}

/// Log file keys of `place` whose stamp is in `[from, to)`, each handed to `each`.
pub async fn log_keys(s3: &Client, site: &Site, place: &Place, from: Time, to: Time, mut each: impl FnMut(String)) -> Result<(), CallError> {
    let folder = place.log_folder();
    let marker = format!("{folder}{}/", times::day_path(from));
    keys_until(s3, site, &place.bucket, &folder, &marker, &times::day_path(to), |key| {
        if digest::log_key_stamp(&key).is_some_and(|t| t >= from && t < to) {
            each(key);
        }
    })
    .await
}

/// The regions `base` has digest folders for (`.../CloudTrail-Digest/REGION/`).
pub async fn digest_regions(s3: &Client, site: &Site, bucket: &str, base: &str) -> Result<Vec<String>, CallError> {
    let prefix = format!("{base}CloudTrail-Digest/");
    let mut regions = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = s3.list_objects_v2().bucket(bucket).prefix(&prefix).delimiter("/").set_continuation_token(token.take()).send().await.map_err(site.fail("S3.ListObjectsV2"))?;
        regions.extend(page.common_prefixes().iter().filter_map(|p| p.prefix()).filter_map(|p| p.strip_prefix(&prefix)).map(|r| r.trim_end_matches('/').to_string()));
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => break,
        }
    }
    regions.sort();
    regions.dedup();
    Ok(regions)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_marker_is_the_key_cloudtrail_would_write() {
        let p = Place {
            bucket: "b".into(),
            base: "logs/AWSLogs/o-1/111111111111/".into(),
            account: "111111111111".into(),
            region: "eu-west-1".into(),
            trail_name: "org".into(),
            home_region: "us-east-1".into(),
        };
        let key = p.digest_key_at(datetime!(2026-01-08 04:59 UTC));
        assert_eq!(key, "logs/AWSLogs/o-1/111111111111/CloudTrail-Digest/eu-west-1/2026/01/08/111111111111_CloudTrail-Digest_eu-west-1_org_us-east-1_20260108T045900Z.json.gz");
        assert!(p.owns(&digest::parse_digest_key(&key).unwrap()));
        assert_eq!(day_of(&key, &p.digest_folder()), Some("2026/01/08"));
        assert_eq!(p.log_folder(), "logs/AWSLogs/o-1/111111111111/CloudTrail/eu-west-1/");
    }
}
