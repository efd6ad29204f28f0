//! How wasm3 reaches the host functions: one raw-call trampoline for all of
//! them, and the per-instance context it finds through the runtime.

use alloc::ffi::CString;
use core::cell::Cell;
use core::ffi::{c_void, CStr};
use core::ptr;

use crate::hostfns::{Call, HostFn};
use crate::packet::Summary;
use crate::services::Pkt;
use crate::sys::wasm3 as m3;

/// The result a host function returns to make its caller trap. wasm3
/// passes it through unchanged; `m3::classify` recognises it.
pub static HOST_TRAP: &CStr = c"[trap] host function argument out of bounds";

/// What host functions know beyond their arguments: the program's name and
/// the packet of the current run. Owned by one runtime (its user data).
pub struct HostCtx {
    name: CString,
    pkt: Cell<*const Pkt>,
    summary: Cell<Summary>,
}

impl HostCtx {
    pub fn new(name: CString) -> Self {
        Self {
            name,
            pkt: Cell::new(ptr::null()),
            summary: Cell::new(Summary::default()),
        }
    }

    pub fn name(&self) -> &CStr {
        &self.name
    }

    /// Makes `pkt` the current packet while `f` runs.
    pub fn with_packet<R>(&self, pkt: &Pkt, summary: Summary, f: impl FnOnce() -> R) -> R {
        self.pkt.set(pkt);
        self.summary.set(summary);
        let result = f();
        self.pkt.set(ptr::null());
        self.summary.set(Summary::default());
        result
    }

    /// The current packet; `None` outside a run (start function, alloc).
    pub fn packet(&self) -> Option<&Pkt> {
        // SAFETY: pkt is non-null only inside with_packet(), while the
        // reference it was made from is alive.
        unsafe { self.pkt.get().as_ref() }
    }

    pub fn summary(&self) -> Summary {
        self.summary.get()
    }
}

/// wasm3's view of every host function: `_ctx->userdata` is the table
/// entry, the runtime's user data is its HostCtx, `sp` holds the result slot
/// (if any) followed by one 64-bit slot per argument.
pub unsafe extern "C" fn trampoline(
    runtime: m3::IM3Runtime,
    ctx: m3::IM3ImportContext,
    sp: *mut u64,
    mem: *mut c_void,
) -> *const c_void {
    // SAFETY: wasm3 passes its import context, and the user data given to
    // m3_LinkRawFunctionEx, which is a &'static HostFn.
    let func = unsafe { &*(*ctx).userdata.cast::<HostFn>() };
    // SAFETY: the runtime's user data is its HostCtx (m3::Runtime::new),
    // which outlives every call into the runtime.
    let host = unsafe { &*m3::m3_GetUserData(runtime).cast::<HostCtx>() };
    let results = usize::from(func.returns);
    // SAFETY: the validator checked the import's type against func, so
    // wasm3 reserved results + params slots at sp.
    let slots = unsafe { core::slice::from_raw_parts_mut(sp, results + func.params) };
    // SAFETY: a loaded runtime always has a memory header; mem points to
    // its data, m3_GetMemorySize bytes long, not otherwise referenced while
    // the program waits for this call.
    let memory = unsafe {
        let len = m3::m3_GetMemorySize(runtime) as usize;
        if mem.is_null() || len == 0 {
            &mut []
        } else {
            core::slice::from_raw_parts_mut(mem.cast::<u8>(), len)
        }
    };

    let (ret, args) = slots.split_at_mut(results);
    let mut call = Call::new(args, memory, host);
    match (func.call)(&mut call) {
        Ok(value) => {
            if let Some(slot) = ret.first_mut() {
                *slot = u64::from(value as u32);
            }
            ptr::null()
        }
        Err(_) => HOST_TRAP.as_ptr().cast(),
    }
}
