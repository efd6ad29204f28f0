//! Where a map's contents will live: zeroed regions of 8-byte words
//! ([`Words`]), allocated at load from the declaration, and the layout
//! both the allocation and the memory figure ([`super::decl::memory`])
//! are computed from. What the words hold (sequence words, values, hash
//! entries, ring records) belongs to each kind's code.
//!
//! - array: one region of `max_entries` elements, each a sequence word and
//!   the value's words;
//! - percpu_array: that region once per possible CPU;
//! - hash: a region of bucket heads (u32 each, `max_entries` rounded up to
//!   a power of two) and one of `max_entries` preallocated entries (a
//!   sequence word, the hash, the chain link, the key's and the value's
//!   words);
//! - events: the ring's bytes.

use alloc::format;
use alloc::vec::Vec;

use super::decl::{Kind, MapDecl};
use crate::abi::{Error, ENOMEM};
use crate::ffi::services::Words;

/// Words of a hash entry besides key and value: sequence count, hash and
/// chain link (next index, in-use bit).
pub const HASH_ENTRY_WORDS: u64 = 3;
/// Bytes of a hash bucket head: the u32 index of its first entry.
pub const BUCKET_BYTES: u64 = 4;

/// 8-byte words holding `bytes`.
pub fn words(bytes: u64) -> u64 {
    bytes.div_ceil(8)
}

/// A map's regions: how many of each size, in words. At most two sizes.
pub fn regions(kind: Kind, key: u32, value: u32, max: u32, possible_cpus: u32) -> [(u64, u64); 2] {
    let max = u64::from(max);
    let element = (1 + words(value.into())).saturating_mul(max);
    match kind {
        Kind::Array => [(1, element), (0, 0)],
        Kind::PercpuArray => [(possible_cpus.into(), element), (0, 0)],
        Kind::Hash => {
            let buckets = words(max.next_power_of_two().saturating_mul(BUCKET_BYTES));
            let entry = HASH_ENTRY_WORDS + words(key.into()) + words(value.into());
            [(1, buckets), (1, entry.saturating_mul(max))]
        }
        Kind::Events => [(1, words(max)), (0, 0)],
    }
}

/// Bytes of all regions.
pub fn bytes(regions: &[(u64, u64); 2]) -> u64 {
    regions
        .iter()
        .map(|&(count, words)| count.saturating_mul(words).saturating_mul(8))
        .fold(0, u64::saturating_add)
}

/// A map's zeroed storage.
pub struct Storage {
    regions: Vec<Words>,
}

impl Storage {
    /// Allocates the regions of `decl` for `possible_cpus`: `ENOMEM`, with
    /// nothing kept, when one cannot be had.
    pub fn new(decl: &MapDecl, possible_cpus: u32) -> Result<Self, Error> {
        let layout = regions(
            decl.kind,
            decl.key_size,
            decl.value_size,
            decl.max_entries,
            possible_cpus,
        );
        let no_memory = || {
            Error::new(
                ENOMEM,
                format!(
                    "map {}: no memory for its {} bytes",
                    decl.name,
                    bytes(&layout)
                ),
            )
        };
        let count: u64 = layout.iter().map(|&(count, _)| count).sum();
        let mut all = Vec::new();
        all.try_reserve_exact(usize::try_from(count).map_err(|_| no_memory())?)
            .map_err(|_| no_memory())?;
        for &(count, len) in &layout {
            let len = usize::try_from(len).map_err(|_| no_memory())?;
            for _ in 0..count {
                all.push(Words::zeroed(len).ok_or_else(no_memory)?);
            }
        }
        Ok(Self { regions: all })
    }

    /// The regions, in the order of [`regions`].
    pub fn regions(&self) -> &[Words] {
        &self.regions
    }

    /// Hands the regions over, leaving the storage empty: an events ring
    /// keeps its words itself, shared with its reader.
    pub fn take(&mut self) -> Vec<Words> {
        core::mem::take(&mut self.regions)
    }

    /// Bytes allocated.
    pub fn bytes(&self) -> u64 {
        self.regions.iter().map(|r| r.len() as u64 * 8).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::super::decl::cost;
    use super::*;
    use core::sync::atomic::Ordering::Relaxed;

    fn decl(kind: Kind, key: u32, value: u32, max: u32) -> MapDecl {
        MapDecl::new(0, "m", kind, (key, value, max), 3)
    }

    #[test]
    fn allocation_is_the_memory_figure() {
        for (d, sizes, extra) in [
            (decl(Kind::Array, 4, 12, 10), &[30][..], 16 * cost::LOCK),
            (decl(Kind::PercpuArray, 4, 8, 5), &[10, 10, 10][..], 0),
            (decl(Kind::Hash, 5, 9, 3), &[2, 3 * 6][..], 4 * cost::LOCK),
            (decl(Kind::Hash, 4, 1, 1), &[1, 5][..], cost::LOCK),
            (decl(Kind::Events, 0, 64, 4096), &[512][..], cost::RING),
        ] {
            let s = Storage::new(&d, 3).unwrap();
            let lens: Vec<usize> = s.regions().iter().map(|r| r.len()).collect();
            assert_eq!(lens, sizes, "{d:?}");
            assert_eq!(s.bytes() + extra + cost::MAP, d.memory, "{d:?}");
            assert!(s
                .regions()
                .iter()
                .all(|r| r.iter().all(|w| w.load(Relaxed) == 0)));
            s.regions()[0][0].store(7, Relaxed);
            assert_eq!(s.regions()[0][0].load(Relaxed), 7);
        }
    }

    #[test]
    fn words_fail_without_memory() {
        assert!(Words::zeroed(0).is_some_and(|w| w.is_empty()));
        assert!(Words::zeroed(usize::MAX).is_none());
        assert!(Words::zeroed(usize::MAX / 8).is_none());
    }
}
