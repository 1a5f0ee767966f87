//! The head of each account x region digest chain that `validate-logs` last proved: the digest's
//! key, its signature and its end time. `--since-last` starts from it. One row per (trail,
//! account, region), replaced by each recording run; the table is created on first use, so
//! states written before it existed read as having no heads.
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::Store;
use crate::{find_secret, now_millis, StateError};

const TABLE: &str = "CREATE TABLE IF NOT EXISTS chain_heads (
    trail TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    digest_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    end_time TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (trail, account, region)
) WITHOUT ROWID";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// The trail's ARN: heads of another trail never chain into this one.
    pub trail: String,
    pub account: String,
    pub region: String,
    pub digest_key: String,
    /// The digest's signature (hex), as its object metadata held it.
    pub signature: String,
    /// `digestEndTime`, as the digest wrote it (ISO-8601 UTC).
    pub end_time: String,
    /// When this head was recorded (ms since the epoch; 0 before it is stored).
    #[serde(default)]
    pub recorded_at: u64,
}

impl Store {
    /// Every recorded head of `trail`.
    pub fn chain_heads(&self, trail: &str) -> Result<Vec<ChainHead>, StateError> {
        self.with(|c| {
            let exists: Option<String> = c.query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'chain_heads'", [], |r| r.get(0)).optional()?;
            if exists.is_none() {
                return Ok(Vec::new());
            }
            let mut s = c.prepare("SELECT trail, account, region, digest_key, signature, end_time, recorded_at FROM chain_heads WHERE trail = ?1 ORDER BY account, region")?;
            let rows = s.query_map([trail], |r| {
                Ok(ChainHead { trail: r.get(0)?, account: r.get(1)?, region: r.get(2)?, digest_key: r.get(3)?, signature: r.get(4)?, end_time: r.get(5)?, recorded_at: r.get::<_, i64>(6)? as u64 })
            })?;
            rows.collect()
        })
    }

    /// Records (replaces) these heads in one transaction.
    pub fn record_chain_heads(&self, heads: &[ChainHead]) -> Result<(), StateError> {
        for h in heads {
            let text = format!("{} {} {}", h.digest_key, h.signature, h.end_time);
            if let Some(kind) = find_secret(&text) {
                return Err(StateError::SecretRejected { field: format!("chain head {}/{}", h.account, h.region), kind });
            }
        }
        let now = now_millis() as i64;
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute_batch(TABLE)?;
            {
                let mut s = tx.prepare(
                    "INSERT INTO chain_heads (trail, account, region, digest_key, signature, end_time, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (trail, account, region) DO UPDATE SET digest_key = ?4, signature = ?5, end_time = ?6, recorded_at = ?7",
                )?;
                for h in heads {
                    s.execute(params![h.trail, h.account, h.region, h.digest_key, h.signature, h.end_time, now])?;
                }
            }
            tx.commit()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(account: &str, key: &str) -> ChainHead {
        ChainHead { trail: "arn:t".into(), account: account.into(), region: "us-east-1".into(), digest_key: key.into(), signature: "ab12".into(), end_time: "2026-12-06T10:00:00Z".into(), recorded_at: 0 }
    }

    #[test]
    fn heads_are_replaced_per_pair_and_kept_per_trail() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.chain_heads("arn:t").unwrap().is_empty());
        store.record_chain_heads(&[head("111111111111", "k1"), head("222222222222", "k2")]).unwrap();
        store.record_chain_heads(&[head("111111111111", "k3")]).unwrap();
        let heads = store.chain_heads("arn:t").unwrap();
        assert_eq!(heads.iter().map(|h| h.digest_key.as_str()).collect::<Vec<_>>(), ["k3", "k2"]);
        assert!(heads.iter().all(|h| h.recorded_at > 0));
        assert!(store.chain_heads("arn:other").unwrap().is_empty());
        drop(store);
        let ro = Store::open_read_only(dir.path()).unwrap();
        assert_eq!(ro.chain_heads("arn:t").unwrap().len(), 2);
    }

    #[test]
    fn a_state_without_the_table_has_no_heads_read_only() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        assert!(Store::open_read_only(dir.path()).unwrap().chain_heads("arn:t").unwrap().is_empty());
    }

    #[test]
    fn refuses_credential_looking_text() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut h = head("111111111111", "AKIAIOSFODNN7EXAMPLE");
        h.signature = "x".into();
        assert!(matches!(store.record_chain_heads(&[h]), Err(StateError::SecretRejected { .. })));
    }
}
