//! Fidelity: deletion as kube-apiserver and its controllers do it (k8s.io/apiserver
//! `pkg/registry/generic/registry/store.go` Delete, finalizers and `deletionTimestamp`; the namespace
//! controller; the garbage collector's propagation policies,
//! https://kubernetes.io/docs/concepts/architecture/garbage-collection/), probed with kubectl and HTTP.
mod sim_fidelity_support;

use serde_json::{json, Value};
use sim_fidelity_support::{eventually, widget_crd, Sim};

fn gone(sim: &Sim, args: &[&str]) -> bool {
    let mut a = vec!["get"];
    a.extend_from_slice(args);
    let o = sim.kubectl(&a, "");
    !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("NotFound")
}

fn drop_finalizers(sim: &Sim, kind: &str, name: &str, ns: &str) {
    sim.ok(
        &[
            "patch",
            kind,
            name,
            "-n",
            ns,
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ],
        "",
    );
}

/// store.go `Delete`: an object with finalizers is not removed; it gets `deletionTimestamp` and stays
/// until an update removes the last finalizer.
#[test]
fn a_finalizer_holds_a_deleted_object_until_it_is_removed() {
    need_kubectl!();
    let sim = Sim::start("talos");
    sim.ok(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default, finalizers: [example.com/keep]}\n",
    );
    sim.ok(&["delete", "configmap", "c", "-n", "default", "--wait=false"], "");
    let c = sim.get(&["configmap", "c", "-n", "default"]);
    assert!(c["metadata"]["deletionTimestamp"].is_string(), "{c:#}");
    drop_finalizers(&sim, "configmap", "c", "default");
    eventually(10, "the ConfigMap to go", || {
        gone(&sim, &["configmap", "c", "-n", "default"]).then_some(())
    });
}

/// The namespace controller (`pkg/controller/namespace/deletion`): a deleted namespace is Terminating
/// while content remains; the NamespaceLifecycle admission plugin refuses new content in it (403).
#[test]
fn a_namespace_stays_terminating_while_content_remains_and_refuses_new_content() {
    need_kubectl!();
    let sim = Sim::start("talos");
    sim.ok(&["create", "namespace", "shop"], "");
    sim.ok(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, namespace: shop, finalizers: [example.com/keep]}\n",
    );
    sim.ok(&["delete", "namespace", "shop", "--wait=false"], "");
    let ns = sim.get(&["namespace", "shop"]);
    assert_eq!(ns["status"]["phase"], "Terminating", "{ns:#}");
    let err = sim.fails(&["create", "configmap", "late", "-n", "shop"], "");
    assert!(
        err.contains("is forbidden") && err.contains("because it is being terminated"),
        "{err}"
    );
    drop_finalizers(&sim, "configmap", "held", "shop");
    eventually(10, "the namespace to go", || {
        gone(&sim, &["namespace", "shop"]).then_some(())
    });
}

fn owner_and_dependent(sim: &Sim) {
    sim.ok(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: owner, namespace: default}\n",
    );
    let uid = sim.get(&["configmap", "owner", "-n", "default"])["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let dep = format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: dep\n  namespace: default\n  finalizers: [example.com/keep]\n  ownerReferences: [{{apiVersion: v1, kind: ConfigMap, name: owner, uid: {uid}, blockOwnerDeletion: true}}]\n");
    sim.ok(&["apply", "-f", "-"], &dep);
}

/// Foreground propagation: the owner gets `deletionTimestamp` and the `foregroundDeletion` finalizer and
/// stays until its dependents are gone.
#[test]
fn foreground_deletion_keeps_the_owner_until_its_dependents_are_gone() {
    need_kubectl!();
    let sim = Sim::start("talos");
    owner_and_dependent(&sim);
    sim.ok(
        &[
            "delete",
            "configmap",
            "owner",
            "-n",
            "default",
            "--cascade=foreground",
            "--wait=false",
        ],
        "",
    );
    let owner = sim.get(&["configmap", "owner", "-n", "default"]);
    assert_eq!(
        owner["metadata"]["finalizers"],
        json!(["foregroundDeletion"]),
        "{owner:#}"
    );
    let dep = eventually(10, "the dependent to be terminating", || {
        let d = sim.get(&["secret", "dep", "-n", "default"]);
        d["metadata"]["deletionTimestamp"].is_string().then_some(d)
    });
    assert!(dep["metadata"]["deletionTimestamp"].is_string());
    drop_finalizers(&sim, "secret", "dep", "default");
    eventually(10, "owner and dependent to go", || {
        (gone(&sim, &["secret", "dep", "-n", "default"]) && gone(&sim, &["configmap", "owner", "-n", "default"]))
            .then_some(())
    });
}

/// Orphan propagation: the owner goes, its dependents stay without the ownerReference.
#[test]
fn orphan_deletion_leaves_the_dependents_without_their_owner() {
    need_kubectl!();
    let sim = Sim::start("talos");
    owner_and_dependent(&sim);
    sim.ok(
        &["delete", "configmap", "owner", "-n", "default", "--cascade=orphan"],
        "",
    );
    eventually(10, "the owner to go", || {
        gone(&sim, &["configmap", "owner", "-n", "default"]).then_some(())
    });
    let dep = sim.get(&["secret", "dep", "-n", "default"]);
    assert!(dep["metadata"]["deletionTimestamp"].is_null(), "{dep:#}");
    assert!(
        dep["metadata"]["ownerReferences"].as_array().is_none_or(Vec::is_empty),
        "{dep:#}"
    );
}

/// store.go `finalizeDelete`: a registry without `ReturnDeletedObject` answers a delete with a Success
/// Status (ConfigMap), one with it answers with the object (Service).
#[test]
fn a_delete_answers_with_a_status_unless_the_registry_returns_the_object() {
    let sim = Sim::start("talos");
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}).to_string();
    sim.json("POST", "/api/v1/namespaces/default/configmaps", "application/json", &cm);
    let (code, body) = sim.json(
        "DELETE",
        "/api/v1/namespaces/default/configmaps/c",
        "application/json",
        "",
    );
    assert_eq!(code, 200);
    assert_eq!(body["kind"], "Status", "{body:#}");
    assert_eq!(body["status"], "Success");
    assert_eq!(body["details"]["kind"], "configmaps", "{body:#}");
    let svc =
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}})
            .to_string();
    sim.json("POST", "/api/v1/namespaces/default/services", "application/json", &svc);
    let (_, body): (u16, Value) = sim.json(
        "DELETE",
        "/api/v1/namespaces/default/services/s",
        "application/json",
        "",
    );
    assert_eq!(body["kind"], "Service", "{body:#}");
}

/// apiextensions `customresourcedefinition/etcd.go`: a deleted CRD gets the
/// `customresourcecleanup.apiextensions.k8s.io` finalizer and stays (Terminating) until its instances are
/// deleted; then it and its API go.
#[test]
fn a_crd_stays_until_its_custom_resources_are_gone() {
    need_kubectl!();
    let sim = Sim::start("talos");
    widget_crd(&sim, "{type: object, x-kubernetes-preserve-unknown-fields: true}");
    sim.ok(&["apply", "-f", "-"], "apiVersion: fidelity.example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: default, finalizers: [example.com/keep]}\nspec: {}\n");
    sim.ok(&["delete", "crd", "widgets.fidelity.example.com", "--wait=false"], "");
    let crd = sim.get(&["crd", "widgets.fidelity.example.com"]);
    assert!(
        crd["metadata"]["finalizers"]
            .to_string()
            .contains("customresourcecleanup.apiextensions.k8s.io"),
        "{crd:#}"
    );
    eventually(10, "the Widget to be terminating", || {
        sim.get(&["widget", "w", "-n", "default"])["metadata"]["deletionTimestamp"]
            .as_str()
            .map(str::to_string)
    });
    drop_finalizers(&sim, "widget", "w", "default");
    eventually(10, "the CRD to go", || {
        gone(&sim, &["crd", "widgets.fidelity.example.com"]).then_some(())
    });
}
