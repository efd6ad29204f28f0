//! Maps: state a program keeps across packets and shares with user space
//! (docs/ABI.md, "Maps (declarations)"). This slice has the declarations: the
//! `kwasm.maps` custom section parsed and checked ([`decl`]), the display
//! formats of keys and values ([`fmt`]), and the memory each map will take.
//! Knows neither WebAssembly nor packets: the filter hands it the section's
//! bytes and the number of possible CPUs.

pub mod decl;
pub mod fmt;
