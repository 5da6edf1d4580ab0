//! Sprig's numbers (`numeric.go`: `cast.ToInt64`/`ToFloat64` on every operand) and defaults
//! (`defaults.go`: `default`, `empty`, `coalesce`, `all`, `any`, `ternary`, `fail`).

use super::add;
use super::args::{at_least, fail, is_empty, string, to_f64, to_i64, want, R};
use gotmpl::{FuncMap, Value};

fn int_fold(m: &mut FuncMap, name: &'static str, f: fn(i64, i64) -> Option<i64>) {
    add(m, name, move |a| {
        at_least(name, a, 1)?;
        let mut acc = to_i64(&a[0]);
        for x in &a[1..] {
            acc = f(acc, to_i64(x)).ok_or_else(|| fail(name, "runtime error: integer divide by zero"))?;
        }
        Ok(Value::Int(acc))
    });
}

fn float_fold(m: &mut FuncMap, name: &'static str, f: fn(f64, f64) -> f64) {
    add(m, name, move |a| {
        at_least(name, a, 1)?;
        Ok(Value::Float(
            a[1..].iter().fold(to_f64(&a[0]), |acc, x| f(acc, to_f64(x))),
        ))
    });
}

/// `round`: half away from zero at `p` decimals.
fn round(a: &[Value]) -> R {
    at_least("round", a, 2)?;
    let p = to_i64(&a[1]) as i32;
    let r = a.get(2).map(to_f64).unwrap_or(0.5);
    let pow = 10f64.powi(p);
    let v = to_f64(&a[0]) * pow;
    let (int, frac) = (v.trunc(), v.fract().abs());
    let rounded = if frac >= r { int + v.signum() } else { int };
    Ok(Value::Float(rounded / pow))
}

fn register_numbers(m: &mut FuncMap) {
    int_fold(m, "add", |a, b| Some(a.wrapping_add(b)));
    int_fold(m, "sub", |a, b| Some(a.wrapping_sub(b)));
    int_fold(m, "mul", |a, b| Some(a.wrapping_mul(b)));
    int_fold(m, "div", |a, b| a.checked_div(b));
    int_fold(m, "mod", |a, b| a.checked_rem(b));
    int_fold(m, "max", |a, b| Some(a.max(b)));
    int_fold(m, "biggest", |a, b| Some(a.max(b)));
    int_fold(m, "min", |a, b| Some(a.min(b)));
    float_fold(m, "addf", |a, b| a + b);
    float_fold(m, "subf", |a, b| a - b);
    float_fold(m, "mulf", |a, b| a * b);
    float_fold(m, "divf", |a, b| a / b);
    float_fold(m, "maxf", f64::max);
    float_fold(m, "minf", f64::min);
    add(m, "add1", |a| {
        want("add1", a, 1)?;
        Ok(Value::Int(to_i64(&a[0]) + 1))
    });
    add(m, "add1f", |a| {
        want("add1f", a, 1)?;
        Ok(Value::Float(to_f64(&a[0]) + 1.0))
    });
    add(m, "floor", |a| {
        want("floor", a, 1)?;
        Ok(Value::Float(to_f64(&a[0]).floor()))
    });
    add(m, "ceil", |a| {
        want("ceil", a, 1)?;
        Ok(Value::Float(to_f64(&a[0]).ceil()))
    });
    add(m, "round", round);
    add(m, "atoi", |a| {
        want("atoi", a, 1)?;
        Ok(Value::Int(string("atoi", &a[0])?.parse().unwrap_or(0)))
    });
    for name in ["int", "int64"] {
        add(m, name, move |a| {
            want(name, a, 1)?;
            Ok(Value::Int(to_i64(&a[0])))
        });
    }
    add(m, "float64", |a| {
        want("float64", a, 1)?;
        Ok(Value::Float(to_f64(&a[0])))
    });
}

fn register_defaults(m: &mut FuncMap) {
    // `default D V`: V unless it is empty (nil, "", 0, false, empty list/map), else D.
    add(m, "default", |a| {
        at_least("default", a, 1)?;
        Ok(match a.get(1) {
            Some(v) if !is_empty(v) => v.clone(),
            _ => a[0].clone(),
        })
    });
    add(m, "empty", |a| {
        want("empty", a, 1)?;
        Ok(Value::Bool(is_empty(&a[0])))
    });
    add(m, "coalesce", |a| {
        Ok(a.iter().find(|v| !is_empty(v)).cloned().unwrap_or(Value::Nil))
    });
    add(m, "all", |a| Ok(Value::Bool(a.iter().all(|v| !is_empty(v)))));
    add(m, "any", |a| Ok(Value::Bool(a.iter().any(|v| !is_empty(v)))));
    add(m, "ternary", |a| {
        want("ternary", a, 3)?;
        match &a[2] {
            Value::Bool(b) => Ok(if *b { a[0].clone() } else { a[1].clone() }),
            other => Err(fail(
                "ternary",
                format!("wrong type for value; expected bool; got {}", other.type_name()),
            )),
        }
    });
    add(m, "fail", |a| {
        want("fail", a, 1)?;
        Err(fail("fail", string("fail", &a[0])?))
    });
}

pub(super) fn register(m: &mut FuncMap) {
    register_numbers(m);
    register_defaults(m);
}
