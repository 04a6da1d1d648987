/*
 * imap_cmd_select - SELECT, EXAMINE (with CONDSTORE and QRESYNC, RFC
 *                   7162), CLOSE, UNSELECT (RFC 3691), EXPUNGE and
 *                   UID EXPUNGE (RFC 4315)
 */
#include "imap_session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imap_args.h"
#include "imap_folders.h"
#include "imap_seqset.h"
#include "util/alloc.h"
#include "util/log.h"

/* QRESYNC (RFC 7162 3.2.5.1): VANISHED (EARLIER) and the FETCH of each
 * message changed since the client's MODSEQ. */
static void select_qresync(struct imap_session *s,
			   const struct imap_select_args *p)
{
	struct imap_folder *f = s->sel;
	struct str set = STR_INIT(0), flags = STR_INIT(0);
	struct imap_seqset known;
	int have_known = 0;

	if (p->uidvalidity != f->uidvalidity)
		return;
	const char *error;

	imap_seqset_init(&known);
	if (p->known_uids && imap_seqset_parse(&known, p->known_uids,
					       p->known_uids_len, 100000,
					       &error) == 0) {
		imap_seqset_resolve(&known, f->uidnext);
		have_known = 1;
	}
	if (imap_folder_vanished_since(f, p->modseq, &set) == 0) {
		/* the log forgot expunges that old: every UID the client
		 * may know and that is not here any more */
		struct imap_seqset gone;

		imap_seqset_init(&gone);
		str_clear(&set);
		/* the gaps between the UIDs here, below UIDNEXT (a
		 * VANISHED (EARLIER) may name UIDs the client never saw) */
		uint32_t prev = 0;

		for (uint32_t i = 0; i < f->count; i++) {
			if (f->msgs[i].uid > prev + 1)
				imap_seqset_add(&gone, prev + 1,
						f->msgs[i].uid - 1);
			prev = f->msgs[i].uid;
		}
		if (f->uidnext > prev + 1)
			imap_seqset_add(&gone, prev + 1, f->uidnext - 1);
		(void)have_known;
		imap_seqset_normalize(&gone);
		(void)imap_seqset_format(&gone, &set);
		imap_seqset_free(&gone);
	}
	if (set.len > 0)
		imap_reply_untagged(s, "VANISHED (EARLIER) %s", set.s);
	for (uint32_t i = 0; i < f->count; i++) {
		const struct imap_msg *m = &f->msgs[i];

		if (m->modseq <= p->modseq)
			continue;
		str_clear(&flags);
		imap_write_flags(s, &flags, m);
		imap_reply_untagged(s, "%lu FETCH (UID %lu FLAGS %s MODSEQ "
				    "(%llu))", (unsigned long)i + 1,
				    (unsigned long)m->uid, flags.s,
				    (unsigned long long)m->modseq);
	}
	imap_seqset_free(&known);
	str_free(&set);
	str_free(&flags);
}

static uint32_t first_unseen(const struct imap_folder *f)
{
	for (uint32_t i = 0; i < f->count; i++)
		if (!(f->msgs[i].flags & IMAP_F_SEEN))
			return i + 1;
	return 0;
}

void imap_cmd_select(struct imap_session *s, struct imap_command *c)
{
	int readonly = strcmp(c->name, "EXAMINE") == 0;
	struct imap_select_args p;
	struct str name = STR_INIT(0), dir = STR_INIT(0);
	struct imap_folder *f;
	const char *error = "Invalid SELECT arguments.";
	uint32_t recent = 0, unseen;
	int index_fd, r;

	if (imap_select_parse(c->args, c->nargs, &p, &error) < 0) {
		imap_reply_bad(s, c, error);
		return;
	}
	if (p.qresync && !(s->enabled & IMAP_EN_QRESYNC)) {
		imap_reply_bad(s, c, "QRESYNC is not enabled.");
		return;
	}
	if (imap_arg_mailbox(s, c, &c->args[0], &name) < 0)
		goto out;
	if (s->sel) {
		imap_session_unselect(s);
		if (s->enabled & (IMAP_EN_QRESYNC | IMAP_EN_REV2))
			imap_reply_untagged(s, "OK [CLOSED] Previous mailbox "
					    "closed.");
	}
	if (imap_folder_dirname(name.s, &dir, &error) < 0) {
		imap_reply_tagged(s, c, "NO", "[CANNOT] %s.", error);
		goto out;
	}
	if ((index_fd = imap_session_index_dir(s, str_c(&dir))) == -2) {
		imap_reply_tagged(s, c, "NO", "[SERVERBUG] Mailbox can't be "
				  "opened.");
		goto out;
	}
	f = xcalloc(1, sizeof(*f));
	r = imap_folder_open(f, s->maildir_fd, str_c(&dir), index_fd,
			     readonly, &error);
	if (index_fd >= 0)
		(void)close(index_fd);
	if (r < 0) {
		int missing = errno == ENOENT;

		if (!missing)
			log_warn(s->id, "open %s: %s", name.s, error);
		imap_reply_tagged(s, c, "NO", missing ?
				  "[NONEXISTENT] Mailbox does not exist." :
				  "[SERVERBUG] Mailbox can't be opened.");
		free(f);
		goto out;
	}
	s->sel = f;
	s->sel_readonly = readonly;
	(void)str_sets(&s->sel_name, name.s);
	if (p.condstore || p.qresync)
		s->enabled |= IMAP_EN_CONDSTORE;
	imap_session_flags(s);
	imap_reply_untagged(s, "%lu EXISTS", (unsigned long)f->count);
	s->exists = f->count;
	for (uint32_t i = 0; i < f->count; i++)
		recent += f->msgs[i].recent;
	s->recent = recent;
	if (!(s->enabled & IMAP_EN_REV2)) {
		imap_reply_untagged(s, "%lu RECENT", (unsigned long)recent);
		if ((unseen = first_unseen(f)) != 0)
			imap_reply_untagged(s, "OK [UNSEEN %lu] First unseen.",
					    (unsigned long)unseen);
	}
	imap_reply_untagged(s, "OK [UIDVALIDITY %lu] UIDs valid",
			    (unsigned long)f->uidvalidity);
	imap_reply_untagged(s, "OK [UIDNEXT %lu] Predicted next UID",
			    (unsigned long)f->uidnext);
	if (imap_session_condstore(s))
		imap_reply_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
				    (unsigned long long)f->highestmodseq);
	s->announced_modseq = f->highestmodseq;
	if (p.qresync)
		select_qresync(s, &p);
	imap_reply_tagged(s, c, "OK", "[%s] %s completed.",
			  readonly ? "READ-ONLY" : "READ-WRITE",
			  readonly ? "Examine" : "Select");
out:
	str_free(&name);
	str_free(&dir);
}

/* Expunge the \Deleted messages (of uids, if not NULL), telling the
 * client unless silent (CLOSE). */
static unsigned expunge_deleted(struct imap_session *s,
				const struct imap_msgset *uids, int silent)
{
	struct imap_folder *f = s->sel;
	unsigned n = 0;
	const char *error;

	for (uint32_t i = 0; i < f->count; i++) {
		const struct imap_msg *m = &f->msgs[i];

		if (!(m->flags & IMAP_F_DELETED) || m->expunged)
			continue;
		if (uids && !imap_msgset_has(s, uids, i))
			continue;
		if (imap_folder_expunge(f, i, &error) < 0) {
			log_warn(s->id, "expunge uid %lu: %s",
				 (unsigned long)m->uid, error);
			continue;
		}
		n++;
	}
	if (silent) {
		imap_folder_purge(f);
		s->expunged += n;
	}
	return n;
}

void imap_cmd_expunge(struct imap_session *s, struct imap_command *c)
{
	struct imap_msgset uids;
	int have = 0;

	if (s->sel_readonly) {
		imap_reply_tagged(s, c, "NO", "[READ-ONLY] Mailbox is "
				  "read-only.");
		return;
	}
	if (c->uid) {
		if (c->nargs != 1) {
			imap_reply_bad(s, c, "UID EXPUNGE takes a UID set.");
			return;
		}
		if (imap_msgset_parse(s, c, &c->args[0], 1, &uids) < 0)
			return;
		have = 1;
	} else if (c->nargs != 0) {
		imap_reply_bad(s, c, "EXPUNGE takes no arguments.");
		return;
	}
	(void)expunge_deleted(s, have ? &uids : NULL, 0);
	if (have)
		imap_msgset_free(&uids);
	imap_session_updates(s, 1);
	if (imap_session_condstore(s))
		imap_reply_tagged(s, c, "OK", "[HIGHESTMODSEQ %llu] Expunge "
				  "completed.", (unsigned long long)
				  s->sel->highestmodseq);
	else
		imap_reply_tagged(s, c, "OK", "Expunge completed.");
}

void imap_cmd_close(struct imap_session *s, struct imap_command *c)
{
	if (c->nargs != 0) {
		imap_reply_bad(s, c, "CLOSE takes no arguments.");
		return;
	}
	if (!s->sel_readonly)
		(void)expunge_deleted(s, NULL, 1);
	imap_session_unselect(s);
	imap_reply_tagged(s, c, "OK", "Close completed.");
}

void imap_cmd_unselect(struct imap_session *s, struct imap_command *c)
{
	if (c->nargs != 0) {
		imap_reply_bad(s, c, "UNSELECT takes no arguments.");
		return;
	}
	imap_session_unselect(s);
	imap_reply_tagged(s, c, "OK", "Unselect completed.");
}
