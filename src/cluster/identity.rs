//! Is the live cluster the platform the cluster description says? Checked before any write.
//! OpenShift: the `config.openshift.io` group and ClusterVersion `version`. Talos: every node's osImage.

use super::Cluster;
use crate::error::UserError;
use crate::fleet::Platform;
use serde_json::Value;

/// What the live cluster turned out to be.
#[derive(Debug, Clone)]
pub struct Identity {
    pub platform: Option<Platform>,
    /// e.g. `OpenShift 4.22.0-rc.2` or `Talos (v1.11.2)`.
    pub detail: String,
}

pub async fn detect(cluster: &Cluster) -> Result<Identity, UserError> {
    if cluster.has_group("config.openshift.io").await? {
        let cv = cluster
            .get("config.openshift.io/v1", "ClusterVersion", None, "version")
            .await?;
        let version = cv
            .as_ref()
            .and_then(|v| {
                v.pointer("/status/desired/version")
                    .or_else(|| v.pointer("/status/history/0/version"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "unknown version".into());
        return Ok(Identity {
            platform: Some(Platform::Openshift),
            detail: format!(
                "OpenShift {version}{}",
                if cluster.simulated { " (simulated cluster)" } else { "" }
            ),
        });
    }
    let nodes = cluster.list("v1", "Node", None, None).await?;
    let images: Vec<String> = nodes
        .iter()
        .filter_map(|n| {
            n.pointer("/status/nodeInfo/osImage")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    if !images.is_empty() && images.iter().all(|i| i.starts_with("Talos")) {
        return Ok(Identity {
            platform: Some(Platform::Talos),
            detail: format!(
                "{}{}",
                images[0],
                if cluster.simulated { " (simulated cluster)" } else { "" }
            ),
        });
    }
    let detail = if images.is_empty() {
        "no nodes visible".to_string()
    } else {
        format!("node OS: {}", images.join(", "))
    };
    Ok(Identity { platform: None, detail })
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
    .subject(format!(
        "context {}",
        cluster.target.context.as_deref().unwrap_or("<current>")
    ))
    .next("pick the right --context/--kubeconfig for this cluster; nothing was written"))
}
