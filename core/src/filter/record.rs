//! What the module writes into a program's linear memory before each call:
//! the kwasm ABI packet record header and the original ABI's packet_info
//! (layouts in docs/ABI.md).

use core::mem::offset_of;

use alloc::format;

use super::packet::{Frag, Summary};
use crate::abi::{self as k, kwasm_record as R, Error, EINVAL};
use crate::ffi::services::Pkt;

/// The custom section a program names its record version in
/// (KWASM_RECORD_SECTION).
pub const SECTION: &str = "kwasm.record";

/// Size of the largest record header (version 3).
pub const HEADER_MAX: usize = k::KWASM_RECORD_V3_LEN as usize;

/// Size of the original ABI's `struct packet_info`.
pub const PACKET_INFO_SIZE: usize = 16;

/// The record layout a program asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// 32-byte header; what a program without a `kwasm.record` section gets.
    V1,
    /// 48-byte header with the parsed fields.
    V2,
    /// 80-byte header: version 2 and the IPv6 addresses.
    V3,
}

impl Version {
    /// The version a program's `kwasm.record` section (one byte) asks for.
    pub fn declared(section: Option<&[u8]>) -> Result<Self, Error> {
        let name = SECTION;
        match section {
            None => Ok(Self::V1),
            Some([v]) if u32::from(*v) == k::KWASM_RECORD_V1 => Ok(Self::V1),
            Some([v]) if u32::from(*v) == k::KWASM_RECORD_V2 => Ok(Self::V2),
            Some([v]) if u32::from(*v) == k::KWASM_RECORD_V3 => Ok(Self::V3),
            Some([v]) => Err(Error::new(
                EINVAL,
                format!("custom section {name}: record version {v} is not supported (1, 2 or 3)"),
            )),
            Some(b) => Err(Error::new(
                EINVAL,
                format!(
                    "custom section {name} must hold one byte (the record version), not {}",
                    b.len()
                ),
            )),
        }
    }

    pub fn header_len(self) -> u32 {
        match self {
            Self::V1 => k::KWASM_RECORD_V1_LEN,
            Self::V2 => k::KWASM_RECORD_V2_LEN,
            Self::V3 => k::KWASM_RECORD_V3_LEN,
        }
    }

    pub fn number(self) -> u16 {
        match self {
            Self::V1 => k::KWASM_RECORD_V1 as u16,
            Self::V2 => k::KWASM_RECORD_V2 as u16,
            Self::V3 => k::KWASM_RECORD_V3 as u16,
        }
    }
}

/// Record size the program allocates for a snap length.
pub fn record_size(version: Version, snaplen: u32) -> u32 {
    version.header_len() + snaplen
}

/// Writes the header of a `version` record for `cap_len` packet bytes into
/// `dst` (`version.header_len()` bytes), at the offsets of the uapi
/// header's `struct kwasm_record`, little-endian.
pub fn write_record_header(dst: &mut [u8], version: Version, pkt: &Pkt, cap_len: u32, s: &Summary) {
    let mut w = Writer(dst);
    w.put(
        offset_of!(R, hdr_len),
        &(version.header_len() as u16).to_le_bytes(),
    );
    w.put(offset_of!(R, version), &version.number().to_le_bytes());
    w.put(offset_of!(R, pkt_len), &pkt.len.to_le_bytes());
    w.put(offset_of!(R, cap_len), &cap_len.to_le_bytes());
    w.put(offset_of!(R, hook), &pkt.hook.to_le_bytes());
    w.put(offset_of!(R, ifindex_in), &pkt.ifindex_in.to_le_bytes());
    w.put(offset_of!(R, ifindex_out), &pkt.ifindex_out.to_le_bytes());
    w.put(offset_of!(R, mark), &pkt.mark.to_le_bytes());
    if version == Version::V1 {
        // Protocol (0 for what is not IPv4: a version 1 program reads the
        // packet bytes as IPv4) and three reserved zero bytes.
        let protocol = if s.is_ipv6() { 0 } else { s.protocol };
        w.put(offset_of!(R, ip_proto), &[protocol, 0, 0, 0]);
        return;
    }
    let frag = match s.frag {
        Frag::None => k::KWASM_FRAG_NONE,
        Frag::First => k::KWASM_FRAG_FIRST,
        Frag::Later => k::KWASM_FRAG_LATER,
    };
    let (sport, dport) = s.ports.unwrap_or((0, 0));
    let mut flags = 0;
    if s.ports.is_some() {
        flags |= k::KWASM_REC_PORTS;
    }
    if s.tcp_flags.is_some() {
        flags |= k::KWASM_REC_TCP_FLAGS;
    }
    w.put(
        offset_of!(R, ip_proto),
        &[s.protocol, s.family, s.tcp_flags.unwrap_or(0), frag as u8],
    );
    w.put(offset_of!(R, sport), &sport.to_le_bytes());
    w.put(offset_of!(R, dport), &dport.to_le_bytes());
    w.put(offset_of!(R, l4_off), &s.l4_off.to_le_bytes());
    w.put(offset_of!(R, flags), &(flags as u16).to_le_bytes());
    w.put(offset_of!(R, saddr), &s.saddr.to_le_bytes());
    w.put(offset_of!(R, daddr), &s.daddr.to_le_bytes());
    if version == Version::V3 {
        w.put(offset_of!(R, saddr6), &s.saddr6);
        w.put(offset_of!(R, daddr6), &s.daddr6);
    }
}

/// Writes `struct packet_info` for a TCP or UDP packet. Ports the packet
/// does not carry (non-first fragment, truncated) are written as 0.
pub fn write_packet_info(dst: &mut [u8; PACKET_INFO_SIZE], s: &Summary) {
    let (sport, dport) = s.ports.unwrap_or((0, 0));
    let mut w = Writer(dst.as_mut_slice());
    w.put(0, &s.saddr.to_le_bytes());
    w.put(4, &s.daddr.to_le_bytes());
    w.put(8, &sport.to_le_bytes());
    w.put(10, &dport.to_le_bytes());
    w.put(12, &s.total_len.to_le_bytes());
    w.put(14, &[u8::from(!s.is_tcp()), 0]);
}

/// Writes fields at fixed offsets of a buffer; what would not fit is left
/// out (the callers' buffers are sized for their layout).
struct Writer<'a>(&'a mut [u8]);

impl Writer<'_> {
    fn put(&mut self, at: usize, bytes: &[u8]) {
        if let Some(dst) = self.0.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::packet::tests::{ipv4, ipv6};

    #[test]
    fn packet_info_layout() {
        let mut b = [0xffu8; PACKET_INFO_SIZE];
        write_packet_info(&mut b, &Summary::parse(&ipv4(17, 1000, 23557)));
        assert_eq!(
            b,
            [1, 0, 0, 10, 2, 0, 0, 10, 0xe8, 3, 0x05, 0x5c, 28, 0, 1, 0]
        );
    }

    fn pkt() -> Pkt {
        Pkt {
            len: 1500,
            hook: 1,
            ifindex_in: 2,
            ifindex_out: 3,
            mark: 0x0102_0304,
            ..Default::default()
        }
    }

    #[test]
    fn record_header_v1_layout() {
        let s = Summary::parse(&ipv4(6, 1000, 23557));
        let mut b = [0xffu8; HEADER_MAX];
        write_record_header(&mut b[..32], Version::V1, &pkt(), 256, &s);
        assert_eq!(&b[0..4], &[32, 0, 1, 0]);
        assert_eq!(&b[4..8], &1500u32.to_le_bytes());
        assert_eq!(&b[8..12], &256u32.to_le_bytes());
        assert_eq!(
            &b[12..28],
            &[1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 3, 2, 1]
        );
        assert_eq!(&b[28..32], &[6, 0, 0, 0]);
        // Nothing past the 32 bytes of version 1.
        assert_eq!(&b[32..], &[0xff; HEADER_MAX - 32]);
        // An IPv6 packet's protocol is not IPv4's: 0 in version 1.
        let v6 = Summary::parse(&ipv6(&[], 6, 1000, 23557));
        write_record_header(&mut b[..32], Version::V1, &pkt(), 256, &v6);
        assert_eq!(&b[28..32], &[0, 0, 0, 0]);
    }

    #[test]
    fn record_header_v2_layout() {
        let mut first = ipv4(6, 1000, 23557);
        first[6] = 0x20;
        let s = Summary::parse(&first);
        let mut b = [0xffu8; HEADER_MAX];
        write_record_header(&mut b, Version::V2, &pkt(), 256, &s);
        assert_eq!(&b[0..4], &[48, 0, 2, 0]);
        assert_eq!(&b[28..32], &[6, 2, 0, 1]);
        assert_eq!(&b[32..36], &[0xe8, 3, 0x05, 0x5c]);
        // l4_off 20; flags: ports (no flags byte in 28 bytes).
        assert_eq!(&b[36..40], &[20, 0, 1, 0]);
        assert_eq!(&b[40..48], &[1, 0, 0, 10, 2, 0, 0, 10]);
        // Nothing past the 48 bytes of version 2.
        assert_eq!(&b[48..], &[0xff; HEADER_MAX - 48]);
    }

    #[test]
    fn record_header_v3_layout() {
        let s = Summary::parse(&ipv4(17, 1000, 23557));
        let mut b = [0xffu8; HEADER_MAX];
        write_record_header(&mut b, Version::V3, &pkt(), 256, &s);
        assert_eq!(&b[0..4], &[80, 0, 3, 0]);
        assert_eq!(&b[28..32], &[17, 2, 0, 0]);
        assert_eq!(&b[40..48], &[1, 0, 0, 10, 2, 0, 0, 10]);
        // IPv4 addresses as ::ffff:a.b.c.d, network byte order.
        let mapped = |last: u8| {
            let mut a = [0u8; 16];
            a[10..].copy_from_slice(&[0xff, 0xff, 10, 0, 0, last]);
            a
        };
        assert_eq!(&b[48..64], &mapped(1));
        assert_eq!(&b[64..80], &mapped(2));

        // IPv6: family 10, IPv4 addresses 0, ports past the extension
        // headers, l4_off where the transport header starts.
        let dst_opts = [0u8, 0, 1, 4, 0, 0, 0, 0];
        let s = Summary::parse(&ipv6(&[(60, &dst_opts)], 6, 1000, 23557));
        let mut b = [0xffu8; HEADER_MAX];
        write_record_header(&mut b, Version::V3, &pkt(), 256, &s);
        assert_eq!(&b[28..32], &[6, 10, 0x12, 0]);
        assert_eq!(&b[32..36], &[0xe8, 3, 0x05, 0x5c]);
        assert_eq!(&b[36..40], &[48, 0, 3, 0]);
        assert_eq!(&b[40..48], &[0; 8]);
        assert_eq!(&b[48..52], &[0x20, 0x01, 0x0d, 0xb8]);
        assert_eq!((b[63], b[79]), (1, 2));
    }

    #[test]
    fn section_name_is_the_uapi_one() {
        assert_eq!(
            k::KWASM_RECORD_SECTION.strip_suffix(b"\0"),
            Some(SECTION.as_bytes())
        );
    }

    #[test]
    fn record_version_from_section() {
        assert_eq!(Version::declared(None), Ok(Version::V1));
        assert_eq!(Version::declared(Some(&[1])), Ok(Version::V1));
        assert_eq!(Version::declared(Some(&[2])), Ok(Version::V2));
        assert_eq!(Version::declared(Some(&[3])), Ok(Version::V3));
        let e = Version::declared(Some(&[4])).unwrap_err();
        assert_eq!(e.errno, EINVAL);
        assert_eq!(
            e.msg,
            "custom section kwasm.record: record version 4 is not supported (1, 2 or 3)"
        );
        let e = Version::declared(Some(&[2, 0])).unwrap_err();
        assert!(e.msg.contains("one byte"), "{}", e.msg);
    }
}
