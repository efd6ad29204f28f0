//! The IPv4 and IPv6 facts programs ask for, parsed once per run from the
//! first bytes of the packet.
//!
//! A packet's family is its version nibble. An IPv6 packet's transport
//! header is found past its extension headers (hop-by-hop options,
//! routing, fragment, destination options, authentication), at most
//! [`MAX_EXT_HEADERS`] of them; ESP and "no next header" end the chain.
//! Every read is bounds-checked: a packet cut short leaves the facts it
//! does not hold empty.

use core::cell::Cell;

use crate::abi as k;
use crate::ffi::services::{self, Pkt};

/// Extension header bytes [`HEAD_MAX`] leaves room for past the fixed
/// IPv6 header: a hop-by-hop header (8, router alert), a fragment header
/// (8) and 48 bytes of routing or destination options.
const EXT_ROOM: usize = 64;

/// What one copy reads: the larger of the IPv4 header (at most 60 bytes)
/// and the IPv6 header with [`EXT_ROOM`] bytes of extension headers, plus
/// the TCP header up to its flags byte (ports included). Facts past it
/// (a longer extension header chain) are read in small copies of their own.
pub const HEAD_MAX: usize = max(IPV4_MAX_HEADER, IPV6_HEADER + EXT_ROOM) + TCP_FLAGS_AT + 1;

/// Extension headers followed at most; a longer chain ends the parse there.
pub const MAX_EXT_HEADERS: usize = 8;

const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPV4_MIN_HEADER: usize = 20;
const IPV4_MAX_HEADER: usize = 60;
const IPV6_HEADER: usize = 40;
const FRAG_OFFSET_MASK: u16 = 0x1fff;
const FRAG_MORE: u16 = 0x2000;
/// Offset of the flags byte in the TCP header.
const TCP_FLAGS_AT: usize = 13;

/// IPv6 next-header values of the extension headers followed.
const NEXTHDR_HOP: u8 = 0;
const NEXTHDR_ROUTING: u8 = 43;
const NEXTHDR_FRAGMENT: u8 = 44;
const NEXTHDR_AUTH: u8 = 51;
const NEXTHDR_DEST: u8 = 60;
/// The fragment header's offset field (in 8-byte units, shifted by 3) and
/// its "more fragments" bit.
const IPV6_FRAG_OFFSET_MASK: u16 = 0xfff8;
const IPV6_FRAG_MORE: u16 = 0x0001;
const IPV6_FRAG_HEADER: usize = 8;

/// The packet families, as `kwasm_record.family` and `pkt_family()` give
/// them.
pub const FAMILY_IPV4: u8 = k::KWASM_FAMILY_IPV4 as u8;
pub const FAMILY_IPV6: u8 = k::KWASM_FAMILY_IPV6 as u8;

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

/// Where a packet stands in fragmentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Frag {
    #[default]
    None,
    /// Offset 0 with more fragments to come: carries the transport header.
    First,
    /// Offset > 0: no transport header.
    Later,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// [`FAMILY_IPV6`] for a packet whose version nibble is 6, else
    /// [`FAMILY_IPV4`]; 0 only outside a run (no packet).
    pub family: u8,
    /// The upper-layer protocol number (IPv6: past the extension headers,
    /// or the last header seen when the chain ends early); 0 when the
    /// packet is too short for its fixed header or not IPv4/IPv6.
    pub protocol: u8,
    /// IPv4 addresses in host byte order; 0 for IPv6.
    pub saddr: u32,
    pub daddr: u32,
    /// Addresses in network byte order, an IPv4 one as ::ffff:a.b.c.d;
    /// all zero when the header is not valid.
    pub saddr6: [u8; 16],
    pub daddr6: [u8; 16],
    /// The IPv4 total length field (the original ABI's packet_info); 0
    /// for IPv6.
    pub total_len: u16,
    /// TCP/UDP ports in host byte order, when the packet carries them.
    pub ports: Option<(u16, u16)>,
    /// Offset of the transport header (IPv4: the header's length; IPv6:
    /// past the extension headers, or where the chain ended); 0 when the
    /// fixed header is not valid.
    pub l4_off: u16,
    /// The TCP flags byte, when the packet carries it.
    pub tcp_flags: Option<u8>,
    pub frag: Frag,
}

/// The packet bytes a parse reads: `head` (the packet's first bytes),
/// then, past them and only when `pkt` is given, the packet itself, up to
/// `len` (the packet's length). Without `pkt`, `short` tells whether the
/// parse wanted bytes of the packet that `head` lacks.
struct Source<'a> {
    head: &'a [u8],
    pkt: Option<&'a Pkt>,
    len: usize,
    short: Cell<bool>,
}

impl Source<'_> {
    /// `N` bytes at `off`, or `None` when they are not all in the packet.
    fn get<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        let end = off.checked_add(N)?;
        if end > self.len {
            return None;
        }
        if let Some(bytes) = self.head.get(off..end) {
            return bytes.first_chunk::<N>().copied();
        }
        let Some(pkt) = self.pkt else {
            self.short.set(true);
            return None;
        };
        let mut out = [0u8; N];
        let off = u32::try_from(off).ok()?;
        services::pkt_copy(pkt, off, &mut out).ok()?;
        Some(out)
    }

    fn be16(&self, off: usize) -> Option<u16> {
        self.get::<2>(off).map(u16::from_be_bytes)
    }
}

impl Summary {
    /// Reads the header through the shim: one copy of at most HEAD_MAX
    /// bytes, and small ones for facts past them (a long IPv6 extension
    /// header chain).
    pub fn read(pkt: &Pkt) -> Self {
        let mut head = [0u8; HEAD_MAX];
        let len = (pkt.len as usize).min(HEAD_MAX);
        let Some(dst) = head.get_mut(..len) else {
            return Self::default();
        };
        if services::pkt_copy(pkt, 0, dst).is_err() {
            return Self::default();
        }
        Self::parse_source(&Source {
            head: dst,
            pkt: Some(pkt),
            len: pkt.len as usize,
            short: Cell::new(false),
        })
    }

    /// Parses `pkt` from `captured`, its first bytes copied already (fewer
    /// than the packet's when a snap length cut them): no copy when they
    /// hold the facts; else, when they are fewer than [`HEAD_MAX`], as
    /// [`Summary::read`], and past them small copies of what is missing.
    pub fn parse_captured(captured: &[u8], pkt: &Pkt) -> Self {
        let src = Source {
            head: captured,
            pkt: None,
            len: pkt.len as usize,
            short: Cell::new(false),
        };
        let s = Self::parse_source(&src);
        if !src.short.get() {
            return s;
        }
        if captured.len() < HEAD_MAX {
            return Self::read(pkt);
        }
        Self::parse_source(&Source {
            pkt: Some(pkt),
            ..src
        })
    }

    /// Parses the start of a packet; what is missing stays empty.
    pub fn parse(head: &[u8]) -> Self {
        Self::parse_source(&Source {
            head,
            pkt: None,
            len: head.len(),
            short: Cell::new(false),
        })
    }

    fn parse_source(src: &Source<'_>) -> Self {
        match src.get::<1>(0).map(|[b]| b >> 4) {
            Some(6) => Self::parse_ipv6(src),
            _ => Self::parse_ipv4(src),
        }
    }

    fn parse_ipv4(src: &Source<'_>) -> Self {
        let invalid = Self {
            family: FAMILY_IPV4,
            ..Self::default()
        };
        let Some(h) = src.get::<IPV4_MIN_HEADER>(0) else {
            return invalid;
        };
        let [vihl, _, l0, l1, _, _, f0, f1, _, protocol, _, _, s0, s1, s2, s3, d0, d1, d2, d3] = h;
        if vihl >> 4 != 4 {
            return invalid;
        }
        let ihl = usize::from(vihl & 0x0f) * 4;
        let frag_field = u16::from_be_bytes([f0, f1]);
        let frag = if frag_field & FRAG_OFFSET_MASK != 0 {
            Frag::Later
        } else if frag_field & FRAG_MORE != 0 {
            Frag::First
        } else {
            Frag::None
        };
        let valid = ihl >= IPV4_MIN_HEADER;
        let transport = valid && frag != Frag::Later;
        let (ports, tcp_flags) = if transport {
            transport_facts(src, protocol, ihl)
        } else {
            (None, None)
        };
        let (saddr, daddr) = ([s0, s1, s2, s3], [d0, d1, d2, d3]);
        Self {
            family: FAMILY_IPV4,
            protocol,
            saddr: u32::from_be_bytes(saddr),
            daddr: u32::from_be_bytes(daddr),
            saddr6: v4_mapped(saddr),
            daddr6: v4_mapped(daddr),
            total_len: u16::from_be_bytes([l0, l1]),
            ports,
            l4_off: if valid { ihl as u16 } else { 0 },
            tcp_flags,
            frag,
        }
    }

    fn parse_ipv6(src: &Source<'_>) -> Self {
        let mut s = Self {
            family: FAMILY_IPV6,
            ..Self::default()
        };
        let Some(h) = src.get::<IPV6_HEADER>(0) else {
            return s;
        };
        let addr = |at: usize| h.get(at..at + 16).and_then(|a| a.try_into().ok());
        s.saddr6 = addr(8).unwrap_or_default();
        s.daddr6 = addr(24).unwrap_or_default();
        let mut next = h.get(6).copied().unwrap_or(0);
        let mut off = IPV6_HEADER;
        let mut seen = 0;
        // Whether the chain reached the upper layer (or ESP, no next
        // header): else it ended at `next`, cut short, one header too
        // many, or a later fragment's data.
        let reached_upper = loop {
            if !matches!(
                next,
                NEXTHDR_HOP | NEXTHDR_ROUTING | NEXTHDR_DEST | NEXTHDR_AUTH | NEXTHDR_FRAGMENT
            ) {
                break true;
            }
            if seen == MAX_EXT_HEADERS {
                break false;
            }
            // Its next-header byte and its length (header bytes 0 and 1;
            // a fragment header's whole 8 bytes), as the kernel's
            // ipv6_skip_exthdr() reads them: a length that runs past the
            // packet leaves the transport header out of it.
            let (hdr, len) = if next == NEXTHDR_FRAGMENT {
                let Some([hdr, _, o0, o1, ..]) = src.get::<IPV6_FRAG_HEADER>(off) else {
                    break false;
                };
                let field = u16::from_be_bytes([o0, o1]);
                s.frag = if field & IPV6_FRAG_OFFSET_MASK != 0 {
                    Frag::Later
                } else if field & IPV6_FRAG_MORE != 0 {
                    Frag::First
                } else {
                    Frag::None
                };
                (hdr, IPV6_FRAG_HEADER)
            } else {
                let Some([hdr, n]) = src.get::<2>(off) else {
                    break false;
                };
                let n = usize::from(n);
                let len = if next == NEXTHDR_AUTH {
                    (n + 2) * 4
                } else {
                    (n + 1) * 8
                };
                (hdr, len)
            };
            seen += 1;
            next = hdr;
            // At most 8 headers of at most 2048 bytes: no overflow.
            off += len;
            // Past a later fragment's header lies data, not a header.
            if s.frag == Frag::Later {
                break false;
            }
        };
        let Ok(l4_off) = u16::try_from(off) else {
            return s;
        };
        s.protocol = next;
        s.l4_off = l4_off;
        if reached_upper {
            (s.ports, s.tcp_flags) = transport_facts(src, next, off);
        }
        s
    }

    pub fn is_tcp_or_udp(&self) -> bool {
        matches!(self.protocol, IPPROTO_TCP | IPPROTO_UDP)
    }

    pub fn is_tcp(&self) -> bool {
        self.protocol == IPPROTO_TCP
    }

    pub fn is_ipv6(&self) -> bool {
        self.family == FAMILY_IPV6
    }
}

/// The ports and TCP flags byte of a `protocol` transport header at `off`,
/// as far as the packet holds them.
fn transport_facts(src: &Source<'_>, protocol: u8, off: usize) -> (Option<(u16, u16)>, Option<u8>) {
    if !matches!(protocol, IPPROTO_TCP | IPPROTO_UDP) {
        return (None, None);
    }
    if protocol == IPPROTO_TCP {
        if let Some(t) = src.get::<{ TCP_FLAGS_AT + 1 }>(off) {
            let [s0, s1, d0, d1, ..] = t;
            let ports = (u16::from_be_bytes([s0, s1]), u16::from_be_bytes([d0, d1]));
            return (Some(ports), t.last().copied());
        }
    }
    let ports = src.be16(off).zip(src.be16(off + 2));
    (ports, None)
}

/// `::ffff:a.b.c.d`.
fn v4_mapped([a, b, c, d]: [u8; 4]) -> [u8; 16] {
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d]
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    /// An IPv4 packet 10.0.0.1 -> 10.0.0.2 of `proto` with the given ports.
    pub fn ipv4(proto: u8, sport: u16, dport: u16) -> [u8; 28] {
        let mut p = [0u8; 28];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&28u16.to_be_bytes());
        p[8] = 64;
        p[9] = proto;
        p[12..16].copy_from_slice(&[10, 0, 0, 1]);
        p[16..20].copy_from_slice(&[10, 0, 0, 2]);
        p[20..22].copy_from_slice(&sport.to_be_bytes());
        p[22..24].copy_from_slice(&dport.to_be_bytes());
        p
    }

    /// An IPv6 packet 2001:db8::1 -> 2001:db8::2 whose extension headers
    /// `ext` (each `(type, bytes)`, with their next-header byte filled in)
    /// precede a `proto` header of 20 bytes starting with the ports.
    pub fn ipv6(ext: &[(u8, &[u8])], proto: u8, sport: u16, dport: u16) -> Vec<u8> {
        let mut p = vec![0u8; 40];
        p[0] = 0x60;
        p[7] = 64;
        p[8..10].copy_from_slice(&[0x20, 0x01]);
        p[10..12].copy_from_slice(&[0x0d, 0xb8]);
        p[23] = 1;
        p[24..26].copy_from_slice(&[0x20, 0x01]);
        p[26..28].copy_from_slice(&[0x0d, 0xb8]);
        p[39] = 2;
        let mut next_at = 6;
        for (kind, bytes) in ext {
            p[next_at] = *kind;
            next_at = p.len();
            p.extend_from_slice(bytes);
        }
        p[next_at] = proto;
        let mut l4 = [0u8; 20];
        l4[0..2].copy_from_slice(&sport.to_be_bytes());
        l4[2..4].copy_from_slice(&dport.to_be_bytes());
        l4[13] = 0x12;
        p.extend_from_slice(&l4);
        let payload = (p.len() - 40) as u16;
        p[4..6].copy_from_slice(&payload.to_be_bytes());
        p
    }

    #[test]
    fn tcp_ports() {
        let s = Summary::parse(&ipv4(6, 1234, 80));
        assert_eq!((s.family, s.protocol), (FAMILY_IPV4, 6));
        assert_eq!(s.saddr, 0x0a00_0001);
        assert_eq!(s.daddr, 0x0a00_0002);
        assert_eq!(
            s.saddr6,
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]
        );
        assert_eq!(s.daddr6[12..], [10, 0, 0, 2]);
        assert_eq!(s.total_len, 28);
        assert_eq!(s.ports, Some((1234, 80)));
        assert_eq!((s.l4_off, s.frag), (20, Frag::None));
        // 28 bytes end before the TCP flags byte.
        assert_eq!(s.tcp_flags, None);
        let mut syn = [0u8; 40];
        syn[..28].copy_from_slice(&ipv4(6, 1234, 80));
        syn[20 + 13] = 0x02;
        assert_eq!(Summary::parse(&syn).tcp_flags, Some(0x02));
    }

    #[test]
    fn fragments() {
        let mut first = ipv4(17, 1, 2);
        first[6] = 0x20;
        let s = Summary::parse(&first);
        assert_eq!((s.frag, s.ports), (Frag::First, Some((1, 2))));
        let mut later = ipv4(17, 1, 2);
        later[6] = 0x20;
        later[7] = 1;
        let s = Summary::parse(&later);
        assert_eq!((s.frag, s.ports, s.l4_off), (Frag::Later, None, 20));
    }

    #[test]
    fn no_ports_for_icmp_fragments_and_truncation() {
        assert_eq!(Summary::parse(&ipv4(1, 1, 2)).ports, None);
        let mut frag = ipv4(17, 1, 2);
        frag[7] = 1;
        assert_eq!(Summary::parse(&frag).ports, None);
        assert_eq!(Summary::parse(&ipv4(6, 1, 2)[..22]).ports, None);
        let mut options = ipv4(6, 1, 2);
        options[0] = 0x47;
        assert_eq!(Summary::parse(&options).ports, None);
    }

    #[test]
    fn neither_ipv4_nor_ipv6() {
        let ipv4_family = Summary {
            family: FAMILY_IPV4,
            ..Summary::default()
        };
        let mut v5 = ipv4(6, 1, 2);
        v5[0] = 0x55;
        assert_eq!(Summary::parse(&v5), ipv4_family);
        assert_eq!(Summary::parse(&[0x45; 10]), ipv4_family);
        assert_eq!(Summary::parse(&[]), ipv4_family);
        // An IPv6 version nibble without the 40 bytes of its header.
        let s = Summary::parse(&ipv6(&[], 6, 1, 2)[..39]);
        assert_eq!(
            s,
            Summary {
                family: FAMILY_IPV6,
                ..Summary::default()
            }
        );
    }

    #[test]
    fn ipv6_tcp_and_udp() {
        let s = Summary::parse(&ipv6(&[], 6, 1234, 80));
        assert_eq!((s.family, s.protocol, s.l4_off), (FAMILY_IPV6, 6, 40));
        assert_eq!((s.saddr, s.daddr, s.total_len), (0, 0, 0));
        assert_eq!(s.saddr6[..4], [0x20, 0x01, 0x0d, 0xb8]);
        assert_eq!((s.saddr6[15], s.daddr6[15]), (1, 2));
        assert_eq!((s.ports, s.tcp_flags), (Some((1234, 80)), Some(0x12)));
        assert!(s.is_ipv6() && s.is_tcp());
        let s = Summary::parse(&ipv6(&[], 17, 53, 5353));
        assert_eq!((s.ports, s.tcp_flags), (Some((53, 5353)), None));
        // The TCP header cut before its flags byte: ports only.
        let p = ipv6(&[], 6, 1, 2);
        let s = Summary::parse(&p[..40 + 13]);
        assert_eq!((s.ports, s.tcp_flags), (Some((1, 2)), None));
        let s = Summary::parse(&p[..40 + 3]);
        assert_eq!((s.protocol, s.ports, s.l4_off), (6, None, 40));
    }

    #[test]
    fn ipv6_extension_headers() {
        let hop = [0u8, 0, 1, 4, 0, 0, 0, 0];
        let dst = [0u8, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let routing = [0u8, 0, 0, 0, 0, 0, 0, 0];
        // AH: length 1 means (1 + 2) * 4 = 12 bytes.
        let ah = [0u8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let p = ipv6(
            &[(0, &hop), (43, &routing), (51, &ah), (60, &dst)],
            17,
            1,
            23558,
        );
        let s = Summary::parse(&p);
        assert_eq!((s.protocol, s.l4_off), (17, 40 + 8 + 8 + 12 + 16));
        assert_eq!((s.ports, s.frag), (Some((1, 23558)), Frag::None));
    }

    #[test]
    fn ipv6_fragments() {
        // Offset 0, more fragments: the first, with the transport header.
        let first = [0u8, 0, 0, 1, 0, 0, 0, 9];
        let s = Summary::parse(&ipv6(&[(44, &first)], 6, 1, 2));
        assert_eq!((s.frag, s.protocol, s.l4_off), (Frag::First, 6, 48));
        assert_eq!(s.ports, Some((1, 2)));
        // Offset 8 (bytes 64): a later fragment, no transport header.
        let later = [0u8, 0, 0, 8 << 3, 0, 0, 0, 9];
        let s = Summary::parse(&ipv6(&[(44, &later)], 17, 1, 2));
        assert_eq!((s.frag, s.protocol, s.l4_off), (Frag::Later, 17, 48));
        assert_eq!((s.ports, s.tcp_flags), (None, None));
        // An atomic fragment (offset 0, no more): not a fragment.
        let atomic = [0u8; 8];
        let s = Summary::parse(&ipv6(&[(44, &atomic)], 17, 1, 2));
        assert_eq!((s.frag, s.ports), (Frag::None, Some((1, 2))));
    }

    #[test]
    fn ipv6_chain_ends_early() {
        let opt = [0u8, 0, 1, 4, 0, 0, 0, 0];
        // ESP: the chain stops, protocol 50, no ports.
        let s = Summary::parse(&ipv6(&[(60, &opt)], 50, 1, 2));
        assert_eq!((s.protocol, s.l4_off, s.ports), (50, 48, None));
        // No next header (59).
        let s = Summary::parse(&ipv6(&[], 59, 1, 2));
        assert_eq!((s.protocol, s.ports), (59, None));
        // Eight extension headers are followed, a ninth is not.
        let eight = [(60u8, &opt[..]); 8];
        let s = Summary::parse(&ipv6(&eight, 17, 1, 2));
        assert_eq!((s.protocol, s.l4_off, s.ports), (17, 40 + 64, Some((1, 2))));
        let nine = [(60u8, &opt[..]); 9];
        let s = Summary::parse(&ipv6(&nine, 17, 1, 2));
        assert_eq!((s.protocol, s.l4_off, s.ports), (60, 40 + 64, None));
        // A header whose length runs past the packet: the transport header
        // is not in it.
        let long = [0u8, 200, 1, 4, 0, 0, 0, 0];
        let s = Summary::parse(&ipv6(&[(0, &long)], 17, 1, 2));
        assert_eq!((s.protocol, s.l4_off, s.ports), (17, 40 + 201 * 8, None));
        // Cut inside an extension header's first bytes.
        let p = ipv6(&[(0, &opt)], 17, 1, 2);
        let s = Summary::parse(&p[..41]);
        assert_eq!((s.protocol, s.l4_off, s.ports), (0, 40, None));
    }

    #[test]
    fn every_cut_of_every_packet_parses() {
        let opt = [0u8, 0, 1, 4, 0, 0, 0, 0];
        let frag = [0u8, 0, 0, 1, 0, 0, 0, 9];
        let packets = [
            ipv4(6, 1, 2).to_vec(),
            ipv6(&[(0, &opt), (44, &frag), (60, &opt)], 6, 1, 2),
            ipv6(&[(51, &opt)], 17, 1, 2),
        ];
        for p in &packets {
            let whole = Summary::parse(p);
            for cut in 0..p.len() {
                let s = Summary::parse(&p[..cut]);
                // Facts found in a cut are those of the whole packet.
                if s.ports.is_some() {
                    assert_eq!((s.ports, s.l4_off), (whole.ports, whole.l4_off));
                }
                if cut > 0 {
                    assert_eq!(s.family, whole.family, "cut at {cut}");
                }
            }
        }
    }
}
