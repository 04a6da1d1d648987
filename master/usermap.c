/*
 * usermap - the text sources of the user and alias maps (etc/passwd,
 * etc/aliases), their cdb builds, and address checks; see usermap.h
 *
 * Every line of the file is kept, parsed or not, so that an edit made with
 * "postern user" or "postern alias" changes only the line it is about.
 * The parser is bounded: the file size (USERMAP_FILE_MAX, by the reader),
 * the targets of an alias (USERMAP_TARGETS_MAX), the address lengths.
 */
#include "usermap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mail/conf.h"
#include "util/alloc.h"
#include "util/cdbmap.h"
#include "util/fileio.h"
#include "util/str.h"

void usermap_init(struct usermap *m, enum usermap_kind kind)
{
	m->kind = kind;
	m->v = NULL;
	m->n = 0;
	m->cap = 0;
}

static void line_free(struct usermap_line *l)
{
	free(l->key);
	free(l->value);
	free(l->extra);
	free(l->raw);
}

void usermap_free(struct usermap *m)
{
	for (size_t i = 0; i < m->n; i++)
		line_free(&m->v[i]);
	free(m->v);
	m->v = NULL;
	m->n = 0;
	m->cap = 0;
}

static struct usermap_line *line_new(struct usermap *m)
{
	struct usermap_line *l;

	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->v = xreallocarray(m->v, m->cap, sizeof(*m->v));
	}
	l = &m->v[m->n++];
	memset(l, 0, sizeof(*l));
	return l;
}

/* ---- addresses ---------------------------------------------------- */

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static int local_char(char c)
{
	return is_alnum(c) || (c != '\0' && strchr(".!#$&'*+=?^_`{|}~-", c));
}

static int label_check(const char *p, size_t n, const char **error_r)
{
	if (n == 0) {
		*error_r = "domain has an empty label";
		return -1;
	}
	if (n > 63) {
		*error_r = "domain label longer than 63 characters";
		return -1;
	}
	if (p[0] == '-' || p[n - 1] == '-') {
		*error_r = "domain label starts or ends with '-'";
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(p[i]) && p[i] != '-') {
			*error_r = "character not allowed in domain";
			return -1;
		}
	return 0;
}

int usermap_domain_check(const char *domain, const char **error_r)
{
	size_t len = strlen(domain), start = 0;

	if (len == 0) {
		*error_r = "empty domain";
		return -1;
	}
	if (len > USERMAP_DOMAIN_MAX) {
		*error_r = "domain longer than 253 characters";
		return -1;
	}
	for (size_t i = 0; i <= len; i++) {
		if (domain[i] != '.' && domain[i] != '\0')
			continue;
		if (label_check(domain + start, i - start, error_r) < 0)
			return -1;
		start = i + 1;
	}
	return 0;
}

static int local_check(const char *p, size_t n, const char **error_r)
{
	if (n == 0) {
		*error_r = "empty local part (expected local@domain)";
		return -1;
	}
	if (n > USERMAP_LOCAL_MAX) {
		*error_r = "local part longer than 64 characters";
		return -1;
	}
	if (p[0] == '.' || p[n - 1] == '.') {
		*error_r = "local part starts or ends with '.'";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '/') {
			*error_r = "'/' is not allowed in an address";
			return -1;
		}
		if (!local_char(p[i])) {
			*error_r = "character not allowed in local part";
			return -1;
		}
		if (p[i] == '.' && p[i + 1] == '.') {
			*error_r = "local part contains \"..\"";
			return -1;
		}
	}
	return 0;
}

int usermap_addr_check(const char *addr, struct str *out,
		       const char **error_r)
{
	size_t len = strlen(addr);
	const char *at;

	if (len == 0) {
		*error_r = "empty address";
		return -1;
	}
	if (len > USERMAP_ADDR_MAX) {
		*error_r = "address longer than 254 characters";
		return -1;
	}
	at = strchr(addr, '@');
	if (at == NULL) {
		*error_r = "missing '@' (expected local@domain)";
		return -1;
	}
	if (local_check(addr, (size_t)(at - addr), error_r) < 0 ||
	    usermap_domain_check(at + 1, error_r) < 0)
		return -1;
	str_clear(out);
	for (size_t i = 0; i < len; i++)
		if (str_appendc(out, lower(addr[i])) < 0) {
			*error_r = "address too long";
			return -1;
		}
	return 0;
}

int usermap_domain_listed(const char *addr, const struct conf_list *domains)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL)
		return 0;
	for (size_t i = 0; i < domains->n; i++)
		if (cstr_case_eq(at + 1, domains->v[i]))
			return 1;
	return 0;
}

/* ---- parsing ------------------------------------------------------- */

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int line_is_comment(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && is_blank(p[i]))
		i++;
	return i == n || p[i] == '#';
}

static int has_control(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 1;
	}
	return 0;
}

/* Check the address p[0..n) into key (lower case); why gets the reason. */
static int key_check(const char *p, size_t n, char **key_r,
		     struct str *why)
{
	struct str addr = STR_INIT(0), out = STR_INIT(0);
	const char *error;
	int r = 0;

	str_set(&addr, p, n);
	if (usermap_addr_check(str_c(&addr), &out, &error) < 0) {
		str_appendf(why, "bad address: %s", error);
		r = -1;
	} else {
		*key_r = str_steal(&out);
	}
	str_free(&addr);
	str_free(&out);
	return r;
}

static int passwd_line(struct usermap *m, const char *p, size_t n,
		       struct str *why)
{
	const char *c1 = memchr(p, ':', n), *pw, *c2;
	size_t pwlen;
	char *key = NULL;

	if (c1 == NULL) {
		str_appends(why, "missing ':' (expected user:password)");
		return -1;
	}
	if (key_check(p, (size_t)(c1 - p), &key, why) < 0)
		return -1;
	pw = c1 + 1;
	c2 = memchr(pw, ':', n - (size_t)(pw - p));
	pwlen = c2 ? (size_t)(c2 - pw) : n - (size_t)(pw - p);
	if (pwlen == 0) {
		free(key);
		str_appends(why, "empty password field");
		return -1;
	}
	struct usermap_line *l = line_new(m);
	l->key = key;
	l->value = xstrndup(pw, pwlen);
	l->extra = c2 ? xstrndup(c2, n - (size_t)(c2 - p)) : xstrdup("");
	return 0;
}

/* Trim blanks around p[0..*n). */
static const char *trim(const char *p, size_t *n)
{
	while (*n > 0 && is_blank(p[0])) {
		p++;
		(*n)--;
	}
	while (*n > 0 && is_blank(p[*n - 1]))
		(*n)--;
	return p;
}

/* "t1, t2" -> "t1,t2" in value, each target checked. */
static int targets_parse(const char *key, const char *p, size_t n,
			 struct str *value, struct str *why)
{
	size_t count = 0;

	for (;;) {
		const char *comma = memchr(p, ',', n);
		size_t len = comma ? (size_t)(comma - p) : n;
		const char *t = trim(p, &len);
		char *target = NULL;

		if (len == 0) {
			str_appends(why, "empty target");
			return -1;
		}
		if (++count > USERMAP_TARGETS_MAX) {
			str_appendf(why, "more than %u targets",
				    USERMAP_TARGETS_MAX);
			return -1;
		}
		if (key_check(t, len, &target, why) < 0)
			return -1;
		if (strcmp(target, key) == 0) {
			free(target);
			str_appends(why, "alias has itself as a target");
			return -1;
		}
		if (value->len > 0)
			str_appendc(value, ',');
		str_appends(value, target);
		free(target);
		if (comma == NULL)
			return 0;
		n -= (size_t)(comma + 1 - p);
		p = comma + 1;
	}
}

static int aliases_line(struct usermap *m, const char *p, size_t n,
			struct str *why)
{
	const char *colon = memchr(p, ':', n);
	struct str value = STR_INIT(0);
	size_t klen;
	const char *k;
	char *key = NULL;

	if (colon == NULL) {
		str_appends(why, "missing ':' (expected alias: target, ...)");
		return -1;
	}
	klen = (size_t)(colon - p);
	k = trim(p, &klen);
	if (key_check(k, klen, &key, why) < 0)
		return -1;
	if (targets_parse(key, colon + 1, n - (size_t)(colon + 1 - p),
			  &value, why) < 0) {
		free(key);
		str_free(&value);
		return -1;
	}
	struct usermap_line *l = line_new(m);
	l->key = key;
	l->value = str_steal(&value);
	return 0;
}

static int parse_line(struct usermap *m, const char *p, size_t n,
		      unsigned lineno, struct str *why)
{
	struct usermap_line *l;
	int r;

	if (memchr(p, '\0', n) != NULL || has_control(p, n)) {
		str_appends(why, "control character in line");
		return -1;
	}
	if (line_is_comment(p, n)) {
		l = line_new(m);
	} else {
		r = m->kind == USERMAP_PASSWD ? passwd_line(m, p, n, why)
					      : aliases_line(m, p, n, why);
		if (r < 0)
			return -1;
		l = &m->v[m->n - 1];
	}
	l->raw = xstrndup(p, n);
	l->lineno = lineno;
	return 0;
}

static int line_cmp(const void *a, const void *b)
{
	const struct usermap_line *x = *(const struct usermap_line *const *)a;
	const struct usermap_line *y = *(const struct usermap_line *const *)b;
	int r = strcmp(x->key, y->key);

	if (r != 0)
		return r;
	return x->lineno < y->lineno ? -1 : x->lineno > y->lineno;
}

const struct usermap_line **usermap_sorted(const struct usermap *m,
					   size_t *n_r)
{
	const struct usermap_line **v = xreallocarray(NULL, m->n + 1,
						       sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].key != NULL)
			v[n++] = &m->v[i];
	qsort(v, n, sizeof(*v), line_cmp);
	*n_r = n;
	return v;
}

static int duplicates_report(const struct usermap *m, const char *file,
			     struct str *errors)
{
	size_t n;
	const struct usermap_line **v = usermap_sorted(m, &n);
	size_t first = 0;
	int nerr = 0;

	for (size_t i = 1; i < n; i++) {
		if (strcmp(v[first]->key, v[i]->key) != 0) {
			first = i;
			continue;
		}
		str_appendf(errors, "%s:%u: duplicate entry for %s "
			    "(first on line %u)\n", file, v[i]->lineno,
			    v[i]->key, v[first]->lineno);
		nerr++;
	}
	free(v);
	return nerr;
}

int usermap_parse(struct usermap *m, const char *file, const char *buf,
		  size_t len, struct str *errors)
{
	struct str why = STR_INIT(0);
	size_t pos = 0;
	unsigned lineno = 0;
	int nerr = 0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len, n = end - pos;

		lineno++;
		if (n > 0 && buf[pos + n - 1] == '\r')
			n--;
		str_clear(&why);
		if (parse_line(m, buf + pos, n, lineno, &why) < 0) {
			str_appendf(errors, "%s:%u: %s\n", file, lineno,
				    str_c(&why));
			nerr++;
		}
		pos = nl ? end + 1 : len;
	}
	str_free(&why);
	return nerr + duplicates_report(m, file, errors);
}

int usermap_load(struct usermap *m, const char *path, const char *file,
		 struct str *errors)
{
	struct str buf = STR_INIT(0);
	int r;

	if (file_read_all(path, &buf, USERMAP_FILE_MAX) < 0) {
		int e = errno;
		str_free(&buf);
		if (e == ENOENT)
			return 0;
		str_appendf(errors, "%s: %s\n", file, e == EFBIG ?
			    "file too large" : strerror(e));
		return 1;
	}
	r = usermap_parse(m, file, buf.s ? buf.s : "", buf.len, errors);
	str_free(&buf);
	return r;
}

/* ---- editing and writing ------------------------------------------ */

static struct usermap_line *find(const struct usermap *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].key != NULL && strcmp(m->v[i].key, key) == 0)
			return &m->v[i];
	return NULL;
}

const struct usermap_line *usermap_get(const struct usermap *m,
				       const char *key)
{
	return find(m, key);
}

int usermap_set(struct usermap *m, const char *key, const char *value)
{
	struct usermap_line *l = find(m, key);
	int replaced = l != NULL;

	if (l == NULL) {
		l = line_new(m);
		l->key = xstrdup(key);
		if (m->kind == USERMAP_PASSWD)
			l->extra = xstrdup("");
	}
	free(l->value);
	l->value = xstrdup(value);
	free(l->raw);
	l->raw = NULL;
	return replaced;
}

int usermap_del(struct usermap *m, const char *key)
{
	struct usermap_line *l = find(m, key);
	size_t i;

	if (l == NULL)
		return 0;
	i = (size_t)(l - m->v);
	line_free(l);
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
	m->n--;
	return 1;
}

static void line_format(const struct usermap *m,
			const struct usermap_line *l, struct str *out)
{
	if (l->raw != NULL) {
		str_appends(out, l->raw);
		return;
	}
	str_appends(out, l->key);
	if (m->kind == USERMAP_PASSWD) {
		str_appendc(out, ':');
		str_appends(out, l->value);
		str_appends(out, l->extra ? l->extra : "");
		return;
	}
	str_appends(out, ": ");
	for (const char *p = l->value; *p != '\0'; p++) {
		str_appendc(out, *p);
		if (*p == ',')
			str_appendc(out, ' ');
	}
}

void usermap_format(const struct usermap *m, struct str *out)
{
	for (size_t i = 0; i < m->n; i++) {
		line_format(m, &m->v[i], out);
		str_appendc(out, '\n');
	}
}

int usermap_build_cdb(const struct usermap *m, const char *path,
		      mode_t mode, int with_values, const char **error_r)
{
	struct cdbmap_writer w;

	if (cdbmap_build_begin(&w, path, mode, error_r) < 0)
		return -1;
	for (size_t i = 0; i < m->n; i++) {
		const struct usermap_line *l = &m->v[i];
		const char *val = with_values ? l->value : "";

		if (l->key == NULL)
			continue;
		if (cdbmap_build_add(&w, l->key, strlen(l->key), val,
				     strlen(val)) < 0) {
			*error_r = strerror(errno);
			cdbmap_build_abort(&w);
			return -1;
		}
	}
	return cdbmap_build_commit(&w, error_r);
}
