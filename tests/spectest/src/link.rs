// SPDX-License-Identifier: GPL-2.0
//! The runner's linker. kwasm's invoke path links only kwasm's own host
//! functions, so what a spec script's modules import from the `spectest`
//! host module or from modules made importable by `register` is provided
//! here, by rewriting the importing module before it is uploaded: every
//! import becomes a definition of the importing module, at the same index.
//!
//! - a `spectest` print function becomes a function of the same type that
//!   does nothing (the spec's prints only print);
//! - an immutable global (spectest's `global_i32` and friends, 666, or a
//!   registered module's global with a constant value) becomes an immutable
//!   global with that value, and `global.get` of it in constant expressions
//!   becomes the constant itself;
//! - spectest's table (10..20 funcref) and memory (1..2 pages) become a
//!   table and a memory with those limits, and so do a registered module's
//!   table and memory with theirs for a module that neither reads nor
//!   changes them (neither side can see what the other does);
//! - a registered module's function becomes a copy of it, with the
//!   functions it calls, when none of them uses state (memory, tables,
//!   globals, indirect calls, references): such a copy computes what the
//!   original would.
//!
//! What a copy cannot model is refused here and becomes a named skip in
//! the runner: state shared between instances (a registered module's
//! memory or table the importer uses, its mutable globals; spectest's
//! memory or table used by a second module), and functions that use state. Whether an import links
//! at all (names, kinds, types, limits) is decided here with the spec's
//! rules, before anything is uploaded.

use std::collections::HashMap;

use wasm_encoder as enc;
use wasm_encoder::reencode::{Error as ReError, Reencode, RoundtripReencoder};
use wasmparser::{
    CompositeInnerType, ExternalKind, FuncType, GlobalType, MemoryType, Operator, Parser, Payload,
    RefType, TableType, TypeRef, ValType,
};

/// Prefix of the export names of the functions [`rewrite`] adds to read an
/// exported i32/i64 global (the spec's `get` action): the invoke path calls
/// functions only.
pub const GETTER: &str = "kwasm-spectest get ";

/// Pages of linear memory one kwasm instance can have (KWASM_LIMIT_MEMORY_PAGES,
/// wasm3's d_m3MaxLinearMemoryPages).
pub const KWASM_MAX_PAGES: u64 = kwasm_uapi::KWASM_LIMIT_MEMORY_PAGES as u64;

/// An import of a module.
pub struct ImportDef {
    pub module: String,
    pub name: String,
    pub ty: TypeRef,
}

/// What a module imports, defines and exports, read from its binary.
#[derive(Default)]
pub struct Info {
    /// Function types by type index (`None`: not a function type).
    types: Vec<Option<FuncType>>,
    /// Type index of each function, imported ones first.
    funcs: Vec<u32>,
    func_imports: u32,
    /// Each global's type and, for defined ones, its value when it is one
    /// constant instruction.
    globals: Vec<(GlobalType, Option<enc::Instruction<'static>>)>,
    tables: Vec<TableType>,
    memories: Vec<MemoryType>,
    pub imports: Vec<ImportDef>,
    exports: HashMap<String, (ExternalKind, u32)>,
    /// The code contains `memory.grow` / `table.grow`.
    pub grows_memory: bool,
    pub grows_table: bool,
    /// Whether the module can read or change the contents of a memory /
    /// table it imports: instructions that use one, data / active element
    /// segments, an export of it (conservative: by operator name).
    pub touches_memory: bool,
    pub touches_table: bool,
}

fn constant(expr: &wasmparser::ConstExpr<'_>) -> Option<enc::Instruction<'static>> {
    let mut ops = expr.get_operators_reader();
    let op = ops.read().ok()?;
    if !ops.is_end_then_eof() {
        return None;
    }
    match op {
        Operator::I32Const { value } => Some(enc::Instruction::I32Const(value)),
        Operator::I64Const { value } => Some(enc::Instruction::I64Const(value)),
        Operator::F32Const { value } => Some(enc::Instruction::F32Const(value.into())),
        Operator::F64Const { value } => Some(enc::Instruction::F64Const(value.into())),
        Operator::RefNull { hty } => RoundtripReencoder
            .heap_type(hty)
            .ok()
            .map(enc::Instruction::RefNull),
        _ => None,
    }
}

impl Info {
    /// Reads `wasm`; `Err` for what does not parse (the engine decides).
    pub fn parse(wasm: &[u8]) -> Result<Info, String> {
        let mut info = Info::default();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.map_err(|e| e.to_string())? {
                Payload::TypeSection(s) => {
                    for group in s {
                        for sub in group.map_err(|e| e.to_string())?.into_types() {
                            info.types.push(match sub.composite_type.inner {
                                CompositeInnerType::Func(f) => Some(f),
                                _ => None,
                            });
                        }
                    }
                }
                Payload::ImportSection(s) => {
                    for import in s.into_imports() {
                        let import = import.map_err(|e| e.to_string())?;
                        match import.ty {
                            TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                                info.funcs.push(t);
                                info.func_imports += 1;
                            }
                            TypeRef::Table(t) => info.tables.push(t),
                            TypeRef::Memory(m) => info.memories.push(m),
                            TypeRef::Global(g) => info.globals.push((g, None)),
                            TypeRef::Tag(_) => {}
                        }
                        info.imports.push(ImportDef {
                            module: import.module.into(),
                            name: import.name.into(),
                            ty: import.ty,
                        });
                    }
                }
                Payload::FunctionSection(s) => {
                    for t in s {
                        info.funcs.push(t.map_err(|e| e.to_string())?);
                    }
                }
                Payload::TableSection(s) => {
                    for t in s {
                        info.tables.push(t.map_err(|e| e.to_string())?.ty);
                    }
                }
                Payload::MemorySection(s) => {
                    for m in s {
                        info.memories.push(m.map_err(|e| e.to_string())?);
                    }
                }
                Payload::GlobalSection(s) => {
                    for g in s {
                        let g = g.map_err(|e| e.to_string())?;
                        info.globals.push((g.ty, constant(&g.init_expr)));
                    }
                }
                Payload::ExportSection(s) => {
                    for e in s {
                        let e = e.map_err(|e| e.to_string())?;
                        info.touches_memory |= e.kind == ExternalKind::Memory;
                        info.touches_table |= e.kind == ExternalKind::Table;
                        info.exports.insert(e.name.into(), (e.kind, e.index));
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let mut ops = body.get_operators_reader().map_err(|e| e.to_string())?;
                    while !ops.eof() {
                        let op = ops.read().map_err(|e| e.to_string())?;
                        match op {
                            Operator::MemoryGrow { .. } => info.grows_memory = true,
                            Operator::TableGrow { .. } => info.grows_table = true,
                            _ => {}
                        }
                        let name = format!("{op:?}");
                        let name = name.split([' ', '{', '(']).next().unwrap_or_default();
                        let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
                        info.touches_memory |= has(&["Load", "Store", "Memory", "Atomic", "Data"]);
                        info.touches_table |= has(&["Table", "Indirect", "Elem"]);
                    }
                }
                Payload::DataSection(s) => info.touches_memory |= s.count() > 0,
                Payload::ElementSection(s) => {
                    for e in s {
                        let e = e.map_err(|e| e.to_string())?;
                        info.touches_table |=
                            matches!(e.kind, wasmparser::ElementKind::Active { .. });
                    }
                }
                _ => {}
            }
        }
        Ok(info)
    }

    /// The value type of the exported global `name`.
    pub fn global_export(&self, name: &str) -> Option<ValType> {
        match self.exports.get(name)? {
            (ExternalKind::Global, g) => Some(self.globals.get(*g as usize)?.0.content_type),
            _ => None,
        }
    }

    pub fn has_export(&self, name: &str) -> bool {
        self.exports.contains_key(name)
    }

    /// The exported i32/i64 globals without a getter yet, by name.
    pub fn gettable(&self) -> Vec<(&str, u32, ValType)> {
        let mut found: Vec<(&str, u32, ValType)> = self
            .exports
            .iter()
            .filter_map(|(name, &(kind, index))| {
                let ty = self.globals.get(index as usize)?.0.content_type;
                let getter = format!("{GETTER}{name}");
                (kind == ExternalKind::Global
                    && matches!(ty, ValType::I32 | ValType::I64)
                    && !name.starts_with(GETTER)
                    && !self.exports.contains_key(&getter))
                .then_some((name.as_str(), index, ty))
            })
            .collect();
        found.sort();
        found
    }

    fn func_type(&self, func: u32) -> Option<&FuncType> {
        let ty = *self.funcs.get(func as usize)?;
        self.types.get(ty as usize)?.as_ref()
    }
}

/// What replaces one import.
#[derive(Clone)]
pub enum Provided<'a> {
    /// A function of the import's type that does nothing.
    Nop,
    /// A copy of function `func` of the module `wasm`, with its callees.
    Copy { wasm: &'a [u8], func: u32 },
    /// An immutable global of the import's type with this value.
    Global(enc::Instruction<'static>),
    /// A table of the import's element type with these limits.
    Table { min: u64, max: Option<u64> },
    /// A memory with these limits (pages).
    Memory { min: u64, max: Option<u64> },
}

/// How one import resolves.
pub enum Resolution<'a> {
    Provide(Provided<'a>),
    /// The spec's linking fails: "unknown import", "incompatible import type".
    Unlinkable(String),
    /// It would link, but a copy cannot model it: the skip reason, and
    /// whether the exporter's state is shared (an instance that does not
    /// exist here would have changed it).
    Skip {
        reason: &'static str,
        shares_state: bool,
    },
}

/// Whether an import of limits `(min, max)` matches an export whose
/// declared limits are `(min, max)` and whose current size may have grown
/// past its minimum: `Some(bool)` when certain.
fn limits_match(
    import: (u64, Option<u64>),
    export: (u64, Option<u64>),
    may_have_grown: bool,
) -> Option<bool> {
    if let Some(imax) = import.1 {
        match export.1 {
            Some(emax) if emax <= imax => {}
            _ => return Some(false),
        }
    }
    if import.0 <= export.0 {
        return Some(true);
    }
    match export.1 {
        Some(emax) if import.0 > emax => Some(false),
        _ if may_have_grown => None,
        _ => Some(false),
    }
}

fn incompatible<'a>(module: &str, name: &str) -> Resolution<'a> {
    Resolution::Unlinkable(format!("incompatible import type {module}.{name}"))
}

fn unknown<'a>(module: &str, name: &str) -> Resolution<'a> {
    Resolution::Unlinkable(format!("unknown import {module}.{name}"))
}

/// How spectest's memory or table stands when a module imports it.
#[derive(Clone, Copy, Default)]
pub struct Sharing {
    /// Another module holds it, and both could see each other's changes:
    /// a copy cannot model that.
    pub shared: bool,
    /// It may be larger than spectest's initial size.
    pub may_have_grown: bool,
}

/// Resolves an import of `spectest`.
pub fn spectest<'a>(
    importer: &Info,
    import: &ImportDef,
    memory: Sharing,
    table: Sharing,
) -> Resolution<'a> {
    use ValType::{F32, F64, I32, I64};

    let (module, name) = ("spectest", import.name.as_str());
    let print: Option<&[ValType]> = match name {
        "print" => Some(&[]),
        "print_i32" => Some(&[I32]),
        "print_i64" => Some(&[I64]),
        "print_f32" => Some(&[F32]),
        "print_f64" => Some(&[F64]),
        "print_i32_f32" => Some(&[I32, F32]),
        "print_f64_f64" => Some(&[F64, F64]),
        _ => None,
    };
    if let Some(params) = print {
        let TypeRef::Func(t) = import.ty else {
            return incompatible(module, name);
        };
        return match importer.types.get(t as usize) {
            Some(Some(f)) if f.params() == params && f.results().is_empty() => {
                Resolution::Provide(Provided::Nop)
            }
            _ => incompatible(module, name),
        };
    }
    let global = match name {
        "global_i32" => Some((I32, enc::Instruction::I32Const(666))),
        "global_i64" => Some((I64, enc::Instruction::I64Const(666))),
        "global_f32" => Some((F32, enc::Instruction::F32Const(666.6f32.into()))),
        "global_f64" => Some((F64, enc::Instruction::F64Const(666.6f64.into()))),
        _ => None,
    };
    if let Some((ty, value)) = global {
        return match import.ty {
            TypeRef::Global(g) if g.content_type == ty && !g.mutable && !g.shared => {
                Resolution::Provide(Provided::Global(value))
            }
            _ => incompatible(module, name),
        };
    }
    match (name, import.ty) {
        ("table", TypeRef::Table(t)) => {
            if t.element_type != RefType::FUNCREF || t.table64 || t.shared {
                return incompatible(module, name);
            }
            match limits_match((t.initial, t.maximum), (10, Some(20)), table.may_have_grown) {
                Some(false) => incompatible(module, name),
                Some(true) if !table.shared => Resolution::Provide(Provided::Table {
                    min: 10,
                    max: Some(20),
                }),
                _ => Resolution::Skip {
                    reason: "spectest's table imported by a second module",
                    shares_state: true,
                },
            }
        }
        ("memory", TypeRef::Memory(m)) => {
            if m.memory64 || m.shared || m.page_size_log2.is_some() {
                return incompatible(module, name);
            }
            match limits_match((m.initial, m.maximum), (1, Some(2)), memory.may_have_grown) {
                Some(false) => incompatible(module, name),
                Some(true) if !memory.shared => Resolution::Provide(Provided::Memory {
                    min: 1,
                    max: Some(2),
                }),
                _ => Resolution::Skip {
                    reason: "spectest's memory imported by a second module",
                    shares_state: true,
                },
            }
        }
        ("table" | "memory", _) => incompatible(module, name),
        _ => unknown(module, name),
    }
}

/// Resolves an import of a registered module: `wasm` and `info` are what
/// was uploaded for it.
pub fn registered<'a>(
    importer: &Info,
    import: &ImportDef,
    wasm: &'a [u8],
    info: &Info,
) -> Resolution<'a> {
    let (module, name) = (import.module.as_str(), import.name.as_str());
    let Some(&(kind, index)) = info.exports.get(name) else {
        return unknown(module, name);
    };
    match (kind, import.ty) {
        (
            ExternalKind::Func | ExternalKind::FuncExact,
            TypeRef::Func(t) | TypeRef::FuncExact(t),
        ) => {
            let want = importer.types.get(t as usize).and_then(Option::as_ref);
            let have = info.func_type(index);
            match (want, have) {
                (Some(w), Some(h)) if w.params() == h.params() && w.results() == h.results() => {}
                _ => return incompatible(module, name),
            }
            match copy_check(wasm, index) {
                Ok(()) => Resolution::Provide(Provided::Copy { wasm, func: index }),
                Err(_) => Resolution::Skip {
                    reason: "imports a function of a registered module that uses state",
                    shares_state: may_write(wasm, info, index),
                },
            }
        }
        (ExternalKind::Global, TypeRef::Global(g)) => {
            let Some((have, value)) = info.globals.get(index as usize) else {
                return incompatible(module, name);
            };
            if have.content_type != g.content_type || have.mutable != g.mutable {
                return incompatible(module, name);
            }
            match value {
                _ if g.mutable => Resolution::Skip {
                    reason: "imports a mutable global of a registered module",
                    shares_state: true,
                },
                Some(v) => Resolution::Provide(Provided::Global(v.clone())),
                None => Resolution::Skip {
                    reason: "imports a global of a registered module without a constant value",
                    shares_state: false,
                },
            }
        }
        (ExternalKind::Memory, TypeRef::Memory(m)) => {
            let Some(have) = info.memories.get(index as usize) else {
                return incompatible(module, name);
            };
            if have.memory64 != m.memory64 || have.shared != m.shared {
                return incompatible(module, name);
            }
            let fits = limits_match(
                (m.initial, m.maximum),
                (have.initial, have.maximum),
                info.grows_memory,
            );
            match fits {
                Some(false) => incompatible(module, name),
                // Neither can see what the other does with it: a copy is
                // as good.
                Some(true) if !importer.touches_memory => Resolution::Provide(Provided::Memory {
                    min: have.initial,
                    max: have.maximum,
                }),
                _ => Resolution::Skip {
                    reason: "imports the memory of a registered module",
                    shares_state: true,
                },
            }
        }
        (ExternalKind::Table, TypeRef::Table(t)) => {
            let Some(have) = info.tables.get(index as usize) else {
                return incompatible(module, name);
            };
            if have.element_type != t.element_type || have.table64 != t.table64 {
                return incompatible(module, name);
            }
            let fits = limits_match(
                (t.initial, t.maximum),
                (have.initial, have.maximum),
                info.grows_table,
            );
            match fits {
                Some(false) => incompatible(module, name),
                Some(true) if !importer.touches_table => Resolution::Provide(Provided::Table {
                    min: have.initial,
                    max: have.maximum,
                }),
                _ => Resolution::Skip {
                    reason: "imports the table of a registered module",
                    shares_state: true,
                },
            }
        }
        _ => incompatible(module, name),
    }
}

/// The parts of a module the rewrite needs.
#[derive(Default)]
struct Parts<'a> {
    types: Option<wasmparser::TypeSectionReader<'a>>,
    funcs: Vec<u32>,
    tables: Option<wasmparser::TableSectionReader<'a>>,
    memories: Option<wasmparser::MemorySectionReader<'a>>,
    globals: Option<wasmparser::GlobalSectionReader<'a>>,
    exports: Option<wasmparser::ExportSectionReader<'a>>,
    start: Option<u32>,
    elements: Option<wasmparser::ElementSectionReader<'a>>,
    data_count: Option<u32>,
    bodies: Vec<wasmparser::FunctionBody<'a>>,
    data: Option<wasmparser::DataSectionReader<'a>>,
}

fn parts(wasm: &[u8]) -> Result<Parts<'_>, String> {
    let mut p = Parts::default();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| e.to_string())? {
            Payload::Version { .. }
            | Payload::ImportSection(_)
            | Payload::CustomSection(_)
            | Payload::CodeSectionStart { .. }
            | Payload::End(_) => {}
            Payload::TypeSection(s) => p.types = Some(s),
            Payload::FunctionSection(s) => {
                for t in s {
                    p.funcs.push(t.map_err(|e| e.to_string())?);
                }
            }
            Payload::TableSection(s) => p.tables = Some(s),
            Payload::MemorySection(s) => p.memories = Some(s),
            Payload::GlobalSection(s) => p.globals = Some(s),
            Payload::ExportSection(s) => p.exports = Some(s),
            Payload::StartSection { func, .. } => p.start = Some(func),
            Payload::ElementSection(s) => p.elements = Some(s),
            Payload::DataCountSection { count, .. } => p.data_count = Some(count),
            Payload::CodeSectionEntry(body) => p.bodies.push(body),
            Payload::DataSection(s) => p.data = Some(s),
            other => {
                return Err(format!(
                    "cannot rewrite a module with section {:?}",
                    other.as_section().map(|(id, _)| id)
                ))
            }
        }
    }
    Ok(p)
}

/// Functions copied from other modules into the one being rewritten.
struct Copies<'a> {
    /// The modules copied from, by address.
    sources: Vec<(&'a [u8], Info, Vec<wasmparser::FunctionBody<'a>>)>,
    /// (source, function) -> index in the rewritten module.
    funcs: HashMap<(usize, u32), u32>,
    /// (source, type) -> index in the rewritten module.
    types: HashMap<(usize, u32), u32>,
    new_types: Vec<enc::FuncType>,
    /// Copied functions appended after the module's own, in index order.
    appended: Vec<(usize, u32)>,
    next_type: u32,
    next_func: u32,
}

impl<'a> Copies<'a> {
    fn source(&mut self, wasm: &'a [u8]) -> Result<usize, String> {
        if let Some(i) = self
            .sources
            .iter()
            .position(|s| s.0.as_ptr() == wasm.as_ptr())
        {
            return Ok(i);
        }
        let info = Info::parse(wasm)?;
        let bodies = parts(wasm)?.bodies;
        self.sources.push((wasm, info, bodies));
        Ok(self.sources.len() - 1)
    }

    /// The body of `func` of source `src`, its calls and types mapped.
    fn body(&mut self, src: usize, func: u32) -> Result<enc::Function, String> {
        let (imported, body) = {
            let s = &self.sources[src];
            let defined = func.checked_sub(s.1.func_imports);
            (
                defined.is_none(),
                defined.and_then(|i| s.2.get(i as usize).cloned()),
            )
        };
        let body = match body {
            Some(body) if !imported => body,
            _ => return Err(format!("function {func} is imported there")),
        };
        let mut ops = body.get_operators_reader().map_err(|e| e.to_string())?;
        while !ops.eof() {
            match ops.read().map_err(|e| e.to_string())? {
                Operator::RefFunc { .. } => return Err("uses ref.func".into()),
                Operator::CallIndirect { .. } | Operator::ReturnCallIndirect { .. } => {
                    return Err("calls indirectly".into())
                }
                _ => {}
            }
        }
        let mut mapper = Mapper { copies: self, src };
        let mut f = mapper
            .new_function_with_parsed_locals(&body)
            .map_err(|e| e.to_string())?;
        let mut ops = body.get_operators_reader().map_err(|e| e.to_string())?;
        while !ops.eof() {
            let insn = mapper
                .parse_instruction(&mut ops)
                .map_err(|e| e.to_string())?;
            f.instruction(&insn);
        }
        Ok(f)
    }

    /// Index in the rewritten module of function `func` of source `src`,
    /// appended when new.
    fn func(&mut self, src: usize, func: u32) -> u32 {
        if let Some(&i) = self.funcs.get(&(src, func)) {
            return i;
        }
        let i = self.next_func;
        self.next_func += 1;
        self.funcs.insert((src, func), i);
        self.appended.push((src, func));
        i
    }

    fn ty(&mut self, src: usize, ty: u32) -> Result<u32, String> {
        if let Some(&i) = self.types.get(&(src, ty)) {
            return Ok(i);
        }
        let f = self.sources[src]
            .1
            .types
            .get(ty as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| format!("type {ty} is not a function type"))?;
        let f = RoundtripReencoder
            .func_type(f.clone())
            .map_err(|e| e.to_string())?;
        let i = self.next_type;
        self.next_type += 1;
        self.types.insert((src, ty), i);
        self.new_types.push(f);
        Ok(i)
    }
}

/// Re-encodes a copied body: calls and types mapped, state refused.
struct Mapper<'c, 'a> {
    copies: &'c mut Copies<'a>,
    src: usize,
}

fn stateful<T>(what: &str) -> Result<T, ReError<String>> {
    Err(ReError::UserError(format!("uses {what}")))
}

impl Reencode for Mapper<'_, '_> {
    type Error = String;

    fn function_index(&mut self, func: u32) -> Result<u32, ReError<String>> {
        if func < self.copies.sources[self.src].1.func_imports {
            return stateful("an imported function");
        }
        Ok(self.copies.func(self.src, func))
    }

    fn type_index(&mut self, ty: u32) -> Result<u32, ReError<String>> {
        self.copies.ty(self.src, ty).map_err(ReError::UserError)
    }

    fn global_index(&mut self, _: u32) -> Result<u32, ReError<String>> {
        stateful("a global")
    }

    fn memory_index(&mut self, _: u32) -> Result<u32, ReError<String>> {
        stateful("memory")
    }

    fn mem_arg(&mut self, _: wasmparser::MemArg) -> Result<enc::MemArg, ReError<String>> {
        stateful("memory")
    }

    fn table_index(&mut self, _: u32) -> Result<u32, ReError<String>> {
        stateful("a table")
    }

    fn data_index(&mut self, _: u32) -> Result<u32, ReError<String>> {
        stateful("a data segment")
    }

    fn element_index(&mut self, _: u32) -> Result<u32, ReError<String>> {
        stateful("an element segment")
    }

    fn tag_index(&mut self, _: u32) -> Result<u32, ReError<String>> {
        stateful("a tag")
    }
}

/// Whether function `func` of `wasm` can be copied: `Err` says why not.
pub fn copy_check(wasm: &[u8], func: u32) -> Result<(), String> {
    let mut copies = Copies {
        sources: Vec::new(),
        funcs: HashMap::new(),
        types: HashMap::new(),
        new_types: Vec::new(),
        appended: Vec::new(),
        next_type: 0,
        next_func: 0,
    };
    let src = copies.source(wasm)?;
    copies.func(src, func);
    let mut done = 0;
    while let Some(&(s, f)) = copies.appended.get(done) {
        copies.body(s, f)?;
        done += 1;
    }
    Ok(())
}

/// Whether calling function `func` of `wasm` may change the state of its
/// instance (stores, `global.set`, table and memory changes, indirect or
/// imported calls, which could do anything): an importer that would have
/// called it may have changed the exporter. Conservative: any operator
/// whose name says it writes counts, and so does anything unreadable.
fn may_write(wasm: &[u8], info: &Info, func: u32) -> bool {
    const WRITES: &[&str] = &[
        "Store", "Grow", "Fill", "Copy", "Init", "DataDrop", "ElemDrop", "Set", "Indirect",
        "CallRef", "Atomic", "Notify", "Wait", "Resume", "Suspend", "Switch",
    ];
    let Ok(p) = parts(wasm) else {
        return true;
    };
    let mut todo = vec![func];
    let mut seen = std::collections::HashSet::new();
    while let Some(f) = todo.pop() {
        if !seen.insert(f) {
            continue;
        }
        let Some(body) = f
            .checked_sub(info.func_imports)
            .and_then(|i| p.bodies.get(i as usize))
        else {
            return true; // imported
        };
        let Ok(mut ops) = body.get_operators_reader() else {
            return true;
        };
        while !ops.eof() {
            let Ok(op) = ops.read() else {
                return true;
            };
            if let Operator::Call { function_index } | Operator::ReturnCall { function_index } = op
            {
                todo.push(function_index);
                continue;
            }
            let name = format!("{op:?}");
            let name = name.split([' ', '{', '(']).next().unwrap_or_default();
            if name != "LocalSet" && WRITES.iter().any(|w| name.contains(w)) {
                return true;
            }
        }
    }
    false
}

/// The importer's own re-encoding: indices kept, `global.get` of an
/// imported global in a constant expression replaced by its value.
struct Importer<'p> {
    consts: &'p [Option<enc::Instruction<'static>>],
}

impl Reencode for Importer<'_> {
    type Error = String;

    fn const_expr(
        &mut self,
        expr: wasmparser::ConstExpr<'_>,
    ) -> Result<enc::ConstExpr, ReError<String>> {
        let mut ops = expr.get_operators_reader();
        let mut bytes = Vec::new();
        while !ops.is_end_then_eof() {
            let op = ops.read()?;
            if let Operator::GlobalGet { global_index } = op {
                if let Some(Some(value)) = self.consts.get(global_index as usize) {
                    enc::Encode::encode(value, &mut bytes);
                    continue;
                }
            }
            enc::Encode::encode(&self.instruction(op)?, &mut bytes);
        }
        Ok(enc::ConstExpr::raw(bytes))
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// `wasm` with each import replaced by `provided` (same order; every
/// import must be provided), and for each exported i32/i64 global a
/// function that returns its value, exported as [`GETTER`] + its name.
pub fn rewrite(wasm: &[u8], provided: &[Provided<'_>]) -> Result<Vec<u8>, String> {
    let info = Info::parse(wasm)?;
    if info.imports.len() != provided.len() {
        return Err("not every import is provided".into());
    }
    let p = parts(wasm)?;
    let defined_funcs = p.funcs.len() as u32;
    let mut copies = Copies {
        sources: Vec::new(),
        funcs: HashMap::new(),
        types: HashMap::new(),
        new_types: Vec::new(),
        appended: Vec::new(),
        next_type: info.types.len() as u32,
        next_func: info.func_imports + defined_funcs,
    };

    // Imports in order: functions first in their index space, and so on.
    let mut func_types = Vec::new();
    let mut roots: Vec<Option<(usize, u32)>> = Vec::new();
    let mut tables = enc::TableSection::new();
    let mut memories = enc::MemorySection::new();
    let mut globals = enc::GlobalSection::new();
    let mut consts = Vec::new();
    for (index, (import, what)) in info.imports.iter().zip(provided).enumerate() {
        match (import.ty, what) {
            (TypeRef::Func(t), Provided::Nop) => {
                func_types.push(t);
                roots.push(None);
            }
            (TypeRef::Func(t), Provided::Copy { wasm, func }) => {
                let src = copies.source(wasm)?;
                let at = roots.len() as u32;
                copies.funcs.entry((src, *func)).or_insert(at);
                func_types.push(t);
                roots.push(Some((src, *func)));
            }
            (TypeRef::Table(t), Provided::Table { min, max }) => {
                let mut ty = RoundtripReencoder.table_type(t).map_err(err)?;
                ty.minimum = *min;
                ty.maximum = *max;
                tables.table(ty);
            }
            (TypeRef::Memory(m), Provided::Memory { min, max }) => {
                let mut ty = RoundtripReencoder.memory_type(m).map_err(err)?;
                ty.minimum = *min;
                ty.maximum = *max;
                memories.memory(ty);
            }
            (TypeRef::Global(g), Provided::Global(value)) => {
                let mut ty = RoundtripReencoder.global_type(g).map_err(err)?;
                ty.mutable = false;
                let mut bytes = Vec::new();
                enc::Encode::encode(value, &mut bytes);
                globals.global(ty, &enc::ConstExpr::raw(bytes));
                consts.push(Some(value.clone()));
            }
            _ => return Err(format!("import {index} provided with the wrong kind")),
        }
    }
    for _ in consts.len()..info.globals.len() {
        consts.push(None);
    }
    let mut own = Importer { consts: &consts };

    // Code: the imports' bodies, the module's own, then the copies' callees.
    let mut code = enc::CodeSection::new();
    for root in &roots {
        match root {
            None => {
                let mut f = enc::Function::new([]);
                f.instruction(&enc::Instruction::End);
                code.function(&f);
            }
            Some((src, func)) => {
                code.function(&copies.body(*src, *func)?);
            }
        }
    }
    for body in &p.bodies {
        code.raw(body.as_bytes());
    }
    let mut done = 0;
    while let Some(&(src, func)) = copies.appended.get(done) {
        code.function(&copies.body(src, func)?);
        done += 1;
    }
    let appended = copies.appended.clone();
    let getters = info.gettable();
    let mut getter_types = Vec::new();
    let mut result_types: HashMap<ValType, u32> = HashMap::new();
    for &(_, global, ty) in &getters {
        let at = match result_types.get(&ty) {
            Some(&at) => at,
            None => {
                let at = copies.next_type;
                copies.next_type += 1;
                let result = RoundtripReencoder.val_type(ty).map_err(err)?;
                copies.new_types.push(enc::FuncType::new([], [result]));
                result_types.insert(ty, at);
                at
            }
        };
        getter_types.push(at);
        let mut f = enc::Function::new([]);
        f.instruction(&enc::Instruction::GlobalGet(global));
        f.instruction(&enc::Instruction::End);
        code.function(&f);
    }
    let first_getter = copies.next_func;
    for (src, func) in appended {
        let ty = copies.sources[src]
            .1
            .funcs
            .get(func as usize)
            .copied()
            .ok_or("copied function without a type")?;
        func_types.push(copies.ty(src, ty)?);
    }

    let mut module = enc::Module::new();
    let mut types = enc::TypeSection::new();
    if let Some(s) = p.types {
        own.parse_type_section(&mut types, s).map_err(err)?;
    }
    for f in &copies.new_types {
        types.ty().func_type(f);
    }
    if !types.is_empty() {
        module.section(&types);
    }
    let mut functions = enc::FunctionSection::new();
    let own_funcs = p.funcs.iter().copied();
    let copied = func_types.split_off(roots.len());
    let all = func_types.into_iter().chain(own_funcs).chain(copied);
    for t in all.chain(getter_types) {
        functions.function(t);
    }
    if !functions.is_empty() {
        module.section(&functions);
    }
    if let Some(s) = p.tables {
        for t in s {
            own.parse_table(&mut tables, t.map_err(|e| e.to_string())?)
                .map_err(err)?;
        }
    }
    if !tables.is_empty() {
        module.section(&tables);
    }
    if let Some(s) = p.memories {
        own.parse_memory_section(&mut memories, s).map_err(err)?;
    }
    if !memories.is_empty() {
        module.section(&memories);
    }
    if let Some(s) = p.globals {
        own.parse_global_section(&mut globals, s).map_err(err)?;
    }
    if !globals.is_empty() {
        module.section(&globals);
    }
    if let Some(s) = p.exports {
        let mut exports = enc::ExportSection::new();
        own.parse_export_section(&mut exports, s).map_err(err)?;
        for (i, (name, _, _)) in getters.iter().enumerate() {
            let name = format!("{GETTER}{name}");
            exports.export(&name, enc::ExportKind::Func, first_getter + i as u32);
        }
        module.section(&exports);
    }
    if let Some(func) = p.start {
        module.section(&enc::StartSection {
            function_index: func,
        });
    }
    if let Some(s) = p.elements {
        let mut elements = enc::ElementSection::new();
        own.parse_element_section(&mut elements, s).map_err(err)?;
        module.section(&elements);
    }
    if let Some(count) = p.data_count {
        module.section(&enc::DataCountSection { count });
    }
    if !code.is_empty() {
        module.section(&code);
    }
    if let Some(s) = p.data {
        let mut data = enc::DataSection::new();
        own.parse_data_section(&mut data, s).map_err(err)?;
        module.section(&data);
    }
    Ok(module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wat(text: &str) -> Vec<u8> {
        let buf = wast::parser::ParseBuffer::new(text).unwrap();
        let mut module: wast::Wat = wast::parser::parse(&buf).unwrap();
        module.encode().unwrap()
    }

    #[test]
    fn writes() {
        let m = wat(r#"(module (memory 1) (global $g (mut i32) (i32.const 0))
            (func (export "load") (result i32) (i32.load (i32.const 0)))
            (func (export "get") (result i32) (global.get $g))
            (func $set (global.set $g (i32.const 1)))
            (func (export "calls set") (call $set))
            (func (export "store") (i32.store (i32.const 0) (i32.const 1)))
            (func (export "local") (local i32) (local.set 0 (i32.const 1))))"#);
        let info = Info::parse(&m).unwrap();
        let f = |name: &str| info.exports[name].1;
        assert!(!may_write(&m, &info, f("load")));
        assert!(!may_write(&m, &info, f("get")));
        assert!(!may_write(&m, &info, f("local")));
        assert!(may_write(&m, &info, f("calls set")));
        assert!(may_write(&m, &info, f("store")));
    }

    #[test]
    fn touches() {
        let touches = |text: &str| {
            let info = Info::parse(&wat(text)).unwrap();
            (info.touches_memory, info.touches_table)
        };
        let mem = r#"(import "m" "mem" (memory 1))"#;
        let tab = r#"(import "m" "tab" (table 1 funcref))"#;
        assert_eq!(touches(&format!("(module {mem} {tab})")), (false, false));
        let f = "(func (result i32) (i32.load (i32.const 0)))";
        assert_eq!(touches(&format!("(module {mem} {f})")), (true, false));
        let d = r#"(data (i32.const 0) "x")"#;
        assert_eq!(touches(&format!("(module {mem} {d})")), (true, false));
        let e = r#"(export "e" (memory 0))"#;
        assert_eq!(touches(&format!("(module {mem} {e})")), (true, false));
        let g = "(func $g) (elem (i32.const 0) $g)";
        assert_eq!(touches(&format!("(module {tab} {g})")), (false, true));
        let c = "(func (call_indirect (i32.const 0)))";
        assert_eq!(touches(&format!("(module {tab} {c})")), (false, true));
    }

    #[test]
    fn limits() {
        assert_eq!(limits_match((1, None), (1, Some(2)), false), Some(true));
        assert_eq!(limits_match((2, None), (1, Some(2)), false), Some(false));
        assert_eq!(limits_match((2, None), (1, Some(2)), true), None);
        assert_eq!(limits_match((3, None), (1, Some(2)), true), Some(false));
        assert_eq!(limits_match((0, Some(1)), (1, Some(2)), false), Some(false));
        assert_eq!(limits_match((0, Some(3)), (1, None), false), Some(false));
    }

    #[test]
    fn spectest_imports_become_definitions() {
        let m = wat(r#"(module
            (import "spectest" "print_i32" (func $p (param i32)))
            (import "spectest" "global_i32" (global $g i32))
            (import "spectest" "memory" (memory 1))
            (data (global.get $g) "x")
            (func (export "f") (result i32) (call $p (i32.const 1)) (global.get $g)))"#);
        let info = Info::parse(&m).unwrap();
        let provided: Vec<Provided<'_>> = info
            .imports
            .iter()
            .map(
                |i| match spectest(&info, i, Sharing::default(), Sharing::default()) {
                    Resolution::Provide(p) => p,
                    _ => panic!("not provided: {}", i.name),
                },
            )
            .collect();
        let out = rewrite(&m, &provided).unwrap();
        let mut v = wasmparser::Validator::new();
        v.validate_all(&out).unwrap();
        let info = Info::parse(&out).unwrap();
        assert!(info.imports.is_empty());
        assert_eq!(info.funcs.len(), 2);
        assert_eq!(info.memories[0].maximum, Some(2));
    }
}
