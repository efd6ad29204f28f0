// SPDX-License-Identifier: MIT OR Apache-2.0
//! Formatted log lines without an allocator.

use core::fmt;

/// The most the kernel prints of one line.
const LINE_MAX: usize = 256;

/// A log line being formatted; what does not fit is dropped.
pub struct LogLine {
    buf: [u8; LINE_MAX],
    len: usize,
}

impl LogLine {
    pub const fn new() -> Self {
        Self {
            buf: [0; LINE_MAX],
            len: 0,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Default for LogLine {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Write for LogLine {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(LINE_MAX - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Format `args` and log the line; used by [`crate::log!`].
pub fn log_fmt(args: fmt::Arguments) {
    let mut line = LogLine::new();
    // LogLine never fails: a line too long is cut.
    let _ = fmt::write(&mut line, args);
    crate::host::log_bytes(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn long_lines_are_cut() {
        let mut line = LogLine::new();
        for _ in 0..100 {
            write!(line, "{}", 12345).unwrap();
        }
        assert_eq!(line.as_bytes().len(), LINE_MAX);
        assert!(line.as_bytes().starts_with(b"1234512345"));
    }
}
