/*
 * tesla_api: the Tesla vehicle API client's decisions, as a pure state machine. A Gen 2 TWC cannot
 * stop or start a car cleanly (a protocol 2 slave told 0 A still offers 6 A), so when the bus pauses
 * a connector whose car is drawing, the car is told charge_stop through the vehicle API, and
 * charge_start when the connector may charge again. This core decides which request to make and
 * when: which car is on which connector, dwell times, token refresh, wake-ups, backoff, Retry-After,
 * the daily budget of paid calls. The gateway performs the HTTP requests (libcurl on the lws loop)
 * and hands each answer back; the core never reads a clock, a socket or a file.
 *
 * Requests go one at a time, in the order they were decided, so the single-use refresh token is
 * never raced and the budget is exact.
 */
#ifndef TESLA_API_H
#define TESLA_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_text.h"

#define TESLA_VIN_LEN 17
#define TESLA_CONNECTORS_DEFAULT 8
#define TESLA_MAX_CONNECTORS 192 /* 64 charge points of 3 TWCs under one account */

/* State files (through tesla_env.store, atomically). */
#define TESLA_FILE_TOKENS "tesla-tokens.json" /* access and refresh token: secret, 0600 */
#define TESLA_FILE_STATE "tesla-state.json"   /* Retry-After block and the day's paid calls */

struct tesla_params {
	const char *base_url;      /* tesla.baseUrl, no trailing '/': "https://localhost:4443" */
	const char *token_url;     /* tesla.tokenUrl */
	const char *client_id;     /* tesla.clientId */
	const char *access_token;  /* tesla.accessToken (may be NULL or "") */
	const char *refresh_token; /* tesla.refreshToken (may be NULL or "") */
	int daily_budget;          /* tesla.dailyBudget: paid calls per UTC day, > 0 */
	int car_amps;              /* tesla.carAmps: before the first charge_start of a plug-in, set the
				    * car's own limit to this (set_charging_amps); 0 = leave it */
	bool has_home;             /* tesla.home given */
	double home_lat, home_lon; /* degrees */
	double home_radius_m;      /* metres */
	int dwell_s;               /* least time between two start/stop commands to one car; 0 = 60 */
	int start_grace_s;         /* a car granted current gets this long to start by itself before
				    * charge_start is sent; 0 = 30 */
	int connectors;            /* connectors 1..connectors, at most TESLA_MAX_CONNECTORS; 0 =
				    * TESLA_CONNECTORS_DEFAULT. The request queue and the cars whose dwell
				    * is remembered grow with it. */
	/* State files read back at start (NUL-terminated, borrowed; NULL if absent). */
	const char *tokens_json;
	const char *state_json;
};

/* One HTTP request for the gateway to make. All strings are borrowed until the call returns. */
struct tesla_http_req {
	uint32_t id;               /* pass back to tesla_http_done() */
	const char *method;        /* "GET" or "POST" */
	const char *url;
	const char *body;          /* NULL for none */
	const char *content_type;  /* "application/json" or "application/x-www-form-urlencoded"; NULL */
	const char *bearer;        /* access token for "Authorization: Bearer"; NULL for the token
				    * endpoint. A secret: never log it. */
	bool token_endpoint;       /* the request goes to token_url (not checked against tesla.caFile) */
};

struct tesla_env {
	void *user;
	/* Start @r. Return 0 (the answer comes later through tesla_http_done()) or -errno (taken as a
	 * transport failure, with backoff). */
	int (*http)(void *user, const struct tesla_http_req *r);
	/* Replace state file @name atomically; @secret: create it 0600. Return 0 or -errno. */
	int (*store)(void *user, const char *name, const char *text, bool secret);
	/* One log line. Never contains a token. Optional. */
	void (*log)(void *user, enum core_log_level level, const char *msg);
	/* Optional: how log lines name @connector ("DEPOT-2 connector 1"), into @buf of @n bytes; without
	 * it, "connector N". */
	void (*connector_name)(void *user, int connector, char *buf, size_t n);
};

/* What the gateway knows about one connector (a TWC slave), from the bus. */
struct tesla_conn_state {
	bool present;              /* the slave answers */
	bool plugged;              /* a car is connected */
	bool drawing;              /* the car draws >= 1 A */
	const char *vin;           /* VIN the TWC read (firmware 4.5.3), "" or NULL when unknown */
	int granted_amps;          /* what the bus gives it now (its target); 0 = paused */
	int min_amps;              /* below this the connector counts as paused (minAmpsPerTWC) */
};

struct tesla_stats {
	uint32_t requests;         /* HTTP requests made, token refreshes included */
	uint32_t paid_today;       /* billed calls (answers with status < 500 from base_url) today */
	uint32_t starts, stops;    /* charge_start / charge_stop sent */
	uint32_t wakes;            /* wake_up sent */
	uint32_t refreshes;        /* token refreshes that succeeded */
	uint32_t failures;         /* requests given up on */
	bool budget_exhausted;
	bool needs_login;          /* the refresh token was refused: a new login is needed */
	int64_t blocked_until_ms;  /* wall ms of a Retry-After block, 0 none */
};

struct tesla;

/**
 * tesla_new() - the client, idle until a connector needs it.
 * Persisted tokens win over the configured ones, unless the configured refresh token differs from
 * the one the file was seeded from (the user logged in again). A file that does not parse is logged
 * and ignored. Return: the client, or NULL on bad params (no base_url/token_url/client_id, budget
 * <= 0) or allocation failure.
 */
struct tesla *tesla_new(const struct tesla_params *p, const struct tesla_env *env, int64_t now_wall_ms);
void tesla_free(struct tesla *t); /* NULL is a no-op */

/*
 * tesla_connector_update() - the connector's state now (call on every change, and at least every
 * few seconds while plugged). Decisions:
 * - The car is the one whose VIN the TWC reports; without one, found once per plug-in: the only car
 *   on the account, else the one car that is plugged in (charging_state not Disconnected) within
 *   tesla.home's radius and not already on another connector. Otherwise ambiguous: logged once, and
 *   the connector gets no vehicle API calls until the car is unplugged.
 * - Drawing while granted < min_amps: charge_stop (at most once per dwell per car).
 * - Plugged, not drawing, granted >= min_amps for start_grace_s (or after we stopped it):
 *   charge_start (preceded once per plug-in by set_charging_amps car_amps when car_amps > 0).
 * - A start refused with result:false (complete, is_charging, charging, requested, disconnected or any
 *   other reason) is not repeated until the car draws or is unplugged; could_not_wake_buses is
 *   retried after 5 s, three times.
 * @connector: 1..params.connectors.
 */
void tesla_connector_update(struct tesla *t, int connector, const struct tesla_conn_state *st, uint64_t now_mono_ms,
			    int64_t now_wall_ms);

/*
 * tesla_http_done() - the answer to request @id.
 * @status: HTTP status, or a negative errno for a transport failure (no answer).
 * @retry_after_s: the Retry-After header in seconds, -1 when absent.
 * Handling: 2xx goes on; 401 refreshes the token once and retries (a refused refresh sets
 * needs_login and stops all requests); 408 (asleep) sends wake_up and retries the command with
 * backoff; 429 blocks every request until Retry-After (60 s when absent), persisted; 5xx and transport
 * failures retry with exponential backoff (5 s doubling to 10 min, five attempts); other 4xx are
 * logged and dropped (403 also stops further commands: a key or scope problem needs the user).
 */
void tesla_http_done(struct tesla *t, uint32_t id, int status, const char *body, size_t len, long retry_after_s,
		     uint64_t now_mono_ms, int64_t now_wall_ms);

void tesla_tick(struct tesla *t, uint64_t now_mono_ms, int64_t now_wall_ms);
/* Monotonic ms of the next thing tesla_tick() has to do; UINT64_MAX if nothing. */
uint64_t tesla_next_deadline(const struct tesla *t);

/* The VIN the client uses for @connector, "" when none (yet). Borrowed. */
const char *tesla_connector_vin(const struct tesla *t, int connector);
const struct tesla_stats *tesla_stats(const struct tesla *t);

#endif
