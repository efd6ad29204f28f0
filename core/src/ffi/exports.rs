//! The `kwasm_core_*` functions of include/kwasm_core.h, called by the shim.

use alloc::boxed::Box;
use core::ffi::{c_char, c_int};

use super::services::Pkt;
use super::sys::kwasm as k;
use crate::abi::{Error, EINVAL};
use crate::engine::trap;
use crate::filter::options::Options;
pub use crate::filter::program::Program;

/// Copies `msg` into the C buffer `err` of `err_len` bytes, cut and
/// NUL-terminated.
///
/// # Safety
/// `err` is null or writable for `err_len` bytes.
pub(super) unsafe fn write_err(err: *mut c_char, err_len: usize, msg: &str) {
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

/// Checks a load request's options (see kwasm_core.h).
///
/// # Safety
/// `req` points to a request, `opts` is writable, `err` is null or
/// writable for `err_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_load_opts(
    req: *const k::kwasm_load,
    opts: *mut k::kwasm_prog_opts,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    // SAFETY: the caller's contract; null is refused.
    let (Some(req), Some(opts)) = (unsafe { (req.as_ref(), opts.as_mut()) }) else {
        // SAFETY: the caller's contract.
        unsafe { write_err(err, err_len, "no request or no result pointer") };
        return -EINVAL;
    };
    match Options::from_load(req) {
        Ok(checked) => {
            *opts = checked.to_c();
            0
        }
        Err(e) => {
            // SAFETY: the caller's contract.
            unsafe { write_err(err, err_len, &e.msg) };
            -e.errno
        }
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
        Some(opts) if !out.is_null() => Options::from_c(opts).and_then(|o| Program::load(wasm, o)),
        _ => Err(Error::new(EINVAL, "no options or no result pointer".into())),
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
        verdict: k::KWASM_ACCEPT,
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

pub use crate::invoke::{Invoker, Outcome};

/// Validates and instantiates a module for the invoke path (see
/// kwasm_core.h).
///
/// # Safety
/// `wasm` is readable for `len` bytes, `out` is writable, `err` is null or
/// writable for `err_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_invoke_new(
    wasm: *const u8,
    len: usize,
    out: *mut *mut Invoker,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    let wasm = if wasm.is_null() || len == 0 {
        &[][..]
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts(wasm, len) }
    };
    let result = if out.is_null() {
        Err(Error::new(EINVAL, "no result pointer".into()))
    } else {
        Invoker::new(wasm)
    };
    match result {
        Ok(inv) => {
            // SAFETY: out is non-null and writable (checked above).
            unsafe { *out = Box::into_raw(Box::new(inv)) };
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
/// `inv` is null or came from kwasm_core_invoke_new and is no longer used.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_invoke_free(inv: *mut Invoker) {
    if !inv.is_null() {
        // SAFETY: the caller's contract: ours, from Box::into_raw.
        drop(unsafe { Box::from_raw(inv) });
    }
}

/// Calls an export of an invoke instance (see kwasm_core.h).
///
/// # Safety
/// `inv` came from kwasm_core_invoke_new and nobody else uses it meanwhile;
/// `name` is readable for `name_len` bytes, `args` for `nargs` values, `res`
/// is writable, `err` is null or writable for `err_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_invoke_call(
    inv: *mut Invoker,
    name: *const c_char,
    name_len: usize,
    args: *const u64,
    nargs: u32,
    res: *mut k::kwasm_invoke_result,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    // SAFETY: the caller's contract; null is refused.
    let (Some(inv), Some(res)) = (unsafe { (inv.as_mut(), res.as_mut()) }) else {
        // SAFETY: the caller's contract.
        unsafe { write_err(err, err_len, "no instance or no result pointer") };
        return -EINVAL;
    };
    *res = k::kwasm_invoke_result::default();
    let name = if name.is_null() || name_len == 0 {
        &[][..]
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts(name.cast::<u8>(), name_len) }
    };
    let args = if args.is_null() || nargs == 0 {
        &[][..]
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts(args, nargs as usize) }
    };
    let result = match core::str::from_utf8(name) {
        Ok(name) => inv.call(name, args),
        Err(_) => Err(Error::new(EINVAL, "export name is not UTF-8".into())),
    };
    match result {
        Ok(Outcome::Returned(values)) => {
            res.nresults = values.len() as u32;
            for ((t, v), (dt, dv)) in values
                .iter()
                .zip(res.types.iter_mut().zip(res.results.iter_mut()))
            {
                *dt = *t;
                *dv = *v;
            }
            0
        }
        Ok(Outcome::Trapped(trap, msg)) => {
            res.trap = trap as u32;
            // SAFETY: the caller's contract.
            unsafe { write_err(err, err_len, msg) };
            0
        }
        Err(e) => {
            // SAFETY: the caller's contract.
            unsafe { write_err(err, err_len, &e.msg) };
            -e.errno
        }
    }
}
