//! `fleetctl cluster new`: scaffold `clusters/<name>` and an overlay per shared app, from fleetctl's embedded
//! template of the platform (src/fleet/template.rs) or from an existing cluster of the same platform (`--from`),
//! rewriting only the fields that carry the cluster's facts (src/fleet/rewrite.rs; docs/adding-a-cluster.md).

use super::cluster::{ClusterSpec, Platform};
use super::rewrite::{Facts, Rewriter};
use super::template;
use crate::error::UserError;
use std::path::{Path, PathBuf};

/// The facts of the new cluster; unset ones become obvious placeholders to fill in.
#[derive(Debug, Clone)]
pub struct NewCluster {
    pub name: String,
    pub platform: Platform,
    /// A cluster of the same platform to copy; None scaffolds from fleetctl's template of the platform.
    pub from: Option<String>,
    pub apps_domain: Option<String>,
    pub kube_context: Option<String>,
    pub storage_class: Option<String>,
}

/// What was written, and what the operator still has to do.
#[derive(Debug, Default)]
pub struct Scaffolded {
    pub files: Vec<PathBuf>,
    pub todo: Vec<String>,
    /// Where the cluster folder came from: `clusters/<from>` or fleetctl's template.
    pub source: String,
}

/// A source tree read into memory: (path relative to its root, contents; None when not UTF-8).
type Tree = Vec<(PathBuf, Vec<u8>)>;

fn read_tree(root: &Path, rel: &Path, out: &mut Tree) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(root.join(rel))?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let r = rel.join(e.file_name());
        if e.path().is_dir() {
            read_tree(root, &r, out)?;
        } else {
            out.push((r, std::fs::read(e.path())?));
        }
    }
    Ok(())
}

/// One file rewritten for the new cluster: YAML field by field, anything else only in its path tokens.
fn rewrite_file(rw: &Rewriter, rel: &Path, bytes: Vec<u8>) -> Vec<u8> {
    let Ok(text) = String::from_utf8(bytes.clone()) else {
        return bytes;
    };
    let yaml = rel.extension().is_some_and(|e| e == "yaml" || e == "yml");
    if yaml {
        rw.yaml(&text).into_bytes()
    } else {
        rw.paths_only(&text).into_bytes()
    }
}

fn facts_of(dir: &str, spec: &ClusterSpec, repo_url: Option<String>) -> Facts {
    Facts {
        dir: dir.to_string(),
        name: spec.name.clone(),
        apps_domain: spec.apps_domain.clone(),
        storage_class: spec.storage_class.clone(),
        gateway: spec.gateway.clone(),
        repo_url,
    }
}

/// The Git repository the repo's clusters already pull from (a root Application's repoURL), else `origin`.
fn repo_url(repo: &Path) -> Option<String> {
    for c in ClusterSpec::list(repo) {
        let mut t = Tree::new();
        if read_tree(&repo.join("clusters").join(&c), Path::new("bootstrap/root"), &mut t).is_ok() {
            if let Some(u) = t
                .iter()
                .find_map(|(_, b)| template::repo_url_in(&String::from_utf8_lossy(b)))
            {
                return Some(u);
            }
        }
    }
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["remote", "get-url", "origin"])
        .output()
        .ok()?;
    let u = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !u.is_empty()).then_some(u)
}

fn check_names(n: &NewCluster) -> Result<(), UserError> {
    // The name becomes a directory, an overlay name and a kube context; the domain goes into hostnames of
    // Routes, HTTPRoutes and Gateways. Check both before anything is written.
    if let Err(why) = dns1123_label(&n.name) {
        return Err(
            UserError::usage(format!("cluster name '{}' is not a DNS-1123 label: {why}", n.name))
                .next("pick a name like lab2 (lowercase letters, digits and '-', at most 63)"),
        );
    }
    if let Some(d) = &n.apps_domain {
        if let Err(why) = dns1123_subdomain(d) {
            return Err(
                UserError::usage(format!("apps domain '{d}' is not a DNS-1123 subdomain: {why}"))
                    .next("pass --apps-domain like apps.lab2.example.org (lowercase labels joined by '.')"),
            );
        }
    }
    Ok(())
}

/// The cluster folder's source: the `--from` cluster (same platform only) or the platform's template.
fn source(repo: &Path, n: &NewCluster) -> Result<(Tree, ClusterSpec, Facts, String), UserError> {
    let Some(from) = &n.from else {
        let tree = template::files(n.platform)
            .into_iter()
            .map(|(rel, t)| (PathBuf::from(rel), t.as_bytes().to_vec()))
            .collect();
        let what = format!("fleetctl's built-in {} template", n.platform);
        return Ok((tree, template::spec(n.platform), template::facts(n.platform), what));
    };
    let spec = ClusterSpec::load(repo, from)?;
    if spec.platform != n.platform {
        return Err(UserError::usage(format!(
            "--from {from} is a {} cluster and {} is to be {}: --from copies only a cluster of the same platform",
            spec.platform, n.name, n.platform
        ))
        .subject(ClusterSpec::path(repo, from).display().to_string())
        .next(format!(
            "drop --from to scaffold from fleetctl's built-in {} template, or name a cluster whose cluster.yaml says platform: {}",
            n.platform, n.platform
        )));
    }
    let mut tree = Tree::new();
    read_tree(&repo.join("clusters").join(from), Path::new(""), &mut tree)
        .map_err(|e| UserError::usage(format!("cannot read clusters/{from}: {e}")).next("check --from"))?;
    let facts = facts_of(from, &spec, repo_url(repo));
    Ok((tree, spec, facts, format!("clusters/{from}")))
}

pub fn scaffold(repo: &Path, n: &NewCluster) -> Result<Scaffolded, UserError> {
    check_names(n)?;
    let dst = repo.join("clusters").join(&n.name);
    if dst.exists() {
        return Err(UserError::usage(format!("clusters/{} already exists", n.name))
            .subject(dst.display().to_string())
            .next("pick another name, or remove the directory first"));
    }
    let (tree, from_spec, old, source) = source(repo, n)?;
    let domain = n
        .apps_domain
        .clone()
        .unwrap_or_else(|| format!("apps.{}.example.invalid", n.name));
    let mut spec = from_spec.clone();
    spec.name = n.name.clone();
    spec.apps_domain = domain.clone();
    spec.kube_context = n.kube_context.clone().unwrap_or_else(|| n.name.clone());
    // Another cluster's ID would pin the new one to the wrong cluster; the first run learns its own.
    spec.cluster_id = None;
    if let Some(sc) = &n.storage_class {
        spec.storage_class = sc.clone();
    }
    let new = facts_of(&n.name, &spec, repo_url(repo).or_else(|| old.repo_url.clone()));
    let rw = Rewriter { old, new: new.clone() };

    // Plan every file first: a refusal below leaves the repo untouched.
    let mut plan: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for (rel, bytes) in tree {
        if rel != Path::new("cluster.yaml") {
            plan.push((dst.join(&rel), rewrite_file(&rw, &rel, bytes)));
        }
    }
    let yaml = serde_yaml::to_string(&spec).expect("cluster spec serialises");
    let header = format!(
        "# What fleetctl needs to know about this cluster (format: docs/cluster-yaml.md).\n# Scaffolded by `fleetctl cluster new {}` from {source}: check every value.\n",
        n.name
    );
    plan.push((dst.join("cluster.yaml"), (header + &yaml).into_bytes()));
    let overlays = overlays(repo, n, &new, &mut plan)?;

    let mut done = Scaffolded {
        source: source.clone(),
        ..Default::default()
    };
    for (path, bytes) in plan {
        let io = |e: std::io::Error| {
            UserError::failed(format!("cannot write the scaffold: {e}")).subject(path.display().to_string())
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, bytes).map_err(io)?;
        done.files.push(path);
    }
    if n.apps_domain.is_none() {
        done.todo.push(format!(
            "set appsDomain in clusters/{}/cluster.yaml (now {domain}) and the hostnames that use it",
            n.name
        ));
    }
    if n.from.is_none() {
        done.todo.push(format!(
            "clusters/{} is {source} (the reference cluster {}): review infrastructure/ for its site facts (addresses, disks, devices, backup endpoint) and the layer switch in apps/kustomization.yaml",
            n.name, from_spec.name
        ));
    }
    done.todo.push(format!(
        "check gateway (now {}/{}) and storageClass (now {}) in clusters/{}/cluster.yaml, and the parentRefs of the {overlays} new overlays/{}",
        spec.gateway.namespace, spec.gateway.name, spec.storage_class, n.name, n.name
    ));
    done.todo
        .push("run `fleetctl verify` until it is clean, then commit".into());
    Ok(done)
}

/// Plans `overlays/<name>` for every shared app that has a base: derived from the overlay of the `--from`
/// cluster or of another cluster of the same platform, else from the platform's overlay template.
fn overlays(repo: &Path, n: &NewCluster, new: &Facts, plan: &mut Vec<(PathBuf, Vec<u8>)>) -> Result<usize, UserError> {
    let url = repo_url(repo);
    let peers: Vec<Facts> = match &n.from {
        Some(f) => vec![facts_of(f, &ClusterSpec::load(repo, f)?, url.clone())],
        None => ClusterSpec::list(repo)
            .into_iter()
            .filter_map(|c| {
                let s = ClusterSpec::load(repo, &c).ok()?;
                (s.platform == n.platform).then(|| facts_of(&c, &s, url.clone()))
            })
            .collect(),
    };
    let Ok(rd) = std::fs::read_dir(repo.join("apps-shared")) else {
        return Ok(0);
    };
    let mut apps: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("base").is_dir() && !p.join("overlays").join(&n.name).exists())
        .collect();
    apps.sort();
    let read = |e: std::io::Error| UserError::failed(format!("cannot read a shared app: {e}"));
    for app in &apps {
        let target = app.join("overlays").join(&n.name);
        if let Some(peer) = peers.iter().find(|p| app.join("overlays").join(&p.dir).is_dir()) {
            let rw = Rewriter {
                old: peer.clone(),
                new: new.clone(),
            };
            let mut t = Tree::new();
            read_tree(&app.join("overlays").join(&peer.dir), Path::new(""), &mut t).map_err(read)?;
            for (rel, bytes) in t {
                plan.push((target.join(&rel), rewrite_file(&rw, &rel, bytes)));
            }
            continue;
        }
        let mut base = Tree::new();
        read_tree(&app.join("base"), Path::new(""), &mut base).map_err(read)?;
        let has = |kind: &str| {
            base.iter().any(|(_, b)| {
                String::from_utf8_lossy(b)
                    .lines()
                    .any(|l| l.trim() == format!("kind: {kind}"))
            })
        };
        let name = app.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let text = template::overlay(&name, n.platform, new, has("HTTPRoute"), has("PersistentVolumeClaim"));
        plan.push((target.join("kustomization.yaml"), text.into_bytes()));
    }
    Ok(apps.len())
}

/// A DNS-1123 label: 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.len() > 63 {
        return Err(format!("{} characters, at most 63", s.len()));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!("'{c}' is not a lowercase letter, digit or '-'"));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("it must start and end with a letter or digit".into());
    }
    Ok(())
}

/// A DNS-1123 subdomain: at most 253 characters, DNS-1123 labels joined by '.'.
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.len() > 253 {
        return Err(format!("{} characters, at most 253", s.len()));
    }
    for label in s.split('.') {
        dns1123_label(label).map_err(|why| format!("label '{label}': {why}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns1123_names() {
        assert!(dns1123_label("lab2").is_ok());
        assert!(dns1123_label(&"a".repeat(63)).is_ok());
        assert!(dns1123_label(&"a".repeat(64)).is_err());
        assert!(dns1123_label("Lab").is_err());
        assert!(dns1123_label("-a").is_err());
        assert!(dns1123_subdomain("apps.sno-ai-lab.vanillax.xyz").is_ok());
        assert!(dns1123_subdomain("bad domain!").is_err());
        assert!(dns1123_subdomain("a..b").is_err());
        assert!(dns1123_subdomain("a.").is_err());
    }
}
