/*
 * sendmail_env - the envelope of a message from sendmail(1): the sender
 * and the recipients, each parsed with addr_parse_plain(), qualified with
 * "@hostname" when it has no domain, and formatted canonically
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/addr.h"
#include "proto/queue_file.h"
#include "sendmail_msg.h"
#include "sendmail.h"
#include "util/alloc.h"
#include "util/str.h"

void sendmail_env_init(struct sendmail_env *e)
{
	memset(e, 0, sizeof(*e));
}

void sendmail_env_free(struct sendmail_env *e)
{
	for (size_t i = 0; i < e->nrcpts; i++)
		free(e->rcpts[i]);
	free(e->rcpts);
	free(e->sender);
	free(e->from_addr);
	memset(e, 0, sizeof(*e));
}

/* Parse in, append "@hostname" if it has no domain, check the result and
 * put its canonical form in out. 0 or -1 with *error_r. */
static int env_qualify(struct sendmail_env *e, const char *in,
		       const char *hostname, unsigned extra, struct str *out,
		       const char **error_r)
{
	struct addr a;

	if (addr_parse_plain(in, ADDR_UTF8 | ADDR_ALLOW_NO_DOMAIN | extra,
			     &a, error_r) < 0)
		return -1;
	str_clear(out);
	if (a.is_null)
		return 0;
	if (a.domain_len == 0) {
		if (cstr_copy(a.domain, sizeof(a.domain), hostname) < 0) {
			*error_r = "the hostname is too long to add";
			return -1;
		}
		a.domain_len = strlen(a.domain);
	}
	if (addr_format(&a, out) < 0) {
		*error_r = "address too long";
		return -1;
	}
	if (addr_parse_plain(str_c(out), ADDR_UTF8, &a, error_r) < 0)
		return -1;
	str_clear(out);
	addr_format(&a, out);
	if (!addr_is_ascii(&a))
		e->flags |= QUEUE_FLAG_SMTPUTF8;
	return 0;
}

static int env_login(struct sendmail_env *e)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwuid(getuid());
	if (pw == NULL || cstr_copy(e->login, sizeof(e->login),
				    pw->pw_name) < 0)
		return sendmail_fail(EX_NOUSER, "cannot find the login name "
				     "of uid %lu", (unsigned long)getuid());
	return 0;
}

int sendmail_env_sender(struct sendmail_env *e, const char *opt,
			const char *hostname)
{
	struct str out = STR_INIT(0);
	const char *error = NULL;
	int r = env_login(e);

	if (r != 0)
		return r;
	if (env_qualify(e, e->login, hostname, 0, &out, &error) < 0) {
		str_free(&out);
		return sendmail_fail(EX_USAGE, "cannot make a sender address "
				     "from login '%s': %s", e->login, error);
	}
	e->from_addr = str_steal(&out);
	if (opt == NULL) {
		e->sender = xstrdup(e->from_addr);
		return 0;
	}
	if (env_qualify(e, opt, hostname, ADDR_ALLOW_NULL, &out, &error) < 0) {
		str_free(&out);
		return sendmail_fail(EX_USAGE, "bad sender address '%s': %s",
				     opt, error);
	}
	e->sender = str_steal(&out);
	if (e->sender[0] != '\0') {
		free(e->from_addr);
		e->from_addr = xstrdup(e->sender);
	}
	return 0;
}

static void env_add(struct sendmail_env *e, struct str *addr)
{
	if (e->nrcpts == e->alloc) {
		e->alloc = e->alloc ? 2 * e->alloc : 8;
		e->rcpts = xreallocarray(e->rcpts, e->alloc, sizeof(char *));
	}
	e->rcpts[e->nrcpts++] = str_steal(addr);
}

int sendmail_env_rcpt(struct sendmail_env *e, const char *addr,
		      const char *hostname, const char *what)
{
	struct sendmail_hdrs list;
	struct str out = STR_INIT(0);
	const char *error = NULL;
	int r = 0;

	sendmail_hdrs_init(&list);
	if (sendmail_addr_list(&list, addr, strlen(addr)) < 0)
		r = sendmail_fail(EX_USAGE, "bad recipient '%s' %s: %s",
				  addr, what, list.error);
	for (size_t i = 0; r == 0 && i < list.nrcpts; i++) {
		if (env_qualify(e, list.rcpts[i], hostname, 0, &out,
				&error) < 0)
			r = sendmail_fail(EX_USAGE, "bad recipient '%s' %s: "
					  "%s", list.rcpts[i], what, error);
		else if (e->nrcpts >= QUEUE_RCPT_MAX)
			r = sendmail_fail(EX_USAGE, "more than %d recipients",
					  QUEUE_RCPT_MAX);
		else
			env_add(e, &out);
	}
	str_free(&out);
	sendmail_hdrs_free(&list);
	return r;
}

struct env_slot {
	const char *addr;
	size_t pos;
};

static int env_slot_cmp(const void *a, const void *b)
{
	const struct env_slot *x = a, *y = b;
	int c = strcmp(x->addr, y->addr);

	if (c != 0)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

void sendmail_env_dedup(struct sendmail_env *e)
{
	struct env_slot *s;
	char *dup;
	size_t k = 0;

	if (e->nrcpts < 2)
		return;
	s = xcalloc(e->nrcpts, sizeof(*s));
	dup = xcalloc(e->nrcpts, 1);
	for (size_t i = 0; i < e->nrcpts; i++)
		s[i] = (struct env_slot){ e->rcpts[i], i };
	qsort(s, e->nrcpts, sizeof(*s), env_slot_cmp);
	for (size_t i = 1; i < e->nrcpts; i++)
		dup[s[i].pos] = strcmp(s[i].addr, s[i - 1].addr) == 0;
	free(s);
	for (size_t i = 0; i < e->nrcpts; i++) {
		if (dup[i])
			free(e->rcpts[i]);
		else
			e->rcpts[k++] = e->rcpts[i];
	}
	free(dup);
	e->nrcpts = k;
}
