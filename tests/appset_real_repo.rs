//! `appset generate` on this repository's own fleet (clusters/<name>/apps): a few known rows,
//! and invariants that must hold however many apps the fleet grows.

use fleetctl::appset::{self, GeneratedApp};
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn generate_cluster(cluster: &str) -> Vec<GeneratedApp> {
    let scope = appset::cluster_scope(repo(), cluster).unwrap();
    let sets = appset::load_appsets(repo(), Some(&scope)).unwrap();
    assert!(!sets.is_empty(), "no ApplicationSets under clusters/{cluster}");
    appset::generate(repo(), &sets).unwrap()
}

fn find<'a>(apps: &'a [GeneratedApp], name: &str) -> &'a GeneratedApp {
    apps.iter().find(|a| a.name == name).unwrap_or_else(|| {
        panic!(
            "no Application {name}; got {:?}",
            apps.iter().map(|a| &a.name).collect::<Vec<_>>()
        )
    })
}

#[test]
fn openshift_workloads_appset_yields_redlib_from_its_overlay() {
    let apps = generate_cluster("openshift");
    let redlib = find(&apps, "shared-redlib");
    assert_eq!(redlib.appset, "openshift-apps");
    assert_eq!(redlib.namespace, "argocd");
    assert_eq!(redlib.project, "openshift-apps");
    assert_eq!(redlib.destination.namespace.as_deref(), Some("redlib"));
    assert_eq!(
        redlib.destination.server.as_deref(),
        Some("https://kubernetes.default.svc")
    );
    assert_eq!(redlib.source.path, "apps-shared/redlib/overlays/openshift");
    assert_eq!(redlib.source.target_revision, "HEAD");
    assert_eq!(redlib.cluster.as_deref(), Some("openshift"));
    assert!(redlib.self_heal());
    assert_eq!(
        redlib.appset_file,
        Path::new("clusters/openshift/layers/phase-3/openshift-apps-appset.yaml")
    );
}

#[test]
fn openshift_platform_apps_carry_their_waves_and_namespaces() {
    let apps = generate_cluster("openshift");
    let wave = |n: &str| find(&apps, n).annotations.get("argocd.argoproj.io/sync-wave").cloned();
    let dest = |n: &str| find(&apps, n).destination.namespace.clone();
    assert_eq!(wave("external-secrets-operator").as_deref(), Some("-2"));
    assert_eq!(wave("gateway").as_deref(), Some("2"));
    assert_eq!(dest("gateway").as_deref(), Some("openshift-ingress"));
    assert_eq!(dest("lvm-storage-operator").as_deref(), Some("openshift-lvm-storage"));
    assert_eq!(
        find(&apps, "cert-manager").source.path,
        "clusters/openshift/infrastructure/cert-manager"
    );
    // Platform apps all come before the workloads of the same cluster.
    let first_workload = apps.iter().position(|a| a.appset == "openshift-apps").unwrap();
    assert!(apps[..first_workload].iter().all(|a| a.project == "infrastructure"));
}

#[test]
fn talos_rows_keep_the_migrated_names_and_self_heal_exception() {
    let apps = generate_cluster("talos");
    let pg = find(&apps, "app-postgres");
    assert_eq!(pg.appset, "database");
    assert_eq!(pg.destination.namespace.as_deref(), Some("app-postgres"));
    assert_eq!(
        pg.source.path,
        "clusters/talos/infrastructure/database/postgres/app-postgres"
    );
    assert!(
        !pg.self_heal(),
        "the database ApplicationSet keeps selfHeal off on purpose"
    );

    let it = find(&apps, "my-apps-it-tools");
    assert_eq!(it.destination.namespace.as_deref(), Some("it-tools"));
    assert_eq!(it.source.path, "clusters/talos/my-apps/utilities/it-tools");

    let redlib = find(&apps, "shared-redlib");
    assert_eq!(redlib.source.path, "apps-shared/redlib/overlays/talos");
    assert_eq!(redlib.destination.namespace.as_deref(), Some("redlib"));

    // my-apps/common/* holds components, not apps.
    assert!(apps.iter().all(|a| !a.source.path.contains("/my-apps/common/")));
}

#[test]
fn every_cluster_is_consistent_and_free_of_shared_resources() {
    for cluster in ["talos", "openshift"] {
        let apps = generate_cluster(cluster);
        for a in &apps {
            assert_eq!(a.namespace, "argocd", "{}", a.name);
            assert!(repo().join(&a.source.path).is_dir(), "{}: {}", a.name, a.source.path);
            let own = a.source.path.starts_with(&format!("clusters/{cluster}/"))
                || a.source.path.ends_with(&format!("/overlays/{cluster}"));
            assert!(own, "{} on {cluster} deploys {}", a.name, a.source.path);
            assert!(!a.name.contains("<no value>") && !a.name.contains("{{"), "{}", a.name);
        }
        let conflicts = appset::conflicts(repo(), &apps).unwrap();
        assert!(
            conflicts.is_empty(),
            "{cluster}: {}",
            conflicts.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("; ")
        );
    }
    // Whole repo: both clusters (the same Application name in two Argo CD instances is fine);
    // the crate's test fixtures are not part of the fleet.
    let all = appset::load_appsets(repo(), None).unwrap();
    assert!(
        all.iter().all(|s| s.path.starts_with("clusters/")),
        "{:?}",
        all.iter().map(|s| s.location()).collect::<Vec<_>>()
    );
    let apps = appset::generate(repo(), &all).unwrap();
    assert_eq!(apps.iter().filter(|a| a.name == "shared-redlib").count(), 2);
}
