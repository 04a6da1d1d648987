#!/bin/sh
# bench/imaptest.sh HOST PORT USER PASSWORD - run Dovecot's imaptest
# compliance scripts against an IMAP server and print pass/fail counts.
# bench/imaptest.sh --dovecot - the same against a fresh private Dovecot
# (bench/imap-lib.sh, an empty Maildir): the reference score.
#
# Local runs only: imaptest is not in Debian; build it first with
# bench/imaptest-build.sh (see bench/README.md). The scripts are
# destructive for the test mailbox (INBOX of USER: its messages are
# deleted, test mailboxes created and deleted): use a user of its own.
# LOGIN is sent in clear text, so the server must allow that from
# loopback.
#
# Runs `imaptest host=HOST port=PORT user=USER pass=PASSWORD test=TESTS`
# (imaptest's scripted mode: each script appends its .mbox, runs its
# commands and compares the answers) and prints
#
#   imaptest groups=71 groups_failed=F skipped=S base_failed=B/BT ext_failed=E/ET
#
# then one line per failed group ("failed: NAME (n commands)"). The full
# output is kept in OUT (default /var/tmp/imaptest-HOST-PORT.log). With
# STRESS_SECS=N also imaptest's stress mode for N seconds (random commands
# from several clients, checked against its model of the mailbox state):
# "imaptest stress secs=N errors=E" (the messages it appends come from
# STRESS_MBOX, default the scripts' default.mbox).
#
# Environment: IMAPTEST (/work/imaptest/bin/imaptest), IMAPTEST_TESTS
# (/work/imaptest/tests), TESTS (names of scripts to run, default all),
# TIMEOUT (600 s), DC_PORT (20243) and DC_POP3_PORT (20211) for --dovecot.
# Exit 0 if nothing failed, 1 if something did, 2 on a usage or setup error.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/lib.sh"
. "$BENCH_DIR/pop3-lib.sh"
. "$BENCH_DIR/imap-lib.sh"

IMAPTEST=${IMAPTEST:-/work/imaptest/bin/imaptest}
IMAPTEST_TESTS=${IMAPTEST_TESTS:-/work/imaptest/tests}
TIMEOUT=${TIMEOUT:-600}
usage() { warn "usage: sh bench/imaptest.sh HOST PORT USER PASSWORD | --dovecot"; exit 2; }
[ -x "$IMAPTEST" ] || { warn "imaptest: $IMAPTEST is missing; build it with bench/imaptest-build.sh (bench/README.md)"; exit 2; }
[ -d "$IMAPTEST_TESTS" ] || { warn "imaptest: no scripts in $IMAPTEST_TESTS"; exit 2; }

dc="" tdir="" tpl=""
final() {
	[ -n "$dc" ] && { dc_stop "$dc"; rm -rf "$dc"; }
	[ -n "$tpl" ] && rm -rf "$tpl"
	[ -n "$tdir" ] && rm -rf "$tdir"
	dc="" tpl="" tdir=""
}
trap 'final; exit 130' INT TERM HUP PIPE
trap final EXIT

if [ "${1:-}" = --dovecot ]; then
	[ "$(id -u)" -eq 0 ] || { warn "imaptest: --dovecot needs root"; exit 2; }
	[ -x "$DOVECOT" ] && [ -x /usr/lib/dovecot/imap ] || { warn "imaptest: Dovecot's imap is missing: sh bench/deps.sh"; exit 2; }
	tpl=$(mktemp -d "$BENCH_TMP/postern-imaptest-maildir.XXXXXX") || exit 2
	mkdir "$tpl/new" "$tpl/cur" "$tpl/tmp"
	dc=$(mktemp -d "$BENCH_TMP/postern-imaptest-dovecot.XXXXXX") || exit 2
	dci_setup "$dc" "${DC_PORT:-20243}" "${DC_POP3_PORT:-20211}" "$tpl"
	dci_start "$dc"
	host=127.0.0.1 port=$dc_port user=$IMAP_USER pass=$IMAP_PASS
	say "# imaptest against a private $("$DOVECOT" --version | sed 's/^/Dovecot /') on 127.0.0.1:$port"
else
	[ $# -eq 4 ] || usage
	host=$1 port=$2 user=$3 pass=$4
fi

tests=$IMAPTEST_TESTS
if [ -n "${TESTS:-}" ]; then
	tdir=$(mktemp -d "$BENCH_TMP/postern-imaptest-tests.XXXXXX") || exit 2
	for t in $TESTS; do
		[ -f "$IMAPTEST_TESTS/$t" ] || { warn "imaptest: no script $t"; exit 2; }
		cp "$IMAPTEST_TESTS/$t" "$tdir/"
		[ -f "$IMAPTEST_TESTS/$t.mbox" ] && cp "$IMAPTEST_TESTS/$t.mbox" "$tdir/"
	done
	# scripts without their own .mbox append default.mbox
	cp "$IMAPTEST_TESTS/default.mbox" "$tdir/"
	tests=$tdir
fi

out=${OUT:-$BENCH_TMP/imaptest-$host-$port.log}
timeout "$TIMEOUT" "$IMAPTEST" host="$host" port="$port" user="$user" pass="$pass" test="$tests" >"$out" 2>&1
rc=$?
summary=$(sed -n 's/^\([0-9]*\) test groups: \([0-9]*\) failed, \([0-9]*\) skipped.*/groups=\1 groups_failed=\2 skipped=\3/p' "$out")
base=$(sed -n 's/^base protocol: \([0-9]*\/[0-9]*\) .*/\1/p' "$out")
ext=$(sed -n 's/^extensions: \([0-9]*\/[0-9]*\) .*/\1/p' "$out")
if [ -z "$summary" ]; then
	say "imaptest FAILED to run (exit $rc; $([ $rc = 124 ] && echo "timed out after $TIMEOUT s, " )see $out):"
	tail -5 "$out" | sed 's/^/  /'
	exit 1
fi
say "imaptest $summary base_failed=$base ext_failed=$ext"
sed -n 's/^\*\*\* Test \([^ ]*\) .*/\1/p' "$out" | sort | uniq -c | while read -r n t; do
	say "  failed: $t ($n commands)"
done
say "# full output: $out"
failed=0
case "$summary" in *" groups_failed=0 "*) ;; *) failed=1 ;; esac
case "$base" in 0/*) ;; *) failed=1 ;; esac
case "$ext" in 0/*) ;; *) failed=1 ;; esac

if [ "${STRESS_SECS:-0}" -gt 0 ]; then
	sout="$out.stress"
	# the messages it appends come from an mbox: the scripts' default one
	timeout $((STRESS_SECS + 120)) "$IMAPTEST" host="$host" port="$port" user="$user" pass="$pass" \
		mbox="${STRESS_MBOX:-$IMAPTEST_TESTS/default.mbox}" secs="$STRESS_SECS" >"$sout" 2>&1
	errs=$(grep -c -E '^Error|Panic|Fatal' "$sout")
	say "imaptest stress secs=$STRESS_SECS errors=$errs (output: $sout)"
	grep -E '^Error|Panic|Fatal' "$sout" | sort | uniq -c | sort -rn | head -5 | sed 's/^/  /'
	[ "$errs" -eq 0 ] || failed=1
fi
exit $failed
