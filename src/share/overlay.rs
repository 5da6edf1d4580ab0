//! The shared base and the overlays `fleetctl share` writes, computed from what the app renders today.
//! The cluster-specific fields (each HTTPRoute's `parentRefs` and `hostnames`, each PVC's
//! `storageClassName`, each workload's pinned `runAsUser`/`runAsGroup`/`fsGroup`) leave the base's files
//! where a safe edit can take them out (yamledit.rs), and then:
//! - the source cluster's overlay puts them back, so it renders byte-identical to the old app;
//! - another cluster's overlay sets its own Gateway, hostnames and StorageClass, and, when it is OpenShift
//!   and the source is not, leaves the pinned IDs out (the restricted-v2 SCC assigns them from the
//!   namespace's range and refuses others).
//!
//! Each delta beyond `parentRefs`/`hostnames` also becomes an `overlay-delta.yaml` allow entry with its
//! reason, so `fleetctl verify` (rule overlay-delta) and phase 3's `p3.overlay-delta` accept it and a
//! reader sees why.

use crate::fleet::cluster::{ClusterSpec, Platform};
use serde_json::{json, Value};

/// The cluster the app comes from, as far as the repo tells.
pub struct Source<'a> {
    /// The overlay name (the cluster's directory name, e.g. `talos`).
    pub dir: &'a str,
    pub platform: Platform,
    /// Its apps domain, when `clusters/<dir>/cluster.yaml` says (hostnames under it are re-homed by suffix).
    pub apps_domain: Option<&'a str>,
}

/// One allow entry of `overlay-delta.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    pub path: String,
    pub kind: String,
    pub name: String,
    pub reason: String,
}

/// One overlay: its kustomization text and the allow entries it needs.
pub struct Overlay {
    pub kustomization: String,
    pub allow: Vec<AllowEntry>,
}

/// A cluster-specific field of one rendered object, with its value on the source cluster.
#[derive(Debug, Clone)]
pub struct Field {
    pub kind: String,
    pub name: String,
    /// The API group (`apps`, `gateway.networking.k8s.io`; empty for the core group).
    pub group: String,
    pub pointer: String,
    pub value: Value,
    /// Taken out of the base's files (the source overlay puts it back); false: it stays in the base.
    pub neutralized: bool,
}

impl Field {
    fn is_pinned_id(&self) -> bool {
        PINNED_IDS
            .iter()
            .any(|id| self.pointer.ends_with(&format!("/securityContext/{id}")))
    }
}

/// Pod-spec pointers of the workload kinds a pinned user can hide in.
fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => Some("/spec/template/spec"),
        "CronJob" => Some("/spec/jobTemplate/spec/template/spec"),
        "Pod" => Some("/spec"),
        _ => None,
    }
}

const PINNED_IDS: [&str; 3] = ["runAsUser", "runAsGroup", "fsGroup"];

/// The cluster-specific fields of the app's rendered objects: each HTTPRoute's `parentRefs` and
/// `hostnames`, each PVC's `storageClassName`, each workload's pinned `runAsUser`/`runAsGroup`/`fsGroup`.
pub fn specific_fields(objects: &[Value]) -> Vec<Field> {
    let mut out = Vec::new();
    for o in objects {
        let kind = o.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = o.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
        let group = o
            .get("apiVersion")
            .and_then(Value::as_str)
            .and_then(|v| v.split_once('/'))
            .map_or("", |(g, _)| g);
        let mut pointers: Vec<String> = match kind {
            "HTTPRoute" => vec!["/spec/parentRefs".into(), "/spec/hostnames".into()],
            "PersistentVolumeClaim" => vec!["/spec/storageClassName".into()],
            _ => Vec::new(),
        };
        if let Some(pod) = pod_spec_pointer(kind) {
            let mut places = vec![format!("{pod}/securityContext")];
            for list in ["initContainers", "containers"] {
                let n = o
                    .pointer(&format!("{pod}/{list}"))
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                places.extend((0..n).map(|i| format!("{pod}/{list}/{i}/securityContext")));
            }
            pointers.extend(
                places
                    .iter()
                    .flat_map(|p| PINNED_IDS.iter().map(move |id| format!("{p}/{id}"))),
            );
        }
        for p in pointers {
            if let Some(v) = o.pointer(&p) {
                out.push(Field {
                    kind: kind.into(),
                    name: name.into(),
                    group: group.into(),
                    pointer: p,
                    value: v.clone(),
                    neutralized: false,
                });
            }
        }
    }
    out
}

/// What a shared base holds in place of a cluster-specific field: `parentRefs: []`, a placeholder hostname,
/// or nothing.
pub fn neutral_value(app: &str, f: &Field) -> Option<(String, Value)> {
    if f.pointer == "/spec/parentRefs" {
        return Some((
            "[]   # each overlay attaches the route to its cluster's Gateway".into(),
            json!([]),
        ));
    }
    if f.pointer == "/spec/hostnames" {
        let h = format!("{app}.example.invalid");
        return Some((format!("[\"{h}\"]   # replaced by every overlay"), json!([h])));
    }
    None
}

/// A JSON patch target for the object of `f`.
fn target_of(f: &Field) -> Value {
    let mut t = json!({"kind": f.kind, "name": f.name});
    if !f.group.is_empty() {
        t["group"] = json!(f.group);
    }
    t
}

/// Group ops by object, in field order.
fn grouped(ops: Vec<(Value, Value)>) -> Vec<(Value, Vec<Value>)> {
    let mut out: Vec<(Value, Vec<Value>)> = Vec::new();
    for (target, op) in ops {
        match out.iter_mut().find(|(t, _)| *t == target) {
            Some((_, list)) => list.push(op),
            None => out.push((target, vec![op])),
        }
    }
    out
}

/// The source cluster's overlay: the base plus the values taken out of it, so it renders as the app did.
pub fn source_overlay(app: &str, src: &Source, old_dir: &str, fields: &[Field]) -> String {
    let ops = fields
        .iter()
        .filter(|f| f.neutralized)
        .map(|f| (target_of(f), json!({"op": "add", "path": f.pointer, "value": f.value})))
        .collect();
    let head = format!(
        "# {app} on {dir}: the app exactly as it ran from {old_dir} before `fleetctl share` moved it here\n\
         # (its render is byte-identical, checked before the commit). The patches put back this cluster's\n\
         # values, which the shared base leaves out.\n",
        dir = src.dir
    );
    kustomization_text(&head, &grouped(ops))
}

/// A hostname re-homed under `domain`: the part before the source's apps domain is kept, else the first label.
fn rehome(host: &str, src_domain: Option<&str>, domain: &str) -> String {
    if let Some(d) = src_domain {
        if let Some(prefix) = host.strip_suffix(&format!(".{d}")) {
            return format!("{prefix}.{domain}");
        }
    }
    let first = host.split('.').next().unwrap_or(host);
    format!("{first}.{domain}")
}

/// The overlay of cluster `dst` (directory `dst_dir`).
pub fn target_overlay(
    app: &str,
    fields: &[Field],
    objects: &[Value],
    src: &Source,
    dst_dir: &str,
    dst: &ClusterSpec,
) -> Overlay {
    let mut ops = Vec::new();
    let mut allow = Vec::new();
    let strip_ids = dst.platform == Platform::Openshift && src.platform != Platform::Openshift;
    let id_reason = "OpenShift's restricted-v2 SCC assigns the UID/GID from the namespace's range and refuses a \
                     pinned one outside it; the source cluster has no SCC and keeps the pinned IDs";
    for f in fields {
        let t = target_of(f);
        match f.pointer.as_str() {
            "/spec/parentRefs" => {
                let mut parent = json!({"name": dst.gateway.name, "namespace": dst.gateway.namespace});
                if let Some(s) = &dst.gateway.section_name {
                    parent["sectionName"] = json!(s);
                }
                ops.push((t, json!({"op": "add", "path": f.pointer, "value": [parent]})));
            }
            "/spec/hostnames" => {
                let hosts: Vec<String> = f
                    .value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|h| rehome(h, src.apps_domain, &dst.apps_domain))
                    .collect();
                ops.push((t, json!({"op": "add", "path": f.pointer, "value": hosts})));
            }
            "/spec/storageClassName" => {}
            _ if f.is_pinned_id() && strip_ids => {
                if !f.neutralized {
                    ops.push((t, json!({"op": "remove", "path": f.pointer})));
                }
                let place = f.pointer.rsplit_once('/').map_or("", |(p, _)| p);
                push_allow(&mut allow, generic_path(place), f, id_reason);
            }
            _ => {}
        }
    }
    // Every PVC gets this cluster's StorageClass, set or not on the source cluster.
    for o in objects
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("PersistentVolumeClaim"))
    {
        let name = o.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
        let f = Field {
            kind: "PersistentVolumeClaim".into(),
            name: name.into(),
            group: String::new(),
            pointer: "/spec/storageClassName".into(),
            value: Value::Null,
            neutralized: false,
        };
        ops.push((
            target_of(&f),
            json!({"op": "add", "path": f.pointer, "value": dst.storage_class}),
        ));
        if o.pointer("/spec/storageClassName").and_then(Value::as_str) != Some(&dst.storage_class) {
            let reason = format!("each cluster's own StorageClass (clusters/{dst_dir}/cluster.yaml)");
            push_allow(&mut allow, "spec.storageClassName".into(), &f, &reason);
        }
    }
    let head = format!(
        "# {app} on {dst_dir}, written by `fleetctl share`: the shared base with this cluster's Gateway,\n\
         # hostnames and StorageClass (clusters/{dst_dir}/cluster.yaml); the deltas beyond parentRefs and\n\
         # hostnames are listed, with their reasons, in ../../overlay-delta.yaml.\n"
    );
    Overlay {
        kustomization: kustomization_text(&head, &grouped(ops)),
        allow,
    }
}

/// `spec.template.spec.containers[].securityContext` for `/spec/template/spec/containers/1/securityContext`.
fn generic_path(pointer: &str) -> String {
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|s| if s.parse::<usize>().is_ok() { "[]" } else { s })
        .collect::<Vec<_>>()
        .join(".")
        .replace(".[]", "[]")
}

fn push_allow(allow: &mut Vec<AllowEntry>, path: String, f: &Field, reason: &str) {
    let e = AllowEntry {
        path,
        kind: f.kind.clone(),
        name: f.name.clone(),
        reason: reason.into(),
    };
    if !allow.contains(&e) {
        allow.push(e);
    }
}

fn kustomization_text(head: &str, patches: &[(Value, Vec<Value>)]) -> String {
    let mut s =
        format!("{head}apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\n");
    if patches.is_empty() {
        return s;
    }
    s.push_str("patches:\n");
    for (target, ops) in patches {
        let target_yaml = serde_yaml::to_string(target).unwrap_or_default();
        s.push_str("  - target:\n");
        for l in target_yaml.lines() {
            s.push_str(&format!("      {l}\n"));
        }
        let ops_yaml = serde_yaml::to_string(&Value::Array(ops.clone())).unwrap_or_default();
        s.push_str("    patch: |-\n");
        for l in ops_yaml.lines() {
            s.push_str(&format!("      {l}\n"));
        }
    }
    s
}

/// `overlay-delta.yaml` for the allow entries of every target overlay (duplicates merged).
pub fn overlay_delta_text(app: &str, entries: &[AllowEntry]) -> String {
    let mut s = format!(
        "# What {app}'s overlays may differ in besides each HTTPRoute's parentRefs and hostnames (checked by\n\
         # `fleetctl verify`, rule overlay-delta, and phase 3's p3.overlay-delta). Written by `fleetctl share`.\nallow:\n"
    );
    let mut seen: Vec<&AllowEntry> = Vec::new();
    for e in entries {
        if seen.contains(&e) {
            continue;
        }
        seen.push(e);
        s.push_str(&format!(
            "  - path: {}\n    kind: {}\n    name: {}\n    reason: {}\n",
            e.path,
            e.kind,
            e.name,
            serde_json::to_string(&e.reason).unwrap_or_default()
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_keep_their_prefix_under_the_new_domain() {
        assert_eq!(
            rehome("redlib.vanillax.me", Some("vanillax.me"), "apps.x.org"),
            "redlib.apps.x.org"
        );
        assert_eq!(
            rehome("a.b.vanillax.me", Some("vanillax.me"), "apps.x.org"),
            "a.b.apps.x.org"
        );
        assert_eq!(
            rehome("redlib.other.net", Some("vanillax.me"), "apps.x.org"),
            "redlib.apps.x.org"
        );
        assert_eq!(rehome("redlib.other.net", None, "apps.x.org"), "redlib.apps.x.org");
    }

    #[test]
    fn pinned_ids_are_found_at_pod_and_container_level() {
        let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
            "spec": {"template": {"spec": {"securityContext": {"runAsUser": 1000, "fsGroup": 1000, "runAsNonRoot": true},
            "containers": [{"name": "a", "securityContext": {"allowPrivilegeEscalation": false}},
                           {"name": "b", "securityContext": {"runAsUser": 1000}}]}}}});
        let fields = specific_fields(&[dep]);
        let paths: Vec<&str> = fields.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/spec/template/spec/securityContext/runAsUser",
                "/spec/template/spec/securityContext/fsGroup",
                "/spec/template/spec/containers/1/securityContext/runAsUser"
            ]
        );
        assert!(fields.iter().all(|f| f.group == "apps" && f.is_pinned_id()));
        assert_eq!(
            generic_path("/spec/template/spec/containers/1/securityContext"),
            "spec.template.spec.containers[].securityContext"
        );
    }
}
