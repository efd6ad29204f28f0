// SPDX-License-Identifier: GPL-2.0
//! Where modules run: the kernel's engine through /dev/kwasm, or (feature
//! `host`) the same core linked into this process.

use std::fmt;

/// A value passed to or returned by an exported function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    I32(i32),
    I64(i64),
}

impl Value {
    /// The raw 64-bit slot of the invoke interface (an i32 in the low half).
    pub fn slot(self) -> u64 {
        match self {
            Value::I32(v) => u64::from(v as u32),
            Value::I64(v) => v as u64,
        }
    }

    /// The value of a slot of type `ty` (KWASM_VAL_*).
    pub fn from_slot(ty: u32, slot: u64) -> Option<Self> {
        match ty {
            VAL_I32 => Some(Value::I32(slot as u32 as i32)),
            VAL_I64 => Some(Value::I64(slot as i64)),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I32(v) => write!(f, "i32:{v}"),
            Value::I64(v) => write!(f, "i64:{v}"),
        }
    }
}

pub use kwasm_uapi::{KWASM_VAL_I32 as VAL_I32, KWASM_VAL_I64 as VAL_I64};

/// A refusal: an errno and the engine's reason.
#[derive(Debug)]
pub struct Refused {
    pub errno: i32,
    pub msg: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let err = std::io::Error::from_raw_os_error(self.errno);
        write!(f, "{} ({err})", self.msg)
    }
}

/// How a call ended.
#[derive(Debug)]
pub enum Outcome {
    Returned(Vec<Value>),
    /// The trap's kwasm name (core/src/trap.rs) and the engine's message.
    Trapped {
        kind: String,
        msg: String,
    },
}

pub trait Engine {
    /// Instantiates `wasm` (validation, linking, start function).
    fn instantiate(&self, wasm: &[u8]) -> Result<Box<dyn Instance>, Refused>;
}

pub trait Instance {
    /// Calls the exported function `name`.
    fn invoke(&mut self, name: &str, args: &[Value]) -> Result<Outcome, Refused>;
}

pub mod device {
    //! /dev/kwasm: one open file per instance (KWASM_IOC_INVOKE_*).

    use kwasm_uapi::{self as uapi, kwasm_invoke, kwasm_invoke_load, Errno};

    use super::{Engine, Instance, Outcome, Refused, Value};

    pub const MAX_VALUES: usize = uapi::KWASM_INVOKE_MAX_VALUES as usize;

    fn refused(what: &str, err: Errno, text: String) -> Refused {
        Refused {
            errno: err as i32,
            msg: if text.is_empty() {
                format!("{what}: {}", std::io::Error::from(err))
            } else {
                text
            },
        }
    }

    fn open() -> Result<uapi::Device, Refused> {
        uapi::Device::open().map_err(|e| Refused {
            errno: e.raw_os_error().unwrap_or(libc::EIO),
            msg: format!("open {}: {e}", uapi::DEVICE),
        })
    }

    pub struct Device;

    struct DeviceInstance {
        dev: uapi::Device,
    }

    impl Engine for Device {
        fn instantiate(&self, wasm: &[u8]) -> Result<Box<dyn Instance>, Refused> {
            let dev = open()?;
            if u32::try_from(wasm.len()).is_err() {
                return Err(Refused {
                    errno: libc::EFBIG,
                    msg: "module larger than 4 GiB".into(),
                });
            }
            let mut req = kwasm_invoke_load::default();
            dev.invoke_load(wasm, &mut req)
                .map_err(|e| refused("KWASM_IOC_INVOKE_LOAD", e, req.reason()))?;
            Ok(Box::new(DeviceInstance { dev }))
        }
    }

    impl Instance for DeviceInstance {
        fn invoke(&mut self, name: &str, args: &[Value]) -> Result<Outcome, Refused> {
            let mut req = kwasm_invoke::default();
            if req.set_name(name).is_err() {
                return Err(Refused {
                    errno: libc::ENAMETOOLONG,
                    msg: format!(
                        "export name of {} bytes does not fit the request",
                        name.len()
                    ),
                });
            }
            if args.len() > MAX_VALUES {
                return Err(Refused {
                    errno: libc::E2BIG,
                    msg: format!("{} arguments, at most {MAX_VALUES}", args.len()),
                });
            }
            for (d, s) in req.args.iter_mut().zip(args) {
                *d = s.slot();
            }
            req.nargs = args.len() as u32;
            self.dev
                .invoke(&mut req)
                .map_err(|e| refused("KWASM_IOC_INVOKE", e, req.reason()))?;
            if req.outcome == uapi::KWASM_INVOKE_TRAPPED {
                return Ok(Outcome::Trapped {
                    kind: req.trap_name(),
                    msg: req.reason(),
                });
            }
            let n = (req.nresults as usize).min(MAX_VALUES);
            let mut values = Vec::with_capacity(n);
            for (&ty, &slot) in req.result_types.iter().zip(&req.results).take(n) {
                values.push(Value::from_slot(ty, slot).ok_or_else(|| Refused {
                    errno: libc::EPROTO,
                    msg: format!("result of unknown type {ty}"),
                })?);
            }
            Ok(Outcome::Returned(values))
        }
    }

    /// Bad requests to the invoke ioctls, each of which the kernel must
    /// refuse with its errno and a reason, leaving the file's instance as it
    /// was. Returns one line per check, `Err` for those that failed.
    pub fn check_refusals(good: &[u8], bad: &[u8]) -> Vec<Result<String, String>> {
        let mut out = Vec::new();
        let expect = |what: &str, want: i32, got: Result<(), Refused>| match got {
            Err(r) if r.errno == want && !r.msg.is_empty() => {
                Ok(format!("{what}: errno {want}, \"{}\"", r.msg))
            }
            Err(r) => Err(format!("{what}: wanted errno {want}, got {r}")),
            Ok(()) => Err(format!("{what}: accepted, wanted errno {want}")),
        };
        let dev = match uapi::Device::open() {
            Ok(dev) => dev,
            Err(e) => return vec![Err(format!("open {}: {e}", uapi::DEVICE))],
        };
        let mut inst = DeviceInstance { dev };
        let call = |inst: &mut DeviceInstance, name: &str, args: &[Value]| {
            inst.invoke(name, args).map(|_| ())
        };
        out.push(expect(
            "call before any load",
            libc::ENOENT,
            call(&mut inst, "f", &[]),
        ));

        let load = |inst: &DeviceInstance, wasm: &[u8], pad: u32| {
            let mut req = kwasm_invoke_load {
                pad,
                ..Default::default()
            };
            inst.dev
                .invoke_load(wasm, &mut req)
                .map_err(|e| refused("load", e, req.reason()))
        };
        out.push(expect(
            "load of an invalid module",
            libc::EINVAL,
            load(&inst, bad, 0),
        ));
        out.push(expect(
            "load with pad set",
            libc::EINVAL,
            load(&inst, good, 1),
        ));
        let huge = vec![0u8; uapi::KWASM_MAX_PROG_SIZE as usize + 1];
        out.push(expect(
            "load above 4 MiB",
            libc::EFBIG,
            load(&inst, &huge, 0),
        ));
        out.push(
            load(&inst, good, 0)
                .map(|()| "load of a valid module".into())
                .map_err(|e| e.to_string()),
        );
        out.push(expect(
            "load of an invalid module after it",
            libc::EINVAL,
            load(&inst, bad, 0),
        ));
        out.push(match inst.invoke("add", &[Value::I32(2), Value::I32(3)]) {
            Ok(Outcome::Returned(v)) if v == [Value::I32(5)] => {
                Ok("the valid module still answers after a refused load".into())
            }
            other => Err(format!("call after a refused load: {other:?}")),
        });
        out.push(expect(
            "unknown export",
            libc::ENOENT,
            call(&mut inst, "nope", &[]),
        ));
        out.push(expect(
            "wrong argument count",
            libc::EINVAL,
            call(&mut inst, "add", &[Value::I32(1)]),
        ));

        let raw = |inst: &DeviceInstance, name: &[u8], nargs: u32| {
            let mut req = kwasm_invoke {
                nargs,
                ..Default::default()
            };
            for (d, s) in req.name.iter_mut().zip(name) {
                *d = *s as std::ffi::c_char;
            }
            inst.dev
                .invoke(&mut req)
                .map_err(|e| refused("invoke", e, req.reason()))
        };
        out.push(expect(
            "name without NUL",
            libc::EINVAL,
            raw(&inst, &[b'a'; uapi::KWASM_INVOKE_NAME_LEN as usize], 0),
        ));
        out.push(expect(
            "17 arguments",
            libc::EINVAL,
            raw(&inst, b"add", MAX_VALUES as u32 + 1),
        ));
        out
    }
}

#[cfg(feature = "host")]
pub mod host {
    //! The core linked into this process, called as the shim calls it.

    use std::ffi::{c_char, CStr};
    use std::ptr;

    use kwasm::sys::kwasm as k;

    use super::{Engine, Instance, Outcome, Refused, Value};

    pub struct Host;

    struct HostInstance(*mut kwasm::exports::Invoker);

    impl Drop for HostInstance {
        fn drop(&mut self) {
            // SAFETY: ours, from kwasm_core_invoke_new.
            unsafe { kwasm::kwasm_core_invoke_free(self.0) }
        }
    }

    fn text(err: &[c_char]) -> String {
        // SAFETY: the core NUL-terminates within the buffer.
        unsafe { CStr::from_ptr(err.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    impl Engine for Host {
        fn instantiate(&self, wasm: &[u8]) -> Result<Box<dyn Instance>, Refused> {
            let mut out = ptr::null_mut();
            let mut err = [0 as c_char; 256];
            // SAFETY: valid buffers of the stated sizes.
            let rc = unsafe {
                kwasm::kwasm_core_invoke_new(
                    wasm.as_ptr(),
                    wasm.len(),
                    &mut out,
                    err.as_mut_ptr(),
                    err.len(),
                )
            };
            if rc != 0 {
                return Err(Refused {
                    errno: -rc,
                    msg: text(&err),
                });
            }
            Ok(Box::new(HostInstance(out)))
        }
    }

    impl Instance for HostInstance {
        fn invoke(&mut self, name: &str, args: &[Value]) -> Result<Outcome, Refused> {
            let slots: Vec<u64> = args.iter().map(|v| v.slot()).collect();
            let mut res = k::kwasm_invoke_result::default();
            let mut err = [0 as c_char; 256];
            // SAFETY: self.0 is a live instance used by this thread only;
            // buffers have the stated sizes.
            let rc = unsafe {
                kwasm::kwasm_core_invoke_call(
                    self.0,
                    name.as_ptr().cast(),
                    name.len(),
                    slots.as_ptr(),
                    slots.len() as u32,
                    &mut res,
                    err.as_mut_ptr(),
                    err.len(),
                )
            };
            if rc != 0 {
                return Err(Refused {
                    errno: -rc,
                    msg: text(&err),
                });
            }
            if res.trap != 0 {
                let kind = kwasm::kwasm_core_trap_name(res.trap);
                return Ok(Outcome::Trapped {
                    // SAFETY: a static NUL-terminated name.
                    kind: unsafe { CStr::from_ptr(kind) }
                        .to_string_lossy()
                        .into_owned(),
                    msg: text(&err),
                });
            }
            let n = res.nresults as usize;
            let values = res
                .types
                .iter()
                .zip(&res.results)
                .take(n)
                .filter_map(|(&ty, &slot)| Value::from_slot(ty, slot))
                .collect();
            Ok(Outcome::Returned(values))
        }
    }
}
