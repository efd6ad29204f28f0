//! Map declarations (the `kwasm.maps` custom section) through the core's C
//! interface: good declarations of each kind with their memory figures,
//! and every refusal with its errno and reason.

use kwasm_test_support::capi::*;

/// A kwasm-ABI program that accepts everything.
const ACCEPT_ALL: &str =
    r#"(module (func (export "kwasm_filter") (param i32 i32) (result i32) i32.const 1))"#;

/// The original ABI.
const ORIGINAL: &str = r#"
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i64) (result i32) i32.const 64)
  (func (export "filter") (result i32) i32.const 1))
"#;

/// Possible CPUs of the host services (0, 1 and 3).
const CPUS: u64 = HOST_CPUS.len() as u64;

/// A declaration with formats "".
fn decl(kind: u32, id: u32, name: &str, key: u32, value: u32, max: u32) -> kwasm_map_decl {
    kwasm_map_decl::new(kind, id, name, key, value, max).expect("name fits")
}

fn section(decls: &[kwasm_map_decl]) -> Vec<u8> {
    decls.iter().flat_map(|d| d.to_bytes()).collect()
}

fn load_with(wat: &str, maps: &[u8]) -> Result<Prog, Refusal> {
    let wasm = with_custom_section(wat::parse_str(wat).unwrap(), "kwasm.maps", maps);
    load_bytes(&wasm, &opts(256, KWASM_ACCEPT))
}

fn load_decls(decls: &[kwasm_map_decl]) -> Result<Prog, Refusal> {
    load_with(ACCEPT_ALL, &section(decls))
}

#[track_caller]
fn refused_bytes(maps: &[u8], errno: i32, msg: &str) {
    match load_with(ACCEPT_ALL, maps) {
        Ok(_) => panic!("loaded; expected {errno}: {msg}"),
        Err((e, m)) => assert_eq!((e, m.as_str()), (errno, msg)),
    }
}

#[track_caller]
fn refused(decls: &[kwasm_map_decl], errno: i32, msg: &str) {
    refused_bytes(&section(decls), errno, msg);
}

/// Fixed costs of core/src/maps/decl.rs (docs/ABI.md, "Map memory").
const MAP: u64 = 512;
const LOCK: u64 = 64;
const RING: u64 = 256;

fn blocked() -> kwasm_map_decl {
    let mut d = decl(KWASM_MAP_KIND_HASH, 0, "blocked", 4, 1, 1024);
    d.set_key_fmt("ipv4").unwrap();
    d.set_value_fmt("u8").unwrap();
    d
}

fn counters() -> kwasm_map_decl {
    let mut d = decl(KWASM_MAP_KIND_ARRAY, 1, "counters", 4, 16, 8);
    d.set_value_fmt("packets:u64,bytes:u64").unwrap();
    d
}

fn per_cpu() -> kwasm_map_decl {
    decl(KWASM_MAP_KIND_PERCPU_ARRAY, 2, "per_cpu", 4, 8, 100)
}

fn events() -> kwasm_map_decl {
    let mut d = decl(KWASM_MAP_KIND_EVENTS, 3, "events", 0, 12, 65536);
    d.set_value_fmt("saddr:ipv4,sport:port,dport:port,proto:u8,pad3")
        .unwrap();
    d
}

#[test]
fn each_kind_loads_with_its_memory() {
    // 1024 entries of 3 header words + key word + value word, 1024 bucket
    // heads, 256 lock stripes.
    let hash = 1024 * 40 + 1024 * 4 + 256 * LOCK + MAP;
    // 8 elements of a sequence word + 2 value words, 8 stripes.
    let array = 8 * 24 + 8 * LOCK + MAP;
    // 100 elements of 16 bytes on each possible CPU, no locks.
    let percpu = CPUS * 100 * 16 + MAP;
    let ring = 65536 + RING + MAP;
    for (d, memory) in [
        (blocked(), hash),
        (counters(), array),
        (per_cpu(), percpu),
        (events(), ring),
    ] {
        let p = load_decls(&[d]).unwrap_or_else(|e| panic!("{e:?}"));
        let info = p.info();
        assert_eq!((info.maps, info.map_memory), (1, memory));
    }
    let all = load_decls(&[blocked(), counters(), per_cpu(), events()]).unwrap();
    let info = all.info();
    assert_eq!(info.maps, 4);
    assert_eq!(info.map_memory, hash + array + percpu + ring);
    // Maps change nothing of the packet path yet.
    let r = all.run(&kwasm_test_support::packet::tcp(1, 2, b"x"));
    assert_eq!((r.verdict, r.outcome), (KWASM_ACCEPT, KWASM_OUTCOME_OK));
}

#[test]
fn no_section_or_an_empty_one_is_no_maps() {
    let p = load_ok(ACCEPT_ALL);
    assert_eq!((p.info().maps, p.info().map_memory), (0, 0));
    let p = load_with(ACCEPT_ALL, &[]).unwrap();
    assert_eq!((p.info().maps, p.info().map_memory), (0, 0));
}

#[test]
fn limits_are_accepted_at_the_limit() {
    let mut decls = Vec::new();
    for i in 0..KWASM_LIMIT_MAPS {
        decls.push(decl(
            KWASM_MAP_KIND_ARRAY,
            255 - i,
            &format!("m{i}"),
            4,
            1,
            1,
        ));
    }
    assert_eq!(load_decls(&decls).unwrap().info().maps, 32);
    let key = decl(KWASM_MAP_KIND_HASH, 0, "k", 64, 4096, 1);
    let ring = decl(KWASM_MAP_KIND_EVENTS, 1, "r", 0, 4096, 16 << 20);
    let small = decl(KWASM_MAP_KIND_EVENTS, 1, "r", 0, 4064, 4096);
    let long = "n".repeat(31);
    let name = decl(KWASM_MAP_KIND_ARRAY, 2, &long, 4, 1, 1 << 20);
    assert!(load_decls(&[key, ring, name]).is_ok());
    assert!(load_decls(&[key, small, name]).is_ok());
    // Formats of the largest key and a 127-byte value.
    let mut fmt = decl(KWASM_MAP_KIND_HASH, 0, "f", 64, 127, 1);
    fmt.set_key_fmt(&format!("a:hex32,b:hex22{}", ",u8".repeat(10)))
        .unwrap();
    fmt.set_value_fmt(&format!("v:hex100{}", ",u8".repeat(27)))
        .unwrap();
    assert_eq!(load_decls(&[fmt]).map(|p| p.info().maps), Ok(1));
}

#[test]
fn section_shape_is_checked() {
    refused_bytes(
        &[1; 300],
        EINVAL,
        "custom section kwasm.maps: its 300 bytes are not a whole number of 256-byte entries",
    );
    let mut decls = Vec::new();
    for i in 0..=KWASM_LIMIT_MAPS {
        decls.push(decl(KWASM_MAP_KIND_ARRAY, i, &format!("m{i}"), 4, 1, 1));
    }
    refused(
        &decls,
        E2BIG,
        "custom section kwasm.maps declares 33 maps; the limit is 32",
    );
    // wasm-ld merges same-named sections; two in one module are refused.
    let wasm = wat::parse_str(ACCEPT_ALL).unwrap();
    let once = with_custom_section(wasm, "kwasm.maps", &section(&[blocked()]));
    let twice = with_custom_section(once, "kwasm.maps", &section(&[counters()]));
    let (errno, msg) = load_bytes(&twice, &opts(256, KWASM_ACCEPT)).err().unwrap();
    assert_eq!(errno, EINVAL);
    assert!(
        msg.contains("custom section kwasm.maps appears more than once"),
        "{msg}"
    );
}

#[test]
fn maps_are_refused_in_original_abi_programs() {
    let (errno, msg) = load_with(ORIGINAL, &section(&[blocked()])).err().unwrap();
    assert_eq!(
        (errno, msg.as_str()),
        (
            EINVAL,
            "custom section kwasm.maps declares maps, which are for kwasm_filter programs, \
             not the original ABI"
        )
    );
}

#[test]
fn version_and_name_are_checked_first() {
    let mut d = blocked();
    d.version = 2;
    refused(
        &[counters(), d],
        EINVAL,
        "kwasm.maps entry 1: version 2 is not supported (1)",
    );
    let bad_name = |name: &[u8], shown: &str| {
        let mut d = blocked();
        d.name = [0; 32];
        for (dst, &b) in d.name.iter_mut().zip(name) {
            *dst = b as _;
        }
        refused(
            &[d],
            EINVAL,
            &format!(
                "kwasm.maps entry 0: name \"{shown}\" is not 1 to 31 characters of \
                 [A-Za-z0-9_], NUL-padded"
            ),
        );
    };
    bad_name(b"", "");
    bad_name(b"a-b", "a-b");
    bad_name(b"caf\xc3\xa9", "caf\\xc3\\xa9");
    bad_name(&[b'n'; 32], &"n".repeat(32));
    bad_name(b"ab\0c", "ab");
}

#[test]
fn fields_are_checked() {
    let with = |f: fn(&mut kwasm_map_decl)| {
        let mut d = blocked();
        f(&mut d);
        d
    };
    refused(
        &[with(|d| d.kind = 0)],
        EINVAL,
        "map blocked: unknown kind 0 (1 array, 2 percpu_array, 3 hash, 4 events)",
    );
    refused(
        &[with(|d| d.kind = 5)],
        EINVAL,
        "map blocked: unknown kind 5 (1 array, 2 percpu_array, 3 hash, 4 events)",
    );
    refused(
        &[with(|d| d.flags = 1)],
        EINVAL,
        "map blocked: flags 0x1 are not defined (version 1 has none)",
    );
    refused(
        &[with(|d| d.reserved = 0x100)],
        EINVAL,
        "map blocked: reserved field is 0x100, not 0",
    );
    refused(
        &[with(|d| d.id = 256)],
        EINVAL,
        "map blocked: id 256 is not below 256",
    );
    refused(
        &[with(|d| d.id = u32::MAX)],
        EINVAL,
        "map blocked: id 4294967295 is not below 256",
    );
}

#[test]
fn names_ids_and_the_ring_are_unique() {
    let mut again = counters();
    again.set_name("blocked").unwrap();
    refused(
        &[blocked(), per_cpu(), again],
        EINVAL,
        "map blocked: declared twice (entries 0 and 2)",
    );
    let mut same_id = counters();
    same_id.id = blocked().id;
    refused(
        &[blocked(), same_id],
        EINVAL,
        "map counters: id 0 is map blocked's too",
    );
    let mut second = events();
    second.set_name("more").unwrap();
    second.id = 9;
    refused(
        &[events(), blocked(), second],
        EINVAL,
        "map more: a second events ring (map events is one); a program has at most one",
    );
}

#[test]
fn sizes_are_checked_by_kind() {
    let d = |kind, key, value, max| decl(kind, 0, "m", key, value, max);
    let (array, percpu, hash, ring) = (
        KWASM_MAP_KIND_ARRAY,
        KWASM_MAP_KIND_PERCPU_ARRAY,
        KWASM_MAP_KIND_HASH,
        KWASM_MAP_KIND_EVENTS,
    );
    let cases = [
        (
            d(array, 8, 4, 1),
            EINVAL,
            "key size 8; an array's key is a 4-byte index",
        ),
        (
            d(percpu, 0, 4, 1),
            EINVAL,
            "key size 0; an array's key is a 4-byte index",
        ),
        (
            d(hash, 0, 4, 1),
            EINVAL,
            "key size 0; a hash key is 1 to 64 bytes",
        ),
        (
            d(hash, 65, 4, 1),
            E2BIG,
            "key size 65 bytes; the limit is 64",
        ),
        (
            d(ring, 4, 4, 4096),
            EINVAL,
            "key size 4; an events ring has no key (0)",
        ),
        (
            d(array, 4, 0, 1),
            EINVAL,
            "value size 0; it is 1 to 4096 bytes",
        ),
        (
            d(hash, 4, 4097, 1),
            E2BIG,
            "value size 4097 bytes; the limit is 4096",
        ),
        (
            d(ring, 0, 0, 4096),
            EINVAL,
            "record size 0; it is 1 to 4096 bytes",
        ),
        (
            d(ring, 0, 5000, 8192),
            E2BIG,
            "record size 5000 bytes; the limit is 4096",
        ),
        (
            d(array, 4, 4, 0),
            EINVAL,
            "0 entries; a map has 1 to 1048576",
        ),
        (
            d(hash, 4, 4, 0),
            EINVAL,
            "0 entries; a map has 1 to 1048576",
        ),
        (
            d(percpu, 4, 4, (1 << 20) + 1),
            E2BIG,
            "1048577 entries; the limit is 1048576",
        ),
        (
            d(ring, 0, 8, 2048),
            EINVAL,
            "ring of 2048 bytes: its size is a power of two from 4096 to 16777216",
        ),
        (
            d(ring, 0, 8, 12288),
            EINVAL,
            "ring of 12288 bytes: its size is a power of two from 4096 to 16777216",
        ),
        (
            d(ring, 0, 8, 32 << 20),
            E2BIG,
            "ring of 33554432 bytes; the limit is 16777216",
        ),
        (
            d(ring, 0, 4065, 4096),
            EINVAL,
            "a record of 4065 bytes takes 4104 with its header, more than the ring of 4096 \
             bytes",
        ),
    ];
    for (decl, errno, why) in cases {
        refused(&[decl], errno, &format!("map m: {why}"));
    }
    // The design's example.
    refused(
        &[decl(hash, 4, "flows", 8, 8, 2 << 20)],
        E2BIG,
        "map flows: 2097152 entries; the limit is 1048576",
    );
}

#[test]
fn formats_are_checked() {
    let with_fmt = |key: &str, value: &str| {
        let mut d = blocked();
        d.set_key_fmt(key).unwrap();
        d.set_value_fmt(value).unwrap();
        d
    };
    let cases = [
        (
            with_fmt("u64", "u8"),
            "key format \"u64\": fields take 8 bytes, not 4",
        ),
        (
            with_fmt("ipv4", "u8,u8"),
            "value format \"u8,u8\": fields take 2 bytes, not 1",
        ),
        (
            with_fmt("ip", "u8"),
            "key format \"ip\": field 1: unknown type \"ip\" (u8..u64, i8..i64, ipv4, ipv4be, \
             port, hexN, padN)",
        ),
        (
            with_fmt("a:u16,a:u16", "u8"),
            "key format \"a:u16,a:u16\": field 2: name a is used twice",
        ),
        (
            with_fmt("hex04", "u8"),
            "key format \"hex04\": field 1: type \"hex04\" needs a size from 1 to 4096 without \
             leading zeros",
        ),
        (
            with_fmt("port,", "u8"),
            "key format \"port,\": field 2: a field has no type",
        ),
        (
            with_fmt("9x:ipv4", "u8"),
            "key format \"9x:ipv4\": field 1: field name \"9x\" is not [A-Za-z_][A-Za-z0-9_]* \
             of at most 31 characters",
        ),
    ];
    for (decl, why) in cases {
        refused(&[decl], EINVAL, &format!("map blocked: {why}"));
    }
    let mut ev = events();
    ev.set_value_fmt("u32").unwrap();
    refused(
        &[ev],
        EINVAL,
        "map events: record format \"u32\": fields take 4 bytes, not 12",
    );
    // An events ring has no key: any key format is a mismatch.
    let mut ev = events();
    ev.set_key_fmt("u8").unwrap();
    refused(
        &[ev],
        EINVAL,
        "map events: key format \"u8\": fields take 1 bytes, not 0",
    );
    // A reason quotes at most 24 characters of a format, so that it fits
    // the error buffer whatever the format.
    let mut d = blocked();
    d.set_value_fmt(&"1".repeat(127)).unwrap();
    refused(
        &[d],
        EINVAL,
        &format!(
            "map blocked: value format \"{0}\"...: field 1: unknown type \"{0}\"... (u8..u64, \
             i8..i64, ipv4, ipv4be, port, hexN, padN)",
            "1".repeat(24)
        ),
    );
    // Text fields: NUL-terminated, zero after the NUL, ASCII.
    let mut d = blocked();
    d.key_fmt = [b'u' as _; 72];
    refused(
        &[d],
        EINVAL,
        "map blocked: key format is not ASCII text of at most 71 bytes, NUL-padded",
    );
    let mut d = blocked();
    d.value_fmt[5] = 1;
    refused(
        &[d],
        EINVAL,
        "map blocked: value format is not ASCII text of at most 127 bytes, NUL-padded",
    );
    let mut d = blocked();
    d.value_fmt[0] = 0xc3u8 as _;
    refused(
        &[d],
        EINVAL,
        "map blocked: value format is not ASCII text of at most 127 bytes, NUL-padded",
    );
}

#[test]
fn map_memory_is_limited_per_program() {
    // 2^20 entries of a sequence word and 4 value words: 40 MiB each.
    let big = |id, name: &str| decl(KWASM_MAP_KIND_ARRAY, id, name, 4, 32, 1 << 20);
    let one = (40 << 20) + 256 * LOCK + MAP;
    assert_eq!(load_decls(&[big(0, "a")]).unwrap().info().map_memory, one);
    refused(
        &[big(0, "a"), big(1, "b")],
        E2BIG,
        &format!(
            "map b: its {one} bytes bring the program's maps to {} bytes; the limit is 67108864",
            2 * one
        ),
    );
    // Per-CPU arrays count once per possible CPU: 3 × 24 MiB.
    let percpu = decl(KWASM_MAP_KIND_PERCPU_ARRAY, 0, "pc", 4, 16, 1 << 20);
    let bytes = CPUS * (24 << 20) + MAP;
    refused(
        &[percpu],
        E2BIG,
        &format!(
            "map pc: its {bytes} bytes bring the program's maps to {bytes} bytes; the limit \
             is 67108864"
        ),
    );
}

/// The VM fixtures of bad_uploads (tests/vm/fixtures/maps_*.wat) are
/// refused here as the VM case expects, and maps_ok loads.
#[test]
fn vm_fixtures_are_refused_as_expected() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vm/fixtures");
    let load = |name: &str| {
        let text = std::fs::read_to_string(format!("{dir}/{name}.wat")).unwrap();
        load_bytes(&wat::parse_str(&text).unwrap(), &opts(256, KWASM_ACCEPT))
    };
    let ok = load("maps_ok").unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(ok.info().maps, 3);
    for (name, errno, start) in [
        ("maps_bad_kind", EINVAL, "map blocked: unknown kind 7"),
        (
            "maps_same_id",
            EINVAL,
            "map counters: id 0 is map blocked's too",
        ),
        (
            "maps_too_many_entries",
            E2BIG,
            "map flows: 2097152 entries; the limit is 1048576",
        ),
        ("maps_bad_format", EINVAL, "map counters: value format"),
        ("maps_bad_length", EINVAL, "custom section kwasm.maps: "),
        (
            "maps_original_abi",
            EINVAL,
            "custom section kwasm.maps declares maps",
        ),
    ] {
        let (e, msg) = load(name).err().unwrap_or_else(|| panic!("{name} loaded"));
        assert_eq!(e, errno, "{name}: {msg}");
        assert!(msg.starts_with(start), "{name}: {msg}");
    }
}

// KWASM_CORE_MAP_* of include/kwasm_core.h (not among the test bindings).
const MAP_LOOKUP: u32 = 1;
const MAP_UPDATE: u32 = 2;
const MAP_DELETE: u32 = 3;

/// `name` as a NUL-terminated request field.
fn c_name<const N: usize>(name: &str) -> [std::ffi::c_char; N] {
    let mut out = [0; N];
    for (d, s) in out.iter_mut().zip(name.bytes()) {
        *d = s as std::ffi::c_char;
    }
    out
}

fn c_err(err: &[std::ffi::c_char]) -> String {
    let bytes: Vec<u8> = err
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8(bytes).unwrap()
}

/// The kwasm_core_map_* calls the shim's map ioctls make: a request
/// checked then done, a dump, and the refusals of null pointers and an
/// unknown request, with their reasons.
#[test]
fn map_requests_through_the_c_interface() {
    let prog = load_decls(&[blocked()]).unwrap();
    // SAFETY (all calls below): live pointers to our own buffers, and a
    // reference from kwasm_core_maps_get dropped once at the end.
    let maps = unsafe { kwasm_core_maps_get(prog.as_ptr()) };
    assert!(!maps.is_null());
    let mut err = [0 as std::ffi::c_char; 128];
    let key = [2u8, 0, 0, 127];
    let mut value = [7u8];
    // SAFETY: zero is a valid request of plain integers and arrays.
    let mut req: kwasm_map_op = unsafe { std::mem::zeroed() };
    req.size = std::mem::size_of::<kwasm_map_op>() as u32;
    req.name = c_name("blocked");
    req.key_size = 4;
    req.value_size = 1;
    req.cpu = KWASM_MAP_ALL_CPUS;
    let call = |req: &kwasm_map_op, cmd: u32, value: *mut u8, err: &mut [std::ffi::c_char; 128]| unsafe {
        let rc = kwasm_core_map_op_check(maps, cmd, req, err.as_mut_ptr(), err.len());
        if rc != 0 {
            return rc;
        }
        kwasm_core_map_op(
            maps,
            cmd,
            req,
            key.as_ptr(),
            value,
            err.as_mut_ptr(),
            err.len(),
        )
    };
    assert_eq!(call(&req, MAP_UPDATE, value.as_mut_ptr(), &mut err), 0);
    value[0] = 0;
    assert_eq!(call(&req, MAP_LOOKUP, value.as_mut_ptr(), &mut err), 0);
    assert_eq!(value, [7]);

    // SAFETY: as above.
    let mut dump: kwasm_map_dump = unsafe { std::mem::zeroed() };
    dump.size = std::mem::size_of::<kwasm_map_dump>() as u32;
    dump.name = c_name("blocked");
    let mut record_len = 0u32;
    let mut buf = [0u8; 64];
    dump.buf_len = buf.len() as u32;
    let rc = unsafe {
        kwasm_core_map_dump_check(maps, &dump, &mut record_len, err.as_mut_ptr(), err.len())
    };
    assert_eq!((rc, record_len), (0, 16), "{}", c_err(&err));
    let rc = unsafe {
        let len = buf.len() as u32;
        kwasm_core_map_dump(
            maps,
            &mut dump,
            buf.as_mut_ptr(),
            len,
            err.as_mut_ptr(),
            err.len(),
        )
    };
    assert_eq!((rc, dump.count), (0, 1));
    assert_eq!((&buf[..4], buf[8]), (&key[..], 7));

    // Refusals: EINVAL and a reason each.
    assert_eq!(call(&req, 9, value.as_mut_ptr(), &mut err), -EINVAL);
    assert_eq!(c_err(&err), "no maps, no request or an unknown request");
    let rc = unsafe {
        kwasm_core_map_op(
            std::ptr::null(),
            MAP_LOOKUP,
            &req,
            key.as_ptr(),
            value.as_mut_ptr(),
            err.as_mut_ptr(),
            err.len(),
        )
    };
    assert_eq!(
        (rc, c_err(&err).as_str()),
        (-EINVAL, "no maps, no request or an unknown request")
    );
    let rc = unsafe {
        kwasm_core_map_dump_check(
            maps,
            &dump,
            std::ptr::null_mut(),
            err.as_mut_ptr(),
            err.len(),
        )
    };
    assert_eq!(
        (rc, c_err(&err).as_str()),
        (-EINVAL, "no maps, no request or no result")
    );
    let rc = unsafe {
        kwasm_core_map_dump(
            maps,
            &mut dump,
            std::ptr::null_mut(),
            64,
            err.as_mut_ptr(),
            err.len(),
        )
    };
    assert_eq!(
        (rc, c_err(&err).as_str()),
        (-EINVAL, "no maps, no request or no buffer")
    );

    assert_eq!(
        call(&req, MAP_DELETE, std::ptr::null_mut(), &mut err),
        -EINVAL
    );
    req.value_size = 0;
    assert_eq!(call(&req, MAP_DELETE, std::ptr::null_mut(), &mut err), 0);
    assert_eq!(
        call(&req, MAP_LOOKUP, std::ptr::null_mut(), &mut err),
        -EINVAL
    );
    // SAFETY: our one reference.
    unsafe { kwasm_core_maps_put(maps) };
}
