//! `fleetctl phase` and `fleetctl resume`: parse flags, build a request, call the engine.

use super::{print_report, Globals, ReportFormat, TargetArgs};
use crate::cluster::Target;
use crate::decide;
use crate::engine::{run_phase, PhaseRequest};
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::journal::StateDir;
use crate::runbook;
use crate::steps;
use std::path::PathBuf;

/// The cluster to use: the one named, or the only one whose platform runs this phase.
pub fn pick_cluster(g: &Globals, named: Option<String>, phase: Option<u8>) -> Result<String, UserError> {
    let books = match phase {
        Some(p) => {
            let books = g.library()?.runbooks.clone();
            // An unknown phase is the first thing to say, whichever clusters there are.
            runbook::require_phase(&books, p)?;
            books
        }
        None => vec![],
    };
    if let Some(n) = named {
        return Ok(n);
    }
    let all = ClusterSpec::list(&g.repo);
    let platforms: Vec<_> = match phase {
        Some(p) => books
            .into_iter()
            .filter(|l| l.runbook.phase == p)
            .flat_map(|l| l.runbook.platforms)
            .collect(),
        None => vec![],
    };
    let fits: Vec<String> = all
        .iter()
        .filter(|c| {
            platforms.is_empty() || ClusterSpec::load(&g.repo, c).is_ok_and(|s| platforms.contains(&s.platform))
        })
        .cloned()
        .collect();
    match fits.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(UserError::usage("no cluster description fits")
            .subject(g.repo.join("clusters").display().to_string())
            .next("add clusters/<name>/cluster.yaml (docs/cluster-yaml.md)")),
        many => {
            Err(UserError::usage(format!("several clusters fit: {}", many.join(", ")))
                .next("pick one with --cluster NAME"))
        }
    }
}

pub async fn phase(
    g: &Globals,
    phase: u8,
    t: TargetArgs,
    answers: Option<PathBuf>,
    yes: bool,
    dry_run: bool,
    output: ReportFormat,
) -> Result<i32, UserError> {
    let cluster = pick_cluster(g, t.cluster, Some(phase))?;
    let answers = match &answers {
        Some(p) => decide::load_answers(p)?,
        None => Default::default(),
    };
    let req = PhaseRequest {
        repo: g.repo.clone(),
        cluster,
        phase,
        target: Target {
            kubeconfig: t.kubeconfig,
            context: t.context,
        },
        answers,
        yes,
        dry_run,
        state_root: g.state_root.clone(),
        rehearsal: false,
        ui: g.ui.clone(),
        library: g.library()?,
        kinds: steps::registry(),
    };
    let report = run_phase(&req).await?;
    print_report(&report, output);
    Ok(if report.passed() { 0 } else { 1 })
}

pub async fn resume(
    g: &Globals,
    cluster: Option<String>,
    kubeconfig: Option<PathBuf>,
    output: ReportFormat,
) -> Result<i32, UserError> {
    let candidates: Vec<String> = match cluster {
        Some(c) => vec![c],
        None => std::fs::read_dir(&g.state_root)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut found = Vec::new();
    for c in candidates {
        let j = StateDir::new(&g.state_root, &c).load()?;
        if let Some(r) = j.unfinished() {
            found.push((c, r.clone()));
        }
    }
    let (cluster, run) = match found.len() {
        1 => found.remove(0),
        0 => {
            return Err(UserError::usage("there is no unfinished run to resume")
                .subject(g.state_root.display().to_string())
                .next("start one with `fleetctl phase N`"))
        }
        _ => {
            let names: Vec<String> = found.iter().map(|(c, _)| c.clone()).collect();
            return Err(
                UserError::usage(format!("several clusters have unfinished runs: {}", names.join(", ")))
                    .next("pick one with --cluster NAME"),
            );
        }
    };
    g.ui.line(&format!("resuming phase {} on {cluster} (run {})", run.phase, run.id));
    let req = PhaseRequest {
        repo: g.repo.clone(),
        cluster,
        phase: run.phase,
        target: Target {
            kubeconfig: kubeconfig.or(run.kubeconfig.map(PathBuf::from)),
            context: run.context,
        },
        answers: Default::default(),
        yes: false,
        dry_run: false,
        state_root: g.state_root.clone(),
        rehearsal: run.rehearsal,
        ui: g.ui.clone(),
        library: g.library()?,
        kinds: steps::registry(),
    };
    let report = run_phase(&req).await?;
    print_report(&report, output);
    Ok(if report.passed() { 0 } else { 1 })
}
