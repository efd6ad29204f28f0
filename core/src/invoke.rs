//! The invoke path: one module instantiated on its own, whose exported
//! functions are called by name with i32/i64 values (the WebAssembly spec
//! test runner uses it). Packets never reach it. It goes through the same
//! engine pipeline as a packet program: [`engine::check`], then
//! [`instance::instantiate`], each call through [`instance::call`].

use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::abi::{self as k, Error, EINVAL, ENOENT};
use crate::engine::instance::{self, Func};
use crate::engine::trap::Trap;
use crate::engine::wasm3::Runtime;
use crate::engine::{self};
use crate::ffi::sys::wasm3 as m3;
use crate::filter::hostfns::{FilterCtx, HOST_FNS};

/// Fuel of each call (and of the start function): a hundred times a packet
/// program's default, for the spec tests' longer loops, and still bounded.
const INVOKE_FUEL: u64 = 100 * k::KWASM_DEFAULT_FUEL;
/// KWASM_INVOKE_MAX_VALUES of include/uapi/kwasm.h.
pub const MAX_VALUES: usize = k::KWASM_INVOKE_MAX_VALUES as usize;

/// An instance and the exports looked up so far. Its host functions are
/// kwasm's, with no packet.
pub struct Invoker {
    runtime: Runtime<FilterCtx>,
    module: engine::Module<FilterCtx>,
    found: Vec<(String, Func)>,
}

/// How a call ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The results, each with its KWASM_VAL_* type.
    Returned(Vec<(u32, u64)>),
    /// The trap kind and wasm3's message.
    Trapped(Trap, &'static str),
}

/// The KWASM_VAL_* of a wasm3 type, for the types the invoke path passes.
fn val_type(m3_type: u32) -> Option<u32> {
    match m3_type {
        m3::c_m3Type_i32 => Some(k::KWASM_VAL_I32),
        m3::c_m3Type_i64 => Some(k::KWASM_VAL_I64),
        _ => None,
    }
}

fn type_name(m3_type: u32) -> &'static str {
    match m3_type {
        m3::c_m3Type_i32 => "i32",
        m3::c_m3Type_i64 => "i64",
        m3::c_m3Type_f32 => "f32",
        m3::c_m3Type_f64 => "f64",
        m3::c_m3Type_v128 => "v128",
        m3::c_m3Type_funcref => "funcref",
        m3::c_m3Type_externref => "externref",
        _ => "unknown",
    }
}

impl Invoker {
    /// Checks, compiles and instantiates `wasm`, running its start
    /// function.
    pub fn new(wasm: &[u8]) -> Result<Self, Error> {
        let module = engine::check(wasm, &HOST_FNS, INVOKE_FUEL)?;
        let ctx = FilterCtx::new(c"invoke".into(), 0, 0);
        let runtime = instance::instantiate(&module, ctx, INVOKE_FUEL)?;
        Ok(Self {
            runtime,
            module,
            found: Vec::new(),
        })
    }

    /// The exported function `name`, looked up once.
    fn func(&mut self, name: &str) -> Result<Func, Error> {
        if let Some((_, id)) = self.found.iter().find(|(n, _)| n == name) {
            return Ok(*id);
        }
        if !matches!(self.module.func_export(name), Some(Some(_))) {
            return Err(Error::new(
                ENOENT,
                format!("no exported function \"{name}\""),
            ));
        }
        let cname = CString::new(name)
            .map_err(|_| Error::new(EINVAL, format!("export name \"{name}\" contains a NUL")))?;
        let id = instance::find(
            &self.module,
            &mut self.runtime,
            &cname,
            &format!("\"{name}\""),
        )?;
        self.found.push((name.into(), id));
        Ok(id)
    }

    /// Calls the exported function `name` with `args` (one slot per
    /// parameter, an i32 in the low half).
    pub fn call(&mut self, name: &str, args: &[u64]) -> Result<Outcome, Error> {
        let f = self.func(name)?;
        let (params, results) = self.runtime.func_type(f.id()).map_err(|e| {
            instance::wasm3_error("reading the function type", e, Some(&self.runtime))
        })?;
        if params.len() != args.len() {
            return Err(Error::new(
                EINVAL,
                format!(
                    "\"{name}\" takes {} arguments, {} given",
                    params.len(),
                    args.len()
                ),
            ));
        }
        if results.len() > MAX_VALUES {
            return Err(Error::new(
                EINVAL,
                format!(
                    "\"{name}\" returns {} values, at most {MAX_VALUES} are supported",
                    results.len()
                ),
            ));
        }
        let unsupported = |what: &str, t: u32| {
            Error::new(
                EINVAL,
                format!(
                    "\"{name}\" has a {what} of type {}: only i32 and i64 are supported",
                    type_name(t)
                ),
            )
        };
        if let Some(&t) = params.iter().find(|&&t| val_type(t).is_none()) {
            return Err(unsupported("parameter", t));
        }
        let mut types = Vec::with_capacity(results.len());
        for &t in &results {
            types.push(val_type(t).ok_or_else(|| unsupported("result", t))?);
        }
        // An i32 argument is the low half of its slot; wasm3 reads just that.
        let mut slots = [0u64; MAX_VALUES];
        let out = slots.get_mut(..results.len()).unwrap_or(&mut []);
        let called = instance::call(&mut self.runtime, f, INVOKE_FUEL, |rt, id| {
            rt.call_slots(id, args, out)
        });
        Ok(match called.result {
            Ok(()) => Outcome::Returned(types.into_iter().zip(out.iter().copied()).collect()),
            Err((trap, msg)) => Outcome::Trapped(trap, msg),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn instance(wat: &str) -> Invoker {
        Invoker::new(&wat::parse_str(wat).unwrap()).unwrap()
    }

    const MATH: &str = r#"(module
        (func (export "div") (param i32 i32) (result i32)
            (i32.div_s (local.get 0) (local.get 1)))
        (func (export "pair") (param i64) (result i64 i32)
            (local.get 0) (i32.const -1))
        (func (export "nothing"))
        (func (export "half") (param i32) (result f32)
            (f32.const 0.5)))"#;

    #[test]
    fn returns_values_with_types() {
        let mut inv = Invoker::new(
            &wat::parse_str(
                r#"(module
                (func (export "div") (param i32 i32) (result i32)
                    (i32.div_s (local.get 0) (local.get 1)))
                (func (export "pair") (param i64) (result i64 i32)
                    (local.get 0) (i32.const -1))
                (func (export "nothing")))"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            inv.call("div", &[(-7i32) as u32 as u64, 2]).unwrap(),
            Outcome::Returned(vec![(k::KWASM_VAL_I32, (-3i32) as u32 as u64)])
        );
        assert_eq!(
            inv.call("pair", &[u64::MAX - 1]).unwrap(),
            Outcome::Returned(vec![
                (k::KWASM_VAL_I64, u64::MAX - 1),
                (k::KWASM_VAL_I32, 0xffff_ffff)
            ])
        );
        assert_eq!(inv.call("nothing", &[]).unwrap(), Outcome::Returned(vec![]));
    }

    #[test]
    fn traps_keep_the_instance_usable() {
        let mut inv = Invoker::new(
            &wat::parse_str(
                r#"(module (func (export "div") (param i32 i32) (result i32)
                (i32.div_s (local.get 0) (local.get 1))))"#,
            )
            .unwrap(),
        )
        .unwrap();
        let trap = |o| match o {
            Outcome::Trapped(t, _) => Some(t),
            Outcome::Returned(_) => None,
        };
        let min = u64::from(i32::MIN as u32);
        let minus_one = u64::from(u32::MAX);
        assert_eq!(
            trap(inv.call("div", &[min, minus_one]).unwrap()),
            Some(Trap::IntOverflow)
        );
        assert_eq!(
            trap(inv.call("div", &[1, 0]).unwrap()),
            Some(Trap::DivByZero)
        );
        assert_eq!(trap(inv.call("div", &[6, 3]).unwrap()), None);
    }

    #[test]
    fn refuses_bad_calls_with_reasons() {
        let mut inv = instance(r#"(module (func (export "f") (param i32)) (func $hidden))"#);
        let e = inv.call("g", &[]).unwrap_err();
        assert_eq!(
            (e.errno, e.msg.as_str()),
            (ENOENT, "no exported function \"g\"")
        );
        // Only exports: not a function known by its name-section name.
        assert_eq!(inv.call("hidden", &[]).unwrap_err().errno, ENOENT);
        let e = inv.call("f", &[]).unwrap_err();
        assert_eq!(e.errno, EINVAL);
        assert!(e.msg.contains("takes 1 arguments, 0 given"), "{}", e.msg);
    }

    #[test]
    fn refuses_modules_like_the_loader() {
        // Floats are off, as for packet programs.
        let e = Invoker::new(&wat::parse_str(MATH).unwrap()).err().unwrap();
        assert!(e.msg.contains("floating-point"), "{}", e.msg);
        // Only kwasm's host functions can be imported.
        let wasm = wat::parse_str(r#"(module (import "spectest" "print_i32" (func (param i32))))"#);
        let e = Invoker::new(&wasm.unwrap()).err().unwrap();
        assert_eq!(e.errno, ENOENT);
        assert!(
            e.msg.starts_with("unknown import spectest.print_i32"),
            "{}",
            e.msg
        );
        // No ABI export needed, kwasm's imports allowed.
        instance(r#"(module (import "kwasm" "pkt_len" (func (result i32))))"#);
        // A trapping start function fails the load.
        let wasm = wat::parse_str(r#"(module (func $s unreachable) (start $s))"#).unwrap();
        let e = Invoker::new(&wasm).err().unwrap();
        assert!(e.msg.starts_with("running the start function"), "{}", e.msg);
    }
}
