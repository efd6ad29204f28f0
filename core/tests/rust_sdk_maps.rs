//! The Rust SDK's maps (wasm/sdk/rust: `kwasm_maps!`, `HashMap::add_at`)
//! through the core's C interface: wasm/examples/rust's rust_src_counters,
//! as `make -C wasm` builds it (skipped, saying so, when it is not built).
//!
//! The core has no map lookup for tests; a reader program that declares the
//! same map adopts the example's maps (as a replacement would) and returns
//! the counters it looks up.

use std::net::Ipv4Addr;

use kwasm_test_support::capi::*;
use kwasm_test_support::packet::Ipv4;

fn built(name: &str) -> Option<Vec<u8>> {
    kwasm_test_support::built_example(name)
}

/// The module's `kwasm.maps` custom section, which it must have.
fn maps_section(wasm: &[u8]) -> Vec<u8> {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .find_map(|p| match p.expect("payload") {
            wasmparser::Payload::CustomSection(c) if c.name() == "kwasm.maps" => {
                Some(c.data().to_vec())
            }
            _ => None,
        })
        .expect("a kwasm.maps section")
}

/// What src_counters.c and rust_src_counters declare.
fn by_src() -> [u8; 256] {
    let mut d = kwasm_map_decl::new(KWASM_MAP_KIND_HASH, 0, "by_src", 4, 16, 4096).unwrap();
    d.set_key_fmt("ipv4").unwrap();
    d.set_value_fmt("packets:u64,bytes:u64").unwrap();
    d.to_bytes()
}

#[test]
fn the_declaration_is_the_c_sdks() {
    let Some(rust) = built("rust_src_counters") else {
        return;
    };
    let section = maps_section(&rust);
    assert_eq!(section.len(), 256);
    assert_eq!(section, by_src());
    if let Some(c) = built("src_counters") {
        assert_eq!(section, maps_section(&c), "the C example's bytes");
    }
}

/// Looks up the packet's source address in map 0 (`by_src`) and returns
/// its packets (source port 1) or bytes (source port 2), the low 32 bits;
/// or the lookup's error.
const READER: &str = r#"
(module
  (import "kwasm" "pkt_saddr" (func $saddr (result i32)))
  (import "kwasm" "pkt_sport" (func $sport (result i32)))
  (import "kwasm" "map_lookup" (func $lookup (param i32 i32 i32 i32 i32) (result i32)))
  (memory 1)
  (func (export "kwasm_filter") (param i32 i32) (result i32) (local $rc i32)
    (i32.store (i32.const 0) (call $saddr))
    (local.set $rc
      (call $lookup (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 16) (i32.const 16)))
    (if (local.get $rc) (then (return (local.get $rc))))
    (i32.wrap_i64
      (i64.load (i32.add (i32.const 8) (i32.mul (i32.const 8) (call $sport)))))))
"#;

#[track_caller]
fn ret(p: &Prog, cpu: u32, packet: &[u8]) -> i64 {
    let r = p.run_on(cpu, packet);
    assert_ne!(r.outcome, KWASM_OUTCOME_TRAP, "trap {}", trap_name(r.trap));
    r.retval
}

#[test]
fn src_counters_counts_per_source_on_every_cpu() {
    let Some(wasm) = built("rust_src_counters") else {
        return;
    };
    let prog = load_bytes(&wasm, &opts(256, KWASM_ACCEPT)).expect("loads");
    let info = prog.info();
    assert_eq!(info.maps, 1);
    assert!(info.map_memory > 0);
    if let Some(c) = built("src_counters") {
        let c = load_bytes(&c, &opts(256, KWASM_ACCEPT)).expect("the C example loads");
        assert_eq!(info.map_memory, c.info().map_memory);
    }

    let dst = Ipv4Addr::new(127, 0, 0, 1);
    let sources = [Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(192, 168, 7, 9)];
    let mut expect = [(0u64, 0u64); 2];
    let mut runs = 0;
    for cpu in HOST_CPUS {
        for (i, &src) in sources.iter().enumerate() {
            // Source i sends i + 2 packets on each CPU, of different sizes.
            for n in 0..i + 2 {
                let packet = Ipv4::new(src, dst).udp(5000, 53, &vec![7; n * 100]);
                let r = prog.run_on(cpu, &packet);
                assert_eq!(
                    (r.outcome, r.verdict, r.retval),
                    (KWASM_OUTCOME_OK, KWASM_ACCEPT, 1),
                    "trap {}",
                    trap_name(r.trap)
                );
                expect[i].0 += 1;
                expect[i].1 += packet.len() as u64;
                runs += 1;
            }
        }
    }
    let s = prog.stats();
    assert_eq!((s.runs, s.accepted, s.dropped), (runs, runs, 0));

    let reader = with_custom_section(wat::parse_str(READER).unwrap(), "kwasm.maps", &by_src());
    let mut reader = load_bytes(&reader, &opts(256, KWASM_ACCEPT)).expect("reader loads");
    reader.adopt(Some(&prog)).expect("same map, same shape");
    let read = |cpu, src, what| ret(&reader, cpu, &Ipv4::new(src, dst).tcp(what, 80, b""));
    for (i, &src) in sources.iter().enumerate() {
        assert_eq!(read(1, src, 1), expect[i].0 as i64, "packets from {src}");
        assert_eq!(read(3, src, 2), expect[i].1 as i64, "bytes from {src}");
    }
    assert_eq!(read(0, Ipv4Addr::new(10, 9, 9, 9), 1), -2, "ENOENT");

    // Shared from now on: one more packet from the first source.
    let packet = Ipv4::new(sources[0], dst).tcp(1234, 80, b"x");
    assert_eq!(prog.run_on(0, &packet).verdict, KWASM_ACCEPT);
    assert_eq!(read(1, sources[0], 1), expect[0].0 as i64 + 1);
    assert_eq!(
        read(1, sources[0], 2),
        (expect[0].1 + packet.len() as u64) as i64
    );
}
