//! The function map of ApplicationSet Go templates: Sprig's (as Argo CD registers it) plus
//! Argo CD's own. Go's builtins (`and or not eq ne lt le gt ge len index slice print printf
//! println call html js urlquery`) come with gotmpl.
//!
//! Each Sprig function follows Sprig v3's source (`Masterminds/sprig`): argument order
//! (pipelines pass the value last), how `nil` is treated (`quote`, `squote` and `join` skip
//! it), and Go's argument typing (a `string` parameter refuses a number or nil). Functions
//! whose output depends on the clock, randomness, secrets or the network are refused by name.

mod argo;
mod args;
mod dicts;
mod encoding;
mod lists;
mod math;
mod paths;
mod regex;
mod strings;

pub use argo::sanitize_name;
#[cfg(test)]
pub(crate) use argo::slugify;
pub(crate) use args::go_float;

use gotmpl::{FuncMap, Value};
use std::sync::{Arc, OnceLock};

/// Sprig functions Argo CD ships that fleetctl does not evaluate offline, and why.
const REFUSED: &[(&str, &str)] = &[
    ("now", "reads the clock"),
    ("ago", "reads the clock"),
    ("date", "formats dates"),
    ("dateInZone", "formats dates"),
    ("date_in_zone", "formats dates"),
    ("dateModify", "formats dates"),
    ("date_modify", "formats dates"),
    ("mustDateModify", "formats dates"),
    ("must_date_modify", "formats dates"),
    ("htmlDate", "formats dates"),
    ("htmlDateInZone", "formats dates"),
    ("toDate", "formats dates"),
    ("mustToDate", "formats dates"),
    ("unixEpoch", "formats dates"),
    ("duration", "formats durations"),
    ("durationRound", "formats durations"),
    ("randAlphaNum", "is random"),
    ("randAlpha", "is random"),
    ("randAscii", "is random"),
    ("randNumeric", "is random"),
    ("randInt", "is random"),
    ("randBytes", "is random"),
    ("shuffle", "is random"),
    ("uuidv4", "is random"),
    ("bcrypt", "makes secrets"),
    ("htpasswd", "makes secrets"),
    ("genPrivateKey", "makes secrets"),
    ("derivePassword", "makes secrets"),
    ("buildCustomCert", "makes secrets"),
    ("genCA", "makes secrets"),
    ("genCAWithKey", "makes secrets"),
    ("genSelfSignedCert", "makes secrets"),
    ("genSelfSignedCertWithKey", "makes secrets"),
    ("genSignedCert", "makes secrets"),
    ("genSignedCertWithKey", "makes secrets"),
    ("encryptAES", "makes secrets"),
    ("decryptAES", "makes secrets"),
    ("semver", "is not implemented offline"),
    ("semverCompare", "is not implemented offline"),
    ("urlParse", "is not implemented offline"),
    ("urlJoin", "is not implemented offline"),
    ("toDecimal", "is not implemented offline"),
    ("snakecase", "is not implemented offline"),
    ("camelcase", "is not implemented offline"),
    ("kebabcase", "is not implemented offline"),
    ("swapcase", "is not implemented offline"),
    ("typeOf", "is not implemented offline"),
    ("typeIs", "is not implemented offline"),
    ("typeIsLike", "is not implemented offline"),
    ("kindOf", "is not implemented offline"),
    ("kindIs", "is not implemented offline"),
    ("deepEqual", "is not implemented offline"),
    ("tpl", "is not implemented offline"),
    ("set", "changes a dict in place"),
    ("unset", "changes a dict in place"),
    ("seq", "is not implemented offline"),
    ("abbrev", "is not implemented offline"),
    ("abbrevboth", "is not implemented offline"),
    ("initials", "is not implemented offline"),
    ("wrap", "is not implemented offline"),
    ("wrapWith", "is not implemented offline"),
];

/// Argo CD removes these from Sprig's map: in Argo CD they are "not defined".
const REMOVED_BY_ARGO: &[&str] = &["env", "expandenv", "getHostByName"];

/// The error text for a function the template calls but the map lacks.
pub(super) fn undefined(name: &str) -> String {
    match REFUSED.iter().find(|(n, _)| *n == name) {
        Some((_, why)) => format!(
            "the Sprig function \"{name}\" {why}: fleetctl does not evaluate it offline \
             (expand this ApplicationSet with `argocd appset generate` against a live Argo CD)"
        ),
        None if REMOVED_BY_ARGO.contains(&name) => {
            format!("function \"{name}\" not defined (Argo CD removes it from Sprig's functions)")
        }
        None => format!("function \"{name}\" not defined"),
    }
}

/// Register `f` as `name`.
pub(super) fn add(m: &mut FuncMap, name: &str, f: impl Fn(&[Value]) -> gotmpl::Result<Value> + Send + Sync + 'static) {
    m.insert(name.to_string(), Arc::new(f));
}

/// Every function, built once.
pub(super) fn func_map() -> &'static FuncMap {
    static MAP: OnceLock<FuncMap> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m = FuncMap::new();
        strings::register(&mut m);
        regex::register(&mut m);
        paths::register(&mut m);
        lists::register(&mut m);
        dicts::register(&mut m);
        math::register(&mut m);
        encoding::register(&mut m);
        argo::register(&mut m);
        for (name, _) in REFUSED {
            let n = name.to_string();
            add(&mut m, name, move |_| Err(gotmpl::TemplateError::Exec(undefined(&n))));
        }
        m
    })
}
