//! `detect-backup-design`: which PVC backup design the fleet repo uses, read from Git.
//!
//! The brief says the backup design changed several times (Kyverno policies -> pvc-plumber -> VolSync
//! movers -> kopiur) and must be read from the live repo, never assumed. This scans every YAML document
//! under `clusters/` and `apps-shared/` for each design's fingerprints:
//!
//! - `kopiur`: objects of `kopiur.home-operations.com/*`, a PVC `dataSourceRef` with that apiGroup, or a
//!   `kopiur.home-operations.com/...` label key (the namespace label that selects a repository);
//! - `pvc-plumber`: any key or string value mentioning `pvc-plumber` (its labels, image, namespace);
//! - `volsync`: objects of `volsync.backube/*`.
//!
//! Exactly one design found is offered as the recommended answer of the decision (`recommendFrom`);
//! none or several leave the decision without a recommendation, so a person must answer it.

use crate::engine::kind::{Checked, Cx, Done, StepKind, StepPlan, Writes};
use crate::error::UserError;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

pub const DESIGNS: &[&str] = &["kopiur", "pvc-plumber", "volsync"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The decision's answer (`{{ answers.ID }}`); absent when used as `recommendFrom`.
    #[serde(default)]
    pub answer: Option<String>,
    /// Directories to scan, relative to the repo (default: clusters, apps-shared).
    #[serde(default)]
    pub paths: Vec<String>,
}

/// What was found: design -> files (relative, sorted) that show it.
#[derive(Debug, Default)]
pub struct Found(pub BTreeMap<&'static str, Vec<String>>);

impl Found {
    pub fn designs(&self) -> Vec<&'static str> {
        self.0.keys().copied().collect()
    }
    /// The only design found, if exactly one.
    pub fn single(&self) -> Option<&'static str> {
        (self.0.len() == 1).then(|| *self.0.keys().next().unwrap())
    }
    pub fn summary(&self) -> String {
        if self.0.is_empty() {
            return "no backup design found in the repo (no kopiur, pvc-plumber or VolSync objects)".into();
        }
        self.0
            .iter()
            .map(|(d, files)| {
                let shown: Vec<&str> = files.iter().take(3).map(String::as_str).collect();
                let more = if files.len() > 3 {
                    format!(" and {} more", files.len() - 3)
                } else {
                    String::new()
                };
                format!("{d} in {} file(s): {}{more}", files.len(), shown.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn fingerprints(v: &Value, hits: &mut Vec<&'static str>) {
    let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    if api.starts_with("kopiur.home-operations.com/") {
        hits.push("kopiur");
    }
    if api.starts_with("volsync.backube/") {
        hits.push("volsync");
    }
    if v.pointer("/spec/dataSourceRef/apiGroup").and_then(Value::as_str) == Some("kopiur.home-operations.com") {
        hits.push("kopiur");
    }
    fn walk(v: &Value, hits: &mut Vec<&'static str>) {
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    if k.contains("pvc-plumber") {
                        hits.push("pvc-plumber");
                    }
                    if k.starts_with("kopiur.home-operations.com/") {
                        hits.push("kopiur");
                    }
                    walk(c, hits);
                }
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, hits)),
            Value::String(s) if s.contains("pvc-plumber") => hits.push("pvc-plumber"),
            _ => {}
        }
    }
    walk(v, hits);
}

fn scan_dir(repo: &Path, dir: &Path, found: &mut Found) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            scan_dir(repo, &p, found);
            continue;
        }
        if !p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let mut hits = Vec::new();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            // A file kustomize would refuse is not evidence either way; skip it.
            if let Ok(v) = Value::deserialize(doc) {
                fingerprints(&v, &mut hits);
            }
        }
        hits.sort();
        hits.dedup();
        let rel = p.strip_prefix(repo).unwrap_or(&p).display().to_string();
        for h in hits {
            found.0.entry(h).or_default().push(rel.clone());
        }
    }
}

/// Scan the repo.
pub fn detect(repo: &Path, paths: &[String]) -> Found {
    let mut found = Found::default();
    let defaults = ["clusters".to_string(), "apps-shared".to_string()];
    let paths = if paths.is_empty() { &defaults[..] } else { paths };
    for p in paths {
        scan_dir(repo, &repo.join(p), &mut found);
    }
    found
}

pub struct DetectBackupDesign;

/// Reads only the repo: it runs in preflight (Git must match the decision before any write), as its step,
/// and as a decision's `recommendFrom`.
#[async_trait::async_trait]
impl StepKind for DetectBackupDesign {
    fn name(&self) -> &'static str {
        "detect-backup-design"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        parse(args).map(|_| ()).map_err(|e| e.cause)
    }
    fn writes(&self) -> Writes {
        Writes::Nothing
    }
    async fn preflight(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Checked, UserError> {
        confirm(cx.repo, args).map(|_| Checked::default())
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        confirm(cx.repo, args).map(Done::from)
    }
    fn recommends(&self) -> bool {
        true
    }
    fn recommend(&self, repo: &Path, args: &Value) -> Result<(Option<String>, String), UserError> {
        recommend(repo, args)
    }
}

fn parse(args: &Value) -> Result<Args, UserError> {
    let v = if args.is_null() {
        serde_json::json!({})
    } else {
        args.clone()
    };
    serde_json::from_value(v).map_err(|e| UserError::usage(format!("bad args for detect-backup-design: {e}")))
}

/// The recommended answer for a decision and the evidence to show with it.
pub fn recommend(repo: &Path, args: &Value) -> Result<(Option<String>, String), UserError> {
    let a = parse(args)?;

    let found = detect(repo, &a.paths);
    let note = match found.designs().len() {
        0 | 1 => format!("found in Git: {}", found.summary()),
        _ => format!(
            "the repo is ambiguous, confirm which design is live: {}",
            found.summary()
        ),
    };
    Ok((found.single().map(str::to_string), note))
}

/// The step: the decided design must be the one Git shows (one design, that one).
pub fn confirm(repo: &Path, args: &Value) -> Result<(u32, String), UserError> {
    let a = parse(args)?;
    let answer = a.answer.unwrap_or_default();
    let found = detect(repo, &a.paths);
    match found.single() {
        Some(d) if d == answer => Ok((0, format!("Git uses the {d} backup design ({})", found.summary()))),
        Some(d) => Err(
            UserError::usage(format!("the decided backup design is {answer}, but Git uses {d}"))
                .subject(found.summary())
                .next(format!(
                    "answer backup-design: {d} (or port the repo to {answer} first); nothing was written"
                )),
        ),
        None if found.0.is_empty() => Err(UserError::usage(format!(
            "the decided backup design is {answer}, but Git shows no backup design at all"
        ))
        .subject("clusters/, apps-shared/")
        .next("add the backup manifests (docs/phase-5.md) and commit, then run phase 5 again; nothing was written")),
        None if found.0.contains_key(answer.as_str()) => Ok((
            0,
            format!(
                "Git shows several designs; {answer} confirmed at the decision point ({})",
                found.summary()
            ),
        )),
        None => Err(UserError::usage(format!(
            "the decided backup design is {answer}, which Git does not show"
        ))
        .subject(found.summary())
        .next("answer with one of the designs Git shows; nothing was written")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn each_design_is_recognised_by_its_fingerprints() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "apps-shared/a/base/pvc.yaml",
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec:\n  dataSourceRef: {apiGroup: kopiur.home-operations.com, kind: Restore, name: r}\n",
        );
        let f = detect(d.path(), &[]);
        assert_eq!(f.single(), Some("kopiur"));
        write(
            d.path(),
            "clusters/x/app/pvc.yaml",
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: d\n  labels: {backup.pvc-plumber.io/enabled: \"true\"}\n",
        );
        let f = detect(d.path(), &[]);
        assert_eq!(f.designs(), vec!["kopiur", "pvc-plumber"]);
        assert_eq!(f.single(), None);
        let (rec, note) = recommend(d.path(), &serde_json::json!({})).unwrap();
        assert_eq!(rec, None);
        assert!(note.contains("ambiguous"), "{note}");
    }

    #[test]
    fn a_mismatching_answer_stops_naming_what_git_uses() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "clusters/x/rs.yaml",
            "apiVersion: volsync.backube/v1alpha1\nkind: ReplicationSource\nmetadata: {name: a}\n",
        );
        let e = confirm(d.path(), &serde_json::json!({"answer": "kopiur"})).unwrap_err();
        assert!(e.cause.contains("Git uses volsync"), "{}", e.cause);
        assert!(confirm(d.path(), &serde_json::json!({"answer": "volsync"})).is_ok());
        let empty = tempfile::tempdir().unwrap();
        assert!(confirm(empty.path(), &serde_json::json!({"answer": "kopiur"})).is_err());
    }
}
