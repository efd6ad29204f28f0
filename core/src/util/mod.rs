//! Small helpers with no knowledge of wasm or packets.

pub mod fmtbuf;
pub mod trylock;
