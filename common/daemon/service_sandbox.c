/*
 * service_sandbox - a daemon's named profile applied with the instance's
 *                   paths (service_sandbox.h)
 */
#include "daemon/service_sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/str.h"

/* A profile with its paths made absolute. */
struct resolved {
	struct sandbox_profile p;
	struct sandbox_path paths[SERVICE_PROFILE_PATHS_MAX];
	struct str names[SERVICE_PROFILE_PATHS_MAX];
};

static const char *root_dir(const struct conf *c, enum service_root root)
{
	switch (root) {
	case SERVICE_ETC:
		return c->etc_dir;
	case SERVICE_QUEUE:
		return c->queue_dir;
	case SERVICE_MAIL:
		return c->mail_root;
	case SERVICE_ABSOLUTE:
		break;
	}
	return NULL;
}

static void resolve(const struct conf *c, const struct service_profile *sp,
		    struct resolved *r)
{
	if (sp->npaths > SERVICE_PROFILE_PATHS_MAX)
		log_panic("sandbox %s: %zu paths, at most %d", sp->name,
			  sp->npaths, SERVICE_PROFILE_PATHS_MAX);
	r->p = (struct sandbox_profile){ sp->name, sp->sys, r->paths,
					 sp->npaths };
	for (size_t i = 0; i < sp->npaths; i++) {
		const struct service_path *in = &sp->paths[i];
		const char *dir = root_dir(c, in->root);
		struct str *name = &r->names[i];

		str_init(name, 0);
		if (dir != NULL)
			str_sets(name, dir);
		if (in->sub != NULL && dir != NULL)
			str_appendf(name, "/%s", in->sub);
		else if (in->sub != NULL)
			str_sets(name, in->sub);
		r->paths[i] = (struct sandbox_path){ str_c(name), -1,
						     in->rights };
	}
}

static void resolved_free(struct resolved *r)
{
	for (size_t i = 0; i < r->p.npaths; i++)
		str_free(&r->names[i]);
}

/* The first path of the profile that cannot be opened, for the log. */
static const char *missing_path(const struct resolved *r)
{
	for (size_t i = 0; i < r->p.npaths; i++) {
		FILE *f = fopen(r->paths[i].path, "r");

		if (f == NULL && errno == ENOENT)
			return r->paths[i].path;
		if (f != NULL)
			fclose(f);
	}
	return "";
}

#ifdef POSTERN_TEST_HOOKS
/* Test builds: etc_dir/postern-test-hooks (service_sandbox.h). */
static void hooks_read(const struct conf *c)
{
	struct str path = STR_INIT(0);
	char line[1024];
	FILE *f;

	if (conf_etc_path(c, SERVICE_HOOKS_FILE, &path) < 0 ||
	    (f = fopen(str_c(&path), "r")) == NULL) {
		str_free(&path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "forbidden=", 10) == 0)
			sandbox_test_arm(line + 10);
		else if (strncmp(line, "landlock_abi=", 13) == 0)
			sandbox_landlock_abi_cap(atoi(line + 13));
	}
	fclose(f);
	log_info(NULL, "test hooks read from %s", str_c(&path));
	str_free(&path);
}
#else
static void hooks_read(const struct conf *c)
{
	(void)c;
}
#endif

void service_sandbox(struct service_child *sc, const struct service_profile *p,
		     const struct sandbox_prepared *sessions)
{
	struct resolved r;
	struct sandbox_report rep;
	const char *error = "";
	char desc[256];

	hooks_read(&sc->conf);
	resolve(&sc->conf, p, &r);
	if (sandbox_apply(&r.p, &rep, &error) < 0)
		log_fatal("sandbox %s: %s: %s %s", p->name, error,
			  strerror(errno), missing_path(&r));
	sandbox_describe(&r.p, &rep, desc, sizeof(desc));
	resolved_free(&r);
	if (sessions != NULL)
		log_info(NULL, "%s sessions=%s", desc, sessions->name);
	else
		log_info(NULL, "%s", desc);
}

void service_sandbox_prepare(struct service_child *sc,
			     const struct service_profile *p,
			     struct sandbox_prepared *out)
{
	struct resolved r;
	const char *error = "";

	resolve(&sc->conf, p, &r);
	if (sandbox_prepare(&r.p, out, &error) < 0)
		log_fatal("sandbox %s: %s: %s %s", p->name, error,
			  strerror(errno), missing_path(&r));
	resolved_free(&r);
}

void service_sandbox_enter(struct sandbox_prepared *sp)
{
	struct sandbox_report rep;
	const char *error = "";

	if (sandbox_enter(sp, &rep, &error) < 0)
		log_fatal("sandbox %s: %s: %s", sp->name, error,
			  strerror(errno));
}
