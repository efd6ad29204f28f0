// SPDX-License-Identifier: GPL-2.0
//! Command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::packet::{Endpoint, Proto};
use kwasm_uapi as uapi;

/// Load, inspect and test-run kwasm packet filter programs.
#[derive(Debug, Parser)]
#[command(name = "kwasmctl", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load a program (.wasm or .wat), replacing the running one.
    Load(LoadArgs),
    /// Unload the running program: packets pass unfiltered.
    Unload,
    /// Print the state of the module (/proc/kwasm).
    Status,
    /// Run a program on one packet in the kernel, without touching traffic.
    TestRun(TestRunArgs),
    /// Print the records of the attached program's events ring.
    Events(crate::events::EventsArgs),
    /// Read and change the maps of the loaded program.
    #[command(subcommand)]
    Map(MapCommand),
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

/// Netfilter hooks of IPv4, in kernel numbering.
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
        self as u32
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
    /// Name in the status and kernel log [default: file name without extension].
    #[arg(long)]
    pub name: Option<String>,
    /// Netfilter hook to attach to [default: the module's].
    #[arg(long, value_enum)]
    pub hook: Option<Hook>,
    /// Netfilter priority [default: the module's].
    #[arg(long, allow_negative_numbers = true)]
    pub priority: Option<i32>,
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
    /// Start with empty maps instead of taking over the running program's
    /// maps of the same name and shape.
    #[arg(long)]
    pub fresh_maps: bool,
}

#[derive(Debug, Args)]
pub struct TestRunArgs {
    /// Program to run (.wasm or .wat) [default: the loaded one].
    #[arg(long)]
    pub prog: Option<PathBuf>,
    /// File of packet bytes in hex, from the IPv4 header on; '-' for stdin.
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
            "load p.wat --name p --hook local-out --priority -150 --snaplen 1500 --default drop --fuel 5000",
        )
        .unwrap() else {
            panic!("not load");
        };
        assert_eq!(a.file, PathBuf::from("p.wat"));
        assert_eq!(a.name.as_deref(), Some("p"));
        assert_eq!(a.hook.map(Hook::number), Some(3));
        assert_eq!(a.priority, Some(-150));
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

    #[test]
    fn map_commands() {
        let Command::Map(MapCommand::Update {
            name,
            key,
            value,
            noexist,
            exist,
            cpu,
            json,
        }) = parse("map update blocked 127.0.0.2 1 --noexist --cpu 1 --json").unwrap()
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
            parse("map lookup m -5").unwrap(),
            Command::Map(MapCommand::Lookup { key, .. }) if key == "-5"
        ));
        assert!(matches!(
            parse("map list --json").unwrap(),
            Command::Map(MapCommand::List { json: true })
        ));
        assert!(parse("map dump").is_err());
        assert!(parse("map delete m").is_err());
        assert!(parse("map delete m k").is_ok());
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
