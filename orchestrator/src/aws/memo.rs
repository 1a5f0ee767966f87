//! Facts read once per run and shared by every account's steps: the run's accounts ask the same
//! question of one central resource (the organization trail's selectors, read from the account
//! that owns the trail), so it is asked once, not once per account. A failed read is not kept: the
//! next asker tries again.
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

#[derive(Clone, Default)]
pub struct RunMemo {
    flags: Arc<Mutex<HashMap<String, Arc<OnceCell<bool>>>>>,
}

impl RunMemo {
    /// The flag kept under `key`, read by `read` the first time (concurrent askers wait for it).
    pub async fn flag<F, Fut, E>(&self, key: &str, read: F) -> Result<bool, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<bool, E>>,
    {
        let cell = self.flags.lock().expect("run memo lock").entry(key.to_string()).or_default().clone();
        cell.get_or_try_init(read).await.copied()
    }
}

#[cfg(test)]
mod tests {
    use super::RunMemo;

    #[tokio::test]
    async fn read_once_and_a_failure_is_not_kept() {
        let memo = RunMemo::default();
        let failed: Result<bool, &str> = memo.flag("k", || async { Err("throttled") }).await;
        assert_eq!(failed, Err("throttled"));
        assert_eq!(memo.flag::<_, _, &str>("k", || async { Ok(true) }).await, Ok(true));
        assert_eq!(memo.flag::<_, _, &str>("k", || async { Ok(false) }).await, Ok(true), "kept after the first success");
        assert_eq!(memo.flag::<_, _, &str>("other", || async { Ok(false) }).await, Ok(false));
    }
}
