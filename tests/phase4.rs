//! Phase 4: `fleetctl migrate` on legacy fleets written by scripts/gen-legacy-fleet.py (the gate, its
//! refusals, resuming a killed move). The live side is in phase4_live.rs.

mod common;

use common::legacy::{fleetctl, gen, generated, git};
use common::text;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn the_gate_passes_on_generated_fleets_and_the_branch_has_the_new_layout() {
    for (apps, seed, db) in [
        (12, 1, "database"),
        (45, 2, "infrastructure/database"),
        (90, 3, "database"),
    ] {
        let t = tempfile::tempdir().unwrap();
        let repo = t.path().join("fleet");
        gen(&repo, apps, seed, db);
        let before = generated(&repo, None);
        assert!(before.len() >= apps - 1, "{apps}: only {} generated", before.len());
        let base = git(&repo, &["rev-parse", "HEAD"]);

        let out = fleetctl(&repo, &["migrate", "--yes"]);
        let t_out = text(&out);
        assert_eq!(out.status.code(), Some(0), "{apps}/{seed}: {t_out}");
        assert!(
            t_out.contains(&format!("gate passed: {} Applications identical", before.len())),
            "{t_out}"
        );
        assert_eq!(git(&repo, &["branch", "--show-current"]), "phase-4-talos-migration");
        assert_eq!(
            git(&repo, &["rev-parse", "HEAD~1"]),
            base,
            "one commit on top of the base"
        );
        assert_eq!(git(&repo, &["status", "--porcelain"]), "", "everything committed");
        // Git recorded moves (renames), not deletes and adds.
        let stat = git(&repo, &["show", "--stat", "-M", "--format=", "HEAD"]);
        assert!(stat.contains("=> clusters/talos"), "{stat}");
        for gone in ["infrastructure", "my-apps", "monitoring", "bootstrap", "database"] {
            assert!(!repo.join(gone).exists(), "{gone}/ is still at the root");
        }
        let root = std::fs::read_to_string(repo.join("clusters/talos/apps/root.yaml")).unwrap();
        assert!(root.contains("path: clusters/talos/apps\n"), "{root}");
        let script = std::fs::read_to_string(repo.join("clusters/talos/bootstrap/bootstrap-argocd.sh")).unwrap();
        assert!(
            script.contains("kubectl apply -f clusters/talos/apps/root.yaml"),
            "{script}"
        );
        let privacy = std::fs::read_to_string(repo.join("clusters/talos/apps/privacy-appset.yaml")).unwrap();
        assert!(
            privacy.contains("{{path[3]}}-{{path.basename}}"),
            "segment index shifted: {privacy}"
        );
        // Independently of the gate: the generated set is the same, paths moved under clusters/talos.
        let after = generated(&repo, Some("talos"));
        let strip = |v: &[(String, String, String, String)]| -> Vec<(String, String, String)> {
            v.iter().map(|r| (r.0.clone(), r.1.clone(), r.2.clone())).collect()
        };
        assert_eq!(strip(&before), strip(&after));
        for (b, a) in before.iter().zip(&after) {
            assert!(
                a.3.starts_with("clusters/talos/") && a.3.ends_with(&b.3[b.3.find('/').unwrap()..]),
                "{b:?} {a:?}"
            );
        }
        // The migrated apps folder still renders (Argo CD's root Application syncs it).
        let k = Command::new("kubectl")
            .args(["kustomize"])
            .arg(repo.join("clusters/talos/apps"))
            .output()
            .unwrap();
        assert!(k.status.success(), "{}", text(&k));

        // Idempotent: a second run is a no-op.
        let again = fleetctl(&repo, &["migrate", "--yes"]);
        assert_eq!(again.status.code(), Some(0), "{}", text(&again));
        assert!(text(&again).contains("already migrated"), "{}", text(&again));
        assert_eq!(git(&repo, &["rev-list", "--count", "HEAD"]), "2");
    }
}

#[test]
fn a_rename_that_changes_application_names_fails_the_gate_and_commits_nothing() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("fleet");
    gen(&repo, 20, 4, "database");
    let base = git(&repo, &["rev-parse", "HEAD"]);
    // The privacy AppSet names apps <category>-<app>: renaming the category renames the Applications.
    let answers = t.path().join("answers.yaml");
    std::fs::write(
        &answers,
        "p4-move: move-to-defaults\np4-renames: my-apps/privacy=my-apps/private\n",
    )
    .unwrap();
    let out = fleetctl(&repo, &["migrate", "--yes", "--answers", answers.to_str().unwrap()]);
    let o = text(&out);
    assert_eq!(out.status.code(), Some(1), "{o}");
    assert!(o.contains("gate FAILED"), "{o}");
    assert!(o.contains("refusing to commit"), "{o}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("\n-privacy-redlib  project=my-apps"),
        "the diff names the old Application: {stdout}"
    );
    assert!(
        stdout.contains("\n+private-redlib  project=my-apps"),
        "and the new one: {stdout}"
    );
    assert_eq!(git(&repo, &["rev-parse", "HEAD"]), base, "HEAD unchanged");
    assert_eq!(git(&repo, &["rev-list", "--count", "--all"]), "1", "no commit anywhere");

    // Re-running does not commit either (the gate runs again), and --abort restores the legacy layout.
    let again = fleetctl(&repo, &["migrate", "--yes", "--answers", answers.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    let abort = fleetctl(&repo, &["migrate", "--abort"]);
    assert_eq!(abort.status.code(), Some(0), "{}", text(&abort));
    assert_eq!(git(&repo, &["branch", "--show-current"]), "main");
    assert_eq!(git(&repo, &["status", "--porcelain"]), "");
    assert!(repo.join("my-apps/privacy/redlib/kustomization.yaml").is_file());
    assert_eq!(git(&repo, &["branch", "--list", "phase-4-talos-migration"]), "");
    // And a plain migration then goes through.
    let ok = fleetctl(&repo, &["migrate", "--yes"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
}

#[test]
fn an_unshifted_segment_index_fails_the_gate_with_a_readable_diff() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("fleet");
    gen(&repo, 15, 5, "database");
    let ok = fleetctl(&repo, &["migrate", "--yes"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    // Undo the shift by hand: {{path[1]}} on clusters/talos/my-apps/privacy/<app> is "talos".
    let f = repo.join("clusters/talos/apps/privacy-appset.yaml");
    let s = std::fs::read_to_string(&f)
        .unwrap()
        .replace("{{path[3]}}", "{{path[1]}}");
    std::fs::write(&f, s).unwrap();
    let plan = fleetctl::migrate::recorded_plan(&repo).unwrap();
    let base = git(&repo, &["rev-parse", "HEAD~1"]);
    let r = fleetctl::migrate::gate_against_base(&repo, &base, "talos", &plan).unwrap();
    assert!(!r.passed);
    assert!(
        r.diff.contains("\n-privacy-redlib ") && r.diff.contains("\n+talos-redlib "),
        "{}",
        r.diff
    );
    assert!(r.diff.starts_with("--- before (base commit"), "{}", r.diff);
}

#[test]
fn a_template_deriving_names_from_the_whole_path_cannot_migrate_without_churn() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("fleet");
    gen(&repo, 15, 6, "database");
    // An ApplicationSet naming apps after their full path: every move renames them.
    let f = repo.join("infrastructure/controllers/argocd/apps/monitoring-appset.yaml");
    let s = std::fs::read_to_string(&f).unwrap().replace(
        "name: \"{{ .path.basename }}\"",
        "name: '{{ .path.path | replace \"/\" \"-\" }}'",
    );
    std::fs::write(&f, s).unwrap();
    git(&repo, &["commit", "-qam", "path-derived names"]);
    let dry = fleetctl(&repo, &["migrate", "--yes", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(1), "{}", text(&dry));
    assert!(
        String::from_utf8_lossy(&dry.stdout).contains("+clusters-talos-monitoring-"),
        "{}",
        text(&dry)
    );
    assert_eq!(
        git(&repo, &["branch", "--show-current"]),
        "main",
        "a dry run changes nothing"
    );
    assert_eq!(git(&repo, &["status", "--porcelain"]), "");
}

#[test]
fn killed_mid_move_the_next_run_finishes_without_redoing_moves() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("fleet");
    gen(&repo, 20, 8, "database");
    let mut c = Command::new(common::bin());
    c.arg("--repo")
        .arg(&repo)
        .args(["migrate", "--yes", "--answers"])
        .arg({
            let a = t.path().join("confirm.yaml");
            std::fs::write(&a, "p4-move: move-to-defaults\n").unwrap();
            a
        })
        .env("NO_COLOR", "1")
        .env("FLEETCTL_TEST_P4_KILL_AFTER_MOVES", "3")
        .stdin(Stdio::null());
    let killed = c.output().unwrap();
    assert_eq!(killed.status.code(), Some(137), "{}", text(&killed));
    let journal: Value =
        serde_json::from_str(&std::fs::read_to_string(repo.join(".git/fleetctl-phase4.json")).unwrap()).unwrap();
    let done: Vec<bool> = journal["done"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_bool().unwrap())
        .collect();
    // Killed after the third git mv but before journaling it.
    assert_eq!(done.iter().filter(|d| **d).count(), 2, "{journal}");
    assert_eq!(git(&repo, &["rev-list", "--count", "HEAD"]), "1");

    let out = fleetctl(&repo, &["migrate", "--yes"]);
    let o = text(&out);
    assert_eq!(out.status.code(), Some(0), "{o}");
    assert!(o.contains("resuming the migration"), "{o}");
    assert!(o.contains("already moved"), "the interrupted move is recognised: {o}");
    assert!(!o.contains("git mv bootstrap "), "done moves are not redone: {o}");
    assert!(o.contains("gate passed"), "{o}");
    assert_eq!(git(&repo, &["rev-list", "--count", "HEAD"]), "2");
    assert_eq!(git(&repo, &["status", "--porcelain"]), "");
    for gone in ["infrastructure", "my-apps", "monitoring", "bootstrap", "database"] {
        assert!(!repo.join(gone).exists(), "{gone}/ is still at the root");
    }
}

#[test]
fn deleting_an_unmerged_migration_branch_lets_the_next_run_plan_anew() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("fleet");
    gen(&repo, 8, 4, "database");
    let out = fleetctl(&repo, &["migrate", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // --abort does not undo a committed migration; it says how to drop it.
    let abort = fleetctl(&repo, &["migrate", "--abort"]);
    assert_eq!(abort.status.code(), Some(2), "{}", text(&abort));
    assert!(
        text(&abort).contains("git branch -D phase-4-talos-migration"),
        "{}",
        text(&abort)
    );
    git(&repo, &["switch", "-q", "main"]);
    git(&repo, &["branch", "-q", "-D", "phase-4-talos-migration"]);
    let again = fleetctl(&repo, &["migrate", "--yes"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("planning anew"), "{}", text(&again));
    assert_eq!(git(&repo, &["branch", "--show-current"]), "phase-4-talos-migration");
    assert!(repo.join("clusters/talos/apps/root.yaml").is_file());
}

#[test]
fn exit_codes_and_refusals() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("fleet");
    gen(&repo, 10, 9, "database");
    // No terminal, no answers, no --yes: exit 2 naming the decision, nothing changed.
    let out = fleetctl(&repo, &["migrate"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("p4-branch"), "{}", text(&out));
    // --yes alone never moves trees: moving them is destructive.
    let out = Command::new(common::bin())
        .arg("--repo")
        .arg(&repo)
        .args(["migrate", "--yes"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("destructive"), "{}", text(&out));
    assert_eq!(git(&repo, &["branch", "--show-current"]), "main");
    // ...but `migrate --dry-run --yes` (the first example in --help) previews the default plan: nothing moves.
    let out = Command::new(common::bin())
        .arg("--repo")
        .arg(&repo)
        .args(["migrate", "--dry-run", "--yes"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("default destinations"), "{}", text(&out));
    assert!(text(&out).contains("-> clusters/talos/my-apps/"), "{}", text(&out));
    assert_eq!(git(&repo, &["branch", "--show-current"]), "main");
    assert_eq!(git(&repo, &["status", "--porcelain"]), "");
    // A destination inside .git is refused before anything moves.
    let answers = t.path().join("git.yaml");
    std::fs::write(&answers, "p4-move: move-to-defaults\np4-dest-my-apps: .git/x\n").unwrap();
    let out = fleetctl(&repo, &["migrate", "--yes", "--answers", answers.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(".git/"), "{}", text(&out));
    assert!(!repo.join(".git/x").exists());
    // A bad destination answer.
    let answers = t.path().join("a.yaml");
    std::fs::write(&answers, "p4-move: move-to-defaults\np4-dest-my-apps: ../outside\n").unwrap();
    let out = fleetctl(&repo, &["migrate", "--yes", "--answers", answers.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("p4-dest-my-apps"), "{}", text(&out));
    // A dirty working tree.
    std::fs::write(repo.join("monitoring/new.yaml"), "x: 1\n").unwrap();
    let out = fleetctl(&repo, &["migrate", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("uncommitted changes"), "{}", text(&out));
    std::fs::remove_file(repo.join("monitoring/new.yaml")).unwrap();
    assert_eq!(git(&repo, &["branch", "--show-current"]), "main");
    // Not a Git repository.
    let plain = t.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let out = fleetctl(&plain, &["migrate", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not a Git repository"), "{}", text(&out));
    // "keep" for every tree: nothing to move, exit 0, no branch.
    std::fs::write(
        &answers,
        "p4-dest-infrastructure: keep\np4-dest-my-apps: keep\np4-dest-monitoring: keep\np4-dest-database: keep\np4-dest-bootstrap: keep\np4-dest-apps-folder: keep\n",
    )
    .unwrap();
    let out = fleetctl(&repo, &["migrate", "--yes", "--answers", answers.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("nothing to move"), "{}", text(&out));
    // Keeping the apps folder in place while its parent moves still works (it is moved back out).
    std::fs::write(
        &answers,
        "p4-move: move-to-defaults\np4-dest-apps-folder: keep\np4-branch: keep-apps\n",
    )
    .unwrap();
    let out = fleetctl(&repo, &["migrate", "--yes", "--answers", answers.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(repo.join("infrastructure/controllers/argocd/apps/root.yaml").is_file());
    assert_eq!(git(&repo, &["branch", "--show-current"]), "keep-apps");
}

fn copy_tree(src: &Path, dst: &Path) {
    common::copy_dir(src, dst);
}

/// The real repo is already in the new layout: `migrate` says so and changes nothing.
#[test]
fn the_real_repo_is_already_migrated() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"));
    let t = tempfile::tempdir().unwrap();
    let repo = t.path();
    for d in ["clusters", "apps-shared", "runbooks"] {
        copy_tree(&src.join(d), &repo.join(d));
    }
    git(repo, &["init", "-q", "-b", "main"]);
    common::legacy::commit_all(repo, "real");
    let out = fleetctl(repo, &["migrate", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("already migrated"), "{}", text(&out));
    assert_eq!(git(repo, &["branch", "--show-current"]), "main");
}

// ---- cluster side: phase 4 against the simulated Talos cluster ----
