#!/bin/sh
# bench/pop3-idle-mem.sh [CONNECTIONS] - memory of the POP3 server with
# CONNECTIONS (default 1000) logged-in idle sessions, postern against Dovecot.
#
# Each server gets a fresh private instance (see bench/pop3-lib.sh) whose
# one user's Maildir holds MESSAGES (default 10000) generated messages
# (bench/pop3_maildir.py), the limits raised so that CONNECTIONS sessions
# of that one user from 127.0.0.1 are allowed (postern: pop3_process_limit
# and pop3_max_user_connections; Dovecot: process_limit of pop3 and
# pop3-login, client limits, mail_max_userip_connections), and the
# descriptor limit raised with ulimit -n. One session (STAT, QUIT) opens
# the mailbox first, so that both have moved new/ to cur/ and Dovecot has
# built its index before anything is measured. Then
# bench/pop3_idle_hold.py opens CONNECTIONS connections (50 in flight at
# once), logs each in with USER/PASS and leaves them idle.
#
# Memory is summed over the whole instance: the master and every process
# descended from it (bench/pop3_procmem.py), RSS (VmRSS) and PSS (Pss from
# /proc/PID/smaps_rollup: shared pages divided among the sharers, the
# honest figure for forked processes); the largest of 5 samples 1 s apart,
# before any connection and with the connections open. Prints
#
#   pop3-idle server=postern connections=1000 messages=10000 pss_per_conn_kib=P rss_per_conn_kib=R ...
#
# with a by-program breakdown, then the ratio postern/dovecot of the PSS
# per connection (the target is at most 0.5).
#
# Environment: SERVERS ("postern dovecot"), MESSAGES (10000), HOLD (seconds
# the connections stay open, 120), PN_PORT_BASE (20300), DC_PORT (20110),
# KEEP=1 keeps the instance directories.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/lib.sh"
. "$BENCH_DIR/pop3-lib.sh"

CONNS=${1:-1000}
MESSAGES=${MESSAGES:-10000}
SERVERS=${SERVERS:-"postern dovecot"}
HOLD=${HOLD:-120}
PN_PORT_BASE=${PN_PORT_BASE:-20300}
DC_PORT=${DC_PORT:-20110}
case "$CONNS" in '' | *[!0-9]* | 0) die "usage: sh bench/pop3-idle-mem.sh [CONNECTIONS]" ;; esac
case "$MESSAGES" in '' | *[!0-9]*) die "MESSAGES must be a number" ;; esac
[ "$(id -u)" -eq 0 ] || die "run as root"
[ -x "$DOVECOT" ] && [ -x /usr/lib/dovecot/pop3 ] || case " $SERVERS " in
	*" dovecot "*) die "Dovecot is missing: sh bench/deps.sh" ;;
esac

# descriptors for the holder, the servers and their masters
ulimit -n $((CONNS * 4 + 1024)) 2>/dev/null || ulimit -n 65536 2>/dev/null ||
	warn "could not raise the descriptor limit (now $(ulimit -n))"

cur_srv="" cur_dir="" holder="" tpl="" snap=""
cleanup() {
	if [ -n "$holder" ]; then
		kill "$holder" 2>/dev/null
		i=0
		while [ $i -lt 100 ] && kill -0 "$holder" 2>/dev/null; do
			sleep 0.1; i=$((i + 1))
		done
		kill -9 "$holder" 2>/dev/null
		wait "$holder" 2>/dev/null
		holder=""
	fi
	if [ -n "$cur_dir" ]; then
		case "$cur_srv" in
		postern) pn3_stop "$cur_dir" ;;
		dovecot) dc_stop "$cur_dir" ;;
		esac
		[ "${KEEP:-0}" = 1 ] || rm -rf "$cur_dir"
		cur_dir=""
	fi
}
final() {
	cleanup
	[ -n "$tpl" ] && [ "${KEEP:-0}" != 1 ] && rm -rf "$tpl"
	[ -n "$snap" ] && rm -rf "$snap"
	tpl="" snap=""
}
trap 'final; exit 130' INT TERM HUP PIPE
trap final EXIT
failures=0
results=""

# sample ROOT: the largest (by PSS) of 5 samples 1 s apart, pop3_procmem.py's line
sample() {
	best="" bp=-1
	i=0
	while [ $i -lt 5 ]; do
		m=$("$PY" "$BENCH_DIR/pop3_procmem.py" "$1")
		p=$(echo "$m" | sed -n 's/.*pss_kib=\([0-9]*\).*/\1/p')
		[ "${p:-0}" -gt "$bp" ] && { best=$m; bp=${p:-0}; }
		i=$((i + 1))
		[ $i -lt 5 ] && sleep 1
	done
	echo "$best"
}
field() { echo "$2" | sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

run_one() {
	srv=$1
	cur_srv=$srv
	cur_dir=$(mktemp -d "$BENCH_TMP/postern-bench-pop3idle-$srv.XXXXXX") || die "mktemp failed"
	chmod 755 "$cur_dir"
	case "$srv" in
	postern)
		postern_pop3_ready || { say "pop3-idle server=postern NOT RUN: postern's pop3 is not built"; failures=$((failures + 1)); cleanup; return; }
		rmdir "$cur_dir"
		pn3_setup "$cur_dir" "$PN_PORT_BASE" "$tpl" $((CONNS + 10))
		pn3_start "$cur_dir"
		port=$pn_port root=$pn_master
		;;
	dovecot)
		dc_setup "$cur_dir" "$DC_PORT" "$tpl" "$CONNS"
		dc_start "$cur_dir"
		port=$dc_port root=$dc_master
		;;
	esac
	[ -n "$root" ] && kill -0 "$root" 2>/dev/null || { say "pop3-idle server=$srv: no master pid"; failures=$((failures + 1)); cleanup; return; }
	# open the mailbox once (new/ -> cur/, Dovecot's index), then measure
	"$PY" - "$port" "$POP3_USER" "$POP3_PASS" <<'EOF' || { say "pop3-idle server=$srv: first session failed"; failures=$((failures + 1)); cleanup; return; }
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=300)
p.user(sys.argv[2]); p.pass_(sys.argv[3]); p.stat(); p.uidl(); p.quit()
EOF
	sleep 2
	before=$(sample "$root")
	ready="$cur_dir.holder.ready"
	t0=$(now)
	"$PY" "$BENCH_DIR/pop3_idle_hold.py" "$port" "$CONNS" "$ready" "$HOLD" "$POP3_USER" "$POP3_PASS" 2>"$cur_dir.holder.err" &
	holder=$!
	i=0
	while [ $i -lt 9500 ] && [ ! -f "$ready" ] && kill -0 "$holder" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	if [ ! -f "$ready" ]; then
		say "pop3-idle server=$srv connections=$CONNS FAILED: holder did not finish opening"
		sed 's/^/  holder: /' "$cur_dir.holder.err" | tail -5
		failures=$((failures + 1)); cleanup; rm -f "$cur_dir.holder.err"; return
	fi
	t1=$(now)
	got=$(cat "$ready")
	sleep 2
	during=$(sample "$root")
	b_procs=$(field procs "$before") b_rss=$(field rss_kib "$before") b_pss=$(field pss_kib "$before")
	procs=$(field procs "$during") rss=$(field rss_kib "$during") pss=$(field pss_kib "$during")
	per=$(awk -v a="$pss" -v b="$b_pss" -v n="$CONNS" 'BEGIN { printf "%.1f", (a - b) / n }')
	perr=$(awk -v a="$rss" -v b="$b_rss" -v n="$CONNS" 'BEGIN { printf "%.1f", (a - b) / n }')
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	say "pop3-idle server=$srv connections=$CONNS messages=$MESSAGES pss_per_conn_kib=$per rss_per_conn_kib=$perr processes=$procs pss=$(mib "$pss") MiB rss=$(mib "$rss") MiB"
	say "  before: processes=$b_procs pss=$(mib "$b_pss") MiB rss=$(mib "$b_rss") MiB; by program (procs/PSS KiB): $(field by_program "$before")"
	say "  during: by program (procs/PSS KiB): $(field by_program "$during")"
	say "  holder: $got after ${secs}s"
	case "$got" in "OPEN $CONNS LOGGED_IN $CONNS") ;; *)
		say "  WARNING: not every connection logged in"
		sed 's/^/  holder: /' "$cur_dir.holder.err" | tail -5
		failures=$((failures + 1)) ;;
	esac
	results="$results
$srv $per"
	case "$srv" in
	dovecot) grep -E 'Error|Fatal|Panic|Warning' "$cur_dir/dovecot.log" 2>/dev/null | sort | uniq -c | sort -rn | head -5 | sed 's/^/  dovecot.log: /' ;;
	esac
	rm -f "$ready" "$cur_dir.holder.err"
	cleanup
}

say "# pop3-idle-mem: $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -n), $(nproc) cores, $("$DOVECOT" --version 2>/dev/null | sed 's/^/Dovecot /')"
tpl=$(mktemp -d "$BENCH_TMP/postern-bench-pop3-maildir.XXXXXX") || die "mktemp failed"
gen=$("$PY" "$BENCH_DIR/pop3_maildir.py" "$tpl" "$MESSAGES") || die "generating the Maildir failed"
say "# maildir: $gen"
snap=$(mktemp -d "$BENCH_TMP/postern-bench-pop3-bin.XXXXXX") || die "mktemp failed"
say "# $(pn3_snapshot "$snap")"
POSTERN="$snap/bin/postern"
for srv in $SERVERS; do
	run_one "$srv"
done
pn=$(echo "$results" | awk '$1 == "postern" { print $2 }')
dc=$(echo "$results" | awk '$1 == "dovecot" { print $2 }')
if [ -n "$pn" ] && [ -n "$dc" ]; then
	say "pop3-idle ratio postern/dovecot pss_per_conn=$(awk -v a="$pn" -v b="$dc" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }') (target: at most 0.50)"
fi
[ $failures -eq 0 ] || { say "# $failures run(s) failed"; exit 1; }
exit 0
