//! Handing an app from the ApplicationSet that generates it today to the shared one, without churn.
//!
//! What Argo CD does when the old entry leaves its ApplicationSet (argo-cd `applicationset/controllers`,
//! `deleteInCluster`; docs "Application Pruning & Resource Deletion"): the ApplicationSet controller deletes
//! the generated Application. Generated Applications carry `resources-finalizer.argocd.argoproj.io` unless
//! the ApplicationSet sets `spec.syncPolicy.preserveResourcesOnDeletion: true` (the controller rewrites
//! every generated Application's finalizers on each reconcile, so a hand-removed finalizer comes back), and
//! with that finalizer the deletion cascades to the app's Deployment, Service, PVCs... The shared
//! Application would then recreate them: downtime, and for a PVC, lost data. With the ApplicationSet
//! preserving resources the old Application goes without touching them and the new one adopts them.
//! `applicationsSync: create-only | create-update` never deletes the old Application at all, so two
//! Applications would own the same objects (`FailOnSharedResource` fails the new one forever).
//!
//! So `share` refuses unless the old ApplicationSet preserves resources, and it excludes the old entry with a
//! git directories generator's `exclude: true` (the only generator it edits; others are refused by name).

use crate::appset::pathmatch::Pattern;
use crate::appset::AppSetFile;
use crate::error::UserError;
use serde_json::Value;

const RESOURCES_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";

/// Why deleting the old Application would touch its objects, if it would.
pub fn cascade_risk(set: &AppSetFile) -> Option<String> {
    let o = &set.object;
    let policy = o.pointer("/spec/syncPolicy");
    let sync = policy
        .and_then(|p| p.get("applicationsSync"))
        .and_then(Value::as_str)
        .unwrap_or("sync");
    if matches!(sync, "create-only" | "create-update") {
        return Some(format!(
            "its spec.syncPolicy.applicationsSync is {sync}: Argo CD would never delete the old Application, and two \
             Applications would own the same objects"
        ));
    }
    let finalizer_in_template = o
        .pointer("/spec/template/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .any(|f| f.starts_with(RESOURCES_FINALIZER))
        });
    if finalizer_in_template {
        return Some(format!(
            "its template names the {RESOURCES_FINALIZER} finalizer: deleting the old Application deletes its objects"
        ));
    }
    let preserve = policy
        .and_then(|p| p.get("preserveResourcesOnDeletion"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    (!preserve).then(|| {
        format!(
            "it does not set spec.syncPolicy.preserveResourcesOnDeletion: true, so the Applications it generates carry \
             the {RESOURCES_FINALIZER} finalizer and removing the old one deletes its objects before the shared \
             Application recreates them"
        )
    })
}

/// The refusal for a cascade risk, with the two-step way through.
pub fn refusal(set: &AppSetFile, app_name: &str, risk: &str) -> UserError {
    UserError::failed(format!(
        "refusing to share: removing {app_name} from ApplicationSet {} would not be zero-churn: {risk}",
        set.name
    ))
    .subject(set.location())
    .next(format!(
        "first merge `spec.syncPolicy.preserveResourcesOnDeletion: true` on ApplicationSet {} alone, check \
         `kubectl get application -n {} {app_name} -o jsonpath='{{.metadata.finalizers}}'` shows no {RESOURCES_FINALIZER}, \
         then run share again; nothing was changed",
        set.name,
        set.namespace.as_deref().unwrap_or("argocd"),
    ))
}

/// Add `- path: <dir>` / `exclude: true` to the git directories generator of `set` that selects `dir`;
/// returns the new file text and the 1-based line of the added entry.
pub fn exclude(file_text: &str, set: &AppSetFile, dir: &str, note: &str) -> Result<(String, usize), UserError> {
    let generators = set
        .object
        .pointer("/spec/generators")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut pattern = None;
    for g in &generators {
        let Some(dirs) = g.pointer("/git/directories").and_then(Value::as_array) else {
            continue;
        };
        for e in dirs {
            let p = e.get("path").and_then(Value::as_str).unwrap_or("");
            let excluded = e.get("exclude").and_then(Value::as_bool).unwrap_or(false);
            if !excluded && Pattern::new(p).is_ok_and(|pat| pat.matches(dir)) {
                pattern = Some(p.to_string());
            }
        }
    }
    let Some(pattern) = pattern else {
        let kinds: Vec<String> = generators
            .iter()
            .filter_map(|g| g.as_object())
            .flat_map(|m| m.keys().cloned())
            .collect();
        return Err(UserError::usage(format!(
            "ApplicationSet {} generates {dir} from a generator share does not edit ({}); only a top-level git \
             directories generator is excluded automatically",
            set.name,
            kinds.join(", ")
        ))
        .subject(set.location())
        .next("exclude the entry by hand in the same commit, or move the app with git yourself; nothing was changed"));
    };
    insert_after_entry(file_text, set.line, &pattern, dir, note).ok_or_else(|| {
        UserError::usage(format!(
            "cannot find the line `- path: {pattern}` of ApplicationSet {} to add the exclusion after",
            set.name
        ))
        .subject(set.location())
        .next("write the directories entry in block style (`- path: ...`) or exclude the app by hand")
    })
}

/// Insert the exclusion entry after the directories item whose `path` is `pattern` (searching from the
/// document's first line), at that item's indentation.
fn insert_after_entry(text: &str, from_line: usize, pattern: &str, dir: &str, note: &str) -> Option<(String, usize)> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let unquote = |s: &str| s.trim().trim_matches(['"', '\'']).to_string();
    let at = (from_line.saturating_sub(1)..lines.len()).find(|&i| {
        let t = lines[i].trim_start();
        t.strip_prefix("- path:")
            .map(|v| unquote(v.split(" #").next().unwrap_or(v)) == pattern)
            .unwrap_or(false)
    })?;
    let indent = lines[at].len() - lines[at].trim_start().len();
    // The item ends before the next line indented no deeper than its dash.
    let mut end = at + 1;
    while end < lines.len() {
        let l = lines[end];
        let depth = l.len() - l.trim_start().len();
        if !l.trim().is_empty() && depth <= indent {
            break;
        }
        end += 1;
    }
    let pad = &lines[at][..indent];
    let entry = format!("{pad}- path: {dir}   # {note}\n{pad}  exclude: true\n");
    let mut out = String::with_capacity(text.len() + entry.len());
    for l in &lines[..end] {
        out.push_str(l);
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&entry);
    for l in &lines[end..] {
        out.push_str(l);
    }
    Some((out, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exclusion_goes_after_the_matching_item_at_its_indentation() {
        let text = "spec:\n  generators:\n    - git:\n        directories:\n          - path: my-apps/*/*\n          - path: my-apps/common/*\n            exclude: true\n  template: {}\n";
        let (out, line) = insert_after_entry(text, 1, "my-apps/*/*", "my-apps/privacy/redlib", "shared").unwrap();
        assert_eq!(line, 6);
        assert!(out.contains(
            "          - path: my-apps/*/*\n          - path: my-apps/privacy/redlib   # shared\n            exclude: true\n          - path: my-apps/common/*\n"
        ), "{out}");
        let v: serde_yaml::Value = serde_yaml::from_str(&out).unwrap();
        assert_eq!(
            v["spec"]["generators"][0]["git"]["directories"]
                .as_sequence()
                .unwrap()
                .len(),
            3
        );
    }
}
