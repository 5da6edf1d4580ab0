//! Which trees of a legacy fleet move where (Phase 4), found from the ApplicationSets themselves.
//!
//! A tree is a root-level directory a legacy ApplicationSet generates from (`infrastructure/`,
//! `my-apps/`, `monitoring/`, `database/`, ...), the folder holding the ApplicationSets (the argocd
//! controller's apps folder, which the root Application syncs), and `bootstrap/`. Each has a default
//! destination under `clusters/<cluster>/`; a decision may keep it in place or name another path.

use super::tree::Tree;
use crate::appset::{self, AppSetFile};
use crate::error::UserError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// Top-level directories that are already the new layout, never legacy trees.
const NOT_LEGACY: &[&str] = &["clusters", "apps-shared", "runbooks", "docs", "scripts", "src", "tests"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    /// The decision id (`p4-dest-<tree>`).
    pub id: String,
    /// Where the tree is in the legacy layout (the base commit).
    pub from: String,
    /// Where it ends up (equal to `from`: kept in place).
    pub to: String,
    /// The default destination, for display.
    pub default: String,
    /// A single file (a bootstrap script or its values), not a tree.
    #[serde(default)]
    pub file: bool,
}

/// The moves, parents before children, all in legacy (base commit) coordinates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub moves: Vec<Move>,
}

fn is_prefix(parent: &str, p: &str) -> bool {
    p == parent || (p.starts_with(parent) && p.as_bytes().get(parent.len()) == Some(&b'/'))
}

/// Whether repo path `p` is `parent` or inside it.
pub fn under(parent: &str, p: &str) -> bool {
    !parent.is_empty() && is_prefix(parent, p)
}

/// The folder of a repo path (`""` at the top).
pub fn tree_parent(p: &str) -> &str {
    p.rsplit_once('/').map(|x| x.0).unwrap_or("")
}

pub fn depth(p: &str) -> usize {
    p.split('/').filter(|s| !s.is_empty()).count()
}

impl Plan {
    /// Where a legacy path ends up: the deepest move containing it decides.
    pub fn map(&self, p: &str) -> String {
        let best = self
            .moves
            .iter()
            .filter(|m| is_prefix(&m.from, p))
            .max_by_key(|m| m.from.len());
        match best {
            Some(m) => format!("{}{}", m.to, &p[m.from.len()..]),
            None => p.to_string(),
        }
    }

    /// Where a legacy path is after the first `n` moves ran (for executing move `n`).
    pub fn map_partial(&self, p: &str, n: usize) -> String {
        let best = self.moves[..n]
            .iter()
            .filter(|m| is_prefix(&m.from, p))
            .max_by_key(|m| m.from.len());
        match best {
            Some(m) => format!("{}{}", m.to, &p[m.from.len()..]),
            None => p.to_string(),
        }
    }

    /// Moves of paths strictly inside `p` that do not land where `p`'s own move puts them.
    pub fn sub_moves(&self, p: &str) -> Vec<&Move> {
        self.moves
            .iter()
            .filter(|m| m.from != p && (p.is_empty() || is_prefix(p, &m.from)))
            .filter(|m| {
                let outer = self
                    .moves
                    .iter()
                    .filter(|o| o.from != m.from && is_prefix(&o.from, &m.from));
                let by_parent = match outer.max_by_key(|o| o.from.len()) {
                    Some(o) => format!("{}{}", o.to, &m.from[o.from.len()..]),
                    None => m.from.clone(),
                };
                by_parent != m.to
            })
            .collect()
    }

    /// Whether everything under `p` lands under `map(p)` (no part of it moves elsewhere).
    pub fn moves_whole(&self, p: &str) -> bool {
        self.sub_moves(p).is_empty()
    }

    /// Whether any tree actually moves.
    pub fn moves_anything(&self) -> bool {
        self.moves.iter().any(|m| m.from != m.to)
    }

    /// Map a generator path pattern (`my-apps/*/*`): its literal prefix must lie inside one tree,
    /// or outside every tree. Returns the new pattern and the change in depth.
    pub fn map_pattern(&self, pattern: &str) -> Result<(String, isize), String> {
        let segs: Vec<&str> = pattern.split('/').collect();
        let lit_n = segs
            .iter()
            .position(|s| s.contains(['*', '?', '[', '\\']))
            .unwrap_or(segs.len());
        let lit = segs[..lit_n].join("/");
        let inside = self.moves.iter().any(|m| is_prefix(&m.from, &lit) && !lit.is_empty());
        let spans = self
            .moves
            .iter()
            .any(|m| m.from != m.to && (lit.is_empty() || (is_prefix(&lit, &m.from) && lit != m.from)));
        if !inside && spans {
            return Err(format!(
                "the pattern '{pattern}' matches directories of trees that move to different places"
            ));
        }
        let new_lit = self.map(&lit);
        let delta = depth(&new_lit) as isize - depth(&lit) as isize;
        let mut out = new_lit;
        for s in &segs[lit_n..] {
            out.push('/');
            out.push_str(s);
        }
        Ok((out, delta))
    }
}

/// What discovery found in the working tree.
#[derive(Debug, Clone, Default)]
pub struct Legacy {
    /// Legacy ApplicationSets (outside clusters/).
    pub appsets: Vec<AppSetFile>,
    /// Root-level trees the AppSets generate from, in name order.
    pub trees: Vec<String>,
    /// Folders holding the legacy ApplicationSets (the argocd apps folder).
    pub apps_folders: Vec<String>,
    pub bootstrap: Option<String>,
    /// Bootstrap files outside `bootstrap/`: scripts that install Argo CD or apply the root Application by
    /// hand, and the Helm values files only they read (values a kustomization also reads stay beside it).
    pub bootstrap_files: Vec<String>,
}

/// The literal directory paths an AppSet's git generators name (`directories[].path`, `files[].path`).
pub fn generator_paths(set: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for g in set
        .pointer("/spec/generators")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(git) = g.get("git") else { continue };
        for key in ["directories", "files"] {
            for d in git.get(key).and_then(Value::as_array).into_iter().flatten() {
                if let Some(p) = d.get("path").and_then(Value::as_str) {
                    out.push(p.to_string());
                }
            }
        }
    }
    out
}

/// The git directory generators' paths with their `exclude` flag.
pub fn generator_dirs(set: &Value) -> Vec<(String, bool)> {
    let gens = set
        .pointer("/spec/generators")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    gens.filter_map(|g| g.pointer("/git/directories").and_then(Value::as_array))
        .flatten()
        .filter_map(|d| {
            let p = d.get("path").and_then(Value::as_str)?;
            Some((
                p.to_string(),
                d.get("exclude").and_then(Value::as_bool).unwrap_or(false),
            ))
        })
        .collect()
}

/// Find the legacy layout: ApplicationSets outside `clusters/`, the trees they read, their folder.
pub fn discover(repo: &Path) -> Result<Legacy, UserError> {
    let all = appset::load_appsets(repo, None)?;
    let appsets: Vec<AppSetFile> = all.into_iter().filter(|s| s.cluster().is_none()).collect();
    let mut trees = BTreeSet::new();
    let mut folders: BTreeSet<String> = BTreeSet::new();
    for s in &appsets {
        let dir = s
            .path
            .parent()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        if !dir.is_empty() {
            folders.insert(dir);
        }
        for p in generator_paths(&s.object) {
            let top = p.split('/').next().unwrap_or_default().to_string();
            if top.is_empty() || top.contains(['*', '?', '[']) || NOT_LEGACY.contains(&top.as_str()) {
                continue;
            }
            if repo.join(&top).is_dir() {
                trees.insert(top);
            }
        }
    }
    // The folder a hand-applied root Application syncs is the apps folder when the ApplicationSets live
    // inside it (`<argocd>/apps/appsets/*.yaml` listed by `<argocd>/apps/kustomization.yaml`): it moves
    // whole, so the root keeps building.
    let t = Tree::load(repo);
    let roots: Vec<String> = super::check::hand_applied(&t)
        .iter()
        .filter_map(|(_, _, v)| {
            v.pointer("/spec/source/path")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    let folders: BTreeSet<String> = folders
        .into_iter()
        .map(|f| {
            roots
                .iter()
                .filter(|r| under(r, &f) && !r.is_empty())
                .min_by_key(|r| r.len())
                .cloned()
                .unwrap_or(f)
        })
        .collect();
    // An apps folder at the root level is itself a tree; inside one, it moves on its own.
    for f in &folders {
        if !f.contains('/') {
            trees.remove(f);
        }
    }
    let bootstrap = repo.join("bootstrap").is_dir().then(|| "bootstrap".to_string());
    let tree_list: Vec<String> = trees.iter().cloned().collect();
    let bootstrap_files = super::bootstrap::files(&t, &tree_list);
    Ok(Legacy {
        appsets,
        trees: tree_list,
        apps_folders: folders.into_iter().collect(),
        bootstrap,
        bootstrap_files,
    })
}

/// The decision id for a tree.
pub fn decision_id(from: &str, legacy: &Legacy) -> String {
    if legacy.apps_folders.first().map(String::as_str) == Some(from) {
        return "p4-dest-apps-folder".into();
    }
    format!("p4-dest-{}", from.replace('/', "-"))
}

/// Every tree with its default destination under `clusters/<cluster>/`, parents before children.
pub fn default_moves(legacy: &Legacy, cluster: &str) -> Vec<Move> {
    let base = format!("clusters/{cluster}");
    let mut moves = Vec::new();
    for t in &legacy.trees {
        moves.push(Move {
            id: decision_id(t, legacy),
            from: t.clone(),
            to: format!("{base}/{t}"),
            default: format!("{base}/{t}"),
            file: false,
        });
    }
    for (i, f) in legacy.apps_folders.iter().enumerate() {
        let to = if i == 0 {
            format!("{base}/apps")
        } else {
            format!("{base}/apps-{}", f.rsplit('/').next().unwrap_or(f))
        };
        moves.push(Move {
            id: decision_id(f, legacy),
            from: f.clone(),
            to: to.clone(),
            default: to,
            file: false,
        });
    }
    if let Some(b) = &legacy.bootstrap {
        moves.push(Move {
            id: "p4-dest-bootstrap".into(),
            from: b.clone(),
            to: format!("{base}/bootstrap"),
            default: format!("{base}/bootstrap"),
            file: false,
        });
    }
    for f in &legacy.bootstrap_files {
        let to = format!("{base}/bootstrap/{}", f.rsplit('/').next().unwrap_or(f));
        moves.push(Move {
            id: "p4-dest-bootstrap".into(),
            from: f.clone(),
            to: to.clone(),
            default: to,
            file: true,
        });
    }
    sort_moves(&mut moves);
    moves
}

/// Parents before children (then by name), so each move finds its tree where earlier moves left it.
pub fn sort_moves(moves: &mut [Move]) {
    moves.sort_by(|a, b| depth(&a.from).cmp(&depth(&b.from)).then(a.from.cmp(&b.from)));
}

/// A destination answer: `default`, `keep`, or a relative path inside the repo.
pub fn resolve_answer(m: &Move, answer: &str) -> Result<String, String> {
    let a = answer.trim().trim_end_matches('/');
    match a {
        "" | "default" => Ok(m.default.clone()),
        "keep" => Ok(m.from.clone()),
        // A file goes into the folder named.
        p if m.file => check_rel(p).map(|_| format!("{p}/{}", m.from.rsplit('/').next().unwrap_or(&m.from))),
        p => check_rel(p).map(|_| p.to_string()),
    }
}

/// A path relative to the repo root, without `.`/`..` segments or glob characters.
pub fn check_rel(p: &str) -> Result<(), String> {
    if p.starts_with('/')
        || p.split('/').any(|s| s.is_empty() || s == "." || s == "..")
        || p.contains(['*', '?', '[', '\\', '{'])
    {
        return Err(format!("'{p}' is not a plain path relative to the repository root"));
    }
    // Git's own directory and the tool's state are not part of the fleet.
    if let Some(bad) = p
        .split('/')
        .find(|s| s.eq_ignore_ascii_case(".git") || *s == ".fleetctl")
    {
        return Err(format!("'{p}' is inside {bad}/, which is not part of the fleet tree"));
    }
    Ok(())
}

/// `a=b,c=d`: extra renames inside trees, in legacy coordinates (e.g. `my-apps/privacy=my-apps/private`
/// renames that category inside my-apps wherever my-apps goes).
pub fn parse_renames(s: &str, moves: &[Move]) -> Result<Vec<Move>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (from, to) = part
            .split_once('=')
            .ok_or_else(|| format!("rename '{part}' is not old=new"))?;
        let (from, to) = (from.trim().trim_end_matches('/'), to.trim().trim_end_matches('/'));
        check_rel(from)?;
        check_rel(to)?;
        let parent = moves
            .iter()
            .filter(|m| is_prefix(&m.from, from) && m.from != from)
            .max_by_key(|m| m.from.len())
            .ok_or_else(|| format!("rename '{part}': '{from}' is not inside a tree that moves"))?;
        let plan = Plan { moves: moves.to_vec() };
        // `to` is in legacy coordinates too: it lands where its tree goes.
        let dest = plan.map(to);
        if !is_prefix(&parent.from, to) {
            return Err(format!("rename '{part}': '{to}' must stay inside '{}'", parent.from));
        }
        out.push(Move {
            id: format!("rename:{from}"),
            from: from.to_string(),
            to: dest.clone(),
            default: dest,
            file: false,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(from: &str, to: &str) -> Move {
        Move {
            id: from.into(),
            from: from.into(),
            to: to.into(),
            default: to.into(),
            file: false,
        }
    }

    #[test]
    fn destinations_inside_git_or_outside_the_repo_are_refused() {
        for bad in [
            ".git/x",
            "clusters/.git",
            ".GIT/hooks",
            ".fleetctl/cache",
            "../elsewhere",
            "/tmp/x",
            "a//b",
        ] {
            assert!(check_rel(bad).is_err(), "{bad} accepted");
        }
        assert!(check_rel("clusters/talos/my-apps").is_ok());
        assert!(check_rel("clusters/talos/.github-workflows").is_ok());
    }

    #[test]
    fn deepest_move_wins_and_patterns_map() {
        let p = Plan {
            moves: vec![
                mv("infrastructure", "clusters/talos/infrastructure"),
                mv("infrastructure/controllers/argocd/apps", "clusters/talos/apps"),
            ],
        };
        assert_eq!(
            p.map("infrastructure/controllers/argocd/apps/root.yaml"),
            "clusters/talos/apps/root.yaml"
        );
        assert_eq!(
            p.map("infrastructure/controllers/argocd"),
            "clusters/talos/infrastructure/controllers/argocd"
        );
        assert_eq!(p.map("infrastructure-x/a"), "infrastructure-x/a");
        assert_eq!(
            p.map_partial("infrastructure/controllers/argocd/apps", 1),
            "clusters/talos/infrastructure/controllers/argocd/apps"
        );
        assert_eq!(
            p.map_pattern("infrastructure/*/*").unwrap(),
            ("clusters/talos/infrastructure/*/*".to_string(), 2)
        );
        assert!(p.map_pattern("*/*").is_err());
        assert_eq!(p.map_pattern("other/*").unwrap(), ("other/*".to_string(), 0));
    }

    #[test]
    fn answers_and_renames() {
        let m = mv("my-apps", "clusters/talos/my-apps");
        assert_eq!(resolve_answer(&m, "keep").unwrap(), "my-apps");
        assert_eq!(resolve_answer(&m, "default").unwrap(), "clusters/talos/my-apps");
        assert!(resolve_answer(&m, "../x").is_err());
        let r = parse_renames("my-apps/privacy=my-apps/private", std::slice::from_ref(&m)).unwrap();
        assert_eq!(r[0].to, "clusters/talos/my-apps/private");
        assert!(parse_renames("my-apps/privacy=other/private", &[m]).is_err());
    }
}
