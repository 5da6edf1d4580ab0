//! Schema validation against the pinned CRDs and core schemas in ../shared/crds.

use fleetctl::schema::{unknown_fields, Outcome, SchemaSet};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::OnceLock;

fn crds_dir() -> Option<PathBuf> {
    let p = std::env::var_os("FLEETCTL_TEST_CRDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/crds"));
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("SKIP: no CRD directory at {} (set FLEETCTL_TEST_CRDS)", p.display());
        None
    }
}

fn set() -> Option<&'static SchemaSet> {
    static SET: OnceLock<Option<SchemaSet>> = OnceLock::new();
    SET.get_or_init(|| crds_dir().map(|d| SchemaSet::load_dir(&d).expect("load CRDs")))
        .as_ref()
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "redlib", "namespace": "redlib", "labels": {"app": "redlib"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "redlib"}},
            "template": {
                "metadata": {"labels": {"app": "redlib"}},
                "spec": {"containers": [{
                    "name": "redlib", "image": "quay.io/redlib/redlib:latest",
                    "ports": [{"name": "http", "containerPort": 8080}],
                    "readinessProbe": {"httpGet": {"path": "/settings", "port": "http"}},
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}}
                }]}
            }
        }
    })
}

fn findings(o: Outcome) -> Vec<String> {
    match o {
        Outcome::Invalid(f) => f.iter().map(|f| f.to_string()).collect(),
        Outcome::Valid => vec![],
        Outcome::NotValidated(k) => vec![format!("NOT VALIDATED {k}")],
    }
}

#[test]
fn valid_deployment_passes() {
    let Some(s) = set() else { return };
    assert_eq!(s.validate(&deployment()), Outcome::Valid);
}

#[test]
fn null_fields_are_ignored_like_the_api_server() {
    let Some(s) = set() else { return };
    let mut d = deployment();
    d["metadata"]["creationTimestamp"] = Value::Null;
    d["status"] = json!({});
    assert_eq!(s.validate(&d), Outcome::Valid);
}

#[test]
fn unknown_field_in_deployment_is_reported_with_its_path() {
    let Some(s) = set() else { return };
    let mut d = deployment();
    d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = json!("Always");
    let f = findings(s.validate(&d));
    assert_eq!(
        f,
        vec!["spec.template.spec.containers[0].imagePullPolicyy: unknown field".to_string()]
    );
}

#[test]
fn unknown_metadata_field_is_reported() {
    let Some(s) = set() else { return };
    let mut d = deployment();
    d["metadata"]["lables"] = json!({"a": "b"});
    assert_eq!(
        findings(s.validate(&d)),
        vec!["metadata.lables: unknown field".to_string()]
    );
}

#[test]
fn wrong_type_is_reported() {
    let Some(s) = set() else { return };
    let mut d = deployment();
    d["spec"]["replicas"] = json!("three");
    let f = findings(s.validate(&d));
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("spec.replicas: expected integer"), "{f:?}");
}

#[test]
fn any_builtin_kind_is_validated_not_only_wrapper_files() {
    let Some(s) = set() else { return };
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"A": "1"}});
    assert_eq!(s.validate(&cm), Outcome::Valid);
    let bad = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "datta": {"A": "1"}});
    assert_eq!(findings(s.validate(&bad)), vec!["datta: unknown field".to_string()]);
}

fn argocd() -> Value {
    json!({
        "apiVersion": "argoproj.io/v1beta1", "kind": "ArgoCD",
        "metadata": {"name": "argocd", "namespace": "argocd"},
        "spec": {
            "resourceHealthChecks": [{"group": "argoproj.io", "kind": "Application", "check": "hs = {}\nreturn hs"}],
            "controller": {"processors": {"status": 50, "operation": 25},
                           "env": [{"name": "ARGOCD_APPLICATION_CONTROLLER_SERVER_SIDE_DIFF", "value": "true"}]},
            "server": {"route": {"enabled": true}}
        }
    })
}

#[test]
fn argocd_cr_valid_and_unknown_field() {
    let Some(s) = set() else { return };
    assert_eq!(s.validate(&argocd()), Outcome::Valid);
    let mut a = argocd();
    a["spec"]["resourceCustomizations"] = json!("x: y");
    a["spec"]["controller"]["processorz"] = json!({});
    let f = findings(s.validate(&a));
    assert_eq!(
        f,
        vec![
            "spec.controller.processorz: unknown field".to_string(),
            "spec.resourceCustomizations: unknown field".to_string()
        ]
    );
    // The engine's helper says the same from the raw CRD schema.
    let mut u = s.unknown_fields(&a).unwrap();
    u.sort();
    assert_eq!(
        u,
        vec![
            "spec.controller.processorz".to_string(),
            "spec.resourceCustomizations".to_string()
        ]
    );
}

#[test]
fn crd_metadata_is_validated_as_object_meta() {
    let Some(s) = set() else { return };
    let mut a = argocd();
    a["metadata"]["annotations"] = json!({"x": 1});
    let f = findings(s.validate(&a));
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("metadata.annotations.x: expected string"), "{f:?}");
}

#[test]
fn unserved_version_is_a_finding() {
    let Some(s) = set() else { return };
    let es = json!({"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret",
        "metadata": {"name": "x"}, "spec": {}});
    let f = findings(s.validate(&es));
    assert_eq!(f.len(), 1);
    assert!(f[0].contains("not served"), "{f:?}");
}

fn toy_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "toys.example.com"},
        "spec": {"group": "example.com", "names": {"kind": "Toy", "plural": "toys"}, "scope": "Namespaced",
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {"type": "object", "properties": {
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                                 "properties": {"typed": {"type": "integer"}}},
                        "port": {"x-kubernetes-int-or-string": true},
                        "opt": {"type": "string", "nullable": true},
                        "count": {"type": "integer"}
                    }}
                }
            }}}]}
    })
}

#[test]
fn preserve_unknown_fields_accepts_anything_below() {
    let mut s = SchemaSet::empty();
    s.add_crd(&toy_crd()).unwrap();
    let ok = json!({"apiVersion": "example.com/v1", "kind": "Toy", "metadata": {"name": "t"},
        "spec": {"free": {"anything": {"deep": [1, "x"]}, "typed": 3}, "port": "http", "count": 2}});
    assert_eq!(s.validate(&ok), Outcome::Valid);
    let port_int =
        json!({"apiVersion": "example.com/v1", "kind": "Toy", "metadata": {"name": "t"}, "spec": {"port": 80}});
    assert_eq!(s.validate(&port_int), Outcome::Valid);
    // Known fields below a preserving level keep their types; levels without preserve stay strict.
    let bad = json!({"apiVersion": "example.com/v1", "kind": "Toy", "metadata": {"name": "t"},
        "spec": {"free": {"typed": "x"}, "port": true, "extra": 1}});
    let f = findings(s.validate(&bad));
    assert_eq!(f.len(), 3, "{f:?}");
    assert!(f[0].starts_with("spec.extra: unknown field"), "{f:?}");
    assert!(f[1].starts_with("spec.free.typed: expected integer"), "{f:?}");
    assert!(f[2].starts_with("spec.port:"), "{f:?}");
    assert_eq!(unknown_fields(&bad, &toy_crd()), vec!["spec.extra".to_string()]);
}

#[test]
fn kind_without_schema_is_not_validated() {
    let Some(s) = set() else { return };
    let r = json!({"apiVersion": "kopiur.home-operations.com/v1alpha1", "kind": "Restore", "metadata": {"name": "r"}});
    assert_eq!(
        s.validate(&r),
        Outcome::NotValidated("kopiur.home-operations.com/v1alpha1 Restore".into())
    );
    let empty = SchemaSet::empty();
    assert!(matches!(empty.validate(&deployment()), Outcome::NotValidated(_)));
}

#[test]
fn every_shared_crd_compiles() {
    let Some(s) = set() else { return };
    let dir = crds_dir().unwrap();
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("yaml") {
            continue;
        }
        let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let group = crd["spec"]["group"].as_str().unwrap();
        let kind = crd["spec"]["names"]["kind"].as_str().unwrap();
        for v in crd["spec"]["versions"].as_array().unwrap() {
            if v["served"] != json!(true) {
                continue;
            }
            let obj = json!({"apiVersion": format!("{group}/{}", v["name"].as_str().unwrap()), "kind": kind,
                "metadata": {"name": "x"}});
            if let Outcome::Invalid(f) = s.validate(&obj) {
                assert!(
                    !f.iter().any(|f| f.message.contains("could not be compiled")),
                    "{}: {f:?}",
                    p.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 28, "only {checked} CRD versions checked");
}

#[test]
fn route_with_target_port_validates_despite_null_anyof() {
    let Some(s) = set() else { return };
    let r = json!({"apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": {"name": "r"},
        "spec": {"to": {"kind": "Service", "name": "s", "weight": 100}, "port": {"targetPort": "http"}}});
    assert_eq!(findings(s.validate(&r)), Vec::<String>::new());
}

#[test]
fn removed_builtin_api_version_is_a_finding() {
    let Some(s) = set() else { return };
    let cj = json!({"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "c"}, "spec": {}});
    let f = findings(s.validate(&cj));
    assert_eq!(
        f,
        vec!["apiVersion: batch/v1beta1 CronJob is not a built-in API version (served: v1)".to_string()]
    );
}

/// The schema index (what `verify` loads on a warm run) gives the same answers as reading every CRD: the
/// first load writes it, the second reads only it and each kind's schemas when one is validated.
#[test]
fn the_schema_index_answers_like_the_crd_files() {
    let (Some(dir), Some(full)) = (crds_dir(), set()) else {
        return;
    };
    let index = tempfile::tempdir().unwrap();
    let first = SchemaSet::load_dir_indexed(&dir, index.path()).unwrap();
    let second = SchemaSet::load_dir_indexed(&dir, index.path()).unwrap();
    assert_eq!(
        std::fs::read_dir(index.path()).unwrap().count(),
        1,
        "one index per CRD directory"
    );
    let mut route = json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "r", "namespace": "n"},
        "spec": {"hostnames": ["a.example"], "rules": [{"matchs": []}]}
    });
    let mut dep = deployment();
    dep["spec"]["replicas"] = json!("two");
    let old_cron = json!({"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "c"}});
    let unserved =
        json!({"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret", "metadata": {"name": "e"}});
    for obj in [&route, &dep, &old_cron, &unserved, &deployment()] {
        let want = full.validate(obj);
        assert!(!matches!(want, Outcome::NotValidated(_)), "{obj}");
        assert_eq!(first.validate(obj), want, "{obj}");
        assert_eq!(second.validate(obj), want, "{obj}");
    }
    route["spec"]["rules"][0] = json!({});
    assert_eq!(second.validate(&route), Outcome::Valid);
    assert_eq!(second.counts(), full.counts());
    let gvk = fleetctl::schema::Gvk::of(&route).unwrap();
    assert_eq!(
        second.crd_annotation(&gvk, "gateway.networking.k8s.io/channel"),
        Some("standard")
    );
    assert_eq!(
        second.crd_resource("gateway.networking.k8s.io", "HTTPRoute"),
        Some("httproutes")
    );
}
