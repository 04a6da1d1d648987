/*
 * service_tls - the TLS server context of a service daemon
 *
 * postern-smtpd and postern-pop3-login load tls_cert and tls_key while
 * still root (the key is readable by root only), before
 * service_child_drop(). A service with implicit TLS (smtps, pop3s) cannot
 * run without them; any other runs without TLS and says what it gives up.
 */
#ifndef POSTERN_SERVICE_TLS_H
#define POSTERN_SERVICE_TLS_H

#include <openssl/ssl.h>

#include "daemon/service_child.h"

/* The context; for a service with implicit TLS fatal if it cannot be
 * made, otherwise NULL after the warning "TLS: ERROR; without" (without
 * says what the service does instead). */
SSL_CTX *service_tls_load(const struct service_child *sc,
			  const char *without);

#endif
