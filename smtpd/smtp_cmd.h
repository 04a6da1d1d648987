/*
 * smtp_cmd - parse one SMTP command line (RFC 5321 4.1.1) and its
 * extensions: SIZE (RFC 1870), 8BITMIME (6152), STARTTLS (3207),
 * AUTH (4954), BDAT/CHUNKING and BINARYMIME (3030), DSN (3461),
 * SMTPUTF8 (6531)
 *
 * INPUT   one line from the client WITHOUT its CRLF; untrusted
 * OUTPUT  struct smtp_cmd; on error also the reply to send:
 *         "<code> <enhanced> <*error_r>", e.g. "501 5.5.4 syntax: ..."
 * LIMITS  998 octets (RFC 5321 4.5.3.1.4, the caller's reader enforces
 *         1000 with CRLF too); CR, LF, NUL and other control characters
 *         are refused anywhere in the line (500 5.5.2)
 *
 * The parser only checks syntax and records what it saw; policy (is the
 * extension advertised, is SIZE over the limit, is BINARYMIME allowed
 * without BDAT, is the chunk too large) is smtpd's. The exceptions are
 * the SMTPUTF8 rules, which decide how an address is parsed:
 *   - MAIL accepts the SMTPUTF8 parameter only with SMTP_CMD_ALLOW_UTF8;
 *     a non-ASCII reverse-path needs it (553 5.6.7, RFC 6531 3.7.4.1);
 *   - RCPT accepts a non-ASCII address only with SMTP_CMD_TXN_UTF8 (the
 *     transaction's MAIL carried SMTPUTF8).
 *
 * Error replies used:
 *   500 5.5.2  line too long, control character, empty line
 *   500 5.5.1  command unrecognized (verb is SMTP_UNKNOWN)
 *   501 5.5.4  syntax error in the arguments, duplicate or bad parameter
 *              (RET, ENVID, NOTIFY and ORCPT as mail/dsn_param.h checks
 *              them, with its reason as the text)
 *   501 5.5.2  AUTH initial response is not base64
 *   553 5.1.7  bad reverse-path (MAIL), 553 5.1.3 bad forward-path (RCPT)
 *   553 5.6.7  non-ASCII address without SMTPUTF8
 *   555 5.5.4  MAIL/RCPT parameter not recognized
 *
 *   struct smtp_cmd cmd;
 *   if (smtp_cmd_parse(line, len, flags, &cmd, &error) < 0)
 *           reply("%d %s %s", cmd.code, cmd.enhanced, error);
 */
#ifndef POSTERN_SMTP_CMD_H
#define POSTERN_SMTP_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "mail/addr.h"
#include "mail/dsn_param.h"

#define SMTP_CMD_LINE_MAX 998	/* octets without CRLF */
#define SMTP_ENVID_MAX    DSN_ENVID_MAX	/* RFC 3461 4.4 */
#define SMTP_ORCPT_MAX    DSN_ORCPT_MAX	/* RFC 3461 4.2 */
#define SMTP_MECH_MAX      20	/* RFC 4422 3.1 */
#define SMTP_HELO_MAX     255

/* flags for smtp_cmd_parse */
#define SMTP_CMD_ALLOW_UTF8    0x01	/* SMTPUTF8 is advertised */
#define SMTP_CMD_TXN_UTF8      0x02	/* this transaction's MAIL had SMTPUTF8 */
#define SMTP_CMD_RELAY_TRICKS  0x04	/* refuse '%', '!' in RCPT local parts */

enum smtp_verb {
	SMTP_HELO, SMTP_EHLO, SMTP_MAIL, SMTP_RCPT, SMTP_DATA, SMTP_BDAT,
	SMTP_RSET, SMTP_NOOP, SMTP_QUIT, SMTP_VRFY, SMTP_HELP, SMTP_STARTTLS,
	SMTP_AUTH, SMTP_UNKNOWN
};

enum smtp_body {
	SMTP_BODY_NONE,		/* no BODY= parameter */
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
	SMTP_BODY_BINARYMIME
};

enum smtp_ret { SMTP_RET_NONE, SMTP_RET_FULL, SMTP_RET_HDRS };

/* RCPT NOTIFY= (RFC 3461 4.1) */
#define SMTP_NOTIFY_NEVER   DSN_NOTIFY_NEVER
#define SMTP_NOTIFY_SUCCESS DSN_NOTIFY_SUCCESS
#define SMTP_NOTIFY_FAILURE DSN_NOTIFY_FAILURE
#define SMTP_NOTIFY_DELAY   DSN_NOTIFY_DELAY

struct smtp_cmd {
	enum smtp_verb verb;	/* set even when the arguments are bad;
				 * SMTP_UNKNOWN when the line is */
	int code;		/* on error: reply code, e.g. 501; else 0 */
	const char *enhanced;	/* on error: RFC 3463 code, e.g. "5.5.4" */

	/* HELO/EHLO: the hostname; VRFY/HELP/NOOP: the argument, maybe "";
	 * AUTH: the initial response, "" for "=" */
	char arg[SMTP_CMD_LINE_MAX + 1];
	size_t arg_len;
	int helo_valid;		/* HELO/EHLO name is a domain or literal */

	/* MAIL, RCPT */
	struct addr addr;
	unsigned params;	/* which parameters were given (internal) */
	int has_size;
	uint64_t size;		/* MAIL SIZE= */
	enum smtp_body body;	/* MAIL BODY= */
	int smtputf8;		/* MAIL SMTPUTF8 */
	int has_auth;		/* MAIL AUTH= (checked as xtext, ignored) */
	enum smtp_ret ret;	/* MAIL RET= */
	char envid[SMTP_ENVID_MAX + 1];	/* MAIL ENVID=, raw xtext */
	unsigned notify;	/* RCPT NOTIFY=, SMTP_NOTIFY_* */
	char orcpt[SMTP_ORCPT_MAX + 1];	/* RCPT ORCPT=, raw "type;xtext" */

	/* BDAT */
	uint64_t chunk_size;
	int last;

	/* AUTH */
	char mech[SMTP_MECH_MAX + 1];	/* uppercased */
	int has_initial;	/* an initial response (maybe "=") was given */
};

/* Parse line[0..len) (no CRLF). 0, or -1 with cmd->code, cmd->enhanced
 * and *error_r (a static string) set for the reply. */
int smtp_cmd_parse(const char *line, size_t len, unsigned flags,
		   struct smtp_cmd *cmd, const char **error_r);

/* "MAIL", "RCPT", ...; "UNKNOWN" for SMTP_UNKNOWN (for logs). */
const char *smtp_verb_name(enum smtp_verb verb);

#endif
