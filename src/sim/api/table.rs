//! Server-side printing (`meta.k8s.io/v1` Table) for `kubectl get`: a few columns per built-in kind,
//! a CRD's `additionalPrinterColumns` (simple JSONPaths incl. `[?(@.type=="X")]` filters), else Age.

use super::Server;
use crate::sim::store::kinds::ResourceInfo;
use crate::sim::store::meta_str;
use serde_json::{json, Value};

/// Whether the Accept header asks for a Table.
pub fn wanted(accept: &str) -> bool {
    accept.split(',').next().is_some_and(|a| a.contains("as=Table"))
}

fn age(ts: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(ts) else {
        return "<unknown>".into();
    };
    let s = (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=599 => format!("{}m{}s", s / 60, s % 60),
        600..=10799 => format!("{}m", s / 60),
        10800..=172799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// Evaluates a printer-column JSONPath like `.status.conditions[?(@.type=="Ready")].status`.
fn jsonpath<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = obj;
    let mut rest = path
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim_start_matches('$');
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            cur = cur.get(&r[..end])?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = &r[..end];
            rest = &r[end + 1..];
            if let Some(f) = inner.strip_prefix("?(@.").and_then(|f| f.strip_suffix(')')) {
                let (k, v) = f.split_once("==")?;
                let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
                cur = cur
                    .as_array()?
                    .iter()
                    .find(|i| i.get(k.trim()).and_then(Value::as_str) == Some(v))?;
            } else {
                cur = cur.get(inner.parse::<usize>().ok()?)?;
            }
        } else {
            return None;
        }
    }
    Some(cur)
}

fn s(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) => json!(""),
        Some(Value::String(s)) => json!(s),
        Some(v) => v.clone(),
    }
}

fn n(o: &Value, p: &str) -> i64 {
    o.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

fn cond(o: &Value, t: &str) -> bool {
    jsonpath(o, &format!(".status.conditions[?(@.type==\"{t}\")].status")) == Some(&json!("True"))
}

type Col = (String, String, Box<dyn Fn(&Value) -> Value>);

fn col(name: &str, ty: &str, f: impl Fn(&Value) -> Value + 'static) -> Col {
    (name.to_string(), ty.to_string(), Box::new(f))
}

fn builtin_columns(plural: &str) -> Vec<Col> {
    match plural {
        "namespaces" => vec![col("Status", "string", |o| s(o.pointer("/status/phase")))],
        "nodes" => vec![
            col("Status", "string", |o| {
                json!(if cond(o, "Ready") { "Ready" } else { "NotReady" })
            }),
            col("Roles", "string", |o| {
                let roles: Vec<&str> = o["metadata"]["labels"]
                    .as_object()
                    .map(|l| {
                        l.keys()
                            .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                            .collect()
                    })
                    .unwrap_or_default();
                json!(if roles.is_empty() {
                    "<none>".into()
                } else {
                    roles.join(",")
                })
            }),
            col("Version", "string", |o| s(o.pointer("/status/nodeInfo/kubeletVersion"))),
        ],
        "pods" => vec![
            col("Ready", "string", |o| {
                let cs = o
                    .pointer("/status/containerStatuses")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let total = o
                    .pointer("/spec/containers")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                json!(format!("{}/{total}", cs.iter().filter(|c| c["ready"] == true).count()))
            }),
            col("Status", "string", |o| {
                let phase = o.pointer("/status/phase").and_then(Value::as_str).unwrap_or("Pending");
                json!(if phase == "Succeeded" { "Completed" } else { phase })
            }),
            col("Restarts", "integer", |_| json!(0)),
        ],
        "deployments" => vec![
            col("Ready", "string", |o| {
                json!(format!("{}/{}", n(o, "/status/readyReplicas"), n(o, "/spec/replicas")))
            }),
            col("Up-to-date", "integer", |o| json!(n(o, "/status/updatedReplicas"))),
            col("Available", "integer", |o| json!(n(o, "/status/availableReplicas"))),
        ],
        "jobs" => vec![
            col("Status", "string", |o| {
                json!(if cond(o, "Complete") {
                    "Complete"
                } else if cond(o, "Failed") {
                    "Failed"
                } else {
                    "Running"
                })
            }),
            col("Completions", "string", |o| {
                json!(format!(
                    "{}/{}",
                    n(o, "/status/succeeded"),
                    n(o, "/spec/completions").max(1)
                ))
            }),
        ],
        "services" => vec![
            col("Type", "string", |o| s(o.pointer("/spec/type"))),
            col("Cluster-IP", "string", |o| s(o.pointer("/spec/clusterIP"))),
            col("External-IP", "string", |_| json!("<none>")),
            col("Port(s)", "string", |o| {
                let ports = o
                    .pointer("/spec/ports")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let p: Vec<String> = ports
                    .iter()
                    .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP")))
                    .collect();
                json!(if p.is_empty() { "<none>".into() } else { p.join(",") })
            }),
        ],
        "configmaps" => vec![col("Data", "integer", |o| {
            json!(o["data"].as_object().map_or(0, |m| m.len()))
        })],
        "secrets" => vec![
            col("Type", "string", |o| s(o.get("type"))),
            col("Data", "integer", |o| {
                json!(o["data"].as_object().map_or(0, |m| m.len()))
            }),
        ],
        "persistentvolumeclaims" => vec![
            col("Status", "string", |o| s(o.pointer("/status/phase"))),
            col("Volume", "string", |o| s(o.pointer("/spec/volumeName"))),
            col("Capacity", "string", |o| s(o.pointer("/status/capacity/storage"))),
            col("StorageClass", "string", |o| s(o.pointer("/spec/storageClassName"))),
        ],
        "storageclasses" => vec![
            col("Provisioner", "string", |o| s(o.get("provisioner"))),
            col("ReclaimPolicy", "string", |o| {
                json!(o.get("reclaimPolicy").and_then(Value::as_str).unwrap_or("Delete"))
            }),
            col("VolumeBindingMode", "string", |o| {
                json!(o
                    .get("volumeBindingMode")
                    .and_then(Value::as_str)
                    .unwrap_or("Immediate"))
            }),
        ],
        _ => vec![],
    }
}

fn columns(shared: &Server, ri: &ResourceInfo, version: &str) -> Vec<Col> {
    let builtin = crate::sim::store::kinds::builtins().iter().any(|b| b.gr() == ri.gr());
    let mut cols = vec![col("Name", "string", |o| json!(meta_str(o, "name")))];
    if builtin {
        cols.extend(builtin_columns(&ri.plural));
        cols.push(col("Age", "string", |o| json!(age(meta_str(o, "creationTimestamp")))));
        return cols;
    }
    let crd = shared
        .store
        .get("customresourcedefinitions.apiextensions.k8s.io", "", &ri.gr());
    let pcs = crd
        .as_ref()
        .and_then(|c| {
            c.pointer("/spec/versions")?
                .as_array()?
                .iter()
                .find(|v| v["name"] == version)
                .cloned()
        })
        .and_then(|v| v.get("additionalPrinterColumns").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    if pcs.is_empty() {
        cols.push(col("Age", "string", |o| json!(age(meta_str(o, "creationTimestamp")))));
    }
    for pc in pcs.into_iter().filter(|p| p["priority"].as_i64().unwrap_or(0) == 0) {
        let path = pc["jsonPath"].as_str().unwrap_or("").to_string();
        let ty = pc["type"].as_str().unwrap_or("string").to_string();
        let is_date = ty == "date";
        cols.push(col(
            pc["name"].as_str().unwrap_or(""),
            if is_date { "string" } else { &ty },
            move |o| match jsonpath(o, &path) {
                Some(Value::String(t)) if is_date => json!(age(t)),
                v => s(v),
            },
        ));
    }
    cols
}

/// A Table of `objs`; `include` is the includeObject parameter (Object, None, or metadata).
pub fn table(
    shared: &Server,
    ri: &ResourceInfo,
    version: &str,
    objs: &[Value],
    rv: Option<String>,
    include: Option<&str>,
    headers: bool,
) -> Value {
    let cols = columns(shared, ri, version);
    let defs: Vec<Value> = cols
        .iter()
        .enumerate()
        .map(|(i, (name, ty, _))| {
            json!({"name": name, "type": ty, "format": if i == 0 { "name" } else { "" }, "description": "", "priority": 0})
        })
        .collect();
    let rows: Vec<Value> = objs
        .iter()
        .map(|o| {
            let cells: Vec<Value> = cols.iter().map(|(_, _, f)| f(o)).collect();
            let object = match include {
                Some("Object") => o.clone(),
                Some("None") => Value::Null,
                _ => {
                    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]})
                }
            };
            json!({"cells": cells, "object": object})
        })
        .collect();
    let mut t = json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {}, "rows": rows});
    if headers {
        t["columnDefinitions"] = json!(defs);
    }
    if let Some(rv) = rv {
        t["metadata"]["resourceVersion"] = json!(rv);
    }
    t
}
