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

/// 0 for `Ok`; else writes the reason to `err` and returns the negative
/// errno.
///
/// # Safety
/// `err` is null or writable for `err_len` bytes.
unsafe fn errno_of(result: Result<(), Error>, err: *mut c_char, err_len: usize) -> c_int {
    match result {
        Ok(()) => 0,
        Err(e) => {
            // SAFETY: the caller's contract.
            unsafe { write_err(err, err_len, &e.msg) };
            -e.errno
        }
    }
}

/// `len` items at `ptr`; none when `ptr` is null or `len` is 0.
///
/// # Safety
/// `ptr` is null or readable for `len` items for `'a`, nobody writing them.
unsafe fn slice<'a, T>(ptr: *const T, len: usize) -> &'a [T] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts(ptr, len) }
    }
}

/// The same, writable.
///
/// # Safety
/// `ptr` is null or readable and writable for `len` items for `'a`, no
/// other reference to them meanwhile.
unsafe fn slice_mut<'a, T>(ptr: *mut T, len: usize) -> &'a mut [T] {
    if ptr.is_null() || len == 0 {
        &mut []
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts_mut(ptr, len) }
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
    let result = Options::from_load(req).map(|checked| *opts = checked.to_c());
    // SAFETY: the caller's contract.
    unsafe { errno_of(result, err, err_len) }
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
    // SAFETY: the caller's contract.
    let wasm = unsafe { slice(wasm, len) };
    // SAFETY: the caller's contract; null is refused.
    let result = match unsafe { opts.as_ref() } {
        Some(opts) if !out.is_null() => Options::from_c(opts).and_then(|o| Program::load(wasm, o)),
        _ => Err(Error::new(EINVAL, "no options or no result pointer".into())),
    };
    let result = result.map(|prog| {
        // SAFETY: out is non-null and writable (checked above).
        unsafe { *out = Box::into_raw(Box::new(prog)) };
    });
    // SAFETY: the caller's contract.
    unsafe { errno_of(result, err, err_len) }
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
/// `new` came from kwasm_core_prog_new and is used by no one else; `old`
/// is null or a live program; `err` is writable for `err_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_prog_adopt(
    new: *mut Program,
    old: *const Program,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    // SAFETY: the caller's contract: new is exclusively ours, old shared.
    let (new, old) = unsafe { (new.as_mut(), old.as_ref()) };
    let result = match (new, old) {
        (Some(new), Some(old)) => new.adopt(old).map(|_| ()),
        (Some(_), None) => Ok(()),
        (None, _) => Err(Error::new(EINVAL, "no program".into())),
    };
    // SAFETY: the caller's contract.
    unsafe { errno_of(result, err, err_len) }
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
    // SAFETY: the caller's contract.
    let wasm = unsafe { slice(wasm, len) };
    let result = if out.is_null() {
        Err(Error::new(EINVAL, "no result pointer".into()))
    } else {
        Invoker::new(wasm)
    };
    let result = result.map(|inv| {
        // SAFETY: out is non-null and writable (checked above).
        unsafe { *out = Box::into_raw(Box::new(inv)) };
    });
    // SAFETY: the caller's contract.
    unsafe { errno_of(result, err, err_len) }
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
    // SAFETY: the caller's contract.
    let (name, args) = unsafe {
        (
            slice(name.cast::<u8>(), name_len),
            slice(args, nargs as usize),
        )
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

use crate::maps::user::{self, Op};
pub use crate::maps::Table;
use alloc::sync::Arc;

/// A reference to `prog`'s maps, for a map request (see kwasm_core.h).
///
/// # Safety
/// `prog` is null or came from kwasm_core_prog_new and is not freed
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_maps_get(prog: *const Program) -> *const Table {
    // SAFETY: the caller's contract; null gives null.
    match unsafe { prog.as_ref() } {
        Some(prog) => Arc::into_raw(Arc::clone(&prog.maps)),
        None => core::ptr::null(),
    }
}

/// Drops a reference from kwasm_core_maps_get; the last one frees the maps.
///
/// # Safety
/// `maps` is null or came from kwasm_core_maps_get and is not used after.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_maps_put(maps: *const Table) {
    if !maps.is_null() {
        // SAFETY: the caller's contract: one reference of Arc::into_raw.
        drop(unsafe { Arc::from_raw(maps) });
    }
}

/// The number of maps.
///
/// # Safety
/// `maps` is null or a live reference from kwasm_core_maps_get.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_maps_count(maps: *const Table) -> u32 {
    // SAFETY: the caller's contract; null has none.
    unsafe { maps.as_ref() }.map_or(0, |t| t.iter().count() as u32)
}

/// Facts about map `index` in declaration order: 0, or -ENOENT past the
/// last.
///
/// # Safety
/// `maps` is null or a live reference from kwasm_core_maps_get; `info` is
/// null or writable.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_map_info(
    maps: *const Table,
    index: u32,
    info: *mut k::kwasm_map_info,
) -> c_int {
    // SAFETY: the caller's contract; null is refused.
    let (Some(maps), Some(info)) = (unsafe { (maps.as_ref(), info.as_mut()) }) else {
        return -EINVAL;
    };
    match maps.iter().nth(index as usize) {
        Some(map) => {
            user::info(map, info);
            0
        }
        None => -crate::abi::ENOENT,
    }
}

/// A key request's maps, request and operation, or `None` for a null
/// pointer or an unknown `cmd`.
///
/// # Safety
/// `maps` and `req` are null or valid for `'a`, as the callers' contracts
/// say.
unsafe fn op_args<'a>(
    maps: *const Table,
    req: *const k::kwasm_map_op,
    cmd: u32,
) -> Option<(&'a Table, &'a k::kwasm_map_op, Op)> {
    let op = match cmd {
        k::KWASM_CORE_MAP_LOOKUP => Op::Lookup,
        k::KWASM_CORE_MAP_UPDATE => Op::Update,
        k::KWASM_CORE_MAP_DELETE => Op::Delete,
        _ => return None,
    };
    // SAFETY: the caller's contract; null is refused.
    let (maps, req) = unsafe { (maps.as_ref()?, req.as_ref()?) };
    Some((maps, req, op))
}

/// 0 for `Some(Ok)`; else writes the reason to `err` and returns the
/// negative errno: `EINVAL` and `refused` for `None`, a null pointer or an
/// unknown request.
///
/// # Safety
/// `err` is null or writable for `err_len` bytes.
unsafe fn map_reply(
    result: Option<Result<(), Error>>,
    refused: &str,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    let result = result.unwrap_or_else(|| Err(Error::new(EINVAL, refused.into())));
    // SAFETY: the caller's contract.
    unsafe { errno_of(result, err, err_len) }
}

const BAD_OP: &str = "no maps, no request or an unknown request";

/// Checks a key request before the shim copies its buffers (see
/// kwasm_core.h).
///
/// # Safety
/// `maps` is a live reference from kwasm_core_maps_get, `req` is readable,
/// `err` is null or writable for `err_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_map_op_check(
    maps: *const Table,
    cmd: u32,
    req: *const k::kwasm_map_op,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    // SAFETY: the caller's contract.
    let args = unsafe { op_args(maps, req, cmd) };
    let result = args.map(|(maps, req, op)| user::check(maps, op, req).map(drop));
    // SAFETY: the caller's contract.
    unsafe { map_reply(result, BAD_OP, err, err_len) }
}

/// Does a key request on kernel copies of its key and value (see
/// kwasm_core.h).
///
/// # Safety
/// `maps` is a live reference from kwasm_core_maps_get, `req` is readable,
/// `key` is readable for `req->key_size` bytes, `value` is null or
/// readable and writable for `req->value_size` bytes (no other reference to
/// them meanwhile), `err` is null or writable for `err_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_map_op(
    maps: *const Table,
    cmd: u32,
    req: *const k::kwasm_map_op,
    key: *const u8,
    value: *mut u8,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    // SAFETY: the caller's contract.
    let args = unsafe { op_args(maps, req, cmd) };
    let result = args.map(|(maps, req, op)| {
        // SAFETY: the caller's contract: key_size and value_size bytes.
        let (key, value) = unsafe {
            (
                slice(key, req.key_size as usize),
                slice_mut(value, req.value_size as usize),
            )
        };
        user::run(maps, op, req, key, value)
    });
    // SAFETY: the caller's contract.
    unsafe { map_reply(result, BAD_OP, err, err_len) }
}

/// Checks a dump request and gives the length of its records (see
/// kwasm_core.h).
///
/// # Safety
/// `maps` is a live reference from kwasm_core_maps_get, `req` is readable,
/// `record_len` writable, `err` null or writable for `err_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_map_dump_check(
    maps: *const Table,
    req: *const k::kwasm_map_dump,
    record_len: *mut u32,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    // SAFETY: the caller's contract; null is refused.
    let args = unsafe { (maps.as_ref(), req.as_ref(), record_len.as_mut()) };
    let result = match args {
        (Some(maps), Some(req), Some(out)) => {
            Some(user::check_dump(maps, req).map(|(_, len)| *out = len))
        }
        _ => None,
    };
    // SAFETY: the caller's contract.
    unsafe { map_reply(result, "no maps, no request or no result", err, err_len) }
}

/// Dumps records into a kernel buffer (see kwasm_core.h).
///
/// # Safety
/// `maps` is a live reference from kwasm_core_maps_get, `req` is readable
/// and writable, `buf` readable and writable for `buf_len` bytes (no other
/// reference meanwhile), `err` null or writable for `err_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_map_dump(
    maps: *const Table,
    req: *mut k::kwasm_map_dump,
    buf: *mut u8,
    buf_len: u32,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    // SAFETY: the caller's contract; null is refused.
    let result = match unsafe { (maps.as_ref(), req.as_mut()) } {
        (Some(maps), Some(req)) if !buf.is_null() => {
            // SAFETY: the caller's contract.
            let buf = unsafe { slice_mut(buf, buf_len as usize) };
            Some(user::dump(maps, req, buf))
        }
        _ => None,
    };
    // SAFETY: the caller's contract.
    unsafe { map_reply(result, "no maps, no request or no buffer", err, err_len) }
}
