/*
 * pop3_handover - the login hand-over line; see pop3_handover.h
 */
#include "proto/pop3_handover.h"

#include <string.h>

static int field_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strpbrk(s, "\t\r\n") == NULL;
}

int pop3_handover_format(struct str *out, const char *address,
			 const char *ip, int tls)
{
	str_clear(out);
	if (!field_ok(address, POP3_ADDRESS_MAX) ||
	    !field_ok(ip, POP3_IP_MAX - 1))
		return -1;
	return str_appendf(out, "LOGIN\t%s\t%s\t%d\n", address, ip,
			   tls ? 1 : 0);
}

/* Copy p[0..n) into dst[size] as a C string; -1 if empty or too long. */
static int copy_field(char *dst, size_t size, const char *p, size_t n)
{
	if (n == 0 || n >= size || memchr(p, '\0', n) != NULL ||
	    memchr(p, '\r', n) != NULL)
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

int pop3_handover_parse(const char *p, size_t n, struct pop3_handover *h,
			size_t *used_r)
{
	const char *lf, *f[4];
	size_t flen[4], len, i = 0, k;

	memset(h, 0, sizeof(*h));
	lf = memchr(p, '\n', n < POP3_HANDOVER_LINE_MAX ? n :
		    POP3_HANDOVER_LINE_MAX);
	if (lf == NULL)
		return -1;
	len = (size_t)(lf - p);
	for (k = 0; k < 4; k++) {
		const char *tab = memchr(p + i, '\t', len - i);
		size_t end = tab != NULL ? (size_t)(tab - p) : len;

		if ((tab == NULL) != (k == 3))
			return -1;
		f[k] = p + i;
		flen[k] = end - i;
		i = end + 1;
	}
	if (flen[0] != 5 || memcmp(f[0], "LOGIN", 5) != 0 || flen[3] != 1 ||
	    (f[3][0] != '0' && f[3][0] != '1') ||
	    copy_field(h->address, sizeof(h->address), f[1], flen[1]) < 0 ||
	    copy_field(h->ip, sizeof(h->ip), f[2], flen[2]) < 0)
		return -1;
	h->tls = f[3][0] == '1';
	*used_r = len + 1;
	return 0;
}
