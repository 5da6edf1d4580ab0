//! Just enough of the Kubernetes protobuf encoding to read the request bodies kubectl's typed
//! clients send (`kubectl create namespace|configmap|secret|serviceaccount`): the `k8s\0` envelope
//! (runtime.Unknown) and those kinds' fields. Other protobuf bodies get 415.

use crate::sim::store::names::b64;
use serde_json::{json, Map, Value};

#[derive(Clone, Copy)]
enum T {
    Str,
    Bytes,
    Bool,
    Msg(&'static [(u64, &'static str, T)]),
    MapStr,
    MapBytes,
    RepStr,
    RepMsg(&'static [(u64, &'static str, T)]),
}

const OWNER_REF: &[(u64, &str, T)] = &[
    (1, "kind", T::Str),
    (3, "name", T::Str),
    (4, "uid", T::Str),
    (5, "apiVersion", T::Str),
    (6, "controller", T::Bool),
    (7, "blockOwnerDeletion", T::Bool),
];
const META: &[(u64, &str, T)] = &[
    (1, "name", T::Str),
    (2, "generateName", T::Str),
    (3, "namespace", T::Str),
    (6, "resourceVersion", T::Str),
    (11, "labels", T::MapStr),
    (12, "annotations", T::MapStr),
    (13, "ownerReferences", T::RepMsg(OWNER_REF)),
    (14, "finalizers", T::RepStr),
];
const NAMESPACE: &[(u64, &str, T)] = &[
    (1, "metadata", T::Msg(META)),
    (2, "spec", T::Msg(&[(1, "finalizers", T::RepStr)])),
];
const CONFIGMAP: &[(u64, &str, T)] = &[
    (1, "metadata", T::Msg(META)),
    (2, "data", T::MapStr),
    (3, "binaryData", T::MapBytes),
    (4, "immutable", T::Bool),
];
const SECRET: &[(u64, &str, T)] = &[
    (1, "metadata", T::Msg(META)),
    (2, "data", T::MapBytes),
    (3, "type", T::Str),
    (4, "stringData", T::MapStr),
    (5, "immutable", T::Bool),
];
const OBJREF: &[(u64, &str, T)] = &[(1, "kind", T::Str), (2, "namespace", T::Str), (3, "name", T::Str)];
const SA: &[(u64, &str, T)] = &[
    (1, "metadata", T::Msg(META)),
    (2, "secrets", T::RepMsg(OBJREF)),
    (3, "imagePullSecrets", T::RepMsg(&[(1, "name", T::Str)])),
    (4, "automountServiceAccountToken", T::Bool),
];
const UNKNOWN: &[(u64, &str, T)] = &[
    (1, "typeMeta", T::Msg(&[(1, "apiVersion", T::Str), (2, "kind", T::Str)])),
    (2, "raw", T::Bytes),
    (3, "contentEncoding", T::Str),
];

struct Rd<'a>(&'a [u8], usize);

impl<'a> Rd<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.0.get(self.1)?;
            self.1 += 1;
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.varint()? as usize;
        let s = self.0.get(self.1..self.1 + n)?;
        self.1 += n;
        Some(s)
    }
}

/// Raw fields: (number, varint value or bytes).
#[allow(clippy::type_complexity)]
fn fields(buf: &[u8]) -> Option<Vec<(u64, Result<u64, &[u8]>)>> {
    let mut r = Rd(buf, 0);
    let mut out = vec![];
    while r.1 < buf.len() {
        let tag = r.varint()?;
        let (num, wt) = (tag >> 3, tag & 7);
        match wt {
            0 => out.push((num, Ok(r.varint()?))),
            2 => out.push((num, Err(r.bytes()?))),
            1 => r.1 += 8,
            5 => r.1 += 4,
            _ => return None,
        }
    }
    Some(out)
}

fn s(b: &[u8]) -> Value {
    json!(String::from_utf8_lossy(b))
}

fn decode(buf: &[u8], schema: &[(u64, &str, T)]) -> Option<Value> {
    let mut m = Map::new();
    for (num, val) in fields(buf)? {
        let Some(&(_, name, t)) = schema.iter().find(|f| f.0 == num) else {
            continue;
        };
        match (t, val) {
            (T::Str, Err(b)) if !b.is_empty() => {
                m.insert(name.into(), s(b));
            }
            (T::Bytes, Err(b)) => {
                m.insert(name.into(), json!(b64(b)));
            }
            (T::Bool, Ok(v)) => {
                m.insert(name.into(), json!(v != 0));
            }
            (T::Msg(sc), Err(b)) => {
                m.insert(name.into(), decode(b, sc)?);
            }
            (T::RepStr, Err(b)) => m.entry(name).or_insert(json!([])).as_array_mut()?.push(s(b)),
            (T::RepMsg(sc), Err(b)) => m.entry(name).or_insert(json!([])).as_array_mut()?.push(decode(b, sc)?),
            (T::MapStr | T::MapBytes, Err(b)) => {
                let kv = fields(b)?;
                let k = kv.iter().find(|f| f.0 == 1).and_then(|f| f.1.err()).unwrap_or(b"");
                let v = kv.iter().find(|f| f.0 == 2).and_then(|f| f.1.err()).unwrap_or(b"");
                let v = if matches!(t, T::MapBytes) { json!(b64(v)) } else { s(v) };
                m.entry(name)
                    .or_insert(json!({}))
                    .as_object_mut()?
                    .insert(String::from_utf8_lossy(k).into(), v);
            }
            _ => {}
        }
    }
    Some(Value::Object(m))
}

/// Decodes a `k8s\0`-enveloped body of a supported kind into its JSON form.
pub fn decode_object(body: &[u8]) -> Option<Value> {
    let env = decode(body.strip_prefix(b"k8s\0")?, UNKNOWN)?;
    let api_version = env.pointer("/typeMeta/apiVersion")?.as_str()?.to_string();
    let kind = env.pointer("/typeMeta/kind")?.as_str()?.to_string();
    let raw = fields(body.strip_prefix(b"k8s\0")?)?
        .into_iter()
        .find(|f| f.0 == 2)?
        .1
        .err()?;
    let schema = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace") => NAMESPACE,
        ("v1", "ConfigMap") => CONFIGMAP,
        ("v1", "Secret") => SECRET,
        ("v1", "ServiceAccount") => SA,
        _ => return None,
    };
    let mut obj = decode(raw, schema)?;
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Some(obj)
}
