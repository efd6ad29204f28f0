#!/bin/sh
# A program that returns neither 0 nor 1, or traps, gets its default verdict
# (accept unless loaded with --default drop) and is counted as invalid or by
# trap kind; the kernel survives every kind of trap.
. /lib.sh

module_load || fail "module loads"
expect_ok nettool tcp-echo-server 127.0.0.1:23557 --daemon
expect_ok nettool tcp-echo-server 127.0.0.1:23559 --daemon
syn="--proto tcp --src 10.0.0.1:40000 --dst 127.0.0.1:80"

# expect_run <verdict> <outcome> <trap|-> <test-run options...>: a test run
# ends with that outcome and trap, and gives that verdict.
expect_run() {
	_want="$1/$2/$3"
	shift 3
	_out=$(kwasmctl test-run "$@" 2>&1)
	_got=$(printf '%s\n' "$_out" | sed -n 's/^verdict: //p')
	_got="$_got/$(printf '%s\n' "$_out" | sed -n 's/^outcome: //p')"
	_got="$_got/$(printf '%s\n' "$_out" | sed -n 's/^trap: //p')"
	if [ "$_got" = "$_want" ]; then
		pass "test-run $* -> $_want"
	else
		fail "test-run $*: wanted $_want, got $_got"
		printf '%s\n' "$_out" | sed 's/^/    /'
	fi
}

# expect_counted <n> <counter...>: each counter went up by exactly n since
# remember_counters (nothing else runs the program meanwhile).
remember_counters() {
	for _c in runs accepted dropped invalid traps "$@"; do
		eval "_before_$(echo "$_c" | tr . _)=$(status_field "$_c")"
	done
}

expect_counted() {
	_n=$1
	shift
	for _c in "$@"; do
		eval "_was=\$_before_$(echo "$_c" | tr . _)"
		_now=$(status_field "$_c")
		check "$_c went up by $_n ($_was -> $_now)" \
			[ "$((_now - _was))" -eq "$_n" ]
	done
}

# misbehaves <fixture> <outcome> <trap|->: the fixture's outcome on test
# runs, its default verdict and counters on the loaded program, and on real
# traffic.
misbehaves() {
	_prog=/fixtures/$1.wat
	_counter=invalid
	_kind=invalid
	[ "$3" = - ] || { _counter=trap.$3; _kind="traps $_counter"; }
	expect_run accept "$2" "$3" --prog "$_prog" $syn

	load_prog "$_prog"
	check "$1: default: accept" [ "$(status_field default)" = accept ]
	tcp_passes 23557

	load_prog "$_prog" --default drop
	check "$1: default: drop" [ "$(status_field default)" = drop ]
	remember_counters $_kind
	expect_run drop "$2" "$3" $syn --repeat 10
	expect_counted 10 runs dropped $_kind
	expect_counted 0 accepted
	tcp_blocked 23557
	eval "_was=\$_before_$(echo "$_counter" | tr . _)"
	check "$1: real traffic counted ($_counter $(status_field "$_counter"))" \
		counter_above "$_counter" $((_was + 10))
}

misbehaves ret7 invalid -
tcp_blocked 23559
misbehaves trap_unreachable trap unreachable
misbehaves div0 trap divide_by_zero
misbehaves div_overflow trap integer_overflow
misbehaves recurse trap stack_overflow
misbehaves log_bad_ptr trap host

# Only the quotient overflows: INT_MIN rem -1 is 0, no trap.
expect_run accept ok - --prog /fixtures/rem_overflow.wat $syn

# A well-behaved program after all that: nothing is left over.
load_prog /wasm/accept_all.wasm
check "the trap counters start at 0 again" [ "$(status_field traps)" = 0 ]
tcp_passes 23557
finish
