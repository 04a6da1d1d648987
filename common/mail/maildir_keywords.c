/*
 * maildir_keywords - the dovecot-keywords file (see maildir_keywords.h)
 */
#include "mail/maildir_keywords.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"

void maildir_keywords_init(struct maildir_keywords *kw)
{
	memset(kw, 0, sizeof(*kw));
}

void maildir_keywords_free(struct maildir_keywords *kw)
{
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		free(kw->name[i]);
	maildir_keywords_init(kw);
}

int maildir_keywords_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > MAILDIR_KEYWORD_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] == 0x7f)
			return 0;
	return 1;
}

/* One line p[0..n) without its LF: 0 taken, -1 skipped. */
static int keywords_line(struct maildir_keywords *kw, const char *p, size_t n)
{
	const char *sp = memchr(p, ' ', n);
	size_t digits, idx = 0;

	if (sp == NULL)
		return -1;
	digits = (size_t)(sp - p);
	if (digits == 0 || digits > 2)
		return -1;
	for (size_t i = 0; i < digits; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		idx = idx * 10 + (size_t)(p[i] - '0');
	}
	sp++;
	if (idx >= MAILDIR_KEYWORDS_MAX ||
	    !maildir_keywords_name_ok(sp, n - (size_t)(sp - p)))
		return -1;
	free(kw->name[idx]);
	kw->name[idx] = xstrndup(sp, n - (size_t)(sp - p));
	return 0;
}

size_t maildir_keywords_parse(struct maildir_keywords *kw, const char *p,
			      size_t n)
{
	size_t pos = 0, skipped = 0;

	maildir_keywords_free(kw);
	while (pos < n) {
		const char *lf = memchr(p + pos, '\n', n - pos);
		size_t len = lf != NULL ? (size_t)(lf - p) - pos : n - pos;

		if (len > 0 && keywords_line(kw, p + pos, len) < 0)
			skipped++;
		pos += len + 1;
	}
	return skipped;
}

int maildir_keywords_read(int dir_fd, struct maildir_keywords *kw)
{
	char *buf;
	struct stat st;
	size_t len = 0;
	int fd, r = -1, saved;

	maildir_keywords_free(kw);
	fd = openat(dir_fd, MAILDIR_KEYWORDS_FILE, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0)
		goto out;
	if (!S_ISREG(st.st_mode) || st.st_size > MAILDIR_KEYWORDS_FILE_MAX) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto out;
	}
	buf = xmalloc(MAILDIR_KEYWORDS_FILE_MAX + 1);
	for (;;) {
		ssize_t got = read(fd, buf + len, MAILDIR_KEYWORDS_FILE_MAX + 1 -
				   len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = got < 0 ? -1 : 0;
			break;
		}
		len += (size_t)got;
		if (len > MAILDIR_KEYWORDS_FILE_MAX) {
			errno = EFBIG;	/* it grew meanwhile */
			break;
		}
	}
	if (r == 0)
		r = (int)maildir_keywords_parse(kw, buf, len);
	free(buf);
out:
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

int maildir_keywords_format(const struct maildir_keywords *kw,
			    struct str *out)
{
	str_clear(out);
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		if (kw->name[i] != NULL &&
		    str_appendf(out, "%d %s\n", i, kw->name[i]) < 0)
			return -1;
	return 0;
}

int maildir_keywords_find(const struct maildir_keywords *kw,
			  const char *name)
{
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		if (kw->name[i] != NULL && cstr_case_eq(kw->name[i], name))
			return i;
	return -1;
}

int maildir_keywords_add(struct maildir_keywords *kw, const char *name)
{
	int i = maildir_keywords_find(kw, name);

	if (i >= 0)
		return i;
	if (!maildir_keywords_name_ok(name, strlen(name))) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		if (kw->name[i] == NULL) {
			kw->name[i] = xstrdup(name);
			return i;
		}
	errno = ENOSPC;
	return -1;
}
