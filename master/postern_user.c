/*
 * postern_user - "postern user ..." and "postern alias ...": the virtual
 * users and the aliases of an instance
 *
 * PRIVILEGE  whoever runs it; as root the password maps get the group
 *            postern-auth and new Maildirs the owner postern-mail
 * INPUT      the configuration; etc/passwd and etc/aliases (usermap.h);
 *            the password: the first line of standard input, or asked
 *            twice with echo off when standard input is a terminal
 * OUTPUT     etc/passwd -> passwd.cdb (address -> hash, 0640) and
 *            users.cdb (address -> "", 0644); etc/aliases -> aliases.cdb
 *            (address -> "t1,t2", 0644); mail_root/DOMAIN/USER/{cur,new,tmp}
 *            (mailbox_path.h)
 * LOCKING    every edit holds an exclusive flock on etc/.lock while it reads
 *            the text, changes it, writes it atomically and rebuilds the
 *            cdb maps (atomically too), so concurrent edits serialise and
 *            readers always see whole maps
 * SEE ALSO   postern(8), postern-auth(8)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "mail/conf.h"
#include "mail/exitcode.h"
#include "mail/mailbox_path.h"
#include "usermap.h"
#include "postern.h"
#include "util/fileio.h"
#include "util/privs.h"
#include "util/safedir.h"
#include "util/pwhash.h"
#include "util/str.h"

#define PASSWORD_MAX 1024
#define AUTH_GROUP   "postern-auth"
#define MAIL_ACCOUNT "postern-mail"

struct maps {
	struct conf c;
	int lock_fd;
	struct str passwd_path, aliases_path;
	struct usermap users, aliases;
};

/* ---- configuration, lock, maps ------------------------------------- */

static int maps_conf(struct maps *mp, const char *conf_opt)
{
	struct str errors = STR_INIT(0);

	memset(mp, 0, sizeof(*mp));
	mp->lock_fd = -1;
	str_init(&mp->passwd_path, 0);
	str_init(&mp->aliases_path, 0);
	usermap_init(&mp->users, USERMAP_PASSWD);
	usermap_init(&mp->aliases, USERMAP_ALIASES);
	umask(022);
	if (conf_load(&mp->c, conf_path(conf_opt), &errors) > 0) {
		fputs(str_c(&errors), stderr);
		str_free(&errors);
		return postern_fail("configuration has errors; nothing done");
	}
	str_free(&errors);
	if (conf_etc_path(&mp->c, "passwd", &mp->passwd_path) < 0 ||
	    conf_etc_path(&mp->c, "aliases", &mp->aliases_path) < 0)
		return postern_fail("%s: path too long", mp->c.etc_dir);
	return 0;
}

static void maps_close(struct maps *mp)
{
	if (mp->lock_fd >= 0)
		close(mp->lock_fd);
	usermap_free(&mp->users);
	usermap_free(&mp->aliases);
	str_free(&mp->passwd_path);
	str_free(&mp->aliases_path);
	conf_free(&mp->c);
}

static int maps_lock(struct maps *mp)
{
	struct str path = STR_INIT(0);
	int r = 0;

	conf_etc_path(&mp->c, ".lock", &path);
	mp->lock_fd = open(str_c(&path), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (mp->lock_fd < 0)
		r = postern_fail("%s: %s", str_c(&path), strerror(errno));
	else if (flock(mp->lock_fd, LOCK_EX) < 0)
		r = postern_fail("%s: lock: %s", str_c(&path), strerror(errno));
	str_free(&path);
	return r;
}

/* Read both text sources (taking the lock first when lock is set). */
static int maps_load(struct maps *mp, int lock)
{
	struct str errors = STR_INIT(0);
	const char *pp = str_c(&mp->passwd_path);
	const char *ap = str_c(&mp->aliases_path);
	int n;

	if (lock && maps_lock(mp) != 0)
		return 1;
	n = usermap_load(&mp->users, pp, pp, &errors);
	n += usermap_load(&mp->aliases, ap, ap, &errors);
	if (n > 0) {
		fputs(str_c(&errors), stderr);
		str_free(&errors);
		return postern_fail("fix the errors above first; nothing done");
	}
	str_free(&errors);
	return 0;
}

/* ---- writing ------------------------------------------------------- */

/* Write m to path atomically, keeping the mode of the file it replaces. */
static int text_write(const char *path, const struct usermap *m,
		      mode_t defmode)
{
	struct str text = STR_INIT(0);
	struct stat st;
	mode_t mode = stat(path, &st) == 0 ? st.st_mode & 07777 : defmode;
	const char *error;
	int r = 0;

	usermap_format(m, &text);
	if (file_write_atomic(path, text.s ? text.s : "", text.len, mode,
			      &error) < 0)
		r = postern_fail("%s: %s", path, error);
	str_free(&text);
	return r;
}

static int cdb_write(const struct maps *mp, const struct usermap *m,
		     const char *name, mode_t mode, int with_values)
{
	struct str path = STR_INIT(0);
	const char *error;
	int r = 0;

	conf_etc_path(&mp->c, name, &path);
	if (usermap_build_cdb(m, str_c(&path), mode, with_values, &error) < 0)
		r = postern_fail("%s: %s", str_c(&path), error);
	str_free(&path);
	return r;
}

/* As root, create the password files with the group postern-auth: the
 * effective gid becomes the group of every file created meanwhile, so the
 * auth service can read them from the instant they exist. */
static int auth_group_enter(int *entered)
{
	gid_t gid;

	*entered = 0;
	if (geteuid() != 0)
		return 0;
	if (priv_group(AUTH_GROUP, &gid) < 0) {
		fprintf(stderr, "postern: warning: group %s does not exist "
			"(run \"postern init\" as root): the password maps "
			"are readable by root only\n", AUTH_GROUP);
		return 0;
	}
	if (setegid(gid) < 0)
		return postern_fail("setegid %s: %s", AUTH_GROUP,
				    strerror(errno));
	*entered = 1;
	return 0;
}

static int auth_group_leave(int entered)
{
	if (entered && setegid(getgid()) < 0)
		return postern_fail("setegid: %s", strerror(errno));
	return 0;
}

static int users_commit(struct maps *mp)
{
	int entered, r;

	if (auth_group_enter(&entered) != 0)
		return 1;
	r = text_write(str_c(&mp->passwd_path), &mp->users, 0640);
	if (r == 0)
		r = cdb_write(mp, &mp->users, "passwd.cdb", 0640, 1);
	if (auth_group_leave(entered) != 0)
		return 1;
	if (r == 0)
		r = cdb_write(mp, &mp->users, "users.cdb", 0644, 0);
	return r;
}

static int aliases_commit(struct maps *mp)
{
	if (text_write(str_c(&mp->aliases_path), &mp->aliases, 0644) != 0)
		return 1;
	return cdb_write(mp, &mp->aliases, "aliases.cdb", 0644, 1);
}

/* ---- addresses ----------------------------------------------------- */

static int addr_arg(const char *arg, struct str *addr)
{
	const char *error;

	if (usermap_addr_check(arg, addr, &error) < 0)
		return postern_fail("%s: %s", arg, error);
	return 0;
}

/* An address in one of local_domains, lower-cased into addr. */
static int local_addr_arg(const struct maps *mp, const char *arg,
			  struct str *addr)
{
	const struct conf_list *l = &mp->c.local_domains;
	struct str list = STR_INIT(0);

	if (addr_arg(arg, addr) != 0)
		return 1;
	if (usermap_domain_listed(str_c(addr), l))
		return 0;
	for (size_t i = 0; i < l->n; i++)
		str_appendf(&list, "%s,", l->v[i]);
	str_appends(&list, strchr(str_c(addr), '@') + 1);
	postern_fail("%s: domain %s is not one of local_domains; add it "
		     "with: postern config set local_domains=%s", arg,
		     strchr(str_c(addr), '@') + 1, str_c(&list));
	str_free(&list);
	return 1;
}

/* ---- passwords ----------------------------------------------------- */

static volatile sig_atomic_t password_interrupted;

static void password_on_signal(int sig)
{
	(void)sig;
	password_interrupted = 1;
}

/* Read one line from fd into pw, without its CR/LF. 0, or -1 with the
 * reason in *error_r (not printed: a prompt must end its line first). */
static int password_line(int fd, struct str *pw, const char **error_r)
{
	char ch;
	ssize_t n;

	str_clear(pw);
	while ((n = read(fd, &ch, 1)) == 1 && ch != '\n') {
		*error_r = "NUL byte in the password";
		if (ch == '\0')
			return -1;
		*error_r = "password longer than 1024 bytes";
		if (str_appendc(pw, ch) < 0)
			return -1;
	}
	*error_r = password_interrupted ? "interrupted" : strerror(errno);
	if (n < 0)
		return -1;
	while (pw->len > 0 && pw->s[pw->len - 1] == '\r')
		str_truncate(pw, pw->len - 1);
	*error_r = "empty password";
	return pw->len == 0 ? -1 : 0;
}

/* Prompt on the terminal with echo off; the terminal is restored even
 * when the prompt is interrupted by ^C. */
static int password_prompt(const char *prompt, struct str *pw)
{
	struct termios saved, quiet;
	struct sigaction sa, old_int, old_term;
	const char *error = NULL;

	if (tcgetattr(0, &saved) < 0)
		return postern_fail("terminal: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = password_on_signal;	/* no SA_RESTART: read fails */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	fputs(prompt, stderr);
	if (tcsetattr(0, TCSAFLUSH, &quiet) < 0)
		error = strerror(errno);
	else if (password_line(0, pw, &error) == 0)
		error = NULL;
	tcsetattr(0, TCSAFLUSH, &saved);
	fputc('\n', stderr);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return error ? postern_fail("%s", error) : 0;
}

static int password_read(struct str *pw)
{
	struct str again = STR_INIT(PASSWORD_MAX);
	const char *error;
	int r;

	if (!isatty(0))
		return password_line(0, pw, &error) < 0
			? postern_fail("%s", error) : 0;
	r = password_prompt("Password: ", pw);
	if (r == 0)
		r = password_prompt("Retype password: ", &again);
	if (r == 0 && (again.len != pw->len ||
		       memcmp(again.s, pw->s, pw->len) != 0))
		r = postern_fail("the passwords do not match; nothing done");
	explicit_bzero(again.s ? again.s : "", again.len);
	str_free(&again);
	return r;
}

/* The password from standard input, hashed into hash. */
static int password_hash(struct str *hash)
{
	struct str pw = STR_INIT(PASSWORD_MAX);
	const char *error;
	int r = password_read(&pw);

	if (r == 0 && pwhash_create(str_c(&pw), hash, &error) < 0)
		r = postern_fail("password hash: %s", error);
	if (pw.s != NULL)
		explicit_bzero(pw.s, pw.cap);
	str_free(&pw);
	return r;
}

/* ---- Maildir ------------------------------------------------------- */

struct owner {
	int set;
	uid_t uid;
	gid_t gid;
};

static void mail_owner(struct owner *o)
{
	o->set = 0;
	if (geteuid() != 0)
		return;
	if (priv_account(MAIL_ACCOUNT, &o->uid, &o->gid) == 0) {
		o->set = 1;
		return;
	}
	fprintf(stderr, "postern: warning: account %s does not exist (run "
		"\"postern init\" as root): the mailbox stays owned by root\n",
		MAIL_ACCOUNT);
}

/* Create (if missing) and open the directory name under the directory
 * at; never follows a symbolic link, so whoever can write in mail_root
 * cannot make root chown something else. path names it for messages. */
static int subdir(int at, const char *name, const char *path, mode_t mode,
		  const struct owner *o, int *fd_r)
{
	int created = mkdirat(at, name, mode) == 0;

	if (!created && errno != EEXIST)
		return postern_fail("%s: %s", path, strerror(errno));
	*fd_r = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		       O_CLOEXEC);
	if (*fd_r < 0)
		return postern_fail("%s: %s", path, strerror(errno));
	if (created && o->set && fchown(*fd_r, o->uid, o->gid) < 0) {
		close(*fd_r);
		return postern_fail("%s: chown: %s", path, strerror(errno));
	}
	return 0;
}

/* mail_root is the operator's (a symlink they made is followed); when
 * it is created here it gets its owner through its descriptor. */
static int mail_root_open(const char *root, const struct owner *o, int *fd)
{
	int created = 0;

	*fd = safedir_open_top(root, 0750, &created);
	if (*fd < 0)
		return postern_fail("%s: %s", root, strerror(errno));
	if (created && o->set && fchown(*fd, o->uid, o->gid) < 0) {
		close(*fd);
		*fd = -1;
		return postern_fail("%s: chown: %s", root, strerror(errno));
	}
	return 0;
}

/* The Maildir of addr (mailbox_path.h, the rule every program uses). */
static int maildir_of(const char *addr, struct mailbox_path *mp)
{
	const char *error;

	if (mailbox_path_from_addr(addr, mp, &error) < 0)
		return postern_fail("%s: no mailbox for this address: %s", addr,
				    error);
	return 0;
}

/* mail_root/DOMAIN/USER/{cur,new,tmp}; path_r gets the Maildir. */
static int maildir_create(const struct conf *c, const char *addr,
			  struct str *path_r)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	struct str path = STR_INIT(0);
	struct mailbox_path mp;
	struct owner o;
	int rootfd = -1, dfd = -1, mfd = -1, fd, r;

	r = maildir_of(addr, &mp);
	if (r != 0)
		return r;
	mail_owner(&o);
	path_join(&path, c->mail_root, mp.domain);
	mailbox_path_full(c->mail_root, &mp, path_r);
	r = mail_root_open(c->mail_root, &o, &rootfd);
	if (r == 0)
		r = subdir(rootfd, mp.domain, str_c(&path), 0750, &o, &dfd);
	if (r == 0)
		r = subdir(dfd, mp.user, str_c(path_r), 0700, &o, &mfd);
	for (size_t i = 0; r == 0 && i < 3; i++) {
		path_join(&path, str_c(path_r), subs[i]);
		r = subdir(mfd, subs[i], str_c(&path), 0700, &o, &fd);
		if (r == 0)
			close(fd);
	}
	if (mfd >= 0)
		close(mfd);
	if (dfd >= 0)
		close(dfd);
	if (rootfd >= 0)
		close(rootfd);
	str_free(&path);
	return r;
}

static void maildir_path(const struct conf *c, const char *addr,
			 struct str *out)
{
	struct mailbox_path mp;
	const char *error;

	str_clear(out);
	if (mailbox_path_from_addr(addr, &mp, &error) == 0)
		mailbox_path_full(c->mail_root, &mp, out);
	else
		str_appendf(out, "(none: %s)", error);
}

/* ---- user subcommands ---------------------------------------------- */

static int user_add(struct maps *mp, const char *arg)
{
	struct str addr = STR_INIT(0), hash = STR_INIT(0), box = STR_INIT(0);
	int r = local_addr_arg(mp, arg, &addr);

	if (r == 0)
		r = password_hash(&hash);
	if (r == 0)
		r = maps_load(mp, 1);
	if (r == 0 && usermap_get(&mp->users, str_c(&addr)) != NULL)
		r = postern_fail("%s is already a user", str_c(&addr));
	if (r == 0 && usermap_get(&mp->aliases, str_c(&addr)) != NULL)
		r = postern_fail("%s is an alias; remove it first with: "
				 "postern alias del %s", str_c(&addr),
				 str_c(&addr));
	if (r == 0)
		r = maildir_create(&mp->c, str_c(&addr), &box);
	if (r == 0) {
		usermap_set(&mp->users, str_c(&addr), str_c(&hash));
		r = users_commit(mp);
	}
	if (r == 0)
		printf("user %s added; mailbox %s/\n", str_c(&addr),
		       str_c(&box));
	str_free(&addr);
	str_free(&hash);
	str_free(&box);
	return r;
}

/* Mention the aliases that still forward to a deleted user. */
static void user_del_note(const struct maps *mp, const char *addr)
{
	size_t alen = strlen(addr);

	for (size_t i = 0; i < mp->aliases.n; i++) {
		const struct usermap_line *l = &mp->aliases.v[i];
		for (const char *p = l->value; l->key && p; ) {
			if (strncmp(p, addr, alen) == 0 &&
			    (p[alen] == ',' || p[alen] == '\0')) {
				printf("note: alias %s still has %s as a "
				       "target\n", l->key, addr);
				break;
			}
			p = strchr(p, ',');
			p = p ? p + 1 : NULL;
		}
	}
}

static int user_del(struct maps *mp, const char *arg)
{
	struct str addr = STR_INIT(0), box = STR_INIT(0);
	int r = addr_arg(arg, &addr);

	if (r == 0)
		r = maps_load(mp, 1);
	if (r == 0 && usermap_del(&mp->users, str_c(&addr)) == 0)
		r = postern_fail("%s is not a user", str_c(&addr));
	if (r == 0)
		r = users_commit(mp);
	if (r == 0) {
		maildir_path(&mp->c, str_c(&addr), &box);
		printf("user %s deleted; mailbox %s/ kept; remove it by hand "
		       "if it is no longer wanted\n", str_c(&addr),
		       str_c(&box));
		user_del_note(mp, str_c(&addr));
	}
	str_free(&addr);
	str_free(&box);
	return r;
}

static int user_passwd(struct maps *mp, const char *arg)
{
	struct str addr = STR_INIT(0), hash = STR_INIT(0);
	int r = addr_arg(arg, &addr);

	if (r == 0)
		r = maps_load(mp, 0);
	if (r == 0 && usermap_get(&mp->users, str_c(&addr)) == NULL)
		r = postern_fail("%s is not a user", str_c(&addr));
	if (r == 0)
		r = password_hash(&hash);
	if (r == 0) {
		/* read again under the lock: it may have changed meanwhile */
		usermap_free(&mp->users);
		usermap_free(&mp->aliases);
		r = maps_load(mp, 1);
	}
	if (r == 0 && usermap_set(&mp->users, str_c(&addr), str_c(&hash)) == 0)
		r = postern_fail("%s was deleted meanwhile", str_c(&addr));
	if (r == 0)
		r = users_commit(mp);
	if (r == 0)
		printf("password of %s changed\n", str_c(&addr));
	str_free(&addr);
	str_free(&hash);
	return r;
}

static int user_list(struct maps *mp)
{
	const struct usermap_line **v;
	size_t n;

	if (maps_load(mp, 0) != 0)
		return 1;
	v = usermap_sorted(&mp->users, &n);
	for (size_t i = 0; i < n; i++)
		printf("%s\n", v[i]->key);
	free(v);
	return 0;
}

/* After an edit by hand: check etc/passwd and rebuild its maps. */
static int user_rebuild(struct maps *mp)
{
	int r = maps_load(mp, 1);

	if (r == 0)
		r = users_commit(mp);
	if (r == 0)
		printf("passwd.cdb and users.cdb rebuilt from %s\n",
		       str_c(&mp->passwd_path));
	return r;
}

static int user_usage(void)
{
	fputs("usage: postern [-c FILE] user add ADDR | user del ADDR | "
	      "user passwd ADDR | user list | user rebuild\n", stderr);
	return EXIT_USAGE;
}

int cmd_user(int argc, char **argv, const char *conf_opt)
{
	struct maps mp;
	int r;

	if (argc == 2 && (strcmp(argv[1], "list") == 0 ||
			  strcmp(argv[1], "rebuild") == 0))
		;
	else if (argc != 3 || (strcmp(argv[1], "add") != 0 &&
			       strcmp(argv[1], "del") != 0 &&
			       strcmp(argv[1], "passwd") != 0))
		return user_usage();
	r = maps_conf(&mp, conf_opt);
	if (r == 0 && strcmp(argv[1], "add") == 0)
		r = user_add(&mp, argv[2]);
	else if (r == 0 && strcmp(argv[1], "del") == 0)
		r = user_del(&mp, argv[2]);
	else if (r == 0 && strcmp(argv[1], "passwd") == 0)
		r = user_passwd(&mp, argv[2]);
	else if (r == 0 && strcmp(argv[1], "rebuild") == 0)
		r = user_rebuild(&mp);
	else if (r == 0)
		r = user_list(&mp);
	maps_close(&mp);
	return r;
}

/* ---- alias subcommands --------------------------------------------- */

/* The targets of argv (each "t1,t2,..."), checked, lower-cased, without
 * duplicates, joined with ',' into out. */
static int alias_targets(const char *alias, int argc, char **argv,
			 struct str *out)
{
	struct str one = STR_INIT(0), norm = STR_INIT(0);
	struct usermap seen;
	int r = 0;

	usermap_init(&seen, USERMAP_ALIASES);
	for (int i = 0; r == 0 && i < argc; i++) {
		const char *p = argv[i];
		do {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			str_set(&one, p, n);
			r = n == 0 ? postern_fail("%s: empty target", argv[i])
				   : addr_arg(str_c(&one), &norm);
			if (r == 0 && strcmp(str_c(&norm), alias) == 0)
				r = postern_fail("%s: an alias may not have "
						 "itself as a target", alias);
			if (r == 0 && usermap_set(&seen, str_c(&norm), "") == 0) {
				if (seen.n > USERMAP_TARGETS_MAX)
					r = postern_fail("more than %u targets",
							 USERMAP_TARGETS_MAX);
				if (out->len > 0)
					str_appendc(out, ',');
				str_appends(out, str_c(&norm));
			}
			p = comma ? comma + 1 : NULL;
		} while (r == 0 && p != NULL);
	}
	usermap_free(&seen);
	str_free(&one);
	str_free(&norm);
	return r;
}

static void alias_targets_print(const struct usermap_line *l)
{
	for (const char *p = l->value; *p != '\0'; p++) {
		putchar(*p);
		if (*p == ',')
			putchar(' ');
	}
	putchar('\n');
}

static void alias_print(const struct usermap_line *l)
{
	printf("%s: ", l->key);
	alias_targets_print(l);
}

static int alias_add(struct maps *mp, const char *arg, int argc, char **argv)
{
	struct str addr = STR_INIT(0), targets = STR_INIT(0);
	int r = local_addr_arg(mp, arg, &addr), replaced = 0;

	if (r == 0)
		r = alias_targets(str_c(&addr), argc, argv, &targets);
	if (r == 0)
		r = maps_load(mp, 1);
	if (r == 0 && usermap_get(&mp->users, str_c(&addr)) != NULL)
		r = postern_fail("%s is a user; an alias may not also be a "
				 "user", str_c(&addr));
	if (r == 0) {
		replaced = usermap_set(&mp->aliases, str_c(&addr),
				       str_c(&targets));
		r = aliases_commit(mp);
	}
	if (r == 0) {
		printf("alias %s %s: ", str_c(&addr),
		       replaced ? "replaced" : "added");
		alias_targets_print(usermap_get(&mp->aliases, str_c(&addr)));
	}
	str_free(&addr);
	str_free(&targets);
	return r;
}

static int alias_del(struct maps *mp, const char *arg)
{
	struct str addr = STR_INIT(0);
	int r = addr_arg(arg, &addr);

	if (r == 0)
		r = maps_load(mp, 1);
	if (r == 0 && usermap_del(&mp->aliases, str_c(&addr)) == 0)
		r = postern_fail("%s is not an alias", str_c(&addr));
	if (r == 0)
		r = aliases_commit(mp);
	if (r == 0)
		printf("alias %s deleted\n", str_c(&addr));
	str_free(&addr);
	return r;
}

static int alias_list(struct maps *mp)
{
	const struct usermap_line **v;
	size_t n;

	if (maps_load(mp, 0) != 0)
		return 1;
	v = usermap_sorted(&mp->aliases, &n);
	for (size_t i = 0; i < n; i++)
		alias_print(v[i]);
	free(v);
	return 0;
}

static int alias_rebuild(struct maps *mp)
{
	int r = maps_load(mp, 1);

	if (r == 0)
		r = aliases_commit(mp);
	if (r == 0)
		printf("aliases.cdb rebuilt from %s\n",
		       str_c(&mp->aliases_path));
	return r;
}

static int alias_usage(void)
{
	fputs("usage: postern [-c FILE] alias add ADDR TARGET[,TARGET...] | "
	      "alias del ADDR | alias list | alias rebuild\n", stderr);
	return EXIT_USAGE;
}

int cmd_alias(int argc, char **argv, const char *conf_opt)
{
	struct maps mp;
	int r;

	if (argc >= 4 && strcmp(argv[1], "add") == 0)
		;
	else if (!(argc == 3 && strcmp(argv[1], "del") == 0) &&
		 !(argc == 2 && strcmp(argv[1], "list") == 0) &&
		 !(argc == 2 && strcmp(argv[1], "rebuild") == 0))
		return alias_usage();
	r = maps_conf(&mp, conf_opt);
	if (r == 0 && strcmp(argv[1], "add") == 0)
		r = alias_add(&mp, argv[2], argc - 3, argv + 3);
	else if (r == 0 && strcmp(argv[1], "del") == 0)
		r = alias_del(&mp, argv[2]);
	else if (r == 0 && strcmp(argv[1], "rebuild") == 0)
		r = alias_rebuild(&mp);
	else if (r == 0)
		r = alias_list(&mp);
	maps_close(&mp);
	return r;
}
