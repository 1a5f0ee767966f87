//! The SQLite store. WAL mode: a record is one small transaction appended to the log (O(1) in the
//! size of the state), readers never block the writer, and a `kill -9` at any moment leaves the
//! last committed record readable on the next open.
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension};
use serde::Serialize;

use crate::lock::{self, LockGuard, LockHolder};
use crate::{find_secret, now_millis, RunOutcome, StateError, StepStatus};

mod heads;
mod records;

pub use heads::ChainHead;
pub use records::{Record, TargetCounts, WaveCounts};

const FORMAT: &str = "orgtrail-state/1";
const DB_FILE: &str = "state.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    config_fingerprint TEXT NOT NULL,
    config_path TEXT NOT NULL,
    org_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    outcome TEXT,
    closed INTEGER NOT NULL DEFAULT 0,
    inventory_json TEXT NOT NULL,
    plan_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    run TEXT NOT NULL,
    target TEXT NOT NULL,
    step TEXT NOT NULL,
    wave TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (run, target, step)
) WITHOUT ROWID;
";

/// What a new run starts with. The inventory and plan are kept so a resume needs no rediscovery
/// and never mixes two plans in one run.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub config_fingerprint: String,
    pub config_path: String,
    pub org_id: String,
    pub inventory_json: String,
    pub plan_json: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub id: String,
    pub config_fingerprint: String,
    pub config_path: String,
    pub org_id: String,
    pub started_at: u64,
    pub updated_at: u64,
    /// The last `apply`'s outcome; `None` while the first is still running (or was killed).
    pub outcome: Option<RunOutcome>,
    /// Open: the next `apply` resumes this run. Finished (converged, or superseded by `--new-run`):
    /// the next `apply` starts a new run. Decided by the outcome alone.
    pub open: bool,
    /// Why the run is open or finished, in words ("converged, 1 manual action left").
    pub why: String,
    #[serde(skip)]
    pub inventory_json: String,
    #[serde(skip)]
    pub plan_json: String,
}

pub struct Store {
    dir: PathBuf,
    db_path: PathBuf,
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (or creates) the state in `dir`. An existing state that fails SQLite's integrity
    /// check, or is not an orgtrail state, is reported as corrupt and never reset.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, StateError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|source| StateError::Io { path: dir.clone(), source })?;
        let db_path = dir.join(DB_FILE);
        let existed = match std::fs::metadata(&db_path) {
            Ok(m) if m.len() == 0 => return Err(StateError::Corrupt { path: db_path, detail: "the file is empty (truncated)".into() }),
            Ok(_) => true,
            Err(_) => false,
        };
        let corrupt = |detail: String| StateError::Corrupt { path: db_path.clone(), detail };
        let conn = Connection::open(&db_path).map_err(|e| classify(&db_path, e))?;
        let setup = || -> rusqlite::Result<String> {
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            // NORMAL in WAL mode: a committed record survives a process crash (kill -9); a power
            // loss may drop the last few, which a resume redoes (every step is idempotent).
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.query_row("PRAGMA quick_check", [], |r| r.get::<_, String>(0))
        };
        let check = setup().map_err(|e| classify(&db_path, e))?;
        if check != "ok" {
            return Err(corrupt(format!("integrity check: {check}")));
        }
        if existed {
            let format: Option<String> = conn
                .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| r.get(0))
                .optional()
                .map_err(|e| match e.sqlite_error_code() {
                    Some(ErrorCode::Unknown) | None => corrupt("not an orgtrail state (no meta table)".into()),
                    _ => classify(&db_path, e),
                })?;
            match format.as_deref() {
                Some(FORMAT) => {}
                Some(other) => return Err(corrupt(format!("unknown state format {other:?} (this orgtrail reads {FORMAT})"))),
                None => return Err(corrupt("not an orgtrail state (no format marker)".into())),
            }
        } else {
            conn.execute_batch(SCHEMA).map_err(|e| classify(&db_path, e))?;
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('format', ?1)", [FORMAT]).map_err(|e| classify(&db_path, e))?;
        }
        Ok(Store { dir, db_path, conn: Mutex::new(conn) })
    }

    /// Opens an existing state for reading only (`status`, `plan`), never writing to it: also in
    /// a directory orgtrail may not write (an archived state, a read-only mount), where SQLite
    /// cannot create the WAL index and the file is read as immutable instead.
    pub fn open_read_only(dir: impl AsRef<Path>) -> Result<Store, StateError> {
        let dir = dir.as_ref().to_path_buf();
        let db_path = dir.join(DB_FILE);
        std::fs::metadata(&db_path).map_err(|source| StateError::Io { path: db_path.clone(), source })?;
        let open = |immutable: bool| -> rusqlite::Result<(Connection, Option<String>)> {
            let escaped = db_path.to_string_lossy().replace('%', "%25").replace('?', "%3f").replace('#', "%23");
            let uri = format!("file:{escaped}?mode=ro{}", if immutable { "&immutable=1" } else { "" });
            let conn = Connection::open_with_flags(uri, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            let format = conn.query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| r.get(0)).optional()?;
            Ok((conn, format))
        };
        let (conn, format) = match open(false) {
            Err(e) if matches!(e.sqlite_error_code(), Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly)) => open(true),
            other => other,
        }
        .map_err(|e| match e.sqlite_error_code() {
            Some(ErrorCode::Unknown) => StateError::Corrupt { path: db_path.clone(), detail: "not an orgtrail state (no meta table)".into() },
            _ => classify(&db_path, e),
        })?;
        match format.as_deref() {
            Some(FORMAT) => Ok(Store { dir, db_path, conn: Mutex::new(conn) }),
            Some(other) => Err(StateError::Corrupt { path: db_path, detail: format!("unknown state format {other:?} (this orgtrail reads {FORMAT})") }),
            None => Err(StateError::Corrupt { path: db_path, detail: "not an orgtrail state (no format marker)".into() }),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// Takes the directory's lock for one writer; refused with the holder's details if taken.
    pub fn lock(&self, holder: &LockHolder) -> Result<LockGuard, StateError> {
        lock::acquire(&self.dir, holder)
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StateError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn).map_err(|e| classify(&self.db_path, e))
    }

    /// Binds the state to an organization on first use; refuses a state of another organization.
    pub fn bind_organization(&self, org_id: &str) -> Result<(), StateError> {
        let existing: Option<String> = self.with(|c| c.query_row("SELECT value FROM meta WHERE key = 'org_id'", [], |r| r.get(0)).optional())?;
        match existing {
            Some(state_org) if state_org != org_id => Err(StateError::OtherOrganization { path: self.dir.clone(), state_org, live_org: org_id.into() }),
            Some(_) => Ok(()),
            None => self.with(|c| c.execute("INSERT INTO meta (key, value) VALUES ('org_id', ?1)", [org_id]).map(drop)),
        }
    }

    pub fn organization(&self) -> Result<Option<String>, StateError> {
        self.with(|c| c.query_row("SELECT value FROM meta WHERE key = 'org_id'", [], |r| r.get(0)).optional())
    }

    /// Starts a run; its id is `run-N`, N counting up from 1 in this state.
    pub fn create_run(&self, run: NewRun) -> Result<String, StateError> {
        for (field, text) in [("inventory", &run.inventory_json), ("plan", &run.plan_json), ("config path", &run.config_path)] {
            reject_secret(field, text)?;
        }
        self.bind_organization(&run.org_id)?;
        let now = now_millis() as i64;
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let next: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs", [], |r| r.get(0))?;
            let id = format!("run-{next}");
            // The run `--new-run` replaces is never resumed again: say so rather than leave it "open".
            let latest: Option<(String, Option<String>)> = tx.query_row("SELECT id, outcome FROM runs ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
            if let Some((prev, outcome)) = latest {
                let open = outcome.as_deref().is_none_or(|o| serde_json::from_str::<RunOutcome>(o).map_or(true, |o| o.is_open()));
                if open {
                    let superseded = serde_json::to_string(&RunOutcome::Superseded { by: id.clone() }).expect("outcome serializes");
                    tx.execute("UPDATE runs SET outcome = ?2, closed = 1, updated_at = ?3 WHERE id = ?1", params![prev, superseded, now])?;
                }
            }
            tx.execute(
                "INSERT INTO runs (seq, id, config_fingerprint, config_path, org_id, started_at, updated_at, inventory_json, plan_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)",
                params![next, id, run.config_fingerprint, run.config_path, run.org_id, now, run.inventory_json, run.plan_json],
            )?;
            tx.commit()?;
            Ok(id)
        })
    }

    /// The newest run, if it is open: what `apply` resumes. A finished newest run means the next
    /// `apply` starts a new one (older open runs were superseded when it started).
    pub fn latest_open_run(&self) -> Result<Option<RunSummary>, StateError> {
        let run = self.with(|c| c.query_row(&format!("{RUN_COLUMNS} FROM runs ORDER BY seq DESC LIMIT 1"), [], run_row).optional())?;
        run.map(|r| self.decode_run(r)).transpose().map(|r| r.filter(|r| r.open))
    }

    /// Whether the newest run is open, without reading its stored inventory and plan.
    pub fn has_open_run(&self) -> Result<bool, StateError> {
        let run = self.with(|c| c.query_row("SELECT id, config_fingerprint, config_path, org_id, started_at, updated_at, outcome, '', '' FROM runs ORDER BY seq DESC LIMIT 1", [], run_row).optional())?;
        Ok(run.map(|r| self.decode_run(r)).transpose()?.is_some_and(|r| r.open))
    }

    pub fn run(&self, id: &str) -> Result<RunSummary, StateError> {
        let run = self.with(|c| c.query_row(&format!("{RUN_COLUMNS} FROM runs WHERE id = ?1"), [id], run_row).optional())?;
        self.decode_run(run.ok_or_else(|| StateError::NoSuchRun(id.into()))?)
    }

    /// Every run, newest first, without their stored inventory and plan.
    pub fn runs(&self) -> Result<Vec<RunSummary>, StateError> {
        let rows = self.with(|c| {
            let mut s = c.prepare("SELECT id, config_fingerprint, config_path, org_id, started_at, updated_at, outcome, '', '' FROM runs ORDER BY seq DESC")?;
            let rows = s.query_map([], run_row)?.collect::<rusqlite::Result<Vec<_>>>();
            rows
        })?;
        rows.into_iter().map(|r| self.decode_run(r)).collect()
    }

    pub fn finish_run(&self, id: &str, outcome: RunOutcome) -> Result<(), StateError> {
        let json = serde_json::to_string(&outcome).expect("outcome serializes");
        let n = self.with(|c| c.execute("UPDATE runs SET outcome = ?2, closed = ?3, updated_at = ?4 WHERE id = ?1", params![id, json, !outcome.is_open(), now_millis() as i64]))?;
        if n == 0 {
            return Err(StateError::NoSuchRun(id.into()));
        }
        Ok(())
    }

    /// A consistent copy of the whole state in one file (for `state push` and backups).
    pub fn snapshot_to(&self, path: &Path) -> Result<(), StateError> {
        let _ = std::fs::remove_file(path);
        let target = path.to_string_lossy().into_owned();
        self.with(|c| c.execute("VACUUM INTO ?1", [target]).map(drop))
    }

    /// Replaces the state in `dir` by a snapshot, after checking the snapshot is a sound orgtrail
    /// state. The store of `dir` must not be open.
    pub fn restore_from(snapshot: &Path, dir: &Path) -> Result<(), StateError> {
        let check_dir = dir.join("restore.check");
        std::fs::create_dir_all(&check_dir).map_err(|source| StateError::Io { path: check_dir.clone(), source })?;
        let staged = check_dir.join(DB_FILE);
        std::fs::copy(snapshot, &staged).map_err(|source| StateError::Io { path: snapshot.to_path_buf(), source })?;
        drop(Store::open(&check_dir)?);
        let db = dir.join(DB_FILE);
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.join(format!("{DB_FILE}{suffix}")));
        }
        std::fs::rename(&staged, &db).map_err(|source| StateError::Io { path: db.clone(), source })?;
        let _ = std::fs::remove_dir_all(&check_dir);
        Ok(())
    }

    fn decode_status(&self, body: &str, target: &str, step: &str) -> Result<StepStatus, StateError> {
        serde_json::from_str(body).map_err(|e| StateError::Decode { path: self.db_path.clone(), what: format!("{target}/{step}"), detail: e.to_string() })
    }

    fn decode_run(&self, r: RawRun) -> Result<RunSummary, StateError> {
        let outcome = r
            .outcome
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| StateError::Decode { path: self.db_path.clone(), what: format!("outcome of {}", r.id), detail: e.to_string() })?;
        let (open, why) = crate::status::lifecycle(outcome.as_ref());
        Ok(RunSummary {
            id: r.id,
            config_fingerprint: r.config_fingerprint,
            config_path: r.config_path,
            org_id: r.org_id,
            started_at: r.started_at as u64,
            updated_at: r.updated_at as u64,
            outcome,
            open,
            why,
            inventory_json: r.inventory_json,
            plan_json: r.plan_json,
        })
    }
}

// `closed` is still written (= finished) for readers of the table, but openness is decided by the outcome.
const RUN_COLUMNS: &str = "SELECT id, config_fingerprint, config_path, org_id, started_at, updated_at, outcome, inventory_json, plan_json";

struct RawRun {
    id: String,
    config_fingerprint: String,
    config_path: String,
    org_id: String,
    started_at: i64,
    updated_at: i64,
    outcome: Option<String>,
    inventory_json: String,
    plan_json: String,
}

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRun> {
    Ok(RawRun {
        id: r.get(0)?,
        config_fingerprint: r.get(1)?,
        config_path: r.get(2)?,
        org_id: r.get(3)?,
        started_at: r.get(4)?,
        updated_at: r.get(5)?,
        outcome: r.get(6)?,
        inventory_json: r.get(7)?,
        plan_json: r.get(8)?,
    })
}

fn reject_secret(field: &str, text: &str) -> Result<(), StateError> {
    match find_secret(text) {
        Some(kind) => Err(StateError::SecretRejected { field: field.into(), kind }),
        None => Ok(()),
    }
}

/// SQLite's corruption codes become `Corrupt` (reported, never reset); the rest stay errors.
fn classify(path: &Path, e: rusqlite::Error) -> StateError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StateError::Corrupt { path: path.to_path_buf(), detail: e.to_string() },
        _ => StateError::Sqlite { path: path.to_path_buf(), source: e },
    }
}
