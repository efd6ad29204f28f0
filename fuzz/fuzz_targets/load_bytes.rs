//! Arbitrary bytes as a program: kwasm_core_prog_new must refuse or load
//! them, and a loaded program must run and free cleanly.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kwasm_fuzz::load_and_run(data);
});
