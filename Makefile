# postern - top-level Makefile (GNU make, no autotools)
#
#   make            build every program into bin/
#   make deps       install missing build and test dependencies (apt-get)
#   make run        start a trial instance in ./run on port base 10000
#   make test       build, then run every unit and integration test
#   make check-asan the test suite under AddressSanitizer + UBSan
#   make hooks      the programs with test hooks into bin-hooks/ (tests only,
#                   never installed; make test and check-asan build them)
#   make fuzz       libFuzzer targets (clang) into build/fuzz/
#   make install    PREFIX=/usr/local DESTDIR=

# plain `make` builds everything (the library rules below come first)
.DEFAULT_GOAL := all

PREFIX   ?= /usr/local
DESTDIR  ?=
SYSCONFDIR ?= /etc/postern
SPOOLDIR ?= /var/spool/postern
LIBEXECDIR = $(PREFIX)/libexec/postern
SBINDIR  = $(PREFIX)/sbin
MANDIR   = $(PREFIX)/share/man

CC       ?= cc
BUILD    ?= build
BIN      ?= bin
OPT      ?= -O2 -g
HARDEN   ?= -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection -fPIE
CFLAGS   ?= $(OPT)
WARN     = -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CPPFLAGS += -D_GNU_SOURCE -Icommon -I. -DSYSCONFDIR='"$(SYSCONFDIR)"'
# -DPOSTERN_TEST_HOOKS in the test build only (make hooks)
TESTHOOKS ?=
ALL_CFLAGS = $(WARN) $(HARDEN) $(CFLAGS) $(SAN) $(TESTHOOKS) $(CPPFLAGS)
LDHARDEN ?= -pie -Wl,-z,relro,-z,now
ALL_LDFLAGS = $(LDHARDEN) $(SAN) $(LDFLAGS)

# ---- libraries: the layers of common/ and one per program folder --------
# common/util (generic) <- common/proto, common/mail <- common/daemon
# <- common/login <- the program folders (DESIGN.md, "Source layout").
# Each program folder builds a library of everything but its mains, so unit
# tests and fuzz targets link program code; a program links its own folder's
# library and the layers below, and an archive contributes only the objects
# that are used.
LAYERS   = login daemon mail proto util
FOLDERS  = master auth smtpd queue deliver pop3d imapd
MAINS    = master/postern.c master/postern-master.c auth/postern-auth.c \
	   queue/postern-inject.c queue/postern-qmgr.c smtpd/postern-smtpd.c \
	   smtpd/sendmail.c deliver/postern-local.c deliver/postern-remote.c \
	   pop3d/postern-pop3-login.c pop3d/postern-pop3.c \
	   imapd/postern-imap-login.c imapd/postern-imap.c
lib_src   = $(if $(filter $(1),$(LAYERS)),$(sort $(wildcard common/$(1)/*.c)),$(filter-out $(MAINS),$(sort $(wildcard $(1)/*.c))))
lib_file  = $(BUILD)/lib/lib$(1).a
ALL_LIBS := $(foreach l,$(FOLDERS) $(LAYERS),$(call lib_file,$(l)))
LIB_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(foreach l,$(FOLDERS) $(LAYERS),$(call lib_src,$(l))))
# the layers' archives in link order (a user before what it uses)
LAYER_LIBS := $(foreach l,$(LAYERS),$(call lib_file,$(l)))

define lib_rule
$(call lib_file,$(1)): $$(patsubst %.c,$$(BUILD)/%.o,$$(call lib_src,$(1)))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
endef
$(foreach l,$(FOLDERS) $(LAYERS),$(eval $(call lib_rule,$(l))))

# ---- programs: one line each: its main, its folder, the system libraries --
# Adding a daemon: a line here, a line in common/mail/services.c, a man page.
TLS_LIBS = -lssl -lcrypto
PROGRAMS = postern postern-master postern-auth postern-inject postern-smtpd \
	   postern-qmgr postern-local sendmail postern-pop3-login postern-pop3 \
	   postern-remote postern-imap-login postern-imap
MAIN_postern        := master/postern.c
MAIN_postern-master := master/postern-master.c
MAIN_postern-auth   := auth/postern-auth.c
MAIN_postern-inject := queue/postern-inject.c
MAIN_postern-qmgr   := queue/postern-qmgr.c
MAIN_postern-smtpd  := smtpd/postern-smtpd.c
MAIN_sendmail       := smtpd/sendmail.c
MAIN_postern-local  := deliver/postern-local.c
MAIN_postern-remote := deliver/postern-remote.c
MAIN_postern-pop3-login := pop3d/postern-pop3-login.c
MAIN_postern-pop3   := pop3d/postern-pop3.c
MAIN_postern-imap-login := imapd/postern-imap-login.c
MAIN_postern-imap   := imapd/postern-imap.c
# (-lseccomp: every daemon confines itself, common/daemon/service_sandbox.h)
SYSLIBS_postern        := $(TLS_LIBS) -lcdb -lcrypt
SYSLIBS_postern-master :=
SYSLIBS_postern-auth   := -lcdb -lcrypt -lcrypto -lseccomp
SYSLIBS_postern-inject := -lseccomp
SYSLIBS_postern-qmgr   := $(TLS_LIBS) -lcdb -lseccomp
SYSLIBS_postern-smtpd  := $(TLS_LIBS) -lcdb -lseccomp
SYSLIBS_sendmail       := $(TLS_LIBS)
SYSLIBS_postern-local  := -lseccomp
SYSLIBS_postern-remote := $(TLS_LIBS) -lunbound -lseccomp
SYSLIBS_postern-pop3-login := $(TLS_LIBS) -lseccomp
# (-ldb: the folder index of common/mail/imap_index.h, Berkeley DB 5.3:
# postern-imap and postern-pop3 read and write it)
SYSLIBS_postern-pop3   := $(TLS_LIBS) -ldb -lseccomp
SYSLIBS_postern-imap-login := $(TLS_LIBS) -lseccomp
SYSLIBS_postern-imap   := $(TLS_LIBS) -ldb -lseccomp
# everything, for unit tests and fuzz targets
SYSLIBS_ALL := $(TLS_LIBS) -lcdb -lcrypt -lunbound -lseccomp -ldb
PROG_BIN := $(addprefix $(BIN)/,$(PROGRAMS))

define program_rule
$(BIN)/$(1): $$(BUILD)/$$(MAIN_$(1):.c=.o) $$(call lib_file,$$(patsubst %/,%,$$(dir $$(MAIN_$(1))))) $$(LAYER_LIBS)
	@mkdir -p $$(BIN)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(SYSLIBS_$(1))
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

# ---- tests ---------------------------------------------------------------
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
# each fuzz target also links with tests/fuzz/replay.c: `make test` replays
# its corpus, tests/fuzz/corpus/NAME/, once
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/%,$(FUZZ_SRC))

.PHONY: all deps run test check-asan fuzz fuzz-libs install clean check-deps \
	programs hooks
# keep test objects: their .d files track header changes
.SECONDARY:
all: check-deps $(PROG_BIN) $(UNIT_BIN) $(FUZZ_BIN)

programs: $(PROG_BIN)

# The programs with test hooks (common/util/sandbox.h: a daemon made to
# attempt a forbidden call), for tests/integration/test_sandbox.py only.
HOOKS_BUILD = build-hooks
HOOKS_BIN = bin-hooks
hooks:
	$(MAKE) BUILD=$(HOOKS_BUILD) BIN=$(HOOKS_BIN) \
	  TESTHOOKS=-DPOSTERN_TEST_HOOKS programs

check-deps:
	@sh tests/check-deps.sh build

deps:
	@sh tests/check-deps.sh install

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SYSLIBS_ALL)

$(BUILD)/tests/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SYSLIBS_ALL)

test: deps all hooks
	@POSTERN_HOOKS_BIN=$(CURDIR)/$(HOOKS_BIN) sh tests/run.sh $(BUILD)

check-asan: hooks
	$(MAKE) BUILD=build-asan BIN=bin-asan OPT='-O1 -g -fno-omit-frame-pointer' \
	  HARDEN='-fPIE' SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  POSTERN_BIN=$(CURDIR)/bin-asan POSTERN_HOOKS_BIN=$(CURDIR)/$(HOOKS_BIN) \
	  sh tests/run.sh build-asan

# libFuzzer builds: the libraries instrumented in build-fuzz/, each target
# linked with libFuzzer's main into build-fuzz/fuzz/
FUZZ_SAN = -fsanitize=address,undefined
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang OPT='-g -O1 -Wno-missing-field-initializers' HARDEN= \
	  SAN='$(FUZZ_SAN) -fsanitize=fuzzer-no-link' fuzz-libs
	@mkdir -p build-fuzz/fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); echo "clang fuzz $$n"; \
	  clang -std=c11 -g -O1 -D_GNU_SOURCE -Icommon -I. $(FUZZ_SAN) -fsanitize=fuzzer \
	    -o build-fuzz/fuzz/$$n $$f $(foreach l,$(FOLDERS) $(LAYERS),build-fuzz/lib/lib$(l).a) \
	    $(SYSLIBS_ALL) || exit 1; done
fuzz-libs: $(ALL_LIBS)

run: deps all
	@sh tests/trial-run.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SYSCONFDIR) \
	  $(DESTDIR)$(SPOOLDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(BIN)/postern $(DESTDIR)$(SBINDIR)/postern
	if [ -x $(BIN)/sendmail ]; then install -m 755 $(BIN)/sendmail $(DESTDIR)$(SBINDIR)/sendmail && \
	  ln -sf sendmail $(DESTDIR)$(SBINDIR)/mailq; fi
	for p in $(filter-out postern sendmail,$(PROGRAMS)); do \
	  install -m 755 $(BIN)/$$p $(DESTDIR)$(LIBEXECDIR)/$$p || exit 1; done
	for m in man/*.[0-9]; do s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; done
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ]; then \
	  $(SBINDIR)/postern init --accounts; \
	else echo "accounts not created (DESTDIR set or not root): run 'postern init --accounts' as root"; fi

clean:
	rm -rf build build-asan build-fuzz build-hooks bin bin-asan bin-hooks

-include $(LIB_OBJ:.o=.d) $(foreach p,$(PROGRAMS),$(patsubst %.c,$(BUILD)/%.d,$(MAIN_$(p)))) \
	 $(patsubst %.c,$(BUILD)/%.d,$(UNIT_SRC) $(FUZZ_SRC) tests/fuzz/replay.c)
