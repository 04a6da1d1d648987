# bench/imap-lib.sh - helpers for the IMAP benchmark (sourced by sh after
# bench/lib.sh and bench/pop3-lib.sh): a private postern instance serving
# IMAP and POP3, and a private Dovecot serving the same, both on 127.0.0.1,
# both for bench@example.test with the same password hashed the same way
# (yescrypt, crypt(3)'s default cost, as `postern user add` writes it), both
# on a hard-link copy (cp -al) of one generated Maildir.
#
# Hard links share the inode, so both copies have one owner: the template's
# files belong to MAIL_OWNER (postern-mail when it exists, so that Dovecot
# runs as the very user postern's mailbox processes run as; else nobody),
# and Dovecot's mail_uid is that user. A server renaming a file (flags,
# new/ -> cur/) renames its own link only; neither server rewrites a
# message, so the copies stay independent.

IMAP_USER=bench@example.test
IMAP_PASS=${IMAP_PASS:-bench-imap-password}

if id postern-mail >/dev/null 2>&1; then
	MAIL_OWNER=${MAIL_OWNER:-postern-mail}
else
	MAIL_OWNER=${MAIL_OWNER:-nobody}
fi

# wait_imap PORT [SECONDS]: until something on 127.0.0.1:PORT greets "* OK"
wait_imap() {
	"$PY" - "$1" "${2:-30}" <<'EOF'
import socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
end = time.monotonic() + limit
while time.monotonic() < end:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.settimeout(5)
        greet = s.recv(512)
        s.sendall(b"z LOGOUT\r\n")
        s.close()
        if greet.startswith(b"* OK"):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
EOF
}

# pw_yescrypt PASSWORD: a crypt(3) yescrypt hash ("$y$...") made the way
# postern's pwhash_create makes one (crypt_gensalt "$y$", count 0: the
# library's default cost)
pw_yescrypt() {
	"$PY" - "$1" <<'EOF'
import ctypes, sys
lc = ctypes.CDLL("libcrypt.so.1")
lc.crypt_gensalt.restype = ctypes.c_char_p
lc.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
lc.crypt.restype = ctypes.c_char_p
lc.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
setting = lc.crypt_gensalt(b"$y$", 0, None, 0)
h = lc.crypt(sys.argv[1].encode(), setting) if setting else None
if not h or h.startswith(b"*"):
    sys.exit("yescrypt is not available in libcrypt")
print(h.decode())
EOF
}

# link_maildir TEMPLATE DEST OWNER: DEST/{new,cur,tmp} holding hard links to
# TEMPLATE's files, dovecot-keywords copied; the directories owned by OWNER
# (user:group), mode 0700. The files keep the template's owner and mode.
link_maildir() {
	mkdir -p "$2"
	for sub in new cur tmp; do
		mkdir -p "$2/$sub"
		cp -al "$1/$sub/." "$2/$sub/" || die "linking $1/$sub failed"
	done
	[ -f "$1/dovecot-keywords" ] && cp -p "$1/dovecot-keywords" "$2/"
	chown "$3" "$2" "$2/new" "$2/cur" "$2/tmp"
	[ -f "$2/dovecot-keywords" ] && chown "$3" "$2/dovecot-keywords"
	chmod 700 "$2" "$2/new" "$2/cur" "$2/tmp"
}

# warm_cache DIR: read every file under DIR once, so that the server about
# to be measured finds the messages in the page cache whatever ran before
warm_cache() {
	find "$1" -type f -print0 | xargs -0 cat >/dev/null
}

# ---------------------------------------------------------------- postern
postern_imap_ready() {
	for p in postern postern-master postern-auth postern-imap postern-imap-login postern-pop3 postern-pop3-login; do
		[ -x "$(dirname "$POSTERN")/$p" ] || { warn "missing $(dirname "$POSTERN")/$p"; return 1; }
	done
}

# pni_raise KEY MIN: raise a numeric setting to MIN if it is lower (and
# not 0 = unlimited); a key the build does not know is left alone
pni_raise() {
	cur=$("$POSTERN" -c "$pn_conf" config get "$1" 2>/dev/null) || return 0
	cur=${cur##*= }
	case "$cur" in '' | *[!0-9]*) return 0 ;; esac
	if [ "$cur" -ne 0 ] && [ "$cur" -lt "$2" ]; then
		"$POSTERN" -c "$pn_conf" config set "$1=$2" >/dev/null || die "config set $1 failed"
	fi
}

# pni_setup DIR PORT_BASE TEMPLATE [LIMIT]: a postern instance with only the
# imap (PORT_BASE+43) and pop3 (PORT_BASE+10) listeners; bench@example.test
# whose Maildir is a hard-link copy of TEMPLATE; per-user and per-service
# session limits raised to LIMIT where lower.
pni_setup() {
	pn_dir=$1 pn_base=$2 pn_tpl=$3 pn_limit=${4:-0}
	pn_conf="$pn_dir/etc/postern.conf"
	"$POSTERN" init "$pn_dir" --domain example.test --port-base "$pn_base" >"$pn_dir.init.log" 2>&1 ||
		{ cat "$pn_dir.init.log" >&2; rm -f "$pn_dir.init.log"; die "postern init $pn_dir failed"; }
	mv "$pn_dir.init.log" "$pn_dir/init.log"
	echo "$IMAP_PASS" | "$POSTERN" -c "$pn_conf" user add "$IMAP_USER" >/dev/null ||
		die "postern user add failed"
	for k in listen_smtp listen_submission listen_smtps listen_pop3s listen_imaps; do
		"$POSTERN" -c "$pn_conf" config set "$k=" >/dev/null || die "config set $k failed"
	done
	for k in imap_process_limit imap_max_user_connections pop3_process_limit pop3_max_user_connections; do
		pni_raise "$k" "$pn_limit"
	done
	for kv in ${PN_SET:-}; do
		"$POSTERN" -c "$pn_conf" config set "$kv" >/dev/null || die "config set $kv failed"
	done
	chk=$("$POSTERN" -c "$pn_conf" config check 2>&1) || { say "$chk" >&2; die "postern config check failed"; }
	pn_imap_port=$((pn_base + 43))
	pn_pop3_port=$((pn_base + 10))
	mr=$("$POSTERN" -c "$pn_conf" config get mail_root)
	mr=${mr##*= }
	pn_maildir="$mr/example.test/bench"
	[ -d "$pn_maildir/new" ] || die "no Maildir $pn_maildir after user add"
	owner=$(stat -c %u:%g "$pn_maildir")
	rm -rf "$pn_maildir/new" "$pn_maildir/cur" "$pn_maildir/tmp"
	link_maildir "$pn_tpl" "$pn_maildir" "$owner"
	qd=$("$POSTERN" -c "$pn_conf" config get queue_dir)
	pn_pidfile="${qd##*= }/pid/master.pid"
}

pni_start() {
	port_free "$pn_imap_port" || die "port $pn_imap_port is already in use"
	"$POSTERN" -c "$1/etc/postern.conf" start >"$1/start.log" 2>&1 ||
		{ cat "$1/start.log" >&2; die "postern start failed for $1"; }
	wait_imap "$pn_imap_port" 30 || die "postern imap on port $pn_imap_port does not answer"
	pn_master=$(head -1 "$pn_pidfile" 2>/dev/null | tr -d ' ')
}

# pni_index_kib DIR: KiB on disk of postern's index files (postern-uidlog,
# postern-index.db*) anywhere under the instance
pni_index_kib() {
	find "$1" \( -name 'postern-uidlog*' -o -name 'postern-index.db*' \) -type f -print0 |
		du -ck --files0-from=- 2>/dev/null | awk 'END { print ($1 == "" ? 0 : $1) }'
}

# ---------------------------------------------------------------- Dovecot
# dci_setup DIR IMAP_PORT POP3_PORT TEMPLATE [LIMIT]: a private Dovecot
# (config DIR/dovecot.conf, base_dir DIR/run, state_dir DIR/state, log
# DIR/dovecot.log) with imap on 127.0.0.1:IMAP_PORT and pop3 on
# 127.0.0.1:POP3_PORT, no TLS, plaintext logins allowed (loopback),
# bench@example.test in a passwd-file with a {CRYPT} yescrypt hash, its
# Maildir DIR/mail/example.test/bench (hard links to TEMPLATE's files)
# served as MAIL_OWNER, pop3_uidl_format = %f (postern's UIDL). Everything
# else is Dovecot's default: index files beside the Maildir, mail_fsync
# optimized, no auth cache, one imap process per session, no hibernation.
# With LIMIT, the process and client limits allow LIMIT logged-in sessions
# of the one user at once.
dci_setup() {
	dc_dir=$1 dc_port=$2 dc_pop3_port=$3 dc_tpl=$4 dc_limit=${5:-0}
	mkdir -p "$dc_dir/mail/example.test" "$dc_dir/state"
	chmod 755 "$dc_dir" "$dc_dir/mail" "$dc_dir/mail/example.test"
	ouid=$(id -u "$MAIL_OWNER") ogid=$(id -g "$MAIL_OWNER")
	chown "$ouid:$ogid" "$dc_dir/mail/example.test"
	hash=$(pw_yescrypt "$IMAP_PASS") || die "cannot make a yescrypt hash"
	printf '%s:{CRYPT}%s:%s:%s::%s::\n' "$IMAP_USER" "$hash" "$ouid" "$ogid" \
		"$dc_dir/mail/example.test/bench" >"$dc_dir/users"
	chmod 644 "$dc_dir/users"
	limits=""
	if [ "$dc_limit" -gt 0 ]; then
		limits="
# room for $dc_limit logged-in sessions of the one user (imap runs one
# process per session, imap-login one per connection until it has logged in)
default_process_limit = $((dc_limit + 100))
default_client_limit = $((dc_limit * 2 + 200))
mail_max_userip_connections = $((dc_limit + 10))
service imap {
  process_limit = $((dc_limit + 100))
}
service imap-login {
  process_limit = $((dc_limit + 100))
}
service pop3 {
  process_limit = $((dc_limit + 100))
}
service pop3-login {
  process_limit = $((dc_limit + 100))
}
service anvil {
  client_limit = $((dc_limit * 4 + 500))
}
service auth {
  client_limit = $((dc_limit * 3 + 300))
}
service stats {
  client_limit = $((dc_limit * 3 + 300))
}"
	fi
	cat >"$dc_dir/dovecot.conf" <<EOF
# private Dovecot for postern's IMAP benchmark (bench/imap-lib.sh)
instance_name = dovecot-bench-$dc_port
base_dir = $dc_dir/run
state_dir = $dc_dir/state
log_path = $dc_dir/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%u $dc_dir/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $dc_dir/users
}
mail_location = maildir:$dc_dir/mail/%d/%n
mail_uid = $ouid
mail_gid = $ogid
first_valid_uid = 1
pop3_uidl_format = %f
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $dc_port
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $dc_pop3_port
  }
  inet_listener pop3s {
    port = 0
  }
}
$limits
EOF
	link_maildir "$dc_tpl" "$dc_dir/mail/example.test/bench" "$ouid:$ogid"
	dc_maildir="$dc_dir/mail/example.test/bench"
}

# dci_start DIR: start it, wait until imap greets; dc_master = its pid
dci_start() {
	port_free "$dc_port" || die "port $dc_port is already in use"
	port_free "$dc_pop3_port" || die "port $dc_pop3_port is already in use"
	"$DOVECOT" -c "$1/dovecot.conf" >"$1/start.log" 2>&1 ||
		{ cat "$1/start.log" "$1/dovecot.log" >&2 2>/dev/null; die "dovecot start failed for $1"; }
	wait_imap "$dc_port" 30 || { tail -20 "$1/dovecot.log" >&2; die "dovecot imap on port $dc_port does not answer"; }
	dc_master=$(head -1 "$1/run/master.pid" 2>/dev/null | tr -d ' ')
}

# dci_index_kib MAILDIR: KiB on disk of Dovecot's index files of the
# folder (dovecot.index*: index, log, cache), then of dovecot-uidlist
dci_index_kib() {
	set -- "$1"/dovecot.index*
	if [ -e "$1" ]; then du -ck "$@" | awk 'END { print $1 }'; else echo 0; fi
}
dci_uidlist_kib() {
	if [ -f "$1/dovecot-uidlist" ]; then du -k "$1/dovecot-uidlist" | awk '{ print $1 }'; else echo 0; fi
}
