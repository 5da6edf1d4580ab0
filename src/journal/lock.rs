//! One run per cluster at a time: an advisory lock on `<state>/<cluster>/lock`.
//! The kernel drops the lock when its holder dies (kill -9 included), so a stale lock file from a killed
//! run never blocks: only a live holder does, and its pid is named in the message.

use crate::error::UserError;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

pub struct RunLock {
    file: File,
}

impl RunLock {
    /// The run lock of one cluster's state dir.
    pub fn acquire(dir: &Path, cluster: &str) -> Result<RunLock, UserError> {
        Self::at(&dir.join("lock"), &format!("cluster '{cluster}'"))
    }

    /// A lock at `path`; `what` names what it guards in the refusal ("cluster 'x'", "the rehearsal state").
    pub fn at(path: &Path, what: &str) -> Result<RunLock, UserError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let path = path.to_path_buf();
        let fail = |e: std::io::Error| {
            UserError::usage(format!("cannot open the run lock: {e}"))
                .subject(path.display().to_string())
                .next(format!(
                    "make {} writable, or pass a writable --state-dir (FLEETCTL_STATE_DIR)",
                    dir.display()
                ))
        };
        std::fs::create_dir_all(dir).map_err(fail)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(fail)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(_) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(UserError::usage(format!(
                    "another fleetctl run is in progress against {what} ({})",
                    if holder.trim().is_empty() {
                        "holder unknown".into()
                    } else {
                        holder.trim().to_string()
                    }
                ))
                .subject(path.display().to_string())
                .next("wait for it to finish, or stop it; a killed run's lock is released automatically"));
            }
        }
        let stale = {
            let mut s = String::new();
            let _ = file.read_to_string(&mut s);
            s
        };
        if !stale.trim().is_empty() {
            tracing::info!("a previous run left a lock ({}) and is gone; taking over", stale.trim());
        }
        file.set_len(0).map_err(fail)?;
        file.seek(SeekFrom::Start(0)).map_err(fail)?;
        let _ = write!(file, "pid {} since {}", std::process::id(), super::now());
        let _ = file.sync_all();
        Ok(RunLock { file })
    }
}

/// Who holds the run lock in `dir` now (`pid N since T`), or `None` when no live process does: a journal
/// that says "running" without a holder belongs to a run that was killed.
pub fn holder(dir: &Path) -> Option<String> {
    let mut file = File::open(dir.join("lock")).ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(_) => {
            let mut s = String::new();
            let _ = file.read_to_string(&mut s);
            Some(if s.trim().is_empty() {
                "holder unknown".into()
            } else {
                s.trim().to_string()
            })
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}
