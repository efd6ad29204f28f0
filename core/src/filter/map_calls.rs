//! The map host functions (docs/ABI.md, "Map host functions"): a
//! program's calls on its declared maps, checked against the declarations
//! and charged in fuel before the map is touched.
//!
//! A call that cannot be right whatever the data traps (`host`): outside a
//! packet run (start function, allocator), an id nothing declares, the
//! events ring named as a map, a length other than the declared one, a
//! pointer outside linear memory, an unknown flag, `map_delete` on an
//! array, a counter offset not inside the value or not 8-aligned. A call
//! the data decides returns 0 or a negative errno (`-ENOENT`, `-EEXIST`,
//! `-ENOSPC`, `-EBUSY`).
//!
//! `event_output` writes a record to the program's events ring: it traps
//! outside a packet run, without a declared ring, for a length of 0 or
//! over the declared record size, or a range outside linear memory; a full
//! ring is `-ENOSPC` (counted, the record dropped).

use super::hostfns::FilterCtx;
use crate::engine::host::{self, HostTrap};
use crate::maps::decl::{Kind, MAX_KEY};
use crate::maps::{self, Map, MapError, Slot};

type Call<'a> = host::Call<'a, FilterCtx>;
type Result<T> = core::result::Result<T, HostTrap>;

/// Fuel of each call, besides the `call` operator the program pays for:
/// a base, one unit per 16 bytes copied, and more for the hash kinds
/// (SipHash of the key, chain steps). docs/ABI.md, "Fuel".
pub mod cost {
    pub const LOOKUP: u64 = 8;
    pub const DELETE: u64 = 8;
    pub const UPDATE: u64 = 12;
    pub const ADD: u64 = 12;
    pub const HASH: u64 = 4;
    pub const EVENT: u64 = 12;
    pub const BYTES_PER_UNIT: u64 = 16;
}

/// What a call on `map` moving `bytes` costs.
pub fn charge(base: u64, map: &Map, bytes: u32) -> u64 {
    let hash = if map.decl.kind == Kind::Hash {
        cost::HASH
    } else {
        0
    };
    base + hash + u64::from(bytes).div_ceil(cost::BYTES_PER_UNIT)
}

/// The map `id` names, if the call is made during a packet run and the id
/// declares a map (not the events ring); otherwise a trap.
fn map(ctx: &FilterCtx, id: u32) -> Result<&Map> {
    match ctx.maps().and_then(|maps| maps.by_id(id)) {
        Some(map) if map.decl.kind != Kind::Events => Ok(map),
        _ => Err(HostTrap),
    }
}

/// The key at `ptr`, copied out of linear memory (it has the declared
/// length, at most `MAX_KEY`), so that the value can be borrowed next.
fn key(c: &mut Call<'_>, map: &Map, ptr: u32, len: u32) -> Result<([u8; MAX_KEY as usize], usize)> {
    if len != map.decl.key_size {
        return Err(HostTrap);
    }
    let mut key = [0u8; MAX_KEY as usize];
    let src = c.memory(ptr, len)?;
    let dst = key.get_mut(..src.len()).ok_or(HostTrap)?;
    dst.copy_from_slice(src);
    Ok((key, src.len()))
}

fn result(r: core::result::Result<(), MapError>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(MapError(errno)) => -errno,
    }
}

/// `map_lookup(map, key, key_len, value, value_len) -> i32`: copies the
/// value into linear memory; `-ENOENT` when the key is absent.
pub fn lookup(c: &mut Call<'_>) -> Result<i32> {
    let ctx = c.ctx;
    let map = map(ctx, c.arg(0))?;
    let (value_ptr, value_len) = (c.arg(3), c.arg(4));
    if value_len != map.decl.value_size {
        return Err(HostTrap);
    }
    c.charge(charge(cost::LOOKUP, map, map.decl.key_size + value_len))?;
    let (key, key_len) = key(c, map, c.arg(1), c.arg(2))?;
    let value = c.memory(value_ptr, value_len)?;
    let key = key.get(..key_len).ok_or(HostTrap)?;
    Ok(result(map.lookup(Slot::Own(ctx.cpu()), key, value)))
}

/// `map_update(map, key, key_len, value, value_len, flags) -> i32`.
pub fn update(c: &mut Call<'_>) -> Result<i32> {
    let ctx = c.ctx;
    let map = map(ctx, c.arg(0))?;
    let (value_ptr, value_len, flags) = (c.arg(3), c.arg(4), c.arg(5));
    if value_len != map.decl.value_size || flags > maps::EXIST {
        return Err(HostTrap);
    }
    c.charge(charge(cost::UPDATE, map, map.decl.key_size + value_len))?;
    let (key, key_len) = key(c, map, c.arg(1), c.arg(2))?;
    let value = c.memory(value_ptr, value_len)?;
    let key = key.get(..key_len).ok_or(HostTrap)?;
    Ok(result(map.update(Slot::Own(ctx.cpu()), key, value, flags)))
}

/// `map_delete(map, key, key_len) -> i32`: hash maps only; `-ENOENT` when
/// the key is absent.
pub fn delete(c: &mut Call<'_>) -> Result<i32> {
    let ctx = c.ctx;
    let map = map(ctx, c.arg(0))?;
    if map.decl.kind != Kind::Hash {
        return Err(HostTrap);
    }
    c.charge(charge(cost::DELETE, map, map.decl.key_size))?;
    let (key, key_len) = key(c, map, c.arg(1), c.arg(2))?;
    let key = key.get(..key_len).ok_or(HostTrap)?;
    Ok(result(map.delete(key)))
}

/// `map_add(map, key, key_len, offset, delta: i64) -> i32`: adds `delta`
/// to the u64 at byte `offset` of the value, atomically; a hash key that
/// is absent is inserted with a zeroed value first (`-ENOSPC` when full).
pub fn add(c: &mut Call<'_>) -> Result<i32> {
    let ctx = c.ctx;
    let map = map(ctx, c.arg(0))?;
    let (offset, delta) = (c.arg(3), c.arg_i64(4));
    let inside = offset
        .checked_add(8)
        .is_some_and(|end| end <= map.decl.value_size);
    if offset % 8 != 0 || !inside {
        return Err(HostTrap);
    }
    c.charge(charge(cost::ADD, map, map.decl.key_size + 8))?;
    let (key, key_len) = key(c, map, c.arg(1), c.arg(2))?;
    let key = key.get(..key_len).ok_or(HostTrap)?;
    Ok(result(map.add(Slot::Own(ctx.cpu()), key, offset, delta)))
}

/// `event_output(ptr, len) -> i32`: a record of the `len` bytes at `ptr`
/// into the program's events ring; 0, or `-ENOSPC` when it is full (the
/// record dropped and counted).
pub fn event_output(c: &mut Call<'_>) -> Result<i32> {
    let ctx = c.ctx;
    let ring = ctx.maps().and_then(|m| m.events()).ok_or(HostTrap)?;
    let (ptr, len) = (c.arg(0), c.arg(1));
    if len == 0 || len > ring.max_record() {
        return Err(HostTrap);
    }
    c.charge(cost::EVENT + u64::from(len).div_ceil(cost::BYTES_PER_UNIT))?;
    let data = c.memory(ptr, len)?;
    // Program ids come with issue 11: 0 until then.
    Ok(result(ring.output(ctx.cpu(), ctx.prog_id(), data)))
}
