//! Language-level validation with wasmparser (the features of docs/ABI.md,
//! the load limits of [`limits`]), and the module's imports resolved
//! against the host functions an embedder offers.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use wasmparser::types::{EntityType, Types};
use wasmparser::{
    BinaryReaderError, CompositeInnerType, FuncType, FuncValidatorAllocations, Import, Parser,
    Payload, TypeRef, ValType, ValidPayload, Validator, WasmFeatures,
};

use super::fuel;
use super::host::HostFn;
use super::host_calls::{self, HostCall};
use super::limits::{self, Tally};
use crate::abi::{Error, EINVAL, ENOENT};

/// WebAssembly 1.0 integers plus the proposals docs/ABI.md lists; no floats.
pub fn features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::MULTI_VALUE
}

fn invalid(msg: String) -> Error {
    Error::new(EINVAL, msg)
}

fn parse_error(e: &BinaryReaderError, func: Option<u32>) -> Error {
    let at = match func {
        Some(index) => format!("function {index} at offset {:#x}", e.offset()),
        None => format!("at offset {:#x}", e.offset()),
    };
    invalid(format!("{at}: {}", e.message()))
}

/// A module that passed the language-level checks: its types and imports.
pub struct Valid<'a> {
    pub types: Types,
    imports: Vec<Import<'a>>,
    /// Initial linear memory of one instance, in bytes.
    pub initial_memory: u64,
    /// Some function body uses `memory.grow`: linear memory may move or
    /// grow during a call.
    pub grows_memory: bool,
    /// The custom sections named `kwasm.*` (declarations for the loader),
    /// each at most once.
    pub sections: Vec<(String, Vec<u8>)>,
    /// Calls of imported functions with arguments known at load.
    pub host_calls: Vec<HostCall>,
    /// The function imports in order: (module, name).
    pub func_imports: Vec<(String, String)>,
}

/// Prefix of the custom sections a program declares things to kwasm in.
pub const SECTION_PREFIX: &str = "kwasm.";

/// Language-level validation only, with the features docs/ABI.md lists; no
/// requirement on exports or imports.
pub fn validate(wasm: &[u8]) -> Result<Valid<'_>, Error> {
    if wasm.is_empty() {
        return Err(invalid("empty module".into()));
    }
    let mut validator = Validator::new_with_features(features());
    let mut allocs = FuncValidatorAllocations::default();
    let mut imports = Vec::new();
    let mut types = None;
    let mut tally = Tally::default();
    let mut grows_memory = false;
    let mut sections: Vec<(String, Vec<u8>)> = Vec::new();
    let mut calls = Vec::new();

    // The parser reads some encodings only when their proposal is on (e.g.
    // compact imports): it must know the features the validator has.
    let mut parser = Parser::new(0);
    parser.set_features(features());
    for payload in parser.parse_all(wasm) {
        let payload = payload.map_err(|e| parse_error(&e, None))?;
        match &payload {
            Payload::ImportSection(section) => {
                for import in section.clone().into_imports() {
                    imports.push(import.map_err(|e| parse_error(&e, None))?);
                }
            }
            Payload::CustomSection(c) if c.name().starts_with(SECTION_PREFIX) => {
                if sections.iter().any(|(name, _)| name == c.name()) {
                    return Err(invalid(format!(
                        "custom section {} appears more than once",
                        c.name()
                    )));
                }
                sections.push((c.name().into(), c.data().to_vec()));
            }
            _ => {}
        }
        let valid = validator
            .payload(&payload)
            .map_err(|e| parse_error(&e, None))?;
        tally.section(&payload)?;
        match valid {
            ValidPayload::Func(func, body) => {
                let index = func.index;
                grows_memory |= limits::function_body(index, func.ty, &func.resources, &body)?;
                let imported = func_imports(&imports).count() as u32;
                let mut v = func.into_validator(allocs);
                host_calls::validate(&mut v, &body, index, imported, &mut calls)
                    .map_err(|e| parse_error(&e, Some(index)))?;
                allocs = v.into_allocations();
            }
            ValidPayload::End(t) => types = Some(t),
            ValidPayload::Ok | ValidPayload::Parser(_) => {}
        }
    }
    let types = types.ok_or_else(|| invalid("truncated module".into()))?;
    if export(&types, fuel::EXPORT_NAME).is_some() {
        return Err(invalid(format!(
            "export name {} is reserved for fuel metering",
            fuel::EXPORT_NAME
        )));
    }
    let func_imports = func_imports(&imports)
        .map(|i| (i.module.into(), i.name.into()))
        .collect();
    Ok(Valid {
        types,
        host_calls: calls,
        func_imports,
        imports,
        initial_memory: tally.initial_memory,
        grows_memory,
        sections,
    })
}

/// The function imports, in the order of their function indices.
fn func_imports<'i, 'a>(imports: &'i [Import<'a>]) -> impl Iterator<Item = &'i Import<'a>> {
    imports
        .iter()
        .filter(|i| matches!(i.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)))
}

/// The host functions of `offered` a valid module imports, each once; any
/// other import is refused.
pub fn host_imports<C>(
    valid: &Valid<'_>,
    offered: &'static [HostFn<C>],
) -> Result<Vec<&'static HostFn<C>>, Error> {
    let types = &valid.types;
    let mut host_fns: Vec<&'static HostFn<C>> = Vec::new();
    for import in &valid.imports {
        let entity = types.as_ref().entity_type_from_import(import);
        let func = check_import(offered, types, import, entity)?;
        if !host_fns.iter().any(|f| core::ptr::eq(*f, func)) {
            host_fns.push(func);
        }
    }
    Ok(host_fns)
}

fn func_type(types: &Types, entity: Option<EntityType>) -> Option<&FuncType> {
    match entity? {
        EntityType::Func(id) => match &types[id].composite_type.inner {
            CompositeInnerType::Func(f) => Some(f),
            _ => None,
        },
        _ => None,
    }
}

/// Export `name`: `None` when there is none, `Some(None)` when it is not a
/// function.
pub fn export<'t>(types: &'t Types, name: &str) -> Option<Option<&'t FuncType>> {
    let (_, entity) = types.as_ref().core_exports()?.find(|(n, _)| *n == name)?;
    Some(func_type(types, Some(entity)))
}

pub fn has_memory_export(types: &Types, name: &str) -> bool {
    types
        .as_ref()
        .core_exports()
        .is_some_and(|mut e| e.any(|(n, t)| n == name && matches!(t, EntityType::Memory(_))))
}

fn check_import<C>(
    offered: &'static [HostFn<C>],
    types: &Types,
    import: &Import<'_>,
    entity: Option<EntityType>,
) -> Result<&'static HostFn<C>, Error> {
    let (module, name) = (import.module, import.name);
    let func = offered
        .iter()
        .find(|f| f.module.to_bytes() == module.as_bytes() && f.name.to_bytes() == name.as_bytes());
    let Some(func) = func else {
        let what = match import.ty {
            TypeRef::Func(_) | TypeRef::FuncExact(_) => "function",
            TypeRef::Table(_) => "table",
            TypeRef::Memory(_) => "memory",
            TypeRef::Global(_) => "global",
            TypeRef::Tag(_) => "tag",
        };
        return Err(Error::new(
            ENOENT,
            format!("unknown import {module}.{name} ({what}): kwasm offers no such host function"),
        ));
    };
    // The parameters as wasm3's signature spells them: `i` i32, `I` i64.
    let params: Vec<ValType> = func
        .signature
        .to_bytes()
        .iter()
        .skip_while(|&&c| c != b'(')
        .skip(1)
        .take_while(|&&c| c != b')')
        .map(|&c| {
            if c == b'I' {
                ValType::I64
            } else {
                ValType::I32
            }
        })
        .collect();
    let params = params.as_slice();
    let results: &[ValType] = if func.returns { &[ValType::I32] } else { &[] };
    match func_type(types, entity) {
        Some(f) if f.params() == params && f.results() == results => Ok(func),
        _ => Err(Error::new(
            ENOENT,
            format!(
                "import {module}.{name} must have type {}",
                show_type(params, results)
            ),
        )),
    }
}

/// "(i32, i32) -> i32" style.
pub fn show_type(params: &[ValType], results: &[ValType]) -> String {
    let list = |types: &[ValType]| {
        let mut s = String::new();
        for (i, t) in types.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(s, "{sep}{t}");
        }
        s
    };
    match results {
        [] => format!("({})", list(params)),
        [one] => format!("({}) -> {one}", list(params)),
        _ => format!("({}) -> ({})", list(params), list(results)),
    }
}
