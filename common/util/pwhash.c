/*
 * pwhash - password hashes with libcrypt, Dovecot-compatible prefixes
 *
 * A stored value is "{SCHEME}body" (the scheme name case-insensitive) or a
 * bare crypt(3) string starting with '$', which counts as {CRYPT}.
 *
 *   crypt family   {CRYPT} {MD5-CRYPT} {SHA256-CRYPT} {SHA512-CRYPT}
 *                  {BLF-CRYPT}: body is a crypt(3) hash; the password is
 *                  hashed with the body as setting and the results compared.
 *                  Each named scheme requires its own "$id$" prefix, so
 *                  "{SHA512-CRYPT}junk" is malformed, not silently DES.
 *   plain digests  {SHA} (SHA-1) {SHA256} {SHA512}: body is the digest in
 *                  base64, or in hex when it has exactly the hex length;
 *                  "{SHA256.HEX}" forces hex.
 *   salted         {SSHA} {SSHA256} {SSHA512}: base64 (or ".HEX") of
 *                  H(password || salt) || salt, with at least one salt byte.
 *   cleartext      {PLAIN} {CLEARTEXT}.
 *
 * Every comparison is constant-time over equal lengths (CRYPTO_memcmp);
 * cleartext is compared through SHA-256 of both sides so that its length
 * does not leak either. A crypt result that starts with '*' (libcrypt's
 * failure token) never matches. libcrypt refuses passphrases of
 * CRYPT_MAX_PASSPHRASE_SIZE bytes or more: pwhash_create fails on them and
 * the crypt family never matches them. Password-derived buffers are wiped.
 */
#include "util/pwhash.h"

#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "util/alloc.h"
#include "util/base64.h"
#include "util/str.h"

enum pwhash_kind { PWHASH_CRYPT, PWHASH_PLAIN, PWHASH_DIGEST, PWHASH_SALTED };

struct pwhash_def {
	const char *name;
	enum pwhash_kind kind;
	const char *prefixes[3];	/* crypt: accepted "$id$"; none = any */
	const EVP_MD *(*md)(void);	/* digest and salted kinds */
	int hex;			/* body is hex rather than base64 */
};

static const struct pwhash_def pwhash_defs[] = {
	{ "CRYPT", PWHASH_CRYPT, { NULL, NULL, NULL }, NULL, 0 },
	{ "MD5-CRYPT", PWHASH_CRYPT, { "$1$", NULL, NULL }, NULL, 0 },
	{ "SHA256-CRYPT", PWHASH_CRYPT, { "$5$", NULL, NULL }, NULL, 0 },
	{ "SHA512-CRYPT", PWHASH_CRYPT, { "$6$", NULL, NULL }, NULL, 0 },
	{ "BLF-CRYPT", PWHASH_CRYPT, { "$2a$", "$2b$", "$2y$" }, NULL, 0 },
	{ "PLAIN", PWHASH_PLAIN, { NULL, NULL, NULL }, NULL, 0 },
	{ "CLEARTEXT", PWHASH_PLAIN, { NULL, NULL, NULL }, NULL, 0 },
	{ "SHA", PWHASH_DIGEST, { NULL, NULL, NULL }, EVP_sha1, 0 },
	{ "SHA256", PWHASH_DIGEST, { NULL, NULL, NULL }, EVP_sha256, 0 },
	{ "SHA512", PWHASH_DIGEST, { NULL, NULL, NULL }, EVP_sha512, 0 },
	{ "SHA.HEX", PWHASH_DIGEST, { NULL, NULL, NULL }, EVP_sha1, 1 },
	{ "SHA256.HEX", PWHASH_DIGEST, { NULL, NULL, NULL }, EVP_sha256, 1 },
	{ "SHA512.HEX", PWHASH_DIGEST, { NULL, NULL, NULL }, EVP_sha512, 1 },
	{ "SSHA", PWHASH_SALTED, { NULL, NULL, NULL }, EVP_sha1, 0 },
	{ "SSHA256", PWHASH_SALTED, { NULL, NULL, NULL }, EVP_sha256, 0 },
	{ "SSHA512", PWHASH_SALTED, { NULL, NULL, NULL }, EVP_sha512, 0 },
	{ "SSHA.HEX", PWHASH_SALTED, { NULL, NULL, NULL }, EVP_sha1, 1 },
	{ "SSHA256.HEX", PWHASH_SALTED, { NULL, NULL, NULL }, EVP_sha256, 1 },
	{ "SSHA512.HEX", PWHASH_SALTED, { NULL, NULL, NULL }, EVP_sha512, 1 },
};

#define PWHASH_NDEFS (sizeof(pwhash_defs) / sizeof(pwhash_defs[0]))
/* Longest scheme name accepted between the braces. */
#define PWHASH_NAME_MAX 32
/* Longest decoded digest body: SHA-512 plus a generous salt. */
#define PWHASH_BODY_MAX 1024

/* A stored value split into its scheme and body. */
struct pwhash_parsed {
	const struct pwhash_def *def;
	const char *body;
};

/* The table entry for the name p[0..n), or NULL. */
static const struct pwhash_def *pwhash_find(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < PWHASH_NDEFS; i++)
		if (strlen(pwhash_defs[i].name) == n &&
		    strncasecmp(pwhash_defs[i].name, p, n) == 0)
			return &pwhash_defs[i];
	return NULL;
}

/* Whether a crypt body starts with one of the scheme's "$id$" prefixes. */
static int pwhash_prefix_ok(const struct pwhash_def *def, const char *body)
{
	size_t i;

	if (def->prefixes[0] == NULL)
		return 1;
	for (i = 0; i < 3 && def->prefixes[i] != NULL; i++)
		if (strncmp(body, def->prefixes[i], strlen(def->prefixes[i])) == 0)
			return 1;
	return 0;
}

static int pwhash_parse(const char *stored, struct pwhash_parsed *p,
			const char **error_r)
{
	const char *end;

	if (stored[0] == '$') {
		p->def = &pwhash_defs[0];
		p->body = stored;
		return 0;
	}
	if (stored[0] != '{' || (end = strchr(stored, '}')) == NULL ||
	    (size_t)(end - stored) > PWHASH_NAME_MAX) {
		*error_r = "no {SCHEME} prefix";
		return -1;
	}
	p->def = pwhash_find(stored + 1, (size_t)(end - stored - 1));
	if (p->def == NULL) {
		*error_r = "unknown password scheme";
		return -1;
	}
	p->body = end + 1;
	if (p->body[0] == '\0' && p->def->kind != PWHASH_PLAIN) {
		*error_r = "empty password hash";
		return -1;
	}
	if (p->def->kind == PWHASH_CRYPT && !pwhash_prefix_ok(p->def, p->body)) {
		*error_r = "crypt hash does not match its scheme";
		return -1;
	}
	return 0;
}

/* Decode hex s[0..n) into out; -1 on an odd length or a non-hex digit. */
static int pwhash_hex_decode(struct str *out, const char *s, size_t n)
{
	size_t i;
	int hi, lo;

	if (n % 2 != 0)
		return -1;
	for (i = 0; i < n; i += 2) {
		hi = hex_digit_value((unsigned char)s[i]);
		lo = hex_digit_value((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0 || str_appendc(out, (char)(hi << 4 | lo)) < 0)
			return -1;
	}
	return 0;
}

/* Decode a digest or salted body into raw bytes and check its length:
 * exactly the digest size, or more than it when salted. */
static int pwhash_decode_body(const struct pwhash_parsed *p, struct str *raw,
			      const char **error_r)
{
	size_t n = strlen(p->body), dlen = (size_t)EVP_MD_size(p->def->md());
	int hex = p->def->hex;
	int r;

	if (p->def->kind == PWHASH_DIGEST && n == dlen * 2)
		hex = 1;
	r = hex ? pwhash_hex_decode(raw, p->body, n) :
		  base64_decode(raw, p->body, n);
	if (r < 0 || (p->def->kind == PWHASH_DIGEST && raw->len != dlen) ||
	    (p->def->kind == PWHASH_SALTED && raw->len <= dlen)) {
		*error_r = hex ? "malformed hex digest" : "malformed base64 digest";
		return -1;
	}
	return 0;
}

/* out = H(password || salt); 0 or -1. out holds EVP_MAX_MD_SIZE bytes. */
static int pwhash_digest(const EVP_MD *md, const char *password,
			 const void *salt, size_t saltlen, unsigned char *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int outlen = 0;
	int ok;

	if (ctx == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	     EVP_DigestUpdate(ctx, password, strlen(password)) == 1 &&
	     (saltlen == 0 || EVP_DigestUpdate(ctx, salt, saltlen) == 1) &&
	     EVP_DigestFinal_ex(ctx, out, &outlen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int pwhash_verify_digest(const char *password,
				const struct pwhash_parsed *p,
				const char **error_r)
{
	struct str raw = STR_INIT(PWHASH_BODY_MAX);
	unsigned char got[EVP_MAX_MD_SIZE];
	const EVP_MD *md = p->def->md();
	size_t dlen = (size_t)EVP_MD_size(md);
	int r = -1;

	if (pwhash_decode_body(p, &raw, error_r) < 0)
		goto out;
	if (pwhash_digest(md, password, raw.s + dlen, raw.len - dlen, got) < 0) {
		*error_r = "digest failed";
		goto out;
	}
	r = CRYPTO_memcmp(got, raw.s, dlen) == 0;
	OPENSSL_cleanse(got, sizeof(got));
out:
	str_free(&raw);
	return r;
}

static int pwhash_verify_plain(const char *password, const char *body,
			       const char **error_r)
{
	unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
	int r;

	if (pwhash_digest(EVP_sha256(), password, NULL, 0, a) < 0 ||
	    pwhash_digest(EVP_sha256(), body, NULL, 0, b) < 0) {
		*error_r = "digest failed";
		return -1;
	}
	r = CRYPTO_memcmp(a, b, 32) == 0;
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	return r;
}

static int pwhash_verify_crypt(const char *password, const char *body,
			       const char **error_r)
{
	struct crypt_data *data;
	const char *out;
	size_t blen = strlen(body);
	int r;

	if (strlen(password) >= CRYPT_MAX_PASSPHRASE_SIZE)
		return 0;
	data = xcalloc(1, sizeof(*data));
	out = crypt_rn(password, body, data, (int)sizeof(*data));
	if (out == NULL || out[0] == '*' || strlen(out) != blen) {
		*error_r = "malformed or unsupported crypt hash";
		r = -1;
	} else {
		r = CRYPTO_memcmp(out, body, blen) == 0;
	}
	OPENSSL_cleanse(data, sizeof(*data));
	free(data);
	return r;
}

int pwhash_verify(const char *password, const char *stored,
		  const char **error_r)
{
	struct pwhash_parsed p;

	if (pwhash_parse(stored, &p, error_r) < 0)
		return -1;
	switch (p.def->kind) {
	case PWHASH_CRYPT:
		return pwhash_verify_crypt(password, p.body, error_r);
	case PWHASH_PLAIN:
		return pwhash_verify_plain(password, p.body, error_r);
	case PWHASH_DIGEST:
	case PWHASH_SALTED:
		return pwhash_verify_digest(password, &p, error_r);
	}
	*error_r = "unknown password scheme";
	return -1;
}

const char *pwhash_scheme(const char *stored)
{
	struct str raw = STR_INIT(PWHASH_BODY_MAX);
	struct pwhash_parsed p;
	const char *err;
	int r = 0;

	if (pwhash_parse(stored, &p, &err) < 0)
		return NULL;
	if (p.def->kind == PWHASH_DIGEST || p.def->kind == PWHASH_SALTED)
		r = pwhash_decode_body(&p, &raw, &err);
	str_free(&raw);
	return r < 0 ? NULL : p.def->name;
}

int pwhash_create(const char *password, struct str *hash_r,
		  const char **error_r)
{
	struct crypt_data *data;
	char *setting;
	const char *out;
	int r = -1;

	if (strlen(password) >= CRYPT_MAX_PASSPHRASE_SIZE) {
		*error_r = "password too long";
		errno = EINVAL;
		return -1;
	}
	setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (setting == NULL) {
		*error_r = "crypt_gensalt: yescrypt unavailable";
		return -1;
	}
	data = xcalloc(1, sizeof(*data));
	out = crypt_rn(password, setting, data, (int)sizeof(*data));
	if (out == NULL || out[0] == '*')
		*error_r = "crypt failed";
	else if (str_sets(hash_r, "{CRYPT}") < 0 ||
		 str_appends(hash_r, out) < 0) {
		str_clear(hash_r);
		*error_r = "hash too long";
	} else
		r = 0;
	OPENSSL_cleanse(data, sizeof(*data));
	free(data);
	free(setting);
	return r;
}

int pwhash_init(void)
{
	return OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) == 1 ? 0 : -1;
}
