/*
 * io - buffered reading and writing on a descriptor, with deadlines
 *
 * See io.h for the contract. How it is done:
 *
 * A deadline is an absolute CLOCK_MONOTONIC time in milliseconds (or
 * IO_FOREVER); io_wait() polls for one direction until it. Sockets are
 * read and written with MSG_DONTWAIT, so "not ready" comes back as EAGAIN
 * and we poll; other descriptors are polled first, because a read or write
 * on a blocking pipe would sleep past any deadline.
 *
 * Under TLS the SSL object talks to the socket through io_bio, a minimal
 * BIO that uses recv/send with MSG_DONTWAIT | MSG_NOSIGNAL: OpenSSL's own
 * socket BIO uses write(2), which raises SIGPIPE on a closed peer, and
 * needs the descriptor switched to non-blocking. SSL_ERROR_WANT_READ and
 * SSL_ERROR_WANT_WRITE then tell us which direction to poll for.
 */
#include "util/io.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "util/tls.h"

#define IO_FOREVER INT64_MAX

enum { IO_FD_OTHER = 0, IO_FD_SOCKET = 1, IO_FD_FILE = 2 };

/* ---- deadlines --------------------------------------------------------- */

static int64_t io_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t io_deadline(int timeout_ms)
{
	if (timeout_ms < 0)
		return IO_FOREVER;
	return io_now_ms() + timeout_ms;
}

/* Wait until fd is ready for events: 1 ready, 0 deadline passed, -1 error
 * (errno). POLLHUP/POLLERR count as ready: the next call reports them. */
static int io_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	int r;

	for (;;) {
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		left = -1;
		if (deadline != IO_FOREVER) {
			left = deadline - io_now_ms();
			if (left < 0)
				left = 0;
			if (left > INT_MAX)
				left = INT_MAX;
		}
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		if (pfd.revents & POLLNVAL) {
			errno = EBADF;
			return -1;
		}
		return 1;
	}
}

/* io_wait() turned into an io_result. */
static int io_wait_result(int fd, short events, int64_t deadline)
{
	int r = io_wait(fd, events, deadline);

	if (r > 0)
		return IO_OK;
	if (r == 0) {
		errno = ETIMEDOUT;
		return IO_TIMEOUT;
	}
	return IO_ERR;
}

static int io_again(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* ---- the BIO under TLS ------------------------------------------------- */

static BIO_METHOD *io_bio_method;
static CRYPTO_ONCE io_bio_once = CRYPTO_ONCE_STATIC_INIT;

static int io_bio_fd(BIO *b)
{
	return (int)(intptr_t)BIO_get_data(b);
}

static int io_bio_write(BIO *b, const char *p, size_t n, size_t *done_r)
{
	ssize_t r;

	BIO_clear_retry_flags(b);
	r = send(io_bio_fd(b), p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r < 0) {
		if (io_again(errno))
			BIO_set_retry_write(b);
		return 0;
	}
	*done_r = (size_t)r;
	return 1;
}

static int io_bio_read(BIO *b, char *p, size_t n, size_t *done_r)
{
	ssize_t r;

	BIO_clear_retry_flags(b);
	r = recv(io_bio_fd(b), p, n, MSG_DONTWAIT);
	if (r < 0) {
		if (io_again(errno))
			BIO_set_retry_read(b);
		return 0;
	}
	if (r == 0) {
		BIO_set_flags(b, BIO_FLAGS_IN_EOF);
		return 0;
	}
	*done_r = (size_t)r;
	return 1;
}

static long io_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)num;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
	case BIO_C_GET_FD:
		if (ptr != NULL)
			*(int *)ptr = io_bio_fd(b);
		return io_bio_fd(b);
	default:
		return 0;
	}
}

static void io_bio_method_init(void)
{
	BIO_METHOD *m;
	int idx = BIO_get_new_index();

	if (idx < 0)
		return;
	m = BIO_meth_new(idx | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
			 "postern socket");
	if (m == NULL)
		return;
	if (!BIO_meth_set_write_ex(m, io_bio_write) ||
	    !BIO_meth_set_read_ex(m, io_bio_read) ||
	    !BIO_meth_set_ctrl(m, io_bio_ctrl)) {
		BIO_meth_free(m);
		return;
	}
	io_bio_method = m;
}

static BIO *io_bio_new(int fd)
{
	BIO *b;

	if (!CRYPTO_THREAD_run_once(&io_bio_once, io_bio_method_init) ||
	    io_bio_method == NULL)
		return NULL;
	b = BIO_new(io_bio_method);
	if (b == NULL)
		return NULL;
	BIO_set_data(b, (void *)(intptr_t)fd);
	BIO_set_init(b, 1);
	return b;
}

/* After an SSL call returned r <= 0: IO_OK to retry once the descriptor is
 * ready (*events_r says for what), else IO_EOF or IO_ERR. */
static int io_ssl_status(SSL *ssl, int r, short *events_r)
{
	int saved = errno;

	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		*events_r = POLLIN;
		return IO_OK;
	case SSL_ERROR_WANT_WRITE:
		*events_r = POLLOUT;
		return IO_OK;
	case SSL_ERROR_ZERO_RETURN:
		return IO_EOF;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && saved == 0)
			return IO_EOF;
		errno = saved != 0 ? saved : EPROTO;
		return IO_ERR;
	default:
		errno = EPROTO;
		return IO_ERR;
	}
}

/* ---- reading ------------------------------------------------------------ */

static int io_fill_ssl(struct io *io, size_t space, int64_t deadline)
{
	short events;
	int r, st;
	int n = space > INT_MAX ? INT_MAX : (int)space;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		r = SSL_read(io->ssl, io->rbuf + io->rend, n);
		if (r > 0) {
			io->rend += (size_t)r;
			return IO_OK;
		}
		st = io_ssl_status(io->ssl, r, &events);
		if (st != IO_OK)
			return st;
		st = io_wait_result(io->fd, events, deadline);
		if (st != IO_OK)
			return st;
	}
}

static ssize_t io_sys_read(struct io *io, size_t space)
{
	if (io->fdkind == IO_FD_SOCKET)
		return recv(io->fd, io->rbuf + io->rend, space, MSG_DONTWAIT);
	return read(io->fd, io->rbuf + io->rend, space);
}

static int io_fill_plain(struct io *io, size_t space, int64_t deadline)
{
	ssize_t r;
	int st;

	for (;;) {
		/* a socket is read at once, unless we have just written to it:
		 * then the peer's answer is not there yet, and a read would
		 * only say so (one system call saved per command) */
		if (io->fdkind != IO_FD_SOCKET || io->asked) {
			io->asked = 0;
			st = io_wait_result(io->fd, POLLIN, deadline);
			if (st != IO_OK)
				return st;
		}
		r = io_sys_read(io, space);
		if (r > 0) {
			io->rend += (size_t)r;
			return IO_OK;
		}
		if (r == 0)
			return IO_EOF;
		if (!io_again(errno))
			return IO_ERR;
		if (io->fdkind == IO_FD_SOCKET && errno != EINTR) {
			st = io_wait_result(io->fd, POLLIN, deadline);
			if (st != IO_OK)
				return st;
		}
	}
}

/* Read more input into rbuf (which the caller has emptied, or which still
 * has room). IO_OK when at least one byte arrived. */
static int io_fill(struct io *io, int64_t deadline)
{
	int r;

	if (io->eof)
		return IO_EOF;
	if (io->rpos == io->rend)
		io->rpos = io->rend = 0;
	if (io->ssl != NULL)
		r = io_fill_ssl(io, sizeof(io->rbuf) - io->rend, deadline);
	else
		r = io_fill_plain(io, sizeof(io->rbuf) - io->rend, deadline);
	if (r == IO_EOF)
		io->eof = 1;
	return r;
}

/* Take the next piece of the current line from rbuf into line (or drop it
 * once the line is known to be too long). 1 when the LF was taken. */
static int io_take_line_part(struct io *io, struct str *line, size_t maxlen,
			     int *toolong)
{
	const char *start = io->rbuf + io->rpos;
	size_t avail = io->rend - io->rpos;
	const char *lf = memchr(start, '\n', avail);
	size_t n = lf != NULL ? (size_t)(lf - start) + 1 : avail;

	if (!*toolong) {
		if (n > maxlen - line->len || str_append(line, start, n) < 0) {
			*toolong = 1;
			str_clear(line);
		}
	}
	io->rpos += n;
	return lf != NULL;
}

int io_read_line(struct io *io, struct str *line, size_t maxlen)
{
	int64_t deadline = io_deadline(io->timeout_ms);
	int toolong = 0, r;

	str_clear(line);
	for (;;) {
		if (io->rpos == io->rend) {
			r = io_fill(io, deadline);
			if (r == IO_EOF && toolong)
				return IO_TOOLONG;
			if (r == IO_EOF && line->len > 0)
				return IO_OK;
			if (r != IO_OK) {
				str_clear(line);
				return r;
			}
		}
		if (io_take_line_part(io, line, maxlen, &toolong))
			return toolong ? IO_TOOLONG : IO_OK;
	}
}

int io_read(struct io *io, void *buf, size_t n, size_t *got_r)
{
	size_t avail;
	int r;

	*got_r = 0;
	if (n == 0)
		return IO_OK;
	if (io->rpos == io->rend) {
		r = io_fill(io, io_deadline(io->timeout_ms));
		if (r != IO_OK)
			return r;
	}
	avail = io->rend - io->rpos;
	if (n > avail)
		n = avail;
	memcpy(buf, io->rbuf + io->rpos, n);
	io->rpos += n;
	*got_r = n;
	return IO_OK;
}

size_t io_pending(const struct io *io)
{
	size_t n = io->rend - io->rpos;
	int p;

	if (io->ssl != NULL) {
		p = SSL_pending(io->ssl);
		if (p > 0)
			n += (size_t)p;
	}
	return n;
}

void io_discard_input(struct io *io)
{
	char junk[512];
	int p;

	io->rpos = io->rend = 0;
	if (io->ssl == NULL)
		return;
	while ((p = SSL_pending(io->ssl)) > 0) {
		ERR_clear_error();
		if (SSL_read(io->ssl, junk,
			     p < (int)sizeof(junk) ? p : (int)sizeof(junk)) <= 0)
			break;
	}
	ERR_clear_error();
}

int io_preload(struct io *io, const void *p, size_t n)
{
	if (n > sizeof(io->rbuf)) {
		errno = EMSGSIZE;
		return -1;
	}
	if (n > 0)
		memcpy(io->rbuf, p, n);
	io->rpos = 0;
	io->rend = n;
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

/* Write some of p[0..n): >0 bytes written, 0 not ready (poll *events_r),
 * or an io_result < 0. */
static ssize_t io_send_ssl(struct io *io, const char *p, size_t n,
			   short *events_r)
{
	int r, st;

	ERR_clear_error();
	errno = 0;
	r = SSL_write(io->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
	if (r > 0)
		return r;
	st = io_ssl_status(io->ssl, r, events_r);
	if (st == IO_EOF) {
		errno = EPIPE;
		return IO_ERR;
	}
	return st;
}

static ssize_t io_send_plain(struct io *io, const char *p, size_t n,
			     short *events_r)
{
	ssize_t r;

	*events_r = POLLOUT;
	if (io->fdkind == IO_FD_SOCKET)
		r = send(io->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	else
		r = write(io->fd, p, n);
	if (r >= 0)
		return r;
	return io_again(errno) ? 0 : IO_ERR;
}

/* Pipes and terminals: wait until writable, then write at most PIPE_BUF,
 * which then fits without blocking. Regular files never block. */
static ssize_t io_send_other(struct io *io, const char *p, size_t n,
			     int64_t deadline, short *events_r)
{
	int st = io_wait_result(io->fd, POLLOUT, deadline);

	if (st != IO_OK)
		return st;
	return io_send_plain(io, p, n > PIPE_BUF ? PIPE_BUF : n, events_r);
}

static int io_write_all(struct io *io, const char *p, size_t n)
{
	int64_t deadline = io_deadline(io->timeout_ms);
	short events = POLLOUT;
	ssize_t r;
	int st;

	while (n > 0) {
		if (io->ssl != NULL)
			r = io_send_ssl(io, p, n, &events);
		else if (io->fdkind == IO_FD_OTHER)
			r = io_send_other(io, p, n, deadline, &events);
		else
			r = io_send_plain(io, p, n, &events);
		if (r < 0)
			return (int)r;
		if (r > 0) {
			p += r;
			n -= (size_t)r;
			deadline = io_deadline(io->timeout_ms);
			continue;
		}
		st = io_wait_result(io->fd, events, deadline);
		if (st != IO_OK)
			return st;
	}
	return IO_OK;
}

int io_flush(struct io *io)
{
	int r;

	if (io->wbuf.len == 0)
		return IO_OK;
	r = io_write_all(io, io->wbuf.s, io->wbuf.len);
	str_clear(&io->wbuf);
	io->asked = io->fdkind == IO_FD_SOCKET;
	return r;
}

int io_write(struct io *io, const void *p, size_t n)
{
	int r;

	if (n <= IO_WBUF_MAX - io->wbuf.len)
		return str_append(&io->wbuf, p, n) < 0 ? IO_ERR : IO_OK;
	r = io_flush(io);
	if (r != IO_OK)
		return r;
	if (n > IO_WBUF_MAX)
		return io_write_all(io, p, n);
	return str_append(&io->wbuf, p, n) < 0 ? IO_ERR : IO_OK;
}

int io_puts(struct io *io, const char *s)
{
	return io_write(io, s, strlen(s));
}

/* A formatted text too big for the buffer: format it apart, write it. */
static int io_printf_big(struct io *io, const char *fmt, va_list ap)
{
	struct str big = STR_INIT(0);
	int r = IO_ERR;

	if (str_vappendf(&big, fmt, ap) == 0)
		r = io_write(io, big.s, big.len);
	str_free(&big);
	return r;
}

int io_printf(struct io *io, const char *fmt, ...)
{
	va_list ap, ap2;
	int r;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	r = str_vappendf(&io->wbuf, fmt, ap);
	va_end(ap);
	if (r == 0) {
		va_end(ap2);
		return IO_OK;
	}
	r = errno == EMSGSIZE ? io_printf_big(io, fmt, ap2) : IO_ERR;
	va_end(ap2);
	return r;
}

/* ---- setup and TLS ------------------------------------------------------ */

void io_init(struct io *io, int fd, int timeout_ms)
{
	struct stat st;

	io->fd = fd;
	io->ssl = NULL;
	io->timeout_ms = timeout_ms;
	io->asked = 0;
	io->fdkind = IO_FD_OTHER;
	if (fstat(fd, &st) == 0) {
		if (S_ISSOCK(st.st_mode))
			io->fdkind = IO_FD_SOCKET;
		else if (S_ISREG(st.st_mode))
			io->fdkind = IO_FD_FILE;
	}
	io->eof = 0;
	io->rpos = io->rend = 0;
	str_init(&io->wbuf, IO_WBUF_MAX);
}

void io_free(struct io *io)
{
	if (io->ssl != NULL) {
		if (!(SSL_get_shutdown(io->ssl) & SSL_SENT_SHUTDOWN)) {
			ERR_clear_error();
			(void)SSL_shutdown(io->ssl);
		}
		ERR_clear_error();
		SSL_free(io->ssl);
		io->ssl = NULL;
	}
	str_free(&io->wbuf);
	io->rpos = io->rend = 0;
}

static int io_is_ip_literal(const char *name)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, addr) == 1 ||
	       inet_pton(AF_INET6, name, addr) == 1;
}

/* SNI and the name the certificate must carry (checked only when the
 * context verifies). */
static int io_tls_set_peer_name(SSL *ssl, const char *servername)
{
	if (io_is_ip_literal(servername))
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
						     servername) == 1;
	return SSL_set_tlsext_host_name(ssl, servername) == 1 &&
	       SSL_set1_host(ssl, servername) == 1;
}

static const char *io_handshake_error(SSL *ssl, int r)
{
	short events;
	int st = io_ssl_status(ssl, r, &events);

	if (st == IO_EOF)
		return "connection closed during TLS handshake";
	if (errno != EPROTO || ERR_peek_error() == 0)
		return strerror(errno);
	return tls_error();
}

static int io_handshake(struct io *io, SSL *ssl, int server,
			const char **error_r)
{
	int64_t deadline = io_deadline(io->timeout_ms);
	short events = POLLIN;
	int r, st;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		r = server ? SSL_accept(ssl) : SSL_connect(ssl);
		if (r == 1)
			return 0;
		st = io_ssl_status(ssl, r, &events);
		if (st != IO_OK) {
			*error_r = io_handshake_error(ssl, r);
			return -1;
		}
		st = io_wait_result(io->fd, events, deadline);
		if (st != IO_OK) {
			*error_r = st == IO_TIMEOUT ? "TLS handshake timed out"
						    : strerror(errno);
			return -1;
		}
	}
}

/* Everything before the handshake proper; NULL with *error_r set. */
static SSL *io_tls_prepare(struct io *io, SSL_CTX *ctx, const char **error_r)
{
	SSL *ssl;
	BIO *bio;

	if (io->ssl != NULL) {
		*error_r = "TLS is already active";
		return NULL;
	}
	if (io->fdkind != IO_FD_SOCKET) {
		*error_r = "TLS needs a socket";
		return NULL;
	}
	if (io_flush(io) != IO_OK) {
		*error_r = strerror(errno);
		return NULL;
	}
	io_discard_input(io);
	io->eof = 0;
	ERR_clear_error();
	ssl = SSL_new(ctx);
	bio = io_bio_new(io->fd);
	if (ssl == NULL || bio == NULL) {
		*error_r = tls_error();
		BIO_free(bio);
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_bio(ssl, bio, bio);
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
		     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ssl;
}

static int io_tls_start(struct io *io, SSL_CTX *ctx, int server,
			const char *servername, const char **error_r)
{
	SSL *ssl = io_tls_prepare(io, ctx, error_r);

	if (ssl == NULL)
		return -1;
	if (servername != NULL && servername[0] != '\0' &&
	    !io_tls_set_peer_name(ssl, servername)) {
		*error_r = tls_error();
		SSL_free(ssl);
		return -1;
	}
	if (io_handshake(io, ssl, server, error_r) < 0) {
		SSL_free(ssl);
		ERR_clear_error();
		return -1;
	}
	io->ssl = ssl;
	return 0;
}

int io_tls_server(struct io *io, SSL_CTX *ctx, const char **error_r)
{
	return io_tls_start(io, ctx, 1, NULL, error_r);
}

int io_tls_client(struct io *io, SSL_CTX *ctx, const char *servername,
		  const char **error_r)
{
	return io_tls_start(io, ctx, 0, servername, error_r);
}

void io_release_buffers(struct io *io)
{
	if (io->wbuf.len == 0) {
		str_free(&io->wbuf);
		str_init(&io->wbuf, IO_WBUF_MAX);
	}
}
