//! `fleetctl rehearse` (the real runbooks, through the real kube client, against an in-process simulated
//! cluster) and `fleetctl sim serve` (the simulated cluster as its own process).

use super::{print_report, Globals, ReportFormat};
use crate::cluster::Target;
use crate::engine::{decide, run_phase, PhaseRequest};
use crate::error::UserError;
use crate::fleet::{ClusterSpec, Platform};
use crate::runbook;
use crate::sim::{self, FaultSpec, SimConfig};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `fleetctl sim ...`.
pub async fn sim(cmd: super::SimCommand) -> Result<i32, UserError> {
    let super::SimCommand::Serve {
        platform,
        listen,
        kubeconfig_out: out,
        context,
        faults,
        speed,
        crds,
        fleet,
    } = cmd;
    let platform: Platform = platform.parse().map_err(UserError::usage)?;
    let faults: FaultSpec = faults
        .parse()
        .map_err(|e| UserError::usage(format!("bad --faults: {e}")).next("see docs/sim.md for the fault syntax"))?;
    if speed.is_nan() || speed <= 0.0 {
        return Err(UserError::usage("--speed must be greater than 0"));
    }
    let mut cfg = SimConfig::new(platform);
    cfg.listen = listen;
    cfg.faults = faults;
    cfg.speed = speed;
    cfg.crds_dir = crds;
    cfg.repo = fleet;
    sim::serve_cli(cfg, out, &context)
        .await
        .map_err(|e| UserError::failed(format!("the simulated cluster stopped: {e:#}")))?;
    Ok(0)
}

pub async fn rehearse(
    g: &Globals,
    phase: &str,
    answers: Option<PathBuf>,
    yes: bool,
    crds: Option<PathBuf>,
    output: ReportFormat,
) -> Result<i32, UserError> {
    let books = runbook::load_dir(&g.repo.join("runbooks"))?;
    let mut phases: Vec<u8> = books.iter().map(|l| l.runbook.phase).collect();
    phases.sort();
    phases.dedup();
    let wanted: Vec<u8> = match phase {
        "all" => phases.clone(),
        p => {
            let n: u8 = p
                .parse()
                .map_err(|_| UserError::usage(format!("unknown phase '{p}'")).next("use a phase number or `all`"))?;
            if !phases.contains(&n) {
                return Err(UserError::usage(format!("unknown phase {n}: no runbook for it"))
                    .next(format!("known phases: {phases:?}")));
            }
            vec![n]
        }
    };
    let answers = match &answers {
        Some(p) => decide::load_answers(p)?,
        None => BTreeMap::new(),
    };
    // Rehearsal state never mixes with real state.
    let state = tempfile::tempdir().map_err(|e| UserError::failed(format!("cannot make a temp dir: {e}")))?;
    // SAFETY of the process environment: set once, before any task reads it.
    std::env::set_var("FLEETCTL_REHEARSAL", "1");
    let mut sims: BTreeMap<String, (sim::SimHandle, PathBuf)> = BTreeMap::new();
    let mut failed = false;
    g.ui.banner("REHEARSAL: every phase runs against a simulated cluster on 127.0.0.1; no real cluster is contacted");
    for p in wanted {
        for cname in ClusterSpec::list(&g.repo) {
            let spec = ClusterSpec::load(&g.repo, &cname)?;
            if !books
                .iter()
                .any(|l| l.runbook.phase == p && l.runbook.platforms.contains(&spec.platform))
            {
                continue;
            }
            if !sims.contains_key(&cname) {
                let mut cfg = SimConfig::new(spec.platform);
                cfg.speed = 20.0;
                cfg.crds_dir = crds.clone();
                cfg.repo = Some(g.repo.clone());
                let h = sim::start(cfg)
                    .await
                    .map_err(|e| UserError::failed(format!("cannot start the simulated cluster: {e:#}")))?;
                let kc = state.path().join(format!("{cname}.kubeconfig"));
                h.write_kubeconfig(&kc, &spec.kube_context)
                    .map_err(|e| UserError::failed(format!("cannot write kubeconfig: {e:#}")))?;
                g.ui.line(&format!(
                    "simulated {} cluster for {cname} at {} (router https://{})",
                    spec.platform,
                    h.url(),
                    h.router_addr()
                ));
                sims.insert(cname.clone(), (h, kc));
            }
            let kc = sims[&cname].1.clone();
            // Probes of this cluster's hosts go to its simulated HTTPS router and accept its self-signed
            // certificate. Set per cluster, before its phase runs (phases run one at a time).
            std::env::set_var("FLEETCTL_PROBE_RESOLVE", format!("*={}", sims[&cname].0.router_addr()));
            std::env::set_var("FLEETCTL_PROBE_INSECURE", "1");
            let req = PhaseRequest {
                repo: g.repo.clone(),
                cluster: cname.clone(),
                phase: p,
                target: Target {
                    kubeconfig: Some(kc),
                    context: Some(spec.kube_context.clone()),
                },
                answers: answers.clone(),
                yes,
                dry_run: false,
                state_root: state.path().to_path_buf(),
                rehearsal: true,
                ui: g.ui.clone(),
            };
            let report = run_phase(&req).await?;
            print_report(&report, output);
            failed |= !report.passed();
        }
    }
    for (_, (h, _)) in sims {
        h.shutdown().await;
    }
    Ok(if failed { 1 } else { 0 })
}
