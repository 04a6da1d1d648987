/*
 * remote_send - one SEND request: the next hop's hosts, one SMTP
 * transaction, one outcome per recipient
 *
 * ROUTING  The next hop (mx.h) is "[host]" (that host), or "host": its MX
 * hosts by preference (equal ones in random order), or the host itself
 * when it has no MX records. A null MX fails every recipient with 5.1.10,
 * a domain that does not exist with 5.1.2, our own name among the MX
 * hosts drops it and every host not more preferred (5.4.6 if none is
 * left). Each host's addresses (A, then AAAA) are tried in turn, at most
 * REMOTE_ADDRS_MAX in all, until one greets and answers EHLO; the others'
 * failures (refused, timeout, 4xx/5xx greeting) are only logged. When
 * none does, every recipient is deferred with the last reason and the
 * next hop is reported DOWN, so that the queue manager backs it off as a
 * whole.
 *
 * A SESSION KEPT OPEN  After a transaction the session stays open for
 * remote_reuse_time; a request for the same next hop in that time starts
 * with RSET on it instead of a new connection.
 *
 * THE TRANSACTION  MAIL FROM with SIZE= (the size on the wire) when the
 * server has SIZE, BODY=8BITMIME when the message has 8-bit bytes, and
 * SMTPUTF8 when the message asked for it; then RCPT TO for each
 * recipient, all sent at once after MAIL when the server has PIPELINING,
 * else one by one; then DATA with the message as CRLF lines, dot-stuffed.
 * Before MAIL: a message with 8-bit bytes to a server without 8BITMIME
 * fails with 5.6.3 (postern does not convert to quoted-printable; the
 * sender gets a bounce), one needing SMTPUTF8 (the E flag, or a non-ASCII
 * address) to a server without it with 5.6.7, one larger than the
 * server's SIZE with 5.3.4.
 *
 * DSN  When the server offers DSN (RFC 3461), MAIL carries the message's
 * RET= and ENVID= and each RCPT its NOTIFY= and ORCPT=, as the queue file
 * has them (the wire form, xtext); only what was given is passed on, no
 * ORCPT is made up for a recipient that came without one. A server
 * without DSN gets none of them; each outcome says whether the server
 * offered DSN, so that the queue manager sends a "relayed" notice for
 * NOTIFY=SUCCESS only when the next hop will not report itself.
 *
 * OUTCOMES  2xx after the data: sent. A 4xx (to MAIL, RCPT, DATA or the
 * data), a lost connection or a timeout: deferred. A 5xx: failed. An
 * outcome always names the server and quotes its reply.
 */
#include "remote.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mail/dsn_param.h"
#include "util/log.h"

struct msginfo {
	int fd;
	off_t offset, size;
	int eightbit;		/* a byte >= 0x80 somewhere */
	int utf8;		/* SMTPUTF8 is needed */
	uint64_t wire_size;	/* with CRLF line ends */
};

/* ---- outcomes ----------------------------------------------------------- */

static void decide(struct remote_outcome *o, enum delivery_status st,
		   const char *relay, const char *reason)
{
	size_t len = strlen(reason);

	if (o->decided)
		return;
	o->decided = 1;
	o->status = st;
	o->dsn = 0;
	cstr_copy(o->relay, sizeof(o->relay), relay);
	str_clear(&o->reason);
	/* keep it within a reply line; cutting the text loses no meaning */
	str_append(&o->reason, reason, len > DELIVERY_REASON_MAX ?
		   DELIVERY_REASON_MAX : len);
}

static void decide_all(const struct delivery_send *req,
		       struct remote_outcome *out, enum delivery_status st,
		       const char *relay, const char *reason)
{
	for (size_t i = 0; i < req->nrcpt; i++)
		decide(&out[i], st, relay, reason);
}

static enum delivery_status status_of(int cls)
{
	return cls == 2 ? DELIVERY_OK : cls == 5 ? DELIVERY_PERM
						 : DELIVERY_TEMP;
}

/* ---- the message -------------------------------------------------------- */

static int ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static int msg_scan(struct msginfo *mi, const struct delivery_send *req,
		    struct str *reason)
{
	static char buf[REMOTE_CHUNK];
	off_t pos = 0;

	mi->eightbit = 0;
	mi->wire_size = (uint64_t)mi->size;
	while (pos < mi->size) {
		size_t want = (size_t)(mi->size - pos) < sizeof(buf) ?
			      (size_t)(mi->size - pos) : sizeof(buf);
		ssize_t n = pread(mi->fd, buf, want, mi->offset + pos);

		if (n <= 0) {
			str_appendf(reason, "4.3.0 cannot read the queue file: "
				    "%s", n < 0 ? strerror(errno) :
				    "it is shorter than its size");
			return -1;
		}
		for (ssize_t i = 0; i < n; i++) {
			mi->eightbit |= (unsigned char)buf[i] >= 0x80;
			mi->wire_size += buf[i] == '\n';
		}
		pos += n;
	}
	mi->utf8 = (req->flags & QUEUE_FLAG_SMTPUTF8) || !ascii(req->sender);
	for (size_t i = 0; i < req->nrcpt; i++)
		mi->utf8 |= !ascii(req->rcpts[i]);
	return 0;
}

/* Copy the message to the server: LF -> CRLF, a leading '.' doubled,
 * then the final ".". IO_OK or the io error. */
static int msg_send(struct io *io, const struct msginfo *mi,
		    struct str *out)
{
	static char buf[REMOTE_CHUNK];
	int bol = 1, cr = 0, r = IO_OK;
	off_t pos = 0;

	while (pos < mi->size && r == IO_OK) {
		size_t want = (size_t)(mi->size - pos) < sizeof(buf) ?
			      (size_t)(mi->size - pos) : sizeof(buf);
		ssize_t n = pread(mi->fd, buf, want, mi->offset + pos);

		if (n <= 0) {
			errno = n < 0 ? errno : EIO;
			return IO_ERR;
		}
		str_clear(out);
		for (ssize_t i = 0; i < n; i++) {
			char c = buf[i];

			if (bol && c == '.')
				str_appendc(out, '.');
			if (c == '\n' && !cr)
				str_appendc(out, '\r');
			str_appendc(out, c);
			bol = c == '\n';
			cr = c == '\r';
		}
		pos += n;
		r = io_write(io, out->s, out->len);
	}
	if (r == IO_OK && !bol)
		r = io_write(io, "\r\n", 2);
	return r == IO_OK ? io_write(io, ".\r\n", 3) : r;
}

/* ---- the transaction ---------------------------------------------------- */

/* The message cannot go to this server at all: 0 if it can. */
static int server_refuses(struct remote_agent *ra, const struct msginfo *mi,
			  struct str *reason)
{
	struct remote_session *s = &ra->sess;

	if (mi->eightbit && !(s->ext & SMTP_EXT_8BITMIME))
		str_appendf(reason, "5.6.3 %s does not accept 8-bit data "
			    "(no 8BITMIME) and the message has 8-bit bytes",
			    s->relay);
	else if (mi->utf8 && !(s->ext & SMTP_EXT_SMTPUTF8))
		str_appendf(reason, "5.6.7 %s does not support SMTPUTF8, "
			    "which the message needs", s->relay);
	else if ((s->ext & SMTP_EXT_SIZE) && s->size_max > 0 &&
		 mi->wire_size > s->size_max)
		str_appendf(reason, "5.3.4 message of %llu bytes is larger "
			    "than %s accepts (%llu)",
			    (unsigned long long)mi->wire_size, s->relay,
			    (unsigned long long)s->size_max);
	else
		return 0;
	return -1;
}

static int send_mail(struct remote_agent *ra, const struct delivery_send *req,
		     const struct msginfo *mi)
{
	struct remote_session *s = &ra->sess;
	struct str params = STR_INIT(0);
	int r;

	if (s->ext & SMTP_EXT_SIZE)
		str_appendf(&params, " SIZE=%llu",
			    (unsigned long long)mi->wire_size);
	if (mi->eightbit)
		str_appends(&params, " BODY=8BITMIME");
	if (mi->utf8)
		str_appends(&params, " SMTPUTF8");
	if ((s->ext & SMTP_EXT_DSN) && (req->flags & QUEUE_FLAG_RET_FULL))
		str_appends(&params, " RET=FULL");
	if ((s->ext & SMTP_EXT_DSN) && (req->flags & QUEUE_FLAG_RET_HDRS))
		str_appends(&params, " RET=HDRS");
	if ((s->ext & SMTP_EXT_DSN) && req->envid[0] != '\0')
		str_appendf(&params, " ENVID=%s", req->envid);
	r = remote_smtp_cmd(ra, "MAIL FROM:<%s>%s", req->sender,
			    str_c(&params));
	str_free(&params);
	return r;
}

/* RCPT TO for recipient i, with NOTIFY= and ORCPT= for a DSN server. */
static int send_rcpt(struct remote_agent *ra,
		     const struct delivery_send *req, size_t i)
{
	struct str params = STR_INIT(0);
	int r;

	if ((ra->sess.ext & SMTP_EXT_DSN) && req->notify[i] != 0) {
		str_appends(&params, " NOTIFY=");
		dsn_notify_format(req->notify[i], &params);
	}
	if ((ra->sess.ext & SMTP_EXT_DSN) && req->orcpts[i] != NULL)
		str_appendf(&params, " ORCPT=%s", req->orcpts[i]);
	r = remote_smtp_cmd(ra, "RCPT TO:<%s>%s", req->rcpts[i],
			    str_c(&params));
	str_free(&params);
	return r;
}

/* The reply in ra->reply as an outcome reason. */
static void reply_reason(struct remote_agent *ra, struct str *reason)
{
	str_clear(reason);
	smtp_reply_reason(&ra->reply, ra->sess.relay, reason);
}

/* MAIL and the RCPTs. The number of recipients accepted (accepted[i]
 * set), or -1 when the session is lost (undecided ones are deferred). */
static int envelope(struct remote_agent *ra, const struct delivery_send *req,
		    const struct msginfo *mi, struct remote_outcome *out,
		    int *accepted, struct str *reason)
{
	int pipe = (ra->sess.ext & SMTP_EXT_PIPELINING) != 0, mail_ok, n = 0;

	if (send_mail(ra, req, mi) < 0)
		return -1;
	if (!pipe && remote_smtp_reply(ra, "after MAIL FROM", reason) < 0)
		return -1;
	for (size_t i = 0; pipe && i < req->nrcpt; i++)
		if (send_rcpt(ra, req, i) < 0)
			return -1;
	if (pipe && remote_smtp_reply(ra, "after MAIL FROM", reason) < 0)
		return -1;
	mail_ok = smtp_reply_class(&ra->reply) == 2;
	if (!mail_ok) {
		reply_reason(ra, reason);
		decide_all(req, out, status_of(smtp_reply_class(&ra->reply)),
			   ra->sess.relay, str_c(reason));
		if (!pipe)
			return 0;
	}
	for (size_t i = 0; i < req->nrcpt; i++) {
		if (!pipe && send_rcpt(ra, req, i) < 0)
			return -1;
		if (remote_smtp_reply(ra, "after RCPT TO", reason) < 0)
			return -1;
		if (!mail_ok)
			continue;
		accepted[i] = smtp_reply_class(&ra->reply) == 2;
		n += accepted[i];
		if (!accepted[i]) {
			reply_reason(ra, reason);
			decide(&out[i], status_of(smtp_reply_class(
			       &ra->reply)), ra->sess.relay, str_c(reason));
		}
	}
	return n;
}

/* DATA, the message, the final reply: decides the accepted ones. 0, or
 * -1 when the session is lost. */
static int data(struct remote_agent *ra, const struct delivery_send *req,
		const struct msginfo *mi, struct remote_outcome *out,
		const int *accepted, struct str *reason)
{
	struct str buf = STR_INIT(0);
	int r;

	if (remote_smtp_cmd(ra, "DATA") < 0 ||
	    remote_smtp_reply(ra, "after DATA", reason) < 0)
		return -1;
	if (ra->reply.code == 354) {
		r = msg_send(&ra->sess.io, mi, &buf);
		str_free(&buf);
		if (r != IO_OK) {
			str_clear(reason);
			str_appendf(reason, "4.4.2 %s: %s while sending the "
				    "message", ra->sess.relay, r == IO_TIMEOUT ?
				    "timeout" : strerror(errno));
			return -1;
		}
		if (remote_smtp_reply(ra, "after the end of the message",
				      reason) < 0)
			return -1;
	}
	reply_reason(ra, reason);
	for (size_t i = 0; i < req->nrcpt; i++) {
		if (!accepted[i] || out[i].decided)
			continue;
		decide(&out[i], status_of(smtp_reply_class(&ra->reply) == 3 ?
		       4 : smtp_reply_class(&ra->reply)), ra->sess.relay,
		       str_c(reason));
		out[i].dsn = out[i].status == DELIVERY_OK &&
			     (ra->sess.ext & SMTP_EXT_DSN) != 0;
	}
	return 0;
}

/* One transaction on the open session. 0, or -1 when it was lost. */
static int transaction(struct remote_agent *ra,
		       const struct delivery_send *req,
		       const struct msginfo *mi, struct remote_outcome *out)
{
	struct str reason = STR_INIT(0);
	int accepted[DELIVERY_RCPT_MAX] = { 0 };
	int n, r = 0;

	if (server_refuses(ra, mi, &reason) < 0) {
		decide_all(req, out, DELIVERY_PERM, ra->sess.relay,
			   str_c(&reason));
	} else if ((n = envelope(ra, req, mi, out, accepted, &reason)) < 0 ||
		   (n > 0 && data(ra, req, mi, out, accepted, &reason) < 0)) {
		decide_all(req, out, DELIVERY_TEMP, ra->sess.relay,
			   str_c(&reason));
		remote_smtp_close(ra);
		r = -1;
	}
	str_free(&reason);
	return r;
}

/* ---- routing ------------------------------------------------------------ */

/* The hosts to try: the MX hosts (0), or the host itself (1: for a
 * domain without MX records, or a bracketed host), or -1 with reason
 * (every recipient gets it). */
static int route_hosts(struct remote_agent *ra, const struct mx_nexthop *nh,
		       struct mx_host *hosts, size_t *n_r, struct str *reason)
{
	int r;

	*n_r = 0;
	if (!nh->literal) {
		r = remote_dns_mx(ra, nh->host, hosts, n_r, reason);
		if (r < 0)
			return -1;
		if (r > 0) {
			*n_r = mx_prune_self(hosts, *n_r, ra->conf->hostname);
			if (*n_r == 0) {
				str_appendf(reason, "5.4.6 mail for %s loops "
					    "back to myself", nh->host);
				return -1;
			}
			return 0;
		}
	}
	cstr_copy(hosts[0].name, sizeof(hosts[0].name), nh->host);
	hosts[0].pref = 0;
	*n_r = 1;
	return 1;
}

/* Open a session to some address of hosts[]. 0, or -1 with the last
 * failure in reason. *perm_r when a domain without MX records has no
 * address either (RFC 5321 5.1: nothing to deliver to). */
static int open_any(struct remote_agent *ra, const char *id,
		    const struct mx_nexthop *nh, const struct mx_host *hosts,
		    size_t nhosts, int implicit, struct str *reason,
		    int *perm_r)
{
	struct sockaddr_storage addrs[REMOTE_HOST_ADDRS_MAX];
	size_t tried = 0;

	*perm_r = 0;
	for (size_t h = 0; h < nhosts && tried < REMOTE_ADDRS_MAX; h++) {
		int nx, n;

		str_clear(reason);
		n = remote_dns_addrs(ra, hosts[h].name, nh->port, addrs,
				     REMOTE_HOST_ADDRS_MAX, &nx, reason);
		if (n <= 0) {
			if (n == 0)
				str_appendf(reason, "%s host %s has no "
					    "address", nx ? "5.1.2" : "4.4.4",
					    hosts[h].name);
			*perm_r = implicit && !nh->literal && n == 0;
			log_info(id, "%s", str_c(reason));
			continue;
		}
		*perm_r = 0;
		for (int a = 0; a < n && tried < REMOTE_ADDRS_MAX; a++) {
			enum remote_open o;

			tried++;
			o = remote_smtp_open(ra, id, hosts[h].name, &addrs[a],
					     1, reason);
			if (o == OPEN_TLS_FAIL)
				o = remote_smtp_open(ra, id, hosts[h].name,
						     &addrs[a], 0, reason);
			if (o == OPEN_OK)
				return 0;
			log_info(id, "%s", str_c(reason));
		}
	}
	if (*perm_r && reason->len > 0 && reason->s[0] == '4')
		reason->s[0] = '5';
	return -1;
}

/* Reuse the kept session if it is for this next hop: 1 reused. */
static int session_reuse(struct remote_agent *ra,
			 const struct delivery_send *req)
{
	struct remote_session *s = &ra->sess;

	if (s->fd < 0)
		return 0;
	if (strcmp(s->nexthop, req->nexthop) != 0) {
		remote_smtp_quit(ra);
		return 0;
	}
	return remote_smtp_rset(ra) == 0;
}

static enum remote_reach deliver(struct remote_agent *ra,
				 const struct delivery_send *req,
				 const struct msginfo *mi,
				 struct remote_outcome *out)
{
	struct mx_host hosts[MX_HOSTS_MAX];
	struct mx_nexthop nh;
	struct str reason = STR_INIT(0);
	enum remote_reach reach = REACH_UP;
	size_t nhosts;
	const char *error;
	int perm, implicit;

	if (mx_nexthop_parse(req->nexthop, ra->conf->remote_port, &nh,
			     &error) < 0) {
		str_appendf(&reason, "4.3.5 bad next hop \"%s\": %s",
			    req->nexthop, error);
		decide_all(req, out, DELIVERY_TEMP, "none", str_c(&reason));
	} else if (session_reuse(ra, req)) {
		if (transaction(ra, req, mi, out) < 0)
			log_info(req->id, "kept session to %s lost",
				 ra->sess.relay);
	} else if ((implicit = route_hosts(ra, &nh, hosts, &nhosts,
					   &reason)) < 0) {
		decide_all(req, out, reason.s[0] == '5' ? DELIVERY_PERM :
			   DELIVERY_TEMP, "none", str_c(&reason));
		reach = reason.s[0] == '5' ? REACH_UP : REACH_DOWN;
	} else if (open_any(ra, req->id, &nh, hosts, nhosts, implicit,
			    &reason, &perm) < 0) {
		decide_all(req, out, perm ? DELIVERY_PERM : DELIVERY_TEMP,
			   "none", str_c(&reason));
		reach = perm ? REACH_UP : REACH_DOWN;
	} else {
		cstr_copy(ra->sess.nexthop, sizeof(ra->sess.nexthop),
			  req->nexthop);
		transaction(ra, req, mi, out);
	}
	str_free(&reason);
	return reach;
}

enum remote_reach remote_send(struct remote_agent *ra,
			      const struct delivery_send *req, int fd,
			      struct remote_outcome *out)
{
	struct msginfo mi = { fd, (off_t)req->offset, (off_t)req->size, 0, 0,
			      0 };
	struct str reason = STR_INIT(0);
	enum remote_reach reach = REACH_UP;

	if (msg_scan(&mi, req, &reason) < 0)
		decide_all(req, out, DELIVERY_TEMP, "none", str_c(&reason));
	else
		reach = deliver(ra, req, &mi, out);
	decide_all(req, out, DELIVERY_TEMP, "none",
		   "4.3.0 no outcome (internal error)");
	str_free(&reason);
	return reach;
}
