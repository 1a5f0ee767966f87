//! One wave: up to `concurrency` accounts in flight; once failures exceed the tolerance no new
//! account starts, in-flight ones finish, and the wave reports itself halted. Cancellation
//! (Ctrl-C) likewise stops new starts. Pure scheduling: the work per account is a closure.
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use futures::stream::{self, StreamExt};

/// What happened to one account in a wave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountOutcome {
    Done,
    /// Done except for a step an operator must do.
    NeedsManualAction,
    Failed { step: String, reason: String, code: Option<String> },
    /// Not started: the wave halted or the run was cancelled first.
    NotStarted,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaveResult {
    pub outcomes: Vec<(String, AccountOutcome)>,
    /// Failures exceeded the tolerance.
    pub halted: bool,
    pub cancelled: bool,
}

impl WaveResult {
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|(_, o)| matches!(o, AccountOutcome::Failed { .. })).count()
    }

    pub fn count(&self, want: fn(&AccountOutcome) -> bool) -> usize {
        self.outcomes.iter().filter(|(_, o)| want(o)).count()
    }
}

/// Set once by Ctrl-C; checked before each account starts.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

pub async fn run_wave<F, Fut>(accounts: &[String], concurrency: usize, tolerance: usize, cancel: &Cancel, work: F) -> WaveResult
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = AccountOutcome>,
{
    let failures = AtomicUsize::new(0);
    let halted = AtomicBool::new(false);
    let outcomes = stream::iter(accounts.iter().cloned())
        .map(|account| {
            let (failures, halted, work) = (&failures, &halted, &work);
            async move {
                // Checked when the account would start, so in-flight accounts always finish.
                if halted.load(Ordering::SeqCst) || cancel.is_cancelled() {
                    return (account, AccountOutcome::NotStarted);
                }
                let outcome = work(account.clone()).await;
                if matches!(outcome, AccountOutcome::Failed { .. }) && failures.fetch_add(1, Ordering::SeqCst) + 1 > tolerance {
                    halted.store(true, Ordering::SeqCst);
                }
                (account, outcome)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    WaveResult { outcomes, halted: halted.into_inner(), cancelled: cancel.is_cancelled() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{i:012}")).collect()
    }

    fn fail(step: &str) -> AccountOutcome {
        AccountOutcome::Failed { step: step.into(), reason: "x".into(), code: Some("AccessDenied".into()) }
    }

    #[tokio::test]
    async fn respects_concurrency() {
        let in_flight = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let r = run_wave(&ids(40), 5, 0, &Cancel::default(), |_| async {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            AccountOutcome::Done
        })
        .await;
        assert_eq!(r.count(|o| *o == AccountOutcome::Done), 40);
        assert_eq!(peak.load(Ordering::SeqCst), 5);
        assert!(!r.halted);
    }

    #[tokio::test]
    async fn zero_tolerance_halts_after_first_failure_and_lets_in_flight_finish() {
        let started = Mutex::new(Vec::new());
        let accounts = ids(20);
        let r = run_wave(&accounts, 4, 0, &Cancel::default(), |a| {
            started.lock().unwrap().push(a.clone());
            async move {
                if a == format!("{:012}", 1) {
                    // Fails after the first four have all started, whatever order they are polled in.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    fail("assume-role")
                } else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    AccountOutcome::Done
                }
            }
        })
        .await;
        assert!(r.halted);
        assert_eq!(r.failed(), 1);
        // The first four started together; the three others in flight finished as Done.
        assert_eq!(r.count(|o| *o == AccountOutcome::Done), 3);
        assert_eq!(r.count(|o| *o == AccountOutcome::NotStarted), 16);
        assert_eq!(started.lock().unwrap().len(), 4);
    }

    #[tokio::test]
    async fn failures_within_tolerance_do_not_halt() {
        let r = run_wave(&ids(10), 2, 3, &Cancel::default(), |a| async move { if a.ends_with('1') || a.ends_with('2') || a.ends_with('3') { fail("s") } else { AccountOutcome::Done } }).await;
        assert!(!r.halted);
        assert_eq!((r.failed(), r.count(|o| *o == AccountOutcome::Done)), (3, 7));
        let r = run_wave(&ids(10), 1, 2, &Cancel::default(), |a| async move { if a.ends_with('1') || a.ends_with('2') || a.ends_with('3') { fail("s") } else { AccountOutcome::Done } }).await;
        assert!(r.halted, "a fourth... third failure beyond tolerance 2 halts");
        assert_eq!(r.count(|o| *o == AccountOutcome::NotStarted), 6);
    }

    #[tokio::test]
    async fn cancel_stops_new_starts() {
        let cancel = Cancel::default();
        let r = run_wave(&ids(10), 1, 0, &cancel, |a| {
            let cancel = cancel.clone();
            async move {
                if a.ends_with('2') {
                    cancel.cancel();
                }
                AccountOutcome::Done
            }
        })
        .await;
        assert!(r.cancelled && !r.halted);
        assert_eq!(r.count(|o| *o == AccountOutcome::Done), 3);
        assert_eq!(r.count(|o| *o == AccountOutcome::NotStarted), 7);
    }
}
