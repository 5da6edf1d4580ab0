//! OpenShift SCC admission as the simulated pods and movers meet it: restricted-v2 admits a pod whose
//! pinned UIDs/fsGroup lie in the namespace's `openshift.io/sa.scc.uid-range` and assigns both when
//! unpinned; otherwise an SCC granted to the pod's ServiceAccount through a RoleBinding to
//! `system:openshift:scc:<name>` (nonroot-v2, anyuid, privileged) is tried. Talos admits everything.

use crate::fleet::Platform;
use crate::sim::controllers::Ctx;
use crate::sim::store::meta_str;
use serde_json::{json, Value};

pub const UID_RANGE: &str = "openshift.io/sa.scc.uid-range";

pub const RANGE_SIZE: i64 = 10000;

fn uid_range(ctx: &Ctx, ns: &str) -> Option<(i64, i64)> {
    let n = ctx.world.store.get("namespaces", "", ns)?;
    let r = n
        .pointer("/metadata/annotations")?
        .get(UID_RANGE)?
        .as_str()?
        .to_string();
    let (b, s) = r.split_once('/')?;
    Some((b.parse().ok()?, s.parse().ok()?))
}

/// Whether the SCC is granted to `sa` in `ns` by a RoleBinding (or ClusterRoleBinding) to
/// `system:openshift:scc:<scc>`.
fn granted(ctx: &Ctx, ns: &str, sa: &str, scc: &str) -> bool {
    let role = format!("system:openshift:scc:{scc}");
    let mut bindings = ctx
        .world
        .store
        .list("rolebindings.rbac.authorization.k8s.io", Some(ns))
        .0;
    bindings.extend(
        ctx.world
            .store
            .list("clusterrolebindings.rbac.authorization.k8s.io", None)
            .0,
    );
    bindings.iter().any(|b| {
        b.pointer("/roleRef/name").and_then(Value::as_str) == Some(&role)
            && b["subjects"].as_array().is_some_and(|ss| {
                ss.iter().any(|s| match s["kind"].as_str() {
                    Some("ServiceAccount") => {
                        s["name"] == sa
                            && (s["namespace"] == ns || (s["namespace"].is_null() && meta_str(b, "namespace") == ns))
                    }
                    Some("Group") => {
                        let g = s["name"].as_str().unwrap_or_default();
                        g == "system:serviceaccounts" || g == format!("system:serviceaccounts:{ns}")
                    }
                    _ => false,
                })
            })
    })
}

/// Admit a pod spec in `ns`: Ok((scc, spec as mutated by admission)) or Err(the API server's message).
pub fn admit(ctx: &Ctx, ns: &str, pod_name: &str, spec: &Value) -> Result<(String, Value), String> {
    if ctx.world.platform != Platform::Openshift {
        return Ok((String::new(), spec.clone()));
    }
    let sa = spec["serviceAccountName"].as_str().unwrap_or("default");
    let containers: Vec<Value> = spec["containers"].as_array().cloned().unwrap_or_default();
    let pod_uid = spec.pointer("/securityContext/runAsUser").and_then(Value::as_i64);
    let fs_group = spec.pointer("/securityContext/fsGroup").and_then(Value::as_i64);
    let privileged = containers
        .iter()
        .any(|c| c.pointer("/securityContext/privileged").and_then(Value::as_bool) == Some(true));
    let caps_added = containers.iter().any(|c| {
        c.pointer("/securityContext/capabilities/add")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x != "NET_BIND_SERVICE"))
    });
    let uids: Vec<(String, i64)> = pod_uid
        .map(|u| (".spec.securityContext.runAsUser".to_string(), u))
        .into_iter()
        .chain(containers.iter().enumerate().filter_map(|(i, c)| {
            c.pointer("/securityContext/runAsUser")
                .and_then(Value::as_i64)
                .map(|u| (format!(".containers[{i}].runAsUser"), u))
        }))
        .collect();
    let mut why = Vec::new();
    // restricted-v2: every authenticated ServiceAccount may use it.
    let (base, size) = uid_range(ctx, ns).unwrap_or((1_000_600_000, RANGE_SIZE));
    let in_range = |u: i64| u >= base && u < base + size;
    let mut ok = true;
    for (path, u) in &uids {
        if !in_range(*u) {
            ok = false;
            why.push(format!(
                "provider restricted-v2: {path}: Invalid value: {u}: must be in the ranges: [{base}, {}]",
                base + size - 1
            ));
        }
    }
    if let Some(g) = fs_group.filter(|g| !in_range(*g)) {
        ok = false;
        why.push(format!(
            "provider restricted-v2: .spec.securityContext.fsGroup: Invalid value: []int64{{{g}}}: {g} is not an allowed group"
        ));
    }
    if privileged || caps_added {
        ok = false;
        why.push(
            "provider restricted-v2: .containers[0].securityContext: privileged or added capabilities are not allowed"
                .into(),
        );
    }
    if ok {
        let mut s = spec.clone();
        if s.pointer("/securityContext/fsGroup").is_none() {
            if !s["securityContext"].is_object() {
                s["securityContext"] = json!({});
            }
            s["securityContext"]["fsGroup"] = json!(base);
        }
        if pod_uid.is_none() {
            for c in s["containers"].as_array_mut().into_iter().flatten() {
                if c.pointer("/securityContext/runAsUser").is_none() {
                    if !c["securityContext"].is_object() {
                        c["securityContext"] = json!({});
                    }
                    c["securityContext"]["runAsUser"] = json!(base);
                }
            }
        }
        return Ok(("restricted-v2".into(), s));
    }
    for (scc, admits) in [
        (
            "nonroot-v2",
            !privileged && !caps_added && uids.iter().all(|(_, u)| *u != 0),
        ),
        ("anyuid", !privileged && !caps_added),
        ("privileged", true),
    ] {
        if !granted(ctx, ns, sa, scc) {
            why.push(format!(
                "provider \"{scc}\": Forbidden: not usable by user or serviceaccount"
            ));
        } else if admits {
            return Ok((scc.into(), spec.clone()));
        } else {
            why.push(format!("provider {scc}: the pod asks for more than {scc} allows"));
        }
    }
    Err(format!(
        "pods \"{pod_name}\" is forbidden: unable to validate against any security context constraint: [{}]",
        why.join(", ")
    ))
}
