//! The runbooks ship with fleetctl (issue 11, item 1): every command works in a repo that has never seen
//! fleetctl; `runbooks export` writes the built-in library out; `--runbooks DIR` (or the repo's own
//! `runbooks/`) overrides it.

mod common;

use common::{copy_dir, text};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A fleet with clusters and shared apps but no `runbooks/` (as a user's repo is).
fn fleet_without_runbooks() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    for d in ["clusters", "apps-shared"] {
        copy_dir(&root.join(d), &dir.path().join(d));
    }
    dir
}

fn run(repo: &Path, args: &[&str]) -> Output {
    Command::new(common::bin())
        .arg("--repo")
        .arg(repo)
        .arg("--state-dir")
        .arg(repo.join(".state"))
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .env_remove("FLEETCTL_RUNBOOKS")
        .stdin(Stdio::null())
        .current_dir(repo)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn every_command_works_in_a_repo_without_runbooks() {
    let repo = fleet_without_runbooks();
    let list = run(repo.path(), &["runbooks", "list"]);
    assert_eq!(list.status.code(), Some(0), "{}", text(&list));
    let l = String::from_utf8_lossy(&list.stdout);
    assert!(l.contains("built into fleetctl"), "{l}");
    for phase in 1..=6 {
        assert!(
            l.lines().any(|x| x.starts_with(&phase.to_string())),
            "phase {phase} missing: {l}"
        );
    }
    let d = run(repo.path(), &["decisions", "--output", "json"]);
    assert_eq!(d.status.code(), Some(0), "{}", text(&d));
    let v: serde_json::Value = serde_json::from_slice(&d.stdout).unwrap();
    assert!(
        v.as_array().unwrap().iter().any(|d| d["id"] == "gateway-load-balancer"),
        "{v}"
    );
    let s = run(repo.path(), &["status"]);
    assert_eq!(s.status.code(), Some(0), "{}", text(&s));
    assert!(!text(&s).contains("cannot read runbooks"), "{}", text(&s));
}

#[test]
fn a_rehearsal_needs_no_runbooks_and_no_answers_file_in_the_repo() {
    let repo = fleet_without_runbooks();
    // The built-in rehearsal answers name built-in files (runbooks/answers/...): they resolve to the library.
    let out = run(repo.path(), &["rehearse", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !repo.path().join("runbooks").exists(),
        "nothing is written into the repo's runbooks/"
    );
}

#[test]
fn export_writes_the_built_in_library_and_refuses_to_overwrite_an_edit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repo = fleet_without_runbooks();
    let dir = repo.path().join("my-runbooks");
    let out = run(repo.path(), &["runbooks", "export", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Byte for byte what this repo's runbooks/ holds (the library is built from it).
    let mut files = vec![];
    collect(&root.join("runbooks"), &mut files);
    assert!(files.len() >= 8, "{files:?}");
    for f in &files {
        let rel = f.strip_prefix(root.join("runbooks")).unwrap();
        let got = std::fs::read(dir.join(rel)).unwrap_or_else(|_| panic!("{} not exported", rel.display()));
        assert_eq!(got, std::fs::read(f).unwrap(), "{} differs", rel.display());
    }
    // Again into the same place: nothing differs, so it succeeds.
    assert_eq!(
        run(repo.path(), &["runbooks", "export", dir.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    // An edited copy is never overwritten, and nothing else is written either.
    let p1 = dir.join("phase-1.yaml");
    let edited = std::fs::read_to_string(&p1)
        .unwrap()
        .replacen("title:", "title: EDITED", 1);
    std::fs::write(&p1, &edited).unwrap();
    std::fs::remove_file(dir.join("phase-2.yaml")).unwrap();
    let out = run(repo.path(), &["runbooks", "export", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("phase-1.yaml"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&p1).unwrap(), edited);
    assert!(!dir.join("phase-2.yaml").exists(), "a refused export writes nothing");
    // The edited copy is what --runbooks uses.
    let out = run(repo.path(), &["--runbooks", dir.to_str().unwrap(), "runbooks", "list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let l = String::from_utf8_lossy(&out.stdout);
    assert!(l.contains("EDITED") && l.contains("my-runbooks"), "{l}");
}

#[test]
fn the_repos_own_runbooks_override_the_built_in_ones() {
    let repo = fleet_without_runbooks();
    std::fs::create_dir_all(repo.path().join("runbooks")).unwrap();
    std::fs::write(
        repo.path().join("runbooks/phase-9.yaml"),
        "phase: 9\ntitle: Our own phase\nplatforms: [talos]\nsteps: []\n",
    )
    .unwrap();
    let out = run(repo.path(), &["runbooks", "list"]);
    let l = String::from_utf8_lossy(&out.stdout);
    assert!(l.contains("Our own phase") && !l.contains("built into"), "{l}");
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            collect(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}
