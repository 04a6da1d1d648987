/*
 * imap_session - TEMPORARY stand-in for the lead's session (drop at merge:
 *                the real imapd/imap_session.c replaces this file whole)
 *
 * Only what the login plumbing's tests need: the tagged OK of the login
 * command (tag from the hand-over parameter, imap_handover.h), then NOOP
 * and LOGOUT, pipelined input first. It opens no mailbox.
 */
#include "imap.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imap_handover.h"
#include "util/io.h"
#include "util/log.h"

volatile sig_atomic_t imap_stopping;

/* One line of pending input or of the client's, into line. */
static int temp_line(struct io *io, const char **pending, size_t *npending,
		     struct str *line)
{
	const char *lf;

	if (*npending > 0) {
		lf = memchr(*pending, '\n', *npending);
		if (lf != NULL) {
			size_t n = (size_t)(lf - *pending) + 1;

			str_set(line, *pending, n);
			*pending += n;
			*npending -= n;
			return IO_OK;
		}
		return IO_ERR;		/* a partial line: not for this stand-in */
	}
	return io_read_line(io, line, 8192);
}

_Noreturn void imap_session_run(struct imap *im, int fd,
				const struct login_user *u,
				const char *pending, size_t npending)
{
	struct imap_handover h;
	struct str line = STR_INIT(0);
	struct io io;

	io_init(&io, fd, im->timeout_ms);
	if (imap_handover_parse(u->param, &h) < 0) {
		io_puts(&io, "* BYE [UNAVAILABLE] Broken hand-over.\r\n");
		io_flush(&io);
		_exit(0);
	}
	log_info(NULL, "imap session (temporary): user=%s tag-flags=%u",
		 u->address, h.flags);
	io_printf(&io, "%s OK Logged in.\r\n", h.tag);
	while (io_flush(&io) == 0 &&
	       temp_line(&io, &pending, &npending, &line) == IO_OK) {
		size_t t = strcspn(str_c(&line), " \r\n");
		const char *cmd = str_c(&line) + t + (line.s[t] == ' ');

		if (strncasecmp(cmd, "LOGOUT", 6) == 0) {
			io_printf(&io, "* BYE Logging out.\r\n%.*s OK Logout "
				  "completed.\r\n", (int)t, line.s);
			break;
		}
		if (strncasecmp(cmd, "NOOP", 4) == 0)
			io_printf(&io, "%.*s OK NOOP completed.\r\n", (int)t,
				  line.s);
		else
			io_printf(&io, "%.*s BAD Not in the temporary "
				  "session.\r\n", (int)t, line.s);
	}
	io_flush(&io);
	str_free(&line);
	io_free(&io);
	_exit(0);
}
