/*
 * pop3_mbox - one user's Maildir as a POP3 maildrop
 *
 * OPEN     mail_root, then DOMAIN, then USER are opened one component at
 *          a time with O_DIRECTORY|O_NOFOLLOW (pop3_mailbox_parts() has
 *          already refused '/', "..", dot names), so a symlink or a
 *          crafted address cannot lead outside mail_root.
 * LANDLOCK The session then restricts itself (landlock_create_ruleset,
 *          one LANDLOCK_RULE_PATH_BENEATH rule on the Maildir descriptor,
 *          PR_SET_NO_NEW_PRIVS, landlock_restrict_self): reading files
 *          and directories, removing files, and renames within the
 *          Maildir, nothing else anywhere. Without Landlock in the kernel
 *          the session goes on; the path checks above still hold.
 * LOAD     Files in new/ are renamed to cur/NAME:2, (as Dovecot does when
 *          a POP3 session opens the mailbox); then cur/ is read.
 *          Sizes come from ",W=" in the name, else from ",S=" plus the
 *          file's bare LFs, else from the file; files are opened only
 *          when W is missing. Messages are numbered by the leading
 *          seconds of their names, then by name.
 * SEND     RETR and TOP stream the file in 64 KiB pieces: a bare LF
 *          becomes CRLF, a CRLF stays, a line starting with '.' gets one
 *          more '.', the last line is ended if it was not, then ".".
 * UPDATE   Only at QUIT: deleted files are unlinked; retrieved ones get
 *          the S flag (NAME:2,<flags with S, sorted>). A file renamed by
 *          another session meanwhile is found again by its base name.
 */
#include "pop3.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mail/pop3_mname.h"
#include "util/alloc.h"
#include "util/log.h"

#define MBOX_CHUNK 65536

int pop3_mbox_open(struct pop3_mbox *mb, const char *mail_root,
		   const char *address, const char **error_r)
{
	struct str user = STR_INIT(0), domain = STR_INIT(0);
	int root, dom;

	memset(mb, 0, sizeof(*mb));
	mb->dir_fd = mb->cur_fd = -1;
	str_init(&mb->names, 0);
	*error_r = "invalid address for a mailbox path";
	if (pop3_mailbox_parts(address, &user, &domain) < 0) {
		str_free(&user);
		str_free(&domain);
		return -1;
	}
	*error_r = "open mail_root";
	root = open(mail_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dom = root < 0 ? -1 : openat(root, str_c(&domain), O_RDONLY |
				    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root >= 0 && dom < 0)
		*error_r = "open domain directory";
	if (dom >= 0) {
		mb->dir_fd = openat(dom, str_c(&user), O_RDONLY | O_DIRECTORY |
				    O_NOFOLLOW | O_CLOEXEC);
		*error_r = "open Maildir";
	}
	if (mb->dir_fd >= 0) {
		mb->cur_fd = openat(mb->dir_fd, "cur", O_RDONLY | O_DIRECTORY |
				    O_NOFOLLOW | O_CLOEXEC);
		*error_r = "open cur/";
	}
	if (dom >= 0)
		close(dom);
	if (root >= 0)
		close(root);
	str_free(&user);
	str_free(&domain);
	return mb->cur_fd >= 0 ? 0 : -1;
}

int pop3_mbox_landlock(struct pop3_mbox *mb)
{
	struct landlock_ruleset_attr attr = { 0 };
	struct landlock_path_beneath_attr rule = { 0 };
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);
	int rs, r = -1;

	if (abi < 1)
		return 0;
	attr.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE |
		LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
		LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
		LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
		LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
		LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
		LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
	rule.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE |
		LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
		LANDLOCK_ACCESS_FS_MAKE_REG;
#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2) {
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
		rule.allowed_access |= LANDLOCK_ACCESS_FS_REFER;
	}
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	rule.parent_fd = mb->dir_fd;
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rs < 0)
		return -1;
	if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH,
		    &rule, 0) == 0 &&
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
	    syscall(SYS_landlock_restrict_self, rs, 0) == 0)
		r = 1;
	close(rs);
	return r;
}

/* new/NAME -> cur/NAME:2, for every message in new/. */
static void mbox_move_new(struct pop3_mbox *mb, const char *id)
{
	struct str to = STR_INIT(0);
	struct pop3_mname m;
	struct dirent *de;
	int nfd = openat(mb->dir_fd, "new", O_RDONLY | O_DIRECTORY |
			 O_NOFOLLOW | O_CLOEXEC);
	DIR *d = nfd >= 0 ? fdopendir(nfd) : NULL;

	if (d == NULL) {
		log_warn(id, "open new/: %s", strerror(errno));
		if (nfd >= 0)
			close(nfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (pop3_mname_parse(de->d_name, &m) < 0)
			continue;
		str_clear(&to);
		if (str_appends(&to, de->d_name) < 0 ||
		    (m.flags == NULL && de->d_name[m.base_len] == '\0' &&
		     str_appends(&to, ":2,") < 0))
			continue;
		if (renameat(nfd, de->d_name, mb->cur_fd, str_c(&to)) == 0)
			mb->moved++;
		else if (errno != ENOENT)
			log_warn(id, "rename new/%s to cur/: %s", de->d_name,
				 strerror(errno));
	}
	closedir(d);
	str_free(&to);
}

/* The CRLF size of a message whose name lacks W=: read the file. */
static int mbox_count_size(struct pop3_mbox *mb, const char *name,
			   uint64_t *vsize_r)
{
	static char buf[MBOX_CHUNK];
	int fd = openat(mb->cur_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	uint64_t v = 0;
	int cr = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		v += pop3_crlf_size(buf, (size_t)n, &cr);
	close(fd);
	if (n < 0)
		return -1;
	*vsize_r = v;
	return 0;
}

static void mbox_add(struct pop3_mbox *mb, const char *name,
		     const struct pop3_mname *m, uint64_t vsize, size_t *cap)
{
	struct pop3_msg *msg;

	if (mb->n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		mb->msgs = xreallocarray(mb->msgs, *cap, sizeof(*mb->msgs));
	}
	(void)m;
	msg = &mb->msgs[mb->n++];
	memset(msg, 0, sizeof(*msg));
	msg->vsize = vsize;
	msg->name_off = mb->names.len;
	if (str_append(&mb->names, name, strlen(name) + 1) < 0)
		log_fatal("message names: %s", strerror(errno));
	mb->total += vsize;
}

static const char *sort_names;

static int mbox_msg_cmp(const void *a, const void *b)
{
	const struct pop3_msg *x = a, *y = b;

	return pop3_mname_cmp(sort_names + x->name_off,
			      sort_names + y->name_off);
}

int pop3_mbox_load(struct pop3_mbox *mb, const char *id)
{
	struct pop3_mname m;
	struct dirent *de;
	size_t cap = 0;
	int dfd;
	DIR *d;

	mbox_move_new(mb, id);
	dfd = openat(mb->cur_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (d == NULL) {
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		uint64_t vsize;

		if (pop3_mname_parse(de->d_name, &m) < 0 ||
		    (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
			continue;
		if (m.has_vsize)
			vsize = m.vsize;
		else if (mbox_count_size(mb, de->d_name, &vsize) < 0)
			continue;
		if (vsize > POP3_VSIZE_MAX)
			continue;	/* over 128 GiB: not a real message */
		if (mb->names.len > POP3_NAMES_MAX - POP3_MNAME_MAX - 1 ||
		    mb->n == UINT32_MAX) {
			log_warn(id, "mailbox too large: listing the first %u "
				 "messages", mb->n);
			break;
		}
		mbox_add(mb, de->d_name, &m, vsize, &cap);
	}
	closedir(d);
	if (mb->n > 0 && mb->n < cap)	/* no slack kept for the session */
		mb->msgs = xreallocarray(mb->msgs, mb->n, sizeof(*mb->msgs));
	sort_names = mb->names.s;
	if (mb->n > 1)
		qsort(mb->msgs, mb->n, sizeof(*mb->msgs), mbox_msg_cmp);
	return 0;
}

const char *pop3_mbox_name(const struct pop3_mbox *mb, uint32_t i)
{
	return mb->names.s + mb->msgs[i].name_off;
}

/* Find a message again after another session renamed it: the cur/ entry
 * with the same base name. Updates the name (appended to the arena). */
static int mbox_refind(struct pop3_mbox *mb, uint32_t i)
{
	const char *old = pop3_mbox_name(mb, i);
	struct pop3_mname m, o;
	struct dirent *de;
	int dfd, found = -1;
	DIR *d;

	if (pop3_mname_parse(old, &o) < 0)
		return -1;
	dfd = openat(mb->cur_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (d == NULL) {
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	while (found < 0 && (de = readdir(d)) != NULL) {
		if (pop3_mname_parse(de->d_name, &m) < 0 ||
		    m.base_len != o.base_len ||
		    memcmp(de->d_name, old, m.base_len) != 0)
			continue;
		if (mb->names.len > POP3_NAMES_MAX - POP3_MNAME_MAX - 1)
			break;		/* found stays -1 */
		mb->msgs[i].name_off = mb->names.len;
		if (str_append(&mb->names, de->d_name,
			       strlen(de->d_name) + 1) < 0)
			log_fatal("message names: %s", strerror(errno));
		found = 0;
	}
	closedir(d);
	return found;
}

static int mbox_open_msg(struct pop3_mbox *mb, uint32_t i)
{
	int fd = openat(mb->cur_fd, pop3_mbox_name(mb, i),
			O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && mbox_refind(mb, i) == 0)
		fd = openat(mb->cur_fd, pop3_mbox_name(mb, i),
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

struct mbox_out {
	struct io *io;
	int bol, cr;		/* at a line start; last byte was CR */
	int in_body, body_started;
	long lines;		/* body lines still wanted; -1 all */
	int done;
};

/* Convert p[0..n) (from the file) and write it. 0, or -1 io error. */
static int mbox_out_chunk(struct mbox_out *o, const char *p, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n && !o->done; i++) {
		char c = p[i];

		if (o->bol) {
			if (o->in_body && o->lines >= 0 && o->lines-- == 0) {
				o->done = 1;
				n = i;
				break;
			}
			if (!o->in_body && (c == '\n' || (c == '\r' &&
			    i + 1 < n && p[i + 1] == '\n')))
				o->in_body = 1;
			if (c == '.') {
				if (io_write(o->io, p + start, i - start) < 0 ||
				    io_write(o->io, ".", 1) < 0)
					return -1;
				start = i;
			}
		}
		if (c == '\n' && !o->cr) {
			if (io_write(o->io, p + start, i - start) < 0 ||
			    io_write(o->io, "\r", 1) < 0)
				return -1;
			start = i;
		}
		o->cr = c == '\r';
		o->bol = c == '\n';
	}
	if (!o->done)
		return io_write(o->io, p + start, n - start);
	return n > start ? io_write(o->io, p + start, n - start) : 0;
}

int pop3_mbox_send(struct pop3_mbox *mb, uint32_t i, long lines,
		   struct io *io, const char *id)
{
	static char buf[MBOX_CHUNK];
	struct mbox_out o = { .io = io, .bol = 1, .lines = lines };
	int fd = mbox_open_msg(mb, i);
	ssize_t n;
	int wrote = 0;

	if (fd < 0)
		return -1;
	if ((lines < 0 ? io_printf(io, "+OK %llu octets\r\n",
				   (unsigned long long)mb->msgs[i].vsize)
		       : io_puts(io, "+OK\r\n")) < 0) {
		close(fd);
		return -2;
	}
	while (!o.done && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn(id, "read cur/%s: %s", pop3_mbox_name(mb, i),
				 strerror(errno));
			break;
		}
		if (mbox_out_chunk(&o, buf, (size_t)n) < 0) {
			close(fd);
			return -2;
		}
		wrote = 1;
	}
	close(fd);
	if (wrote && !o.bol && !o.done && io_write(io, "\r\n", 2) < 0)
		return -2;
	return io_write(io, ".\r\n", 3) < 0 ? -2 : 0;
}

static int mbox_unlink(struct pop3_mbox *mb, uint32_t i)
{
	if (unlinkat(mb->cur_fd, pop3_mbox_name(mb, i), 0) == 0)
		return 0;
	if (errno == ENOENT && mbox_refind(mb, i) == 0 &&
	    unlinkat(mb->cur_fd, pop3_mbox_name(mb, i), 0) == 0)
		return 0;
	return -1;
}

static int mbox_mark_seen(struct pop3_mbox *mb, uint32_t i,
			  struct str *to)
{
	int r = pop3_mname_add_flag(pop3_mbox_name(mb, i), 'S', to);

	if (r <= 0)
		return 0;
	if (renameat(mb->cur_fd, pop3_mbox_name(mb, i), mb->cur_fd,
		     str_c(to)) == 0)
		return 0;
	if (errno == ENOENT && mbox_refind(mb, i) == 0) {
		r = pop3_mname_add_flag(pop3_mbox_name(mb, i), 'S', to);
		if (r <= 0 || renameat(mb->cur_fd, pop3_mbox_name(mb, i),
				       mb->cur_fd, str_c(to)) == 0)
			return 0;
	}
	return -1;
}

unsigned pop3_mbox_commit(struct pop3_mbox *mb, const char *id,
			  unsigned *deleted_r)
{
	struct str to = STR_INIT(0);
	unsigned failed = 0;

	*deleted_r = 0;
	for (uint32_t i = 0; i < mb->n; i++) {
		struct pop3_msg *m = &mb->msgs[i];

		if (m->deleted && mbox_unlink(mb, i) == 0) {
			(*deleted_r)++;
		} else if (m->deleted) {
			log_warn(id, "unlink cur/%s: %s", pop3_mbox_name(mb, i),
				 strerror(errno));
			failed++;
		} else if (m->seen && mbox_mark_seen(mb, i, &to) < 0) {
			log_warn(id, "rename cur/%s: %s", pop3_mbox_name(mb, i),
				 strerror(errno));
			failed++;
		}
	}
	if (*deleted_r > 0 && fsync(mb->cur_fd) < 0)
		log_warn(id, "fsync cur/: %s", strerror(errno));
	str_free(&to);
	return failed;
}

void pop3_mbox_close(struct pop3_mbox *mb)
{
	if (mb->cur_fd >= 0)
		close(mb->cur_fd);
	if (mb->dir_fd >= 0)
		close(mb->dir_fd);
	free(mb->msgs);
	str_free(&mb->names);
	mb->msgs = NULL;
	mb->n = 0;
}
