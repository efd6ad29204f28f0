// SPDX-License-Identifier: MIT OR Apache-2.0
//! The packet record the kernel writes into the program's memory.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::proto;

/// Size of the record header of version 2, which [`crate::kwasm_filter!`]
/// asks for by default; the captured packet bytes follow it.
pub const HDR_LEN: usize = 48;
/// Size of the record header of version 3 (`kwasm_filter!(f, record 3)`):
/// version 2 and the IPv6 addresses.
pub const HDR_LEN_V3: usize = 80;
/// The record version [`crate::kwasm_filter!`] asks for by default.
pub const VERSION: u8 = 2;

/// Protocol families, as [`Record::family`] and [`crate::host::family`]
/// give them.
pub mod family {
    pub const IPV4: u8 = 2;
    pub const IPV6: u8 = 10;
}

/// Record flags: which parsed fields hold values.
const REC_PORTS: u16 = 1 << 0;
const REC_TCP_FLAGS: u16 = 1 << 1;

/// Where a packet stands in fragmentation ([`Record::frag`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frag {
    /// Not a fragment.
    None,
    /// Offset 0, more fragments follow: carries the transport header.
    First,
    /// Offset > 0: no transport header.
    Later,
}

/// One packet as the kernel describes it: a header with metadata and the
/// first bytes of the packet from the IP header on (network byte order).
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    bytes: &'a [u8],
    hdr_len: usize,
}

impl<'a> Record<'a> {
    /// Wraps record bytes, checking that the header is one this crate
    /// knows (version 2 or 3) and that the captured packet bytes are all
    /// there.
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        let hdr_len = u16::from_le_bytes(bytes.get(0..2)?.try_into().ok()?);
        let version = u16::from_le_bytes(bytes.get(2..4)?.try_into().ok()?);
        let hdr_len = usize::from(hdr_len);
        match (version, hdr_len) {
            (2, HDR_LEN) | (3, HDR_LEN_V3) if bytes.len() >= hdr_len => {}
            _ => return None,
        }
        let rec = Self { bytes, hdr_len };
        let end = hdr_len.checked_add(rec.cap_len() as usize)?;
        (end <= bytes.len()).then_some(rec)
    }

    /// The record version: 2 or 3.
    pub fn version(&self) -> u8 {
        self.bytes[2]
    }

    /// Wraps the record at `ctx`, as passed to `kwasm_filter`.
    ///
    /// # Safety
    ///
    /// `ctx..ctx + len` must be readable and unchanged while the record is
    /// used: true of what the kernel passes, for the duration of one call.
    pub unsafe fn from_raw(ctx: *const u8, len: u32) -> Option<Self> {
        if ctx.is_null() {
            return None;
        }
        // SAFETY: guaranteed by the caller.
        Self::new(unsafe { core::slice::from_raw_parts(ctx, len as usize) })
    }

    fn u16_at(&self, off: usize) -> u16 {
        u16::from_le_bytes([self.bytes[off], self.bytes[off + 1]])
    }

    fn u32_at(&self, off: usize) -> u32 {
        let b = &self.bytes[off..off + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Whole packet length from the IP header on.
    pub fn pkt_len(&self) -> u32 {
        self.u32_at(4)
    }

    /// Number of packet bytes captured: min(pkt_len, snap length).
    pub fn cap_len(&self) -> u32 {
        self.u32_at(8)
    }

    /// Netfilter hook number (see [`crate::hook`]).
    pub fn hook(&self) -> u32 {
        self.u32_at(12)
    }

    /// Input interface index, 0 if none.
    pub fn ifindex_in(&self) -> u32 {
        self.u32_at(16)
    }

    /// Output interface index, 0 if none.
    pub fn ifindex_out(&self) -> u32 {
        self.u32_at(20)
    }

    pub fn mark(&self) -> u32 {
        self.u32_at(24)
    }

    /// Protocol number (see [`crate::proto`]); for IPv6 the upper layer
    /// past the extension headers.
    pub fn ip_proto(&self) -> u8 {
        self.bytes[28]
    }

    /// The netfilter protocol family: [`family::IPV4`] or
    /// [`family::IPV6`].
    pub fn family(&self) -> u8 {
        self.bytes[29]
    }

    /// Whether the packet is IPv6 (else IPv4).
    pub fn is_ipv6(&self) -> bool {
        self.family() == family::IPV6
    }

    fn flags(&self) -> u16 {
        self.u16_at(38)
    }

    /// The TCP flags byte, when the packet carries it.
    pub fn tcp_flags(&self) -> Option<u8> {
        (self.flags() & REC_TCP_FLAGS != 0).then(|| self.bytes[30])
    }

    pub fn frag(&self) -> Frag {
        match self.bytes[31] {
            1 => Frag::First,
            2 => Frag::Later,
            _ => Frag::None,
        }
    }

    /// TCP/UDP source port; `None` for other protocols and later fragments.
    /// Parsed by the kernel from the whole header (IPv6: past the
    /// extension headers): two loads.
    pub fn sport(&self) -> Option<u16> {
        (self.flags() & REC_PORTS != 0).then(|| self.u16_at(32))
    }

    /// TCP/UDP destination port, as [`Record::sport`].
    pub fn dport(&self) -> Option<u16> {
        (self.flags() & REC_PORTS != 0).then(|| self.u16_at(34))
    }

    /// Offset of the transport header in [`Record::packet`].
    pub fn l4_off(&self) -> u16 {
        self.u16_at(36)
    }

    /// IPv4 source address; 0.0.0.0 for IPv6.
    pub fn saddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.u32_at(40))
    }

    /// IPv4 destination address; 0.0.0.0 for IPv6.
    pub fn daddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.u32_at(44))
    }

    fn addr6_at(&self, off: usize) -> Option<Ipv6Addr> {
        let bytes: [u8; 16] = self.bytes.get(off..off + 16)?.try_into().ok()?;
        (self.version() >= 3).then(|| Ipv6Addr::from(bytes))
    }

    /// Source address as 16 bytes (an IPv4 one as `::ffff:a.b.c.d`), in
    /// record version 3; `None` in version 2.
    pub fn saddr6(&self) -> Option<Ipv6Addr> {
        self.addr6_at(48)
    }

    /// Destination address, as [`Record::saddr6`].
    pub fn daddr6(&self) -> Option<Ipv6Addr> {
        self.addr6_at(64)
    }

    /// Source address of either family; `None` for IPv6 in version 2.
    pub fn src_ip(&self) -> Option<IpAddr> {
        if self.is_ipv6() {
            self.saddr6().map(IpAddr::V6)
        } else {
            Some(IpAddr::V4(self.saddr()))
        }
    }

    /// Destination address of either family, as [`Record::src_ip`].
    pub fn dst_ip(&self) -> Option<IpAddr> {
        if self.is_ipv6() {
            self.daddr6().map(IpAddr::V6)
        } else {
            Some(IpAddr::V4(self.daddr()))
        }
    }

    /// The captured packet bytes, from the first byte of the IP header.
    pub fn packet(&self) -> &'a [u8] {
        &self.bytes[self.hdr_len..self.hdr_len + self.cap_len() as usize]
    }

    /// Decodes the IPv4 header, and the ports of a first TCP or UDP fragment
    /// when they were captured. `None` when the captured bytes do not hold
    /// an IPv4 header.
    pub fn ip4(&self) -> Option<Ip4> {
        let pkt = self.packet();
        let ver_ihl = *pkt.first()?;
        let hdr_len = usize::from(ver_ihl & 0xf) * 4;
        if ver_ihl >> 4 != 4 || hdr_len < 20 || pkt.len() < hdr_len {
            return None;
        }
        let be16 = |off: usize| Some(u16::from_be_bytes([*pkt.get(off)?, *pkt.get(off + 1)?]));
        let addr = |off: usize| Ipv4Addr::new(pkt[off], pkt[off + 1], pkt[off + 2], pkt[off + 3]);
        let proto = pkt[9];
        // Only the first fragment (offset 0) carries the ports.
        let first = be16(6)? & 0x1fff == 0;
        let ports = match (be16(hdr_len), be16(hdr_len + 2)) {
            (Some(s), Some(d)) if first && (proto == proto::TCP || proto == proto::UDP) => {
                Some((s, d))
            }
            _ => None,
        };
        Some(Ip4 {
            saddr: addr(12),
            daddr: addr(16),
            tot_len: be16(2)?,
            proto,
            hdr_len: hdr_len as u8,
            sport: ports.map(|p| p.0),
            dport: ports.map(|p| p.1),
        })
    }
}

/// The IPv4 header fields most filters look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ip4 {
    pub saddr: Ipv4Addr,
    pub daddr: Ipv4Addr,
    /// IPv4 total length.
    pub tot_len: u16,
    pub proto: u8,
    /// IPv4 header length in bytes.
    pub hdr_len: u8,
    /// TCP/UDP ports; `None` for other protocols, later fragments and ports
    /// that were not captured.
    pub sport: Option<u16>,
    pub dport: Option<u16>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record around an IPv4+UDP packet 10.0.0.1:1234 -> 127.0.0.1:53.
    fn udp_record(cap_len: usize, frag: u16) -> Vec<u8> {
        let mut pkt = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, proto::UDP, 0, 0];
        pkt[6..8].copy_from_slice(&frag.to_be_bytes());
        pkt.extend([10, 0, 0, 1, 127, 0, 0, 1]);
        pkt.extend([0x04, 0xd2, 0, 53, 0, 8, 0, 0]);
        let mut rec = vec![0u8; HDR_LEN];
        rec[0] = HDR_LEN as u8;
        rec[2] = VERSION;
        rec[4..8].copy_from_slice(&(pkt.len() as u32).to_le_bytes());
        rec[8..12].copy_from_slice(&(cap_len as u32).to_le_bytes());
        rec[28] = proto::UDP;
        rec[29] = 2;
        rec[31] = if frag & 0x1fff != 0 { 2 } else { 0 };
        if frag & 0x1fff == 0 {
            rec[32..36].copy_from_slice(&[0xd2, 0x04, 53, 0]);
            rec[38] = 1;
        }
        rec[36] = 20;
        rec[40..44].copy_from_slice(&0x0a00_0001u32.to_le_bytes());
        rec[44..48].copy_from_slice(&0x7f00_0001u32.to_le_bytes());
        rec.extend(&pkt[..cap_len]);
        rec
    }

    #[test]
    fn decodes_udp() {
        let bytes = udp_record(28, 0);
        let rec = Record::new(&bytes).unwrap();
        assert_eq!(
            (rec.pkt_len(), rec.cap_len(), rec.ip_proto()),
            (28, 28, proto::UDP)
        );
        let ip = rec.ip4().unwrap();
        assert_eq!(ip.saddr, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(ip.daddr, Ipv4Addr::LOCALHOST);
        assert_eq!((ip.tot_len, ip.hdr_len), (28, 20));
        assert_eq!((ip.sport, ip.dport), (Some(1234), Some(53)));
        // The kernel's parsed fields say the same.
        assert_eq!((rec.sport(), rec.dport()), (Some(1234), Some(53)));
        assert_eq!((rec.saddr(), rec.daddr()), (ip.saddr, ip.daddr));
        assert_eq!(
            (rec.family(), rec.l4_off(), rec.frag()),
            (2, 20, Frag::None)
        );
        assert_eq!(rec.tcp_flags(), None);
    }

    #[test]
    fn no_ports_unless_captured_in_first_fragment() {
        let short = udp_record(22, 0);
        let ip = Record::new(&short).unwrap().ip4().unwrap();
        assert_eq!((ip.sport, ip.dport), (None, None));
        let later = udp_record(28, 0x2001);
        let rec = Record::new(&later).unwrap();
        let ip = rec.ip4().unwrap();
        assert_eq!((ip.sport, ip.dport), (None, None));
        assert_eq!((rec.dport(), rec.frag()), (None, Frag::Later));
    }

    /// A version 3 record around an IPv6+TCP packet [2001:db8::1]:1234 ->
    /// [::1]:80 with 8 bytes of destination options.
    fn tcp6_record() -> Vec<u8> {
        let mut pkt = vec![0x60, 0, 0, 0, 0, 28, 60, 64];
        pkt.extend([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        pkt.extend([0; 15]);
        pkt.push(1);
        pkt.extend([proto::TCP, 0, 1, 4, 0, 0, 0, 0]);
        pkt.extend([
            0x04, 0xd2, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff,
        ]);
        pkt.extend([0, 0, 0, 0]);
        let mut rec = vec![0u8; HDR_LEN_V3];
        rec[0] = HDR_LEN_V3 as u8;
        rec[2] = 3;
        rec[4..8].copy_from_slice(&(pkt.len() as u32).to_le_bytes());
        rec[8..12].copy_from_slice(&(pkt.len() as u32).to_le_bytes());
        rec[28..32].copy_from_slice(&[proto::TCP, family::IPV6, 0x02, 0]);
        rec[32..36].copy_from_slice(&[0xd2, 0x04, 80, 0]);
        rec[36] = 48;
        rec[38] = 3;
        rec[48..64].copy_from_slice(&pkt[8..24]);
        rec[64..80].copy_from_slice(&pkt[24..40]);
        rec.extend(&pkt);
        rec
    }

    #[test]
    fn decodes_version_3() {
        let bytes = tcp6_record();
        let rec = Record::new(&bytes).unwrap();
        assert_eq!((rec.version(), rec.family()), (3, family::IPV6));
        assert!(rec.is_ipv6());
        assert_eq!((rec.sport(), rec.dport()), (Some(1234), Some(80)));
        assert_eq!((rec.l4_off(), rec.tcp_flags()), (48, Some(0x02)));
        assert_eq!(rec.saddr6(), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(rec.daddr6(), Some(Ipv6Addr::LOCALHOST));
        assert_eq!(rec.src_ip(), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(rec.dst_ip(), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(rec.saddr(), Ipv4Addr::UNSPECIFIED);
        // The packet bytes start after the 80-byte header; not IPv4.
        assert_eq!(rec.packet().first(), Some(&0x60));
        assert_eq!(rec.packet().len(), 68);
        assert!(rec.ip4().is_none());
        // A version 3 header that says 48 bytes is refused.
        let mut bad = bytes.clone();
        bad[0] = 48;
        assert!(Record::new(&bad).is_none());
        assert!(Record::new(&bytes[..79]).is_none(), "header cut");
    }

    #[test]
    fn version_2_has_no_ipv6_addresses() {
        let bytes = udp_record(28, 0);
        let rec = Record::new(&bytes).unwrap();
        assert_eq!((rec.version(), rec.is_ipv6()), (2, false));
        assert_eq!((rec.saddr6(), rec.daddr6()), (None, None));
        assert_eq!(rec.src_ip(), Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))));
        let mut v6 = bytes.clone();
        v6[29] = family::IPV6;
        let rec = Record::new(&v6).unwrap();
        assert_eq!((rec.src_ip(), rec.dst_ip()), (None, None));
    }

    #[test]
    fn rejects_bad_records() {
        let bytes = udp_record(28, 0);
        assert!(Record::new(&bytes[..40]).is_none(), "cap_len past the end");
        assert!(Record::new(&bytes[..10]).is_none(), "header cut");
        let mut v1 = bytes.clone();
        v1[2] = 1;
        assert!(Record::new(&v1).is_none(), "version 1");
        let mut v6 = bytes.clone();
        v6[HDR_LEN] = 0x65;
        assert!(Record::new(&v6).unwrap().ip4().is_none());
        assert!(Record::new(&udp_record(12, 0)).unwrap().ip4().is_none());
    }
}
