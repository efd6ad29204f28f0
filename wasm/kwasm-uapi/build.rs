// SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note OR MIT
//! Generates the Rust side of include/uapi/kwasm.h with bindgen: every
//! structure and constant of the header, and its ioctl request numbers
//! (evaluated by clang, see WRAPPER), so that nothing of the ABI is written
//! out a second time by hand; and netfilter's hook numbers and priorities
//! (`NF_INET_*`, `NF_IP_PRI_*`) from the kernel's user-space headers, which
//! the priority names of `names.rs` stand for.
//!
//! The kwasm core generates its own copy from the same header in the
//! top-level build.rs (no_std, for the kernel); this one is for user space.

use std::env;
use std::path::PathBuf;

use bindgen::callbacks::{EnumVariantValue, IntKind, ParseCallbacks};

const HEADER: &str = "../../include/uapi/kwasm.h";

/// The header, netfilter's hooks and priorities, and its ioctl requests
/// as enumerators: `_IOWR()` and
/// `sizeof` are beyond bindgen's macro evaluation, but clang evaluates an
/// enumerator's value. Each request gets its full number and its
/// `_IOC_NR`; the callbacks rename them to `KWASM_IOC_<X>` and
/// `KWASM_IOC_NR_<X>`.
const WRAPPER: &str = r#"
#include "uapi/kwasm.h"
#include <linux/netfilter_ipv4.h>
enum kwasm_uapi_ioc {
	kwasm_uapi_ioc_LOAD = KWASM_IOC_LOAD,
	kwasm_uapi_ioc_UNLOAD = KWASM_IOC_UNLOAD,
	kwasm_uapi_ioc_TEST_RUN = KWASM_IOC_TEST_RUN,
	kwasm_uapi_ioc_INVOKE_LOAD = KWASM_IOC_INVOKE_LOAD,
	kwasm_uapi_ioc_INVOKE = KWASM_IOC_INVOKE,
	kwasm_uapi_ioc_MAP_LIST = KWASM_IOC_MAP_LIST,
	kwasm_uapi_ioc_MAP_LOOKUP = KWASM_IOC_MAP_LOOKUP,
	kwasm_uapi_ioc_MAP_UPDATE = KWASM_IOC_MAP_UPDATE,
	kwasm_uapi_ioc_MAP_DELETE = KWASM_IOC_MAP_DELETE,
	kwasm_uapi_ioc_MAP_DUMP = KWASM_IOC_MAP_DUMP,
	kwasm_uapi_ioc_EVENTS_OPEN = KWASM_IOC_EVENTS_OPEN,
	kwasm_uapi_ioc_PROG_LIST = KWASM_IOC_PROG_LIST,
	kwasm_uapi_ioc_PROG_UNLOAD = KWASM_IOC_PROG_UNLOAD,
	kwasm_uapi_evioc_STATS = KWASM_EVENTS_IOC_STATS,
};
enum kwasm_uapi_ioc_nr {
	kwasm_uapi_ioc_nr_LOAD = _IOC_NR(KWASM_IOC_LOAD),
	kwasm_uapi_ioc_nr_UNLOAD = _IOC_NR(KWASM_IOC_UNLOAD),
	kwasm_uapi_ioc_nr_TEST_RUN = _IOC_NR(KWASM_IOC_TEST_RUN),
	kwasm_uapi_ioc_nr_INVOKE_LOAD = _IOC_NR(KWASM_IOC_INVOKE_LOAD),
	kwasm_uapi_ioc_nr_INVOKE = _IOC_NR(KWASM_IOC_INVOKE),
	kwasm_uapi_ioc_nr_MAP_LIST = _IOC_NR(KWASM_IOC_MAP_LIST),
	kwasm_uapi_ioc_nr_MAP_LOOKUP = _IOC_NR(KWASM_IOC_MAP_LOOKUP),
	kwasm_uapi_ioc_nr_MAP_UPDATE = _IOC_NR(KWASM_IOC_MAP_UPDATE),
	kwasm_uapi_ioc_nr_MAP_DELETE = _IOC_NR(KWASM_IOC_MAP_DELETE),
	kwasm_uapi_ioc_nr_MAP_DUMP = _IOC_NR(KWASM_IOC_MAP_DUMP),
	kwasm_uapi_ioc_nr_EVENTS_OPEN = _IOC_NR(KWASM_IOC_EVENTS_OPEN),
	kwasm_uapi_ioc_nr_PROG_LIST = _IOC_NR(KWASM_IOC_PROG_LIST),
	kwasm_uapi_ioc_nr_PROG_UNLOAD = _IOC_NR(KWASM_IOC_PROG_UNLOAD),
	kwasm_uapi_evioc_nr_STATS = _IOC_NR(KWASM_EVENTS_IOC_STATS),
};
"#;

/// Types where bindgen's choice (the smallest that fits) is not the
/// field's, and the names of the request enumerators.
#[derive(Debug)]
struct Callbacks;

impl ParseCallbacks for Callbacks {
    fn int_macro(&self, name: &str, _value: i64) -> Option<IntKind> {
        // Fuel budgets are u64, as kwasm_load.fuel and kwasm_test_run.fuel.
        matches!(
            name,
            "KWASM_DEFAULT_FUEL" | "KWASM_MAX_FUEL" | "KWASM_DUMP_END"
        )
        .then_some(IntKind::U64)
    }

    fn enum_variant_name(
        &self,
        _enum_name: Option<&str>,
        name: &str,
        _value: EnumVariantValue,
    ) -> Option<String> {
        // Requests on an events file: KWASM_EVENTS_IOC_<X>.
        if let Some(req) = name.strip_prefix("kwasm_uapi_evioc_nr_") {
            return Some(format!("KWASM_EVENTS_IOC_NR_{req}"));
        }
        if let Some(req) = name.strip_prefix("kwasm_uapi_evioc_") {
            return Some(format!("KWASM_EVENTS_IOC_{req}"));
        }
        if let Some(req) = name.strip_prefix("kwasm_uapi_ioc_nr_") {
            Some(format!("KWASM_IOC_NR_{req}"))
        } else {
            name.strip_prefix("kwasm_uapi_ioc_")
                .map(|req| format!("KWASM_IOC_{req}"))
        }
    }
}

fn main() {
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let header = dir.join(HEADER);
    let include = header
        .parent()
        .and_then(|uapi| uapi.parent())
        .expect("include/uapi/kwasm.h");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it")).join("kwasm.rs");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", header.display());

    bindgen::builder()
        .header_contents("kwasm_uapi.h", WRAPPER)
        .clang_arg(format!("-I{}", include.display()))
        .allowlist_type("kwasm_.*|nf_inet_hooks|nf_ip_hook_priorities")
        .allowlist_var("KWASM_.*")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .derive_default(true)
        .derive_debug(true)
        .layout_tests(true)
        .generate_comments(false)
        .parse_callbacks(Box::new(Callbacks))
        .generate()
        .expect("bindgen failed on include/uapi/kwasm.h")
        .write_to_file(&out)
        .expect("cannot write the bindings");
}
