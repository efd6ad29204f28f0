/* SPDX-License-Identifier: GPL-2.0 */
/* <string.h> for wasm3: the kernel's <linux/string.h> has what it uses. */
