// SPDX-License-Identifier: GPL-2.0
//! kwasm-spectest: runs WebAssembly spec test scripts (.wast) against
//! kwasm's engine, the kernel's through /dev/kwasm by default.
//!
//!   kwasm-spectest [--verbose] [--trace] [--host] FILE.wast|DIR...
//!   kwasm-spectest --check-refusals
//!
//! Prints per file "file: N passed, N failed, N skipped (reasons)" and a
//! total; exits 1 when anything failed, 2 on usage errors. `--verbose`
//! lists the failures, `--trace` every command's line and verdict.

mod engine;
mod link;
mod runner;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use engine::Engine;
use runner::{Counts, Script};

const USAGE: &str = "usage: kwasm-spectest [--verbose] [--trace] [--host] FILE.wast|DIR...
       kwasm-spectest --check-refusals   (bad requests to /dev/kwasm's invoke ioctls)";

/// The .wast files named, directories expanded (sorted).
fn scripts(args: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for arg in args {
        if arg.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(arg)
                .with_context(|| format!("listing {}", arg.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "wast"))
                .collect();
            found.sort();
            if found.is_empty() {
                bail!("no .wast files in {}", arg.display());
            }
            files.extend(found);
        } else {
            files.push(arg.clone());
        }
    }
    Ok(files)
}

fn name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn summary(label: &str, c: &Counts) -> String {
    let mut line = format!(
        "{label}: {} passed, {} failed, {} skipped",
        c.passed, c.failed, c.skipped
    );
    if c.skipped > 0 {
        line.push_str(&format!(" ({})", c.reasons()));
    }
    line
}

fn run() -> Result<bool> {
    let mut verbose = false;
    let mut trace = false;
    let mut host = false;
    let mut paths = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.to_str() {
            Some("--verbose" | "-v") => verbose = true,
            Some("--trace") => trace = true,
            Some("--host") => host = true,
            Some("--check-refusals") => return Ok(check_refusals()),
            Some("--help" | "-h") => {
                println!("{USAGE}");
                return Ok(true);
            }
            Some(s) if s.starts_with('-') => bail!("unknown option {s}\n{USAGE}"),
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    if paths.is_empty() {
        bail!("{USAGE}");
    }
    let engine: Box<dyn Engine> = if host {
        host_engine()?
    } else {
        Box::new(engine::device::Device)
    };

    let start = Instant::now();
    let mut total = Counts::default();
    let files = scripts(&paths)?;
    for path in &files {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        if trace {
            println!("{}:", name(path));
        }
        let mut script = Script::new(engine.as_ref(), &text);
        script.trace = trace;
        let counts = script.run();
        println!("{}", summary(&name(path), &counts));
        if verbose {
            for (line, why) in &counts.failures {
                println!("  FAIL {}:{line}: {why}", name(path));
            }
        }
        total.add(&counts);
    }
    println!(
        "{} ({} files, {:.1}s)",
        summary("total", &total),
        files.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(total.failed == 0)
}

/// The kernel refuses bad invoke requests with an errno and a reason.
fn check_refusals() -> bool {
    let good = b"\0asm\x01\0\0\0\x01\x07\x01\x60\x02\x7f\x7f\x01\x7f\x03\x02\x01\0\
                 \x07\x07\x01\x03add\0\0\x0a\x09\x01\x07\0\x20\0\x20\x01\x6a\x0b";
    // A function whose body returns an i64 for an i32 result.
    let bad = b"\0asm\x01\0\0\0\x01\x05\x01\x60\0\x01\x7f\x03\x02\x01\0\
                \x0a\x06\x01\x04\0\x42\0\x0b";
    let mut ok = true;
    for line in engine::device::check_refusals(good, bad) {
        match line {
            Ok(what) => println!("PASS: {what}"),
            Err(what) => {
                ok = false;
                println!("FAIL: {what}");
            }
        }
    }
    ok
}

#[cfg(feature = "host")]
fn host_engine() -> Result<Box<dyn Engine>> {
    Ok(Box::new(engine::host::Host))
}

#[cfg(not(feature = "host"))]
fn host_engine() -> Result<Box<dyn Engine>> {
    bail!("--host needs a build with the \"host\" feature (cargo run -p kwasm-spectest --features host)")
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("kwasm-spectest: {e:#}");
            ExitCode::from(2)
        }
    }
}
