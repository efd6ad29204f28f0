//! Host functions as the engine sees them: a table an embedder offers
//! (module, name, wasm3 signature, what to run), and the view of one call.
//! `C` is the embedder's per-instance context; the engine never looks
//! inside it. How wasm3 reaches these is in [`super::wasm3`].

use core::ffi::CStr;

/// A host function refused its arguments: the program traps (`host`).
#[derive(Debug)]
pub struct HostTrap;

pub type HostResult = Result<i32, HostTrap>;

/// One host function. All parameters and results are i32.
pub struct HostFn<C: 'static> {
    pub module: &'static CStr,
    pub name: &'static CStr,
    /// wasm3's spelling of the type, e.g. "i(ii)".
    pub signature: &'static CStr,
    pub params: usize,
    pub returns: bool,
    /// Returns the result (ignored when `returns` is false).
    pub call: fn(&mut Call<'_, C>) -> HostResult,
}

/// The arguments of one call, the caller's linear memory and the
/// instance's context.
pub struct Call<'a, C> {
    args: &'a [u64],
    memory: &'a mut [u8],
    pub ctx: &'a C,
}

impl<'a, C> Call<'a, C> {
    pub fn new(args: &'a [u64], memory: &'a mut [u8], ctx: &'a C) -> Self {
        Self { args, memory, ctx }
    }

    /// Argument `i` (an i32 in the low half of its slot).
    pub fn arg(&self, i: usize) -> u32 {
        self.args.get(i).map_or(0, |&slot| slot as u32)
    }

    /// `len` bytes of linear memory at `ptr`, or a trap.
    pub fn memory(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], HostTrap> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(HostTrap)?;
        self.memory.get_mut(start..end).ok_or(HostTrap)
    }
}
