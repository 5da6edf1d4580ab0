//! `fleetctl phase` and `fleetctl resume`: parse flags, build a request, call the engine.

use super::{print_report, Globals, ReportFormat, TargetArgs};
use crate::cluster::Target;
use crate::decide;
use crate::engine::{run_phase, PhaseRequest};
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::journal::{Run, StateDir};
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
    let answers_file = answers.clone();
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
        answers_file: answers_file.clone(),
        yes,
        dry_run,
        state_root: g.state_root.clone(),
        rehearsal: false,
        ui: g.ui.clone(),
        library: g.library()?,
        kinds: steps::registry(),
        api_grace: g.api_grace,
    };
    let report = run_phase(&req).await?;
    print_report(&report, output);
    Ok(if report.passed() { 0 } else { 1 })
}

pub async fn resume(
    g: &Globals,
    cluster: Option<String>,
    answers: Option<PathBuf>,
    output: ReportFormat,
) -> Result<i32, UserError> {
    let candidates: Vec<String> = match cluster {
        Some(c) => vec![c],
        None => std::fs::read_dir(&g.state_root)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.path().join("journal.json").is_file())
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
    // The answers: --answers, else the file the run started with (when it is still there).
    let answers_file = answers.or_else(|| {
        let p = PathBuf::from(run.answers.as_deref()?);
        p.is_file().then(|| {
            g.ui.line(&format!(
                "answers from {} (the file run {} started with)",
                p.display(),
                run.id
            ));
            p
        })
    });
    let answers = match &answers_file {
        Some(p) => decide::load_answers(p)?,
        None => Default::default(),
    };
    let target = Target {
        kubeconfig: g.kubeconfig.clone().or(run.kubeconfig.clone().map(PathBuf::from)),
        context: g.context.clone().or(run.context.clone()),
    };
    if g.kubeconfig.is_none() {
        same_kubeconfig(&run, &target).await?;
    }
    g.ui.line(&format!(
        "resuming phase {} on {cluster} (run {}) where it started: kubeconfig {}, context {}, server {}",
        run.phase,
        run.id,
        target
            .kubeconfig
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(KUBECONFIG or ~/.kube/config)".into()),
        target.context.as_deref().unwrap_or("(cluster.yaml's kubeContext)"),
        run.server.as_deref().unwrap_or("(not recorded)")
    ));
    let req = PhaseRequest {
        repo: g.repo.clone(),
        cluster,
        phase: run.phase,
        target,
        answers,
        answers_file,
        yes: false,
        dry_run: false,
        state_root: g.state_root.clone(),
        rehearsal: run.rehearsal,
        ui: g.ui.clone(),
        library: g.library()?,
        kinds: steps::registry(),
        api_grace: g.api_grace,
    };
    let report = run_phase(&req).await?;
    print_report(&report, output);
    Ok(if report.passed() { 0 } else { 1 })
}

/// `resume` continues on the run's own kubeconfig. When KUBECONFIG now names another file and that file
/// points the run's context at another server (or lacks it), the environment has moved to another
/// cluster: refuse (exit 2, nothing written) rather than guess which one is meant.
async fn same_kubeconfig(run: &Run, target: &Target) -> Result<(), UserError> {
    let (Some(started), Some(now)) = (
        run.kubeconfig.as_deref(),
        std::env::var("KUBECONFIG").ok().filter(|k| !k.is_empty()),
    ) else {
        return Ok(());
    };
    if now == started {
        return Ok(());
    }
    let env_target = Target {
        kubeconfig: Some(PathBuf::from(&now)),
        context: target.context.clone(),
    };
    let there = crate::cluster::server_of(&env_target).await;
    if there.as_deref().ok() == run.server.as_deref() {
        return Ok(());
    }
    let ctx = target.context.as_deref().unwrap_or("<current>");
    let points = match there {
        Ok(s) => format!("which points context {ctx} at {s}"),
        Err(e) => format!("which cannot reach context {ctx} ({})", e.cause),
    };
    Err(UserError::usage(format!(
        "KUBECONFIG has changed since run {} started: it was {started} (context {ctx}, server {}), it is now {now}, {points}",
        run.id,
        run.server.as_deref().unwrap_or("not recorded")
    ))
    .subject(format!("run {}", run.id))
    .next(format!(
        "resume continues a run only on its own cluster: set KUBECONFIG back to {started} (or unset it), or pass --kubeconfig explicitly; nothing was written"
    )))
}
