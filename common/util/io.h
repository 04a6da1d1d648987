/*
 * io - buffered reading and writing on a descriptor, with deadlines
 *
 * For blocking, one-client-per-process code (smtpd, pop3d sessions, the
 * sendmail and postern commands, clients of local sockets). Every read and
 * every flush waits at most io->timeout_ms (poll(2) on the descriptor), so
 * a silent peer cannot hold a process forever. TLS is transparent once
 * io_tls_server()/io_tls_client() has succeeded.
 *
 * Results (STYLE.md 4): IO_OK, IO_EOF, IO_TOOLONG (the over-long line was
 * read to its end and discarded: the stream stays in sync), IO_TIMEOUT,
 * IO_ERR (errno set; EPROTO for a TLS error, then tls_error() says why).
 *
 * Deadlines: io_read() waits at most timeout_ms once; io_read_line() and
 * the TLS handshake must complete within timeout_ms from the call (a peer
 * dripping one byte a minute cannot stretch a line forever); io_flush()
 * allows timeout_ms for each wait, so a large reply to a slow but moving
 * peer still goes out.
 *
 * Descriptors: the descriptor's flags are never changed. On sockets every
 * call uses MSG_DONTWAIT and MSG_NOSIGNAL (also under TLS, through a small
 * BIO of our own), so a closed peer gives IO_ERR/EPIPE, never SIGPIPE, and
 * a blocking socket cannot block past a deadline. Other descriptors (pipes,
 * files) are polled before each read, and written in PIPE_BUF pieces after
 * poll says they are writable; a program writing to a pipe whose reader may
 * vanish must ignore SIGPIPE. TLS needs a socket.
 */
#ifndef POSTERN_IO_H
#define POSTERN_IO_H

#include <stddef.h>
#include <stdarg.h>
#include <openssl/ssl.h>

#include "util/str.h"

enum io_result {
	IO_OK = 0,
	IO_EOF = -1,
	IO_TOOLONG = -2,
	IO_TIMEOUT = -3,
	IO_ERR = -4,
};

#define IO_RBUF_SIZE 16384
/* io_write() flushes before the pending output would grow past this. */
#define IO_WBUF_MAX (1024 * 1024)

struct io {
	int fd;
	SSL *ssl;		/* non-NULL once TLS is up */
	int timeout_ms;		/* per read and per flush; <0 waits forever */
	int fdkind;		/* private: socket, regular file or other */
	int eof;		/* private: the peer has finished sending */
	int asked;		/* private: output went out since the last
				 * read, so the answer is not there yet */
	char rbuf[IO_RBUF_SIZE];
	size_t rpos, rend;	/* unread input is rbuf[rpos..rend) */
	struct str wbuf;	/* pending output */
};

void io_init(struct io *io, int fd, int timeout_ms);
/* Frees buffers and the TLS session (sending close_notify if that can be
 * done without waiting); does not close fd. Unflushed output is dropped. */
void io_free(struct io *io);

/* Read one line including its terminating LF into line (replacing its
 * content). At most maxlen bytes including the LF; a longer line is read to
 * its LF and thrown away and IO_TOOLONG returned. EOF in mid-line returns
 * IO_OK with the partial line (no LF) once, then IO_EOF. */
int io_read_line(struct io *io, struct str *line, size_t maxlen);
/* Read up to n bytes (at least 1) into buf; *got_r receives the count. */
int io_read(struct io *io, void *buf, size_t n, size_t *got_r);
/* Bytes already read from the peer but not yet consumed. */
size_t io_pending(const struct io *io);
/* Throw away what is buffered (STARTTLS: pipelined plaintext is dropped). */
void io_discard_input(struct io *io);
/* Make p[0..n) the unread input, in place of what is buffered: bytes
 * of this stream that were read elsewhere (a client's pipelined input,
 * handed over with its socket) come first. Plaintext only, before any
 * read. 0, or -1 with errno EMSGSIZE (nothing changed) when n is more
 * than IO_RBUF_SIZE. */
int io_preload(struct io *io, const void *p, size_t n);

int io_write(struct io *io, const void *p, size_t n);
int io_puts(struct io *io, const char *s);
int io_printf(struct io *io, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int io_flush(struct io *io);
/* Give back the memory of the output buffer if nothing is pending in it
 * (a process about to wait long, as an IMAP session in IDLE). */
void io_release_buffers(struct io *io);

/* Start TLS on the descriptor (a socket). Pending output is flushed first;
 * unread input is always discarded (STYLE.md 17: bytes that arrived before
 * the handshake must never be taken as protected), so log io_pending()
 * before calling if it matters. The client sends SNI for a servername that
 * is not an IP literal and, with a verifying context, checks the peer's
 * certificate against servername. On failure *error_r says why (static
 * text) and the io is still usable for plaintext. */
int io_tls_server(struct io *io, SSL_CTX *ctx, const char **error_r);
int io_tls_client(struct io *io, SSL_CTX *ctx, const char *servername,
		  const char **error_r);

#endif
