//! The generators: each turns its spec into parameter sets (JSON objects), in Argo CD's order.

mod clusters;
mod combine;
mod git;
mod list;

use super::ctx::{render_string, Ctx};
use crate::error::UserError;
use serde_json::{Map, Value};
use std::cell::OnceCell;
use std::path::Path;

/// The repository as the generators see it: its directories and files, listed once.
pub(crate) struct Tree<'a> {
    pub(crate) repo: &'a Path,
    dirs: OnceCell<Vec<String>>,
    files: OnceCell<Vec<String>>,
}

impl<'a> Tree<'a> {
    pub(crate) fn new(repo: &'a Path) -> Tree<'a> {
        Tree {
            repo,
            dirs: OnceCell::new(),
            files: OnceCell::new(),
        }
    }

    pub(crate) fn dirs(&self) -> &[String] {
        self.dirs.get_or_init(|| super::dirs::list_dirs(self.repo))
    }

    pub(crate) fn files(&self) -> &[String] {
        self.files.get_or_init(|| super::dirs::list_files(self.repo))
    }
}

/// Whether a value holds anything but empty mappings, lists, strings and nulls.
pub(crate) fn has_content(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(has_content),
        Value::Object(m) => m.values().any(has_content),
        _ => true,
    }
}

/// The parameter sets of one generator. `nested` counts the matrix/merge generators around
/// it: Argo CD allows a matrix or merge inside another, but no deeper.
pub(crate) fn generator_params(
    ctx: &Ctx,
    g: &Map<String, Value>,
    tree: &Tree,
    nested: usize,
) -> Result<Vec<Value>, UserError> {
    if g.get("selector").is_some_and(has_content) {
        return Err(ctx.unsupported("a generator-level selector (post-filter)", "selector"));
    }
    let kinds: Vec<&String> = g.keys().filter(|k| *k != "selector").collect();
    let [kind] = kinds.as_slice() else {
        return Err(ctx.err(
            format!(
                "a generator must have exactly one type, found: {}",
                kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            ),
            Some("generators"),
        ));
    };
    let body = &g[kind.as_str()];
    if body.get("template").is_some_and(has_content) {
        return Err(ctx.unsupported(
            &format!("a template override inside the {kind} generator"),
            &format!("{kind}:"),
        ));
    }
    match kind.as_str() {
        "git" => git::git_params(ctx, body, tree),
        "list" => list::list_params(ctx, body),
        "clusters" => clusters::cluster_params(ctx, body),
        "matrix" | "merge" if nested >= 2 => Err(ctx.err(
            format!("a {kind} generator nested two levels deep (Argo CD allows one level of nesting)"),
            Some(&format!("{kind}:")),
        )),
        "matrix" => combine::matrix_params(ctx, body, tree, nested + 1),
        "merge" => combine::merge_params(ctx, body, tree, nested + 1),
        other => Err(ctx.unsupported(&format!("the {other} generator"), &format!("{other}:"))),
    }
}

/// Generator `values`: a map of strings (the CRD says so; the API server refuses others).
pub(super) fn string_map(ctx: &Ctx, v: Option<&Value>, what: &str) -> Result<Vec<(String, String)>, UserError> {
    let mut out = Vec::new();
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, val) in m {
                match val {
                    Value::String(s) => out.push((k.clone(), s.clone())),
                    other => {
                        return Err(ctx
                            .err(
                                format!("{what}.{k} must be a string, found {other}"),
                                Some(&format!("{k}:")),
                            )
                            .next("quote the value in YAML (e.g. \"4\")"))
                    }
                }
            }
        }
        Some(_) => return Err(ctx.err(format!("{what} must be a mapping"), Some("values:"))),
    }
    Ok(out)
}

/// Render generator values against the parameters and add them as `values` / `values.<k>`.
pub(super) fn add_values(ctx: &Ctx, params: &mut Value, values: &[(String, String)]) -> Result<(), UserError> {
    if values.is_empty() {
        return Ok(());
    }
    let mut rendered = Map::new();
    for (k, v) in values {
        let r = render_string(ctx, v, params, &format!("values.{k}"))?;
        rendered.insert(k.clone(), Value::String(r));
    }
    let obj = params.as_object_mut().expect("params are a mapping");
    if ctx.go {
        obj.insert("values".into(), Value::Object(rendered));
    } else {
        for (k, v) in rendered {
            obj.insert(format!("values.{k}"), v);
        }
    }
    Ok(())
}
