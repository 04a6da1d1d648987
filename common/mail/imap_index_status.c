/*
 * imap_index_status - a folder's figures without selecting it (STATUS),
 * and POP3's list of INBOX from the same index (imap_index.h)
 */
#include "mail/imap_index_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mail/maildir_name.h"
#include "util/alloc.h"

int imap_folder_status(int maildir_fd, const char *dirname, int index_dir_fd,
		       struct imap_folder_status *st, const char **error_r)
{
	struct imap_folder f;
	uint64_t size, vsize;
	time_t date;

	memset(st, 0, sizeof(*st));
	if (imap_folder_open(&f, maildir_fd, dirname, index_dir_fd, 1,
			     error_r) < 0)
		return -1;
	for (uint32_t i = 0; i < f.count; i++) {
		const struct imap_msg *m = &f.msgs[i];

		st->messages++;
		st->recent += m->recent;	/* unclaimed */
		st->unseen += !(m->flags & IMAP_F_SEEN);
		st->deleted += (m->flags & IMAP_F_DELETED) != 0;
		if (imap_folder_msg_sizes(&f, i, &size, &vsize, &date) == 0)
			st->size += vsize;
	}
	st->uidnext = f.uidnext;
	st->uidvalidity = f.uidvalidity;
	st->highestmodseq = f.highestmodseq;
	imap_folder_close(&f);
	return 0;
}

/* Entry i's CRLF size: ",W=" in its name, else imap_folder_msg_sizes. */
static int pop3_vsize(struct imap_folder *f, uint32_t i, uint64_t *vsize_r)
{
	struct maildir_name m;
	uint64_t size;
	time_t date;

	if (maildir_name_parse(idx_name(f, i), &m) == 0 && m.has_vsize) {
		*vsize_r = m.vsize;
		return 0;
	}
	return imap_folder_msg_sizes(f, i, &size, vsize_r, &date);
}

int imap_index_pop3_list(int maildir_fd, int index_dir_fd, int readonly,
			 struct imap_pop3_list *list_r, const char **error_r)
{
	struct imap_folder f;

	memset(list_r, 0, sizeof(*list_r));
	str_init(&list_r->names, 0);
	if (imap_folder_open(&f, maildir_fd, "", index_dir_fd, readonly,
			     error_r) < 0)
		return -1;
	list_r->msgs = xcalloc(f.count ? f.count : 1, sizeof(*list_r->msgs));
	for (uint32_t i = 0; i < f.count; i++) {
		struct imap_pop3_msg *p = &list_r->msgs[list_r->count];
		const char *n = idx_name(&f, i);

		list_r->moved += f.msgs[i].moved;
		if (f.msgs[i].in_new || pop3_vsize(&f, i, &p->vsize) < 0)
			continue;	/* not in cur/, or gone meanwhile */
		p->uid = f.msgs[i].uid;
		p->name = (const char *)(uintptr_t)list_r->names.len;
		if (str_append(&list_r->names, n, strlen(n) + 1) < 0) {
			*error_r = "out of memory";
			imap_folder_close(&f);
			imap_index_pop3_list_free(list_r);
			return -1;
		}
		list_r->count++;
	}
	for (uint32_t i = 0; i < list_r->count; i++)
		list_r->msgs[i].name = list_r->names.s +
				       (uintptr_t)list_r->msgs[i].name;
	imap_folder_close(&f);
	return 0;
}

void imap_index_pop3_list_free(struct imap_pop3_list *list)
{
	free(list->msgs);
	str_free(&list->names);
	memset(list, 0, sizeof(*list));
}
