#!/bin/sh
# tests/check-deps.sh build|install
#   build:   report missing build dependencies with the exact apt-get line
#   install: apt-get install whatever build or test dependency is missing
BUILD_PKGS="gcc make libssl-dev libcdb-dev libdb-dev libcrypt-dev libunbound-dev libseccomp-dev"
TEST_PKGS="python3 openssl iproute2 swaks libnet-ssleay-perl clang libclang-rt-14-dev tinycdb procps passwd fetchmail dnsmasq-base python3-aiosmtpd dovecot-core dovecot-imapd"
mode=${1:-build}
missing() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
	done
}
case $mode in
build)
	m=$(missing $BUILD_PKGS | tr '\n' ' ')
	if [ -n "$m" ]; then
		echo "missing build dependencies; install them with:" >&2
		echo "    apt-get install $m" >&2
		echo "(or run: make deps)" >&2
		exit 1
	fi ;;
install)
	m=$(missing $BUILD_PKGS $TEST_PKGS | tr '\n' ' ')
	[ -z "$m" ] && exit 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing: $m -- run 'make deps' as root" >&2
		exit 1
	fi
	echo "installing: $m"
	export DEBIAN_FRONTEND=noninteractive
	# a package may start a system daemon (dovecot); only the tests'
	# private instances are wanted, so stop exactly what the install started
	before=$(pgrep -x dovecot 2>/dev/null | tr '\n' ' ')
	apt-get update -qq || exit 1
	apt-get install -y -qq --no-install-recommends $m || exit 1
	for pid in $(pgrep -x dovecot 2>/dev/null); do
		case " $before " in *" $pid "*) continue ;; esac
		echo "deps: stopping the system dovecot the install started (pid $pid)"
		kill "$pid" 2>/dev/null
	done ;;
esac
