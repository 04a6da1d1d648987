/*
 * sock - sockets: listeners, local connections, descriptor passing
 *
 * Listeners are created close-on-exec and non-blocking, for the master to
 * hand to its children and for event-driven daemons to accept from. Error
 * texts name the address and the system error, for example
 * "bind 127.0.0.1:25: Address already in use"; they live in a static
 * buffer that the next failing call overwrites.
 *
 * The wildcard listener is one "::" socket with IPV6_V6ONLY off, so it
 * takes IPv4 too (peers then appear as v4-mapped addresses, which
 * sock_peer_addr shows as plain IPv4). Where the kernel has no IPv6 it is
 * 0.0.0.0 instead. An explicit IPv6 address gets IPV6_V6ONLY on, so that
 * "[::]:25" and "0.0.0.0:25" can be configured side by side.
 *
 * Descriptor passing uses SCM_RIGHTS with at least one byte of payload (a
 * stream socket carries no ancillary data without one). A received message
 * that carries more than one descriptor keeps the first and closes the
 * rest, so a confused or hostile peer cannot fill our descriptor table.
 */
#include "util/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/cfgfile.h"

/* Descriptors we make room for on receive; all but the first are closed. */
#define SOCK_RECV_FDS_MAX 8

static char sock_errbuf[512];

/* Format "what label: strerror(err)" into sock_errbuf and return it. */
static const char *sock_error(const char *what, const char *label, int err)
{
	snprintf(sock_errbuf, sizeof(sock_errbuf), "%s %s: %s", what, label,
		 strerror(err));
	return sock_errbuf;
}

/* The IP text of an AF_INET or AF_INET6 address, v4-mapped shown as v4. */
static int sock_ntop(const struct sockaddr *sa, char *buf, size_t size)
{
	const struct sockaddr_in *sin = (const void *)sa;
	const struct sockaddr_in6 *sin6 = (const void *)sa;
	const char *r;

	if (sa->sa_family == AF_INET)
		r = inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)size);
	else if (sa->sa_family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	} else if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		r = inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf,
			      (socklen_t)size);
	else
		r = inet_ntop(AF_INET6, &sin6->sin6_addr, buf, (socklen_t)size);
	return r == NULL ? -1 : 0;
}

/* "127.0.0.1:25", "[::1]:25" or "*:25", for error messages. */
static void sock_label(char *buf, size_t size, const struct hostport *hp,
		       int wildcard)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned port = hp->port;

	if (wildcard)
		snprintf(buf, size, "*:%u", port);
	else if (hp->addrlen == 0 ||
		 sock_ntop((const void *)&hp->addr, ip, sizeof(ip)) < 0)
		snprintf(buf, size, "%s:%u", hp->host, port);
	else if (hp->addr.ss_family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", ip, port);
	else
		snprintf(buf, size, "%s:%u", ip, port);
}

/* Set IPV6_V6ONLY and SO_REUSEADDR as fits the family. */
static int sock_inet_opts(int fd, int family, int v6only)
{
	int on = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		return -1;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		       sizeof(v6only)) < 0)
		return -1;
	return 0;
}

/* socket, options, bind, listen; -1 with errno and *what_r naming the
 * step that failed. */
static int sock_bind_listen(const struct sockaddr *sa, socklen_t len,
			    int v6only, int backlog, const char **what_r)
{
	int fd, err;

	*what_r = "socket";
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd < 0)
		return -1;
	*what_r = "setsockopt";
	if (sock_inet_opts(fd, sa->sa_family, v6only) < 0)
		goto fail;
	*what_r = "bind";
	if (bind(fd, sa, len) < 0)
		goto fail;
	*what_r = "listen";
	if (listen(fd, backlog) < 0)
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* The wildcard: "::" with v6only off, or 0.0.0.0 without IPv6. */
static int sock_listen_any(uint16_t port, int backlog, const char **what_r)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;
	int fd;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_any;
	sin6.sin6_port = htons(port);
	fd = sock_bind_listen((const void *)&sin6, sizeof(sin6), 0, backlog,
			      what_r);
	if (fd >= 0 || (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL))
		return fd;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	sin.sin_port = htons(port);
	return sock_bind_listen((const void *)&sin, sizeof(sin), 0, backlog,
				what_r);
}

/* A numeric address from the configuration, with hp->port put in. */
static int sock_listen_addr(const struct hostport *hp, int backlog,
			    const char **what_r)
{
	struct sockaddr_storage ss;
	socklen_t len = hp->addrlen;

	*what_r = "socket";
	if (len == 0 || len > sizeof(ss)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(&ss, &hp->addr, len);
	if (ss.ss_family == AF_INET && len >= sizeof(struct sockaddr_in))
		((struct sockaddr_in *)(void *)&ss)->sin_port = htons(hp->port);
	else if (ss.ss_family == AF_INET6 &&
		 len >= sizeof(struct sockaddr_in6))
		((struct sockaddr_in6 *)(void *)&ss)->sin6_port =
			htons(hp->port);
	else {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return sock_bind_listen((const void *)&ss, len, 1, backlog, what_r);
}

int sock_listen_inet(const struct hostport *hp, int backlog,
		     const char **error_r)
{
	char label[sizeof(hp->host) + 16];
	const char *what;
	int wildcard = hp->host[0] == '\0';
	int fd, err;

	if (wildcard)
		fd = sock_listen_any(hp->port, backlog, &what);
	else
		fd = sock_listen_addr(hp, backlog, &what);
	if (fd >= 0)
		return fd;
	err = errno;
	sock_label(label, sizeof(label), hp, wildcard);
	*error_r = sock_error(what, label, err);
	errno = err;
	return -1;
}

/* Fill a sockaddr_un; -1 (ENAMETOOLONG) if path does not fit. */
static int sock_unix_addr(struct sockaddr_un *sun, const char *path)
{
	size_t n = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof(sun->sun_path)) {
		errno = n == 0 ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, n + 1);
	return 0;
}

/* The directory of path and its last component; sock_listen_unix_at
 * does the rest. The whole path must fit in sun_path: clients connect to
 * it by that name. */
int sock_listen_unix(const char *path, mode_t mode, int backlog,
		     const char **error_r)
{
	struct sockaddr_un sun;
	char dir[sizeof(sun.sun_path)];
	const char *slash = strrchr(path, '/');
	int dfd, fd, err;

	if (sock_unix_addr(&sun, path) < 0) {	/* then dir fits too */
		err = errno;
		*error_r = sock_error("bind", path, err);
		errno = err;
		return -1;
	}
	if (slash == NULL)
		memcpy(dir, ".", 2);
	else if (slash == path)
		memcpy(dir, "/", 2);
	else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err = errno;
		*error_r = sock_error("bind", path, err);
		errno = err;
		return -1;
	}
	fd = sock_listen_unix_at(dfd, slash != NULL ? slash + 1 : path, path,
				 mode, (gid_t)-1, backlog, error_r);
	err = errno;
	close(dfd);
	errno = err;
	return fd;
}

/* Remove a stale socket name under dirfd; refuse anything else (EEXIST),
 * a symlink included. */
static int sock_unlinkat_stale(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

/* The group of the socket name under dirfd, through a descriptor: the
 * name is not followed and must still be a socket. */
static int sock_chgrp_at(int dirfd, const char *name, gid_t gid)
{
	struct stat st;
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), r = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			errno = EEXIST;
		else
			r = fchownat(fd, "", (uid_t)-1, gid, AT_EMPTY_PATH);
	}
	if (r < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* bind under dirfd with mode (the umask decides a new socket's mode; a
 * path through /proc/self/fd reaches the directory that was checked, as
 * there is no bindat), the group, listen. A failure after bind removes
 * the name again. */
static int sock_unix_bind_at(int fd, int dirfd, const char *name,
			     mode_t mode, gid_t gid, int backlog,
			     const char **what_r)
{
	struct sockaddr_un sun;
	char via[sizeof(sun.sun_path)];
	mode_t old;
	int err, r;

	*what_r = "bind";
	if (snprintf(via, sizeof(via), "/proc/self/fd/%d/%s", dirfd, name) >=
	    (int)sizeof(via)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (sock_unix_addr(&sun, via) < 0)
		return -1;
	old = umask(~mode & 0777);
	r = bind(fd, (const void *)&sun, sizeof(sun));
	umask(old);
	if (r < 0)
		return -1;
	*what_r = "chgrp";
	if (gid == (gid_t)-1 || sock_chgrp_at(dirfd, name, gid) == 0) {
		*what_r = "listen";
		if (listen(fd, backlog) == 0)
			return 0;
	}
	err = errno;
	unlinkat(dirfd, name, 0);
	errno = err;
	return -1;
}

int sock_listen_unix_at(int dirfd, const char *name, const char *label,
			mode_t mode, gid_t gid, int backlog,
			const char **error_r)
{
	const char *what = "bind";
	int fd = -1, err;

	if (strchr(name, '/') != NULL || name[0] == '\0') {
		errno = EINVAL;
		goto fail;
	}
	if (sock_unlinkat_stale(dirfd, name) < 0)
		goto fail;
	what = "socket";
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || sock_unix_bind_at(fd, dirfd, name, mode, gid, backlog,
					&what) < 0)
		goto fail;
	return fd;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	*error_r = sock_error(what, label, err);
	errno = err;
	return -1;
}

int sock_connect_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd, err;

	if (sock_unix_addr(&sun, path) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	while (connect(fd, (const void *)&sun, sizeof(sun)) < 0) {
		if (errno == EINTR)
			continue;
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int sock_peer_addr(int fd, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (void *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_UNIX) {
		if (size < sizeof("unix")) {
			errno = ENOSPC;
			return -1;
		}
		memcpy(buf, "unix", sizeof("unix"));
		return 0;
	}
	return sock_ntop((const void *)&ss, buf, size);
}

int sock_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (void *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
	errno = EAFNOSUPPORT;
	return -1;
}

int sock_send_fd(int sock, int fd, const void *data, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)data, len };
	struct msghdr msg;
	struct cmsghdr *c;
	ssize_t n;

	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* Keep the first descriptor of all SCM_RIGHTS messages, close the rest. */
static int sock_take_fds(struct msghdr *msg)
{
	struct cmsghdr *c;
	int keep = -1;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		size_t i, n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (keep < 0)
				keep = fd;
			else
				close(fd);
		}
	}
	return keep;
}

ssize_t sock_recv_fd(int sock, int *fd_r, void *data, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SOCK_RECV_FDS_MAX)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { data, len };
	struct msghdr msg;
	ssize_t n;

	*fd_r = -1;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	*fd_r = sock_take_fds(&msg);
	return n;
}

int fd_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl) < 0 ? -1 : 0;
}

int fd_cloexec(int fd, int on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -1;
	fl = on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC;
	return fcntl(fd, F_SETFD, fl) < 0 ? -1 : 0;
}

int sock_nodelay(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int on = 1;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
		return 0;
	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}
