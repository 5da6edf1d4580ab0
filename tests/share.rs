//! `fleetctl share APP` (issue 11 item 5): an existing Talos app becomes apps-shared/<app>/{base,overlays/<cluster>}
//! on a branch. The Talos overlay renders byte-identical to the old app (checked here with kubectl itself, not
//! fleetctl's renderer), the OpenShift overlay differs only in allowed deltas, the old entry leaves its
//! ApplicationSet in the same commit, and the hand-off is refused when Argo CD would delete the app's objects.
//! The last tests run the hand-off on the simulated Argo CD.

mod common;

use common::legacy::{commit_all, fleetctl, generated, git, kustomize};
use common::{copy_dir, text, SimProc};
use std::path::Path;
use std::time::{Duration, Instant};

const OLD: &str = "clusters/talos/my-apps/privacy/redlib";

fn write(repo: &Path, rel: &str, s: &str) {
    let p = repo.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, s).unwrap();
}

/// This repo's clusters and shared apps, with Redlib not yet shared: it runs on Talos from my-apps
/// (tests/fixtures/share/redlib: Talos Gateway and hostname, longhorn PVC, pinned runAsUser/fsGroup, env,
/// limits, labels, a configMapGenerator and a component outside the app).
fn sample(preserve: bool) -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = tempfile::tempdir().unwrap();
    let repo = d.path();
    copy_dir(&root.join("clusters"), &repo.join("clusters"));
    copy_dir(&root.join("apps-shared"), &repo.join("apps-shared"));
    std::fs::remove_dir_all(repo.join("apps-shared/redlib")).unwrap();
    copy_dir(&root.join("tests/fixtures/share/redlib"), &repo.join(OLD));
    set_preserve(repo, preserve);
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["config", "user.name", "t"]);
    git(repo, &["config", "user.email", "t@example.invalid"]);
    commit_all(repo, "fleet");
    d
}

/// Take out (or leave) `spec.syncPolicy.preserveResourcesOnDeletion: true` of the my-apps ApplicationSet, which
/// this fleet sets.
fn set_preserve(repo: &Path, on: bool) {
    let p = repo.join("clusters/talos/apps/my-apps-appset.yaml");
    let s = std::fs::read_to_string(&p).unwrap();
    let line = "  syncPolicy:\n    preserveResourcesOnDeletion: true\n";
    assert!(
        s.contains(line),
        "the fleet's my-apps ApplicationSet preserves resources: {s}"
    );
    if !on {
        std::fs::write(p, s.replacen(line, "", 1)).unwrap();
    }
}

fn branches(repo: &Path) -> String {
    git(repo, &["branch", "--list"])
}

#[test]
fn share_commits_a_branch_whose_talos_overlay_renders_byte_identical_and_openshift_differs_only_in_allowed_deltas() {
    let d = sample(true);
    let repo = d.path();
    let before = kustomize(&repo.join(OLD));
    let head = git(repo, &["rev-parse", "HEAD"]);

    let out = fleetctl(repo, &["share", "redlib"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("renders byte-identical"), "{t}");
    assert!(t.contains("committed") && t.contains("fleetctl/share-redlib"), "{t}");

    // The user's checkout is untouched: same branch, same commit, clean, the old app still there.
    assert_eq!(git(repo, &["rev-parse", "HEAD"]), head);
    assert_eq!(git(repo, &["status", "--porcelain"]), "");
    assert!(repo.join(OLD).is_dir());
    assert_eq!(
        git(repo, &["worktree", "list"]).lines().count(),
        1,
        "no worktree is left behind"
    );

    git(repo, &["switch", "-q", "fleetctl/share-redlib"]);
    // Byte-identical, by kubectl's own kustomize.
    assert_eq!(kustomize(&repo.join("apps-shared/redlib/overlays/talos")), before);
    assert!(!repo.join(OLD).exists(), "the old directory moved");
    // The base is platform-neutral: no Talos Gateway, hostname, StorageClass or pinned user.
    let base = kustomize(&repo.join("apps-shared/redlib/base"));
    for talos_only in ["gateway-external", "vanillax.me", "longhorn", "runAsUser", "fsGroup"] {
        assert!(!base.contains(talos_only), "{talos_only} left in the base:\n{base}");
    }
    // OpenShift gets its Gateway, hostname and StorageClass; env, limits and labels are kept.
    let os = kustomize(&repo.join("apps-shared/redlib/overlays/openshift"));
    for want in [
        "name: apps-gateway",
        "redlib.apps.sno-ai-lab.vanillax.xyz",
        "storageClassName: lvms-vg1",
        "REDLIB_ROBOTS_DISABLE_INDEXING",
        "memory: 1Gi",
        "tier: frontend",
        "REDLIB_DEFAULT_THEME: dark",
        "type: RuntimeDefault",
    ] {
        assert!(os.contains(want), "{want} missing from the OpenShift overlay:\n{os}");
    }
    assert!(!os.contains("runAsUser") && !os.contains("fsGroup"), "{os}");
    // The old entry is excluded by the AppSet, and the shared one takes over with the same namespace.
    let apps = generated(repo, Some("talos"));
    assert!(!apps.iter().any(|a| a.0 == "my-apps-redlib"), "{apps:?}");
    assert!(
        apps.iter()
            .any(|a| a.0 == "shared-redlib" && a.2 == "redlib" && a.3 == "apps-shared/redlib/overlays/talos"),
        "{apps:?}"
    );
    let appset = std::fs::read_to_string(repo.join("clusters/talos/apps/my-apps-appset.yaml")).unwrap();
    assert!(
        appset.contains(&format!("- path: {OLD}")) && appset.contains("exclude: true"),
        "{appset}"
    );
    // verify (rules overlay-delta, shared-base-uid, httproute-shared-base, ...) is clean on the branch.
    let out = fleetctl(repo, &["verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // One commit on top of the start.
    assert_eq!(git(repo, &["rev-list", "--count", &format!("{head}..HEAD")]), "1");
}

#[test]
fn share_refuses_when_removing_the_old_application_would_delete_its_objects() {
    let d = sample(false);
    let repo = d.path();
    let out = fleetctl(repo, &["share", "redlib"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("preserveResourcesOnDeletion"), "{t}");
    assert!(
        t.contains("clusters/talos/apps/my-apps-appset.yaml:"),
        "names the file:line: {t}"
    );
    assert!(
        !branches(repo).contains("share"),
        "no branch is left: {}",
        branches(repo)
    );
    assert_eq!(git(repo, &["worktree", "list"]).lines().count(), 1);
    assert_eq!(git(repo, &["status", "--porcelain"]), "");
}

#[test]
fn share_refuses_when_no_applicationset_would_deploy_the_shared_overlay() {
    let d = sample(true);
    let repo = d.path();
    std::fs::remove_file(repo.join("clusters/talos/apps/shared-apps-appset.yaml")).unwrap();
    let k = repo.join("clusters/talos/apps/kustomization.yaml");
    let s = std::fs::read_to_string(&k)
        .unwrap()
        .replace("  - shared-apps-appset.yaml\n", "");
    std::fs::write(&k, s).unwrap();
    commit_all(repo, "no shared-apps");
    let out = fleetctl(repo, &["share", "redlib", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("no ApplicationSet of cluster talos deploys"),
        "{}",
        text(&out)
    );
    assert!(!branches(repo).contains("share"));
}

#[test]
fn share_dry_run_and_bad_input_leave_nothing() {
    let d = sample(true);
    let repo = d.path();
    let out = fleetctl(repo, &["share", "redlib", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("dry run"), "{}", text(&out));
    assert!(!branches(repo).contains("share"));
    let out = fleetctl(repo, &["share", "nosuchapp"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no kustomization directory named nosuchapp"),
        "{}",
        text(&out)
    );
    let out = fleetctl(repo, &["share", "it-tools", "--from", "clusters/talos/my-apps/nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// A share killed mid-way leaves its temporary worktree on the branch; the next run clears it and shares. A
/// finished share's branch (no worktree) is never touched.
#[test]
fn an_interrupted_share_is_cleared_and_a_finished_one_is_kept() {
    let d = sample(true);
    let repo = d.path();
    let tmp = tempfile::tempdir().unwrap();
    let wt = tmp.path().join("worktree");
    git(
        repo,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "fleetctl/share-redlib",
            wt.to_str().unwrap(),
            "HEAD",
        ],
    );
    std::fs::write(wt.join("half-written"), "x").unwrap();
    let out = fleetctl(repo, &["share", "redlib"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("interrupted run"), "{}", text(&out));
    assert!(!git(repo, &["ls-tree", "-r", "--name-only", "fleetctl/share-redlib"]).contains("half-written"));
    let commit = git(repo, &["rev-parse", "fleetctl/share-redlib"]);
    let out = fleetctl(repo, &["share", "redlib"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    assert_eq!(git(repo, &["rev-parse", "fleetctl/share-redlib"]), commit);
}

/// Phase 3 comes before Phase 4: the owner's repo still has root-level my-apps/ and its ApplicationSets under
/// infrastructure/controllers/argocd/apps/, with clusters/openshift/ added beside it.
#[test]
fn share_works_on_the_legacy_layout_before_phase_4() {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path();
    common::legacy::gen(repo, 12, 7, "database");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("clusters/openshift"), &repo.join("clusters/openshift"));
    let apps = "infrastructure/controllers/argocd/apps";
    // my-apps/privacy/* comes from its own ApplicationSet, `privacy`.
    let appset = repo.join(apps).join("privacy-appset.yaml");
    let s = std::fs::read_to_string(&appset).unwrap();
    let s = s.replacen(
        "spec:\n",
        "spec:\n  syncPolicy:\n    preserveResourcesOnDeletion: true\n",
        1,
    );
    std::fs::write(&appset, s).unwrap();
    // The Talos twin of the shared-apps ApplicationSet, as Phase 3 adds it.
    let shared = std::fs::read_to_string(root.join("clusters/talos/apps/shared-apps-appset.yaml")).unwrap();
    write(repo, &format!("{apps}/shared-apps-appset.yaml"), &shared);
    let k = repo.join(apps).join("kustomization.yaml");
    let list = std::fs::read_to_string(&k).unwrap() + "  - shared-apps-appset.yaml\n";
    std::fs::write(&k, list).unwrap();
    commit_all(repo, "phase 3 prerequisites");
    let old = "my-apps/privacy/redlib";
    let before = kustomize(&repo.join(old));

    let out = fleetctl(repo, &["share", "redlib"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    git(repo, &["switch", "-q", "fleetctl/share-redlib"]);
    assert_eq!(kustomize(&repo.join("apps-shared/redlib/overlays/talos")), before);
    let rows = generated(repo, None);
    assert!(!rows.iter().any(|a| a.3 == old), "{rows:?}");
    assert!(
        rows.iter().any(|a| a.3 == "apps-shared/redlib/overlays/talos"),
        "{rows:?}"
    );
}

// --- the hand-off on the simulated Argo CD ---

fn app_field(sim: &SimProc, name: &str, jsonpath: &str) -> Option<String> {
    let o = sim.kubectl(
        &[
            "get",
            "application",
            "-n",
            "argocd",
            name,
            "-o",
            &format!("jsonpath={jsonpath}"),
        ],
        None,
    );
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).to_string())
}

fn deployment_uid(sim: &SimProc) -> Option<String> {
    let o = sim.kubectl(
        &[
            "get",
            "deployment",
            "-n",
            "redlib",
            "redlib",
            "-o",
            "jsonpath={.metadata.uid}",
        ],
        None,
    );
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).to_string())
        .filter(|s| !s.is_empty())
}

fn wait(what: &str, sim: &SimProc, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "timed out waiting for {what}: {}",
            sim.stats()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn apply(sim: &SimProc, file: &Path, edit: impl Fn(String) -> String) {
    let s = edit(std::fs::read_to_string(file).unwrap());
    let out = sim.kubectl(&["apply", "-f", "-"], Some(&s));
    assert!(out.status.success(), "{}", text(&out));
}

/// Runs the Talos fleet's my-apps and shared-apps ApplicationSets on the simulated Argo CD, merges the share
/// branch (the working tree the simulated Argo CD reads), applies the new my-apps ApplicationSet as the root
/// Application would, and returns the Deployment's uid before and after the hand-off.
fn hand_off(preserve_live: bool) -> (String, String) {
    let d = sample(true);
    let repo = d.path();
    let out = fleetctl(repo, &["share", "redlib"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let sim = SimProc::on_fleet("talos", "talos", "", 20.0, repo);
    let strip = |s: String| {
        if preserve_live {
            s
        } else {
            s.replacen("  syncPolicy:\n    preserveResourcesOnDeletion: true\n", "", 1)
        }
    };
    let my_apps = repo.join("clusters/talos/apps/my-apps-appset.yaml");
    apply(&sim, &my_apps, strip);
    apply(&sim, &repo.join("clusters/talos/apps/shared-apps-appset.yaml"), |s| s);
    wait("my-apps-redlib to sync", &sim, || {
        app_field(&sim, "my-apps-redlib", "{.status.sync.status}").as_deref() == Some("Synced")
            && deployment_uid(&sim).is_some()
    });
    let finalizers = app_field(&sim, "my-apps-redlib", "{.metadata.finalizers}").unwrap_or_default();
    assert_eq!(
        finalizers.contains("resources-finalizer.argocd.argoproj.io"),
        !preserve_live,
        "generated Applications carry the resources finalizer unless the ApplicationSet preserves resources: {finalizers}"
    );
    let before = deployment_uid(&sim).unwrap();

    git(repo, &["switch", "-q", "fleetctl/share-redlib"]);
    apply(&sim, &my_apps, strip);
    wait("the hand-off to shared-redlib", &sim, || {
        app_field(&sim, "my-apps-redlib", "{.metadata.name}").is_none()
            && app_field(&sim, "shared-redlib", "{.status.sync.status}").as_deref() == Some("Synced")
            && deployment_uid(&sim).is_some()
    });
    (before, deployment_uid(&sim).unwrap())
}

#[test]
fn the_hand_off_keeps_the_running_deployment_when_the_applicationset_preserves_resources() {
    let (before, after) = hand_off(true);
    assert_eq!(before, after, "the Deployment was adopted, not recreated");
}

/// The naive hand-off `share` refuses: without preserveResourcesOnDeletion the old Application's finalizer
/// makes Argo CD delete the Deployment, and the shared Application recreates it (a new uid: a restart, and
/// for a PVC, lost data).
#[test]
fn without_preserved_resources_the_hand_off_recreates_the_deployment() {
    let (before, after) = hand_off(false);
    assert_ne!(before, after, "the Deployment should have been deleted and recreated");
}
