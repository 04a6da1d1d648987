/*
 * test_sock - listeners (inet and unix), peer addresses, descriptor passing
 *
 * Listens on loopback port 0 only; unix sockets live in a mkdtemp directory
 * that each test removes again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "test.h"
#include "util/cfgfile.h"
#include "util/sock.h"
#include "util/str.h"

static void hp_v4(struct hostport *hp, const char *ip, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&hp->addr;

	memset(hp, 0, sizeof(*hp));
	snprintf(hp->host, sizeof(hp->host), "%s", ip);
	hp->port = port;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin->sin_addr);
	hp->addrlen = sizeof(*sin);
}

static void hp_v6(struct hostport *hp, const char *ip, uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&hp->addr;

	memset(hp, 0, sizeof(*hp));
	snprintf(hp->host, sizeof(hp->host), "%s", ip);
	hp->port = port;
	sin6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &sin6->sin6_addr);
	hp->addrlen = sizeof(*sin6);
}

/* Connect a blocking TCP client to ip:port; -1 on failure. */
static int tcp_connect(int family, const char *ip, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &sin->sin_addr);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, ip, &sin6->sin6_addr);
		len = sizeof(*sin6);
	}
	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Accept from a non-blocking listener, waiting up to a second. */
static int accept_wait(int lfd)
{
	struct pollfd p = { lfd, POLLIN, 0 };

	if (poll(&p, 1, 1000) != 1)
		return -1;
	return accept(lfd, NULL, NULL);
}

static void test_listen_v4_peer(void)
{
	struct hostport hp;
	const char *err = NULL;
	char buf[64];
	int lfd, port, c, a;

	hp_v4(&hp, "127.0.0.1", 0);
	lfd = sock_listen_inet(&hp, 5, &err);
	TEST_ASSERT(lfd >= 0);
	if (lfd < 0)
		return;
	TEST_ASSERT(fcntl(lfd, F_GETFL) & O_NONBLOCK);
	TEST_ASSERT(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
	port = sock_local_port(lfd);
	TEST_ASSERT(port > 0 && port < 65536);
	c = tcp_connect(AF_INET, "127.0.0.1", port);
	TEST_ASSERT(c >= 0);
	a = accept_wait(lfd);
	TEST_ASSERT(a >= 0);
	TEST_ASSERT(sock_peer_addr(a, buf, sizeof(buf)) == 0);
	TEST_STREQ(buf, "127.0.0.1");
	TEST_ASSERT(sock_peer_addr(c, buf, sizeof(buf)) == 0);
	TEST_STREQ(buf, "127.0.0.1");
	close(a);
	close(c);
	close(lfd);
}

/* Is IPv6 loopback usable here? */
static int ipv6_available(void)
{
	struct sockaddr_in6 sin6;
	int fd = socket(AF_INET6, SOCK_STREAM, 0), ok;

	if (fd < 0)
		return 0;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	ok = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	close(fd);
	return ok;
}

static void test_listen_v6_peer(void)
{
	struct hostport hp;
	const char *err = NULL;
	char buf[64];
	int lfd, port, c, a, v6only = 0;
	socklen_t len = sizeof(v6only);

	if (!ipv6_available()) {
		printf("note: IPv6 loopback unavailable, [::1] test skipped\n");
		return;
	}
	hp_v6(&hp, "::1", 0);
	lfd = sock_listen_inet(&hp, 5, &err);
	TEST_ASSERT(lfd >= 0);
	if (lfd < 0)
		return;
	TEST_ASSERT(getsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
			       &len) == 0);
	TEST_ASSERT(v6only == 1);
	port = sock_local_port(lfd);
	TEST_ASSERT(port > 0);
	c = tcp_connect(AF_INET6, "::1", port);
	TEST_ASSERT(c >= 0);
	a = accept_wait(lfd);
	TEST_ASSERT(a >= 0);
	TEST_ASSERT(sock_peer_addr(a, buf, sizeof(buf)) == 0);
	TEST_STREQ(buf, "::1");
	close(a);
	close(c);
	close(lfd);
}

/* The wildcard takes IPv4 too; a v4-mapped peer shows as plain IPv4. */
static void test_listen_wildcard(void)
{
	struct hostport hp;
	const char *err = NULL;
	char buf[64];
	int lfd, port, c, a;

	memset(&hp, 0, sizeof(hp));
	lfd = sock_listen_inet(&hp, 5, &err);
	TEST_ASSERT(lfd >= 0);
	if (lfd < 0)
		return;
	port = sock_local_port(lfd);
	TEST_ASSERT(port > 0);
	c = tcp_connect(AF_INET, "127.0.0.1", port);
	TEST_ASSERT(c >= 0);
	a = accept_wait(lfd);
	TEST_ASSERT(a >= 0);
	TEST_ASSERT(sock_peer_addr(a, buf, sizeof(buf)) == 0);
	TEST_STREQ(buf, "127.0.0.1");
	close(a);
	close(c);
	close(lfd);
}

static void test_listen_in_use(void)
{
	struct hostport hp;
	const char *err = NULL;
	char want[80];
	int lfd, lfd2, port;

	hp_v4(&hp, "127.0.0.1", 0);
	lfd = sock_listen_inet(&hp, 5, &err);
	TEST_ASSERT(lfd >= 0);
	port = sock_local_port(lfd);
	hp.port = (uint16_t)port;
	lfd2 = sock_listen_inet(&hp, 5, &err);
	TEST_ASSERT(lfd2 == -1);
	TEST_ASSERT(errno == EADDRINUSE);
	snprintf(want, sizeof(want), "bind 127.0.0.1:%d: %s", port,
		 strerror(EADDRINUSE));
	TEST_STREQ(err, want);
	if (lfd2 >= 0)
		close(lfd2);
	close(lfd);
}

/* A host that was never resolved is refused, not bound as a wildcard. */
static void test_listen_unresolved_host(void)
{
	struct hostport hp;
	const char *err = NULL;

	memset(&hp, 0, sizeof(hp));
	snprintf(hp.host, sizeof(hp.host), "mail.example");
	hp.port = 25;
	TEST_ASSERT(sock_listen_inet(&hp, 5, &err) == -1);
	TEST_ASSERT(err != NULL && strstr(err, "mail.example:25: ") != NULL);
}

static char tmpdir[64];

static int tmpdir_make(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/postern-test-sock.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static void tmp_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void test_unix_listen_connect(void)
{
	const char *err = NULL;
	char path[128], buf[16];
	struct stat st;
	int lfd, c, a;

	TEST_ASSERT(tmpdir_make() == 0);
	tmp_path(path, sizeof(path), "s");
	lfd = sock_listen_unix(path, 0660, 5, &err);
	TEST_ASSERT(lfd >= 0);
	TEST_ASSERT(stat(path, &st) == 0);
	TEST_ASSERT(S_ISSOCK(st.st_mode));
	TEST_ASSERT((st.st_mode & 07777) == 0660);
	TEST_ASSERT(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
	c = sock_connect_unix(path);
	TEST_ASSERT(c >= 0);
	TEST_ASSERT(fcntl(c, F_GETFD) & FD_CLOEXEC);
	TEST_ASSERT((fcntl(c, F_GETFL) & O_NONBLOCK) == 0);
	a = accept_wait(lfd);
	TEST_ASSERT(a >= 0);
	TEST_ASSERT(sock_peer_addr(a, buf, sizeof(buf)) == 0);
	TEST_STREQ(buf, "unix");
	TEST_ASSERT(sock_peer_addr(a, buf, 3) == -1);
	TEST_ASSERT(sock_local_port(a) == -1);
	TEST_ASSERT(write(c, "hi", 2) == 2);
	TEST_ASSERT(read(a, buf, sizeof(buf)) == 2 && memcmp(buf, "hi", 2) == 0);
	close(a);
	close(c);
	close(lfd);
	unlink(path);
	rmdir(tmpdir);
}

static void test_unix_mode_applied(void)
{
	const char *err = NULL;
	char path[128];
	struct stat st;
	int lfd;

	TEST_ASSERT(tmpdir_make() == 0);
	tmp_path(path, sizeof(path), "private");
	lfd = sock_listen_unix(path, 0600, 5, &err);
	TEST_ASSERT(lfd >= 0);
	TEST_ASSERT(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	close(lfd);
	unlink(path);
	rmdir(tmpdir);
}

static void test_unix_path_too_long(void)
{
	struct sockaddr_un sun;
	char path[sizeof(sun.sun_path) + 20];
	const char *err = NULL;

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	TEST_ASSERT(sock_listen_unix(path, 0600, 5, &err) == -1);
	TEST_ASSERT(errno == ENAMETOOLONG);
	TEST_ASSERT(err != NULL && strstr(err, strerror(ENAMETOOLONG)) != NULL);
	TEST_ASSERT(sock_connect_unix(path) == -1 && errno == ENAMETOOLONG);
	/* exactly one byte too long for sun_path with its NUL */
	path[sizeof(sun.sun_path)] = '\0';
	TEST_ASSERT(sock_connect_unix(path) == -1 && errno == ENAMETOOLONG);
}

/* Leave a socket file behind as a crashed daemon would. */
static int make_stale_socket(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (cstr_copy(sun.sun_path, sizeof(sun.sun_path), path) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void test_unix_replaces_stale_socket(void)
{
	const char *err = NULL;
	char path[128];
	int lfd, c;

	TEST_ASSERT(tmpdir_make() == 0);
	tmp_path(path, sizeof(path), "stale");
	TEST_ASSERT(make_stale_socket(path) == 0);
	TEST_ASSERT(sock_connect_unix(path) == -1 && errno == ECONNREFUSED);
	lfd = sock_listen_unix(path, 0666, 5, &err);
	TEST_ASSERT(lfd >= 0);
	c = sock_connect_unix(path);
	TEST_ASSERT(c >= 0);
	close(c);
	close(lfd);
	unlink(path);
	rmdir(tmpdir);
}

static void test_unix_refuses_regular_file(void)
{
	const char *err = NULL;
	char path[128], want[200];
	struct stat st;
	int fd;

	TEST_ASSERT(tmpdir_make() == 0);
	tmp_path(path, sizeof(path), "file");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	TEST_ASSERT(fd >= 0 && write(fd, "x", 1) == 1);
	close(fd);
	TEST_ASSERT(sock_listen_unix(path, 0600, 5, &err) == -1);
	TEST_ASSERT(errno == EEXIST);
	snprintf(want, sizeof(want), "bind %s: %s", path, strerror(EEXIST));
	TEST_STREQ(err, want);
	TEST_ASSERT(stat(path, &st) == 0 && S_ISREG(st.st_mode));
	TEST_ASSERT(st.st_size == 1);
	unlink(path);
	rmdir(tmpdir);
}

static void test_connect_unix_missing(void)
{
	TEST_ASSERT(sock_connect_unix("/nonexistent-postern/sock") == -1);
	TEST_ASSERT(errno == ENOENT);
	TEST_ASSERT(sock_connect_unix("") == -1);
}

static void test_fd_passing(void)
{
	int sv[2], p[2], got = -2;
	char buf[16];

	TEST_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	TEST_ASSERT(pipe(p) == 0);
	TEST_ASSERT(sock_send_fd(sv[0], p[1], "hello", 5) == 0);
	close(p[1]);
	TEST_ASSERT(sock_recv_fd(sv[1], &got, buf, sizeof(buf)) == 5);
	TEST_ASSERT(memcmp(buf, "hello", 5) == 0);
	TEST_ASSERT(got >= 0);
	if (got >= 0) {
		TEST_ASSERT(fcntl(got, F_GETFD) & FD_CLOEXEC);
		TEST_ASSERT(write(got, "via", 3) == 3);
		close(got);
	}
	TEST_ASSERT(read(p[0], buf, sizeof(buf)) == 3);
	TEST_ASSERT(memcmp(buf, "via", 3) == 0);
	TEST_ASSERT(read(p[0], buf, sizeof(buf)) == 0);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}

/* Send two descriptors in one message, by hand. */
static int send_two_fds(int sock, int fd1, int fd2)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	int fds[2] = { fd1, fd2 };
	struct iovec iov = { (void *)"2", 1 };
	struct msghdr msg;
	struct cmsghdr *c;

	memset(&u, 0, sizeof(u));
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/* The second descriptor is closed: its pipe then reads end of file. */
static void test_recv_closes_extra_fds(void)
{
	int sv[2], a[2], b[2], got = -2;
	char buf[4];

	TEST_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	TEST_ASSERT(pipe(a) == 0 && pipe(b) == 0);
	TEST_ASSERT(send_two_fds(sv[0], a[1], b[1]) == 0);
	close(a[1]);
	close(b[1]);
	TEST_ASSERT(sock_recv_fd(sv[1], &got, buf, sizeof(buf)) == 1);
	TEST_ASSERT(buf[0] == '2');
	TEST_ASSERT(got >= 0);
	TEST_ASSERT(read(b[0], buf, sizeof(buf)) == 0);
	if (got >= 0) {
		TEST_ASSERT(write(got, "A", 1) == 1);
		close(got);
	}
	TEST_ASSERT(read(a[0], buf, sizeof(buf)) == 1 && buf[0] == 'A');
	close(a[0]);
	close(b[0]);
	close(sv[0]);
	close(sv[1]);
}

static void test_send_without_fd(void)
{
	int sv[2], got = -2;
	char buf[8];

	TEST_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	TEST_ASSERT(sock_send_fd(sv[0], -1, "abc", 3) == 0);
	TEST_ASSERT(sock_recv_fd(sv[1], &got, buf, sizeof(buf)) == 3);
	TEST_ASSERT(got == -1);
	TEST_ASSERT(memcmp(buf, "abc", 3) == 0);
	TEST_ASSERT(sock_send_fd(sv[0], 0, "", 0) == -1 && errno == EINVAL);
	close(sv[0]);
	got = -2;
	TEST_ASSERT(sock_recv_fd(sv[1], &got, buf, sizeof(buf)) == 0);
	TEST_ASSERT(got == -1);
	close(sv[1]);
}

static void test_send_to_closed_peer(void)
{
	int sv[2], p[2];

	TEST_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	TEST_ASSERT(pipe(p) == 0);
	close(sv[1]);
	/* MSG_NOSIGNAL: EPIPE, not a SIGPIPE that kills the test */
	TEST_ASSERT(sock_send_fd(sv[0], p[0], "x", 1) == -1);
	TEST_ASSERT(errno == EPIPE);
	close(sv[0]);
	close(p[0]);
	close(p[1]);
}

static void test_fd_flags(void)
{
	int p[2];

	TEST_ASSERT(pipe(p) == 0);
	TEST_ASSERT((fcntl(p[0], F_GETFL) & O_NONBLOCK) == 0);
	TEST_ASSERT(fd_nonblock(p[0], 1) == 0);
	TEST_ASSERT(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	TEST_ASSERT(fd_nonblock(p[0], 0) == 0);
	TEST_ASSERT((fcntl(p[0], F_GETFL) & O_NONBLOCK) == 0);
	TEST_ASSERT(fd_cloexec(p[1], 1) == 0);
	TEST_ASSERT(fcntl(p[1], F_GETFD) & FD_CLOEXEC);
	TEST_ASSERT(fd_cloexec(p[1], 0) == 0);
	TEST_ASSERT((fcntl(p[1], F_GETFD) & FD_CLOEXEC) == 0);
	close(p[0]);
	close(p[1]);
	TEST_ASSERT(fd_nonblock(p[0], 1) == -1 && errno == EBADF);
	TEST_ASSERT(fd_cloexec(p[0], 1) == -1 && errno == EBADF);
}

/* TCP_NODELAY is set on TCP sockets; other sockets are left alone. */
static void test_nodelay(void)
{
	int tcp = socket(AF_INET, SOCK_STREAM, 0), sp[2], on = 0;
	socklen_t len = sizeof(on);

	TEST_ASSERT(tcp >= 0);
	TEST_ASSERT(getsockopt(tcp, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0);
	TEST_ASSERT(on == 0);
	TEST_ASSERT(sock_nodelay(tcp) == 0);
	len = sizeof(on);
	TEST_ASSERT(getsockopt(tcp, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0);
	TEST_ASSERT(on != 0);
	close(tcp);
	TEST_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	TEST_ASSERT(sock_nodelay(sp[0]) == 0);
	close(sp[0]);
	close(sp[1]);
	TEST_ASSERT(sock_nodelay(-1) < 0);
}

TEST_MAIN(test_listen_v4_peer, test_listen_v6_peer, test_listen_wildcard,
	  test_listen_in_use, test_listen_unresolved_host,
	  test_unix_listen_connect, test_unix_mode_applied,
	  test_unix_path_too_long, test_unix_replaces_stale_socket,
	  test_unix_refuses_regular_file, test_connect_unix_missing,
	  test_fd_passing, test_recv_closes_extra_fds, test_send_without_fd,
	  test_send_to_closed_peer, test_fd_flags, test_nodelay)
