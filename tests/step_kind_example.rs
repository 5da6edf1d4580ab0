//! The step-kind example of docs/architecture.md, compiled and run: a kind the engine has never heard of,
//! registered in a table beside the built-in ones, checked at load and run through the real engine against
//! a simulated cluster. The doc's code block must be this file's example, word for word.

mod common;

use common::{Fleet, SimProc};
use fleetctl::engine::kind::{Checked, PlanCx};
use std::path::Path;
use std::sync::Arc;

// example:start
use fleetctl::cluster::apply::{apply_one, Change};
use fleetctl::engine::kind::{Cx, Done, StepKind, StepPlan, Writes};
use fleetctl::error::UserError;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

/// `namespace-label {namespace, label, value}`: the namespace carries this label.
pub struct NamespaceLabel;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    namespace: String,
    label: String,
    value: String,
}

fn parse(args: &Value) -> Result<Args, UserError> {
    serde_json::from_value(args.clone()).map_err(|e| UserError::usage(format!("bad args for namespace-label: {e}")))
}

#[async_trait::async_trait]
impl StepKind for NamespaceLabel {
    fn name(&self) -> &'static str {
        "namespace-label"
    }
    // Checked when the runbook is loaded: a typo stops there, with file:line.
    fn validate(&self, args: &Value) -> Result<(), String> {
        parse(args).map(|_| ()).map_err(|e| e.cause)
    }
    fn writes(&self) -> Writes {
        Writes::Cluster
    }
    // Observe, act only where needed: server-side apply writes nothing when the label is already there.
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        let a = parse(args)?;
        let ns = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": a.namespace, "labels": {a.label.clone(): a.value}}});
        match apply_one(cx.cluster, &ns, false, Duration::from_secs(30)).await? {
            Change::Unchanged => Ok(Done::already(format!("namespace {} already labelled", a.namespace))),
            _ => Ok(Done {
                writes: 1,
                acted: true,
                note: format!("labelled namespace {}", a.namespace),
            }),
        }
    }
}
// example:end

const RUNBOOK: &str = r#"phase: 7
title: Label a namespace
platforms: [openshift]
steps:
  - id: label
    builtin:
      name: namespace-label
      args: {namespace: team-a, label: example.org/owner, value: team-a}
acceptance:
  - id: p7.labelled
    title: team-a carries its owner label
    object: {apiVersion: v1, kind: Namespace, name: team-a}
    expect:
      - field: 'metadata.labels["example.org/owner"]'
        equals: team-a
"#;

/// The built-in kinds plus the example, as a program embedding fleetctl's engine would register them.
fn registry() -> &'static fleetctl::engine::Registry {
    let builtin = fleetctl::steps::registry();
    let mut steps: Vec<Box<dyn StepKind>> = vec![Box::new(NamespaceLabel)];
    steps.extend(
        builtin
            .steps
            .iter()
            .map(|k| Box::new(Forward(k.as_ref())) as Box<dyn StepKind>),
    );
    Box::leak(Box::new(fleetctl::engine::Registry {
        steps,
        criteria: builtin.criteria.clone(),
    }))
}

/// A built-in kind, borrowed into another table.
struct Forward(&'static dyn StepKind);

#[async_trait::async_trait]
impl StepKind for Forward {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        self.0.validate(args)
    }
    fn writes(&self) -> Writes {
        self.0.writes()
    }
    fn plan(&self, cx: &PlanCx<'_>, args: &Value) -> Result<StepPlan, UserError> {
        self.0.plan(cx, args)
    }
    async fn preflight(&self, cx: &Cx<'_>, args: &Value, plan: &StepPlan) -> Result<Checked, UserError> {
        self.0.preflight(cx, args, plan).await
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, plan: &StepPlan) -> Result<Done, UserError> {
        self.0.run(cx, args, plan).await
    }
    async fn dry_run(&self, cx: &Cx<'_>, args: &Value, plan: &StepPlan) -> Result<Vec<String>, UserError> {
        self.0.dry_run(cx, args, plan).await
    }
    fn recommends(&self) -> bool {
        self.0.recommends()
    }
    fn recommend(&self, repo: &Path, args: &Value) -> Result<(Option<String>, String), UserError> {
        self.0.recommend(repo, args)
    }
}

fn request(
    fleet: &Fleet,
    kinds: &'static fleetctl::engine::Registry,
    kubeconfig: &Path,
) -> fleetctl::engine::PhaseRequest {
    let books = fleet.path().join("example-runbooks");
    let library = fleetctl::runbook::Library::load(fleet.path(), Some(&books), kinds).expect("the runbook loads");
    fleetctl::engine::PhaseRequest {
        repo: fleet.path().to_path_buf(),
        cluster: "lab".into(),
        phase: 7,
        target: fleetctl::cluster::Target {
            kubeconfig: Some(kubeconfig.to_path_buf()),
            context: None,
        },
        answers: Default::default(),
        answers_file: None,
        yes: false,
        dry_run: false,
        state_root: fleet.state.clone(),
        rehearsal: true,
        ui: fleetctl::ui::Ui::new(fleetctl::ui::Verbosity::Quiet, true),
        library: Arc::new(library),
        kinds,
        api_grace: fleetctl::cluster::API_GRACE,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_engine_runs_a_kind_it_does_not_know_and_a_rerun_writes_nothing() {
    let fleet = Fleet::copy("sample-fleet");
    std::fs::create_dir_all(fleet.path().join("example-runbooks")).unwrap();
    std::fs::write(fleet.path().join("example-runbooks/phase-7.yaml"), RUNBOOK).unwrap();
    let sim = SimProc::start("openshift", "sim-lab", "", 20.0);
    let kinds = registry();

    let report = fleetctl::engine::run_phase(&request(&fleet, kinds, &sim.kubeconfig))
        .await
        .expect("phase 7 runs");
    assert!(report.passed(), "{}", report.to_table());
    let ns = sim.api_get("/api/v1/namespaces/team-a");
    assert_eq!(ns["metadata"]["labels"]["example.org/owner"], "team-a", "{ns}");

    sim.reset_stats();
    let again = fleetctl::engine::run_phase(&request(&fleet, kinds, &sim.kubeconfig))
        .await
        .expect("re-run");
    assert!(again.passed());
    assert_eq!(sim.writes(), 0, "a re-run writes nothing: {}", sim.stats());
    let j = fleet.journal("lab");
    let last = j["runs"].as_array().unwrap().last().unwrap();
    assert_eq!(last["steps"][0]["status"], "already-done", "{last}");
}

#[test]
fn the_built_in_table_does_not_know_the_example_so_the_runbook_is_refused_at_load() {
    let fleet = Fleet::copy("sample-fleet");
    let dir = fleet.path().join("example-runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("phase-7.yaml"), RUNBOOK).unwrap();
    let e = fleetctl::runbook::Library::load(fleet.path(), Some(&dir), fleetctl::steps::registry()).unwrap_err();
    assert!(e.cause.contains("unknown builtin step 'namespace-label'"), "{e}");
    assert!(
        e.subject.as_deref().is_some_and(|s| s.ends_with("phase-7.yaml:5")),
        "{e}"
    );
    // With the example registered, bad arguments are refused at load too.
    std::fs::write(
        dir.join("phase-7.yaml"),
        RUNBOOK.replace("value: team-a}", "valeu: team-a}"),
    )
    .unwrap();
    let e = fleetctl::runbook::Library::load(fleet.path(), Some(&dir), registry()).unwrap_err();
    assert!(e.cause.contains("unknown field `valeu`"), "{e}");
}

#[test]
fn docs_architecture_shows_this_example_word_for_word() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let this = std::fs::read_to_string(root.join("tests/step_kind_example.rs")).unwrap();
    let example = this
        .split("// example:start\n")
        .nth(1)
        .unwrap()
        .split("// example:end")
        .next()
        .unwrap();
    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    assert!(
        doc.contains(example.trim()),
        "docs/architecture.md must show tests/step_kind_example.rs's example"
    );
}
