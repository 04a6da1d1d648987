/*
 * postern_config - "postern config get|set|check": read, edit in place
 * and validate the configuration file
 *
 * PRIVILEGE  whoever runs it (set needs write access to the file's
 *            directory: the file is replaced atomically)
 * INPUT      the configuration file (conf_path: -c, $POSTERN_CONF, default)
 * OUTPUT     get: the effective value (defaults and derived values
 *            included); set: the edited file, comments and order kept;
 *            check: "file:line: message" per error on standard error, or
 *            "FILE: ok"
 * EXIT       0 done; 1 unknown key, invalid value or errors found; 64 usage
 * SEE ALSO   postern(8), postern.conf(5)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/conf.h"
#include "mail/exitcode.h"
#include "usermap.h"
#include "postern.h"
#include "util/str.h"
#include "util/tls.h"

static int config_usage(void)
{
	fputs("usage: postern [-c FILE] config get KEY | config set KEY=VALUE "
	      "| config check\n", stderr);
	return EXIT_USAGE;
}

static int config_get(const char *path, const char *key)
{
	struct conf c;
	struct str errors = STR_INIT(0), value = STR_INIT(0);
	int r = 0;

	if (!conf_key_known(key))
		return postern_fail("unknown key %s", key);
	memset(&c, 0, sizeof(c));
	if (conf_load(&c, path, &errors) > 0) {
		fputs(str_c(&errors), stderr);
		r = postern_fail("%s has errors", path);
	} else if (conf_get_text(&c, key, &value) < 0) {
		r = postern_fail("unknown key %s", key);
	} else {
		printf("%s\n", str_c(&value));
	}
	conf_free(&c);
	str_free(&errors);
	str_free(&value);
	return r;
}

/* Drop blanks around s[0..*n). */
static const char *config_trim(const char *s, size_t *n)
{
	while (*n > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		(*n)--;
	}
	while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	return s;
}

/* "KEY=VALUE" (one argument) or "KEY" "VALUE" (two). */
static int config_set(const char *path, int argc, char **argv)
{
	struct str key = STR_INIT(0), value = STR_INIT(0), errors = STR_INIT(0);
	const char *eq = strchr(argv[0], '=');
	const char *p;
	size_t n;
	int r = 0;

	if ((argc == 1) != (eq != NULL))
		return config_usage();
	n = eq ? (size_t)(eq - argv[0]) : strlen(argv[0]);
	p = config_trim(argv[0], &n);
	str_set(&key, p, n);
	p = eq ? eq + 1 : argv[1];
	n = strlen(p);
	p = config_trim(p, &n);
	str_set(&value, p, n);
	umask(022);
	if (!conf_key_known(str_c(&key))) {
		r = postern_fail("unknown key %s", str_c(&key));
	} else if (conf_file_set(path, str_c(&key), str_c(&value),
				 &errors) < 0) {
		fputs(str_c(&errors), stderr);
		r = postern_fail("%s not changed", path);
	} else {
		printf("%s = %s\n", str_c(&key), str_c(&value));
	}
	str_free(&key);
	str_free(&value);
	str_free(&errors);
	return r;
}

/* A directory the instance needs: "FILE: KEY DIR: reason" if it is not. */
static int check_dir(const char *path, const char *key, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		fprintf(stderr, "%s: %s %s: %s\n", path, key, dir,
			strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: %s %s: not a directory\n", path, key, dir);
		return 1;
	}
	return 0;
}

static int check_tls(const char *path, const struct conf *c)
{
	const char *error;
	SSL_CTX *ctx;

	if (access(c->tls_cert, R_OK) < 0) {
		fprintf(stderr, "%s: tls_cert %s: %s\n", path, c->tls_cert,
			strerror(errno));
		return 1;
	}
	if (access(c->tls_key, R_OK) < 0) {
		fprintf(stderr, "%s: tls_key %s: %s\n", path, c->tls_key,
			strerror(errno));
		return 1;
	}
	ctx = tls_server_ctx(c->tls_cert, c->tls_key, &error);
	if (ctx == NULL) {
		fprintf(stderr, "%s: tls_cert/tls_key: %s\n", path, error);
		return 1;
	}
	SSL_CTX_free(ctx);
	return 0;
}

/* The text sources of the maps must parse (errors "file:line: ..."). */
static int check_maps(const struct conf *c)
{
	static const char *const names[] = { "passwd", "aliases" };
	struct str errors = STR_INIT(0), file = STR_INIT(0);
	int n = 0;

	for (size_t i = 0; i < 2; i++) {
		struct usermap m;
		usermap_init(&m, i == 0 ? USERMAP_PASSWD : USERMAP_ALIASES);
		conf_etc_path(c, names[i], &file);
		n += usermap_load(&m, str_c(&file), str_c(&file), &errors);
		usermap_free(&m);
	}
	fputs(str_c(&errors), stderr);
	str_free(&errors);
	str_free(&file);
	return n;
}

/* The line of path that last sets key ("key = ..."), 0 if none. */
static unsigned config_key_line(const char *path, const char *key)
{
	char line[1024];
	size_t klen = strlen(key);
	unsigned n = 0, found = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *p = line + strspn(line, " \t");

		n++;
		if (strncmp(p, key, klen) == 0 &&
		    p[klen + strspn(p + klen, " \t")] == '=')
			found = n;
	}
	fclose(f);
	return found;
}

/* A failed login is answered after up to auth_failure_delay_max: a
 * client that gives up sooner never hears it (and retries, piling up
 * connections). Reported at the line that sets the delay, else at the
 * timeout's. */
static int check_auth_delay(const char *path, const struct conf *c)
{
	const struct {
		const char *key;
		unsigned t;
	} clients[] = {
		{ "pop3_login_timeout", c->pop3_login_timeout },
		{ "imap_login_timeout", c->imap_login_timeout },
		{ "smtpd_timeout", c->smtpd_timeout },
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(clients) / sizeof(clients[0]); i++) {
		unsigned t = clients[i].t;
		unsigned line = config_key_line(path, "auth_failure_delay_max");

		if (c->auth_failure_delay_max <= t)
			continue;
		if (line == 0)
			line = config_key_line(path, clients[i].key);
		fprintf(stderr, "%s:%u: auth_failure_delay_max (%us) is longer "
			"than %s (%us): a client would give up before a failed "
			"login is answered\n", path, line,
			c->auth_failure_delay_max, clients[i].key, t);
		n++;
	}
	return n;
}

static int config_check(const char *path)
{
	struct conf c;
	struct str errors = STR_INIT(0);
	int n;

	memset(&c, 0, sizeof(c));
	n = conf_load(&c, path, &errors);
	fputs(str_c(&errors), stderr);
	if (n == 0) {
		n += check_tls(path, &c);
		n += check_dir(path, "mail_root", c.mail_root);
		n += check_dir(path, "queue_dir", c.queue_dir);
		n += check_maps(&c);
		n += check_auth_delay(path, &c);
	}
	conf_free(&c);
	str_free(&errors);
	if (n > 0)
		return 1;
	printf("%s: ok\n", path);
	return 0;
}

int cmd_config(int argc, char **argv, const char *conf_opt)
{
	const char *path = conf_path(conf_opt);

	if (argc == 3 && strcmp(argv[1], "get") == 0)
		return config_get(path, argv[2]);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "set") == 0)
		return config_set(path, argc - 2, argv + 2);
	if (argc == 2 && strcmp(argv[1], "check") == 0)
		return config_check(path);
	return config_usage();
}
