//! Builtin step kinds: phase-specific logic that YAML cannot express well, named in runbooks.
//!
//! - `live-crd-schema {path, kinds}`: render `path` and check every object of `kinds` against the schema
//!   the live cluster's CRD serves. The API server silently prunes fields it does not know, so an older
//!   operator would quietly drop e.g. `spec.resourceHealthChecks`; this stops first and names the field.
//! - `repo-matches {path, kind, name, field, equals|contains|notEquals, fix}`: a decision taken at a decision point must
//!   be what Git says (GitOps: the cluster follows Git, so fleetctl never overrides it on the side). Renders
//!   `path` and compares one field; on a mismatch it stops before any write and says what to change.
//! - `detect-gpus`, `passthrough-readiness`, `cuda-vectoradd`: phase 6, in gpu.rs.
//! - `load-balancer-present {decision?}`: read-only proof that the live cluster can give a LoadBalancer
//!   Service an address (lb.rs); runs in preflight too.
//! - `phase4-migrate {cluster, branch}`: Phase 4's repo side (src/migrate): moves a legacy fleet into
//!   clusters/<cluster>/ on a new branch behind the no-churn gate. Offline: it never writes to the cluster.

use super::ui::Ui;
use crate::cluster::Cluster;
use crate::error::UserError;
use crate::fleet::render::Kustomize;
use crate::schema::unknown_fields;
use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

pub const NAMES: &[&str] = &[
    "live-crd-schema",
    "repo-matches",
    "detect-gpus",
    "passthrough-readiness",
    "cuda-vectoradd",
    "phase4-migrate",
    "detect-backup-design",
    "load-balancer-present",
];
/// Builtins that only read (the repo, or the live cluster without writing); the engine also runs them
/// during preflight, before any write.
pub const OFFLINE: &[&str] = &["repo-matches", "detect-backup-design", "load-balancer-present"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LiveCrdSchemaArgs {
    path: String,
    kinds: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RepoMatchesArgs {
    path: String,
    kind: String,
    name: String,
    field: String,
    #[serde(default)]
    equals: Option<String>,
    #[serde(default)]
    contains: Option<String>,
    /// Git must have moved away from this value (e.g. an image known not to fit).
    #[serde(default, rename = "notEquals")]
    not_equals: Option<String>,
    fix: String,
}

/// Check the builtin's name and arguments during preflight.
pub fn validate(name: &str, args: &Value) -> Result<(), String> {
    match name {
        "live-crd-schema" => serde_json::from_value::<LiveCrdSchemaArgs>(args.clone())
            .map(|_| ())
            .map_err(|e| format!("bad args for {name}: {e}")),
        "repo-matches" => {
            let a: RepoMatchesArgs =
                serde_json::from_value(args.clone()).map_err(|e| format!("bad args for {name}: {e}"))?;
            crate::runbook::path::FieldPath::parse(&a.field)?;
            match (&a.equals, &a.contains, &a.not_equals) {
                (Some(_), None, None) | (None, Some(_), None) | (None, None, Some(_)) => Ok(()),
                _ => Err(format!("{name} needs exactly one of equals, contains, notEquals")),
            }
        }
        "detect-gpus" | "passthrough-readiness" | "cuda-vectoradd" => super::gpu::validate(name, args),
        "phase4-migrate" => serde_json::from_value::<crate::migrate::StepArgs>(args.clone())
            .map(|_| ())
            .map_err(|e| format!("bad args for {name}: {e}")),
        // `detect-backup-design {answer?, paths?}`: see engine/detect.rs.
        "detect-backup-design" => serde_json::from_value::<super::detect::Args>(args.clone())
            .map(|_| ())
            .map_err(|e| format!("bad args for {name}: {e}")),
        "load-balancer-present" => super::lb::validate(args),
        other => Err(format!("unknown builtin step '{other}' (known: {})", NAMES.join(", "))),
    }
}

/// Run a builtin; `reports` is the cluster's reports folder in the state dir (for evidence files).
pub async fn run(
    cluster: &Cluster,
    repo: &Path,
    reports: &Path,
    ui: &Ui,
    name: &str,
    args: &Value,
) -> Result<super::Done, UserError> {
    let done = match name {
        "detect-gpus" => super::gpu::detect_gpus(cluster, args, ui).await,
        "passthrough-readiness" => super::gpu::passthrough_readiness(cluster, args).await,
        "cuda-vectoradd" => super::gpu::cuda_vectoradd(cluster, args, reports, ui).await,
        "live-crd-schema" => {
            let a: LiveCrdSchemaArgs = serde_json::from_value(args.clone())
                .map_err(|e| UserError::usage(format!("bad args for {name}: {e}")))?;
            live_crd_schema(cluster, repo, &a).await
        }
        "repo-matches" => {
            let a: RepoMatchesArgs = serde_json::from_value(args.clone())
                .map_err(|e| UserError::usage(format!("bad args for {name}: {e}")))?;
            repo_matches(repo, &a)
        }
        "phase4-migrate" => {
            let a: crate::migrate::StepArgs = serde_json::from_value(args.clone())
                .map_err(|e| UserError::usage(format!("bad args for {name}: {e}")))?;
            return crate::migrate::run_step(repo, &a);
        }
        "detect-backup-design" => super::detect::confirm(repo, args),
        "load-balancer-present" => super::lb::check(cluster, args, ui).await,
        other => Err(UserError::usage(format!("unknown builtin step '{other}'"))),
    };
    done.map(super::Done::from)
}

async fn live_crd_schema(cluster: &Cluster, repo: &Path, a: &LiveCrdSchemaArgs) -> Result<(u32, String), UserError> {
    let objects = Kustomize::find()?.render(&repo.join(&a.path))?;
    let crds = cluster
        .list("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, None)
        .await?;
    let mut checked = Vec::new();
    for o in objects.iter().filter(|o| {
        o.get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| a.kinds.iter().any(|x| x == k))
    }) {
        let kind = o["kind"].as_str().unwrap_or_default();
        let name = o.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        let api_version = o.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let group = crate::cluster::split_api_version(api_version).0;
        let Some(crd) = crds.iter().find(|c| {
            c.pointer("/spec/group").and_then(Value::as_str) == Some(group)
                && c.pointer("/spec/names/kind").and_then(Value::as_str) == Some(kind)
        }) else {
            return Err(
                UserError::failed(format!("the cluster has no CRD for {kind} ({api_version})"))
                    .subject(format!("{kind} {name} in {}", a.path))
                    .next("wait for the operator that serves it (its CSV must be Succeeded)"),
            );
        };
        let crd_name = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let unknown = unknown_fields(o, crd);
        if !unknown.is_empty() {
            return Err(UserError::failed(format!(
                "the live {crd_name} CRD does not know {}: the API server would silently drop {} from {kind} {name}",
                unknown.join(", "),
                if unknown.len() == 1 { "it" } else { "them" }
            ))
            .subject(format!("{}/ ({kind} {name})", a.path))
            .next("upgrade the operator (its Subscription channel) or remove the field from the manifest; nothing was applied"));
        }
        checked.push(format!("{kind} {name}"));
    }
    Ok((
        0,
        format!(
            "{} matches the live CRD schema",
            if checked.is_empty() {
                "nothing to check".into()
            } else {
                checked.join(", ")
            }
        ),
    ))
}

fn repo_matches(repo: &Path, a: &RepoMatchesArgs) -> Result<(u32, String), UserError> {
    use crate::runbook::path::{scalar_string, FieldPath};
    let objects = Kustomize::find()?.render(&repo.join(&a.path))?;
    let subject = format!("{} {} in {}", a.kind, a.name, a.path);
    let obj = objects
        .iter()
        .find(|o| {
            o.get("kind").and_then(Value::as_str) == Some(&a.kind)
                && o.pointer("/metadata/name").and_then(Value::as_str) == Some(&a.name)
        })
        .ok_or_else(|| {
            UserError::usage(format!("{} {} is not in the rendered {}", a.kind, a.name, a.path)).subject(a.path.clone())
        })?;
    let path = FieldPath::parse(&a.field).map_err(UserError::usage)?;
    let got = path.get(obj);
    let seen = got.map(scalar_string).unwrap_or_else(|| "<absent>".into());
    let (ok, want) = match (&a.equals, &a.contains) {
        (Some(e), _) => (seen == *e, e.clone()),
        (_, Some(c)) => {
            let hit = match got {
                Some(Value::Array(items)) => items.iter().any(|i| scalar_string(i).contains(c.as_str())),
                Some(v) => scalar_string(v).contains(c.as_str()),
                None => false,
            };
            (hit, format!("something containing {c}"))
        }
        _ => match &a.not_equals {
            Some(n) => (got.is_some() && seen != *n, format!("anything but {n}")),
            None => (false, String::new()),
        },
    };
    if ok {
        return Ok((0, format!("Git agrees: {} {} = {seen}", a.kind, a.field)));
    }
    Err(UserError::usage(format!(
        "Git does not match the decision: {} is {seen}, the decision wants {want}",
        a.field
    ))
    .subject(subject)
    .next(format!(
        "{}; commit and push, then run the phase again (nothing was written)",
        a.fix
    )))
}
