//! `fleetctl share APP`: refactor an existing app into apps-shared/<app>/{base,overlays/<cluster>} on a new
//! branch, behind the zero-churn gate (docs/share.md).

use super::Globals;
use crate::error::UserError;
use crate::share::{self, Options};

pub fn share(g: &Globals, app: String, from: Option<String>, cluster: String, dry_run: bool) -> Result<i32, UserError> {
    let opts = Options {
        repo: g.repo.clone(),
        app: app.clone(),
        from,
        cluster,
        dry_run,
    };
    let done = share::run(&opts)?;
    for l in done.gate.summary_lines() {
        println!("{l}");
    }
    println!("{}", done.diffstat);
    match &done.commit {
        None => println!(
            "dry run: the gate passed; nothing was committed and no branch was left (run without --dry-run to commit on {})",
            done.branch
        ),
        Some(c) => {
            println!(
                "committed {} on branch {}: {} -> apps-shared/{app}; review it (`git show --stat {}`), then merge",
                &c[..12.min(c.len())],
                done.branch,
                done.old_dir,
                done.branch
            );
            println!(
                "after the merge Argo CD deletes the old Application without touching its objects and the shared one \
                 adopts them: check it is Synced and Healthy (`argocd app get shared-{app}` or `kubectl get application -A`)"
            );
        }
    }
    Ok(0)
}
