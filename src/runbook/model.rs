//! The runbook data model: what a human reads as the checklist (format: docs/runbooks.md).

use crate::fleet::Platform;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Runbook {
    /// The brief's phase number (1-6, or any number for a sample runbook).
    pub phase: u8,
    pub title: String,
    /// The platforms this runbook may run on; fleetctl refuses any other with zero writes.
    pub platforms: Vec<Platform>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub preflight: Preflight,
    #[serde(default)]
    pub decisions: Vec<Decision>,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub acceptance: Vec<Criterion>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preflight {
    /// Tools that must be on PATH (each entry: any one of the names).
    #[serde(default)]
    pub tools: Vec<ToolRequirement>,
    /// CRDs (by name, e.g. `subscriptions.operators.coreos.com`) that must be served before the first step,
    /// unless an earlier step applies them or declares that it `provides` them.
    #[serde(default)]
    pub crds: Vec<String>,
    /// Read-only observations shown before the run (e.g. the cluster version), with optional warnings.
    #[serde(default)]
    pub show: Vec<Observation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolRequirement {
    pub any: Vec<String>,
    #[serde(default)]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Observation {
    pub label: String,
    pub object: ObjectRef,
    pub field: String,
    /// Warnings shown when the observed value matches.
    #[serde(default)]
    pub warn: Vec<Warning>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Warning {
    /// A substring of the observed value that triggers the warning.
    pub contains: String,
    pub say: String,
}

/// A decision point: asked once, recorded in the journal, shown in status and reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Decision {
    pub id: String,
    pub question: String,
    /// The allowed answers; empty for a free-text answer, whose `input` says what it must be.
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub recommended: Option<String>,
    /// Destructive decisions (wiping a disk, moving trees) are never answered by `--yes`.
    #[serde(default)]
    pub destructive: bool,
    /// A free-text answer and what it must be: `text` (or `true`), `path`, `file`, `json-file`, `cidr`, `ip`,
    /// `hostname`, `integer`. Checked at the prompt and in answers files, before anything is written.
    #[serde(default)]
    pub input: InputType,
    /// Why it matters, shown with the question.
    #[serde(default)]
    pub help: Option<String>,
    /// A builtin that reads the repo and returns the recommended option (overrides `recommended`), e.g.
    /// `detect-backup-design`; its evidence is added to the help.
    #[serde(default)]
    pub recommend_from: Option<BuiltinStep>,
    /// What the decision governs in Git: directories (relative to the repo) whose objects carry its
    /// consequence (the path its `repo-matches` reads). A step that would make one of them live (an `apply`
    /// of Applications, a `git-layer`) refuses to run until the decision is answered, in that run or in an
    /// earlier run of the decision's own phase (docs/runbooks.md, "Decisions before consequences").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub governs: Vec<String>,
}

/// What a free-text answer must be (`input:` of a decision). `input: true` is `text`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputType {
    /// Not a free-text decision: the answer is one of its options.
    #[default]
    None,
    /// Any non-empty text.
    Text,
    /// A path that exists (file or directory); relative paths are resolved as runbook paths are.
    Path,
    /// A readable regular file.
    File,
    /// A readable file holding a JSON object (e.g. 1Password Connect's `1password-credentials.json`).
    JsonFile,
    /// An IPv4 or IPv6 address with a prefix length, e.g. `192.168.10.11/32`.
    Cidr,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A DNS name (RFC 1123 labels), e.g. `api.sno-ai-lab.example.org`.
    Hostname,
    /// A whole number.
    Integer,
}

impl InputType {
    pub const NAMES: [&'static str; 8] = ["text", "path", "file", "json-file", "cidr", "ip", "hostname", "integer"];

    pub fn name(&self) -> Option<&'static str> {
        let i = match self {
            InputType::None => return None,
            InputType::Text => 0,
            InputType::Path => 1,
            InputType::File => 2,
            InputType::JsonFile => 3,
            InputType::Cidr => 4,
            InputType::Ip => 5,
            InputType::Hostname => 6,
            InputType::Integer => 7,
        };
        Some(Self::NAMES[i])
    }

    pub fn is_input(&self) -> bool {
        *self != InputType::None
    }
}

impl std::str::FromStr for InputType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "text" => InputType::Text,
            "path" => InputType::Path,
            "file" => InputType::File,
            "json-file" => InputType::JsonFile,
            "cidr" => InputType::Cidr,
            "ip" => InputType::Ip,
            "hostname" => InputType::Hostname,
            "integer" => InputType::Integer,
            other => {
                return Err(format!(
                    "unknown input type '{other}' (expected {})",
                    Self::NAMES.join(", ")
                ))
            }
        })
    }
}

impl Serialize for InputType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            None => s.serialize_bool(false),
            Some(n) => s.serialize_str(n),
        }
    }
}

impl<'de> Deserialize<'de> for InputType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Flag(bool),
            Type(String),
        }
        match Raw::deserialize(d)? {
            Raw::Flag(false) => Ok(InputType::None),
            Raw::Flag(true) => Ok(InputType::Text),
            Raw::Type(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A reference to one object; `name` may come from another object's field.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub name_from: Option<NameFrom>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NameFrom {
    pub object: Box<ObjectRef>,
    pub field: String,
}

impl ObjectRef {
    /// `Kind namespace/name` as kubectl users read it.
    pub fn display(&self) -> String {
        let name = self.name.clone().unwrap_or_else(|| match &self.name_from {
            Some(n) => format!("<{} of {}>", n.field, n.object.display()),
            None => "?".into(),
        });
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{name}", self.kind),
            None => format!("{} {name}", self.kind),
        }
    }
}

/// A predicate over one object.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expect {
    /// A `status.conditions[]` type; matches when its status equals `status` (default "True").
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    /// A field path; matches per `equals`, `in`, `notEquals`, `exists`, `contains`.
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub equals: Option<Value>,
    #[serde(default, rename = "in")]
    pub one_of: Option<Vec<Value>>,
    #[serde(default)]
    pub not_equals: Option<Value>,
    #[serde(default)]
    pub exists: Option<bool>,
    #[serde(default)]
    pub contains: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Step {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    /// Run the step only when a decision has a given answer.
    #[serde(default)]
    pub when: Option<When>,
    #[serde(default)]
    pub apply: Option<ApplyStep>,
    #[serde(default)]
    pub wait: Option<WaitStep>,
    /// A decision id.
    #[serde(default)]
    pub decide: Option<String>,
    #[serde(default)]
    pub seed_secret: Option<SeedSecretStep>,
    #[serde(default)]
    pub command: Option<CommandStep>,
    /// Acceptance criterion ids that must pass at this point.
    #[serde(default)]
    pub check: Option<Vec<String>>,
    /// A step kind written in Rust, by name, with its arguments.
    #[serde(default)]
    pub builtin: Option<BuiltinStep>,
    /// Only on these platforms (a runbook for several platforms); empty = every platform. A step for
    /// another platform is left out of the plan, and a decision only it uses is not asked.
    #[serde(default)]
    pub platforms: Vec<crate::fleet::Platform>,
}

impl Step {
    pub fn on_platform(&self, p: crate::fleet::Platform) -> bool {
        self.platforms.is_empty() || self.platforms.contains(&p)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct When {
    pub decision: String,
    #[serde(default)]
    pub equals: Option<String>,
    #[serde(default)]
    pub not_equals: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplyStep {
    /// A kustomization directory, relative to the repo root.
    pub path: String,
    /// CRDs an operator installed by this step will serve later (for preflight).
    #[serde(default)]
    pub provides: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WaitStep {
    pub object: ObjectRef,
    /// All must hold.
    pub until: Vec<Expect>,
    /// Any one ends the wait as a failure: at once, or once it has held for `failFastAfter`.
    #[serde(default)]
    pub fail_fast: Vec<Expect>,
    /// How long a `failFast` condition must hold before the wait fails (e.g. `60s`): for states a
    /// controller leaves on its own, like an Application Degraded while External Secrets catches up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_fast_after: Option<String>,
    /// e.g. `5m`, `90s`.
    pub timeout: String,
    /// Shown when the wait fails: the next thing to try.
    #[serde(default)]
    pub hint: Option<String>,
    /// CRDs the awaited operator serves once the wait succeeds.
    #[serde(default)]
    pub provides: Vec<String>,
    /// What creates the awaited object (an Application or ApplicationSet; one, or a list of which the
    /// first that exists counts). While the object does not exist the wait says so and names it; when
    /// none of them exists either, the wait fails at once instead of waiting out its timeout.
    #[serde(default, deserialize_with = "one_or_many", skip_serializing_if = "Vec::is_empty")]
    pub created_by: Vec<ObjectRef>,
}

/// One object reference or a list of them.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ObjectRef>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(ObjectRef),
        Many(Vec<ObjectRef>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(r) => vec![r],
        OneOrMany::Many(v) => v,
    })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSecretStep {
    pub namespace: String,
    pub name: String,
    #[serde(default = "default_secret_type", rename = "type")]
    pub type_: String,
    pub data: Vec<SecretItem>,
    /// A destructive decision whose answer `yes` lets this step replace a live Secret that holds a
    /// different value; without it, a differing live Secret stops the run before any write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_decision: Option<String>,
}

fn default_secret_type() -> String {
    "Opaque".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretItem {
    pub key: String,
    pub from: SecretSource,
}

/// Where a secret value comes from; exactly one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretSource {
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub env: Option<String>,
    /// A command whose stdout is the value (e.g. `[op, read, "op://homelab-prod/item/field"]`).
    #[serde(default)]
    pub command: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommandStep {
    pub run: Vec<String>,
    /// A read-only command; exit 0 means the step is already done.
    #[serde(default)]
    pub observe: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuiltinStep {
    pub name: String,
    #[serde(default)]
    pub args: Value,
}

/// An acceptance criterion with a stable id (`p<phase>.<name>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Criterion {
    pub id: String,
    pub title: String,
    /// One object that must exist and meet `expect`.
    #[serde(default)]
    pub object: Option<ObjectRef>,
    /// One object that must not exist.
    #[serde(default)]
    pub absent: Option<ObjectRef>,
    /// A list of objects; `where` filters it; `count` and `names` are checked on what remains.
    #[serde(default)]
    pub list: Option<ListRef>,
    #[serde(default, rename = "where")]
    pub filter: Vec<Expect>,
    #[serde(default)]
    pub count: Option<usize>,
    #[serde(default)]
    pub names: Option<Vec<String>>,
    /// The ApplicationSet-generated Applications on the cluster must be exactly those the repo generates
    /// (`p4.apps-unchanged`; src/migrate/live.rs).
    #[serde(default)]
    pub generated_apps: Option<GeneratedAppsRef>,
    #[serde(default)]
    pub expect: Vec<Expect>,
    /// Any one of these makes the criterion `fail` (not merely `pending`).
    #[serde(default)]
    pub fail_when: Vec<Expect>,
    /// Field paths recorded as evidence.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// A live probe; `skipped` when evaluating a snapshot.
    #[serde(default)]
    pub probe: Option<Probe>,
    /// Logic written in Rust that reads the fleet repo (e.g. `overlay-delta {app}`); see src/checks/builtin.rs.
    #[serde(default)]
    pub builtin: Option<CriterionBuiltin>,
    /// The fleet repo the runbook was loaded from (set by `runbook::parse`), for `builtin` criteria.
    #[serde(skip)]
    pub repo: Option<std::path::PathBuf>,
    /// Said when the criterion is not passing.
    #[serde(default)]
    pub hint: Option<String>,
    /// More specific hints, chosen by what was observed.
    #[serde(default)]
    pub hints: Vec<ConditionalHint>,
    /// Only on these platforms; `skipped` (not applicable) on others. Empty = every platform.
    #[serde(default)]
    pub platforms: Vec<crate::fleet::Platform>,
    /// Events that turn a criterion that is not passing into `fail`: the object is stuck for a reason that
    /// will not go away by waiting (an SCC refusal, a missing StorageClass).
    #[serde(default)]
    pub fail_on_event: Vec<EventMatch>,
}

/// A core/v1 Event in `namespace` whose involved object and reason match.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventMatch {
    pub namespace: String,
    /// involvedObject.kind
    pub kind: String,
    /// involvedObject.name, exactly ...
    #[serde(default)]
    pub name: Option<String>,
    /// ... or by prefix (a ReplicaSet or Pod of a Deployment).
    #[serde(default)]
    pub name_prefix: Option<String>,
    pub reason: String,
    /// The message must contain this.
    #[serde(default)]
    pub contains: Option<String>,
    /// The hint when it matches.
    pub say: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CriterionBuiltin {
    pub name: String,
    #[serde(default)]
    pub args: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratedAppsRef {
    /// The cluster directory whose ApplicationSets (plus any legacy ones outside clusters/) count.
    pub cluster: String,
    /// The Argo CD namespace holding the Applications.
    pub namespace: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListRef {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub label_selector: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConditionalHint {
    pub when: Vec<Expect>,
    pub say: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Probe {
    /// HTTPS GET of `https://<host><path>`, the host read from an object's field.
    pub host_from: NameFrom,
    #[serde(default = "default_probe_path")]
    pub path: String,
    /// Accept any of these status codes (default: 200-399).
    #[serde(default)]
    pub status: Vec<u16>,
}

fn default_probe_path() -> String {
    "/".into()
}

impl Step {
    /// The step's kind, as named in the runbook.
    pub fn kind_name(&self) -> &'static str {
        if self.apply.is_some() {
            "apply"
        } else if self.wait.is_some() {
            "wait"
        } else if self.decide.is_some() {
            "decide"
        } else if self.seed_secret.is_some() {
            "seedSecret"
        } else if self.command.is_some() {
            "command"
        } else if self.check.is_some() {
            "check"
        } else if self.builtin.is_some() {
            "builtin"
        } else {
            "none"
        }
    }

    pub(crate) fn kind_count(&self) -> usize {
        [
            self.apply.is_some(),
            self.wait.is_some(),
            self.decide.is_some(),
            self.seed_secret.is_some(),
            self.command.is_some(),
            self.check.is_some(),
            self.builtin.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count()
    }

    /// The step's kind and its arguments, as the step registry runs them: a builtin by its own name, every
    /// other kind by its key (`apply`, `wait`, ...) with what the runbook says under it.
    pub fn kind(&self) -> (&str, Value) {
        fn v<T: Serialize>(x: &Option<T>) -> Value {
            x.as_ref()
                .map(|x| serde_json::to_value(x).expect("runbook types serialise"))
                .unwrap_or(Value::Null)
        }
        if let Some(b) = &self.builtin {
            return (b.name.as_str(), b.args.clone());
        }
        let args = match self.kind_name() {
            "apply" => v(&self.apply),
            "wait" => v(&self.wait),
            "decide" => v(&self.decide),
            "seedSecret" => v(&self.seed_secret),
            "command" => v(&self.command),
            "check" => v(&self.check),
            _ => Value::Null,
        };
        (self.kind_name(), args)
    }

    pub fn display_title(&self) -> String {
        self.title.clone().unwrap_or_else(|| self.id.clone())
    }
}
