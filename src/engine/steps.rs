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

/// Drop trailing line ends (`\n` and `\r\n`): `op read ... > file` and `echo` add one, and a token carrying
/// it would not authenticate.
fn strip_line_ends(mut v: Vec<u8>) -> Vec<u8> {
    while v.last() == Some(&b'\n') {
        v.pop();
        if v.last() == Some(&b'\r') {
            v.pop();
        }
    }
    v
}

/// Read one secret value, without trailing line ends. An empty or whitespace-only value is refused: it is
/// what a failed `op read ... > file` leaves behind, and seeding it would wipe a working credential.
/// Errors never contain the value.
pub fn read_secret(src: &SecretSource, repo: &Path, env: &[(String, String)]) -> Result<Vec<u8>, UserError> {
    let (v, what) = read_raw(src, repo, env)?;
    let v = strip_line_ends(v);
    if v.iter().all(u8::is_ascii_whitespace) {
        return Err(UserError::usage(format!("the secret source {what} is empty")).next(
            "put the value there (a failed `op read ... > file` leaves an empty file) and retry; nothing was written",
        ));
    }
    Ok(v)
}

/// The source's bytes as read, and how to name the source in a message.
fn read_raw(src: &SecretSource, repo: &Path, env: &[(String, String)]) -> Result<(Vec<u8>, String), UserError> {
    if let Some(f) = &src.file {
        let p = if Path::new(f).is_absolute() {
            Path::new(f).to_path_buf()
        } else {
            repo.join(f)
        };
        let v = std::fs::read(&p).map_err(|e| {
            UserError::usage(format!("cannot read the secret's source file: {e}"))
                .subject(p.display().to_string())
                .next("fix the path in --answers")
        })?;
        return Ok((v, format!("file {}", p.display())));
    }
    if let Some(var) = &src.env {
        let v = std::env::var(var).map(String::into_bytes).map_err(|_| {
            UserError::usage(format!("environment variable {var} is not set")).next(format!("export {var} and retry"))
        })?;
        return Ok((v, format!("environment variable {var}")));
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
        return Ok((out.stdout, format!("(output of `{}`)", cmd.join(" "))));
    }
    Err(UserError::usage("a secret source needs file, env or command"))
}

/// The keys whose value in the live Secret differs from `wanted` (key -> value). Keys the live Secret
/// lacks are not listed: adding a key replaces nothing. Compares bytes; never prints a value.
pub fn differing_keys(live: &Value, wanted: &[(String, Vec<u8>)]) -> Vec<String> {
    wanted
        .iter()
        .filter(|(k, v)| {
            let Some(have) = live.get("data").and_then(|d| d.get(k)) else {
                return false;
            };
            let have = have.as_str().and_then(|h| base64_decode(h.as_bytes()));
            have.as_deref() != Some(v.as_slice())
        })
        .map(|(k, _)| k.clone())
        .collect()
}

fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// Seed a Secret; no write when it already holds exactly these keys and values.
pub async fn seed_secret(
    cluster: &Cluster,
    s: &SeedSecretStep,
    repo: &Path,
    env: &[(String, String)],
    dry_run: bool,
    may_replace: bool,
) -> Result<(u32, String), UserError> {
    let mut data = Map::new();
    let mut wanted = Vec::new();
    for item in &s.data {
        let v = read_secret(&item.from, repo, env)
            .map_err(|e| e.subject(format!("Secret {}/{} key {}", s.namespace, s.name, item.key)))?;
        data.insert(item.key.clone(), Value::String(base64_encode(&v)));
        wanted.push((item.key.clone(), v));
    }
    if !may_replace {
        if let Some(live) = cluster.get("v1", "Secret", Some(&s.namespace), &s.name).await? {
            let differ = differing_keys(&live, &wanted);
            if !differ.is_empty() {
                return Err(replace_refused(s, &differ, None));
            }
        }
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

/// The error for a live Secret that would be replaced without an explicit answer (no value in it).
pub fn replace_refused(s: &SeedSecretStep, keys: &[String], answered: Option<&str>) -> UserError {
    let what = format!(
        "Secret {}/{} already holds a different value for {}",
        s.namespace,
        s.name,
        keys.join(", ")
    );
    match (&s.replace_decision, answered) {
        (Some(d), Some(a)) => UserError::usage(format!("{what}; decision {d} is '{a}', so it is not replaced"))
            .next(format!(
                "answer `{d}: yes` in --answers to replace the live credential, or point the source at the live value; nothing was written"
            )),
        (Some(d), None) => UserError::usage(format!(
            "{what}; replacing a live credential needs the destructive decision {d} (never answered by --yes)"
        ))
        .next(format!(
            "add `{d}: yes` to an --answers file to replace it, or point the source at the live value; nothing was written"
        )),
        (None, _) => UserError::usage(format!("{what}; this step cannot replace a live credential"))
            .next("point the source at the live value, or give the step a destructive `replaceDecision` and answer it yes; nothing was written"),
    }
}

/// Run a command step: `observe` (exit 0 = done) first, then `run`. The command runs while the async run
/// stays responsive: when the run is dropped (Ctrl-C), the command is killed rather than left to write.
pub async fn command(
    run: &[String],
    observe: Option<&[String]>,
    env: &[(String, String)],
    dry_run: bool,
) -> Result<(u32, String), UserError> {
    if let Some(obs) = observe {
        if exec(obs, env).await?.status.success() {
            return Ok((0, format!("`{}` says it is done", obs.join(" "))));
        }
    }
    if dry_run {
        return Ok((0, format!("would run `{}`", run.join(" "))));
    }
    let out = exec(run, env).await?;
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

/// A started command, killed if dropped before it finished.
struct KillOnDrop {
    handle: duct::Handle,
    finished: bool,
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.handle.kill();
        }
    }
}

/// Run one external command with the run's environment, polling so the caller can be cancelled.
async fn exec(argv: &[String], env: &[(String, String)]) -> Result<std::process::Output, UserError> {
    which::which(&argv[0])
        .map_err(|_| UserError::usage(format!("`{}` is not on PATH", argv[0])).next(format!("install {}", argv[0])))?;
    let mut e = duct::cmd(&argv[0], &argv[1..])
        .stdout_capture()
        .stderr_capture()
        .unchecked();
    for (k, v) in env {
        e = e.env(k, v);
    }
    let cannot = |err: std::io::Error| UserError::failed(format!("cannot run `{}`: {err}", argv.join(" ")));
    let mut child = KillOnDrop {
        handle: e.start().map_err(cannot)?,
        finished: false,
    };
    loop {
        match child.handle.try_wait() {
            Ok(Some(out)) => {
                let out = out.clone();
                child.finished = true;
                return Ok(out);
            }
            Ok(None) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(err) => {
                child.finished = true;
                return Err(cannot(err));
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_are_stripped_and_blank_values_refused() {
        assert_eq!(strip_line_ends(b"tok\n".to_vec()), b"tok");
        assert_eq!(strip_line_ends(b"tok\r\n\n".to_vec()), b"tok");
        assert_eq!(strip_line_ends(b"a\nb".to_vec()), b"a\nb");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t");
        let src = SecretSource {
            file: Some(f.display().to_string()),
            env: None,
            command: None,
        };
        std::fs::write(&f, " \r\n").unwrap();
        let e = read_secret(&src, dir.path(), &[]).unwrap_err();
        assert_eq!(e.code, 2);
        assert!(e.cause.ends_with(" is empty"), "{e}");
        std::fs::write(&f, "s3cr3t\r\n").unwrap();
        assert_eq!(read_secret(&src, dir.path(), &[]).unwrap(), b"s3cr3t");
    }

    #[test]
    fn only_keys_with_a_different_live_value_differ() {
        let live = json!({"data": {"a": base64_encode(b"one"), "b": base64_encode(b"two")}});
        let wanted = vec![
            ("a".to_string(), b"one".to_vec()),
            ("b".to_string(), b"TWO".to_vec()),
            ("c".to_string(), b"new".to_vec()),
        ];
        assert_eq!(differing_keys(&live, &wanted), vec!["b".to_string()]);
    }
}
