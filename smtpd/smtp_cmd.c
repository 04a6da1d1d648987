/*
 * smtp_cmd - parse one SMTP command line; see smtp_cmd.h
 *
 * A line is checked as a whole first (length, control characters), then
 * trailing spaces are dropped, the verb is matched case-insensitively and
 * the arguments, after one or more spaces, go to the verb's parser:
 *
 *   MAIL FROM:<path> [SP param ...]     (a space after the colon is allowed)
 *   RCPT TO:<path> [SP param ...]
 *   HELO/EHLO SP hostname               BDAT SP size [SP LAST]
 *   AUTH SP mech [SP initial-response]  VRFY/HELP/NOOP [SP anything]
 *   DATA, RSET, QUIT, STARTTLS          (no argument)
 *
 * MAIL and RCPT parameters are looked up in one table; each parameter may
 * appear once (a bit in cmd->params), so their number is bounded by the
 * table. Every error message is a static string.
 */
#include <string.h>
#include <strings.h>

#include "smtp_cmd.h"

#include "mail/dsn_param.h"

struct verb_def {
	const char *name;
	enum smtp_verb verb;
};

static const struct verb_def verbs[] = {
	{ "HELO", SMTP_HELO }, { "EHLO", SMTP_EHLO }, { "MAIL", SMTP_MAIL },
	{ "RCPT", SMTP_RCPT }, { "DATA", SMTP_DATA }, { "BDAT", SMTP_BDAT },
	{ "RSET", SMTP_RSET }, { "NOOP", SMTP_NOOP }, { "QUIT", SMTP_QUIT },
	{ "VRFY", SMTP_VRFY }, { "HELP", SMTP_HELP },
	{ "STARTTLS", SMTP_STARTTLS }, { "AUTH", SMTP_AUTH },
};

#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

typedef int param_fn(struct smtp_cmd *cmd, const char *v, size_t vlen,
		     int has_v, unsigned flags, const char **error_r);

struct param_def {
	const char *name;
	enum smtp_verb verb;
	unsigned bit;
	param_fn *fn;
};

static int cmd_fail(struct smtp_cmd *cmd, int code, const char *enhanced,
		    const char *msg, const char **error_r)
{
	cmd->code = code;
	cmd->enhanced = enhanced;
	if (error_r != NULL)
		*error_r = msg;
	return -1;
}

static int syntax_fail(struct smtp_cmd *cmd, const char *msg,
		       const char **error_r)
{
	return cmd_fail(cmd, 501, "5.5.4", msg, error_r);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int has_8bit(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	}
	return 0;
}

/* Case-insensitive: s[0..n) equals the word exactly. */
static int word_eq(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

static size_t token_end(const char *s, size_t pos, size_t len)
{
	while (pos < len && s[pos] != ' ')
		pos++;
	return pos;
}

static size_t skip_spaces(const char *s, size_t pos, size_t len)
{
	while (pos < len && s[pos] == ' ')
		pos++;
	return pos;
}

/* Decimal digits only, no sign; -1 if empty or not digits, -2 on
 * overflow of uint64_t. */
static int u64_parse(const char *s, size_t n, uint64_t *v_r)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -2;
		v = v * 10 + d;
	}
	*v_r = v;
	return 0;
}

static int base64_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n % 4 != 0)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '=') {
			if (i < n - 2 || (i == n - 2 && s[n - 1] != '='))
				return 0;
		} else if (!is_alnum(c) && c != '+' && c != '/') {
			return 0;
		}
	}
	return 1;
}

/* Copy s[0..n) into cmd->arg (n <= SMTP_CMD_LINE_MAX by line_check). */
static void arg_store(struct smtp_cmd *cmd, const char *s, size_t n)
{
	memcpy(cmd->arg, s, n);
	cmd->arg[n] = '\0';
	cmd->arg_len = n;
}

/* ---- MAIL and RCPT parameters ----------------------------------------- */

static int param_size(struct smtp_cmd *cmd, const char *v, size_t vlen,
		      int has_v, unsigned flags, const char **error_r)
{
	int r = has_v ? u64_parse(v, vlen, &cmd->size) : -1;

	(void)flags;
	if (r == -2)
		return syntax_fail(cmd, "SIZE value out of range", error_r);
	if (r < 0)
		return syntax_fail(cmd, "invalid SIZE value", error_r);
	cmd->has_size = 1;
	return 0;
}

static int param_body(struct smtp_cmd *cmd, const char *v, size_t vlen,
		      int has_v, unsigned flags, const char **error_r)
{
	(void)flags;
	if (has_v && word_eq(v, vlen, "7BIT"))
		cmd->body = SMTP_BODY_7BIT;
	else if (has_v && word_eq(v, vlen, "8BITMIME"))
		cmd->body = SMTP_BODY_8BITMIME;
	else if (has_v && word_eq(v, vlen, "BINARYMIME"))
		cmd->body = SMTP_BODY_BINARYMIME;
	else
		return syntax_fail(cmd, "BODY must be 7BIT, 8BITMIME or "
				   "BINARYMIME", error_r);
	return 0;
}

static int param_smtputf8(struct smtp_cmd *cmd, const char *v, size_t vlen,
			  int has_v, unsigned flags, const char **error_r)
{
	(void)v;
	(void)vlen;
	if ((flags & SMTP_CMD_ALLOW_UTF8) == 0)
		return cmd_fail(cmd, 555, "5.5.4", "unsupported parameter "
				"SMTPUTF8", error_r);
	if (has_v)
		return syntax_fail(cmd, "SMTPUTF8 takes no value", error_r);
	cmd->smtputf8 = 1;
	return 0;
}

static int param_auth(struct smtp_cmd *cmd, const char *v, size_t vlen,
		      int has_v, unsigned flags, const char **error_r)
{
	(void)flags;
	if (!has_v || !dsn_xtext_valid(v, vlen))
		return syntax_fail(cmd, "invalid AUTH= value (xtext)", error_r);
	cmd->has_auth = 1;
	return 0;
}

static int param_ret(struct smtp_cmd *cmd, const char *v, size_t vlen,
		     int has_v, unsigned flags, const char **error_r)
{
	enum dsn_ret ret;
	const char *why = "RET must be FULL or HDRS";

	(void)flags;
	if (!has_v || dsn_ret_parse(v, vlen, &ret, &why) < 0)
		return syntax_fail(cmd, why, error_r);
	cmd->ret = ret == DSN_RET_FULL ? SMTP_RET_FULL : SMTP_RET_HDRS;
	return 0;
}

/* ENVID, NOTIFY and ORCPT: the checks of mail/dsn_param.h, whose
 * reasons are the reply texts ("501 5.5.4 ENVID is not valid xtext"). */
static int param_envid(struct smtp_cmd *cmd, const char *v, size_t vlen,
		       int has_v, unsigned flags, const char **error_r)
{
	const char *why = "ENVID needs a value";

	(void)flags;
	if (!has_v || dsn_envid_check(v, vlen, &why) < 0)
		return syntax_fail(cmd, why, error_r);
	memcpy(cmd->envid, v, vlen);
	cmd->envid[vlen] = '\0';
	return 0;
}

static int param_notify(struct smtp_cmd *cmd, const char *v, size_t vlen,
			int has_v, unsigned flags, const char **error_r)
{
	const char *why = "NOTIFY must be NEVER or a list of SUCCESS, "
		"FAILURE, DELAY";

	(void)flags;
	if (!has_v || dsn_notify_parse(v, vlen, &cmd->notify, &why) < 0)
		return syntax_fail(cmd, why, error_r);
	return 0;
}

/* ORCPT=addr-type;value: "rfc822" (and unknown types) take xtext,
 * "utf-8" (RFC 6533) UTF-8 text; 8-bit bytes reach here only in a
 * SMTPUTF8 transaction, already checked as UTF-8. */
static int param_orcpt(struct smtp_cmd *cmd, const char *v, size_t vlen,
		       int has_v, unsigned flags, const char **error_r)
{
	const char *why = "ORCPT needs a value";

	(void)flags;
	if (!has_v || dsn_orcpt_check(v, vlen, &why) < 0)
		return syntax_fail(cmd, why, error_r);
	memcpy(cmd->orcpt, v, vlen);
	cmd->orcpt[vlen] = '\0';
	return 0;
}

static const struct param_def params[] = {
	{ "SIZE", SMTP_MAIL, 0x01, param_size },
	{ "BODY", SMTP_MAIL, 0x02, param_body },
	{ "SMTPUTF8", SMTP_MAIL, 0x04, param_smtputf8 },
	{ "AUTH", SMTP_MAIL, 0x08, param_auth },
	{ "RET", SMTP_MAIL, 0x10, param_ret },
	{ "ENVID", SMTP_MAIL, 0x20, param_envid },
	{ "NOTIFY", SMTP_RCPT, 0x40, param_notify },
	{ "ORCPT", SMTP_RCPT, 0x80, param_orcpt },
};

#define N_PARAMS (sizeof(params) / sizeof(params[0]))

static const struct param_def *param_lookup(enum smtp_verb verb,
					    const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < N_PARAMS; i++) {
		if (params[i].verb == verb && word_eq(s, n, params[i].name))
			return &params[i];
	}
	return NULL;
}

/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
static int keyword_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !is_alnum(s[0]))
		return 0;
	for (i = 1; i < n; i++) {
		if (!is_alnum(s[i]) && s[i] != '-')
			return 0;
	}
	return 1;
}

/* esmtp-value = 1*(%d33-60 / %d62-126), plus UTF-8 in RCPT of a
 * SMTPUTF8 transaction (RFC 6531 3.3). */
static int value_valid(const struct smtp_cmd *cmd, const char *v, size_t n,
		       unsigned flags)
{
	if (n == 0 || memchr(v, '=', n) != NULL)
		return 0;
	if (!has_8bit(v, n))
		return 1;
	return cmd->verb == SMTP_RCPT && (flags & SMTP_CMD_TXN_UTF8) &&
		addr_check_utf8(v, n) == 0;
}

/* One "KEYWORD[=value]" token t[0..n), no spaces in it. */
static int param_parse(struct smtp_cmd *cmd, const char *t, size_t n,
		       unsigned flags, const char **error_r)
{
	const char *eq = memchr(t, '=', n);
	size_t klen = eq != NULL ? (size_t)(eq - t) : n;
	const char *v = eq != NULL ? eq + 1 : t + n;
	size_t vlen = eq != NULL ? n - klen - 1 : 0;
	const struct param_def *def;

	if (!keyword_valid(t, klen))
		return syntax_fail(cmd, "invalid parameter syntax", error_r);
	if (eq != NULL && !value_valid(cmd, v, vlen, flags))
		return syntax_fail(cmd, "invalid parameter value", error_r);
	def = param_lookup(cmd->verb, t, klen);
	if (def == NULL)
		return cmd_fail(cmd, 555, "5.5.4", "unsupported parameter",
				error_r);
	if (cmd->params & def->bit)
		return syntax_fail(cmd, "duplicate parameter", error_r);
	cmd->params |= def->bit;
	return def->fn(cmd, v, vlen, eq != NULL, flags, error_r);
}

static int params_parse(struct smtp_cmd *cmd, const char *a, size_t pos,
			size_t alen, unsigned flags, const char **error_r)
{
	size_t end;

	for (pos = skip_spaces(a, pos, alen); pos < alen;
	     pos = skip_spaces(a, end, alen)) {
		end = token_end(a, pos, alen);
		if (param_parse(cmd, a + pos, end - pos, flags, error_r) < 0)
			return -1;
	}
	return 0;
}

/* ---- the verbs' arguments ---------------------------------------------- */

static unsigned path_flags(enum smtp_verb verb, unsigned flags)
{
	if (verb == SMTP_MAIL)
		return ADDR_UTF8 | ADDR_ALLOW_NULL;
	return ADDR_UTF8 | ADDR_ALLOW_POSTMASTER |
		((flags & SMTP_CMD_RELAY_TRICKS) ? ADDR_REJECT_RELAY_TRICKS : 0);
}

/* After the path and its parameters: SMTPUTF8 rules (RFC 6531 3.7.4.1). */
static int path_utf8_check(struct smtp_cmd *cmd, unsigned flags,
			   const char **error_r)
{
	int allowed = cmd->verb == SMTP_MAIL ? cmd->smtputf8 :
		(flags & SMTP_CMD_TXN_UTF8) != 0;

	if (!allowed && !addr_is_ascii(&cmd->addr))
		return cmd_fail(cmd, 553, "5.6.7", "non-ASCII address "
				"requires SMTPUTF8", error_r);
	return 0;
}

/* MAIL FROM:<path> params / RCPT TO:<path> params */
static int path_cmd_parse(struct smtp_cmd *cmd, const char *a, size_t alen,
			  unsigned flags, const char **error_r)
{
	int mail = cmd->verb == SMTP_MAIL;
	const char *kw = mail ? "FROM:" : "TO:";
	const char *syntax = mail ? "syntax: MAIL FROM:<address>" :
		"syntax: RCPT TO:<address>";
	size_t kwlen = strlen(kw), pos;
	const char *err;
	int n;

	if (alen < kwlen || strncasecmp(a, kw, kwlen) != 0)
		return syntax_fail(cmd, syntax, error_r);
	pos = skip_spaces(a, kwlen, alen);
	if (pos == alen || a[pos] != '<')
		return syntax_fail(cmd, syntax, error_r);
	n = addr_parse_path(a + pos, alen - pos, path_flags(cmd->verb, flags),
			    &cmd->addr, &err);
	if (n < 0)
		return cmd_fail(cmd, 553, mail ? "5.1.7" : "5.1.3", err,
				error_r);
	pos += (size_t)n;
	if (pos < alen && a[pos] != ' ')
		return syntax_fail(cmd, "syntax error after the address",
				   error_r);
	if (params_parse(cmd, a, pos, alen, flags, error_r) < 0)
		return -1;
	return path_utf8_check(cmd, flags, error_r);
}

static int helo_parse(struct smtp_cmd *cmd, const char *a, size_t alen,
		      unsigned flags, const char **error_r)
{
	const char *syntax = cmd->verb == SMTP_HELO ?
		"syntax: HELO hostname" : "syntax: EHLO hostname";
	unsigned dflags = (flags & SMTP_CMD_ALLOW_UTF8) ? ADDR_UTF8 : 0;

	if (alen == 0 || memchr(a, ' ', alen) != NULL)
		return syntax_fail(cmd, syntax, error_r);
	if (alen > SMTP_HELO_MAX)
		return syntax_fail(cmd, "hostname too long", error_r);
	if (has_8bit(a, alen) && (dflags == 0 || addr_check_utf8(a, alen) < 0))
		return syntax_fail(cmd, "8-bit characters in hostname", error_r);
	arg_store(cmd, a, alen);
	cmd->helo_valid = addr_check_domain(a, alen, dflags, NULL) == 0;
	return 0;
}

static int bdat_parse(struct smtp_cmd *cmd, const char *a, size_t alen,
		      const char **error_r)
{
	const char *syntax = "syntax: BDAT chunk-size [LAST]";
	size_t end = token_end(a, 0, alen), pos;
	int r = u64_parse(a, end, &cmd->chunk_size);

	if (r == -2)
		return syntax_fail(cmd, "chunk size out of range", error_r);
	if (r < 0)
		return syntax_fail(cmd, syntax, error_r);
	pos = skip_spaces(a, end, alen);
	if (pos == alen)
		return 0;
	if (!word_eq(a + pos, alen - pos, "LAST"))
		return syntax_fail(cmd, syntax, error_r);
	cmd->last = 1;
	return 0;
}

static int auth_parse(struct smtp_cmd *cmd, const char *a, size_t alen,
		      const char **error_r)
{
	const char *syntax = "syntax: AUTH mechanism [initial-response]";
	size_t end = token_end(a, 0, alen), pos, i;

	if (end == 0 || end > SMTP_MECH_MAX)
		return syntax_fail(cmd, syntax, error_r);
	for (i = 0; i < end; i++) {
		char c = a[i];

		if (!is_alnum(c) && c != '-' && c != '_')
			return syntax_fail(cmd, syntax, error_r);
		cmd->mech[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
	}
	cmd->mech[end] = '\0';
	pos = skip_spaces(a, end, alen);
	if (pos == alen)
		return 0;
	if (token_end(a, pos, alen) != alen)
		return syntax_fail(cmd, syntax, error_r);
	cmd->has_initial = 1;
	if (word_eq(a + pos, alen - pos, "="))
		return 0;
	if (!base64_valid(a + pos, alen - pos))
		return cmd_fail(cmd, 501, "5.5.2", "initial response is not "
				"base64", error_r);
	arg_store(cmd, a + pos, alen - pos);
	return 0;
}

/* VRFY, HELP, NOOP: any text, kept; 8-bit only as UTF-8. */
static int text_arg_parse(struct smtp_cmd *cmd, const char *a, size_t alen,
			  const char **error_r)
{
	if (has_8bit(a, alen) && addr_check_utf8(a, alen) < 0)
		return syntax_fail(cmd, "invalid UTF-8 in argument", error_r);
	arg_store(cmd, a, alen);
	return 0;
}

static int no_arg_parse(struct smtp_cmd *cmd, size_t alen,
			const char **error_r)
{
	if (alen != 0)
		return syntax_fail(cmd, "syntax error (no parameters allowed)",
				   error_r);
	return 0;
}

static int args_parse(struct smtp_cmd *cmd, const char *a, size_t alen,
		      unsigned flags, const char **error_r)
{
	switch (cmd->verb) {
	case SMTP_HELO:
	case SMTP_EHLO:
		return helo_parse(cmd, a, alen, flags, error_r);
	case SMTP_MAIL:
	case SMTP_RCPT:
		return path_cmd_parse(cmd, a, alen, flags, error_r);
	case SMTP_BDAT:
		return bdat_parse(cmd, a, alen, error_r);
	case SMTP_AUTH:
		return auth_parse(cmd, a, alen, error_r);
	case SMTP_VRFY:
	case SMTP_HELP:
	case SMTP_NOOP:
		return text_arg_parse(cmd, a, alen, error_r);
	case SMTP_DATA:
	case SMTP_RSET:
	case SMTP_QUIT:
	case SMTP_STARTTLS:
		return no_arg_parse(cmd, alen, error_r);
	case SMTP_UNKNOWN:
		break;
	}
	return cmd_fail(cmd, 500, "5.5.1", "command unrecognized", error_r);
}

/* ---- the line ---------------------------------------------------------- */

static int line_check(struct smtp_cmd *cmd, const char *line, size_t len,
		      const char **error_r)
{
	size_t i;

	if (len > SMTP_CMD_LINE_MAX)
		return cmd_fail(cmd, 500, "5.5.2", "line too long", error_r);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\r' || c == '\n' || c == '\0')
			return cmd_fail(cmd, 500, "5.5.2", "CR, LF or NUL in "
					"command line", error_r);
		if (c < 0x20 || c == 0x7f)
			return cmd_fail(cmd, 500, "5.5.2", "control character "
					"in command line", error_r);
	}
	return 0;
}

static enum smtp_verb verb_lookup(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < N_VERBS; i++) {
		if (word_eq(s, n, verbs[i].name))
			return verbs[i].verb;
	}
	return SMTP_UNKNOWN;
}

int smtp_cmd_parse(const char *line, size_t len, unsigned flags,
		   struct smtp_cmd *cmd, const char **error_r)
{
	size_t vend, args;

	memset(cmd, 0, sizeof(*cmd));
	cmd->verb = SMTP_UNKNOWN;
	if (line_check(cmd, line, len, error_r) < 0)
		return -1;
	while (len > 0 && line[len - 1] == ' ')
		len--;
	vend = token_end(line, 0, len);
	if (vend == 0)
		return cmd_fail(cmd, 500, "5.5.2", "syntax error: no command",
				error_r);
	cmd->verb = verb_lookup(line, vend);
	args = skip_spaces(line, vend, len);
	return args_parse(cmd, line + args, len - args, flags, error_r);
}

const char *smtp_verb_name(enum smtp_verb verb)
{
	size_t i;

	for (i = 0; i < N_VERBS; i++) {
		if (verbs[i].verb == verb)
			return verbs[i].name;
	}
	return "UNKNOWN";
}
