/*
 * maildir_name - Maildir file names and flags (see maildir_name.h)
 */
#include "mail/maildir_name.h"

#include <string.h>

#define SIZE_DIGITS_MAX 19	/* below 2^63: no overflow */

/* ",S=<digits>" and ",W=<digits>" among the base's comma fields. */
static void name_sizes(const char *name, size_t base_len,
		       struct maildir_name *m)
{
	const char *end = name + base_len;
	const char *p = memchr(name, ',', base_len);

	while (p != NULL) {
		const char *q = p + 1, *next;
		uint64_t v = 0;
		size_t digits = 0;
		int ok = 1;

		next = memchr(q, ',', (size_t)(end - q));
		if (next == NULL)
			next = end;
		if (next - q >= 3 && (q[0] == 'S' || q[0] == 'W') &&
		    q[1] == '=') {
			for (const char *d = q + 2; d < next; d++, digits++) {
				if (*d < '0' || *d > '9' ||
				    digits >= SIZE_DIGITS_MAX)
					ok = 0;
				else
					v = v * 10 + (uint64_t)(*d - '0');
			}
			if (ok && q[0] == 'S') {
				m->size = v;
				m->has_size = 1;
			} else if (ok) {
				m->vsize = v;
				m->has_vsize = 1;
			}
		}
		p = next < end ? next : NULL;
	}
}

maildir_flags maildir_flags_parse(const char *s, size_t n)
{
	maildir_flags f = 0;

	for (size_t i = 0; i < n; i++)
		f |= MAILDIR_FLAG(s[i]);
	return f;
}

int maildir_name_parse(const char *name, struct maildir_name *m)
{
	size_t len = strnlen(name, MAILDIR_NAME_MAX + 1);
	const char *colon;

	memset(m, 0, sizeof(*m));
	if (len == 0 || len > MAILDIR_NAME_MAX || name[0] == '.')
		return -1;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x21 || name[i] == '/' ||
		    (unsigned char)name[i] == 0x7f)
			return -1;
	colon = memchr(name, ':', len);
	m->base_len = colon != NULL ? (size_t)(colon - name) : len;
	if (m->base_len == 0)
		return -1;
	if (colon != NULL) {
		m->info = colon + 1;
		if (m->info[0] == '2' && m->info[1] == ',') {
			const char *f = m->info + 2;

			m->has_flags = 1;
			m->flags = maildir_flags_parse(f, strcspn(f, ","));
		}
	}
	name_sizes(name, m->base_len, m);
	return 0;
}

int maildir_flags_format(maildir_flags flags, struct str *out)
{
	for (int c = 'A'; c <= 'z'; c++)
		if ((flags & MAILDIR_FLAG(c)) != 0 && str_appendc(out, (char)c) < 0)
			return -1;
	return 0;
}

int maildir_name_set_flags(const char *name, maildir_flags add,
			   maildir_flags remove, struct str *out)
{
	unsigned char other[256] = { 0 };
	struct maildir_name m;
	const char *f = "", *extra = "";
	maildir_flags flags;
	size_t flen = 0;

	str_clear(out);
	if (maildir_name_parse(name, &m) < 0 ||
	    (m.info != NULL && !m.has_flags))
		return -1;
	if (m.has_flags) {
		f = m.info + 2;
		flen = strcspn(f, ",");
		extra = f + flen;
	}
	for (size_t i = 0; i < flen; i++)
		if (MAILDIR_FLAG(f[i]) == 0)
			other[(unsigned char)f[i]] = 1;
	flags = (m.flags | add) & ~remove;
	if (str_append(out, name, m.base_len) < 0 ||
	    str_appends(out, ":2,") < 0)
		return -1;
	/* letters and other bytes, each once, in ASCII order */
	for (int c = 1; c < 256; c++)
		if ((other[c] || (flags & MAILDIR_FLAG(c)) != 0) &&
		    str_appendc(out, (char)c) < 0)
			return -1;
	if (str_appends(out, extra) < 0 || out->len > MAILDIR_NAME_MAX) {
		str_clear(out);
		return -1;
	}
	return strcmp(str_c(out), name) != 0;
}

/* Leading decimal digits of p (at most max of them) into *v; their count. */
static size_t name_digits(const char *p, size_t max, uint64_t *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < max && p[i] >= '0' && p[i] <= '9'; i++)
		*v = *v * 10 + (uint64_t)(p[i] - '0');
	return i;
}

uint64_t maildir_name_stamp(const char *name)
{
	uint64_t secs, usecs = 0;
	size_t n = name_digits(name, 12, &secs);

	/* "<secs>.M<usecs>P<pid>...": the microseconds are not zero-padded,
	 * so they are compared as numbers */
	if (n > 0 && name[n] == '.' && name[n + 1] == 'M' &&
	    name_digits(name + n + 2, 6, &usecs) == 0)
		usecs = 0;
	return secs * 1000000 + usecs;
}

int maildir_name_cmp(const char *a, const char *b)
{
	uint64_t sa = maildir_name_stamp(a), sb = maildir_name_stamp(b);

	if (sa != sb)
		return sa < sb ? -1 : 1;
	return strcmp(a, b);
}

int maildir_name_host_escape(const char *host, struct str *out)
{
	int r = 0;

	for (const char *p = host; *p != '\0' && r == 0; p++) {
		if (*p == '/')
			r = str_appends(out, "\\057");
		else if (*p == ':')
			r = str_appends(out, "\\072");
		else
			r = str_appendc(out, *p);
	}
	return r;
}

int maildir_name_unique(struct str *out, const struct timeval *tv, pid_t pid,
			unsigned long n, const char *host)
{
	return str_appendf(out, "%lld.M%ldP%ldQ%lu.%s", (long long)tv->tv_sec,
			   (long)tv->tv_usec, (long)pid, n, host);
}

int maildir_name_sizes(struct str *out, uint64_t size, uint64_t vsize)
{
	return str_appendf(out, ",S=%llu,W=%llu", (unsigned long long)size,
			   (unsigned long long)vsize);
}
