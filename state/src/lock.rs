//! One writer per state directory: an OS file lock (released by the kernel when its process
//! dies, so a crashed run never leaves a lock behind) plus `lock.json` naming the holder, for the
//! message the second process prints.
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::StateError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub host: String,
    pub pid: u32,
    pub user: String,
    /// Milliseconds since the Unix epoch.
    pub started_at: u64,
    pub command: String,
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` (pid {} on {}, user {}, started {})", self.command, self.pid, self.host, self.user, format_millis(self.started_at))
    }
}

/// `2026-11-25T12:28:25Z`, without a date crate.
pub fn format_millis(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Held for as long as the run: dropping it releases the lock and removes the holder file.
#[derive(Debug)]
pub struct LockGuard {
    file: File,
    holder_path: PathBuf,
    /// The holder found in `lock.json` whose process had died without cleaning up, if any.
    pub stale_holder: Option<LockHolder>,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.holder_path);
        let _ = self.file.unlock();
    }
}

fn paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("lock"), dir.join("lock.json"))
}

pub(crate) fn acquire(dir: &Path, holder: &LockHolder) -> Result<LockGuard, StateError> {
    let (lock_path, holder_path) = paths(dir);
    let io = |source| StateError::Io { path: lock_path.clone(), source };
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            return Err(match read_holder(dir) {
                Some(holder) => StateError::Locked { path: dir.to_path_buf(), holder },
                None => StateError::LockedUnknown { path: dir.to_path_buf() },
            })
        }
        Err(fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    // We hold the OS lock, so any holder file left is from a process that died holding it.
    let stale_holder = read_holder(dir);
    let json = serde_json::to_vec_pretty(holder).expect("holder serializes");
    let tmp = dir.join("lock.json.tmp");
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
        fs::rename(&tmp, &holder_path)
    };
    write().map_err(|source| StateError::Io { path: holder_path.clone(), source })?;
    Ok(LockGuard { file, holder_path, stale_holder })
}

/// The holder named in `dir/lock.json`, if readable.
pub fn read_holder(dir: &Path) -> Option<LockHolder> {
    let (_, holder_path) = paths(dir);
    serde_json::from_slice(&fs::read(holder_path).ok()?).ok()
}

/// Break the lock of `dir`: removes the lock and holder files, so the next `apply` takes a fresh
/// lock. Returns the holder it removed. A live holder keeps running on the old (unlinked) lock
/// file, which is why this is an explicit operator action.
pub fn force_unlock(dir: &Path) -> Result<Option<LockHolder>, StateError> {
    let (lock_path, holder_path) = paths(dir);
    let holder = read_holder(dir);
    for p in [holder_path, lock_path] {
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(StateError::Io { path: p, source }),
        }
    }
    Ok(holder)
}

#[cfg(test)]
mod tests {
    use super::format_millis;

    #[test]
    fn formats_utc_times() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_millis(1_795_609_705_000), "2026-11-25T12:28:25Z");
        assert_eq!(format_millis(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
