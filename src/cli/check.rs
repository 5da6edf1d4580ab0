//! `fleetctl check`: evaluate acceptance criteria live or against a snapshot.

use super::phase::pick_cluster;
use super::{print_report, Globals, ReportFormat, TargetArgs};
use crate::checks;
use crate::cluster::source::{Snapshot, Source};
use crate::cluster::{Cluster, Target};
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::journal::StateDir;
use crate::report::{Origin, Report};
use crate::runbook;

pub async fn check(
    g: &Globals,
    phase: &str,
    t: TargetArgs,
    snapshot: Option<std::path::PathBuf>,
    output: ReportFormat,
) -> Result<i32, UserError> {
    let phases: Option<u8> = match phase {
        "all" => None,
        p => Some(
            p.parse()
                .map_err(|_| UserError::usage(format!("unknown phase '{p}'")).next("use a phase number or `all`"))?,
        ),
    };
    let all = g.library()?.runbooks.clone();
    if let Some(p) = phases {
        runbook::require_phase(&all, p)?;
    }
    let cluster_name = pick_cluster(g, t.cluster, phases)?;
    let spec = ClusterSpec::load(&g.repo, &cluster_name)?;
    let books: Vec<_> = all
        .iter()
        .filter(|l| phases.is_none_or(|p| l.runbook.phase == p) && l.runbook.platforms.contains(&spec.platform))
        .collect();
    if books.is_empty() {
        return Err(UserError::usage(format!(
            "no runbook of phase {phase} runs on {}",
            spec.platform
        )));
    }
    let criteria: Vec<_> = books.iter().flat_map(|l| l.runbook.acceptance.iter()).collect();
    let nums: Vec<u8> = books.iter().map(|l| l.runbook.phase).collect();
    let journal = StateDir::new(&g.state_root, &cluster_name).load().unwrap_or_default();
    let mut decisions = std::collections::BTreeMap::new();
    for p in &nums {
        if let Some(r) = journal.last_of_phase(*p) {
            decisions.extend(r.decisions.clone());
        }
    }
    let (results, origin) = match &snapshot {
        Some(path) => {
            let snap = Snapshot::load(path)?;
            (
                checks::evaluate_for(&criteria, &Source::Snapshot(&snap), &spec).await?,
                Origin::snapshot(&path.display().to_string()),
            )
        }
        None => {
            let target = Target {
                kubeconfig: t.kubeconfig,
                context: Some(t.context.unwrap_or(spec.kube_context.clone())),
            };
            let cluster = Cluster::connect(&target).await?;
            let id = crate::cluster::identity::require(&cluster, spec.platform, &cluster_name).await?;
            // The cluster the journal met on first contact, and the one cluster.yaml declares.
            crate::cluster::identity::check_declared(
                &spec,
                &cluster_name,
                &id.seen,
                journal.identity.as_ref(),
                &cluster.context,
            )?;
            (
                checks::evaluate_for(&criteria, &Source::Live(&cluster), &spec).await?,
                Origin::cluster(cluster.simulated),
            )
        }
    };
    let report = Report::new(&cluster_name, nums, origin, decisions, results);
    print_report(&report, output);
    Ok(if report.passed() { 0 } else { 1 })
}
