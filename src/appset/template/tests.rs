use super::funcs::slugify;
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
    assert!(go("{{ if .path }}y{{ end", d.clone(), true).is_err());
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

// ---- Go text/template, from https://pkg.go.dev/text/template (Actions, Arguments, Pipelines,
// Variables, Functions) ----

#[test]
fn go_control_flow() {
    let d = json!({"env": "prod", "n": 3, "items": ["a", "b", "c"], "m": {"z": 1, "a": 2}, "empty": [], "nil": null});
    let g = |t: &str| go(t, d.clone(), false).unwrap();
    assert_eq!(
        g(r#"{{ if eq .env "prod" }}3{{ else if eq .env "dev" }}1{{ else }}2{{ end }}"#),
        "3"
    );
    assert_eq!(
        g(r#"{{ if .empty }}x{{ else }}empty lists are false{{ end }}"#),
        "empty lists are false"
    );
    assert_eq!(g(r#"{{ with .env }}{{ . }}!{{ end }}"#), "prod!");
    assert_eq!(g(r#"{{ with .nil }}x{{ else }}nil is false{{ end }}"#), "nil is false");
    assert_eq!(
        g(r#"{{ range $i, $v := .items }}{{ $i }}={{ $v }};{{ end }}"#),
        "0=a;1=b;2=c;"
    );
    // A map ranges in sorted key order.
    assert_eq!(g(r#"{{ range $k, $v := .m }}{{ $k }}{{ $v }} {{ end }}"#), "a2 z1 ");
    assert_eq!(g(r#"{{ range .empty }}x{{ else }}none{{ end }}"#), "none");
    assert_eq!(
        g(r#"{{ range .items }}{{ if eq . "b" }}{{ break }}{{ end }}{{ . }}{{ end }}"#),
        "a"
    );
    assert_eq!(g(r#"{{ $x := .env }}{{ $x = printf "%s-%d" $x 2 }}{{ $x }}"#), "prod-2");
    // Inside range, $ is still the root.
    assert_eq!(g(r#"{{ range .items }}{{ $.env }}{{ end }}"#), "prodprodprod");
}

#[test]
fn go_comparisons_and_logic() {
    let d = json!({"a": 1, "b": 2, "s": "x"});
    let g = |t: &str| go(t, d.clone(), false).unwrap();
    assert_eq!(
        g("{{ lt .a .b }} {{ le .a .a }} {{ gt .a .b }} {{ ge .b .a }} {{ ne .a .b }}"),
        "true true false true true"
    );
    // eq with several arguments is true if the first equals any of the others.
    assert_eq!(g(r#"{{ eq .s "y" "x" }}"#), "true");
    // and/or return the deciding argument, not a bool.
    assert_eq!(g(r#"{{ or "" .s }} {{ and .s 0 }} {{ not .s }}"#), "x 0 false");
    assert_eq!(
        g(r#"{{ len .s }} {{ printf "%05.1f|%q|%v" 3.14159 "q" .a }}"#),
        "1 003.1|\"q\"|1"
    );
    assert_eq!(g("{{ (index (list 1 2 3) 1) }}"), "2");
}

#[test]
fn numbers_are_float64_as_in_argo() {
    // Generators unmarshal JSON/YAML into map[string]any: every number is a float64, and
    // fmt prints a float64 of 1e6 as 1e+06 (Sprig's toString). Known difference:
    // gotmpl prints a float action `{{ .big }}` or `printf "%v"` as 1000000 (docs/appset.md).
    let d = json!({"replicas": 3, "big": 1000000, "half": 0.5});
    assert_eq!(go("{{ .replicas }} {{ .half }}", d.clone(), false).unwrap(), "3 0.5");
    assert_eq!(go("{{ toString .big }}", d.clone(), false).unwrap(), "1e+06");
    assert_eq!(go("{{ add .replicas 1 }}", d.clone(), false).unwrap(), "4");
    assert_eq!(go("{{ toJson .big }}", d, false).unwrap(), "1000000");
}

// ---- Sprig v3 (https://masterminds.github.io/sprig/) as Argo CD ships it ----

#[test]
fn sprig_strings() {
    let d = json!({"name": "Hello World", "nil": null, "n": 3});
    let g = |t: &str| go(t, d.clone(), false).unwrap();
    assert_eq!(g(r#"{{ "hello" | substr 0 3 }}"#), "hel"); // strings.md: substr 0 5 "hello world" → hello
    assert_eq!(g(r#"{{ substr 6 -1 "hello world" }}"#), "world");
    assert_eq!(
        g(r#"{{ trunc 5 "hello world" }}|{{ trunc -5 "hello world" }}"#),
        "hello|world"
    );
    assert_eq!(
        g(r#"{{ "  x " | trim }}|{{ trimAll "$" "$5.00$" }}|{{ trimPrefix "-" "-x" }}"#),
        "x|5.00|x"
    );
    assert_eq!(
        g(r#"{{ title "hello world" }}|{{ untitle "Hello World" }}|{{ repeat 3 "ab" }}"#),
        "Hello World|hello world|ababab"
    );
    assert_eq!(
        g(r#"{{ nospace "a b  c" }}|{{ contains "cat" "catch" }}|{{ hasPrefix "ca" "cat" }}"#),
        "abc|true|true"
    );
    assert_eq!(g(r#"{{ indent 2 "a\nb" }}|{{ nindent 2 "a" }}"#), "  a\n  b|\n  a");
    assert_eq!(g(r#"{{ plural "one" "many" 2 }}|{{ cat "a" .nil 3 }}"#), "many|a 3");
    // quote/squote skip nil; a missing key is nil too.
    assert_eq!(
        g(r#"{{ quote "a" .nil "b\"c" }}|{{ squote .nil }}|{{ quote .missing }}"#),
        r#""a" "b\"c"||"#
    );
    assert_eq!(g(r#"{{ .name | lower | replace " " "-" }}"#), "hello-world");
    // A string parameter refuses a number, as Go's call does.
    assert!(go("{{ upper .n }}", d.clone(), false)
        .unwrap_err()
        .message
        .contains("expected string"));
}

#[test]
fn sprig_lists_and_join_with_nil() {
    let d = json!({"l": ["a", null, "b"], "nil": null, "nums": [3, 1, 2]});
    let g = |t: &str| go(t, d.clone(), false).unwrap();
    // join skips nil elements and joins nothing for nil (Sprig's strslice).
    assert_eq!(
        g(r#"{{ join "," .l }}|{{ join "," .nil }}|{{ join "-" (list 1 "x") }}"#),
        "a,b||1-x"
    );
    assert_eq!(
        g(r#"{{ first .l }} {{ last .l }} {{ rest .l }} {{ initial (list 1 2 3) }}"#),
        "a b [<nil> b] [1 2]"
    );
    assert_eq!(
        g(r#"{{ splitList "/" "a/b/c" | last }}|{{ (split "$" "foo$bar")._1 }}"#),
        "c|bar"
    );
    assert_eq!(
        g(r#"{{ sortAlpha (list "b" "a") }} {{ uniq (list 1 1 2) }} {{ has "b" .l }} {{ compact (list 1 "" 2) }}"#),
        "[a b] [1 2] true [1 2]"
    );
    assert_eq!(
        g(r#"{{ until 3 }} {{ untilStep 0 6 2 }} {{ without (list 1 2 3) 2 }} {{ append (list 1) 2 }}"#),
        "[0 1 2] [0 2 4] [1 3] [1 2]"
    );
}

#[test]
fn sprig_dicts_math_defaults() {
    let d = json!({"m": {"a": 1, "b": {"c": "deep"}}, "e": "", "v": "set"});
    let g = |t: &str| go(t, d.clone(), false).unwrap();
    assert_eq!(
        g(
            r#"{{ get .m "a" }}|{{ get .m "zz" }}|{{ hasKey .m "b" }}|{{ dig "b" "c" "none" .m }}|{{ dig "x" "none" .m }}"#
        ),
        "1||true|deep|none"
    );
    assert_eq!(
        g(r#"{{ $d := dict "k" "v" "n" 1 }}{{ $d.k }}{{ $d.n }} {{ keys (dict "b" 1 "a" 2) }}"#),
        "v1 [a b]"
    );
    assert_eq!(
        g(
            r#"{{ merge (dict "a" 1) (dict "a" 2 "b" 3) | toJson }}|{{ mergeOverwrite (dict "a" 1) (dict "a" 2) | toJson }}"#
        ),
        r#"{"a":1,"b":3}|{"a":2}"#
    );
    assert_eq!(
        g(r#"{{ pick (dict "a" 1 "b" 2) "a" | toJson }} {{ omit (dict "a" 1 "b" 2) "a" | toJson }}"#),
        r#"{"a":1} {"b":2}"#
    );
    assert_eq!(g("{{ add 1 2 3 }} {{ sub 5 2 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }} {{ max 1 5 3 }} {{ min 4 2 }} {{ add1 1 }}"), "6 3 6 3 1 5 2 2");
    assert_eq!(
        g(r#"{{ atoi "12" }} {{ int "7" }} {{ floor 1.7 }} {{ ceil 1.2 }} {{ round 1.25 1 }}"#),
        "12 7 1 2 1.3"
    );
    assert_eq!(
        g(
            r#"{{ default "x" .e }}|{{ default "x" .v }}|{{ .missing | default "d" }}|{{ empty .e }}|{{ coalesce .e "" "c" }}"#
        ),
        "x|set|d|true|c"
    );
    assert_eq!(
        g(r#"{{ ternary "y" "n" true }} {{ all 1 "a" }} {{ any 0 "" }}"#),
        "y true false"
    );
    assert!(go(r#"{{ fail "stop here" }}"#, d.clone(), false)
        .unwrap_err()
        .message
        .contains("stop here"));
    assert!(go("{{ div 1 0 }}", d, false)
        .unwrap_err()
        .message
        .contains("divide by zero"));
}

#[test]
fn sprig_encoding_regex_paths() {
    let d = json!({"p": "apps/media/plex", "o": {"b": [1, "<x>"], "a": null}});
    let g = |t: &str| go(t, d.clone(), false).unwrap();
    assert_eq!(
        g(r#"{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }} {{ b32enc "hi" }}"#),
        "aGVsbG8= hello NBUQ===="
    );
    assert_eq!(
        g(r#"{{ sha256sum "hello" }}"#),
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert_eq!(
        g(r#"{{ sha1sum "hello" }} {{ adler32sum "hello" }}"#),
        "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d 103547413"
    );
    // toJson sorts keys and escapes <, >, & like json.Marshal; toRawJson does not escape.
    assert_eq!(g("{{ toJson .o }}"), r#"{"a":null,"b":[1,"\u003cx\u003e"]}"#);
    assert_eq!(g("{{ toRawJson .o }}"), r#"{"a":null,"b":[1,"<x>"]}"#);
    assert_eq!(g("{{ toPrettyJson (dict \"a\" 1) }}"), "{\n  \"a\": 1\n}");
    assert_eq!(g(r#"{{ (fromJson "{\"a\": [1, 2]}").a }}"#), "[1 2]");
    assert_eq!(
        g(r#"{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}|{{ regexReplaceAllLiteral "a(x*)b" "-ab-" "${1}" }}"#),
        "-W-xxW-|-${1}-"
    );
    assert_eq!(
        g(
            r#"{{ regexMatch "^[a-z]+$" "abc" }} {{ regexFind "[0-9]+" "a12b3" }} {{ regexFindAll "[0-9]" "a1b2c3" 2 }} {{ regexSplit "/" .p -1 }}"#
        ),
        "true 12 [1 2] [apps media plex]"
    );
    assert_eq!(g(r#"{{ regexQuoteMeta "1.2" }}"#), r"1\.2");
    assert_eq!(
        g("{{ base .p }} {{ dir .p }} {{ ext \"a/b.yaml\" }} {{ clean \"a//b/../c\" }} {{ isAbs .p }}"),
        "plex apps/media .yaml a/c false"
    );
}

#[test]
fn argo_functions() {
    let d = json!({"branch": "Feature/JIRA-123_Add.Stuff", "v": {"image": {"tag": "1.2"}, "ports": [80]}});
    let g = |t: &str| go(t, d.clone(), false).unwrap();
    assert_eq!(g("{{ normalize .branch }}"), "feature-jira-123-add.stuff");
    // slugify: normalize, then '.' → '-' and at most 50 characters (smart truncation at a '-').
    assert_eq!(g("{{ slugify .branch }}"), "feature-jira-123-add-stuff");
    assert_eq!(g("{{ slugify 12 true .branch }}"), "feature-jira");
    assert_eq!(g("{{ slugify 12 false .branch }}"), "feature-jira");
    assert_eq!(g("{{ slugify 10 false .branch }}"), "feature-ji");
    assert_eq!(slugify("a-b-c-d", 3, true), "a-b");
    assert_eq!(g("{{ toYaml .v }}"), "image:\n  tag: '1.2'\nports:\n- 80");
    assert_eq!(
        g(r#"{{ (fromYaml "a:\n  b: 2").a.b }} {{ index (fromYamlArray "- x\n- y") 1 }}"#),
        "2 y"
    );
    assert!(go(r#"{{ fromYaml "- a" }}"#, d.clone(), false).is_err());
}

#[test]
fn unsupported_functions_are_refused_by_name() {
    let d = json!({});
    let e = go("{{ now }}", d.clone(), false).unwrap_err();
    assert!(e.message.contains("\"now\" reads the clock"), "{e:?}");
    let e = go("{{ uuidv4 }}", d.clone(), false).unwrap_err();
    assert!(e.message.contains("\"uuidv4\" is random"), "{e:?}");
    // Argo CD removes env/expandenv/getHostByName from Sprig.
    let e = go("{{ env \"HOME\" }}", d.clone(), false).unwrap_err();
    assert!(e.message.contains("function \"env\" not defined"), "{e:?}");
    let e = go("{{ $_ := set (dict) \"a\" 1 }}", d, false).unwrap_err();
    assert!(e.message.contains("\"set\" changes a dict in place"), "{e:?}");
}
