//! Test-side rewriting for the fuel tests: adds a counter to a module (a
//! mutable i64 global, appended after every other global and exported as
//! [`COUNTER`]) and increments it at chosen places of the function bodies,
//! with `global.get c, i64.const k, i64.add, global.set c`: four operators
//! that do not branch, so they run exactly when the operator after them
//! does.

// The engine's section order: the counter's global and export sections go
// where the engine would put its own.
use kwasm::fuel::rank;
use wasm_encoder::{
    CodeSection, ConstExpr, Encode, ExportKind, ExportSection, GlobalType, Instruction, Module,
    RawSection, ValType,
};
use wasmparser::{ExternalKind, FunctionBody, Operator, Parser, Payload, TypeRef};

/// The export name of the counter global.
pub const COUNTER: &str = "kwasm_test_count";
/// Operators one increment adds.
pub const INCREMENT_OPS: i64 = 4;

/// Where to increment, and by how much: (byte offset in the module of the
/// operator to put the increment before, amount) for one function body.
pub type Sites<'f> = dyn FnMut(&FunctionBody<'_>) -> Vec<(usize, i64)> + 'f;

/// `wasm` with the counter, incremented at the sites `sites` gives for each
/// function body.
pub fn add_counter(wasm: &[u8], sites: &mut Sites<'_>) -> Vec<u8> {
    let mut out = Module::new();
    let mut imported_globals = 0u32;
    let mut counter: Option<u32> = None;
    let mut exported = false;
    let mut code: Option<(CodeSection, u32)> = None;

    let add_global = |out: &mut Module, count: u32, rest: &[u8], imported: u32| -> u32 {
        let mut data = Vec::new();
        (count + 1).encode(&mut data);
        data.extend_from_slice(rest);
        GlobalType {
            val_type: ValType::I64,
            mutable: true,
            shared: false,
        }
        .encode(&mut data);
        ConstExpr::i64_const(0).encode(&mut data);
        out.section(&RawSection { id: 6, data: &data });
        imported + count
    };
    let add_exports =
        |out: &mut Module, old: Option<wasmparser::ExportSectionReader<'_>>, c: u32| {
            let mut exports = ExportSection::new();
            for e in old.into_iter().flatten() {
                let e = e.expect("export");
                let kind = match e.kind {
                    ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
                    ExternalKind::Table => ExportKind::Table,
                    ExternalKind::Memory => ExportKind::Memory,
                    ExternalKind::Global => ExportKind::Global,
                    ExternalKind::Tag => ExportKind::Tag,
                };
                exports.export(e.name, kind, e.index);
            }
            exports.export(COUNTER, ExportKind::Global, c);
            out.section(&exports);
        };

    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.expect("valid module");
        if let Some((id, _)) = payload.as_section() {
            if let Some(r) = rank(id) {
                if counter.is_none() && r > rank(6).unwrap() {
                    counter = Some(add_global(&mut out, 0, &[], imported_globals));
                }
                if !exported && r > rank(7).unwrap() {
                    add_exports(&mut out, None, counter.unwrap());
                    exported = true;
                }
            }
        }
        match payload {
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports() {
                    if matches!(import.expect("import").ty, TypeRef::Global(_)) {
                        imported_globals += 1;
                    }
                }
                let range = reader.range();
                out.section(&RawSection {
                    id: 2,
                    data: &wasm[range.start as usize..range.end as usize],
                });
            }
            Payload::GlobalSection(reader) => {
                let (start, end) = (reader.range().start as usize, reader.range().end as usize);
                let mut r = wasmparser::BinaryReader::new(&wasm[start..end], 0);
                let count = r.read_var_u32().expect("count");
                let rest = &wasm[start + r.original_position() as usize..end];
                counter = Some(add_global(&mut out, count, rest, imported_globals));
            }
            Payload::ExportSection(reader) => {
                add_exports(&mut out, Some(reader), counter.expect("global first"));
                exported = true;
            }
            Payload::CodeSectionStart { count, .. } => {
                code = Some((CodeSection::new(), count));
                if count == 0 {
                    out.section(&code.take().unwrap().0);
                }
            }
            Payload::CodeSectionEntry(body) => {
                let c = counter.expect("global first");
                let mut at_sites = sites(&body);
                at_sites.sort_by_key(|&(offset, _)| offset);
                let range = body.range();
                let mut bytes = Vec::new();
                let mut at = range.start as usize;
                for (offset, amount) in at_sites {
                    bytes.extend_from_slice(&wasm[at..offset]);
                    for insn in [
                        Instruction::GlobalGet(c),
                        Instruction::I64Const(amount),
                        Instruction::I64Add,
                        Instruction::GlobalSet(c),
                    ] {
                        insn.encode(&mut bytes);
                    }
                    at = offset;
                }
                bytes.extend_from_slice(&wasm[at..range.end as usize]);
                let (section, left) = code.as_mut().expect("code section start");
                section.raw(&bytes);
                *left -= 1;
                if *left == 0 {
                    out.section(&code.take().unwrap().0);
                }
            }
            Payload::Version { .. } | Payload::End(_) => {}
            other => {
                if let Some((id, range)) = other.as_section() {
                    out.section(&RawSection {
                        id,
                        data: &wasm[range.start as usize..range.end as usize],
                    });
                }
            }
        }
    }
    if counter.is_none() {
        counter = Some(add_global(&mut out, 0, &[], imported_globals));
    }
    if !exported {
        add_exports(&mut out, None, counter.unwrap());
    }
    out.finish()
}

/// Every operator of `body`: each increment counts itself and the operator
/// after it, so the counter ends up as the number of operators the
/// rewritten module executed (an `end` or `else` that a branch jumps over
/// is not executed).
pub fn every_operator(body: &FunctionBody<'_>) -> Vec<(usize, i64)> {
    let mut ops = body.get_operators_reader().expect("operators");
    let mut sites = Vec::new();
    while !ops.eof() {
        let (_, offset) = ops.read_with_offset().expect("operator");
        sites.push((offset as usize, INCREMENT_OPS + 1));
    }
    sites
}

/// After every fuel check (the check ends `i64.ge_s, i32.div_u, drop`),
/// +1: the counter ends up as the number of checks executed.
pub fn after_every_check(body: &FunctionBody<'_>) -> Vec<(usize, i64)> {
    let mut ops = body.get_operators_reader().expect("operators");
    let mut sites = Vec::new();
    let mut last: Vec<Operator<'_>> = Vec::new();
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset().expect("operator");
        if matches!(
            last[..],
            [
                Operator::GlobalGet { .. },
                Operator::I64Const { value: 0 },
                Operator::I64GeS,
                Operator::I32DivU,
                Operator::Drop
            ]
        ) {
            sites.push((offset as usize, 1));
        }
        last.push(op);
        if last.len() > 5 {
            last.remove(0);
        }
    }
    sites
}
