// SPDX-License-Identifier: GPL-2.0
//! With the feature `core`: bindings of the core's C interface,
//! include/kwasm_core.h (its kwasm_core_* functions and their types), the
//! uapi header's part taken from kwasm-uapi. Nothing to do without it.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "core")]
    core_bindings();
}

#[cfg(feature = "core")]
fn core_bindings() {
    use std::env;
    use std::path::PathBuf;

    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let include = dir.join("../../include");
    let header = include.join("kwasm_core.h");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it")).join("kwasm_core.rs");
    println!("cargo:rerun-if-changed={}", header.display());

    bindgen::builder()
        .header(header.display().to_string())
        .clang_arg(format!("-I{}", include.display()))
        // The ABI's structures and constants are kwasm-uapi's.
        .blocklist_file(".*/uapi/kwasm\\.h")
        .raw_line("pub use kwasm_uapi::*;")
        .allowlist_type(
            "kwasm_(pkt|prog_opts|run_result|stats|prog_info|invoke_result|events_info)",
        )
        .allowlist_var("KWASM_CORE_EVENTS_.*")
        .allowlist_function("kwasm_core_.*")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .derive_default(true)
        .derive_debug(true)
        .layout_tests(true)
        .generate_comments(false)
        .generate()
        .expect("bindgen failed on include/kwasm_core.h")
        .write_to_file(&out)
        .expect("cannot write the bindings");
}
