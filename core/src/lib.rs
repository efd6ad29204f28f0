//! kwasm core: validates WebAssembly programs and runs them with wasm3,
//! once per packet, for the C shim of the kwasm kernel module.
//!
//! The shim sees only the `kwasm_core_*` functions of `include/kwasm_core.h`
//! (module [`exports`]); the core calls back into the shim for kernel
//! services (module [`services`]). `unsafe` code lives in the FFI modules
//! `sys`, `services`, `m3`, `hostcall`, `trylock`, `exports` and `kernel`.
#![no_std]

extern crate alloc;
// Host builds (`cargo test`) get their allocator and panic handler from std.
#[cfg(not(target_os = "none"))]
extern crate std;

pub mod abi;
pub mod exports;
mod fmtbuf;
pub mod fuel;
mod hostcall;
mod hostfns;
mod invoke;
#[cfg(target_os = "none")]
mod kernel;
mod limits;
mod load;
mod options;
mod m3;
mod packet;
mod prog;
mod record;
mod services;
mod stats;
pub mod sys;
mod trap;
mod trylock;
mod validate;

pub use exports::*;
