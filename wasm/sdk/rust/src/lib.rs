// SPDX-License-Identifier: MIT OR Apache-2.0
//! Write kwasm packet filters in Rust.
//!
//! A kwasm program is a WebAssembly module the kernel runs for every IPv4
//! or IPv6 packet at a netfilter hook (see `docs/ABI.md` in the kwasm
//! repository).
//! This crate wraps that ABI: the packet [`Record`] the kernel writes into the
//! program's memory, the [`host`] functions it offers, and the
//! [`kwasm_filter!`] macro that defines the exports, and the [`maps`] a
//! program keeps state in across packets and shares with user space
//! (declared with [`kwasm_maps!`]).
//!
//! ```ignore
//! #![no_std]
//! use kwasm_sdk::{kwasm_filter, proto, Record, Verdict};
//!
//! fn filter(rec: &Record) -> Verdict {
//!     match rec.ip4() {
//!         Some(ip) if ip.proto == proto::TCP && ip.dport == Some(23) => Verdict::Drop,
//!         _ => Verdict::Accept,
//!     }
//! }
//! kwasm_filter!(filter);
//! ```
//!
//! With a map: packets and bytes per source address, counted by atomic adds
//! (`wasm/examples/rust/examples/src_counters.rs`):
//!
//! ```ignore
//! #![no_std]
//! use core::mem::offset_of;
//! use kwasm_sdk::maps::Pod;
//! use kwasm_sdk::{kwasm_filter, kwasm_maps, Record, Verdict};
//!
//! #[repr(C)]
//! #[derive(Clone, Copy)]
//! struct Counters { packets: u64, bytes: u64 }
//! // SAFETY: repr(C), two u64: no padding, any bytes are valid.
//! unsafe impl Pod for Counters {}
//!
//! kwasm_maps! {
//!     static BY_SRC: HashMap<u32, Counters>(id 0, max 4096, key "ipv4",
//!         value "packets:u64,bytes:u64");
//! }
//!
//! fn filter(rec: &Record) -> Verdict {
//!     let saddr = u32::from(rec.saddr());
//!     let _ = BY_SRC.add_at::<{ offset_of!(Counters, packets) }>(&saddr, 1);
//!     let _ = BY_SRC.add_at::<{ offset_of!(Counters, bytes) }>(&saddr, rec.pkt_len().into());
//!     Verdict::Accept
//! }
//! kwasm_filter!(filter);
//! ```
//!
//! Build the program as a `cdylib` for `wasm32-unknown-unknown` with
//! `-Ctarget-cpu=mvp -Ctarget-feature=+bulk-memory`: the kernel accepts the
//! WebAssembly MVP plus a few proposals, and no floating point.
#![cfg_attr(not(test), no_std)]

pub mod host;
mod log;
pub mod maps;
mod record;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod heap;

pub use log::{log_fmt, LogLine};
pub use record::{family, Frag, Ip4, Record, HDR_LEN, HDR_LEN_V3, VERSION};

/// What a filter decides for a packet.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Drop = 0,
    Accept = 1,
}

/// Netfilter hook numbers, as in [`Record::hook`] and [`host::hook`].
pub mod hook {
    pub const PRE_ROUTING: u32 = 0;
    pub const LOCAL_IN: u32 = 1;
    pub const FORWARD: u32 = 2;
    pub const LOCAL_OUT: u32 = 3;
    pub const POST_ROUTING: u32 = 4;
}

/// IP protocol numbers.
pub mod proto {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ICMPV6: u8 = 58;
}

/// Returned for a record the kernel would never write: not a verdict, so the
/// kernel counts it invalid and applies the program's default verdict.
#[doc(hidden)]
pub const BAD_RECORD: i32 = -1;

/// Defines the program's exports around `fn(&Record) -> Verdict`:
/// `kwasm_filter`, and `kwasm_alloc` for the record buffer, and the
/// `kwasm.record` custom section that asks for record version [`VERSION`]
/// (2), or for version 3 with `kwasm_filter!(filter, record 3)`: the IPv6
/// addresses ([`Record::saddr6`]) too.
#[macro_export]
macro_rules! kwasm_filter {
    ($filter:path) => {
        $crate::kwasm_filter!($filter, record 2);
    };
    ($filter:path, record $version:literal) => {
        const _: () = assert!(
            $version == 2 || $version == 3,
            "kwasm_sdk reads record versions 2 and 3"
        );

        #[link_section = "kwasm.record"]
        #[used]
        static KWASM_RECORD_VERSION: [u8; 1] = [$version];

        #[unsafe(no_mangle)]
        pub extern "C" fn kwasm_alloc(size: u32) -> *mut u8 {
            $crate::heap::alloc(size)
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn kwasm_filter(ctx: *const u8, len: u32) -> i32 {
            let filter: fn(&$crate::Record) -> $crate::Verdict = $filter;
            // SAFETY: the kernel passes the address kwasm_alloc returned
            // and the length of the record it wrote there.
            match unsafe { $crate::Record::from_raw(ctx, len) } {
                Some(rec) => filter(&rec) as i32,
                None => $crate::BAD_RECORD,
            }
        }
    };
}

/// Defines the `kwasm_filter` export around `fn() -> Verdict`, for a program
/// that reads the packet through [`host`] functions only. It exports no
/// `kwasm_alloc`, so the kernel copies no record before each call.
#[macro_export]
macro_rules! kwasm_filter_host_only {
    ($filter:path) => {
        #[unsafe(no_mangle)]
        pub extern "C" fn kwasm_filter(_ctx: u32, _len: u32) -> i32 {
            let filter: fn() -> $crate::Verdict = $filter;
            filter() as i32
        }
    };
}

/// Log a formatted line (at most 256 bytes) through [`host::log`].
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log_fmt(::core::format_args!($($arg)*))
    };
}

#[cfg(all(feature = "panic-handler", target_arch = "wasm32"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
