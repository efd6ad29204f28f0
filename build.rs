//! Build script of the kwasm core.
//!
//! - finds wasm3's C sources (the crates.io package `wasm3x-sys`, pinned in
//!   Cargo.lock but never compiled as a crate),
//! - generates Rust bindings for `wasm3.h` and `include/kwasm_core.h`,
//! - for host builds (`cargo test`) compiles wasm3 and a host implementation
//!   of the kernel services. Kernel builds (target OS "none") compile no C
//!   here: Kbuild compiles wasm3 and the shim.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM3_PACKAGE_DIR: &str = "wasm3x-sys-0.2.1";
const M3_CONFIG: &str = "wasm3-kernel/kwasm_m3_config.h";
const CORE_HEADER: &str = "include/kwasm_core.h";
const UAPI_HEADER: &str = "include/uapi/kwasm.h";
const HOST_SERVICES: &str = "core/host/services.c";

/// wasm3 sources that are not part of the interpreter proper: WASI, libc
/// and tracing APIs.
fn is_interpreter_source(name: &str) -> bool {
    name.starts_with("m3_") && name.ends_with(".c") && !name.starts_with("m3_api_")
}

fn main() {
    let top =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let wasm3 = wasm3_source_dir(&top);

    println!("cargo:rerun-if-env-changed=KWASM_WASM3_SRC");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=Cargo.lock");
    for file in [M3_CONFIG, CORE_HEADER, UAPI_HEADER, HOST_SERVICES] {
        println!("cargo:rerun-if-changed={file}");
    }
    println!("cargo:rerun-if-changed={}", wasm3.display());

    let config = top.join(M3_CONFIG);
    generate_wasm3_bindings(
        &wasm3,
        &config,
        &out.join("wasm3.rs"),
        &out.join("wasm3_internal.rs"),
    );
    generate_abi_bindings(&top.join("include"), &out.join("abi.rs"));
    generate_core_bindings(&top.join(CORE_HEADER), &out.join("kwasm_core.rs"));

    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        compile_host_c(&top, &wasm3, &config);
    }
}

/// `$KWASM_WASM3_SRC`, or `<wasm3x-sys package>/wasm3/source` found with
/// `cargo metadata`.
fn wasm3_source_dir(top: &Path) -> PathBuf {
    let dir = match env::var_os("KWASM_WASM3_SRC") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => package_dir_from_metadata(top).join("wasm3/source"),
    };
    if !dir.join("wasm3.h").is_file() {
        panic!("no wasm3 sources (wasm3.h) in {}", dir.display());
    }
    dir
}

fn package_dir_from_metadata(top: &Path) -> PathBuf {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(top.join("Cargo.toml"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{} metadata`: {e}", cargo.to_string_lossy()));
    if !output.status.success() {
        panic!(
            "`cargo metadata` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let json = String::from_utf8_lossy(&output.stdout);
    let suffix = format!("/{WASM3_PACKAGE_DIR}/Cargo.toml");
    json.split("\"manifest_path\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|path| path.ends_with(&suffix))
        .and_then(|manifest| Path::new(manifest).parent().map(Path::to_path_buf))
        .unwrap_or_else(|| {
            panic!("`cargo metadata` lists no {WASM3_PACKAGE_DIR}; is it in Cargo.lock?")
        })
}

/// Clang arguments shared by every parse of wasm3's headers.
fn wasm3_clang_args(wasm3: &Path, config: &Path) -> Vec<String> {
    vec![
        format!("-I{}", wasm3.display()),
        "-include".into(),
        config.display().to_string(),
    ]
}

/// bindgen for x86_64-unknown-none would ask clang for a freestanding
/// target without libc headers; the layouts are those of the host.
fn bindgen_builder() -> bindgen::Builder {
    bindgen::builder()
        .use_core()
        .ctypes_prefix("core::ffi")
        .clang_arg("--target=x86_64-unknown-linux-gnu")
        .layout_tests(false)
        .generate_comments(false)
        .derive_debug(false)
        .derive_default(true)
        .prepend_enum_name(false)
        .default_enum_style(bindgen::EnumVariation::Consts)
}

fn generate_wasm3_bindings(wasm3: &Path, config: &Path, out: &Path, internal: &Path) {
    bindgen_builder()
        .header(wasm3.join("wasm3.h").display().to_string())
        .clang_args(wasm3_clang_args(wasm3, config))
        .allowlist_function(
            "m3_(NewEnvironment|FreeEnvironment|NewRuntime|FreeRuntime|GetMemory|GetMemorySize\
             |GetUserData|ParseModule|FreeModule|LoadModule|CompileModule|RunStart\
             |LinkRawFunctionEx|FindFunction|Call|GetResults|GetErrorInfo\
             |GetArgCount|GetRetCount|GetArgType|GetRetType|FindGlobal|GetGlobal|SetGlobal)",
        )
        .allowlist_var("m3Err_.*")
        .generate()
        .expect("bindgen failed on wasm3.h")
        .write_to_file(out)
        .expect("cannot write wasm3 bindings");
    // The three fields the packet path reads without a call (docs/WASM3.md):
    // a runtime's value stack and linear memory, a global's value. The
    // core checks these layouts against wasm3's accessors at every load.
    bindgen_builder()
        .header(wasm3.join("m3_env.h").display().to_string())
        .clang_args(wasm3_clang_args(wasm3, config))
        .allowlist_type(
            "M3Runtime|M3Global|M3MemoryHeader|M3Compilation|M3ErrorInfo|M3ImportInfo|M3CodePage",
        )
        .opaque_type(
            "M3Compilation|M3ErrorInfo|M3ImportInfo|M3Environment|M3CodePage|M3Module|M3Function",
        )
        .generate()
        .expect("bindgen failed on m3_env.h")
        .write_to_file(internal)
        .expect("cannot write wasm3's internal bindings");
}

/// Types of the ABI's macros where bindgen's choice (the smallest that
/// fits) is not the field's: errno values are i32, the type errors carry;
/// fuel budgets are u64, as in `struct kwasm_load`.
#[derive(Debug)]
struct AbiMacroTypes;

impl bindgen::callbacks::ParseCallbacks for AbiMacroTypes {
    fn int_macro(&self, name: &str, _value: i64) -> Option<bindgen::callbacks::IntKind> {
        use bindgen::callbacks::IntKind;
        let errno = name.len() > 1
            && name.starts_with('E')
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if errno {
            Some(IntKind::I32)
        } else if matches!(
            name,
            "KWASM_DEFAULT_FUEL" | "KWASM_MAX_FUEL" | "KWASM_DUMP_END"
        ) {
            Some(IntKind::U64)
        } else {
            None
        }
    }
}

/// The ABI's facts: everything of the uapi header, the netfilter hook
/// numbers and priorities it refers to, and the kernel's errno values.
fn generate_abi_bindings(include: &Path, out: &Path) {
    const WRAPPER: &str = "#include \"uapi/kwasm.h\"\n\
                           #include <linux/netfilter_ipv4.h>\n\
                           #include <asm-generic/errno.h>\n";
    bindgen_builder()
        .header_contents("kwasm_abi.h", WRAPPER)
        .clang_arg(format!("-I{}", include.display()))
        .derive_debug(true)
        .allowlist_type(
            "kwasm_(load|test_run|invoke|invoke_load|record|map_decl|map_info|map_list|map_op|map_dump|event)|nf_inet_hooks|nf_ip_hook_priorities",
        )
        .allowlist_var("KWASM_.*|NF_INET_.*|NF_IP_PRI_FIRST|NF_IP_PRI_LAST|E[A-Z0-9]+")
        .parse_callbacks(Box::new(AbiMacroTypes))
        .generate()
        .expect("bindgen failed on include/uapi/kwasm.h")
        .write_to_file(out)
        .expect("cannot write the ABI bindings");
}

/// The shim <-> core interface, without the uapi header it includes (the
/// ABI module has that).
fn generate_core_bindings(header: &Path, out: &Path) {
    bindgen_builder()
        .header(header.display().to_string())
        .clang_arg(format!("-I{}", header.parent().expect("include/").display()))
        .blocklist_file(".*/uapi/kwasm\\.h")
        .raw_line("pub use crate::abi::*;")
        .derive_debug(true)
        .allowlist_type(
            "kwasm_(pkt|prog_opts|run_result|stats|prog_info|invoke_result|events_info)",
        )
        .allowlist_var("KWASM_CORE_MAP_.*|KWASM_CORE_EVENTS_.*")
        .allowlist_function(
            "kwasm_(alloc|alloc_core|zalloc|free|heap_bytes|log|log_prog|log_trap|time_ns|cpu_id|nr_cpu_ids|cpu_possible|pkt_copy|stack_ok|locks_new|locks_free|lock_bh|unlock_bh|random_bytes|cpu_owned|on_cpu|waker_new|waker_kick|waker_free)",
        )
        .generate()
        .expect("bindgen failed on kwasm_core.h")
        .write_to_file(out)
        .expect("cannot write kwasm_core bindings");
}

/// Host build: wasm3 with the kernel's configuration, and the services.
fn compile_host_c(top: &Path, wasm3: &Path, config: &Path) {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(wasm3)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", wasm3.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(is_interpreter_source)
        })
        .collect();
    sources.sort();

    cc::Build::new()
        .files(&sources)
        .include(wasm3)
        .flag("-include")
        .flag(config.display().to_string())
        .opt_level(2)
        .warnings(false)
        .compile("wasm3");

    cc::Build::new()
        .file(top.join(HOST_SERVICES))
        .include(top.join("include"))
        .warnings(true)
        .extra_warnings(true)
        .compile("kwasm_host_services");
}
