//! Times Phase 4's offline work on a legacy fleet: `appset generate` (load + expand every
//! ApplicationSet) and the no-churn gate (as a migration runs it, and from the base commit via
//! git archive). Used by scripts/bench.sh; prints `name: value ms` lines (median of --runs).
//!
//! Usage: cargo run --release --example bench_phase4 -- FLEET_DIR [--runs N]
//! FLEET_DIR: a legacy fleet from scripts/gen-legacy-fleet.py (it is migrated on a branch first).

use fleetctl::ui::{Ui, Verbosity};
use fleetctl::{appset, migrate};
use std::path::PathBuf;
use std::time::Instant;

fn median_ms(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first().map(PathBuf::from) else {
        eprintln!("usage: bench_phase4 FLEET_DIR [--runs N]");
        std::process::exit(2);
    };
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let ui = Ui::new(Verbosity::Quiet, true);
    let opts = migrate::Options {
        repo: dir.clone(),
        cluster: "talos".into(),
        // Moving trees is destructive: --yes alone never confirms it, an explicit answer does.
        answers: [("p4-move".to_string(), "move-to-defaults".to_string())].into(),
        yes: true,
        dry_run: false,
    };
    let out = migrate::run(&opts, &ui).unwrap_or_else(|e| panic!("migrate: {e}"));
    let n_apps = match &out {
        migrate::Outcome::Committed { gate, .. } => gate.after,
        other => panic!("expected a committed migration, got {other:?}"),
    };
    let plan = migrate::recorded_plan(&dir).expect("journal");
    let base = String::from_utf8(
        std::process::Command::new("git")
            .args(["rev-parse", "HEAD~1"])
            .current_dir(&dir)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();

    let before = migrate::recorded_before(&dir).expect("journal has the before side");
    let base_dir = migrate::apply::checkout_to_temp(&dir, &base).unwrap();
    let base_tree = migrate::tree::Tree::load(base_dir.path());
    let (mut gen, mut gate, mut gate_base) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let scope = appset::cluster_scope(&dir, "talos").unwrap();
        let sets = appset::load_appsets(&dir, Some(&scope)).unwrap();
        let apps = appset::generate(&dir, &sets).unwrap();
        assert_eq!(apps.len(), n_apps);
        gen.push(t.elapsed().as_secs_f64() * 1000.0);
        // The gate as a migration runs it: the "before" side was generated from the clean base
        // checkout before the first move and journaled; the "after" side is generated now.
        let t = Instant::now();
        let r = migrate::gate::run(&base_tree, &dir, "talos", &plan, Some(&before)).unwrap();
        assert!(r.passed);
        gate.push(t.elapsed().as_secs_f64() * 1000.0);
        // Without a journal (or for a dry run): the base commit extracted with git archive first.
        let t = Instant::now();
        let r = migrate::gate_against_base(&dir, &base, "talos", &plan).unwrap();
        assert!(r.passed);
        gate_base.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (g, q, qb) = (median_ms(gen), median_ms(gate), median_ms(gate_base));
    println!("appset-generate-{n_apps}: {g:.1} ms");
    println!("phase4-gate-{n_apps}: {q:.1} ms");
    println!("phase4-gate-from-base-commit-{n_apps}: {qb:.1} ms");
    println!("appset-generate+phase4-gate-{n_apps}: {:.1} ms", g + q);
}
