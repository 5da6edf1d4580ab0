use super::*;
use crate::migrate::plan::Move;

fn mv(from: &str, to: &str) -> Move {
    Move {
        id: from.into(),
        from: from.into(),
        to: to.into(),
        default: to.into(),
        file: false,
    }
}

fn plan() -> Plan {
    let mut p = Plan {
        moves: vec![
            mv("infrastructure", "clusters/talos/infrastructure"),
            mv("my-apps", "clusters/talos/my-apps"),
            mv("infrastructure/controllers/argocd/apps", "clusters/talos/apps"),
            mv(
                "scripts/bootstrap-argocd.sh",
                "clusters/talos/bootstrap/bootstrap-argocd.sh",
            ),
        ],
    };
    p.moves[3].file = true;
    p
}

fn tree(files: &[&str]) -> (tempfile::TempDir, Tree) {
    let t = tempfile::tempdir().unwrap();
    for f in files {
        let p = t.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x").unwrap();
    }
    let tr = Tree::load(t.path());
    (t, tr)
}

const FILES: &[&str] = &[
    "infrastructure/controllers/argocd/values.yaml",
    "infrastructure/controllers/argocd/root.yaml",
    "infrastructure/controllers/argocd/apps/kustomization.yaml",
    "my-apps/media/a/kustomization.yaml",
    "scripts/bootstrap-argocd.sh",
    "scripts/other.sh",
];

#[test]
fn a_moved_script_finds_the_root_from_its_new_folder() {
    let (_t, before) = tree(FILES);
    let script = "SCRIPT_DIR=\"$( cd \"$( dirname \"${BASH_SOURCE[0]}\" )\" && pwd )\"\nROOT_DIR=\"$( cd \"$SCRIPT_DIR/..\" && pwd )\"\nhelm --values \"$ROOT_DIR/infrastructure/controllers/argocd/values.yaml\"\nkubectl apply -f \"$ROOT_DIR/infrastructure/controllers/argocd/apps/kustomization.yaml\"\nbash \"$SCRIPT_DIR/other.sh\"\n";
    let (out, changes) = rewrite_text(
        script,
        &plan(),
        &before,
        "scripts/bootstrap-argocd.sh",
        "clusters/talos/bootstrap/bootstrap-argocd.sh",
    );
    assert!(out.contains("cd \"$SCRIPT_DIR/../../..\" && pwd"), "{out}");
    assert!(
        out.contains("\"$ROOT_DIR/clusters/talos/infrastructure/controllers/argocd/values.yaml\""),
        "{out}"
    );
    assert!(
        out.contains("\"$ROOT_DIR/clusters/talos/apps/kustomization.yaml\""),
        "{out}"
    );
    assert!(out.contains("\"$SCRIPT_DIR/../../../scripts/other.sh\""), "{out}");
    assert_eq!(changes.len(), 4, "{changes:?}");
}

#[test]
fn plain_paths_globs_and_words() {
    let (_t, before) = tree(FILES);
    let text = "run: kubectl kustomize infrastructure/controllers/argocd/apps\nproject: my-apps\n  - \"my-apps/**\"\n  - \"infrastructure/**\"\nurl: https://example.org/my-apps/x\n\"fileMatch\": [\"^infrastructure/.+\\\\.yaml$\", \"^my-apps/.+\\\\.yaml$\"]\n";
    let (out, _) = rewrite_text(text, &plan(), &before, "ci.yaml", "ci.yaml");
    assert!(out.contains("kustomize clusters/talos/apps\n"), "{out}");
    assert!(out.contains("project: my-apps\n"), "a bare word is not a path: {out}");
    assert!(out.contains("  - \"clusters/talos/my-apps/**\"\n"), "{out}");
    assert!(
        out.contains("  - \"clusters/talos/infrastructure/**\"\n  - \"clusters/talos/apps/**\"\n"),
        "the part that moves elsewhere gets its own item: {out}"
    );
    assert!(out.contains("https://example.org/my-apps/x"), "{out}");
    assert!(
        out.contains("[\"^clusters/talos/infrastructure/.+\\\\.yaml$\", \"^clusters/talos/apps/.+\\\\.yaml$\", \"^clusters/talos/my-apps/.+\\\\.yaml$\"]"),
        "{out}"
    );
}

#[test]
fn a_path_built_from_a_variable_is_not_rewritten_and_is_reported() {
    let (_t, before) = tree(FILES);
    let mut after_files: Vec<String> = FILES.iter().map(|f| plan().map(f)).collect();
    after_files.sort();
    let refs: Vec<&str> = after_files.iter().map(String::as_str).collect();
    let (_t2, after) = tree(&refs);
    let script = "ROOT_DIR=\"$(git rev-parse --show-toplevel)\"\nAPPS_TREE=my-apps\nls \"$ROOT_DIR/$APPS_TREE\"/*/\nls \"$ROOT_DIR/my-apps/media\"\n";
    let (out, _) = rewrite_text(script, &plan(), &before, "scripts/x.sh", "scripts/x.sh");
    assert!(out.contains("APPS_TREE=my-apps\n"), "{out}");
    assert!(out.contains("\"$ROOT_DIR/clusters/talos/my-apps/media\""), "{out}");
    let stale = check_text(
        &out,
        Some(script),
        &plan(),
        (&before, &after),
        ("scripts/x.sh", "scripts/x.sh"),
    );
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(stale[0].line, 3);
    assert_eq!(stale[0].path, "my-apps");
    assert_eq!(stale[0].built_from, Some(("APPS_TREE".to_string(), 2)));
}
