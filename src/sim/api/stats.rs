//! What `GET /_sim/stats` reports: client requests by verb and resource, writes, creates, faults.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// "VERB resource": the HTTP method (GET/POST/PUT/PATCH/DELETE) or WATCH for a watch, and the
    /// resource plural with `/subresource`;
    /// discovery and OpenAPI requests count as "GET discovery" and "GET openapi".
    pub requests: BTreeMap<String, u64>,
    /// Client requests that changed or tried to change state (not dry-run, not fault-rejected).
    pub writes: u64,
    /// Objects created by a client request (POST, or an apply that created).
    pub creates: u64,
    /// Injected faults by kind: "500", "503", "429", "409", "slow", "drop".
    pub faults: BTreeMap<String, u64>,
}
