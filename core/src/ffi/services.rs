//! Safe wrappers around the kernel services the shim provides
//! (declared in `include/kwasm_core.h`).

use core::ffi::{c_char, CStr};
use core::sync::atomic::AtomicU64;

use super::sys::kwasm as k;

pub use k::kwasm_pkt as Pkt;

/// printk levels the shim understands.
#[cfg(target_os = "none")]
#[derive(Clone, Copy)]
pub enum Level {
    Err = 3,
}

/// A kernel log line "kwasm: <msg>" (used by the panic handler).
#[cfg(target_os = "none")]
pub fn log(level: Level, msg: &[u8]) {
    // SAFETY: msg is valid for msg.len() bytes; the shim prints exactly
    // that many and keeps no reference.
    unsafe { k::kwasm_log(level as i32, msg.as_ptr().cast::<c_char>(), msg.len()) }
}

/// Rate-limited program output, prefixed with the program's name.
pub fn log_prog(prog: &CStr, msg: &[u8]) {
    // SAFETY: prog is NUL-terminated, msg is valid for msg.len() bytes.
    unsafe { k::kwasm_log_prog(prog.as_ptr(), msg.as_ptr().cast::<c_char>(), msg.len()) }
}

/// Is enough native stack left below the caller for a run?
pub fn stack_ok() -> bool {
    // SAFETY: no arguments; reads the current stack pointer only.
    unsafe { k::kwasm_stack_ok() }
}

/// Bytes wasm3's heap holds, module-wide (0 on the host).
pub fn heap_bytes() -> u64 {
    // SAFETY: no arguments, reads counters.
    unsafe { k::kwasm_heap_bytes() }
}

/// A rate-limited line about a trap, prefixed with the program's name.
pub fn log_trap(prog: &CStr, msg: &[u8]) {
    // SAFETY: prog is NUL-terminated, msg is valid for msg.len() bytes.
    unsafe { k::kwasm_log_trap(prog.as_ptr(), msg.as_ptr().cast::<c_char>(), msg.len()) }
}

pub fn nr_cpu_ids() -> u32 {
    // SAFETY: no arguments, no side effects.
    unsafe { k::kwasm_nr_cpu_ids() }
}

pub fn cpu_possible(cpu: u32) -> bool {
    // SAFETY: takes any value.
    unsafe { k::kwasm_cpu_possible(cpu) }
}

/// A range of bytes not inside the packet.
#[derive(Debug)]
pub struct OutsidePacket;

/// Copies `dst.len()` bytes of `pkt` from `off` on; `Err` when that range
/// is not inside the packet (or the length does not fit in a u32).
pub fn pkt_copy(pkt: &Pkt, off: u32, dst: &mut [u8]) -> Result<(), OutsidePacket> {
    let len = u32::try_from(dst.len()).map_err(|_| OutsidePacket)?;
    // SAFETY: pkt is a valid packet descriptor for the duration of the
    // call (the caller holds it), dst is writable for len bytes.
    let rc = unsafe { k::kwasm_pkt_copy(pkt, off, dst.as_mut_ptr().cast(), len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(OutsidePacket)
    }
}

/// Zeroed 8-byte words from `kwasm_zalloc()`: an allocation that may fail
/// (never `__GFP_NOFAIL`) and that the shim counts in `alloc_bytes`, freed
/// when dropped. Maps keep their storage in these and reach it through
/// atomics and indices, never pointers (docs/ARCHITECTURE.md).
pub struct Words {
    ptr: core::ptr::NonNull<AtomicU64>,
    len: usize,
}

// SAFETY: the words are owned by this value and only reached through
// `&[AtomicU64]`, which may be shared and sent between threads.
unsafe impl Send for Words {}
// SAFETY: as above.
unsafe impl Sync for Words {}

impl Words {
    /// `len` zeroed words; `None` when the memory is not there (or `len`
    /// words do not fit in an address space). No allocation for 0.
    pub fn zeroed(len: usize) -> Option<Self> {
        if len == 0 {
            return Some(Self {
                ptr: core::ptr::NonNull::dangling(),
                len,
            });
        }
        let bytes = len.checked_mul(core::mem::size_of::<AtomicU64>())?;
        // SAFETY: a plain allocation call; the block is 16-byte aligned
        // (kvmalloc() behind a 16-byte header in the kernel, malloc() on
        // the host), more than AtomicU64 needs.
        let raw = unsafe { k::kwasm_zalloc(bytes) };
        let ptr = core::ptr::NonNull::new(raw.cast::<AtomicU64>())?;
        Some(Self { ptr, len })
    }
}

impl core::ops::Deref for Words {
    type Target = [AtomicU64];

    fn deref(&self) -> &[AtomicU64] {
        // SAFETY: ptr is valid, aligned and zero-initialised (a valid
        // AtomicU64) for len words until drop, or dangling with len 0.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Words {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: ptr came from kwasm_zalloc and is freed once.
            unsafe { k::kwasm_free(self.ptr.as_ptr().cast()) }
        }
    }
}

/// A map's lock stripes (`kwasm_locks_new()`): `spinlock_t`s taken with
/// bottom halves off, one lockdep class, never nested; pthread mutexes on
/// the host. Freed when dropped.
pub struct Locks {
    ptr: core::ptr::NonNull<k::kwasm_locks>,
    count: u32,
}

// SAFETY: the stripes are kernel spinlocks (host: mutexes), made to be
// taken from any thread; the handle is owned by this value.
unsafe impl Send for Locks {}
// SAFETY: as above; every method takes &self and the shim serialises.
unsafe impl Sync for Locks {}

/// A held stripe, released when dropped.
pub struct LockGuard<'a> {
    locks: &'a Locks,
    index: u32,
}

impl Locks {
    /// `count` stripes; `None` without memory. Process context.
    pub fn new(count: u32) -> Option<Self> {
        // SAFETY: a plain allocation call; the result is checked.
        let raw = unsafe { k::kwasm_locks_new(count) };
        let ptr = core::ptr::NonNull::new(raw)?;
        Some(Self { ptr, count })
    }

    /// Stripes.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Takes stripe `index`; `None` where waiting is not allowed (hard-IRQ
    /// context, IRQs off) or past the end.
    pub fn lock(&self, index: u32) -> Option<LockGuard<'_>> {
        if index >= self.count {
            return None;
        }
        // SAFETY: ptr is a live kwasm_locks of `count` stripes; the shim
        // checks the index again.
        let taken = unsafe { k::kwasm_lock_bh(self.ptr.as_ptr(), index) };
        taken.then_some(LockGuard { locks: self, index })
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: this guard holds stripe `index` of a live kwasm_locks,
        // taken by this thread (spin_lock_bh pins it to the CPU).
        unsafe { k::kwasm_unlock_bh(self.locks.ptr.as_ptr(), self.index) }
    }
}

impl Drop for Locks {
    fn drop(&mut self) {
        // SAFETY: ptr came from kwasm_locks_new, is freed once, and no
        // guard outlives `self` (guards borrow it).
        unsafe { k::kwasm_locks_free(self.ptr.as_ptr()) }
    }
}

/// Fills `buf` with random bytes (`get_random_bytes()`).
pub fn random_bytes(buf: &mut [u8]) {
    // SAFETY: buf is writable for buf.len() bytes; nothing is kept.
    unsafe { k::kwasm_random_bytes(buf.as_mut_ptr().cast(), buf.len()) }
}

/// Does the caller run on `cpu` with bottom halves off (a program's run),
/// the only one that may write that CPU's per-CPU slots right now?
pub fn cpu_owned(cpu: u32) -> bool {
    // SAFETY: takes any value, reads the context only.
    unsafe { k::kwasm_cpu_owned(cpu) }
}

/// Why [`on_cpu`] did not run its function: a negative errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotRun(pub i32);

/// Runs `f` as `cpu`'s sole writer (on that CPU with bottom halves off, or
/// under the shim's mutex while it is offline) and waits for it. Process
/// context only: `Err(-EBUSY)` elsewhere, `Err(-EINVAL)` for a CPU that is
/// not possible.
pub fn on_cpu<F: FnMut()>(cpu: u32, f: &mut F) -> Result<(), NotRun> {
    extern "C" fn trampoline<F: FnMut()>(arg: *mut core::ffi::c_void) {
        // SAFETY: arg is the `&mut F` passed below, alive and not aliased
        // for the whole kwasm_on_cpu() call, which calls this at most once.
        let f = unsafe { &mut *arg.cast::<F>() };
        f();
    }
    let arg: *mut F = f;
    // SAFETY: the shim calls trampoline::<F>(arg) at most once, before it
    // returns (it waits for the other CPU), while `f` is borrowed here.
    let rc = unsafe { k::kwasm_on_cpu(cpu, Some(trampoline::<F>), arg.cast()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(NotRun(rc))
    }
}

/// `ktime_get_ns()`: CLOCK_MONOTONIC in nanoseconds (host:
/// `clock_gettime(CLOCK_MONOTONIC)`).
pub fn time_ns() -> u64 {
    // SAFETY: no arguments, reads the clock.
    unsafe { k::kwasm_time_ns() }
}

/// An events ring's waker (`kwasm_waker_new()`): an irq_work that wakes
/// the ring's reader, so that a producer in any context takes no
/// wait-queue lock. Freed when dropped, after a queued kick has run.
pub struct Waker {
    ptr: core::ptr::NonNull<k::kwasm_waker>,
}

// SAFETY: kwasm_waker_kick() may be called from any thread and context;
// the handle is owned by this value.
unsafe impl Send for Waker {}
// SAFETY: as above; kick() takes &self.
unsafe impl Sync for Waker {}

impl Waker {
    /// A waker; `None` without memory. Process context.
    pub fn new() -> Option<Self> {
        // SAFETY: a plain allocation call; the result is checked.
        let raw = unsafe { k::kwasm_waker_new() };
        core::ptr::NonNull::new(raw).map(|ptr| Self { ptr })
    }

    /// Wakes the reader sleeping on the waker's wait queue, later, from
    /// the irq_work. Any context.
    pub fn kick(&self) {
        // SAFETY: ptr is a live waker until drop.
        unsafe { k::kwasm_waker_kick(self.ptr.as_ptr()) }
    }

    /// The shim's object, for the reader to sleep on.
    pub fn as_ptr(&self) -> *mut k::kwasm_waker {
        self.ptr.as_ptr()
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        // SAFETY: ptr came from kwasm_waker_new and is freed once; the
        // shim waits for a queued kick first.
        unsafe { k::kwasm_waker_free(self.ptr.as_ptr()) }
    }
}
