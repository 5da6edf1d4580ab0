//! The seam between the engine and the step kinds: the engine runs any step through [`StepKind`] and knows
//! kinds only by the [`Registry`] it is given (the table lives in `src/steps/mod.rs`). A kind checks its
//! arguments when the runbook is loaded, may plan (render what it will apply) and check read-only things in
//! preflight, runs, and says what it writes. docs/architecture.md has a worked example.

use crate::cluster::Cluster;
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::runbook::{Loaded, Vocabulary};
use crate::ui::Ui;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What a step may change. The engine journals it, and a dry run never runs a kind that writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writes {
    /// Only reads (the repo, or the cluster without writing). Such a kind's preflight may be its whole check.
    Nothing,
    /// Objects in the cluster.
    Cluster,
    /// The fleet repo (a branch and commit), never the cluster.
    Repo,
}

/// What a step did: objects it wrote to the cluster, whether it did any work at all (a wait that had to wait,
/// repo work), and a line for the journal.
#[derive(Debug, Clone)]
pub struct Done {
    pub writes: u32,
    pub acted: bool,
    pub note: String,
}

impl Done {
    /// Nothing needed doing.
    pub fn already(note: impl Into<String>) -> Done {
        Done {
            writes: 0,
            acted: false,
            note: note.into(),
        }
    }
}

impl From<(u32, String)> for Done {
    /// A step that acted exactly when it wrote.
    fn from((writes, note): (u32, String)) -> Done {
        Done {
            writes,
            acted: writes > 0,
            note,
        }
    }
}

/// What planning found out before preflight: the objects the step will apply (preflight checks that the
/// cluster serves their kinds), and the CRDs the step makes served for later steps.
#[derive(Debug, Clone, Default)]
pub struct StepPlan {
    pub objects: Vec<Value>,
    pub provides: Vec<String>,
    /// Repo directories this step makes live (an Application or ApplicationSet it applies or turns on syncs
    /// them), each with how: preflight refuses the step until every decision governing one is answered.
    pub live_paths: Vec<LivePath>,
}

/// A repo directory a step makes live, and the chain that syncs it (e.g. `root -> ApplicationSet
/// infrastructure -> Application lvm-storage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivePath {
    pub path: String,
    pub via: String,
}

/// Where paths named in a runbook point: `runbooks/...` is the runbook library's own files (embedded or an
/// override directory), anything else is the fleet repo.
pub trait PathResolver: Send + Sync {
    fn resolve(&self, path: &str) -> PathBuf;
}

/// A plain fleet repo root resolves every relative path under itself.
impl PathResolver for PathBuf {
    fn resolve(&self, path: &str) -> PathBuf {
        self.join(path)
    }
}

/// Everything a kind may look at while planning (no cluster access).
pub struct PlanCx<'a> {
    pub repo: &'a Path,
    pub paths: &'a dyn PathResolver,
    pub step_id: &'a str,
}

/// Settles one decision by id (asked, or taken from --answers / --yes).
pub type Settle<'s> = dyn Fn(&str) -> Result<String, UserError> + Send + Sync + 's;

/// Everything a kind may use in preflight and when it runs.
pub struct Cx<'a> {
    pub cluster: &'a Cluster,
    pub repo: &'a Path,
    pub paths: &'a dyn PathResolver,
    /// The cluster's reports folder in the state dir, for evidence files.
    pub reports: PathBuf,
    pub ui: &'a Ui,
    pub runbook: &'a Loaded,
    pub spec: &'a ClusterSpec,
    /// The decisions taken so far in this run.
    pub decisions: &'a BTreeMap<String, String>,
    /// Environment for external commands: the kubeconfig and context fleetctl uses.
    pub env: &'a [(String, String)],
    pub step_id: &'a str,
    pub dry_run: bool,
    /// Namespaces a dry run's earlier steps would create (objects in them cannot be dry-run yet).
    pub new_namespaces: &'a Mutex<HashSet<String>>,
    /// Settles a decision the kind needs in preflight (asked, or taken from --answers), for kinds whose
    /// need depends on live state (e.g. replacing a live Secret). `None` once the run has started.
    pub settle: Option<&'a Settle<'a>>,
}

impl Cx<'_> {
    /// In a dry run: whether an earlier step would create namespace `ns`.
    pub fn is_new_namespace(&self, ns: &str) -> bool {
        self.new_namespaces.lock().is_ok_and(|s| s.contains(ns))
    }

    /// In a dry run: namespace `ns` would be created by this step.
    pub fn note_new_namespace(&self, ns: &str) {
        if let Ok(mut s) = self.new_namespaces.lock() {
            s.insert(ns.to_string());
        }
    }
}

/// What a kind's preflight found: nothing, or decisions it had to take (recorded with the run's).
#[derive(Debug, Default)]
pub struct Checked {
    pub decisions: Vec<(String, String)>,
}

/// One kind of step. Implementations live in `src/steps/`, one file each, listed in `steps::registry()`.
#[async_trait::async_trait]
pub trait StepKind: Send + Sync {
    /// The name a runbook uses: a step key (`apply`, `wait`) or a builtin's name (`live-crd-schema`).
    fn name(&self) -> &'static str;

    /// Check the arguments when the runbook is loaded (before any cluster is contacted).
    fn validate(&self, args: &Value) -> Result<(), String>;

    /// What running the step may change.
    fn writes(&self) -> Writes;

    /// Offline work before preflight, e.g. rendering what the step will apply.
    fn plan(&self, _cx: &PlanCx<'_>, _args: &Value) -> Result<StepPlan, UserError> {
        Ok(StepPlan::default())
    }

    /// Read-only checks before the first write of the run.
    async fn preflight(&self, _cx: &Cx<'_>, _args: &Value, _plan: &StepPlan) -> Result<Checked, UserError> {
        Ok(Checked::default())
    }

    /// Observe, act only where needed, wait, verify.
    async fn run(&self, cx: &Cx<'_>, args: &Value, plan: &StepPlan) -> Result<Done, UserError>;

    /// What a dry run says about the step (nothing is written). Kinds that write override it with a plan.
    async fn dry_run(&self, _cx: &Cx<'_>, _args: &Value, _plan: &StepPlan) -> Result<Vec<String>, UserError> {
        Ok(vec![format!("would run ({})", self.name())])
    }

    /// Whether the kind can recommend a decision's answer from the repo (`recommendFrom` in a runbook).
    fn recommends(&self) -> bool {
        false
    }

    /// For kinds that [`recommends`](StepKind::recommends): the recommended option (if any) and the evidence.
    fn recommend(&self, _repo: &Path, _args: &Value) -> Result<(Option<String>, String), UserError> {
        Err(UserError::usage(format!("{} cannot recommend an answer", self.name())))
    }
}

/// A criterion written in Rust (`builtin:` in a criterion): its name and argument check. Evaluation lives in
/// `src/checks/builtin.rs`; the registry lists them so a runbook is checked whole at load.
#[derive(Clone, Copy)]
pub struct CriterionKind {
    pub name: &'static str,
    /// Checks (name, args).
    pub validate: fn(&str, &Value) -> Result<(), String>,
}

/// The table of step kinds and criterion builtins the engine runs; `steps::registry()` builds it.
pub struct Registry {
    pub steps: Vec<Box<dyn StepKind>>,
    pub criteria: Vec<CriterionKind>,
}

impl Registry {
    pub fn get(&self, name: &str) -> Option<&dyn StepKind> {
        self.steps.iter().find(|k| k.name() == name).map(|k| k.as_ref())
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.steps.iter().map(|k| k.name()).collect()
    }
}

impl Vocabulary for Registry {
    fn check_step(&self, kind: &str, args: &Value) -> Result<(), String> {
        match self.get(kind) {
            Some(k) => k.validate(args),
            None => Err(format!(
                "unknown builtin step '{kind}' (known: {})",
                self.names().join(", ")
            )),
        }
    }

    fn check_criterion(&self, name: &str, args: &Value) -> Result<(), String> {
        match self.criteria.iter().find(|c| c.name == name) {
            Some(c) => (c.validate)(name, args),
            None => {
                let known: Vec<&str> = self.criteria.iter().map(|c| c.name).collect();
                Err(format!(
                    "unknown builtin criterion '{name}' (known: {})",
                    known.join(", ")
                ))
            }
        }
    }

    fn can_recommend(&self, name: &str) -> bool {
        self.get(name).is_some_and(|k| k.recommends())
    }
}
