/*
 * pop3_cmd - parsing one POP3 command line; see pop3_cmd.h
 */
#include "pop3_cmd.h"

#include <string.h>

struct pop3_cmd_def {
	const char *name;
	enum pop3_cmd_kind kind;
	enum { ARG_NONE, ARG_TEXT, ARG_AUTH, ARG_OPTNUM, ARG_NUM, ARG_TWO } args;
};

static const struct pop3_cmd_def pop3_cmds[] = {
	{ "USER", POP3_USER, ARG_TEXT },
	{ "PASS", POP3_PASS, ARG_TEXT },
	{ "AUTH", POP3_AUTH, ARG_AUTH },
	{ "APOP", POP3_APOP, ARG_TEXT },
	{ "STLS", POP3_STLS, ARG_NONE },
	{ "CAPA", POP3_CAPA, ARG_NONE },
	{ "QUIT", POP3_QUIT, ARG_NONE },
	{ "NOOP", POP3_NOOP, ARG_NONE },
	{ "STAT", POP3_STAT, ARG_NONE },
	{ "LIST", POP3_LIST, ARG_OPTNUM },
	{ "UIDL", POP3_UIDL, ARG_OPTNUM },
	{ "RETR", POP3_RETR, ARG_NUM },
	{ "DELE", POP3_DELE, ARG_NUM },
	{ "TOP", POP3_TOP, ARG_TWO },
	{ "RSET", POP3_RSET, ARG_NONE },
};

const char *pop3_cmd_name(enum pop3_cmd_kind kind)
{
	for (size_t i = 0; i < sizeof(pop3_cmds) / sizeof(pop3_cmds[0]); i++)
		if (pop3_cmds[i].kind == kind)
			return pop3_cmds[i].name;
	return "";
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* One decimal number of p[0..n): digits only, at most POP3_NUM_MAX. */
static int parse_num(const char *p, size_t n, unsigned long *v_r)
{
	unsigned long v = 0;

	if (n == 0 || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	*v_r = v;
	return 0;
}

/* Split args[0..n) at single spaces into numbers; want in [lo, hi]. */
static int parse_nums(const char *p, size_t n, int lo, int hi,
		      struct pop3_cmd *cmd, const char **error_r)
{
	size_t i = 0;

	cmd->nnums = 0;
	while (i < n) {
		const char *sp;
		size_t wl;

		if (cmd->nnums == hi) {
			*error_r = "Too many arguments.";
			return -1;
		}
		sp = memchr(p + i, ' ', n - i);
		wl = sp != NULL ? (size_t)(sp - (p + i)) : n - i;
		if (parse_num(p + i, wl, &cmd->num[cmd->nnums]) < 0) {
			*error_r = "Invalid number.";
			return -1;
		}
		cmd->nnums++;
		i += wl + (sp != NULL);
		if (sp != NULL && i == n) {
			*error_r = "Invalid number.";
			return -1;
		}
	}
	if (cmd->nnums < lo) {
		*error_r = "Missing argument.";
		return -1;
	}
	for (int k = 0; k < cmd->nnums; k++)
		if (cmd->num[k] == 0 && !(cmd->kind == POP3_TOP && k == 1)) {
			*error_r = "No such message.";
			return -1;
		}
	return 0;
}

static int parse_auth(const char *p, size_t n, struct pop3_cmd *cmd,
		      const char **error_r)
{
	const char *sp = memchr(p, ' ', n);
	size_t ml = sp != NULL ? (size_t)(sp - p) : n;

	if (n == 0)
		return 0;
	if (ml == 0 || ml >= sizeof(cmd->mech)) {
		*error_r = "Invalid mechanism.";
		return -1;
	}
	for (size_t i = 0; i < ml; i++) {
		if (p[i] == ' ' || (unsigned char)p[i] < 0x21 ||
		    (unsigned char)p[i] > 0x7e) {
			*error_r = "Invalid mechanism.";
			return -1;
		}
		cmd->mech[i] = upper(p[i]);
	}
	cmd->mech[ml] = '\0';
	cmd->arg = p;
	cmd->arg_len = ml;
	if (sp != NULL) {
		cmd->ir = sp + 1;
		cmd->ir_len = n - ml - 1;
		if (cmd->ir_len == 0 || memchr(cmd->ir, ' ', cmd->ir_len)) {
			*error_r = "Invalid initial response.";
			return -1;
		}
	}
	return 0;
}

static int parse_args(const struct pop3_cmd_def *d, const char *p, size_t n,
		      int has_sp, struct pop3_cmd *cmd, const char **error_r)
{
	if (has_sp && n == 0) {
		*error_r = "Invalid arguments.";
		return -1;
	}
	switch (d->args) {
	case ARG_NONE:
		if (n == 0)
			return 0;
		*error_r = "Too many arguments.";
		return -1;
	case ARG_TEXT:
		if (n == 0) {
			*error_r = "Missing argument.";
			return -1;
		}
		cmd->arg = p;
		cmd->arg_len = n;
		return 0;
	case ARG_AUTH:
		return parse_auth(p, n, cmd, error_r);
	case ARG_OPTNUM:
		return parse_nums(p, n, 0, 1, cmd, error_r);
	case ARG_NUM:
		return parse_nums(p, n, 1, 1, cmd, error_r);
	case ARG_TWO:
		return parse_nums(p, n, 2, 2, cmd, error_r);
	}
	return -1;
}

int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd,
		   const char **error_r)
{
	size_t kl = 0;

	memset(cmd, 0, sizeof(*cmd));
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (memchr(line, '\0', len) != NULL || memchr(line, '\r', len) ||
	    memchr(line, '\n', len)) {
		*error_r = "Invalid characters in command.";
		return -1;
	}
	while (kl < len && kl < 5 && line[kl] != ' ')
		kl++;
	if (kl < 3 || kl > 4) {
		*error_r = "Unknown command.";
		return -1;
	}
	for (size_t i = 0; i < kl; i++)
		cmd->name[i] = upper(line[i]);
	cmd->name[kl] = '\0';
	for (size_t i = 0; i < sizeof(pop3_cmds) / sizeof(pop3_cmds[0]); i++) {
		const struct pop3_cmd_def *d = &pop3_cmds[i];
		int has_sp = kl < len;

		if (strcmp(d->name, cmd->name) != 0)
			continue;
		cmd->kind = d->kind;
		return parse_args(d, line + kl + has_sp, len - kl - has_sp,
				  has_sp, cmd, error_r);
	}
	*error_r = "Unknown command.";
	return -1;
}
