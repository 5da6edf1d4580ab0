//! The clusters generator, for the one cluster an Argo CD knows without cluster Secrets.

use super::{add_values, has_content, string_map};
use crate::appset::ctx::Ctx;
use crate::error::UserError;
use serde_json::{Map, Value};

/// The local cluster as Argo CD knows it without a cluster Secret.
const IN_CLUSTER_NAME: &str = "in-cluster";
const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";

/// The parameters of the local cluster (Argo CD >= 2.14 `cluster.go`): `name`,
/// `nameNormalized`, `server`, `project` (empty: no cluster Secret names a project), plus
/// templated `values`. With `flatList: true` all clusters come as one parameter set
/// `{clusters: [...]}` (one Application for all clusters).
pub(super) fn cluster_params(ctx: &Ctx, clusters: &Value) -> Result<Vec<Value>, UserError> {
    let flat = match clusters.get("flatList") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ctx.err("clusters.flatList must be true or false", Some("flatList"))),
    };
    let mut found = Vec::new();
    // Argo CD leaves the local cluster out whenever the selector is non-empty: it has no
    // cluster Secret, hence no labels to match. Remote clusters need cluster Secrets, which
    // this fleet does not have (no `argocd cluster add`, no hub-spoke).
    let selector = clusters.get("selector");
    let non_empty = |k: &str| selector.and_then(|s| s.get(k)).is_some_and(has_content);
    if !(non_empty("matchLabels") || non_empty("matchExpressions")) {
        let values = string_map(ctx, clusters.get("values"), "clusters.values")?;
        let mut m = Map::new();
        m.insert("name".into(), Value::String(IN_CLUSTER_NAME.into()));
        m.insert("nameNormalized".into(), Value::String(IN_CLUSTER_NAME.into()));
        m.insert("server".into(), Value::String(IN_CLUSTER_SERVER.into()));
        m.insert("project".into(), Value::String(String::new()));
        let mut params = Value::Object(m);
        add_values(ctx, &mut params, &values)?;
        found.push(params);
    }
    if flat {
        return Ok(vec![serde_json::json!({ "clusters": found })]);
    }
    Ok(found)
}
