//! Criteria written in Rust, named in runbooks as `builtin: {name, args}`. They read the fleet repo, not the
//! cluster, so they give the same answer live and against a snapshot.
//!
//! - `overlay-delta {app, strict}`: renders `apps-shared/<app>/overlays/*` and compares them (the rule of
//!   `fleetctl verify`, docs/verify.md). Passes when they differ only in `spec.parentRefs` and
//!   `spec.hostnames`. `strict` (default true) ignores the app's `overlay-delta.yaml` allow-list: the brief's
//!   acceptance for a shared app is exactly those two fields, so an allowed extra delta is reported, not hidden.

use crate::error::UserError;
use crate::report::Status;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

pub const NAMES: &[&str] = &["overlay-delta"];

/// (status, evidence, details) of one evaluation.
pub type Outcome = (Status, crate::report::Evidence, Vec<String>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverlayDeltaArgs {
    app: String,
    #[serde(default = "yes")]
    strict: bool,
}

fn yes() -> bool {
    true
}

pub fn validate(name: &str, args: &Value) -> Result<(), String> {
    match name {
        "overlay-delta" => serde_json::from_value::<OverlayDeltaArgs>(args.clone())
            .map(|_| ())
            .map_err(|e| format!("bad args for builtin criterion {name}: {e}")),
        other => Err(format!(
            "unknown builtin criterion '{other}' (known: {})",
            NAMES.join(", ")
        )),
    }
}

pub fn run(name: &str, args: &Value, repo: Option<&Path>) -> Result<Outcome, UserError> {
    let repo = repo.ok_or_else(|| {
        UserError::usage(format!("builtin criterion '{name}' needs the fleet repo"))
            .next("load the runbook from <repo>/runbooks")
    })?;
    validate(name, args).map_err(UserError::usage)?;
    let a: OverlayDeltaArgs = serde_json::from_value(args.clone()).map_err(|e| UserError::usage(e.to_string()))?;
    let d = crate::verify::delta::app_overlay_delta(repo, &a.app, a.strict)?;
    let mut ev = BTreeMap::new();
    ev.insert("overlays".into(), d.overlays.clone().into());
    ev.insert("allowed".into(), d.allowed.clone().into());
    let mut details = Vec::new();
    if d.overlays.len() < 2 {
        details.push(format!(
            "apps-shared/{}/overlays has {} overlay(s); nothing to compare",
            a.app,
            d.overlays.len()
        ));
        return Ok((Status::Fail, ev, details));
    }
    if d.problems.is_empty() {
        details.push(format!(
            "ok: overlays {} differ only in spec.parentRefs and spec.hostnames",
            d.overlays.join(", ")
        ));
        return Ok((Status::Pass, ev, details));
    }
    details.extend(d.problems.iter().map(|p| format!("differs: {p}")));
    Ok((Status::Fail, ev, details))
}
