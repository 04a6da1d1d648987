/*
 * mailbox_path - the address -> Maildir rule (see mailbox_path.h)
 */
#include "mail/mailbox_path.h"

#include <string.h>

#include "mail/addr.h"
#include "util/fileio.h"

/* Check p[0..n) as one part and copy it, folded, into dst[max + 1]. */
static int part_copy(char *dst, size_t max, const char *p, size_t n,
		     const char *what_empty, const char *what_long,
		     const char **error_r)
{
	if (n == 0) {
		*error_r = what_empty;
		return -1;
	}
	if (n > max) {
		*error_r = what_long;
		return -1;
	}
	if (p[0] == '.') {
		*error_r = "a part of the address starts with '.'";
		return -1;
	}
	if (memchr(p, '/', n) != NULL) {
		*error_r = "'/' in the address";
		return -1;
	}
	if (memchr(p, '\0', n) != NULL || addr_check_utf8(p, n) < 0) {
		*error_r = "control character or invalid UTF-8 in the address";
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		dst[i] = p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] - 'A' + 'a')
						    : p[i];
	dst[n] = '\0';
	return 0;
}

static int parts_copy(struct mailbox_path *mp, const char *user,
		      size_t ulen, const char *domain, size_t dlen,
		      const char **error_r)
{
	memset(mp, 0, sizeof(*mp));
	if (part_copy(mp->user, MAILBOX_USER_MAX, user, ulen,
		      "empty user part", "user part longer than 64 bytes",
		      error_r) < 0 ||
	    part_copy(mp->domain, MAILBOX_DOMAIN_MAX, domain, dlen,
		      "empty domain", "domain longer than 255 bytes",
		      error_r) < 0) {
		memset(mp, 0, sizeof(*mp));
		return -1;
	}
	return 0;
}

int mailbox_path_from_addr(const char *address, struct mailbox_path *mp,
			   const char **error_r)
{
	const char *at = strchr(address, '@');

	if (at == NULL) {
		memset(mp, 0, sizeof(*mp));
		*error_r = "no '@' in the address";
		return -1;
	}
	if (strchr(at + 1, '@') != NULL) {
		memset(mp, 0, sizeof(*mp));
		*error_r = "more than one '@' in the address";
		return -1;
	}
	return parts_copy(mp, address, (size_t)(at - address), at + 1,
			  strlen(at + 1), error_r);
}

int mailbox_path_from_parts(const char *domain, const char *user,
			    struct mailbox_path *mp, const char **error_r)
{
	if (strchr(user, '@') != NULL || strchr(domain, '@') != NULL) {
		memset(mp, 0, sizeof(*mp));
		*error_r = "'@' in a part of the mailbox";
		return -1;
	}
	return parts_copy(mp, user, strlen(user), domain, strlen(domain),
			  error_r);
}

int mailbox_path_relative(const struct mailbox_path *mp, struct str *out)
{
	str_clear(out);
	return str_appendf(out, "%s/%s", mp->domain, mp->user);
}

int mailbox_path_full(const char *mail_root, const struct mailbox_path *mp,
		      struct str *out)
{
	struct str rel = STR_INIT(0);
	int r;

	r = mailbox_path_relative(mp, &rel);
	if (r == 0)
		r = path_join(out, mail_root, str_c(&rel));
	str_free(&rel);
	return r;
}
