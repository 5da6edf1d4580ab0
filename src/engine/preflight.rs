//! Preflight: everything a run needs is checked before its first write. Tools on PATH; the API reachable and
//! the cluster the one `cluster.yaml` describes; decisions settled; every step planned (rendered); every kind
//! applied served now or installed by an earlier step; each kind's own read-only checks.

use super::kind::{Cx, Writes};
use super::plan::{self, applies, Paths, Planned};
use super::{pin, PhaseRequest, Progress};
use crate::cluster::{identify, identity, split_api_version, Cluster, Target};
use crate::decide::{self, Answering};
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::journal::Run;
use crate::runbook::{self, Decision, Loaded};
use crate::ui::Ui;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

/// A run that passed preflight.
pub(super) struct Ready {
    pub cluster: Cluster,
    pub decisions: BTreeMap<String, String>,
    pub plan: Vec<Planned>,
    pub env: Vec<(String, String)>,
    pub paths: Paths,
    /// The unfinished run of this phase this one continues, if any.
    pub resumed: Option<Run>,
}

impl Ready {
    /// The context kinds see, for step `step_id`.
    pub fn cx<'a>(
        &'a self,
        req: &'a PhaseRequest,
        spec: &'a ClusterSpec,
        rb: &'a Loaded,
        step_id: &'a str,
        new_namespaces: &'a Mutex<HashSet<String>>,
    ) -> Cx<'a> {
        self.cx_with(req, spec, rb, step_id, new_namespaces, &self.decisions)
    }

    /// The same, with the decisions taken so far (during preflight, before they are all settled).
    fn cx_with<'a>(
        &'a self,
        req: &'a PhaseRequest,
        spec: &'a ClusterSpec,
        rb: &'a Loaded,
        step_id: &'a str,
        new_namespaces: &'a Mutex<HashSet<String>>,
        decisions: &'a BTreeMap<String, String>,
    ) -> Cx<'a> {
        Cx {
            cluster: &self.cluster,
            repo: &req.repo,
            paths: &self.paths,
            reports: plan::reports_dir(req),
            ui: &req.ui,
            runbook: rb,
            spec,
            decisions,
            env: &self.env,
            step_id,
            dry_run: req.dry_run,
            new_namespaces,
            settle: None,
        }
    }
}

pub(super) async fn run(
    req: &PhaseRequest,
    spec: &ClusterSpec,
    rb: &Loaded,
    progress: &mut Progress,
) -> Result<Ready, UserError> {
    let ui = &req.ui;
    tools(rb)?;
    // The unfinished run this one continues, as it was before this run journaled itself (pin.rs).
    let (cluster, target, resumed) = connect(req, spec, rb, progress).await?;
    // Decisions: an unfinished run's answers are kept unless --answers says otherwise.
    let recorded = resumed.as_ref().map(|r| r.decisions.clone()).unwrap_or_default();
    let answering = Answering {
        recorded: &recorded,
        answers: &req.answers,
        yes: req.yes,
    };
    let mut decisions = settle_decisions(req, spec, rb, &answering)?;
    let paths = Paths {
        repo: req.repo.clone(),
        library: req.library.clone(),
    };
    let vars = plan::vars_for(spec, &decisions, &target);
    let plan = plan::make(req, spec, rb, &decisions, &vars, &paths)?;
    // The gate reads earlier runs' decisions: not this run's own journal entry (pin.rs), which has none yet.
    let mut earlier = progress.journal.clone();
    earlier
        .runs
        .retain(|r| Some(&r.id) != progress.run_id.as_ref() || !r.decisions.is_empty());
    super::gate::check(req, spec, rb, &plan, &decisions, &earlier)?;
    crds(&cluster, rb, &plan, &decisions).await?;
    let env = plan::command_env(&target);
    let mut ready = Ready {
        cluster,
        decisions: BTreeMap::new(),
        plan,
        env,
        paths,
        resumed,
    };
    kind_checks(req, spec, rb, &ready, &mut decisions, &answering).await?;
    ready.decisions = decisions;
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    ui.ok(&format!(
        "preflight passed ({}, {})",
        plural(ready.plan.len(), "step", "steps"),
        plural(ready.decisions.len(), "decision", "decisions")
    ));
    Ok(ready)
}

/// Every required tool is on PATH.
fn tools(rb: &Loaded) -> Result<(), UserError> {
    for t in &rb.runbook.preflight.tools {
        if !t.any.iter().any(|name| which::which(name).is_ok()) {
            return Err(
                UserError::usage(format!("none of the required tools is on PATH: {}", t.any.join(" or ")))
                    .subject(rb.locate("tools"))
                    .next(t.hint.clone().unwrap_or_else(|| format!("install {}", t.any[0]))),
            );
        }
    }
    Ok(())
}

/// Reach the API, check that the cluster is the one described (and the one the journal met: pin.rs), journal
/// the run, and show the runbook's observations.
async fn connect(
    req: &PhaseRequest,
    spec: &ClusterSpec,
    rb: &Loaded,
    progress: &mut Progress,
) -> Result<(Cluster, Target, Option<Run>), UserError> {
    let ui = &req.ui;
    let mut target = req.target.clone();
    if target.context.is_none() {
        target.context = Some(spec.kube_context.clone());
    }
    let mut cluster = Cluster::connect(&target).await?;
    cluster.api_grace = req.api_grace;
    let id = identity::require(&cluster, spec.platform, &req.cluster).await?;
    ui.ok(&format!("cluster identity: {}", id.detail));
    let resumed = pin::open(req, spec, rb, &cluster, &id, progress)?;
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
        for w in obs.warn.iter().filter(|w| val.contains(&w.contains)) {
            ui.warn(&w.say);
        }
    }
    Ok((cluster, target, resumed))
}

/// Every decision a step of this platform uses, settled (asked, or from --answers, --yes, the unfinished run).
fn settle_decisions(
    req: &PhaseRequest,
    spec: &ClusterSpec,
    rb: &Loaded,
    answering: &Answering<'_>,
) -> Result<BTreeMap<String, String>, UserError> {
    let mut decisions = BTreeMap::new();
    for d in &rb.runbook.decisions {
        let used = rb
            .runbook
            .steps
            .iter()
            .any(|s| s.decide.as_deref() == Some(&d.id) && s.on_platform(spec.platform));
        if !used {
            continue;
        }
        let d = recommend_from_repo(req, d, &req.ui)?;
        let v = decide::settle_with(&d, answering, &|p: &str| req.library.resolve(&req.repo, p))?;
        if let Some(old) = answering.recorded.get(&d.id).filter(|old| **old != v) {
            req.ui.warn(&format!(
                "decision {}: the unfinished run had '{old}', continuing with '{v}' from --answers",
                d.id
            ));
        }
        decisions.insert(d.id.clone(), v);
    }
    Ok(decisions)
}

/// A decision whose recommended answer is read from the repo (`recommendFrom`), e.g. the backup design.
fn recommend_from_repo(req: &PhaseRequest, d: &Decision, ui: &Ui) -> Result<Decision, UserError> {
    let Some(b) = &d.recommend_from else {
        return Ok(d.clone());
    };
    let kind = req.kinds.get(&b.name).filter(|k| k.recommends()).ok_or_else(|| {
        UserError::usage(format!(
            "decision '{}': recommendFrom names '{}', which cannot recommend",
            d.id, b.name
        ))
    })?;
    let (rec, note) = kind.recommend(&req.repo, &b.args)?;
    ui.line(&format!("  {}: {note}", d.id));
    let mut d = d.clone();
    d.recommended = rec.filter(|r| d.options.is_empty() || d.options.contains(r));
    d.help = Some(match &d.help {
        Some(h) => format!("{h}; {note}"),
        None => note,
    });
    Ok(d)
}

/// Every kind the plan applies must be served now or provided by an earlier step; every CRD the runbook
/// requires must be served or installed by a step.
async fn crds(
    cluster: &Cluster,
    rb: &Loaded,
    plan: &[Planned],
    decisions: &BTreeMap<String, String>,
) -> Result<(), UserError> {
    let mut provided: HashSet<String> = HashSet::new();
    let mut needed: Vec<(String, String, String)> = rb
        .runbook
        .preflight
        .crds
        .iter()
        .map(|c| (c.clone(), String::new(), "preflight".into()))
        .collect();
    for p in plan.iter().filter(|p| applies(&p.step, decisions)) {
        for o in &p.plan.objects {
            let (av, kind, _, name) = identify(o)?;
            if kind == "CustomResourceDefinition" {
                provided.insert(name);
                continue;
            }
            if cluster.resolve(&av, &kind).await?.is_none() {
                let g = split_api_version(&av).0.to_string();
                let satisfied = provided
                    .iter()
                    .any(|c| c.ends_with(&format!(".{g}")) && crd_kind_matches(plan, c, &kind));
                if !satisfied {
                    needed.push((format!("{kind}.{g}"), kind.clone(), p.step.id.clone()));
                }
            }
        }
        provided.extend(p.plan.provides.iter().cloned());
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
    Ok(())
}

fn crd_kind_matches(plan: &[Planned], crd_name: &str, kind: &str) -> bool {
    plan.iter().flat_map(|p| &p.plan.objects).any(|o| {
        o.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
            && o.pointer("/metadata/name").and_then(Value::as_str) == Some(crd_name)
            && o.pointer("/spec/names/kind").and_then(Value::as_str) == Some(kind)
    })
}

/// Each step's kind checks what it can before any write (secret sources, Git against decisions, a load
/// balancer); a kind may settle a decision its need depends on (e.g. replacing a live Secret).
async fn kind_checks(
    req: &PhaseRequest,
    spec: &ClusterSpec,
    rb: &Loaded,
    ready: &Ready,
    decisions: &mut BTreeMap<String, String>,
    answering: &Answering<'_>,
) -> Result<(), UserError> {
    let settle = |id: &str| -> Result<String, UserError> {
        let d = rb
            .decision(id)
            .ok_or_else(|| UserError::usage(format!("unknown decision '{id}'")).subject(rb.locate(id)))?;
        decide::settle_with(d, answering, &|p: &str| req.library.resolve(&req.repo, p))
    };
    let new_namespaces = Mutex::new(HashSet::new());
    for p in &ready.plan {
        if !applies(&p.step, decisions) {
            continue;
        }
        let taken = decisions.clone();
        let mut cx = ready.cx_with(req, spec, rb, &p.step.id, &new_namespaces, &taken);
        cx.settle = Some(&settle);
        let checked = p
            .kind
            .preflight(&cx, &p.args, &p.plan)
            .await
            .map_err(|e| match p.kind.writes() {
                // A read-only check's own message does not name the step; a writing kind's names its object.
                Writes::Nothing => UserError {
                    cause: format!("step '{}': {}", p.step.id, e.cause),
                    ..e
                },
                _ => e,
            })?;
        decisions.extend(checked.decisions);
    }
    Ok(())
}
