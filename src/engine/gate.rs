//! A decision is taken before its consequence is live. A decision that Git reflects declares what it governs
//! (`governs:` directories); a step that would make one of them live (its plan's `live_paths`: an `apply` of
//! Applications, a `git-layer`) is refused in preflight, before any write, unless the decision has been
//! answered: in this run, or in an earlier run of the decision's own phase (the journal). So `phase 1` cannot
//! turn on the platform layer before `phase 2` asked where the disk and the address are.

use super::plan::{applies, Planned};
use super::PhaseRequest;
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::journal::Journal;
use crate::runbook::Loaded;
use std::collections::BTreeMap;

fn governs(g: &str, path: &str) -> bool {
    let g = g.trim_end_matches('/');
    path == g || path.starts_with(&format!("{g}/"))
}

pub(super) fn check(
    req: &PhaseRequest,
    spec: &ClusterSpec,
    rb: &Loaded,
    plan: &[Planned],
    decisions: &BTreeMap<String, String>,
    journal: &Journal,
) -> Result<(), UserError> {
    let books: Vec<&Loaded> = req
        .library
        .runbooks
        .iter()
        .filter(|l| l.runbook.platforms.contains(&spec.platform))
        .collect();
    for p in plan.iter().filter(|p| applies(&p.step, decisions)) {
        let mut missing = Vec::new();
        for lp in &p.plan.live_paths {
            for l in &books {
                for d in l
                    .runbook
                    .decisions
                    .iter()
                    .filter(|d| d.governs.iter().any(|g| governs(g, &lp.path)))
                {
                    let here = l.file == rb.file && decisions.contains_key(&d.id);
                    let before = journal
                        .last_of_phase(l.runbook.phase)
                        .is_some_and(|r| r.decisions.contains_key(&d.id));
                    if !here && !before && !missing.iter().any(|(id, ..): &(String, u8, String)| *id == d.id) {
                        missing.push((d.id.clone(), l.runbook.phase, format!("{} ({})", lp.path, lp.via)));
                    }
                }
            }
        }
        if let Some((id, phase, what)) = missing.first() {
            let others: Vec<String> = missing
                .iter()
                .skip(1)
                .map(|m| format!("'{}' (phase {})", m.0, m.1))
                .collect();
            let more = if others.is_empty() {
                String::new()
            } else {
                format!("; also unanswered: {}", others.join(", "))
            };
            return Err(UserError::usage(format!(
                "step '{}' would make {what} live, which decision '{id}' of phase {phase} governs, and it has not been answered{more}",
                p.step.id
            ))
            .subject(rb.locate(&p.step.id))
            .next(format!(
                "a phase turns on only its own layer: keep that directory out of what Git turns on (clusters/{}/apps/kustomization.yaml names the live layer) until `fleetctl phase {phase}` has taken the decision; nothing was written",
                req.cluster
            )));
        }
    }
    Ok(())
}
