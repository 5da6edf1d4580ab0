//! Sprig's dict functions (`dict.go`). gotmpl's maps are immutable values, so `set` and
//! `unset` (which change a dict in place in Go) are refused, and `merge`/`mergeOverwrite`
//! return the merged dict without changing their first argument's variable.

use super::add;
use super::args::{at_least, fail, go_type, l, s, string, strval, want, R};
use gotmpl::{FuncMap, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

type Dict = BTreeMap<Arc<str>, Value>;

fn dict_arg(f: &str, v: &Value) -> Result<Arc<Dict>, gotmpl::TemplateError> {
    match v {
        Value::Map(m) => Ok(m.clone()),
        other => Err(fail(
            f,
            format!(
                "wrong type for value; expected map[string]interface {{}}; got {}",
                go_type(other)
            ),
        )),
    }
}

fn map(d: Dict) -> Value {
    Value::Map(Arc::new(d))
}

/// mergo's deep merge: keys missing in `dst` are copied; nested dicts merge; with `overwrite`,
/// `src` values replace `dst`'s (mergo does not overwrite with empty values).
fn merge_into(dst: &mut Dict, src: &Dict, overwrite: bool) {
    for (k, v) in src {
        match (dst.get(k).cloned(), v) {
            (Some(Value::Map(d)), Value::Map(sv)) => {
                let mut d = (*d).clone();
                merge_into(&mut d, sv, overwrite);
                dst.insert(k.clone(), map(d));
            }
            (None, _) => {
                dst.insert(k.clone(), v.clone());
            }
            (Some(cur), _) => {
                let dst_empty = !cur.is_truthy();
                if (overwrite && v.is_truthy()) || dst_empty {
                    dst.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

fn merge(a: &[Value], name: &str, overwrite: bool) -> R {
    at_least(name, a, 1)?;
    let mut dst = (*dict_arg(name, &a[0])?).clone();
    for src in &a[1..] {
        merge_into(&mut dst, &*dict_arg(name, src)?, overwrite);
    }
    Ok(map(dst))
}

fn dig(a: &[Value]) -> R {
    at_least("dig", a, 3)?;
    let dict = dict_arg("dig", &a[a.len() - 1])?;
    let default = a[a.len() - 2].clone();
    let keys = &a[..a.len() - 2];
    let mut cur = Value::Map(dict);
    for k in keys {
        let k = string("dig", k)?;
        cur = match cur.field(&k) {
            Some(v) => v.clone(),
            None => return Ok(default),
        };
    }
    Ok(cur)
}

fn register_read(m: &mut FuncMap) {
    add(m, "get", |a| {
        want("get", a, 2)?;
        let (d, k) = (dict_arg("get", &a[0])?, string("get", &a[1])?);
        Ok(d.get(k.as_str()).cloned().unwrap_or_else(|| s("")))
    });
    add(m, "hasKey", |a| {
        want("hasKey", a, 2)?;
        let (d, k) = (dict_arg("hasKey", &a[0])?, string("hasKey", &a[1])?);
        Ok(Value::Bool(d.contains_key(k.as_str())))
    });
    // Go returns keys and values in random map order; here in key order.
    add(m, "keys", |a| {
        let mut out = Vec::new();
        for d in a {
            out.extend(dict_arg("keys", d)?.keys().map(|k| s(k.to_string())));
        }
        Ok(l(out))
    });
    add(m, "values", |a| {
        want("values", a, 1)?;
        Ok(l(dict_arg("values", &a[0])?.values().cloned().collect()))
    });
    add(m, "pluck", |a| {
        at_least("pluck", a, 1)?;
        let k = string("pluck", &a[0])?;
        let mut out = Vec::new();
        for d in &a[1..] {
            out.extend(dict_arg("pluck", d)?.get(k.as_str()).cloned());
        }
        Ok(l(out))
    });
    add(m, "dig", dig);
}

fn register_build(m: &mut FuncMap) {
    add(m, "dict", |a| {
        let mut d = Dict::new();
        for pair in a.chunks(2) {
            let v = pair.get(1).cloned().unwrap_or_else(|| s(""));
            d.insert(Arc::from(strval(&pair[0])), v);
        }
        Ok(map(d))
    });
    add(m, "pick", |a| {
        at_least("pick", a, 1)?;
        let d = dict_arg("pick", &a[0])?;
        let keys: Vec<String> = a[1..].iter().map(|k| string("pick", k)).collect::<Result<_, _>>()?;
        Ok(map(d
            .iter()
            .filter(|(k, _)| keys.iter().any(|x| x == k.as_ref()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()))
    });
    add(m, "omit", |a| {
        at_least("omit", a, 1)?;
        let d = dict_arg("omit", &a[0])?;
        let keys: Vec<String> = a[1..].iter().map(|k| string("omit", k)).collect::<Result<_, _>>()?;
        Ok(map(d
            .iter()
            .filter(|(k, _)| !keys.iter().any(|x| x == k.as_ref()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()))
    });
    add(m, "merge", |a| merge(a, "merge", false));
    add(m, "mustMerge", |a| merge(a, "mustMerge", false));
    add(m, "mergeOverwrite", |a| merge(a, "mergeOverwrite", true));
    add(m, "mustMergeOverwrite", |a| merge(a, "mustMergeOverwrite", true));
    for name in ["deepCopy", "mustDeepCopy"] {
        add(m, name, move |a| {
            want(name, a, 1)?;
            Ok(a[0].clone())
        });
    }
}

pub(super) fn register(m: &mut FuncMap) {
    register_read(m);
    register_build(m);
}
