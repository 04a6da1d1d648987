/*
 * sock - sockets: listeners, local connections, descriptor passing
 */
#ifndef POSTERN_SOCK_H
#define POSTERN_SOCK_H

#include <stddef.h>
#include <sys/types.h>

struct hostport;

/* Bind and listen (SO_REUSEADDR, IPV6_V6ONLY for v6, close-on-exec,
 * non-blocking). The wildcard binds "::" with v6only off, falling back to
 * 0.0.0.0 when IPv6 is absent. -1 with *error_r. */
int sock_listen_inet(const struct hostport *hp, int backlog,
		     const char **error_r);
/* Bind a unix stream socket at path (an old socket file is removed),
 * chmod it to mode, listen. */
int sock_listen_unix(const char *path, mode_t mode, int backlog,
		     const char **error_r);
/* Connect to a unix stream socket; blocking, close-on-exec. */
int sock_connect_unix(const char *path);
/* "ip" text of a peer or local address; "unix" for AF_UNIX. */
int sock_peer_addr(int fd, char *buf, size_t size);
int sock_local_port(int fd);
/* Pass one descriptor with a small payload over a unix socket. */
int sock_send_fd(int sock, int fd, const void *data, size_t len);
/* Receive; *fd_r is -1 if none came. Returns bytes of payload or -1. */
ssize_t sock_recv_fd(int sock, int *fd_r, void *data, size_t len);
int fd_nonblock(int fd, int on);
int fd_cloexec(int fd, int on);

#endif
