;; SPDX-License-Identifier: MIT OR Apache-2.0
;;
;; drop_icmp: drops ICMP packets (so `ping` stops working), accepts the rest.
;; Written in the WebAssembly text format: kwasmctl loads this file as is,
;; `make -C wasm` also converts it to build/drop_icmp.wasm.
;;
;; The program asks the kernel for the protocol through a host function, so it
;; needs no memory and exports no kwasm_alloc: it is called with ctx = len = 0.
(module
  (import "kwasm" "pkt_protocol" (func $pkt_protocol (result i32)))

  (func (export "kwasm_filter") (param $ctx i32) (param $len i32) (result i32)
    ;; 1 is IPPROTO_ICMP; verdicts: 0 drop, 1 accept.
    (i32.ne (call $pkt_protocol) (i32.const 1))))
