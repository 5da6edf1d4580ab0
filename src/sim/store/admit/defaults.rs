//! Defaulting, as the API server does it before validation and storage (the built-in kinds'
//! `SetDefaults_*` in k8s.io/kubernetes `pkg/apis/{core,apps,batch,rbac,storage}/v1/defaults.go`, a custom
//! resource's `default`s in its structural schema), then what the typed round trip does to a built-in
//! object: quantities in canonical form, empty maps, empty optional lists and nulls dropped (Go's
//! `omitempty`). Only what a client can see on the kinds fleetctl writes is simulated; it is idempotent,
//! so updates default the same way.

use super::quantity;
use crate::sim::store::kinds::ResourceInfo;
use crate::sim::store::meta_str;
use crate::sim::store::names::{b64, new_uid};
use crate::sim::store::schema::{Node, ObjectSchema};
use serde_json::{json, Value};

fn secret_string_data(obj: &mut Value) {
    if let Some(sd) = obj.as_object_mut().and_then(|o| o.remove("stringData")) {
        if let Some(m) = sd.as_object() {
            if !obj["data"].is_object() {
                obj["data"] = json!({});
            }
            for (k, v) in m {
                obj["data"][k] = json!(b64(v.as_str().unwrap_or("").as_bytes()));
            }
        }
    }
}

/// Sets `v[k]` when it is absent or null.
fn or(v: &mut Value, k: &str, d: Value) {
    if v.is_object() && v.get(k).is_none_or(Value::is_null) {
        v[k] = d;
    }
}

fn each(v: &mut Value, k: &str, f: impl Fn(&mut Value)) {
    if let Some(a) = v.get_mut(k).and_then(Value::as_array_mut) {
        a.iter_mut().for_each(f);
    }
}

fn probe(p: &mut Value) {
    for (k, d) in [
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ] {
        or(p, k, json!(d));
    }
    if p["httpGet"].is_object() {
        or(&mut p["httpGet"], "scheme", json!("HTTP"));
    }
}

fn container(c: &mut Value) {
    or(c, "terminationMessagePath", json!("/dev/termination-log"));
    or(c, "terminationMessagePolicy", json!("File"));
    let image = c["image"].as_str().unwrap_or_default();
    let tag = image.rsplit('/').next().unwrap_or_default();
    let latest = !image.contains('@') && tag.split_once(':').is_none_or(|(_, t)| t == "latest");
    or(
        c,
        "imagePullPolicy",
        json!(if latest { "Always" } else { "IfNotPresent" }),
    );
    or(c, "resources", json!({}));
    each(c, "ports", |p| or(p, "protocol", json!("TCP")));
    for pr in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if c[pr].is_object() {
            probe(&mut c[pr]);
        }
    }
    each(c, "env", |e| {
        if let Some(f) = e.pointer_mut("/valueFrom/fieldRef") {
            or(f, "apiVersion", json!("v1"));
        }
    });
}

/// `SetDefaults_PodSpec` and what it reaches (containers, volumes).
fn pod_spec(s: &mut Value) {
    if !s.is_object() {
        return;
    }
    or(s, "restartPolicy", json!("Always"));
    or(s, "terminationGracePeriodSeconds", json!(30));
    or(s, "dnsPolicy", json!("ClusterFirst"));
    or(s, "securityContext", json!({}));
    or(s, "schedulerName", json!("default-scheduler"));
    each(s, "containers", container);
    each(s, "initContainers", container);
    each(s, "volumes", |v| {
        for src in ["secret", "configMap", "downwardAPI", "projected"] {
            if v[src].is_object() {
                or(&mut v[src], "defaultMode", json!(420));
            }
        }
    });
}

fn template(obj: &mut Value) {
    if let Some(t) = obj.pointer_mut("/spec/template/spec") {
        pod_spec(t);
    }
}

fn service(spec: &mut Value, create: bool) {
    or(spec, "type", json!("ClusterIP"));
    or(spec, "sessionAffinity", json!("None"));
    let headless = spec["clusterIP"] == "None";
    if spec["type"] != "ExternalName" {
        if create && spec.get("clusterIP").is_none() {
            let ip = format!(
                "172.30.{}.{}",
                rand::random_range(0..255u8),
                rand::random_range(1..255u8)
            );
            spec["clusterIP"] = json!(ip);
        }
        if let Some(ip) = spec.get("clusterIP").cloned() {
            or(spec, "clusterIPs", json!([ip]));
        }
        if !headless || spec.get("ipFamilies").is_none() {
            or(spec, "ipFamilies", json!(["IPv4"]));
        }
        or(spec, "ipFamilyPolicy", json!("SingleStack"));
        or(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if spec["type"] == "LoadBalancer" || spec["type"] == "NodePort" {
        or(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if spec["type"] == "LoadBalancer" {
        or(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    each(spec, "ports", |p| {
        or(p, "protocol", json!("TCP"));
        if let Some(port) = p.get("port").cloned() {
            or(p, "targetPort", port);
        }
    });
}

/// The kind's `SetDefaults_*` (create-only allocations when `create`).
fn by_kind(ri: &ResourceInfo, obj: &mut Value, create: bool) {
    let name = meta_str(obj, "name").to_string();
    match (ri.group.as_str(), ri.plural.as_str()) {
        ("", "namespaces") => {
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
            if create {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
                obj["status"] = json!({"phase": "Active"});
            }
        }
        ("", "secrets") => {
            secret_string_data(obj);
            or(obj, "type", json!("Opaque"));
        }
        ("", "services") => service(&mut obj["spec"], create),
        ("", "pods") => {
            pod_spec(&mut obj["spec"]);
            if create {
                obj["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
            }
        }
        ("", "persistentvolumeclaims") => {
            or(&mut obj["spec"], "volumeMode", json!("Filesystem"));
            if create {
                obj["status"] = json!({"phase": "Pending"});
                // the StorageObjectInUseProtection admission plugin
                finalizer(obj, "kubernetes.io/pvc-protection");
            }
        }
        ("", "persistentvolumes") if create => finalizer(obj, "kubernetes.io/pv-protection"),
        ("apps", "deployments") => {
            let spec = &mut obj["spec"];
            or(spec, "replicas", json!(1));
            or(spec, "revisionHistoryLimit", json!(10));
            or(spec, "progressDeadlineSeconds", json!(600));
            or(spec, "strategy", json!({"type": "RollingUpdate"}));
            if spec["strategy"]["type"] == "RollingUpdate" {
                or(&mut spec["strategy"], "rollingUpdate", json!({}));
                or(&mut spec["strategy"]["rollingUpdate"], "maxUnavailable", json!("25%"));
                or(&mut spec["strategy"]["rollingUpdate"], "maxSurge", json!("25%"));
            }
            template(obj);
        }
        ("apps", "statefulsets") => {
            let spec = &mut obj["spec"];
            or(spec, "replicas", json!(1));
            or(spec, "podManagementPolicy", json!("OrderedReady"));
            or(spec, "revisionHistoryLimit", json!(10));
            or(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
            );
            or(
                spec,
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
            each(spec, "volumeClaimTemplates", |t| {
                or(&mut t["spec"], "volumeMode", json!("Filesystem"))
            });
            template(obj);
        }
        ("apps", "daemonsets") => {
            let spec = &mut obj["spec"];
            or(spec, "revisionHistoryLimit", json!(10));
            or(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
            );
            template(obj);
        }
        ("apps", "replicasets") => {
            or(&mut obj["spec"], "replicas", json!(1));
            template(obj);
        }
        ("batch", "jobs") => job(obj, &name, create),
        ("batch", "cronjobs") => {
            let spec = &mut obj["spec"];
            for (k, d) in [
                ("concurrencyPolicy", json!("Allow")),
                ("suspend", json!(false)),
                ("successfulJobsHistoryLimit", json!(3)),
                ("failedJobsHistoryLimit", json!(1)),
            ] {
                or(spec, k, d);
            }
            if let Some(t) = spec.pointer_mut("/jobTemplate/spec/template/spec") {
                pod_spec(t);
            }
        }
        ("storage.k8s.io", "storageclasses") => {
            or(obj, "reclaimPolicy", json!("Delete"));
            or(obj, "volumeBindingMode", json!("Immediate"));
        }
        ("rbac.authorization.k8s.io", "rolebindings" | "clusterrolebindings") => each(obj, "subjects", |s| {
            let group = if s["kind"] == "ServiceAccount" {
                ""
            } else {
                "rbac.authorization.k8s.io"
            };
            or(s, "apiGroup", json!(group));
        }),
        _ => {}
    }
}

fn finalizer(obj: &mut Value, f: &str) {
    let m = &mut obj["metadata"];
    if !m["finalizers"].is_array() {
        m["finalizers"] = json!([]);
    }
    let list = m["finalizers"].as_array_mut().unwrap();
    if !list.iter().any(|x| x == f) {
        list.push(json!(f));
    }
}

fn job(obj: &mut Value, name: &str, create: bool) {
    if create {
        let uid = new_uid();
        obj["metadata"]["uid"] = json!(uid);
        if obj.pointer("/spec/selector").is_none() {
            obj["spec"]["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
        }
        let labels = &mut obj["spec"]["template"]["metadata"]["labels"];
        for (k, v) in [
            ("batch.kubernetes.io/controller-uid", uid.as_str()),
            ("controller-uid", uid.as_str()),
            ("batch.kubernetes.io/job-name", name),
            ("job-name", name),
        ] {
            labels[k] = json!(v);
        }
    }
    let spec = &mut obj["spec"];
    for (k, d) in [
        ("completions", json!(1)),
        ("parallelism", json!(1)),
        ("backoffLimit", json!(6)),
        ("completionMode", json!("NonIndexed")),
        ("suspend", json!(false)),
        ("podReplacementPolicy", json!("TerminatingOrFailed")),
    ] {
        or(spec, k, d);
    }
    template(obj);
}

/// A custom resource's structural defaults: a field absent where its schema has a `default` gets it.
fn schema_defaults(v: &mut Value, node: Node) {
    match v {
        Value::Object(m) => {
            if let Some(props) = node.properties() {
                for (k, p) in props {
                    if let (None, Some(d)) = (m.get(k), p.get("default")) {
                        m.insert(k.clone(), d.clone());
                    }
                }
            }
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                if let Some(c) = node.child(&k) {
                    schema_defaults(m.get_mut(&k).unwrap(), c);
                }
            }
        }
        Value::Array(a) => {
            let items = node.items();
            a.iter_mut().for_each(|x| schema_defaults(x, items));
        }
        _ => {}
    }
}

/// What the typed round trip does to a built-in object: quantities canonical; nulls, empty maps and
/// empty optional lists gone. Structs stay, even empty (`resources: {}`), as Go prints them.
fn round_trip(v: &mut Value, node: Node) {
    let Value::Object(m) = v else { return };
    let required = node.required();
    let is_map = node.properties().is_none();
    let keys: Vec<String> = m.keys().cloned().collect();
    for k in keys {
        let child = node.child(&k).unwrap_or(Node::Deduced);
        let val = m.get_mut(&k).unwrap();
        if child.is_quantity() {
            if let Some(q) = quantity::canonical(val) {
                *val = json!(q);
            }
            continue;
        }
        match val {
            Value::Object(_) => round_trip(val, child),
            Value::Array(a) => {
                let items = child.items();
                a.iter_mut().for_each(|x| round_trip(x, items));
            }
            _ => {}
        }
        let child_is_map =
            child.properties().is_none() && child.raw().is_some_and(|r| r.get("additionalProperties").is_some());
        let empty = match &*val {
            Value::Null => true,
            Value::Object(o) => o.is_empty() && child_is_map,
            Value::Array(a) => a.is_empty() && !required.contains(&k.as_str()),
            _ => false,
        };
        if empty && !is_map {
            m.remove(&k);
        }
    }
}

/// Defaults an object about to be stored (`create`: the first write, which also allocates uids and
/// cluster IPs and sets initial status).
pub fn apply(ri: &ResourceInfo, schema: &ObjectSchema, obj: &mut Value, create: bool) {
    by_kind(ri, obj, create);
    if schema.is_builtin() {
        round_trip(obj, schema.root());
    } else if schema.known() {
        schema_defaults(obj, schema.root());
    }
}
