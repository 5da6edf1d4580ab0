//! `hostname-domain`: an HTTPRoute (GRPCRoute, TLSRoute) hostname or a Gateway listener hostname must be
//! under the owning cluster's `appsDomain` (`overlays/<c>` and `clusters/<c>/...` belong to
//! `clusters/<c>/cluster.yaml`; a missing cluster.yaml is reported here).

use super::{finding, gvk, Ctx};
use crate::verify::{Finding, RenderedObject};
use serde_json::Value;

const RULE: &str = "hostname-domain";

pub(super) fn check(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    for o in objects {
        check_one(ctx, o, out);
    }
}

/// Whether `host` (possibly `*.`-prefixed) is `domain` or below it.
pub fn under_domain(host: &str, domain: &str) -> bool {
    let h = host.trim_start_matches("*.").trim_end_matches('.').to_ascii_lowercase();
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    h == d || h.ends_with(&format!(".{d}"))
}

/// (path, hostname) of every hostname a Gateway API object names.
fn hostnames(v: &Value, kind: &str) -> Vec<(String, String)> {
    let list = |ptr: &str| {
        v.pointer(ptr)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
    };
    match kind {
        "HTTPRoute" | "GRPCRoute" | "TLSRoute" => list("/spec/hostnames")
            .filter_map(|(i, h)| h.as_str().map(|h| (format!("spec.hostnames[{i}]"), h.to_string())))
            .collect(),
        "Gateway" => list("/spec/listeners")
            .filter_map(|(i, l)| {
                l.get("hostname")
                    .and_then(Value::as_str)
                    .map(|h| (format!("spec.listeners[{i}].hostname"), h.to_string()))
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn check_one(ctx: &Ctx, o: &RenderedObject, out: &mut Vec<Finding>) {
    let g = gvk(&o.value);
    if g.group != "gateway.networking.k8s.io" {
        return;
    }
    let hosts = hostnames(&o.value, &g.kind);
    if hosts.is_empty() {
        return;
    }
    let Some(cluster) = crate::verify::root_cluster(ctx.root_of(o)) else {
        return;
    };
    let spec = match ctx.cluster(cluster) {
        Some(Ok(spec)) => spec,
        Some(Err(e)) => {
            out.push(finding(
                RULE,
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
                RULE,
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
