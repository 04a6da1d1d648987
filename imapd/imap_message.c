/*
 * imap_message - one message mapped for reading (imap_message.h)
 */
#include "imap_message.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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
