/*
 * sandbox - confine a process to what its PRIVILEGE line says: Landlock for
 *           paths, seccomp for system calls (STYLE.md 10)
 *
 * A daemon sets itself up (privileges dropped, configuration read, files
 * and sockets it will need opened), then calls sandbox_apply() with its
 * named profile, before it reads its first untrusted byte. From then on:
 *
 * PATHS (Landlock) Only the paths of the profile can be opened, listed,
 *          written, created or removed, each with the rights named there;
 *          everything else in the file system is out of reach, whatever the
 *          file modes say. Descriptors opened before stay usable. Moving or
 *          linking a file from one directory to another needs
 *          SANDBOX_RENAME on a path above both: Landlock ABI 1 kernels
 *          (Linux 5.13-5.18) cannot allow that at all, so for a profile
 *          that asks for it an ABI 1 kernel counts as "Landlock
 *          unavailable" (the process would otherwise fail at its first
 *          rename: a Maildir's new/ -> cur/). On ABI 4 and later a profile
 *          without SANDBOX_SYS_INET may neither bind nor connect TCP; on
 *          ABI 6 and later it cannot signal processes outside its domain nor
 *          reach abstract unix sockets.
 *          A kernel without Landlock (or with it disabled) leaves paths to
 *          the file modes and the accounts; that is reported, not fatal.
 * CALLS    (seccomp, through libseccomp) An allow-list: the calls every
 *          daemon makes (I/O on descriptors it has, memory, time, signals,
 *          poll and epoll), plus the families of the profile's
 *          SANDBOX_SYS_* bits. Anything else kills the whole process
 *          (SECCOMP_RET_KILL_PROCESS: SIGSYS, the master logs it and
 *          restarts the service). Some calls are refused with an error
 *          instead, where library code tries them and copes (listed in
 *          sandbox.c). Never allowed: exec, ptrace, mount, namespaces,
 *          module and key management, changing ids, new executable memory.
 *          seccomp is in every kernel postern supports: failing to install
 *          it is fatal to the caller (it must not serve unconfined).
 *
 * Both are inherited by every child the process forks and cannot be
 * undone. PR_SET_NO_NEW_PRIVS is set first (both require it). Both apply
 * to the calling thread and the threads it starts afterwards, never to
 * threads already running: a process with threads is refused.
 *
 * LAYERS   A process may confine itself again (a session process under its
 *          daemon's profile): the new profile only takes rights away, the
 *          old one still holds. So a daemon's profile must grant what its
 *          sessions need, and a session's narrows it. Forking sessions by
 *          the thousand, a daemon prepares the session profile once
 *          (sandbox_prepare, before confining itself) and each session
 *          enters it in a few system calls (sandbox_enter): building a
 *          filter with libseccomp costs about half a millisecond.
 *
 * Sanitizer builds (make check-asan) also allow what the sanitizers' own
 * run-time needs (LeakSanitizer stops the world with ptrace at exit).
 *
 * Test builds (-DPOSTERN_TEST_HOOKS, never installed) read two variables:
 * POSTERN_TEST_LANDLOCK_ABI=N uses at most ABI N (to act as an older
 * kernel would), and POSTERN_TEST_FORBIDDEN=CALL makes the process attempt
 * a call its profile forbids right after confining itself (socket: an
 * AF_INET socket, socket-unix: an AF_UNIX one, exec, ptrace,
 * open-outside: /etc/passwd), so that a test can see it stopped. With
 * PROFILE:CALL (several, separated by commas) only a process whose
 * innermost profile is PROFILE tries,
 * and a daemon not before its test point (sandbox_test_point(): when it
 * has served its first client, so that its supervisor restarts it rather
 * than throttle it), a session at once. sandbox_test_arm() sets the same
 * from elsewhere (a file of the instance, service_sandbox.h).
 */
#ifndef POSTERN_SANDBOX_H
#define POSTERN_SANDBOX_H

#include <stddef.h>

/* Rights on a path and everything beneath it. */
#define SANDBOX_READ	0x01u	/* open files for reading, list directories */
#define SANDBOX_WRITE	0x02u	/* open existing files for writing, truncate */
#define SANDBOX_CREATE	0x04u	/* create regular files (and link or rename in) */
#define SANDBOX_REMOVE	0x08u	/* unlink files (and rename out) */
#define SANDBOX_MKDIR	0x10u	/* create and remove directories */
#define SANDBOX_RENAME	0x20u	/* move or link files between directories */
#define SANDBOX_MKSOCK	0x40u	/* create unix sockets by path (bind) */

/* Families of system calls beyond the base set. */
#define SANDBOX_SYS_FORK	0x001u	/* fork processes, wait for them */
#define SANDBOX_SYS_THREADS	0x002u	/* start threads (clone with CLONE_THREAD) */
#define SANDBOX_SYS_FSWRITE	0x004u	/* create, link, rename, unlink, mkdir,
					 * fsync, utimes, fchmod of own files */
#define SANDBOX_SYS_UNIX	0x008u	/* create AF_UNIX sockets, connect them */
#define SANDBOX_SYS_INET	0x010u	/* create AF_INET/AF_INET6 sockets, connect */
#define SANDBOX_SYS_ACCEPT	0x020u	/* accept on listeners it was handed */
#define SANDBOX_SYS_SOCKETPAIR	0x040u	/* AF_UNIX socket pairs only: no socket
					 * that reaches anything (in
					 * SANDBOX_SYS_UNIX too) */
#define SANDBOX_SYS_NOTIFY	0x080u	/* inotify: watch directories it can
					 * reach (IMAP IDLE) */

struct sandbox_path {
	const char *path;	/* opened with O_PATH; NULL: use fd */
	int fd;			/* a directory or file already open */
	unsigned rights;	/* SANDBOX_READ ... */
};

struct sandbox_profile {
	const char *name;	/* named in the log and the man page */
	unsigned sys;		/* SANDBOX_SYS_* */
	const struct sandbox_path *paths;
	size_t npaths;
};

/* What sandbox_apply() did, for the one log line the caller writes
 * (sandbox_describe()). */
struct sandbox_report {
	int landlock;		/* 1 on, 0 off */
	int landlock_abi;	/* ABI used (0: none) */
	const char *landlock_why;	/* off: why */
	int seccomp;		/* 1 on */
};

/* Confine the calling process (and its future children). 0 with *r
 * filled; -1 with *error_r (a static string, errno set) when a path of the
 * profile cannot be opened, Landlock refuses a rule, or seccomp cannot be
 * installed: the caller must then exit, not serve. */
int sandbox_apply(const struct sandbox_profile *p, struct sandbox_report *r,
		  const char **error_r);
/* "sandbox=NAME landlock=on abi=7 seccomp=on" or
 * "sandbox=NAME landlock=off (why) seccomp=on" into buf. */
void sandbox_describe(const struct sandbox_profile *p,
		      const struct sandbox_report *r, char *buf, size_t size);
/* A profile made ready in one process (paths opened, the Landlock ruleset
 * built, the seccomp filter compiled) for processes it forks to enter. */
struct sandbox_prepared {
	const char *name;
	int ruleset;		/* Landlock ruleset descriptor; -1: none */
	struct sandbox_report report;	/* what entering it does */
	void *bpf;		/* the seccomp program (struct sock_filter) */
	unsigned short bpf_len;	/* in instructions */
};

/* Prepare p (before confining the calling process itself: it opens paths
 * and a memory file). 0, or -1 with *error_r as sandbox_apply(). */
int sandbox_prepare(const struct sandbox_profile *p,
		    struct sandbox_prepared *sp, const char **error_r);
/* Confine the calling process with sp, as sandbox_apply() would with its
 * profile; closes this process's copy of the ruleset descriptor. */
int sandbox_enter(struct sandbox_prepared *sp, struct sandbox_report *r,
		  const char **error_r);
/* Close the ruleset descriptor (a process that will not enter sp). */
void sandbox_prepared_close(struct sandbox_prepared *sp);
void sandbox_prepared_free(struct sandbox_prepared *sp);
/* The name of the innermost profile the process entered, or NULL. */
const char *sandbox_current(void);

#ifdef POSTERN_TEST_HOOKS
/* Test builds: as POSTERN_TEST_FORBIDDEN=spec ("" disarms). */
void sandbox_test_arm(const char *spec);
/* Where a daemon attempts its PROFILE:CALL (service_child_busy()). */
void sandbox_test_point(void);
#else
static inline void sandbox_test_point(void)
{
}
#endif

/* The Landlock ABI of the running kernel (capped as below), 0 when there
 * is none. */
int sandbox_landlock_abi(void);
/* Use at most ABI max from now on, as an older kernel would (unit tests;
 * a kernel whose newer Landlock features misbehave). */
void sandbox_landlock_abi_cap(int max);

#endif
