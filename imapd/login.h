/*
 * login - postern-imap-login: IMAP's part of the pre-auth layer
 *
 * The layer (login/login.h) accepts, does TLS, checks passwords with a
 * login token and hands the client over; this folder gives it IMAP's
 * dialogue before login (imap_login.c: greeting, the commands of the
 * not-authenticated state, replies) over its own small command reader
 * (imap_login_cmd.h). The tag of the login command goes to postern-imap
 * in the hand-over's parameter (imap_handover.h), which answers it.
 */
#ifndef POSTERN_IMAP_LOGIN_H
#define POSTERN_IMAP_LOGIN_H

#include "login/login.h"

/* IMAP's settings the layer does not know. */
struct imap_login {
	unsigned bad_max;		/* imap_max_bad_commands */
};

/* imap_login.c */
extern const struct login_protocol imap_login_protocol;

#endif
