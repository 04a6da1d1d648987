#!/bin/sh
# bench/imap.sh [--peer-only] [MESSAGES] - IMAP (and POP3 poll) figures,
# postern against a private Dovecot 2.3, side by side in the same run.
#
# One Maildir of MESSAGES (default 100000) messages is generated once
# (bench/imap_maildir.py: seeded, varied sizes and MIME structures, 25 % in
# new/, flags in the names, some names without ,W=), its files owned by
# MAIL_OWNER (postern-mail, else nobody); each server gets a hard-link copy
# (cp -al) in a fresh private instance (bench/imap-lib.sh: imap and pop3
# only, plaintext login from loopback, the same yescrypt password hash).
# For each server, one after the other:
#
#   select    every message file read once (page cache warm for both), then
#             a first session's SELECT INBOX: cold, no index yet; then
#             SELECT_REPEAT (3) sessions: warm (median)
#   ops       one session (bench/imap_ops.py ops): SELECT, UID FETCH 1:*
#             FLAGS, FETCH 1:* ENVELOPE twice, UID SEARCH SUBJECT "zeppelin"
#             twice (checked against the generator's count), STORE +FLAGS
#             \Flagged on STORES (200) unflagged messages one command each,
#             FETCH n BODY[] on SEEN (200) unseen messages (the implicit
#             \Seen), then BODY.PEEK[] of the same (no flag change)
#   index     the index on disk: postern-uidlog + postern-index.db* under the
#             instance; Dovecot's dovecot.index* in the Maildir (and its
#             dovecot-uidlist, shown apart)
#   poll      POLLS (5) POP3 polls (USER/PASS, STAT, UIDL, QUIT) on this
#             Maildir: the first, and the median of the others ("nothing
#             new"); the login counts (same hash cost on both sides)
#   idle      IDLE_SESSIONS (1000) sessions: LOGIN, SELECT INBOX, IDLE;
#             PSS of the whole instance (master and all its descendants,
#             bench/pop3_procmem.py) before and with them open, the
#             increase per session; the largest of 5 samples 1 s apart
#   capacity  as many IDLE sessions as possible up to CAPACITY (10000):
#             opening stops at the first failures (the reason is printed:
#             refused, closed, NO/BYE text, the client's descriptor limit)
#             or when MemAvailable falls below MEM_FLOOR_MIB (2048: the
#             machine is shared), so "held N" with that reason is the answer
#
# Then for each size in POLL_SIZES ("10000 100000") other than MESSAGES:
# a Maildir of that size (the first messages of the same sequence), a
# fresh instance of each server, the poll phase alone.
#
# Prints lines "imap server=S phase=P key=value ...", then a table
#
#   figure | postern | dovecot | postern/dovecot | target
#
# and the same as Markdown for bench/README.md. Exit 1 if any check failed.
#
# --peer-only: Dovecot alone (until postern-imap exists). Without it the
# run stops at once if bin/postern-imap or bin/postern-imap-login is
# missing: "postern-imap not built".
#
# The per-user inotify instance limit (fs.inotify.max_user_instances) is
# raised for the run to the sessions needed plus 256 and put back at the
# end (RAISE_INOTIFY=0 leaves it).
#
# Environment: PHASES ("select ops index poll idle capacity"), SERVERS
# (default "postern dovecot"), SELECT_REPEAT, STORES, SEEN, POLLS,
# IDLE_SESSIONS, CAPACITY
# (10000; 0 skips), MEM_FLOOR_MIB, POLL_SIZES, SEED (1), PN_PORT_BASE
# (20400: imap 20443, pop3 20410), DC_PORT (20143), DC_POP3_PORT (20111),
# KEEP=1 keeps the instances and the Maildir under BENCH_TMP (/var/tmp),
# PN_SET ("key=value ..." for postern).
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/lib.sh"
. "$BENCH_DIR/pop3-lib.sh"
. "$BENCH_DIR/imap-lib.sh"

PEER_ONLY=0
if [ "${1:-}" = --peer-only ]; then
	PEER_ONLY=1
	shift
fi
MESSAGES=${1:-100000}
PHASES=${PHASES:-"select ops index poll idle capacity"}
if [ $PEER_ONLY = 1 ]; then SERVERS=dovecot; else SERVERS=${SERVERS:-"postern dovecot"}; fi
SELECT_REPEAT=${SELECT_REPEAT:-3}
STORES=${STORES:-200}
SEEN=${SEEN:-200}
POLLS=${POLLS:-5}
IDLE_SESSIONS=${IDLE_SESSIONS:-1000}
CAPACITY=${CAPACITY:-10000}
MEM_FLOOR_MIB=${MEM_FLOOR_MIB:-2048}
POLL_SIZES=${POLL_SIZES:-"10000 100000"}
SEED=${SEED:-1}
PN_PORT_BASE=${PN_PORT_BASE:-20400}
DC_PORT=${DC_PORT:-20143}
DC_POP3_PORT=${DC_POP3_PORT:-20111}
for v in MESSAGES SELECT_REPEAT STORES SEEN POLLS IDLE_SESSIONS CAPACITY MEM_FLOOR_MIB SEED; do
	eval "x=\$$v"
	case "$x" in '' | *[!0-9]*) die "$v must be a number (usage: sh bench/imap.sh [--peer-only] [MESSAGES])" ;; esac
done
[ "$MESSAGES" -gt 0 ] || die "MESSAGES must be above 0"
[ "$(id -u)" -eq 0 ] || die "run as root (private instances switch users)"
case " $SERVERS " in *" dovecot "*)
	[ -x "$DOVECOT" ] && [ -x /usr/lib/dovecot/imap ] && [ -x /usr/lib/dovecot/pop3 ] ||
		die "Dovecot's imap or pop3 is missing: sh bench/deps.sh" ;;
esac
case " $SERVERS " in *" postern "*)
	for p in postern-imap postern-imap-login; do
		[ -x "$TOP/bin/$p" ] || die "postern-imap not built ($TOP/bin/$p is missing; run make, or sh bench/imap.sh --peer-only to measure Dovecot alone)"
	done ;;
esac

limit=$IDLE_SESSIONS
case " $PHASES " in *" capacity "*) [ "$CAPACITY" -gt "$limit" ] && limit=$CAPACITY ;; esac
# descriptors: the holder has one per session, the servers' masters more
ulimit -n $((limit * 4 + 1024)) 2>/dev/null || ulimit -n 65536 2>/dev/null ||
	warn "could not raise the descriptor limit (now $(ulimit -n))"

# IDLE wants one inotify instance per session (Dovecot's imap, and postern's
# per the issue); Debian's default of 128 per user would make every session
# beyond the 128th fall back to polling, so it is raised for the run (and
# put back at the end) unless RAISE_INOTIFY=0
inotify_old=""
inotify_file=/proc/sys/fs/inotify/max_user_instances
if [ "${RAISE_INOTIFY:-1}" = 1 ] && [ -w "$inotify_file" ]; then
	cur=$(cat "$inotify_file")
	if [ "$cur" -lt $((limit + 256)) ]; then
		inotify_old=$cur
		echo $((limit + 256)) >"$inotify_file" || inotify_old=""
	fi
fi

cur_srv="" cur_dir="" holder="" tpl="" snap="" work=""
stop_holder() {
	if [ -n "$holder" ]; then
		kill "$holder" 2>/dev/null
		i=0
		while [ $i -lt 300 ] && kill -0 "$holder" 2>/dev/null; do
			sleep 0.1; i=$((i + 1))
		done
		kill -9 "$holder" 2>/dev/null
		wait "$holder" 2>/dev/null
		holder=""
	fi
}
cleanup() {
	bg_kill
	stop_holder
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
	if [ "${KEEP:-0}" != 1 ]; then
		[ -n "$tpl" ] && rm -rf "$tpl"
		[ -n "$work" ] && rm -rf "$work"
	fi
	[ -n "$snap" ] && rm -rf "$snap"
	tpl="" snap="" work=""
	[ -n "$inotify_old" ] && echo "$inotify_old" >"$inotify_file"
	inotify_old=""
}
trap 'final; exit 130' INT TERM HUP PIPE
trap final EXIT

failures=0
work=$(mktemp -d "$BENCH_TMP/postern-bench-imap-work.XXXXXX") || die "mktemp failed"
results="$work/results"
: >"$results"

# record SERVER KEY VALUE
record() { echo "$1 $2 $3" >>"$results"; }
field() { echo "$2" | sed -n "s/.*\(^\| \)$1=\([^ ]*\).*/\2/p"; }
has_phase() { case " $PHASES " in *" $1 "*) return 0 ;; esac; return 1; }

# ops SERVER PHASE OUTFILE CMD...: run imap_ops.py (its figures in
# OUTFILE, its complaints in OUTFILE.err), print and keep its line in o_line
ops() {
	o_srv=$1 o_phase=$2 o_out=$3
	shift 3
	timeout 3600 "$PY" "$BENCH_DIR/imap_ops.py" "$@" >"$o_out" 2>"$o_out.err" &
	bg_pid=$!
	if wait "$bg_pid"; then o_ok=ok; else o_ok=FAILED; failures=$((failures + 1)); fi
	bg_pid=""
	o_line=$(tail -1 "$o_out")
	say "imap server=$o_srv phase=$o_phase $o_line check=$o_ok"
	head -5 "$o_out.err" | sed 's/^/  client: /'
}

# sample ROOT: the largest (by PSS) of 5 samples 1 s apart
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

# start_server SRV TEMPLATE: a fresh instance of SRV on a copy of TEMPLATE;
# sets imap_port pop3_port root maildir
start_server() {
	srv=$1
	cur_srv=$srv
	cur_dir=$(mktemp -d "$BENCH_TMP/postern-bench-imap-$srv.XXXXXX") || die "mktemp failed"
	chmod 755 "$cur_dir"
	case "$srv" in
	postern)
		rmdir "$cur_dir"
		pni_setup "$cur_dir" "$PN_PORT_BASE" "$2" $((limit + 10))
		pni_start "$cur_dir"
		imap_port=$pn_imap_port pop3_port=$pn_pop3_port root=$pn_master maildir=$pn_maildir
		;;
	dovecot)
		dci_setup "$cur_dir" "$DC_PORT" "$DC_POP3_PORT" "$2" "$limit"
		dci_start "$cur_dir"
		imap_port=$dc_port pop3_port=$dc_pop3_port root=$dc_master maildir=$dc_maildir
		;;
	esac
	[ -n "$root" ] && kill -0 "$root" 2>/dev/null || { say "imap server=$srv: no master pid"; failures=$((failures + 1)); return 1; }
	return 0
}

server_log() {
	case "$1" in
	dovecot) grep -E 'Error|Fatal|Panic|Warning' "$cur_dir/dovecot.log" 2>/dev/null | sed 's/^[A-Z][a-z][a-z] [0-9 ]* [0-9:]* //' | sort | uniq -c | sort -rn | head -5 | sed 's/^/  dovecot.log: /' ;;
	esac
}

# poll SRV SIZE EXPECT
phase_poll() {
	ops "$1" "poll@$2" "$work/out" pop3-poll "$pop3_port" "$IMAP_USER" "$IMAP_PASS" --polls "$POLLS" --expect "$3"
	record "$1" "poll_first@$2" "$(field first_s "$o_line")"
	record "$1" "poll_median@$2" "$(field median_s "$o_line")"
	record "$1" "poll_login@$2" "$(field login_median_s "$o_line")"
}

# hold SRV COUNT FLOOR: open COUNT IDLE sessions; sets held, why
hold() {
	ready="$work/ready"
	rm -f "$ready"
	"$PY" "$BENCH_DIR/imap_ops.py" idle-hold "$imap_port" "$IMAP_USER" "$IMAP_PASS" "$2" "$ready" 3600 --mem-floor-mib "$3" 2>"$work/holder.err" &
	holder=$!
	t0=$(now)
	i=0
	while [ $i -lt 18000 ] && [ ! -f "$ready" ] && kill -0 "$holder" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	hold_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
	if [ ! -f "$ready" ]; then
		held=0 why="the holder did not finish opening"
		sed 's/^/  holder: /' "$work/holder.err" | tail -5
		return 1
	fi
	held=$(sed -n 's/^OPEN [0-9]* IDLING \([0-9]*\).*/\1/p' "$ready")
	why=$(sed -n 's/^stopped: //p' "$ready")
	return 0
}

phase_idle() {
	srv=$1
	sleep 2
	before=$(sample "$root")
	hold "$srv" "$IDLE_SESSIONS" 0 || { say "imap server=$srv phase=idle FAILED: $why"; failures=$((failures + 1)); stop_holder; return; }
	sleep 2
	during=$(sample "$root")
	b_pss=$(field pss_kib "$before") pss=$(field pss_kib "$during")
	per=$(awk -v a="$pss" -v b="$b_pss" -v n="$IDLE_SESSIONS" 'BEGIN { printf "%.1f", (a - b) / n }')
	say "imap server=$srv phase=idle sessions=$IDLE_SESSIONS idling=$held pss_per_session_kib=$per pss_before_kib=$b_pss pss_kib=$pss processes=$(field procs "$during") open_s=$hold_s"
	say "  by program (procs/PSS KiB): $(field by_program "$during")"
	if [ "$held" != "$IDLE_SESSIONS" ]; then
		say "  FAILED: $held of $IDLE_SESSIONS sessions idling; stopped: $why"
		failures=$((failures + 1))
	fi
	record "$srv" idle_pss_kib "$per"
	stop_holder
	sleep 2
}

phase_capacity() {
	srv=$1
	sleep 2
	hold "$srv" "$CAPACITY" "$MEM_FLOOR_MIB" || true
	during=$(sample "$root")
	say "imap server=$srv phase=capacity target=$CAPACITY idling=$held open_s=$hold_s pss_kib=$(field pss_kib "$during") processes=$(field procs "$during") mem_available_mib=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo) stopped=\"$why\""
	say "  limits: ulimit -n $(ulimit -n), pid_max $(cat /proc/sys/kernel/pid_max), tasks now $(ls -d /proc/[0-9]* | wc -l), inotify instances per user $(cat "$inotify_file"), file-max $(cat /proc/sys/fs/file-max)"
	record "$srv" capacity "$held"
	echo "$srv $why" >>"$work/why"
	stop_holder
	sleep 2
}

run_main() {
	srv=$1
	start_server "$srv" "$tpl" || { cleanup; return; }
	if has_phase select; then
		warm_cache "$tpl"
		ops "$srv" select-cold "$work/out" select "$imap_port" "$IMAP_USER" "$IMAP_PASS" --expect "$MESSAGES"
		record "$srv" select_cold "$(field select_s "$o_line")"
		record "$srv" login "$(field login_s "$o_line")"
		ops "$srv" select-warm "$work/out" select "$imap_port" "$IMAP_USER" "$IMAP_PASS" --expect "$MESSAGES" --repeat "$SELECT_REPEAT"
		record "$srv" select_warm "$(field select_median_s "$o_line")"
	fi
	if has_phase ops; then
		ops "$srv" ops "$work/out" ops "$imap_port" "$IMAP_USER" "$IMAP_PASS" --expect "$MESSAGES" --word "$word" --hits "$hits" --stores "$STORES" --seen "$SEEN"
		for k in fetch_flags_s fetch_envelope_first_s fetch_envelope_again_s search_subject_first_s search_subject_again_s store_ms seen_ms peek_ms; do
			record "$srv" "$k" "$(field "$k" "$o_line")"
		done
	fi
	if has_phase index; then
		case "$srv" in
		postern) ik=$(pni_index_kib "$cur_dir"); uk="-" ;;
		dovecot) ik=$(dci_index_kib "$maildir"); uk=$(dci_uidlist_kib "$maildir") ;;
		esac
		say "imap server=$srv phase=index index_kib=$ik uidlist_kib=$uk"
		record "$srv" index_kib "$ik"
		[ "$uk" = - ] || record "$srv" uidlist_kib "$uk"
	fi
	if has_phase poll; then
		phase_poll "$srv" "$MESSAGES" "$MESSAGES"
	fi
	has_phase idle && [ "$IDLE_SESSIONS" -gt 0 ] && phase_idle "$srv"
	has_phase capacity && [ "$CAPACITY" -gt 0 ] && phase_capacity "$srv"
	server_log "$srv"
	cleanup
}

run_poll_size() {
	size=$1
	ptpl="$work/maildir-$size"
	g=$("$PY" "$BENCH_DIR/imap_maildir.py" "$ptpl" "$size" "$SEED") || die "generating the $size-message Maildir failed"
	chown -R "$MAIL_OWNER:" "$ptpl"
	say "# maildir for the poll at $size: $g"
	for srv in $SERVERS; do
		start_server "$srv" "$ptpl" || { cleanup; continue; }
		phase_poll "$srv" "$size" "$size"
		server_log "$srv"
		cleanup
	done
	rm -rf "$ptpl"
}

say "# imap: $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -n), $(nproc) cores, $(awk '/^MemTotal:/ { printf "%d GiB", $2 / 1048576 }' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg), $("$DOVECOT" --version 2>/dev/null | sed 's/^/Dovecot /')"
tpl=$(mktemp -d "$BENCH_TMP/postern-bench-imap-maildir.XXXXXX") || die "mktemp failed"
gen=$("$PY" "$BENCH_DIR/imap_maildir.py" "$tpl" "$MESSAGES" "$SEED") || die "generating the Maildir failed"
chown -R "$MAIL_OWNER:" "$tpl" || die "chown $MAIL_OWNER failed"
chmod 755 "$tpl"
say "# maildir: $gen owner=$MAIL_OWNER"
word=$(field search_word "$gen")
hits=$(field subject_hits "$gen")
if [ $PEER_ONLY = 0 ] && case " $SERVERS " in *" postern "*) true ;; *) false ;; esac; then
	snap=$(mktemp -d "$BENCH_TMP/postern-bench-imap-bin.XXXXXX") || die "mktemp failed"
	say "# $(pn3_snapshot "$snap" | sed 's/postern-pop3/postern-pop3 (and -imap)/')"
	POSTERN="$snap/bin/postern"
	postern_imap_ready || die "postern-imap not built (the snapshot of bin/ lacks it)"
fi

for srv in $SERVERS; do
	run_main "$srv"
done
if has_phase poll; then
	for size in $POLL_SIZES; do
		[ "$size" = "$MESSAGES" ] && continue
		run_poll_size "$size"
	done
fi

# ---------------------------------------------------------------- table
get() { awk -v s="$1" -v k="$2" '$1 == s && $2 == k { v = $3 } END { print (v == "" ? "-" : v) }' "$results"; }
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}
rows="select_cold|SELECT, cold (no index), s|<= 0.5
select_warm|SELECT, warm (median), s|<= 0.5
fetch_flags_s|UID FETCH 1:* FLAGS, s|<= 0.5
fetch_envelope_first_s|FETCH 1:* ENVELOPE, first, s|<= 0.5
fetch_envelope_again_s|FETCH 1:* ENVELOPE, repeated, s|<= 0.5
search_subject_first_s|UID SEARCH SUBJECT, first, s|<= 0.5
search_subject_again_s|UID SEARCH SUBJECT, repeated, s|<= 0.5
store_ms|STORE +FLAGS \\Flagged, ms per message|< 1 ms
seen_ms|FETCH n BODY[] (implicit \\Seen), ms per message|< 1 ms (flag part)
peek_ms|FETCH n BODY.PEEK[] (same messages), ms per message|(reference)
index_kib|index on disk, KiB|(report)
uidlist_kib|dovecot-uidlist, KiB|(report)
login|IMAP LOGIN (connect to OK), s|(report)
idle_pss_kib|PSS per idle IDLE session, KiB|<= 0.25
capacity|IDLE sessions held (of $CAPACITY)|10000"
for size in $MESSAGES $POLL_SIZES; do
	case "$rows" in *"poll_median@$size|"*) continue ;; esac
	rows="$rows
poll_first@$size|POP3 poll at $size, first, s|(report)
poll_median@$size|POP3 poll at $size (nothing new, median), s|<= 1
poll_login@$size|POP3 login within the poll, s|(report)"
done
say ""
say "# $MESSAGES messages; postern/dovecot below 1: postern faster or smaller"
printf '%-52s %12s %12s %8s  %s\n' figure postern dovecot ratio target
md="| figure | postern | Dovecot | postern/Dovecot | target |
| --- | --- | --- | --- | --- |"
echo "$rows" | while IFS='|' read -r key label target; do
	p=$(get postern "$key") d=$(get dovecot "$key")
	[ "$p" = - ] && [ "$d" = - ] && continue
	r=$(ratio "$p" "$d")
	printf '%-52s %12s %12s %8s  %s\n' "$label" "$p" "$d" "$r" "$target"
done
say ""
say "# Markdown (bench/README.md):"
say "$md"
echo "$rows" | while IFS='|' read -r key label target; do
	p=$(get postern "$key") d=$(get dovecot "$key")
	[ "$p" = - ] && [ "$d" = - ] && continue
	say "| $label | $p | $d | $(ratio "$p" "$d") | $target |"
done
if [ -f "$work/why" ]; then
	while read -r s w; do say "# capacity, $s stopped by: $w"; done <"$work/why"
fi
[ $failures -eq 0 ] || { say "# $failures failure(s)"; exit 1; }
exit 0
