//! Phase 4: move a legacy Talos fleet (root-level trees, an argocd apps folder) into
//! `clusters/<cluster>/` on a new Git branch, repoint the root Application and every ApplicationSet,
//! and commit only when the no-churn gate passes (docs/phase-4.md).
//!
//! Resumable: each move is journaled in `.git/fleetctl-phase4.json` as it happens; after an
//! interruption the next run switches back to the branch and finishes the moves not yet done
//! (a move whose source is gone and whose destination exists counts as done). Idempotent: on the
//! migrated branch, or once no ApplicationSet lives outside `clusters/`, it says "already migrated".

pub mod apply;
mod bootstrap;
pub mod check;
pub mod gate;
pub mod kustom;
pub mod live;
mod patterns;
pub mod plan;
pub mod refs;
pub mod rewrite;
pub mod tree;

use crate::decide;
use crate::error::UserError;
use crate::runbook::Decision;
use crate::ui::Ui;
pub use gate::GateResult;
pub use plan::{Move, Plan};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const DEFAULT_BRANCH: &str = "phase-4-talos-migration";
const JOURNAL: &str = "fleetctl-phase4.json";

#[derive(Debug, Clone)]
pub struct Options {
    pub repo: PathBuf,
    /// The cluster directory the trees move under (`clusters/<cluster>`).
    pub cluster: String,
    pub answers: BTreeMap<String, String>,
    pub yes: bool,
    pub dry_run: bool,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    AlreadyMigrated(String),
    /// Every tree was kept in place.
    NothingToMove,
    DryRun {
        plan: Plan,
        gate: GateResult,
    },
    Committed {
        branch: String,
        commit: String,
        plan: Plan,
        gate: GateResult,
    },
    /// The gate failed: nothing was committed (HEAD is unchanged); the moves stay in the working tree.
    GateFailed {
        branch: String,
        gate: GateResult,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Status {
    /// Trees are being moved (and paths rewritten, which is recomputed from the base commit).
    Moving,
    /// Moved and rewritten; the gate has not passed yet. Files are not rewritten again, so hand fixes stay.
    Moved,
    Committed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    base: String,
    start_branch: String,
    branch: String,
    cluster: String,
    decisions: BTreeMap<String, String>,
    plan: Plan,
    done: Vec<bool>,
    status: Status,
    #[serde(default)]
    commit: Option<String>,
    /// The Applications generated from the clean base checkout before the first move: the gate's
    /// "before" side (so the gate need not extract the base commit again).
    #[serde(default)]
    before: Option<Vec<gate::Row>>,
}

/// Run git in `repo`; stdout on success, else a failure naming the command and git's message.
pub(crate) fn git(repo: &Path, args: &[&str]) -> Result<String, UserError> {
    let out = duct::cmd("git", args)
        .dir(repo)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| UserError::usage(format!("cannot run git: {e}")).next("install git"))?;
    if !out.status.success() {
        return Err(UserError::failed(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
        .subject(repo.display().to_string()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

fn journal_path(repo: &Path) -> Result<PathBuf, UserError> {
    Ok(PathBuf::from(git(repo, &["rev-parse", "--absolute-git-dir"])?).join(JOURNAL))
}

fn load_state(path: &Path) -> Result<Option<State>, UserError> {
    match std::fs::read_to_string(path) {
        Ok(t) => serde_json::from_str(&t).map(Some).map_err(|e| {
            UserError::usage(format!("the phase 4 journal is unreadable: {e}"))
                .subject(path.display().to_string())
                .next("run `fleetctl migrate --abort` to start over")
        }),
        Err(_) => Ok(None),
    }
}

fn save_state(path: &Path, s: &State) -> Result<(), UserError> {
    let text = serde_json::to_string_pretty(s).expect("state serialises");
    crate::journal::write_atomic(path, text.as_bytes())
}

fn current_branch(repo: &Path) -> String {
    git(repo, &["symbolic-ref", "--quiet", "--short", "HEAD"]).unwrap_or_else(|_| "HEAD".into())
}

fn is_clean(repo: &Path) -> Result<bool, UserError> {
    Ok(git(repo, &["status", "--porcelain"])?.is_empty())
}

/// Check that `repo` is the top level of a Git work tree.
pub(crate) fn require_git(repo: &Path) -> Result<(), UserError> {
    let top = git(repo, &["rev-parse", "--show-toplevel"]).map_err(|_| {
        UserError::usage("the fleet repo is not a Git repository")
            .subject(repo.display().to_string())
            .next("phase 4 moves trees with git on a new branch; pass --repo with the fleet's Git checkout")
    })?;
    let same = std::fs::canonicalize(&top).ok() == std::fs::canonicalize(repo).ok();
    if !same {
        return Err(UserError::usage("--repo is not the top level of its Git work tree")
            .subject(repo.display().to_string())
            .next(format!("pass --repo {top}")));
    }
    Ok(())
}

/// Settle the branch, each tree's destination and optional renames.
fn settle(
    opts: &Options,
    legacy: &plan::Legacy,
    ui: &Ui,
) -> Result<(String, Plan, BTreeMap<String, String>), UserError> {
    let none = BTreeMap::new();
    let answering = decide::Answering {
        recorded: &none,
        answers: &BTreeMap::new(),
        yes: opts.yes,
    };
    let mut decisions = BTreeMap::new();
    let branch = match opts.answers.get("p4-branch") {
        Some(b) => b.clone(),
        None => decide::settle(
            &Decision {
                id: "p4-branch".into(),
                question: "Name of the Git branch for the migration?".into(),
                options: vec![DEFAULT_BRANCH.into()],
                recommended: Some(DEFAULT_BRANCH.into()),
                destructive: false,
                input: crate::runbook::InputType::None,
                help: Some("created from the current commit; review and merge it yourself".into()),
                recommend_from: None,
                governs: vec![],
            },
            &answering,
        )?,
    };
    git(&opts.repo, &["check-ref-format", "--branch", &branch])
        .map_err(|_| UserError::usage(format!("'{branch}' is not a valid branch name")).subject("p4-branch"))?;
    decisions.insert("p4-branch".to_string(), branch.clone());
    let mut moves = plan::default_moves(legacy, &opts.cluster);
    // `p4-move: move-to-defaults` is the explicit answer that confirms every tree not answered one by one.
    let confirm_all = match opts.answers.get("p4-move").map(String::as_str) {
        None => false,
        Some("move-to-defaults") => true,
        Some("stop") => {
            return Err(UserError::usage("p4-move says stop: nothing was moved")
                .next("answer move-to-defaults, or one tree at a time"))
        }
        Some(other) => {
            return Err(UserError::usage(format!(
                "answer '{other}' to p4-move is not one of: move-to-defaults, stop"
            )))
        }
    };
    // A dry run moves nothing, so it previews unanswered trees at their default destinations.
    let preview_defaults = opts.dry_run && !confirm_all;
    settle_destinations(
        opts,
        &mut moves,
        confirm_all || preview_defaults,
        &answering,
        &mut decisions,
    )?;
    if let Some(r) = opts.answers.get("p4-renames").filter(|r| !r.trim().is_empty()) {
        let extra = plan::parse_renames(r, &moves).map_err(|e| UserError::usage(e).subject("p4-renames"))?;
        decisions.insert("p4-renames".into(), r.clone());
        moves.extend(extra);
    }
    plan::sort_moves(&mut moves);
    check_destinations(&opts.repo, &moves)?;
    check::roots_survive(&opts.repo, legacy, &Plan { moves: moves.clone() })?;
    let plan = Plan { moves };
    if preview_defaults {
        ui.line("dry run: trees without an answer are shown at their default destinations");
    }
    ui.line("plan:");
    for m in &plan.moves {
        let slash = if m.file { "" } else { "/" };
        if m.from == m.to {
            ui.line(&format!("  {:<44} kept in place", format!("{}{slash}", m.from)));
        } else {
            ui.line(&format!("  {:<44} -> {}{slash}", format!("{}{slash}", m.from), m.to));
        }
    }
    Ok((branch, plan, decisions))
}

/// Each tree's destination: its answer, or the default when confirmed as a whole, or asked. Moves sharing
/// a decision (the bootstrap files) are asked once.
fn settle_destinations(
    opts: &Options,
    moves: &mut [Move],
    defaults: bool,
    answering: &decide::Answering<'_>,
    decisions: &mut BTreeMap<String, String>,
) -> Result<(), UserError> {
    let mut answered: BTreeMap<String, String> = BTreeMap::new();
    for m in moves.iter_mut() {
        let answer = match (opts.answers.get(&m.id), answered.get(&m.id)) {
            (Some(a), _) | (None, Some(a)) => a.clone(),
            (None, None) if defaults => "default".into(),
            (None, None) => {
                let shown = if m.file {
                    m.default.rsplit_once('/').map(|x| x.0).unwrap_or(&m.default)
                } else {
                    &m.default
                };
                decide::settle(
                    &Decision {
                        id: m.id.clone(),
                        question: format!("Where does {}{} go?", m.from, if m.file { "" } else { "/" }),
                        options: vec![shown.to_string(), "keep".into()],
                        recommended: Some(shown.to_string()),
                        // Moving trees is destructive to everyone else's working copies and open branches:
                        // it needs an explicit answer, never --yes alone.
                        destructive: true,
                        input: crate::runbook::InputType::None,
                        help: Some("`keep` leaves it in place; an --answers file may also name another path".into()),
                        recommend_from: None,
                        governs: vec![],
                    },
                    answering,
                )?
            }
        };
        answered.insert(m.id.clone(), answer.clone());
        let answer =
            if m.file && answer.trim().trim_end_matches('/') == m.default.rsplit_once('/').map(|x| x.0).unwrap_or("") {
                "default".to_string()
            } else {
                answer
            };
        m.to = plan::resolve_answer(m, &answer).map_err(|e| {
            UserError::usage(format!("answer to {}: {e}", m.id)).next("answer default, keep, or a path")
        })?;
        let shown = if m.file {
            plan::tree_parent(&m.to).to_string()
        } else {
            m.to.clone()
        };
        decisions.entry(m.id.clone()).or_insert(shown);
    }
    Ok(())
}

/// Two trees must not land on the same place, nor on a path that exists.
fn check_destinations(repo: &Path, moves: &[Move]) -> Result<(), UserError> {
    for (i, a) in moves.iter().enumerate() {
        for b in &moves[i + 1..] {
            if a.to == b.to {
                return Err(
                    UserError::usage(format!("{} and {} would both move to {}", a.from, b.from, a.to))
                        .next("give one of them another destination"),
                );
            }
        }
        if a.from != a.to && repo.join(&a.to).exists() {
            return Err(
                UserError::usage(format!("{} cannot move to {}: that path already exists", a.from, a.to))
                    .subject(repo.join(&a.to).display().to_string())
                    .next(format!("answer another destination for {}", a.id)),
            );
        }
    }
    Ok(())
}

/// The migration: plan (decisions), branch, moves, rewrites, gate, commit.
pub fn run(opts: &Options, ui: &Ui) -> Result<Outcome, UserError> {
    require_git(&opts.repo)?;
    let jpath = journal_path(&opts.repo)?;
    if let Some(st) = load_state(&jpath)? {
        if st.status != Status::Committed {
            return resume(opts, st, &jpath, ui);
        }
        let commit = st.commit.clone().unwrap_or_default();
        let contains = git(&opts.repo, &["merge-base", "--is-ancestor", &commit, "HEAD"]).is_ok();
        let branch_ref = format!("refs/heads/{}", st.branch);
        if contains || current_branch(&opts.repo) == st.branch {
            return Ok(Outcome::AlreadyMigrated(format!(
                "already migrated: commit {} on branch {} (nothing to do)",
                &commit[..commit.len().min(12)],
                st.branch
            )));
        }
        if git(&opts.repo, &["rev-parse", "--verify", "-q", &branch_ref]).is_ok() {
            return Err(UserError::usage(format!(
                "already migrated on branch {} (commit {}), which this checkout does not contain",
                st.branch,
                &commit[..commit.len().min(12)]
            ))
            .subject(jpath.display().to_string())
            .next(format!(
                "`git switch {}` to review it, or merge it; to plan a new migration instead, delete the branch",
                st.branch
            )));
        }
        // The user deleted the unmerged migration branch: the journal is stale, plan anew.
        ui.line(&format!(
            "the earlier migration's branch {} is gone and this checkout lacks its commit: planning anew",
            st.branch
        ));
        std::fs::remove_file(&jpath)
            .map_err(|e| UserError::failed(format!("cannot remove {}: {e}", jpath.display())))?;
    }
    let legacy = plan::discover(&opts.repo)?;
    if legacy.appsets.is_empty() {
        return Ok(Outcome::AlreadyMigrated(format!(
            "already migrated: no ApplicationSet outside clusters/ (the fleet is in clusters/{}/)",
            opts.cluster
        )));
    }
    let (branch, plan, decisions) = settle(opts, &legacy, ui)?;
    if !plan.moves_anything() {
        return Ok(Outcome::NothingToMove);
    }
    if opts.dry_run {
        let mut gate = apply::dry_run(&opts.repo, &opts.cluster, &plan)?;
        gate.accept(opts.answers.get("p4-accept-refs").map(String::as_str));
        return Ok(Outcome::DryRun { plan, gate });
    }
    if !is_clean(&opts.repo)? {
        return Err(UserError::usage("the working tree has uncommitted changes")
            .subject(opts.repo.display().to_string())
            .next("commit or stash them first: the gate compares the last commit with the moved tree; nothing was changed"));
    }
    if git(
        &opts.repo,
        &["rev-parse", "--verify", "--quiet", &format!("refs/heads/{branch}")],
    )
    .is_ok()
    {
        return Err(UserError::usage(format!("branch {branch} already exists"))
            .next("delete it (`git branch -D`) or answer p4-branch with another name; nothing was changed"));
    }
    let base = git(&opts.repo, &["rev-parse", "HEAD"])?;
    let start_branch = current_branch(&opts.repo);
    // The working tree is clean, so it is exactly the base commit: generate the "before" side now.
    let before = gate::generate_for(&opts.repo, &opts.cluster).map_err(|e| UserError {
        cause: format!("before the move: {}", e.cause),
        ..e
    })?;
    git(&opts.repo, &["switch", "-q", "-c", &branch])?;
    ui.ok(&format!(
        "on new branch {branch} (from {start_branch} at {})",
        &base[..12]
    ));
    let st = State {
        base,
        start_branch,
        branch,
        cluster: opts.cluster.clone(),
        decisions,
        done: vec![false; plan.moves.len()],
        plan,
        status: Status::Moving,
        commit: None,
        before: Some(gate::rows(&before)),
    };
    save_state(&jpath, &st)?;
    execute(opts, st, &jpath, ui)
}

fn resume(opts: &Options, st: State, jpath: &Path, ui: &Ui) -> Result<Outcome, UserError> {
    for (k, v) in &opts.answers {
        if let Some(old) = st.decisions.get(k) {
            let same = old == v
                || (k.starts_with("p4-dest-")
                    && st
                        .plan
                        .moves
                        .iter()
                        .any(|m| &m.id == k && plan::resolve_answer(m, v).ok().as_ref() == Some(old)));
            if !same {
                return Err(
                    UserError::usage(format!("an unfinished migration answered {k} = {old}, not {v}"))
                        .subject(jpath.display().to_string())
                        .next("run it to the end with the same answers, or `fleetctl migrate --abort` and start over"),
                );
            }
        }
    }
    let here = current_branch(&opts.repo);
    if here != st.branch {
        if here == st.start_branch && is_clean(&opts.repo)? {
            git(&opts.repo, &["switch", "-q", &st.branch])?;
        } else {
            return Err(UserError::usage(format!(
                "an unfinished migration is on branch {}, but the checkout is on {here}",
                st.branch
            ))
            .next(format!(
                "`git switch {}` and run again, or `fleetctl migrate --abort`",
                st.branch
            )));
        }
    }
    let left = st.done.iter().filter(|d| !**d).count();
    ui.line(&format!(
        "resuming the migration on {} ({left} of {} moves left)",
        st.branch,
        st.done.len()
    ));
    if opts.dry_run {
        return Err(
            UserError::usage("a migration is in progress; --dry-run plans a new one only")
                .next("run without --dry-run to finish it, or `fleetctl migrate --abort`"),
        );
    }
    execute(opts, st, jpath, ui)
}

fn execute(opts: &Options, mut st: State, jpath: &Path, ui: &Ui) -> Result<Outcome, UserError> {
    let repo = &opts.repo;
    let kill_after: Option<usize> = std::env::var("FLEETCTL_TEST_P4_KILL_AFTER_MOVES")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut moved_now = 0;
    for i in 0..st.plan.moves.len() {
        if st.done[i] {
            continue;
        }
        let m = st.plan.moves[i].clone();
        let cur = st.plan.map_partial(&m.from, i);
        if cur != m.to {
            let (src, dst) = (repo.join(&cur), repo.join(&m.to));
            if !src.exists() && dst.exists() {
                ui.skip(&format!("{cur} -> {}: already moved", m.to));
            } else {
                if let Some(parent) = dst.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| UserError::failed(format!("cannot create {}: {e}", parent.display())))?;
                }
                git(repo, &["mv", &cur, &m.to])?;
                if !dst.exists() {
                    return Err(UserError::failed(format!("git mv {cur} {} moved nothing", m.to))
                        .subject(repo.display().to_string())
                        .next("check that the tree is tracked by Git"));
                }
                ui.ok(&format!("git mv {cur} {}", m.to));
                moved_now += 1;
                // Test hook: die between the move and its journal entry (the worst moment).
                if kill_after == Some(moved_now) {
                    std::process::exit(137);
                }
            }
        }
        st.done[i] = true;
        save_state(jpath, &st)?;
    }
    let base_dir = apply::checkout_to_temp(repo, &st.base)?;
    let before = tree::Tree::load(base_dir.path());
    if st.status == Status::Moving {
        let n = apply::rewrite_into(&before, repo, &st.plan, ui)?;
        ui.ok(&format!(
            "repointed {n} paths (root Application, ApplicationSets, kustomizations, scripts, CI, Renovate)"
        ));
        if let Some(notes) = apply::write_cluster_yaml(base_dir.path(), repo, &st.cluster)? {
            ui.ok(&format!(
                "wrote clusters/{}/cluster.yaml from what the repo shows:",
                st.cluster
            ));
            for n in notes {
                ui.detail(&format!("  {n}"));
            }
        }
        st.status = Status::Moved;
        save_state(jpath, &st)?;
    }
    let mut gate = gate::run(&before, repo, &st.cluster, &st.plan, st.before.as_deref())?;
    gate.accept(opts.answers.get("p4-accept-refs").map(String::as_str));
    if !gate.passed {
        return Ok(Outcome::GateFailed {
            branch: st.branch.clone(),
            gate,
        });
    }
    git(repo, &["add", "-A"])?;
    let msg = commit_message(&st, &gate);
    git(repo, &["commit", "-q", "-m", &msg])?;
    let commit = git(repo, &["rev-parse", "HEAD"])?;
    st.status = Status::Committed;
    st.commit = Some(commit.clone());
    save_state(jpath, &st)?;
    Ok(Outcome::Committed {
        branch: st.branch,
        commit,
        plan: st.plan,
        gate,
    })
}

fn commit_message(st: &State, gate: &GateResult) -> String {
    let mut msg = format!(
        "Phase 4: move the Talos fleet into clusters/{}/\n\nMoved with git mv (history follows):\n",
        st.cluster
    );
    for m in st.plan.moves.iter().filter(|m| m.from != m.to) {
        let slash = if m.file { "" } else { "/" };
        msg.push_str(&format!("  {}{slash} -> {}{slash}\n", m.from, m.to));
    }
    msg.push_str(&format!(
        "\nRepointed the root Application, every ApplicationSet, kustomization, script, CI and Renovate path.\nNo-churn gate (fleetctl migrate):\n  (a) {} generated Applications identical before and after\n",
        gate.after
    ));
    for l in &gate.checks.lines {
        msg.push_str(&format!("  {l}\n"));
    }
    for f in &gate.accepted {
        msg.push_str(&format!("  accepted by p4-accept-refs: {}: {}\n", f.location(), f.what));
    }
    msg
}

/// What `phase 4` checks in preflight: the default plan's gate on a scratch copy (nothing is touched).
/// `None` when there is nothing to check: already migrated, a migration in progress, nothing to move.
pub fn preview(repo: &Path, cluster: &str) -> Result<Option<GateResult>, UserError> {
    require_git(repo)?;
    if load_state(&journal_path(repo)?)?.is_some() {
        return Ok(None);
    }
    let legacy = plan::discover(repo)?;
    if legacy.appsets.is_empty() {
        return Ok(None);
    }
    let mut moves = plan::default_moves(&legacy, cluster);
    plan::sort_moves(&mut moves);
    let plan = Plan { moves };
    check_destinations(repo, &plan.moves)?;
    check::roots_survive(repo, &legacy, &plan)?;
    apply::dry_run(repo, cluster, &plan).map(Some)
}

/// The one manual step left after the merge: re-apply each hand-applied root from its new path.
pub fn closing_step(gate: &GateResult) -> String {
    let files: Vec<String> = gate
        .checks
        .roots
        .iter()
        .map(|r| format!("kubectl apply -f {}", r.file))
        .collect();
    if files.is_empty() {
        return "one manual step left after the merge: re-apply your root Application from its new path".into();
    }
    format!(
        "one manual step left, right after the merge: re-apply the root Application from its new path ({}); until then the live root and ApplicationSets still read the old paths",
        files.join("; ")
    )
}

/// The gate against the base commit (the working tree is the "after" side), the user's acceptance applied.
pub fn gate_against_base(repo: &Path, base: &str, cluster: &str, plan: &Plan) -> Result<GateResult, UserError> {
    let before = apply::checkout_to_temp(repo, base)?;
    gate::run(&tree::Tree::load(before.path()), repo, cluster, plan, None)
}

/// Undo an unfinished migration: back to the start branch at the base commit, branch deleted.
pub fn abort(repo: &Path, ui: &Ui) -> Result<String, UserError> {
    require_git(repo)?;
    let jpath = journal_path(repo)?;
    let Some(st) = load_state(&jpath)? else {
        return Ok("no migration in progress".into());
    };
    if st.status == Status::Committed {
        return Err(UserError::usage(format!(
            "the migration is committed on branch {}; --abort only undoes an unfinished one",
            st.branch
        ))
        .next(format!(
            "delete the branch yourself if you do not want it (`git branch -D {}`); the next migrate then plans anew",
            st.branch
        )));
    }
    if current_branch(repo) == st.branch {
        git(repo, &["reset", "-q", "--hard", &st.base])?;
        // The cluster description the move wrote is untracked; nothing else is (the tree was clean).
        let written = format!("clusters/{}/cluster.yaml", st.cluster);
        git(repo, &["clean", "-q", "-f", "--", &written])?;
        git(repo, &["switch", "-q", &st.start_branch])?;
    }
    git(repo, &["branch", "-q", "-D", &st.branch])?;
    let _ = std::fs::remove_file(&jpath);
    ui.ok(&format!(
        "aborted: back on {}, branch {} deleted",
        st.start_branch, st.branch
    ));
    Ok(format!("aborted the migration on {}", st.branch))
}

/// The move plan of this repo's migration, if fleetctl ran one here (read from the journal).
pub fn recorded_plan(repo: &Path) -> Option<Plan> {
    let p = journal_path(repo).ok()?;
    load_state(&p).ok().flatten().map(|s| s.plan)
}

/// The gate's recorded "before" side of this repo's migration, if any (from the journal).
pub fn recorded_before(repo: &Path) -> Option<Vec<gate::Row>> {
    let p = journal_path(repo).ok()?;
    load_state(&p).ok().flatten().and_then(|s| s.before)
}
