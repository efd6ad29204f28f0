//! Safe ownership of wasm3 objects: one environment + runtime + module per
//! instance, freed on drop, and calls whose failures become traps or load
//! error messages.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ffi::{c_void, CStr};
use core::fmt::Write;
use core::ptr::{self, NonNull};

use crate::hostcall::{self, HostCtx};
use crate::hostfns::HostFn;
use crate::packet::Summary;
use crate::services::Pkt;
use crate::sys::wasm3 as m3;
use crate::trap::Trap;

/// Reads one of wasm3's `m3Err_*` constants.
macro_rules! m3_err {
    ($name:ident) => {
        // SAFETY: an immutable C global initialised at compile time.
        M3Error(unsafe { m3::$name })
    };
}

/// A failed wasm3 call: its M3Result, a static C string.
#[derive(Clone, Copy)]
pub struct M3Error(m3::M3Result);

impl M3Error {
    fn check(result: m3::M3Result) -> Result<(), Self> {
        if result.is_null() {
            Ok(())
        } else {
            Err(Self(result))
        }
    }

    pub fn text(&self) -> &'static str {
        if self.0.is_null() {
            return "unknown wasm3 error";
        }
        // SAFETY: every M3Result is a NUL-terminated static string (wasm3's
        // m3Err_* or our HOST_TRAP).
        let text = unsafe { CStr::from_ptr(self.0) };
        text.to_str().unwrap_or("(unprintable wasm3 error)")
    }

    pub fn is_out_of_memory(&self) -> bool {
        self.is_any(&[
            m3_err!(m3Err_mallocFailed),
            m3_err!(m3Err_mallocFailedCodePage),
        ])
    }

    /// The kind of trap this error is; `Other` for non-trap errors.
    pub fn trap(&self) -> Trap {
        if ptr::eq(self.0, hostcall::HOST_TRAP.as_ptr()) {
            return Trap::Host;
        }
        let kinds = [
            (m3_err!(m3Err_trapUnreachable), Trap::Unreachable),
            (
                m3_err!(m3Err_trapOutOfBoundsMemoryAccess),
                Trap::OutOfBounds,
            ),
            (m3_err!(m3Err_trapDivisionByZero), Trap::DivByZero),
            (m3_err!(m3Err_trapIntegerOverflow), Trap::IntOverflow),
            (
                m3_err!(m3Err_trapIntegerConversion),
                Trap::InvalidConversion,
            ),
            (
                m3_err!(m3Err_trapIndirectCallTypeMismatch),
                Trap::IndirectCall,
            ),
            (m3_err!(m3Err_trapTableOutOfBounds), Trap::OutOfBounds),
            (m3_err!(m3Err_trapTableIndexOutOfRange), Trap::IndirectCall),
            (m3_err!(m3Err_trapTableElementIsNull), Trap::IndirectCall),
            (m3_err!(m3Err_trapNullFunctionRef), Trap::IndirectCall),
            (m3_err!(m3Err_trapStackOverflow), Trap::StackOverflow),
        ];
        kinds
            .iter()
            .find(|(e, _)| ptr::eq(e.0, self.0))
            .map_or(Trap::Other, |&(_, trap)| trap)
    }

    fn is_any(&self, errors: &[M3Error]) -> bool {
        errors.iter().any(|e| ptr::eq(e.0, self.0))
    }
}

/// An argument of a call from the host into the program.
#[derive(Clone, Copy)]
pub enum Arg {
    I32(i32),
    I64(i64),
}

/// Index of a function looked up at load (`Runtime::find`).
#[derive(Clone, Copy)]
pub struct FuncId(usize);

struct Environment(NonNull<m3::M3Environment>);

impl Drop for Environment {
    fn drop(&mut self) {
        // SAFETY: created by m3_NewEnvironment, freed once, after the
        // runtime that used it (field order in Runtime).
        unsafe { m3::m3_FreeEnvironment(self.0.as_ptr()) }
    }
}

/// A wasm3 runtime with the one module of a program loaded into it.
pub struct Runtime {
    runtime: NonNull<m3::M3Runtime>,
    module: Option<NonNull<m3::M3Module>>,
    host: NonNull<HostCtx>,
    funcs: Vec<NonNull<m3::M3Function>>,
    // Dropped after the runtime (see Drop): the environment it was made in
    // and the bytes its module points into.
    _env: Environment,
    wasm: Arc<Vec<u8>>,
}

// SAFETY: a runtime has no affinity to a thread; its owner uses it from
// one thread at a time (TryLock in prog.rs), and the HostCtx it points to
// is only touched from inside its calls.
unsafe impl Send for Runtime {}

impl Runtime {
    /// A runtime with a value stack of `stack_bytes`, whose host functions
    /// see `host`, for the module in `wasm`.
    pub fn new(stack_bytes: u32, host: HostCtx, wasm: Arc<Vec<u8>>) -> Result<Self, M3Error> {
        let oom = m3_err!(m3Err_mallocFailed);
        // SAFETY: plain constructor; null means out of memory.
        let env = Environment(NonNull::new(unsafe { m3::m3_NewEnvironment() }).ok_or(oom)?);
        let host = NonNull::from(Box::leak(Box::new(host)));
        // SAFETY: env is live; host stays valid until Drop frees it after
        // the runtime.
        let runtime =
            unsafe { m3::m3_NewRuntime(env.0.as_ptr(), stack_bytes, host.as_ptr().cast()) };
        let Some(runtime) = NonNull::new(runtime) else {
            // SAFETY: host came from Box::leak above and nothing refers to it.
            drop(unsafe { Box::from_raw(host.as_ptr()) });
            return Err(oom);
        };
        Ok(Self {
            runtime,
            module: None,
            host,
            funcs: Vec::new(),
            _env: env,
            wasm,
        })
    }

    /// Parses the module and loads it (memory, globals, data, tables).
    pub fn load(&mut self) -> Result<(), M3Error> {
        let mut module = ptr::null_mut();
        let len = u32::try_from(self.wasm.len()).map_err(|_| m3_err!(m3Err_wasmOverrun))?;
        // SAFETY: the bytes are kept alive by self.wasm for the module's
        // whole life; env is live.
        M3Error::check(unsafe {
            m3::m3_ParseModule(self._env.0.as_ptr(), &mut module, self.wasm.as_ptr(), len)
        })?;
        // SAFETY: module was just parsed; on failure it is still ours.
        if let Err(e) = M3Error::check(unsafe { m3::m3_LoadModule(self.runtime.as_ptr(), module) })
        {
            // SAFETY: not loaded, so not owned by the runtime.
            unsafe { m3::m3_FreeModule(module) };
            return Err(e);
        }
        self.module = NonNull::new(module);
        Ok(())
    }

    fn module(&self) -> Result<NonNull<m3::M3Module>, M3Error> {
        self.module.ok_or(m3_err!(m3Err_moduleNotLinked))
    }

    /// Links every import named `func.module`.`func.name` to `func`.
    pub fn link(&mut self, func: &'static HostFn) -> Result<(), M3Error> {
        let module = self.module()?;
        // SAFETY: strings are NUL-terminated statics, the user data is a
        // &'static HostFn as the trampoline expects.
        M3Error::check(unsafe {
            m3::m3_LinkRawFunctionEx(
                module.as_ptr(),
                func.module.as_ptr(),
                func.name.as_ptr(),
                func.signature.as_ptr(),
                Some(hostcall::trampoline),
                ptr::from_ref(func).cast(),
            )
        })
    }

    /// Compiles every function now, so that runs never compile.
    pub fn compile(&mut self) -> Result<(), M3Error> {
        let module = self.module()?;
        // SAFETY: the module is loaded into this runtime.
        M3Error::check(unsafe { m3::m3_CompileModule(module.as_ptr()) })
    }

    /// Runs the module's start function, if it has one.
    pub fn run_start(&mut self) -> Result<(), M3Error> {
        let module = self.module()?;
        // SAFETY: the module is loaded and compiled.
        M3Error::check(unsafe { m3::m3_RunStart(module.as_ptr()) })
    }

    /// Looks up an exported function for later calls.
    pub fn find(&mut self, name: &CStr) -> Result<FuncId, M3Error> {
        let mut func = ptr::null_mut();
        // SAFETY: name is NUL-terminated; the runtime is live.
        M3Error::check(unsafe {
            m3::m3_FindFunction(&mut func, self.runtime.as_ptr(), name.as_ptr())
        })?;
        let func = NonNull::new(func).ok_or(m3_err!(m3Err_functionLookupFailed))?;
        self.funcs.push(func);
        Ok(FuncId(self.funcs.len() - 1))
    }

    /// Calls a function returning one i32, with `pkt` as the current packet
    /// of host functions. The argument types must be the function's (the
    /// validator checked the exports).
    pub fn call(
        &mut self,
        f: FuncId,
        args: &[Arg],
        pkt: Option<(&Pkt, Summary)>,
    ) -> Result<i32, M3Error> {
        let func = *self
            .funcs
            .get(f.0)
            .ok_or(m3_err!(m3Err_functionLookupFailed))?;
        let mut argv: [*const c_void; 2] = [ptr::null(); 2];
        for (slot, arg) in argv.iter_mut().zip(args) {
            *slot = match arg {
                Arg::I32(v) => ptr::from_ref(v).cast(),
                Arg::I64(v) => ptr::from_ref(v).cast(),
            };
        }
        let argc = args.len().min(argv.len()) as u32;
        let mut ret = 0i32;
        let mut rets: [*const c_void; 1] = [ptr::from_mut(&mut ret).cast_const().cast()];
        let mut call = || {
            // SAFETY: func belongs to this runtime; argv points to argc
            // values of the function's parameter types, alive across the
            // call; wasm3 checks argc against the function type.
            M3Error::check(unsafe { m3::m3_Call(func.as_ptr(), argc, argv.as_mut_ptr()) })?;
            // SAFETY: rets points to one i32, the function's result type.
            M3Error::check(unsafe { m3::m3_GetResults(func.as_ptr(), 1, rets.as_mut_ptr()) })
        };
        // SAFETY: host lives as long as self.
        let host = unsafe { self.host.as_ref() };
        match pkt {
            Some((pkt, summary)) => host.with_packet(pkt, summary, call)?,
            None => call()?,
        }
        Ok(ret)
    }

    /// The parameter and result types of `f`, in wasm3's numbering
    /// (`c_m3Type_*`).
    pub fn func_type(&self, f: FuncId) -> Result<(Vec<u32>, Vec<u32>), M3Error> {
        let func = *self
            .funcs
            .get(f.0)
            .ok_or(m3_err!(m3Err_functionLookupFailed))?;
        let func = func.as_ptr();
        // SAFETY: func belongs to this live runtime; indexes stay below the
        // counts wasm3 reports.
        unsafe {
            let params = (0..m3::m3_GetArgCount(func))
                .map(|i| m3::m3_GetArgType(func, i))
                .collect();
            let results = (0..m3::m3_GetRetCount(func))
                .map(|i| m3::m3_GetRetType(func, i))
                .collect();
            Ok((params, results))
        }
    }

    /// Calls `f` with any number of i32/i64 arguments, each in a 64-bit slot
    /// (an i32 in its low half), and stores its results the same way into
    /// `results`, whose length must be the function's result count. The
    /// caller checked the types with [`Runtime::func_type`]: wasm3 reads
    /// and writes each slot as the function's type says.
    pub fn call_slots(
        &mut self,
        f: FuncId,
        args: &[u64],
        results: &mut [u64],
    ) -> Result<(), M3Error> {
        let func = *self
            .funcs
            .get(f.0)
            .ok_or(m3_err!(m3Err_functionLookupFailed))?;
        let mismatch = m3_err!(m3Err_argumentCountMismatch);
        let argc = u32::try_from(args.len()).map_err(|_| mismatch)?;
        let retc = u32::try_from(results.len()).map_err(|_| mismatch)?;
        let mut argv: Vec<*const c_void> = args.iter().map(|v| ptr::from_ref(v).cast()).collect();
        results.fill(0);
        let mut rets: Vec<*const c_void> = results
            .iter_mut()
            .map(|v| ptr::from_mut(v).cast_const().cast())
            .collect();
        // SAFETY: func belongs to this runtime; argv holds argc pointers to
        // 64-bit slots alive across the call, which wasm3 reads as i32 or
        // i64 (little-endian: an i32 is the low half); wasm3 checks argc
        // against the function type.
        M3Error::check(unsafe { m3::m3_Call(func.as_ptr(), argc, argv.as_mut_ptr()) })?;
        // SAFETY: rets holds retc pointers to zeroed 64-bit slots, wide
        // enough for an i32 or i64 result; wasm3 checks retc.
        M3Error::check(unsafe { m3::m3_GetResults(func.as_ptr(), retc, rets.as_mut_ptr()) })
    }

    /// The program's linear memory, empty when it has none.
    pub fn memory_mut(&mut self) -> &mut [u8] {
        let mut len = 0u32;
        // SAFETY: the runtime is live; the returned pointer is valid for
        // len bytes until the program runs again, which needs &mut self.
        unsafe {
            let data = m3::m3_GetMemory(self.runtime.as_ptr(), &mut len, 0);
            if data.is_null() || len == 0 {
                &mut []
            } else {
                core::slice::from_raw_parts_mut(data, len as usize)
            }
        }
    }

    pub fn memory_size(&self) -> u32 {
        let mut len = 0u32;
        // SAFETY: the runtime is live; only the size is read.
        unsafe { m3::m3_GetMemory(self.runtime.as_ptr(), &mut len, 0) };
        len
    }

    /// wasm3's detailed message for the last error, if it left one.
    pub fn error_detail(&self, out: &mut String) {
        let mut info = m3::M3ErrorInfo::default();
        // SAFETY: the runtime is live; info is plain output.
        unsafe { m3::m3_GetErrorInfo(self.runtime.as_ptr(), &mut info) };
        if !info.message.is_null() {
            // SAFETY: a NUL-terminated string owned by the runtime.
            let detail = unsafe { CStr::from_ptr(info.message) };
            if let Ok(detail) = detail.to_str() {
                if !detail.is_empty() {
                    let _ = write!(out, " ({detail})");
                }
            }
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // SAFETY: the runtime frees the module loaded into it; nothing
        // refers to host once the runtime is gone, and it came from Box.
        unsafe {
            m3::m3_FreeRuntime(self.runtime.as_ptr());
            drop(Box::from_raw(self.host.as_ptr()));
        }
    }
}
