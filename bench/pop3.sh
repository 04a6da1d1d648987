#!/bin/sh
# bench/pop3.sh [MESSAGES] - POP3 download time, postern against Dovecot.
#
# One Maildir of MESSAGES (default 10000) messages is generated once
# (bench/pop3_maildir.py: postern-local's file names in new/, 2-8 KiB
# bodies, LF line ends) and copied unchanged into each server's mailbox:
# a private postern instance (pop3 only) and a private Dovecot 2.3 (pop3
# only, passwd-file with a {PLAIN} password, pop3_uidl_format = %f,
# otherwise its defaults, index files included). For each server, RUNS
# (default 2) sessions per client in CLIENTS (default "poplib pipelined")
# one after the other on the same mailbox, each bench/pop3_fetch.py:
# USER/PASS, then STAT, UIDL, RETR of every message, QUIT without DELE;
# first with Python's poplib (one command at a time, answers read line by
# line: what the target is measured with), then with a pipelining client
# that keeps 32 RETRs in flight and costs little CPU, so the server's own
# speed shows. Run 1 finds the messages in new/ (both servers move them to
# cur/; Dovecot also builds its index then); later runs find them in cur/
# with the S flag that run 1's RETRs set. Prints
#
#   pop3 server=postern run=1 client=poplib messages=10000 seconds=S login_s=L total_s=T server_cpu_s=C ...
#
# where seconds is STAT+UIDL+RETRs+QUIT (the figure the target is about),
# login_s connect to +OK after PASS (the password check and the opening
# of the mailbox), total_s both, server_cpu_s the CPU time the server's
# whole process tree used during the session. Each RETR is compared with
# the template file of the same base name (= the UIDL) with CRLF line ends;
# a digest over all messages must be the same for both servers. Then
#
#   pop3 ratio run=1 client=poplib dovecot/postern seconds=X total=Y
#
# (above 1 means postern is faster). CLIENTS=poll: a poll for new mail
# instead (USER/PASS, STAT, UIDL, QUIT; pop3_fetch.py --poll): total_s is
# the figure then (the login opens the mailbox); each poll waits POLL_GAP
# (3) seconds first, as polls come minutes apart (postern's index scans
# again within 2 s of another program's change). The page cache is not
# dropped: the copy has just written the files, so both servers read them
# from memory.
#
# Environment: SERVERS ("postern dovecot"), RUNS (2), CLIENTS, PN_PORT_BASE (20300,
# pop3 on 20310), DC_PORT (20110), KEEP=1 keeps the instance directories
# under BENCH_TMP (/var/tmp), PN_SET ("key=value ..." for postern),
# POLL_GAP (3, CLIENTS=poll).
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/lib.sh"
. "$BENCH_DIR/pop3-lib.sh"

MESSAGES=${1:-10000}
SERVERS=${SERVERS:-"postern dovecot"}
RUNS=${RUNS:-2}
CLIENTS=${CLIENTS:-"poplib pipelined"}
PN_PORT_BASE=${PN_PORT_BASE:-20300}
DC_PORT=${DC_PORT:-20110}
case "$MESSAGES" in '' | *[!0-9]* | 0) die "usage: sh bench/pop3.sh [MESSAGES]" ;; esac
case "$RUNS" in '' | *[!0-9]* | 0) die "RUNS must be a number" ;; esac
[ "$(id -u)" -eq 0 ] || die "run as root (private instances switch users)"
[ -x "$DOVECOT" ] && [ -x /usr/lib/dovecot/pop3 ] || case " $SERVERS " in
	*" dovecot "*) die "Dovecot is missing: sh bench/deps.sh" ;;
esac

cur_srv="" cur_dir="" tpl="" snap=""
cleanup() {
	bg_kill
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

say "# pop3: $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -n), $(nproc) cores, $("$DOVECOT" --version 2>/dev/null | sed 's/^/Dovecot /')"
tpl=$(mktemp -d "$BENCH_TMP/postern-bench-pop3-maildir.XXXXXX") || die "mktemp failed"
gen=$("$PY" "$BENCH_DIR/pop3_maildir.py" "$tpl" "$MESSAGES") || die "generating the Maildir failed"
say "# maildir: $gen"
snap=$(mktemp -d "$BENCH_TMP/postern-bench-pop3-bin.XXXXXX") || die "mktemp failed"
say "# $(pn3_snapshot "$snap")"
POSTERN="$snap/bin/postern"

run_server() {
	srv=$1
	cur_srv=$srv
	cur_dir=$(mktemp -d "$BENCH_TMP/postern-bench-pop3-$srv.XXXXXX") || die "mktemp failed"
	chmod 755 "$cur_dir"
	case "$srv" in
	postern)
		postern_pop3_ready || { say "pop3 server=postern NOT RUN: postern's pop3 is not built"; failures=$((failures + 1)); cleanup; return; }
		rmdir "$cur_dir"
		pn3_setup "$cur_dir" "$PN_PORT_BASE" "$tpl"
		pn3_start "$cur_dir"
		port=$pn_port root=$pn_master
		;;
	dovecot)
		dc_setup "$cur_dir" "$DC_PORT" "$tpl"
		dc_start "$cur_dir"
		port=$dc_port root=$dc_master
		;;
	esac
	[ -n "$root" ] && kill -0 "$root" 2>/dev/null || { say "pop3 server=$srv: no master pid"; failures=$((failures + 1)); cleanup; return; }
	sync
	r=1
	for client in $CLIENTS; do
	k=1
	while [ $k -le "$RUNS" ]; do
		case "$client" in
		poplib) copt="" ;;
		pipelined) copt=--pipelined ;;
		poll) copt=--poll; sleep "${POLL_GAP:-3}" ;;
		*) die "unknown client $client (poplib, pipelined, poll)" ;;
		esac
		c0=$(tree_cpu "$root")
		out="$cur_dir.fetch.$r"
		if bg_run "$out" timeout 900 "$PY" "$BENCH_DIR/pop3_fetch.py" $copt "$port" "$POP3_USER" "$POP3_PASS" "$tpl"; then
			check=ok
		else
			check=FAILED
			failures=$((failures + 1))
		fi
		c1=$(tree_cpu "$root")
		line=$(grep '^messages=' "$out")
		cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
		fetch=$(echo "$line" | sed -n 's/.*fetch_s=\([0-9.]*\).*/\1/p')
		login=$(echo "$line" | sed -n 's/.*login_s=\([0-9.]*\).*/\1/p')
		total=$(echo "$line" | sed -n 's/.*total_s=\([0-9.]*\).*/\1/p')
		n=$(echo "$line" | sed -n 's/^messages=\([0-9]*\).*/\1/p')
		dig=$(echo "$line" | sed -n 's/.*digest=\([0-9a-f]*\).*/\1/p')
		say "pop3 server=$srv run=$r client=$client messages=${n:-0} seconds=${fetch:-?} login_s=${login:-?} total_s=${total:-?} server_cpu_s=$cpu digest=${dig:-none} check=$check"
		say "  detail: $line"
		if [ "$check" != ok ]; then
			grep -v '^messages=' "$out" | head -5 | sed 's/^/  client: /'
		fi
		[ "${n:-0}" = "$MESSAGES" ] || { say "  WARNING: $srv returned ${n:-0} messages, not $MESSAGES"; }
		results="$results
$srv $r ${fetch:-0} ${total:-0} ${dig:-none} $client"
		rm -f "$out"
		r=$((r + 1)) k=$((k + 1))
	done
	done
	case "$srv" in
	dovecot) grep -E 'Error|Fatal|Panic|Warning' "$cur_dir/dovecot.log" 2>/dev/null | head -5 | sed 's/^/  dovecot.log: /' ;;
	esac
	cleanup
}

for srv in $SERVERS; do
	run_server "$srv"
done

r=1
nruns=$(($(echo $CLIENTS | wc -w) * RUNS))
while [ $r -le $nruns ]; do
	pn=$(echo "$results" | awk -v r=$r '$1 == "postern" && $2 == r { print $3, $4, $5, $6 }')
	dc=$(echo "$results" | awk -v r=$r '$1 == "dovecot" && $2 == r { print $3, $4, $5, $6 }')
	if [ -n "$pn" ] && [ -n "$dc" ]; then
		set -- $pn $dc
		say "pop3 ratio run=$r client=$4 dovecot/postern seconds=$(awk -v a="$5" -v b="$1" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }') total=$(awk -v a="$6" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }') (above 1: postern faster)"
		if [ "$3" = "$7" ]; then
			say "pop3 content run=$r identical (digest $3)"
		else
			say "pop3 content run=$r DIFFERENT: postern $3, dovecot $7"
			failures=$((failures + 1))
		fi
	fi
	r=$((r + 1))
done
[ $failures -eq 0 ] || { say "# $failures failure(s)"; exit 1; }
exit 0
