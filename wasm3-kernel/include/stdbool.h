/* SPDX-License-Identifier: GPL-2.0 */
/* <stdbool.h> for wasm3: bool, true and false are the kernel's. */
