//! Per-CPU counters of a program.
//!
//! Each instance's counters are written only by the packet holding that
//! instance, so a relaxed load and store is enough (no locked instruction
//! in the packet path); readers on other CPUs see each counter whole.

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::abi::KWASM_TRAP_COUNT;
use crate::engine::trap::Trap;
use crate::ffi::sys::kwasm::kwasm_stats;

/// How one call ended, for counting.
#[derive(Clone, Copy)]
pub enum Event {
    Returned { accepted: bool },
    Invalid { accepted: bool },
    Trapped { trap: Trap, accepted: bool },
    Skipped,
}

#[derive(Default)]
pub struct CpuStats {
    runs: AtomicU64,
    accepted: AtomicU64,
    dropped: AtomicU64,
    invalid: AtomicU64,
    traps: AtomicU64,
    skipped: AtomicU64,
    busy: AtomicU64,
    trap_kind: [AtomicU64; KWASM_TRAP_COUNT as usize],
}

/// Increment by the only writer.
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Relaxed).wrapping_add(1), Relaxed);
}

impl CpuStats {
    /// Counts a packet handled by the holder of this CPU's instance.
    /// `runs` counts program calls; each gives one verdict, so
    /// runs == accepted + dropped.
    #[inline]
    pub fn count(&self, event: Event) {
        let accepted = match event {
            Event::Skipped => {
                bump(&self.skipped);
                return;
            }
            Event::Returned { accepted } => accepted,
            Event::Invalid { accepted } => {
                bump(&self.invalid);
                accepted
            }
            Event::Trapped { trap, accepted } => {
                bump(&self.traps);
                if let Some(kind) = self.trap_kind.get(trap as usize) {
                    bump(kind);
                }
                accepted
            }
        };
        bump(&self.runs);
        bump(if accepted {
            &self.accepted
        } else {
            &self.dropped
        });
    }

    /// Counts a refused re-entry; the refused packet does not hold the
    /// instance, so this one increment must be atomic.
    pub fn count_busy(&self) {
        self.busy.fetch_add(1, Relaxed);
    }

    /// Adds this CPU's counters to `sum`.
    pub fn add_to(&self, sum: &mut kwasm_stats) {
        let add = |total: &mut u64, c: &AtomicU64| *total = total.wrapping_add(c.load(Relaxed));
        add(&mut sum.runs, &self.runs);
        add(&mut sum.accepted, &self.accepted);
        add(&mut sum.dropped, &self.dropped);
        add(&mut sum.invalid, &self.invalid);
        add(&mut sum.traps, &self.traps);
        add(&mut sum.skipped, &self.skipped);
        add(&mut sum.busy, &self.busy);
        for (total, c) in sum.trap_kind.iter_mut().zip(&self.trap_kind) {
            add(total, c);
        }
    }
}
