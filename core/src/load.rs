//! Loading a program: checks, then one compiled wasm3 instance per
//! possible CPU, each with its packet record allocated.

use alloc::boxed::Box;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ffi::CStr;

use sha2::{Digest, Sha256};

use crate::abi::{self, Error, EFBIG, EINVAL, ENOMEM};
use crate::fuel;
use crate::options::Options;
use crate::hostcall::HostCtx;
use crate::limits;
use crate::m3::{Arg, M3Error, Runtime};
use crate::prog::{Instance, InstanceState, Program};
use crate::record::{self, PACKET_INFO_SIZE};
use crate::services;
use crate::validate::{self, Abi, Checked};

/// KWASM_MAX_PROG_SIZE of include/uapi/kwasm.h.
const MAX_PROG_SIZE: usize = abi::KWASM_MAX_PROG_SIZE as usize;
/// wasm3 value stack of each instance.
const VALUE_STACK_BYTES: u32 = 64 << 10;

/// A wasm3 failure during `step`.
fn wasm3_error(step: &str, e: M3Error, rt: Option<&Runtime>) -> Error {
    let errno = if e.is_out_of_memory() { ENOMEM } else { EINVAL };
    let mut msg = format!("{step}: {}", e.text());
    if let Some(rt) = rt {
        rt.error_detail(&mut msg);
    }
    Error::new(errno, msg)
}

pub fn load(wasm: &[u8], opts: Options) -> Result<Program, Error> {
    if wasm.len() > MAX_PROG_SIZE {
        return Err(Error::new(
            EFBIG,
            format!(
                "module of {} bytes is larger than {MAX_PROG_SIZE}",
                wasm.len()
            ),
        ));
    }
    let checked = validate::check(wasm)?;
    // What wasm3 runs is the metered module; size and hash are the user's.
    let metered = fuel::instrument(wasm, budget(opts.fuel), validate::features())
        .map_err(|e| Error::new(EINVAL, e.0))?;
    let bytes = Arc::new(metered);

    let nr_cpu_ids = services::nr_cpu_ids();
    let possible = (0..nr_cpu_ids)
        .filter(|&c| services::cpu_possible(c))
        .count();
    limits::instances(checked.initial_memory, possible as u64)?;
    let mut instances = Vec::with_capacity(nr_cpu_ids as usize);
    for cpu in 0..nr_cpu_ids {
        let instance = if services::cpu_possible(cpu) {
            Some(Box::new(instantiate(&bytes, &checked, &opts)?))
        } else {
            None
        };
        instances.push(instance);
    }

    Ok(Program {
        name: opts.name,
        size: wasm.len() as u32,
        snaplen: opts.snaplen,
        default_verdict: opts.default_verdict,
        fuel: opts.fuel,
        abi: checked.abi,
        sha256: Sha256::digest(wasm).into(),
        instances,
    })
}

/// The functions the host calls, by ABI: the filter, and the allocator
/// with the size to ask it for.
fn entry_points(abi: Abi, snaplen: u32) -> (&'static CStr, Option<(&'static CStr, Arg, u32)>) {
    match abi {
        Abi::Kwasm { alloc } => {
            let size = record::record_size(snaplen);
            (
                c"kwasm_filter",
                alloc.then_some((c"kwasm_alloc", Arg::I32(size as i32), size)),
            )
        }
        Abi::Original => {
            let size = PACKET_INFO_SIZE as u32;
            (c"filter", Some((c"alloc", Arg::I64(size.into()), size)))
        }
    }
}

fn instantiate(
    bytes: &Arc<Vec<u8>>,
    checked: &Checked,
    opts: &Options,
) -> Result<Instance, Error> {
    let heap_before = services::heap_bytes();
    let host = HostCtx::new(opts.name.clone());
    let mut rt = Runtime::new(VALUE_STACK_BYTES, host, bytes.clone())
        .map_err(|e| wasm3_error("creating the wasm3 runtime", e, None))?;
    rt.load()
        .map_err(|e| wasm3_error("loading the module", e, Some(&rt)))?;
    for &func in &checked.imports {
        rt.link(func)
            .map_err(|e| wasm3_error("linking host functions", e, Some(&rt)))?;
    }
    rt.compile().map_err(|e| {
        let mut err = wasm3_error("compiling the module", e, Some(&rt));
        if e.is_function_stack_overflow() {
            err.msg.push_str(
                " (fuel metering needs 3 more operand slots at function entries and loop headers)",
            );
        }
        err
    })?;
    // The start function ran with the global's initial value: the budget.
    rt.run_start()
        .map_err(|e| call_failed("running the start function", e, &rt, opts.fuel))?;

    let (filter_name, alloc) = entry_points(checked.abi, opts.snaplen);
    let filter = rt
        .find(filter_name)
        .map_err(|e| wasm3_error("finding the filter function", e, Some(&rt)))?;
    let record = match alloc {
        None => None,
        Some((name, arg, size)) => Some(allocate_record(&mut rt, name, arg, size, opts.fuel)?),
    };
    let memory = rt.memory_size();
    // What building this instance added to wasm3's heap, less its linear
    // memory (counted on its own). Loads are rare; one running at the same
    // time as another load or a test-run can skew the figure.
    let heap = services::heap_bytes()
        .saturating_sub(heap_before)
        .saturating_sub(memory.into());
    Ok(Instance::new(
        InstanceState {
            runtime: rt,
            filter,
            record,
        },
        memory,
        heap,
    ))
}

/// Calls the program's allocator once and checks the block it returns.
fn allocate_record(
    rt: &mut Runtime,
    name: &CStr,
    arg: Arg,
    size: u32,
    fuel: u64,
) -> Result<u32, Error> {
    let call = name.to_str().unwrap_or("alloc");
    let func = rt
        .find(name)
        .map_err(|e| wasm3_error("finding the allocator", e, Some(&*rt)))?;
    let step = format!("calling {call}({size})");
    rt.set_fuel(budget(fuel))
        .map_err(|e| wasm3_error(&step, e, None))?;
    let at = rt
        .call(func, &[arg], None)
        .map_err(|e| call_failed(&step, e, rt, fuel))? as u32;
    let memory = rt.memory_size();
    if u64::from(at) + u64::from(size) > u64::from(memory) {
        return Err(Error::new(
            EINVAL,
            format!("{call}({size}) returned {at:#x}, outside the {memory} bytes of linear memory"),
        ));
    }
    Ok(at)
}

/// A budget as the fuel global holds it (the options cap it far below
/// i64::MAX).
pub fn budget(fuel: u64) -> i64 {
    i64::try_from(fuel).unwrap_or(i64::MAX)
}

/// A call at load failed: out of fuel when the fuel global is below zero.
fn call_failed(step: &str, e: M3Error, rt: &Runtime, fuel: u64) -> Error {
    if rt.fuel_left().is_some_and(|left| left < 0) {
        return Error::new(EINVAL, format!("{step}: out of fuel (budget {fuel})"));
    }
    wasm3_error(step, e, Some(rt))
}
