//! What the fuzz targets share: loading a module through the core's C
//! interface (include/kwasm_core.h) exactly as the shim does, running it on
//! a few packets on every host CPU, checking what the interface promises,
//! and freeing it. Whatever the load path grows is fuzzed with it.
//!
//! The host build of the core runs against core/host/services.c: CPU ids
//! 0..3 with 2 absent.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};

use arbitrary::{Arbitrary, Unstructured};
use kwasm_test_support::capi::{self, *};
use kwasm_test_support::packet::{
    icmp_echo, set_fragment_offset, tcp, tcp6, udp, udp6, Ext, Ipv6,
};

/// CPU ids of the host services: 0, 1 and 3 possible, 2 absent; 64 is past
/// `kwasm_nr_cpu_ids()`.
const PRESENT_CPUS: [u32; 3] = HOST_CPUS;
const ABSENT_CPUS: [u32; 2] = [2, 64];

/// How one load ended.
pub enum Loaded {
    Ok,
    /// errno and message of a refused module.
    Refused(i32, String),
}

fn opts() -> kwasm_prog_opts {
    let mut o = capi::opts(256, KWASM_ACCEPT);
    set_c_str(&mut o.name, "fuzz").expect("fits");
    o
}

/// TCP and UDP to the echo port, ICMP (skipped under the original ABI), a
/// non-first TCP fragment (no ports), a 300-byte UDP packet (longer than
/// the snap length) and a truncated header.
fn packets() -> &'static [Vec<u8>] {
    static PACKETS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    PACKETS.get_or_init(|| {
        let mut frag = tcp(40000, 23557, b"frag");
        set_fragment_offset(&mut frag, 8);
        vec![
            tcp(40000, 23557, b"hello"),
            udp(5353, 53, b"query"),
            icmp_echo(b"ping"),
            frag,
            udp(1, 2, &[0xa5; 272]),
            vec![0x45, 0, 0, 20, 0, 0],
            tcp6(40000, 23557, b"hello"),
            udp6(5353, 53, b"query"),
            Ipv6::default()
                .with_ext(&[Ext::HopByHop(8), Ext::DestOpts(264)])
                .udp(1, 23557, b"past the options"),
            Ipv6::default()
                .with_ext(&[Ext::Fragment {
                    offset: 1,
                    more: false,
                }])
                .udp(1, 2, b"later"),
            vec![0x60, 0, 0, 0, 0, 8, 0, 64],
        ]
    })
}

/// What include/kwasm_core.h promises about one run.
fn check_result(res: &kwasm_run_result, cpu_present: bool) {
    assert!(
        res.verdict == KWASM_ACCEPT || res.verdict == KWASM_DROP,
        "verdict out of range: {res:?}"
    );
    match res.outcome {
        KWASM_OUTCOME_OK => {
            assert!(cpu_present, "ran on an absent CPU: {res:?}");
            assert_eq!(i64::from(res.verdict), res.retval, "{res:?}");
            assert_eq!(res.trap, KWASM_TRAP_NONE, "{res:?}");
        }
        KWASM_OUTCOME_TRAP => {
            assert!(cpu_present, "ran on an absent CPU: {res:?}");
            assert!(
                res.trap > KWASM_TRAP_NONE && res.trap < KWASM_TRAP_COUNT,
                "trap kind out of range: {res:?}"
            );
        }
        KWASM_OUTCOME_INVALID | KWASM_OUTCOME_SKIPPED => {
            assert!(cpu_present, "ran on an absent CPU: {res:?}");
            assert_eq!(res.trap, KWASM_TRAP_NONE, "{res:?}");
        }
        KWASM_OUTCOME_BUSY => assert!(!cpu_present, "busy with one thread: {res:?}"),
        _ => panic!("outcome out of range: {res:?}"),
    }
}

/// Loads `wasm` through `kwasm_core_prog_new` (capi::load_bytes checks the
/// errno, the NUL-terminated reason and that no program comes with a
/// refusal); when it loads, runs it on every packet on CPU 0 and on one
/// packet on every other CPU id, checks the results, info and stats, and
/// frees it.
pub fn load_and_run(wasm: &[u8]) -> Loaded {
    let prog = match load_bytes(wasm, &opts()) {
        Ok(prog) => prog,
        Err((errno, msg)) => return Loaded::Refused(errno, msg),
    };

    let info = prog.info();
    assert_eq!(info.size as usize, wasm.len());
    assert_eq!(info.instances as usize, PRESENT_CPUS.len());
    assert!(info.abi == KWASM_ABI_KWASM || info.abi == KWASM_ABI_ORIGINAL);

    let mut runs = 0u64;
    for packet in packets() {
        check_result(&prog.run_on(0, packet), true);
        runs += 1;
    }
    let first = packets().first().map_or(&[][..], Vec::as_slice);
    for cpu in PRESENT_CPUS.into_iter().skip(1) {
        check_result(&prog.run_on(cpu, first), true);
        runs += 1;
    }
    for cpu in ABSENT_CPUS {
        check_result(&prog.run_on(cpu, first), false);
    }

    let stats = prog.stats();
    assert_eq!(stats.runs + stats.skipped, runs, "{stats:?}");
    assert_eq!(stats.accepted + stats.dropped, stats.runs, "{stats:?}");
    assert_eq!(
        stats.trap_kind.iter().sum::<u64>(),
        stats.traps,
        "{stats:?}"
    );
    assert_eq!(stats.busy, 0, "{stats:?}");
    Loaded::Ok
}

/// Every host function of core/src/filter/hostfns.rs, as imports
/// wasm-smith may pick from.
const HOST_IMPORTS: &str = r#"(module
  (import "kwasm" "log" (func (param i32 i32)))
  (import "kwasm" "print_int" (func (param i32)))
  (import "kwasm" "pkt_len" (func (result i32)))
  (import "kwasm" "pkt_protocol" (func (result i32)))
  (import "kwasm" "pkt_saddr" (func (result i32)))
  (import "kwasm" "pkt_daddr" (func (result i32)))
  (import "kwasm" "pkt_sport" (func (result i32)))
  (import "kwasm" "pkt_dport" (func (result i32)))
  (import "kwasm" "pkt_hook" (func (result i32)))
  (import "kwasm" "pkt_ifindex_in" (func (result i32)))
  (import "kwasm" "pkt_ifindex_out" (func (result i32)))
  (import "kwasm" "pkt_load_bytes" (func (param i32 i32 i32) (result i32)))
  (import "kwasm" "pkt_family" (func (result i32)))
  (import "kwasm" "pkt_saddr6" (func (param i32) (result i32)))
  (import "kwasm" "pkt_daddr6" (func (param i32) (result i32)))
  (import "kwasm" "map_lookup" (func (param i32 i32 i32 i32 i32) (result i32)))
  (import "kwasm" "map_update" (func (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "kwasm" "map_delete" (func (param i32 i32 i32) (result i32)))
  (import "kwasm" "map_add" (func (param i32 i32 i32 i32 i64) (result i32)))
  (import "kwasm" "event_output" (func (param i32 i32) (result i32)))
  (import "custom" "print_int" (func (param i32) (result i32))))"#;

/// The exports of docs/ABI.md's two ABIs: kwasm_filter alone, with the
/// packet record (kwasm_alloc + memory), and the original alloc + filter.
const EXPORT_SHAPES: [&str; 3] = [
    r#"(module (func (export "kwasm_filter") (param i32 i32) (result i32) unreachable))"#,
    r#"(module (memory (export "memory") 1)
         (func (export "kwasm_alloc") (param i32) (result i32) unreachable)
         (func (export "kwasm_filter") (param i32 i32) (result i32) unreachable))"#,
    r#"(module (memory (export "memory") 1)
         (func (export "alloc") (param i64) (result i32) unreachable)
         (func (export "filter") (result i32) unreachable))"#,
];

fn wasm_of(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).expect("the fuzz harness's own WAT is valid")
}

/// Budget of a generated module's instance, spent by loop iterations,
/// calls and bulk-memory bytes: it traps (unreachable) once spent, so no
/// generated program runs forever. Bulk-memory lengths are why it is not
/// smaller: with 1000, most `memory.fill`s trapped.
const FUEL: u32 = 100_000;
/// Linear memory a module may declare and still load (docs/ABI.md).
const MAX_MEMORY_BYTES: u64 = 256 * 65536;
/// Table entries a module may declare and still load (docs/ABI.md).
const MAX_TABLE_ENTRIES: u64 = 10_000;

/// A wasm-smith module from `u` that can pass kwasm's validation: the
/// language level of docs/ABI.md, the exports of one of its ABIs, imports
/// only of host functions, and fuel so every run ends.
pub fn generate(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    static IMPORTS: OnceLock<Vec<u8>> = OnceLock::new();
    static SHAPES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    let imports = IMPORTS.get_or_init(|| wasm_of(HOST_IMPORTS));
    let shapes = SHAPES.get_or_init(|| EXPORT_SHAPES.iter().map(|s| wasm_of(s)).collect());

    // Mostly kwasm_filter alone, often with the record, sometimes original.
    let shape = match u.int_in_range(0u8..=7)? {
        0..=3 => 0,
        4..=6 => 1,
        _ => 2,
    };
    let mut config = wasm_smith::Config::arbitrary(u)?;
    config.available_imports = Some(imports.clone());
    config.exports = shapes.get(shape).cloned();
    config.module_shape = None;
    config.allow_floats = false;
    config.simd_enabled = false;
    config.relaxed_simd_enabled = false;
    config.saturating_float_to_int_enabled = false;
    config.reference_types_enabled = false;
    config.gc_enabled = false;
    config.exceptions_enabled = false;
    config.tail_call_enabled = false;
    config.threads_enabled = false;
    config.memory64_enabled = false;
    config.wide_arithmetic_enabled = false;
    config.extended_const_enabled = false;
    config.custom_page_sizes_enabled = false;
    config.shared_everything_threads_enabled = false;
    config.custom_descriptors_enabled = false;
    // The compact import section encoding is a proposal kwasm leaves off.
    config.compact_imports_enabled = false;
    config.bulk_memory_enabled = true;
    config.multi_value_enabled = true;
    config.sign_extension_ops_enabled = true;
    config.allow_invalid_funcs = false;
    // A shape that exports memory brings its own, beyond max_memories.
    config.max_memories = if shape == 0 { 1 } else { 0 };
    // Half the modules trap only when out of fuel: more of them get past
    // kwasm_alloc at load and through a whole run.
    config.disallow_traps = u.arbitrary()?;
    config.max_tables = 1;
    config.max_memory32_bytes = MAX_MEMORY_BYTES;
    config.max_table_elements = MAX_TABLE_ENTRIES;
    config.max_nesting_depth = config.max_nesting_depth.min(10);
    let mut module = wasm_smith::Module::new(config, u)?;
    // Fails only on function bodies of raw bytes (allow_invalid_funcs).
    module
        .ensure_termination(FUEL)
        .map_err(|_| arbitrary::Error::IncorrectFormat)?;
    Ok(module.to_bytes())
}

/// Load outcomes of the generated modules, printed every power of two when
/// KWASM_FUZZ_STATS is set (fuzz/run.sh reports the last line).
pub struct Tally {
    total: AtomicU64,
    loaded: AtomicU64,
    reasons: Mutex<BTreeMap<String, u64>>,
}

impl Tally {
    pub const fn new() -> Self {
        Self {
            total: AtomicU64::new(0),
            loaded: AtomicU64::new(0),
            reasons: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn add(&self, what: &Loaded) {
        let total = self.total.fetch_add(1, Relaxed) + 1;
        match what {
            Loaded::Ok => {
                self.loaded.fetch_add(1, Relaxed);
            }
            Loaded::Refused(errno, msg) => {
                let key = format!("errno {errno}: {}", reason_class(msg));
                if let Ok(mut reasons) = self.reasons.lock() {
                    *reasons.entry(key).or_default() += 1;
                }
            }
        }
        if total.is_power_of_two() && std::env::var_os("KWASM_FUZZ_STATS").is_some() {
            self.print(total);
        }
    }

    fn print(&self, total: u64) {
        let loaded = self.loaded.load(Relaxed);
        let mut top: Vec<(String, u64)> = self
            .reasons
            .lock()
            .map(|r| r.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default();
        top.sort_by_key(|r| std::cmp::Reverse(r.1));
        eprintln!(
            "kwasm-fuzz: {total} modules, {loaded} loaded ({:.1}%)",
            loaded as f64 * 100.0 / total as f64
        );
        for (reason, n) in top.iter().take(5) {
            eprintln!("kwasm-fuzz:   refused {n}: {reason}");
        }
    }
}

impl Default for Tally {
    fn default() -> Self {
        Self::new()
    }
}

/// An error message with its numbers (decimal or 0x hex) replaced by N,
/// so that refusals group by kind.
fn reason_class(msg: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in msg.chars().take(80) {
        if in_number && (c.is_ascii_hexdigit() || c == 'x') {
            continue;
        }
        in_number = c.is_ascii_digit();
        out.push(if in_number { 'N' } else { c });
    }
    out
}
