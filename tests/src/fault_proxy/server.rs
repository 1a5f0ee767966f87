//! The proxy itself: a loopback listener on a runtime of its own, each connection's requests
//! decided by the plan, answered with a fault or forwarded to the emulator, and counted.
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::credentials::ShortTokens;
use super::operation::{self, Operation};
use super::plan::{Decision, Fault, FaultPlan};
use super::stats::{Counters, OpStats, RuleHits};
use super::{answers, http};

struct Shared {
    upstream: SocketAddr,
    plan: FaultPlan,
    counters: Mutex<Counters>,
    short_tokens: ShortTokens,
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
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
        let shared = Arc::new(Shared { upstream, plan, counters: Mutex::new(Counters::new(rules)), short_tokens: ShortTokens::default() });
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
        f(self.counters.lock().expect("fault proxy counters").op(op));
    }

    /// Counts the request and asks the plan what to do with it.
    fn decide(&self, op: &Operation) -> Decision {
        let mut c = self.counters.lock().expect("fault proxy counters");
        c.count_request(op);
        self.plan.decide(op, &mut c)
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
        if shared.short_tokens.expired(req.header("x-amz-security-token")) {
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
                if shared.short_tokens.shorten(&mut resp, life) {
                    shared.bump(&op.name, |s| s.short_credentials += 1);
                }
            }
            resp
        }
        Err(e) => answers::bad_gateway(&e.to_string()),
    }
}

