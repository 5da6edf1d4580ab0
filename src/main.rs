//! fleetctl's entry point: parse, run, turn errors into a one-line cause and an exit code.

use clap::Parser;
use fleetctl::cli::{run, Cli};

fn main() {
    restore_sigpipe();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let level = if cli.global.verbose > 1 { "debug" } else { "warn" };
    // Logs are coloured only where the rest of the output is: a terminal, without --no-color or NO_COLOR.
    let color = !cli.global.no_color
        && std::env::var_os("NO_COLOR").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_ansi(color)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FLEETCTL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("fleetctl={level}"))),
        )
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = rt.block_on(async {
        match run(cli).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                e.code
            }
        }
    });
    std::process::exit(code);
}

/// Rust ignores SIGPIPE, so a print to a closed pipe (`fleetctl status | head -1`) panics. Restore the default
/// as other command-line tools have it: the process ends quietly when its reader goes away. Sockets are not
/// affected: the standard library sends with MSG_NOSIGNAL (SO_NOSIGPIPE on Apple), and fleetctl never writes
/// to a child's stdin pipe.
#[cfg(unix)]
fn restore_sigpipe() {
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}
