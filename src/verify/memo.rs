//! Small facts verify remembers between runs, next to the render cache (`<cache>/.verify/`), each keyed by
//! what it depends on so that a stale entry is never read: a file's identity is its path, size,
//! modification time and inode (as Git's index has it).

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The directory of the memo files inside a render cache directory.
pub fn dir(cache_dir: &Path) -> PathBuf {
    cache_dir.join(".verify")
}

/// `path size mtime inode` of a file (after symlinks), or `None` when it cannot be read.
pub fn stat_fingerprint(p: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let canon = p.canonicalize().ok()?;
    let m = std::fs::metadata(&canon).ok()?;
    Some(format!(
        "{} {} {}.{} {}",
        canon.display(),
        m.len(),
        m.mtime(),
        m.mtime_nsec(),
        m.ino()
    ))
}

fn key(parts: &str) -> String {
    hex::encode(Sha256::digest(parts.as_bytes()))
}

/// The memoised value for `what` (keyed by `fingerprint`), computing and storing it when absent.
pub fn remember(cache_dir: &Path, what: &str, fingerprint: &str, compute: impl FnOnce() -> String) -> String {
    let file = dir(cache_dir).join(format!("{what}-{}", key(fingerprint)));
    if let Ok(v) = std::fs::read_to_string(&file) {
        return v;
    }
    let v = compute();
    if std::fs::create_dir_all(dir(cache_dir)).is_ok() {
        if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir(cache_dir)) {
            use std::io::Write;
            if tmp.write_all(v.as_bytes()).is_ok() {
                let _ = tmp.persist(&file);
            }
        }
    }
    v
}
