/*
 * mail_header - header fields (see mail_header.h)
 */
#include "mail/mail_header.h"

#include <string.h>
#include <strings.h>

#include "util/str.h"

void mail_header_iter_init(struct mail_header_iter *it, const char *hdr,
			   size_t len)
{
	it->p = hdr;
	it->len = len;
	it->pos = 0;
}

/* The end of the line at pos: the index past its LF, or len. */
static size_t line_next(const char *p, size_t len, size_t pos)
{
	const char *lf = memchr(p + pos, '\n', len - pos);

	return lf == NULL ? len : (size_t)(lf - p) + 1;
}

static int line_is_empty(const char *p, size_t len, size_t pos)
{
	return p[pos] == '\n' ||
	       (p[pos] == '\r' && pos + 1 < len && p[pos + 1] == '\n');
}

/* The value's end: drop the final LF or CRLF of [start, end). */
static size_t trim_line_end(const char *p, size_t start, size_t end)
{
	if (end > start && p[end - 1] == '\n') {
		end--;
		if (end > start && p[end - 1] == '\r')
			end--;
	}
	return end;
}

int mail_header_iter_next(struct mail_header_iter *it,
			  struct mail_header_field *f)
{
	const char *p = it->p;

	while (it->pos < it->len) {
		size_t start = it->pos, end, colon, name_end, v;
		const char *c;

		if (line_is_empty(p, it->len, start)) {
			it->pos = it->len;	/* end of the header */
			return 0;
		}
		end = line_next(p, it->len, start);
		while (end < it->len && (p[end] == ' ' || p[end] == '\t'))
			end = line_next(p, it->len, end);
		it->pos = end;
		if (p[start] == ' ' || p[start] == '\t')
			continue;	/* continuation without a field */
		c = memchr(p + start, ':', end - start);
		if (c == NULL || memchr(p + start, '\n',
					(size_t)(c - (p + start))) != NULL)
			continue;	/* no colon on the first line */
		colon = (size_t)(c - p);
		name_end = colon;
		while (name_end > start &&
		       (p[name_end - 1] == ' ' || p[name_end - 1] == '\t'))
			name_end--;
		if (name_end == start)
			continue;
		v = colon + 1;
		while (v < end && (p[v] == ' ' || p[v] == '\t'))
			v++;
		f->name = p + start;
		f->name_len = name_end - start;
		f->value = p + v;
		f->value_len = trim_line_end(p, v, end) - v;
		f->field = p + start;
		f->field_len = end - start;
		return 1;
	}
	return 0;
}

int mail_header_name_is(const struct mail_header_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->name_len == n && strncasecmp(f->name, name, n) == 0;
}

int mail_header_find(const char *hdr, size_t len, const char *name,
		     struct mail_header_field *f)
{
	struct mail_header_iter it;

	mail_header_iter_init(&it, hdr, len);
	while (mail_header_iter_next(&it, f))
		if (mail_header_name_is(f, name))
			return 1;
	return 0;
}

int mail_header_unfold(const char *v, size_t n, struct str *out)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && v[j] != '\r' && v[j] != '\n')
			j++;
		if (str_append(out, v + i, j - i) < 0)
			return -1;
		i = j;
		while (i < n && (v[i] == '\r' || v[i] == '\n'))
			i++;
	}
	return 0;
}
