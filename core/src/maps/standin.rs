//! STAND-IN, dropped at merge: the part of the maps-layer API
//! (/work/notes/maps-api.md) that user space (the map ioctls) codes against
//! while the storage operations and `Table` are written elsewhere. Every
//! operation refuses with `EINVAL`; nothing here is the real thing. The
//! commit adding this file also points `Program.maps` at an `Arc<Table>`
//! (filter/program.rs), which the real change does too.

use alloc::vec::Vec;

use super::decl::Kind;
use super::Map;
use crate::abi::EINVAL;
use crate::ffi::services;

/// A data condition: the positive errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapError(pub i32);

pub const ANY: u32 = 0;
pub const NOEXIST: u32 = 1;
pub const EXIST: u32 = 2;

/// Which value slot of a per-CPU map.
#[derive(Clone, Copy)]
pub enum Slot {
    Cpu(u32),
    All,
}

/// A program's maps.
pub struct Table {
    maps: Vec<Map>,
}

impl Table {
    pub fn new(maps: Vec<Map>) -> Self {
        Self { maps }
    }

    pub fn by_name(&self, name: &str) -> Option<&Map> {
        self.maps.iter().find(|m| m.decl.name == name)
    }

    pub fn by_id(&self, id: u32) -> Option<&Map> {
        self.maps.iter().find(|m| m.decl.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Map> {
        self.maps.iter()
    }
}

impl Map {
    pub fn lookup(&self, _slot: Slot, _key: &[u8], _value: &mut [u8]) -> Result<(), MapError> {
        Err(MapError(EINVAL))
    }

    pub fn update(
        &self,
        _slot: Slot,
        _key: &[u8],
        _value: &[u8],
        _flags: u32,
    ) -> Result<(), MapError> {
        Err(MapError(EINVAL))
    }

    pub fn delete(&self, _key: &[u8]) -> Result<(), MapError> {
        Err(MapError(EINVAL))
    }

    pub fn next(&self, _cursor: u64, _key: &mut [u8], _value: &mut [u8]) -> Option<u64> {
        None
    }

    pub fn entries(&self) -> u64 {
        match self.decl.kind {
            Kind::Array | Kind::PercpuArray => self.decl.max_entries.into(),
            Kind::Hash | Kind::Events => 0,
        }
    }

    pub fn full(&self) -> u64 {
        0
    }

    pub fn ncpus(&self) -> u32 {
        match self.decl.kind {
            Kind::PercpuArray => services::nr_cpu_ids(),
            _ => 1,
        }
    }
}
