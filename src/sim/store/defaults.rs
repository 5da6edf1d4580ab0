//! What the real API server fills in or checks on create/update, for the resources the sim serves.

use super::kinds::ResourceInfo;
use super::names::{b64, new_uid};
use super::{meta_str, StoreError};
use serde_json::{json, Value};

fn secret_string_data(obj: &mut Value) {
    if let Some(sd) = obj.as_object_mut().and_then(|o| o.remove("stringData")) {
        if let Some(m) = sd.as_object() {
            if !obj["data"].is_object() {
                obj["data"] = json!({});
            }
            for (k, v) in m {
                obj["data"][k] = json!(b64(v.as_str().unwrap_or("").as_bytes()));
            }
        }
    }
}

pub fn on_create(ri: &ResourceInfo, obj: &mut Value) -> Result<(), StoreError> {
    let name = meta_str(obj, "name").to_string();
    match (ri.group.as_str(), ri.plural.as_str()) {
        ("", "namespaces") => {
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
            obj["spec"] = json!({"finalizers": ["kubernetes"]});
            obj["status"] = json!({"phase": "Active"});
        }
        ("", "secrets") => {
            secret_string_data(obj);
            if obj.get("type").is_none() {
                obj["type"] = json!("Opaque");
            }
        }
        ("", "services") => {
            let spec = &mut obj["spec"];
            if spec.get("type").is_none() {
                spec["type"] = json!("ClusterIP");
            }
            if spec.get("clusterIP").is_none() {
                let ip = format!(
                    "172.30.{}.{}",
                    rand::random_range(0..255u8),
                    rand::random_range(1..255u8)
                );
                spec["clusterIP"] = json!(ip);
                spec["clusterIPs"] = json!([ip]);
            }
            spec["sessionAffinity"] = spec.get("sessionAffinity").cloned().unwrap_or(json!("None"));
        }
        ("", "pods") => {
            if obj
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .is_none_or(|c| c.is_empty())
            {
                return Err(StoreError::invalid("pods", &name, "spec.containers: Required value"));
            }
            if obj.pointer("/spec/restartPolicy").is_none() {
                obj["spec"]["restartPolicy"] = json!("Always");
            }
            obj["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
        }
        ("", "persistentvolumeclaims") => obj["status"] = json!({"phase": "Pending"}),
        ("apps", "deployments") if obj.pointer("/spec/replicas").is_none() => obj["spec"]["replicas"] = json!(1),
        ("batch", "jobs") => {
            let uid = new_uid();
            obj["metadata"]["uid"] = json!(uid);
            let rp = obj
                .pointer("/spec/template/spec/restartPolicy")
                .and_then(Value::as_str)
                .unwrap_or("");
            if rp != "Never" && rp != "OnFailure" {
                return Err(StoreError::invalid(
                    "jobs.batch",
                    &name,
                    &format!("spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\" (got \"{rp}\")"),
                ));
            }
            let sel = json!({"batch.kubernetes.io/controller-uid": uid});
            if obj.pointer("/spec/selector").is_none() {
                obj["spec"]["selector"] = json!({"matchLabels": sel});
            }
            let labels = &mut obj["spec"]["template"]["metadata"]["labels"];
            for (k, v) in [
                ("batch.kubernetes.io/controller-uid", uid.as_str()),
                ("controller-uid", uid.as_str()),
                ("batch.kubernetes.io/job-name", name.as_str()),
                ("job-name", name.as_str()),
            ] {
                labels[k] = json!(v);
            }
            for (k, v) in [("completions", 1), ("parallelism", 1), ("backoffLimit", 6)] {
                if obj["spec"].get(k).is_none() {
                    obj["spec"][k] = json!(v);
                }
            }
        }
        ("apiextensions.k8s.io", "customresourcedefinitions") => {
            let ri2 = ResourceInfo::from_crd(obj).ok_or_else(|| {
                StoreError::invalid(
                    &ri.gr(),
                    &name,
                    "spec: Required value: group, names (plural, kind), scope and versions are required",
                )
            })?;
            if ri2.gr() != name {
                return Err(StoreError::invalid(
                    &ri.gr(),
                    &name,
                    &format!("metadata.name: Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

pub fn on_update(ri: &ResourceInfo, obj: &mut Value) {
    if ri.group.is_empty() && ri.plural == "secrets" {
        secret_string_data(obj);
    }
}
