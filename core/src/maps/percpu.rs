//! Per-CPU arrays: the array layout ([`super::array`]) once per possible
//! CPU, each CPU's region written only by that CPU.
//!
//! - A program (a run holds bottom halves off on its CPU:
//!   [`services::cpu_owned`]) reads and writes its own CPU's slot directly:
//!   nothing else on that CPU can run a BH-off section meanwhile, and the
//!   slot has no other writer. Its writes still bump the element's
//!   sequence word, for readers on other CPUs; `add` is a plain load and
//!   store of the counter's word (one word: never torn).
//! - Anyone else (user space, a program naming another CPU) writes through
//!   [`services::on_cpu`]: the function runs on that CPU with bottom
//!   halves off, so it is excluded from the program exactly as two runs
//!   are from each other (a possible CPU that is offline runs no program:
//!   it is written directly, under the shim's mutex, with CPU hotplug held
//!   off). So there is one writer per slot at any time, and no lock and no
//!   locked instruction on the packet path.
//! - Readers of another CPU's slot copy optimistically twice, then read
//!   through [`services::on_cpu`] as well, excluded from the writer: no
//!   spinning on a preempted (PREEMPT_RT) writer. That fallback may sleep:
//!   from a context that may not, it is `EBUSY`.

use core::sync::atomic::{AtomicU64, Ordering};

use alloc::vec::Vec;

use super::array::{element, index_of};
use super::{
    check_flags, seq, words_of, MapError, Slot, E_BUSY, E_EXIST, E_INVAL, E_NOENT, NOEXIST,
};
use crate::ffi::services::{self, NotRun, Words};

/// Marks a CPU id that is not possible in [`PercpuArray::region_of`].
const NO_REGION: u32 = u32::MAX;

pub struct PercpuArray {
    max: u32,
    value_size: usize,
    value_words: usize,
    /// For each CPU id below nr_cpu_ids: its region, or NO_REGION.
    region_of: Vec<u32>,
}

fn not_run(e: NotRun) -> MapError {
    if e.0 == -super::E_INVAL.0 {
        E_INVAL
    } else {
        E_BUSY
    }
}

impl PercpuArray {
    /// `None` without memory for the CPU table.
    pub fn new(max: u32, value_size: u32, regions: usize) -> Option<Self> {
        let nr = services::nr_cpu_ids();
        let mut region_of = Vec::new();
        region_of
            .try_reserve_exact(usize::try_from(nr).ok()?)
            .ok()?;
        let mut next = 0u32;
        for cpu in 0..nr {
            if services::cpu_possible(cpu) && (next as usize) < regions {
                region_of.push(next);
                next += 1;
            } else {
                region_of.push(NO_REGION);
            }
        }
        Some(Self {
            max,
            value_size: value_size as usize,
            value_words: words_of(value_size),
            region_of,
        })
    }

    /// Value slots per key: CPU ids below nr_cpu_ids.
    pub fn ncpus(&self) -> u32 {
        self.region_of.len() as u32
    }

    fn region<'r>(&self, regions: &'r [Words], cpu: u32) -> Option<&'r [AtomicU64]> {
        let r = *self.region_of.get(usize::try_from(cpu).ok()?)?;
        if r == NO_REGION {
            return None;
        }
        regions.get(r as usize).map(|w| &**w)
    }

    fn element<'r>(
        &self,
        regions: &'r [Words],
        cpu: u32,
        index: u32,
    ) -> Result<(&'r AtomicU64, &'r [AtomicU64]), MapError> {
        let region = self.region(regions, cpu).ok_or(E_INVAL)?;
        element(region, self.value_words, index).ok_or(E_INVAL)
    }

    fn index(&self, key: &[u8]) -> Result<u32, MapError> {
        let index = index_of(key).ok_or(E_INVAL)?;
        if index >= self.max {
            return Err(E_NOENT);
        }
        Ok(index)
    }

    /// Each CPU id's part of a buffer of `ncpus()` values: (cpu, part).
    fn parts<'b>(&self, buf: &'b mut [u8]) -> impl Iterator<Item = (u32, &'b mut [u8])> {
        buf.chunks_mut(self.value_size.max(1))
            .enumerate()
            .map(|(cpu, part)| (cpu as u32, part))
    }

    fn read_slot(
        &self,
        regions: &[Words],
        (cpu, owned): (u32, bool),
        index: u32,
        out: &mut [u8],
    ) -> Result<(), MapError> {
        let (seq, value) = self.element(regions, cpu, index)?;
        if owned {
            seq::load_bytes(value, out);
            return Ok(());
        }
        if seq::read_twice(seq, value, out) {
            return Ok(());
        }
        services::on_cpu(cpu, &mut || seq::load_bytes(value, out)).map_err(not_run)
    }

    fn write_slot(
        &self,
        regions: &[Words],
        (cpu, owned): (u32, bool),
        index: u32,
        bytes: &[u8],
    ) -> Result<(), MapError> {
        let (seq, value) = self.element(regions, cpu, index)?;
        if owned {
            seq::write(seq, value, bytes);
            return Ok(());
        }
        services::on_cpu(cpu, &mut || seq::write(seq, value, bytes)).map_err(not_run)
    }

    pub fn lookup(
        &self,
        regions: &[Words],
        slot: Slot,
        key: &[u8],
        out: &mut [u8],
    ) -> Result<(), MapError> {
        let index = self.index(key)?;
        match slot {
            Slot::Own(cpu) | Slot::Cpu(cpu) => {
                self.read_slot(regions, owner(slot, cpu), index, out)
            }
            Slot::All => {
                for (cpu, part) in self.parts(out) {
                    if self.region(regions, cpu).is_some() {
                        self.read_slot(regions, owner(slot, cpu), index, part)?;
                    } else {
                        part.fill(0);
                    }
                }
                Ok(())
            }
        }
    }

    pub fn update(
        &self,
        regions: &[Words],
        slot: Slot,
        key: &[u8],
        bytes: &[u8],
        flags: u32,
    ) -> Result<(), MapError> {
        check_flags(flags)?;
        let index = self.index(key)?;
        if flags == NOEXIST {
            return Err(E_EXIST);
        }
        match slot {
            Slot::Own(cpu) | Slot::Cpu(cpu) => {
                self.write_slot(regions, owner(slot, cpu), index, bytes)
            }
            Slot::All => {
                for (cpu, part) in bytes.chunks(self.value_size.max(1)).enumerate() {
                    let cpu = cpu as u32;
                    if self.region(regions, cpu).is_some() {
                        self.write_slot(regions, owner(slot, cpu), index, part)?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Adds to one CPU's counter; `Slot::All` names no counter (`EINVAL`).
    pub fn add(
        &self,
        regions: &[Words],
        slot: Slot,
        key: &[u8],
        word: usize,
        delta: i64,
    ) -> Result<(), MapError> {
        let (Slot::Own(cpu) | Slot::Cpu(cpu)) = slot else {
            return Err(E_INVAL);
        };
        let index = self.index(key)?;
        let (_, value) = self.element(regions, cpu, index)?;
        let counter = value.get(word).ok_or(E_INVAL)?;
        // The slot's only writer: a plain load and store, no locked
        // instruction.
        let bump = || {
            let v = counter.load(Ordering::Relaxed);
            counter.store(v.wrapping_add(delta as u64), Ordering::Relaxed);
        };
        if owner(slot, cpu).1 {
            bump();
            return Ok(());
        }
        services::on_cpu(cpu, &mut { bump }).map_err(not_run)
    }
}

/// `cpu` and whether the caller is its slots' sole writer now: a program's
/// run is (`Slot::Own`); anyone else asks the shim.
fn owner(slot: Slot, cpu: u32) -> (u32, bool) {
    (
        cpu,
        matches!(slot, Slot::Own(_)) || services::cpu_owned(cpu),
    )
}
