//! Sprig's encodings and digests (`crypto.go`, `strings.go`, `defaults.go`): base64/32,
//! sha1/sha256/sha512/adler32 sums, and JSON (`toJson` escapes `<`, `>`, `&` as Go's
//! `json.Marshal` does; `toRawJson` does not).

use super::add;
use super::args::{fail, s, string, want, R};
use crate::appset::template::go::{to_go, to_json};
use base64::Engine;
use gotmpl::{FuncMap, Value};
use sha2::Digest;

fn html_escape_json(v: String) -> String {
    v.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// `json.MarshalIndent(v, "", "  ")`.
fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(&to_json(v)).unwrap_or_default()
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn str_fn(m: &mut FuncMap, name: &'static str, f: fn(&str) -> String) {
    add(m, name, move |a| {
        want(name, a, 1)?;
        Ok(s(f(&string(name, &a[0])?)))
    });
}

fn from_json(a: &[Value], name: &str, strict: bool) -> R {
    want(name, a, 1)?;
    match serde_json::from_str::<serde_json::Value>(&string(name, &a[0])?) {
        Ok(v) => Ok(to_go(&v)),
        Err(e) if strict => Err(fail(name, e)),
        Err(_) => Ok(Value::Nil),
    }
}

fn register_digests(m: &mut FuncMap) {
    str_fn(m, "b64enc", |v| base64::engine::general_purpose::STANDARD.encode(v));
    // Sprig returns the decoding error's text instead of failing.
    str_fn(m, "b64dec", |v| match b64_decode(v) {
        Ok(t) => t,
        Err(e) => e,
    });
    str_fn(m, "b32enc", |v| data_encoding::BASE32.encode(v.as_bytes()));
    str_fn(m, "b32dec", |v| match data_encoding::BASE32.decode(v.as_bytes()) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => e.to_string(),
    });
    str_fn(m, "sha1sum", |v| hex::encode(sha1::Sha1::digest(v.as_bytes())));
    str_fn(m, "sha256sum", |v| hex::encode(sha2::Sha256::digest(v.as_bytes())));
    str_fn(m, "sha512sum", |v| hex::encode(sha2::Sha512::digest(v.as_bytes())));
    str_fn(m, "adler32sum", |v| adler32(v.as_bytes()).to_string());
}

fn b64_decode(v: &str) -> Result<String, String> {
    base64::engine::general_purpose::STANDARD
        .decode(v)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| e.to_string())
}

fn register_json(m: &mut FuncMap) {
    for (name, raw) in [
        ("toJson", false),
        ("mustToJson", false),
        ("toRawJson", true),
        ("mustToRawJson", true),
    ] {
        add(m, name, move |a| {
            want(name, a, 1)?;
            let text = serde_json::to_string(&to_json(&a[0])).unwrap_or_default();
            Ok(s(if raw { text } else { html_escape_json(text) }))
        });
    }
    for name in ["toPrettyJson", "mustToPrettyJson"] {
        add(m, name, move |a| {
            want(name, a, 1)?;
            Ok(s(html_escape_json(pretty(&a[0]))))
        });
    }
    add(m, "fromJson", |a| from_json(a, "fromJson", false));
    add(m, "mustFromJson", |a| from_json(a, "mustFromJson", true));
}

pub(super) fn register(m: &mut FuncMap) {
    register_digests(m);
    register_json(m);
}
