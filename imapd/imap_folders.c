/*
 * imap_folders - Maildir++ folders (imap_folders.h)
 */
#include "imap_folders.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap_mutf7.h"
#include "mail/addr.h"
#include "util/alloc.h"
#include "util/fileio.h"

#define SUBSCRIPTIONS_FILE "subscriptions"
#define SUBSCRIPTIONS_MAX (1024 * 1024)
#define SPECIAL_USE_FILE "postern-special-use"
#define SPECIAL_USE_FILE_MAX (64 * 1024)
#define DELETED_PREFIX "postern-deleted."

static const struct {
	unsigned bit;
	const char *atom;
} folder_attrs[] = {
	{ IMAP_FA_NONEXISTENT, "\\NonExistent" },
	{ IMAP_FA_HASCHILDREN, "\\HasChildren" },
	{ IMAP_FA_HASNOCHILDREN, "\\HasNoChildren" },
	{ IMAP_FA_SUBSCRIBED, "\\Subscribed" },
	{ IMAP_FA_DRAFTS, "\\Drafts" },
	{ IMAP_FA_SENT, "\\Sent" },
	{ IMAP_FA_TRASH, "\\Trash" },
	{ IMAP_FA_JUNK, "\\Junk" },
	{ IMAP_FA_ARCHIVE, "\\Archive" },
	{ IMAP_FA_ALL, "\\All" },
	{ IMAP_FA_FLAGGED, "\\Flagged" },
};

/* Special use by name (top-level folders only). */
static const struct {
	const char *name;
	unsigned use;
	int create;		/* made at the first login */
} special_names[] = {
	{ "Drafts", IMAP_FA_DRAFTS, 1 },
	{ "Sent", IMAP_FA_SENT, 1 },
	{ "Sent Messages", IMAP_FA_SENT, 0 },
	{ "Sent Items", IMAP_FA_SENT, 0 },
	{ "Trash", IMAP_FA_TRASH, 1 },
	{ "Deleted Messages", IMAP_FA_TRASH, 0 },
	{ "Deleted Items", IMAP_FA_TRASH, 0 },
	{ "Junk", IMAP_FA_JUNK, 1 },
	{ "Spam", IMAP_FA_JUNK, 0 },
	{ "Archive", IMAP_FA_ARCHIVE, 1 },
};
#define NSPECIAL (sizeof(special_names) / sizeof(special_names[0]))

const char *imap_folder_attr_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(folder_attrs) / sizeof(folder_attrs[0]);
	     i++)
		if (folder_attrs[i].bit == bit)
			return folder_attrs[i].atom;
	return NULL;
}

unsigned imap_folder_use_parse(const char *atom, size_t n)
{
	for (size_t i = 0; i < sizeof(folder_attrs) / sizeof(folder_attrs[0]);
	     i++) {
		const char *a = folder_attrs[i].atom;

		if ((folder_attrs[i].bit & IMAP_FA_SPECIAL_USE) &&
		    strlen(a) == n && strncasecmp(a, atom, n) == 0)
			return folder_attrs[i].bit;
	}
	return 0;
}

int imap_folder_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

/* NAMES: one component of a name. */
static int component_ok(const char *p, size_t n)
{
	if (n == 0 || p[0] == '~')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' ||
		    c == '*' || c == '%')
			return 0;
	}
	return 1;
}

int imap_folder_dirname(const char *name, struct str *dir_r,
			const char **error_r)
{
	size_t n = strlen(name), start = 0;

	str_clear(dir_r);
	if (imap_folder_is_inbox(name))
		return 0;
	if (n == 0 || n > IMAP_FOLDER_NAME_MAX ||
	    addr_check_utf8(name, n) < 0) {
		*error_r = "Invalid mailbox name";
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i <= n; i++) {
		if (i < n && name[i] != IMAP_FOLDER_SEP)
			continue;
		if (!component_ok(name + start, i - start)) {
			*error_r = "Invalid mailbox name: empty, \"~\" or a "
				   "forbidden character in a level";
			errno = EINVAL;
			return -1;
		}
		if (str_appendc(dir_r, '.') < 0 ||
		    imap_mutf7_encode(name + start, i - start, dir_r) < 0) {
			*error_r = "Mailbox name too long";
			errno = EINVAL;
			return -1;
		}
		start = i + 1;
	}
	return 0;
}

int imap_folder_from_dirname(const char *dirname, struct str *name_r)
{
	size_t n = strlen(dirname), start = 1;

	str_clear(name_r);
	if (n < 2 || dirname[0] != '.' || dirname[1] == '.')
		return -1;
	for (size_t i = 1; i <= n; i++) {
		if (i < n && dirname[i] != '.')
			continue;
		if (i == start)
			return -1;
		if (start > 1 && str_appendc(name_r, IMAP_FOLDER_SEP) < 0)
			return -1;
		if (imap_mutf7_decode(dirname + start, i - start,
				       name_r) < 0)
			return -1;
		start = i + 1;
	}
	/* the decoded name must itself be a valid name: a directory whose
	 * mUTF-7 hides a '/' or a control character is not a folder */
	{
		struct str check = STR_INIT(0);
		const char *err;
		int r = imap_folder_dirname(name_r->s, &check, &err);

		if (r == 0 && strcmp(check.s ? check.s : "", dirname) != 0)
			r = -1;
		str_free(&check);
		if (r < 0 || imap_folder_is_inbox(name_r->s))
			return -1;
	}
	return 0;
}

/* LIST patterns as a set of states (state i: pattern[0..i) has matched
 * what was read so far), advanced one byte of the name at a time: time
 * O(len(pattern) * len(name)) and no backtracking, whatever the pattern
 * ("*a*a*a*a*b" against a long name). While ci is above the name's
 * position, letters compare without case (INBOX's first level). */
static int match_states(const char *p, const char *s, size_t ci)
{
	size_t pn = strlen(p), live = 1;
	unsigned char *cur = xcalloc(2 * (pn + 1), 1), *next = cur + pn + 1;
	int r;

	cur[0] = 1;
	for (size_t pos = 0;; pos++) {
		/* a wildcard also matches nothing */
		for (size_t i = 0; i < pn; i++)
			if (cur[i] && (p[i] == '*' || p[i] == '%'))
				cur[i + 1] = 1;
		if (s[pos] == '\0' || live == 0)
			break;
		memset(next, 0, pn + 1);
		live = 0;
		for (size_t i = 0; i < pn; i++) {
			unsigned char c = (unsigned char)s[pos];
			unsigned char q = (unsigned char)p[i];

			if (!cur[i])
				continue;
			if (q == '*' || (q == '%' && c != IMAP_FOLDER_SEP))
				next[i] = 1;
			else if (q == c || (pos < ci && q != '%' &&
					    q != '*' &&
					    toupper(q) == toupper(c)))
				next[i + 1] = 1;
			else
				continue;
			live++;
		}
		memcpy(cur, next, pn + 1);
	}
	r = live != 0 && cur[pn];
	free(cur);
	return r;
}

int imap_folder_match(const char *pattern, const char *name)
{
	/* INBOX in any case, also as the first level of a longer name: its
	 * five letters match the pattern's whatever their case ("inbox.%"
	 * matches "INBOX.x", "inb*" INBOX, as Dovecot's) */
	size_t ci = strncasecmp(name, "INBOX", 5) == 0 &&
		    (name[5] == '\0' || name[5] == IMAP_FOLDER_SEP) ? 5 : 0;

	return match_states(pattern, name, ci);
}

/* ---- listing ----------------------------------------------------------- */

static int entry_cmp(const void *a, const void *b)
{
	const struct imap_folder_entry *x = a, *y = b;
	int xi = strcmp(x->name, "INBOX") == 0;
	int yi = strcmp(y->name, "INBOX") == 0;

	if (xi != yi)
		return yi - xi;
	return strcmp(x->name, y->name);
}

static int list_add(struct imap_folder_list *l, size_t *cap, const char *name,
		    unsigned attrs)
{
	if (l->n >= IMAP_FOLDERS_MAX) {
		errno = ENOSPC;
		return -1;
	}
	if (l->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		l->e = xreallocarray(l->e, *cap, sizeof(*l->e));
	}
	l->e[l->n].name = xstrdup(name);
	l->e[l->n].attrs = attrs;
	l->n++;
	return 0;
}

/* 1 if the Maildir entry name is a directory holding cur/. */
static int is_folder_dir(int maildir_fd, const char *name)
{
	struct stat st;
	int fd = openat(maildir_fd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r;

	if (fd < 0)
		return 0;
	r = fstatat(fd, "cur", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode);
	(void)close(fd);
	return r;
}

/* The names in the subscriptions file, each as a UTF-8 folder name, into
 * a list (attrs 0). A missing file is an empty list. */
static int subscriptions_read(int maildir_fd, struct imap_folder_list *subs)
{
	struct str text = STR_INIT(0), dir = STR_INIT(0), name = STR_INIT(0);
	size_t cap = 0, pos = 0;
	int v2 = 0;

	memset(subs, 0, sizeof(*subs));
	if (file_read_all_at(maildir_fd, SUBSCRIPTIONS_FILE, &text,
			     SUBSCRIPTIONS_MAX) < 0) {
		str_free(&text);
		return errno == ENOENT ? 0 : -1;
	}
	if (text.len >= 4 && memcmp(text.s, "V\t2\n", 4) == 0) {
		v2 = 1;
		pos = 4;
	}
	while (pos < text.len) {
		const char *line = text.s + pos;
		const char *nl = memchr(line, '\n', text.len - pos);
		size_t n = nl ? (size_t)(nl - line) : text.len - pos;

		pos += n + 1;
		if (n == 0)
			continue;
		if (n >= 5 && strncasecmp(line, "INBOX", 5) == 0 &&
		    (n == 5)) {
			(void)list_add(subs, &cap, "INBOX", 0);
			continue;
		}
		str_clear(&dir);
		if (str_appendc(&dir, '.') < 0 ||
		    str_append(&dir, line, n) < 0)
			continue;
		if (v2)
			for (size_t i = 1; i < dir.len; i++)
				if (dir.s[i] == '\t')
					dir.s[i] = '.';
		if (imap_folder_from_dirname(dir.s, &name) == 0)
			(void)list_add(subs, &cap, name.s, 0);
	}
	str_free(&text);
	str_free(&dir);
	str_free(&name);
	return 0;
}

static int subscriptions_write(int maildir_fd,
			       const struct imap_folder_list *subs,
			       const char **error_r)
{
	struct str text = STR_INIT(SUBSCRIPTIONS_MAX), dir = STR_INIT(0);
	int r = -1;

	if (str_appends(&text, "V\t2\n\n") < 0)
		goto out;
	for (size_t i = 0; i < subs->n; i++) {
		if (imap_folder_is_inbox(subs->e[i].name)) {
			if (str_appends(&text, "INBOX\n") < 0)
				goto out;
			continue;
		}
		if (imap_folder_dirname(subs->e[i].name, &dir, error_r) < 0)
			continue;
		for (size_t k = 1; k < dir.len; k++)
			if (dir.s[k] == '.')
				dir.s[k] = '\t';
		if (str_append(&text, dir.s + 1, dir.len - 1) < 0 ||
		    str_appendc(&text, '\n') < 0)
			goto out;
	}
	r = file_write_atomic_at(maildir_fd, SUBSCRIPTIONS_FILE, text.s,
				 text.len, 0600, 0, error_r);
out:
	if (r < 0 && text.len >= SUBSCRIPTIONS_MAX) {
		*error_r = "too many subscriptions";
		errno = ENOSPC;
	}
	str_free(&text);
	str_free(&dir);
	return r;
}

/* Special uses chosen with CREATE-SPECIAL-USE: "ATTR\tdirname" lines. */
static unsigned special_use_of(const struct str *file, const char *name,
			       const char *dirname)
{
	unsigned use = 0;
	size_t pos = 0;

	if (strchr(name, IMAP_FOLDER_SEP) == NULL)
		for (size_t i = 0; i < NSPECIAL; i++)
			if (strcmp(special_names[i].name, name) == 0)
				use |= special_names[i].use;
	while (file && pos < file->len) {
		const char *line = file->s + pos;
		const char *nl = memchr(line, '\n', file->len - pos);
		size_t n = nl ? (size_t)(nl - line) : file->len - pos;
		const char *tab = memchr(line, '\t', n);

		pos += n + 1;
		if (tab && strlen(dirname) == n - (size_t)(tab + 1 - line) &&
		    memcmp(tab + 1, dirname, strlen(dirname)) == 0)
			use |= imap_folder_use_parse(line,
						     (size_t)(tab - line));
	}
	return use;
}

/* Add each missing parent of the listed names as \NonExistent, then sort
 * (not before: entries must keep their places while i walks them). */
static int list_add_parents(struct imap_folder_list *l, size_t *cap)
{
	size_t n = l->n;

	for (size_t i = 0; i < n; i++) {
		char *name = xstrdup(l->e[i].name);
		char *dot;

		while ((dot = strrchr(name, IMAP_FOLDER_SEP)) != NULL) {
			*dot = '\0';
			if (imap_folder_list_find(l, name) == NULL &&
			    list_add(l, cap, name, IMAP_FA_NONEXISTENT) < 0) {
				free(name);
				return -1;
			}
		}
		free(name);
	}
	qsort(l->e, l->n, sizeof(*l->e), entry_cmp);
	return 0;
}

/* \HasChildren: some existing folder below (a \NonExistent name is
 * there only for its own children or a subscription). Sorted, so every
 * name below "A" follows it, among names that merely share its prefix
 * ("A b" sorts between "A" and "A.x"); but INBOX comes first, out of
 * order, so its children are looked for in the whole list. */
static void list_children_attrs(struct imap_folder_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		size_t len = strlen(l->e[i].name);
		int kids = 0, inbox = strcmp(l->e[i].name, "INBOX") == 0;

		for (size_t k = i + 1; k < l->n && !kids; k++) {
			const char *c = l->e[k].name;

			if (strncmp(c, l->e[i].name, len) != 0) {
				if (inbox)
					continue;
				break;
			}
			kids = c[len] == IMAP_FOLDER_SEP &&
			       !(l->e[k].attrs & IMAP_FA_NONEXISTENT);
		}
		l->e[i].attrs |= kids ? IMAP_FA_HASCHILDREN :
					IMAP_FA_HASNOCHILDREN;
	}
}

int imap_folders_list(int maildir_fd, struct imap_folder_list *l)
{
	struct imap_folder_list subs;
	struct str name = STR_INIT(0), special = STR_INIT(0);
	size_t cap = 0;
	DIR *d;
	struct dirent *de;
	int fd, r = -1;

	memset(l, 0, sizeof(*l));
	if (subscriptions_read(maildir_fd, &subs) < 0)
		return -1;
	if (file_read_all_at(maildir_fd, SPECIAL_USE_FILE, &special,
			     SPECIAL_USE_FILE_MAX) < 0)
		str_clear(&special);
	fd = openat(maildir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			(void)close(fd);
		goto out;
	}
	if (list_add(l, &cap, "INBOX", 0) < 0) {
		(void)closedir(d);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' ||
		    imap_folder_from_dirname(de->d_name, &name) < 0)
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (!is_folder_dir(maildir_fd, de->d_name))
			continue;
		if (list_add(l, &cap, name.s,
			     special_use_of(&special, name.s,
					    de->d_name)) < 0) {
			(void)closedir(d);
			goto out;
		}
	}
	(void)closedir(d);
	for (size_t i = 0; i < subs.n; i++) {
		if (imap_folder_list_find(l, subs.e[i].name) == NULL &&
		    list_add(l, &cap, subs.e[i].name,
			     IMAP_FA_NONEXISTENT) < 0)
			goto out;
	}
	if (list_add_parents(l, &cap) < 0)
		goto out;
	for (size_t i = 0; i < subs.n; i++) {
		struct imap_folder_entry *e = (struct imap_folder_entry *)
			imap_folder_list_find(l, subs.e[i].name);

		if (e)
			e->attrs |= IMAP_FA_SUBSCRIBED;
	}
	list_children_attrs(l);
	r = 0;
out:
	imap_folder_list_free(&subs);
	str_free(&name);
	str_free(&special);
	if (r < 0) {
		int saved = errno;

		imap_folder_list_free(l);
		errno = saved;
	}
	return r;
}

void imap_folder_list_free(struct imap_folder_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	memset(l, 0, sizeof(*l));
}

const struct imap_folder_entry *
imap_folder_list_find(const struct imap_folder_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->e[i].name, name) == 0 ||
		    (imap_folder_is_inbox(name) &&
		     strcmp(l->e[i].name, "INBOX") == 0))
			return &l->e[i];
	return NULL;
}

/* ---- changes ----------------------------------------------------------- */

/* Make a folder's directory dirname with cur/, new/, tmp/ and the
 * "maildirfolder" marker of Maildir++. A failure after the mkdir removes
 * what was made. */
static int folder_mkdir(int maildir_fd, const char *dirname,
			const char **error_r)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	int fd, mfd;

	if (mkdirat(maildir_fd, dirname, 0700) < 0) {
		*error_r = errno == EEXIST ? "Mailbox already exists" :
					     "Cannot create the mailbox";
		return -1;
	}
	fd = openat(maildir_fd, dirname,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	for (size_t i = 0; i < 3; i++)
		if (mkdirat(fd, subs[i], 0700) < 0 && errno != EEXIST)
			goto fail_fd;
	mfd = openat(fd, "maildirfolder",
		     O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (mfd < 0)
		goto fail_fd;
	(void)close(mfd);
	if (fsync(fd) < 0 || fsync(maildir_fd) < 0)
		goto fail_fd;
	(void)close(fd);
	return 0;
fail_fd:
	(void)close(fd);
fail:
	{
		int saved = errno;
		const char *ignored;

		(void)imap_folders_delete_dir(maildir_fd, dirname, &ignored);
		errno = saved;
	}
	*error_r = "Cannot create the mailbox";
	return -1;
}

static int special_use_add(int maildir_fd, const char *dirname,
			   unsigned use, const char **error_r)
{
	struct str text = STR_INIT(SPECIAL_USE_FILE_MAX);
	int r = -1;

	if (file_read_all_at(maildir_fd, SPECIAL_USE_FILE, &text,
			     SPECIAL_USE_FILE_MAX) < 0 && errno != ENOENT) {
		*error_r = "Cannot read " SPECIAL_USE_FILE;
		goto out;
	}
	for (unsigned bit = 1; bit; bit <<= 1) {
		if (!(use & bit & IMAP_FA_SPECIAL_USE))
			continue;
		if (str_appendf(&text, "%s\t%s\n", imap_folder_attr_name(bit),
				dirname) < 0) {
			*error_r = "Too many special-use folders";
			errno = ENOSPC;
			goto out;
		}
	}
	r = file_write_atomic_at(maildir_fd, SPECIAL_USE_FILE, text.s,
				 text.len, 0600, 0, error_r);
out:
	str_free(&text);
	return r;
}

/* Follow RENAME (to: the new directory name, for from and its children's
 * lines) or DELETE (to NULL: from's own lines) in the special-use file. */
static int special_use_move(int maildir_fd, const char *from, const char *to)
{
	struct str text = STR_INIT(0), out = STR_INIT(SPECIAL_USE_FILE_MAX);
	size_t pos = 0, flen = strlen(from);
	const char *err;
	int changed = 0, r = -1;

	if (file_read_all_at(maildir_fd, SPECIAL_USE_FILE, &text,
			     SPECIAL_USE_FILE_MAX) < 0) {
		r = errno == ENOENT ? 0 : -1;
		goto out;
	}
	while (pos < text.len) {
		const char *line = text.s + pos;
		const char *nl = memchr(line, '\n', text.len - pos);
		size_t n = nl ? (size_t)(nl - line) : text.len - pos;
		const char *tab = memchr(line, '\t', n);
		const char *dir = tab ? tab + 1 : line + n;
		size_t dn = (size_t)(line + n - dir);

		pos += n + 1;
		if (!tab || dn < flen || memcmp(dir, from, flen) != 0 ||
		    (dn > flen && (to == NULL || dir[flen] != '.'))) {
			if (str_append(&out, line, n) < 0 ||
			    str_appendc(&out, '\n') < 0)
				goto out;
			continue;
		}
		changed = 1;
		if (to != NULL &&
		    (str_append(&out, line, (size_t)(dir - line)) < 0 ||
		     str_appends(&out, to) < 0 ||
		     str_append(&out, dir + flen, dn - flen) < 0 ||
		     str_appendc(&out, '\n') < 0))
			goto out;
	}
	r = changed ? file_write_atomic_at(maildir_fd, SPECIAL_USE_FILE, out.s,
					   out.len, 0600, 0, &err) : 0;
out:
	str_free(&text);
	str_free(&out);
	return r;
}

/* The number of folders' directories in the Maildir (by their names), into
 * *n_r. */
static int folders_count(int maildir_fd, size_t *n_r)
{
	struct str name = STR_INIT(0);
	int fd = openat(maildir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	*n_r = 0;
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] == '.' &&
		    imap_folder_from_dirname(de->d_name, &name) == 0)
			(*n_r)++;
	(void)closedir(d);
	str_free(&name);
	return 0;
}

int imap_folders_create(int maildir_fd, const char *name, unsigned use,
			const char **error_r)
{
	struct str dir = STR_INIT(0);
	size_t count;
	int r = -1;

	if (imap_folder_is_inbox(name)) {
		*error_r = "Mailbox already exists";
		errno = EEXIST;
		return -1;
	}
	if (imap_folder_dirname(name, &dir, error_r) < 0)
		goto out;
	/* INBOX and the others are listed up to IMAP_FOLDERS_MAX */
	if (folders_count(maildir_fd, &count) < 0) {
		*error_r = "Cannot read the mailbox directory";
		goto out;
	}
	if (count + 1 >= IMAP_FOLDERS_MAX) {
		*error_r = "Too many mailboxes";
		errno = ENOSPC;
		goto out;
	}
	if (folder_mkdir(maildir_fd, dir.s, error_r) < 0)
		goto out;
	if (use && special_use_add(maildir_fd, dir.s, use, error_r) < 0) {
		int saved = errno;
		const char *ignored;

		(void)imap_folders_delete_dir(maildir_fd, dir.s, &ignored);
		errno = saved;
		goto out;
	}
	r = 0;
out:
	str_free(&dir);
	return r;
}

int imap_folders_remove_tree(int dir_fd, const char *name, unsigned depth)
{
	int fd, r = 0;
	DIR *d;
	struct dirent *de;

	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	d = fdopendir(fd);
	if (d == NULL) {
		(void)close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) == 0 || errno == ENOENT)
			continue;
		if ((errno != EISDIR && errno != EPERM) || depth == 0 ||
		    imap_folders_remove_tree(fd, de->d_name, depth - 1) < 0)
			r = -1;
	}
	(void)closedir(d);
	if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -1;
	return r;
}

int imap_folders_delete_dir(int maildir_fd, const char *dirname,
			    const char **error_r)
{
	struct str gone = STR_INIT(0);
	int r = -1;

	if (str_appendf(&gone, DELETED_PREFIX "%s.%ld", dirname + 1,
			(long)getpid()) < 0) {
		*error_r = "Mailbox name too long";
		goto out;
	}
	if (renameat(maildir_fd, dirname, maildir_fd, gone.s) < 0) {
		*error_r = errno == ENOENT ? "Mailbox does not exist" :
					     "Cannot delete the mailbox";
		goto out;
	}
	(void)fsync(maildir_fd);
	if (imap_folders_remove_tree(maildir_fd, gone.s, 3) < 0) {
		/* the folder is gone for every reader; the rest is swept */
	}
	r = 0;
out:
	str_free(&gone);
	return r;
}

int imap_folders_delete(int maildir_fd, const char *name,
			const char **error_r)
{
	struct str dir = STR_INIT(0);
	int r = -1;

	if (imap_folder_is_inbox(name)) {
		*error_r = "INBOX cannot be deleted";
		errno = EPERM;
		return -1;
	}
	if (imap_folder_dirname(name, &dir, error_r) < 0)
		goto out;
	if (!is_folder_dir(maildir_fd, dir.s)) {
		*error_r = "Mailbox does not exist";
		errno = ENOENT;
		goto out;
	}
	r = imap_folders_delete_dir(maildir_fd, dir.s, error_r);
	if (r == 0)	/* a stale line would give a new folder its use */
		(void)special_use_move(maildir_fd, dir.s, NULL);
out:
	str_free(&dir);
	return r;
}

void imap_folders_sweep(int maildir_fd)
{
	int fd = openat(maildir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			(void)close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, DELETED_PREFIX,
			    strlen(DELETED_PREFIX)) == 0)
			(void)imap_folders_remove_tree(maildir_fd, de->d_name, 3);
	(void)closedir(d);
}

/* RENAME INBOX: a new folder to, and every message of INBOX's cur/ and
 * new/ moved there (the files keep their names). */
static int rename_inbox(int maildir_fd, const char *todir,
			const char **error_r)
{
	static const char *const subs[] = { "cur", "new" };
	int r = -1;

	if (folder_mkdir(maildir_fd, todir, error_r) < 0)
		return -1;
	for (size_t i = 0; i < 2; i++) {
		int from = openat(maildir_fd, subs[i], O_RDONLY | O_DIRECTORY |
				  O_NOFOLLOW | O_CLOEXEC);
		int tofd = -1, to = -1;
		DIR *d;
		struct dirent *de;

		if (from < 0 || (d = fdopendir(from)) == NULL) {
			if (from >= 0)
				(void)close(from);
			*error_r = "Cannot read INBOX";
			return -1;
		}
		tofd = openat(maildir_fd, todir, O_RDONLY | O_DIRECTORY |
			      O_NOFOLLOW | O_CLOEXEC);
		if (tofd >= 0)
			to = openat(tofd, subs[i], O_RDONLY | O_DIRECTORY |
				    O_NOFOLLOW | O_CLOEXEC);
		if (to < 0) {
			if (tofd >= 0)
				(void)close(tofd);
			(void)closedir(d);
			*error_r = "Cannot open the new mailbox";
			return -1;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (renameat(dirfd(d), de->d_name, to, de->d_name) < 0 &&
			    errno != ENOENT) {
				*error_r = "Cannot move a message";
				(void)close(to);
				(void)close(tofd);
				(void)closedir(d);
				return -1;
			}
		}
		(void)fsync(to);
		(void)close(to);
		(void)close(tofd);
		(void)closedir(d);
	}
	r = 0;
	return r;
}

/* The directory names of name's children (".A.x" for ".A"). */
static int children_of(int maildir_fd, const char *dirname,
		       struct imap_folder_list *kids)
{
	size_t len = strlen(dirname), cap = 0;
	int fd = openat(maildir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	memset(kids, 0, sizeof(*kids));
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, dirname, len) == 0 &&
		    de->d_name[len] == '.' && de->d_name[len + 1] != '\0' &&
		    list_add(kids, &cap, de->d_name, 0) < 0) {
			(void)closedir(d);
			return -1;
		}
	(void)closedir(d);
	return 0;
}

/* The children's directories kids (".A.x") under their new parent tdir
 * (".B.x"): with move 0, only check that no new name is taken (EEXIST);
 * with move 1, rename them. */
static int rename_children(int maildir_fd, const struct str *fdir,
			   const struct str *tdir,
			   const struct imap_folder_list *kids, int move,
			   const char **error_r)
{
	struct str kid = STR_INIT(0);
	int r = 0;

	for (size_t i = 0; i < kids->n && r == 0; i++) {
		str_clear(&kid);
		if (str_append(&kid, tdir->s, tdir->len) < 0 ||
		    str_appends(&kid, kids->e[i].name + fdir->len) < 0) {
			*error_r = "Mailbox name too long";
			r = -1;
		} else if (!move && faccessat(maildir_fd, kid.s, F_OK,
					      AT_SYMLINK_NOFOLLOW) == 0) {
			*error_r = "A child mailbox's new name exists";
			errno = EEXIST;
			r = -1;
		} else if (move && renameat(maildir_fd, kids->e[i].name,
					    maildir_fd, kid.s) < 0) {
			*error_r = "Cannot rename a child mailbox";
			r = -1;
		}
	}
	str_free(&kid);
	return r;
}

int imap_folders_rename(int maildir_fd, const char *from, const char *to,
			const char **error_r)
{
	struct str fdir = STR_INIT(0), tdir = STR_INIT(0);
	struct imap_folder_list kids = { 0 };
	int r = -1;

	if (imap_folder_is_inbox(to)) {
		*error_r = "Mailbox already exists";
		errno = EEXIST;
		goto out;
	}
	if (imap_folder_dirname(from, &fdir, error_r) < 0 ||
	    imap_folder_dirname(to, &tdir, error_r) < 0)
		goto out;
	if (faccessat(maildir_fd, tdir.s, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		*error_r = "Mailbox already exists";
		errno = EEXIST;
		goto out;
	}
	if (imap_folder_is_inbox(from)) {
		r = rename_inbox(maildir_fd, tdir.s, error_r);
		goto out;
	}
	if (!is_folder_dir(maildir_fd, fdir.s)) {
		*error_r = "Mailbox does not exist";
		errno = ENOENT;
		goto out;
	}
	if (children_of(maildir_fd, fdir.s, &kids) < 0) {
		*error_r = "Cannot rename the mailbox";
		goto out;
	}
	if (rename_children(maildir_fd, &fdir, &tdir, &kids, 0, error_r) < 0)
		goto out;
	if (renameat(maildir_fd, fdir.s, maildir_fd, tdir.s) < 0) {
		*error_r = "Cannot rename the mailbox";
		goto out;
	}
	if (rename_children(maildir_fd, &fdir, &tdir, &kids, 1, error_r) < 0)
		goto out;
	(void)fsync(maildir_fd);
	/* the folders have moved; a failure here costs their special-use
	 * attributes only */
	(void)special_use_move(maildir_fd, fdir.s, tdir.s);
	r = 0;
out:
	imap_folder_list_free(&kids);
	str_free(&fdir);
	str_free(&tdir);
	return r;
}

int imap_folders_subscribe(int maildir_fd, const char *name, int on,
			   const char **error_r)
{
	struct imap_folder_list subs;
	struct str dir = STR_INIT(0);
	const struct imap_folder_entry *e;
	size_t cap;
	int r = -1;

	if (imap_folder_dirname(name, &dir, error_r) < 0) {
		str_free(&dir);
		return -1;
	}
	str_free(&dir);
	if (subscriptions_read(maildir_fd, &subs) < 0) {
		*error_r = "Cannot read the subscriptions";
		return -1;
	}
	cap = subs.n;
	e = imap_folder_list_find(&subs, name);
	if (on && e == NULL) {
		if (list_add(&subs, &cap, imap_folder_is_inbox(name) ?
			     "INBOX" : name, 0) < 0) {
			*error_r = "Too many subscriptions";
			goto out;
		}
	} else if (!on && e != NULL) {
		size_t i = (size_t)(e - subs.e);

		free(subs.e[i].name);
		memmove(&subs.e[i], &subs.e[i + 1],
			(subs.n - i - 1) * sizeof(*subs.e));
		subs.n--;
	} else if (on) {
		/* nothing changes: subscribing twice is no error (RFC 3501
		 * leaves it open; clients expect OK) */
		r = 0;
		goto out;
	} else {
		*error_r = "Mailbox is not subscribed";
		errno = ENOENT;
		goto out;
	}
	r = subscriptions_write(maildir_fd, &subs, error_r);
out:
	imap_folder_list_free(&subs);
	return r;
}

int imap_folders_ensure_special(int maildir_fd, const char **error_r)
{
	struct imap_folder_list l;
	unsigned have = 0;
	int r = 0;

	if (imap_folders_list(maildir_fd, &l) < 0) {
		*error_r = "Cannot list the mailboxes";
		return -1;
	}
	for (size_t i = 0; i < l.n; i++)
		if (!(l.e[i].attrs & IMAP_FA_NONEXISTENT))
			have |= l.e[i].attrs & IMAP_FA_SPECIAL_USE;
	imap_folder_list_free(&l);
	for (size_t i = 0; i < NSPECIAL && r == 0; i++) {
		const char *name = special_names[i].name;

		if (!special_names[i].create ||
		    (have & special_names[i].use))
			continue;
		if (imap_folders_create(maildir_fd, name, 0, error_r) < 0 &&
		    errno != EEXIST)
			r = -1;
		else if (imap_folders_subscribe(maildir_fd, name, 1,
						error_r) < 0)
			r = -1;
	}
	return r;
}
