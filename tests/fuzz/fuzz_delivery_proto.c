/*
 * fuzz_delivery_proto - libFuzzer target for the queue manager <-> agent
 * lines (common/proto/delivery_proto.h)
 *
 * The input is parsed as a request and as a reply. A request that parses
 * must format again to a line that parses to the same fields, and its
 * mailbox components must be safe file names; a reply that parses must
 * format back to the same line. Any difference aborts. The same for the
 * remote sender's SEND requests (with their DSN fields: ENVID, NOTIFY,
 * ORCPT) and its per-recipient replies (with the DSN flag).
 *
 *   make fuzz && build/fuzz/fuzz_delivery_proto -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/delivery_proto.h"
#include "util/str.h"

static void fuzz_request(const char *p, size_t n)
{
	struct delivery_req req, again;
	struct str line = STR_INIT(0);
	const char *error;

	if (delivery_req_parse(p, n, &req, &error) < 0)
		return;
	if (!delivery_component_ok(req.domain, strlen(req.domain)) ||
	    !delivery_component_ok(req.user, strlen(req.user)))
		abort();
	if (delivery_req_format(&req, &line, &error) < 0)
		abort();
	if (line.len == 0 || memchr(line.s, '\n', line.len) !=
	    line.s + line.len - 1)
		abort();
	if (delivery_req_parse(line.s, line.len, &again, &error) < 0 ||
	    memcmp(&req, &again, sizeof(req)) != 0)
		abort();
	str_free(&line);
}

static void fuzz_reply(const char *p, size_t n)
{
	struct str reason = STR_INIT(0), line = STR_INIT(0);
	enum delivery_status st;
	const char *error;

	if (delivery_reply_parse(p, n, &st, &reason, &error) == 0) {
		delivery_reply_format(st, str_c(&reason), &line);
		if (n > 0 && p[n - 1] == '\n')
			n--;
		if (line.len != n + 1 || memcmp(line.s, p, n) != 0)
			abort();
	}
	str_free(&reason);
	str_free(&line);
}

static void fuzz_send(const char *p, size_t n)
{
	struct delivery_send req, again;
	struct str line = STR_INIT(0);
	const char *error;
	size_t used;

	delivery_send_init(&req);
	delivery_send_init(&again);
	if (delivery_send_parse(p, n, &req, &used, &error) == 1) {
		if (used > n || delivery_send_format(&req, &line,
						     &error) < 0 ||
		    delivery_send_parse(line.s, line.len, &again, &used,
					&error) != 1 || used != line.len ||
		    strcmp(req.envid, again.envid) != 0 ||
		    req.flags != again.flags || req.nrcpt != again.nrcpt)
			abort();
		for (size_t i = 0; i < req.nrcpt; i++)
			if (strcmp(req.rcpts[i], again.rcpts[i]) != 0 ||
			    req.notify[i] != again.notify[i] ||
			    (req.orcpts[i] == NULL) !=
				    (again.orcpts[i] == NULL))
				abort();
	}
	delivery_send_free(&req);
	delivery_send_free(&again);
	str_free(&line);
}

static void fuzz_rreply(const char *p, size_t n)
{
	struct str relay = STR_INIT(0), reason = STR_INIT(0),
		   line = STR_INIT(0);
	enum delivery_status st;
	const char *error;
	int dsn;

	if (delivery_rreply_parse(p, n, &st, &relay, &dsn, &reason,
				  &error) == 0) {
		delivery_rreply_format(st, str_c(&relay), dsn, str_c(&reason),
				       &line);
		if (n > 0 && p[n - 1] == '\n')
			n--;
		if (line.len != n + 1 || memcmp(line.s, p, n) != 0)
			abort();
	}
	str_free(&relay);
	str_free(&reason);
	str_free(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_request((const char *)data, size);
	fuzz_reply((const char *)data, size);
	fuzz_send((const char *)data, size);
	fuzz_rreply((const char *)data, size);
	return 0;
}
