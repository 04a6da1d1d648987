/*
 * test.h - the unit test harness (STYLE.md 14)
 *
 *   static void test_thing(void) { TEST_ASSERT(1 + 1 == 2); }
 *   TEST_MAIN(test_thing, test_other)
 *
 * Each test prints "PASS file:name" or, for each failed assertion,
 * "FAIL file:line: expression" and then "FAIL file:name". tests/run.sh
 * counts those lines. The program exits 1 if anything failed.
 */
#ifndef POSTERN_TEST_H
#define POSTERN_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failed_now;
static int test_failures;

#define TEST_ASSERT(expr) do { \
	if (!(expr)) { \
		printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #expr); \
		test_failed_now = 1; \
	} } while (0)

#define TEST_STREQ(a, b) do { \
	const char *test_a_ = (a), *test_b_ = (b); \
	if (test_a_ == NULL || test_b_ == NULL || strcmp(test_a_, test_b_) != 0) { \
		printf("FAIL %s:%d: %s == %s (\"%s\" vs \"%s\")\n", __FILE__, \
		       __LINE__, #a, #b, test_a_ ? test_a_ : "(null)", \
		       test_b_ ? test_b_ : "(null)"); \
		test_failed_now = 1; \
	} } while (0)

typedef void test_fn(void);

static inline void test_run(const char *name, test_fn *fn)
{
	test_failed_now = 0;
	fn();
	fflush(stdout);
	printf("%s %s:%s\n", test_failed_now ? "FAIL" : "PASS",
	       __BASE_FILE__, name);
	test_failures += test_failed_now;
}

#define TEST_RUN_ONE_(fn) test_run(#fn, fn);
#define TEST_FE_1(m, a) m(a)
#define TEST_FE_2(m, a, ...) m(a) TEST_FE_1(m, __VA_ARGS__)
#define TEST_FE_3(m, a, ...) m(a) TEST_FE_2(m, __VA_ARGS__)
#define TEST_FE_4(m, a, ...) m(a) TEST_FE_3(m, __VA_ARGS__)
#define TEST_FE_5(m, a, ...) m(a) TEST_FE_4(m, __VA_ARGS__)
#define TEST_FE_6(m, a, ...) m(a) TEST_FE_5(m, __VA_ARGS__)
#define TEST_FE_7(m, a, ...) m(a) TEST_FE_6(m, __VA_ARGS__)
#define TEST_FE_8(m, a, ...) m(a) TEST_FE_7(m, __VA_ARGS__)
#define TEST_FE_9(m, a, ...) m(a) TEST_FE_8(m, __VA_ARGS__)
#define TEST_FE_10(m, a, ...) m(a) TEST_FE_9(m, __VA_ARGS__)
#define TEST_FE_11(m, a, ...) m(a) TEST_FE_10(m, __VA_ARGS__)
#define TEST_FE_12(m, a, ...) m(a) TEST_FE_11(m, __VA_ARGS__)
#define TEST_FE_13(m, a, ...) m(a) TEST_FE_12(m, __VA_ARGS__)
#define TEST_FE_14(m, a, ...) m(a) TEST_FE_13(m, __VA_ARGS__)
#define TEST_FE_15(m, a, ...) m(a) TEST_FE_14(m, __VA_ARGS__)
#define TEST_FE_16(m, a, ...) m(a) TEST_FE_15(m, __VA_ARGS__)
#define TEST_FE_17(m, a, ...) m(a) TEST_FE_16(m, __VA_ARGS__)
#define TEST_FE_18(m, a, ...) m(a) TEST_FE_17(m, __VA_ARGS__)
#define TEST_FE_19(m, a, ...) m(a) TEST_FE_18(m, __VA_ARGS__)
#define TEST_FE_20(m, a, ...) m(a) TEST_FE_19(m, __VA_ARGS__)
#define TEST_FE_21(m, a, ...) m(a) TEST_FE_20(m, __VA_ARGS__)
#define TEST_FE_22(m, a, ...) m(a) TEST_FE_21(m, __VA_ARGS__)
#define TEST_FE_23(m, a, ...) m(a) TEST_FE_22(m, __VA_ARGS__)
#define TEST_FE_24(m, a, ...) m(a) TEST_FE_23(m, __VA_ARGS__)
#define TEST_FE_25(m, a, ...) m(a) TEST_FE_24(m, __VA_ARGS__)
#define TEST_FE_26(m, a, ...) m(a) TEST_FE_25(m, __VA_ARGS__)
#define TEST_FE_27(m, a, ...) m(a) TEST_FE_26(m, __VA_ARGS__)
#define TEST_FE_28(m, a, ...) m(a) TEST_FE_27(m, __VA_ARGS__)
#define TEST_FE_29(m, a, ...) m(a) TEST_FE_28(m, __VA_ARGS__)
#define TEST_FE_30(m, a, ...) m(a) TEST_FE_29(m, __VA_ARGS__)
#define TEST_PICK_(_1,_2,_3,_4,_5,_6,_7,_8,_9,_10,_11,_12,_13,_14,_15,_16, \
	_17,_18,_19,_20,_21,_22,_23,_24,_25,_26,_27,_28,_29,_30,N,...) N
#define TEST_FOREACH(m, ...) TEST_PICK_(__VA_ARGS__, TEST_FE_30, TEST_FE_29, \
	TEST_FE_28, TEST_FE_27, TEST_FE_26, TEST_FE_25, TEST_FE_24, TEST_FE_23, \
	TEST_FE_22, TEST_FE_21, TEST_FE_20, TEST_FE_19, TEST_FE_18, TEST_FE_17, \
	TEST_FE_16, TEST_FE_15, TEST_FE_14, TEST_FE_13, TEST_FE_12, TEST_FE_11, \
	TEST_FE_10, TEST_FE_9, TEST_FE_8, TEST_FE_7, TEST_FE_6, TEST_FE_5, \
	TEST_FE_4, TEST_FE_3, TEST_FE_2, TEST_FE_1)(m, __VA_ARGS__)

/* Up to 30 tests per file. */
#define TEST_MAIN(...) \
	int main(void) \
	{ \
		setvbuf(stdout, NULL, _IOLBF, 0); \
		TEST_FOREACH(TEST_RUN_ONE_, __VA_ARGS__) \
		return test_failures ? 1 : 0; \
	}

#endif
