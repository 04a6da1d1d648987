/*
 * service_sandbox - a daemon's named profile (sandbox.h), written as data
 *                   beside its main, its paths relative to the instance
 *
 * Each daemon declares what it may touch once its setup is done:
 *
 *     static const struct service_path auth_paths[] = {
 *         { SERVICE_ETC, NULL, SANDBOX_READ },     (passwd.cdb)
 *     };
 *     static const struct service_profile auth_profile = {
 *         "auth", SANDBOX_SYS_ACCEPT, auth_paths, 1,
 *     };
 *
 * and its main sets sc.profile = &auth_profile; service_child_ready(), which
 * the daemon calls after its setup (privileges dropped, files, sockets and
 * libraries it needs opened and initialised) and before its first
 * untrusted byte, confines it (service_sandbox()). The profile's name,
 * paths, rights and families are the SANDBOX section of its man page.
 *
 * A daemon that forks a process per session gives the sessions a narrower
 * profile: service_sandbox_prepare() before it is confined itself (and
 * sc.sessions pointing to the result, for the log line),
 * service_sandbox_enter() in each session process (session_server.h does
 * it for session_clients.session_sandbox).
 *
 * Test builds (-DPOSTERN_TEST_HOOKS) read etc_dir/postern-test-hooks just
 * before confining, one setting per line:
 *     forbidden=PROFILE:CALL   sandbox_test_arm() (sandbox.h)
 *     landlock_abi=N           sandbox_landlock_abi_cap(N)
 * The file, rather than the environment (the master passes the
 * POSTERN_TEST_* variables on too, and sandbox.c reads them when no file
 * armed anything), lets a test arm one daemon of a running instance: it
 * writes the file and has the master restart that daemon, without
 * restarting the master.
 */
#ifndef POSTERN_SERVICE_SANDBOX_H
#define POSTERN_SERVICE_SANDBOX_H

#include <stddef.h>

#include "daemon/service_child.h"
#include "util/sandbox.h"

/* Where a path of a profile is. */
enum service_root {
	SERVICE_ETC,		/* etc_dir: configuration, maps, TLS pair */
	SERVICE_QUEUE,		/* queue_dir */
	SERVICE_MAIL,		/* mail_root */
	SERVICE_ABSOLUTE,	/* sub is an absolute path */
};

struct service_path {
	enum service_root root;
	const char *sub;	/* below root; NULL: root itself */
	unsigned rights;	/* SANDBOX_READ ... */
};

struct service_profile {
	const char *name;	/* "auth": the log and the man page */
	unsigned sys;		/* SANDBOX_SYS_* */
	const struct service_path *paths;
	size_t npaths;
};

#define SERVICE_PROFILE_PATHS_MAX 16
#define SERVICE_HOOKS_FILE "postern-test-hooks"

/* Confine this process with p; logs one line ("sandbox=NAME landlock=on
 * abi=N seccomp=on", plus sessions=NAME when given the session profile
 * prepared, or NULL); fatal when it cannot. */
void service_sandbox(struct service_child *sc, const struct service_profile *p,
		     const struct sandbox_prepared *sessions);
/* Prepare p for session processes (fatal when it cannot). */
void service_sandbox_prepare(struct service_child *sc,
			     const struct service_profile *p,
			     struct sandbox_prepared *out);
/* In a session process: enter sp; exits 111 (logged) when it cannot. */
void service_sandbox_enter(struct sandbox_prepared *sp);

#endif
