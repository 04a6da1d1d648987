/*
 * imap - postern-imap's shared definitions: the daemon's settings and the
 *        session's entry point
 *
 * postern-imap (imapd/postern-imap.c) accepts proven logins from
 * postern-imap-login over queue_dir/private/imap (imap_server.c) and runs
 * each in its own process (imap_session.c), confined to the user's
 * Maildir.
 */
#ifndef POSTERN_IMAP_H
#define POSTERN_IMAP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "login/handover_server.h"
#include "daemon/service_child.h"

struct imap {
	struct service_child *sc;
	const struct conf *conf;
	int timeout_ms;			/* imap_timeout (30 min) */
	unsigned bad_max;		/* imap_max_bad_commands */
	unsigned user_max;		/* imap_max_user_connections */
	unsigned process_limit;		/* imap_process_limit */
	uint64_t append_max;		/* message_size_limit (0: none) */
	struct handover_server hs;	/* hand-overs in, sessions out */
};

extern volatile sig_atomic_t imap_stopping;

/* imap_server.c: connect to postern-auth's redeem socket and set up the
 * acceptor (before the process confines itself); then run it until
 * retired or stopped. */
void imap_server_init(struct imap *im);
void imap_server_run(struct imap *im);

/* imap_session.c: serve the logged-in user u on fd (the client socket, or
 * the login process's TLS proxy), the client's pipelined input first. The
 * login's tagged OK is this side's to send: u->param is the hand-over
 * parameter of imapd/imap_handover.h (the tag of LOGIN/AUTHENTICATE).
 * Never returns. */
_Noreturn void imap_session_run(struct imap *im, int fd,
				const struct login_user *u,
				const char *pending, size_t npending);

#endif
