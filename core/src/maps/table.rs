//! A program's maps, found by the id its calls pass or by the name user
//! space gives. Built once at load; shared (read-only) by the program's
//! instances and by user-space operations in flight.

use alloc::vec::Vec;

use super::decl::MAP_IDS;
use super::Map;

/// No map has this id.
const NONE: u8 = u8::MAX;

pub struct Table {
    maps: Vec<Map>,
    /// Index into `maps` by declared id; `NONE` where nothing is declared.
    by_id: [u8; MAP_IDS as usize],
}

impl Table {
    /// The table of `maps`, whose ids are unique and below `MAP_IDS` and
    /// whose number is at most `decl::MAX_MAPS` (both checked by
    /// `decl::parse`; a map breaking them is unreachable by id, never a
    /// panic).
    pub fn new(maps: Vec<Map>) -> Self {
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
        Self { maps, by_id }
    }

    /// The map a program's call names; `None` for an id nothing declares.
    #[inline]
    pub fn by_id(&self, id: u32) -> Option<&Map> {
        let index = *self.by_id.get(usize::try_from(id).ok()?)?;
        self.maps.get(usize::from(index))
    }

    pub fn by_name(&self, name: &str) -> Option<&Map> {
        self.maps.iter().find(|m| m.decl.name == name)
    }

    /// The program's events ring, if it declares one.
    #[inline]
    pub fn events(&self) -> Option<&alloc::sync::Arc<super::ring::Ring>> {
        self.maps.iter().find_map(Map::ring)
    }

    /// The maps in declaration order.
    pub fn iter(&self) -> core::slice::Iter<'_, Map> {
        self.maps.iter()
    }

    pub fn len(&self) -> usize {
        self.maps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }
}
