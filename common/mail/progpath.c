/*
 * progpath - where postern's programs are (see progpath.h)
 */
#include "mail/progpath.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/str.h"

static int prog_try(struct str *out, const char *dir, const char *sub,
		    const char *name)
{
	str_clear(out);
	if (str_appendf(out, "%s%s/%s", dir, sub, name) < 0)
		return -1;
	return access(str_c(out), X_OK) == 0 ? 0 : -1;
}

/* The directory of the running executable into dir; 0 or -1. */
static int prog_self_dir(char *dir, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", dir, size - 1);
	char *slash;

	if (n <= 0)
		return -1;
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	return 0;
}

int prog_path(const char *name, struct str *out)
{
	char self[PATH_MAX];
	const char *env = getenv("POSTERN_LIBEXEC");

	if (strchr(name, '/') != NULL)
		return -1;
	if (env != NULL && *env != '\0')
		return prog_try(out, env, "", name);
	if (prog_self_dir(self, sizeof(self)) < 0)
		return -1;
	if (prog_try(out, self, "/../libexec/postern", name) == 0)
		return 0;
	return prog_try(out, self, "", name);
}

int prog_path_beside_self(const char *name, struct str *out)
{
	char self[PATH_MAX];

	if (strchr(name, '/') != NULL || prog_self_dir(self, sizeof(self)) < 0)
		return -1;
	return prog_try(out, self, "", name);
}
