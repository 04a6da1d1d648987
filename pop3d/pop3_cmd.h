/*
 * pop3_cmd - parsing one POP3 command line (RFC 1939, RFC 2449, RFC 5034)
 *
 * A command is a keyword of 3 or 4 letters (any ASCII case), then
 * arguments separated by single spaces, then CRLF (a bare LF is taken
 * too). The parser knows each command's arguments:
 *
 *   USER name            name: the rest of the line (may hold spaces)
 *   PASS secret          secret: the rest of the line (may hold spaces)
 *   AUTH [mech [ir]]     mech: one word; ir: the initial response
 *   APOP, STLS, CAPA, QUIT, NOOP, STAT, RSET   no argument
 *   LIST [msg], UIDL [msg]
 *   RETR msg, DELE msg
 *   TOP msg lines
 *
 * msg is a decimal 1..POP3_NUM_MAX, lines 0..POP3_NUM_MAX, digits only.
 * Nothing here knows the session state: the caller decides whether a
 * command is allowed now. Lines are at most POP3_LINE_MAX bytes with CRLF
 * (RFC 2449 section 4), except AUTH lines (the caller reads those with
 * POP3_AUTH_LINE_MAX, RFC 5034 section 4).
 */
#ifndef POSTERN_POP3_CMD_H
#define POSTERN_POP3_CMD_H

#include <stddef.h>

#define POP3_LINE_MAX 255
#define POP3_AUTH_LINE_MAX 2048
#define POP3_NUM_MAX 999999999ul

enum pop3_cmd_kind {
	POP3_UNKNOWN = 0,
	POP3_USER, POP3_PASS, POP3_AUTH, POP3_APOP, POP3_STLS, POP3_CAPA,
	POP3_QUIT, POP3_NOOP, POP3_STAT, POP3_LIST, POP3_UIDL, POP3_RETR,
	POP3_DELE, POP3_TOP, POP3_RSET,
};

struct pop3_cmd {
	enum pop3_cmd_kind kind;
	char name[5];		/* the keyword in upper case ("" if none) */
	const char *arg;	/* USER/PASS text, AUTH mechanism (upper case
				 * in mech), into the parsed line */
	size_t arg_len;
	char mech[21];		/* AUTH: the mechanism, upper case */
	const char *ir;		/* AUTH: initial response or NULL */
	size_t ir_len;
	int nnums;		/* numbers given (LIST/UIDL 0 or 1, TOP 2) */
	unsigned long num[2];
};

/* Parse line[0..len) (with or without its CRLF/LF). The line must stay
 * alive while cmd is used. 0, or -1 with *error_r set to a reply text
 * (without "-ERR "): cmd->kind then still says which command it was
 * (POP3_UNKNOWN for an unknown keyword). */
int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd,
		   const char **error_r);
/* The keyword of kind ("USER"), "" for POP3_UNKNOWN. */
const char *pop3_cmd_name(enum pop3_cmd_kind kind);

#endif
