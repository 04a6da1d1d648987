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
	if (imap_folders_delete(s->maildir_fd, name.s, &error) < 0)
		folder_no(s, c, error);
	else
		imap_reply_tagged(s, c, "OK", "Delete completed.");
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
	if (imap_folders_rename(s->maildir_fd, from.s, to.s, &error) < 0)
		folder_no(s, c, error);
	else
		imap_reply_tagged(s, c, "OK", "Rename completed.");
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

#define ST_MESSAGES	0x001u
#define ST_RECENT	0x002u
#define ST_UIDNEXT	0x004u
#define ST_UIDVALIDITY	0x008u
#define ST_UNSEEN	0x010u
#define ST_DELETED	0x020u
#define ST_SIZE		0x040u
#define ST_HIGHESTMODSEQ 0x080u
#define ST_APPENDLIMIT	0x100u

static const struct {
	const char *name;
	unsigned bit;
} status_names[] = {
	{ "MESSAGES", ST_MESSAGES }, { "RECENT", ST_RECENT },
	{ "UIDNEXT", ST_UIDNEXT }, { "UIDVALIDITY", ST_UIDVALIDITY },
	{ "UNSEEN", ST_UNSEEN }, { "DELETED", ST_DELETED },
	{ "SIZE", ST_SIZE }, { "HIGHESTMODSEQ", ST_HIGHESTMODSEQ },
	{ "APPENDLIMIT", ST_APPENDLIMIT },
};

/* The STATUS item list; 0 if it is not one. */
static unsigned status_parse(const struct imap_arg *a)
{
	unsigned items = 0;

	if (a->type != IMAP_ARG_LIST || a->n == 0)
		return 0;
	for (unsigned i = 0; i < a->n; i++) {
		unsigned bit = 0;

		for (size_t k = 0;
		     k < sizeof(status_names) / sizeof(status_names[0]); k++)
			if (imap_arg_atom_is(&a->list[i], status_names[k].name))
				bit = status_names[k].bit;
		if (bit == 0)
			return 0;
		items |= bit;
	}
	return items;
}

/* "* STATUS name (...)" of one folder. 0, or -1 with errno and
 * *error_r. */
static int status_write(struct imap_session *s, const char *name,
			unsigned items, const char **error_r)
{
	struct imap_folder_status st;
	struct str line = STR_INIT(0), dir = STR_INIT(0);
	const char *sep = "";
	int r = -1;

	if (imap_folder_dirname(name, &dir, error_r) < 0)
		goto out;
	if (imap_folder_status(s->maildir_fd, str_c(&dir), -1, &st, error_r) < 0)
		goto out;
	if (items & ST_HIGHESTMODSEQ)
		imap_session_condstore_on(s);
	(void)str_appends(&line, "* STATUS ");
	imap_write_mailbox(s, &line, name);
	(void)str_appends(&line, " (");
#define ITEM(bit, fmt, v) \
	if (items & (bit)) { \
		(void)str_appendf(&line, "%s" fmt, sep, v); \
		sep = " "; \
	}
	ITEM(ST_MESSAGES, "MESSAGES %lu", (unsigned long)st.messages)
	ITEM(ST_RECENT, "RECENT %lu", (unsigned long)st.recent)
	ITEM(ST_UIDNEXT, "UIDNEXT %lu", (unsigned long)st.uidnext)
	ITEM(ST_UIDVALIDITY, "UIDVALIDITY %lu", (unsigned long)st.uidvalidity)
	ITEM(ST_UNSEEN, "UNSEEN %lu", (unsigned long)st.unseen)
	ITEM(ST_DELETED, "DELETED %lu", (unsigned long)st.deleted)
	ITEM(ST_SIZE, "SIZE %llu", (unsigned long long)st.size)
	ITEM(ST_HIGHESTMODSEQ, "HIGHESTMODSEQ %llu",
	     (unsigned long long)st.highestmodseq)
	if (items & ST_APPENDLIMIT) {
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
	const char *error;
	unsigned items;

	if (c->nargs != 2 || (items = status_parse(&c->args[1])) == 0) {
		imap_reply_bad(s, c, "STATUS takes a mailbox and a list of "
			       "items.");
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

#define LS_SUBSCRIBED	0x01u	/* selection SUBSCRIBED */
#define LS_RECURSIVE	0x02u	/* RECURSIVEMATCH */
#define LS_SPECIALUSE	0x04u	/* selection SPECIAL-USE */
#define LR_SUBSCRIBED	0x10u	/* RETURN (SUBSCRIBED) */
#define LR_CHILDREN	0x20u
#define LR_SPECIALUSE	0x40u
#define LR_STATUS	0x80u

struct list_req {
	unsigned opts;
	unsigned status_items;
	struct str ref;
	const struct imap_arg *patterns;	/* one arg, or a list */
	unsigned npatterns;
	int lsub;
};

static int list_selection(const struct imap_arg *a, unsigned *opts)
{
	for (unsigned i = 0; i < a->n; i++) {
		const struct imap_arg *o = &a->list[i];

		if (imap_arg_atom_is(o, "SUBSCRIBED"))
			*opts |= LS_SUBSCRIBED;
		else if (imap_arg_atom_is(o, "RECURSIVEMATCH"))
			*opts |= LS_RECURSIVE;
		else if (imap_arg_atom_is(o, "SPECIAL-USE"))
			*opts |= LS_SPECIALUSE;
		else if (!imap_arg_atom_is(o, "REMOTE"))
			return -1;
	}
	/* RFC 5258 3: RECURSIVEMATCH alone is an error */
	if ((*opts & LS_RECURSIVE) && !(*opts & LS_SUBSCRIBED))
		return -1;
	return 0;
}

static int list_return(const struct imap_arg *a, unsigned *opts,
		       unsigned *status_items)
{
	for (unsigned i = 0; i < a->n; i++) {
		const struct imap_arg *o = &a->list[i];

		if (imap_arg_atom_is(o, "SUBSCRIBED"))
			*opts |= LR_SUBSCRIBED;
		else if (imap_arg_atom_is(o, "CHILDREN"))
			*opts |= LR_CHILDREN;
		else if (imap_arg_atom_is(o, "SPECIAL-USE"))
			*opts |= LR_SPECIALUSE;
		else if (imap_arg_atom_is(o, "STATUS") && i + 1 < a->n &&
			 (*status_items = status_parse(&a->list[i + 1])) != 0) {
			*opts |= LR_STATUS;
			i++;
		} else {
			return -1;
		}
	}
	return 0;
}

static int list_parse(struct imap_session *s, struct imap_command *c,
		      struct list_req *q)
{
	unsigned i = 0;
	const char *p;
	size_t n;

	if (i < c->nargs && c->args[i].type == IMAP_ARG_LIST && !q->lsub) {
		if (list_selection(&c->args[i], &q->opts) < 0)
			return -1;
		i++;
	}
	if (i + 2 > c->nargs || !imap_arg_astring(&c->args[i], &p, &n))
		return -1;
	if (imap_wire_name(s, p, n, &q->ref) < 0)
		return -1;
	i++;
	q->patterns = &c->args[i];
	q->npatterns = 1;
	if (c->args[i].type == IMAP_ARG_LIST) {
		if (q->lsub || c->args[i].n == 0)
			return -1;
		q->npatterns = c->args[i].n;
		q->patterns = c->args[i].list;
	}
	i++;
	if (i < c->nargs && !q->lsub) {
		if (!imap_arg_atom_is(&c->args[i], "RETURN") ||
		    i + 2 != c->nargs || c->args[i + 1].type != IMAP_ARG_LIST ||
		    list_return(&c->args[i + 1], &q->opts,
				&q->status_items) < 0)
			return -1;
		i += 2;
	}
	return i == c->nargs ? 0 : -1;
}

/* Which names a pattern (with the reference) selects. */
static int list_matches(struct imap_session *s, const struct list_req *q,
			const char *name)
{
	struct str full = STR_INIT(0);
	int hit = 0;

	for (unsigned k = 0; k < q->npatterns && !hit; k++) {
		const char *p;
		size_t n;

		if (!imap_arg_astring(&q->patterns[k], &p, &n))
			continue;
		str_clear(&full);
		(void)str_append(&full, q->ref.s ? q->ref.s : "", q->ref.len);
		if (imap_wire_name(s, p, n, &full) < 0)
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
	if ((q->opts & (LR_SUBSCRIBED | LS_SUBSCRIBED)) || q->lsub)
		shown |= IMAP_FA_SUBSCRIBED;
	if (q->lsub)
		shown &= ~(IMAP_FA_SPECIAL_USE | IMAP_FA_HASCHILDREN |
			   IMAP_FA_HASNOCHILDREN | IMAP_FA_SUBSCRIBED);
	(void)str_appendf(&line, "* %s (", q->lsub ? "LSUB" : "LIST");
	for (unsigned bit = 1; bit <= IMAP_FA_FLAGGED; bit <<= 1) {
		if (!(attrs & shown & bit))
			continue;
		(void)str_appendf(&line, "%s%s", sep,
				  imap_folder_attr_name(bit));
		sep = " ";
	}
	/* \Noselect too, for clients that know only RFC 3501 */
	if ((attrs & IMAP_FA_NONEXISTENT) && !(q->opts & LS_SUBSCRIBED))
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

void imap_cmd_list(struct imap_session *s, struct imap_command *c)
{
	struct list_req q;
	struct imap_folder_list l;
	const char *error;

	memset(&q, 0, sizeof(q));
	str_init(&q.ref, IMAP_FOLDER_NAME_MAX);
	q.lsub = strcmp(c->name, "LSUB") == 0;
	if (list_parse(s, c, &q) < 0) {
		imap_reply_bad(s, c, "Invalid LIST arguments.");
		str_free(&q.ref);
		return;
	}
	/* LIST "" "": the hierarchy separator and the root */
	if (q.npatterns == 1 && q.patterns[0].len == 0 &&
	    !(q.opts & LS_SUBSCRIBED) && !q.lsub) {
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

		if (!list_matches(s, &q, e->name))
			continue;
		if ((q.opts & LS_SUBSCRIBED || q.lsub) && !sub)
			continue;
		if (!(q.opts & LS_SUBSCRIBED) && !q.lsub &&
		    (e->attrs & IMAP_FA_NONEXISTENT) &&
		    !(e->attrs & IMAP_FA_HASCHILDREN))
			continue;	/* only subscribed, not a parent */
		if ((q.opts & LS_SPECIALUSE) &&
		    !(e->attrs & IMAP_FA_SPECIAL_USE))
			continue;
		list_one(s, &q, e, NULL);
		if ((q.opts & LR_STATUS) && !(e->attrs & IMAP_FA_NONEXISTENT))
			(void)status_write(s, e->name, q.status_items,
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
