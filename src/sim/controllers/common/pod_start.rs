//! What stops a container from starting once its pod is scheduled, as the kubelet sees it (docs/sim.md):
//! a Secret it mounts or reads that does not exist, and `runAsNonRoot` with no `runAsUser` on an image whose
//! USER is not a number (the kubelet cannot verify it is non-root). No image is pulled: an image's USER comes
//! from the small table below, from the images' published Dockerfiles; an image not listed is taken to run as
//! a numeric non-root user.

use crate::fleet::Platform;
use crate::sim::controllers::Ctx;
use serde_json::Value;

/// (image repository, its Dockerfile's USER): "" is root (no USER line).
pub const IMAGE_USERS: &[(&str, &str)] = &[
    // upstream Redlib's Dockerfile: `USER redlib` (a name)
    ("quay.io/redlib/redlib", "redlib"),
    // 1Password Connect's images: `USER opuser`
    ("1password/connect-api", "opuser"),
    ("1password/connect-sync", "opuser"),
    // Vaultwarden's image has no USER line: it runs as root
    ("vaultwarden/server", ""),
    ("docker.io/vaultwarden/server", ""),
];

/// The USER an image declares, if the table knows the image.
pub fn image_user(image: &str) -> Option<&'static str> {
    let repo = image.split('@').next().unwrap_or(image);
    let repo = match repo.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => repo,
    };
    IMAGE_USERS.iter().find(|(r, _)| *r == repo).map(|(_, u)| *u)
}

/// Why the kubelet will not start a container of this pod: (event reason, message), or None.
pub fn blocked(ctx: &Ctx, ns: &str, pod: &str, spec: &Value) -> Option<(String, String)> {
    missing_secret(ctx, ns, spec).or_else(|| non_numeric_user(ctx, pod, spec))
}

fn secret_exists(ctx: &Ctx, ns: &str, name: &str) -> bool {
    ctx.world.store.get("secrets", ns, name).is_some()
}

fn missing_secret(ctx: &Ctx, ns: &str, spec: &Value) -> Option<(String, String)> {
    for v in spec["volumes"].as_array().into_iter().flatten() {
        let Some(s) = v.get("secret") else { continue };
        let name = s["secretName"].as_str().unwrap_or("");
        if s["optional"] != true && !secret_exists(ctx, ns, name) {
            let vol = v["name"].as_str().unwrap_or("");
            return Some((
                "FailedMount".into(),
                format!("MountVolume.SetUp failed for volume \"{vol}\" : secret \"{name}\" not found"),
            ));
        }
    }
    for c in spec["containers"].as_array().into_iter().flatten() {
        let from_env = c["env"].as_array().into_iter().flatten().filter_map(|e| {
            let r = e.pointer("/valueFrom/secretKeyRef")?;
            (r["optional"] != true).then(|| r["name"].as_str().unwrap_or("").to_string())
        });
        let from_envfrom = c["envFrom"].as_array().into_iter().flatten().filter_map(|e| {
            let r = e.get("secretRef")?;
            (r["optional"] != true).then(|| r["name"].as_str().unwrap_or("").to_string())
        });
        if let Some(name) = from_env.chain(from_envfrom).find(|n| !secret_exists(ctx, ns, n)) {
            return Some(("Failed".into(), format!("Error: secret \"{name}\" not found")));
        }
    }
    None
}

/// `runAsNonRoot` and no `runAsUser`: the kubelet must read the image's USER, and refuses a name. On OpenShift
/// the SCC (restricted-v2) sets `runAsUser` on admission, so this never applies there.
fn non_numeric_user(ctx: &Ctx, pod: &str, spec: &Value) -> Option<(String, String)> {
    if ctx.world.platform == Platform::Openshift {
        return None;
    }
    let pod_sc = &spec["securityContext"];
    for c in spec["containers"].as_array().into_iter().flatten() {
        let sc = &c["securityContext"];
        let non_root = sc["runAsNonRoot"].as_bool().or(pod_sc["runAsNonRoot"].as_bool()) == Some(true);
        let uid = sc["runAsUser"].as_i64().or(pod_sc["runAsUser"].as_i64());
        if !non_root || uid.is_some() {
            continue;
        }
        let image = c["image"].as_str().unwrap_or("");
        let name = c["name"].as_str().unwrap_or("");
        let msg = match image_user(image) {
            Some("") | Some("0") | Some("root") => format!(
                "Error: container has runAsNonRoot and image will run as root (pod: \"{pod}\", container: {name})"
            ),
            Some(u) if u.parse::<u64>().is_err() => format!(
                "Error: container has runAsNonRoot and image has non-numeric user ({u}), cannot verify user is non-root (pod: \"{pod}\", container: {name})"
            ),
            _ => continue,
        };
        return Some(("Failed".into(), msg));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::image_user;

    #[test]
    fn image_users_by_repository() {
        assert_eq!(image_user("quay.io/redlib/redlib:latest"), Some("redlib"));
        assert_eq!(image_user("quay.io/redlib/redlib@sha256:abc"), Some("redlib"));
        assert_eq!(image_user("vaultwarden/server:1.34.3"), Some(""));
        assert_eq!(image_user("ghcr.io/example/app:1"), None);
    }
}
