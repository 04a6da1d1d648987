/*
 * fuzz_smtp_cmd - libFuzzer target for the SMTP command line parser
 * (smtpd/smtp_cmd.c)
 *
 * The first input byte picks the SMTP_CMD_* flags, the rest is one line.
 * Checks, besides memory safety: an error always comes with a reply code
 * the parser documents and a matching enhanced status code; a success
 * leaves the argument NUL-terminated at arg_len and, for MAIL and RCPT,
 * an address that formats and parses back to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "smtpd/smtp_cmd.h"

static void error_check(const struct smtp_cmd *cmd, const char *error)
{
	if (error == NULL || error[0] == '\0' || cmd->enhanced == NULL)
		abort();
	if (cmd->code != 500 && cmd->code != 501 && cmd->code != 553 &&
	    cmd->code != 555)
		abort();
	if (cmd->enhanced[0] != '5' || cmd->enhanced[1] != '.')
		abort();
	if (cmd->code == 500 && cmd->verb == SMTP_UNKNOWN &&
	    strcmp(cmd->enhanced, "5.5.1") != 0 &&
	    strcmp(cmd->enhanced, "5.5.2") != 0)
		abort();
}

static void addr_check(const struct smtp_cmd *cmd)
{
	struct str out = STR_INIT(0);
	struct addr b;
	unsigned flags = ADDR_UTF8 | ADDR_ALLOW_NULL | ADDR_ALLOW_POSTMASTER;

	if (addr_format(&cmd->addr, &out) < 0 || out.len > ADDR_MAX)
		abort();
	if (addr_parse_plain(str_c(&out), flags, &b, NULL) != 0 ||
	    strcmp(b.local, cmd->addr.local) != 0 ||
	    strcmp(b.domain, cmd->addr.domain) != 0)
		abort();
	str_free(&out);
}

static void success_check(const struct smtp_cmd *cmd, size_t len)
{
	if (cmd->code != 0 || cmd->enhanced != NULL || cmd->verb == SMTP_UNKNOWN)
		abort();
	if (cmd->arg_len > len || cmd->arg[cmd->arg_len] != '\0' ||
	    strlen(cmd->arg) != cmd->arg_len)
		abort();
	if (strlen(cmd->envid) > SMTP_ENVID_MAX ||
	    strlen(cmd->orcpt) > SMTP_ORCPT_MAX ||
	    strlen(cmd->mech) > SMTP_MECH_MAX)
		abort();
	if (cmd->verb == SMTP_MAIL || cmd->verb == SMTP_RCPT)
		addr_check(cmd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_cmd cmd;
	const char *error = NULL;
	unsigned flags;

	if (size == 0)
		return 0;
	flags = data[0] & 0x07;
	if (smtp_cmd_parse((const char *)data + 1, size - 1, flags, &cmd,
			   &error) < 0)
		error_check(&cmd, error);
	else
		success_check(&cmd, size - 1);
	(void)smtp_verb_name(cmd.verb);
	return 0;
}
