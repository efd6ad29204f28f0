//! Load-time limits: how much of each thing a program may ask for, so that
//! a load's kernel memory and the stack depth of wasm3's recursive compiler
//! stay bounded. Checked section by section as the validator accepts them,
//! and each function body before it is validated, so an oversized module is
//! refused before wasm3 sees it. docs/ABI.md ("Limits") lists every value.
//!
//! Exceeding a limit is `E2BIG` with a message naming the limit and the
//! value; a data segment that does not fit in linear memory is `EINVAL`
//! (the module could never be instantiated). The module size limit is
//! checked by the caller (`EFBIG`).

use alloc::format;

use wasmparser::{
    CompositeInnerType, DataKind, ElementItems, FunctionBody, Operator, Payload, TypeRef,
    WasmModuleResources,
};

use crate::abi::{self, Error, E2BIG, EINVAL};

/// Functions, imported plus defined.
pub const MAX_FUNCTIONS: u64 = abi::KWASM_LIMIT_FUNCTIONS as u64;
/// Function types.
pub const MAX_TYPES: u64 = abi::KWASM_LIMIT_TYPES as u64;
pub const MAX_GLOBALS: u64 = abi::KWASM_LIMIT_GLOBALS as u64;
pub const MAX_EXPORTS: u64 = abi::KWASM_LIMIT_EXPORTS as u64;
/// Entries of a table, initial and declared maximum (a table cannot grow:
/// `table.grow` needs reference types, which are not accepted).
pub const MAX_TABLE_ENTRIES: u64 = abi::KWASM_LIMIT_TABLE_ENTRIES as u64;
/// Initial linear memory of one instance, in 64 KiB pages: wasm3's
/// `d_m3MaxLinearMemoryPages` (wasm3-kernel/kwasm_m3_config.h). A larger
/// declared maximum is accepted and capped: `memory.grow` past this
/// returns -1.
pub const MAX_MEMORY_PAGES: u64 = abi::KWASM_LIMIT_MEMORY_PAGES as u64;
const PAGE_SIZE: u64 = 64 << 10;
/// Initial linear memory summed over the instances, one per possible CPU.
pub const MAX_TOTAL_MEMORY: u64 = abi::KWASM_LIMIT_TOTAL_MEMORY as u64;
/// Data segments, including a data count section's declared count.
pub const MAX_DATA_SEGMENTS: u64 = abi::KWASM_LIMIT_DATA_SEGMENTS as u64;
/// Bytes of all data segments together.
pub const MAX_DATA_BYTES: u64 = abi::KWASM_LIMIT_DATA_BYTES as u64;
pub const MAX_ELEMENT_SEGMENTS: u64 = abi::KWASM_LIMIT_ELEMENT_SEGMENTS as u64;
/// Function references in all element segments together.
pub const MAX_ELEMENTS: u64 = abi::KWASM_LIMIT_ELEMENTS as u64;
/// Parameters plus locals of one function. wasm3 keeps them on its
/// compiler's value stack of `d_m3MaxFunctionStackHeight` (128) slots,
/// which the function's operands share.
pub const MAX_LOCALS: u64 = abi::KWASM_LIMIT_LOCALS as u64;
/// Blocks, loops and ifs nested inside one function body: the deepest
/// wasm3's compiler accepts with `d_m3ValCtrlDepth` 16 (its frame for the
/// body counts as one). Refused here, before its recursion starts.
pub const MAX_NESTING: u64 = abi::KWASM_LIMIT_NESTING as u64;

/// "<what> <value> <unit>; the limit is <limit>" when value > limit.
fn at_most(what: &str, value: u64, unit: &str, limit: u64) -> Result<(), Error> {
    if value > limit {
        return Err(Error::new(
            E2BIG,
            format!("{what} {value} {unit}; the limit is {limit}"),
        ));
    }
    Ok(())
}

/// What the sections seen so far declared.
#[derive(Default)]
pub struct Tally {
    functions: u64,
    data_bytes: u64,
    elements: u64,
    /// Initial linear memory in bytes; 0 without a memory section.
    pub initial_memory: u64,
    /// The module imports its memory: its size is the importer's, and the
    /// import itself is refused by name later.
    imports_memory: bool,
}

impl Tally {
    /// Checks a section the validator has accepted.
    pub fn section(&mut self, payload: &Payload) -> Result<(), Error> {
        match payload {
            Payload::TypeSection(s) => {
                at_most("module defines", s.count().into(), "types", MAX_TYPES)
            }
            Payload::ImportSection(s) => {
                // Only function imports can be valid; others fail later by
                // name. Count them all against the function limit.
                self.functions += u64::from(s.count());
                self.imports_memory = s
                    .clone()
                    .into_imports()
                    .flatten()
                    .any(|i| matches!(i.ty, TypeRef::Memory(_)));
                at_most("module imports", self.functions, "functions", MAX_FUNCTIONS)
            }
            Payload::FunctionSection(s) => {
                self.functions += u64::from(s.count());
                at_most(
                    "module has",
                    self.functions,
                    "functions (imported + defined)",
                    MAX_FUNCTIONS,
                )
            }
            Payload::TableSection(s) => {
                for table in s.clone().into_iter().flatten() {
                    at_most(
                        "table has an initial size of",
                        table.ty.initial,
                        "entries",
                        MAX_TABLE_ENTRIES,
                    )?;
                    if let Some(max) = table.ty.maximum {
                        at_most(
                            "table has a maximum size of",
                            max,
                            "entries",
                            MAX_TABLE_ENTRIES,
                        )?;
                    }
                }
                Ok(())
            }
            Payload::MemorySection(s) => {
                for memory in s.clone().into_iter().flatten() {
                    at_most(
                        "linear memory has an initial size of",
                        memory.initial,
                        "pages of 64 KiB",
                        MAX_MEMORY_PAGES,
                    )?;
                    self.initial_memory = memory.initial.saturating_mul(PAGE_SIZE);
                }
                Ok(())
            }
            Payload::GlobalSection(s) => {
                at_most("module defines", s.count().into(), "globals", MAX_GLOBALS)
            }
            Payload::ExportSection(s) => {
                at_most("module defines", s.count().into(), "exports", MAX_EXPORTS)
            }
            Payload::ElementSection(s) => {
                at_most(
                    "module defines",
                    s.count().into(),
                    "element segments",
                    MAX_ELEMENT_SEGMENTS,
                )?;
                for element in s.clone().into_iter().flatten() {
                    self.elements += u64::from(match element.items {
                        ElementItems::Functions(f) => f.count(),
                        ElementItems::Expressions(_, e) => e.count(),
                    });
                }
                at_most(
                    "element segments hold",
                    self.elements,
                    "function references",
                    MAX_ELEMENTS,
                )
            }
            Payload::DataCountSection { count, .. } => at_most(
                "data count section declares",
                (*count).into(),
                "data segments",
                MAX_DATA_SEGMENTS,
            ),
            Payload::DataSection(s) => {
                at_most(
                    "module defines",
                    s.count().into(),
                    "data segments",
                    MAX_DATA_SEGMENTS,
                )?;
                for (index, data) in s.clone().into_iter().flatten().enumerate() {
                    let len = data.data.len() as u64;
                    self.data_bytes += len;
                    at_most(
                        "data segments hold",
                        self.data_bytes,
                        "bytes",
                        MAX_DATA_BYTES,
                    )?;
                    self.data_fits(index, &data.kind, len)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// An active segment must fit in the initial memory, or wasm3 would
    /// fail to instantiate the module with a less precise message.
    fn data_fits(&self, index: usize, kind: &DataKind, len: u64) -> Result<(), Error> {
        let DataKind::Active { offset_expr, .. } = kind else {
            return Ok(());
        };
        if self.imports_memory {
            return Ok(());
        }
        // Without extended constants an offset is one i32.const (or a
        // global.get of an import, which no program can have).
        let Ok(Operator::I32Const { value }) = offset_expr.get_operators_reader().read() else {
            return Ok(());
        };
        let offset = u64::from(value as u32);
        if offset + len > self.initial_memory {
            return Err(Error::new(
                EINVAL,
                format!(
                    "data segment {index} ({len} bytes at offset {offset:#x}) does not fit in \
                     the initial linear memory of {} bytes",
                    self.initial_memory
                ),
            ));
        }
        Ok(())
    }
}

/// Checks the locals and the nesting depth of function `index` before it is
/// validated, and tells whether it may grow linear memory (`memory.grow`;
/// a body that cannot be read is left to the validator and said to).
pub fn function_body<R: WasmModuleResources>(
    index: u32,
    ty: u32,
    resources: &R,
    body: &FunctionBody,
) -> Result<bool, Error> {
    let params = resources
        .sub_type_at(ty)
        .and_then(|t| match &t.composite_type.inner {
            CompositeInnerType::Func(f) => Some(f.params().len() as u64),
            _ => None,
        })
        .unwrap_or(0);
    let mut locals = params;
    if let Ok(reader) = body.get_locals_reader() {
        for (count, _) in reader.into_iter().flatten() {
            locals = locals.saturating_add(count.into());
        }
    }
    at_most(
        &format!("function {index} has"),
        locals,
        "parameters + locals",
        MAX_LOCALS,
    )?;

    let Ok(mut ops) = body.get_operators_reader() else {
        return Ok(true);
    };
    let mut depth: u64 = 0;
    let mut grows = false;
    while let Ok(op) = ops.read() {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Error::new(
                        E2BIG,
                        format!(
                            "function {index} nests blocks more than {MAX_NESTING} deep \
                             (at offset {:#x}); the limit is {MAX_NESTING}",
                            ops.original_position()
                        ),
                    ));
                }
            }
            Operator::End if depth == 0 => break,
            Operator::End => depth -= 1,
            Operator::MemoryGrow { .. } => grows = true,
            _ => {}
        }
    }
    Ok(grows)
}

/// Initial linear memory of `instances` instances together, plus `other`
/// bytes the embedder allocates for the program besides (described as
/// `what`, e.g. "of maps"; 0 for none).
pub fn instances(
    initial_memory: u64,
    instances: u64,
    (other, what): (u64, &str),
) -> Result<(), Error> {
    let total = initial_memory
        .saturating_mul(instances)
        .saturating_add(other);
    if total > MAX_TOTAL_MEMORY {
        let also = if other > 0 {
            format!(" and {other} bytes {what} are")
        } else {
            " is".into()
        };
        return Err(Error::new(
            E2BIG,
            format!(
                "initial linear memory of {initial_memory} bytes for each of {instances} \
                 possible CPUs{also} {total} bytes; the limit is {MAX_TOTAL_MEMORY}"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_memory_is_bounded_over_cpus() {
        let full = MAX_MEMORY_PAGES * PAGE_SIZE;
        assert!(instances(full, 16, (0, "")).is_ok());
        let e = instances(full, 17, (0, "")).err().map(|e| (e.errno, e.msg));
        assert_eq!(
            e,
            Some((
                E2BIG,
                "initial linear memory of 16777216 bytes for each of 17 possible CPUs is \
                 285212672 bytes; the limit is 268435456"
                    .into()
            ))
        );
        assert!(instances(PAGE_SIZE, 4096, (0, "")).is_ok());
        assert!(instances(u64::MAX, 2, (0, "")).is_err());
        assert!(instances(full, 15, (full, "of maps")).is_ok());
        let e = instances(full, 15, (full + 1, "of maps"))
            .err()
            .map(|e| e.msg);
        assert_eq!(
            e.as_deref(),
            Some(
                "initial linear memory of 16777216 bytes for each of 15 possible CPUs and \
                 16777217 bytes of maps are 268435457 bytes; the limit is 268435456"
            )
        );
    }
}
