//! A program's maps, found by the id its calls pass or by the name user
//! space gives. Built at load; each map is shared (`Arc`) with user-space
//! operations in flight and, after a replacement, with the program that
//! replaced this one ([`Table::adopt`]).

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::decl::{MapDecl, MAP_IDS};
use super::Map;
use crate::abi::{Error, EEXIST};

/// No map has this id.
const NONE: u8 = u8::MAX;

pub struct Table {
    maps: Vec<Arc<Map>>,
    /// Index into `maps` by declared id; `NONE` where nothing is declared.
    by_id: [u8; MAP_IDS as usize],
    /// Index into `maps` of the events ring (at most one is declared);
    /// `NONE` without one. Found once here: an adoption replaces a map by
    /// one of the same kind, so it stays right.
    events: u8,
}

impl Table {
    /// The table of `maps`, whose ids are unique and below `MAP_IDS` and
    /// whose number is at most `decl::MAX_MAPS` (both checked by
    /// `decl::parse`; a map breaking them is unreachable by id, never a
    /// panic).
    pub fn new(maps: Vec<Arc<Map>>) -> Self {
        let mut by_id = [NONE; MAP_IDS as usize];
        for (index, map) in maps.iter().enumerate() {
            let slot = usize::try_from(map.decl.id)
                .ok()
                .and_then(|id| by_id.get_mut(id));
            if let (Some(slot), Ok(index)) = (slot, u8::try_from(index)) {
                if index != NONE {
                    *slot = index;
                }
            }
        }
        let events = maps
            .iter()
            .position(|m| m.ring().is_some())
            .and_then(|index| u8::try_from(index).ok())
            .unwrap_or(NONE);
        Self {
            maps,
            by_id,
            events,
        }
    }

    /// The map a program's call names; `None` for an id nothing declares.
    #[inline]
    pub fn by_id(&self, id: u32) -> Option<&Map> {
        let index = *self.by_id.get(usize::try_from(id).ok()?)?;
        self.maps.get(usize::from(index)).map(|m| &**m)
    }

    /// The map user space names.
    pub fn by_name(&self, name: &str) -> Option<&Map> {
        self.maps.iter().find(|m| m.decl.name == name).map(|m| &**m)
    }

    /// The program's events ring, if it declares one.
    #[inline]
    pub fn events(&self) -> Option<&alloc::sync::Arc<super::ring::Ring>> {
        self.maps.get(usize::from(self.events))?.ring()
    }

    /// The maps in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = &Map> {
        self.maps.iter().map(|m| &**m)
    }

    pub fn len(&self) -> usize {
        self.maps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }

    /// Takes over each map of `old` (the program this one replaces) that
    /// this table declares with the same name and shape (kind, key and
    /// value sizes, entries): both programs then share its contents, and
    /// the old one lets go when it is freed. All or nothing: a map of the
    /// same name and another shape is `EEXIST` naming it, with nothing
    /// taken. Maps `old` has and this table does not go with `old`. Returns
    /// how many maps were adopted.
    pub fn adopt(&mut self, old: &Table) -> Result<usize, Error> {
        for map in &self.maps {
            if let Some(theirs) = old.maps.iter().find(|m| m.decl.name == map.decl.name) {
                if let Some(what) = shape_differs(&map.decl, &theirs.decl) {
                    return Err(Error::new(
                        EEXIST,
                        format!(
                            "map {}: {what}; load with --fresh-maps to start empty",
                            map.decl.name
                        ),
                    ));
                }
            }
        }
        let mut adopted = 0;
        for map in &mut self.maps {
            if let Some(theirs) = old.maps.iter().find(|m| m.decl.name == map.decl.name) {
                *map = theirs.clone();
                adopted += 1;
            }
        }
        Ok(adopted)
    }
}

/// How `new` differs in shape from `old`, the running program's map of the
/// same name, if it does.
fn shape_differs(new: &MapDecl, old: &MapDecl) -> Option<alloc::string::String> {
    let differs = |what: &str, n: u64, o: u64| {
        (n != o).then(|| format!("{what} {n}, the running program's is {o}"))
    };
    if new.kind != old.kind {
        return Some(format!(
            "kind {}, the running program's is {}",
            new.kind.name(),
            old.kind.name()
        ));
    }
    differs("key size", new.key_size.into(), old.key_size.into())
        .or_else(|| differs("value size", new.value_size.into(), old.value_size.into()))
        .or_else(|| {
            differs(
                "max entries",
                new.max_entries.into(),
                old.max_entries.into(),
            )
        })
}
