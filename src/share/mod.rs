//! `fleetctl share APP`: the brief's Phase 3 refactor of an existing app into
//! `apps-shared/<app>/{base,overlays/<cluster>}`, on a new branch, behind a zero-churn gate
//! (docs/share.md):
//! - the source cluster's overlay renders byte-identical to the old app;
//! - every other cluster's overlay differs only in the deltas the brief allows, proved by the
//!   overlay-delta rule;
//! - the old entry leaves its ApplicationSet in the same commit, the shared ApplicationSet picks the
//!   app up with the same destination, every other generated Application stays the same, and the old
//!   ApplicationSet preserves resources on deletion, so Argo CD hands the objects over instead of
//!   deleting and recreating them (handoff.rs).
//!
//! The work happens in a temporary `git worktree` on the new branch: the user's checkout is never
//! touched, and a refusal leaves no branch behind.

mod gate;
mod handoff;
pub mod overlay;
mod yamledit;

pub use gate::Gate;

use crate::appset::{self, GeneratedApp};
use crate::error::UserError;
use crate::fleet::cluster::ClusterSpec;
use crate::migrate::{self, kustom, tree};
use std::path::{Path, PathBuf};

/// What the user asked.
pub struct Options {
    pub repo: PathBuf,
    pub app: String,
    /// The app's directory, when the name alone is ambiguous.
    pub from: Option<String>,
    /// The source cluster of a legacy (root-level) app.
    pub cluster: String,
    pub dry_run: bool,
}

/// What happened.
pub struct Shared {
    pub old_dir: String,
    pub branch: String,
    /// `None` on a dry run.
    pub commit: Option<String>,
    pub gate: Gate,
    pub diffstat: String,
}

/// The app's directory: `--from`, or the one kustomization directory named `app` outside apps-shared/.
fn locate(repo: &Path, app: &str, from: Option<&str>) -> Result<String, UserError> {
    let t = tree::Tree::load(repo);
    if let Some(f) = from {
        let d = tree::normalize(f.trim_end_matches('/')).unwrap_or_default();
        if d.is_empty() || kustom::file_in(&t, &d).is_none() {
            return Err(
                UserError::usage(format!("{f} is not a kustomization directory of the repo"))
                    .subject(repo.join(f).display().to_string())
                    .next("pass --from with the app's directory, relative to the repo root"),
            );
        }
        return Ok(d);
    }
    let found: Vec<&String> = t
        .dirs
        .iter()
        .filter(|d| d.rsplit('/').next() == Some(app) && !d.starts_with("apps-shared/"))
        .filter(|d| kustom::file_in(&t, d).is_some())
        .collect();
    match found.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(
            UserError::usage(format!("no kustomization directory named {app} in the repo"))
                .subject(repo.display().to_string())
                .next("check the name (e.g. my-apps/<category>/<app>), or pass --from DIR"),
        ),
        many => Err(UserError::usage(format!(
            "{app} names several directories: {}",
            many.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
        ))
        .next("pass --from with the one to share")),
    }
}

/// The cluster the old app belongs to: its `clusters/<name>/` directory, else `--cluster`.
fn source_cluster(old_dir: &str, default: &str) -> String {
    match old_dir.split('/').collect::<Vec<_>>().as_slice() {
        ["clusters", c, _, ..] => c.to_string(),
        _ => default.to_string(),
    }
}

/// Remove the temporary worktree (and the branch, unless `keep_branch`).
struct Worktree<'a> {
    repo: &'a Path,
    path: PathBuf,
    branch: String,
    keep_branch: bool,
    _dir: tempfile::TempDir,
}

impl Drop for Worktree<'_> {
    fn drop(&mut self) {
        let p = self.path.to_string_lossy().into_owned();
        let _ = migrate::git(self.repo, &["worktree", "remove", "--force", &p]);
        let _ = migrate::git(self.repo, &["worktree", "prune"]);
        if !self.keep_branch {
            let _ = migrate::git(self.repo, &["branch", "-q", "-D", &self.branch]);
        }
    }
}

/// Share one app: locate it, check the hand-off, write the new tree on a branch, gate it, commit.
pub fn run(opts: &Options) -> Result<Shared, UserError> {
    let repo = &opts.repo;
    migrate::require_git(repo)?;
    crate::fleet::scaffold::dns1123_label(&opts.app)
        .map_err(|e| UserError::usage(format!("app name {}: {e}", opts.app)).next("name the app's directory"))?;
    if repo.join("apps-shared").join(&opts.app).exists() {
        return Err(UserError::usage(format!("apps-shared/{} already exists", opts.app))
            .subject(repo.join("apps-shared").join(&opts.app).display().to_string())
            .next("the app is shared already; edit its overlays instead"));
    }
    let old_dir = locate(repo, &opts.app, opts.from.as_deref())?;
    let src_cluster = source_cluster(&old_dir, &opts.cluster);
    let targets: Vec<(String, ClusterSpec)> = ClusterSpec::list(repo)
        .into_iter()
        .filter(|c| *c != src_cluster)
        .map(|c| ClusterSpec::load(repo, &c).map(|s| (c, s)))
        .collect::<Result<_, _>>()?;
    if targets.is_empty() {
        return Err(UserError::usage(format!(
            "no cluster besides {src_cluster} has a clusters/<name>/cluster.yaml to share {} with",
            opts.app
        ))
        .next("add one first: `fleetctl cluster new NAME --platform openshift ...`"));
    }
    let branch = format!("fleetctl/share-{}", opts.app);
    clear_interrupted(repo, &branch)?;
    if migrate::git(
        repo,
        &["rev-parse", "--verify", "--quiet", &format!("refs/heads/{branch}")],
    )
    .is_ok()
    {
        return Err(
            UserError::usage(format!("branch {branch} already exists")).next(format!(
                "review or merge it, or delete it (`git branch -D {branch}`); nothing was changed"
            )),
        );
    }
    let dir = tempfile::tempdir().map_err(|e| UserError::failed(format!("cannot create a temp dir: {e}")))?;
    let path = dir.path().join("worktree");
    let p = path.to_string_lossy().into_owned();
    migrate::git(repo, &["worktree", "add", "-q", "-b", &branch, &p, "HEAD"])?;
    let mut wt = Worktree {
        repo,
        path,
        branch: branch.clone(),
        keep_branch: false,
        _dir: dir,
    };
    let source = SourceInfo {
        spec: ClusterSpec::load(repo, &src_cluster).ok(),
        cluster: src_cluster,
        old_dir: old_dir.clone(),
    };
    let gate = write_and_gate(&wt.path, &opts.app, &source, &targets)?;
    if !gate.passed() {
        return Err(gate.refusal());
    }
    migrate::git(&wt.path, &["add", "-A"])?;
    let diffstat = migrate::git(&wt.path, &["diff", "--cached", "--stat"])?;
    if opts.dry_run {
        return Ok(Shared {
            old_dir,
            branch,
            commit: None,
            gate,
            diffstat,
        });
    }
    let msg = format!(
        "share {app}: {old_dir} -> apps-shared/{app} (fleetctl share)\n\n{}",
        gate.summary_lines().join("\n"),
        app = opts.app
    );
    migrate::git(&wt.path, &["commit", "-q", "-m", &msg])?;
    let commit = migrate::git(&wt.path, &["rev-parse", "HEAD"])?;
    wt.keep_branch = true;
    Ok(Shared {
        old_dir,
        branch,
        commit: Some(commit),
        gate,
        diffstat,
    })
}

/// A share that was killed before it finished leaves its temporary worktree (in the temp directory) on its
/// branch, with nothing committed: remove both. A branch without such a worktree is a finished share and
/// stays.
fn clear_interrupted(repo: &Path, branch: &str) -> Result<(), UserError> {
    let list = migrate::git(repo, &["worktree", "list", "--porcelain"])?;
    let tmp = std::fs::canonicalize(std::env::temp_dir()).unwrap_or_else(|_| std::env::temp_dir());
    let mut path = None;
    for line in list.lines() {
        if let Some(p) = line.strip_prefix("worktree ") {
            path = Some(PathBuf::from(p));
        } else if line == format!("branch refs/heads/{branch}") {
            let Some(p) = path.take().filter(|p| p.starts_with(&tmp)) else {
                continue;
            };
            let p = p.to_string_lossy().into_owned();
            migrate::git(repo, &["worktree", "remove", "--force", &p])?;
            migrate::git(repo, &["branch", "-q", "-D", branch])?;
            eprintln!("note: removed the unfinished share left by an interrupted run (branch {branch}, worktree {p})");
        }
    }
    let _ = migrate::git(repo, &["worktree", "prune"]);
    Ok(())
}

/// The old app's place.
pub struct SourceInfo {
    pub cluster: String,
    pub spec: Option<ClusterSpec>,
    pub old_dir: String,
}

/// Before: render the old app and expand the source cluster's ApplicationSets; then write the new tree,
/// exclude the old entry, and gate the result.
fn write_and_gate(
    wt: &Path,
    app: &str,
    src: &SourceInfo,
    targets: &[(String, ClusterSpec)],
) -> Result<Gate, UserError> {
    let sets = migrate::gate::of_cluster(appset::load_appsets(wt, None)?, &src.cluster);
    let before_apps = appset::generate(wt, &sets)?;
    let old_app = owner_of(&before_apps, &src.old_dir, &src.cluster)?;
    let set = sets
        .iter()
        .find(|s| s.name == old_app.appset && s.path == old_app.appset_file)
        .ok_or_else(|| UserError::failed(format!("ApplicationSet {} vanished while reading", old_app.appset)))?;
    if let Some(risk) = handoff::cascade_risk(set) {
        return Err(handoff::refusal(set, &old_app.name, &risk));
    }
    let render = gate::Renderer::new(wt)?;
    let old_text = render.text(&wt.join(&src.old_dir)).map_err(|e| UserError {
        cause: format!("the app does not render before the move: {}", e.cause),
        ..e
    })?;
    let objects = crate::fleet::render::parse_multi_doc(&old_text)?;

    // The new tree.
    let base = format!("apps-shared/{app}/base");
    let outside = copy_with_refs(wt, &src.old_dir, &base)?;
    let src_overlay = overlay::Source {
        dir: &src.cluster,
        platform: src
            .spec
            .as_ref()
            .map_or(crate::fleet::cluster::Platform::Talos, |s| s.platform),
        apps_domain: src.spec.as_ref().map(|s| s.apps_domain.as_str()),
    };
    let mut fields = overlay::specific_fields(&objects);
    neutralize(wt, app, &base, &mut fields)?;
    write(
        wt,
        &format!("apps-shared/{app}/overlays/{}/kustomization.yaml", src.cluster),
        &overlay::source_overlay(app, &src_overlay, &src.old_dir, &fields),
    )?;
    let mut allow = Vec::new();
    for (dir, spec) in targets {
        let o = overlay::target_overlay(app, &fields, &objects, &src_overlay, dir, spec);
        write(
            wt,
            &format!("apps-shared/{app}/overlays/{dir}/kustomization.yaml"),
            &o.kustomization,
        )?;
        allow.extend(o.allow);
    }
    if !allow.is_empty() {
        write(
            wt,
            &format!("apps-shared/{app}/overlay-delta.yaml"),
            &overlay::overlay_delta_text(app, &allow),
        )?;
    }
    // The old entry leaves its ApplicationSet; the old directory goes (history follows it with git's rename
    // detection).
    let file = wt.join(&set.path);
    let text = std::fs::read_to_string(&file)
        .map_err(|e| UserError::failed(format!("cannot read {}: {e}", set.path.display())))?;
    let note = format!("shared: apps-shared/{app}/overlays/{} (fleetctl share)", src.cluster);
    let (text, line) = handoff::exclude(&text, set, &src.old_dir, &note)?;
    write(wt, &set.path.to_string_lossy(), &text)?;
    migrate::git(wt, &["rm", "-r", "-q", &src.old_dir])?;

    let mut gate = gate::check(gate::Inputs {
        wt,
        app,
        src,
        targets,
        render: &render,
        old_text: &old_text,
        old_app,
        before_apps: &before_apps,
        exclusion: format!("{}:{line}", set.path.display()),
    })?;
    gate.notes.extend(
        outside
            .into_iter()
            .map(|o| format!("the base still reads {o}, outside apps-shared/{app} (consider apps-shared/components/)")),
    );
    Ok(gate)
}

/// Take each cluster-specific field out of the base's files where a checked edit can (yamledit.rs); a field
/// that cannot be taken out stays in the base (and the gate still proves the render).
fn neutralize(wt: &Path, app: &str, base: &str, fields: &mut [overlay::Field]) -> Result<(), UserError> {
    let mut files: Vec<(String, String, bool)> = tree::Tree::load(wt)
        .files_under(base)
        .filter(|f| f.ends_with(".yaml") || f.ends_with(".yml"))
        .filter_map(|f| Some((f.clone(), std::fs::read_to_string(wt.join(f)).ok()?, false)))
        .collect();
    for f in fields.iter_mut() {
        for (_, text, changed) in files.iter_mut() {
            let edited = match overlay::neutral_value(app, f) {
                Some((inline, v)) => {
                    yamledit::edit(text, &f.kind, &f.name, &f.pointer, yamledit::Op::Replace(&inline, v))
                }
                None => yamledit::edit(text, &f.kind, &f.name, &f.pointer, yamledit::Op::Delete),
            };
            if let Some(new) = edited {
                *text = new;
                *changed = true;
                f.neutralized = true;
                break;
            }
        }
    }
    for (file, text, _) in files.iter().filter(|(_, _, changed)| *changed) {
        write(wt, file, text)?;
    }
    Ok(())
}

/// The one Application of the source cluster whose source is `dir`.
fn owner_of<'a>(apps: &'a [GeneratedApp], dir: &str, cluster: &str) -> Result<&'a GeneratedApp, UserError> {
    let owners: Vec<&GeneratedApp> = apps
        .iter()
        .filter(|a| a.rendered_sources().iter().any(|s| s.path.trim_end_matches('/') == dir))
        .collect();
    match owners.as_slice() {
        [one] => Ok(one),
        [] => Err(UserError::usage(format!(
            "no ApplicationSet of cluster {cluster} generates an Application from {dir}"
        ))
        .next("share moves apps an ApplicationSet deploys; check `fleetctl appset generate` (or pass --cluster)")),
        many => Err(UserError::usage(format!(
            "{dir} is deployed by several Applications ({}); share would not know which to hand over",
            many.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")
        ))
        .next("leave one owner first")),
    }
}

/// Copy every file of `from` to `to` (repo-relative), repointing each kustomization's relative paths that
/// lead outside the app; returns those outside paths.
fn copy_with_refs(wt: &Path, from: &str, to: &str) -> Result<Vec<String>, UserError> {
    let mut outside = Vec::new();
    let before = tree::Tree::load(wt);
    let plan = migrate::Plan {
        moves: vec![migrate::Move {
            id: "share".into(),
            from: from.into(),
            to: to.into(),
            default: to.into(),
            file: false,
        }],
    };
    let files: Vec<String> = before.files_under(from).cloned().collect();
    let kfiles = kustom::all_files(&before);
    for f in &files {
        let dest = plan.map(f);
        let bytes = std::fs::read(wt.join(f)).map_err(|e| UserError::failed(format!("cannot read {f}: {e}")))?;
        let is_kustomization = kfiles.contains(f);
        let bytes = if is_kustomization {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let new = kustom::rewrite_refs(&text, &plan, &before, f, &dest).0;
            let k: serde_json::Value = serde_yaml::from_str(&new).unwrap_or_default();
            let app_dir = tree::parent(to);
            outside.extend(
                kustom::local_refs(&k)
                    .into_iter()
                    .filter_map(|r| tree::join(tree::parent(&dest), &r))
                    .filter(|t| !crate::migrate::plan::under(app_dir, t)),
            );
            new.into_bytes()
        } else {
            bytes
        };
        write_bytes(wt, &dest, &bytes)?;
    }
    Ok(outside)
}

fn write(wt: &Path, rel: &str, text: &str) -> Result<(), UserError> {
    write_bytes(wt, rel, text.as_bytes())
}

fn write_bytes(wt: &Path, rel: &str, bytes: &[u8]) -> Result<(), UserError> {
    let p = wt.join(rel);
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).map_err(|e| UserError::failed(format!("cannot create {}: {e}", d.display())))?;
    }
    std::fs::write(&p, bytes).map_err(|e| UserError::failed(format!("cannot write {rel}: {e}")))
}
