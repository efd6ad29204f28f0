/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wasm3 configuration shared by every build of wasm3 in kwasm: the kernel
 * build (Kbuild), the host build for `cargo test` (build.rs, cc) and the
 * bindgen run. It is force-included before wasm3's own m3_config.h, whose
 * defaults are all "#ifndef" guarded, so one file decides for all three.
 */
#ifndef KWASM_M3_CONFIG_H
#define KWASM_M3_CONFIG_H

/* No floating point in the kernel: float opcodes are not compiled in. */
#define d_m3HasFloat			0
#define d_m3NoFloatDynamic		0

/*
 * Keep compiler frames small: with wasm3's defaults some functions have
 * 27-40 KB stack frames, and kernel stacks are 16 KiB.
 */
#define d_m3MaxFunctionStackHeight	128
#define d_m3MaxFunctionSlots		256

/*
 * Block nesting depth the validator accepts (m3_config.h's default for the
 * stack height above, spelled out). It also bounds the compiler's recursion,
 * ~330 bytes of kernel stack per level at load time. A C switch compiles to
 * one nested block per case: larger ones are rejected.
 */
#define d_m3ValCtrlDepth		16

/*
 * KASAN's redzones make stack frames about twice as large; the kernel
 * doubles its own stacks under KASAN (x86: KASAN_STACK_ORDER), and kwasm
 * scales its stack budgets the same way (the debug kernel of the tests).
 */
#if defined(__KERNEL__) && defined(CONFIG_KASAN)
#define KWASM_STACK_SCALE		2
#else
#define KWASM_STACK_SCALE		1
#endif

/*
 * Native stack budget of one call into wasm3, counted from the outermost
 * m3_Call*() frame. Every wasm call (op_Call, op_CallIndirect) checks it and
 * returns m3Err_trapStackOverflow ("[trap] stack overflow") once past it,
 * instead of running off the kernel stack: unbounded recursion in a
 * program is a trap, not a panic. 6 KiB leave room on a 16 KiB stack (task
 * or IRQ) for the frames of the netfilter path above the call and, below
 * the limit, for the last function's loops, a host call and interrupts.
 */
#define d_m3MaxNativeStack		(6 * 1024 * KWASM_STACK_SCALE)

/* No host printf tracing, no WASI, no extra proposals we do not offer. */
#define d_m3LogOutput			0
#define d_m3HasWASI			0
#define d_m3HasMetaWASI			0
#define d_m3HasUVWASI			0
#define d_m3HasTracer			0
#define d_m3RecordBacktraces		0
#define d_m3VerboseErrorMessages	1

/* Heap from malloc() (m3_config.h's default, "false", trips -Wundef). */
#define d_m3FixedHeap			0

/* Code pages are allocated with the kernel allocator: keep them small. */
#define d_m3CodePageAlignSize		4096

/*
 * Linear memory of one instance, in 64 KiB pages: 16 MiB. There is one
 * instance per possible CPU; a module asking for more initial memory fails
 * to load, and memory.grow past it returns -1.
 */
#define d_m3MaxLinearMemoryPages	256

#endif /* KWASM_M3_CONFIG_H */
