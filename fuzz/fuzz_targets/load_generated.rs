//! wasm-smith modules shaped to pass kwasm's validation (see
//! kwasm_fuzz::generate), so that compilation, instantiation and runs in
//! wasm3 are reached, not only the validator.
#![no_main]

use arbitrary::Unstructured;
use kwasm_fuzz::Tally;

static TALLY: Tally = Tally::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    if let Ok(wasm) = kwasm_fuzz::generate(&mut u) {
        TALLY.add(&kwasm_fuzz::load_and_run(&wasm));
    }
});
