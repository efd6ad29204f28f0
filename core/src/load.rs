//! Loading a program: checks, then one compiled wasm3 instance per
//! possible CPU, each with its packet record allocated.

use alloc::boxed::Box;
use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ffi::CStr;

use sha2::{Digest, Sha256};

use crate::hostcall::HostCtx;
use crate::limits;
use crate::m3::{Arg, M3Error, Runtime};
use crate::prog::{Instance, InstanceState, Program};
use crate::record::{self, PACKET_INFO_SIZE};
use crate::services;
use crate::sys::kwasm::{kwasm_prog_opts, KWASM_VERDICT_ACCEPT, KWASM_VERDICT_DROP};
use crate::validate::{self, Abi, Checked};

pub const ENOENT: i32 = 2;
pub const ENOMEM: i32 = 12;
pub const EINVAL: i32 = 22;
pub const EFBIG: i32 = 27;

/// KWASM_MAX_PROG_SIZE of include/uapi/kwasm.h.
const MAX_PROG_SIZE: usize = 4 << 20;
/// KWASM_MAX_SNAPLEN of include/uapi/kwasm.h.
const MAX_SNAPLEN: u32 = 65535;
/// wasm3 value stack of each instance.
const VALUE_STACK_BYTES: u32 = 64 << 10;

/// Why a load failed: a positive errno and a reason for the loader.
#[derive(Debug)]
pub struct LoadError {
    pub errno: i32,
    pub msg: String,
}

impl LoadError {
    pub fn new(errno: i32, msg: String) -> Self {
        Self { errno, msg }
    }

    /// A wasm3 failure during `step`.
    fn wasm3(step: &str, e: M3Error, rt: Option<&Runtime>) -> Self {
        let errno = if e.is_out_of_memory() { ENOMEM } else { EINVAL };
        let mut msg = format!("{step}: {}", e.text());
        if let Some(rt) = rt {
            rt.error_detail(&mut msg);
        }
        Self::new(errno, msg)
    }
}

/// The loader's options, checked.
pub struct Options {
    pub name: CString,
    pub snaplen: u32,
    pub default_verdict: u32,
}

impl Options {
    pub fn from_c(opts: &kwasm_prog_opts) -> Result<Self, LoadError> {
        let raw: Vec<u8> = opts
            .name
            .iter()
            .map(|&c| c as u8)
            .take_while(|&c| c != 0)
            .collect();
        let name =
            CString::new(raw).map_err(|_| LoadError::new(EINVAL, "bad program name".into()))?;
        if opts.snaplen > MAX_SNAPLEN {
            return Err(LoadError::new(
                EINVAL,
                format!("snap length {} is larger than {MAX_SNAPLEN}", opts.snaplen),
            ));
        }
        if !matches!(
            opts.default_verdict,
            KWASM_VERDICT_DROP | KWASM_VERDICT_ACCEPT
        ) {
            return Err(LoadError::new(
                EINVAL,
                format!(
                    "default verdict {} is neither drop (0) nor accept (1)",
                    opts.default_verdict
                ),
            ));
        }
        Ok(Self {
            name,
            snaplen: opts.snaplen,
            default_verdict: opts.default_verdict,
        })
    }
}

pub fn load(wasm: &[u8], opts: Options) -> Result<Program, LoadError> {
    if wasm.len() > MAX_PROG_SIZE {
        return Err(LoadError::new(
            EFBIG,
            format!(
                "module of {} bytes is larger than {MAX_PROG_SIZE}",
                wasm.len()
            ),
        ));
    }
    let checked = validate::check(wasm)?;

    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(wasm.len())
        .map_err(|_| LoadError::new(ENOMEM, "out of memory for the module".into()))?;
    bytes.extend_from_slice(wasm);
    let bytes = Arc::new(bytes);

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
) -> Result<Instance, LoadError> {
    let heap_before = services::heap_bytes();
    let host = HostCtx::new(opts.name.clone());
    let mut rt = Runtime::new(VALUE_STACK_BYTES, host, bytes.clone())
        .map_err(|e| LoadError::wasm3("creating the wasm3 runtime", e, None))?;
    rt.load()
        .map_err(|e| LoadError::wasm3("loading the module", e, Some(&rt)))?;
    for &func in &checked.imports {
        rt.link(func)
            .map_err(|e| LoadError::wasm3("linking host functions", e, Some(&rt)))?;
    }
    rt.compile()
        .map_err(|e| LoadError::wasm3("compiling the module", e, Some(&rt)))?;
    rt.run_start()
        .map_err(|e| LoadError::wasm3("running the start function", e, Some(&rt)))?;

    let (filter_name, alloc) = entry_points(checked.abi, opts.snaplen);
    let filter = rt
        .find(filter_name)
        .map_err(|e| LoadError::wasm3("finding the filter function", e, Some(&rt)))?;
    let record = match alloc {
        None => None,
        Some((name, arg, size)) => Some(allocate_record(&mut rt, name, arg, size)?),
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
fn allocate_record(rt: &mut Runtime, name: &CStr, arg: Arg, size: u32) -> Result<u32, LoadError> {
    let call = name.to_str().unwrap_or("alloc");
    let func = rt
        .find(name)
        .map_err(|e| LoadError::wasm3("finding the allocator", e, Some(&*rt)))?;
    let at = rt
        .call(func, &[arg], None)
        .map_err(|e| LoadError::wasm3(&format!("calling {call}({size})"), e, None))?
        as u32;
    let memory = rt.memory_size();
    if u64::from(at) + u64::from(size) > u64::from(memory) {
        return Err(LoadError::new(
            EINVAL,
            format!("{call}({size}) returned {at:#x}, outside the {memory} bytes of linear memory"),
        ));
    }
    Ok(at)
}
