//! A UDP traffic generator: keeps packets flowing through the netfilter hook
//! while a test unloads or replaces the program, or removes the module.

use crate::daemon;
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// When to stop.
pub enum Limit {
    Time(Duration),
    Count(u64),
    Forever,
}

impl Limit {
    fn reached(&self, sent: u64, start: Instant) -> bool {
        match *self {
            Limit::Time(d) => start.elapsed() >= d,
            Limit::Count(n) => sent >= n,
            Limit::Forever => false,
        }
    }
}

/// Sends `size`-byte datagrams to `addr` as fast as it can. Send errors
/// (EPERM from a drop in LOCAL_OUT, ENOBUFS) are counted, not fatal.
/// Succeeds when at least one packet went out.
pub fn udp(addr: SocketAddr, limit: Limit, size: usize) -> ExitCode {
    // Unconnected, so that ICMP port unreachable replies do not turn into
    // ECONNREFUSED on the next send.
    let socket = match UdpSocket::bind(crate::wildcard(addr)) {
        Ok(socket) => socket,
        Err(e) => {
            daemon::warn(&format!("flood: cannot open a udp socket: {e}"));
            return ExitCode::FAILURE;
        }
    };
    daemon::ready(&format!("flooding {addr} with udp"));
    let packet = vec![0x6b; size];
    let start = Instant::now();
    let (mut sent, mut errors) = (0u64, 0u64);
    while !limit.reached(sent, start) {
        match socket.send_to(&packet, addr) {
            Ok(_) => sent += 1,
            Err(_) => errors += 1,
        }
    }
    daemon::say(&format!(
        "flood {addr}: sent {sent} packets, {errors} errors in {:.1?}",
        start.elapsed()
    ));
    if sent > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
