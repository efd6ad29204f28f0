//! TCP and UDP echo servers, and clients that check the echo comes back.

use crate::daemon;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

/// How often a UDP client repeats its datagram while waiting for the echo.
const UDP_RETRY: Duration = Duration::from_millis(200);

/// What a client saw.
pub enum Outcome {
    Echoed { bytes: usize, elapsed: Duration },
    TimedOut,
    Refused,
    Mismatch,
    Failed(io::Error),
}

impl From<io::Error> for Outcome {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            ErrorKind::TimedOut | ErrorKind::WouldBlock => Outcome::TimedOut,
            ErrorKind::ConnectionRefused => Outcome::Refused,
            _ => Outcome::Failed(e),
        }
    }
}

/// Prints what happened; exit 0 only when the echo came back intact.
pub fn report(command: &str, addr: SocketAddr, outcome: Outcome) -> ExitCode {
    match outcome {
        Outcome::Echoed { bytes, elapsed } => {
            println!("{command} {addr}: ok, {bytes} bytes echoed in {elapsed:.1?}");
            return ExitCode::SUCCESS;
        }
        Outcome::TimedOut => println!("{command} {addr}: timeout"),
        Outcome::Refused => println!("{command} {addr}: refused"),
        Outcome::Mismatch => println!("{command} {addr}: echo differs from what was sent"),
        Outcome::Failed(e) => println!("{command} {addr}: failed: {e}"),
    }
    ExitCode::FAILURE
}

fn payload() -> Vec<u8> {
    format!("kwasm nettool echo from pid {}", std::process::id()).into_bytes()
}

fn bind_failed(what: &str, addr: SocketAddr, e: io::Error) -> ExitCode {
    daemon::warn(&format!("cannot bind {what} {addr}: {e}"));
    ExitCode::FAILURE
}

pub fn tcp_server(addr: SocketAddr) -> ExitCode {
    let listener = match TcpListener::bind(addr) {
        Ok(listener) => listener,
        Err(e) => return bind_failed("tcp", addr, e),
    };
    daemon::ready(&format!("tcp echo server listening on {addr}"));
    for conn in listener.incoming() {
        match conn {
            Ok(stream) => {
                thread::spawn(move || {
                    let _ = echo_stream(stream);
                });
            }
            Err(e) => daemon::warn(&format!("tcp echo server {addr}: accept: {e}")),
        }
    }
    ExitCode::SUCCESS
}

fn echo_stream(stream: TcpStream) -> io::Result<u64> {
    let mut reader = stream.try_clone()?;
    let mut writer = stream;
    io::copy(&mut reader, &mut writer)
}

/// A datagram asking the UDP echo server how many datagrams it has received
/// (itself and earlier questions not counted). The answer is
/// [`COUNT_ANSWER`] followed by the number in decimal.
pub const COUNT_QUESTION: &[u8] = b"kwasm nettool: how many datagrams?";
pub const COUNT_ANSWER: &str = "kwasm nettool: datagrams received: ";

pub fn udp_server(addr: SocketAddr, silent: bool) -> ExitCode {
    let socket = match UdpSocket::bind(addr) {
        Ok(socket) => socket,
        Err(e) => return bind_failed("udp", addr, e),
    };
    daemon::ready(&format!("udp echo server listening on {addr}"));
    serve(&socket, !silent)
}

/// Echoes every datagram back to its sender and counts them, answering
/// [`COUNT_QUESTION`] with the count instead of echoing it. A datagram the
/// kernel dropped before it reached the socket (a filter, a full receive
/// buffer) is not counted: the count is what was delivered.
#[cfg(test)]
pub(crate) fn serve_udp(socket: &UdpSocket) -> ExitCode {
    serve(socket, true)
}

/// [`serve_udp`], echoing only when `echo`: a silent server counts what
/// it receives and sends nothing back but the count, so a sender that has
/// gone meets no reply (and its host sends no ICMP error about one).
fn serve(socket: &UdpSocket, echo: bool) -> ExitCode {
    let addr = socket
        .local_addr()
        .map_or_else(|e| e.to_string(), |a| a.to_string());
    let mut received = 0u64;
    let mut buf = [0u8; 65536];
    loop {
        match socket.recv_from(&mut buf) {
            Ok((n, peer)) => {
                let reply = if &buf[..n] == COUNT_QUESTION {
                    socket.send_to(format!("{COUNT_ANSWER}{received}").as_bytes(), peer)
                } else {
                    received += 1;
                    if !echo {
                        continue;
                    }
                    socket.send_to(&buf[..n], peer)
                };
                if let Err(e) = reply {
                    daemon::warn(&format!("udp echo server {addr}: send to {peer}: {e}"));
                }
            }
            Err(e) => daemon::warn(&format!("udp echo server {addr}: receive: {e}")),
        }
    }
}

/// Asks the nettool UDP echo server at `addr` how many datagrams it has
/// received, repeating the question until `timeout`: `None` when no answer
/// came (no server, or not a nettool one). The server answers in the order
/// datagrams reached its socket, so the count includes every datagram queued
/// before the question.
pub fn udp_server_count(addr: SocketAddr, timeout: Duration) -> Option<u64> {
    let deadline = Instant::now() + timeout;
    let socket = UdpSocket::bind(crate::wildcard(addr)).ok()?;
    socket.connect(addr).ok()?;
    let mut buf = [0u8; 128];
    while let Some(remaining) = left(deadline) {
        // An error (a refused port, a drop in LOCAL_OUT) may pass: retry.
        let _ = socket.send(COUNT_QUESTION);
        socket
            .set_read_timeout(Some(remaining.min(UDP_RETRY)))
            .ok()?;
        if let Ok(n) = socket.recv(&mut buf) {
            let answer = std::str::from_utf8(&buf[..n]).ok()?;
            return answer.strip_prefix(COUNT_ANSWER)?.parse().ok();
        }
        // Wait out the retry interval when the error came at once.
        if let Some(rest) = left(deadline) {
            thread::sleep(rest.min(UDP_RETRY / 4));
        }
    }
    None
}

fn left(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

/// A TCP connection to `addr` from `from` (bound first; port 0 is any),
/// waiting at most `timeout` for the handshake.
fn tcp_connect(addr: SocketAddr, from: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    if from.ip().is_unspecified() && from.port() == 0 {
        return TcpStream::connect_timeout(&addr, timeout);
    }
    crate::sock::connect_from(addr, from, timeout)
}

pub fn tcp_client(addr: SocketAddr, from: SocketAddr, timeout: Duration) -> Outcome {
    let start = Instant::now();
    let deadline = start + timeout;
    let exchange = || -> io::Result<Outcome> {
        let mut stream = tcp_connect(addr, from, timeout)?;
        let sent = payload();
        let remaining = left(deadline).ok_or(ErrorKind::TimedOut)?;
        stream.set_write_timeout(Some(remaining))?;
        stream.set_read_timeout(Some(remaining))?;
        stream.write_all(&sent)?;
        let mut echoed = vec![0; sent.len()];
        stream.read_exact(&mut echoed)?;
        Ok(if echoed == sent {
            Outcome::Echoed {
                bytes: sent.len(),
                elapsed: start.elapsed(),
            }
        } else {
            Outcome::Mismatch
        })
    };
    exchange().unwrap_or_else(Outcome::from)
}

/// A UDP echo of `addr` from `from`; each datagram sent carries the IPv6
/// destination options header `dstopts` when given.
pub fn udp_client(
    addr: SocketAddr,
    from: SocketAddr,
    timeout: Duration,
    dstopts: Option<&[u8]>,
) -> Outcome {
    let start = Instant::now();
    let deadline = start + timeout;
    let exchange = || -> io::Result<Outcome> {
        let socket = UdpSocket::bind(from)?;
        if let Some(header) = dstopts {
            crate::sock::set_dstopts(socket.as_raw_fd(), header)?;
        }
        socket.connect(addr)?;
        let sent = payload();
        let mut buf = [0u8; 2048];
        // Datagrams may be lost: repeat until the echo or the deadline.
        while let Some(remaining) = left(deadline) {
            socket.send(&sent)?;
            socket.set_read_timeout(Some(remaining.min(UDP_RETRY)))?;
            match socket.recv(&mut buf) {
                Ok(n) if buf[..n] == sent[..] => {
                    return Ok(Outcome::Echoed {
                        bytes: n,
                        elapsed: start.elapsed(),
                    })
                }
                Ok(_) => return Ok(Outcome::Mismatch),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Outcome::TimedOut)
    };
    exchange().unwrap_or_else(Outcome::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_echo_round_trip() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || echo_stream(listener.accept().unwrap().0));
        let outcome = tcp_client(addr, crate::wildcard(addr), Duration::from_secs(5));
        assert!(matches!(outcome, Outcome::Echoed { .. }));
    }

    #[test]
    fn tcp_echo_from_a_source_address() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let (stream, peer) = listener.accept().unwrap();
            tx.send(peer).unwrap();
            echo_stream(stream)
        });
        let from = "127.0.0.2:0".parse().unwrap();
        let outcome = tcp_client(addr, from, Duration::from_secs(5));
        assert!(matches!(outcome, Outcome::Echoed { .. }));
        assert_eq!(rx.recv().unwrap().ip().to_string(), "127.0.0.2");
    }

    #[test]
    fn udp_echo_from_a_source_address() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let (n, peer) = server.recv_from(&mut buf).unwrap();
            tx.send(peer).unwrap();
            server.send_to(&buf[..n], peer).unwrap();
        });
        let from = "127.0.0.2:0".parse().unwrap();
        let outcome = udp_client(addr, from, Duration::from_secs(5), None);
        assert!(matches!(outcome, Outcome::Echoed { .. }));
        assert_eq!(rx.recv().unwrap().ip().to_string(), "127.0.0.2");
    }

    /// Loopback's IPv6 address, when this host has one (some containers
    /// and build machines have no IPv6): the IPv6 tests skip without it.
    fn ipv6_loopback() -> Option<SocketAddr> {
        let probe = UdpSocket::bind("[::1]:0").ok()?;
        probe.local_addr().ok()
    }

    #[test]
    fn ipv6_echoes() {
        if ipv6_loopback().is_none() {
            eprintln!("no IPv6 loopback: skipped");
            return;
        }
        let listener = TcpListener::bind("[::1]:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || echo_stream(listener.accept().unwrap().0));
        // From a given address: bound before connecting (sock.rs).
        let from = "[::1]:0".parse().unwrap();
        let outcome = tcp_client(addr, from, Duration::from_secs(5));
        assert!(matches!(outcome, Outcome::Echoed { .. }));

        let server = UdpSocket::bind("[::1]:0").unwrap();
        let addr = server.local_addr().unwrap();
        thread::spawn(move || serve_udp(&server));
        let outcome = udp_client(addr, from, Duration::from_secs(5), None);
        assert!(matches!(outcome, Outcome::Echoed { .. }));
    }

    #[test]
    fn ipv6_destination_options() {
        if ipv6_loopback().is_none() {
            eprintln!("no IPv6 loopback: skipped");
            return;
        }
        let server = UdpSocket::bind("[::1]:0").unwrap();
        let addr = server.local_addr().unwrap();
        thread::spawn(move || serve_udp(&server));
        let header = crate::sock::dstopts_header(16).unwrap();
        let outcome = udp_client(
            addr,
            crate::wildcard(addr),
            Duration::from_secs(5),
            Some(&header),
        );
        match outcome {
            Outcome::Echoed { .. } => {}
            // Without CAP_NET_RAW the kernel refuses the option.
            Outcome::Failed(e) if e.kind() == ErrorKind::PermissionDenied => {
                eprintln!("IPV6_DSTOPTS needs CAP_NET_RAW: skipped")
            }
            Outcome::Failed(e) => panic!("no echo with destination options: {e}"),
            _ => panic!("no echo with destination options"),
        }
    }

    #[test]
    fn tcp_echo_refused() {
        // Bind then drop: the port is very likely closed afterwards.
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let outcome = tcp_client(addr, crate::wildcard(addr), Duration::from_secs(5));
        assert!(matches!(outcome, Outcome::Refused));
    }

    #[test]
    fn udp_server_counts_what_it_received() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        thread::spawn(move || serve_udp(&server));
        assert_eq!(udp_server_count(addr, Duration::from_secs(5)), Some(0));
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 64];
        for _ in 0..3 {
            client.send_to(b"x", addr).unwrap();
            assert_eq!(client.recv(&mut buf).unwrap(), 1);
        }
        assert_eq!(udp_server_count(addr, Duration::from_secs(5)), Some(3));
    }

    #[test]
    fn udp_server_count_without_a_server() {
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = silent.local_addr().unwrap();
        assert_eq!(udp_server_count(addr, Duration::from_millis(300)), None);
    }

    #[test]
    fn udp_echo_silence_times_out() {
        // A bound socket that never answers.
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = silent.local_addr().unwrap();
        let outcome = udp_client(
            addr,
            crate::wildcard(addr),
            Duration::from_millis(300),
            None,
        );
        assert!(matches!(outcome, Outcome::TimedOut));
    }
}
