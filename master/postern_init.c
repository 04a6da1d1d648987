/*
 * postern_init - "postern init DIR": create a self-contained instance
 *
 * PRIVILEGE  whoever runs it; as root it also creates the accounts and
 *            groups of services.h (groupadd/useradd/usermod, exec'ed with
 *            argv, never a shell) and gives the files their owners
 * INPUT      DIR [--domain D[,D...]] [--hostname H] [--port-base B]
 * OUTPUT     DIR/etc/postern.conf (absolute paths), DIR/etc/tls.{crt,key}
 *            (self-signed, CN = hostname), DIR/etc/{passwd,aliases} with
 *            their cdb maps and users.cdb, DIR/spool (queue_dir) with
 *            private/ and pid/, DIR/mail (mail_root), DIR/log
 * EXIT       0 created; 1 failed or DIR/etc/postern.conf already exists;
 *            64 usage
 * SEE ALSO   postern(8), postern.conf(5)
 *
 * Modes and owners (as root; otherwise everything is the invoker's):
 *   DIR, etc/, spool/, spool/private/, log/  root 0755
 *   spool/pid/                               root 0700
 *   mail/                                    postern-mail 0750
 *   postern.conf, tls.crt, users.cdb, aliases, aliases.cdb  root 0644
 *   passwd, passwd.cdb                       root:postern-auth 0640
 *   tls.key                                  root 0600
 * Files that exist already (a TLS pair put in place by hand, the maps of
 * an earlier, unfinished init) are kept; only postern.conf marks an
 * instance as initialised. Below DIR nothing is followed through a
 * symlink: directories are opened with O_NOFOLLOW from DIR's descriptor
 * and get their modes and owners through their own descriptors, files
 * their group through a descriptor opened with O_NOFOLLOW (safedir.h); a
 * symlink where one is expected is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/conf.h"
#include "mail/exitcode.h"
#include "mail/services.h"
#include "usermap.h"
#include "postern.h"
#include "util/cfgfile.h"
#include "util/fileio.h"
#include "util/privs.h"
#include "util/safedir.h"
#include "util/str.h"
#include "util/tls.h"

#define PORT_BASE_MAX (65535 - 93)

struct init_opts {
	const char *dir;
	const char *domains;	/* NULL: hostname */
	const char *hostname;	/* NULL: derived by conf */
	int port_base;		/* -1: default listeners */
};

struct instance {
	struct str dir, etc, conf;
	int root;
};

static const char passwd_header[] =
	"# postern users: a Dovecot passwd-file, one user per line:\n"
	"#   address:{CRYPT}$y$...[:uid:gid:gecos:home:shell:extra]\n"
	"# Only the first two fields are used. Edit with \"postern user add|"
	"del|passwd\";\n"
	"# after an edit by hand run \"postern user rebuild\".\n";

static const char aliases_header[] =
	"# postern aliases, one per line:\n"
	"#   alias@local.domain: target@domain, target@domain, ...\n"
	"# A target is a user, another alias, or a remote address. Edit with\n"
	"# \"postern alias add|del\"; after an edit by hand run "
	"\"postern alias rebuild\".\n";

/* ---- arguments ----------------------------------------------------- */

static int init_usage(void)
{
	fputs("usage: postern init DIR [--domain D[,D...]] [--hostname H] "
	      "[--port-base B]\n"
	      "       postern init --accounts\n", stderr);
	return EXIT_USAGE;
}

/* Domain names are written in lower case (argv is ours to change). */
static void lower_case(char *s)
{
	for (; s && *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static int check_domains(const char *opt, const char *list)
{
	char **v;
	size_t n;
	const char *error;

	if (cfg_list(list, &v, &n, &error) < 0)
		return postern_fail("%s %s: %s", opt, list, error);
	for (size_t i = 0; i < n; i++)
		if (usermap_domain_check(v[i], &error) < 0) {
			postern_fail("%s %s: %s", opt, v[i], error);
			free(v);
			return 1;
		}
	free(v);
	if (n == 0)
		return postern_fail("%s: empty", opt);
	return 0;
}

static int init_args(struct init_opts *o, int argc, char **argv)
{
	const char *error;
	unsigned b;

	memset(o, 0, sizeof(*o));
	o->port_base = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' && o->dir == NULL)
			o->dir = a;
		else if (i + 1 >= argc)
			return init_usage();
		else if (strcmp(a, "--domain") == 0)
			o->domains = argv[++i];
		else if (strcmp(a, "--hostname") == 0)
			o->hostname = argv[++i];
		else if (strcmp(a, "--port-base") != 0)
			return init_usage();
		else if (cfg_uint(argv[++i], PORT_BASE_MAX, &b, &error) < 0)
			return postern_fail("--port-base %s: %s (at most %u)",
					    argv[i], error, PORT_BASE_MAX);
		else
			o->port_base = (int)b;
	}
	if (o->dir == NULL || o->dir[0] == '\0')
		return init_usage();
	lower_case((char *)o->domains);
	lower_case((char *)o->hostname);
	if (o->domains && check_domains("--domain", o->domains) != 0)
		return 1;
	if (o->hostname && check_domains("--hostname", o->hostname) != 0)
		return 1;
	if (o->hostname && strchr(o->hostname, ','))
		return postern_fail("--hostname %s: one name only", o->hostname);
	return 0;
}

/* DIR made absolute, without trailing slashes, in inst->dir. */
static int instance_paths(struct instance *inst, const char *arg)
{
	char cwd[PATH_MAX];

	for (const char *p = arg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return postern_fail("%s: control character in path",
					    arg);
	if (arg[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return postern_fail("getcwd: %s", strerror(errno));
		path_join(&inst->dir, cwd, arg);
	} else {
		str_sets(&inst->dir, arg);
	}
	while (inst->dir.len > 1 && inst->dir.s[inst->dir.len - 1] == '/')
		str_truncate(&inst->dir, inst->dir.len - 1);
	path_join(&inst->etc, str_c(&inst->dir), "etc");
	path_join(&inst->conf, str_c(&inst->etc), "postern.conf");
	return 0;
}

/* As root: every existing ancestor of dir must be searchable by others,
 * or the services (running as postern-* accounts) could not reach it. */
static int check_ancestors(const char *dir)
{
	struct str p = STR_INIT(0);
	struct stat st;
	int r = 0;

	str_sets(&p, dir);
	for (;;) {
		char *slash = strrchr(p.s, '/');
		if (slash == NULL || slash == p.s)
			break;
		str_truncate(&p, (size_t)(slash - p.s));
		if (stat(p.s, &st) == 0 && !(st.st_mode & S_IXOTH)) {
			r = postern_fail("%s's ancestor %s has mode %04o: the "
					 "services running as postern-* accounts "
					 "could not reach the instance; chmod o+x "
					 "%s or choose another directory", dir,
					 p.s, (unsigned)(st.st_mode & 07777), p.s);
			break;
		}
	}
	str_free(&p);
	return r;
}

/* ---- accounts (root) ----------------------------------------------- */

/* Run argv (argv[0] a program in /usr/sbin or on PATH) and wait. */
static int run_program(char *const argv[])
{
	struct str path = STR_INIT(0);
	int status;
	pid_t pid;

	path_join(&path, "/usr/sbin", argv[0]);
	pid = fork();
	if (pid < 0) {
		str_free(&path);
		return postern_fail("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		if (access(str_c(&path), X_OK) == 0)
			execv(str_c(&path), argv);
		execvp(argv[0], argv);
		fprintf(stderr, "postern: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	str_free(&path);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return postern_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return postern_fail("%s %s failed (status %d)", argv[0],
				    argv[1], status);
	return 0;
}

static int group_create(const char *name)
{
	gid_t gid;

	if (priv_group(name, &gid) == 0)
		return 0;
	printf("creating group %s\n", name);
	return run_program((char *const[]){ "groupadd", "--system",
					    (char *)name, NULL });
}

static int account_create(const struct account_def *a)
{
	char *argv[16];
	gid_t gid;
	int n = 0;

	argv[n++] = "useradd";
	argv[n++] = "--system";
	argv[n++] = "--no-create-home";
	argv[n++] = "--home-dir";
	argv[n++] = "/nonexistent";
	argv[n++] = "--shell";
	argv[n++] = "/usr/sbin/nologin";
	if (priv_group(a->name, &gid) == 0) {	/* left by an earlier try */
		argv[n++] = "--gid";
		argv[n++] = (char *)a->name;
	} else {
		argv[n++] = "--user-group";
	}
	if (a->groups[0] != '\0') {
		argv[n++] = "--groups";
		argv[n++] = (char *)a->groups;
	}
	argv[n++] = (char *)a->name;
	argv[n] = NULL;
	printf("creating account %s\n", a->name);
	return run_program(argv);
}

static int is_member(const char *user, gid_t primary, const char *group)
{
	struct group *g = getgrnam(group);

	if (g == NULL)
		return 0;
	if (g->gr_gid == primary)
		return 1;
	for (char **m = g->gr_mem; *m != NULL; m++)
		if (strcmp(*m, user) == 0)
			return 1;
	return 0;
}

/* An existing account: add the supplementary groups it lacks. */
static int account_groups_fix(const struct account_def *a, gid_t primary)
{
	char **v;
	size_t n;
	const char *error;
	int r = 0;

	if (cfg_list(a->groups, &v, &n, &error) < 0)
		return postern_fail("services table: %s: %s", a->name, error);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (is_member(a->name, primary, v[i]))
			continue;
		printf("adding account %s to group %s\n", a->name, v[i]);
		r = run_program((char *const[]){ "usermod", "-a", "-G", v[i],
						 (char *)a->name, NULL });
	}
	free(v);
	return r;
}

static int accounts_create(void)
{
	uid_t uid;
	gid_t gid;

	for (const char *const *g = account_groups; *g != NULL; g++)
		if (group_create(*g) != 0)
			return 1;
	for (unsigned i = 0; i < accounts_count; i++) {
		const struct account_def *a = &accounts[i];
		int r = priv_account(a->name, &uid, &gid) == 0
			? account_groups_fix(a, gid) : account_create(a);
		if (r != 0)
			return 1;
	}
	return 0;
}

/* ---- directories and files ----------------------------------------- */

/* Make (if missing) the directory name under the instance directory (at
 * its descriptor top), never through a symlink, and give it mode and, with
 * owner (as root), that account, through its own descriptor. */
static int make_dir(const struct instance *inst, int top, const char *name,
		    mode_t mode, const char *owner)
{
	struct str path = STR_INIT(0);
	uid_t uid = SAFEDIR_KEEP_OWNER;
	gid_t gid = 0;
	int fd, r = 0;

	path_join(&path, str_c(&inst->dir), name);
	if (inst->root && owner && priv_account(owner, &uid, &gid) < 0) {
		str_free(&path);
		return postern_fail("account %s does not exist", owner);
	}
	fd = safedir_open_at(top, name, mode, NULL);
	if (fd < 0)
		r = postern_fail("%s: %s", str_c(&path), errno == ELOOP ?
				 "a symbolic link, not a directory: refused" :
				 strerror(errno));
	else if (safedir_fix(fd, inst->root ? uid : SAFEDIR_KEEP_OWNER, gid,
			     mode) < 0)
		r = postern_fail("%s: chown/chmod: %s", str_c(&path),
				 strerror(errno));
	if (fd >= 0)
		close(fd);
	str_free(&path);
	return r;
}

static int make_dirs(const struct instance *inst)
{
	const char *dir = str_c(&inst->dir);
	struct stat st;
	int top, r;

	/* DIR itself is the operator's (a symlink they made is followed) */
	top = safedir_open_top(dir, 0755, NULL);
	if (top < 0)
		return postern_fail("%s: %s", dir, strerror(errno));
	if (fstat(top, &st) < 0) {
		close(top);
		return postern_fail("%s: %s", dir, strerror(errno));
	}
	if (inst->root && (st.st_mode & 0755) != 0755) {
		if (fchmod(top, (st.st_mode & 07777) | 0755) < 0) {
			r = postern_fail("%s: chmod: %s", dir, strerror(errno));
			close(top);
			return r;
		}
		printf("%s: mode changed to %04o\n", dir,
		       (unsigned)((st.st_mode & 07777) | 0755));
	}
	r = make_dir(inst, top, "etc", 0755, NULL) ||
	    make_dir(inst, top, "spool", 0755, NULL) ||
	    make_dir(inst, top, "spool/private", 0755, NULL) ||
	    make_dir(inst, top, "spool/pid", 0700, NULL) ||
	    make_dir(inst, top, "mail", 0750, "postern-mail") ||
	    make_dir(inst, top, "log", 0755, NULL);
	close(top);
	return r;
}

static void conf_text(const struct instance *inst, const struct init_opts *o,
		      struct str *t)
{
	static const struct { const char *key; int off; } listeners[] = {
		{ "listen_smtp", 25 }, { "listen_submission", 87 },
		{ "listen_smtps", 65 }, { "listen_pop3", 10 },
		{ "listen_pop3s", 95 }, { "listen_imap", 43 },
		{ "listen_imaps", 93 },
	};
	const char *d = str_c(&inst->dir), *dom = o->domains;

	str_appendf(t, "# postern.conf - the postern instance in %s, written "
		    "by \"postern init\".\n# See postern.conf(5). Edit with "
		    "\"postern config set KEY=VALUE\" or by hand,\n# then run "
		    "\"postern config check\" and \"postern reload\".\n\n", d);
	if (o->hostname)
		str_appendf(t, "hostname = %s\n", o->hostname);
	else
		str_appends(t, "# hostname: not set, the machine's FQDN\n");
	if (dom == NULL)
		dom = o->hostname;
	if (dom)
		str_appendf(t, "local_domains = %s\n", dom);
	else
		str_appends(t, "# local_domains: not set, the hostname\n");
	str_appendf(t, "mail_root = %s/mail\nqueue_dir = %s/spool\n"
		    "log_file = %s/log/postern.log\ntls_cert = %s/etc/tls.crt\n"
		    "tls_key = %s/etc/tls.key\n\n", d, d, d, d, d);
	if (o->port_base < 0) {
		str_appends(t, "# listeners: the defaults (ports 25, 587, 465, "
			    "110, 995, 143, 993 on all addresses)\n");
		return;
	}
	str_appendf(t, "# listeners: port base %d on 127.0.0.1\n", o->port_base);
	for (size_t i = 0; i < sizeof(listeners) / sizeof(listeners[0]); i++)
		str_appendf(t, "%s = 127.0.0.1:%d\n", listeners[i].key,
			    o->port_base + listeners[i].off);
}

static int conf_write(const struct instance *inst, const struct init_opts *o,
		      struct conf *c)
{
	struct str text = STR_INIT(0), errors = STR_INIT(0);
	const char *error, *path = str_c(&inst->conf);
	int r = 0;

	conf_text(inst, o, &text);
	if (file_write_atomic(path, text.s, text.len, 0644, &error) < 0) {
		r = postern_fail("%s: %s", path, error);
	} else if (conf_load(c, path, &errors) > 0) {
		fputs(str_c(&errors), stderr);
		r = postern_fail("%s: the written configuration does not load",
				 path);
	}
	str_free(&text);
	str_free(&errors);
	return r;
}

static int tls_pair(const struct conf *c)
{
	const char *error;

	if (access(c->tls_cert, F_OK) == 0 && access(c->tls_key, F_OK) == 0) {
		printf("kept the existing TLS pair %s, %s\n", c->tls_cert,
		       c->tls_key);
		return 0;
	}
	/* written with their modes (0600, 0644) set on the descriptor */
	if (tls_selfsigned_create(c->tls_cert, c->tls_key, c->hostname,
				  &error) < 0)
		return postern_fail("TLS pair %s: %s", c->tls_cert, error);
	return 0;
}

/* As root: path becomes root:group (when group is not NULL), through a
 * descriptor opened without following a symlink. */
static int set_group(const struct instance *inst, const char *path,
		     const char *group)
{
	gid_t gid;
	int fd, r = 0;

	if (!inst->root || group == NULL)
		return 0;
	if (priv_group(group, &gid) < 0)
		return postern_fail("group %s does not exist", group);
	fd = safefile_open(path, S_IFREG);
	if (fd < 0 || safefile_chown(fd, 0, gid) < 0)
		r = postern_fail("%s: chown: %s", path, errno == ELOOP ?
				 "a symbolic link: refused" : strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

/* etc/NAME: written with header when missing, then read into m. */
static int map_text(const struct instance *inst, const struct conf *c,
		    const char *name, const char *header, mode_t mode,
		    const char *group, struct usermap *m)
{
	struct str path = STR_INIT(0), errors = STR_INIT(0);
	const char *error;
	int r = 0;

	conf_etc_path(c, name, &path);
	if (access(str_c(&path), F_OK) < 0 &&
	    file_write_atomic(str_c(&path), header, strlen(header), mode,
			      &error) < 0) {
		r = postern_fail("%s: %s", str_c(&path), error);
	} else if (usermap_load(m, str_c(&path), str_c(&path), &errors) > 0) {
		fputs(str_c(&errors), stderr);
		r = postern_fail("%s has errors", str_c(&path));
	}
	if (r == 0)
		r = set_group(inst, str_c(&path), group);
	str_free(&path);
	str_free(&errors);
	return r;
}

static int map_cdb(const struct instance *inst, const struct conf *c,
		   const struct usermap *m, const char *name, mode_t mode,
		   int with_values, const char *group)
{
	struct str path = STR_INIT(0);
	const char *error;
	int r = 0;

	conf_etc_path(c, name, &path);
	if (usermap_build_cdb(m, str_c(&path), mode, with_values, &error) < 0)
		r = postern_fail("%s: %s", str_c(&path), error);
	if (r == 0)
		r = set_group(inst, str_c(&path), group);
	str_free(&path);
	return r;
}

static int make_maps(const struct instance *inst, const struct conf *c)
{
	struct usermap users, aliases;
	int r;

	usermap_init(&users, USERMAP_PASSWD);
	usermap_init(&aliases, USERMAP_ALIASES);
	r = map_text(inst, c, "passwd", passwd_header, 0640, "postern-auth",
		     &users) ||
	    map_cdb(inst, c, &users, "passwd.cdb", 0640, 1, "postern-auth") ||
	    map_cdb(inst, c, &users, "users.cdb", 0644, 0, NULL) ||
	    map_text(inst, c, "aliases", aliases_header, 0644, NULL,
		     &aliases) ||
	    map_cdb(inst, c, &aliases, "aliases.cdb", 0644, 1, NULL);
	usermap_free(&users);
	usermap_free(&aliases);
	return r;
}

/* ---- the command --------------------------------------------------- */

static void summary(const struct instance *inst, const struct conf *c,
		    const struct init_opts *o)
{
	const char *d = str_c(&inst->dir), *cf = str_c(&inst->conf);
	const char *dom = c->local_domains.n ? c->local_domains.v[0] : "DOMAIN";

	printf("postern instance created in %s\n"
	       "  %s  configuration (hostname %s)\n"
	       "  %s/etc/tls.crt, tls.key  TLS pair (self-signed for %s)\n"
	       "  %s/etc/passwd, aliases  users and aliases, with their .cdb "
	       "maps\n"
	       "  %s/spool  queue    %s/mail  mailboxes    %s/log  log\n",
	       d, cf, c->hostname, d, c->hostname, d, d, d, d);
	if (o->port_base >= 0)
		printf("  listening on 127.0.0.1: smtp %d, submission %d, "
		       "smtps %d, pop3 %d, pop3s %d, imap %d, imaps %d\n",
		       o->port_base + 25, o->port_base + 87, o->port_base + 65,
		       o->port_base + 10, o->port_base + 95, o->port_base + 43,
		       o->port_base + 93);
	printf("next steps:\n"
	       "  export POSTERN_CONF=%s   (or give -c %s each time)\n"
	       "  postern -c %s user add USER@%s   (password on standard "
	       "input)\n"
	       "  postern -c %s alias add postmaster@%s USER@%s\n"
	       "  postern -c %s config check\n"
	       "  postern -c %s start\n", cf, cf, cf, dom, cf, dom, dom, cf, cf);
}

static int init_run(struct instance *inst, const struct init_opts *o)
{
	struct conf c;
	struct stat st;
	int r;

	if (inst->root && check_ancestors(str_c(&inst->dir)) != 0)
		return 1;
	if (lstat(str_c(&inst->conf), &st) == 0 || errno != ENOENT)
		return postern_fail("%s exists: %s is already initialised",
				    str_c(&inst->conf), str_c(&inst->dir));
	if (inst->root && accounts_create() != 0)
		return 1;
	if (make_dirs(inst) != 0)
		return 1;
	memset(&c, 0, sizeof(c));
	r = conf_write(inst, o, &c);
	if (r == 0)
		r = tls_pair(&c);
	if (r == 0)
		r = make_maps(inst, &c);
	if (r == 0)
		summary(inst, &c, o);
	conf_free(&c);
	return r;
}

int cmd_init(int argc, char **argv, const char *conf_opt)
{
	struct init_opts o;
	struct instance inst;
	int r;

	(void)conf_opt;
	if (argc == 2 && strcmp(argv[1], "--accounts") == 0) {
		/* make install: the accounts alone, from the same table */
		if (geteuid() != 0)
			return postern_fail("init --accounts: must be root");
		return accounts_create();
	}
	r = init_args(&o, argc, argv);
	if (r != 0)
		return r;
	umask(022);
	str_init(&inst.dir, 0);
	str_init(&inst.etc, 0);
	str_init(&inst.conf, 0);
	inst.root = geteuid() == 0;
	r = instance_paths(&inst, o.dir);
	if (r == 0)
		r = init_run(&inst, &o);
	str_free(&inst.dir);
	str_free(&inst.etc);
	str_free(&inst.conf);
	return r;
}
