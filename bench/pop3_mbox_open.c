/*
 * pop3_mbox_open - the cost of postern-pop3's opening of a mailbox alone
 * (pop3_mbox_open: open, new/ -> cur/, confine, list), without the login
 * around it: not part of make; build after make with
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Icommon -I. -o build/pop3_mbox_open \
 *     bench/pop3_mbox_open.c build/lib/libpop3d.a build/lib/libdaemon.a \
 *     build/lib/libmail.a build/lib/libproto.a build/lib/libutil.a \
 *     -ldb -lseccomp -lssl -lcrypto
 *   build/pop3_mbox_open [MESSAGES] [DIR]
 *
 * Makes DIR (default /var/tmp)/pop3_mbox_open.PID/d.test/u with MESSAGES
 * (default 10000) empty files in new/ named as postern-local names them
 * (with ,S= and ,W=), then opens it 6 times, each in a child (the opening
 * confines the process), 3 s after the first and 1 s after the others,
 * and prints each opening's time: the first moves new/ to cur/ (and builds
 * the folder index), the next ones are polls with nothing new.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pop3d/pop3.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int make_mailbox(const char *root, unsigned n)
{
	static const char *const dirs[] = { "", "/d.test", "/d.test/u",
		"/d.test/u/cur", "/d.test/u/new", "/d.test/u/tmp" };
	char p[600];
	int nw;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
		snprintf(p, sizeof(p), "%s%s", root, dirs[i]);
		if (mkdir(p, 0700) < 0)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/d.test/u/new", root);
	nw = open(p, O_RDONLY | O_DIRECTORY);
	for (unsigned i = 0; i < n; i++) {
		char name[128];
		int fd;

		snprintf(name, sizeof(name), "%u.M%uP%uQ1.h,S=5000,W=5100",
			 1600000000u + i / 3, i * 7 % 1000000, i);
		fd = openat(nw, name, O_CREAT | O_WRONLY, 0600);
		if (fd < 0)
			return -1;
		close(fd);
	}
	close(nw);
	return 0;
}

/* One opening in a child: its line on fd out. */
static void open_once(const char *root, int out)
{
	struct pop3_mbox mb;
	struct sandbox_report sb;
	const char *e;
	double t = now_ms();

	if (pop3_mbox_open(&mb, root, "u@d.test", "bench", &sb, &e) < 0) {
		dprintf(out, "error: %s\n", e);
		_exit(1);
	}
	dprintf(out, "ms=%.2f messages=%u moved=%u\n", now_ms() - t, mb.n,
		mb.moved);
	pop3_mbox_close(&mb);
	_exit(0);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 10000;
	const char *dir = argc > 2 ? argv[2] : "/var/tmp";
	char root[512], cmd[600], buf[256];

	snprintf(root, sizeof(root), "%s/pop3_mbox_open.%d", dir,
		 (int)getpid());
	if (make_mailbox(root, n) < 0) {
		perror(root);
		return 1;
	}
	for (int k = 0; k < 6; k++) {
		int pfd[2];
		ssize_t r;
		pid_t pid;

		if (pipe(pfd) < 0)
			return 1;
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			open_once(root, pfd[1]);
		}
		close(pfd[1]);
		r = read(pfd[0], buf, sizeof(buf) - 1);
		buf[r > 0 ? r : 0] = '\0';
		close(pfd[0]);
		waitpid(pid, NULL, 0);
		printf("pop3_mbox_open run=%d %s", k + 1, buf);
		fflush(stdout);
		sleep(k == 0 ? 3 : 1);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) != 0;
}
