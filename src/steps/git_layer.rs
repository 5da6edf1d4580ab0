//! `git-layer {cluster, layer}`: Git turns on this phase's layer. The layers of a cluster are kustomization
//! directories `clusters/<cluster>/layers/<layer>` (each includes the one before); the root Application syncs
//! `clusters/<cluster>/apps`, whose kustomization names exactly one of them: the layer switch. Which layer is
//! live is therefore in Git and nowhere else (docs/multicluster-prd.md, "Layers").
//!
//! The step reads only the repo. When Git is behind (it names an earlier layer) it stops before any write with
//! the one-line change to commit; a phase never turns a layer on by itself. Its plan reports what the layer
//! makes live, so preflight refuses it while a decision governing one of those directories is unanswered.

use super::live_paths::live_paths;
use crate::engine::kind::{Checked, Cx, Done, PlanCx, StepKind, StepPlan, Writes};
use crate::error::UserError;
use crate::fleet::render::Kustomize;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub struct GitLayer;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    cluster: String,
    layer: String,
}

fn parse(args: &Value) -> Result<Args, UserError> {
    serde_json::from_value(args.clone()).map_err(|e| UserError::usage(format!("bad args for git-layer: {e}")))
}

/// The layer switch of a cluster (relative to the repo).
pub fn switch_file(cluster: &str) -> PathBuf {
    Path::new("clusters").join(cluster).join("apps/kustomization.yaml")
}

/// A layer's rank: the number in `phase-N`.
fn rank(layer: &str) -> Result<u32, String> {
    layer
        .strip_prefix("phase-")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("layer '{layer}' is not named phase-N"))
}

/// The layer Git turns on now (the one `../layers/<name>` the switch lists).
pub fn current(repo: &Path, cluster: &str) -> Result<String, UserError> {
    let file = switch_file(cluster);
    let bad = |m: String| {
        UserError::usage(m)
            .subject(file.display().to_string())
            .next("list exactly one layer: `resources: [../layers/phase-N]` (docs/multicluster-prd.md, \"Layers\")")
    };
    let text =
        std::fs::read_to_string(repo.join(&file)).map_err(|e| bad(format!("cannot read the layer switch: {e}")))?;
    let k: Value = serde_yaml::from_str(&text).map_err(|e| bad(format!("the layer switch is not YAML: {e}")))?;
    let layers: Vec<String> = k["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|r| r.trim_end_matches('/').strip_prefix("../layers/").map(str::to_string))
        .collect();
    match layers.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(bad(format!(
            "the layer switch must list exactly one ../layers/<layer>, it lists {}",
            layers.len()
        ))),
    }
}

/// Rewrites the switch to `layer` (rehearsals, which play the owner's commit on their own copy of the fleet).
pub fn set_switch(repo: &Path, cluster: &str, layer: &str) -> Result<(), UserError> {
    let now = current(repo, cluster)?;
    let file = repo.join(switch_file(cluster));
    let text = std::fs::read_to_string(&file).map_err(|e| UserError::failed(e.to_string()))?;
    let text = text.replace(&format!("../layers/{now}"), &format!("../layers/{layer}"));
    std::fs::write(&file, text).map_err(|e| UserError::failed(format!("cannot write the layer switch: {e}")))
}

/// Ok(note) when Git turns on `a.layer` (or a later one); else the change to commit.
fn check(repo: &Path, a: &Args) -> Result<String, UserError> {
    let now = current(repo, &a.cluster)?;
    let (have, want) = (
        rank(&now).map_err(UserError::usage)?,
        rank(&a.layer).map_err(UserError::usage)?,
    );
    let file = switch_file(&a.cluster);
    if have >= want {
        let extra = if have > want {
            format!(", which includes {}", a.layer)
        } else {
            String::new()
        };
        return Ok(format!("Git turns on layer {now}{extra} ({})", file.display()));
    }
    Err(UserError::usage(format!(
        "Git turns on layer {now}; this phase turns on layer {}: its decisions are taken and match Git, the switch is the last change",
        a.layer
    ))
    .subject(file.display().to_string())
    .next(format!(
        "in {} replace `- ../layers/{now}` with `- ../layers/{}`, commit and push (review it like any change), then run this phase again; nothing was written",
        file.display(),
        a.layer
    )))
}

#[async_trait::async_trait]
impl StepKind for GitLayer {
    fn name(&self) -> &'static str {
        "git-layer"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        let a = parse(args).map_err(|e| e.cause)?;
        rank(&a.layer).map(|_| ())
    }
    fn writes(&self) -> Writes {
        Writes::Nothing
    }
    /// What the layer Git will turn on (this one, or a later one Git already names) makes live.
    fn plan(&self, cx: &PlanCx<'_>, args: &Value) -> Result<StepPlan, UserError> {
        let a = parse(args)?;
        let now = current(cx.repo, &a.cluster).unwrap_or_else(|_| a.layer.clone());
        let layer = match (rank(&now), rank(&a.layer)) {
            (Ok(h), Ok(w)) if h > w => now,
            _ => a.layer.clone(),
        };
        let dir = Path::new("clusters").join(&a.cluster).join("layers").join(&layer);
        let objects = Kustomize::find()?
            .render(&cx.repo.join(&dir))
            .map_err(|e| e.next(format!("fix {} (step '{}')", dir.display(), cx.step_id)))?;
        Ok(StepPlan {
            live_paths: live_paths(cx.repo, &objects, &format!("root -> layer {layer}")),
            ..Default::default()
        })
    }
    async fn preflight(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Checked, UserError> {
        check(cx.repo, &parse(args)?).map(|_| Checked::default())
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        check(cx.repo, &parse(args)?).map(Done::already)
    }
}
