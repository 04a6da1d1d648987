/*
 * queue_layout - the directories under queue_dir, and paths into them
 *
 * The layout and its owners are described in queue_layout.h. Creating it
 * is idempotent and safe to repeat at every start: existing directories
 * are kept, only their owner and mode are corrected (as root), and nothing
 * is followed through a symlink.
 */
#include "mail/queue_layout.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/queue_id.h"
#include "util/fileio.h"
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

/* Make path a directory (mkdir with mode if missing); never a symlink. */
static int layout_dir(const char *path, mode_t mode, struct stat *st)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return layout_fail("mkdir", path);
	if (lstat(path, st) < 0)
		return layout_fail("lstat", path);
	if (!S_ISDIR(st->st_mode)) {
		errno = ENOTDIR;
		return layout_fail("not a directory:", path);
	}
	return 0;
}

/* A queue subdirectory: owned by uid:gid (when root) and mode 0700. */
static int layout_queue_dir(const char *path, int root, uid_t uid, gid_t gid)
{
	struct stat st;

	if (layout_dir(path, QUEUE_SUBDIR_MODE, &st) < 0)
		return -1;
	if (root && (st.st_uid != uid || st.st_gid != gid) &&
	    lchown(path, uid, gid) < 0)
		return layout_fail("chown", path);
	if ((st.st_mode & 07777) != QUEUE_SUBDIR_MODE &&
	    chmod(path, QUEUE_SUBDIR_MODE) < 0)
		return layout_fail("chmod", path);
	return 0;
}

static int layout_subdirs(const struct conf *c, struct str *path)
{
	int root = geteuid() == 0;
	uid_t uid = 0;
	gid_t gid = 0;

	if (root && priv_account(QUEUE_ACCOUNT, &uid, &gid) < 0) {
		snprintf(layout_error, sizeof(layout_error), "account %s does "
			 "not exist (run postern init as root)",
			 QUEUE_ACCOUNT);
		errno = ENOENT;
		return -1;
	}
	for (size_t i = 0; queue_layout_subdirs[i] != NULL; i++) {
		if (conf_queue_path(c, queue_layout_subdirs[i], path) < 0)
			return layout_fail("path", queue_layout_subdirs[i]);
		if (layout_queue_dir(str_c(path), root, uid, gid) < 0)
			return -1;
	}
	return 0;
}

int queue_layout_ensure(const struct conf *c, const char **error_r)
{
	struct str path = STR_INIT(0);
	struct stat st;
	int r = -1;

	*error_r = layout_error;
	layout_error[0] = '\0';
	if (mkdir_p(c->queue_dir, 0755) < 0) {
		layout_fail("mkdir", c->queue_dir);
		goto out;
	}
	if (conf_queue_path(c, "private", &path) < 0 ||
	    layout_dir(str_c(&path), 0755, &st) < 0 ||
	    conf_queue_path(c, "pid", &path) < 0 ||
	    layout_dir(str_c(&path), 0700, &st) < 0 ||
	    layout_subdirs(c, &path) < 0)
		goto out;
	r = 0;
out:
	if (r < 0 && layout_error[0] == '\0')
		layout_fail("queue layout", c->queue_dir);
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
