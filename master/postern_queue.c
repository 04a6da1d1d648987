/*
 * postern_queue - "postern queue list|flush|delete|hold|release": look at
 * and act on the queue of an instance
 *
 * PRIVILEGE  whoever runs it; in practice root or postern-queue, the only
 *            ones who may read the queue directories (mode 0700) and
 *            connect to the queue manager's socket (group postern-queue)
 * INPUT      the configuration; "list" reads every queue file in new/,
 *            active/, deferred/ and hold/ directly (queue_file_read, no
 *            lock needed: files only ever move by rename, and a file that
 *            moves while we look is simply missed or shown once); only
 *            regular files are read: anything else (a FIFO, a symlink, a
 *            device) is skipped with a warning on standard error; the
 *            other commands are one line each to the queue manager on
 *            queue_dir/private/qmgr: FLUSH, HOLD/RELEASE/DELETE <TAB> ID
 * OUTPUT     list: one line per message, oldest first,
 *              ID SIZE ARRIVAL <SENDER> RECIPIENTS STATE
 *            ARRIVAL in ISO 8601 UTC, <> for the null sender, RECIPIENTS
 *            the comma-separated <addresses>, a done one followed by
 *            (delivered), (failed) or (expired); STATE new, active, hold,
 *            or "deferred next=TIME" (the file's mtime, postern-queue(5));
 *            then "NAME corrupt" for each file in corrupt/, and last
 *            "N messages" or "queue is empty".
 *            The other commands print "COMMAND [ID]: OK".
 * EXIT       0 done; 1 the queue could not be read, the queue manager is
 *            unreachable or answered ERR (reason printed); 64 usage or an
 *            argument that is not a queue id
 * SEE ALSO   postern(8), postern-queue(5), mailq(1)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail/conf.h"
#include "mail/exitcode.h"
#include "proto/queue_file.h"
#include "proto/queue_id.h"
#include "postern.h"
#include "util/alloc.h"
#include "util/io.h"
#include "util/sock.h"
#include "util/str.h"

#define QCMD_TIMEOUT_MS 30000
#define QCMD_ANSWER_MAX 1100

struct qentry {
	char id[QUEUE_ID_SIZE];
	const char *state;	/* "new", "active", "deferred", "hold" */
	time_t next;		/* deferred: the next attempt (mtime) */
	int readable;		/* env is valid; else error says why */
	struct queue_env env;
	char error[200];
};

struct qlist {
	struct qentry *v;
	size_t n, alloc;
};

static int queue_usage(void)
{
	fputs("usage: postern [-c FILE] queue list | flush | delete ID | "
	      "hold ID | release ID\n", stderr);
	return EXIT_USAGE;
}

/* Errors in the file are warnings: the queue must stay reachable while an
 * administrator repairs the configuration. */
static int queue_conf(struct conf *c, const char *conf_opt)
{
	struct str errors = STR_INIT(0);

	if (conf_load(c, conf_path(conf_opt), &errors) > 0) {
		fputs(str_c(&errors), stderr);
		if (c->queue_dir == NULL) {
			str_free(&errors);
			conf_free(c);
			return postern_fail("configuration has errors; "
					    "nothing done");
		}
		fprintf(stderr, "postern: warning: the configuration has "
			"errors; going on with queue_dir %s\n", c->queue_dir);
	}
	str_free(&errors);
	return 0;
}

static void iso_time(char *buf, size_t size, time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		cstr_copy(buf, size, "?");
}

static const char *dir_hint(int err)
{
	return err == EACCES ? " (run as root or postern-queue)" : "";
}

/* ---- list ------------------------------------------------------------ */

static struct qentry *qlist_add(struct qlist *l)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 16;
		l->v = xreallocarray(l->v, l->alloc, sizeof(*l->v));
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	queue_env_init(&l->v[l->n].env);
	return &l->v[l->n++];
}

static void qlist_free(struct qlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		queue_env_free(&l->v[i].env);
	free(l->v);
}

/* What a directory entry is, for a warning: "fifo", "symlink", ... */
static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFLNK: return "symbolic link";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	case S_IFCHR: return "character device";
	case S_IFBLK: return "block device";
	case S_IFDIR: return "directory";
	}
	return "not a regular file";
}

/* Only regular files are queue files. Anything else in a queue directory
 * is skipped with a warning, never opened: a FIFO would block the open,
 * a symlink would lead out of the queue, a device could be anything. The
 * type is checked before the open (fstatat, not following links) and
 * again on the open descriptor, which is opened with O_NONBLOCK and
 * O_NOFOLLOW in case the entry was swapped in between. 1 regular (fd_r
 * open), 0 gone, -1 failed (errno) or skipped (errno 0, warned). */
static int open_regular(int dfd, const char *id, const char *state,
			int *fd_r)
{
	struct stat st;
	int fd;

	*fd_r = -1;
	if (fstatat(dfd, id, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISREG(st.st_mode)) {
		fd = openat(dfd, id, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			    O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? 0 : -1;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			*fd_r = fd;
			return 1;
		}
		close(fd);
	}
	fprintf(stderr, "postern: warning: %s/%s: %s, not a queue file; "
		"skipped\n", state, id, file_kind(st.st_mode));
	errno = 0;
	return -1;
}

/* One file: read its envelope. A file gone since readdir has moved on to
 * another directory (or left the queue): it is not shown. */
static void list_file(int dfd, const char *id, const char *state,
		      struct qlist *l)
{
	struct qentry *e;
	const char *error = NULL;
	struct stat st;
	int fd, r = open_regular(dfd, id, state, &fd);

	if (r == 0 || (r < 0 && errno == 0))
		return;
	e = qlist_add(l);
	cstr_copy(e->id, sizeof(e->id), id);
	e->state = state;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(e->error, sizeof(e->error), "%s", strerror(errno));
	} else if (queue_file_read(fd, &e->env, &error) < 0) {
		snprintf(e->error, sizeof(e->error), "%s", error);
	} else {
		e->readable = 1;
		e->next = st.st_mtime;
	}
	if (fd >= 0)
		close(fd);
}

/* A queue directory, never through a symbolic link. */
static DIR *list_opendir(const struct conf *c, const char *sub)
{
	struct str path = STR_INIT(0);
	DIR *d = NULL;
	int fd;

	conf_queue_path(c, sub, &path);
	fd = open(str_c(&path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		  O_CLOEXEC);
	if (fd >= 0 && (d = fdopendir(fd)) == NULL)
		close(fd);
	if (d == NULL)
		postern_fail("cannot read %s: %s%s", str_c(&path),
			     errno == ELOOP ? "a symbolic link, not a "
			     "directory" : strerror(errno), dir_hint(errno));
	str_free(&path);
	return d;
}

static int list_dir(const struct conf *c, const char *sub, struct qlist *l)
{
	DIR *d = list_opendir(c, sub);
	struct dirent *de;

	if (d == NULL)
		return 1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (!queue_id_valid(de->d_name)) {
			printf("%s: a file whose name is not a queue id in "
			       "%s/ (the queue manager moves it to corrupt/)"
			       "\n", de->d_name, sub);
			continue;
		}
		list_file(dirfd(d), de->d_name, sub, l);
	}
	closedir(d);
	return 0;
}

/* Files in corrupt/ are named, not read: they are kept for a bug report. */
static int list_corrupt(const struct conf *c)
{
	DIR *d = list_opendir(c, "corrupt");
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.') {
			printf("%s corrupt (in corrupt/; grep the log for it)"
			       "\n", de->d_name);
			n++;
		}
	closedir(d);
	return n;
}

static void print_rcpts(const struct queue_env *env)
{
	for (size_t i = 0; i < env->rcpt_count; i++) {
		const struct queue_rcpt *r = &env->rcpts[i];
		const char *name = queue_rcpt_state_name(r->state);

		printf("%s<%s>", i > 0 ? "," : "", r->addr);
		if (r->state != QUEUE_RCPT_QUEUED)
			printf("(%s)", name != NULL ? name : "?");
	}
}

static void print_entry(const struct qentry *e)
{
	char when[32], next[32];

	if (!e->readable) {
		printf("%s unreadable in %s/: %s\n", e->id, e->state, e->error);
		return;
	}
	iso_time(when, sizeof(when), e->env.arrival.tv_sec);
	printf("%s %llu %s <%s> ", e->id,
	       (unsigned long long)e->env.message_size, when, e->env.sender);
	print_rcpts(&e->env);
	if (strcmp(e->state, "deferred") == 0) {
		iso_time(next, sizeof(next), e->next);
		printf(" deferred next=%s\n", next);
	} else {
		printf(" %s\n", e->state);
	}
}

static int qentry_cmp(const void *a, const void *b)
{
	const struct qentry *x = a, *y = b;

	return strcmp(x->id, y->id);
}

static int queue_list(const struct conf *c)
{
	static const char *const dirs[] = {
		"new", "active", "deferred", "hold" };
	struct qlist l = { NULL, 0, 0 };
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(dirs) / sizeof(dirs[0]); i++)
		r = list_dir(c, dirs[i], &l);
	if (r == 0) {
		if (l.n > 1)	/* qsort(NULL, 0, ...) is undefined */
			qsort(l.v, l.n, sizeof(*l.v), qentry_cmp);
		for (size_t i = 0; i < l.n; i++)
			print_entry(&l.v[i]);
		r = list_corrupt(c) < 0;
	}
	if (r == 0 && l.n == 0)
		printf("queue is empty\n");
	else if (r == 0)
		printf("%zu message%s\n", l.n, l.n == 1 ? "" : "s");
	qlist_free(&l);
	return r;
}

/* ---- commands to the queue manager ------------------------------------ */

static int qmgr_connect(const struct conf *c)
{
	struct str path = STR_INIT(0);
	int fd, err;

	conf_queue_path(c, "private/qmgr", &path);
	fd = sock_connect_unix(str_c(&path));
	err = errno;
	if (fd < 0)
		postern_fail("cannot reach the queue manager at %s: %s%s",
			     str_c(&path), strerror(err),
			     err == EACCES ? " (run as root or postern-queue)"
					   : " (is the instance running?)");
	str_free(&path);
	return fd;
}

/* Send line, read the answer line into answer (without its LF). */
static int qmgr_ask(const struct conf *c, const char *line,
		    struct str *answer)
{
	struct io io;
	int fd = qmgr_connect(c), r;

	if (fd < 0)
		return 1;
	io_init(&io, fd, QCMD_TIMEOUT_MS);
	r = io_puts(&io, line);
	if (r == IO_OK)
		r = io_flush(&io);
	if (r == IO_OK)
		r = io_read_line(&io, answer, QCMD_ANSWER_MAX);
	if (r == IO_OK && answer->len > 0 &&
	    answer->s[answer->len - 1] == '\n')
		str_truncate(answer, answer->len - 1);
	io_free(&io);
	close(fd);
	if (r == IO_TIMEOUT)
		return postern_fail("the queue manager did not answer in %d s",
				    QCMD_TIMEOUT_MS / 1000);
	if (r != IO_OK)
		return postern_fail("talking to the queue manager: %s",
				    r == IO_EOF ? "connection closed"
						: strerror(errno));
	return 0;
}

/* verb is the queue manager's (FLUSH, HOLD, ...); name the user's word. */
static int queue_command(const struct conf *c, const char *name,
			 const char *verb, const char *id)
{
	struct str line = STR_INIT(0), answer = STR_INIT(0);
	int r;

	if (id != NULL)
		str_appendf(&line, "%s\t%s\n", verb, id);
	else
		str_appendf(&line, "%s\n", verb);
	r = qmgr_ask(c, str_c(&line), &answer);
	if (r == 0 && strcmp(str_c(&answer), "OK") == 0)
		printf("%s%s%s: OK\n", name, id ? " " : "", id ? id : "");
	else if (r == 0 && strncmp(str_c(&answer), "ERR\t", 4) == 0)
		r = postern_fail("queue %s%s%s: %s", name, id ? " " : "",
				 id ? id : "", str_c(&answer) + 4);
	else if (r == 0)
		r = postern_fail("the queue manager gave an unexpected "
				 "answer to %s", verb);
	str_free(&line);
	str_free(&answer);
	return r;
}

struct queue_verb {
	const char *name;	/* postern queue NAME */
	const char *verb;	/* the queue manager's command */
	int takes_id;
};

static const struct queue_verb queue_verbs[] = {
	{ "flush", "FLUSH", 0 },
	{ "delete", "DELETE", 1 },
	{ "hold", "HOLD", 1 },
	{ "release", "RELEASE", 1 },
};

static const struct queue_verb *verb_find(const char *name)
{
	for (size_t i = 0; i < sizeof(queue_verbs) / sizeof(queue_verbs[0]);
	     i++)
		if (strcmp(queue_verbs[i].name, name) == 0)
			return &queue_verbs[i];
	return NULL;
}

/* Check the arguments before the configuration is even read. */
static int queue_args(int argc, char **argv, const struct queue_verb **v_r)
{
	if (argc < 2)
		return queue_usage();
	if (strcmp(argv[1], "list") == 0)
		return argc == 2 ? 0 : queue_usage();
	*v_r = verb_find(argv[1]);
	if (*v_r == NULL) {
		postern_fail("unknown queue command '%s'", argv[1]);
		return queue_usage();
	}
	if (argc != 2 + (*v_r)->takes_id)
		return queue_usage();
	if ((*v_r)->takes_id && !queue_id_valid(argv[2])) {
		postern_fail("'%s' is not a queue id (see postern queue list)",
			     argv[2]);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_queue(int argc, char **argv, const char *conf_opt)
{
	const struct queue_verb *v = NULL;
	struct conf c;
	int r = queue_args(argc, argv, &v);

	if (r != 0)
		return r;
	if (queue_conf(&c, conf_opt) != 0)
		return 1;
	if (v == NULL)
		r = queue_list(&c);
	else
		r = queue_command(&c, v->name, v->verb,
				  v->takes_id ? argv[2] : NULL);
	conf_free(&c);
	return r;
}
