//! FailOnSharedResource: two ApplicationSets whose Applications render the same Namespace and
//! ConfigMap. One Conflict per resource, naming both Applications.

use fleetctl::appset::{self, Conflict};
use std::path::Path;

#[test]
fn shared_namespace_and_configmap_are_reported_once_each() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/appset/conflicts");
    let sets = appset::load_appsets(&repo, None).unwrap();
    let apps = appset::generate(&repo, &sets).unwrap();
    let names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, vec!["a-web", "b-api", "b-worker"]);

    let found = appset::conflicts(&repo, &apps).unwrap();
    assert_eq!(
        found,
        vec![
            // Cluster-scoped: no namespace.
            Conflict {
                cluster: None,
                group: String::new(),
                kind: "Namespace".into(),
                namespace: None,
                name: "shared".into(),
                apps: vec!["a-web".into(), "b-api".into()],
            },
            // b-api's ConfigMap has no namespace: it lands in destination.namespace (shared),
            // where a-web's explicitly namespaced one lives. b-worker's is in "other": no
            // conflict. The PreSync hook Jobs are never shared resources.
            Conflict {
                cluster: None,
                group: String::new(),
                kind: "ConfigMap".into(),
                namespace: Some("shared".into()),
                name: "settings".into(),
                apps: vec!["a-web".into(), "b-api".into()],
            },
        ]
    );
    assert_eq!(
        found[1].to_string(),
        "ConfigMap shared/settings is rendered by Applications a-web, b-api"
    );
}

#[test]
fn a_missing_source_path_names_the_application() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/appset/conflicts");
    let sets = appset::load_appsets(&repo, None).unwrap();
    let mut apps = appset::generate(&repo, &sets).unwrap();
    apps[1].source.path = "team-b/gone".into();
    let e = appset::conflicts(&repo, &apps).unwrap_err();
    assert!(e.cause.contains("cannot render Application 'b-api'"), "{e}");
    assert!(e.subject.unwrap().ends_with("team-b/gone"));
}
