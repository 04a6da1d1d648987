/*
 * imap_session - one logged-in IMAP session, in its own process
 *
 * Start: open the user's Maildir (mailbox_path.h, maildir_open.h), sweep
 * what an interrupted DELETE left, create the special-use folders on the
 * first login, confine the process to the Maildir (Landlock and seccomp,
 * profile IMAP_SANDBOX_PROFILE), then answer the login's tagged OK (the
 * tag comes in the hand-over; postern-imap-login sent nothing). Then the
 * authenticated and selected states of RFC 9051 (and RFC 3501) until
 * LOGOUT, end of input, imap_timeout, imap_max_bad_commands or SIGTERM.
 *
 * The first bytes read are the client's pipelined input that the login
 * process forwarded; then the descriptor (the client socket, or the login
 * process's TLS proxy). Output is flushed when no input is pending.
 */
#include "imap_session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap_folders.h"
#include "imap_handover.h"
#include "imap_mutf7.h"
#include "imap_quote.h"
#include "imap_seqset.h"
#include "mail/addr.h"
#include "mail/mailbox_path.h"
#include "mail/rfc2047.h"
#include "mail/maildir_open.h"
#include "daemon/session_server.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/sock.h"

#define IMAP_SANDBOX_PROFILE "imap-session"

volatile sig_atomic_t imap_stopping;

/* ---- replies ----------------------------------------------------------- */

static void session_write(struct imap_session *s, const char *p, size_t n)
{
	if (io_write(&s->io, p, n) < 0 && !s->logout) {
		s->logout = 1;
		log_info(s->id, "write failed: %s", strerror(errno));
	}
}

static void reply_v(struct imap_session *s, const char *prefix,
		    const char *fmt, va_list ap)
{
	struct str text = STR_INIT(0);

	if (str_appends(&text, prefix) < 0 ||
	    str_vappendf(&text, fmt, ap) < 0 ||
	    str_appends(&text, "\r\n") < 0)
		log_panic("reply text: %s", strerror(errno));
	session_write(s, text.s, text.len);
	str_free(&text);
}

void imap_reply_tagged(struct imap_session *s, const struct imap_command *c,
		       const char *status, const char *fmt, ...)
{
	struct str prefix = STR_INIT(0);
	va_list ap;

	if (s->cmd_updates && strcmp(status, "BAD") != 0 && !s->logout) {
		int expunges_ok = s->cmd_updates == 2;

		s->cmd_updates = 0;
		imap_session_updates(s, expunges_ok);
	}
	s->cmd_updates = 0;
	if (str_appendf(&prefix, "%s %s ", c->tag, status) < 0)
		log_panic("reply text: %s", strerror(errno));
	va_start(ap, fmt);
	reply_v(s, prefix.s, fmt, ap);
	va_end(ap);
	str_free(&prefix);
}

void imap_reply_untagged(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_v(s, "* ", fmt, ap);
	va_end(ap);
}

void imap_reply_bad(struct imap_session *s, const struct imap_command *c,
		    const char *text)
{
	imap_reply_tagged(s, c, "BAD", "%s", text);
	s->bad++;
}

/* ---- names and flags ---------------------------------------------------- */

void imap_write_mailbox(struct imap_session *s, struct str *out,
			const char *name)
{
	struct str wire = STR_INIT(0);

	if (s->enabled & IMAP_EN_UTF8)
		(void)str_appends(&wire, name);
	else if (imap_mutf7_encode(name, strlen(name), &wire) < 0)
		(void)str_appends(&wire, name);
	imap_quote_astring(out, wire.s ? wire.s : "", wire.len,
			   (s->enabled & IMAP_EN_UTF8) != 0);
	str_free(&wire);
}

static int imap_name_has_8bit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

int imap_wire_name(struct imap_session *s, const char *p, size_t n,
		   struct str *out)
{
	size_t start = out->len;

	if (memchr(p, '\0', n) != NULL)
		return -1;
	if (s->enabled & IMAP_EN_UTF8)
		return str_append(out, p, n);
	if (imap_mutf7_decode(p, n, out) == 0)
		return 0;
	/* 8-bit names from a rev1 client are taken as UTF-8 if they are
	 * valid UTF-8; a 7-bit name that is not valid mUTF-7 ("a&Jjo",
	 * "&AC8-etc" hiding a '/') is refused, as Dovecot does */
	str_truncate(out, start);
	if (!imap_name_has_8bit(p, n) || addr_check_utf8(p, n) < 0)
		return -1;
	return str_append(out, p, n);
}

int imap_arg_mailbox(struct imap_session *s, const struct imap_command *c,
		     const struct imap_arg *a, struct str *out)
{
	const char *p;
	size_t n;

	str_clear(out);
	if (!imap_arg_astring(a, &p, &n)) {
		imap_reply_bad(s, c, "Invalid mailbox name.");
		return -1;
	}
	if (imap_wire_name(s, p, n, out) < 0 || out->len == 0 ||
	    out->len > IMAP_FOLDER_NAME_MAX) {
		imap_reply_tagged(s, c, "NO", "[CANNOT] Invalid mailbox "
				  "name.");
		return -1;
	}
	if (imap_folder_is_inbox(out->s))
		(void)str_sets(out, "INBOX");
	return 0;
}

void imap_write_flags(struct imap_session *s, struct str *out,
		      const struct imap_msg *m)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} sys[] = {
		{ IMAP_F_SEEN, "\\Seen" }, { IMAP_F_ANSWERED, "\\Answered" },
		{ IMAP_F_FLAGGED, "\\Flagged" }, { IMAP_F_DELETED, "\\Deleted" },
		{ IMAP_F_DRAFT, "\\Draft" },
	};
	const char *sep = "";

	(void)str_appendc(out, '(');
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (m->flags & sys[i].bit) {
			(void)str_appendf(out, "%s%s", sep, sys[i].name);
			sep = " ";
		}
	if (m->recent && !(s->enabled & IMAP_EN_REV2)) {
		(void)str_appendf(out, "%s\\Recent", sep);
		sep = " ";
	}
	for (unsigned k = 0; k < MAILDIR_KEYWORDS_MAX; k++)
		if ((m->keywords & (UINT32_C(1) << k)) && s->sel &&
		    s->sel->kw.name[k] != NULL) {
			(void)str_appendf(out, "%s%s", sep,
					  s->sel->kw.name[k]);
			sep = " ";
		}
	(void)str_appendc(out, ')');
}

/* ---- message sets ------------------------------------------------------ */

#define MSGSET_RANGES_MAX 100000u

int imap_msgset_parse(struct imap_session *s, const struct imap_command *c,
		      const struct imap_arg *a, int uid,
		      struct imap_msgset *ms)
{
	const struct imap_folder *f = s->sel;
	const char *error = "Invalid message set.";

	imap_seqset_init(&ms->set);
	ms->by_uid = uid;
	if (a->type != IMAP_ARG_ATOM ||
	    imap_seqset_parse(&ms->set, a->s, a->len, MSGSET_RANGES_MAX,
			      &error) < 0)
		goto bad;
	if (ms->set.searchres) {
		/* "$": the saved UIDs, whatever the command's form */
		imap_seqset_clear(&ms->set);
		ms->by_uid = 1;
		for (uint32_t k = 0; s->saved_valid && k < s->nsaved; k++)
			imap_seqset_add(&ms->set, s->saved[k], s->saved[k]);
		imap_seqset_normalize(&ms->set);
		return 0;
	}
	if (uid) {
		imap_seqset_resolve(&ms->set, f->count > 0 ?
				    f->msgs[f->count - 1].uid : 0);
		return 0;
	}
	imap_seqset_resolve(&ms->set, s->exists);
	if (ms->set.n > 0 &&
	    (ms->set.r[0].lo == 0 || ms->set.r[ms->set.n - 1].hi > s->exists)) {
		error = "Invalid message set: no such message.";
		goto bad;
	}
	return 0;
bad:
	imap_seqset_free(&ms->set);
	imap_reply_bad(s, c, error);
	return -1;
}

int imap_msgset_has(const struct imap_session *s,
		    const struct imap_msgset *ms, uint32_t i)
{
	if (ms->by_uid)
		return imap_seqset_contains(&ms->set, s->sel->msgs[i].uid);
	return i < s->exists && imap_seqset_contains(&ms->set, i + 1);
}

void imap_msgset_free(struct imap_msgset *ms)
{
	imap_seqset_free(&ms->set);
}

/* ---- FLAGS --------------------------------------------------------------- */

static uint32_t keyword_mask(const struct imap_folder *f)
{
	uint32_t mask = 0;

	for (unsigned k = 0; k < MAILDIR_KEYWORDS_MAX; k++)
		if (f->kw.name[k] != NULL)
			mask |= UINT32_C(1) << k;
	return mask;
}

void imap_session_flags(struct imap_session *s)
{
	struct str kw = STR_INIT(0);

	for (unsigned k = 0; k < MAILDIR_KEYWORDS_MAX; k++)
		if (s->sel->kw.name[k])
			(void)str_appendf(&kw, " %s", s->sel->kw.name[k]);
	imap_reply_untagged(s, "FLAGS (\\Answered \\Flagged \\Deleted "
			    "\\Seen \\Draft%s)", str_c(&kw));
	if (s->sel_readonly)
		imap_reply_untagged(s, "OK [PERMANENTFLAGS ()] Read-only "
				    "mailbox.");
	else
		imap_reply_untagged(s, "OK [PERMANENTFLAGS (\\Answered "
				    "\\Flagged \\Deleted \\Seen \\Draft%s "
				    "\\*)] Flags permitted.", str_c(&kw));
	s->keywords_told = keyword_mask(s->sel);
	str_free(&kw);
}

void imap_session_keywords(struct imap_session *s)
{
	if (s->sel && (keyword_mask(s->sel) & ~s->keywords_told) != 0)
		imap_session_flags(s);
}

/* ---- updates of the selected folder ------------------------------------ */

int imap_session_condstore(const struct imap_session *s)
{
	return (s->enabled & (IMAP_EN_CONDSTORE | IMAP_EN_QRESYNC)) != 0;
}

void imap_session_condstore_on(struct imap_session *s)
{
	if (imap_session_condstore(s))
		return;
	s->enabled |= IMAP_EN_CONDSTORE;
	if (s->sel)
		imap_reply_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
				    (unsigned long long)
				    s->sel->highestmodseq);
}

/* FETCH FLAGS of the messages others changed. */
void imap_write_fetch_flags(struct imap_session *s, uint32_t i, int with_uid)
{
	const struct imap_msg *m = &s->sel->msgs[i];
	struct str line = STR_INIT(0);

	(void)str_appendf(&line, "* %lu FETCH (", (unsigned long)i + 1);
	if (with_uid)
		(void)str_appendf(&line, "UID %lu ", (unsigned long)m->uid);
	(void)str_appends(&line, "FLAGS ");
	imap_write_flags(s, &line, m);
	if (imap_session_condstore(s))
		(void)str_appendf(&line, " MODSEQ (%llu)",
				  (unsigned long long)m->modseq);
	(void)str_appends(&line, ")\r\n");
	session_write(s, line.s, line.len);
	str_free(&line);
}

static void updates_flags(struct imap_session *s)
{
	for (uint32_t i = 0; i < s->sel->count && i < s->exists; i++) {
		struct imap_msg *m = &s->sel->msgs[i];

		if (!m->changed)
			continue;
		m->changed = 0;
		if (!m->expunged)
			imap_write_fetch_flags(s, i, s->enabled &
					       (IMAP_EN_QRESYNC | IMAP_EN_REV2));
	}
}

static void updates_expunges(struct imap_session *s)
{
	struct imap_folder *f = s->sel;
	uint32_t gone = 0;

	for (uint32_t i = 0; i < f->count; i++)
		gone += f->msgs[i].expunged;
	if (gone == 0)
		return;
	if (s->enabled & IMAP_EN_QRESYNC) {
		struct str set = STR_INIT(0);
		uint32_t *uids = xreallocarray(NULL, gone, sizeof(*uids));
		uint32_t n = 0;

		for (uint32_t i = 0; i < f->count; i++)
			if (f->msgs[i].expunged && i < s->exists)
				uids[n++] = f->msgs[i].uid;
		if (n > 0 && imap_seqset_format_uids(uids, n, &set) == 0)
			imap_reply_untagged(s, "VANISHED %s", set.s);
		free(uids);
		str_free(&set);
	} else {
		/* from the end, so that each number is still the client's */
		for (uint32_t i = f->count; i-- > 0;)
			if (f->msgs[i].expunged && i < s->exists)
				imap_reply_untagged(s, "%lu EXPUNGE",
						    (unsigned long)i + 1);
	}
	{
		uint32_t told = 0;

		for (uint32_t i = 0; i < f->count && i < s->exists; i++)
			told += f->msgs[i].expunged;
		s->exists -= told;
	}
	imap_folder_purge(f);
	s->expunged += gone;
}

void imap_session_updates(struct imap_session *s, int expunges_ok)
{
	const char *error;
	uint32_t recent = 0;

	if (s->sel == NULL)
		return;
	if (imap_folder_sync(s->sel, s->sel_readonly ? 0 : IMAP_SYNC_RECENT,
			     &error) < 0) {
		log_warn(s->id, "sync %s: %s", s->sel_name.s, error);
		return;
	}
	imap_session_keywords(s);
	updates_flags(s);
	if (expunges_ok)
		updates_expunges(s);
	if (s->sel->count > s->exists) {
		/* EXISTS counts what the client knows plus the new ones;
		 * with expunges pending the number must not shrink */
		imap_reply_untagged(s, "%lu EXISTS",
				    (unsigned long)s->sel->count);
		s->exists = s->sel->count;
		for (uint32_t i = 0; i < s->sel->count; i++)
			recent += s->sel->msgs[i].recent;
		if (!(s->enabled & IMAP_EN_REV2) && recent != s->recent) {
			imap_reply_untagged(s, "%lu RECENT",
					    (unsigned long)recent);
			s->recent = recent;
		}
	}
	if (imap_session_condstore(s) &&
	    s->sel->highestmodseq > s->announced_modseq)
		s->announced_modseq = s->sel->highestmodseq;
	(void)imap_folder_flush(s->sel);
}

void imap_session_unselect(struct imap_session *s)
{
	if (s->sel == NULL)
		return;
	(void)imap_folder_flush(s->sel);
	imap_folder_close(s->sel);
	free(s->sel);
	s->sel = NULL;
	str_clear(&s->sel_name);
	s->exists = s->recent = 0;
	free(s->saved);
	s->saved = NULL;
	s->nsaved = 0;
	s->saved_valid = 0;
}

/* ---- the index root ------------------------------------------------------ */

static _Noreturn void session_fail(struct imap_session *s, const char *tag,
				   const char *what);

int imap_session_index_dir(struct imap_session *s, const char *dirname)
{
	const char *name = dirname[0] ? dirname : "INBOX";
	int fd;

	if (s->index_root_fd < 0)
		return -1;
	if (mkdirat(s->index_root_fd, name, 0700) < 0 && errno != EEXIST) {
		log_warn(s->id, "imap_index_root: mkdir %s: %s", name,
			 strerror(errno));
		return -2;
	}
	fd = openat(s->index_root_fd, name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		log_warn(s->id, "imap_index_root: open %s: %s", name,
			 strerror(errno));
		return -2;
	}
	return fd;
}

void imap_session_index_forget(struct imap_session *s, const char *dirname)
{
	size_t len = strlen(dirname);
	int fd;
	DIR *d;
	struct dirent *de;

	if (s->index_root_fd < 0 || len == 0)
		return;
	fd = openat(s->index_root_fd, ".", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			(void)close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, dirname, len) == 0 &&
		    (de->d_name[len] == '\0' || de->d_name[len] == '.'))
			(void)imap_folders_remove_tree(s->index_root_fd,
						       de->d_name, 1);
	(void)closedir(d);
}

/* imap_index_root/DOMAIN/USER, made if missing, before the session
 * confines itself. -1 when there is no index root; the session ends if
 * it is set and cannot be opened. */
static int index_root_open(struct imap_session *s,
			   const struct mailbox_path *mp, const char *tag)
{
	const char *root = s->im->conf->imap_index_root;
	const char *parts[2] = { mp->domain, mp->user };
	int fd, next;

	if (root == NULL || root[0] == '\0')
		return -1;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; i < 2 && fd >= 0; i++) {
		if (mkdirat(fd, parts[i], 0700) < 0 && errno != EEXIST) {
			(void)close(fd);
			fd = -1;
			break;
		}
		next = openat(fd, parts[i], O_RDONLY | O_DIRECTORY |
			      O_NOFOLLOW | O_CLOEXEC);
		(void)close(fd);
		fd = next;
	}
	if (fd < 0)
		session_fail(s, tag, "open imap_index_root/DOMAIN/USER");
	return fd;
}

/* ---- capabilities ------------------------------------------------------ */

void imap_capabilities(const struct imap_session *s, struct str *out)
{
	(void)str_appends(out, "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID "
			  "ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE "
			  "CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE "
			  "CREATE-SPECIAL-USE STATUS=SIZE ESEARCH SEARCHRES "
			  "SORT SORT=DISPLAY THREAD=REFERENCES "
			  "THREAD=ORDEREDSUBJECT BINARY CONDSTORE "
			  "QRESYNC UTF8=ACCEPT MULTIAPPEND");
	if (s->im->append_max > 0)
		(void)str_appendf(out, " APPENDLIMIT=%llu",
				  (unsigned long long)s->im->append_max);
	else
		(void)str_appends(out, " APPENDLIMIT");
}

/* ---- the command loop --------------------------------------------------- */

#define ST_AUTH 0x1u
#define ST_SEL 0x2u

static const struct {
	const char *name;
	imap_cmd_fn *fn;
	unsigned states;
	int uid_ok;		/* may follow "UID" */
	int expunges_ok;	/* EXPUNGE responses may follow it */
} commands[] = {
	{ "CAPABILITY", imap_cmd_capability, ST_AUTH | ST_SEL, 0, 1 },
	{ "NOOP", imap_cmd_noop, ST_AUTH | ST_SEL, 0, 1 },
	{ "LOGOUT", imap_cmd_logout, ST_AUTH | ST_SEL, 0, 0 },
	{ "ENABLE", imap_cmd_enable, ST_AUTH | ST_SEL, 0, 1 },
	{ "ID", imap_cmd_id, ST_AUTH | ST_SEL, 0, 1 },
	{ "NAMESPACE", imap_cmd_namespace, ST_AUTH | ST_SEL, 0, 1 },
	{ "IDLE", imap_cmd_idle, ST_AUTH | ST_SEL, 0, 1 },
	{ "SELECT", imap_cmd_select, ST_AUTH | ST_SEL, 0, 0 },
	{ "EXAMINE", imap_cmd_select, ST_AUTH | ST_SEL, 0, 0 },
	{ "CREATE", imap_cmd_create, ST_AUTH | ST_SEL, 0, 1 },
	{ "DELETE", imap_cmd_delete, ST_AUTH | ST_SEL, 0, 1 },
	{ "RENAME", imap_cmd_rename, ST_AUTH | ST_SEL, 0, 1 },
	{ "SUBSCRIBE", imap_cmd_subscribe, ST_AUTH | ST_SEL, 0, 1 },
	{ "UNSUBSCRIBE", imap_cmd_unsubscribe, ST_AUTH | ST_SEL, 0, 1 },
	{ "LIST", imap_cmd_list, ST_AUTH | ST_SEL, 0, 1 },
	{ "LSUB", imap_cmd_lsub, ST_AUTH | ST_SEL, 0, 1 },
	{ "STATUS", imap_cmd_status, ST_AUTH | ST_SEL, 0, 1 },
	{ "APPEND", imap_cmd_append, ST_AUTH | ST_SEL, 0, 1 },
	{ "CHECK", imap_cmd_check, ST_SEL, 0, 1 },
	{ "CLOSE", imap_cmd_close, ST_SEL, 0, 0 },
	{ "UNSELECT", imap_cmd_unselect, ST_SEL, 0, 0 },
	{ "EXPUNGE", imap_cmd_expunge, ST_SEL, 1, 1 },
	{ "SEARCH", imap_cmd_search, ST_SEL, 1, 0 },
	{ "SORT", imap_cmd_sort, ST_SEL, 1, 0 },
	{ "THREAD", imap_cmd_thread, ST_SEL, 1, 0 },
	{ "FETCH", imap_cmd_fetch, ST_SEL, 1, 0 },
	{ "STORE", imap_cmd_store, ST_SEL, 1, 0 },
	{ "COPY", imap_cmd_copy, ST_SEL, 1, 1 },
	{ "MOVE", imap_cmd_move, ST_SEL, 1, 1 },
};

static void session_dispatch(struct imap_session *s, struct imap_command *c)
{
	unsigned state = s->sel ? ST_SEL : ST_AUTH;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, c->name) != 0)
			continue;
		if (c->uid && !commands[i].uid_ok)
			break;
		if (!(commands[i].states & state)) {
			imap_reply_bad(s, c, "No mailbox selected.");
			return;
		}
		/* a UID command may be followed by EXPUNGE responses
		 * (RFC 9051 7.5.1); FETCH, STORE, SEARCH may not */
		s->cmd_updates = commands[i].expunges_ok || c->uid ? 2 : 1;
		commands[i].fn(s, c);
		s->cmd_updates = 0;
		return;
	}
	if (strcmp(c->name, "LOGIN") == 0 ||
	    strcmp(c->name, "AUTHENTICATE") == 0 ||
	    strcmp(c->name, "STARTTLS") == 0) {
		imap_reply_bad(s, c, "Already logged in.");
		return;
	}
	imap_reply_bad(s, c, c->uid ? "Unknown UID command." :
			     "Unknown command.");
}

static void session_command(struct imap_session *s)
{
	struct imap_command c;
	int r = imap_read_command(&s->rd, &c);

	if (imap_stopping) {
		imap_reply_untagged(s, "BYE [UNAVAILABLE] Server shutting "
				    "down.");
		s->logout = 1;
		return;
	}
	switch (r) {
	case IMAP_READ_OK:
		session_dispatch(s, &c);
		break;
	case IMAP_READ_BAD:
		imap_reply_bad(s, &c, imap_reader_error(&s->rd));
		break;
	case IMAP_READ_TOOBIG:
		/* APPEND's message over the limit is refused, not a
		 * protocol error (RFC 7889, imap_parse.h) */
		if (!c.uid && strcmp(c.name, "APPEND") == 0) {
			imap_reply_tagged(s, &c, "NO", "[TOOBIG] %s",
					  imap_reader_error(&s->rd));
			break;
		}
		imap_reply_tagged(s, &c, "BAD", "[TOOBIG] %s",
				  imap_reader_error(&s->rd));
		s->bad++;
		break;
	case IMAP_READ_TIMEOUT:
		imap_reply_untagged(s, "BYE Disconnected for inactivity.");
		s->logout = 1;
		log_info(s->id, "timeout");
		return;
	default:
		s->logout = 1;
		return;
	}
	if (imap_reader_must_close(&s->rd) && !s->logout) {
		imap_reply_untagged(s, "BYE Input out of sync.");
		s->logout = 1;
	}
	if (s->bad >= s->im->bad_max && !s->logout) {
		imap_reply_untagged(s, "BYE Too many invalid commands.");
		s->logout = 1;
		log_info(s->id, "too many bad commands");
	}
}

static _Noreturn void session_fail(struct imap_session *s, const char *tag,
				   const char *what)
{
	log_warn(s->id, "user=%s: %s: %s", s->u->address, what,
		 strerror(errno));
	if (tag[0])
		imap_reply_untagged(s, "BYE [UNAVAILABLE] Mailbox can't be "
				    "opened.");
	(void)io_flush(&s->io);
	_exit(0);
}

static void session_open(struct imap_session *s, const char *tag)
{
	struct mailbox_path mp;
	struct sandbox_report sb;
	const char *error;
	char sandbox[160];

	if (mailbox_path_from_addr(s->u->address, &mp, &error) < 0 ||
	    maildir_open(s->im->conf->mail_root, &mp, &s->maildir_fd,
			 &error) < 0)
		session_fail(s, tag, error);
	s->index_root_fd = index_root_open(s, &mp, tag);
	charset_preload();	/* done by postern-imap already: a no-op */
	imap_folders_sweep(s->maildir_fd);
	if (imap_folders_ensure_special(s->maildir_fd, &error) < 0)
		log_warn(s->id, "user=%s: special-use folders: %s: %s",
			 s->u->address, error, strerror(errno));
	if (maildir_confine_index(s->maildir_fd, s->index_root_fd,
				  IMAP_SANDBOX_PROFILE, MAILDIR_CONFINE_WRITE |
				  MAILDIR_CONFINE_MOVE | MAILDIR_CONFINE_WATCH,
				  &sb, &error) < 0)
		session_fail(s, tag, error);
	maildir_confine_describe(IMAP_SANDBOX_PROFILE, &sb, sandbox,
				 sizeof(sandbox));
	log_info(s->id, "session: user=%s ip=%s tls=%d %s", s->u->address,
		 s->u->ip, s->u->tls, sandbox);
}

static void session_init(struct imap_session *s, struct imap *im, int fd,
			 const struct login_user *u, const char *pending,
			 size_t npending)
{
	struct imap_reader_limits lim;

	memset(s, 0, sizeof(*s));
	s->im = im;
	s->u = u;
	s->maildir_fd = -1;
	s->index_root_fd = -1;
	str_init(&s->sel_name, IMAP_FOLDER_NAME_MAX + 1);
	snprintf(s->id, sizeof(s->id), "imap-%s", u->token_id);
	io_init(&s->io, fd, im->timeout_ms);
	if (io_preload(&s->io, pending, npending) < 0)
		log_panic("pending input larger than the read buffer");
	imap_reader_limits_default(&lim);
	lim.append_max = im->append_max;
	imap_reader_init(&s->rd, &s->io, &lim);
	session_stop_on(SIGTERM, &imap_stopping, fd);
	session_stop_on(SIGINT, &imap_stopping, fd);
}

_Noreturn void imap_session_run(struct imap *im, int fd,
				const struct login_user *u,
				const char *pending, size_t npending)
{
	static struct imap_session s;
	struct imap_handover h;
	struct str caps = STR_INIT(0);

	session_init(&s, im, fd, u, pending, npending);
	if (imap_handover_parse(u->param, &h) < 0) {
		log_warn(s.id, "hand-over parameter not understood");
		imap_reply_untagged(&s, "BYE [UNAVAILABLE] Internal error.");
		(void)io_flush(&s.io);
		_exit(0);
	}
	if (sock_nodelay(fd) < 0)
		log_warn(NULL, "TCP_NODELAY: %s", strerror(errno));
	session_open(&s, h.tag);
	imap_capabilities(&s, &caps);
	(void)io_printf(&s.io, "%s OK [CAPABILITY %s] Logged in\r\n", h.tag,
			caps.s);
	str_free(&caps);
	while (!s.logout) {
		if (io_pending(&s.io) == 0 && io_flush(&s.io) < 0)
			break;
		session_command(&s);
	}
	(void)io_flush(&s.io);
	imap_session_unselect(&s);
	log_info(s.id, "logout: user=%s fetched=%lu stored=%lu appended=%lu "
		 "expunged=%lu bad=%u", u->address, s.fetched, s.stored,
		 s.appended, s.expunged, s.bad);
	imap_reader_free(&s.rd);
	io_free(&s.io);
	_exit(0);
}
