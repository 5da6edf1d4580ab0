//! The matrix and merge generators (Argo CD `applicationset/generators/matrix.go`, `merge.go`).
//!
//! - matrix: exactly two child generators. The second is templated with each parameter set
//!   of the first (so `{{ .path.path }}/config.json` works), and every pair is combined: with
//!   goTemplate a deep merge where the first generator's values win (mergo `WithOverride`,
//!   second then first); without it flat string maps, and a key both sides set to different
//!   values is an error (`CombineStringMaps`).
//! - merge: two or more child generators and `mergeKeys`. The first generator's sets are the
//!   base; a set of a later generator whose merge-key values equal a base set's overrides that
//!   base set (deep merge, override wins); later sets matching no base set are dropped. Sets of
//!   one generator must be unique by their merge keys.

use super::{generator_params, Tree};
use crate::appset::ctx::{render_value, Ctx};
use crate::error::UserError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

fn children<'v>(ctx: &Ctx, body: &'v Value, kind: &str) -> Result<&'v Vec<Value>, UserError> {
    body.get("generators").and_then(Value::as_array).ok_or_else(|| {
        ctx.err(
            format!("the {kind} generator has no generators"),
            Some(&format!("{kind}:")),
        )
    })
}

/// The parameter sets of child generator `i`, templated first with `with` if given.
fn child(
    ctx: &Ctx,
    gen: &Value,
    i: usize,
    tree: &Tree,
    nested: usize,
    with: Option<&Value>,
) -> Result<Vec<Value>, UserError> {
    let gen = match with {
        Some(params) => render_value(ctx, gen, params, &format!("generators[{i}]"))?,
        None => gen.clone(),
    };
    let obj = gen
        .as_object()
        .ok_or_else(|| ctx.err("a generator must be a mapping", Some("generators:")))?;
    generator_params(ctx, obj, tree, nested)
}

/// mergo.Merge(dst, src, WithOverride): nested mappings merge; a non-empty `src` value
/// replaces `dst`'s; an empty one fills only an empty or missing `dst` value.
pub(super) fn merge_override(dst: &mut Map<String, Value>, src: &Map<String, Value>) {
    for (k, v) in src {
        match (dst.get_mut(k), v) {
            (Some(Value::Object(d)), Value::Object(s)) => merge_override(d, s),
            (None, _) => {
                dst.insert(k.clone(), v.clone());
            }
            (Some(cur), _) => {
                if !is_empty(v) || is_empty(cur) {
                    *cur = v.clone();
                }
            }
        }
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
    }
}

fn object(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

pub(super) fn matrix_params(ctx: &Ctx, body: &Value, tree: &Tree, nested: usize) -> Result<Vec<Value>, UserError> {
    let gens = children(ctx, body, "matrix")?;
    if gens.len() != 2 {
        let which = if gens.len() < 2 { "less" } else { "more" };
        return Err(ctx.err(
            format!("found {which} than two generators, Matrix support only two"),
            Some("matrix:"),
        ));
    }
    let mut out = Vec::new();
    for a in child(ctx, &gens[0], 0, tree, nested, None)? {
        for b in child(ctx, &gens[1], 1, tree, nested, Some(&a))? {
            let (a, b) = (object(&a), object(&b));
            if ctx.go {
                let mut tmp = Map::new();
                merge_override(&mut tmp, &b);
                merge_override(&mut tmp, &a);
                out.push(Value::Object(tmp));
                continue;
            }
            let mut tmp = a.clone();
            for (k, v) in b {
                match a.get(&k) {
                    Some(x) if *x != v => {
                        return Err(ctx.err(
                            format!(
                                "found duplicate key {k} with different value, a: {} ,b: {}",
                                show(x),
                                show(&v)
                            ),
                            Some("matrix:"),
                        ))
                    }
                    _ => {
                        tmp.insert(k, v);
                    }
                }
            }
            out.push(Value::Object(tmp));
        }
    }
    Ok(out)
}

fn show(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

/// The merge key of a parameter set: the JSON of its merge-key values (Go marshals the map
/// with sorted keys; a missing key is null).
fn merge_key(keys: &[String], set: &Value) -> String {
    let m: BTreeMap<&str, Value> = keys
        .iter()
        .map(|k| (k.as_str(), set.get(k).cloned().unwrap_or(Value::Null)))
        .collect();
    serde_json::to_string(&m).unwrap_or_default()
}

fn by_key(ctx: &Ctx, keys: &[String], sets: Vec<Value>) -> Result<Vec<(String, Value)>, UserError> {
    let mut out: Vec<(String, Value)> = Vec::new();
    for s in sets {
        let k = merge_key(keys, &s);
        if out.iter().any(|(x, _)| *x == k) {
            return Err(ctx.err(
                format!(
                    "the parameters from a generator were not unique by the given mergeKeys, \
                     Merge requires all param sets to be unique. Duplicate key was {k}"
                ),
                Some("mergeKeys"),
            ));
        }
        out.push((k, s));
    }
    Ok(out)
}

pub(super) fn merge_params(ctx: &Ctx, body: &Value, tree: &Tree, nested: usize) -> Result<Vec<Value>, UserError> {
    let gens = children(ctx, body, "merge")?;
    if gens.len() < 2 {
        return Err(ctx.err(
            "found less than two generators, Merge requires two or more",
            Some("merge:"),
        ));
    }
    let mut keys: Vec<String> = body
        .get("mergeKeys")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return Err(ctx.err(
            "no merge keys were specified, Merge requires at least one",
            Some("merge:"),
        ));
    }
    let mut base = by_key(ctx, &keys, child(ctx, &gens[0], 0, tree, nested, None)?)?;
    for (i, g) in gens.iter().enumerate().skip(1) {
        let over = by_key(ctx, &keys, child(ctx, g, i, tree, nested, None)?)?;
        for (k, set) in base.iter_mut() {
            let Some((_, o)) = over.iter().find(|(x, _)| x == k) else {
                continue;
            };
            let mut b = object(set);
            if ctx.go {
                merge_override(&mut b, &object(o));
            } else {
                b.extend(object(o));
            }
            *set = Value::Object(b);
        }
    }
    Ok(base.into_iter().map(|(_, v)| v).collect())
}
