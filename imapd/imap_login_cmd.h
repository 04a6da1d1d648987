/*
 * imap_login_cmd - the commands of IMAP before login, as postern-imap-login
 *                  reads them: framing (where a command ends) and parsing
 *
 * A small tokenizer of its own, for this program only: before login the
 * client may send nine commands with a handful of short arguments, and a
 * process that holds a password should parse no more than that (the full
 * parser of postern-imap is imapd/imap_parse.h).
 *
 * GRAMMAR (RFC 9051 section 9, the part a client may send before login;
 *          RFC 7888 LITERAL+)
 *
 *   command  = tag SP name *(SP arg) [CR] LF
 *   tag      = 1*<ASTRING-CHAR except "+">
 *   name     = 1*ATOM-CHAR                       any case
 *   arg      = atom / quoted / literal / list
 *   atom     = 1*ASTRING-CHAR                    (NIL is an atom here)
 *   quoted   = DQUOTE *(TEXT-CHAR but DQUOTE and "\" / "\" DQUOTE /
 *              "\" "\") DQUOTE                   8-bit bytes taken as they
 *                                                come (UTF-8 passwords)
 *   literal  = "{" number ["+"] "}" [CR] LF *CHAR8   exactly number bytes,
 *                                                no NUL
 *   list     = "(" [arg *(SP arg)] ")"           one level deep (ID)
 *   ASTRING-CHAR = any byte 0x21-0x7e but ( ) { SP % * " \ ; "]" allowed
 *
 * Then per command (imap_login_cmd_parse() checks it; anything else is a
 * parse error, a BAD):
 *   CAPABILITY, NOOP, LOGOUT, STARTTLS   no arguments
 *   LOGIN userid password                 two astrings (atom or string)
 *   AUTHENTICATE mech [initial-response]  atoms (RFC 4959: base64 or "=")
 *   ID ( field value ... ) / ID NIL       RFC 2971: at most 30 pairs, a
 *                                         field a string of at most 30
 *                                         bytes, a value a string of at
 *                                         most 1024 or NIL
 *   ENABLE, the commands of later states, unknown names: not checked (they
 *                                         are refused whatever follows)
 *
 * FRAMING  A command is one line, or several when it carries literals: a
 *          line that ends with a literal's announcement "{N}" or "{N+}" is
 *          followed by N bytes and then the rest of the command.
 *          imap_login_cmd_frame() looks at what was read so far and says
 *          which; the reader sends "+ " for a synchronizing literal, reads
 *          the N bytes, appends them and reads on. A "{" inside a quoted
 *          string announces nothing.
 *
 * LIMITS   IMAP_LOGIN_CMD_MAX bytes for a whole command, literals and line
 *          ends included: room for the largest ID RFC 2971 allows (30
 *          pairs of a 30-octet field and a 1024-octet value, quoted),
 *          which imaptest sends, and far more than any LOGIN;
 *          IMAP_LOGIN_ARGS_MAX arguments, list parentheses counted.
 *
 * WHY      The strings are unescaped into the command's own buffer, which
 *          holds the password: imap_login_cmd_wipe() clears it.
 */
#ifndef POSTERN_IMAP_LOGIN_CMD_H
#define POSTERN_IMAP_LOGIN_CMD_H

#include <stddef.h>
#include <stdint.h>

#define IMAP_LOGIN_CMD_MAX (40 * 1024)
#define IMAP_LOGIN_ARGS_MAX 64
#define IMAP_LOGIN_ID_PAIRS_MAX 30
#define IMAP_LOGIN_ID_FIELD_MAX 30
#define IMAP_LOGIN_ID_VALUE_MAX 1024

enum imap_login_verb {
	IMAP_LOGIN_UNKNOWN = 0,
	IMAP_LOGIN_CAPABILITY,
	IMAP_LOGIN_NOOP,
	IMAP_LOGIN_LOGOUT,
	IMAP_LOGIN_STARTTLS,
	IMAP_LOGIN_LOGIN,
	IMAP_LOGIN_AUTHENTICATE,
	IMAP_LOGIN_ID,
	IMAP_LOGIN_ENABLE,
	IMAP_LOGIN_LATER,	/* a command of the authenticated or selected
				 * state (SELECT, LIST, FETCH ...) */
};

enum imap_login_arg_type {
	IMAP_ARG_ATOM,
	IMAP_ARG_STRING,	/* quoted or literal */
	IMAP_ARG_LIST_OPEN,
	IMAP_ARG_LIST_CLOSE,
};

struct imap_login_arg {
	enum imap_login_arg_type type;
	const char *s;		/* NUL-terminated, in the command's buf;
				 * "" for the parentheses */
	size_t len;		/* without the NUL (a string may hold none) */
};

struct imap_login_cmd {
	const char *tag;	/* NULL until a valid tag was seen */
	size_t tag_len;
	const char *name;	/* as sent */
	enum imap_login_verb verb;
	struct imap_login_arg arg[IMAP_LOGIN_ARGS_MAX];
	unsigned nargs;
	char buf[2 * IMAP_LOGIN_CMD_MAX];	/* tag, name, strings */
};

enum imap_login_frame {
	IMAP_FRAME_DONE = 0,	/* the command is complete */
	IMAP_FRAME_LITERAL = 1,	/* a literal follows: *size_r bytes */
};

/* p[0..n): the command read so far, ending in LF. IMAP_FRAME_LITERAL with
 * *size_r (any value: the caller checks it against its limit) and *sync_r
 * (1: "{N}", the client waits for "+ "; 0: "{N+}"), or IMAP_FRAME_DONE. */
int imap_login_cmd_frame(const char *p, size_t n, uint64_t *size_r,
			 int *sync_r);

/* Parse the complete command p[0..n) (at most IMAP_LOGIN_CMD_MAX bytes)
 * into cmd. 0; or -1 with *error_r, the text of the BAD reply, and
 * cmd->tag set if the tag could be read (the reply is then tagged). */
int imap_login_cmd_parse(const char *p, size_t n, struct imap_login_cmd *cmd,
			 const char **error_r);

/* Clear cmd (it may hold a password). */
void imap_login_cmd_wipe(struct imap_login_cmd *cmd);

/* 1 if p[0..n) is a valid tag (GRAMMAR), else 0. */
int imap_login_tag_valid(const char *p, size_t n);
/* The length of the tag that p[0..n) starts with (a valid tag followed by
 * SP or the line end), 0 if none: the tag of a command refused before it
 * is parsed (too long, a literal too large). */
size_t imap_login_cmd_tag(const char *p, size_t n);

#endif
