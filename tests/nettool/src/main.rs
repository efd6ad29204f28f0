//! nettool: the network side of the kwasm VM tests.
//!
//! Echo servers and clients that say whether traffic got through, and a UDP
//! traffic generator. Clients exit 0 when the echo came back and 1 when it
//! did not (timeout, refused, mismatch); usage errors exit 2.

mod daemon;
mod echo;
mod flood;
mod sock;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: nettool tcp-echo-server ADDR [--daemon]
       nettool tcp-echo ADDR [--timeout-ms N] [--src IP]
       nettool udp-echo-server ADDR [--daemon] [--silent]
       nettool udp-echo ADDR [--timeout-ms N] [--src IP] [--dstopts BYTES]
       nettool flood ADDR --udp [--seconds S | --count N] [--size BYTES] [--rate PPS] [--src IP] [--daemon]

ADDR is IP:PORT, an IPv6 one as [IP]:PORT (e.g. [::1]:23557).
--src sends from IP (bound before connecting, e.g. 127.0.0.2 on loopback).
--dstopts sends each datagram to an IPv6 ADDR with a destination options
header of BYTES (a multiple of 8, 8..2048) before the UDP header (needs
CAP_NET_RAW); the echo comes back without one.
--daemon returns once the socket is ready and keeps serving in the background.
--silent makes the UDP server count datagrams without echoing them.
flood sends as fast as it can, or with --rate at PPS packets/s (paced against
the monotonic clock); a paced flood asks the nettool udp-echo-server at ADDR
how many datagrams it received before and after, and its last line adds
\"offered_pps=R sent_pps=S delivered=D delivered_pps=P\" (D \"-\" with no answer).
Clients exit 0 when the echo came back, 1 when it did not, 2 on usage errors.";

/// Command-line options after the command and its address.
#[derive(Default)]
struct Options {
    daemon: bool,
    silent: bool,
    udp: bool,
    timeout_ms: Option<u64>,
    seconds: Option<u64>,
    count: Option<u64>,
    size: Option<usize>,
    rate: Option<u64>,
    src: Option<IpAddr>,
    dstopts: Option<usize>,
}

fn parse_number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: '{value}' is not a valid number"))
}

fn parse_options(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut opts = Options::default();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--daemon" => opts.daemon = true,
            "--silent" => opts.silent = true,
            "--udp" => opts.udp = true,
            "--timeout-ms" => opts.timeout_ms = Some(parse_number(&arg, args.next())?),
            "--seconds" => opts.seconds = Some(parse_number(&arg, args.next())?),
            "--count" => opts.count = Some(parse_number(&arg, args.next())?),
            "--size" => opts.size = Some(parse_number(&arg, args.next())?),
            "--rate" => opts.rate = Some(parse_number(&arg, args.next())?),
            "--dstopts" => opts.dstopts = Some(parse_number(&arg, args.next())?),
            "--src" => {
                let value = args.next().ok_or("--src needs an address")?;
                let ip = value
                    .parse()
                    .map_err(|_| format!("--src: '{value}' is not an IP address"))?;
                opts.src = Some(ip);
            }
            _ => return Err(format!("unknown option '{arg}'")),
        }
    }
    Ok(opts)
}

fn resolve(addr: &str) -> Result<SocketAddr, String> {
    addr.to_socket_addrs()
        .map_err(|e| format!("bad address '{addr}': {e}"))?
        .next()
        .ok_or_else(|| format!("address '{addr}' resolves to nothing"))
}

/// The any-address with an ephemeral port, in the family of `peer`.
fn wildcard(peer: SocketAddr) -> SocketAddr {
    let ip = match peer {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    SocketAddr::new(ip, 0)
}

/// The local address a client binds: `src` (any port) when given, else
/// the any-address of `peer`'s family. `src` must be of that family.
fn local(peer: SocketAddr, src: Option<IpAddr>) -> Result<SocketAddr, String> {
    match src {
        None => Ok(wildcard(peer)),
        Some(ip) if ip.is_ipv4() == peer.is_ipv4() => Ok(SocketAddr::new(ip, 0)),
        Some(ip) => Err(format!("--src {ip} is not of the family of {peer}")),
    }
}

/// Checks that only the options a command takes were given.
fn allow(command: &str, given: &[(&str, bool)]) -> Result<(), String> {
    match given.iter().find(|(_, set)| *set) {
        Some((flag, _)) => Err(format!("{command} does not take {flag}")),
        None => Ok(()),
    }
}

/// Runs one command. Usage errors come back as `Err` (exit 2); the commands
/// report their own runtime errors and return their exit code.
fn run(args: Vec<String>) -> Result<ExitCode, String> {
    let mut args = args.into_iter();
    let command = args.next().ok_or("missing command")?;
    if command == "-h" || command == "--help" {
        println!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    }
    let addr = resolve(&args.next().ok_or("missing address")?)?;
    let opts = parse_options(args)?;
    let timeout = Duration::from_millis(opts.timeout_ms.unwrap_or(1000));
    let flood_only = [
        ("--udp", opts.udp),
        ("--seconds", opts.seconds.is_some()),
        ("--count", opts.count.is_some()),
        ("--size", opts.size.is_some()),
        ("--rate", opts.rate.is_some()),
    ];
    let server_only = [("--daemon", opts.daemon), ("--silent", opts.silent)];
    let sender_only = [("--src", opts.src.is_some())];
    let client_only = [("--timeout-ms", opts.timeout_ms.is_some())];
    let udp_echo_only = [("--dstopts", opts.dstopts.is_some())];

    match command.as_str() {
        "tcp-echo-server" | "udp-echo-server" => {
            allow(&command, &flood_only)?;
            allow(&command, &client_only)?;
            allow(&command, &sender_only)?;
            allow(&command, &udp_echo_only)?;
            if command == "tcp-echo-server" {
                allow(&command, &[("--silent", opts.silent)])?;
            }
            if opts.daemon {
                return Ok(daemon::spawn());
            }
            Ok(if command == "tcp-echo-server" {
                echo::tcp_server(addr)
            } else {
                echo::udp_server(addr, opts.silent)
            })
        }
        "tcp-echo" | "udp-echo" => {
            allow(&command, &flood_only)?;
            allow(&command, &server_only)?;
            let from = local(addr, opts.src)?;
            let dstopts = match opts.dstopts {
                None => None,
                Some(_) if command == "tcp-echo" => {
                    return Err("tcp-echo does not take --dstopts".into())
                }
                Some(_) if addr.is_ipv4() => {
                    return Err(format!("--dstopts is for IPv6, not {addr}"))
                }
                Some(len) => Some(sock::dstopts_header(len)?),
            };
            let outcome = if command == "tcp-echo" {
                echo::tcp_client(addr, from, timeout)
            } else {
                echo::udp_client(addr, from, timeout, dstopts.as_deref())
            };
            Ok(echo::report(&command, addr, outcome))
        }
        "flood" => {
            allow(&command, &client_only)?;
            allow(&command, &udp_echo_only)?;
            allow(&command, &[("--silent", opts.silent)])?;
            if !opts.udp {
                return Err("flood needs --udp (the only kind of traffic it makes)".into());
            }
            if opts.seconds.is_some() && opts.count.is_some() {
                return Err("flood takes --seconds or --count, not both".into());
            }
            if opts.rate == Some(0) {
                return Err("flood --rate needs a rate above 0 packets/s".into());
            }
            if opts.daemon {
                return Ok(daemon::spawn());
            }
            let limit = match (opts.seconds, opts.count) {
                (Some(s), _) => flood::Limit::Time(Duration::from_secs(s)),
                (_, Some(n)) => flood::Limit::Count(n),
                _ => flood::Limit::Forever,
            };
            let from = local(addr, opts.src)?;
            Ok(flood::udp(
                addr,
                from,
                limit,
                opts.size.unwrap_or(64),
                opts.rate,
            ))
        }
        _ => Err(format!("unknown command '{command}'")),
    }
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("nettool: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn options_parse() {
        let opts = parse_options(args(&["--udp", "--count", "10", "--daemon"])).unwrap();
        assert!(opts.udp && opts.daemon);
        assert_eq!(opts.count, Some(10));
        let opts = parse_options(args(&["--udp", "--rate", "5000"])).unwrap();
        assert_eq!(opts.rate, Some(5000));
        assert!(parse_options(args(&["--rate", "fast"])).is_err());
        assert!(parse_options(args(&["--count"])).is_err());
        assert!(parse_options(args(&["--count", "ten"])).is_err());
        assert!(parse_options(args(&["--bogus"])).is_err());
    }

    #[test]
    fn commands_reject_foreign_options() {
        let run_args = |list: &[&str]| run(args(list).collect());
        assert!(run_args(&["tcp-echo", "127.0.0.1:1", "--daemon"]).is_err());
        assert!(run_args(&["tcp-echo-server", "127.0.0.1:1", "--silent"]).is_err());
        assert!(run_args(&["flood", "127.0.0.1:1", "--udp", "--silent"]).is_err());
        assert!(run_args(&["tcp-echo-server", "127.0.0.1:1", "--count", "1"]).is_err());
        assert!(run_args(&["flood", "127.0.0.1:1"]).is_err());
        assert!(run_args(&[
            "flood",
            "127.0.0.1:1",
            "--udp",
            "--seconds",
            "1",
            "--count",
            "1"
        ])
        .is_err());
        assert!(run_args(&["udp-echo", "127.0.0.1:1", "--rate", "10"]).is_err());
        assert!(run_args(&["flood", "127.0.0.1:1", "--udp", "--rate", "0"]).is_err());
        assert!(run_args(&["nonsense", "127.0.0.1:1"]).is_err());
    }

    #[test]
    fn source_address() {
        let opts = parse_options(args(&["--src", "127.0.0.2"])).unwrap();
        assert_eq!(opts.src, Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))));
        assert!(parse_options(args(&["--src", "nowhere"])).is_err());
        assert!(parse_options(args(&["--src"])).is_err());
        let peer: SocketAddr = "127.0.0.1:7".parse().unwrap();
        assert_eq!(local(peer, opts.src), Ok("127.0.0.2:0".parse().unwrap()));
        assert_eq!(local(peer, None), Ok("0.0.0.0:0".parse().unwrap()));
        assert!(local(peer, Some("::1".parse().unwrap())).is_err());
        let run_args = |list: &[&str]| run(args(list).collect());
        assert!(run_args(&["tcp-echo-server", "127.0.0.1:1", "--src", "127.0.0.2"]).is_err());
    }

    #[test]
    fn destination_options() {
        let opts = parse_options(args(&["--dstopts", "16"])).unwrap();
        assert_eq!(opts.dstopts, Some(16));
        let run_args = |list: &[&str]| run(args(list).collect());
        assert!(run_args(&["udp-echo", "127.0.0.1:1", "--dstopts", "8"]).is_err());
        assert!(run_args(&["tcp-echo", "[::1]:1", "--dstopts", "8"]).is_err());
        assert!(run_args(&["udp-echo", "[::1]:1", "--dstopts", "9"]).is_err());
        assert!(run_args(&["flood", "[::1]:1", "--udp", "--dstopts", "8"]).is_err());
        assert!(run_args(&["udp-echo-server", "[::1]:1", "--dstopts", "8"]).is_err());
        let peer: SocketAddr = "[::1]:7".parse().unwrap();
        assert_eq!(
            local(peer, Some("::2".parse().unwrap())),
            Ok("[::2]:0".parse().unwrap())
        );
        assert!(local(peer, Some("127.0.0.1".parse().unwrap())).is_err());
    }

    #[test]
    fn wildcard_keeps_the_family() {
        assert!(wildcard("127.0.0.1:80".parse().unwrap()).is_ipv4());
        assert!(wildcard("[::1]:80".parse().unwrap()).is_ipv6());
    }
}
