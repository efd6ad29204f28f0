//! Trap kinds, numbered as KWASM_TRAP_* in include/uapi/kwasm.h.

use core::ffi::CStr;

use crate::abi as k;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Trap {
    Unreachable = k::KWASM_TRAP_UNREACHABLE,
    OutOfBounds = k::KWASM_TRAP_OUT_OF_BOUNDS,
    DivByZero = k::KWASM_TRAP_DIV_BY_ZERO,
    IntOverflow = k::KWASM_TRAP_INT_OVERFLOW,
    InvalidConversion = k::KWASM_TRAP_INVALID_CONVERSION,
    IndirectCall = k::KWASM_TRAP_INDIRECT_CALL,
    StackOverflow = k::KWASM_TRAP_STACK_OVERFLOW,
    Host = k::KWASM_TRAP_HOST,
    Other = k::KWASM_TRAP_OTHER,
    OutOfFuel = k::KWASM_TRAP_OUT_OF_FUEL,
    NoStack = k::KWASM_TRAP_NO_STACK,
}

/// Names for `kwasm_core_trap_name()`, indexed by trap number.
const NAMES: [&CStr; k::KWASM_TRAP_COUNT as usize] = [
    c"none",
    c"unreachable",
    c"out_of_bounds",
    c"divide_by_zero",
    c"integer_overflow",
    c"invalid_conversion",
    c"indirect_call",
    c"stack_overflow",
    c"host",
    c"other",
    c"out_of_fuel",
    c"no_stack",
];

impl Trap {
    /// The trap's name, e.g. "unreachable".
    pub fn name(self) -> &'static str {
        name(self as u32).to_str().unwrap_or("unknown")
    }
}

/// The name of a trap number; "unknown" for numbers out of range.
pub fn name(trap: u32) -> &'static CStr {
    usize::try_from(trap)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
        .unwrap_or(c"unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_numbers() {
        assert_eq!(name(0), c"none");
        assert_eq!(name(Trap::Unreachable as u32), c"unreachable");
        assert_eq!(name(Trap::Other as u32), c"other");
        assert_eq!(name(Trap::OutOfFuel as u32), c"out_of_fuel");
        assert_eq!(name(k::KWASM_TRAP_COUNT), c"unknown");
    }
}
