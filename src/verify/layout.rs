//! How a repo is laid out, and which of its files verify looks at.
//!
//! - The fleet layout: `clusters/<name>/...` and `apps-shared/<app>/...`.
//! - The legacy layout, before phase 4: one Talos cluster whose trees sit at the repo's top level
//!   (`infrastructure/`, `my-apps/`, `monitoring/`, an Argo CD apps folder with the root Application, ...),
//!   no `clusters/`. verify treats those trees as cluster [`LEGACY_CLUSTER`], so it can run before the move.
//!
//! Files are walked as Git sees them: hidden entries, paths `.gitignore` ignores and paths
//! [`IGNORE_FILE`] names (same syntax, e.g. test fixtures holding deliberate violations) are left out.

use std::path::{Path, PathBuf};

/// The file (gitignore syntax, at any level) naming paths verify skips.
pub const IGNORE_FILE: &str = ".fleetctlignore";

/// The cluster the top-level trees of a legacy repo belong to.
pub const LEGACY_CLUSTER: &str = "talos";

/// The two layouts verify knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `clusters/` and/or `apps-shared/`.
    Fleet,
    /// No `clusters/` nor `apps-shared/`, but kustomizations in top-level trees.
    Legacy,
}

impl Layout {
    /// The repo's layout; `None` when it is neither (no kustomization at all).
    pub fn of(repo: &Path, files: &[PathBuf]) -> Option<Layout> {
        if crate::fleet::is_fleet_repo(repo) {
            return Some(Layout::Fleet);
        }
        files.iter().any(|f| is_kustomization(f)).then_some(Layout::Legacy)
    }

    /// Whether a repo-relative path is in the trees Argo CD deploys from (where object files that no
    /// kustomization reads are validated and linted as loose files).
    pub fn in_fleet_trees(self, rel: &str) -> bool {
        match self {
            Layout::Fleet => rel.starts_with("clusters/") || rel.starts_with("apps-shared/"),
            Layout::Legacy => true,
        }
    }
}

/// A kustomization file (`kustomization.yaml`, `kustomization.yml`, `Kustomization`).
pub fn is_kustomization(f: &Path) -> bool {
    f.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| super::roots::KUSTOMIZATION_FILES.contains(&n))
}

/// A `.yaml`/`.yml` file.
pub fn is_yaml(f: &Path) -> bool {
    f.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e == "yaml" || e == "yml")
}

/// Every regular file of the repo verify looks at, sorted (see the module docs for what is left out).
pub fn repo_files(repo: &Path) -> Vec<PathBuf> {
    let walk = ignore::WalkBuilder::new(repo)
        .hidden(true)
        .parents(false)
        .git_global(false)
        .git_exclude(false)
        .require_git(false)
        .add_custom_ignore_filename(IGNORE_FILE)
        .build();
    let mut out: Vec<PathBuf> = walk
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}
