/*
 * fuzz_inject_proto - libFuzzer target for the injection protocol parser
 *
 * The input is fed to inject_proto_next in pieces whose sizes come from
 * the input itself (the first byte seeds them), so every split of lines
 * and chunks is tried; recipients come back one by one and are collected
 * here. Invariants: the parser never consumes more than it
 * was given, makes progress until it says MORE, hands back body bytes
 * inside the input, counts exactly the body bytes it handed back, and an
 * envelope it accepts is one the queue file writer accepts too (written
 * into a memory file) and one the client's envelope builder can send
 * again. The answer parser gets the same bytes.
 *
 *   make fuzz && build/fuzz/fuzz_inject_proto -max_total_time=60 CORPUS
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proto/inject_proto.h"
#include "util/alloc.h"

/* The streaming writer takes the head and then each recipient. */
static void check_writer(const struct queue_env *head,
			 const struct queue_env *rcpts)
{
	struct queue_writer w;
	const char *error;
	int fd = memfd_create("fuzz_inject_proto", 0);

	if (fd < 0)
		abort();
	if (queue_writer_head(&w, fd, head, &error) < 0)
		abort();
	for (size_t i = 0; i < rcpts->rcpt_count; i++)
		if (queue_writer_rcpt(&w, rcpts->rcpts[i].addr,
				      rcpts->rcpts[i].orig,
				      rcpts->rcpts[i].notify, &error) < 0)
			abort();
	if (queue_writer_end(&w, &error) < 0)
		abort();
	queue_writer_free(&w);
	close(fd);
}

static void check_builder(const struct queue_env *head,
			  const struct queue_env *env)
{
	const char **rcpts = xcalloc(env->rcpt_count, sizeof(*rcpts));
	const char **orcpts = xcalloc(env->rcpt_count, sizeof(*orcpts));
	unsigned *notify = xcalloc(env->rcpt_count, sizeof(*notify));
	struct inject_env ie = {
		.sender = head->sender, .rcpts = rcpts, .orcpts = orcpts,
		.notify = notify, .envid = head->envid,
		.nrcpts = env->rcpt_count, .client_ip = head->client_addr,
		.helo = head->helo, .auth_user = head->auth_user,
		.protocol = head->protocol, .flags = head->flags,
	};
	struct str out = STR_INIT(0);
	const char *error;

	for (size_t i = 0; i < env->rcpt_count; i++) {
		rcpts[i] = env->rcpts[i].addr;
		orcpts[i] = env->rcpts[i].orig;
		notify[i] = env->rcpts[i].notify;
	}
	if (inject_proto_envelope(&ie, &out, &error) < 0)
		abort();
	str_free(&out);
	free(rcpts);
	free(orcpts);
	free(notify);
}

static void on_envelope(struct inject_proto *p, const struct queue_env *rcpts)
{
	p->env.arrival.tv_sec = 1700000000;
	if (p->env.rcpt_count != 0 || p->nrcpts != rcpts->rcpt_count)
		abort();
	check_writer(&p->env, rcpts);
	check_builder(&p->env, rcpts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inject_proto p;
	const char *in = (const char *)data, *body;
	uint64_t seen = 0;
	unsigned seed = size > 0 ? data[0] : 1;
	size_t off = 0, used, len, step;
	enum inject_event ev = INJECT_EV_MORE;
	struct str text = STR_INIT(0);
	struct queue_env rcpts;

	queue_env_init(&rcpts);
	inject_proto_answer(in, size, &text);
	str_free(&text);
	inject_proto_init(&p, seed & 1, seed & 2 ? 100 : 0, seed & 4 ? 3 : 0);
	while (off < size && ev != INJECT_EV_END && ev != INJECT_EV_ERROR) {
		seed = seed * 1103515245u + 12345u;
		step = 1 + (seed >> 16) % 300;
		if (step > size - off)
			step = size - off;
		ev = inject_proto_next(&p, in + off, step, &used, &body, &len);
		if (used > step)
			abort();
		if (ev == INJECT_EV_MORE && used != step)
			abort();
		if (ev == INJECT_EV_BODY) {
			if (body < in + off || body + len > in + off + step ||
			    len == 0)
				abort();
			seen += len;
		}
		if (ev == INJECT_EV_RCPT) {
			if (p.rcpt_addr == NULL || rcpts.rcpt_count >= p.nrcpts)
				abort();
			queue_env_add_rcpt(&rcpts, p.rcpt_addr,
					   p.rcpt_orig)->notify =
				(unsigned char)p.rcpt_notify;
		}
		if (ev == INJECT_EV_ENVELOPE)
			on_envelope(&p, &rcpts);
		off += used;
	}
	if (seen != p.size && ev != INJECT_EV_ERROR && p.chunk_left == 0)
		abort();
	inject_proto_free(&p);
	queue_env_free(&rcpts);
	return 0;
}
