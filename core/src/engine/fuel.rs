//! Fuel metering: bounded execution of a program's every call.
//!
//! [`instrument`] rewrites a validated module so that it counts down a
//! budget as it runs and traps once the budget is spent. The module gets
//! one more global, a mutable i64 appended after every existing global (so
//! no index shifts) and exported as [`EXPORT_NAME`]. The host sets it to the
//! budget before each call, less the static cost of an export that has no
//! check of its own (see below), and reads it afterwards: what is gone is
//! the fuel used, and a trap with the global below zero is "out of fuel".
//!
//! # Where fuel is charged
//!
//! Code is cut into *regions*: a function body, and each `loop` body, each
//! without the loops nested in it. A region's own cost is its static
//! operator count (every operator in it, `end`s included; a nested `loop`
//! opcode belongs to the outer region, its body and `end` to the inner
//! one).
//!
//! Each defined function is either *metered* or *paid for by its callers*
//! (by the host, for an export):
//!
//! - A metered function charges each of its regions when control enters
//!   it: at the start of the function body, and as the first thing inside
//!   the `loop`, which every branch back to the loop executes. The charge
//!   is the region's own cost plus the *bound* of every paid function it
//!   calls (`call`) from that region, once per call site.
//! - A paid function has no check at all. Its bound is its own operator
//!   count plus the bounds of the paid functions it calls, once per call
//!   site; calls of metered functions add nothing (those pay for
//!   themselves), nor do calls of imported functions (host functions: their
//!   `call` is the one operator they cost, as for every call).
//!
//! A function is paid for by its callers when (see `plan`):
//!
//! - nothing reaches it other than the module's own `call`s and the host's
//!   calls of exports: it is not the start function (wasm3 runs that one
//!   at instantiation), in no element segment (so no `call_indirect`
//!   reaches it) and named by no `ref.func`. Those are always metered;
//! - it has no `loop` and makes no `call_indirect` (nor any other call the
//!   accepted language does not have: tail calls, `call_ref`);
//! - the paid functions it calls are decided before it, which leaves out
//!   every cycle of calls: recursion, direct or mutual, always goes
//!   through a metered function (where a cycle of otherwise payable
//!   functions is left, its lowest-numbered function is metered);
//! - its bound is at most [`MAX_STATIC_BOUND`] (4096). A bound counts every
//!   call site, also those a run skips, and call sites multiply bounds
//!   along a chain, so without a cap a caller could be charged far more
//!   than it ever runs; a function over the cap is metered itself;
//! - if it is exported, also: it reaches no metered function (every
//!   defined function it calls is paid and reaches none either), so its
//!   bound covers everything one call of it executes, and its bound is at
//!   most the budget the module is instrumented with. Otherwise it is
//!   metered, as before: it checks itself on entry.
//!
//! # Exports charged by the host
//!
//! An export paid for by its callers is a *host-charged entry*: its static
//! cost, its bound, is in [`Metered::static_costs`] under each of its
//! export names, and the host (`instance::call`, `instance::call_at_load`)
//! charges it before every call it makes of it: it sets the fuel global to
//! the budget less the cost, and reports the cost as the fuel used. That
//! is exactly what the check on entry did before (a loop-free exported
//! function charged its whole bound there, once), moved out of the
//! program: a loop-free filter whose bound fits the budget runs no check
//! at all. The call cannot run out (the cost is at most the budget, and
//! nothing the call reaches charges the global), so the global is left as
//! the host set it. A trap inside is a trap like any other, and its fuel
//! used is the static cost too: as everywhere, the fuel used is an upper
//! bound of the operators executed, not their count. Were the host to call
//! with a smaller budget than the cost, it refuses the call as out of fuel
//! (fuel used: the budget), as the check on entry would have trapped.
//! Calls of the same function from inside the module pay its bound where
//! they are made, like the calls of any paid function.
//!
//! # Why operators executed <= fuel consumed
//!
//! Inside one region control only moves forward: `block`, `if`/`else` and
//! every branch to a `block` or `if` go to a later operator, and the only
//! backward branches in WebAssembly go to a `loop` header, which starts
//! another region (or another entry of the same region) and pays for it.
//! So between two charges of a region each of its operators runs at most
//! once, and so does each of its call sites.
//!
//! A paid function has one region (no loop), so one call of it runs each of
//! its operators and call sites at most once. By induction over the order
//! in which bounds are computed (callees first, no cycles among paid
//! functions), everything one call of a paid function executes, its paid
//! callees' operators included, is at most its bound; the metered
//! functions it calls pay for themselves. A region of a metered function
//! charges its own operators and the bound of each paid call site in it,
//! which covers what the region and the paid calls it makes execute until
//! it is charged again. Metered functions are reached by `call`,
//! `call_indirect` or from the host, and each pays for its own body; paid
//! functions only by `call` from a region that paid for them, or from the
//! host, which charges the bound before the call (exports only: the start
//! function and everything a table or `ref.func` can reach are metered).
//! Every executed operator therefore lies in a region, or in a paid call
//! made from one or from the host, whose charge came before it: the
//! operators executed never exceed the sum of the charges. The charge
//! comes before the region runs, so a program that runs out has executed
//! at most its budget.
//!
//! A host-charged entry reaches only paid functions (and host functions),
//! so its bound covers everything its call executes; the host charged it
//! in full before the call, and it is at most the budget: the call runs
//! within the budget and leaves the global as it was, with no check at
//! all.
//!
//! What this costs: a paid call site that a run skips (an `if` not taken)
//! is charged all the same, as skipped operators of a region always were,
//! up to [`MAX_STATIC_BOUND`] per call site. What it saves: a check, and
//! its ten operators, on every call of a paid function, host calls of
//! host-charged entries included.
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
    BinaryReader, BinaryReaderError, CodeSectionReader, ConstExpr as ParsedConstExpr, ElementItems,
    ElementKind, ElementSectionReader, ExportSectionReader, ExternalKind, FunctionBody,
    GlobalSectionReader, ImportSectionReader, Operator, TypeRef, Validator,
};

/// The export under which the instrumented module exposes its fuel global.
pub const EXPORT_NAME: &str = "kwasm_fuel";
/// [`EXPORT_NAME`] for wasm3's lookup.
pub const EXPORT_CNAME: &core::ffi::CStr = c"kwasm_fuel";

const SECTION_IMPORT: u8 = 2;
const SECTION_GLOBAL: u8 = 6;
const SECTION_EXPORT: u8 = 7;
const SECTION_START: u8 = 8;
const SECTION_ELEMENT: u8 = 9;
const SECTION_CODE: u8 = 10;

/// The largest static bound of a function whose callers pay for it (see
/// "Where fuel is charged" in the module documentation). A larger
/// one is metered itself, so that a call site its caller pays for but does
/// not execute costs at most this much more than before.
pub const MAX_STATIC_BOUND: u64 = 4096;

/// Position of a non-custom section in the required order (the binary
/// format's order, where the tag section 13 sits between memory and
/// global, and data count 12 between element and code). Public for the
/// fuel tests' own rewriting (core/tests/counter.rs), which inserts a
/// section where this one does.
pub fn rank(id: u8) -> Option<u8> {
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

/// A module with fuel metering, and what the host charges for calls of it.
#[derive(Debug)]
pub struct Metered {
    /// The metered module.
    pub wasm: Vec<u8>,
    /// The exported functions without a check of their own, by export
    /// name, with their static cost: the bound of everything one call of
    /// one executes, at most the budget. The host charges it before each
    /// call (see "Exports charged by the host" in the module
    /// documentation).
    pub static_costs: Vec<(String, u64)>,
}

/// Returns `wasm` (a module the validator accepted) with fuel metering,
/// its fuel global starting at `budget` (which the start function runs
/// with), and the static cost of each exported function left without a
/// check (its bound at most `budget`). The result is validated again with
/// `features`.
pub fn instrument(
    wasm: &[u8],
    budget: i64,
    features: wasmparser::WasmFeatures,
) -> Result<Metered, Error> {
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
    let mut imported_funcs = 0u32;
    // Functions reached other than by the module's own `call`s and not
    // charged by the host: the start function, those in a table or
    // otherwise referenced. Always metered.
    let mut entries: Vec<u32> = Vec::new();
    // Exported functions: (name, function index).
    let mut exports: Vec<(String, u32)> = Vec::new();
    let mut static_costs = Vec::new();
    // What the host can charge for one call of an export.
    let entry_cap = u64::try_from(budget).unwrap_or(0).min(MAX_STATIC_BOUND);
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
                add_exports(&mut out, None, global, &mut exports)?;
                exported = true;
            }
        }

        match id {
            SECTION_IMPORT => {
                (imported_funcs, imported_globals) = count_imports(section)?;
                out.section(&RawSection { id, data });
            }
            SECTION_GLOBAL => {
                referenced_by_globals(section.clone(), &mut entries)?;
                global = Some(add_globals(
                    &mut out,
                    Some(section),
                    imported_globals,
                    budget,
                )?);
            }
            SECTION_EXPORT => {
                add_exports(&mut out, Some(section), global, &mut exports)?;
                exported = true;
            }
            SECTION_START => {
                let mut r = section;
                entries.push(r.read_var_u32().map_err(|e| malformed(&e))?);
                out.section(&RawSection { id, data });
            }
            SECTION_ELEMENT => {
                in_tables(section, &mut entries)?;
                out.section(&RawSection { id, data });
            }
            SECTION_CODE => {
                let index = global.ok_or_else(|| {
                    Error("fuel instrumentation: code before the global section".into())
                })?;
                let reader = CodeSectionReader::new(section).map_err(|e| malformed(&e))?;
                let mut funcs = Vec::new();
                let mut infos = Vec::new();
                for func in reader {
                    let func = func.map_err(|e| malformed(&e))?;
                    infos.push(analyse(&func, imported_funcs, &mut entries)?);
                    funcs.push(func);
                }
                let exported = Vec::from_iter(exports.iter().map(|&(_, f)| f));
                let plan = plan(&infos, imported_funcs, &entries, &exported, entry_cap);
                for (name, f) in &exports {
                    if let Some(Kind::Paid { bound, .. }) =
                        f.checked_sub(imported_funcs).map(|f| plan.kind(f))
                    {
                        static_costs.push((name.clone(), bound));
                    }
                }
                let mut code = CodeSection::new();
                let mut body = Vec::new();
                for (i, func) in funcs.iter().enumerate() {
                    body.clear();
                    let charges = plan.charges(&infos, i);
                    instrument_body(wasm, func, index, &charges, &mut body)?;
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
        add_exports(&mut out, None, global, &mut exports)?;
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
    Ok(Metered {
        wasm: out,
        static_costs,
    })
}

/// The number of imported (functions, globals).
fn count_imports(section: BinaryReader<'_>) -> Result<(u32, u32), Error> {
    let reader = ImportSectionReader::new(section).map_err(|e| malformed(&e))?;
    let (mut funcs, mut globals) = (0u32, 0u32);
    for import in reader.into_imports() {
        match import.map_err(|e| malformed(&e))?.ty {
            TypeRef::Func(_) | TypeRef::FuncExact(_) => funcs = funcs.saturating_add(1),
            TypeRef::Global(_) => globals = globals.saturating_add(1),
            _ => {}
        }
    }
    Ok((funcs, globals))
}

/// Adds to `entries` every function a constant expression names with
/// `ref.func`.
fn referenced_by(expr: &ParsedConstExpr<'_>, entries: &mut Vec<u32>) -> Result<(), Error> {
    let mut ops = expr.get_operators_reader();
    while !ops.eof() {
        if let Operator::RefFunc { function_index } = ops.read().map_err(|e| malformed(&e))? {
            entries.push(function_index);
        }
    }
    Ok(())
}

/// Adds to `entries` the functions the global section's initializers name.
fn referenced_by_globals(section: BinaryReader<'_>, entries: &mut Vec<u32>) -> Result<(), Error> {
    for g in GlobalSectionReader::new(section).map_err(|e| malformed(&e))? {
        referenced_by(&g.map_err(|e| malformed(&e))?.init_expr, entries)?;
    }
    Ok(())
}

/// Adds to `entries` every function an element segment names: what
/// `call_indirect` can reach, whatever table the segment initializes.
fn in_tables(section: BinaryReader<'_>, entries: &mut Vec<u32>) -> Result<(), Error> {
    for elem in ElementSectionReader::new(section).map_err(|e| malformed(&e))? {
        let elem = elem.map_err(|e| malformed(&e))?;
        if let ElementKind::Active { offset_expr, .. } = &elem.kind {
            referenced_by(offset_expr, entries)?;
        }
        match elem.items {
            ElementItems::Functions(funcs) => {
                for f in funcs {
                    entries.push(f.map_err(|e| malformed(&e))?);
                }
            }
            ElementItems::Expressions(_, exprs) => {
                for expr in exprs {
                    referenced_by(&expr.map_err(|e| malformed(&e))?, entries)?;
                }
            }
        }
    }
    Ok(())
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
/// Adds the exported functions to `exports`, (name, function index).
fn add_exports(
    out: &mut Module,
    section: Option<BinaryReader<'_>>,
    global: Option<u32>,
    exports_out: &mut Vec<(String, u32)>,
) -> Result<(), Error> {
    let global =
        global.ok_or_else(|| Error("fuel instrumentation: exports before globals".into()))?;
    let mut exports = ExportSection::new();
    if let Some(section) = section {
        for export in ExportSectionReader::new(section).map_err(|e| malformed(&e))? {
            let export = export.map_err(|e| malformed(&e))?;
            let kind = match export.kind {
                ExternalKind::Func | ExternalKind::FuncExact => {
                    exports_out.push((export.name.into(), export.index));
                    ExportKind::Func
                }
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

/// `count` `call`s of the defined function `callee` (an index among the
/// defined functions) in region `region` of one function body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Call {
    callee: u32,
    region: u32,
    count: u32,
}

/// What metering needs to know of one function body.
#[derive(Debug)]
struct FuncInfo {
    /// The static operator count of each region and where its charge goes
    /// (byte offset in the module), in that order; the function region is
    /// first.
    regions: Vec<(usize, u64)>,
    /// Its `call`s of defined functions, one entry per callee and region.
    calls: Vec<Call>,
    /// It calls what a `call`'s index does not name (`call_indirect`), or
    /// calls in a way that does not return to it (a tail call).
    indirect: bool,
}

/// The regions and calls of one function body. Functions it names with
/// `ref.func` are added to `entries`.
fn analyse(
    func: &FunctionBody<'_>,
    imported_funcs: u32,
    entries: &mut Vec<u32>,
) -> Result<FuncInfo, Error> {
    let mut ops = func.get_operators_reader().map_err(|e| malformed(&e))?;
    let start = ops.original_position();
    let mut regions = Vec::from([(start as usize, 0u64)]);
    // (callee, region) of every call of a defined function.
    let mut calls: Vec<(u32, u32)> = Vec::new();
    let mut indirect = false;
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
            Operator::Call { function_index } => {
                if let Some(callee) = function_index.checked_sub(imported_funcs) {
                    let region = u32::try_from(current).unwrap_or(u32::MAX);
                    calls.push((callee, region));
                }
            }
            // Not in the accepted language (docs/ABI.md), handled all the
            // same: the target of a tail call runs in place of the caller,
            // so it is a call site too, and the caller is metered.
            Operator::ReturnCall { function_index } => {
                if let Some(callee) = function_index.checked_sub(imported_funcs) {
                    let region = u32::try_from(current).unwrap_or(u32::MAX);
                    calls.push((callee, region));
                }
                indirect = true;
            }
            Operator::CallIndirect { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::CallRef { .. }
            | Operator::ReturnCallRef { .. } => indirect = true,
            Operator::RefFunc { function_index } => entries.push(function_index),
            _ => {}
        }
    }
    ops.finish().map_err(|e| malformed(&e))?;
    calls.sort_unstable();
    let mut merged: Vec<Call> = Vec::new();
    for (callee, region) in calls {
        match merged.last_mut() {
            Some(c) if (c.callee, c.region) == (callee, region) => {
                c.count = c.count.saturating_add(1);
            }
            _ => merged.push(Call {
                callee,
                region,
                count: 1,
            }),
        }
    }
    Ok(FuncInfo {
        regions,
        calls: merged,
        indirect,
    })
}

/// How a defined function is metered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Not decided yet (only while planning).
    Open,
    /// It charges each of its regions on entry.
    Metered,
    /// It has no check: every region that calls it, and the host for an
    /// export, pays `bound`, which covers its operators and those of the
    /// paid functions it calls. `closed`: it reaches no metered function,
    /// so `bound` covers everything one call of it executes and the call
    /// never charges the fuel global.
    Paid { bound: u64, closed: bool },
}

/// How each defined function of a module is metered.
struct Plan {
    kinds: Vec<Kind>,
}

impl Plan {
    fn kind(&self, func: u32) -> Kind {
        self.kinds
            .get(func as usize)
            .copied()
            .unwrap_or(Kind::Metered)
    }

    /// What `calls` made from region `region` add to its cost: the bound of
    /// each paid callee, once per call site.
    fn paid_calls(&self, calls: &[Call], region: Option<u32>) -> u64 {
        calls
            .iter()
            .filter(|c| region.is_none_or(|r| c.region == r))
            .fold(0u64, |sum, c| match self.kind(c.callee) {
                Kind::Paid { bound, .. } => {
                    sum.saturating_add(bound.saturating_mul(u64::from(c.count)))
                }
                Kind::Open | Kind::Metered => sum,
            })
    }

    /// The charges of defined function `func`: (byte offset in the module,
    /// cost) of each region, none for a paid function.
    fn charges(&self, infos: &[FuncInfo], func: usize) -> Vec<(usize, u64)> {
        let Some(info) = infos.get(func) else {
            return Vec::new();
        };
        if self.kind(u32::try_from(func).unwrap_or(u32::MAX)) != Kind::Metered {
            return Vec::new();
        }
        let mut charges = Vec::with_capacity(info.regions.len());
        for (region, &(offset, ops)) in info.regions.iter().enumerate() {
            let region = u32::try_from(region).unwrap_or(u32::MAX);
            charges.push((
                offset,
                ops.saturating_add(self.paid_calls(&info.calls, Some(region))),
            ));
        }
        charges
    }
}

/// Decides which defined functions need no check of their own (see the
/// module documentation). `infos` describes the defined functions in
/// order, `entries` the functions reached from outside without a charge
/// (start, in a table or referenced), `exported` the exported ones,
/// indices of the whole function space; `entry_cap` is the largest bound
/// of an export without a check.
///
/// A function is paid by its callers when it is not in `entries`, it has
/// no loop and no `call_indirect`, the functions it calls that are paid
/// for are not part of a cycle of paid functions, and its bound is at most
/// [`MAX_STATIC_BOUND`]; an exported one also must reach no metered
/// function (`closed`) and have a bound of at most `entry_cap`. Functions
/// are decided callees first (Kahn's algorithm on the call graph); when
/// only cycles are left, the one with the lowest index is metered, which
/// breaks them. No recursion: the kernel stack stays flat whatever the
/// call graph.
fn plan(
    infos: &[FuncInfo],
    imported_funcs: u32,
    entries: &[u32],
    exported: &[u32],
    entry_cap: u64,
) -> Plan {
    let n = infos.len();
    let mut kinds = Vec::from_iter(infos.iter().map(|info| {
        if info.regions.len() > 1 || info.indirect {
            Kind::Metered
        } else {
            Kind::Open
        }
    }));
    for &e in entries {
        if let Some(k) = e
            .checked_sub(imported_funcs)
            .and_then(|i| kinds.get_mut(i as usize))
        {
            *k = Kind::Metered;
        }
    }
    let mut is_export = Vec::from_iter(core::iter::repeat_n(false, n));
    for &e in exported {
        if let Some(x) = e
            .checked_sub(imported_funcs)
            .and_then(|i| is_export.get_mut(i as usize))
        {
            *x = true;
        }
    }

    // The callers of each function, one per `Call` entry, as ranges
    // `first[f]..first[f + 1]` of `callers`.
    let mut first = Vec::from_iter(core::iter::repeat_n(0usize, n.saturating_add(1)));
    for info in infos {
        for c in &info.calls {
            if let Some(slot) = first.get_mut((c.callee as usize).saturating_add(1)) {
                *slot = slot.saturating_add(1);
            }
        }
    }
    for i in 1..first.len() {
        let prev = first.get(i - 1).copied().unwrap_or(0);
        if let Some(slot) = first.get_mut(i) {
            *slot = slot.saturating_add(prev);
        }
    }
    let mut callers = Vec::from_iter(core::iter::repeat_n(
        0u32,
        first.last().copied().unwrap_or(0),
    ));
    let mut fill = first.clone();
    for (caller, info) in infos.iter().enumerate() {
        for c in &info.calls {
            if let Some(at) = fill.get_mut(c.callee as usize) {
                if let Some(slot) = callers.get_mut(*at) {
                    *slot = u32::try_from(caller).unwrap_or(u32::MAX);
                    *at = at.saturating_add(1);
                }
            }
        }
    }
    drop(fill);

    // For an open function: its call entries whose callee is still open.
    let mut pending = Vec::from_iter(infos.iter().map(|info| {
        info.calls
            .iter()
            .filter(|c| kinds.get(c.callee as usize) == Some(&Kind::Open))
            .count()
    }));
    let mut ready = Vec::from_iter(
        (0..n).filter(|&i| kinds.get(i) == Some(&Kind::Open) && pending.get(i) == Some(&0)),
    );
    let mut plan = Plan { kinds };
    let mut next_open = 0usize;
    loop {
        let (func, kind) = if let Some(func) = ready.pop() {
            if plan.kinds.get(func) != Some(&Kind::Open) {
                continue;
            }
            // Every function it calls is decided: its bound is known.
            let info = infos.get(func);
            let own = info
                .and_then(|i| i.regions.first())
                .map_or(0, |&(_, ops)| ops);
            let calls = info.map_or(&[][..], |i| &i.calls[..]);
            let bound = own.saturating_add(plan.paid_calls(calls, None));
            let closed = calls
                .iter()
                .all(|c| matches!(plan.kind(c.callee), Kind::Paid { closed: true, .. }));
            // An export is paid by the host, which can charge it only
            // what the budget holds, and only when the charge covers the
            // whole call.
            let paid = if is_export.get(func) == Some(&true) {
                closed && bound <= entry_cap
            } else {
                bound <= MAX_STATIC_BOUND
            };
            if paid {
                (func, Kind::Paid { bound, closed })
            } else {
                (func, Kind::Metered)
            }
        } else {
            // Only cycles of open functions are left (or nothing).
            while next_open < n && plan.kinds.get(next_open) != Some(&Kind::Open) {
                next_open += 1;
            }
            if next_open >= n {
                break;
            }
            (next_open, Kind::Metered)
        };
        if let Some(k) = plan.kinds.get_mut(func) {
            *k = kind;
        }
        let range = first.get(func).copied().unwrap_or(0)
            ..first.get(func.saturating_add(1)).copied().unwrap_or(0);
        for &caller in callers.get(range).unwrap_or(&[]) {
            let caller = caller as usize;
            if plan.kinds.get(caller) != Some(&Kind::Open) {
                continue;
            }
            if let Some(p) = pending.get_mut(caller) {
                *p = p.saturating_sub(1);
                if *p == 0 {
                    ready.push(caller);
                }
            }
        }
    }
    plan
}

/// Writes the body of `func` into `out` (without the size prefix) with the
/// check of each of `charges` (byte offset in the module, cost) at its
/// offset.
fn instrument_body(
    wasm: &[u8],
    func: &FunctionBody<'_>,
    global: u32,
    charges: &[(usize, u64)],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let range = func.range();
    let mut at = range.start as usize;
    let end = range.end as usize;
    let bad_offset = || Error("fuel instrumentation: function body out of range".into());
    // `analyse` finds the regions in order of their offsets.
    for &(offset, cost) in charges {
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
    use alloc::vec;

    fn wat(text: &str) -> Vec<u8> {
        wat::parse_str(text).expect("test WAT")
    }

    /// The budget of the tests' modules.
    const BUDGET: i64 = 100;

    fn metered(text: &str, budget: i64) -> Metered {
        instrument(&wat(text), budget, validate::features()).expect("instrument")
    }

    fn instrumented(text: &str) -> Vec<u8> {
        metered(text, BUDGET).wasm
    }

    /// The cost of every check in every function of the metered module, in
    /// order. A check starts `global.get g, i64.const cost, i64.sub`.
    fn costs(text: &str) -> Vec<Vec<i64>> {
        checks(&instrumented(text))
    }

    /// The exports the host charges, with their static costs.
    fn host_charged(text: &str) -> Vec<(&'static str, u64)> {
        static_costs(&metered(text, BUDGET))
    }

    fn static_costs(m: &Metered) -> Vec<(&'static str, u64)> {
        // Leaked: test names only.
        m.static_costs
            .iter()
            .map(|(n, c)| (&*alloc::boxed::Box::leak(n.clone().into_boxed_str()), *c))
            .collect()
    }

    fn checks(wasm: &[u8]) -> Vec<Vec<i64>> {
        let mut all = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(wasm) {
            if let wasmparser::Payload::CodeSectionEntry(body) = payload.expect("payload") {
                let mut ops = body.get_operators_reader().expect("operators");
                let mut window: Vec<Operator> = Vec::new();
                let mut checks = Vec::new();
                while !ops.eof() {
                    window.push(ops.read().expect("operator"));
                    if window.len() > 3 {
                        window.remove(0);
                    }
                    if let [Operator::GlobalGet { .. }, Operator::I64Const { value }, Operator::I64Sub] =
                        window[..]
                    {
                        checks.push(value);
                    }
                }
                all.push(checks);
            }
        }
        all
    }

    #[test]
    fn straight_line_function_is_one_region() {
        // i32.const, i32.const, i32.add, end; in a table: metered.
        let c = costs(
            "(module (table 1 funcref) (elem (i32.const 0) $f)
               (func $f (result i32) i32.const 1 i32.const 2 i32.add))",
        );
        assert_eq!(c, [[4]]);
    }

    #[test]
    fn loop_free_export_under_the_budget_is_charged_by_the_host() {
        // i32.const, i32.const, i32.add, end = 4: no check, the host
        // charges 4 for each call.
        let text = r#"(module (func (export "f") (result i32) i32.const 1 i32.const 2 i32.add))"#;
        assert_eq!(costs(text), [[]]);
        assert_eq!(host_charged(text), [("f", 4)]);
        // A budget of exactly the bound still fits.
        let m = metered(text, 4);
        assert_eq!(
            (checks(&m.wasm), static_costs(&m)),
            (vec![vec![]], vec![("f", 4)])
        );
        // Two names of one function: both charged.
        let two = r#"(module (func (export "a") (export "b") nop))"#;
        assert_eq!(host_charged(two), [("a", 2), ("b", 2)]);
    }

    #[test]
    fn export_over_the_budget_checks_itself() {
        // Bound 4, budget 3: checked as before (and runs out on entry).
        let m = metered(
            r#"(module (func (export "f") (result i32) i32.const 1 i32.const 2 i32.add))"#,
            3,
        );
        assert_eq!((checks(&m.wasm), m.static_costs.len()), (vec![vec![4]], 0));
        // Over MAX_STATIC_BOUND with an ample budget: checked as well.
        let nops = "nop ".repeat(MAX_STATIC_BOUND as usize);
        let m = metered(&format!(r#"(module (func (export "f") {nops}))"#), 1 << 20);
        let max = MAX_STATIC_BOUND as i64;
        assert_eq!(
            (checks(&m.wasm), m.static_costs.len()),
            (vec![vec![max + 1]], 0)
        );
    }

    #[test]
    fn exports_reached_otherwise_check_themselves() {
        // Also in a table: call_indirect reaches it without a charge.
        let c = r#"(module (table 1 funcref) (elem (i32.const 0) $f)
              (func $f (export "f") nop))"#;
        assert_eq!((costs(c), host_charged(c)), (vec![vec![2]], vec![]));
        // Also the start function: wasm3 runs it without a charge.
        let c = r#"(module (func $f (export "f") nop) (start $f))"#;
        assert_eq!((costs(c), host_charged(c)), (vec![vec![2]], vec![]));
        // Also named by ref.func (not in the accepted language, handled
        // all the same): whoever holds the reference can call it. g:
        // ref.func, end = 2.
        let c = r#"(module (func $f (export "f") nop)
              (func (export "g") (result funcref) ref.func $f) (elem declare func $f))"#;
        let features = validate::features() | wasmparser::WasmFeatures::REFERENCE_TYPES;
        let m = instrument(&wat(c), BUDGET, features).expect("instrument");
        assert_eq!(
            (checks(&m.wasm), static_costs(&m)),
            (vec![vec![2], vec![]], vec![("g", 2)])
        );
    }

    #[test]
    fn export_reaching_a_metered_function_checks_itself() {
        // f calls $l, which loops: f is checked (its own 2 + $m's 2), as
        // is g, which reaches $l through the paid $m.
        let c = r#"(module
              (func $l (loop))
              (func $m call $l)
              (func (export "f") call $l)
              (func (export "g") call $m))"#;
        assert_eq!(costs(c), [vec![2, 1], vec![], vec![2], vec![4]]);
        assert_eq!(host_charged(c), []);
    }

    #[test]
    fn loops_are_their_own_regions() {
        let c = costs(
            "(module (func (export \"f\")
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
    fn loops_without_exports_are_metered_too() {
        // Not called from outside, but with a loop: metered as always.
        let c = costs("(module (func (loop)))");
        assert_eq!(c, [[2, 1]]);
    }

    #[test]
    fn loop_free_leaf_has_no_check() {
        // $leaf: local.get, i32.const, i32.add, end = 4.
        // f: i32.const, call, end = 3, plus $leaf's 4.
        let c = costs(
            r#"(module
              (func $leaf (param i32) (result i32) local.get 0 i32.const 1 i32.add)
              (func (export "f") (result i32) i32.const 1 call $leaf))"#,
        );
        // f is exported: the host charges its 7.
        assert_eq!(c, [vec![], vec![]]);
    }

    #[test]
    fn loop_free_chain_is_charged_once_at_the_entry() {
        // $c: i32.const, end = 2; $b: call, call, drop, end = 4 + 2 * 2
        // = 8. Calls of the host function cost their `call` alone.
        let c = costs(
            r#"(module
              (import "kwasm" "pkt_len" (func $host (result i32)))
              (func $c (result i32) i32.const 7)
              (func $b (result i32) call $c call $c drop)
              (func $a (result i32)
                call $b drop
                call $host (if (result i32) (then call $b) (else i32.const 0)))
              (func (export "f") call $a drop))"#,
        );
        // $a: call, drop, call (host), if, call, else, i32.const, end, end
        // = 9 + 2 * 8 = 25 (the `else` skips one call of $b at run time:
        // still paid); f: call, drop, end = 3 + 25 = 28, charged by the
        // host (calls of host functions do not make it reach a check).
        assert_eq!(c, [vec![], vec![], vec![], vec![]]);
        assert_eq!(
            host_charged(
                r#"(module
              (import "kwasm" "pkt_len" (func $host (result i32)))
              (func $c (result i32) i32.const 7)
              (func $b (result i32) call $c call $c drop)
              (func $a (result i32)
                call $b drop
                call $host (if (result i32) (then call $b) (else i32.const 0)))
              (func (export "f") call $a drop))"#
            ),
            [("f", 28)]
        );
        // The same chain called from a loop: each iteration pays it.
        let c = costs(
            r#"(module
              (func $c (result i32) i32.const 7)
              (func $b (result i32) call $c call $c drop)
              (func (export "f") (loop call $b drop br 0)))"#,
        );
        // $b = 4 + 2 * 2 = 8; f: loop, end = 2; the loop: call, drop, br,
        // end = 4 + 8 = 12.
        assert_eq!(c, [vec![], vec![], vec![2, 12]]);
    }

    #[test]
    fn loop_in_a_callee_meters_the_callee_only() {
        // $l has a loop: it pays for itself; its caller pays its own 3.
        let c = costs(
            r#"(module
              (func $l (loop))
              (func $m call $l)
              (func (export "f") call $m))"#,
        );
        // $m: call, end = 2 (its callee pays itself); f: 2 + 2.
        assert_eq!(c, [vec![2, 1], vec![], vec![4]]);
    }

    #[test]
    fn recursion_is_metered() {
        // Direct: $r calls itself, so it is metered on every call.
        let c = costs(
            r#"(module
              (func $r (param i32)
                (if (local.get 0) (then (call $r (i32.sub (local.get 0) (i32.const 1))))))
              (func (export "f") (call $r (i32.const 3))))"#,
        );
        // $r: local.get, if, local.get, i32.const, i32.sub, call, end, end
        // = 8; f: i32.const, call, end = 3.
        assert_eq!(c, [vec![8], vec![3]]);
        // Mutual: $a and $b call each other; the cycle is broken at the
        // lowest index ($a, metered), $b is paid for where $a calls it.
        // Every trip around the cycle passes a check.
        let c = costs(
            r#"(module
              (func $a (param i32)
                (if (local.get 0) (then (call $b (i32.sub (local.get 0) (i32.const 1))))))
              (func $b (param i32) (call $a (local.get 0)))
              (func (export "f") (call $a (i32.const 3))))"#,
        );
        // $b: local.get, call, end = 3; $a: 8 + 3.
        assert_eq!(c, [vec![11], vec![], vec![3]]);
        // A cycle of three, entered from the middle.
        let c = costs(
            r#"(module
              (func $x (param i32) (call $y (local.get 0)))
              (func $y (param i32)
                (if (local.get 0) (then (call $z (i32.sub (local.get 0) (i32.const 1))))))
              (func $z (param i32) (call $x (local.get 0)))
              (func (export "f") (call $y (i32.const 3))))"#,
        );
        // $x is metered; $z = 3 (its callee $x pays itself); $y = 8 + 3
        // paid; $x = 3 + 11; f = 3 + 11.
        assert_eq!(c, [vec![14], vec![], vec![], vec![14]]);
    }

    #[test]
    fn call_indirect_is_metered_and_its_targets_too() {
        let c = costs(
            r#"(module
              (type $t (func (result i32)))
              (table 2 funcref)
              (elem (i32.const 0) $target)
              (func $target (result i32) i32.const 5)
              (func $leaf (result i32) i32.const 6)
              (func $ind (result i32) (call_indirect (type $t) (i32.const 0)))
              (func (export "f") (result i32) (call $ind) (call $leaf) (i32.add)))"#,
        );
        // $target is in a table: metered (2). $leaf: paid (2). $ind makes
        // a call_indirect: metered (i32.const, call_indirect, end = 3).
        // f: call, call, i32.add, end = 4 + $leaf's 2.
        assert_eq!(c, [vec![2], vec![], vec![3], vec![6]]);
    }

    #[test]
    fn exported_and_called_inside_is_paid_by_each_caller() {
        // $g is exported and also called by f: the host pays for it when
        // it calls $g, f's caller when f calls it.
        let text = r#"(module
              (func $h (result i32) i32.const 1)
              (func $g (export "g") (result i32) call $h)
              (func (export "f") (result i32) call $g))"#;
        // $h = 2 (paid); $g: call, end = 2 + 2; f: call, end = 2 + 4.
        assert_eq!(costs(text), [vec![], vec![], vec![]]);
        assert_eq!(host_charged(text), [("g", 4), ("f", 6)]);
        // The same where f has a loop: it pays $g's 4 on every iteration
        // (loop, end = 2; the loop: call, drop, br, end = 4 + 4).
        let text = r#"(module
              (func $h (result i32) i32.const 1)
              (func $g (export "g") (result i32) call $h)
              (func (export "f") (loop call $g drop br 0)))"#;
        assert_eq!(costs(text), [vec![], vec![], vec![2, 8]]);
        assert_eq!(host_charged(text), [("g", 4)]);
    }

    #[test]
    fn start_function_is_metered() {
        let c = costs("(module (func $s nop) (start $s))");
        assert_eq!(c, [[2]]);
    }

    #[test]
    fn recursion_and_indirect_calls_keep_exports_checked() {
        // The exports of `recursion_is_metered`, `call_indirect_is_...`
        // and `large_bounds_...` reach a metered function: none of them is
        // charged by the host.
        for text in [
            r#"(module
              (func $x (param i32) (call $y (local.get 0)))
              (func $y (param i32)
                (if (local.get 0) (then (call $z (i32.sub (local.get 0) (i32.const 1))))))
              (func $z (param i32) (call $x (local.get 0)))
              (func (export "f") (call $y (i32.const 3))))"#,
            r#"(module
              (type $t (func (result i32)))
              (table 1 funcref)
              (func $ind (result i32) (call_indirect (type $t) (i32.const 0)))
              (func (export "f") (result i32) (call $ind)))"#,
        ] {
            assert_eq!(host_charged(text), []);
        }
    }

    #[test]
    fn large_bounds_are_metered_where_they_are() {
        // $big: MAX_STATIC_BOUND - 1 nops and its end: paid. $bigger one
        // more: metered itself, and its caller does not add it.
        let nops = |n: u64| "nop ".repeat(n as usize);
        let text = format!(
            r#"(module
              (func $big {})
              (func $bigger {})
              (func (export "f") call $big call $bigger))"#,
            nops(MAX_STATIC_BOUND - 1),
            nops(MAX_STATIC_BOUND),
        );
        let max = MAX_STATIC_BOUND as i64;
        assert_eq!(costs(&text), [vec![], vec![max + 1], vec![3 + max]]);
        // Bounds that double at every level stop being paid at the cap.
        let mut text = String::from("(module (func $f0 nop)");
        for i in 1..16 {
            text.push_str(&format!(" (func $f{i} call $f{} call $f{})", i - 1, i - 1));
        }
        text.push_str(" (func (export \"e\") call $f15))");
        let c = costs(&text);
        // $f0 = 2, $fi = 3 + 2 * bound(i - 1): 2, 7, 17, ..., 2557, then
        // 5117 is over the cap: $f10 is metered (its callers add nothing
        // for it), and the doubling starts again above it.
        let mut below: Option<i64> = Some(2);
        assert!(c[0].is_empty());
        for (i, checks) in c.iter().enumerate().take(16).skip(1) {
            let bound = 3 + 2 * below.unwrap_or(0);
            if bound <= max {
                assert!(checks.is_empty(), "$f{i}: {checks:?}");
                below = Some(bound);
            } else {
                assert_eq!(checks, &[bound], "$f{i}");
                below = None;
            }
        }
        assert!(c[1..16].iter().any(|f| !f.is_empty()));
        assert_eq!(c[16], [2 + below.unwrap_or(0)]);
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
        let out = instrument(&wasm, 1, validate::features())
            .expect("instrument")
            .wasm;
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
