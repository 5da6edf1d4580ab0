//! The fleet's lint rules. Each has a stable id (the first word of a text finding), lives in its own file
//! and is registered once in [`RULES`]; docs/verify.md documents them.
//!
//! A rule sees every rendered object (and the [`Ctx`]: the repo, its roots, the schemas) and pushes
//! [`Finding`]s; the order does not matter (verify de-duplicates and sorts them).

mod appset_generators;
mod appset_head;
mod appset_separation;
mod appset_thin;
mod argocd_rbac;
mod externalsecret_conventions;
mod hostname_domain;
mod httproute_shared_base;
mod install_method_quarantine;
mod no_user_route;
mod overlay_delta;
mod secret_plaintext;
mod shared_base_uid;

pub use externalsecret_conventions::duration_secs;
pub use hostname_domain::under_domain;
pub use httproute_shared_base::EXPERIMENTAL_HTTPROUTE_FIELDS;
pub use install_method_quarantine::looks_like_argocd_values;
pub use secret_plaintext::plaintext_secret;

use super::layout::Layout;
use super::roots::Root;
use super::{Finding, RenderedObject};
use crate::fleet::cluster::ClusterSpec;
use crate::schema::{Gvk, SchemaSet};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// What a rule does with the rendered objects.
pub type Check = fn(&Ctx, &[RenderedObject], &mut Vec<Finding>);

/// One lint rule: its stable id and its check (`None` for `render`, `schema` and `helm-unavailable`, which
/// verify's pipeline itself reports while rendering and validating).
pub struct Rule {
    pub id: &'static str,
    pub check: Option<Check>,
}

/// Every rule verify can report, in the order docs/verify.md lists them.
pub const RULES: &[Rule] = &[
    Rule {
        id: "render",
        check: None,
    },
    Rule {
        id: "schema",
        check: None,
    },
    Rule {
        id: "helm-unavailable",
        check: None,
    },
    Rule {
        id: "secret-plaintext",
        check: Some(secret_plaintext::check),
    },
    Rule {
        id: "externalsecret-conventions",
        check: Some(externalsecret_conventions::check),
    },
    Rule {
        id: "appset-thin",
        check: Some(appset_thin::check),
    },
    Rule {
        id: "appset-head",
        check: Some(appset_head::check),
    },
    Rule {
        id: "appset-generators",
        check: Some(appset_generators::check),
    },
    Rule {
        id: "appset-separation",
        check: Some(appset_separation::check),
    },
    Rule {
        id: "httproute-shared-base",
        check: Some(httproute_shared_base::check),
    },
    Rule {
        id: "no-user-route",
        check: Some(no_user_route::check),
    },
    Rule {
        id: "hostname-domain",
        check: Some(hostname_domain::check),
    },
    Rule {
        id: "shared-base-uid",
        check: Some(shared_base_uid::check),
    },
    Rule {
        id: "install-method-quarantine",
        check: Some(install_method_quarantine::check),
    },
    Rule {
        id: "overlay-delta",
        check: Some(overlay_delta::check),
    },
    Rule {
        id: "argocd-rbac",
        check: Some(argocd_rbac::check),
    },
];

/// What the rules may look at besides the objects.
pub struct Ctx<'a> {
    pub repo: &'a Path,
    pub roots: &'a [Root],
    pub schemas: &'a SchemaSet,
    /// Roots kustomize could not render (reported as `render`); rules comparing roots skip them.
    pub failed: BTreeSet<usize>,
    pub layout: Layout,
    /// The files of the fleet trees (the whole repo in the legacy layout), for rules on files themselves.
    pub files: &'a [PathBuf],
    /// Files outside the fleet trees that no kustomization reads, with their objects: only checked for
    /// plaintext Secrets (they are in Git, but nothing deploys them).
    pub unrendered: Vec<(String, Vec<Value>)>,
    clusters: HashMap<String, Result<ClusterSpec, String>>,
}

impl<'a> Ctx<'a> {
    pub fn new(repo: &'a Path, layout: Layout, roots: &'a [Root], schemas: &'a SchemaSet) -> Ctx<'a> {
        let mut clusters = HashMap::new();
        // A legacy repo has no cluster descriptions yet: rules that need one skip its cluster.
        for r in roots.iter().filter(|_| layout == Layout::Fleet) {
            if let Some(c) = r.kind.cluster() {
                clusters.entry(c.to_string()).or_insert_with(|| {
                    if ClusterSpec::path(repo, c).is_file() {
                        ClusterSpec::load(repo, c).map_err(|e| e.to_string())
                    } else {
                        Err(format!("clusters/{c}/cluster.yaml does not exist"))
                    }
                });
            }
        }
        Ctx {
            repo,
            roots,
            schemas,
            failed: BTreeSet::new(),
            layout,
            files: &[],
            unrendered: Vec::new(),
            clusters,
        }
    }

    /// The cluster description of a cluster directory.
    pub fn cluster(&self, name: &str) -> Option<&Result<ClusterSpec, String>> {
        self.clusters.get(name)
    }

    /// The root an object was rendered from.
    pub fn root_of(&self, o: &RenderedObject) -> &Root {
        &self.roots[o.root]
    }
}

/// Run every rule.
pub fn run_all(ctx: &Ctx, objects: &[RenderedObject]) -> Vec<Finding> {
    let mut out = Vec::new();
    for check in RULES.iter().filter_map(|r| r.check) {
        check(ctx, objects, &mut out);
    }
    out
}

/// A finding about an object; a message starting with a field path (`spec.x[0]: ...`) is attributed to
/// the patch file that sets that path, if any.
fn finding(rule: &str, ctx: &Ctx, o: &RenderedObject, message: impl Into<String>) -> Finding {
    let message = message.into();
    let file = match message.split_once(": ") {
        Some((p, _)) if !p.contains(' ') && p.contains('.') => o.file_for(p),
        _ => o.file.as_str(),
    };
    let mut f = Finding::new(rule, file, o.label(), message);
    f.root = super::root_path(ctx.root_of(o));
    f
}

fn gvk(v: &Value) -> Gvk {
    Gvk::of(v).unwrap_or(Gvk {
        group: String::new(),
        version: String::new(),
        kind: String::new(),
    })
}

fn s<'v>(v: &'v Value, ptr: &str) -> Option<&'v str> {
    v.pointer(ptr).and_then(Value::as_str)
}

fn is_argo(v: &Value, kind: &str) -> bool {
    let g = gvk(v);
    g.group == "argoproj.io" && g.kind == kind
}

/// `clusters/<name>/bootstrap` or below (or, in the legacy layout, the top-level `bootstrap/`).
pub fn in_bootstrap(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    parts.len() >= 3 && parts[0] == "clusters" && parts[2] == "bootstrap" || parts.len() >= 2 && parts[0] == "bootstrap"
}

/// (path, source) of an Application spec's source(s).
fn sources<'v>(spec: Option<&'v Value>, prefix: &str) -> Vec<(String, &'v Value)> {
    let mut out = Vec::new();
    let Some(spec) = spec else { return out };
    if let Some(src) = spec.get("source").filter(|v| v.is_object()) {
        out.push((format!("{prefix}.source"), src));
    }
    if let Some(a) = spec.get("sources").and_then(Value::as_array) {
        for (i, src) in a.iter().enumerate() {
            out.push((format!("{prefix}.sources[{i}]"), src));
        }
    }
    out
}

/// An Application or ApplicationSet's sources: (is it an AppSet, [(path, source)]); `None` for other kinds.
fn argo_sources(v: &Value) -> Option<(bool, Vec<(String, &Value)>)> {
    if is_argo(v, "ApplicationSet") {
        Some((true, sources(v.pointer("/spec/template/spec"), "spec.template.spec")))
    } else if is_argo(v, "Application") {
        Some((false, sources(v.get("spec"), "spec")))
    } else {
        None
    }
}

/// Every generator of an ApplicationSet, matrix/merge children included: (path, generator kind, body).
fn generators(v: &Value) -> Vec<(String, &str, &Value)> {
    fn walk<'v>(g: &'v Value, p: &str, out: &mut Vec<(String, &'v str, &'v Value)>) {
        let Some(m) = g.as_object() else { return };
        for (k, body) in m {
            out.push((p.to_string(), k.as_str(), body));
            if matches!(k.as_str(), "matrix" | "merge") {
                for (i, c) in body
                    .get("generators")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    walk(c, &format!("{p}.{k}.generators[{i}]"), out);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (i, g) in v
        .pointer("/spec/generators")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        walk(g, &format!("spec.generators[{i}]"), &mut out);
    }
    out
}

/// The directories an ApplicationSet's git directory generators include (excludes left out).
fn generator_dirs(v: &Value) -> Vec<String> {
    generators(v)
        .into_iter()
        .filter(|(_, k, _)| *k == "git")
        .flat_map(|(_, _, body)| body.get("directories").and_then(Value::as_array).into_iter().flatten())
        .filter(|d| d.get("exclude").and_then(Value::as_bool) != Some(true))
        .filter_map(|d| d.get("path").and_then(Value::as_str).map(str::to_string))
        .collect()
}
