/*
 * services - the table of everything the master runs (one line each)
 *
 * A service is a program run under an account with its listening sockets
 * handed over by the master: inet sockets from a listen_* key, or unix
 * sockets under queue_dir/private/: unix_socket, that members of
 * unix_group may use, then the rows of service_sockets[] naming that
 * service, each with its own group or mode (e.g. a trusted socket and a
 * public one). The child finds them in that order at fds 4, 5, ...
 * (service_child.h; daemon/unix_server.h gives each its own policy).
 * Adding a daemon to postern = one line in services.c + its program.
 */
#ifndef POSTERN_SERVICES_H
#define POSTERN_SERVICES_H

#include <sys/types.h>

#define SERVICE_TLS_IMPLICIT 1u	/* TLS handshake before the greeting */
#define SERVICE_UNIX_PUBLIC  2u	/* unix socket mode 0666: any local user */
#define SERVICE_PROCESSES_MAX 256	/* most children of one service */

struct service_def {
	const char *name;	/* in logs, status, and "-s NAME" */
	const char *program;	/* file name, found by prog_path() */
	const char *account;	/* drops to this account when root */
	const char *listen_key;	/* inet listeners from this key, or NULL */
	const char *unix_socket;/* name under queue_dir/private/, or NULL */
	const char *unix_group;	/* group that may connect (mode 0660) */
	unsigned processes;	/* children accepting on the same listener
				 * (0 where processes_key gives it) */
	unsigned flags;
	const char *processes_key;	/* if set, this UINT key gives the
					 * number (e.g. a delivery limit); its
					 * default is in conf_keys.def */
};

extern const struct service_def services[];
extern const unsigned services_count;

/* A further unix socket of a service, after its unix_socket. */
struct service_socket {
	const char *service;	/* the service_def's name; NULL ends */
	const char *name;	/* under queue_dir/private/ */
	const char *group;	/* may connect (mode 0660), or NULL */
	unsigned flags;		/* SERVICE_UNIX_PUBLIC: mode 0666 */
};

extern const struct service_socket service_sockets[];	/* NULL-ended */

const struct service_def *service_find(const char *name);

/* The accounts and groups "postern init" creates when run as root. */
struct account_def {
	const char *name;
	const char *groups;	/* supplementary groups, comma-separated */
};
extern const struct account_def accounts[];
extern const unsigned accounts_count;
extern const char *const account_groups[];	/* NULL-terminated */

#endif
