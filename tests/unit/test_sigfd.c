/*
 * test_sigfd - signals through a signalfd: blocked, reported in order,
 * none pending, unblocked again
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "test.h"
#include "util/sigfd.h"

static const int test_sigs[] = { SIGUSR1, SIGUSR2, 0 };

static int blocked(int sig)
{
	sigset_t now;

	return sigprocmask(SIG_BLOCK, NULL, &now) == 0 &&
	       sigismember(&now, sig) == 1;
}

static void test_reports_in_order(void)
{
	int fd = sigfd_open(test_sigs);

	TEST_ASSERT(fd >= 0);
	TEST_ASSERT(blocked(SIGUSR1) && blocked(SIGUSR2));
	TEST_ASSERT(sigfd_next(fd) == 0);
	TEST_ASSERT(kill(getpid(), SIGUSR2) == 0);
	TEST_ASSERT(kill(getpid(), SIGUSR1) == 0);
	/* standard signals come lowest number first */
	TEST_ASSERT(sigfd_next(fd) == SIGUSR1);
	TEST_ASSERT(sigfd_next(fd) == SIGUSR2);
	TEST_ASSERT(sigfd_next(fd) == 0);
	close(fd);
}

static void test_repeated_signal_once(void)
{
	int fd = sigfd_open(test_sigs);

	TEST_ASSERT(fd >= 0);
	TEST_ASSERT(kill(getpid(), SIGUSR1) == 0);
	TEST_ASSERT(kill(getpid(), SIGUSR1) == 0);
	TEST_ASSERT(sigfd_next(fd) == SIGUSR1);
	TEST_ASSERT(sigfd_next(fd) == 0);
	close(fd);
}

static void test_bad_descriptor(void)
{
	TEST_ASSERT(sigfd_next(-1) == -1 && errno == EBADF);
}

static void test_bad_signal(void)
{
	static const int bad[] = { 1000, 0 };

	TEST_ASSERT(sigfd_open(bad) == -1 && errno == EINVAL);
}

static void test_unblock_all(void)
{
	int fd = sigfd_open(test_sigs);

	TEST_ASSERT(fd >= 0 && blocked(SIGUSR1));
	TEST_ASSERT(sigfd_unblock_all() == 0);
	TEST_ASSERT(!blocked(SIGUSR1) && !blocked(SIGUSR2));
	close(fd);
}

TEST_MAIN(test_reports_in_order, test_repeated_signal_once,
	  test_bad_descriptor, test_bad_signal, test_unblock_all)
