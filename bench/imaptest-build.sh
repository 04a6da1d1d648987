#!/bin/sh
# bench/imaptest-build.sh SOURCE [DEST] - build Dovecot's imaptest (the
# IMAP compliance tester; not in Debian) against Debian 12's Dovecot 2.3
# libraries, for local runs only (never in `make deps` or CI).
#
# SOURCE is a git clone of https://github.com/dovecot/imaptest (or its
# bare mirror). imaptest's main branch follows Dovecot 2.4's library API,
# so the build takes commit IMAPTEST_COMMIT (924f619, 2022-03-09: the
# last one before the 2.4 API changes) and its own src/tests/ (the newer
# tests need the newer parser). Debian's 2.3.19.1 headers have the
# four-argument imap_parser_create() of a later 2.3 security fix; the
# three calls get a NULL params argument when the header has it.
#
# Needs: dovecot-dev, autoconf, automake, libtool, make, gcc, pkg-config
# (apt-get install them yourself; this script installs nothing). DEST
# (default /work/imaptest) gets build/ (the sources), bin/imaptest (linked
# with an rpath to /usr/lib/dovecot) and tests/ (the compliance scripts).
set -eu
IMAPTEST_COMMIT=${IMAPTEST_COMMIT:-924f619}
[ $# -ge 1 ] || { echo "usage: sh bench/imaptest-build.sh SOURCE [DEST]" >&2; exit 2; }
src=$1
dest=${2:-/work/imaptest}
for t in autoreconf automake libtoolize make cc; do
	command -v "$t" >/dev/null 2>&1 || { echo "imaptest-build: $t missing (apt-get install autoconf automake libtool make gcc)" >&2; exit 1; }
done
[ -f /usr/lib/dovecot/dovecot-config ] && [ -f /usr/include/dovecot/imap-parser.h ] ||
	{ echo "imaptest-build: dovecot-dev missing (apt-get install dovecot-dev)" >&2; exit 1; }

rm -rf "$dest/build"
mkdir -p "$dest/build" "$dest/bin"
git -C "$src" archive "$IMAPTEST_COMMIT" | tar -x -C "$dest/build"
cd "$dest/build"
# no .git here: git-version-gen reads the version from this file
echo "0.0.0-$IMAPTEST_COMMIT" >version
if grep -q 'imap_parser_params' /usr/include/dovecot/imap-parser.h &&
	grep -q 'imap_parser_create(.*(size_t)-1);' src/*.c; then
	sed -i 's/imap_parser_create(\(.*\), (size_t)-1);/imap_parser_create(\1, (size_t)-1, NULL);/' \
		src/commands.c src/imap-client.c src/test-parser.c
fi
./autogen.sh >build.log 2>&1
./configure --with-dovecot=/usr/lib/dovecot LDFLAGS="-Wl,-rpath,/usr/lib/dovecot" >>build.log 2>&1
make -j"${JOBS:-1}" >>build.log 2>&1 || { tail -20 build.log >&2; exit 1; }
cp src/imaptest "$dest/bin/imaptest"
rm -rf "$dest/tests"
cp -R src/tests "$dest/tests"
echo "imaptest-build: $dest/bin/imaptest (imaptest $IMAPTEST_COMMIT), its compliance scripts in $dest/tests"
