//! The command line: one clap definition, from which help, shell completions and the man page come.
//! Raw flags become validated settings in `Globals`; each command lives in its own thin file.

pub mod appset;
pub mod check;
pub mod cluster;
pub mod info;
pub mod man;
pub mod migrate;
pub mod phase;
pub mod rehearse;
pub mod share;
pub mod verify;

use crate::error::UserError;
use crate::runbook::Library;
use crate::steps;
use crate::ui::{Ui, Verbosity};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "fleetctl",
    version,
    about = "Run a GitOps fleet's phases as idempotent, resumable runbooks, with evidence reports",
    long_about = "fleetctl runs each phase of the fleet brief as a runbook: it checks live state first, acts only where needed, \
waits on watches, stops at decision points, and proves every acceptance criterion with an evidence report.",
    after_help = "Examples:\n  fleetctl rehearse all --answers runbooks/answers/rehearsal.yaml   # no cluster needed\n  fleetctl phase 1 --cluster openshift --answers answers.yaml\n  fleetctl check --phase all --cluster openshift --output markdown"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// More output (repeat for debug logs).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors and the report.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Where journals, locks and reports live (default: $XDG_STATE_HOME/fleetctl or ~/.local/state/fleetctl).
    #[arg(long, global = true, env = "FLEETCTL_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// The fleet repo (default: the Git top level of the current directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// No colours.
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Runbooks to use instead of the ones built into fleetctl (default: the repo's own runbooks/ when it
    /// has any, else the built-in ones; `fleetctl runbooks export DIR` writes those out for editing).
    #[arg(long, global = true, env = "FLEETCTL_RUNBOOKS", value_name = "DIR")]
    pub runbooks: Option<PathBuf>,
    /// Kubeconfig file (default: KUBECONFIG, then ~/.kube/config, as kubectl does; `resume`: the one the
    /// run started with).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Kube context (default: kubeContext from clusters/<name>/cluster.yaml; `resume`: the run's).
    #[arg(long, global = true, value_name = "CTX")]
    pub context: Option<String>,
    /// How long a wait rides out an API server that stopped answering before the step fails (resume
    /// continues it), e.g. 90s, 5m.
    #[arg(long, global = true, env = "FLEETCTL_API_GRACE", value_name = "DURATION", default_value = "2m", value_parser = humantime::parse_duration)]
    pub api_grace: std::time::Duration,
}

#[derive(Args, Debug, Clone)]
pub struct TargetArgs {
    /// The cluster's directory under clusters/ (default: the only cluster of the phase's platform).
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The global --kubeconfig (filled in before the command runs).
    #[arg(skip)]
    pub kubeconfig: Option<PathBuf>,
    /// The global --context (filled in before the command runs).
    #[arg(skip)]
    pub context: Option<String>,
}

/// `-o/--output` of the commands that print evidence reports (one JSON/YAML document per invocation).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Json,
    Yaml,
    Markdown,
    Junit,
}

impl From<ReportFormat> for crate::report::Format {
    fn from(f: ReportFormat) -> Self {
        use crate::report::Format;
        match f {
            ReportFormat::Table => Format::Table,
            ReportFormat::Json => Format::Json,
            ReportFormat::Yaml => Format::Yaml,
            ReportFormat::Markdown => Format::Markdown,
            ReportFormat::Junit => Format::Junit,
        }
    }
}

/// `-o/--output` of `status` and `decisions`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoFormat {
    Table,
    Json,
    Yaml,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one phase's runbook against one cluster.
    #[command(
        after_help = "Example:\n  fleetctl phase 1 --cluster openshift --answers answers.yaml\n  fleetctl phase 2 --cluster openshift --dry-run"
    )]
    Phase {
        /// The phase number (1-6).
        #[arg(value_parser = clap::value_parser!(u8).range(1..=99))]
        phase: u8,
        #[command(flatten)]
        target: TargetArgs,
        /// Answers to decision points: a YAML map of decision id to answer.
        #[arg(long, value_name = "FILE")]
        answers: Option<PathBuf>,
        /// Take the recommended answer for every decision that is not destructive.
        #[arg(long)]
        yes: bool,
        /// Show what would change (server-side dry-run) and write nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(short, long, value_enum, default_value = "table")]
        output: ReportFormat,
    },
    /// Continue the last unfinished run from where it stopped, with the decisions already taken, on the
    /// cluster it started on (its kubeconfig, context and server; a different cluster is refused).
    #[command(
        after_help = "Examples:\n  fleetctl resume --cluster openshift\n  fleetctl resume --cluster openshift --answers fixed.yaml   # a new answer wins over the recorded one"
    )]
    Resume {
        #[arg(long, value_name = "NAME")]
        cluster: Option<String>,
        /// Answers that replace the ones the run recorded (a YAML map of decision id to answer).
        #[arg(long, value_name = "FILE")]
        answers: Option<PathBuf>,
        #[arg(short, long, value_enum, default_value = "table")]
        output: ReportFormat,
    },
    /// Evaluate acceptance criteria and print the report (exit 0 all pass, 1 any fails or is pending, 2 bad input).
    #[command(
        after_help = "Examples:\n  fleetctl check --phase 1 --cluster openshift\n  fleetctl check --phase all --snapshot dump/ --output junit"
    )]
    Check {
        /// A phase number or `all`.
        #[arg(long, default_value = "all")]
        phase: String,
        #[command(flatten)]
        target: TargetArgs,
        /// Evaluate against a file or directory of `kubectl get -o yaml` output instead of a live cluster.
        #[arg(long, value_name = "PATH")]
        snapshot: Option<PathBuf>,
        #[arg(short, long, value_enum, default_value = "table")]
        output: ReportFormat,
    },
    /// Per cluster and phase: done, in progress (which step), failed (why), never run; and the decisions taken.
    #[command(after_help = "Example:\n  fleetctl status --cluster openshift")]
    Status {
        #[arg(long, value_name = "NAME")]
        cluster: Option<String>,
        #[arg(short, long, value_enum, default_value = "table")]
        output: InfoFormat,
    },
    /// Every decision point: id, question, options, recommended option, destructive or not.
    #[command(after_help = "Example:\n  fleetctl decisions --phase 2 --output json")]
    Decisions {
        #[arg(long)]
        phase: Option<u8>,
        #[arg(short, long, value_enum, default_value = "table")]
        output: InfoFormat,
    },
    /// Run the real runbooks against an in-process simulated cluster (no real cluster is touched).
    ///
    /// `rehearse N` first runs phases 1..N-1 (on the clusters phase N runs on) to build the simulated cluster,
    /// then phase N, and prints phase N's report; the exit code is phase N's (1 also when a setup phase fails).
    /// Journals, reports and logs go to <state-dir>/rehearsal/, cleared at the start, kept after exit.
    #[command(
        after_help = "Examples:\n  fleetctl rehearse all --answers runbooks/answers/rehearsal.yaml\n  fleetctl rehearse 2 --answers runbooks/answers/rehearsal.yaml   # phase 1 runs first"
    )]
    Rehearse {
        /// A phase number (earlier phases run first as setup) or `all`.
        phase: String,
        #[arg(long, value_name = "FILE")]
        answers: Option<PathBuf>,
        #[arg(long)]
        yes: bool,
        /// Real CRD schemas for the simulated cluster (default: permissive generated ones).
        #[arg(long, value_name = "DIR", env = "FLEETCTL_CRDS")]
        crds: Option<PathBuf>,
        #[arg(short, long, value_enum, default_value = "table")]
        output: ReportFormat,
    },
    /// Render every kustomization root, validate every object against its schema strictly, and lint the
    /// brief's rules (exit 0 clean, 1 findings, 2 bad input).
    #[command(
        after_help = "Examples:\n  fleetctl verify --crds ~/.cache/fleetctl/crds\n  fleetctl verify --from-cluster --cluster openshift --output json"
    )]
    Verify {
        /// CRD directory (default: $FLEETCTL_CRDS, then ~/.cache/fleetctl/crds from scripts/fetch-crds.sh).
        #[arg(long, value_name = "DIR")]
        crds: Option<PathBuf>,
        /// Read CRDs from the live cluster (its kubeconfig/context as for `phase`).
        #[arg(long)]
        from_cluster: bool,
        /// Render workers (default: twice the cores; kustomize runs are short and partly wait on process start).
        #[arg(short, long, value_name = "N")]
        jobs: Option<usize>,
        #[command(flatten)]
        target: TargetArgs,
        #[arg(short, long, value_enum, default_value = "text")]
        output: verify::VerifyFormat,
    },
    /// Fleet layout tooling.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Offline ApplicationSet tooling.
    #[command(subcommand)]
    Appset(AppsetCommand),
    /// Phase 4, repo side: move a legacy Talos fleet into clusters/<cluster>/ on a new branch; commit only
    /// if the generated Applications stay identical (exit 0 done/already migrated, 1 gate failed, 2 bad input).
    #[command(
        after_help = "Examples:\n  fleetctl migrate --dry-run --yes\n  fleetctl migrate --repo ~/homelab --answers phase4.yaml\n  fleetctl migrate --abort"
    )]
    Migrate {
        /// The cluster directory the trees move under.
        #[arg(long, default_value = "talos", value_name = "NAME")]
        cluster: String,
        /// Answers: p4-branch, p4-dest-<tree> (default | keep | a path), p4-renames (old=new,...).
        #[arg(long, value_name = "FILE")]
        answers: Option<PathBuf>,
        /// Take the default for every decision.
        #[arg(long)]
        yes: bool,
        /// Move a scratch copy, run the gate there, and change nothing.
        #[arg(long, conflicts_with = "abort")]
        dry_run: bool,
        /// Undo an unfinished migration (back to the start branch; the new branch is deleted).
        #[arg(long)]
        abort: bool,
    },
    /// Phase 3, repo side: refactor an existing app into apps-shared/<app>/{base,overlays/<cluster>} on a new
    /// branch; commit only if the source cluster's overlay renders byte-identical to the old app, the other
    /// overlays differ only in allowed deltas, and Argo CD can hand the objects over without deleting them
    /// (exit 0 committed/dry run passed, 1 gate failed or refused, 2 bad input).
    #[command(
        after_help = "Examples:\n  fleetctl share redlib --dry-run\n  fleetctl share redlib --from my-apps/privacy/redlib"
    )]
    Share {
        /// The app: the name of its directory (e.g. redlib for my-apps/privacy/redlib).
        app: String,
        /// The app's directory, relative to the repo root, when the name alone is ambiguous.
        #[arg(long, value_name = "DIR")]
        from: Option<String>,
        /// The cluster a root-level (not yet migrated) app runs on.
        #[arg(long, default_value = "talos", value_name = "NAME")]
        cluster: String,
        /// Write and gate on a scratch branch, print the result, and leave nothing behind.
        #[arg(long)]
        dry_run: bool,
    },
    /// The simulated cluster used by tests and rehearsals.
    #[command(subcommand)]
    Sim(SimCommand),
    /// The runbooks built into fleetctl.
    #[command(subcommand)]
    Runbooks(RunbooksCommand),
    /// Print shell completions: subcommands, flags, and this repo's cluster names and phase numbers.
    #[command(
        after_help = "Example:\n  fleetctl completions bash > ~/.local/share/bash-completion/completions/fleetctl\n  (bash reads the cluster names again each time; other shells: regenerate after adding a cluster)"
    )]
    Completions {
        shell: clap_complete::Shell,
        /// Print the values completions offer (clusters or phases), one a line, instead of the script.
        #[arg(long, hide = true, value_name = "WHAT")]
        values: Option<String>,
    },
    /// Print a man page (roff): fleetctl's, or a subcommand's (`fleetctl man phase`); --dir writes them all.
    #[command(
        after_help = "Examples:\n  fleetctl man | man -l -\n  fleetctl man phase | man -l -\n  fleetctl man --dir /usr/local/share/man/man1"
    )]
    Man {
        /// The subcommand, e.g. `phase` or `cluster new`.
        #[arg(value_name = "SUBCOMMAND")]
        subcommand: Vec<String>,
        /// Write every page (fleetctl.1, fleetctl-phase.1, ...) into DIR.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// Scaffold clusters/NAME and an overlay per shared app, from fleetctl's template of the platform
    /// or from an existing cluster of the same platform (--from).
    #[command(
        after_help = "Examples:\n  fleetctl cluster new sno-b --platform openshift --apps-domain apps.sno-b.example.org\n  fleetctl cluster new lab2 --platform talos --from talos --apps-domain lab2.example.org"
    )]
    New {
        name: String,
        #[arg(long, value_parser = ["openshift", "talos"])]
        platform: String,
        /// An existing cluster of the same platform to copy (clusters/<from>); without it, fleetctl's
        /// built-in template of the platform.
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        apps_domain: Option<String>,
        #[arg(long)]
        kube_context: Option<String>,
        #[arg(long)]
        storage_class: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum AppsetCommand {
    /// Expand the ApplicationSets against the working tree (exit 1 when two Applications would own one resource).
    #[command(
        after_help = "Examples:\n  fleetctl appset generate --cluster talos\n  fleetctl appset generate --output json"
    )]
    Generate {
        /// Only the AppSets under clusters/NAME.
        #[arg(long, value_name = "NAME")]
        cluster: Option<String>,
        #[arg(short, long, value_enum, default_value = "table")]
        output: ListFormat,
    },
}

#[derive(Subcommand, Debug)]
pub enum RunbooksCommand {
    /// Write the built-in runbooks (and the files they use) into DIR, to edit and use with --runbooks DIR.
    #[command(
        after_help = "Example:\n  fleetctl runbooks export ./runbooks && fleetctl phase 1 --runbooks ./runbooks"
    )]
    Export {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// List the runbooks in use and where they come from.
    #[command(after_help = "Example:\n  fleetctl runbooks list --repo ~/homelab")]
    List,
}

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// Serve a simulated cluster on loopback until killed; writes a kubeconfig for it.
    #[command(
        after_help = "Example:\n  fleetctl sim serve --platform openshift --kubeconfig-out /tmp/sim.kubeconfig --speed 20"
    )]
    Serve {
        #[arg(long, value_parser = ["openshift", "talos"])]
        platform: String,
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        #[arg(long, value_name = "PATH")]
        kubeconfig_out: Option<PathBuf>,
        /// The context name in the written kubeconfig.
        #[arg(long, default_value = "sim")]
        context: String,
        /// Faults to inject, e.g. `500=0.1,429=0.05,stall=Subscription/ns/name=UpgradePending` (docs/sim.md).
        #[arg(long, default_value = "")]
        faults: String,
        /// Speed factor for the simulated operators' delays.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Real CRD schemas to serve (default: permissive generated ones).
        #[arg(long, value_name = "DIR", env = "FLEETCTL_CRDS")]
        crds: Option<PathBuf>,
        /// Simulate Argo CD syncing Applications and ApplicationSets from this fleet working tree.
        #[arg(long, value_name = "DIR")]
        fleet: Option<PathBuf>,
        /// What the simulated LAN DNS holds: only the apps wildcard to the node, or also one record per
        /// HTTPRoute hostname to its Gateway's address (docs/sim.md).
        #[arg(long, value_parser = ["wildcard-only", "per-host"], default_value = "wildcard-only")]
        lan_dns: String,
    },
}

/// Settings shared by every command, validated once.
#[derive(Debug, Clone)]
pub struct Globals {
    pub repo: PathBuf,
    pub state_root: PathBuf,
    pub ui: Ui,
    /// `--runbooks DIR`, if given.
    pub runbooks: Option<PathBuf>,
    /// `--kubeconfig`, if given.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`, if given.
    pub context: Option<String>,
    /// `--api-grace`.
    pub api_grace: std::time::Duration,
}

impl Globals {
    /// The runbooks in use (built in, the repo's own, or --runbooks), each checked against the step kinds.
    pub fn library(&self) -> Result<Arc<Library>, UserError> {
        Library::load(&self.repo, self.runbooks.as_deref(), steps::registry()).map(Arc::new)
    }
}

impl GlobalArgs {
    pub fn resolve(&self) -> Result<Globals, UserError> {
        let verbosity = if self.quiet {
            Verbosity::Quiet
        } else if self.verbose > 0 {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        let repo = match &self.repo {
            Some(r) => r.clone(),
            None => git_toplevel().unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
        };
        if !repo.is_dir() {
            return Err(UserError::usage("the fleet repo does not exist")
                .subject(repo.display().to_string())
                .next("pass --repo DIR"));
        }
        let state_root = match &self.state_dir {
            Some(s) => s.clone(),
            None => std::env::var_os("XDG_STATE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
                .unwrap_or_else(|| PathBuf::from(".fleetctl/state"))
                .join("fleetctl"),
        };
        Ok(Globals {
            repo,
            state_root,
            ui: Ui::new(verbosity, self.no_color),
            runbooks: self.runbooks.clone(),
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            api_grace: self.api_grace,
        })
    }
}

impl Command {
    /// Whether the command never opens a network connection (so the default SIGPIPE disposition is safe
    /// for it: `fleetctl status | head -1` just ends). A command that talks to an API server, or serves one
    /// (`sim serve`, `rehearse`), must keep SIGPIPE ignored: a socket written with `writev` after its peer
    /// went away raises SIGPIPE, which would kill the process without a word.
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            Command::Status { .. }
                | Command::Decisions { .. }
                | Command::Appset(_)
                | Command::Cluster(_)
                | Command::Share { .. }
                | Command::Runbooks(_)
                | Command::Completions { .. }
                | Command::Man { .. }
        )
    }
}

fn git_toplevel() -> Option<PathBuf> {
    let out = duct::cmd!("git", "rev-parse", "--show-toplevel")
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Print a report in the chosen format on stdout.
pub fn print_report(r: &crate::report::Report, f: ReportFormat) {
    print!("{}", r.render(f.into()));
}

/// Run the parsed command; returns the exit code.
pub async fn run(cli: Cli) -> Result<i32, UserError> {
    match cli.command {
        Command::Completions { shell, values } => {
            let g = cli.global.resolve().ok();
            match values {
                Some(what) => man::print_values(&what, g.as_ref()),
                None => man::completions(shell, g.as_ref()),
            }
        }
        Command::Man { subcommand, dir } => man::man(&subcommand, dir.as_deref()),
        Command::Sim(sim) => rehearse::sim(sim).await,
        mut cmd => {
            let g = cli.global.resolve()?;
            if let Command::Phase { target, .. } | Command::Check { target, .. } | Command::Verify { target, .. } =
                &mut cmd
            {
                target.kubeconfig = g.kubeconfig.clone();
                target.context = g.context.clone();
            }
            match cmd {
                Command::Phase {
                    phase,
                    target,
                    answers,
                    yes,
                    dry_run,
                    output,
                } => phase::phase(&g, phase, target, answers, yes, dry_run, output).await,
                Command::Resume {
                    cluster,
                    answers,
                    output,
                } => phase::resume(&g, cluster, answers, output).await,
                Command::Check {
                    phase,
                    target,
                    snapshot,
                    output,
                } => check::check(&g, &phase, target, snapshot, output).await,
                Command::Verify {
                    crds,
                    from_cluster,
                    jobs,
                    target,
                    output,
                } => verify::verify(&g, crds, from_cluster, jobs, target, output).await,
                Command::Cluster(ClusterCommand::New {
                    name,
                    platform,
                    from,
                    apps_domain,
                    kube_context,
                    storage_class,
                }) => {
                    let platform = platform.parse().map_err(UserError::usage)?;
                    let n = crate::fleet::scaffold::NewCluster {
                        name,
                        platform,
                        from,
                        apps_domain,
                        kube_context,
                        storage_class,
                    };
                    cluster::new(&g, n)
                }
                Command::Appset(AppsetCommand::Generate { cluster, output }) => appset::generate(&g, cluster, output),
                Command::Migrate {
                    cluster,
                    answers,
                    yes,
                    dry_run,
                    abort,
                } => migrate::migrate(&g, cluster, answers, yes, dry_run, abort),
                Command::Share {
                    app,
                    from,
                    cluster,
                    dry_run,
                } => share::share(&g, app, from, cluster, dry_run),
                Command::Runbooks(RunbooksCommand::Export { dir }) => info::export_runbooks(&g, &dir),
                Command::Runbooks(RunbooksCommand::List) => info::list_runbooks(&g),
                Command::Status { cluster, output } => info::status(&g, cluster, output),
                Command::Decisions { phase, output } => info::decisions(&g, phase, output),
                Command::Rehearse {
                    phase,
                    answers,
                    yes,
                    crds,
                    output,
                } => rehearse::rehearse(&g, &phase, answers, yes, crds, output).await,
                _ => unreachable!("handled above"),
            }
        }
    }
}
