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
