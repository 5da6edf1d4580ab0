//! The runbook engine: an executor of steps it knows only through the `StepKind` trait (kind.rs).
//!
//! A run is: preflight everything before the first write (tools, API, cluster identity, decisions, each
//! step's plan, CRDs, each kind's own read-only checks: preflight.rs); then for each step observe -> act only
//! if needed -> wait -> verify, journaling every transition (run.rs); then evaluate the acceptance criteria
//! into a report. `--dry-run` stops after preflight and asks each kind what it would do (dry_run.rs).
//! SIGINT/SIGTERM stop a run at once and journal where it stopped (interrupt.rs).

mod dry_run;
mod gate;
mod interrupt;
pub mod kind;
mod pin;
mod plan;
mod preflight;
mod run;

pub use interrupt::INTERRUPTED;
pub use kind::{Done, Registry};

use crate::cluster::Target;
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::journal::{Journal, RunLock, StateDir};
use crate::report::Report;
use crate::runbook::{self, Library};
use crate::ui::Ui;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything one `fleetctl phase` (or `resume`, or a rehearsal) needs.
#[derive(Clone)]
pub struct PhaseRequest {
    pub repo: PathBuf,
    /// The directory name under clusters/.
    pub cluster: String,
    pub phase: u8,
    pub target: Target,
    pub answers: BTreeMap<String, String>,
    /// The file `answers` came from, journaled with the run so `resume` can read it again.
    pub answers_file: Option<std::path::PathBuf>,
    pub yes: bool,
    pub dry_run: bool,
    pub state_root: PathBuf,
    pub rehearsal: bool,
    pub ui: Ui,
    /// The runbooks (embedded, or an override directory).
    pub library: Arc<Library>,
    /// The step kinds the runbooks may name (`steps::registry()`).
    pub kinds: &'static Registry,
    /// How long a wait rides out an API server that stopped answering (`--api-grace`).
    pub api_grace: std::time::Duration,
}

/// What a run has journaled so far, kept outside the run so an interrupt can record where it stopped.
#[derive(Default)]
struct Progress {
    state: Option<StateDir>,
    journal: Journal,
    /// The journaled run (set once the cluster is known: pin.rs).
    run_id: Option<String>,
    stage: Stage,
}

/// Where a journaled run is.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Stage {
    #[default]
    Preflight,
    Steps,
    Acceptance,
}

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
            sig = interrupt::stop_signal() => Err(sig),
            r = &mut body => Ok(r),
        }
    };
    match outcome {
        Ok(r) => r,
        Err(sig) => Err(interrupt::interrupted(req, progress, sig)),
    }
}

async fn run_phase_body(req: &PhaseRequest, progress: &mut Progress) -> Result<Report, UserError> {
    let spec = ClusterSpec::load(&req.repo, &req.cluster)?;
    let rb = runbook::select(&req.library.runbooks, req.phase, spec.platform)?;
    for id in crate::decide::unknown_answers(&req.library.runbooks, &req.answers) {
        req.ui.warn(&format!(
            "answers: '{id}' is not a decision of any runbook, so it is ignored (a typo? `fleetctl decisions` lists them)"
        ));
    }
    let state = StateDir::new(&req.state_root, &req.cluster);
    let _lock = RunLock::acquire(&state.dir(), &req.cluster)?;
    state.clean_temporaries();
    progress.journal = state.load()?;
    progress.state = Some(state);
    let label = if req.rehearsal {
        " [REHEARSAL: simulated cluster, not a real one]"
    } else {
        ""
    };
    req.ui.banner(&format!(
        "phase {}: {} on {} ({}){label}",
        rb.runbook.phase, rb.runbook.title, req.cluster, spec.platform
    ));
    let before = progress.journal.clone();
    let ready = match preflight::run(req, &spec, &rb, progress).await {
        Ok(r) => r,
        Err(e) => return Err(preflight_failed(req, progress, before, e)),
    };
    if req.dry_run {
        return dry_run::run(req, &spec, &rb, &ready).await;
    }
    run::run(req, &spec, &rb, ready, progress).await
}

/// Preflight stopped. Ctrl-C at a prompt is an interrupt (journaled; `resume` goes on). Any other stop
/// leaves the journal as it was, apart from the identity met on first contact: nothing was done.
fn preflight_failed(req: &PhaseRequest, progress: &mut Progress, before: Journal, e: UserError) -> UserError {
    if e.code == INTERRUPTED {
        return interrupt::interrupted(req, std::mem::take(progress), "Ctrl-C at a prompt");
    }
    if let (Some(state), Some(_)) = (&progress.state, &progress.run_id) {
        let mut restored = before;
        restored.identity = progress.journal.identity.clone();
        if let Err(w) = state.save(&restored) {
            req.ui.warn(&format!("the journal could not be restored: {}", w.cause));
        }
    }
    e
}
