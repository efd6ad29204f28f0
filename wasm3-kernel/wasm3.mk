# SPDX-License-Identifier: GPL-2.0
#
# Kbuild fragment, included by the top-level Kbuild: wasm3's unmodified
# sources ($(KWASM_WASM3)/*.c, linked into wasm3/ of the build directory)
# and their kernel port (wasm3-kernel/*.c).

# The interpreter proper: the opcodes (m3_exec.h) are compiled into
# m3_compile.o, m3_exec.c is empty; m3_info.c only for m3_PrintProfilerInfo(),
# which m3_FreeRuntime() calls. Left out: WASI, uvwasi, the libc and tracer
# APIs; kwasm offers its own host functions.
kwasm-m3-objs := m3_bind m3_code m3_compile m3_core m3_env m3_function \
		 m3_info m3_module m3_parse m3_validate

kwasm-y += $(addprefix wasm3/,$(addsuffix .o,$(kwasm-m3-objs)))
kwasm-y += wasm3-kernel/kwasm_m3_alloc.o wasm3-kernel/kwasm_m3_libgcc.o

# kwasm_m3_compat.h for every object of the module (the shim's too), and
# kwasm_m3_libc.h for the port's own.
ccflags-y += -I$(KWASM_SRC)/wasm3-kernel

# wasm3 objects only:
# - kwasm_m3_libc.h pulls in every kernel header first, then the stub libc
#   headers of include/ serve wasm3's #include <...>;
# - kwasm_m3_config.h is the configuration shared with the host build;
# - wasm3's own "..." includes resolve against its source directory, since
#   the build directory only holds links to the .c files;
# - wasm3 dispatches each opcode to the next by a call in tail position and
#   relies on it being a jump; without -foptimize-sibling-calls (the kernel
#   turns it off when it builds with frame pointers) every executed opcode
#   would take a stack frame;
# - the kernel builds without variable-length arrays (-Wvla): declaring that
#   this compiler has none makes wasm3 use its fixed-size fallback.
kwasm-m3-cflags := \
	-include $(KWASM_SRC)/wasm3-kernel/kwasm_m3_libc.h \
	-include $(KWASM_SRC)/wasm3-kernel/kwasm_m3_config.h \
	-I$(KWASM_SRC)/wasm3-kernel/include \
	-I$(KWASM_WASM3) \
	-foptimize-sibling-calls \
	-D__STDC_NO_VLA__=1

# Per-object flags are named by the object's path in the build directory.
$(foreach o,$(kwasm-m3-objs),$(eval CFLAGS_wasm3/$(o).o := $(kwasm-m3-cflags)))

# With d_m3HasFloat=0 nothing calls the conversion compiler.
CFLAGS_wasm3/m3_compile.o += -Wno-unused-function
# ReportNativeStackUsage() is defined "()", old style (the kernel makes that
# an error); its body is empty unless d_m3LogNativeStack.
CFLAGS_wasm3/m3_env.o += -Wno-strict-prototypes
# These define internal helpers with external linkage and no declaration in a
# header (6.12 warns with -Wmissing-prototypes -Wmissing-declarations).
$(foreach o,m3_bind m3_code m3_compile m3_env m3_module m3_parse,\
	$(eval CFLAGS_wasm3/$(o).o += -Wno-missing-prototypes \
				     -Wno-missing-declarations))
