//! The list generator: `elements` and `elementsYaml`.

use crate::appset::ctx::Ctx;
use crate::error::UserError;
use serde_json::{Map, Value};

pub(super) fn list_params(ctx: &Ctx, list: &Value) -> Result<Vec<Value>, UserError> {
    let elements: Vec<Value> = list
        .get("elements")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for e in &elements {
        let m = e
            .as_object()
            .ok_or_else(|| ctx.err("a list element must be a mapping", Some("elements:")))?;
        if ctx.go {
            out.push(e.clone());
            continue;
        }
        let mut params = Map::new();
        for (k, v) in m {
            match (k.as_str(), v) {
                ("values", Value::Object(vals)) => {
                    for (vk, vv) in vals {
                        let s = vv.as_str().ok_or_else(|| {
                            ctx.err(
                                format!("list element values.{vk} must be a string"),
                                Some(&format!("{vk}:")),
                            )
                        })?;
                        params.insert(format!("values.{vk}"), Value::String(s.to_string()));
                    }
                }
                (_, Value::String(s)) => {
                    params.insert(k.clone(), Value::String(s.clone()));
                }
                _ => {
                    return Err(ctx
                        .err(
                            format!("list element key '{k}' must be a string without goTemplate"),
                            Some(&format!("{k}:")),
                        )
                        .next("quote the value, or set goTemplate: true"))
                }
            }
        }
        out.push(Value::Object(params));
    }
    // elementsYaml: a YAML list appended as is.
    if let Some(y) = list.get("elementsYaml").and_then(Value::as_str) {
        if !y.trim().is_empty() {
            let more: Vec<Value> = serde_yaml::from_str(y).map_err(|e| {
                ctx.err(
                    format!("list elementsYaml is not a YAML list: {e}"),
                    Some("elementsYaml"),
                )
            })?;
            out.extend(more);
        }
    }
    Ok(out)
}
