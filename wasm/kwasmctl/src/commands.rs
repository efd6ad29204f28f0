// SPDX-License-Identifier: GPL-2.0
//! The subcommands.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use anyhow::{ensure, Context};
use serde_json::json;

use kwasm_uapi::{self as uapi, Device, Errno};

use crate::cli::{Hook, LoadArgs, TestRunArgs};
use crate::error::Error;
use crate::packet::{self, Spec};
use crate::progs;

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

/// Sets `name` as the request's fixed-size, NUL-terminated field.
fn set_name(req: &mut uapi::kwasm_load, name: &str) -> anyhow::Result<()> {
    ensure!(!name.is_empty(), "empty program name");
    req.set_name(name).map_err(|err| match err {
        uapi::StrError::Nul => anyhow::anyhow!("program name contains NUL"),
        uapi::StrError::TooLong { max } => {
            anyhow::anyhow!("program name '{name}' longer than {max} bytes")
        }
    })
}

pub(crate) fn kernel_error(context: String, errno: Errno, reason: String) -> Error {
    Error::Kernel {
        context,
        errno: errno as i32,
        reason,
    }
}

pub(crate) fn open_device() -> Result<Device, Error> {
    Device::open()
        .map_err(|err| Error::module_io(format!("open {}", uapi::DEVICE), uapi::DEVICE, err))
}

/// The load request of `args`, but for the program's bytes. What is not
/// given is left to the kernel: no name is "prog", so that loads without
/// one replace each other.
fn load_request(args: &LoadArgs) -> anyhow::Result<uapi::kwasm_load> {
    let mut req = uapi::kwasm_load::default();
    if let Some(name) = &args.name {
        set_name(&mut req, name)?;
    }
    if let Some(hook) = args.hook {
        req.flags |= uapi::KWASM_LOAD_HOOK;
        req.hook = hook.number();
    }
    if let Some(family) = args.family {
        req.flags |= uapi::KWASM_LOAD_FAMILY;
        req.family = family.number();
    }
    if let Some(priority) = args.priority {
        // `nat` depends on the hook; the kernel's default is pre-routing.
        let hook = args.hook.map_or(uapi::NF_INET_PRE_ROUTING, Hook::number);
        req.flags |= uapi::KWASM_LOAD_PRIORITY;
        req.priority = priority.value(hook)?;
    }
    if let Some(snaplen) = args.snaplen {
        req.flags |= uapi::KWASM_LOAD_SNAPLEN;
        req.snaplen = snaplen;
    }
    if let Some(verdict) = args.default_verdict {
        req.flags |= uapi::KWASM_LOAD_DEFAULT;
        req.default_verdict = verdict.number();
    }
    if let Some(fuel) = args.fuel {
        req.flags |= uapi::KWASM_LOAD_FUEL;
        req.fuel = fuel;
    }
    if args.fresh_maps {
        req.flags |= uapi::KWASM_LOAD_FRESH_MAPS;
    }
    Ok(req)
}

pub fn load(args: &LoadArgs) -> Result<(), Error> {
    let context = format!("load {}", args.file.display());
    let mut req = load_request(args).map_err(|e| Error::input(&context, e))?;
    let prog = read_program(&args.file).map_err(|e| Error::input(&context, e))?;
    open_device()?
        .load(&prog, &mut req)
        .map_err(|err| kernel_error(context, err, req.reason()))
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
        uapi::KWASM_ACCEPT => "accept".into(),
        uapi::KWASM_DROP => "drop".into(),
        v => format!("unknown({v})"),
    }
}

fn outcome_name(outcome: u32) -> String {
    match outcome {
        uapi::KWASM_OUTCOME_OK => "ok".into(),
        uapi::KWASM_OUTCOME_INVALID => "invalid".into(),
        uapi::KWASM_OUTCOME_TRAP => "trap".into(),
        uapi::KWASM_OUTCOME_SKIPPED => "skipped".into(),
        uapi::KWASM_OUTCOME_BUSY => "busy".into(),
        o => format!("unknown({o})"),
    }
}

pub fn test_run(args: &TestRunArgs) -> Result<(), Error> {
    let context = match (&args.prog, &args.name) {
        (Some(path), _) => format!("test-run {}", path.display()),
        (None, Some(name)) => format!("test-run {name}"),
        (None, None) => "test-run".into(),
    };
    let prog = args
        .prog
        .as_deref()
        .map(read_program)
        .transpose()
        .map_err(|e| Error::input(&context, e))?;
    let pkt = test_packet(args).map_err(|e| Error::input(&context, e))?;

    let mut req = uapi::kwasm_test_run {
        repeat: args.repeat,
        hook: args.hook.number(),
        ifindex_in: args.ifindex_in,
        ifindex_out: args.ifindex_out,
        mark: args.mark,
        snaplen: args.snaplen.unwrap_or(0),
        fuel: args.fuel.unwrap_or(0),
        ..Default::default()
    };
    let dev = open_device()?;
    if prog.is_none() {
        req.prog_id = progs::resolve(&dev, args.name.as_deref(), &context)?;
    }
    dev.test_run(prog.as_deref(), &pkt, &mut req)
        .map_err(|err| {
            progs::hint_prog(
                kernel_error(context, err, req.reason()),
                req.prog_id,
                "--name",
            )
        })?;

    let verdict = verdict_name(req.verdict);
    let outcome = outcome_name(req.outcome);
    let trap = req.trap_name();
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
            "fuel_used": req.fuel_used,
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
        println!("fuel used: {}", req.fuel_used);
        println!("stack used: {} bytes", req.stack_used);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let mut req = uapi::kwasm_load::default();
        set_name(&mut req, "drop_port").unwrap();
        let field: Vec<u8> = req.name[..10].iter().map(|&c| c as u8).collect();
        assert_eq!(field, b"drop_port\0");
        assert!(set_name(&mut req, &"x".repeat(31)).is_ok());
        let err = set_name(&mut req, &"x".repeat(32)).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("program name '{}' longer than 31 bytes", "x".repeat(32))
        );
        assert_eq!(
            set_name(&mut req, "a\0b").unwrap_err().to_string(),
            "program name contains NUL"
        );
        assert!(set_name(&mut req, "").is_err());
    }

    fn request(args: &str) -> anyhow::Result<uapi::kwasm_load> {
        use clap::Parser;
        let argv = ["kwasmctl", "load", "p.wat"]
            .into_iter()
            .chain(args.split_whitespace());
        match crate::cli::Cli::try_parse_from(argv)?.command {
            crate::cli::Command::Load(a) => load_request(&a),
            other => panic!("not load: {other:?}"),
        }
    }

    #[test]
    fn load_requests() {
        // Nothing given: no name (the kernel's "prog"), no flags.
        let req = request("").unwrap();
        assert_eq!((req.flags, req.name[0]), (0, 0));
        let req = request("--name fw --family ipv6 --hook local-out --priority mangle+1").unwrap();
        assert_eq!(uapi::c_str(&req.name), "fw");
        assert_eq!(
            req.flags,
            uapi::KWASM_LOAD_HOOK | uapi::KWASM_LOAD_FAMILY | uapi::KWASM_LOAD_PRIORITY
        );
        assert_eq!(
            (req.family, req.hook, req.priority),
            (uapi::KWASM_FAMILY_IPV6, 3, -149)
        );
        let req = request("--family inet").unwrap();
        assert_eq!(
            (req.flags, req.family),
            (uapi::KWASM_LOAD_FAMILY, uapi::KWASM_FAMILY_INET)
        );
        // nat by hook; without --hook the kernel's pre-routing.
        assert_eq!(request("--priority nat").unwrap().priority, -100);
        assert_eq!(
            request("--priority nat --hook post-routing")
                .unwrap()
                .priority,
            100
        );
        assert_eq!(
            request("--priority nat+3 --hook local-in")
                .unwrap()
                .priority,
            103
        );
        let err = request("--priority nat --hook forward").unwrap_err();
        assert!(
            err.to_string().contains("at forward name dstnat or srcnat"),
            "{err}"
        );
        // Numbers as they are, the kernel's own first and last included.
        assert_eq!(request("--priority 2147483647").unwrap().priority, i32::MAX);
        assert_eq!(
            request("--priority=-2147483648").unwrap().priority,
            i32::MIN
        );
        assert!(request("--priority srcnat+2147483600").is_err());
        assert_eq!(
            request("--priority 0").unwrap().flags,
            uapi::KWASM_LOAD_PRIORITY
        );
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
