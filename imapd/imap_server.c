/*
 * imap_server - postern-imap's side of the hand-over: IMAP's replies to
 *               a refused hand-over, and its session for a proven one
 *
 * The acceptor on queue_dir/private/imap is login/handover_server.c: it
 * reads hand-overs concurrently, redeems each login token with
 * postern-auth (the user's address comes from there, never from the login
 * process), applies imap_process_limit and imap_max_user_connections and
 * forks the session (imap_session.c). A refused client hears one line
 * here, before its descriptor is closed (RFC 9051 allows an untagged BYE
 * at any time; the login command's tag is left unanswered, as for any
 * connection that drops):
 *   * BYE [UNAVAILABLE] Too busy ...            imap_process_limit
 *   * BYE [UNAVAILABLE] Too many connections    imap_max_user_connections
 *     for this user.
 *   * BYE [UNAVAILABLE] Login failed ...        a token postern-auth does
 *                                               not take, a broken
 *                                               hand-over
 *   * BYE [UNAVAILABLE] Try again later.        postern-auth unreachable,
 *                                               fork
 */
#include "imap.h"

/* The lines above, by enum handover_refusal. */
static const char *const imap_refusal[HANDOVER_REFUSALS] = {
	[HANDOVER_REFUSED_LOGIN] =
		"* BYE [UNAVAILABLE] Login failed, try again.\r\n",
	[HANDOVER_REFUSED_BUSY] =
		"* BYE [UNAVAILABLE] Too busy, try again later.\r\n",
	[HANDOVER_REFUSED_USER] =
		"* BYE [UNAVAILABLE] Too many connections for this user.\r\n",
	[HANDOVER_REFUSED_TEMP] =
		"* BYE [UNAVAILABLE] Try again later.\r\n",
};

static void server_session(void *arg, int fd, const struct login_user *u,
			   const char *pending, size_t npending)
{
	imap_session_run(arg, fd, u, pending, npending);
}

void imap_server_init(struct imap *im)
{
	const struct handover_service svc = {
		.protocol = "imap",
		.total_max = im->process_limit,
		.user_max = im->user_max,
		.refusal = imap_refusal,
		.session = server_session,
		.arg = im,
	};

	handover_server_init(&im->hs, im->sc, &svc);
}

void imap_server_run(struct imap *im)
{
	handover_server_run(&im->hs);
	handover_server_free(&im->hs);
}
