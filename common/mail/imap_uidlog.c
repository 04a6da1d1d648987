/*
 * imap_uidlog - postern-uidlog: its lines and its file (imap_uidlog.h)
 */
#include "mail/imap_uidlog.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/fileio.h"

#define UIDLOG_MAGIC "postern-uidlog 1 "
#define UIDLOG_READ_CHUNK 65536
#define UIDLOG_NUM_MAX ((uint64_t)1 << 63)

uint32_t imap_uidlog_crc(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *c = p;

	crc = ~crc;
	while (n-- > 0) {
		crc ^= *c++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* ---- parsing ------------------------------------------------------------ */

struct cursor {
	const char *p, *end;
};

/* A decimal number without leading zeros, at most max. */
static int cur_num(struct cursor *c, uint64_t max, uint64_t *v_r)
{
	uint64_t v = 0;
	const char *s = c->p;

	if (s == c->end || *s < '0' || *s > '9' ||
	    (*s == '0' && s + 1 < c->end && s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; s < c->end && *s >= '0' && *s <= '9'; s++) {
		if ((uint64_t)(*s - '0') > max ||
		    v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	c->p = s;
	*v_r = v;
	return 0;
}

/* 1 to maxdig lower-case hex digits. */
static int cur_hex(struct cursor *c, int mindig, int maxdig, uint32_t *v_r)
{
	uint32_t v = 0;
	int d = 0;

	for (; c->p < c->end && d < maxdig; c->p++, d++) {
		char ch = *c->p;

		if (ch >= '0' && ch <= '9')
			v = v << 4 | (uint32_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v = v << 4 | (uint32_t)(ch - 'a' + 10);
		else
			break;
	}
	if (d < mindig)
		return -1;
	*v_r = v;
	return 0;
}

static int cur_lit(struct cursor *c, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
		return -1;
	c->p += n;
	return 0;
}

static int cur_u32(struct cursor *c, uint32_t *v_r, int zero_ok)
{
	uint64_t v;

	if (cur_num(c, 0xffffffffu, &v) < 0 || (v == 0 && !zero_ok))
		return -1;
	*v_r = (uint32_t)v;
	return 0;
}

/* Find the line: its length through LF in *len_r, and check its crc; the
 * cursor then spans the body. 1 ok, 0 incomplete, -1 bad. */
static int line_open(const char *p, size_t n, struct cursor *c,
		     size_t *len_r)
{
	size_t lim = n < IMAP_UIDLOG_LINE_MAX ? n : IMAP_UIDLOG_LINE_MAX;
	const char *lf = memchr(p, '\n', lim);
	struct cursor k;
	uint32_t crc;

	if (lf == NULL) {
		*len_r = n;
		return n < IMAP_UIDLOG_LINE_MAX ? 0 : -1;
	}
	*len_r = (size_t)(lf - p) + 1;
	if (lf - p < 10 || lf[-9] != ' ')
		return -1;
	k.p = lf - 8;
	k.end = lf;
	if (cur_hex(&k, 8, 8, &crc) < 0 || k.p != lf ||
	    crc != imap_uidlog_crc(0, p, (size_t)(lf - p) - 9))
		return -1;
	c->p = p;
	c->end = lf - 9;
	return 1;
}

int imap_uidlog_parse_header(const char *p, size_t n,
			     struct imap_uidlog_header *h, size_t *len_r)
{
	struct cursor c;
	int r = line_open(p, n, &c, len_r);

	if (r <= 0)
		return r;
	memset(h, 0, sizeof(*h));
	if (cur_lit(&c, UIDLOG_MAGIC "V") < 0 ||
	    cur_u32(&c, &h->uidvalidity, 0) < 0 ||
	    cur_lit(&c, " N") < 0 || cur_u32(&c, &h->uidnext, 0) < 0 ||
	    cur_lit(&c, " M") < 0 ||
	    cur_num(&c, UIDLOG_NUM_MAX - 1, &h->modseq) < 0 ||
	    cur_lit(&c, " E") < 0 ||
	    cur_num(&c, UIDLOG_NUM_MAX - 1, &h->horizon) < 0 ||
	    cur_lit(&c, " G") < 0 ||
	    cur_num(&c, UIDLOG_NUM_MAX - 1, &h->generation) < 0 ||
	    c.p != c.end)
		return -1;
	return 1;
}

static int name_ok(const char *s, size_t n)
{
	if (n == 0 || n > IMAP_UIDLOG_NAME_MAX || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '/')
			return 0;
	return 1;
}

/* " uid modseq" */
static int parse_uid_modseq(struct cursor *c, struct imap_uidlog_rec *r)
{
	return cur_lit(c, " ") < 0 || cur_u32(c, &r->uid, 0) < 0 ||
	       cur_lit(c, " ") < 0 ||
	       cur_num(c, UIDLOG_NUM_MAX - 1, &r->modseq) < 0 ? -1 : 0;
}

/* " flags keywords" */
static int parse_flags(struct cursor *c, struct imap_uidlog_rec *r)
{
	uint32_t fl;

	if (cur_lit(c, " ") < 0 || cur_hex(c, 2, 2, &fl) < 0 ||
	    cur_lit(c, " ") < 0 || cur_hex(c, 1, 8, &r->keywords) < 0 ||
	    (r->keywords & ~(uint32_t)0x3ffffff) != 0)
		return -1;
	r->flags = (uint8_t)fl;
	return 0;
}

/* " sec nsec sec nsec state" */
static int parse_mtimes(struct cursor *c, struct imap_uidlog_rec *r)
{
	uint64_t v;

	for (int d = 0; d < 2; d++) {
		if (cur_lit(c, " ") < 0 ||
		    cur_num(c, UIDLOG_NUM_MAX - 1, &r->mt_sec[d]) < 0 ||
		    cur_lit(c, " ") < 0 || cur_num(c, 999999999, &v) < 0)
			return -1;
		r->mt_nsec[d] = (uint32_t)v;
	}
	if (cur_lit(c, " ") < 0 || cur_num(c, IMAP_UIDLOG_DIRS_OWN, &v) < 0)
		return -1;
	r->mt_state = (uint8_t)v;
	return 0;
}

int imap_uidlog_parse_record(const char *p, size_t n,
			     struct imap_uidlog_rec *r, size_t *len_r)
{
	struct cursor c;
	int ret = line_open(p, n, &c, len_r);

	if (ret <= 0)
		return ret;
	memset(r, 0, sizeof(*r));
	if (c.p == c.end)
		return -1;
	r->type = *c.p++;
	switch (r->type) {
	case 'U':
	case 'F':
		if (parse_uid_modseq(&c, r) < 0 || parse_flags(&c, r) < 0 ||
		    cur_lit(&c, " ") < 0)
			return -1;
		r->name = c.p;
		r->name_len = (size_t)(c.end - c.p);
		return name_ok(r->name, r->name_len) ? 1 : -1;
	case 'X':
		if (parse_uid_modseq(&c, r) < 0)
			return -1;
		break;
	case 'R':
		if (cur_lit(&c, " ") < 0 ||
		    cur_num(&c, UIDLOG_NUM_MAX - 1, &r->modseq) < 0 ||
		    cur_lit(&c, " ") < 0 ||
		    cur_num(&c, UIDLOG_NUM_MAX - 1, &r->boot) < 0)
			return -1;
		break;
	case 'M':
		if (parse_mtimes(&c, r) < 0)
			return -1;
		break;
	case 'C':
		if (cur_lit(&c, " ") < 0 || cur_u32(&c, &r->uid, 0) < 0)
			return -1;
		break;
	default:
		return -1;
	}
	return c.p == c.end ? 1 : -1;
}

/* ---- formatting --------------------------------------------------------- */

/* Add " crc\n" for the line that began at out->s + start. */
static int line_close(struct str *out, size_t start)
{
	uint32_t crc = imap_uidlog_crc(0, out->s + start, out->len - start);

	if (str_appendf(out, " %08x\n", crc) < 0) {
		str_truncate(out, start);
		return -1;
	}
	return 0;
}

int imap_uidlog_format_header(struct str *out,
			      const struct imap_uidlog_header *h)
{
	size_t start = out->len;

	if (h->uidvalidity == 0 || h->uidnext == 0 ||
	    h->modseq >= UIDLOG_NUM_MAX || h->horizon >= UIDLOG_NUM_MAX ||
	    h->generation >= UIDLOG_NUM_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (str_appendf(out, UIDLOG_MAGIC "V%u N%u M%llu E%llu G%llu",
			h->uidvalidity, h->uidnext,
			(unsigned long long)h->modseq,
			(unsigned long long)h->horizon,
			(unsigned long long)h->generation) < 0) {
		str_truncate(out, start);
		return -1;
	}
	return line_close(out, start);
}

int imap_uidlog_format_record(struct str *out,
			      const struct imap_uidlog_rec *r)
{
	size_t start = out->len;
	unsigned long long ms = (unsigned long long)r->modseq;
	int w;

	if (r->modseq >= UIDLOG_NUM_MAX || r->boot >= UIDLOG_NUM_MAX ||
	    (r->type != 'R' && r->type != 'M' && r->uid == 0) ||
	    (r->type == 'M' && (r->mt_sec[0] >= UIDLOG_NUM_MAX ||
				r->mt_sec[1] >= UIDLOG_NUM_MAX ||
				r->mt_nsec[0] > 999999999 ||
				r->mt_nsec[1] > 999999999 ||
				r->mt_state > IMAP_UIDLOG_DIRS_OWN)) ||
	    (r->keywords & ~(uint32_t)0x3ffffff) != 0 ||
	    ((r->type == 'U' || r->type == 'F') &&
	     !name_ok(r->name, r->name_len))) {
		errno = EINVAL;
		return -1;
	}
	switch (r->type) {
	case 'U':
	case 'F':
		w = str_appendf(out, "%c %u %llu %02x %x %.*s", r->type,
				r->uid, ms, r->flags, r->keywords,
				(int)r->name_len, r->name);
		break;
	case 'X':
		w = str_appendf(out, "X %u %llu", r->uid, ms);
		break;
	case 'R':
		w = str_appendf(out, "R %llu %llu", ms,
				(unsigned long long)r->boot);
		break;
	case 'M':
		w = str_appendf(out, "M %llu %u %llu %u %u",
				(unsigned long long)r->mt_sec[0], r->mt_nsec[0],
				(unsigned long long)r->mt_sec[1], r->mt_nsec[1],
				r->mt_state);
		break;
	case 'C':
		w = str_appendf(out, "C %u", r->uid);
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (w < 0) {
		str_truncate(out, start);
		return -1;
	}
	return line_close(out, start);
}

/* ---- the file ----------------------------------------------------------- */

uint64_t imap_uidlog_generation(void)
{
	struct timespec ts;
	uint64_t g;

	clock_gettime(CLOCK_REALTIME, &ts);
	g = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	g ^= (uint64_t)getpid() << 40;
	return g & (UIDLOG_NUM_MAX - 1);
}

void imap_uidlog_init(struct imap_uidlog *l, int dir_fd)
{
	memset(l, 0, sizeof(*l));
	l->dir_fd = dir_fd;
	l->fd = -1;
	str_init(&l->buf, 0);
}

void imap_uidlog_close(struct imap_uidlog *l)
{
	if (l->fd >= 0)
		close(l->fd);	/* releases the lock */
	l->fd = -1;
	l->lock = LOCK_UN;
	str_free(&l->buf);
}

/* pread the whole range [off, off+n) into out (appending). 0 or -1. */
static int uidlog_pread(int fd, uint64_t off, size_t n, struct str *out)
{
	ssize_t r;

	if (str_reserve(out, n) < 0)
		return -1;
	while (n > 0) {
		r = pread(fd, out->s + out->len, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : 0;
		out->len += (size_t)r;
		out->s[out->len] = '\0';
		off += (uint64_t)r;
		n -= (size_t)r;
	}
	return 0;
}

/* Read and parse the header of the open file. */
static int uidlog_read_header(struct imap_uidlog *l, const char **error_r)
{
	size_t len;
	struct stat st;

	if (fstat(l->fd, &st) < 0) {
		*error_r = "fstat postern-uidlog";
		return -1;
	}
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	str_clear(&l->buf);
	if (uidlog_pread(l->fd, 0, IMAP_UIDLOG_LINE_MAX, &l->buf) < 0) {
		*error_r = "read postern-uidlog";
		return -1;
	}
	if (imap_uidlog_parse_header(l->buf.s, l->buf.len, &l->h, &len) != 1) {
		*error_r = "postern-uidlog: bad header";
		errno = EINVAL;
		return -1;
	}
	l->offset = len;
	l->bad = 0;
	l->torn = 0;
	str_clear(&l->buf);
	return 0;
}

int imap_uidlog_open(struct imap_uidlog *l, const char **error_r)
{
	if (l->fd >= 0)
		close(l->fd);
	l->lock = LOCK_UN;
	l->fd = openat(l->dir_fd, IMAP_UIDLOG_FILE, O_RDWR | O_NOFOLLOW |
		       O_CLOEXEC);
	if (l->fd < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = "open postern-uidlog";
		return -1;
	}
	if (uidlog_read_header(l, error_r) < 0) {
		int saved = errno;

		close(l->fd);
		l->fd = -1;
		errno = saved;
		return -1;
	}
	return 1;
}

/* header + text as one buffer */
static int uidlog_image(struct str *img, const struct imap_uidlog_header *h,
			const char *text, size_t n)
{
	return imap_uidlog_format_header(img, h) < 0 ||
	       str_append(img, text, n) < 0 ? -1 : 0;
}

int imap_uidlog_create(struct imap_uidlog *l,
		       const struct imap_uidlog_header *h, const char *text,
		       size_t n, const char **error_r)
{
	struct str img = STR_INIT(0);
	int r = -1;

	if (uidlog_image(&img, h, text, n) < 0)
		*error_r = "format postern-uidlog";
	else if (file_write_atomic_at(l->dir_fd, IMAP_UIDLOG_FILE, img.s,
				      img.len, 0600, FILE_ATOMIC_NOREPLACE,
				      error_r) == 0)
		r = imap_uidlog_open(l, error_r) == 1 ? 0 : -1;
	str_free(&img);
	return r;
}

int imap_uidlog_lock(struct imap_uidlog *l, int how, const char **error_r)
{
	struct stat st;
	int r;

	for (int tries = 0; tries < 100; tries++) {
		while ((r = flock(l->fd, how)) < 0 && errno == EINTR)
			;
		if (r < 0) {
			*error_r = "flock postern-uidlog";
			return -1;
		}
		l->lock = how;
		if (how == LOCK_UN)
			return 0;
		if (fstatat(l->dir_fd, IMAP_UIDLOG_FILE, &st,
			    AT_SYMLINK_NOFOLLOW) < 0) {
			*error_r = "stat postern-uidlog";
			return -1;
		}
		if (st.st_dev == l->dev && st.st_ino == l->ino)
			return tries > 0 ? 1 : 0;
		/* rewritten meanwhile: take the new one */
		if (imap_uidlog_open(l, error_r) != 1) {
			if (errno == 0 || errno == ENOENT)
				errno = ENOENT;
			*error_r = "postern-uidlog vanished";
			return -1;
		}
	}
	errno = EAGAIN;
	*error_r = "postern-uidlog keeps being replaced";
	return -1;
}

/* Parse the lines in l->buf; consumed bytes leave the buffer. */
static int uidlog_parse_buf(struct imap_uidlog *l, imap_uidlog_fn *fn,
			    void *arg, int at_eof)
{
	struct imap_uidlog_rec rec;
	size_t pos = 0, len;
	int r;

	while (pos < l->buf.len) {
		r = imap_uidlog_parse_record(l->buf.s + pos, l->buf.len - pos,
					     &rec, &len);
		if (r == 0)
			break;		/* incomplete: wait for more */
		pos += len;
		l->offset += len;
		if (r < 0) {
			l->bad++;
			continue;
		}
		if (fn != NULL && fn(arg, &rec, l->offset) < 0) {
			str_consume(&l->buf, pos);
			return -1;
		}
	}
	str_consume(&l->buf, pos);
	l->torn = at_eof && l->buf.len > 0;
	return 0;
}

int imap_uidlog_read(struct imap_uidlog *l, imap_uidlog_fn *fn, void *arg,
		     const char **error_r)
{
	struct stat st;
	uint64_t pos;
	size_t want;

	if (fstat(l->fd, &st) < 0) {
		*error_r = "fstat postern-uidlog";
		return -1;
	}
	str_clear(&l->buf);
	pos = l->offset;
	while (pos < (uint64_t)st.st_size) {
		want = (uint64_t)st.st_size - pos < UIDLOG_READ_CHUNK ?
		       (size_t)((uint64_t)st.st_size - pos) : UIDLOG_READ_CHUNK;
		if (uidlog_pread(l->fd, pos, want, &l->buf) < 0) {
			*error_r = "read postern-uidlog";
			return -1;
		}
		pos += want;
		if (uidlog_parse_buf(l, fn, arg, pos >= (uint64_t)st.st_size)
		    < 0) {
			*error_r = "postern-uidlog record";
			return -1;
		}
	}
	str_clear(&l->buf);
	if (l->torn && l->lock == LOCK_EX) {
		if (ftruncate(l->fd, (off_t)l->offset) < 0) {
			*error_r = "truncate postern-uidlog";
			return -1;
		}
		l->torn = 0;
	}
	return 0;
}

int imap_uidlog_append(struct imap_uidlog *l, const char *text, size_t n,
		       const char **error_r)
{
	uint64_t off = l->offset;
	ssize_t w;

	while (n > 0) {
		w = pwrite(l->fd, text, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int saved = w < 0 ? errno : EIO;

			/* if this fails too, the next writer cuts the tail */
			if (ftruncate(l->fd, (off_t)l->offset) < 0)
				l->torn = 1;
			errno = saved;
			*error_r = "write postern-uidlog";
			return -1;
		}
		text += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	l->offset = off;
	return 0;
}

int imap_uidlog_sync(struct imap_uidlog *l, const char **error_r)
{
	if (fdatasync(l->fd) < 0) {
		*error_r = "fsync postern-uidlog";
		return -1;
	}
	return 0;
}

int imap_uidlog_size(struct imap_uidlog *l, uint64_t *size_r)
{
	struct stat st;

	if (fstat(l->fd, &st) < 0)
		return -1;
	*size_r = (uint64_t)st.st_size;
	return 0;
}

int imap_uidlog_replace(struct imap_uidlog *l,
			const struct imap_uidlog_header *h, const char *text,
			size_t n, const char **error_r)
{
	struct str img = STR_INIT(0);
	int old = l->fd, r = -1;

	if (uidlog_image(&img, h, text, n) < 0) {
		*error_r = "format postern-uidlog";
		goto out;
	}
	if (file_write_atomic_at(l->dir_fd, IMAP_UIDLOG_FILE, img.s, img.len,
				 0600, 0, error_r) < 0)
		goto out;
	/* keep the old file locked until the new one is: nobody can append
	 * to the old one meanwhile (they find it replaced when locked) */
	l->fd = -1;
	if (imap_uidlog_open(l, error_r) != 1 ||
	    imap_uidlog_lock(l, LOCK_EX, error_r) < 0) {
		if (l->fd < 0)
			*error_r = "reopen postern-uidlog";
		goto out;
	}
	l->offset = img.len;
	r = 0;
out:
	if (old >= 0 && l->fd != old)
		close(old);
	str_free(&img);
	return r;
}
