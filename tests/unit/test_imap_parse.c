/*
 * test_imap_parse - the IMAP command reader (imapd/imap_parse.h)
 *
 * The client's bytes are written into one end of a socketpair, whose
 * writing side is then shut, and the reader reads the other end; what it
 * sends back ("+ OK") is read from the first end. Each command read is
 * written out as text (dump()) and compared with a table.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "imapd/imap_parse.h"

struct peer {
	int sv[2];
	struct io io;
	struct imap_reader r;
};

static void peer_open(struct peer *pe, const char *in, size_t n,
		      const struct imap_reader_limits *lim)
{
	int size = 1 << 20;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pe->sv) < 0)
		abort();
	setsockopt(pe->sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(pe->sv[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (n > 0 && write(pe->sv[1], in, n) != (ssize_t)n)
		abort();
	shutdown(pe->sv[1], SHUT_WR);
	io_init(&pe->io, pe->sv[0], 2000);
	imap_reader_init(&pe->r, &pe->io, lim);
}

/* What the reader sent back. */
static void peer_output(struct peer *pe, struct str *out)
{
	char buf[4096];
	ssize_t got;

	str_clear(out);
	while ((got = recv(pe->sv[1], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		str_append(out, buf, (size_t)got);
}

static void peer_close(struct peer *pe)
{
	imap_reader_free(&pe->r);
	io_free(&pe->io);
	close(pe->sv[0]);
	close(pe->sv[1]);
}

static void dump_args(struct str *out, const struct imap_arg *a, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			str_appendc(out, ' ');
		switch (a[i].type) {
		case IMAP_ARG_ATOM:
			str_append(out, a[i].s, a[i].len);
			break;
		case IMAP_ARG_NIL:
			str_appends(out, "<NIL>");
			break;
		case IMAP_ARG_STRING:
			str_appends(out, a[i].binary ? "~{" :
				     a[i].literal ? "{" : "\"");
			str_append(out, a[i].s, a[i].len);
			str_appends(out, a[i].literal ? "}" : "\"");
			break;
		case IMAP_ARG_LIST:
			str_appendc(out, '(');
			dump_args(out, a[i].list, a[i].n);
			str_appendc(out, ')');
			break;
		}
	}
}

static void dump_command(struct str *out, int rc, const struct imap_command *c,
			 const struct imap_reader *r)
{
	static const char *const names[] = {
		"OK", "BAD", "TOOBIG", "EOF", "TIMEOUT", "ERR",
	};

	if (out->len > 0)
		str_appendc(out, '|');
	str_appendf(out, "%s %s", names[rc], c->tag);
	if (rc == IMAP_READ_OK) {
		str_appendf(out, " %s%s", c->uid ? "UID " : "", c->name);
		if (c->nargs > 0) {
			str_appendc(out, ' ');
			dump_args(out, c->args, c->nargs);
		}
		if (c->literal_pending)
			str_appendf(out, " +%llu%s",
				    (unsigned long long)c->literal_size,
				    c->literal_sync ? "" : "+");
	} else {
		str_appendf(out, ": %s", imap_reader_error(r));
	}
}

/* Read commands until EOF; each as text in out. */
static void run(const char *in, size_t n, const struct imap_reader_limits *lim,
		struct str *out, struct str *sent)
{
	struct peer pe;
	struct imap_command cmd;
	int rc;

	str_clear(out);
	peer_open(&pe, in, n, lim);
	for (int i = 0; i < 50; i++) {
		rc = imap_read_command(&pe.r, &cmd);
		if (rc == IMAP_READ_EOF)
			break;
		dump_command(out, rc, &cmd, &pe.r);
		if (rc > IMAP_READ_TOOBIG || imap_reader_must_close(&pe.r))
			break;
	}
	peer_output(&pe, sent);
	peer_close(&pe);
}

struct parse_case {
	const char *in;
	const char *want;
	int continues;		/* "+ OK" lines expected */
};

static const struct parse_case parse_cases[] = {
	{ "a1 NOOP\r\n", "OK a1 NOOP", 0 },
	{ "a1 noop\n", "OK a1 NOOP", 0 },
	{ "x uid fetch 1:* (FLAGS UID)\r\n", "OK x UID FETCH 1:* (FLAGS UID)", 0 },
	{ "t SELECT INBOX (CONDSTORE)\r\n", "OK t SELECT INBOX (CONDSTORE)", 0 },
	/* quoted strings and escapes; empty string; NIL */
	{ "t LOGIN \"us\\\"er\" \"p\\\\w\"\r\n", "OK t LOGIN \"us\"er\" \"p\\w\"", 0 },
	{ "t X \"\" nil NIL \"NIL\"\r\n", "OK t X \"\" <NIL> <NIL> \"NIL\"", 0 },
	{ "t X \"a\\b\"\r\n", "BAD t: Invalid escape in quoted string", 0 },
	{ "t X \"abc\r\n", "BAD t: Unterminated quoted string", 0 },
	/* UTF-8 in quoted strings: well-formed only */
	{ "t X \"caf\xc3\xa9\"\r\n", "OK t X \"caf\xc3\xa9\"", 0 },
	{ "t X \"caf\xe9\"\r\n", "BAD t: Invalid UTF-8 in quoted string", 0 },
	{ "t X \"\xed\xa0\x80\"\r\n", "BAD t: Invalid UTF-8 in quoted string", 0 },
	{ "t X caf\xc3\xa9\r\n", "BAD t: 8-bit byte in an atom", 0 },
	/* lists and nesting */
	{ "t X (a (b c) () \"d\")\r\n", "OK t X (a (b c) () \"d\")", 0 },
	{ "t X (a\r\n", "BAD t: Missing )", 0 },
	{ "t X a)\r\n", "BAD t: Unexpected )", 0 },
	{ "t X (a)(b)\r\n", "BAD t: Missing space between arguments", 0 },
	{ "t X \"a\"b\r\n", "BAD t: Missing space between arguments", 0 },
	/* extra spaces are tolerated */
	{ "t X  a   b \r\n", "OK t X a b", 0 },
	/* tags and names */
	{ "\r\n", "BAD *: Empty command line", 0 },
	{ "* NOOP\r\n", "BAD *: Invalid tag", 0 },
	{ "a+b NOOP\r\n", "BAD *: Invalid tag", 0 },
	{ "a{b NOOP\r\n", "BAD *: Invalid tag", 0 },
	{ "a]b NOOP\r\n", "OK a]b NOOP", 0 },
	{ "tagonly\r\n", "BAD tagonly: Missing command", 0 },
	{ "t N@OP\r\n", "BAD t: Invalid command name", 0 },
	{ "t UID\r\n", "BAD t: Missing command after UID", 0 },
	{ "t \x01\r\n", "BAD t: Invalid command name", 0 },
	{ "t X a\x01\r\n", "BAD t: Invalid character", 0 },
	/* sections in FETCH atoms */
	{ "t FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> BODY[])\r\n",
	  "OK t FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> BODY[])", 0 },
	{ "t FETCH 1 BINARY.SIZE[1.2]\r\n", "OK t FETCH 1 BINARY.SIZE[1.2]", 0 },
	{ "t FETCH 1 (BODY[HEADER.FIELDS (A)\r\n",
	  "BAD t: Invalid or unterminated section", 0 },
	{ "t LIST \"\" a[b\r\n", "OK t LIST \"\" a[b", 0 },
	/* literals: synchronizing, non-synchronizing, literal8, empty */
	{ "t LOGIN {4}\r\nuser {2+}\r\npw\r\n", "OK t LOGIN {user} {pw}", 1 },
	{ "t X {0}\r\n\r\n", "OK t X {}", 1 },
	{ "t X (a {3+}\r\nb c)\r\n", "OK t X (a {b c})", 0 },
	{ "t X ~{3}\r\nabc\r\n", "OK t X ~{abc}", 1 },
	{ "t X {3} a\r\n", "BAD t: Literal must end the line", 0 },
	{ "t X {x}\r\n", "BAD t: Invalid literal", 0 },
	{ "t X {99999999999}\r\n", "BAD t: Literal size too large", 0 },
	{ "t X {3}\r\nabcdef\r\n", "BAD t: Missing space between arguments", 1 },
	/* a BAD before a synchronizing literal: no "+", and the client does
	 * not send it; before a non-synchronizing one: it is skipped */
	{ "t X \"a\\q\" {3}\r\nu NOOP\r\n",
	  "BAD t: Invalid escape in quoted string|OK u NOOP", 0 },
	{ "t X \"a\\q\" {3+}\r\nabc {2+}\r\nxy\r\nu NOOP\r\n",
	  "BAD t: Invalid escape in quoted string|OK u NOOP", 0 },
	/* APPEND: the message is never read into memory */
	{ "t APPEND INBOX (\\Seen) {5}\r\n",
	  "OK t APPEND INBOX (\\Seen) +5", 0 },
	{ "t APPEND {5}\r\nINBOX {3+}\r\n",
	  "OK t APPEND {INBOX} +3+", 1 },
	/* UID APPEND is no APPEND */
	{ "t UID APPEND INBOX {3}\r\nabc\r\n", "OK t UID APPEND INBOX {abc}", 1 },
};

static void test_parse_table(void)
{
	struct str out = STR_INIT(0), sent = STR_INIT(0);

	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t want_sent = 0;

		run(c->in, strlen(c->in), NULL, &out, &sent);
		if (strcmp(str_c(&out), c->want) != 0) {
			printf("case %zu: \"%s\" vs \"%s\"\n", i, str_c(&out),
			       c->want);
			TEST_ASSERT(0);
		}
		for (const char *p = str_c(&sent); (p = strstr(p, "+ OK\r\n"));
		     p++)
			want_sent++;
		if (want_sent != (size_t)c->continues) {
			printf("case %zu: %zu continuations\n", i, want_sent);
			TEST_ASSERT(0);
		}
	}
	str_free(&out);
	str_free(&sent);
}

/* NUL: allowed in literal8 only. */
static void test_literal_nul(void)
{
	static const char in[] = "t X ~{3}\r\na\0b\r\n"
		"u X {3}\r\na\0b\r\nv NOOP\r\n";
	struct str out = STR_INIT(0), sent = STR_INIT(0);
	static const char want[] = "OK t X ~{a\0b}|BAD u: NUL in a literal|"
		"OK v NOOP";

	run(in, sizeof(in) - 1, NULL, &out, &sent);
	TEST_ASSERT(out.len == sizeof(want) - 1 &&
		    memcmp(out.s, want, out.len) == 0);
	TEST_STREQ(str_c(&sent), "+ OK\r\n+ OK\r\n");
	str_free(&out);
	str_free(&sent);
}

static void small_limits(struct imap_reader_limits *lim)
{
	imap_reader_limits_default(lim);
	lim->line_max = 40;
	lim->literal_max = 10;
	lim->command_max = 64;
	lim->depth_max = 3;
	lim->args_max = 6;
	lim->append_max = 100;
	lim->drain_max = 200;
}

static const struct parse_case limit_cases[] = {
	/* over-long lines are read to their end, the tag kept */
	{ "t X aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nu NOOP\r\n",
	  "TOOBIG t: Command line too long|OK u NOOP", 0 },
	/* ... and a non-synchronizing literal it announces is skipped */
	{ "t X aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa {4+}\r\nabcd\r\n"
	  "u NOOP\r\n", "TOOBIG t: Command line too long|OK u NOOP", 0 },
	{ "t X (((a)))\r\n", "OK t X (((a)))", 0 },
	{ "t X ((((a))))\r\nu NOOP\r\n",
	  "BAD t: Too deeply nested lists|OK u NOOP", 0 },
	{ "t X a b c d e f\r\n", "OK t X a b c d e f", 0 },
	{ "t X a b c d e f g\r\n", "BAD t: Too many arguments", 0 },
	/* literal over literal_max: sync refused without "+" */
	{ "t X {11}\r\nu NOOP\r\n", "TOOBIG t: Literal too big|OK u NOOP", 0 },
	{ "t X {11+}\r\nabcdefghijk\r\nu NOOP\r\n",
	  "TOOBIG t: Literal too big|OK u NOOP", 0 },
	{ "t X {10}\r\nabcdefghij\r\n", "OK t X {abcdefghij}", 1 },
	/* the whole command over command_max */
	{ "t X {10}\r\nabcdefghij {10}\r\nabcdefghij {10}\r\nabcdefghij"
	  " {10}\r\nabcdefghij {10}\r\nabcdefghij {10}\r\n",
	  "TOOBIG t: Literal too big", 5 },
	/* APPEND over append_max: refused before the "+" */
	{ "t APPEND INBOX {101}\r\nu NOOP\r\n",
	  "TOOBIG t: Message too big|OK u NOOP", 0 },
	{ "t APPEND INBOX {150+}\r\n"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789\r\nu NOOP\r\n", "TOOBIG t: Message too big|OK u NOOP", 0 },
	/* too much to skip: the session must end */
	{ "t APPEND INBOX {300+}\r\n", "TOOBIG t: Message too big", 0 },
};

static void test_limits(void)
{
	struct str out = STR_INIT(0), sent = STR_INIT(0);
	struct imap_reader_limits lim;

	small_limits(&lim);
	for (size_t i = 0; i < sizeof(limit_cases) / sizeof(limit_cases[0]);
	     i++) {
		const struct parse_case *c = &limit_cases[i];
		size_t want_sent = 0;

		run(c->in, strlen(c->in), &lim, &out, &sent);
		if (strcmp(str_c(&out), c->want) != 0) {
			printf("case %zu: \"%s\" vs \"%s\"\n", i, str_c(&out),
			       c->want);
			TEST_ASSERT(0);
		}
		for (const char *p = str_c(&sent); (p = strstr(p, "+ OK\r\n"));
		     p++)
			want_sent++;
		if (want_sent != (size_t)c->continues) {
			printf("case %zu: %zu continuations\n", i, want_sent);
			TEST_ASSERT(0);
		}
	}
	str_free(&out);
	str_free(&sent);
}

/* LITERAL-: non-synchronizing literals over 4096 bytes are refused. */
static void test_literal_minus(void)
{
	struct str in = STR_INIT(0);
	struct peer pe;
	struct imap_command cmd;

	str_appends(&in, "t X {4097+}\r\n");
	for (int i = 0; i < 4097; i++)
		str_appendc(&in, 'x');
	str_appends(&in, "\r\nu X {4096+}\r\n");
	for (int i = 0; i < 4096; i++)
		str_appendc(&in, 'y');
	str_appends(&in, "\r\n");
	peer_open(&pe, in.s, in.len, NULL);
	imap_reader_set_literal_minus(&pe.r, 1);
	TEST_ASSERT(imap_read_command(&pe.r, &cmd) == IMAP_READ_TOOBIG);
	TEST_STREQ(cmd.tag, "t");
	TEST_ASSERT(strstr(imap_reader_error(&pe.r), "LITERAL-") != NULL);
	TEST_ASSERT(!imap_reader_must_close(&pe.r));
	TEST_ASSERT(imap_read_command(&pe.r, &cmd) == IMAP_READ_OK);
	TEST_STREQ(cmd.tag, "u");
	TEST_ASSERT(cmd.nargs == 1 && cmd.args[0].len == 4096);
	TEST_ASSERT(imap_read_command(&pe.r, &cmd) == IMAP_READ_EOF);
	peer_close(&pe);
	str_free(&in);
}

/* MULTIAPPEND through the pending-literal calls, with a real peer that
 * waits for each "+" as a client must. */
static void test_append_flow(void)
{
	int sv[2];
	pid_t pid;
	struct io io;
	struct imap_reader r;
	struct imap_command cmd;
	char buf[8];
	struct str msg = STR_INIT(0);
	size_t got;

	TEST_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid = fork();
	if (pid == 0) {
		char ans[16];
		static const char part1[] = "a APPEND Box (\\Seen) {11}\r\n";
		static const char part2[] = "hello world (\\Flagged) "
			"\"6-Dec-2026 10:00:00 +0000\" {5+}\r\nsecond\r\n";

		close(sv[0]);
		if (write(sv[1], part1, sizeof(part1) - 1) < 0 ||
		    read(sv[1], ans, 6) != 6 || memcmp(ans, "+ OK\r\n", 6) ||
		    write(sv[1], part2, sizeof(part2) - 1) < 0)
			_exit(1);
		shutdown(sv[1], SHUT_WR);
		_exit(read(sv[1], ans, 1) == 0 ? 0 : 2);
	}
	close(sv[1]);
	io_init(&io, sv[0], 2000);
	imap_reader_init(&r, &io, NULL);
	TEST_ASSERT(imap_read_command(&r, &cmd) == IMAP_READ_OK);
	TEST_STREQ(cmd.name, "APPEND");
	TEST_ASSERT(cmd.nargs == 2 && cmd.literal_pending &&
		    cmd.literal_size == 11 && cmd.literal_sync);
	TEST_STREQ(cmd.args[0].s, "Box");
	TEST_ASSERT(cmd.args[1].type == IMAP_ARG_LIST && cmd.args[1].n == 1);
	/* continue is refused before the literal was read */
	TEST_ASSERT(imap_read_continue(&r, &cmd) == IMAP_READ_ERR);
	do {
		TEST_ASSERT(imap_reader_literal_read(&r, buf, 3, &got) ==
			    IMAP_READ_OK);
		str_append(&msg, buf, got);
	} while (got > 0);
	TEST_STREQ(str_c(&msg), "hello world");
	TEST_ASSERT(imap_read_continue(&r, &cmd) == IMAP_READ_OK);
	TEST_ASSERT(cmd.nargs == 2 && cmd.literal_pending &&
		    cmd.literal_size == 5 && !cmd.literal_sync);
	TEST_STREQ(cmd.args[0].list[0].s, "\\Flagged");
	TEST_STREQ(cmd.args[1].s, "6-Dec-2026 10:00:00 +0000");
	str_clear(&msg);
	do {
		TEST_ASSERT(imap_reader_literal_read(&r, buf, sizeof(buf),
						     &got) == IMAP_READ_OK);
		str_append(&msg, buf, got);
	} while (got > 0);
	TEST_STREQ(str_c(&msg), "secon");
	/* "d" follows the literal without a space */
	TEST_ASSERT(imap_read_continue(&r, &cmd) == IMAP_READ_BAD);
	TEST_STREQ(cmd.tag, "a");
	TEST_ASSERT(imap_read_command(&r, &cmd) == IMAP_READ_EOF);
	close(sv[0]);
	TEST_ASSERT(waitpid(pid, &(int){0}, 0) == pid);
	imap_reader_free(&r);
	io_free(&io);
	str_free(&msg);
}

/* The caller refuses APPEND's message (e.g. TRYCREATE). */
static void test_append_skip(void)
{
	static const char in[] =
		"a APPEND Nope {5}\r\n"
		"b APPEND Nope {5+}\r\nhello {3+}\r\nabc\r\n"
		"c APPEND Box {2+}\r\nhi\r\n";
	struct peer pe;
	struct imap_command cmd;
	struct str sent = STR_INIT(0);
	char buf[4];
	size_t got;

	peer_open(&pe, in, sizeof(in) - 1, NULL);
	TEST_ASSERT(imap_read_command(&pe.r, &cmd) == IMAP_READ_OK);
	TEST_ASSERT(cmd.literal_pending && cmd.literal_sync);
	TEST_ASSERT(imap_reader_literal_skip(&pe.r) == IMAP_READ_OK);
	TEST_ASSERT(imap_read_command(&pe.r, &cmd) == IMAP_READ_OK);
	TEST_STREQ(cmd.tag, "b");
	TEST_ASSERT(imap_reader_literal_skip(&pe.r) == IMAP_READ_OK);
	TEST_ASSERT(imap_read_command(&pe.r, &cmd) == IMAP_READ_OK);
	TEST_STREQ(cmd.tag, "c");
	TEST_ASSERT(imap_reader_literal_read(&pe.r, buf, 4, &got) ==
		    IMAP_READ_OK && got == 2);
	TEST_ASSERT(imap_reader_literal_read(&pe.r, buf, 4, &got) ==
		    IMAP_READ_OK && got == 0);
	TEST_ASSERT(imap_read_continue(&pe.r, &cmd) == IMAP_READ_OK);
	TEST_ASSERT(cmd.nargs == 0 && !cmd.literal_pending);
	TEST_ASSERT(imap_read_command(&pe.r, &cmd) == IMAP_READ_EOF);
	peer_output(&pe, &sent);
	TEST_ASSERT(sent.len == 0);	/* no "+" for a refused literal */
	peer_close(&pe);
	str_free(&sent);
}

/* An idle reader gives back what a big command made it allocate. */
static void test_memory_released(void)
{
	struct str in = STR_INIT(0);
	struct peer pe;
	struct imap_command cmd;

	str_appends(&in, "t X {60000+}\r\n");
	for (int i = 0; i < 60000; i++)
		str_appendc(&in, 'x');
	str_appends(&in, "\r\nu NOOP\r\n");
	peer_open(&pe, in.s, in.len, NULL);
	TEST_ASSERT(imap_read_command(&pe.r, &cmd) == IMAP_READ_OK);
	TEST_ASSERT(cmd.args[0].len == 60000 && pe.r.data.cap >= 60000);
	TEST_ASSERT(imap_read_command(&pe.r, &cmd) == IMAP_READ_OK);
	TEST_ASSERT(pe.r.data.cap <= IMAP_READER_KEEP);
	peer_close(&pe);
	str_free(&in);
}

static void test_raw_line_and_helpers(void)
{
	static const char in[] = "DONE\r\nt X 42 Abc 18446744073709551616\r\n";
	struct peer pe;
	struct imap_command cmd;
	const char *line;
	size_t len;
	uint64_t v;

	peer_open(&pe, in, sizeof(in) - 1, NULL);
	TEST_ASSERT(imap_reader_read_line(&pe.r, &line, &len) == IMAP_READ_OK);
	TEST_ASSERT(len == 4 && memcmp(line, "DONE", 4) == 0);
	TEST_ASSERT(imap_read_command(&pe.r, &cmd) == IMAP_READ_OK);
	TEST_ASSERT(imap_arg_number(&cmd.args[0], 100, &v) && v == 42);
	TEST_ASSERT(!imap_arg_number(&cmd.args[0], 41, &v));
	TEST_ASSERT(!imap_arg_number(&cmd.args[1], 100, &v));
	TEST_ASSERT(!imap_arg_number(&cmd.args[2], UINT64_MAX, &v));
	TEST_ASSERT(imap_arg_atom_is(&cmd.args[1], "aBC"));
	peer_close(&pe);
}

TEST_MAIN(test_parse_table, test_literal_nul, test_limits, test_literal_minus,
	  test_append_flow, test_append_skip, test_memory_released,
	  test_raw_line_and_helpers)
