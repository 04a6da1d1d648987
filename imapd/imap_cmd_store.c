/*
 * imap_cmd_store - the commands that change messages: STORE (with
 *                  UNCHANGEDSINCE, RFC 7162), COPY and MOVE (RFC 6851)
 *                  with COPYUID (RFC 4315), APPEND with APPENDUID and
 *                  MULTIAPPEND (RFC 3502)
 */
#include "imap_session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imap_args.h"
#include "imap_folders.h"
#include "imap_quote.h"
#include "util/alloc.h"
#include "util/fileio.h"
#include "util/log.h"

/* Flags as imap_flags_parse() gave them into the index's system flags
 * and keyword bits of folder f; keywords are added to f's list if
 * create (a keyword f does not know matches nothing otherwise). 0, or -1
 * when f has no letter left for a new keyword (NO [LIMIT]). */
static int flags_for(struct imap_folder *f, const struct imap_flags *fl,
		     int create, uint8_t *flags_r, uint32_t *kw_r)
{
	static const struct {
		unsigned in;
		uint8_t out;
	} map[] = {
		{ IMAP_FLAG_ANSWERED, IMAP_F_ANSWERED },
		{ IMAP_FLAG_FLAGGED, IMAP_F_FLAGGED },
		{ IMAP_FLAG_DELETED, IMAP_F_DELETED },
		{ IMAP_FLAG_SEEN, IMAP_F_SEEN },
		{ IMAP_FLAG_DRAFT, IMAP_F_DRAFT },
	};

	*flags_r = 0;
	*kw_r = 0;
	for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++)
		if (fl->system & map[k].in)
			*flags_r |= map[k].out;
	for (unsigned i = 0; i < fl->nkeywords; i++) {
		int k = imap_folder_keyword(f, fl->keyword[i]->s, create);

		if (k < 0 && create)
			return -1;
		if (k >= 0)
			*kw_r |= UINT32_C(1) << k;
	}
	return 0;
}

/* ---- STORE ------------------------------------------------------------- */

struct store_req {
	struct imap_msgset ms;
	struct imap_store_args st;
	uint8_t flags;
	uint32_t kw;
};

static int store_parse(struct imap_session *s, struct imap_command *c,
		       struct store_req *q)
{
	const char *error = "STORE takes a message set, an item and flags.";

	memset(q, 0, sizeof(*q));
	if (c->nargs < 3 ||
	    imap_store_parse(c->args + 1, c->nargs - 1, &q->st, &error) < 0) {
		imap_reply_bad(s, c, error);
		return -1;
	}
	if (imap_msgset_parse(s, c, &c->args[0], c->uid, &q->ms) < 0)
		return -1;
	if (flags_for(s->sel, &q->st.flags, q->st.op != IMAP_STORE_REMOVE,
		      &q->flags, &q->kw) < 0) {
		imap_msgset_free(&q->ms);
		imap_reply_tagged(s, c, "NO", "[LIMIT] Too many keywords in "
				  "this mailbox (26).");
		return -1;
	}
	return 0;
}

void imap_cmd_store(struct imap_session *s, struct imap_command *c)
{
	struct store_req q;
	struct imap_seqset modified;
	struct str mod = STR_INIT(0);
	const char *error;
	unsigned failed = 0;

	if (s->sel_readonly) {
		imap_reply_tagged(s, c, "NO", "[READ-ONLY] Mailbox is "
				  "read-only.");
		return;
	}
	if (store_parse(s, c, &q) < 0)
		return;
	if (q.st.unchangedsince_set)
		imap_session_condstore_on(s);
	/* +FLAGS and -FLAGS apply to the flags as they are now, not as this
	 * session last saw them: another session's change in between must
	 * not be undone (its FETCH goes out with the updates) */
	if (imap_folder_sync(s->sel, IMAP_SYNC_RECENT, &error) < 0)
		log_warn(s->id, "sync before STORE: %s", error);
	imap_session_keywords(s);
	imap_seqset_init(&modified);
	for (uint32_t i = 0; i < s->sel->count && !s->logout; i++) {
		struct imap_msg *m = &s->sel->msgs[i];
		uint8_t flags = m->flags;
		uint32_t kw = m->keywords;

		if (m->expunged || !imap_msgset_has(s, &q.ms, i))
			continue;
		if (q.st.unchangedsince_set && m->modseq > q.st.unchangedsince) {
			imap_seqset_add(&modified, c->uid ? m->uid : i + 1,
					c->uid ? m->uid : i + 1);
			continue;
		}
		switch (q.st.op) {
		case IMAP_STORE_SET:
			flags = q.flags;
			kw = q.kw;
			break;
		case IMAP_STORE_ADD:
			flags |= q.flags;
			kw |= q.kw;
			break;
		case IMAP_STORE_REMOVE:
			flags &= (uint8_t)~q.flags;
			kw &= ~q.kw;
			break;
		}
		if ((flags != m->flags || kw != m->keywords) &&
		    imap_folder_store(s->sel, i, flags, kw, &error) < 0) {
			log_warn(s->id, "store uid %lu: %s",
				 (unsigned long)m->uid, error);
			failed++;
			continue;
		}
		m->changed = 0;
		s->stored++;
		if (!q.st.silent || imap_session_condstore(s))
			imap_write_fetch_flags(s, i, c->uid);
	}
	(void)imap_folder_flush(s->sel);
	imap_msgset_free(&q.ms);
	if (modified.n > 0) {
		imap_seqset_normalize(&modified);
		(void)imap_seqset_format(&modified, &mod);
		imap_reply_tagged(s, c, "OK", "[MODIFIED %s] Conditional "
				  "STORE failed for some messages.", mod.s);
	} else if (failed > 0) {
		imap_reply_tagged(s, c, "NO", "[EXPUNGEISSUED] Some messages "
				  "could not be changed (expunged?).");
	} else {
		imap_reply_tagged(s, c, "OK", "Store completed.");
	}
	imap_seqset_free(&modified);
	str_free(&mod);
}

/* ---- COPY and MOVE ------------------------------------------------------ */

/* The destination folder of COPY, MOVE or APPEND: the selected one if it
 * is the same (one handle per folder in a process), else opened. NULL
 * after the NO reply ([TRYCREATE] if it does not exist). */
static struct imap_folder *dest_open(struct imap_session *s,
				     const struct imap_command *c,
				     const char *name, int *opened_r)
{
	struct str dir = STR_INIT(0);
	struct imap_folder *f;
	const char *error;
	int index_fd, r;

	*opened_r = 0;
	if (s->sel && strcmp(s->sel_name.s, name) == 0 && !s->sel_readonly)
		return s->sel;
	if (imap_folder_dirname(name, &dir, &error) < 0) {
		imap_reply_tagged(s, c, "NO", "[CANNOT] %s.", error);
		str_free(&dir);
		return NULL;
	}
	if ((index_fd = imap_session_index_dir(s, str_c(&dir))) == -2) {
		imap_reply_tagged(s, c, "NO", "[SERVERBUG] Mailbox can't be "
				  "opened.");
		str_free(&dir);
		return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	r = imap_folder_open(f, s->maildir_fd, str_c(&dir), index_fd, 1,
			     &error);
	if (index_fd >= 0)
		(void)close(index_fd);
	if (r < 0) {
		if (errno == ENOENT) {
			imap_reply_tagged(s, c, "NO", "[TRYCREATE] Mailbox "
					  "does not exist.");
		} else {
			log_warn(s->id, "open %s: %s", name, error);
			imap_reply_tagged(s, c, "NO", "[SERVERBUG] Mailbox "
					  "can't be opened.");
		}
		free(f);
		str_free(&dir);
		return NULL;
	}
	str_free(&dir);
	*opened_r = 1;
	return f;
}

static void dest_close(struct imap_folder *f, int opened)
{
	if (!opened)
		return;
	(void)imap_folder_flush(f);
	imap_folder_close(f);
	free(f);
}

static void copy_or_move(struct imap_session *s, struct imap_command *c,
			 int move)
{
	struct imap_msgset ms;
	struct str name = STR_INIT(0), src = STR_INIT(0), dst = STR_INIT(0);
	struct imap_folder *to;
	uint32_t *suids = NULL, *duids = NULL, n = 0, cap = 0;
	const char *error;
	uint32_t uidvalidity;
	int opened, failed = 0;

	if (move && s->sel_readonly) {
		imap_reply_tagged(s, c, "NO", "[READ-ONLY] Mailbox is "
				  "read-only.");
		return;
	}
	if (c->nargs != 2) {
		imap_reply_bad(s, c, "Expected a message set and a mailbox.");
		return;
	}
	if (imap_msgset_parse(s, c, &c->args[0], c->uid, &ms) < 0)
		return;
	if (imap_arg_mailbox(s, c, &c->args[1], &name) < 0)
		goto out;
	if ((to = dest_open(s, c, name.s, &opened)) == NULL)
		goto out;
	for (uint32_t i = 0; i < s->sel->count && !failed; i++) {
		uint32_t uid;

		if (s->sel->msgs[i].expunged || !imap_msgset_has(s, &ms, i))
			continue;
		if (imap_folder_copy(s->sel, i, to, &uid, &error) < 0) {
			log_warn(s->id, "copy uid %lu to %s: %s",
				 (unsigned long)s->sel->msgs[i].uid, name.s,
				 error);
			failed = errno == ENOENT ? 2 : 1;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			suids = xreallocarray(suids, cap, sizeof(*suids));
			duids = xreallocarray(duids, cap, sizeof(*duids));
		}
		suids[n] = s->sel->msgs[i].uid;
		duids[n++] = uid;
	}
	uidvalidity = to->uidvalidity;
	dest_close(to, opened);
	if (failed) {
		/* what was copied stays (RFC 9051 leaves it open; MOVE
		 * expunges nothing, so no message is lost) */
		imap_reply_tagged(s, c, "NO", failed == 2 ?
				  "[EXPUNGEISSUED] Some messages were "
				  "expunged." : "[SERVERBUG] Copy failed.");
		goto out;
	}
	if (n > 0 && (imap_seqset_format_uids(suids, n, &src) < 0 ||
		      imap_seqset_format_uids(duids, n, &dst) < 0))
		n = 0;
	if (move) {
		if (n > 0)
			imap_reply_untagged(s, "OK [COPYUID %lu %s %s] Moved.",
					    (unsigned long)uidvalidity,
					    src.s, dst.s);
		for (uint32_t i = 0; i < s->sel->count; i++)
			if (!s->sel->msgs[i].expunged &&
			    imap_msgset_has(s, &ms, i) &&
			    imap_folder_expunge(s->sel, i, &error) < 0)
				log_warn(s->id, "move: expunge uid %lu: %s",
					 (unsigned long)s->sel->msgs[i].uid,
					 error);
		imap_session_updates(s, 1);
		imap_reply_tagged(s, c, "OK", "Move completed.");
	} else if (n > 0) {
		imap_reply_tagged(s, c, "OK", "[COPYUID %lu %s %s] Copy "
				  "completed.", (unsigned long)
				  uidvalidity, src.s, dst.s);
	} else {
		imap_reply_tagged(s, c, "OK", "Copy completed.");
	}
out:
	imap_msgset_free(&ms);
	free(suids);
	free(duids);
	str_free(&name);
	str_free(&src);
	str_free(&dst);
}

void imap_cmd_copy(struct imap_session *s, struct imap_command *c)
{
	copy_or_move(s, c, 0);
}

void imap_cmd_move(struct imap_session *s, struct imap_command *c)
{
	copy_or_move(s, c, 1);
}

/* ---- APPEND ------------------------------------------------------------- */

#define APPEND_CHUNK (64 * 1024)

/* Read the pending literal into an unnamed file in the Maildir's tmp/.
 * The descriptor, or -1 (the session is over if the client is lost:
 * s->logout set). */
static int append_read(struct imap_session *s, struct imap_command *c)
{
	char *buf = xmalloc(APPEND_CHUNK);
	uint64_t left = c->literal_size;
	int fd = openat(s->maildir_fd, "tmp", O_TMPFILE | O_RDWR | O_CLOEXEC,
			0600);

	if (fd < 0)
		log_warn(s->id, "append: open tmp/: %s", strerror(errno));
	while (left > 0) {
		size_t got;
		int r = imap_reader_literal_read(&s->rd, buf,
						 left < APPEND_CHUNK ?
						 (size_t)left : APPEND_CHUNK,
						 &got);

		if (r != IMAP_READ_OK || got == 0) {
			s->logout = 1;
			break;
		}
		if (fd >= 0 && fd_write_all(fd, buf, got) < 0) {
			log_warn(s->id, "append: write tmp/: %s",
				 strerror(errno));
			(void)close(fd);
			fd = -1;
		}
		left -= got;
	}
	free(buf);
	if (s->logout && fd >= 0) {
		(void)close(fd);
		fd = -1;
	}
	return fd;
}

/* The flags and date before a message (imap_append_parse). 0, or -1:
 * BAD (*limit_r 0) or no letter left for a keyword (*limit_r 1). */
static int append_params(struct imap_folder *f, struct imap_command *c,
			 int first, uint8_t *flags_r, uint32_t *kw_r,
			 time_t *date_r, int *limit_r)
{
	struct imap_append_args ap;
	const char *error;

	*limit_r = 0;
	if (imap_append_parse(c->args, c->nargs, first, &ap, &error) < 0)
		return -1;
	*date_r = ap.date_given ? ap.date : 0;
	if (flags_for(f, &ap.flags, 1, flags_r, kw_r) < 0) {
		*limit_r = 1;
		return -1;
	}
	return 0;
}

enum append_failure {
	APPEND_OK, APPEND_SERVER, APPEND_BAD, APPEND_LIMIT, APPEND_EMPTY,
	APPEND_TOOBIG,
};

/* MULTIAPPEND is all or nothing (RFC 3502 6.3.11): the messages this
 * command saved before one failed are expunged again. */
static void append_undo(struct imap_session *s, struct imap_folder *f,
			const uint32_t *uids, uint32_t n)
{
	const char *error;

	for (uint32_t k = 0; k < n; k++) {
		uint32_t seq = imap_folder_seq_of_uid(f, uids[k]);

		if (seq == 0 || imap_folder_expunge(f, seq - 1, &error) < 0)
			log_warn(s->id, "append: cannot take back uid %lu: %s",
				 (unsigned long)uids[k], seq ? error :
				 "not found");
	}
}

static void append_reply(struct imap_session *s, struct imap_command *c,
			 enum append_failure failed, uint32_t uidvalidity,
			 const uint32_t *got, uint32_t n)
{
	struct str uids = STR_INIT(0);

	switch (failed) {
	case APPEND_TOOBIG:
		imap_reply_tagged(s, c, "NO", "[TOOBIG] %s",
				  imap_reader_error(&s->rd));
		break;
	case APPEND_BAD:
		imap_reply_bad(s, c, "Invalid APPEND arguments.");
		break;
	case APPEND_LIMIT:
		imap_reply_tagged(s, c, "NO", "[LIMIT] Too many keywords in "
				  "this mailbox (26).");
		break;
	case APPEND_EMPTY:
		imap_reply_tagged(s, c, "NO", "Can't save an empty message.");
		break;
	case APPEND_SERVER:
		imap_reply_tagged(s, c, "NO", "[SERVERBUG] Message could not "
				  "be saved.");
		break;
	case APPEND_OK:
		if (imap_seqset_format_uids(got, n, &uids) == 0)
			imap_reply_tagged(s, c, "OK", "[APPENDUID %lu %s] "
					  "Append completed.",
					  (unsigned long)uidvalidity, uids.s);
		else
			imap_reply_tagged(s, c, "OK", "Append completed.");
		break;
	}
	str_free(&uids);
}

void imap_cmd_append(struct imap_session *s, struct imap_command *c)
{
	struct str name = STR_INIT(0);
	struct imap_folder *f;
	uint32_t *got = NULL, n = 0, uidvalidity = 0;
	const char *error = NULL;
	enum append_failure failed = APPEND_OK;
	int opened = 0, rc;

	if (c->nargs < 1 || imap_arg_mailbox(s, c, &c->args[0], &name) < 0) {
		if (c->nargs < 1)
			imap_reply_bad(s, c, "APPEND takes a mailbox.");
		if (c->literal_pending)
			(void)imap_reader_literal_skip(&s->rd);
		goto out;
	}
	if (!c->literal_pending) {
		imap_reply_bad(s, c, "APPEND needs a message literal.");
		goto out;
	}
	if ((f = dest_open(s, c, name.s, &opened)) == NULL) {
		(void)imap_reader_literal_skip(&s->rd);
		goto out;
	}
	uidvalidity = f->uidvalidity;
	for (int first = 1; c->literal_pending && !s->logout; first = 0) {
		uint8_t flags;
		uint32_t kw, uid;
		time_t date;
		int fd, limit;

		if (append_params(f, c, first, &flags, &kw, &date,
				  &limit) < 0 || c->literal_size == 0) {
			(void)imap_reader_literal_skip(&s->rd);
			failed = limit ? APPEND_LIMIT : c->literal_size == 0 ?
				 APPEND_EMPTY : APPEND_BAD;
			break;
		}
		fd = append_read(s, c);
		if (fd < 0) {
			failed = APPEND_SERVER;
		} else if (imap_folder_append(f, fd, c->literal_size, flags,
					      kw, date, &uid, &error) < 0) {
			log_warn(s->id, "append to %s: %s", name.s, error);
			failed = APPEND_SERVER;
		} else {
			got = xreallocarray(got, n + 1, sizeof(*got));
			got[n++] = uid;
			s->appended++;
		}
		if (fd >= 0)
			(void)close(fd);
		if (s->logout)
			break;
		rc = imap_read_continue(&s->rd, c);
		if (rc != IMAP_READ_OK) {
			failed = rc == IMAP_READ_TOOBIG ? APPEND_TOOBIG :
							  APPEND_BAD;
			break;
		}
		if (failed != APPEND_OK) {
			if (c->literal_pending)
				(void)imap_reader_literal_skip(&s->rd);
			break;
		}
		if (!c->literal_pending && c->nargs != 0)
			failed = APPEND_BAD;
	}
	if (failed != APPEND_OK || s->logout)
		append_undo(s, f, got, n);
	dest_close(f, opened);
	if (!s->logout)
		append_reply(s, c, failed, uidvalidity, got, n);
out:
	free(got);
	str_free(&name);
}
