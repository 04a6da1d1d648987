/*
 * local_loop - the header section and the Delivered-To: loop check of
 * postern-local (see local_loop.h)
 */
#include "local_loop.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define HEADER_CHUNK 8192

int local_loop_header_end(const char *p, size_t len, size_t *end_r)
{
	size_t line = 0;

	while (line < len) {
		const char *nl = memchr(p + line, '\n', len - line);

		if (nl == NULL)
			break;
		if (nl == p + line ||
		    (nl == p + line + 1 && p[line] == '\r')) {
			*end_r = (size_t)(nl - p) + 1;
			return 1;
		}
		line = (size_t)(nl - p) + 1;
	}
	*end_r = len;
	return 0;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Compare the unfolded value v[0..len) (blanks trimmed, one <> pair
 * removed) with rcpt, ignoring ASCII case. */
static int value_matches(const char *v, size_t len, const char *rcpt)
{
	size_t rlen = strlen(rcpt);

	while (len > 0 && is_blank(*v)) {
		v++;
		len--;
	}
	while (len > 0 && is_blank(v[len - 1]))
		len--;
	if (len >= 2 && v[0] == '<' && v[len - 1] == '>') {
		v++;
		len -= 2;
	}
	return len == rlen && strncasecmp(v, rcpt, len) == 0;
}

/* The end of the field that starts at p[start]: past its last folded
 * continuation line (lines beginning with a blank). */
static size_t field_end(const char *p, size_t len, size_t start)
{
	size_t pos = start;

	for (;;) {
		const char *nl = memchr(p + pos, '\n', len - pos);

		if (nl == NULL)
			return len;
		pos = (size_t)(nl - p) + 1;
		if (pos >= len || (p[pos] != ' ' && p[pos] != '\t'))
			return pos;
	}
}

/* Does the field p[0..len) (name, colon, folded value) match? */
static int field_is_delivered_to(const char *p, size_t len, const char *rcpt)
{
	static const char name[] = "delivered-to";
	size_t nlen = sizeof(name) - 1, vlen, i;
	char v[1024];

	if (len <= nlen || strncasecmp(p, name, nlen) != 0)
		return 0;
	for (i = nlen; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	if (i >= len || p[i] != ':')
		return 0;
	/* unfold: drop CR and LF, keep the blanks that follow them */
	for (vlen = 0, i++; i < len && vlen < sizeof(v); i++)
		if (p[i] != '\r' && p[i] != '\n')
			v[vlen++] = p[i];
	if (vlen == sizeof(v))
		return 0;	/* longer than any address: not a match */
	return value_matches(v, vlen, rcpt);
}

int local_loop_has_delivered_to(const char *hdr, size_t len, const char *rcpt)
{
	size_t pos = 0, end;

	local_loop_header_end(hdr, len, &len);
	while (pos < len) {
		if (hdr[pos] == '\n' || (hdr[pos] == '\r' && pos + 1 < len &&
					 hdr[pos + 1] == '\n'))
			break;	/* the empty line */
		end = field_end(hdr, len, pos);
		if (field_is_delivered_to(hdr + pos, end - pos, rcpt))
			return 1;
		pos = end;
	}
	return 0;
}

int local_loop_read_header(int fd, uint64_t offset, uint64_t size,
			struct str *out)
{
	uint64_t want = size < LOCAL_LOOP_HEADER_MAX ? size : LOCAL_LOOP_HEADER_MAX;
	size_t end;

	str_clear(out);
	while (out->len < want) {
		size_t n = want - out->len < HEADER_CHUNK ?
			   (size_t)(want - out->len) : HEADER_CHUNK;
		ssize_t got;

		if (str_reserve(out, n) < 0)
			return -1;
		got = pread(fd, out->s + out->len, n,
			    (off_t)(offset + out->len));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0) {
			errno = ENODATA;
			return -1;
		}
		out->len += (size_t)got;
		out->s[out->len] = '\0';
		if (local_loop_header_end(out->s, out->len, &end))
			break;
	}
	return 0;
}
