//! `install-method-quarantine`: Argo CD's install method stays under `clusters/<name>/bootstrap/`: Argo CD
//! Helm values files, kustomize `helmCharts` of `argo-cd`, the `openshift-gitops-operator` Subscription,
//! ArgoCD CRs and Applications of the `argo-cd` chart are reported anywhere else.

use super::{gvk, in_bootstrap, is_argo, s, sources, Ctx};
use crate::verify::roots;
use crate::verify::{Finding, RenderedObject};
use serde_json::Value;

const RULE: &str = "install-method-quarantine";

pub(super) fn check(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    for o in objects {
        if in_bootstrap(&ctx.root_of(o).rel) {
            continue;
        }
        if let Some(w) = install_method(&o.value) {
            out.push(super::finding(
                RULE,
                ctx,
                o,
                format!(
                    "{w} belongs under clusters/<name>/bootstrap/ only (Argo CD's install method is quarantined there)"
                ),
            ));
        }
    }
    raw_files(ctx, out);
}

/// What install method an object is, if it is one.
fn install_method(v: &Value) -> Option<&'static str> {
    let g = gvk(v);
    if g.group == "operators.coreos.com"
        && g.kind == "Subscription"
        && s(v, "/spec/name") == Some("openshift-gitops-operator")
    {
        Some("the openshift-gitops-operator Subscription")
    } else if g.group == "argoproj.io" && g.kind == "ArgoCD" {
        Some("an ArgoCD custom resource")
    } else if (is_argo(v, "Application") || is_argo(v, "ApplicationSet"))
        && sources(v.get("spec"), "spec")
            .into_iter()
            .chain(sources(v.pointer("/spec/template/spec"), "spec.template.spec"))
            .any(|(_, src)| src.get("chart").and_then(Value::as_str) == Some("argo-cd"))
    {
        Some("an Application installing the argo-cd Helm chart")
    } else {
        None
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
    for f in ctx.files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !(name.ends_with(".yaml") || name.ends_with(".yml") || name == "Kustomization") {
            continue;
        }
        let rel = roots::rel(ctx.repo, f);
        if in_bootstrap(&rel) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        // Only Argo CD values (`configs`, `global`) or `helmCharts` can be reported: skip parsing the rest.
        if !(text.contains("configs") || text.contains("global") || text.contains("helmCharts")) {
            continue;
        }
        let Ok(docs) = crate::fleet::render::parse_multi_doc(&text) else {
            continue;
        };
        let kustomization = roots::KUSTOMIZATION_FILES.contains(&name.as_str());
        for d in &docs {
            if looks_like_argocd_values(d) {
                out.push(Finding::new(
                    RULE,
                    &rel,
                    "",
                    "Argo CD Helm values belong under clusters/<name>/bootstrap/ only (Argo CD's install method is quarantined there)",
                ));
            }
            let charts = d.get("helmCharts").and_then(Value::as_array).into_iter().flatten();
            for _ in charts.filter(|c| kustomization && c.get("name").and_then(Value::as_str) == Some("argo-cd")) {
                out.push(Finding::new(
                    RULE,
                    &rel,
                    "",
                    "helmCharts installs argo-cd outside clusters/<name>/bootstrap/",
                ));
            }
        }
    }
}
