/*
 * local - postern-local's parts (see local.c for the program)
 */
#ifndef POSTERN_LOCAL_H
#define POSTERN_LOCAL_H

#include "proto/delivery_proto.h"
#include "daemon/service_child.h"
#include "util/str.h"

/* Seconds allowed for a request line to arrive once it has begun. */
#define LOCAL_REQUEST_TIMEOUT_MS 60000

struct local_agent {
	struct service_child *sc;
	const struct conf *conf;
	struct str host;		/* escaped host name for file names */
	unsigned long counter;		/* deliveries, for Maildir names */
	int root_fd;			/* mail_root, once opened; -1 */
};

/* Serve the listening sockets until SIGTERM or SIGHUP; exit status. */
int local_run(struct service_child *sc);
/* Deliver one request with the message on fd: the status, and the reason
 * ("x.y.z text") for TEMP and PERM. */
enum delivery_status local_deliver(struct local_agent *la,
				   const struct delivery_req *req, int fd,
				   struct str *reason);

#endif
