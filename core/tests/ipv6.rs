//! IPv6 through the core's C interface: record version 3, the parsed
//! fields of IPv6 packets (past extension headers, fragments), the host
//! functions of addresses and families, and the load-time rule for
//! programs attached to ipv6 or inet.

use std::net::{Ipv4Addr, Ipv6Addr};

use kwasm_test_support::capi::*;
use kwasm_test_support::packet::{
    self, tcp, tcp6, udp, udp6, Ext, Ipv4, Ipv6, NEXTHDR_DEST, NEXTHDR_ESP, NEXTHDR_NONE,
    PROTO_ICMPV6, PROTO_TCP, PROTO_UDP,
};

/// Options for `family` (KWASM_FAMILY_*), snap length `snaplen`.
fn family_opts(family: u32, snaplen: u32) -> kwasm_prog_opts {
    let mut o = opts(snaplen, KWASM_ACCEPT);
    o.family = family;
    o
}

fn load_family(wat: &str, family: u32) -> Result<Prog, Refusal> {
    load_bytes(&wat::parse_str(wat).unwrap(), &family_opts(family, 256))
}

/// A record program of `version` (1..3) whose filter is `body`, its
/// record at 64, snap length `snaplen`, attached to inet.
fn record_reader(version: u8, snaplen: u32, body: &str) -> Prog {
    let wat = format!(
        r#"(module (@custom "kwasm.record" "\0{version}") (memory (export "memory") 1)
          (func (export "kwasm_alloc") (param i32) (result i32) (i32.const 64))
          (func (export "kwasm_filter") (param $ctx i32) (param $len i32) (result i32)
            {body}))"#
    );
    let family = if version == 1 {
        KWASM_FAMILY_IPV4
    } else {
        KWASM_FAMILY_INET
    };
    load_bytes(&wat::parse_str(wat).unwrap(), &family_opts(family, snaplen))
        .unwrap_or_else(|(errno, msg)| panic!("load failed: errno {errno}: {msg}"))
}

/// The value a `load` of the record gives, as the run's raw return value.
fn field(version: u8, snaplen: u32, load: &str, pkt: &[u8]) -> i64 {
    record_reader(version, snaplen, load).run(pkt).retval
}

fn at(off: u32, width: &str) -> String {
    format!("(i32.load{width} offset={off} (local.get $ctx))")
}

/// Returns the 4-byte word `word` (0..3) of the 16 bytes at record offset
/// `off`, in memory order (little-endian load of network-order bytes).
fn addr_word(off: u32, word: u32) -> String {
    at(off + 4 * word, "")
}

/// The 16 bytes of `addr` as four little-endian words, as the program's
/// loads see them.
fn words(addr: [u8; 16]) -> [i64; 4] {
    let w = |i: usize| {
        i64::from(i32::from_le_bytes([
            addr[i],
            addr[i + 1],
            addr[i + 2],
            addr[i + 3],
        ]))
    };
    [w(0), w(4), w(8), w(12)]
}

#[test]
fn record_v3_of_an_ipv6_packet() {
    let ip = Ipv6::new(
        "2001:db8::1".parse().unwrap(),
        "fe80::1234:5678".parse().unwrap(),
    )
    .with_ext(&[Ext::HopByHop(8), Ext::DestOpts(16)]);
    let syn = ip.tcp(40000, 23557, b"");
    let f = |load: &str| field(3, 256, load, &syn);
    assert_eq!(f(&at(0, "16_u")), 80, "hdr_len");
    assert_eq!(f(&at(2, "16_u")), 3, "version");
    assert_eq!(f(&at(4, "")), syn.len() as i64, "pkt_len");
    assert_eq!(f(&at(28, "8_u")), i64::from(PROTO_TCP), "ip_proto");
    assert_eq!(f(&at(29, "8_u")), 10, "family");
    assert_eq!(f(&at(30, "8_u")), 0x02, "tcp_flags: SYN");
    assert_eq!(f(&at(31, "8_u")), 0, "frag");
    assert_eq!(f(&at(32, "16_u")), 40000, "sport");
    assert_eq!(f(&at(34, "16_u")), 23557, "dport");
    assert_eq!(f(&at(36, "16_u")), 40 + 8 + 16, "l4_off");
    assert_eq!(f(&at(38, "16_u")), 3, "flags: ports, tcp flags");
    assert_eq!(f(&at(40, "")), 0, "saddr");
    assert_eq!(f(&at(44, "")), 0, "daddr");
    for (off, addr) in [(48, ip.src), (64, ip.dst)] {
        let want = words(addr.octets());
        for (word, want) in want.iter().enumerate() {
            assert_eq!(f(&addr_word(off, word as u32)), *want, "address at {off}");
        }
    }
    // The packet bytes follow the 80-byte header: the version nibble.
    assert_eq!(f(&at(80, "8_u")), 0x60);
    // The len argument: header and captured bytes.
    assert_eq!(f("(local.get $len)"), 80 + syn.len() as i64);
}

#[test]
fn record_v3_of_an_ipv4_packet() {
    let ip = Ipv4::new(Ipv4Addr::new(192, 168, 1, 2), Ipv4Addr::LOCALHOST);
    let pkt = ip.udp(53, 5353, b"");
    let f = |load: &str| field(3, 256, load, &pkt);
    assert_eq!(f(&at(29, "8_u")), 2, "family");
    assert_eq!(f(&at(40, "")) as u32, 0xc0a8_0102, "saddr");
    // ::ffff:192.168.1.2 and ::ffff:127.0.0.1.
    let mapped = |a: Ipv4Addr| a.to_ipv6_mapped().octets();
    for (off, addr) in [(48, mapped(ip.src)), (64, mapped(ip.dst))] {
        for (word, want) in words(addr).iter().enumerate() {
            assert_eq!(f(&addr_word(off, word as u32)), *want, "address at {off}");
        }
    }
    assert_eq!(f(&at(80, "8_u")), 0x45);
}

#[test]
fn record_v2_of_ipv6_packets() {
    let f = |load: &str, pkt: &[u8]| field(2, 256, load, pkt);
    let dgram = udp6(53, 5353, b"");
    assert_eq!(f(&at(0, "16_u"), &dgram), 48, "hdr_len");
    assert_eq!(f(&at(28, "8_u"), &dgram), i64::from(PROTO_UDP));
    assert_eq!(f(&at(29, "8_u"), &dgram), 10, "family");
    assert_eq!(f(&at(34, "16_u"), &dgram), 5353, "dport");
    assert_eq!(f(&at(38, "16_u"), &dgram), 1, "flags: ports");
    assert_eq!(f(&at(40, ""), &dgram), 0, "saddr");
    assert_eq!(f(&at(48, "8_u"), &dgram), 0x60, "packet bytes at 48");

    // Fragments: the first has the ports, a later one none.
    let frag = |offset, more| {
        Ipv6::default()
            .with_ext(&[Ext::Fragment { offset, more }])
            .udp(53, 5353, b"")
    };
    let first = frag(0, true);
    assert_eq!(f(&at(31, "8_u"), &first), 1, "frag: first");
    assert_eq!(f(&at(34, "16_u"), &first), 5353);
    assert_eq!(
        f(&at(36, "16_u"), &first),
        48,
        "l4_off past the fragment header"
    );
    let later = frag(8, false);
    assert_eq!(f(&at(31, "8_u"), &later), 2, "frag: later");
    assert_eq!(f(&at(38, "16_u"), &later), 0, "no ports");
    assert_eq!(f(&at(28, "8_u"), &later), i64::from(PROTO_UDP));

    // ICMPv6: the protocol, no ports.
    let ping = Ipv6::default().icmp_echo(b"");
    assert_eq!(f(&at(28, "8_u"), &ping), i64::from(PROTO_ICMPV6));
    assert_eq!(f(&at(38, "16_u"), &ping), 0);
}

#[test]
fn the_chain_ends_at_esp_and_no_next_header() {
    let f = |load: &str, pkt: &[u8]| field(2, 256, load, pkt);
    for (upper, name) in [(NEXTHDR_ESP, "ESP"), (NEXTHDR_NONE, "no next header")] {
        // The UDP builder's header, relabelled: past it nothing is parsed.
        let mut pkt = Ipv6::default()
            .with_ext(&[Ext::DestOpts(8)])
            .udp(1, 23558, b"");
        pkt[40] = upper;
        assert_eq!(f(&at(28, "8_u"), &pkt), i64::from(upper), "{name}");
        assert_eq!(f(&at(36, "16_u"), &pkt), 48, "{name}");
        assert_eq!(f(&at(38, "16_u"), &pkt), 0, "{name}: no ports");
    }
    // Nine extension headers: the ninth is not followed.
    let nine = Ipv6::default()
        .with_ext(&[Ext::DestOpts(8); 9])
        .udp(1, 23558, b"");
    assert_eq!(f(&at(28, "8_u"), &nine), i64::from(NEXTHDR_DEST));
    assert_eq!(f(&at(38, "16_u"), &nine), 0);
    let eight = Ipv6::default()
        .with_ext(&[Ext::DestOpts(8); 8])
        .udp(1, 23558, b"");
    assert_eq!(f(&at(34, "16_u"), &eight), 23558);
}

#[test]
fn facts_past_the_snap_length_and_past_the_first_copy() {
    let dport = at(34, "16_u");
    // Snap length 0: no packet bytes, the facts all the same.
    let ip = Ipv6::default().with_ext(&[Ext::HopByHop(8), Ext::DestOpts(24)]);
    let pkt = ip.tcp(1, 23557, b"");
    assert_eq!(field(3, 0, &dport, &pkt), 23557);
    assert_eq!(field(3, 0, &at(30, "8_u"), &pkt), 0x02);
    assert_eq!(field(3, 0, "(local.get $len)", &pkt), 80);
    // A chain longer than the snap length and than the core's first copy
    // of the header (EXT_ROOM): read in pieces from the packet.
    let long = Ipv6::default()
        .with_ext(&[Ext::HopByHop(8), Ext::DestOpts(520), Ext::Routing(24)])
        .udp(1, 23558, b"");
    for snaplen in [0, 48, 256, 4096] {
        assert_eq!(field(2, snaplen, &dport, &long), 23558, "snaplen {snaplen}");
        assert_eq!(
            field(2, snaplen, &at(36, "16_u"), &long),
            40 + 8 + 520 + 24,
            "snaplen {snaplen}"
        );
    }
    // IPv4 with snap lengths around its header.
    for snaplen in [0, 20, 22, 33, 40] {
        let syn = tcp(7, 80, b"");
        assert_eq!(field(2, snaplen, &dport, &syn), 80, "snaplen {snaplen}");
        assert_eq!(field(2, snaplen, &at(30, "8_u"), &syn), 2);
    }
}

#[test]
fn version_1_sees_no_protocol_in_ipv6() {
    // A version-1 program reads packet bytes as IPv4: an IPv6 packet's
    // protocol is 0 to it, so a port check on its bytes never matches.
    let proto = at(28, "8_u");
    assert_eq!(field(1, 256, &proto, &tcp6(1, 2, b"")), 0);
    assert_eq!(field(1, 256, &proto, &tcp(1, 2, b"")), 6);
}

/// The facts of the host functions in one number: family * 10^8 +
/// protocol * 10^5 + destination port + the low byte of pkt_saddr (0 for
/// IPv6); -1 or -2 when an address function does not return 0.
const HOST_READER: &str = r#"
(module
  (import "kwasm" "pkt_family" (func $family (result i32)))
  (import "kwasm" "pkt_saddr6" (func $saddr6 (param i32) (result i32)))
  (import "kwasm" "pkt_daddr6" (func $daddr6 (param i32) (result i32)))
  (import "kwasm" "pkt_saddr" (func $saddr (result i32)))
  (import "kwasm" "pkt_protocol" (func $proto (result i32)))
  (import "kwasm" "pkt_dport" (func $dport (result i32)))
  (memory (export "memory") 1)
  (func (export "kwasm_filter") (param i32 i32) (result i32)
    (if (i32.ne (call $saddr6 (i32.const 0)) (i32.const 0)) (then (return (i32.const -1))))
    (if (i32.ne (call $daddr6 (i32.const 16)) (i32.const 0)) (then (return (i32.const -2))))
    (i32.add
      (i32.mul (call $family) (i32.const 100000000))
      (i32.add
        (i32.mul (call $proto) (i32.const 100000))
        (i32.add (call $dport) (i32.and (call $saddr) (i32.const 0xff)))))))
"#;

#[test]
fn host_functions_of_families_and_addresses() {
    let p = load_family(HOST_READER, KWASM_FAMILY_INET).unwrap();
    let deep = Ipv6::default()
        .with_ext(&[Ext::HopByHop(8), Ext::Auth(16), Ext::DestOpts(8)])
        .udp(1, 23558, b"");
    // family 10, UDP, port 23558, saddr 0.
    assert_eq!(p.run(&deep).retval, 10 * 100000000 + 17 * 100000 + 23558);
    // IPv4: family 2, TCP, port 80, saddr 10.0.0.1 (low byte 1).
    assert_eq!(
        p.run(&tcp(1, 80, b"")).retval,
        2 * 100000000 + 6 * 100000 + 80 + 1
    );
}

#[test]
fn address_host_functions_write_16_bytes() {
    // Writes saddr6 at 100 and daddr6 at 116, returns the word at `at`.
    let reader = |word: u32| {
        let wat = format!(
            r#"(module
              (import "kwasm" "pkt_saddr6" (func $saddr6 (param i32) (result i32)))
              (import "kwasm" "pkt_daddr6" (func $daddr6 (param i32) (result i32)))
              (memory (export "memory") 1)
              (func (export "kwasm_filter") (param i32 i32) (result i32)
                ;; a guard word after the two addresses stays as it was
                (i32.store (i32.const 132) (i32.const 0x5a5a5a5a))
                (drop (call $saddr6 (i32.const 100)))
                (drop (call $daddr6 (i32.const 116)))
                (i32.load (i32.const {}))))"#,
            100 + 4 * word
        );
        load_family(&wat, KWASM_FAMILY_IPV6).unwrap()
    };
    let src: Ipv6Addr = "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff".parse().unwrap();
    let dst = Ipv6Addr::LOCALHOST;
    let v6 = Ipv6::new(src, dst).udp(1, 2, b"");
    let v4 = Ipv4::new(Ipv4Addr::new(10, 1, 2, 3), Ipv4Addr::new(127, 0, 0, 1)).udp(1, 2, b"");
    let mut both = words(src.octets()).to_vec();
    both.extend(words(dst.octets()));
    both.push(0x5a5a5a5a);
    let mut mapped = words(Ipv4Addr::new(10, 1, 2, 3).to_ipv6_mapped().octets()).to_vec();
    mapped.extend(words(Ipv4Addr::LOCALHOST.to_ipv6_mapped().octets()));
    mapped.push(0x5a5a5a5a);
    for word in 0..9 {
        let p = reader(word);
        assert_eq!(p.run(&v6).retval, both[word as usize], "IPv6 word {word}");
        assert_eq!(p.run(&v4).retval, mapped[word as usize], "IPv4 word {word}");
    }
}

#[test]
fn address_host_functions_trap_on_a_bad_pointer() {
    for (name, ptr) in [("pkt_saddr6", 65536 - 15), ("pkt_daddr6", -1)] {
        let p = load_family(
            &format!(
                r#"(module
                  (import "kwasm" "{name}" (func $addr (param i32) (result i32)))
                  (memory (export "memory") 1)
                  (func (export "kwasm_filter") (param i32 i32) (result i32)
                    (drop (call $addr (i32.const 65520)))
                    (drop (call $addr (i32.const {ptr})))
                    i32.const 1))"#
            ),
            KWASM_FAMILY_IPV6,
        )
        .unwrap();
        assert_trap(&p.run(&udp6(1, 2, b"")), KWASM_TRAP_HOST);
    }
}

#[test]
fn host_functions_type_is_checked() {
    for (name, ty) in [
        ("pkt_family", "(param i32) (result i32)"),
        ("pkt_saddr6", "(result i32)"),
        ("pkt_daddr6", "(param i32)"),
    ] {
        let (errno, msg) = load_family(
            &format!(
                r#"(module (import "kwasm" "{name}" (func {ty}))
                  (func (export "kwasm_filter") (param i32 i32) (result i32) i32.const 1))"#
            ),
            KWASM_FAMILY_IPV4,
        )
        .err()
        .expect("refused");
        assert_eq!(errno, ENOENT);
        assert!(
            msg.starts_with(&format!("import kwasm.{name} must have type")),
            "{msg}"
        );
    }
}

/// Drops TCP and UDP to port 23557 of both families (record version 2).
const DUAL_STACK_DROP: &str = r#"
(module (@custom "kwasm.record" "\02") (memory (export "memory") 1)
  (func (export "kwasm_alloc") (param i32) (result i32) (i32.const 64))
  (func (export "kwasm_filter") (param $ctx i32) (param $len i32) (result i32)
    ;; flags bit 0: ports present
    (if (i32.eqz (i32.and (i32.load16_u offset=38 (local.get $ctx)) (i32.const 1)))
      (then (return (i32.const 1))))
    (i32.ne (i32.load16_u offset=34 (local.get $ctx)) (i32.const 23557))))
"#;

#[test]
fn one_program_for_both_families() {
    let p = load_family(DUAL_STACK_DROP, KWASM_FAMILY_INET).unwrap();
    let with = |ext: &[Ext]| Ipv6::default().with_ext(ext);
    let cases: [(&str, Vec<u8>, u32); 9] = [
        ("tcp", tcp(1, 23557, b""), KWASM_DROP),
        ("udp", udp(1, 23557, b""), KWASM_DROP),
        ("tcp other port", tcp(1, 23558, b""), KWASM_ACCEPT),
        ("tcp6", tcp6(1, 23557, b""), KWASM_DROP),
        ("udp6", udp6(1, 23557, b""), KWASM_DROP),
        ("udp6 other port", udp6(1, 80, b""), KWASM_ACCEPT),
        (
            "udp6 past destination options",
            with(&[Ext::DestOpts(16)]).udp(1, 23557, b""),
            KWASM_DROP,
        ),
        (
            "tcp6 first fragment",
            with(&[Ext::Fragment {
                offset: 0,
                more: true,
            }])
            .tcp(1, 23557, b""),
            KWASM_DROP,
        ),
        (
            "tcp6 later fragment",
            with(&[Ext::Fragment {
                offset: 4,
                more: true,
            }])
            .tcp(1, 23557, b""),
            KWASM_ACCEPT,
        ),
    ];
    for (name, pkt, verdict) in &cases {
        let r = p.run(pkt);
        assert_eq!(
            (r.verdict, r.outcome),
            (*verdict, KWASM_OUTCOME_OK),
            "{name}"
        );
    }
    let s = p.stats();
    assert_eq!((s.runs, s.dropped), (9, 6));
}

#[test]
fn ipv6_and_inet_need_a_program_that_tells_families_apart() {
    const V1_RECORD: &str = r#"(module (memory (export "memory") 1)
      (func (export "kwasm_alloc") (param i32) (result i32) (i32.const 64))
      (func (export "kwasm_filter") (param i32 i32) (result i32) (i32.const 1)))"#;
    const V1_DECLARED: &str = r#"(module (@custom "kwasm.record" "\01")
      (memory (export "memory") 1)
      (func (export "kwasm_alloc") (param i32) (result i32) (i32.const 64))
      (func (export "kwasm_filter") (param i32 i32) (result i32) (i32.const 1)))"#;
    const ORIGINAL: &str = r#"(module (memory (export "memory") 1)
      (func (export "alloc") (param i64) (result i32) (i32.const 64))
      (func (export "filter") (result i32) (i32.const 1)))"#;
    const NO_RECORD: &str =
        r#"(module (func (export "kwasm_filter") (param i32 i32) (result i32) i32.const 1))"#;

    for (family, name) in [(KWASM_FAMILY_IPV6, "ipv6"), (KWASM_FAMILY_INET, "inet")] {
        for wat in [V1_RECORD, V1_DECLARED] {
            let (errno, msg) = load_family(wat, family).err().expect("refused");
            assert_eq!(errno, EINVAL);
            assert_eq!(
                msg,
                format!(
                    "family {name}: record version 1 cannot tell IPv6 packets from IPv4 \
                     ones; declare record version 2 or 3 (custom section kwasm.record)"
                )
            );
        }
        let (errno, msg) = load_family(ORIGINAL, family).err().expect("refused");
        assert_eq!(errno, EINVAL);
        assert_eq!(
            msg,
            format!(
                "family {name}: the original ABI's packet_info is IPv4 only; write a \
                 kwasm_filter program and declare record version 2 or 3 (custom section \
                 kwasm.record)"
            )
        );
        // Without a record, the host functions tell the families apart.
        load_family(NO_RECORD, family).unwrap();
        load_family(DUAL_STACK_DROP, family).unwrap();
        load_family(&DUAL_STACK_DROP.replace("\\02", "\\03"), family).unwrap();
    }
    // Attached to IPv4 only, every ABI and version loads as before.
    for wat in [V1_RECORD, V1_DECLARED, ORIGINAL, NO_RECORD, DUAL_STACK_DROP] {
        load_family(wat, KWASM_FAMILY_IPV4).unwrap();
    }
}

#[test]
fn original_abi_skips_ipv6_packets() {
    // Drops everything it is run for: an IPv6 packet never reaches it
    // (test-run can hand it one), as packet_info is IPv4 only.
    let p = load_family(
        r#"(module (memory (export "memory") 1)
          (func (export "alloc") (param i64) (result i32) (i32.const 64))
          (func (export "filter") (result i32) (i32.const 0)))"#,
        KWASM_FAMILY_IPV4,
    )
    .unwrap();
    let r = p.run(&tcp6(1, 2, b""));
    assert_eq!(
        (r.verdict, r.outcome),
        (KWASM_ACCEPT, KWASM_OUTCOME_SKIPPED)
    );
    assert_eq!(p.run(&tcp(1, 2, b"")).verdict, KWASM_DROP);
}

#[test]
fn malformed_ipv6_never_breaks_a_run() {
    // Every cut of packets with long and odd chains, and random bytes
    // after an IPv6 version nibble: the run ends with a verdict.
    let p = load_family(DUAL_STACK_DROP, KWASM_FAMILY_INET).unwrap();
    // The first carries its ports past 3 KiB of headers; the second has
    // more headers than are followed (no ports).
    let chains = [
        Ipv6::default()
            .with_ext(&[
                Ext::HopByHop(2048),
                Ext::Routing(16),
                Ext::Fragment {
                    offset: 0,
                    more: true,
                },
                Ext::Auth(1028),
                Ext::DestOpts(8),
            ])
            .tcp(1, 23557, b""),
        Ipv6::default()
            .with_ext(&[Ext::DestOpts(8); 12])
            .udp(1, 23557, b""),
    ];
    for (pkt, verdict) in chains.iter().zip([KWASM_DROP, KWASM_ACCEPT]) {
        assert_eq!(p.run(pkt).verdict, verdict);
        for cut in 0..pkt.len() {
            let r = p.run(&pkt[..cut]);
            assert_eq!(r.outcome, KWASM_OUTCOME_OK, "cut at {cut}");
        }
    }
    let mut x = 0x1234_5678u32;
    for _ in 0..2000 {
        let mut pkt = vec![0u8; 40 + (x % 200) as usize];
        for b in pkt.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        pkt[0] = 0x60 | (pkt[0] & 0x0f);
        // Extension headers more often than chance would give.
        pkt[6] = [0, 43, 44, 51, 60, 6, 17, 50][(x % 8) as usize];
        assert_eq!(p.run(&pkt).outcome, KWASM_OUTCOME_OK);
    }
}

#[test]
fn dual_stack_example() {
    // wasm/examples/dual_stack.c as `make -C wasm` builds it: drops TCP
    // and UDP to port 23557 of both families, logs the first drop.
    let Some(wasm) = kwasm_test_support::built_example("dual_stack") else {
        return;
    };
    let load = || load_bytes(&wasm, &family_opts(KWASM_FAMILY_INET, 256)).unwrap();
    let p = load();
    assert_eq!(p.info().record_version, KWASM_RECORD_V3);
    let dst_opts = Ipv6::new(
        "2001:db8::1".parse().unwrap(),
        "fe80::2:0:0:5".parse().unwrap(),
    )
    .with_ext(&[Ext::DestOpts(16)]);
    assert_eq!(p.run(&dst_opts.udp(40000, 23557, b"")).verdict, KWASM_DROP);
    assert_eq!(
        last_prog_log(),
        "test: drop #1: udp [2001:db8::1]:40000 -> [fe80::2:0:0:5]:23557"
    );
    for (pkt, verdict) in [
        (tcp(1, 23557, b""), KWASM_DROP),
        (udp(1, 23557, b""), KWASM_DROP),
        (udp(1, 23558, b""), KWASM_ACCEPT),
        (tcp6(1, 23557, b""), KWASM_DROP),
        (dst_opts.udp(1, 23558, b""), KWASM_ACCEPT),
        (packet::icmp_echo(b""), KWASM_ACCEPT),
        (Ipv6::default().icmp_echo(b""), KWASM_ACCEPT),
    ] {
        let r = p.run(&pkt);
        assert_eq!((r.verdict, r.outcome), (verdict, KWASM_OUTCOME_OK));
    }
    let p = load();
    let from = Ipv4::new(Ipv4Addr::new(192, 168, 7, 1), Ipv4Addr::LOCALHOST);
    assert_eq!(p.run(&from.tcp(5, 23557, b"")).verdict, KWASM_DROP);
    assert_eq!(
        last_prog_log(),
        "test: drop #1: tcp 192.168.7.1:5 -> 127.0.0.1:23557"
    );
}

#[test]
fn rust_drop_port_example_logs_both_families() {
    // wasm/examples/rust (record version 3 through the Rust SDK).
    let Some(wasm) = kwasm_test_support::built_example("rust_drop_port") else {
        return;
    };
    let p = load_bytes(&wasm, &family_opts(KWASM_FAMILY_INET, 256)).unwrap();
    assert_eq!(p.info().record_version, KWASM_RECORD_V3);
    let lo = Ipv6::new(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST).with_ext(&[Ext::HopByHop(8)]);
    assert_eq!(p.run(&lo.udp(40000, 23557, b"")).verdict, KWASM_DROP);
    assert_eq!(
        last_prog_log(),
        "test: drop #1: udp [::1]:40000 -> [::1]:23557"
    );
    assert_eq!(p.run(&lo.udp(40000, 23558, b"")).verdict, KWASM_ACCEPT);
    assert_eq!(p.run(&tcp6(1, 23557, b"")).verdict, KWASM_DROP);
    let p = load_bytes(&wasm, &family_opts(KWASM_FAMILY_INET, 256)).unwrap();
    assert_eq!(p.run(&tcp(40812, 23557, b"")).verdict, KWASM_DROP);
    assert_eq!(
        last_prog_log(),
        "test: drop #1: tcp 10.0.0.1:40812 -> 10.0.0.2:23557"
    );
}
