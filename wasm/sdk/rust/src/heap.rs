// SPDX-License-Identifier: MIT OR Apache-2.0
//! Memory for the packet record, handed out once per instance at load.

use core::arch::wasm32;
use core::sync::atomic::{AtomicUsize, Ordering};

const PAGE: usize = 65536;

unsafe extern "C" {
    /// First byte after the data and the stack, placed by wasm-ld.
    static __heap_base: u8;
}

/// Next free address; 0 until the first call.
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Returns `size` bytes past the program's data and stack, growing linear
/// memory when needed, or null when it cannot grow.
pub fn alloc(size: u32) -> *mut u8 {
    let next = match NEXT.load(Ordering::Relaxed) {
        0 => &raw const __heap_base as usize,
        n => n,
    };
    let start = (next + 7) & !7;
    let Some(end) = start.checked_add(size as usize) else {
        return core::ptr::null_mut();
    };
    let have = wasm32::memory_size::<0>() * PAGE;
    if end > have && wasm32::memory_grow::<0>((end - have).div_ceil(PAGE)) == usize::MAX {
        return core::ptr::null_mut();
    }
    NEXT.store(end, Ordering::Relaxed);
    start as *mut u8
}
