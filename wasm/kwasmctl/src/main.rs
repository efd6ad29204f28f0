// SPDX-License-Identifier: GPL-2.0
//! kwasmctl: load, inspect and test-run kwasm packet filter programs
//! through /dev/kwasm.
//!
//! Exit codes: 0 success, 1 the kernel refused the request, 2 bad usage or
//! input, 3 the kwasm module is not loaded.

mod cli;
mod commands;
mod error;
mod packet;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Load(args) => commands::load(args),
        Command::Unload => commands::unload(),
        Command::Status => commands::status(),
        Command::TestRun(args) => commands::test_run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kwasmctl: {err}");
            err.exit_code()
        }
    }
}
