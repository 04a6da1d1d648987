/*
 * imap_index_create - the first postern-uidlog of a folder, keeping
 * Dovecot's UIDs (imap_index.h)
 *
 * DOVECOT dovecot-uidlist, as Dovecot's maildir-uidlist.c writes it:
 *
 *   version 1 (and 2):  "1 <uidvalidity> <nextuid>" LF
 *                       then "<uid> <filename>" LF per message
 *   version 3:          "3" *(SP key value) LF, keys V<uidvalidity>
 *                       N<nextuid> G<guid> (others ignored)
 *                       then "<uid>" *(SP <ext>) SP ":" <filename> LF
 *
 *         UIDs in increasing order, below nextuid. Lines that do not fit
 *         are skipped. A file of the folder whose base (up to ':') is
 *         named there keeps that UID; the others get UIDs from nextuid on
 *         at the first sync. The UIDVALIDITY is Dovecot's.
 *
 * UIDVALIDITY Without dovecot-uidlist, a new folder's UIDVALIDITY is
 *         max(now, last + 1), last being the one kept in the Maildir's
 *         root (not the index root: it is the user's mail) in
 *         postern-uidvalidity, as Dovecot keeps dovecot-uidvalidity:
 *
 *           file = uidvalidity LF     ; decimal, the last one given
 *
 *         so a folder deleted and created again within one second (or
 *         after the clock went back) never gets its old UIDVALIDITY. The
 *         file is replaced atomically (tmp, fsync, rename) under flock
 *         LOCK_EX on the file being replaced; a waiter that gets the lock
 *         on a file already renamed over opens the new one and waits
 *         again. If it cannot be written, the time is used (and logged).
 *
 * ATOMIC  The log is written whole to a temporary file and linked into
 *         place without replacing: of two processes creating it at once,
 *         one wins and the other opens the winner's file. A crash leaves
 *         no log (the next open starts over) or a complete one.
 */
#include "mail/imap_index_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail/maildir_name.h"
#include "mail/maildir_scan.h"
#include "util/alloc.h"
#include "util/fileio.h"
#include "util/log.h"

#define UIDLIST_FILE "dovecot-uidlist"
#define UIDLIST_MAX ((size_t)256 << 20)
#define UIDVALIDITY_FILE "postern-uidvalidity"
#define UIDVALIDITY_TRIES 100

struct uidlist_ent {
	const char *base;
	size_t len;
	uint32_t uid;
};

struct uidlist {
	uint32_t uidvalidity, nextuid;
	struct uidlist_ent *e;
	size_t n, a;
};

struct import {
	struct uidlist *ul;
	struct str names;
	struct imap_uidlog_rec *recs;	/* name: offset into names */
	size_t n, a;
	int in_new;
};

static int num32(const char *s, const char *end, uint32_t *v_r,
		 const char **next_r)
{
	uint64_t v = 0;
	const char *p = s;

	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	if (p == s)
		return -1;
	*v_r = (uint32_t)v;
	*next_r = p;
	return 0;
}

static int uidlist_header(struct uidlist *ul, const char *p, const char *end)
{
	const char *q;

	if (end - p >= 2 && (p[0] == '1' || p[0] == '2') && p[1] == ' ')
		return num32(p + 2, end, &ul->uidvalidity, &q) < 0 ||
		       q >= end || *q != ' ' ||
		       num32(q + 1, end, &ul->nextuid, &q) < 0 ? -1 : 1;
	if (end - p < 1 || p[0] != '3' || (end - p > 1 && p[1] != ' '))
		return -1;
	for (q = p + 1; q < end; ) {
		const char *tok = ++q, *tend = memchr(tok, ' ', (size_t)(end - tok));
		const char *dummy;

		if (tend == NULL)
			tend = end;
		if (tend > tok && *tok == 'V')
			(void)num32(tok + 1, tend, &ul->uidvalidity, &dummy);
		else if (tend > tok && *tok == 'N')
			(void)num32(tok + 1, tend, &ul->nextuid, &dummy);
		q = tend;
	}
	return 3;
}

static void uidlist_line(struct uidlist *ul, int version, const char *p,
			 const char *end)
{
	const char *q, *name;
	uint32_t uid;

	if (num32(p, end, &uid, &q) < 0 || q >= end || *q != ' ' || uid == 0 ||
	    (ul->n > 0 && uid <= ul->e[ul->n - 1].uid))
		return;
	if (version == 3) {
		name = memmem(q, (size_t)(end - q), " :", 2);
		if (name == NULL)
			return;
		name += 2;
	} else {
		name = q + 1;
	}
	if (name >= end)
		return;
	if (ul->n == ul->a) {
		ul->a = ul->a ? 2 * ul->a : 256;
		ul->e = xreallocarray(ul->e, ul->a, sizeof(*ul->e));
	}
	ul->e[ul->n].base = name;
	ul->e[ul->n].len = strcspn(name, ":\n");
	if (ul->e[ul->n].len > (size_t)(end - name))
		ul->e[ul->n].len = (size_t)(end - name);
	ul->e[ul->n].uid = uid;
	ul->n++;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct uidlist_ent *x = a, *y = b;
	int c = memcmp(x->base, y->base, x->len < y->len ? x->len : y->len);

	return c != 0 ? c : x->len == y->len ? 0 : x->len < y->len ? -1 : 1;
}

/* Parse text (kept by the caller while ul is used). 1 parsed, 0 unusable. */
static int uidlist_parse(struct uidlist *ul, const char *text, size_t n)
{
	const char *p = text, *end = text + n, *lf;
	int version;

	lf = memchr(p, '\n', n);
	if (lf == NULL)
		return 0;
	version = uidlist_header(ul, p, lf);
	if (version < 0 || ul->uidvalidity == 0 || ul->nextuid == 0)
		return 0;
	for (p = lf + 1; p < end; p = lf + 1) {
		lf = memchr(p, '\n', (size_t)(end - p));
		if (lf == NULL)
			break;	/* a torn last line: skipped */
		uidlist_line(ul, version, p, lf);
	}
	if (ul->n > 0)
		qsort(ul->e, ul->n, sizeof(*ul->e), ent_cmp);
	return 1;
}

static int import_one(void *arg, const char *name, const struct maildir_name *m)
{
	struct import *im = arg;
	struct uidlist_ent key = { name, m->base_len, 0 }, *e;
	struct imap_uidlog_rec *r;
	uint32_t kw;

	if (im->ul->n == 0)
		return 0;
	e = bsearch(&key, im->ul->e, im->ul->n, sizeof(*e), ent_cmp);
	if (e == NULL)
		return 0;
	if (im->n == im->a) {
		im->a = im->a ? 2 * im->a : 256;
		im->recs = xreallocarray(im->recs, im->a, sizeof(*im->recs));
	}
	r = &im->recs[im->n++];
	memset(r, 0, sizeof(*r));
	r->type = 'U';
	r->uid = e->uid;
	r->modseq = 1;
	r->flags = imap_index_flags_from_maildir(m->flags, &kw) |
		   (im->in_new ? IMAP_UIDLOG_IN_NEW : 0);
	r->keywords = kw;
	r->name_len = strlen(name);
	r->name = (const char *)(uintptr_t)im->names.len;
	return str_append(&im->names, name, r->name_len + 1);
}

static int rec_uid_cmp(const void *a, const void *b)
{
	const struct imap_uidlog_rec *x = a, *y = b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	/* cur/ (no IN_NEW) first: the one kept */
	return (int)(x->flags & IMAP_UIDLOG_IN_NEW) -
	       (int)(y->flags & IMAP_UIDLOG_IN_NEW);
}

/* U records for the files named in ul. */
static int import_records(struct imap_folder *f, struct uidlist *ul,
			  struct str *recs, uint32_t *maxuid_r)
{
	struct import im = { ul, STR_INIT(0), NULL, 0, 0, 1 };
	int r = -1;

	*maxuid_r = 0;
	if (maildir_scan_dir(f->new_fd, import_one, &im) < 0)
		goto out;
	im.in_new = 0;
	if (maildir_scan_dir(f->cur_fd, import_one, &im) < 0)
		goto out;
	if (im.n > 0)
		qsort(im.recs, im.n, sizeof(*im.recs), rec_uid_cmp);
	for (size_t i = 0; i < im.n; i++) {
		struct imap_uidlog_rec rec = im.recs[i];

		if (i > 0 && im.recs[i - 1].uid == rec.uid)
			continue;
		rec.name = im.names.s + (uintptr_t)rec.name;
		if (imap_uidlog_format_record(recs, &rec) < 0)
			goto out;
		*maxuid_r = rec.uid;
	}
	r = 0;
out:
	str_free(&im.names);
	free(im.recs);
	return r;
}

/* Read dovecot-uidlist into text: 1 read, 0 none. */
static int uidlist_read(struct imap_folder *f, struct str *text)
{
	char buf[65536];
	ssize_t n;
	int fd = openat(f->dir_fd, UIDLIST_FILE, O_RDONLY | O_NOFOLLOW |
			O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || text->len + (size_t)n > UIDLIST_MAX ||
		    str_append(text, buf, (size_t)n) < 0) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 1;
}

/* ---- the Maildir's last UIDVALIDITY (UIDVALIDITY) ------------------------ */

/* Open and lock postern-uidvalidity (LOCK_EX), the file its name holds
 * now: the descriptor, or -1. */
static int uidvalidity_lock(int maildir_fd, const char **error_r)
{
	struct stat a, b;

	for (int tries = 0; tries < UIDVALIDITY_TRIES; tries++) {
		int fd = openat(maildir_fd, UIDVALIDITY_FILE, O_RDWR | O_CREAT |
				O_NOFOLLOW | O_CLOEXEC, 0600), r;

		if (fd < 0) {
			*error_r = "open " UIDVALIDITY_FILE;
			return -1;
		}
		while ((r = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
			;
		if (r < 0 || fstat(fd, &a) < 0 ||
		    fstatat(maildir_fd, UIDVALIDITY_FILE, &b,
			    AT_SYMLINK_NOFOLLOW) < 0) {
			if (r == 0 && errno == ENOENT) {
				close(fd);	/* renamed over: again */
				continue;
			}
			*error_r = "lock " UIDVALIDITY_FILE;
			close(fd);
			return -1;
		}
		if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	*error_r = UIDVALIDITY_FILE " keeps being replaced";
	return -1;
}

/* The value in the locked file fd: 0 if it is empty or not a number. */
static uint32_t uidvalidity_read(int fd)
{
	char buf[24];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	uint64_t v = 0;

	if (n <= 0)
		return 0;
	for (ssize_t i = 0; i < n && buf[i] != '\n'; i++) {
		if (buf[i] < '0' || buf[i] > '9' || v > UINT32_MAX)
			return 0;
		v = v * 10 + (uint64_t)(buf[i] - '0');
	}
	return v > UINT32_MAX ? 0 : (uint32_t)v;
}

/* A UIDVALIDITY for a new folder of the Maildir maildir_fd, recorded
 * there: 0, or -1 with *error_r (nothing recorded). */
static int uidvalidity_next(int maildir_fd, uint32_t *v_r,
			    const char **error_r)
{
	uint32_t now = (uint32_t)time(NULL), last, v;
	struct str text = STR_INIT(32);
	int fd = uidvalidity_lock(maildir_fd, error_r), r = -1;

	if (fd < 0)
		return -1;
	last = uidvalidity_read(fd);
	v = last != UINT32_MAX && last + 1 > now ? last + 1 : now;
	if (v == 0)
		v = 1;
	if (str_appendf(&text, "%u\n", v) < 0)
		*error_r = "format " UIDVALIDITY_FILE;
	else if (file_write_atomic_at(maildir_fd, UIDVALIDITY_FILE, text.s,
				      text.len, 0600, 0, error_r) == 0)
		r = 0;
	close(fd);	/* the lock goes with it, after the rename */
	str_free(&text);
	if (r == 0)
		*v_r = v;
	return r;
}

int idx_create_log(struct imap_folder *f, int maildir_fd,
		   const char **error_r)
{
	struct imap_uidlog_header h = { 0 };
	struct uidlist ul = { 0 };
	struct str text = STR_INIT(0), recs = STR_INIT(0);
	uint32_t maxuid = 0;
	int r = -1;

	h.uidnext = 1;
	h.generation = imap_uidlog_generation();
	if (uidlist_read(f, &text) < 0) {
		*error_r = "read dovecot-uidlist";
		goto out;
	}
	if (text.len > 0 && uidlist_parse(&ul, text.s, text.len)) {
		h.uidvalidity = ul.uidvalidity;
		h.uidnext = ul.nextuid;
		if (import_records(f, &ul, &recs, &maxuid) < 0) {
			*error_r = "import dovecot-uidlist";
			goto out;
		}
		if (maxuid >= h.uidnext)
			h.uidnext = maxuid + 1;
		h.modseq = 1;
		/* Dovecot's messages were seen: not \Recent again */
		{
			struct imap_uidlog_rec c = { .type = 'C' };

			c.uid = h.uidnext;
			if (imap_uidlog_format_record(&recs, &c) < 0) {
				*error_r = "format postern-uidlog";
				goto out;
			}
		}
	} else {
		const char *e;

		if (uidvalidity_next(maildir_fd, &h.uidvalidity, &e) < 0) {
			log_warn("imap", "%s: %s (the time is the folder's "
				 "UIDVALIDITY)", e, strerror(errno));
			h.uidvalidity = (uint32_t)time(NULL);
		}
	}
	r = imap_uidlog_create(&f->log, &h, recs.s, recs.len, error_r);
out:
	free(ul.e);
	str_free(&text);
	str_free(&recs);
	return r;
}
