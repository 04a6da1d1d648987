/*
 * test_base64 - RFC 4648 section 10 vectors, strict and lenient decoding,
 *               caps
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/base64.h"
#include "util/str.h"

static const char *const rfc_vectors[][2] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

#define NVECTORS (sizeof(rfc_vectors) / sizeof(rfc_vectors[0]))

static void test_encode_rfc4648(void)
{
	size_t i;

	for (i = 0; i < NVECTORS; i++) {
		struct str out = STR_INIT(0);

		TEST_ASSERT(base64_encode(&out, rfc_vectors[i][0],
					  strlen(rfc_vectors[i][0])) == 0);
		TEST_STREQ(str_c(&out), rfc_vectors[i][1]);
		str_free(&out);
	}
}

static void test_decode_rfc4648(void)
{
	size_t i;

	for (i = 0; i < NVECTORS; i++) {
		struct str out = STR_INIT(0);
		const char *enc = rfc_vectors[i][1];

		TEST_ASSERT(base64_decode(&out, enc, strlen(enc)) == 0);
		TEST_STREQ(str_c(&out), rfc_vectors[i][0]);
		TEST_ASSERT(out.len == strlen(rfc_vectors[i][0]));
		str_free(&out);
	}
}

static void test_encode_appends(void)
{
	struct str out = STR_INIT(0);

	TEST_ASSERT(str_sets(&out, "AUTH ") == 0);
	TEST_ASSERT(base64_encode(&out, "foo", 3) == 0);
	TEST_STREQ(str_c(&out), "AUTH Zm9v");
	TEST_ASSERT(base64_decode(&out, "YmFy", 4) == 0);
	TEST_STREQ(str_c(&out), "AUTH Zm9vbar");
	str_free(&out);
}

static void test_binary_roundtrip(void)
{
	unsigned char all[256];
	struct str enc = STR_INIT(0), dec = STR_INIT(0);
	size_t i;

	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	TEST_ASSERT(base64_encode(&enc, all, sizeof(all)) == 0);
	TEST_ASSERT(enc.len == 344);
	TEST_ASSERT(base64_decode(&dec, enc.s, enc.len) == 0);
	TEST_ASSERT(dec.len == sizeof(all));
	TEST_ASSERT(dec.len == sizeof(all) && memcmp(dec.s, all, dec.len) == 0);
	str_free(&enc);
	str_free(&dec);
}

static void test_alphabet_edges(void)
{
	const unsigned char hi[3] = { 0xfb, 0xff, 0xbf };
	struct str out = STR_INIT(0);

	TEST_ASSERT(base64_encode(&out, hi, 3) == 0);
	TEST_STREQ(str_c(&out), "+/+/");
	str_clear(&out);
	TEST_ASSERT(base64_decode(&out, "+/+/", 4) == 0);
	TEST_ASSERT(out.len == 3 && memcmp(out.s, hi, 3) == 0);
	str_free(&out);
}

static void test_decode_rejects(void)
{
	static const char *const bad[] = {
		"Zg=", "Zg", "Z", "Zm9vY", "Zg==Zg==", "Z===", "====",
		"Zm9v\n", "Zm 9", "Zm-v", "Zm_v", "Zg=x", "Z=g=", "Zh==",
		"Zm9=",	"Zm8=Zm8=", "\xc3\xa9xx", "Zm9v====",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct str out = STR_INIT(0);

		errno = 0;
		TEST_ASSERT(base64_decode(&out, bad[i], strlen(bad[i])) == -1);
		TEST_ASSERT(errno == EINVAL);
		TEST_ASSERT(out.len == 0);
		str_free(&out);
	}
}

static void test_decode_failure_keeps_prefix(void)
{
	struct str out = STR_INIT(0);

	TEST_ASSERT(str_sets(&out, "keep") == 0);
	TEST_ASSERT(base64_decode(&out, "Zm9vYmF!", 8) == -1);
	TEST_STREQ(str_c(&out), "keep");
	TEST_ASSERT(out.len == 4);
	str_free(&out);
}

static void test_decode_nul_inside(void)
{
	struct str out = STR_INIT(0);

	TEST_ASSERT(base64_decode(&out, "Zm\0v", 4) == -1);
	TEST_ASSERT(base64_decode(&out, "AAA=", 4) == 0);
	TEST_ASSERT(out.len == 2 && out.s[0] == 0 && out.s[1] == 0);
	str_free(&out);
}

static void test_cap(void)
{
	struct str out = STR_INIT(8);

	TEST_ASSERT(base64_encode(&out, "foobar", 6) == 0);
	TEST_ASSERT(out.len == 8);
	errno = 0;
	TEST_ASSERT(base64_encode(&out, "f", 1) == -1);
	TEST_ASSERT(errno == EMSGSIZE);
	TEST_STREQ(str_c(&out), "Zm9vYmFy");
	str_free(&out);

	struct str dec = STR_INIT(5);

	TEST_ASSERT(base64_decode(&dec, "Zm9vYmFy", 8) == -1);
	TEST_ASSERT(errno == EMSGSIZE);
	TEST_ASSERT(dec.len == 0);
	TEST_ASSERT(base64_decode(&dec, "Zm9vYmE=", 8) == 0);
	TEST_STREQ(str_c(&dec), "fooba");
	str_free(&dec);
}

/* RFC 2047 B text: padding optional or longer, leftover bits dropped. */
static void test_decode_lenient(void)
{
	static const char *const good[][2] = {
		{ "", "" }, { "Zg==", "f" }, { "Zg=", "f" }, { "Zg", "f" },
		{ "Zm9v", "foo" }, { "Zm9vYg", "foob" }, { "Zm9vYmE", "fooba" },
		{ "Zm9vYmFy", "foobar" }, { "Zm9v====", "foo" }, { "Z", "" },
		{ "Zh==", "f" }, { "Zm9=", "fo" }, { "====", "" },
		{ "Zm9vY", "foo" }, { "+/+/", "\xfb\xff\xbf" },
	};
	static const char *const bad[] = {
		"Zg==Zg==", "Z=g=", "Zg=x", "Zm 9", "Zm-v", "Zm_v", "Zm9v\n",
		"\xc3\xa9xx", "Zm8=Zm8=",
	};
	size_t i;
	struct str kept = STR_INIT(0);

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct str out = STR_INIT(0);

		TEST_ASSERT(base64_decode_lenient(&out, good[i][0],
						  strlen(good[i][0])) == 0);
		TEST_STREQ(str_c(&out), good[i][1]);
		str_free(&out);
	}
	/* refused: nothing appended */
	TEST_ASSERT(str_sets(&kept, "keep") == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		TEST_ASSERT(base64_decode_lenient(&kept, bad[i],
						  strlen(bad[i])) == -1 &&
			    errno == EINVAL);
	}
	TEST_STREQ(str_c(&kept), "keep");
	/* past the cap: nothing appended either; an exact fit is taken */
	kept.max = 7;
	TEST_ASSERT(base64_decode_lenient(&kept, "Zm9vYg", 6) == -1 &&
		    errno == EMSGSIZE);
	TEST_ASSERT(base64_decode_lenient(&kept, "Zm9v", 4) == 0);
	TEST_STREQ(str_c(&kept), "keepfoo");
	str_free(&kept);
}

static void test_empty(void)
{
	struct str out = STR_INIT(0);

	TEST_ASSERT(base64_encode(&out, NULL, 0) == 0);
	TEST_ASSERT(out.len == 0);
	TEST_ASSERT(base64_decode(&out, "", 0) == 0);
	TEST_ASSERT(out.len == 0);
	str_free(&out);
}

TEST_MAIN(test_encode_rfc4648, test_decode_rfc4648, test_encode_appends,
	  test_binary_roundtrip, test_alphabet_edges, test_decode_rejects,
	  test_decode_failure_keeps_prefix, test_decode_nul_inside, test_cap,
	  test_decode_lenient, test_empty)
