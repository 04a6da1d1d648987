/*
 * imap_cmd_basic - the commands of any state: CAPABILITY, NOOP, LOGOUT,
 *                  ENABLE (RFC 5161), ID (RFC 2971), NAMESPACE (RFC 2342),
 *                  IDLE (RFC 2177), CHECK
 *
 * IDLE waits for the client's DONE and, with a folder selected, for
 * changes in its cur/ and new/ (inotify: delivery, other sessions' flag
 * renames and expunges, POP3, Dovecot); each change is told at once. It ends after
 * imap_timeout like any other wait (RFC 9051 asks clients to re-issue
 * IDLE within 29 minutes; the default imap_timeout is 30).
 */
#include "imap_session.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "imap_args.h"
#include "util/log.h"

void imap_cmd_capability(struct imap_session *s, struct imap_command *c)
{
	struct str caps = STR_INIT(0);

	if (c->nargs != 0) {
		imap_reply_bad(s, c, "CAPABILITY takes no arguments.");
		return;
	}
	imap_capabilities(s, &caps);
	imap_reply_untagged(s, "CAPABILITY %s", caps.s);
	str_free(&caps);
	imap_reply_tagged(s, c, "OK", "Capability completed.");
}

void imap_cmd_noop(struct imap_session *s, struct imap_command *c)
{
	if (c->nargs != 0) {
		imap_reply_bad(s, c, "NOOP takes no arguments.");
		return;
	}
	imap_reply_tagged(s, c, "OK", "NOOP completed.");
}

void imap_cmd_check(struct imap_session *s, struct imap_command *c)
{
	if (c->nargs != 0) {
		imap_reply_bad(s, c, "CHECK takes no arguments.");
		return;
	}
	if (s->sel)
		(void)imap_folder_flush(s->sel);
	imap_reply_tagged(s, c, "OK", "CHECK completed.");
}

void imap_cmd_logout(struct imap_session *s, struct imap_command *c)
{
	if (c->nargs != 0) {
		imap_reply_bad(s, c, "LOGOUT takes no arguments.");
		return;
	}
	s->cmd_updates = 0;
	imap_reply_untagged(s, "BYE Logging out");
	imap_reply_tagged(s, c, "OK", "Logout completed.");
	s->logout = 1;
}

void imap_cmd_enable(struct imap_session *s, struct imap_command *c)
{
	static const struct {
		unsigned cap, bits;
		const char *name;
	} caps[] = {
		{ IMAP_ENABLE_IMAP4REV2, IMAP_EN_REV2 | IMAP_EN_UTF8,
		  "IMAP4rev2" },
		{ IMAP_ENABLE_CONDSTORE, IMAP_EN_CONDSTORE, "CONDSTORE" },
		{ IMAP_ENABLE_QRESYNC, IMAP_EN_QRESYNC | IMAP_EN_CONDSTORE,
		  "QRESYNC" },
		{ IMAP_ENABLE_UTF8_ACCEPT, IMAP_EN_UTF8, "UTF8=ACCEPT" },
	};
	struct str done = STR_INIT(0);
	const char *error = "ENABLE takes capability names.";
	unsigned named;

	if (imap_enable_parse(c->args, c->nargs, &named, &error) < 0) {
		imap_reply_bad(s, c, error);
		return;
	}
	/* in the client's order; unknown capabilities are ignored (RFC
	 * 5161 3.1), and one already on is not listed again */
	for (unsigned i = 0; i < c->nargs; i++)
		for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
			if (!(named & caps[k].cap) ||
			    !imap_arg_atom_is(&c->args[i], caps[k].name) ||
			    (s->enabled & caps[k].bits) == caps[k].bits)
				continue;
			s->enabled |= caps[k].bits;
			(void)str_appendf(&done, " %s", caps[k].name);
		}
	imap_reply_untagged(s, "ENABLED%s", str_c(&done));
	str_free(&done);
	imap_reply_tagged(s, c, "OK", "Enabled.");
}

void imap_cmd_id(struct imap_session *s, struct imap_command *c)
{
	struct str fields = STR_INIT(0);

	if (c->nargs != 1 || (c->args[0].type != IMAP_ARG_NIL &&
			      c->args[0].type != IMAP_ARG_LIST)) {
		imap_reply_bad(s, c, "ID takes a list or NIL.");
		return;
	}
	if (c->args[0].type == IMAP_ARG_LIST) {
		const struct imap_arg *l = c->args[0].list;
		unsigned n = c->args[0].n;

		if (n % 2 != 0 || n > 60) {
			imap_reply_bad(s, c, "ID takes pairs of strings (at "
				       "most 30).");
			return;
		}
		for (unsigned i = 0; i < n; i++) {
			const char *p;
			size_t len;

			if (!imap_arg_nstring(&l[i], &p, &len)) {
				imap_reply_bad(s, c, "ID takes strings.");
				str_free(&fields);
				return;
			}
			(void)str_appends(&fields, i % 2 ? "=" : " ");
			if (p)
				log_escape(&fields, p, len, 64);
			else
				(void)str_appends(&fields, "NIL");
		}
		log_info(s->id, "client id:%s", fields.s ? fields.s : "");
	}
	str_free(&fields);
	imap_reply_untagged(s, "ID (\"name\" \"postern\")");
	imap_reply_tagged(s, c, "OK", "ID completed.");
}

void imap_cmd_namespace(struct imap_session *s, struct imap_command *c)
{
	if (c->nargs != 0) {
		imap_reply_bad(s, c, "NAMESPACE takes no arguments.");
		return;
	}
	imap_reply_untagged(s, "NAMESPACE ((\"\" \".\")) NIL NIL");
	imap_reply_tagged(s, c, "OK", "Namespace completed.");
}

/* ---- IDLE ------------------------------------------------------------- */

#define IDLE_POLL_MS 5000

/* Watch the selected folder's cur/, new/ and log. -1 if nothing could be
 * watched (IDLE then only checks every 30 s). */
static int idle_watch(struct imap_session *s)
{
	/* not postern-uidlog: every change a client must hear of also
	 * renames, links or unlinks a file in cur/ or new/, while the log
	 * also takes bookkeeping (MODSEQ reservations, verified mtimes,
	 * \Recent claims) that would wake every idler of the folder at once,
	 * each of whose wake-ups may write such a record again */
	static const char *const what[] = { "cur", "new" };
	const uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_FROM |
			      IN_MOVED_TO | IN_MODIFY | IN_ATTRIB;
	int fd, watched = 0;

	if (s->sel == NULL)
		return -1;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0) {
		log_warn(s->id, "inotify_init1: %s (IDLE looks at the folder "
			 "every %d s instead; see fs.inotify.max_user_instances "
			 "in postern-imap(8))", strerror(errno),
			 IDLE_POLL_MS / 1000);
		return -1;
	}
	for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		char path[64];

		/* inotify takes paths: /proc/self/fd/N/NAME names the
		 * folder's directory without knowing where it is */
		if (snprintf(path, sizeof(path), "/proc/self/fd/%d/%s",
			     s->sel->dir_fd, what[i]) >= (int)sizeof(path))
			continue;
		if (inotify_add_watch(fd, path, mask) >= 0)
			watched++;
	}
	if (watched == 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

static void idle_drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int64_t idle_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void imap_cmd_idle(struct imap_session *s, struct imap_command *c)
{
	/* the client must say something within imap_timeout, whatever the
	 * folder does meanwhile (RFC 9051 asks clients to end IDLE within
	 * 29 minutes) */
	int64_t deadline = idle_now_ms() + s->im->timeout_ms;
	struct imap_hibernation h;
	const char *line;
	size_t len;
	int watch;

	memset(&h, 0, sizeof(h));
	if (c->nargs != 0) {
		imap_reply_bad(s, c, "IDLE takes no arguments.");
		return;
	}
	watch = idle_watch(s);
	if (io_puts(&s->io, "+ idling\r\n") < 0 || io_flush(&s->io) < 0) {
		s->logout = 1;
		goto out;
	}
	imap_hibernate(s, &h);
	while (io_pending(&s->io) == 0 && !imap_stopping) {
		struct pollfd p[2] = {
			{ .fd = s->io.fd, .events = POLLIN },
			{ .fd = watch, .events = POLLIN },
		};
		/* without inotify (fs.inotify.max_user_instances reached:
		 * 128 per account by default) the folder is looked at every
		 * IDLE_POLL_MS instead */
		int64_t left = deadline - idle_now_ms();
		int every = watch >= 0 ? 30000 : IDLE_POLL_MS;
		int step = left > every ? every : left > 0 ? (int)left : 0;
		int r;

		if (s->im->timeout_ms >= 0 && left <= 0) {
			imap_reply_untagged(s, "BYE Disconnected for "
					    "inactivity.");
			s->logout = 1;
			goto out;
		}
		if (s->im->timeout_ms < 0)
			step = every;
		r = poll(p, watch >= 0 ? 2 : 1, step);
		if (r < 0 && errno != EINTR) {
			s->logout = 1;
			goto out;
		}
		if (watch >= 0 && r > 0 && (p[1].revents & POLLIN))
			idle_drain(watch);
		if (r > 0 && p[0].revents)
			break;
		if (imap_wake(s, &h) < 0)
			goto out;
		imap_session_updates(s, 1);
		if (io_flush(&s->io) < 0) {
			s->logout = 1;
			goto out;
		}
		imap_hibernate(s, &h);
	}
	if (imap_wake(s, &h) < 0)
		goto out;
	if (imap_stopping)
		goto out;
	switch (imap_reader_read_line(&s->rd, &line, &len)) {
	case IMAP_READ_OK:
		if (len == 4 && strncasecmp(line, "DONE", 4) == 0)
			imap_reply_tagged(s, c, "OK", "Idle completed.");
		else
			imap_reply_bad(s, c, "Expected DONE.");
		break;
	case IMAP_READ_TOOBIG:
		imap_reply_bad(s, c, "Expected DONE.");
		break;
	default:
		s->logout = 1;
		break;
	}
out:
	imap_hibernation_free(&h);
	if (watch >= 0)
		(void)close(watch);
}
