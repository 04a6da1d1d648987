/*
 * maildir_open - safe open of a Maildir and its sandbox (maildir_open.h)
 */
#include "mail/maildir_open.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define DIR_FLAGS (O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

int maildir_open_at(int root_fd, const struct mailbox_path *mp, int *fd_r,
		    const char **error_r)
{
	int dom, saved;

	*fd_r = -1;
	*error_r = "open domain directory";
	dom = openat(root_fd, mp->domain, O_PATH | DIR_FLAGS);
	if (dom < 0)
		return -1;
	*error_r = "open Maildir";
	*fd_r = openat(dom, mp->user, O_RDONLY | DIR_FLAGS);
	saved = errno;
	close(dom);
	errno = saved;
	return *fd_r >= 0 ? 0 : -1;
}

int maildir_open(const char *mail_root, const struct mailbox_path *mp,
		 int *fd_r, const char **error_r)
{
	int root, r, saved;

	*fd_r = -1;
	*error_r = "open mail_root";
	root = open(mail_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -1;
	r = maildir_open_at(root, mp, fd_r, error_r);
	saved = errno;
	close(root);
	errno = saved;
	return r;
}

int maildir_open_dir(int maildir_fd, const char *sub)
{
	return openat(maildir_fd, sub, O_RDONLY | DIR_FLAGS);
}

int maildir_confine(int maildir_fd, const char *name, unsigned flags,
		    struct sandbox_report *r, const char **error_r)
{
	struct sandbox_path path = { NULL, maildir_fd,
		SANDBOX_READ | SANDBOX_REMOVE | SANDBOX_CREATE };
	struct sandbox_profile p = { name, SANDBOX_SYS_FSWRITE, &path, 1 };

	if (flags & MAILDIR_CONFINE_WRITE)
		path.rights |= SANDBOX_WRITE | SANDBOX_MKDIR;
	if (flags & MAILDIR_CONFINE_MOVE)
		path.rights |= SANDBOX_RENAME;
	if (flags & MAILDIR_CONFINE_WATCH)
		p.sys |= SANDBOX_SYS_NOTIFY;
	return sandbox_apply(&p, r, error_r);
}

void maildir_confine_describe(const char *name, const struct sandbox_report *r,
			      char *buf, size_t size)
{
	struct sandbox_profile p = { name, SANDBOX_SYS_FSWRITE, NULL, 0 };

	sandbox_describe(&p, r, buf, size);
}
