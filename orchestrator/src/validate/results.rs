//! What validate-logs found, in the vocabulary verify, validate-logs and the report share: per
//! digest and log file a verdict, per chain gaps and stops, per account x region the counts and
//! the head the next `--since-last` run starts from. Valid objects are counted, not listed, so a
//! 90-day run's memory grows with its findings only.
use serde::{Deserialize, Serialize};

pub use orgtrail_state::ChainHead;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Verdict {
    #[serde(rename = "invalid: signature")]
    InvalidSignature,
    #[serde(rename = "invalid: hash")]
    InvalidHash,
    #[serde(rename = "invalid: place")]
    InvalidPlace,
    #[serde(rename = "unknown key")]
    UnknownKey,
    #[serde(rename = "not found")]
    NotFound,
    #[serde(rename = "not in chain")]
    NotInChain,
    #[serde(rename = "unlisted")]
    Unlisted,
    /// Digests missing between two found ones, beyond the one the later digest names.
    #[serde(rename = "gap")]
    Gap,
    /// No digest at all for an account x region in the window.
    #[serde(rename = "missing")]
    Missing,
    /// An AWS call failed (access denied, throttled beyond retries): unknown, so failing.
    #[serde(rename = "error")]
    Error,
    /// Logging was off, shown by the trail's own signed evidence: reported, not failing.
    #[serde(rename = "stopped")]
    Stopped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::InvalidSignature => "invalid: signature",
            Verdict::InvalidHash => "invalid: hash",
            Verdict::InvalidPlace => "invalid: place",
            Verdict::UnknownKey => "unknown key",
            Verdict::NotFound => "not found",
            Verdict::NotInChain => "not in chain",
            Verdict::Unlisted => "unlisted",
            Verdict::Gap => "gap",
            Verdict::Missing => "missing",
            Verdict::Error => "error",
            Verdict::Stopped => "stopped",
        }
    }

    /// Everything fails but a stop.
    pub fn is_failing(self) -> bool {
        self != Verdict::Stopped
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    Digest,
    LogFile,
    Chain,
    Pair,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Digest => "digest",
            Subject::LogFile => "log-file",
            Subject::Chain => "chain",
            Subject::Pair => "account-region",
        }
    }
}

/// One verdict that is not `valid`, with the object key it is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Finding {
    pub account: String,
    pub region: String,
    pub subject: Subject,
    pub verdict: Verdict,
    /// The S3 key (of the digest, the log file, or for a gap or stop the digest after it).
    pub key: String,
    pub detail: String,
    /// Digests a gap stands for (1 for every other finding).
    #[serde(default = "one")]
    pub count: u64,
}

fn one() -> u64 {
    1
}

impl Finding {
    pub fn new(account: &str, region: &str, subject: Subject, verdict: Verdict, key: impl Into<String>, detail: impl Into<String>) -> Finding {
        Finding { account: account.into(), region: region.into(), subject, verdict, key: key.into(), detail: detail.into(), count: 1 }
    }
}

/// The counts of one account x region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairResult {
    pub account: String,
    pub region: String,
    pub digests_valid: u64,
    pub digests_invalid: u64,
    /// Digests that should be there and are not (named ones and those a gap stands for).
    pub digests_missing: u64,
    pub backfill_digests_valid: u64,
    pub logs_valid: u64,
    pub logs_invalid: u64,
    pub stops: u64,
    /// The newest digest proven in this run, or the head it started from when nothing newer was
    /// proven; None when the pair failed (the next run starts from the last good head again).
    pub head: Option<ChainHead>,
    /// Whether nothing failed.
    pub valid: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pairs: u64,
    pub pairs_failing: u64,
    pub digests_valid: u64,
    pub digests_invalid: u64,
    pub digests_missing: u64,
    pub backfill_digests_valid: u64,
    pub logs_valid: u64,
    pub logs_invalid: u64,
    pub logs_unlisted: u64,
    pub stops: u64,
}

impl Summary {
    pub fn of(pairs: &[PairResult], findings: &[Finding]) -> Summary {
        let mut s = Summary { pairs: pairs.len() as u64, ..Summary::default() };
        for p in pairs {
            s.pairs_failing += u64::from(!p.valid);
            s.digests_valid += p.digests_valid;
            s.digests_invalid += p.digests_invalid;
            s.digests_missing += p.digests_missing;
            s.backfill_digests_valid += p.backfill_digests_valid;
            s.logs_valid += p.logs_valid;
            s.logs_invalid += p.logs_invalid;
            s.stops += p.stops;
        }
        s.logs_unlisted = findings.iter().filter(|f| f.verdict == Verdict::Unlisted).count() as u64;
        s
    }
}

/// The whole result: what JSON carries, `merge` joins and the other formats render.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub organization: String,
    pub trail: String,
    pub bucket: String,
    pub start_time: String,
    pub end_time: String,
    pub since_last: bool,
    pub digests_only: bool,
    /// `K/N` for a shard's result; None for a whole run or a merge.
    pub shard: Option<String>,
    pub summary: Summary,
    pub pairs: Vec<PairResult>,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn new(base: Report, mut pairs: Vec<PairResult>, mut findings: Vec<Finding>) -> Report {
        pairs.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        findings.sort();
        Report { summary: Summary::of(&pairs, &findings), pairs, findings, ..base }
    }

    pub fn passed(&self) -> bool {
        self.pairs.iter().all(|p| p.valid) && !self.findings.iter().any(|f| f.verdict.is_failing())
    }

    /// The heads to record: those of the pairs that passed.
    pub fn heads(&self) -> Vec<ChainHead> {
        self.pairs.iter().filter(|p| p.valid).filter_map(|p| p.head.clone()).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no shard results given")]
    Empty,
    #[error("{file}: not a validate-logs JSON result: {detail}")]
    Parse { file: String, detail: String },
    #[error("{file} validated {what} {theirs}, {first} validated {ours}: results of different runs cannot be merged")]
    Mismatch { file: String, first: String, what: &'static str, ours: String, theirs: String },
    #[error("{file} and {other} both hold account {account} region {region}: shards overlap")]
    Overlap { file: String, other: String, account: String, region: String },
}

/// Joins shard results (`(file name, JSON text)`) into one, refusing results of different runs
/// (trail, bucket, window, mode) and shards that overlap.
pub fn merge(shards: &[(String, String)]) -> Result<Report, MergeError> {
    let mut parsed = Vec::new();
    for (file, text) in shards {
        let r: Report = serde_json::from_str(text).map_err(|e| MergeError::Parse { file: file.clone(), detail: e.to_string() })?;
        parsed.push((file.clone(), r));
    }
    let ((first_file, first), rest) = parsed.split_first().ok_or(MergeError::Empty)?;
    let mut owner = std::collections::HashMap::new();
    let (mut pairs, mut findings) = (Vec::new(), Vec::new());
    for (file, r) in std::iter::once((first_file, first)).chain(rest.iter().map(|(f, r)| (f, r))) {
        for (what, ours, theirs) in [
            ("trail", &first.trail, &r.trail),
            ("bucket", &first.bucket, &r.bucket),
            ("from", &first.start_time, &r.start_time),
            ("to", &first.end_time, &r.end_time),
        ] {
            if ours != theirs {
                return Err(MergeError::Mismatch { file: file.clone(), first: first_file.clone(), what, ours: ours.clone(), theirs: theirs.clone() });
            }
        }
        if (r.since_last, r.digests_only) != (first.since_last, first.digests_only) {
            return Err(MergeError::Mismatch { file: file.clone(), first: first_file.clone(), what: "with flags", ours: flags(first), theirs: flags(r) });
        }
        for p in &r.pairs {
            if let Some(other) = owner.insert((p.account.clone(), p.region.clone()), file.clone()) {
                return Err(MergeError::Overlap { file: file.clone(), other, account: p.account.clone(), region: p.region.clone() });
            }
        }
        pairs.extend(r.pairs.iter().cloned());
        findings.extend(r.findings.iter().cloned());
    }
    Ok(Report::new(Report { shard: None, ..first.clone() }, pairs, findings))
}

fn flags(r: &Report) -> String {
    format!("--since-last={} --digests-only={}", r.since_last, r.digests_only)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(pairs: &[(&str, &str)], shard: &str) -> Report {
        let base = Report {
            organization: "o-1".into(),
            trail: "arn:t".into(),
            bucket: "b".into(),
            start_time: "s".into(),
            end_time: "e".into(),
            since_last: false,
            digests_only: false,
            shard: Some(shard.into()),
            summary: Summary::default(),
            pairs: vec![],
            findings: vec![],
        };
        let ps = pairs.iter().map(|(a, r)| PairResult { account: a.to_string(), region: r.to_string(), digests_valid: 3, valid: *a != "bad", ..Default::default() }).collect();
        let fs = pairs.iter().filter(|(a, _)| *a == "bad").map(|(a, r)| Finding::new(a, r, Subject::Digest, Verdict::NotFound, "k", "d")).collect();
        Report::new(base, ps, fs)
    }

    #[test]
    fn merged_shards_equal_the_whole() {
        let whole = Report { shard: None, ..report(&[("111111111111", "us-east-1"), ("bad", "us-east-1"), ("111111111111", "eu-west-1")], "x") };
        let a = serde_json::to_string(&report(&[("bad", "us-east-1")], "1/2")).unwrap();
        let b = serde_json::to_string(&report(&[("111111111111", "eu-west-1"), ("111111111111", "us-east-1")], "2/2")).unwrap();
        let merged = merge(&[("a.json".into(), a.clone()), ("b.json".into(), b)]).unwrap();
        assert_eq!(merged, whole);
        assert!(!merged.passed());
        assert_eq!(merged.summary.digests_valid, 9);
        assert!(matches!(merge(&[("a.json".into(), a.clone()), ("a2.json".into(), a)]), Err(MergeError::Overlap { .. })));
        assert!(matches!(merge(&[]), Err(MergeError::Empty)));
        assert!(matches!(merge(&[("x".into(), "{}".into())]), Err(MergeError::Parse { .. })));
    }
}
