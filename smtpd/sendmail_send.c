/*
 * sendmail_send - read the message on standard input and queue it through
 * the injector (inject.h)
 *
 * The header section is held in memory (at most SENDMAIL_HEADER_MAX
 * bytes) until it is complete, because the envelope - and with -t the
 * recipients in it - must be sent before the first message byte. Then
 * the injector is connected and the rest of standard input streams
 * through: sendmail never holds a whole message.
 *
 * What goes to the queue: a Received: line naming the invoking uid, the
 * header section without Bcc:, the Date:, From: and Message-ID: fields
 * that were missing, an empty line if the input had none, and the body,
 * all with LF line ends (sendmail_msg.h).
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "mail/conf.h"
#include "proto/inject.h"
#include "sendmail_msg.h"
#include "sendmail.h"
#include "util/alloc.h"
#include "util/str.h"

#define SEND_TIMEOUT_MS 120000
#define SEND_READ_SIZE 65536

struct send_state {
	const struct sendmail_opts *o;
	struct conf conf;
	struct sendmail_env env;
	struct sendmail_input in;
	struct sendmail_hdrs hdrs;
	struct sendmail_split split;
	struct str text;	/* canonical input read and not yet sent */
};

/* Configuration errors are temporary for the caller: the message was not
 * queued, and it is queued once an administrator has fixed the file. */
static int send_conf(struct conf *c, const char *opt)
{
	struct str errors = STR_INIT(0);
	int n = conf_load(c, conf_path(opt), &errors);

	if (n > 0)
		fputs(str_c(&errors), stderr);
	str_free(&errors);
	if (n > 0)
		return sendmail_fail(EX_TEMPFAIL, "the configuration has "
				     "errors; nothing was queued");
	return 0;
}

/* One piece of standard input into out: 1 read, 0 the input has ended,
 * -1 a read error (printed). */
static int send_read(struct sendmail_input *in, struct str *out)
{
	char buf[SEND_READ_SIZE];
	ssize_t n;

	if (in->done)
		return 0;
	do
		n = read(STDIN_FILENO, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		sendmail_fail(EX_IOERR, "reading standard input: %s",
			      strerror(errno));
		return -1;
	}
	if (n == 0) {
		sendmail_input_finish(in, out);
		return 0;
	}
	sendmail_input_feed(in, buf, (size_t)n, out);
	return in->done ? 0 : 1;
}

/* Read until the header section is known. */
static int send_head(struct send_state *s)
{
	for (;;) {
		int more = send_read(&s->in, &s->text);

		if (more < 0)
			return EX_IOERR;
		if (sendmail_msg_split(str_c(&s->text), s->text.len,
				       more == 0, &s->split) == 1)
			return 0;
		if (s->text.len > SENDMAIL_HEADER_MAX)
			return sendmail_fail(EX_DATAERR, "the header section "
					     "is longer than %d bytes",
					     SENDMAIL_HEADER_MAX);
	}
}

static int send_envelope(struct send_state *s)
{
	const char *host = s->conf.hostname, *error = NULL;
	int r = sendmail_env_sender(&s->env, s->o->sender, host);

	for (size_t i = 0; r == 0 && i < s->o->nrcpts; i++)
		r = sendmail_env_rcpt(&s->env, s->o->rcpts[i], host,
				      "on the command line");
	if (r != 0)
		return r;
	if (sendmail_hdrs_parse(&s->hdrs, str_c(&s->text) + s->split.skip,
				s->split.header_len, s->o->extract,
				&error) < 0)
		return sendmail_fail(EX_DATAERR, "%s", error);
	for (size_t i = 0; r == 0 && i < s->hdrs.nrcpts; i++)
		r = sendmail_env_rcpt(&s->env, s->hdrs.rcpts[i], host,
				      "in the header");
	if (r == 0 && s->env.nrcpts == 0)
		r = sendmail_fail(EX_USAGE, s->o->extract ?
				  "no recipients on the command line nor in "
				  "To:, Cc: or Bcc:" :
				  "no recipients (name them, or use -t)");
	sendmail_env_dedup(&s->env);
	return r;
}

/* "<20261122T100000.1234.0123456789abcdef@hostname>" */
static void send_message_id(struct str *out, const char *hostname)
{
	unsigned char rnd[8];
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memcpy(rnd, &now.tv_nsec, sizeof(rnd) < sizeof(now.tv_nsec) ?
		       sizeof(rnd) : sizeof(now.tv_nsec));
	gmtime_r(&now.tv_sec, &tm);
	str_appendf(out, "Message-ID: <%04d%02d%02dT%02d%02d%02d.%ld.",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (long)getpid());
	for (size_t i = 0; i < sizeof(rnd); i++)
		str_appendf(out, "%02x", rnd[i]);
	str_appendf(out, "@%s>\n", hostname);
}

/* The full name for an added From:: -F, else $NAME, else the first
 * field of the account's GECOS; into buf. */
static const char *send_full_name(const struct sendmail_opts *o,
				  char *buf, size_t size)
{
	const char *env = getenv("NAME");
	struct passwd *pw;

	if (o->full_name != NULL)
		return o->full_name;
	if (env != NULL && *env != '\0')
		return env;
	pw = getpwuid(getuid());
	if (pw == NULL || pw->pw_gecos == NULL)
		return "";
	snprintf(buf, size, "%.*s", (int)strcspn(pw->pw_gecos, ","),
		 pw->pw_gecos);
	return buf;
}

/* The header section as queued, and the empty line after it. */
static void send_build_head(struct send_state *s, struct str *out)
{
	struct str date = STR_INIT(0);
	time_t now = time(NULL);
	char gecos[256];
	const char *name = send_full_name(s->o, gecos, sizeof(gecos));

	sendmail_msg_date(&date, now);
	str_appendf(out, "Received: by %s (postern sendmail, from userid "
		    "%lu);\n\t%s", s->conf.hostname, (unsigned long)getuid(),
		    str_c(&date) + strlen("Date: "));
	str_append(out, str_c(&s->hdrs.text), s->hdrs.text.len);
	if (!(s->hdrs.seen & SENDMAIL_HAS_DATE))
		str_append(out, str_c(&date), date.len);
	if (!(s->hdrs.seen & SENDMAIL_HAS_FROM))
		sendmail_msg_from(out, name, s->env.from_addr);
	if (!(s->hdrs.seen & SENDMAIL_HAS_MESSAGE_ID))
		send_message_id(out, s->conf.hostname);
	if (!s->split.blank)
		str_appendc(out, '\n');
	str_free(&date);
}

/* The one place where the injector's answer becomes an exit status. */
static int send_status(int status, const struct str *reason)
{
	if (status == INJECT_OK)
		return EX_OK;
	if (status == INJECT_TEMP)
		return sendmail_fail(EX_TEMPFAIL, "cannot queue the message: "
				     "%s", str_c(reason));
	return sendmail_fail(EX_DATAERR, "the message was refused: %s",
			     str_c(reason));
}

/* Head, what was read after it, then the rest of standard input. */
static int send_body(struct send_state *s, struct inject_client *ic)
{
	struct str head = STR_INIT(0);
	size_t body = s->split.skip + s->split.header_len;
	int more = !s->in.done, ok;

	send_build_head(s, &head);
	ok = inject_write(ic, str_c(&head), head.len) == 0 &&
	     inject_write(ic, str_c(&s->text) + body,
				  s->text.len - body) == 0;
	str_free(&head);
	while (ok && more > 0) {
		str_clear(&s->text);
		more = send_read(&s->in, &s->text);
		if (more >= 0)
			ok = inject_write(ic, str_c(&s->text),
					  s->text.len) == 0;
	}
	return more < 0 ? EX_IOERR : 0;
}

static int send_queue(struct send_state *s)
{
	struct inject_env ie;
	struct inject_client ic;
	struct str path = STR_INIT(0), reason = STR_INIT(0), id = STR_INIT(0);
	unsigned *notify = NULL;
	int r;

	memset(&ie, 0, sizeof(ie));
	ie.sender = s->env.sender;
	ie.rcpts = (const char *const *)s->env.rcpts;
	ie.nrcpts = s->env.nrcpts;
	ie.protocol = "local";
	ie.flags = s->o->flags | s->env.flags;
	ie.envid = s->o->envid[0] != '\0' ? s->o->envid : NULL;
	if (s->o->notify != 0) {
		notify = xcalloc(s->env.nrcpts + 1, sizeof(*notify));
		for (size_t i = 0; i < s->env.nrcpts; i++)
			notify[i] = s->o->notify;
		ie.notify = notify;
	}
	/* root may use the private socket; anyone else the public one,
	 * where each user may hold inject_local_connection_limit */
	conf_queue_path(&s->conf, geteuid() == 0 ? INJECT_SOCKET
						 : INJECT_SOCKET_LOCAL, &path);
	r = inject_begin(&ic, str_c(&path), &ie, SEND_TIMEOUT_MS, &reason);
	if (r == INJECT_OK && send_body(s, &ic) != 0) {
		inject_abort(&ic);
		r = EX_IOERR;
	} else if (r == INJECT_OK) {
		r = send_status(inject_commit(&ic, &id, &reason), &reason);
	} else {
		r = send_status(r, &reason);
	}
	str_free(&path);
	str_free(&reason);
	str_free(&id);
	free(notify);
	return r;
}

int sendmail_send(const struct sendmail_opts *o)
{
	struct send_state s;
	int r;

	memset(&s, 0, sizeof(s));
	s.o = o;
	sendmail_env_init(&s.env);
	sendmail_hdrs_init(&s.hdrs);
	str_init(&s.text, 0);
	sendmail_input_init(&s.in, o->dot_ends);
	r = send_conf(&s.conf, o->conf_opt);
	if (r == 0)
		r = send_head(&s);
	if (r == 0)
		r = send_envelope(&s);
	if (r == 0)
		r = send_queue(&s);
	conf_free(&s.conf);
	sendmail_env_free(&s.env);
	sendmail_hdrs_free(&s.hdrs);
	str_free(&s.text);
	return r;
}
