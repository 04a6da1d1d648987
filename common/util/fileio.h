/*
 * fileio - whole-file reads and the one atomic-write primitive
 *
 * file_write_atomic (STYLE.md 9): write "path.tmp.PID" in the same
 * directory, fsync it, rename it over path, fsync the directory. A reader
 * sees the old file or the new one, never a part; a crash leaves at most a
 * stray temporary file that the next write replaces.
 *
 * fd_write_all and fd_send_all write a whole buffer to a blocking
 * descriptor, retrying short writes and EINTR; fd_send_all uses
 * MSG_NOSIGNAL so a peer that went away gives EPIPE, never SIGPIPE.
 */
#ifndef POSTERN_FILEIO_H
#define POSTERN_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

struct str;

/* 0, or -1 with errno and *error_r = "step: reason" (static text, valid
 * until the next call); on failure path is untouched unless only the final
 * directory fsync failed. */
int file_write_atomic(const char *path, const void *data, size_t len,
		      mode_t mode, const char **error_r);
/* The same for dir_fd/name (a folder held open by descriptor): the
 * temporary file is dir_fd/name.tmp.PID. With FILE_ATOMIC_NOREPLACE an
 * existing name is kept (renameat2 RENAME_NOREPLACE) and the call fails
 * with EEXIST: two processes creating the same file never replace each
 * other's. */
#define FILE_ATOMIC_NOREPLACE 0x1u
int file_write_atomic_at(int dir_fd, const char *name, const void *data,
			 size_t len, mode_t mode, unsigned flags,
			 const char **error_r);
/* Read a whole file of at most max bytes into out (replacing it). -1 with
 * errno (EFBIG when larger than max). */
int file_read_all(const char *path, struct str *out, size_t max);
/* fsync the directory containing path (or path itself if a directory). */
int fsync_dir_of(const char *path);
/* mkdir -p with the given mode for missing components; 0 or -1/errno. */
int mkdir_p(const char *path, mode_t mode);
/* Set out to "dir/name" (replacing it; no doubled '/', an empty dir gives
 * just name). -1/EMSGSIZE past out's cap, and then out is empty. */
int path_join(struct str *out, const char *dir, const char *name);
/* All n bytes of p to fd (write(2) / send(2) with MSG_NOSIGNAL): 0, or -1
 * with errno. n may be 0 (p is then not touched). */
int fd_write_all(int fd, const void *p, size_t n);
int fd_send_all(int fd, const void *p, size_t n);

#endif
