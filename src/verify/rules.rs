//! The fleet's lint rules. Each has a stable id (the first word of a text finding) and is documented in
//! docs/verify.md.

use super::roots::{self, Root, RootKind};
use super::{Finding, RenderedObject};
use crate::fleet::cluster::ClusterSpec;
use crate::schema::{convert::join_field, Gvk, SchemaSet};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

/// Every rule id verify can report.
pub const RULES: &[&str] = &[
    "render",
    "schema",
    "secret-plaintext",
    "externalsecret-conventions",
    "appset-thin",
    "appset-head",
    "appset-generators",
    "appset-separation",
    "httproute-shared-base",
    "no-user-route",
    "hostname-domain",
    "shared-base-uid",
    "install-method-quarantine",
    "overlay-delta",
    "argocd-rbac",
];

/// What the rules may look at besides the objects.
pub struct Ctx<'a> {
    pub repo: &'a Path,
    pub roots: &'a [Root],
    pub schemas: &'a SchemaSet,
    /// Roots kustomize could not render (reported as `render`); rules comparing roots skip them.
    pub failed: BTreeSet<usize>,
    clusters: HashMap<String, Result<ClusterSpec, String>>,
}

impl<'a> Ctx<'a> {
    pub fn new(repo: &'a Path, roots: &'a [Root], schemas: &'a SchemaSet) -> Ctx<'a> {
        let mut clusters = HashMap::new();
        for r in roots {
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
            clusters,
        }
    }

    /// The cluster description of a cluster directory.
    pub fn cluster(&self, name: &str) -> Option<&Result<ClusterSpec, String>> {
        self.clusters.get(name)
    }
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
    f.root = super::root_path(&ctx.roots[o.root]);
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

/// `clusters/<name>/bootstrap` or below.
pub fn in_bootstrap(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    parts.len() >= 3 && parts[0] == "clusters" && parts[2] == "bootstrap"
}

/// Run every rule.
pub fn run_all(ctx: &Ctx, objects: &[RenderedObject]) -> Vec<Finding> {
    let mut out = Vec::new();
    for o in objects {
        secret_plaintext(ctx, o, &mut out);
        externalsecret_conventions(ctx, o, &mut out);
        appset_rules(ctx, o, &mut out);
        httproute_shared_base(ctx, o, &mut out);
        no_user_route(ctx, o, &mut out);
        hostname_domain(ctx, o, &mut out);
        shared_base_uid(ctx, o, &mut out);
        install_method_quarantine(ctx, o, &mut out);
    }
    appset_project_separation(ctx, objects, &mut out);
    raw_files(ctx, &mut out);
    out.extend(super::delta::overlay_delta(ctx, objects));
    out.extend(super::rbac::argocd_rbac(ctx, objects));
    out
}

// ---------------------------------------------------------------------------------------------
// secret-plaintext

fn secret_plaintext(ctx: &Ctx, o: &RenderedObject, out: &mut Vec<Finding>) {
    if let Some(m) = plaintext_secret(&o.value) {
        out.push(finding("secret-plaintext", ctx, o, m));
    }
}

fn plaintext_secret(v: &Value) -> Option<String> {
    if v.get("kind").and_then(Value::as_str) != Some("Secret")
        || v.get("apiVersion").and_then(Value::as_str) != Some("v1")
    {
        return None;
    }
    let keys: Vec<(&str, &str)> = ["data", "stringData"]
        .iter()
        .filter_map(|f| v.get(*f).and_then(Value::as_object).map(|m| (*f, m)))
        .flat_map(|(f, m)| m.keys().map(move |k| (f, k.as_str())))
        .collect();
    if keys.is_empty() || is_credential_free_repository(v, keys.iter().map(|(_, k)| *k)) {
        return None;
    }
    let listed: Vec<String> = keys.iter().map(|(f, k)| format!("{f}.{k}")).collect();
    Some(format!(
        "Secret with values in Git ({}): use an ExternalSecret from ClusterSecretStore 1password instead",
        listed.join(", ")
    ))
}

/// An Argo CD declarative repository (label `argocd.argoproj.io/secret-type: repository`) that says only
/// where and how to fetch (url, type, enableOCI, ...), with no credential: nothing secret is in Git.
fn is_credential_free_repository<'k>(v: &Value, mut keys: impl Iterator<Item = &'k str>) -> bool {
    const NOT_CREDENTIALS: &[&str] = &[
        "name",
        "type",
        "url",
        "project",
        "enableOCI",
        "enableLfs",
        "insecure",
        "insecureOCIForceHttp",
        "forceHttpBasicAuth",
        "proxy",
        "noProxy",
    ];
    let label = v
        .pointer("/metadata/labels/argocd.argoproj.io~1secret-type")
        .and_then(Value::as_str);
    label == Some("repository") && keys.all(|k| NOT_CREDENTIALS.contains(&k))
}

// ---------------------------------------------------------------------------------------------
// externalsecret-conventions

/// Parse a Go duration (`1h`, `60m`, `1h0m0s`, `3600s`) into seconds.
pub fn duration_secs(d: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut num = String::new();
    let mut chars = d.trim().chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push(chars.next().unwrap());
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        any = true;
    }
    if !num.is_empty() {
        return if num == "0" { Some(0.0) } else { None };
    }
    any.then_some(total)
}

fn externalsecret_conventions(ctx: &Ctx, o: &RenderedObject, out: &mut Vec<Finding>) {
    let g = gvk(&o.value);
    if g.group != "external-secrets.io" {
        return;
    }
    let (spec, prefix) = match g.kind.as_str() {
        "ExternalSecret" => (o.value.get("spec"), "spec"),
        "ClusterExternalSecret" => (o.value.pointer("/spec/externalSecretSpec"), "spec.externalSecretSpec"),
        _ => return,
    };
    let rule = "externalsecret-conventions";
    let Some(spec) = spec else {
        out.push(finding(rule, ctx, o, format!("{prefix} is missing")));
        return;
    };
    match spec.get("refreshInterval").and_then(Value::as_str) {
        Some(r) if duration_secs(r) == Some(3600.0) => {}
        Some(r) => out.push(finding(
            rule,
            ctx,
            o,
            format!("{prefix}.refreshInterval is {r:?}, the convention is \"1h\""),
        )),
        None => out.push(finding(
            rule,
            ctx,
            o,
            format!("{prefix}.refreshInterval is not set, the convention is \"1h\""),
        )),
    }
    match s(spec, "/target/creationPolicy") {
        Some("Owner") => {}
        Some(p) => out.push(finding(
            rule,
            ctx,
            o,
            format!("{prefix}.target.creationPolicy is {p}, the convention is Owner"),
        )),
        None => out.push(finding(
            rule,
            ctx,
            o,
            format!("{prefix}.target.creationPolicy is not set, the convention is Owner"),
        )),
    }
    let kind = s(spec, "/secretStoreRef/kind").unwrap_or("SecretStore");
    let name = s(spec, "/secretStoreRef/name").unwrap_or("");
    if kind != "ClusterSecretStore" || name != "1password" {
        out.push(finding(
            rule,
            ctx,
            o,
            format!("{prefix}.secretStoreRef is {kind}/{name}, the convention is ClusterSecretStore/1password"),
        ));
    }
    if spec
        .get("dataFrom")
        .is_some_and(|d| d.as_array().is_none_or(|a| !a.is_empty()))
    {
        out.push(finding(
            rule,
            ctx,
            o,
            format!("{prefix}.dataFrom is used; map fields one by one with {prefix}.data[].secretKey and remoteRef.key/property"),
        ));
    }
    let data = spec.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
    if data.is_empty() && spec.get("dataFrom").is_none() {
        out.push(finding(rule, ctx, o, format!("{prefix}.data is empty")));
    }
    for (i, d) in data.iter().enumerate() {
        let p = format!("{prefix}.data[{i}]");
        for (ptr, what) in [
            ("/secretKey", "secretKey"),
            ("/remoteRef/key", "remoteRef.key"),
            ("/remoteRef/property", "remoteRef.property"),
        ] {
            if s(d, ptr).is_none_or(str::is_empty) {
                out.push(finding(rule, ctx, o, format!("{p}.{what} is not set")));
            }
        }
        if let Some(store) = d.pointer("/sourceRef/storeRef") {
            let k = s(store, "/kind").unwrap_or("SecretStore");
            let n = s(store, "/name").unwrap_or("");
            if k != "ClusterSecretStore" || n != "1password" {
                out.push(finding(
                    rule,
                    ctx,
                    o,
                    format!("{p}.sourceRef.storeRef is {k}/{n}, the convention is ClusterSecretStore/1password"),
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// appset-thin, appset-head, appset-generators, appset-separation

fn is_argo(v: &Value, kind: &str) -> bool {
    let g = gvk(v);
    g.group == "argoproj.io" && g.kind == kind
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

fn appset_rules(ctx: &Ctx, o: &RenderedObject, out: &mut Vec<Finding>) {
    let v = &o.value;
    let is_appset = is_argo(v, "ApplicationSet");
    let is_app = is_argo(v, "Application");
    if !is_appset && !is_app {
        return;
    }
    let (spec, prefix) = if is_appset {
        (v.pointer("/spec/template/spec"), "spec.template.spec")
    } else {
        (v.get("spec"), "spec")
    };
    let srcs = sources(spec, prefix);
    // appset-thin
    if is_appset {
        for (p, src) in &srcs {
            for block in ["kustomize", "helm", "plugin", "directory"] {
                if src.get(block).is_some() {
                    out.push(finding(
                        "appset-thin",
                        ctx,
                        o,
                        format!("{p}.{block}: override blocks do not belong in the AppSet; put the config in the overlay so `kustomize build` renders it standalone"),
                    ));
                }
            }
        }
        if let Some(tp) = v.pointer("/spec/templatePatch").and_then(Value::as_str) {
            for block in ["kustomize", "helm", "plugin", "directory"] {
                if tp.lines().any(|l| l.trim_start().starts_with(&format!("{block}:"))) {
                    out.push(finding(
                        "appset-thin",
                        ctx,
                        o,
                        format!("spec.templatePatch sets a {block}: block; keep generated Applications thin"),
                    ));
                }
            }
        }
    }
    // appset-head
    for (p, src) in &srcs {
        if src.get("chart").is_some() {
            continue; // a Helm chart source pins a chart version there
        }
        match src.get("targetRevision").and_then(Value::as_str) {
            None | Some("HEAD") => {}
            Some(r) => out.push(finding(
                "appset-head",
                ctx,
                o,
                format!(
                    "{p}.targetRevision is {r:?}: use HEAD (promote at the overlay level, not by pinning Applications)"
                ),
            )),
        }
    }
    if !is_appset {
        return;
    }
    let gens = v
        .pointer("/spec/generators")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut dirs = Vec::new();
    for (i, g) in gens.iter().enumerate() {
        check_generator(ctx, o, g, &format!("spec.generators[{i}]"), &mut dirs, out);
    }
    // appset-separation (within one AppSet)
    let classes: BTreeMap<&str, Vec<&str>> = dirs.iter().fold(BTreeMap::new(), |mut m, d| {
        if let Some(c) = path_class(d) {
            m.entry(c).or_default().push(d.as_str());
        }
        m
    });
    if classes.contains_key("workload") && classes.contains_key("platform") {
        out.push(finding(
            "appset-separation",
            ctx,
            o,
            format!(
                "mixes workload directories ({}) with infrastructure directories ({}); use one AppSet per purpose",
                classes["workload"].join(", "),
                classes["platform"].join(", ")
            ),
        ));
    }
}

fn check_generator(ctx: &Ctx, o: &RenderedObject, g: &Value, p: &str, dirs: &mut Vec<String>, out: &mut Vec<Finding>) {
    let Some(m) = g.as_object() else { return };
    for (k, body) in m {
        match k.as_str() {
            "selector" | "values" | "template" => {}
            "clusters" => {}
            "git" => {
                if let Some(rev) = body.get("revision").and_then(Value::as_str) {
                    if rev != "HEAD" {
                        out.push(finding(
                            "appset-head",
                            ctx,
                            o,
                            format!("{p}.git.revision is {rev:?}: use HEAD"),
                        ));
                    }
                }
                if body.get("files").is_some() {
                    out.push(finding(
                        "appset-generators",
                        ctx,
                        o,
                        format!("{p}.git.files: use a git directory generator (or a cluster generator), not per-cluster file lists"),
                    ));
                }
                match body.get("directories").and_then(Value::as_array) {
                    Some(ds) => {
                        for d in ds {
                            if d.get("exclude").and_then(Value::as_bool) != Some(true) {
                                if let Some(path) = d.get("path").and_then(Value::as_str) {
                                    dirs.push(path.to_string());
                                }
                            }
                        }
                    }
                    None if body.get("files").is_none() => out.push(finding(
                        "appset-generators",
                        ctx,
                        o,
                        format!("{p}.git has no directories"),
                    )),
                    None => {}
                }
            }
            "matrix" | "merge" => {
                for (i, c) in body
                    .get("generators")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    check_generator(ctx, o, c, &format!("{p}.{k}.generators[{i}]"), dirs, out);
                }
            }
            other => out.push(finding(
                "appset-generators",
                ctx,
                o,
                format!(
                    "{p}.{other}: only git directory and cluster generators are allowed (no ad-hoc per-cluster lists)"
                ),
            )),
        }
    }
}

/// `workload` (apps-shared, my-apps) or `platform` (infrastructure, monitoring, database, bootstrap).
pub fn path_class(path: &str) -> Option<&'static str> {
    let segs: Vec<&str> = path.split('/').collect();
    if segs.first() == Some(&"apps-shared") || segs.contains(&"my-apps") {
        Some("workload")
    } else if segs.iter().any(|s| {
        matches!(
            *s,
            "infrastructure" | "monitoring" | "database" | "bootstrap" | "platform"
        )
    }) {
        Some("platform")
    } else {
        None
    }
}

fn appset_class(v: &Value) -> Option<&'static str> {
    fn collect(g: &Value, out: &mut Vec<String>) {
        if let Some(ds) = g.pointer("/git/directories").and_then(Value::as_array) {
            for d in ds {
                if d.get("exclude").and_then(Value::as_bool) != Some(true) {
                    if let Some(p) = d.get("path").and_then(Value::as_str) {
                        out.push(p.to_string());
                    }
                }
            }
        }
        for k in ["matrix", "merge"] {
            for c in g
                .pointer(&format!("/{k}/generators"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                collect(c, out);
            }
        }
    }
    let mut dirs = Vec::new();
    for g in v
        .pointer("/spec/generators")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect(g, &mut dirs);
    }
    let classes: BTreeSet<&str> = dirs.iter().filter_map(|d| path_class(d)).collect();
    if classes.len() == 1 {
        classes.into_iter().next()
    } else {
        None
    }
}

/// One AppProject must not hold both workload and infrastructure AppSets (per cluster).
fn appset_project_separation(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    // (cluster, project) -> class -> objects
    let mut by_project: BTreeMap<(String, String), BTreeMap<&str, Vec<&RenderedObject>>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for o in objects {
        if !is_argo(&o.value, "ApplicationSet") {
            continue;
        }
        let cluster = ctx.roots[o.root].kind.cluster().unwrap_or("").to_string();
        if !seen.insert((cluster.clone(), o.label())) {
            continue;
        }
        let Some(project) = s(&o.value, "/spec/template/spec/project") else {
            continue;
        };
        if project.contains("{{") {
            continue;
        }
        if let Some(c) = appset_class(&o.value) {
            by_project
                .entry((cluster, project.to_string()))
                .or_default()
                .entry(c)
                .or_default()
                .push(o);
        }
    }
    for ((_, project), classes) in by_project {
        if classes.len() < 2 {
            continue;
        }
        let names = |c: &str| classes[c].iter().map(|o| o.label()).collect::<Vec<_>>().join(", ");
        for o in &classes["workload"] {
            out.push(finding(
                "appset-separation",
                ctx,
                o,
                format!(
                    "AppProject {project} is shared by workload AppSets ({}) and infrastructure AppSets ({}); give workloads their own project",
                    names("workload"),
                    names("platform")
                ),
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// httproute-shared-base, shared-base-uid

/// Fields of HTTPRoute only in the experimental channel, used when no standard-channel CRD is loaded.
pub const EXPERIMENTAL_HTTPROUTE_FIELDS: &[&str] = &[
    "spec.useDefaultGateways",
    "spec.rules[].sessionPersistence",
    "spec.rules[].retry",
    "spec.rules[].filters[].externalAuth",
];

fn httproute_shared_base(ctx: &Ctx, o: &RenderedObject, out: &mut Vec<Finding>) {
    if !matches!(ctx.roots[o.root].kind, RootKind::Base { .. }) {
        return;
    }
    let g = gvk(&o.value);
    if g.group != "gateway.networking.k8s.io" || g.kind != "HTTPRoute" {
        return;
    }
    let rule = "httproute-shared-base";
    if g.version != "v1" {
        out.push(finding(
            rule,
            ctx,
            o,
            format!(
                "apiVersion {}: shared bases use the stable gateway.networking.k8s.io/v1",
                g.api_version()
            ),
        ));
    }
    if o.value
        .pointer("/spec/parentRefs")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        out.push(finding(
            rule,
            ctx,
            o,
            "spec.parentRefs must be empty in a shared base: each overlay attaches the route to its cluster's Gateway",
        ));
    }
    let v1 = Gvk {
        version: "v1".into(),
        ..g.clone()
    };
    let standard = ctx.schemas.crd_annotation(&v1, "gateway.networking.k8s.io/channel") == Some("standard");
    let extra: Vec<String> = match ctx.schemas.crd_schema(&v1) {
        Some(schema) if standard => crate::schema::unknown_fields(&o.value, schema),
        _ => experimental_fields(&o.value),
    };
    for f in extra {
        out.push(finding(
            rule,
            ctx,
            o,
            format!(
                "{f}: not a stable (standard channel) v1 field; Cilium's and OpenShift's Gateway API versions differ"
            ),
        ));
    }
}

fn experimental_fields(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for pat in EXPERIMENTAL_HTTPROUTE_FIELDS {
        find_pattern(v, &pat.split('.').collect::<Vec<_>>(), String::new(), &mut out);
    }
    out
}

fn find_pattern(v: &Value, segs: &[&str], path: String, out: &mut Vec<String>) {
    let Some((first, rest)) = segs.split_first() else {
        out.push(path);
        return;
    };
    let (name, each) = match first.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (*first, false),
    };
    let Some(child) = v.get(name) else { return };
    let p = join_field(&path, name);
    if each {
        for (i, item) in child.as_array().into_iter().flatten().enumerate() {
            find_pattern(item, rest, format!("{p}[{i}]"), out);
        }
    } else {
        find_pattern(child, rest, p, out);
    }
}

fn shared_base_uid(ctx: &Ctx, o: &RenderedObject, out: &mut Vec<Finding>) {
    if !matches!(ctx.roots[o.root].kind, RootKind::Base { .. }) {
        return;
    }
    let mut hits = Vec::new();
    find_uid(&o.value, String::new(), &mut hits);
    for h in hits {
        out.push(finding(
            "shared-base-uid",
            ctx,
            o,
            format!("{h}: no fixed UID/fsGroup in a shared base; OpenShift's SCC assigns them (set it in an overlay if a platform needs it)"),
        ));
    }
}

fn find_uid(v: &Value, path: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                let p = join_field(&path, k);
                if k == "securityContext" {
                    for f in ["runAsUser", "fsGroup"] {
                        if c.get(f).is_some_and(|x| !x.is_null()) {
                            out.push(join_field(&p, f));
                        }
                    }
                }
                find_uid(c, p, out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                find_uid(c, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// no-user-route, hostname-domain, install-method-quarantine

fn no_user_route(ctx: &Ctx, o: &RenderedObject, out: &mut Vec<Finding>) {
    let g = gvk(&o.value);
    if g.group == "route.openshift.io" && g.kind == "Route" && !in_bootstrap(&ctx.roots[o.root].rel) {
        out.push(finding(
            "no-user-route",
            ctx,
            o,
            "OpenShift Route outside clusters/<name>/bootstrap: apps use a Gateway API HTTPRoute",
        ));
    }
}

/// Whether `host` (possibly `*.`-prefixed) is `domain` or below it.
pub fn under_domain(host: &str, domain: &str) -> bool {
    let h = host.trim_start_matches("*.").trim_end_matches('.').to_ascii_lowercase();
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    h == d || h.ends_with(&format!(".{d}"))
}

fn hostname_domain(ctx: &Ctx, o: &RenderedObject, out: &mut Vec<Finding>) {
    let g = gvk(&o.value);
    if g.group != "gateway.networking.k8s.io" {
        return;
    }
    let hosts: Vec<(String, String)> = match g.kind.as_str() {
        "HTTPRoute" | "GRPCRoute" | "TLSRoute" => o
            .value
            .pointer("/spec/hostnames")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, h)| h.as_str().map(|h| (format!("spec.hostnames[{i}]"), h.to_string())))
            .collect(),
        "Gateway" => o
            .value
            .pointer("/spec/listeners")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, l)| {
                l.get("hostname")
                    .and_then(Value::as_str)
                    .map(|h| (format!("spec.listeners[{i}].hostname"), h.to_string()))
            })
            .collect(),
        _ => return,
    };
    if hosts.is_empty() {
        return;
    }
    let Some(cluster) = super::root_cluster(&ctx.roots[o.root]) else {
        return;
    };
    let spec = match ctx.cluster(cluster) {
        Some(Ok(spec)) => spec,
        Some(Err(e)) => {
            out.push(finding(
                "hostname-domain",
                ctx,
                o,
                format!("cannot check hostnames of cluster {cluster}: {e}"),
            ));
            return;
        }
        None => return,
    };
    for (p, h) in hosts {
        if !under_domain(&h, &spec.apps_domain) {
            out.push(finding(
                "hostname-domain",
                ctx,
                o,
                format!(
                    "{p}: {h} is not under {} (appsDomain of clusters/{cluster}/cluster.yaml)",
                    spec.apps_domain
                ),
            ));
        }
    }
}

fn install_method_quarantine(ctx: &Ctx, o: &RenderedObject, out: &mut Vec<Finding>) {
    if in_bootstrap(&ctx.roots[o.root].rel) {
        return;
    }
    let g = gvk(&o.value);
    let what = if g.group == "operators.coreos.com"
        && g.kind == "Subscription"
        && s(&o.value, "/spec/name") == Some("openshift-gitops-operator")
    {
        Some("the openshift-gitops-operator Subscription")
    } else if g.group == "argoproj.io" && g.kind == "ArgoCD" {
        Some("an ArgoCD custom resource")
    } else if (is_argo(&o.value, "Application") || is_argo(&o.value, "ApplicationSet"))
        && sources(o.value.get("spec"), "spec")
            .into_iter()
            .chain(sources(o.value.pointer("/spec/template/spec"), "spec.template.spec"))
            .any(|(_, src)| src.get("chart").and_then(Value::as_str) == Some("argo-cd"))
    {
        Some("an Application installing the argo-cd Helm chart")
    } else {
        None
    };
    if let Some(w) = what {
        out.push(finding(
            "install-method-quarantine",
            ctx,
            o,
            format!(
                "{w} belongs under clusters/<name>/bootstrap/ only (Argo CD's install method is quarantined there)"
            ),
        ));
    }
}

/// Whether a YAML document looks like values for the argo-cd Helm chart.
pub fn looks_like_argocd_values(v: &Value) -> bool {
    let Some(m) = v.as_object() else { return false };
    if m.contains_key("apiVersion") || m.contains_key("kind") {
        return false;
    }
    let configs = m.get("configs").and_then(Value::as_object);
    let has_configs = configs.is_some_and(|c| {
        ["cm", "params", "rbac", "repositories", "secret", "cmp"]
            .iter()
            .any(|k| c.contains_key(*k))
    });
    let components = [
        "server",
        "controller",
        "repoServer",
        "applicationSet",
        "redis",
        "dex",
        "notifications",
    ]
    .iter()
    .filter(|k| m.contains_key(**k))
    .count();
    has_configs && components >= 1 || components >= 3 && m.contains_key("global")
}

/// Rules on files themselves: Argo CD Helm values / helmCharts outside bootstrap.
fn raw_files(ctx: &Ctx, out: &mut Vec<Finding>) {
    let mut files = Vec::new();
    for top in ["clusters", "apps-shared"] {
        files.extend(roots::walk_files(&ctx.repo.join(top)));
    }
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !(name.ends_with(".yaml") || name.ends_with(".yml") || name == "Kustomization") {
            continue;
        }
        let rel = roots::rel(ctx.repo, &f);
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Ok(docs) = crate::fleet::render::parse_multi_doc(&text) else {
            continue;
        };
        let bootstrap = in_bootstrap(&rel);
        for d in &docs {
            if !bootstrap && looks_like_argocd_values(d) {
                out.push(Finding::new(
                    "install-method-quarantine",
                    &rel,
                    "",
                    "Argo CD Helm values belong under clusters/<name>/bootstrap/ only (Argo CD's install method is quarantined there)",
                ));
            }
            if !bootstrap && roots::KUSTOMIZATION_FILES.contains(&name.as_str()) {
                for c in d.get("helmCharts").and_then(Value::as_array).into_iter().flatten() {
                    if c.get("name").and_then(Value::as_str) == Some("argo-cd") {
                        out.push(Finding::new(
                            "install-method-quarantine",
                            &rel,
                            "",
                            "helmCharts installs argo-cd outside clusters/<name>/bootstrap/",
                        ));
                    }
                }
            }
        }
    }
}
