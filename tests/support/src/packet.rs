// SPDX-License-Identifier: GPL-2.0
//! IPv4 and IPv6 test packets, from the IP header on (what the core and
//! `KWASM_IOC_TEST_RUN` take), with valid lengths and checksums.
//!
//! The short forms go from [`SRC`] to [`DST`] (IPv6: [`SRC6`] to
//! [`DST6`]); [`Ipv4`] and [`Ipv6`] set other addresses, and [`Ipv6`]
//! extension headers ([`Ext`]). TCP packets are SYNs, ICMP packets echo
//! requests, as `kwasmctl test-run` builds them.

use std::net::{Ipv4Addr, Ipv6Addr};

use etherparse::{Ipv4HeaderSlice, NetSlice, PacketBuilder, SlicedPacket, TransportSlice};

/// Source address of the short forms.
pub const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// Destination address of the short forms.
pub const DST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// Source address of the IPv6 short forms.
pub const SRC6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
/// Destination address of the IPv6 short forms.
pub const DST6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

/// IP protocol numbers.
pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ICMPV6: u8 = 58;

/// IPv6 next-header values of the extension headers.
pub const NEXTHDR_HOP: u8 = 0;
pub const NEXTHDR_ROUTING: u8 = 43;
pub const NEXTHDR_FRAGMENT: u8 = 44;
pub const NEXTHDR_ESP: u8 = 50;
pub const NEXTHDR_AUTH: u8 = 51;
pub const NEXTHDR_NONE: u8 = 59;
pub const NEXTHDR_DEST: u8 = 60;

/// The IPv4 header of packets to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4 {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
}

impl Default for Ipv4 {
    fn default() -> Self {
        Self::new(SRC, DST)
    }
}

impl Ipv4 {
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr) -> Self {
        Self { src, dst, ttl: 64 }
    }

    fn builder(&self) -> etherparse::PacketBuilderStep<etherparse::IpHeaders> {
        PacketBuilder::ipv4(self.src.octets(), self.dst.octets(), self.ttl)
    }

    /// A TCP SYN (sequence number 1, window 65535) carrying `payload`.
    pub fn tcp(&self, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut pkt = Vec::new();
        self.builder()
            .tcp(sport, dport, 1, u16::MAX)
            .syn()
            .write(&mut pkt, payload)
            .expect("TCP payload fits an IPv4 packet");
        pkt
    }

    /// A UDP datagram carrying `payload`.
    pub fn udp(&self, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut pkt = Vec::new();
        self.builder()
            .udp(sport, dport)
            .write(&mut pkt, payload)
            .expect("UDP payload fits an IPv4 packet");
        pkt
    }

    /// An ICMP echo request (identifier 1, sequence number 1) carrying
    /// `payload`.
    pub fn icmp_echo(&self, payload: &[u8]) -> Vec<u8> {
        let mut pkt = Vec::new();
        self.builder()
            .icmpv4_echo_request(1, 1)
            .write(&mut pkt, payload)
            .expect("ICMP payload fits an IPv4 packet");
        pkt
    }
}

/// An IPv6 extension header, between the fixed header and the transport
/// header in the order given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ext {
    /// Hop-by-hop options of `len` bytes (a multiple of 8, 8..=2048),
    /// padding only.
    HopByHop(usize),
    /// Destination options, as hop-by-hop.
    DestOpts(usize),
    /// A routing header of `len` bytes (as hop-by-hop), type 4 (segment
    /// routing), no segments left.
    Routing(usize),
    /// A fragment header: `offset` in 8-byte units (13 bits), `more`
    /// fragments to come.
    Fragment { offset: u16, more: bool },
    /// An authentication header of `len` bytes (a multiple of 4,
    /// 12..=1028): its length field counts 4-byte words less 2.
    Auth(usize),
}

impl Ext {
    /// The next-header value that names this header.
    pub fn kind(&self) -> u8 {
        match self {
            Ext::HopByHop(_) => NEXTHDR_HOP,
            Ext::DestOpts(_) => NEXTHDR_DEST,
            Ext::Routing(_) => NEXTHDR_ROUTING,
            Ext::Fragment { .. } => NEXTHDR_FRAGMENT,
            Ext::Auth(_) => NEXTHDR_AUTH,
        }
    }

    /// The header's bytes, followed by a header of type `next`.
    pub fn bytes(&self, next: u8) -> Vec<u8> {
        let options = |len: usize| {
            assert!(
                (8..=2048).contains(&len) && len.is_multiple_of(8),
                "extension header of {len} bytes"
            );
            let mut b = vec![0u8; len];
            b[0] = next;
            b[1] = (len / 8 - 1) as u8;
            // One PadN option over the rest (its length byte counts what
            // follows it; at most 255, so chain several).
            let mut at = 2;
            while at < len {
                if len - at == 1 {
                    // Pad1: a zero byte (already).
                    break;
                }
                let n = (len - at - 2).min(255);
                b[at] = 1;
                b[at + 1] = n as u8;
                at += 2 + n;
            }
            b
        };
        match *self {
            Ext::HopByHop(len) | Ext::DestOpts(len) => options(len),
            Ext::Routing(len) => {
                let mut b = options(len);
                b[2..].fill(0);
                b[2] = 4;
                b
            }
            Ext::Fragment { offset, more } => {
                assert!(offset < 1 << 13, "fragment offset {offset} has 13 bits");
                let field = offset << 3 | u16::from(more);
                let mut b = vec![next, 0, 0, 0, 0, 0, 0x4b, 0x57];
                b[2..4].copy_from_slice(&field.to_be_bytes());
                b
            }
            Ext::Auth(len) => {
                assert!(
                    (12..=1028).contains(&len) && len.is_multiple_of(4),
                    "authentication header of {len} bytes"
                );
                let mut b = vec![0u8; len];
                b[0] = next;
                b[1] = (len / 4 - 2) as u8;
                b[4..8].copy_from_slice(&0x100u32.to_be_bytes());
                b
            }
        }
    }
}

/// The IPv6 header of packets to build, and its extension headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv6 {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub hop_limit: u8,
    pub ext: Vec<Ext>,
}

impl Default for Ipv6 {
    fn default() -> Self {
        Self::new(SRC6, DST6)
    }
}

impl Ipv6 {
    pub fn new(src: Ipv6Addr, dst: Ipv6Addr) -> Self {
        Self {
            src,
            dst,
            hop_limit: 64,
            ext: Vec::new(),
        }
    }

    /// The same header with extension headers `ext`.
    pub fn with_ext(mut self, ext: &[Ext]) -> Self {
        self.ext = ext.to_vec();
        self
    }

    fn builder(&self) -> etherparse::PacketBuilderStep<etherparse::IpHeaders> {
        PacketBuilder::ipv6(self.src.octets(), self.dst.octets(), self.hop_limit)
    }

    /// Puts the extension headers between the fixed header and the rest
    /// (whose checksum does not cover them) and fixes the payload length.
    fn insert_ext(&self, mut pkt: Vec<u8>) -> Vec<u8> {
        let upper = pkt[6];
        let mut ext = Vec::new();
        let mut kinds = self.ext.iter().map(Ext::kind).skip(1);
        for e in &self.ext {
            ext.extend(e.bytes(kinds.next().unwrap_or(upper)));
        }
        if let Some(first) = self.ext.first() {
            pkt[6] = first.kind();
        }
        pkt.splice(40..40, ext);
        let payload = u16::try_from(pkt.len() - 40).expect("payload fits an IPv6 packet");
        pkt[4..6].copy_from_slice(&payload.to_be_bytes());
        pkt
    }

    /// A TCP SYN (sequence number 1, window 65535) carrying `payload`.
    pub fn tcp(&self, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut pkt = Vec::new();
        self.builder()
            .tcp(sport, dport, 1, u16::MAX)
            .syn()
            .write(&mut pkt, payload)
            .expect("TCP payload fits an IPv6 packet");
        self.insert_ext(pkt)
    }

    /// A UDP datagram carrying `payload`.
    pub fn udp(&self, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut pkt = Vec::new();
        self.builder()
            .udp(sport, dport)
            .write(&mut pkt, payload)
            .expect("UDP payload fits an IPv6 packet");
        self.insert_ext(pkt)
    }

    /// An ICMPv6 echo request (identifier 1, sequence number 1) carrying
    /// `payload`.
    pub fn icmp_echo(&self, payload: &[u8]) -> Vec<u8> {
        let mut pkt = Vec::new();
        self.builder()
            .icmpv6_echo_request(1, 1)
            .write(&mut pkt, payload)
            .expect("ICMPv6 payload fits an IPv6 packet");
        self.insert_ext(pkt)
    }
}

/// A TCP SYN from [`SRC6`]:`sport` to [`DST6`]:`dport`.
pub fn tcp6(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    Ipv6::default().tcp(sport, dport, payload)
}

/// A UDP datagram from [`SRC6`]:`sport` to [`DST6`]:`dport`.
pub fn udp6(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    Ipv6::default().udp(sport, dport, payload)
}

/// A TCP SYN from [`SRC`]:`sport` to [`DST`]:`dport`.
pub fn tcp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    Ipv4::default().tcp(sport, dport, payload)
}

/// A UDP datagram from [`SRC`]:`sport` to [`DST`]:`dport`.
pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    Ipv4::default().udp(sport, dport, payload)
}

/// An ICMP echo request from [`SRC`] to [`DST`].
pub fn icmp_echo(payload: &[u8]) -> Vec<u8> {
    Ipv4::default().icmp_echo(payload)
}

/// Sets the fragment offset of `pkt` (in 8-byte units, as in the header;
/// non-zero makes it a non-first fragment, whose ports are not in it) and
/// updates the header checksum. The flags are kept.
pub fn set_fragment_offset(pkt: &mut [u8], offset: u16) {
    assert!(offset < 1 << 13, "fragment offset {offset} has 13 bits");
    let flags = pkt[6] & 0xe0;
    pkt[6] = flags | (offset >> 8) as u8;
    pkt[7] = offset as u8;
    let header = Ipv4HeaderSlice::from_slice(pkt)
        .expect("an IPv4 header")
        .to_header();
    pkt[10..12].copy_from_slice(&header.calc_header_checksum().to_be_bytes());
}

/// Parses an IPv6 `pkt` back (etherparse) and checks its lengths and the
/// transport checksum; panics on any mismatch (for tests).
pub fn parse6(pkt: &[u8]) -> SlicedPacket<'_> {
    let sliced = SlicedPacket::from_ip(pkt).unwrap();
    let Some(NetSlice::Ipv6(ip)) = &sliced.net else {
        panic!("not IPv6");
    };
    let hdr = ip.header().to_header();
    assert_eq!(usize::from(hdr.payload_length) + 40, pkt.len());
    let (src, dst) = (hdr.source, hdr.destination);
    match &sliced.transport {
        Some(TransportSlice::Tcp(tcp)) => {
            let sum = tcp
                .to_header()
                .calc_checksum_ipv6_raw(src, dst, tcp.payload());
            assert_eq!(tcp.checksum(), sum.unwrap());
        }
        Some(TransportSlice::Udp(udp)) => {
            let sum = udp
                .to_header()
                .calc_checksum_ipv6_raw(src, dst, udp.payload());
            assert_eq!(udp.checksum(), sum.unwrap());
        }
        Some(TransportSlice::Icmpv6(icmp)) => {
            let sum = icmp
                .header()
                .icmp_type
                .calc_checksum(src, dst, icmp.payload());
            assert_eq!(icmp.checksum(), sum.unwrap());
        }
        _ => panic!("no transport header"),
    }
    sliced
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_tcp_udp_icmp() {
        let pkt = tcp6(1234, 23557, b"x");
        assert_eq!(pkt.len(), 40 + 20 + 1);
        assert_eq!((pkt[0] >> 4, pkt[6], pkt[7]), (6, PROTO_TCP, 64));
        assert_eq!(&pkt[8..24], &SRC6.octets());
        assert_eq!(&pkt[24..40], &DST6.octets());
        assert_eq!(&pkt[40..44], &[0x04, 0xd2, 0x5c, 0x05]);
        parse6(&pkt);
        let pkt = udp6(53, 5353, &[0; 8]);
        assert_eq!((pkt.len(), pkt[6]), (56, PROTO_UDP));
        parse6(&pkt);
        let pkt = Ipv6::new(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST).icmp_echo(b"ping");
        assert_eq!((pkt[6], pkt[40]), (PROTO_ICMPV6, 128));
        parse6(&pkt);
    }

    #[test]
    fn ipv6_extension_headers() {
        let ip = Ipv6::default().with_ext(&[
            Ext::HopByHop(8),
            Ext::Routing(24),
            Ext::Fragment {
                offset: 0,
                more: true,
            },
            Ext::Auth(12),
            Ext::DestOpts(16),
        ]);
        let pkt = ip.udp(1, 23558, b"abc");
        let l4 = 40 + 8 + 24 + 8 + 12 + 16;
        assert_eq!(pkt.len(), l4 + 8 + 3);
        // The chain: hop-by-hop, routing, fragment, AH, destination
        // options, UDP.
        assert_eq!(pkt[6], NEXTHDR_HOP);
        assert_eq!((pkt[40], pkt[41]), (NEXTHDR_ROUTING, 0));
        assert_eq!((pkt[48], pkt[49]), (NEXTHDR_FRAGMENT, 2));
        assert_eq!((pkt[72], pkt[74], pkt[75]), (NEXTHDR_AUTH, 0, 1));
        assert_eq!((pkt[80], pkt[81]), (NEXTHDR_DEST, 1));
        assert_eq!((pkt[92], pkt[93]), (PROTO_UDP, 1));
        assert_eq!(&pkt[l4..l4 + 4], &[0, 1, 0x5c, 0x06]);
        // etherparse follows the chain, and stops at a fragment (even the
        // first).
        let sliced = SlicedPacket::from_ip(&pkt).unwrap();
        let Some(NetSlice::Ipv6(ip)) = &sliced.net else {
            panic!("not IPv6");
        };
        assert!(ip.is_payload_fragmented());
        // Without the fragment header, the checksums are checked.
        let unfragmented = Ipv6::default().with_ext(&[
            Ext::HopByHop(8),
            Ext::Routing(24),
            Ext::Auth(12),
            Ext::DestOpts(264),
        ]);
        let pkt = unfragmented.udp(1, 23558, b"abc");
        assert_eq!(pkt.len(), 40 + 8 + 24 + 12 + 264 + 8 + 3);
        parse6(&pkt);
        parse6(&unfragmented.tcp(1, 2, b"x"));
        // A later fragment: etherparse finds no transport header in it.
        let later = Ipv6::default().with_ext(&[Ext::Fragment {
            offset: 8,
            more: false,
        }]);
        let pkt = later.tcp(1, 2, b"");
        assert_eq!(&pkt[42..44], &[0, 64]);
        assert!(SlicedPacket::from_ip(&pkt).unwrap().transport.is_none());
    }

    /// Parses `pkt` back and checks every checksum in it.
    fn parse(pkt: &[u8]) -> SlicedPacket<'_> {
        let sliced = SlicedPacket::from_ip(pkt).unwrap();
        let Some(NetSlice::Ipv4(ip)) = &sliced.net else {
            panic!("not IPv4");
        };
        let hdr = ip.header().to_header();
        assert_eq!(hdr.header_checksum, hdr.calc_header_checksum());
        assert_eq!(usize::from(hdr.total_len), pkt.len());
        match &sliced.transport {
            Some(TransportSlice::Tcp(tcp)) => {
                let sum = tcp.to_header().calc_checksum_ipv4(&hdr, tcp.payload());
                assert_eq!(tcp.checksum(), sum.unwrap());
            }
            Some(TransportSlice::Udp(udp)) => {
                let sum = udp.to_header().calc_checksum_ipv4(&hdr, udp.payload());
                assert_eq!(udp.checksum(), sum.unwrap());
            }
            Some(TransportSlice::Icmpv4(icmp)) => {
                assert_eq!(
                    icmp.checksum(),
                    icmp.header().icmp_type.calc_checksum(icmp.payload())
                );
            }
            _ => panic!("no transport header"),
        }
        sliced
    }

    #[test]
    fn tcp_syn() {
        let pkt = tcp(1234, 23557, b"x");
        assert_eq!(pkt.len(), 41);
        assert_eq!(&pkt[..4], &[0x45, 0, 0, 41]);
        assert_eq!((pkt[8], pkt[9]), (64, PROTO_TCP));
        assert_eq!(&pkt[12..20], &[10, 0, 0, 1, 10, 0, 0, 2]);
        assert_eq!(&pkt[20..24], &[0x04, 0xd2, 0x5c, 0x05]);
        let Some(TransportSlice::Tcp(tcp)) = parse(&pkt).transport else {
            panic!("not TCP");
        };
        assert!(tcp.syn() && !tcp.ack());
        assert_eq!(tcp.payload(), b"x");
    }

    #[test]
    fn udp_and_icmp() {
        let pkt = udp(53, 5353, &[0; 72]);
        assert_eq!((pkt.len(), pkt[9]), (100, PROTO_UDP));
        assert_eq!(&pkt[20..24], &[0, 53, 0x14, 0xe9]);
        assert_eq!(&pkt[24..26], &80u16.to_be_bytes(), "UDP length");
        parse(&pkt);
        let pkt = icmp_echo(b"ping");
        assert_eq!((pkt.len(), pkt[9], pkt[20]), (32, PROTO_ICMP, 8));
        parse(&pkt);
    }

    #[test]
    fn other_addresses() {
        let ip = Ipv4::new(Ipv4Addr::new(192, 168, 1, 2), Ipv4Addr::LOCALHOST);
        let pkt = ip.udp(1, 2, b"");
        assert_eq!(&pkt[12..20], &[192, 168, 1, 2, 127, 0, 0, 1]);
        parse(&pkt);
    }

    #[test]
    fn fragments() {
        let mut pkt = tcp(1, 2, b"");
        let flags = pkt[6] & 0xe0;
        set_fragment_offset(&mut pkt, 0x1234);
        assert_eq!((pkt[6], pkt[7]), (flags | 0x12, 0x34));
        let hdr = Ipv4HeaderSlice::from_slice(&pkt).unwrap().to_header();
        assert_eq!(hdr.fragment_offset.value(), 0x1234);
        assert_eq!(hdr.header_checksum, hdr.calc_header_checksum());
    }

    #[test]
    #[should_panic(expected = "fits an IPv4 packet")]
    fn oversized_payload_panics() {
        udp(1, 2, &vec![0; 65535]);
    }
}
