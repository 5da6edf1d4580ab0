//! `fleetctl cluster new` scaffolds a cluster that `verify` accepts once its facts are filled in.

mod common;

use common::test_crds as crds;

use common::text;
use std::process::{Command, Stdio};

#[test]
fn a_scaffolded_cluster_verifies_clean_and_generates_its_apps() {
    let Some(crds) = crds() else { return };
    let dir = common::repo_copy();
    let run = |args: &[&str]| {
        Command::new(common::bin())
            .arg("--repo")
            .arg(dir.path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = run(&[
        "cluster",
        "new",
        "lab2",
        "--platform",
        "talos",
        "--from",
        "talos",
        "--apps-domain",
        "lab2.example.org",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let spec = std::fs::read_to_string(dir.path().join("clusters/lab2/cluster.yaml")).unwrap();
    assert!(
        spec.contains("name: lab2") && spec.contains("appsDomain: lab2.example.org"),
        "{spec}"
    );
    let overlay =
        std::fs::read_to_string(dir.path().join("apps-shared/redlib/overlays/lab2/kustomization.yaml")).unwrap();
    assert!(
        overlay.contains("redlib.lab2.example.org") && !overlay.contains("vanillax.me"),
        "{overlay}"
    );
    let v = run(&["verify", "--crds", crds.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "verify must be clean: {}", text(&v));
    let g = run(&["appset", "generate", "--cluster", "lab2", "--output", "json"]);
    let j: serde_json::Value = serde_json::from_slice(&g.stdout).unwrap();
    let paths: Vec<&str> = j["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["source"]["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"apps-shared/redlib/overlays/lab2"), "{paths:?}");
    assert!(
        paths.iter().all(|p| !p.starts_with("clusters/talos/")),
        "lab2's AppSets must point at clusters/lab2: {paths:?}"
    );

    let again = run(&["cluster", "new", "lab2", "--platform", "talos", "--from", "talos"]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
}

/// A bad name or apps domain is refused before anything is written.
#[test]
fn cluster_new_refuses_a_bad_name_or_apps_domain_and_writes_nothing() {
    let dir = common::repo_copy();
    let run = |args: &[&str]| {
        Command::new(common::bin())
            .arg("--repo")
            .arg(dir.path())
            .args(["cluster", "new"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let snapshot = || {
        let mut all = Vec::new();
        let mut stack = vec![dir.path().to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                }
                all.push(e.path());
            }
        }
        all.sort();
        all
    };
    let before = snapshot();
    let long = "a".repeat(80);
    let cases: [(&[&str], &str); 6] = [
        (&["lab3", "--apps-domain", "bad domain!"], "apps domain"),
        (&["lab3", "--apps-domain", "lab-.example.org"], "apps domain"),
        (&["lab3", "--apps-domain", "Lab.Example.org"], "apps domain"),
        (&[long.as_str(), "--apps-domain", "lab3.example.org"], "63"),
        (&["lab3-", "--apps-domain", "lab3.example.org"], "cluster name"),
        (&["lab_3", "--apps-domain", "lab3.example.org"], "cluster name"),
    ];
    for (args, says) in cases {
        let mut a = args.to_vec();
        a.extend(["--platform", "talos", "--from", "talos"]);
        let out = run(&a);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {t}");
        assert!(t.contains(says) && t.contains("next:"), "{args:?}: {t}");
        assert_eq!(t.trim().lines().count(), 1, "one line: {t}");
    }
    assert_eq!(snapshot(), before, "nothing may be written");
    // A good one still works.
    let out = run(&[
        "lab3",
        "--platform",
        "talos",
        "--from",
        "talos",
        "--apps-domain",
        "lab-3.example.org",
    ]);
    assert!(out.status.success(), "{}", text(&out));
}
