//! `fleetctl cluster new`: scaffold `clusters/<name>` and an overlay per shared app from an existing cluster,
//! so that adding cluster N is "copy the folder pattern, fill in the facts" (docs/adding-a-cluster.md).

use super::cluster::{ClusterSpec, Platform};
use crate::error::UserError;
use std::path::{Path, PathBuf};

/// The facts of the new cluster; unset ones become obvious placeholders to fill in.
#[derive(Debug, Clone)]
pub struct NewCluster {
    pub name: String,
    pub platform: Platform,
    pub from: String,
    pub apps_domain: Option<String>,
    pub kube_context: Option<String>,
    pub storage_class: Option<String>,
}

/// What was written, and what the operator still has to do.
#[derive(Debug, Default)]
pub struct Scaffolded {
    pub files: Vec<PathBuf>,
    pub todo: Vec<String>,
}

fn copy_tree(src: &Path, dst: &Path, rewrite: &dyn Fn(&str) -> String, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    let mut entries: Vec<_> = std::fs::read_dir(src)?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let (s, d) = (e.path(), dst.join(e.file_name()));
        if s.is_dir() {
            copy_tree(&s, &d, rewrite, out)?;
        } else {
            match std::fs::read_to_string(&s) {
                Ok(text) => std::fs::write(&d, rewrite(&text))?,
                Err(_) => {
                    std::fs::copy(&s, &d)?;
                }
            }
            out.push(d);
        }
    }
    Ok(())
}

pub fn scaffold(repo: &Path, n: &NewCluster) -> Result<Scaffolded, UserError> {
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
    let from = ClusterSpec::load(repo, &n.from)?;
    let dst = repo.join("clusters").join(&n.name);
    if dst.exists() {
        return Err(UserError::usage(format!("clusters/{} already exists", n.name))
            .subject(dst.display().to_string())
            .next("pick another name, or remove the directory first"));
    }
    let domain = n
        .apps_domain
        .clone()
        .unwrap_or_else(|| format!("apps.{}.example.invalid", n.name));
    let (old_c, new_c) = (format!("clusters/{}/", n.from), format!("clusters/{}/", n.name));
    let (old_o, new_o) = (format!("overlays/{}", n.from), format!("overlays/{}", n.name));
    let old_domain = from.apps_domain.clone();
    let rewrite = |t: &str| {
        t.replace(&old_c, &new_c)
            .replace(&old_o, &new_o)
            .replace(&old_domain, &domain)
    };
    let mut done = Scaffolded::default();
    let io = |e: std::io::Error| {
        UserError::failed(format!("cannot write the scaffold: {e}")).subject(dst.display().to_string())
    };
    copy_tree(&repo.join("clusters").join(&n.from), &dst, &rewrite, &mut done.files).map_err(io)?;

    let mut spec = from.clone();
    spec.name = n.name.clone();
    spec.platform = n.platform;
    spec.apps_domain = domain.clone();
    spec.kube_context = n.kube_context.clone().unwrap_or_else(|| n.name.clone());
    // Another cluster's ID would pin the new one to the wrong cluster; the first run learns its own.
    spec.cluster_id = None;
    if let Some(sc) = &n.storage_class {
        spec.storage_class = sc.clone();
    }
    let yaml = serde_yaml::to_string(&spec).expect("cluster spec serialises");
    let header = format!(
        "# What fleetctl needs to know about this cluster (format: docs/cluster-yaml.md).\n# Scaffolded by `fleetctl cluster new {} --from {}`: check every value.\n",
        n.name, n.from
    );
    std::fs::write(dst.join("cluster.yaml"), header + &yaml).map_err(io)?;

    let mut overlays = 0;
    if let Ok(rd) = std::fs::read_dir(repo.join("apps-shared")) {
        let mut apps: Vec<_> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("overlays").join(&n.from).is_dir())
            .collect();
        apps.sort();
        for app in apps {
            let target = app.join("overlays").join(&n.name);
            if target.exists() {
                continue;
            }
            copy_tree(&app.join("overlays").join(&n.from), &target, &rewrite, &mut done.files).map_err(io)?;
            overlays += 1;
        }
    }
    if n.apps_domain.is_none() {
        done.todo.push(format!(
            "set appsDomain in clusters/{}/cluster.yaml (now {domain}) and the hostnames that use it",
            n.name
        ));
    }
    if n.platform != from.platform {
        done.todo.push(format!(
            "clusters/{0}/bootstrap and infrastructure were copied from a {1} cluster: replace them with the {2} flavour (see clusters/* of a {2} cluster)",
            n.name, from.platform, n.platform
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
