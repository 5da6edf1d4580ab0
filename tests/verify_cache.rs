//! The content-hash render cache, parallel rendering, CRD sources.

#[path = "fixtures/verify/common.rs"]
mod common;

use common::*;
use fleetctl::schema::SchemaSet;
use fleetctl::verify::{run, run_with, CacheState, VerifyOptions};

fn misses(r: &fleetctl::verify::VerifyReport) -> Vec<String> {
    r.roots
        .iter()
        .filter(|x| x.cache == CacheState::Miss)
        .map(|x| x.path.clone())
        .collect()
}

#[test]
fn second_run_renders_nothing_and_one_change_rerenders_one_root() {
    if !have_kustomize() {
        return;
    }
    let fleet = fleet_with(None);
    let cache = tempfile::tempdir().unwrap();
    let first = verify(fleet.path(), Some(cache.path().to_path_buf()));
    assert_eq!(first.cache_hits, 0);
    assert_eq!(first.cache_misses, first.roots.len());
    assert_eq!(first.roots.len(), 8);

    let second = verify(fleet.path(), Some(cache.path().to_path_buf()));
    assert_eq!(second.rendered(), 0, "{:?}", misses(&second));
    assert_eq!(second.cache_hits, second.roots.len());
    assert_eq!(second.objects, first.objects);
    assert_eq!(second.findings, first.findings);

    // One overlay file changes: only that overlay is rendered again.
    let f = fleet.path().join("apps-shared/web/overlays/beta/route.yaml");
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("web.apps.beta.example", "www.apps.beta.example");
    std::fs::write(&f, text).unwrap();
    let third = verify(fleet.path(), Some(cache.path().to_path_buf()));
    assert_eq!(misses(&third), vec!["apps-shared/web/overlays/beta".to_string()]);
    assert_eq!(third.cache_hits, third.roots.len() - 1);

    // A base file changes: the base and both overlays that use it.
    let f = fleet.path().join("apps-shared/web/base/service.yaml");
    let text = std::fs::read_to_string(&f).unwrap().replace("port: 80", "port: 8080");
    std::fs::write(&f, text).unwrap();
    let fourth = verify(fleet.path(), Some(cache.path().to_path_buf()));
    assert_eq!(
        misses(&fourth),
        vec![
            "apps-shared/web/base",
            "apps-shared/web/overlays/alpha",
            "apps-shared/web/overlays/beta"
        ]
    );
}

#[test]
fn default_cache_lives_in_the_repo() {
    if !have_kustomize() {
        return;
    }
    let fleet = fleet_with(None);
    let r = verify(fleet.path(), None);
    assert_eq!(r.cache_misses, r.roots.len());
    let dir = fleet.path().join(".fleetctl/cache/render");
    let n = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "yaml"))
        .count();
    assert_eq!(n, r.roots.len(), "one cached render per root in {}", dir.display());
    let again = verify(fleet.path(), None);
    assert_eq!(again.cache_hits, again.roots.len());
}

#[test]
fn parallel_and_serial_agree() {
    if !have_kustomize() {
        return;
    }
    let fleet = fleet_with(Some("overlay-delta"));
    let empty = SchemaSet::empty();
    let s = schemas().unwrap_or(&empty);
    let mut serial = VerifyOptions::new(fleet.path());
    serial.jobs = 1;
    serial.cache_dir = Some(tempfile::tempdir().unwrap().keep());
    let mut parallel = VerifyOptions::new(fleet.path());
    parallel.jobs = 4;
    parallel.cache_dir = Some(tempfile::tempdir().unwrap().keep());
    let a = run_with(&serial, s).unwrap();
    let b = run_with(&parallel, s).unwrap();
    assert_eq!(a.cache_misses, a.roots.len());
    assert_eq!(b.cache_misses, b.roots.len());
    assert_eq!(a.findings, b.findings);
    assert_eq!(a.objects, b.objects);
}

#[test]
fn without_crds_every_kind_is_listed_not_validated() {
    if !have_kustomize() {
        return;
    }
    let fleet = fleet_with(None);
    let opts = VerifyOptions::new(fleet.path());
    let r = run_with(&opts, &SchemaSet::empty()).unwrap();
    assert_eq!(r.validated, 0);
    assert!(r.not_validated.contains("apps/v1 Deployment"), "{:?}", r.not_validated);
    assert!(
        r.not_validated.contains("argoproj.io/v1alpha1 ApplicationSet"),
        "{:?}",
        r.not_validated
    );
    assert!(r.is_clean(), "{}", r.to_text());
    let text = r.to_text();
    assert!(text.contains("scripts/fetch-crds.sh"), "{text}");
    assert!(text.contains("not validated (no schema): "), "{text}");
}

#[test]
fn crds_option_is_used_and_a_bad_dir_is_an_input_error() {
    if !have_kustomize() {
        return;
    }
    let Some(crds) = crds_dir() else { return };
    let fleet = fleet_with(Some("schema"));
    let mut opts = VerifyOptions::new(fleet.path());
    opts.crds = Some(crds);
    let r = run(&opts).unwrap();
    assert_eq!(r.findings.len(), 1, "{}", r.to_text());
    assert!(
        r.crds_loaded >= 28 && r.core_kinds_loaded >= 200,
        "{} {}",
        r.crds_loaded,
        r.core_kinds_loaded
    );

    opts.crds = Some(fleet.path().join("no-such-dir"));
    let err = run(&opts).unwrap_err();
    assert_eq!(err.code, fleetctl::error::exit::USAGE);
    let err = run(&VerifyOptions::new(fleet.path().join("nope"))).unwrap_err();
    assert_eq!(err.code, fleetctl::error::exit::USAGE);
}

#[test]
fn json_report_shape() {
    if !have_kustomize() {
        return;
    }
    let fleet = fleet_with(Some("secret-plaintext"));
    let r = verify(fleet.path(), Some(shared_cache()));
    let j = r.to_json();
    assert_eq!(j["version"], 1);
    assert_eq!(j["clean"], false);
    // Findings come sorted by file: the repository Secret with a password, then the plain one.
    let f = &j["findings"][1];
    assert_eq!(f["rule"], "secret-plaintext");
    assert_eq!(f["file"], "clusters/alpha/infrastructure/secrets/plain.yaml");
    assert_eq!(f["object"], "Secret/cert-manager/api-token");
    assert_eq!(f["root"], "clusters/alpha/infrastructure/secrets");
    assert_eq!(j["summary"]["byRule"]["secret-plaintext"], 2);
    assert_eq!(j["roots"].as_array().unwrap().len(), 8);
    assert!(j["roots"][0]["cache"].is_string());
}

#[test]
fn unwritable_cache_is_not_fatal() {
    if !have_kustomize() {
        return;
    }
    let fleet = fleet_with(None);
    // A file where the cache directory should be.
    let blocker = fleet.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let r = verify(fleet.path(), Some(blocker.join("cache")));
    assert_eq!(r.cache_misses, r.roots.len());
    assert!(
        r.notes.iter().any(|n| n.starts_with("render cache disabled")),
        "{:?}",
        r.notes
    );
}
