//! What a `#![no_std]` crate needs inside the kernel: a global allocator on
//! the shim's kmalloc-backed services and a panic handler.
//!
//! The kernel build uses `-Cpanic=immediate-abort` (see the top Makefile):
//! a panic is then a `ud2` at the panic site, which the kernel reports like
//! `BUG()` with the exact location, and the handler below is not reached. It
//! stays for builds without that flag, and because the language requires one.

use core::alloc::{GlobalAlloc, Layout};
use core::fmt::Write;
use core::panic::PanicInfo;

use super::services::{self, Level};
use super::sys::kwasm as k;
use crate::util::fmtbuf::FmtBuf;

/// kmalloc aligns every object to at least this; vmalloc to a page.
const MIN_ALIGN: usize = 8;

struct KernelAlloc;

impl KernelAlloc {
    /// Larger alignments: over-allocate, align inside, and keep the pointer
    /// kmalloc returned just below the aligned block.
    fn alloc_aligned(layout: Layout, zero: bool) -> *mut u8 {
        let Some(size) = layout.size().checked_add(layout.align()) else {
            return core::ptr::null_mut();
        };
        // SAFETY: plain allocation call; a null return is handled below.
        let raw = unsafe { k::kwasm_alloc_core(size, zero) }.cast::<u8>();
        if raw.is_null() {
            return raw;
        }
        // At least MIN_ALIGN bytes lie between raw and the aligned block,
        // which ends inside the allocation: raw + size >= aligned + layout.size().
        let offset = layout.align() - (raw as usize & (layout.align() - 1));
        // SAFETY: offset <= align, so the aligned block and the slot below
        // it (offset >= MIN_ALIGN as raw is MIN_ALIGN-aligned) are inside.
        unsafe {
            let aligned = raw.add(offset);
            aligned.cast::<*mut u8>().sub(1).write(raw);
            aligned
        }
    }
}

// SAFETY: memory comes from kmalloc/kvmalloc, aligned as Layout asks (see
// alloc_aligned), and is returned to kvfree exactly once.
unsafe impl GlobalAlloc for KernelAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MIN_ALIGN {
            // SAFETY: plain allocation call.
            unsafe { k::kwasm_alloc_core(layout.size(), false).cast() }
        } else {
            Self::alloc_aligned(layout, false)
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MIN_ALIGN {
            // SAFETY: plain allocation call.
            unsafe { k::kwasm_alloc_core(layout.size(), true).cast() }
        } else {
            Self::alloc_aligned(layout, true)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let raw = if layout.align() <= MIN_ALIGN {
            ptr
        } else {
            // SAFETY: alloc_aligned stored the original pointer there.
            unsafe { ptr.cast::<*mut u8>().sub(1).read() }
        };
        // SAFETY: raw came from kwasm_alloc_core.
        unsafe { k::kwasm_free(raw.cast()) }
    }
}

#[global_allocator]
static ALLOCATOR: KernelAlloc = KernelAlloc;

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    let mut msg = FmtBuf::<192>::new();
    let _ = write!(msg, "BUG: Rust core panicked: {info}");
    services::log(Level::Err, msg.as_bytes());
    // SAFETY: ud2 raises an invalid-opcode exception, which the kernel
    // reports like BUG(); control never comes back here.
    unsafe { core::arch::asm!("ud2", options(noreturn)) }
}
