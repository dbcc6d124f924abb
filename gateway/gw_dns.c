/*
 * gw_dns: a thin wrapper around getaddrinfo_a(GAI_NOWAIT) that owns the request memory glibc's
 * resolver thread writes into, tries the numeric fast path first, and cancels safely.
 */
#include "gw_dns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_log.h"

#define RELEASE_WAIT_S 2

/* Heap-allocated because the resolver thread writes into it until the request is done. */
struct gw_dns {
	struct gaicb cb;
	struct addrinfo hints;
	struct addrinfo *numeric; /* the numeric fast path's answer; cb unused then */
	bool async;
	char host[256];
	char service[8];
};

struct gw_dns *gw_dns_start(const char *host, const char *service, int *gai)
{
	struct gw_dns *d = calloc(1, sizeof(*d));
	struct gaicb *list[1];
	int rc;

	if (!d) {
		*gai = EAI_MEMORY;
		return NULL;
	}
	if (snprintf(d->host, sizeof(d->host), "%s", host) >= (int)sizeof(d->host) ||
	    snprintf(d->service, sizeof(d->service), "%s", service) >= (int)sizeof(d->service)) {
		free(d);
		*gai = EAI_OVERFLOW;
		return NULL;
	}
	d->hints.ai_family = AF_UNSPEC;
	d->hints.ai_socktype = SOCK_STREAM;
	/* A numeric address needs no resolver and cannot block. */
	d->hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	rc = getaddrinfo(d->host, d->service, &d->hints, &d->numeric);
	if (rc == 0)
		return d;
	if (rc != EAI_NONAME) {
		free(d);
		*gai = rc;
		return NULL;
	}
	d->hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
	d->cb.ar_name = d->host;
	d->cb.ar_service = d->service;
	d->cb.ar_request = &d->hints;
	list[0] = &d->cb;
	rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (rc != 0) {
		free(d);
		*gai = rc;
		return NULL;
	}
	d->async = true;
	return d;
}

int gw_dns_result(struct gw_dns *d, struct addrinfo **out)
{
	int rc;

	if (!d->async) {
		*out = d->numeric;
		d->numeric = NULL;
		return *out ? 0 : EAI_FAIL;
	}
	rc = gai_error(&d->cb);
	if (rc == 0) {
		*out = d->cb.ar_result;
		d->cb.ar_result = NULL;
	}
	return rc;
}

void gw_dns_release(struct gw_dns *d, bool wait)
{
	int rc;

	if (!d)
		return;
	if (d->async) {
		rc = gai_cancel(&d->cb);
		if (rc == EAI_NOTCANCELED && wait) {
			const struct gaicb *list[1] = { &d->cb };
			struct timespec ts = { RELEASE_WAIT_S, 0 };

			gai_suspend(list, 1, &ts);
			rc = gai_error(&d->cb) == EAI_INPROGRESS ? EAI_NOTCANCELED : EAI_ALLDONE;
		}
		if (rc == EAI_NOTCANCELED) {
			gw_log_debug("dns: request for %s still running; left to finish", d->host);
			return;
		}
		if (d->cb.ar_result)
			freeaddrinfo(d->cb.ar_result);
	}
	if (d->numeric)
		freeaddrinfo(d->numeric);
	free(d);
}
