//! `command`: an external command (`run`), skipped when its read-only `observe` command exits 0. It runs
//! with the kubeconfig and context fleetctl uses, and is killed if the run is interrupted.

use crate::engine::kind::{Cx, Done, StepKind, StepPlan, Writes};
use crate::error::UserError;
use crate::runbook::CommandStep;
use serde_json::Value;
use std::time::Duration;

pub struct Command;

#[async_trait::async_trait]
impl StepKind for Command {
    fn name(&self) -> &'static str {
        "command"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        let c = parse(args).map_err(|e| e.cause)?;
        if c.run.is_empty() {
            return Err("command.run is empty".into());
        }
        Ok(())
    }
    fn writes(&self) -> Writes {
        Writes::Cluster
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        let c = parse(args)?;
        command(&c.run, c.observe.as_deref(), cx.env, false)
            .await
            .map(Done::from)
    }
}

fn parse(args: &Value) -> Result<CommandStep, UserError> {
    serde_json::from_value(args.clone()).map_err(|e| UserError::usage(format!("bad command: {e}")))
}

/// Run a command step: `observe` (exit 0 = done) first, then `run`. The command runs while the async run
/// stays responsive: when the run is dropped (Ctrl-C), the command is killed rather than left to write.
async fn command(
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
