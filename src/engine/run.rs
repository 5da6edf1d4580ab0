//! The run proper: start (or resume) a journaled run, run each planned step through its kind, record every
//! transition, then evaluate the acceptance criteria into the report.

use super::kind::Done;
use super::plan::applies;
use super::preflight::Ready;
use super::{PhaseRequest, Progress, Stage};
use crate::checks;
use crate::cluster::source::Source;
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::journal::{now, Journal, Run, RunStatus, StateDir, StepRecord, StepStatus};
use crate::report::{Origin, Report};
use crate::runbook::{Loaded, Step};
use std::collections::HashSet;
use std::sync::Mutex;

pub(super) async fn run(
    req: &PhaseRequest,
    spec: &ClusterSpec,
    rb: &Loaded,
    ready: Ready,
    progress: &mut Progress,
) -> Result<Report, UserError> {
    let (Some(state), Some(run_id)) = (progress.state.clone(), progress.run_id.clone()) else {
        return Err(UserError::failed("the run was not journaled before its first step")
            .next("report this as a fleetctl bug; nothing was written"));
    };
    if let Some(r) = &ready.resumed {
        req.ui.line(&format!("resuming run {} (started {})", r.id, r.started));
    }
    progress.stage = Stage::Steps;
    let journal = &mut progress.journal;
    set_run(journal, &run_id, |r| {
        r.status = RunStatus::Running;
        r.failure = None;
        r.decisions = ready.decisions.clone();
    });
    state.save(journal)?;
    let total = ready.plan.len();
    let new_namespaces = Mutex::new(HashSet::new());
    for (i, p) in ready.plan.iter().enumerate() {
        let step = &p.step;
        let n = format!("[{}/{total}] {}", i + 1, step.display_title());
        let j = Journaled {
            state: &state,
            run_id: &run_id,
            step,
        };
        if !applies(step, &ready.decisions) {
            j.record(
                journal,
                StepStatus::Skipped,
                0,
                "skipped: its `when` does not hold".into(),
            )?;
            let w = step.when.as_ref().map(|w| w.decision.as_str()).unwrap_or("");
            req.ui.skip(&format!("{n}: skipped (when {w} does not hold)"));
            continue;
        }
        j.record(journal, StepStatus::Running, 0, String::new())?;
        let cx = ready.cx(req, spec, rb, &step.id, &new_namespaces);
        match p.kind.run(&cx, &p.args, &p.plan).await {
            Ok(Done { writes, acted, note }) => {
                if acted {
                    req.ui.ok(&format!("{n}: {note}"));
                } else {
                    req.ui.skip(&format!("{n}: {note}"));
                }
                let st = if acted {
                    StepStatus::Done
                } else {
                    StepStatus::AlreadyDone
                };
                j.record(journal, st, writes, note)?;
            }
            Err(e) => return Err(j.failed(journal, e)?),
        }
    }
    progress.stage = Stage::Acceptance;
    accept(req, spec, rb, &ready, &state, &mut progress.journal, &run_id).await
}

/// Evaluate the acceptance criteria, write the report, close the run.
async fn accept(
    req: &PhaseRequest,
    spec: &ClusterSpec,
    rb: &Loaded,
    ready: &Ready,
    state: &StateDir,
    journal: &mut Journal,
    run_id: &str,
) -> Result<Report, UserError> {
    let criteria: Vec<_> = rb.runbook.acceptance.iter().collect();
    let results = checks::evaluate_for(&criteria, &Source::Live(&ready.cluster), spec).await?;
    let mut origin = Origin::cluster(ready.cluster.simulated);
    origin.rehearsal = req.rehearsal;
    let report = Report::new(&req.cluster, vec![req.phase], origin, ready.decisions.clone(), results);
    crate::journal::write_atomic(&state.report_path(req.phase), report.to_json().as_bytes())?;
    set_run(journal, run_id, |r| {
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

pub(super) fn set_run(j: &mut Journal, id: &str, f: impl FnOnce(&mut Run)) {
    if let Some(r) = j.runs.iter_mut().find(|r| r.id == id) {
        f(r);
    }
}

/// One step's entries in the journal.
struct Journaled<'a> {
    state: &'a StateDir,
    run_id: &'a str,
    step: &'a Step,
}

impl Journaled<'_> {
    /// Record a transition: a new running entry, or the end of the running one; saved at once.
    fn record(&self, j: &mut Journal, status: StepStatus, writes: u32, note: String) -> Result<(), UserError> {
        let step = self.step;
        set_run(j, self.run_id, |r| {
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
        self.state.save(j)
    }

    /// The step failed: journal it and the run, and say how to go on.
    fn failed(&self, j: &mut Journal, e: UserError) -> Result<UserError, UserError> {
        let msg = e.to_string();
        self.record(j, StepStatus::Failed, 0, msg.clone())?;
        set_run(j, self.run_id, |r| {
            r.status = RunStatus::Failed;
            r.failure = Some(format!("step {}: {msg}", self.step.id));
        });
        self.state.save(j)?;
        let next = e
            .next
            .clone()
            .unwrap_or_else(|| "fix the cause, then `fleetctl resume`".into());
        Ok(UserError {
            cause: format!("step '{}' failed: {}", self.step.id, e.cause),
            next: Some(next),
            ..e
        })
    }
}
