// SPDX-License-Identifier: GPL-2.0
//! Packets for test-run: built from a description, or read as hex.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use anyhow::{bail, ensure, Context, Result};
use clap::ValueEnum;

const IPV4_HDR_LEN: usize = 20;
const TCP_HDR_LEN: usize = 20;
const UDP_HDR_LEN: usize = 8;
const ICMP_HDR_LEN: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
}

impl Proto {
    fn number(self) -> u8 {
        match self {
            Proto::Icmp => 1,
            Proto::Tcp => 6,
            Proto::Udp => 17,
        }
    }

    fn hdr_len(self) -> usize {
        match self {
            Proto::Tcp => TCP_HDR_LEN,
            Proto::Udp => UDP_HDR_LEN,
            Proto::Icmp => ICMP_HDR_LEN,
        }
    }
}

/// `ADDR` or `ADDR:PORT`, as given to --src and --dst.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub addr: Ipv4Addr,
    pub port: Option<u16>,
}

impl FromStr for Endpoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, port) = match s.split_once(':') {
            Some((addr, port)) => {
                let port = port.parse().map_err(|_| format!("bad port '{port}'"))?;
                (addr, Some(port))
            }
            None => (s, None),
        };
        let addr = addr
            .parse()
            .map_err(|_| format!("bad IPv4 address '{addr}'"))?;
        Ok(Self { addr, port })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.addr),
            None => write!(f, "{}", self.addr),
        }
    }
}

/// A packet to build: a TCP SYN, a UDP datagram or an ICMP echo request,
/// with `payload_len` zero bytes of payload.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub proto: Proto,
    pub src: Endpoint,
    pub dst: Endpoint,
    pub payload_len: u16,
}

/// The 16-bit ones' complement sum of `data` (RFC 1071) added to `sum`,
/// not yet folded or complemented.
fn sum16(data: &[u8], mut sum: u32) -> u32 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

/// The Internet checksum of `data`, starting from a partial `sum`.
pub fn checksum(data: &[u8], sum: u32) -> u16 {
    let mut sum = sum16(data, sum);
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The partial sum of the TCP/UDP pseudo header.
fn pseudo_header_sum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let mut sum = sum16(&src.octets(), 0);
    sum = sum16(&dst.octets(), sum);
    sum + u32::from(proto) + len as u32
}

impl Spec {
    /// The packet bytes from the IPv4 header on, with valid checksums.
    pub fn build(&self) -> Result<Vec<u8>> {
        let ports = match (self.proto, self.src.port, self.dst.port) {
            (Proto::Icmp, None, None) => None,
            (Proto::Icmp, ..) => bail!("icmp has no ports: give --src and --dst as ADDR"),
            (_, Some(sport), Some(dport)) => Some((sport, dport)),
            _ => bail!("tcp and udp need ports: give --src and --dst as ADDR:PORT"),
        };
        let l4_len = self.proto.hdr_len() + usize::from(self.payload_len);
        let total = IPV4_HDR_LEN + l4_len;
        ensure!(
            total <= usize::from(u16::MAX),
            "--payload-len {} makes the packet longer than 65535 bytes",
            self.payload_len
        );

        let mut pkt = vec![0u8; total];
        let (ip, l4) = pkt.split_at_mut(IPV4_HDR_LEN);
        ip[0] = 0x45; // version 4, 5 words of header
        ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&1u16.to_be_bytes()); // identification
        ip[6..8].copy_from_slice(&0x4000u16.to_be_bytes()); // don't fragment
        ip[8] = 64; // TTL
        ip[9] = self.proto.number();
        ip[12..16].copy_from_slice(&self.src.addr.octets());
        ip[16..20].copy_from_slice(&self.dst.addr.octets());
        let csum = checksum(ip, 0);
        ip[10..12].copy_from_slice(&csum.to_be_bytes());

        if let Some((sport, dport)) = ports {
            l4[0..2].copy_from_slice(&sport.to_be_bytes());
            l4[2..4].copy_from_slice(&dport.to_be_bytes());
        }
        let csum_at = match self.proto {
            Proto::Tcp => {
                l4[4..8].copy_from_slice(&1u32.to_be_bytes()); // sequence number
                l4[12] = 5 << 4; // data offset: 5 words
                l4[13] = 0x02; // SYN
                l4[14..16].copy_from_slice(&u16::MAX.to_be_bytes()); // window
                16
            }
            Proto::Udp => {
                l4[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes());
                6
            }
            Proto::Icmp => {
                l4[0] = 8; // echo request, code 0
                l4[4..6].copy_from_slice(&1u16.to_be_bytes()); // identifier
                l4[6..8].copy_from_slice(&1u16.to_be_bytes()); // sequence
                2
            }
        };
        let pseudo = match self.proto {
            Proto::Icmp => 0,
            _ => pseudo_header_sum(self.src.addr, self.dst.addr, self.proto.number(), l4_len),
        };
        let mut csum = checksum(l4, pseudo);
        if self.proto == Proto::Udp && csum == 0 {
            csum = 0xffff; // 0 means "no checksum" in UDP
        }
        l4[csum_at..csum_at + 2].copy_from_slice(&csum.to_be_bytes());
        Ok(pkt)
    }
}

/// Packet bytes written as hex digits; whitespace is ignored and `#` starts
/// a comment that runs to the end of the line.
pub fn parse_hex(text: &str) -> Result<Vec<u8>> {
    let digits: Vec<u8> = text
        .lines()
        .flat_map(|line| line.split('#').next().unwrap_or("").bytes())
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    ensure!(!digits.is_empty(), "no packet bytes");
    ensure!(digits.len().is_multiple_of(2), "odd number of hex digits");
    digits
        .chunks_exact(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok();
            pair.and_then(|p| u8::from_str_radix(p, 16).ok())
                .with_context(|| format!("'{}' is not a hex byte", pair.unwrap_or("?")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(proto: Proto, src: &str, dst: &str, payload_len: u16) -> Spec {
        Spec {
            proto,
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            payload_len,
        }
    }

    /// A checksum over data that includes its own checksum comes out 0.
    fn verifies(data: &[u8], sum: u32) -> bool {
        checksum(data, sum) == 0
    }

    #[test]
    fn checksum_of_a_known_header() {
        // The IPv4 header example with checksum 0xb861, checksum zeroed.
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&hdr, 0), 0xb861);
        assert_eq!(checksum(&[0x01], 0), !0x0100);
    }

    #[test]
    fn tcp_syn() {
        let pkt = spec(Proto::Tcp, "10.0.0.1:1234", "127.0.0.1:23557", 0)
            .build()
            .unwrap();
        assert_eq!(pkt.len(), 40);
        assert_eq!(&pkt[..4], &[0x45, 0, 0, 40]);
        assert_eq!(pkt[9], 6);
        assert_eq!(&pkt[12..20], &[10, 0, 0, 1, 127, 0, 0, 1]);
        assert_eq!(&pkt[20..24], &[0x04, 0xd2, 0x5c, 0x05]);
        assert_eq!(pkt[33], 0x02, "SYN");
        assert!(verifies(&pkt[..20], 0));
        let pseudo = pseudo_header_sum([10, 0, 0, 1].into(), Ipv4Addr::LOCALHOST, 6, 20);
        assert!(verifies(&pkt[20..], pseudo));
    }

    #[test]
    fn udp_with_odd_payload() {
        let pkt = spec(Proto::Udp, "192.168.1.2:53", "192.168.1.3:23558", 3)
            .build()
            .unwrap();
        assert_eq!(pkt.len(), 31);
        assert_eq!(pkt[9], 17);
        assert_eq!(&pkt[24..26], &11u16.to_be_bytes(), "UDP length");
        assert!(verifies(&pkt[..20], 0));
        let pseudo = pseudo_header_sum([192, 168, 1, 2].into(), [192, 168, 1, 3].into(), 17, 11);
        assert!(verifies(&pkt[20..], pseudo));
    }

    #[test]
    fn icmp_echo() {
        let pkt = spec(Proto::Icmp, "10.0.0.1", "10.0.0.2", 8)
            .build()
            .unwrap();
        assert_eq!(pkt.len(), 36);
        assert_eq!((pkt[9], pkt[20]), (1, 8));
        assert!(verifies(&pkt[..20], 0));
        assert!(verifies(&pkt[20..], 0));
    }

    #[test]
    fn ports_must_fit_the_protocol() {
        assert!(spec(Proto::Tcp, "10.0.0.1", "10.0.0.2:80", 0)
            .build()
            .is_err());
        assert!(spec(Proto::Icmp, "10.0.0.1:1", "10.0.0.2", 0)
            .build()
            .is_err());
        assert!(spec(Proto::Udp, "10.0.0.1:1", "10.0.0.2:2", 65535)
            .build()
            .is_err());
    }

    #[test]
    fn endpoints() {
        let e: Endpoint = "127.0.0.1:23557".parse().unwrap();
        assert_eq!((e.addr, e.port), (Ipv4Addr::LOCALHOST, Some(23557)));
        assert_eq!("10.1.2.3".parse::<Endpoint>().unwrap().port, None);
        assert!("10.1.2:80".parse::<Endpoint>().is_err());
        assert!("10.1.2.3:65536".parse::<Endpoint>().is_err());
        assert!("::1".parse::<Endpoint>().is_err());
    }

    #[test]
    fn hex() {
        let text = "45 00 00 14 # version, length\n0000 4000\n\n4001b0c4 # rest\n";
        assert_eq!(
            parse_hex(text).unwrap(),
            [0x45, 0, 0, 0x14, 0, 0, 0x40, 0, 0x40, 0x01, 0xb0, 0xc4]
        );
        assert!(parse_hex("450").is_err());
        assert!(parse_hex("4g").is_err());
        assert!(parse_hex("# nothing\n").is_err());
    }
}
