//! Phase 4 on a fleet shaped like a real single-cluster Talos repo (scripts/gen-real-fleet.py): the root
//! Application syncs the argocd apps folder, a bootstrap script names root-level paths, Applications carry
//! manifest-generate-paths, CI and Renovate match paths, kustomize renders helmCharts. The repo holds no
//! `runbooks/` and no cluster description. Every check (a)-(e) is verified here independently of fleetctl's
//! own gate: by rendering with the real kustomize, resolving the script's paths, and matching the CI and
//! Renovate patterns against the files they matched before the move.

mod common;

use common::legacy::{fleetctl, gen_real, generated, git, ARGO_CRDS};
use common::{text, SimProc};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where the default plan puts a legacy repository path.
fn map(p: &str) -> String {
    let apps = "infrastructure/controllers/argocd/apps";
    if p == apps || p.starts_with(&format!("{apps}/")) {
        return format!("clusters/talos/apps{}", &p[apps.len()..]);
    }
    for f in ["scripts/bootstrap-argocd.sh", "scripts/argocd-bootstrap-values.yaml"] {
        if p == f {
            return format!("clusters/talos/bootstrap/{}", &f[8..]);
        }
    }
    for t in ["infrastructure", "monitoring", "my-apps"] {
        if p == t || p.starts_with(&format!("{t}/")) {
            return format!("clusters/talos/{p}");
        }
    }
    p.to_string()
}

fn boundary(c: Option<char>) -> bool {
    !c.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Naively map every root-level legacy path in a text (what "identical except repointed paths" allows).
fn map_text(s: &str) -> String {
    let mut out = s
        .replace("infrastructure/controllers/argocd/apps", "clusters/talos/apps")
        .replace(
            "scripts/bootstrap-argocd.sh",
            "clusters/talos/bootstrap/bootstrap-argocd.sh",
        )
        .replace(
            "scripts/argocd-bootstrap-values.yaml",
            "clusters/talos/bootstrap/argocd-bootstrap-values.yaml",
        );
    for t in ["infrastructure/", "monitoring/", "my-apps/"] {
        let mut next = String::new();
        let mut rest = out.as_str();
        while let Some(i) = rest.find(t) {
            let prev = rest[..i].chars().last().or_else(|| next.chars().last());
            next.push_str(&rest[..i]);
            if boundary(prev) && !next.ends_with("clusters/talos/") {
                next.push_str("clusters/talos/");
            }
            next.push_str(t);
            rest = &rest[i + t.len()..];
        }
        next.push_str(rest);
        out = next;
    }
    out
}

/// Without whole-line comments (prose, not config).
fn uncommented(s: &str) -> String {
    s.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Root-level legacy paths still named in a text outside comments: (line, text).
fn stale_refs(s: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, l) in s.lines().enumerate().filter(|(_, l)| !l.trim_start().starts_with('#')) {
        for t in [
            "infrastructure/",
            "monitoring/",
            "my-apps/",
            "scripts/bootstrap-argocd.sh",
            "scripts/argocd-bootstrap-values",
        ] {
            for (i, _) in l.match_indices(t) {
                let prev = l[..i].chars().last();
                if boundary(prev) && !l[..i].ends_with("clusters/talos/") {
                    out.push((n + 1, l.to_string()));
                }
            }
        }
    }
    out
}

fn kustomize(dir: &Path) -> Result<String, String> {
    let out = Command::new("kubectl").arg("kustomize").arg(dir).output().unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn files(root: &Path, rel: &str, out: &mut Vec<String>) {
    for e in std::fs::read_dir(root.join(rel)).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let p = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if name == ".git" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            files(root, &p, out);
        } else {
            out.push(p);
        }
    }
}

fn all_files(root: &Path) -> Vec<String> {
    let mut v = Vec::new();
    files(root, "", &mut v);
    v.sort();
    v
}

/// The base commit, extracted.
fn checkout(repo: &Path, rev: &str, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    let archive = Command::new("git")
        .args(["archive", rev])
        .current_dir(repo)
        .output()
        .unwrap();
    assert!(archive.status.success());
    let tar = dst.join("base.tar");
    std::fs::write(&tar, &archive.stdout).unwrap();
    let x = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(dst)
        .status()
        .unwrap();
    assert!(x.success());
    std::fs::remove_file(tar).unwrap();
}

fn yaml_docs(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .filter_map(|d| <Value as serde::Deserialize>::deserialize(d).ok())
        .filter(Value::is_object)
        .collect()
}

fn norm(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for s in p.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

/// A simulated Talos cluster whose simulated Argo CD runs the legacy fleet (root applied from its old path).
fn legacy_cluster(repo: &Path, t: &Path) -> SimProc {
    let sim = SimProc::on_fleet("talos", "talos", "", 20.0, repo);
    let crds = t.join("argo-crds.yaml");
    std::fs::write(&crds, ARGO_CRDS).unwrap();
    let kubectl = |args: &[&str]| {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&sim.kubeconfig)
            .arg("--cache-dir")
            .arg(sim.kubeconfig.with_file_name("kube-cache"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = kubectl(&["apply", "-f", crds.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !kubectl(&["get", "applicationsets.argoproj.io", "-A"]).status.success() {
        assert!(Instant::now() < deadline, "the Argo CD CRDs never became ready");
        std::thread::sleep(Duration::from_millis(200));
    }
    let root = repo.join("infrastructure/controllers/argocd/root.yaml");
    let out = kubectl(&["apply", "-f", root.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    // What root syncs, applied directly as well: the simulated Argo CD waits for each child Application's
    // health between waves (the app-of-apps health check), and cilium's Helm chart does not render offline,
    // so root's wave 0 would hold the ApplicationSets back.
    let synced = t.join("root-synced.yaml");
    std::fs::write(
        &synced,
        kustomize(&repo.join("infrastructure/controllers/argocd/apps")).unwrap(),
    )
    .unwrap();
    let out = kubectl(&["apply", "--server-side", "-f", synced.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = kubectl(&["-n", "argocd", "get", "applications.argoproj.io", "-o", "name"]);
        if String::from_utf8_lossy(&out.stdout).lines().count() > 20 {
            break;
        }
        if Instant::now() > deadline {
            let root = kubectl(&["-n", "argocd", "get", "applications.argoproj.io", "-o", "yaml"]);
            panic!("the legacy Applications never appeared: {}", text(&root));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    sim
}

fn phase4(repo: &Path, sim: &SimProc, answers: &str, t: &Path) -> std::process::Output {
    let a = t.join("answers.yaml");
    std::fs::write(&a, answers).unwrap();
    let kc = sim.kubeconfig.to_str().unwrap();
    fleetctl(
        repo,
        &[
            "phase",
            "4",
            "--cluster",
            "talos",
            "--kubeconfig",
            kc,
            "--answers",
            a.to_str().unwrap(),
        ],
    )
}

/// (b) and (c): every kustomization root renders after the move exactly as before, paths mapped; helm roots
/// (not rendered offline) keep every input byte-identical.
fn assert_kustomizations_render_the_same(base: &Path, repo: &Path) -> usize {
    let mut compared = 0;
    for k in all_files(base).iter().filter(|f| f.ends_with("kustomization.yaml")) {
        let dir = k.rsplit_once('/').map(|x| x.0).unwrap_or("");
        let kt = std::fs::read_to_string(base.join(k)).unwrap();
        let new_dir = map(dir);
        if kt.contains("helmCharts:") {
            // Its own files and its local charts (a subfolder that is another tree is not its input).
            for f in all_files(&base.join(dir))
                .iter()
                .filter(|f| !f.contains('/') || f.starts_with("charts/"))
            {
                let (b, a) = (base.join(dir).join(f), repo.join(&new_dir).join(f));
                let (b, a) = (
                    std::fs::read_to_string(b).unwrap(),
                    std::fs::read_to_string(a).unwrap_or_default(),
                );
                let (b, a) = (uncommented(&b), uncommented(&a));
                assert!(
                    map_text(&b) == a,
                    "helm root {dir}: {f} changed beyond repointed paths:\n{b}\n---\n{a}"
                );
            }
            continue;
        }
        let Ok(before) = kustomize(&base.join(dir)) else {
            continue;
        };
        let after = kustomize(&repo.join(&new_dir)).unwrap_or_else(|e| panic!("{new_dir} no longer renders: {e}"));
        assert_eq!(map_text(&before), after, "{dir} -> {new_dir} renders differently");
        compared += 1;
    }
    compared
}

/// (d): every manifest-generate-paths entry on the branch names something that exists.
fn assert_generate_paths_resolve(repo: &Path) -> usize {
    let mut n = 0;
    for f in all_files(repo)
        .iter()
        .filter(|f| f.ends_with(".yaml") && !f.starts_with('.'))
    {
        let text = std::fs::read_to_string(repo.join(f)).unwrap();
        if !text.contains("manifest-generate-paths") {
            continue;
        }
        for d in yaml_docs(&text) {
            let (ann, src) = match d["kind"].as_str() {
                Some("Application") => (&d["metadata"]["annotations"], d["spec"]["source"]["path"].as_str()),
                Some("ApplicationSet") => (&d["spec"]["template"]["metadata"]["annotations"], None),
                _ => continue,
            };
            let Some(v) = ann["argocd.argoproj.io/manifest-generate-paths"].as_str() else {
                continue;
            };
            for e in v
                .split(';')
                .map(str::trim)
                .filter(|e| !e.is_empty() && !e.contains("{{"))
            {
                let p = match (e.strip_prefix('/'), src) {
                    (Some(abs), _) => norm(abs),
                    (None, Some(s)) => norm(&format!("{s}/{e}")),
                    (None, None) => continue,
                };
                assert!(
                    repo.join(&p).exists(),
                    "{f}: manifest-generate-paths entry {e} names {p}, which is gone"
                );
                n += 1;
            }
        }
    }
    n
}

/// (e) for the bootstrap script: every `$ROOT_DIR/...` and `$SCRIPT_DIR/...` it names exists, its root dir
/// resolving to the repository root from the script's new folder.
fn assert_script_paths_exist(repo: &Path, script: &str) -> usize {
    let text = std::fs::read_to_string(repo.join(script)).unwrap();
    let script_dir = script.rsplit_once('/').unwrap().0.to_string();
    let mut root_dir = None;
    let mut n = 0;
    for l in text.lines() {
        if let Some(r) = l.strip_prefix("ROOT_DIR=\"$( cd \"$SCRIPT_DIR/") {
            let rel = r.split('"').next().unwrap();
            root_dir = Some(norm(&format!("{script_dir}/{rel}")));
        }
        for (var, dir) in [
            ("$ROOT_DIR/", root_dir.clone()),
            ("$SCRIPT_DIR/", Some(script_dir.clone())),
        ] {
            for (i, _) in l.match_indices(var) {
                let rest = &l[i + var.len()..];
                let p: String = rest.chars().take_while(|c| !matches!(c, '"' | ' ' | '$')).collect();
                if p.starts_with("..") || p.is_empty() {
                    continue;
                }
                let full = norm(&format!("{}/{p}", dir.clone().expect("ROOT_DIR set before use")));
                assert!(
                    repo.join(&full).exists(),
                    "{script}: {l:?} names {full}, which does not exist"
                );
                n += 1;
            }
        }
    }
    assert_eq!(
        root_dir.as_deref(),
        Some(""),
        "ROOT_DIR must resolve to the repository root: {text}"
    );
    n
}

/// (e) for CI `paths:` globs and Renovate patterns: every file a list matched before the move is, at its
/// new place, matched by the same list after it.
fn assert_patterns_still_match(base: &Path, repo: &Path) {
    let before_files = all_files(base);
    let glob = |pats: &[String]| {
        let mut b = globset::GlobSetBuilder::new();
        for p in pats {
            b.add(globset::GlobBuilder::new(p).literal_separator(true).build().unwrap());
        }
        b.build().unwrap()
    };
    let strs = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let wf = ".github/workflows/validate.yaml";
    let (b, a): (Value, Value) = (
        serde_yaml::from_str(&std::fs::read_to_string(base.join(wf)).unwrap()).unwrap(),
        serde_yaml::from_str(&std::fs::read_to_string(repo.join(wf)).unwrap()).unwrap(),
    );
    for ptr in ["/on/pull_request/paths", "/on/push/paths-ignore"] {
        let (gb, ga) = (
            glob(&strs(b.pointer(ptr).unwrap())),
            glob(&strs(a.pointer(ptr).unwrap())),
        );
        let matched: Vec<&String> = before_files.iter().filter(|f| gb.is_match(f.as_str())).collect();
        for f in &matched {
            assert!(
                ga.is_match(map(f)),
                "{wf} {ptr}: {f} (now {}) is no longer matched",
                map(f)
            );
        }
    }
    let (b, a): (Value, Value) = (
        serde_json::from_str(&std::fs::read_to_string(base.join("renovate.json")).unwrap()).unwrap(),
        serde_json::from_str(&std::fs::read_to_string(repo.join("renovate.json")).unwrap()).unwrap(),
    );
    let (rb, ra): (Vec<regex::Regex>, Vec<regex::Regex>) = (
        strs(&b["kubernetes"]["fileMatch"])
            .iter()
            .map(|p| regex::Regex::new(p).unwrap())
            .collect(),
        strs(&a["kubernetes"]["fileMatch"])
            .iter()
            .map(|p| regex::Regex::new(p).unwrap())
            .collect(),
    );
    let mut n = 0;
    for f in before_files.iter().filter(|f| rb.iter().any(|r| r.is_match(f))) {
        assert!(
            ra.iter().any(|r| r.is_match(&map(f))),
            "renovate fileMatch no longer matches {}",
            map(f)
        );
        n += 1;
    }
    assert!(n > 50, "fileMatch matched only {n} files before");
    for (i, rule) in b["packageRules"].as_array().unwrap().iter().enumerate() {
        for key in ["matchPaths", "matchFileNames"] {
            let Some(pb) = rule.get(key) else { continue };
            let (gb, ga) = (glob(&strs(pb)), glob(&strs(&a["packageRules"][i][key])));
            for f in before_files.iter().filter(|f| gb.is_match(f.as_str())) {
                assert!(
                    ga.is_match(map(f)),
                    "renovate packageRules[{i}].{key}: {} is no longer matched",
                    map(f)
                );
            }
        }
    }
}

#[test]
fn phase_4_on_a_real_shaped_fleet_without_runbooks_commits_a_branch_on_which_every_check_holds() {
    let t = tempfile::tempdir().unwrap();
    let repo: PathBuf = t.path().join("fleet");
    gen_real(&repo, 40, 7, "plain");
    assert!(!repo.join("runbooks").exists() && !repo.join("clusters").exists());
    let base_rev = git(&repo, &["rev-parse", "HEAD"]);
    // `appset generate` on the legacy layout (helm roots noted, never fatal).
    let apps_before = generated(&repo, None);
    assert!(apps_before.len() >= 40, "{apps_before:?}");
    let sim = legacy_cluster(&repo, t.path());

    let out = phase4(
        &repo,
        &sim,
        "p4-branch: phase-4-talos-migration\np4-move: move-to-defaults\n",
        t.path(),
    );
    let o = text(&out);
    assert_eq!(out.status.code(), Some(0), "{o}");
    assert_eq!(git(&repo, &["branch", "--show-current"]), "phase-4-talos-migration");
    assert_eq!(
        git(&repo, &["rev-parse", "HEAD~1"]),
        base_rev,
        "one commit on the base: {o}"
    );
    assert_eq!(git(&repo, &["status", "--porcelain"]), "", "everything committed");
    // The closing message names the one manual step, with the root's new file.
    assert!(
        o.contains("re-apply the root Application from its new path")
            && o.contains("kubectl apply -f clusters/talos/infrastructure/controllers/argocd/root.yaml"),
        "{o}"
    );

    let base = t.path().join("base");
    checkout(&repo, &base_rev, &base);
    // Bootstrap script and the values only it reads live under clusters/talos/bootstrap/.
    for f in ["bootstrap-argocd.sh", "argocd-bootstrap-values.yaml"] {
        assert!(repo.join("clusters/talos/bootstrap").join(f).is_file(), "{f} not moved");
        assert!(!repo.join("scripts").join(f).exists(), "{f} left behind");
    }
    // cluster.yaml describes the cluster the repo shows.
    let cy: Value =
        serde_yaml::from_str(&std::fs::read_to_string(repo.join("clusters/talos/cluster.yaml")).unwrap()).unwrap();
    assert_eq!(cy["platform"], "talos");
    assert_eq!(cy["argocd"]["flavour"], "helm");
    assert_eq!(cy["storageClass"], "longhorn", "{cy}");
    assert_eq!(cy["appsDomain"], "vanillax.me", "{cy}");
    assert!(cy["gateway"]["name"].as_str().unwrap().starts_with("gateway-"), "{cy}");

    // (b) the root: same file (moved), source path repointed, renders what it rendered, paths mapped.
    let root_file = "clusters/talos/infrastructure/controllers/argocd/root.yaml";
    let root: Value = serde_yaml::from_str(&std::fs::read_to_string(repo.join(root_file)).unwrap()).unwrap();
    assert_eq!(root["spec"]["source"]["path"], "clusters/talos/apps");
    let before = kustomize(&base.join("infrastructure/controllers/argocd/apps")).unwrap();
    let after = kustomize(&repo.join("clusters/talos/apps")).unwrap();
    assert!(
        before.contains("kind: ApplicationSet") && before.contains("name: cilium"),
        "{before}"
    );
    assert_eq!(map_text(&before), after, "the root renders beyond repointed paths");
    // (c) every kustomization root.
    let compared = assert_kustomizations_render_the_same(&base, &repo);
    assert!(compared > 30, "only {compared} roots rendered");
    // (d) manifest-generate-paths.
    assert!(assert_generate_paths_resolve(&repo) >= 4);
    let my_apps = std::fs::read_to_string(repo.join("clusters/talos/apps/appsets/my-apps-appset.yaml")).unwrap();
    assert!(
        my_apps.contains("manifest-generate-paths: \".;/clusters/talos/my-apps/common\""),
        "{my_apps}"
    );
    // (e) live config: the script's paths, CI and Renovate patterns, and no root-level path anywhere.
    assert!(assert_script_paths_exist(&repo, "clusters/talos/bootstrap/bootstrap-argocd.sh") >= 5);
    assert_patterns_still_match(&base, &repo);
    for f in all_files(&repo).iter().filter(|f| !f.ends_with(".md")) {
        let text = std::fs::read_to_string(repo.join(f)).unwrap_or_default();
        let stale = stale_refs(&text);
        assert!(stale.is_empty(), "{f} still names a root-level path: {stale:?}");
    }
    // (a) fleetctl's gate said so, and the branch generates the same Applications (names, paths mapped).
    assert!(o.contains("Applications identical"), "{o}");
    let rendered = |dir: &Path| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = yaml_docs(&kustomize(dir).unwrap())
            .into_iter()
            .filter(|d| d["kind"] == "ApplicationSet")
            .map(|d| {
                (
                    d["metadata"]["name"].as_str().unwrap().to_string(),
                    d["spec"]["generators"].to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let gens: Vec<(String, String)> = rendered(&base.join("infrastructure/controllers/argocd/apps"))
        .into_iter()
        .map(|(n, g)| (n, map_text(&g)))
        .collect();
    assert_eq!(gens, rendered(&repo.join("clusters/talos/apps")));
    let mapped: Vec<_> = apps_before
        .iter()
        .map(|(n, p, ns, path)| (n.clone(), p.clone(), ns.clone(), map(path)))
        .collect();
    assert_eq!(
        mapped,
        generated(&repo, Some("talos")),
        "the generated Applications changed"
    );
}

#[test]
fn a_path_fleetctl_cannot_repoint_is_refused_with_its_file_and_line_unless_accepted() {
    let t = tempfile::tempdir().unwrap();
    let repo: PathBuf = t.path().join("fleet");
    gen_real(&repo, 24, 8, "concat");
    let base_rev = git(&repo, &["rev-parse", "HEAD"]);
    let script = std::fs::read_to_string(repo.join("scripts/bootstrap-argocd.sh")).unwrap();
    let line = script
        .lines()
        .position(|l| l.contains("\"$ROOT_DIR/$APPS_TREE\""))
        .unwrap()
        + 1;
    let sim = legacy_cluster(&repo, t.path());

    let answers = "p4-branch: phase-4-talos-migration\np4-move: move-to-defaults\n";
    let out = phase4(&repo, &sim, answers, t.path());
    let o = text(&out);
    assert_ne!(out.status.code(), Some(0), "{o}");
    assert!(o.contains("refusing to commit"), "{o}");
    assert!(
        o.contains(&format!("scripts/bootstrap-argocd.sh:{line}")),
        "file:line in the repo as it is: {o}"
    );
    assert!(o.contains("$APPS_TREE"), "{o}");
    assert!(o.contains("p4-accept-refs"), "the way on: {o}");
    assert_eq!(git(&repo, &["rev-parse", "HEAD"]), base_rev, "HEAD unchanged");
    assert_eq!(git(&repo, &["branch", "--show-current"]), "main");
    assert_eq!(git(&repo, &["rev-list", "--count", "--all"]), "1", "no commit anywhere");
    assert_eq!(git(&repo, &["status", "--porcelain"]), "", "nothing written");

    // Answered acceptable: committed, and the commit says what was accepted.
    let out = phase4(&repo, &sim, &format!("{answers}p4-accept-refs: all\n"), t.path());
    let o = text(&out);
    assert_eq!(out.status.code(), Some(0), "{o}");
    let msg = git(&repo, &["log", "-1", "--format=%B"]);
    assert!(
        msg.contains("accepted by p4-accept-refs") && msg.contains(&format!("bootstrap-argocd.sh:{line}")),
        "{msg}"
    );
}

#[test]
fn a_destination_that_would_break_the_root_is_refused_before_anything_moves() {
    let t = tempfile::tempdir().unwrap();
    let repo: PathBuf = t.path().join("fleet");
    gen_real(&repo, 16, 9, "plain");
    let base_rev = git(&repo, &["rev-parse", "HEAD"]);
    // The root's folder moved where the my-apps ApplicationSet generates from (my-apps/*/*): Argo CD would
    // make it an app, and the root would sync its own ApplicationSets twice.
    let answers = t.path().join("a.yaml");
    std::fs::write(
        &answers,
        "p4-branch: phase-4-talos-migration\np4-move: move-to-defaults\np4-dest-apps-folder: clusters/talos/my-apps/argocd/apps\n",
    )
    .unwrap();
    let out = fleetctl(&repo, &["migrate", "--yes", "--answers", answers.to_str().unwrap()]);
    let o = text(&out);
    assert_ne!(out.status.code(), Some(0), "{o}");
    assert!(
        o.contains("p4-dest-apps-folder would break the root Application root"),
        "{o}"
    );
    assert!(o.contains("infrastructure/controllers/argocd/root.yaml:1"), "{o}");
    assert_eq!(git(&repo, &["rev-parse", "HEAD"]), base_rev);
    assert_eq!(git(&repo, &["branch", "--show-current"]), "main");
    assert_eq!(git(&repo, &["status", "--porcelain"]), "");
}
