//! The entry points a program exports, which pick its ABI (docs/ABI.md,
//! "Two ABIs"), and the calls the host makes to them.

use alloc::format;
use core::ffi::CStr;

use wasmparser::ValType;

use super::record::{self, Version, PACKET_INFO_SIZE};
use crate::abi::{self as k, Error, EINVAL};
use crate::engine::validate::show_type;
use crate::engine::wasm3::Arg;
use crate::engine::Module;

/// The ABI a program picked by its exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// `kwasm_filter`, and `kwasm_alloc` when it wants the packet record
    /// (in the layout `record` of its `kwasm.record` section).
    Kwasm { alloc: bool, record: Version },
    /// `alloc` + `filter`.
    Original,
}

fn invalid(msg: alloc::string::String) -> Error {
    Error::new(EINVAL, msg)
}

/// Checks that export `name` is a function of type `params -> results`.
fn check_export<C>(
    module: &Module<C>,
    name: &str,
    params: &[ValType],
    results: &[ValType],
) -> Result<bool, Error> {
    match module.func_export(name) {
        None => Ok(false),
        Some(Some(f)) if f.params() == params && f.results() == results => Ok(true),
        Some(_) => Err(invalid(format!(
            "export {name} must be a function {}",
            show_type(params, results)
        ))),
    }
}

/// The ABI of `module`, by its exports.
pub fn detect<C>(module: &Module<C>) -> Result<Abi, Error> {
    use ValType::{I32, I64};

    if check_export(module, "kwasm_filter", &[I32, I32], &[I32])? {
        let alloc = check_export(module, "kwasm_alloc", &[I32], &[I32])?;
        if alloc && !module.has_memory_export("memory") {
            return Err(invalid(
                "kwasm_alloc is exported but no memory named \"memory\"".into(),
            ));
        }
        let section = module.custom_section(record::SECTION);
        if section.is_some() && !alloc {
            return Err(invalid(format!(
                "custom section {} asks for a packet record but kwasm_alloc is not exported",
                record::SECTION
            )));
        }
        let record = Version::declared(section)?;
        return Ok(Abi::Kwasm { alloc, record });
    }
    let has_alloc = module.func_export("alloc").is_some();
    let has_filter = module.func_export("filter").is_some();
    if has_alloc && has_filter {
        if module.custom_section(record::SECTION).is_some() {
            return Err(invalid(format!(
                "custom section {} is for kwasm_filter programs, not the original ABI",
                record::SECTION
            )));
        }
        check_export(module, "alloc", &[I64], &[I32])?;
        check_export(module, "filter", &[], &[I32])?;
        return Ok(Abi::Original);
    }
    Err(invalid(
        "missing export kwasm_filter (or alloc + filter for the original ABI)".into(),
    ))
}

/// Checks that a program `abi` can run on the packets of `family`
/// (KWASM_FAMILY_*): one attached to IPv6 (ipv6, inet) must tell the
/// families apart, which the original ABI's packet_info and record
/// version 1 cannot. A kwasm-ABI program without a record asks the host
/// functions (`pkt_family`).
pub fn check_family(abi: Abi, family: u32) -> Result<(), Error> {
    let name = match family {
        k::KWASM_FAMILY_IPV6 => "ipv6",
        k::KWASM_FAMILY_INET => "inet",
        _ => return Ok(()),
    };
    match abi {
        Abi::Original => Err(invalid(format!(
            "family {name}: the original ABI's packet_info is IPv4 only; write a kwasm_filter \
             program and declare record version 2 or 3 (custom section {})",
            record::SECTION
        ))),
        Abi::Kwasm {
            alloc: true,
            record: Version::V1,
        } => Err(invalid(format!(
            "family {name}: record version 1 cannot tell IPv6 packets from IPv4 ones; declare \
             record version 2 or 3 (custom section {})",
            record::SECTION
        ))),
        Abi::Kwasm { .. } => Ok(()),
    }
}

/// The program's allocator: its name, the argument to call it with, the
/// block size it must return.
pub struct Alloc {
    pub name: &'static CStr,
    pub arg: Arg,
    pub size: u32,
}

/// The filter function of `abi`, and the allocator the host calls once at
/// load when the ABI has one.
pub fn entry_points(abi: Abi, snaplen: u32) -> (&'static CStr, Option<Alloc>) {
    match abi {
        Abi::Kwasm { alloc, record } => {
            let size = record::record_size(record, snaplen);
            let alloc = alloc.then_some(Alloc {
                name: c"kwasm_alloc",
                arg: Arg::I32(size as i32),
                size,
            });
            (c"kwasm_filter", alloc)
        }
        Abi::Original => {
            let size = PACKET_INFO_SIZE as u32;
            let alloc = Alloc {
                name: c"alloc",
                arg: Arg::I64(size.into()),
                size,
            };
            (c"filter", Some(alloc))
        }
    }
}
