/*
 * imap_index_store - the cost of a flag change and the sync after it on a
 * big folder (imap_index.h): not part of make; build after make with
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Icommon -I. -o build/imap_index_store \
 *     bench/imap_index_store.c build/lib/libmail.a build/lib/libutil.a -ldb
 *   build/imap_index_store [MESSAGES] [ROUNDS] [DIR] [force]
 *
 * Makes a Maildir of MESSAGES (default 100000) small files in cur/ under
 * DIR (default /var/tmp), opens INBOX (first, cold open: every file is
 * numbered), then ROUNDS (default 50) times: STORE +/-\Seen on one
 * message, flush, sync (what a session does around one STORE command),
 * and prints the mean and the worst round in milliseconds, and the scans
 * the index made (imap_folder.scans). With "force" every sync scans
 * (IMAP_SYNC_FORCE): what each sync after a STORE cost before the log
 * explained postern's own changes.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail/imap_index.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int make_maildir(const char *root, unsigned n)
{
	char p[512];
	int cur;

	if (mkdir(root, 0700) < 0)
		return -1;
	for (const char *d = "cur\0new\0tmp\0"; *d; d += 4) {
		snprintf(p, sizeof(p), "%s/%s", root, d);
		if (mkdir(p, 0700) < 0)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/cur", root);
	cur = open(p, O_RDONLY | O_DIRECTORY);
	for (unsigned i = 0; i < n; i++) {
		char name[128];
		int fd;

		snprintf(name, sizeof(name),
			 "%u.M%uP1.bench,S=20,W=21:2,%s", 1600000000u + i / 10,
			 i % 10, i % 3 ? "S" : "");
		fd = openat(cur, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0 || write(fd, "Subject: x\n\nbody 1\n", 20) != 20)
			return -1;
		close(fd);
	}
	close(cur);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 100000;
	int rounds = argc > 2 ? atoi(argv[2]) : 50;
	const char *dir = argc > 3 ? argv[3] : "/var/tmp";
	unsigned sync_flags = IMAP_SYNC_RECENT |
		(argc > 4 && strcmp(argv[4], "force") == 0 ? IMAP_SYNC_FORCE : 0);
	char root[512], cmd[600];
	struct imap_folder f;
	const char *e = "";
	double t0, t, sum = 0, worst = 0;
	unsigned long scans0;
	int mfd;

	snprintf(root, sizeof(root), "%s/imap_index_store.%d", dir,
		 (int)getpid());
	if (make_maildir(root, n) < 0) {
		perror(root);
		return 1;
	}
	mfd = open(root, O_RDONLY | O_DIRECTORY);
	t0 = now_ms();
	if (imap_folder_open(&f, mfd, "", -1, 0, &e) < 0) {
		fprintf(stderr, "open: %s\n", e);
		return 1;
	}
	printf("messages=%u open_cold_ms=%.1f\n", f.count, now_ms() - t0);
	sleep(IMAP_INDEX_DIRTY_SECS + 1);	/* the folder settles */
	if (imap_folder_sync(&f, 0, &e) < 0)
		return 1;
	scans0 = f.scans;
	for (int r = 0; r < rounds; r++) {
		uint32_t i = (uint32_t)(r * 7919) % f.count;

		t0 = now_ms();
		if (imap_folder_store(&f, i, f.msgs[i].flags ^ IMAP_F_SEEN,
				      f.msgs[i].keywords, &e) < 0 ||
		    imap_folder_flush(&f) < 0 ||
		    imap_folder_sync(&f, sync_flags, &e) < 0) {
			fprintf(stderr, "round %d: %s\n", r, e);
			return 1;
		}
		t = now_ms() - t0;
		sum += t;
		if (t > worst)
			worst = t;
	}
	printf("store+flush+sync rounds=%d mean_ms=%.3f worst_ms=%.3f "
	       "scans=%lu\n", rounds, sum / rounds, worst, f.scans - scans0);
	imap_folder_close(&f);
	close(mfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) != 0;
}
