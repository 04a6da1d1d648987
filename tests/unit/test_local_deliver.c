/*
 * test_local_deliver - postern-local's handling of one request
 * (deliver/local_deliver.c) on a real Maildir: each byte of the message
 * read once, the file's bytes and name, the repeat, and the outcomes of a
 * loop, a missing Maildir and a mailbox path the rule refuses
 */
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deliver/local.h"
#include "proto/queue_id.h"
#include "util/fileio.h"

#define ENVELOPE 57		/* bytes before the message in the file */

static char root[64];

static void make_root(void)
{
	char p[128];

	snprintf(root, sizeof(root), "/tmp/test_local_deliver.XXXXXX");
	TEST_ASSERT(mkdtemp(root) != NULL);
	snprintf(p, sizeof(p), "%s/d.test", root);
	TEST_ASSERT(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/d.test/u", root);
	TEST_ASSERT(mkdir(p, 0700) == 0);
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/d.test/u/%s", root,
			 i == 0 ? "cur" : i == 1 ? "new" : "tmp");
		TEST_ASSERT(mkdir(p, 0700) == 0);
	}
}

static void remove_root(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	TEST_ASSERT(system(cmd) == 0);
}

/* As in test_maildir_write.c: bytes read so far, and this read's own. */
static long long rchar(long long *own_r)
{
	char buf[512];
	int fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	const char *p;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	*own_r = n;
	p = strstr(buf, "rchar: ");
	return p != NULL ? atoll(p + 7) : -1;
}

/* A queue-like file: ENVELOPE bytes, then the message (into msg too). */
static int queue_file(const char *header, size_t body, struct str *msg)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	char env[ENVELOPE];

	memset(env, 'E', sizeof(env));
	str_clear(msg);
	str_appends(msg, header);
	while (msg->len < strlen(header) + body)
		str_appendf(msg, "body line at %zu\n", msg->len);
	if (fd < 0 || write(fd, env, sizeof(env)) != sizeof(env) ||
	    write(fd, msg->s, msg->len) != (ssize_t)msg->len)
		return -1;
	return fd;
}

static void request(struct delivery_req *req, int fd, const char *user,
		    size_t size)
{
	struct stat st;
	struct timespec t = { 1700000000, 123456000 };

	memset(req, 0, sizeof(*req));
	TEST_ASSERT(fstat(fd, &st) == 0);
	TEST_ASSERT(queue_id_make(st.st_ino, &t, req->id,
				  sizeof(req->id)) == 0);
	strcpy(req->sender, "s@x.test");
	snprintf(req->rcpt, sizeof(req->rcpt), "%s@d.test", user);
	strcpy(req->domain, "d.test");
	snprintf(req->user, sizeof(req->user), "%s", user);
	req->offset = ENVELOPE;
	req->size = size;
}

static int count_new(struct str *one)
{
	char p[128];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(p, sizeof(p), "%s/d.test/u/new", root);
	d = opendir(p);
	while (d != NULL && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.') {
			n++;
			str_sets(one, de->d_name);
		}
	if (d != NULL)
		closedir(d);
	return n;
}

static size_t count_lf(const char *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

static void agent(struct local_agent *la, struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->mail_root = root;
	memset(la, 0, sizeof(*la));
	la->conf = c;
	la->root_fd = -1;
	str_init(&la->host, 0);
	str_sets(&la->host, "h");
}

/* Each byte once: a large message (header read, then the rest) and a
 * small one (read whole with its header); the file holds exactly the
 * prefix and the message. */
static void test_read_once(void)
{
	static const size_t bodies[] = { 400000, 300 };
	struct str msg = STR_INIT(0), reason = STR_INIT(0), name = STR_INIT(0);
	struct str file = STR_INIT(0), want = STR_INIT(0), path = STR_INIT(0);
	struct local_agent la;
	struct delivery_req req;
	struct conf c;

	make_root();
	agent(&la, &c);
	for (size_t i = 0; i < 2; i++) {
		int fd = queue_file("Subject: x\nTo: u@d.test\n\n", bodies[i],
				    &msg);
		long long before, after, own, own2;

		request(&req, fd, "u", msg.len);
		before = rchar(&own);
		TEST_ASSERT(local_deliver(&la, &req, fd, &reason) ==
			    DELIVERY_OK);
		after = rchar(&own2);
		TEST_ASSERT(before >= 0 && after - before - own ==
			    (long long)msg.len);
		if (after - before - own != (long long)msg.len)
			printf("read %lld bytes of a %zu-byte message\n",
			       after - before - own, msg.len);
		close(fd);
		/* the file: prefix + message, its sizes in the name */
		TEST_ASSERT(count_new(&name) == 1);
		str_clear(&path);
		str_appendf(&path, "%s/d.test/u/new/%s", root, str_c(&name));
		(void)file_read_all(str_c(&path), &file, 1 << 20);
		TEST_ASSERT(unlink(str_c(&path)) == 0);
		str_clear(&want);
		str_appendf(&want, "Return-Path: <s@x.test>\n"
			    "Delivered-To: u@d.test\n");
		str_append(&want, msg.s, msg.len);
		TEST_ASSERT(file.len == want.len &&
			    memcmp(file.s, want.s, want.len) == 0);
		str_clear(&path);
		str_appendf(&path, ",S=%zu,W=%zu", want.len,
			    want.len + (size_t)count_lf(want.s, want.len));
		TEST_ASSERT(strstr(str_c(&name), str_c(&path)) != NULL);
	}
	if (la.root_fd >= 0)
		close(la.root_fd);
	str_free(&la.host);
	remove_root();
	str_free(&msg);
	str_free(&reason);
	str_free(&name);
	str_free(&file);
	str_free(&want);
	str_free(&path);
}

/* The same request twice (the queue manager restarted before recording
 * the first): one file. */
static void test_repeat(void)
{
	struct str msg = STR_INIT(0), reason = STR_INIT(0), name = STR_INIT(0);
	struct local_agent la;
	struct delivery_req req;
	struct conf c;
	int fd;

	make_root();
	agent(&la, &c);
	fd = queue_file("Subject: x\n\n", 100000, &msg);
	request(&req, fd, "u", msg.len);
	TEST_ASSERT(local_deliver(&la, &req, fd, &reason) == DELIVERY_OK);
	TEST_ASSERT(local_deliver(&la, &req, fd, &reason) == DELIVERY_OK);
	TEST_ASSERT(count_new(&name) == 1);
	close(fd);
	if (la.root_fd >= 0)
		close(la.root_fd);
	str_free(&la.host);
	remove_root();
	str_free(&msg);
	str_free(&reason);
	str_free(&name);
}

static void test_outcomes(void)
{
	struct str msg = STR_INIT(0), reason = STR_INIT(0), name = STR_INIT(0);
	struct local_agent la;
	struct delivery_req req;
	struct conf c;
	int fd;

	make_root();
	agent(&la, &c);
	fd = queue_file("Delivered-To: u@d.test\nSubject: x\n\n", 10, &msg);
	request(&req, fd, "u", msg.len);
	TEST_ASSERT(local_deliver(&la, &req, fd, &reason) == DELIVERY_PERM);
	TEST_ASSERT(strncmp(str_c(&reason), "5.4.6 ", 6) == 0);
	close(fd);
	fd = queue_file("Subject: x\n\n", 10, &msg);
	request(&req, fd, "nobody", msg.len);
	TEST_ASSERT(local_deliver(&la, &req, fd, &reason) == DELIVERY_TEMP);
	TEST_STREQ(str_c(&reason), "4.2.0 mailbox does not exist");
	/* a component the rule refuses never reaches openat */
	request(&req, fd, "..", msg.len);
	TEST_ASSERT(local_deliver(&la, &req, fd, &reason) == DELIVERY_TEMP);
	TEST_ASSERT(strstr(str_c(&reason), "starts with '.'") != NULL);
	/* upper case in the request: the same Maildir */
	request(&req, fd, "U", msg.len);
	strcpy(req.domain, "D.Test");
	TEST_ASSERT(local_deliver(&la, &req, fd, &reason) == DELIVERY_OK);
	TEST_ASSERT(count_new(&name) == 1);
	/* the message file shorter than the request */
	request(&req, fd, "u", msg.len + 1);
	TEST_ASSERT(local_deliver(&la, &req, fd, &reason) == DELIVERY_TEMP);
	TEST_ASSERT(strstr(str_c(&reason), "shorter") != NULL);
	close(fd);
	if (la.root_fd >= 0)
		close(la.root_fd);
	str_free(&la.host);
	remove_root();
	str_free(&msg);
	str_free(&reason);
	str_free(&name);
}

TEST_MAIN(test_read_once, test_repeat, test_outcomes)
