/*
 * fuzz_imap_login - the pre-auth command reader of postern-imap-login
 * (imapd/imap_login_cmd.h) and the hand-over parameter
 * (imapd/imap_handover.h)
 *
 * The input is what a client sends. It is cut into commands the way
 * imap_login.c reads them: line by line, a literal's bytes appended
 * after a line that announces one, at most IMAP_LOGIN_CMD_MAX bytes a
 * command. Invariants: a line that announces a literal ends with "}" and
 * its line end; a parsed command has a valid tag, at most
 * IMAP_LOGIN_ARGS_MAX arguments, each a NUL-ended string inside the
 * command's buffer, and the argument count its verb requires; a refused
 * command names an error, and its tag, if any, is valid; the tag found
 * before parsing is a prefix of the input and a valid tag; a tag that fits
 * the hand-over comes back out of it unchanged; abort() otherwise.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_imap_login -max_total_time=60 \
 *       tests/fuzz/corpus/fuzz_imap_login
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapd/imap_handover.h"
#include "imapd/imap_login_cmd.h"

static struct imap_login_cmd cmd;

static void check_args(void)
{
	for (unsigned k = 0; k < cmd.nargs; k++) {
		const struct imap_login_arg *a = &cmd.arg[k];

		if (a->type == IMAP_ARG_LIST_OPEN ||
		    a->type == IMAP_ARG_LIST_CLOSE) {
			if (a->len != 0)
				abort();
			continue;
		}
		if (a->s < cmd.buf ||
		    a->s + a->len >= cmd.buf + sizeof(cmd.buf) ||
		    a->s[a->len] != '\0')
			abort();
		if (a->type == IMAP_ARG_ATOM && strlen(a->s) != a->len)
			abort();
	}
	if ((cmd.verb == IMAP_LOGIN_LOGIN && cmd.nargs != 2) ||
	    (cmd.verb == IMAP_LOGIN_AUTHENTICATE &&
	     (cmd.nargs < 1 || cmd.nargs > 2)) ||
	    ((cmd.verb == IMAP_LOGIN_NOOP || cmd.verb == IMAP_LOGIN_LOGOUT ||
	      cmd.verb == IMAP_LOGIN_CAPABILITY ||
	      cmd.verb == IMAP_LOGIN_STARTTLS) && cmd.nargs != 0))
		abort();
}

static void check_handover(void)
{
	struct str param = STR_INIT(0);
	struct imap_handover h;
	int r = imap_handover_format(&param, cmd.tag, cmd.tag_len,
				     IMAP_HANDOVER_ID);

	if ((r == 0) != (cmd.tag_len <= IMAP_HANDOVER_TAG_MAX))
		abort();
	if (r == 0 && (imap_handover_parse(str_c(&param), &h) < 0 ||
		       h.tag_len != cmd.tag_len ||
		       memcmp(h.tag, cmd.tag, h.tag_len) != 0 ||
		       h.flags != IMAP_HANDOVER_ID))
		abort();
	str_free(&param);
}

static void fuzz_command(const char *p, size_t n)
{
	const char *error = NULL;
	size_t t = imap_login_cmd_tag(p, n);

	if (t > n || (t > 0 && !imap_login_tag_valid(p, t)))
		abort();
	if (imap_login_cmd_parse(p, n, &cmd, &error) < 0) {
		if (error == NULL)
			abort();
		if (cmd.tag != NULL && !imap_login_tag_valid(cmd.tag,
							     cmd.tag_len))
			abort();
		return;
	}
	if (cmd.tag == NULL || cmd.tag_len != t ||
	    memcmp(cmd.tag, p, t) != 0 || cmd.nargs > IMAP_LOGIN_ARGS_MAX)
		abort();
	check_args();
	check_handover();
	imap_login_cmd_wipe(&cmd);
}

/* The next command of data[*pos..size) into buf, as the reader takes it;
 * its length, 0 at the end. */
static size_t next_command(const uint8_t *data, size_t size, size_t *pos,
			   char *buf)
{
	size_t n = 0;
	uint64_t lit;
	int sync;

	while (*pos < size) {
		const uint8_t *lf = memchr(data + *pos, '\n', size - *pos);
		size_t len = lf ? (size_t)(lf - (data + *pos)) + 1
				: size - *pos;

		if (len > IMAP_LOGIN_CMD_MAX - n) {	/* refused, skipped */
			*pos += len;
			return n;
		}
		memcpy(buf + n, data + *pos, len);
		n += len;
		*pos += len;
		if (lf == NULL || imap_login_cmd_frame(buf, n, &lit, &sync) ==
		    IMAP_FRAME_DONE)
			return n;
		if (n < 2 || buf[n - 1] != '\n' ||
		    (buf[n - 2] != '}' && (buf[n - 2] != '\r' || n < 3 ||
					   buf[n - 3] != '}')))
			abort();
		if (lit + 2 > IMAP_LOGIN_CMD_MAX - n || lit > size - *pos)
			return n;
		memcpy(buf + n, data + *pos, (size_t)lit);
		n += (size_t)lit;
		*pos += (size_t)lit;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(IMAP_LOGIN_CMD_MAX);
	size_t pos = 0, n;

	if (buf == NULL)
		return 0;
	while ((n = next_command(data, size, &pos, buf)) > 0)
		fuzz_command(buf, n);
	free(buf);
	return 0;
}
