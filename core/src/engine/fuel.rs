//! Fuel metering: bounded execution of a program's every call.
//!
//! [`instrument`] rewrites a validated module so that it counts down a
//! budget as it runs and traps once the budget is spent. The module gets
//! one more global, a mutable i64 appended after every existing global (so
//! no index shifts) and exported as [`EXPORT_NAME`]. The host sets it to the
//! budget before each call and reads it afterwards: what is gone is the fuel
//! used, and a trap with the global below zero is "out of fuel".
//!
//! # Where fuel is charged
//!
//! Code is cut into *regions*: a function body, and each `loop` body, each
//! without the loops nested in it. A region is charged its static operator
//! count (every operator in it, `end`s included; a nested `loop` opcode
//! belongs to the outer region, its body and `end` to the inner one) when
//! control enters it: at the start of the function body, and as the first
//! thing inside the `loop`, which every branch back to the loop executes.
//!
//! # Why operators executed <= fuel consumed
//!
//! Inside one region control only moves forward: `block`, `if`/`else` and
//! every branch to a `block` or `if` go to a later operator, and the only
//! backward branches in WebAssembly go to a `loop` header, which starts
//! another region (or another entry of the same region) and pays for it.
//! Calls leave the region and come back to the operator after the call; the
//! callee pays for its own body. So between two charges of a region each of
//! its operators runs at most once, and every executed operator lies in a
//! region whose entry was paid for just before: the operators executed never
//! exceed the sum of the charges. The charge comes before the region runs,
//! so a program that runs out has executed at most its budget.
//!
//! # The check
//!
//! `f -= cost; if f < 0 { trap }`, written without an `if`: `1 / (f >= 0)`
//! as an `i32.div_u` whose result is dropped. A `block` or `if` would add a
//! control nesting level inside every loop, and wasm3 refuses functions
//! deeper than `d_m3ValCtrlDepth` (16): a program at that limit would fail
//! to load only because it is metered. The division needs no nesting; it
//! traps as "divide by zero", which the host tells from a real one by the
//! global: it is below zero only after the check fired (the program cannot
//! name the global: it did not exist when the program was validated, and
//! validation refuses exports of that name). At its peak the check holds
//! three more operands on the stack.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use wasm_encoder::{
    CodeSection, ConstExpr, Encode, ExportKind, ExportSection, GlobalType, Instruction, Module,
    RawSection, ValType,
};
use wasmparser::{
    BinaryReader, BinaryReaderError, CodeSectionReader, ExportSectionReader, ExternalKind,
    FunctionBody, ImportSectionReader, Operator, TypeRef, Validator,
};

/// The export under which the instrumented module exposes its fuel global.
pub const EXPORT_NAME: &str = "kwasm_fuel";
/// [`EXPORT_NAME`] for wasm3's lookup.
pub const EXPORT_CNAME: &core::ffi::CStr = c"kwasm_fuel";

const SECTION_IMPORT: u8 = 2;
const SECTION_GLOBAL: u8 = 6;
const SECTION_EXPORT: u8 = 7;
const SECTION_CODE: u8 = 10;

/// Position of a non-custom section in the required order (the binary
/// format's order, where the tag section 13 sits between memory and
/// global, and data count 12 between element and code).
fn rank(id: u8) -> Option<u8> {
    match id {
        1..=5 => Some(id),
        13 => Some(6),
        6..=9 => Some(id + 1),
        12 => Some(11),
        10 | 11 => Some(id + 2),
        _ => None,
    }
}

/// Why instrumentation failed: the module is malformed where the validator
/// should already have refused it, or the output did not validate.
#[derive(Debug)]
pub struct Error(pub String);

fn malformed(e: &BinaryReaderError) -> Error {
    Error(format!(
        "fuel instrumentation: offset {:#x}: {}",
        e.offset(),
        e.message()
    ))
}

/// Returns `wasm` (a module the validator accepted) with fuel metering,
/// its fuel global starting at `budget` (which the start function runs
/// with). The result is validated again with `features`.
pub fn instrument(
    wasm: &[u8],
    budget: i64,
    features: wasmparser::WasmFeatures,
) -> Result<Vec<u8>, Error> {
    let header = wasm
        .get(..8)
        .ok_or_else(|| Error("fuel instrumentation: module shorter than its header".into()))?;
    if header != Module::HEADER {
        return Err(Error(
            "fuel instrumentation: not a WebAssembly 1.0 module".into(),
        ));
    }
    let mut reader = BinaryReader::new(wasm, 0);
    // The 8 bytes were checked above.
    reader.read_bytes(8).map_err(|e| malformed(&e))?;

    let mut out = Module::new();
    let mut imported_globals = 0u32;
    let mut global: Option<u32> = None;
    let mut exported = false;
    let mut last_rank = None;

    while !reader.eof() {
        let id = reader.read_u8().map_err(|e| malformed(&e))?;
        let size = reader.read_var_u32().map_err(|e| malformed(&e))?;
        let offset = reader.original_position();
        let data = reader
            .read_bytes(size as usize)
            .map_err(|e| malformed(&e))?;
        let section = BinaryReader::new(data, offset);

        if let Some(r) = rank(id) {
            if last_rank.is_some_and(|last| r <= last) {
                return Err(Error(format!(
                    "fuel instrumentation: section {id} out of order"
                )));
            }
            last_rank = Some(r);
            // Sections that come after the global (export) section: add
            // ours first if the module has none.
            if global.is_none() && r > rank(SECTION_GLOBAL).unwrap_or(0) {
                global = Some(add_globals(&mut out, None, imported_globals, budget)?);
            }
            if !exported && r > rank(SECTION_EXPORT).unwrap_or(0) {
                add_exports(&mut out, None, global)?;
                exported = true;
            }
        }

        match id {
            SECTION_IMPORT => {
                imported_globals = count_imported_globals(section)?;
                out.section(&RawSection { id, data });
            }
            SECTION_GLOBAL => {
                global = Some(add_globals(
                    &mut out,
                    Some(section),
                    imported_globals,
                    budget,
                )?);
            }
            SECTION_EXPORT => {
                add_exports(&mut out, Some(section), global)?;
                exported = true;
            }
            SECTION_CODE => {
                let index = global.ok_or_else(|| {
                    Error("fuel instrumentation: code before the global section".into())
                })?;
                let reader = CodeSectionReader::new(section).map_err(|e| malformed(&e))?;
                let mut code = CodeSection::new();
                let mut body = Vec::new();
                for func in reader {
                    let func = func.map_err(|e| malformed(&e))?;
                    body.clear();
                    instrument_body(wasm, &func, index, &mut body)?;
                    code.raw(&body);
                }
                out.section(&code);
            }
            _ => {
                out.section(&RawSection { id, data });
            }
        }
    }
    if global.is_none() {
        global = Some(add_globals(&mut out, None, imported_globals, budget)?);
    }
    if !exported {
        add_exports(&mut out, None, global)?;
    }

    let out = out.finish();
    Validator::new_with_features(features)
        .validate_all(&out)
        .map_err(|e| {
            Error(format!(
                "internal error: the fuel-metered module does not validate: offset {:#x}: {}",
                e.offset(),
                e.message()
            ))
        })?;
    Ok(out)
}

fn count_imported_globals(section: BinaryReader<'_>) -> Result<u32, Error> {
    let reader = ImportSectionReader::new(section).map_err(|e| malformed(&e))?;
    let mut n = 0u32;
    for import in reader.into_imports() {
        if matches!(import.map_err(|e| malformed(&e))?.ty, TypeRef::Global(_)) {
            n = n.saturating_add(1);
        }
    }
    Ok(n)
}

/// Writes the global section: the module's globals, if any, then ours.
/// Returns the index of ours.
fn add_globals(
    out: &mut Module,
    section: Option<BinaryReader<'_>>,
    imported: u32,
    budget: i64,
) -> Result<u32, Error> {
    let (count, rest) = match section {
        None => (0, &[][..]),
        Some(mut r) => {
            let count = r.read_var_u32().map_err(|e| malformed(&e))?;
            let rest = r
                .read_bytes(r.bytes_remaining())
                .map_err(|e| malformed(&e))?;
            (count, rest)
        }
    };
    let too_many = || Error("fuel instrumentation: too many globals".into());
    let index = imported.checked_add(count).ok_or_else(too_many)?;
    let mut data = Vec::new();
    count.checked_add(1).ok_or_else(too_many)?.encode(&mut data);
    data.extend_from_slice(rest);
    GlobalType {
        val_type: ValType::I64,
        mutable: true,
        shared: false,
    }
    .encode(&mut data);
    ConstExpr::i64_const(budget).encode(&mut data);
    out.section(&RawSection {
        id: SECTION_GLOBAL,
        data: &data,
    });
    Ok(index)
}

/// Writes the export section: the module's exports, if any, then ours.
fn add_exports(
    out: &mut Module,
    section: Option<BinaryReader<'_>>,
    global: Option<u32>,
) -> Result<(), Error> {
    let global =
        global.ok_or_else(|| Error("fuel instrumentation: exports before globals".into()))?;
    let mut exports = ExportSection::new();
    if let Some(section) = section {
        for export in ExportSectionReader::new(section).map_err(|e| malformed(&e))? {
            let export = export.map_err(|e| malformed(&e))?;
            let kind = match export.kind {
                ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
                ExternalKind::Table => ExportKind::Table,
                ExternalKind::Memory => ExportKind::Memory,
                ExternalKind::Global => ExportKind::Global,
                ExternalKind::Tag => ExportKind::Tag,
            };
            exports.export(export.name, kind, export.index);
        }
    }
    exports.export(EXPORT_NAME, ExportKind::Global, global);
    out.section(&exports);
    Ok(())
}

/// Appends to `out` the instructions that charge `cost` to global `g` and
/// trap when it goes below zero (see the module documentation).
fn charge(g: u32, cost: u64, out: &mut Vec<u8>) {
    let cost = i64::try_from(cost).unwrap_or(i64::MAX);
    for insn in [
        Instruction::GlobalGet(g),
        Instruction::I64Const(cost),
        Instruction::I64Sub,
        Instruction::GlobalSet(g),
        Instruction::I32Const(1),
        Instruction::GlobalGet(g),
        Instruction::I64Const(0),
        Instruction::I64GeS,
        Instruction::I32DivU,
        Instruction::Drop,
    ] {
        insn.encode(out);
    }
}

/// The static cost of each region of one function body and where its
/// charge goes: (byte offset in the module, cost). The function region is
/// first.
fn regions(func: &FunctionBody<'_>) -> Result<Vec<(usize, u64)>, Error> {
    let mut ops = func.get_operators_reader().map_err(|e| malformed(&e))?;
    let start = ops.original_position();
    let mut regions = Vec::from([(start as usize, 0u64)]);
    // Region of each open control frame; the function's is 0.
    let mut frames = Vec::from([0usize]);
    while !ops.eof() {
        let (op, _) = ops.read_with_offset().map_err(|e| malformed(&e))?;
        let current = frames.last().copied().unwrap_or(0);
        // The operator itself is paid by the region it is read in; a
        // loop's `end` by the loop's region, which `frames` still has.
        if let Some((_, cost)) = regions.get_mut(current) {
            *cost = cost.saturating_add(1);
        }
        match op {
            Operator::Loop { .. } => {
                // The charge goes after the block type: inside the loop.
                regions.push((ops.original_position() as usize, 0));
                frames.push(regions.len() - 1);
            }
            Operator::Block { .. } | Operator::If { .. } => frames.push(current),
            Operator::End => {
                frames.pop();
            }
            _ => {}
        }
    }
    ops.finish().map_err(|e| malformed(&e))?;
    Ok(regions)
}

/// Writes the body of `func` with a charge at its start and at every loop
/// header into `out` (without the size prefix).
fn instrument_body(
    wasm: &[u8],
    func: &FunctionBody<'_>,
    global: u32,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let range = func.range();
    let mut at = range.start as usize;
    let end = range.end as usize;
    let mut regions = regions(func)?;
    regions.sort_by_key(|&(offset, _)| offset);
    let bad_offset = || Error("fuel instrumentation: function body out of range".into());
    for (offset, cost) in regions {
        out.extend_from_slice(wasm.get(at..offset).ok_or_else(bad_offset)?);
        charge(global, cost, out);
        at = offset;
    }
    out.extend_from_slice(wasm.get(at..end).ok_or_else(bad_offset)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::validate;

    fn wat(text: &str) -> Vec<u8> {
        wat::parse_str(text).expect("test WAT")
    }

    fn instrumented(text: &str) -> Vec<u8> {
        instrument(&wat(text), 100, validate::features()).expect("instrument")
    }

    /// (offset, cost) of every region of every function.
    fn costs(text: &str) -> Vec<Vec<u64>> {
        let wasm = wat(text);
        let mut all = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            if let wasmparser::Payload::CodeSectionEntry(body) = payload.expect("payload") {
                let r = regions(&body).expect("regions");
                all.push(r.into_iter().map(|(_, c)| c).collect());
            }
        }
        all
    }

    #[test]
    fn straight_line_function_is_one_region() {
        // i32.const, i32.const, i32.add, end
        let c = costs("(module (func (result i32) i32.const 1 i32.const 2 i32.add))");
        assert_eq!(c, [[4]]);
    }

    #[test]
    fn loops_are_their_own_regions() {
        let c = costs(
            "(module (func
               block                  ;; fn: block
                 loop                 ;; fn: loop
                   i32.const 0        ;; L1
                   br_if 1            ;; L1
                   loop               ;; L1: loop
                     nop              ;; L2
                   end                ;; L2: end
                   br 0               ;; L1
                 end                  ;; L1: end
               end                    ;; fn: end (block)
             ))",
        );
        // fn: block, loop, end (block), end (function) = 4
        // L1: i32.const, br_if, loop, br, end = 5; L2: nop, end = 2
        assert_eq!(c, [[4, 5, 2]]);
    }

    #[test]
    fn global_appended_and_exported() {
        let wasm = instrumented(
            r#"(module (import "m" "g" (global i32)) (global i64 (i64.const 5))
                (func (export "f")))"#,
        );
        let mut saw = false;
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            if let wasmparser::Payload::ExportSection(s) = payload.expect("payload") {
                for e in s {
                    let e = e.expect("export");
                    if e.name == EXPORT_NAME {
                        assert_eq!((e.kind, e.index), (ExternalKind::Global, 2));
                        saw = true;
                    }
                }
            }
        }
        assert!(saw);
    }

    #[test]
    fn sections_are_added_in_order() {
        // No global and no export section; a start and a data section.
        let text = r#"(module (memory 1) (func $s) (start $s) (data (i32.const 0) "x"))"#;
        let wasm = instrumented(text);
        let mut ids = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            match payload.expect("payload").as_section() {
                Some((0, _)) | None => {}
                Some((id, _)) => ids.push(id),
            }
        }
        assert_eq!(ids, [1, 3, 5, 6, 7, 8, 10, 11]);
    }

    #[test]
    fn deepest_nesting_gets_no_deeper() {
        // The check adds no block: the nesting depth stays what it was.
        let mut text = String::from("(module (func");
        for _ in 0..14 {
            text.push_str(" (loop");
        }
        text.push_str(&"  )".repeat(14));
        text.push_str("))");
        let wasm = instrumented(&text);
        let mut blocks = 0;
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            if let wasmparser::Payload::CodeSectionEntry(body) = payload.expect("payload") {
                let mut ops = body.get_operators_reader().expect("operators");
                while !ops.eof() {
                    let op = ops.read().expect("operator");
                    if matches!(op, Operator::Block { .. } | Operator::If { .. }) {
                        blocks += 1;
                    }
                }
            }
        }
        assert_eq!(blocks, 0);
    }

    #[test]
    fn custom_sections_are_kept() {
        let mut wasm = wat("(module (func (export \"f\")))");
        // A custom section "x" with payload "yz" at the end.
        wasm.extend_from_slice(&[0, 4, 1, b'x', b'y', b'z']);
        let out = instrument(&wasm, 1, validate::features()).expect("instrument");
        assert!(out.ends_with(&[0, 4, 1, b'x', b'y', b'z']));
    }

    #[test]
    fn rank_orders_sections() {
        let order = [1u8, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];
        let ranks: Vec<u8> = order.iter().filter_map(|&id| rank(id)).collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(rank(0), None);
    }
}
