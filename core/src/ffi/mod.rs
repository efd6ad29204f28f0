//! The edge of the core: the bindings (wasm3, the shim interface), the
//! kernel services the shim offers, the `kwasm_core_*` functions it calls,
//! and what a no_std crate needs in the kernel (allocator, panic handler).
//!
//! [`sys`] and [`services`] sit below the engine; [`exports`] on top of
//! everything.

pub mod events;
pub mod exports;
#[cfg(target_os = "none")]
mod kernel;
pub mod services;
pub mod sys;
