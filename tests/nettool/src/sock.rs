//! A TCP connection from a given local address: bind, then connect, which
//! std's `TcpStream` cannot do.

use std::io::{self, ErrorKind};
use std::mem::size_of;
use std::net::{SocketAddr, SocketAddrV4, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::time::Duration;

fn sockaddr(addr: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*addr.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Connects to `addr` from `from` (IPv4), waiting at most `timeout` (at
/// least 1 ms) for the handshake: a timeout is `ErrorKind::TimedOut`.
pub fn connect_from(
    addr: SocketAddr,
    from: SocketAddr,
    timeout: Duration,
) -> io::Result<TcpStream> {
    let (SocketAddr::V4(addr), SocketAddr::V4(from)) = (addr, from) else {
        return Err(io::Error::new(
            ErrorKind::Unsupported,
            "--src is for IPv4 only",
        ));
    };
    // SAFETY: plain socket(2); the descriptor is owned at once.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    check(fd)?;
    // SAFETY: fd is a new descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let tv = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: timeout.subsec_micros().max(1) as libc::suseconds_t,
    };
    let local = sockaddr(from);
    let peer = sockaddr(addr);
    // SAFETY: the option value, the addresses and their lengths are valid
    // for the calls; fd is an open socket.
    unsafe {
        check(libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDTIMEO,
            (&tv as *const libc::timeval).cast(),
            size_of::<libc::timeval>() as libc::socklen_t,
        ))?;
        check(libc::bind(
            fd.as_raw_fd(),
            (&local as *const libc::sockaddr_in).cast(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        ))?;
        // With SO_SNDTIMEO, a connect that times out fails EINPROGRESS.
        if let Err(e) = check(libc::connect(
            fd.as_raw_fd(),
            (&peer as *const libc::sockaddr_in).cast(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )) {
            return Err(match e.raw_os_error() {
                Some(libc::EINPROGRESS | libc::EAGAIN) => ErrorKind::TimedOut.into(),
                _ => e,
            });
        }
    }
    // SAFETY: a connected stream socket, ownership passed on.
    Ok(unsafe { TcpStream::from_raw_fd(fd.into_raw_fd()) })
}
