//! fleetctl: runs a GitOps fleet's phases as idempotent, resumable runbooks.
//!
//! Where each concept lives:
//! - `cli`: the command-line definition (one source for help, completions, man page) and thin commands.
//! - `runbook`: the runbook model, loaded from `runbooks/*.yaml` and validated with file:line errors.
//! - `engine`: preflight, then observe -> act -> wait -> verify for every step; the step kinds.
//! - `cluster`: cluster access (kubeconfig, retries, discovery, server-side apply) and identity checks.
//! - `journal`: the per-cluster state dir: atomic journal, run lock, resume.
//! - `checks`: acceptance criteria, evaluated against a live cluster or a snapshot.
//! - `report`: the evidence report and its renderers (table, JSON, Markdown, JUnit).
//! - `fleet`: the fleet repo: `clusters/<name>/cluster.yaml`, kustomize rendering.
//! - `schema`: validation of objects against CRD and core Kubernetes schemas.
//! - `verify`, `appset`: offline repo tooling.
//! - `sim`: the simulated cluster used by tests and `fleetctl rehearse`.

pub mod appset;
pub mod checks;
pub mod cli;
pub mod cluster;
pub mod decide;
pub mod engine;
pub mod error;
pub mod fleet;
pub mod journal;
pub mod migrate;
pub mod report;
pub mod runbook;
pub mod schema;
pub mod share;
pub mod sim;
pub mod steps;
pub mod ui;
pub mod verify;
