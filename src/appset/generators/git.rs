//! The git generator: `directories` (Go's path.Match on every directory) and `files` (git
//! pathspec globs; each file's contents become parameters).

use super::{add_values, string_map, Tree};
use crate::appset::ctx::Ctx;
use crate::appset::pathmatch::Pattern;
use crate::appset::template::sanitize_name;
use crate::error::UserError;
use serde_json::{Map, Value};

pub(super) fn git_params(ctx: &Ctx, git: &Value, tree: &Tree) -> Result<Vec<Value>, UserError> {
    let has = |k: &str| git.get(k).and_then(Value::as_array).is_some_and(|d| !d.is_empty());
    match (has("directories"), has("files")) {
        (true, true) => Err(ctx.err(
            "the git generator has both directories and files; use one",
            Some("git:"),
        )),
        (true, false) => dir_generator(ctx, git, tree),
        (false, true) => files_generator(ctx, git, tree),
        (false, false) => Err(ctx.err("the git generator has no directories or files", Some("git:"))),
    }
}

/// The include and exclude patterns of `directories` or `files`, plus the generator's values
/// and path parameter prefix. Exclude rules win over include rules, whatever their order.
struct Selection<'g> {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
    values: Vec<(String, String)>,
    prefix: &'g str,
}

impl<'g> Selection<'g> {
    fn read(
        ctx: &Ctx,
        git: &'g Value,
        kind: &str,
        compile: fn(&str) -> Result<Pattern, String>,
    ) -> Result<Self, UserError> {
        let mut sel = Selection {
            include: Vec::new(),
            exclude: Vec::new(),
            values: string_map(ctx, git.get("values"), "git.values")?,
            prefix: git.get("pathParamPrefix").and_then(Value::as_str).unwrap_or(""),
        };
        for e in git.get(kind).and_then(Value::as_array).into_iter().flatten() {
            let path = e
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| ctx.err(format!("a git {kind} entry has no path"), Some(&format!("{kind}:"))))?;
            let pat = compile(path).map_err(|m| {
                ctx.err(m, Some(path))
                    .next("see https://pkg.go.dev/path#Match (directories) or git's pathspec (files)")
            })?;
            if e.get("exclude").and_then(Value::as_bool).unwrap_or(false) {
                sel.exclude.push(pat);
            } else {
                sel.include.push(pat);
            }
        }
        Ok(sel)
    }

    fn selects(&self, path: &str) -> bool {
        self.include.iter().any(|p| p.matches(path)) && !self.exclude.iter().any(|p| p.matches(path))
    }
}

fn dir_generator(ctx: &Ctx, git: &Value, tree: &Tree) -> Result<Vec<Value>, UserError> {
    let sel = Selection::read(ctx, git, "directories", Pattern::new)?;
    let mut out = Vec::new();
    for d in tree.dirs().iter().filter(|d| sel.selects(d)) {
        let mut params = dir_params(d, sel.prefix, ctx.go);
        add_values(ctx, &mut params, &sel.values)?;
        out.push(params);
    }
    Ok(out)
}

/// `files`: every file matching one of the `path` globs, as `git ls-files -- <path>` matches
/// it (the default, without `enable.new.git.file.globbing`): `*` also crosses `/`. Each file
/// holds one object or a list of objects; each object is one parameter set.
fn files_generator(ctx: &Ctx, git: &Value, tree: &Tree) -> Result<Vec<Value>, UserError> {
    let sel = Selection::read(ctx, git, "files", Pattern::pathspec)?;
    let mut out = Vec::new();
    for f in tree.files().iter().filter(|f| sel.selects(f)) {
        for object in file_objects(ctx, tree, f)? {
            let mut params = file_params(f, object, sel.prefix, ctx.go);
            add_values(ctx, &mut params, &sel.values)?;
            out.push(params);
        }
    }
    Ok(out)
}

/// The objects a generator file holds: one mapping, or a list of mappings (an empty file is
/// one empty object).
fn file_objects(ctx: &Ctx, tree: &Tree, f: &str) -> Result<Vec<Map<String, Value>>, UserError> {
    let text = std::fs::read_to_string(tree.repo.join(f)).map_err(|e| {
        ctx.err(
            format!("cannot read the git files generator's file {f}: {e}"),
            Some("files:"),
        )
    })?;
    let bad = |e: String| {
        ctx.err(format!("unable to parse file {f}: {e}"), Some("files:"))
            .next(format!(
                "fix the YAML/JSON of {f}; the git files generator reads one object or a list of objects"
            ))
    };
    let v: Value = serde_yaml::from_str(&text).map_err(|e| bad(e.to_string()))?;
    match v {
        Value::Null => Ok(vec![Map::new()]),
        Value::Object(m) => Ok(vec![m]),
        Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Value::Object(m) => Ok(m),
                other => Err(bad(format!("a list item is not an object: {other}"))),
            })
            .collect(),
        other => Err(bad(format!("not an object or a list of objects: {other}"))),
    }
}

/// `fmt.Sprintf("%v", v)` of a flattened value, as the legacy files parameters hold it.
fn flat_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        Value::Number(n) => n
            .as_f64()
            .map(crate::appset::template::go_float)
            .unwrap_or_else(|| n.to_string()),
        Value::Bool(b) => b.to_string(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(m) if m.is_empty() => "map[]".into(),
        other => other.to_string(),
    }
}

/// jeremywohl/flatten with DotStyle: `a.b`, `list.0`.
fn flatten(prefix: &str, v: &Value, out: &mut Map<String, Value>) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(m) if !m.is_empty() => m.iter().for_each(|(k, x)| flatten(&key(k), x, out)),
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| flatten(&key(&i.to_string()), x, out)),
        other => {
            out.insert(prefix.to_string(), Value::String(flat_string(other)));
        }
    }
}

/// The parameters of one object of a generator file (Argo CD `generateParamsFromGitFile`):
/// the object itself (flattened to `a.b` strings without goTemplate) plus `path` (the file's
/// directory), `path.basename`, `path.filename`, the normalized names and the segments.
pub(crate) fn file_params(file: &str, object: Map<String, Value>, prefix: &str, go: bool) -> Value {
    let dir = file.rsplit_once('/').map(|(d, _)| d).unwrap_or(".");
    let filename = file.rsplit('/').next().unwrap_or(file);
    let basename = dir.rsplit('/').next().unwrap_or(dir);
    let mut params = Map::new();
    let mut path = Map::new();
    path.insert("path".into(), Value::String(dir.into()));
    path.insert("basename".into(), Value::String(basename.into()));
    path.insert("filename".into(), Value::String(filename.into()));
    path.insert("basenameNormalized".into(), Value::String(sanitize_name(basename)));
    path.insert("filenameNormalized".into(), Value::String(sanitize_name(filename)));
    let segments: Vec<&str> = dir.split('/').collect();
    if go {
        params.extend(object);
        path.insert(
            "segments".into(),
            Value::Array(segments.iter().map(|s| Value::String(s.to_string())).collect()),
        );
        if prefix.is_empty() {
            params.insert("path".into(), Value::Object(path));
        } else {
            params.insert(prefix.into(), serde_json::json!({ "path": path }));
        }
        return Value::Object(params);
    }
    flatten("", &Value::Object(object), &mut params);
    let name = if prefix.is_empty() {
        "path".to_string()
    } else {
        format!("{prefix}.path")
    };
    params.insert(name.clone(), Value::String(dir.into()));
    for k in ["basename", "filename", "basenameNormalized", "filenameNormalized"] {
        params.insert(format!("{name}.{k}"), path[k].clone());
    }
    for (i, s) in segments.iter().enumerate().filter(|(_, s)| !s.is_empty()) {
        params.insert(format!("{name}[{i}]"), Value::String(s.to_string()));
    }
    Value::Object(params)
}

/// The parameters of one matched directory.
fn dir_params(dir: &str, prefix: &str, go: bool) -> Value {
    let basename = dir.rsplit('/').next().unwrap_or(dir).to_string();
    let segments: Vec<&str> = dir.split('/').collect();
    let mut params = Map::new();
    if go {
        let mut p = Map::new();
        p.insert("path".into(), Value::String(dir.to_string()));
        p.insert("basename".into(), Value::String(basename.clone()));
        p.insert("basenameNormalized".into(), Value::String(sanitize_name(&basename)));
        p.insert(
            "segments".into(),
            Value::Array(segments.iter().map(|s| Value::String(s.to_string())).collect()),
        );
        if prefix.is_empty() {
            params.insert("path".into(), Value::Object(p));
        } else {
            let mut wrap = Map::new();
            wrap.insert("path".into(), Value::Object(p));
            params.insert(prefix.to_string(), Value::Object(wrap));
        }
    } else {
        let name = if prefix.is_empty() {
            "path".to_string()
        } else {
            format!("{prefix}.path")
        };
        params.insert(name.clone(), Value::String(dir.to_string()));
        params.insert(format!("{name}.basename"), Value::String(basename.clone()));
        params.insert(
            format!("{name}.basenameNormalized"),
            Value::String(sanitize_name(&basename)),
        );
        for (i, s) in segments.iter().enumerate() {
            if !s.is_empty() {
                params.insert(format!("{name}[{i}]"), Value::String(s.to_string()));
            }
        }
    }
    Value::Object(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_dir_params_match_argo() {
        let p = dir_params("my-apps/media/plex", "", false);
        assert_eq!(p["path"], "my-apps/media/plex");
        assert_eq!(p["path.basename"], "plex");
        assert_eq!(p["path[0]"], "my-apps");
        assert_eq!(p["path[2]"], "plex");
        assert!(p.get("path.path").is_none());
        let p = dir_params("a/B_c", "app", false);
        assert_eq!(p["app.path.basenameNormalized"], "b-c");
        assert_eq!(p["app.path[1]"], "B_c");
    }

    #[test]
    fn go_dir_params_match_argo() {
        let p = dir_params("apps-shared/redlib/overlays/openshift", "", true);
        assert_eq!(p["path"]["path"], "apps-shared/redlib/overlays/openshift");
        assert_eq!(p["path"]["basename"], "openshift");
        assert_eq!(p["path"]["segments"][1], "redlib");
        let p = dir_params("x/y", "pre", true);
        assert_eq!(p["pre"]["path"]["basename"], "y");
    }
}
