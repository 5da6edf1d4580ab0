//! The repo's own runbooks: each loads and validates, every apply path renders with the real kustomize,
//! and every decision a step takes is answered in the rehearsal answers.

use fleetctl::fleet::render::Kustomize;
use fleetctl::runbook;
use std::path::Path;

#[test]
fn every_runbook_loads_and_its_apply_paths_render() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let books =
        runbook::library::load_dir(&repo.join("runbooks"), repo, fleetctl::steps::registry()).expect("runbooks load");
    assert!(!books.is_empty(), "the repo has no runbooks");
    let k = Kustomize::find().expect("kubectl or kustomize on PATH");
    let answers = fleetctl::decide::load_answers(&repo.join("runbooks/answers/rehearsal.yaml")).unwrap();
    for b in &books {
        for s in &b.runbook.steps {
            if let Some(a) = &s.apply {
                let objs = k
                    .render(&repo.join(&a.path))
                    .unwrap_or_else(|e| panic!("{}: step {}: {e}", b.file.display(), s.id));
                assert!(!objs.is_empty(), "{}: step {} renders nothing", b.file.display(), s.id);
            }
            if let Some(d) = &s.decide {
                assert!(
                    answers.contains_key(d),
                    "rehearsal answers lack decision '{d}' of {}",
                    b.file.display()
                );
            }
        }
        let mut ids: Vec<&str> = b.runbook.acceptance.iter().map(|c| c.id.as_str()).collect();
        ids.sort();
        for id in ids {
            assert!(
                id.starts_with(&format!("p{}.", b.runbook.phase)),
                "criterion {id} must be named p{}.<name>",
                b.runbook.phase
            );
        }
    }
}
