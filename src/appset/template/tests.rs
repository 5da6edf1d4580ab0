use super::*;
use serde_json::json;
use serde_json::{Map, Value};

fn go(t: &str, data: Value, err: bool) -> Result<String, TemplateError> {
    render_go(t, &data, GoOptions { missingkey_error: err })
}

fn dir_params() -> Value {
    json!({"path": {"path": "apps-shared/redlib/overlays/openshift", "basename": "openshift",
        "basenameNormalized": "openshift",
        "segments": ["apps-shared", "redlib", "overlays", "openshift"]},
        "values": {"wave": "6"}})
}

#[test]
fn fields_index_and_pipelines() {
    let d = dir_params();
    assert_eq!(
        go("{{ .path.path }}", d.clone(), true).unwrap(),
        "apps-shared/redlib/overlays/openshift"
    );
    assert_eq!(
        go("shared-{{ index .path.segments 1 }}", d.clone(), true).unwrap(),
        "shared-redlib"
    );
    assert_eq!(go("{{.values.wave}}", d.clone(), true).unwrap(), "6");
    assert_eq!(
        go("{{ .path.basename | upper }}", d.clone(), true).unwrap(),
        "OPENSHIFT"
    );
    assert_eq!(
        go("{{ index .path.segments 1 | printf \"app-%s\" }}", d.clone(), true).unwrap(),
        "app-redlib"
    );
    assert_eq!(
        go("{{ (index .path.segments 0) | replace \"-\" \"_\" }}", d.clone(), true).unwrap(),
        "apps_shared"
    );
    assert_eq!(go("a {{- \" b \" -}} c", d.clone(), true).unwrap(), "a b c");
    assert_eq!(go("{{/* note */}}x", d.clone(), true).unwrap(), "x");
    assert_eq!(
        go("{{ .path.segments }}", d.clone(), true).unwrap(),
        "[apps-shared redlib overlays openshift]"
    );
    assert_eq!(go("{{ $.values.wave }}", d.clone(), true).unwrap(), "6");
    assert_eq!(go("{{ default \"x\" .values.nope }}", d.clone(), false).unwrap(), "x");
    assert_eq!(go("no actions", d, true).unwrap(), "no actions");
}

#[test]
fn missing_keys() {
    let d = dir_params();
    assert_eq!(go("{{ .values.nope }}", d.clone(), false).unwrap(), "<no value>");
    assert_eq!(go("{{ .nope.deeper }}", d.clone(), false).unwrap(), "<no value>");
    let e = go("{{ .values.nope }}", d.clone(), true).unwrap_err();
    assert_eq!(e.missing_key.as_deref(), Some(".values.nope"));
    assert!(e.message.contains("map has no entry for key \"nope\""), "{e:?}");
    let e = go("{{ .path.basename.x }}", d.clone(), false).unwrap_err();
    assert!(e.message.contains("can't evaluate field x in type string"), "{e:?}");
    let e = go("{{ index .path.segments 9 }}", d, false).unwrap_err();
    assert!(e.message.contains("index out of range: 9"), "{e:?}");
}

#[test]
fn parse_errors() {
    let d = dir_params();
    assert!(go("{{ .path.path", d.clone(), true).is_err());
    assert!(go("{{ if .x }}y{{ end }}", d.clone(), true)
        .unwrap_err()
        .message
        .contains("not supported"));
    assert!(go("{{ nosuchfunc .x }}", d.clone(), true)
        .unwrap_err()
        .message
        .contains("not defined"));
    assert!(go("{{ .path.path .x }}", d, true)
        .unwrap_err()
        .message
        .contains("non-function"));
}

#[test]
fn legacy_templates() {
    let mut p = Map::new();
    p.insert("path".into(), json!("my-apps/media/plex"));
    p.insert("path.basename".into(), json!("plex"));
    p.insert("path[1]".into(), json!("media"));
    p.insert("values.wave".into(), json!("6"));
    assert_eq!(render_legacy("{{path}}", &p).unwrap(), "my-apps/media/plex");
    assert_eq!(
        render_legacy("my-apps-{{ path.basename }}", &p).unwrap(),
        "my-apps-plex"
    );
    assert_eq!(render_legacy("{{path[1]}}-{{values.wave}}", &p).unwrap(), "media-6");
    assert_eq!(
        render_legacy("{{ unknown }}/{{path.path}}", &p).unwrap(),
        "{{ unknown }}/{{path.path}}"
    );
    assert_eq!(
        render_legacy("{{ .path.basename }}", &p).unwrap(),
        "{{ .path.basename }}"
    );
    assert_eq!(render_legacy("plain", &p).unwrap(), "plain");
    assert!(render_legacy("{{path}} and {{oops", &p).is_err());
}

#[test]
fn sanitize() {
    assert_eq!(sanitize_name("Directory_2"), "directory-2");
    assert_eq!(sanitize_name("-a.b-"), "a.b");
}
