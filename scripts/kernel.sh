#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernels kwasm is built for and tested on, by name:
#
#   6.1, 6.12    Debian's packaged kernels (scripts/debian-kernel.sh)
#   6.12-rt      Debian's PREEMPT_RT flavour of 6.12 (the same script)
#   6.12-debug   Debian's 6.12 source built with the kernel's checkers
#                (scripts/debug-kernel.sh)
#
#   scripts/kernel.sh headers NAME   -> the KDIR to build the module against
#   scripts/kernel.sh image NAME     -> a directory holding boot/vmlinuz-* or
#                                       boot/vmlinux-*, and lib/modules
#   scripts/kernel.sh list           -> the names `make check` tests by default
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
usage() { echo "usage: $0 headers|image NAME | list" >&2; exit 2; }

case ${1:-} in
list) echo "6.1 6.12 6.12-debug 6.12-rt"; exit 0 ;;
headers | image) [ $# -eq 2 ] || usage ;;
*) usage ;;
esac

case $2 in
6.12-debug) exec "$top/scripts/debug-kernel.sh" "$1" ;;
6.1 | 6.12 | 6.12-rt) exec "$top/scripts/debian-kernel.sh" "$1" "$2" ;;
*) echo "kernel.sh: unknown kernel '$2' (known: $("$0" list))" >&2; exit 2 ;;
esac
