//! Which cluster is this? Checked before any write. The platform (OpenShift: the `config.openshift.io` group
//! and ClusterVersion `version`; Talos: every node's osImage), and the cluster's identity: its API server,
//! its ID (`ClusterVersion.spec.clusterID` on OpenShift, the `kube-system` namespace's UID anywhere), its
//! ingress domain (OpenShift) and node names. The identity is compared with what `cluster.yaml` declares
//! and with what the journal recorded on first contact.

use super::Cluster;
use crate::error::UserError;
use crate::fleet::{ClusterSpec, Platform};
use crate::journal::ClusterIdentity;
use serde_json::Value;

/// What the live cluster turned out to be.
#[derive(Debug, Clone)]
pub struct Identity {
    pub platform: Option<Platform>,
    /// e.g. `OpenShift 4.22.0-rc.2` or `Talos (v1.11.2)`.
    pub detail: String,
    /// The facts that tell one cluster from another, as the journal records them.
    pub seen: ClusterIdentity,
}

fn str_at(v: &Option<Value>, ptr: &str) -> Option<String> {
    v.as_ref()
        .and_then(|v| v.pointer(ptr))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Where there is no ClusterVersion, the cluster's ID is its `kube-system` namespace's UID.
fn use_kube_system_uid(seen: &mut ClusterIdentity) {
    seen.cluster_id = seen.kube_system_uid.clone();
    seen.cluster_id_from = "kube-system namespace UID".into();
}

pub async fn detect(cluster: &Cluster) -> Result<Identity, UserError> {
    let sim = if cluster.simulated { " (simulated cluster)" } else { "" };
    let nodes = cluster.list("v1", "Node", None, None).await?;
    let names: Vec<String> = nodes
        .iter()
        .filter_map(|n| n.pointer("/metadata/name").and_then(Value::as_str).map(str::to_string))
        .collect();
    // Reading kube-system may be forbidden to a narrow role: then the ID is unknown, not an error.
    let kube_system = cluster.get("v1", "Namespace", None, "kube-system").await.ok().flatten();
    let mut seen = ClusterIdentity {
        server: cluster.server.clone(),
        kube_system_uid: str_at(&kube_system, "/metadata/uid"),
        nodes: names,
        first_contact: crate::journal::now(),
        ..Default::default()
    };
    if cluster.has_group("config.openshift.io").await? {
        let cv = cluster
            .get("config.openshift.io/v1", "ClusterVersion", None, "version")
            .await?;
        let version = str_at(&cv, "/status/desired/version")
            .or_else(|| str_at(&cv, "/status/history/0/version"))
            .unwrap_or_else(|| "unknown version".into());
        let ingress = cluster
            .get("config.openshift.io/v1", "Ingress", None, "cluster")
            .await
            .ok()
            .flatten();
        seen.platform = Platform::Openshift.to_string();
        seen.ingress_domain = str_at(&ingress, "/spec/domain");
        match str_at(&cv, "/spec/clusterID") {
            Some(id) => {
                seen.cluster_id = Some(id);
                seen.cluster_id_from = "ClusterVersion.spec.clusterID".into();
            }
            None => use_kube_system_uid(&mut seen),
        }
        return Ok(Identity {
            platform: Some(Platform::Openshift),
            detail: format!("OpenShift {version}{sim}"),
            seen,
        });
    }
    use_kube_system_uid(&mut seen);
    let images: Vec<String> = nodes
        .iter()
        .filter_map(|n| {
            n.pointer("/status/nodeInfo/osImage")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    if !images.is_empty() && images.iter().all(|i| i.starts_with("Talos")) {
        seen.platform = Platform::Talos.to_string();
        return Ok(Identity {
            platform: Some(Platform::Talos),
            detail: format!("{}{sim}", images[0]),
            seen,
        });
    }
    let detail = if images.is_empty() {
        "no nodes visible".to_string()
    } else {
        format!("node OS: {}", images.join(", "))
    };
    Ok(Identity {
        platform: None,
        detail,
        seen,
    })
}

/// Refuse to go on unless the cluster is `want`.
pub async fn require(cluster: &Cluster, want: Platform, cluster_name: &str) -> Result<Identity, UserError> {
    let id = detect(cluster).await?;
    if id.platform == Some(want) {
        return Ok(id);
    }
    Err(UserError::usage(format!(
        "wrong cluster: clusters/{cluster_name}/cluster.yaml says {want}, but the live cluster is {}",
        match id.platform {
            Some(p) => format!("{p} ({})", id.detail),
            None => format!("neither OpenShift nor Talos ({})", id.detail),
        }
    ))
    .subject(format!("context {}, server {}", cluster.context, cluster.server))
    .next("pick the right --context/--kubeconfig for this cluster; nothing was written"))
}

/// "cluster ID X (ClusterVersion.spec.clusterID) at https://..., nodes a, b".
pub fn describe(id: &ClusterIdentity) -> String {
    let mut s = match &id.cluster_id {
        Some(c) => format!("cluster ID {c} ({})", id.cluster_id_from),
        None => "a cluster of unknown ID".to_string(),
    };
    s.push_str(&format!(" at {}", id.server));
    if !id.nodes.is_empty() {
        s.push_str(&format!(", nodes {}", id.nodes.join(", ")));
    }
    if let Some(d) = &id.ingress_domain {
        s.push_str(&format!(", ingress domain {d}"));
    }
    s
}

/// Whether two sightings are the same cluster: by ID when both have one (either ID kind), else by the
/// kube-system UID; `None` when nothing comparable was seen.
pub fn same_cluster(a: &ClusterIdentity, b: &ClusterIdentity) -> Option<bool> {
    let ids = |x: &ClusterIdentity| -> Vec<String> { x.cluster_id.iter().chain(&x.kube_system_uid).cloned().collect() };
    let (ia, ib) = (ids(a), ids(b));
    if ia.is_empty() || ib.is_empty() {
        return None;
    }
    if a.cluster_id_from == b.cluster_id_from && a.cluster_id.is_some() && b.cluster_id.is_some() {
        return Some(a.cluster_id == b.cluster_id);
    }
    Some(ia.iter().any(|x| ib.contains(x)))
}

/// The wrong-cluster refusal: exit 2, naming the live cluster and the one expected; nothing was written.
fn wrong(name: &str, live: &ClusterIdentity, expected: String, context: &str) -> UserError {
    UserError::usage(format!(
        "wrong cluster: the API server is {}, but {expected}",
        describe(live)
    ))
    .subject(format!("cluster {name}, context {context}"))
    .next(format!(
        "pick the right --context/--kubeconfig for {name} (kubectl config get-contexts); nothing was written"
    ))
}

/// Check the live identity against `cluster.yaml` (its `clusterID`; on OpenShift, `appsDomain` against the
/// ingress domain) and against what the journal recorded on first contact.
pub fn check_declared(
    spec: &ClusterSpec,
    name: &str,
    live: &ClusterIdentity,
    recorded: Option<&ClusterIdentity>,
    context: &str,
) -> Result<(), UserError> {
    if let Some(want) = &spec.cluster_id {
        let ids: Vec<&String> = live.cluster_id.iter().chain(&live.kube_system_uid).collect();
        if !ids.contains(&want) {
            return Err(wrong(
                name,
                live,
                format!("clusters/{name}/cluster.yaml declares clusterID {want}"),
                context,
            ));
        }
    }
    if let Some(domain) = &live.ingress_domain {
        let apps = spec.apps_domain.trim_end_matches('.');
        if apps != domain && !apps.ends_with(&format!(".{domain}")) {
            return Err(wrong(
                name,
                live,
                format!("clusters/{name}/cluster.yaml has appsDomain {apps}, which is not the cluster's ingress domain {domain} or under it"),
                context,
            ));
        }
    }
    if let Some(rec) = recorded {
        if same_cluster(live, rec) == Some(false) {
            return Err(wrong(
                name,
                live,
                format!(
                    "the journal of {name} recorded {} on first contact ({})",
                    describe(rec),
                    rec.first_contact
                ),
                context,
            ));
        }
    }
    Ok(())
}

/// On first contact: the live cluster must not be another cluster of the fleet (by its declared `clusterID`
/// or the identity its journal recorded). `others` are (directory name, declared spec, recorded identity).
pub fn check_not_another(
    name: &str,
    live: &ClusterIdentity,
    others: &[(String, Option<ClusterSpec>, Option<ClusterIdentity>)],
    context: &str,
) -> Result<(), UserError> {
    for (other, spec, rec) in others.iter().filter(|(o, _, _)| o != name) {
        let declared = spec.as_ref().and_then(|s| s.cluster_id.clone());
        let by_decl = declared
            .as_ref()
            .is_some_and(|d| live.cluster_id.as_ref() == Some(d) || live.kube_system_uid.as_ref() == Some(d));
        let by_rec = rec.as_ref().is_some_and(|r| same_cluster(live, r) == Some(true));
        if by_decl || by_rec {
            let how = if by_decl {
                format!("clusters/{other}/cluster.yaml declares that ID")
            } else {
                format!("fleetctl recorded it as cluster {other}")
            };
            return Err(wrong(
                name,
                live,
                format!("that is cluster {other}, not {name} ({how})"),
                context,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(cid: Option<&str>, from: &str, ks: Option<&str>) -> ClusterIdentity {
        ClusterIdentity {
            server: "https://api.example:6443".into(),
            cluster_id: cid.map(str::to_string),
            cluster_id_from: from.into(),
            kube_system_uid: ks.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn the_same_cluster_is_told_by_id_and_a_different_one_is_refused() {
        let a = id(Some("A"), "ClusterVersion.spec.clusterID", Some("ks-a"));
        let b = id(Some("B"), "ClusterVersion.spec.clusterID", Some("ks-b"));
        assert_eq!(same_cluster(&a, &a), Some(true));
        assert_eq!(same_cluster(&a, &b), Some(false));
        assert_eq!(same_cluster(&a, &id(None, "", None)), None);
        let e = check_declared(
            &serde_yaml::from_str::<ClusterSpec>(
                "name: x\nplatform: openshift\nargocd: {flavour: operator, namespace: argocd}\nkubeContext: x\nappsDomain: apps.x\ngateway: {name: g, namespace: n}\nstorageClass: s\nclusterID: B\n",
            )
            .unwrap(),
            "x",
            &a,
            None,
            "ctx",
        )
        .unwrap_err();
        assert_eq!(e.code, 2);
        assert!(
            e.cause.contains("cluster ID A") && e.cause.contains("declares clusterID B"),
            "{e}"
        );
    }
}
