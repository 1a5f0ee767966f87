//! A resume whose central steps all ended in an earlier invocation of the run observes them again
//! (the spec: never "done earlier") while the waves go on, instead of holding every member
//! account back for their few dozen sequential calls (about 2 s at 50 ms a call: most of a resume's
//! time to its first member call). The waves run on their own stop flag: the caller's (Ctrl-C, a
//! lost lease) is forwarded to it, and a central step that fails sets it, so no new account
//! starts, in-flight ones finish, and the run reports the central failure as if it had come first.
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{central_failed, ApplyOptions, RolloutError};
use crate::executor::{Cancel, CentralResult, Executor, Stop, WaveResult};
use crate::plan::Plan;
use crate::steps::Ctx;

/// How often the caller's stop flag is looked at (it is a flag, not a notification).
const FORWARD_EVERY: Duration = Duration::from_millis(50);

type Waves = Vec<(String, WaveResult)>;

pub(super) async fn central_and_waves(exec: &Executor<'_>, outer: &Cancel, plan: &Plan, opts: &ApplyOptions) -> Result<(Vec<CentralResult>, Stop, Waves), RolloutError> {
    let waves_cancel = Cancel::default();
    let waves_exec = Executor { ctx: Ctx { aws: exec.ctx.aws, config: exec.ctx.config, org: exec.ctx.org, caller: exec.ctx.caller, targets: exec.ctx.targets, apply: exec.ctx.apply }, store: exec.store, run: exec.run.clone(), cancel: waves_cancel.clone(), sink: exec.sink };
    let finished = AtomicBool::new(false);
    let central = async {
        let central = exec.run_central().await;
        if central.as_ref().is_ok_and(|c| central_failed(c)) {
            waves_cancel.cancel();
        }
        central
    };
    let waves = async {
        let waves = waves_exec.run_waves(plan, opts.only_wave.as_deref(), opts.only_accounts.as_deref()).await;
        finished.store(true, Ordering::SeqCst);
        waves
    };
    let forward = async {
        while !finished.load(Ordering::SeqCst) {
            if outer.is_cancelled() {
                waves_cancel.cancel();
                break;
            }
            tokio::time::sleep(FORWARD_EVERY).await;
        }
    };
    let (central, waves, ()) = tokio::join!(central, waves, forward);
    let (central, (stop, waves)) = (central?, waves?);
    let stop = if central_failed(&central) { Stop::CentralFailed } else { stop };
    Ok((central, stop, waves))
}
