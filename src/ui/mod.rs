//! What the operator sees while a phase runs: one line per step, a progress line while waiting
//! (a spinner on a terminal, plain lines otherwise). Everything goes to stderr; stdout carries reports.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

#[derive(Debug, Clone)]
pub struct Ui {
    pub verbosity: Verbosity,
    pub color: bool,
    pub tty: bool,
}

impl Ui {
    pub fn new(verbosity: Verbosity, no_color: bool) -> Ui {
        let tty = std::io::stderr().is_terminal();
        Ui {
            verbosity,
            color: tty && !no_color && std::env::var_os("NO_COLOR").is_none(),
            tty,
        }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    pub fn line(&self, s: &str) {
        if self.verbosity >= Verbosity::Normal {
            eprintln!("{s}");
        }
    }
    pub fn detail(&self, s: &str) {
        if self.verbosity >= Verbosity::Verbose {
            eprintln!("    {s}");
        }
    }
    pub fn ok(&self, s: &str) {
        self.line(&format!("{} {s}", self.paint("32", "✓")));
    }
    pub fn skip(&self, s: &str) {
        self.line(&format!("{} {s}", self.paint("2", "·")));
    }
    pub fn warn(&self, s: &str) {
        if self.verbosity >= Verbosity::Quiet {
            eprintln!("{} {s}", self.paint("33", "warning:"));
        }
    }
    pub fn banner(&self, s: &str) {
        if self.verbosity >= Verbosity::Normal {
            eprintln!("{}", self.paint("1", s));
        }
    }

    /// A progress line for a wait.
    pub fn progress(&self, what: &str) -> Progress {
        if self.tty && self.verbosity >= Verbosity::Normal {
            let pb = ProgressBar::new_spinner();
            pb.set_style(
                ProgressStyle::with_template("  {spinner} {elapsed:>4} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            pb.enable_steady_tick(Duration::from_millis(120));
            pb.set_message(what.to_string());
            Progress {
                bar: Some(pb),
                last: String::new(),
                quiet: false,
            }
        } else {
            Progress {
                bar: None,
                last: String::new(),
                quiet: self.verbosity < Verbosity::Normal,
            }
        }
    }
}

pub struct Progress {
    bar: Option<ProgressBar>,
    last: String,
    quiet: bool,
}

impl Progress {
    /// Show the latest observation (plain mode prints only when it changes).
    pub fn update(&mut self, msg: &str) {
        if let Some(b) = &self.bar {
            b.set_message(msg.to_string());
        } else if msg != self.last && !self.quiet {
            eprintln!("    … {msg}");
        }
        self.last = msg.to_string();
    }
    /// A long wait's periodic "still waiting" line: always printed in plain mode (a spinner shows time itself).
    pub fn heartbeat(&mut self, msg: &str) {
        match &self.bar {
            Some(b) => b.set_message(msg.to_string()),
            None if !self.quiet => eprintln!("    … {msg}"),
            None => {}
        }
    }
    pub fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}
