/*
 * sendmail.h - the parts of sendmail(1): options (sendmail.c), the
 * envelope (sendmail_env.c), reading and queueing (sendmail_send.c)
 */
#ifndef POSTERN_SENDMAIL_H
#define POSTERN_SENDMAIL_H

#include <stddef.h>

struct sendmail_opts {
	const char *conf_opt;	/* -C FILE, or NULL */
	int extract;		/* -t: recipients from To:, Cc:, Bcc: */
	int dot_ends;		/* a lone "." line ends the input (no -i) */
	const char *sender;	/* -f/-r, or NULL for login@hostname */
	const char *full_name;	/* -F, or NULL */
	unsigned flags;		/* QUEUE_FLAG_* from -B 8BITMIME, -R */
	unsigned notify;	/* -N: DSN NOTIFY of every recipient, 0 */
	char envid[101];	/* -V: DSN ENVID as xtext, "" if none */
	char **rcpts;		/* the command line's recipients */
	size_t nrcpts;
};

/* The envelope: every address validated, qualified and formatted. */
struct sendmail_env {
	char *sender;		/* "" for the null sender */
	char *from_addr;	/* the address for an added From: */
	char **rcpts;		/* without duplicates, in order of appearance */
	size_t nrcpts, alloc;
	unsigned flags;		/* QUEUE_FLAG_SMTPUTF8 when an address needs it */
	char login[64];		/* the invoking user's login name */
};

/* Print "sendmail: " + message to stderr and return code. */
int sendmail_fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void sendmail_env_init(struct sendmail_env *e);
void sendmail_env_free(struct sendmail_env *e);
/* The sender (opt from -f, or login@hostname). 0, or an exit code with
 * the reason printed. */
int sendmail_env_sender(struct sendmail_env *e, const char *opt,
			const char *hostname);
/* Add the addresses of one address list (a command-line argument or a
 * header's). what names the source in messages. 0, or an exit code with
 * the reason printed. */
int sendmail_env_rcpt(struct sendmail_env *e, const char *addr,
		      const char *hostname, const char *what);
/* Drop repeated recipients, keeping the first of each. */
void sendmail_env_dedup(struct sendmail_env *e);

/* Read the message on standard input and queue it: the exit status. */
int sendmail_send(const struct sendmail_opts *o);

#endif
