/*
 * postern.h - the subcommands of the postern(8) command
 *
 * master/postern.c parses the global options (-c FILE) and calls one of
 * these with argv[0] = the subcommand's name ("user", "init", ...) and the
 * rest of the command line. conf_opt is the -c argument or NULL. Each
 * returns the process exit status: 0 done, 1 failed (reason already
 * printed to stderr as "postern: ..."), 3 not running (status), 64 usage.
 */
#ifndef POSTERN_POSTERN_H
#define POSTERN_POSTERN_H

int cmd_init(int argc, char **argv, const char *conf_opt);	/* postern_init.c */
int cmd_config(int argc, char **argv, const char *conf_opt);	/* postern_config.c */
int cmd_user(int argc, char **argv, const char *conf_opt);	/* postern_user.c */
int cmd_alias(int argc, char **argv, const char *conf_opt);	/* postern_user.c */
int cmd_start(int argc, char **argv, const char *conf_opt);	/* postern_ctl.c */
int cmd_stop(int argc, char **argv, const char *conf_opt);	/* postern_ctl.c */
int cmd_reload(int argc, char **argv, const char *conf_opt);	/* postern_ctl.c */
int cmd_status(int argc, char **argv, const char *conf_opt);	/* postern_ctl.c */
int cmd_queue(int argc, char **argv, const char *conf_opt);	/* postern_queue.c */

/* Print "postern: " + message to stderr; returns 1 (for "return fail(...)"). */
int postern_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
