/*
 * tls - OpenSSL 3 contexts: TLS 1.2 minimum, server and client side
 *
 * Server contexts load a PEM chain and key and refuse a key that does not
 * match. Every postern process serves one client, so there is no session
 * cache and no session tickets (their keys would die with the process).
 * Renegotiation and compression are off. A peer that closes the
 * connection without close_notify is treated as end of input: mail
 * protocols carry their own end markers (".", QUIT), and mail clients do
 * that all the time.
 *
 * tls_selfsigned_create() makes the certificate `postern init` installs
 * so that STARTTLS works out of the box; its files are written atomically
 * (temporary file in the same directory, fsync, rename, fsync of the
 * directory), the key first, so a crash never leaves half a file.
 */
#include "util/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "util/str.h"

#define TLS_ERRBUF_SIZE 1024
#define TLS_CN_MAX 64		/* ub_common_name (RFC 5280) */
#define TLS_HOST_MAX 253

static char tls_errbuf[TLS_ERRBUF_SIZE];
static char tls_msgbuf[TLS_ERRBUF_SIZE];

/* Append as much of s as fits into buf (always NUL-terminated). */
static void tls_buf_add(char *buf, size_t size, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (*pos + 1 >= size)
		return;
	if (n > size - 1 - *pos)
		n = size - 1 - *pos;
	memcpy(buf + *pos, s, n);
	*pos += n;
	buf[*pos] = '\0';
}

static const char *tls_reason(unsigned long e)
{
	const char *reason;

	if (ERR_SYSTEM_ERROR(e))
		return strerror(ERR_GET_REASON(e));
	reason = ERR_reason_error_string(e);
	return reason != NULL ? reason : "unknown error";
}

const char *tls_error(void)
{
	const char *data, *reason, *prev = NULL;
	unsigned long e;
	size_t pos = 0;
	int flags;

	tls_errbuf[0] = '\0';
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		reason = tls_reason(e);
		if (prev != NULL && strcmp(prev, reason) == 0)
			continue;
		prev = reason;
		if (pos > 0)
			tls_buf_add(tls_errbuf, sizeof(tls_errbuf), &pos, "; ");
		tls_buf_add(tls_errbuf, sizeof(tls_errbuf), &pos, reason);
		if ((flags & ERR_TXT_STRING) && data != NULL && data[0]) {
			tls_buf_add(tls_errbuf, sizeof(tls_errbuf), &pos, " (");
			tls_buf_add(tls_errbuf, sizeof(tls_errbuf), &pos, data);
			tls_buf_add(tls_errbuf, sizeof(tls_errbuf), &pos, ")");
		}
	}
	if (pos == 0)
		tls_buf_add(tls_errbuf, sizeof(tls_errbuf), &pos,
			    "unknown TLS error");
	return tls_errbuf;
}

/* "what path: detail" in a static buffer. */
static const char *tls_msg(const char *what, const char *path,
			   const char *detail)
{
	size_t pos = 0;

	tls_msgbuf[0] = '\0';
	tls_buf_add(tls_msgbuf, sizeof(tls_msgbuf), &pos, what);
	if (path != NULL) {
		tls_buf_add(tls_msgbuf, sizeof(tls_msgbuf), &pos, " ");
		tls_buf_add(tls_msgbuf, sizeof(tls_msgbuf), &pos, path);
	}
	tls_buf_add(tls_msgbuf, sizeof(tls_msgbuf), &pos, ": ");
	tls_buf_add(tls_msgbuf, sizeof(tls_msgbuf), &pos, detail);
	return tls_msgbuf;
}

/* ---- contexts ----------------------------------------------------------- */

static SSL_CTX *tls_ctx_new(const SSL_METHOD *method, const char **error_r)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	ctx = SSL_CTX_new(method);
	if (ctx == NULL) {
		*error_r = tls_msg("SSL_CTX_new", NULL, tls_error());
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		*error_r = tls_msg("TLS 1.2 minimum", NULL, tls_error());
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
			    SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_IGNORE_UNEXPECTED_EOF);
	return ctx;
}

static int tls_ctx_load(SSL_CTX *ctx, const char *cert, const char *key,
			const char **error_r)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		*error_r = tls_msg("certificate", cert, tls_error());
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		*error_r = tls_msg("private key", key, tls_error());
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		*error_r = tls_msg("private key", key, tls_error());
		return -1;
	}
	return 0;
}

SSL_CTX *tls_server_ctx(const char *cert, const char *key,
			const char **error_r)
{
	SSL_CTX *ctx = tls_ctx_new(TLS_server_method(), error_r);

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE |
			    SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_set_num_tickets(ctx, 0) != 1) {
		*error_r = tls_msg("session tickets off", NULL, tls_error());
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (tls_ctx_load(ctx, cert, key, error_r) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL_CTX *tls_client_ctx(int verify, const char **error_r)
{
	SSL_CTX *ctx = tls_ctx_new(TLS_client_method(), error_r);

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (!verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		*error_r = tls_msg("default CA paths", NULL, tls_error());
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

/* ---- atomic file write -------------------------------------------------- */

static int tls_fsync_dir(const char *path)
{
	struct str dir = STR_INIT(0);
	const char *slash = strrchr(path, '/');
	int fd, r = -1;

	if (slash == NULL)
		r = str_sets(&dir, ".");
	else if (slash == path)
		r = str_sets(&dir, "/");
	else
		r = str_set(&dir, path, (size_t)(slash - path));
	if (r == 0) {
		r = -1;
		fd = open(str_c(&dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			r = fsync(fd);
			if (close(fd) < 0)
				r = -1;
		}
	}
	str_free(&dir);
	return r;
}

static int tls_write_fd(int fd, const char *p, size_t n, mode_t mode)
{
	ssize_t w;

	if (fchmod(fd, mode) < 0)
		return -1;
	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return fsync(fd);
}

/* path gets exactly p[0..n) with the given mode, or stays as it was. */
static int tls_write_atomic(const char *path, const char *p, size_t n,
			    mode_t mode)
{
	struct str tmp = STR_INIT(0);
	int fd, r, saved;

	if (str_appendf(&tmp, "%s.tmpXXXXXX", path) < 0) {
		str_free(&tmp);
		return -1;
	}
	fd = mkostemp(tmp.s, O_CLOEXEC);
	if (fd < 0) {
		str_free(&tmp);
		return -1;
	}
	r = tls_write_fd(fd, p, n, mode);
	if (close(fd) < 0)
		r = -1;
	if (r == 0)
		r = rename(tmp.s, path);
	if (r < 0) {
		saved = errno;
		(void)unlink(tmp.s);
		errno = saved;
	}
	str_free(&tmp);
	if (r == 0)
		r = tls_fsync_dir(path);
	return r;
}

static int tls_write_bio(const char *path, BIO *bio, mode_t mode,
			 const char **error_r)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);

	if (n <= 0) {
		*error_r = tls_msg("PEM encoding for", path, tls_error());
		return -1;
	}
	if (tls_write_atomic(path, data, (size_t)n, mode) < 0) {
		*error_r = tls_msg("write", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the self-signed certificate ---------------------------------------- */

static int tls_hostname_ok(const char *host)
{
	size_t i, n = strlen(host);

	if (n == 0 || n > TLS_CN_MAX || host[0] == '.' || host[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = host[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* A random positive 128-bit serial number. */
static int tls_set_serial(X509 *x)
{
	unsigned char rnd[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return 0;
	rnd[0] &= 0x7f;
	rnd[0] |= 0x40;
	bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	if (bn == NULL)
		return 0;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

static int tls_add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

static int tls_set_names(X509 *x, const char *hostname)
{
	X509_NAME *name = X509_get_subject_name(x);
	struct str san = STR_INIT(0);
	int ok;

	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				       (const unsigned char *)hostname, -1,
				       -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		return 0;
	ok = str_appendf(&san, "DNS:%s", hostname) == 0 &&
	     tls_add_ext(x, NID_subject_alt_name, str_c(&san));
	str_free(&san);
	return ok;
}

static X509 *tls_make_cert(EVP_PKEY *pkey, const char *hostname)
{
	X509 *x = X509_new();

	if (x == NULL)
		return NULL;
	if (X509_set_version(x, X509_VERSION_3) != 1 || !tls_set_serial(x) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 3653, 0, NULL) == NULL ||
	    X509_set_pubkey(x, pkey) != 1 || !tls_set_names(x, hostname) ||
	    !tls_add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
	    !tls_add_ext(x, NID_subject_key_identifier, "hash") ||
	    X509_sign(x, pkey, EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Encode both as PEM and write them, the key first. */
static int tls_write_pair(const char *certpath, const char *keypath,
			  X509 *x, EVP_PKEY *pkey, const char **error_r)
{
	BIO *kbio = BIO_new(BIO_s_mem());
	BIO *cbio = BIO_new(BIO_s_mem());
	int r = -1;

	if (kbio == NULL || cbio == NULL ||
	    PEM_write_bio_PrivateKey(kbio, pkey, NULL, NULL, 0, NULL,
				     NULL) != 1 ||
	    PEM_write_bio_X509(cbio, x) != 1)
		*error_r = tls_msg("PEM encoding", NULL, tls_error());
	else if (tls_write_bio(keypath, kbio, 0600, error_r) == 0 &&
		 tls_write_bio(certpath, cbio, 0644, error_r) == 0)
		r = 0;
	BIO_free(kbio);
	BIO_free(cbio);
	return r;
}

int tls_selfsigned_create(const char *certpath, const char *keypath,
			  const char *hostname, const char **error_r)
{
	EVP_PKEY *pkey;
	X509 *x;
	int r;

	if (!tls_hostname_ok(hostname)) {
		*error_r = "hostname for the certificate: letters, digits, "
			   "'-' and '.' only, at most 64";
		return -1;
	}
	ERR_clear_error();
	pkey = EVP_RSA_gen(2048);
	if (pkey == NULL) {
		*error_r = tls_msg("RSA key generation", NULL, tls_error());
		return -1;
	}
	x = tls_make_cert(pkey, hostname);
	if (x == NULL) {
		*error_r = tls_msg("certificate", NULL, tls_error());
		EVP_PKEY_free(pkey);
		return -1;
	}
	r = tls_write_pair(certpath, keypath, x, pkey, error_r);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return r;
}
