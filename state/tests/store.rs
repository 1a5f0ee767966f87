use orgtrail_state::{force_unlock, LockHolder, NewRun, RunOutcome, StateError, StepStatus, Store};

fn new_run(org: &str) -> NewRun {
    NewRun { config_fingerprint: "fp1".into(), config_path: "orgtrail.toml".into(), org_id: org.into(), inventory_json: "{}".into(), plan_json: "{}".into() }
}

fn holder(pid: u32) -> LockHolder {
    LockHolder { host: "host-a".into(), pid, user: "ops".into(), started_at: 1_795_609_705_000, command: "orgtrail apply".into() }
}

fn done() -> StepStatus {
    StepStatus::Done { detail: Some("created".into()) }
}

#[test]
fn records_survive_reopen_and_count_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let run = {
        let s = Store::open(dir.path()).unwrap();
        let run = s.create_run(new_run("o-abc")).unwrap();
        assert_eq!(run, "run-1");
        s.record(&run, "111111111111", "canary", "check-member", &StepStatus::Running).unwrap();
        s.record(&run, "111111111111", "canary", "check-member", &StepStatus::Failed { reason: "denied".into(), error_code: Some("AccessDenied".into()) }).unwrap();
        s.record(&run, "111111111111", "canary", "check-member", &StepStatus::Running).unwrap();
        s.record(&run, "111111111111", "canary", "check-member", &done()).unwrap();
        run
    };
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.step_status(&run, "111111111111", "check-member").unwrap(), Some(done()));
    let recs = s.records(&run).unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].attempts, 2);
    assert_eq!(s.step_status(&run, "111111111111", "other").unwrap(), None);
}

#[test]
fn a_run_is_open_until_it_finishes_and_manual_actions_do_not_keep_it_open() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let r1 = s.create_run(new_run("o-abc")).unwrap();
    assert!(s.latest_open_run().unwrap().is_some_and(|r| r.open && r.outcome.is_none()), "killed before any outcome: open");
    for open in [
        RunOutcome::Halted { wave: "canary".into() },
        RunOutcome::Paused { wave: "canary".into() },
        RunOutcome::Interrupted,
        RunOutcome::CentralFailed { step: "org-trail".into() },
        RunOutcome::Failed { accounts: 2 },
        RunOutcome::Restricted { pending_accounts: 7 },
    ] {
        s.finish_run(&r1, open.clone()).unwrap();
        let run = s.latest_open_run().unwrap().unwrap_or_else(|| panic!("{open:?} stays open"));
        assert_eq!((run.id.as_str(), run.outcome.as_ref()), (r1.as_str(), Some(&open)));
        assert_eq!(run.why, open.describe());
    }
    s.finish_run(&r1, RunOutcome::Converged { manual_actions: 1 }).unwrap();
    assert!(s.latest_open_run().unwrap().is_none(), "converged with a manual action left: finished");
    let run = s.run(&r1).unwrap();
    assert!(!run.open);
    assert_eq!(run.why, "converged, 1 manual action left");
    let r2 = s.create_run(new_run("o-abc")).unwrap();
    assert_eq!(r2, "run-2");
    assert_eq!(s.run(&r1).unwrap().outcome, Some(RunOutcome::Converged { manual_actions: 1 }), "a finished run is not superseded");
    assert_eq!(s.runs().unwrap().iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["run-2", "run-1"]);
    assert!(matches!(s.finish_run("run-9", RunOutcome::Interrupted), Err(StateError::NoSuchRun(_))));
}

#[test]
fn a_new_run_supersedes_the_open_one() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let r1 = s.create_run(new_run("o-abc")).unwrap();
    s.finish_run(&r1, RunOutcome::Halted { wave: "canary".into() }).unwrap();
    let r2 = s.create_run(new_run("o-abc")).unwrap();
    let old = s.run(&r1).unwrap();
    assert_eq!(old.outcome, Some(RunOutcome::Superseded { by: r2.clone() }));
    assert!(!old.open, "never resumed again");
    assert_eq!(s.latest_open_run().unwrap().map(|r| r.id), Some(r2));
}

#[test]
fn outcomes_written_by_earlier_versions_still_read() {
    for (json, open) in [(r#"{"outcome":"converged"}"#, false), (r#"{"outcome":"needs-manual-action"}"#, false), (r#"{"outcome":"halted","wave":"w"}"#, true), (r#"{"outcome":"interrupted"}"#, true), (r#"{"outcome":"failed"}"#, true)] {
        let o: RunOutcome = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(o.is_open(), open, "{json}");
    }
}

#[test]
fn wave_counts_classify_targets() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let run = s.create_run(new_run("o-abc")).unwrap();
    let failed = StepStatus::Failed { reason: "x".into(), error_code: None };
    let pending = StepStatus::Pending;
    s.record_many(&run, [
        ("a1", "canary", "s1", &done()), ("a1", "canary", "s2", &done()),
        ("a2", "canary", "s1", &done()), ("a2", "canary", "s2", &failed),
        ("b1", "rest", "s1", &pending), ("b1", "rest", "s2", &pending),
    ]).unwrap();
    let counts = s.wave_counts(&run).unwrap();
    assert_eq!(counts.len(), 2);
    assert_eq!((counts[0].wave.as_str(), counts[0].done, counts[0].failed), ("canary", 1, 1));
    assert_eq!((counts[1].wave.as_str(), counts[1].pending, counts[1].targets), ("rest", 1, 1));
    assert_eq!(s.failed(&run).unwrap().len(), 1);
}

#[test]
fn second_lock_is_refused_with_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let guard = s.lock(&holder(4242)).unwrap();
    assert!(guard.stale_holder.is_none());
    let other = Store::open(dir.path()).unwrap();
    match other.lock(&holder(777)) {
        Err(e @ StateError::Locked { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("pid 4242") && msg.contains("host-a") && msg.contains("2026-11-25T12:28:25Z"), "{msg}");
            assert!(msg.contains("--force-unlock"), "{msg}");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(guard);
    other.lock(&holder(777)).expect("free after the holder releases it");
}

#[test]
fn holder_file_of_a_dead_process_is_taken_over_and_force_unlock_names_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lock.json"), serde_json::to_vec(&holder(99999)).unwrap()).unwrap();
    let s = Store::open(dir.path()).unwrap();
    let guard = s.lock(&holder(1)).unwrap();
    assert_eq!(guard.stale_holder.as_ref().map(|h| h.pid), Some(99999));
    drop(guard);
    let _g = s.lock(&holder(5)).unwrap();
    let removed = force_unlock(dir.path()).unwrap();
    assert_eq!(removed.map(|h| h.pid), Some(5));
    assert!(!dir.path().join("lock.json").exists());
}

#[test]
fn corrupt_truncated_and_foreign_files_are_reported_never_reset() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open(dir.path()).unwrap();
        let run = s.create_run(new_run("o-abc")).unwrap();
        for i in 0..2000 {
            s.record(&run, &format!("{i:012}"), "w", "step", &done()).unwrap();
        }
    }
    let db = dir.path().join("state.db");
    let bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 8192, "state too small to truncate: {}", bytes.len());

    // Truncated to half.
    std::fs::write(&db, &bytes[..bytes.len() / 2]).unwrap();
    let _ = std::fs::remove_file(dir.path().join("state.db-wal"));
    let err = Store::open(dir.path()).err().expect("truncated state must be refused");
    assert!(matches!(err, StateError::Corrupt { .. }), "{err:?}");
    assert_eq!(std::fs::read(&db).unwrap().len(), bytes.len() / 2, "left untouched");

    // Garbage.
    std::fs::write(&db, b"this is not a database at all, just some text that is long enough to be a header......").unwrap();
    assert!(matches!(Store::open(dir.path()), Err(StateError::Corrupt { .. })));

    // Empty.
    std::fs::write(&db, b"").unwrap();
    let err = Store::open(dir.path()).err().unwrap();
    assert!(err.to_string().contains("empty"), "{err}");
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0);

    // A sound SQLite file that is not an orgtrail state.
    std::fs::remove_file(&db).unwrap();
    rusqlite_free_db(&db);
    let err = Store::open(dir.path()).err().unwrap();
    assert!(err.to_string().contains("not an orgtrail state"), "{err}");
}

fn rusqlite_free_db(path: &std::path::Path) {
    // Any other SQLite database: use the store itself to make one, then drop its meta table.
    let tmp = tempfile::tempdir().unwrap();
    Store::open(tmp.path()).unwrap().snapshot_to(path).unwrap();
    let c = std::process::Command::new("python3")
        .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DROP TABLE meta'); c.commit()", &path.to_string_lossy()])
        .status()
        .unwrap();
    assert!(c.success());
}

#[test]
fn state_of_another_organization_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    s.create_run(new_run("o-first")).unwrap();
    let err = s.create_run(new_run("o-second")).err().unwrap();
    assert!(matches!(&err, StateError::OtherOrganization { state_org, live_org, .. } if state_org == "o-first" && live_org == "o-second"), "{err:?}");
    assert!(s.bind_organization("o-other").is_err());
    s.bind_organization("o-first").unwrap();
}

#[test]
fn credentials_are_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let run = s.create_run(new_run("o-abc")).unwrap();
    let leaky = StepStatus::Failed { reason: "signature mismatch for ASIAY34FZKBOKMUTVV7A".into(), error_code: None };
    assert!(matches!(s.record(&run, "a", "w", "s", &leaky), Err(StateError::SecretRejected { .. })));
    assert_eq!(s.step_status(&run, "a", "s").unwrap(), None);
    let mut bad = new_run("o-abc");
    bad.inventory_json = r#"{"SessionToken":"abc"}"#.into();
    assert!(matches!(s.create_run(bad), Err(StateError::SecretRejected { .. })));
    drop(s);
    let raw = std::fs::read(dir.path().join("state.db")).unwrap();
    let wal = std::fs::read(dir.path().join("state.db-wal")).unwrap_or_default();
    for hay in [raw, wal] {
        assert!(!hay.windows(20).any(|w| w == b"ASIAY34FZKBOKMUTVV7A"));
    }
}

#[test]
fn snapshot_restores_into_an_empty_directory() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let snap = a.path().join("snap.db");
    let run = {
        let s = Store::open(a.path().join("state")).unwrap();
        let run = s.create_run(new_run("o-abc")).unwrap();
        s.record(&run, "a", "w", "s", &done()).unwrap();
        s.snapshot_to(&snap).unwrap();
        run
    };
    Store::restore_from(&snap, b.path()).unwrap();
    let s = Store::open(b.path()).unwrap();
    assert_eq!(s.step_status(&run, "a", "s").unwrap(), Some(done()));
    assert_eq!(s.organization().unwrap().as_deref(), Some("o-abc"));
}

#[test]
fn target_counts_count_each_targets_records_of_the_given_steps_by_kind() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let run = s.create_run(new_run("o-abc")).unwrap();
    let other = s.create_run(new_run("o-abc")).unwrap();
    let manual = StepStatus::NeedsManualAction { instructions: "enable it".into() };
    let failed = StepStatus::Failed { reason: "denied".into(), error_code: None };
    for (target, step, status) in [("a", "s1", done()), ("a", "s2", StepStatus::Pending), ("b", "s1", failed), ("b", "s2", manual.clone()), ("c", "s1", StepStatus::Running), ("c", "old", manual)] {
        s.record(&run, target, "w", step, &status).unwrap();
    }
    s.record(&other, "a", "w", "s1", &StepStatus::Pending).unwrap();
    let counts = s.target_counts(&run, &["s1", "s2"]).unwrap();
    let got: Vec<(&str, usize, usize, usize, usize)> = counts.iter().map(|t| (t.target.as_str(), t.records, t.failed, t.unfinished, t.needs_manual_action)).collect();
    // c's "old" step is not one of the given steps: neither counted nor its manual action.
    assert_eq!(got, vec![("a", 2, 0, 1, 0), ("b", 2, 1, 0, 1), ("c", 1, 0, 1, 0)]);
}

#[test]
fn a_removal_is_continued_until_finished_and_its_records_kept_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (id, resumed) = store.open_removal("o-abc").unwrap();
    assert_eq!((id.as_str(), resumed), ("remove-1", false));
    let item = |position, resource: &str, status: &str| orgtrail_state::RemovalRecord { account: "111111111111".into(), resource: resource.into(), position, action: "remove".into(), status: status.into(), detail: String::new(), updated_at: 0 };
    store.record_removal(&id, &item(2, "cloudwatch-log-group g", "pending")).unwrap();
    store.record_removal(&id, &item(1, "scp orgtrail-tamper-protection", "done")).unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.open_removal("o-abc").unwrap(), ("remove-1".to_string(), true), "an unfinished removal is continued");
    store.record_removal(&id, &item(2, "cloudwatch-log-group g", "done")).unwrap();
    let records = store.removal_records(&id).unwrap();
    assert_eq!(records.iter().map(|r| (r.resource.as_str(), r.status.as_str())).collect::<Vec<_>>(), vec![("scp orgtrail-tamper-protection", "done"), ("cloudwatch-log-group g", "done")]);
    store.finish_removal(&id).unwrap();
    assert_eq!(store.open_removal("o-abc").unwrap().0, "remove-2");
    assert!(store.open_removal("o-other").is_err(), "a state of another organization is refused");
}
