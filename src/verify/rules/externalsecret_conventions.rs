//! `externalsecret-conventions`: every ExternalSecret (or a ClusterExternalSecret's `externalSecretSpec`)
//! follows the fleet convention: `refreshInterval` 1h, `target.creationPolicy: Owner`, ClusterSecretStore
//! `1password`, and every `data[]` mapped field by field.

use super::{finding, gvk, s, Ctx};
use crate::verify::{Finding, RenderedObject};
use serde_json::Value;

const RULE: &str = "externalsecret-conventions";

pub(super) fn check(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    for o in objects {
        check_one(ctx, o, out);
    }
}

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

fn check_one(ctx: &Ctx, o: &RenderedObject, out: &mut Vec<Finding>) {
    let g = gvk(&o.value);
    if g.group != "external-secrets.io" {
        return;
    }
    let (spec, prefix) = match g.kind.as_str() {
        "ExternalSecret" => (o.value.get("spec"), "spec"),
        "ClusterExternalSecret" => (o.value.pointer("/spec/externalSecretSpec"), "spec.externalSecretSpec"),
        _ => return,
    };
    let Some(spec) = spec else {
        out.push(finding(RULE, ctx, o, format!("{prefix} is missing")));
        return;
    };
    let mut push = |m: String| out.push(finding(RULE, ctx, o, m));
    match spec.get("refreshInterval").and_then(Value::as_str) {
        Some(r) if duration_secs(r) == Some(3600.0) => {}
        Some(r) => push(format!("{prefix}.refreshInterval is {r:?}, the convention is \"1h\"")),
        None => push(format!("{prefix}.refreshInterval is not set, the convention is \"1h\"")),
    }
    match s(spec, "/target/creationPolicy") {
        Some("Owner") => {}
        Some(p) => push(format!(
            "{prefix}.target.creationPolicy is {p}, the convention is Owner"
        )),
        None => push(format!(
            "{prefix}.target.creationPolicy is not set, the convention is Owner"
        )),
    }
    if let Some(m) = store_problem(spec.get("secretStoreRef"), &format!("{prefix}.secretStoreRef")) {
        push(m);
    }
    if spec
        .get("dataFrom")
        .is_some_and(|d| d.as_array().is_none_or(|a| !a.is_empty()))
    {
        push(format!(
            "{prefix}.dataFrom is used; map fields one by one with {prefix}.data[].secretKey and remoteRef.key/property"
        ));
    }
    let data = spec.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
    if data.is_empty() && spec.get("dataFrom").is_none() {
        push(format!("{prefix}.data is empty"));
    }
    for (i, d) in data.iter().enumerate() {
        let p = format!("{prefix}.data[{i}]");
        for (ptr, what) in [
            ("/secretKey", "secretKey"),
            ("/remoteRef/key", "remoteRef.key"),
            ("/remoteRef/property", "remoteRef.property"),
        ] {
            if s(d, ptr).is_none_or(str::is_empty) {
                push(format!("{p}.{what} is not set"));
            }
        }
        if let Some(store) = d.pointer("/sourceRef/storeRef") {
            if let Some(m) = store_problem(Some(store), &format!("{p}.sourceRef.storeRef")) {
                push(m);
            }
        }
    }
}

/// A store reference other than ClusterSecretStore `1password` (a missing reference counts as
/// `SecretStore/`).
fn store_problem(store: Option<&Value>, path: &str) -> Option<String> {
    let kind = store.and_then(|v| s(v, "/kind")).unwrap_or("SecretStore");
    let name = store.and_then(|v| s(v, "/name")).unwrap_or("");
    (kind != "ClusterSecretStore" || name != "1password")
        .then(|| format!("{path} is {kind}/{name}, the convention is ClusterSecretStore/1password"))
}
