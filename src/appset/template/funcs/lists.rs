//! Sprig's list functions (`list.go`). The non-`must` forms panic in Go on a non-list, which
//! fails the template; here both forms return that error.

use super::add;
use super::args::{at_least, fail, int, is_empty, l, list, s, string, strslice, want, R};
use gotmpl::{FuncMap, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

fn op1(m: &mut FuncMap, name: &'static str, f: fn(&[Value]) -> Value) {
    for n in [name.to_string(), must(name)] {
        add(m, &n, move |a| {
            want(name, a, 1)?;
            Ok(f(&list(name, &a[0])?))
        });
    }
}

fn must(name: &str) -> String {
    let mut c = name.chars();
    let first = c
        .next()
        .map(|f| f.to_uppercase().collect::<String>())
        .unwrap_or_default();
    format!("must{first}{}", c.as_str())
}

fn first_or_nil(v: Option<&Value>) -> Value {
    v.cloned().unwrap_or(Value::Nil)
}

fn uniq(v: &[Value]) -> Value {
    let mut out: Vec<Value> = Vec::new();
    for x in v {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    l(out)
}

fn split_dict(parts: Vec<&str>) -> Value {
    let m: BTreeMap<Arc<str>, Value> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (Arc::from(format!("_{i}")), s(p)))
        .collect();
    Value::Map(Arc::new(m))
}

fn until_step(start: i64, stop: i64, step: i64) -> Value {
    let mut out = Vec::new();
    if step == 0 || (step > 0 && start >= stop) || (step < 0 && start <= stop) {
        return l(out);
    }
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(Value::Int(i));
        i += step;
    }
    l(out)
}

fn register_access(m: &mut FuncMap) {
    op1(m, "first", |v| first_or_nil(v.first()));
    op1(m, "last", |v| first_or_nil(v.last()));
    op1(
        m,
        "rest",
        |v| if v.is_empty() { Value::Nil } else { l(v[1..].to_vec()) },
    );
    op1(m, "initial", |v| {
        if v.is_empty() {
            Value::Nil
        } else {
            l(v[..v.len() - 1].to_vec())
        }
    });
    op1(m, "reverse", |v| l(v.iter().rev().cloned().collect()));
    op1(m, "uniq", uniq);
    op1(m, "compact", |v| {
        l(v.iter().filter(|x| !is_empty(x)).cloned().collect())
    });
    for name in ["append", "push", "mustAppend", "mustPush"] {
        add(m, name, move |a| {
            want(name, a, 2)?;
            let mut v = list(name, &a[0])?.to_vec();
            v.push(a[1].clone());
            Ok(l(v))
        });
    }
    for name in ["prepend", "mustPrepend"] {
        add(m, name, move |a| {
            want(name, a, 2)?;
            let mut v = vec![a[1].clone()];
            v.extend(list(name, &a[0])?.iter().cloned());
            Ok(l(v))
        });
    }
    for name in ["has", "mustHas"] {
        add(m, name, move |a| {
            want(name, a, 2)?;
            Ok(Value::Bool(match &a[1] {
                Value::Nil => false,
                other => list(name, other)?.contains(&a[0]),
            }))
        });
    }
    for name in ["without", "mustWithout"] {
        add(m, name, move |a| {
            at_least(name, a, 1)?;
            let v = list(name, &a[0])?;
            Ok(l(v.iter().filter(|x| !a[1..].contains(x)).cloned().collect()))
        });
    }
    for name in ["slice", "mustSlice"] {
        add(m, name, move |a| {
            at_least(name, a, 1)?;
            let v = list(name, &a[0])?;
            let from = a.get(1).map(|x| int(name, x)).transpose()?.unwrap_or(0);
            let to = a.get(2).map(|x| int(name, x)).transpose()?.unwrap_or(v.len() as i64);
            if from < 0 || to < from || to > v.len() as i64 {
                return Err(fail(name, format!("slice bounds out of range [{from}:{to}]")));
            }
            Ok(l(v[from as usize..to as usize].to_vec()))
        });
    }
}

fn register_build(m: &mut FuncMap) {
    add(m, "list", |a| Ok(l(a.to_vec())));
    add(m, "tuple", |a| Ok(l(a.to_vec())));
    add(m, "concat", |a| {
        let mut out = Vec::new();
        for x in a {
            out.extend(list("concat", x)?.iter().cloned());
        }
        Ok(l(out))
    });
    add(m, "sortAlpha", |a| {
        want("sortAlpha", a, 1)?;
        let mut v = strslice(&a[0]);
        v.sort();
        Ok(l(v.into_iter().map(s).collect()))
    });
    // `join` skips nil elements, and joins nothing for nil (Sprig's strslice).
    add(m, "join", |a| {
        want("join", a, 2)?;
        Ok(s(strslice(&a[1]).join(&string("join", &a[0])?)))
    });
    add(m, "splitList", |a| -> R {
        want("splitList", a, 2)?;
        let (sep, v) = (string("splitList", &a[0])?, string("splitList", &a[1])?);
        Ok(l(v.split(sep.as_str()).map(s).collect()))
    });
    add(m, "split", |a| {
        want("split", a, 2)?;
        let (sep, v) = (string("split", &a[0])?, string("split", &a[1])?);
        Ok(split_dict(v.split(sep.as_str()).collect()))
    });
    add(m, "splitn", |a| {
        want("splitn", a, 3)?;
        let (sep, n, v) = (
            string("splitn", &a[0])?,
            int("splitn", &a[1])?,
            string("splitn", &a[2])?,
        );
        Ok(split_dict(match n {
            0 => Vec::new(),
            n if n < 0 => v.split(sep.as_str()).collect(),
            n => v.splitn(n as usize, sep.as_str()).collect(),
        }))
    });
    add(m, "until", |a| {
        want("until", a, 1)?;
        let n = int("until", &a[0])?;
        Ok(until_step(0, n, if n < 0 { -1 } else { 1 }))
    });
    add(m, "untilStep", |a| {
        want("untilStep", a, 3)?;
        let v: Vec<i64> = a.iter().map(|x| int("untilStep", x)).collect::<Result<_, _>>()?;
        Ok(until_step(v[0], v[1], v[2]))
    });
    for name in ["chunk", "mustChunk"] {
        add(m, name, move |a| {
            want(name, a, 2)?;
            let size = int(name, &a[0])?.max(1) as usize;
            Ok(l(list(name, &a[1])?.chunks(size).map(|c| l(c.to_vec())).collect()))
        });
    }
}

pub(super) fn register(m: &mut FuncMap) {
    register_access(m);
    register_build(m);
}
