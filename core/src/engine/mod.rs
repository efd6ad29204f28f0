//! The engine: WebAssembly, not packets. [`check`] is the one way from
//! bytes to a [`Module`] (validation, load limits and fuel metering as one
//! step); [`instance::instantiate`] the one way to run one in wasm3;
//! [`instance::call`] the one way to call it under a fuel budget. The
//! packet filter and the invoke path sit on top; neither repeats any of it.

pub mod fuel;
pub mod host;
pub mod host_calls;
pub mod instance;
pub mod limits;
pub mod trap;
pub mod validate;
pub mod wasm3;

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

use wasmparser::types::Types;
use wasmparser::{FuncType, WasmFeatures};

use crate::abi::{self, Error, EFBIG, EINVAL};
use host::HostFn;

/// Largest module accepted (KWASM_MAX_PROG_SIZE).
pub const MAX_MODULE_SIZE: usize = abi::KWASM_MAX_PROG_SIZE as usize;

/// WebAssembly 1.0 integers plus the proposals docs/ABI.md lists; no floats.
pub fn features() -> WasmFeatures {
    validate::features()
}

/// A module that passed every load check, in the metered form wasm3 runs.
pub struct Module<C: 'static> {
    /// The fuel-metered module ([`fuel::instrument`]).
    pub metered: Arc<Vec<u8>>,
    /// Host functions it imports, each once.
    pub imports: Vec<&'static HostFn<C>>,
    /// Initial linear memory of one instance, in bytes.
    pub initial_memory: u64,
    /// Some function may grow linear memory during a call.
    pub grows_memory: bool,
    /// The exports without a fuel check of their own, by export name, with
    /// the static cost the host charges for each call of one
    /// ([`fuel::Metered::static_costs`]).
    static_costs: Vec<(alloc::string::String, u64)>,
    types: Types,
    sections: Vec<(alloc::string::String, Vec<u8>)>,
    /// Calls of imported functions with arguments known at load.
    pub host_calls: Vec<host_calls::HostCall>,
    /// The function imports in order: (module, name).
    pub func_imports: Vec<(alloc::string::String, alloc::string::String)>,
}

impl<C> Module<C> {
    /// Export `name`: `None` when there is none, `Some(None)` when it is
    /// not a function.
    pub fn func_export(&self, name: &str) -> Option<Option<&FuncType>> {
        validate::export(&self.types, name)
    }

    pub fn has_memory_export(&self, name: &str) -> bool {
        validate::has_memory_export(&self.types, name)
    }

    /// The contents of its custom section `name` (one of the `kwasm.*`
    /// ones; each appears at most once).
    pub fn custom_section(&self, name: &str) -> Option<&[u8]> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, data)| data.as_slice())
    }

    /// The static cost the host charges for each call of export `name`:
    /// `Some` for an export without a fuel check of its own (see
    /// [`fuel`], "Exports charged by the host"), `None` for one that
    /// charges itself or is not an exported function.
    pub fn static_cost(&self, name: &[u8]) -> Option<u64> {
        self.static_costs
            .iter()
            .find(|(n, _)| n.as_bytes() == name)
            .map(|&(_, cost)| cost)
    }
}

/// The load checks, one pipeline for every caller: size, language level,
/// limits, imports against `offered`, then fuel metering with the global
/// starting at `budget`.
pub fn check<C>(
    wasm: &[u8],
    offered: &'static [HostFn<C>],
    budget: u64,
) -> Result<Module<C>, Error> {
    if wasm.len() > MAX_MODULE_SIZE {
        return Err(Error::new(
            EFBIG,
            format!(
                "module of {} bytes is larger than {MAX_MODULE_SIZE}",
                wasm.len()
            ),
        ));
    }
    let valid = validate::validate(wasm)?;
    let imports = validate::host_imports(&valid, offered)?;
    let metered = fuel::instrument(wasm, instance::budget(budget), features())
        .map_err(|e| Error::new(EINVAL, e.0))?;
    Ok(Module {
        metered: Arc::new(metered.wasm),
        static_costs: metered.static_costs,
        imports,
        initial_memory: valid.initial_memory,
        grows_memory: valid.grows_memory,
        types: valid.types,
        sections: valid.sections,
        host_calls: valid.host_calls,
        func_imports: valid.func_imports,
    })
}
