// SPDX-License-Identifier: MIT OR Apache-2.0
//! The host functions the kernel offers (import module `kwasm`).
//!
//! They describe the packet the program is running for. IPv4 addresses
//! and ports come in host byte order.

use core::net::{Ipv4Addr, Ipv6Addr};

mod sys {
    #[link(wasm_import_module = "kwasm")]
    unsafe extern "C" {
        pub fn log(ptr: *const u8, len: u32);
        pub safe fn print_int(v: i32);
        pub safe fn pkt_len() -> i32;
        pub safe fn pkt_protocol() -> i32;
        pub safe fn pkt_saddr() -> u32;
        pub safe fn pkt_daddr() -> u32;
        pub safe fn pkt_sport() -> i32;
        pub safe fn pkt_dport() -> i32;
        pub safe fn pkt_hook() -> i32;
        pub safe fn pkt_ifindex_in() -> i32;
        pub safe fn pkt_ifindex_out() -> i32;
        pub fn pkt_load_bytes(offset: u32, dst: *mut u8, len: u32) -> i32;
        pub safe fn pkt_family() -> i32;
        pub fn pkt_saddr6(dst: *mut u8) -> i32;
        pub fn pkt_daddr6(dst: *mut u8) -> i32;
    }
}

/// Log a line (at most 256 bytes are printed), rate-limited by the kernel.
pub fn log(msg: &str) {
    log_bytes(msg.as_bytes());
}

/// Log raw bytes, as [`log`].
pub fn log_bytes(msg: &[u8]) {
    // SAFETY: the kernel reads `msg`, which lies in linear memory.
    unsafe { sys::log(msg.as_ptr(), msg.len() as u32) }
}

/// Log a decimal integer, rate-limited by the kernel.
pub fn print_int(v: i32) {
    sys::print_int(v)
}

/// Packet length from the IP header on.
pub fn pkt_len() -> u32 {
    sys::pkt_len() as u32
}

/// Protocol number (see [`crate::proto`]); for IPv6 the upper layer past
/// the extension headers.
pub fn protocol() -> u8 {
    sys::pkt_protocol() as u8
}

/// The packet's family: [`crate::family::IPV4`] or
/// [`crate::family::IPV6`].
pub fn family() -> u8 {
    sys::pkt_family() as u8
}

/// IPv4 source address; 0.0.0.0 for IPv6.
pub fn saddr() -> Ipv4Addr {
    Ipv4Addr::from(sys::pkt_saddr())
}

/// IPv4 destination address; 0.0.0.0 for IPv6.
pub fn daddr() -> Ipv4Addr {
    Ipv4Addr::from(sys::pkt_daddr())
}

/// Source address of either family, an IPv4 one as `::ffff:a.b.c.d`.
pub fn saddr6() -> Ipv6Addr {
    let mut addr = [0u8; 16];
    // SAFETY: the kernel writes 16 bytes into `addr`.
    unsafe { sys::pkt_saddr6(addr.as_mut_ptr()) };
    Ipv6Addr::from(addr)
}

/// Destination address of either family, as [`saddr6`].
pub fn daddr6() -> Ipv6Addr {
    let mut addr = [0u8; 16];
    // SAFETY: the kernel writes 16 bytes into `addr`.
    unsafe { sys::pkt_daddr6(addr.as_mut_ptr()) };
    Ipv6Addr::from(addr)
}

/// TCP/UDP source port; `None` for other protocols, later fragments and
/// headers the packet cuts short.
pub fn sport() -> Option<u16> {
    u16::try_from(sys::pkt_sport()).ok()
}

/// TCP/UDP destination port; `None` as for [`sport`].
pub fn dport() -> Option<u16> {
    u16::try_from(sys::pkt_dport()).ok()
}

/// Netfilter hook number (see [`crate::hook`]).
pub fn hook() -> u32 {
    sys::pkt_hook() as u32
}

/// Input interface index, 0 if none.
pub fn ifindex_in() -> u32 {
    sys::pkt_ifindex_in() as u32
}

/// Output interface index, 0 if none.
pub fn ifindex_out() -> u32 {
    sys::pkt_ifindex_out() as u32
}

/// Copy the packet bytes at `offset` into `dst`; `None` (nothing copied)
/// when `offset..offset + dst.len()` is not inside the packet.
pub fn load_bytes(offset: u32, dst: &mut [u8]) -> Option<()> {
    // SAFETY: the kernel writes at most dst.len() bytes into `dst`.
    let n = unsafe { sys::pkt_load_bytes(offset, dst.as_mut_ptr(), dst.len() as u32) };
    (n >= 0).then_some(())
}
