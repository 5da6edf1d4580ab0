//! `fleetctl rehearse` (the real runbooks, through the real kube client, against an in-process simulated
//! cluster) and `fleetctl sim serve` (the simulated cluster as its own process).

use super::{print_report, Globals, ReportFormat};
use crate::cluster::Target;
use crate::engine::{decide, run_phase, PhaseRequest};
use crate::error::UserError;
use crate::fleet::{ClusterSpec, Platform};
use crate::journal::StateDir;
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
    for (flag, dir) in [("--crds", &crds), ("--fleet", &fleet)] {
        if let Some(d) = dir.as_ref().filter(|d| !d.is_dir()) {
            return Err(UserError::usage(format!("{flag}: no such directory"))
                .subject(d.display().to_string())
                .next(format!("pass an existing directory to {flag}, or leave it out")));
        }
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

/// `fleetctl rehearse N|all`. The simulated clusters start as a fresh install leaves them, so `rehearse N` first
/// runs phases 1..N-1 as setup (on the clusters phase N runs on; their reports are kept, not printed), then
/// phase N, whose report is printed. State (journals, reports, logs, kubeconfigs) goes to
/// `<state-dir>/rehearsal/`, cleared at the start: apart from real state, and still there after exit.
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
    let (setup, wanted): (Vec<u8>, Vec<u8>) = match phase {
        "all" => (vec![], phases.clone()),
        p => {
            let n: u8 = p
                .parse()
                .map_err(|_| UserError::usage(format!("unknown phase '{p}'")).next("use a phase number or `all`"))?;
            if !phases.contains(&n) {
                let known: Vec<String> = phases.iter().map(u8::to_string).collect();
                return Err(UserError::usage(format!("unknown phase {n}: no runbook for it"))
                    .next(format!("known phases: {}", known.join(", "))));
            }
            (phases.iter().copied().filter(|&x| x < n).collect(), vec![n])
        }
    };
    let answers = match &answers {
        Some(p) => decide::load_answers(p)?,
        None => BTreeMap::new(),
    };
    let mut clusters = Vec::new();
    for cname in ClusterSpec::list(&g.repo) {
        let spec = ClusterSpec::load(&g.repo, &cname)?;
        clusters.push((cname, spec));
    }
    let runs_on = |p: u8, spec: &ClusterSpec| {
        books
            .iter()
            .any(|l| l.runbook.phase == p && l.runbook.platforms.contains(&spec.platform))
    };
    // Setup only on the clusters the rehearsed phase runs on.
    if let [n] = wanted[..] {
        clusters.retain(|(_, spec)| runs_on(n, spec));
        if clusters.is_empty() {
            return Err(UserError::usage(format!("no cluster of this repo runs phase {n}"))
                .subject(g.repo.join("clusters").display().to_string())
                .next("add clusters/<name>/cluster.yaml for the phase's platform (docs/cluster-yaml.md)"));
        }
    }
    let mut setup = setup;
    setup.retain(|&p| clusters.iter().any(|(_, spec)| runs_on(p, spec)));
    // Rehearsal state never mixes with real state, and outlives the command so printed paths stay valid.
    let state = g.state_root.join("rehearsal");
    if state.exists() {
        std::fs::remove_dir_all(&state).map_err(|e| {
            UserError::failed(format!("cannot clear the last rehearsal's state: {e}"))
                .subject(state.display().to_string())
                .next("remove it by hand, or pass another --state-dir")
        })?;
    }
    std::fs::create_dir_all(&state).map_err(|e| {
        UserError::failed(format!("cannot create the rehearsal state dir: {e}"))
            .subject(state.display().to_string())
            .next("pass a writable --state-dir")
    })?;
    // SAFETY of the process environment: set once, before any task reads it.
    std::env::set_var("FLEETCTL_REHEARSAL", "1");
    let mut sims: BTreeMap<String, (sim::SimHandle, PathBuf)> = BTreeMap::new();
    g.ui.banner("REHEARSAL: every phase runs against a simulated cluster on 127.0.0.1; no real cluster is contacted");
    g.ui.line(&format!(
        "rehearsal state (journals, reports, logs): {}",
        state.display()
    ));
    if !setup.is_empty() {
        g.ui.line(&format!(
            "{} to build the simulated cluster; only phase {}'s report is printed",
            describe_setup(&setup),
            wanted[0]
        ));
    }
    let mut result = Ok(0);
    'phases: for p in setup
        .iter()
        .map(|&p| (p, true))
        .chain(wanted.iter().map(|&p| (p, false)))
    {
        let (p, is_setup) = p;
        for (cname, spec) in clusters.iter().filter(|(_, s)| runs_on(p, s)) {
            if !sims.contains_key(cname) {
                let mut cfg = SimConfig::new(spec.platform);
                cfg.speed = 20.0;
                cfg.crds_dir = crds.clone();
                cfg.repo = Some(g.repo.clone());
                let h = match sim::start(cfg).await {
                    Ok(h) => h,
                    Err(e) => {
                        result = Err(UserError::failed(format!("cannot start the simulated cluster: {e:#}")));
                        break 'phases;
                    }
                };
                let kc = state.join(format!("{cname}.kubeconfig"));
                if let Err(e) = h.write_kubeconfig(&kc, &spec.kube_context) {
                    result =
                        Err(UserError::failed(format!("cannot write kubeconfig: {e:#}"))
                            .subject(kc.display().to_string()));
                    h.shutdown().await;
                    break 'phases;
                }
                g.ui.line(&format!(
                    "simulated {} cluster for {cname} at {} (router https://{})",
                    spec.platform,
                    h.url(),
                    h.router_addr()
                ));
                sims.insert(cname.clone(), (h, kc));
            }
            let kc = sims[cname].1.clone();
            // Probes of this cluster's hosts go to its simulated HTTPS router and accept its self-signed
            // certificate. Set per cluster, before its phase runs (phases run one at a time).
            std::env::set_var("FLEETCTL_PROBE_RESOLVE", format!("*={}", sims[cname].0.router_addr()));
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
                state_root: state.clone(),
                rehearsal: true,
                ui: g.ui.clone(),
            };
            let report_path = StateDir::new(&state, cname).report_path(p);
            let report = match run_phase(&req).await {
                Ok(r) => r,
                Err(e) if is_setup => {
                    result = Err(UserError {
                        cause: format!("setup phase {p} on {cname} (before phase {}): {}", wanted[0], e.cause),
                        ..e
                    });
                    break 'phases;
                }
                Err(e) => {
                    result = Err(e);
                    break 'phases;
                }
            };
            if is_setup && report.passed() {
                g.ui.line(&format!(
                    "setup: phase {p} on {cname} passed (report {})",
                    report_path.display()
                ));
                continue;
            }
            print_report(&report, output);
            g.ui.line(&format!("report kept in {}", report_path.display()));
            if !report.passed() {
                result = Ok(1);
                if is_setup {
                    g.ui.warn(&format!(
                        "setup phase {p} failed on {cname} (report above); phase {} was not rehearsed",
                        wanted[0]
                    ));
                    break 'phases;
                }
            }
        }
    }
    for (_, (h, _)) in sims {
        h.shutdown().await;
    }
    result
}

/// "phase 1 runs first", "phases 1-4 run first", "phases 1, 3 run first".
fn describe_setup(setup: &[u8]) -> String {
    match setup {
        [one] => format!("phase {one} runs first"),
        [first, .., last] if usize::from(last - first) + 1 == setup.len() => format!("phases {first}-{last} run first"),
        many => {
            let list: Vec<String> = many.iter().map(u8::to_string).collect();
            format!("phases {} run first", list.join(", "))
        }
    }
}
