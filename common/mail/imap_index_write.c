/*
 * imap_index_write - what a session changes: flags, expunges, new
 * messages, keywords (imap_index.h)
 *
 * STORE   Under the log's LOCK_EX (so that two postern processes renaming
 *         one file log the renames in the order they happened): catch up,
 *         rename cur/NAME to the name with the new letters (a file still
 *         in new/ moves to cur/), an F record, no fsync (MODSEQ in
 *         imap_index.h). A name gone (another reader renamed it) is found
 *         again by its base and the rename retried once.
 * NEW     APPEND and COPY write the file (maildir_deliver into tmp/, or
 *         nothing for a hard link as Dovecot does), then, under LOCK_EX,
 *         link it into cur/ and give it the next UID, and fsync the U
 *         record before returning the UID.
 * OWN     Every change to cur/ and new/ above is made under LOCK_EX
 *         between idx_own_begin() and idx_own_end() (imap_index_dirs.c):
 *         the next sync of any postern process does not scan for it.
 */
#include "mail/imap_index_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "mail/imap_cache.h"
#include "mail/maildir_crlf.h"
#include "mail/maildir_name.h"
#include "mail/maildir_scan.h"
#include "mail/maildir_write.h"
#include "util/fileio.h"

static const struct {
	uint8_t imap;
	char letter;
} flag_letters[] = {
	{ IMAP_F_SEEN, 'S' }, { IMAP_F_ANSWERED, 'R' },
	{ IMAP_F_FLAGGED, 'F' }, { IMAP_F_DELETED, 'T' },
	{ IMAP_F_DRAFT, 'D' },
};

uint8_t imap_index_flags_from_maildir(uint64_t mf, uint32_t *keywords_r)
{
	uint8_t fl = 0;

	for (size_t i = 0; i < sizeof(flag_letters) / sizeof(*flag_letters);
	     i++)
		if (mf & MAILDIR_FLAG(flag_letters[i].letter))
			fl |= flag_letters[i].imap;
	*keywords_r = (uint32_t)((mf & MAILDIR_FLAG_KEYWORDS) >> 26);
	return fl;
}

uint64_t imap_index_flags_to_maildir(uint8_t flags, uint32_t keywords)
{
	uint64_t mf = (uint64_t)(keywords & 0x3ffffff) << 26;

	for (size_t i = 0; i < sizeof(flag_letters) / sizeof(*flag_letters);
	     i++)
		if (flags & flag_letters[i].imap)
			mf |= MAILDIR_FLAG(flag_letters[i].letter);
	return mf;
}

/* The letters this module manages (the others, P and unknown bytes, are
 * kept as they are). */
static uint64_t managed_letters(void)
{
	return imap_index_flags_to_maildir(IMAP_F_ALL, 0x3ffffff);
}

/* Rename entry i to carry flags/keywords; 0, -1 (ENOENT: gone). */
static int store_rename(struct imap_folder *f, uint32_t i, uint64_t mf,
			struct idx_own *own, const char **error_r)
{
	struct imap_msg *m = &f->msgs[i];
	struct str to = STR_INIT(MAILDIR_NAME_MAX), found = STR_INIT(0);
	const char *from = idx_name(f, i);
	int r = -1;

	for (int tries = 0; tries < 2; tries++) {
		int ch = maildir_name_set_flags(from, mf, managed_letters() & ~mf,
						&to);
		int src = m->in_new ? f->new_fd : f->cur_fd;

		if (ch < 0) {
			*error_r = "file name cannot carry the flags";
			errno = EINVAL;
			break;
		}
		if (renameat(src, from, f->cur_fd, str_c(&to)) == 0) {
			m->in_new = 0;
			r = idx_set_name(f, i, to.s, to.len);
			break;
		}
		*error_r = "rename message";
		if (errno != ENOENT || tries > 0)
			break;
		own->ok = 0;	/* another program renamed it */
		{
			size_t blen;
			const char *b = idx_base(f, i, &blen);
			int fr = maildir_scan_find(f->cur_fd, b, blen, &found);

			if (fr <= 0) {
				errno = fr == 0 ? ENOENT : errno;
				break;
			}
		}
		m->in_new = 0;
		from = str_c(&found);
	}
	str_free(&to);
	str_free(&found);
	return r;
}

int imap_folder_store(struct imap_folder *f, uint32_t i, uint8_t flags,
		      uint32_t keywords, const char **error_r)
{
	struct str recs = STR_INIT(0);
	struct imap_msg *m;
	struct idx_own own;
	int r = -1;

	if (i >= f->count) {
		errno = EINVAL;
		*error_r = "no such message";
		return -1;
	}
	if (idx_lock_catch_up(f, LOCK_EX, error_r) < 0)
		return -1;
	m = &f->msgs[i];
	idx_own_begin(f, &own, IDX_DIR_CUR | (m->in_new ? IDX_DIR_NEW : 0));
	flags &= IMAP_F_ALL;
	keywords &= 0x3ffffff;
	if (m->expunged) {
		errno = ENOENT;
		*error_r = "message expunged";
	} else if (m->flags == flags && m->keywords == keywords) {
		r = 0;
	} else if (store_rename(f, i, imap_index_flags_to_maildir(flags,
				keywords), &own, error_r) == 0) {
		m = &f->msgs[i];
		m->flags = flags;
		m->keywords = keywords;
		m->modseq = idx_next_modseq(f, &recs);
		r = idx_rec_state(f, 'F', i, &recs) < 0 ||
		    idx_own_end(f, &own, &recs) < 0 ? -1 :
		    idx_log_write(f, &recs, 0, error_r);
	}
	idx_unlock(f);
	str_free(&recs);
	return r;
}

int imap_folder_expunge(struct imap_folder *f, uint32_t i,
			const char **error_r)
{
	struct str recs = STR_INIT(0), found = STR_INIT(0);
	struct imap_msg *m;
	struct idx_own own;
	size_t blen;
	const char *b;
	int r = -1;

	if (i >= f->count) {
		errno = EINVAL;
		*error_r = "no such message";
		return -1;
	}
	if (idx_lock_catch_up(f, LOCK_EX, error_r) < 0)
		return -1;
	m = &f->msgs[i];
	if (m->expunged) {
		r = 0;
		goto out;
	}
	idx_own_begin(f, &own, m->in_new ? IDX_DIR_NEW : IDX_DIR_CUR);
	if (unlinkat(m->in_new ? f->new_fd : f->cur_fd, idx_name(f, i), 0) < 0) {
		own.ok = 0;	/* another program renamed or removed it */
		own.dirs |= IDX_DIR_CUR;
		b = idx_base(f, i, &blen);
		if (errno != ENOENT ||
		    (maildir_scan_find(f->cur_fd, b, blen, &found) == 1 &&
		     unlinkat(f->cur_fd, str_c(&found), 0) < 0 &&
		     errno != ENOENT)) {
			*error_r = "unlink message";
			goto out;
		}
	}
	m->expunged = 1;
	m->modseq = idx_next_modseq(f, &recs);
	r = idx_rec_expunge(f, m->uid, m->modseq, &recs) < 0 ||
	    idx_own_end(f, &own, &recs) < 0 ? -1 :
	    idx_log_write(f, &recs, 0, error_r);
	imap_cache_forget(f, m->uid);
out:
	idx_unlock(f);
	str_free(&recs);
	str_free(&found);
	return r;
}

int imap_folder_open_msg(struct imap_folder *f, uint32_t i, int *fd_r)
{
	struct str found = STR_INIT(0);
	size_t blen;
	const char *b;
	int fd, fr;

	if (i >= f->count) {
		errno = EINVAL;
		return -1;
	}
	fd = openat(f->msgs[i].in_new ? f->new_fd : f->cur_fd, idx_name(f, i),
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		b = idx_base(f, i, &blen);
		fr = maildir_scan_find(f->cur_fd, b, blen, &found);
		if (fr == 1) {
			f->msgs[i].in_new = 0;
			(void)idx_set_name(f, i, found.s, found.len);
			fd = openat(f->cur_fd, found.s,
				    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		} else if (fr == 0) {
			errno = ENOENT;
		}
	}
	str_free(&found);
	if (fd < 0)
		return -1;
	*fd_r = fd;
	return 0;
}

/* ---- sizes ------------------------------------------------------------- */

struct sizes_blob {
	uint64_t size, vsize;
	int64_t date;
};

int imap_folder_msg_sizes(struct imap_folder *f, uint32_t i,
			  uint64_t *size_r, uint64_t *vsize_r,
			  time_t *internaldate_r)
{
	struct str blob = STR_INIT(sizeof(struct sizes_blob));
	struct sizes_blob sb;
	struct maildir_name m;
	struct stat st;
	int fd;

	if (i >= f->count) {
		errno = EINVAL;
		return -1;
	}
	if (imap_cache_get(f, f->msgs[i].uid, IMAP_CACHE_SIZES, &blob) == 1 &&
	    blob.len == sizeof(sb)) {
		memcpy(&sb, blob.s, sizeof(sb));
		str_free(&blob);
		goto done;
	}
	str_free(&blob);
	if (imap_folder_open_msg(f, i, &fd) < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	sb.size = (uint64_t)st.st_size;
	sb.date = (int64_t)st.st_mtime;
	if (maildir_name_parse(idx_name(f, i), &m) == 0 && m.has_vsize)
		sb.vsize = m.vsize;
	else if (maildir_crlf_size_fd(fd, &sb.vsize) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	(void)imap_cache_put(f, f->msgs[i].uid, IMAP_CACHE_SIZES, &sb,
			     sizeof(sb));
done:
	*size_r = sb.size;
	*vsize_r = sb.vsize;
	*internaldate_r = (time_t)sb.date;
	return 0;
}

/* ---- new messages ------------------------------------------------------ */

/* The UID of the file cur/name just linked (under LOCK_EX, between
 * idx_own_begin and now): its own, or the one a scan by another process
 * gave it. The records (U, M) are fsynced before return; the lock is
 * kept. */
static int new_uid_locked(struct imap_folder *f, const char *name,
			  uint8_t flags, uint32_t keywords,
			  struct idx_own *own, uint32_t *uid_r,
			  const char **error_r)
{
	struct str recs = STR_INIT(0);
	size_t blen = strcspn(name, ":");
	long i = idx_find_base(f, name, blen);
	int r = -1;

	if (i < 0) {
		if (f->uidnext == UINT32_MAX) {
			errno = EOVERFLOW;
			*error_r = "UIDs exhausted";
			goto out;
		}
		if (idx_add(f, f->uidnext, name, strlen(name), flags, keywords,
			    idx_next_modseq(f, &recs), 0) < 0) {
			*error_r = "index full";
			goto out;
		}
		f->uidnext++;
		i = (long)f->count - 1;
		if (idx_rec_state(f, 'U', (uint32_t)i, &recs) < 0) {
			*error_r = "format postern-uidlog";
			goto out;
		}
	}
	/* a read-write session's own: claimed as a sync would (RECENT) */
	if (!f->readonly && idx_claim_locked(f, &recs) < 0) {
		*error_r = "format postern-uidlog";
		goto out;
	}
	if (idx_own_end(f, own, &recs) < 0 ||
	    idx_log_write(f, &recs, 1, error_r) < 0)
		goto out;
	*uid_r = f->msgs[i].uid;
	r = 0;
out:
	str_free(&recs);
	return r;
}

/* maildir_deliver's hook (maildir_write.h): the link into cur/ and the
 * UID under one LOCK_EX. */
struct publish {
	struct imap_folder *f;
	uint8_t flags;
	uint32_t keywords;
	struct idx_own own;
	int locked, r;
	uint32_t uid;
	const char *error;
};

static int publish_hook(void *arg, const char *name, int phase)
{
	struct publish *p = arg;

	if (phase == MAILDIR_PUBLISH_BEGIN) {
		if (idx_lock_catch_up(p->f, LOCK_EX, &p->error) < 0)
			return -1;
		p->locked = 1;
		idx_own_begin(p->f, &p->own, IDX_DIR_CUR);
		return 0;
	}
	if (phase == MAILDIR_PUBLISH_DONE && p->locked)
		p->r = new_uid_locked(p->f, name, p->flags, p->keywords,
				      &p->own, &p->uid, &p->error);
	if (p->locked)
		idx_unlock(p->f);
	p->locked = 0;
	return 0;
}

static int flag_letters_of(uint8_t flags, uint32_t keywords, struct str *out)
{
	return maildir_flags_format(imap_index_flags_to_maildir(flags,
				    keywords), out);
}

/* maildir_deliver into f's cur/, mtime set to date (0: now), and its
 * UID: 0 with *uid_r, or -1. */
static int deliver(struct imap_folder *f, int src_fd, uint64_t offset,
		   uint64_t size, uint8_t flags, uint32_t keywords,
		   time_t date, struct str *name_r, uint32_t *uid_r,
		   const char **error_r)
{
	struct maildir_delivery d = { 0 };
	struct str letters = STR_INIT(64);
	struct publish p = { 0 };

	if (flag_letters_of(flags, keywords, &letters) < 0) {
		*error_r = "flags";
		return -1;
	}
	d.maildir_fd = f->dir_fd;
	d.host = f->host;
	d.counter = &f->counter;
	d.src_fd = src_fd;
	d.offset = offset;
	d.size = size;
	d.flags = str_c(&letters);
	d.publish = publish_hook;
	d.publish_arg = &p;
	p.f = f;
	p.flags = flags;
	p.keywords = keywords;
	p.r = -1;
	if (maildir_deliver(&d, name_r, error_r) < 0) {
		if (p.error != NULL)
			*error_r = p.error;
		str_free(&letters);
		return -1;
	}
	str_free(&letters);
	if (date != 0) {
		struct timespec ts[2] = { { date, 0 }, { date, 0 } };

		(void)utimensat(f->cur_fd, str_c(name_r), ts,
				AT_SYMLINK_NOFOLLOW);
	}
	if (p.r < 0) {
		*error_r = p.error != NULL ? p.error : "publish";
		return -1;
	}
	*uid_r = p.uid;
	return 0;
}

int imap_folder_append(struct imap_folder *f, int src_fd, uint64_t size,
		       uint8_t flags, uint32_t keywords, time_t internaldate,
		       uint32_t *uid_r, const char **error_r)
{
	struct str name = STR_INIT(MAILDIR_NAME_MAX);
	int r;

	flags &= IMAP_F_ALL;
	keywords &= 0x3ffffff;
	r = deliver(f, src_fd, 0, size, flags, keywords, internaldate, &name,
		    uid_r, error_r);
	str_free(&name);
	return r;
}

/* A fresh name for a hard link: <unique>,S=,W=:2,<letters>. */
static int copy_name(struct imap_folder *dst, const struct imap_msg *m,
		     const char *src_name, struct str *out)
{
	struct maildir_name mn;
	struct timeval tv;

	gettimeofday(&tv, NULL);
	str_clear(out);
	if (maildir_name_unique(out, &tv, getpid(), ++dst->counter,
				dst->host) < 0)
		return -1;
	if (maildir_name_parse(src_name, &mn) == 0 && mn.has_size &&
	    mn.has_vsize && maildir_name_sizes(out, mn.size, mn.vsize) < 0)
		return -1;
	return str_appends(out, ":2,") < 0 ||
	       flag_letters_of(m->flags, m->keywords, out) < 0 ? -1 : 0;
}

/* Map the keyword bits of src to dst's keyword letters. */
static uint32_t copy_keywords(struct imap_folder *src, uint32_t kw,
			      struct imap_folder *dst)
{
	uint32_t out = 0;

	for (int b = 0; b < MAILDIR_KEYWORDS_MAX; b++) {
		int k;

		if (!(kw & (1u << b)) || src->kw.name[b] == NULL)
			continue;
		k = imap_folder_keyword(dst, src->kw.name[b], 1);
		if (k >= 0)
			out |= 1u << k;
	}
	return out;
}

/* Link src's entry i into dst's cur/ under a fresh name and number it,
 * under dst's LOCK_EX. 0, 1 links do not work here (copy the bytes), -1
 * error. */
static int copy_link(struct imap_folder *src, uint32_t i,
		     struct imap_folder *dst, const struct imap_msg *m,
		     struct str *name, uint32_t *uid_r, const char **error_r)
{
	struct idx_own own;
	int r = -1;

	if (idx_lock_catch_up(dst, LOCK_EX, error_r) < 0)
		return -1;
	idx_own_begin(dst, &own, IDX_DIR_CUR);
	for (int tries = 0; tries < 3 && r < 0; tries++) {
		if (copy_name(dst, m, idx_name(src, i), name) < 0)
			break;
		r = linkat(src->msgs[i].in_new ? src->new_fd : src->cur_fd,
			   idx_name(src, i), dst->cur_fd, str_c(name), 0);
		if (r < 0 && errno != EEXIST)
			break;
	}
	if (r < 0 && (errno == EXDEV || errno == EPERM || errno == EMLINK ||
		      errno == ENOENT)) {
		r = 1;
	} else if (r < 0) {
		*error_r = "link message";
	} else if (fsync(dst->cur_fd) < 0) {
		*error_r = "fsync cur/";
		(void)unlinkat(dst->cur_fd, str_c(name), 0);
		r = -1;
	} else {
		r = new_uid_locked(dst, str_c(name), m->flags, m->keywords,
				   &own, uid_r, error_r);
	}
	idx_unlock(dst);
	return r;
}

int imap_folder_copy(struct imap_folder *src, uint32_t i,
		     struct imap_folder *dst, uint32_t *uid_r,
		     const char **error_r)
{
	struct str name = STR_INIT(MAILDIR_NAME_MAX);
	struct imap_msg m;
	struct stat st;
	int fd = -1, r;

	if (i >= src->count) {
		errno = EINVAL;
		*error_r = "no such message";
		return -1;
	}
	if (imap_folder_open_msg(src, i, &fd) < 0) {
		*error_r = "open message";
		return -1;
	}
	m = src->msgs[i];
	m.keywords = src == dst ? m.keywords :
		     copy_keywords(src, m.keywords, dst);
	r = copy_link(src, i, dst, &m, &name, uid_r, error_r);
	if (r > 0) {
		/* another file system, or links refused: copy the bytes */
		r = fstat(fd, &st) < 0 ? -1 :
		    deliver(dst, fd, 0, (uint64_t)st.st_size, m.flags,
			    m.keywords, st.st_mtime, &name, uid_r, error_r);
	}
	close(fd);
	str_free(&name);
	return r;
}

/* ---- keywords ---------------------------------------------------------- */

int imap_folder_keyword(struct imap_folder *f, const char *name, int create)
{
	struct str text = STR_INIT(MAILDIR_KEYWORDS_FILE_MAX);
	const char *e;
	int k = maildir_keywords_find(&f->kw, name), r;

	if (k >= 0 || !create)
		return k;
	/* another process may have added keywords: read the file again,
	 * under the log's lock so that two adders do not race */
	if (idx_lock_catch_up(f, LOCK_EX, &e) < 0)
		return -1;
	r = maildir_keywords_read(f->dir_fd, &f->kw);
	k = r < 0 ? -1 : maildir_keywords_find(&f->kw, name);
	if (r >= 0 && k < 0) {
		k = maildir_keywords_add(&f->kw, name);
		if (k >= 0 && (maildir_keywords_format(&f->kw, &text) < 0 ||
		    file_write_atomic_at(f->dir_fd, MAILDIR_KEYWORDS_FILE,
					 text.s, text.len, 0600, 0, &e) < 0))
			k = -1;
	}
	idx_unlock(f);
	str_free(&text);
	return k;
}

/* ---- QRESYNC ----------------------------------------------------------- */

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int imap_folder_vanished_since(struct imap_folder *f, uint64_t modseq,
			       struct str *uidset_r)
{
	uint32_t *u, n = 0;
	int r = 0;

	if (modseq < f->horizon)
		return 0;
	u = calloc(f->vanished_count + 1, sizeof(*u));
	if (u == NULL)
		return -1;
	for (uint32_t i = 0; i < f->vanished_count; i++)
		if (f->vanished[i].modseq > modseq)
			u[n++] = f->vanished[i].uid;
	qsort(u, n, sizeof(*u), u32_cmp);
	for (uint32_t i = 0; i < n && r == 0; ) {
		uint32_t j = i;

		while (j + 1 < n && u[j + 1] <= u[j] + 1)
			j++;
		if (uidset_r->len > 0 && str_appendc(uidset_r, ',') < 0)
			r = -1;
		else if (u[j] == u[i])
			r = str_appendf(uidset_r, "%u", u[i]);
		else
			r = str_appendf(uidset_r, "%u:%u", u[i], u[j]);
		i = j + 1;
	}
	free(u);
	return r < 0 ? -1 : 1;
}
