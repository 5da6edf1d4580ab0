//! `appset generate` against a legacy-style fleet fixture: both templating styles, an explicit
//! directory list, an exclude entry, nested overlay paths with `index .path.segments`.
//! The expected rows are written by hand from the fixture's directory tree.

use fleetctl::appset::{self, GeneratedApp};
use serde_json::json;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/appset")
        .join(name)
}

/// (appset, name, app namespace, project, destination namespace, source path)
type Row = (String, String, String, String, String, String);

fn row(a: &GeneratedApp) -> Row {
    (
        a.appset.clone(),
        a.name.clone(),
        a.namespace.clone(),
        a.project.clone(),
        a.destination.namespace.clone().unwrap_or_default(),
        a.source.path.clone(),
    )
}

fn r(appset: &str, name: &str, project: &str, dest_ns: &str, path: &str) -> Row {
    (
        appset.into(),
        name.into(),
        "argocd".into(),
        project.into(),
        dest_ns.into(),
        path.into(),
    )
}

fn legacy_apps() -> Vec<GeneratedApp> {
    let repo = fixture("legacy");
    let sets = appset::load_appsets(&repo, None).expect("load");
    appset::generate(&repo, &sets).expect("generate")
}

#[test]
fn legacy_fleet_rows_match_by_hand() {
    let repo = fixture("legacy");
    let sets = appset::load_appsets(&repo, None).unwrap();
    let names: Vec<(&str, String)> = sets.iter().map(|s| (s.name.as_str(), s.location())).collect();
    let dir = "infrastructure/controllers/argocd/apps";
    assert_eq!(
        names,
        vec![
            ("database", format!("{dir}/database-appset.yaml:2")),
            ("infrastructure", format!("{dir}/infrastructure-appset.yaml:2")),
            ("monitoring", format!("{dir}/monitoring-appset.yaml:1")),
            ("my-apps", format!("{dir}/my-apps-appset.yaml:3")),
            // The file starts with `---` and a comment: the object starts on line 3.
            ("shared-apps", format!("{dir}/shared-apps-appset.yaml:3")),
        ]
    );

    let rows: Vec<Row> = appset::generate(&repo, &sets).unwrap().iter().map(row).collect();
    let expected = vec![
        // database: infrastructure/database/*/* (legacy {{ path.basename }} with spaces).
        r(
            "database",
            "immich-db",
            "infrastructure",
            "immich-db",
            "infrastructure/database/postgres/immich-db",
        ),
        r(
            "database",
            "paperless-db",
            "infrastructure",
            "paperless-db",
            "infrastructure/database/postgres/paperless-db",
        ),
        r(
            "database",
            "authentik-redis",
            "infrastructure",
            "authentik-redis",
            "infrastructure/database/redis/authentik-redis",
        ),
        // infrastructure: controllers/*, networking/*, storage/longhorn (not snapshot-controller,
        // not controllers/argocd/apps: `*` does not cross `/`).
        r(
            "infrastructure",
            "argocd",
            "infrastructure",
            "argocd",
            "infrastructure/controllers/argocd",
        ),
        r(
            "infrastructure",
            "cert-manager",
            "infrastructure",
            "cert-manager",
            "infrastructure/controllers/cert-manager",
        ),
        r(
            "infrastructure",
            "cilium",
            "infrastructure",
            "cilium",
            "infrastructure/networking/cilium",
        ),
        r(
            "infrastructure",
            "gateway",
            "infrastructure",
            "gateway",
            "infrastructure/networking/gateway",
        ),
        r(
            "infrastructure",
            "longhorn",
            "infrastructure",
            "longhorn",
            "infrastructure/storage/longhorn",
        ),
        // monitoring/* (goTemplate); monitoring/.keep is a file.
        r("monitoring", "grafana", "monitoring", "grafana", "monitoring/grafana"),
        r(
            "monitoring",
            "prometheus-stack",
            "monitoring",
            "prometheus-stack",
            "monitoring/prometheus-stack",
        ),
        // my-apps/*/* minus my-apps/common/* (excluded), my-apps/.archived (hidden),
        // my-apps/media/plex/base (too deep), my-apps/media/README.md (a file).
        r(
            "my-apps",
            "my-apps-open-webui",
            "my-apps",
            "open-webui",
            "my-apps/ai/open-webui",
        ),
        r(
            "my-apps",
            "my-apps-jellyfin",
            "my-apps",
            "jellyfin",
            "my-apps/media/jellyfin",
        ),
        r("my-apps", "my-apps-plex", "my-apps", "plex", "my-apps/media/plex"),
        r(
            "my-apps",
            "my-apps-redlib",
            "my-apps",
            "redlib",
            "my-apps/privacy/redlib",
        ),
        // apps-shared/*/overlays/talos, named by segment 1.
        r(
            "shared-apps",
            "shared-redlib",
            "shared-apps",
            "redlib",
            "apps-shared/redlib/overlays/talos",
        ),
        r(
            "shared-apps",
            "shared-searxng",
            "shared-apps",
            "searxng",
            "apps-shared/searxng/overlays/talos",
        ),
    ];
    assert_eq!(rows, expected);
}

#[test]
fn legacy_fleet_sync_policies_labels_and_annotations() {
    let apps = legacy_apps();
    let by = |n: &str| apps.iter().find(|a| a.name == n).unwrap();

    // The database AppSet keeps selfHeal off on purpose; everything automated else heals.
    for db in ["immich-db", "paperless-db", "authentik-redis"] {
        assert_eq!(by(db).sync_policy["automated"]["selfHeal"], json!(false), "{db}");
        assert!(!by(db).self_heal());
    }
    for app in ["argocd", "grafana", "my-apps-plex"] {
        assert!(by(app).self_heal(), "{app}");
    }
    // The template's syncPolicy, not the ApplicationSet's own spec.syncPolicy.
    assert!(by("cilium").sync_policy.get("preserveResourcesOnDeletion").is_none());
    assert_eq!(
        by("cilium").sync_policy["syncOptions"],
        json!(["CreateNamespace=true", "ServerSideApply=true"])
    );
    // No syncPolicy in the template: Null.
    assert!(by("shared-redlib").sync_policy.is_null());
    assert_eq!(by("shared-redlib").table_self_heal(), "manual");

    // Legacy {{path[1]}} and a goTemplate value.
    assert_eq!(
        by("cilium").labels.get("category").map(String::as_str),
        Some("networking")
    );
    assert_eq!(
        by("longhorn").labels.get("category").map(String::as_str),
        Some("storage")
    );
    assert_eq!(
        by("grafana")
            .annotations
            .get("argocd.argoproj.io/sync-wave")
            .map(String::as_str),
        Some("5")
    );

    let a = by("my-apps-plex");
    assert_eq!(a.destination.server.as_deref(), Some("https://kubernetes.default.svc"));
    assert_eq!(a.source.repo_url, "https://github.com/example/homelab.git");
    assert_eq!(a.source.target_revision, "HEAD");
    assert_eq!(a.cluster, None);
    assert_eq!(
        a.appset_file,
        Path::new("infrastructure/controllers/argocd/apps/my-apps-appset.yaml")
    );
}

/// Helper only used above; keeps the table's SELF-HEAL column honest.
trait TableSelfHeal {
    fn table_self_heal(&self) -> String;
}
impl TableSelfHeal for GeneratedApp {
    fn table_self_heal(&self) -> String {
        let t = appset::to_table(std::slice::from_ref(self));
        t.lines().nth(1).unwrap().split_whitespace().last().unwrap().to_string()
    }
}

#[test]
fn json_and_table_output() {
    let apps = legacy_apps();
    let j = appset::to_json(&apps);
    let plex = j
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "my-apps-plex")
        .unwrap();
    assert_eq!(
        plex,
        &json!({
            "appset": "my-apps",
            "name": "my-apps-plex",
            "project": "my-apps",
            "namespace": "argocd",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "plex"},
            "source": {
                "repoURL": "https://github.com/example/homelab.git",
                "path": "my-apps/media/plex",
                "targetRevision": "HEAD"
            }
        })
    );
    let t = appset::to_table(&apps);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), apps.len() + 1);
    assert!(lines[0].starts_with("APPSET"));
    let db: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        db,
        vec![
            "database",
            "immich-db",
            "infrastructure",
            "immich-db",
            "infrastructure/database/postgres/immich-db",
            "false"
        ]
    );
}

#[test]
fn legacy_fleet_has_no_shared_resources() {
    let repo = fixture("legacy");
    let apps = legacy_apps();
    assert_eq!(appset::conflicts(&repo, &apps).unwrap(), vec![]);
}
