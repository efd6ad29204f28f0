// SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note OR MIT
//! An events file (`KWASM_IOC_EVENTS_OPEN`, docs/ABI.md "Events"): reads
//! whole records, each a `struct kwasm_event` and its payload padded to 8
//! bytes, little-endian.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use crate::{ioctl, kwasm_events_stats, Errno, KWASM_EVENT_HEADER_LEN};

/// Bytes of a record's header.
pub const HEADER: usize = KWASM_EVENT_HEADER_LEN as usize;

/// An open events file.
#[derive(Debug)]
pub struct Events {
    file: File,
}

impl From<File> for Events {
    fn from(file: File) -> Self {
        Self { file }
    }
}

impl Events {
    /// One read(): whole records into `buf` (their bytes; 0 at the end).
    /// `EINVAL` when `buf` cannot hold the next record, `EAGAIN` when the
    /// file is non-blocking and nothing is there.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }

    /// `KWASM_EVENTS_IOC_STATS`.
    pub fn stats(&self) -> Result<kwasm_events_stats, Errno> {
        let mut st = kwasm_events_stats {
            size: std::mem::size_of::<kwasm_events_stats>() as u32,
            ..Default::default()
        };
        // SAFETY: an events file; the request holds no pointer.
        unsafe { ioctl::events_stats(self.file.as_raw_fd(), &mut st) }?;
        Ok(st)
    }
}

impl AsFd for Events {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl AsRawFd for Events {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

/// One record as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub cpu: u32,
    pub time_ns: u64,
    pub prog_id: u32,
    pub flags: u32,
    pub lost: u64,
    pub data: Vec<u8>,
}

/// A read's bytes that are not whole records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncated {
    /// Where the broken record starts.
    pub at: usize,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// The records of one read.
pub fn parse(bytes: &[u8]) -> Result<Vec<Event>, Truncated> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < HEADER {
            return Err(Truncated { at });
        }
        let len = u32_at(rest, 0) as usize;
        let size = HEADER + len.div_ceil(8) * 8;
        if rest.len() < size {
            return Err(Truncated { at });
        }
        out.push(Event {
            cpu: u32_at(rest, 4),
            time_ns: u64_at(rest, 8),
            prog_id: u32_at(rest, 16),
            flags: u32_at(rest, 20),
            lost: u64_at(rest, 24),
            data: rest[HEADER..HEADER + len].to_vec(),
        });
        at += size;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(len: u32, cpu: u32, time: u64, lost: u64, data: &[u8]) -> Vec<u8> {
        let mut r = len.to_le_bytes().to_vec();
        r.extend_from_slice(&cpu.to_le_bytes());
        r.extend_from_slice(&time.to_le_bytes());
        r.extend_from_slice(&[0; 8]);
        r.extend_from_slice(&lost.to_le_bytes());
        r.extend_from_slice(data);
        r.resize(HEADER + data.len().div_ceil(8) * 8, 0);
        r
    }

    #[test]
    fn records() {
        let mut b = record(3, 1, 99, 0, b"abc");
        b.extend(record(8, 2, 100, 4, &[7; 8]));
        let got = parse(&b).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].cpu, got[0].time_ns, &got[0].data[..]),
            (1, 99, &b"abc"[..])
        );
        assert_eq!((got[1].cpu, got[1].lost, got[1].data.len()), (2, 4, 8));
        assert_eq!(parse(&b[..b.len() - 1]), Err(Truncated { at: 40 }));
        assert_eq!(parse(&b[..10]), Err(Truncated { at: 0 }));
        assert_eq!(parse(&[]), Ok(vec![]));
    }
}
