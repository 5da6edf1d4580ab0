//! Fidelity: watches with bookmarks (KEP-956) and streaming lists (`sendInitialEvents`, KEP-3157;
//! apimachinery `ValidateListOptions`), probed over HTTP: every watch here ends by its server-side
//! `timeoutSeconds`, so the whole stream is read.
mod sim_fidelity_support;

use serde_json::Value;
use sim_fidelity_support::Sim;

fn events(body: &str) -> Vec<Value> {
    body.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

fn rv(e: &Value) -> u64 {
    e["object"]["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn create(sim: &Sim, name: &str) {
    let body = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}).to_string();
    assert_eq!(
        sim.json(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            &body
        )
        .0,
        201
    );
}

/// KEP-3157: `sendInitialEvents=true` streams the current objects as ADDED events, then one BOOKMARK
/// annotated `k8s.io/initial-events-end: "true"` whose resourceVersion is the list's.
#[test]
fn a_streaming_list_ends_its_initial_events_with_an_annotated_bookmark() {
    let sim = Sim::start("talos");
    for n in ["a", "b", "c"] {
        create(&sim, n);
    }
    let path = "/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1";
    let (code, _, body) = sim.http("GET", path, "", b"");
    assert_eq!(code, 200);
    let evs = events(&body);
    let end = evs
        .iter()
        .position(|e| {
            e["type"] == "BOOKMARK" && e["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true"
        })
        .unwrap_or_else(|| panic!("no initial-events-end bookmark: {body}"));
    let added: Vec<&str> = evs[..end]
        .iter()
        .filter(|e| e["type"] == "ADDED")
        .map(|e| e["object"]["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(added, vec!["a", "b", "c"], "{body}");
    assert!(rv(&evs[end]) >= evs[..end].iter().map(rv).max().unwrap());
}

/// `ValidateListOptions`: `sendInitialEvents` needs `resourceVersionMatch=NotOlderThan` (422 Invalid).
#[test]
fn send_initial_events_without_not_older_than_is_invalid() {
    let sim = Sim::start("talos");
    let (code, status) = sim.json("GET", "/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&timeoutSeconds=1", "", "");
    assert_eq!(code, 422, "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap_or_default()
            .contains("resourceVersionMatch"),
        "{status}"
    );
}

/// KEP-956: a BOOKMARK's resourceVersion says "you have seen every event up to here", so no event the
/// watcher receives after a bookmark may be older than it (resuming from it would skip that event).
#[test]
fn no_event_arrives_after_a_bookmark_that_claims_it() {
    let sim = Sim::start("talos");
    let addr = sim.addr.clone();
    let path = "/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true&timeoutSeconds=3";
    let reader = std::thread::spawn(move || sim_fidelity_support::raw(&addr, "GET", path, "", b"").2);
    let mut n = 0;
    while !reader.is_finished() && n < 3000 {
        create(&sim, &format!("c{n}"));
        n += 1;
    }
    let evs = events(&reader.join().unwrap());
    let mut claimed = 0;
    let mut bookmarks = 0;
    for e in &evs {
        if e["type"] == "BOOKMARK" {
            bookmarks += 1;
            claimed = claimed.max(rv(e));
        } else {
            assert!(
                rv(e) > claimed,
                "an event at {} arrived after a bookmark at {claimed}",
                rv(e)
            );
        }
    }
    assert!(bookmarks > 0, "the watch asked for bookmarks and got none in 3 s");
}
