// SPDX-License-Identifier: GPL-2.0
//! kwasmctl: load, inspect and test-run kwasm packet filter programs,
//! and read and change their maps, through /dev/kwasm.
//!
//! Exit codes: 0 success, 1 the kernel refused the request, 2 bad usage or
//! input, 3 the kwasm module is not loaded.

mod cli;
mod commands;
mod error;
mod events;
mod mapcmd;
mod netns;
mod packet;
mod progs;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

/// Ends quietly when the reader of its output goes away (`kwasmctl status |
/// head -1`), as command-line tools do: Rust ignores SIGPIPE, which would
/// make the next write panic instead.
fn default_sigpipe() {
    // SAFETY: restoring the default disposition of a signal before any
    // thread is started; no handler runs Rust code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    default_sigpipe();
    let cli = Cli::parse();
    let result = cli
        .netns
        .as_ref()
        .map_or(Ok(()), netns::Netns::enter)
        .and_then(|()| run(&cli.command));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kwasmctl: {err}");
            err.exit_code()
        }
    }
}

fn run(command: &Command) -> Result<(), error::Error> {
    match command {
        Command::Load(args) => commands::load(args),
        Command::Show(args) => progs::show(args),
        Command::Unload(args) => progs::unload(args),
        Command::Status => commands::status(),
        Command::TestRun(args) => commands::test_run(args),
        Command::Map(cmd) => mapcmd::run(cmd),
        Command::Events(args) => events::events(args),
    }
}
