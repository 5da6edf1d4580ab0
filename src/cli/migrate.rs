//! `fleetctl migrate`: Phase 4's repo side: move a legacy Talos fleet into clusters/<cluster>/ on a new
//! branch, behind the no-churn gate (docs/phase-4.md).

use super::Globals;
use crate::decide;
use crate::error::UserError;
use crate::migrate::{self, Options, Outcome};
use std::path::PathBuf;

pub fn migrate(
    g: &Globals,
    cluster: String,
    answers: Option<PathBuf>,
    yes: bool,
    dry_run: bool,
    abort: bool,
) -> Result<i32, UserError> {
    if abort {
        println!("{}", migrate::abort(&g.repo, &g.ui)?);
        return Ok(0);
    }
    let answers = match &answers {
        Some(p) => decide::load_answers(p)?,
        None => Default::default(),
    };
    let opts = Options {
        repo: g.repo.clone(),
        cluster,
        answers,
        yes,
        dry_run,
    };
    match migrate::run(&opts, &g.ui)? {
        Outcome::AlreadyMigrated(msg) => {
            println!("{msg}");
            Ok(0)
        }
        Outcome::NothingToMove => {
            println!("nothing to move: every tree is kept in place");
            Ok(0)
        }
        Outcome::DryRun { gate, .. } => {
            println!(
                "dry run (a scratch copy was moved; the repo is untouched): {}",
                gate.summary()
            );
            print!("{}{}", gate.details(), gate.diff);
            Ok(if gate.passed { 0 } else { 1 })
        }
        Outcome::Committed {
            branch, commit, gate, ..
        } => {
            println!("{}", gate.summary());
            print!("{}", gate.details());
            println!(
                "committed {} on branch {branch}; review it (`git show --stat {branch}`), then merge",
                &commit[..12]
            );
            println!("{}", migrate::closing_step(&gate));
            Ok(0)
        }
        Outcome::GateFailed { branch, gate } => {
            println!("{}", gate.summary());
            print!("{}{}", gate.details(), gate.diff);
            Err(gate.refusal(&branch))
        }
    }
}
