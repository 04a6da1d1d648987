/*
 * instance - the instance lock, and the processes that hold it; see
 *            instance.h
 */
#include "instance.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/safedir.h"

#define INSTANCE_LOCK_NAME "instance.lock"
/* /proc/PID/fdinfo/N and /proc/PID/cmdline are read up to this much. */
#define PROC_READ_MAX 4096

int instance_pid_dir(const struct conf *c, int create)
{
	int qfd, fd, e;

	if (create)
		qfd = safedir_open_top(c->queue_dir, 0755, NULL);
	else
		qfd = open(c->queue_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (qfd < 0)
		return -1;
	if (create)
		fd = safedir_open_at(qfd, "pid", 0700, NULL);
	else
		fd = openat(qfd, "pid", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
	e = errno;
	close(qfd);
	errno = e;
	return fd;
}

int instance_lock_open(int piddir, int create)
{
	struct stat st;
	int fd = openat(piddir, INSTANCE_LOCK_NAME, O_RDONLY | O_NOFOLLOW |
			O_NONBLOCK | O_CLOEXEC | (create ? O_CREAT : 0), 0600);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EEXIST;
		return -1;
	}
	return fd;
}

int instance_lock_take(int lockfd)
{
	if (flock(lockfd, LOCK_EX | LOCK_NB) == 0)
		return 1;
	return errno == EWOULDBLOCK ? 0 : -1;
}

int instance_lock_held(int lockfd)
{
	if (flock(lockfd, LOCK_SH | LOCK_NB) == 0) {
		(void)flock(lockfd, LOCK_UN);
		return 0;
	}
	return errno == EWOULDBLOCK ? 1 : -1;
}

/* Read at most PROC_READ_MAX - 1 bytes of a /proc file into buf. */
static ssize_t proc_read(const char *path, char *buf)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, PROC_READ_MAX - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

int instance_fdinfo_locked(char *buf)
{
	for (char *l = buf; l != NULL && *l != '\0';) {
		char *nl = strchr(l, '\n');

		if (nl != NULL)
			*nl = '\0';
		/* LOCK_EX shows as WRITE; a prober's LOCK_SH (READ) is not
		 * a process of the instance */
		if (strncmp(l, "lock:", 5) == 0 &&
		    strstr(l, " FLOCK ") != NULL && strstr(l, " WRITE ") != NULL)
			return 1;
		l = nl != NULL ? nl + 1 : NULL;
	}
	return 0;
}

/* Does descriptor fdname of pid hold the exclusive flock? */
static int proc_fd_flocked(pid_t pid, const char *fdname)
{
	char path[64], buf[PROC_READ_MAX];

	snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%s", (long)pid,
		 fdname);
	if (proc_read(path, buf) <= 0)
		return 0;
	return instance_fdinfo_locked(buf);
}

/* Does pid hold the lock on the file dev:ino? Processes whose descriptors
 * we may not look at (another user's) are not ours. */
static int proc_holds(pid_t pid, dev_t dev, ino_t ino)
{
	char path[64];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int held = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while (!held && (de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 &&
		    st.st_dev == dev && st.st_ino == ino)
			held = proc_fd_flocked(pid, de->d_name);
	}
	closedir(d);
	return held;
}

void instance_cmdline_name(const char *buf, size_t n, char *name,
			   size_t size)
{
	const char *end = buf + n, *pick = NULL, *slash = NULL;
	size_t i, len = 0;

	/* argv[0], up to its first NUL (or the end) */
	for (const char *p = buf; p < end && *p != '\0'; p++)
		if (*p == '/')
			slash = p;
	pick = slash != NULL ? slash + 1 : buf;
	/* "-s" followed by a value wins */
	for (const char *a = buf; a < end;) {
		const char *z = memchr(a, '\0', (size_t)(end - a));

		if (z == NULL)
			break;
		if (z - a == 2 && a[0] == '-' && a[1] == 's' && z + 1 < end) {
			pick = z + 1;
			break;
		}
		a = z + 1;
	}
	while (pick + len < end && pick[len] != '\0')
		len++;
	if (size == 0)
		return;
	for (i = 0; i + 1 < size && i < len; i++)
		name[i] = pick[i] > ' ' && pick[i] < 0x7f ? pick[i] : '?';
	if (i == 0 && size > 1)
		name[i++] = '?';
	name[i] = '\0';
}

/* The service a process runs, else its program's name. */
static void proc_name(pid_t pid, char *name, size_t size)
{
	char path[64], buf[PROC_READ_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	n = proc_read(path, buf);
	instance_cmdline_name(buf, n > 0 ? (size_t)n : 0, name, size);
}

size_t instance_procs(int lockfd, struct instance_proc *v, size_t max)
{
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	DIR *d;

	if (fstat(lockfd, &st) < 0 || (d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0 || pid == (long)getpid() ||
		    !proc_holds((pid_t)pid, st.st_dev, st.st_ino))
			continue;
		if (n < max) {
			v[n].pid = (pid_t)pid;
			proc_name(v[n].pid, v[n].name, sizeof(v[n].name));
		}
		n++;
	}
	closedir(d);
	return n;
}

int instance_proc_signal(int lockfd, const struct instance_proc *p, int sig)
{
	struct stat st;
	int pfd, r;

	if (fstat(lockfd, &st) < 0)
		return -1;
	/* the pidfd first: if p's pid is reused after this, the pidfd still
	 * names the process we are about to check, which is then gone, and
	 * the signal goes nowhere */
	pfd = pidfd_open(p->pid, 0);
	if (pfd < 0)
		return errno == ESRCH ? 0 : -1;
	if (!proc_holds(p->pid, st.st_dev, st.st_ino)) {
		close(pfd);
		return 0;
	}
	r = pidfd_send_signal(pfd, sig, NULL, 0);
	if (r < 0 && errno == ESRCH)
		r = 0;
	else if (r == 0)
		r = 1;
	close(pfd);
	return r;
}

void instance_procs_text(const struct instance_proc *v, size_t n,
			 struct str *out)
{
	size_t shown = n < 8 ? n : 8;

	for (size_t i = 0; i < shown; i++)
		str_appendf(out, "%s%s %ld", i > 0 ? ", " : "", v[i].name,
			    (long)v[i].pid);
	if (n > shown)
		str_appendf(out, " and %zu more", n - shown);
}
