//! A fault-injection HTTP proxy on 127.0.0.1 between orgtrail (or any AWS SDK client) and the moto
//! emulator, for reliability tests and benchmarks.
//!
//! ```no_run
//! use std::time::Duration;
//! use orgtrail_tests::fault_proxy::{Fault, FaultPlan, FaultProxy, Rule, Target};
//! # fn demo(emulator_url: &str) -> std::io::Result<()> {
//! let plan = FaultPlan::seeded(7)
//!     .latency(Duration::from_millis(50))                                  // every request, before forwarding
//!     .rule(Rule::new(Target::all(), Fault::Throttle).rate(0.3))           // 30% throttled, AWS-shaped
//!     .rule(Rule::new(Target::op("STS.AssumeRole").containing("111122223333"), Fault::AccessDenied));
//! let proxy = FaultProxy::start(emulator_url, plan)?;                     // its own runtime and threads
//! // point the client at proxy.url() (`--endpoint-url`, AWS_ENDPOINT_URL) ...
//! let stats = proxy.stats();                                             // per `Service.Operation`
//! let denied = proxy.rule_hits(1);                                       // how often rule 1 matched / fired
//! # Ok(()) }
//! ```
//!
//! Operations are named like orgtrail's `CallMetrics` keys (`Organizations.ListAccounts`,
//! `STS.AssumeRole`, `S3.PutBucketPolicy`): the service comes from the SigV4 credential scope, the
//! operation from `X-Amz-Target` (JSON protocols), `Action=` (query protocols) or method, path and
//! query (S3 REST). A [`Target`] is an operation pattern (`*`, `S3.*`, `STS.AssumeRole`) and
//! optionally a string the request must contain (path, URL-decoded query or body), e.g. an account
//! id to hit one account's `AssumeRole`.
//!
//! Rules are tried in order for every request; each matching rule fires with its rate, drawn from
//! a generator seeded by the plan's seed, the rule, the operation and how many times the rule has
//! seen that operation: a run that sends each operation's requests in the same order sees the same
//! faults. [`Fault::Delay`] and [`Fault::ShortCredentials`] add to the request and let later rules
//! apply; every other fault answers the request itself (it never reaches the emulator), except
//! [`Fault::Stall`], which forwards it and holds the answer back.
//!
//! The standalone binary `fault-proxy --upstream URL [--latency-ms N] [--throttle-rate F] [--seed N]`
//! prints its URL on stdout and runs until killed, for scripts and benchmarks.
mod answers;
mod credentials;
mod http;
mod operation;
mod plan;
mod server;
mod stats;

pub use operation::Operation;
pub use plan::{Fault, FaultPlan, Rule, Target};
pub use server::FaultProxy;
pub use stats::{OpStats, RuleHits};
