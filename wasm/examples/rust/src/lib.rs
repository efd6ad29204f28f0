// SPDX-License-Identifier: MIT OR Apache-2.0
//! rust_drop_port: drops TCP and UDP packets to port 23557, over IPv4 and
//! IPv6, and logs the first drop and every 100th after it, e.g.
//!
//! ```text
//! kwasm: rust_drop_port: drop #1: tcp 10.0.0.1:40812 -> 127.0.0.1:23557
//! kwasm: rust_drop_port: drop #2: udp [::1]:40813 -> [::1]:23557
//! ```
//!
//! It reads the packet record the kernel writes into the program's memory,
//! version 3 (with the IPv6 addresses), so it may be loaded for either
//! family or both (`kwasmctl load rust_drop_port.wasm --family inet`).
//! Each CPU runs its own instance, so the count is per CPU.
#![no_std]

use core::sync::atomic::{AtomicU32, Ordering};

use kwasm_sdk::{kwasm_filter, log, proto, Record, Verdict};

/// The port the original project's echo test uses.
const PORT: u16 = 23557;
const LOG_EVERY: u32 = 100;

static DROPS: AtomicU32 = AtomicU32::new(0);

fn drop_port(rec: &Record) -> Verdict {
    // The kernel has parsed the header: ports only for TCP and UDP.
    let (Some(sport), Some(PORT)) = (rec.sport(), rec.dport()) else {
        return Verdict::Accept;
    };
    let name = if rec.ip_proto() == proto::TCP {
        "tcp"
    } else {
        "udp"
    };

    let n = DROPS.fetch_add(1, Ordering::Relaxed) + 1;
    if n % LOG_EVERY == 1 {
        // Each family's addresses formatted directly: a SocketAddr's
        // Display nests deeper, past wasm3's native stack budget on a
        // KASAN kernel (whose frames are larger).
        if !rec.is_ipv6() {
            let (src, dst) = (rec.saddr(), rec.daddr());
            log!("drop #{n}: {name} {src}:{sport} -> {dst}:{PORT}");
        } else if let (Some(src), Some(dst)) = (rec.saddr6(), rec.daddr6()) {
            log!("drop #{n}: {name} [{src}]:{sport} -> [{dst}]:{PORT}");
        }
    }
    Verdict::Drop
}

kwasm_filter!(drop_port, record 3);
