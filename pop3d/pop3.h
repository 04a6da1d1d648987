/*
 * pop3 - postern-pop3's shared definitions
 */
#ifndef POSTERN_POP3_H
#define POSTERN_POP3_H

#include <signal.h>
#include <stdint.h>

#include "login/handover_server.h"
#include "daemon/service_child.h"
#include "util/io.h"
#include "util/sandbox.h"
#include "util/str.h"

struct pop3 {
	struct service_child *sc;
	const struct conf *conf;
	int timeout_ms;			/* pop3_timeout */
	unsigned bad_max;		/* pop3_max_bad_commands */
	unsigned user_max;		/* pop3_max_user_connections */
	unsigned process_limit;		/* pop3_process_limit */
	struct handover_server hs;	/* hand-overs in, sessions out */
};

/* One message: its current name (in the mailbox's name arena), its size
 * with CRLF line ends, and the session's marks. */
/* One message of the listing, in 8 bytes: a session on a mailbox of
 * 100,000 messages keeps only these and the names (bench/README.md). */
#define POP3_VSIZE_MAX ((UINT64_C(1) << 37) - 1)	/* 128 GiB */
#define POP3_NAMES_MAX ((UINT64_C(1) << 25) - 1)	/* 32 MiB of names */
struct pop3_msg {
	uint64_t vsize : 37;
	uint64_t name_off : 25;
	uint64_t deleted : 1;
	uint64_t seen : 1;
};

struct pop3_mbox {
	int dir_fd;			/* the Maildir */
	int cur_fd;			/* its cur/ */
	struct pop3_msg *msgs;
	uint32_t *uids;			/* their UIDs in the folder index, or
					 * NULL (listed without it) */
	uint32_t n;
	struct str names;		/* NUL-terminated names, back to back */
	uint64_t total;			/* vsize of all messages */
	unsigned moved;			/* new/ -> cur/ at the start */
};

extern volatile sig_atomic_t pop3_stopping;

/* pop3_server.c: connect to postern-auth's redeem socket and set up the
 * acceptor (before the process confines itself); then run it until
 * retired or stopped. */
void pop3_server_init(struct pop3 *p3);
void pop3_server_run(struct pop3 *p3);
_Noreturn void pop3_session_run(struct pop3 *p3, int fd,
				const struct login_user *h,
				const char *pending, size_t npending);

/* pop3_mbox.c: open the Maildir of address (mailbox_path.h: mail_root,
 * DOMAIN, USER one component at a time, O_NOFOLLOW), move new/ to cur/,
 * confine the process to the Maildir (POP3_SANDBOX_PROFILE; the report in
 * *sb), list cur/ through the folder index (mail/imap_index.h: UID order).
 * 0, or -1 with errno and *error_r naming the step. */
#define POP3_SANDBOX_PROFILE "pop3-session"
/* use_index 0: the listing read from cur/ (the folder index is kept
 * under imap_index_root, which this process does not reach). */
int pop3_mbox_open(struct pop3_mbox *mb, const char *mail_root,
		   const char *address, const char *id, int use_index,
		   struct sandbox_report *sb, const char **error_r);
const char *pop3_mbox_name(const struct pop3_mbox *mb, uint32_t i);
/* Write message i to io as RETR (lines = -1) or TOP (lines = body lines):
 * CRLF line ends, dot-stuffed, ended by ".\r\n" (the "+OK" line is the
 * caller's). 0; -1 the file cannot be read (nothing written, errno);
 * -2 the client is lost. */
int pop3_mbox_send(struct pop3_mbox *mb, uint32_t i, long lines,
		   struct io *io, const char *id);
/* UPDATE: unlink deleted messages, add the S flag to retrieved ones,
 * through the folder index (logged there as expunges and flag changes)
 * when it can be opened. Returns the number of failures (each logged). */
unsigned pop3_mbox_commit(struct pop3_mbox *mb, const char *id,
			  unsigned *deleted_r);
void pop3_mbox_close(struct pop3_mbox *mb);

#endif
