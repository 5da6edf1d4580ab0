//! `fleetctl appset generate`: expand the repo's ApplicationSets offline and report shared-resource conflicts.

use super::{Globals, ListFormat};
use crate::appset;
use crate::error::UserError;

pub fn generate(g: &Globals, cluster: Option<String>, output: ListFormat) -> Result<i32, UserError> {
    let scope = cluster
        .as_deref()
        .map(|c| appset::cluster_scope(&g.repo, c))
        .transpose()?;
    let sets = appset::load_appsets(&g.repo, scope.as_deref())?;
    // A legacy single-cluster fleet (before Phase 4) may have neither clusters/ nor apps-shared/ but has
    // ApplicationSets; a directory with neither is not a fleet repo, as for `verify`.
    if sets.is_empty() {
        crate::fleet::require_fleet_repo(&g.repo)?;
    }
    let apps = appset::generate(&g.repo, &sets)?;
    let check = appset::check(&g.repo, &apps);
    let failed = check.unchecked.iter().filter(|u| u.failed).count();
    match output {
        ListFormat::Json => {
            let v = serde_json::json!({
                "applications": appset::to_json(&apps),
                "conflicts": check.conflicts,
                "unchecked": check.unchecked,
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        ListFormat::Table => {
            print!("{}", appset::to_table(&apps));
            for c in &check.conflicts {
                println!("conflict: {c}");
            }
            for u in &check.unchecked {
                println!("{u}");
            }
            eprintln!(
                "{} ApplicationSets, {} Applications, {} shared-resource conflicts, {} sources not checked ({} failed to render)",
                sets.len(),
                apps.len(),
                check.conflicts.len(),
                check.unchecked.len(),
                failed
            );
        }
    }
    Ok(if check.conflicts.is_empty() && failed == 0 {
        0
    } else {
        1
    })
}
