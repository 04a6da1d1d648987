#!/bin/sh
# bench/smtp-out.sh [MESSAGES] - mail-out throughput, postern against Postfix.
#
# For each MTA (a private stock Postfix 3.7 and a private postern), on a
# fresh instance:
#   1. the relay host is [127.0.0.1]:DEAD_PORT, where nothing listens, and
#      retries are pushed 30 minutes away;
#   2. MESSAGES (default 10000) copies of one 5 KiB message to
#      out@sink.test are queued with the MTA's own sendmail (INJECT_PARALLEL
#      at a time); each is tried once, refused, and deferred;
#   3. once all of them sit in deferred/, smtp-sink is started on
#      127.0.0.1:SINK_PORT, the relay host is switched to it (and the retry
#      times restored), and the MTA is reloaded;
#   4. the clock starts, the queue is flushed (postern queue flush,
#      postqueue -f), and stops when smtp-sink has counted MESSAGES
#      messages and the queue directories are empty.
# Both MTAs send to the one destination with at most CONCURRENCY (20)
# connections: postern's remote_connection_limit and
# remote_destination_limit, Postfix's default_destination_concurrency_limit
# (whose default is 20; its slow start from initial_destination_concurrency
# = 5 is left as shipped). Nothing else is tuned; neither has any fsync
# turned off.
#
# Prints, for each MTA,
#   out mta=postern messages=10000 seconds=S rate=R msg/s
# with a detail line, then the ratio postern/postfix (target: at least 1).
#
# FLUSH_DUE=1 (the default): just before the flush, the mtime of every file
# in deferred/ (for both MTAs the time of the message's next attempt) is set
# to one second ago, so that every message is also due. Without it postern
# delivers only the first 1000 messages: its FLUSH loads at most
# QMGR_ACTIVE_MAX (1000) messages into active/, and the rescans that follow
# when a message finishes are not flush scans, so the rest, not yet due, wait
# for their retry time (see bench/README.md). FLUSH_DUE=0 runs the plain
# flush. Postfix flushes the whole queue either way.
#
# Environment: MTAS ("postfix postern"), CONCURRENCY (20), TIMEOUT (600 s
# for the delivery), INJECT_PARALLEL (4), SINK_PORT (20545), DEAD_PORT
# (20546), PF_PORT (20535, Postfix's smtpd, unused but required by
# bench/lib.sh), PN_PORT_BASE (20500), KEEP=1 keeps the instances and logs
# under BENCH_TMP (/var/tmp), PN_SET ("key=value ..." extra postern settings),
# SINK_OPTS (extra smtp-sink options, e.g. "-D /var/tmp/dump" to check what
# arrives; that slows the sink down).
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/lib.sh"

MESSAGES=${1:-10000}
MTAS=${MTAS:-"postfix postern"}
CONCURRENCY=${CONCURRENCY:-20}
TIMEOUT=${TIMEOUT:-600}
INJECT_PARALLEL=${INJECT_PARALLEL:-4}
SINK_PORT=${SINK_PORT:-20545}
DEAD_PORT=${DEAD_PORT:-20546}
PF_PORT=${PF_PORT:-20535}
PN_PORT_BASE=${PN_PORT_BASE:-20500}
FLUSH_DUE=${FLUSH_DUE:-1}
SINK_OPTS=${SINK_OPTS:-}
RCPT=out@sink.test
SENDER=sender@example.test
WAIT="$BENCH_DIR/smtp-out-wait.py"

case "$MESSAGES" in '' | *[!0-9]* | 0) die "usage: sh bench/smtp-out.sh [MESSAGES]" ;; esac
case "$CONCURRENCY" in '' | *[!0-9]* | 0) die "CONCURRENCY must be a positive number" ;; esac
[ "$(id -u)" -eq 0 ] || die "run as root (Postfix's private instance, postern's accounts and smtp-sink -u need it)"
[ -x /usr/sbin/smtp-sink ] && [ -x /usr/sbin/postfix ] || die "Postfix is missing: sh bench/deps.sh"

cur_mta="" cur_dir="" sink_pid=""
sink_stop() {
	if [ -n "$sink_pid" ]; then
		kill "$sink_pid" 2>/dev/null
		i=0
		while [ $i -lt 50 ] && kill -0 "$sink_pid" 2>/dev/null; do
			sleep 0.1; i=$((i + 1))
		done
		# not reaped yet, so the pid is still the sink's (or its zombie)
		kill -9 "$sink_pid" 2>/dev/null
		wait "$sink_pid" 2>/dev/null
		sink_pid=""
	fi
}
mta_stop() {
	case "$cur_mta" in
	postfix) pf_stop "$cur_dir" ;;
	postern) pn_stop "$cur_dir" ;;
	esac
}
cleanup() {
	bg_kill
	if [ -n "$cur_dir" ]; then
		mta_stop
		[ "${KEEP:-0}" = 1 ] || rm -rf "$cur_dir" "$cur_dir".*
		cur_dir=""
	fi
	sink_stop
}
trap 'cleanup; exit 130' INT TERM
trap cleanup EXIT

failures=0
results=""

fail() {
	say "out mta=$cur_mta messages=$MESSAGES FAILED: $*"
	failures=$((failures + 1))
	[ "${KEEP:-0}" = 1 ] && say "  instance kept in $cur_dir"
	cleanup
}

# queue_dirs: the directories a queued message can be in (all of them)
# deferred_dir: where the deferred messages are
queue_dirs() {
	case "$cur_mta" in
	postfix) echo "$cur_dir/queue/maildrop $cur_dir/queue/incoming $cur_dir/queue/active $cur_dir/queue/deferred $cur_dir/queue/hold" ;;
	postern) echo "$qd/new $qd/active $qd/deferred $qd/hold" ;;
	esac
}
deferred_dir() {
	case "$cur_mta" in
	postfix) echo "$cur_dir/queue/deferred" ;;
	postern) echo "$qd/deferred" ;;
	esac
}

# wait_deferred: until all MESSAGES are in deferred/ and nowhere else
# (bounded: 300 s, or 60 s without progress)
wait_deferred() {
	i=0 last=-1 still=0
	while [ $i -lt 3000 ]; do
		# shellcheck disable=SC2046
		all=$("$PY" "$WAIT" count $(queue_dirs))
		def=$("$PY" "$WAIT" count "$(deferred_dir)")
		[ "$all" -eq "$MESSAGES" ] && [ "$def" -eq "$MESSAGES" ] && return 0
		if [ "$def" -eq "$last" ]; then
			still=$((still + 1))
			[ $still -ge 600 ] && break
		else
			still=0 last=$def
		fi
		sleep 0.1
		i=$((i + 1))
	done
	say "  queued $all, deferred $def of $MESSAGES"
	return 1
}

# postern_qmgr_pid: the pid of the one qmgr that is ready, else nothing
postern_qmgr() {
	"$POSTERN" -c "$pn_conf" status 2>/dev/null | awk '$1 == "qmgr" { n++; pid = $2; st = $3 } END { if (n == 1 && st == "ready") print pid }'
}
pf_qmgr() {
	ps -o pid=,comm= --ppid "$(pf_master_pid "$cur_dir")" 2>/dev/null | awk '$2 == "qmgr" { print $1 }'
}

# mta_setup: a fresh instance sending everything to the dead port
mta_setup() {
	case "$cur_mta" in
	postfix)
		pf_setup "$cur_dir" "$PF_PORT" $((CONCURRENCY + 130))
		postconf -c "$cur_dir/etc" -e \
			"relayhost = [127.0.0.1]:$DEAD_PORT" \
			"default_destination_concurrency_limit = $CONCURRENCY" \
			"minimal_backoff_time = 30m" "maximal_backoff_time = 60m" ||
			return 1
		pf_start "$cur_dir" "$PF_PORT"
		root=$(pf_master_pid "$cur_dir")
		send="/usr/sbin/sendmail -C $cur_dir/etc"
		log="$cur_dir/maillog"
		;;
	postern)
		rmdir "$cur_dir"
		pn_setup "$cur_dir" "$PN_PORT_BASE"
		pn_retry=$("$POSTERN" -c "$pn_conf" config get retry_min) || return 1
		pn_retry=${pn_retry##*= }
		for kv in "relay_host=[127.0.0.1]:$DEAD_PORT" "retry_min=30m" \
			"remote_connection_limit=$CONCURRENCY" "remote_destination_limit=$CONCURRENCY"; do
			"$POSTERN" -c "$pn_conf" config set "$kv" >/dev/null || return 1
		done
		pn_start "$cur_dir"
		qd=$("$POSTERN" -c "$pn_conf" config get queue_dir)
		qd=${qd##*= }
		root=$(head -1 "$qd/pid/master.pid" 2>/dev/null | tr -d ' ')
		send="$TOP/bin/sendmail -C $pn_conf"
		log=$("$POSTERN" -c "$pn_conf" config get log_file)
		log=${log##*= }
		;;
	esac
}

# relay_to_sink: relay host to the sink, retry times as shipped, reload,
# and wait (bounded) until a new queue manager runs
relay_to_sink() {
	case "$cur_mta" in
	postfix)
		old=$(pf_qmgr)
		postconf -c "$cur_dir/etc" -e "relayhost = [127.0.0.1]:$SINK_PORT" || return 1
		postconf -c "$cur_dir/etc" -X minimal_backoff_time maximal_backoff_time || return 1
		postfix -c "$cur_dir/etc" reload >/dev/null 2>&1 || return 1
		i=0
		while [ $i -lt 300 ]; do
			new=$(pf_qmgr)
			[ -n "$new" ] && [ "$new" != "$old" ] && return 0
			sleep 0.1; i=$((i + 1))
		done
		;;
	postern)
		old=$(postern_qmgr)
		for kv in "relay_host=[127.0.0.1]:$SINK_PORT" "retry_min=$pn_retry"; do
			"$POSTERN" -c "$pn_conf" config set "$kv" >/dev/null || return 1
		done
		"$POSTERN" -c "$pn_conf" reload >/dev/null || return 1
		i=0
		while [ $i -lt 300 ]; do
			new=$(postern_qmgr)
			[ -n "$new" ] && [ "$new" != "$old" ] && return 0
			sleep 0.1; i=$((i + 1))
		done
		;;
	esac
	return 1
}

flush() {
	case "$cur_mta" in
	postfix) postqueue -c "$cur_dir/etc" -f ;;
	postern) "$POSTERN" -c "$pn_conf" queue flush >/dev/null ;;
	esac
}

# sink_counters: the last "sess=S quit=Q mesg=M" of the sink's -c output
sink_counters() {
	tr '\r' '\n' <"$cur_dir.sink.out" | grep '^sess=' | tail -1
}

run_one() {
	cur_mta=$1
	cur_dir=$(mktemp -d "$BENCH_TMP/postern-bench-out-$cur_mta.XXXXXX") || die "mktemp failed"
	chmod 755 "$cur_dir"
	if [ "$cur_mta" = postern ] && ! postern_ready; then
		say "out mta=postern messages=$MESSAGES NOT RUN: postern is not built"
		failures=$((failures + 1))
		rmdir "$cur_dir"; cur_dir=""
		return
	fi
	port_free "$SINK_PORT" || die "port $SINK_PORT (SINK_PORT) is in use"
	port_free "$DEAD_PORT" || die "port $DEAD_PORT (DEAD_PORT) is in use: it must refuse connections"
	mta_setup || { fail "setup"; return; }

	# 1. fill the queue while the relay host refuses
	# shellcheck disable=SC2086
	bg_run "$cur_dir.inject.out" "$PY" "$BENCH_DIR/smtp-out-inject.py" "$MESSAGES" "$INJECT_PARALLEL" 900 \
		$send -f "$SENDER" "$RCPT"
	inj_rc=$?
	inj=$(tail -1 "$cur_dir.inject.out")
	[ $inj_rc -eq 0 ] || { sed 's/^/  /' "$cur_dir.inject.out"; fail "injection ($inj)"; return; }
	wait_deferred || { fail "not all messages reached deferred/"; return; }

	# 2. the sink, the relay host pointed at it, a reload
	# shellcheck disable=SC2086
	/usr/sbin/smtp-sink -c $SINK_OPTS -u nobody "127.0.0.1:$SINK_PORT" 256 >"$cur_dir.sink.out" 2>&1 &
	sink_pid=$!
	wait_port "$SINK_PORT" 10 || { fail "smtp-sink does not answer"; return; }
	relay_to_sink || { fail "relay switch and reload"; return; }
	sleep 1
	# shellcheck disable=SC2046
	def=$("$PY" "$WAIT" count $(queue_dirs))
	pre=$(sink_counters)
	[ "$def" -eq "$MESSAGES" ] && [ "${pre##*mesg=}" = 0 ] ||
		{ fail "before the flush: $def queued, sink: $pre"; return; }
	sync
	sleep 1
	"$PY" "$BENCH_DIR/proccpu.py" "$root" >"$cur_dir.cpu0"
	if [ "$FLUSH_DUE" = 1 ]; then
		# every deferred message due now (its next attempt time is its
		# mtime): see FLUSH_DUE above
		n=$("$PY" "$WAIT" due "$(deferred_dir)")
		[ "$n" -eq "$MESSAGES" ] || { fail "made $n of $MESSAGES messages due"; return; }
	fi

	# 3. flush, and the clock
	pre=$(sink_counters)
	[ "${pre##*mesg=}" = 0 ] || { fail "the sink got mail before the flush: $pre"; return; }
	t0=$(now)
	flush || { fail "flush"; return; }
	# shellcheck disable=SC2046
	bg_run "$cur_dir.wait.out" "$PY" "$WAIT" sink "$cur_dir.sink.out" "$SINK_PORT" "$MESSAGES" "$TIMEOUT" 60 $(queue_dirs)
	w_rc=$?
	w=$(cat "$cur_dir.wait.out")
	"$PY" "$BENCH_DIR/proccpu.py" "$root" >"$cur_dir.cpu1"
	t_sink=$(echo "$w" | sed -n 's/.*t_sink=\([0-9.]*\).*/\1/p')
	t_empty=$(echo "$w" | sed -n 's/.*t_empty=\([0-9.]*\).*/\1/p')
	maxconn=$(echo "$w" | sed -n 's/.*maxconn=\([0-9]*\).*/\1/p')
	if [ $w_rc -ne 0 ]; then
		why=timeout
		[ $w_rc -eq 2 ] && why="no message at the sink for 60 s"
		fail "$why after $(awk -v a="$t0" -v b="$t_empty" 'BEGIN { printf "%.1f", b - a }') s: $w"
		return
	fi
	secs=$(awk -v a="$t0" -v b="$t_empty" 'BEGIN { printf "%.3f", b - a }')
	ssecs=$(awk -v a="$t0" -v b="$t_sink" 'BEGIN { printf "%.3f", b - a }')
	rate=$(awk -v n="$MESSAGES" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
	cpu=$(awk -v a="$(head -1 "$cur_dir.cpu0" | cut -d= -f2)" -v b="$(head -1 "$cur_dir.cpu1" | cut -d= -f2)" -v n="$MESSAGES" \
		'BEGIN { printf "%.2f s, %.2f ms/msg", b - a, (b - a) * 1000 / n }')

	# 4. verify: stop the MTA (its cached sessions close), then the sink's
	# final counters must show exactly MESSAGES messages; one "sent" log
	# line per message
	sleep 1
	mta_stop
	sleep 0.5
	fin=$(sink_counters)
	sink_stop
	got=${fin##*mesg=}
	sess=${fin#sess=}
	sess=${sess%% *}
	sent=$(grep -c 'status=sent' "$log" 2>/dev/null)
	say "out mta=$cur_mta messages=$MESSAGES seconds=$secs rate=$rate msg/s"
	say "  detail: sink had all after $ssecs s; sink counted $got messages in $sess sessions (most at once: $maxconn); $sent status=sent log lines; MTA CPU $cpu; injection: $inj"
	say "  cpu by program (s, whole run): $(sed -n '2,7p' "$cur_dir.cpu1" | tr '\n' ' ')"
	if [ "$got" != "$MESSAGES" ] || [ "$sent" != "$MESSAGES" ]; then
		say "  WRONG COUNT: sink $got, sent log lines $sent, expected $MESSAGES"
		failures=$((failures + 1))
	else
		results="$results $cur_mta:$rate"
	fi
	[ "${KEEP:-0}" = 1 ] && say "  instance kept in $cur_dir"
	cur_mta=stopped
	cleanup
}

say "# smtp-out: $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -n), $(nproc) cores, $(postconf -d -h mail_version 2>/dev/null | sed 's/^/Postfix /'), postern $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)"
say "# $MESSAGES queued messages of 5120 bytes to $RCPT, relay host [127.0.0.1]:$SINK_PORT (smtp-sink), at most $CONCURRENCY connections; clock from the flush to the sink's ${MESSAGES}th message and an empty queue; FLUSH_DUE=$FLUSH_DUE"
for mta in $MTAS; do
	run_one "$mta"
done

pf="" pn=""
for r in $results; do
	case "$r" in
	postfix:*) pf=${r#*:} ;;
	postern:*) pn=${r#*:} ;;
	esac
done
if [ -n "$pf" ] && [ -n "$pn" ]; then
	say "ratio out postern/postfix=$(awk -v a="$pn" -v b="$pf" 'BEGIN { printf "%.2f", a / b }') (target >= 1)"
fi
[ $failures -eq 0 ] || { say "# $failures run(s) failed"; exit 1; }
exit 0
