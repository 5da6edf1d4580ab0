//! A run is pinned to one cluster. On first contact the cluster's identity (API server, cluster ID, ingress
//! domain, nodes) is recorded in the journal; every later run and every resume must meet the same cluster,
//! and the one `cluster.yaml` declares, or stops with exit 2 before anything is written. The run itself is
//! journaled as soon as the cluster is known, so a run killed in preflight can be resumed.

use super::{PhaseRequest, Progress, Stage};
use crate::cluster::identity::{self, Identity};
use crate::cluster::Cluster;
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::journal::{now, ClusterIdentity, Run, RunStatus, StateDir};
use crate::runbook::Loaded;

/// Check the live cluster against `cluster.yaml`, the journal and the fleet's other clusters; record its
/// identity on first contact; journal the run (new, or the unfinished one of this phase it continues).
/// Returns the unfinished run it continues. A dry run journals nothing.
pub(super) fn open(
    req: &PhaseRequest,
    spec: &ClusterSpec,
    rb: &Loaded,
    cluster: &Cluster,
    id: &Identity,
    progress: &mut Progress,
) -> Result<Option<Run>, UserError> {
    let ui = &req.ui;
    let recorded = progress.journal.identity.clone();
    identity::check_declared(spec, &req.cluster, &id.seen, recorded.as_ref(), &cluster.context)?;
    match &recorded {
        None => {
            identity::check_not_another(&req.cluster, &id.seen, &others(req), &cluster.context)?;
            ui.ok(&format!(
                "first contact with {}: {}",
                req.cluster,
                identity::describe(&id.seen)
            ));
            if spec.cluster_id.is_none() {
                if let Some(cid) = &id.seen.cluster_id {
                    ui.line(&format!(
                        "  recorded in the journal; every later run must meet this cluster (pin it in clusters/{}/cluster.yaml: `clusterID: {cid}`)",
                        req.cluster
                    ));
                }
            }
        }
        Some(rec) => {
            ui.ok(&format!(
                "same cluster as first contact ({}): {}",
                rec.first_contact,
                identity::describe(&id.seen)
            ));
            if rec.server != id.seen.server {
                ui.warn(&format!(
                    "the API server's URL changed since first contact ({} then, {} now); the cluster ID is the same",
                    rec.server, id.seen.server
                ));
            }
        }
    }
    let resumed = progress.journal.unfinished().filter(|r| r.phase == req.phase).cloned();
    if req.dry_run {
        return Ok(resumed);
    }
    let Some(state) = progress.state.clone() else {
        return Ok(resumed);
    };
    let journal = &mut progress.journal;
    if recorded.is_none() {
        journal.identity = Some(id.seen.clone());
    }
    let run_id = match &resumed {
        Some(r) => {
            if r.server.as_deref().is_some_and(|s| s != cluster.server) {
                ui.warn(&format!(
                    "run {} started on {}; it continues on {} (the same cluster ID)",
                    r.id,
                    r.server.as_deref().unwrap_or_default(),
                    cluster.server
                ));
            }
            r.id.clone()
        }
        None => {
            let id = format!("{}-p{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"), req.phase);
            journal.runs.push(Run {
                id: id.clone(),
                phase: req.phase,
                runbook: rb.file.display().to_string(),
                started: now(),
                finished: None,
                status: RunStatus::Running,
                kubeconfig: None,
                context: None,
                server: None,
                rehearsal: req.rehearsal,
                answers: None,
                decisions: Default::default(),
                steps: vec![],
                failure: None,
            });
            id
        }
    };
    super::run::set_run(journal, &run_id, |r| {
        r.status = RunStatus::Running;
        r.failure = None;
        r.kubeconfig = Some(cluster.kubeconfig.clone());
        r.context = Some(cluster.context.clone());
        r.server = Some(cluster.server.clone());
        if let Some(f) = &req.answers_file {
            let abs = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
            r.answers = Some(abs.display().to_string());
        }
    });
    state.save(journal)?;
    progress.run_id = Some(run_id);
    progress.stage = Stage::Preflight;
    Ok(resumed)
}

/// The fleet's other clusters: (directory name, its cluster.yaml, the identity its journal recorded).
fn others(req: &PhaseRequest) -> Vec<(String, Option<ClusterSpec>, Option<ClusterIdentity>)> {
    ClusterSpec::list(&req.repo)
        .into_iter()
        .filter(|c| *c != req.cluster)
        .map(|c| {
            let spec = ClusterSpec::load(&req.repo, &c).ok();
            let rec = StateDir::new(&req.state_root, &c).load().ok().and_then(|j| j.identity);
            (c, spec, rec)
        })
        .collect()
}
