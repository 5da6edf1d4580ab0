//! The bootstrap of a legacy fleet outside `bootstrap/`: scripts that install Argo CD with Helm or apply the
//! hand-applied root Application (`scripts/bootstrap-argocd.sh`), and the Helm values files only those
//! scripts read. They move to `clusters/<cluster>/bootstrap/` (the brief's target) and are rewritten there.
//! A values file that a kustomization also reads (`helmCharts[].valuesFile`, Argo CD managing itself) stays
//! beside that kustomization: kustomize cannot read files outside its root, and one file must not become two.

use super::check;
use super::kustom;
use super::refs;
use super::tree::{self, Tree};
use std::collections::BTreeSet;

fn is_script(f: &str, text: &str) -> bool {
    f.ends_with(".sh") || f.ends_with(".bash") || text.starts_with("#!")
}

/// Bootstrap files, outside the trees that move and outside `bootstrap/` (which moves whole).
pub fn files(t: &Tree, trees: &[String]) -> Vec<String> {
    let roots: Vec<String> = check::hand_applied(t).into_iter().map(|(f, _, _)| f).collect();
    let read_by_kustomize: BTreeSet<String> = kustom::all_files(t)
        .iter()
        .flat_map(|kf| {
            let k: serde_json::Value = serde_yaml::from_str(&t.read(kf).unwrap_or_default()).unwrap_or_default();
            kustom::local_refs(&k)
                .into_iter()
                .filter_map(|r| tree::join(tree::parent(kf), &r))
                .collect::<Vec<_>>()
        })
        .collect();
    let inside = |f: &str| {
        f.starts_with("bootstrap/")
            || f.starts_with("clusters/")
            || trees.iter().any(|tr| f.starts_with(&format!("{tr}/")))
    };
    let mut out = BTreeSet::new();
    for f in t.files.iter().filter(|f| !inside(f) && !f.starts_with('.')) {
        let Some(text) = t.read(f) else { continue };
        if !is_script(f, &text) {
            continue;
        }
        let named = refs::paths_named(&text, f);
        let installs_argocd = text.lines().any(|l| l.contains("helm") && l.contains("argo-cd"));
        let applies_root = roots.iter().any(|r| named.contains(r));
        if !(installs_argocd || applies_root) {
            continue;
        }
        out.insert(f.clone());
        for p in named {
            let values = (p.ends_with(".yaml") || p.ends_with(".yml"))
                && t.exists(&p)
                && !t.is_dir(&p)
                && !read_by_kustomize.contains(&p)
                && !roots.contains(&p)
                && t.read(&p).is_some_and(|v| check::is_live_config(&p, &v));
            if values && !inside(&p) {
                out.insert(p);
            }
        }
    }
    out.into_iter().collect()
}
