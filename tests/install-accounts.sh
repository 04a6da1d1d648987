#!/bin/sh
# tests/install-accounts.sh DESTDIR - called by "make install": when run as
# root into the real root (no DESTDIR), create postern's accounts the way
# "postern init" does. Packagers (DESTDIR set) create them in their
# maintainer scripts instead.
destdir=$1
[ -n "$destdir" ] && exit 0
[ "$(id -u)" -eq 0 ] || { echo "not root: accounts not created (run 'postern init' as root)"; exit 0; }
getent group postern-authc >/dev/null || groupadd --system postern-authc || exit 1
for a in postern-smtpd:postern-authc postern-queue: postern-mail: postern-remote: postern-auth: postern-login:postern-authc; do
	name=${a%%:*}; groups=${a#*:}
	if ! getent passwd "$name" >/dev/null; then
		if [ -n "$groups" ]; then
			useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group --groups "$groups" "$name" || exit 1
		else
			useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$name" || exit 1
		fi
	fi
done
