#!/bin/sh
# tests/run.sh BUILD - run every unit test binary, every fuzz target over its
# corpus (tests/fuzz/corpus/NAME), and every integration test; count
# PASS/FAIL/SKIP lines, print "N passed, N failed, N skipped" last.
# A test program that exits non-zero without printing a FAIL line counts as
# one failure (a crash is never silent).
#
# Slow integration tests (tests/integration/test_slow_*.py: minutes of a
# slow client, mostly asleep) start in the background before everything
# else and run alongside it; their results are collected at the end. Each
# must use port bases no other test uses. Time limits: 600 s for a test
# program, SLOW_TIMEOUT for a slow one.
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
PY=/usr/bin/python3
: "${POSTERN_BIN:=$top/bin}"
export POSTERN_BIN
SLOW_TIMEOUT=1200
log=$(mktemp -d /tmp/postern-test.XXXXXX)
chmod 755 "$log"
pass=0
fail=0
skipped=0

out_of() {
	echo "$log/$(echo "$1" | tr '/' '_').out"
}

# Count the PASS/FAIL/SKIP lines of one finished test program: its name,
# its exit status, the time it started.
collect() {
	name=$1 rc=$2 start=$3
	out=$(out_of "$name")
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	s=$(grep -c '^SKIP ' "$out")
	ff=$(grep -c '^FAIL .*:[0-9][0-9]*: ' "$out")
	f=$((f - ff))
	# as root every dependency is installed and every test can run: a
	# skip there hides a test that silently stopped testing
	if [ "$s" -gt 0 ] && [ "$(id -u)" -eq 0 ]; then
		echo "FAIL $name: $s test(s) skipped in a run as root" >>"$out"
		f=$((f + 1))
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exit status $rc without a FAIL line" >>"$out"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	skipped=$((skipped + s))
	secs=$(( $(date +%s) - start ))
	sk=""
	[ "$s" -gt 0 ] && sk=", $s skipped"
	if [ "$f" -gt 0 ]; then
		echo "== $name: $p passed, $f failed$sk (${secs}s)"
		grep -E '^FAIL|fatal|panic|ERROR|Traceback|AddressSanitizer|runtime error' "$out" | head -40
	else
		echo "== $name: $p passed$sk (${secs}s)"
	fi
	grep '^SKIP ' "$out" | head -10
}

run_one() {
	name=$1; shift
	start=$(date +%s)
	timeout 600 "$@" >"$(out_of "$name")" 2>&1
	collect "$name" $? "$start"
}

# start the slow ones: a background job each, its exit status in NAME.rc
slow=""
slow_start=$(date +%s)
for t in tests/integration/test_slow_*.py; do
	[ -f "$t" ] || continue
	name="integration/$(basename "$t" .py)"
	out=$(out_of "$name")
	( timeout "$SLOW_TIMEOUT" "$PY" "$t" >"$out" 2>&1; echo $? >"$out.rc" ) &
	slow="$slow $name"
	echo "== $name: started in the background"
done

for src in tests/unit/test_*.c; do
	n=$(basename "$src" .c)
	run_one "unit/$n" "$build/tests/$n"
done
# by source, so that a stale binary of a renamed target is not run
for src in tests/fuzz/fuzz_*.c; do
	n=$(basename "$src" .c)
	run_one "fuzz/$n" "$build/tests/$n" "tests/fuzz/corpus/$n"
done
for t in tests/integration/test_*.py; do
	[ -f "$t" ] || continue
	case $(basename "$t") in test_slow_*) continue ;; esac
	run_one "integration/$(basename "$t" .py)" "$PY" "$t"
done

# collect the slow ones (each is bounded by SLOW_TIMEOUT)
[ -n "$slow" ] && echo "== waiting for the slow tests:$slow"
wait
for name in $slow; do
	out=$(out_of "$name")
	rc=$(cat "$out.rc" 2>/dev/null || echo 1)
	collect "$name" "$rc" "$slow_start"
done
echo "logs in $log"
echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
