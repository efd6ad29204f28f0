//! What the module writes into a program's linear memory before each call:
//! the kwasm ABI packet record header and the original ABI's packet_info
//! (layouts in docs/ABI.md).

use super::packet::Summary;
use crate::ffi::services::Pkt;

/// Size of the packet record header; packet bytes follow it.
pub const RECORD_HEADER: usize = 32;
const RECORD_VERSION: u16 = 1;

/// Size of the original ABI's `struct packet_info`.
pub const PACKET_INFO_SIZE: usize = 16;

/// Record size the program allocates for a snap length.
pub fn record_size(snaplen: u32) -> u32 {
    RECORD_HEADER as u32 + snaplen
}

/// Writes the record header for `cap_len` packet bytes into `dst`.
pub fn write_record_header(dst: &mut [u8; RECORD_HEADER], pkt: &Pkt, cap_len: u32, protocol: u8) {
    let mut w = Writer(dst);
    w.put(0, &(RECORD_HEADER as u16).to_le_bytes());
    w.put(2, &RECORD_VERSION.to_le_bytes());
    w.put(4, &pkt.len.to_le_bytes());
    w.put(8, &cap_len.to_le_bytes());
    w.put(12, &pkt.hook.to_le_bytes());
    w.put(16, &pkt.ifindex_in.to_le_bytes());
    w.put(20, &pkt.ifindex_out.to_le_bytes());
    w.put(24, &pkt.mark.to_le_bytes());
    w.put(28, &[protocol, 0, 0, 0]);
}

/// Writes `struct packet_info` for a TCP or UDP packet. Ports the packet
/// does not carry (non-first fragment, truncated) are written as 0.
pub fn write_packet_info(dst: &mut [u8; PACKET_INFO_SIZE], s: &Summary) {
    let (sport, dport) = s.ports.unwrap_or((0, 0));
    let mut w = Writer(dst);
    w.put(0, &s.saddr.to_le_bytes());
    w.put(4, &s.daddr.to_le_bytes());
    w.put(8, &sport.to_le_bytes());
    w.put(10, &dport.to_le_bytes());
    w.put(12, &s.total_len.to_le_bytes());
    w.put(14, &[u8::from(!s.is_tcp()), 0]);
}

/// Writes fields at fixed offsets of a fixed-size buffer.
struct Writer<'a, const N: usize>(&'a mut [u8; N]);

impl<const N: usize> Writer<'_, N> {
    fn put(&mut self, at: usize, bytes: &[u8]) {
        if let Some(dst) = self.0.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::packet::tests::ipv4;

    #[test]
    fn packet_info_layout() {
        let mut b = [0xffu8; PACKET_INFO_SIZE];
        write_packet_info(&mut b, &Summary::parse(&ipv4(17, 1000, 23557)));
        assert_eq!(
            b,
            [1, 0, 0, 10, 2, 0, 0, 10, 0xe8, 3, 0x05, 0x5c, 28, 0, 1, 0]
        );
    }

    #[test]
    fn record_header_layout() {
        let pkt = Pkt {
            len: 1500,
            hook: 1,
            ifindex_in: 2,
            ifindex_out: 3,
            mark: 0x0102_0304,
            ..Default::default()
        };
        let mut b = [0xffu8; RECORD_HEADER];
        write_record_header(&mut b, &pkt, 256, 6);
        assert_eq!(&b[0..4], &[32, 0, 1, 0]);
        assert_eq!(&b[4..8], &1500u32.to_le_bytes());
        assert_eq!(&b[8..12], &256u32.to_le_bytes());
        assert_eq!(
            &b[12..28],
            &[1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 3, 2, 1]
        );
        assert_eq!(&b[28..32], &[6, 0, 0, 0]);
    }
}
