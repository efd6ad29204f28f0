// SPDX-License-Identifier: GPL-2.0
//! The core's C interface (include/kwasm_core.h), linked into this process
//! and called as the shim calls it, against the host services of
//! core/host/services.c (possible CPU ids 0, 1 and 3; see [`HOST_CPUS`]).
//!
//! Only the `kwasm_core_*` entry points and the header's types are used,
//! declared from the header by bindgen (build.rs), never the core's Rust
//! API; the ABI's structures and constants (`KWASM_*`, `kwasm_load`, ...)
//! are kwasm-uapi's, re-exported here.
//!
//! The wrappers check what the header promises on every call: a refusal is
//! a negative errno with a NUL-terminated, non-empty reason and no result;
//! a success gives a result.

use std::ffi::{c_char, CStr};
use std::ptr::{self, NonNull};

// The core's entry points live in its rlib (with wasm3 and the host
// services its build script compiled).
use kwasm as _;

#[allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    dead_code,
    clippy::all
)]
mod bindings {
    include!(concat!(env!("OUT_DIR"), "/kwasm_core.rs"));
}
pub use bindings::*;

/// errno values the core returns (negated), as tests compare them.
pub use libc::{E2BIG, EFBIG, EINVAL, ENOENT};

/// Possible CPU ids of the host services; 2 is absent, and
/// `kwasm_nr_cpu_ids()` is [`HOST_NR_CPU_IDS`].
pub const HOST_CPUS: [u32; 3] = [0, 1, 3];
pub const HOST_NR_CPU_IDS: u32 = 4;

// Test hooks of core/host/services.c.
extern "C" {
    fn kwasm_host_last_prog_log() -> *const c_char;
    fn kwasm_host_set_stack_low(low: bool);
    fn kwasm_host_enter_cpu(cpu: u32);
    fn kwasm_host_leave_cpu();
}

/// This thread plays a program's run on a CPU (bottom halves off there)
/// until dropped: it owns the CPU's per-CPU map slots, and waits for and
/// holds off the host's `kwasm_on_cpu()` on that CPU.
pub struct OnCpu(());

/// Enters `cpu` (below [`HOST_NR_CPU_IDS`]) as a program's run would.
pub fn enter_cpu(cpu: u32) -> OnCpu {
    assert!(cpu < HOST_NR_CPU_IDS);
    // SAFETY: takes the host CPU's mutex and sets a thread-local; the
    // guard leaves it once.
    unsafe { kwasm_host_enter_cpu(cpu) };
    OnCpu(())
}

impl Drop for OnCpu {
    fn drop(&mut self) {
        // SAFETY: this thread entered a CPU (the guard exists).
        unsafe { kwasm_host_leave_cpu() }
    }
}

/// Makes kwasm_stack_ok() say no (or yes again) on this thread.
pub fn set_stack_low(low: bool) {
    // SAFETY: sets a thread-local flag of the host services.
    unsafe { kwasm_host_set_stack_low(low) }
}

/// The last line a program printed on this thread, "<prog>: <text>".
pub fn last_prog_log() -> String {
    // SAFETY: a NUL-terminated thread-local buffer.
    unsafe { CStr::from_ptr(kwasm_host_last_prog_log()) }
        .to_string_lossy()
        .into_owned()
}

/// A refusal: the positive errno and the core's reason.
pub type Refusal = (i32, String);

/// An error buffer as the shim passes one, filled with a byte that is not
/// NUL so that a missing terminator shows.
fn err_buf() -> [c_char; KWASM_ERR_LEN as usize] {
    [0x55; KWASM_ERR_LEN as usize]
}

/// Checks a failed call's return code and reason (see the module doc).
fn refusal(rc: i32, err: &[c_char]) -> Refusal {
    assert!(rc < 0 && rc > -4096, "not a negative errno: {rc}");
    let bytes: Vec<u8> = err.iter().map(|&c| c as u8).collect();
    let msg = CStr::from_bytes_until_nul(&bytes)
        .expect("reason not NUL-terminated")
        .to_string_lossy()
        .into_owned();
    assert!(!msg.is_empty(), "empty reason (errno {})", -rc);
    (-rc, msg)
}

/// Options as the shim passes them, named "test", unchecked: hook
/// PRE_ROUTING (0), priority 0, the default fuel budget.
pub fn opts(snaplen: u32, default_verdict: u32) -> kwasm_prog_opts {
    let mut o = kwasm_prog_opts {
        snaplen,
        default_verdict,
        fuel: KWASM_DEFAULT_FUEL,
        family: KWASM_FAMILY_IPV4,
        ..Default::default()
    };
    set_c_str(&mut o.name, "test").expect("fits");
    o
}

/// `kwasm_core_load_opts`: the options the shim makes from a load request.
pub fn load_opts(req: &kwasm_load) -> Result<kwasm_prog_opts, Refusal> {
    let mut opts = kwasm_prog_opts::default();
    let before = opts;
    let mut err = err_buf();
    // SAFETY: valid request, result and buffer of the stated size.
    let rc = unsafe { kwasm_core_load_opts(req, &mut opts, err.as_mut_ptr(), err.len()) };
    if rc == 0 {
        Ok(opts)
    } else {
        let refused = refusal(rc, &err);
        assert_eq!(
            format!("{opts:?}"),
            format!("{before:?}"),
            "options written on failure"
        );
        Err(refused)
    }
}

/// A program from `kwasm_core_prog_new`, freed on drop.
pub struct Prog(NonNull<kwasm_prog>);

impl Drop for Prog {
    fn drop(&mut self) {
        // SAFETY: ours, from kwasm_core_prog_new, freed once.
        unsafe { kwasm_core_prog_free(self.0.as_ptr()) }
    }
}

/// `kwasm_core_prog_new` of `wasm` with `opts`.
pub fn load_bytes(wasm: &[u8], opts: &kwasm_prog_opts) -> Result<Prog, Refusal> {
    let mut out = ptr::null_mut();
    let mut err = err_buf();
    // SAFETY: valid buffers of the stated sizes.
    let rc = unsafe {
        kwasm_core_prog_new(
            wasm.as_ptr(),
            wasm.len(),
            opts,
            &mut out,
            err.as_mut_ptr(),
            err.len(),
        )
    };
    if rc == 0 {
        Ok(Prog(NonNull::new(out).expect("no program on success")))
    } else {
        assert!(out.is_null(), "result set on failure");
        Err(refusal(rc, &err))
    }
}

/// The program of the WebAssembly text `wat`, with `opts(256, KWASM_ACCEPT)`.
pub fn load(wat: &str) -> Result<Prog, Refusal> {
    load_bytes(
        &wat::parse_str(wat).expect("bad WAT in test"),
        &opts(256, KWASM_ACCEPT),
    )
}

pub fn load_ok(wat: &str) -> Prog {
    load(wat).unwrap_or_else(|(errno, msg)| panic!("load failed: errno {errno}: {msg}"))
}

pub fn load_err(wat: &str) -> Refusal {
    match load(wat) {
        Ok(_) => panic!("load succeeded"),
        Err(e) => e,
    }
}

/// The packet `data` as the core sees one: hook LOCAL_IN (1), input
/// interface 7, mark 0xabc. It points into `data`, which must outlive it.
pub fn pkt(data: &[u8]) -> kwasm_pkt {
    kwasm_pkt {
        data: data.as_ptr(),
        len: u32::try_from(data.len()).expect("packet below 4 GiB"),
        hook: 1,
        ifindex_in: 7,
        mark: 0xabc,
        ..Default::default()
    }
}

impl Prog {
    pub fn as_ptr(&self) -> *mut kwasm_prog {
        self.0.as_ptr()
    }

    /// `kwasm_core_prog_run` on `pkt` with the instance of `cpu`.
    ///
    /// # Safety
    /// `pkt.data` is readable for `pkt.len` bytes (or `pkt.skb` is what
    /// the host services take: nothing, they read `data`).
    pub unsafe fn run_pkt(&self, cpu: u32, pkt: &kwasm_pkt) -> kwasm_run_result {
        let mut res = kwasm_run_result::default();
        // SAFETY: a live program, the caller's packet, a writable result;
        // &self: not freed meanwhile. This thread is the only user of the
        // instances (tests run each program on one thread).
        unsafe { kwasm_core_prog_run(self.as_ptr(), cpu, pkt, &mut res) };
        res
    }

    /// `kwasm_core_prog_adopt`: takes over `old`'s maps before replacing it.
    pub fn adopt(&mut self, old: Option<&Prog>) -> Result<(), Refusal> {
        let mut err = err_buf();
        let old = old.map_or(ptr::null(), |o| o.as_ptr().cast_const());
        // SAFETY: self is ours alone (&mut), old is live, err is writable.
        let rc = unsafe { kwasm_core_prog_adopt(self.as_ptr(), old, err.as_mut_ptr(), err.len()) };
        if rc == 0 {
            Ok(())
        } else {
            Err(refusal(rc, &err))
        }
    }

    /// Runs the program on `packet` ([`pkt`]) with the instance of `cpu`.
    pub fn run_on(&self, cpu: u32, packet: &[u8]) -> kwasm_run_result {
        // SAFETY: pkt() points into packet, borrowed for the call.
        unsafe { self.run_pkt(cpu, &pkt(packet)) }
    }

    /// Runs the program on `packet` on CPU 0.
    pub fn run(&self, packet: &[u8]) -> kwasm_run_result {
        self.run_on(0, packet)
    }

    pub fn info(&self) -> kwasm_prog_info {
        let mut info = kwasm_prog_info::default();
        // SAFETY: live program, writable info.
        unsafe { kwasm_core_prog_info(self.as_ptr(), &mut info) };
        info
    }

    pub fn stats(&self) -> kwasm_stats {
        let mut stats = kwasm_stats::default();
        // SAFETY: live program, writable stats.
        unsafe { kwasm_core_prog_stats(self.as_ptr(), &mut stats) };
        stats
    }
}

/// `kwasm_core_trap_name`.
pub fn trap_name(trap: u32) -> String {
    // SAFETY: static NUL-terminated strings.
    unsafe { CStr::from_ptr(kwasm_core_trap_name(trap)) }
        .to_string_lossy()
        .into_owned()
}

/// Asserts a run trapped with `trap` and got the default verdict
/// KWASM_ACCEPT.
pub fn assert_trap(res: &kwasm_run_result, trap: u32) {
    assert_eq!(res.outcome, KWASM_OUTCOME_TRAP, "not a trap: {res:?}");
    assert_eq!(trap_name(res.trap), trap_name(trap));
    assert_eq!(res.verdict, KWASM_ACCEPT);
}

/// An instance of the invoke path (`kwasm_core_invoke_*`), freed on drop.
pub struct Invoker(NonNull<kwasm_invoker>);

impl Drop for Invoker {
    fn drop(&mut self) {
        // SAFETY: ours, from kwasm_core_invoke_new, freed once.
        unsafe { kwasm_core_invoke_free(self.0.as_ptr()) }
    }
}

/// How an invoke call ended: results as (KWASM_VAL_*, slot) pairs, or a
/// trap kind and wasm3's message.
#[derive(Debug, PartialEq, Eq)]
pub enum Invoked {
    Returned(Vec<(u32, u64)>),
    Trapped(u32, String),
}

impl Invoker {
    /// `kwasm_core_invoke_new`: instantiates `wasm`.
    pub fn new(wasm: &[u8]) -> Result<Self, Refusal> {
        let mut out = ptr::null_mut();
        let mut err = err_buf();
        // SAFETY: valid buffers of the stated sizes.
        let rc = unsafe {
            kwasm_core_invoke_new(
                wasm.as_ptr(),
                wasm.len(),
                &mut out,
                err.as_mut_ptr(),
                err.len(),
            )
        };
        if rc == 0 {
            Ok(Self(NonNull::new(out).expect("no instance on success")))
        } else {
            Err(refusal(rc, &err))
        }
    }

    /// `kwasm_core_invoke_call` of the export `name` with argument slots.
    pub fn call(&mut self, name: &str, args: &[u64]) -> Result<Invoked, Refusal> {
        let mut res = kwasm_invoke_result::default();
        let mut err = err_buf();
        let nargs = u32::try_from(args.len()).expect("argument count");
        // SAFETY: a live instance, used by this thread only (&mut self);
        // buffers of the stated sizes.
        let rc = unsafe {
            kwasm_core_invoke_call(
                self.0.as_ptr(),
                name.as_ptr().cast(),
                name.len(),
                args.as_ptr(),
                nargs,
                &mut res,
                err.as_mut_ptr(),
                err.len(),
            )
        };
        if rc != 0 {
            return Err(refusal(rc, &err));
        }
        if res.trap != KWASM_TRAP_NONE {
            let bytes: Vec<u8> = err.iter().map(|&c| c as u8).collect();
            let msg = CStr::from_bytes_until_nul(&bytes)
                .map(|m| m.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Ok(Invoked::Trapped(res.trap, msg));
        }
        let n = (res.nresults as usize).min(res.results.len());
        Ok(Invoked::Returned(
            res.types[..n]
                .iter()
                .copied()
                .zip(res.results[..n].iter().copied())
                .collect(),
        ))
    }
}

/// Appends custom section `name` holding `data` to a module.
pub fn with_custom_section(mut wasm: Vec<u8>, name: &str, data: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    leb(&mut payload, name.len());
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(data);
    wasm.push(0);
    leb(&mut wasm, payload.len());
    wasm.extend_from_slice(&payload);
    wasm
}

fn leb(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoke_path() {
        let wasm = wat::parse_str(
            r#"(module
                 (func (export "add") (param i32 i32) (result i32)
                   (i32.add (local.get 0) (local.get 1)))
                 (func (export "boom") unreachable))"#,
        )
        .unwrap();
        let mut inv = Invoker::new(&wasm).unwrap();
        assert_eq!(
            inv.call("add", &[2, 3]),
            Ok(Invoked::Returned(vec![(KWASM_VAL_I32, 5)]))
        );
        let Ok(Invoked::Trapped(trap, _)) = inv.call("boom", &[]) else {
            panic!("no trap");
        };
        assert_eq!(trap_name(trap), "unreachable");
        assert_eq!(inv.call("nope", &[]).unwrap_err().0, ENOENT);
        assert_eq!(inv.call("add", &[1]).unwrap_err().0, EINVAL);
        assert_eq!(Invoker::new(b"garbage").err().unwrap().0, EINVAL);
    }

    #[test]
    fn refusals_are_checked() {
        let (errno, msg) = load_bytes(b"", &opts(256, KWASM_ACCEPT)).err().unwrap();
        assert_eq!((errno, msg.as_str()), (EINVAL, "empty module"));
    }
}
