//! `--dry-run`: after preflight, each step's kind says what it would do (server-side dry-run applies for
//! kinds that write objects); nothing is written. The report shows the criteria as they stand now.

use super::plan::applies;
use super::preflight::Ready;
use super::PhaseRequest;
use crate::checks;
use crate::cluster::source::Source;
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::report::{Origin, Report};
use crate::runbook::Loaded;
use std::collections::HashSet;
use std::sync::Mutex;

pub(super) async fn run(
    req: &PhaseRequest,
    spec: &ClusterSpec,
    rb: &Loaded,
    ready: &Ready,
) -> Result<Report, UserError> {
    let ui = &req.ui;
    ui.banner("dry run: nothing will be written");
    let new_namespaces = Mutex::new(HashSet::new());
    for p in &ready.plan {
        let id = &p.step.id;
        if !applies(&p.step, &ready.decisions) {
            ui.skip(&format!("{id}: skipped (when does not hold)"));
            continue;
        }
        let cx = ready.cx(req, spec, rb, id, &new_namespaces);
        for line in p.kind.dry_run(&cx, &p.args, &p.plan).await? {
            ui.line(&format!("  {id}: {line}"));
        }
    }
    let mut origin = Origin::cluster(ready.cluster.simulated);
    origin.rehearsal = req.rehearsal;
    origin.dry_run = true;
    let criteria: Vec<_> = rb.runbook.acceptance.iter().collect();
    let results = checks::evaluate_for(&criteria, &Source::Live(&ready.cluster), spec).await?;
    Ok(Report::new(
        &req.cluster,
        vec![rb.runbook.phase],
        origin,
        ready.decisions.clone(),
        results,
    ))
}
