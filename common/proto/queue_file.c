/*
 * queue_file - the on-disk format of one queued message
 *
 * The format, the recipient state byte and why it is overwritten in place
 * are described in queue_file.h and postern-queue(5). This file has three
 * parts: the envelope helpers, the writer (buffered pwrite from offset 0,
 * the M length patched at the end) and the reader (buffered pread, one
 * table of record types with their size limits, and a small phase machine
 * that enforces the record order).
 */
#include "proto/queue_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"

/* The writer hands data to the kernel in chunks of about this size. */
#define WRITE_CHUNK 65536
/* The reader's buffer: larger than the largest record it reads whole. */
#define READ_BUF 8192
_Static_assert(READ_BUF >= QUEUE_RECORD_HEADER + 1 + QUEUE_TEXT_MAX,
	       "the reader's buffer must hold the largest text record");
#define MAGIC_LEN (sizeof(QUEUE_FILE_MAGIC) - 1)
#define VERSION_LEN (MAGIC_LEN + 1)

/* ---- shared helpers ------------------------------------------------- */

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t get_be64(const unsigned char *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* Index of the first control character (below 0x20, or 0x7f) in p, or
 * -1 if there is none. */
static ssize_t find_control(const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return (ssize_t)i;
	}
	return -1;
}

static void set_error(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_error(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(buf, size, fmt, ap) < 0)
		buf[0] = '\0';
	va_end(ap);
}

static int state_valid(char state)
{
	return queue_rcpt_state_name(state) != NULL;
}

int queue_flags_ok(uint32_t flags)
{
	const uint32_t ret = QUEUE_FLAG_RET_FULL | QUEUE_FLAG_RET_HDRS;

	return (flags & ~QUEUE_FLAG_ALL) == 0 && (flags & ret) != ret;
}

int queue_envid_ok(const char *s, size_t len)
{
	if (len == 0 || len > QUEUE_ENVID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

int queue_notify_ok(unsigned notify)
{
	const unsigned any = QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE |
			     QUEUE_NOTIFY_DELAY;

	return notify == QUEUE_NOTIFY_NEVER ||
	       (notify != 0 && (notify & ~any) == 0);
}

/* ---- the envelope --------------------------------------------------- */

void queue_env_init(struct queue_env *env)
{
	memset(env, 0, sizeof(*env));
}

void queue_env_free(struct queue_env *env)
{
	size_t i;

	for (i = 0; i < env->rcpt_count; i++) {
		free(env->rcpts[i].addr);
		free(env->rcpts[i].orig);
	}
	free(env->rcpts);
	free(env->client_addr);
	free(env->helo);
	free(env->auth_user);
	free(env->protocol);
	free(env->envid);
	free(env->sender);
	queue_env_init(env);
}

/* Append an empty recipient in state Q and return it. */
static struct queue_rcpt *env_new_rcpt(struct queue_env *env)
{
	struct queue_rcpt *r;

	if (env->rcpt_count == env->rcpt_alloc) {
		env->rcpt_alloc = env->rcpt_alloc ? env->rcpt_alloc * 2 : 8;
		env->rcpts = xreallocarray(env->rcpts, env->rcpt_alloc,
					   sizeof(*env->rcpts));
	}
	r = &env->rcpts[env->rcpt_count++];
	memset(r, 0, sizeof(*r));
	r->state = QUEUE_RCPT_QUEUED;
	return r;
}

struct queue_rcpt *queue_env_add_rcpt(struct queue_env *env,
				      const char *addr, const char *orig)
{
	struct queue_rcpt *r = env_new_rcpt(env);

	r->addr = xstrdup(addr);
	r->orig = orig != NULL ? xstrdup(orig) : NULL;
	return r;
}

size_t queue_env_pending(const struct queue_env *env)
{
	size_t i, n = 0;

	for (i = 0; i < env->rcpt_count; i++)
		n += env->rcpts[i].state == QUEUE_RCPT_QUEUED;
	return n;
}

const char *queue_rcpt_state_name(char state)
{
	switch (state) {
	case QUEUE_RCPT_QUEUED:
		return "queued";
	case QUEUE_RCPT_DELIVERED:
		return "delivered";
	case QUEUE_RCPT_FAILED:
		return "failed";
	case QUEUE_RCPT_EXPIRED:
		return "expired";
	default:
		return NULL;
	}
}

int queue_file_set_state(int fd, struct queue_env *env, size_t rcpt_index,
			 char state)
{
	struct queue_rcpt *r;
	ssize_t n;

	if (rcpt_index >= env->rcpt_count || !state_valid(state) ||
	    env->rcpts[rcpt_index].state_offset <= 0) {
		errno = EINVAL;
		return -1;
	}
	r = &env->rcpts[rcpt_index];
	do {
		n = pwrite(fd, &state, 1, r->state_offset);
	} while (n < 0 && errno == EINTR);
	if (n != 1) {
		if (n == 0)
			errno = EIO;
		return -1;
	}
	r->state = state;
	return 0;
}

/* ---- the writer ----------------------------------------------------- */

static int writer_fail(struct queue_writer *w, int err, const char **error_r,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int writer_fail(struct queue_writer *w, int err, const char **error_r,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(w->error, sizeof(w->error), fmt, ap) < 0)
		w->error[0] = '\0';
	va_end(ap);
	w->failed = err;
	*error_r = w->error;
	errno = err;
	return -1;
}

/* A previous failure, reported again. */
static int writer_failed(struct queue_writer *w, const char **error_r)
{
	*error_r = w->error;
	errno = w->failed;
	return -1;
}

static int pwrite_all(int fd, const void *p, size_t n, off_t off)
{
	const char *s = p;
	ssize_t k;

	while (n > 0) {
		k = pwrite(fd, s, n, off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = ENOSPC;
			return -1;
		}
		s += k;
		n -= (size_t)k;
		off += k;
	}
	return 0;
}

static int writer_put(struct queue_writer *w, const void *p, size_t n,
		      const char **error_r)
{
	if (pwrite_all(w->fd, p, n, w->pos) < 0)
		return writer_fail(w, errno, error_r, "write queue file: %s",
				   strerror(errno));
	w->pos += (off_t)n;
	return 0;
}

static int writer_flush(struct queue_writer *w, const char **error_r)
{
	if (w->buf.len == 0)
		return 0;
	if (writer_put(w, w->buf.s, w->buf.len, error_r) < 0)
		return -1;
	str_clear(&w->buf);
	return 0;
}

static int writer_append(struct queue_writer *w, const void *p, size_t n,
			 const char **error_r)
{
	if (str_append(&w->buf, p, n) < 0)
		return writer_fail(w, errno, error_r, "queue file buffer: %s",
				   strerror(errno));
	if (w->buf.len >= WRITE_CHUNK)
		return writer_flush(w, error_r);
	return 0;
}

static int writer_record(struct queue_writer *w, char type, const void *data,
			 size_t len, const char **error_r)
{
	unsigned char hdr[QUEUE_RECORD_HEADER];

	hdr[0] = (unsigned char)type;
	put_be32(hdr + 1, (uint32_t)len);
	if (writer_append(w, hdr, sizeof(hdr), error_r) < 0)
		return -1;
	return writer_append(w, data, len, error_r);
}

/* A text field that the format accepts: "" (when allow_empty) or up to
 * QUEUE_TEXT_MAX bytes without control characters. */
static int text_ok(const char *s, int allow_empty)
{
	size_t len = strnlen(s, QUEUE_TEXT_MAX + 1);

	return len <= QUEUE_TEXT_MAX && (len > 0 || allow_empty) &&
	       find_control(s, len) < 0;
}

static int check_optional(struct queue_writer *w, const char *value,
			  const char *what, const char **error_r)
{
	if (value == NULL || text_ok(value, 1))
		return 0;
	return writer_fail(w, EINVAL, error_r, "%s: control character or "
			   "longer than %d bytes", what, QUEUE_TEXT_MAX);
}

static int check_rcpt(struct queue_writer *w, const struct queue_rcpt *r,
		      const char **error_r)
{
	size_t i = w->rcpt_count;

	if (i >= QUEUE_RCPT_MAX)
		return writer_fail(w, EINVAL, error_r, "more than %d "
				   "recipients", QUEUE_RCPT_MAX);
	if (r->addr == NULL || !text_ok(r->addr, 0))
		return writer_fail(w, EINVAL, error_r, "recipient %zu: empty, "
				   "control character or too long", i + 1);
	if (r->state != 0 && !state_valid(r->state))
		return writer_fail(w, EINVAL, error_r, "recipient %zu: bad "
				   "state", i + 1);
	if (r->notify != 0 && !queue_notify_ok(r->notify))
		return writer_fail(w, EINVAL, error_r, "recipient %zu: bad "
				   "NOTIFY 0x%x", i + 1, r->notify);
	return check_optional(w, r->orig, "original recipient", error_r);
}

/* Refuse, before anything is written, what the reader would refuse. */
static int check_head(struct queue_writer *w, const struct queue_env *env,
		      const char **error_r)
{
	if (env->arrival.tv_sec < 0 || env->arrival.tv_nsec < 0 ||
	    env->arrival.tv_nsec >= 1000000000L)
		return writer_fail(w, EINVAL, error_r, "bad arrival time");
	if (!queue_flags_ok(env->flags))
		return writer_fail(w, EINVAL, error_r, "unknown flags or both "
				   "RET flags 0x%x", env->flags);
	if (env->envid != NULL &&
	    !queue_envid_ok(env->envid, strlen(env->envid)))
		return writer_fail(w, EINVAL, error_r, "ENVID: not 1 to %d "
				   "printable bytes", QUEUE_ENVID_MAX);
	if (env->sender == NULL || !text_ok(env->sender, 1))
		return writer_fail(w, EINVAL, error_r, "sender: missing, "
				   "control character or too long");
	if (check_optional(w, env->client_addr, "client address",
			   error_r) < 0 ||
	    check_optional(w, env->helo, "HELO name", error_r) < 0 ||
	    check_optional(w, env->auth_user, "login", error_r) < 0 ||
	    check_optional(w, env->protocol, "protocol", error_r) < 0)
		return -1;
	return 0;
}

static int writer_text(struct queue_writer *w, char type, const char *s,
		       const char **error_r)
{
	if (s == NULL)
		return 0;
	return writer_record(w, type, s, strlen(s), error_r);
}

static int writer_head(struct queue_writer *w, const struct queue_env *env,
		       const char **error_r)
{
	unsigned char t[12], flags[4];
	char version[VERSION_LEN];

	memcpy(version, QUEUE_FILE_MAGIC, MAGIC_LEN);
	version[MAGIC_LEN] = QUEUE_FILE_VERSION;
	put_be64(t, (uint64_t)env->arrival.tv_sec);
	put_be32(t + 8, (uint32_t)env->arrival.tv_nsec);
	put_be32(flags, env->flags);
	if (writer_record(w, QREC_VERSION, version, sizeof(version),
			  error_r) < 0 ||
	    writer_record(w, QREC_TIME, t, sizeof(t), error_r) < 0 ||
	    writer_text(w, QREC_CLIENT_ADDR, env->client_addr, error_r) < 0 ||
	    writer_text(w, QREC_HELO, env->helo, error_r) < 0 ||
	    writer_text(w, QREC_AUTH_USER, env->auth_user, error_r) < 0 ||
	    writer_text(w, QREC_PROTOCOL, env->protocol, error_r) < 0)
		return -1;
	if (env->flags != 0 &&
	    writer_record(w, QREC_FLAGS, flags, sizeof(flags), error_r) < 0)
		return -1;
	if (writer_text(w, QREC_ENVID, env->envid, error_r) < 0)
		return -1;
	return writer_text(w, QREC_SENDER, env->sender, error_r);
}

static int writer_rcpt(struct queue_writer *w, const struct queue_rcpt *r,
		       const char **error_r)
{
	unsigned char hdr[QUEUE_RECORD_HEADER + 1];
	size_t len;

	if (w->failed)
		return writer_failed(w, error_r);
	if (w->in_message)
		return writer_fail(w, EINVAL, error_r, "recipient after the "
				   "message began");
	if (check_rcpt(w, r, error_r) < 0)
		return -1;
	w->rcpt_count++;
	len = strlen(r->addr);
	hdr[0] = QREC_RCPT;
	put_be32(hdr + 1, (uint32_t)(len + 1));
	hdr[QUEUE_RECORD_HEADER] = r->state != 0 ? (unsigned char)r->state
						 : QUEUE_RCPT_QUEUED;
	if (writer_append(w, hdr, sizeof(hdr), error_r) < 0 ||
	    writer_append(w, r->addr, len, error_r) < 0 ||
	    writer_text(w, QREC_ORIG_RCPT, r->orig, error_r) < 0)
		return -1;
	if (r->notify == 0)
		return 0;
	return writer_record(w, QREC_NOTIFY, &r->notify, 1, error_r);
}

int queue_writer_head(struct queue_writer *w, int fd,
		      const struct queue_env *env, const char **error_r)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	str_init(&w->buf, 0);
	if (check_head(w, env, error_r) < 0)
		return -1;
	return writer_head(w, env, error_r);
}

int queue_writer_rcpt(struct queue_writer *w, const char *addr,
		      const char *orig, unsigned notify,
		      const char **error_r)
{
	struct queue_rcpt r = { .addr = (char *)addr, .orig = (char *)orig,
				.notify = (unsigned char)notify };

	if (notify > 0xff)
		return writer_fail(w, EINVAL, error_r, "bad NOTIFY 0x%x",
				   notify);

	return writer_rcpt(w, &r, error_r);
}

/* The M record's header, once, after at least one recipient. */
static int writer_message(struct queue_writer *w, const char **error_r)
{
	unsigned char hdr[QUEUE_RECORD_HEADER] = { QREC_MESSAGE, 0, 0, 0, 0 };

	if (w->in_message)
		return 0;
	if (w->rcpt_count == 0)
		return writer_fail(w, EINVAL, error_r, "no recipient");
	w->in_message = 1;
	w->message_len_offset = w->pos + (off_t)w->buf.len + 1;
	return writer_append(w, hdr, sizeof(hdr), error_r);
}

int queue_writer_begin(struct queue_writer *w, int fd,
		       const struct queue_env *env, const char **error_r)
{
	size_t i;

	if (queue_writer_head(w, fd, env, error_r) < 0)
		return -1;
	for (i = 0; i < env->rcpt_count; i++) {
		if (writer_rcpt(w, &env->rcpts[i], error_r) < 0)
			return -1;
	}
	return writer_message(w, error_r);
}

int queue_writer_body(struct queue_writer *w, const void *data, size_t len,
		      const char **error_r)
{
	if (w->failed)
		return writer_failed(w, error_r);
	if (writer_message(w, error_r) < 0)
		return -1;
	if (len > QUEUE_MESSAGE_MAX - w->message_size)
		return writer_fail(w, EFBIG, error_r, "message larger than "
				   "%lu bytes", (unsigned long)QUEUE_MESSAGE_MAX);
	w->message_size += len;
	if (len < WRITE_CHUNK - w->buf.len)
		return writer_append(w, data, len, error_r);
	if (writer_flush(w, error_r) < 0)
		return -1;
	return writer_put(w, data, len, error_r);
}

int queue_writer_end(struct queue_writer *w, const char **error_r)
{
	unsigned char size[8], len[4];

	if (w->failed)
		return writer_failed(w, error_r);
	if (writer_message(w, error_r) < 0)
		return -1;
	put_be64(size, w->message_size);
	put_be32(len, (uint32_t)w->message_size);
	if (writer_record(w, QREC_END, size, sizeof(size), error_r) < 0 ||
	    writer_flush(w, error_r) < 0)
		return -1;
	if (pwrite_all(w->fd, len, sizeof(len), w->message_len_offset) < 0)
		return writer_fail(w, errno, error_r, "write queue file: %s",
				   strerror(errno));
	/* the file is complete: anything more would break it */
	set_error(w->error, sizeof(w->error), "queue file already complete");
	w->failed = EINVAL;
	return 0;
}

void queue_writer_free(struct queue_writer *w)
{
	str_free(&w->buf);
}

/* ---- the reader ----------------------------------------------------- */

/* What each record type may hold; the order is the index for `seen`. */
struct record_info {
	char type;
	uint32_t min, max;
	const char *name;
};

static const struct record_info records[] = {
	{ QREC_VERSION, VERSION_LEN, VERSION_LEN, "version" },
	{ QREC_TIME, 12, 12, "arrival time" },
	{ QREC_CLIENT_ADDR, 0, QUEUE_TEXT_MAX, "client address" },
	{ QREC_HELO, 0, QUEUE_TEXT_MAX, "HELO name" },
	{ QREC_AUTH_USER, 0, QUEUE_TEXT_MAX, "login" },
	{ QREC_PROTOCOL, 0, QUEUE_TEXT_MAX, "protocol" },
	{ QREC_FLAGS, 4, 4, "flags" },
	{ QREC_ENVID, 1, QUEUE_ENVID_MAX, "envelope id" },
	{ QREC_SENDER, 0, QUEUE_TEXT_MAX, "sender" },
	{ QREC_RCPT, 2, QUEUE_TEXT_MAX + 1, "recipient" },
	{ QREC_ORIG_RCPT, 0, QUEUE_TEXT_MAX, "original recipient" },
	{ QREC_NOTIFY, 1, 1, "notify" },
	{ QREC_MESSAGE, 0, QUEUE_MESSAGE_MAX, "message" },
	{ QREC_END, 8, 8, "END" },
};
#define RECORD_TYPES (sizeof(records) / sizeof(records[0]))

enum read_phase {
	PHASE_START,	/* expecting V */
	PHASE_HEAD,	/* T I H A P E J S, each once */
	PHASE_RCPTS,	/* R, O and N */
	PHASE_BODY,	/* the message was skipped; expecting Z */
	PHASE_DONE,	/* Z seen; expecting end of file */
};

struct reader {
	int fd;
	int err;		/* errno to report */
	int count_only;		/* scan: count recipients, keep a window */
	size_t keep_n, keep_bytes;	/* the window's limits */
	int keeping;		/* still in the window */
	int kept_last;		/* the last R was kept */
	size_t kept_bytes;
	off_t window_end;	/* the first R not kept */
	size_t nrcpts;		/* R records read */
	size_t npending;	/* ... in state Q */
	off_t first_rcpt;	/* offset of the first R record */
	off_t message_rec;	/* offset of the M record */
	size_t rcpt_bytes;	/* R and O data read */
	off_t trailer_end;	/* end of the last whole target record */
	off_t size;		/* the file's size, once seen */
	int want_targets;	/* collect the targets of want_rcpt */
	size_t want_rcpt;
	struct queue_targets *targets;
	struct queue_env *env;
	enum read_phase phase;
	unsigned int seen;	/* bit i: records[i] seen (head records) */
	char prev_type;		/* type of the previous record */
	off_t pos;		/* offset of the next unread byte */
	off_t rec_off;		/* offset of the current record */
	off_t buf_off;		/* file offset of buf[0] */
	size_t buf_len;
	unsigned char buf[READ_BUF];
	char error[sizeof(((struct queue_env *)0)->error)];
};

static int corrupt(struct reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int corrupt(struct reader *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->error, sizeof(r->error), "corrupt queue file at "
		     "offset %lld: ", (long long)r->rec_off);
	if (n < 0 || (size_t)n >= sizeof(r->error))
		n = 0;
	va_start(ap, fmt);
	if (vsnprintf(r->error + n, sizeof(r->error) - (size_t)n, fmt, ap) < 0)
		r->error[n] = '\0';
	va_end(ap);
	r->err = EBADMSG;
	return -1;
}

/*
 * Make n (<= READ_BUF) bytes from r->pos available at *p_r. Returns 1,
 * 0 if the file ends first (r->buf_off + r->buf_len is then its size), or
 * -1 on a read error.
 */
static int reader_get(struct reader *r, size_t n, const unsigned char **p_r)
{
	ssize_t k;

	if (r->pos < r->buf_off ||
	    (size_t)(r->pos - r->buf_off) + n > r->buf_len) {
		r->buf_off = r->pos;
		r->buf_len = 0;
		while (r->buf_len < n) {
			k = pread(r->fd, r->buf + r->buf_len,
				  sizeof(r->buf) - r->buf_len,
				  r->buf_off + (off_t)r->buf_len);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				r->err = errno;
				set_error(r->error, sizeof(r->error), "read "
					  "queue file at offset %lld: %s",
					  (long long)r->pos, strerror(errno));
				return -1;
			}
			if (k == 0)
				return 0;
			r->buf_len += (size_t)k;
		}
	}
	*p_r = r->buf + (r->pos - r->buf_off);
	return 1;
}

static const struct record_info *record_lookup(unsigned char type,
					       unsigned int *index_r)
{
	unsigned int i;

	for (i = 0; i < RECORD_TYPES; i++) {
		if ((unsigned char)records[i].type == type) {
			*index_r = i;
			return &records[i];
		}
	}
	return NULL;
}

/* A text field: no control characters. */
static int check_text(struct reader *r, const struct record_info *ri,
		      const unsigned char *data, size_t len)
{
	ssize_t bad = find_control(data, len);

	if (bad >= 0)
		return corrupt(r, "control character 0x%02x in %s",
			       data[bad], ri->name);
	return 0;
}

/* A text field: no control characters; stored NUL-terminated in *dst. */
static int read_text(struct reader *r, const struct record_info *ri,
		     const unsigned char *data, size_t len, char **dst)
{
	ssize_t bad = find_control(data, len);

	if (bad >= 0)
		return corrupt(r, "control character 0x%02x in %s",
			       data[bad], ri->name);
	*dst = xstrndup((const char *)data, len);
	return 0;
}

static int read_version(struct reader *r, const unsigned char *data)
{
	if (memcmp(data, QUEUE_FILE_MAGIC, MAGIC_LEN) != 0)
		return corrupt(r, "not a postern queue file (bad magic)");
	if (data[MAGIC_LEN] != QUEUE_FILE_VERSION)
		return corrupt(r, "unsupported queue file version 0x%02x",
			       data[MAGIC_LEN]);
	return 0;
}

static int read_time(struct reader *r, const unsigned char *data)
{
	uint64_t sec = get_be64(data);
	uint32_t nsec = get_be32(data + 8);

	if (sec > INT64_MAX || (uint64_t)(time_t)sec != sec ||
	    nsec >= 1000000000u)
		return corrupt(r, "bad arrival time");
	r->env->arrival.tv_sec = (time_t)sec;
	r->env->arrival.tv_nsec = (long)nsec;
	return 0;
}

/* T I H A P E J S: once each, before the first recipient. */
static int read_head(struct reader *r, const struct record_info *ri,
		     unsigned int index, const unsigned char *data, size_t len)
{
	struct queue_env *env = r->env;

	if (r->phase != PHASE_HEAD)
		return corrupt(r, "%s record after the recipients", ri->name);
	if (r->seen & (1u << index))
		return corrupt(r, "second %s record", ri->name);
	r->seen |= 1u << index;
	switch (ri->type) {
	case QREC_TIME:
		return read_time(r, data);
	case QREC_FLAGS:
		env->flags = get_be32(data);
		if (!queue_flags_ok(env->flags))
			return corrupt(r, "unknown flags or both RET flags "
				       "0x%x", env->flags);
		return 0;
	case QREC_ENVID:
		if (!queue_envid_ok((const char *)data, len))
			return corrupt(r, "envelope id not printable ASCII");
		return read_text(r, ri, data, len, &env->envid);
	case QREC_CLIENT_ADDR:
		return read_text(r, ri, data, len, &env->client_addr);
	case QREC_HELO:
		return read_text(r, ri, data, len, &env->helo);
	case QREC_AUTH_USER:
		return read_text(r, ri, data, len, &env->auth_user);
	case QREC_PROTOCOL:
		return read_text(r, ri, data, len, &env->protocol);
	default:
		return read_text(r, ri, data, len, &env->sender);
	}
}

static unsigned int seen_bit(char type)
{
	unsigned int index = 0;

	if (record_lookup((unsigned char)type, &index) == NULL)
		return 0;
	return 1u << index;
}

static int read_rcpt(struct reader *r, const struct record_info *ri,
		     const unsigned char *data, size_t len)
{
	struct queue_rcpt *rcpt;
	char *addr = NULL;

	if (r->phase == PHASE_HEAD) {
		if (!(r->seen & seen_bit(QREC_TIME)))
			return corrupt(r, "no arrival time record");
		if (!(r->seen & seen_bit(QREC_SENDER)))
			return corrupt(r, "no sender record");
		r->phase = PHASE_RCPTS;
	}
	if (r->phase != PHASE_RCPTS)
		return corrupt(r, "recipient record out of order");
	if (r->nrcpts >= QUEUE_RCPT_MAX)
		return corrupt(r, "more than %d recipients", QUEUE_RCPT_MAX);
	if (!state_valid((char)data[0]))
		return corrupt(r, "bad recipient state 0x%02x", data[0]);
	if (r->nrcpts++ == 0)
		r->first_rcpt = r->rec_off;
	r->npending += data[0] == QUEUE_RCPT_QUEUED;
	r->rcpt_bytes += len;
	if (r->count_only && r->keeping &&
	    (r->env->rcpt_count >= r->keep_n ||
	     (r->env->rcpt_count > 0 && r->kept_bytes >= r->keep_bytes))) {
		r->keeping = 0;
		r->window_end = r->rec_off;
	}
	r->kept_last = !r->count_only || r->keeping;
	if (!r->kept_last)
		return check_text(r, ri, data + 1, len - 1);
	r->kept_bytes += len;
	if (read_text(r, ri, data + 1, len - 1, &addr) < 0)
		return -1;
	rcpt = env_new_rcpt(r->env);
	rcpt->addr = addr;
	rcpt->state = (char)data[0];
	rcpt->state_offset = r->rec_off + QUEUE_RECORD_HEADER;
	return 0;
}

static int read_orig(struct reader *r, const struct record_info *ri,
		     const unsigned char *data, size_t len)
{
	struct queue_rcpt *rcpt;

	if (r->phase != PHASE_RCPTS || r->prev_type != QREC_RCPT)
		return corrupt(r, "original recipient not after a recipient");
	r->rcpt_bytes += len;
	if (!r->kept_last)
		return check_text(r, ri, data, len);
	r->kept_bytes += len;
	rcpt = &r->env->rcpts[r->env->rcpt_count - 1];
	return read_text(r, ri, data, len, &rcpt->orig);
}

/* N: right after its R or its O; a valid NOTIFY. */
static int read_notify(struct reader *r, const unsigned char *data)
{
	if (r->phase != PHASE_RCPTS || (r->prev_type != QREC_RCPT &&
					r->prev_type != QREC_ORIG_RCPT))
		return corrupt(r, "notify record not after a recipient");
	if (!queue_notify_ok(data[0]))
		return corrupt(r, "bad notify value 0x%02x", data[0]);
	r->rcpt_bytes += 1;
	if (r->kept_last)
		r->env->rcpts[r->env->rcpt_count - 1].notify = data[0];
	return 0;
}

/* M: note where the message is and step over it without reading it. */
static int read_message(struct reader *r, uint32_t len)
{
	if (r->phase == PHASE_HEAD)
		return corrupt(r, "message before any recipient");
	if (r->phase != PHASE_RCPTS)
		return corrupt(r, "second message record");
	r->phase = PHASE_BODY;
	r->message_rec = r->rec_off;
	r->env->message_offset = r->pos;
	r->env->message_size = (off_t)len;
	r->pos += (off_t)len;
	return 0;
}

static int read_end(struct reader *r, const unsigned char *data)
{
	if (r->phase != PHASE_BODY)
		return corrupt(r, "END record before the message");
	if (get_be64(data) != (uint64_t)r->env->message_size)
		return corrupt(r, "END says %llu message bytes, M says %lld",
			       (unsigned long long)get_be64(data),
			       (long long)r->env->message_size);
	r->phase = PHASE_DONE;
	return 0;
}

static int read_dispatch(struct reader *r, const struct record_info *ri,
			 unsigned int index, const unsigned char *data,
			 size_t len)
{
	switch (ri->type) {
	case QREC_VERSION:
		if (r->phase != PHASE_START)
			return corrupt(r, "second version record");
		r->phase = PHASE_HEAD;
		return read_version(r, data);
	case QREC_RCPT:
		return read_rcpt(r, ri, data, len);
	case QREC_ORIG_RCPT:
		return read_orig(r, ri, data, len);
	case QREC_NOTIFY:
		return read_notify(r, data);
	case QREC_END:
		return read_end(r, data);
	default:
		return read_head(r, ri, index, data, len);
	}
}

/* Where the file ended too early: inside a record or between records. */
static int truncated(struct reader *r, const char *what)
{
	off_t size = r->buf_off + (off_t)r->buf_len;

	if (r->phase == PHASE_BODY && size < r->pos)
		return corrupt(r, "file ends inside the message (size %lld, "
			       "message ends at %lld)", (long long)size,
			       (long long)r->pos);
	if (r->pos == r->rec_off && size == r->pos)
		return corrupt(r, "file ends without an END record");
	return corrupt(r, "file ends inside the %s record (size %lld)", what,
		       (long long)size);
}

/* Read one record; 0 when it was the END record, 1 for more, -1. */
static int read_record(struct reader *r)
{
	const struct record_info *ri;
	const unsigned char *p;
	unsigned int index = 0;
	unsigned char type;
	uint32_t len;
	int got;

	r->rec_off = r->pos;
	if ((got = reader_get(r, QUEUE_RECORD_HEADER, &p)) <= 0)
		return got < 0 ? -1 : truncated(r, "next");
	type = p[0];
	len = get_be32(p + 1);
	if (r->phase == PHASE_START && type != QREC_VERSION)
		return corrupt(r, "not a postern queue file (no version "
			       "record)");
	if ((ri = record_lookup(type, &index)) == NULL)
		return corrupt(r, "unknown record type 0x%02x", type);
	if (len < ri->min || len > ri->max)
		return corrupt(r, "%s record of %lu bytes (%lu to %lu allowed)",
			       ri->name, (unsigned long)len,
			       (unsigned long)ri->min, (unsigned long)ri->max);
	r->pos += QUEUE_RECORD_HEADER;
	if (type == QREC_MESSAGE)
		return read_message(r, len) < 0 ? -1 : 1;
	if ((got = reader_get(r, len, &p)) <= 0)
		return got < 0 ? -1 : truncated(r, ri->name);
	r->pos += len;
	if (read_dispatch(r, ri, index, p, len) < 0)
		return -1;
	r->prev_type = (char)type;
	return type == QREC_END ? 0 : 1;
}

/* ---- the trailer: targets done, after END --------------------------- */

/* The file ends within n bytes of r->pos: how many are left (the reader
 * saw the end), or -1 on a read error. */
static off_t bytes_left(struct reader *r, size_t n)
{
	const unsigned char *p;
	int got = reader_get(r, n, &p);

	if (got < 0)
		return -1;
	if (got > 0)
		return (off_t)n;
	r->size = r->buf_off + (off_t)r->buf_len;
	return r->size - r->pos;
}

/* What follows the last whole target record: nothing, or what a torn
 * append leaves (a prefix of a target record, or zeros a power cut may
 * leave in its place). 0 if it is that, -1 (corrupt) if not. */
static int trailer_tail(struct reader *r, int starts_record)
{
	const size_t most = QUEUE_RECORD_HEADER + 4 + QUEUE_TEXT_MAX;
	const unsigned char *p;
	off_t left = bytes_left(r, most + 1);

	if (left < 0)
		return -1;
	if (left == 0 || (starts_record && left <= (off_t)most))
		return 0;
	if (left > (off_t)most || reader_get(r, (size_t)left, &p) <= 0)
		return corrupt(r, "data after the END record");
	for (off_t i = 0; i < left; i++)
		if (p[i] != 0)
			return corrupt(r, "data after the END record");
	return 0;
}

/* One whole target record at r->pos, header already checked. */
static int read_target(struct reader *r, const unsigned char *p, size_t len)
{
	size_t idx = get_be32(p + QUEUE_RECORD_HEADER);
	const unsigned char *addr = p + QUEUE_RECORD_HEADER + 4;
	ssize_t bad = find_control(addr, len - 4);

	if (idx >= r->nrcpts)
		return corrupt(r, "target record for recipient %zu of %zu",
			       idx, r->nrcpts);
	if (bad >= 0)
		return corrupt(r, "control character 0x%02x in a target",
			       addr[bad]);
	if (r->want_targets && idx == r->want_rcpt) {
		struct queue_targets *t = r->targets;

		t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
		t->v[t->n++] = xstrndup((const char *)addr, len - 4);
	}
	r->pos += QUEUE_RECORD_HEADER + (off_t)len;
	r->trailer_end = r->pos;
	return 0;
}

static int read_trailer(struct reader *r)
{
	const unsigned char *p;
	uint32_t len;
	off_t left;

	r->trailer_end = r->pos;
	for (;;) {
		r->rec_off = r->pos;
		if ((left = bytes_left(r, QUEUE_RECORD_HEADER)) < 0)
			return -1;
		if (left < QUEUE_RECORD_HEADER) {
			if (left > 0 && reader_get(r, 1, &p) > 0)
				return trailer_tail(r, p[0] ==
						    QREC_TARGET_DONE);
			return trailer_tail(r, 0);
		}
		reader_get(r, QUEUE_RECORD_HEADER, &p);
		if (p[0] != QREC_TARGET_DONE)
			return trailer_tail(r, 0);
		len = get_be32(p + 1);
		if (len < 5 || len > 4 + QUEUE_TEXT_MAX)
			return corrupt(r, "target record of %lu bytes",
				       (unsigned long)len);
		left = bytes_left(r, QUEUE_RECORD_HEADER + len);
		if (left < 0)
			return -1;
		if (left < (off_t)(QUEUE_RECORD_HEADER + len))
			return 0;	/* a torn append: ignored */
		reader_get(r, QUEUE_RECORD_HEADER + len, &p);
		if (read_target(r, p, len) < 0)
			return -1;
	}
}

static int read_all(struct reader *r)
{
	int ret;

	while ((ret = read_record(r)) > 0)
		;
	if (ret < 0)
		return -1;
	return read_trailer(r);
}

/* A failed read: env emptied, the error kept in it. */
static int read_failed(struct reader *r, const char **error_r)
{
	queue_env_free(r->env);
	memcpy(r->env->error, r->error, sizeof(r->env->error));
	*error_r = r->env->error;
	errno = r->err;
	return -1;
}

int queue_file_read(int fd, struct queue_env *env, const char **error_r)
{
	struct reader *r = xcalloc(1, sizeof(*r));
	int ret;

	queue_env_free(env);
	r->fd = fd;
	r->env = env;
	ret = read_all(r);
	if (ret < 0)
		read_failed(r, error_r);
	free(r);
	return ret;
}

int queue_file_scan(int fd, struct queue_env *env, struct queue_scan *scan,
		    size_t max_n, size_t max_bytes, const char **error_r)
{
	struct reader *r = xcalloc(1, sizeof(*r));
	int ret;

	queue_env_free(env);
	r->fd = fd;
	r->env = env;
	r->count_only = 1;
	r->keep_n = max_n;
	r->keep_bytes = max_bytes;
	r->keeping = max_n > 0;
	ret = read_all(r);
	if (ret < 0) {
		read_failed(r, error_r);
	} else {
		scan->rcpts = r->nrcpts;
		scan->pending = r->npending;
		scan->first_rcpt = r->first_rcpt;
		scan->message_rec = r->message_rec;
		scan->window_end = r->keeping ? r->message_rec : r->window_end;
		scan->trailer = r->message_rec + QUEUE_RECORD_HEADER +
				r->env->message_size + QUEUE_RECORD_HEADER + 8;
		scan->trailer_end = r->trailer_end;
		scan->size = r->size;
	}
	free(r);
	return ret;
}

int queue_file_targets(int fd, off_t start, size_t rcpts, size_t rcpt_index,
		       struct queue_targets *out, const char **error_r)
{
	static char error[sizeof(((struct queue_env *)0)->error)];
	struct reader *r = xcalloc(1, sizeof(*r));
	int ret;

	r->fd = fd;
	r->pos = start;
	r->phase = PHASE_DONE;
	r->nrcpts = rcpts;
	r->want_targets = 1;
	r->want_rcpt = rcpt_index;
	r->targets = out;
	ret = read_trailer(r);
	if (ret < 0) {
		memcpy(error, r->error, sizeof(error));
		*error_r = error;
		errno = r->err;
	}
	free(r);
	return ret;
}

int queue_targets_has(const struct queue_targets *t, const char *addr)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i], addr) == 0)
			return 1;
	return 0;
}

void queue_targets_free(struct queue_targets *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

int queue_file_add_target(int fd, off_t *end_io, size_t rcpt_index,
			  const char *addr)
{
	unsigned char rec[QUEUE_RECORD_HEADER + 4 + QUEUE_TEXT_MAX];
	size_t len = strnlen(addr, QUEUE_TEXT_MAX + 1);

	if (!text_ok(addr, 0) || rcpt_index >= QUEUE_RCPT_MAX) {
		errno = EINVAL;
		return -1;
	}
	rec[0] = QREC_TARGET_DONE;
	put_be32(rec + 1, (uint32_t)(4 + len));
	put_be32(rec + QUEUE_RECORD_HEADER, (uint32_t)rcpt_index);
	memcpy(rec + QUEUE_RECORD_HEADER + 4, addr, len);
	if (pwrite_all(fd, rec, QUEUE_RECORD_HEADER + 4 + len, *end_io) < 0)
		return -1;
	*end_io += (off_t)(QUEUE_RECORD_HEADER + 4 + len);
	return 0;
}

void queue_env_clear_rcpts(struct queue_env *env)
{
	for (size_t i = 0; i < env->rcpt_count; i++) {
		free(env->rcpts[i].addr);
		free(env->rcpts[i].orig);
	}
	free(env->rcpts);
	env->rcpts = NULL;
	env->rcpt_count = env->rcpt_alloc = 0;
}

/* The type of the record at r->pos: 1, 0 at the end of the file, -1. */
static int peek_type(struct reader *r, unsigned char *type_r)
{
	const unsigned char *p;
	int got = reader_get(r, 1, &p);

	if (got > 0)
		*type_r = p[0];
	return got;
}

/* R and O records from r->pos up to the M record or the limits. */
static int read_window(struct reader *r, size_t max_n, size_t max_bytes)
{
	unsigned char type;
	int got;

	r->phase = PHASE_RCPTS;
	for (;;) {
		r->rec_off = r->pos;
		if ((got = peek_type(r, &type)) <= 0)
			return got < 0 ? -1 : truncated(r, "next");
		if (type == QREC_MESSAGE)
			return 0;
		if (type == QREC_RCPT && r->env->rcpt_count > 0 &&
		    (r->env->rcpt_count >= max_n || r->rcpt_bytes >= max_bytes))
			return 0;
		if (type != QREC_RCPT && type != QREC_ORIG_RCPT &&
		    type != QREC_NOTIFY)
			return corrupt(r, "record 0x%02x among the recipients",
				       type);
		if (r->env->rcpt_count == 0 && type != QREC_RCPT)
			return corrupt(r, "recipients must start with R");
		if (read_record(r) < 0)
			return -1;
	}
}

int queue_file_read_rcpts(int fd, struct queue_env *env, off_t off,
			  size_t max_n, size_t max_bytes, off_t *next_r,
			  const char **error_r)
{
	struct reader *r = xcalloc(1, sizeof(*r));
	int ret;

	queue_env_clear_rcpts(env);
	r->fd = fd;
	r->env = env;
	r->pos = off;
	ret = read_window(r, max_n, max_bytes);
	if (ret < 0) {
		queue_env_clear_rcpts(env);
		memcpy(env->error, r->error, sizeof(env->error));
		*error_r = env->error;
		errno = r->err;
	} else {
		*next_r = r->pos;
	}
	free(r);
	return ret;
}
