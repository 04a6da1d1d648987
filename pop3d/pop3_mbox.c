/*
 * pop3_mbox - one user's Maildir as a POP3 maildrop
 *
 * OPEN     The Maildir of the address (mailbox_path.h) is opened one
 *          component at a time without following symbolic links
 *          (maildir_open.h), so a crafted address or a link cannot lead
 *          outside mail_root.
 * NEW      Then every file in new/ is renamed to cur/NAME:2, (as Dovecot
 *          does when a POP3 session opens the mailbox; maildir_scan.h).
 *          This happens BEFORE the sandbox: a move between directories
 *          needs Landlock's REFER right, which ABI 1 kernels (Linux 5.13
 *          to 5.18) cannot grant; done under Landlock there, every rename
 *          failed and users never saw new mail.
 * CONFINE  Then the session confines itself to the Maildir
 *          (maildir_confine, profile "pop3-session": read, write, remove,
 *          create by rename within a directory; seccomp: no sockets, no
 *          exec, no fork). Writing is for the folder index's files
 *          (postern-uidlog, postern-index.db). It asks for no move between
 *          directories, so it keeps Landlock on ABI 1 kernels too.
 * LIST     Then INBOX is listed through the folder index IMAP uses
 *          (imap_index_pop3_list, postern-imap-index(5); read-only: it
 *          moves nothing, but numbers the files just moved): the messages
 *          of cur/ in UID order, the order IMAP shows them in, which for
 *          files the index has not numbered yet is delivery order
 *          (maildir_name_cmp), as before the index. A warm index costs a
 *          snapshot read and no listing of cur/. Sizes come from ",W=" in
 *          the name, else from the index's cache (counted once). UIDL is
 *          still the file's base name, as before. If the index cannot be
 *          used (a full disk, a damaged log), cur/ is read and sorted as
 *          before (FALLBACK), and the session works without it.
 * SEND     RETR and TOP stream the file through maildir_crlf.h in 64 KiB
 *          pieces: CRLF line ends, dot-stuffed, TOP cut after the header
 *          and n body lines whatever the piece boundaries; the last line
 *          ended if it was not, then ".".
 * UPDATE   Only at QUIT: deleted files are unlinked; retrieved ones get
 *          the S flag. Both stay within cur/. With the index, the folder
 *          is opened again (read-only) and the changes go through it
 *          (imap_folder_expunge, imap_folder_store): IMAP sessions see
 *          them as EXPUNGE and FETCH FLAGS from the log, without a scan of
 *          cur/. A message the index no longer knows, or every message
 *          when it cannot be opened, is handled directly
 *          (maildir_name_set_flags, unlink); a file renamed by another
 *          session meanwhile is found again by its base name
 *          (maildir_scan_find); the index notices these at its next scan.
 */
#include "pop3.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/imap_index.h"
#include "mail/mailbox_path.h"
#include "mail/maildir_crlf.h"
#include "mail/maildir_name.h"
#include "mail/maildir_open.h"
#include "mail/maildir_scan.h"
#include "util/alloc.h"
#include "util/log.h"

#define MBOX_CHUNK 65536

static void mbox_init(struct pop3_mbox *mb)
{
	memset(mb, 0, sizeof(*mb));
	mb->dir_fd = mb->cur_fd = -1;
	str_init(&mb->names, 0);
}

struct listing {
	struct pop3_mbox *mb;
	size_t cap;
	int full;
};

/* One message of cur/ into the table. */
static int mbox_add(void *arg, const char *name, const struct maildir_name *m)
{
	struct listing *l = arg;
	struct pop3_mbox *mb = l->mb;
	struct pop3_msg *msg;
	uint64_t vsize = m->vsize;
	int fd;

	if (!m->has_vsize) {
		fd = openat(mb->cur_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return 0;	/* gone meanwhile, or not a file */
		if (maildir_crlf_size_fd(fd, &vsize) < 0)
			vsize = POP3_VSIZE_MAX + 1;
		close(fd);
	}
	if (vsize > POP3_VSIZE_MAX)
		return 0;	/* over 128 GiB: not a real message */
	if (mb->names.len > POP3_NAMES_MAX - MAILDIR_NAME_MAX - 1 ||
	    mb->n == UINT32_MAX) {
		l->full = 1;
		return 1;
	}
	if (mb->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		mb->msgs = xreallocarray(mb->msgs, l->cap, sizeof(*mb->msgs));
	}
	msg = &mb->msgs[mb->n++];
	memset(msg, 0, sizeof(*msg));
	msg->vsize = vsize;
	msg->name_off = mb->names.len;
	if (str_append(&mb->names, name, strlen(name) + 1) < 0)
		log_fatal("message names: %s", strerror(errno));
	mb->total += vsize;
	return 0;
}

static const char *sort_names;

static int mbox_msg_cmp(const void *a, const void *b)
{
	const struct pop3_msg *x = a, *y = b;

	return maildir_name_cmp(sort_names + x->name_off,
				sort_names + y->name_off);
}

static int mbox_list(struct pop3_mbox *mb, const char *id)
{
	struct listing l = { mb, 0, 0 };

	if (maildir_scan_dir(mb->cur_fd, mbox_add, &l) < 0)
		return -1;
	if (l.full)
		log_warn(id, "mailbox too large: listing the first %u messages",
			 mb->n);
	if (mb->n > 0 && mb->n < l.cap)	/* no slack kept for the session */
		mb->msgs = xreallocarray(mb->msgs, mb->n, sizeof(*mb->msgs));
	sort_names = mb->names.s;
	if (mb->n > 1)
		qsort(mb->msgs, mb->n, sizeof(*mb->msgs), mbox_msg_cmp);
	return 0;
}

/* The listing from the index (LIST): 0, or -1 (FALLBACK). */
static int mbox_list_index(struct pop3_mbox *mb, const char *id)
{
	struct imap_pop3_list l;
	const char *error = "";
	uint32_t n = 0;

	if (imap_index_pop3_list(mb->dir_fd, -1, 1, &l, &error) < 0) {
		log_warn(id, "folder index: %s: %s (reading cur/ instead)",
			 error, strerror(errno));
		return -1;
	}
	mb->msgs = xreallocarray(NULL, l.count ? l.count : 1,
				 sizeof(*mb->msgs));
	mb->uids = xreallocarray(NULL, l.count ? l.count : 1,
				 sizeof(*mb->uids));
	for (uint32_t i = 0; i < l.count; i++) {
		size_t off = (size_t)(l.msgs[i].name - l.names.s);

		if (l.msgs[i].vsize > POP3_VSIZE_MAX)
			continue;	/* over 128 GiB: not a real message */
		if (off + strlen(l.msgs[i].name) + 1 > POP3_NAMES_MAX) {
			log_warn(id, "mailbox too large: listing the first "
				 "%u messages", n);
			break;
		}
		memset(&mb->msgs[n], 0, sizeof(mb->msgs[n]));
		mb->msgs[n].vsize = l.msgs[i].vsize;
		mb->msgs[n].name_off = off;
		mb->uids[n] = l.msgs[i].uid;
		mb->total += l.msgs[i].vsize;
		n++;
	}
	mb->n = n;
	str_free(&mb->names);
	mb->names = l.names;		/* the names stay where they are */
	str_init(&l.names, 0);
	imap_index_pop3_list_free(&l);
	return 0;
}

int pop3_mbox_open(struct pop3_mbox *mb, const char *mail_root,
		   const char *address, const char *id, int use_index,
		   struct sandbox_report *sb, const char **error_r)
{
	struct mailbox_path mp;

	mbox_init(mb);
	memset(sb, 0, sizeof(*sb));
	if (mailbox_path_from_addr(address, &mp, error_r) < 0) {
		errno = EINVAL;
		return -1;
	}
	if (maildir_open(mail_root, &mp, &mb->dir_fd, error_r) < 0)
		return -1;
	*error_r = "open cur/";
	mb->cur_fd = maildir_open_dir(mb->dir_fd, "cur");
	if (mb->cur_fd < 0)
		return -1;
	/* before the sandbox: see NEW above */
	if (maildir_scan_new(mb->dir_fd, mb->cur_fd, id, &mb->moved) < 0)
		log_warn(id, "new/: %s", strerror(errno));
	if (maildir_confine(mb->dir_fd, POP3_SANDBOX_PROFILE,
			    MAILDIR_CONFINE_WRITE, sb, error_r) < 0)
		return -1;
	if (use_index && mbox_list_index(mb, id) == 0)
		return 0;
	*error_r = "read cur/";
	return mbox_list(mb, id);
}

const char *pop3_mbox_name(const struct pop3_mbox *mb, uint32_t i)
{
	return mb->names.s + mb->msgs[i].name_off;
}

/* Find a message again after another session renamed it: the cur/ entry
 * with the same base name. Updates the name (appended to the arena). */
static int mbox_refind(struct pop3_mbox *mb, uint32_t i)
{
	struct str name = STR_INIT(0);
	struct maildir_name o;
	const char *old = pop3_mbox_name(mb, i);
	int r = -1;

	if (maildir_name_parse(old, &o) < 0 ||
	    maildir_scan_find(mb->cur_fd, old, o.base_len, &name) <= 0 ||
	    mb->names.len > POP3_NAMES_MAX - MAILDIR_NAME_MAX - 1)
		goto out;
	mb->msgs[i].name_off = mb->names.len;
	if (str_append(&mb->names, name.s, name.len + 1) < 0)
		log_fatal("message names: %s", strerror(errno));
	r = 0;
out:
	str_free(&name);
	if (r < 0)
		errno = ENOENT;
	return r;
}

static int mbox_open_msg(struct pop3_mbox *mb, uint32_t i)
{
	int fd = openat(mb->cur_fd, pop3_mbox_name(mb, i),
			O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && mbox_refind(mb, i) == 0)
		fd = openat(mb->cur_fd, pop3_mbox_name(mb, i),
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

/* Stream the open file fd through the converter to io. 0, or -2 the
 * client is lost. A read error is logged and ends the message early. */
static int mbox_stream(int fd, struct maildir_crlf *c, struct io *io,
		       const char *id, const char *name)
{
	static char in[MBOX_CHUNK], out[MAILDIR_CRLF_OUT_MAX(MBOX_CHUNK)];
	ssize_t n;

	while (!c->done && (n = read(fd, in, sizeof(in))) != 0) {
		size_t used, o;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn(id, "read cur/%s: %s", name, strerror(errno));
			break;
		}
		o = maildir_crlf_convert(c, in, (size_t)n, out, &used);
		if (io_write(io, out, o) < 0)
			return -2;
	}
	return 0;
}

int pop3_mbox_send(struct pop3_mbox *mb, uint32_t i, long lines,
		   struct io *io, const char *id)
{
	struct maildir_crlf c;
	int fd = mbox_open_msg(mb, i);

	if (fd < 0)
		return -1;
	if ((lines < 0 ? io_printf(io, "+OK %llu octets\r\n",
				   (unsigned long long)mb->msgs[i].vsize)
		       : io_puts(io, "+OK\r\n")) < 0) {
		close(fd);
		return -2;
	}
	maildir_crlf_init(&c, MAILDIR_CRLF_DOTS, lines);
	if (mbox_stream(fd, &c, io, id, pop3_mbox_name(mb, i)) < 0) {
		close(fd);
		return -2;
	}
	close(fd);
	if (maildir_crlf_mid_line(&c) && io_write(io, "\r\n", 2) < 0)
		return -2;
	return io_write(io, ".\r\n", 3) < 0 ? -2 : 0;
}

static int mbox_unlink(struct pop3_mbox *mb, uint32_t i)
{
	if (unlinkat(mb->cur_fd, pop3_mbox_name(mb, i), 0) == 0)
		return 0;
	if (errno == ENOENT && mbox_refind(mb, i) == 0 &&
	    unlinkat(mb->cur_fd, pop3_mbox_name(mb, i), 0) == 0)
		return 0;
	return -1;
}

static int mbox_mark_seen(struct pop3_mbox *mb, uint32_t i,
			  struct str *to)
{
	int r = maildir_name_set_flags(pop3_mbox_name(mb, i),
				       MAILDIR_FLAG_SEEN, 0, to);

	if (r <= 0)
		return 0;
	if (renameat(mb->cur_fd, pop3_mbox_name(mb, i), mb->cur_fd,
		     str_c(to)) == 0)
		return 0;
	if (errno == ENOENT && mbox_refind(mb, i) == 0) {
		r = maildir_name_set_flags(pop3_mbox_name(mb, i),
					   MAILDIR_FLAG_SEEN, 0, to);
		if (r <= 0 || renameat(mb->cur_fd, pop3_mbox_name(mb, i),
				       mb->cur_fd, str_c(to)) == 0)
			return 0;
	}
	return -1;
}

/* Anything to do at QUIT? */
static int mbox_changes(const struct pop3_mbox *mb)
{
	for (uint32_t i = 0; i < mb->n; i++)
		if (mb->msgs[i].deleted || mb->msgs[i].seen)
			return 1;
	return 0;
}

/* Message i's change through the index (UPDATE): 0 done, 1 the index
 * does not know it (do it directly), -1 failed. */
static int mbox_commit_indexed(struct imap_folder *f,
			       const struct pop3_mbox *mb, uint32_t i,
			       const char **error_r)
{
	const struct pop3_msg *m = &mb->msgs[i];
	uint32_t seq = imap_folder_seq_of_uid(f, mb->uids[i]);
	const struct imap_msg *e;

	if (seq == 0)
		return 1;
	e = &f->msgs[seq - 1];
	if (m->deleted)
		return imap_folder_expunge(f, seq - 1, error_r);
	return imap_folder_store(f, seq - 1, e->flags | IMAP_F_SEEN,
				 e->keywords, error_r);
}

/* Message i's change: 0 or -1 (logged). */
static int mbox_commit_one(struct pop3_mbox *mb, struct imap_folder *f,
			   uint32_t i, struct str *to, const char *id)
{
	struct pop3_msg *m = &mb->msgs[i];
	const char *error = "";
	int r = f != NULL ? mbox_commit_indexed(f, mb, i, &error) : 1;

	if (r > 0)
		r = m->deleted ? mbox_unlink(mb, i) : mbox_mark_seen(mb, i, to);
	if (r < 0)
		log_warn(id, "%s cur/%s: %s%s%s", m->deleted ? "unlink" :
			 "rename", pop3_mbox_name(mb, i), error,
			 error[0] != '\0' ? ": " : "", strerror(errno));
	return r;
}

unsigned pop3_mbox_commit(struct pop3_mbox *mb, const char *id,
			  unsigned *deleted_r)
{
	struct str to = STR_INIT(0);
	struct imap_folder f, *fp = NULL;
	const char *error;
	unsigned failed = 0;

	*deleted_r = 0;
	if (mb->uids != NULL && mbox_changes(mb)) {
		if (imap_folder_open(&f, mb->dir_fd, "", -1, 1, &error) == 0)
			fp = &f;
		else
			log_warn(id, "folder index: %s: %s", error,
				 strerror(errno));
	}
	for (uint32_t i = 0; i < mb->n; i++) {
		struct pop3_msg *m = &mb->msgs[i];

		if (!m->deleted && !m->seen)
			continue;
		if (mbox_commit_one(mb, fp, i, &to, id) < 0)
			failed++;
		else if (m->deleted)
			(*deleted_r)++;
	}
	if (fp != NULL)
		imap_folder_close(fp);
	if (*deleted_r > 0 && fsync(mb->cur_fd) < 0)
		log_warn(id, "fsync cur/: %s", strerror(errno));
	str_free(&to);
	return failed;
}

void pop3_mbox_close(struct pop3_mbox *mb)
{
	if (mb->cur_fd >= 0)
		close(mb->cur_fd);
	if (mb->dir_fd >= 0)
		close(mb->dir_fd);
	free(mb->msgs);
	free(mb->uids);
	str_free(&mb->names);
	mb->msgs = NULL;
	mb->uids = NULL;
	mb->n = 0;
}
