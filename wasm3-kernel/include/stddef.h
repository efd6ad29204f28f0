/* SPDX-License-Identifier: GPL-2.0 */
/* <stddef.h> for wasm3: size_t, NULL and offsetof come from the kernel. */
