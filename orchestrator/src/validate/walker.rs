//! One account x region, start to end: list its digests, read and judge each (place, key,
//! signature), link the chain (to the recorded head with `--since-last`), check every log file a
//! valid digest lists, and report the log files no digest lists.
use std::collections::HashSet;
use std::sync::Arc;

use aws_sdk_s3::Client;
use futures::{stream, StreamExt};
use tokio::sync::Semaphore;

use super::chain::{self, Links, Node};
use super::digest::{self, LogEntry};
use super::fetch::{self, DigestObject, LogCheck};
use super::listing::{self, Listed, Place};
use super::results::{ChainHead, Finding, PairResult, Subject, Verdict};
use super::keys::Keys;
use super::signature::{KeyRing, SignatureError};
use super::tails::Tail;
use super::times::{self, Window, SPILL};
use crate::aws::{CallError, Site};

/// Reads of one pair in flight at once (every read also holds a run-wide permit).
const PER_PAIR: usize = 8;

/// What every pair of a run shares.
pub struct Scope {
    pub s3: Client,
    /// The account whose credentials read the bucket (named in errors).
    pub reader: String,
    pub keys: Arc<Keys>,
    pub window: Window,
    pub digests_only: bool,
    pub trail: String,
    pub permits: Arc<Semaphore>,
}

/// A digest read and judged on its own.
struct Judged {
    node: Node,
    backfill: bool,
    logs: Vec<LogEntry>,
    finding: Option<Finding>,
}

pub async fn walk(scope: &Scope, place: &Place, head: Option<&ChainHead>) -> (PairResult, Vec<Finding>, Option<Tail>) {
    let (account, region) = (place.account.as_str(), place.region.as_str());
    let site = Site::new(&scope.reader, scope.s3.config().region(), format!("s3://{}/{}", place.bucket, place.digest_folder()));
    let mut result = PairResult { account: account.into(), region: region.into(), ..PairResult::default() };
    let mut findings = Vec::new();
    let fail = |e: CallError| Finding::new(account, region, Subject::Pair, Verdict::Error, format!("s3://{}/{}", place.bucket, place.base), e.to_string());
    let from = head.and_then(|h| times::parse_time(&h.end_time).ok()).unwrap_or(scope.window.start);
    let window = Window { start: from, end: scope.window.end };
    let listed = {
        let _p = scope.permits.acquire().await.expect("permits stay open");
        listing::digest_keys(&scope.s3, &site, place, from, window.end + SPILL, head.map(|h| h.digest_key.as_str())).await
    };
    let listed = match listed {
        Ok(l) => l,
        Err(e) => {
            findings.push(fail(e));
            return (result, findings, None);
        }
    };
    let head_node = match head {
        Some(h) => Some(recheck_head(scope, &site, place, h, &mut findings).await),
        None => None,
    };
    let judged: Vec<Judged> = stream::iter(listed.iter()).map(|l| judge_listed(scope, &site, place, l)).buffered(PER_PAIR).collect().await;
    let mut standard = Vec::new();
    let mut logs: Vec<LogEntry> = Vec::new();
    let mut listed_logs: HashSet<String> = HashSet::new();
    for j in judged {
        listed_logs.extend(j.logs.iter().map(|l| l.s3_object.clone()));
        match (&j.finding, j.backfill) {
            (Some(f), _) => {
                result.digests_invalid += 1;
                findings.push(f.clone());
            }
            (None, true) => result.backfill_digests_valid += 1,
            (None, false) => result.digests_valid += 1,
        }
        if j.finding.is_none() {
            logs.extend(j.logs);
        }
        if !j.backfill {
            standard.push(j.node);
        }
    }
    let linked = chain::link(account, region, head_node.as_ref(), &standard, &window);
    result.digests_valid = result.digests_valid.saturating_sub(linked.not_in_chain);
    result.digests_invalid += linked.not_in_chain;
    result.digests_missing += linked.missing;
    result.stops += linked.stops;
    findings.extend(linked.findings);
    if standard.is_empty() && head.is_none() {
        result.digests_missing += 1;
        findings.push(Finding::new(account, region, Subject::Pair, Verdict::Missing, place.digest_folder(), format!("no digest of trail {} stamped between {} and {}", place.trail_name, times::display(window.start), times::display(window.end + SPILL))));
    }
    if !scope.digests_only {
        check_logs(scope, &site, place, &logs, &mut result, &mut findings).await;
        let proven: Vec<&Links> = standard.iter().filter_map(|n| n.links.as_ref()).collect();
        if let (Some(first), Some(last)) = (proven.iter().map(|l| l.start).min(), proven.iter().map(|l| l.end).max()) {
            let mut unlisted = Vec::new();
            let listed_logs = &listed_logs;
            let r = {
                let _p = scope.permits.acquire().await.expect("permits stay open");
                listing::log_keys(&scope.s3, &site, place, first, last, |k| {
                    if !listed_logs.contains(&k) {
                        unlisted.push(k);
                    }
                })
                .await
            };
            match r {
                Ok(()) => findings.extend(unlisted.into_iter().map(|k| Finding::new(account, region, Subject::LogFile, Verdict::Unlisted, k, "in the bucket, but no digest lists it (added, or moved here)"))),
                Err(e) => findings.push(fail(e)),
            }
        }
    }
    result.valid = !findings.iter().any(|f| f.verdict.is_failing());
    let tail = tail_of(place, head, &standard);
    let newest = standard.iter().rev().find(|n| n.links.is_some());
    result.head = match newest {
        Some(n) if result.valid => Some(ChainHead {
            trail: scope.trail.clone(),
            account: account.into(),
            region: region.into(),
            digest_key: n.key.clone(),
            signature: n.signature.clone().unwrap_or_default(),
            end_time: times::display(n.links.as_ref().map_or(n.stamp, |l| l.end)),
            recorded_at: 0,
        }),
        None if result.valid => head.cloned(),
        _ => None,
    };
    (result, findings, tail)
}

/// Where the pair's chain ends: its newest digest (valid or not), else the recorded head.
fn tail_of(place: &Place, head: Option<&ChainHead>, standard: &[Node]) -> Option<Tail> {
    let end_of = |n: &Node| n.links.as_ref().map_or(n.stamp, |l| l.end);
    let head = head.and_then(|h| times::parse_time(&h.end_time).ok().map(|t| (t, h.digest_key.clone())));
    let proven = standard.iter().rev().find(|n| n.links.is_some()).map(|n| (end_of(n), n.key.clone())).or(head.clone());
    let (newest_end, newest_key) = standard.last().map(|n| (end_of(n), n.key.clone())).or(head)?;
    Some(Tail { place: place.clone(), newest_end, newest_key, proven })
}

async fn judge_listed(scope: &Scope, site: &Site, place: &Place, l: &Listed) -> Judged {
    let _p = scope.permits.acquire().await.expect("permits stay open");
    let read = fetch::digest(&scope.s3, site, &place.bucket, &l.key).await;
    match read {
        Ok(obj) => {
            let ring = if l.parts.backfill { backfill_ring(scope, place, &obj).await } else { Ok(scope.keys.ring(&place.region)) };
            match ring {
                Ok(ring) => judge(place, &l.key, l.parts.stamp, l.parts.backfill, &obj, ring.as_deref()),
                Err(e) => {
                    let finding = Finding::new(&place.account, &place.region, Subject::Digest, Verdict::Error, &l.key, format!("the key of this backfill digest: {e}"));
                    Judged { node: Node { key: l.key.clone(), stamp: l.parts.stamp, signature: None, links: None }, backfill: true, logs: vec![], finding: Some(finding) }
                }
            }
        }
        Err(e) => {
            let verdict = if fetch::is_not_found(&e) { Verdict::NotFound } else { Verdict::Error };
            let finding = Finding::new(&place.account, &place.region, Subject::Digest, verdict, &l.key, e.to_string());
            Judged { node: Node { key: l.key.clone(), stamp: l.parts.stamp, signature: None, links: None }, backfill: l.parts.backfill, logs: vec![], finding: Some(finding) }
        }
    }
}

/// A backfill digest is signed when generated: its key is looked for around that time when the
/// run's ring lacks it. Without the metadata or a readable body, the run's ring (judge reports why).
async fn backfill_ring(scope: &Scope, place: &Place, obj: &DigestObject) -> Result<Option<Arc<KeyRing>>, CallError> {
    let generated = obj.meta("backfill-generation-timestamp").and_then(|t| times::parse_time(t).ok());
    match (generated, digest::parse(&obj.body)) {
        (Some(at), Ok(parsed)) => scope.keys.for_backfill(&place.region, &parsed.digest.digest_public_key_fingerprint, at).await,
        _ => Ok(scope.keys.ring(&place.region)),
    }
}

/// The digest on its own: format, place, key and signature.
fn judge(place: &Place, key: &str, stamp: times::Time, backfill: bool, obj: &DigestObject, ring: Option<&KeyRing>) -> Judged {
    let signature = obj.meta("signature").map(str::to_string);
    let mut judged = Judged { node: Node { key: key.into(), stamp, signature: signature.clone(), links: None }, backfill, logs: vec![], finding: None };
    let invalid = |verdict, detail: String| Some(Finding::new(&place.account, &place.region, Subject::Digest, verdict, key, detail));
    let parsed = match digest::parse(&obj.body) {
        Ok(p) => p,
        Err(e) => {
            judged.finding = invalid(Verdict::InvalidSignature, format!("invalid format: {e}"));
            return judged;
        }
    };
    judged.logs = parsed.digest.log_files.clone();
    let d = &parsed.digest;
    if d.digest_s3_bucket != place.bucket || d.digest_s3_object != key {
        judged.finding = invalid(Verdict::InvalidPlace, format!("moved: the digest says it belongs at s3://{}/{}", d.digest_s3_bucket, d.digest_s3_object));
        return judged;
    }
    // A digest is signed when delivered (its end time); a backfill digest when generated.
    let signed_at = if backfill {
        match obj.meta("backfill-generation-timestamp").map(times::parse_time) {
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                judged.finding = invalid(Verdict::InvalidSignature, format!("a backfill digest whose backfill-generation-timestamp metadata {e}"));
                return judged;
            }
            None => {
                judged.finding = invalid(Verdict::InvalidSignature, "a backfill digest without backfill-generation-timestamp metadata".into());
                return judged;
            }
        }
    } else {
        parsed.end
    };
    let verified = ring.map_or(Err(SignatureError::UnknownKey { fingerprint: d.digest_public_key_fingerprint.clone(), at: times::display(signed_at) }), |r| r.verify(&parsed, signature.as_deref(), obj.meta("signature-algorithm"), signed_at));
    if let Err(e) = verified {
        let verdict = if matches!(e, SignatureError::UnknownKey { .. }) { Verdict::UnknownKey } else { Verdict::InvalidSignature };
        judged.finding = invalid(verdict, format!("{e} (region {})", place.region));
        return judged;
    }
    judged.node.links = Some(Links {
        start: parsed.start,
        end: parsed.end,
        bucket: d.digest_s3_bucket.clone(),
        previous_bucket: d.previous_digest_s3_bucket.clone(),
        previous_key: d.previous_digest_s3_object.clone(),
        previous_signature: d.previous_digest_signature.clone(),
        previous_hash: d.previous_digest_hash_value.clone(),
        hash: Some(parsed.inflated_sha256.clone()),
    });
    judged
}

/// `--since-last`: the recorded head must still be there, unchanged and valid, and the digest it
/// names as its previous one must still carry the signature it recorded. Returns the node the new
/// digests chain to (the recorded values when the head could not be read).
async fn recheck_head(scope: &Scope, site: &Site, place: &Place, head: &ChainHead, findings: &mut Vec<Finding>) -> Node {
    let (account, region) = (place.account.as_str(), place.region.as_str());
    let stamp = digest::parse_digest_key(&head.digest_key).map_or(scope.window.start, |k| k.stamp);
    let end = times::parse_time(&head.end_time).unwrap_or(stamp);
    let recorded = Node {
        key: head.digest_key.clone(),
        stamp,
        signature: Some(head.signature.clone()),
        links: Some(Links { start: end, end, bucket: place.bucket.clone(), previous_bucket: None, previous_key: None, previous_signature: None, previous_hash: None, hash: None }),
    };
    let _p = scope.permits.acquire().await.expect("permits stay open");
    let obj = match fetch::digest(&scope.s3, site, &place.bucket, &head.digest_key).await {
        Ok(obj) => obj,
        Err(e) => {
            let verdict = if fetch::is_not_found(&e) { Verdict::NotFound } else { Verdict::Error };
            findings.push(Finding::new(account, region, Subject::Digest, verdict, &head.digest_key, format!("the chain head the last run recorded: {e}")));
            return recorded;
        }
    };
    let judged = judge(place, &head.digest_key, stamp, false, &obj, scope.keys.ring(region).as_deref());
    if judged.node.signature.as_deref() != Some(head.signature.as_str()) {
        findings.push(Finding::new(account, region, Subject::Digest, Verdict::NotInChain, &head.digest_key, "replaced since the last run recorded it as the chain head (another signature)"));
        return recorded;
    }
    if let Some(f) = judged.finding {
        findings.push(Finding { detail: format!("the chain head the last run recorded: {}", f.detail), ..f });
        return recorded;
    }
    let links = judged.node.links.clone().expect("a valid digest has links");
    if let (Some(prev), Some(expected)) = (&links.previous_key, &links.previous_signature) {
        match fetch::signature_of(&scope.s3, site, &place.bucket, prev).await {
            Ok(None) => findings.push(Finding::new(account, region, Subject::Digest, Verdict::NotFound, prev, format!("named as the previous digest by the recorded chain head {}", head.digest_key))),
            Ok(Some(sig)) if sig.as_deref() != Some(expected.as_str()) => {
                findings.push(Finding::new(account, region, Subject::Digest, Verdict::NotInChain, prev, format!("its signature is not the one the recorded chain head {} names: the digest was replaced", head.digest_key)))
            }
            Ok(Some(_)) => {}
            Err(e) => findings.push(Finding::new(account, region, Subject::Digest, Verdict::Error, prev, e.to_string())),
        }
    }
    judged.node
}

/// Every log file of the valid digests against the hash its digest recorded.
async fn check_logs(scope: &Scope, site: &Site, place: &Place, logs: &[LogEntry], result: &mut PairResult, findings: &mut Vec<Finding>) {
    let checks = stream::iter(logs.iter())
        .map(|l| async move {
            let _p = scope.permits.acquire().await.expect("permits stay open");
            let log_site = site.on(format!("s3://{}/{}", l.s3_bucket, l.s3_object));
            (l, fetch::check_log(&scope.s3, &log_site, &l.s3_bucket, &l.s3_object, &l.hash_value).await)
        })
        .buffer_unordered(PER_PAIR);
    futures::pin_mut!(checks);
    while let Some((l, check)) = checks.next().await {
        let finding = |verdict, detail: String| Finding::new(&place.account, &place.region, Subject::LogFile, verdict, &l.s3_object, detail);
        match check {
            Ok(LogCheck::Valid) => result.logs_valid += 1,
            Ok(LogCheck::Mismatch { actual }) => {
                result.logs_invalid += 1;
                findings.push(finding(Verdict::InvalidHash, format!("SHA-256 {actual}, the digest recorded {}", l.hash_value)));
            }
            Ok(LogCheck::NotGzip(e)) => {
                result.logs_invalid += 1;
                findings.push(finding(Verdict::InvalidHash, format!("not gzip: {e}")));
            }
            Ok(LogCheck::NotFound) => {
                result.logs_invalid += 1;
                findings.push(finding(Verdict::NotFound, format!("listed by a digest, not in s3://{}", l.s3_bucket)));
            }
            Err(e) => {
                result.logs_invalid += 1;
                findings.push(finding(Verdict::Error, e.to_string()));
            }
        }
    }
}
