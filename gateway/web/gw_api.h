/*
 * gw_api: what each HTTP request means: the page's files, GET /metrics, and the REST API under /api/v1
 * (status, history, settings, the controls, login, the live event stream), with who may do what
 * (credentials beyond loopback, the CSRF token on every change, JSON bodies checked member by member
 * with errors that name the field). It owns no state of the gateway: it reads and steers through the
 * ops it is given, so tests and the fuzz target drive it with fakes. Routes and examples: docs/api.md.
 */
#ifndef GW_API_H
#define GW_API_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "gw_auth.h"
#include "gw_httpd.h"
#include "gw_status.h"

struct gw_api;

struct gw_api_ops {
	void *user;
	/* Fill @out (zeroed by the caller; gw_status_clear() after). */
	void (*status)(void *user, struct gw_status *out);
	/* The GET /api/v1/settings object (new reference) or NULL. */
	json_t *(*settings)(void *user);
	/* The operator's policy: the members of the config's "policy" ({"mode": "config"} = back to the
	 * file's). @by: "page" (a browser: the CSRF token) or "api" (a bearer token). 0, or a negative
	 * errno with @err naming the key ("policy.until: ..."). */
	int (*set_policy)(void *user, const json_t *policy, const char *by, char *err, size_t errlen);
	/* The operator's maximum for @connector: amps >= 0 or -1 to clear. 0, -ENOENT (no such
	 * connector) or another negative errno with @err. */
	int (*set_max)(void *user, int connector, int amps, const char *by, char *err, size_t errlen);
	/* GET /api/v1/history after @since_s (new reference) or NULL. */
	json_t *(*history)(void *user, int64_t since_s);
	/* The HTTP server's counters for /metrics; optional. */
	void (*http_stats)(void *user, struct gw_httpd_stats *out);
	/* Monotonic ms, for session expiry and login lock-out. */
	uint64_t (*now_ms)(void *user);
	/* Several charge points (docs/depot.md): which one the next settings, set_policy and set_max
	 * calls address, by its chargeBoxId; NULL: the first, which is also where every request leaves it.
	 * 0 or -ENOENT. Optional: without it a request naming a charge point is answered 404. */
	int (*select)(void *user, const char *charge_point);
};

/* @auth is borrowed and outlives the api. @auth_read: reading (the API and /metrics, not the page's
 * files) needs credentials too on a listener beyond loopback. NULL on allocation failure. */
struct gw_api *gw_api_new(const struct gw_api_ops *ops, struct gw_auth *auth, bool auth_read);
void gw_api_free(struct gw_api *api); /* NULL is a no-op */

/* Answer @req into @resp (see gw_httpd.h). */
void gw_api_handle(struct gw_api *api, const struct gw_httpd_req *req, struct gw_httpd_resp *resp);

/* The status as one line of JSON for the event stream (malloc'ed), or NULL. */
char *gw_api_status_text(struct gw_api *api, size_t *len);

#endif
