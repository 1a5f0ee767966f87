//! What the proxy counts: requests and their fate per operation, rule matches and firings, and
//! AssumeRole requests per target account.
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::operation::Operation;

/// Requests seen for one operation and what happened to them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OpStats {
    pub requests: u64,
    /// Reached the emulator (stalled ones included).
    pub forwarded: u64,
    pub delayed: u64,
    pub throttled: u64,
    pub server_errors: u64,
    pub resets: u64,
    pub stalled: u64,
    pub access_denied: u64,
    /// AssumeRole answers whose expiry was shortened.
    pub short_credentials: u64,
    /// Requests refused because their (shortened) session token had expired.
    pub expired_tokens: u64,
}

impl OpStats {
    /// Requests answered with an injected error or reset instead of the emulator's answer.
    pub fn injected(&self) -> u64 {
        self.throttled + self.server_errors + self.resets + self.access_denied + self.expired_tokens
    }

    pub(super) fn add(&mut self, o: &OpStats) {
        self.requests += o.requests;
        self.forwarded += o.forwarded;
        self.delayed += o.delayed;
        self.throttled += o.throttled;
        self.server_errors += o.server_errors;
        self.resets += o.resets;
        self.stalled += o.stalled;
        self.access_denied += o.access_denied;
        self.short_credentials += o.short_credentials;
        self.expired_tokens += o.expired_tokens;
    }
}

/// How often a rule's target matched a request, and how often the rule fired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RuleHits {
    pub matched: u64,
    pub fired: u64,
}

#[derive(Default)]
pub(super) struct Counters {
    pub by_operation: BTreeMap<String, OpStats>,
    pub rules: Vec<RuleHits>,
    /// Per (rule, operation): how many matches so far, the sequence number of the next draw.
    pub draws: HashMap<(usize, String), u64>,
    /// AssumeRole requests per target account (from the RoleArn).
    pub assume_role_by_account: BTreeMap<String, u64>,
}

impl Counters {
    pub fn new(rules: usize) -> Counters {
        Counters { rules: vec![RuleHits::default(); rules], ..Counters::default() }
    }

    /// One more request for `op` (and for the account an AssumeRole targets).
    pub fn count_request(&mut self, op: &Operation) {
        self.by_operation.entry(op.name.clone()).or_default().requests += 1;
        if op.name == "STS.AssumeRole" {
            if let Some(account) = role_arn_account(&op.subject) {
                *self.assume_role_by_account.entry(account).or_default() += 1;
            }
        }
    }

    pub fn op(&mut self, op: &str) -> &mut OpStats {
        self.by_operation.entry(op.to_string()).or_default()
    }
}

/// The account id in `RoleArn=arn:aws:iam::ACCOUNT:role/...` of a decoded AssumeRole request.
fn role_arn_account(subject: &str) -> Option<String> {
    let arn = subject.split("RoleArn=").nth(1)?.split('&').next()?;
    arn.split(':').nth(4).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_arn_names_the_account() {
        assert_eq!(role_arn_account("/  Action=AssumeRole&RoleArn=arn:aws:iam::111122223333:role/R").as_deref(), Some("111122223333"));
        assert_eq!(role_arn_account("/  Action=GetCallerIdentity"), None);
    }
}
