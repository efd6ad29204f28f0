//! A UDP traffic generator: keeps packets flowing through the netfilter hook
//! while a test unloads or replaces the program, or removes the module; and,
//! paced at an offered rate, measures what an echo server received of it.

use crate::{daemon, echo};
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

/// How long a paced sender sleeps at least between bursts: it sends a
/// burst of what fell due, then sleeps until the next burst is due.
const TICK: Duration = Duration::from_millis(1);

/// How long to wait for the echo server's count before and after a paced
/// flood.
const COUNT_TIMEOUT: Duration = Duration::from_secs(3);

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

/// How many packets are due `elapsed` after the start at `rate` per second.
fn due(elapsed: Duration, rate: u64) -> u64 {
    u64::try_from(elapsed.as_nanos() * u128::from(rate) / 1_000_000_000).unwrap_or(u64::MAX)
}

/// Paces sending at an offered rate against the monotonic clock: sends
/// whatever is due at once, then sleeps for at least [`TICK`]. A sender that
/// falls behind (the receiving side takes the CPU) sends without sleeping
/// until it has caught up, so that the rate offered is the rate asked for
/// as long as the sender can make it.
struct Pacer {
    rate: u64,
    start: Instant,
    /// Packets that may go before the clock is read again.
    allowed: u64,
    /// Packets per burst: a tick's worth, at least one.
    burst: u64,
}

impl Pacer {
    fn new(rate: u64, start: Instant) -> Self {
        Pacer {
            rate,
            start,
            allowed: 0,
            burst: due(TICK, rate).max(1),
        }
    }

    /// Returns when the packet after `attempted` ones is due.
    fn wait(&mut self, attempted: u64) {
        while attempted >= self.allowed {
            self.allowed = due(self.start.elapsed(), self.rate);
            if attempted < self.allowed {
                break;
            }
            // Sleep until a burst is due.
            let next = (attempted + self.burst) as f64 / self.rate as f64;
            let wake = self.start + Duration::from_secs_f64(next);
            thread::sleep(wake.saturating_duration_since(Instant::now()));
        }
    }
}

/// What a flood did.
struct Report {
    sent: u64,
    errors: u64,
    elapsed: Duration,
    /// Datagrams the echo server received during the flood, when asked
    /// (paced floods) and it answered.
    delivered: Option<u64>,
}

/// per_second(n, d): n per second over d.
fn per_second(n: u64, elapsed: Duration) -> u64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        (n as f64 / secs).round() as u64
    } else {
        0
    }
}

fn run(
    socket: &UdpSocket,
    addr: SocketAddr,
    limit: Limit,
    size: usize,
    rate: Option<u64>,
) -> Report {
    // A paced flood measures delivery: the echo server's count before and
    // after (the answer after includes whatever was still queued).
    let before = rate.and_then(|_| echo::udp_server_count(addr, COUNT_TIMEOUT));
    let packet = vec![0x6b; size];
    let start = Instant::now();
    let mut pacer = rate.map(|rate| Pacer::new(rate, start));
    let (mut sent, mut errors) = (0u64, 0u64);
    while !limit.reached(sent, start) {
        if let Some(pacer) = pacer.as_mut() {
            pacer.wait(sent + errors);
        }
        match socket.send_to(&packet, addr) {
            Ok(_) => sent += 1,
            Err(_) => errors += 1,
        }
    }
    let elapsed = start.elapsed();
    let delivered = before.and_then(|before| {
        echo::udp_server_count(addr, COUNT_TIMEOUT).map(|after| after.saturating_sub(before))
    });
    Report {
        sent,
        errors,
        elapsed,
        delivered,
    }
}

/// Sends `size`-byte datagrams to `addr`, as fast as it can or at `rate`
/// packets per second. Send errors (EPERM from a drop in LOCAL_OUT,
/// ENOBUFS) are counted, not fatal. Succeeds when at least one packet went
/// out.
///
/// The last line it prints: "flood ADDR: sent N packets, E errors in T"; a
/// paced flood adds "; offered_pps=R sent_pps=S delivered=D delivered_pps=P",
/// where D is what the nettool echo server at ADDR received meanwhile ("-"
/// when it did not answer) and the rates are over the time spent sending.
pub fn udp(
    addr: SocketAddr,
    from: SocketAddr,
    limit: Limit,
    size: usize,
    rate: Option<u64>,
) -> ExitCode {
    // Unconnected, so that ICMP port unreachable replies do not turn into
    // ECONNREFUSED on the next send; bound to `from`.
    let socket = match UdpSocket::bind(from) {
        Ok(socket) => socket,
        Err(e) => {
            daemon::warn(&format!("flood: cannot open a udp socket: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match rate {
        Some(rate) => daemon::ready(&format!("flooding {addr} with udp at {rate} packets/s")),
        None => daemon::ready(&format!("flooding {addr} with udp")),
    }
    let report = run(&socket, addr, limit, size, rate);
    let mut line = format!(
        "flood {addr}: sent {} packets, {} errors in {:.1?}",
        report.sent, report.errors, report.elapsed
    );
    if let Some(rate) = rate {
        let (delivered, delivered_pps) = match report.delivered {
            Some(n) => (n.to_string(), per_second(n, report.elapsed).to_string()),
            None => ("-".into(), "-".into()),
        };
        line += &format!(
            "; offered_pps={rate} sent_pps={} delivered={delivered} delivered_pps={delivered_pps}",
            per_second(report.sent, report.elapsed)
        );
    }
    daemon::say(&line);
    if report.sent > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_counts_whole_packets() {
        assert_eq!(due(Duration::ZERO, 1000), 0);
        assert_eq!(due(Duration::from_micros(999), 1000), 0);
        assert_eq!(due(Duration::from_millis(1), 1000), 1);
        assert_eq!(due(Duration::from_secs(2), 1_000_000), 2_000_000);
        assert_eq!(due(TICK, 10).max(1), 1);
    }

    #[test]
    fn paced_flood_keeps_to_the_rate_and_counts_delivery() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        thread::spawn(move || echo::serve_udp(&server));
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let limit = Limit::Time(Duration::from_millis(500));
        let report = run(&socket, addr, limit, 64, Some(2000));
        // 1000 due in 0.5 s; a loaded test machine may lag a little.
        assert!((900..=1002).contains(&report.sent), "sent {}", report.sent);
        let delivered = report.delivered.expect("the sink answers");
        assert!(delivered <= report.sent && delivered > 0);
        assert!(per_second(report.sent, report.elapsed) <= 2010);
    }

    #[test]
    fn unpaced_flood_does_not_ask_for_a_count() {
        let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let report = run(
            &socket,
            sink.local_addr().unwrap(),
            Limit::Count(10),
            8,
            None,
        );
        assert_eq!(report.sent, 10);
        assert!(report.delivered.is_none());
    }
}
