//! The step kinds that are not apply or wait: seeding a secret, running a command, checking criteria,
//! and the builtins (phase-specific logic written in Rust, named in the runbook).

use super::apply::{apply_one, base64_encode, Change};
use crate::checks::{self, source::Source};
use crate::cluster::Cluster;
use crate::error::UserError;
use crate::report::Status;
use crate::runbook::{Loaded, SecretSource, SeedSecretStep};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::time::Duration;

/// Read one secret value. Errors never contain the value.
pub fn read_secret(src: &SecretSource, repo: &Path, env: &[(String, String)]) -> Result<Vec<u8>, UserError> {
    if let Some(f) = &src.file {
        let p = if Path::new(f).is_absolute() {
            Path::new(f).to_path_buf()
        } else {
            repo.join(f)
        };
        return std::fs::read(&p).map_err(|e| {
            UserError::usage(format!("cannot read the secret's source file: {e}"))
                .subject(p.display().to_string())
                .next("fix the path in --answers")
        });
    }
    if let Some(var) = &src.env {
        return std::env::var(var).map(String::into_bytes).map_err(|_| {
            UserError::usage(format!("environment variable {var} is not set")).next(format!("export {var} and retry"))
        });
    }
    if let Some(cmd) = &src.command {
        let mut e = duct::cmd(&cmd[0], &cmd[1..]).stdout_capture().stderr_null().unchecked();
        for (k, v) in env {
            e = e.env(k, v);
        }
        let out = e.run().map_err(|err| {
            UserError::usage(format!("cannot run `{}`: {err}", cmd[0]))
                .next(format!("install {} or use a file source", cmd[0]))
        })?;
        if !out.status.success() {
            return Err(
                UserError::failed(format!("`{}` failed ({})", cmd.join(" "), out.status))
                    .next("check that you are signed in (e.g. `op signin`)"),
            );
        }
        let mut v = out.stdout;
        while v.last() == Some(&b'\n') {
            v.pop();
        }
        return Ok(v);
    }
    Err(UserError::usage("a secret source needs file, env or command"))
}

/// Seed a Secret; no write when it already holds exactly these keys and values.
pub async fn seed_secret(
    cluster: &Cluster,
    s: &SeedSecretStep,
    repo: &Path,
    env: &[(String, String)],
    dry_run: bool,
) -> Result<(u32, String), UserError> {
    let mut data = Map::new();
    for item in &s.data {
        let v = read_secret(&item.from, repo, env)
            .map_err(|e| e.subject(format!("Secret {}/{} key {}", s.namespace, s.name, item.key)))?;
        data.insert(item.key.clone(), Value::String(base64_encode(&v)));
    }
    let keys: Vec<&String> = data.keys().collect();
    let note = format!(
        "Secret {}/{} (keys: {})",
        s.namespace,
        s.name,
        keys.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
    );
    let mut writes = 0;
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": s.namespace}});
    if apply_one(cluster, &ns, dry_run, Duration::from_secs(60)).await? != Change::Unchanged {
        writes += 1;
    }
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": s.type_,
        "metadata": {"name": s.name, "namespace": s.namespace, "labels": {"app.kubernetes.io/managed-by": "fleetctl"}},
        "data": Value::Object(data)});
    match apply_one(cluster, &secret, dry_run, Duration::from_secs(60)).await? {
        Change::Unchanged => Ok((writes, format!("{note} already seeded"))),
        Change::Created => Ok((writes + 1, format!("{note} created"))),
        Change::Updated(_) => Ok((writes + 1, format!("{note} updated"))),
    }
}

/// Run a command step: `observe` (exit 0 = done) first, then `run`.
pub fn command(
    run: &[String],
    observe: Option<&[String]>,
    env: &[(String, String)],
    dry_run: bool,
) -> Result<(u32, String), UserError> {
    let exec = |argv: &[String]| -> Result<std::process::Output, UserError> {
        which::which(&argv[0]).map_err(|_| {
            UserError::usage(format!("`{}` is not on PATH", argv[0])).next(format!("install {}", argv[0]))
        })?;
        let mut e = duct::cmd(&argv[0], &argv[1..])
            .stdout_capture()
            .stderr_capture()
            .unchecked();
        for (k, v) in env {
            e = e.env(k, v);
        }
        e.run()
            .map_err(|err| UserError::failed(format!("cannot run `{}`: {err}", argv.join(" "))))
    };
    if let Some(obs) = observe {
        if exec(obs)?.status.success() {
            return Ok((0, format!("`{}` says it is done", obs.join(" "))));
        }
    }
    if dry_run {
        return Ok((0, format!("would run `{}`", run.join(" "))));
    }
    let out = exec(run)?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(3).collect();
        return Err(UserError::failed(format!(
            "`{}` failed ({}): {}",
            run.join(" "),
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        ))
        .next("fix the cause and run `fleetctl resume`"));
    }
    Ok((1, format!("ran `{}`", run.join(" "))))
}

/// A check step: the named criteria must pass now.
pub async fn check(
    cluster: &Cluster,
    rb: &Loaded,
    ids: &[String],
    spec: &crate::fleet::ClusterSpec,
) -> Result<String, UserError> {
    let src = Source::Live(cluster);
    let mut failed = Vec::new();
    for id in ids {
        let c = rb.criterion(id).expect("validated at load");
        let r = checks::evaluate_for(&[c], &src, spec).await?.remove(0);
        if r.status != Status::Pass && r.status != Status::Skipped {
            let why: Vec<String> = r.details.iter().filter(|d| !d.starts_with("ok:")).cloned().collect();
            failed.push(format!(
                "{id} {}: {}{}",
                r.status.as_str(),
                why.join("; "),
                r.hint.map(|h| format!(" (hint: {h})")).unwrap_or_default()
            ));
        }
    }
    if failed.is_empty() {
        Ok(format!("{} passed", ids.join(", ")))
    } else {
        Err(UserError::failed(format!("check failed: {}", failed.join(" | "))))
    }
}
