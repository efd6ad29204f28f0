//! The one way to instantiate a checked module in wasm3 (new runtime,
//! load, link, compile every function, start), to look up its exports, and
//! to call them under a fuel budget, at load time (errors for the loader)
//! and at run time (traps).
//!
//! An export without a fuel check of its own (see [`super::fuel`],
//! "Exports charged by the host") is charged here: [`find`] returns it
//! with its static cost, and [`call`] and [`call_at_load`] take that from
//! the budget before the call, as its check would have on entry.

use alloc::format;
use core::ffi::CStr;

use super::trap::Trap;
use super::wasm3::{Arg, FuncId, M3Error, Runtime};
use super::Module;
use crate::abi::{Error, EINVAL, ENOMEM};

/// wasm3 value stack of each instance.
pub const VALUE_STACK_BYTES: u32 = 64 << 10;

/// A budget as the fuel global holds it (options cap it far below
/// i64::MAX).
pub fn budget(fuel: u64) -> i64 {
    i64::try_from(fuel).unwrap_or(i64::MAX)
}

/// A wasm3 failure during `step`, with wasm3's detail when it left one.
pub fn wasm3_error<C>(step: &str, e: M3Error, rt: Option<&Runtime<C>>) -> Error {
    let errno = if e.is_out_of_memory() { ENOMEM } else { EINVAL };
    let mut msg = format!("{step}: {}", e.text());
    if let Some(rt) = rt {
        rt.error_detail(&mut msg);
    }
    Error::new(errno, msg)
}

/// A call at load failed: out of fuel when the fuel global is below zero.
fn load_call_failed<C>(step: &str, e: M3Error, rt: &Runtime<C>, fuel: u64) -> Error {
    if rt.fuel_left().is_some_and(|left| left < 0) {
        return Error::new(EINVAL, format!("{step}: out of fuel (budget {fuel})"));
    }
    wasm3_error(step, e, Some(rt))
}

/// A runtime of `module`, whose host functions see `ctx`, linked, compiled
/// in full and started (the start function under `fuel`).
pub fn instantiate<C>(module: &Module<C>, ctx: C, fuel: u64) -> Result<Runtime<C>, Error> {
    let mut rt = Runtime::new(VALUE_STACK_BYTES, ctx, module.metered.clone())
        .map_err(|e| wasm3_error::<C>("creating the wasm3 runtime", e, None))?;
    rt.load()
        .map_err(|e| wasm3_error("loading the module", e, Some(&rt)))?;
    for &func in &module.imports {
        rt.link(func)
            .map_err(|e| wasm3_error("linking host functions", e, Some(&rt)))?;
    }
    rt.compile().map_err(|e| {
        let mut err = wasm3_error("compiling the module", e, Some(&rt));
        if e.is_function_stack_overflow() {
            err.msg.push_str(
                " (fuel metering needs 3 more operand slots at function entries and loop headers)",
            );
        }
        err
    })?;
    rt.set_fuel(budget(fuel))
        .map_err(|e| wasm3_error("setting the fuel budget", e, Some(&rt)))?;
    rt.run_start()
        .map_err(|e| load_call_failed("running the start function", e, &rt, fuel))?;
    Ok(rt)
}

/// An exported function looked up at load, with what the host charges for
/// each call of it.
#[derive(Clone, Copy)]
pub struct Func {
    id: FuncId,
    /// Its static cost when it has no check of its own, else 0 (it
    /// charges itself).
    charge: u64,
}

impl Func {
    /// Its wasm3 function, e.g. to read its type; calls go through
    /// [`call`] or [`call_at_load`].
    pub fn id(self) -> FuncId {
        self.id
    }

    /// The budget left once the host has charged the call: `None` when
    /// `fuel` cannot pay it, where its check would have run out on entry.
    fn start(self, fuel: u64) -> Option<u64> {
        fuel.checked_sub(self.charge)
    }
}

/// Looks up the exported function `name` of `module` at load, in `rt`, an
/// instance of it.
pub fn find<C>(
    module: &Module<C>,
    rt: &mut Runtime<C>,
    name: &CStr,
    what: &str,
) -> Result<Func, Error> {
    if !rt.runs(&module.metered) {
        return Err(Error::new(
            EINVAL,
            format!("internal error: finding {what} in an instance of another module"),
        ));
    }
    let id = rt
        .find(name)
        .map_err(|e| wasm3_error(&format!("finding {what}"), e, Some(&*rt)))?;
    Ok(Func {
        id,
        charge: module.static_cost(name.to_bytes()).unwrap_or(0),
    })
}

/// Calls `f` at load (e.g. the program's allocator) under `fuel`; a trap
/// is a load error naming `step`.
pub fn call_at_load<C>(
    rt: &mut Runtime<C>,
    f: Func,
    args: &[Arg],
    fuel: u64,
    step: &str,
) -> Result<i32, Error> {
    let start = f
        .start(fuel)
        .ok_or_else(|| Error::new(EINVAL, format!("{step}: out of fuel (budget {fuel})")))?;
    rt.set_fuel(budget(start))
        .map_err(|e| wasm3_error(step, e, None::<&Runtime<C>>))?;
    rt.call(f.id, args)
        .map_err(|e| load_call_failed(step, e, rt, fuel))
}

/// How a metered call ended, and the fuel it used (at most the budget:
/// the last charge may overshoot). For an export charged by the host it is
/// its static cost, whether it returned or trapped.
pub struct Called<T> {
    pub result: Result<T, (Trap, &'static str)>,
    pub fuel_used: u64,
}

/// Runs `call`, which calls `f` on `rt`, under the budget `fuel`: the
/// fuel global is set to it less `f`'s static cost, if any (out of fuel
/// without a call when that is more than `fuel`). A trap is `out_of_fuel`
/// when the global fell below zero, else wasm3's kind.
pub fn call<C, T>(
    rt: &mut Runtime<C>,
    f: Func,
    fuel: u64,
    call: impl FnOnce(&mut Runtime<C>, FuncId) -> Result<T, M3Error>,
) -> Called<T> {
    let Some(start) = f.start(fuel) else {
        return Called {
            result: Err((Trap::OutOfFuel, "out of fuel")),
            fuel_used: fuel,
        };
    };
    let ret = rt.set_fuel(budget(start)).and_then(|()| call(rt, f.id));
    let left = rt.fuel_left().unwrap_or(0);
    let result = match ret {
        Ok(value) => Ok(value),
        Err(_) if left < 0 => Err((Trap::OutOfFuel, "out of fuel")),
        Err(e) => Err((e.trap(), e.text())),
    };
    Called {
        result,
        fuel_used: fuel.saturating_sub(u64::try_from(left).unwrap_or(0)),
    }
}
