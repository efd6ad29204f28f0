/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <stdio.h> for wasm3: snprintf() and vsnprintf() are the kernel's. wasm3
 * prints to streams only with DEBUG or its d_m3Log* options, all off.
 */
