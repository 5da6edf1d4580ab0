//! What the git directory generator sees: the directories of the repository checkout.
//!
//! Argo CD's repo-server walks a fresh checkout (`filepath.WalkDir`), skips every directory whose
//! name starts with `.` (and everything under it), keeps directories only, and returns them in
//! walk order: depth-first, entries of each directory sorted by name. Offline we read the local
//! working tree instead, and make it look like a checkout of it:
//!
//! - inside a Git work tree, the files are those Git would carry if you committed now
//!   (`git ls-files --cached --others --exclude-standard`, still present on disk), so ignored
//!   build output such as `target/` is not a "directory" and neither is an empty directory;
//! - outside Git (a plain copy), every non-hidden directory that holds at least one file.

use std::collections::BTreeSet;
use std::path::Path;

/// Files under `root` (relative, `/`-separated), none inside a hidden directory.
pub fn list_files(root: &Path) -> Vec<String> {
    let mut files = git_files(root).unwrap_or_else(|| walk_files(root));
    files.retain(|f| !f.split('/').any(|seg| seg.starts_with('.')));
    files.sort_by(|a, b| walk_order(a, b));
    files
}

/// Directories under `root` (relative, `/`-separated, root itself excluded) in WalkDir order.
pub fn list_dirs(root: &Path) -> Vec<String> {
    let files = git_files(root).unwrap_or_else(|| walk_files(root));
    let mut dirs = BTreeSet::new();
    for f in &files {
        let segs: Vec<&str> = f.split('/').collect();
        for n in 1..segs.len() {
            if segs[n - 1].starts_with('.') {
                break;
            }
            dirs.insert(segs[..n].join("/"));
        }
    }
    let mut out: Vec<String> = dirs
        .into_iter()
        .filter(|d| std::fs::symlink_metadata(root.join(d)).is_ok_and(|m| m.file_type().is_dir()))
        .collect();
    out.sort_by(|a, b| walk_order(a, b));
    out
}

/// Depth-first, name-sorted order: compare segment by segment.
pub fn walk_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.split('/').cmp(b.split('/'))
}

fn git_files(root: &Path) -> Option<Vec<String>> {
    let out = duct::cmd!("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        .dir(root)
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(
        text.split('\0')
            .filter(|f| !f.is_empty())
            // Tracked but deleted in the working tree: not in a checkout of "now".
            .filter(|f| std::fs::symlink_metadata(root.join(f)).is_ok())
            .map(str::to_string)
            .collect(),
    )
}

fn walk_files(root: &Path) -> Vec<String> {
    fn walk(root: &Path, rel: &str, out: &mut Vec<String>) {
        let dir = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(rel)
        };
        let Ok(rd) = std::fs::read_dir(&dir) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let child = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            match e.file_type() {
                Ok(t) if t.is_dir() => walk(root, &child, out),
                Ok(_) => out.push(child),
                Err(_) => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(root, "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_order_is_depth_first_by_name() {
        let mut v = vec!["a-b", "a/x", "a", "b", "a/x/y", "a.c"];
        v.sort_by(|a, b| walk_order(a, b));
        assert_eq!(v, vec!["a", "a/x", "a/x/y", "a-b", "a.c", "b"]);
    }

    #[test]
    fn plain_tree_skips_hidden_and_empty_dirs() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        for d in ["apps/one", "apps/two/base", ".hidden/x", "apps/.git/y", "empty/inner"] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        for f in [
            "apps/one/k.yaml",
            "apps/two/base/k.yaml",
            ".hidden/x/k.yaml",
            "apps/.git/y/z",
        ] {
            std::fs::write(r.join(f), "x").unwrap();
        }
        assert_eq!(list_dirs(r), vec!["apps", "apps/one", "apps/two", "apps/two/base"]);
        assert_eq!(list_files(r), vec!["apps/one/k.yaml", "apps/two/base/k.yaml"]);
    }
}
