//! SIGINT/SIGTERM (Ctrl-C) during a run: stop at once, journal the run as interrupted at its step, say how
//! to resume, exit 130.

use super::run::set_run;
use super::{PhaseRequest, Progress, Stage};
use crate::error::UserError;
use crate::journal::{now, RunStatus, StepStatus};

/// The exit code of a run stopped by SIGINT/SIGTERM (128 + SIGINT, as shells report Ctrl-C).
pub const INTERRUPTED: i32 = crate::error::exit::INTERRUPTED;

/// The first SIGINT or SIGTERM (Ctrl-C elsewhere); pending forever when signals cannot be watched.
pub(super) async fn stop_signal() -> &'static str {
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
pub(super) fn interrupted(req: &PhaseRequest, progress: Progress, sig: &str) -> UserError {
    let resume = format!("fleetctl resume --cluster {}", req.cluster);
    let (Some(state), Some(run_id)) = (progress.state, progress.run_id) else {
        return UserError::new(
            INTERRUPTED,
            format!("interrupted ({sig}) during preflight; nothing was written"),
        );
    };
    let mut journal = progress.journal;
    let mut at = match progress.stage {
        Stage::Preflight => String::from("during preflight; nothing was written"),
        Stage::Steps | Stage::Acceptance => String::from("during the acceptance checks"),
    };
    set_run(&mut journal, &run_id, |r| {
        if let Some(s) = r.steps.iter_mut().rev().find(|s| s.status == StepStatus::Running) {
            s.status = StepStatus::Failed;
            s.finished = Some(now());
            s.note = format!("interrupted ({sig})");
            at = format!("at step {}", s.id);
        }
        r.status = RunStatus::Failed;
        r.failure = Some(format!("interrupted {at} ({sig}); run `{resume}` to continue"));
    });
    let msg = format!("interrupted {at}; run `{resume}` to continue");
    match state.save(&journal) {
        Ok(()) => UserError::new(INTERRUPTED, msg),
        Err(e) => UserError::new(
            INTERRUPTED,
            format!("{msg} (the journal could not record it: {})", e.cause),
        ),
    }
}
