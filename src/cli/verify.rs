//! `fleetctl verify`: render, validate and lint the fleet repo offline (or with CRDs read from a cluster).

use super::{Globals, TargetArgs};
use crate::cluster::{Cluster, Target};
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::verify::{self, VerifyOptions};
use std::path::PathBuf;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyFormat {
    Text,
    Json,
}

pub async fn verify(
    g: &Globals,
    crds: Option<PathBuf>,
    from_cluster: bool,
    jobs: Option<usize>,
    t: TargetArgs,
    output: VerifyFormat,
) -> Result<i32, UserError> {
    let mut opts = VerifyOptions::new(g.repo.clone());
    opts.crds = crds;
    opts.jobs = jobs.unwrap_or_else(|| 2 * std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    if from_cluster {
        let context = match (&t.context, &t.cluster) {
            (Some(c), _) => Some(c.clone()),
            (None, Some(name)) => Some(ClusterSpec::load(&g.repo, name)?.kube_context),
            (None, None) => None,
        };
        let cluster = Cluster::connect(&Target {
            kubeconfig: t.kubeconfig.clone(),
            context,
        })
        .await?;
        opts.cluster_crds = cluster
            .list("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, None)
            .await?;
        g.ui.line(&format!("read {} CRDs from the cluster", opts.cluster_crds.len()));
    }
    let report = tokio::task::spawn_blocking(move || verify::run(&opts))
        .await
        .map_err(|e| UserError::failed(format!("verify crashed: {e}")))??;
    match output {
        VerifyFormat::Text => print!("{}", report.to_text()),
        VerifyFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report.to_json()).unwrap_or_default()
        ),
    }
    Ok(if report.is_clean() { 0 } else { 1 })
}
