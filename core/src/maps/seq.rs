//! The sequence-count protocol that keeps map values from being read torn,
//! and the word-by-word copies of values in and out of storage.
//!
//! An element is a sequence word and value words. A writer (the only one:
//! it holds the element's lock stripe, or is the CPU owning a per-CPU slot)
//! makes the sequence odd, stores the words, makes it even again
//! ([`write`]). A reader loads the sequence (even), the words, and the
//! sequence again: the copy is good when both loads agree ([`try_read`]).
//! Readers try twice, then take the writers' way of exclusion (the stripe
//! lock, or the CPU): nobody spins on a preempted writer.
//!
//! Everything is an atomic access of an `AtomicU64` (a plain `mov` on
//! x86): a torn copy is detected, never undefined behaviour. The orderings
//! are those of a seqlock: the writer's odd store is ordered before its
//! data stores by a release fence, its even store releases them; the
//! reader acquires the first load and fences before the second.

use core::sync::atomic::{fence, AtomicU64, Ordering};

/// Starts a write: the sequence goes odd.
pub fn write_begin(seq: &AtomicU64) {
    let s = seq.load(Ordering::Relaxed);
    seq.store(s.wrapping_add(1), Ordering::Relaxed);
    fence(Ordering::Release);
}

/// Ends a write: the sequence goes even, publishing the stores.
pub fn write_end(seq: &AtomicU64) {
    let s = seq.load(Ordering::Relaxed);
    seq.store(s.wrapping_add(1), Ordering::Release);
}

/// Starts a read: the sequence if it is even (no write under way).
pub fn read_begin(seq: &AtomicU64) -> Option<u64> {
    let s = seq.load(Ordering::Acquire);
    (s & 1 == 0).then_some(s)
}

/// Ends a read started at `start`: true when a write came in between (the
/// words read may be torn).
pub fn read_changed(seq: &AtomicU64, start: u64) -> bool {
    fence(Ordering::Acquire);
    seq.load(Ordering::Relaxed) != start
}

/// Stores `bytes` into `words`, little-endian, the last word zero-padded.
/// Words beyond the bytes are zeroed; bytes beyond the words are ignored
/// (callers pass matching lengths).
pub fn store_bytes(words: &[AtomicU64], bytes: &[u8]) {
    let mut chunks = bytes.chunks(8);
    for word in words {
        let mut buf = [0u8; 8];
        if let Some(chunk) = chunks.next() {
            if let Some(dst) = buf.get_mut(..chunk.len()) {
                dst.copy_from_slice(chunk);
            }
        }
        word.store(u64::from_le_bytes(buf), Ordering::Relaxed);
    }
}

/// Loads `words` into `out`, little-endian (as [`store_bytes`] stored).
pub fn load_bytes(words: &[AtomicU64], out: &mut [u8]) {
    for (word, chunk) in words.iter().zip(out.chunks_mut(8)) {
        let bytes = word.load(Ordering::Relaxed).to_le_bytes();
        if let Some(src) = bytes.get(..chunk.len()) {
            chunk.copy_from_slice(src);
        }
    }
}

/// Zeroes `words`.
pub fn zero(words: &[AtomicU64]) {
    for word in words {
        word.store(0, Ordering::Relaxed);
    }
}

/// Do `words` hold `key` (as [`store_bytes`] would store it)?
pub fn equal(words: &[AtomicU64], key: &[u64]) -> bool {
    words.len() == key.len()
        && words
            .iter()
            .zip(key)
            .all(|(w, &k)| w.load(Ordering::Relaxed) == k)
}

/// A whole write of `bytes` into an element: the writer must be the only
/// one (stripe lock held, or owning the CPU).
pub fn write(seq: &AtomicU64, words: &[AtomicU64], bytes: &[u8]) {
    write_begin(seq);
    store_bytes(words, bytes);
    write_end(seq);
}

/// One optimistic read of an element into `out`: true when the copy is
/// consistent.
pub fn try_read(seq: &AtomicU64, words: &[AtomicU64], out: &mut [u8]) -> bool {
    let Some(start) = read_begin(seq) else {
        return false;
    };
    load_bytes(words, out);
    !read_changed(seq, start)
}

/// Tries to read an element twice without a lock: true on success.
pub fn read_twice(seq: &AtomicU64, words: &[AtomicU64], out: &mut [u8]) -> bool {
    try_read(seq, words, out) || try_read(seq, words, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_pad() {
        let words: [AtomicU64; 2] = [AtomicU64::new(7), AtomicU64::new(7)];
        store_bytes(&words, &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(words[0].load(Ordering::Relaxed), 0x0807060504030201);
        assert_eq!(words[1].load(Ordering::Relaxed), 9);
        let mut out = [0u8; 9];
        load_bytes(&words, &mut out);
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert!(equal(&words, &[0x0807060504030201, 9]));
        assert!(!equal(&words, &[0x0807060504030201]));
    }

    #[test]
    fn a_write_under_way_fails_reads() {
        let seq = AtomicU64::new(0);
        let words = [AtomicU64::new(0)];
        let mut out = [0u8; 8];
        write_begin(&seq);
        assert!(!try_read(&seq, &words, &mut out));
        write_end(&seq);
        assert!(try_read(&seq, &words, &mut out));
        let start = read_begin(&seq).unwrap();
        write(&seq, &words, &[1; 8]);
        assert!(read_changed(&seq, start));
    }
}
