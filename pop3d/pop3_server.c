/*
 * pop3_server - postern-pop3's side of the hand-over: POP3's replies to
 *               a refused hand-over, and its session for a proven one
 *
 * The acceptor on queue_dir/private/pop3 is login/handover_server.c: it
 * reads hand-overs concurrently, redeems each login token with
 * postern-auth (the user's address comes from there, never from the login
 * process), applies pop3_process_limit and pop3_max_user_connections and
 * forks the session (pop3_session.c). A refused client hears one line
 * here, before its descriptor is closed:
 *   -ERR [SYS/TEMP] Too busy ...        pop3_process_limit
 *   -ERR [IN-USE] Too many connections  pop3_max_user_connections
 *   -ERR [SYS/TEMP] Login failed ...    a token postern-auth does not
 *                                       take, or a broken hand-over
 *   -ERR [SYS/TEMP] Try again later.    postern-auth unreachable, fork
 */
#include "pop3.h"

/* The lines above, by enum handover_refusal. */
static const char *const pop3_refusal[HANDOVER_REFUSALS] = {
	[HANDOVER_REFUSED_LOGIN] =
		"-ERR [SYS/TEMP] Login failed, try again.\r\n",
	[HANDOVER_REFUSED_BUSY] =
		"-ERR [SYS/TEMP] Too busy, try again later.\r\n",
	[HANDOVER_REFUSED_USER] =
		"-ERR [IN-USE] Too many connections for this user.\r\n",
	[HANDOVER_REFUSED_TEMP] =
		"-ERR [SYS/TEMP] Try again later.\r\n",
};

static void server_session(void *arg, int fd, const struct login_user *u,
			   const char *pending, size_t npending)
{
	pop3_session_run(arg, fd, u, pending, npending);
}

void pop3_server_init(struct pop3 *p3)
{
	const struct handover_service svc = {
		.protocol = "pop3",
		.total_max = p3->process_limit,
		.user_max = p3->user_max,
		.refusal = pop3_refusal,
		.session = server_session,
		.arg = p3,
	};

	handover_server_init(&p3->hs, p3->sc, &svc);
}

void pop3_server_run(struct pop3 *p3)
{
	handover_server_run(&p3->hs);
	handover_server_free(&p3->hs);
}
