// SPDX-License-Identifier: GPL-2.0
//! Command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::netns::Netns;
use crate::packet::{Endpoint, Proto};
use kwasm_uapi::names::Priority;
use kwasm_uapi::{self as uapi};

/// Load, inspect and test-run kwasm packet filter programs.
///
/// Every request acts in the network namespace kwasmctl runs in (or the
/// one --netns names): programs are loaded, listed and unloaded there.
#[derive(Debug, Parser)]
#[command(name = "kwasmctl", version)]
pub struct Cli {
    /// Work in this network namespace: a file such as /run/netns/NAME or
    /// /proc/PID/ns/net, or a process id.
    #[arg(long, global = true, value_name = "PATH|PID")]
    pub netns: Option<Netns>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load a program (.wasm or .wat), replacing the one of the same name.
    Load(LoadArgs),
    /// List the loaded programs: ids, hooks, priorities, counters.
    Show(ShowArgs),
    /// Unload a program, or all: their packets pass unfiltered.
    Unload(UnloadArgs),
    /// Print the state of the module (/proc/kwasm).
    Status,
    /// Run a program on one packet in the kernel, without touching traffic.
    TestRun(TestRunArgs),
    /// Print the records of a program's events ring.
    Events(crate::events::EventsArgs),
    /// Read and change the maps of a loaded program.
    Map(MapArgs),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Only the program of this name.
    pub name: Option<String>,
    /// Print JSON: an array of programs (with NAME, its object).
    #[arg(long)]
    pub json: bool,
    /// Print JSON, indented (implies --json).
    #[arg(long)]
    pub pretty: bool,
}

#[derive(Debug, Args)]
pub struct UnloadArgs {
    /// The program to unload [default: the only one loaded].
    #[arg(conflicts_with = "all")]
    pub name: Option<String>,
    /// Unload every program of the network namespace.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct MapArgs {
    /// The program whose maps to use [default: the only one loaded].
    #[arg(long, global = true, value_name = "NAME")]
    pub prog: Option<String>,
    #[command(subcommand)]
    pub command: MapCommand,
}

/// Keys and values are given and shown in the map's declared formats
/// (comma-separated fields, `name=value` or `value`); `hex:...` always works.
#[derive(Debug, Subcommand)]
pub enum MapCommand {
    /// List the maps: kind, sizes, entries, memory, formats.
    List {
        /// Print one JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Print every entry (per-CPU maps: a column per CPU and the sum).
    Dump {
        name: String,
        /// Print one JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Print the value of a key.
    Lookup {
        name: String,
        #[arg(allow_hyphen_values = true)]
        key: String,
        /// Only this CPU's value of a per-CPU map.
        #[arg(long)]
        cpu: Option<u32>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Set the value of a key (per-CPU maps: every CPU's, or --cpu's).
    Update {
        name: String,
        #[arg(allow_hyphen_values = true)]
        key: String,
        #[arg(allow_hyphen_values = true)]
        value: String,
        /// Only add a new key (EEXIST if present).
        #[arg(long, conflicts_with = "exist")]
        noexist: bool,
        /// Only replace a present key (ENOENT if absent).
        #[arg(long)]
        exist: bool,
        /// Only this CPU's value of a per-CPU map.
        #[arg(long)]
        cpu: Option<u32>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Remove a key from a hash map.
    Delete {
        name: String,
        #[arg(allow_hyphen_values = true)]
        key: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// Netfilter hooks (IPv4's and IPv6's are numbered alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Hook {
    PreRouting,
    LocalIn,
    Forward,
    LocalOut,
    PostRouting,
}

impl Hook {
    pub fn number(self) -> u32 {
        match self {
            Hook::PreRouting => uapi::NF_INET_PRE_ROUTING,
            Hook::LocalIn => uapi::NF_INET_LOCAL_IN,
            Hook::Forward => uapi::NF_INET_FORWARD,
            Hook::LocalOut => uapi::NF_INET_LOCAL_OUT,
            Hook::PostRouting => uapi::NF_INET_POST_ROUTING,
        }
    }
}

/// Protocol families a program attaches to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Family {
    Ipv4,
    Ipv6,
    /// Both IPv4 and IPv6.
    Inet,
}

impl Family {
    pub fn number(self) -> u32 {
        match self {
            Family::Ipv4 => uapi::KWASM_FAMILY_IPV4,
            Family::Ipv6 => uapi::KWASM_FAMILY_IPV6,
            Family::Inet => uapi::KWASM_FAMILY_INET,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Verdict {
    Accept,
    Drop,
}

impl Verdict {
    pub fn number(self) -> u32 {
        match self {
            Verdict::Accept => uapi::KWASM_ACCEPT,
            Verdict::Drop => uapi::KWASM_DROP,
        }
    }
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The program: WebAssembly binary or text.
    pub file: PathBuf,
    /// Name of the program, unique in the network namespace: loading a
    /// name that is loaded replaces that program ([A-Za-z0-9_.-], at most
    /// 31) [kernel default: prog].
    #[arg(long)]
    pub name: Option<String>,
    /// Netfilter hook to attach to [kernel default: pre-routing].
    #[arg(long, value_enum)]
    pub hook: Option<Hook>,
    /// Families whose packets the program gets [kernel default: ipv4].
    #[arg(long, value_enum)]
    pub family: Option<Family>,
    /// Netfilter priority: a number, or raw, conntrack, mangle, dstnat,
    /// filter, security, srcnat or nat (dstnat at pre-routing and
    /// local-out, srcnat at local-in and post-routing), each with an
    /// optional +N or -N [kernel default: filter, 0].
    #[arg(long, allow_negative_numbers = true, value_name = "P")]
    pub priority: Option<Priority>,
    /// Packet bytes copied into the record [kernel default: 256].
    #[arg(long)]
    pub snaplen: Option<u32>,
    /// Verdict when the program traps or returns neither 0 nor 1 [kernel default: accept].
    #[arg(long = "default", value_enum)]
    pub default_verdict: Option<Verdict>,
    /// Fuel budget of each call, in WebAssembly operators; a call that
    /// needs more traps with out_of_fuel [kernel default: 100000].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=uapi::KWASM_MAX_FUEL))]
    pub fuel: Option<u64>,
    /// Start with empty maps instead of taking over the maps of the same
    /// name and shape of the program this one replaces.
    #[arg(long)]
    pub fresh_maps: bool,
}

#[derive(Debug, Args)]
pub struct TestRunArgs {
    /// Program to run (.wasm or .wat) [default: a loaded one].
    #[arg(long)]
    pub prog: Option<PathBuf>,
    /// The loaded program to run [default: the only one loaded].
    #[arg(long, conflicts_with = "prog")]
    pub name: Option<String>,
    /// File of packet bytes in hex, from the IPv4 or IPv6 header on; '-' for stdin.
    #[arg(long, required_unless_present = "proto", conflicts_with = "proto")]
    pub packet: Option<PathBuf>,
    /// Build the packet instead: a TCP SYN, a UDP datagram or an ICMP echo.
    #[arg(long, value_enum, requires_all = ["src", "dst"])]
    pub proto: Option<Proto>,
    /// Source of the built packet: ADDR[:PORT].
    #[arg(long, requires = "proto")]
    pub src: Option<Endpoint>,
    /// Destination of the built packet: ADDR[:PORT].
    #[arg(long, requires = "proto")]
    pub dst: Option<Endpoint>,
    /// Zero bytes of payload in the built packet.
    #[arg(long, default_value_t = 0, requires = "proto")]
    pub payload_len: u16,
    /// Number of runs; the time reported is their average.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
    /// Hook the program is told it runs at.
    #[arg(long, value_enum, default_value = "pre-routing")]
    pub hook: Hook,
    /// Input interface index the program sees.
    #[arg(long, default_value_t = 0)]
    pub ifindex_in: u32,
    /// Output interface index the program sees.
    #[arg(long, default_value_t = 0)]
    pub ifindex_out: u32,
    /// Packet mark the program sees.
    #[arg(long, default_value_t = 0)]
    pub mark: u32,
    /// Snap length for --prog [kernel default: 256].
    #[arg(long, requires = "prog")]
    pub snaplen: Option<u32>,
    /// Fuel budget of each run of --prog, in WebAssembly operators
    /// [kernel default: 100000].
    #[arg(long, requires = "prog",
          value_parser = clap::value_parser!(u64).range(1..=uapi::KWASM_MAX_FUEL))]
    pub fuel: Option<u64>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::net::Ipv4Addr;

    fn parse(args: &str) -> Result<Command, clap::Error> {
        let argv = ["kwasmctl"].into_iter().chain(args.split_whitespace());
        Cli::try_parse_from(argv).map(|cli| cli.command)
    }

    #[test]
    fn load_with_every_option() {
        let Command::Load(a) = parse(
            "load p.wat --name p --hook local-out --priority -150 --snaplen 1500 --default drop --fuel 5000 --family inet",
        )
        .unwrap() else {
            panic!("not load");
        };
        assert_eq!(a.file, PathBuf::from("p.wat"));
        assert_eq!(a.name.as_deref(), Some("p"));
        assert_eq!(a.hook.map(Hook::number), Some(3));
        assert_eq!(a.priority, Some(Priority::Number(-150)));
        assert_eq!(a.family.map(Family::number), Some(uapi::KWASM_FAMILY_INET));
        assert_eq!(a.snaplen, Some(1500));
        assert_eq!(
            a.default_verdict.map(Verdict::number),
            Some(uapi::KWASM_DROP)
        );
        assert_eq!(a.fuel, Some(5000));
    }

    #[test]
    fn fuel_range() {
        assert!(parse("load p.wat --fuel 0").is_err());
        assert!(parse("load p.wat --fuel 4294967297").is_err());
        assert!(parse("load p.wat --fuel 4294967296").is_ok());
        assert!(parse("test-run --packet - --fuel 10").is_err());
        assert!(parse("test-run --packet - --prog p.wat --fuel 10").is_ok());
    }

    #[test]
    fn load_defaults_are_left_to_the_kernel() {
        let Command::Load(a) = parse("load p.wasm").unwrap() else {
            panic!("not load");
        };
        assert!(a.name.is_none() && a.hook.is_none() && a.priority.is_none());
        assert!(a.family.is_none());
        assert!(a.snaplen.is_none() && a.default_verdict.is_none() && a.fuel.is_none());
    }

    #[test]
    fn test_run_builder() {
        let Command::TestRun(a) = parse(
            "test-run --proto tcp --src 10.0.0.1:1234 --dst 127.0.0.1:23557 --repeat 1000 --json",
        )
        .unwrap() else {
            panic!("not test-run");
        };
        assert_eq!(a.proto, Some(Proto::Tcp));
        assert_eq!(a.dst.unwrap().addr, Ipv4Addr::LOCALHOST);
        assert_eq!((a.repeat, a.hook, a.json), (1000, Hook::PreRouting, true));
        assert!(a.prog.is_none() && a.packet.is_none());
    }

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn test_run_needs_one_packet_source() {
        let Command::TestRun(a) = parse("test-run --packet -").unwrap() else {
            panic!("not test-run");
        };
        assert_eq!(a.packet, Some(PathBuf::from("-")));
        assert!(parse("test-run").is_err());
        assert!(parse("test-run --packet - --proto udp").is_err());
        assert!(parse("test-run --proto udp --src 10.0.0.1:1").is_err());
        assert!(parse("test-run --packet - --repeat 0").is_err());
        assert!(parse("test-run --packet - --snaplen 64").is_err());
        assert!(parse("test-run --packet - --src 10.0.0.1").is_err());
    }

    /// The map subcommand of `args`, and its --prog.
    fn map(args: &str) -> Result<(MapCommand, Option<String>), clap::Error> {
        parse(args).map(|c| match c {
            Command::Map(m) => (m.command, m.prog),
            other => panic!("not map: {other:?}"),
        })
    }

    #[test]
    fn map_commands() {
        let (
            MapCommand::Update {
                name,
                key,
                value,
                noexist,
                exist,
                cpu,
                json,
            },
            None,
        ) = map("map update blocked 127.0.0.2 1 --noexist --cpu 1 --json").unwrap()
        else {
            panic!("not map update");
        };
        assert_eq!(
            (name.as_str(), key.as_str(), value.as_str()),
            ("blocked", "127.0.0.2", "1")
        );
        assert!(noexist && !exist && json);
        assert_eq!(cpu, Some(1));
        assert!(parse("map update m k v --noexist --exist").is_err());
        assert!(matches!(
            map("map lookup m -5").unwrap(),
            (MapCommand::Lookup { key, .. }, None) if key == "-5"
        ));
        assert!(matches!(
            map("map list --json").unwrap(),
            (MapCommand::List { json: true }, None)
        ));
        assert!(parse("map dump").is_err());
        assert!(parse("map delete m").is_err());
        assert!(parse("map delete m k").is_ok());
    }

    #[test]
    fn programs_by_name() {
        // --prog before or after the map subcommand.
        for args in ["map --prog fw list", "map list --prog fw"] {
            let (cmd, prog) = map(args).unwrap();
            assert!(matches!(cmd, MapCommand::List { json: false }), "{args}");
            assert_eq!(prog.as_deref(), Some("fw"), "{args}");
        }
        let (_, prog) = map("map dump by_src --prog fw.v2").unwrap();
        assert_eq!(prog.as_deref(), Some("fw.v2"));
        let Command::Events(e) = parse("events --prog fw --count 3").unwrap() else {
            panic!("not events");
        };
        assert_eq!((e.prog.as_deref(), e.count), (Some("fw"), Some(3)));
        let Command::TestRun(t) = parse("test-run --name fw --packet -").unwrap() else {
            panic!("not test-run");
        };
        assert_eq!(t.name.as_deref(), Some("fw"));
        assert!(parse("test-run --name fw --prog p.wat --packet -").is_err());
    }

    #[test]
    fn show_and_unload() {
        let Command::Show(s) = parse("show").unwrap() else {
            panic!("not show");
        };
        assert!(s.name.is_none() && !s.json && !s.pretty);
        let Command::Show(s) = parse("show fw --json --pretty").unwrap() else {
            panic!("not show");
        };
        assert_eq!(
            (s.name.as_deref(), s.json, s.pretty),
            (Some("fw"), true, true)
        );
        let Command::Unload(u) = parse("unload").unwrap() else {
            panic!("not unload");
        };
        assert!(u.name.is_none() && !u.all);
        let Command::Unload(u) = parse("unload fw").unwrap() else {
            panic!("not unload");
        };
        assert_eq!(u.name.as_deref(), Some("fw"));
        assert!(matches!(parse("unload --all").unwrap(), Command::Unload(u) if u.all));
        assert!(parse("unload fw --all").is_err());
    }

    #[test]
    fn network_namespace_anywhere() {
        let argv = |args: &str| {
            let argv = ["kwasmctl"].into_iter().chain(args.split_whitespace());
            Cli::try_parse_from(argv).map(|cli| cli.netns)
        };
        assert_eq!(argv("--netns 42 show").unwrap(), Some(Netns::Pid(42)));
        assert_eq!(
            argv("show --netns /run/netns/blue").unwrap(),
            Some(Netns::Path("/run/netns/blue".into()))
        );
        assert_eq!(
            argv("map list --netns 7 --prog fw").unwrap(),
            Some(Netns::Pid(7))
        );
        assert_eq!(argv("status").unwrap(), None);
        assert!(argv("--netns 0 status").is_err());
        assert!(argv("--netns status").is_err());
    }

    #[test]
    fn priorities() {
        let load = |args: &str| match parse(args) {
            Ok(Command::Load(a)) => Ok(a.priority),
            Ok(other) => panic!("not load: {other:?}"),
            Err(e) => Err(e),
        };
        assert_eq!(
            load("load p.wat --priority filter+10").unwrap(),
            Some(Priority::Named {
                name: "filter",
                offset: 10
            })
        );
        assert_eq!(
            load("load p.wat --priority raw-5")
                .unwrap()
                .map(|p| p.to_string()),
            Some("raw-5".into())
        );
        assert_eq!(
            load("load p.wat --priority -2147483648").unwrap(),
            Some(Priority::Number(i32::MIN))
        );
        assert!(load("load p.wat --priority filters").is_err());
        assert!(load("load p.wat --priority 2147483648").is_err());
        assert!(load("load p.wat --priority nat").is_ok());
    }

    #[test]
    fn hook_names() {
        for (name, number) in [
            ("pre-routing", 0),
            ("local-in", 1),
            ("forward", 2),
            ("local-out", 3),
            ("post-routing", 4),
        ] {
            assert_eq!(Hook::from_str(name, false).unwrap().number(), number);
        }
    }
}
