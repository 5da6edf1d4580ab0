//! `fleetctl rehearse` (the real runbooks, through the real kube client, against an in-process simulated
//! cluster) and `fleetctl sim serve` (the simulated cluster as its own process).

use super::{Globals, ReportFormat};
use crate::cluster::Target;
use crate::decide;
use crate::engine::{run_phase, PhaseRequest};
use crate::error::UserError;
use crate::fleet::{ClusterSpec, Platform};
use crate::journal::{RunLock, StateDir};
use crate::report::{Report, ReportList};
use crate::runbook::{self, Library};
use crate::sim::{self, FaultSpec, SimConfig};
use crate::steps;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

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
        lan_dns,
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
    cfg.lan_dns = lan_dns.parse().map_err(UserError::usage)?;
    sim::serve_cli(cfg, out, &context)
        .await
        .map_err(|e| UserError::failed(format!("the simulated cluster stopped: {e:#}")))?;
    Ok(0)
}

/// `fleetctl rehearse N|all`. The simulated clusters start as a fresh install leaves them, so `rehearse N` first
/// runs phases 1..N-1 as setup (on the clusters phase N runs on; their reports are kept, not printed), then
/// phase N, whose report is printed. State (journals, reports, logs, kubeconfigs) goes to
/// `<state-dir>/rehearsal/`, cleared at the start: apart from real state, and still there after exit.
/// Without `--answers`, the rehearsal answers built into fleetctl (`runbooks/answers/rehearsal.yaml`) are used.
pub async fn rehearse(
    g: &Globals,
    phase: &str,
    answers: Option<PathBuf>,
    yes: bool,
    crds: Option<PathBuf>,
    output: ReportFormat,
) -> Result<i32, UserError> {
    let library = g.library()?;
    let (setup, wanted) = phases(&library.runbooks, phase)?;
    let answers = match &answers {
        Some(p) => decide::load_answers(p)?,
        None => decide::parse_answers(
            runbook::library::embedded(REHEARSAL_ANSWERS).unwrap_or_default(),
            &format!("<built-in>/{REHEARSAL_ANSWERS}"),
        )?,
    };
    let books = library.runbooks.clone();
    let runs_on = |p: u8, spec: &ClusterSpec| {
        books
            .iter()
            .any(|l| l.runbook.phase == p && l.runbook.platforms.contains(&spec.platform))
    };
    let mut clusters = Vec::new();
    for cname in ClusterSpec::list(&g.repo) {
        let spec = ClusterSpec::load(&g.repo, &cname)?;
        clusters.push((cname, spec));
    }
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
    let (state, _lock) = fresh_state(g)?;
    let fleet = fleet_copy(g, &state)?;
    // SAFETY of the process environment: set once, before any task reads it.
    std::env::set_var("FLEETCTL_REHEARSAL", "1");
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
    let mut r = Rehearsal {
        g,
        fleet,
        library,
        answers,
        yes,
        crds,
        output,
        state,
        wanted: wanted[0],
        sims: BTreeMap::new(),
        reports: ReportList::default(),
    };
    let order = setup
        .iter()
        .map(|&p| (p, true))
        .chain(wanted.iter().map(|&p| (p, false)));
    let mut result = Ok(0);
    'phases: for (p, is_setup) in order {
        for (cname, spec) in clusters.iter().filter(|(_, s)| runs_on(p, s)) {
            match r.phase(cname, spec, p, is_setup).await {
                Ok(Went::On) => {}
                Ok(Went::Failed) => result = Ok(1),
                Ok(Went::Stop) => {
                    result = Ok(1);
                    break 'phases;
                }
                Err(e) => {
                    result = Err(e);
                    break 'phases;
                }
            }
        }
    }
    for (_, (h, _)) in std::mem::take(&mut r.sims) {
        h.shutdown().await;
    }
    r.finish();
    result
}

/// The rehearsal answers fleetctl carries (a library path).
const REHEARSAL_ANSWERS: &str = "runbooks/answers/rehearsal.yaml";

/// (setup phases, rehearsed phases) for `N` or `all`.
fn phases(books: &[runbook::Loaded], phase: &str) -> Result<(Vec<u8>, Vec<u8>), UserError> {
    let mut phases: Vec<u8> = books.iter().map(|l| l.runbook.phase).collect();
    phases.sort();
    phases.dedup();
    if phase == "all" {
        return Ok((vec![], phases));
    }
    let n: u8 = phase
        .parse()
        .map_err(|_| UserError::usage(format!("unknown phase '{phase}'")).next("use a phase number or `all`"))?;
    if !phases.contains(&n) {
        let known: Vec<String> = phases.iter().map(u8::to_string).collect();
        return Err(UserError::usage(format!("unknown phase {n}: no runbook for it"))
            .next(format!("known phases: {}", known.join(", "))));
    }
    Ok((phases.iter().copied().filter(|&x| x < n).collect(), vec![n]))
}

/// `<state-dir>/rehearsal/`, emptied under its lock (`rehearsal/.lock`, kept: one rehearsal per state dir
/// at a time, so a second one never clears this one's state under it): rehearsal state never mixes with
/// real state, and outlives the command so printed paths stay valid.
fn fresh_state(g: &Globals) -> Result<(PathBuf, RunLock), UserError> {
    let state = g.state_root.join("rehearsal");
    let lock = RunLock::at(&state.join(".lock"), "the rehearsal state")?;
    let entries = std::fs::read_dir(&state).map_err(|e| {
        UserError::failed(format!("cannot read the rehearsal state dir: {e}"))
            .subject(state.display().to_string())
            .next("pass a writable --state-dir")
    })?;
    for e in entries.flatten().filter(|e| e.file_name() != ".lock") {
        let p = e.path();
        let gone = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        gone.map_err(|err| {
            UserError::failed(format!("cannot clear the last rehearsal's state: {err}"))
                .subject(p.display().to_string())
                .next("remove it by hand, or pass another --state-dir")
        })?;
    }
    Ok((state, lock))
}

/// The fleet a rehearsal syncs and reads: a copy of the repo's `clusters/`, `apps-shared/` and `runbooks/`
/// in the rehearsal state, committed to a Git repository of its own (phase 4 works on branches), so that
/// playing the owner's layer commits never touches the working tree.
fn fleet_copy(g: &Globals, state: &std::path::Path) -> Result<PathBuf, UserError> {
    let dst = state.join("fleet");
    let failed = |what: String| {
        UserError::failed(format!("cannot prepare the rehearsal's copy of the fleet: {what}"))
            .subject(dst.display().to_string())
            .next("check the rehearsal state dir is writable (--state-dir) and git is on PATH")
    };
    for d in ["clusters", "apps-shared", "runbooks"] {
        let src = g.repo.join(d);
        if src.is_dir() {
            copy_dir(&src, &dst.join(d)).map_err(|e| failed(e.to_string()))?;
        }
    }
    git(&dst, &["init", "-q", "-b", "main"]).map_err(failed)?;
    commit_all(&dst, "rehearsal copy of the fleet").map_err(failed)?;
    Ok(dst)
}

fn git(dir: &std::path::Path, args: &[&str]) -> Result<(), String> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// Commits everything in the rehearsal's copy (as the owner's commit of a change fleetctl printed).
fn commit_all(dir: &std::path::Path, msg: &str) -> Result<(), String> {
    git(dir, &["add", "-A"])?;
    git(
        dir,
        &[
            "-c",
            "user.name=fleetctl rehearsal",
            "-c",
            "user.email=rehearsal@fleetctl.invalid",
            "commit",
            "-qm",
            msg,
        ],
    )
}

fn copy_dir(src: &std::path::Path, dst: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let to = dst.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &to)?;
        } else {
            std::fs::copy(e.path(), to)?;
        }
    }
    Ok(())
}

/// One rehearsal in progress: its settings and the simulated clusters started so far.
struct Rehearsal<'g> {
    g: &'g Globals,
    /// The rehearsal's own copy of the fleet (fleet_copy).
    fleet: PathBuf,
    library: Arc<Library>,
    answers: BTreeMap<String, String>,
    yes: bool,
    crds: Option<PathBuf>,
    output: ReportFormat,
    state: PathBuf,
    /// The phase being rehearsed (the first, for `all`).
    wanted: u8,
    sims: BTreeMap<String, (sim::SimHandle, PathBuf)>,
    /// The reports shown so far: one document at the end (JSON, YAML, JUnit), or each as it comes and a
    /// total line at the end (table, Markdown).
    reports: ReportList,
}

/// Where a simulated cluster's names lead: its node router, its Gateway listener, its LAN DNS.
struct Ingress {
    router: SocketAddr,
    gateway: SocketAddr,
    dns: SocketAddr,
}

/// How one phase on one cluster went.
enum Went {
    On,
    /// Its report did not pass; the rehearsal goes on.
    Failed,
    /// A setup phase failed: the rehearsed phase cannot run.
    Stop,
}

impl Rehearsal<'_> {
    /// The simulated cluster for `cname` (started on first use) and its kubeconfig.
    async fn sim_for(&mut self, cname: &str, spec: &ClusterSpec) -> Result<(Ingress, PathBuf), UserError> {
        if !self.sims.contains_key(cname) {
            let mut cfg = SimConfig::new(spec.platform);
            cfg.speed = 20.0;
            cfg.crds_dir = self.crds.clone();
            cfg.repo = Some(self.fleet.clone());
            // The owner created the DNS records phase 3's dns-check prints: one per app hostname.
            cfg.lan_dns = sim::dns::LanDns::PerHost;
            let h = sim::start(cfg)
                .await
                .map_err(|e| UserError::failed(format!("cannot start the simulated cluster: {e:#}")))?;
            let kc = self.state.join(format!("{cname}.kubeconfig"));
            if let Err(e) = h.write_kubeconfig(&kc, &spec.kube_context) {
                h.shutdown().await;
                return Err(
                    UserError::failed(format!("cannot write kubeconfig: {e:#}")).subject(kc.display().to_string())
                );
            }
            self.g.ui.line(&format!(
                "simulated {} cluster for {cname} at {} (router https://{})",
                spec.platform,
                h.url(),
                h.router_addr()
            ));
            self.sims.insert(cname.to_string(), (h, kc));
        }
        let (h, kc) = &self.sims[cname];
        Ok((
            Ingress {
                router: h.router_addr(),
                gateway: h.gateway_addr(),
                dns: h.dns_addr(),
            },
            kc.clone(),
        ))
    }

    /// Plays the owner's commit of this phase's layer switch on the rehearsal's copy (a `git-layer` step
    /// would otherwise stop and print it), and says so.
    fn switch_layer(&self, spec: &ClusterSpec, p: u8) -> Result<(), UserError> {
        let steps = self
            .library
            .runbooks
            .iter()
            .filter(|l| l.runbook.phase == p && l.runbook.platforms.contains(&spec.platform))
            .flat_map(|l| l.runbook.steps.iter().filter(|s| s.on_platform(spec.platform)));
        for s in steps {
            let Some(b) = s.builtin.as_ref().filter(|b| b.name == "git-layer") else {
                continue;
            };
            let (Some(cluster), Some(layer)) = (b.args["cluster"].as_str(), b.args["layer"].as_str()) else {
                continue;
            };
            let now = steps::git_layer::current(&self.fleet, cluster)?;
            let rank = |l: &str| l.trim_start_matches("phase-").parse::<u32>().unwrap_or(0);
            if rank(&now) < rank(layer) {
                steps::git_layer::set_switch(&self.fleet, cluster, layer)?;
                commit_all(&self.fleet, &format!("{cluster}: turn on layer {layer}")).map_err(UserError::failed)?;
                self.g.ui.line(&format!(
                    "rehearsal: Git's layer switch for {cluster} set to {layer} in the rehearsal's copy (on the real repo you commit that line, as phase {p} says)"
                ));
            }
        }
        Ok(())
    }

    /// Run phase `p` on `cname` and print its report unless it is a passing setup phase.
    async fn phase(&mut self, cname: &str, spec: &ClusterSpec, p: u8, is_setup: bool) -> Result<Went, UserError> {
        let (ingress, kc) = self.sim_for(cname, spec).await?;
        self.switch_layer(spec, p)?;
        // Names resolve through the cluster's simulated LAN DNS; probes reach what that DNS points at: the
        // node's address leads to its simulated router, any other (a Gateway's) to its Gateway listener, and
        // accept their self-signed certificates. Set per cluster, before its phase runs (one at a time).
        std::env::set_var("FLEETCTL_DNS_SERVER", ingress.dns.to_string());
        std::env::set_var(
            "FLEETCTL_PROBE_RESOLVE",
            format!("{}={},*={}", crate::sim::NODE_ADDRESS, ingress.router, ingress.gateway),
        );
        std::env::set_var("FLEETCTL_PROBE_INSECURE", "1");
        let g = self.g;
        let req = PhaseRequest {
            repo: self.fleet.clone(),
            cluster: cname.to_string(),
            phase: p,
            target: Target {
                kubeconfig: Some(kc),
                context: Some(spec.kube_context.clone()),
            },
            answers: self.answers.clone(),
            answers_file: None,
            yes: self.yes,
            dry_run: false,
            state_root: self.state.clone(),
            rehearsal: true,
            ui: g.ui.clone(),
            library: self.library.clone(),
            kinds: steps::registry(),
            api_grace: g.api_grace,
        };
        let report_path = StateDir::new(&self.state, cname).report_path(p);
        let report = run_phase(&req).await.map_err(|e| match is_setup {
            true => UserError {
                cause: format!("setup phase {p} on {cname} (before phase {}): {}", self.wanted, e.cause),
                ..e
            },
            false => e,
        })?;
        if is_setup && report.passed() {
            g.ui.line(&format!(
                "setup: phase {p} on {cname} passed (report {})",
                report_path.display()
            ));
            return Ok(Went::On);
        }
        self.show(report.clone());
        g.ui.line(&format!("report kept in {}", report_path.display()));
        if report.passed() {
            return Ok(Went::On);
        }
        if is_setup {
            g.ui.warn(&format!(
                "setup phase {p} failed on {cname} (report above); phase {} was not rehearsed",
                self.wanted
            ));
            return Ok(Went::Stop);
        }
        Ok(Went::Failed)
    }
}

impl Rehearsal<'_> {
    fn streams(&self) -> bool {
        matches!(self.output, ReportFormat::Table | ReportFormat::Markdown)
    }

    /// A report to show: printed now (table, Markdown) or kept for the one document at the end.
    fn show(&mut self, report: Report) {
        if self.streams() {
            print!("{}", report.render(self.output.into()));
            println!();
        }
        self.reports.reports.push(report);
    }

    /// The closing total line, or the whole document.
    fn finish(&self) {
        if self.reports.reports.is_empty() {
            return;
        }
        if self.streams() {
            println!("{}", self.reports.total().line());
        } else {
            print!("{}", self.reports.render(self.output.into()));
        }
    }
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
