//! Safe ownership of wasm3 objects: one environment + runtime + module per
//! instance, freed on drop; calls whose failures become traps or load
//! error messages; the one trampoline through which wasm3 reaches every
//! host function. The only file of the engine that calls wasm3.
//!
//! Three things the per-call path needs are read straight from wasm3's
//! structures instead of through its accessors (each one a call, and in the
//! kernel an indirect-branch-hardened one): the fuel global's value, the
//! first result slot of the value stack, and linear memory. Their layouts
//! come from wasm3's own headers (bindgen, `sys::wasm3::internal`) and are
//! checked against the accessors when a module is loaded.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::Cell;
use core::ffi::{c_void, CStr};
use core::fmt::Write;
use core::ptr::{self, NonNull};

use super::fuel;
use super::host::{Call, HostFn};
use super::trap::Trap;
use crate::ffi::sys::wasm3 as m3;
use crate::ffi::sys::wasm3::internal as m3i;

/// The result a host function returns to make its caller trap. wasm3
/// passes it through unchanged; [`M3Error::trap`] recognises it.
pub static HOST_TRAP: &CStr = c"[trap] host function argument out of bounds";

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
        if ptr::eq(self.0, HOST_TRAP.as_ptr()) {
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

    /// The compiler ran out of operand stack slots in a function.
    pub fn is_function_stack_overflow(&self) -> bool {
        self.is_any(&[m3_err!(m3Err_functionStackOverflow)])
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

/// The runtime's user data: the context host functions see, and where
/// the fuel global's value lives once the module is loaded (for host
/// functions that charge fuel).
struct UserData<C> {
    ctx: C,
    fuel: Cell<Option<NonNull<i64>>>,
}

/// A wasm3 runtime with one module loaded into it, whose host functions
/// see the context `C`.
pub struct Runtime<C: 'static> {
    runtime: NonNull<m3::M3Runtime>,
    module: Option<NonNull<m3::M3Module>>,
    ctx: NonNull<UserData<C>>,
    funcs: Vec<NonNull<m3::M3Function>>,
    /// The value of the metered module's fuel global, once loaded.
    fuel: Option<NonNull<i64>>,
    // Dropped after the runtime (see Drop): the environment it was made in
    // and the bytes its module points into.
    _env: Environment,
    wasm: Arc<Vec<u8>>,
}

// SAFETY: a runtime has no affinity to a thread; its owner uses it from
// one thread at a time (&mut self for every call), and the context it
// points to is only touched from inside its calls. C: Send carries the
// context along.
unsafe impl<C: Send> Send for Runtime<C> {}

/// The layout assumptions did not hold: refuse, never guess.
fn layout_mismatch() -> M3Error {
    M3Error(c"wasm3's structures differ from the core's bindings".as_ptr())
}

impl<C: 'static> Runtime<C> {
    /// A runtime with a value stack of `stack_bytes`, whose host functions
    /// see `ctx`, for the module in `wasm`.
    pub fn new(stack_bytes: u32, ctx: C, wasm: Arc<Vec<u8>>) -> Result<Self, M3Error> {
        let oom = m3_err!(m3Err_mallocFailed);
        // SAFETY: plain constructor; null means out of memory.
        let env = Environment(NonNull::new(unsafe { m3::m3_NewEnvironment() }).ok_or(oom)?);
        let ctx = NonNull::from(Box::leak(Box::new(UserData {
            ctx,
            fuel: Cell::new(None),
        })));
        // SAFETY: env is live; ctx stays valid until Drop frees it after
        // the runtime.
        let runtime =
            unsafe { m3::m3_NewRuntime(env.0.as_ptr(), stack_bytes, ctx.as_ptr().cast()) };
        let Some(runtime) = NonNull::new(runtime) else {
            // SAFETY: ctx came from Box::leak above and nothing refers to it.
            drop(unsafe { Box::from_raw(ctx.as_ptr()) });
            return Err(oom);
        };
        Ok(Self {
            runtime,
            module: None,
            ctx,
            funcs: Vec::new(),
            fuel: None,
            _env: env,
            wasm,
        })
    }

    /// The context host functions see.
    pub fn ctx(&self) -> &C {
        // SAFETY: ctx lives as long as self and is never mutably borrowed.
        unsafe { &self.ctx.as_ref().ctx }
    }

    /// Parses the module and loads it (memory, globals, data, tables), and
    /// checks the layouts the per-call path relies on.
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
        self.check_runtime_layout()?;
        // SAFETY: the module is loaded; the name is NUL-terminated. The
        // global lives as long as the module, i.e. as long as self.
        let global = unsafe { m3::m3_FindGlobal(module, fuel::EXPORT_CNAME.as_ptr()) };
        if let Some(global) = NonNull::new(global) {
            let value = fuel_value(global)?;
            self.fuel = Some(value);
            // SAFETY: ctx lives as long as self; a Cell, set between calls.
            unsafe { self.ctx.as_ref() }.fuel.set(Some(value));
        }
        Ok(())
    }

    /// The runtime's user data and memory as the bindings place them must
    /// be what wasm3's accessors return.
    fn check_runtime_layout(&self) -> Result<(), M3Error> {
        let rt = self.runtime.as_ptr();
        let mut len = 0u32;
        // SAFETY: the runtime is live and loaded (it has a memory header);
        // the fields are read through the layout bindgen took from
        // wasm3's m3_env.h, compiled with the same configuration.
        let same = unsafe {
            let direct = &*rt.cast::<m3i::M3Runtime>();
            let data = m3::m3_GetMemory(rt, &mut len, 0);
            direct.userdata == m3::m3_GetUserData(rt)
                && !direct.memory.mallocated.is_null()
                && (*direct.memory.mallocated).length == len as usize
                && (len == 0 || data == direct.memory.mallocated.add(1).cast())
                && !direct.stack.is_null()
        };
        if same {
            Ok(())
        } else {
            Err(layout_mismatch())
        }
    }

    /// Sets the fuel global (the budget of the next call).
    pub fn set_fuel(&mut self, fuel: i64) -> Result<(), M3Error> {
        let value = self.fuel.ok_or(m3_err!(m3Err_globalLookupFailed))?;
        // SAFETY: the global's value belongs to this runtime's module (see
        // fuel_value); no call is running (&mut self).
        unsafe { value.as_ptr().write(fuel) };
        Ok(())
    }

    /// The fuel global now: what is left of the budget, below zero when
    /// the program ran out; `None` for a module without one.
    pub fn fuel_left(&self) -> Option<i64> {
        // SAFETY: as in set_fuel; reading between calls.
        self.fuel.map(|value| unsafe { value.as_ptr().read() })
    }

    fn module(&self) -> Result<NonNull<m3::M3Module>, M3Error> {
        self.module.ok_or(m3_err!(m3Err_moduleNotLinked))
    }

    /// Links every import named `func.module`.`func.name` to `func`.
    pub fn link(&mut self, func: &'static HostFn<C>) -> Result<(), M3Error> {
        let module = self.module()?;
        // SAFETY: strings are NUL-terminated statics, the user data is a
        // &'static HostFn<C> as trampoline::<C> expects.
        M3Error::check(unsafe {
            m3::m3_LinkRawFunctionEx(
                module.as_ptr(),
                func.module.as_ptr(),
                func.name.as_ptr(),
                func.signature.as_ptr(),
                Some(trampoline::<C>),
                ptr::from_ref(func).cast(),
            )
        })
    }

    /// Compiles every function now, so that calls never compile.
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

    /// Whether this runtime runs the module in `wasm` (the same bytes).
    pub fn runs(&self, wasm: &Arc<Vec<u8>>) -> bool {
        Arc::ptr_eq(&self.wasm, wasm)
    }

    /// Looks up an exported function for later calls (through
    /// `instance::find`, which knows what the host charges for it).
    pub(super) fn find(&mut self, name: &CStr) -> Result<FuncId, M3Error> {
        let mut func = ptr::null_mut();
        // SAFETY: name is NUL-terminated; the runtime is live.
        M3Error::check(unsafe {
            m3::m3_FindFunction(&mut func, self.runtime.as_ptr(), name.as_ptr())
        })?;
        let func = NonNull::new(func).ok_or(m3_err!(m3Err_functionLookupFailed))?;
        self.funcs.push(func);
        Ok(FuncId(self.funcs.len() - 1))
    }

    fn func(&self, f: FuncId) -> Result<NonNull<m3::M3Function>, M3Error> {
        self.funcs
            .get(f.0)
            .copied()
            .ok_or(m3_err!(m3Err_functionLookupFailed))
    }

    /// Calls `f`, a function of one i32 result whose parameter types are
    /// those of `args` (the caller checked them when the module was
    /// validated), and returns its result: one call into wasm3, the result
    /// read from the value stack.
    pub fn call(&mut self, f: FuncId, args: &[Arg]) -> Result<i32, M3Error> {
        let func = self.func(f)?;
        let mut argv: [*const c_void; 2] = [ptr::null(); 2];
        for (slot, arg) in argv.iter_mut().zip(args) {
            *slot = match arg {
                Arg::I32(v) => ptr::from_ref(v).cast(),
                Arg::I64(v) => ptr::from_ref(v).cast(),
            };
        }
        let argc = args.len().min(argv.len()) as u32;
        // SAFETY: func belongs to this runtime; argv points to argc values
        // of the function's parameter types, alive across the call; wasm3
        // checks argc against the function type.
        M3Error::check(unsafe { m3::m3_Call(func.as_ptr(), argc, argv.as_mut_ptr()) })?;
        // SAFETY: the call returned, so wasm3 left the function's results
        // at the base of the value stack (m3_GetResults reads them there),
        // the first an i32; the stack lives as long as the runtime and was
        // checked non-null at load.
        Ok(unsafe {
            let direct = &*self.runtime.as_ptr().cast::<m3i::M3Runtime>();
            direct.stack.cast::<i32>().read()
        })
    }

    /// [`Runtime::call`] made by `scope`, which sees the context first, e.g.
    /// to make a packet current for the host functions while the call runs.
    pub fn call_in<R>(
        &mut self,
        f: FuncId,
        args: &[Arg],
        scope: impl FnOnce(&C, &mut dyn FnMut() -> Result<i32, M3Error>) -> R,
    ) -> R {
        // SAFETY: ctx is its own allocation, freed only when self drops,
        // which cannot happen while self is borrowed for this call; scope
        // reaches the runtime only through `call`.
        let ctx = unsafe { &self.ctx.as_ref().ctx };
        scope(ctx, &mut || self.call(f, args))
    }

    /// The parameter and result types of `f`, in wasm3's numbering
    /// (`c_m3Type_*`).
    pub fn func_type(&self, f: FuncId) -> Result<(Vec<u32>, Vec<u32>), M3Error> {
        let func = self.func(f)?.as_ptr();
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
        let func = self.func(f)?;
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

    /// The linear memory, empty when there is none; valid until the next
    /// call (which needs &mut self), which may grow and move it.
    pub fn memory_mut(&mut self) -> &mut [u8] {
        // SAFETY: the runtime is live and loaded: its memory header was
        // checked at load; its data follows the header and is `length`
        // bytes long; no call is running (&mut self).
        unsafe {
            let header = (*self.runtime.as_ptr().cast::<m3i::M3Runtime>())
                .memory
                .mallocated;
            let len = (*header).length;
            if len == 0 {
                &mut []
            } else {
                core::slice::from_raw_parts_mut(header.add(1).cast::<u8>(), len)
            }
        }
    }

    /// Bytes of linear memory now.
    pub fn memory_size(&self) -> u32 {
        // SAFETY: as in memory_mut; only the length is read.
        unsafe {
            let header = (*self.runtime.as_ptr().cast::<m3i::M3Runtime>())
                .memory
                .mallocated;
            (*header).length as u32
        }
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

impl<C: 'static> Drop for Runtime<C> {
    fn drop(&mut self) {
        // SAFETY: the runtime frees the module loaded into it; nothing
        // refers to ctx once the runtime is gone, and it came from Box.
        unsafe {
            m3::m3_FreeRuntime(self.runtime.as_ptr());
            drop(Box::from_raw(self.ctx.as_ptr()));
        }
    }
}

/// Where the value of the fuel global lives, checked against wasm3's
/// accessors: a value set through one must read back through the other.
fn fuel_value(global: NonNull<m3::M3Global>) -> Result<NonNull<i64>, M3Error> {
    let g = global.as_ptr();
    // SAFETY: g is a live global of a loaded module; the bindings' layout of
    // M3Global comes from wasm3's m3_env.h; the value is written through
    // both ways before it is trusted.
    unsafe {
        let value = ptr::addr_of_mut!((*g.cast::<m3i::M3Global>()).__bindgen_anon_1.i64Value);
        let mut tagged = m3::M3TaggedValue {
            type_: m3::c_m3Type_i64,
            value: m3::M3TaggedValue_M3ValueUnion {
                i64_: 0x1234_5678_9abc_def0,
            },
        };
        M3Error::check(m3::m3_SetGlobal(g, &mut tagged))?;
        let set_ok = value.read() == 0x1234_5678_9abc_def0;
        value.write(-7);
        let mut back = m3::M3TaggedValue::default();
        M3Error::check(m3::m3_GetGlobal(g, &mut back))?;
        if set_ok && back.type_ == m3::c_m3Type_i64 && back.value.i64_ as i64 == -7 {
            NonNull::new(value).ok_or_else(layout_mismatch)
        } else {
            Err(layout_mismatch())
        }
    }
}

/// wasm3's view of every host function: `_ctx->userdata` is the table
/// entry, the runtime's user data is its context `C`, `sp` holds the
/// result slot (if any) followed by one 64-bit slot per argument.
unsafe extern "C" fn trampoline<C: 'static>(
    runtime: m3::IM3Runtime,
    ctx: m3::IM3ImportContext,
    sp: *mut u64,
    mem: *mut c_void,
) -> *const c_void {
    // SAFETY: wasm3 passes its import context, and the user data given to
    // m3_LinkRawFunctionEx, which is a &'static HostFn<C> (Runtime::link).
    let func = unsafe { &*(*ctx).userdata.cast::<HostFn<C>>() };
    // SAFETY: the runtime's user data is its C (Runtime::new), which
    // outlives every call into the runtime; read through the layout
    // checked at load (m3_GetUserData returns this field).
    let host = unsafe {
        &*(*runtime.cast::<m3i::M3Runtime>())
            .userdata
            .cast::<UserData<C>>()
    };
    let results = usize::from(func.returns);
    // SAFETY: the validator checked the import's type against func, so
    // wasm3 reserved results + params slots at sp.
    let slots = unsafe { core::slice::from_raw_parts_mut(sp, results + func.params) };
    // SAFETY: mem is the data of the runtime's linear memory, which follows
    // its header (m3MemData); the header says how long it is; nothing else
    // refers to it while the program waits for this call.
    let memory = unsafe {
        let len = if mem.is_null() {
            0
        } else {
            (*mem.cast::<m3i::M3MemoryHeader>().sub(1)).length
        };
        if len == 0 {
            &mut []
        } else {
            core::slice::from_raw_parts_mut(mem.cast::<u8>(), len)
        }
    };

    let (ret, args) = slots.split_at_mut(results);
    // SAFETY: the fuel global's value belongs to this runtime's module
    // (fuel_value); wasm3 keeps it in memory, not in a register, and does
    // not touch it while the program waits for this call.
    let fuel = host
        .fuel
        .get()
        .map(|value| Cell::from_mut(unsafe { &mut *value.as_ptr() }));
    let mut call = Call::new(args, memory, &host.ctx, fuel);
    match (func.call)(&mut call) {
        Ok(value) => {
            if let Some(slot) = ret.first_mut() {
                *slot = u64::from(value as u32);
            }
            ptr::null()
        }
        Err(_) => HOST_TRAP.as_ptr().cast(),
    }
}
