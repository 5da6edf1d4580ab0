//! `argocd-rbac`: every object Argo CD syncs on a cluster must be writable by its application controller.
//!
//! Where Argo CD is installed by the OpenShift GitOps operator (an `ArgoCD` resource under
//! `clusters/<name>/bootstrap`), the controller is not cluster-admin. The operator grants it:
//! - admin in the instance's own namespace and in namespaces labelled `argocd.argoproj.io/managed-by: <ns>`;
//! - when the namespace is listed in the Subscription's `ARGOCD_CLUSTER_CONFIG_NAMESPACES`: read access to
//!   everything, Argo CD's own kinds, and write access to cluster *configuration* (OLM, `*.openshift.io`
//!   config groups, namespaces, PVs/PVCs, ConfigMaps, RBAC, storage) — the operator's fixed rule list,
//!   mirrored below from its source (gitops-operator `controllers/argocd/openshift`);
//! - whatever ClusterRoles/Roles the repo itself binds to the controller's ServiceAccount.
//!
//! Anything else (Gateway API, cert-manager, External Secrets, vendor CRDs, ...) fails to sync with
//! "forbidden" on the real cluster. This rule finds those kinds offline. Objects of Applications whose source is a
//! Helm repository are not seen (verify renders kustomizations, `helmCharts` included); `admin` is approximated by the built-in
//! workload groups.

use super::{in_bootstrap, Ctx};
use crate::schema::resource::ResourceName;
use crate::schema::Gvk;
use crate::verify::{Finding, RenderedObject};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Verbs a sync with pruning uses to create, update and remove an object.
const SYNC_VERBS: &[&str] = &["create", "patch", "delete"];

/// What the operator gives a cluster-scoped instance's controller (`ARGOCD_CLUSTER_CONFIG_NAMESPACES`).
const CLUSTER_CONFIG: &[(&str, &[&str])] = &[
    (
        "argoproj.io",
        &["applications", "applicationsets", "appprojects", "argocds"],
    ),
    ("monitoring.coreos.com", &["*"]),
    ("operators.coreos.com", &["*"]),
    ("operator.openshift.io", &["*"]),
    ("user.openshift.io", &["*"]),
    ("config.openshift.io", &["*"]),
    ("console.openshift.io", &["*"]),
    (
        "",
        &[
            "namespaces",
            "persistentvolumeclaims",
            "persistentvolumes",
            "configmaps",
        ],
    ),
    ("rbac.authorization.k8s.io", &["*"]),
    ("storage.k8s.io", &["*"]),
    ("machine.openshift.io", &["*"]),
    ("machineconfiguration.openshift.io", &["*"]),
    ("compliance.openshift.io", &["scansettingbindings"]),
];

/// The groups the `admin` ClusterRole covers in a namespace (an approximation: aggregated CRD rights vary).
const ADMIN_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "networking.k8s.io",
    "discovery.k8s.io",
    "rbac.authorization.k8s.io",
    "route.openshift.io",
    "argoproj.io",
];

/// One grant: a rule, cluster-wide (`namespace: None`) or in one namespace.
#[derive(Debug, Clone)]
struct Grant {
    namespace: Option<String>,
    groups: Vec<String>,
    resources: Vec<String>,
    verbs: Vec<String>,
}

impl Grant {
    fn new(namespace: Option<&str>, groups: &[&str], resources: &[&str], verbs: &[&str]) -> Grant {
        let own = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect();
        Grant {
            namespace: namespace.map(str::to_string),
            groups: own(groups),
            resources: own(resources),
            verbs: own(verbs),
        }
    }

    fn allows(&self, group: &str, resource: &str, namespace: Option<&str>, verb: &str) -> bool {
        let any = |xs: &[String], x: &str| xs.iter().any(|v| v == "*" || v == x);
        let scope_ok = match (&self.namespace, namespace) {
            (None, _) => true,
            (Some(g), Some(n)) => g == n,
            // An object without a namespace lands in its Application's destination namespace; be lenient.
            (Some(_), None) => true,
        };
        scope_ok && any(&self.groups, group) && any(&self.resources, resource) && any(&self.verbs, verb)
    }
}

/// The sync verbs the controller lacks for a kind, its resource name, and the objects of that kind.
type Missing<'o> = (Vec<&'static str>, ResourceName, Vec<&'o RenderedObject>);

/// The Argo CD instance the operator runs on one cluster, read from its bootstrap.
struct Instance {
    namespace: String,
    controller_sa: String,
    cluster_config: bool,
}

/// Run the rule over every cluster directory.
pub(super) fn check(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    // CRDs the repo itself installs name their kinds' resources on every cluster.
    let plurals = rendered_crd_plurals(objects);
    let mut by_cluster: BTreeMap<&str, Vec<&RenderedObject>> = BTreeMap::new();
    for o in objects {
        if let Some(c) = ctx.root_of(o).kind.cluster() {
            by_cluster.entry(c).or_default().push(o);
        }
    }
    for (cluster, objs) in by_cluster {
        let (boot, synced): (Vec<&RenderedObject>, Vec<&RenderedObject>) =
            objs.iter().partition(|o| in_bootstrap(&ctx.root_of(o).rel));
        let Some(inst) = operator_instance(&boot) else {
            continue;
        };
        let (grants, role_file) = grants(&inst, &objs);
        for ((group, kind), (verbs, name, objs)) in missing(ctx, &plurals, &grants, &synced) {
            let first = objs[0];
            let resource = name.shown();
            let qualified = if group.is_empty() {
                resource.to_string()
            } else {
                format!("{resource}.{group}")
            };
            let guessed = if name.is_guess() {
                format!(
                    " (no CRD for {kind} is known here, so its resource name is guessed: checked as {}; pass --crds DIR \
                     or --from-cluster to check the real name)",
                    name.names().join(" or ")
                )
            } else {
                String::new()
            };
            let fix = match &role_file {
                Some((role, file)) => format!("add a rule for it to ClusterRole {role} ({file})"),
                None => format!(
                    "bind a ClusterRole granting it to ServiceAccount {}/{} under clusters/{cluster}/bootstrap",
                    inst.namespace, inst.controller_sa
                ),
            };
            let mut f = Finding::new(
                "argocd-rbac",
                first.file.clone(),
                first.label(),
                format!(
                    "Argo CD's controller ({}/{}) may not {} {qualified}{guessed} ({} object(s) on cluster {cluster}); \
                     the sync fails as forbidden: {fix}",
                    inst.namespace,
                    inst.controller_sa,
                    verbs.join("/"),
                    objs.len()
                ),
            );
            f.root = crate::verify::root_path(ctx.root_of(first));
            out.push(f);
        }
    }
}

/// (group, kind) -> what the controller lacks to sync the objects of that kind. With a guessed resource
/// name a verb counts as granted when any likely name is granted.
fn missing<'o>(
    ctx: &Ctx,
    plurals: &BTreeMap<(String, String), String>,
    grants: &[Grant],
    synced: &[&'o RenderedObject],
) -> BTreeMap<(String, String), Missing<'o>> {
    let mut missing: BTreeMap<(String, String), Missing> = BTreeMap::new();
    for o in synced {
        let Some(g) = Gvk::of(&o.value) else { continue };
        let name = resource_name(ctx, plurals, &g);
        let ns = o.value.pointer("/metadata/namespace").and_then(Value::as_str);
        let granted = |verb: &str| {
            name.names()
                .iter()
                .any(|r| grants.iter().any(|gr| gr.allows(&g.group, r, ns, verb)))
        };
        let lacking: Vec<&'static str> = SYNC_VERBS.iter().copied().filter(|v| !granted(v)).collect();
        if !lacking.is_empty() {
            let e = missing
                .entry((g.group.clone(), g.kind.clone()))
                .or_insert_with(|| (Vec::new(), name, Vec::new()));
            e.0 = lacking;
            e.2.push(o);
        }
    }
    missing
}

/// The operator-managed Argo CD instance in a cluster's bootstrap objects, if any.
fn operator_instance(boot: &[&RenderedObject]) -> Option<Instance> {
    let cr = boot
        .iter()
        .find(|o| Gvk::of(&o.value).is_some_and(|g| g.group == "argoproj.io" && g.kind == "ArgoCD"))?;
    let name = cr.value.pointer("/metadata/name").and_then(Value::as_str)?;
    let namespace = cr
        .value
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let cluster_config = boot.iter().any(|o| {
        let is_sub = Gvk::of(&o.value).is_some_and(|g| g.group == "operators.coreos.com" && g.kind == "Subscription");
        let env = o.value.pointer("/spec/config/env").and_then(Value::as_array);
        is_sub
            && env.into_iter().flatten().any(|e| {
                e.get("name").and_then(Value::as_str) == Some("ARGOCD_CLUSTER_CONFIG_NAMESPACES")
                    && e.get("value")
                        .and_then(Value::as_str)
                        .is_some_and(|v| v.split(',').map(str::trim).any(|n| n == namespace || n == "*"))
            })
    });
    Some(Instance {
        namespace: namespace.to_string(),
        controller_sa: format!("{name}-argocd-application-controller"),
        cluster_config,
    })
}

/// Everything the controller may do, and the repo's own ClusterRole for it (name, file) to point fixes at.
fn grants(inst: &Instance, objs: &[&RenderedObject]) -> (Vec<Grant>, Option<(String, String)>) {
    let mut grants = Vec::new();
    let mut admin_in: BTreeSet<String> = BTreeSet::from([inst.namespace.clone()]);
    for o in objs {
        let is_ns = Gvk::of(&o.value).is_some_and(|g| g.group.is_empty() && g.kind == "Namespace");
        let managed = o
            .value
            .pointer("/metadata/labels/argocd.argoproj.io~1managed-by")
            .and_then(Value::as_str);
        if is_ns && managed == Some(inst.namespace.as_str()) {
            if let Some(n) = o.value.pointer("/metadata/name").and_then(Value::as_str) {
                admin_in.insert(n.to_string());
            }
        }
    }
    for ns in &admin_in {
        grants.push(Grant::new(Some(ns), ADMIN_GROUPS, &["*"], &["*"]));
    }
    if inst.cluster_config {
        for (group, resources) in CLUSTER_CONFIG {
            grants.push(Grant::new(None, &[group], resources, &["*"]));
        }
    }
    let role_file = bound_role_grants(inst, objs, &mut grants);
    (grants, role_file)
}

/// (namespace for Roles, kind, name) -> the Role or ClusterRole object.
type Roles<'o> = BTreeMap<(Option<String>, String, String), &'o RenderedObject>;

/// The repo's own Roles/ClusterRoles bound to the controller, added to `grants`; returns the first
/// ClusterRole bound cluster-wide (name, file) to point fixes at.
fn bound_role_grants(inst: &Instance, objs: &[&RenderedObject], grants: &mut Vec<Grant>) -> Option<(String, String)> {
    let roles: Roles = objs
        .iter()
        .filter_map(|o| {
            let g = Gvk::of(&o.value)?;
            if g.group != "rbac.authorization.k8s.io" || !(g.kind == "ClusterRole" || g.kind == "Role") {
                return None;
            }
            let ns = namespace_if(o, g.kind == "Role");
            let name = o.value.pointer("/metadata/name").and_then(Value::as_str)?.to_string();
            Some(((ns, g.kind, name), *o))
        })
        .collect();
    let mut role_file = None;
    for o in objs {
        let Some(g) = Gvk::of(&o.value) else { continue };
        if g.group != "rbac.authorization.k8s.io" || !(g.kind == "ClusterRoleBinding" || g.kind == "RoleBinding") {
            continue;
        }
        if !binds_controller(inst, o) {
            continue;
        }
        let binding_ns = namespace_if(o, g.kind == "RoleBinding");
        let ref_kind = o
            .value
            .pointer("/roleRef/kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ref_name = o
            .value
            .pointer("/roleRef/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let role_ns = if ref_kind == "Role" { binding_ns.clone() } else { None };
        let Some(role) = roles.get(&(role_ns, ref_kind.to_string(), ref_name.to_string())) else {
            continue;
        };
        if ref_kind == "ClusterRole" && g.kind == "ClusterRoleBinding" && role_file.is_none() {
            role_file = Some((ref_name.to_string(), role.file.clone()));
        }
        grants.extend(role_rules(role, &binding_ns));
    }
    role_file
}

/// Whether a (Cluster)RoleBinding names the controller's ServiceAccount.
fn binds_controller(inst: &Instance, binding: &RenderedObject) -> bool {
    binding
        .value
        .get("subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|s| {
            s.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                && s.get("name").and_then(Value::as_str) == Some(inst.controller_sa.as_str())
                && s.get("namespace").and_then(Value::as_str) == Some(inst.namespace.as_str())
        })
}

/// The grants of a role's rules, bound in `namespace` (`None`: cluster-wide).
fn role_rules(role: &RenderedObject, namespace: &Option<String>) -> Vec<Grant> {
    let mut out = Vec::new();
    for rule in role.value.get("rules").and_then(Value::as_array).into_iter().flatten() {
        if rule
            .get("resourceNames")
            .and_then(Value::as_array)
            .is_some_and(|n| !n.is_empty())
        {
            continue; // limited to named objects: not enough to create new ones
        }
        let strs = |k: &str| -> Vec<String> {
            rule.get(k)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        };
        out.push(Grant {
            namespace: namespace.clone(),
            groups: strs("apiGroups"),
            resources: strs("resources"),
            verbs: strs("verbs"),
        });
    }
    out
}

/// The object's namespace, when it is of a namespaced kind.
fn namespace_if(o: &RenderedObject, namespaced: bool) -> Option<String> {
    let ns = o.value.pointer("/metadata/namespace").and_then(Value::as_str);
    ns.filter(|_| namespaced).map(str::to_string)
}

/// (group, kind) -> plural of the CRDs the repo's own manifests install.
fn rendered_crd_plurals(objs: &[RenderedObject]) -> BTreeMap<(String, String), String> {
    objs.iter()
        .filter(|o| Gvk::of(&o.value).is_some_and(|g| g.kind == "CustomResourceDefinition"))
        .filter_map(|o| {
            let spec = o.value.get("spec")?;
            let group = spec.get("group")?.as_str()?.to_string();
            let kind = spec.pointer("/names/kind")?.as_str()?.to_string();
            let plural = spec.pointer("/names/plural")?.as_str()?.to_string();
            Some(((group, kind), plural))
        })
        .collect()
}

/// The resource name RBAC uses for a kind: from a CRD the repo installs, else from the CRD cache or the
/// cluster (`--crds`, `--from-cluster`), else Kubernetes' rule for built-ins, else a guess.
fn resource_name(ctx: &Ctx, rendered: &BTreeMap<(String, String), String>, g: &Gvk) -> ResourceName {
    let declared = rendered
        .get(&(g.group.clone(), g.kind.clone()))
        .map(String::as_str)
        .or_else(|| ctx.schemas.crd_resource(&g.group, &g.kind));
    ResourceName::of(&g.group, &g.kind, declared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_is_limited_to_its_namespace_group_resource_and_verbs() {
        let g = Grant::new(Some("argocd"), &["apps"], &["deployments"], &["create", "patch"]);
        assert!(g.allows("apps", "deployments", Some("argocd"), "patch"));
        assert!(!g.allows("apps", "deployments", Some("redlib"), "patch"));
        assert!(!g.allows("apps", "statefulsets", Some("argocd"), "patch"));
        assert!(!g.allows("apps", "deployments", Some("argocd"), "delete"));
        let all = Grant::new(None, &["*"], &["*"], &["*"]);
        assert!(all.allows("nvidia.com", "clusterpolicies", None, "delete"));
    }
}
