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
fn only_a_converged_run_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let r1 = s.create_run(new_run("o-abc")).unwrap();
    s.finish_run(&r1, RunOutcome::Halted { wave: "canary".into() }).unwrap();
    let open = s.latest_unfinished_run().unwrap().expect("halted run stays open");
    assert_eq!(open.id, r1);
    assert_eq!(open.outcome, Some(RunOutcome::Halted { wave: "canary".into() }));
    s.finish_run(&r1, RunOutcome::Converged).unwrap();
    assert!(s.latest_unfinished_run().unwrap().is_none());
    let r2 = s.create_run(new_run("o-abc")).unwrap();
    assert_eq!(r2, "run-2");
    assert_eq!(s.runs().unwrap().iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["run-2", "run-1"]);
    assert!(matches!(s.finish_run("run-9", RunOutcome::Failed), Err(StateError::NoSuchRun(_))));
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
