//! The events ring (docs/ABI.md, "Events"): a program's records on their
//! way to one reader in user space, in the ring's own words.
//!
//! A record is a 32-byte header (`struct kwasm_event`: len, cpu, time_ns,
//! prog_id, flags, lost) and its payload padded to 8 bytes; records follow
//! each other in a ring of a power of two bytes and wrap around its end
//! word by word. Positions are byte counts that only grow (`head`: reserved
//! by producers, `tail`: consumed by the reader), taken modulo the size.
//!
//! **Producers** (programs' `event_output`, on any CPU, BHs off) reserve
//! under the ring's lock: check the space against `tail`, store the first
//! header word as `len | BUSY`, advance `head`. Unlocked, they store the
//! rest of the header and the payload, then commit with a release store of
//! the first word without `BUSY` and with the CPU. A full ring drops the
//! record (`dropped` + 1, `ENOSPC`): nobody ever waits for the reader.
//!
//! **The reader** (the shim's events file, process context, one at a time)
//! copies whole committed records from `tail` on, up to the first `BUSY`
//! one, and consumes them with a release store of `tail` once user space
//! has them, which is what lets producers reuse the space.
//!
//! **Wakeups.** A reader about to sleep sets `waiting` and checks again; a
//! producer, after its commit and a full fence, kicks the waker (an
//! irq_work in the kernel) only when `waiting` was set, clearing it: the
//! two fences make sure that either the reader sees the record or the
//! producer sees `waiting`.
//!
//! **Lifetime.** The ring is an `Arc` held by its map (the [`Producer`])
//! and by the reader ([`Reader`]). When the map goes (its program is
//! unloaded or replaced, after the last packet left it) the ring is marked
//! detached and the reader woken: it reads what is left, then the end.
//!
//! Everything is an atomic access of an `AtomicU64` by checked index: a
//! misbehaving party can garble records, never memory.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};

use super::{MapError, E_BUSY, E_INVAL, E_NOSPC};
use crate::abi as k;
use crate::ffi::services::{self, Locks, Waker, Words};

/// Bytes of a record's header (`struct kwasm_event`).
pub const HEADER: u32 = k::KWASM_EVENT_HEADER_LEN;
const _: () = assert!(core::mem::size_of::<k::kwasm_event>() == HEADER as usize);

/// The first header word of a reserved record not committed yet.
const BUSY: u64 = 1 << 31;
/// The payload length in the first header word.
const LEN_MASK: u64 = BUSY - 1;

/// `poll()` bits (`KWASM_CORE_EVENTS_*`).
pub const READABLE: u32 = 1;
pub const DETACHED: u32 = 2;

/// Bytes a record of `len` payload bytes takes in the ring.
pub fn record_bytes(len: u32) -> u64 {
    u64::from(HEADER) + u64::from(len).div_ceil(8) * 8
}

/// An events ring. See the module documentation.
pub struct Ring {
    words: Words,
    /// Word index mask: words - 1 (a power of two).
    mask: u64,
    /// Largest payload.
    max_record: u32,
    /// The producers' lock: one stripe.
    lock: Locks,
    waker: Waker,
    /// Bytes reserved by producers, ever.
    head: AtomicU64,
    /// Bytes consumed by the reader, ever.
    tail: AtomicU64,
    written: AtomicU64,
    dropped: AtomicU64,
    /// The reader is about to sleep, or polls: a commit kicks the waker.
    waiting: AtomicBool,
    /// A reader has the ring.
    reader: AtomicBool,
    /// No program writes to the ring any more.
    detached: AtomicBool,
}

/// What a ring says of itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub ring_size: u32,
    pub max_record: u32,
    pub written: u64,
    pub dropped: u64,
    pub used: u64,
    pub reader: bool,
    pub detached: bool,
}

impl Ring {
    /// A ring in `words` (a power of two of them, at least the largest
    /// record) for payloads of 1 to `max_record` bytes, with its lock and
    /// waker; `None` when these cannot be had or the sizes are wrong.
    /// Process context.
    pub fn new(words: Words, max_record: u32) -> Option<Self> {
        let len = words.len() as u64;
        let bytes = len.checked_mul(8)?;
        if !len.is_power_of_two() || max_record == 0 || record_bytes(max_record) > bytes {
            return None;
        }
        Some(Self {
            words,
            mask: len - 1,
            max_record,
            lock: Locks::new(1)?,
            waker: Waker::new()?,
            head: AtomicU64::new(0),
            tail: AtomicU64::new(0),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            waiting: AtomicBool::new(false),
            reader: AtomicBool::new(false),
            detached: AtomicBool::new(false),
        })
    }

    /// Bytes of the ring.
    pub fn size(&self) -> u64 {
        (self.mask + 1) * 8
    }

    pub fn max_record(&self) -> u32 {
        self.max_record
    }

    /// The word at byte position `pos` (modulo the size).
    #[inline]
    fn word(&self, pos: u64) -> Option<&AtomicU64> {
        let index = usize::try_from((pos / 8) & self.mask).ok()?;
        self.words.get(index)
    }

    #[inline]
    fn store(&self, pos: u64, value: u64, order: Ordering) {
        if let Some(w) = self.word(pos) {
            w.store(value, order);
        }
    }

    #[inline]
    fn load(&self, pos: u64, order: Ordering) -> u64 {
        self.word(pos).map_or(BUSY, |w| w.load(order))
    }

    fn drop_one(&self, why: MapError) -> Result<(), MapError> {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        Err(why)
    }

    /// Writes a record of `data` from a program on `cpu`: `EINVAL` for an
    /// empty or too long payload; `ENOSPC` when the ring is full and
    /// `EBUSY` when its lock cannot be taken here (hard-IRQ context), both
    /// counted in `dropped`. Never waits but for the producers' lock, held
    /// for a few loads and stores; never allocates.
    pub fn output(&self, cpu: u32, prog_id: u32, data: &[u8]) -> Result<(), MapError> {
        let len = u32::try_from(data.len()).map_err(|_| E_INVAL)?;
        if len == 0 || len > self.max_record {
            return Err(E_INVAL);
        }
        let bytes = record_bytes(len);
        let time = services::time_ns();
        let Some(guard) = self.lock.lock(0) else {
            return self.drop_one(E_BUSY);
        };
        let head = self.head.load(Ordering::Relaxed);
        // The reader's stores into what it consumed are done before it
        // moved tail (release): the space is free from here on.
        let tail = self.tail.load(Ordering::Acquire);
        if head.wrapping_sub(tail).saturating_add(bytes) > self.size() {
            drop(guard);
            return self.drop_one(E_NOSPC);
        }
        let lost = self.dropped.load(Ordering::Relaxed);
        self.store(head, u64::from(len) | BUSY, Ordering::Relaxed);
        // The reader sees BUSY (or the commit) at any position below head.
        self.head.store(head + bytes, Ordering::Release);
        drop(guard);

        self.store(head + 8, time, Ordering::Relaxed);
        // prog_id, then flags (0) in the upper half.
        self.store(head + 16, u64::from(prog_id), Ordering::Relaxed);
        self.store(head + 24, lost, Ordering::Relaxed);
        let mut pos = head + u64::from(HEADER);
        for chunk in data.chunks(8) {
            let mut word = [0u8; 8];
            if let Some(dst) = word.get_mut(..chunk.len()) {
                dst.copy_from_slice(chunk);
            }
            self.store(pos, u64::from_le_bytes(word), Ordering::Relaxed);
            pos += 8;
        }
        // Commit: publishes the header and payload stores above.
        self.store(
            head,
            u64::from(len) | u64::from(cpu) << 32,
            Ordering::Release,
        );
        self.written.fetch_add(1, Ordering::Relaxed);
        // Pairs with the reader's fence in poll(): it sees the record, or
        // this sees `waiting`.
        fence(Ordering::SeqCst);
        self.wake();
        Ok(())
    }

    /// Kicks the waker if the reader waits (once per wait).
    fn wake(&self) {
        if self.waiting.load(Ordering::Relaxed) && self.waiting.swap(false, Ordering::AcqRel) {
            self.waker.kick();
        }
    }

    /// Is a committed record at the read position?
    fn readable(&self) -> bool {
        let tail = self.tail.load(Ordering::Relaxed);
        let head = self.head.load(Ordering::Acquire);
        tail != head && self.load(tail, Ordering::Acquire) & BUSY == 0
    }

    /// No program writes to the ring any more: wakes the reader, which
    /// reads what is left and then the end.
    pub fn detach(&self) {
        self.detached.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        self.wake();
    }

    pub fn stats(&self) -> Stats {
        let tail = self.tail.load(Ordering::Relaxed);
        let head = self.head.load(Ordering::Relaxed);
        Stats {
            ring_size: u32::try_from(self.size()).unwrap_or(u32::MAX),
            max_record: self.max_record,
            written: self.written.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            used: head.saturating_sub(tail),
            reader: self.reader.load(Ordering::Relaxed),
            detached: self.detached.load(Ordering::Relaxed),
        }
    }

    /// The waker the reader sleeps on.
    pub fn waker(&self) -> &Waker {
        &self.waker
    }

    /// The ring's only reader; `None` while it has one.
    pub fn reader(self: &Arc<Self>) -> Option<Reader> {
        self.reader
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        Some(Reader {
            ring: self.clone(),
            peeked: AtomicU64::new(0),
        })
    }
}

/// The map's hold on its ring: when the map goes, the ring is detached.
pub struct Producer {
    ring: Arc<Ring>,
}

impl Producer {
    /// The ring of `regions` (the map's storage: one region of words).
    /// Process context; `None` without memory.
    pub fn new(regions: Vec<Words>, max_record: u32) -> Option<Self> {
        let words = regions.into_iter().next()?;
        let ring = Arc::new(Ring::new(words, max_record)?);
        Some(Self { ring })
    }

    pub fn ring(&self) -> &Arc<Ring> {
        &self.ring
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.ring.detach();
    }
}

/// The reader of a ring: user space's events file. Its calls come one at
/// a time (the shim serialises them), in process context.
pub struct Reader {
    ring: Arc<Ring>,
    /// Bytes the last peek copied, which consume() may take.
    peeked: AtomicU64,
}

impl Reader {
    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    /// Copies the committed records at the read position into `out`,
    /// whole, as many as fit, without consuming them: the bytes copied (0
    /// when none is committed); `EINVAL` when the next record does not fit
    /// in `out`.
    pub fn peek(&self, out: &mut [u8]) -> Result<usize, MapError> {
        let ring = &*self.ring;
        let tail = ring.tail.load(Ordering::Relaxed);
        let head = ring.head.load(Ordering::Acquire);
        let mut pos = tail;
        let mut copied = 0usize;
        while pos != head {
            // Acquire: the record's other words, stored before the commit.
            let first = ring.load(pos, Ordering::Acquire);
            if first & BUSY != 0 {
                break;
            }
            let len = (first & LEN_MASK) as u32;
            let bytes = record_bytes(len);
            if len == 0 || len > ring.max_record || bytes > head.wrapping_sub(pos) {
                // Not a record a producer wrote: stop rather than copy garbage.
                break;
            }
            let end = copied.saturating_add(bytes as usize);
            let Some(dst) = out.get_mut(copied..end) else {
                if copied == 0 {
                    self.peeked.store(0, Ordering::Relaxed);
                    return Err(E_INVAL);
                }
                break;
            };
            for (i, chunk) in dst.chunks_mut(8).enumerate() {
                let word = if i == 0 {
                    first
                } else {
                    ring.load(pos + 8 * i as u64, Ordering::Relaxed)
                };
                chunk.copy_from_slice(&word.to_le_bytes());
            }
            copied = end;
            pos += bytes;
        }
        self.peeked.store(copied as u64, Ordering::Relaxed);
        Ok(copied)
    }

    /// Consumes what the last peek copied, if `bytes` is all of it (the
    /// reader got it all; anything else consumes nothing): producers may
    /// reuse the space.
    pub fn consume(&self, bytes: u64) {
        let peeked = self.peeked.swap(0, Ordering::Relaxed);
        if bytes < peeked || peeked == 0 {
            return;
        }
        let tail = self.ring.tail.load(Ordering::Relaxed);
        // Release: this reader's loads of the records are done.
        self.ring.tail.store(tail + peeked, Ordering::Release);
    }

    /// [`READABLE`] and [`DETACHED`] now. Marks the reader waiting first,
    /// so that a commit after this check kicks the waker.
    pub fn poll(&self) -> u32 {
        let ring = &*self.ring;
        ring.waiting.store(true, Ordering::Relaxed);
        // Pairs with the producers' fence after their commit.
        fence(Ordering::SeqCst);
        let mut state = 0;
        if ring.readable() {
            state |= READABLE;
        }
        if ring.detached.load(Ordering::Relaxed) {
            state |= DETACHED;
        }
        state
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.ring.reader.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record reserved and not committed yet holds the reader up, with
    /// everything behind it, until its commit.
    #[test]
    fn the_reader_sees_committed_records_only() {
        let ring = Arc::new(Ring::new(Words::zeroed(512).unwrap(), 8).unwrap());
        let reader = ring.reader().unwrap();
        ring.output(0, 0, &[1; 8]).unwrap();
        // A producer between its reservation and its commit.
        let reserved = ring.head.load(Ordering::Relaxed);
        ring.store(reserved, 8 | BUSY, Ordering::Relaxed);
        ring.head.store(reserved + 40, Ordering::Release);
        ring.output(0, 0, &[3; 8]).unwrap();
        let mut buf = [0u8; 4096];
        assert_eq!(reader.peek(&mut buf), Ok(40));
        assert_eq!(buf.get(32..40), Some(&[1u8; 8][..]));
        reader.consume(40);
        assert_eq!(reader.peek(&mut buf), Ok(0));
        assert_eq!(reader.poll() & READABLE, 0);
        // The commit: both are readable now, in ring order.
        ring.store(reserved + 32, u64::from_le_bytes([2; 8]), Ordering::Relaxed);
        ring.store(reserved, 8 | 5 << 32, Ordering::Release);
        assert_eq!(reader.poll() & READABLE, READABLE);
        assert_eq!(reader.peek(&mut buf), Ok(80));
        assert_eq!(buf.get(4..8), Some(&5u32.to_le_bytes()[..]));
        assert_eq!(buf.get(32..40), Some(&[2u8; 8][..]));
        assert_eq!(buf.get(72..80), Some(&[3u8; 8][..]));
        // A partial consume takes nothing.
        reader.consume(40);
        assert_eq!(reader.peek(&mut buf), Ok(80));
        reader.consume(80);
        assert_eq!(ring.stats().used, 0);
    }

    #[test]
    fn sizes_are_checked() {
        assert!(Ring::new(Words::zeroed(500).unwrap(), 8).is_none());
        assert!(Ring::new(Words::zeroed(4).unwrap(), 8).is_none());
        assert!(Ring::new(Words::zeroed(8).unwrap(), 0).is_none());
        let ring = Ring::new(Words::zeroed(8).unwrap(), 32).unwrap();
        assert_eq!(ring.output(0, 0, &[]), Err(E_INVAL));
        assert_eq!(ring.output(0, 0, &[0; 33]), Err(E_INVAL));
        assert_eq!(ring.output(0, 0, &[0; 32]), Ok(()));
        assert_eq!(ring.output(0, 0, &[0; 1]), Err(E_NOSPC));
        assert_eq!(ring.stats().dropped, 1);
    }
}
