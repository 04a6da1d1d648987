/*
 * fuzz_imap_parse - the IMAP command reader and the typed parsers on top
 * (imapd/imap_parse.h, imap_seqset.h, imap_fetch_parse.h,
 * imap_search_parse.h, imap_args.h)
 *
 * The input is what a client sends (at most 128 KiB), written into a
 * socketpair whose other end the reader reads with small limits, so that
 * every limit is reachable. Every command read is handed to the parser of
 * its name; APPEND's messages are read through the pending-literal calls.
 * Invariants: each argument tree is well formed (strings NUL-terminated at
 * their length, no NUL outside literal8, lists' counts right, depth within
 * the limit); the reader always ends with EOF, never an error or a hang;
 * abort() otherwise.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_imap_parse -max_total_time=60 \
 *       tests/fuzz/corpus/fuzz_imap_parse
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "imapd/imap_args.h"
#include "imapd/imap_fetch_parse.h"
#include "imapd/imap_parse.h"
#include "imapd/imap_search_parse.h"
#include "imapd/imap_seqset.h"

#define FUZZ_INPUT_MAX (128 * 1024)

static void check_args(const struct imap_arg *a, unsigned n, unsigned depth,
		       unsigned depth_max)
{
	if (depth > depth_max)
		abort();
	for (unsigned i = 0; i < n; i++) {
		if (a[i].s == NULL || a[i].s[a[i].len] != '\0')
			abort();
		switch (a[i].type) {
		case IMAP_ARG_LIST:
			if ((a[i].n > 0) != (a[i].list != NULL))
				abort();
			check_args(a[i].list, a[i].n, depth + 1, depth_max);
			break;
		case IMAP_ARG_ATOM:
		case IMAP_ARG_NIL:
			if (a[i].len == 0 || a[i].literal ||
			    memchr(a[i].s, '\0', a[i].len) != NULL)
				abort();
			break;
		case IMAP_ARG_STRING:
			if (!a[i].binary && memchr(a[i].s, '\0', a[i].len))
				abort();
			break;
		default:
			abort();
		}
	}
}

/* imap_args.h */
static void typed_small(const struct imap_command *cmd)
{
	const struct imap_arg *a = cmd->args;
	unsigned n = cmd->nargs;
	const char *err;

	if (strcmp(cmd->name, "STORE") == 0 && n >= 1) {
		struct imap_store_args st;

		if (imap_store_parse(a + 1, n - 1, &st, &err) == 0 &&
		    st.flags.nkeywords > IMAP_FLAGS_KEYWORDS_MAX)
			abort();
	} else if (strcmp(cmd->name, "LIST") == 0) {
		struct imap_list_args l;

		if (imap_list_parse(a, n, &l, &err) == 0 &&
		    (l.npatterns == 0 || l.npatterns > IMAP_LIST_PATTERNS_MAX))
			abort();
	} else if (strcmp(cmd->name, "STATUS") == 0 && n == 2) {
		unsigned items;

		imap_status_items_parse(&a[1], &items, &err);
	} else if (strcmp(cmd->name, "SELECT") == 0 ||
		   strcmp(cmd->name, "EXAMINE") == 0) {
		struct imap_select_args sel;

		if (imap_select_parse(a, n, &sel, &err) == 0 &&
		    sel.known_uids != NULL &&
		    !imap_seqset_valid(sel.known_uids, sel.known_uids_len))
			abort();
	} else if (strcmp(cmd->name, "ENABLE") == 0) {
		unsigned caps;

		imap_enable_parse(a, n, &caps, &err);
	}
}

static void typed(const struct imap_command *cmd)
{
	const char *err;

	if (strcmp(cmd->name, "FETCH") == 0 && cmd->nargs >= 1) {
		struct imap_fetch_items it;
		struct imap_seqset set;

		imap_seqset_init(&set);
		if (cmd->args[0].type == IMAP_ARG_ATOM &&
		    imap_seqset_parse(&set, cmd->args[0].s, cmd->args[0].len,
				      1000, &err) == 0) {
			imap_seqset_resolve(&set, 100);
			if (set.n > 0 && !imap_seqset_contains(&set,
							       set.r[0].lo))
				abort();
		}
		imap_seqset_free(&set);
		if (imap_fetch_parse(cmd->args + 1, cmd->nargs - 1, cmd->uid,
				     &it, &err) == 0) {
			for (unsigned i = 0; i < it.nbody; i++)
				if (it.body[i].name == NULL ||
				    it.body[i].section.nparts >
				    IMAP_SECTION_PARTS_MAX)
					abort();
		}
		imap_fetch_items_free(&it);
	} else if (strcmp(cmd->name, "SEARCH") == 0 ||
		   strcmp(cmd->name, "SORT") == 0 ||
		   strcmp(cmd->name, "THREAD") == 0) {
		struct imap_search s;

		imap_search_init(&s);
		if (cmd->name[1] == 'E')
			imap_search_parse(&s, cmd->args, cmd->nargs, &err);
		else if (cmd->name[1] == 'O')
			imap_sort_parse(&s, cmd->args, cmd->nargs, &err);
		else
			imap_thread_parse(&s, cmd->args, cmd->nargs, &err);
		imap_search_free(&s);
	} else {
		typed_small(cmd);
	}
}

/* APPEND's messages, then the rest of the command. */
static int read_pending(struct imap_reader *r, struct imap_command *cmd)
{
	int rc = IMAP_READ_OK, first = 1;

	while (rc == IMAP_READ_OK && cmd->literal_pending) {
		char buf[512];
		size_t got;
		uint64_t total = 0;

		/* refuse every third message, as for TRYCREATE */
		if (cmd->literal_size % 3 == 2)
			return imap_reader_literal_skip(r);
		struct imap_append_args ap;
		const char *err;

		imap_append_parse(cmd->args, cmd->nargs, first, &ap, &err);
		first = 0;
		do {
			rc = imap_reader_literal_read(r, buf, sizeof(buf), &got);
			total += got;
		} while (rc == IMAP_READ_OK && got > 0);
		if (rc != IMAP_READ_OK)
			return rc;
		if (total != cmd->literal_size)
			abort();
		rc = imap_read_continue(r, cmd);
		if (rc == IMAP_READ_OK)
			check_args(cmd->args, cmd->nargs, 0, r->lim.depth_max);
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_reader_limits lim;
	struct imap_command cmd;
	struct imap_reader r;
	struct io io;
	int sv[2], bufsize = 4 << 20, rc = IMAP_READ_OK;

	if (size > FUZZ_INPUT_MAX)
		size = FUZZ_INPUT_MAX;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	if (size > 0 && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	imap_reader_limits_default(&lim);
	lim.line_max = 2048;
	lim.literal_max = 1024;
	lim.command_max = 8192;
	lim.depth_max = 8;
	lim.args_max = 256;
	lim.append_max = 4096;
	lim.drain_max = 16384;
	io_init(&io, sv[0], 1000);
	imap_reader_init(&r, &io, &lim);
	imap_reader_set_literal_minus(&r, size > 0 && data[0] == 'M');
	for (unsigned guard = 0; guard < 100000; guard++) {
		rc = imap_read_command(&r, &cmd);
		if (rc == IMAP_READ_OK) {
			check_args(cmd.args, cmd.nargs, 0, lim.depth_max);
			if (cmd.tag[0] == '\0' || cmd.name[0] == '\0')
				abort();
			if (cmd.literal_pending)
				rc = read_pending(&r, &cmd);
			else
				typed(&cmd);
		}
		if (rc == IMAP_READ_BAD || rc == IMAP_READ_TOOBIG) {
			if (cmd.tag[0] == '\0' || imap_reader_error(&r)[0] == '\0')
				abort();
			if (imap_reader_must_close(&r))
				break;
			continue;
		}
		if (rc != IMAP_READ_OK)
			break;
	}
	if (rc != IMAP_READ_EOF && rc != IMAP_READ_OK &&
	    !imap_reader_must_close(&r))
		abort();
	imap_reader_free(&r);
	io_free(&io);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
