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
mod http;
mod operation;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

pub use operation::Operation;

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

    fn matches(&self, op: &Operation) -> bool {
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

    fn add(&mut self, o: &OpStats) {
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
struct Counters {
    by_operation: BTreeMap<String, OpStats>,
    rules: Vec<RuleHits>,
    /// Per (rule, operation): how many matches so far, the sequence number of the next draw.
    draws: HashMap<(usize, String), u64>,
    /// AssumeRole requests per target account (from the RoleArn).
    assume_role_by_account: BTreeMap<String, u64>,
    /// Session tokens whose expiry the proxy shortened, with that expiry.
    short_tokens: HashMap<String, Instant>,
}

struct Shared {
    upstream: SocketAddr,
    plan: FaultPlan,
    counters: Mutex<Counters>,
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// What was decided for one request.
#[derive(Default)]
struct Decision {
    delay: Duration,
    short_credentials: Option<Duration>,
    answer: Option<Fault>,
}

impl FaultProxy {
    /// Listen on a free loopback port and forward to `upstream_url` (`http://127.0.0.1:PORT`), on a
    /// runtime of its own (so it keeps serving while a test blocks on a child process).
    pub fn start(upstream_url: &str, plan: FaultPlan) -> io::Result<FaultProxy> {
        Self::start_on(upstream_url, plan, 0)
    }

    /// As [`FaultProxy::start`], on a given port (0: any free port).
    pub fn start_on(upstream_url: &str, plan: FaultPlan, port: u16) -> io::Result<FaultProxy> {
        let upstream = parse_upstream(upstream_url)?;
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("fault-proxy").enable_all().build()?;
        // Bound without blocking on the runtime: the caller may itself be inside an async runtime.
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let listener = {
            let _in_runtime = runtime.enter();
            TcpListener::from_std(std_listener)?
        };
        let rules = plan.rules.len();
        let shared = Arc::new(Shared { upstream, plan, counters: Mutex::new(Counters { rules: vec![RuleHits::default(); rules], ..Counters::default() }) });
        let s = shared.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, s.clone()));
            }
        });
        Ok(FaultProxy { addr, shared, runtime: Some(runtime) })
    }

    /// The URL to give the client (`--endpoint-url`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Per-operation counts so far.
    pub fn stats(&self) -> BTreeMap<String, OpStats> {
        self.counters().by_operation.clone()
    }

    pub fn op(&self, operation: &str) -> OpStats {
        self.counters().by_operation.get(operation).copied().unwrap_or_default()
    }

    pub fn total(&self) -> OpStats {
        self.counters().by_operation.values().fold(OpStats::default(), |mut a, s| {
            a.add(s);
            a
        })
    }

    /// Matches and firings of `plan.rules[index]`.
    pub fn rule_hits(&self, index: usize) -> RuleHits {
        self.counters().rules.get(index).copied().unwrap_or_default()
    }

    /// AssumeRole requests per target account id (from the RoleArn), faulted or not.
    pub fn assume_role_requests(&self) -> BTreeMap<String, u64> {
        self.counters().assume_role_by_account.clone()
    }

    fn counters(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.shared.counters.lock().expect("fault proxy counters")
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // Not a blocking shutdown: the handle may be dropped inside a test's async runtime.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn parse_upstream(url: &str) -> io::Result<SocketAddr> {
    let hostport = url.strip_prefix("http://").ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("upstream must be http://HOST:PORT, got {url}")))?;
    let hostport = hostport.trim_end_matches('/');
    let hostport = if hostport.starts_with("localhost:") { hostport.replacen("localhost", "127.0.0.1", 1) } else { hostport.to_string() };
    hostport.parse().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("upstream {url}: {e}")))
}

impl Shared {
    fn bump(&self, op: &str, f: impl FnOnce(&mut OpStats)) {
        f(self.counters.lock().expect("fault proxy counters").by_operation.entry(op.to_string()).or_default());
    }

    fn decide(&self, op: &Operation) -> Decision {
        let mut c = self.counters.lock().expect("fault proxy counters");
        c.by_operation.entry(op.name.clone()).or_default().requests += 1;
        if op.name == "STS.AssumeRole" {
            if let Some(account) = role_arn_account(&op.subject) {
                *c.assume_role_by_account.entry(account).or_default() += 1;
            }
        }
        let mut d = Decision { delay: self.plan.latency, ..Decision::default() };
        for (i, rule) in self.plan.rules.iter().enumerate() {
            if !rule.target.matches(op) {
                continue;
            }
            c.rules[i].matched += 1;
            let seq = c.draws.entry((i, op.name.clone())).or_default();
            let draw = unit_draw(self.plan.seed, i, &op.name, *seq);
            *seq += 1;
            if draw >= rule.rate {
                continue;
            }
            c.rules[i].fired += 1;
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

    /// True when the request is signed with a session token the proxy shortened and that has expired.
    fn token_expired(&self, token: Option<&str>) -> bool {
        let Some(token) = token else { return false };
        let c = self.counters.lock().expect("fault proxy counters");
        c.short_tokens.get(token).is_some_and(|exp| Instant::now() >= *exp)
    }
}

/// One client connection: requests in sequence (keep-alive) until the client closes it.
async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let mut conn = BufReader::new(stream);
    loop {
        let req = match http::read_request(&mut conn).await {
            Ok(Some(r)) => r,
            _ => return,
        };
        let op = operation::identify(&req);
        let head = req.method == "HEAD";
        if shared.token_expired(req.header("x-amz-security-token")) {
            shared.bump(&op.name, |s| {
                s.requests += 1;
                s.expired_tokens += 1;
            });
            if conn.write_all(&answers::expired_token(&op).to_client_bytes(head)).await.is_err() {
                return;
            }
            continue;
        }
        let d = shared.decide(&op);
        if !d.delay.is_zero() {
            shared.bump(&op.name, |s| s.delayed += 1);
            tokio::time::sleep(d.delay).await;
        }
        let resp = match d.answer {
            Some(Fault::Reset) => {
                shared.bump(&op.name, |s| s.resets += 1);
                // SO_LINGER 0: closing sends RST instead of FIN.
                let _ = conn.get_ref().set_zero_linger();
                return;
            }
            Some(Fault::Throttle) => {
                shared.bump(&op.name, |s| s.throttled += 1);
                answers::throttle(&op)
            }
            Some(Fault::ServerError) => {
                shared.bump(&op.name, |s| s.server_errors += 1);
                answers::server_error(&op)
            }
            Some(Fault::AccessDenied) => {
                shared.bump(&op.name, |s| s.access_denied += 1);
                answers::access_denied(&op)
            }
            Some(Fault::Stall(hold)) => {
                let resp = forward(&shared, &op, &req, d.short_credentials).await;
                shared.bump(&op.name, |s| s.stalled += 1);
                tokio::time::sleep(hold).await;
                resp
            }
            _ => forward(&shared, &op, &req, d.short_credentials).await,
        };
        if conn.write_all(&resp.to_client_bytes(head)).await.is_err() {
            return;
        }
    }
}

async fn forward(shared: &Shared, op: &Operation, req: &http::Request, short_credentials: Option<Duration>) -> http::Response {
    let result = async {
        let mut up = BufReader::new(TcpStream::connect(shared.upstream).await?);
        up.get_mut().write_all(&req.to_upstream_bytes()).await?;
        http::read_response(&mut up, req.method == "HEAD").await
    }
    .await;
    match result {
        Ok(mut resp) => {
            shared.bump(&op.name, |s| s.forwarded += 1);
            if let (Some(life), true) = (short_credentials, resp.status == 200) {
                if let Some(token) = shorten_expiry(&mut resp, life) {
                    shared.counters.lock().expect("fault proxy counters").short_tokens.insert(token, Instant::now() + life);
                    shared.bump(&op.name, |s| s.short_credentials += 1);
                }
            }
            resp
        }
        Err(e) => answers::bad_gateway(&e.to_string()),
    }
}

/// Rewrites `<Expiration>` in an AssumeRole answer to `life` from now; returns the session token.
fn shorten_expiry(resp: &mut http::Response, life: Duration) -> Option<String> {
    let body = String::from_utf8_lossy(&resp.body).into_owned();
    let token = between(&body, "<SessionToken>", "</SessionToken>")?.to_string();
    let old = between(&body, "<Expiration>", "</Expiration>")?;
    let new = iso8601(SystemTime::now() + life);
    resp.body = body.replacen(&format!("<Expiration>{old}</Expiration>"), &format!("<Expiration>{new}</Expiration>"), 1).into_bytes();
    Some(token)
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let len = s[start..].find(close)?;
    Some(&s[start..start + len])
}

/// The account id in `RoleArn=arn:aws:iam::ACCOUNT:role/...` of a decoded AssumeRole request.
fn role_arn_account(subject: &str) -> Option<String> {
    let arn = subject.split("RoleArn=").nth(1)?.split('&').next()?;
    arn.split(':').nth(4).map(str::to_string)
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC), as STS writes `Expiration`.
fn iso8601(t: SystemTime) -> String {
    orgtrail_state::format_millis(t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64)
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
    use super::*;

    #[test]
    fn iso8601_formats_utc() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(UNIX_EPOCH + Duration::from_secs(1_709_210_096)), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn draws_are_reproducible_and_near_the_rate() {
        let fired = |seed| (0..10_000).filter(|&i| unit_draw(seed, 0, "S3.PutObject", i) < 0.3).count();
        assert_eq!(fired(1), fired(1));
        assert_ne!((0..64).map(|i| unit_draw(1, 0, "x", i) < 0.5).collect::<Vec<_>>(), (0..64).map(|i| unit_draw(2, 0, "x", i) < 0.5).collect::<Vec<_>>());
        assert!((2800..3200).contains(&fired(1)), "{}", fired(1));
    }

    #[test]
    fn targets_match_operation_patterns_and_text() {
        let op = Operation { name: "STS.AssumeRole".into(), protocol: operation::Protocol::Query, subject: "/  Action=AssumeRole&RoleArn=arn:aws:iam::111122223333:role/R".into() };
        assert!(Target::all().matches(&op));
        assert!(Target::op("STS.*").matches(&op));
        assert!(!Target::op("S3.*").matches(&op));
        assert!(Target::op("STS.AssumeRole").containing("111122223333").matches(&op));
        assert!(!Target::op("STS.AssumeRole").containing("444455556666").matches(&op));
        assert_eq!(role_arn_account(&op.subject).as_deref(), Some("111122223333"));
    }

    #[test]
    fn shortened_expiry_replaces_the_timestamp() {
        let body = "<AssumeRoleResult><Credentials><SessionToken>tok</SessionToken><Expiration>2099-01-01T00:00:00.000Z</Expiration></Credentials></AssumeRoleResult>";
        let mut resp = http::Response::new(200, "text/xml", body);
        assert_eq!(shorten_expiry(&mut resp, Duration::from_secs(5)).as_deref(), Some("tok"));
        let text = String::from_utf8(resp.body).unwrap();
        assert!(!text.contains("2099") && text.contains("<Expiration>20"), "{text}");
    }
}
