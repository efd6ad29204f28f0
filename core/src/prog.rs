//! A loaded program and the packet path: one instance per possible CPU.

use alloc::boxed::Box;
use alloc::ffi::CString;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::fmtbuf::FmtBuf;
use crate::m3::{Arg, FuncId, Runtime};
use crate::packet::Summary;
use crate::record::{self, PACKET_INFO_SIZE, RECORD_HEADER};
use crate::services::{self, Pkt};
use crate::stats::{CpuStats, Event};
use crate::sys::kwasm as k;
use crate::trap::Trap;
use crate::trylock::TryLock;
use crate::validate::Abi;

pub struct Program {
    pub name: CString,
    pub size: u32,
    pub snaplen: u32,
    pub default_verdict: u32,
    /// Fuel budget of each call.
    pub fuel: u64,
    pub abi: Abi,
    pub sha256: [u8; 32],
    /// Indexed by CPU id; `None` for ids that are not possible.
    pub instances: Vec<Option<Box<Instance>>>,
}

/// What the packet path changes, owned by one packet at a time.
pub struct InstanceState {
    pub runtime: Runtime,
    pub filter: FuncId,
    /// Offset of the block the program allocated for the packet record
    /// (or packet_info); `None` when it reads packets through host calls.
    pub record: Option<u32>,
}

pub struct Instance {
    state: TryLock<InstanceState>,
    stats: CpuStats,
    /// Linear memory size after the last run, for info from other CPUs.
    memory_bytes: AtomicU64,
    /// wasm3's heap besides linear memory, measured at load.
    heap_bytes: u64,
}

impl Instance {
    pub fn new(state: InstanceState, memory_bytes: u32, heap_bytes: u64) -> Self {
        Self {
            state: TryLock::new(state),
            stats: CpuStats::default(),
            memory_bytes: AtomicU64::new(memory_bytes.into()),
            heap_bytes,
        }
    }
}

/// The result of one run, as `struct kwasm_run_result` holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunResult {
    pub verdict: u32,
    pub outcome: u32,
    pub trap: u32,
    pub retval: i64,
    pub fuel_used: u64,
}

impl RunResult {
    fn not_run(verdict: u32, outcome: u32) -> Self {
        Self {
            verdict,
            outcome,
            trap: k::KWASM_TRAP_NONE,
            retval: 0,
            fuel_used: 0,
        }
    }
}

/// How to call the filter for one packet.
enum Prepared {
    Call([Arg; 2], usize),
    Skip,
    Trap(Trap),
}

impl Program {
    /// Runs the program of CPU `cpu` on `pkt`. Never allocates or sleeps.
    pub fn run(&self, cpu: u32, pkt: &Pkt) -> RunResult {
        let instance = usize::try_from(cpu)
            .ok()
            .and_then(|i| self.instances.get(i))
            .and_then(Option::as_deref);
        // No instance for this CPU id: refused like a busy instance.
        let Some(instance) = instance else {
            return RunResult::not_run(self.default_verdict, k::KWASM_OUTCOME_BUSY);
        };
        let Some(mut state) = instance.state.try_lock() else {
            instance.stats.count_busy();
            return RunResult::not_run(self.default_verdict, k::KWASM_OUTCOME_BUSY);
        };

        if !services::stack_ok() {
            let (result, event) = self.trapped(Trap::NoStack);
            instance.stats.count(event);
            self.log_trap(Trap::NoStack);
            return result;
        }
        let summary = Summary::read(pkt);
        let (result, event) = match self.prepare(&mut state, pkt, &summary) {
            Prepared::Skip => (
                RunResult::not_run(k::KWASM_ACCEPT, k::KWASM_OUTCOME_SKIPPED),
                Event::Skipped,
            ),
            Prepared::Trap(trap) => self.trapped(trap),
            Prepared::Call(args, argc) => {
                let filter = state.filter;
                let budget = crate::load::budget(self.fuel);
                let ret = state.runtime.set_fuel(budget).and_then(|()| {
                    state.runtime.call(
                        filter,
                        args.get(..argc).unwrap_or(&[]),
                        Some((pkt, summary)),
                    )
                });
                instance
                    .memory_bytes
                    .store(state.runtime.memory_size().into(), Relaxed);
                let left = state.runtime.fuel_left().unwrap_or(0);
                let (mut result, event) = match ret {
                    Ok(value) => self.returned(value),
                    Err(_) if left < 0 => self.trapped(Trap::OutOfFuel),
                    Err(e) => self.trapped(e.trap()),
                };
                // Spent, at most the budget: the last charge may overshoot.
                result.fuel_used = self.fuel.saturating_sub(u64::try_from(left).unwrap_or(0));
                (result, event)
            }
        };
        instance.stats.count(event);
        if let Event::Trapped { trap, .. } = event {
            self.log_trap(trap);
        }
        result
    }

    /// Writes what the program reads before the call, by ABI.
    fn prepare(&self, state: &mut InstanceState, pkt: &Pkt, summary: &Summary) -> Prepared {
        let none = [Arg::I32(0), Arg::I32(0)];
        match (self.abi, state.record) {
            (Abi::Kwasm { .. }, None) => Prepared::Call(none, 2),
            (Abi::Kwasm { .. }, Some(at)) => {
                let cap_len = pkt.len.min(self.snaplen);
                let memory = state.runtime.memory_mut();
                match write_record(memory, at, pkt, cap_len, summary.protocol) {
                    Some(len) => Prepared::Call([Arg::I32(at as i32), Arg::I32(len as i32)], 2),
                    None => Prepared::Trap(Trap::OutOfBounds),
                }
            }
            (Abi::Original, _) if !summary.is_tcp_or_udp() => Prepared::Skip,
            (Abi::Original, at) => {
                let memory = state.runtime.memory_mut();
                let info = at.and_then(|at| slice_at(memory, at, PACKET_INFO_SIZE as u32));
                match info.and_then(|b| b.first_chunk_mut::<PACKET_INFO_SIZE>()) {
                    Some(info) => {
                        record::write_packet_info(info, summary);
                        Prepared::Call(none, 0)
                    }
                    None => Prepared::Trap(Trap::OutOfBounds),
                }
            }
        }
    }

    fn returned(&self, value: i32) -> (RunResult, Event) {
        let (verdict, outcome, event) = match value as u32 {
            v @ (k::KWASM_DROP | k::KWASM_ACCEPT) => (
                v,
                k::KWASM_OUTCOME_OK,
                Event::Returned {
                    accepted: v == k::KWASM_ACCEPT,
                },
            ),
            _ => (
                self.default_verdict,
                k::KWASM_OUTCOME_INVALID,
                Event::Invalid {
                    accepted: self.default_verdict == k::KWASM_ACCEPT,
                },
            ),
        };
        let result = RunResult {
            verdict,
            outcome,
            trap: k::KWASM_TRAP_NONE,
            retval: value.into(),
            fuel_used: 0,
        };
        (result, event)
    }

    fn trapped(&self, trap: Trap) -> (RunResult, Event) {
        let result = RunResult {
            verdict: self.default_verdict,
            outcome: k::KWASM_OUTCOME_TRAP,
            trap: trap as u32,
            retval: 0,
            fuel_used: 0,
        };
        let event = Event::Trapped {
            trap,
            accepted: self.default_verdict == k::KWASM_ACCEPT,
        };
        (result, event)
    }

    /// One kernel log line per trap, rate-limited on its own (apart from
    /// the programs' output); formatted without allocating.
    fn log_trap(&self, trap: Trap) {
        let mut text = FmtBuf::<64>::new();
        let _ = match trap {
            Trap::OutOfFuel => write!(text, "out of fuel (budget {})", self.fuel),
            _ => write!(text, "trap {}", trap.name()),
        };
        services::log_trap(&self.name, text.as_bytes());
    }

    fn instances(&self) -> impl Iterator<Item = &Instance> {
        self.instances.iter().filter_map(Option::as_deref)
    }

    pub fn info(&self, info: &mut k::kwasm_prog_info) {
        *info = k::kwasm_prog_info::default();
        for (dst, &src) in info.name.iter_mut().zip(self.name.as_bytes()) {
            *dst = src as _;
        }
        if let Some(last) = info.name.last_mut() {
            *last = 0;
        }
        info.size = self.size;
        info.snaplen = self.snaplen;
        info.default_verdict = self.default_verdict;
        info.abi = match self.abi {
            Abi::Kwasm { .. } => k::KWASM_ABI_KWASM,
            Abi::Original => k::KWASM_ABI_ORIGINAL,
        };
        info.instances = self.instances().count() as u32;
        info.memory_bytes = self.instances().map(|i| i.memory_bytes.load(Relaxed)).sum();
        info.heap_bytes = self.instances().map(|i| i.heap_bytes).sum();
        info.sha256 = self.sha256;
        info.fuel = self.fuel;
    }

    pub fn stats(&self, stats: &mut k::kwasm_stats) {
        *stats = k::kwasm_stats::default();
        for instance in self.instances() {
            instance.stats.add_to(stats);
        }
    }
}

/// `len` bytes of memory at `at`, if they are all inside it.
fn slice_at(memory: &mut [u8], at: u32, len: u32) -> Option<&mut [u8]> {
    let start = at as usize;
    memory.get_mut(start..start.checked_add(len as usize)?)
}

/// Writes the packet record at `at` (header, then `cap_len` packet bytes
/// copied straight from the packet); returns its length.
fn write_record(memory: &mut [u8], at: u32, pkt: &Pkt, cap_len: u32, protocol: u8) -> Option<u32> {
    let len = record::record_size(cap_len);
    let (header, bytes) = slice_at(memory, at, len)?.split_first_chunk_mut::<RECORD_HEADER>()?;
    // The shim's length is the packet's; a failed copy leaves no bytes.
    let cap_len = match services::pkt_copy(pkt, 0, bytes) {
        Ok(()) => cap_len,
        Err(()) => 0,
    };
    record::write_record_header(header, pkt, cap_len, protocol);
    Some(record::record_size(cap_len))
}
