//! Loading and running programs through the C interface, as the shim does,
//! against the host services of core/host/services.c (CPUs 0, 1, 3).

use std::ffi::{c_char, CStr};
use std::ptr;

pub use kwasm::sys::kwasm::*;

extern "C" {
    fn kwasm_host_last_prog_log() -> *const c_char;
    fn kwasm_host_set_stack_low(low: bool);
}

/// Makes kwasm_stack_ok() say no (or yes again) on this thread.
pub fn set_stack_low(low: bool) {
    // SAFETY: sets a thread-local flag of the host services.
    unsafe { kwasm_host_set_stack_low(low) }
}

pub const EINVAL: i32 = 22;
pub const ENOENT: i32 = 2;
pub const EFBIG: i32 = 27;
pub const E2BIG: i32 = 7;

/// The last line a program printed on this thread, "<prog>: <text>".
pub fn last_prog_log() -> String {
    // SAFETY: a NUL-terminated thread-local buffer.
    unsafe { CStr::from_ptr(kwasm_host_last_prog_log()) }
        .to_string_lossy()
        .into_owned()
}

pub struct Prog(*mut kwasm::exports::Program);

impl Drop for Prog {
    fn drop(&mut self) {
        // SAFETY: ours, from kwasm_core_prog_new.
        unsafe { kwasm::kwasm_core_prog_free(self.0) }
    }
}

pub fn opts(snaplen: u32, default_verdict: u32) -> kwasm_prog_opts {
    let mut o = kwasm_prog_opts {
        snaplen,
        default_verdict,
        fuel: KWASM_DEFAULT_FUEL,
        ..Default::default()
    };
    for (d, s) in o.name.iter_mut().zip(b"test") {
        *d = *s as c_char;
    }
    o
}

pub fn load_bytes(wasm: &[u8], o: &kwasm_prog_opts) -> Result<Prog, (i32, String)> {
    let mut out = ptr::null_mut();
    let mut err = [0 as c_char; KWASM_ERR_LEN as usize];
    // SAFETY: valid buffers of the stated sizes.
    let rc = unsafe {
        kwasm::kwasm_core_prog_new(
            wasm.as_ptr(),
            wasm.len(),
            o,
            &mut out,
            err.as_mut_ptr(),
            err.len(),
        )
    };
    if rc == 0 {
        assert!(!out.is_null());
        Ok(Prog(out))
    } else {
        assert!(out.is_null(), "out set on failure");
        // SAFETY: NUL-terminated by the core.
        let msg = unsafe { CStr::from_ptr(err.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        Err((-rc, msg))
    }
}

pub fn load(wat: &str) -> Result<Prog, (i32, String)> {
    load_bytes(
        &wat::parse_str(wat).expect("bad WAT in test"),
        &opts(256, KWASM_ACCEPT),
    )
}

pub fn load_ok(wat: &str) -> Prog {
    load(wat).unwrap_or_else(|(errno, msg)| panic!("load failed: errno {errno}: {msg}"))
}

pub fn load_err(wat: &str) -> (i32, String) {
    match load(wat) {
        Ok(_) => panic!("load succeeded"),
        Err(e) => e,
    }
}

/// An IPv4 packet 10.0.0.1 -> 10.0.0.2 of `proto` with ports and payload.
pub fn ipv4(proto: u8, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let total = 28 + payload.len();
    let mut p = vec![0u8; total];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[8] = 64;
    p[9] = proto;
    p[12..16].copy_from_slice(&[10, 0, 0, 1]);
    p[16..20].copy_from_slice(&[10, 0, 0, 2]);
    p[20..22].copy_from_slice(&sport.to_be_bytes());
    p[22..24].copy_from_slice(&dport.to_be_bytes());
    p[28..].copy_from_slice(payload);
    p
}

impl Prog {
    pub fn run_on(&self, cpu: u32, packet: &[u8]) -> kwasm_run_result {
        let pkt = kwasm_pkt {
            data: packet.as_ptr(),
            len: packet.len() as u32,
            hook: 1,
            ifindex_in: 7,
            mark: 0xabc,
            ..Default::default()
        };
        let mut res = kwasm_run_result::default();
        // SAFETY: live program, packet and result.
        unsafe { kwasm::kwasm_core_prog_run(self.0, cpu, &pkt, &mut res) };
        res
    }

    pub fn run(&self, packet: &[u8]) -> kwasm_run_result {
        self.run_on(0, packet)
    }

    pub fn info(&self) -> kwasm_prog_info {
        let mut info = kwasm_prog_info::default();
        // SAFETY: live program.
        unsafe { kwasm::kwasm_core_prog_info(self.0, &mut info) };
        info
    }

    pub fn stats(&self) -> kwasm_stats {
        let mut stats = kwasm_stats::default();
        // SAFETY: live program.
        unsafe { kwasm::kwasm_core_prog_stats(self.0, &mut stats) };
        stats
    }
}

pub fn trap_name(trap: u32) -> String {
    // SAFETY: static NUL-terminated strings.
    unsafe { CStr::from_ptr(kwasm::kwasm_core_trap_name(trap)) }
        .to_string_lossy()
        .into_owned()
}

/// Asserts a run trapped with `trap` and got the default verdict.
pub fn assert_trap(res: &kwasm_run_result, trap: u32) {
    assert_eq!(res.outcome, KWASM_OUTCOME_TRAP, "not a trap: {res:?}");
    assert_eq!(trap_name(res.trap), trap_name(trap));
    assert_eq!(res.verdict, KWASM_ACCEPT);
}
