//! The comparison behind the `overlay-delta` rule (and phase 3's criterion): the overlays of one shared app
//! may differ only in `spec.parentRefs` and `spec.hostnames`, plus the paths listed in `apps-shared/<app>/overlay-delta.yaml`:
//!
//! ```yaml
//! allow:
//!   - path: spec.template.spec.containers[].securityContext   # `[]` matches any index
//!     kind: Deployment        # optional: only for this kind
//!     name: redlib            # optional: only for this object
//!     reason: OpenShift SCC   # optional, for the reader
//!   - spec.storageClassName   # a bare path applies to every object
//! ```
//! A path allows everything below it. Each overlay is compared with the first one (by name).
//! `path: "."` with a `kind` (and usually a `name`) allows that whole object, including its existing in
//! only some overlays (e.g. an OpenShift-only SCC RoleBinding).

use crate::schema::convert::join_field;
use serde_json::Value;
use std::collections::BTreeMap;

/// Paths every overlay may change.
pub const ALWAYS_ALLOWED: &[&str] = &["spec.parentRefs", "spec.hostnames"];

/// One allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    pub path: Vec<Seg>,
    pub kind: Option<String>,
    pub name: Option<String>,
}

/// A path segment: a field name (`*` = any) or an index (`None` = any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Field(String),
    Index(Option<usize>),
}

/// Parse `spec.rules[0].x`, `metadata.annotations["a.b/c"]`, `spec.x[]`, `spec.x[*]`.
pub fn parse_path(p: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut chars = p.chars().peekable();
    let mut cur = String::new();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !cur.is_empty() {
                    out.push(Seg::Field(std::mem::take(&mut cur)));
                }
            }
            '[' => {
                if !cur.is_empty() {
                    out.push(Seg::Field(std::mem::take(&mut cur)));
                }
                let mut inner = String::new();
                for c in chars.by_ref() {
                    if c == ']' && (!inner.starts_with('"') || (inner.len() > 1 && inner.ends_with('"'))) {
                        break;
                    }
                    inner.push(c);
                }
                if inner.starts_with('"') {
                    out.push(Seg::Field(serde_json::from_str(&inner).unwrap_or(inner)));
                } else if inner.is_empty() || inner == "*" {
                    out.push(Seg::Index(None));
                } else {
                    out.push(Seg::Index(inner.parse().ok()));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(Seg::Field(cur));
    }
    out
}

/// Whether `path` is at or below `pattern`.
pub fn matches(pattern: &[Seg], path: &[Seg]) -> bool {
    pattern.len() <= path.len()
        && pattern.iter().zip(path).all(|(p, s)| match (p, s) {
            (Seg::Field(a), Seg::Field(b)) => a == "*" || a == b,
            (Seg::Index(None), Seg::Index(_)) => true,
            (Seg::Index(Some(a)), Seg::Index(Some(b))) => a == b,
            _ => false,
        })
}

/// Read `apps-shared/<app>/overlay-delta.yaml` (missing file: empty list).
pub fn load_allow(repo: &std::path::Path, app: &str) -> Result<Vec<Allow>, String> {
    let p = repo.join("apps-shared").join(app).join("overlay-delta.yaml");
    let Ok(text) = std::fs::read_to_string(&p) else {
        return Ok(vec![]);
    };
    let v: Value = serde_yaml::from_str(&text).map_err(|e| format!("malformed: {e}"))?;
    let mut out = Vec::new();
    for e in v.get("allow").and_then(Value::as_array).into_iter().flatten() {
        match e {
            Value::String(s) => out.push(Allow {
                path: parse_path(s),
                kind: None,
                name: None,
            }),
            Value::Object(m) => {
                let path = m
                    .get("path")
                    .and_then(Value::as_str)
                    .ok_or("an allow entry has no path")?;
                out.push(Allow {
                    path: parse_path(path),
                    kind: m.get("kind").and_then(Value::as_str).map(str::to_string),
                    name: m.get("name").and_then(Value::as_str).map(str::to_string),
                });
            }
            _ => return Err("allow entries are paths or {path, kind, name}".into()),
        }
    }
    Ok(out)
}

/// The leaf paths where `a` and `b` differ (an array of different length is one path).
pub fn diff_paths(a: Option<&Value>, b: Option<&Value>, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().collect();
            keys.extend(y.keys().filter(|k| !x.contains_key(*k)));
            for k in keys {
                diff_paths(x.get(k), y.get(k), &join_field(path, k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff_paths(Some(p), Some(q), &format!("{path}[{i}]"), out);
            }
        }
        (x, y) if x == y => {}
        _ => out.push(path.to_string()),
    }
}

/// One shared app's overlays compared with each other: what phase 3's `p3.overlay-delta` criterion reads.
#[derive(Debug, Clone, Default)]
pub struct AppDelta {
    /// The overlays found (`talos`, `openshift`, ...), sorted; the first is the reference.
    pub overlays: Vec<String>,
    /// Differences outside `spec.parentRefs` / `spec.hostnames` and not excused: `overlays/X Kind/name: path`.
    pub problems: Vec<String>,
    /// Differences the app's `overlay-delta.yaml` allow-list excuses (only reported, or problems when strict).
    pub allowed: Vec<String>,
}

/// Render every `apps-shared/<app>/overlays/*` with kustomize and compare each with the first. With `strict`,
/// the allow-list in `overlay-delta.yaml` excuses nothing (the brief's acceptance: only parentRefs and
/// hostnames differ); otherwise it behaves like the `overlay-delta` rule of `fleetctl verify`.
pub fn app_overlay_delta(repo: &std::path::Path, app: &str, strict: bool) -> Result<AppDelta, crate::error::UserError> {
    use crate::error::UserError;
    let dir = repo.join("apps-shared").join(app).join("overlays");
    let rd = std::fs::read_dir(&dir).map_err(|e| {
        UserError::usage(format!("cannot read the overlays of {app}: {e}"))
            .subject(dir.display().to_string())
            .next("a shared app keeps its overlays in apps-shared/<app>/overlays/<cluster>")
    })?;
    let mut overlays: Vec<String> = rd
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    overlays.sort();
    let allow = load_allow(repo, app)
        .map_err(|e| UserError::usage(e).subject(format!("apps-shared/{app}/overlay-delta.yaml")))?;
    let always: Vec<Vec<Seg>> = ALWAYS_ALLOWED.iter().map(|p| parse_path(p)).collect();
    let k = crate::fleet::render::Kustomize::find()?;
    let mut rendered: Vec<BTreeMap<(String, String), Value>> = Vec::new();
    for o in &overlays {
        let objs = k.render(&dir.join(o))?;
        rendered.push(
            objs.into_iter()
                .map(|v| {
                    let (kind, name, _) = crate::schema::identity(&v);
                    ((kind, name), v)
                })
                .collect(),
        );
    }
    let mut out = AppDelta {
        overlays: overlays.clone(),
        ..Default::default()
    };
    let Some(reference) = rendered.first() else {
        return Ok(out);
    };
    for (i, objs) in rendered.iter().enumerate().skip(1) {
        let (this, first) = (&overlays[i], &overlays[0]);
        for (key, o) in objs {
            let label = format!("overlays/{this} {}/{}", key.0, key.1);
            let Some(r) = reference.get(key) else {
                out.problems
                    .push(format!("{label}: only in overlays/{this}, not in overlays/{first}"));
                continue;
            };
            let mut paths = Vec::new();
            diff_paths(Some(r), Some(o), "", &mut paths);
            for p in paths {
                let segs = parse_path(&p);
                if always.iter().any(|a| matches(a, &segs)) {
                    continue;
                }
                let excused = allow.iter().any(|a| {
                    a.kind.as_ref().is_none_or(|k| *k == key.0)
                        && a.name.as_ref().is_none_or(|n| *n == key.1)
                        && matches(&a.path, &segs)
                });
                let line = format!("{label}: {p}");
                if excused && !strict {
                    out.allowed.push(line);
                } else if excused {
                    out.problems.push(format!(
                        "{line} (allowed by overlay-delta.yaml, but beyond parentRefs/hostnames)"
                    ));
                } else {
                    out.problems.push(line);
                }
            }
        }
        for key in reference.keys() {
            if !objs.contains_key(key) {
                out.problems.push(format!(
                    "overlays/{first} {}/{}: only in overlays/{first}, not in overlays/{this}",
                    key.0, key.1
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_match() {
        let pat = parse_path("spec.template.spec.containers[].securityContext");
        assert!(matches(
            &pat,
            &parse_path("spec.template.spec.containers[1].securityContext.runAsUser")
        ));
        assert!(!matches(&pat, &parse_path("spec.template.spec.containers[1].image")));
        assert_eq!(
            parse_path(r#"metadata.annotations["a.b/c"]"#),
            vec![
                Seg::Field("metadata".into()),
                Seg::Field("annotations".into()),
                Seg::Field("a.b/c".into())
            ]
        );
    }
}
