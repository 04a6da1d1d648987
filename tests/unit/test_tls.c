/*
 * test_tls - TLS contexts, the self-signed certificate, and io over TLS
 *
 * One self-signed pair is made in a mkdtemp directory and reused. Where
 * both ends must run at once, a forked child is the server; its exit
 * status says whether it saw what it expected.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "test.h"
#include "util/io.h"
#include "util/tls.h"

#define HOST "mx.postern.test"

static char dir[64];
static struct str certpath = STR_INIT(0), keypath = STR_INIT(0);
static struct str cert2path = STR_INIT(0), key2path = STR_INIT(0);
static SSL_CTX *server_ctx;

/* The pair every test uses, made on first need. */
static int fixture(void)
{
	const char *error = "";

	if (server_ctx != NULL)
		return 0;
	if (cstr_copy(dir, sizeof(dir), "/tmp/test_tls.XXXXXX") < 0 ||
	    mkdtemp(dir) == NULL)
		return -1;
	str_appendf(&certpath, "%s/cert.pem", dir);
	str_appendf(&keypath, "%s/key.pem", dir);
	str_appendf(&cert2path, "%s/cert2.pem", dir);
	str_appendf(&key2path, "%s/key2.pem", dir);
	if (tls_selfsigned_create(certpath.s, keypath.s, HOST, &error) < 0) {
		printf("selfsigned: %s\n", error);
		return -1;
	}
	server_ctx = tls_server_ctx(certpath.s, keypath.s, &error);
	if (server_ctx == NULL)
		printf("server ctx: %s\n", error);
	return server_ctx != NULL ? 0 : -1;
}

static void make_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("socketpair");
		exit(1);
	}
}

static int count_dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (f == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static void test_selfsigned_files(void)
{
	struct stat st;

	TEST_ASSERT(fixture() == 0);
	TEST_ASSERT(stat(keypath.s, &st) == 0);
	TEST_ASSERT((st.st_mode & 07777) == 0600);
	TEST_ASSERT(stat(certpath.s, &st) == 0);
	TEST_ASSERT((st.st_mode & 07777) == 0644);
	/* no temporary files left behind */
	TEST_ASSERT(count_dir_entries(dir) == 2);
}

static void test_selfsigned_contents(void)
{
	X509 *x;
	char cn[128] = "";
	time_t nine_years = time(NULL) + 9L * 365 * 86400;

	TEST_ASSERT(fixture() == 0);
	x = read_cert(certpath.s);
	TEST_ASSERT(x != NULL);
	if (x == NULL)
		return;
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
				  cn, sizeof(cn));
	TEST_STREQ(cn, HOST);
	TEST_ASSERT(X509_get_version(x) == X509_VERSION_3);
	TEST_ASSERT(X509_check_host(x, HOST, 0, 0, NULL) == 1);
	TEST_ASSERT(X509_check_host(x, "other.test", 0, 0, NULL) == 0);
	TEST_ASSERT(X509_cmp_time(X509_get0_notAfter(x), &nine_years) > 0);
	TEST_ASSERT(X509_cmp_time(X509_get0_notBefore(x), NULL) < 0);
	TEST_ASSERT(X509_check_ca(x) == 0);
	TEST_ASSERT(X509_get_signature_nid(x) == NID_sha256WithRSAEncryption);
	X509_free(x);
}

static void test_selfsigned_bad_hostname(void)
{
	const char *bad[] = { "", "a b", "a,DNS:evil.test", "-x.test",
			      "x\n.test", NULL };
	char longname[66];
	const char *error;
	int i;

	TEST_ASSERT(fixture() == 0);
	for (i = 0; bad[i] != NULL; i++) {
		error = NULL;
		TEST_ASSERT(tls_selfsigned_create(cert2path.s, key2path.s,
						  bad[i], &error) < 0);
		TEST_ASSERT(error != NULL && error[0] != '\0');
	}
	memset(longname, 'a', 65);
	longname[65] = '\0';
	TEST_ASSERT(tls_selfsigned_create(cert2path.s, key2path.s, longname,
					  &error) < 0);
	TEST_ASSERT(access(cert2path.s, F_OK) < 0 && errno == ENOENT);
}

static void test_selfsigned_unwritable_dir(void)
{
	const char *error = NULL;

	TEST_ASSERT(tls_selfsigned_create("/nonexistent/dir/c.pem",
					  "/nonexistent/dir/k.pem", "a.test",
					  &error) < 0);
	TEST_ASSERT(error != NULL && strstr(error, "/nonexistent/dir/k.pem")
		    != NULL);
}

static void test_server_ctx_wrong_key(void)
{
	const char *error = NULL;
	SSL_CTX *ctx;

	TEST_ASSERT(fixture() == 0);
	TEST_ASSERT(tls_selfsigned_create(cert2path.s, key2path.s, "b.test",
					  &error) == 0);
	ctx = tls_server_ctx(certpath.s, key2path.s, &error);
	TEST_ASSERT(ctx == NULL);
	TEST_ASSERT(error != NULL && strstr(error, "key") != NULL);
	SSL_CTX_free(ctx);
	ctx = tls_server_ctx(cert2path.s, key2path.s, &error);
	TEST_ASSERT(ctx != NULL);
	SSL_CTX_free(ctx);
}

static void test_server_ctx_missing_file(void)
{
	const char *error = NULL;
	SSL_CTX *ctx;

	TEST_ASSERT(fixture() == 0);
	ctx = tls_server_ctx("/nonexistent/cert.pem", keypath.s, &error);
	TEST_ASSERT(ctx == NULL);
	TEST_ASSERT(error != NULL &&
		    strstr(error, "/nonexistent/cert.pem") != NULL);
	/* a key is not a certificate */
	ctx = tls_server_ctx(keypath.s, keypath.s, &error);
	TEST_ASSERT(ctx == NULL);
	SSL_CTX_free(ctx);
}

static void test_ctx_settings(void)
{
	const char *error = NULL;
	SSL_CTX *c0 = tls_client_ctx(0, &error);
	SSL_CTX *c1 = tls_client_ctx(1, &error);

	TEST_ASSERT(fixture() == 0);
	TEST_ASSERT(c0 != NULL && c1 != NULL);
	if (c0 == NULL || c1 == NULL)
		return;
	TEST_ASSERT(SSL_CTX_get_min_proto_version(c0) == TLS1_2_VERSION);
	TEST_ASSERT(SSL_CTX_get_min_proto_version(server_ctx) ==
		    TLS1_2_VERSION);
	TEST_ASSERT(SSL_CTX_get_verify_mode(c0) == SSL_VERIFY_NONE);
	TEST_ASSERT(SSL_CTX_get_verify_mode(c1) == SSL_VERIFY_PEER);
	TEST_ASSERT(SSL_CTX_get_options(server_ctx) & SSL_OP_NO_COMPRESSION);
	TEST_ASSERT(SSL_CTX_get_options(server_ctx) &
		    SSL_OP_NO_RENEGOTIATION);
	TEST_ASSERT(SSL_CTX_get_session_cache_mode(server_ctx) ==
		    SSL_SESS_CACHE_OFF);
	SSL_CTX_free(c0);
	SSL_CTX_free(c1);
}

static void test_tls_error_text(void)
{
	const char *e;

	ERR_clear_error();
	e = tls_error();
	TEST_STREQ(e, "unknown TLS error");
	ERR_raise(ERR_LIB_SSL, SSL_R_WRONG_VERSION_NUMBER);
	e = tls_error();
	TEST_ASSERT(strstr(e, "wrong version number") != NULL);
	TEST_ASSERT(ERR_peek_error() == 0);
}

/* ---- handshakes between a forked server and this process ---------------- */

typedef int server_fn(struct io *io);

/* Fork a server on sv[1] running fn after the handshake; exit 0 on
 * success, 2 when the handshake failed, 3 when fn failed. */
static pid_t spawn_server(int sv[2], server_fn *fn, int timeout_ms)
{
	const char *error;
	struct io io;
	pid_t pid = fork();
	int r;

	if (pid != 0)
		return pid;
	close(sv[0]);
	io_init(&io, sv[1], timeout_ms);
	if (io_tls_server(&io, server_ctx, &error) < 0)
		_exit(2);
	r = fn(&io);
	io_free(&io);
	_exit(r == 0 ? 0 : 3);
}

static int wait_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int server_echo_once(struct io *io)
{
	struct str line = STR_INIT(0);
	int r = -1;

	if (io_read_line(io, &line, 1000) == IO_OK &&
	    strcmp(str_c(&line), "hello from client\r\n") == 0 &&
	    io_puts(io, "hello from server\r\n") == IO_OK &&
	    io_flush(io) == IO_OK && io_read_line(io, &line, 1000) == IO_EOF)
		r = 0;
	str_free(&line);
	return r;
}

static void test_handshake_and_exchange(void)
{
	struct str line = STR_INIT(0);
	const char *error = NULL;
	SSL_CTX *cctx = tls_client_ctx(0, &error);
	struct io io;
	pid_t pid;
	int sv[2];

	TEST_ASSERT(fixture() == 0 && cctx != NULL);
	make_pair(sv);
	pid = spawn_server(sv, server_echo_once, 5000);
	close(sv[1]);
	io_init(&io, sv[0], 5000);
	TEST_ASSERT(io_tls_client(&io, cctx, HOST, &error) == 0);
	TEST_ASSERT(io.ssl != NULL);
	if (io.ssl != NULL)
		TEST_ASSERT(SSL_version(io.ssl) >= TLS1_2_VERSION);
	TEST_ASSERT(io_puts(&io, "hello from client\r\n") == IO_OK);
	TEST_ASSERT(io_flush(&io) == IO_OK);
	TEST_ASSERT(io_read_line(&io, &line, 1000) == IO_OK);
	TEST_STREQ(str_c(&line), "hello from server\r\n");
	io_free(&io);
	close(sv[0]);
	TEST_ASSERT(wait_status(pid) == 0);
	str_free(&line);
	SSL_CTX_free(cctx);
}

/* Server: count the bytes of every line, answer with the total. */
static int server_count(struct io *io)
{
	struct str line = STR_INIT(0);
	size_t total = 0;
	int r;

	while ((r = io_read_line(io, &line, 100000)) == IO_OK) {
		if (strcmp(str_c(&line), ".\r\n") == 0)
			break;
		total += line.len;
	}
	r = r == IO_OK && io_printf(io, "%zu\r\n", total) == IO_OK &&
	    io_flush(io) == IO_OK ? 0 : -1;
	str_free(&line);
	return r;
}

static void test_tls_large_transfer(void)
{
	struct str line = STR_INIT(0), want = STR_INIT(0);
	const char *error = NULL;
	SSL_CTX *cctx = tls_client_ctx(0, &error);
	char chunk[999];
	size_t total = 0;
	struct io io;
	pid_t pid;
	int sv[2], i;

	TEST_ASSERT(fixture() == 0 && cctx != NULL);
	memset(chunk, 'm', sizeof(chunk));
	chunk[sizeof(chunk) - 1] = '\n';
	make_pair(sv);
	pid = spawn_server(sv, server_count, 5000);
	close(sv[1]);
	io_init(&io, sv[0], 5000);
	TEST_ASSERT(io_tls_client(&io, cctx, NULL, &error) == 0);
	for (i = 0; i < 3000; i++, total += sizeof(chunk))
		TEST_ASSERT(io_write(&io, chunk, sizeof(chunk)) == IO_OK);
	TEST_ASSERT(io_puts(&io, ".\r\n") == IO_OK);
	TEST_ASSERT(io_flush(&io) == IO_OK);
	TEST_ASSERT(io_read_line(&io, &line, 100) == IO_OK);
	str_appendf(&want, "%zu\r\n", total);
	TEST_STREQ(str_c(&line), str_c(&want));
	io_free(&io);
	close(sv[0]);
	TEST_ASSERT(wait_status(pid) == 0);
	str_free(&line);
	str_free(&want);
	SSL_CTX_free(cctx);
}

static int server_check_sni(struct io *io)
{
	const char *name = SSL_get_servername(io->ssl,
					      TLSEXT_NAMETYPE_host_name);

	return name != NULL && strcmp(name, HOST) == 0 ? 0 : -1;
}

static int server_check_no_sni(struct io *io)
{
	return SSL_get_servername(io->ssl, TLSEXT_NAMETYPE_host_name) ==
	       NULL ? 0 : -1;
}

/* verify: 0 none, 1 default CAs, 2 trusting our own certificate. */
static SSL_CTX *client_ctx(int verify)
{
	const char *error;
	SSL_CTX *cctx = tls_client_ctx(verify != 0, &error);

	if (cctx != NULL && verify == 2 &&
	    SSL_CTX_load_verify_locations(cctx, certpath.s, NULL) != 1) {
		SSL_CTX_free(cctx);
		return NULL;
	}
	return cctx;
}

static int client_run(server_fn *fn, const char *servername, int verify,
		      const char **error_r)
{
	SSL_CTX *cctx = client_ctx(verify);
	struct io io;
	pid_t pid;
	int sv[2], r, st;

	if (cctx == NULL)
		return -2;
	make_pair(sv);
	pid = spawn_server(sv, fn, 5000);
	close(sv[1]);
	io_init(&io, sv[0], 5000);
	r = io_tls_client(&io, cctx, servername, error_r);
	io_free(&io);
	close(sv[0]);
	st = wait_status(pid);
	SSL_CTX_free(cctx);
	return r < 0 ? -1 : st;
}

static void test_client_sni(void)
{
	const char *error = NULL;

	TEST_ASSERT(fixture() == 0);
	TEST_ASSERT(client_run(server_check_sni, HOST, 0, &error) == 0);
	TEST_ASSERT(client_run(server_check_no_sni, "192.0.2.1", 0,
			       &error) == 0);
	TEST_ASSERT(client_run(server_check_no_sni, "2001:db8::1", 0,
			       &error) == 0);
	TEST_ASSERT(client_run(server_check_no_sni, NULL, 0, &error) == 0);
}

static void test_verify_rejects_selfsigned(void)
{
	const char *error = NULL;

	TEST_ASSERT(fixture() == 0);
	TEST_ASSERT(client_run(server_check_sni, HOST, 1, &error) == -1);
	TEST_ASSERT(error != NULL &&
		    strstr(error, "certificate verify failed") != NULL);
}

/* With the certificate trusted, the name still has to match. */
static void test_verify_checks_hostname(void)
{
	const char *error = NULL;

	TEST_ASSERT(fixture() == 0);
	TEST_ASSERT(client_run(server_check_sni, HOST, 2, &error) == 0);
	error = NULL;
	TEST_ASSERT(client_run(server_check_no_sni, "192.0.2.1", 2,
			       &error) == -1);
	TEST_ASSERT(error != NULL && strstr(error, "verify failed") != NULL);
	error = NULL;
	TEST_ASSERT(client_run(server_check_sni, "other.test", 2,
			       &error) == -1);
	TEST_ASSERT(error != NULL && strstr(error, "verify failed") != NULL);
}

/* Plaintext pipelined before STARTTLS must not show up after it. */
static int server_after_injection(struct io *io)
{
	struct str line = STR_INIT(0);
	int r = io_read_line(io, &line, 1000) == IO_OK &&
		strcmp(str_c(&line), "real\r\n") == 0 ? 0 : -1;

	str_free(&line);
	return r;
}

static void test_starttls_drops_plaintext(void)
{
	struct str line = STR_INIT(0);
	const char *error = NULL;
	SSL_CTX *cctx = tls_client_ctx(0, &error);
	struct io srv, cli;
	pid_t pid;
	int sv[2];

	TEST_ASSERT(fixture() == 0 && cctx != NULL);
	make_pair(sv);
	TEST_ASSERT(write(sv[0], "STARTTLS\r\nINJECTED\r\n", 20) == 20);
	io_init(&srv, sv[1], 5000);
	TEST_ASSERT(io_read_line(&srv, &line, 1000) == IO_OK);
	TEST_ASSERT(io_pending(&srv) == 10);
	pid = fork();
	if (pid == 0) {
		io_init(&cli, sv[0], 5000);
		if (io_tls_client(&cli, cctx, HOST, &error) < 0 ||
		    io_puts(&cli, "real\r\n") != IO_OK || io_flush(&cli) != 0)
			_exit(1);
		io_free(&cli);
		_exit(0);
	}
	TEST_ASSERT(io_tls_server(&srv, server_ctx, &error) == 0);
	TEST_ASSERT(server_after_injection(&srv) == 0);
	TEST_ASSERT(wait_status(pid) == 0);
	io_free(&srv);
	close(sv[0]);
	close(sv[1]);
	str_free(&line);
	SSL_CTX_free(cctx);
}

static void test_plaintext_client_to_tls_server(void)
{
	struct timespec t0, t1;
	const char *error = NULL;
	struct io io;
	int sv[2];

	TEST_ASSERT(fixture() == 0);
	make_pair(sv);
	TEST_ASSERT(write(sv[0], "EHLO plain.example\r\nQUIT\r\n", 26) ==
		    26);
	io_init(&io, sv[1], 5000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	TEST_ASSERT(io_tls_server(&io, server_ctx, &error) < 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TEST_ASSERT(t1.tv_sec - t0.tv_sec < 2);
	TEST_ASSERT(error != NULL && error[0] != '\0');
	TEST_ASSERT(io.ssl == NULL);
	io_free(&io);
	close(sv[0]);
	close(sv[1]);
}

static void test_tls_client_to_plaintext_server(void)
{
	const char *error = NULL;
	SSL_CTX *cctx = tls_client_ctx(0, &error);
	struct io io;
	int sv[2];

	TEST_ASSERT(cctx != NULL);
	make_pair(sv);
	TEST_ASSERT(write(sv[1], "220 plain.example ESMTP\r\n", 25) == 25);
	io_init(&io, sv[0], 5000);
	TEST_ASSERT(io_tls_client(&io, cctx, HOST, &error) < 0);
	TEST_ASSERT(error != NULL && error[0] != '\0');
	io_free(&io);
	close(sv[0]);
	close(sv[1]);
	SSL_CTX_free(cctx);
}

static void test_handshake_timeout_and_eof(void)
{
	const char *error = NULL;
	struct timespec t0, t1;
	struct io io;
	int sv[2];

	TEST_ASSERT(fixture() == 0);
	make_pair(sv);
	io_init(&io, sv[1], 150);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	TEST_ASSERT(io_tls_server(&io, server_ctx, &error) < 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TEST_STREQ(error, "TLS handshake timed out");
	TEST_ASSERT(t1.tv_sec - t0.tv_sec < 2);
	close(sv[0]);
	TEST_ASSERT(io_tls_server(&io, server_ctx, &error) < 0);
	TEST_STREQ(error, "connection closed during TLS handshake");
	io_free(&io);
	close(sv[1]);
}

static void test_cleanup(void)
{
	TEST_ASSERT(fixture() == 0);
	TEST_ASSERT(unlink(certpath.s) == 0 && unlink(keypath.s) == 0);
	unlink(cert2path.s);
	unlink(key2path.s);
	TEST_ASSERT(rmdir(dir) == 0);
	SSL_CTX_free(server_ctx);
	server_ctx = NULL;
	str_free(&certpath);
	str_free(&keypath);
	str_free(&cert2path);
	str_free(&key2path);
}

TEST_MAIN(test_selfsigned_files, test_selfsigned_contents,
	  test_selfsigned_bad_hostname, test_selfsigned_unwritable_dir,
	  test_server_ctx_wrong_key, test_server_ctx_missing_file,
	  test_ctx_settings, test_tls_error_text, test_handshake_and_exchange,
	  test_tls_large_transfer, test_client_sni,
	  test_verify_rejects_selfsigned, test_verify_checks_hostname,
	  test_starttls_drops_plaintext,
	  test_plaintext_client_to_tls_server,
	  test_tls_client_to_plaintext_server,
	  test_handshake_timeout_and_eof, test_cleanup)
