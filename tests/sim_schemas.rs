//! The built-in schemas the simulator embeds (`src/sim/store/schema/core-v1.37.0.json`) are Kubernetes
//! v1.37.0's published definitions, not a hand list: the definitions of every built-in kind the
//! simulated cluster serves (as its discovery says), plus Status, DeleteOptions and autoscaling/v1 Scale,
//! with everything they reference, descriptions left out. This test derives that set from
//! `shared/crds/_core/v1.37.0/local/_definitions.json` and compares; `FLEETCTL_REGEN_SIM_SCHEMAS=1`
//! rewrites the embedded file from it instead.
mod sim_support;

use fleetctl::sim::Platform;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn core_definitions() -> Option<PathBuf> {
    let p = sim_support::crds_dir()?.join("_core/v1.37.0/local/_definitions.json");
    p.exists().then_some(p)
}

fn embedded() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/sim/store/schema/core-v1.37.0.json")
}

/// Drops the `description` keyword (not a property named `description`); keys sorted.
fn strip(v: &Value, in_props: bool) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, &Value> = m.iter().collect();
            let mut out = Map::new();
            for (k, x) in sorted {
                if k == "description" && !in_props {
                    continue;
                }
                let props = !in_props && ["properties", "patternProperties", "definitions"].contains(&k.as_str());
                out.insert(k.clone(), strip(x, props));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| strip(x, false)).collect()),
        other => other.clone(),
    }
}

/// (group, version, kind) of every built-in kind the simulated cluster's discovery lists.
async fn served_kinds() -> BTreeSet<(String, String, String)> {
    let h = sim_support::start(Platform::Openshift, 20.0, "", false).await;
    let get = |path: String| {
        let addr = h.addr();
        async move {
            let (_, text) = sim_support::raw(addr, "GET", &path, "").await;
            serde_json::from_str::<Value>(&text[text.find("\r\n\r\n").unwrap() + 4..]).unwrap_or(Value::Null)
        }
    };
    let mut gvs = vec![String::from("/api/v1")];
    for g in get("/apis".into()).await["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        for v in g["versions"].as_array().into_iter().flatten() {
            gvs.push(format!("/apis/{}", v["groupVersion"].as_str().unwrap()));
        }
    }
    let mut out = BTreeSet::new();
    for gv in gvs {
        let doc = get(gv.clone()).await;
        let (group, version) = doc["groupVersion"]
            .as_str()
            .unwrap_or("")
            .rsplit_once('/')
            .map(|(g, v)| (g.to_string(), v.to_string()))
            .unwrap_or((String::new(), "v1".into()));
        for r in doc["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| !r["name"].as_str().unwrap_or("").contains('/'))
        {
            out.insert((
                group.clone(),
                version.clone(),
                r["kind"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    h.shutdown().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_core_schemas_are_kubernetes_published_definitions_of_the_served_kinds() {
    let Some(src) = core_definitions() else {
        eprintln!(
            "SKIPPED: no shared/crds/_core/v1.37.0 (set FLEETCTL_TEST_CRDS): the embedded schemas are not re-derived"
        );
        return;
    };
    let all: Value = serde_json::from_str(&std::fs::read_to_string(src).unwrap()).unwrap();
    let defs = all["$defs"].as_object().unwrap();
    let mut served = served_kinds().await;
    for extra in [
        ("", "v1", "Status"),
        ("", "v1", "DeleteOptions"),
        ("autoscaling", "v1", "Scale"),
    ] {
        served.insert((extra.0.into(), extra.1.into(), extra.2.into()));
    }
    let mut stack: Vec<String> = defs
        .iter()
        .filter(|(_, d)| {
            d["x-kubernetes-group-version-kind"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|g| {
                    let s = |k: &str| g[k].as_str().unwrap_or("").to_string();
                    served.contains(&(s("group"), s("version"), s("kind")))
                })
        })
        .map(|(n, _)| n.clone())
        .collect();
    let mut closure = BTreeMap::new();
    while let Some(n) = stack.pop() {
        if closure.contains_key(&n) {
            continue;
        }
        let d = &defs[&n];
        for part in d.to_string().split("\"#/$defs/").skip(1) {
            stack.push(part.split('"').next().unwrap().to_string());
        }
        closure.insert(n, strip(d, false));
    }
    assert!(
        closure.contains_key("io.k8s.api.apps.v1.Deployment")
            && closure.contains_key("io.k8s.api.coordination.v1.Lease")
    );
    let want = serde_json::json!({"$defs": closure.into_iter().collect::<Map<String, Value>>()});
    if std::env::var_os("FLEETCTL_REGEN_SIM_SCHEMAS").is_some() {
        std::fs::write(embedded(), format!("{}\n", serde_json::to_string(&want).unwrap())).unwrap();
        return;
    }
    let have: Value = serde_json::from_str(&std::fs::read_to_string(embedded()).unwrap()).unwrap();
    let (h, w) = (have["$defs"].as_object().unwrap(), want["$defs"].as_object().unwrap());
    let missing: Vec<&String> = w.keys().filter(|k| !h.contains_key(*k)).collect();
    let extra: Vec<&String> = h.keys().filter(|k| !w.contains_key(*k)).collect();
    let differ: Vec<&String> = w.keys().filter(|k| h.get(*k).is_some_and(|x| x != &w[*k])).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && differ.is_empty(),
        "the embedded schemas drifted from shared/crds/_core (run with FLEETCTL_REGEN_SIM_SCHEMAS=1): missing {missing:?}, extra {extra:?}, different {differ:?}"
    );
}
