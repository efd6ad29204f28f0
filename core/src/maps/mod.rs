//! Maps: state a program keeps across packets and shares with user space
//! (docs/ABI.md, "Maps (declarations)"). So far: the declarations of the
//! `kwasm.maps` custom section parsed and checked ([`decl`]), the display
//! formats of keys and values ([`fmt`]), and each map's storage allocated
//! empty at load ([`storage`]), and the requests of user space on them
//! ([`user`], the map ioctls); the operations on the storage come with
//! the host functions. Knows neither WebAssembly nor packets: the filter hands it
//! the section's bytes and the number of possible CPUs.

pub mod decl;
pub mod fmt;
// STAND-IN, dropped at merge (see the file).
mod standin;
pub mod storage;
pub mod user;

pub use standin::{MapError, Slot, Table, ANY, EXIST, NOEXIST};

use alloc::vec::Vec;

use crate::abi::Error;
use decl::MapDecl;
use storage::Storage;

/// A declared map and its storage.
pub struct Map {
    pub decl: MapDecl,
    pub storage: Storage,
}

/// The maps of `decls`, each allocated empty for `possible_cpus`; `ENOMEM`
/// naming the first that cannot be had (the others are freed).
pub fn allocate(decls: Vec<MapDecl>, possible_cpus: u32) -> Result<Vec<Map>, Error> {
    let mut maps = Vec::new();
    maps.try_reserve_exact(decls.len())
        .map_err(|_| Error::new(crate::abi::ENOMEM, "no memory for the map table".into()))?;
    for decl in decls {
        let storage = Storage::new(&decl, possible_cpus)?;
        maps.push(Map { decl, storage });
    }
    Ok(maps)
}
