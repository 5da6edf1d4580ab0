//! `live-crd-schema {path, kinds}`: render `path` and check every object of `kinds` against the schema the
//! live cluster's CRD serves. The API server silently prunes fields it does not know, so an older operator
//! would quietly drop e.g. `spec.resourceHealthChecks`; this stops first and names the field. Read-only.

use crate::cluster::Cluster;
use crate::engine::kind::{Cx, Done, PathResolver, StepKind, StepPlan, Writes};
use crate::error::UserError;
use crate::fleet::render::Kustomize;
use crate::schema::unknown_fields;
use serde::Deserialize;
use serde_json::Value;

pub struct LiveCrdSchema;

#[async_trait::async_trait]
impl StepKind for LiveCrdSchema {
    fn name(&self) -> &'static str {
        "live-crd-schema"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        serde_json::from_value::<LiveCrdSchemaArgs>(args.clone())
            .map(|_| ())
            .map_err(|e| format!("bad args for {}: {e}", self.name()))
    }
    fn writes(&self) -> Writes {
        Writes::Nothing
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        let a: LiveCrdSchemaArgs = serde_json::from_value(args.clone())
            .map_err(|e| UserError::usage(format!("bad args for {}: {e}", self.name())))?;
        live_crd_schema(cx.cluster, cx.paths, &a).await.map(Done::from)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LiveCrdSchemaArgs {
    path: String,
    kinds: Vec<String>,
}

async fn live_crd_schema(
    cluster: &Cluster,
    paths: &dyn PathResolver,
    a: &LiveCrdSchemaArgs,
) -> Result<(u32, String), UserError> {
    let objects = Kustomize::find()?.render(&paths.resolve(&a.path))?;
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
