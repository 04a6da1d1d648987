# postern - top-level Makefile (GNU make, no autotools)
#
#   make            build every program into bin/
#   make deps       install missing build and test dependencies (apt-get)
#   make run        start a trial instance in ./run on port base 10000
#   make test       build, then run every unit and integration test
#   make check-asan the test suite under AddressSanitizer + UBSan
#   make fuzz       libFuzzer targets (clang) into build/fuzz/
#   make install    PREFIX=/usr/local DESTDIR=

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
CPPFLAGS += -D_GNU_SOURCE -Icommon -DSYSCONFDIR='"$(SYSCONFDIR)"'
ALL_CFLAGS = $(WARN) $(HARDEN) $(CFLAGS) $(SAN) $(CPPFLAGS)
LDHARDEN ?= -pie -Wl,-z,relro,-z,now
LIBS     = -lssl -lcrypto -lcdb -ldb -lcrypt -lunbound
ALL_LDFLAGS = $(LDHARDEN) $(SAN) $(LDFLAGS)

# ---- the common library: util/ (no mail knowledge) and mail/ -------------
UTIL_SRC := $(sort $(wildcard common/util/*.c))
MAIL_SRC := $(sort $(wildcard common/mail/*.c))
LIB_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(UTIL_SRC) $(MAIL_SRC))
LIB      := $(BUILD)/libpostern.a

# ---- programs: one line each; sources listed beside the name -------------
# Each program's main is in a file named after the program.
# Adding a daemon: a line here, a line in common/mail/services.c, a man page.
PROGRAMS = postern postern-master postern-auth postern-inject postern-smtpd \
	   postern-qmgr postern-local sendmail postern-pop3-login postern-pop3 \
	   postern-remote
SRC_postern        := master/postern.c $(wildcard master/postern_*.c)
SRC_postern-master := master/postern-master.c master/supervise.c master/logcollect.c
SRC_postern-auth   := $(wildcard auth/*.c)
SRC_postern-inject := queue/postern-inject.c $(wildcard queue/inject_*.c)
SRC_postern-smtpd  := smtpd/postern-smtpd.c $(wildcard smtpd/smtpd_*.c)
SRC_postern-qmgr   := queue/postern-qmgr.c $(wildcard queue/qmgr_*.c)
SRC_postern-local  := deliver/postern-local.c $(wildcard deliver/local_*.c)
SRC_sendmail       := $(wildcard smtpd/sendmail*.c)
SRC_postern-pop3-login := pop3d/postern-pop3-login.c $(wildcard pop3d/login_*.c)
SRC_postern-pop3   := pop3d/postern-pop3.c $(wildcard pop3d/pop3_*.c)
SRC_postern-remote := deliver/postern-remote.c $(wildcard deliver/remote_*.c)
# a program whose sources are not written yet is not built
PROGRAMS := $(foreach p,$(PROGRAMS),$(if $(SRC_$(p)),$(p)))
PROG_BIN := $(addprefix $(BIN)/,$(PROGRAMS))

# ---- tests ---------------------------------------------------------------
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all deps run test check-asan fuzz install clean check-deps
# keep test objects: their .d files track header changes
.SECONDARY:
all: check-deps $(PROG_BIN) $(UNIT_BIN)

check-deps:
	@sh tests/check-deps.sh build

deps:
	@sh tests/check-deps.sh install

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

define program_rule
$(BIN)/$(1): $$(patsubst %.c,$$(BUILD)/%.o,$$(SRC_$(1))) $$(LIB)
	@mkdir -p $$(BIN)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

test: deps all
	@sh tests/run.sh $(BUILD)

check-asan:
	$(MAKE) BUILD=build-asan BIN=bin-asan OPT='-O1 -g -fno-omit-frame-pointer' \
	  HARDEN='-fPIE' SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  POSTERN_BIN=$(CURDIR)/bin-asan sh tests/run.sh build-asan

fuzz: $(LIB_OBJ)
	@mkdir -p $(BUILD)/fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "clang fuzz $$n"; \
	  clang -std=c11 -g -O1 -D_GNU_SOURCE -Icommon -fsanitize=fuzzer,address,undefined \
	    -o $(BUILD)/fuzz/$$n $$f $(UTIL_SRC) $(MAIL_SRC) $(LIBS) || exit 1; done

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
	rm -rf build build-asan bin bin-asan

-include $(LIB_OBJ:.o=.d) $(foreach p,$(PROGRAMS),$(patsubst %.c,$(BUILD)/%.d,$(SRC_$(p)))) \
	 $(patsubst %.c,$(BUILD)/%.d,$(UNIT_SRC))
