/*
 * queue_id - names of queue files, made from the file's inode and a time
 *
 * The format and the uniqueness argument are in queue_id.h. The encoding is
 * plain positional base 32: the seconds and microseconds in fixed widths
 * (leading zeros kept), the inode in as few digits as it needs.
 */
#include "proto/queue_id.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define SEC_DIGITS 7
#define USEC_DIGITS 4
#define TIME_DIGITS (SEC_DIGITS + USEC_DIGITS)
#define INO_DIGITS_MAX (QUEUE_ID_MAX - TIME_DIGITS)
/* 32^7: the first second that no longer fits in seven digits */
#define SEC_LIMIT ((uint64_t)1 << (5 * SEC_DIGITS))

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* The value of one id character, or -1 if it is not in the alphabet. */
static int digit_value(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p != NULL ? (int)(p - alphabet) : -1;
}

/* Write v as exactly width base-32 digits into out. */
static void encode_fixed(uint64_t v, char *out, size_t width)
{
	size_t i;

	for (i = width; i > 0; i--) {
		out[i - 1] = alphabet[v & 31];
		v >>= 5;
	}
}

/* Write v (> 0) in as few base-32 digits as it needs; returns the count. */
static size_t encode_min(uint64_t v, char *out)
{
	char tmp[INO_DIGITS_MAX];
	size_t n = 0, i;

	while (v != 0 && n < sizeof(tmp)) {
		tmp[n++] = alphabet[v & 31];
		v >>= 5;
	}
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

int queue_id_make(ino_t ino, const struct timespec *t, char *buf,
		  size_t size)
{
	char id[QUEUE_ID_SIZE];
	size_t n;

	if (ino == 0 || t->tv_sec < 0 || (uint64_t)t->tv_sec >= SEC_LIMIT ||
	    t->tv_nsec < 0 || t->tv_nsec >= 1000000000L) {
		errno = EINVAL;
		return -1;
	}
	encode_fixed((uint64_t)t->tv_sec, id, SEC_DIGITS);
	encode_fixed((uint64_t)t->tv_nsec / 1000, id + SEC_DIGITS,
		     USEC_DIGITS);
	n = TIME_DIGITS + encode_min((uint64_t)ino, id + TIME_DIGITS);
	id[n] = '\0';
	if (n + 1 > size) {
		if (size > 0)
			buf[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, id, n + 1);
	return 0;
}

/* Decode len digits of s into *v_r; -1 on a character outside the
 * alphabet or a value that does not fit 64 bits. */
static int decode(const char *s, size_t len, uint64_t *v_r)
{
	uint64_t v = 0;
	size_t i;
	int d;

	for (i = 0; i < len; i++) {
		d = digit_value(s[i]);
		if (d < 0 || v > (UINT64_MAX >> 5))
			return -1;
		v = (v << 5) | (uint64_t)d;
	}
	*v_r = v;
	return 0;
}

int queue_id_parse(const char *id, ino_t *ino_r, struct timespec *t_r)
{
	uint64_t sec, usec, ino;
	size_t len = strnlen(id, QUEUE_ID_MAX + 1);

	if (len < QUEUE_ID_MIN || len > QUEUE_ID_MAX ||
	    id[TIME_DIGITS] == '0' ||
	    decode(id, SEC_DIGITS, &sec) < 0 ||
	    decode(id + SEC_DIGITS, USEC_DIGITS, &usec) < 0 ||
	    usec >= 1000000 ||
	    decode(id + TIME_DIGITS, len - TIME_DIGITS, &ino) < 0 ||
	    (uint64_t)(ino_t)ino != ino || (uint64_t)(time_t)sec != sec) {
		errno = EINVAL;
		return -1;
	}
	if (ino_r != NULL)
		*ino_r = (ino_t)ino;
	if (t_r != NULL) {
		t_r->tv_sec = (time_t)sec;
		t_r->tv_nsec = (long)(usec * 1000);
	}
	return 0;
}

int queue_id_valid(const char *id)
{
	return queue_id_parse(id, NULL, NULL) == 0;
}
