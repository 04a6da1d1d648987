#!/bin/sh
# bench/deps.sh - install what the benchmarks need (Debian 12, as root).
# Idempotent: installs only what is missing. Dovecot (dovecot-core,
# dovecot-pop3d, dovecot-imapd: the POP3 and IMAP baseline, run only as
# private instances) is
# installed the same way: should its install start a system dovecot, that
# master (and only that one) is stopped again. Postfix is installed with
# "No configuration" so that the package does not set up or start a
# system-wide mail system; if its install starts a postfix master anyway,
# that one (and only that one) is stopped again.
set -eu

need=""
[ -x /usr/sbin/smtp-source ] && [ -x /usr/sbin/postfix ] || need="$need postfix"
[ -x /usr/bin/python3 ] || need="$need python3"
[ -x /usr/sbin/dovecot ] && [ -x /usr/bin/doveadm ] || need="$need dovecot-core"
[ -x /usr/lib/dovecot/pop3 ] && [ -x /usr/lib/dovecot/pop3-login ] || need="$need dovecot-pop3d"
[ -x /usr/lib/dovecot/imap ] && [ -x /usr/lib/dovecot/imap-login ] || need="$need dovecot-imapd"

if [ -z "$need" ]; then
	echo "deps: all present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$need; run as root: apt-get install$need" >&2
	exit 1
fi

# masters running before the install are not ours to stop
before=$(pgrep -x master 2>/dev/null | tr '\n' ' ' || true)
dc_before=$(pgrep -x dovecot 2>/dev/null | tr '\n' ' ' || true)

echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends $need; then
	apt-get update
	apt-get install -y --no-install-recommends $need
fi

# If the package started a system postfix, stop exactly that one.
for pid in $(pgrep -x master 2>/dev/null || true); do
	case " $before " in *" $pid "*) continue ;; esac
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
	case "$exe" in
	/usr/lib/postfix/sbin/master)
		echo "deps: stopping the system postfix the install started (pid $pid)"
		postfix stop 2>/dev/null || kill "$pid" 2>/dev/null || true
		;;
	esac
done
# The same for a system dovecot the install may have started: its master
# is /usr/sbin/dovecot with the system configuration (no -c of ours).
for pid in $(pgrep -x dovecot 2>/dev/null || true); do
	case " $dc_before " in *" $pid "*) continue ;; esac
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
	case "$exe" in
	/usr/sbin/dovecot)
		echo "deps: stopping the system dovecot the install started (pid $pid)"
		kill "$pid" 2>/dev/null || true
		;;
	esac
done
# keep them from starting at boot as well (we only use private instances)
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	case "$need" in *postfix*) systemctl disable --now postfix.service >/dev/null 2>&1 || true ;; esac
	case "$need" in *dovecot*) systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true ;; esac
fi
echo "deps: installed:$need"
