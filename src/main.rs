//! fleetctl's entry point: parse, run, turn errors into a one-line cause and an exit code.

use clap::Parser;
use fleetctl::cli::{run, Cli};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    if cli.command.is_offline() {
        restore_sigpipe();
    } else {
        quiet_on_closed_stdout();
    }
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

/// Rust ignores SIGPIPE, so a print to a closed pipe (`fleetctl status | head -1`) panics. For a command that
/// opens no socket (`Command::is_offline`), restore the default as other command-line tools have it: the
/// process ends quietly when its reader goes away. Not for the others: hyper writes sockets with `writev`,
/// which (unlike `send` with MSG_NOSIGNAL) raises SIGPIPE when the peer has gone, and the default disposition
/// would end `sim serve` or `fleetctl phase` silently in the middle of its work.
#[cfg(unix)]
fn restore_sigpipe() {
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}

/// With SIGPIPE ignored, a print to a closed stdout panics; end quietly instead, with the status a shell
/// reports for a SIGPIPE death (128 + 13).
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
