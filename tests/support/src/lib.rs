// SPDX-License-Identifier: GPL-2.0
//! What kwasm's tests share.
//!
//! - [`packet`]: IPv4 packets (TCP, UDP, ICMP) from the IPv4 header on, as
//!   the core and test-run see them, built with etherparse.
//! - [`capi`] (feature `core`): the core's C interface
//!   (include/kwasm_core.h) run in this process as the shim runs it, against
//!   the host services of core/host/services.c: loading, running, freeing,
//!   and checks of what the interface promises.
//!
//! Used by core/tests, fuzz/ and tests/hostile (packets only: VM tools do
//! not link the core).

#[cfg(feature = "core")]
pub mod capi;
pub mod packet;

/// The example `name` as `make -C wasm` built it (wasm/build/NAME.wasm).
/// `None`, saying so, when it is not built, so that `cargo test` works in a
/// fresh clone; with `KWASM_REQUIRE_EXAMPLES` set (`make check` builds the
/// examples first and sets it) a missing example fails the test instead of
/// skipping it.
pub fn built_example(name: &str) -> Option<Vec<u8>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(format!("wasm/build/{name}.wasm"));
    match std::fs::read(&path) {
        Ok(wasm) => Some(wasm),
        Err(e) if std::env::var_os("KWASM_REQUIRE_EXAMPLES").is_some() => {
            panic!("{name}: {}: {e} (make -C wasm)", path.display())
        }
        Err(_) => {
            eprintln!("{name}: not built (make -C wasm), skipped");
            None
        }
    }
}
