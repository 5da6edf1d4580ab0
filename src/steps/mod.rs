//! Every step kind a runbook can name, one file each, and the one table that registers them
//! ([`registry`]). The engine (`src/engine/`) runs steps only through the `StepKind` trait; it knows no
//! kind by name. Adding a kind: a file here implementing `StepKind`, a line in [`registry`], a line in
//! docs/runbooks.md (docs/architecture.md walks through an example).

pub mod apply;
pub mod backup_design;
pub mod catalog;
pub mod check;
pub mod command;
pub mod decide;
pub mod dns_check;
pub mod git_layer;
pub mod gpu;
pub mod live_crd_schema;
pub mod live_paths;
pub mod load_balancer;
pub mod phase4_migrate;
pub mod repo_matches;
pub mod resync_failed;
pub mod seed_secret;
pub mod wait;

use crate::checks::builtin as criteria;
use crate::engine::kind::{CriterionKind, Registry};
use std::sync::OnceLock;

/// The step kinds and criterion builtins fleetctl runs.
pub fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| Registry {
        steps: vec![
            // The kinds with their own key in a step.
            Box::new(apply::Apply),
            Box::new(wait::Wait),
            Box::new(decide::Decide),
            Box::new(seed_secret::SeedSecret),
            Box::new(command::Command),
            Box::new(check::Check),
            // Builtins: `builtin: {name, args}`.
            Box::new(live_crd_schema::LiveCrdSchema),
            Box::new(repo_matches::RepoMatches),
            Box::new(load_balancer::LoadBalancerPresent),
            Box::new(backup_design::DetectBackupDesign),
            Box::new(gpu::detect::DetectGpus),
            Box::new(gpu::passthrough::PassthroughReadiness),
            Box::new(gpu::cuda::CudaVectoradd),
            Box::new(phase4_migrate::Phase4Migrate),
            Box::new(git_layer::GitLayer),
            Box::new(resync_failed::ResyncFailed),
            Box::new(dns_check::DnsCheck),
            Box::new(catalog::CatalogChannels),
        ],
        criteria: criteria::NAMES
            .iter()
            .map(|name| CriterionKind {
                name,
                validate: criteria::validate,
            })
            .collect(),
    })
}
