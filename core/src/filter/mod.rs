//! The packet filter: a program's options, its entry points and ABI, the
//! host functions it may import, the record written before each run, the
//! per-CPU instances and the verdicts. Built on the engine; knows netfilter
//! only as the numbers of the ABI.

pub mod entry;
pub mod hostfns;
pub mod map_calls;
pub mod map_checks;
pub mod options;
pub mod packet;
pub mod program;
pub mod record;
pub mod stats;
