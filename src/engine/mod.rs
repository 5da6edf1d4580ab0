//! The runbook engine. Preflight everything before the first write (tools, API, credentials, cluster
//! identity, decisions, rendering, CRDs, secret sources); then for each step observe -> act only if needed
//! -> wait -> verify, journaling every transition; then evaluate the acceptance criteria into a report.

pub mod apply;
pub mod builtins;
pub mod decide;
pub mod detect;
pub mod gpu;
mod lb;
pub mod steps;
pub mod ui;
pub mod wait;

use crate::checks::{self, source::Source};
use crate::cluster::{identify, identity, Cluster, Target};
use crate::error::UserError;
use crate::fleet::render::Kustomize;
use crate::fleet::ClusterSpec;
use crate::journal::{now, Journal, Run, RunLock, RunStatus, StateDir, StepRecord, StepStatus};
use crate::report::Report;
use crate::runbook::{self, Loaded, Step};
use apply::{apply_one, Change};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;
use ui::Ui;

/// Everything one `fleetctl phase` (or `resume`, or a rehearsal) needs.
#[derive(Debug, Clone)]
pub struct PhaseRequest {
    pub repo: PathBuf,
    /// The directory name under clusters/.
    pub cluster: String,
    pub phase: u8,
    pub target: Target,
    pub answers: BTreeMap<String, String>,
    pub yes: bool,
    pub dry_run: bool,
    pub state_root: PathBuf,
    pub rehearsal: bool,
    pub ui: Ui,
}

/// Fill `{{ answers.ID }}` and `{{ cluster.KEY }}` placeholders in every string of a step.
fn substitute(step: &Step, vars: &BTreeMap<String, String>, rb: &Loaded) -> Result<Step, UserError> {
    let mut v = serde_json::to_value(step).expect("step serialises");
    checks::fill(&mut v, vars)
        .map_err(|m| UserError::usage(format!("step '{}': {m}", step.id)).subject(rb.locate(&step.id)))?;
    Ok(serde_json::from_value(v).expect("substituted step deserialises"))
}

/// Placeholders for steps: the cluster's (shared with criteria), the context in use, and the answers.
fn vars_for(spec: &ClusterSpec, decisions: &BTreeMap<String, String>, target: &Target) -> BTreeMap<String, String> {
    let mut vars = checks::cluster_vars(spec);
    vars.insert(
        "kube.context".into(),
        target.context.clone().unwrap_or_else(|| spec.kube_context.clone()),
    );
    for (k, v) in decisions {
        vars.insert(format!("answers.{k}"), v.clone());
    }
    vars
}

fn step_applies(step: &Step, decisions: &BTreeMap<String, String>) -> bool {
    match &step.when {
        None => true,
        Some(w) => {
            let v = decisions.get(&w.decision).map(String::as_str).unwrap_or_default();
            w.equals.as_deref().is_none_or(|e| e == v) && w.not_equals.as_deref().is_none_or(|n| n != v)
        }
    }
}

/// Environment for external commands: the same kubeconfig and context fleetctl uses.
fn command_env(target: &Target) -> Vec<(String, String)> {
    let mut env = Vec::new();
    if let Some(k) = &target.kubeconfig {
        env.push(("KUBECONFIG".into(), k.display().to_string()));
    }
    if let Some(c) = &target.context {
        env.push(("FLEETCTL_CONTEXT".into(), c.clone()));
    }
    env
}

/// What a step did: objects it wrote to the cluster, whether it did any work at all (a wait that had to wait,
/// repo work by a builtin), and a line for the journal.
#[derive(Debug, Clone)]
pub struct Done {
    pub writes: u32,
    pub acted: bool,
    pub note: String,
}

impl From<(u32, String)> for Done {
    /// A step that acted exactly when it wrote.
    fn from((writes, note): (u32, String)) -> Done {
        Done {
            writes,
            acted: writes > 0,
            note,
        }
    }
}

/// A step ready to run: substituted, with its rendered objects.
struct Planned {
    step: Step,
    objects: Vec<Value>,
}

/// What a run has journaled so far, kept outside the run so an interrupt can record where it stopped.
#[derive(Default)]
struct Progress {
    state: Option<StateDir>,
    journal: Journal,
    run_id: Option<String>,
}

/// The exit code of a run stopped by SIGINT/SIGTERM (128 + SIGINT, as shells report Ctrl-C).
pub const INTERRUPTED: i32 = 130;

/// Run one phase against one cluster. Returns the acceptance report. SIGINT or SIGTERM stops it at once
/// (nothing more is written), journals the run as interrupted at its current step and exits 130; `resume`
/// continues from there.
pub async fn run_phase(req: &PhaseRequest) -> Result<Report, UserError> {
    let mut progress = Progress::default();
    let outcome = {
        let body = run_phase_body(req, &mut progress);
        tokio::pin!(body);
        tokio::select! {
            // The signal first: once it arrived, the run is not polled again, so it writes nothing more.
            biased;
            sig = stop_signal() => Err(sig),
            r = &mut body => Ok(r),
        }
    };
    match outcome {
        Ok(r) => r,
        Err(sig) => Err(interrupted(req, progress, sig)),
    }
}

/// The first SIGINT or SIGTERM (Ctrl-C elsewhere); pending forever when signals cannot be watched.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            return tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
        }
    }
    #[cfg(not(unix))]
    if tokio::signal::ctrl_c().await.is_ok() {
        return "Ctrl-C";
    }
    std::future::pending().await
}

/// Journal an interrupted run (its running step and the run itself, atomically) and say how to go on.
fn interrupted(req: &PhaseRequest, progress: Progress, sig: &str) -> UserError {
    let resume = format!("fleetctl resume --cluster {}", req.cluster);
    let (Some(state), Some(run_id)) = (progress.state, progress.run_id) else {
        return UserError::new(
            INTERRUPTED,
            format!("interrupted ({sig}) during preflight; nothing was written"),
        );
    };
    let mut journal = progress.journal;
    let mut at = String::from("acceptance checks");
    set_run(&mut journal, &run_id, |r| {
        if let Some(s) = r.steps.iter_mut().rev().find(|s| s.status == StepStatus::Running) {
            s.status = StepStatus::Failed;
            s.finished = Some(now());
            s.note = format!("interrupted ({sig})");
            at = s.id.clone();
        }
        r.status = RunStatus::Failed;
        r.failure = Some(format!("interrupted at step {at} ({sig}); run `{resume}` to continue"));
    });
    let msg = format!("interrupted at step {at}; run `{resume}` to continue");
    match state.save(&journal) {
        Ok(()) => UserError::new(INTERRUPTED, msg),
        Err(e) => UserError::new(
            INTERRUPTED,
            format!("{msg} (the journal could not record it: {})", e.cause),
        ),
    }
}

async fn run_phase_body(req: &PhaseRequest, progress: &mut Progress) -> Result<Report, UserError> {
    let ui = &req.ui;
    let spec = ClusterSpec::load(&req.repo, &req.cluster)?;
    let runbooks = runbook::load_dir(&req.repo.join("runbooks"))?;
    let rb = runbook::select(&runbooks, req.phase, spec.platform)?;
    for id in decide::unknown_answers(&runbooks, &req.answers) {
        ui.warn(&format!(
            "answers: '{id}' is not a decision of any runbook, so it is ignored (a typo? `fleetctl decisions` lists them)"
        ));
    }
    let state = StateDir::new(&req.state_root, &req.cluster);
    let _lock = RunLock::acquire(&state.dir(), &req.cluster)?;
    progress.journal = state.load()?;
    let journal = &mut progress.journal;
    let label = if req.rehearsal {
        " [REHEARSAL: simulated cluster, not a real one]"
    } else {
        ""
    };
    ui.banner(&format!(
        "phase {}: {} on {} ({}){label}",
        rb.runbook.phase, rb.runbook.title, req.cluster, spec.platform
    ));

    // ---- preflight: nothing below writes to the cluster ----
    for t in &rb.runbook.preflight.tools {
        if !t.any.iter().any(|name| which::which(name).is_ok()) {
            return Err(
                UserError::usage(format!("none of the required tools is on PATH: {}", t.any.join(" or ")))
                    .subject(rb.locate("tools"))
                    .next(t.hint.clone().unwrap_or_else(|| format!("install {}", t.any[0]))),
            );
        }
    }
    let mut target = req.target.clone();
    if target.context.is_none() {
        target.context = Some(spec.kube_context.clone());
    }
    let cluster = Cluster::connect(&target).await?;
    let id = identity::require(&cluster, spec.platform, &req.cluster).await?;
    ui.ok(&format!("cluster identity: {}", id.detail));
    for obs in &rb.runbook.preflight.show {
        let got = cluster.get_ref(&obs.object).await?;
        let val = got
            .as_ref()
            .and_then(|o| {
                runbook::path::FieldPath::parse(&obs.field)
                    .ok()
                    .and_then(|p| p.get(o).map(runbook::path::scalar_string))
            })
            .unwrap_or_else(|| "<unknown>".into());
        ui.line(&format!("  {}: {val}", obs.label));
        for w in &obs.warn {
            if val.contains(&w.contains) {
                ui.warn(&w.say);
            }
        }
    }

    // Decisions: an unfinished run's answers are kept unless --answers says otherwise.
    let resumed = journal.unfinished().filter(|r| r.phase == req.phase).cloned();
    let recorded = resumed.as_ref().map(|r| r.decisions.clone()).unwrap_or_default();
    let answering = decide::Answering {
        recorded: &recorded,
        answers: &req.answers,
        yes: req.yes,
    };
    let mut decisions = BTreeMap::new();
    for d in &rb.runbook.decisions {
        let used = rb
            .runbook
            .steps
            .iter()
            .any(|s| s.decide.as_deref() == Some(&d.id) && s.on_platform(spec.platform));
        if used {
            let d = recommend_from_repo(d, &req.repo, ui)?;
            let v = decide::settle(&d, &answering)?;
            if let Some(old) = recorded.get(&d.id).filter(|old| **old != v) {
                ui.warn(&format!(
                    "decision {}: the unfinished run had '{old}', continuing with '{v}' from --answers",
                    d.id
                ));
            }
            decisions.insert(d.id.clone(), v);
        }
    }

    // Substitute and render every step up front: kustomize errors stop us before any write.
    let vars = vars_for(&spec, &decisions, &target);
    let kustomize = if rb.runbook.steps.iter().any(|s| s.apply.is_some()) {
        Some(Kustomize::find()?)
    } else {
        None
    };
    let mut plan = Vec::new();
    for s in rb.runbook.steps.iter().filter(|s| s.on_platform(spec.platform)) {
        let step = substitute(s, &vars, &rb)?;
        let mut objects = Vec::new();
        if let (Some(a), Some(k)) = (&step.apply, &kustomize) {
            if step_applies(&step, &decisions) {
                objects = k
                    .render(&req.repo.join(&a.path))
                    .map_err(|e| e.next(format!("fix the kustomization (step '{}')", step.id)))?;
            }
        }
        if let Some(b) = &step.builtin {
            builtins::validate(&b.name, &b.args).map_err(|m| UserError::usage(m).subject(rb.locate(&step.id)))?;
        }
        plan.push(Planned { step, objects });
    }

    // CRDs: every kind we will apply must be served now or provided by an earlier step.
    let mut provided: HashSet<String> = HashSet::new();
    let mut needed: Vec<(String, String, String)> = rb
        .runbook
        .preflight
        .crds
        .iter()
        .map(|c| (c.clone(), String::new(), "preflight".into()))
        .collect();
    for p in plan.iter().filter(|p| step_applies(&p.step, &decisions)) {
        for o in &p.objects {
            let (av, kind, _, name) = identify(o)?;
            if kind == "CustomResourceDefinition" {
                provided.insert(name);
                continue;
            }
            if cluster.resolve(&av, &kind).await?.is_none() {
                let g = crate::cluster::split_api_version(&av).0.to_string();
                let satisfied = provided
                    .iter()
                    .any(|c| c.ends_with(&format!(".{g}")) && crd_kind_matches(&plan, c, &kind));
                if !satisfied {
                    needed.push((format!("{kind}.{g}"), kind.clone(), p.step.id.clone()));
                }
            }
        }
        if let Some(a) = &p.step.apply {
            provided.extend(a.provides.iter().cloned());
        }
        if let Some(w) = &p.step.wait {
            provided.extend(w.provides.iter().cloned());
        }
    }
    for (crd, kind, step) in needed {
        if !kind.is_empty() {
            let g = crd.split_once('.').map(|x| x.1).unwrap_or_default();
            if provided.iter().any(|c| c.ends_with(&format!(".{g}"))) {
                continue;
            }
            return Err(UserError::usage(format!(
                "step '{step}' applies {kind}, which the cluster does not serve and no earlier step installs"
            ))
            .subject(rb.locate(&step))
            .next("install its operator/CRD first, or add it to an earlier step's `provides`"));
        }
        let served = cluster
            .get("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, &crd)
            .await?
            .is_some();
        if !served && !provided.contains(&crd) {
            return Err(
                UserError::usage(format!("required CRD {crd} is not served and no step installs it"))
                    .subject(rb.locate(&crd))
                    .next("install the operator that provides it first"),
            );
        }
    }
    let env = command_env(&target);
    // Secret sources: every value readable and non-empty; a live Secret holding a different value is
    // replaced only with an explicit answer to the step's destructive `replaceDecision`.
    for p in &plan {
        let Some(s) = p
            .step
            .seed_secret
            .as_ref()
            .filter(|_| step_applies(&p.step, &decisions))
        else {
            continue;
        };
        let mut wanted = Vec::new();
        for item in &s.data {
            let v = steps::read_secret(&item.from, &req.repo, &env).map_err(|e| {
                let from = source_decision(&rb, &p.step.id, &item.key);
                let e = e.subject(format!(
                    "step '{}' key {}{}",
                    p.step.id,
                    item.key,
                    from.as_ref().map(|d| format!(", decision {d}")).unwrap_or_default()
                ));
                match from {
                    Some(d) if e.cause.ends_with(" is empty") => e.next(format!(
                        "put the value there (a failed `op read ... > file` leaves an empty file) or answer {d} \
                         with another source, then retry; nothing was written"
                    )),
                    _ => e,
                }
            })?;
            wanted.push((item.key.clone(), v));
        }
        let Some(live) = cluster.get("v1", "Secret", Some(&s.namespace), &s.name).await? else {
            continue;
        };
        let differ = steps::differing_keys(&live, &wanted);
        if differ.is_empty() {
            continue;
        }
        let refused = |answered: Option<&str>| {
            steps::replace_refused(s, &differ, answered).subject(format!("step '{}'", p.step.id))
        };
        // A dry run writes nothing: it says what a real run would need instead of stopping.
        let answered_yes = s
            .replace_decision
            .as_ref()
            .is_some_and(|d| decisions.get(d).is_some_and(|v| v == "yes"));
        if req.dry_run && !answered_yes {
            let need = match &s.replace_decision {
                Some(d) => format!("a real run needs the destructive answer {d}: yes"),
                None => "a real run refuses to replace it (the step has no replaceDecision)".to_string(),
            };
            ui.warn(&format!(
                "step '{}': would replace the live value of Secret {}/{} ({}); {need}",
                p.step.id,
                s.namespace,
                s.name,
                differ.join(", ")
            ));
            continue;
        }
        let Some(d) = s.replace_decision.as_ref().and_then(|d| rb.decision(d)) else {
            return Err(refused(None));
        };
        let v = match decisions.get(&d.id) {
            Some(v) => v.clone(),
            None => decide::settle(d, &answering).map_err(|_| refused(None))?,
        };
        if v != "yes" {
            return Err(refused(Some(&v)));
        }
        ui.warn(&format!(
            "step '{}': replacing the live value of Secret {}/{} ({}), as decision {} says",
            p.step.id,
            s.namespace,
            s.name,
            differ.join(", "),
            d.id
        ));
        decisions.insert(d.id.clone(), v);
    }
    // Builtins that read only the repo (Git must match the decisions) run now, before any write.
    for p in plan.iter().filter(|p| step_applies(&p.step, &decisions)) {
        if let Some(b) = p
            .step
            .builtin
            .as_ref()
            .filter(|b| builtins::OFFLINE.contains(&b.name.as_str()))
        {
            let reports = StateDir::new(&req.state_root, &req.cluster).dir().join("reports");
            builtins::run(&cluster, &req.repo, &reports, ui, &b.name, &b.args)
                .await
                .map_err(|e| UserError {
                    cause: format!("step '{}': {}", p.step.id, e.cause),
                    ..e
                })?;
        }
    }
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    ui.ok(&format!(
        "preflight passed ({}, {})",
        plural(plan.len(), "step", "steps"),
        plural(decisions.len(), "decision", "decisions")
    ));

    if req.dry_run {
        return dry_run(&cluster, &plan, &decisions, ui, &rb, &req.cluster, req.rehearsal).await;
    }

    // ---- the run ----
    let run_id = match &resumed {
        Some(r) => {
            ui.line(&format!("resuming run {} (started {})", r.id, r.started));
            r.id.clone()
        }
        None => {
            journal.runs.push(Run {
                id: format!("{}-p{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"), req.phase),
                phase: req.phase,
                runbook: rb.file.display().to_string(),
                started: now(),
                finished: None,
                status: RunStatus::Running,
                kubeconfig: target.kubeconfig.as_ref().map(|p| p.display().to_string()),
                context: target.context.clone(),
                rehearsal: req.rehearsal,
                decisions: decisions.clone(),
                steps: vec![],
                failure: None,
            });
            journal.runs.last().unwrap().id.clone()
        }
    };
    progress.state = Some(state.clone());
    progress.run_id = Some(run_id.clone());
    set_run(journal, &run_id, |r| {
        r.status = RunStatus::Running;
        r.failure = None;
        r.decisions = decisions.clone();
    });
    state.save(journal)?;

    let total = plan.len();
    for (i, p) in plan.iter().enumerate() {
        let step = &p.step;
        let n = format!("[{}/{total}] {}", i + 1, step.display_title());
        if !step_applies(step, &decisions) {
            record(
                &state,
                journal,
                &run_id,
                step,
                StepStatus::Skipped,
                0,
                "skipped: its `when` does not hold".into(),
            )?;
            ui.skip(&format!(
                "{n}: skipped (when {} does not hold)",
                step.when.as_ref().map(|w| w.decision.as_str()).unwrap_or("")
            ));
            continue;
        }
        record(&state, journal, &run_id, step, StepStatus::Running, 0, String::new())?;
        match execute(&cluster, p, &rb, &decisions, req, &env, ui).await {
            Ok(Done { writes, acted, note }) => {
                let st = if acted {
                    StepStatus::Done
                } else {
                    StepStatus::AlreadyDone
                };
                if !acted {
                    ui.skip(&format!("{n}: {note}"));
                } else {
                    ui.ok(&format!("{n}: {note}"));
                }
                record(&state, journal, &run_id, step, st, writes, note)?;
            }
            Err(e) => {
                let msg = e.to_string();
                record(&state, journal, &run_id, step, StepStatus::Failed, 0, msg.clone())?;
                set_run(journal, &run_id, |r| {
                    r.status = RunStatus::Failed;
                    r.failure = Some(format!("step {}: {msg}", step.id));
                });
                state.save(journal)?;
                let next = e
                    .next
                    .clone()
                    .unwrap_or_else(|| "fix the cause, then `fleetctl resume`".into());
                return Err(UserError {
                    cause: format!("step '{}' failed: {}", step.id, e.cause),
                    next: Some(next),
                    ..e
                });
            }
        }
    }

    let criteria: Vec<_> = rb.runbook.acceptance.iter().collect();
    let results = checks::evaluate_for(&criteria, &Source::Live(&cluster), &spec).await?;
    let source = if req.rehearsal {
        "rehearsal (simulated cluster)".to_string()
    } else {
        "live".to_string()
    };
    let report = Report::new(&req.cluster, vec![req.phase], source, decisions.clone(), results);
    crate::journal::write_atomic(&state.report_path(req.phase), report.to_json().as_bytes())?;
    set_run(journal, &run_id, |r| {
        r.status = if report.passed() {
            RunStatus::Done
        } else {
            RunStatus::Failed
        };
        r.finished = Some(now());
        if !report.passed() {
            r.failure = Some("acceptance criteria not all passing".into());
        }
    });
    state.save(journal)?;
    Ok(report)
}

/// A decision whose recommended answer is read from the repo (`recommendFrom`), e.g. the backup design.
fn recommend_from_repo(d: &runbook::Decision, repo: &std::path::Path, ui: &Ui) -> Result<runbook::Decision, UserError> {
    let Some(b) = &d.recommend_from else {
        return Ok(d.clone());
    };
    let (rec, note) = match b.name.as_str() {
        "detect-backup-design" => detect::recommend(repo, &b.args)?,
        other => {
            return Err(UserError::usage(format!(
                "decision '{}': recommendFrom names '{other}', which cannot recommend (known: detect-backup-design)",
                d.id
            )))
        }
    };
    ui.line(&format!("  {}: {note}", d.id));
    let mut d = d.clone();
    d.recommended = rec.filter(|r| d.options.is_empty() || d.options.contains(r));
    d.help = Some(match &d.help {
        Some(h) => format!("{h}; {note}"),
        None => note,
    });
    Ok(d)
}

/// The decision a seedSecret item's source names (`{{ answers.ID }}` in the runbook as written), if any.
fn source_decision(rb: &Loaded, step: &str, key: &str) -> Option<String> {
    let s = rb.runbook.steps.iter().find(|s| s.id == step)?.seed_secret.as_ref()?;
    let f = &s.data.iter().find(|i| i.key == key)?.from;
    let text = f.file.as_deref().or(f.env.as_deref())?;
    let rest = &text[text.find("answers.")? + "answers.".len()..];
    let id: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!id.is_empty()).then_some(id)
}

fn crd_kind_matches(plan: &[Planned], crd_name: &str, kind: &str) -> bool {
    plan.iter().flat_map(|p| &p.objects).any(|o| {
        o.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
            && o.pointer("/metadata/name").and_then(Value::as_str) == Some(crd_name)
            && o.pointer("/spec/names/kind").and_then(Value::as_str) == Some(kind)
    })
}

fn set_run(j: &mut Journal, id: &str, f: impl FnOnce(&mut Run)) {
    if let Some(r) = j.runs.iter_mut().find(|r| r.id == id) {
        f(r);
    }
}

fn record(
    state: &StateDir,
    j: &mut Journal,
    run_id: &str,
    step: &Step,
    status: StepStatus,
    writes: u32,
    note: String,
) -> Result<(), UserError> {
    set_run(j, run_id, |r| {
        let t = now();
        match r
            .steps
            .iter_mut()
            .rev()
            .find(|s| s.id == step.id && s.status == StepStatus::Running)
        {
            Some(s) if status != StepStatus::Running => {
                s.status = status;
                s.finished = Some(t);
                s.writes = writes;
                s.note = note;
            }
            _ => r.steps.push(StepRecord {
                id: step.id.clone(),
                kind: step.kind_name().into(),
                status,
                started: t.clone(),
                finished: if status == StepStatus::Running { None } else { Some(t) },
                writes,
                note,
            }),
        }
    });
    state.save(j)
}

/// Observe, act if needed, wait, verify. Returns (writes, what happened).
async fn execute(
    cluster: &Cluster,
    p: &Planned,
    rb: &Loaded,
    decisions: &BTreeMap<String, String>,
    req: &PhaseRequest,
    env: &[(String, String)],
    ui: &Ui,
) -> Result<Done, UserError> {
    let step = &p.step;
    if step.apply.is_some() {
        let (mut created, mut updated, mut unchanged) = (0u32, 0u32, 0u32);
        for o in &p.objects {
            match apply_one(cluster, o, false, Duration::from_secs(300)).await? {
                Change::Unchanged => unchanged += 1,
                Change::Created => created += 1,
                Change::Updated(paths) => {
                    ui.detail(&format!("updated {}: {}", describe_obj(o), paths.join(", ")));
                    updated += 1
                }
            }
        }
        let note = format!(
            "{} objects: {created} created, {updated} updated, {unchanged} unchanged",
            p.objects.len()
        );
        return Ok((created + updated, note).into());
    }
    if let Some(w) = &step.wait {
        let timeout = humantime::parse_duration(&w.timeout).expect("validated at load");
        let r = wait::wait_for(cluster, &w.object, &w.until, &w.fail_fast, timeout, ui)
            .await
            .map_err(|e| match (&w.hint, e.next.is_none()) {
                (Some(h), true) => e.next(h.clone()),
                _ => e,
            })?;
        let what = w.object.display();
        let acted = matches!(r, wait::Waited::Reached);
        let note = match r {
            wait::Waited::AlreadyTrue => format!("{what} already there"),
            wait::Waited::Reached => format!(
                "{what} reached {}",
                w.until
                    .iter()
                    .map(|e| e.condition.clone().or(e.field.clone()).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        return Ok(Done { writes: 0, acted, note });
    }
    if let Some(d) = &step.decide {
        let q = rb.decision(d).map(|x| x.question.clone()).unwrap_or_default();
        let note = format!("decision {d} = {} ({q})", decisions.get(d).cloned().unwrap_or_default());
        return Ok((0, note).into());
    }
    if let Some(s) = &step.seed_secret {
        let may_replace = s
            .replace_decision
            .as_ref()
            .is_some_and(|d| decisions.get(d).is_some_and(|v| v == "yes"));
        return steps::seed_secret(cluster, s, &req.repo, env, false, may_replace)
            .await
            .map(Done::from);
    }
    if let Some(c) = &step.command {
        return steps::command(&c.run, c.observe.as_deref(), env, false)
            .await
            .map(Done::from);
    }
    if let Some(ids) = &step.check {
        let spec = ClusterSpec::load(&req.repo, &req.cluster)?;
        return Ok((0, steps::check(cluster, rb, ids, &spec).await?).into());
    }
    if let Some(b) = &step.builtin {
        let reports = StateDir::new(&req.state_root, &req.cluster).dir().join("reports");
        return builtins::run(cluster, &req.repo, &reports, ui, &b.name, &b.args).await;
    }
    Err(UserError::usage(format!("step '{}' has no kind", step.id)))
}

fn describe_obj(o: &Value) -> String {
    identify(o)
        .map(|(_, k, ns, n)| crate::cluster::describe(&k, ns.as_deref(), &n))
        .unwrap_or_default()
}

/// `--dry-run`: server-side dry-run applies and a plan; nothing is written.
async fn dry_run(
    cluster: &Cluster,
    plan: &[Planned],
    decisions: &BTreeMap<String, String>,
    ui: &Ui,
    rb: &Loaded,
    name: &str,
    rehearsal: bool,
) -> Result<Report, UserError> {
    ui.banner("dry run: nothing will be written");
    // Namespaces this plan would create: objects inside them cannot exist yet, and the API server refuses
    // even a dry-run create in a namespace that does not exist.
    let mut new_namespaces = std::collections::HashSet::new();
    for p in plan {
        let step = &p.step;
        if !step_applies(step, decisions) {
            ui.skip(&format!("{}: skipped (when does not hold)", step.id));
            continue;
        }
        if step.apply.is_some() {
            for o in &p.objects {
                let what = describe_obj(o);
                let ns = o.pointer("/metadata/namespace").and_then(Value::as_str);
                if ns.is_some_and(|ns| new_namespaces.contains(ns)) {
                    ui.line(&format!(
                        "  {}: {what} would be created (its namespace is new)",
                        step.id
                    ));
                    continue;
                }
                match apply_one(cluster, o, true, Duration::from_secs(5)).await {
                    Ok(Change::Unchanged) => ui.line(&format!("  {}: {what} unchanged", step.id)),
                    Ok(Change::Created) => {
                        if o.get("kind").and_then(Value::as_str) == Some("Namespace") {
                            if let Some(n) = o.pointer("/metadata/name").and_then(Value::as_str) {
                                new_namespaces.insert(n.to_string());
                            }
                        }
                        ui.line(&format!("  {}: {what} would be created", step.id))
                    }
                    Ok(Change::Updated(paths)) => {
                        ui.line(&format!("  {}: {what} would change: {}", step.id, paths.join(", ")))
                    }
                    Err(e) => ui.line(&format!("  {}: {what} cannot be planned yet: {}", step.id, e.cause)),
                }
            }
        } else {
            ui.line(&format!("  {}: would run ({})", step.id, step.kind_name()));
        }
    }
    let source = if rehearsal {
        "rehearsal (simulated cluster), dry run"
    } else {
        "live, dry run"
    };
    let criteria: Vec<_> = rb.runbook.acceptance.iter().collect();
    let results = checks::evaluate_all(&criteria, &Source::Live(cluster)).await?;
    Ok(Report::new(
        name,
        vec![rb.runbook.phase],
        source.into(),
        decisions.clone(),
        results,
    ))
}
