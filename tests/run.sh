#!/bin/sh
# tests/run.sh BUILD - run every unit test binary and integration test,
# count PASS/FAIL lines, print "N passed, N failed" last.
# A test program that exits non-zero without printing a FAIL line counts as
# one failure (a crash is never silent).
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
PY=/usr/bin/python3
: "${POSTERN_BIN:=$top/bin}"
export POSTERN_BIN
log=$(mktemp -d /tmp/postern-test.XXXXXX)
chmod 755 "$log"
pass=0
fail=0

run_one() {
	name=$1; shift
	out=$log/$(echo "$name" | tr '/' '_').out
	start=$(date +%s)
	timeout 600 "$@" >"$out" 2>&1
	rc=$?
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	ff=$(grep -c '^FAIL .*:[0-9][0-9]*: ' "$out")
	f=$((f - ff))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exit status $rc without a FAIL line" >>"$out"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	secs=$(( $(date +%s) - start ))
	if [ "$f" -gt 0 ]; then
		echo "== $name: $p passed, $f failed (${secs}s)"
		grep -E '^FAIL|fatal|panic|ERROR|Traceback|AddressSanitizer|runtime error' "$out" | head -40
	else
		echo "== $name: $p passed (${secs}s)"
	fi
}

for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done
for t in tests/integration/test_*.py; do
	[ -f "$t" ] || continue
	run_one "integration/$(basename "$t" .py)" "$PY" "$t"
done
echo "logs in $log"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
