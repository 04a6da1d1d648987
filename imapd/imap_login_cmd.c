/*
 * imap_login_cmd - framing and parsing of the commands before login
 *                  (imap_login_cmd.h)
 */
#include "imap_login_cmd.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum imap_login_verb verb;
} verbs[] = {
	{ "CAPABILITY", IMAP_LOGIN_CAPABILITY },
	{ "NOOP", IMAP_LOGIN_NOOP },
	{ "LOGOUT", IMAP_LOGIN_LOGOUT },
	{ "STARTTLS", IMAP_LOGIN_STARTTLS },
	{ "LOGIN", IMAP_LOGIN_LOGIN },
	{ "AUTHENTICATE", IMAP_LOGIN_AUTHENTICATE },
	{ "ID", IMAP_LOGIN_ID },
	{ "ENABLE", IMAP_LOGIN_ENABLE },
	/* RFC 9051 and the extensions postern-imap offers */
	{ "SELECT", IMAP_LOGIN_LATER }, { "EXAMINE", IMAP_LOGIN_LATER },
	{ "CREATE", IMAP_LOGIN_LATER }, { "DELETE", IMAP_LOGIN_LATER },
	{ "RENAME", IMAP_LOGIN_LATER }, { "SUBSCRIBE", IMAP_LOGIN_LATER },
	{ "UNSUBSCRIBE", IMAP_LOGIN_LATER }, { "LIST", IMAP_LOGIN_LATER },
	{ "LSUB", IMAP_LOGIN_LATER }, { "NAMESPACE", IMAP_LOGIN_LATER },
	{ "STATUS", IMAP_LOGIN_LATER }, { "APPEND", IMAP_LOGIN_LATER },
	{ "IDLE", IMAP_LOGIN_LATER }, { "CHECK", IMAP_LOGIN_LATER },
	{ "CLOSE", IMAP_LOGIN_LATER }, { "UNSELECT", IMAP_LOGIN_LATER },
	{ "EXPUNGE", IMAP_LOGIN_LATER }, { "SEARCH", IMAP_LOGIN_LATER },
	{ "FETCH", IMAP_LOGIN_LATER }, { "STORE", IMAP_LOGIN_LATER },
	{ "COPY", IMAP_LOGIN_LATER }, { "MOVE", IMAP_LOGIN_LATER },
	{ "UID", IMAP_LOGIN_LATER }, { "SORT", IMAP_LOGIN_LATER },
	{ "THREAD", IMAP_LOGIN_LATER },
};

/* ATOM-CHAR: 0x21-0x7e but atom-specials ( ) { SP CTL % * " \ ] */
static int atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

static int astring_char(unsigned char c)
{
	return c == ']' || atom_char(c);
}

int imap_login_tag_valid(const char *p, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '+' || !astring_char((unsigned char)p[i]))
			return 0;
	return 1;
}

size_t imap_login_cmd_tag(const char *p, size_t n)
{
	size_t k = 0;

	while (k < n && p[k] != '+' && astring_char((unsigned char)p[k]))
		k++;
	if (k == 0 || k == n || (p[k] != ' ' && p[k] != '\r' && p[k] != '\n'))
		return 0;
	return k;
}

/* A literal's announcement "{N}" or "{N+}" and its line end at p[i] ==
 * '{': the index after the LF, with *size_r and *sync_r; 0 if p[i..n) does
 * not start with one. */
static size_t literal_head(const char *p, size_t n, size_t i,
			   uint64_t *size_r, int *sync_r)
{
	uint64_t v = 0;
	size_t j = i + 1, digits = 0;

	while (j < n && p[j] >= '0' && p[j] <= '9' && digits < 19) {
		v = v * 10 + (uint64_t)(p[j] - '0');
		j++;
		digits++;
	}
	if (digits == 0)
		return 0;
	*sync_r = 1;
	if (j < n && p[j] == '+') {
		*sync_r = 0;
		j++;
	}
	if (j >= n || p[j] != '}')
		return 0;
	j++;
	if (j < n && p[j] == '\r')
		j++;
	if (j >= n || p[j] != '\n')
		return 0;
	*size_r = v;
	return j + 1;
}

int imap_login_cmd_frame(const char *p, size_t n, uint64_t *size_r,
			 int *sync_r)
{
	size_t i = 0, next;
	int quoted = 0;

	while (i < n) {
		char c = p[i];

		if (c == '\n') {		/* a string ends with its line */
			quoted = 0;
		} else if (quoted) {
			if (c == '\\' && i + 1 < n && p[i + 1] != '\n')
				i++;
			else if (c == '"')
				quoted = 0;
		} else if (c == '"') {
			quoted = 1;
		} else if (c == '{' &&
			   (next = literal_head(p, n, i, size_r, sync_r)) != 0) {
			if (next == n)
				return IMAP_FRAME_LITERAL;
			if (*size_r > n - next)	/* not the reader's doing */
				return IMAP_FRAME_DONE;
			i = next + (size_t)*size_r;
			continue;
		}
		i++;
	}
	return IMAP_FRAME_DONE;
}

struct parser {
	const char *p;
	size_t n, i;
	struct imap_login_cmd *cmd;
	size_t out;			/* bytes of cmd->buf used */
	const char *error;
};

static int fail(struct parser *ps, const char *error)
{
	if (ps->error == NULL)
		ps->error = error;
	return -1;
}

static int peek(const struct parser *ps)
{
	return ps->i < ps->n ? (unsigned char)ps->p[ps->i] : -1;
}

/* At the command's line end, the last bytes of the input. */
static int at_end(const struct parser *ps)
{
	size_t left = ps->n - ps->i;

	return (left == 1 && ps->p[ps->i] == '\n') ||
	       (left == 2 && ps->p[ps->i] == '\r' && ps->p[ps->i + 1] == '\n');
}

static int put(struct parser *ps, char c)
{
	if (ps->out >= sizeof(ps->cmd->buf))
		return fail(ps, "Command line too long.");
	ps->cmd->buf[ps->out++] = c;
	return 0;
}

static int add_arg(struct parser *ps, enum imap_login_arg_type type,
		   size_t start)
{
	struct imap_login_cmd *cmd = ps->cmd;
	struct imap_login_arg *a;

	if (cmd->nargs == IMAP_LOGIN_ARGS_MAX)
		return fail(ps, "Too many arguments.");
	a = &cmd->arg[cmd->nargs++];
	a->type = type;
	if (type == IMAP_ARG_LIST_OPEN || type == IMAP_ARG_LIST_CLOSE) {
		a->s = "";
		a->len = 0;
		return 0;
	}
	a->s = cmd->buf + start;
	a->len = ps->out - start;
	return put(ps, '\0');
}

static int parse_atom(struct parser *ps)
{
	size_t start = ps->out;

	while (peek(ps) >= 0 && astring_char((unsigned char)peek(ps)))
		if (put(ps, ps->p[ps->i++]) < 0)
			return -1;
	return add_arg(ps, IMAP_ARG_ATOM, start);
}

static int parse_quoted(struct parser *ps)
{
	size_t start = ps->out;
	int c;

	ps->i++;
	while ((c = peek(ps)) != '"') {
		if (c < 0 || c == '\n')
			return fail(ps, "Unterminated quoted string.");
		if (c == '\r' || c == '\0')
			return fail(ps, "Invalid character in quoted string.");
		if (c == '\\') {
			ps->i++;
			c = peek(ps);
			if (c != '"' && c != '\\')
				return fail(ps, "Invalid escape in quoted "
					    "string.");
		}
		if (put(ps, (char)c) < 0)
			return -1;
		ps->i++;
	}
	ps->i++;
	return add_arg(ps, IMAP_ARG_STRING, start);
}

static int parse_literal(struct parser *ps)
{
	size_t start = ps->out, next;
	uint64_t size;
	int sync;

	next = literal_head(ps->p, ps->n, ps->i, &size, &sync);
	if (next == 0)
		return fail(ps, "Invalid literal.");
	if (size > ps->n - next)
		return fail(ps, "Incomplete literal.");
	if (memchr(ps->p + next, '\0', (size_t)size) != NULL)
		return fail(ps, "NUL in literal.");
	for (size_t k = 0; k < (size_t)size; k++)
		if (put(ps, ps->p[next + k]) < 0)
			return -1;
	ps->i = next + (size_t)size;
	return add_arg(ps, IMAP_ARG_STRING, start);
}

static int parse_arg(struct parser *ps, int in_list);

static int parse_list(struct parser *ps)
{
	ps->i++;
	if (add_arg(ps, IMAP_ARG_LIST_OPEN, 0) < 0)
		return -1;
	if (peek(ps) != ')') {
		for (;;) {
			if (parse_arg(ps, 1) < 0)
				return -1;
			if (peek(ps) == ')')
				break;
			if (peek(ps) != ' ')
				return fail(ps, "Missing ')'.");
			ps->i++;
		}
	}
	ps->i++;
	return add_arg(ps, IMAP_ARG_LIST_CLOSE, 0);
}

static int parse_arg(struct parser *ps, int in_list)
{
	int c = peek(ps);

	if (c == '"')
		return parse_quoted(ps);
	if (c == '{')
		return parse_literal(ps);
	if (c == '(' && in_list)
		return fail(ps, "Nested list.");
	if (c == '(')
		return parse_list(ps);
	if (c >= 0 && astring_char((unsigned char)c))
		return parse_atom(ps);
	return fail(ps, "Invalid argument.");
}

static int parse_tag(struct parser *ps)
{
	struct imap_login_cmd *cmd = ps->cmd;
	size_t start = ps->out;

	while (peek(ps) >= 0 && peek(ps) != '+' &&
	       astring_char((unsigned char)peek(ps)))
		if (put(ps, ps->p[ps->i++]) < 0)
			return -1;
	if (ps->out == start)
		return fail(ps, at_end(ps) ? "Empty command line." :
			    "Invalid tag.");
	if (peek(ps) != ' ' && !at_end(ps))
		return fail(ps, "Invalid tag.");
	cmd->tag = cmd->buf + start;
	cmd->tag_len = ps->out - start;
	return put(ps, '\0');
}

static int parse_name(struct parser *ps)
{
	struct imap_login_cmd *cmd = ps->cmd;
	size_t start;

	if (peek(ps) != ' ')
		return fail(ps, "Missing command.");
	ps->i++;
	start = ps->out;
	while (peek(ps) >= 0 && atom_char((unsigned char)peek(ps)))
		if (put(ps, ps->p[ps->i++]) < 0)
			return -1;
	if (ps->out == start || (peek(ps) != ' ' && !at_end(ps)))
		return fail(ps, "Invalid command name.");
	if (put(ps, '\0') < 0)
		return -1;
	cmd->name = cmd->buf + start;
	for (size_t k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++)
		if (strcasecmp(cmd->name, verbs[k].name) == 0)
			cmd->verb = verbs[k].verb;
	return 0;
}

static int is_nil(const struct imap_login_arg *a)
{
	return a->type == IMAP_ARG_ATOM && strcasecmp(a->s, "NIL") == 0;
}

static int astring(const struct imap_login_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_STRING;
}

/* RFC 2971: ID NIL, or ( field value ... ) */
static int check_id(struct parser *ps)
{
	const struct imap_login_cmd *cmd = ps->cmd;
	const struct imap_login_arg *a = cmd->arg;
	unsigned n = cmd->nargs;

	if (n == 1 && is_nil(&a[0]))
		return 0;
	if (n < 2 || a[0].type != IMAP_ARG_LIST_OPEN ||
	    a[n - 1].type != IMAP_ARG_LIST_CLOSE || n % 2 != 0)
		return fail(ps, "Invalid ID parameters.");
	if ((n - 2) / 2 > IMAP_LOGIN_ID_PAIRS_MAX)
		return fail(ps, "Too many ID fields.");
	for (unsigned k = 1; k + 1 < n; k += 2) {
		if (a[k].type != IMAP_ARG_STRING ||
		    a[k].len > IMAP_LOGIN_ID_FIELD_MAX)
			return fail(ps, "Invalid ID field name.");
		if (!is_nil(&a[k + 1]) && (a[k + 1].type != IMAP_ARG_STRING ||
		    a[k + 1].len > IMAP_LOGIN_ID_VALUE_MAX))
			return fail(ps, "Invalid ID field value.");
	}
	return 0;
}

static int check_args(struct parser *ps)
{
	const struct imap_login_cmd *cmd = ps->cmd;
	const struct imap_login_arg *a = cmd->arg;

	switch (cmd->verb) {
	case IMAP_LOGIN_CAPABILITY:
	case IMAP_LOGIN_NOOP:
	case IMAP_LOGIN_LOGOUT:
	case IMAP_LOGIN_STARTTLS:
		return cmd->nargs == 0 ? 0 : fail(ps, "Unexpected arguments.");
	case IMAP_LOGIN_LOGIN:
		if (cmd->nargs != 2 || !astring(&a[0]) || !astring(&a[1]))
			return fail(ps, "LOGIN needs a user name and a "
				    "password.");
		return 0;
	case IMAP_LOGIN_AUTHENTICATE:
		if (cmd->nargs < 1 || cmd->nargs > 2 ||
		    a[0].type != IMAP_ARG_ATOM ||
		    (cmd->nargs == 2 && a[1].type != IMAP_ARG_ATOM))
			return fail(ps, "AUTHENTICATE needs a mechanism and "
				    "at most an initial response.");
		return 0;
	case IMAP_LOGIN_ID:
		return check_id(ps);
	default:
		return 0;
	}
}

int imap_login_cmd_parse(const char *p, size_t n, struct imap_login_cmd *cmd,
			 const char **error_r)
{
	struct parser ps = { p, n, 0, cmd, 0, NULL };

	cmd->tag = NULL;
	cmd->tag_len = 0;
	cmd->name = NULL;
	cmd->verb = IMAP_LOGIN_UNKNOWN;
	cmd->nargs = 0;
	if (n > IMAP_LOGIN_CMD_MAX)
		fail(&ps, "Command line too long.");
	else if (parse_tag(&ps) == 0 && parse_name(&ps) == 0) {
		/* the arguments of the commands taken here; the others are
		 * refused whatever they carry */
		switch (cmd->verb) {
		case IMAP_LOGIN_UNKNOWN:
		case IMAP_LOGIN_ENABLE:
		case IMAP_LOGIN_LATER:
			return 0;
		default:
			break;
		}
		while (!at_end(&ps)) {
			if (peek(&ps) != ' ') {
				fail(&ps, "Invalid characters after the "
				     "arguments.");
				break;
			}
			ps.i++;
			if (parse_arg(&ps, 0) < 0)
				break;
		}
		if (ps.error == NULL)
			check_args(&ps);
	}
	*error_r = ps.error;
	return ps.error == NULL ? 0 : -1;
}

void imap_login_cmd_wipe(struct imap_login_cmd *cmd)
{
	explicit_bzero(cmd->buf, sizeof(cmd->buf));
	cmd->tag = NULL;
	cmd->tag_len = 0;
	cmd->name = NULL;
	cmd->nargs = 0;
}
