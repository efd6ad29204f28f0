// SPDX-License-Identifier: GPL-2.0
//! IPv4 test packets, from the IPv4 header on (what the core and
//! `KWASM_IOC_TEST_RUN` take), with valid lengths and checksums.
//!
//! The short forms go from [`SRC`] to [`DST`]; [`Ipv4`] sets other
//! addresses. TCP packets are SYNs, ICMP packets echo requests, as
//! `kwasmctl test-run` builds them.

use std::net::Ipv4Addr;

use etherparse::{Ipv4HeaderSlice, PacketBuilder};

/// Source address of the short forms.
pub const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// Destination address of the short forms.
pub const DST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// IP protocol numbers.
pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;

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

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

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
