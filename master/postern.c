/*
 * postern - the administrator's command for a postern instance
 *
 * PRIVILEGE  whoever runs it; "init" as root also creates the accounts,
 *            "start" as root starts the master as root
 * INPUT      the configuration file (-c FILE, $POSTERN_CONF, or
 *            /etc/postern/postern.conf); passwords on standard input
 * OUTPUT     the instance's files (configuration, maps), signals to the
 *            master; messages on standard output and error
 * EXIT       0 done; 1 failed (reason printed); 3 not running (status);
 *            64 usage
 * SEE ALSO   postern(8), postern.conf(5), postern-master(8)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/exitcode.h"
#include "postern.h"
#include "util/log.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv, const char *conf_opt);
};

static const struct subcommand subcommands[] = {
	{ "init", cmd_init },
	{ "config", cmd_config },
	{ "user", cmd_user },
	{ "alias", cmd_alias },
	{ "start", cmd_start },
	{ "stop", cmd_stop },
	{ "reload", cmd_reload },
	{ "status", cmd_status },
	{ "queue", cmd_queue },
};

int postern_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("postern: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int usage(void)
{
	fputs("usage: postern [-c FILE] COMMAND ...\n"
	      "  init DIR [--domain D] [--hostname H] [--port-base B]\n"
	      "  config get KEY | config set KEY=VALUE | config check\n"
	      "  user add ADDR | user del ADDR | user passwd ADDR | user list | user rebuild\n"
	      "  alias add ADDR TARGET[,TARGET...] | alias del ADDR | alias list | alias rebuild\n"
	      "  start [-f] | stop | reload | status\n"
	      "  queue list | queue flush | queue delete|hold|release ID\n"
	      "See postern(8).\n", stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *conf_opt = NULL;
	int i = 1;

	log_open("postern", LOG_TO_STDERR);
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			conf_opt = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			usage();
			return 0;
		} else {
			return usage();
		}
	}
	if (i >= argc)
		return usage();
	for (size_t k = 0; k < sizeof(subcommands) / sizeof(subcommands[0]);
	     k++)
		if (strcmp(argv[i], subcommands[k].name) == 0)
			return subcommands[k].run(argc - i, argv + i, conf_opt);
	postern_fail("unknown command '%s'", argv[i]);
	return usage();
}
