/*
 * tls - OpenSSL 3 contexts: TLS 1.2 minimum, server and client side
 */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include <openssl/ssl.h>

/* Server context from PEM files (key must match cert). NULL on error. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key,
			const char **error_r);
/* Client context; verify=0 accepts any certificate (opportunistic TLS). */
SSL_CTX *tls_client_ctx(int verify, const char **error_r);
/* Create a self-signed pair (RSA 2048, SHA-256, 10 years, CN and SAN =
 * hostname); files are written atomically, the key with mode 0600. */
int tls_selfsigned_create(const char *certpath, const char *keypath,
			  const char *hostname, const char **error_r);
/* The last OpenSSL error as text (static buffer). */
const char *tls_error(void);

#endif
