// SPDX-License-Identifier: MIT OR Apache-2.0
//! rust_src_counters: counts packets and bytes (IPv4 total length) per
//! source address in the hash map "by_src", and accepts every packet: the
//! Rust twin of src_counters.c, with the same declaration. Read with
//!
//! ```text
//! kwasmctl map dump by_src
//! ```
//!
//! Each counter is one map add: an atomic add to a u64 shared by all CPUs; a
//! new source is inserted with zeroed counters first. When the map is full
//! (4096 sources) new sources are not counted; the map's "full" figure says
//! how often that happened.
#![no_std]

use core::mem::offset_of;

use kwasm_sdk::maps::Pod;
use kwasm_sdk::{kwasm_filter, kwasm_maps, Record, Verdict};

#[repr(C)]
#[derive(Clone, Copy)]
struct Counters {
    packets: u64,
    bytes: u64,
}

// SAFETY: repr(C) with two u64 fields: no padding, and any bytes are valid.
unsafe impl Pod for Counters {}

kwasm_maps! {
    /// Packets and bytes per source address (host byte order, as the
    /// record's saddr: the "ipv4" format).
    static BY_SRC: HashMap<u32, Counters>(id 0, max 4096, key "ipv4",
        value "packets:u64,bytes:u64");
}

fn src_counters(rec: &Record) -> Verdict {
    let saddr = u32::from(rec.saddr());

    // A full map counts nothing more, and the packet passes all the same.
    let _ = BY_SRC.add_at::<{ offset_of!(Counters, packets) }>(&saddr, 1);
    let _ = BY_SRC.add_at::<{ offset_of!(Counters, bytes) }>(&saddr, rec.pkt_len().into());
    Verdict::Accept
}

kwasm_filter!(src_counters);
