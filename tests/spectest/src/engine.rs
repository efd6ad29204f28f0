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

pub const VAL_I32: u32 = 1;
pub const VAL_I64: u32 = 2;

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

    use std::fs::{File, OpenOptions};
    use std::mem::size_of;
    use std::os::fd::AsRawFd;

    use super::{Engine, Instance, Outcome, Refused, Value};

    const DEVICE: &str = "/dev/kwasm";
    const ERR_LEN: usize = 256;
    const NAME_LEN: usize = 128;
    pub const MAX_VALUES: usize = 16;
    const INVOKE_TRAPPED: u32 = 1;

    /// struct kwasm_invoke_load of include/uapi/kwasm.h.
    #[repr(C)]
    pub struct InvokeLoad {
        prog: u64,
        prog_len: u32,
        pad: u32,
        err: [u8; ERR_LEN],
    }

    /// struct kwasm_invoke of include/uapi/kwasm.h.
    #[repr(C)]
    pub struct Invoke {
        name: [u8; NAME_LEN],
        nargs: u32,
        outcome: u32,
        trap: u32,
        nresults: u32,
        args: [u64; MAX_VALUES],
        results: [u64; MAX_VALUES],
        result_types: [u32; MAX_VALUES],
        trap_name: [u8; 32],
        err: [u8; ERR_LEN],
    }

    const _: () = assert!(size_of::<InvokeLoad>() == 272);
    const _: () = assert!(size_of::<Invoke>() == 752);

    const fn iowr(nr: u32, size: usize) -> u32 {
        3 << 30 | (size as u32) << 16 | 0xb7 << 8 | nr
    }
    pub const IOC_INVOKE_LOAD: u32 = iowr(4, size_of::<InvokeLoad>());
    pub const IOC_INVOKE: u32 = iowr(5, size_of::<Invoke>());

    fn c_str(bytes: &[u8]) -> String {
        let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        String::from_utf8_lossy(bytes.get(..len).unwrap_or(bytes)).into_owned()
    }

    fn refused(what: &str, err: std::io::Error, msg: &[u8]) -> Refused {
        let text = c_str(msg);
        Refused {
            errno: err.raw_os_error().unwrap_or(libc::EIO),
            msg: if text.is_empty() {
                format!("{what}: {err}")
            } else {
                text
            },
        }
    }

    pub struct Device;

    struct DeviceInstance {
        file: File,
    }

    /// # Safety
    /// `arg` points to the structure `request` reads and writes.
    unsafe fn ioctl<T>(file: &File, request: u32, arg: &mut T) -> std::io::Result<()> {
        // SAFETY: the caller's contract.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), request as libc::Ioctl, arg as *mut T) };
        if rc < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    impl Engine for Device {
        fn instantiate(&self, wasm: &[u8]) -> Result<Box<dyn Instance>, Refused> {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(DEVICE)
                .map_err(|e| refused(&format!("open {DEVICE}"), e, b""))?;
            let mut req = InvokeLoad {
                prog: wasm.as_ptr() as u64,
                prog_len: u32::try_from(wasm.len()).map_err(|_| Refused {
                    errno: libc::EFBIG,
                    msg: "module larger than 4 GiB".into(),
                })?,
                pad: 0,
                err: [0; ERR_LEN],
            };
            // SAFETY: KWASM_IOC_INVOKE_LOAD reads and writes a struct
            // kwasm_invoke_load and reads prog_len bytes at prog, borrowed
            // for the call.
            unsafe { ioctl(&file, IOC_INVOKE_LOAD, &mut req) }
                .map_err(|e| refused("KWASM_IOC_INVOKE_LOAD", e, &req.err))?;
            Ok(Box::new(DeviceInstance { file }))
        }
    }

    impl Instance for DeviceInstance {
        fn invoke(&mut self, name: &str, args: &[Value]) -> Result<Outcome, Refused> {
            let mut req = Invoke {
                name: [0; NAME_LEN],
                nargs: 0,
                outcome: 0,
                trap: 0,
                nresults: 0,
                args: [0; MAX_VALUES],
                results: [0; MAX_VALUES],
                result_types: [0; MAX_VALUES],
                trap_name: [0; 32],
                err: [0; ERR_LEN],
            };
            if name.len() >= NAME_LEN || name.contains('\0') {
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
            for (d, s) in req.name.iter_mut().zip(name.bytes()) {
                *d = s;
            }
            for (d, s) in req.args.iter_mut().zip(args) {
                *d = s.slot();
            }
            req.nargs = args.len() as u32;
            // SAFETY: KWASM_IOC_INVOKE reads and writes a struct kwasm_invoke.
            unsafe { ioctl(&self.file, IOC_INVOKE, &mut req) }
                .map_err(|e| refused("KWASM_IOC_INVOKE", e, &req.err))?;
            if req.outcome == INVOKE_TRAPPED {
                return Ok(Outcome::Trapped {
                    kind: c_str(&req.trap_name),
                    msg: c_str(&req.err),
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
        let file = match OpenOptions::new().read(true).write(true).open(DEVICE) {
            Ok(f) => f,
            Err(e) => return vec![Err(format!("open {DEVICE}: {e}"))],
        };
        let mut inst = DeviceInstance { file };
        let call = |inst: &mut DeviceInstance, name: &str, args: &[Value]| {
            inst.invoke(name, args).map(|_| ())
        };
        out.push(expect(
            "call before any load",
            libc::ENOENT,
            call(&mut inst, "f", &[]),
        ));

        let load = |inst: &DeviceInstance, wasm: &[u8], pad: u32| {
            let mut req = InvokeLoad {
                prog: wasm.as_ptr() as u64,
                prog_len: wasm.len() as u32,
                pad,
                err: [0; ERR_LEN],
            };
            // SAFETY: as in Device::instantiate.
            unsafe { ioctl(&inst.file, IOC_INVOKE_LOAD, &mut req) }
                .map_err(|e| refused("load", e, &req.err))
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
        let huge = vec![0u8; (4 << 20) + 1];
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
            let mut req = Invoke {
                name: [0; NAME_LEN],
                nargs,
                outcome: 0,
                trap: 0,
                nresults: 0,
                args: [0; MAX_VALUES],
                results: [0; MAX_VALUES],
                result_types: [0; MAX_VALUES],
                trap_name: [0; 32],
                err: [0; ERR_LEN],
            };
            for (d, s) in req.name.iter_mut().zip(name) {
                *d = *s;
            }
            // SAFETY: KWASM_IOC_INVOKE reads and writes a struct kwasm_invoke.
            unsafe { ioctl(&inst.file, IOC_INVOKE, &mut req) }
                .map_err(|e| refused("invoke", e, &req.err))
        };
        out.push(expect(
            "name without NUL",
            libc::EINVAL,
            raw(&inst, &[b'a'; NAME_LEN], 0),
        ));
        out.push(expect(
            "17 arguments",
            libc::EINVAL,
            raw(&inst, b"add", MAX_VALUES as u32 + 1),
        ));
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn ioctl_numbers() {
            assert_eq!(IOC_INVOKE_LOAD, 0xc110b704);
            assert_eq!(IOC_INVOKE, 0xc2f0b705);
        }
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
