//! The `kwasm.maps` custom section: a program's map declarations, one
//! 256-byte `struct kwasm_map_decl` each (include/uapi/kwasm.h, docs/ABI.md
//! "Maps (declarations)"), checked entry by entry, and the memory each map
//! will take, computed from the declaration before anything is allocated.
//!
//! Every refusal is `EINVAL`, or `E2BIG` for a value over a limit, with a
//! reason starting `map <name>:`, `kwasm.maps entry <n>:` while the name
//! cannot be trusted yet (bad version or name), or `custom section
//! kwasm.maps` for the section as a whole.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::mem::{offset_of, size_of};

use super::{fmt, storage};
use crate::abi::{self as k, kwasm_map_decl as D, Error, E2BIG, EINVAL, ENOMEM};

/// The custom section's name (KWASM_MAPS_SECTION).
pub const SECTION: &str = "kwasm.maps";
/// Bytes of one entry.
pub const ENTRY_LEN: usize = k::KWASM_MAP_DECL_LEN as usize;
const _: () = assert!(size_of::<D>() == ENTRY_LEN);

/// Maps of one program.
pub const MAX_MAPS: usize = k::KWASM_LIMIT_MAPS as usize;
/// Map ids are below this.
pub const MAP_IDS: u32 = k::KWASM_MAP_IDS;
pub const MAX_KEY: u32 = k::KWASM_LIMIT_MAP_KEY;
pub const MAX_VALUE: u32 = k::KWASM_LIMIT_MAP_VALUE;
pub const MAX_ENTRIES: u32 = k::KWASM_LIMIT_MAP_ENTRIES;
/// Bytes of an events ring: a power of two in this range.
pub const MIN_RING: u32 = k::KWASM_EVENTS_MIN_SIZE;
pub const MAX_RING: u32 = k::KWASM_LIMIT_EVENTS_SIZE;
/// Bytes all maps of a program may take.
pub const MAX_MEMORY: u64 = k::KWASM_LIMIT_MAP_MEMORY as u64;

/// What a map is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Array,
    PercpuArray,
    Hash,
    Events,
}

impl Kind {
    fn from_number(kind: u8) -> Option<Self> {
        match u32::from(kind) {
            k::KWASM_MAP_KIND_ARRAY => Some(Self::Array),
            k::KWASM_MAP_KIND_PERCPU_ARRAY => Some(Self::PercpuArray),
            k::KWASM_MAP_KIND_HASH => Some(Self::Hash),
            k::KWASM_MAP_KIND_EVENTS => Some(Self::Events),
            _ => None,
        }
    }

    /// KWASM_MAP_KIND_*.
    pub fn number(self) -> u8 {
        (match self {
            Self::Array => k::KWASM_MAP_KIND_ARRAY,
            Self::PercpuArray => k::KWASM_MAP_KIND_PERCPU_ARRAY,
            Self::Hash => k::KWASM_MAP_KIND_HASH,
            Self::Events => k::KWASM_MAP_KIND_EVENTS,
        }) as u8
    }

    /// As `/proc/kwasm` and kwasmctl name it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Array => "array",
            Self::PercpuArray => "percpu_array",
            Self::Hash => "hash",
            Self::Events => "events",
        }
    }
}

/// One checked declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapDecl {
    pub id: u32,
    pub kind: Kind,
    pub key_size: u32,
    pub value_size: u32,
    /// Entries; for an events ring, its size in bytes.
    pub max_entries: u32,
    pub name: String,
    pub key_fmt: String,
    pub value_fmt: String,
    /// Bytes the map's storage takes ([`memory`]).
    pub memory: u64,
}

/// What the memory figures assume besides the storage regions
/// ([`super::storage`]), of what later code lays out (docs/ABI.md, "Map
/// memory").
pub mod cost {
    /// The map's own structure: counters, name, formats, the handles of
    /// its allocations.
    pub const MAP: u64 = 512;
    /// One lock stripe: a `spinlock_t` with room for lockdep and RT.
    pub const LOCK: u64 = 64;
    /// Lock stripes of a map, at most.
    pub const MAX_STRIPES: u64 = 256;
    /// An events ring besides its bytes: positions, producer lock, waker.
    pub const RING: u64 = 256;
}

/// Lock stripes of a map of `entries`: a power of two, at most
/// [`cost::MAX_STRIPES`].
pub fn stripes(entries: u32) -> u64 {
    u64::from(entries)
        .next_power_of_two()
        .min(cost::MAX_STRIPES)
}

/// Bytes a map of `kind` with these sizes takes on a machine of
/// `possible_cpus`: its storage regions ([`storage::regions`]), lock
/// stripes for an array or a hash map (a per-CPU array needs none), the
/// fixed costs of [`cost`]. Saturates rather than overflows (and is then
/// over the limit).
pub fn memory(kind: Kind, key: u32, value: u32, max: u32, possible_cpus: u32) -> u64 {
    let regions = storage::bytes(&storage::regions(kind, key, value, max, possible_cpus));
    let extra = match kind {
        Kind::Array | Kind::Hash => stripes(max) * cost::LOCK,
        Kind::PercpuArray => 0,
        Kind::Events => cost::RING,
    };
    regions.saturating_add(extra).saturating_add(cost::MAP)
}

/// Reads the little-endian fields of one entry.
struct Entry<'a>(&'a [u8; ENTRY_LEN]);

impl Entry<'_> {
    fn bytes<const N: usize>(&self, at: usize) -> [u8; N] {
        self.0
            .get(at..)
            .and_then(|b| b.first_chunk::<N>())
            .copied()
            .unwrap_or([0; N])
    }

    fn u8(&self, at: usize) -> u8 {
        self.0.get(at).copied().unwrap_or(0)
    }

    fn u16(&self, at: usize) -> u16 {
        u16::from_le_bytes(self.bytes(at))
    }

    fn u32(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.bytes(at))
    }

    fn text(&self, at: usize, len: usize) -> &[u8] {
        self.0.get(at..at + len).unwrap_or(&[])
    }
}

/// The text of a NUL-padded field: `None` when there is no NUL or a byte
/// after it is not zero, or the text is not ASCII.
fn padded_text(field: &[u8]) -> Option<&str> {
    let end = field.iter().position(|&b| b == 0)?;
    let (text, pad) = field.split_at(end);
    if pad.iter().any(|&b| b != 0) || !text.is_ascii() {
        return None;
    }
    core::str::from_utf8(text).ok()
}

/// A map name: `[A-Za-z0-9_]{1,31}`, NUL-padded.
fn name_of(field: &[u8]) -> Option<&str> {
    let name = padded_text(field)?;
    let ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then_some(name)
}

fn err(errno: i32, name: &str, msg: core::fmt::Arguments) -> Error {
    Error::new(errno, format!("map {name}: {msg}"))
}

/// Parses and checks the `kwasm.maps` section of a program run on
/// `possible_cpus` CPUs: the declarations in section order.
pub fn parse(section: &[u8], possible_cpus: u32) -> Result<Vec<MapDecl>, Error> {
    if !section.len().is_multiple_of(ENTRY_LEN) {
        return Err(Error::new(
            EINVAL,
            format!(
                "custom section {SECTION}: its {} bytes are not a whole number of \
                 {ENTRY_LEN}-byte entries",
                section.len()
            ),
        ));
    }
    let count = section.len() / ENTRY_LEN;
    if count > MAX_MAPS {
        return Err(Error::new(
            E2BIG,
            format!("custom section {SECTION} declares {count} maps; the limit is {MAX_MAPS}"),
        ));
    }
    let mut decls: Vec<MapDecl> = Vec::new();
    decls
        .try_reserve_exact(count)
        .map_err(|_| Error::new(ENOMEM, "no memory for the map declarations".into()))?;
    let mut total: u64 = 0;
    for (n, chunk) in section.chunks_exact(ENTRY_LEN).enumerate() {
        let Some(entry) = chunk.first_chunk::<ENTRY_LEN>() else {
            break;
        };
        let decl = parse_entry(n, &Entry(entry), possible_cpus)?;
        check_against(&decl, n, &decls)?;
        total = total.saturating_add(decl.memory);
        if total > MAX_MEMORY {
            return Err(err(
                E2BIG,
                &decl.name,
                format_args!(
                    "its {} bytes bring the program's maps to {total} bytes; the limit is \
                     {MAX_MEMORY}",
                    decl.memory
                ),
            ));
        }
        decls.push(decl);
    }
    Ok(decls)
}

/// Bytes all of `decls` take.
pub fn total_memory(decls: &[MapDecl]) -> u64 {
    decls.iter().map(|d| d.memory).fold(0, u64::saturating_add)
}

/// One entry on its own.
fn parse_entry(n: usize, e: &Entry, possible_cpus: u32) -> Result<MapDecl, Error> {
    let version = e.u8(offset_of!(D, version));
    if u32::from(version) != k::KWASM_MAP_DECL_V1 {
        return Err(Error::new(
            EINVAL,
            format!(
                "{SECTION} entry {n}: version {version} is not supported ({})",
                k::KWASM_MAP_DECL_V1
            ),
        ));
    }
    let name_field = e.text(offset_of!(D, name), k::KWASM_MAP_NAME_LEN as usize);
    let Some(name) = name_of(name_field) else {
        let shown = name_field.split(|&b| b == 0).next().unwrap_or(&[]);
        return Err(Error::new(
            EINVAL,
            format!(
                "{SECTION} entry {n}: name \"{}\" is not 1 to {} characters of [A-Za-z0-9_], \
                 NUL-padded",
                shown.escape_ascii(),
                k::KWASM_MAP_NAME_LEN - 1
            ),
        ));
    };
    let fail = |errno, msg: core::fmt::Arguments| Err(err(errno, name, msg));

    let kind_number = e.u8(offset_of!(D, kind));
    let Some(kind) = Kind::from_number(kind_number) else {
        return fail(
            EINVAL,
            format_args!("unknown kind {kind_number} (1 array, 2 percpu_array, 3 hash, 4 events)"),
        );
    };
    let flags = e.u16(offset_of!(D, flags));
    if flags != 0 {
        return fail(
            EINVAL,
            format_args!("flags {flags:#x} are not defined (version 1 has none)"),
        );
    }
    let reserved = e.u32(offset_of!(D, reserved));
    if reserved != 0 {
        return fail(
            EINVAL,
            format_args!("reserved field is {reserved:#x}, not 0"),
        );
    }
    let id = e.u32(offset_of!(D, id));
    if id >= MAP_IDS {
        return fail(EINVAL, format_args!("id {id} is not below {MAP_IDS}"));
    }

    let key_size = e.u32(offset_of!(D, key_size));
    match kind {
        Kind::Array | Kind::PercpuArray if key_size != 4 => {
            return fail(
                EINVAL,
                format_args!("key size {key_size}; an array's key is a 4-byte index"),
            );
        }
        Kind::Hash if key_size == 0 => {
            return fail(
                EINVAL,
                format_args!("key size 0; a hash key is 1 to {MAX_KEY} bytes"),
            );
        }
        Kind::Hash if key_size > MAX_KEY => {
            return fail(
                E2BIG,
                format_args!("key size {key_size} bytes; the limit is {MAX_KEY}"),
            );
        }
        Kind::Events if key_size != 0 => {
            return fail(
                EINVAL,
                format_args!("key size {key_size}; an events ring has no key (0)"),
            );
        }
        _ => {}
    }

    let value_size = e.u32(offset_of!(D, value_size));
    // An events ring's "value" is its largest record.
    let value = if kind == Kind::Events {
        "record"
    } else {
        "value"
    };
    if value_size == 0 {
        return fail(
            EINVAL,
            format_args!("{value} size 0; it is 1 to {MAX_VALUE} bytes"),
        );
    }
    if value_size > MAX_VALUE {
        return fail(
            E2BIG,
            format_args!("{value} size {value_size} bytes; the limit is {MAX_VALUE}"),
        );
    }

    let max_entries = e.u32(offset_of!(D, max_entries));
    if kind == Kind::Events {
        if max_entries > MAX_RING {
            return fail(
                E2BIG,
                format_args!("ring of {max_entries} bytes; the limit is {MAX_RING}"),
            );
        }
        if max_entries < MIN_RING || !max_entries.is_power_of_two() {
            return fail(
                EINVAL,
                format_args!(
                    "ring of {max_entries} bytes: its size is a power of two from {MIN_RING} \
                     to {MAX_RING}"
                ),
            );
        }
        let record = u64::from(k::KWASM_EVENT_HEADER_LEN) + u64::from(value_size).div_ceil(8) * 8;
        if record > u64::from(max_entries) {
            return fail(
                EINVAL,
                format_args!(
                    "a record of {value_size} bytes takes {record} with its header, more \
                     than the ring of {max_entries} bytes"
                ),
            );
        }
    } else {
        if max_entries == 0 {
            return fail(
                EINVAL,
                format_args!("0 entries; a map has 1 to {MAX_ENTRIES}"),
            );
        }
        if max_entries > MAX_ENTRIES {
            return fail(
                E2BIG,
                format_args!("{max_entries} entries; the limit is {MAX_ENTRIES}"),
            );
        }
    }

    let key_fmt = format_of(
        e,
        name,
        "key",
        offset_of!(D, key_fmt),
        k::KWASM_MAP_KEY_FMT_LEN,
    )?;
    let value_fmt = format_of(
        e,
        name,
        value,
        offset_of!(D, value_fmt),
        k::KWASM_MAP_VALUE_FMT_LEN,
    )?;
    fmt::check(key_fmt, key_size).map_err(|why| {
        err(
            EINVAL,
            name,
            format_args!("key format {}: {why}", fmt::quote(key_fmt)),
        )
    })?;
    fmt::check(value_fmt, value_size).map_err(|why| {
        err(
            EINVAL,
            name,
            format_args!("{value} format {}: {why}", fmt::quote(value_fmt)),
        )
    })?;

    Ok(MapDecl {
        key_fmt: key_fmt.into(),
        value_fmt: value_fmt.into(),
        ..MapDecl::new(
            id,
            name,
            kind,
            (key_size, value_size, max_entries),
            possible_cpus,
        )
    })
}

/// A format field's text: NUL-padded ASCII.
fn format_of<'e>(
    e: &'e Entry,
    name: &str,
    what: &str,
    at: usize,
    len: u32,
) -> Result<&'e str, Error> {
    padded_text(e.text(at, len as usize)).ok_or_else(|| {
        err(
            EINVAL,
            name,
            format_args!(
                "{what} format is not ASCII text of at most {} bytes, NUL-padded",
                len - 1
            ),
        )
    })
}

/// What an entry may not share with those before it: name, id, being the
/// events ring.
fn check_against(decl: &MapDecl, n: usize, before: &[MapDecl]) -> Result<(), Error> {
    let name = &decl.name;
    if let Some(i) = before.iter().position(|d| d.name == decl.name) {
        return Err(err(
            EINVAL,
            name,
            format_args!("declared twice (entries {i} and {n})"),
        ));
    }
    if let Some(other) = before.iter().find(|d| d.id == decl.id) {
        return Err(err(
            EINVAL,
            name,
            format_args!("id {} is map {}'s too", decl.id, other.name),
        ));
    }
    if decl.kind == Kind::Events {
        if let Some(ring) = before.iter().find(|d| d.kind == Kind::Events) {
            return Err(err(
                EINVAL,
                name,
                format_args!(
                    "a second events ring (map {} is one); a program has at most one",
                    ring.name
                ),
            ));
        }
    }
    Ok(())
}

impl MapDecl {
    /// A declaration of `kind` with `(key_size, value_size, max_entries)`,
    /// shown in hex (no formats), its memory figured for `possible_cpus`.
    pub fn new(
        id: u32,
        name: &str,
        kind: Kind,
        (key_size, value_size, max_entries): (u32, u32, u32),
        possible_cpus: u32,
    ) -> Self {
        Self {
            id,
            kind,
            key_size,
            value_size,
            max_entries,
            name: name.into(),
            key_fmt: String::new(),
            value_fmt: String::new(),
            memory: memory(kind, key_size, value_size, max_entries, possible_cpus),
        }
    }

    /// The entry this declaration was read from (fields in the layout of
    /// `struct kwasm_map_decl`, little-endian, text NUL-padded).
    pub fn encode(&self) -> [u8; ENTRY_LEN] {
        let mut out = [0u8; ENTRY_LEN];
        let mut put = |at: usize, bytes: &[u8]| {
            if let Some(dst) = out.get_mut(at..at + bytes.len()) {
                dst.copy_from_slice(bytes);
            }
        };
        put(offset_of!(D, version), &[k::KWASM_MAP_DECL_V1 as u8]);
        put(offset_of!(D, kind), &[self.kind.number()]);
        put(offset_of!(D, id), &self.id.to_le_bytes());
        put(offset_of!(D, key_size), &self.key_size.to_le_bytes());
        put(offset_of!(D, value_size), &self.value_size.to_le_bytes());
        put(offset_of!(D, max_entries), &self.max_entries.to_le_bytes());
        put(offset_of!(D, name), self.name.as_bytes());
        put(offset_of!(D, key_fmt), self.key_fmt.as_bytes());
        put(offset_of!(D, value_fmt), self.value_fmt.as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_name_is_the_uapi_one() {
        assert_eq!(
            k::KWASM_MAPS_SECTION.strip_suffix(b"\0"),
            Some(SECTION.as_bytes())
        );
    }

    #[test]
    fn layout_is_the_designs() {
        assert_eq!(offset_of!(D, flags), 2);
        assert_eq!(offset_of!(D, id), 4);
        assert_eq!(offset_of!(D, max_entries), 16);
        assert_eq!(offset_of!(D, reserved), 20);
        assert_eq!(offset_of!(D, name), 24);
        assert_eq!(offset_of!(D, key_fmt), 56);
        assert_eq!(offset_of!(D, value_fmt), 128);
    }

    #[test]
    fn memory_figures() {
        // 1024 elements of 8 + 8 bytes, 256 stripes.
        assert_eq!(
            memory(Kind::Array, 4, 8, 1024, 4),
            1024 * 16 + 256 * cost::LOCK + cost::MAP
        );
        // Per CPU: 3 regions of 10 elements of 8 + 16 bytes.
        assert_eq!(
            memory(Kind::PercpuArray, 4, 9, 10, 3),
            3 * 10 * 24 + cost::MAP
        );
        // 1000 entries of 3 + 1 + 1 words, 1024 buckets, 256 stripes.
        assert_eq!(
            memory(Kind::Hash, 4, 1, 1000, 4),
            1000 * 40 + 1024 * 4 + 256 * cost::LOCK + cost::MAP
        );
        assert_eq!(
            memory(Kind::Hash, 4, 1, 3, 4),
            3 * 40 + 4 * 4 + 4 * cost::LOCK + cost::MAP
        );
        assert_eq!(
            memory(Kind::Events, 0, 64, 65536, 4),
            65536 + cost::RING + cost::MAP
        );
        let big = memory(Kind::PercpuArray, 4, MAX_VALUE, MAX_ENTRIES, u32::MAX);
        assert!(big > MAX_MEMORY);
    }
}
