/*
 * resolve - recipient resolution through the alias and user maps (see
 * resolve.h for the rules)
 */
#include "resolve.h"

#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "mail/mailbox_path.h"
#include "util/alloc.h"

#define REASON_UNKNOWN "5.1.1 user unknown"
#define REASON_BADADDR "5.1.3 bad recipient address"
#define REASON_LOOP "5.4.6 alias loop or aliases nested too deep"
#define REASON_TOOMANY "5.3.0 alias expands to too many addresses"

struct resolving {
	const struct resolve_ops *ops;
	struct resolve_result *r;
	int overflow;
	const char *error;	/* a map could not be read */
};

void resolve_result_init(struct resolve_result *r)
{
	memset(r, 0, sizeof(*r));
}

static void result_clear(struct resolve_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].addr);
		free(r->v[i].mailbox);
	}
	r->n = 0;
}

void resolve_result_free(struct resolve_result *r)
{
	result_clear(r);
	free(r->v);
	resolve_result_init(r);
}

static void add_target(struct resolving *rs, enum resolve_kind kind,
		       const char *addr, const char *mailbox,
		       const char *reason)
{
	struct resolve_result *r = rs->r;
	struct resolve_target *t;

	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].kind == kind && strcmp(r->v[i].addr, addr) == 0)
			return;
	if (r->n == RESOLVE_TARGETS_MAX) {
		rs->overflow = 1;
		return;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 4;
		r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
	}
	t = &r->v[r->n++];
	t->kind = kind;
	t->addr = xstrdup(addr);
	t->mailbox = mailbox ? xstrdup(mailbox) : NULL;
	t->reason = reason;
}

static void lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static void resolve_addr(struct resolving *rs, const char *text, int depth);

/* Resolve each target of the alias value "t1, t2,...". */
static void expand(struct resolving *rs, const char *value, int depth)
{
	const char *p = value;

	while (*p != '\0' && rs->error == NULL && !rs->overflow) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *one;

		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len > 0) {
			one = xstrndup(p, len);
			resolve_addr(rs, one, depth);
			free(one);
		}
		p = end ? end + 1 : p + len;
		if (end == NULL)
			break;
	}
}

/* Look key up in map: 1 found, 0 not, -1 error (rs->error set). */
static int lookup(struct resolving *rs, enum resolve_map map,
		  const char *key, struct str *value)
{
	int r = rs->ops->lookup(rs->ops->arg, map, key, value);

	if (r < 0)
		rs->error = map == RESOLVE_MAP_ALIASES ?
			    "cannot read the alias map" :
			    "cannot read the user map";
	return r;
}

/* The user user_key was found for addr: its Maildir (mailbox_path.h). */
static void local_target(struct resolving *rs, const char *addr,
			 const char *user_key, struct str *box)
{
	struct mailbox_path mp;
	const char *error;

	if (mailbox_path_from_addr(user_key, &mp, &error) < 0) {
		add_target(rs, RESOLVE_FAILED, addr, NULL, REASON_BADADDR);
		return;
	}
	mailbox_path_relative(&mp, box);
	add_target(rs, RESOLVE_LOCAL, addr, str_c(box), NULL);
}

static void resolve_local(struct resolving *rs, const char *local,
			  const char *domain, int depth)
{
	struct str key = STR_INIT(0), base = STR_INIT(0), box = STR_INIT(0);
	struct str value = STR_INIT(0);
	const char *ext;
	size_t base_len;
	const char *keys[2];
	int found = 0;

	str_appendf(&key, "%s@%s", local, domain);
	lower(key.s);
	keys[0] = str_c(&key);
	keys[1] = NULL;
	if (addr_split_extension(local, strlen(local), '+', &base_len, &ext)) {
		str_append(&base, key.s, base_len);
		str_appendf(&base, "@%s", domain);
		keys[1] = str_c(&base);
	}
	for (int i = 0; i < 2 && keys[i] != NULL && !found; i++) {
		int r = lookup(rs, RESOLVE_MAP_ALIASES, keys[i], &value);

		if (r > 0) {
			expand(rs, str_c(&value), depth + 1);
			found = 1;
		} else if (r == 0 &&
			   (r = lookup(rs, RESOLVE_MAP_USERS, keys[i],
				       &value)) > 0) {
			local_target(rs, keys[0], keys[i], &box);
			found = 1;
		}
		if (r < 0)
			found = 1;
	}
	if (!found)
		add_target(rs, RESOLVE_FAILED, keys[0], NULL, REASON_UNKNOWN);
	str_free(&key);
	str_free(&base);
	str_free(&box);
	str_free(&value);
}

static void resolve_addr(struct resolving *rs, const char *text, int depth)
{
	struct addr a;
	const char *error;

	if (rs->error != NULL || rs->overflow)
		return;
	if (depth > RESOLVE_DEPTH_MAX) {
		add_target(rs, RESOLVE_FAILED, text, NULL, REASON_LOOP);
		return;
	}
	if (addr_parse_plain(text, ADDR_UTF8, &a, &error) < 0 ||
	    a.is_null || a.domain_len == 0) {
		add_target(rs, RESOLVE_FAILED, text, NULL, REASON_BADADDR);
		return;
	}
	if (!rs->ops->is_local(rs->ops->arg, a.domain)) {
		add_target(rs, RESOLVE_REMOTE, text, NULL, NULL);
		return;
	}
	resolve_local(rs, a.local, a.domain, depth);
}

int resolve_rcpt(const struct resolve_ops *ops, const char *rcpt,
		 struct resolve_result *r, const char **error_r)
{
	struct resolving rs = { ops, r, 0, NULL };

	result_clear(r);
	resolve_addr(&rs, rcpt, 0);
	if (rs.error != NULL) {
		result_clear(r);
		*error_r = rs.error;
		return -1;
	}
	if (rs.overflow) {
		result_clear(r);
		add_target(&rs, RESOLVE_FAILED, rcpt, NULL, REASON_TOOMANY);
	}
	return 0;
}
