//! Hash maps: `max_entries` preallocated entries, chained from
//! `roundup_pow2(max_entries)` buckets, keyed by SipHash-1-3 with a random
//! per-map key (packets cannot aim at one chain).
//!
//! Storage ([`super::storage`]): region 0 holds the bucket heads, two u32
//! links per word; region 1 the entries, each
//! `[seq, hash, link, key words, value words]`. A link is an entry index,
//! or, with [`NULLS`] set, the end of a chain carrying its bucket number (a
//! "nulls" marker): a lock-free walk that strayed into another chain, or
//! into the free list, ends at a marker of the wrong bucket and is redone
//! under the lock. The link word of an entry holds its next link in the low
//! half and [`IN_USE`].
//!
//! - Writers (update, add, delete) hold the bucket's lock stripe (bucket
//!   modulo the stripes); a chain and its entries change only under it.
//!   An entry's key and value are written inside its sequence count.
//! - Readers walk optimistically (at most `max_entries` steps, each entry's
//!   sequence checked), twice, then under the stripe.
//! - Free entries form a Treiber stack of indices whose top word carries a
//!   32-bit tag against ABA: lock-free, so inserts under different stripes
//!   do not meet on a free-list lock. Entries are reused at once (no grace
//!   period): a full map is exactly `max_entries` entries, and an insert is
//!   refused (`ENOSPC`, counted in `full`) only then. A reader meeting a
//!   reused entry sees its sequence move and retries.

use core::hash::Hasher;
use core::sync::atomic::{AtomicU64, Ordering};

use siphasher::sip::SipHasher13;

use super::{
    check_flags, seq, words_of, MapError, EXIST, E_BUSY, E_EXIST, E_INVAL, E_NOENT, E_NOSPC,
    NOEXIST,
};
use crate::abi::KWASM_LIMIT_MAP_KEY;
use crate::ffi::services::{self, Locks, Words};

/// A link with this bit is a chain's end; the rest is its bucket.
pub const NULLS: u32 = 1 << 31;
/// The end of the free list: a nulls marker of no bucket.
const FREE_END: u32 = NULLS | (NULLS - 1);
/// In an entry's link word: the entry is in a chain.
pub const IN_USE: u64 = 1 << 32;
/// Words of an entry before its key: sequence, hash, link.
const SEQ: usize = 0;
const HASH: usize = 1;
const LINK: usize = 2;
const HEAD_WORDS: usize = 3;
/// Words of the largest key.
const KEY_WORDS: usize = (KWASM_LIMIT_MAP_KEY as usize).div_ceil(8);

pub struct Hash {
    locks: Locks,
    sip: (u64, u64),
    buckets: u32,
    max: u32,
    key_words: usize,
    value_words: usize,
    /// Top of the free list: tag << 32 | link.
    free: AtomicU64,
    /// Entries in chains.
    count: AtomicU64,
    /// Inserts refused for want of a free entry.
    full: AtomicU64,
}

/// One entry's words.
struct Entry<'r> {
    seq: &'r AtomicU64,
    hash: &'r AtomicU64,
    link: &'r AtomicU64,
    key: &'r [AtomicU64],
    value: &'r [AtomicU64],
}

/// A key as the words it is stored in.
struct KeyWords {
    words: [u64; KEY_WORDS],
    len: usize,
}

impl KeyWords {
    fn new(key: &[u8]) -> Self {
        let mut words = [0u64; KEY_WORDS];
        for (w, chunk) in words.iter_mut().zip(key.chunks(8)) {
            let mut buf = [0u8; 8];
            super::copy(&mut buf, chunk);
            *w = u64::from_le_bytes(buf);
        }
        Self {
            words,
            len: key.len().div_ceil(8).min(KEY_WORDS),
        }
    }

    fn get(&self) -> &[u64] {
        self.words.get(..self.len).unwrap_or(&[])
    }
}

/// Where a key was found under the lock: the entry and the link word
/// pointing at it (`None`: the bucket head).
struct Found {
    index: u32,
    pred: Option<u32>,
}

impl Hash {
    /// Lays out a fresh map in `regions` (zeroed): every bucket empty, every
    /// entry on the free list. Load time, O(max_entries).
    pub fn new(locks: Locks, max: u32, key_size: u32, value_size: u32, regions: &[Words]) -> Self {
        let mut sip = [0u8; 16];
        services::random_bytes(&mut sip);
        let (k0, k1) = sip.split_at(8);
        let le = |b: &[u8]| {
            let mut buf = [0u8; 8];
            super::copy(&mut buf, b);
            u64::from_le_bytes(buf)
        };
        let hash = Self {
            locks,
            sip: (le(k0), le(k1)),
            buckets: max.next_power_of_two(),
            max,
            key_words: words_of(key_size),
            value_words: words_of(value_size),
            free: AtomicU64::new(u64::from(FREE_END)),
            count: AtomicU64::new(0),
            full: AtomicU64::new(0),
        };
        for b in 0..hash.buckets {
            hash.set_head(regions, b, NULLS | b);
        }
        let mut top = FREE_END;
        for index in (0..max).rev() {
            if let Some(e) = hash.entry(regions, index) {
                e.link.store(u64::from(top), Ordering::Relaxed);
                top = index;
            }
        }
        hash.free.store(u64::from(top), Ordering::Release);
        hash
    }

    pub fn entries(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub fn full(&self) -> u64 {
        self.full.load(Ordering::Relaxed)
    }

    fn hash(&self, key: &[u8]) -> u64 {
        let mut h = SipHasher13::new_with_keys(self.sip.0, self.sip.1);
        h.write(key);
        h.finish()
    }

    fn bucket(&self, hash: u64) -> u32 {
        (hash as u32) & (self.buckets - 1)
    }

    fn stripe(&self, bucket: u32) -> u32 {
        bucket & self.locks.count().saturating_sub(1)
    }

    fn head_word(regions: &[Words], bucket: u32) -> Option<(&AtomicU64, u32)> {
        let word = regions.first()?.get(usize::try_from(bucket / 2).ok()?)?;
        Some((word, (bucket % 2) * 32))
    }

    fn head(&self, regions: &[Words], bucket: u32) -> u32 {
        match Self::head_word(regions, bucket) {
            Some((word, shift)) => (word.load(Ordering::Acquire) >> shift) as u32,
            None => FREE_END,
        }
    }

    /// Under the bucket's stripe (or at load): the other half of the word
    /// belongs to another bucket, perhaps another stripe, so the change is
    /// one atomic xor of this half.
    fn set_head(&self, regions: &[Words], bucket: u32, link: u32) {
        if let Some((word, shift)) = Self::head_word(regions, bucket) {
            let old = (word.load(Ordering::Relaxed) >> shift) as u32;
            word.fetch_xor(u64::from(old ^ link) << shift, Ordering::AcqRel);
        }
    }

    fn entry<'r>(&self, regions: &'r [Words], index: u32) -> Option<Entry<'r>> {
        if index >= self.max {
            return None;
        }
        let stride = HEAD_WORDS + self.key_words + self.value_words;
        let start = usize::try_from(index).ok()?.checked_mul(stride)?;
        let words = regions.get(1)?.get(start..start.checked_add(stride)?)?;
        let (head, rest) = words.split_at_checked(HEAD_WORDS)?;
        let (key, value) = rest.split_at_checked(self.key_words)?;
        Some(Entry {
            seq: head.get(SEQ)?,
            hash: head.get(HASH)?,
            link: head.get(LINK)?,
            key,
            value,
        })
    }

    fn pop_free(&self, regions: &[Words]) -> Option<u32> {
        let mut top = self.free.load(Ordering::Acquire);
        loop {
            let index = top as u32;
            let entry = self.entry(regions, index)?;
            let next = entry.link.load(Ordering::Acquire) as u32;
            let new = (top >> 32).wrapping_add(1) << 32 | u64::from(next);
            match self
                .free
                .compare_exchange_weak(top, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some(index),
                Err(now) => top = now,
            }
        }
    }

    fn push_free(&self, regions: &[Words], index: u32) {
        let Some(entry) = self.entry(regions, index) else {
            return;
        };
        let mut top = self.free.load(Ordering::Relaxed);
        loop {
            entry.link.store(u64::from(top as u32), Ordering::Relaxed);
            let new = (top >> 32).wrapping_add(1) << 32 | u64::from(index);
            match self
                .free
                .compare_exchange_weak(top, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(now) => top = now,
            }
        }
    }

    /// One lock-free walk: `Some(found?)` when it could decide, `None` when
    /// it met a write or strayed (then the caller retries or locks). On
    /// `Some(true)` `out` holds the value.
    fn walk(&self, regions: &[Words], hash: u64, key: &KeyWords, out: &mut [u8]) -> Option<bool> {
        let bucket = self.bucket(hash);
        let mut link = self.head(regions, bucket);
        let mut steps = 0u32;
        while link & NULLS == 0 {
            steps += 1;
            if steps > self.max {
                return None;
            }
            let e = self.entry(regions, link)?;
            let start = seq::read_begin(e.seq)?;
            let word = e.link.load(Ordering::Relaxed);
            if word & IN_USE != 0
                && e.hash.load(Ordering::Relaxed) == hash
                && seq::equal(e.key, key.get())
            {
                seq::load_bytes(e.value, out);
                return (!seq::read_changed(e.seq, start)).then_some(true);
            }
            if seq::read_changed(e.seq, start) {
                return None;
            }
            link = word as u32;
        }
        (link == NULLS | bucket).then_some(false)
    }

    /// The entry of `key` in `bucket`, with the stripe held.
    fn find_locked(
        &self,
        regions: &[Words],
        bucket: u32,
        hash: u64,
        key: &KeyWords,
    ) -> Result<Option<Found>, MapError> {
        let mut link = self.head(regions, bucket);
        let mut pred = None;
        let mut steps = 0u32;
        while link & NULLS == 0 {
            steps += 1;
            let e = self
                .entry(regions, link)
                .filter(|_| steps <= self.max)
                .ok_or(E_INVAL)?;
            if e.hash.load(Ordering::Relaxed) == hash && seq::equal(e.key, key.get()) {
                return Ok(Some(Found { index: link, pred }));
            }
            pred = Some(link);
            link = e.link.load(Ordering::Relaxed) as u32;
        }
        Ok(None)
    }

    /// Takes a free entry and puts `key` in it, its value filled by
    /// `fill`, at the head of `bucket` (stripe held).
    fn insert(
        &self,
        regions: &[Words],
        bucket: u32,
        hash: u64,
        key: &KeyWords,
        fill: impl FnOnce(&[AtomicU64]),
    ) -> Result<(), MapError> {
        let Some(index) = self.pop_free(regions) else {
            self.full.fetch_add(1, Ordering::Relaxed);
            return Err(E_NOSPC);
        };
        let e = self.entry(regions, index).ok_or(E_INVAL)?;
        seq::write_begin(e.seq);
        e.hash.store(hash, Ordering::Relaxed);
        for (w, &k) in e.key.iter().zip(key.get()) {
            w.store(k, Ordering::Relaxed);
        }
        fill(e.value);
        e.link.store(
            IN_USE | u64::from(self.head(regions, bucket)),
            Ordering::Relaxed,
        );
        seq::write_end(e.seq);
        self.set_head(regions, bucket, index);
        self.count.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    pub fn lookup(&self, regions: &[Words], key: &[u8], out: &mut [u8]) -> Result<(), MapError> {
        let hash = self.hash(key);
        let kw = KeyWords::new(key);
        for _ in 0..2 {
            match self.walk(regions, hash, &kw, out) {
                Some(true) => return Ok(()),
                Some(false) => return Err(E_NOENT),
                None => {}
            }
        }
        let bucket = self.bucket(hash);
        let _held = self.locks.lock(self.stripe(bucket)).ok_or(E_BUSY)?;
        let found = self
            .find_locked(regions, bucket, hash, &kw)?
            .ok_or(E_NOENT)?;
        let e = self.entry(regions, found.index).ok_or(E_INVAL)?;
        seq::load_bytes(e.value, out);
        Ok(())
    }

    pub fn update(
        &self,
        regions: &[Words],
        key: &[u8],
        bytes: &[u8],
        flags: u32,
    ) -> Result<(), MapError> {
        check_flags(flags)?;
        let hash = self.hash(key);
        let kw = KeyWords::new(key);
        let bucket = self.bucket(hash);
        let _held = self.locks.lock(self.stripe(bucket)).ok_or(E_BUSY)?;
        match self.find_locked(regions, bucket, hash, &kw)? {
            Some(_) if flags == NOEXIST => Err(E_EXIST),
            Some(found) => {
                let e = self.entry(regions, found.index).ok_or(E_INVAL)?;
                seq::write(e.seq, e.value, bytes);
                Ok(())
            }
            None if flags == EXIST => Err(E_NOENT),
            None => self.insert(regions, bucket, hash, &kw, |value| {
                seq::store_bytes(value, bytes)
            }),
        }
    }

    pub fn add(
        &self,
        regions: &[Words],
        key: &[u8],
        word: usize,
        delta: i64,
    ) -> Result<(), MapError> {
        if word >= self.value_words {
            return Err(E_INVAL);
        }
        let hash = self.hash(key);
        let kw = KeyWords::new(key);
        let bucket = self.bucket(hash);
        let _held = self.locks.lock(self.stripe(bucket)).ok_or(E_BUSY)?;
        match self.find_locked(regions, bucket, hash, &kw)? {
            Some(found) => {
                let e = self.entry(regions, found.index).ok_or(E_INVAL)?;
                let counter = e.value.get(word).ok_or(E_INVAL)?;
                counter.fetch_add(delta as u64, Ordering::Relaxed);
                Ok(())
            }
            None => self.insert(regions, bucket, hash, &kw, |value| {
                seq::zero(value);
                if let Some(counter) = value.get(word) {
                    counter.store(delta as u64, Ordering::Relaxed);
                }
            }),
        }
    }

    pub fn delete(&self, regions: &[Words], key: &[u8]) -> Result<(), MapError> {
        let hash = self.hash(key);
        let kw = KeyWords::new(key);
        let bucket = self.bucket(hash);
        let held = self.locks.lock(self.stripe(bucket)).ok_or(E_BUSY)?;
        let found = self
            .find_locked(regions, bucket, hash, &kw)?
            .ok_or(E_NOENT)?;
        let e = self.entry(regions, found.index).ok_or(E_INVAL)?;
        let next = e.link.load(Ordering::Relaxed) as u32;
        match found.pred.and_then(|p| self.entry(regions, p)) {
            Some(pred) => pred.link.store(IN_USE | u64::from(next), Ordering::Release),
            None => self.set_head(regions, bucket, next),
        }
        // Out of the chain; a walker standing on it sees the sequence move
        // and goes on along the old chain.
        seq::write_begin(e.seq);
        e.link.store(u64::from(next), Ordering::Relaxed);
        seq::write_end(e.seq);
        self.count.fetch_sub(1, Ordering::Relaxed);
        drop(held);
        self.push_free(regions, found.index);
        Ok(())
    }

    /// The first entry in use at index `cursor` or later: key and value
    /// copied out, and the index after it.
    pub fn next(
        &self,
        regions: &[Words],
        cursor: u64,
        key: &mut [u8],
        out: &mut [u8],
    ) -> Option<u64> {
        let first = u32::try_from(cursor).ok()?;
        for index in first..self.max {
            let e = self.entry(regions, index)?;
            if let Some(start) = seq::read_begin(e.seq) {
                let in_use = e.link.load(Ordering::Relaxed) & IN_USE != 0;
                if in_use {
                    seq::load_bytes(e.key, key);
                    seq::load_bytes(e.value, out);
                }
                if !seq::read_changed(e.seq, start) {
                    if in_use {
                        return Some(u64::from(index) + 1);
                    }
                    continue;
                }
            }
            // Under the lock of the bucket its hash names: in use there
            // means in that chain, consistent.
            let bucket = self.bucket(e.hash.load(Ordering::Relaxed));
            let held = self.locks.lock(self.stripe(bucket));
            if held.is_some()
                && e.link.load(Ordering::Relaxed) & IN_USE != 0
                && self.bucket(e.hash.load(Ordering::Relaxed)) == bucket
            {
                seq::load_bytes(e.key, key);
                seq::load_bytes(e.value, out);
                return Some(u64::from(index) + 1);
            }
        }
        None
    }
}
