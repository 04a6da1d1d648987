/*
 * sendmail - queue a message from a local program; mailq - list the queue
 *
 * PRIVILEGE  the invoking user; no set-id bit, no network: it talks only to
 *            the injector's public socket queue_dir/private/inject, which
 *            learns the uid from the kernel (SO_PEERCRED) and logs it
 * INPUT      the message on standard input (LF or CRLF line ends; a lone
 *            "." line ends it unless -i/-oi); argv: options, recipients
 * OUTPUT     one queued message; nothing on success, "sendmail: reason" on
 *            standard error otherwise
 * EXIT       0 queued (on stable storage); 64 bad usage or address;
 *            65 the message was refused (malformed header, too big);
 *            67 unknown invoking user; 74 read error on standard input;
 *            75 not queued now, nothing lost, try again (the instance is
 *            not running, disk full, configuration errors); 69 postern
 *            not found (mailq, -bp, -q)
 * LIMITS     header section SENDMAIL_HEADER_MAX (1 MiB) held in memory;
 *            message_size_limit (the injector's); QUEUE_RCPT_MAX recipients
 * DSN        (RFC 3461, as Sendmail and Postfix) -N never|success,failure,
 *            delay for every recipient, -R full|hdrs, -V envid (printable
 *            ASCII, at most 100 bytes once xtext-encoded); a bad value is
 *            EX_USAGE
 * MAILQ      invoked as "mailq", or with -bp: exec "postern [-c FILE] queue
 *            list"; -q: "postern queue flush" (postern is beside sendmail)
 * SEE ALSO   sendmail(1), mailq(1), postern(8), postern-queue(5)
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/dsn_param.h"
#include "mail/progpath.h"
#include "proto/queue_file.h"
#include "sendmail.h"
#include "util/str.h"

enum sendmail_mode { MODE_SEND, MODE_LIST, MODE_FLUSH };

int sendmail_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("sendmail: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static int usage(void)
{
	fputs("usage: sendmail [-C FILE] [-t] [-i|-oi] [-f SENDER] [-F NAME]"
	      " [-bm]\n                [-N never|success,failure,delay]"
	      " [-R full|hdrs] [-V ENVID] [--] [RECIPIENT...]\n"
	      "       sendmail -bp | -q     (postern queue list | flush)\n"
	      "       mailq [-C FILE]\n"
	      "See sendmail(1).\n", stderr);
	return EX_USAGE;
}

static void note_ignored(int opt, const char *arg)
{
	fprintf(stderr, "sendmail: note: option -%c%s ignored\n", opt,
		arg != NULL ? arg : "");
}

static int opt_mode(const char *arg, enum sendmail_mode *mode)
{
	if (strcmp(arg, "m") == 0)
		*mode = MODE_SEND;
	else if (strcmp(arg, "p") == 0)
		*mode = MODE_LIST;
	else
		return sendmail_fail(EX_USAGE, "-b%s is not supported "
				     "(only -bm and -bp are)", arg);
	return 0;
}

static int opt_body(const char *arg, struct sendmail_opts *o)
{
	if (strcmp(arg, "8BITMIME") == 0)
		o->flags |= QUEUE_FLAG_8BITMIME;
	else if (strcmp(arg, "7BIT") != 0)
		return sendmail_fail(EX_USAGE, "-B takes 7BIT or 8BITMIME, "
				     "not '%s'", arg);
	return 0;
}

/* -N, -R, -V: the DSN parameters (RFC 3461), checked as smtpd checks
 * them. 0 or an exit status. */
static int opt_dsn(int c, const char *arg, struct sendmail_opts *o)
{
	struct str envid = STR_INIT(0);
	const char *error = NULL;
	enum dsn_ret ret;
	size_t n = strlen(arg);

	if (c == 'N' && dsn_notify_parse(arg, n, &o->notify, &error) == 0)
		return 0;
	if (c == 'R' && dsn_ret_parse(arg, n, &ret, &error) == 0) {
		o->flags &= ~(QUEUE_FLAG_RET_FULL | QUEUE_FLAG_RET_HDRS);
		o->flags |= ret == DSN_RET_FULL ? QUEUE_FLAG_RET_FULL
						: QUEUE_FLAG_RET_HDRS;
		return 0;
	}
	if (c == 'V') {
		for (size_t i = 0; i < n && error == NULL; i++)
			if ((unsigned char)arg[i] < 0x20 ||
			    (unsigned char)arg[i] > 0x7e)
				error = "ENVID must be printable ASCII";
		if (error == NULL)
			dsn_xtext_encode(arg, n, &envid);
		if (error == NULL &&
		    dsn_envid_check(envid.s, envid.len, &error) == 0)
			cstr_copy(o->envid, sizeof(o->envid), str_c(&envid));
		str_free(&envid);
		if (error == NULL)
			return 0;
	}
	return sendmail_fail(EX_USAGE, "-%c %s: %s", c, arg, error);
}

/* One option; 0 or an exit status. */
static int opt_one(int c, const char *arg, struct sendmail_opts *o,
		   enum sendmail_mode *mode)
{
	switch (c) {
	case 'b': return opt_mode(arg, mode);
	case 'B': return opt_body(arg, o);
	case 'C': o->conf_opt = arg; return 0;
	case 'F': o->full_name = arg; return 0;
	case 'f': case 'r': o->sender = arg; return 0;
	case 'i': o->dot_ends = 0; return 0;
	case 't': o->extract = 1; return 0;
	case 'o':
		if (strcmp(arg, "i") == 0)
			o->dot_ends = 0;
		else
			note_ignored(c, arg);
		return 0;
	case 'q':
		if (arg != NULL)
			return sendmail_fail(EX_USAGE, "-q%s is not supported:"
					     " the queue manager runs all the "
					     "time (-q alone flushes)", arg);
		*mode = MODE_FLUSH;
		return 0;
	case 'N': case 'R': case 'V':
		return opt_dsn(c, arg, o);
	case 'v':
		note_ignored(c, arg);
		return 0;
	}
	return usage();
}

static int opts_parse(int argc, char **argv, struct sendmail_opts *o,
		      enum sendmail_mode *mode)
{
	int c, r;

	opterr = 0;
	while ((c = getopt(argc, argv, "+B:b:C:F:f:iN:o:q::R:r:tV:v")) != -1) {
		if (c == '?' || c == ':') {
			if (c == ':' || strchr("BbCFfNoRrV", optopt) != NULL)
				return sendmail_fail(EX_USAGE, "option -%c "
						     "needs a value", optopt);
			sendmail_fail(EX_USAGE, "unknown option -%c", optopt);
			return usage();
		}
		r = opt_one(c, optarg, o, mode);
		if (r != 0)
			return r;
	}
	o->rcpts = argv + optind;
	o->nrcpts = (size_t)(argc - optind);
	return 0;
}

/* postern is beside sendmail (sbin/ or bin/): prog_path() looks there
 * unless $POSTERN_LIBEXEC points elsewhere, so look beside us too. */
static int find_postern(struct str *prog)
{
	if (prog_path("postern", prog) == 0)
		return 0;
	return prog_path_beside_self("postern", prog);
}

/* mailq, -bp, -q: exec "postern [-c FILE] queue list|flush". */
static int run_postern(const struct sendmail_opts *o, const char *verb)
{
	struct str prog = STR_INIT(0);
	char *args[7];
	int n = 0;

	if (find_postern(&prog) < 0)
		return sendmail_fail(EX_UNAVAILABLE, "cannot find the postern "
				     "command beside this program");
	args[n++] = "postern";
	if (o->conf_opt != NULL) {
		args[n++] = "-c";
		args[n++] = (char *)o->conf_opt;
	}
	args[n++] = "queue";
	args[n++] = (char *)verb;
	args[n] = NULL;
	execv(str_c(&prog), args);
	sendmail_fail(EX_UNAVAILABLE, "exec %s: %s", str_c(&prog),
		      strerror(errno));
	str_free(&prog);
	return EX_UNAVAILABLE;
}

static int invoked_as_mailq(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	return strcmp(base != NULL ? base + 1 : argv0, "mailq") == 0;
}

int main(int argc, char **argv)
{
	struct sendmail_opts o;
	enum sendmail_mode mode = MODE_SEND;
	int r;

	memset(&o, 0, sizeof(o));
	o.dot_ends = 1;
	if (argc > 0 && invoked_as_mailq(argv[0]))
		mode = MODE_LIST;
	r = opts_parse(argc, argv, &o, &mode);
	if (r != 0)
		return r;
	if (mode != MODE_SEND && o.nrcpts > 0)
		return sendmail_fail(EX_USAGE, "%s takes no arguments",
				     mode == MODE_LIST ? "mailq" : "-q");
	if (mode != MODE_SEND)
		return run_postern(&o, mode == MODE_LIST ? "list" : "flush");
	return sendmail_send(&o);
}
