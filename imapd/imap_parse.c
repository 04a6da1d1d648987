/*
 * imap_parse - read IMAP commands from a client (imap_parse.h)
 *
 * The reader works line by line. A line is read whole (up to line_max;
 * a longer one is read to its end keeping only its head, for the tag, and
 * its last bytes, to see whether it announced a literal). The tokens of a
 * line are parsed at once, so a syntax error is found before the "+" of a
 * synchronizing literal is sent. Arguments are kept as flat nodes in
 * document order with their text in one buffer (r->data) and turned into
 * the tree of struct imap_arg when a command (or part of one) is complete.
 */
#include "imapd/imap_parse.h"

#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "imapd/imap_mutf7.h"
#include "util/alloc.h"

struct imap_reader_node {
	enum imap_arg_type type;
	size_t off, len;
	int literal, binary;
	int parent;		/* node index, -1 at the top */
	unsigned nchild;
};

/* what a line ends with */
struct imap_literal {
	int present;
	uint64_t size;
	int sync, binary;
};

enum imap_line_end { LINE_DONE, LINE_LITERAL, LINE_FAIL };

static const char imap_continue_text[] = "+ OK\r\n";

void imap_reader_limits_default(struct imap_reader_limits *lim)
{
	lim->line_max = IMAP_LINE_MAX_DEFAULT;
	lim->literal_max = IMAP_LITERAL_MAX_DEFAULT;
	lim->command_max = IMAP_COMMAND_MAX_DEFAULT;
	lim->depth_max = IMAP_DEPTH_MAX_DEFAULT;
	lim->args_max = IMAP_ARGS_MAX_DEFAULT;
	lim->append_max = 0;
	lim->drain_max = IMAP_DRAIN_MAX_DEFAULT;
}

void imap_reader_init(struct imap_reader *r, struct io *io,
		      const struct imap_reader_limits *lim)
{
	memset(r, 0, sizeof(*r));
	r->io = io;
	if (lim != NULL)
		r->lim = *lim;
	else
		imap_reader_limits_default(&r->lim);
	if (r->lim.depth_max == 0)
		r->lim.depth_max = 1;
	if (r->lim.args_max == 0)
		r->lim.args_max = 1;
	str_init(&r->line, 0);
	str_init(&r->data, r->lim.command_max);
	r->error = "";
}

static void imap_reader_release(struct imap_reader *r)
{
	str_free(&r->line);
	str_free(&r->data);
	free(r->nodes);
	free(r->open);
	free(r->out);
	r->nodes = NULL;
	r->open = NULL;
	r->out = NULL;
	r->nodes_cap = r->out_cap = 0;
	r->nnodes = r->depth = 0;
}

void imap_reader_free(struct imap_reader *r)
{
	imap_reader_release(r);
}

void imap_reader_set_literal_minus(struct imap_reader *r, int on)
{
	r->literal_minus = on != 0;
}

const char *imap_reader_error(const struct imap_reader *r)
{
	return r->error;
}

int imap_reader_must_close(const struct imap_reader *r)
{
	return r->must_close;
}

static int imap_io_result(int io_r)
{
	switch (io_r) {
	case IO_OK:
		return IMAP_READ_OK;
	case IO_EOF:
		return IMAP_READ_EOF;
	case IO_TIMEOUT:
		return IMAP_READ_TIMEOUT;
	default:
		return IMAP_READ_ERR;
	}
}

/* Free what a big command made grow (MEMORY in the header). */
static void imap_reader_shrink(struct imap_reader *r)
{
	if (r->line.cap > IMAP_READER_KEEP || r->data.cap > IMAP_READER_KEEP ||
	    r->nodes_cap > IMAP_READER_KEEP / sizeof(*r->nodes)) {
		imap_reader_release(r);
		str_init(&r->line, 0);
		str_init(&r->data, r->lim.command_max);
	}
}

void imap_reader_idle(struct imap_reader *r)
{
	imap_reader_release(r);
	str_init(&r->line, 0);
	str_init(&r->data, r->lim.command_max);
}

/* ---- lines ------------------------------------------------------------ */

static void imap_reader_tail_add(struct imap_reader *r, const char *p,
				 size_t n)
{
	size_t cap = sizeof(r->tail);

	if (n >= cap) {
		memcpy(r->tail, p + n - cap, cap);
		r->tail_len = cap;
		return;
	}
	if (r->tail_len + n > cap) {
		size_t drop = r->tail_len + n - cap;

		memmove(r->tail, r->tail + drop, r->tail_len - drop);
		r->tail_len -= drop;
	}
	memcpy(r->tail + r->tail_len, p, n);
	r->tail_len += n;
}

/* Take p[0..n) of the current line (LF excluded). */
static void imap_reader_line_add(struct imap_reader *r, const char *p,
				 size_t n)
{
	imap_reader_tail_add(r, p, n);
	if (r->line_toolong)
		return;
	if (n > r->lim.line_max - r->line.len ||
	    str_append(&r->line, p, n) < 0) {
		r->line_toolong = 1;
		if (r->line.len > IMAP_TAG_MAX + IMAP_NAME_MAX + 8)
			str_truncate(&r->line, IMAP_TAG_MAX + IMAP_NAME_MAX + 8);
	}
}

/* Read one line into r->line without its CR LF. Returns IMAP_READ_OK
 * (r->line_toolong tells whether it was cut), EOF, TIMEOUT or ERR; a
 * line cut by EOF is EOF. */
static int imap_reader_getline(struct imap_reader *r, uint64_t *count)
{
	struct io *io = r->io;
	char buf[4096];

	str_clear(&r->line);
	r->line_toolong = 0;
	r->tail_len = 0;
	r->pos = 0;
	for (;;) {
		size_t avail = io_pending(io), take, got;
		const char *lf;
		int ior, end = 0;

		if (avail == 0) {
			take = 1;
		} else {
			lf = memchr(io->rbuf + io->rpos, '\n', avail);
			take = lf != NULL ? (size_t)(lf - (io->rbuf + io->rpos))
				+ 1 : avail;
		}
		if (take > sizeof(buf))
			take = sizeof(buf);
		ior = io_read(io, buf, take, &got);
		if (ior != IO_OK)
			return imap_io_result(ior);
		if (count != NULL)
			*count += got;
		if (got > 0 && buf[got - 1] == '\n') {
			end = 1;
			got--;
		}
		imap_reader_line_add(r, buf, got);
		if (end)
			break;
	}
	if (r->tail_len > 0 && r->tail[r->tail_len - 1] == '\r') {
		r->tail_len--;
		if (!r->line_toolong)
			str_truncate(&r->line, r->line.len - 1);
	}
	return IMAP_READ_OK;
}

/* Whether p[0..n) ends with a literal's announcement. */
static void imap_line_literal(const char *p, size_t n,
			      struct imap_literal *lit)
{
	size_t i, digits = 0;
	uint64_t v = 0, scale = 1;

	memset(lit, 0, sizeof(*lit));
	if (n < 3 || p[n - 1] != '}')
		return;
	i = n - 1;
	lit->sync = 1;
	if (p[i - 1] == '+') {
		lit->sync = 0;
		i--;
	}
	while (i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9' && digits < 19) {
		v += (uint64_t)(p[i - 1] - '0') * scale;
		scale *= 10;
		digits++;
		i--;
	}
	if (digits == 0 || i == 0 || p[i - 1] != '{')
		return;
	lit->present = 1;
	lit->size = v;
	lit->binary = i >= 2 && p[i - 2] == '~';
}

static void imap_reader_line_literal(const struct imap_reader *r,
				     struct imap_literal *lit)
{
	imap_line_literal(r->tail, r->tail_len, lit);
}

/* Throw away n bytes of input, counting them against *budget. */
static int imap_reader_discard(struct imap_reader *r, uint64_t n,
			       uint64_t *budget)
{
	char buf[4096];

	if (n > *budget) {
		r->must_close = 1;
		return IMAP_READ_TOOBIG;
	}
	*budget -= n;
	while (n > 0) {
		size_t got;
		int ior = io_read(r->io, buf, n < sizeof(buf) ? n : sizeof(buf),
				  &got);

		if (ior != IO_OK)
			return imap_io_result(ior);
		n -= got;
	}
	return IMAP_READ_OK;
}

/* The current line has been consumed; read and throw away what the client
 * still sends of this command: the non-synchronizing literal the line
 * announces, the line after it, and so on. A synchronizing literal ends
 * it (the client waits for a "+" that never comes). */
static int imap_reader_drain(struct imap_reader *r)
{
	uint64_t budget = r->lim.drain_max;

	for (;;) {
		struct imap_literal lit;
		uint64_t linecount = 0;
		int rc;

		imap_reader_line_literal(r, &lit);
		if (!lit.present || lit.sync)
			return IMAP_READ_OK;
		rc = imap_reader_discard(r, lit.size, &budget);
		if (rc != IMAP_READ_OK)
			return rc;
		rc = imap_reader_getline(r, &linecount);
		if (rc != IMAP_READ_OK)
			return rc;
		if (linecount > budget) {
			r->must_close = 1;
			return IMAP_READ_TOOBIG;
		}
		budget -= linecount;
	}
}

/* A refusal (BAD or TOOBIG) found in the current line. */
static int imap_reader_fail(struct imap_reader *r, int result,
			    const char *why)
{
	int rc;

	r->error = why;
	rc = imap_reader_drain(r);
	r->literal_active = 0;
	if (rc == IMAP_READ_OK || rc == IMAP_READ_TOOBIG)
		return result;
	return rc;
}

/* ---- argument nodes --------------------------------------------------- */

static int imap_reader_add(struct imap_reader *r, enum imap_arg_type type,
			   size_t off, size_t len, unsigned *index_r)
{
	struct imap_reader_node *nd;

	if (r->nnodes >= r->lim.args_max) {
		r->error = "Too many arguments";
		return -1;
	}
	if (r->nnodes == r->nodes_cap) {
		r->nodes_cap = r->nodes_cap ? r->nodes_cap * 2 : 32;
		if (r->nodes_cap > r->lim.args_max)
			r->nodes_cap = r->lim.args_max;
		r->nodes = xreallocarray(r->nodes, r->nodes_cap,
					 sizeof(*r->nodes));
	}
	nd = &r->nodes[r->nnodes];
	memset(nd, 0, sizeof(*nd));
	nd->type = type;
	nd->off = off;
	nd->len = len;
	if (r->depth > 0) {
		nd->parent = (int)r->open[r->depth - 1];
		r->nodes[nd->parent].nchild++;
	} else {
		nd->parent = -1;
		r->ntop++;
	}
	if (index_r != NULL)
		*index_r = r->nnodes;
	r->nnodes++;
	return 0;
}

/* Text into r->data, NUL-terminated; its offset in *off_r. */
static int imap_reader_text(struct imap_reader *r, const char *p, size_t n,
			    size_t *off_r)
{
	*off_r = r->data.len;
	if (str_append(&r->data, p, n) < 0 || str_appendc(&r->data, '\0') < 0) {
		r->error = "Command too long";
		r->error_toobig = 1;
		return -1;
	}
	return 0;
}

/* Build cmd->args from the nodes (lists' elements contiguous). */
static void imap_reader_finish(struct imap_reader *r, struct imap_command *cmd)
{
	unsigned n = r->nnodes, next = r->ntop;
	unsigned *start, *cursor, root_cursor = 0;

	cmd->args = NULL;
	cmd->nargs = r->ntop;
	if (n == 0)
		return;
	if (n > r->out_cap) {
		free(r->out);
		r->out = xreallocarray(NULL, n, sizeof(*r->out));
		r->out_cap = n;
	}
	start = xreallocarray(NULL, n, sizeof(*start));
	cursor = xreallocarray(NULL, n, sizeof(*cursor));
	for (unsigned i = 0; i < n; i++) {
		start[i] = next;
		cursor[i] = next;
		if (r->nodes[i].type == IMAP_ARG_LIST)
			next += r->nodes[i].nchild;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct imap_reader_node *nd = &r->nodes[i];
		unsigned pos = nd->parent < 0 ? root_cursor++ :
			cursor[nd->parent]++;
		struct imap_arg *a = &r->out[pos];

		a->type = nd->type;
		a->s = nd->type == IMAP_ARG_LIST ? "" : r->data.s + nd->off;
		a->len = nd->len;
		a->literal = nd->literal;
		a->binary = nd->binary;
		a->n = nd->type == IMAP_ARG_LIST ? nd->nchild : 0;
		a->list = a->n > 0 ? &r->out[start[i]] : NULL;
	}
	free(start);
	free(cursor);
	cmd->args = r->out;
}

/* ---- tokens ----------------------------------------------------------- */

static int imap_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' &&
	       c != '"';
}

static int imap_section_prefix(const char *p, size_t n)
{
	static const char *const names[] = {
		"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncasecmp(p, names[i], n) == 0)
			return 1;
	return 0;
}

/* From p[i] == '[' to just past its matching ']'; 0 if there is none. */
static size_t imap_section_end(const char *p, size_t n, size_t i)
{
	unsigned depth = 0;

	for (; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c >= 0x7f)
			return 0;
		if (c == '"') {
			for (i++; i < n && p[i] != '"'; i++) {
				if (p[i] == '\\' && i + 1 < n)
					i++;
				if ((unsigned char)p[i] < 0x20 ||
				    (unsigned char)p[i] >= 0x7f)
					return 0;
			}
			if (i >= n)
				return 0;
		} else if (c == '[') {
			depth++;
		} else if (c == ']' && --depth == 0) {
			return i + 1;
		}
	}
	return 0;
}

static int imap_parse_atom(struct imap_reader *r)
{
	const char *p = r->line.s;
	size_t n = r->line.len, start = r->pos, i = r->pos, off;
	int bracket_done = 0;
	enum imap_arg_type type = IMAP_ARG_ATOM;
	unsigned idx;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (c == '[' && !bracket_done &&
		    imap_section_prefix(p + start, i - start)) {
			size_t end = imap_section_end(p, n, i);

			if (end == 0) {
				r->error = "Invalid or unterminated section";
				return -1;
			}
			i = end;
			bracket_done = 1;
			continue;
		}
		if (!imap_atom_char(c))
			break;
		i++;
	}
	if (i < n && (unsigned char)p[i] >= 0x80) {
		r->error = "8-bit byte in an atom";
		return -1;
	}
	if (i - start == 3 && strncasecmp(p + start, "NIL", 3) == 0)
		type = IMAP_ARG_NIL;
	if (imap_reader_text(r, p + start, i - start, &off) < 0 ||
	    imap_reader_add(r, type, off, i - start, &idx) < 0)
		return -1;
	r->pos = i;
	return 0;
}

static int imap_parse_quoted(struct imap_reader *r)
{
	const unsigned char *p = (const unsigned char *)r->line.s;
	size_t n = r->line.len, i = r->pos + 1, off = r->data.len, len = 0;
	uint32_t cp;

	for (;;) {
		size_t run = i, u;

		while (i < n && p[i] != '"' && p[i] != '\\' && p[i] >= 0x20 &&
		       p[i] < 0x7f)
			i++;
		if (str_append(&r->data, p + run, i - run) < 0)
			goto toolong;
		len += i - run;
		if (i >= n) {
			r->error = "Unterminated quoted string";
			return -1;
		}
		if (p[i] == '"')
			break;
		if (p[i] == '\\') {
			if (i + 1 >= n || (p[i + 1] != '"' && p[i + 1] != '\\')) {
				r->error = "Invalid escape in quoted string";
				return -1;
			}
			if (str_appendc(&r->data, (char)p[i + 1]) < 0)
				goto toolong;
			len++;
			i += 2;
			continue;
		}
		u = p[i] >= 0x80 ? imap_utf8_decode(p + i, n - i, &cp) : 0;
		if (u == 0) {
			r->error = p[i] >= 0x80 ?
				"Invalid UTF-8 in quoted string" :
				"Control character in quoted string";
			return -1;
		}
		if (str_append(&r->data, p + i, u) < 0)
			goto toolong;
		len += u;
		i += u;
	}
	if (str_appendc(&r->data, '\0') < 0)
		goto toolong;
	r->pos = i + 1;
	return imap_reader_add(r, IMAP_ARG_STRING, off, len, NULL);
toolong:
	r->error = "Command too long";
	r->error_toobig = 1;
	return -1;
}

/* A literal's announcement at r->pos; it must end the line. */
static int imap_parse_literal_head(struct imap_reader *r,
				   struct imap_literal *lit)
{
	const char *p = r->line.s;
	size_t n = r->line.len, i = r->pos;
	uint64_t v = 0;
	size_t digits = 0;

	memset(lit, 0, sizeof(*lit));
	lit->sync = 1;
	if (p[i] == '~') {
		lit->binary = 1;
		i++;
	}
	i++;	/* '{' */
	while (i < n && p[i] >= '0' && p[i] <= '9') {
		v = v * 10 + (uint64_t)(p[i] - '0');
		if (++digits > 10 || v > UINT32_MAX) {
			r->error = "Literal size too large";
			return -1;
		}
		i++;
	}
	if (i < n && p[i] == '+') {
		lit->sync = 0;
		i++;
	}
	if (digits == 0 || i >= n || p[i] != '}') {
		r->error = "Invalid literal";
		return -1;
	}
	if (i + 1 != n) {
		r->error = "Literal must end the line";
		return -1;
	}
	lit->present = 1;
	lit->size = v;
	r->pos = n;
	return 0;
}

/* Parse tokens from r->pos to the end of the line. */
static enum imap_line_end imap_parse_tokens(struct imap_reader *r,
					     struct imap_literal *lit)
{
	const char *p = r->line.s;
	size_t n = r->line.len;

	while (r->pos < n) {
		unsigned char c = (unsigned char)p[r->pos];

		if (c == ' ') {
			r->pos++;
			r->after_token = 0;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			r->error = "Invalid character";
			return LINE_FAIL;
		}
		if (r->after_token && c != ')') {
			r->error = "Missing space between arguments";
			return LINE_FAIL;
		}
		if (c == '(') {
			unsigned idx;

			if (r->depth >= r->lim.depth_max) {
				r->error = "Too deeply nested lists";
				return LINE_FAIL;
			}
			if (imap_reader_add(r, IMAP_ARG_LIST, r->data.len, 0,
					    &idx) < 0)
				return LINE_FAIL;
			if (r->open == NULL)
				r->open = xreallocarray(NULL, r->lim.depth_max,
							sizeof(*r->open));
			r->open[r->depth++] = idx;
			r->pos++;
			continue;
		}
		if (c == ')') {
			if (r->depth == 0) {
				r->error = "Unexpected )";
				return LINE_FAIL;
			}
			r->depth--;
			r->pos++;
			r->after_token = 1;
			continue;
		}
		if (c == '{' || (c == '~' && r->pos + 1 < n &&
				 p[r->pos + 1] == '{')) {
			if (imap_parse_literal_head(r, lit) < 0)
				return LINE_FAIL;
			return LINE_LITERAL;
		}
		if (c == '"') {
			if (imap_parse_quoted(r) < 0)
				return LINE_FAIL;
		} else if (imap_atom_char(c)) {
			if (imap_parse_atom(r) < 0)
				return LINE_FAIL;
		} else {
			r->error = c >= 0x80 ? "8-bit byte outside a string" :
				"Invalid character";
			return LINE_FAIL;
		}
		r->after_token = 1;
	}
	if (r->depth > 0) {
		r->error = "Missing )";
		return LINE_FAIL;
	}
	return LINE_DONE;
}

/* ---- the command's head ----------------------------------------------- */

static int imap_tag_char(unsigned char c)
{
	return imap_atom_char(c) && c != '%' && c != '*' && c != '\\' &&
	       c != '+';
}

static int imap_name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* A word of the head at r->pos into buf (upper-cased); -1 if invalid. */
static int imap_parse_name(struct imap_reader *r, char *buf, size_t size)
{
	const char *p = r->line.s;
	size_t n = r->line.len, i = r->pos, len = 0;

	while (i < n && imap_name_char((unsigned char)p[i])) {
		if (len + 1 >= size)
			return -1;
		buf[len++] = (p[i] >= 'a' && p[i] <= 'z') ? p[i] - 32 : p[i];
		i++;
	}
	buf[len] = '\0';
	if (len == 0 || (i < n && p[i] != ' '))
		return -1;
	r->pos = i;
	return 0;
}

static int imap_parse_head(struct imap_reader *r, struct imap_command *cmd)
{
	const char *p = r->line.s;
	size_t n = r->line.len, i = 0;

	while (i < n && imap_tag_char((unsigned char)p[i]))
		i++;
	if (i == 0 || i > IMAP_TAG_MAX || (i < n && p[i] != ' ')) {
		r->error = n == 0 ? "Empty command line" : "Invalid tag";
		return -1;
	}
	memcpy(cmd->tag, p, i);
	cmd->tag[i] = '\0';
	if (r->line_toolong)
		return 0;
	if (i >= n) {
		r->error = "Missing command";
		return -1;
	}
	r->pos = i + 1;
	if (imap_parse_name(r, cmd->name, sizeof(cmd->name)) < 0) {
		r->error = "Invalid command name";
		cmd->name[0] = '\0';
		return -1;
	}
	if (strcmp(cmd->name, "UID") == 0) {
		if (r->pos >= n) {
			r->error = "Missing command after UID";
			return -1;
		}
		r->pos++;
		cmd->uid = 1;
		if (imap_parse_name(r, cmd->name, sizeof(cmd->name)) < 0) {
			r->error = "Invalid command name";
			cmd->name[0] = '\0';
			return -1;
		}
	}
	r->in_append = !cmd->uid && strcmp(cmd->name, "APPEND") == 0;
	return 0;
}

/* ---- literals --------------------------------------------------------- */

static int imap_reader_send_continue(struct imap_reader *r)
{
	int ior = io_write(r->io, imap_continue_text,
			   sizeof(imap_continue_text) - 1);

	if (ior == IO_OK)
		ior = io_flush(r->io);
	return imap_io_result(ior);
}

/* Read an accepted literal into r->data as a STRING argument. */
static int imap_reader_inline_literal(struct imap_reader *r,
				      const struct imap_literal *lit)
{
	uint64_t left = lit->size;
	size_t off = r->data.len;
	char buf[4096];
	int nul = 0, rc;

	if (lit->sync && (rc = imap_reader_send_continue(r)) != IMAP_READ_OK)
		return rc;
	while (left > 0) {
		size_t got;
		int ior = io_read(r->io, buf, left < sizeof(buf) ? left :
				  sizeof(buf), &got);

		if (ior != IO_OK)
			return imap_io_result(ior);
		if (!lit->binary && memchr(buf, '\0', got) != NULL)
			nul = 1;
		/* the size was checked against command_max */
		if (str_append(&r->data, buf, got) < 0)
			return IMAP_READ_ERR;
		left -= got;
	}
	if (str_appendc(&r->data, '\0') < 0)
		return IMAP_READ_ERR;
	if (nul) {
		r->error = "NUL in a literal";
		return IMAP_READ_BAD;
	}
	if (imap_reader_add(r, IMAP_ARG_STRING, off, lit->size, NULL) < 0)
		return IMAP_READ_BAD;
	r->nodes[r->nnodes - 1].literal = 1;
	r->nodes[r->nnodes - 1].binary = lit->binary;
	return IMAP_READ_OK;
}

/* After a literal was read in full and refused: drain what follows. */
static int imap_reader_fail_after_literal(struct imap_reader *r, int result)
{
	const char *why = r->error;
	int rc = imap_reader_getline(r, NULL);

	if (rc != IMAP_READ_OK)
		return rc;
	return imap_reader_fail(r, result, why);
}

/* Is this literal APPEND's message (streamed, never in memory)? */
static int imap_reader_literal_streamed(const struct imap_reader *r)
{
	return r->in_append && r->depth == 0 && (r->continuing || r->ntop >= 1);
}

/* ---- the loop --------------------------------------------------------- */

static void imap_reader_reset_args(struct imap_reader *r)
{
	str_clear(&r->data);
	r->error_toobig = 0;
	r->nnodes = 0;
	r->depth = 0;
	r->ntop = 0;
}

/* Parse the current line (from r->pos) and the lines after its literals
 * until the command or the part of it before APPEND's message ends. */
static int imap_reader_parse(struct imap_reader *r, struct imap_command *cmd)
{
	for (;;) {
		struct imap_literal lit;
		enum imap_line_end end;
		int rc;

		if (r->line_toolong)
			return imap_reader_fail(r, IMAP_READ_TOOBIG,
						"Command line too long");
		end = imap_parse_tokens(r, &lit);
		if (end == LINE_FAIL)
			return imap_reader_fail(r, r->error_toobig ?
				IMAP_READ_TOOBIG : IMAP_READ_BAD, r->error);
		if (end == LINE_DONE) {
			imap_reader_finish(r, cmd);
			return IMAP_READ_OK;
		}
		if (!lit.sync && r->literal_minus &&
		    lit.size > IMAP_LITERAL_MINUS_MAX)
			return imap_reader_fail(r, IMAP_READ_TOOBIG,
				"Non-synchronizing literal over 4096 bytes "
				"(LITERAL-)");
		if (imap_reader_literal_streamed(r)) {
			if (r->lim.append_max != 0 &&
			    lit.size > r->lim.append_max)
				return imap_reader_fail(r, IMAP_READ_TOOBIG,
							"Message too big");
			imap_reader_finish(r, cmd);
			cmd->literal_pending = 1;
			cmd->literal_size = lit.size;
			cmd->literal_sync = lit.sync;
			cmd->literal_binary = lit.binary;
			r->literal_active = 1;
			r->literal_started = !lit.sync;
			r->literal_left = lit.size;
			return IMAP_READ_OK;
		}
		if (lit.size > r->lim.literal_max ||
		    (r->lim.command_max != 0 &&
		     lit.size + 1 > r->lim.command_max - r->data.len))
			return imap_reader_fail(r, IMAP_READ_TOOBIG,
						"Literal too big");
		rc = imap_reader_inline_literal(r, &lit);
		if (rc == IMAP_READ_BAD)
			return imap_reader_fail_after_literal(r, IMAP_READ_BAD);
		if (rc != IMAP_READ_OK)
			return rc;
		rc = imap_reader_getline(r, NULL);
		if (rc != IMAP_READ_OK)
			return rc;
		r->after_token = 1;
	}
}

static void imap_command_clear(struct imap_command *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->tag[0] = '*';
}

int imap_read_command(struct imap_reader *r, struct imap_command *cmd)
{
	int rc;

	if (r->literal_active) {
		rc = imap_reader_literal_skip(r);
		if (rc != IMAP_READ_OK)
			return rc;
	}
	imap_command_clear(cmd);
	imap_reader_shrink(r);
	imap_reader_reset_args(r);
	r->error = "";
	r->must_close = 0;
	r->continuing = 0;
	r->in_append = 0;
	r->after_token = 0;
	rc = imap_reader_getline(r, NULL);
	if (rc != IMAP_READ_OK)
		return rc;
	if (imap_parse_head(r, cmd) < 0)
		return imap_reader_fail(r, IMAP_READ_BAD, r->error);
	r->after_token = 1;
	return imap_reader_parse(r, cmd);
}

int imap_read_continue(struct imap_reader *r, struct imap_command *cmd)
{
	int rc;

	if (!r->literal_active || r->literal_left > 0 ||
	    !r->literal_started) {
		errno = EINVAL;
		return IMAP_READ_ERR;
	}
	r->literal_active = 0;
	cmd->literal_pending = 0;
	cmd->literal_size = 0;
	cmd->args = NULL;
	cmd->nargs = 0;
	imap_reader_reset_args(r);
	r->continuing = 1;
	rc = imap_reader_getline(r, NULL);
	if (rc != IMAP_READ_OK)
		return rc;
	r->after_token = 1;
	return imap_reader_parse(r, cmd);
}

int imap_reader_literal_read(struct imap_reader *r, void *buf, size_t n,
			     size_t *got_r)
{
	int rc, ior;

	*got_r = 0;
	if (!r->literal_active || r->literal_left == 0 || n == 0) {
		if (r->literal_active && !r->literal_started) {
			/* a zero-length literal still needs its "+" */
			rc = imap_reader_send_continue(r);
			if (rc != IMAP_READ_OK)
				return rc;
			r->literal_started = 1;
		}
		return IMAP_READ_OK;
	}
	if (!r->literal_started) {
		rc = imap_reader_send_continue(r);
		if (rc != IMAP_READ_OK)
			return rc;
		r->literal_started = 1;
	}
	if (n > r->literal_left)
		n = (size_t)r->literal_left;
	ior = io_read(r->io, buf, n, got_r);
	if (ior != IO_OK)
		return imap_io_result(ior);
	r->literal_left -= *got_r;
	return IMAP_READ_OK;
}

int imap_reader_literal_skip(struct imap_reader *r)
{
	uint64_t budget = r->lim.drain_max;
	int rc;

	if (!r->literal_active)
		return IMAP_READ_OK;
	r->literal_active = 0;
	if (!r->literal_started)
		return IMAP_READ_OK;
	r->error = "Too much to skip";
	rc = imap_reader_discard(r, r->literal_left, &budget);
	r->literal_left = 0;
	if (rc != IMAP_READ_OK)
		return rc;
	rc = imap_reader_getline(r, NULL);
	if (rc != IMAP_READ_OK)
		return rc;
	return imap_reader_drain(r);
}

int imap_reader_read_line(struct imap_reader *r, const char **line_r,
			  size_t *len_r)
{
	int rc = imap_reader_getline(r, NULL);

	*line_r = "";
	*len_r = 0;
	if (rc != IMAP_READ_OK)
		return rc;
	if (r->line_toolong) {
		r->error = "Line too long";
		return IMAP_READ_TOOBIG;
	}
	*line_r = str_c(&r->line);
	*len_r = r->line.len;
	return IMAP_READ_OK;
}

/* ---- typed access ----------------------------------------------------- */

int imap_arg_astring(const struct imap_arg *a, const char **s_r,
		     size_t *len_r)
{
	if (a->type == IMAP_ARG_LIST)
		return 0;
	*s_r = a->s;
	*len_r = a->len;
	return 1;
}

int imap_arg_nstring(const struct imap_arg *a, const char **s_r,
		     size_t *len_r)
{
	if (a->type == IMAP_ARG_NIL) {
		*s_r = NULL;
		*len_r = 0;
		return 1;
	}
	if (a->type != IMAP_ARG_STRING)
		return 0;
	*s_r = a->s;
	*len_r = a->len;
	return 1;
}

int imap_arg_atom_is(const struct imap_arg *a, const char *word)
{
	size_t n = strlen(word);

	return (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) &&
	       a->len == n && strncasecmp(a->s, word, n) == 0;
}

int imap_arg_number(const struct imap_arg *a, uint64_t max, uint64_t *v_r)
{
	uint64_t v = 0;

	if (a->type != IMAP_ARG_ATOM || a->len == 0 || a->len > 20)
		return 0;
	for (size_t i = 0; i < a->len; i++) {
		unsigned d;

		if (a->s[i] < '0' || a->s[i] > '9')
			return 0;
		d = (unsigned)(a->s[i] - '0');
		if (d > max || v > (max - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*v_r = v;
	return 1;
}
