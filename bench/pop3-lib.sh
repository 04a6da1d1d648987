# bench/pop3-lib.sh - helpers for the POP3 benchmarks (sourced by sh after
# bench/lib.sh): a private postern instance serving POP3 and a private
# Dovecot instance, both on 127.0.0.1, both for bench@example.test with the
# password in POP3_PASS. Every wait is bounded; only the processes started
# here are stopped, by their own stop commands or by the PID they recorded.

POP3_USER=bench@example.test
POP3_PASS=${POP3_PASS:-bench-pop3-password}
DOVECOT=/usr/sbin/dovecot

# wait_pop3 PORT [SECONDS]: until something on 127.0.0.1:PORT greets +OK
wait_pop3() {
	"$PY" - "$1" "${2:-30}" <<'EOF'
import socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
end = time.monotonic() + limit
while time.monotonic() < end:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.settimeout(5)
        greet = s.recv(512)
        s.sendall(b"QUIT\r\n")
        s.close()
        if greet.startswith(b"+OK"):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
EOF
}

# copy_maildir TEMPLATE DEST OWNER: DEST/{new,cur,tmp} with TEMPLATE's
# files (DEST may exist, empty), owned by OWNER (uid:gid)
copy_maildir() {
	mkdir -p "$2"
	for sub in new cur tmp; do
		mkdir -p "$2/$sub"
		cp -pR "$1/$sub/." "$2/$sub/" || die "copying $1/$sub failed"
	done
	chown -R "$3" "$2"
	chmod 700 "$2" "$2/new" "$2/cur" "$2/tmp"
}

# ---------------------------------------------------------------- postern
postern_pop3_ready() {
	for p in postern postern-master postern-auth postern-pop3 postern-pop3-login; do
		[ -x "$(dirname "$POSTERN")/$p" ] || { warn "missing $(dirname "$POSTERN")/$p"; return 1; }
	done
}

# pn3_setup DIR PORT_BASE TEMPLATE [LIMIT]: a postern instance with only the
# pop3 listener (127.0.0.1:PORT_BASE+10), bench@example.test whose Maildir
# holds TEMPLATE's messages; pop3_process_limit and
# pop3_max_user_connections raised to LIMIT if they are lower.
pn3_setup() {
	pn_dir=$1 pn_base=$2 pn_tpl=$3 pn_limit=${4:-0}
	pn_conf="$pn_dir/etc/postern.conf"
	"$POSTERN" init "$pn_dir" --domain example.test --port-base "$pn_base" >"$pn_dir.init.log" 2>&1 ||
		{ cat "$pn_dir.init.log" >&2; rm -f "$pn_dir.init.log"; die "postern init $pn_dir failed"; }
	mv "$pn_dir.init.log" "$pn_dir/init.log"
	echo "$POP3_PASS" | "$POSTERN" -c "$pn_conf" user add "$POP3_USER" >/dev/null ||
		die "postern user add failed"
	for k in listen_smtp listen_submission listen_smtps listen_pop3s listen_imap listen_imaps; do
		"$POSTERN" -c "$pn_conf" config set "$k=" >/dev/null || die "config set $k failed"
	done
	for k in pop3_process_limit pop3_max_user_connections; do
		cur=$("$POSTERN" -c "$pn_conf" config get "$k" 2>/dev/null) || die "config get $k failed"
		cur=${cur##*= }
		case "$cur" in '' | *[!0-9]*) die "config get $k: $cur" ;; esac
		if [ "$cur" -lt "$pn_limit" ]; then
			"$POSTERN" -c "$pn_conf" config set "$k=$pn_limit" >/dev/null || die "config set $k failed"
		fi
	done
	for kv in ${PN_SET:-}; do
		"$POSTERN" -c "$pn_conf" config set "$kv" >/dev/null || die "config set $kv failed"
	done
	chk=$("$POSTERN" -c "$pn_conf" config check 2>&1) || { say "$chk" >&2; die "postern config check failed"; }
	pn_port=$((pn_base + 10))
	mr=$("$POSTERN" -c "$pn_conf" config get mail_root)
	mr=${mr##*= }
	pn_maildir="$mr/example.test/bench"
	[ -d "$pn_maildir/new" ] || die "no Maildir $pn_maildir after user add"
	owner=$(stat -c %u:%g "$pn_maildir")
	copy_maildir "$pn_tpl" "$pn_maildir" "$owner"
	qd=$("$POSTERN" -c "$pn_conf" config get queue_dir)
	pn_pidfile="${qd##*= }/pid/master.pid"
}

pn3_start() {
	port_free "$pn_port" || die "port $pn_port is already in use"
	"$POSTERN" -c "$1/etc/postern.conf" start >"$1/start.log" 2>&1 ||
		{ cat "$1/start.log" >&2; die "postern start failed for $1"; }
	wait_pop3 "$pn_port" 30 || die "postern pop3 on port $pn_port does not answer"
	pn_master=$(head -1 "$pn_pidfile" 2>/dev/null | tr -d ' ')
}

pn3_stop() {
	[ -f "$1/etc/postern.conf" ] || return 0
	timeout 60 "$POSTERN" -c "$1/etc/postern.conf" stop >/dev/null 2>&1 ||
		warn "postern stop for $1 failed or timed out"
}

# ---------------------------------------------------------------- Dovecot
# dc_setup DIR PORT TEMPLATE [LIMIT]: a private Dovecot (config DIR/dovecot.conf,
# base_dir DIR/run, state_dir DIR/state, log DIR/dovecot.log) with only a
# pop3 listener on 127.0.0.1:PORT, no TLS, plaintext logins allowed (the
# client is on loopback), bench@example.test in a passwd-file with a
# {PLAIN} password, its Maildir DIR/mail/example.test/bench (TEMPLATE's
# messages) owned by BENCH_UID:BENCH_GID (nobody), pop3_uidl_format = %f.
# Everything else is Dovecot's built-in default, index files included.
# With LIMIT, the process and client limits allow LIMIT logged-in clients
# of the one user at once.
dc_setup() {
	dc_dir=$1 dc_port=$2 dc_tpl=$3 dc_limit=${4:-0}
	mkdir -p "$dc_dir/mail/example.test" "$dc_dir/state"
	chmod 755 "$dc_dir" "$dc_dir/mail" "$dc_dir/mail/example.test"
	chown "$BENCH_UID:$BENCH_GID" "$dc_dir/mail/example.test"
	printf '%s:{PLAIN}%s:%s:%s::%s::\n' "$POP3_USER" "$POP3_PASS" "$BENCH_UID" "$BENCH_GID" \
		"$dc_dir/mail/example.test/bench" >"$dc_dir/users"
	chmod 644 "$dc_dir/users"
	limits=""
	if [ "$dc_limit" -gt 0 ]; then
		limits="
# room for $dc_limit logged-in clients of the one user (pop3 runs one
# process per client, pop3-login one per client until it has logged in)
default_process_limit = $((dc_limit + 100))
default_client_limit = $((dc_limit * 2 + 200))
mail_max_userip_connections = $((dc_limit + 10))
service pop3 {
  process_limit = $((dc_limit + 100))
}
service pop3-login {
  process_limit = $((dc_limit + 100))
}
service anvil {
  client_limit = $((dc_limit * 3 + 300))
}
service auth {
  client_limit = $((dc_limit * 3 + 300))
}"
	fi
	cat >"$dc_dir/dovecot.conf" <<EOF
# private Dovecot for postern's POP3 benchmarks (bench/pop3-lib.sh)
instance_name = dovecot-bench-$dc_port
base_dir = $dc_dir/run
state_dir = $dc_dir/state
log_path = $dc_dir/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dc_dir/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $dc_dir/users
}
mail_location = maildir:$dc_dir/mail/%d/%n
mail_uid = $BENCH_UID
mail_gid = $BENCH_GID
pop3_uidl_format = %f
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $dc_port
  }
  inet_listener pop3s {
    port = 0
  }
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 0
  }
}
$limits
EOF
	copy_maildir "$dc_tpl" "$dc_dir/mail/example.test/bench" "$BENCH_UID:$BENCH_GID"
	dc_maildir="$dc_dir/mail/example.test/bench"
}

# dc_start DIR: start it, wait until the port greets; dc_master = its pid
dc_start() {
	port_free "$dc_port" || die "port $dc_port is already in use"
	"$DOVECOT" -c "$1/dovecot.conf" >"$1/start.log" 2>&1 ||
		{ cat "$1/start.log" "$1/dovecot.log" >&2 2>/dev/null; die "dovecot start failed for $1"; }
	wait_pop3 "$dc_port" 30 || { tail -20 "$1/dovecot.log" >&2; die "dovecot on port $dc_port does not answer"; }
	dc_master=$(head -1 "$1/run/master.pid" 2>/dev/null | tr -d ' ')
}

# dc_stop DIR: stop it through doveadm (else its master pid), bounded wait
dc_stop() {
	[ -f "$1/dovecot.conf" ] || return 0
	pid=$(head -1 "$1/run/master.pid" 2>/dev/null | tr -d ' ')
	[ -n "$pid" ] || return 0
	timeout 30 doveadm -c "$1/dovecot.conf" stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
	i=0
	while [ $i -lt 150 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		warn "dovecot master $pid did not stop; killing it"
		kill -9 "$pid" 2>/dev/null || true
	fi
}

# tree_cpu ROOTPID: CPU seconds of the process tree (live + reaped)
tree_cpu() {
	"$PY" "$BENCH_DIR/proccpu.py" "$1" | sed -n 's/^cpu_s=//p'
}

# pn3_snapshot DIR: copy the built programs (bin/postern*) into DIR/bin and
# use them from there, so that a rebuild of bin/ during a long run does not
# change the programs under test (they find each other beside themselves).
# Prints what was copied: the commit, whether pop3d/ or common/ had local
# changes, and the build time and hash of postern-pop3.
pn3_snapshot() {
	mkdir -p "$1/bin"
	chmod 755 "$1" "$1/bin"
	for f in "$TOP"/bin/postern*; do
		[ -f "$f" ] && cp -p "$f" "$1/bin/"
	done
	POSTERN="$1/bin/postern"
	rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)
	if [ -n "$(git -C "$TOP" status --porcelain -- pop3d common auth master 2>/dev/null)" ]; then
		rev="$rev+local-changes"
	fi
	p3="$1/bin/postern-pop3"
	if [ -f "$p3" ]; then
		echo "postern $rev, postern-pop3 built $(date -u -r "$p3" '+%Y-%m-%d %H:%M UTC') sha256 $(sha256sum "$p3" | cut -c1-12)"
	else
		echo "postern $rev, no postern-pop3"
	fi
}
