/*
 * test_imap_uidlog - postern-uidlog's lines (imap_uidlog.h): every record
 * type written and read back, bad and torn lines, and the file: torn tail
 * cut by a writer, a bad line skipped, replace seen by another handle.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "mail/imap_uidlog.h"
#include "test.h"

/* A line with its crc: body + " crc\n". */
static void with_crc(struct str *out, const char *body)
{
	str_clear(out);
	str_appendf(out, "%s %08x\n", body,
		    imap_uidlog_crc(0, body, strlen(body)));
}

static void test_crc(void)
{
	/* the standard check value of CRC-32/ISO-HDLC */
	TEST_ASSERT(imap_uidlog_crc(0, "123456789", 9) == 0xcbf43926u);
	TEST_ASSERT(imap_uidlog_crc(imap_uidlog_crc(0, "1234", 4),
				    "56789", 5) == 0xcbf43926u);
}

/* the M fields of a record of another type */
#define NOMT { 0, 0 }, { 0, 0 }, 0

static void test_records_round_trip(void)
{
	static const struct imap_uidlog_rec recs[] = {
		{ 'U', 1, 1, 0x00, 0, 0, "1.M1P2.h:2,", 11, NOMT },
		{ 'U', 4294967295u, 9223372036854775807ull, 0x9f, 0x3ffffff,
		  0, "x", 1, NOMT },
		{ 'F', 7, 12, 0x05, 0x3, 0, "1.M1P2.h,S=4,W=5:2,FSab", 23,
		  NOMT },
		{ 'X', 7, 13, 0, 0, 0, NULL, 0, NOMT },
		{ 'R', 0, 1013, 0, 0, 1700000000, NULL, 0, NOMT },
		{ 'R', 0, 0, 0, 0, 0, NULL, 0, NOMT },
		{ 'M', 0, 0, 0, 0, 0, NULL, 0, { 1700000000, 1700000001 },
		  { 999999999, 0 }, IMAP_UIDLOG_DIRS_OWN },
		{ 'M', 0, 0, 0, 0, 0, NULL, 0, { 0, 0 }, { 0, 5 },
		  IMAP_UIDLOG_DIRS_CLEAN },
		{ 'C', 1, 0, 0, 0, 0, NULL, 0, NOMT },
		{ 'C', 4294967295u, 0, 0, 0, 0, NULL, 0, NOMT },
	};
	struct str s = STR_INIT(0);

	for (size_t i = 0; i < sizeof(recs) / sizeof(*recs); i++) {
		struct imap_uidlog_rec r;
		size_t len;

		str_clear(&s);
		TEST_ASSERT(imap_uidlog_format_record(&s, &recs[i]) == 0);
		TEST_ASSERT(imap_uidlog_parse_record(s.s, s.len, &r, &len) == 1);
		TEST_ASSERT(len == s.len);
		TEST_ASSERT(r.type == recs[i].type && r.modseq == recs[i].modseq);
		TEST_ASSERT(r.boot == recs[i].boot);
		if (r.type != 'R' && r.type != 'M')
			TEST_ASSERT(r.uid == recs[i].uid);
		if (r.type == 'M') {
			TEST_ASSERT(r.mt_sec[0] == recs[i].mt_sec[0] &&
				    r.mt_sec[1] == recs[i].mt_sec[1]);
			TEST_ASSERT(r.mt_nsec[0] == recs[i].mt_nsec[0] &&
				    r.mt_nsec[1] == recs[i].mt_nsec[1]);
			TEST_ASSERT(r.mt_state == recs[i].mt_state);
		}
		if (r.type == 'U' || r.type == 'F') {
			TEST_ASSERT(r.flags == recs[i].flags);
			TEST_ASSERT(r.keywords == recs[i].keywords);
			TEST_ASSERT(r.name_len == recs[i].name_len &&
				    memcmp(r.name, recs[i].name, r.name_len) == 0);
		}
		/* every cut of the line is incomplete, never accepted */
		for (size_t cut = 0; cut < s.len; cut++)
			TEST_ASSERT(imap_uidlog_parse_record(s.s, cut, &r,
							     &len) == 0);
	}
	str_free(&s);
}

static void test_records_bad(void)
{
	static const char *bodies[] = {
		"", "U", "U 1 1 00 0", "U 0 1 00 0 n", "U 01 1 00 0 n",
		"U 1 1 0 0 n", "U 1 1 00 4000000 n", "U 1 1 0G 0 n",
		"U 1 1 00 0 .dot", "U 1 1 00 0 a/b", "U 1 1 00 0 a b",
		"U 4294967296 1 00 0 n", "U 1 9223372036854775808 00 0 n",
		"F 1 1 00 0", "X 1", "X 1 1 1", "R", "R -1", "R 1", "R 1 2 3",
		"Z 1 1", "U 1 1 00 000000000 n", "X  1 1", "U 1 1 00 0 n ",
		"U 1 1 00 0 n\r", "M", "M 1 2 3 4", "M 1 2 3 4 5",
		"M 1 1000000000 3 4 0", "M 1 2 3 04 0", "M -1 2 3 4 0",
		"M 1 2 3 4 0 ", "C", "C 0", "C 01", "C 1 2", "C 4294967296",
		"C  1", "C 1 ",
	};
	struct imap_uidlog_rec r;
	struct str s = STR_INIT(0);
	size_t len;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
		with_crc(&s, bodies[i]);
		TEST_ASSERT(imap_uidlog_parse_record(s.s, s.len, &r, &len) == -1);
		TEST_ASSERT(len == s.len);
	}
	/* a good line with its crc damaged */
	with_crc(&s, "X 3 4");
	TEST_ASSERT(imap_uidlog_parse_record(s.s, s.len, &r, &len) == 1);
	s.s[0] = 'R';
	TEST_ASSERT(imap_uidlog_parse_record(s.s, s.len, &r, &len) == -1);
	/* upper-case crc digits are not the grammar's */
	str_set(&s, "X 3 4 ", 6);
	str_appendf(&s, "%08X\n", imap_uidlog_crc(0, "X 3 4", 5));
	if (strpbrk(s.s + 6, "ABCDEF") != NULL)
		TEST_ASSERT(imap_uidlog_parse_record(s.s, s.len, &r, &len) == -1);
	/* NULs of a crashed extension: incomplete without LF */
	{
		char zeros[64] = { 0 };

		TEST_ASSERT(imap_uidlog_parse_record(zeros, sizeof(zeros), &r,
						     &len) == 0);
	}
	/* an over-long line is bad even without LF */
	{
		char big[IMAP_UIDLOG_LINE_MAX + 10];

		memset(big, 'a', sizeof(big));
		TEST_ASSERT(imap_uidlog_parse_record(big, sizeof(big), &r,
						     &len) == -1);
	}
	str_free(&s);
}

static void test_header(void)
{
	struct imap_uidlog_header h = { 1700000000, 42, 99, 7, 123456 }, g;
	struct str s = STR_INIT(0);
	size_t len;

	TEST_ASSERT(imap_uidlog_format_header(&s, &h) == 0);
	TEST_ASSERT(strncmp(s.s, "postern-uidlog 1 V1700000000 N42 M99 E7 "
			    "G123456 ", 40) == 0);
	TEST_ASSERT(imap_uidlog_parse_header(s.s, s.len, &g, &len) == 1);
	TEST_ASSERT(len == s.len && memcmp(&g, &h, sizeof(h)) == 0);
	with_crc(&s, "postern-uidlog 2 V1 N1 M0 E0 G0");
	TEST_ASSERT(imap_uidlog_parse_header(s.s, s.len, &g, &len) == -1);
	with_crc(&s, "postern-uidlog 1 V0 N1 M0 E0 G0");
	TEST_ASSERT(imap_uidlog_parse_header(s.s, s.len, &g, &len) == -1);
	with_crc(&s, "postern-uidlog 1 V1 N1 M0 E0");
	TEST_ASSERT(imap_uidlog_parse_header(s.s, s.len, &g, &len) == -1);
	h.uidvalidity = 0;
	TEST_ASSERT(imap_uidlog_format_header(&s, &h) == -1);
	str_free(&s);
}

struct collect {
	unsigned n;
	uint32_t uids[16];
};

static int collect_fn(void *arg, const struct imap_uidlog_rec *r,
		      uint64_t end)
{
	struct collect *c = arg;

	(void)end;
	if (c->n < 16)
		c->uids[c->n] = r->uid;
	c->n++;
	return 0;
}

static int tmpdir_fd(char *path)
{
	if (mkdtemp(path) == NULL)
		return -1;
	return open(path, O_RDONLY | O_DIRECTORY);
}

static void test_file_torn_tail(void)
{
	char path[] = "/tmp/test_uidlog.XXXXXX";
	int dfd = tmpdir_fd(path), fd;
	struct imap_uidlog l, l2;
	struct imap_uidlog_header h = { 5, 1, 0, 0, 77 };
	struct imap_uidlog_rec r = { 'U', 1, 1, 0, 0, 0, "a:2,", 4, NOMT };
	struct collect c = { 0 };
	struct str recs = STR_INIT(0);
	const char *e;
	uint64_t size;

	TEST_ASSERT(dfd >= 0);
	imap_uidlog_init(&l, dfd);
	TEST_ASSERT(imap_uidlog_open(&l, &e) == 0);
	TEST_ASSERT(imap_uidlog_create(&l, &h, NULL, 0, &e) == 0);
	/* a second creator loses, and the file is kept */
	imap_uidlog_init(&l2, dfd);
	TEST_ASSERT(imap_uidlog_create(&l2, &h, "x", 1, &e) == -1 &&
		    errno == EEXIST);
	imap_uidlog_close(&l2);
	TEST_ASSERT(imap_uidlog_lock(&l, LOCK_EX, &e) == 0);
	imap_uidlog_format_record(&recs, &r);
	r.uid = 2;
	r.name = "b";
	r.name_len = 1;
	imap_uidlog_format_record(&recs, &r);
	TEST_ASSERT(imap_uidlog_append(&l, recs.s, recs.len, &e) == 0);
	imap_uidlog_lock(&l, LOCK_UN, &e);
	/* a torn record (a crash in the middle of a write) */
	fd = openat(dfd, IMAP_UIDLOG_FILE, O_WRONLY | O_APPEND);
	TEST_ASSERT(write(fd, "U 3 3 00 0 c 1234", 17) == 17);
	close(fd);

	imap_uidlog_init(&l2, dfd);
	TEST_ASSERT(imap_uidlog_open(&l2, &e) == 1);
	TEST_ASSERT(l2.h.uidvalidity == 5 && l2.h.generation == 77);
	imap_uidlog_lock(&l2, LOCK_SH, &e);
	TEST_ASSERT(imap_uidlog_read(&l2, collect_fn, &c, &e) == 0);
	TEST_ASSERT(c.n == 2 && c.uids[0] == 1 && c.uids[1] == 2);
	TEST_ASSERT(l2.torn == 1);
	imap_uidlog_size(&l2, &size);
	TEST_ASSERT(size == l2.offset + 17);	/* a reader leaves it */
	/* a writer cuts it, then appends after the last good record */
	imap_uidlog_lock(&l2, LOCK_EX, &e);
	TEST_ASSERT(imap_uidlog_read(&l2, NULL, NULL, &e) == 0);
	imap_uidlog_size(&l2, &size);
	TEST_ASSERT(size == l2.offset && l2.torn == 0);
	str_clear(&recs);
	r.uid = 3;
	imap_uidlog_format_record(&recs, &r);
	TEST_ASSERT(imap_uidlog_append(&l2, recs.s, recs.len, &e) == 0);
	imap_uidlog_lock(&l2, LOCK_UN, &e);
	imap_uidlog_close(&l2);

	/* the first handle sees the third record; a bad line is skipped */
	fd = openat(dfd, IMAP_UIDLOG_FILE, O_WRONLY | O_APPEND);
	TEST_ASSERT(write(fd, "garbage\n", 8) == 8);
	str_clear(&recs);
	r.uid = 4;
	imap_uidlog_format_record(&recs, &r);
	TEST_ASSERT(write(fd, recs.s, recs.len) == (ssize_t)recs.len);
	close(fd);
	c.n = 0;
	imap_uidlog_lock(&l, LOCK_SH, &e);
	TEST_ASSERT(imap_uidlog_read(&l, collect_fn, &c, &e) == 0);
	TEST_ASSERT(c.n == 2 && c.uids[0] == 3 && c.uids[1] == 4);
	TEST_ASSERT(l.bad == 1);
	imap_uidlog_lock(&l, LOCK_UN, &e);

	/* replace: the other handle finds the new file when it locks */
	imap_uidlog_init(&l2, dfd);
	TEST_ASSERT(imap_uidlog_open(&l2, &e) == 1);
	imap_uidlog_lock(&l, LOCK_EX, &e);
	h.uidnext = 5;
	h.generation = 78;
	str_clear(&recs);
	r.uid = 4;
	imap_uidlog_format_record(&recs, &r);
	TEST_ASSERT(imap_uidlog_replace(&l, &h, recs.s, recs.len, &e) == 0);
	imap_uidlog_lock(&l, LOCK_UN, &e);
	TEST_ASSERT(imap_uidlog_lock(&l2, LOCK_SH, &e) == 1);
	TEST_ASSERT(l2.h.generation == 78 && l2.h.uidnext == 5);
	c.n = 0;
	TEST_ASSERT(imap_uidlog_read(&l2, collect_fn, &c, &e) == 0);
	TEST_ASSERT(c.n == 1 && c.uids[0] == 4);
	imap_uidlog_close(&l2);
	imap_uidlog_close(&l);
	str_free(&recs);
	unlinkat(dfd, IMAP_UIDLOG_FILE, 0);
	close(dfd);
	rmdir(path);
}

TEST_MAIN(test_crc, test_records_round_trip, test_records_bad, test_header,
	  test_file_torn_tail)
