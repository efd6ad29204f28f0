//! The host functions programs may import (docs/ABI.md, "Host functions"),
//! and what they know beyond their arguments: the program's name and the
//! packet of the current run.

use alloc::ffi::CString;
use core::cell::Cell;
use core::ffi::CStr;
use core::fmt::Write;
use core::ptr;

use super::map_calls;
use super::packet::Summary;
use crate::engine::host::{self, HostResult};
use crate::ffi::services::{self, Pkt};
use crate::maps::table::Table;
use crate::util::fmtbuf::FmtBuf;

/// Longest `kwasm.log` message; the rest is cut.
const LOG_MAX: usize = 256;

/// A kwasm host function.
pub type HostFn = host::HostFn<FilterCtx>;
type Call<'a> = host::Call<'a, FilterCtx>;
type Result<T> = core::result::Result<T, host::HostTrap>;

/// The context of one instance: the program's name, the CPU the instance
/// runs on and, during a run, the packet, its parsed header (parsed when
/// first asked for, unless the run had it already) and the program's maps.
/// Owned by the instance's runtime.
pub struct FilterCtx {
    name: CString,
    cpu: u32,
    prog_id: u32,
    pkt: Cell<*const Pkt>,
    summary: Cell<Option<Summary>>,
    maps: Cell<*const Table>,
}

impl FilterCtx {
    pub fn new(name: CString, cpu: u32, prog_id: u32) -> Self {
        Self {
            name,
            cpu,
            prog_id,
            pkt: Cell::new(ptr::null()),
            summary: Cell::new(None),
            maps: Cell::new(ptr::null()),
        }
    }

    pub fn name(&self) -> &CStr {
        &self.name
    }

    /// The program's id (the shim's): what its events carry.
    pub fn prog_id(&self) -> u32 {
        self.prog_id
    }

    /// The program's maps; `None` outside a run (start function,
    /// allocator), where map calls trap.
    pub fn maps(&self) -> Option<&Table> {
        // SAFETY: maps is non-null only inside with_packet(), while the
        // reference it was made from is alive.
        unsafe { self.maps.get().as_ref() }
    }

    /// The CPU whose instance this is: the slot of per-CPU maps its calls
    /// use (instances run only on their own CPU, with BHs off).
    pub fn cpu(&self) -> u32 {
        self.cpu
    }

    /// Makes `pkt` the current packet and `maps` the program's maps while
    /// `f` runs, with the packet's header parsed already when the caller
    /// had to (`None`: parsed on demand).
    pub fn with_packet<R>(
        &self,
        pkt: &Pkt,
        summary: Option<Summary>,
        maps: &Table,
        f: impl FnOnce() -> R,
    ) -> R {
        self.pkt.set(pkt);
        self.summary.set(summary);
        self.maps.set(maps);
        let result = f();
        self.pkt.set(ptr::null());
        self.summary.set(None);
        self.maps.set(ptr::null());
        result
    }

    /// The current packet; `None` outside a run (start function, alloc).
    pub fn packet(&self) -> Option<&Pkt> {
        // SAFETY: pkt is non-null only inside with_packet(), while the
        // reference it was made from is alive.
        unsafe { self.pkt.get().as_ref() }
    }

    /// The current packet's header facts, read from the packet the first
    /// time a run asks (one copy of its first bytes); empty outside a run.
    pub fn summary(&self) -> Summary {
        if let Some(s) = self.summary.get() {
            return s;
        }
        let Some(pkt) = self.packet() else {
            return Summary::default();
        };
        let s = Summary::read(pkt);
        self.summary.set(Some(s));
        s
    }
}

const fn host(
    name: &'static CStr,
    signature: &'static CStr,
    params: usize,
    returns: bool,
    call: fn(&mut Call<'_>) -> HostResult,
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
pub static HOST_FNS: [HostFn; 21] = [
    host(c"log", c"v(ii)", 2, false, log),
    host(c"print_int", c"v(i)", 1, false, print_int),
    host(c"pkt_len", c"i()", 0, true, |c| {
        Ok(c.ctx.packet().map_or(0, |p| p.len as i32))
    }),
    host(c"pkt_protocol", c"i()", 0, true, |c| {
        Ok(c.ctx.summary().protocol.into())
    }),
    host(c"pkt_saddr", c"i()", 0, true, |c| {
        Ok(c.ctx.summary().saddr as i32)
    }),
    host(c"pkt_daddr", c"i()", 0, true, |c| {
        Ok(c.ctx.summary().daddr as i32)
    }),
    host(c"pkt_sport", c"i()", 0, true, |c| Ok(port(c, |(s, _)| s))),
    host(c"pkt_dport", c"i()", 0, true, |c| Ok(port(c, |(_, d)| d))),
    host(c"pkt_hook", c"i()", 0, true, |c| {
        Ok(c.ctx.packet().map_or(0, |p| p.hook as i32))
    }),
    host(c"pkt_ifindex_in", c"i()", 0, true, |c| {
        Ok(c.ctx.packet().map_or(0, |p| p.ifindex_in as i32))
    }),
    host(c"pkt_ifindex_out", c"i()", 0, true, |c| {
        Ok(c.ctx.packet().map_or(0, |p| p.ifindex_out as i32))
    }),
    host(c"pkt_load_bytes", c"i(iii)", 3, true, pkt_load_bytes),
    host(c"pkt_family", c"i()", 0, true, |c| {
        Ok(c.ctx.summary().family.into())
    }),
    host(c"pkt_saddr6", c"i(i)", 1, true, |c| {
        let addr = c.ctx.summary().saddr6;
        write_addr6(c, addr)
    }),
    host(c"pkt_daddr6", c"i(i)", 1, true, |c| {
        let addr = c.ctx.summary().daddr6;
        write_addr6(c, addr)
    }),
    host(c"map_lookup", c"i(iiiii)", 5, true, map_calls::lookup),
    host(c"map_update", c"i(iiiiii)", 6, true, map_calls::update),
    host(c"map_delete", c"i(iii)", 3, true, map_calls::delete),
    host(c"map_add", c"i(iiiiI)", 5, true, map_calls::add),
    host(c"event_output", c"i(ii)", 2, true, map_calls::event_output),
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

fn port(c: &Call<'_>, pick: fn((u16, u16)) -> u16) -> i32 {
    c.ctx.summary().ports.map_or(-1, |p| pick(p).into())
}

fn log(c: &mut Call<'_>) -> Result<i32> {
    let (ptr, len) = (c.arg(0), c.arg(1));
    let ctx = c.ctx;
    let text = c.memory(ptr, len)?;
    let shown = text.get(..LOG_MAX).unwrap_or(text);
    services::log_prog(ctx.name(), shown);
    Ok(0)
}

fn print_int(c: &mut Call<'_>) -> Result<i32> {
    let mut text = FmtBuf::<12>::new();
    let _ = write!(text, "{}", c.arg(0) as i32);
    services::log_prog(c.ctx.name(), text.as_bytes());
    Ok(0)
}

/// Copies packet bytes into linear memory: `len`, or -1 when the range is
/// not inside the packet; traps when the destination is not in memory.
fn pkt_load_bytes(c: &mut Call<'_>) -> Result<i32> {
    let (offset, dst, len) = (c.arg(0), c.arg(1), c.arg(2));
    let ctx = c.ctx;
    let dst = c.memory(dst, len)?;
    let copied = ctx
        .packet()
        .is_some_and(|pkt| services::pkt_copy(pkt, offset, dst).is_ok());
    Ok(if copied { len as i32 } else { -1 })
}

/// Writes an IPv6 address (network byte order) at the pointer argument:
/// 0; traps when the 16 bytes are not inside linear memory.
fn write_addr6(c: &mut Call<'_>, addr: [u8; 16]) -> Result<i32> {
    let dst = c.memory(c.arg(0), addr.len() as u32)?;
    for (d, a) in dst.iter_mut().zip(addr) {
        *d = a;
    }
    Ok(0)
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
}
