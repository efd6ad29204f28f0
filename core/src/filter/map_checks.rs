//! Map calls refused at load: a call of a map host function whose map id,
//! key or value length, flags, counter offset or record length is a
//! constant in the program ([`crate::engine::host_calls`]) and contradicts
//! the declarations would trap on every run. The load fails instead, with
//! `EINVAL` naming the function, where it is and what is wrong. Calls whose
//! arguments are computed are checked when they run (they trap).

use alloc::format;
use alloc::string::String;

use crate::abi::{Error, EINVAL};
use crate::engine::host_calls::HostCall;
use crate::maps::decl::{Kind, MapDecl};
use crate::maps::EXIST;

/// Where each argument a check needs sits, by function.
struct Args {
    map: Option<usize>,
    key_len: Option<usize>,
    value_len: Option<usize>,
    flags: Option<usize>,
    offset: Option<usize>,
}

fn args_of(name: &str) -> Option<Args> {
    let none = Args {
        map: None,
        key_len: None,
        value_len: None,
        flags: None,
        offset: None,
    };
    Some(match name {
        "map_lookup" => Args {
            map: Some(0),
            key_len: Some(2),
            value_len: Some(4),
            ..none
        },
        "map_update" => Args {
            map: Some(0),
            key_len: Some(2),
            value_len: Some(4),
            flags: Some(5),
            ..none
        },
        "map_delete" => Args {
            map: Some(0),
            key_len: Some(2),
            ..none
        },
        "map_add" => Args {
            map: Some(0),
            key_len: Some(2),
            offset: Some(3),
            ..none
        },
        "event_output" => Args {
            value_len: Some(1),
            ..none
        },
        _ => return None,
    })
}

/// Checks every call in `calls` of a `kwasm` map function (named through
/// `imports`, the module's function imports) against `decls`.
pub fn check(
    calls: &[HostCall],
    imports: &[(String, String)],
    decls: &[MapDecl],
) -> Result<(), Error> {
    for call in calls {
        let Some((module, name)) = usize::try_from(call.import)
            .ok()
            .and_then(|i| imports.get(i))
        else {
            continue;
        };
        if module != "kwasm" {
            continue;
        }
        let Some(args) = args_of(name) else {
            continue;
        };
        check_call(call, name, &args, decls).map_err(|what| {
            Error::new(
                EINVAL,
                format!(
                    "{name} in function {} at offset {:#x}: {what}",
                    call.func, call.offset
                ),
            )
        })?;
    }
    Ok(())
}

fn known(call: &HostCall, at: Option<usize>) -> Option<i64> {
    call.args.get(at?).copied().flatten()
}

fn check_call(call: &HostCall, name: &str, args: &Args, decls: &[MapDecl]) -> Result<(), String> {
    let map = if name == "event_output" {
        match decls.iter().find(|d| d.kind == Kind::Events) {
            Some(ring) => Some(ring),
            None => return Err("the program declares no events ring".into()),
        }
    } else {
        match known(call, args.map) {
            None => None,
            Some(id) => match decls.iter().find(|d| i64::from(d.id) == id) {
                None => return Err(format!("map id {id} is not declared")),
                Some(d) if d.kind == Kind::Events => {
                    return Err(format!(
                        "map {} is the events ring (event_output writes it)",
                        d.name
                    ))
                }
                Some(d) => Some(d),
            },
        }
    };
    if let Some(flags) = known(call, args.flags) {
        if !(0..=i64::from(EXIST)).contains(&flags) {
            return Err(format!("flags {flags} (0, 1 or 2)"));
        }
    }
    let Some(d) = map else {
        return Ok(());
    };
    if name == "map_delete" && d.kind != Kind::Hash {
        return Err(format!(
            "map {} is an {}: only hash maps delete",
            d.name,
            d.kind.name()
        ));
    }
    if let Some(len) = known(call, args.key_len) {
        if len != i64::from(d.key_size) {
            return Err(format!(
                "key length {len}, map {}'s keys are {} bytes",
                d.name, d.key_size
            ));
        }
    }
    if let Some(len) = known(call, args.value_len) {
        let bad = if d.kind == Kind::Events {
            len < 1 || len > i64::from(d.value_size)
        } else {
            len != i64::from(d.value_size)
        };
        if bad {
            let what = if d.kind == Kind::Events {
                format!("records of 1 to {} bytes", d.value_size)
            } else {
                format!("{}-byte values", d.value_size)
            };
            return Err(format!("length {len}, map {} takes {what}", d.name));
        }
    }
    if let Some(offset) = known(call, args.offset) {
        if offset % 8 != 0 || offset < 0 || offset + 8 > i64::from(d.value_size) {
            return Err(format!(
                "counter offset {offset}: not an 8-aligned u64 inside map {}'s {}-byte values",
                d.name, d.value_size
            ));
        }
    }
    Ok(())
}
