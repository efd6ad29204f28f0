// SPDX-License-Identifier: GPL-2.0
//! The subcommands.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use anyhow::{ensure, Context};
use serde_json::json;

use crate::cli::{LoadArgs, TestRunArgs};
use crate::device::Device;
use crate::error::Error;
use crate::packet::{self, Spec};
use crate::uapi;

/// The bytes of a program file: WebAssembly binary as is, text compiled.
fn read_program(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = fs::read(path)?;
    match wat::parse_bytes(&bytes) {
        Ok(wasm) => Ok(wasm.into_owned()),
        Err(mut err) => {
            err.set_path(path);
            Err(err.into())
        }
    }
}

/// `name` as the kernel's fixed-size, NUL-terminated field.
fn c_name(name: &str) -> anyhow::Result<[u8; uapi::NAME_LEN]> {
    ensure!(!name.is_empty(), "empty program name");
    ensure!(!name.contains('\0'), "program name contains NUL");
    ensure!(
        name.len() < uapi::NAME_LEN,
        "program name '{name}' longer than {} bytes",
        uapi::NAME_LEN - 1
    );
    let mut field = [0; uapi::NAME_LEN];
    field[..name.len()].copy_from_slice(name.as_bytes());
    Ok(field)
}

/// The file name without extension, cut to fit the name field.
fn default_name(path: &Path) -> String {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let mut end = stem.len().min(uapi::NAME_LEN - 1);
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    stem[..end].to_owned()
}

fn kernel_error(context: String, err: io::Error, reason: &[u8]) -> Error {
    Error::Kernel {
        context,
        errno: err.raw_os_error().unwrap_or(0),
        reason: uapi::c_str(reason),
    }
}

pub fn load(args: &LoadArgs) -> Result<(), Error> {
    let context = format!("load {}", args.file.display());
    let prog = read_program(&args.file).map_err(|e| Error::input(&context, e))?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| default_name(&args.file));

    let mut req = uapi::Load {
        name: c_name(&name).map_err(|e| Error::input(&context, e))?,
        ..Default::default()
    };
    if let Some(hook) = args.hook {
        req.flags |= uapi::LOAD_HOOK;
        req.hook = hook.number();
    }
    if let Some(priority) = args.priority {
        req.flags |= uapi::LOAD_PRIORITY;
        req.priority = priority;
    }
    if let Some(snaplen) = args.snaplen {
        req.flags |= uapi::LOAD_SNAPLEN;
        req.snaplen = snaplen;
    }
    if let Some(verdict) = args.default_verdict {
        req.flags |= uapi::LOAD_DEFAULT;
        req.default_verdict = verdict.number();
    }

    Device::open()?
        .load(&prog, &mut req)
        .map_err(|err| kernel_error(context, err, &req.err))
}

pub fn unload() -> Result<(), Error> {
    Device::open()?
        .unload()
        .map_err(|err| kernel_error("unload".into(), err, &[]))
}

pub fn status() -> Result<(), Error> {
    let text = fs::read_to_string(uapi::STATUS_FILE).map_err(|err| {
        Error::module_io(
            format!("read {}", uapi::STATUS_FILE),
            uapi::STATUS_FILE,
            err,
        )
    })?;
    print!("{text}");
    Ok(())
}

/// The packet of a test run: read from --packet, or built.
fn test_packet(args: &TestRunArgs) -> anyhow::Result<Vec<u8>> {
    if let Some(path) = &args.packet {
        let text = if path == Path::new("-") {
            let mut text = String::new();
            io::stdin()
                .read_to_string(&mut text)
                .context("read stdin")?;
            text
        } else {
            fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?
        };
        return packet::parse_hex(&text).with_context(|| format!("packet {}", path.display()));
    }
    // clap requires --src and --dst with --proto, and --proto without --packet.
    let (Some(proto), Some(src), Some(dst)) = (args.proto, args.src, args.dst) else {
        unreachable!("clap lets no other combination through");
    };
    Spec {
        proto,
        src,
        dst,
        payload_len: args.payload_len,
    }
    .build()
}

fn verdict_name(verdict: u32) -> String {
    match verdict {
        uapi::ACCEPT => "accept".into(),
        uapi::DROP => "drop".into(),
        v => format!("unknown({v})"),
    }
}

fn outcome_name(outcome: u32) -> String {
    match outcome {
        uapi::OUTCOME_OK => "ok".into(),
        uapi::OUTCOME_INVALID => "invalid".into(),
        uapi::OUTCOME_TRAP => "trap".into(),
        uapi::OUTCOME_SKIPPED => "skipped".into(),
        uapi::OUTCOME_BUSY => "busy".into(),
        o => format!("unknown({o})"),
    }
}

pub fn test_run(args: &TestRunArgs) -> Result<(), Error> {
    let context = match &args.prog {
        Some(path) => format!("test-run {}", path.display()),
        None => "test-run".into(),
    };
    let prog = args
        .prog
        .as_deref()
        .map(read_program)
        .transpose()
        .map_err(|e| Error::input(&context, e))?;
    let pkt = test_packet(args).map_err(|e| Error::input(&context, e))?;

    let mut req = uapi::TestRun {
        repeat: args.repeat,
        hook: args.hook.number(),
        ifindex_in: args.ifindex_in,
        ifindex_out: args.ifindex_out,
        mark: args.mark,
        snaplen: args.snaplen.unwrap_or(0),
        ..Default::default()
    };
    Device::open()?
        .test_run(prog.as_deref(), &pkt, &mut req)
        .map_err(|err| kernel_error(context, err, &req.err))?;

    let verdict = verdict_name(req.verdict);
    let outcome = outcome_name(req.outcome);
    let trap = uapi::c_str(&req.trap_name);
    let ns_per_run = req.duration_ns / u64::from(args.repeat);
    if args.json {
        let result = json!({
            "verdict": verdict,
            "outcome": outcome,
            "trap": trap,
            "trap_code": req.trap,
            "retval": req.retval,
            "runs": args.repeat,
            "duration_ns": req.duration_ns,
            "ns_per_run": ns_per_run,
            "stack_used": req.stack_used,
        });
        println!("{result}");
    } else {
        println!("verdict: {verdict}");
        println!("outcome: {outcome}");
        println!("trap: {}", if trap.is_empty() { "-" } else { &trap });
        println!("retval: {}", req.retval);
        println!("runs: {}", args.repeat);
        println!("ns/run: {ns_per_run}");
        println!("stack used: {} bytes", req.stack_used);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(&c_name("drop_port").unwrap()[..10], b"drop_port\0");
        assert!(c_name(&"x".repeat(31)).is_ok());
        assert!(c_name(&"x".repeat(32)).is_err());
        assert!(c_name("").is_err());
        assert_eq!(default_name(Path::new("build/drop_port.wasm")), "drop_port");
        let long = format!("{}é.wat", "x".repeat(30));
        assert_eq!(default_name(Path::new(&long)), "x".repeat(30));
    }

    #[test]
    fn programs_in_text_and_binary() {
        let dir = std::env::temp_dir().join(format!("kwasmctl-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let wat = dir.join("p.wat");
        fs::write(
            &wat,
            "(module (func (export \"kwasm_filter\") (param i32 i32) (result i32) i32.const 1))",
        )
        .unwrap();
        let wasm = read_program(&wat).unwrap();
        assert!(wasm.starts_with(b"\0asm"));
        let bin = dir.join("p.wasm");
        fs::write(&bin, &wasm).unwrap();
        assert_eq!(read_program(&bin).unwrap(), wasm);
        fs::write(&wat, "(module (func").unwrap();
        let err = read_program(&wat).unwrap_err().to_string();
        assert!(err.contains("p.wat"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
