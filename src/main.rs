//! Entry point: parse arguments, run, map the outcome to an exit status.

use clap::Parser;
use kubecis::cli::{self, Cli, UsageError, EXIT_USAGE};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            cli::say(&format!("kubecis: error: {e:#}"));
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
