/*
 * test_log - log_escape, and the lines log.c writes to standard error
 *
 * Lines are caught by pointing fd 2 at a pipe for the length of one call.
 * log_fatal and log_panic end the process, so they run in a forked child.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "util/log.h"
#include "util/str.h"

/* ---- log_escape ------------------------------------------------------- */

/* Escape p[0..n) into a fresh string and compare with want. */
static int escaped_is(const void *p, size_t n, size_t maxlen,
		      const char *want)
{
	struct str out = STR_INIT(0);
	int ok;

	log_escape(&out, p, n, maxlen);
	ok = strcmp(str_c(&out), want) == 0;
	if (!ok)
		printf("got \"%s\", want \"%s\"\n", str_c(&out), want);
	str_free(&out);
	return ok;
}

static void test_escape_printable(void)
{
	TEST_ASSERT(escaped_is("hello world", 11, 100, "hello world"));
	TEST_ASSERT(escaped_is("<a@b.example> ~{}", 17, 100,
			       "<a@b.example> ~{}"));
	TEST_ASSERT(escaped_is("", 0, 100, ""));
}

static void test_escape_control_bytes(void)
{
	TEST_ASSERT(escaped_is("a\r\nb\t\0c", 7, 100,
			       "a\\x0d\\x0ab\\x09\\x00c"));
	TEST_ASSERT(escaped_is("\x1b[31m", 5, 100, "\\x1b[31m"));
	TEST_ASSERT(escaped_is("\x7f\x80\xff", 3, 100, "\\x7f\\x80\\xff"));
}

static void test_escape_quote_backslash(void)
{
	TEST_ASSERT(escaped_is("say \"hi\" \\o/", 12, 100,
			       "say \\x22hi\\x22 \\x5co/"));
}

static void test_escape_maxlen(void)
{
	TEST_ASSERT(escaped_is("abcdef", 6, 3, "abc..."));
	TEST_ASSERT(escaped_is("abcdef", 6, 6, "abcdef"));
	TEST_ASSERT(escaped_is("abcdef", 6, 7, "abcdef"));
	TEST_ASSERT(escaped_is("abcdef", 6, 0, "..."));
	/* maxlen counts input bytes, not the escaped output */
	TEST_ASSERT(escaped_is("\n\n\n\n", 4, 2, "\\x0a\\x0a..."));
}

static void test_escape_appends(void)
{
	struct str out = STR_INIT(0);

	TEST_ASSERT(str_sets(&out, "helo=") == 0);
	log_escape(&out, "x\"y", 3, 100);
	TEST_STREQ(str_c(&out), "helo=x\\x22y");
	str_free(&out);
}

/* A capped string stops growing; it never goes past its cap. */
static void test_escape_respects_cap(void)
{
	struct str out = STR_INIT(10);

	log_escape(&out, "0123456789abcdefghij", 20, 100);
	TEST_ASSERT(out.len <= 10);
	TEST_ASSERT(strncmp(str_c(&out), "0123456789", out.len) == 0);
	str_free(&out);
	str_init(&out, 6);
	log_escape(&out, "\x01\x02", 2, 100);
	TEST_STREQ(str_c(&out), "\\x01");
	str_free(&out);
}

/* ---- lines on standard error -------------------------------------------- */

static char caught[LOG_LINE_MAX * 4];
static size_t caught_len;

/* Point fd 2 at a pipe; returns the saved fd 2 and the pipe's read end. */
static int capture_start(int *rd)
{
	int p[2], saved = dup(2);

	if (saved < 0 || pipe(p) < 0 || dup2(p[1], 2) < 0)
		return -1;
	close(p[1]);
	*rd = p[0];
	return saved;
}

/* Restore fd 2 and read what was written into caught[]. */
static void capture_end(int saved, int rd)
{
	ssize_t n;

	dup2(saved, 2);
	close(saved);
	caught_len = 0;
	while (caught_len + 1 < sizeof(caught) &&
	       (n = read(rd, caught + caught_len,
			 sizeof(caught) - 1 - caught_len)) > 0)
		caught_len += (size_t)n;
	caught[caught_len] = '\0';
	close(rd);
}

static size_t count_newlines(void)
{
	size_t k = 0;

	for (size_t i = 0; i < caught_len; i++)
		k += caught[i] == '\n';
	return k;
}

static void want_prefixed(const char *rest)
{
	char want[256];

	snprintf(want, sizeof(want), "test-log[%ld]: %s", (long)getpid(), rest);
	TEST_STREQ(caught, want);
}

static void test_line_format(void)
{
	int rd, saved;

	log_open("/usr/libexec/postern/test-log", LOG_TO_STDERR);
	TEST_STREQ(log_program(), "test-log");
	saved = capture_start(&rd);
	TEST_ASSERT(saved >= 0);
	log_info("4F2A1", "from=<%s> size=%d", "a@b.example", 42);
	capture_end(saved, rd);
	want_prefixed("4F2A1: from=<a@b.example> size=42\n");
}

static void test_line_without_id_and_warning(void)
{
	int rd, saved;

	log_open("test-log", LOG_TO_STDERR);
	saved = capture_start(&rd);
	log_info(NULL, "started");
	capture_end(saved, rd);
	want_prefixed("started\n");
	saved = capture_start(&rd);
	log_warn("s1", "disk %d%% full", 95);
	capture_end(saved, rd);
	want_prefixed("s1: warning: disk 95% full\n");
}

static void test_line_newlines_replaced(void)
{
	int rd, saved;

	log_open("test-log", LOG_TO_STDERR);
	saved = capture_start(&rd);
	log_info("id", "a\nb\r\nc%s", "\nd");
	capture_end(saved, rd);
	want_prefixed("id: a b  c d\n");
	TEST_ASSERT(count_newlines() == 1);
}

/* Log a message of mlen 'x' and return the written line's length. */
static size_t log_long(size_t mlen)
{
	char *m = malloc(mlen + 1);
	int rd, saved;

	if (m == NULL)
		return 0;
	memset(m, 'x', mlen);
	m[mlen] = '\0';
	saved = capture_start(&rd);
	log_info("id", "%s", m);
	capture_end(saved, rd);
	free(m);
	return caught_len;
}

static void test_line_long_cut(void)
{
	char prefix[64];

	log_open("test-log", LOG_TO_STDERR);
	snprintf(prefix, sizeof(prefix), "test-log[%ld]: id: ", (long)getpid());
	TEST_ASSERT(log_long(5000) == LOG_LINE_MAX);
	TEST_ASSERT(strncmp(caught, prefix, strlen(prefix)) == 0);
	TEST_ASSERT(strcmp(caught + caught_len - 4, "...\n") == 0);
	TEST_ASSERT(caught[caught_len - 5] == 'x');
	TEST_ASSERT(count_newlines() == 1);
}

/* A line of exactly LOG_LINE_MAX bytes is whole; one more byte is cut. */
static void test_line_cut_boundary(void)
{
	char prefix[64];
	size_t fit;

	log_open("test-log", LOG_TO_STDERR);
	snprintf(prefix, sizeof(prefix), "test-log[%ld]: id: ", (long)getpid());
	fit = LOG_LINE_MAX - 1 - strlen(prefix);
	TEST_ASSERT(log_long(fit) == LOG_LINE_MAX);
	TEST_ASSERT(strcmp(caught + caught_len - 4, "xxx\n") == 0);
	TEST_ASSERT(log_long(fit + 1) == LOG_LINE_MAX);
	TEST_ASSERT(strcmp(caught + caught_len - 4, "...\n") == 0);
	TEST_ASSERT(log_long(fit - 1) == LOG_LINE_MAX - 1);
}

/* "YYYY-MM-DDTHH:MM:SSZ " */
static int is_timestamp(const char *s)
{
	const char *shape = "dddd-dd-ddTdd:dd:ddZ ";

	for (size_t i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9')
				    : s[i] != shape[i])
			return 0;
	}
	return 1;
}

static void test_timestamps(void)
{
	char buf[32], small[10];
	int rd, saved;

	log_timestamp(buf, sizeof(buf));
	TEST_ASSERT(strlen(buf) == 21 && is_timestamp(buf));
	log_timestamp(small, sizeof(small));
	TEST_STREQ(small, "");
	log_open("test-log", LOG_TO_STDERR);
	log_set_timestamps(1);
	saved = capture_start(&rd);
	log_info("id", "stamped");
	capture_end(saved, rd);
	log_set_timestamps(0);
	TEST_ASSERT(caught_len > 21 && is_timestamp(caught));
	TEST_ASSERT(strncmp(caught + 21, "test-log[", 9) == 0);
	TEST_ASSERT(strstr(caught, "]: id: stamped\n") != NULL);
}

/* Run fatal (0) or panic (1) in a child; return its wait status. */
static int child_dies(int panic, pid_t *pid_r)
{
	int rd, saved, status;
	pid_t pid;

	saved = capture_start(&rd);
	pid = fork();
	if (pid == 0) {
		struct rlimit nocore = { 0, 0 };

		setrlimit(RLIMIT_CORE, &nocore);
		if (panic)
			log_panic("broken %s", "invariant");
		log_fatal("cannot open %s", "/etc/postern/postern.conf");
	}
	capture_end(saved, rd);
	*pid_r = pid;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static void test_fatal_and_panic(void)
{
	char want[128];
	pid_t pid;
	int status;

	log_open("test-log", LOG_TO_STDERR);
	status = child_dies(0, &pid);
	TEST_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 111);
	snprintf(want, sizeof(want), "test-log[%ld]: fatal: cannot open "
		 "/etc/postern/postern.conf\n", (long)pid);
	TEST_STREQ(caught, want);
	status = child_dies(1, &pid);
	TEST_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	snprintf(want, sizeof(want), "test-log[%ld]: panic: broken invariant\n",
		 (long)pid);
	TEST_STREQ(caught, want);
}

TEST_MAIN(test_escape_printable, test_escape_control_bytes,
	  test_escape_quote_backslash, test_escape_maxlen, test_escape_appends,
	  test_escape_respects_cap, test_line_format,
	  test_line_without_id_and_warning, test_line_newlines_replaced,
	  test_line_long_cut, test_line_cut_boundary, test_timestamps,
	  test_fatal_and_panic)
