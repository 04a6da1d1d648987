#!/bin/sh
# tests/trial-run.sh - "make run": a complete trial instance in ./run on
# port base 10000, domain example.test, user demo@example.test, in the
# foreground. Ctrl-C stops it and every process it started.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
inst=$top/run
conf=$inst/etc/postern.conf
postern=$top/bin/postern
base=10000

if [ ! -f "$conf" ]; then
	"$postern" init "$inst" --domain example.test \
		--hostname mail.example.test --port-base $base
	pw=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
	umask 077
	printf '%s\n' "$pw" > "$inst/demo-password"
	printf '%s\n' "$pw" | "$postern" -c "$conf" user add demo@example.test
fi
pw=$(cat "$inst/demo-password")
cat <<TXT

postern trial instance in $inst
  user      demo@example.test
  password  $pw
  smtp        127.0.0.1:$((base + 25))     submission  127.0.0.1:$((base + 87))
  smtps       127.0.0.1:$((base + 65))     pop3        127.0.0.1:$((base + 10))
  pop3s       127.0.0.1:$((base + 95))     imap        127.0.0.1:$((base + 43))
  imaps       127.0.0.1:$((base + 93))
  (a service whose program is not built yet is not listed by 'status')
  status    $postern -c $conf status
  log       below, and in $inst/log/postern.log
Ctrl-C stops it.

TXT
exec "$postern" -c "$conf" start -f
