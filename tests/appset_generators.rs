//! Matrix, merge, git files, the cluster generator's flatList and project, templatePatch, and Go
//! templates with control flow and Sprig functions, each on a small throwaway repository. The
//! expected rows follow Argo CD's documentation (cited per test) and its generator source.

mod appset_common;

use appset_common::{gen, names, repo};

/// An ApplicationSet with the given generators and template metadata/spec (YAML, indented).
fn appset(go: bool, generators: &str, name: &str, extra_spec: &str) -> String {
    format!(
        r#"apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: set
  namespace: argocd
spec:
  goTemplate: {go}
  goTemplateOptions: ["missingkey=error"]
  generators:
{generators}
  template:
    metadata:
      name: '{name}'
    spec:
      project: default
      source:
        repoURL: https://example.com/r.git
        targetRevision: HEAD
        path: apps
      destination:
        server: https://kubernetes.default.svc
        namespace: default
{extra_spec}"#
    )
}

#[test]
fn matrix_crosses_git_directories_with_a_list_first_generator_outer() {
    // Generators-Matrix.md: "combine the parameters of two child generators, iterating through
    // every combination"; the first generator's parameter sets are the outer loop (matrix.go).
    let g = r#"    - matrix:
        generators:
          - git:
              repoURL: https://example.com/r.git
              revision: HEAD
              directories:
                - path: apps/*
          - list:
              elements:
                - env: dev
                - env: prod"#;
    let y = appset(true, g, "{{ .path.basename }}-{{ .env }}", "");
    let t = repo(&["apps/a", "apps/b"], &[("argocd/set.yaml", &y)]);
    assert_eq!(
        names(&gen(t.path()).unwrap()),
        vec!["a-dev", "a-prod", "b-dev", "b-prod"]
    );
}

#[test]
fn matrix_second_generator_uses_the_first_generators_parameters() {
    // Generators-Matrix.md, "Using Parameters from one child generator in another child
    // generator": the git files path is templated with the directory found first.
    let g = r#"    - matrix:
        generators:
          - git:
              repoURL: https://example.com/r.git
              revision: HEAD
              directories:
                - path: apps/*
          - git:
              repoURL: https://example.com/r.git
              revision: HEAD
              files:
                - path: '{{ .path.path }}/config.json'"#;
    let y = appset(true, g, "{{ .path.basename }}-{{ .tier }}", "");
    let t = repo(
        &["apps/a", "apps/b"],
        &[
            ("argocd/set.yaml", &y),
            ("apps/a/config.json", r#"{"tier": "gold"}"#),
            ("apps/b/config.json", r#"[{"tier": "silver"}, {"tier": "bronze"}]"#),
        ],
    );
    // Both generators set `path`; with goTemplate the first generator's values win (matrix.go
    // merges the second's parameters, then the first's, WithOverride).
    assert_eq!(names(&gen(t.path()).unwrap()), vec!["a-gold", "b-silver", "b-bronze"]);
}

#[test]
fn matrix_refuses_conflicting_legacy_keys_and_wrong_generator_counts() {
    // utils.CombineStringMaps: the same key with different values is an error without goTemplate.
    let g = r#"    - matrix:
        generators:
          - list:
              elements: [{env: dev}]
          - list:
              elements: [{env: prod}]"#;
    let t = repo(&[], &[("argocd/set.yaml", &appset(false, g, "{{env}}", ""))]);
    let e = gen(t.path()).unwrap_err();
    assert!(e.cause.contains("found duplicate key env with different value"), "{e}");

    let g = r#"    - matrix:
        generators:
          - list:
              elements: [{env: dev}]"#;
    let t = repo(&[], &[("argocd/set.yaml", &appset(true, g, "{{ .env }}", ""))]);
    let e = gen(t.path()).unwrap_err();
    assert!(
        e.cause
            .contains("found less than two generators, Matrix support only two"),
        "{e}"
    );
    assert_eq!(e.subject.as_deref(), Some("argocd/set.yaml:10"), "{e}");
}

#[test]
fn merge_overrides_base_sets_by_merge_key_and_drops_unmatched() {
    // Generators-Merge.md: the first generator is the base; later generators' parameter sets
    // override base sets with the same mergeKeys values; sets matching no base set are ignored.
    let g = r#"    - merge:
        mergeKeys: [app]
        generators:
          - list:
              elements:
                - {app: web, replicas: "1", ns: web}
                - {app: api, replicas: "1", ns: api}
          - list:
              elements:
                - {app: api, replicas: "3"}
                - {app: ghost, replicas: "9"}"#;
    let y = appset(true, g, "{{ .app }}-{{ .replicas }}-{{ .ns }}", "");
    let t = repo(&[], &[("argocd/set.yaml", &y)]);
    assert_eq!(names(&gen(t.path()).unwrap()), vec!["web-1-web", "api-3-api"]);

    // merge.go: param sets of one generator must be unique by their merge keys.
    let dup = y.replace(
        "{app: web, replicas: \"1\", ns: web}",
        "{app: api, replicas: \"2\", ns: x}",
    );
    let t = repo(&[], &[("argocd/set.yaml", &dup)]);
    let e = gen(t.path()).unwrap_err();
    assert!(e.cause.contains("not unique by the given mergeKeys"), "{e}");
    assert!(e.cause.contains(r#"Duplicate key was {"app":"api"}"#), "{e}");
}

#[test]
fn git_files_parameters_legacy_and_go() {
    // Generators-Git.md, "Git Generator: Files": each file's keys become parameters (flattened
    // with dots without goTemplate), plus path, path.basename, path.filename, path[n].
    let cfg = r#"{"aws_account": "123456", "cluster": {"owner": "eng@example.com", "name": "engineering-dev", "address": "https://1.2.3.4"}}"#;
    let g = r#"    - git:
        repoURL: https://example.com/r.git
        revision: HEAD
        files:
          - path: "cluster-config/**/config.json""#;
    let legacy = appset(
        false,
        g,
        "{{cluster.name}}-{{path.basename}}-{{path[1]}}-{{path.filename}}",
        "",
    );
    let t = repo(
        &[],
        &[
            ("argocd/set.yaml", &legacy),
            ("cluster-config/engineering/dev/config.json", cfg),
            (
                "cluster-config/engineering/prod/config.json",
                &cfg.replace("engineering-dev", "engineering-prod"),
            ),
            ("cluster-config/engineering/prod/notes.md", "not matched"),
        ],
    );
    let apps = gen(t.path()).unwrap();
    assert_eq!(
        names(&apps),
        vec![
            "engineering-dev-dev-engineering-config.json",
            "engineering-prod-prod-engineering-config.json"
        ]
    );

    let go = appset(
        true,
        g,
        "{{ .cluster.name }}-{{ index .path.segments 2 }}-{{ .path.filenameNormalized }}",
        "",
    );
    let t = repo(
        &[],
        &[
            ("argocd/set.yaml", &go),
            ("cluster-config/engineering/dev/config.json", cfg),
        ],
    );
    assert_eq!(names(&gen(t.path()).unwrap()), vec!["engineering-dev-dev-config.json"]);
}

#[test]
fn clusters_flat_list_and_project() {
    // Generators-Cluster.md, "Flat List" (flatList: true gives one Application with every
    // cluster under .clusters); cluster.go (>= 2.14): the local cluster's project is "".
    let g = r#"    - clusters:
        flatList: true"#;
    let y = appset(
        true,
        g,
        "all-{{ len .clusters }}-{{ range $i, $c := .clusters }}{{ if $i }}-{{ end }}{{ $c.name }}{{ end }}",
        "",
    );
    let t = repo(&[], &[("argocd/set.yaml", &y)]);
    assert_eq!(names(&gen(t.path()).unwrap()), vec!["all-1-in-cluster"]);

    let y = appset(
        true,
        "    - clusters: {}",
        "p-{{ .project | default \"none\" }}-{{ .nameNormalized }}",
        "",
    );
    let t = repo(&[], &[("argocd/set.yaml", &y)]);
    assert_eq!(names(&gen(t.path()).unwrap()), vec!["p-none-in-cluster"]);
}

#[test]
fn template_patch_adds_what_the_template_cannot_express() {
    // Template.md, "Template Patch": the patch is a Go template rendered per parameter set and
    // merged into the Application; here it adds automated sync only where autoSync is true.
    let g = r#"    - list:
        elements:
          - {app: web, autoSync: true, prune: true}
          - {app: api, autoSync: false, prune: false}"#;
    let patch = r#"  templatePatch: |
    metadata:
      annotations:
        patched: "{{ .app }}"
    {{- if .autoSync }}
    spec:
      syncPolicy:
        automated:
          prune: {{ .prune }}
          selfHeal: true
    {{- end }}
"#;
    let y = appset(true, g, "{{ .app }}", "") + patch;
    let t = repo(&[], &[("argocd/set.yaml", &y)]);
    let apps = gen(t.path()).unwrap();
    assert_eq!(names(&apps), vec!["web", "api"]);
    assert!(apps[0].self_heal());
    assert_eq!(apps[0].sync_policy["automated"]["prune"], true);
    assert!(apps[1].sync_policy.is_null());
    assert_eq!(apps[1].annotations["patched"], "api");
}

#[test]
fn go_templates_with_control_flow_and_sprig_in_an_appset() {
    // GoTemplate.md: Sprig functions and Go control flow; Sprig's join skips nil elements.
    let g = r#"    - list:
        elements:
          - {app: shop, env: prod, tags: [a, null, b]}
          - {app: Shop_Admin, env: dev, tags: []}"#;
    let y = appset(
        true,
        g,
        r#"{{ if eq .env "prod" }}{{ .app }}{{ else }}{{ .app | slugify }}-{{ .env }}{{ end }}"#,
        "",
    )
    .replace(
        "      project: default",
        "      project: '{{ join \"-\" .tags | default \"none\" }}'",
    );
    let t = repo(&[], &[("argocd/set.yaml", &y)]);
    let apps = gen(t.path()).unwrap();
    assert_eq!(names(&apps), vec!["shop", "shop-admin-dev"]);
    assert_eq!(apps[0].project, "a-b");
    assert_eq!(apps[1].project, "none");
}

#[test]
fn unsupported_template_functions_are_refused_with_file_and_line() {
    let y = appset(
        true,
        "    - list:\n        elements: [{app: x}]",
        "{{ .app }}-{{ now }}",
        "",
    );
    let t = repo(&[], &[("argocd/set.yaml", &y)]);
    let e = gen(t.path()).unwrap_err();
    assert!(e.cause.contains("ApplicationSet 'set'"), "{e}");
    assert!(e.cause.contains("\"now\" reads the clock"), "{e}");
    assert_eq!(e.subject.as_deref(), Some("argocd/set.yaml:14"), "{e}");
}
