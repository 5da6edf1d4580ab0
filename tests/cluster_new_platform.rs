//! `fleetctl cluster new` for another platform scaffolds from fleetctl's embedded template of that platform,
//! rewrites only the fields that carry a cluster's facts, and `--from` copies only a cluster of the same
//! platform (docs/adding-a-cluster.md).

mod common;

use common::legacy::kustomize;
use common::text;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn run(repo: &Path, args: &[&str]) -> Output {
    Command::new(common::bin())
        .arg("--repo")
        .arg(repo)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                all.push(e.path());
            }
        }
    }
    all.sort();
    all
}

/// Every file's text without its comment lines.
fn live_text(dir: &Path) -> Vec<(PathBuf, String)> {
    files(dir)
        .into_iter()
        .map(|f| {
            let t = std::fs::read_to_string(&f).unwrap();
            let live: Vec<&str> = t.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
            (f, live.join("\n"))
        })
        .collect()
}

/// The kustomization roots under `dir`, relative to it.
fn roots(dir: &Path) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|f| f.file_name().unwrap() == "kustomization.yaml")
        .map(|f| f.parent().unwrap().strip_prefix(dir).unwrap().to_path_buf())
        .collect()
}

fn images(rendered: &str) -> BTreeSet<String> {
    rendered
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("image: "))
        .map(|s| s.trim().to_string())
        .collect()
}

/// `cluster new sno-b --platform openshift --apps-domain apps.sno-b.example.org` (from the built-in template).
fn new_sno_b(repo: &Path) -> Output {
    run(
        repo,
        &[
            "cluster",
            "new",
            "sno-b",
            "--platform",
            "openshift",
            "--apps-domain",
            "apps.sno-b.example.org",
        ],
    )
}

#[test]
fn openshift_from_the_builtin_template_has_no_talos_parts_renders_and_verifies_clean() {
    let dir = common::repo_copy();
    let repo = dir.path();
    let out = new_sno_b(repo);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("built-in openshift template"), "{}", text(&out));
    let new = repo.join("clusters/sno-b");

    // The OpenShift bootstrap: the GitOps operator, the ArgoCD CR, the root on the new folder.
    let read = |p: &str| std::fs::read_to_string(new.join(p)).unwrap();
    assert!(read("bootstrap/operator/subscription.yaml").contains("kind: Subscription"));
    assert!(read("bootstrap/argocd/argocd.yaml").contains("kind: ArgoCD"));
    assert!(read("bootstrap/root/root.yaml").contains("path: clusters/sno-b/apps"));
    assert!(!new.join("bootstrap/bootstrap-argocd.sh").exists() && !new.join("bootstrap/values.yaml").exists());
    let spec = read("cluster.yaml");
    assert!(
        spec.contains("platform: openshift") && spec.contains("flavour: operator"),
        "{spec}"
    );
    assert!(spec.contains("appsDomain: apps.sno-b.example.org") && spec.contains("kubeContext: sno-b"));

    // Nothing of Talos, and nothing still naming the reference cluster's folder or domain.
    for (f, t) in live_text(&new) {
        let low = t.to_lowercase();
        for bad in [
            "cilium",
            "longhorn",
            "flavour: helm",
            "clusters/openshift/",
            "sno-ai-lab.vanillax.xyz",
        ] {
            assert!(!low.contains(bad), "{} holds {bad}:\n{t}", f.display());
        }
    }
    assert!(read("infrastructure/gateway/gateway.yaml").contains("hostname: \"*.apps.sno-b.example.org\""));
    let overlay =
        std::fs::read_to_string(repo.join("apps-shared/vaultwarden/overlays/sno-b/kustomization.yaml")).unwrap();
    assert!(overlay.contains("- vaultwarden.apps.sno-b.example.org"), "{overlay}");
    assert!(
        overlay.contains("value: https://vaultwarden.apps.sno-b.example.org"),
        "{overlay}"
    );

    // Every new kustomization renders, with the same images as the root it was made from.
    let pairs: Vec<(PathBuf, PathBuf)> = roots(&new)
        .into_iter()
        .map(|r| (repo.join("clusters/openshift").join(&r), new.join(&r)))
        .chain(["redlib", "vaultwarden"].iter().map(|a| {
            let o = repo.join("apps-shared").join(a).join("overlays");
            (o.join("openshift"), o.join("sno-b"))
        }))
        .collect();
    assert!(pairs.len() > 20, "{}", pairs.len());
    for (old, new) in &pairs {
        let (a, b) = (kustomize(old), kustomize(new));
        assert_eq!(images(&a), images(&b), "{}", new.display());
    }

    let Some(crds) = common::test_crds() else { return };
    let v = run(repo, &["verify", "--crds", crds.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "verify must be clean: {}", text(&v));
    let g = run(repo, &["appset", "generate", "--cluster", "sno-b", "--output", "json"]);
    assert!(g.status.success(), "{}", text(&g));
    let j: serde_json::Value = serde_json::from_slice(&g.stdout).unwrap();
    let paths: Vec<&str> = j["applications"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["source"]["path"].as_str())
        .collect();
    assert!(!paths.is_empty(), "{}", text(&g));
    for p in &paths {
        let ours =
            p.starts_with("clusters/sno-b/") || (p.starts_with("apps-shared/") && p.ends_with("/overlays/sno-b"));
        assert!(ours, "sno-b's ApplicationSets must point at sno-b's folders: {p}");
    }
}

/// A domain that also appears in an image reference or a label key is only rewritten where it is a host.
#[test]
fn only_host_fields_move_to_the_new_domain() {
    let dir = common::repo_copy();
    let repo = dir.path();
    let k = repo.join("apps-shared/redlib/overlays/openshift/kustomization.yaml");
    let mut t = std::fs::read_to_string(&k).unwrap();
    t.push_str(
        "images:\n  - name: quay.io/redlib/redlib\n    newName: registry.apps.sno-ai-lab.vanillax.xyz/mirror/redlib\n\
         commonAnnotations:\n  mirror.apps.sno-ai-lab.vanillax.xyz/source: apps.sno-ai-lab.vanillax.xyz\n",
    );
    std::fs::write(&k, t).unwrap();
    let out = new_sno_b(repo);
    assert!(out.status.success(), "{}", text(&out));
    let r = kustomize(&repo.join("apps-shared/redlib/overlays/sno-b"));
    assert!(
        r.contains("image: registry.apps.sno-ai-lab.vanillax.xyz/mirror/redlib:latest"),
        "{r}"
    );
    assert!(
        r.contains("mirror.apps.sno-ai-lab.vanillax.xyz/source: apps.sno-ai-lab.vanillax.xyz"),
        "{r}"
    );
    assert!(r.contains("- redlib.apps.sno-b.example.org"), "{r}");
}

#[test]
fn from_another_platform_is_refused_and_writes_nothing() {
    let dir = common::repo_copy();
    let repo = dir.path();
    let before = files(repo);
    let out = run(
        repo,
        &["cluster", "new", "sno-c", "--platform", "openshift", "--from", "talos"],
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("same platform") && t.contains("next:"), "{t}");
    assert_eq!(t.trim().lines().count(), 1, "one line: {t}");
    assert_eq!(files(repo), before, "nothing may be written");
    assert!(!repo.join("clusters/sno-c").exists());
}

#[test]
fn from_the_same_platform_copies_that_cluster_and_verifies_clean() {
    let dir = common::repo_copy();
    let repo = dir.path();
    let out = run(
        repo,
        &[
            "cluster",
            "new",
            "sno-c",
            "--platform",
            "openshift",
            "--from",
            "openshift",
            "--apps-domain",
            "apps.sno-c.example.org",
            "--storage-class",
            "fast",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("from clusters/openshift"), "{}", text(&out));
    let new = repo.join("clusters/sno-c");
    assert_eq!(roots(&new), roots(&repo.join("clusters/openshift")));
    for r in roots(&new) {
        kustomize(&new.join(r));
    }
    let v = kustomize(&repo.join("apps-shared/vaultwarden/overlays/sno-c"));
    assert!(
        v.contains("storageClassName: fast") && v.contains("- vaultwarden.apps.sno-c.example.org"),
        "{v}"
    );
    let Some(crds) = common::test_crds() else { return };
    let v = run(repo, &["verify", "--crds", crds.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "verify must be clean: {}", text(&v));
}

/// A repo that has never held an OpenShift cluster: the cluster and the overlays come from the templates.
#[test]
fn a_repo_without_openshift_gets_the_template_and_template_overlays() {
    let dir = common::repo_copy();
    let repo = dir.path();
    std::fs::remove_dir_all(repo.join("clusters/openshift")).unwrap();
    for a in ["redlib", "vaultwarden"] {
        std::fs::remove_dir_all(repo.join("apps-shared").join(a).join("overlays/openshift")).unwrap();
    }
    let out = run(
        repo,
        &[
            "cluster",
            "new",
            "sno-b",
            "--platform",
            "openshift",
            "--apps-domain",
            "apps.sno-b.example.org",
            "--storage-class",
            "fast",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let new = repo.join("clusters/sno-b");
    assert!(new.join("bootstrap/operator/subscription.yaml").is_file());
    for r in roots(&new) {
        kustomize(&new.join(r));
    }
    let v = kustomize(&repo.join("apps-shared/vaultwarden/overlays/sno-b"));
    assert!(v.contains("storageClassName: fast"), "{v}");
    assert!(
        v.contains("- vaultwarden.apps.sno-b.example.org") && v.contains("name: apps-gateway"),
        "{v}"
    );
    assert!(!v.contains("longhorn") && !v.contains("gateway-internal"), "{v}");
}
