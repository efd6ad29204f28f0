// SPDX-License-Identifier: GPL-2.0
//! The programs of the network namespace: `show`, `unload`, and program
//! names to ids for `map --prog`, `events --prog` and `test-run --name`.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{json, Map, Value};

use kwasm_uapi::fmt::hex;
use kwasm_uapi::names;
use kwasm_uapi::{self as uapi, Device, Errno};

use crate::cli::{ShowArgs, UnloadArgs};
use crate::commands::{kernel_error, open_device};
use crate::error::Error;

/// How often a list is asked for again when more programs were loaded
/// between asking for the count and listing them.
const LIST_TRIES: usize = 8;

/// The programs `call` lists (it writes into the slice it is given and
/// returns how many are loaded): the count first, then all of them, again
/// while the count grows. `None` when it kept growing.
fn collect<E>(
    mut call: impl FnMut(&mut [uapi::kwasm_prog_show]) -> Result<u32, E>,
) -> Result<Option<Vec<uapi::kwasm_prog_show>>, E> {
    let mut progs = Vec::new();
    for _ in 0..LIST_TRIES {
        let count = call(&mut progs)? as usize;
        if count <= progs.len() {
            progs.truncate(count);
            return Ok(Some(progs));
        }
        progs = vec![uapi::kwasm_prog_show::default(); count];
    }
    Ok(None)
}

/// The programs of the caller's network namespace, by id.
pub fn programs(dev: &Device, context: &str) -> Result<Vec<uapi::kwasm_prog_show>, Error> {
    let mut req = uapi::kwasm_prog_list::default();
    let listed = collect(|progs| {
        req = uapi::kwasm_prog_list::default();
        dev.prog_list(progs, &mut req).map(|()| req.count)
    });
    match listed {
        Ok(Some(progs)) => Ok(progs),
        Ok(None) => Err(kernel_error(
            context.into(),
            Errno::EAGAIN,
            "programs kept being loaded while they were listed".into(),
        )),
        Err(errno) => Err(kernel_error(context.into(), errno, req.reason())),
    }
}

/// The error of a program name that is not loaded.
fn not_found(context: &str, name: &str, progs: &[uapi::kwasm_prog_show]) -> Error {
    let reason = if progs.is_empty() {
        format!("no program named {name}: nothing is loaded")
    } else {
        let names: Vec<String> = progs.iter().map(|p| p.name()).collect();
        format!("no program named {name}; loaded: {}", names.join(", "))
    };
    kernel_error(context.into(), Errno::ENOENT, reason)
}

/// The id of the program named `name`; 0 (the only program, as the
/// kernel takes it) without a name.
pub fn resolve(dev: &Device, name: Option<&str>, context: &str) -> Result<u32, Error> {
    let Some(name) = name else {
        return Ok(0);
    };
    let progs = programs(dev, context)?;
    progs
        .iter()
        .find(|p| p.name() == name)
        .map(|p| p.id)
        .ok_or_else(|| not_found(context, name, &progs))
}

/// A refusal of a request for "the only program" (prog_id 0) while there
/// are several gets the option that names one.
pub fn hint_prog(err: Error, prog_id: u32, option: &str) -> Error {
    match err {
        Error::Kernel {
            context,
            errno: libc::EINVAL,
            reason,
        } if prog_id == 0 && reason.contains("programs are loaded") => Error::Kernel {
            context,
            errno: libc::EINVAL,
            reason: format!("{reason} (kwasmctl: choose one with {option} NAME)"),
        },
        other => other,
    }
}

/// `name` when known, else the number.
fn named(name: Option<&'static str>, number: impl std::fmt::Display) -> String {
    name.map_or_else(|| format!("unknown({number})"), str::to_owned)
}

/// The priority and, near a named one, its name: `10 (filter+10)`.
fn priority_text(priority: i32) -> String {
    match names::priority_label(priority) {
        Some(label) => format!("{priority} ({label})"),
        None => priority.to_string(),
    }
}

fn timestamp(load_time_ns: u64) -> Option<Timestamp> {
    Timestamp::from_nanosecond(i128::from(load_time_ns)).ok()
}

/// bpftool's `loaded_at`: the local time with its offset.
fn loaded_at_text(load_time_ns: u64, tz: &TimeZone) -> String {
    match timestamp(load_time_ns) {
        Some(ts) => ts
            .to_zoned_datetime(tz.clone())
            .strftime("%FT%T%z")
            .to_string(),
        None => format!("{load_time_ns}ns"),
    }
}

/// The non-zero trap kinds, by name.
fn trap_kinds(p: &uapi::kwasm_prog_show) -> impl Iterator<Item = (&'static str, u64)> + '_ {
    names::TRAP_NAMES
        .iter()
        .zip(p.trap_kind)
        .skip(1)
        .map(|(&name, n)| (name, n))
}

/// One program as `show` prints it: bpftool's layout, a first line with
/// the id and name, then indented lines.
fn text_block(p: &uapi::kwasm_prog_show, tz: &TimeZone) -> String {
    let mut out = format!(
        "{}: {}  family {}  hook {}  priority {}\n",
        p.id,
        p.name(),
        named(names::family_name(p.family), p.family),
        named(names::hook_name(p.hook), p.hook),
        priority_text(p.priority),
    );
    let abi = named(names::abi_name(p.abi), p.abi);
    let record = if p.record_version == 0 {
        String::new()
    } else {
        format!("  record_version {}", p.record_version)
    };
    out += &format!(
        "\tabi {abi}{record}  default {}  fuel {}  snaplen {}\n",
        named(names::verdict_name(p.default_verdict), p.default_verdict),
        p.fuel,
        p.snaplen
    );
    out += &format!(
        "\tloaded_at {}  uid {}\n",
        loaded_at_text(p.load_time_ns, tz),
        p.loader_uid
    );
    out += &format!("\tbytes {}  sha256 {}\n", p.size, hex(&p.sha256));
    out += &format!(
        "\tinstances {}  memory {}B  heap {}B  maps {}  map_memory {}B\n",
        p.instances, p.memory_bytes, p.heap_bytes, p.maps, p.map_memory
    );
    out += &format!(
        "\truns {}  accepted {}  dropped {}  invalid {}  traps {}  skipped {}  busy {}\n",
        p.runs, p.accepted, p.dropped, p.invalid, p.traps, p.skipped, p.busy
    );
    let traps: Vec<String> = trap_kinds(p)
        .filter(|&(_, n)| n > 0)
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    if !traps.is_empty() {
        out += &format!("\ttrap_kinds {}\n", traps.join("  "));
    }
    out += &format!("\trun_time_ns {}  run_count {}", p.run_time_ns, p.run_count);
    if let Some(avg) = p.run_time_ns.checked_div(p.run_count) {
        out += &format!("  ({avg} ns/run)");
    }
    out.push('\n');
    out
}

/// One program as a JSON object, keys as the header's fields mostly are.
fn json_object(p: &uapi::kwasm_prog_show) -> Value {
    let trap_kinds: Map<String, Value> = trap_kinds(p)
        .map(|(name, n)| (name.to_owned(), n.into()))
        .collect();
    let loaded_at_utc = timestamp(p.load_time_ns)
        .map(|ts| ts.strftime("%FT%TZ").to_string())
        .map_or(Value::Null, Value::from);
    json!({
        "id": p.id,
        "name": p.name(),
        "family": named(names::family_name(p.family), p.family),
        "hook": named(names::hook_name(p.hook), p.hook),
        "priority": p.priority,
        "priority_name": names::priority_label(p.priority),
        "abi": named(names::abi_name(p.abi), p.abi),
        "record_version": p.record_version,
        "default_verdict": named(names::verdict_name(p.default_verdict), p.default_verdict),
        "fuel": p.fuel,
        "snaplen": p.snaplen,
        "loaded_at": p.load_time_ns / 1_000_000_000,
        "loaded_at_utc": loaded_at_utc,
        "uid": p.loader_uid,
        "bytes": p.size,
        "sha256": hex(&p.sha256),
        "instances": p.instances,
        "maps": p.maps,
        "memory_bytes": p.memory_bytes,
        "heap_bytes": p.heap_bytes,
        "map_memory": p.map_memory,
        "runs": p.runs,
        "accepted": p.accepted,
        "dropped": p.dropped,
        "invalid": p.invalid,
        "traps": p.traps,
        "skipped": p.skipped,
        "busy": p.busy,
        "trap_kinds": trap_kinds,
        "run_time_ns": p.run_time_ns,
        "run_count": p.run_count,
    })
}

/// What `show` prints: text blocks, or JSON (an array; with a name, that
/// program's object, as bpftool prints one program).
fn render(progs: &[uapi::kwasm_prog_show], args: &ShowArgs, tz: &TimeZone) -> String {
    if args.json || args.pretty {
        let value = match (&args.name, progs) {
            (Some(_), [one]) => json_object(one),
            _ => progs.iter().map(json_object).collect(),
        };
        return if args.pretty {
            format!("{value:#}\n")
        } else {
            format!("{value}\n")
        };
    }
    if progs.is_empty() {
        return "no programs\n".into();
    }
    progs.iter().map(|p| text_block(p, tz)).collect()
}

pub fn show(args: &ShowArgs) -> Result<(), Error> {
    let context = match &args.name {
        Some(name) => format!("show {name}"),
        None => "show".into(),
    };
    let progs = programs(&open_device()?, &context)?;
    let chosen: Vec<uapi::kwasm_prog_show> = match &args.name {
        Some(name) => {
            let p: Vec<_> = progs
                .iter()
                .filter(|p| p.name() == *name)
                .copied()
                .collect();
            if p.is_empty() {
                return Err(not_found(&context, name, &progs));
            }
            p
        }
        None => progs,
    };
    print!("{}", render(&chosen, args, &TimeZone::system()));
    Ok(())
}

/// What `unload` does.
#[derive(Debug, PartialEq, Eq)]
enum Unload {
    /// KWASM_IOC_UNLOAD: every program of the namespace.
    All,
    /// KWASM_IOC_PROG_UNLOAD by name.
    Named(String),
}

/// The one program `unload` without a name means, from those loaded
/// (id, name): an error when there is none or several.
fn only_program(progs: &[(u32, String)]) -> Result<(u32, String), Error> {
    match progs {
        [] => Err(kernel_error(
            "unload".into(),
            Errno::ENOENT,
            "nothing is loaded".into(),
        )),
        [(id, name)] => Ok((*id, name.clone())),
        several => {
            let names: Vec<&str> = several.iter().map(|(_, n)| n.as_str()).collect();
            Err(Error::input(
                "unload",
                anyhow::anyhow!(
                    "{} programs are loaded ({}): name one (kwasmctl unload NAME) \
                     or unload them all with --all",
                    several.len(),
                    names.join(", ")
                ),
            ))
        }
    }
}

fn choice(args: &UnloadArgs) -> Option<Unload> {
    match (&args.name, args.all) {
        (_, true) => Some(Unload::All),
        (Some(name), false) => Some(Unload::Named(name.clone())),
        (None, false) => None,
    }
}

pub fn unload(args: &UnloadArgs) -> Result<(), Error> {
    let dev = open_device()?;
    match choice(args) {
        Some(Unload::All) => dev.unload().map_err(|errno| {
            let reason = if errno == Errno::ENOENT {
                "nothing is loaded".into()
            } else {
                String::new()
            };
            kernel_error("unload --all".into(), errno, reason)
        }),
        Some(Unload::Named(name)) => {
            let context = format!("unload {name}");
            let mut req = uapi::kwasm_prog_unload::by_name(&name)
                .map_err(|e| Error::input(&context, anyhow::anyhow!("program name: {e}")))?;
            dev.prog_unload(&mut req)
                .map_err(|errno| kernel_error(context, errno, req.reason()))
        }
        None => {
            let loaded: Vec<(u32, String)> = programs(&dev, "unload")?
                .iter()
                .map(|p| (p.id, p.name()))
                .collect();
            let (id, name) = only_program(&loaded)?;
            // By id: exactly the program listed, not one loaded since.
            let mut req = uapi::kwasm_prog_unload::by_id(id);
            dev.prog_unload(&mut req)
                .map_err(|errno| kernel_error(format!("unload {name}"), errno, req.reason()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::ExitCode;

    fn prog(id: u32, name: &str) -> uapi::kwasm_prog_show {
        let mut p = uapi::kwasm_prog_show {
            id,
            family: uapi::KWASM_FAMILY_INET,
            hook: uapi::NF_INET_LOCAL_IN,
            priority: 10,
            abi: uapi::KWASM_ABI_KWASM,
            record_version: 3,
            default_verdict: uapi::KWASM_ACCEPT,
            snaplen: 256,
            fuel: 100_000,
            // 2026-11-28T00:14:45.5Z
            load_time_ns: 1_795_824_885_500_000_000,
            loader_uid: 0,
            size: 1234,
            instances: 2,
            maps: 1,
            memory_bytes: 131_072,
            heap_bytes: 40_000,
            map_memory: 4096,
            runs: 10,
            accepted: 7,
            dropped: 2,
            traps: 1,
            run_time_ns: 12_345,
            run_count: 10,
            ..Default::default()
        };
        p.sha256 = std::array::from_fn(|i| i as u8);
        p.trap_kind[uapi::KWASM_TRAP_OUT_OF_FUEL as usize] = 1;
        uapi::set_c_str(&mut p.name, name).unwrap();
        p
    }

    fn show_args(name: Option<&str>, json: bool, pretty: bool) -> ShowArgs {
        ShowArgs {
            name: name.map(str::to_owned),
            json,
            pretty,
        }
    }

    #[test]
    fn text_in_bpftools_style() {
        let text = text_block(&prog(7, "fw"), &TimeZone::UTC);
        let sha: String = (0..32u8).map(|b| format!("{b:02x}")).collect();
        let expected = format!(
            "7: fw  family inet  hook local-in  priority 10 (filter+10)\n\
             \tabi kwasm  record_version 3  default accept  fuel 100000  snaplen 256\n\
             \tloaded_at 2026-11-28T00:14:45+0000  uid 0\n\
             \tbytes 1234  sha256 {sha}\n\
             \tinstances 2  memory 131072B  heap 40000B  maps 1  map_memory 4096B\n\
             \truns 10  accepted 7  dropped 2  invalid 0  traps 1  skipped 0  busy 0\n\
             \ttrap_kinds out_of_fuel 1\n\
             \trun_time_ns 12345  run_count 10  (1234 ns/run)\n"
        );
        assert_eq!(text, expected);

        let mut p = prog(8, "old");
        p.abi = uapi::KWASM_ABI_ORIGINAL;
        p.record_version = 0;
        p.priority = 1000;
        p.trap_kind = [0; uapi::KWASM_TRAP_COUNT as usize];
        (p.run_time_ns, p.run_count) = (0, 0);
        let text = text_block(&p, &TimeZone::UTC);
        assert!(text.starts_with("8: old  family inet  hook local-in  priority 1000\n"));
        assert!(text.contains("\tabi original  default accept"), "{text}");
        assert!(!text.contains("trap_kinds"));
        assert!(text.ends_with("\trun_time_ns 0  run_count 0\n"), "{text}");
        let fixed = TimeZone::fixed(jiff::tz::offset(2));
        assert!(text_block(&p, &fixed).contains("loaded_at 2026-11-28T02:14:45+0200"));
    }

    #[test]
    fn json_shape() {
        let v = json_object(&prog(7, "fw"));
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = vec![
            "id",
            "name",
            "family",
            "hook",
            "priority",
            "priority_name",
            "abi",
            "record_version",
            "default_verdict",
            "fuel",
            "snaplen",
            "loaded_at",
            "loaded_at_utc",
            "uid",
            "bytes",
            "sha256",
            "instances",
            "maps",
            "memory_bytes",
            "heap_bytes",
            "map_memory",
            "runs",
            "accepted",
            "dropped",
            "invalid",
            "traps",
            "skipped",
            "busy",
            "trap_kinds",
            "run_time_ns",
            "run_count",
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected, "serde_json sorts the keys");
        assert_eq!(v["id"], 7);
        assert_eq!(v["name"], "fw");
        assert_eq!(v["family"], "inet");
        assert_eq!(v["hook"], "local-in");
        assert_eq!(v["priority"], 10);
        assert_eq!(v["priority_name"], "filter+10");
        assert_eq!(v["abi"], "kwasm");
        assert_eq!(v["default_verdict"], "accept");
        assert_eq!(v["loaded_at"], 1_795_824_885u64);
        assert_eq!(v["loaded_at_utc"], "2026-11-28T00:14:45Z");
        assert_eq!(v["bytes"], 1234);
        assert_eq!(
            v["sha256"],
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        );
        assert_eq!(v["runs"], 10);
        assert_eq!(v["trap_kinds"]["out_of_fuel"], 1);
        assert_eq!(v["trap_kinds"]["unreachable"], 0);
        assert_eq!(v["trap_kinds"].as_object().unwrap().len(), 11);
        assert!(v["trap_kinds"].get("none").is_none());
        assert_eq!(v["run_count"], 10);
        let mut p = prog(9, "far");
        p.priority = i32::MIN + 1;
        p.family = 77;
        let v = json_object(&p);
        assert_eq!(v["priority_name"], Value::Null);
        assert_eq!(v["priority"], i32::MIN + 1);
        assert_eq!(v["family"], "unknown(77)");
    }

    #[test]
    fn render_all_or_one() {
        let progs = [prog(7, "fw"), prog(9, "log")];
        let tz = TimeZone::UTC;
        let all: Value =
            serde_json::from_str(&render(&progs, &show_args(None, true, false), &tz)).unwrap();
        assert_eq!(all.as_array().map(Vec::len), Some(2));
        assert_eq!(all[1]["name"], "log");
        let one = render(&progs[..1], &show_args(Some("fw"), true, false), &tz);
        assert!(
            one.starts_with("{\"abi\":\"kwasm\",\"accepted\":7,") && one.ends_with("}\n"),
            "{one}"
        );
        let pretty = render(&progs, &show_args(None, false, true), &tz);
        assert!(pretty.starts_with("[\n  {\n"), "{pretty}");
        assert_eq!(
            serde_json::from_str::<Value>(&pretty).unwrap(),
            all,
            "--pretty is --json indented"
        );
        assert_eq!(render(&[], &show_args(None, true, false), &tz), "[]\n");
        assert_eq!(
            render(&[], &show_args(None, false, false), &tz),
            "no programs\n"
        );
        let text = render(&progs, &show_args(None, false, false), &tz);
        assert!(text.starts_with("7: fw  ") && text.contains("\n9: log  "));
    }

    #[test]
    fn list_asks_for_the_count_first_and_again_when_it_grows() {
        // Loaded: 2 at the count, 3 at the first list, then 3.
        let mut loaded = [2u32, 3, 3].into_iter();
        let mut rooms = Vec::new();
        let got = collect(|progs| {
            rooms.push(progs.len());
            let n = loaded.next().unwrap_or(3);
            for (i, p) in progs.iter_mut().enumerate().take(n as usize) {
                p.id = i as u32 + 1;
            }
            Ok::<_, Errno>(n)
        })
        .unwrap()
        .unwrap();
        assert_eq!(rooms, [0, 2, 3]);
        assert_eq!(got.iter().map(|p| p.id).collect::<Vec<_>>(), [1, 2, 3]);

        // Fewer than the room: only those.
        let mut calls = 0;
        let got = collect(|progs| {
            calls += 1;
            Ok::<_, Errno>(if progs.is_empty() { 4 } else { 1 })
        })
        .unwrap()
        .unwrap();
        assert_eq!((calls, got.len()), (2, 1));

        // None loaded: one request.
        let got = collect(|_| Ok::<_, Errno>(0)).unwrap().unwrap();
        assert!(got.is_empty());

        // Always more: given up.
        let mut n = 0;
        let got = collect(|_| {
            n += 1;
            Ok::<_, Errno>(n)
        });
        assert!(matches!(got, Ok(None)));

        let got = collect(|_| Err(Errno::EPERM));
        assert!(matches!(got, Err(Errno::EPERM)));
    }

    #[test]
    fn unload_choice() {
        let args = |name: Option<&str>, all| UnloadArgs {
            name: name.map(str::to_owned),
            all,
        };
        assert_eq!(choice(&args(None, true)), Some(Unload::All));
        assert_eq!(
            choice(&args(Some("fw"), false)),
            Some(Unload::Named("fw".into()))
        );
        assert_eq!(choice(&args(None, false)), None);

        let none = only_program(&[]).unwrap_err();
        assert_eq!(
            none.to_string(),
            "unload: No such file or directory (errno 2): nothing is loaded"
        );
        assert_eq!(none.exit_code(), ExitCode::from(1));
        assert_eq!(
            only_program(&[(4, "prog".into())]).unwrap(),
            (4, "prog".into())
        );
        let several = only_program(&[(4, "fw".into()), (6, "log".into())]).unwrap_err();
        assert_eq!(
            several.to_string(),
            "unload: 2 programs are loaded (fw, log): name one (kwasmctl unload NAME) \
             or unload them all with --all"
        );
        assert_eq!(several.exit_code(), ExitCode::from(2));
    }

    #[test]
    fn names_not_loaded() {
        let e = not_found("show fw", "fw", &[]);
        assert_eq!(
            e.to_string(),
            "show fw: No such file or directory (errno 2): no program named fw: nothing is loaded"
        );
        let e = not_found("map list", "fw", &[prog(1, "a"), prog(2, "b")]);
        assert!(e.to_string().ends_with("no program named fw; loaded: a, b"));
        assert_eq!(e.exit_code(), ExitCode::from(1));
    }

    #[test]
    fn several_programs_hint_the_option() {
        let refusal = |reason: &str| Error::Kernel {
            context: "map list".into(),
            errno: libc::EINVAL,
            reason: reason.into(),
        };
        let several = "2 programs are loaded in this network namespace: name one by id";
        assert!(hint_prog(refusal(several), 0, "--prog")
            .to_string()
            .ends_with("name one by id (kwasmctl: choose one with --prog NAME)"));
        assert!(hint_prog(refusal(several), 5, "--prog")
            .to_string()
            .ends_with("name one by id"));
        assert!(hint_prog(refusal("bad key size"), 0, "--prog")
            .to_string()
            .ends_with("bad key size"));
    }
}
