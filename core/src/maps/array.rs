//! Array maps: `max_entries` elements indexed by a little-endian u32 key,
//! all present from the start (zeroed). One region of elements, each a
//! sequence word and the value's words ([`super::seq`]).
//!
//! Readers (programs and user space alike) copy optimistically, twice at
//! most, then under the element's lock stripe. Writers take the stripe
//! (index modulo the stripes). `add` is one `fetch_add` on the counter's
//! word, without the lock: an 8-byte atomic is never torn, and a write of
//! the whole value racing it is simply ordered before or after it.

use core::sync::atomic::{AtomicU64, Ordering};

use super::{check_flags, seq, words_of, MapError, E_BUSY, E_EXIST, E_INVAL, E_NOENT, NOEXIST};
use crate::ffi::services::Locks;

pub struct Array {
    locks: Locks,
    max: u32,
    value_words: usize,
}

/// The index an array key names (4 bytes, little-endian).
pub fn index_of(key: &[u8]) -> Option<u32> {
    key.first_chunk::<4>().map(|k| u32::from_le_bytes(*k))
}

/// Element `index` of `region` with `value_words` value words: its
/// sequence word and value words.
pub fn element(
    region: &[AtomicU64],
    value_words: usize,
    index: u32,
) -> Option<(&AtomicU64, &[AtomicU64])> {
    let stride = value_words.checked_add(1)?;
    let start = usize::try_from(index).ok()?.checked_mul(stride)?;
    let end = start.checked_add(stride)?;
    region.get(start..end)?.split_first()
}

impl Array {
    pub fn new(locks: Locks, max: u32, value_size: u32) -> Self {
        Self {
            locks,
            max,
            value_words: words_of(value_size),
        }
    }

    fn element<'r>(
        &self,
        region: &'r [AtomicU64],
        key: &[u8],
    ) -> Result<(u32, &'r AtomicU64, &'r [AtomicU64]), MapError> {
        let index = index_of(key).ok_or(E_INVAL)?;
        if index >= self.max {
            return Err(E_NOENT);
        }
        let (seq, value) = element(region, self.value_words, index).ok_or(E_INVAL)?;
        Ok((index, seq, value))
    }

    fn stripe(&self, index: u32) -> u32 {
        index & self.locks.count().saturating_sub(1)
    }

    pub fn lookup(&self, region: &[AtomicU64], key: &[u8], out: &mut [u8]) -> Result<(), MapError> {
        let (index, seq, value) = self.element(region, key)?;
        if seq::read_twice(seq, value, out) {
            return Ok(());
        }
        let _held = self.locks.lock(self.stripe(index)).ok_or(E_BUSY)?;
        seq::load_bytes(value, out);
        Ok(())
    }

    pub fn update(
        &self,
        region: &[AtomicU64],
        key: &[u8],
        bytes: &[u8],
        flags: u32,
    ) -> Result<(), MapError> {
        check_flags(flags)?;
        let (index, seq, value) = self.element(region, key)?;
        if flags == NOEXIST {
            return Err(E_EXIST);
        }
        let _held = self.locks.lock(self.stripe(index)).ok_or(E_BUSY)?;
        seq::write(seq, value, bytes);
        Ok(())
    }

    pub fn add(
        &self,
        region: &[AtomicU64],
        key: &[u8],
        word: usize,
        delta: i64,
    ) -> Result<(), MapError> {
        let (_, _, value) = self.element(region, key)?;
        let counter = value.get(word).ok_or(E_INVAL)?;
        counter.fetch_add(delta as u64, Ordering::Relaxed);
        Ok(())
    }
}
