//! Helpers for the ApplicationSet tests: a throwaway repository, and expansion of all its
//! ApplicationSets.
#![allow(dead_code)]

use fleetctl::appset::{self, GeneratedApp};
use fleetctl::error::UserError;
use std::path::Path;

/// A repo with the given directories (each gets a kustomization) and files.
pub fn repo(dirs: &[&str], files: &[(&str, &str)]) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for d in dirs {
        std::fs::create_dir_all(t.path().join(d)).unwrap();
        std::fs::write(
            t.path().join(d).join("kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
        )
        .unwrap();
    }
    for (f, text) in files {
        let p = t.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    t
}

pub fn gen(root: &Path) -> Result<Vec<GeneratedApp>, UserError> {
    let sets = appset::load_appsets(root, None)?;
    appset::generate(root, &sets)
}

pub fn names(apps: &[GeneratedApp]) -> Vec<String> {
    apps.iter().map(|a| a.name.clone()).collect()
}
