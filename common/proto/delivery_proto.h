/*
 * delivery_proto - the queue manager's requests to a delivery agent and
 * the agent's replies (postern-qmgr(8), postern-local(8))
 *
 * TRANSPORT  A unix stream socket (queue_dir/private/local). The queue
 *         manager sends each request as one sendmsg(2) carrying a
 *         read-only descriptor of the queue file (sock_send_fd) and the
 *         request line; the agent answers with one reply line before the
 *         next request is sent. One request at a time per connection.
 *
 * REQUEST  one line, fields separated by TAB, ending in LF:
 *
 *           DELIVER ID SENDER RECIPIENT MAILBOX OFFSET SIZE
 *
 *         ID        a queue id (queue_id_valid), for the agent's log lines
 *         SENDER    the envelope sender, empty for the null sender <>
 *         RECIPIENT the address delivered to (goes into Delivered-To:)
 *         MAILBOX   "domain/user": the Maildir is mail_root/domain/user/
 *         OFFSET    decimal: where the message starts in the descriptor
 *         SIZE      decimal: its length in bytes
 *
 *         Text fields are at most QUEUE_TEXT_MAX bytes and contain no byte
 *         below 0x20 and no 0x7f (so no TAB, CR, LF, NUL): a field can
 *         neither split the line nor forge a header or a log line. Both
 *         components of MAILBOX are single path components: not empty,
 *         not "." or "..", no '/', at most DELIVERY_COMPONENT_MAX bytes.
 *         Numbers are plain decimals without sign or leading zeros (but
 *         "0"), OFFSET + SIZE below 2^63.
 *
 * REPLY   OK LF                     delivered (on stable storage)
 *         TEMP TAB x.y.z text LF    not now; try again later (x = 4)
 *         PERM TAB x.y.z text LF    never (x = 5): the recipient fails
 *
 *         The text after the enhanced status code (RFC 3463) is for logs
 *         and bounces; no control bytes, at most DELIVERY_REASON_MAX.
 *
 * The parsers are the only readers of these lines on either side; they
 * refuse anything else, and the peer that sent it loses its connection
 * (a malformed line ends the session, never the daemon).
 *
 * REMOTE  The remote sender (queue_dir/private/remote, postern-remote(8))
 *         takes several recipients of one message for one next hop in a
 *         request: a header line, then one line per recipient, all in one
 *         sendmsg(2) with the queue file descriptor:
 *
 *           SEND ID SENDER NEXTHOP FLAGS OFFSET SIZE COUNT ENVID
 *           RCPT ADDRESS NOTIFY ORCPT      (COUNT lines, 1..DELIVERY_RCPT_MAX)
 *
 *         NEXTHOP is relay_host's syntax ("host", "[host]:port", ...;
 *         mx.h), FLAGS the queue file's E flags (QUEUE_FLAG_*, with the
 *         DSN RET) in decimal, ENVID the DSN envelope id or empty,
 *         NOTIFY the recipient's DSN NOTIFY (QUEUE_NOTIFY_*) in decimal, 0
 *         when not given, ORCPT its original recipient ("type;xtext") or
 *         empty; ENVID, NOTIFY and FLAGS obey queue_file.h's rules. The
 *         other fields are as for DELIVER. The agent answers one line per
 *         recipient, in the order of the request, then a last line:
 *
 *           OK|TEMP|PERM TAB RELAY TAB DSN TAB x.y.z text   (x = 2, 4, 5)
 *           DONE TAB UP|DOWN
 *
 *         RELAY is "host[address]:port" of the server that answered, or
 *         "none"; DSN is "DSN" when that server offered the DSN extension
 *         (so the DSN parameters went on with the message, and the next
 *         hop reports success itself), else "-"; DOWN says no server
 *         of the next hop could be reached or greeted (the queue manager
 *         then backs off the next hop as a whole), UP that one was.
 */
#ifndef POSTERN_DELIVERY_PROTO_H
#define POSTERN_DELIVERY_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "proto/queue_file.h"
#include "proto/queue_id.h"
#include "util/str.h"

/* Longest request line, LF included (4 text fields + numbers + slack). */
#define DELIVERY_LINE_MAX (4 * QUEUE_TEXT_MAX + 128)
/* Longest reply line, LF included. */
#define DELIVERY_REPLY_MAX 512
/* Longest reply text ("x.y.z reason"). */
#define DELIVERY_REASON_MAX 400
/* Longest Maildir path component (NAME_MAX). */
#define DELIVERY_COMPONENT_MAX 255

/* The outcomes, with the values of exitcode.h (STYLE.md 6). */
enum delivery_status {
	DELIVERY_OK = 0,
	DELIVERY_PERM = 100,
	DELIVERY_TEMP = 111,
};

struct delivery_req {
	char id[QUEUE_ID_SIZE];
	char sender[QUEUE_TEXT_MAX + 1];	/* "" for <> */
	char rcpt[QUEUE_TEXT_MAX + 1];
	char domain[DELIVERY_COMPONENT_MAX + 1];
	char user[DELIVERY_COMPONENT_MAX + 1];
	uint64_t offset;
	uint64_t size;
};

/* Append the request line of req (with its LF) to out. 0, or -1 with a
 * static reason in *error_r if a field breaks the rules above. */
int delivery_req_format(const struct delivery_req *req, struct str *out,
			const char **error_r);
/* Parse line[0..len) (the LF may be there or not) into req. 0, or -1
 * with a static reason in *error_r. */
int delivery_req_parse(const char *line, size_t len, struct delivery_req *req,
		       const char **error_r);
/* Split "domain/user" into req->domain and req->user, checking both
 * components. 0 or -1 with *error_r. */
int delivery_mailbox_set(struct delivery_req *req, const char *mailbox,
			 const char **error_r);
/* Is s[0..len) a safe single path component (see above)? 1 or 0. */
int delivery_component_ok(const char *s, size_t len);

/* Append the reply line to out: "OK\n", or "TEMP\t<reason>\n" /
 * "PERM\t<reason>\n". A reason that does not fit the rules (no status
 * code of the right class, control bytes, too long) is replaced by a
 * generic one, so the agent can never send an unparsable reply. */
void delivery_reply_format(enum delivery_status status, const char *reason,
			   struct str *out);
/* Parse a reply line (LF optional). 0 with *status_r and the reason
 * ("" for OK) in reason_r, or -1 with *error_r. */
int delivery_reply_parse(const char *line, size_t len,
			 enum delivery_status *status_r, struct str *reason_r,
			 const char **error_r);

/* ---- the remote sender's requests (see REMOTE above) ---------------- */

/* Recipients per SEND request. */
#define DELIVERY_RCPT_MAX 100
/* Longest NEXTHOP and RELAY fields. */
#define DELIVERY_NEXTHOP_MAX 300
/* Longest SEND request: header and every RCPT line. */
#define DELIVERY_RCPT_LINE_MAX (2 * QUEUE_TEXT_MAX + 16)
#define DELIVERY_SEND_MAX (DELIVERY_LINE_MAX + \
			   DELIVERY_RCPT_MAX * DELIVERY_RCPT_LINE_MAX)
/* Longest remote reply line. */
#define DELIVERY_RREPLY_MAX (DELIVERY_NEXTHOP_MAX + DELIVERY_REASON_MAX + 24)

struct delivery_send {
	char id[QUEUE_ID_SIZE];
	char sender[QUEUE_TEXT_MAX + 1];
	char nexthop[DELIVERY_NEXTHOP_MAX + 1];
	uint32_t flags;
	uint64_t offset;
	uint64_t size;
	char envid[QUEUE_ENVID_MAX + 1];	/* "" when none */
	size_t nrcpt;
	char *rcpts[DELIVERY_RCPT_MAX];	/* owned; free with _free */
	char *orcpts[DELIVERY_RCPT_MAX];	/* owned, NULL when none */
	unsigned notify[DELIVERY_RCPT_MAX];	/* QUEUE_NOTIFY_*, 0: none */
};

void delivery_send_init(struct delivery_send *req);
void delivery_send_free(struct delivery_send *req);
/* Add a recipient (copied) with its NOTIFY (0: none) and ORCPT (NULL:
 * none). 0, or -1 when full or not a valid field. */
int delivery_send_add(struct delivery_send *req, const char *rcpt,
		      unsigned notify, const char *orcpt);
/* Append the request (header and RCPT lines) to out. 0 or -1. */
int delivery_send_format(const struct delivery_send *req, struct str *out,
			 const char **error_r);
/* Parse a request from buf[0..len): 1 complete (*used_r bytes), 0 more
 * bytes needed, -1 malformed (*error_r). req is emptied first. */
int delivery_send_parse(const char *buf, size_t len,
			struct delivery_send *req, size_t *used_r,
			const char **error_r);

/* One recipient's line. A reason that breaks the rules is replaced by a
 * generic one of the right class; a bad relay by "none". dsn: the server
 * offered DSN (1) or not (0). */
void delivery_rreply_format(enum delivery_status status, const char *relay,
			    int dsn, const char *reason, struct str *out);
int delivery_rreply_parse(const char *line, size_t len,
			  enum delivery_status *status_r, struct str *relay_r,
			  int *dsn_r, struct str *reason_r,
			  const char **error_r);
/* The DONE line. parse: 1 UP, 0 DOWN, -1 not a DONE line. */
void delivery_rdone_format(int up, struct str *out);
int delivery_rdone_parse(const char *line, size_t len);

#endif
