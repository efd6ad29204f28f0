//! A loaded program and the packet path: one instance per possible CPU,
//! each compiled and instantiated at load, so that a packet costs one call
//! into wasm3 and no allocation (docs/ARCHITECTURE.md, "Per-packet cost").

use alloc::boxed::Box;
use alloc::ffi::CString;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use sha2::{Digest, Sha256};

use super::entry::{self, Abi, Alloc};
use super::hostfns::{FilterCtx, HOST_FNS};
use super::map_checks;
use super::options::Options;
use super::packet::Summary;
use super::record::{self, Version, PACKET_INFO_SIZE};
use super::stats::{CpuStats, Event};
use crate::abi::{self as k, Error, EINVAL};
use crate::engine::instance::{self, Func};
use crate::engine::limits;
use crate::engine::trap::Trap;
use crate::engine::wasm3::{Arg, Runtime};
use crate::engine::{self, Module};
use crate::ffi::services::{self, Pkt};
use crate::ffi::sys::kwasm::{kwasm_prog_info, kwasm_stats};
use crate::maps::decl::{self as map_decl, MapDecl};
use crate::maps::{self, table::Table};
use crate::util::fmtbuf::FmtBuf;
use crate::util::trylock::TryLock;

pub struct Program {
    pub name: CString,
    pub size: u32,
    pub snaplen: u32,
    pub default_verdict: u32,
    /// Fuel budget of each call.
    pub fuel: u64,
    pub abi: Abi,
    pub sha256: [u8; 32],
    /// Its maps, as its `kwasm.maps` section declares them, in section
    /// order: allocated empty, or adopted from the program it replaces.
    /// Shared with user-space requests in flight (`kwasm_core_maps_get`).
    pub maps: Arc<Table>,
    /// Bytes all its maps take, computed from the declarations.
    pub map_memory: u64,
    /// Loaded with `KWASM_LOAD_FRESH_MAPS`: adopts no maps.
    pub fresh_maps: bool,
    /// Some function may grow linear memory: its size is read after a run.
    grows_memory: bool,
    /// Indexed by CPU id; `None` for ids that are not possible.
    instances: Vec<Option<Box<Instance>>>,
}

/// What the packet path changes, owned by one packet at a time.
struct InstanceState {
    runtime: Runtime<FilterCtx>,
    filter: Func,
    /// Offset of the block the program allocated for the packet record
    /// (or packet_info); `None` when it reads packets through host calls.
    record: Option<u32>,
}

struct Instance {
    state: TryLock<InstanceState>,
    stats: CpuStats,
    /// Linear memory size after the last run, for info from other CPUs.
    memory_bytes: AtomicU64,
    /// wasm3's heap besides linear memory, measured at load.
    heap_bytes: u64,
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
    /// The filter's arguments, how many it takes, the header facts when
    /// they were parsed already.
    Call([Arg; 2], usize, Option<Summary>),
    Skip,
    Trap(Trap),
}

impl Program {
    /// Checks `wasm` and builds one instance of it per possible CPU.
    pub fn load(wasm: &[u8], opts: Options) -> Result<Self, Error> {
        let module = engine::check(wasm, &HOST_FNS, opts.fuel)?;
        let abi = entry::detect(&module)?;
        entry::check_family(abi, opts.family)?;
        let nr_cpu_ids = services::nr_cpu_ids();
        let possible = (0..nr_cpu_ids)
            .filter(|&c| services::cpu_possible(c))
            .count();
        let decls = declared_maps(&module, abi, possible as u32)?;
        map_checks::check(&module.host_calls, &module.func_imports, &decls)?;
        let map_memory = map_decl::total_memory(&decls);
        limits::instances(
            module.initial_memory,
            possible as u64,
            (map_memory, "of maps"),
        )?;
        let maps = maps::allocate(decls, possible as u32)?;
        let maps = Arc::new(Table::new(maps.into_iter().map(Arc::new).collect()));
        let mut instances = Vec::with_capacity(nr_cpu_ids as usize);
        for cpu in 0..nr_cpu_ids {
            let instance = if services::cpu_possible(cpu) {
                let ctx = FilterCtx::new(opts.name.clone(), cpu, opts.id);
                Some(Box::new(Instance::new(&module, ctx, abi, &opts)?))
            } else {
                None
            };
            instances.push(instance);
        }
        Ok(Self {
            name: opts.name,
            size: wasm.len() as u32,
            snaplen: opts.snaplen,
            default_verdict: opts.default_verdict,
            fuel: opts.fuel,
            abi,
            sha256: Sha256::digest(wasm).into(),
            maps,
            map_memory,
            fresh_maps: opts.fresh_maps,
            grows_memory: module.grows_memory,
            instances,
        })
    }

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
        let (result, event) = match self.prepare(&mut state, pkt) {
            Prepared::Skip => (
                RunResult::not_run(k::KWASM_ACCEPT, k::KWASM_OUTCOME_SKIPPED),
                Event::Skipped,
            ),
            Prepared::Trap(trap) => self.trapped(trap),
            Prepared::Call(args, argc, summary) => {
                let filter = state.filter;
                let args = args.get(..argc).unwrap_or(&[]);
                let called = instance::call(&mut state.runtime, filter, self.fuel, |rt, f| {
                    rt.call_in(f, args, |ctx, call| {
                        ctx.with_packet(pkt, summary, &self.maps, call)
                    })
                });
                if self.grows_memory {
                    let size = state.runtime.memory_size();
                    instance.memory_bytes.store(size.into(), Relaxed);
                }
                let (mut result, event) = match called.result {
                    Ok(value) => self.returned(value),
                    Err((trap, _)) => self.trapped(trap),
                };
                result.fuel_used = called.fuel_used;
                (result, event)
            }
        };
        instance.stats.count(event);
        if let Event::Trapped { trap, .. } = event {
            self.log_trap(trap);
        }
        result
    }

    /// Writes what the program reads before the call, by ABI. The
    /// packet's first bytes are copied once: into the record when the
    /// program has one (and the header parsed from there), else into a
    /// buffer on the stack.
    #[inline]
    fn prepare(&self, state: &mut InstanceState, pkt: &Pkt) -> Prepared {
        let none = [Arg::I32(0), Arg::I32(0)];
        match (self.abi, state.record) {
            // Parsed only if a host function asks (accept_all never does).
            (Abi::Kwasm { .. }, None) => Prepared::Call(none, 2, None),
            (Abi::Kwasm { record, .. }, Some(at)) => {
                let cap_len = pkt.len.min(self.snaplen);
                let memory = state.runtime.memory_mut();
                match write_record(memory, at, record, pkt, cap_len) {
                    Some((len, summary)) => Prepared::Call(
                        [Arg::I32(at as i32), Arg::I32(len as i32)],
                        2,
                        Some(summary),
                    ),
                    None => Prepared::Trap(Trap::OutOfBounds),
                }
            }
            (Abi::Original, at) => {
                let summary = Summary::read(pkt);
                // packet_info holds IPv4 TCP and UDP only.
                if summary.is_ipv6() || !summary.is_tcp_or_udp() {
                    return Prepared::Skip;
                }
                let memory = state.runtime.memory_mut();
                let info = at.and_then(|at| slice_at(memory, at, PACKET_INFO_SIZE as u32));
                match info.and_then(|b| b.first_chunk_mut::<PACKET_INFO_SIZE>()) {
                    Some(info) => {
                        record::write_packet_info(info, &summary);
                        Prepared::Call(none, 0, Some(summary))
                    }
                    None => Prepared::Trap(Trap::OutOfBounds),
                }
            }
        }
    }

    #[inline]
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

    pub fn info(&self, info: &mut kwasm_prog_info) {
        *info = kwasm_prog_info::default();
        for (dst, &src) in info.name.iter_mut().zip(self.name.as_bytes()) {
            *dst = src as _;
        }
        if let Some(last) = info.name.last_mut() {
            *last = 0;
        }
        info.size = self.size;
        info.snaplen = self.snaplen;
        info.default_verdict = self.default_verdict;
        (info.abi, info.record_version) = match self.abi {
            Abi::Kwasm { record, .. } => (k::KWASM_ABI_KWASM, u32::from(record.number())),
            Abi::Original => (k::KWASM_ABI_ORIGINAL, 0),
        };
        info.instances = self.instances().count() as u32;
        info.memory_bytes = self.instances().map(|i| i.memory_bytes.load(Relaxed)).sum();
        info.heap_bytes = self.instances().map(|i| i.heap_bytes).sum();
        info.sha256 = self.sha256;
        info.fuel = self.fuel;
        info.maps = self.maps.len() as u32;
        info.map_memory = self.map_memory;
    }

    /// Before this program replaces `old`: takes over `old`'s maps of
    /// the same name and shape, unless it was loaded with fresh maps
    /// ([`Table::adopt`]). Nothing has run this program's packets yet: map
    /// calls are refused at load, so no write to a map it drops is lost.
    pub fn adopt(&mut self, old: &Program) -> Result<usize, Error> {
        if self.fresh_maps {
            return Ok(0);
        }
        // Not published yet, so nobody else holds its table.
        let Some(maps) = Arc::get_mut(&mut self.maps) else {
            return Err(Error::new(
                k::EBUSY,
                "the new program's maps are in use".into(),
            ));
        };
        maps.adopt(&old.maps)
    }

    pub fn stats(&self, stats: &mut kwasm_stats) {
        *stats = kwasm_stats::default();
        for instance in self.instances() {
            instance.stats.add_to(stats);
        }
    }
}

/// The maps `module` declares in its `kwasm.maps` section, checked for a
/// machine of `possible_cpus`; none without the section. The original ABI
/// has no maps.
fn declared_maps<C>(
    module: &Module<C>,
    abi: Abi,
    possible_cpus: u32,
) -> Result<Vec<MapDecl>, Error> {
    let Some(section) = module.custom_section(map_decl::SECTION) else {
        return Ok(Vec::new());
    };
    if abi == Abi::Original {
        return Err(Error::new(
            EINVAL,
            format!(
                "custom section {} declares maps, which are for kwasm_filter programs, not \
                 the original ABI",
                map_decl::SECTION
            ),
        ));
    }
    map_decl::parse(section, possible_cpus)
}

/// `len` bytes of memory at `at`, if they are all inside it.
fn slice_at(memory: &mut [u8], at: u32, len: u32) -> Option<&mut [u8]> {
    let start = at as usize;
    memory.get_mut(start..start.checked_add(len as usize)?)
}

/// Writes the packet record at `at`: `cap_len` packet bytes copied
/// straight from the packet, the facts parsed from them (read from the
/// packet again only when the snap length cut them off), then the header.
/// Returns the record's length and the facts.
fn write_record(
    memory: &mut [u8],
    at: u32,
    version: Version,
    pkt: &Pkt,
    cap_len: u32,
) -> Option<(u32, Summary)> {
    let len = record::record_size(version, cap_len);
    let (header, bytes) =
        slice_at(memory, at, len)?.split_at_mut_checked(version.header_len() as usize)?;
    // The shim's length is the packet's; a failed copy leaves no bytes.
    let cap_len = match services::pkt_copy(pkt, 0, bytes) {
        Ok(()) => cap_len,
        Err(_) => 0,
    };
    let summary = match bytes.get(..cap_len as usize) {
        Some(captured) => Summary::parse_captured(captured, pkt),
        None => Summary::read(pkt),
    };
    record::write_record_header(header, version, pkt, cap_len, &summary);
    Some((record::record_size(version, cap_len), summary))
}

impl Instance {
    /// One instance of `module` for one CPU (the CPU of `ctx`):
    /// instantiated, its filter found, its record allocated.
    fn new(
        module: &Module<FilterCtx>,
        ctx: FilterCtx,
        abi: Abi,
        opts: &Options,
    ) -> Result<Self, Error> {
        let heap_before = services::heap_bytes();
        let mut rt = instance::instantiate(module, ctx, opts.fuel)?;
        let (filter_name, alloc) = entry::entry_points(abi, opts.snaplen);
        let filter = instance::find(module, &mut rt, filter_name, "the filter function")?;
        let record = match alloc {
            None => None,
            Some(alloc) => Some(allocate_record(module, &mut rt, &alloc, opts.fuel)?),
        };
        let memory = rt.memory_size();
        // What building this instance added to wasm3's heap, less its linear
        // memory (counted on its own). Loads are rare; one running at the same
        // time as another load or a test-run can skew the figure.
        let heap = services::heap_bytes()
            .saturating_sub(heap_before)
            .saturating_sub(memory.into());
        Ok(Self {
            state: TryLock::new(InstanceState {
                runtime: rt,
                filter,
                record,
            }),
            stats: CpuStats::default(),
            memory_bytes: AtomicU64::new(memory.into()),
            heap_bytes: heap,
        })
    }
}

/// Calls the program's allocator once and checks the block it returns.
fn allocate_record(
    module: &Module<FilterCtx>,
    rt: &mut Runtime<FilterCtx>,
    alloc: &Alloc,
    fuel: u64,
) -> Result<u32, Error> {
    let call = alloc.name.to_str().unwrap_or("alloc");
    let size = alloc.size;
    let func = instance::find(module, rt, alloc.name, "the allocator")?;
    let step = format!("calling {call}({size})");
    let at = instance::call_at_load(rt, func, &[alloc.arg], fuel, &step)? as u32;
    let memory = rt.memory_size();
    if u64::from(at) + u64::from(size) > u64::from(memory) {
        return Err(Error::new(
            EINVAL,
            format!("{call}({size}) returned {at:#x}, outside the {memory} bytes of linear memory"),
        ));
    }
    Ok(at)
}
