// SPDX-License-Identifier: MIT OR Apache-2.0
//! The packet record the kernel writes into the program's memory.

use core::net::Ipv4Addr;

use crate::proto;

/// Size of the record header; the captured packet bytes follow it.
pub const HDR_LEN: usize = 32;

/// One packet as the kernel describes it: a header with metadata and the
/// first bytes of the packet from the IPv4 header on (network byte order).
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    bytes: &'a [u8],
}

impl<'a> Record<'a> {
    /// Wraps record bytes, checking that the header is the one this crate
    /// knows and that the captured packet bytes are all there.
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        let rec = Self { bytes };
        let hdr_len = u16::from_le_bytes(bytes.get(0..2)?.try_into().ok()?);
        if usize::from(hdr_len) != HDR_LEN || bytes.len() < HDR_LEN {
            return None;
        }
        let end = HDR_LEN.checked_add(rec.cap_len() as usize)?;
        (end <= bytes.len()).then_some(rec)
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

    fn u32_at(&self, off: usize) -> u32 {
        let b = &self.bytes[off..off + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Whole packet length from the IPv4 header on.
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

    /// IPv4 protocol number (see [`crate::proto`]).
    pub fn ip_proto(&self) -> u8 {
        self.bytes[28]
    }

    /// The captured packet bytes, from the first byte of the IPv4 header.
    pub fn packet(&self) -> &'a [u8] {
        &self.bytes[HDR_LEN..HDR_LEN + self.cap_len() as usize]
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
        rec[2] = 1;
        rec[4..8].copy_from_slice(&(pkt.len() as u32).to_le_bytes());
        rec[8..12].copy_from_slice(&(cap_len as u32).to_le_bytes());
        rec[28] = proto::UDP;
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
    }

    #[test]
    fn no_ports_unless_captured_in_first_fragment() {
        let short = udp_record(22, 0);
        let ip = Record::new(&short).unwrap().ip4().unwrap();
        assert_eq!((ip.sport, ip.dport), (None, None));
        let later = udp_record(28, 0x2001);
        let ip = Record::new(&later).unwrap().ip4().unwrap();
        assert_eq!((ip.sport, ip.dport), (None, None));
    }

    #[test]
    fn rejects_bad_records() {
        let bytes = udp_record(28, 0);
        assert!(Record::new(&bytes[..40]).is_none(), "cap_len past the end");
        assert!(Record::new(&bytes[..10]).is_none(), "header cut");
        let mut v6 = bytes.clone();
        v6[HDR_LEN] = 0x65;
        assert!(Record::new(&v6).unwrap().ip4().is_none());
        assert!(Record::new(&udp_record(12, 0)).unwrap().ip4().is_none());
    }
}
