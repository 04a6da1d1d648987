/*
 * pop3_handover - the message postern-pop3-login sends to postern-pop3
 *
 * After a successful login, the login process connects to the unix socket
 * queue_dir/private/pop3 and sends, in one sendmsg(2) carrying the
 * client's descriptor (SCM_RIGHTS):
 *
 *   LOGIN <TAB> address <TAB> client-ip <TAB> tls <LF> [pending input]
 *
 * address is the canonical address from postern-auth(8), client-ip the
 * client's address as text, tls "1" when the login process keeps the TLS
 * session and the descriptor is one end of a socketpair it relays, "0"
 * when the descriptor is the client's own socket. Whatever follows the LF,
 * up to the end of the connection (the login process then closes it), is
 * client input that arrived pipelined after the login command: the
 * session reads it before anything from the descriptor. The line is at
 * most POP3_HANDOVER_LINE_MAX bytes; the pending input at most
 * POP3_HANDOVER_PENDING_MAX.
 *
 * The mailbox of the address is found by the one address -> Maildir rule,
 * common/mail/mailbox_path.h, on the mailbox side.
 */
#ifndef POSTERN_POP3_HANDOVER_H
#define POSTERN_POP3_HANDOVER_H

#include <stddef.h>

#include "util/str.h"

#define POP3_HANDOVER_LINE_MAX 512
#define POP3_HANDOVER_PENDING_MAX 16384
#define POP3_ADDRESS_MAX 320
#define POP3_IP_MAX 64

struct pop3_handover {
	char address[POP3_ADDRESS_MAX + 1];
	char ip[POP3_IP_MAX];
	int tls;
};

/* Set out to the line (with its LF). 0, or -1 if a field is empty, too
 * long or holds TAB, CR, LF or NUL. */
int pop3_handover_format(struct str *out, const char *address,
			 const char *ip, int tls);
/* Parse the line at the start of p[0..n): 0 with *used_r = its length
 * including the LF, or -1 (malformed, or no LF within the limit). */
int pop3_handover_parse(const char *p, size_t n, struct pop3_handover *h,
			size_t *used_r);

#endif
