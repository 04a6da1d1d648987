/*
 * login - postern-pop3-login: POP3's part of the pre-auth layer
 *
 * The layer (login/login.h) accepts, does TLS, checks passwords with a
 * login token and hands the client over; this folder gives it POP3's
 * dialogue (login_session.c: greeting, AUTHORIZATION commands, replies).
 */
#ifndef POSTERN_POP3_LOGIN_H
#define POSTERN_POP3_LOGIN_H

#include "login/login.h"

/* POP3's settings the layer does not know. */
struct pop3_login {
	unsigned bad_max;		/* pop3_max_bad_commands */
};

/* login_session.c */
extern const struct login_protocol pop3_login_protocol;

#endif
