//! What to inject: the faults, the requests a rule targets, the plan of rules, and the seeded draw
//! that decides whether a matching rule fires.
use std::time::Duration;

use super::operation::Operation;
use super::stats::Counters;

/// What to do to a matching request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Wait this long before forwarding (further rules still apply).
    Delay(Duration),
    /// Answer with the service's throttling error (HTTP 400 `ThrottlingException`,
    /// `TooManyRequestsException` for Organizations, `Throttling` XML for STS, 503 `SlowDown` for S3).
    Throttle,
    /// Answer HTTP 500 with the service's internal-error shape.
    ServerError,
    /// Reset the connection (TCP RST) without answering; the request never reaches the emulator.
    Reset,
    /// Forward the request, then hold the answer back this long (beyond the client's timeout).
    Stall(Duration),
    /// Answer `AccessDenied` (`AccessDeniedException` for JSON protocols): a permanent error.
    AccessDenied,
    /// On `STS.AssumeRole` answers, rewrite `<Expiration>` to this far ahead, and from then on answer
    /// `ExpiredToken` to requests signed with that session token once it has passed (as AWS would).
    ShortCredentials(Duration),
}

/// Which requests a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `*`, `Service.*` or `Service.Operation`.
    pub operation: String,
    /// A string the request's path, decoded query or decoded body must contain.
    pub contains: Option<String>,
}

impl Target {
    pub fn all() -> Target {
        Target { operation: "*".into(), contains: None }
    }

    /// `Service.Operation` or `Service.*`.
    pub fn op(pattern: &str) -> Target {
        Target { operation: pattern.into(), contains: None }
    }

    pub fn containing(mut self, text: &str) -> Target {
        self.contains = Some(text.into());
        self
    }

    pub(super) fn matches(&self, op: &Operation) -> bool {
        let name_ok = match self.operation.strip_suffix(".*") {
            _ if self.operation == "*" => true,
            Some(service) => op.service() == service,
            None => op.name == self.operation,
        };
        name_ok && self.contains.as_ref().is_none_or(|c| op.subject.contains(c.as_str()))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub target: Target,
    /// Probability in [0, 1] that a matching request gets the fault.
    pub rate: f64,
    pub fault: Fault,
}

impl Rule {
    /// A rule that fires on every matching request; see [`Rule::rate`].
    pub fn new(target: Target, fault: Fault) -> Rule {
        Rule { target, rate: 1.0, fault }
    }

    pub fn rate(mut self, rate: f64) -> Rule {
        self.rate = rate.clamp(0.0, 1.0);
        self
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultPlan {
    pub seed: u64,
    /// Added to every request before forwarding (a fixed per-call latency for benchmarks).
    pub latency: Duration,
    pub rules: Vec<Rule>,
}

impl FaultPlan {
    /// Forward everything unchanged (counting it).
    pub fn passthrough() -> FaultPlan {
        FaultPlan::default()
    }

    pub fn seeded(seed: u64) -> FaultPlan {
        FaultPlan { seed, ..FaultPlan::default() }
    }

    pub fn latency(mut self, latency: Duration) -> FaultPlan {
        self.latency = latency;
        self
    }

    pub fn rule(mut self, rule: Rule) -> FaultPlan {
        self.rules.push(rule);
        self
    }
}

/// What was decided for one request.
#[derive(Default)]
pub(super) struct Decision {
    pub delay: Duration,
    pub short_credentials: Option<Duration>,
    pub answer: Option<Fault>,
}

impl FaultPlan {
    /// Tries the rules on `op` in order, counting matches and firings in `counters`: delays add up,
    /// short credentials apply to the answer, any other fault answers the request and ends the list.
    pub(super) fn decide(&self, op: &Operation, counters: &mut Counters) -> Decision {
        let mut d = Decision { delay: self.latency, ..Decision::default() };
        for (i, rule) in self.rules.iter().enumerate() {
            if !rule.target.matches(op) {
                continue;
            }
            counters.rules[i].matched += 1;
            let seq = counters.draws.entry((i, op.name.clone())).or_default();
            let draw = unit_draw(self.seed, i, &op.name, *seq);
            *seq += 1;
            if draw >= rule.rate {
                continue;
            }
            counters.rules[i].fired += 1;
            match &rule.fault {
                Fault::Delay(extra) => d.delay += *extra,
                Fault::ShortCredentials(life) => d.short_credentials = Some(*life),
                other => {
                    d.answer = Some(other.clone());
                    break;
                }
            }
        }
        d
    }
}

/// A reproducible draw in [0, 1) from the seed, the rule, the operation and the draw's sequence number.
fn unit_draw(seed: u64, rule: usize, op: &str, seq: u64) -> f64 {
    // FNV-1a over the operation name: stable across builds, unlike std's hasher.
    let op_hash = op.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let x = splitmix64(seed ^ splitmix64(op_hash ^ splitmix64((rule as u64) << 32 ^ seq)));
    (x >> 11) as f64 / (1u64 << 53) as f64
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::super::operation::Protocol;
    use super::*;

    #[test]
    fn draws_are_reproducible_and_near_the_rate() {
        let fired = |seed| (0..10_000).filter(|&i| unit_draw(seed, 0, "S3.PutObject", i) < 0.3).count();
        assert_eq!(fired(1), fired(1));
        assert_ne!((0..64).map(|i| unit_draw(1, 0, "x", i) < 0.5).collect::<Vec<_>>(), (0..64).map(|i| unit_draw(2, 0, "x", i) < 0.5).collect::<Vec<_>>());
        assert!((2800..3200).contains(&fired(1)), "{}", fired(1));
    }

    #[test]
    fn targets_match_operation_patterns_and_text() {
        let op = Operation { name: "STS.AssumeRole".into(), protocol: Protocol::Query, subject: "/  Action=AssumeRole&RoleArn=arn:aws:iam::111122223333:role/R".into() };
        assert!(Target::all().matches(&op));
        assert!(Target::op("STS.*").matches(&op));
        assert!(!Target::op("S3.*").matches(&op));
        assert!(Target::op("STS.AssumeRole").containing("111122223333").matches(&op));
        assert!(!Target::op("STS.AssumeRole").containing("444455556666").matches(&op));
    }
}
