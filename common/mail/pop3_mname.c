/*
 * pop3_mname - reading Maildir file names; see pop3_mname.h
 */
#include "mail/pop3_mname.h"

#include <string.h>

/* ",X=<digits>" fields of the base name. */
static void mname_sizes(const char *name, size_t base_len,
			struct pop3_mname *m)
{
	const char *p = memchr(name, ',', base_len);
	const char *end = name + base_len;

	while (p != NULL && p < end) {
		const char *q = p + 1;
		uint64_t v = 0;
		int digits = 0, ok = 1;
		char key = q < end ? *q : '\0';

		if (q + 1 < end && q[1] == '=' && (key == 'S' || key == 'W')) {
			for (q += 2; q < end && *q != ','; q++, digits++) {
				if (*q < '0' || *q > '9' || digits >= 19)
					ok = 0;
				else
					v = v * 10 + (uint64_t)(*q - '0');
			}
			if (ok && digits > 0 && key == 'S') {
				m->size = v;
				m->has_size = 1;
			} else if (ok && digits > 0) {
				m->vsize = v;
				m->has_vsize = 1;
			}
		}
		p = memchr(p + 1, ',', (size_t)(end - p - 1));
	}
}

int pop3_mname_parse(const char *name, struct pop3_mname *m)
{
	size_t len = strnlen(name, POP3_MNAME_MAX + 1);
	const char *colon;

	memset(m, 0, sizeof(*m));
	if (len == 0 || len > POP3_MNAME_MAX || name[0] == '.')
		return -1;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x21 || name[i] == '/' ||
		    (unsigned char)name[i] == 0x7f)
			return -1;
	colon = memchr(name, ':', len);
	m->base_len = colon != NULL ? (size_t)(colon - name) : len;
	if (m->base_len == 0)
		return -1;
	if (colon != NULL && strncmp(colon, ":2,", 3) == 0)
		m->flags = colon + 3;
	m->stamp = pop3_mname_stamp(name);
	mname_sizes(name, m->base_len, m);
	return 0;
}

int pop3_mname_add_flag(const char *name, char flag, struct str *out)
{
	struct pop3_mname m;
	const char *f;
	size_t fl;

	if (!((flag >= 'A' && flag <= 'Z') || (flag >= 'a' && flag <= 'z')) ||
	    pop3_mname_parse(name, &m) < 0)
		return -1;
	if (m.flags == NULL && name[m.base_len] != '\0')
		return -1;
	if (m.flags != NULL && strchr(m.flags, flag) != NULL)
		return 0;
	str_clear(out);
	if (str_append(out, name, m.base_len) < 0 ||
	    str_appends(out, ":2,") < 0)
		return -1;
	f = m.flags != NULL ? m.flags : "";
	fl = strlen(f);
	for (size_t i = 0; i <= fl; i++) {
		if (flag != '\0' && (i == fl ||
				      (unsigned char)f[i] > (unsigned char)flag)) {
			if (str_appendc(out, flag) < 0)
				return -1;
			flag = '\0';
		}
		if (i < fl && str_appendc(out, f[i]) < 0)
			return -1;
	}
	return out->len <= POP3_MNAME_MAX ? 1 : -1;
}

/* Leading decimal digits of p (at most max of them) into *v; their count. */
static size_t mname_digits(const char *p, size_t max, uint64_t *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < max && p[i] >= '0' && p[i] <= '9'; i++)
		*v = *v * 10 + (uint64_t)(p[i] - '0');
	return i;
}

uint64_t pop3_mname_stamp(const char *name)
{
	uint64_t secs, usecs = 0;
	size_t n = mname_digits(name, 12, &secs);

	/* Dovecot's and postern's "<secs>.M<usecs>P<pid>...": the micro-
	 * seconds are not zero-padded, so they must be compared as numbers */
	if (n > 0 && name[n] == '.' && name[n + 1] == 'M' &&
	    mname_digits(name + n + 2, 6, &usecs) == 0)
		usecs = 0;
	return secs * 1000000 + usecs;
}

int pop3_mname_cmp(const char *a, const char *b)
{
	uint64_t sa = pop3_mname_stamp(a), sb = pop3_mname_stamp(b);

	if (sa != sb)
		return sa < sb ? -1 : 1;
	return strcmp(a, b);
}

uint64_t pop3_crlf_size(const char *p, size_t n, int *prev_cr)
{
	uint64_t v = n;
	int cr = *prev_cr;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && !cr)
			v++;
		cr = p[i] == '\r';
	}
	*prev_cr = cr;
	return v;
}
