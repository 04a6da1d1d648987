/*
 * imap_parse - read IMAP commands from a client (RFC 3501 and RFC 9051
 * section 9 grammar, RFC 7888 LITERAL+ and LITERAL-, RFC 3516 literal8)
 *
 * INPUT   untrusted bytes from the client through a blocking io (io.h)
 * OUTPUT  one command at a time: tag, upper-cased name, UID prefix, and a
 *         tree of arguments (struct imap_arg) that the typed parsers
 *         (imap_args.h, imap_fetch_parse.h, imap_search_parse.h) read
 *
 * GRAMMAR (what the reader accepts; the typed parsers narrow it)
 *
 *   command  = tag SP ["UID" SP] name *(1*SP arg) *SP CRLF
 *   tag      = 1*64 <CHAR except CTL SP ( ) { % * " \ +>
 *   name     = 1*32 <ALPHA / DIGIT / "-" / "_" / ".">, upper-cased;
 *              "UID" before it sets cmd->uid (name is the real command)
 *   arg      = atom / quoted / literal / literal8 / "(" [arg *(SP arg)] ")"
 *   atom     = 1*<CHAR except CTL SP ( ) { ">, 7-bit only; "NIL" in any
 *              case is IMAP_ARG_NIL (s still holds the text, so a mailbox
 *              named NIL works through imap_arg_astring())
 *   quoted   = DQUOTE *(<byte except CR LF NUL " \> / "\" (DQUOTE / "\"))
 *              DQUOTE; 8-bit bytes only as well-formed UTF-8 (RFC 9051
 *              quoted-char; accepted in IMAP4rev1 sessions too, as Dovecot
 *              does: the typed parsers and SEARCH CHARSET decide the rest)
 *   literal  = "{" number ["+"] "}" CRLF <number bytes, no NUL>
 *   literal8 = "~{" number ["+"] "}" CRLF <number bytes> (binary=1)
 *
 *   The line ends in CRLF or a bare LF. Tokens are separated by one or
 *   more SP; a token must be followed by SP, ")" or the line end, so
 *   `"a"b` and `(a)(b)` are BAD. A literal's announcement must end its
 *   line. An empty line is BAD.
 *
 * SECTIONS (FETCH). An atom that begins with BODY[, BODY.PEEK[, BINARY[,
 * BINARY.PEEK[ or BINARY.SIZE[ (any case) runs to the "]" matching that
 * "[" (SP, parentheses and quoted strings allowed inside, never a literal
 * nor a line end) and on to the next separator, so
 *   BODY.PEEK[HEADER.FIELDS (From "To")]<0.100>
 * is ONE atom with exactly that text: imap_fetch_parse.h parses it and
 * echoes the client's text. A "[" anywhere else is an ordinary atom byte.
 *
 * LITERALS. A synchronizing literal is answered "+ OK" (output flushed)
 * only after the text before it parsed and its size is within the limits;
 * otherwise the command is answered at once (BAD or TOOBIG) and, as RFC
 * 3501 7.5 says, the client does not send it. A non-synchronizing literal
 * (LITERAL+) has been sent already: when refused, its bytes and the rest of
 * the command (further lines and non-synchronizing literals) are read and
 * thrown away, up to lim->drain_max bytes; past that the reader gives up
 * and imap_reader_must_close() is 1 (RFC 7888 section 4 allows the server
 * to close the connection; the caller answers, sends BYE and closes). With
 * LITERAL- on, a non-synchronizing literal over 4096 bytes is refused
 * (IMAP_READ_TOOBIG; the caller answers "TAG BAD [TOOBIG]").
 *
 * APPEND. In APPEND (without UID) every literal at the top level after the
 * mailbox name is the message and is never read into memory: the command
 * is returned at once with cmd->literal_pending set and the arguments so
 * far; its size is checked against lim->append_max before the "+". The
 * caller reads it with imap_reader_literal_read() (which sends the "+" of
 * a synchronizing literal on first use) or refuses it with
 * imap_reader_literal_skip(), then calls imap_read_continue() for the
 * rest of the line: cmd->args then holds the arguments after the literal
 * (MULTIAPPEND: the next message's flags and date, and perhaps another
 * pending literal; none at the command's end).
 *
 * RESULTS of imap_read_command()/imap_read_continue():
 *   IMAP_READ_OK       a command (or its next part) in cmd
 *   IMAP_READ_BAD      syntax error: answer "TAG BAD <imap_reader_error()>"
 *                      with cmd->tag ("*" if none was read); the command's
 *                      rest is consumed, the session goes on
 *   IMAP_READ_TOOBIG   a line, literal or the command over a limit:
 *                      answer "TAG NO [TOOBIG] ..." for APPEND's message,
 *                      "TAG BAD [TOOBIG] ..." otherwise; stream in sync
 *                      unless imap_reader_must_close()
 *   IMAP_READ_EOF, IMAP_READ_TIMEOUT, IMAP_READ_ERR (errno): the end
 *
 * LIMITS  (struct imap_reader_limits, imap_reader_limits_default()):
 *   line_max      bytes of one line (up to its CRLF, not counted, or its
 *                 literal's announcement, counted)
 *   literal_max   bytes of one literal read into memory
 *   command_max   bytes kept for one command (text of all its arguments)
 *   depth_max     parenthesis nesting
 *   args_max      arguments in one command, nested ones included
 *   append_max    bytes of one APPEND message (0: no limit)
 *   drain_max     bytes thrown away to stay in sync after a refusal
 *
 * MEMORY  The reader's buffers are reused from command to command; buffers
 * grown past IMAP_READER_KEEP bytes are freed before the reader waits for
 * the next command, so an idle session stays small. A command's arguments
 * point into the reader and are valid until the next call on it.
 *
 * DEADLINES Every wait for input lasts at most io->timeout_ms.
 */
#ifndef POSTERN_IMAP_PARSE_H
#define POSTERN_IMAP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "util/io.h"
#include "util/str.h"

#define IMAP_TAG_MAX 64
#define IMAP_NAME_MAX 32
#define IMAP_LITERAL_MINUS_MAX 4096	/* RFC 7888 section 4 */
#define IMAP_READER_KEEP (16 * 1024)

enum imap_read_result {
	IMAP_READ_OK = 0,
	IMAP_READ_BAD,
	IMAP_READ_TOOBIG,
	IMAP_READ_EOF,
	IMAP_READ_TIMEOUT,
	IMAP_READ_ERR,
};

enum imap_arg_type {
	IMAP_ARG_ATOM,
	IMAP_ARG_STRING,	/* quoted or literal, unescaped */
	IMAP_ARG_NIL,
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	const char *s;		/* NUL-terminated (a literal8 may hold NULs);
				 * "" for a list */
	size_t len;
	int literal;		/* came as a literal */
	int binary;		/* came as literal8 */
	struct imap_arg *list;	/* IMAP_ARG_LIST: its n elements */
	unsigned n;
};

struct imap_command {
	char tag[IMAP_TAG_MAX + 1];	/* "*" until a valid tag was read */
	char name[IMAP_NAME_MAX + 1];	/* upper case; "" if none */
	int uid;			/* "UID name" */
	struct imap_arg *args;		/* the top-level arguments */
	unsigned nargs;
	/* APPEND's message, not read yet (APPEND above) */
	int literal_pending;
	uint64_t literal_size;
	int literal_sync;		/* synchronizing: "+" still owed */
	int literal_binary;		/* literal8 */
};

struct imap_reader_limits {
	size_t line_max;
	size_t literal_max;
	size_t command_max;
	unsigned depth_max;
	unsigned args_max;
	uint64_t append_max;
	uint64_t drain_max;
};

#define IMAP_LINE_MAX_DEFAULT (64 * 1024)
#define IMAP_LITERAL_MAX_DEFAULT (64 * 1024)
#define IMAP_COMMAND_MAX_DEFAULT (256 * 1024)
#define IMAP_DEPTH_MAX_DEFAULT 32
#define IMAP_ARGS_MAX_DEFAULT 4096
#define IMAP_DRAIN_MAX_DEFAULT (1024 * 1024)

struct imap_reader_node;

struct imap_reader {
	struct io *io;
	struct imap_reader_limits lim;
	int literal_minus;
	/* private */
	const char *error;		/* text for BAD/TOOBIG */
	int error_toobig;		/* the error was a size limit */
	int must_close;
	int in_append;			/* the current command is APPEND */
	int continuing;			/* after a streamed literal */
	uint64_t literal_left;		/* pending literal bytes unread */
	int literal_started;		/* "+" sent or literal non-sync */
	int literal_active;
	struct str line;		/* the current line, no CRLF */
	int line_toolong;		/* line holds only its head */
	char tail[24];			/* the current line's last bytes */
	size_t tail_len;
	size_t pos;			/* parse position in line */
	int after_token;		/* a separator must come next */
	struct str data;		/* argument text of the command */
	struct imap_reader_node *nodes;
	unsigned nnodes, nodes_cap;
	unsigned *open;			/* stack of open lists (node index) */
	unsigned depth;
	unsigned ntop;			/* top-level args in this part */
	struct imap_arg *out;
	unsigned out_cap;
};

void imap_reader_limits_default(struct imap_reader_limits *lim);
/* lim NULL: the defaults. */
void imap_reader_init(struct imap_reader *r, struct io *io,
		      const struct imap_reader_limits *lim);
void imap_reader_free(struct imap_reader *r);
/* Between commands, before a long wait (IDLE): give back every buffer;
 * the next read makes them again. */
void imap_reader_idle(struct imap_reader *r);
/* LITERAL- (RFC 7888): non-synchronizing literals over 4096 refused. */
void imap_reader_set_literal_minus(struct imap_reader *r, int on);

int imap_read_command(struct imap_reader *r, struct imap_command *cmd);
int imap_read_continue(struct imap_reader *r, struct imap_command *cmd);

/* Read up to n bytes of the pending literal; *got_r is 0 once it has all
 * been read. IMAP_READ_OK, or EOF/TIMEOUT/ERR. */
int imap_reader_literal_read(struct imap_reader *r, void *buf, size_t n,
			     size_t *got_r);
/* The caller refuses the pending literal (APPEND to a missing mailbox,
 * over a quota): a synchronizing literal whose "+" was not sent is never
 * sent by the client and the command ends; otherwise the rest of the
 * literal and of the command is read and thrown away. IMAP_READ_OK (the
 * stream is in sync; do not call imap_read_continue()), TOOBIG (more than
 * drain_max: close), EOF, TIMEOUT, ERR. */
int imap_reader_literal_skip(struct imap_reader *r);

/* One raw line that is not a command (IDLE's DONE, a SASL response),
 * without its CRLF, in *line_r (valid until the next call): IMAP_READ_OK,
 * TOOBIG (over line_max; read to its end and thrown away), EOF, TIMEOUT,
 * ERR. */
int imap_reader_read_line(struct imap_reader *r, const char **line_r,
			  size_t *len_r);

/* Why the last BAD or TOOBIG (static text, no CR/LF). */
const char *imap_reader_error(const struct imap_reader *r);
/* 1 when the stream could not be brought back in sync: answer, then BYE. */
int imap_reader_must_close(const struct imap_reader *r);

/* Typed access helpers over arguments. */
/* An astring (atom, string or NIL's text): 1 and *s_r, *len_r; else 0. */
int imap_arg_astring(const struct imap_arg *a, const char **s_r,
		     size_t *len_r);
/* A string or NIL (nstring): 1; *s_r NULL for NIL. */
int imap_arg_nstring(const struct imap_arg *a, const char **s_r,
		     size_t *len_r);
/* An atom equal to word, ASCII case ignored. */
int imap_arg_atom_is(const struct imap_arg *a, const char *word);
/* A number (1*DIGIT, at most max): 1 and *v_r, else 0. */
int imap_arg_number(const struct imap_arg *a, uint64_t max, uint64_t *v_r);

#endif
