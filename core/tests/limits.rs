//! Load-time limits (core/src/limits.rs): each one accepts its value and
//! refuses one more with E2BIG and a message naming the limit and the value.

use kwasm_test_support::capi::*;

const FILTER: &str = r#"(func (export "kwasm_filter") (param i32 i32) (result i32) i32.const 1)"#;

fn module(items: &str) -> String {
    format!("(module {items} {FILTER})")
}

fn repeat(item: &str, n: usize) -> String {
    item.repeat(n)
}

fn assert_refused(wat: &str, errno: i32, needles: &[&str]) {
    let (e, msg) = load_err(wat);
    assert_eq!(e, errno, "{msg}");
    for n in needles {
        assert!(msg.contains(n), "{msg:?} lacks {n:?}");
    }
}

fn nested(depth: usize, open: &str, close: &str) -> String {
    format!(
        r#"(module (func (export "kwasm_filter") (param i32 i32) (result i32)
             {} {} i32.const 1))"#,
        open.repeat(depth),
        close.repeat(depth)
    )
}

#[test]
fn nesting_is_refused_before_wasm3_sees_it() {
    assert!(load(&nested(15, "(block ", ")")).is_ok());
    assert!(load(&nested(15, "(loop ", ")")).is_ok());
    assert_refused(
        &nested(16, "(block ", ")"),
        E2BIG,
        &[
            "function 0 nests blocks more than 15 deep",
            "the limit is 15",
        ],
    );
    let ifs = nested(8, "(loop (if (local.get 0) (then ", ")))");
    assert_refused(&ifs, E2BIG, &["more than 15 deep"]);
    // 10k levels: refused by our check, not by wasm3's recursion.
    assert_refused(&nested(10_000, "(block ", ")"), E2BIG, &["the limit is 15"]);
}

/// wasm3 alone (no kwasm checks): parse, load and compile `wat`.
fn wasm3_compiles(wat: &str) -> bool {
    use kwasm::sys::wasm3 as m3;
    let wasm = wat::parse_str(wat).expect("bad WAT in test");
    // SAFETY: plain wasm3 calls on objects created here and freed once;
    // the bytes outlive the module.
    unsafe {
        let env = m3::m3_NewEnvironment();
        let rt = m3::m3_NewRuntime(env, 64 << 10, std::ptr::null_mut());
        let mut module = std::ptr::null_mut();
        let mut ok =
            m3::m3_ParseModule(env, &mut module, wasm.as_ptr(), wasm.len() as u32).is_null();
        if ok {
            ok = m3::m3_LoadModule(rt, module).is_null();
            if ok {
                ok = m3::m3_CompileModule(module).is_null();
            } else {
                m3::m3_FreeModule(module);
            }
        }
        m3::m3_FreeRuntime(rt);
        m3::m3_FreeEnvironment(env);
        ok
    }
}

#[test]
fn nesting_limit_is_what_wasm3_accepts() {
    assert!(wasm3_compiles(&nested(15, "(block ", ")")));
    assert!(!wasm3_compiles(&nested(16, "(block ", ")")));
}

#[test]
fn locals() {
    let f = |n: usize| {
        format!(
            r#"(module (func (export "kwasm_filter") (param i32 i32) (result i32)
                 {} i32.const 1))"#,
            repeat("(local i64) ", n)
        )
    };
    assert!(load(&f(118)).is_ok());
    assert_refused(
        &f(119),
        E2BIG,
        &["function 0 has 121 parameters + locals", "the limit is 120"],
    );
    assert_refused(&f(50_000), E2BIG, &["the limit is 120"]);
}

#[test]
fn functions_types_globals_exports() {
    let funcs = |n| module(&repeat("(func)", n));
    assert!(load(&funcs(9_999)).is_ok());
    assert_refused(
        &funcs(10_000),
        E2BIG,
        &["module has 10001 functions (imported + defined); the limit is 10000"],
    );
    let types = |n| module(&repeat("(type (func))", n));
    assert!(load(&types(999)).is_ok());
    assert_refused(
        &types(1_000),
        E2BIG,
        &["module defines 1001 types; the limit is 1000"],
    );
    let globals = |n| module(&repeat("(global i32 (i32.const 0))", n));
    assert!(load(&globals(1_000)).is_ok());
    assert_refused(
        &globals(1_001),
        E2BIG,
        &["module defines 1001 globals; the limit is 1000"],
    );
    let exports = |n| {
        let mut s = String::from("(global $g i32 (i32.const 0))");
        for i in 0..n {
            s.push_str(&format!(r#"(export "g{i}" (global $g))"#));
        }
        module(&s)
    };
    assert!(load(&exports(9_999)).is_ok());
    assert_refused(
        &exports(10_000),
        E2BIG,
        &["10001 exports; the limit is 10000"],
    );
}

#[test]
fn tables_and_elements() {
    assert!(load(&module("(table 10000 10000 funcref)")).is_ok());
    assert_refused(
        &module("(table 10001 funcref)"),
        E2BIG,
        &["initial size of 10001 entries; the limit is 10000"],
    );
    assert_refused(
        &module("(table 1 10001 funcref)"),
        E2BIG,
        &["maximum size of 10001 entries"],
    );
    let elems = |n| {
        module(&format!(
            "(table 10000 funcref) (func $f) {}",
            repeat("(elem (i32.const 0) $f)", n)
        ))
    };
    assert!(load(&elems(1_000)).is_ok());
    assert_refused(
        &elems(1_001),
        E2BIG,
        &["1001 element segments; the limit is 1000"],
    );
    let refs = module(&format!(
        "(table 10000 funcref) (func $f) (elem (i32.const 0) {})",
        repeat("$f ", 10_001)
    ));
    assert_refused(&refs, E2BIG, &["hold 10001 function references"]);
}

#[test]
fn memory() {
    // A declared maximum above the limit is capped, not refused.
    assert!(load(&module("(memory 1 65536)")).is_ok());
    assert_refused(
        &module("(memory 257)"),
        E2BIG,
        &["linear memory has an initial size of 257 pages of 64 KiB; the limit is 256"],
    );
}

#[test]
fn data_segments() {
    let segs = |n| {
        module(&format!(
            "(memory 1) {}",
            repeat(r#"(data (i32.const 0) "x")"#, n)
        ))
    };
    assert!(load(&segs(1_000)).is_ok());
    assert_refused(
        &segs(1_001),
        E2BIG,
        &["1001 data segments; the limit is 1000"],
    );
    // Larger than memory, or out of range: EINVAL naming the segment.
    let big = format!(
        r#"(memory 1) (data (i32.const 0) "{}")"#,
        "a".repeat(65_537)
    );
    assert_refused(
        &module(&big),
        EINVAL,
        &["data segment 0 (65537 bytes at offset 0x0) does not fit in the initial linear memory of 65536 bytes"],
    );
    assert_refused(
        &module(r#"(memory 1) (data (i32.const -1) "ab")"#),
        EINVAL,
        &["data segment 0 (2 bytes at offset 0xffffffff)"],
    );
    assert_refused(
        &module(r#"(data (i32.const 0) "ab")"#),
        EINVAL,
        &["unknown memory"],
    );
    let total = format!(
        "(memory 256) {}",
        repeat(
            &format!(r#"(data (i32.const 0) "{}")"#, "a".repeat(1 << 20)),
            3
        )
    );
    assert_refused(
        &module(&total),
        E2BIG,
        &["data segments hold 3145728 bytes; the limit is 2097152"],
    );
}

#[test]
fn instance_memory_over_possible_cpus() {
    // The host has 3 possible CPUs: 3 × 16 MiB is within the total.
    assert!(load(&module("(memory 256)")).is_ok());
}
