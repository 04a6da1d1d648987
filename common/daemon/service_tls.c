/*
 * service_tls - a service's TLS server context; see service_tls.h
 */
#include "daemon/service_tls.h"

#include "util/log.h"
#include "util/tls.h"

SSL_CTX *service_tls_load(const struct service_child *sc,
			  const char *without)
{
	const char *error;
	SSL_CTX *ctx = tls_server_ctx(sc->conf.tls_cert, sc->conf.tls_key,
				      &error);

	if (ctx != NULL)
		return ctx;
	if (sc->def->flags & SERVICE_TLS_IMPLICIT)
		log_fatal("TLS: %s; service %s cannot run without it", error,
			  sc->def->name);
	log_warn(NULL, "TLS: %s; %s", error, without);
	return NULL;
}
