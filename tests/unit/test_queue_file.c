/*
 * test_queue_file - the queue file format: write, read, refuse, set state
 *
 * Files are written with the writer or built byte by byte (raw_*) to make
 * every kind of corruption the reader must report as EBADMSG.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/queue_file.h"
#include "util/alloc.h"
#include "util/str.h"
#include "test.h"

static const char body[] = "Subject: hi\r\n\r\nhello\r\n";

/* An empty, unlinked temporary file open read-write. */
static int tmpfile_fd(void)
{
	char path[] = "/tmp/test_queue_file.XXXXXX";
	int fd = mkstemp(path);

	if (fd >= 0)
		unlink(path);
	return fd;
}

static void env_sample(struct queue_env *env)
{
	queue_env_init(env);
	env->arrival.tv_sec = 1700000000;
	env->arrival.tv_nsec = 123456789;
	env->client_addr = xstrdup("192.0.2.7");
	env->helo = xstrdup("client.example");
	env->auth_user = xstrdup("demo@example.test");
	env->protocol = xstrdup("ESMTPSA");
	env->flags = QUEUE_FLAG_8BITMIME | QUEUE_FLAG_SMTPUTF8;
	env->sender = xstrdup("alice@example.org");
	queue_env_add_rcpt(env, "bob@example.test", "rfc822;bob@old.test");
	queue_env_add_rcpt(env, "carol@example.net", NULL);
}

/* Write env and data with the writer into a new file; -1 on failure. */
static int write_file(const struct queue_env *env, const void *data,
		      size_t len, const char **error_r)
{
	struct queue_writer w;
	int fd = tmpfile_fd();

	if (fd < 0)
		return -1;
	if (queue_writer_begin(&w, fd, env, error_r) < 0 ||
	    queue_writer_body(&w, data, len, error_r) < 0 ||
	    queue_writer_end(&w, error_r) < 0) {
		queue_writer_free(&w);
		close(fd);
		return -1;
	}
	queue_writer_free(&w);
	return fd;
}

static int message_is(int fd, const struct queue_env *env, const void *data,
		      size_t len)
{
	char *buf = xmalloc(len + 1);
	/* the message, and directly after it the END record */
	int ok = env->message_size == (off_t)len &&
		 pread(fd, buf, len + 1, env->message_offset) ==
			 (ssize_t)len + 1 &&
		 memcmp(buf, data, len) == 0 && buf[len] == QREC_END;

	free(buf);
	return ok;
}

static void test_round_trip(void)
{
	struct queue_env in, out;
	const char *error = NULL;
	int fd;

	env_sample(&in);
	queue_env_init(&out);
	fd = write_file(&in, body, strlen(body), &error);
	TEST_ASSERT(fd >= 0);
	TEST_ASSERT(queue_file_read(fd, &out, &error) == 0);
	TEST_ASSERT(out.arrival.tv_sec == 1700000000);
	TEST_ASSERT(out.arrival.tv_nsec == 123456789);
	TEST_STREQ(out.client_addr, "192.0.2.7");
	TEST_STREQ(out.helo, "client.example");
	TEST_STREQ(out.auth_user, "demo@example.test");
	TEST_STREQ(out.protocol, "ESMTPSA");
	TEST_ASSERT(out.flags == (QUEUE_FLAG_8BITMIME | QUEUE_FLAG_SMTPUTF8));
	TEST_STREQ(out.sender, "alice@example.org");
	TEST_ASSERT(out.rcpt_count == 2);
	TEST_STREQ(out.rcpts[0].addr, "bob@example.test");
	TEST_STREQ(out.rcpts[0].orig, "rfc822;bob@old.test");
	TEST_STREQ(out.rcpts[1].addr, "carol@example.net");
	TEST_ASSERT(out.rcpts[1].orig == NULL);
	TEST_ASSERT(out.rcpts[0].state == QUEUE_RCPT_QUEUED);
	TEST_ASSERT(queue_env_pending(&out) == 2);
	TEST_ASSERT(message_is(fd, &out, body, strlen(body)));
	queue_env_free(&out);
	queue_env_free(&in);
	close(fd);
}

static void test_optional_fields_absent(void)
{
	struct queue_env in, out;
	const char *error = NULL;
	int fd;

	queue_env_init(&in);
	queue_env_init(&out);
	in.sender = xstrdup("");
	queue_env_add_rcpt(&in, "postmaster@example.test", NULL);
	fd = write_file(&in, "", 0, &error);
	TEST_ASSERT(fd >= 0);
	TEST_ASSERT(queue_file_read(fd, &out, &error) == 0);
	TEST_STREQ(out.sender, "");	/* the null sender <> */
	TEST_ASSERT(out.client_addr == NULL && out.helo == NULL);
	TEST_ASSERT(out.auth_user == NULL && out.protocol == NULL);
	TEST_ASSERT(out.flags == 0);
	TEST_ASSERT(out.message_size == 0);
	TEST_ASSERT(out.rcpt_count == 1);
	TEST_ASSERT(out.envid == NULL && out.rcpts[0].notify == 0);
	queue_env_free(&out);
	queue_env_free(&in);
	close(fd);
}

static void test_many_recipients(void)
{
	struct queue_env in, out;
	struct str addr = STR_INIT(0);
	const char *error = NULL;
	int fd, i, ok = 1;

	queue_env_init(&in);
	queue_env_init(&out);
	in.sender = xstrdup("list@example.org");
	for (i = 0; i < 1000; i++) {
		str_clear(&addr);
		TEST_ASSERT(str_appendf(&addr, "user%d@example.test", i) == 0);
		queue_env_add_rcpt(&in, str_c(&addr), NULL);
	}
	fd = write_file(&in, body, strlen(body), &error);
	TEST_ASSERT(fd >= 0);
	TEST_ASSERT(queue_file_read(fd, &out, &error) == 0);
	TEST_ASSERT(out.rcpt_count == 1000);
	for (i = 0; i < 1000 && out.rcpt_count == 1000; i++) {
		str_clear(&addr);
		TEST_ASSERT(str_appendf(&addr, "user%d@example.test", i) == 0);
		ok &= strcmp(out.rcpts[i].addr, str_c(&addr)) == 0;
	}
	TEST_ASSERT(ok);
	TEST_ASSERT(message_is(fd, &out, body, strlen(body)));
	str_free(&addr);
	queue_env_free(&out);
	queue_env_free(&in);
	close(fd);
}

static void test_large_body_in_pieces(void)
{
	struct queue_env in, out;
	struct queue_writer w;
	const char *error = NULL;
	size_t size = 300000, done, n;
	char *data = xmalloc(size);
	int fd = tmpfile_fd();

	for (done = 0; done < size; done++)
		data[done] = (char)('a' + done % 26);
	env_sample(&in);
	queue_env_init(&out);
	TEST_ASSERT(queue_writer_begin(&w, fd, &in, &error) == 0);
	/* odd piece sizes, some larger than the writer's buffer */
	for (done = 0, n = 1; done < size; done += n, n = n * 3 + 7) {
		if (n > size - done)
			n = size - done;
		TEST_ASSERT(queue_writer_body(&w, data + done, n, &error) == 0);
	}
	TEST_ASSERT(queue_writer_end(&w, &error) == 0);
	queue_writer_free(&w);
	TEST_ASSERT(queue_file_read(fd, &out, &error) == 0);
	TEST_ASSERT(message_is(fd, &out, data, size));
	free(data);
	queue_env_free(&out);
	queue_env_free(&in);
	close(fd);
}

static void test_set_state_and_reread(void)
{
	struct queue_env in, out;
	const char *error = NULL;
	int fd;

	env_sample(&in);
	queue_env_init(&out);
	fd = write_file(&in, body, strlen(body), &error);
	TEST_ASSERT(queue_file_read(fd, &out, &error) == 0);
	TEST_ASSERT(queue_file_set_state(fd, &out, 1, QUEUE_RCPT_DELIVERED) ==
		    0);
	TEST_ASSERT(out.rcpts[1].state == QUEUE_RCPT_DELIVERED);
	TEST_ASSERT(queue_env_pending(&out) == 1);
	TEST_ASSERT(fdatasync(fd) == 0);
	TEST_ASSERT(queue_file_read(fd, &out, &error) == 0);
	TEST_ASSERT(out.rcpts[0].state == QUEUE_RCPT_QUEUED);
	TEST_ASSERT(out.rcpts[1].state == QUEUE_RCPT_DELIVERED);
	TEST_ASSERT(queue_file_set_state(fd, &out, 0, QUEUE_RCPT_EXPIRED) == 0);
	TEST_ASSERT(queue_file_read(fd, &out, &error) == 0);
	TEST_ASSERT(out.rcpts[0].state == QUEUE_RCPT_EXPIRED);
	TEST_ASSERT(queue_env_pending(&out) == 0);
	/* the message and the rest of the envelope are untouched */
	TEST_STREQ(out.rcpts[0].orig, "rfc822;bob@old.test");
	TEST_ASSERT(message_is(fd, &out, body, strlen(body)));
	/* refusals */
	errno = 0;
	TEST_ASSERT(queue_file_set_state(fd, &out, 2, 'D') < 0);
	TEST_ASSERT(errno == EINVAL);
	TEST_ASSERT(queue_file_set_state(fd, &out, 0, 'q') < 0);
	TEST_ASSERT(queue_file_set_state(fd, &out, 0, '\0') < 0);
	TEST_ASSERT(queue_file_set_state(fd, &in, 0, 'D') < 0); /* not read */
	queue_env_free(&out);
	queue_env_free(&in);
	close(fd);
}

static void test_state_names(void)
{
	TEST_STREQ(queue_rcpt_state_name('Q'), "queued");
	TEST_STREQ(queue_rcpt_state_name('D'), "delivered");
	TEST_STREQ(queue_rcpt_state_name('F'), "failed");
	TEST_STREQ(queue_rcpt_state_name('X'), "expired");
	TEST_ASSERT(queue_rcpt_state_name('Z') == NULL);
}

/* ---- corruption ------------------------------------------------------ */

static void raw_rec(struct str *f, char type, const void *data, uint32_t len)
{
	unsigned char hdr[5];

	hdr[0] = (unsigned char)type;
	hdr[1] = (unsigned char)(len >> 24);
	hdr[2] = (unsigned char)(len >> 16);
	hdr[3] = (unsigned char)(len >> 8);
	hdr[4] = (unsigned char)len;
	TEST_ASSERT(str_append(f, hdr, sizeof(hdr)) == 0);
	if (data != NULL)
		TEST_ASSERT(str_append(f, data, len) == 0);
}

static void raw_text(struct str *f, char type, const char *s)
{
	raw_rec(f, type, s, (uint32_t)strlen(s));
}

static void raw_head(struct str *f)
{
	static const unsigned char t[12] = { 0, 0, 0, 0, 0x65, 0x53, 0xf1,
					     0x00, 0, 0, 0, 0 };

	raw_rec(f, 'V', "POSTERN1", 8);
	raw_rec(f, 'T', t, sizeof(t));
	raw_text(f, 'S', "a@example.org");
}

static void raw_end(struct str *f, const char *msg)
{
	unsigned char z[8] = { 0 };

	z[7] = (unsigned char)strlen(msg);
	raw_text(f, 'M', msg);
	raw_rec(f, 'Z', z, sizeof(z));
}

/* Read the bytes of f as a queue file; returns the errno, 0 if valid. */
static int raw_read(const struct str *f)
{
	struct queue_env env;
	const char *error = NULL;
	int fd = tmpfile_fd(), ret, err = 0;

	TEST_ASSERT(fd >= 0);
	TEST_ASSERT(write(fd, f->s, f->len) == (ssize_t)f->len);
	queue_env_init(&env);
	ret = queue_file_read(fd, &env, &error);
	if (ret < 0) {
		err = errno;
		TEST_ASSERT(error != NULL && strstr(error, "offset") != NULL);
		TEST_ASSERT(env.rcpts == NULL && env.sender == NULL);
	}
	queue_env_free(&env);
	close(fd);
	return err;
}

static void test_raw_valid(void)
{
	struct str f = STR_INIT(0);

	raw_head(&f);
	raw_text(&f, 'R', "Qb@example.test");
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == 0);
	str_free(&f);
}

static void test_truncated_everywhere(void)
{
	struct queue_env in;
	const char *error = NULL;
	struct str f = STR_INIT(0);
	off_t size, cut;
	int fd, bad = 0;

	env_sample(&in);
	fd = write_file(&in, body, strlen(body), &error);
	size = lseek(fd, 0, SEEK_END);
	TEST_ASSERT(size > 100);
	TEST_ASSERT(str_reserve(&f, (size_t)size) == 0);
	TEST_ASSERT(pread(fd, f.s, (size_t)size, 0) == size);
	for (cut = 0; cut < size; cut++) {
		f.len = (size_t)cut;
		if (raw_read(&f) != EBADMSG) {
			printf("truncated at %lld: not EBADMSG\n",
			       (long long)cut);
			bad++;
		}
	}
	TEST_ASSERT(bad == 0);
	f.len = (size_t)size;
	TEST_ASSERT(raw_read(&f) == 0);
	str_free(&f);
	queue_env_free(&in);
	close(fd);
}

static void test_unknown_type(void)
{
	struct str f = STR_INIT(0);

	raw_head(&f);
	raw_text(&f, 'W', "x");
	raw_text(&f, 'R', "Qb@example.test");
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	str_clear(&f);
	raw_head(&f);
	raw_text(&f, 'R', "Qb@example.test");
	raw_text(&f, '\0', "");
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	str_free(&f);
}

static void test_control_chars_refused_by_reader(void)
{
	static const char *const bad[] = {
		"a\rb@example.org", "a\nb@example.org", "a\tb",
		"a\x1b[31m", "a\x7f",
	};
	struct str f = STR_INIT(0);
	unsigned char t[12] = { 0 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		str_clear(&f);
		raw_rec(&f, 'V', "POSTERN1", 8);
		raw_rec(&f, 'T', t, sizeof(t));
		raw_text(&f, 'S', bad[i]);
		raw_text(&f, 'R', "Qb@example.test");
		raw_end(&f, "hi");
		TEST_ASSERT(raw_read(&f) == EBADMSG);
	}
	/* NUL inside a recipient, a HELO and an original recipient */
	str_clear(&f);
	raw_head(&f);
	raw_rec(&f, 'R', "Qb\0@example.test", 16);
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	str_clear(&f);
	raw_rec(&f, 'V', "POSTERN1", 8);
	raw_rec(&f, 'H', "x\r\nRQevil@x", 11);
	raw_rec(&f, 'T', t, sizeof(t));
	raw_text(&f, 'S', "");
	raw_text(&f, 'R', "Qb@example.test");
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	str_clear(&f);
	raw_head(&f);
	raw_text(&f, 'R', "Qb@example.test");
	raw_text(&f, 'O', "rfc822;b\r@x");
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	str_free(&f);
}

static void test_oversize_records(void)
{
	struct str f = STR_INIT(0);
	char *big = xmalloc(QUEUE_TEXT_MAX + 2);

	memset(big, 'a', QUEUE_TEXT_MAX + 2);
	big[0] = 'Q';
	/* largest allowed recipient: state + QUEUE_TEXT_MAX */
	raw_head(&f);
	raw_rec(&f, 'R', big, QUEUE_TEXT_MAX + 1);
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == 0);
	str_clear(&f);
	raw_head(&f);
	raw_rec(&f, 'R', big, QUEUE_TEXT_MAX + 2);
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	/* a length that claims 4 GiB: refused before any allocation */
	str_clear(&f);
	raw_head(&f);
	raw_rec(&f, 'R', NULL, UINT32_MAX);
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	/* fixed-size records of the wrong size */
	str_clear(&f);
	raw_rec(&f, 'V', "POSTERN1x", 9);
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	str_free(&f);
	free(big);
}

static void test_missing_end(void)
{
	struct str f = STR_INIT(0);

	raw_head(&f);
	raw_text(&f, 'R', "Qb@example.test");
	raw_text(&f, 'M', "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	/* an M length that runs past the end of the file */
	str_clear(&f);
	raw_head(&f);
	raw_text(&f, 'R', "Qb@example.test");
	raw_rec(&f, 'M', "hi", 2);
	f.s[f.len - 3] = 100;
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	str_free(&f);
}

static void test_bad_magic_and_version(void)
{
	struct str f = STR_INIT(0);

	raw_rec(&f, 'V', "POSTFIX1", 8);
	raw_text(&f, 'R', "Qb@example.test");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	str_clear(&f);
	raw_rec(&f, 'V', "POSTERN2", 8);
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	/* first record is not V */
	str_clear(&f);
	raw_text(&f, 'S', "a@example.org");
	raw_head(&f);
	raw_text(&f, 'R', "Qb@example.test");
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	/* empty file, and a text file */
	str_clear(&f);
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	TEST_ASSERT(str_appends(&f, "From: x\r\n\r\nhello\r\n") == 0);
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	str_free(&f);
}

/* Helpers for the order tests: one file with records in a given order. */
static int order_read(const char *order)
{
	static const unsigned char t[12] = { 0 };
	static const unsigned char flags[4] = { 0, 0, 0, 1 };
	static const unsigned char z[8] = { 0, 0, 0, 0, 0, 0, 0, 2 };
	struct str f = STR_INIT(0);
	const char *p;
	int err;

	for (p = order; *p != '\0'; p++) {
		switch (*p) {
		case 'V': raw_rec(&f, 'V', "POSTERN1", 8); break;
		case 'T': raw_rec(&f, 'T', t, sizeof(t)); break;
		case 'E': raw_rec(&f, 'E', flags, sizeof(flags)); break;
		case 'R': raw_text(&f, 'R', "Qb@example.test"); break;
		case 'M': raw_text(&f, 'M', "hi"); break;
		case 'Z': raw_rec(&f, 'Z', z, sizeof(z)); break;
		case 'D': raw_rec(&f, 'D', "\0\0\0\0t@x", 7); break;
		case 'N': raw_rec(&f, 'N', "\x06", 1); break;
		default: raw_text(&f, *p, "x"); break;
		}
	}
	err = raw_read(&f);
	str_free(&f);
	return err;
}

static void test_record_order(void)
{
	static const char *const good[] = {
		"VTSRMZ", "VSTRMZ", "VTIHAPESRORMZ", "VPAHISETRRROMZ",
		"VTSRMZD", "VTSRRMZDDD",	/* targets done, after END */
		"VTJSRMZ", "VJTESRONRNRMZ",	/* DSN: ENVID, NOTIFY */
	};
	static const char *const bad[] = {
		"VTSMZ",	/* no recipient */
		"VSRMZ",	/* no arrival time */
		"VTRMZ",	/* no sender */
		"VTSSRMZ",	/* two senders */
		"VTTSRMZ",	/* two times */
		"VTSRSMZ",	/* sender after a recipient */
		"VTSOMZ",	/* O without R */
		"VTSROOMZ",	/* two O for one R */
		"VTSRMMZ",	/* two messages */
		"VTSRZ",	/* END before the message */
		"VTSRMZZ",	/* a record after END */
		"VVTSRMZ",	/* two version records */
		"VTSRM",	/* no END */
		"VTSR",		/* no message, no END */
		"VTSRMZR",	/* recipient after END */
		"VTSRDMZ",	/* a target before END */
		"VTSDRMZ",
		"VTSRMZDZ",	/* END after a target */
		"VTJJSRMZ",	/* two ENVIDs */
		"VTSRJMZ",	/* ENVID after a recipient */
		"VTSNRMZ",	/* NOTIFY before any recipient */
		"VTSRNNMZ",	/* two NOTIFYs for one R */
		"VTSRNOMZ",	/* O after N */
		"VTSRMNZ",	/* NOTIFY after the message */
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (order_read(good[i]) != 0)
			printf("refused %s\n", good[i]);
		TEST_ASSERT(order_read(good[i]) == 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (order_read(bad[i]) != EBADMSG)
			printf("accepted %s\n", bad[i]);
		TEST_ASSERT(order_read(bad[i]) == EBADMSG);
	}
}

static void test_bad_values(void)
{
	struct str f = STR_INIT(0);
	unsigned char t[12] = { 0 }, flags[4] = { 0, 0, 0, 0x80 };
	unsigned char z[8] = { 0, 0, 0, 0, 0, 0, 0, 3 };

	/* END disagrees with M */
	raw_head(&f);
	raw_text(&f, 'R', "Qb@example.test");
	raw_text(&f, 'M', "hi");
	raw_rec(&f, 'Z', z, sizeof(z));
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	/* bytes after END */
	str_clear(&f);
	raw_head(&f);
	raw_text(&f, 'R', "Qb@example.test");
	raw_end(&f, "hi");
	TEST_ASSERT(str_appendc(&f, 'x') == 0);
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	/* bad state byte, empty recipient */
	str_clear(&f);
	raw_head(&f);
	raw_text(&f, 'R', "qb@example.test");
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	str_clear(&f);
	raw_head(&f);
	raw_text(&f, 'R', "Q");
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	/* unknown flag, nanoseconds >= 10^9, negative seconds */
	str_clear(&f);
	raw_head(&f);
	raw_rec(&f, 'E', flags, sizeof(flags));
	raw_text(&f, 'R', "Qb@example.test");
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	memset(t + 8, 0xff, 4);
	str_clear(&f);
	raw_rec(&f, 'V', "POSTERN1", 8);
	raw_rec(&f, 'T', t, sizeof(t));
	raw_text(&f, 'S', "");
	raw_text(&f, 'R', "Qb@example.test");
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	memset(t, 0, sizeof(t));
	t[0] = 0x80;
	str_clear(&f);
	raw_rec(&f, 'V', "POSTERN1", 8);
	raw_rec(&f, 'T', t, sizeof(t));
	raw_text(&f, 'S', "");
	raw_text(&f, 'R', "Qb@example.test");
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	str_free(&f);
}

/* Every single-byte change of a valid file reads as valid or EBADMSG. */
static void test_byte_flips(void)
{
	struct queue_env in;
	const char *error = NULL;
	struct str f = STR_INIT(0);
	static const unsigned char vals[] = { 0, 1, '\r', 'Q', 'R', 'Z', 0x7f,
					      0x80, 0xff };
	off_t size, i;
	size_t v;
	unsigned char old;
	int fd, err, other = 0;

	env_sample(&in);
	fd = write_file(&in, body, strlen(body), &error);
	size = lseek(fd, 0, SEEK_END);
	TEST_ASSERT(str_reserve(&f, (size_t)size) == 0);
	TEST_ASSERT(pread(fd, f.s, (size_t)size, 0) == size);
	f.len = (size_t)size;
	for (i = 0; i < size; i++) {
		old = (unsigned char)f.s[i];
		for (v = 0; v < sizeof(vals); v++) {
			f.s[i] = (char)vals[v];
			err = raw_read(&f);
			other += err != 0 && err != EBADMSG;
		}
		f.s[i] = (char)old;
	}
	TEST_ASSERT(other == 0);
	str_free(&f);
	queue_env_free(&in);
	close(fd);
}

static void test_writer_refuses(void)
{
	static const char *const bad[] = { "a\r@x", "a\n@x", "a\t@x", "\x1b" };
	struct queue_env env;
	struct queue_writer w;
	const char *error = NULL;
	size_t i;
	int fd = tmpfile_fd();

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		env_sample(&env);
		free(env.sender);
		env.sender = xstrdup(bad[i]);
		errno = 0;
		TEST_ASSERT(queue_writer_begin(&w, fd, &env, &error) < 0);
		TEST_ASSERT(errno == EINVAL && error != NULL);
		queue_writer_free(&w);
		queue_env_free(&env);
		env_sample(&env);
		free(env.helo);
		env.helo = xstrdup(bad[i]);
		TEST_ASSERT(queue_writer_begin(&w, fd, &env, &error) < 0);
		queue_writer_free(&w);
		queue_env_add_rcpt(&env, bad[i], NULL);
		free(env.helo);
		env.helo = NULL;
		TEST_ASSERT(queue_writer_begin(&w, fd, &env, &error) < 0);
		queue_writer_free(&w);
		queue_env_free(&env);
	}
	/* no sender, no recipient, empty recipient, bad flags, bad state */
	queue_env_init(&env);
	queue_env_add_rcpt(&env, "b@example.test", NULL);
	TEST_ASSERT(queue_writer_begin(&w, fd, &env, &error) < 0);
	queue_writer_free(&w);
	queue_env_free(&env);
	queue_env_init(&env);
	env.sender = xstrdup("a@example.org");
	TEST_ASSERT(queue_writer_begin(&w, fd, &env, &error) < 0);
	queue_writer_free(&w);
	queue_env_add_rcpt(&env, "", NULL);
	TEST_ASSERT(queue_writer_begin(&w, fd, &env, &error) < 0);
	queue_writer_free(&w);
	queue_env_free(&env);
	env_sample(&env);
	env.flags = 0x100;
	TEST_ASSERT(queue_writer_begin(&w, fd, &env, &error) < 0);
	queue_writer_free(&w);
	env.flags = 0;
	env.rcpts[0].state = 'q';
	TEST_ASSERT(queue_writer_begin(&w, fd, &env, &error) < 0);
	queue_writer_free(&w);
	queue_env_free(&env);
	/* nothing was written by any refused attempt */
	TEST_ASSERT(lseek(fd, 0, SEEK_END) == 0);
	close(fd);
}

static void test_writer_sticky_and_limits(void)
{
	struct queue_env env;
	struct queue_writer w;
	const char *error = NULL;
	int fd = tmpfile_fd();

	env_sample(&env);
	TEST_ASSERT(queue_writer_begin(&w, fd, &env, &error) == 0);
	/* pretend almost 4 GiB were written: one more byte is too many */
	w.message_size = QUEUE_MESSAGE_MAX - 2;
	TEST_ASSERT(queue_writer_body(&w, "ab", 2, &error) == 0);
	errno = 0;
	TEST_ASSERT(queue_writer_body(&w, "c", 1, &error) < 0);
	TEST_ASSERT(errno == EFBIG);
	errno = 0;
	TEST_ASSERT(queue_writer_end(&w, &error) < 0);
	TEST_ASSERT(errno == EFBIG);
	queue_writer_free(&w);
	close(fd);
	/* after a successful end, the writer takes nothing more */
	fd = tmpfile_fd();
	TEST_ASSERT(queue_writer_begin(&w, fd, &env, &error) == 0);
	TEST_ASSERT(queue_writer_end(&w, &error) == 0);
	TEST_ASSERT(queue_writer_body(&w, "x", 1, &error) < 0);
	TEST_ASSERT(queue_writer_end(&w, &error) < 0);
	queue_writer_free(&w);
	queue_env_free(&env);
	close(fd);
}

static void test_io_errors_are_not_corrupt(void)
{
	struct queue_env env;
	struct queue_writer w;
	const char *error = NULL;
	int fd = open("/dev/null", O_RDONLY);

	/* writing to a read-only descriptor fails with the write error */
	env_sample(&env);
	TEST_ASSERT(fd >= 0);
	TEST_ASSERT(queue_writer_begin(&w, fd, &env, &error) == 0);
	errno = 0;
	TEST_ASSERT(queue_writer_end(&w, &error) < 0);
	TEST_ASSERT(errno == EBADF);
	queue_writer_free(&w);
	close(fd);
	/* reading a write-only descriptor: EBADF, not EBADMSG */
	fd = open("/dev/null", O_WRONLY);
	errno = 0;
	TEST_ASSERT(queue_file_read(fd, &env, &error) < 0);
	TEST_ASSERT(errno == EBADF);
	TEST_ASSERT(error != NULL && strstr(error, "read") != NULL);
	queue_env_free(&env);
	close(fd);
}

static void test_reader_keeps_offset(void)
{
	struct queue_env in, out;
	const char *error = NULL;
	int fd;

	env_sample(&in);
	queue_env_init(&out);
	fd = write_file(&in, body, strlen(body), &error);
	TEST_ASSERT(lseek(fd, 7, SEEK_SET) == 7);
	TEST_ASSERT(queue_file_read(fd, &out, &error) == 0);
	TEST_ASSERT(lseek(fd, 0, SEEK_CUR) == 7);
	/* reading again into a used env replaces its content */
	TEST_ASSERT(queue_file_read(fd, &out, &error) == 0);
	TEST_ASSERT(out.rcpt_count == 2);
	queue_env_free(&out);
	queue_env_free(&in);
	close(fd);
}

/* 25 recipients, every third with an original, every fourth delivered,
 * written one by one with the streaming writer. */
static int write_streamed(size_t n)
{
	struct queue_writer w;
	struct queue_env head;
	const char *error;
	char addr[64], orig[64];
	int fd = tmpfile_fd();

	queue_env_init(&head);
	head.sender = xstrdup("s@example.org");
	TEST_ASSERT(queue_writer_head(&w, fd, &head, &error) == 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "r%zu@example.test", i);
		snprintf(orig, sizeof(orig), "rfc822;o%zu@example.test", i);
		TEST_ASSERT(queue_writer_rcpt(&w, addr, i % 3 == 0 ? orig : NULL,
					      i % 4 == 0 ? QUEUE_NOTIFY_SUCCESS :
					      0, &error) == 0);
	}
	TEST_ASSERT(queue_writer_body(&w, body, strlen(body), &error) == 0);
	TEST_ASSERT(queue_writer_end(&w, &error) == 0);
	queue_writer_free(&w);
	queue_env_free(&head);
	return fd;
}

/* The scan keeps no recipient; windows of any size give them all back,
 * in order, with their states and where their state bytes are. */
static void test_scan_and_windows(void)
{
	struct queue_env full, env;
	struct queue_scan scan;
	const char *error;
	int fd = write_streamed(25);

	queue_env_init(&full);
	queue_env_init(&env);
	TEST_ASSERT(queue_file_read(fd, &full, &error) == 0);
	for (size_t i = 0; i < 25; i += 4)
		TEST_ASSERT(queue_file_set_state(fd, &full, i,
						 QUEUE_RCPT_DELIVERED) == 0);
	TEST_ASSERT(queue_file_scan(fd, &env, &scan, 0, 0, &error) == 0);
	TEST_ASSERT(env.rcpt_count == 0 && env.rcpts == NULL);
	TEST_ASSERT(scan.rcpts == 25 && scan.pending == 25 - 7);
	TEST_STREQ(env.sender, "s@example.org");
	TEST_ASSERT(env.message_size == (off_t)strlen(body));
	TEST_ASSERT(scan.message_rec == env.message_offset -
		    QUEUE_RECORD_HEADER);
	for (size_t max_n = 1; max_n <= 26; max_n += 4) {
		size_t seen = 0;
		off_t off = scan.first_rcpt, next;

		while (off < scan.message_rec) {
			TEST_ASSERT(queue_file_read_rcpts(fd, &env, off, max_n,
							  SIZE_MAX, &next,
							  &error) == 0);
			TEST_ASSERT(env.rcpt_count >= 1 &&
				    env.rcpt_count <= max_n);
			for (size_t k = 0; k < env.rcpt_count; k++, seen++) {
				struct queue_rcpt *a = &env.rcpts[k];
				struct queue_rcpt *b = &full.rcpts[seen];

				TEST_STREQ(a->addr, b->addr);
				TEST_ASSERT((a->orig == NULL) ==
					    (b->orig == NULL));
				TEST_ASSERT(a->state == b->state);
				TEST_ASSERT(a->notify == b->notify);
				TEST_ASSERT(a->notify == (seen % 4 == 0 ?
					    QUEUE_NOTIFY_SUCCESS : 0));
				TEST_ASSERT(a->state_offset == b->state_offset);
			}
			TEST_ASSERT(next > off);
			off = next;
		}
		TEST_ASSERT(seen == 25 && off == scan.message_rec);
	}
	/* the scan keeps the first window; the next one starts where it
	 * ends */
	TEST_ASSERT(queue_file_scan(fd, &env, &scan, 7, SIZE_MAX,
				    &error) == 0);
	TEST_ASSERT(env.rcpt_count == 7 && scan.rcpts == 25);
	TEST_STREQ(env.rcpts[6].addr, full.rcpts[6].addr);
	TEST_ASSERT(env.rcpts[6].state_offset == full.rcpts[6].state_offset);
	TEST_STREQ(env.rcpts[3].orig, "rfc822;o3@example.test");
	{
		off_t next;

		TEST_ASSERT(queue_file_read_rcpts(fd, &env, scan.window_end,
						  100, SIZE_MAX, &next,
						  &error) == 0);
		TEST_ASSERT(env.rcpt_count == 18 && next == scan.message_rec);
		TEST_STREQ(env.rcpts[0].addr, full.rcpts[7].addr);
	}
	TEST_ASSERT(queue_file_scan(fd, &env, &scan, 100, SIZE_MAX,
				    &error) == 0);
	TEST_ASSERT(env.rcpt_count == 25 &&
		    scan.window_end == scan.message_rec);
	TEST_ASSERT(queue_file_scan(fd, &env, &scan, 100, 20, &error) == 0);
	TEST_ASSERT(env.rcpt_count == 1);	/* r0 and its original: 40 bytes */
	TEST_ASSERT(queue_file_scan(fd, &env, &scan, 0, 0, &error) == 0);
	/* a byte budget: at least one, then stop once it is spent */
	TEST_ASSERT(queue_file_read_rcpts(fd, &env, scan.first_rcpt, 100, 1,
					  &scan.first_rcpt, &error) == 0);
	TEST_ASSERT(env.rcpt_count == 1);
	TEST_ASSERT(queue_file_read_rcpts(fd, &env, scan.first_rcpt, 100, 20,
					  &scan.first_rcpt, &error) == 0);
	TEST_ASSERT(env.rcpt_count == 2);
	/* not at a recipient: corrupt */
	TEST_ASSERT(queue_file_read_rcpts(fd, &env, scan.first_rcpt + 1, 5,
					  SIZE_MAX, &scan.first_rcpt,
					  &error) < 0 && errno == EBADMSG);
	TEST_ASSERT(env.rcpt_count == 0);
	queue_env_free(&env);
	queue_env_free(&full);
	close(fd);
}

/* What the scan refuses is what the reader refuses. */
static void test_scan_refuses_corrupt(void)
{
	struct queue_env env;
	struct queue_scan scan;
	const char *error;
	int fd = write_streamed(3);
	char bad = 0x01;

	queue_env_init(&env);
	TEST_ASSERT(queue_file_scan(fd, &env, &scan, 0, 0, &error) == 0);
	/* a control character in the last recipient's address */
	TEST_ASSERT(pwrite(fd, &bad, 1, scan.message_rec - 3) == 1);
	TEST_ASSERT(queue_file_scan(fd, &env, &scan, 0, 0, &error) < 0);
	TEST_ASSERT(errno == EBADMSG && strstr(error, "control") != NULL);
	queue_env_free(&env);
	close(fd);
}

/* Targets done after END: read back per recipient; a torn append at
 * every length is ignored; zeros are too; anything else is corrupt. */
static void test_trailer_targets(void)
{
	struct queue_env env;
	struct queue_scan scan;
	struct queue_targets t = { NULL, 0 };
	const char *error;
	int fd = write_streamed(3);
	off_t end, whole;
	char zeros[40] = { 0 };

	queue_env_init(&env);
	TEST_ASSERT(queue_file_scan(fd, &env, &scan, 0, 0, &error) == 0);
	TEST_ASSERT(scan.trailer == scan.size && scan.trailer_end == scan.size);
	end = scan.trailer_end;
	TEST_ASSERT(queue_file_add_target(fd, &end, 0, "a@x.test") == 0);
	TEST_ASSERT(queue_file_add_target(fd, &end, 2, "c@x.test") == 0);
	TEST_ASSERT(queue_file_add_target(fd, &end, 0, "b@y.test") == 0);
	TEST_ASSERT(queue_file_add_target(fd, &end, 0, "bad\nname") < 0 &&
		    errno == EINVAL);
	TEST_ASSERT(queue_file_scan(fd, &env, &scan, 0, 0, &error) == 0);
	TEST_ASSERT(scan.trailer_end == end && scan.size == end);
	TEST_ASSERT(queue_file_read(fd, &env, &error) == 0);
	TEST_ASSERT(queue_file_targets(fd, scan.trailer, 3, 0, &t,
				       &error) == 0);
	TEST_ASSERT(t.n == 2 && queue_targets_has(&t, "a@x.test") &&
		    queue_targets_has(&t, "b@y.test") &&
		    !queue_targets_has(&t, "c@x.test"));
	queue_targets_free(&t);
	TEST_ASSERT(queue_file_targets(fd, scan.trailer, 3, 1, &t,
				       &error) == 0 && t.n == 0);
	/* a torn last record, at every length: ignored */
	whole = end;
	for (off_t cut = 1; cut < 5 + 4 + 8; cut++) {
		TEST_ASSERT(ftruncate(fd, whole - cut) == 0);
		TEST_ASSERT(queue_file_scan(fd, &env, &scan, 0, 0, &error) == 0);
		TEST_ASSERT(scan.trailer_end == whole - (5 + 4 + 8));
		TEST_ASSERT(queue_file_targets(fd, scan.trailer, 3, 0, &t,
					       &error) == 0 && t.n == 1);
		queue_targets_free(&t);
	}
	/* zeros where a power cut lost an append: ignored */
	TEST_ASSERT(pwrite(fd, zeros, sizeof(zeros), scan.trailer_end) ==
		    (ssize_t)sizeof(zeros));
	TEST_ASSERT(queue_file_scan(fd, &env, &scan, 0, 0, &error) == 0);
	TEST_ASSERT(scan.size == scan.trailer_end + (off_t)sizeof(zeros));
	/* a whole record for a recipient the file does not have */
	end = scan.trailer_end;
	TEST_ASSERT(queue_file_add_target(fd, &end, 3, "d@x.test") == 0);
	TEST_ASSERT(queue_file_read(fd, &env, &error) < 0 && errno == EBADMSG);
	queue_env_free(&env);
	close(fd);
}

/* The DSN fields (RFC 3461): written, read back, and refused when the
 * format cannot hold them. A file without them reads as before
 * (test_optional_fields_absent: no envid, no notify). */
static void test_dsn_fields(void)
{
	static const char *const bad_notify[] = { "\x00", "\x03", "\x10",
						  "\x09" };
	struct queue_env in, out;
	struct str f = STR_INIT(0);
	const char *error;
	unsigned char both[4] = { 0, 0, 0, 0x0c };
	int fd;

	queue_env_init(&in);
	queue_env_init(&out);
	env_sample(&in);
	in.envid = xstrdup("QQ+2B314");
	in.flags = QUEUE_FLAG_RET_HDRS;
	in.rcpts[0].notify = QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_DELAY;
	in.rcpts[1].notify = QUEUE_NOTIFY_NEVER;
	fd = write_file(&in, body, strlen(body), &error);
	TEST_ASSERT(queue_file_read(fd, &out, &error) == 0);
	TEST_STREQ(out.envid, "QQ+2B314");
	TEST_ASSERT(out.flags == QUEUE_FLAG_RET_HDRS);
	TEST_ASSERT(out.rcpts[0].notify == 10 && out.rcpts[1].notify == 1);
	TEST_STREQ(out.rcpts[0].orig, "rfc822;bob@old.test");
	close(fd);
	/* the writer refuses what the reader would */
	in.flags = QUEUE_FLAG_RET_HDRS | QUEUE_FLAG_RET_FULL;
	TEST_ASSERT(write_file(&in, body, strlen(body), &error) < 0);
	in.flags = 0;
	free(in.envid);
	in.envid = xstrdup("a b");
	TEST_ASSERT(write_file(&in, body, strlen(body), &error) < 0);
	free(in.envid);
	in.envid = NULL;
	in.rcpts[1].notify = QUEUE_NOTIFY_NEVER | QUEUE_NOTIFY_FAILURE;
	TEST_ASSERT(write_file(&in, body, strlen(body), &error) < 0);
	/* and the reader refuses bad values */
	for (size_t i = 0; i < 4; i++) {
		str_clear(&f);
		raw_head(&f);
		raw_text(&f, 'R', "Qb@example.test");
		raw_rec(&f, 'N', bad_notify[i], 1);
		raw_end(&f, "hi");
		TEST_ASSERT(raw_read(&f) == EBADMSG);
	}
	str_clear(&f);
	raw_head(&f);
	raw_text(&f, 'J', "a b");
	raw_text(&f, 'R', "Qb@example.test");
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	str_clear(&f);
	raw_head(&f);
	raw_rec(&f, 'E', both, sizeof(both));
	raw_text(&f, 'R', "Qb@example.test");
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);
	str_clear(&f);
	raw_head(&f);
	raw_text(&f, 'J', "01234567890123456789012345678901234567890123456789"
		 "012345678901234567890123456789012345678901234567890");
	raw_text(&f, 'R', "Qb@example.test");
	raw_end(&f, "hi");
	TEST_ASSERT(raw_read(&f) == EBADMSG);		/* 101 bytes */
	str_free(&f);
	queue_env_free(&in);
	queue_env_free(&out);
}

TEST_MAIN(test_round_trip, test_optional_fields_absent, test_many_recipients,
	  test_large_body_in_pieces, test_set_state_and_reread,
	  test_state_names, test_raw_valid, test_truncated_everywhere,
	  test_unknown_type, test_control_chars_refused_by_reader,
	  test_oversize_records, test_missing_end, test_bad_magic_and_version,
	  test_record_order, test_bad_values, test_byte_flips,
	  test_writer_refuses, test_writer_sticky_and_limits,
	  test_io_errors_are_not_corrupt, test_reader_keeps_offset,
	  test_scan_and_windows, test_scan_refuses_corrupt,
	  test_trailer_targets, test_dsn_fields)
