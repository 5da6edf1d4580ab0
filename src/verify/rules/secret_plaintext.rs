//! `secret-plaintext`: a `v1 Secret` with values in Git. An Argo CD repository Secret that only says where
//! and how to fetch (no credential) is allowed.

use super::{finding, Ctx};
use crate::verify::{Finding, RenderedObject};
use serde_json::Value;

pub(super) fn check(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    for o in objects {
        if let Some(m) = plaintext_secret(&o.value) {
            out.push(finding("secret-plaintext", ctx, o, m));
        }
    }
    // Files nothing deploys are still in Git.
    for (file, docs) in &ctx.unrendered {
        for d in docs {
            if let Some(m) = plaintext_secret(d) {
                let m = format!("{m} (no kustomization renders this file, but it is in Git)");
                out.push(Finding::new(
                    "secret-plaintext",
                    file,
                    crate::verify::object_label(d),
                    m,
                ));
            }
        }
    }
}

/// The finding's message when `v` is a Secret holding values, else `None`.
pub fn plaintext_secret(v: &Value) -> Option<String> {
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
