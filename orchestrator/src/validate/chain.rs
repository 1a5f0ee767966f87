//! The chain of one account x region: each digest names the previous one's object, signature and
//! hash, and starts where it ended. Walked forward over the digests found in the window (oldest
//! first), so a missing digest is reported however many are missing in a row: the one the next
//! digest names is `not found`, the ones before it (whose keys nothing names any more) a `gap`
//! counted from the times on either side. A digest that names no previous one after an earlier
//! digest is CloudTrail's own record of logging restarted: a `stopped`, not tampering.
use super::results::{Finding, Subject, Verdict};
use super::times::{self, hours_between, Time, Window};

/// What the chain needs of a digest whose own checks (signature, place, key) passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    pub start: Time,
    pub end: Time,
    pub bucket: String,
    pub previous_bucket: Option<String>,
    pub previous_key: Option<String>,
    pub previous_signature: Option<String>,
    pub previous_hash: Option<String>,
    /// SHA-256 of the inflated digest (None for a recorded head, whose bytes were not read).
    pub hash: Option<String>,
}

/// A digest found in the listing (or the recorded head the run starts from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub key: String,
    pub stamp: Time,
    /// The signature in the object's metadata, when it had one.
    pub signature: Option<String>,
    /// Some when the digest itself is valid; an invalid digest keeps its own verdict and still
    /// holds its place (the next digest naming it is not reported twice).
    pub links: Option<Links>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ChainOutcome {
    pub findings: Vec<Finding>,
    /// Digests that should exist and do not.
    pub missing: u64,
    pub stops: u64,
    /// Digests found but not part of the chain (counted invalid).
    pub not_in_chain: u64,
}

/// Links `nodes` (sorted by stamp, oldest first) to each other and to `head` (the last run's
/// newest proven digest with `--since-last`). Digests named but older than the window are not
/// looked for, as the AWS CLI does not.
pub fn link(account: &str, region: &str, head: Option<&Node>, nodes: &[Node], window: &Window) -> ChainOutcome {
    let mut out = ChainOutcome::default();
    let finding = |subject, verdict, key: &str, detail: String| Finding::new(account, region, subject, verdict, key, detail);
    for (i, node) in nodes.iter().enumerate() {
        let Some(d) = &node.links else { continue };
        let before = if i == 0 { head } else { nodes.get(i - 1) };
        match (&d.previous_key, before) {
            (None, None) => {}
            (None, Some(p)) => {
                out.stops += 1;
                let from = p.links.as_ref().map_or(p.stamp, |l| l.end);
                out.findings.push(finding(Subject::Chain, Verdict::Stopped, &node.key, format!("logging stopped between {} and {}: this digest starts a new chain (no previous digest)", times::display(from), times::display(d.start))));
            }
            (Some(named), None) => {
                let stamp = super::digest::parse_digest_key(named).map(|k| k.stamp);
                if stamp.is_some_and(|s| s >= window.start) {
                    out.missing += 1;
                    out.findings.push(finding(Subject::Digest, Verdict::NotFound, named, format!("named as the previous digest by {}", node.key)));
                }
            }
            (Some(named), Some(p)) if *named == p.key => check_link(node, d, p, &mut out, &finding),
            (Some(named), Some(p)) => {
                let earlier = nodes[..i.saturating_sub(1)].iter().rposition(|n| n.key == *named);
                match earlier {
                    // Digests between the one named and this one: found, but no chain holds them.
                    Some(j) => {
                        for n in &nodes[j + 1..i] {
                            out.not_in_chain += 1;
                            out.findings.push(finding(Subject::Digest, Verdict::NotInChain, &n.key, format!("{} names {} as its previous digest, not this one", node.key, named)));
                        }
                    }
                    None => {
                        out.missing += 1;
                        out.findings.push(finding(Subject::Digest, Verdict::NotFound, named, format!("named as the previous digest by {}", node.key)));
                        let from = p.links.as_ref().map_or(p.stamp, |l| l.end);
                        let more = hours_between(from, d.start) - 1;
                        if more > 0 {
                            out.missing += more as u64;
                            let mut gap = finding(Subject::Chain, Verdict::Gap, named, format!("{more} more digest(s) missing between {} and {} (after {})", times::display(from), times::display(d.start), p.key));
                            gap.count = more as u64;
                            out.findings.push(gap);
                        }
                    }
                }
            }
        }
    }
    out
}

/// `node` names `p` as its previous digest: the signature and hash it recorded must be `p`'s, and
/// it must start where `p` ended (later: logging was off in between, by the trail's own record).
fn check_link(node: &Node, d: &Links, p: &Node, out: &mut ChainOutcome, finding: &impl Fn(Subject, Verdict, &str, String) -> Finding) {
    if d.previous_bucket.as_deref().is_some_and(|b| b != d.bucket) {
        // Another bucket: the AWS CLI follows it; orgtrail validates one trail's bucket.
        out.findings.push(finding(Subject::Digest, Verdict::NotInChain, &p.key, format!("{} names it in bucket {}, not {}", node.key, d.previous_bucket.as_deref().unwrap_or_default(), d.bucket)));
        out.not_in_chain += 1;
        return;
    }
    let Some(pl) = &p.links else { return };
    if d.previous_signature.as_deref() != p.signature.as_deref() {
        out.not_in_chain += 1;
        out.findings.push(finding(Subject::Digest, Verdict::NotInChain, &p.key, format!("its signature is not the one {} recorded for it: the digest was replaced", node.key)));
        return;
    }
    if let (Some(recorded), Some(actual)) = (&d.previous_hash, &pl.hash) {
        if recorded != actual {
            out.not_in_chain += 1;
            out.findings.push(finding(Subject::Digest, Verdict::InvalidHash, &p.key, format!("SHA-256 {actual}, but {} recorded {recorded}", node.key)));
            return;
        }
    }
    if d.start > pl.end {
        out.stops += 1;
        out.findings.push(finding(Subject::Chain, Verdict::Stopped, &node.key, format!("logging stopped between {} and {}", times::display(pl.end), times::display(d.start))));
    } else if d.start < pl.end {
        out.not_in_chain += 1;
        out.findings.push(finding(Subject::Digest, Verdict::NotInChain, &node.key, format!("starts at {}, before {} ended ({})", times::display(d.start), p.key, times::display(pl.end))));
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use time::Duration;

    use super::*;

    const T0: Time = datetime!(2026-01-08 00:00 UTC);

    fn key(h: i64) -> String {
        let t = T0 + Duration::hours(h) + Duration::minutes(5);
        format!("AWSLogs/o-1/111111111111/CloudTrail-Digest/us-east-1/2026/01/08/111111111111_CloudTrail-Digest_us-east-1_t_us-east-1_{}.json.gz", times::key_stamp(t))
    }

    /// The digest delivered after hour `h` (covering `h-1 .. h`), chained to the one of `h - 1`.
    fn node(h: i64, prev: Option<i64>) -> Node {
        Node {
            key: key(h),
            stamp: T0 + Duration::hours(h) + Duration::minutes(5),
            signature: Some(format!("sig{h}")),
            links: Some(Links {
                start: T0 + Duration::hours(h - 1),
                end: T0 + Duration::hours(h),
                bucket: "b".into(),
                previous_bucket: prev.map(|_| "b".into()),
                previous_key: prev.map(key),
                previous_signature: prev.map(|p| format!("sig{p}")),
                previous_hash: prev.map(|p| format!("hash{p}")),
                hash: Some(format!("hash{h}")),
            }),
        }
    }

    fn chain(hours: &[i64]) -> Vec<Node> {
        hours.iter().map(|&h| node(h, Some(h - 1))).collect()
    }

    fn window() -> Window {
        Window { start: T0 + Duration::hours(1), end: T0 + Duration::hours(12) }
    }

    fn verdicts(o: &ChainOutcome) -> Vec<(Verdict, String, u64)> {
        o.findings.iter().map(|f| (f.verdict, f.key.clone(), f.count)).collect()
    }

    #[test]
    fn an_unbroken_chain_has_no_findings() {
        let o = link("111111111111", "us-east-1", None, &chain(&[1, 2, 3, 4]), &window());
        assert_eq!(o, ChainOutcome::default());
    }

    #[test]
    fn one_deleted_digest_is_not_found() {
        let o = link("a", "r", None, &chain(&[1, 2, 4, 5]), &window());
        assert_eq!(verdicts(&o), [(Verdict::NotFound, key(3), 1)]);
        assert_eq!(o.missing, 1);
    }

    #[test]
    fn two_consecutive_deleted_digests_are_both_counted() {
        let o = link("a", "r", None, &chain(&[1, 2, 5, 6]), &window());
        assert_eq!(verdicts(&o), [(Verdict::NotFound, key(4), 1), (Verdict::Gap, key(4), 1)]);
        assert_eq!(o.missing, 2);
        let o = link("a", "r", None, &chain(&[1, 7]), &window());
        assert_eq!(o.missing, 5);
    }

    #[test]
    fn the_first_digest_of_the_window_may_name_one_before_it_but_not_one_inside() {
        assert_eq!(link("a", "r", None, &chain(&[2, 3]), &Window { start: T0 + Duration::hours(2), end: T0 + Duration::hours(5) }).missing, 0);
        let o = link("a", "r", None, &chain(&[3, 4]), &window());
        assert_eq!(verdicts(&o), [(Verdict::NotFound, key(2), 1)]);
    }

    #[test]
    fn a_replaced_digest_is_not_in_chain() {
        let mut nodes = chain(&[1, 2, 3]);
        nodes[1].signature = Some("forged".into());
        let o = link("a", "r", None, &nodes, &window());
        assert_eq!(verdicts(&o), [(Verdict::NotInChain, key(2), 1)]);
        let mut nodes = chain(&[1, 2, 3]);
        nodes[1].links.as_mut().unwrap().hash = Some("other".into());
        assert_eq!(verdicts(&link("a", "r", None, &nodes, &window())), [(Verdict::InvalidHash, key(2), 1)]);
    }

    #[test]
    fn an_inserted_digest_is_not_in_chain() {
        let mut nodes = chain(&[1, 2, 3]);
        nodes[2].links.as_mut().unwrap().previous_key = Some(key(1));
        nodes[2].links.as_mut().unwrap().previous_signature = Some("sig1".into());
        assert_eq!(verdicts(&link("a", "r", None, &nodes, &window())), [(Verdict::NotInChain, key(2), 1)]);
    }

    #[test]
    fn a_restarted_chain_is_a_stop_and_an_invalid_digest_is_not_reported_twice() {
        let mut nodes = chain(&[1, 2]);
        nodes.push(node(5, None));
        nodes.push(node(6, Some(5)));
        let o = link("a", "r", None, &nodes, &window());
        assert_eq!(verdicts(&o), [(Verdict::Stopped, key(5), 1)]);
        assert_eq!((o.stops, o.missing), (1, 0));
        // Linked across the stop, starting later than the previous ended: also a stop.
        let mut nodes = chain(&[1, 2]);
        let mut n = node(5, Some(2));
        n.links.as_mut().unwrap().previous_hash = Some("hash2".into());
        nodes.push(n);
        assert_eq!(verdicts(&link("a", "r", None, &nodes, &window())), [(Verdict::Stopped, key(5), 1)]);
        let mut nodes = chain(&[1, 2, 3]);
        nodes[1].links = None;
        assert_eq!(link("a", "r", None, &nodes, &window()), ChainOutcome::default());
    }

    #[test]
    fn since_last_chains_from_the_recorded_head() {
        let head = Node { links: Some(Links { hash: None, ..node(2, Some(1)).links.unwrap() }), ..node(2, Some(1)) };
        assert_eq!(link("a", "r", Some(&head), &chain(&[3, 4]), &window()), ChainOutcome::default());
        let forged = Node { signature: Some("forged".into()), ..head.clone() };
        assert_eq!(verdicts(&link("a", "r", Some(&forged), &chain(&[3, 4]), &window())), [(Verdict::NotInChain, key(2), 1)]);
        assert_eq!(link("a", "r", Some(&head), &chain(&[5]), &window()).missing, 2);
    }
}
