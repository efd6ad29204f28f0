//! The map host functions through the core's C interface: a driver program
//! runs the operation a test packet names and returns its result, so each
//! call's outcome, the traps for calls that cannot be right, and the fuel
//! they charge are checked on real runs.

use kwasm_test_support::capi::*;

/// Runs the map call the packet describes, little-endian:
/// `[0] op (1 lookup, 2 update, 3 delete, 4 add, 5 update until out of fuel)`,
/// `[1] map id`, `[4..8] key`, `[8..16] value or delta`,
/// `[16..20] flags or offset`, `[20..24] key length`, `[24..28] value length`.
/// The value is copied to offset 64 first (update); a lookup's value lands at
/// offset 128 and the run returns its first 4 bytes when the call returned 0;
/// every other run returns the call's result.
const DRIVER: &str = r#"
(module
  (import "kwasm" "pkt_load_bytes" (func $load (param i32 i32 i32) (result i32)))
  (import "kwasm" "map_lookup" (func $lookup (param i32 i32 i32 i32 i32) (result i32)))
  (import "kwasm" "map_update" (func $update (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "kwasm" "map_delete" (func $delete (param i32 i32 i32) (result i32)))
  (import "kwasm" "map_add" (func $add (param i32 i32 i32 i32 i64) (result i32)))
  (memory 1)
  (func (export "kwasm_filter") (param i32 i32) (result i32) (local $rc i32)
    (drop (call $load (i32.const 0) (i32.const 0) (i32.const 32)))
    (memory.copy (i32.const 64) (i32.const 8) (i32.const 8))
    (block $done
      (block $hammer (block $add (block $delete (block $update (block $lookup
        (br_table $done $lookup $update $delete $add $hammer $done
          (i32.load8_u (i32.const 0))))
        ;; lookup
        (local.set $rc (call $lookup (i32.load8_u (i32.const 1)) (i32.const 4)
          (i32.load (i32.const 20)) (i32.const 128) (i32.load (i32.const 24))))
        (if (i32.eqz (local.get $rc)) (then (return (i32.load (i32.const 128)))))
        (br $done))
        ;; update
        (local.set $rc (call $update (i32.load8_u (i32.const 1)) (i32.const 4)
          (i32.load (i32.const 20)) (i32.const 64) (i32.load (i32.const 24))
          (i32.load (i32.const 16))))
        (br $done))
        ;; delete
        (local.set $rc (call $delete (i32.load8_u (i32.const 1)) (i32.const 4)
          (i32.load (i32.const 20))))
        (br $done))
        ;; add
        (local.set $rc (call $add (i32.load8_u (i32.const 1)) (i32.const 4)
          (i32.load (i32.const 20)) (i32.load (i32.const 16)) (i64.load (i32.const 8))))
        (br $done))
      ;; update, a new key each time, until fuel runs out
      (loop $again
        (local.set $rc (call $update (i32.load8_u (i32.const 1)) (i32.const 4)
          (i32.load (i32.const 20)) (i32.const 64) (i32.load (i32.const 24))
          (i32.const 0)))
        (i32.store (i32.const 4) (i32.add (i32.load (i32.const 4)) (i32.const 1)))
        (br $again)))
    (local.get $rc)))
"#;

const HASH: u32 = 0;
const ARRAY: u32 = 1;
const PERCPU: u32 = 2;
const EVENTS: u32 = 3;
const HASH_MAX: u32 = 3;

fn maps() -> Vec<u8> {
    let decls = [
        kwasm_map_decl::new(KWASM_MAP_KIND_HASH, HASH, "h", 4, 8, HASH_MAX),
        kwasm_map_decl::new(KWASM_MAP_KIND_ARRAY, ARRAY, "a", 4, 8, 4),
        kwasm_map_decl::new(KWASM_MAP_KIND_PERCPU_ARRAY, PERCPU, "p", 4, 8, 4),
        kwasm_map_decl::new(KWASM_MAP_KIND_EVENTS, EVENTS, "e", 0, 16, 4096),
    ];
    decls
        .into_iter()
        .flat_map(|d| d.expect("name fits").to_bytes())
        .collect()
}

fn driver(fuel: u64) -> Prog {
    driver_with(fuel, &maps(), false)
}

fn driver_with(fuel: u64, maps: &[u8], fresh: bool) -> Prog {
    let wasm = with_custom_section(wat::parse_str(DRIVER).unwrap(), "kwasm.maps", maps);
    let mut o = opts(256, KWASM_ACCEPT);
    o.fuel = fuel;
    o.fresh_maps = fresh.into();
    load_bytes(&wasm, &o).expect("driver loads")
}

const LOOKUP: u8 = 1;
const UPDATE: u8 = 2;
const DELETE: u8 = 3;
const ADD: u8 = 4;
const HAMMER: u8 = 5;

/// A call with the declared lengths (4, 8).
fn op(op: u8, map: u32, key: u32, value: u64, flags: u32) -> Vec<u8> {
    op_len(op, map, key, value, flags, 4, 8)
}

fn op_len(op: u8, map: u32, key: u32, value: u64, flags: u32, klen: u32, vlen: u32) -> Vec<u8> {
    let mut p = vec![op, map as u8, 0, 0];
    p.extend_from_slice(&key.to_le_bytes());
    p.extend_from_slice(&value.to_le_bytes());
    p.extend_from_slice(&flags.to_le_bytes());
    p.extend_from_slice(&klen.to_le_bytes());
    p.extend_from_slice(&vlen.to_le_bytes());
    p.extend_from_slice(&[0; 4]);
    p
}

/// What the run returned; the run must have returned.
#[track_caller]
fn ret(p: &Prog, cpu: u32, packet: &[u8]) -> i64 {
    let r = p.run_on(cpu, packet);
    assert_ne!(r.outcome, KWASM_OUTCOME_TRAP, "trap {}", trap_name(r.trap));
    r.retval
}

const ENOENT: i64 = -2;
const EEXIST: i64 = -17;
const ENOSPC: i64 = -28;

#[test]
fn hash_operations_and_their_errnos() {
    let p = driver(KWASM_DEFAULT_FUEL);
    assert_eq!(ret(&p, 0, &op(LOOKUP, HASH, 7, 0, 0)), ENOENT);
    assert_eq!(ret(&p, 0, &op(UPDATE, HASH, 7, 42, KWASM_MAP_ANY)), 0);
    assert_eq!(ret(&p, 1, &op(LOOKUP, HASH, 7, 0, 0)), 42);
    assert_eq!(
        ret(&p, 0, &op(UPDATE, HASH, 7, 43, KWASM_MAP_NOEXIST)),
        EEXIST
    );
    assert_eq!(ret(&p, 0, &op(UPDATE, HASH, 8, 1, KWASM_MAP_EXIST)), ENOENT);
    assert_eq!(ret(&p, 0, &op(UPDATE, HASH, 7, 44, KWASM_MAP_EXIST)), 0);
    assert_eq!(ret(&p, 3, &op(LOOKUP, HASH, 7, 0, 0)), 44);
    // Full at HASH_MAX keys: refused, nothing evicted.
    assert_eq!(ret(&p, 0, &op(UPDATE, HASH, 8, 8, 0)), 0);
    assert_eq!(ret(&p, 0, &op(UPDATE, HASH, 9, 9, 0)), 0);
    assert_eq!(ret(&p, 0, &op(UPDATE, HASH, 10, 10, 0)), ENOSPC);
    assert_eq!(ret(&p, 0, &op(ADD, HASH, 10, 1, 0)), ENOSPC);
    assert_eq!(ret(&p, 0, &op(LOOKUP, HASH, 7, 0, 0)), 44);
    assert_eq!(ret(&p, 0, &op(DELETE, HASH, 8, 0, 0)), 0);
    assert_eq!(ret(&p, 0, &op(DELETE, HASH, 8, 0, 0)), ENOENT);
    assert_eq!(ret(&p, 0, &op(LOOKUP, HASH, 8, 0, 0)), ENOENT);
    // An add inserts an absent key with a zeroed value first.
    assert_eq!(ret(&p, 0, &op(ADD, HASH, 10, 5, 0)), 0);
    assert_eq!(ret(&p, 1, &op(ADD, HASH, 10, (-2i64) as u64, 0)), 0);
    assert_eq!(ret(&p, 0, &op(LOOKUP, HASH, 10, 0, 0)), 3);
}

#[test]
fn array_operations_and_their_errnos() {
    let p = driver(KWASM_DEFAULT_FUEL);
    // Elements always exist, zeroed.
    assert_eq!(ret(&p, 0, &op(LOOKUP, ARRAY, 3, 0, 0)), 0);
    assert_eq!(ret(&p, 0, &op(LOOKUP, ARRAY, 4, 0, 0)), ENOENT);
    assert_eq!(ret(&p, 0, &op(UPDATE, ARRAY, 3, 77, 0)), 0);
    assert_eq!(ret(&p, 1, &op(LOOKUP, ARRAY, 3, 0, 0)), 77);
    assert_eq!(
        ret(&p, 0, &op(UPDATE, ARRAY, 3, 1, KWASM_MAP_NOEXIST)),
        EEXIST
    );
    assert_eq!(ret(&p, 0, &op(UPDATE, ARRAY, 4, 1, 0)), ENOENT);
    assert_eq!(ret(&p, 0, &op(ADD, ARRAY, 3, 3, 0)), 0);
    assert_eq!(ret(&p, 3, &op(LOOKUP, ARRAY, 3, 0, 0)), 80);
    assert_eq!(ret(&p, 0, &op(ADD, ARRAY, 4, 3, 0)), ENOENT);
}

#[test]
fn per_cpu_arrays_keep_a_value_per_cpu() {
    let p = driver(KWASM_DEFAULT_FUEL);
    assert_eq!(ret(&p, 0, &op(UPDATE, PERCPU, 1, 10, 0)), 0);
    assert_eq!(ret(&p, 1, &op(ADD, PERCPU, 1, 5, 0)), 0);
    assert_eq!(ret(&p, 1, &op(ADD, PERCPU, 1, 5, 0)), 0);
    assert_eq!(ret(&p, 0, &op(LOOKUP, PERCPU, 1, 0, 0)), 10);
    assert_eq!(ret(&p, 1, &op(LOOKUP, PERCPU, 1, 0, 0)), 10);
    assert_eq!(ret(&p, 3, &op(LOOKUP, PERCPU, 1, 0, 0)), 0);
}

#[test]
fn calls_that_cannot_be_right_trap() {
    let p = driver(KWASM_DEFAULT_FUEL);
    for (what, packet) in [
        ("unknown id", op(LOOKUP, 9, 1, 0, 0)),
        ("the events ring", op(LOOKUP, EVENTS, 1, 0, 0)),
        ("key length", op_len(LOOKUP, HASH, 1, 0, 0, 3, 8)),
        ("value length", op_len(UPDATE, HASH, 1, 0, 0, 4, 16)),
        ("flags", op(UPDATE, HASH, 1, 0, 3)),
        ("delete on an array", op(DELETE, ARRAY, 1, 0, 0)),
        ("counter offset unaligned", op(ADD, ARRAY, 1, 1, 4)),
        ("counter offset past the value", op(ADD, ARRAY, 1, 1, 8)),
    ] {
        let r = p.run(&packet);
        assert_eq!(
            (r.outcome, trap_name(r.trap).as_str()),
            (KWASM_OUTCOME_TRAP, "host"),
            "{what}"
        );
    }
    // Nothing was written by the refused calls.
    assert_eq!(ret(&p, 0, &op(LOOKUP, HASH, 1, 0, 0)), ENOENT);

    // A key that runs past the end of linear memory.
    let past = r#"
    (module
      (import "kwasm" "map_lookup" (func $lookup (param i32 i32 i32 i32 i32) (result i32)))
      (memory 1)
      (func (export "kwasm_filter") (param i32 i32) (result i32)
        (call $lookup (i32.const 0) (i32.const 65534) (i32.const 4) (i32.const 0) (i32.const 8))))
    "#;
    let wasm = with_custom_section(wat::parse_str(past).unwrap(), "kwasm.maps", &maps());
    let p = load_bytes(&wasm, &opts(256, KWASM_ACCEPT)).expect("loads");
    assert_trap(&p.run(&[0; 20]), KWASM_TRAP_HOST);
}

#[test]
fn short_of_fuel_a_call_traps_undone() {
    // Enough for the driver's own operators, not for the update's charge.
    let p = driver(KWASM_DEFAULT_FUEL);
    let r = p.run(&op(HAMMER, HASH, 100, 1, 0));
    assert_eq!(r.outcome, KWASM_OUTCOME_TRAP);
    assert_eq!(trap_name(r.trap), "out_of_fuel");
    assert_eq!(r.fuel_used, KWASM_DEFAULT_FUEL);
    // The hammer filled the map before the fuel ran out; the map is intact.
    assert_eq!(ret(&p, 0, &op(LOOKUP, HASH, 100, 0, 0)), 1);
    assert_eq!(ret(&p, 0, &op(UPDATE, HASH, 1000, 1, 0)), ENOSPC);
}

#[test]
fn calls_charge_fuel() {
    let p = driver(KWASM_DEFAULT_FUEL);
    let used = |packet: &[u8]| p.run(packet).fuel_used;
    // The same path with an array lookup (8 + 12 bytes / 16) and a hash
    // lookup (4 more): the difference is what the host charged.
    let array = used(&op(LOOKUP, ARRAY, 0, 0, 0));
    let hash = used(&op(LOOKUP, HASH, 12345, 0, 0));
    assert_eq!(hash - array, 4, "hash {hash}, array {array}");
    assert!(array > 8 + 1, "array lookup used {array}");
}

#[test]
fn no_map_calls_at_load() {
    let start = r#"
    (module
      (import "kwasm" "map_delete" (func $delete (param i32 i32 i32) (result i32)))
      (memory 1)
      (func $start (drop (call $delete (i32.const 0) (i32.const 0) (i32.const 4))))
      (start $start)
      (func (export "kwasm_filter") (param i32 i32) (result i32) i32.const 1))
    "#;
    let wasm = with_custom_section(wat::parse_str(start).unwrap(), "kwasm.maps", &maps());
    let Err((errno, msg)) = load_bytes(&wasm, &opts(256, KWASM_ACCEPT)) else {
        panic!("a map call in the start function loaded");
    };
    assert_eq!(errno, 22, "{msg}");
    assert!(msg.contains("start function"), "{msg}");
}

#[test]
fn a_replacement_adopts_maps_of_the_same_shape() {
    let old = driver(KWASM_DEFAULT_FUEL);
    assert_eq!(ret(&old, 0, &op(UPDATE, HASH, 7, 42, KWASM_MAP_ANY)), 0);
    assert_eq!(ret(&old, 0, &op(UPDATE, ARRAY, 1, 5, KWASM_MAP_ANY)), 0);

    // Same shapes: both programs share the contents from now on.
    let mut new = driver(KWASM_DEFAULT_FUEL);
    new.adopt(Some(&old)).expect("adopts");
    assert_eq!(ret(&new, 1, &op(LOOKUP, HASH, 7, 0, 0)), 42);
    assert_eq!(ret(&new, 0, &op(LOOKUP, ARRAY, 1, 0, 0)), 5);
    assert_eq!(ret(&old, 0, &op(UPDATE, HASH, 8, 1, KWASM_MAP_ANY)), 0);
    assert_eq!(ret(&new, 0, &op(LOOKUP, HASH, 8, 0, 0)), 1);
    // The old program goes; the maps stay with the new one.
    drop(old);
    assert_eq!(ret(&new, 0, &op(LOOKUP, HASH, 7, 0, 0)), 42);

    // Fresh maps: nothing adopted.
    let mut fresh = driver_with(KWASM_DEFAULT_FUEL, &maps(), true);
    fresh.adopt(Some(&new)).expect("nothing to adopt");
    assert_eq!(ret(&fresh, 0, &op(LOOKUP, HASH, 7, 0, 0)), ENOENT);

    // Another shape of "h": refused naming it, nothing taken.
    let other: Vec<u8> = [
        kwasm_map_decl::new(KWASM_MAP_KIND_HASH, HASH, "h", 4, 8, HASH_MAX + 1),
        kwasm_map_decl::new(KWASM_MAP_KIND_ARRAY, ARRAY, "a", 4, 8, 4),
    ]
    .into_iter()
    .flat_map(|d| d.expect("name fits").to_bytes())
    .collect();
    let mut reshaped = driver_with(KWASM_DEFAULT_FUEL, &other, false);
    let (errno, msg) = reshaped.adopt(Some(&new)).unwrap_err();
    assert_eq!(errno, 17);
    assert_eq!(
        msg,
        "map h: max entries 4, the running program's is 3; load with --fresh-maps to start empty"
    );
    assert_eq!(ret(&reshaped, 0, &op(LOOKUP, ARRAY, 1, 0, 0)), 0);
    // Nothing to replace.
    reshaped.adopt(None).expect("no old program");
}

/// A VM fixture of tests/vm/fixtures, loaded as kwasmctl loads it.
fn fixture(name: &str) -> Prog {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vm/fixtures/");
    let text = std::fs::read_to_string(format!("{path}{name}.wat")).unwrap();
    load_bytes(&wat::parse_str(&text).unwrap(), &opts(256, KWASM_ACCEPT))
        .unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

#[test]
fn the_vm_map_fixtures_run() {
    // maps_races.sh's program: every operation, never a torn value (it
    // would trap), on each CPU.
    let hammer = fixture("maps_hammer");
    assert_eq!(hammer.info().maps, 3);
    for i in 0..600u32 {
        let r = hammer.run_on([0, 1, 3][i as usize % 3], &[0; 20]);
        assert_eq!(
            r.outcome,
            KWASM_OUTCOME_OK,
            "run {i}: trap {}",
            trap_name(r.trap)
        );
    }

    // maps_limits.sh's: "big" holds 4 keys, then the program's updates get
    // ENOSPC; the events ring fills and drops.
    let limits = fixture("maps_limits");
    for len in 20..30usize {
        let r = limits.run(&vec![0; len]);
        assert_eq!(r.outcome, KWASM_OUTCOME_OK, "len {len}");
    }

    // maps_fuel.wat: out of fuel inside its loop of updates.
    let fuel = fixture("maps_fuel");
    let r = fuel.run(&[0; 20]);
    assert_eq!(
        (r.outcome, trap_name(r.trap).as_str()),
        (KWASM_OUTCOME_TRAP, "out_of_fuel")
    );
}

/// A program of one map call with constant arguments `args` (WAT operands
/// of the import `name` of type `ty`), with the driver's maps.
fn one_call(name: &str, ty: &str, args: &str) -> Result<Prog, Refusal> {
    let wat = format!(
        r#"(module
          (import "kwasm" "{name}" (func $f {ty}))
          (memory 1)
          (func (export "kwasm_filter") (param i32 i32) (result i32)
            (drop (call $f {args}))
            i32.const 1))"#
    );
    let wasm = with_custom_section(wat::parse_str(&wat).unwrap(), "kwasm.maps", &maps());
    load_bytes(&wasm, &opts(256, KWASM_ACCEPT))
}

#[test]
fn constant_arguments_that_contradict_the_declarations_fail_the_load() {
    const LOOKUP: &str = "(param i32 i32 i32 i32 i32) (result i32)";
    const UPDATE: &str = "(param i32 i32 i32 i32 i32 i32) (result i32)";
    const DELETE: &str = "(param i32 i32 i32) (result i32)";
    const ADD: &str = "(param i32 i32 i32 i32 i64) (result i32)";
    const EVENT: &str = "(param i32 i32) (result i32)";
    let c = |v: i64| format!("(i32.const {v})");
    for (name, ty, args, reason) in [
        (
            "map_lookup",
            LOOKUP,
            [c(9), c(0), c(4), c(0), c(8)].join(" "),
            "map id 9 is not declared",
        ),
        (
            "map_lookup",
            LOOKUP,
            [c(0), c(0), c(3), c(0), c(8)].join(" "),
            "key length 3, map h's keys are 4 bytes",
        ),
        (
            "map_lookup",
            LOOKUP,
            [c(1), c(0), c(4), c(0), c(16)].join(" "),
            "length 16, map a takes 8-byte values",
        ),
        (
            "map_lookup",
            LOOKUP,
            [c(3), c(0), c(4), c(0), c(8)].join(" "),
            "map e is the events ring (event_output writes it)",
        ),
        (
            "map_update",
            UPDATE,
            [c(0), c(0), c(4), c(0), c(8), c(3)].join(" "),
            "flags 3 (0, 1 or 2)",
        ),
        (
            "map_delete",
            DELETE,
            [c(1), c(0), c(4)].join(" "),
            "map a is an array: only hash maps delete",
        ),
        (
            "map_add",
            ADD,
            format!("{} (i64.const 1)", [c(1), c(0), c(4), c(4)].join(" ")),
            "counter offset 4: not an 8-aligned u64 inside map a's 8-byte values",
        ),
        (
            "event_output",
            EVENT,
            [c(0), c(17)].join(" "),
            "length 17, map e takes records of 1 to 16 bytes",
        ),
        (
            "event_output",
            EVENT,
            [c(0), c(0)].join(" "),
            "length 0, map e takes records of 1 to 16 bytes",
        ),
    ] {
        let Err((errno, msg)) = one_call(name, ty, &args) else {
            panic!("{name} {args} loaded");
        };
        assert_eq!(errno, 22, "{msg}");
        assert!(
            msg.starts_with(&format!("{name} in function 1 at offset 0x")) && msg.ends_with(reason),
            "{name} {args}: {msg}"
        );
    }
    // Right constants load; computed ones are left to the run (a trap).
    assert!(one_call(
        "map_lookup",
        LOOKUP,
        &[c(0), c(0), c(4), c(0), c(8)].join(" ")
    )
    .is_ok());
    // A length is only checked against a map the call names by a constant.
    assert!(one_call(
        "map_lookup",
        LOOKUP,
        "(i32.load (i32.const 0)) (i32.const 0) (i32.const 3) (i32.const 0) (i32.const 8)"
    )
    .is_ok());
    assert!(one_call("map_lookup", LOOKUP, "(i32.load (i32.const 0)) (i32.const 0) (i32.load (i32.const 4)) (i32.const 0) (i32.const 8)").is_ok());
    // event_output with no ring declared.
    let wat = r#"(module
      (import "kwasm" "event_output" (func $f (param i32 i32) (result i32)))
      (memory 1)
      (func (export "kwasm_filter") (param i32 i32) (result i32)
        (drop (call $f (i32.const 0) (i32.const 4))) i32.const 1))"#;
    let (errno, msg) = load(wat).err().expect("refused");
    assert_eq!(errno, 22);
    assert!(
        msg.ends_with("the program declares no events ring"),
        "{msg}"
    );
}

/// The programs of `make bench`'s "map operations" (bench_map_*.wat, from
/// scripts/gen-bench-maps.py): each makes its one call (two for
/// delete_update) and accepts when it returned 0. On the host every test
/// starts with empty maps, where the bench's VM has put key 1 into h first:
/// a lookup of it misses here, and delete_update's first delete too. The
/// fuel of a run is the bench's "fuel/run" column.
#[test]
fn the_bench_map_fixtures_run() {
    let packet = [0u8; 20];
    let mut fuel = Vec::new();
    for (name, first, then) in [
        ("none", KWASM_ACCEPT, KWASM_ACCEPT),
        ("lookup_array", KWASM_ACCEPT, KWASM_ACCEPT),
        ("lookup_percpu", KWASM_ACCEPT, KWASM_ACCEPT),
        ("lookup_hash", KWASM_DROP, KWASM_DROP),
        ("update_array", KWASM_ACCEPT, KWASM_ACCEPT),
        ("update_hash", KWASM_ACCEPT, KWASM_ACCEPT),
        ("add_array", KWASM_ACCEPT, KWASM_ACCEPT),
        ("add_percpu", KWASM_ACCEPT, KWASM_ACCEPT),
        ("add_hash", KWASM_ACCEPT, KWASM_ACCEPT),
        ("delete_update", KWASM_DROP, KWASM_ACCEPT),
        ("event16", KWASM_ACCEPT, KWASM_ACCEPT),
        ("event64", KWASM_ACCEPT, KWASM_ACCEPT),
        ("full_none", KWASM_ACCEPT, KWASM_ACCEPT),
        // A 4 KiB ring holds 85 records of 16 bytes (48 with the header),
        // 42 of 64 (96): the 201st run's record is dropped.
        ("full_event16", KWASM_ACCEPT, KWASM_DROP),
        ("full_event64", KWASM_ACCEPT, KWASM_DROP),
    ] {
        let p = fixture(&format!("bench_map_{name}"));
        let r = p.run(&packet);
        assert_eq!(
            (r.outcome, r.verdict),
            (KWASM_OUTCOME_OK, first),
            "{name}: first run"
        );
        let mut last = r;
        for _ in 0..200 {
            last = p.run(&packet);
        }
        assert_eq!(
            (last.outcome, last.verdict),
            (KWASM_OUTCOME_OK, then),
            "{name}"
        );
        fuel.push(format!("{name}={}", last.fuel_used));
    }
    // The charges of docs/ABI.md on top of 3 units (const, eqz, end) and
    // the call's operators (its arguments and the call).
    assert_eq!(
        fuel.join(" "),
        "none=3 lookup_array=18 lookup_percpu=18 lookup_hash=22 update_array=23 \
         update_hash=27 add_array=21 add_percpu=21 add_hash=25 delete_update=45 event16=18 \
         event64=21 full_none=3 full_event16=18 full_event64=21"
    );
}
