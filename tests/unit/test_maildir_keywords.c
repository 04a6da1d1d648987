/*
 * test_maildir_keywords - the dovecot-keywords file
 * (common/mail/maildir_keywords.h)
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/maildir_keywords.h"

static size_t parse(struct maildir_keywords *kw, const char *text)
{
	return maildir_keywords_parse(kw, text, strlen(text));
}

static void test_parse_dovecot(void)
{
	struct maildir_keywords kw;
	struct str out = STR_INIT(0);

	maildir_keywords_init(&kw);
	/* as Dovecot writes it */
	TEST_ASSERT(parse(&kw, "0 $Forwarded\n1 Junk\n2 $MDNSent\n") == 0);
	TEST_STREQ(kw.name[0], "$Forwarded");
	TEST_STREQ(kw.name[1], "Junk");
	TEST_STREQ(kw.name[2], "$MDNSent");
	TEST_ASSERT(kw.name[3] == NULL);
	TEST_ASSERT(maildir_keywords_find(&kw, "junk") == 1);
	TEST_ASSERT(maildir_keywords_find(&kw, "$forwarded") == 0);
	TEST_ASSERT(maildir_keywords_find(&kw, "NonJunk") == -1);
	TEST_ASSERT(maildir_keywords_format(&kw, &out) == 0);
	TEST_STREQ(str_c(&out), "0 $Forwarded\n1 Junk\n2 $MDNSent\n");
	maildir_keywords_free(&kw);
	str_free(&out);
}

/* Lines it cannot use are skipped and counted, the rest kept. */
static void test_parse_skips(void)
{
	struct maildir_keywords kw;

	maildir_keywords_init(&kw);
	TEST_ASSERT(parse(&kw, "nospace\n26 Out\n-1 Neg\n1x Bad\n100 Big\n"
			  " 3 Lead\n4 \n5 two words\n6 ctl\x01\n7 ok") == 9);
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		TEST_ASSERT(i == 7 ? kw.name[i] != NULL : kw.name[i] == NULL);
	TEST_STREQ(kw.name[7], "ok");
	/* empty lines are nothing; a later line replaces an earlier one;
	 * leading zeros are digits */
	TEST_ASSERT(parse(&kw, "\n\n0 A\n00 B\n25 Z\n") == 0);
	TEST_STREQ(kw.name[0], "B");
	TEST_STREQ(kw.name[25], "Z");
	/* CRLF line ends: the CR is a control byte, the line is skipped */
	TEST_ASSERT(parse(&kw, "0 A\r\n1 B\n") == 1 && kw.name[0] == NULL);
	/* the same name twice: the lower index */
	TEST_ASSERT(parse(&kw, "4 Same\n2 same\n") == 0);
	TEST_ASSERT(maildir_keywords_find(&kw, "SAME") == 2);
	maildir_keywords_free(&kw);
}

static void test_name_length(void)
{
	struct maildir_keywords kw;
	struct str text = STR_INIT(0);

	maildir_keywords_init(&kw);
	str_appends(&text, "0 ");
	for (int i = 0; i < MAILDIR_KEYWORD_NAME_MAX; i++)
		str_appendc(&text, 'k');
	TEST_ASSERT(parse(&kw, str_c(&text)) == 0 && kw.name[0] != NULL);
	str_appends(&text, "k\n");
	TEST_ASSERT(parse(&kw, str_c(&text)) == 1 && kw.name[0] == NULL);
	maildir_keywords_free(&kw);
	str_free(&text);
}

static void test_add(void)
{
	struct maildir_keywords kw;
	char name[16];

	maildir_keywords_init(&kw);
	TEST_ASSERT(parse(&kw, "1 Junk\n") == 0);
	TEST_ASSERT(maildir_keywords_add(&kw, "work") == 0);
	TEST_ASSERT(maildir_keywords_add(&kw, "JUNK") == 1);
	TEST_ASSERT(maildir_keywords_add(&kw, "home") == 2);
	TEST_ASSERT(maildir_keywords_add(&kw, "two words") < 0 &&
		    errno == EINVAL);
	TEST_ASSERT(maildir_keywords_add(&kw, "") < 0 && errno == EINVAL);
	for (int i = 3; i < MAILDIR_KEYWORDS_MAX; i++) {
		snprintf(name, sizeof(name), "k%d", i);
		TEST_ASSERT(maildir_keywords_add(&kw, name) == i);
	}
	TEST_ASSERT(maildir_keywords_add(&kw, "one-more") < 0 &&
		    errno == ENOSPC);
	TEST_ASSERT(maildir_keywords_add(&kw, "k25") == 25);
	maildir_keywords_free(&kw);
}

static void test_read(void)
{
	char dir[] = "/tmp/test_maildir_keywords.XXXXXX";
	struct maildir_keywords kw;
	char path[96];
	int dfd, fd;

	maildir_keywords_init(&kw);
	TEST_ASSERT(mkdtemp(dir) != NULL);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	TEST_ASSERT(dfd >= 0);
	/* missing: an empty list */
	TEST_ASSERT(maildir_keywords_read(dfd, &kw) == 0 && kw.name[0] == NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, MAILDIR_KEYWORDS_FILE);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	TEST_ASSERT(write(fd, "0 Junk\nbad\n", 11) == 11);
	close(fd);
	TEST_ASSERT(maildir_keywords_read(dfd, &kw) == 1);
	TEST_STREQ(kw.name[0], "Junk");
	/* too large */
	TEST_ASSERT(truncate(path, MAILDIR_KEYWORDS_FILE_MAX + 1) == 0);
	TEST_ASSERT(maildir_keywords_read(dfd, &kw) < 0 && errno == EFBIG);
	TEST_ASSERT(kw.name[0] == NULL);
	/* not followed when a symbolic link */
	unlink(path);
	TEST_ASSERT(symlink("/etc/passwd", path) == 0);
	TEST_ASSERT(maildir_keywords_read(dfd, &kw) < 0 && errno == ELOOP);
	unlink(path);
	close(dfd);
	TEST_ASSERT(rmdir(dir) == 0);
	maildir_keywords_free(&kw);
}

TEST_MAIN(test_parse_dovecot, test_parse_skips, test_name_length, test_add,
	  test_read)
