/*
 * sandbox - Landlock and seccomp, applied once per process (sandbox.h)
 *
 * Landlock. The ruleset "handles" every file-system right the kernel's ABI
 * knows (so each one is denied unless a rule grants it), the TCP rights on
 * ABI 4+ unless the profile may use the network, and the scopes (signals,
 * abstract unix sockets) on ABI 6+. The kernel's structure grew with its
 * ABI; the one passed is cut to the size the running ABI knows, so an
 * older kernel never sees a field it would reject. Constants newer than
 * Debian 12's kernel headers are defined here with their upstream values.
 * On a file (not a directory) only the rights that apply to files are
 * granted, as the kernel requires.
 *
 * seccomp. libseccomp builds an allow-list whose default action kills the
 * process. Argument checks narrow the dangerous members of allowed calls:
 * mmap and mprotect never with PROT_EXEC, socket only for the families of
 * the profile, clone never with a namespace flag and, without
 * SANDBOX_SYS_FORK, only with CLONE_THREAD; ioctl only the few requests
 * that stdio and the socket code make. clone3 answers ENOSYS (its flags sit
 * in memory that seccomp cannot read), and glibc then falls back to clone.
 */
#include "util/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define SB_NET_BIND_TCP (1ULL << 0)
#define SB_NET_CONNECT_TCP (1ULL << 1)
#define SB_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define SB_SCOPE_SIGNAL (1ULL << 1)

/* struct landlock_ruleset_attr as of ABI 6; cut to the running ABI. */
struct sb_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define SB_FS_ABI1 ((1ULL << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define SB_FS_FILE (LANDLOCK_ACCESS_FS_EXECUTE | \
	LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
	LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

#if defined(__SANITIZE_ADDRESS__)
#define SB_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_SANITIZER 1
#endif
#endif
#ifndef SB_SANITIZER
#define SB_SANITIZER 0
#endif

/* The highest ABI to use; -1: whatever the kernel has. */
static int sb_abi_cap = -1;

void sandbox_landlock_abi_cap(int max)
{
	sb_abi_cap = max;
}

int sandbox_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);

	if (abi < 0)
		return 0;
#ifdef POSTERN_TEST_HOOKS
	const char *cap = getenv("POSTERN_TEST_LANDLOCK_ABI");
	if (cap != NULL && *cap >= '0' && *cap <= '9')
		sb_abi_cap = atoi(cap);
#endif
	if (sb_abi_cap >= 0 && sb_abi_cap < abi)
		abi = sb_abi_cap;
	return (int)abi;
}

/* Everything the ABI can deny on a path. */
static uint64_t sb_fs_handled(int abi)
{
	uint64_t fs = SB_FS_ABI1;

	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return fs;
}

static uint64_t sb_fs_rights(unsigned rights, uint64_t handled)
{
	uint64_t fs = 0;

	if (rights & SANDBOX_READ)
		fs |= LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	if (rights & SANDBOX_WRITE)
		fs |= LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
	if (rights & SANDBOX_CREATE)
		fs |= LANDLOCK_ACCESS_FS_MAKE_REG;
	if (rights & SANDBOX_REMOVE)
		fs |= LANDLOCK_ACCESS_FS_REMOVE_FILE;
	if (rights & SANDBOX_MKDIR)
		fs |= LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR;
	if (rights & SANDBOX_RENAME)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (rights & SANDBOX_MKSOCK)
		fs |= LANDLOCK_ACCESS_FS_MAKE_SOCK;
	return fs & handled;
}

/* One rule: the path's (or descriptor's) rights. */
static int sb_landlock_rule(int rs, const struct sandbox_path *sp,
			    uint64_t handled, const char **error_r)
{
	struct landlock_path_beneath_attr rule = { 0 };
	struct stat st;
	int fd = sp->fd, own = 0, r;

	if (sp->path != NULL) {
		fd = open(sp->path, O_PATH | O_CLOEXEC);
		if (fd < 0) {
			*error_r = "cannot open a path of the profile";
			return -1;
		}
		own = 1;
	}
	if (fstat(fd, &st) < 0) {
		*error_r = "cannot stat a path of the profile";
		r = -1;
		goto out;
	}
	rule.parent_fd = fd;
	rule.allowed_access = sb_fs_rights(sp->rights, handled);
	if (!S_ISDIR(st.st_mode))
		rule.allowed_access &= SB_FS_FILE;
	r = rule.allowed_access == 0 ? 0 :
		(int)syscall(SYS_landlock_add_rule, rs,
			     LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
	if (r < 0)
		*error_r = "landlock_add_rule failed";
out:
	if (own) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return r;
}

static int sb_wants_rename(const struct sandbox_profile *p)
{
	for (size_t i = 0; i < p->npaths; i++)
		if (p->paths[i].rights & SANDBOX_RENAME)
			return 1;
	return 0;
}

/* The ruleset of p: its descriptor, 0 when Landlock is not available
 * (r->landlock_why), -1 on error. */
static int sb_landlock_ruleset(const struct sandbox_profile *p,
			       struct sandbox_report *r, const char **error_r)
{
	struct sb_ruleset_attr attr = { 0 };
	size_t size = sizeof(attr.handled_access_fs);
	int abi = sandbox_landlock_abi(), rs;

	r->landlock_abi = abi;
	if (abi < 1) {
		r->landlock_why = "not in this kernel";
		return 0;
	}
	if (abi < 2 && sb_wants_rename(p)) {
		r->landlock_why = "ABI 1 cannot allow moving files between "
				  "directories";
		return 0;
	}
	attr.handled_access_fs = sb_fs_handled(abi);
	if (abi >= 4) {
		size = offsetof(struct sb_ruleset_attr, scoped);
		if (!(p->sys & SANDBOX_SYS_INET))
			attr.handled_access_net = SB_NET_BIND_TCP |
						  SB_NET_CONNECT_TCP;
	}
	if (abi >= 6) {
		size = sizeof(attr);
		attr.scoped = SB_SCOPE_ABSTRACT_UNIX | SB_SCOPE_SIGNAL;
	}
	/* the kernel makes the descriptor close-on-exec */
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rs < 0) {
		if (errno == EOPNOTSUPP || errno == ENOSYS) {
			r->landlock_why = "disabled in this kernel";
			return 0;
		}
		*error_r = "landlock_create_ruleset failed";
		return -1;
	}
	for (size_t i = 0; i < p->npaths; i++)
		if (sb_landlock_rule(rs, &p->paths[i], attr.handled_access_fs,
				     error_r) < 0)
			goto fail;
#if SB_SANITIZER
	/* LeakSanitizer reads /proc/self at exit */
	struct sandbox_path proc = { "/proc", -1, SANDBOX_READ };
	if (sb_landlock_rule(rs, &proc, attr.handled_access_fs, error_r) < 0)
		goto fail;
#endif
	return rs;
fail:
	{
		int e = errno;
		close(rs);
		errno = e;
	}
	return -1;
}

static int sb_landlock_restrict(int rs, const char **error_r)
{
	if (syscall(SYS_landlock_restrict_self, rs, 0) < 0) {
		*error_r = "landlock_restrict_self failed";
		return -1;
	}
	return 0;
}

/* The calls every daemon makes on what it already holds. */
static const int sb_base_calls[] = {
	/* descriptors */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv),
	SCMP_SYS(pwritev), SCMP_SYS(close), SCMP_SYS(close_range),
	SCMP_SYS(lseek), SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(dup2),
	SCMP_SYS(dup3), SCMP_SYS(pipe), SCMP_SYS(pipe2), SCMP_SYS(flock),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(syncfs),
	SCMP_SYS(fadvise64), SCMP_SYS(sendfile), SCMP_SYS(splice),
	/* files: which ones is Landlock's business */
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(stat), SCMP_SYS(fstat),
	SCMP_SYS(lstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
	SCMP_SYS(statfs), SCMP_SYS(fstatfs), SCMP_SYS(access),
	SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(getdents64),
	SCMP_SYS(getdents),	/* the older call: the sanitizers list a directory with it */
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getcwd),
	SCMP_SYS(umask),
	/* memory (mmap and mprotect: below, never executable) */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	/* signals, waiting, time */
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigpending),
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(sigaltstack),
	SCMP_SYS(restart_syscall), SCMP_SYS(kill), SCMP_SYS(tgkill),
	SCMP_SYS(tkill), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select),
	SCMP_SYS(pselect6), SCMP_SYS(epoll_create), SCMP_SYS(epoll_create1),
	SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_pwait2), SCMP_SYS(signalfd), SCMP_SYS(signalfd4),
	SCMP_SYS(eventfd2), SCMP_SYS(timerfd_create),
	SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(rt_sigsuspend), SCMP_SYS(pause), SCMP_SYS(alarm),
	SCMP_SYS(setitimer), SCMP_SYS(getitimer),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(getcpu),
	/* threads' own bookkeeping, exit */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(get_robust_list),
	SCMP_SYS(rseq), SCMP_SYS(set_tid_address), SCMP_SYS(exit),
	SCMP_SYS(exit_group), SCMP_SYS(membarrier),
	/* who am I */
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	SCMP_SYS(getegid), SCMP_SYS(getresuid), SCMP_SYS(getresgid),
	SCMP_SYS(getgroups), SCMP_SYS(getpgrp), SCMP_SYS(getsid),
	SCMP_SYS(uname), SCMP_SYS(sysinfo), SCMP_SYS(getrusage),
	SCMP_SYS(getrandom), SCMP_SYS(getrlimit),
	/* sockets it holds (creating one: SANDBOX_SYS_UNIX/INET) */
	SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(recvmmsg),
	SCMP_SYS(sendto), SCMP_SYS(sendmsg), SCMP_SYS(sendmmsg),
	SCMP_SYS(shutdown), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	/* confining itself further (a session under its daemon's profile):
	 * these only ever take rights away */
	SCMP_SYS(seccomp), SCMP_SYS(landlock_create_ruleset),
	SCMP_SYS(landlock_add_rule), SCMP_SYS(landlock_restrict_self),
};

static const int sb_fswrite_calls[] = {
	SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rmdir),
	SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rename),
	SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(link),
	SCMP_SYS(linkat), SCMP_SYS(ftruncate), SCMP_SYS(truncate),
	SCMP_SYS(fchmod), SCMP_SYS(utimensat), SCMP_SYS(futimesat),
	SCMP_SYS(utimes), SCMP_SYS(fallocate),
};

/* watching is reading: inotify_add_watch needs read permission on what
 * it watches, and the events name files the process can list anyway */
static const int sb_notify_calls[] = {
	SCMP_SYS(inotify_init), SCMP_SYS(inotify_init1),
	SCMP_SYS(inotify_add_watch), SCMP_SYS(inotify_rm_watch),
};

static const int sb_fork_calls[] = {
	SCMP_SYS(fork), SCMP_SYS(wait4), SCMP_SYS(waitid),
	SCMP_SYS(setsid), SCMP_SYS(setpgid),
};

/* sanitizers' run-time: at exit LeakSanitizer starts a tracer task
 * (clone with SB_LSAN_CLONE, below) that attaches to every thread */
static const int sb_sanitizer_calls[] = {
	SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(waitid), SCMP_SYS(prctl),
};
#define SB_LSAN_CLONE (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED)

#define SB_NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | \
	CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | 0x80)

static int sb_allow_list(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
		/* a call this architecture lacks (__PNR_*) is no error */
		if (rc < 0 && rc != -EDOM && calls[i] >= 0)
			return rc;
	}
	return 0;
}

/* Allow call when argument arg, masked, equals val. */
static int sb_allow_masked(scmp_filter_ctx ctx, int call, unsigned arg,
			   uint64_t mask, uint64_t val)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, call, 1,
				SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, val));
}

static int sb_allow_eq(scmp_filter_ctx ctx, int call, unsigned arg,
		       uint64_t val)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, call, 1,
				SCMP_CMP(arg, SCMP_CMP_EQ, val));
}

/* Calls allowed with some arguments only. */
static int sb_allow_narrow(scmp_filter_ctx ctx, unsigned sys)
{
	static const unsigned long ioctls[] = { FIONREAD, FIONBIO, FIOCLEX,
						FIONCLEX };
	/* a name; the parent-death signal a session asks for; confining
	 * itself further (never loosening) */
	static const int prctls[] = { PR_SET_NAME, PR_GET_NAME,
		PR_SET_PDEATHSIG, PR_GET_PDEATHSIG, PR_SET_NO_NEW_PRIVS,
		PR_GET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_GET_SECCOMP };
	int rc = 0;

	rc |= sb_allow_masked(ctx, SCMP_SYS(mmap), 2, PROT_EXEC, 0);
	rc |= sb_allow_masked(ctx, SCMP_SYS(mprotect), 2, PROT_EXEC, 0);
	rc |= sb_allow_masked(ctx, SCMP_SYS(pkey_mprotect), 2, PROT_EXEC, 0);
	/* getrlimit through prlimit64(0, res, NULL, old): reading only */
	rc |= sb_allow_eq(ctx, SCMP_SYS(prlimit64), 2, 0);
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		rc |= sb_allow_eq(ctx, SCMP_SYS(ioctl), 1, ioctls[i]);
	/* isatty() asks TCGETS: not a terminal */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1,
			       SCMP_A1(SCMP_CMP_EQ, TCGETS));
	for (size_t i = 0; i < sizeof(prctls) / sizeof(prctls[0]); i++)
		rc |= sb_allow_eq(ctx, SCMP_SYS(prctl), 0, prctls[i]);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (SB_SANITIZER)
		rc |= sb_allow_masked(ctx, SCMP_SYS(clone), 0, SB_NS_FLAGS |
				      CLONE_THREAD | SB_LSAN_CLONE, SB_LSAN_CLONE);
	/* a sanitizer's report forks its symbolizer: refused, the report
	 * comes unsymbolized instead of the process being killed in it */
	if (SB_SANITIZER && !(sys & SANDBOX_SYS_FORK)) {
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				       SCMP_SYS(fork), 0);
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				       SCMP_SYS(vfork), 0);
	}
	if (sys & SANDBOX_SYS_FORK)
		rc |= sb_allow_masked(ctx, SCMP_SYS(clone), 0, SB_NS_FLAGS, 0);
	else if (sys & SANDBOX_SYS_THREADS)
		rc |= sb_allow_masked(ctx, SCMP_SYS(clone), 0,
				      SB_NS_FLAGS | CLONE_THREAD, CLONE_THREAD);
	if (sys & (SANDBOX_SYS_UNIX | SANDBOX_SYS_INET))
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(connect), 0);
	if (sys & SANDBOX_SYS_UNIX)
		rc |= sb_allow_eq(ctx, SCMP_SYS(socket), 0, AF_UNIX);
	if (sys & (SANDBOX_SYS_UNIX | SANDBOX_SYS_SOCKETPAIR))
		rc |= sb_allow_eq(ctx, SCMP_SYS(socketpair), 0, AF_UNIX);
	if (sys & SANDBOX_SYS_INET) {
		rc |= sb_allow_eq(ctx, SCMP_SYS(socket), 0, AF_INET);
		rc |= sb_allow_eq(ctx, SCMP_SYS(socket), 0, AF_INET6);
		/* a resolver binds its UDP source port */
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bind), 0);
	}
	if (sys & SANDBOX_SYS_ACCEPT) {
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(accept), 0);
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(accept4), 0);
	}
	return rc;
}

/* The filter of p, built; NULL with *error_r on failure. */
static scmp_filter_ctx sb_seccomp_build(const struct sandbox_profile *p,
					const char **error_r)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc;

	if (ctx == NULL) {
		*error_r = "seccomp_init failed";
		errno = ENOMEM;
		return NULL;
	}
	/* a binary tree by system-call number: a call the kernel's action
	 * cache does not settle (one with an argument rule) costs a few
	 * comparisons, not a walk of the whole list (libseccomp 2.5) */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (rc == 0)
		rc = sb_allow_list(ctx, sb_base_calls, sizeof(sb_base_calls) /
				   sizeof(sb_base_calls[0]));
	if (rc == 0 && (p->sys & SANDBOX_SYS_FSWRITE))
		rc = sb_allow_list(ctx, sb_fswrite_calls, sizeof(sb_fswrite_calls) /
				   sizeof(sb_fswrite_calls[0]));
	if (rc == 0 && (p->sys & SANDBOX_SYS_NOTIFY))
		rc = sb_allow_list(ctx, sb_notify_calls,
				   sizeof(sb_notify_calls) /
				   sizeof(sb_notify_calls[0]));
	if (rc == 0 && (p->sys & SANDBOX_SYS_FORK))
		rc = sb_allow_list(ctx, sb_fork_calls, sizeof(sb_fork_calls) /
				   sizeof(sb_fork_calls[0]));
	if (rc == 0 && SB_SANITIZER)
		rc = sb_allow_list(ctx, sb_sanitizer_calls,
				   sizeof(sb_sanitizer_calls) /
				   sizeof(sb_sanitizer_calls[0]));
	if (rc == 0)
		rc = sb_allow_narrow(ctx, p->sys) < 0 ? -EINVAL : 0;
	if (rc < 0) {
		seccomp_release(ctx);
		*error_r = "cannot build the seccomp filter";
		errno = -rc;
		return NULL;
	}
	return ctx;
}

static int sb_seccomp(const struct sandbox_profile *p, const char **error_r)
{
	scmp_filter_ctx ctx = sb_seccomp_build(p, error_r);
	int rc;

	if (ctx == NULL)
		return -1;
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		*error_r = "cannot install the seccomp filter";
		errno = -rc;
		return -1;
	}
	return 0;
}

/* The filter of p as a BPF program in sp (libseccomp writes it to a
 * descriptor: an anonymous memory file, read back). */
static int sb_seccomp_export(const struct sandbox_profile *p,
			     struct sandbox_prepared *sp, const char **error_r)
{
	scmp_filter_ctx ctx = sb_seccomp_build(p, error_r);
	struct stat st;
	int fd, rc = -1;

	if (ctx == NULL)
		return -1;
	*error_r = "cannot export the seccomp filter";
	fd = memfd_create("postern-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		goto out;
	if ((rc = seccomp_export_bpf(ctx, fd)) < 0) {
		errno = -rc;
		rc = -1;
		goto out;
	}
	rc = -1;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
	    st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		errno = EINVAL;
		goto out;
	}
	sp->bpf = xmalloc((size_t)st.st_size);
	if (pread(fd, sp->bpf, (size_t)st.st_size, 0) != st.st_size) {
		free(sp->bpf);
		sp->bpf = NULL;
		errno = EIO;
		goto out;
	}
	sp->bpf_len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
	rc = 0;
out:
	{
		int e = errno;
		if (fd >= 0)
			close(fd);
		seccomp_release(ctx);
		errno = e;
	}
	return rc;
}

/* Refuse to confine a process that already runs threads: Landlock and
 * a seccomp filter apply to the calling thread and to what it starts
 * afterwards, never to threads that exist. Unknown (no /proc in reach,
 * as under an earlier Landlock layer) counts as one thread: threads are
 * started by the same code either way. */
static int sb_single_threaded(const char **error_r)
{
	char buf[512], *p;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	long threads = 1;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* after "pid (comm)": state, then fields 4..20; 20 is num_threads */
	for (int field = 2; p != NULL && field < 20; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		threads = strtol(p + 1, NULL, 10);
	if (threads > 1) {
		*error_r = "the process already runs threads (confine it "
			   "before starting them)";
		errno = EBUSY;
		return -1;
	}
	return 0;
}

/* The innermost profile this process entered, and how many it did. */
static const char *sb_current;
static int sb_layers;

#ifdef POSTERN_TEST_HOOKS
/* Test builds only (sandbox.h): "CALL", or "PROFILE:CALL" entries
 * separated by commas. */
static char sb_test_spec[1024];
static char sb_test_call[32];

void sandbox_test_arm(const char *spec)
{
	snprintf(sb_test_spec, sizeof(sb_test_spec), "%s", spec);
}

/* The call spec asks of this process now (in sb_test_call), or NULL.
 * at_entry: just confined; otherwise a test point. */
static const char *sb_test_wanted(int at_entry)
{
	const char *spec = sb_test_spec, *colon, *end;
	size_t n;

	if (*spec == '\0' && (spec = getenv("POSTERN_TEST_FORBIDDEN")) == NULL)
		return NULL;
	if (strchr(spec, ':') == NULL)
		return at_entry && *spec != '\0' ? spec : NULL;
	/* a daemon's own profile at its test point; a nested one (a
	 * session's) as soon as it is entered */
	if (sb_current == NULL || at_entry != (sb_layers > 1))
		return NULL;
	for (; *spec != '\0'; spec = *end == ',' ? end + 1 : end) {
		end = spec + strcspn(spec, ",");
		colon = memchr(spec, ':', (size_t)(end - spec));
		if (colon == NULL ||
		    strlen(sb_current) != (size_t)(colon - spec) ||
		    strncmp(sb_current, spec, (size_t)(colon - spec)) != 0)
			continue;
		n = (size_t)(end - colon - 1);
		if (n >= sizeof(sb_test_call))
			return NULL;
		memcpy(sb_test_call, colon + 1, n);
		sb_test_call[n] = '\0';
		return sb_test_call;
	}
	return NULL;
}

static void sb_test_forbidden(int at_entry)
{
	const char *what = sb_test_wanted(at_entry);

	if (what == NULL)
		return;
	fprintf(stderr, "test hook: sandbox=%s attempting forbidden %s\n",
		sb_current, what);
	if (strcmp(what, "socket") == 0) {
		(void)socket(AF_INET, SOCK_STREAM, 0);
	} else if (strcmp(what, "socket-unix") == 0) {
		(void)socket(AF_UNIX, SOCK_STREAM, 0);
	} else if (strcmp(what, "exec") == 0) {
		char *argv[] = { (char *)"/bin/true", NULL };
		execv(argv[0], argv);
	} else if (strcmp(what, "ptrace") == 0) {
		(void)syscall(SYS_ptrace, 0L, 0L, 0L, 0L);
	} else if (strcmp(what, "open-outside") == 0) {
		int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			/* Landlock did not stop it: say so, loudly */
			fprintf(stderr, "test hook: sandbox=%s /etc/passwd "
				"was readable\n", sb_current);
			close(fd);
		} else {
			fprintf(stderr, "test hook: sandbox=%s open "
				"/etc/passwd: %s\n", sb_current,
				strerror(errno));
		}
		return;
	}
	fprintf(stderr, "test hook: sandbox=%s %s was not stopped\n",
		sb_current, what);
}

void sandbox_test_point(void)
{
	sb_test_forbidden(0);
}
#else
static void sb_test_forbidden(int at_entry)
{
	(void)at_entry;
}
#endif

/* Done before any profile is entered. */
static int sb_begin(const char **error_r)
{
	/* what libc would read from disk later, read now */
	tzset();
	if (sb_single_threaded(error_r) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		*error_r = "PR_SET_NO_NEW_PRIVS failed";
		return -1;
	}
	return 0;
}

static void sb_entered(const char *name)
{
	sb_current = name;
	sb_layers++;
	sb_test_forbidden(1);
}

int sandbox_apply(const struct sandbox_profile *p, struct sandbox_report *r,
		  const char **error_r)
{
	int rs;

	memset(r, 0, sizeof(*r));
	if (sb_begin(error_r) < 0)
		return -1;
	rs = sb_landlock_ruleset(p, r, error_r);
	if (rs < 0)
		return -1;
	if (rs > 0) {
		int e, ret = sb_landlock_restrict(rs, error_r);

		e = errno;
		close(rs);
		errno = e;
		if (ret < 0)
			return -1;
		r->landlock = 1;
	}
	if (sb_seccomp(p, error_r) < 0)
		return -1;
	r->seccomp = 1;
	sb_entered(p->name);
	return 0;
}

int sandbox_prepare(const struct sandbox_profile *p,
		    struct sandbox_prepared *sp, const char **error_r)
{
	int rs;

	memset(sp, 0, sizeof(*sp));
	sp->name = p->name;
	sp->ruleset = -1;
	rs = sb_landlock_ruleset(p, &sp->report, error_r);
	if (rs < 0)
		return -1;
	if (rs > 0) {
		sp->ruleset = rs;
		sp->report.landlock = 1;
	}
	if (sb_seccomp_export(p, sp, error_r) < 0) {
		int e = errno;
		sandbox_prepared_free(sp);
		errno = e;
		return -1;
	}
	sp->report.seccomp = 1;
	return 0;
}

int sandbox_enter(struct sandbox_prepared *sp, struct sandbox_report *r,
		  const char **error_r)
{
	struct sock_fprog prog = { sp->bpf_len, sp->bpf };

	memset(r, 0, sizeof(*r));
	if (sp->bpf == NULL) {
		*error_r = "not a prepared profile";
		errno = EINVAL;
		return -1;
	}
	if (sb_begin(error_r) < 0)
		return -1;
	if (sp->ruleset >= 0 && sb_landlock_restrict(sp->ruleset, error_r) < 0)
		return -1;
	sandbox_prepared_close(sp);	/* this process's copy */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
		*error_r = "cannot install the seccomp filter";
		return -1;
	}
	*r = sp->report;
	sb_entered(sp->name);
	return 0;
}

void sandbox_prepared_close(struct sandbox_prepared *sp)
{
	if (sp->ruleset >= 0)
		close(sp->ruleset);
	sp->ruleset = -1;
}

void sandbox_prepared_free(struct sandbox_prepared *sp)
{
	sandbox_prepared_close(sp);
	free(sp->bpf);
	sp->bpf = NULL;
	sp->bpf_len = 0;
}

const char *sandbox_current(void)
{
	return sb_current;
}

void sandbox_describe(const struct sandbox_profile *p,
		      const struct sandbox_report *r, char *buf, size_t size)
{
	if (r->landlock)
		snprintf(buf, size, "sandbox=%s landlock=on abi=%d seccomp=%s",
			 p->name, r->landlock_abi, r->seccomp ? "on" : "off");
	else
		snprintf(buf, size, "sandbox=%s landlock=off (%s) seccomp=%s",
			 p->name, r->landlock_why ? r->landlock_why : "?",
			 r->seccomp ? "on" : "off");
}
