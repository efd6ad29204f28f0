//! The `kwasm_core_events_*` functions of include/kwasm_core.h: the events
//! file of the shim (shim/events.c) reading a program's ring
//! ([`crate::maps::ring`]).

use alloc::boxed::Box;
use core::ffi::{c_char, c_int};

use super::exports::write_err;
use super::sys::kwasm as k;
use crate::abi::{EBUSY, EINVAL, ENOENT};
use crate::filter::program::Program;
use crate::maps::ring::{Reader, Ring};

fn fill_info(ring: &Ring, value_fmt: &str, info: &mut k::kwasm_events_info) {
    let s = ring.stats();
    *info = k::kwasm_events_info {
        ring_size: s.ring_size,
        max_record: s.max_record,
        written: s.written,
        dropped: s.dropped,
        used: s.used,
        reader: s.reader.into(),
        detached: s.detached.into(),
        ..Default::default()
    };
    let room = info.value_fmt.len().saturating_sub(1);
    for (dst, &src) in info
        .value_fmt
        .iter_mut()
        .zip(value_fmt.as_bytes().iter().take(room))
    {
        *dst = src as c_char;
    }
}

/// # Safety
/// `prog` came from kwasm_core_prog_new; `info` is writable.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_events_info(
    prog: *const Program,
    info: *mut k::kwasm_events_info,
) -> c_int {
    // SAFETY: the caller's contract; null is refused.
    let (Some(prog), Some(info)) = (unsafe { (prog.as_ref(), info.as_mut()) }) else {
        return -EINVAL;
    };
    let Some(map) = prog.maps.iter().find(|m| m.ring().is_some()) else {
        return -ENOENT;
    };
    if let Some(ring) = map.ring() {
        fill_info(ring, &map.decl.value_fmt, info);
    }
    0
}

/// # Safety
/// `prog` came from kwasm_core_prog_new; `out` is writable; `err` is null
/// or writable for `err_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_events_open(
    prog: *const Program,
    out: *mut *mut Reader,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    // SAFETY: the caller's contract; null is refused.
    let Some(prog) = (unsafe { prog.as_ref() }) else {
        // SAFETY: the caller's contract.
        unsafe { write_err(err, err_len, "no program") };
        return -EINVAL;
    };
    if out.is_null() {
        // SAFETY: the caller's contract.
        unsafe { write_err(err, err_len, "no result pointer") };
        return -EINVAL;
    }
    let name = prog.name.to_str().unwrap_or("?");
    let Some(ring) = prog.maps.events() else {
        let msg = alloc::format!("program {name} declares no events ring");
        // SAFETY: the caller's contract.
        unsafe { write_err(err, err_len, &msg) };
        return -ENOENT;
    };
    let Some(reader) = ring.reader() else {
        let msg = alloc::format!("the events ring of program {name} has a reader already");
        // SAFETY: the caller's contract.
        unsafe { write_err(err, err_len, &msg) };
        return -EBUSY;
    };
    // SAFETY: out is non-null and writable (checked above).
    unsafe { *out = Box::into_raw(Box::new(reader)) };
    0
}

/// # Safety
/// `ev` is null or came from kwasm_core_events_open and is no longer used.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_events_close(ev: *mut Reader) {
    if !ev.is_null() {
        // SAFETY: the caller's contract: ours, from Box::into_raw.
        drop(unsafe { Box::from_raw(ev) });
    }
}

/// # Safety
/// `ev` came from kwasm_core_events_open; `info` is writable.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_events_stats(
    ev: *const Reader,
    info: *mut k::kwasm_events_info,
) {
    // SAFETY: the caller's contract; null is ignored.
    if let (Some(ev), Some(info)) = unsafe { (ev.as_ref(), info.as_mut()) } {
        fill_info(ev.ring(), "", info);
    }
}

/// # Safety
/// `ev` came from kwasm_core_events_open.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_events_waker(ev: *const Reader) -> *mut k::kwasm_waker {
    // SAFETY: the caller's contract; null gives null.
    match unsafe { ev.as_ref() } {
        Some(ev) => ev.ring().waker().as_ptr(),
        None => core::ptr::null_mut(),
    }
}

/// # Safety
/// `ev` came from kwasm_core_events_open, its calls are serialised; `buf`
/// is writable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_events_peek(ev: *mut Reader, buf: *mut u8, len: usize) -> i64 {
    // SAFETY: the caller's contract; null is refused.
    let Some(ev) = (unsafe { ev.cast_const().as_ref() }) else {
        return (-EINVAL).into();
    };
    let out = if buf.is_null() || len == 0 {
        &mut [][..]
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts_mut(buf, len) }
    };
    match ev.peek(out) {
        Ok(n) => i64::try_from(n).unwrap_or(0),
        Err(e) => (-e.0).into(),
    }
}

/// # Safety
/// `ev` came from kwasm_core_events_open, its calls are serialised.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_events_consume(ev: *mut Reader, bytes: usize) {
    // SAFETY: the caller's contract; null is ignored.
    if let Some(ev) = unsafe { ev.cast_const().as_ref() } {
        ev.consume(bytes as u64);
    }
}

/// # Safety
/// `ev` came from kwasm_core_events_open.
#[no_mangle]
pub unsafe extern "C" fn kwasm_core_events_poll(ev: *mut Reader) -> u32 {
    // SAFETY: the caller's contract; null is ignored.
    match unsafe { ev.cast_const().as_ref() } {
        Some(ev) => ev.poll(),
        None => 0,
    }
}

const _: () = assert!(crate::maps::ring::READABLE == k::KWASM_CORE_EVENTS_READABLE);
const _: () = assert!(crate::maps::ring::DETACHED == k::KWASM_CORE_EVENTS_DETACHED);
