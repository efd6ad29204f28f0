//! The map requests of user space (docs/ABI.md, "Map ioctls"), on kernel
//! copies of their structures and buffers: the shim copies from and to user
//! space, this module checks every field against the map's declaration and
//! does the operation. A request is checked twice, the second time on the
//! buffers the shim allocated from the first check's sizes, so nothing here
//! trusts the shim either.
//!
//! Every refusal is an errno and a reason starting `map <name>:` (or
//! naming the field when there is no name yet).

use alloc::format;
use alloc::string::String;

use super::decl::Kind;
use super::fmt::quote;
use super::{Map, MapError, Slot, Table, ANY, EXIST, NOEXIST};
use crate::abi::{
    self as k, kwasm_map_dump, kwasm_map_info, kwasm_map_op, Error, E2BIG, EBUSY, EEXIST, EINVAL,
    ENOENT, ENOSPC,
};
use crate::ffi::services;

/// Which of the key requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lookup,
    Update,
    Delete,
}

/// `KWASM_MAP_ALL_CPUS`.
pub const ALL_CPUS: u32 = k::KWASM_MAP_ALL_CPUS;
/// `KWASM_DUMP_END`.
pub const DUMP_END: u64 = k::KWASM_DUMP_END;

/// `n` rounded up to a multiple of 8.
fn pad8(n: u64) -> u64 {
    n.div_ceil(8).saturating_mul(8)
}

/// Copies `text` into the C text field `field`, NUL-padded (cut to leave
/// room for one NUL).
fn set_text(field: &mut [core::ffi::c_char], text: &str) {
    field.fill(0);
    let room = field.len().saturating_sub(1);
    for (d, s) in field.iter_mut().zip(text.bytes().take(room)) {
        *d = s as core::ffi::c_char;
    }
}

/// Fills `info` from `map`.
pub fn info(map: &Map, info: &mut kwasm_map_info) {
    let d = &map.decl;
    *info = kwasm_map_info {
        id: d.id,
        kind: d.kind.number().into(),
        flags: 0,
        key_size: d.key_size,
        value_size: d.value_size,
        max_entries: d.max_entries,
        ncpus: map.ncpus(),
        entries: map.entries(),
        memory: d.memory,
        full: map.full(),
        ..Default::default()
    };
    set_text(&mut info.name, &d.name);
    set_text(&mut info.key_fmt, &d.key_fmt);
    set_text(&mut info.value_fmt, &d.value_fmt);
}

/// The map a request names: `EINVAL` when the field holds no
/// NUL-terminated text, `ENOENT` when no map has that name.
fn named<'a>(table: &'a Table, field: &[core::ffi::c_char]) -> Result<&'a Map, Error> {
    let len = field
        .iter()
        .position(|&c| c == 0)
        .ok_or_else(|| Error::new(EINVAL, "the map name is not NUL-terminated".into()))?;
    let bytes: alloc::vec::Vec<u8> = field.iter().take(len).map(|&c| c as u8).collect();
    let name = String::from_utf8_lossy(&bytes);
    if name.is_empty() {
        return Err(Error::new(EINVAL, "no map name".into()));
    }
    table.by_name(&name).ok_or_else(|| {
        Error::new(
            ENOENT,
            format!("the program has no map named {}", quote(&name)),
        )
    })
}

fn refuse(errno: i32, map: &Map, msg: core::fmt::Arguments) -> Error {
    Error::new(errno, format!("map {}: {msg}", map.decl.name))
}

/// The value bytes of a request on `map` for `slot`: one value, or one per
/// CPU id of a per-CPU map.
fn value_len(map: &Map, slot: Slot) -> u64 {
    match slot {
        Slot::All => u64::from(map.decl.value_size) * u64::from(map.ncpus()),
        Slot::Own(_) | Slot::Cpu(_) => map.decl.value_size.into(),
    }
}

/// The slot `cpu` names in `map`.
fn slot(map: &Map, cpu: u32) -> Result<Slot, Error> {
    if cpu == ALL_CPUS {
        return Ok(Slot::All);
    }
    if map.decl.kind != Kind::PercpuArray {
        return Err(refuse(
            EINVAL,
            map,
            format_args!(
                "cpu {cpu} given, but a {} map has one value per key (cpu must be \
                 KWASM_MAP_ALL_CPUS)",
                map.decl.kind.name()
            ),
        ));
    }
    if cpu >= map.ncpus() || !services::cpu_possible(cpu) {
        return Err(refuse(
            EINVAL,
            map,
            format_args!(
                "cpu {cpu} is not a possible CPU (ids below {})",
                map.ncpus()
            ),
        ));
    }
    Ok(Slot::Cpu(cpu))
}

/// A checked key request.
#[derive(Clone, Copy)]
pub struct Checked<'a> {
    pub map: &'a Map,
    pub slot: Slot,
    /// Bytes of the key and of the value buffer (0 for a delete).
    pub key_len: u32,
    pub value_len: u32,
}

/// Checks `req` as an `op` request against `table`: the map, the key and
/// value sizes, the flags, the CPU.
pub fn check<'a>(table: &'a Table, op: Op, req: &kwasm_map_op) -> Result<Checked<'a>, Error> {
    let map = named(table, &req.name)?;
    let d = &map.decl;
    if d.kind == Kind::Events {
        return Err(refuse(
            EINVAL,
            map,
            format_args!("an events ring has no keys: read it with the events request"),
        ));
    }
    if op == Op::Delete && d.kind != Kind::Hash {
        return Err(refuse(
            EINVAL,
            map,
            format_args!(
                "a {} map's elements always exist: update them, not delete",
                d.kind.name()
            ),
        ));
    }
    if req.key_size != d.key_size {
        return Err(refuse(
            EINVAL,
            map,
            format_args!(
                "key of {} bytes; the map's keys have {}",
                req.key_size, d.key_size
            ),
        ));
    }
    let flags_ok = match op {
        Op::Update => matches!(req.flags, ANY | NOEXIST | EXIST),
        Op::Lookup | Op::Delete => req.flags == 0,
    };
    if !flags_ok {
        return Err(refuse(
            EINVAL,
            map,
            format_args!(
                "flags {:#x}: an update takes KWASM_MAP_ANY, NOEXIST or EXIST, other requests 0",
                req.flags
            ),
        ));
    }
    let slot = slot(map, req.cpu)?;
    let want = match op {
        Op::Delete => {
            if req.value != 0 || req.value_size != 0 {
                return Err(refuse(
                    EINVAL,
                    map,
                    format_args!("a delete takes no value (value and value_size 0)"),
                ));
            }
            0
        }
        Op::Lookup | Op::Update => {
            let want = value_len(map, slot);
            if u64::from(req.value_size) != want {
                let per_cpu = match slot {
                    Slot::All if d.kind == Kind::PercpuArray => {
                        format!(
                            " ({} bytes for each of {} CPU ids)",
                            d.value_size,
                            map.ncpus()
                        )
                    }
                    _ => String::new(),
                };
                return Err(refuse(
                    EINVAL,
                    map,
                    format_args!(
                        "value of {} bytes; {want} expected{per_cpu}",
                        req.value_size
                    ),
                ));
            }
            want
        }
    };
    let value_len = u32::try_from(want).map_err(|_| {
        refuse(
            E2BIG,
            map,
            format_args!("values of all CPUs take {want} bytes, more than a request can"),
        )
    })?;
    Ok(Checked {
        map,
        slot,
        key_len: d.key_size,
        value_len,
    })
}

/// The reason of a refusal by the map itself.
fn map_error(map: &Map, op: Op, flags: u32, e: MapError) -> Error {
    let d = &map.decl;
    let msg = match (e.0, d.kind) {
        (ENOENT, Kind::Hash) if op == Op::Update && flags == EXIST => {
            format_args!("no such key (the update asked for an existing one)")
        }
        (ENOENT, Kind::Hash) => format_args!("no such key"),
        (ENOENT, _) => format_args!("the index is not below max_entries"),
        (EEXIST, Kind::Hash) => format_args!("the key exists (the update asked for a new one)"),
        (EEXIST, _) => format_args!("array elements always exist: update with ANY or EXIST"),
        (ENOSPC, _) => format_args!("full: no room for another key"),
        (EBUSY, _) => format_args!("busy: the lock cannot be taken here"),
        _ => format_args!("the request was refused"),
    };
    refuse(e.0, map, msg)
}

/// Does `op` as `req` asks, with the key `key` and the value buffer
/// `value` (read by an update, written by a lookup, empty for a delete).
pub fn run(
    table: &Table,
    op: Op,
    req: &kwasm_map_op,
    key: &[u8],
    value: &mut [u8],
) -> Result<(), Error> {
    let c = check(table, op, req)?;
    if key.len() != c.key_len as usize || value.len() != c.value_len as usize {
        return Err(refuse(
            EINVAL,
            c.map,
            format_args!(
                "buffers of {} and {} bytes for a key of {} and a value of {}",
                key.len(),
                value.len(),
                c.key_len,
                c.value_len
            ),
        ));
    }
    let result = match op {
        Op::Lookup => c.map.lookup(c.slot, key, value),
        Op::Update => c.map.update(c.slot, key, value, req.flags),
        Op::Delete => c.map.delete(key),
    };
    result.map_err(|e| map_error(c.map, op, req.flags, e))
}

/// Bytes of one dump record of `map`: the key, then the values of all
/// CPUs, each padded to a multiple of 8.
pub fn record_len(map: &Map) -> u64 {
    pad8(map.decl.key_size.into()) + pad8(value_len(map, Slot::All))
}

/// Checks a dump request: the map, and the record length it dumps in.
pub fn check_dump<'a>(table: &'a Table, req: &kwasm_map_dump) -> Result<(&'a Map, u32), Error> {
    let map = named(table, &req.name)?;
    if map.decl.kind == Kind::Events {
        return Err(refuse(
            EINVAL,
            map,
            format_args!("an events ring has no entries to dump: read it with the events request"),
        ));
    }
    let len = record_len(map);
    let len = u32::try_from(len).map_err(|_| {
        refuse(
            E2BIG,
            map,
            format_args!("a record takes {len} bytes, more than a request can"),
        )
    })?;
    if req.buf_len < len {
        return Err(refuse(
            EINVAL,
            map,
            format_args!("a buffer of {} bytes; a record takes {len}", req.buf_len),
        ));
    }
    Ok((map, len))
}

/// Fills `buf` with whole records from `req.cursor` on, sets `req.count`
/// to how many and `req.cursor` to where to go on ([`DUMP_END`] after the
/// last entry).
pub fn dump(table: &Table, req: &mut kwasm_map_dump, buf: &mut [u8]) -> Result<(), Error> {
    let (map, len) = check_dump(table, req)?;
    let len = len as usize;
    let key_len = map.decl.key_size as usize;
    let value_at = pad8(key_len as u64) as usize;
    let value_len = value_len(map, Slot::All) as usize;
    req.count = 0;
    for record in buf.chunks_exact_mut(len) {
        if req.cursor == DUMP_END {
            break;
        }
        record.fill(0);
        let (key_part, value_part) = record.split_at_mut(value_at);
        let (Some(key), Some(value)) =
            (key_part.get_mut(..key_len), value_part.get_mut(..value_len))
        else {
            break;
        };
        match map.next(req.cursor, key, value) {
            Some(next) => {
                req.count += 1;
                req.cursor = next;
            }
            None => req.cursor = DUMP_END,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::decl::{self, MapDecl};
    use super::*;
    use alloc::sync::Arc;
    use alloc::vec;
    use alloc::vec::Vec;

    fn map(name: &str, kind: Kind, key: u32, value: u32, max: u32) -> Arc<Map> {
        let decl = MapDecl {
            id: 0,
            kind,
            key_size: key,
            value_size: value,
            max_entries: max,
            name: name.into(),
            key_fmt: "".into(),
            value_fmt: "".into(),
            memory: decl::memory(kind, key, value, max, 1),
        };
        Arc::new(Map::new(decl, 1).unwrap())
    }

    fn table() -> Table {
        Table::new(vec![
            map("blocked", Kind::Hash, 4, 1, 16),
            map("counts", Kind::Array, 4, 16, 8),
            map("per_cpu", Kind::PercpuArray, 4, 8, 4),
            map("events", Kind::Events, 0, 64, 4096),
        ])
    }

    fn op(name: &str, key: u32, value: u32) -> kwasm_map_op {
        let mut req = kwasm_map_op {
            key_size: key,
            value_size: value,
            cpu: ALL_CPUS,
            ..Default::default()
        };
        set_text(&mut req.name, name);
        req
    }

    fn reason<T>(r: Result<T, Error>) -> (i32, String) {
        match r {
            Ok(_) => panic!("accepted"),
            Err(e) => (e.errno, e.msg),
        }
    }

    #[test]
    fn checks_name_sizes_flags_cpu() {
        let t = table();
        let ok = check(&t, Op::Lookup, &op("blocked", 4, 1)).unwrap();
        assert_eq!((ok.key_len, ok.value_len), (4, 1));
        assert!(matches!(ok.slot, Slot::All));
        assert_eq!(
            reason(check(&t, Op::Lookup, &op("nope", 4, 1))),
            (ENOENT, "the program has no map named \"nope\"".into())
        );
        let mut unterminated = op("x", 4, 1);
        unterminated.name.fill(b'a' as core::ffi::c_char);
        assert_eq!(reason(check(&t, Op::Lookup, &unterminated)).0, EINVAL);
        assert_eq!(
            reason(check(&t, Op::Lookup, &op("blocked", 8, 1))),
            (
                EINVAL,
                "map blocked: key of 8 bytes; the map's keys have 4".into()
            )
        );
        assert_eq!(
            reason(check(&t, Op::Update, &op("blocked", 4, 2))),
            (EINVAL, "map blocked: value of 2 bytes; 1 expected".into())
        );
        let mut bad_flags = op("blocked", 4, 1);
        bad_flags.flags = 3;
        assert!(reason(check(&t, Op::Update, &bad_flags))
            .1
            .contains("flags 0x3"));
        bad_flags.flags = NOEXIST;
        assert!(check(&t, Op::Update, &bad_flags).is_ok());
        assert_eq!(reason(check(&t, Op::Lookup, &bad_flags)).0, EINVAL);
        let mut cpu = op("blocked", 4, 1);
        cpu.cpu = 0;
        assert!(reason(check(&t, Op::Lookup, &cpu))
            .1
            .contains("one value per key"));
        assert!(reason(check(&t, Op::Delete, &op("counts", 4, 0)))
            .1
            .contains("always exist"));
        assert!(reason(check(&t, Op::Delete, &op("blocked", 4, 1)))
            .1
            .contains("takes no value"));
        assert!(check(&t, Op::Delete, &op("blocked", 4, 0)).is_ok());
        assert!(reason(check(&t, Op::Lookup, &op("events", 0, 64)))
            .1
            .contains("events ring"));
    }

    #[test]
    fn per_cpu_values() {
        let t = table();
        let n = services::nr_cpu_ids();
        let all = check(&t, Op::Lookup, &op("per_cpu", 4, 8 * n)).unwrap();
        assert_eq!(all.value_len, 8 * n);
        assert!(matches!(all.slot, Slot::All));
        let (errno, msg) = reason(check(&t, Op::Lookup, &op("per_cpu", 4, 8)));
        assert_eq!(errno, EINVAL);
        assert!(
            msg.contains(&format!("8 bytes for each of {n} CPU ids")),
            "{msg}"
        );
        let mut one = op("per_cpu", 4, 8);
        one.cpu = 0;
        assert!(matches!(
            check(&t, Op::Update, &one).map(|c| c.slot),
            Ok(Slot::Cpu(0))
        ));
        one.cpu = n;
        assert!(reason(check(&t, Op::Update, &one))
            .1
            .contains("not a possible CPU"));
    }

    #[test]
    fn run_checks_the_buffers() {
        let t = table();
        let req = op("blocked", 4, 1);
        let (errno, msg) = reason(run(&t, Op::Lookup, &req, &[0; 3], &mut [0; 1]));
        assert_eq!(errno, EINVAL);
        assert!(msg.contains("buffers of 3 and 1 bytes"), "{msg}");
        // The map's own answer comes back as an errno and a reason.
        let r = run(&t, Op::Lookup, &req, &[0; 4], &mut [0; 1]);
        assert!(r.unwrap_err().msg.starts_with("map blocked: "));
    }

    #[test]
    fn map_errors_are_named() {
        let t = table();
        let m = t.by_name("blocked").unwrap();
        let e = map_error(m, Op::Update, NOEXIST, MapError(EEXIST));
        assert_eq!(e.errno, EEXIST);
        assert_eq!(
            e.msg,
            "map blocked: the key exists (the update asked for a new one)"
        );
        assert_eq!(
            map_error(m, Op::Lookup, 0, MapError(ENOENT)).msg,
            "map blocked: no such key"
        );
        assert!(map_error(m, Op::Update, 0, MapError(ENOSPC))
            .msg
            .contains("full"));
        let a = t.by_name("counts").unwrap();
        assert!(map_error(a, Op::Lookup, 0, MapError(ENOENT))
            .msg
            .contains("not below max_entries"));
    }

    #[test]
    fn info_and_dump_layout() {
        let t = table();
        let mut i = kwasm_map_info::default();
        info(t.by_name("counts").unwrap(), &mut i);
        assert_eq!(
            (i.kind, i.key_size, i.value_size, i.max_entries),
            (1, 4, 16, 8)
        );
        assert_eq!((i.ncpus, i.entries), (1, 8));
        assert_eq!(
            i.name[..7].iter().map(|&c| c as u8).collect::<Vec<_>>(),
            b"counts\0"
        );
        assert_eq!(record_len(t.by_name("blocked").unwrap()), 16);
        assert_eq!(record_len(t.by_name("counts").unwrap()), 24);
        let n = u64::from(services::nr_cpu_ids());
        assert_eq!(record_len(t.by_name("per_cpu").unwrap()), 8 + 8 * n);

        let mut req = kwasm_map_dump {
            buf_len: 8,
            ..Default::default()
        };
        set_text(&mut req.name, "blocked");
        let (errno, msg) = reason(check_dump(&t, &req));
        assert_eq!(errno, EINVAL);
        assert_eq!(msg, "map blocked: a buffer of 8 bytes; a record takes 16");
        req.buf_len = 64;
        let mut buf = [0xffu8; 64];
        dump(&t, &mut req, &mut buf).unwrap();
        assert_eq!(req.count, 0);
        assert_eq!(req.cursor, DUMP_END);
        // At the end already: nothing more.
        dump(&t, &mut req, &mut buf).unwrap();
        assert_eq!((req.count, req.cursor), (0, DUMP_END));
        set_text(&mut req.name, "events");
        assert_eq!(reason(check_dump(&t, &req)).0, EINVAL);
    }
}
