//! Maps: state a program keeps across packets and shares with user space
//! (docs/ABI.md, "Maps (declarations)"): the declarations of the
//! `kwasm.maps` custom section parsed and checked ([`decl`]), the display
//! formats of keys and values ([`fmt`]), each map's storage allocated
//! empty at load ([`storage`]), and the operations of the kinds: [`array`],
//! [`percpu`] (per-CPU arrays) and [`hash`], on values kept untorn by the
//! sequence counts of [`seq`], and the events ring ([`ring`]), whose
//! records programs write and one reader in user space reads; the map
//! operations on a ring are `EINVAL`. Knows neither WebAssembly nor packets: the
//! filter hands it the section's bytes and the number of possible CPUs.
//!
//! Who touches what from which context: docs/ARCHITECTURE.md, "Maps: who
//! touches what from which context". User-space requests (the map ioctls)
//! are checked against the declarations in [`user`]. No operation allocates,
//! none panics:
//! everything is allocated at load, storage is reached by checked indices.

pub mod array;
pub mod decl;
pub mod fmt;
pub mod hash;
pub mod percpu;
pub mod ring;
pub mod seq;
pub mod storage;
pub mod table;
pub mod user;

pub use table::Table;

use alloc::format;
use alloc::vec::Vec;

use crate::abi::{self as k, Error};
use crate::ffi::services::Locks;
use decl::{Kind, MapDecl};
use storage::Storage;

/// Errors of data conditions: the positive errno (`crate::abi::ENOENT`,
/// ...), returned negated to programs and to ioctls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapError(pub i32);

pub(crate) const E_NOENT: MapError = MapError(k::ENOENT);
pub(crate) const E_EXIST: MapError = MapError(k::EEXIST);
pub(crate) const E_NOSPC: MapError = MapError(k::ENOSPC);
pub(crate) const E_BUSY: MapError = MapError(k::EBUSY);
pub(crate) const E_INVAL: MapError = MapError(k::EINVAL);

/// Update flags (`KWASM_MAP_*`): create or replace, create only, replace
/// only.
pub const ANY: u32 = k::KWASM_MAP_ANY;
pub const NOEXIST: u32 = k::KWASM_MAP_NOEXIST;
pub const EXIST: u32 = k::KWASM_MAP_EXIST;

/// Which value slot of a per-CPU map: a program's calls pass their own CPU
/// (`Own`); user space one CPU or all. Other kinds ignore it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The CPU a program's run holds (bottom halves off, pinned): its slot
    /// is the caller's to write, with no check.
    Own(u32),
    /// One CPU, which the caller may or may not be running on.
    Cpu(u32),
    All,
}

fn check_flags(flags: u32) -> Result<(), MapError> {
    match flags {
        ANY | NOEXIST | EXIST => Ok(()),
        _ => Err(E_INVAL),
    }
}

/// 8-byte words holding `bytes`.
fn words_of(bytes: u32) -> usize {
    bytes.div_ceil(8) as usize
}

/// Copies as many bytes as both have (never panics on a length mismatch).
fn copy(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// A kind's operations and state besides the storage.
enum Ops {
    Array(array::Array),
    Percpu(percpu::PercpuArray),
    Hash(hash::Hash),
    Events(ring::Producer),
}

/// A declared map and its storage.
pub struct Map {
    pub decl: MapDecl,
    pub storage: Storage,
    ops: Ops,
}

/// The maps of `decls`, each allocated empty for `possible_cpus`; `ENOMEM`
/// naming the first that cannot be had (the others are freed).
pub fn allocate(decls: Vec<MapDecl>, possible_cpus: u32) -> Result<Vec<Map>, Error> {
    let mut maps = Vec::new();
    maps.try_reserve_exact(decls.len())
        .map_err(|_| Error::new(k::ENOMEM, "no memory for the map table".into()))?;
    for decl in decls {
        maps.push(Map::new(decl, possible_cpus)?);
    }
    Ok(maps)
}

impl Map {
    /// A map of `decl` allocated empty for `possible_cpus` (its storage,
    /// locks, hash key, CPU table); `ENOMEM` naming it when memory is short.
    /// Process context.
    pub fn new(decl: MapDecl, possible_cpus: u32) -> Result<Self, Error> {
        let mut storage = Storage::new(&decl, possible_cpus)?;
        let no_memory = |what: &str| {
            Error::new(
                k::ENOMEM,
                format!("map {}: no memory for its {what}", decl.name),
            )
        };
        let locks =
            || Locks::new(decl::stripes(decl.max_entries) as u32).ok_or_else(|| no_memory("locks"));
        let ops = match decl.kind {
            Kind::Array => Ops::Array(array::Array::new(
                locks()?,
                decl.max_entries,
                decl.value_size,
            )),
            Kind::PercpuArray => Ops::Percpu(
                percpu::PercpuArray::new(
                    decl.max_entries,
                    decl.value_size,
                    storage.regions().len(),
                )
                .ok_or_else(|| no_memory("CPU table"))?,
            ),
            Kind::Hash => Ops::Hash(hash::Hash::new(
                locks()?,
                decl.max_entries,
                decl.key_size,
                decl.value_size,
                storage.regions(),
            )),
            // The ring keeps its words itself: it may outlive the map
            // while its reader reads on.
            Kind::Events => Ops::Events(
                ring::Producer::new(storage.take(), decl.value_size)
                    .ok_or_else(|| no_memory("ring's lock or waker"))?,
            ),
        };
        Ok(Self { decl, storage, ops })
    }

    /// The events ring, when this map is one.
    pub fn ring(&self) -> Option<&alloc::sync::Arc<ring::Ring>> {
        match &self.ops {
            Ops::Events(p) => Some(p.ring()),
            _ => None,
        }
    }

    /// Value slots per key: CPU ids (nr_cpu_ids) for a per-CPU array, else 1.
    pub fn ncpus(&self) -> u32 {
        match &self.ops {
            Ops::Percpu(p) => p.ncpus(),
            _ => 1,
        }
    }

    /// Bytes of a value buffer for `slot`.
    fn value_len(&self, slot: Slot) -> Option<usize> {
        let one = self.decl.value_size as usize;
        match (&self.ops, slot) {
            (Ops::Percpu(p), Slot::All) => one.checked_mul(p.ncpus() as usize),
            _ => Some(one),
        }
    }

    fn check(&self, slot: Slot, key: &[u8], value: Option<usize>) -> Result<(), MapError> {
        if key.len() != self.decl.key_size as usize {
            return Err(E_INVAL);
        }
        match value {
            Some(len) if Some(len) != self.value_len(slot) => Err(E_INVAL),
            _ => Ok(()),
        }
    }

    /// Copies the value of `key` into `value`. Key and value lengths are
    /// the declared ones (`Slot::All` of a per-CPU array: `ncpus()` values,
    /// impossible CPUs read as zero), else `EINVAL`. `ENOENT`: no such key,
    /// or an index past the end.
    pub fn lookup(&self, slot: Slot, key: &[u8], value: &mut [u8]) -> Result<(), MapError> {
        self.check(slot, key, Some(value.len()))?;
        let regions = self.storage.regions();
        match &self.ops {
            Ops::Array(a) => a.lookup(regions.first().ok_or(E_INVAL)?, key, value),
            Ops::Percpu(p) => p.lookup(regions, slot, key, value),
            Ops::Hash(h) => h.lookup(regions, key, value),
            Ops::Events(_) => Err(E_INVAL),
        }
    }

    /// Sets the value of `key` (`Slot::All` of a per-CPU array: one value
    /// per CPU id). `flags`: [`ANY`], [`NOEXIST`] (`EEXIST` when present;
    /// always for an array), [`EXIST`] (`ENOENT` when absent); others
    /// `EINVAL`. A full hash map: `ENOSPC`. `EBUSY`: a lock cannot be
    /// waited for here (hard-IRQ context).
    pub fn update(&self, slot: Slot, key: &[u8], value: &[u8], flags: u32) -> Result<(), MapError> {
        self.check(slot, key, Some(value.len()))?;
        let regions = self.storage.regions();
        match &self.ops {
            Ops::Array(a) => a.update(regions.first().ok_or(E_INVAL)?, key, value, flags),
            Ops::Percpu(p) => p.update(regions, slot, key, value, flags),
            Ops::Hash(h) => h.update(regions, key, value, flags),
            Ops::Events(_) => Err(E_INVAL),
        }
    }

    /// Removes `key` from a hash map (`ENOENT` when absent); `EINVAL` for
    /// the other kinds.
    pub fn delete(&self, key: &[u8]) -> Result<(), MapError> {
        self.check(Slot::All, key, None)?;
        match &self.ops {
            Ops::Hash(h) => h.delete(self.storage.regions(), key),
            _ => Err(E_INVAL),
        }
    }

    /// Adds `delta` to the u64 at byte `offset` of the value of `key`
    /// (`offset % 8 == 0` and `offset + 8 <= value_size`, else `EINVAL`). A
    /// hash map inserts an absent key zeroed first (`ENOSPC` when full); a
    /// per-CPU array needs one CPU (`Slot::All`: `EINVAL`).
    pub fn add(&self, slot: Slot, key: &[u8], offset: u32, delta: i64) -> Result<(), MapError> {
        self.check(slot, key, None)?;
        if !offset.is_multiple_of(8)
            || offset
                .checked_add(8)
                .is_none_or(|end| end > self.decl.value_size)
        {
            return Err(E_INVAL);
        }
        let word = (offset / 8) as usize;
        let regions = self.storage.regions();
        match &self.ops {
            Ops::Array(a) => a.add(regions.first().ok_or(E_INVAL)?, key, word, delta),
            Ops::Percpu(p) => p.add(regions, slot, key, word, delta),
            Ops::Hash(h) => h.add(regions, key, word, delta),
            Ops::Events(_) => Err(E_INVAL),
        }
    }

    /// Dump cursor: an entry index. The next present entry at or after
    /// `cursor`, its key and value copied out (per-CPU: all CPUs, as
    /// `lookup(Slot::All)`), and the cursor to go on from; `None` at the
    /// end, or when the buffers are not of the declared lengths. Entries
    /// are consistent; the map is no snapshot.
    pub fn next(&self, cursor: u64, key: &mut [u8], value: &mut [u8]) -> Option<u64> {
        self.check(Slot::All, key, Some(value.len())).ok()?;
        match &self.ops {
            // Every index below max_entries is an element: the cursor is
            // the index, the key its bytes.
            Ops::Array(_) | Ops::Percpu(_) => {
                let index = u32::try_from(cursor)
                    .ok()
                    .filter(|&i| i < self.decl.max_entries)?;
                copy(key, &index.to_le_bytes());
                self.lookup(Slot::All, key, value).ok()?;
                Some(cursor + 1)
            }
            Ops::Hash(h) => h.next(self.storage.regions(), cursor, key, value),
            Ops::Events(_) => None,
        }
    }

    /// Present entries: a hash map's keys, an array's `max_entries`.
    pub fn entries(&self) -> u64 {
        match &self.ops {
            Ops::Array(_) | Ops::Percpu(_) => self.decl.max_entries.into(),
            Ops::Hash(h) => h.entries(),
            Ops::Events(_) => 0,
        }
    }

    /// Inserts refused with `ENOSPC` (a full hash map).
    pub fn full(&self) -> u64 {
        match &self.ops {
            Ops::Hash(h) => h.full(),
            _ => 0,
        }
    }
}
