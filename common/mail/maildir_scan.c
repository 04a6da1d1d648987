/*
 * maildir_scan - new/ -> cur/, listing, finding again (maildir_scan.h)
 */
#include "mail/maildir_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

/* A DIR stream on dir_fd's directory, leaving dir_fd alone. */
static DIR *scan_open(int dir_fd)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (d == NULL && fd >= 0) {
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return d;
}

/* The cur/ name of new/NAME. */
static int cur_name(const char *name, const struct maildir_name *m,
		    struct str *to)
{
	str_clear(to);
	if (str_appends(to, name) < 0)
		return -1;
	if (m->info == NULL && to->len + 3 <= MAILDIR_NAME_MAX)
		return str_appends(to, ":2,");
	return 0;
}

int maildir_scan_new(int maildir_fd, int cur_fd, const char *log_id,
		     unsigned *moved_r)
{
	struct str to = STR_INIT(0);
	struct maildir_name m;
	struct dirent *de;
	int nfd, saved;
	DIR *d;

	*moved_r = 0;
	nfd = openat(maildir_fd, "new", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		     O_CLOEXEC);
	d = nfd >= 0 ? fdopendir(nfd) : NULL;
	if (d == NULL) {
		saved = errno;
		if (nfd >= 0)
			close(nfd);
		errno = saved;
		return -1;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (maildir_name_parse(de->d_name, &m) < 0 ||
		    (de->d_type != DT_REG && de->d_type != DT_UNKNOWN) ||
		    cur_name(de->d_name, &m, &to) < 0)
			continue;
		if (renameat(nfd, de->d_name, cur_fd, str_c(&to)) == 0)
			(*moved_r)++;
		else if (errno != ENOENT)
			log_warn(log_id, "rename new/%s to cur/: %s", de->d_name,
				 strerror(errno));
		errno = 0;
	}
	saved = errno;
	closedir(d);
	str_free(&to);
	errno = saved;
	return saved != 0 ? -1 : 0;
}

int maildir_scan_dir(int dir_fd, maildir_scan_fn *fn, void *arg)
{
	struct maildir_name m;
	struct dirent *de;
	int r = 0, saved;
	DIR *d = scan_open(dir_fd);

	if (d == NULL)
		return -1;
	errno = 0;
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (maildir_name_parse(de->d_name, &m) < 0 ||
		    (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
			continue;
		r = fn(arg, de->d_name, &m);
		if (r == 0)
			errno = 0;
	}
	saved = r > 0 ? 0 : errno;
	closedir(d);
	errno = saved;
	return r < 0 || (r == 0 && saved != 0) ? -1 : 0;
}

int maildir_scan_find(int dir_fd, const char *base, size_t base_len,
		      struct str *name_r)
{
	struct maildir_name m;
	struct dirent *de;
	int found = 0, saved;
	DIR *d = scan_open(dir_fd);

	if (d == NULL)
		return -1;
	errno = 0;
	while (!found && (de = readdir(d)) != NULL) {
		if (maildir_name_parse(de->d_name, &m) < 0 ||
		    m.base_len != base_len ||
		    memcmp(de->d_name, base, base_len) != 0)
			continue;
		if (str_sets(name_r, de->d_name) < 0)
			break;
		found = 1;
	}
	saved = found ? 0 : errno;
	closedir(d);
	errno = saved;
	return found ? 1 : saved != 0 ? -1 : 0;
}
