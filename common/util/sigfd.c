/*
 * sigfd - signals as a readable descriptor; see sigfd.h
 */
#include "util/sigfd.h"

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

int sigfd_open(const int *sigs)
{
	sigset_t set;

	if (sigemptyset(&set) < 0)
		return -1;
	for (; *sigs != 0; sigs++)
		if (sigaddset(&set, *sigs) < 0)
			return -1;
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int sigfd_next(int fd)
{
	struct signalfd_siginfo si;
	ssize_t n = read(fd, &si, sizeof(si));

	if (n == (ssize_t)sizeof(si))
		return (int)si.ssi_signo;
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return -1;
	return 0;
}

int sigfd_unblock_all(void)
{
	sigset_t none;

	if (sigemptyset(&none) < 0)
		return -1;
	return sigprocmask(SIG_SETMASK, &none, NULL);
}
