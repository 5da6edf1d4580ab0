//! A kubeconfig for the simulated cluster: cluster, user and context all named `context`.

use std::path::Path;

pub fn render(url: &str, context: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {context}
  cluster:
    server: {url}
users:
- name: {context}
  user:
    token: simulated-cluster-token
contexts:
- name: {context}
  context:
    cluster: {context}
    user: {context}
    namespace: default
current-context: {context}
preferences: {{}}
"
    )
}

pub fn write(path: &Path, yaml: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, yaml)?;
    Ok(())
}
