// SPDX-License-Identifier: GPL-2.0
//! Packets for test-run: built from a description, or read as hex.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use anyhow::{bail, ensure, Context, Result};
use clap::ValueEnum;
use etherparse::PacketBuilder;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
}

/// `ADDR` or `ADDR:PORT`, as given to --src and --dst: an IPv4 address
/// (`10.0.0.1:80`) or an IPv6 one, in brackets when a port follows
/// (`[::1]:80`, `::1`, `[::1]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: Option<u16>,
}

fn parse_port(port: &str) -> Result<u16, String> {
    port.parse().map_err(|_| format!("bad port '{port}'"))
}

impl FromStr for Endpoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(rest) = s.strip_prefix('[') {
            let (addr, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("'{s}': '[' without ']'"))?;
            let port = match after {
                "" => None,
                _ => {
                    let port = after
                        .strip_prefix(':')
                        .ok_or_else(|| format!("'{s}': ':PORT' must follow ']'"))?;
                    Some(parse_port(port)?)
                }
            };
            let addr = addr
                .parse::<std::net::Ipv6Addr>()
                .map_err(|_| format!("bad IPv6 address '{addr}'"))?;
            return Ok(Self {
                addr: addr.into(),
                port,
            });
        }
        // More than one ':' is an IPv6 address without a port.
        if s.matches(':').count() > 1 {
            let addr = s
                .parse::<std::net::Ipv6Addr>()
                .map_err(|_| format!("bad IPv6 address '{s}' (a port needs [ADDR]:PORT)"))?;
            return Ok(Self {
                addr: addr.into(),
                port: None,
            });
        }
        let (addr, port) = match s.split_once(':') {
            Some((addr, port)) => (addr, Some(parse_port(port)?)),
            None => (s, None),
        };
        let addr = addr
            .parse::<std::net::Ipv4Addr>()
            .map_err(|_| format!("bad IPv4 address '{addr}'"))?;
        Ok(Self {
            addr: addr.into(),
            port,
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match (self.addr, self.port) {
            (IpAddr::V6(addr), Some(port)) => write!(f, "[{addr}]:{port}"),
            (addr, Some(port)) => write!(f, "{addr}:{port}"),
            (addr, None) => write!(f, "{addr}"),
        }
    }
}

/// A packet to build: a TCP SYN, a UDP datagram or an ICMP echo request
/// (ICMPv6 for IPv6), with `payload_len` zero bytes of payload, of the
/// family of its endpoints.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub proto: Proto,
    pub src: Endpoint,
    pub dst: Endpoint,
    pub payload_len: u16,
}

impl Spec {
    /// The packet bytes from the IP header on, with valid checksums: a
    /// TCP SYN, a UDP datagram or an ICMP echo request.
    pub fn build(&self) -> Result<Vec<u8>> {
        let ip = match (self.src.addr, self.dst.addr) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                PacketBuilder::ipv4(src.octets(), dst.octets(), 64)
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                PacketBuilder::ipv6(src.octets(), dst.octets(), 64)
            }
            _ => bail!(
                "--src {} and --dst {} are not of one family: give two IPv4 or two IPv6 addresses",
                self.src,
                self.dst
            ),
        };
        let ports = (self.src.port, self.dst.port);
        let payload = vec![0u8; usize::from(self.payload_len)];
        let mut pkt = Vec::new();
        let written = match (self.proto, ports) {
            (Proto::Icmp, (None, None)) if self.src.addr.is_ipv6() => {
                ip.icmpv6_echo_request(1, 1).write(&mut pkt, &payload)
            }
            (Proto::Icmp, (None, None)) => ip.icmpv4_echo_request(1, 1).write(&mut pkt, &payload),
            (Proto::Icmp, _) => bail!("icmp has no ports: give --src and --dst as ADDR"),
            (Proto::Tcp, (Some(sport), Some(dport))) => ip
                .tcp(sport, dport, 1, u16::MAX)
                .syn()
                .write(&mut pkt, &payload),
            (Proto::Udp, (Some(sport), Some(dport))) => {
                ip.udp(sport, dport).write(&mut pkt, &payload)
            }
            _ => bail!("tcp and udp need ports: give --src and --dst as ADDR:PORT"),
        };
        written.with_context(|| format!("--payload-len {}", self.payload_len))?;
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
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    use kwasm_test_support::packet::parse6;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn spec(proto: Proto, src: &str, dst: &str, payload_len: u16) -> Spec {
        Spec {
            proto,
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            payload_len,
        }
    }

    /// Parses `pkt` back and checks every checksum in it.
    fn parse(pkt: &[u8]) -> SlicedPacket<'_> {
        let sliced = SlicedPacket::from_ip(pkt).unwrap();
        let Some(NetSlice::Ipv4(ip)) = &sliced.net else {
            panic!("not IPv4");
        };
        let hdr = ip.header().to_header();
        assert_eq!(hdr.header_checksum, hdr.calc_header_checksum());
        let payload = ip.payload().payload;
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
        assert_eq!(payload.len() + 20, pkt.len());
        sliced
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
        let Some(TransportSlice::Tcp(tcp)) = parse(&pkt).transport else {
            panic!("not TCP");
        };
        assert!(tcp.syn() && !tcp.ack());
    }

    #[test]
    fn udp_with_odd_payload() {
        let pkt = spec(Proto::Udp, "192.168.1.2:53", "192.168.1.3:23558", 3)
            .build()
            .unwrap();
        assert_eq!(pkt.len(), 31);
        assert_eq!(pkt[9], 17);
        assert_eq!(&pkt[24..26], &11u16.to_be_bytes(), "UDP length");
        parse(&pkt);
    }

    #[test]
    fn icmp_echo() {
        let pkt = spec(Proto::Icmp, "10.0.0.1", "10.0.0.2", 8)
            .build()
            .unwrap();
        assert_eq!(pkt.len(), 36);
        assert_eq!((pkt[9], pkt[20]), (1, 8));
        parse(&pkt);
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
        assert_eq!(
            (e.addr, e.port),
            (IpAddr::from(Ipv4Addr::LOCALHOST), Some(23557))
        );
        assert_eq!("10.1.2.3".parse::<Endpoint>().unwrap().port, None);
        assert!("10.1.2:80".parse::<Endpoint>().is_err());
        assert!("10.1.2.3:65536".parse::<Endpoint>().is_err());
        let v6 = IpAddr::from(Ipv6Addr::LOCALHOST);
        for (text, port, shown) in [
            ("::1", None, "::1"),
            ("[::1]", None, "::1"),
            ("[::1]:80", Some(80), "[::1]:80"),
        ] {
            let e: Endpoint = text.parse().unwrap();
            assert_eq!((e.addr, e.port), (v6, port), "{text}");
            assert_eq!(e.to_string(), shown);
        }
        let e: Endpoint = "[2001:db8::1]:65535".parse().unwrap();
        assert_eq!(e.to_string(), "[2001:db8::1]:65535");
        for bad in [
            "[::1",
            "[::1]80",
            "[::1]:",
            "[::1]:65536",
            "[10.0.0.1]:80",
            "::1:80x",
            "1::2::3",
        ] {
            assert!(bad.parse::<Endpoint>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv6_packets() {
        let pkt = spec(Proto::Tcp, "[2001:db8::1]:1234", "[::1]:23557", 0)
            .build()
            .unwrap();
        assert_eq!(pkt.len(), 60);
        assert_eq!((pkt[0] >> 4, pkt[6], pkt[7]), (6, 6, 64));
        assert_eq!(&pkt[24..40], &Ipv6Addr::LOCALHOST.octets());
        assert_eq!(&pkt[40..44], &[0x04, 0xd2, 0x5c, 0x05]);
        let Some(TransportSlice::Tcp(tcp)) = parse6(&pkt).transport else {
            panic!("not TCP");
        };
        assert!(tcp.syn());
        let pkt = spec(Proto::Udp, "[::1]:53", "[::1]:23558", 3)
            .build()
            .unwrap();
        assert_eq!((pkt.len(), pkt[6]), (51, 17));
        parse6(&pkt);
        let pkt = spec(Proto::Icmp, "::1", "fe80::1", 8).build().unwrap();
        assert_eq!((pkt.len(), pkt[6], pkt[40]), (56, 58, 128));
        parse6(&pkt);
        let e = spec(Proto::Udp, "10.0.0.1:1", "[::1]:2", 0)
            .build()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "--src 10.0.0.1:1 and --dst [::1]:2 are not of one family: give two IPv4 or two \
             IPv6 addresses"
        );
        assert!(spec(Proto::Tcp, "::1", "[::1]:80", 0).build().is_err());
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
