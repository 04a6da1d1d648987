/*
 * safedir - directories and files that root sets up, reached without
 *           following a symbolic link
 *
 * Root-run setup (the master, postern init, the queue layout, postern
 * user add) creates directories in trees that unprivileged accounts can
 * write to, and gives them owners and modes. Done by path, a symlink
 * planted between the mkdir and the chown makes root chown or chmod
 * whatever the link points to. Here every directory below a top is
 * opened with O_DIRECTORY|O_NOFOLLOW relative to its parent's descriptor
 * (created with mkdirat() when missing), and owners and modes are set
 * with fchown()/fchmod() on that descriptor; a file is opened with
 * O_NOFOLLOW (O_PATH for a socket) and checked for its type before its
 * owner or mode is touched. A symlink where a directory or a file is
 * expected is refused (ELOOP), another type too (ENOTDIR, EEXIST).
 *
 * The top a walk starts from (queue_dir, mail_root, the directory given
 * to postern init) is the operator's choice, written in the
 * configuration or on the command line, and may be reached through
 * symlinks the operator made: it is opened as named.
 */
#ifndef POSTERN_SAFEDIR_H
#define POSTERN_SAFEDIR_H

#include <sys/types.h>

/* Leave the owner as it is (safedir_fix, safefile_fix). */
#define SAFEDIR_KEEP_OWNER ((uid_t)-1)

/* Open the directory path as named, creating what is missing of it with
 * mode (as mkdir -p); *created_r (may be NULL) is 1 when the last
 * component was created here, and then it was opened with O_NOFOLLOW.
 * The descriptor (O_CLOEXEC), or -1 with errno. */
int safedir_open_top(const char *path, mode_t mode, int *created_r);
/* Open the directory rel (one or more components separated by '/') under
 * the directory at, component by component, each with O_NOFOLLOW, and
 * create what is missing with mode; *created_r (may be NULL) is 1 when
 * the last component was created here. The descriptor, or -1 with errno:
 * ELOOP for a symlink, ENOTDIR for another non-directory. */
int safedir_open_at(int at, const char *rel, mode_t mode, int *created_r);
/* On the open directory fd: chown to uid:gid unless uid is
 * SAFEDIR_KEEP_OWNER or it is theirs already, chmod to mode (07777 bits)
 * unless it has it already. 0 or -1 with errno. */
int safedir_fix(int fd, uid_t uid, gid_t gid, mode_t mode);
/* Open the existing file name under at (or at path, whose last component
 * is not followed either) with O_PATH|O_NOFOLLOW: nothing is read, no
 * FIFO or device is opened for real. Its type must be type (S_IFREG,
 * S_IFSOCK, ...). The descriptor, or -1 with errno: ELOOP for a symlink,
 * EEXIST for another type. */
int safefile_open_at(int at, const char *name, mode_t type);
int safefile_open(const char *path, mode_t type);
/* chown a descriptor from safefile_open*: 0 or -1 with errno. */
int safefile_chown(int fd, uid_t uid, gid_t gid);

#endif
