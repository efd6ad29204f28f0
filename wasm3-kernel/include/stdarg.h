/* SPDX-License-Identifier: GPL-2.0 */
/* <stdarg.h> for wasm3: the kernel's <linux/stdarg.h> defines va_list. */
