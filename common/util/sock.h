/*
 * sock - sockets: listeners, local connections, descriptor passing
 *
 * Functions return 0 (or a descriptor, count, port) on success and -1 with
 * errno on failure. Listener error texts ("bind 127.0.0.1:25: Address
 * already in use") are in a static buffer overwritten by the next failure.
 */
#ifndef POSTERN_SOCK_H
#define POSTERN_SOCK_H

#include <stddef.h>
#include <sys/types.h>

struct hostport;

/* Bind and listen (SO_REUSEADDR, IPV6_V6ONLY for v6, close-on-exec,
 * non-blocking). The wildcard (host "") binds "::" with v6only off,
 * falling back to 0.0.0.0 when IPv6 is absent; any other host must be
 * numeric, in hp->addr. -1 with *error_r. */
int sock_listen_inet(const struct hostport *hp, int backlog,
		     const char **error_r);
/* Bind a unix stream socket at path (an old socket file is removed, any
 * other file, a symlink too, is refused with EEXIST) with mode, listen:
 * sock_listen_unix_at in path's directory. Close-on-exec and
 * non-blocking; -1 with *error_r. */
int sock_listen_unix(const char *path, mode_t mode, int backlog,
		     const char **error_r);
/* The same in the directory dirfd (opened without following symlinks,
 * safedir.h), by root's setup: an old socket name is removed, any other
 * file (a symlink too) refused with EEXIST; the mode is given at bind
 * time (through the umask: not for threaded programs) and, when gid is
 * not (gid_t)-1, the group through a descriptor opened with O_NOFOLLOW,
 * both before listen(2), so nobody can connect before they are in place.
 * label names the socket in *error_r; the name clients connect to must
 * fit in sun_path (the caller checks: dirfd's path is not known here). */
int sock_listen_unix_at(int dirfd, const char *name, const char *label,
			mode_t mode, gid_t gid, int backlog,
			const char **error_r);
/* Connect to a unix stream socket; blocking, close-on-exec. */
int sock_connect_unix(const char *path);
/* "ip" text of the peer's address (v4-mapped IPv6 shown as IPv4);
 * "unix" for AF_UNIX. 0, or -1 (ENOSPC if buf is too small). */
int sock_peer_addr(int fd, char *buf, size_t size);
/* The local port of an inet socket (after binding port 0, for tests). */
int sock_local_port(int fd);
/* Pass one descriptor (none if fd < 0) with a payload of len >= 1 bytes
 * over a unix socket, in one message. 0 or -1. */
int sock_send_fd(int sock, int fd, const void *data, size_t len);
/* Receive; *fd_r is -1 if none came (close-on-exec; extra descriptors in
 * the same message are closed). Returns bytes of payload, 0 at EOF, -1. */
ssize_t sock_recv_fd(int sock, int *fd_r, void *data, size_t len);
/* Send small replies at once (no Nagle delay behind a pipelining
 * client's delayed ACK). 0, or -1 for a TCP socket that refused; any
 * other kind of socket is left alone and 0 returned. */
int sock_nodelay(int fd);
int fd_nonblock(int fd, int on);
int fd_cloexec(int fd, int on);

#endif
