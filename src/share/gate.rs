//! The zero-churn gate of `fleetctl share`, run on the branch before the commit.

use super::{ClusterSpec, SourceInfo};
use crate::appset::GeneratedApp;
use crate::error::UserError;
use crate::fleet::render::{BuildOptions, Kustomize};
use crate::migrate::gate::{generate_for, Row};
use std::path::Path;

/// Renders the way the repo's Argo CD builds (its `kustomize.buildOptions`, helm through `which`).
pub struct Renderer {
    k: Kustomize,
    opts: BuildOptions,
}

impl Renderer {
    pub fn new(repo: &Path) -> Result<Renderer, UserError> {
        let yaml: Vec<std::path::PathBuf> = crate::appset::dirs::list_files(repo)
            .into_iter()
            .filter(|f| f.ends_with(".yaml") || f.ends_with(".yml"))
            .map(|f| repo.join(f))
            .collect();
        Ok(Renderer {
            k: Kustomize::find()?,
            opts: BuildOptions::from_repo(&yaml),
        })
    }

    pub fn text(&self, dir: &Path) -> Result<String, UserError> {
        self.k.render_text_with(dir, &self.opts)
    }
}

/// One checked statement.
#[derive(Debug, Clone)]
pub struct Line {
    pub ok: bool,
    pub text: String,
}

/// The gate's verdict: every line must hold.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    pub lines: Vec<Line>,
    /// Allowed deltas and other facts, for the reader.
    pub notes: Vec<String>,
}

impl Gate {
    fn push(&mut self, ok: bool, text: impl Into<String>) {
        self.lines.push(Line { ok, text: text.into() });
    }

    pub fn passed(&self) -> bool {
        self.lines.iter().all(|l| l.ok)
    }

    pub fn summary_lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .lines
            .iter()
            .map(|l| format!("{} {}", if l.ok { "ok:  " } else { "FAIL:" }, l.text))
            .collect();
        out.extend(self.notes.iter().map(|n| format!("      {n}")));
        out
    }

    pub fn refusal(&self) -> UserError {
        let failed: Vec<&str> = self.lines.iter().filter(|l| !l.ok).map(|l| l.text.as_str()).collect();
        UserError::failed(format!("the zero-churn gate failed: {}", failed.join("; "))).next(
            "fix the app (or its overlays' inputs) and run share again; nothing was committed and no branch was left",
        )
    }
}

pub struct Inputs<'a> {
    pub wt: &'a Path,
    pub app: &'a str,
    pub src: &'a SourceInfo,
    pub targets: &'a [(String, ClusterSpec)],
    pub render: &'a Renderer,
    pub old_text: &'a str,
    pub old_app: &'a GeneratedApp,
    pub before_apps: &'a [GeneratedApp],
    /// `file:line` of the added exclusion.
    pub exclusion: String,
}

pub fn check(i: Inputs) -> Result<Gate, UserError> {
    let mut g = Gate::default();
    let shared = format!("apps-shared/{}", i.app);
    // (1) The source overlay renders byte-identical to the old app.
    let src_overlay = format!("{shared}/overlays/{}", i.src.cluster);
    match i.render.text(&i.wt.join(&src_overlay)) {
        Ok(t) if t == i.old_text => g.push(
            true,
            format!(
                "{src_overlay} renders byte-identical to {} ({} bytes)",
                i.src.old_dir,
                t.len()
            ),
        ),
        Ok(t) => g.push(
            false,
            format!(
                "{src_overlay} renders differently from {}:\n{}",
                i.src.old_dir,
                similar::TextDiff::from_lines(i.old_text, &t)
                    .unified_diff()
                    .header("before", "after")
            ),
        ),
        Err(e) => g.push(false, format!("{src_overlay} does not render: {}", e.cause)),
    }
    // (2) Every other overlay differs only in allowed deltas.
    overlay_deltas(&mut g, &i)?;
    // (3) The Applications: the old one goes, the shared one comes with the same destination, the rest stay.
    applications(&mut g, &i)?;
    Ok(g)
}

fn overlay_deltas(g: &mut Gate, i: &Inputs) -> Result<(), UserError> {
    for (dir, _) in i.targets {
        let o = format!("apps-shared/{}/overlays/{dir}", i.app);
        if let Err(e) = i.render.text(&i.wt.join(&o)) {
            g.push(false, format!("{o} does not render: {}", e.cause));
        }
    }
    let d = crate::verify::delta::app_overlay_delta(i.wt, i.app, false)?;
    if d.problems.is_empty() {
        g.push(
            true,
            format!(
                "overlays {} differ only in parentRefs/hostnames and {} delta(s) allowed in overlay-delta.yaml (rule overlay-delta)",
                d.overlays.join(", "),
                d.allowed.len()
            ),
        );
    } else {
        g.push(false, format!("overlay-delta: {}", d.problems.join("; ")));
    }
    g.notes.extend(d.allowed.iter().map(|a| format!("allowed: {a}")));
    Ok(())
}

fn applications(g: &mut Gate, i: &Inputs) -> Result<(), UserError> {
    let after = generate_for(i.wt, &i.src.cluster)?;
    let src_overlay = format!("apps-shared/{}/overlays/{}", i.app, i.src.cluster);
    let old_gone = !after.iter().any(|a| a.name == i.old_app.name);
    g.push(
        old_gone,
        format!(
            "ApplicationSet {} no longer generates {} (exclusion at {})",
            i.old_app.appset, i.old_app.name, i.exclusion
        ),
    );
    let new: Vec<&GeneratedApp> = after
        .iter()
        .filter(|a| {
            a.rendered_sources()
                .iter()
                .any(|s| s.path.trim_end_matches('/') == src_overlay)
        })
        .collect();
    match new.as_slice() {
        [n] => {
            let same = n.destination == i.old_app.destination;
            g.push(
                same,
                format!(
                    "{} (ApplicationSet {}) deploys {src_overlay} to {}, {} {}",
                    n.name,
                    n.appset,
                    dest(n),
                    if same { "as" } else { "NOT as" },
                    i.old_app.name
                ),
            );
            if n.project != i.old_app.project {
                g.notes.push(format!("project {} -> {}", i.old_app.project, n.project));
            }
        }
        [] => g.push(
            false,
            format!(
                "no ApplicationSet of cluster {} deploys {src_overlay}: the app would stop being managed \
                 (add one for apps-shared/*/overlays/{}, like clusters/talos/apps/shared-apps-appset.yaml)",
                i.src.cluster, i.src.cluster
            ),
        ),
        many => g.push(
            false,
            format!("{src_overlay} is deployed by {} Applications", many.len()),
        ),
    }
    let strip = |apps: &[GeneratedApp], skip: &str| -> Vec<Row> {
        let mut rows: Vec<Row> = apps
            .iter()
            .filter(|a| a.name != skip && !a.rendered_sources().iter().any(|s| s.path == src_overlay))
            .map(Row::of)
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        rows
    };
    let (b, a) = (strip(i.before_apps, &i.old_app.name), strip(&after, &i.old_app.name));
    g.push(
        a == b,
        format!(
            "the other {} Applications of cluster {} are unchanged",
            b.len(),
            i.src.cluster
        ),
    );
    for (dir, _) in i.targets {
        let o = format!("apps-shared/{}/overlays/{dir}", i.app);
        let there = generate_for(i.wt, dir)?;
        match there.iter().find(|a| a.rendered_sources().iter().any(|s| s.path == o)) {
            Some(a) => g.notes.push(format!(
                "on {dir}: {} (ApplicationSet {}) deploys {o}",
                a.name, a.appset
            )),
            None => g.notes.push(format!(
                "on {dir}: no ApplicationSet deploys {o} yet (it is written, not deployed)"
            )),
        }
    }
    Ok(())
}

fn dest(a: &GeneratedApp) -> String {
    let d = &a.destination;
    format!(
        "{}/{}",
        d.server.as_deref().or(d.name.as_deref()).unwrap_or("-"),
        d.namespace.as_deref().unwrap_or("-")
    )
}
