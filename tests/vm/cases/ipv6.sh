#!/bin/sh
# IPv6: programs attached to ipv6 or inet (kwasmctl load --family) see
# IPv6 traffic, and only the families they are attached to; ports are
# found past extension headers on real traffic (nettool --dstopts), also
# past the record's snap length; traffic crossing a veth link from another
# network namespace is filtered; the load refuses programs that cannot
# tell the families apart; test-run builds IPv6 packets.
# vm-modules: veth
. /lib.sh

module_load || fail "module loads"
port=23557 other=23559

for p in $port $other; do
	for a in "[::1]" 127.0.0.1; do
		expect_ok nettool tcp-echo-server "$a:$p" --daemon
		expect_ok nettool udp-echo-server "$a:$p" --daemon
	done
done

# passes / blocked <tcp|udp> <ADDR:PORT> [nettool options]: whether the
# echo gets through; blocked means it times out.
passes() {
	_proto=$1 _addr=$2
	shift 2
	expect_ok nettool "$_proto-echo" "$_addr" --timeout-ms 2000 "$@"
}

blocked() {
	_proto=$1 _addr=$2
	shift 2
	if _out=$(nettool "$_proto-echo" "$_addr" --timeout-ms 1000 "$@" 2>&1); then
		fail "$_proto to $_addr $* is blocked, but: $_out"
	elif printf '%s' "$_out" | grep -q ': timeout$'; then
		pass "$_proto to $_addr $* is blocked: $_out"
	else
		fail "$_proto to $_addr $* should time out: $_out"
	fi
}

# family_rule <family number> <file>: a record version 2 program dropping
# TCP and UDP to $port of that family only (2 IPv4, 10 IPv6).
family_rule() {
	cat >"$2" <<EOF
(module (@custom "kwasm.record" "\\02") (memory (export "memory") 1)
  (func (export "kwasm_alloc") (param i32) (result i32) (i32.const 64))
  (func (export "kwasm_filter") (param \$ctx i32) (param \$len i32) (result i32)
    (if (i32.ne (i32.load8_u offset=29 (local.get \$ctx)) (i32.const $1))
      (then (return (i32.const 1))))
    (if (i32.eqz (i32.and (i32.load16_u offset=38 (local.get \$ctx)) (i32.const 1)))
      (then (return (i32.const 1))))
    (i32.ne (i32.load16_u offset=34 (local.get \$ctx)) (i32.const $port))))
EOF
}

# ---- before any program: both families pass ----
for proto in tcp udp; do
	passes $proto "[::1]:$port"
	passes $proto "127.0.0.1:$port"
done

# ---- dual_stack attached to ipv6 only: IPv6 dropped, IPv4 not seen ----
dmesg -c >/dev/null
load_prog /wasm/dual_stack.wasm --family ipv6
blocked tcp "[::1]:$port"
blocked udp "[::1]:$port"
passes tcp "[::1]:$other"
passes udp "[::1]:$other"
passes tcp "127.0.0.1:$port"
passes udp "127.0.0.1:$port"
expect_dmesg "kwasm: [^ ]+: drop #1: (tcp|udp) \\[::1\\]:[0-9]+ -> \\[::1\\]:$port" \
	"dual_stack logs an IPv6 drop with its addresses"
check "/proc/kwasm: family ipv6" [ "$(status_field family)" = ipv6 ]
check "/proc/kwasm: record version 3" [ "$(status_field record_version)" = 3 ]
dropped=$(status_field dropped)
check "the drops are counted (dropped $dropped)" [ "${dropped:-0}" -ge 2 ]

# ---- attached to inet: both families ----
load_prog /wasm/dual_stack.wasm --family inet
for proto in tcp udp; do
	blocked $proto "[::1]:$port"
	blocked $proto "127.0.0.1:$port"
	passes $proto "[::1]:$other"
	passes $proto "127.0.0.1:$other"
done

# ---- inet with a rule of one family: the other family passes ----
family_rule 10 /tmp/v6_rule.wat
load_prog /tmp/v6_rule.wat --family inet
blocked udp "[::1]:$port"
blocked tcp "[::1]:$port"
passes udp "127.0.0.1:$port"
passes tcp "127.0.0.1:$port"
family_rule 2 /tmp/v4_rule.wat
load_prog /tmp/v4_rule.wat --family inet
blocked udp "127.0.0.1:$port"
blocked tcp "127.0.0.1:$port"
passes udp "[::1]:$port"
passes tcp "[::1]:$port"

# ---- ports past a destination options header on real traffic ----
# A program that drops UDP to $port only past an extension header
# (l4_off > 40): a datagram with one is dropped, so the kernel sent it
# with the header and the core found the port behind it; one of 264 bytes
# puts the port past the record's 256 captured bytes.
cat >/tmp/past_ext.wat <<EOF
(module (@custom "kwasm.record" "\\02") (memory (export "memory") 1)
  (func (export "kwasm_alloc") (param i32) (result i32) (i32.const 64))
  (func (export "kwasm_filter") (param \$ctx i32) (param \$len i32) (result i32)
    (if (i32.ne (i32.load8_u offset=29 (local.get \$ctx)) (i32.const 10))
      (then (return (i32.const 1))))
    (if (i32.le_u (i32.load16_u offset=36 (local.get \$ctx)) (i32.const 40))
      (then (return (i32.const 1))))
    (if (i32.eqz (i32.and (i32.load16_u offset=38 (local.get \$ctx)) (i32.const 1)))
      (then (return (i32.const 1))))
    (i32.ne (i32.load16_u offset=34 (local.get \$ctx)) (i32.const $port))))
EOF
load_prog /tmp/past_ext.wat --family ipv6
passes udp "[::1]:$port"
blocked udp "[::1]:$port" --dstopts 16
blocked udp "[::1]:$port" --dstopts 264
passes udp "[::1]:$other" --dstopts 16
passes udp "[::1]:$other" --dstopts 264
# dual_stack drops by the port alone: with or without the header.
load_prog /wasm/dual_stack.wasm --family ipv6
blocked udp "[::1]:$port" --dstopts 8
passes udp "[::1]:$other" --dstopts 8

# ---- test-run: IPv6 packets built and given as hex ----
ds=/wasm/dual_stack.wasm
expect_verdict drop --prog $ds --proto tcp --src "[2001:db8::1]:40000" --dst "[::1]:$port"
expect_verdict drop --prog $ds --proto udp --src "[2001:db8::1]:40000" --dst "[::1]:$port"
expect_verdict accept --prog $ds --proto tcp --src "[2001:db8::1]:40000" --dst "[::1]:$other"
expect_verdict accept --prog $ds --proto icmp --src ::1 --dst ::1
# UDP [::1]:40000 -> [::1]:PORT behind 8 bytes of destination options
# (next header 60, then 17).
dst_opts_pkt() {
	printf '60000000 0018 3c 40\n'
	printf '00000000000000000000000000000001\n'
	printf '00000000000000000000000000000001\n'
	printf '11 00 01 04 00000000 # destination options: UDP next\n'
	printf '9c40 %04x 0010 0000 0000000000000000\n' "$1"
}
dst_opts_pkt $port >/tmp/dst_port.hex
dst_opts_pkt $other >/tmp/dst_other.hex
expect_verdict drop --prog $ds --packet /tmp/dst_port.hex
expect_verdict accept --prog $ds --packet /tmp/dst_other.hex

# ---- the load refuses what cannot tell the families apart ----
expect_fail_naming EINVAL "declare record version 2 or 3" \
	kwasmctl load /wasm/drop_port_v1.wasm --family ipv6 --name test
expect_fail_naming EINVAL "original ABI" \
	kwasmctl load /wasm/orig_drop_port.wasm --family inet --name test
# The refused loads left dual_stack in place.
check "dual_stack still loaded" loaded_is /wasm/dual_stack.wasm
expect_ok kwasmctl unload

# ---- across a veth link from another network namespace ----
# The server is in this namespace at fd00::1, the client in a namespace
# of its own at fd00::2; the program here sees the requests at
# pre-routing, coming in through v0.
echo 0 >/proc/sys/net/ipv6/conf/default/accept_dad
# A module of the Debian kernels, built into the debug kernel.
if ! zcat /proc/config.gz 2>/dev/null | grep -qx 'CONFIG_VETH=y'; then
	expect_ok modprobe veth
fi
expect_ok ip link add v0 type veth
unshare -n sh -c "echo \$\$ >/tmp/peer.pid; exec sleep 100000" &
wait_for '[ -s /tmp/peer.pid ]' 10
peer=$(cat /tmp/peer.pid)
in_peer() { nsenter -t "$peer" -n "$@"; }
expect_ok ip link set veth0 netns "$peer"
expect_ok ip addr add fd00::1/64 dev v0
expect_ok ip link set v0 up
in_peer sh -c 'echo 0 >/proc/sys/net/ipv6/conf/veth0/accept_dad'
expect_ok in_peer ip link set lo up
expect_ok in_peer ip addr add fd00::2/64 dev veth0
expect_ok in_peer ip link set veth0 up
for p in $port $other; do
	expect_ok nettool udp-echo-server "[fd00::1]:$p" --daemon
	expect_ok nettool tcp-echo-server "[fd00::1]:$p" --daemon
done
# The link is up and no address is tentative when an echo gets through.
check "the veth link carries IPv6" wait_for \
	"in_peer nettool udp-echo '[fd00::1]:$port' --timeout-ms 500" 20
v0_index=$(cat /sys/class/net/v0/ifindex)
load_prog /wasm/dual_stack.wasm --family ipv6
peer_blocked() { # peer_blocked <tcp|udp> <ADDR:PORT> [options]: from the peer
	_proto=$1 _addr=$2
	shift 2
	if _out=$(in_peer nettool "$_proto-echo" "$_addr" --timeout-ms 1000 "$@" 2>&1); then
		fail "$_proto from the peer to $_addr $* is blocked, but: $_out"
	elif printf '%s' "$_out" | grep -q ': timeout$'; then
		pass "$_proto from the peer to $_addr $* is blocked: $_out"
	else
		fail "$_proto from the peer to $_addr $* should time out: $_out"
	fi
}
peer_blocked tcp "[fd00::1]:$port"
peer_blocked udp "[fd00::1]:$port"
expect_ok in_peer nettool tcp-echo "[fd00::1]:$other" --timeout-ms 2000
expect_ok in_peer nettool udp-echo "[fd00::1]:$other" --timeout-ms 2000
expect_ok in_peer nettool udp-echo "[fd00::1]:$other" --timeout-ms 2000 --dstopts 16
peer_blocked udp "[fd00::1]:$port" --dstopts 16
# The record names the interface the requests came in by.
cat >/tmp/by_iface.wat <<EOF
(module (@custom "kwasm.record" "\\02") (memory (export "memory") 1)
  (func (export "kwasm_alloc") (param i32) (result i32) (i32.const 64))
  (func (export "kwasm_filter") (param \$ctx i32) (param \$len i32) (result i32)
    (i32.ne (i32.load offset=16 (local.get \$ctx)) (i32.const $v0_index))))
EOF
load_prog /tmp/by_iface.wat --family ipv6
peer_blocked udp "[fd00::1]:$other"
passes udp "[::1]:$other"
expect_ok kwasmctl unload
expect_ok in_peer nettool udp-echo "[fd00::1]:$port" --timeout-ms 2000
kill "$peer" 2>/dev/null
finish
