//! indicatif progress for `apply`: one bar per wave (done/failed/in flight, rate, ETA) on stderr,
//! only when stderr is a terminal and neither `--json` nor `--no-progress` was given.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use orgtrail_state::StepStatus;

use crate::executor::{AccountOutcome, Sink, WaveResult};
use crate::plan::PlannedWave;

pub struct Progress {
    multi: MultiProgress,
    bar: Mutex<Option<ProgressBar>>,
    failed: AtomicUsize,
    in_flight: AtomicUsize,
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        let target = if enabled { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        Progress { multi: MultiProgress::with_draw_target(target), bar: Mutex::new(None), failed: AtomicUsize::new(0), in_flight: AtomicUsize::new(0) }
    }

    /// Accounts started and not yet finished in the current wave.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    fn message(&self) -> String {
        format!("{} failed, {} in flight", self.failed.load(Ordering::Relaxed), self.in_flight.load(Ordering::Relaxed))
    }
}

impl Sink for Progress {
    fn wave_started(&self, wave: &PlannedWave, already_done: usize) {
        self.failed.store(0, Ordering::Relaxed);
        self.in_flight.store(0, Ordering::Relaxed);
        let bar = self.multi.add(ProgressBar::new(wave.accounts.len() as u64));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} done, {msg}, {per_sec}, ETA {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(wave.name.clone());
        bar.set_position(already_done as u64);
        bar.set_message(self.message());
        *self.bar.lock().expect("bar lock") = Some(bar);
    }

    fn account_started(&self, _wave: &str, _account: &str) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        if let Some(bar) = &*self.bar.lock().expect("bar lock") {
            bar.set_message(self.message());
        }
    }

    fn account_finished(&self, _wave: &str, _account: &str, outcome: &AccountOutcome) {
        if !matches!(outcome, AccountOutcome::NotStarted) {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
        if let Some(bar) = &*self.bar.lock().expect("bar lock") {
            bar.set_message(self.message());
            match outcome {
                AccountOutcome::Failed { .. } => {
                    self.failed.fetch_add(1, Ordering::Relaxed);
                    bar.set_message(self.message());
                }
                AccountOutcome::NotStarted => {}
                _ => bar.inc(1),
            }
        }
    }

    fn wave_finished(&self, _wave: &str, result: &WaveResult) {
        if let Some(bar) = self.bar.lock().expect("bar lock").take() {
            let note = if result.halted { ", halted" } else if result.cancelled { ", interrupted" } else { "" };
            bar.set_message(format!("{}{note}", self.message()));
            bar.abandon();
        }
    }

    fn step_finished(&self, target: &str, step: &str, status: &StepStatus) {
        // Central steps print a line each; member steps show in the bar.
        if self.bar.lock().expect("bar lock").is_none() {
            let _ = self.multi.println(format!("{step:>18}  {target}  {}", super::status_line(status)));
        }
    }
}
