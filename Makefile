# SPDX-License-Identifier: GPL-2.0
#
# kwasm: WebAssembly packet filters in the Linux kernel.
#
#   make                   build kwasm.ko for the running kernel
#   make KVER=NAME         build for a kernel of the test matrix: Debian's 6.1,
#                          6.12, 6.12-rt (headers fetched) or 6.12-debug (built)
#   make check             host tests, then VM tests on each of those kernels
#   make fuzz              fuzz the load path in user space (FUZZ_SECONDS per target)
#   make demo              boot a throw-away VM, load an example, show it work
#   make vm-run SCRIPT=s   run a script in a VM with the module (FILES=...)
#   make bench             figures: ns per test-run and flood rates, kwasm next to
#                          eBPF, in a VM (output also in build/bench/last.txt)
#   make ebpf              the eBPF side of the bench: bpfbench and its programs
#   make bench-compare BASE=rev  ns per test-run next to revision rev
#   make bench-breakdown     ns per test-run stopped at points along the path
#   sudo make install      install the module and kwasmctl (DESTDIR, PREFIX)
#   sudo make load         insert the module and load PROG
#   sudo make remove       unload the program and remove the module
#   make clean             remove build output (make distclean: also .cache)
#
# KWASM_STRICT=1 makes any warning of the Rust core's or the module's build
# an error (make check sets it). Without it warnings are printed with a note:
# a user's own kernel may have been built by another compiler version, and a
# newer compiler may warn where ours does not.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
.DEFAULT_GOAL := all

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

# Debian's rustc-web: a Rust with its std sources, for -Zbuild-std.
CARGO ?= /usr/bin/cargo
RUSTC ?= /usr/bin/rustc
export RUSTC
PREFIX ?= /usr/local
KWASM_STRICT ?=
PROG ?= wasm/build/log_every_n.wasm

ifdef KVER
# Fetched or built once per make run (scripts/kernel.sh), not per use.
ifeq ($(origin KDIR),undefined)
KDIR := $(shell $(TOP)/scripts/kernel.sh headers $(KVER))
endif
BUILD_NAME := $(KVER)
else
KERNELRELEASE_HOST := $(shell uname -r)
KDIR ?= /lib/modules/$(KERNELRELEASE_HOST)/build
BUILD_NAME := $(KERNELRELEASE_HOST)
endif

BUILD := $(TOP)/build/$(BUILD_NAME)
MODULE := $(BUILD)/kwasm.ko
KBUILD_ARGS = -C $(KDIR) M=$(BUILD) KWASM_SRC=$(TOP) \
	KWASM_CORE_OBJ=$(CORE_OBJ) \
	CONFIG_DEBUG_INFO_BTF_MODULES=

# $(call kwasm_warnings,<finds warnings>,<what>,<log>[,<on error>]): with
# KWASM_STRICT=1 warnings fail the build (after <on error>, which removes
# what would let the next build skip the compiler and its warnings),
# otherwise they get a note and the build goes on.
define kwasm_warnings
if $(1); then \
  if [ -n "$(KWASM_STRICT)" ]; then \
    $(if $(4),$(4);) \
    echo "error: $(strip $(2)) (see above, or $(3)); KWASM_STRICT is set"; exit 1; \
  else \
    echo "note: $(strip $(2)) (see above, or $(3))."; \
    echo "note: the build goes on: warnings are errors only with KWASM_STRICT=1 (as in make check)."; \
  fi; \
fi
endef

# ---- the Rust core, for the kernel -----------------------------------------

CORE_TARGET := x86_64-unknown-none
# The entry points the shim calls: every kwasm_core_* in the interface header.
LPAREN := (
CORE_SYMS := $(shell grep -o 'kwasm_core_[a-z_]*$(LPAREN)' $(TOP)/include/kwasm_core.h | tr -d '$(LPAREN)' | sort -u)
# What the kernel needs of code linked into it: see docs/ARCHITECTURE.md.
CORE_RUSTFLAGS := -Crelocation-model=static -Zplt=yes -Ccode-model=kernel \
	-Cforce-frame-pointers=yes -Cjump-tables=n \
	-Zretpoline-external-thunk -Zfunction-return=thunk-extern \
	-Zcf-protection=branch -Zpatchable-function-entry=16,16 \
	-Zmin-function-alignment=16 \
	-Zunstable-options -Cpanic=immediate-abort

# For a kernel with generic KASAN (the debug kernel), the core is built a
# second way, instrumented as the kernel instruments C (LLVM's
# kernel-address sanitizer, reporting through the kernel's __asan_*
# functions at its shadow offset), in its own target directory.
KASAN_SHADOW_OFFSET := $(shell grep -qsx 'CONFIG_KASAN_GENERIC=y' $(KDIR)/.config && \
	sed -n 's/^CONFIG_KASAN_SHADOW_OFFSET=//p' $(KDIR)/.config)
ifneq ($(KASAN_SHADOW_OFFSET),)
CORE_FLAVOUR := core-kasan
CORE_RUSTFLAGS += -Zsanitizer=kernel-address -Zsanitizer-recover=kernel-address \
	-Cllvm-args=-asan-mapping-offset=$(KASAN_SHADOW_OFFSET)
CORE_CARGO_DIR := $(TOP)/target/kasan
else
CORE_FLAVOUR := core
CORE_CARGO_DIR := $(TOP)/target
endif
CORE_LIB := $(CORE_CARGO_DIR)/$(CORE_TARGET)/release/libkwasm.a
CORE_BUILD := $(TOP)/build/$(CORE_FLAVOUR)
CORE_OBJ := $(CORE_BUILD)/kwasm_core.o

WASM3_SRC = $(shell $(TOP)/scripts/wasm3-src.sh)

.PHONY: all module core wasm kwasmctl ebpf vm-tools check fuzz demo bench bench-compare bench-breakdown vm-run install \
	load remove clean distclean kdir-check FORCE

all: module

core: $(CORE_OBJ)

$(CORE_LIB): FORCE | kdir-check
	@mkdir -p $(CORE_BUILD)
	RUSTC_BOOTSTRAP=1 KWASM_WASM3_SRC=$(WASM3_SRC) CARGO_TARGET_DIR=$(CORE_CARGO_DIR) \
	CARGO_TARGET_X86_64_UNKNOWN_NONE_RUSTFLAGS="$(CORE_RUSTFLAGS)" \
		$(CARGO) build --quiet --release --lib -p kwasm \
		-Zbuild-std=core,alloc --target $(CORE_TARGET) \
		2>&1 | tee $(CORE_BUILD)/cargo.log
	@$(call kwasm_warnings,grep -q '^warning' $(CORE_BUILD)/cargo.log,\
	  the Rust core build printed warnings,$(CORE_BUILD)/cargo.log)

# One relocatable object: bitcode sections the system linker cannot read
# stripped, only what the entry points reach kept (not all of
# compiler_builtins), and every symbol but the entry points made local so
# Rust's own mem* cannot override the kernel's.
$(CORE_OBJ): $(CORE_LIB)
	@mkdir -p $(dir $@)
	objcopy --remove-section=.llvmbc --remove-section=.llvmcmd $< $@.a
	ld -r --gc-sections $(addprefix -u ,$(CORE_SYMS)) -o $@.tmp $@.a
	objcopy $(addprefix --keep-global-symbol=,$(CORE_SYMS)) $@.tmp $@
	rm -f $@.a $@.tmp
	$(TOP)/scripts/check-object.sh $@

# ---- the module ------------------------------------------------------------

module: $(MODULE)

# Say what to do before spending minutes on the Rust core.
kdir-check:
	@test -f $(KDIR)/Makefile || { \
	  echo "No kernel headers in $(KDIR)."; \
	  echo "Install them (Debian: apt install linux-headers-$$(uname -r)),"; \
	  echo "build for a kernel of the test matrix with 'make KVER=NAME' (scripts/kernel.sh list),"; \
	  echo "or try kwasm in a throw-away VM with 'make demo'."; exit 1; }

$(MODULE): $(CORE_OBJ) FORCE | kdir-check
	$(TOP)/scripts/prepare-build.sh $(BUILD) $(WASM3_SRC)
	$(MAKE) $(KBUILD_ARGS) KWASM_WASM3=$(WASM3_SRC) modules 2>&1 | tee $(BUILD)/build.log
	@$(call kwasm_warnings,grep -qiE 'warning|skipping' $(BUILD)/build.log,\
	  the module build printed warnings,$(BUILD)/build.log,\
	  find $(BUILD) -name '*.o' -o -name '*.ko' | xargs rm -f)
	$(TOP)/scripts/check-object.sh $@
	@echo "built $@"

# ---- user-space tools and programs -----------------------------------------

wasm:
	$(MAKE) -C wasm CARGO=$(CARGO) RUSTC=$(RUSTC)

kwasmctl:
	$(CARGO) build --release -p kwasmctl

# ---- tests and the VM ------------------------------------------------------

check:
	KWASM_STRICT=1 $(TOP)/tests/check.sh

# cargo-fuzz (libFuzzer) on kwasm_core_prog_new and friends, each target
# FUZZ_SECONDS long; the corpus grows in fuzz/corpus/ from run to run, the
# examples seed it. See fuzz/run.sh.
FUZZ_SECONDS ?= 600
fuzz: wasm
	$(TOP)/fuzz/run.sh --seconds $(FUZZ_SECONDS)

# The eBPF programs and loader `make bench` compares kwasm with, built
# against the 6.12 kernel's libbpf (tests/bench/ebpf/Makefile).
ebpf:
	$(MAKE) -C tests/bench/ebpf OUT=$(TOP)/build/ebpf

# What a VM needs besides the module: static kwasmctl, nettool and
# kwasm-hostile, kwasm-spectest for their initramfs, the example programs.
# (The bench adds the eBPF side, make ebpf.)
vm-tools: wasm
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --quiet \
		--release --target x86_64-unknown-linux-gnu -p kwasmctl -p nettool \
		-p kwasm-hostile -p kwasm-spectest

VM_KVER := $(or $(KVER),6.12)

demo: vm-tools
	$(MAKE) KVER=$(VM_KVER) module
	$(TOP)/tests/demo.sh --kernel $(VM_KVER)

# BENCH_ARGS: e.g. --smoke, --rounds 3 (tests/bench.sh).
bench: vm-tools ebpf
	$(MAKE) KVER=$(VM_KVER) module
	$(TOP)/tests/bench.sh --kernel $(VM_KVER) $(BENCH_ARGS)

# The per-packet cost of this tree next to revision BASE, in one VM boot.
bench-compare: vm-tools
	@test -n "$(BASE)" || { echo "usage: make bench-compare BASE=<git revision> [KVER=6.12]"; exit 2; }
	$(MAKE) KVER=$(VM_KVER) module
	$(TOP)/tests/bench-compare.sh --base $(BASE) --kernel $(VM_KVER)

# Where the time of one run goes: this tree's module with cut points.
bench-breakdown: vm-tools ebpf
	$(MAKE) KVER=$(VM_KVER) module
	$(TOP)/tests/bench-breakdown.sh --kernel $(VM_KVER)

vm-run: vm-tools
	@test -n "$(SCRIPT)" || { echo "usage: make vm-run SCRIPT=file [FILES='a b'] [KVER=6.12]"; exit 2; }
	$(MAKE) KVER=$(VM_KVER) module
	$(TOP)/tests/vm/run.sh --kernel $(VM_KVER) \
		--module $(TOP)/build/$(VM_KVER)/kwasm.ko \
		--script $(SCRIPT) --files "$(FILES)"

# ---- installing on this machine --------------------------------------------

# Signing needs the key the kernel was built with; distribution headers do
# not ship it (Secure Boot users sign with their own key, see README).
SIGN_ARGS := $(if $(wildcard $(KDIR)/certs/signing_key.pem),,CONFIG_MODULE_SIG_ALL=)

# A staged install (DESTDIR) leaves depmod to whoever installs the stage.
install: module kwasmctl
	$(MAKE) $(KBUILD_ARGS) $(SIGN_ARGS) INSTALL_MOD_PATH=$(DESTDIR) modules_install
	$(if $(DESTDIR),,depmod $$(cat $(KDIR)/include/config/kernel.release))
	install -D -m 0755 target/release/kwasmctl $(DESTDIR)$(PREFIX)/bin/kwasmctl

load: module wasm kwasmctl
	@lsmod | grep -q '^kwasm ' || insmod $(MODULE)
	target/release/kwasmctl load $(PROG)
	target/release/kwasmctl status

remove:
	@if [ -e /dev/kwasm ]; then target/release/kwasmctl unload || true; fi
	@if lsmod | grep -q '^kwasm '; then rmmod kwasm; fi

clean:
	rm -rf build
	$(MAKE) -C wasm clean
	$(CARGO) clean

distclean: clean
	rm -rf .cache
