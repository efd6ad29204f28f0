//! Socket calls std cannot make: a TCP connection from a given local
//! address (bind, then connect), and IPv6 destination options on a socket.

use std::io::{self, ErrorKind};
use std::mem::size_of;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// A socket address as the kernel takes it, and its length.
enum Sockaddr {
    V4(libc::sockaddr_in),
    V6(libc::sockaddr_in6),
}

impl Sockaddr {
    fn new(addr: SocketAddr) -> Self {
        match addr {
            SocketAddr::V4(a) => Self::V4(libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*a.ip()).to_be(),
                },
                sin_zero: [0; 8],
            }),
            SocketAddr::V6(a) => Self::V6(libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            }),
        }
    }

    fn ptr(&self) -> *const libc::sockaddr {
        match self {
            Self::V4(a) => (a as *const libc::sockaddr_in).cast(),
            Self::V6(a) => (a as *const libc::sockaddr_in6).cast(),
        }
    }

    fn len(&self) -> libc::socklen_t {
        (match self {
            Self::V4(_) => size_of::<libc::sockaddr_in>(),
            Self::V6(_) => size_of::<libc::sockaddr_in6>(),
        }) as libc::socklen_t
    }
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Connects to `addr` from `from` (of the same family), waiting at most
/// `timeout` (at least 1 ms) for the handshake: a timeout is
/// `ErrorKind::TimedOut`.
pub fn connect_from(
    addr: SocketAddr,
    from: SocketAddr,
    timeout: Duration,
) -> io::Result<TcpStream> {
    if addr.is_ipv4() != from.is_ipv4() {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            format!("{from} and {addr} are not of one family"),
        ));
    }
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain socket(2); the descriptor is owned at once.
    let fd = unsafe { libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    check(fd)?;
    // SAFETY: fd is a new descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let tv = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: timeout.subsec_micros().max(1) as libc::suseconds_t,
    };
    let local = Sockaddr::new(from);
    let peer = Sockaddr::new(addr);
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
        check(libc::bind(fd.as_raw_fd(), local.ptr(), local.len()))?;
        // With SO_SNDTIMEO, a connect that times out fails EINPROGRESS.
        if let Err(e) = check(libc::connect(fd.as_raw_fd(), peer.ptr(), peer.len())) {
            return Err(match e.raw_os_error() {
                Some(libc::EINPROGRESS | libc::EAGAIN) => ErrorKind::TimedOut.into(),
                _ => e,
            });
        }
    }
    // SAFETY: a connected stream socket, ownership passed on.
    Ok(unsafe { TcpStream::from_raw_fd(fd.into_raw_fd()) })
}

/// Option type 0x1e: experimental (RFC 4727), skipped by a receiver that
/// does not know it (the top two bits 00).
const OPT_EXPERIMENT: u8 = 0x1e;

/// The bytes of a destination options header of `len` bytes (a multiple
/// of 8, 8..=2048): experimental options of at most 255 data bytes (at
/// most 8 of them: Linux's net.ipv6.max_dst_opts_number), then at most 7
/// bytes of padding (Linux refuses more in a row: RFC 8504). The kernel
/// fills in the next-header byte.
pub fn dstopts_header(len: usize) -> Result<Vec<u8>, String> {
    if !(8..=2048).contains(&len) || !len.is_multiple_of(8) {
        return Err(format!(
            "destination options of {len} bytes: a multiple of 8 from 8 to 2048"
        ));
    }
    let mut b = vec![0u8; len];
    b[1] = (len / 8 - 1) as u8;
    let mut at = 2;
    while len - at > 7 {
        let n = (len - at - 2).min(255);
        b[at] = OPT_EXPERIMENT;
        b[at + 1] = n as u8;
        at += 2 + n;
    }
    // PadN over what is left (Pad1, a zero byte, for a single one).
    if len - at >= 2 {
        b[at] = 1;
        b[at + 1] = (len - at - 2) as u8;
    }
    Ok(b)
}

/// Makes every datagram the IPv6 socket `fd` sends carry the destination
/// options header `header` (IPV6_DSTOPTS; the kernel wants CAP_NET_RAW).
pub fn set_dstopts(fd: RawFd, header: &[u8]) -> io::Result<()> {
    // SAFETY: header is readable for its length; fd is the caller's open
    // socket.
    check(unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_DSTOPTS,
            header.as_ptr().cast(),
            header.len() as libc::socklen_t,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dstopts_headers() {
        assert_eq!(dstopts_header(8).unwrap(), [0, 0, 1, 4, 0, 0, 0, 0]);
        assert_eq!(dstopts_header(16).unwrap()[1..4], [1, 0x1e, 12]);
        let long = dstopts_header(264).unwrap();
        assert_eq!((long[1], long[2], long[3]), (32, 0x1e, 255));
        // 2 + 257 bytes, then a PadN of the last 5.
        assert_eq!((long[259], long[260]), (1, 3));
        // 8 options of data at most.
        let longest = dstopts_header(2048).unwrap();
        let options = (0..8).map(|i| longest[2 + i * 257]).collect::<Vec<_>>();
        assert_eq!(options, [0x1e; 8]);
        assert!(dstopts_header(12).is_err());
        assert!(dstopts_header(0).is_err());
        assert!(dstopts_header(2056).is_err());
    }
}
