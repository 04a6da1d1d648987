/*
 * test_io - buffered I/O with deadlines (common/util/io.c), in plaintext
 *
 * Each test talks to itself through a socketpair (or a pipe, or a regular
 * file); where the peer must act concurrently a forked child does it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "test.h"
#include "util/io.h"

static void make_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("socketpair");
		exit(1);
	}
}

static void put(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n) {
		perror("write");
		exit(1);
	}
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_lines_crlf_and_lf(void)
{
	struct str line = STR_INIT(0);
	struct io io;
	int sv[2];

	make_pair(sv);
	put(sv[1], "abc\r\ndef\n\n", 10);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_ASSERT(line.len == 5);
	TEST_STREQ(str_c(&line), "abc\r\n");
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_STREQ(str_c(&line), "def\n");
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_STREQ(str_c(&line), "\n");
	io_free(&io);
	str_free(&line);
	close(sv[0]);
	close(sv[1]);
}

static void test_line_exactly_maxlen(void)
{
	struct str line = STR_INIT(0);
	struct io io;
	int sv[2];

	make_pair(sv);
	put(sv[1], "123456789\n", 10);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_read_line(&io, &line, 10) == IO_OK);
	TEST_ASSERT(line.len == 10);
	TEST_STREQ(str_c(&line), "123456789\n");
	io_free(&io);
	str_free(&line);
	close(sv[0]);
	close(sv[1]);
}

static void test_line_one_past_maxlen(void)
{
	struct str line = STR_INIT(0);
	struct io io;
	int sv[2];

	make_pair(sv);
	put(sv[1], "1234567890\nok\n", 14);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_read_line(&io, &line, 10) == IO_TOOLONG);
	TEST_ASSERT(line.len == 0);
	TEST_ASSERT(io_read_line(&io, &line, 10) == IO_OK);
	TEST_STREQ(str_c(&line), "ok\n");
	io_free(&io);
	str_free(&line);
	close(sv[0]);
	close(sv[1]);
}

/* Longer than the read buffer: drained over several reads. */
static void test_line_toolong_spans_buffers(void)
{
	struct str line = STR_INIT(0);
	size_t big = 3 * IO_RBUF_SIZE + 17;
	char *data = malloc(big);
	struct io io;
	int sv[2];

	TEST_ASSERT(data != NULL);
	if (data == NULL)
		return;
	memset(data, 'x', big);
	data[big - 1] = '\n';
	make_pair(sv);
	put(sv[1], data, big);
	put(sv[1], "next\n", 5);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_read_line(&io, &line, 1000) == IO_TOOLONG);
	TEST_ASSERT(io_read_line(&io, &line, 1000) == IO_OK);
	TEST_STREQ(str_c(&line), "next\n");
	io_free(&io);
	str_free(&line);
	free(data);
	close(sv[0]);
	close(sv[1]);
}

static void test_line_with_nul(void)
{
	struct str line = STR_INIT(0);
	struct io io;
	int sv[2];

	make_pair(sv);
	put(sv[1], "a\0b\n", 4);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_ASSERT(line.len == 4);
	TEST_ASSERT(memcmp(line.s, "a\0b\n", 4) == 0);
	io_free(&io);
	str_free(&line);
	close(sv[0]);
	close(sv[1]);
}

static void test_partial_line_then_eof(void)
{
	struct str line = STR_INIT(0);
	struct io io;
	int sv[2];

	make_pair(sv);
	put(sv[1], "one\ntail", 8);
	close(sv[1]);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_STREQ(str_c(&line), "one\n");
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_STREQ(str_c(&line), "tail");
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_EOF);
	TEST_ASSERT(line.len == 0);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_EOF);
	io_free(&io);
	str_free(&line);
	close(sv[0]);
}

static void test_toolong_partial_then_eof(void)
{
	struct str line = STR_INIT(0);
	struct io io;
	int sv[2];

	make_pair(sv);
	put(sv[1], "0123456789abc", 13);
	close(sv[1]);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_read_line(&io, &line, 10) == IO_TOOLONG);
	TEST_ASSERT(io_read_line(&io, &line, 10) == IO_EOF);
	io_free(&io);
	str_free(&line);
	close(sv[0]);
}

static void test_empty_input_eof(void)
{
	struct str line = STR_INIT(0);
	struct io io;
	char buf[8];
	size_t got = 99;
	int sv[2];

	make_pair(sv);
	close(sv[1]);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_EOF);
	TEST_ASSERT(io_read(&io, buf, sizeof(buf), &got) == IO_EOF);
	TEST_ASSERT(got == 0);
	io_free(&io);
	str_free(&line);
	close(sv[0]);
}

static void test_maxlen_zero_and_small_str_cap(void)
{
	struct str line = STR_INIT(0), capped = STR_INIT(3);
	struct io io;
	int sv[2];

	make_pair(sv);
	put(sv[1], "a\nabcd\nab\n", 10);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_read_line(&io, &line, 0) == IO_TOOLONG);
	/* the str's own cap also makes a line too long */
	TEST_ASSERT(io_read_line(&io, &capped, 100) == IO_TOOLONG);
	TEST_ASSERT(io_read_line(&io, &capped, 100) == IO_OK);
	TEST_STREQ(str_c(&capped), "ab\n");
	io_free(&io);
	str_free(&line);
	str_free(&capped);
	close(sv[0]);
	close(sv[1]);
}

static void test_timeout_silent_peer(void)
{
	struct str line = STR_INIT(0);
	struct timespec t0;
	struct io io;
	char buf[4];
	size_t got;
	long ms;
	int sv[2];

	make_pair(sv);
	io_init(&io, sv[0], 100);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_TIMEOUT);
	ms = elapsed_ms(&t0);
	TEST_ASSERT(ms >= 90 && ms < 1000);
	TEST_ASSERT(io_read(&io, buf, sizeof(buf), &got) == IO_TIMEOUT);
	io_free(&io);
	str_free(&line);
	close(sv[0]);
	close(sv[1]);
}

/* A peer dripping bytes without LF cannot stretch one line forever. */
static void test_timeout_is_per_line(void)
{
	struct str line = STR_INIT(0);
	struct timespec t0;
	struct io io;
	pid_t pid;
	int sv[2], i, st;

	make_pair(sv);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		for (i = 0; i < 20; i++) {
			if (write(sv[1], "x", 1) != 1)
				_exit(0);
			usleep(30 * 1000);
		}
		_exit(0);
	}
	close(sv[1]);
	io_init(&io, sv[0], 200);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	TEST_ASSERT(io_read_line(&io, &line, 1000) == IO_TIMEOUT);
	TEST_ASSERT(elapsed_ms(&t0) < 500);
	io_free(&io);
	str_free(&line);
	close(sv[0]);
	TEST_ASSERT(waitpid(pid, &st, 0) == pid);
}

static void test_pending_after_pipelined_lines(void)
{
	struct str line = STR_INIT(0);
	struct io io;
	int sv[2];

	make_pair(sv);
	put(sv[1], "one\r\ntwo\r\n", 10);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_pending(&io) == 0);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_STREQ(str_c(&line), "one\r\n");
	TEST_ASSERT(io_pending(&io) == 5);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_ASSERT(io_pending(&io) == 0);
	io_free(&io);
	str_free(&line);
	close(sv[0]);
	close(sv[1]);
}

static void test_discard_input(void)
{
	struct str line = STR_INIT(0);
	struct io io;
	int sv[2];

	make_pair(sv);
	put(sv[1], "STARTTLS\r\nINJECTED\r\n", 20);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_STREQ(str_c(&line), "STARTTLS\r\n");
	io_discard_input(&io);
	TEST_ASSERT(io_pending(&io) == 0);
	put(sv[1], "fresh\n", 6);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_STREQ(str_c(&line), "fresh\n");
	io_free(&io);
	str_free(&line);
	close(sv[0]);
	close(sv[1]);
}

static void test_read_buffered_then_fresh(void)
{
	struct str line = STR_INIT(0);
	struct io io;
	char buf[100];
	size_t got = 0;
	int sv[2];

	make_pair(sv);
	put(sv[1], "line\nabc", 8);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_ASSERT(io_read(&io, buf, 2, &got) == IO_OK);
	TEST_ASSERT(got == 2 && memcmp(buf, "ab", 2) == 0);
	TEST_ASSERT(io_read(&io, buf, sizeof(buf), &got) == IO_OK);
	TEST_ASSERT(got == 1 && buf[0] == 'c');
	put(sv[1], "xyz", 3);
	TEST_ASSERT(io_read(&io, buf, sizeof(buf), &got) == IO_OK);
	TEST_ASSERT(got == 3 && memcmp(buf, "xyz", 3) == 0);
	TEST_ASSERT(io_read(&io, buf, 0, &got) == IO_OK && got == 0);
	io_free(&io);
	str_free(&line);
	close(sv[0]);
	close(sv[1]);
}

/* Input read elsewhere comes first, then the descriptor's: a line may
 * start in one and end in the other. */
static void test_preload(void)
{
	static char big[IO_RBUF_SIZE + 1];
	struct str line = STR_INIT(0);
	struct io io;
	int sv[2];

	make_pair(sv);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_preload(&io, "A1 NOOP\r\nA2 CAPA", 16) == 0);
	TEST_ASSERT(io_pending(&io) == 16);
	put(sv[1], "BILITY\r\n", 8);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_STREQ(str_c(&line), "A1 NOOP\r\n");
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_STREQ(str_c(&line), "A2 CAPABILITY\r\n");
	TEST_ASSERT(io_pending(&io) == 0);
	/* more than the buffer: refused, what was there is kept */
	TEST_ASSERT(io_preload(&io, "x\n", 2) == 0);
	errno = 0;
	TEST_ASSERT(io_preload(&io, big, sizeof(big)) < 0 &&
		    errno == EMSGSIZE);
	TEST_ASSERT(io_pending(&io) == 2);
	/* the whole buffer, and nothing at all */
	memset(big, 'a', sizeof(big));
	big[IO_RBUF_SIZE - 1] = '\n';
	TEST_ASSERT(io_preload(&io, big, IO_RBUF_SIZE) == 0);
	TEST_ASSERT(io_read_line(&io, &line, IO_RBUF_SIZE) == IO_OK);
	TEST_ASSERT(line.len == IO_RBUF_SIZE);
	TEST_ASSERT(io_preload(&io, NULL, 0) == 0);
	TEST_ASSERT(io_pending(&io) == 0);
	io_free(&io);
	str_free(&line);
	close(sv[0]);
	close(sv[1]);
}

/* Child: read everything from fd, answer "bytes sum\n" on out. */
static void count_bytes_child(int fd, int out)
{
	unsigned char buf[65536];
	unsigned long long total = 0, sum = 0;
	struct str reply = STR_INIT(0);
	ssize_t n, i;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		total += (unsigned long long)n;
		for (i = 0; i < n; i++)
			sum += buf[i];
	}
	if (str_appendf(&reply, "%llu %llu\n", total, sum) < 0)
		_exit(1);
	put(out, reply.s, reply.len);
	_exit(0);
}

static void write_pattern(struct io *io, size_t n, unsigned long long *sum)
{
	char chunk[1000];
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < sizeof(chunk) ? n - i : sizeof(chunk);
		memset(chunk, (int)('a' + i % 26), k);
		*sum += (unsigned long long)k * (unsigned char)chunk[0];
		TEST_ASSERT(io_write(io, chunk, k) == IO_OK);
	}
}

static void test_write_flush_large(void)
{
	struct str line = STR_INIT(0), want = STR_INIT(0);
	size_t total = IO_WBUF_MAX + 5000, huge = 2 * IO_WBUF_MAX + 1;
	unsigned long long sum = 0;
	char *big = malloc(huge);
	struct io io;
	pid_t pid;
	int sv[2], st;

	TEST_ASSERT(big != NULL);
	if (big == NULL)
		return;
	make_pair(sv);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		count_bytes_child(sv[1], sv[1]);
	}
	close(sv[1]);
	io_init(&io, sv[0], 5000);
	write_pattern(&io, total, &sum);
	TEST_ASSERT(io.wbuf.len <= IO_WBUF_MAX);
	/* formatted text that does not fit beside what is buffered */
	memset(big, 'P', IO_WBUF_MAX - 10);
	big[IO_WBUF_MAX - 10] = '\0';
	TEST_ASSERT(io_printf(&io, "%s", big) == IO_OK);
	sum += (unsigned long long)(IO_WBUF_MAX - 10) * 'P';
	total += IO_WBUF_MAX - 10;
	memset(big, 'Z', huge);
	TEST_ASSERT(io_write(&io, big, huge) == IO_OK);
	sum += (unsigned long long)huge * 'Z';
	TEST_ASSERT(io_printf(&io, "%s", "end") == IO_OK);
	sum += 'e' + 'n' + 'd';
	TEST_ASSERT(io_flush(&io) == IO_OK);
	TEST_ASSERT(io.wbuf.len == 0);
	shutdown(sv[0], SHUT_WR);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	str_appendf(&want, "%zu %llu\n", total + huge + 3, sum);
	TEST_STREQ(str_c(&line), str_c(&want));
	TEST_ASSERT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0);
	io_free(&io);
	str_free(&line);
	str_free(&want);
	free(big);
	close(sv[0]);
}

/* No SIGPIPE: the process would die here if send() raised it. */
static void test_write_to_closed_peer(void)
{
	struct io io;
	int sv[2];

	make_pair(sv);
	close(sv[1]);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_puts(&io, "hello\r\n") == IO_OK);
	errno = 0;
	TEST_ASSERT(io_flush(&io) == IO_ERR);
	TEST_ASSERT(errno == EPIPE);
	io_free(&io);
	close(sv[0]);
}

static void test_flush_timeout_peer_not_reading(void)
{
	size_t n = 8 * IO_WBUF_MAX;
	char *big = calloc(1, n);
	struct timespec t0;
	struct io io;
	int sv[2];

	TEST_ASSERT(big != NULL);
	if (big == NULL)
		return;
	make_pair(sv);
	io_init(&io, sv[0], 100);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	TEST_ASSERT(io_write(&io, big, n) == IO_TIMEOUT);
	TEST_ASSERT(elapsed_ms(&t0) < 1000);
	io_free(&io);
	free(big);
	close(sv[0]);
	close(sv[1]);
}

static void test_printf_and_puts(void)
{
	struct io io;
	char buf[64];
	ssize_t n;
	int sv[2];

	make_pair(sv);
	io_init(&io, sv[0], 1000);
	TEST_ASSERT(io_printf(&io, "%d %s\r\n", 250, "ok") == IO_OK);
	TEST_ASSERT(io_puts(&io, "") == IO_OK);
	TEST_ASSERT(io_puts(&io, "bye\n") == IO_OK);
	TEST_ASSERT(io_flush(&io) == IO_OK);
	TEST_ASSERT(io_flush(&io) == IO_OK);
	n = read(sv[1], buf, sizeof(buf));
	TEST_ASSERT(n == 12 && memcmp(buf, "250 ok\r\nbye\n", 12) == 0);
	io_free(&io);
	close(sv[0]);
	close(sv[1]);
}

/* A non-blocking descriptor: EAGAIN means poll and retry. */
static void test_nonblocking_descriptor(void)
{
	struct str line = STR_INIT(0);
	struct io io;
	pid_t pid;
	int sv[2], st;

	make_pair(sv);
	pid = fork();
	if (pid == 0) {
		usleep(50 * 1000);
		put(sv[1], "late\n", 5);
		_exit(0);
	}
	TEST_ASSERT(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
	io_init(&io, sv[0], 2000);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_STREQ(str_c(&line), "late\n");
	TEST_ASSERT(waitpid(pid, &st, 0) == pid);
	io_free(&io);
	str_free(&line);
	close(sv[0]);
	close(sv[1]);
}

static void test_pipe_read_and_timeout(void)
{
	struct str line = STR_INIT(0);
	struct io in, out;
	int p[2];

	TEST_ASSERT(pipe(p) == 0);
	io_init(&out, p[1], 1000);
	io_init(&in, p[0], 100);
	TEST_ASSERT(io_puts(&out, "via pipe\n") == IO_OK);
	TEST_ASSERT(io_flush(&out) == IO_OK);
	TEST_ASSERT(io_read_line(&in, &line, 100) == IO_OK);
	TEST_STREQ(str_c(&line), "via pipe\n");
	TEST_ASSERT(io_read_line(&in, &line, 100) == IO_TIMEOUT);
	close(p[1]);
	TEST_ASSERT(io_read_line(&in, &line, 100) == IO_EOF);
	io_free(&in);
	io_free(&out);
	str_free(&line);
	close(p[0]);
}

/* Larger than the pipe's buffer, written in PIPE_BUF pieces. */
static void test_pipe_large_write(void)
{
	struct str line = STR_INIT(0), want = STR_INIT(0);
	unsigned long long sum = 0;
	struct io io, rd;
	int to[2], back[2], st;
	pid_t pid;

	TEST_ASSERT(pipe(to) == 0 && pipe(back) == 0);
	pid = fork();
	if (pid == 0) {
		close(to[1]);
		close(back[0]);
		count_bytes_child(to[0], back[1]);
	}
	close(to[0]);
	close(back[1]);
	io_init(&io, to[1], 5000);
	write_pattern(&io, 300000, &sum);
	TEST_ASSERT(io_flush(&io) == IO_OK);
	io_free(&io);
	close(to[1]);
	io_init(&rd, back[0], 5000);
	TEST_ASSERT(io_read_line(&rd, &line, 100) == IO_OK);
	str_appendf(&want, "%d %llu\n", 300000, sum);
	TEST_STREQ(str_c(&line), str_c(&want));
	TEST_ASSERT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0);
	io_free(&rd);
	close(back[0]);
	str_free(&line);
	str_free(&want);
}

static void test_regular_file(void)
{
	struct str line = STR_INIT(0);
	FILE *f = tmpfile();
	struct io io;

	TEST_ASSERT(f != NULL);
	if (f == NULL)
		return;
	io_init(&io, fileno(f), 1000);
	TEST_ASSERT(io_puts(&io, "first\nsecond\n") == IO_OK);
	TEST_ASSERT(io_flush(&io) == IO_OK);
	TEST_ASSERT(lseek(fileno(f), 0, SEEK_SET) == 0);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_STREQ(str_c(&line), "first\n");
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	TEST_STREQ(str_c(&line), "second\n");
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_EOF);
	io_free(&io);
	str_free(&line);
	fclose(f);
}

static void test_tls_needs_socket(void)
{
	const char *error = NULL;
	struct io io;
	int p[2];

	TEST_ASSERT(pipe(p) == 0);
	io_init(&io, p[0], 100);
	TEST_ASSERT(io_tls_server(&io, NULL, &error) < 0);
	TEST_STREQ(error, "TLS needs a socket");
	TEST_ASSERT(io.ssl == NULL);
	io_free(&io);
	close(p[0]);
	close(p[1]);
}

TEST_MAIN(test_lines_crlf_and_lf, test_line_exactly_maxlen,
	  test_line_one_past_maxlen, test_line_toolong_spans_buffers,
	  test_line_with_nul, test_partial_line_then_eof,
	  test_toolong_partial_then_eof, test_empty_input_eof,
	  test_maxlen_zero_and_small_str_cap, test_timeout_silent_peer,
	  test_timeout_is_per_line, test_pending_after_pipelined_lines,
	  test_preload,
	  test_discard_input, test_read_buffered_then_fresh,
	  test_write_flush_large, test_write_to_closed_peer,
	  test_flush_timeout_peer_not_reading, test_printf_and_puts,
	  test_nonblocking_descriptor, test_pipe_read_and_timeout,
	  test_pipe_large_write, test_regular_file, test_tls_needs_socket)
