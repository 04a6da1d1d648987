/*
 * remote - postern-remote's parts (see remote.c for the program)
 *
 *   remote.c         main: configuration, privileges
 *   remote_server.c  the accept loop, SEND requests and their replies,
 *                    the idle session kept for reuse
 *   remote_send.c    one request: routing over the next hop's hosts, the
 *                    SMTP transaction, one outcome per recipient
 *   remote_smtp.c    an SMTP client session: connect, greeting, EHLO,
 *                    STARTTLS, commands and replies, RSET, QUIT
 *   remote_dns.c     MX, A and AAAA lookups through libunbound
 */
#ifndef POSTERN_REMOTE_H
#define POSTERN_REMOTE_H

#include <stdint.h>
#include <sys/socket.h>

#include "proto/delivery_proto.h"
#include "mx.h"
#include "daemon/service_child.h"
#include "smtp_reply.h"
#include "util/io.h"
#include "util/str.h"

/* A request must arrive whole within this time once it has begun. */
#define REMOTE_REQUEST_TIMEOUT_MS 60000
/* Addresses (over all MX hosts) tried per request. */
#define REMOTE_ADDRS_MAX 10
/* Addresses of one host looked at. */
#define REMOTE_HOST_ADDRS_MAX 8
/* Bytes of message read at once. */
#define REMOTE_CHUNK 65536

struct ub_ctx;

/* One SMTP session to one server. */
struct remote_session {
	int fd;				/* -1: none */
	struct io io;
	char nexthop[DELIVERY_NEXTHOP_MAX + 1];	/* what it was opened for */
	char relay[DELIVERY_NEXTHOP_MAX + 1];	/* "host[ip]:port" */
	unsigned ext;			/* SMTP_EXT_* of its EHLO reply */
	uint64_t size_max;		/* its SIZE, 0 if none */
	int tls;			/* TLS is up */
	int64_t idle_until;		/* clock_ms() after which it is closed */
};

struct remote_agent {
	struct service_child *sc;
	const struct conf *conf;
	SSL_CTX *tls;			/* NULL: STARTTLS is not used */
	struct ub_ctx *ub;
	struct remote_session sess;
	struct smtp_reply reply;	/* the last reply read */
	struct str line;		/* scratch */
};

/* One recipient's outcome. */
struct remote_outcome {
	enum delivery_status status;
	int decided;
	int dsn;			/* sent to a server that offered DSN */
	struct str reason;		/* "x.y.z text" */
	char relay[DELIVERY_NEXTHOP_MAX + 1];
};

/* What happened to a next hop as a whole. */
enum remote_reach { REACH_UP, REACH_DOWN };

/* remote_server.c */
int remote_run(struct service_child *sc);

/* remote_send.c: deliver req with the message on fd; out[] has one
 * outcome per recipient, all decided on return. */
enum remote_reach remote_send(struct remote_agent *ra,
			      const struct delivery_send *req, int fd,
			      struct remote_outcome *out);

/* remote_dns.c */
int remote_dns_init(struct remote_agent *ra, const char **error_r);
void remote_dns_free(struct remote_agent *ra);
/* MX hosts of domain, sorted (mx.h). 1 found (*n_r > 0), 0 no MX
 * records, -1 failure: reason "x.y.z text" (4.x temporary, 5.x not). */
int remote_dns_mx(struct remote_agent *ra, const char *domain,
		  struct mx_host *v, size_t *n_r, struct str *reason);
/* Addresses of host (A first, then AAAA) with port. The count (0 when
 * the host has none), or -1 on a lookup failure (reason "x.y.z text");
 * *nxdomain_r is set when the name does not exist. */
int remote_dns_addrs(struct remote_agent *ra, const char *host,
		     unsigned port, struct sockaddr_storage *v, size_t max,
		     int *nxdomain_r, struct str *reason);

/* remote_smtp.c */
enum remote_open {
	OPEN_OK,			/* ready for MAIL */
	OPEN_FAIL,			/* try the next address */
	OPEN_TLS_FAIL,			/* the handshake failed: retry
					 * without STARTTLS */
};
enum remote_open remote_smtp_open(struct remote_agent *ra, const char *id,
				  const char *host,
				  const struct sockaddr_storage *addr,
				  int use_tls, struct str *reason);
/* Send what is buffered and read one reply into ra->reply. 0, or -1 on
 * a network error, a timeout or a malformed reply (reason: "4.4.2 ..."
 * naming the step). */
int remote_smtp_reply(struct remote_agent *ra, const char *step,
		      struct str *reason);
/* Queue a command line (CRLF added). */
int remote_smtp_cmd(struct remote_agent *ra, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* RSET on a kept session: 0 ready for MAIL, -1 closed. */
int remote_smtp_rset(struct remote_agent *ra);
/* QUIT (without waiting long for the answer) and close. */
void remote_smtp_quit(struct remote_agent *ra);
/* Close at once. */
void remote_smtp_close(struct remote_agent *ra);

#endif
