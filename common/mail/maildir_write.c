/*
 * maildir_write - one message into a Maildir (see maildir_write.h)
 */
#include "mail/maildir_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "mail/maildir_crlf.h"
#include "mail/maildir_name.h"
#include "util/fileio.h"
#include "util/log.h"

#define COPY_CHUNK (64 * 1024)
#define NAME_TRIES 100

struct writing {
	const struct maildir_delivery *d;
	int tmpdir, dstdir;
	const char *link_step;	/* "link into new/" or "... cur/" */
	const char *sync_step;	/* "fsync new/" or "fsync cur/" */
};

/* ---- writing the bytes --------------------------------------------------- */


/* Both buffers, in one system call where it takes them whole. */
static int writev_all(int fd, const char *a, size_t an, const char *b,
		      size_t bn)
{
	struct iovec iov[2] = { { (void *)a, an }, { (void *)b, bn } };
	ssize_t w;

	if (bn == 0)
		return fd_write_all(fd, a, an);

	do
		w = writev(fd, iov, 2);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -1;
	if ((size_t)w < an) {
		if (fd_write_all(fd, a + w, an - (size_t)w) < 0)
			return -1;
		w = 0;
	} else {
		w -= (ssize_t)an;
	}
	return fd_write_all(fd, b + w, bn - (size_t)w);
}

/* Write the prefix and the message to out, each message byte read once;
 * *vsize_r is the file's CRLF size. */
static int copy_message(const struct maildir_delivery *d, int out,
			uint64_t *vsize_r, const char **step_r)
{
	char buf[COPY_CHUNK];
	uint64_t done = d->head_len;
	int cr = 0;

	*vsize_r = maildir_crlf_size(d->prefix, d->prefix_len, &cr) +
		   maildir_crlf_size(d->head, d->head_len, &cr);
	*step_r = "write";
	if (writev_all(out, d->prefix, d->prefix_len, d->head,
		       d->head_len) < 0)
		return -1;
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
		*vsize_r += maildir_crlf_size(buf, (size_t)got, &cr);
		if (fd_write_all(out, buf, (size_t)got) < 0) {
			*step_r = "write";
			return -1;
		}
		done += (size_t)got;
	}
	return 0;
}

/* Copy the whole of the written file src into out (the named fallback of
 * an unnamed file that could not be linked: the message is not read
 * again). */
static int copy_file(int src, int out, const char **step_r)
{
	char buf[COPY_CHUNK];
	off_t off = 0;

	for (;;) {
		ssize_t got = pread(src, buf, sizeof(buf), off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			*step_r = "read tmp/ file";
			return -1;
		}
		if (got == 0)
			return 0;
		if (fd_write_all(out, buf, (size_t)got) < 0) {
			*step_r = "write";
			return -1;
		}
		off += got;
	}
}

/* ---- names ------------------------------------------------------------- */

/* base ",S=..,W=.." and, into cur/, ":2,FLAGS". */
static void final_name(const struct maildir_delivery *d, const char *base,
		       uint64_t vsize, struct str *name_r)
{
	uint64_t fsize = d->prefix_len + d->size;

	str_clear(name_r);
	str_appends(name_r, base);
	maildir_name_sizes(name_r, fsize, vsize);
	if (d->flags != NULL) {
		str_appends(name_r, ":2,");
		maildir_flags_format(maildir_flags_parse(d->flags,
							 strlen(d->flags)),
				     name_r);
	}
}

/* Is this delivery there already (IDEMPOTENT)? name is the final name:
 * new/NAME, or cur/NAME:2,FLAGS; cur/BASE:2, and cur/BASE:2,S count too. */
static int already_there(const struct writing *w, const char *name)
{
	struct str cur = STR_INIT(0);
	size_t base = strcspn(name, ":");
	int found = faccessat(w->dstdir, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;

	for (int k = 0; !found && k < 2; k++) {
		str_clear(&cur);
		str_appendf(&cur, "cur/%.*s:2,%s", (int)base, name,
			    k ? "S" : "");
		found = faccessat(w->d->maildir_fd, str_c(&cur), F_OK,
				  AT_SYMLINK_NOFOLLOW) == 0;
	}
	str_free(&cur);
	return found;
}

/* ---- publishing ---------------------------------------------------------- */

/* The caller's hook around steps 5 and 6 (maildir_write.h). */
static int publish_begin(const struct writing *w, const char *name,
			 const char **step_r)
{
	*step_r = "publish";
	if (w->d->publish == NULL)
		return 0;
	return w->d->publish(w->d->publish_arg, name, MAILDIR_PUBLISH_BEGIN);
}

static void publish_end(const struct writing *w, const char *name, int done)
{
	int saved = errno;

	if (w->d->publish != NULL)
		(void)w->d->publish(w->d->publish_arg, name, done ?
				    MAILDIR_PUBLISH_DONE :
				    MAILDIR_PUBLISH_FAILED);
	errno = saved;
}

/* Remove name from the target directory, keeping errno. */
static void unpublish(const struct writing *w, const char *name)
{
	int saved = errno;

	unlinkat(w->dstdir, name, 0);
	errno = saved;
}

/* The named form: tmp/TMPNAME (written) is synced, renamed to its final
 * name, never replacing a file, and the directory synced. 0 done, 1
 * already there (EEXIST: delivered meanwhile), -1 error. */
static int publish_named(const struct writing *w, int fd, const char *tmpname,
			 const char *name, const char **step_r)
{
	*step_r = "fsync";
	if (fsync(fd) < 0 || publish_begin(w, name, step_r) < 0)
		return -1;
	*step_r = w->link_step;
	if (renameat2(w->tmpdir, tmpname, w->dstdir, name,
		      RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST) {
			publish_end(w, name, 0);
			return 1;
		}
		/* EINVAL: a file system without RENAME_NOREPLACE: the name
		 * is ours */
		if (errno != EINVAL ||
		    renameat(w->tmpdir, tmpname, w->dstdir, name) < 0) {
			publish_end(w, name, 0);
			return -1;
		}
	}
	*step_r = w->sync_step;
	if (fsync(w->dstdir) < 0) {
		unpublish(w, name);
		publish_end(w, name, 0);
		return -1;
	}
	publish_end(w, name, 1);
	return 0;
}

/* tmp/NAME, exclusively. -1 with errno. */
static int named_create(const struct writing *w, const char *tmpname)
{
	return openat(w->tmpdir, tmpname, O_WRONLY | O_CREAT | O_EXCL |
		      O_NOFOLLOW | O_CLOEXEC, 0600);
}

/* The unnamed file tmpfd could not be linked (no /proc): copy it to
 * tmp/<unique> and rename that. */
static int publish_copy(const struct writing *w, int tmpfd, const char *name,
			const char **step_r)
{
	const char *tmpname = w->d->unique;
	int fd, r = -1, saved;

	*step_r = "open tmp/ file";
	/* a tmp/ file of this name is a delivery a crash interrupted */
	unlinkat(w->tmpdir, tmpname, 0);
	fd = named_create(w, tmpname);
	if (fd < 0)
		return -1;
	if (copy_file(tmpfd, fd, step_r) == 0)
		r = publish_named(w, fd, tmpname, name, step_r);
	saved = errno;
	close(fd);
	if (r != 0)
		unlinkat(w->tmpdir, tmpname, 0);
	errno = saved;
	return r < 0 ? -1 : 0;
}

/* Link the written, unnamed file into place (STEPS 4 to 6). */
static int publish_unnamed(const struct writing *w, int fd, const char *name,
			   const char **step_r)
{
	char proc[64];

	if (snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd) >=
	    (int)sizeof(proc))
		log_panic("descriptor path too long");
	*step_r = "fsync";
	if (fsync(fd) < 0 || publish_begin(w, name, step_r) < 0)
		return -1;
	*step_r = w->link_step;
	if (linkat(AT_FDCWD, proc, w->dstdir, name, AT_SYMLINK_FOLLOW) < 0) {
		int err = errno;

		/* EEXIST: delivered meanwhile by another agent */
		publish_end(w, name, err == EEXIST);
		errno = err;
		if (err == EEXIST)
			return 0;
		if (err == ENOENT || err == ENOTDIR)
			return publish_copy(w, fd, name, step_r); /* no /proc */
		return -1;
	}
	*step_r = w->sync_step;
	if (fsync(fd) < 0 || fsync(w->dstdir) < 0) {
		unpublish(w, name);
		publish_end(w, name, 0);
		return -1;
	}
	publish_end(w, name, 1);
	return 0;
}

/* ---- the two forms ------------------------------------------------------- */

static int tmpfile_unsupported(int err)
{
	return err == EOPNOTSUPP || err == EISDIR || err == EINVAL;
}

/* The idempotent form: the name is fixed by d->unique and the sizes. */
static int deliver_unique(const struct writing *w, struct str *name_r,
			  const char **step_r)
{
	const struct maildir_delivery *d = w->d;
	uint64_t vsize;
	int fd, named = 0, r = -1, saved;

	*step_r = "open tmp/ file";
	fd = openat(w->tmpdir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && tmpfile_unsupported(errno)) {
		/* a tmp/ file of this name is a delivery a crash interrupted */
		unlinkat(w->tmpdir, d->unique, 0);
		fd = named_create(w, d->unique);
		named = 1;
	}
	if (fd < 0)
		return -1;
	if (copy_message(d, fd, &vsize, step_r) == 0) {
		final_name(d, d->unique, vsize, name_r);
		if (already_there(w, str_c(name_r)))
			r = 0;
		else if (named)
			r = publish_named(w, fd, d->unique, str_c(name_r),
					  step_r) < 0 ? -1 : 0;
		else
			r = publish_unnamed(w, fd, str_c(name_r), step_r);
	}
	saved = errno;
	close(fd);
	/* gone after a rename; left after an error or a repeat */
	if (named)
		unlinkat(w->tmpdir, d->unique, 0);
	errno = saved;
	return r;
}

/* tmp/NAME with a name no other file has. */
static int fresh_create(const struct writing *w, struct str *name)
{
	const struct maildir_delivery *d = w->d;
	struct timeval tv;
	struct timespec ts;
	int fd = -1;

	for (int i = 0; i < NAME_TRIES; i++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		tv.tv_sec = ts.tv_sec;
		tv.tv_usec = ts.tv_nsec / 1000;
		str_clear(name);
		maildir_name_unique(name, &tv, getpid(), ++*d->counter,
				    d->host);
		fd = named_create(w, str_c(name));
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* A fresh name each time. */
static int deliver_fresh(const struct writing *w, struct str *name_r,
			 const char **step_r)
{
	struct str tmpname = STR_INIT(0);
	uint64_t vsize;
	int fd, r = -1, saved;

	*step_r = "open tmp/ file";
	fd = fresh_create(w, &tmpname);
	if (fd < 0)
		goto out;
	if (copy_message(w->d, fd, &vsize, step_r) == 0) {
		final_name(w->d, str_c(&tmpname), vsize, name_r);
		r = publish_named(w, fd, str_c(&tmpname), str_c(name_r),
				  step_r);
		if (r > 0) {	/* a fresh name cannot be there */
			errno = EEXIST;
			r = -1;
		}
	}
	saved = errno;
	/* after a successful fsync a close error cannot lose data */
	close(fd);
	if (r < 0)
		unlinkat(w->tmpdir, str_c(&tmpname), 0);
	errno = saved;
out:
	str_free(&tmpname);
	return r;
}

int maildir_deliver(const struct maildir_delivery *d, struct str *name_r,
		    const char **step_r)
{
	const char *dst = d->flags != NULL ? "cur" : "new";
	struct writing w = { d, -1, -1,
		d->flags != NULL ? "link into cur/" : "link into new/",
		d->flags != NULL ? "fsync cur/" : "fsync new/" };
	int r = -1, saved;

	*step_r = "open tmp/";
	w.tmpdir = openat(d->maildir_fd, "tmp", O_RDONLY | O_DIRECTORY |
			  O_NOFOLLOW | O_CLOEXEC);
	if (w.tmpdir < 0)
		return -1;
	*step_r = d->flags != NULL ? "open cur/" : "open new/";
	w.dstdir = openat(d->maildir_fd, dst, O_RDONLY | O_DIRECTORY |
			  O_NOFOLLOW | O_CLOEXEC);
	if (w.dstdir >= 0) {
		r = d->unique != NULL ? deliver_unique(&w, name_r, step_r) :
		    deliver_fresh(&w, name_r, step_r);
		saved = errno;
		close(w.dstdir);
		errno = saved;
	}
	saved = errno;
	close(w.tmpdir);
	errno = saved;
	return r;
}
