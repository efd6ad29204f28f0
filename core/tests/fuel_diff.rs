//! Differential test of fuel metering: random modules (wasm-smith, fixed
//! seeds) and hand-written ones run in their original and metered forms
//! in a reference engine (wasmi). Every exported function is called in
//! turn with zero arguments; results, traps and exported memory must agree.
//!
//! The metered module runs with a budget it cannot spend, then again with a
//! small one, where every call must either agree or stop with the fuel
//! global below zero. A call that does not finish within wasmi's own fuel
//! in the original ends the comparison of that module.
//!
//! `KWASM_FUEL_DIFF_CASES=N` runs N random modules instead of the default
//! 300; `KWASM_FUEL_DIFF_SEED=S` starts at seed S.

use arbitrary::Unstructured;
use kwasm::fuel::{instrument, EXPORT_NAME};
use wasmi::{
    Config, Engine, Extern, Instance, Linker, Memory, Module, Store, TrapCode, Val, ValType,
};
use wasmparser::WasmFeatures;

/// The language level of docs/ABI.md (core/src/validate.rs).
fn features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::MULTI_VALUE
}

/// wasmi fuel for one call of the original module.
const REF_FUEL: u64 = 200_000;
/// The metered module executes more: give it this many times as much.
const METERED_FACTOR: u64 = 40;
/// A budget the metered module cannot spend within wasmi's fuel.
const HUGE: i64 = i64::MAX / 2;

#[derive(Debug, PartialEq)]
enum Outcome {
    Returned(Vec<String>),
    Trapped(String),
    /// wasmi's own fuel ran out: not comparable.
    RefOutOfFuel,
}

struct Run {
    store: Store<()>,
    instance: Option<Instance>,
    start: Outcome,
}

fn engine() -> Engine {
    let mut config = Config::default();
    config.consume_fuel(true);
    Engine::new(&config)
}

fn outcome_of(result: Result<Vec<Val>, wasmi::Error>) -> Outcome {
    match result {
        Ok(vals) => Outcome::Returned(vals.iter().map(|v| format!("{v:?}")).collect()),
        Err(e) => match e.as_trap_code() {
            Some(TrapCode::OutOfFuel) => Outcome::RefOutOfFuel,
            Some(code) => Outcome::Trapped(format!("{code:?}")),
            // Messages name the store, which differs: keep what happened.
            None => Outcome::Trapped(e.to_string().split(':').next().unwrap_or("").to_owned()),
        },
    }
}

fn instantiate(engine: &Engine, wasm: &[u8], fuel: u64) -> Run {
    let module = Module::new(engine, wasm).expect("wasmi accepts the module");
    let mut store = Store::new(engine, ());
    store.set_fuel(fuel).expect("fuel enabled");
    let linker = Linker::<()>::new(engine);
    match linker.instantiate_and_start(&mut store, &module) {
        Ok(instance) => Run {
            store,
            instance: Some(instance),
            start: Outcome::Returned(Vec::new()),
        },
        Err(e) => Run {
            store,
            instance: None,
            start: outcome_of(Err(e)),
        },
    }
}

/// Exported functions, in export order, with their result types.
fn exported_funcs(run: &Run) -> Vec<(String, wasmi::Func)> {
    let Some(instance) = run.instance else {
        return Vec::new();
    };
    instance
        .exports(&run.store)
        .filter_map(|e| {
            let name = e.name().to_owned();
            match e.into_extern() {
                Extern::Func(f) => Some((name, f)),
                _ => None,
            }
        })
        .collect()
}

fn zero(ty: &ValType) -> Val {
    Val::default_for_ty(*ty)
}

fn call(run: &mut Run, func: &wasmi::Func, fuel: u64) -> Outcome {
    run.store.set_fuel(fuel).expect("fuel enabled");
    let ty = func.ty(&run.store);
    let args: Vec<Val> = ty.params().iter().map(zero).collect();
    let mut results: Vec<Val> = ty.results().iter().map(zero).collect();
    outcome_of(
        func.call(&mut run.store, &args, &mut results)
            .map(|()| results),
    )
}

fn fuel_global(run: &Run) -> Option<wasmi::Global> {
    run.instance?.get_global(&run.store, EXPORT_NAME)
}

fn set_budget(run: &mut Run, budget: i64) {
    if let Some(g) = fuel_global(run) {
        g.set(&mut run.store, Val::I64(budget))
            .expect("the fuel global is a mutable i64");
    }
}

fn fuel_left(run: &Run) -> i64 {
    match fuel_global(run).map(|g| g.get(&run.store)) {
        Some(Val::I64(v)) => v,
        other => panic!("metered module without its fuel global: {other:?}"),
    }
}

fn memory_digest(run: &Run) -> Vec<u8> {
    let Some(instance) = run.instance else {
        return Vec::new();
    };
    let memories: Vec<Memory> = instance
        .exports(&run.store)
        .filter_map(|e| e.into_memory())
        .collect();
    memories
        .iter()
        .flat_map(|m| m.data(&run.store).to_vec())
        .collect()
}

/// What one comparison found.
#[derive(Default, Debug)]
struct Tally {
    calls: usize,
    skipped: usize,
    ran_out: usize,
}

/// Runs `wasm` original and metered; panics on any difference.
fn compare(wasm: &[u8], label: &str, tally: &mut Tally) {
    let engine = engine();
    let metered = instrument(wasm, HUGE, features())
        .unwrap_or_else(|e| panic!("{label}: instrumentation failed: {}", e.0));

    let mut orig = instantiate(&engine, wasm, REF_FUEL);
    let mut met = instantiate(&engine, &metered, REF_FUEL * METERED_FACTOR);
    if orig.start == Outcome::RefOutOfFuel {
        tally.skipped += 1;
        return;
    }
    assert_eq!(orig.start, met.start, "{label}: start function");
    let funcs = exported_funcs(&orig);
    let met_funcs = exported_funcs(&met);
    assert_eq!(funcs.len(), met_funcs.len(), "{label}: exported functions");
    for ((name, f), (met_name, mf)) in funcs.iter().zip(&met_funcs) {
        assert_eq!(name, met_name);
        let o = call(&mut orig, f, REF_FUEL);
        if o == Outcome::RefOutOfFuel {
            tally.skipped += 1;
            return;
        }
        set_budget(&mut met, HUGE);
        let m = call(&mut met, mf, REF_FUEL * METERED_FACTOR);
        tally.calls += 1;
        if o == Outcome::Trapped("StackOverflow".into()) {
            // Metering makes frames larger: the depth may differ, and so
            // the state left behind. Stop comparing this module here.
            assert_eq!(o, m, "{label}: {name}");
            return;
        }
        assert_eq!(o, m, "{label}: {name}");
        assert!(fuel_left(&met) >= 0, "{label}: {name}: budget spent");
        assert!(fuel_left(&met) < HUGE, "{label}: {name}: no fuel charged");
    }
    assert!(
        memory_digest(&orig) == memory_digest(&met),
        "{label}: memories differ"
    );

    // A small budget: each call agrees with the original or runs out.
    let small = instrument(wasm, 40, features()).expect("instrumented");
    let mut orig = instantiate(&engine, wasm, REF_FUEL);
    let mut met = instantiate(&engine, &small, REF_FUEL * METERED_FACTOR);
    if met.instance.is_none() {
        // The start function ran out, or trapped as the original did.
        assert!(
            met.start == orig.start
                || met.start == Outcome::Trapped("IntegerDivisionByZero".into()),
            "{label}: start with a small budget: {:?}",
            met.start
        );
        return;
    }
    for ((name, f), (_, mf)) in exported_funcs(&orig).iter().zip(&exported_funcs(&met)) {
        let o = call(&mut orig, f, REF_FUEL);
        set_budget(&mut met, 40);
        let m = call(&mut met, mf, REF_FUEL * METERED_FACTOR);
        if fuel_left(&met) < 0 {
            assert_eq!(
                m,
                Outcome::Trapped("IntegerDivisionByZero".into()),
                "{label}: {name}: below zero without the check's trap"
            );
            tally.ran_out += 1;
            // The original went on: the states differ from here.
            return;
        }
        if o == Outcome::RefOutOfFuel || o == Outcome::Trapped("StackOverflow".into()) {
            return;
        }
        assert_eq!(o, m, "{label}: {name} with a small budget");
    }
}

fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        allow_floats: false,
        bulk_memory_enabled: true,
        multi_value_enabled: true,
        sign_extension_ops_enabled: true,
        saturating_float_to_int_enabled: false,
        reference_types_enabled: false,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        tail_call_enabled: false,
        memory64_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        max_imports: 0,
        max_memories: 1,
        max_tables: 1,
        max_memory32_bytes: 1 << 20,
        export_everything: true,
        min_funcs: 1,
        max_funcs: 8,
        max_instructions: 200,
        ..Default::default()
    }
}

/// Deterministic bytes for a seed (splitmix64).
fn seed_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_modules_behave_the_same_metered() {
    let cases = env_u64("KWASM_FUEL_DIFF_CASES", 300);
    let first = env_u64("KWASM_FUEL_DIFF_SEED", 0);
    let mut tally = Tally::default();
    let mut modules = 0;
    for seed in first..first + cases {
        let bytes = seed_bytes(seed, 4096);
        let mut u = Unstructured::new(&bytes);
        let Ok(module) = wasm_smith::Module::new(smith_config(), &mut u) else {
            continue;
        };
        let wasm = module.to_bytes();
        // Only what kwasm would accept.
        if wasmparser::Validator::new_with_features(features())
            .validate_all(&wasm)
            .is_err()
        {
            continue;
        }
        modules += 1;
        compare(&wasm, &format!("seed {seed}"), &mut tally);
    }
    eprintln!("fuel_diff: {modules} modules, {tally:?}");
    assert!(
        modules as u64 > cases / 2,
        "only {modules} modules generated"
    );
    // Many random start functions and first calls trap; still, a good
    // share of calls must have been compared.
    assert!(
        tally.calls * 4 > modules,
        "too few calls compared: {tally:?}"
    );
}

fn compare_wat(text: &str) -> Tally {
    let mut tally = Tally::default();
    compare(&wat::parse_str(text).expect("test WAT"), text, &mut tally);
    tally
}

#[test]
fn nested_loops() {
    let t = compare_wat(
        r#"(module (memory (export "m") 1)
          (func (export "f") (result i32) (local $i i32) (local $j i32) (local $n i32)
            (loop $outer
              (local.set $j (i32.const 0))
              (loop $inner
                (local.set $n (i32.add (local.get $n) (i32.mul (local.get $i) (local.get $j))))
                (i32.store (i32.const 0) (local.get $n))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br_if $inner (i32.lt_u (local.get $j) (i32.const 7))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $outer (i32.lt_u (local.get $i) (i32.const 5))))
            (local.get $n)))"#,
    );
    assert_eq!((t.calls, t.ran_out), (1, 1));
}

#[test]
fn br_table_to_loops() {
    let t = compare_wat(
        r#"(module
          (func (export "f") (result i32) (local $i i32)
            (block $done
              (loop $a
                (loop $b
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br_if $done (i32.gt_u (local.get $i) (i32.const 30)))
                  (br_table $a $b $a (i32.rem_u (local.get $i) (i32.const 3))))))
            (local.get $i)))"#,
    );
    assert_eq!((t.calls, t.ran_out), (1, 1));
}

#[test]
fn loops_in_start() {
    let t = compare_wat(
        r#"(module (global $g (export "g") (mut i32) (i32.const 0))
          (func $start
            (loop $l
              (global.set $g (i32.add (global.get $g) (i32.const 1)))
              (br_if $l (i32.lt_u (global.get $g) (i32.const 100)))))
          (start $start)
          (func (export "get") (result i32) (global.get $g)))"#,
    );
    // With the small budget the start function runs out.
    assert_eq!(t.calls, 1);
}

#[test]
fn multi_value_blocks_and_loops() {
    let t = compare_wat(
        r#"(module
          (func (export "f") (result i32 i64) (local $k i32)
            (i32.const 3) (i64.const 4)
            (loop $l (param i32 i64) (result i32 i64)
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (block (param i32 i64) (result i32 i64)
                (i64.add (i64.const 1))
                (br_if 1 (i32.lt_u (local.get $k) (i32.const 9)))))
            (block (param i32 i64) (result i32 i64))))"#,
    );
    assert_eq!((t.calls, t.ran_out), (1, 1));
}
