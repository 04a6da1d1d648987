/*
 * queue_layout - the directories under queue_dir, and paths into them
 *
 * The layout and its owners are described in queue_layout.h. Creating it
 * is idempotent and safe to repeat at every start: existing directories
 * are kept, only their owner and mode are corrected (as root), and nothing
 * below queue_dir is followed through a symlink: each directory is opened
 * with O_NOFOLLOW relative to queue_dir's descriptor and fixed through
 * its own descriptor (safedir.h), so a link planted there is refused.
 */
#include "mail/queue_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/queue_id.h"
#include "util/safedir.h"
#include "util/privs.h"

#define QUEUE_SUBDIR_MODE 0700

const char *const queue_layout_subdirs[] = {
	"tmp", "new", "active", "deferred", "hold", "corrupt", NULL,
};

static char layout_error[512];

static int layout_fail(const char *what, const char *path)
{
	int e = errno;

	snprintf(layout_error, sizeof(layout_error), "%s %s: %s", what, path,
		 strerror(e));
	errno = e;
	return -1;
}

/* A queue subdirectory under the queue_dir descriptor: created if
 * missing, never followed if a symlink, owned by uid:gid (when root) and
 * of mode 0700, both set through its descriptor. */
static int layout_queue_dir(int qfd, const char *name, const char *path,
			    uid_t uid, gid_t gid)
{
	int fd = safedir_open_at(qfd, name, QUEUE_SUBDIR_MODE, NULL), r = 0;

	if (fd < 0)
		return layout_fail(errno == ELOOP ? "a symbolic link, not a "
				   "directory:" : "open", path);
	if (safedir_fix(fd, uid, gid, QUEUE_SUBDIR_MODE) < 0)
		r = layout_fail("chown/chmod", path);
	close(fd);
	return r;
}

/* private/ and pid/: created if missing, never followed. */
static int layout_plain_dir(int qfd, const char *name, const char *path,
			    mode_t mode)
{
	int fd = safedir_open_at(qfd, name, mode, NULL);

	if (fd < 0)
		return layout_fail(errno == ELOOP ? "a symbolic link, not a "
				   "directory:" : "open", path);
	close(fd);
	return 0;
}

static int layout_subdirs(const struct conf *c, int qfd, struct str *path)
{
	uid_t uid = SAFEDIR_KEEP_OWNER;
	gid_t gid = 0;

	if (geteuid() == 0 && priv_account(QUEUE_ACCOUNT, &uid, &gid) < 0) {
		snprintf(layout_error, sizeof(layout_error), "account %s does "
			 "not exist (run postern init as root)",
			 QUEUE_ACCOUNT);
		errno = ENOENT;
		return -1;
	}
	for (size_t i = 0; queue_layout_subdirs[i] != NULL; i++) {
		if (conf_queue_path(c, queue_layout_subdirs[i], path) < 0)
			return layout_fail("path", queue_layout_subdirs[i]);
		if (layout_queue_dir(qfd, queue_layout_subdirs[i], str_c(path),
				     uid, gid) < 0)
			return -1;
	}
	return 0;
}

int queue_layout_ensure(const struct conf *c, const char **error_r)
{
	struct str path = STR_INIT(0);
	int qfd, r = -1;

	*error_r = layout_error;
	layout_error[0] = '\0';
	qfd = safedir_open_top(c->queue_dir, 0755, NULL);
	if (qfd < 0) {
		layout_fail("open", c->queue_dir);
		goto out;
	}
	if (conf_queue_path(c, "private", &path) < 0 ||
	    layout_plain_dir(qfd, "private", str_c(&path), 0755) < 0 ||
	    conf_queue_path(c, "pid", &path) < 0 ||
	    layout_plain_dir(qfd, "pid", str_c(&path), 0700) < 0 ||
	    layout_subdirs(c, qfd, &path) < 0)
		goto out;
	r = 0;
out:
	if (r < 0 && layout_error[0] == '\0')
		layout_fail("queue layout", c->queue_dir);
	if (qfd >= 0)
		close(qfd);
	str_free(&path);
	return r;
}

static int layout_subdir_known(const char *subdir)
{
	for (size_t i = 0; queue_layout_subdirs[i] != NULL; i++)
		if (strcmp(queue_layout_subdirs[i], subdir) == 0)
			return 1;
	return 0;
}

int queue_layout_path(const struct conf *c, const char *subdir,
		      const char *id, struct str *out)
{
	if (!layout_subdir_known(subdir) || !queue_id_valid(id)) {
		str_clear(out);
		errno = EINVAL;
		return -1;
	}
	if (conf_queue_path(c, subdir, out) < 0 || str_appendc(out, '/') < 0 ||
	    str_appends(out, id) < 0) {
		str_clear(out);
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}
