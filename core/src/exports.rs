//! The `kwasm_core_*` functions of include/kwasm_core.h, called by the shim.

use alloc::boxed::Box;
use core::ffi::{c_char, c_int};

use crate::load::{self, LoadError, Options, EINVAL};
pub use crate::prog::Program;
use crate::services::Pkt;
use crate::sys::kwasm as k;
use crate::trap;

/// Copies `msg` into the C buffer `err` of `err_len` bytes, cut and
/// NUL-terminated.
///
/// # Safety
/// `err` is null or writable for `err_len` bytes.
unsafe fn write_err(err: *mut c_char, err_len: usize, msg: &str) {
    if err.is_null() || err_len == 0 {
        return;
    }
    // SAFETY: the caller's contract.
    let buf = unsafe { core::slice::from_raw_parts_mut(err.cast::<u8>(), err_len) };
    let n = msg.len().min(err_len - 1);
    if let (Some(dst), Some(src)) = (buf.get_mut(..n), msg.as_bytes().get(..n)) {
        dst.copy_from_slice(src);
    }
    if let Some(nul) = buf.get_mut(n) {
        *nul = 0;
    }
}

/// Validates, compiles and instantiates a program (see kwasm_core.h).
///
/// # Safety
/// `wasm` is readable for `len` bytes, `opts` points to options, `out` is
/// writable, `err` is null or writable for `err_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_prog_new(
    wasm: *const u8,
    len: usize,
    opts: *const k::kwasm_prog_opts,
    out: *mut *mut Program,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    let wasm = match (wasm.is_null(), len) {
        (_, 0) => &[][..],
        // SAFETY: the caller's contract.
        (false, _) => unsafe { core::slice::from_raw_parts(wasm, len) },
        (true, _) => &[][..],
    };
    // SAFETY: the caller's contract; null is refused.
    let result = match unsafe { opts.as_ref() } {
        Some(opts) if !out.is_null() => Options::from_c(opts).and_then(|o| load::load(wasm, o)),
        _ => Err(LoadError::new(
            EINVAL,
            "no options or no result pointer".into(),
        )),
    };
    match result {
        Ok(prog) => {
            // SAFETY: out is non-null and writable (checked above).
            unsafe { *out = Box::into_raw(Box::new(prog)) };
            0
        }
        Err(e) => {
            // SAFETY: the caller's contract.
            unsafe { write_err(err, err_len, &e.msg) };
            -e.errno
        }
    }
}

/// # Safety
/// `prog` is null or came from kwasm_core_prog_new and is no longer used.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_prog_free(prog: *mut Program) {
    if !prog.is_null() {
        // SAFETY: the caller's contract: ours, from Box::into_raw.
        drop(unsafe { Box::from_raw(prog) });
    }
}

/// # Safety
/// `prog` came from kwasm_core_prog_new, `pkt` and `res` are valid; the
/// caller keeps the instance of `cpu` to itself meanwhile.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_prog_run(
    prog: *mut Program,
    cpu: u32,
    pkt: *const Pkt,
    res: *mut k::kwasm_run_result,
) {
    // SAFETY: the caller's contract; null is refused.
    let Some(res) = (unsafe { res.as_mut() }) else {
        return;
    };
    // SAFETY: the caller's contract.
    let (prog, pkt) = unsafe { (prog.cast_const().as_ref(), pkt.as_ref()) };
    *res = k::kwasm_run_result {
        verdict: k::KWASM_VERDICT_ACCEPT,
        outcome: k::KWASM_OUTCOME_SKIPPED,
        ..Default::default()
    };
    if let (Some(prog), Some(pkt)) = (prog, pkt) {
        let r = prog.run(cpu, pkt);
        res.verdict = r.verdict;
        res.outcome = r.outcome;
        res.trap = r.trap;
        res.retval = r.retval;
        res.fuel_used = r.fuel_used;
    }
}

/// # Safety
/// `prog` came from kwasm_core_prog_new, `info` is writable.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_prog_info(prog: *const Program, info: *mut k::kwasm_prog_info) {
    // SAFETY: the caller's contract; null is ignored.
    if let (Some(prog), Some(info)) = unsafe { (prog.as_ref(), info.as_mut()) } {
        prog.info(info);
    }
}

/// # Safety
/// `prog` came from kwasm_core_prog_new, `stats` is writable.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_prog_stats(prog: *const Program, stats: *mut k::kwasm_stats) {
    // SAFETY: the caller's contract; null is ignored.
    if let (Some(prog), Some(stats)) = unsafe { (prog.as_ref(), stats.as_mut()) } {
        prog.stats(stats);
    }
}

#[no_mangle]
pub extern "C" fn kwasm_core_trap_name(trap: u32) -> *const c_char {
    trap::name(trap).as_ptr()
}
