//! The IPv4 facts programs ask for, parsed once per run from the first
//! bytes of the packet.

use crate::ffi::services::{self, Pkt};

/// IPv4 header (at most 60 bytes) plus the TCP header up to its flags
/// byte (ports included).
pub const HEAD_MAX: usize = 60 + TCP_FLAGS_AT + 1;

const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPV4_MIN_HEADER: usize = 20;
const FRAG_OFFSET_MASK: u16 = 0x1fff;
const FRAG_MORE: u16 = 0x2000;
/// Offset of the flags byte in the TCP header.
const TCP_FLAGS_AT: usize = 13;

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
    /// Protocol number; 0 when the packet is not a valid IPv4 header.
    pub protocol: u8,
    /// Addresses in host byte order.
    pub saddr: u32,
    pub daddr: u32,
    /// The IPv4 total length field.
    pub total_len: u16,
    /// TCP/UDP ports in host byte order, when the packet carries them.
    pub ports: Option<(u16, u16)>,
    /// Offset of the transport header (the IPv4 header's length); 0 when
    /// the header is not valid IPv4.
    pub l4_off: u16,
    /// The TCP flags byte, when the packet carries it.
    pub tcp_flags: Option<u8>,
    pub frag: Frag,
}

impl Summary {
    /// Reads the header through the shim (one copy of at most HEAD_MAX bytes).
    pub fn read(pkt: &Pkt) -> Self {
        let mut head = [0u8; HEAD_MAX];
        let len = (pkt.len as usize).min(HEAD_MAX);
        let Some(dst) = head.get_mut(..len) else {
            return Self::default();
        };
        match services::pkt_copy(pkt, 0, dst) {
            Ok(()) => Self::parse(dst),
            Err(_) => Self::default(),
        }
    }

    /// Parses the start of an IPv4 packet; what is missing stays empty.
    pub fn parse(head: &[u8]) -> Self {
        let byte = |i: usize| head.get(i).copied().unwrap_or(0);
        let be16 = |i: usize| u16::from_be_bytes([byte(i), byte(i + 1)]);
        let be32 = |i: usize| u32::from_be_bytes([byte(i), byte(i + 1), byte(i + 2), byte(i + 3)]);

        if head.len() < IPV4_MIN_HEADER || byte(0) >> 4 != 4 {
            return Self::default();
        }
        let ihl = usize::from(byte(0) & 0x0f) * 4;
        let protocol = byte(9);
        let frag_field = be16(6);
        let frag = if frag_field & FRAG_OFFSET_MASK != 0 {
            Frag::Later
        } else if frag_field & FRAG_MORE != 0 {
            Frag::First
        } else {
            Frag::None
        };
        let transport = ihl >= IPV4_MIN_HEADER && frag != Frag::Later;
        let has_ports =
            transport && matches!(protocol, IPPROTO_TCP | IPPROTO_UDP) && head.len() >= ihl + 4;
        let has_tcp_flags = transport && protocol == IPPROTO_TCP && head.len() > ihl + TCP_FLAGS_AT;
        Self {
            protocol,
            saddr: be32(12),
            daddr: be32(16),
            total_len: be16(2),
            ports: has_ports.then(|| (be16(ihl), be16(ihl + 2))),
            l4_off: if ihl >= IPV4_MIN_HEADER {
                ihl as u16
            } else {
                0
            },
            tcp_flags: has_tcp_flags.then(|| byte(ihl + TCP_FLAGS_AT)),
            frag,
        }
    }

    pub fn is_tcp_or_udp(&self) -> bool {
        matches!(self.protocol, IPPROTO_TCP | IPPROTO_UDP)
    }

    pub fn is_tcp(&self) -> bool {
        self.protocol == IPPROTO_TCP
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

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

    #[test]
    fn tcp_ports() {
        let s = Summary::parse(&ipv4(6, 1234, 80));
        assert_eq!(s.protocol, 6);
        assert_eq!(s.saddr, 0x0a00_0001);
        assert_eq!(s.daddr, 0x0a00_0002);
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
    fn not_ipv4() {
        let mut v6 = ipv4(6, 1, 2);
        v6[0] = 0x60;
        assert_eq!(Summary::parse(&v6), Summary::default());
        assert_eq!(Summary::parse(&[0x45; 10]), Summary::default());
    }
}
