//! `seedSecret`: the irreducible trust bootstrap (FACTS §10): a Secret seeded once from a file, an environment
//! variable or a command (`op read ...`), never from Git. Preflight reads every source (none may be empty) and
//! compares with a live Secret: a different live value is replaced only on the explicit answer `yes` to the
//! step's destructive `replaceDecision`. Values never appear in output, journal or reports.

use crate::cluster::apply::{apply_one, base64_encode, Change};
use crate::cluster::Cluster;
use crate::engine::kind::{Checked, Cx, Done, PathResolver, StepKind, StepPlan, Writes};
use crate::error::UserError;
use crate::runbook::{SecretSource, SeedSecretStep};
use serde_json::{json, Map, Value};
use std::time::Duration;

pub struct SeedSecret;

#[async_trait::async_trait]
impl StepKind for SeedSecret {
    fn name(&self) -> &'static str {
        "seedSecret"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        let s = parse(args).map_err(|e| e.cause)?;
        for item in &s.data {
            let f = &item.from;
            let n = [f.file.is_some(), f.env.is_some(), f.command.is_some()]
                .iter()
                .filter(|b| **b)
                .count();
            if n != 1 {
                return Err(format!("key '{}' needs exactly one of file, env, command", item.key));
            }
        }
        Ok(())
    }
    fn writes(&self) -> Writes {
        Writes::Cluster
    }
    async fn preflight(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Checked, UserError> {
        preflight(cx, &parse(args)?).await
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        let s = parse(args)?;
        let may_replace = s
            .replace_decision
            .as_ref()
            .is_some_and(|d| cx.decisions.get(d).is_some_and(|v| v == "yes"));
        seed_secret(cx.cluster, &s, cx.paths, cx.env, false, may_replace)
            .await
            .map(Done::from)
    }
}

fn parse(args: &Value) -> Result<SeedSecretStep, UserError> {
    serde_json::from_value(args.clone()).map_err(|e| UserError::usage(format!("bad seedSecret: {e}")))
}

/// Every source readable and non-empty; a live Secret with a different value needs the destructive answer.
async fn preflight(cx: &Cx<'_>, s: &SeedSecretStep) -> Result<Checked, UserError> {
    let mut wanted = Vec::new();
    for item in &s.data {
        let v = read_secret(&item.from, cx.paths, cx.env).map_err(|e| source_error(cx, &item.key, e))?;
        wanted.push((item.key.clone(), v));
    }
    let Some(live) = cx.cluster.get("v1", "Secret", Some(&s.namespace), &s.name).await? else {
        return Ok(Checked::default());
    };
    let differ = differing_keys(&live, &wanted);
    if differ.is_empty() {
        return Ok(Checked::default());
    }
    let refused =
        |answered: Option<&str>| replace_refused(s, &differ, answered).subject(format!("step '{}'", cx.step_id));
    let what = format!("Secret {}/{} ({})", s.namespace, s.name, differ.join(", "));
    let answered_yes = s
        .replace_decision
        .as_ref()
        .is_some_and(|d| cx.decisions.get(d).is_some_and(|v| v == "yes"));
    // A dry run writes nothing: it says what a real run would need instead of stopping.
    if cx.dry_run && !answered_yes {
        let need = match &s.replace_decision {
            Some(d) => format!("a real run needs the destructive answer {d}: yes"),
            None => "a real run refuses to replace it (the step has no replaceDecision)".to_string(),
        };
        cx.ui.warn(&format!(
            "step '{}': would replace the live value of {what}; {need}",
            cx.step_id
        ));
        return Ok(Checked::default());
    }
    let Some(d) = s.replace_decision.as_deref() else {
        return Err(refused(None));
    };
    let v = match (cx.decisions.get(d), cx.settle) {
        (Some(v), _) => v.clone(),
        (None, Some(settle)) => settle(d).map_err(|_| refused(None))?,
        (None, None) => return Err(refused(None)),
    };
    if v != "yes" {
        return Err(refused(Some(&v)));
    }
    cx.ui.warn(&format!(
        "step '{}': replacing the live value of {what}, as decision {d} says",
        cx.step_id
    ));
    Ok(Checked {
        decisions: vec![(d.to_string(), v)],
    })
}

/// A source that cannot be read, named with its key and the decision that chose it (if any).
fn source_error(cx: &Cx<'_>, key: &str, e: UserError) -> UserError {
    let from = source_decision(cx, key);
    let e = e.subject(format!(
        "step '{}' key {key}{}",
        cx.step_id,
        from.as_ref().map(|d| format!(", decision {d}")).unwrap_or_default()
    ));
    match from {
        Some(d) if e.cause.ends_with(" is empty") => e.next(format!(
            "put the value there (a failed `op read ... > file` leaves an empty file) or answer {d} \
             with another source, then retry; nothing was written"
        )),
        _ => e,
    }
}

/// The decision a seedSecret item's source names (`{{ answers.ID }}` in the runbook as written), if any.
fn source_decision(cx: &Cx<'_>, key: &str) -> Option<String> {
    let step = cx.runbook.runbook.steps.iter().find(|s| s.id == cx.step_id)?;
    let f = &step.seed_secret.as_ref()?.data.iter().find(|i| i.key == key)?.from;
    let text = f.file.as_deref().or(f.env.as_deref())?;
    let rest = &text[text.find("answers.")? + "answers.".len()..];
    let id: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!id.is_empty()).then_some(id)
}

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
pub fn read_secret(
    src: &SecretSource,
    paths: &dyn PathResolver,
    env: &[(String, String)],
) -> Result<Vec<u8>, UserError> {
    let (v, what) = read_raw(src, paths, env)?;
    let v = strip_line_ends(v);
    if v.iter().all(u8::is_ascii_whitespace) {
        return Err(UserError::usage(format!("the secret source {what} is empty")).next(
            "put the value there (a failed `op read ... > file` leaves an empty file) and retry; nothing was written",
        ));
    }
    Ok(v)
}

/// The source's bytes as read, and how to name the source in a message.
fn read_raw(
    src: &SecretSource,
    paths: &dyn PathResolver,
    env: &[(String, String)],
) -> Result<(Vec<u8>, String), UserError> {
    if let Some(f) = &src.file {
        let p = paths.resolve(f);
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
async fn seed_secret(
    cluster: &Cluster,
    s: &SeedSecretStep,
    paths: &dyn PathResolver,
    env: &[(String, String)],
    dry_run: bool,
    may_replace: bool,
) -> Result<(u32, String), UserError> {
    let mut data = Map::new();
    let mut wanted = Vec::new();
    for item in &s.data {
        let v = read_secret(&item.from, paths, env)
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
fn replace_refused(s: &SeedSecretStep, keys: &[String], answered: Option<&str>) -> UserError {
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
        let e = read_secret(&src, &dir.path().to_path_buf(), &[]).unwrap_err();
        assert_eq!(e.code, 2);
        assert!(e.cause.ends_with(" is empty"), "{e}");
        std::fs::write(&f, "s3cr3t\r\n").unwrap();
        assert_eq!(read_secret(&src, &dir.path().to_path_buf(), &[]).unwrap(), b"s3cr3t");
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
