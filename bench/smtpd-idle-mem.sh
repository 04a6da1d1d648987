#!/bin/sh
# bench/smtpd-idle-mem.sh [CONNECTIONS] - memory of the SMTP server with
# CONNECTIONS (default 1000) idle connections open from 127.0.0.1.
#
# For postern and, for comparison, a private stock Postfix (its
# default_process_limit raised to CONNECTIONS+100 for the run, as Postfix
# runs one smtpd process per connection): a fresh instance with per-client
# connection limits raised, then bench/idle_hold.py opens the connections,
# reads each 220 greeting and leaves them idle. The memory of every smtpd
# process of that instance (postern-smtpd, Postfix's smtpd) is summed, as
# RSS and as PSS (smaps_rollup; shared pages divided among the sharers,
# the honest figure for forked processes), sampled 5 times 1 s apart; the
# largest sample is printed, with the same figures before any connection
# and the increase per connection.
#
# Environment: MTAS ("postern postfix"), PF_PORT (20125), PN_PORT_BASE
# (20200), KEEP=1 keeps the instance directories.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/lib.sh"

CONNS=${1:-1000}
MTAS=${MTAS:-"postern postfix"}
PF_PORT=${PF_PORT:-20125}
PN_PORT_BASE=${PN_PORT_BASE:-20200}
case "$CONNS" in '' | *[!0-9]* | 0) die "usage: sh bench/smtpd-idle-mem.sh [CONNECTIONS]" ;; esac
[ "$(id -u)" -eq 0 ] || die "run as root"

# descriptors for the holder, the servers and their masters
ulimit -n $((CONNS * 2 + 1024)) 2>/dev/null || ulimit -n 65536 2>/dev/null ||
	warn "could not raise the descriptor limit (now $(ulimit -n))"

cur_mta="" cur_dir="" holder=""
cleanup() {
	if [ -n "$holder" ]; then
		kill "$holder" 2>/dev/null
		wait "$holder" 2>/dev/null
		holder=""
	fi
	if [ -n "$cur_dir" ]; then
		case "$cur_mta" in
		postfix) pf_stop "$cur_dir" ;;
		postern) pn_stop "$cur_dir" ;;
		esac
		[ "${KEEP:-0}" = 1 ] || rm -rf "$cur_dir"
		cur_dir=""
	fi
}
trap 'cleanup; exit 130' INT TERM
trap cleanup EXIT
failures=0

# sample ROOT NAME: largest of 5 samples, "procs rss_kib pss_kib"
sample() {
	best="0 0 0"
	i=0
	while [ $i -lt 5 ]; do
		m=$("$PY" "$BENCH_DIR/procmem.py" "$1" "$2")
		set -- "$1" "$2" $(echo "$m" | sed 's/[a-z_]*=//g')
		bp=${best##* }
		[ "$5" -gt "$bp" ] && best="$3 $4 $5"
		i=$((i + 1))
		[ $i -lt 5 ] && sleep 1
	done
	echo "$best"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

run_one() {
	mta=$1
	cur_mta=$mta
	cur_dir=$(mktemp -d "$BENCH_TMP/postern-bench-idle-$mta.XXXXXX") || die "mktemp failed"
	chmod 755 "$cur_dir"
	case "$mta" in
	postfix)
		pf_setup "$cur_dir" "$PF_PORT" $((CONNS + 100))
		pf_start "$cur_dir" "$PF_PORT"
		port=$PF_PORT root=$(pf_master_pid "$cur_dir") exe=smtpd
		;;
	postern)
		postern_ready || { say "postern smtpd idle_connections=$CONNS NOT RUN: postern is not built yet"; failures=$((failures + 1)); cleanup; return; }
		rmdir "$cur_dir"
		pn_setup "$cur_dir" "$PN_PORT_BASE" $((CONNS + 10))
		pn_start "$cur_dir"
		qd=$("$POSTERN" -c "$pn_conf" config get queue_dir)
		qd=${qd##*= }
		port=$pn_port root=$(head -1 "$qd/pid/master.pid" 2>/dev/null | tr -d ' ') exe=postern-smtpd
		;;
	esac
	[ -n "$root" ] && kill -0 "$root" 2>/dev/null || { say "$mta: no master pid"; failures=$((failures + 1)); cleanup; return; }
	sleep 1
	set -- $(sample "$root" "$exe")
	b_procs=$1 b_rss=$2 b_pss=$3
	ready="$cur_dir/holder.ready"
	"$PY" "$BENCH_DIR/idle_hold.py" "$port" "$CONNS" "$ready" 600 2>"$cur_dir/holder.err" &
	holder=$!
	i=0
	while [ $i -lt 2000 ] && [ ! -f "$ready" ] && kill -0 "$holder" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	if [ ! -f "$ready" ]; then
		say "$mta smtpd idle_connections=$CONNS FAILED: holder did not finish opening"
		failures=$((failures + 1)); cleanup; return
	fi
	got=$(cat "$ready")
	sleep 2
	set -- $(sample "$root" "$exe")
	procs=$1 rss=$2 pss=$3
	set -- $("$PY" "$BENCH_DIR/procmem.py" "$root" '*' | sed 's/[a-z_]*=//g')
	all_procs=$1 all_pss=$3
	case "$got" in "OPEN $CONNS GREETED $CONNS") ok=1 ;; *) ok=0 ;; esac
	per=$(awk -v a="$pss" -v b="$b_pss" -v n="$CONNS" 'BEGIN { printf "%.1f", (a - b) / n }')
	perr=$(awk -v a="$rss" -v b="$b_rss" -v n="$CONNS" 'BEGIN { printf "%.1f", (a - b) / n }')
	say "$mta smtpd idle_connections=$CONNS processes=$procs rss=$(mib "$rss") MiB pss=$(mib "$pss") MiB per_connection: pss=$per KiB rss=$perr KiB"
	say "  detail: before connecting: processes=$b_procs rss=$(mib "$b_rss") MiB pss=$(mib "$b_pss") MiB; whole instance with the connections open: processes=$all_procs pss=$(mib "$all_pss") MiB; holder: $got"
	if [ $ok -ne 1 ]; then
		say "  WARNING: not every connection was greeted with 220"
		sed 's/^/  holder: /' "$cur_dir/holder.err" | tail -3
		failures=$((failures + 1))
	fi
	cleanup
}

say "# smtpd-idle-mem: $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -n), $(nproc) cores, $(postconf -d -h mail_version 2>/dev/null | sed 's/^/Postfix /'), postern $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)"
for mta in $MTAS; do
	run_one "$mta"
done
[ $failures -eq 0 ] || { say "# $failures run(s) failed"; exit 1; }
exit 0
