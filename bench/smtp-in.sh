#!/bin/sh
# bench/smtp-in.sh [MESSAGES] - mail-in throughput, postern against Postfix.
#
# For each session count (20 and 100) and each MTA (a private stock Postfix
# 3.7 delivering to Maildir with virtual(8), and postern), on a fresh
# instance: Postfix's smtp-source sends MESSAGES (default 20000) messages of
# 5 KiB to bench@example.test over 127.0.0.1, one message per connection,
# SESSIONS connections at a time; the clock runs from the start of
# smtp-source until the MESSAGES-th file is in the Maildir's new/ (polled
# every 0.1 s once smtp-source has finished; bounded by TIMEOUT seconds).
# Neither MTA has any fsync turned off.
#
# Prints, for each run,
#   postern sessions=20 messages=20000 seconds=S rate=R msg/s
#   postfix sessions=20 messages=20000 seconds=S rate=R msg/s
# then the ratio postern/postfix for each session count.
#
# Environment: SESSIONS ("20 100"), MTAS ("postfix postern"), TIMEOUT (600),
# SETTLE (61: seconds of quiet before each timed run, see fs_settle),
# PF_PORT (20125), PN_PORT_BASE (20200, smtp on +25), KEEP=1 keeps the
# instance directories under BENCH_TMP (/var/tmp) for inspection,
# SMTP_SOURCE_OPTS (extra smtp-source options, e.g. -d to reuse connections).
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/lib.sh"

MESSAGES=${1:-20000}
SESSIONS=${SESSIONS:-"20 100"}
MTAS=${MTAS:-"postfix postern"}
TIMEOUT=${TIMEOUT:-600}
PF_PORT=${PF_PORT:-20125}
PN_PORT_BASE=${PN_PORT_BASE:-20200}
SMTP_SOURCE_OPTS=${SMTP_SOURCE_OPTS:-}
SIZE=5120

case "$MESSAGES" in '' | *[!0-9]* | 0) die "usage: sh bench/smtp-in.sh [MESSAGES]" ;; esac
[ "$(id -u)" -eq 0 ] || die "run as root (Postfix's private instance and postern's accounts need it)"
[ -x /usr/sbin/smtp-source ] && [ -x /usr/sbin/postfix ] || die "Postfix is missing: sh bench/deps.sh"

cur_mta="" cur_dir=""
cleanup() {
	bg_kill
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

# fs_settle: every run starts from the same filesystem state. The previous
# run's instance was just removed (tens of thousands of inodes); ext4
# without a journal skips inodes deleted in the last minute while their
# inode-table block is cached, so whichever MTA ran second would pay for
# the first one's files on every create. Write everything out and drop
# the clean caches (as root), then wait until the last run's deletions are
# older than ext4's window (60 s for a clean inode-table block; SETTLE
# seconds, default 61), since the new instance's own creates bring those
# blocks back into the cache: with only the cache dropped, the MTA that
# ran second still used up to 25 % more CPU per message.
case "${SETTLE:-61}" in
'' | *[!0-9]*) die "SETTLE must be a whole number of seconds, not '$SETTLE'" ;;
esac
fs_settle() {
	sync
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || warn "cannot drop caches; runs may not be comparable"
	sleep "${SETTLE:-61}"
	sync
}

failures=0
results=""

# run_one MTA SESSIONS: one timed run on a fresh instance
run_one() {
	mta=$1 sess=$2
	cur_mta=$mta
	cur_dir=$(mktemp -d "$BENCH_TMP/postern-bench-$mta-$sess.XXXXXX") || die "mktemp failed"
	chmod 755 "$cur_dir"
	case "$mta" in
	postfix)
		pf_setup "$cur_dir" "$PF_PORT" $((sess + 50))
		pf_start "$cur_dir" "$PF_PORT"
		port=$PF_PORT maildir=$pf_maildir root=$(pf_master_pid "$cur_dir")
		;;
	postern)
		postern_ready || { say "postern sessions=$sess messages=$MESSAGES NOT RUN: postern is not built yet"; failures=$((failures + 1)); cleanup; return; }
		rmdir "$cur_dir"
		# A session is counted until its process is reaped, and the client
		# reconnects at once after QUIT: room for twice SESSIONS, plus some.
		pn_setup "$cur_dir" "$PN_PORT_BASE" $((sess * 2 + 100))
		pn_start "$cur_dir"
		qd=$("$POSTERN" -c "$pn_conf" config get queue_dir)
		qd=${qd##*= }
		port=$pn_port maildir=$pn_maildir root=$(head -1 "$qd/pid/master.pid" 2>/dev/null | tr -d ' ')
		;;
	esac
	fs_settle
	"$PY" "$BENCH_DIR/proccpu.py" "$root" >"$cur_dir/cpu0.txt"
	cpu0=$(head -1 "$cur_dir/cpu0.txt")
	t0=$(now)
	# shellcheck disable=SC2086
	bg_run "$cur_dir/smtp-source.log" timeout "$TIMEOUT" /usr/sbin/smtp-source -c $SMTP_SOURCE_OPTS \
		-s "$sess" -m "$MESSAGES" -l "$SIZE" \
		-f sender@example.test -t bench@example.test "127.0.0.1:$port"
	src_rc=$?
	t1=$(now)
	left=$(awk -v a="$t0" -v b="$t1" -v t="$TIMEOUT" 'BEGIN { l = t - (b - a); printf "%.1f", l < 1 ? 1 : l }')
	# after a failed smtp-source, wait only until deliveries stop
	stall=60
	[ $src_rc -eq 0 ] || stall=10
	bg_run "$cur_dir/count.out" "$PY" "$BENCH_DIR/waitcount.py" "$maildir/new" "$MESSAGES" "$left" "$stall"
	wc_rc=$?
	out=$(cat "$cur_dir/count.out")
	got=${out% *} t2=${out#* }
	secs=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')
	acc=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	if [ $src_rc -ne 0 ] || [ $wc_rc -ne 0 ]; then
		why="smtp-source exit $src_rc"
		[ $wc_rc -eq 1 ] && why="$why, timeout"
		[ $wc_rc -eq 2 ] && why="$why, deliveries stalled"
		say "$mta sessions=$sess messages=$MESSAGES FAILED: $got of $MESSAGES in new/ after $secs s ($why)"
		grep -ao 'smtp-source: .*' "$cur_dir/smtp-source.log" | tail -3 | sed 's/^/  /'
		failures=$((failures + 1))
		[ "${KEEP:-0}" = 1 ] && say "  instance kept in $cur_dir"
		cleanup
		return
	fi
	rate=$(awk -v n="$MESSAGES" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
	say "$mta sessions=$sess messages=$MESSAGES seconds=$secs rate=$rate msg/s"
	# a sample delivered file must hold the whole message
	f=$(ls "$maildir/new" | head -1)
	sz=$(stat -c %s "$maildir/new/$f")
	"$PY" "$BENCH_DIR/proccpu.py" "$root" >"$cur_dir/cpu.txt"
	cpu1=$(head -1 "$cur_dir/cpu.txt")
	cpu=$(awk -v a="${cpu0#cpu_s=}" -v b="${cpu1#cpu_s=}" -v n="$MESSAGES" 'BEGIN { printf "%.2f s, %.2f ms/msg", b - a, (b - a) * 1000 / n }')
	say "  detail: smtp-source finished after $acc s; delivered $got files; sample file ${sz} bytes; MTA CPU $cpu"
	say "  cpu by program (s, since start): $(sed -n '2,7p' "$cur_dir/cpu.txt" | tr '\n' ' ')"
	[ "$sz" -ge "$SIZE" ] || { say "  WARNING: delivered file smaller than $SIZE bytes"; failures=$((failures + 1)); }
	results="$results $mta:$sess:$rate"
	[ "${KEEP:-0}" = 1 ] && say "  instance kept in $cur_dir"
	cleanup
}

say "# smtp-in: $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -n), $(nproc) cores, $(postconf -d -h mail_version 2>/dev/null | sed 's/^/Postfix /'), postern $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)"
say "# smtp-source -c -s SESSIONS -m $MESSAGES -l $SIZE $SMTP_SOURCE_OPTS; clock stops at the ${MESSAGES}th file in Maildir new/"
for sess in $SESSIONS; do
	for mta in $MTAS; do
		run_one "$mta" "$sess"
	done
done

for sess in $SESSIONS; do
	pf="" pn=""
	for r in $results; do
		case "$r" in
		postfix:$sess:*) pf=${r##*:} ;;
		postern:$sess:*) pn=${r##*:} ;;
		esac
	done
	if [ -n "$pf" ] && [ -n "$pn" ]; then
		say "ratio sessions=$sess postern/postfix=$(awk -v a="$pn" -v b="$pf" 'BEGIN { printf "%.2f", a / b }') (target >= 2)"
	fi
done
[ $failures -eq 0 ] || { say "# $failures run(s) failed"; exit 1; }
exit 0
