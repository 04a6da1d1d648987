# bench/lib.sh - shared helpers for the postern benchmarks (sourced by sh).
#
# Private Postfix and postern instances in temporary directories, all on
# 127.0.0.1. Every wait is bounded. Only processes started here are stopped,
# and only through their own stop commands or by the PIDs recorded here.

BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "$0")" && pwd)}
TOP=$(cd "$BENCH_DIR/.." && pwd)
PY=/usr/bin/python3
# Unprivileged account that owns Postfix's virtual mailboxes.
BENCH_UID=${BENCH_UID:-65534}
BENCH_GID=${BENCH_GID:-65534}
# Where instances live; the same filesystem for both MTAs.
BENCH_TMP=${BENCH_TMP:-/var/tmp}

say() { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

now() { date +%s.%N; }

# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT
wait_port() {
	"$PY" - "$1" "${2:-30}" <<'EOF'
import socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
end = time.monotonic() + limit
while time.monotonic() < end:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.settimeout(5)
        greet = s.recv(512)
        s.close()
        if greet.startswith(b"220"):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
EOF
}

# port_free PORT: nothing listens on 127.0.0.1:PORT
port_free() {
	"$PY" - "$1" <<'EOF'
import socket, sys
s = socket.socket()
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    sys.exit(1)
except OSError:
    sys.exit(0)
EOF
}

# count_files DIR: number of entries in DIR (0 if it does not exist)
count_files() {
	"$PY" -c 'import os,sys
try: print(sum(1 for _ in os.scandir(sys.argv[1])))
except FileNotFoundError: print(0)' "$1"
}

# bg_run OUTFILE CMD...: run CMD with its output in OUTFILE and wait for it
# in a way a trapped signal interrupts (the trap kills $bg_pid).
bg_pid=""
bg_run() {
	bg_out=$1
	shift
	"$@" >"$bg_out" 2>&1 &
	bg_pid=$!
	wait "$bg_pid"
	bg_rc=$?
	bg_pid=""
	return $bg_rc
}

bg_kill() {
	if [ -n "$bg_pid" ]; then
		kill "$bg_pid" 2>/dev/null
		wait "$bg_pid" 2>/dev/null
		bg_pid=""
	fi
}

# ---------------------------------------------------------------- Postfix
# pf_setup DIR PORT [PROCESS_LIMIT]: a private Postfix in DIR (config in
# DIR/etc, queue in DIR/queue, data in DIR/data, mail in DIR/mail) that
# accepts mail for bench@example.test on 127.0.0.1:PORT and delivers it to
# the Maildir DIR/mail/example.test/bench/ with the virtual(8) agent.
# Everything else is stock Postfix 3.7, in particular its fsync behaviour.
pf_setup() {
	pf_dir=$1 pf_port=$2 pf_plimit=${3:-150}
	mkdir -p "$pf_dir/etc" "$pf_dir/queue" "$pf_dir/data" "$pf_dir/mail"
	chmod 755 "$pf_dir" "$pf_dir/etc" "$pf_dir/queue"
	chown postfix:postfix "$pf_dir/data"
	chown "$BENCH_UID:$BENCH_GID" "$pf_dir/mail"
	cat >"$pf_dir/etc/main.cf" <<EOF
# private Postfix instance for postern's benchmarks (bench/lib.sh)
compatibility_level = 3.6
config_directory = $pf_dir/etc
queue_directory = $pf_dir/queue
data_directory = $pf_dir/data
maillog_file = $pf_dir/maillog
myhostname = postfix-bench.localdomain
mydomain = localdomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP
biff = no
# room for 100 (or, for the idle-memory run, 1000) simultaneous sessions
default_process_limit = $pf_plimit
# no per-client throttling of the loopback load generator
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
smtpd_client_new_tls_session_rate_limit = 0
# Maildir delivery for bench@example.test (trailing slash = Maildir)
virtual_mailbox_domains = example.test
virtual_mailbox_base = $pf_dir/mail
virtual_mailbox_maps = texthash:$pf_dir/etc/vmailbox
virtual_uid_maps = static:$BENCH_UID
virtual_gid_maps = static:$BENCH_GID
virtual_minimum_uid = 100
EOF
	printf 'bench@example.test example.test/bench/\n' >"$pf_dir/etc/vmailbox"
	# Debian's master.cf services, not chrooted (so the private queue needs
	# no copies of /etc), the smtp listener only on 127.0.0.1:PORT.
	cat >"$pf_dir/etc/master.cf" <<EOF
127.0.0.1:$pf_port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	pf_maildir="$pf_dir/mail/example.test/bench"
}

# pf_start DIR PORT: start the instance, wait until the port greets.
pf_start() {
	port_free "$2" || die "port $2 is already in use"
	postfix -c "$1/etc" check >"$1/start.log" 2>&1 ||
		{ cat "$1/start.log" >&2; die "postfix check failed for $1"; }
	postfix -c "$1/etc" start >>"$1/start.log" 2>&1 ||
		{ cat "$1/start.log" >&2; die "postfix start failed for $1"; }
	wait_port "$2" 30 || { tail -20 "$1/maillog" >&2; die "postfix on port $2 does not answer"; }
}

# pf_master_pid DIR
pf_master_pid() {
	head -1 "$1/queue/pid/master.pid" 2>/dev/null | tr -d ' '
}

# pf_stop DIR: stop the instance and wait (bounded) until its master is gone
pf_stop() {
	[ -d "$1/etc" ] || return 0
	pid=$(pf_master_pid "$1")
	postfix -c "$1/etc" stop >/dev/null 2>&1 || true
	if [ -n "$pid" ]; then
		i=0
		while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
			sleep 0.1; i=$((i + 1))
		done
		if kill -0 "$pid" 2>/dev/null; then
			warn "postfix master $pid did not stop; killing it"
			kill -9 "$pid" 2>/dev/null || true
		fi
	fi
}

# ---------------------------------------------------------------- postern
POSTERN="$TOP/bin/postern"

postern_ready() {
	for p in postern postern-master postern-smtpd postern-inject postern-qmgr postern-local; do
		[ -x "$TOP/bin/$p" ] || { warn "missing $TOP/bin/$p"; return 1; }
	done
}

# pn_setup DIR PORT_BASE [LIMIT]: a postern instance for
# bench@example.test; smtp on 127.0.0.1:PORT_BASE+25. The smtpd limits on
# sessions per client and per service are raised to at least LIMIT.
pn_setup() {
	pn_dir=$1 pn_base=$2 pn_limit=${3:-110}
	pn_conf="$pn_dir/etc/postern.conf"
	"$POSTERN" init "$pn_dir" --domain example.test --port-base "$pn_base" >"$pn_dir.init.log" 2>&1 ||
		{ cat "$pn_dir.init.log" >&2; rm -f "$pn_dir.init.log"; die "postern init $pn_dir failed"; }
	mv "$pn_dir.init.log" "$pn_dir/init.log"
	echo "bench-password-not-used" | "$POSTERN" -c "$pn_conf" user add bench@example.test >/dev/null ||
		die "postern user add failed"
	# only the smtp listener: nothing else is measured
	for k in listen_submission listen_smtps listen_pop3 listen_pop3s listen_imap listen_imaps; do
		"$POSTERN" -c "$pn_conf" config set "$k=" >/dev/null || die "config set $k failed"
	done
	need=$pn_limit
	for k in smtpd_client_connection_limit smtpd_process_limit; do
		if cur=$("$POSTERN" -c "$pn_conf" config get "$k" 2>/dev/null); then
			cur=${cur##*= }
			case "$cur" in
			'' | *[!0-9]*) ;;
			*) if [ "$cur" -ne 0 ] && [ "$cur" -lt "$need" ]; then
				"$POSTERN" -c "$pn_conf" config set "$k=$need" >/dev/null || die "config set $k failed"
			fi ;;
			esac
		fi
	done
	# PN_SET="key=value ..." : extra settings for experiments (none by default)
	for kv in ${PN_SET:-}; do
		"$POSTERN" -c "$pn_conf" config set "$kv" >/dev/null || die "config set $kv failed"
	done
	chk=$("$POSTERN" -c "$pn_conf" config check 2>&1) || { say "$chk" >&2; die "postern config check failed"; }
	pn_port=$((pn_base + 25))
	pn_maildir="$pn_dir/mail/example.test/bench"
}

# pn_start DIR: start the instance (postern start returns once it listens)
pn_start() {
	port_free "$pn_port" || die "port $pn_port is already in use"
	"$POSTERN" -c "$1/etc/postern.conf" start >"$1/start.log" 2>&1 ||
		{ cat "$1/start.log" >&2; die "postern start failed for $1"; }
	wait_port "$pn_port" 30 || die "postern on port $pn_port does not answer"
}

pn_stop() {
	[ -f "$1/etc/postern.conf" ] || return 0
	timeout 60 "$POSTERN" -c "$1/etc/postern.conf" stop >/dev/null 2>&1 ||
		warn "postern stop for $1 failed or timed out"
}

# pids_of_exe PATH: pids of processes whose executable is PATH
pids_of_exe() {
	for d in /proc/[0-9]*; do
		[ "$(readlink "$d/exe" 2>/dev/null)" = "$1" ] && echo "${d#/proc/}"
	done
	return 0
}
