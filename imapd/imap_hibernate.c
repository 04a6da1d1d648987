/*
 * imap_hibernate - an IDLE session gives back the memory of its selected
 *                  folder while it waits
 *
 * WHY     A session in IDLE may wait for hours, and a server holds
 *         thousands of them. The selected folder's in-memory list (32
 *         bytes and a file name per message: megabytes for a large
 *         folder) is private to each session process, while Dovecot's
 *         mapped index is shared. So IDLE closes the folder and keeps
 *         only what it needs to tell the client what changed when it
 *         wakes: the UIDs the client knows, in sequence order, as ranges
 *         (a folder's UIDs are mostly consecutive, so a few ranges); the
 *         recent ones the same way; the highest MODSEQ the client saw.
 *         Freed memory goes back to the system (malloc_trim).
 * WAKE    On a change in the folder (inotify) or the end of IDLE the
 *         folder is opened again (from the index snapshot: fast), and
 *         compared with what was kept: a known UID that is gone is an
 *         EXPUNGE (VANISHED under QRESYNC) at its old sequence number,
 *         told from the highest down; a message with a MODSEQ above the
 *         one kept gets FETCH FLAGS; UIDs above the highest known are new
 *         (EXISTS). Then the session goes on as if it had never closed
 *         the folder.
 */
#include "imap_session.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "imap_folders.h"
#include "util/alloc.h"
#include "util/log.h"

/* A list of UIDs in sequence order, as ascending ranges. */
static void uids_add(struct imap_seqset *set, uint32_t uid)
{
	if (set->n > 0 && set->r[set->n - 1].hi + 1 == uid)
		set->r[set->n - 1].hi = uid;
	else
		imap_seqset_add(set, uid, uid);
}

/* The stack below the current frame is not in use while the session
 * waits: its pages (touched by deeper calls before) go back to the
 * system; 8 KiB below this frame are left for the calls IDLE makes. */
static void stack_release(void)
{
	char here;
	uintptr_t top = ((uintptr_t)&here - 8192) & ~(uintptr_t)4095;
	uintptr_t bottom = top - 1024 * 1024;

	/* parts of the range that are not mapped give ENOMEM; the mapped
	 * ones are released all the same */
	(void)madvise((void *)bottom, top - bottom, MADV_DONTNEED);
}

void imap_hibernate(struct imap_session *s, struct imap_hibernation *h)
{
	struct imap_folder *f = s->sel;
	const char *error;

	memset(h, 0, sizeof(*h));
	if (f == NULL)
		return;
	imap_seqset_init(&h->known);
	imap_seqset_init(&h->recent);
	for (uint32_t i = 0; i < f->count && i < s->exists; i++) {
		uids_add(&h->known, f->msgs[i].uid);
		if (f->msgs[i].recent)
			uids_add(&h->recent, f->msgs[i].uid);
	}
	h->exists = s->exists;
	h->modseq = f->highestmodseq;
	if (imap_folder_dirname(s->sel_name.s, &h->dir, &error) < 0) {
		/* a name that was selected is valid: keep the folder */
		imap_seqset_free(&h->known);
		imap_seqset_free(&h->recent);
		return;
	}
	(void)imap_folder_flush(f);
	imap_folder_close(f);
	free(f);
	s->sel = NULL;
	h->active = 1;
	io_release_buffers(&s->io);
	imap_reader_idle(&s->rd);
	(void)malloc_trim(0);
	stack_release();
}

/* The messages the client knew that are gone: told, highest first (or
 * as VANISHED); the client's EXISTS lowered. */
static void wake_expunges(struct imap_session *s, struct imap_hibernation *h)
{
	struct imap_folder *f = s->sel;
	struct imap_seqset gone;
	uint32_t seq = 0, *seqs = NULL, n = 0, cap = 0;

	imap_seqset_init(&gone);
	for (unsigned k = 0; k < h->known.n; k++)
		for (uint32_t uid = h->known.r[k].lo;; uid++) {
			seq++;
			if (imap_folder_seq_of_uid(f, uid) == 0) {
				if (n == cap) {
					cap = cap ? cap * 2 : 16;
					seqs = xreallocarray(seqs, cap,
							     sizeof(*seqs));
				}
				seqs[n++] = seq;
				imap_seqset_add(&gone, uid, uid);
			}
			if (uid == h->known.r[k].hi)
				break;
		}
	if (n > 0 && (s->enabled & IMAP_EN_QRESYNC)) {
		struct str text = STR_INIT(0);

		imap_seqset_normalize(&gone);
		if (imap_seqset_format(&gone, &text) == 0)
			imap_reply_untagged(s, "VANISHED %s", text.s);
		str_free(&text);
	} else {
		for (uint32_t k = n; k-- > 0;)
			imap_reply_untagged(s, "%lu EXPUNGE",
					    (unsigned long)seqs[k]);
	}
	s->exists = h->exists - n;
	s->expunged += n;
	free(seqs);
	imap_seqset_free(&gone);
}

int imap_wake(struct imap_session *s, struct imap_hibernation *h)
{
	struct imap_folder *f;
	const char *error;
	uint32_t known_max;
	int index_fd, r;

	if (!h->active)
		return 0;
	h->active = 0;
	index_fd = imap_session_index_dir(s, str_c(&h->dir));
	f = xcalloc(1, sizeof(*f));
	r = index_fd == -2 ? -1 :
	    imap_folder_open(f, s->maildir_fd, str_c(&h->dir), index_fd,
			     s->sel_readonly, &error);
	if (index_fd >= 0)
		(void)close(index_fd);
	if (r < 0) {
		log_warn(s->id, "IDLE: %s cannot be opened again: %s",
			 s->sel_name.s, index_fd == -2 ? "index directory" :
			 error);
		free(f);
		imap_seqset_free(&h->known);
		imap_seqset_free(&h->recent);
		str_free(&h->dir);
		imap_reply_untagged(s, "BYE [UNAVAILABLE] The mailbox is "
				    "gone.");
		s->logout = 1;
		return -1;
	}
	s->sel = f;
	/* \Recent as it was for this session, and for what is new */
	known_max = h->known.n ? h->known.r[h->known.n - 1].hi : 0;
	for (uint32_t i = 0; i < f->count; i++)
		if (f->msgs[i].uid <= known_max)
			f->msgs[i].recent = imap_seqset_contains(&h->recent,
								 f->msgs[i].uid);
	wake_expunges(s, h);
	imap_session_keywords(s);
	for (uint32_t i = 0; i < f->count; i++) {
		struct imap_msg *m = &f->msgs[i];

		m->changed = m->uid <= known_max && m->modseq > h->modseq;
	}
	/* FETCH FLAGS of the changed, EXISTS of the new: the usual updates,
	 * with the client's EXISTS as it now stands */
	imap_session_updates(s, 1);
	imap_seqset_free(&h->known);
	imap_seqset_free(&h->recent);
	str_free(&h->dir);
	return 0;
}

void imap_hibernation_free(struct imap_hibernation *h)
{
	if (!h->active)
		return;
	imap_seqset_free(&h->known);
	imap_seqset_free(&h->recent);
	str_free(&h->dir);
	h->active = 0;
}
