//! `fleetctl man` and `fleetctl completions`, generated from the one clap definition: a man page per
//! subcommand (every `fleetctl-<sub>(1)` the SUBCOMMANDS section names exists) with ENVIRONMENT and EXIT
//! STATUS; completions that offer the repo's cluster names and phase numbers.

use super::{Cli, Globals};
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use clap::builder::PossibleValuesParser;
use clap::CommandFactory;
use std::io::Write;
use std::path::Path;

/// The environment fleetctl reads, for every man page.
const ENVIRONMENT: &[(&str, &str)] = &[
    ("KUBECONFIG", "Kubeconfig file(s), as kubectl reads them, unless --kubeconfig is given. `resume` uses the kubeconfig its run started with and refuses to go on when KUBECONFIG now points the run's context at another server."),
    ("FLEETCTL_STATE_DIR", "Where journals, locks and reports live (--state-dir); default $XDG_STATE_HOME/fleetctl, else ~/.local/state/fleetctl. Rehearsals keep theirs in its rehearsal/ folder."),
    ("FLEETCTL_RUNBOOKS", "Runbooks to use instead of the built-in ones (--runbooks)."),
    ("FLEETCTL_API_GRACE", "How long a wait rides out an API server that stopped answering before the step fails (--api-grace; default 2m)."),
    ("FLEETCTL_CRDS", "Real CRD schemas for `rehearse`, `sim serve` and `verify`."),
    ("FLEETCTL_LOG", "Log filter for -vv debug logs (tracing's EnvFilter syntax, e.g. fleetctl=debug,kube=debug)."),
    ("FLEETCTL_PROBE_RESOLVE", "host=ADDR:PORT,... pins probe hosts to addresses, like curl --resolve; * pins every host."),
    ("FLEETCTL_PROBE_INSECURE", "1: probes accept self-signed certificates."),
    ("NO_COLOR", "No colours (as --no-color), in output and logs."),
    ("CI", "When set, fleetctl never prompts: decisions come from --answers or --yes."),
];

/// Exit codes, the same for every command.
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success: the phase ran and every acceptance criterion passes (skipped ones do not count against it)."),
    ("1", "A failure: a step failed, a criterion fails or is pending, verify found something, the API server was lost for longer than the grace."),
    ("2", "Bad input, before anything was written: a flag, a file, an answer that is not what its decision needs, an unreachable or wrong cluster (another cluster than the one cluster.yaml and the journal name)."),
    ("130", "Interrupted by Ctrl-C (also at a prompt) or SIGTERM; the run is journaled and `fleetctl resume` continues it."),
];

fn roff_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('-', "\\-")
}

fn definitions(w: &mut dyn Write, heading: &str, items: &[(&str, &str)]) -> std::io::Result<()> {
    writeln!(w, ".SH \"{heading}\"")?;
    for (term, text) in items {
        writeln!(w, ".TP\n\\fB{}\\fR\n{}", roff_escape(term), roff_escape(text))?;
    }
    Ok(())
}

/// The command's examples (its after-help text, "Example(s):" dropped), as a verbatim block.
fn examples(cmd: &clap::Command, w: &mut dyn Write) -> std::io::Result<()> {
    let Some(text) = cmd.get_after_long_help().or(cmd.get_after_help()) else {
        return Ok(());
    };
    let text = text.to_string();
    writeln!(w, ".SH EXAMPLES\n.nf")?;
    for line in text.lines().filter(|l| !l.trim_start().starts_with("Example")) {
        // A line starting with '.' or '\'' would be a roff request.
        let line = roff_escape(line.trim_start());
        let line = if line.starts_with(['.', '\'']) {
            format!("\\&{line}")
        } else {
            line
        };
        writeln!(w, "{line}")?;
    }
    writeln!(w, ".fi")
}

/// One page: clap's sections, then ENVIRONMENT, EXIT STATUS and the examples.
fn page(cmd: clap::Command, w: &mut dyn Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone())
        .source(format!("fleetctl {}", env!("CARGO_PKG_VERSION")))
        .manual("fleetctl manual");
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(w)?;
    }
    definitions(w, "ENVIRONMENT", ENVIRONMENT)?;
    definitions(w, "EXIT STATUS", EXIT_STATUS)?;
    examples(&cmd, w)?;
    if cmd.get_version().is_some() {
        man.render_version_section(w)?;
    }
    Ok(())
}

/// The built command tree (subcommands carry their `fleetctl-sub` display names), without `help`.
fn tree() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Every page: (file name, command), the top one first.
fn pages(cmd: &clap::Command) -> Vec<(String, clap::Command)> {
    let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_string();
    let mut out = vec![(format!("{name}.1"), cmd.clone())];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        out.extend(pages(sub));
    }
    out
}

/// `fleetctl man [SUBCOMMAND...] [--dir DIR]`.
pub fn man(path: &[String], dir: Option<&Path>) -> Result<i32, UserError> {
    let all = pages(&tree());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            UserError::usage(format!("cannot create {}: {e}", dir.display())).next("pass a writable --dir")
        })?;
        for (file, cmd) in all {
            let p = dir.join(&file);
            let mut f = std::fs::File::create(&p)
                .map_err(|e| UserError::usage(format!("cannot write {}: {e}", p.display())))?;
            page(cmd, &mut f).map_err(|e| UserError::failed(e.to_string()))?;
        }
        return Ok(0);
    }
    let want = std::iter::once("fleetctl".to_string())
        .chain(path.iter().cloned())
        .collect::<Vec<_>>()
        .join("-")
        + ".1";
    let Some((_, cmd)) = all.into_iter().find(|(f, _)| *f == want) else {
        return Err(
            UserError::usage(format!("no man page for `fleetctl {}`", path.join(" ")))
                .next("`fleetctl --help` lists the subcommands; `fleetctl man --dir DIR` writes every page"),
        );
    };
    page(cmd, &mut std::io::stdout()).map_err(|e| UserError::failed(e.to_string()))?;
    Ok(0)
}

/// What completions offer for `--cluster` and phase numbers, from the repo and runbooks in use (empty
/// outside a fleet repo).
fn values(g: Option<&Globals>) -> (Vec<String>, Vec<String>) {
    let Some(g) = g else { return (vec![], vec![]) };
    let clusters = ClusterSpec::list(&g.repo);
    let mut phases: Vec<u8> = g
        .library()
        .map(|l| l.runbooks.iter().map(|b| b.runbook.phase).collect())
        .unwrap_or_default();
    phases.sort();
    phases.dedup();
    (clusters, phases.iter().map(u8::to_string).collect())
}

/// Offer `values` for the argument `arg` of every (sub)command that has it.
fn offer(cmd: clap::Command, arg: &str, values: &[String]) -> clap::Command {
    if values.is_empty() {
        return cmd;
    }
    let has = cmd.get_arguments().any(|a| a.get_id() == arg);
    let mut cmd = if has {
        // clap keeps possible values as &'static str; completions are generated once per process.
        let v: Vec<&'static str> = values.iter().map(|s| &*Box::leak(s.clone().into_boxed_str())).collect();
        cmd.mut_arg(arg, move |a| a.value_parser(PossibleValuesParser::new(v)))
    } else {
        cmd
    };
    let subs: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for s in subs {
        cmd = cmd.mut_subcommand(&s, |sc| offer(sc, arg, values));
    }
    cmd
}

/// `fleetctl completions SHELL`: the clusters of this repo for `--cluster`, its runbooks' phase numbers for
/// `phase N`, `rehearse N` and `check --phase N`. In bash the cluster names are read again each time
/// (`fleetctl completions --values clusters`), so a cluster added later is offered without regenerating.
pub fn completions(shell: clap_complete::Shell, g: Option<&Globals>) -> Result<i32, UserError> {
    let (clusters, phases) = values(g);
    let mut with_all = phases.clone();
    with_all.push("all".into());
    let mut cmd = offer(Cli::command(), "cluster", &clusters);
    cmd = cmd.mut_subcommand("phase", |c| offer(c, "phase", &phases));
    for sub in ["rehearse", "check"] {
        let w = with_all.clone();
        cmd = cmd.mut_subcommand(sub, move |c| offer(c, "phase", &w));
    }
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "fleetctl", &mut out);
    let mut text = String::from_utf8_lossy(&out).into_owned();
    if shell == clap_complete::Shell::Bash && !clusters.is_empty() {
        let fixed = format!("compgen -W \"{}\"", clusters.join(" "));
        let live = format!(
            "compgen -W \"$(fleetctl completions bash --values clusters 2>/dev/null || echo '{}')\"",
            clusters.join(" ")
        );
        text = text.replace(&fixed, &live);
    }
    print!("{text}");
    Ok(0)
}

/// `fleetctl completions SHELL --values clusters|phases`: the names completions offer, one a line.
pub fn print_values(what: &str, g: Option<&Globals>) -> Result<i32, UserError> {
    let (clusters, phases) = values(g);
    let list = match what {
        "clusters" => clusters,
        "phases" => phases,
        other => {
            return Err(UserError::usage(format!(
                "--values {other}: expected clusters or phases"
            )))
        }
    };
    for v in list {
        println!("{v}");
    }
    Ok(0)
}
