//! The fleet repository: cluster descriptions and kustomize rendering.

pub mod cluster;
pub mod detect;
pub mod render;
pub mod rewrite;
pub mod scaffold;
pub mod template;

pub use cluster::{ClusterSpec, Platform};

use crate::error::UserError;
use std::path::Path;

/// Whether `repo` looks like a fleet repo: it holds `clusters/` or `apps-shared/`.
pub fn is_fleet_repo(repo: &Path) -> bool {
    repo.join("clusters").is_dir() || repo.join("apps-shared").is_dir()
}

/// The refusal for a directory that is not a fleet repo (exit 2), shared by the commands that read one
/// (`verify`, `appset generate`).
pub fn require_fleet_repo(repo: &Path) -> Result<(), UserError> {
    if is_fleet_repo(repo) {
        return Ok(());
    }
    Err(
        UserError::usage("not a fleet repo: neither clusters/ nor apps-shared/ exists")
            .subject(repo.display().to_string())
            .next("pass --repo DIR (the directory holding clusters/ and apps-shared/)"),
    )
}
