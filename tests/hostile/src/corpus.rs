// SPDX-License-Identifier: GPL-2.0
//! The hostile modules, built in memory: truncations of the examples,
//! malformed LEB128s, modules over each load limit, bad data segments,
//! bad exports and start functions.

use wasm_encoder::{
    CodeSection, DataCountSection, ExportKind, ExportSection, Function, FunctionSection, Module,
    RawSection, TypeSection, ValType,
};

/// What a load of a case must give.
pub enum Expect {
    /// Fails with this errno and a reason containing every needle
    /// (case-insensitive); no needle: any non-empty reason.
    Fail(i32, Vec<&'static str>),
    /// Loads (a valid module in an unusual encoding).
    Loads,
}

pub struct Case {
    pub name: String,
    pub wasm: Vec<u8>,
    pub expect: Expect,
}

fn fail(name: impl Into<String>, wasm: Vec<u8>, errno: i32, needles: &[&'static str]) -> Case {
    Case {
        name: name.into(),
        wasm,
        expect: Expect::Fail(errno, needles.to_vec()),
    }
}

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap_or_else(|e| panic!("bad WAT in the corpus: {e}"))
}

const HEADER: [u8; 8] = *b"\0asm\x01\0\0\0";

/// (start, id) of each section of a well-formed module.
fn sections(wasm: &[u8]) -> Vec<(usize, u8)> {
    let mut out = Vec::new();
    let mut at = HEADER.len();
    while at < wasm.len() {
        let id = wasm[at];
        let (size, len) = read_leb(&wasm[at + 1..]);
        out.push((at, id));
        at += 1 + len + size as usize;
    }
    out
}

fn read_leb(bytes: &[u8]) -> (u64, usize) {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return (value, i + 1);
        }
    }
    (value, bytes.len())
}

/// A prefix that ends where only custom (0) and data (11) sections would
/// follow is a valid module: not a truncation worth testing.
fn prefix_is_complete(secs: &[(usize, u8)], cut: usize) -> bool {
    secs.iter()
        .filter(|(start, _)| *start >= cut)
        .all(|(_, id)| matches!(id, 0 | 11))
}

/// Each example cut at every section boundary (and one byte into each
/// section); the smallest one also cut at every byte.
pub fn truncations(examples: &[(String, Vec<u8>)]) -> Vec<Case> {
    let mut cases = Vec::new();
    let smallest = examples
        .iter()
        .min_by_key(|(_, w)| w.len())
        .map(|(n, _)| n.clone());
    for (name, wasm) in examples {
        let secs = sections(wasm);
        let mut cuts: Vec<usize> = if Some(name) == smallest.as_ref() {
            (0..wasm.len()).collect()
        } else {
            secs.iter()
                .flat_map(|&(s, _)| [s, s + 1])
                .chain([0, 4])
                .collect()
        };
        cuts.sort_unstable();
        cuts.dedup();
        for cut in cuts {
            if cut >= wasm.len() || (cut > 0 && prefix_is_complete(&secs, cut)) {
                continue;
            }
            cases.push(fail(
                format!("{name} truncated to {cut} bytes"),
                wasm[..cut].to_vec(),
                libc::EINVAL,
                &[],
            ));
        }
    }
    cases
}

/// A module whose only function is the filter, with `body` as its raw
/// instruction bytes (the final `end` included).
fn filter_with_body(body: &[u8]) -> Vec<u8> {
    let mut types = TypeSection::new();
    types
        .ty()
        .function([ValType::I32, ValType::I32], [ValType::I32]);
    let mut funcs = FunctionSection::new();
    funcs.function(0);
    let mut exports = ExportSection::new();
    exports.export("kwasm_filter", ExportKind::Func, 0);
    let mut f = Function::new([]);
    f.raw(body.iter().copied());
    let mut code = CodeSection::new();
    code.function(&f);
    let mut m = Module::new();
    m.section(&types)
        .section(&funcs)
        .section(&exports)
        .section(&code);
    m.finish()
}

fn raw_section(id: u8, data: &[u8]) -> Vec<u8> {
    let mut m = Module::new();
    m.section(&RawSection { id, data });
    m.finish()
}

pub fn leb128() -> Vec<Case> {
    let mut cases = Vec::new();
    // Section size 0xffffffff, then nothing.
    let mut w = HEADER.to_vec();
    w.extend([1, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    cases.push(fail(
        "section size 0xffffffff",
        w,
        libc::EINVAL,
        &["offset"],
    ));
    // A section size with bits above u32.
    let mut w = HEADER.to_vec();
    w.extend([1, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    cases.push(fail("section size above u32", w, libc::EINVAL, &["offset"]));
    // Six-byte section size.
    let mut w = HEADER.to_vec();
    w.extend([1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]);
    cases.push(fail("six-byte section size", w, libc::EINVAL, &["offset"]));
    // Vector counts.
    for (id, what) in [
        (1u8, "types"),
        (3, "functions"),
        (7, "exports"),
        (11, "data"),
    ] {
        cases.push(fail(
            format!("{what} count 0xffffffff"),
            raw_section(id, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
            libc::EINVAL,
            &["offset"],
        ));
    }
    // Indices and immediates.
    cases.push(fail(
        "call of function 0xffffffff",
        filter_with_body(&[0x10, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0b]),
        libc::EINVAL,
        &["function 0"],
    ));
    cases.push(fail(
        "local.get 0xffffffff",
        filter_with_body(&[0x20, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0b]),
        libc::EINVAL,
        &["function 0"],
    ));
    cases.push(fail(
        "i32.const with bits above 32",
        filter_with_body(&[0x41, 0x80, 0x80, 0x80, 0x80, 0x70, 0x0b]),
        libc::EINVAL,
        &["function 0"],
    ));
    cases.push(fail(
        "i32.const of six bytes",
        filter_with_body(&[0x41, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b]),
        libc::EINVAL,
        &["function 0"],
    ));
    // Five-byte encodings of small values are valid.
    cases.push(Case {
        name: "i32.const 1 in five bytes (valid)".into(),
        wasm: filter_with_body(&[0x41, 0x81, 0x80, 0x80, 0x80, 0x00, 0x0b]),
        expect: Expect::Loads,
    });
    cases
}

fn many_functions(n: u32) -> Vec<u8> {
    let mut types = TypeSection::new();
    types
        .ty()
        .function([ValType::I32, ValType::I32], [ValType::I32]);
    let mut funcs = FunctionSection::new();
    let mut code = CodeSection::new();
    let mut f = Function::new([]);
    f.raw([0x41, 0x01, 0x0b]);
    for _ in 0..n {
        funcs.function(0);
        code.function(&f);
    }
    let mut exports = ExportSection::new();
    exports.export("kwasm_filter", ExportKind::Func, 0);
    let mut m = Module::new();
    m.section(&types)
        .section(&funcs)
        .section(&exports)
        .section(&code);
    m.finish()
}

pub fn limits() -> Vec<Case> {
    let mut cases = vec![fail(
        "100k functions",
        many_functions(100_000),
        libc::E2BIG,
        &["100000 functions", "the limit is 10000"],
    )];
    let depth = 10_000;
    let mut body = [0x02, 0x40].repeat(depth);
    body.extend(std::iter::repeat_n(0x0b, depth));
    body.extend([0x41, 0x01, 0x0b]);
    cases.push(fail(
        "10k nested blocks",
        filter_with_body(&body),
        libc::E2BIG,
        &["nests blocks", "the limit is 15"],
    ));
    cases.push(fail(
        "16 nested blocks",
        filter_with_body(&{
            let mut b = [0x02, 0x40].repeat(16);
            b.extend([0x0b; 16]);
            b.extend([0x41, 0x01, 0x0b]);
            b
        }),
        libc::E2BIG,
        &["nests blocks", "the limit is 15"],
    ));
    cases.push(fail(
        "257 pages of initial memory",
        wat(&format!("(module (memory 257) {FILTER})")),
        libc::E2BIG,
        &["257 pages", "the limit is 256"],
    ));
    cases.push(fail(
        "1000 locals",
        wat(&format!(
            r#"(module (func (export "kwasm_filter") (param i32 i32) (result i32)
                 (local {}) i32.const 1))"#,
            "i32 ".repeat(1000)
        )),
        libc::E2BIG,
        &["1002 parameters + locals", "the limit is 120"],
    ));
    cases.push(fail(
        "table of 1M entries",
        wat(&format!("(module (table 1000000 funcref) {FILTER})")),
        libc::E2BIG,
        &["1000000 entries"],
    ));
    cases.push(fail(
        "5000 globals",
        wat(&format!(
            "(module {} {FILTER})",
            "(global i32 (i32.const 0))".repeat(5000)
        )),
        libc::E2BIG,
        &["5000 globals", "the limit is 1000"],
    ));
    cases
}

const FILTER: &str = r#"(func (export "kwasm_filter") (param i32 i32) (result i32) i32.const 1)"#;

pub fn data_segments() -> Vec<Case> {
    let mut cases = vec![
        fail(
            "data segment longer than memory",
            wat(&format!(
                r#"(module (memory 1) (data (i32.const 0) "{}") {FILTER})"#,
                "x".repeat(70_000)
            )),
            libc::EINVAL,
            &["data segment 0", "does not fit"],
        ),
        fail(
            "data segment offset out of range",
            wat(&format!(
                r#"(module (memory 1) (data (i32.const 0x7ffffff0) "0123456789abcdef0123") {FILTER})"#
            )),
            libc::EINVAL,
            &["data segment 0", "offset 0x7ffffff0", "does not fit"],
        ),
    ];
    // A data count over the limit (the validator's own bound is higher).
    let mut types = TypeSection::new();
    types
        .ty()
        .function([ValType::I32, ValType::I32], [ValType::I32]);
    let mut funcs = FunctionSection::new();
    funcs.function(0);
    let mut exports = ExportSection::new();
    exports.export("kwasm_filter", ExportKind::Func, 0);
    let mut m = Module::new();
    m.section(&types)
        .section(&funcs)
        .section(&exports)
        .section(&DataCountSection { count: 50_000 });
    cases.push(fail(
        "data count 50000",
        m.finish(),
        libc::E2BIG,
        &["50000 data segments", "the limit is 1000"],
    ));
    cases.push(fail(
        "data count 0xffffffff",
        raw_section(12, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
        libc::EINVAL,
        &["data"],
    ));
    // A segment whose length says 4 GiB.
    let mut w = wat(&format!("(module (memory 1) {FILTER})"));
    w.extend([11, 8, 1, 0, 0x41, 0, 0x0b, 0xff, 0xff, 0x0f]);
    cases.push(fail(
        "data segment length 256 KiB, no bytes",
        w,
        libc::EINVAL,
        &["offset"],
    ));
    cases
}

pub fn exports_and_start() -> Vec<Case> {
    let filter_as = |decl: &str| wat(&format!("(module {decl})"));
    vec![
        fail(
            "duplicate export kwasm_filter",
            wat(
                r#"(module (func $f (param i32 i32) (result i32) i32.const 1)
                 (export "kwasm_filter" (func $f)) (export "kwasm_filter" (func $f)))"#,
            ),
            libc::EINVAL,
            &["duplicate export"],
        ),
        fail(
            "kwasm_filter is a global",
            filter_as(r#"(global (export "kwasm_filter") i32 (i32.const 0))"#),
            libc::EINVAL,
            &["export kwasm_filter must be a function"],
        ),
        fail(
            "kwasm_filter is a memory",
            filter_as(r#"(memory (export "kwasm_filter") 1)"#),
            libc::EINVAL,
            &["export kwasm_filter must be a function"],
        ),
        fail(
            "kwasm_filter is a table",
            filter_as(r#"(table (export "kwasm_filter") 1 funcref)"#),
            libc::EINVAL,
            &["export kwasm_filter must be a function"],
        ),
        fail(
            "kwasm_filter has the wrong signature",
            filter_as(r#"(func (export "kwasm_filter") (param i32) (result i32) i32.const 1)"#),
            libc::EINVAL,
            &["export kwasm_filter must be a function (i32, i32) -> i32"],
        ),
        fail(
            "start function traps",
            wat(&format!(
                "(module (func $s unreachable) (start $s) {FILTER})"
            )),
            libc::EINVAL,
            &["start", "unreachable"],
        ),
    ]
}

/// Needs the fuel limit: without it the load never returns.
pub fn start_loops_forever() -> Case {
    fail(
        "start function loops forever (needs fuel)",
        wat(&format!(
            "(module (func $s (loop br 0)) (start $s) {FILTER})"
        )),
        libc::EINVAL,
        &["start", "out of fuel"],
    )
}
