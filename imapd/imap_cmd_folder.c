/*
 * imap_cmd_folder - the commands on folders: CREATE (with
 *                   CREATE-SPECIAL-USE, RFC 6154), DELETE, RENAME,
 *                   SUBSCRIBE, UNSUBSCRIBE, LIST (RFC 5258 LIST-EXTENDED,
 *                   RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE), LSUB,
 *                   STATUS (RFC 8438 STATUS=SIZE, RFC 7889 APPENDLIMIT)
 */
#include "imap_session.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "imap_args.h"
#include "imap_folders.h"
#include "util/log.h"

/* NO with the response code errno suggests (RFC 5530). */
static void folder_no(struct imap_session *s, const struct imap_command *c,
		      const char *error)
{
	const char *code;

	switch (errno) {
	case EEXIST:
		code = "ALREADYEXISTS";
		break;
	case ENOENT:
		code = "NONEXISTENT";
		break;
	case EINVAL:
	case EPERM:
		code = "CANNOT";
		break;
	case ENOSPC:
	case EDQUOT:
		code = "LIMIT";
		break;
	default:
		code = "SERVERBUG";
		log_warn(s->id, "%s: %s: %s", c->name, error,
			 strerror(errno));
		break;
	}
	imap_reply_tagged(s, c, "NO", "[%s] %s.", code, error);
}

/* The index of folder name (and its children) under imap_index_root. */
static void forget_index(struct imap_session *s, const char *name)
{
	struct str dir = STR_INIT(0);
	const char *error;

	if (imap_folder_dirname(name, &dir, &error) == 0)
		imap_session_index_forget(s, str_c(&dir));
	str_free(&dir);
}

void imap_cmd_create(struct imap_session *s, struct imap_command *c)
{
	struct str name = STR_INIT(0);
	const char *error;
	unsigned use = 0;

	if (c->nargs < 1 || c->nargs > 2) {
		imap_reply_bad(s, c, "CREATE takes a mailbox name.");
		return;
	}
	if (imap_arg_mailbox(s, c, &c->args[0], &name) < 0)
		goto out;
	if (c->nargs == 2) {
		/* (USE (\Sent ...)) */
		const struct imap_arg *l = c->args[1].list;

		if (c->args[1].type != IMAP_ARG_LIST || c->args[1].n != 2 ||
		    !imap_arg_atom_is(&l[0], "USE") ||
		    l[1].type != IMAP_ARG_LIST) {
			imap_reply_bad(s, c, "Invalid CREATE parameters.");
			goto out;
		}
		for (unsigned i = 0; i < l[1].n; i++) {
			unsigned bit = l[1].list[i].type == IMAP_ARG_ATOM ?
				imap_folder_use_parse(l[1].list[i].s,
						      l[1].list[i].len) : 0;

			if (bit == 0) {
				imap_reply_tagged(s, c, "NO", "[USEATTR] "
						  "Unknown special use.");
				goto out;
			}
			use |= bit;
		}
	}
	/* a trailing separator only says the name will have children */
	if (name.len > 1 && name.s[name.len - 1] == IMAP_FOLDER_SEP)
		str_truncate(&name, name.len - 1);
	if (imap_folders_create(s->maildir_fd, name.s, use, &error) < 0)
		folder_no(s, c, error);
	else
		imap_reply_tagged(s, c, "OK", "Create completed.");
out:
	str_free(&name);
}

void imap_cmd_delete(struct imap_session *s, struct imap_command *c)
{
	struct str name = STR_INIT(0);
	const char *error;

	if (c->nargs != 1) {
		imap_reply_bad(s, c, "DELETE takes a mailbox name.");
		return;
	}
	if (imap_arg_mailbox(s, c, &c->args[0], &name) < 0)
		goto out;
	if (s->sel && strcmp(s->sel_name.s, name.s) == 0) {
		/* RFC 9051 6.3.4: deleting the selected mailbox closes it */
		imap_session_unselect(s);
		if (s->enabled & (IMAP_EN_QRESYNC | IMAP_EN_REV2))
			imap_reply_untagged(s, "OK [CLOSED] Mailbox deleted.");
	}
	if (imap_folders_delete(s->maildir_fd, name.s, &error) < 0) {
		folder_no(s, c, error);
	} else {
		forget_index(s, name.s);
		imap_reply_tagged(s, c, "OK", "Delete completed.");
	}
out:
	str_free(&name);
}

void imap_cmd_rename(struct imap_session *s, struct imap_command *c)
{
	struct str from = STR_INIT(0), to = STR_INIT(0);
	const char *error;

	if (c->nargs != 2) {
		imap_reply_bad(s, c, "RENAME takes two mailbox names.");
		return;
	}
	if (imap_arg_mailbox(s, c, &c->args[0], &from) < 0 ||
	    imap_arg_mailbox(s, c, &c->args[1], &to) < 0)
		goto out;
	if (imap_folders_rename(s->maildir_fd, from.s, to.s, &error) < 0) {
		folder_no(s, c, error);
	} else {
		/* under imap_index_root the renamed folders start afresh
		 * (a new UIDVALIDITY, RFC 9051 6.3.6 allows it); in the
		 * Maildir their index moved with them */
		forget_index(s, from.s);
		forget_index(s, to.s);
		imap_reply_tagged(s, c, "OK", "Rename completed.");
	}
out:
	str_free(&from);
	str_free(&to);
}

static void subscribe(struct imap_session *s, struct imap_command *c, int on)
{
	struct str name = STR_INIT(0);
	const char *error;

	if (c->nargs != 1) {
		imap_reply_bad(s, c, "Expected a mailbox name.");
		return;
	}
	if (imap_arg_mailbox(s, c, &c->args[0], &name) < 0)
		goto out;
	if (imap_folders_subscribe(s->maildir_fd, name.s, on, &error) < 0)
		folder_no(s, c, error);
	else
		imap_reply_tagged(s, c, "OK", "%s completed.",
				  on ? "Subscribe" : "Unsubscribe");
out:
	str_free(&name);
}

void imap_cmd_subscribe(struct imap_session *s, struct imap_command *c)
{
	subscribe(s, c, 1);
}

void imap_cmd_unsubscribe(struct imap_session *s, struct imap_command *c)
{
	subscribe(s, c, 0);
}

/* ---- STATUS ------------------------------------------------------------ */

/* "* STATUS name (...)" of one folder. 0, or -1 with errno and
 * *error_r. */
static int status_write(struct imap_session *s, const char *name,
			unsigned items, const char **error_r)
{
	struct imap_folder_status st;
	struct str line = STR_INIT(0), dir = STR_INIT(0);
	const char *sep = "";
	int r = -1, index_fd;

	if (imap_folder_dirname(name, &dir, error_r) < 0)
		goto out;
	if ((index_fd = imap_session_index_dir(s, str_c(&dir))) == -2) {
		*error_r = "Cannot open the index";
		errno = EIO;
		goto out;
	}
	r = imap_folder_status(s->maildir_fd, str_c(&dir), index_fd, &st,
			       error_r);
	if (index_fd >= 0)
		(void)close(index_fd);
	if (r < 0) {
		r = -1;
		goto out;
	}
	if (items & IMAP_STATUS_HIGHESTMODSEQ)
		imap_session_condstore_on(s);
	(void)str_appends(&line, "* STATUS ");
	imap_write_mailbox(s, &line, name);
	(void)str_appends(&line, " (");
#define ITEM(bit, fmt, v) \
	if (items & (bit)) { \
		(void)str_appendf(&line, "%s" fmt, sep, v); \
		sep = " "; \
	}
	ITEM(IMAP_STATUS_MESSAGES, "MESSAGES %lu", (unsigned long)st.messages)
	ITEM(IMAP_STATUS_RECENT, "RECENT %lu", (unsigned long)st.recent)
	ITEM(IMAP_STATUS_UIDNEXT, "UIDNEXT %lu", (unsigned long)st.uidnext)
	ITEM(IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY %lu", (unsigned long)st.uidvalidity)
	ITEM(IMAP_STATUS_UNSEEN, "UNSEEN %lu", (unsigned long)st.unseen)
	ITEM(IMAP_STATUS_DELETED, "DELETED %lu", (unsigned long)st.deleted)
	ITEM(IMAP_STATUS_SIZE, "SIZE %llu", (unsigned long long)st.size)
	ITEM(IMAP_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ %llu",
	     (unsigned long long)st.highestmodseq)
	if (items & IMAP_STATUS_APPENDLIMIT) {
		if (s->im->append_max > 0)
			(void)str_appendf(&line, "%sAPPENDLIMIT %llu", sep,
					  (unsigned long long)s->im->append_max);
		else
			(void)str_appendf(&line, "%sAPPENDLIMIT NIL", sep);
	}
#undef ITEM
	(void)str_appends(&line, ")\r\n");
	if (io_write(&s->io, line.s, line.len) < 0)
		s->logout = 1;
	r = 0;
out:
	str_free(&line);
	str_free(&dir);
	return r;
}

void imap_cmd_status(struct imap_session *s, struct imap_command *c)
{
	struct str name = STR_INIT(0);
	const char *error = "STATUS takes a mailbox and a list of items.";
	unsigned items;

	if (c->nargs != 2 ||
	    imap_status_items_parse(&c->args[1], &items, &error) < 0) {
		imap_reply_bad(s, c, error);
		return;
	}
	if (imap_arg_mailbox(s, c, &c->args[0], &name) < 0)
		goto out;
	/* the selected folder: make sure its own changes are counted */
	if (s->sel)
		(void)imap_folder_flush(s->sel);
	if (status_write(s, name.s, items, &error) < 0)
		imap_reply_tagged(s, c, "NO", "[NONEXISTENT] Mailbox does "
				  "not exist.");
	else
		imap_reply_tagged(s, c, "OK", "Status completed.");
out:
	str_free(&name);
}

/* ---- LIST and LSUB ------------------------------------------------------ */

struct list_req {
	struct imap_list_args a;
	struct str ref;			/* the reference in UTF-8 */
	int lsub;
};

static int list_parse(struct imap_session *s, struct imap_command *c,
		      struct list_req *q, const char **error_r)
{
	if (imap_list_parse(c->args, c->nargs, &q->a, error_r) < 0)
		return -1;
	if (q->lsub && (q->a.extended || q->a.npatterns != 1)) {
		*error_r = "LSUB takes a reference and a pattern.";
		return -1;
	}
	/* RFC 5258 3: RECURSIVEMATCH needs another selection option */
	if ((q->a.select & IMAP_LIST_SEL_RECURSIVEMATCH) &&
	    !(q->a.select & (IMAP_LIST_SEL_SUBSCRIBED |
			     IMAP_LIST_SEL_SPECIAL_USE))) {
		*error_r = "RECURSIVEMATCH alone.";
		return -1;
	}
	if (imap_wire_name(s, q->a.reference, q->a.reference_len,
			   &q->ref) < 0) {
		*error_r = "Invalid reference.";
		return -1;
	}
	return 0;
}

/* Which names a pattern (with the reference) selects. */
static int list_matches(struct imap_session *s, const struct list_req *q,
			const char *name)
{
	struct str full = STR_INIT(0);
	int hit = 0;

	for (unsigned k = 0; k < q->a.npatterns && !hit; k++) {
		str_clear(&full);
		(void)str_append(&full, str_c(&q->ref), q->ref.len);
		if (imap_wire_name(s, q->a.pattern[k], q->a.pattern_len[k],
				   &full) < 0)
			continue;
		hit = imap_folder_match(full.s ? full.s : "", name);
	}
	str_free(&full);
	return hit;
}

static void list_one(struct imap_session *s, const struct list_req *q,
		     const struct imap_folder_entry *e, const char *extra)
{
	struct str line = STR_INIT(0);
	unsigned attrs = e->attrs, shown = 0;
	const char *sep = "";

	/* which attributes go out */
	shown = IMAP_FA_NONEXISTENT | IMAP_FA_HASCHILDREN |
		IMAP_FA_HASNOCHILDREN | IMAP_FA_SPECIAL_USE;
	if ((q->a.ret & IMAP_LIST_RET_SUBSCRIBED) ||
	    (q->a.select & IMAP_LIST_SEL_SUBSCRIBED) || q->lsub)
		shown |= IMAP_FA_SUBSCRIBED;
	if (q->lsub)
		shown &= ~(IMAP_FA_SPECIAL_USE | IMAP_FA_HASCHILDREN |
			   IMAP_FA_HASNOCHILDREN | IMAP_FA_SUBSCRIBED |
			   IMAP_FA_NONEXISTENT);
	(void)str_appendf(&line, "* %s (", q->lsub ? "LSUB" : "LIST");
	for (unsigned bit = 1; bit <= IMAP_FA_FLAGGED; bit <<= 1) {
		if (!(attrs & shown & bit))
			continue;
		(void)str_appendf(&line, "%s%s", sep,
				  imap_folder_attr_name(bit));
		sep = " ";
	}
	/* \Noselect too, for clients that know only RFC 3501 */
	if ((attrs & IMAP_FA_NONEXISTENT) &&
	    !(q->a.select & IMAP_LIST_SEL_SUBSCRIBED))
		(void)str_appendf(&line, "%s\\Noselect", sep);
	(void)str_appends(&line, ") \".\" ");
	imap_write_mailbox(s, &line, e->name);
	if (extra)
		(void)str_appends(&line, extra);
	(void)str_appends(&line, "\r\n");
	if (io_write(&s->io, line.s, line.len) < 0)
		s->logout = 1;
	str_free(&line);
}

/* 1 if a name below l->e[i] is subscribed and the patterns do not reach
 * it (the list is sorted: names below follow, among others that share
 * the prefix). */
static int subscribed_below(struct imap_session *s, const struct list_req *q,
			    const struct imap_folder_list *l, size_t i)
{
	const char *name = l->e[i].name;
	size_t len = strlen(name);

	for (size_t k = i + 1; k < l->n; k++) {
		const char *c = l->e[k].name;

		if (strncmp(c, name, len) != 0)
			break;
		if (c[len] == IMAP_FOLDER_SEP &&
		    (l->e[k].attrs & IMAP_FA_SUBSCRIBED) &&
		    !list_matches(s, q, c))
			return 1;
	}
	return 0;
}

/* A parent listed only for its subscribed children. */
static void list_parent(struct imap_session *s, const struct list_req *q,
			const struct imap_folder_entry *e)
{
	struct imap_folder_entry shown = *e;

	if (q->lsub) {
		/* LSUB: "\Noselect" and nothing else */
		shown.attrs = IMAP_FA_NONEXISTENT;
		list_one(s, q, &shown, NULL);
		return;
	}
	shown.attrs &= ~IMAP_FA_SUBSCRIBED;
	list_one(s, q, &shown, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
}

void imap_cmd_list(struct imap_session *s, struct imap_command *c)
{
	struct list_req q;
	struct imap_folder_list l;
	const char *error = "Invalid LIST arguments.";
	unsigned sel;

	memset(&q, 0, sizeof(q));
	str_init(&q.ref, IMAP_FOLDER_NAME_MAX);
	q.lsub = strcmp(c->name, "LSUB") == 0;
	if (list_parse(s, c, &q, &error) < 0) {
		imap_reply_bad(s, c, error);
		str_free(&q.ref);
		return;
	}
	sel = q.a.select;
	/* LIST "" "": the hierarchy separator and the root */
	if (q.a.npatterns == 1 && q.a.pattern_len[0] == 0 &&
	    !(sel & IMAP_LIST_SEL_SUBSCRIBED) && !q.lsub) {
		imap_reply_untagged(s, "LIST (\\Noselect) \".\" \"\"");
		imap_reply_tagged(s, c, "OK", "List completed.");
		str_free(&q.ref);
		return;
	}
	if (imap_folders_list(s->maildir_fd, &l) < 0) {
		imap_reply_tagged(s, c, "NO", "[SERVERBUG] Cannot list "
				  "mailboxes.");
		log_warn(s->id, "list: %s", strerror(errno));
		str_free(&q.ref);
		return;
	}
	for (size_t i = 0; i < l.n && !s->logout; i++) {
		const struct imap_folder_entry *e = &l.e[i];
		int sub = (e->attrs & IMAP_FA_SUBSCRIBED) != 0;

		int below = 0;

		if (!list_matches(s, &q, e->name))
			continue;
		if ((sel & IMAP_LIST_SEL_SUBSCRIBED) || q.lsub)
			below = subscribed_below(s, &q, &l, i);
		if (((sel & IMAP_LIST_SEL_SUBSCRIBED) || q.lsub) && !sub) {
			/* RFC 5258 RECURSIVEMATCH: a parent of subscribed
			 * names the pattern does not reach is listed with
			 * CHILDINFO; LSUB lists it \Noselect (RFC 3501
			 * 6.3.9) */
			if (!below || ((sel & IMAP_LIST_SEL_SUBSCRIBED) &&
				       !(sel & IMAP_LIST_SEL_RECURSIVEMATCH)))
				continue;
			list_parent(s, &q, e);
			continue;
		}
		if (below && (sel & IMAP_LIST_SEL_RECURSIVEMATCH)) {
			list_one(s, &q, e, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
			continue;
		}
		if (!(sel & IMAP_LIST_SEL_SUBSCRIBED) && !q.lsub &&
		    (e->attrs & IMAP_FA_NONEXISTENT) &&
		    !(e->attrs & IMAP_FA_HASCHILDREN))
			continue;	/* only subscribed, not a parent */
		if ((sel & IMAP_LIST_SEL_SPECIAL_USE) &&
		    !(e->attrs & IMAP_FA_SPECIAL_USE))
			continue;
		list_one(s, &q, e, NULL);
		if ((q.a.ret & IMAP_LIST_RET_STATUS) &&
		    !(e->attrs & IMAP_FA_NONEXISTENT))
			(void)status_write(s, e->name, q.a.status_items,
					   &error);
	}
	imap_folder_list_free(&l);
	str_free(&q.ref);
	imap_reply_tagged(s, c, "OK", "%s completed.", q.lsub ? "Lsub" :
			  "List");
}

void imap_cmd_lsub(struct imap_session *s, struct imap_command *c)
{
	imap_cmd_list(s, c);
}
