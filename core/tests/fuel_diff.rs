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
//! Then the bound itself: the module gets a counter of the operators it
//! executes (core/tests/counter.rs, an increment before every operator),
//! is metered, and every call, with an ample budget and with small ones,
//! must have executed no more operators than it was charged (budget minus
//! the fuel left), and when it ran out no more than its budget. This covers
//! what metering leaves to static bounds: functions without a check of
//! their own, paid for by their callers or, for exports, by the host.
//!
//! Exports without a check are called as the host calls them
//! (core/src/engine/instance.rs): the fuel global set to the budget less
//! their static cost, or no call at all (out of fuel) when the cost is
//! more than the budget. Such a call must leave the global untouched and
//! execute no more operators than its static cost.
//!
//! `KWASM_FUEL_DIFF_CASES=N` runs N random modules instead of the default
//! 300; `KWASM_FUEL_DIFF_SEED=S` starts at seed S.

mod counter;

use arbitrary::Unstructured;
use kwasm::fuel::{instrument, Metered, EXPORT_NAME};
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
    /// Calls whose operator count was checked against their charge, and
    /// how many of those ran out.
    bounded: usize,
    bounded_ran_out: usize,
    /// Defined functions the metered module left without a check.
    unchecked_funcs: usize,
    /// Calls of exports charged by the host: whose operator count was
    /// checked against their static cost, and compared with the original.
    host_charged_bounded: usize,
    host_charged_compared: usize,
}

/// The static cost the host charges for a call of export `name`, 0 when it
/// checks itself.
fn static_cost(metered: &Metered, name: &str) -> i64 {
    metered
        .static_costs
        .iter()
        .find(|(n, _)| n == name)
        .map_or(0, |&(_, c)| i64::try_from(c).expect("small cost"))
}

/// The outcome of a fuel check that fired.
fn ran_out() -> Outcome {
    Outcome::Trapped("IntegerDivisionByZero".into())
}

/// Calls export `name` of the metered module as the host does, with
/// `budget`: the fuel global set to the budget less its static cost; when
/// that is below zero there is no call, and the outcome is the one its
/// check would have had on entry.
fn call_metered(
    run: &mut Run,
    metered: &Metered,
    name: &str,
    func: &wasmi::Func,
    budget: i64,
    ref_fuel: u64,
) -> Outcome {
    let start = budget - static_cost(metered, name);
    set_budget(run, start);
    if start < 0 {
        return ran_out();
    }
    call(run, func, ref_fuel)
}

/// Budgets of the operator-count check: ample, and small ones that run
/// out at different places.
const BOUND_BUDGETS: [i64; 5] = [HUGE, 10, 100, 1_000, 10_000];
/// wasmi fuel for one call there: the counted module runs five operators
/// for each one of the original.
const BOUND_REF_FUEL: u64 = 2_000_000;

fn global_i64(run: &Run, name: &str) -> i64 {
    match run
        .instance
        .and_then(|i| i.get_global(&run.store, name))
        .map(|g| g.get(&run.store))
    {
        Some(Val::I64(v)) => v,
        other => panic!("no i64 global {name}: {other:?}"),
    }
}

fn set_global_i64(run: &mut Run, name: &str, value: i64) {
    let g = run
        .instance
        .and_then(|i| i.get_global(&run.store, name))
        .expect("global");
    g.set(&mut run.store, Val::I64(value)).expect("mutable i64");
}

/// Defined functions of `metered` without a fuel check.
fn unchecked_funcs(metered: &[u8]) -> usize {
    let mut n = 0;
    for payload in wasmparser::Parser::new(0).parse_all(metered) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.expect("payload") {
            if counter::after_every_check(&body).is_empty() {
                n += 1;
            }
        }
    }
    n
}

/// Operators executed never exceed fuel consumed: `wasm` with a counter of
/// its operators, metered with each of [`BOUND_BUDGETS`], every exported
/// function called in turn. A start function that traps or runs out
/// leaves no instance to read the counter of: not checked.
fn check_bounds(wasm: &[u8], label: &str, tally: &mut Tally) {
    let counted = counter::add_counter(wasm, &mut counter::every_operator);
    let engine = engine();
    tally.unchecked_funcs += unchecked_funcs(
        &instrument(wasm, HUGE, features())
            .expect("instrumented")
            .wasm,
    );
    for budget in BOUND_BUDGETS {
        let metered = instrument(&counted, budget, features())
            .unwrap_or_else(|e| panic!("{label}: instrumenting the counted module: {}", e.0));
        let mut run = instantiate(&engine, &metered.wasm, BOUND_REF_FUEL);
        if run.instance.is_none() {
            continue;
        }
        let check = |run: &Run, what: &str, outcome: &Outcome, tally: &mut Tally| {
            let executed = global_i64(run, counter::COUNTER);
            let left = global_i64(run, EXPORT_NAME);
            tally.bounded += 1;
            if left < 0 {
                tally.bounded_ran_out += 1;
                assert_eq!(
                    outcome,
                    &ran_out(),
                    "{label}: {what}, budget {budget}: below zero without the check's trap"
                );
                assert!(
                    executed <= budget,
                    "{label}: {what}: ran out of {budget} after {executed} operators"
                );
            } else {
                assert!(
                    executed <= budget - left,
                    "{label}: {what}: {executed} operators executed, {} charged",
                    budget - left
                );
            }
        };
        check(&run, "start", &Outcome::Returned(Vec::new()), tally);
        for (name, f) in exported_funcs(&run) {
            set_global_i64(&mut run, counter::COUNTER, 0);
            let outcome = call_metered(&mut run, &metered, &name, &f, budget, BOUND_REF_FUEL);
            // wasmi's own fuel may stop it first: the bound holds up to
            // there all the same.
            check(&run, &name, &outcome, tally);
            let cost = static_cost(&metered, &name);
            if cost > 0 && cost <= budget {
                // No check ran: the static cost covers the whole call.
                tally.host_charged_bounded += 1;
                let executed = global_i64(&run, counter::COUNTER);
                assert_eq!(
                    global_i64(&run, EXPORT_NAME),
                    budget - cost,
                    "{label}: {name}: the fuel global changed in a call charged by the host"
                );
                assert!(
                    executed <= cost,
                    "{label}: {name}: {executed} operators executed, static cost {cost}"
                );
            }
        }
    }
}

/// Runs `wasm` original and metered; panics on any difference.
fn compare(wasm: &[u8], label: &str, tally: &mut Tally) {
    check_bounds(wasm, label, tally);
    let engine = engine();
    let metered = instrument(wasm, HUGE, features())
        .unwrap_or_else(|e| panic!("{label}: instrumentation failed: {}", e.0));

    let mut orig = instantiate(&engine, wasm, REF_FUEL);
    let mut met = instantiate(&engine, &metered.wasm, REF_FUEL * METERED_FACTOR);
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
        let m = call_metered(
            &mut met,
            &metered,
            name,
            mf,
            HUGE,
            REF_FUEL * METERED_FACTOR,
        );
        tally.calls += 1;
        if static_cost(&metered, name) > 0 {
            tally.host_charged_compared += 1;
        }
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
    let mut met = instantiate(&engine, &small.wasm, REF_FUEL * METERED_FACTOR);
    if met.instance.is_none() {
        // The start function ran out, or trapped as the original did.
        assert!(
            met.start == orig.start || met.start == ran_out(),
            "{label}: start with a small budget: {:?}",
            met.start
        );
        return;
    }
    for ((name, f), (_, mf)) in exported_funcs(&orig).iter().zip(&exported_funcs(&met)) {
        let o = call(&mut orig, f, REF_FUEL);
        let m = call_metered(&mut met, &small, name, mf, 40, REF_FUEL * METERED_FACTOR);
        if fuel_left(&met) < 0 {
            assert_eq!(
                m,
                ran_out(),
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

/// wasm-smith's configuration. With `export_everything` every function is
/// called from outside and so metered; without it, few are exported and
/// the others may be left to static bounds.
fn smith_config(export_everything: bool) -> wasm_smith::Config {
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
        export_everything,
        min_exports: 1,
        max_exports: 3,
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
        // Every function exported (so all metered), then few exported.
        for export_everything in [true, false] {
            let bytes = seed_bytes(seed, 4096);
            let mut u = Unstructured::new(&bytes);
            let Ok(module) = wasm_smith::Module::new(smith_config(export_everything), &mut u)
            else {
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
            let label = format!("seed {seed}, export_everything {export_everything}");
            compare(&wasm, &label, &mut tally);
        }
    }
    eprintln!("fuel_diff: {modules} modules, {tally:?}");
    assert!(modules as u64 > cases, "only {modules} modules generated");
    // Many random start functions and first calls trap; still, a good
    // share of calls must have been compared.
    assert!(
        tally.calls * 4 > modules,
        "too few calls compared: {tally:?}"
    );
    // The static bounds were exercised, with ample and small budgets.
    assert!(
        tally.unchecked_funcs > 0,
        "no function left unchecked: {tally:?}"
    );
    assert!(tally.bounded_ran_out > 0, "no call ran out: {tally:?}");
    // Exports charged by the host were bounded and compared.
    assert!(
        tally.host_charged_bounded > 0 && tally.host_charged_compared > 0,
        "no export charged by the host: {tally:?}"
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

#[test]
fn loop_free_calls_paid_by_the_caller() {
    // $leaf and $mid have no check: f pays for them, 40 times over in its
    // loop, and the small budget runs out inside the loop. g has none
    // either: the host pays for it and the two calls of $leaf it may make.
    let t = compare_wat(
        r#"(module (global $n (export "n") (mut i32) (i32.const 0))
          (func $leaf (param i32) (result i32)
            (global.set $n (i32.add (global.get $n) (i32.const 1)))
            (i32.mul (local.get 0) (i32.const 3)))
          (func $mid (param i32) (result i32)
            (if (result i32) (i32.and (local.get 0) (i32.const 1))
              (then (call $leaf (local.get 0)))
              (else (call $leaf (call $leaf (local.get 0))))))
          (func (export "f") (result i32) (local $i i32) (local $s i32)
            (loop $l
              (local.set $s (i32.add (local.get $s) (call $mid (local.get $i))))
              (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                                  (i32.const 40))))
            (local.get $s))
          (func (export "g") (result i32) (call $mid (i32.const 4))))"#,
    );
    assert_eq!((t.calls, t.ran_out, t.unchecked_funcs), (2, 1, 3));
    // Bounded with the budgets that hold g's static cost in the counted
    // module (HUGE, 1000, 10000).
    assert_eq!((t.host_charged_compared, t.host_charged_bounded), (1, 3));
}

#[test]
fn mutual_recursion_and_indirect_calls() {
    let t = compare_wat(
        r#"(module (type $t (func (param i32) (result i32)))
          (table 1 funcref) (elem (i32.const 0) $ind)
          (func $even (param i32) (result i32)
            (if (result i32) (local.get 0)
              (then (call $odd (i32.sub (local.get 0) (i32.const 1))))
              (else (i32.const 1))))
          (func $odd (param i32) (result i32)
            (if (result i32) (local.get 0)
              (then (call $even (i32.sub (local.get 0) (i32.const 1))))
              (else (i32.const 0))))
          (func $ind (param i32) (result i32)
            (if (result i32) (local.get 0)
              (then (call_indirect (type $t) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0)))
              (else (i32.const 7))))
          (func (export "f") (result i32)
            (i32.add (call $even (i32.const 25)) (call $ind (i32.const 30)))))"#,
    );
    // $odd is paid for by $even, where the cycle is broken.
    assert_eq!((t.calls, t.ran_out, t.unchecked_funcs), (1, 1, 1));
}

#[test]
fn exported_and_called_inside() {
    let t = compare_wat(
        r#"(module (global $n (export "n") (mut i32) (i32.const 0))
          (func $g (export "g") (result i32)
            (global.set $n (i32.add (global.get $n) (i32.const 1)))
            (global.get $n))
          (func (export "f") (result i32) (local $i i32)
            (loop $l
              (drop (call $g))
              (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                                  (i32.const 30))))
            (call $g)))"#,
    );
    // $g has no check: the host pays for it when it calls g, f's loop
    // when f calls it.
    assert_eq!(
        (t.calls, t.unchecked_funcs, t.host_charged_compared),
        (2, 1, 1)
    );
}

/// The example programs of wasm/ (`make -C wasm` builds them into
/// wasm/build) on a sequence of packets (TCP to port 80, as `make bench`
/// sends, TCP to drop_port's 23557, UDP, ICMP): the fuel checks executed
/// (counted in wasmi: an increment after every check of the metered
/// module) and the fuel used, the latter the same in wasm3 through the
/// core's C interface, packet by packet (in wasmi, the host's charge of a
/// filter without a check is made as the core makes it). `--nocapture`
/// prints the table.
#[test]
fn examples_checks_per_packet() {
    use kwasm::ffi::services::Pkt;
    use kwasm::filter::packet::{Summary, HEAD_MAX};
    use kwasm::filter::record::{self, Version};
    use kwasm_test_support::capi;
    use kwasm_test_support::packet::Ipv4;
    use std::net::Ipv4Addr;

    const BUDGET: i64 = 100_000;
    const SNAPLEN: usize = 256;
    const ROUNDS: usize = 5;
    let (src, dst) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 1));
    let ip = Ipv4::new(src, dst);
    // (packet, protocol, destination port)
    let packets = [
        (ip.tcp(40000, 80, b""), 6, 80),
        (ip.tcp(40000, 23557, b"hello"), 6, 23557),
        (ip.udp(5353, 53, b"query"), 17, 53),
        (ip.icmp_echo(b"ping"), 1, 0),
    ];
    let mut rows = Vec::new();
    for name in [
        "accept_all",
        "drop_port",
        "drop_port_v1",
        "udp_drop_port",
        "log_every_n",
        "orig_accept_all",
        "orig_drop_port",
        "rust_drop_port",
        "drop_icmp",
        "payload",
    ] {
        let Some(wasm) = kwasm_test_support::built_example(name) else {
            continue;
        };
        let metered = instrument(&wasm, BUDGET, features()).expect("instrumented");
        let section =
            wasmparser::Parser::new(0)
                .parse_all(&wasm)
                .find_map(|p| match p.expect("payload") {
                    wasmparser::Payload::CustomSection(c) if c.name() == record::SECTION => {
                        Some(c.data().to_vec())
                    }
                    _ => None,
                });
        let version = Version::declared(section.as_deref()).expect("record version");
        let counted = counter::add_counter(&metered.wasm, &mut counter::after_every_check);

        let engine = Engine::default();
        let module = Module::new(&engine, &counted).expect("wasmi accepts it");
        // The packet's (protocol, destination port) for the host functions.
        let mut store = Store::new(&engine, (0i32, 0i32));
        let mut linker = Linker::<(i32, i32)>::new(&engine);
        for import in module.imports() {
            let Some(ty) = import.ty().func().cloned() else {
                continue;
            };
            let name = import.name().to_owned();
            linker
                .func_new(
                    import.module(),
                    import.name(),
                    ty,
                    move |caller, _, results| {
                        let (proto, dport) = *caller.data();
                        let value = match name.as_str() {
                            "pkt_protocol" => proto,
                            "pkt_dport" => dport,
                            _ => 0,
                        };
                        for r in results {
                            *r = Val::I32(value);
                        }
                        Ok(())
                    },
                )
                .expect("stub");
        }
        let instance = linker
            .instantiate_and_start(&mut store, &module)
            .expect("instantiated");
        let global = |store: &Store<(i32, i32)>, name: &str| match instance
            .get_global(store, name)
            .map(|g| g.get(store))
        {
            Some(Val::I64(v)) => v,
            other => panic!("{name}: {other:?}"),
        };
        let kwasm_abi = instance.get_func(&store, "kwasm_filter").is_some();
        let filter = if kwasm_abi { "kwasm_filter" } else { "filter" };
        let cost = static_cost(&metered, filter);
        let reset = |store: &mut Store<(i32, i32)>| {
            for (g, v) in [(EXPORT_NAME, BUDGET - cost), (counter::COUNTER, 0)] {
                instance
                    .get_global(&*store, g)
                    .expect("global")
                    .set(&mut *store, Val::I64(v))
                    .expect("mutable");
            }
        };
        let memory = instance.get_memory(&store, "memory");
        let call = |store: &mut Store<(i32, i32)>, f: &str, args: &[Val]| -> i32 {
            let f = instance.get_func(&*store, f).expect("exported");
            let mut out = [Val::I32(0)];
            f.call(&mut *store, args, &mut out).expect("call");
            match out[0] {
                Val::I32(v) => v,
                ref v => panic!("{v:?}"),
            }
        };
        let alloc = if !kwasm_abi {
            call(&mut store, "alloc", &[Val::I64(16)])
        } else if instance.get_func(&store, "kwasm_alloc").is_some() {
            let size = record::record_size(version, SNAPLEN as u32);
            call(&mut store, "kwasm_alloc", &[Val::I32(size as i32)])
        } else {
            0
        };
        // The same packets in wasm3, through the core as the kernel runs it.
        let prog = capi::load_bytes(&wasm, &capi::opts(SNAPLEN as u32, capi::KWASM_ACCEPT))
            .expect("loads");

        let (mut runs, mut checks, mut fuel_used, mut first) = (0, 0, 0, None);
        for _ in 0..ROUNDS {
            for (packet, proto, dport) in &packets {
                let r = prog.run(packet);
                if !kwasm_abi && *proto != 6 && *proto != 17 {
                    // The original ABI sees TCP and UDP only.
                    assert_eq!(r.outcome, capi::KWASM_OUTCOME_SKIPPED, "{name}");
                    continue;
                }
                *store.data_mut() = (*proto, *dport);
                let verdict = if kwasm_abi {
                    let len = if alloc != 0 {
                        // The record as the core writes it, for the packet
                        // as capi::pkt describes it.
                        let cap = packet.len().min(SNAPLEN);
                        let mut record = vec![0; version.header_len() as usize];
                        let pkt = Pkt {
                            data: packet.as_ptr(),
                            len: packet.len() as u32,
                            hook: 1,
                            ifindex_in: 7,
                            mark: 0xabc,
                            ..Default::default()
                        };
                        let head = Summary::parse(&packet[..packet.len().min(HEAD_MAX)]);
                        record::write_record_header(&mut record, version, &pkt, cap as u32, &head);
                        record.extend_from_slice(&packet[..cap]);
                        let mem = memory.expect("memory");
                        mem.write(&mut store, alloc as usize, &record)
                            .expect("record");
                        record.len() as i32
                    } else {
                        0
                    };
                    reset(&mut store);
                    call(
                        &mut store,
                        "kwasm_filter",
                        &[Val::I32(alloc), Val::I32(len)],
                    )
                } else {
                    let mut info = Vec::new();
                    info.extend_from_slice(&u32::from(src).to_le_bytes());
                    info.extend_from_slice(&u32::from(dst).to_le_bytes());
                    info.extend_from_slice(&40000u16.to_le_bytes());
                    info.extend_from_slice(&(*dport as u16).to_le_bytes());
                    info.extend_from_slice(&(packet.len() as u16).to_le_bytes());
                    info.extend_from_slice(&[u8::from(*proto == 17), 0]);
                    let mem = memory.expect("memory");
                    mem.write(&mut store, alloc as usize, &info)
                        .expect("packet_info");
                    reset(&mut store);
                    call(&mut store, "filter", &[])
                };
                let used = BUDGET - global(&store, EXPORT_NAME);
                assert_eq!(r.outcome, capi::KWASM_OUTCOME_OK, "{name}: {r:?}");
                assert_eq!(
                    (i64::from(verdict), used as u64),
                    (r.retval, r.fuel_used),
                    "{name}: wasmi and wasm3 differ"
                );
                let c = global(&store, counter::COUNTER);
                first.get_or_insert((c, used));
                runs += 1;
                checks += c;
                fuel_used += used;
            }
        }
        let (c0, f0) = first.unwrap_or((0, 0));
        // The C and WAT examples are loop-free once clang has inlined
        // their helpers, their bounds far below the budget: no check, the
        // host charges the static cost, the fuel used of every packet.
        // log_every_n and rust_drop_port format log lines, payload hashes
        // the packet's bytes, with loops: one check per packet at least.
        if ["log_every_n", "rust_drop_port", "payload"].contains(&name) {
            assert_eq!(cost, 0, "{name}: charged by the host");
            assert!(checks >= runs, "{name}: checks per packet");
        } else {
            assert!(cost > 0, "{name}: not charged by the host");
            assert_eq!(checks, 0, "{name}: checks per packet");
            assert_eq!(fuel_used, runs * cost, "{name}: fuel used per packet");
        }
        rows.push((name, c0, f0, runs, checks, fuel_used));
    }
    println!(
        "{:<16} {:>14} {:>14} {:>5} {:>8} {:>10}",
        "example", "checks TCP:80", "fuel TCP:80", "runs", "checks", "fuel"
    );
    for (name, c0, f0, runs, checks, fuel) in &rows {
        println!("{name:<16} {c0:>14} {f0:>14} {runs:>5} {checks:>8} {fuel:>10}");
    }
}

/// splitmix64, for the call-graph generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random module shaped for what metering decides per function (unlike
/// wasm-smith's, whose functions mostly loop or are exported): functions
/// `$f0..` of type `(param $p i32) (result i32)` with `if`s, early exits,
/// calls forward (a DAG, unguarded) and anywhere (recursion, guarded by
/// `$p > 0` and called with `$p - 1`), `call_indirect` through a table of
/// some of them, a few loops, some exported; and exported wrappers that
/// call one of them with a small `$p`.
fn call_graph_module(seed: u64) -> String {
    fn stmts(r: &mut Rng, out: &mut String, i: usize, n: usize, table: usize, depth: u32) {
        for _ in 0..1 + r.below(4) {
            match r.below(if depth < 3 { 10 } else { 6 }) {
                0 | 1 => {
                    let k = r.below(100);
                    out.push_str(&format!(
                        " (local.set $a (i32.add (i32.mul (local.get $a) (i32.const 3)) (i32.const {k})))"
                    ));
                }
                2 if i + 1 < n => {
                    let j = i + 1 + r.below((n - i - 1) as u64) as usize;
                    out.push_str(&format!(
                        " (local.set $a (i32.add (local.get $a) (call $f{j} (local.get $p))))"
                    ));
                }
                3 => {
                    let j = r.below(n as u64);
                    out.push_str(&format!(
                        " (if (i32.gt_s (local.get $p) (i32.const 0)) (then (local.set $a (i32.xor \
                         (local.get $a) (call $f{j} (i32.sub (local.get $p) (i32.const 1)))))))"
                    ));
                }
                4 if table > 0 => {
                    let e = r.below(table as u64 + 1); // one past the end traps
                    out.push_str(&format!(
                        " (if (i32.gt_s (local.get $p) (i32.const 0)) (then (local.set $a (i32.add \
                         (local.get $a) (call_indirect (type $t) (i32.sub (local.get $p) (i32.const 1)) \
                         (i32.const {e}))))))"
                    ));
                }
                5 => {
                    let m = 1 + r.below(7);
                    out.push_str(&format!(
                        " (if (i32.eq (i32.and (local.get $a) (i32.const 7)) (i32.const {m})) \
                         (then (return (local.get $a))))"
                    ));
                }
                6 | 7 => {
                    let m = r.below(4);
                    out.push_str(&format!(
                        " (if (i32.and (local.get $a) (i32.const {m})) (then"
                    ));
                    stmts(r, out, i, n, table, depth + 1);
                    out.push_str(") (else");
                    stmts(r, out, i, n, table, depth + 1);
                    out.push_str("))");
                }
                8 => {
                    out.push_str(" (block (br_if 0 (i32.lt_u (local.get $a) (i32.const 50)))");
                    stmts(r, out, i, n, table, depth + 1);
                    out.push(')');
                }
                9 if r.below(3) == 0 => {
                    let times = 1 + r.below(5);
                    out.push_str(" (local.set $i (i32.const 0)) (loop $l");
                    stmts(r, out, i, n, table, depth + 1);
                    out.push_str(&format!(
                        " (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) \
                         (i32.const {times}))))"
                    ));
                }
                _ => out.push_str(" (local.set $a (i32.rotl (local.get $a) (i32.const 5)))"),
            }
        }
    }

    let mut r = Rng(seed);
    let n = 2 + r.below(8) as usize;
    let table: Vec<usize> = (0..n).filter(|_| r.below(5) == 0).collect();
    let mut text = String::from(
        "(module (type $t (func (param i32) (result i32)))\n\
         (global $calls (export \"calls\") (mut i32) (i32.const 0))\n",
    );
    if !table.is_empty() {
        let names: Vec<String> = table.iter().map(|j| format!("$f{j}")).collect();
        text.push_str(&format!(
            "(table {} funcref) (elem (i32.const 0) {})\n",
            table.len(),
            names.join(" ")
        ));
    }
    for i in 0..n {
        let export = if r.below(5) == 0 {
            format!(" (export \"f{i}\")")
        } else {
            String::new()
        };
        text.push_str(&format!(
            "(func $f{i}{export} (type $t) (param $p i32) (result i32) (local $a i32) (local $i i32)\n  \
             (global.set $calls (i32.add (global.get $calls) (i32.const 1)))\n  \
             (local.set $a (local.get $p))"
        ));
        let mut body = String::new();
        stmts(&mut r, &mut body, i, n, table.len(), 0);
        text.push_str(&body);
        text.push_str("\n  (local.get $a))\n");
    }
    for k in 0..1 + r.below(3) {
        let j = r.below(n as u64);
        let p = r.below(5);
        text.push_str(&format!(
            "(func (export \"x{k}\") (result i32) (call $f{j} (i32.const {p})))\n"
        ));
    }
    text.push(')');
    text
}

#[test]
fn random_call_graphs_behave_the_same_metered() {
    let cases = env_u64("KWASM_FUEL_DIFF_CASES", 300);
    let first = env_u64("KWASM_FUEL_DIFF_SEED", 0);
    let mut tally = Tally::default();
    for seed in first..first + cases {
        let text = call_graph_module(seed);
        let wasm = wat::parse_str(&text).unwrap_or_else(|e| panic!("{text}\n{e}"));
        compare(&wasm, &format!("call graph {seed}:\n{text}\n"), &mut tally);
    }
    eprintln!("fuel_diff call graphs: {cases} modules, {tally:?}");
    // Static bounds were exercised, and small budgets ran out.
    assert!(tally.unchecked_funcs as u64 > cases, "{tally:?}");
    assert!(tally.bounded_ran_out as u64 > cases, "{tally:?}");
    assert!(tally.calls as u64 > cases, "{tally:?}");
    assert!(tally.host_charged_bounded > 0, "{tally:?}");
    assert!(tally.host_charged_compared > 0, "{tally:?}");
}
