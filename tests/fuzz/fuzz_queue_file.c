/*
 * fuzz_queue_file - libFuzzer target for the queue file reader
 *
 * Each input is written to a memory file and read with queue_file_read.
 * The reader must never crash, leak or read out of bounds, and must either
 * accept the file (and then hand back an envelope that the writer accepts
 * again and that reads back the same) or reject it with EBADMSG: an input
 * cannot cause an I/O error. Also exercises queue_file_set_state on every
 * recipient of an accepted file.
 *
 *   make fuzz && build/fuzz/fuzz_queue_file -max_total_time=60 CORPUS
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proto/queue_file.h"

static int memfile(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_queue_file", 0);
	ssize_t n;

	if (fd < 0)
		abort();
	while (size > 0) {
		n = write(fd, data, size);
		if (n <= 0)
			abort();
		data += n;
		size -= (size_t)n;
	}
	return fd;
}

/* Write env (the message copied from fd) again and check it reads back. */
static void rewrite(int fd, const struct queue_env *env)
{
	struct queue_env again;
	struct queue_writer w;
	const char *error;
	char *msg = malloc((size_t)env->message_size + 1);
	int out = memfile(NULL, 0);

	if (msg == NULL ||
	    pread(fd, msg, (size_t)env->message_size, env->message_offset) !=
		    env->message_size ||
	    queue_writer_begin(&w, out, env, &error) < 0 ||
	    queue_writer_body(&w, msg, (size_t)env->message_size, &error) < 0 ||
	    queue_writer_end(&w, &error) < 0)
		abort();
	queue_writer_free(&w);
	queue_env_init(&again);
	if (queue_file_read(out, &again, &error) < 0 ||
	    again.rcpt_count != env->rcpt_count ||
	    strcmp(again.sender, env->sender) != 0 ||
	    again.message_size != env->message_size ||
	    again.flags != env->flags ||
	    (again.envid == NULL) != (env->envid == NULL) ||
	    (env->envid != NULL && strcmp(again.envid, env->envid) != 0))
		abort();
	for (size_t k = 0; k < env->rcpt_count; k++)
		if (again.rcpts[k].notify != env->rcpts[k].notify)
			abort();
	queue_env_free(&again);
	free(msg);
	close(out);
}

/* The scan agrees with the full read, and windows of a size taken from
 * the input give back every recipient in order. */
static void windows(int fd, const struct queue_env *full, int ok,
		    size_t max_n)
{
	struct queue_env env;
	struct queue_scan scan;
	const char *error;
	size_t seen = 0;
	off_t off, next;

	queue_env_init(&env);
	if ((queue_file_scan(fd, &env, &scan, 0, 0, &error) == 0) != ok)
		abort();
	if (!ok) {
		queue_env_free(&env);
		return;
	}
	if (scan.rcpts != full->rcpt_count ||
	    scan.pending != queue_env_pending(full))
		abort();
	for (off = scan.first_rcpt; off < scan.message_rec; off = next) {
		if (queue_file_read_rcpts(fd, &env, off, max_n, 200, &next,
					  &error) < 0 || env.rcpt_count == 0 ||
		    next <= off)
			abort();
		for (size_t k = 0; k < env.rcpt_count; k++, seen++)
			if (seen >= full->rcpt_count ||
			    strcmp(env.rcpts[k].addr,
				   full->rcpts[seen].addr) != 0 ||
			    env.rcpts[k].notify != full->rcpts[seen].notify ||
			    env.rcpts[k].state_offset !=
				    full->rcpts[seen].state_offset)
				abort();
	}
	if (seen != full->rcpt_count)
		abort();
	queue_env_free(&env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_env env;
	const char *error = NULL;
	size_t i;
	int fd = memfile(data, size);

	queue_env_init(&env);
	if (queue_file_read(fd, &env, &error) < 0) {
		if (errno != EBADMSG || error == NULL || error[0] == '\0')
			abort();
		windows(fd, &env, 0, 1);
	} else {
		if (env.rcpt_count == 0 || env.sender == NULL)
			abort();
		windows(fd, &env, 1, size > 0 ? 1 + data[size - 1] % 7 : 1);
		rewrite(fd, &env);
		for (i = 0; i < env.rcpt_count; i++) {
			if (queue_file_set_state(fd, &env, i, 'D') < 0)
				abort();
		}
		if (queue_file_read(fd, &env, &error) < 0 ||
		    queue_env_pending(&env) != 0)
			abort();
	}
	queue_env_free(&env);
	close(fd);
	return 0;
}
