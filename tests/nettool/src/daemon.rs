//! `--daemon`: run the same command in a child process and return once the
//! child says its socket is ready, so that test scripts wait on readiness
//! instead of sleeping.
//!
//! The child's stdout and stderr are pipes to the parent: it prints exactly
//! one line on stdout when ready (see [`ready`]), which the parent relays
//! before it exits; an error before that reaches the parent on stderr. After
//! the parent has gone the pipes lead nowhere, so the child's later messages
//! (see [`say`] and [`warn`]) are dropped: daemons work silently, and the
//! caller's `$(...)` does not wait for them.

use std::env;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Command, ExitCode, Stdio};

/// Tells whoever waits that the socket is ready.
pub fn ready(msg: &str) {
    say(msg);
}

/// Prints a report on stdout; a write error (the daemon's parent has gone)
/// is not worth dying for.
pub fn say(msg: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{msg}");
    let _ = out.flush();
}

/// Prints a warning on stderr, like [`say`].
pub fn warn(msg: &str) {
    let _ = writeln!(io::stderr().lock(), "nettool: {msg}");
}

/// Starts this command again without `--daemon` and waits until it is ready.
/// Returns success once it is, or the child's failure if it exits first.
pub fn spawn() -> ExitCode {
    let args = env::args().skip(1).filter(|a| a != "--daemon");
    let exe = match env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("nettool: cannot find own executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut child = match Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("nettool: cannot start the daemon: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout is piped");
    match BufReader::new(stdout).read_line(&mut line) {
        Ok(n) if n > 0 => {
            println!("{} (pid {})", line.trim_end(), child.id());
            ExitCode::SUCCESS
        }
        _ => {
            // It exited before it was ready: relay why.
            let mut why = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut why);
            }
            eprint!("{why}");
            let _ = child.wait();
            ExitCode::FAILURE
        }
    }
}
