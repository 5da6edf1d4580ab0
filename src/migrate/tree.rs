//! One side of the gate: the files of a checkout (the base commit extracted to a temp dir, or the working tree
//! on the branch), with the directories they imply, so "does this path exist" and "what does this glob match"
//! are answered from one listing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Tree {
    pub root: PathBuf,
    /// Every file, relative and `/`-separated (hidden ones included: `.github/`, `.renovaterc`), `.git/` excluded.
    pub files: Vec<String>,
    pub dirs: BTreeSet<String>,
}

impl Tree {
    /// The files Git carries (tracked, or untracked and not ignored) when `root` is a work tree; else every file.
    pub fn load(root: &Path) -> Tree {
        let mut files = git_files(root).unwrap_or_else(|| {
            let mut v = Vec::new();
            walk(root, "", &mut v);
            v
        });
        files.sort();
        files.dedup();
        let mut dirs = BTreeSet::new();
        for f in &files {
            let mut d = f.as_str();
            while let Some((parent, _)) = d.rsplit_once('/') {
                if !dirs.insert(parent.to_string()) {
                    break;
                }
                d = parent;
            }
        }
        Tree {
            root: root.to_path_buf(),
            files,
            dirs,
        }
    }

    /// Whether a repo-relative path is a file or directory here (`""` is the root).
    pub fn exists(&self, p: &str) -> bool {
        let p = p.trim_end_matches('/');
        p.is_empty() || self.dirs.contains(p) || self.files.binary_search_by(|f| f.as_str().cmp(p)).is_ok()
    }

    pub fn is_dir(&self, p: &str) -> bool {
        let p = p.trim_end_matches('/');
        p.is_empty() || self.dirs.contains(p)
    }

    pub fn read(&self, p: &str) -> Option<String> {
        std::fs::read_to_string(self.root.join(p)).ok()
    }

    /// Files under a directory (recursively), relative to the repo root.
    pub fn files_under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.files.iter().filter(move |f| f.starts_with(&prefix))
    }
}

fn git_files(root: &Path) -> Option<Vec<String>> {
    if !root.join(".git").exists() {
        return None;
    }
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
    Some(
        String::from_utf8_lossy(&out.stdout)
            .split('\0')
            .filter(|f| !f.is_empty() && root.join(f).is_file())
            .map(str::to_string)
            .collect(),
    )
}

fn walk(root: &Path, rel: &str, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == ".git" {
            continue;
        }
        let p = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(root, &p, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

/// Normalise a `/`-separated relative path: drop `.` and empty segments, resolve `..`. `None` if it leaves
/// the root.
pub fn normalize(p: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    Some(out.join("/"))
}

/// `base/rel` normalised (`rel` relative to directory `base`).
pub fn join(base: &str, rel: &str) -> Option<String> {
    if base.is_empty() {
        normalize(rel)
    } else {
        normalize(&format!("{base}/{rel}"))
    }
}

/// The directory of a repo-relative file (`""` for a top-level file).
pub fn parent(p: &str) -> &str {
    p.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

/// The relative path from directory `from` to `to` (both repo-relative, normalised); `.` for the same place.
pub fn relative(from: &str, to: &str) -> String {
    let f: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let t: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; f.len() - common];
    parts.extend(&t[common..]);
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(normalize("a/./b/../c").as_deref(), Some("a/c"));
        assert_eq!(normalize("../x"), None);
        assert_eq!(join("scripts", "..").as_deref(), Some(""));
        assert_eq!(relative("clusters/talos/bootstrap", ""), "../../..");
        assert_eq!(relative("a/b", "a/b/c"), "c");
        assert_eq!(relative("a/b", "a/b"), ".");
        assert_eq!(relative("a/b", "a/x/y"), "../x/y");
        assert_eq!(parent("a/b/c.yaml"), "a/b");
        assert_eq!(parent("c.yaml"), "");
    }
}
