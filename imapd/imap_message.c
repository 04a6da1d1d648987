/*
 * imap_message - one message mapped for reading (imap_message.h)
 */
#include "imap_message.h"

#include <errno.h>
#include <strings.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/imap_cache.h"
#include "mail/mail_header.h"

int imap_message_open(struct imap_message *m, struct imap_folder *f,
		      uint32_t i)
{
	struct stat st;
	void *p;
	int fd;

	memset(m, 0, sizeof(*m));
	m->f = f;
	m->i = i;
	if (imap_folder_open_msg(f, i, &fd) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int saved = S_ISREG(st.st_mode) ? errno : EINVAL;

		(void)close(fd);
		errno = saved;
		return -1;
	}
	if (st.st_size > 0) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
			 0);
		if (p == MAP_FAILED) {
			int saved = errno;

			(void)close(fd);
			errno = saved;
			return -1;
		}
		m->data = p;
		m->len = (size_t)st.st_size;
	}
	(void)close(fd);
	return 0;
}

const struct mime_msg *imap_message_mime(struct imap_message *m,
					 const char **error_r)
{
	if (!m->parsed) {
		if (mime_parse(m->data ? m->data : "", m->len, &m->mime,
			       error_r) < 0)
			return NULL;
		m->parsed = 1;
	}
	return &m->mime;
}

void imap_message_close(struct imap_message *m)
{
	if (m->parsed)
		mime_free(&m->mime);
	if (m->data)
		(void)munmap((void *)m->data, m->len);
	memset(m, 0, sizeof(*m));
}

size_t imap_message_header_len(const struct imap_message *m)
{
	const char *p = m->data;
	size_t n = m->len;

	if (m->parsed)
		return m->mime.root->hdr_len;
	if (p == NULL)
		return 0;
	if (n > 0 && p[0] == '\n')
		return 1;
	if (n > 1 && p[0] == '\r' && p[1] == '\n')
		return 2;
	for (const char *q = memchr(p, '\n', n); q != NULL;
	     q = memchr(q + 1, '\n', n - (size_t)(q + 1 - p))) {
		size_t rest = n - (size_t)(q + 1 - p);

		if (rest > 0 && q[1] == '\n')
			return (size_t)(q + 2 - p);
		if (rest > 1 && q[1] == '\r' && q[2] == '\n')
			return (size_t)(q + 3 - p);
	}
	return n;
}

/* ---- the header cache ---------------------------------------------------- */

#define HEADER_CACHE_VALUE_MAX 4096	/* bytes kept of one field */

static const char *const cached_fields[] = {
	"Subject", "From", "To", "Cc", "Bcc", "Sender", "Reply-To", "Date",
	"Message-ID", "In-Reply-To", "References",
};

int imap_header_cached(const char *name)
{
	for (size_t k = 0; k < sizeof(cached_fields) / sizeof(cached_fields[0]);
	     k++)
		if (strcasecmp(cached_fields[k], name) == 0)
			return 1;
	return 0;
}

void imap_header_extract(const char *hdr, size_t len, struct str *out)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	struct str v = STR_INIT(0);

	str_clear(out);
	mail_header_iter_init(&it, hdr, len);
	while (mail_header_iter_next(&it, &f)) {
		char name[32];

		if (f.name_len >= sizeof(name))
			continue;
		memcpy(name, f.name, f.name_len);
		name[f.name_len] = '\0';
		if (!imap_header_cached(name))
			continue;
		str_clear(&v);
		(void)mail_header_unfold(f.value, f.value_len, &v);
		if (v.len > HEADER_CACHE_VALUE_MAX)
			str_truncate(&v, HEADER_CACHE_VALUE_MAX);
		(void)str_append(out, f.name, f.name_len);
		(void)str_appends(out, ":");
		(void)str_append(out, str_c(&v), v.len);
		(void)str_appends(out, "\n");
	}
	(void)str_appends(out, "\n");
	str_free(&v);
}

int imap_header_get(struct imap_folder *f, uint32_t i,
		    const struct imap_message *msg, struct str *out)
{
	struct imap_message own;
	uint32_t uid = f->msgs[i].uid;

	if (imap_cache_get(f, uid, IMAP_CACHE_HEADER, out) == 1)
		return 0;
	if (msg == NULL) {
		if (imap_message_open(&own, f, i) < 0)
			return -1;
		msg = &own;
	}
	imap_header_extract(msg->data ? msg->data : "",
			    imap_message_header_len(msg), out);
	(void)imap_cache_put(f, uid, IMAP_CACHE_HEADER, str_c(out), out->len);
	if (msg == &own)
		imap_message_close(&own);
	return 0;
}
