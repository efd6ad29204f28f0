// SPDX-License-Identifier: GPL-2.0
//! Mirror of include/uapi/kwasm.h: the /dev/kwasm ioctl ABI.

use std::mem::size_of;

pub const DEVICE: &str = "/dev/kwasm";
pub const STATUS_FILE: &str = "/proc/kwasm";

pub const NAME_LEN: usize = 32;
pub const ERR_LEN: usize = 256;
pub const TRAP_NAME_LEN: usize = 32;

/// `Load::flags`: which optional fields are set.
pub const LOAD_HOOK: u32 = 1 << 0;
pub const LOAD_PRIORITY: u32 = 1 << 1;
pub const LOAD_SNAPLEN: u32 = 1 << 2;
pub const LOAD_DEFAULT: u32 = 1 << 3;

pub const DROP: u32 = 0;
pub const ACCEPT: u32 = 1;

/// `TestRun::outcome`
pub const OUTCOME_OK: u32 = 0;
pub const OUTCOME_INVALID: u32 = 1;
pub const OUTCOME_TRAP: u32 = 2;
pub const OUTCOME_SKIPPED: u32 = 3;
pub const OUTCOME_BUSY: u32 = 4;

/// `struct kwasm_load`
#[repr(C)]
pub struct Load {
    pub prog: u64,
    pub prog_len: u32,
    pub flags: u32,
    pub hook: u32,
    pub priority: i32,
    pub snaplen: u32,
    pub default_verdict: u32,
    pub name: [u8; NAME_LEN],
    pub err: [u8; ERR_LEN],
}

/// `struct kwasm_test_run`
#[repr(C)]
pub struct TestRun {
    pub prog: u64,
    pub prog_len: u32,
    pub repeat: u32,
    pub pkt: u64,
    pub pkt_len: u32,
    pub hook: u32,
    pub ifindex_in: u32,
    pub ifindex_out: u32,
    pub mark: u32,
    pub snaplen: u32,
    pub verdict: u32,
    pub outcome: u32,
    pub trap: u32,
    pub stack_used: u32,
    pub retval: i64,
    pub duration_ns: u64,
    pub trap_name: [u8; TRAP_NAME_LEN],
    pub err: [u8; ERR_LEN],
}

const _: () = assert!(size_of::<Load>() == 320);
const _: () = assert!(size_of::<TestRun>() == 368);

impl Default for Load {
    fn default() -> Self {
        Self {
            prog: 0,
            prog_len: 0,
            flags: 0,
            hook: 0,
            priority: 0,
            snaplen: 0,
            default_verdict: 0,
            name: [0; NAME_LEN],
            err: [0; ERR_LEN],
        }
    }
}

impl Default for TestRun {
    fn default() -> Self {
        Self {
            prog: 0,
            prog_len: 0,
            repeat: 0,
            pkt: 0,
            pkt_len: 0,
            hook: 0,
            ifindex_in: 0,
            ifindex_out: 0,
            mark: 0,
            snaplen: 0,
            verdict: 0,
            outcome: 0,
            trap: 0,
            stack_used: 0,
            retval: 0,
            duration_ns: 0,
            trap_name: [0; TRAP_NAME_LEN],
            err: [0; ERR_LEN],
        }
    }
}

/// The text of a NUL-terminated string the kernel filled in.
pub fn c_str(bytes: &[u8]) -> String {
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..len]).into_owned()
}

// Linux's asm-generic _IOC() encoding: dir:2 size:14 type:8 nr:8.
const IOC_WRITE_READ: u32 = 3;
const IOC_MAGIC: u32 = 0xb7;

const fn ioc(dir: u32, nr: u32, size: usize) -> u32 {
    assert!(size < 1 << 14);
    dir << 30 | (size as u32) << 16 | IOC_MAGIC << 8 | nr
}

pub const IOC_LOAD: u32 = ioc(IOC_WRITE_READ, 1, size_of::<Load>());
pub const IOC_UNLOAD: u32 = ioc(0, 2, 0);
pub const IOC_TEST_RUN: u32 = ioc(IOC_WRITE_READ, 3, size_of::<TestRun>());

const _: () = assert!(IOC_LOAD == 0xc140b701);
const _: () = assert!(IOC_UNLOAD == 0xb702);
const _: () = assert!(IOC_TEST_RUN == 0xc170b703);

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;

    #[test]
    fn layout_matches_the_c_header() {
        assert_eq!(size_of::<Load>(), 320);
        assert_eq!(offset_of!(Load, name), 32);
        assert_eq!(offset_of!(Load, err), 64);
        assert_eq!(size_of::<TestRun>(), 368);
        assert_eq!(offset_of!(TestRun, pkt), 16);
        assert_eq!(offset_of!(TestRun, retval), 64);
        assert_eq!(offset_of!(TestRun, trap_name), 80);
        assert_eq!(offset_of!(TestRun, err), 112);
    }

    #[test]
    fn ioctl_numbers() {
        assert_eq!(IOC_LOAD, 0xc140b701);
        assert_eq!(IOC_UNLOAD, 0xb702);
        assert_eq!(IOC_TEST_RUN, 0xc170b703);
    }

    #[test]
    fn c_str_stops_at_nul() {
        assert_eq!(c_str(b"bad import\0junk"), "bad import");
        assert_eq!(c_str(b"no nul"), "no nul");
        assert_eq!(c_str(&[0; 4]), "");
    }
}
