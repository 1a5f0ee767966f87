//! Shared rollout state in S3 (issue 8), end to end: the real `orgtrail` binary on two "machines"
//! (two empty cache directories) against the emulator, which honours `If-None-Match` and
//! `If-Match` on PutObject. The fault proxy's latency makes runs long enough to kill, pause and
//! race them.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use orgtrail_state::{now_millis, Record, Store};
use orgtrail_tests::fault_proxy::{FaultPlan, FaultProxy};
use orgtrail_tests::harness::{json, stderr, stdout};
use orgtrail_tests::Sandbox;
use serde_json::Value;

const BUCKET: &str = "orgtrail-shared-state";
const PREFIX: &str = "team/prod";
const CHECKPOINT_SECONDS: u64 = 1;

fn url() -> String {
    format!("s3://{BUCKET}/{PREFIX}")
}

/// The rollout sandbox (MFA Delete off, so a run converges) with a one-second checkpoint
/// interval and, when `in_config`, the state URL in `[state] url` instead of on the command line.
async fn sandbox(members: usize, in_config: bool) -> Sandbox {
    let sb = Sandbox::new(members).await.unwrap();
    sb.edit_config(|c| {
        let c = c.mfa_delete(false).add("state.checkpoint_interval_seconds", CHECKPOINT_SECONDS as i64);
        if in_config { c.add("state.url", url()) } else { c }
    });
    sb
}

/// A machine: its own cache directory (where orgtrail keeps the working copy of the remote state).
struct Machine {
    cache: tempfile::TempDir,
}

impl Machine {
    fn new() -> Machine {
        Machine { cache: tempfile::tempdir().unwrap() }
    }

    /// `orgtrail ARGS` on this machine, with a short lock lease.
    fn command(&self, sb: &Sandbox, args: &[&str], lease_seconds: u64) -> Command {
        let mut cmd = sb.command(args);
        cmd.env("XDG_CACHE_HOME", self.cache.path()).env("ORGTRAIL_STATE_LEASE_SECONDS", lease_seconds.to_string());
        cmd
    }

    fn spawn_apply(&self, sb: &Sandbox, endpoint: &str, lease_seconds: u64) -> Child {
        self.command(sb, &["apply", "--json", "--state", &url(), "--endpoint-url", endpoint], lease_seconds)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The working copy orgtrail pulled into this machine's cache, if any.
    fn working_copy(&self) -> Option<PathBuf> {
        let dir = self.cache.path().join("orgtrail");
        let entries: Vec<PathBuf> = std::fs::read_dir(&dir).ok()?.map(|e| e.unwrap().path()).collect();
        assert!(entries.len() <= 1, "one working copy per state URL: {entries:?}");
        entries.into_iter().next()
    }
}

/// The remote state as it is now: (ETag, latest run id, records), `None` without one.
async fn remote_state(sb: &Sandbox) -> Option<(String, String, Vec<Record>)> {
    let out = sb.s3().get_object().bucket(BUCKET).key(format!("{PREFIX}/state.db")).send().await.ok()?;
    let etag = out.e_tag.clone().unwrap();
    let bytes = out.body.collect().await.unwrap().into_bytes();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("state.db"), &bytes).unwrap();
    let (run, records) = latest_records(dir.path())?;
    Some((etag, run, records))
}

fn latest_records(dir: &Path) -> Option<(String, Vec<Record>)> {
    let store = Store::open(dir).unwrap();
    let run = store.runs().unwrap().first()?.id.clone();
    let records = store.records(&run).unwrap();
    Some((run, records))
}

fn by_step(records: &[Record]) -> BTreeMap<(String, String), Record> {
    records.iter().map(|r| ((r.target.clone(), r.step.clone()), r.clone())).collect()
}

fn done_member_steps(records: &[Record]) -> usize {
    records.iter().filter(|r| r.wave != "central" && r.status.kind() == "done").count()
}

async fn lock_body(sb: &Sandbox) -> Option<Value> {
    let out = sb.s3().get_object().bucket(BUCKET).key(format!("{PREFIX}/lock.json")).send().await.ok()?;
    Some(serde_json::from_slice(&out.body.collect().await.unwrap().into_bytes()).unwrap())
}

/// Waits until the remote state holds at least `steps` done member steps.
async fn wait_for_checkpoint(sb: &Sandbox, child: &mut Child, steps: usize) -> (String, String, Vec<Record>) {
    let t = Instant::now();
    loop {
        if let Some(state) = remote_state(sb).await.filter(|(_, _, r)| done_member_steps(r) >= steps) {
            return state;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the apply ended ({status}) before a checkpoint with {steps} done member steps");
        }
        assert!(t.elapsed() < Duration::from_secs(120), "no checkpoint with {steps} done member steps in 120 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn output_of(child: Child) -> Output {
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_on_machine_a_resumed_on_machine_b_redoes_nothing_before_the_last_checkpoint() {
    let sb = sandbox(150, false).await;
    // Two accounts at a time: a member account costs 2 round trips since the ListTrails search
    // (issue 14), so the waves must be narrow for the run to outlast the checkpoints below.
    sb.edit_config(|c| c.set("access.max_concurrency", 2i64).set("wave[sandbox].max_concurrency", 2i64).set("wave[rest].max_concurrency", 2i64));
    let proxy = FaultProxy::start(&sb.emulator.endpoint(), FaultPlan::seeded(11).latency(Duration::from_millis(40))).unwrap();
    let (a, b) = (Machine::new(), Machine::new());

    let mut first = a.spawn_apply(&sb, &proxy.url(), 60);
    let a_pid = first.id();
    let (_, _, early) = wait_for_checkpoint(&sb, &mut first, 40).await;
    // Past the first checkpoint, and more work that only the next ones carry: until the first
    // checkpointed member step is older than two checkpoint intervals (the bound checked below).
    let oldest = early.iter().filter(|r| r.wave != "central" && r.status.kind() == "done").map(|r| r.updated_at).min().unwrap();
    let until = oldest + 2 * (CHECKPOINT_SECONDS * 1000 + 1000) + 500;
    tokio::time::sleep(Duration::from_millis(until.saturating_sub(now_millis()).max(1500))).await;
    first.kill().unwrap(); // SIGKILL: no last push, the lock stays behind with a live lease
    let killed_at = now_millis();
    let out = output_of(first);
    assert_eq!(out.status.code(), None, "killed, not finished: {}", stderr(&out));

    let (checkpoint_etag, run, checkpoint) = remote_state(&sb).await.expect("a checkpoint in S3");
    let (local_run, local) = latest_records(&a.working_copy().expect("machine A's working copy")).unwrap();
    assert_eq!(local_run, run);
    let checkpoint_by_step = by_step(&checkpoint);
    // The work lost with machine A: done in its working copy, not in S3. It is at most the last
    // checkpoint interval's (plus the push in flight when it died).
    let lost: Vec<&Record> = local.iter().filter(|r| r.status.kind() == "done" && checkpoint_by_step[&(r.target.clone(), r.step.clone())].status.kind() != "done").collect();
    let bound = killed_at - 2 * (CHECKPOINT_SECONDS * 1000 + 1000);
    for r in &lost {
        assert!(r.updated_at >= bound, "{}/{} finished {} ms before the kill but never reached S3", r.target, r.step, killed_at - r.updated_at);
    }
    assert!(checkpoint.iter().any(|r| r.wave != "central" && r.status.kind() == "done" && r.updated_at < bound), "the run was long enough for older work to be checkpointed");
    println!("at the kill: {} member steps done in S3, {} more only on machine A", done_member_steps(&checkpoint), lost.len());

    // Machine B: an empty cache, the same URL. A's lease is still running: --force-unlock names it.
    let out = b.command(&sb, &["apply", "--json", "--state", &url(), "--force-unlock", "--endpoint-url", &proxy.url()], 60).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("removed the lock of") && err.contains(&format!("pid {a_pid}")) && err.contains(&format!("run {run}")), "{err}");
    let report = json(&out);
    assert_eq!(report["report"]["run"], run.as_str(), "the same run continued");
    assert_eq!(report["report"]["resumed"], true);
    assert_eq!(report["report"]["outcome"]["outcome"], "converged");
    // Central steps are observed again on resume (issue 11); nothing drifted, so nothing written there.
    assert!(report["report"]["central"].as_array().unwrap().iter().all(|c| c["changes"].as_array().unwrap().iter().all(|ch| ch["action"] == "no-change")), "central steps: no change");

    let (final_etag, final_run, finished) = remote_state(&sb).await.unwrap();
    assert_ne!(final_etag, checkpoint_etag);
    assert_eq!(final_run, run);
    assert_eq!(finished.len(), checkpoint.len(), "no record lost or added");
    for r in &finished {
        assert_eq!(r.status.kind(), "done", "{}/{}", r.target, r.step);
        let before = &checkpoint_by_step[&(r.target.clone(), r.step.clone())];
        if before.status.kind() == "done" && r.wave != "central" {
            assert_eq!((r.attempts, r.updated_at), (before.attempts, before.updated_at), "{}/{} was checkpointed done and ran again", r.target, r.step);
        }
    }
    assert!(lock_body(&sb).await.is_none(), "B released the lock");

    // `status` from a third machine reads the remote state without a lock.
    let c = Machine::new();
    let out = c.command(&sb, &["status", "--json", "--state", &url()], 60).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let st = json(&out);
    assert_eq!(st["run"]["id"], run.as_str());
    assert_eq!(st["run"]["outcome"]["outcome"], "converged");
    assert_eq!(st["state_dir"], url().as_str());
    assert!(c.working_copy().is_none(), "status keeps no working copy");

    // The bucket orgtrail created on first use is hardened.
    let s3 = sb.s3();
    let versioning = s3.get_bucket_versioning().bucket(BUCKET).send().await.unwrap();
    assert_eq!(versioning.status.map(|s| s.as_str().to_string()).as_deref(), Some("Enabled"));
    let sse = s3.get_bucket_encryption().bucket(BUCKET).send().await.unwrap();
    let rule = &sse.server_side_encryption_configuration.unwrap().rules[0];
    assert_eq!(rule.apply_server_side_encryption_by_default.as_ref().unwrap().sse_algorithm.as_str(), "aws:kms");
    let bpa = s3.get_public_access_block().bucket(BUCKET).send().await.unwrap().public_access_block_configuration.unwrap();
    assert_eq!((bpa.block_public_acls, bpa.ignore_public_acls, bpa.block_public_policy, bpa.restrict_public_buckets), (Some(true), Some(true), Some(true), Some(true)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_applies_on_one_remote_state_exactly_one_runs() {
    let sb = sandbox(30, true).await;
    let proxy = FaultProxy::start(&sb.emulator.endpoint(), FaultPlan::seeded(12).latency(Duration::from_millis(40))).unwrap();
    let (a, b) = (Machine::new(), Machine::new());
    // The URL comes from `[state] url` in the config this time.
    let mut first = a.command(&sb, &["apply", "--json", "--endpoint-url", &proxy.url()], 60).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let t = Instant::now();
    while !lock_body(&sb).await.is_some_and(|l| l["run"].is_string()) {
        assert!(first.try_wait().unwrap().is_none(), "the first apply ended before it named its run in the lock");
        assert!(t.elapsed() < Duration::from_secs(60), "the first apply never took the lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let second = b.command(&sb, &["apply", "--json", "--endpoint-url", &proxy.url()], 60).output().unwrap();
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    let err = stderr(&second);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string();
    for expected in [format!("pid {}", first.id()), host, "started 20".into(), "run run-1".into(), "lease until 20".into(), "--force-unlock".into(), format!("s3://{BUCKET}/{PREFIX}/lock.json")] {
        assert!(err.contains(&expected), "{expected:?} missing from: {err}");
    }
    assert!(b.working_copy().is_none(), "the refused apply pulled nothing");

    let first = output_of(first);
    assert_eq!(first.status.code(), Some(0), "the holder ran undisturbed: {}", stderr(&first));
    assert_eq!(json(&first)["report"]["outcome"]["outcome"], "converged");
    let (_, run, records) = remote_state(&sb).await.unwrap();
    assert_eq!(run, "run-1");
    assert!(records.iter().all(|r| r.status.kind() == "done" && r.attempts == 1), "one run did everything once");

    // `state show` names the object; the lock is free again.
    let out = b.command(&sb, &["state", "show", "--json"], 60).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let show = json(&out);
    let head = sb.s3().head_object().bucket(BUCKET).key(format!("{PREFIX}/state.db")).send().await.unwrap();
    assert_eq!(show["state"]["etag"], head.e_tag.unwrap().as_str());
    assert_eq!(show["state"]["size"], head.content_length.unwrap());
    assert!(show["lock"].is_null(), "{show:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_lease_expired_is_replaced_and_its_next_write_fails_without_losing_the_newer_state() {
    let sb = sandbox(60, false).await;
    let proxy = FaultProxy::start(&sb.emulator.endpoint(), FaultPlan::seeded(13).latency(Duration::from_millis(20))).unwrap();
    let (a, b) = (Machine::new(), Machine::new());
    let lease = 2;

    let mut old = a.spawn_apply(&sb, &proxy.url(), lease);
    let old_pid = old.id();
    wait_for_checkpoint(&sb, &mut old, 10).await;
    // A pause longer than the lease (a suspended laptop, a stalled runner): no renewals.
    assert_eq!(unsafe { libc::kill(old_pid as i32, libc::SIGSTOP) }, 0);
    tokio::time::sleep(Duration::from_secs(lease + 1)).await;

    let out = b.command(&sb, &["apply", "--json", "--state", &url(), "--endpoint-url", &proxy.url()], lease).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("took over the state lock of") && err.contains(&format!("pid {old_pid}")) && err.contains("lease had expired"), "{err}");
    let report = json(&out);
    assert_eq!(report["report"]["resumed"], true, "the new holder continued the old holder's run");
    assert_eq!(report["report"]["outcome"]["outcome"], "converged");
    let (newer_etag, run, newer) = remote_state(&sb).await.unwrap();
    assert!(newer.iter().all(|r| r.status.kind() == "done"));

    // The old holder wakes up: its next renewal or checkpoint finds the lock gone.
    assert_eq!(unsafe { libc::kill(old_pid as i32, libc::SIGCONT) }, 0);
    let t = Instant::now();
    while old.try_wait().unwrap().is_none() {
        assert!(t.elapsed() < Duration::from_secs(120), "the old holder never noticed it lost the lock");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = output_of(old);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("lost the state lock s3://{BUCKET}/{PREFIX}/lock.json")), "{err}");
    assert!(err.contains("wrote nothing more to the remote state"), "{err}");
    assert!(stdout(&out).is_empty(), "no report for a run whose state could not be saved: {}", stdout(&out));

    let (etag, still_run, still) = remote_state(&sb).await.unwrap();
    assert_eq!(etag, newer_etag, "the newer state was not overwritten");
    assert_eq!((still_run, still), (run, newer));
    assert!(lock_body(&sb).await.is_none(), "the old holder took no lock back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_push_of_a_stale_pull_is_a_lost_race_and_overwrites_nothing() {
    let sb = sandbox(5, true).await;
    let (operator, runner) = (Machine::new(), Machine::new());
    let first = runner.command(&sb, &["apply", "--json"], 60).output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));

    let pulled = operator.command(&sb, &["state", "pull", "--json"], 60).output().unwrap();
    assert!(pulled.status.success(), "{}", stderr(&pulled));
    let (pulled_etag, _, _) = remote_state(&sb).await.unwrap();
    assert_eq!(json(&pulled)["etag"], pulled_etag.as_str());
    let copy = operator.working_copy().expect("the pulled working copy");
    assert_eq!(latest_records(&copy).unwrap().0, "run-1");

    // Meanwhile a CI runner applies again: newer state in S3.
    let second = runner.command(&sb, &["apply", "--json", "--new-run"], 60).output().unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let (newer_etag, newer_run, _) = remote_state(&sb).await.unwrap();
    assert_eq!(newer_run, "run-2");
    assert_ne!(newer_etag, pulled_etag);

    let stale = operator.command(&sb, &["state", "push"], 60).output().unwrap();
    assert_eq!(stale.status.code(), Some(1), "{}", stderr(&stale));
    let err = stderr(&stale);
    assert!(err.contains("lost race") && err.contains(&pulled_etag) && err.contains(&newer_etag), "{err}");
    assert_eq!(remote_state(&sb).await.unwrap().0, newer_etag, "nothing overwritten");
    assert!(lock_body(&sb).await.is_none(), "the refused push released its lock");

    // Pull again, then the push is accepted (the same state goes back).
    assert!(operator.command(&sb, &["state", "pull"], 60).output().unwrap().status.success());
    assert_eq!(latest_records(&copy).unwrap().0, "run-2");
    let push = operator.command(&sb, &["state", "push", "--json"], 60).output().unwrap();
    assert!(push.status.success(), "{}", stderr(&push));
    assert_eq!(remote_state(&sb).await.unwrap().1, "run-2");
}
