//! The host functions programs may import (docs/ABI.md, "Host functions").

use core::ffi::CStr;
use core::fmt::Write;

use crate::fmtbuf::FmtBuf;
use crate::hostcall::HostCtx;
use crate::services;

/// Longest `kwasm.log` message; the rest is cut.
const LOG_MAX: usize = 256;

/// A host function rejected its arguments: the program traps.
pub struct HostTrap;

type Result<T> = core::result::Result<T, HostTrap>;

/// One host function. All parameters and results are i32.
pub struct HostFn {
    pub module: &'static CStr,
    pub name: &'static CStr,
    /// wasm3's spelling of the type, e.g. "i(ii)".
    pub signature: &'static CStr,
    pub params: usize,
    pub returns: bool,
    /// Returns the result (ignored when `returns` is false).
    pub call: fn(&mut Call<'_>) -> Result<i32>,
}

/// The arguments of one call, the caller's linear memory and context.
pub struct Call<'a> {
    args: &'a [u64],
    memory: &'a mut [u8],
    host: &'a HostCtx,
}

impl<'a> Call<'a> {
    pub fn new(args: &'a [u64], memory: &'a mut [u8], host: &'a HostCtx) -> Self {
        Self { args, memory, host }
    }

    /// Argument `i` (an i32 in the low half of its slot).
    fn arg(&self, i: usize) -> u32 {
        self.args.get(i).map_or(0, |&slot| slot as u32)
    }

    /// `len` bytes of linear memory at `ptr`, or a trap.
    fn memory(&mut self, ptr: u32, len: u32) -> Result<&mut [u8]> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(HostTrap)?;
        self.memory.get_mut(start..end).ok_or(HostTrap)
    }
}

const fn host(
    name: &'static CStr,
    signature: &'static CStr,
    params: usize,
    returns: bool,
    call: fn(&mut Call<'_>) -> Result<i32>,
) -> HostFn {
    HostFn {
        module: c"kwasm",
        name,
        signature,
        params,
        returns,
        call,
    }
}

/// Every host function kwasm offers.
pub static HOST_FNS: [HostFn; 13] = [
    host(c"log", c"v(ii)", 2, false, log),
    host(c"print_int", c"v(i)", 1, false, print_int),
    host(c"pkt_len", c"i()", 0, true, |c| {
        Ok(c.host.packet().map_or(0, |p| p.len as i32))
    }),
    host(c"pkt_protocol", c"i()", 0, true, |c| {
        Ok(c.host.summary().protocol.into())
    }),
    host(c"pkt_saddr", c"i()", 0, true, |c| {
        Ok(c.host.summary().saddr as i32)
    }),
    host(c"pkt_daddr", c"i()", 0, true, |c| {
        Ok(c.host.summary().daddr as i32)
    }),
    host(c"pkt_sport", c"i()", 0, true, |c| Ok(port(c, |(s, _)| s))),
    host(c"pkt_dport", c"i()", 0, true, |c| Ok(port(c, |(_, d)| d))),
    host(c"pkt_hook", c"i()", 0, true, |c| {
        Ok(c.host.packet().map_or(0, |p| p.hook as i32))
    }),
    host(c"pkt_ifindex_in", c"i()", 0, true, |c| {
        Ok(c.host.packet().map_or(0, |p| p.ifindex_in as i32))
    }),
    host(c"pkt_ifindex_out", c"i()", 0, true, |c| {
        Ok(c.host.packet().map_or(0, |p| p.ifindex_out as i32))
    }),
    host(c"pkt_load_bytes", c"i(iii)", 3, true, pkt_load_bytes),
    // The original ABI's only import.
    HostFn {
        module: c"custom",
        name: c"print_int",
        signature: c"i(i)",
        params: 1,
        returns: true,
        call: |c| print_int(c).map(|_| 0),
    },
];

/// The host function `module.name`, if kwasm offers it.
pub fn find(module: &str, name: &str) -> Option<&'static HostFn> {
    HOST_FNS
        .iter()
        .find(|f| f.module.to_bytes() == module.as_bytes() && f.name.to_bytes() == name.as_bytes())
}

fn port(c: &Call<'_>, pick: fn((u16, u16)) -> u16) -> i32 {
    c.host.summary().ports.map_or(-1, |p| pick(p).into())
}

fn log(c: &mut Call<'_>) -> Result<i32> {
    let (ptr, len) = (c.arg(0), c.arg(1));
    let host = c.host;
    let text = c.memory(ptr, len)?;
    let shown = text.get(..LOG_MAX).unwrap_or(text);
    services::log_prog(host.name(), shown);
    Ok(0)
}

fn print_int(c: &mut Call<'_>) -> Result<i32> {
    let mut text = FmtBuf::<12>::new();
    let _ = write!(text, "{}", c.arg(0) as i32);
    services::log_prog(c.host.name(), text.as_bytes());
    Ok(0)
}

/// Copies packet bytes into linear memory: `len`, or -1 when the range is
/// not inside the packet; traps when the destination is not in memory.
fn pkt_load_bytes(c: &mut Call<'_>) -> Result<i32> {
    let (offset, dst, len) = (c.arg(0), c.arg(1), c.arg(2));
    let host = c.host;
    let dst = c.memory(dst, len)?;
    let copied = host
        .packet()
        .is_some_and(|pkt| services::pkt_copy(pkt, offset, dst).is_ok());
    Ok(if copied { len as i32 } else { -1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_agree_with_arity() {
        for f in &HOST_FNS {
            let sig = f.signature.to_str().unwrap();
            let (ret, params) = sig.split_once('(').unwrap();
            assert_eq!(ret == "i", f.returns, "{sig}");
            assert_eq!(params.trim_end_matches(')').len(), f.params, "{sig}");
        }
    }

    #[test]
    fn finds_by_module_and_name() {
        assert!(find("kwasm", "pkt_dport").is_some());
        assert!(find("custom", "print_int").unwrap().returns);
        assert!(find("kwasm", "nope").is_none());
        assert!(find("env", "log").is_none());
    }
}
