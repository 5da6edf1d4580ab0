//! Generator and template semantics, each on a small throwaway repository: missingkey, exclude
//! precedence, `*` not crossing `/`, list and cluster generators, and clear errors for what is
//! not supported offline.

mod appset_common;

use appset_common::{gen, names, repo};
use fleetctl::appset;

/// A goTemplate ApplicationSet over `pattern` with the given name/namespace templates.
fn go_appset(options: &str, dirs: &str, name: &str, ns: &str) -> String {
    format!(
        r#"apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: apps
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: {options}
  generators:
    - git:
        repoURL: https://example.com/r.git
        revision: HEAD
        directories:
{dirs}
        values:
          wave: "3"
  template:
    metadata:
      name: "{name}"
    spec:
      project: default
      source:
        repoURL: https://example.com/r.git
        targetRevision: HEAD
        path: "{{{{ .path.path }}}}"
      destination:
        server: https://kubernetes.default.svc
        namespace: "{ns}"
"#
    )
}

#[test]
fn missingkey_error_names_the_key_appset_and_line() {
    let y = go_appset(
        r#"["missingkey=error"]"#,
        "          - path: apps/*",
        "{{ .path.basename }}",
        "{{ .values.namespace }}",
    );
    let t = repo(&["apps/one"], &[("argocd/appset.yaml", &y)]);
    let e = gen(t.path()).unwrap_err();
    assert!(e.cause.contains("ApplicationSet 'apps'"), "{e}");
    assert!(e.cause.contains(".values.namespace"), "{e}");
    assert!(e.cause.contains("map has no entry for key \"namespace\""), "{e}");
    assert!(e.cause.contains("spec.destination.namespace"), "{e}");
    // Line 28 of the file holds `namespace: "{{ .values.namespace }}"`.
    assert_eq!(e.subject.as_deref(), Some("argocd/appset.yaml:28"), "{e}");
    assert_eq!(e.code, 2);
}

#[test]
fn without_missingkey_error_go_prints_no_value() {
    let y = go_appset(
        "[]",
        "          - path: apps/*",
        "{{ .path.basename }}-{{ .values.wave }}",
        "{{ .values.namespace }}",
    );
    let t = repo(&["apps/one"], &[("argocd/appset.yaml", &y)]);
    let apps = gen(t.path()).unwrap();
    assert_eq!(names(&apps), vec!["one-3"]);
    assert_eq!(apps[0].destination.namespace.as_deref(), Some("<no value>"));
}

#[test]
fn exclude_wins_over_include_whatever_the_order() {
    // The include is the more specific entry and comes last: it still loses.
    let y = go_appset(
        r#"["missingkey=error"]"#,
        "          - path: apps/*\n            exclude: true\n          - path: apps/keep\n          - path: other/*",
        "{{ .path.basename }}",
        "{{ .path.basename }}",
    );
    let t = repo(&["apps/keep", "apps/drop", "other/x"], &[("argocd/appset.yaml", &y)]);
    assert_eq!(names(&gen(t.path()).unwrap()), vec!["x"]);
}

#[test]
fn star_does_not_cross_slash_and_double_star_is_not_recursive() {
    let y = go_appset(
        r#"["missingkey=error"]"#,
        "          - path: apps/*\n          - path: deep/**",
        "{{ .path.path | replace `/` `-` }}",
        "x",
    );
    let t = repo(
        &[
            "apps/a",
            "apps/a/nested",
            "apps/b/overlays/talos",
            "deep/one",
            "deep/one/two",
        ],
        &[("argocd/appset.yaml", &y)],
    );
    // apps/b has no file of its own but is a directory of the checkout (it holds overlays/).
    assert_eq!(names(&gen(t.path()).unwrap()), vec!["apps-a", "apps-b", "deep-one"]);
}

#[test]
fn hidden_and_empty_directories_are_not_generated() {
    let y = go_appset(
        r#"["missingkey=error"]"#,
        "          - path: apps/*",
        "{{ .path.basename }}",
        "x",
    );
    let t = repo(&["apps/a", "apps/.hidden"], &[("argocd/appset.yaml", &y)]);
    std::fs::create_dir_all(t.path().join("apps/empty")).unwrap();
    assert_eq!(names(&gen(t.path()).unwrap()), vec!["a"]);
}

#[test]
fn legacy_unknown_keys_stay_as_written() {
    // {{path.path}} and {{path.segments}} are goTemplate names: the legacy engine has no such
    // parameters and leaves them untouched, exactly like Argo CD.
    let y = r#"apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: legacy
  namespace: argocd
spec:
  generators:
    - git:
        repoURL: https://example.com/r.git
        revision: HEAD
        pathParamPrefix: app
        directories:
          - path: apps/*
        values:
          tier: "t-{{app.path.basename}}"
  template:
    metadata:
      name: "{{app.path.basename}}"
      annotations:
        seg: "{{app.path[0]}}"
        tier: "{{values.tier}}"
        typo: "{{ app.path.path }}"
    spec:
      project: default
      source:
        repoURL: https://example.com/r.git
        targetRevision: HEAD
        path: "{{app.path}}"
      destination:
        server: https://kubernetes.default.svc
        namespace: "{{path.basename}}"
"#;
    let t = repo(&["apps/One_Two"], &[("argocd/appset.yaml", y)]);
    let apps = gen(t.path()).unwrap();
    let a = &apps[0];
    assert_eq!(a.name, "One_Two");
    assert_eq!(a.source.path, "apps/One_Two");
    assert_eq!(a.annotations["seg"], "apps");
    assert_eq!(a.annotations["tier"], "t-One_Two");
    assert_eq!(a.annotations["typo"], "{{ app.path.path }}");
    assert_eq!(a.destination.namespace.as_deref(), Some("{{path.basename}}"));
}

#[test]
fn list_and_in_cluster_generators() {
    let y = r#"apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: addons
  namespace: argocd
spec:
  goTemplate: true
  generators:
    - list:
        elements:
          - app: metrics-server
            ns: kube-system
          - app: reloader
            ns: reloader
    - clusters:
        values:
          app: "cluster-{{ .name }}"
    - clusters:
        selector:
          matchLabels:
            env: prod
  template:
    metadata:
      name: "{{ .app | default .values.app }}"
    spec:
      project: default
      source:
        repoURL: https://example.com/r.git
        targetRevision: HEAD
        path: addons
      destination:
        server: "{{ default \"https://kubernetes.default.svc\" .server }}"
        namespace: "{{ default \"default\" .ns }}"
"#;
    let t = repo(&["addons"], &[("argocd/appset.yaml", y)]);
    let apps = gen(t.path()).unwrap();
    // The selector generator matches nothing: the local cluster has no labels.
    assert_eq!(names(&apps), vec!["metrics-server", "reloader", "cluster-in-cluster"]);
    assert_eq!(apps[0].destination.namespace.as_deref(), Some("kube-system"));
    assert_eq!(apps[2].destination.namespace.as_deref(), Some("default"));
}

#[test]
fn unsupported_generators_are_refused_naming_the_file() {
    // matrix and merge are expanded offline now (tests/appset_generators.rs); an SCM provider
    // needs a live API and is refused by name, at its line.
    let y = r#"apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: combo
spec:
  generators:
    - scmProvider:
        github:
          organization: example
  template:
    metadata:
      name: x
    spec:
      project: default
      source: {repoURL: r, path: p}
      destination: {server: https://kubernetes.default.svc}
"#;
    let t = repo(&[], &[("sets/combo.yaml", y)]);
    let e = gen(t.path()).unwrap_err();
    assert!(
        e.cause.contains("scmProvider generator is not supported offline"),
        "{e}"
    );
    assert_eq!(e.subject.as_deref(), Some("sets/combo.yaml:7"), "{e}");
    assert!(e.next.is_some());
}

#[test]
fn duplicate_names_are_refused_like_argo() {
    let y = go_appset(
        r#"["missingkey=error"]"#,
        "          - path: apps/*/*",
        "{{ .path.basename }}",
        "x",
    );
    let t = repo(&["apps/a/web", "apps/b/web"], &[("argocd/appset.yaml", &y)]);
    let e = gen(t.path()).unwrap_err();
    assert!(
        e.cause
            .contains("ApplicationSet apps contains applications with duplicate name: web"),
        "{e}"
    );
}

#[test]
fn same_application_from_two_appsets_is_refused() {
    let a = go_appset(
        r#"["missingkey=error"]"#,
        "          - path: a/*",
        "{{ .path.basename }}",
        "x",
    );
    let b = a.replace("name: apps", "name: other").replace("path: a/*", "path: b/*");
    let t = repo(&["a/web", "b/web"], &[("argocd/a.yaml", &a), ("argocd/b.yaml", &b)]);
    let e = gen(t.path()).unwrap_err();
    assert!(e.cause.contains("'web' is generated by two ApplicationSets"), "{e}");
}

#[test]
fn non_string_values_and_bad_patterns_are_input_errors() {
    let y = go_appset(
        r#"["missingkey=error"]"#,
        "          - path: apps/*",
        "{{ .path.basename }}",
        "x",
    )
    .replace("wave: \"3\"", "wave: 3");
    let t = repo(&["apps/a"], &[("argocd/appset.yaml", &y)]);
    let e = gen(t.path()).unwrap_err();
    assert!(e.cause.contains("git.values.wave must be a string"), "{e}");

    let y = go_appset(
        r#"["missingkey=error"]"#,
        "          - path: apps/[a",
        "{{ .path.basename }}",
        "x",
    );
    let t = repo(&["apps/a"], &[("argocd/appset.yaml", &y)]);
    let e = gen(t.path()).unwrap_err();
    assert!(e.cause.contains("bad pattern"), "{e}");
}

#[test]
fn malformed_appset_yaml_reports_file_and_line() {
    let y = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: broken\nspec:\n  generators: [\n";
    let t = repo(&[], &[("sets/broken.yaml", y)]);
    let e = appset::load_appsets(t.path(), None).unwrap_err();
    let subject = e.subject.clone().unwrap();
    assert!(subject.starts_with("sets/broken.yaml:1"), "{e}");
    let line: usize = subject.rsplit(':').next().unwrap().parse().unwrap();
    assert!(line >= 10, "{e}");
}

#[test]
fn scope_limits_the_search_and_unknown_clusters_are_usage_errors() {
    let y = go_appset(
        r#"["missingkey=error"]"#,
        "          - path: apps/*",
        "{{ .path.basename }}",
        "x",
    );
    let t = repo(
        &["apps/a"],
        &[
            ("clusters/one/apps/appset.yaml", &y),
            ("clusters/two/apps/appset.yaml", &y.replace("name: apps", "name: two")),
        ],
    );
    let scope = appset::cluster_scope(t.path(), "one").unwrap();
    let sets = appset::load_appsets(t.path(), Some(&scope)).unwrap();
    assert_eq!(sets.len(), 1);
    let apps = appset::generate(t.path(), &sets).unwrap();
    assert_eq!(apps[0].cluster.as_deref(), Some("one"));
    // The same Application name in two clusters' Argo CD instances is fine.
    let all = appset::load_appsets(t.path(), None).unwrap();
    assert_eq!(appset::generate(t.path(), &all).unwrap().len(), 2);

    let e = appset::cluster_scope(t.path(), "nope").unwrap_err();
    assert_eq!(e.code, 2);
    assert!(e.cause.contains("unknown cluster 'nope'"), "{e}");
}
