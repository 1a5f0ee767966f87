//! The records of a run: one row per (run, target, step), upserted in O(1), and the reads that
//! `status`, the executor and the run's outcome make of them.
use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{reject_secret, Store};
use crate::{now_millis, StateError, StepStatus};

const UPSERT: &str = "
INSERT INTO records (run, target, step, wave, kind, body, attempts, first_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
ON CONFLICT (run, target, step) DO UPDATE SET
    wave = excluded.wave, kind = excluded.kind, body = excluded.body,
    attempts = attempts + excluded.attempts, updated_at = excluded.updated_at";

impl Record {
    /// The step as a typed id; `None` for a step this orgtrail does not know (a newer version's).
    pub fn step_id(&self) -> Option<crate::StepId> {
        self.step.parse().ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub target: String,
    pub wave: String,
    pub step: String,
    #[serde(flatten)]
    pub status: StepStatus,
    /// How many times the step started (a resumed running step counts again).
    pub attempts: u32,
    pub first_at: u64,
    pub updated_at: u64,
}

/// One target's records in a run, counted by kind (`Store::target_counts`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetCounts {
    pub target: String,
    pub records: usize,
    pub failed: usize,
    pub unfinished: usize,
    pub needs_manual_action: usize,
}

/// Per-wave counts of targets: a target is failed if any step failed, needs-manual-action if any
/// does, done if every recorded step is done or skipped, else pending (or running).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WaveCounts {
    pub wave: String,
    pub targets: usize,
    pub done: usize,
    pub failed: usize,
    pub needs_manual_action: usize,
    pub running: usize,
    pub pending: usize,
}

impl Store {
    /// Upserts one (target, step) record in its own transaction: on disk when this returns.
    /// A `Running` status counts one more attempt.
    pub fn record(&self, run: &str, target: &str, wave: &str, step: &str, status: &StepStatus) -> Result<(), StateError> {
        let body = encode(status)?;
        self.with(|c| c.prepare_cached(UPSERT)?.execute(params![run, target, step, wave, status.kind(), body, attempts(status), now_millis() as i64]).map(drop))
    }

    /// Many records in one transaction (a new run's pending records).
    pub fn record_many<'a>(&self, run: &str, items: impl IntoIterator<Item = (&'a str, &'a str, &'a str, &'a StepStatus)>) -> Result<(), StateError> {
        let encoded = items
            .into_iter()
            .map(|(target, wave, step, status)| Ok((target, wave, step, status.kind(), encode(status)?, attempts(status))))
            .collect::<Result<Vec<_>, StateError>>()?;
        let now = now_millis() as i64;
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            {
                let mut s = tx.prepare_cached(UPSERT)?;
                for (target, wave, step, kind, body, attempts) in &encoded {
                    s.execute(params![run, target, step, wave, kind, body, attempts, now])?;
                }
            }
            tx.commit()
        })
    }

    pub fn step_status(&self, run: &str, target: &str, step: &str) -> Result<Option<StepStatus>, StateError> {
        let body: Option<String> = self.with(|c| c.prepare_cached("SELECT body FROM records WHERE run = ?1 AND target = ?2 AND step = ?3")?.query_row([run, target, step], |r| r.get(0)).optional())?;
        body.map(|b| self.decode_status(&b, target, step)).transpose()
    }

    /// Every record of a run, by target then step.
    pub fn records(&self, run: &str) -> Result<Vec<Record>, StateError> {
        self.query_records("WHERE run = ?1", run)
    }

    /// Per target of a run, over the records of `steps` only: how many there are, and how many of
    /// them failed, are unfinished (pending or running) or need a person. What a run's outcome is
    /// decided from, without loading every record (20,000 at 10,000 accounts).
    pub fn target_counts(&self, run: &str, steps: &[&str]) -> Result<Vec<TargetCounts>, StateError> {
        self.with(|c| {
            let mut s = c.prepare("SELECT target, step, kind FROM records WHERE run = ?1 ORDER BY target")?;
            let mut rows = s.query([run])?;
            let mut out: Vec<TargetCounts> = Vec::new();
            while let Some(r) = rows.next()? {
                let step: String = r.get(1)?;
                if !steps.contains(&step.as_str()) {
                    continue;
                }
                let target: String = r.get(0)?;
                if out.last().is_none_or(|t| t.target != target) {
                    out.push(TargetCounts { target, ..TargetCounts::default() });
                }
                let t = out.last_mut().expect("pushed");
                t.records += 1;
                let kind: String = r.get(2)?;
                match kind.as_str() {
                    "failed" => t.failed += 1,
                    "pending" | "running" => t.unfinished += 1,
                    "needs-manual-action" => t.needs_manual_action += 1,
                    _ => {}
                }
            }
            Ok(out)
        })
    }

    /// The failed records of a run.
    pub fn failed(&self, run: &str) -> Result<Vec<Record>, StateError> {
        self.query_records("WHERE run = ?1 AND kind = 'failed'", run)
    }

    fn query_records(&self, filter: &str, run: &str) -> Result<Vec<Record>, StateError> {
        let rows = self.with(|c| {
            let mut s = c.prepare(&format!("SELECT target, wave, step, body, attempts, first_at, updated_at FROM records {filter} ORDER BY target, step"))?;
            let rows = s
                .query_map([run], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?, r.get::<_, u32>(4)?, r.get::<_, i64>(5)?, r.get::<_, i64>(6)?)))?
                .collect::<rusqlite::Result<Vec<_>>>();
            rows
        })?;
        rows.into_iter()
            .map(|(target, wave, step, body, attempts, first_at, updated_at)| {
                let status = self.decode_status(&body, &target, &step)?;
                Ok(Record { target, wave, step, status, attempts, first_at: first_at as u64, updated_at: updated_at as u64 })
            })
            .collect()
    }

    /// Target counts per wave, waves in the order their first record was written.
    pub fn wave_counts(&self, run: &str) -> Result<Vec<WaveCounts>, StateError> {
        let rows = self.with(|c| {
            let mut s = c.prepare("SELECT wave, target, kind, first_at FROM records WHERE run = ?1")?;
            let rows = s.query_map([run], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?)))?.collect::<rusqlite::Result<Vec<_>>>();
            rows
        })?;
        let mut order: BTreeMap<String, i64> = BTreeMap::new();
        let mut targets: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for (wave, target, kind, first_at) in rows {
            let o = order.entry(wave.clone()).or_insert(first_at);
            *o = (*o).min(first_at);
            targets.entry((wave, target)).or_default().push(kind);
        }
        let mut counts: BTreeMap<String, WaveCounts> = BTreeMap::new();
        for ((wave, _), kinds) in targets {
            let c = counts.entry(wave.clone()).or_insert_with(|| WaveCounts { wave, ..Default::default() });
            c.targets += 1;
            let has = |k: &str| kinds.iter().any(|x| x == k);
            if has("failed") {
                c.failed += 1;
            } else if has("needs-manual-action") {
                c.needs_manual_action += 1;
            } else if kinds.iter().all(|k| k == "done" || k == "skipped") {
                c.done += 1;
            } else if has("running") {
                c.running += 1;
            } else {
                c.pending += 1;
            }
        }
        let mut out: Vec<WaveCounts> = counts.into_values().collect();
        out.sort_by_key(|c| order[&c.wave]);
        Ok(out)
    }
}

fn attempts(status: &StepStatus) -> u32 {
    u32::from(matches!(status, StepStatus::Running))
}

fn encode(status: &StepStatus) -> Result<String, StateError> {
    for (field, text) in status.texts() {
        reject_secret(field, text)?;
    }
    Ok(serde_json::to_string(status).expect("status serializes"))
}

