//! The newest digest of a pair, deleted: no later digest names it, so the chain cannot show it
//! (nor does the AWS CLI). The trail's own record does: CloudTrail delivers a digest every hour
//! for every account and region it covers, even an hour without log files, so when the trail's
//! other pairs hold valid digests for hours after a pair's newest one, that pair's digests for
//! those hours are `not found`.
//!
//! The rule, per trail (the organization trail: every pair of the run; per-account trails: the
//! pairs of one account): a pair's digests are due up to the newest end time T of a valid digest
//! of another pair, but only up to `now - DELIVERY_LAG` (a digest still within an hour of its
//! period may not have arrived yet: ordinary delivery lag, the same hour the AWS CLI's listing
//! allows past the window). The k-th hour after the pair's newest digest is due when it ends by
//! then, give or take `PERIOD_SKEW` (pairs' digest periods are not aligned to the second). A trail-wide stop delivers no digest for any pair, so it moves T for
//! none and is never reported here; a pair without any digest in the window is `missing` already.
use std::collections::BTreeMap;

use super::listing::Place;
use super::results::{Finding, Subject, Verdict};
use super::times::{self, Time, SPILL};

/// How long after its period a digest may still be on its way.
pub const DELIVERY_LAG: time::Duration = SPILL;

/// How far apart the digest periods of two pairs of one trail may lie.
const PERIOD_SKEW: time::Duration = time::Duration::minutes(10);

/// What one pair's chain ends with.
#[derive(Debug, Clone)]
pub struct Tail {
    pub place: Place,
    /// The end of the pair's newest digest, valid or not (or of the recorded head).
    pub newest_end: Time,
    pub newest_key: String,
    /// The pair's newest valid digest (end, key): evidence of the trail's delivery for the others.
    pub proven: Option<(Time, String)>,
}

/// The digests due but absent, as `(index of the pair in tails, findings, digests missing)`.
pub fn due_but_absent(tails: &[Tail], per_account_trails: bool, now: Time) -> Vec<(usize, Vec<Finding>, u64)> {
    let group = |t: &Tail| if per_account_trails { t.place.account.clone() } else { String::new() };
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, t) in tails.iter().enumerate() {
        groups.entry(group(t)).or_default().push(i);
    }
    let mut out = Vec::new();
    for members in groups.values() {
        for &i in members {
            let tail = &tails[i];
            let peer = members.iter().filter(|&&j| j != i).filter_map(|&j| tails[j].proven.as_ref().map(|p| (p, &tails[j]))).max_by_key(|(p, _)| p.0);
            let Some(((peer_end, peer_key), peer)) = peer else { continue };
            let due = (*peer_end).min(now - DELIVERY_LAG);
            let hours = (due + PERIOD_SKEW - tail.newest_end).whole_hours();
            if hours < 1 {
                continue;
            }
            let p = &tail.place;
            let first_end = tail.newest_end + time::Duration::hours(1);
            let expected = p.digest_key_at(first_end);
            let mut found = vec![Finding::new(
                &p.account,
                &p.region,
                Subject::Digest,
                Verdict::NotFound,
                &expected,
                format!(
                    "the digest after {} (which ends at {}), for the hour ending about {}, stamped about then: the trail delivered digests up to {} for {}/{} ({}), and digests are delivered hourly for every account and region, even without log files",
                    tail.newest_key,
                    times::display(tail.newest_end),
                    times::display(first_end),
                    times::display(*peer_end),
                    peer.place.account,
                    peer.place.region,
                    peer_key
                ),
            )];
            if hours > 1 {
                let mut gap = Finding::new(&p.account, &p.region, Subject::Chain, Verdict::Gap, &expected, format!("{} more digest(s) due and absent up to {} (the newest digest is {})", hours - 1, times::display(due), tail.newest_key));
                gap.count = hours as u64 - 1;
                found.push(gap);
            }
            out.push((i, found, hours as u64));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use time::Duration;

    use super::*;

    const T0: Time = datetime!(2026-01-08 00:00 UTC);

    fn tail(account: &str, region: &str, newest_hour: i64, proven: bool) -> Tail {
        let place = Place { bucket: "b".into(), base: format!("AWSLogs/o-1/{account}/"), account: account.into(), region: region.into(), trail_name: "t".into(), home_region: "us-east-1".into() };
        let end = T0 + Duration::hours(newest_hour);
        let key = place.digest_key_at(end);
        Tail { place, newest_end: end, newest_key: key.clone(), proven: proven.then_some((end, key)) }
    }

    fn late() -> Time {
        T0 + Duration::hours(48)
    }

    #[test]
    fn an_even_end_is_clean() {
        let tails = [tail("1", "us-east-1", 5, true), tail("1", "eu-west-1", 5, true), tail("2", "us-east-1", 5, true)];
        assert!(due_but_absent(&tails, false, late()).is_empty());
    }

    #[test]
    fn a_pair_behind_the_trail_misses_its_newest_digests() {
        let tails = [tail("1", "us-east-1", 5, true), tail("1", "eu-west-1", 4, true), tail("2", "us-east-1", 2, true)];
        let out = due_but_absent(&tails, false, late());
        let got: Vec<(usize, u64)> = out.iter().map(|(i, _, n)| (*i, *n)).collect();
        assert_eq!(got, [(1, 1), (2, 3)]);
        let f = &out[0].1[0];
        assert_eq!((f.verdict, f.key.clone()), (Verdict::NotFound, tails[1].place.digest_key_at(T0 + Duration::hours(5))));
        assert_eq!((out[1].1[1].verdict, out[1].1[1].count), (Verdict::Gap, 2));
    }

    #[test]
    fn delivery_lag_at_the_end_is_not_a_deletion() {
        let tails = [tail("1", "us-east-1", 5, true), tail("1", "eu-west-1", 4, true)];
        // The peer's newest ended 30 minutes ago: the other pair's may still be on its way.
        assert!(due_but_absent(&tails, false, T0 + Duration::hours(5) + Duration::minutes(30)).is_empty());
        assert_eq!(due_but_absent(&tails, false, T0 + Duration::hours(6)).len(), 1);
    }

    #[test]
    fn only_valid_digests_of_the_same_trail_are_evidence() {
        // The ahead pair's newest is not valid: no evidence.
        let tails = [tail("1", "us-east-1", 5, false), tail("1", "eu-west-1", 4, true)];
        assert!(due_but_absent(&tails, false, late()).is_empty());
        // Per-account trails: another account's trail says nothing about this one's.
        let tails = [tail("1", "us-east-1", 5, true), tail("2", "us-east-1", 4, true)];
        assert!(due_but_absent(&tails, true, late()).is_empty());
        assert_eq!(due_but_absent(&tails, false, late()).len(), 1);
    }
}
