/*
 * maildir - Maildir file names, the Delivered-To: loop check, and the
 * tmp/ -> fsync -> new/ -> fsync procedure (see maildir.h)
 */
#include "mail/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/str.h"

#define COPY_CHUNK (64 * 1024)
#define HEADER_CHUNK 8192
#define NAME_TRIES 100

/* ---- names --------------------------------------------------------------- */

void maildir_host_escape(const char *host, struct str *out)
{
	for (const char *p = host; *p != '\0'; p++) {
		if (*p == '/')
			str_appends(out, "\\057");
		else if (*p == ':')
			str_appends(out, "\\072");
		else
			str_appendc(out, *p);
	}
}

void maildir_name_base(struct str *out, const struct timeval *tv, pid_t pid,
		       unsigned long n, const char *host)
{
	str_appendf(out, "%lld.M%ldP%ldQ%lu.%s", (long long)tv->tv_sec,
		    (long)tv->tv_usec, (long)pid, n, host);
}

void maildir_name_sizes(struct str *out, uint64_t size, uint64_t vsize)
{
	str_appendf(out, ",S=%llu,W=%llu", (unsigned long long)size,
		    (unsigned long long)vsize);
}

/* ---- the header section and Delivered-To: --------------------------------- */

int maildir_header_end(const char *p, size_t len, size_t *end_r)
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

int maildir_has_delivered_to(const char *hdr, size_t len, const char *rcpt)
{
	size_t pos = 0, end;

	maildir_header_end(hdr, len, &len);
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

int maildir_read_header(int fd, uint64_t offset, uint64_t size,
			struct str *out)
{
	uint64_t want = size < MAILDIR_HEADER_MAX ? size : MAILDIR_HEADER_MAX;
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
		if (maildir_header_end(out->s, out->len, &end))
			break;
	}
	return 0;
}

/* ---- delivery ------------------------------------------------------------ */

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Both buffers in one system call where it takes them whole. */
static int writev_all(int fd, struct iovec iov[2])
{
	ssize_t w;

	do
		w = writev(fd, iov, 2);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -1;
	if ((size_t)w < iov[0].iov_len) {
		if (write_all(fd, (char *)iov[0].iov_base + w,
			      iov[0].iov_len - (size_t)w) < 0)
			return -1;
		w = 0;
	} else {
		w -= (ssize_t)iov[0].iov_len;
	}
	return write_all(fd, (char *)iov[1].iov_base + w,
			 iov[1].iov_len - (size_t)w);
}

static uint64_t count_lf(const char *p, size_t n)
{
	uint64_t c = 0;
	const char *end = p + n;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		c++;
		p++;
	}
	return c;
}

/* Write the prefix and copy the message; *lf_r counts the LFs. */
static int copy_message(const struct maildir_delivery *d, int out,
			uint64_t *lf_r, const char **step_r)
{
	char buf[COPY_CHUNK];
	uint64_t done = 0;

	*lf_r = count_lf(d->prefix, d->prefix_len);
	if (d->data != NULL) {
		struct iovec iov[2] = {
			{ (void *)d->prefix, d->prefix_len },
			{ (void *)d->data, (size_t)d->size },
		};

		*lf_r += count_lf(d->data, (size_t)d->size);
		if (writev_all(out, iov) < 0) {
			*step_r = "write";
			return -1;
		}
		return 0;
	}
	if (write_all(out, d->prefix, d->prefix_len) < 0) {
		*step_r = "write";
		return -1;
	}
	while (done < d->size) {
		size_t n = d->size - done < sizeof(buf) ?
			   (size_t)(d->size - done) : sizeof(buf);
		ssize_t got = pread(d->src_fd, buf, n,
				    (off_t)(d->offset + done));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				errno = ENODATA;
			*step_r = "read message";
			return -1;
		}
		*lf_r += count_lf(buf, (size_t)got);
		if (write_all(out, buf, (size_t)got) < 0) {
			*step_r = "write";
			return -1;
		}
		done += (size_t)got;
	}
	return 0;
}

/* Create tmp/NAME with a name no other file has. */
static int tmp_create(const struct maildir_delivery *d, int tmpdir,
		      struct str *name)
{
	struct timeval tv;
	struct timespec ts;
	int fd = -1;

	for (int i = 0; i < NAME_TRIES; i++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		tv.tv_sec = ts.tv_sec;
		tv.tv_usec = ts.tv_nsec / 1000;
		str_clear(name);
		maildir_name_base(name, &tv, getpid(), ++*d->counter, d->host);
		fd = openat(tmpdir, str_c(name), O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* Steps 2 to 4, given the written tmp file. */
static int publish(int fd, int tmpdir, int newdir, const char *tmpname,
		   struct str *name_r, const char **step_r)
{
	*step_r = "fsync";
	if (fsync(fd) < 0)
		return -1;
	*step_r = "rename into new/";
	if (renameat2(tmpdir, tmpname, newdir, str_c(name_r),
		      RENAME_NOREPLACE) < 0) {
		if (errno != EINVAL)
			return -1;
		/* a filesystem without RENAME_NOREPLACE: the name is unique */
		if (renameat(tmpdir, tmpname, newdir, str_c(name_r)) < 0)
			return -1;
	}
	*step_r = "fsync new/";
	if (fsync(newdir) < 0) {
		int saved = errno;

		unlinkat(newdir, str_c(name_r), 0);
		errno = saved;
		return -1;
	}
	return 0;
}

/* The LFs of the prefix and the message, without writing anything. */
static int count_all_lf(const struct maildir_delivery *d, uint64_t *lf_r,
			const char **step_r)
{
	char buf[COPY_CHUNK];
	uint64_t done = 0;

	*lf_r = count_lf(d->prefix, d->prefix_len);
	if (d->data != NULL) {
		*lf_r += count_lf(d->data, (size_t)d->size);
		return 0;
	}
	while (done < d->size) {
		size_t n = d->size - done < sizeof(buf) ?
			   (size_t)(d->size - done) : sizeof(buf);
		ssize_t got = pread(d->src_fd, buf, n,
				    (off_t)(d->offset + done));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				errno = ENODATA;
			*step_r = "read message";
			return -1;
		}
		*lf_r += count_lf(buf, (size_t)got);
		done += (size_t)got;
	}
	return 0;
}

/* Is the file name (in new/, or in cur/ with no flags or just S) there? */
static int already_there(int maildir_fd, int newdir, const char *name)
{
	struct str cur = STR_INIT(0);
	int found = faccessat(newdir, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;

	for (int k = 0; !found && k < 2; k++) {
		str_clear(&cur);
		str_appendf(&cur, "cur/%s:2,%s", name, k ? "S" : "");
		found = faccessat(maildir_fd, str_c(&cur), F_OK,
				  AT_SYMLINK_NOFOLLOW) == 0;
	}
	str_free(&cur);
	return found;
}

#define TMPFILE_UNSUPPORTED (-2)

static int tmpfile_unsupported(int err)
{
	return err == EOPNOTSUPP || err == EISDIR || err == EINVAL;
}

/* With the final name known, the file needs no name in tmp/: an unnamed
 * file (O_TMPFILE) in tmp/'s filesystem is written and synced, then
 * linked into new/ under its final name (linkat refuses to replace), its
 * inode (now with a link) and new/ synced. A crash before the link leaves
 * nothing anywhere. Cheaper than create, rename and two directories to
 * sync, and no cross-directory rename (one lock per filesystem).
 * TMPFILE_UNSUPPORTED where the filesystem or /proc does not allow it. */
static int deliver_tmpfile(const struct maildir_delivery *d, int tmpdir,
			   int newdir, struct str *name_r, const char **step_r)
{
	char proc[64];
	uint64_t lf;
	int fd, r = -1, saved;

	*step_r = "open tmp/ file";
	fd = openat(tmpdir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return tmpfile_unsupported(errno) ? TMPFILE_UNSUPPORTED : -1;
	if (snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd) >=
	    (int)sizeof(proc))
		log_panic("descriptor path too long");
	if (copy_message(d, fd, &lf, step_r) < 0)
		goto out;
	*step_r = "fsync";
	if (fsync(fd) < 0)
		goto out;
	*step_r = "link into new/";
	if (linkat(AT_FDCWD, proc, newdir, str_c(name_r),
		   AT_SYMLINK_FOLLOW) < 0) {
		if (errno == EEXIST)
			r = 0;	/* delivered meanwhile by another agent */
		else if (errno == ENOENT || errno == ENOTDIR)
			r = TMPFILE_UNSUPPORTED;	/* no /proc */
		goto out;
	}
	*step_r = "fsync new/";
	if (fsync(fd) < 0 || fsync(newdir) < 0) {
		saved = errno;
		unlinkat(newdir, str_c(name_r), 0);
		errno = saved;
		goto out;
	}
	r = 0;
out:
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* The idempotent form: the name is fixed by d->unique and the sizes. */
static int deliver_unique(const struct maildir_delivery *d, int tmpdir,
			  int newdir, struct str *name_r, const char **step_r)
{
	uint64_t lf, lf2, fsize = d->prefix_len + d->size;
	int fd, r = -1, saved;

	if (count_all_lf(d, &lf, step_r) < 0)
		return -1;
	str_clear(name_r);
	str_appends(name_r, d->unique);
	maildir_name_sizes(name_r, fsize, fsize + lf);
	if (already_there(d->maildir_fd, newdir, str_c(name_r)))
		return 0;
	r = deliver_tmpfile(d, tmpdir, newdir, name_r, step_r);
	if (r != TMPFILE_UNSUPPORTED)
		return r;
	r = -1;
	*step_r = "open tmp/ file";
	/* a tmp/ file of this name is a delivery a crash interrupted */
	unlinkat(tmpdir, d->unique, 0);
	fd = openat(tmpdir, d->unique, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (copy_message(d, fd, &lf2, step_r) == 0) {
		r = publish(fd, tmpdir, newdir, d->unique, name_r, step_r);
		if (r < 0 && errno == EEXIST &&
		    strcmp(*step_r, "rename into new/") == 0)
			r = 0;	/* delivered meanwhile by another agent */
	}
	saved = errno;
	close(fd);
	if (r < 0 || faccessat(tmpdir, d->unique, F_OK, 0) == 0)
		unlinkat(tmpdir, d->unique, 0);
	errno = saved;
	return r;
}

static int deliver_in(const struct maildir_delivery *d, int tmpdir,
		      int newdir, struct str *name_r, const char **step_r)
{
	struct str tmpname = STR_INIT(0);
	uint64_t lf, fsize;
	int fd, r = -1, saved;

	*step_r = "open tmp/ file";
	fd = tmp_create(d, tmpdir, &tmpname);
	if (fd < 0)
		goto out;
	if (copy_message(d, fd, &lf, step_r) == 0) {
		fsize = d->prefix_len + d->size;
		str_clear(name_r);
		str_append(name_r, tmpname.s, tmpname.len);
		maildir_name_sizes(name_r, fsize, fsize + lf);
		r = publish(fd, tmpdir, newdir, str_c(&tmpname), name_r,
			    step_r);
	}
	saved = errno;
	/* after a successful fsync a close error cannot lose data */
	close(fd);
	if (r < 0)
		unlinkat(tmpdir, str_c(&tmpname), 0);
	errno = saved;
out:
	str_free(&tmpname);
	return r;
}

int maildir_deliver(const struct maildir_delivery *d, struct str *name_r,
		    const char **step_r)
{
	int tmpdir, newdir, r = -1, saved;

	*step_r = "open tmp/";
	tmpdir = openat(d->maildir_fd, "tmp", O_RDONLY | O_DIRECTORY |
			O_NOFOLLOW | O_CLOEXEC);
	if (tmpdir < 0)
		return -1;
	*step_r = "open new/";
	newdir = openat(d->maildir_fd, "new", O_RDONLY | O_DIRECTORY |
			O_NOFOLLOW | O_CLOEXEC);
	if (newdir >= 0) {
		r = d->unique != NULL ?
		    deliver_unique(d, tmpdir, newdir, name_r, step_r) :
		    deliver_in(d, tmpdir, newdir, name_r, step_r);
		saved = errno;
		close(newdir);
		errno = saved;
	}
	saved = errno;
	close(tmpdir);
	errno = saved;
	return r;
}
