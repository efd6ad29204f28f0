//! kwasm core: validates WebAssembly programs and runs them with wasm3,
//! once per packet, for the C shim of the kwasm kernel module.
//!
//! Layers, each using only those below it (docs/ARCHITECTURE.md; checked
//! by scripts/check-layers.sh):
//!
//! - [`ffi::exports`]: the `kwasm_core_*` functions the shim calls;
//! - [`invoke`]: exported functions called by name (the spec-test path);
//! - [`filter`]: the packet filter (options, ABI, host functions, record,
//!   per-CPU instances, verdicts);
//! - [`maps`]: the maps a program declares (declarations, display
//!   formats, memory figures, storage), without WebAssembly or packets;
//! - [`engine`]: WebAssembly without packets (checks, fuel metering, the
//!   wasm3 wrapper, instantiation, traps);
//! - [`ffi::services`], [`ffi::sys`]: the shim's kernel services and the
//!   generated bindings;
//! - [`util`], [`abi`]: helpers, and the ABI's facts generated from
//!   include/uapi/kwasm.h.
//!
//! `unsafe` code lives in the FFI modules `ffi::*` and `engine::wasm3`, and
//! in `util::trylock` (the per-CPU instance lock).
#![no_std]

extern crate alloc;
// Host builds (`cargo test`) get their allocator and panic handler from std.
#[cfg(not(target_os = "none"))]
extern crate std;

pub mod abi;
pub mod engine;
pub mod ffi;
pub mod filter;
pub mod invoke;
pub mod maps;
pub mod util;

// The Rust API of the crate, for host tests, fuzz targets and the spec
// runner's --host mode: the C entry points and the types they take.
pub use engine::fuel;
pub use ffi::exports::*;
pub use ffi::{exports, sys};
