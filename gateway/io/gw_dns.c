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
	struct gw_dns *next; /* on the parked list */
};

/* Requests glibc would not cancel yet. Its worker sets the result before it takes the request off
 * its own list, so a finished request can still be "running" for a moment: such a request waits
 * here and is freed at the next release (one loop, so no lock), or at teardown. */
static struct gw_dns *parked;

/* Free @d if glibc is done with it; false if its thread may still write into it. */
static bool try_free(struct gw_dns *d, bool wait)
{
	int rc;

	if (d->async) {
		rc = gai_cancel(&d->cb);
		/* Teardown: wait for the lookup, then for glibc to let go of it, in 10 ms steps. */
		for (int i = 0; rc == EAI_NOTCANCELED && wait && i < RELEASE_WAIT_S * 100; i++) {
			const struct gaicb *list[1] = { &d->cb };
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			if (gai_suspend(list, 1, &ts) == 0) /* done: only glibc's bookkeeping is left */
				nanosleep(&ts, NULL);
			rc = gai_cancel(&d->cb);
		}
		if (rc == EAI_NOTCANCELED)
			return false;
		if (d->cb.ar_result)
			freeaddrinfo(d->cb.ar_result);
	}
	if (d->numeric)
		freeaddrinfo(d->numeric);
	free(d);
	return true;
}

static void reap(bool wait)
{
	struct gw_dns **pp = &parked;

	while (*pp) {
		struct gw_dns *d = *pp;

		*pp = d->next;
		if (!try_free(d, wait)) {
			if (wait)
				gw_log_debug("dns: request for %s still running at teardown; left to finish", d->host);
			d->next = *pp;
			*pp = d;
			pp = &d->next;
		}
	}
}

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
	if (d && !try_free(d, wait)) {
		gw_log_debug("dns: request for %s still running; freed once it is done", d->host);
		d->next = parked;
		parked = d;
	}
	reap(wait);
}
