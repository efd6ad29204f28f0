//! The one way to instantiate a checked module in wasm3 (new runtime,
//! load, link, compile every function, start), and to call it under a fuel
//! budget, at load time (errors for the loader) and at run time (traps).

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

/// Looks up the exported function `name` at load.
pub fn find<C>(rt: &mut Runtime<C>, name: &CStr, what: &str) -> Result<FuncId, Error> {
    rt.find(name)
        .map_err(|e| wasm3_error(&format!("finding {what}"), e, Some(&*rt)))
}

/// Calls `f` at load (e.g. the program's allocator) under `fuel`; a trap
/// is a load error naming `step`.
pub fn call_at_load<C>(
    rt: &mut Runtime<C>,
    f: FuncId,
    args: &[Arg],
    fuel: u64,
    step: &str,
) -> Result<i32, Error> {
    rt.set_fuel(budget(fuel))
        .map_err(|e| wasm3_error(step, e, None::<&Runtime<C>>))?;
    rt.call(f, args)
        .map_err(|e| load_call_failed(step, e, rt, fuel))
}

/// How a metered call ended, and the fuel it used (at most the budget:
/// the last charge may overshoot).
pub struct Called<T> {
    pub result: Result<T, (Trap, &'static str)>,
    pub fuel_used: u64,
}

/// Runs `call` on `rt` with the fuel global set to `fuel`: a trap is
/// `out_of_fuel` when the global fell below zero, else wasm3's kind.
pub fn call<C, T>(
    rt: &mut Runtime<C>,
    fuel: u64,
    call: impl FnOnce(&mut Runtime<C>) -> Result<T, M3Error>,
) -> Called<T> {
    let ret = rt.set_fuel(budget(fuel)).and_then(|()| call(rt));
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
