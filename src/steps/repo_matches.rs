//! `repo-matches {path, kind, name, field, equals|contains|notEquals, fix}`: a decision taken at a decision
//! point must be what Git says (GitOps: the cluster follows Git, so fleetctl never overrides it on the side).
//! Renders `path` and compares one field; on a mismatch it stops before any write and says what to change.
//! Reads only the repo, so it runs in preflight and again as its step.

use crate::engine::kind::{Checked, Cx, Done, PathResolver, StepKind, StepPlan, Writes};
use crate::error::UserError;
use crate::fleet::render::Kustomize;
use crate::runbook::path::{scalar_string, FieldPath};
use serde::Deserialize;
use serde_json::Value;

pub struct RepoMatches;

#[async_trait::async_trait]
impl StepKind for RepoMatches {
    fn name(&self) -> &'static str {
        "repo-matches"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        let a = parse(args).map_err(|e| e.cause)?;
        FieldPath::parse(&a.field)?;
        match (&a.equals, &a.contains, &a.not_equals) {
            (Some(_), None, None) | (None, Some(_), None) | (None, None, Some(_)) => Ok(()),
            _ => Err(format!(
                "{} needs exactly one of equals, contains, notEquals",
                self.name()
            )),
        }
    }
    fn writes(&self) -> Writes {
        Writes::Nothing
    }
    async fn preflight(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Checked, UserError> {
        repo_matches(cx.paths, &parse(args)?).map(|_| Checked::default())
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        repo_matches(cx.paths, &parse(args)?).map(Done::from)
    }
}

fn parse(args: &Value) -> Result<RepoMatchesArgs, UserError> {
    serde_json::from_value(args.clone()).map_err(|e| UserError::usage(format!("bad args for repo-matches: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RepoMatchesArgs {
    path: String,
    kind: String,
    name: String,
    field: String,
    #[serde(default)]
    equals: Option<String>,
    #[serde(default)]
    contains: Option<String>,
    /// Git must not say this value (e.g. an image known not to fit, or a destructive flag that was not
    /// answered yes); an absent field qualifies.
    #[serde(default, rename = "notEquals")]
    not_equals: Option<String>,
    fix: String,
}

fn repo_matches(paths: &dyn PathResolver, a: &RepoMatchesArgs) -> Result<(u32, String), UserError> {
    let objects = Kustomize::find()?.render(&paths.resolve(&a.path))?;
    let subject = format!("{} {} in {}", a.kind, a.name, a.path);
    let obj = objects
        .iter()
        .find(|o| {
            o.get("kind").and_then(Value::as_str) == Some(&a.kind)
                && o.pointer("/metadata/name").and_then(Value::as_str) == Some(&a.name)
        })
        .ok_or_else(|| {
            UserError::usage(format!("{} {} is not in the rendered {}", a.kind, a.name, a.path)).subject(a.path.clone())
        })?;
    let path = FieldPath::parse(&a.field).map_err(UserError::usage)?;
    let got = path.get(obj);
    let seen = got.map(scalar_string).unwrap_or_else(|| "<absent>".into());
    let (ok, want) = match (&a.equals, &a.contains) {
        (Some(e), _) => (seen == *e, e.clone()),
        (_, Some(c)) => {
            let hit = match got {
                Some(Value::Array(items)) => items.iter().any(|i| scalar_string(i).contains(c.as_str())),
                Some(v) => scalar_string(v).contains(c.as_str()),
                None => false,
            };
            (hit, format!("something containing {c}"))
        }
        _ => match &a.not_equals {
            Some(n) => (seen != *n, format!("anything but {n}")),
            None => (false, String::new()),
        },
    };
    if ok {
        return Ok((0, format!("Git agrees: {} {} = {seen}", a.kind, a.field)));
    }
    Err(UserError::usage(format!(
        "Git does not match the decision: {} is {seen}, the decision wants {want}",
        a.field
    ))
    .subject(subject)
    .next(format!(
        "{}; commit and push, then run the phase again (nothing was written)",
        a.fix
    )))
}
