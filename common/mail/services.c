/*
 * services - the table of everything the master runs (one line each)
 */
#include "mail/services.h"

#include <string.h>

const struct service_def services[] = {
	/* name         program               account          listen_key           unix      unix_group       procs flags                 processes_key */
	{ "auth",       "postern-auth",       "postern-auth",  NULL,                "auth",   "postern-authc", 1, 0,                    NULL },
	{ "inject",     "postern-inject",     "postern-queue", NULL,                "inject", "postern-injectc", 1, 0,                  NULL },
	{ "qmgr",       "postern-qmgr",       "postern-queue", NULL,                "qmgr",   "postern-queue", 1, 0,                    NULL },
	{ "local",      "postern-local",      "postern-mail",  NULL,                "local",  "postern-queue", 0, 0,                    "local_delivery_limit" },
	{ "remote",     "postern-remote",     "postern-remote", NULL,               "remote", "postern-queue", 0, 0,                    "remote_connection_limit" },
	{ "smtp",       "postern-smtpd",      "postern-smtpd", "listen_smtp",       NULL,     NULL,            1, 0,                    NULL },
	{ "submission", "postern-smtpd",      "postern-smtpd", "listen_submission", NULL,     NULL,            1, 0,                    NULL },
	{ "smtps",      "postern-smtpd",      "postern-smtpd", "listen_smtps",      NULL,     NULL,            1, SERVICE_TLS_IMPLICIT, NULL },
	{ "pop3",       "postern-pop3-login", "postern-login", "listen_pop3",       NULL,     NULL,            1, 0,                    NULL },
	{ "pop3s",      "postern-pop3-login", "postern-login", "listen_pop3s",      NULL,     NULL,            1, SERVICE_TLS_IMPLICIT, NULL },
	{ "pop3-mail",  "postern-pop3",       "postern-mail",  NULL,                "pop3",   "postern-login", 1, 0,                    NULL },
	{ "imap",       "postern-imap-login", "postern-login", "listen_imap",       NULL,     NULL,            1, 0,                    NULL },
	{ "imaps",      "postern-imap-login", "postern-login", "listen_imaps",      NULL,     NULL,            1, SERVICE_TLS_IMPLICIT, NULL },
	{ "imap-mail",  "postern-imap",       "postern-mail",  NULL,                "imap",   "postern-login", 1, 0,                    NULL },
};
const unsigned services_count = sizeof(services) / sizeof(services[0]);

/* In the order the child receives them, after the service's unix_socket. */
const struct service_socket service_sockets[] = {
	/* service      name              group            flags */
	/* login tokens are redeemed here by the mailbox side only */
	{ "auth",       "auth-redeem",    "postern-mail",  0 },
	/* the injector's public socket, for sendmail (any local user) */
	{ "inject",     "inject-local",   NULL,            SERVICE_UNIX_PUBLIC },
	{ NULL,         NULL,             NULL,            0 },
};

const struct service_def *service_find(const char *name)
{
	for (unsigned i = 0; i < services_count; i++)
		if (strcmp(services[i].name, name) == 0)
			return &services[i];
	return NULL;
}

/* Groups created first; then accounts, each with its own group of the
 * same name plus the supplementary groups listed. */
const char *const account_groups[] = { "postern-authc", "postern-injectc",
				       NULL };

const struct account_def accounts[] = {
	{ "postern-smtpd",  "postern-authc,postern-injectc" },
	{ "postern-queue",  "postern-injectc" },
	{ "postern-mail",   "" },
	{ "postern-remote", "" },
	{ "postern-auth",   "" },
	{ "postern-login",  "postern-authc" },
};
const unsigned accounts_count = sizeof(accounts) / sizeof(accounts[0]);
