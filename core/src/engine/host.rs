//! Host functions as the engine sees them: a table an embedder offers
//! (module, name, wasm3 signature, what to run), and the view of one call.
//! `C` is the embedder's per-instance context; the engine never looks
//! inside it. How wasm3 reaches these is in [`super::wasm3`].

use core::cell::Cell;
use core::ffi::CStr;

/// A host function refused its arguments: the program traps (`host`).
#[derive(Debug)]
pub struct HostTrap;

pub type HostResult = Result<i32, HostTrap>;

/// One host function. Results are i32; parameters i32 or i64 (`i`, `I` in
/// the signature).
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
    /// The fuel global's value; `None` for a module without one.
    fuel: Option<&'a Cell<i64>>,
}

impl<'a, C> Call<'a, C> {
    pub fn new(
        args: &'a [u64],
        memory: &'a mut [u8],
        ctx: &'a C,
        fuel: Option<&'a Cell<i64>>,
    ) -> Self {
        Self {
            args,
            memory,
            ctx,
            fuel,
        }
    }

    /// Argument `i` (an i32 in the low half of its slot).
    pub fn arg(&self, i: usize) -> u32 {
        self.args.get(i).map_or(0, |&slot| slot as u32)
    }

    /// Argument `i`, an i64.
    pub fn arg_i64(&self, i: usize) -> i64 {
        self.args.get(i).map_or(0, |&slot| slot as i64)
    }

    /// Takes `units` of fuel for work the call is about to do. Short of
    /// fuel, it leaves the global below zero and the program traps, which
    /// the caller reports as `out_of_fuel` (the work is not done).
    pub fn charge(&mut self, units: u64) -> Result<(), HostTrap> {
        let Some(fuel) = self.fuel else {
            return Ok(());
        };
        let units = i64::try_from(units).unwrap_or(i64::MAX);
        match fuel.get().checked_sub(units) {
            Some(left) if left >= 0 => {
                fuel.set(left);
                Ok(())
            }
            _ => {
                fuel.set(-1);
                Err(HostTrap)
            }
        }
    }

    /// `len` bytes of linear memory at `ptr`, or a trap.
    pub fn memory(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], HostTrap> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(HostTrap)?;
        self.memory.get_mut(start..end).ok_or(HostTrap)
    }
}
