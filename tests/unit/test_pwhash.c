/*
 * test_pwhash - every stored scheme, wrong passwords, malformed values
 *
 * Vectors are either published (SHA-1 of "password", the SHA-512-crypt
 * example from Drepper's specification) or computed here with libcrypt and
 * OpenSSL directly, independently of pwhash.c.
 */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "test.h"
#include "util/base64.h"
#include "util/pwhash.h"
#include "util/str.h"

/* stored = prefix + crypt(password, setting) via libcrypt directly */
static void make_crypt(struct str *stored, const char *prefix,
		       const char *password, const char *setting)
{
	struct crypt_data *data = calloc(1, sizeof(*data));
	const char *h = data ? crypt_rn(password, setting, data,
					(int)sizeof(*data)) : NULL;

	str_clear(stored);
	TEST_ASSERT(h != NULL && h[0] == '$');
	TEST_ASSERT(str_appends(stored, prefix) == 0);
	TEST_ASSERT(str_appends(stored, h ? h : "") == 0);
	free(data);
}

/* stored = prefix + base64 or hex of H(password || salt) || salt */
static void make_digest(struct str *stored, const char *prefix,
			const EVP_MD *md, const char *password,
			const char *salt, int hex)
{
	unsigned char buf[EVP_MAX_MD_SIZE + 64];
	unsigned int dlen = 0;
	size_t slen = strlen(salt), i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	TEST_ASSERT(ctx != NULL && slen <= 64);
	TEST_ASSERT(EVP_DigestInit_ex(ctx, md, NULL) == 1);
	TEST_ASSERT(EVP_DigestUpdate(ctx, password, strlen(password)) == 1);
	TEST_ASSERT(EVP_DigestUpdate(ctx, salt, slen) == 1);
	TEST_ASSERT(EVP_DigestFinal_ex(ctx, buf, &dlen) == 1);
	EVP_MD_CTX_free(ctx);
	memcpy(buf + dlen, salt, slen);
	str_clear(stored);
	TEST_ASSERT(str_appends(stored, prefix) == 0);
	if (!hex)
		TEST_ASSERT(base64_encode(stored, buf, dlen + slen) == 0);
	for (i = 0; hex && i < dlen + slen; i++)
		TEST_ASSERT(str_appendf(stored, "%02x", buf[i]) == 0);
}

static void test_create_verify(void)
{
	struct str h = STR_INIT(0), h2 = STR_INIT(0);
	const char *err = NULL;

	TEST_ASSERT(pwhash_create("correct horse", &h, &err) == 0);
	TEST_ASSERT(strncmp(str_c(&h), "{CRYPT}$y$", 10) == 0);
	TEST_ASSERT(pwhash_verify("correct horse", h.s, &err) == 1);
	TEST_ASSERT(pwhash_verify("correct horsf", h.s, &err) == 0);
	TEST_ASSERT(pwhash_verify("", h.s, &err) == 0);
	TEST_STREQ(pwhash_scheme(h.s), "CRYPT");
	TEST_ASSERT(pwhash_create("correct horse", &h2, &err) == 0);
	TEST_ASSERT(strcmp(h.s, h2.s) != 0);
	/* the bare crypt string verifies as well */
	TEST_ASSERT(pwhash_verify("correct horse", h.s + 7, &err) == 1);
	str_free(&h);
	str_free(&h2);
}

static void test_create_empty_password(void)
{
	struct str h = STR_INIT(0);
	const char *err = NULL;

	TEST_ASSERT(pwhash_create("", &h, &err) == 0);
	TEST_ASSERT(pwhash_verify("", h.s, &err) == 1);
	TEST_ASSERT(pwhash_verify(" ", h.s, &err) == 0);
	str_free(&h);
}

static void test_create_cap(void)
{
	struct str h = STR_INIT(20);
	const char *err = NULL;

	TEST_ASSERT(pwhash_create("pw", &h, &err) == -1);
	TEST_ASSERT(err != NULL);
	TEST_ASSERT(h.len == 0);
	str_free(&h);
}

static void test_sha512_crypt_published(void)
{
	static const char stored[] = "{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1"
		"ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfa"
		"S35inz1";
	const char *err = NULL;

	TEST_ASSERT(pwhash_verify("Hello world!", stored, &err) == 1);
	TEST_ASSERT(pwhash_verify("Hello world", stored, &err) == 0);
	TEST_ASSERT(pwhash_verify("hello world!", stored, &err) == 0);
	TEST_STREQ(pwhash_scheme(stored), "SHA512-CRYPT");
}

static void test_crypt_family(void)
{
	static const char *const cases[][2] = {
		{ "{MD5-CRYPT}", "$1$saltsalt$" },
		{ "{SHA256-CRYPT}", "$5$saltsalt$" },
		{ "{SHA512-CRYPT}", "$6$saltsalt$" },
		{ "{CRYPT}", "$6$rounds=5000$other$" },
		{ "", "$5$bare$" },
		{ "{sha512-crypt}", "$6$lower$" },
	};
	struct str s = STR_INIT(0);
	const char *err = NULL;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_crypt(&s, cases[i][0], "secret", cases[i][1]);
		TEST_ASSERT(pwhash_verify("secret", s.s, &err) == 1);
		TEST_ASSERT(pwhash_verify("Secret", s.s, &err) == 0);
		TEST_ASSERT(pwhash_verify("secret ", s.s, &err) == 0);
	}
	str_free(&s);
}

static void test_blf_crypt(void)
{
	struct str s = STR_INIT(0);
	const char *err = NULL;
	char *setting = crypt_gensalt_ra("$2b$", 5, NULL, 0);

	TEST_ASSERT(setting != NULL);
	if (setting == NULL)
		return;
	make_crypt(&s, "{BLF-CRYPT}", "secret", setting);
	TEST_ASSERT(pwhash_verify("secret", s.s, &err) == 1);
	TEST_ASSERT(pwhash_verify("secreT", s.s, &err) == 0);
	TEST_STREQ(pwhash_scheme(s.s), "BLF-CRYPT");
	free(setting);
	str_free(&s);
}

static void test_crypt_scheme_mismatch(void)
{
	struct str s = STR_INIT(0);
	const char *err = NULL;

	make_crypt(&s, "{MD5-CRYPT}", "secret", "$6$saltsalt$");
	err = NULL;
	TEST_ASSERT(pwhash_verify("secret", s.s, &err) == -1);
	TEST_ASSERT(err != NULL);
	TEST_ASSERT(pwhash_scheme(s.s) == NULL);
	make_crypt(&s, "{BLF-CRYPT}", "secret", "$5$saltsalt$");
	TEST_ASSERT(pwhash_verify("secret", s.s, &err) == -1);
	str_free(&s);
}

static void test_crypt_malformed(void)
{
	static const char *const bad[] = {
		"{SHA512-CRYPT}nonsense", "{SHA512-CRYPT}$6$saltsalt$abc",
		"{CRYPT}$6$", "{CRYPT}*0", "{CRYPT}*1", "{CRYPT}$", "$",
		"$6$saltsalt$", "{CRYPT}", "{BLF-CRYPT}$2b$99$xxxxxxxxxxxxxxxxxxxxxx",
		"{CRYPT}$q$unknown$method",
	};
	const char *err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		TEST_ASSERT(pwhash_verify("secret", bad[i], &err) == -1);
		TEST_ASSERT(err != NULL);
		TEST_ASSERT(pwhash_verify("", bad[i], &err) == -1);
	}
}

static void test_failure_token_never_matches(void)
{
	const char *err = NULL;

	TEST_ASSERT(pwhash_verify("*0", "*0", &err) == -1);
	TEST_ASSERT(pwhash_verify("", "*0", &err) == -1);
	TEST_ASSERT(pwhash_verify("*0", "{CRYPT}*0", &err) == -1);
	TEST_ASSERT(pwhash_verify("x", "{CRYPT}*", &err) == -1);
	TEST_ASSERT(pwhash_scheme("*0") == NULL);
}

static void test_plain(void)
{
	const char *err = NULL;

	TEST_ASSERT(pwhash_verify("secret", "{PLAIN}secret", &err) == 1);
	TEST_ASSERT(pwhash_verify("secret", "{CLEARTEXT}secret", &err) == 1);
	TEST_ASSERT(pwhash_verify("secret", "{plain}secret", &err) == 1);
	TEST_ASSERT(pwhash_verify("secre", "{PLAIN}secret", &err) == 0);
	TEST_ASSERT(pwhash_verify("secret2", "{PLAIN}secret", &err) == 0);
	TEST_ASSERT(pwhash_verify("Secret", "{PLAIN}secret", &err) == 0);
	TEST_ASSERT(pwhash_verify("a}b", "{PLAIN}a}b", &err) == 1);
	TEST_ASSERT(pwhash_verify("", "{PLAIN}", &err) == 1);
	TEST_ASSERT(pwhash_verify("x", "{PLAIN}", &err) == 0);
	TEST_STREQ(pwhash_scheme("{cleartext}x"), "CLEARTEXT");
}

static void test_sha1_published(void)
{
	const char *err = NULL;

	TEST_ASSERT(pwhash_verify("password", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
				  &err) == 1);
	TEST_ASSERT(pwhash_verify("passwort", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
				  &err) == 0);
	TEST_ASSERT(pwhash_verify("password",
		"{SHA}5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", &err) == 1);
	TEST_ASSERT(pwhash_verify("password",
		"{SHA.HEX}5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8", &err) == 1);
	TEST_STREQ(pwhash_scheme("{sha}W6ph5Mm5Pz8GgiULbPgzG37mj9g="), "SHA");
}

static void test_sha2_digests(void)
{
	struct str s = STR_INIT(0);
	const char *err = NULL;

	make_digest(&s, "{SHA256}", EVP_sha256(), "secret", "", 0);
	TEST_ASSERT(pwhash_verify("secret", s.s, &err) == 1);
	TEST_ASSERT(pwhash_verify("secreT", s.s, &err) == 0);
	TEST_STREQ(pwhash_scheme(s.s), "SHA256");
	make_digest(&s, "{SHA512}", EVP_sha512(), "secret", "", 0);
	TEST_ASSERT(pwhash_verify("secret", s.s, &err) == 1);
	TEST_ASSERT(pwhash_verify("", s.s, &err) == 0);
	make_digest(&s, "{SHA256.HEX}", EVP_sha256(), "secret", "", 1);
	TEST_ASSERT(pwhash_verify("secret", s.s, &err) == 1);
	/* hex without the suffix is recognised by its length */
	make_digest(&s, "{SHA512}", EVP_sha512(), "secret", "", 1);
	TEST_ASSERT(pwhash_verify("secret", s.s, &err) == 1);
	str_free(&s);
}

static void test_salted_digests(void)
{
	struct str s = STR_INIT(0);
	const char *err = NULL;

	make_digest(&s, "{SSHA}", EVP_sha1(), "secret", "NaCl", 0);
	TEST_ASSERT(pwhash_verify("secret", s.s, &err) == 1);
	TEST_ASSERT(pwhash_verify("secreT", s.s, &err) == 0);
	make_digest(&s, "{SSHA256}", EVP_sha256(), "secret", "12345678", 0);
	TEST_ASSERT(pwhash_verify("secret", s.s, &err) == 1);
	TEST_ASSERT(pwhash_verify("secret12345678", s.s, &err) == 0);
	TEST_STREQ(pwhash_scheme(s.s), "SSHA256");
	make_digest(&s, "{ssha512}", EVP_sha512(), "secret", "s", 0);
	TEST_ASSERT(pwhash_verify("secret", s.s, &err) == 1);
	make_digest(&s, "{SSHA512.HEX}", EVP_sha512(), "secret", "salty", 1);
	TEST_ASSERT(pwhash_verify("secret", s.s, &err) == 1);
	TEST_ASSERT(pwhash_verify("secret1", s.s, &err) == 0);
	str_free(&s);
}

static void test_digest_malformed(void)
{
	struct str s = STR_INIT(0);
	const char *err;

	/* a salted hash needs at least one salt byte */
	make_digest(&s, "{SSHA256}", EVP_sha256(), "secret", "", 0);
	err = NULL;
	TEST_ASSERT(pwhash_verify("secret", s.s, &err) == -1);
	TEST_ASSERT(err != NULL);
	TEST_ASSERT(pwhash_scheme(s.s) == NULL);
	/* an unsalted hash must be exactly the digest */
	make_digest(&s, "{SHA256}", EVP_sha256(), "secret", "x", 0);
	TEST_ASSERT(pwhash_verify("secret", s.s, &err) == -1);
	TEST_ASSERT(pwhash_verify("secret", "{SHA256}!!!!", &err) == -1);
	TEST_ASSERT(pwhash_verify("secret", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g",
				  &err) == -1);
	TEST_ASSERT(pwhash_verify("password",
		"{SHA.HEX}5baa61e4c9b93f3f0682250b6cf8331b7ee68fdz", &err) == -1);
	TEST_ASSERT(pwhash_verify("secret", "{SSHA}", &err) == -1);
	str_free(&s);
}

static void test_unknown_and_empty(void)
{
	static const char *const bad[] = {
		"", "{FOO}x", "{}x", "{SHA256", "plain-text", "{ SHA}x",
		"{SHA256 }x", "{SHA-256}x",
		"{AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA}x",
	};
	const char *err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		TEST_ASSERT(pwhash_verify("x", bad[i], &err) == -1);
		TEST_ASSERT(err != NULL);
		TEST_ASSERT(pwhash_scheme(bad[i]) == NULL);
	}
}

static void test_long_password(void)
{
	struct str s = STR_INIT(0), h = STR_INIT(0);
	char *pw = malloc(4097);
	const char *err = NULL;

	TEST_ASSERT(pw != NULL);
	if (pw == NULL)
		return;
	memset(pw, 'a', 4096);
	pw[4096] = '\0';
	TEST_ASSERT(pwhash_create(pw, &h, &err) == -1);
	TEST_STREQ(err, "password too long");
	make_digest(&s, "{SSHA512}", EVP_sha512(), pw, "salt", 0);
	TEST_ASSERT(pwhash_verify(pw, s.s, &err) == 1);
	pw[4095] = 'b';
	TEST_ASSERT(pwhash_verify(pw, s.s, &err) == 0);
	pw[4095] = 'a';
	make_crypt(&s, "{SHA512-CRYPT}", "secret", "$6$saltsalt$");
	TEST_ASSERT(pwhash_verify(pw, s.s, &err) == 0);
	str_clear(&s);
	TEST_ASSERT(str_appends(&s, "{PLAIN}") == 0 && str_appends(&s, pw) == 0);
	TEST_ASSERT(pwhash_verify(pw, s.s, &err) == 1);
	/* the longest password libcrypt takes still works */
	pw[CRYPT_MAX_PASSPHRASE_SIZE - 1] = '\0';
	TEST_ASSERT(pwhash_create(pw, &h, &err) == 0);
	TEST_ASSERT(pwhash_verify(pw, h.s, &err) == 1);
	pw[CRYPT_MAX_PASSPHRASE_SIZE - 2] = 'b';
	TEST_ASSERT(pwhash_verify(pw, h.s, &err) == 0);
	free(pw);
	str_free(&s);
	str_free(&h);
}

TEST_MAIN(test_create_verify, test_create_empty_password, test_create_cap,
	  test_sha512_crypt_published, test_crypt_family, test_blf_crypt,
	  test_crypt_scheme_mismatch, test_crypt_malformed,
	  test_failure_token_never_matches, test_plain, test_sha1_published,
	  test_sha2_digests, test_salted_digests, test_digest_malformed,
	  test_unknown_and_empty, test_long_password)
