//! Records of `orgtrail remove`: one removal (`remove-N`) open until it finished every item, one
//! row per (removal, account, resource) upserted as each item is removed, kept or refused. An
//! interrupted removal is continued by the next `remove`, under the same id.
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{reject_secret, Store};
use crate::{now_millis, StateError};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS removals (
    removal TEXT NOT NULL,
    account TEXT NOT NULL,
    resource TEXT NOT NULL,
    position INTEGER NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (removal, account, resource)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS removal_runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER
);
";

/// One item of a removal: what was (to be) done to a resource, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovalRecord {
    pub account: String,
    pub resource: String,
    /// Its place in the removal's order.
    pub position: u32,
    /// `remove`, `keep` or `refused`.
    pub action: String,
    /// `pending`, `done`, `failed`, `kept`.
    pub status: String,
    pub detail: String,
    pub updated_at: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovalSummary {
    pub id: String,
    pub started_at: u64,
    pub finished_at: Option<u64>,
}

impl Store {
    /// The unfinished removal (resumed: `true`), or a new one, `remove-N`.
    pub fn open_removal(&self, org_id: &str) -> Result<(String, bool), StateError> {
        self.bind_organization(org_id)?;
        let open: Option<String> = self.with(|c| c.query_row("SELECT id FROM removal_runs WHERE finished_at IS NULL ORDER BY seq DESC LIMIT 1", [], |r| r.get(0)).optional())?;
        if let Some(id) = open {
            return Ok((id, true));
        }
        self.with(|c| {
            let n: i64 = c.query_row("SELECT COUNT(*) FROM removal_runs", [], |r| r.get(0))?;
            let id = format!("remove-{}", n + 1);
            c.execute("INSERT INTO removal_runs (id, org_id, started_at) VALUES (?1, ?2, ?3)", params![id, org_id, now_millis() as i64])?;
            Ok((id, false))
        })
    }

    /// Upserts one item's record, on disk when this returns.
    pub fn record_removal(&self, removal: &str, item: &RemovalRecord) -> Result<(), StateError> {
        for (field, text) in [("resource", &item.resource), ("detail", &item.detail)] {
            reject_secret(field, text)?;
        }
        self.with(|c| {
            c.prepare_cached(
                "INSERT INTO removals (removal, account, resource, position, action, status, detail, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (removal, account, resource) DO UPDATE SET position = excluded.position, action = excluded.action, status = excluded.status, detail = excluded.detail, updated_at = excluded.updated_at",
            )?
            .execute(params![removal, item.account, item.resource, item.position, item.action, item.status, item.detail, now_millis() as i64])
            .map(drop)
        })
    }

    pub fn finish_removal(&self, removal: &str) -> Result<(), StateError> {
        self.with(|c| c.execute("UPDATE removal_runs SET finished_at = ?2 WHERE id = ?1", params![removal, now_millis() as i64]).map(drop))
    }

    /// The records of a removal, in its order.
    pub fn removal_records(&self, removal: &str) -> Result<Vec<RemovalRecord>, StateError> {
        self.with(|c| {
            let mut s = c.prepare_cached("SELECT account, resource, position, action, status, detail, updated_at FROM removals WHERE removal = ?1 ORDER BY position, account, resource")?;
            let rows = s.query_map([removal], |r| {
                Ok(RemovalRecord { account: r.get(0)?, resource: r.get(1)?, position: r.get(2)?, action: r.get(3)?, status: r.get(4)?, detail: r.get(5)?, updated_at: r.get::<_, i64>(6)? as u64 })
            })?;
            rows.collect()
        })
    }

    /// Every removal, newest first.
    pub fn removals(&self) -> Result<Vec<RemovalSummary>, StateError> {
        self.with(|c| {
            let mut s = c.prepare_cached("SELECT id, started_at, finished_at FROM removal_runs ORDER BY seq DESC")?;
            let rows = s.query_map([], |r| Ok(RemovalSummary { id: r.get(0)?, started_at: r.get::<_, i64>(1)? as u64, finished_at: r.get::<_, Option<i64>>(2)?.map(|v| v as u64) }))?;
            rows.collect()
        })
    }
}
