//! `verify` on the fleet repo itself: the real manifests must be clean.

#[path = "fixtures/verify/common.rs"]
mod common;

use common::*;
use std::path::PathBuf;

#[test]
fn verify_repo_is_clean() {
    if !have_kustomize() {
        return;
    }
    let Some(s) = schemas() else { return };
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut opts = fleetctl::verify::VerifyOptions::new(&repo);
    // Keep the repo's own .fleetctl/ untouched by tests.
    opts.cache_dir = Some(shared_cache());
    let r = fleetctl::verify::run_with(&opts, s).expect("verify runs");
    eprintln!("{}", r.to_text());
    assert!(!r.roots.is_empty(), "no kustomization roots found in the repo");
    assert!(r.is_clean(), "{}", r.to_text());
}
