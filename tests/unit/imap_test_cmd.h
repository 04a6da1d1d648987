/*
 * imap_test_cmd.h - for the IMAP parser tests: read one command line
 * through the real reader (imapd/imap_parse.h) over a socketpair
 */
#ifndef POSTERN_IMAP_TEST_CMD_H
#define POSTERN_IMAP_TEST_CMD_H

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "imapd/imap_parse.h"

struct imap_test_cmd {
	int sv[2];
	struct io io;
	struct imap_reader r;
	struct imap_command cmd;
	int rc;
};

/* Read the command in line (CRLF added); t->rc is the reader's result. */
static inline void imap_test_cmd_read(struct imap_test_cmd *t,
				      const char *line)
{
	size_t n = strlen(line);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, t->sv) < 0 ||
	    write(t->sv[1], line, n) != (ssize_t)n ||
	    write(t->sv[1], "\r\n", 2) != 2)
		abort();
	shutdown(t->sv[1], SHUT_WR);
	io_init(&t->io, t->sv[0], 2000);
	imap_reader_init(&t->r, &t->io, NULL);
	t->rc = imap_read_command(&t->r, &t->cmd);
}

static inline void imap_test_cmd_free(struct imap_test_cmd *t)
{
	imap_reader_free(&t->r);
	io_free(&t->io);
	close(t->sv[0]);
	close(t->sv[1]);
}

#endif
