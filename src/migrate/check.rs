//! The gate beyond the generated Applications (docs/phase-4.md): (b) the hand-applied root Application(s),
//! (c) every kustomization root, (d) every `argocd.argoproj.io/manifest-generate-paths` annotation, and
//! (e) every path named in live config (scripts, CI workflows, Renovate config, other YAML), each compared
//! between the base commit and the branch. What does not hold is a [`Finding`] with its file:line.

use super::kustom::{self, Compared};
use super::plan::{self, Plan};
use super::tree::{self, Tree};
use super::{patterns, refs};
use crate::appset::GeneratedApp;
use crate::error::UserError;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub const MGP: &str = "argocd.argoproj.io/manifest-generate-paths";

/// Something the move would break and fleetctl could not repoint safely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `b` root, `c` kustomization, `d` manifest-generate-paths, `e` live config.
    pub check: char,
    pub file: String,
    pub line: usize,
    pub what: String,
    /// The user may answer that it is acceptable (`p4-accept-refs`); a broken root never is.
    pub acceptable: bool,
}

impl Finding {
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// A hand-applied Application: applied by a person or a script, not synced from any kustomization.
#[derive(Debug, Clone, Serialize)]
pub struct Root {
    pub name: String,
    /// Its file on the branch (where to re-apply it from).
    pub file: String,
    /// Its source path on the branch.
    pub path: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub lines: Vec<String>,
    pub findings: Vec<Finding>,
    pub roots: Vec<Root>,
}

fn yaml_docs(t: &Tree, f: &str) -> Vec<(usize, Value)> {
    let Some(text) = t.read(f) else { return vec![] };
    let mut out = Vec::new();
    let mut line = 1;
    for chunk in split_docs(&text) {
        if let Ok(v) = serde_yaml::from_str::<Value>(chunk) {
            if v.is_object() {
                out.push((line, v));
            }
        }
        line += chunk.matches('\n').count();
    }
    out
}

fn split_docs(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for l in text.split_inclusive('\n') {
        if l.trim_end() == "---" {
            out.push(&text[start..pos]);
            start = pos;
        }
        pos += l.len();
    }
    out.push(&text[start..]);
    out
}

fn is_yaml(f: &str) -> bool {
    f.ends_with(".yaml") || f.ends_with(".yml")
}

fn is_app(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("Application")
        && v.get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("argoproj.io/"))
}

fn source_paths(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .pointer("/spec/source/path")
        .and_then(Value::as_str)
        .map(str::to_string)
        .into_iter()
        .collect();
    for s in v
        .pointer("/spec/sources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(p) = s.get("path").and_then(Value::as_str) {
            out.push(p.to_string());
        }
    }
    out
}

/// Files some kustomization lists (they are synced, not applied by hand).
fn listed_files(t: &Tree) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for kf in kustom::all_files(t) {
        let k: Value = serde_yaml::from_str(&t.read(&kf).unwrap_or_default()).unwrap_or(Value::Null);
        for r in kustom::local_refs(&k) {
            if let Some(p) = tree::join(tree::parent(&kf), &r) {
                out.insert(p);
            }
        }
    }
    out
}

/// The hand-applied Applications of the base commit: (file, line, object).
pub fn hand_applied(t: &Tree) -> Vec<(String, usize, Value)> {
    let listed = listed_files(t);
    let mut out = Vec::new();
    for f in t
        .files
        .iter()
        .filter(|f| is_yaml(f) && !listed.contains(*f) && !f.starts_with('.'))
    {
        let Some(text) = t.read(f) else { continue };
        if !text.contains("Application") {
            continue;
        }
        for (line, v) in yaml_docs(t, f) {
            if is_app(&v) && !source_paths(&v).is_empty() {
                out.push((f.clone(), line, v));
            }
        }
    }
    out
}

/// (c) every kustomization root; returns the per-root result too (the roots check reads it).
fn check_kustomizations(before: &Tree, after: &Tree, plan: &Plan, r: &mut Report) -> BTreeMap<String, Compared> {
    let helm = kustom::helm_on_path();
    let roots = kustom::roots(before);
    let results: Vec<(String, Compared)> =
        parallel(&roots, |root| kustom::compare_root(before, after, plan, root, helm));
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    for (root, c) in &results {
        let key = match c {
            Compared::SameInputs => "same inputs",
            Compared::Rendered => "rendered",
            Compared::HelmByInputs => "helm",
            Compared::BrokenBefore => "broken before",
            Compared::Differs(what) => {
                let new = plan.map(root);
                r.findings.push(Finding {
                    check: 'c',
                    file: kustom::file_in(after, &new).unwrap_or(new),
                    line: 1,
                    what: what.clone(),
                    acceptable: true,
                });
                "differs"
            }
        };
        *tally.entry(key).or_default() += 1;
    }
    let n = |k: &str| tally.get(k).copied().unwrap_or(0);
    let mut line = format!(
        "(c) {} kustomization roots: {} with identical inputs (same output), {} rendered before and after, identical except repointed paths",
        roots.len(),
        n("same inputs"),
        n("rendered")
    );
    if n("helm") > 0 {
        line.push_str(&format!(
            ", {} with helmCharts compared by their inputs (helm is not on PATH, so they were not rendered)",
            n("helm")
        ));
    }
    if n("broken before") > 0 {
        line.push_str(&format!(
            ", {} did not render before the move either (not compared)",
            n("broken before")
        ));
    }
    if n("differs") > 0 {
        line.push_str(&format!(", {} DIFFER", n("differs")));
    }
    r.lines.push(line);
    results.into_iter().collect()
}

/// Run `f` over `items` on a few threads (kustomize renders are the gate's cost).
fn parallel<T: Send>(items: &[String], f: impl Fn(&str) -> T + Sync) -> Vec<(String, T)> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let out = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let v = f(item);
                out.lock().expect("no panic while held").push((i, item.clone(), v));
            });
        }
    });
    let mut v = out.into_inner().expect("no panic while held");
    v.sort_by_key(|(i, _, _)| *i);
    v.into_iter().map(|(_, k, x)| (k, x)).collect()
}

/// (b) the hand-applied roots: found again on the branch, pointing at the mapped path, which renders
/// with output identical except repointed paths.
fn check_roots(before: &Tree, after: &Tree, plan: &Plan, kust: &BTreeMap<String, Compared>, r: &mut Report) {
    for (file, line, v) in hand_applied(before) {
        let name = v
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let new_file = plan.map(&file);
        let now = yaml_docs(after, &new_file)
            .into_iter()
            .find(|(_, d)| is_app(d) && d.pointer("/metadata/name").and_then(Value::as_str) == Some(&name));
        let mut fail = |what: String, l: usize| {
            r.findings.push(Finding {
                check: 'b',
                file: new_file.clone(),
                line: l,
                what: format!("root Application {name}: {what}"),
                acceptable: false,
            })
        };
        let Some((new_line, nv)) = now else {
            fail(format!("gone from {new_file} (it was at {file}:{line})"), 1);
            continue;
        };
        let (old_paths, new_paths) = (source_paths(&v), source_paths(&nv));
        let mut ok = true;
        for (op, np) in old_paths.iter().zip(&new_paths) {
            let want = plan.map(op);
            if *np != want {
                fail(format!("source path {np}, expected {want}"), new_line);
                ok = false;
            } else if !after.is_dir(np) {
                fail(format!("source path {np} does not exist on the branch"), new_line);
                ok = false;
            } else if let Some(Compared::Differs(what)) = kust.get(op.as_str()) {
                fail(format!("{np} {what}"), new_line);
                ok = false;
            } else if kustom::file_in(before, op).is_none()
                && plain_dir(before, op, plan) != plain_dir(after, np, &Plan::default())
            {
                fail(format!("the manifests in {np} differ beyond repointed paths"), new_line);
                ok = false;
            }
        }
        if ok {
            r.lines.push(format!(
                "(b) root Application {name} ({new_file}): path {} exists and renders; its output is identical except repointed paths",
                new_paths.join(", ")
            ));
        }
        r.roots.push(Root {
            name,
            file: new_file.clone(),
            path: new_paths.join(", "),
        });
    }
    if r.roots.is_empty() {
        r.lines
            .push("(b) no hand-applied root Application found (every Application is synced from Git)".into());
    }
}

/// A plain directory source (no kustomization): its YAML files in order, "before" side mapped.
fn plain_dir(t: &Tree, dir: &str, plan: &Plan) -> String {
    let mut s = String::new();
    for f in t.files_under(dir).filter(|f| is_yaml(f) && tree::parent(f) == dir) {
        s.push_str(&kustom::normalize_render(&t.read(f).unwrap_or_default(), plan));
    }
    s
}

/// (d) every manifest-generate-paths annotation of every Application on the branch resolves.
fn check_mgp(after: &Tree, plan: &Plan, generated: &[GeneratedApp], r: &mut Report) {
    let mut apps: Vec<(String, usize, String, String)> = generated
        .iter()
        .filter_map(|a| {
            a.annotations
                .get(MGP)
                .map(|v| (a.appset_file.display().to_string(), 1, a.source.path.clone(), v.clone()))
        })
        .collect();
    for f in after.files.iter().filter(|f| is_yaml(f) && !f.starts_with('.')) {
        if !after.read(f).is_some_and(|t| t.contains(MGP)) {
            continue;
        }
        for (line, v) in yaml_docs(after, f) {
            let ann = v
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(MGP))
                .and_then(Value::as_str);
            if let (true, Some(ann)) = (is_app(&v), ann) {
                for p in source_paths(&v) {
                    apps.push((f.clone(), line, p, ann.to_string()));
                }
            }
        }
    }
    let relevant = |p: &str| {
        plan.moves
            .iter()
            .any(|m| super::plan::under(&m.from, p) || super::plan::under(&m.to, p))
    };
    let mut checked = 0;
    for (file, line, source, value) in &apps {
        for entry in value.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            checked += 1;
            let p = match entry.strip_prefix('/') {
                Some(abs) => tree::normalize(abs),
                None => tree::join(source, entry),
            };
            let Some(p) = p else { continue };
            if !after.exists(&p) && relevant(&p) {
                r.findings.push(Finding {
                    check: 'd',
                    file: file.clone(),
                    line: *line,
                    what: format!("{MGP} entry '{entry}' (for source path {source}) names {p}, which does not exist on the branch"),
                    acceptable: true,
                });
            }
        }
    }
    r.lines.push(format!(
        "(d) {checked} manifest-generate-paths entries on {} Applications checked",
        apps.len()
    ));
}

/// Whether a file is live config whose paths the move may break.
pub fn is_live_config(path: &str, text: &str) -> bool {
    if path.ends_with(".md") || path.starts_with(".git/") {
        return false;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    if patterns::is_workflow(path) || patterns::is_renovate(path) {
        return true;
    }
    if [".sh", ".bash", ".zsh"].iter().any(|e| name.ends_with(e)) || text.starts_with("#!") {
        return true;
    }
    if matches!(
        name,
        "Makefile" | "justfile" | "Taskfile.yml" | "Taskfile.yaml" | ".pre-commit-config.yaml"
    ) {
        return true;
    }
    // YAML that is not a Kubernetes manifest (Helm values, tool configs).
    is_yaml(path)
        && !kustom::NAMES.contains(&name)
        && !text
            .lines()
            .any(|l| l.starts_with("apiVersion:") || l.starts_with("kind:"))
}

/// (e) every path named by live config on the branch exists.
fn check_live(before: &Tree, after: &Tree, plan: &Plan, r: &mut Report) {
    let back: BTreeMap<String, &String> = before.files.iter().map(|f| (plan.map(f), f)).collect();
    let mut files = 0;
    for f in &after.files {
        let Some(text) = after.read(f) else { continue };
        if !is_live_config(f, &text) {
            continue;
        }
        files += 1;
        let old = back.get(f).map(|s| s.as_str());
        let old_text = old.and_then(|o| before.read(o));
        for s in refs::check_text(&text, old_text.as_deref(), plan, (before, after), (old.unwrap_or(f), f)) {
            let what = match &s.built_from {
                Some((var, l)) => format!(
                    "`{}` resolves to {}, which does not exist on the branch: the path is built from ${var} (assigned on line {l}), which fleetctl cannot repoint safely; edit it by hand",
                    s.text.trim(), s.path
                ),
                None => format!("`{}` names {}, which does not exist on the branch", s.text.trim(), s.path),
            };
            // Where the user finds it before the move (a preview runs on a scratch copy).
            let same_lines = old_text
                .as_deref()
                .is_some_and(|o| o.lines().count() == text.lines().count());
            let what = match old {
                Some(o) if o != f && same_lines => format!("{what} (in the repo today: {o}:{})", s.line),
                _ => what,
            };
            r.findings.push(Finding {
                check: 'e',
                file: f.clone(),
                line: s.line,
                what,
                acceptable: true,
            });
        }
        if let (Some(o), Some(ot)) = (old, old_text.as_deref()) {
            if patterns::is_workflow(f) || patterns::is_renovate(f) {
                for (line, what) in patterns::check(plan, (before, after), ot, &text, (o, f)) {
                    r.findings.push(Finding {
                        check: 'e',
                        file: f.clone(),
                        line,
                        what,
                        acceptable: true,
                    });
                }
            }
        }
    }
    let n = r.findings.iter().filter(|x| x.check == 'e').count();
    r.lines.push(format!(
        "(e) {files} live config files (scripts, CI workflows, Renovate config, other YAML): {}",
        if n == 0 {
            "every path they name exists".to_string()
        } else {
            format!("{n} stale references")
        }
    ));
}

/// Run checks (b) to (e).
pub fn run(before: &Tree, after: &Tree, plan: &Plan, generated_after: &[GeneratedApp]) -> Report {
    let mut r = Report::default();
    let kust = check_kustomizations(before, after, plan, &mut r);
    check_roots(before, after, plan, &kust, &mut r);
    check_mgp(after, plan, generated_after, &mut r);
    check_live(before, after, plan, &mut r);
    // (b) first in the summary, as in the docs.
    r.lines.sort();
    r
}

/// A destination that would break a hand-applied root Application is refused before anything moves: its
/// source folder must not land where an ApplicationSet generator would pick it up as an app, and a root
/// whose folder is a plain directory (no kustomization) must not land inside the folder it syncs.
pub fn roots_survive(repo: &Path, legacy: &plan::Legacy, plan: &Plan) -> Result<(), UserError> {
    let t = Tree::load(repo);
    for (file, line, v) in hand_applied(&t) {
        let name = v.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
        let Some(path) = v.pointer("/spec/source/path").and_then(Value::as_str) else {
            continue;
        };
        let to = plan.map(path);
        let answer = plan
            .moves
            .iter()
            .filter(|m| plan::under(&m.from, path) && m.from != m.to)
            .max_by_key(|m| m.from.len())
            .map(|m| m.id.clone())
            .unwrap_or_else(|| "p4-dest-*".into());
        for set in &legacy.appsets {
            let dirs = plan::generator_dirs(&set.object);
            let matches = |exclude: bool| {
                dirs.iter().filter(move |(_, x)| *x == exclude).find_map(|(g, _)| {
                    let (mapped, _) = plan.map_pattern(g).ok()?;
                    crate::appset::pathmatch::Pattern::new(&mapped)
                        .ok()?
                        .matches(&to)
                        .then_some(mapped)
                })
            };
            if let (Some(mapped), None) = (matches(false), matches(true)) {
                {
                    return Err(UserError::usage(format!(
                        "{answer} would break the root Application {name} ({file}:{line}): its folder would land at {to}, which ApplicationSet {} generates Applications from ({mapped})",
                        set.name
                    ))
                    .next(format!("answer another destination for {answer}")));
                }
            }
        }
        let root_file = plan.map(&file);
        if kustom::file_in(&t, path).is_none() && plan::under(&to, &root_file) && !plan::under(path, &file) {
            return Err(UserError::usage(format!(
                "{answer} would break the root Application {name} ({file}:{line}): it would land inside {to}, the plain folder it syncs, and sync itself"
            ))
            .next(format!("answer another destination for {answer}")));
        }
    }
    Ok(())
}
