/*
 * replay - run a fuzz target over its corpus once, without libFuzzer
 *
 *   build/tests/fuzz_NAME tests/fuzz/corpus/fuzz_NAME
 *
 * `make test` links every tests/fuzz/fuzz_*.c with this file (and with the
 * sanitizers under `make check-asan`) and feeds it each file of the
 * target's corpus directory, kept in the tree, in name order. A target
 * that finds a broken invariant calls abort(): the program dies and
 * tests/run.sh counts the failure. Otherwise it prints one PASS line with
 * the number of inputs. An empty or missing corpus is a failure: a replay
 * that replays nothing cannot fail.
 *
 * `make fuzz` builds the same targets with libFuzzer instead, to search
 * for new inputs (README.md, "Fuzzing").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_INPUT_MAX (4u * 1024 * 1024)
#define REPLAY_FILES_MAX 10000

static int replay_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read the whole of path into a fresh buffer; NULL on error. */
static uint8_t *replay_read(int dirfd, const char *name, size_t *len_r)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uintmax_t)st.st_size > REPLAY_INPUT_MAX) {
		close(fd);
		return NULL;
	}
	/* +1: a zero-length input still gets a valid pointer */
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (buf != NULL && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			free(buf);
			buf = NULL;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	*len_r = got;
	return buf;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
		return 2;
	}
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	DIR *d = opendir(argv[1]);
	if (d == NULL) {
		printf("FAIL replay:%s: %s: %s\n", self, argv[1], strerror(errno));
		return 1;
	}
	char **names = calloc(REPLAY_FILES_MAX, sizeof *names);
	size_t n = 0;
	struct dirent *e;
	while (names != NULL && (e = readdir(d)) != NULL && n < REPLAY_FILES_MAX) {
		if (e->d_name[0] == '.')
			continue;
		names[n] = strdup(e->d_name);
		if (names[n] != NULL)
			n++;
	}
	if (names == NULL || n == 0) {
		printf("FAIL replay:%s: %s holds no input\n", self, argv[1]);
		return 1;
	}
	qsort(names, n, sizeof *names, replay_name_cmp);
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		uint8_t *buf = replay_read(dirfd(d), names[i], &len);
		if (buf == NULL) {
			printf("FAIL replay:%s: %s/%s: unreadable\n", self,
			       argv[1], names[i]);
			return 1;
		}
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		free(names[i]);
	}
	free(names);
	closedir(d);
	printf("PASS replay:%s (%zu inputs)\n", self, n);
	return 0;
}
