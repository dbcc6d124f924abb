/*
 * Tests of the Tesla vehicle API core, run in a fake environment: every HTTP request the core makes
 * is recorded (method, URL, body, bearer) and answered by the test through tesla_http_done(), the
 * state files live in memory (so a client can be rebuilt from them as after a restart), every log
 * line is checked for tokens, and time only moves by hand: ticks happen exactly when
 * tesla_next_deadline() says, and after each call the next deadline must lie in the future (no busy
 * loop). Covered: stop and start rules with dwell and grace, refused starts, could_not_wake_buses,
 * 401 and token refresh (persisted first), a refused refresh, proactive refresh from the JWT, 408 and
 * wake_up, 429 and its persistence, 5xx backoff, the daily budget, car_amps, finding the car without a
 * TWC VIN, persisted versus configured tokens, 403, and malformed answers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "tesla_api.h"

#define MONO0 1000000u
#define WALL0 1767225607250LL /* 2026-01-01T00:00:07.250Z */
#define DAY_MS 86400000LL
#define S(x) ((uint64_t)(x) * 1000u)

#define BASE "https://fleet.example:4443"
#define TOKEN_URL "https://auth.example/oauth2/v3/token"
#define CLIENT "client-id-1"
#define VIN_A "5YJ3E1EA7KF000001"
#define VIN_B "5YJ3E1EA7KF000002"
#define VIN_C "5YJ3E1EA7KF000003"
#define AT1 "access-token-one-0123456789"
#define RT1 "refresh-token-one-abcdefgh"
#define AT2 "access-token-two-9876543210"
#define RT2 "refresh-token-two-zyxwvuts"
#define AT_FILE "access-token-file-55555555"
#define RT_FILE "refresh-token-file-66666666"
#define RT_NEW "refresh-token-new-login-777"
#define AT_NEW "access-token-new-login-888"

#define URL_VEH(vin, tail) BASE "/api/1/vehicles/" vin tail
#define URL_STOP(vin) URL_VEH(vin, "/command/charge_stop")
#define URL_START(vin) URL_VEH(vin, "/command/charge_start")
#define URL_AMPS(vin) URL_VEH(vin, "/command/set_charging_amps")
#define URL_WAKE(vin) URL_VEH(vin, "/wake_up")
#define URL_DATA(vin) URL_VEH(vin, "/vehicle_data?endpoints=charge_state%3Bdrive_state%3Blocation_data")
#define URL_LIST BASE "/api/1/vehicles"

#define OK "{\"response\":{\"result\":true,\"reason\":\"\"}}"
#define REFUSED(reason) "{\"response\":{\"result\":false,\"reason\":\"" reason "\"}}"
#define TOKENS2 "{\"access_token\":\"" AT2 "\",\"refresh_token\":\"" RT2 "\",\"id_token\":\"x\",\"expires_in\":28800," \
		"\"token_type\":\"Bearer\"}"

/* Every token value any test uses: none may ever appear in a log line. */
static const char *const secrets[] = { AT1, RT1, AT2, RT2, AT_FILE, RT_FILE, RT_NEW, AT_NEW, "rt+/=x-12345" };

/* ------------------------------------------------------------------ the fake environment */

struct rq {
	uint32_t id;
	char *method, *url, *body, *bearer, *ctype;
	bool token_ep;
	bool answered;
	int seq;
	uint64_t mono;
};

struct sfile {
	char *text;
	bool secret;
	int writes;
	int seq;
};

struct lg {
	int level;
	char *msg;
};

#define JWT_BUF 512

struct fake {
	struct tesla *t;
	struct tesla_params p;
	uint64_t mono;
	int64_t wall;
	struct rq *rq;
	int n_rq, cap_rq;
	struct lg *lg;
	int n_lg, cap_lg;
	struct sfile tok, state;
	int seq;
	int http_rc;
	char jwt_buf[2][JWT_BUF];
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int env_http(void *user, const struct tesla_http_req *r)
{
	struct fake *f = user;
	struct rq *q;

	/* one request at a time */
	for (int i = 0; i < f->n_rq; i++)
		assert_true(f->rq[i].answered);
	assert_non_null(r->method);
	assert_non_null(r->url);
	assert_true(r->token_endpoint == (r->bearer == NULL));
	if (f->n_rq == f->cap_rq) {
		f->cap_rq = f->cap_rq ? f->cap_rq * 2 : 32;
		f->rq = realloc(f->rq, (size_t)f->cap_rq * sizeof(*f->rq));
		assert_non_null(f->rq);
	}
	q = &f->rq[f->n_rq++];
	memset(q, 0, sizeof(*q));
	q->id = r->id;
	q->method = strdup(r->method);
	q->url = strdup(r->url);
	q->body = dup_or_null(r->body);
	q->bearer = dup_or_null(r->bearer);
	q->ctype = dup_or_null(r->content_type);
	q->token_ep = r->token_endpoint;
	q->seq = ++f->seq;
	q->mono = f->mono;
	q->answered = f->http_rc != 0; /* a refused start has no answer to wait for */
	return f->http_rc;
}

static int env_store(void *user, const char *name, const char *text, bool secret)
{
	struct fake *f = user;
	struct sfile *s = !strcmp(name, TESLA_FILE_TOKENS) ? &f->tok : &f->state;

	if (strcmp(name, TESLA_FILE_TOKENS) && strcmp(name, TESLA_FILE_STATE))
		fail_msg("unknown state file %s", name);
	free(s->text);
	s->text = strdup(text);
	s->secret = secret;
	s->writes++;
	s->seq = ++f->seq;
	return 0;
}

static void env_log(void *user, enum core_log_level level, const char *msg)
{
	struct fake *f = user;

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (strstr(msg, secrets[i]))
			fail_msg("a token in a log line: %s", msg);
	assert_true(level >= 0 && level <= 3);
	if (f->n_lg == f->cap_lg) {
		f->cap_lg = f->cap_lg ? f->cap_lg * 2 : 64;
		f->lg = realloc(f->lg, (size_t)f->cap_lg * sizeof(*f->lg));
		assert_non_null(f->lg);
	}
	f->lg[f->n_lg].level = level;
	f->lg[f->n_lg].msg = strdup(msg);
	f->n_lg++;
}

static const struct tesla_env fake_env_tmpl = { .http = env_http, .store = env_store, .log = env_log };

static void at(struct fake *f, uint64_t mono)
{
	f->mono = mono;
	f->wall = WALL0 + (int64_t)(mono - MONO0);
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	at(f, MONO0);
	f->p.base_url = BASE;
	f->p.token_url = TOKEN_URL;
	f->p.client_id = CLIENT;
	f->p.access_token = AT1;
	f->p.refresh_token = RT1;
	f->p.daily_budget = 500;
	*state = f;
	return 0;
}

static void fk_stop(struct fake *f)
{
	tesla_free(f->t);
	f->t = NULL;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	fk_stop(f);
	for (int i = 0; i < f->n_rq; i++) {
		free(f->rq[i].method);
		free(f->rq[i].url);
		free(f->rq[i].body);
		free(f->rq[i].bearer);
		free(f->rq[i].ctype);
	}
	free(f->rq);
	for (int i = 0; i < f->n_lg; i++)
		free(f->lg[i].msg);
	free(f->lg);
	free(f->tok.text);
	free(f->state.text);
	free(f);
	return 0;
}

/* A client from the params and whatever state files the last one left. */
static void fk_start(struct fake *f)
{
	struct tesla_env env = fake_env_tmpl;

	env.user = f;
	f->p.tokens_json = f->tok.text;
	f->p.state_json = f->state.text;
	f->t = tesla_new(&f->p, &env, f->wall);
	assert_non_null(f->t);
}

static void no_busy_loop(struct fake *f)
{
	assert_true(tesla_next_deadline(f->t) > f->mono);
}

/* Let time pass to @target, ticking at every deadline on the way. */
static void tick_to(struct fake *f, uint64_t target)
{
	for (int guard = 0; guard < 100000; guard++) {
		uint64_t d = tesla_next_deadline(f->t);

		if (d > target)
			break;
		if (d > f->mono)
			at(f, d);
		tesla_tick(f->t, f->mono, f->wall);
		no_busy_loop(f);
	}
	at(f, target);
	tesla_tick(f->t, f->mono, f->wall);
	no_busy_loop(f);
}

static void upd(struct fake *f, int c, bool plugged, bool drawing, int granted, const char *vin)
{
	struct tesla_conn_state s = {
		.present = true, .plugged = plugged, .drawing = drawing, .vin = vin,
		.granted_amps = granted, .min_amps = 6,
	};

	tesla_connector_update(f->t, c, &s, f->mono, f->wall);
	no_busy_loop(f);
}

static struct rq *pending(struct fake *f)
{
	struct rq *p = NULL;

	for (int i = 0; i < f->n_rq; i++)
		if (!f->rq[i].answered) {
			assert_null(p);
			p = &f->rq[i];
		}
	return p;
}

static struct rq *expect(struct fake *f, const char *method, const char *url)
{
	struct rq *r = pending(f);

	if (!r)
		fail_msg("expected %s %s, nothing sent", method, url);
	assert_string_equal(r->method, method);
	assert_string_equal(r->url, url);
	return r;
}

static void expect_none(struct fake *f)
{
	struct rq *r = pending(f);

	if (r)
		fail_msg("unexpected %s %s", r->method, r->url);
}

static void reply(struct fake *f, int status, const char *body, long retry_after_s)
{
	struct rq *r = pending(f);
	uint32_t id;

	assert_non_null(r);
	r->answered = true;
	id = r->id;
	tesla_http_done(f->t, id, status, body, body ? strlen(body) : 0, retry_after_s, f->mono, f->wall);
	no_busy_loop(f);
}

/* Expect @method @url now and answer it. */
static struct rq expect_reply(struct fake *f, const char *method, const char *url, int status, const char *body)
{
	struct rq copy = *expect(f, method, url);

	reply(f, status, body, -1);
	return copy;
}

static int count_logs(const struct fake *f, int level, const char *needle)
{
	int n = 0;

	for (int i = 0; i < f->n_lg; i++)
		if ((level < 0 || f->lg[i].level == level) && strstr(f->lg[i].msg, needle))
			n++;
	return n;
}

static void b64url(char *dst, const char *src)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = strlen(src), o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)src[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)src[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)src[i + 2];
		dst[o++] = a[(v >> 18) & 63];
		dst[o++] = a[(v >> 12) & 63];
		if (i + 1 < n)
			dst[o++] = a[(v >> 6) & 63];
		if (i + 2 < n)
			dst[o++] = a[v & 63];
	}
	dst[o] = 0;
}

/* An unsigned JWT whose "exp" is @exp_s, in @buf of JWT_BUF bytes. */
static const char *jwt(char *buf, long long exp_s, const char *sub)
{
	char claims[128], body[200];

	snprintf(claims, sizeof(claims), "{\"iss\":\"https://auth.tesla.com\",\"sub\":\"%s\",\"exp\":%lld}", sub,
		 exp_s);
	b64url(body, claims);
	snprintf(buf, JWT_BUF, "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.%s.c2lnbmF0dXJl", body);
	return buf;
}

static json_t *file_json(const struct sfile *s)
{
	json_t *j;

	assert_non_null(s->text);
	j = json_loads(s->text, 0, NULL);
	assert_non_null(j);
	return j;
}

static long long file_int(const struct sfile *s, const char *key)
{
	json_t *j = file_json(s);
	long long v = json_integer_value(json_object_get(j, key));

	json_decref(j);
	return v;
}

static const struct tesla_stats *stats(struct fake *f)
{
	return tesla_stats(f->t);
}

/* A plugged car with the TWC's VIN, drawing while paused: the stop is sent at once. Answered OK. */
static void stop_now(struct fake *f, const char *vin)
{
	char url[256];

	snprintf(url, sizeof(url), BASE "/api/1/vehicles/%s/command/charge_stop", vin);
	upd(f, 1, true, true, 0, vin);
	expect_reply(f, "POST", url, 200, OK);
}

/* ------------------------------------------------------------------ construction */

static void test_new_rejects_bad_params(void **state)
{
	struct fake *f = *state;
	struct tesla_env env = fake_env_tmpl;
	struct tesla_params p = f->p;

	env.user = f;
	assert_null(tesla_new(NULL, &env, f->wall));
	assert_null(tesla_new(&p, NULL, f->wall));
	p.base_url = "";
	assert_null(tesla_new(&p, &env, f->wall));
	p = f->p;
	p.token_url = NULL;
	assert_null(tesla_new(&p, &env, f->wall));
	p = f->p;
	p.client_id = "";
	assert_null(tesla_new(&p, &env, f->wall));
	p = f->p;
	p.daily_budget = 0;
	assert_null(tesla_new(&p, &env, f->wall));
	env.http = NULL;
	assert_null(tesla_new(&f->p, &env, f->wall));
	/* NULL is fine everywhere */
	tesla_free(NULL);
	tesla_tick(NULL, 0, 0);
	assert_true(tesla_next_deadline(NULL) == UINT64_MAX);
	assert_string_equal(tesla_connector_vin(NULL, 1), "");
	fk_start(f);
	assert_true(tesla_next_deadline(f->t) == UINT64_MAX); /* idle until a connector needs it */
	assert_string_equal(tesla_connector_vin(f->t, 0), "");
	assert_string_equal(tesla_connector_vin(f->t, 9), "");
	upd(f, 0, true, true, 0, VIN_A);
	upd(f, 9, true, true, 0, VIN_A);
	expect_none(f);
}

static void conn_name(void *user, int connector, char *buf, size_t n)
{
	(void)user;
	snprintf(buf, n, "CP-%d connector %d", (connector - 1) / 3 + 1, (connector - 1) % 3 + 1);
}

/* A depot: one account, one token and one budget for 64 charge points of three connectors. Cars on
 * the last connectors are served like the first, in the order their needs arose, and log lines name
 * the charge point. */
static void test_many_connectors(void **state)
{
	struct fake *f = *state;
	struct tesla_env env = fake_env_tmpl;
	struct tesla_params p = f->p;
	char vin[TESLA_MAX_CONNECTORS][TESLA_VIN_LEN + 1];

	env.user = f;
	p.connectors = TESLA_MAX_CONNECTORS + 1;
	assert_null(tesla_new(&p, &env, f->wall));
	p.connectors = -1;
	assert_null(tesla_new(&p, &env, f->wall));
	f->p.connectors = TESLA_MAX_CONNECTORS;
	fk_start(f);
	tesla_free(f->t);
	env.connector_name = conn_name;
	f->t = tesla_new(&f->p, &env, f->wall);
	assert_non_null(f->t);
	/* every connector's car draws while paused: every one is told charge_stop, once, in order */
	for (int c = 1; c <= TESLA_MAX_CONNECTORS; c++) {
		snprintf(vin[c - 1], sizeof(vin[0]), "5YJ3E1EA7KF%06d", c);
		upd(f, c, true, true, 0, vin[c - 1]);
	}
	for (int c = 1; c <= TESLA_MAX_CONNECTORS; c++) {
		char url[200];

		snprintf(url, sizeof(url), BASE "/api/1/vehicles/%.17s/command/charge_stop", vin[c - 1]);
		expect_reply(f, "POST", url, 200, OK);
	}
	expect_none(f);
	assert_int_equal(stats(f)->stops, TESLA_MAX_CONNECTORS);
	assert_int_equal(count_logs(f, -1, "CP-64 connector 3: charge_stop to 5YJ3E1EA7KF000192 done"), 1);
	assert_int_equal(count_logs(f, -1, "CP-1 connector 1: charge_stop to 5YJ3E1EA7KF000001 done"), 1);
	assert_int_equal(count_logs(f, -1, "queue full"), 0);
	assert_string_equal(tesla_connector_vin(f->t, TESLA_MAX_CONNECTORS), vin[TESLA_MAX_CONNECTORS - 1]);
	assert_string_equal(tesla_connector_vin(f->t, TESLA_MAX_CONNECTORS + 1), "");
}

static void test_no_tokens_needs_login(void **state)
{
	struct fake *f = *state;

	f->p.access_token = NULL;
	f->p.refresh_token = "";
	fk_start(f);
	assert_true(stats(f)->needs_login);
	upd(f, 1, true, true, 0, VIN_A);
	tick_to(f, MONO0 + S(3600));
	assert_int_equal(f->n_rq, 0);
	assert_int_equal(count_logs(f, 0, "log in again"), 1);
}

/* ------------------------------------------------------------------ stop and start */

static void test_stop_when_paused_and_drawing(void **state)
{
	struct fake *f = *state;
	struct rq r;

	fk_start(f);
	upd(f, 1, true, true, 16, VIN_A); /* charging as granted: nothing to do */
	expect_none(f);
	upd(f, 1, true, true, 0, VIN_A);
	r = expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	assert_string_equal(r.body, "{}");
	assert_string_equal(r.ctype, "application/json");
	assert_string_equal(r.bearer, AT1);
	assert_false(r.token_ep);
	assert_int_equal(stats(f)->stops, 1);
	assert_int_equal(stats(f)->paid_today, 1);
	assert_int_equal(stats(f)->requests, 1);
	assert_string_equal(tesla_connector_vin(f->t, 1), VIN_A);
	assert_int_equal(file_int(&f->state, "paid_today"), 1);
	assert_false(f->state.secret);
	/* the car stops drawing: nothing more */
	at(f, MONO0 + S(5));
	upd(f, 1, true, false, 0, VIN_A);
	tick_to(f, MONO0 + S(600));
	assert_int_equal(f->n_rq, 1);
}

static void test_stop_once_per_pause(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	stop_now(f, VIN_A);
	/* still drawing while the car winds down: not repeated within a minute */
	for (int s = 5; s < 60; s += 5) {
		at(f, MONO0 + S(s));
		upd(f, 1, true, true, 0, VIN_A);
	}
	assert_int_equal(f->n_rq, 1);
	assert_true(tesla_next_deadline(f->t) == MONO0 + S(60));
	/* ... but still drawing a minute later: told again */
	tick_to(f, MONO0 + S(60));
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	assert_int_equal(stats(f)->stops, 2);
}

static void test_dwell(void **state)
{
	struct fake *f = *state;
	struct rq r;

	fk_start(f);
	stop_now(f, VIN_A);
	at(f, MONO0 + S(10));
	upd(f, 1, true, false, 0, VIN_A);
	at(f, MONO0 + S(20));
	upd(f, 1, true, false, 16, VIN_A); /* granted again 20 s after the stop */
	expect_none(f);
	assert_true(tesla_next_deadline(f->t) == MONO0 + S(60));
	tick_to(f, MONO0 + S(60) - 1);
	expect_none(f);
	tick_to(f, MONO0 + S(60)); /* exactly the dwell: allowed */
	r = expect_reply(f, "POST", URL_START(VIN_A), 200, OK);
	assert_true(r.mono == MONO0 + S(60));
	assert_string_equal(r.body, "{}");
	/* the car draws, then the bus pauses it at once: the stop waits for the dwell too */
	at(f, MONO0 + S(65));
	upd(f, 1, true, true, 16, VIN_A);
	at(f, MONO0 + S(70));
	upd(f, 1, true, true, 0, VIN_A);
	expect_none(f);
	tick_to(f, MONO0 + S(120) - 1);
	expect_none(f);
	tick_to(f, MONO0 + S(120));
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	assert_int_equal(stats(f)->starts, 1);
	assert_int_equal(stats(f)->stops, 2);
}

static void test_start_after_grace(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	upd(f, 1, true, false, 16, VIN_A); /* granted, not drawing: the car gets 30 s to start by itself */
	expect_none(f);
	assert_true(tesla_next_deadline(f->t) == MONO0 + S(30));
	at(f, MONO0 + S(10));
	upd(f, 1, true, false, 20, VIN_A); /* a new target does not restart the grace */
	tick_to(f, MONO0 + S(30) - 1);
	expect_none(f);
	tick_to(f, MONO0 + S(30));
	expect_reply(f, "POST", URL_START(VIN_A), 200, OK);
	/* accepted: not repeated while the car gets going */
	tick_to(f, MONO0 + S(900));
	assert_int_equal(f->n_rq, 1);
	/* a car that starts by itself within the grace is left alone */
	at(f, MONO0 + S(1000));
	upd(f, 1, false, false, 0, NULL);
	upd(f, 1, true, false, 16, VIN_A);
	at(f, MONO0 + S(1020));
	upd(f, 1, true, true, 16, VIN_A);
	tick_to(f, MONO0 + S(2000));
	assert_int_equal(f->n_rq, 1);
}

static void test_start_after_we_stopped(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	upd(f, 1, true, true, 0, VIN_A);
	/* "not_charging" means the car has stopped: done */
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, REFUSED("not_charging"));
	at(f, MONO0 + S(5));
	upd(f, 1, true, false, 0, VIN_A);
	assert_int_equal(stats(f)->failures, 0);
	/* long after the dwell: granted again, the start goes at once, no grace */
	at(f, MONO0 + S(300));
	upd(f, 1, true, false, 16, VIN_A);
	expect_reply(f, "POST", URL_START(VIN_A), 200, OK);
}

static void test_start_refused_latches(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	upd(f, 1, true, false, 16, VIN_A);
	tick_to(f, MONO0 + S(30));
	expect_reply(f, "POST", URL_START(VIN_A), 200, REFUSED("complete"));
	assert_int_equal(count_logs(f, -1, "complete"), 1);
	/* not asked again, whatever time passes or the bus says */
	for (int s = 40; s < 3600; s += 20) {
		at(f, MONO0 + S(s));
		upd(f, 1, true, false, s % 40 ? 16 : 32, VIN_A);
	}
	tick_to(f, MONO0 + S(3600));
	assert_int_equal(f->n_rq, 1);
	assert_int_equal(count_logs(f, -1, "complete"), 1);
	/* the car draws: the latch is gone; it stops by itself, and after the grace it is asked again */
	upd(f, 1, true, true, 16, VIN_A);
	at(f, MONO0 + S(3700));
	upd(f, 1, true, false, 16, VIN_A);
	tick_to(f, MONO0 + S(3730));
	expect_reply(f, "POST", URL_START(VIN_A), 200, REFUSED("is_charging"));
	tick_to(f, MONO0 + S(7200));
	assert_int_equal(f->n_rq, 2);
	/* unplugged: the latch goes with the plug-in */
	upd(f, 1, false, false, 16, NULL);
	upd(f, 1, true, false, 16, VIN_A);
	tick_to(f, MONO0 + S(7230));
	expect_reply(f, "POST", URL_START(VIN_A), 200, OK);
	assert_int_equal(stats(f)->failures, 0);
}

static void test_could_not_wake_buses(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	upd(f, 1, true, false, 16, VIN_A);
	tick_to(f, MONO0 + S(30));
	expect_reply(f, "POST", URL_START(VIN_A), 200, REFUSED("could_not_wake_buses"));
	for (int i = 1; i <= 3; i++) {
		expect_none(f);
		assert_true(tesla_next_deadline(f->t) == MONO0 + S(30 + 5 * i));
		tick_to(f, MONO0 + S(30 + 5 * i));
		expect_reply(f, "POST", URL_START(VIN_A), 200, REFUSED("could_not_wake_buses"));
	}
	/* three retries 5 s apart, then given up */
	assert_int_equal(stats(f)->starts, 4);
	assert_int_equal(stats(f)->failures, 1);
	tick_to(f, MONO0 + S(300));
	assert_int_equal(f->n_rq, 4);
}

static void test_car_amps_once_per_plug(void **state)
{
	struct fake *f = *state;
	struct rq r;

	f->p.car_amps = 16;
	fk_start(f);
	upd(f, 1, true, false, 16, VIN_A);
	tick_to(f, MONO0 + S(30));
	r = expect_reply(f, "POST", URL_AMPS(VIN_A), 200, OK);
	assert_string_equal(r.body, "{\"charging_amps\":16}");
	assert_string_equal(r.ctype, "application/json");
	expect_reply(f, "POST", URL_START(VIN_A), 200, OK);
	at(f, MONO0 + S(40));
	upd(f, 1, true, true, 16, VIN_A);
	/* paused and resumed: no second set_charging_amps in this plug-in */
	at(f, MONO0 + S(100));
	upd(f, 1, true, true, 0, VIN_A);
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	at(f, MONO0 + S(105));
	upd(f, 1, true, false, 0, VIN_A);
	at(f, MONO0 + S(200));
	upd(f, 1, true, false, 16, VIN_A);
	expect_reply(f, "POST", URL_START(VIN_A), 200, OK);
	/* a new plug-in sets it again */
	at(f, MONO0 + S(300));
	upd(f, 1, false, false, 16, NULL);
	upd(f, 1, true, false, 16, VIN_A);
	tick_to(f, MONO0 + S(330));
	expect_reply(f, "POST", URL_AMPS(VIN_A), 200, REFUSED("some reason"));
	expect_reply(f, "POST", URL_START(VIN_A), 200, OK);
	assert_int_equal(f->n_rq, 6);
}

/* ------------------------------------------------------------------ tokens */

static void test_401_refreshes_once_and_retries(void **state)
{
	struct fake *f = *state;
	struct rq tok, retry;
	json_t *j;

	fk_start(f);
	upd(f, 1, true, true, 0, VIN_A);
	expect(f, "POST", URL_STOP(VIN_A));
	reply(f, 401, "{\"response\":null,\"error\":\"invalid bearer token\",\"error_description\":\"\"}", -1);
	tok = *expect(f, "POST", TOKEN_URL);
	assert_true(tok.token_ep);
	assert_null(tok.bearer);
	assert_string_equal(tok.ctype, "application/x-www-form-urlencoded");
	assert_string_equal(tok.body, "grant_type=refresh_token&client_id=" CLIENT "&refresh_token=" RT1);
	assert_int_equal(f->tok.writes, 0);
	reply(f, 200, TOKENS2, -1);
	/* the new tokens are saved, secret, before the retried request goes out */
	assert_int_equal(f->tok.writes, 1);
	assert_true(f->tok.secret);
	retry = *expect(f, "POST", URL_STOP(VIN_A));
	assert_true(f->tok.seq < retry.seq);
	assert_string_equal(retry.bearer, AT2);
	j = file_json(&f->tok);
	assert_string_equal(json_string_value(json_object_get(j, "access_token")), AT2);
	assert_string_equal(json_string_value(json_object_get(j, "refresh_token")), RT2);
	assert_string_equal(json_string_value(json_object_get(j, "seed_refresh_token")), RT1);
	assert_true(json_integer_value(json_object_get(j, "expires_at_ms")) == f->wall + 28800000LL);
	json_decref(j);
	reply(f, 200, OK, -1);
	upd(f, 1, false, false, 0, NULL);
	assert_int_equal(stats(f)->refreshes, 1);
	assert_int_equal(stats(f)->requests, 3);
	assert_int_equal(stats(f)->paid_today, 2); /* the token endpoint is not billed */
	/* 8 h later the access token is renewed ahead of its expiry, with the new refresh token */
	tick_to(f, MONO0 + S(8 * 3600));
	tok = *expect(f, "POST", TOKEN_URL);
	assert_true(tok.mono == MONO0 + S(8 * 3600 - 300));
	assert_string_equal(tok.body, "grant_type=refresh_token&client_id=" CLIENT "&refresh_token=" RT2);
}

static void test_401_after_refresh_gives_up(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	upd(f, 1, true, true, 0, VIN_A);
	expect_reply(f, "POST", URL_STOP(VIN_A), 401, "{}");
	expect_reply(f, "POST", TOKEN_URL, 200, TOKENS2);
	expect_reply(f, "POST", URL_STOP(VIN_A), 401, "{}");
	/* a second 401 with a fresh token: no second refresh, the command is given up */
	expect_none(f);
	assert_int_equal(stats(f)->refreshes, 1);
	assert_int_equal(stats(f)->failures, 1);
	assert_false(stats(f)->needs_login);
}

static void test_refused_refresh_needs_login(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	upd(f, 1, true, true, 0, VIN_A);
	expect_reply(f, "POST", URL_STOP(VIN_A), 401, "{}");
	expect_reply(f, "POST", TOKEN_URL, 400,
		     "{\"error\":\"invalid_grant\",\"error_description\":\"The refresh token is invalid\"}");
	assert_true(stats(f)->needs_login);
	assert_int_equal(count_logs(f, 0, "log in again"), 1);
	assert_int_equal(count_logs(f, 0, "invalid_grant"), 1);
	/* nothing more is ever sent */
	for (int s = 10; s < 7200; s += 10) {
		at(f, MONO0 + S(s));
		upd(f, 1, true, s % 20 == 0, s % 30 ? 0 : 16, VIN_A);
		upd(f, 2, true, false, 16, NULL);
	}
	tick_to(f, MONO0 + S(86400));
	assert_int_equal(f->n_rq, 2);
	assert_true(tesla_next_deadline(f->t) == UINT64_MAX);
	assert_int_equal(count_logs(f, 0, "log in again"), 1);
	assert_int_equal(f->tok.writes, 0);
}

static void test_refresh_form_encoding(void **state)
{
	struct fake *f = *state;

	f->p.client_id = "my app&co";
	f->p.access_token = "";
	f->p.refresh_token = "rt+/=x-12345";
	fk_start(f);
	assert_false(stats(f)->needs_login);
	assert_true(tesla_next_deadline(f->t) == UINT64_MAX); /* no refresh until there is a use for it */
	upd(f, 1, true, true, 0, VIN_A);
	/* no access token: the refresh comes first */
	expect_reply(f, "POST", TOKEN_URL, 200, TOKENS2);
	assert_string_equal(f->rq[0].body,
			    "grant_type=refresh_token&client_id=my%20app%26co&refresh_token=rt%2B%2F%3Dx-12345");
	assert_string_equal(expect(f, "POST", URL_STOP(VIN_A))->bearer, AT2);
}

static void test_proactive_refresh_before_jwt_exp(void **state)
{
	struct fake *f = *state;
	long long exp1 = WALL0 / 1000 + 3600, exp2 = exp1 + 8 * 3600;
	uint64_t due = MONO0 + (uint64_t)(exp1 * 1000 - WALL0) - S(300);
	char body[1024];
	struct rq r;

	f->p.access_token = jwt(f->jwt_buf[0], exp1, "user1");
	fk_start(f);
	assert_true(tesla_next_deadline(f->t) == 0); /* tick once to learn the time */
	tick_to(f, MONO0);
	assert_true(tesla_next_deadline(f->t) == due);
	upd(f, 1, true, true, 0, VIN_A);
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	upd(f, 1, false, false, 0, NULL);
	tick_to(f, due - 1);
	assert_int_equal(f->n_rq, 1);
	tick_to(f, due);
	r = *expect(f, "POST", TOKEN_URL);
	assert_true(r.mono == due);
	/* expires_in disagrees: the JWT's exp wins */
	snprintf(body, sizeof(body), "{\"access_token\":\"%s\",\"refresh_token\":\"" RT2 "\",\"expires_in\":60}",
		 jwt(f->jwt_buf[1], exp2, "user1"));
	reply(f, 200, body, -1);
	assert_true(file_int(&f->tok, "expires_at_ms") == exp2 * 1000);
	assert_true(tesla_next_deadline(f->t) == MONO0 + (uint64_t)(exp2 * 1000 - WALL0) - S(300));
	/* a request close to the expiry waits for the refresh and goes with the new token */
	at(f, MONO0 + (uint64_t)(exp2 * 1000 - WALL0) - S(200));
	upd(f, 1, true, true, 0, VIN_A);
	expect_reply(f, "POST", TOKEN_URL, 200, TOKENS2);
	assert_string_equal(expect(f, "POST", URL_STOP(VIN_A))->bearer, AT2);
}

static void test_persisted_tokens_win(void **state)
{
	struct fake *f = *state;

	f->tok.text = strdup("{\"access_token\":\"" AT_FILE "\",\"refresh_token\":\"" RT_FILE "\",\"expires_at_ms\":0,"
			     "\"seed_refresh_token\":\"" RT1 "\"}");
	fk_start(f);
	upd(f, 1, true, true, 0, VIN_A);
	assert_string_equal(expect(f, "POST", URL_STOP(VIN_A))->bearer, AT_FILE);
	reply(f, 401, "{}", -1);
	assert_string_equal(expect(f, "POST", TOKEN_URL)->body,
			    "grant_type=refresh_token&client_id=" CLIENT "&refresh_token=" RT_FILE);
	reply(f, 200, TOKENS2, -1);
	reply(f, 200, OK, -1);
	/* the chain keeps its seed: still the configured token it started from */
	{
		json_t *j = file_json(&f->tok);

		assert_string_equal(json_string_value(json_object_get(j, "seed_refresh_token")), RT1);
		json_decref(j);
	}
	/* restarted with the same configuration: the saved tokens */
	fk_stop(f);
	fk_start(f);
	at(f, MONO0 + S(100));
	upd(f, 1, true, true, 0, VIN_B);
	assert_string_equal(expect(f, "POST", URL_STOP(VIN_B))->bearer, AT2);
	reply(f, 200, OK, -1);
	/* the user logged in again (a new configured refresh token): the configuration wins */
	fk_stop(f);
	f->p.access_token = AT_NEW;
	f->p.refresh_token = RT_NEW;
	fk_start(f);
	at(f, MONO0 + S(200));
	upd(f, 1, true, true, 0, VIN_A);
	assert_string_equal(expect(f, "POST", URL_STOP(VIN_A))->bearer, AT_NEW);
	reply(f, 401, "{}", -1);
	assert_string_equal(expect(f, "POST", TOKEN_URL)->body,
			    "grant_type=refresh_token&client_id=" CLIENT "&refresh_token=" RT_NEW);
	reply(f, 200, TOKENS2, -1);
	{
		json_t *j = file_json(&f->tok);

		assert_string_equal(json_string_value(json_object_get(j, "seed_refresh_token")), RT_NEW);
		json_decref(j);
	}
}

static void test_bad_tokens_file_ignored(void **state)
{
	struct fake *f = *state;

	f->tok.text = strdup("{\"access_token\":\"" AT_FILE "\", broken");
	fk_start(f);
	assert_int_equal(count_logs(f, 1, "does not parse"), 1);
	upd(f, 1, true, true, 0, VIN_A);
	assert_string_equal(expect(f, "POST", URL_STOP(VIN_A))->bearer, AT1);
}

static void test_no_token_in_logs(void **state)
{
	struct fake *f = *state;

	/* env_log fails the test on any token; here the server even quotes one back */
	f->p.car_amps = 10;
	fk_start(f);
	upd(f, 1, true, true, 0, VIN_A);
	expect_reply(f, "POST", URL_STOP(VIN_A), 401, "{\"error\":\"token " AT1 " expired\"}");
	expect_reply(f, "POST", TOKEN_URL, 200, TOKENS2);
	expect_reply(f, "POST", URL_STOP(VIN_A), 404, "{\"error\":\"unknown " AT2 " / " RT2 "\"}");
	upd(f, 2, true, false, 16, VIN_B);
	tick_to(f, MONO0 + S(30));
	expect_reply(f, "POST", URL_AMPS(VIN_B), 200, REFUSED("bad " RT1));
	expect_reply(f, "POST", URL_START(VIN_B), 403, "{\"error\":\"" AT2 RT2 "\"}");
	assert_true(count_logs(f, -1, "***") >= 2);
	assert_true(f->n_lg > 5);
}

/* ------------------------------------------------------------------ failures */

static void test_408_wakes_and_retries(void **state)
{
	struct fake *f = *state;
	struct rq w;
	static const char asleep[] = "{\"response\":null,\"error\":\"vehicle unavailable: vehicle is offline or "
				     "asleep\",\"error_description\":\"\"}";
	uint64_t t0 = MONO0;

	fk_start(f);
	upd(f, 1, true, true, 0, VIN_A);
	for (int i = 0; i < 3; i++) {
		uint64_t back = S(15) << i;

		expect_reply(f, "POST", URL_STOP(VIN_A), 408, asleep);
		w = expect_reply(f, "POST", URL_WAKE(VIN_A), 200,
				 "{\"response\":{\"vin\":\"" VIN_A "\",\"state\":\"asleep\"}}");
		assert_null(w.body);
		assert_string_equal(w.bearer, AT1);
		expect_none(f);
		assert_true(tesla_next_deadline(f->t) == t0 + back);
		tick_to(f, t0 + back - 1);
		expect_none(f);
		tick_to(f, t0 + back);
		t0 += back;
	}
	expect_reply(f, "POST", URL_STOP(VIN_A), 408, asleep);
	/* three wakes per command, then given up */
	expect_none(f);
	assert_int_equal(stats(f)->wakes, 3);
	assert_int_equal(stats(f)->failures, 1);
	assert_int_equal(stats(f)->paid_today, 7);
	tick_to(f, f->mono + S(300));
	expect_none(f);
}

static void test_429_blocks_and_persists(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	upd(f, 1, true, true, 0, VIN_A);
	expect(f, "POST", URL_STOP(VIN_A));
	reply(f, 429, "{\"error\":\"rate limited\"}", 120);
	assert_true(stats(f)->blocked_until_ms == WALL0 + 120000);
	assert_true(file_int(&f->state, "blocked_until_ms") == WALL0 + 120000);
	assert_true(tesla_next_deadline(f->t) == MONO0 + S(120));
	tick_to(f, MONO0 + S(120) - 1);
	expect_none(f);
	/* a restart in between still honours it */
	fk_stop(f);
	at(f, MONO0 + S(10));
	fk_start(f);
	assert_true(stats(f)->blocked_until_ms == WALL0 + 120000);
	upd(f, 1, true, true, 0, VIN_A);
	expect_none(f);
	assert_true(tesla_next_deadline(f->t) == MONO0 + S(120));
	tick_to(f, MONO0 + S(120) - 1);
	expect_none(f);
	tick_to(f, MONO0 + S(120));
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	assert_true(stats(f)->blocked_until_ms == 0);
	assert_true(file_int(&f->state, "blocked_until_ms") == 0);
}

/* A block in the state file beyond the longest ever set (a damaged file) is capped at a week, and the
 * cap is written back, so restarts cannot push it further. */
static void test_absurd_block_capped_and_saved(void **state)
{
	struct fake *f = *state;
	char text[160];

	snprintf(text, sizeof(text), "{\"blocked_until_ms\":%lld,\"budget_day\":0,\"paid_today\":0}",
		 (long long)WALL0 + 30LL * 86400 * 1000);
	f->state.text = strdup(text);
	fk_start(f);
	assert_true(stats(f)->blocked_until_ms == WALL0 + 7LL * 86400 * 1000);
	assert_true(file_int(&f->state, "blocked_until_ms") == WALL0 + 7LL * 86400 * 1000);
}

static void test_429_without_retry_after(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	upd(f, 1, true, true, 0, VIN_A);
	expect_reply(f, "POST", URL_STOP(VIN_A), 429, "");
	assert_true(stats(f)->blocked_until_ms == WALL0 + 60000);
	/* no request at all during the block, not even for another connector */
	upd(f, 2, true, true, 0, VIN_B);
	tick_to(f, MONO0 + S(60) - 1);
	expect_none(f);
	tick_to(f, MONO0 + S(60));
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	expect_reply(f, "POST", URL_STOP(VIN_B), 200, OK);
}

static void test_5xx_backoff(void **state)
{
	struct fake *f = *state;
	static const uint64_t when[] = { 0, 5, 15, 35, 75 };

	fk_start(f);
	upd(f, 1, true, true, 0, VIN_A);
	for (int i = 0; i < 5; i++) {
		struct rq r;

		tick_to(f, MONO0 + S(when[i]) - (i ? 1 : 0));
		if (i)
			expect_none(f);
		tick_to(f, MONO0 + S(when[i]));
		r = expect_reply(f, "POST", URL_STOP(VIN_A), i % 2 ? 503 : 500, "upstream internal error");
		assert_true(r.mono == MONO0 + S(when[i]));
	}
	assert_int_equal(stats(f)->failures, 1);
	assert_int_equal(stats(f)->paid_today, 0); /* 5xx are not billed */
	/* given up: the connector rests, then tries again if still needed */
	tick_to(f, MONO0 + S(75 + 600) - 1);
	assert_int_equal(f->n_rq, 5);
	tick_to(f, MONO0 + S(75 + 600));
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
}

static void test_transport_failure(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	f->http_rc = -ECONNREFUSED;
	upd(f, 1, true, true, 0, VIN_A);
	assert_int_equal(f->n_rq, 1);
	f->http_rc = 0;
	tick_to(f, MONO0 + S(5) - 1);
	assert_int_equal(f->n_rq, 1);
	tick_to(f, MONO0 + S(5));
	expect(f, "POST", URL_STOP(VIN_A));
	reply(f, -ETIMEDOUT, NULL, -1);
	tick_to(f, MONO0 + S(15));
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	assert_int_equal(stats(f)->paid_today, 1);
	assert_int_equal(stats(f)->failures, 0);
}

static void test_403_stops_commands(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	upd(f, 1, true, true, 0, VIN_A);
	expect_reply(f, "POST", URL_STOP(VIN_A), 403,
		     "{\"response\":null,\"error\":\"Tesla Vehicle Command Protocol required, please refer to the "
		     "documentation here: https://developer.tesla.com/docs/fleet-api\",\"error_description\":\"\"}");
	assert_int_equal(count_logs(f, 0, "Tesla Vehicle Command Protocol required"), 1);
	assert_int_equal(stats(f)->failures, 1);
	/* no more commands, to any car, until restart */
	at(f, MONO0 + S(700));
	upd(f, 1, true, false, 16, VIN_A);
	upd(f, 2, true, true, 0, VIN_B);
	tick_to(f, MONO0 + S(7200));
	assert_int_equal(f->n_rq, 1);
	fk_stop(f);
	fk_start(f);
	upd(f, 2, true, true, 0, VIN_B);
	expect(f, "POST", URL_STOP(VIN_B));
}

static void test_other_4xx_logged_once(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	upd(f, 1, true, true, 0, VIN_A);
	expect_reply(f, "POST", URL_STOP(VIN_A), 404, "{\"error\":\"not_found\"}");
	tick_to(f, MONO0 + S(599));
	expect_none(f);
	tick_to(f, MONO0 + S(600));
	expect_reply(f, "POST", URL_STOP(VIN_A), 404, "{\"error\":\"not_found\"}");
	assert_int_equal(count_logs(f, 1, "HTTP 404"), 1);
	assert_int_equal(stats(f)->failures, 2);
	assert_int_equal(stats(f)->paid_today, 2);
}

static void test_budget(void **state)
{
	struct fake *f = *state;
	uint64_t midnight = MONO0 + (uint64_t)((WALL0 / DAY_MS + 1) * DAY_MS - WALL0);

	f->p.daily_budget = 3;
	fk_start(f);
	upd(f, 1, true, true, 0, VIN_A);
	/* a car that keeps drawing is told once a minute; 5xx are free */
	expect_reply(f, "POST", URL_STOP(VIN_A), 503, "");
	tick_to(f, MONO0 + S(5));
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	tick_to(f, MONO0 + S(65));
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	tick_to(f, MONO0 + S(125));
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	assert_int_equal(stats(f)->paid_today, 3);
	assert_true(stats(f)->budget_exhausted);
	assert_int_equal(file_int(&f->state, "paid_today"), 3);
	assert_true(file_int(&f->state, "budget_day") == WALL0 / DAY_MS);
	/* nothing more today: the next thing to do is at 00:00 UTC */
	tick_to(f, MONO0 + S(185));
	expect_none(f);
	assert_true(tesla_next_deadline(f->t) == midnight);
	assert_int_equal(count_logs(f, 1, "budget"), 1);
	/* a restart the same day remembers */
	fk_stop(f);
	fk_start(f);
	assert_int_equal(stats(f)->paid_today, 3);
	upd(f, 1, true, true, 0, VIN_A);
	tick_to(f, midnight - 1);
	expect_none(f);
	tick_to(f, midnight);
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	assert_int_equal(stats(f)->paid_today, 1);
	assert_false(stats(f)->budget_exhausted);
	assert_true(file_int(&f->state, "budget_day") == WALL0 / DAY_MS + 1);
}

static void test_unplug_drops_and_ignores_late_answer(void **state)
{
	struct fake *f = *state;

	f->p.car_amps = 16;
	fk_start(f);
	upd(f, 1, true, false, 16, VIN_A);
	tick_to(f, MONO0 + S(30));
	expect(f, "POST", URL_AMPS(VIN_A));
	/* unplugged with set_charging_amps in flight and charge_start queued */
	at(f, MONO0 + S(31));
	upd(f, 1, false, false, 16, NULL);
	assert_string_equal(tesla_connector_vin(f->t, 1), "");
	reply(f, 200, OK, -1);
	expect_none(f);
	assert_int_equal(stats(f)->paid_today, 1);
	tick_to(f, MONO0 + S(600));
	assert_int_equal(f->n_rq, 1);
	/* an answer for nothing in flight is ignored */
	tesla_http_done(f->t, 12345, 200, OK, strlen(OK), -1, f->mono, f->wall);
	tesla_http_done(f->t, f->rq[0].id, 200, OK, strlen(OK), -1, f->mono, f->wall);
	assert_int_equal(stats(f)->paid_today, 1);
	no_busy_loop(f);
}

static void test_malformed_answers(void **state)
{
	struct fake *f = *state;

	f->p.has_home = true;
	f->p.home_lat = 52.0;
	f->p.home_lon = 4.0;
	f->p.home_radius_m = 200;
	fk_start(f);
	/* a command answered with no result */
	upd(f, 1, true, true, 0, VIN_A);
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, "{}");
	assert_int_equal(stats(f)->failures, 1);
	/* a vehicle list that is not JSON, then one that is not a list */
	upd(f, 2, true, true, 0, NULL);
	expect_reply(f, "GET", URL_LIST, 200, "<html>502 Bad Gateway</html>");
	assert_int_equal(stats(f)->failures, 2);
	tick_to(f, MONO0 + S(600));
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, NULL);
	expect_reply(f, "GET", URL_LIST, 200, "{\"response\":{\"vin\":\"" VIN_B "\"}}");
	assert_int_equal(stats(f)->failures, 4);
	/* vehicle_data without a response: the locate is not trusted, tried again later */
	tick_to(f, MONO0 + S(1200));
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, "[1,2,3]");
	expect_reply(f, "GET", URL_LIST, 200,
		     "{\"response\":[{\"vin\":\"" VIN_B "\",\"state\":\"online\"},{\"vin\":\"" VIN_C "\",\"state\":"
		     "\"online\"},{\"vin\":\"short\",\"state\":\"online\"},{\"state\":\"online\"},7],\"count\":5}");
	expect_reply(f, "GET", URL_DATA(VIN_B), 200, "{\"response\":null}");
	expect_reply(f, "GET", URL_DATA(VIN_C), 200,
		     "{\"response\":{\"charge_state\":{\"charging_state\":7},\"drive_state\":{\"latitude\":\"x\"}}}");
	assert_string_equal(tesla_connector_vin(f->t, 2), "");
	assert_int_equal(stats(f)->failures, 6);
	/* a token answer with no token: given up, the old tokens stay */
	at(f, MONO0 + S(1300));
	upd(f, 3, true, true, 0, VIN_C);
	expect_reply(f, "POST", URL_STOP(VIN_C), 401, NULL);
	expect_reply(f, "POST", TOKEN_URL, 200, "{\"access_token\":\"has space\",\"expires_in\":\"soon\"}");
	assert_int_equal(stats(f)->failures, 7);
	assert_int_equal(stats(f)->refreshes, 0);
	assert_false(stats(f)->needs_login);
	assert_int_equal(f->tok.writes, 0);
	/* a refresh that was given up waits 10 min before the next try, and so do the requests needing it */
	tick_to(f, MONO0 + S(1900) - 1);
	assert_int_equal(f->n_rq, 10);
	tick_to(f, MONO0 + S(1900));
	expect_reply(f, "POST", TOKEN_URL, 200, TOKENS2);
	assert_string_equal(expect(f, "POST", URL_STOP(VIN_C))->bearer, AT2);
}

/* ------------------------------------------------------------------ which car */

static void test_locate_single_vehicle(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	upd(f, 1, true, true, 0, NULL); /* no VIN from the TWC */
	expect_reply(f, "GET", URL_LIST, 200,
		     "{\"response\":[{\"id\":100021,\"vehicle_id\":99,\"vin\":\"" VIN_A "\",\"display_name\":\"Red\","
		     "\"state\":\"asleep\",\"in_service\":false,\"id_s\":\"100021\"}],\"count\":1}");
	assert_string_equal(tesla_connector_vin(f->t, 1), VIN_A);
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	assert_string_equal(f->rq[0].bearer, AT1);
	/* found once per plug-in */
	at(f, MONO0 + S(100));
	upd(f, 1, true, false, 16, NULL);
	expect_reply(f, "POST", URL_START(VIN_A), 200, OK);
	assert_int_equal(f->n_rq, 3);
}

static const char list3[] = "{\"response\":["
			    "{\"id\":1,\"vin\":\"" VIN_A "\",\"state\":\"online\"},"
			    "{\"id\":2,\"vin\":\"" VIN_B "\",\"state\":\"online\"},"
			    "{\"id\":3,\"vin\":\"" VIN_C "\",\"state\":\"asleep\"}],\"count\":3}";

static void home(struct fake *f)
{
	f->p.has_home = true;
	f->p.home_lat = 52.0;
	f->p.home_lon = 4.0;
	f->p.home_radius_m = 200;
}

static void test_locate_home_geofence(void **state)
{
	struct fake *f = *state;

	home(f);
	fk_start(f);
	upd(f, 1, true, true, 0, NULL);
	expect_reply(f, "GET", URL_LIST, 200, list3);
	/* the asleep car is not woken to find out */
	expect_reply(f, "GET", URL_DATA(VIN_A), 200,
		     "{\"response\":{\"vin\":\"" VIN_A "\",\"charge_state\":{\"charging_state\":\"Charging\","
		     "\"charger_actual_current\":12},\"drive_state\":{\"latitude\":52.0005,\"longitude\":4.0003,"
		     "\"shift_state\":null}}}");
	expect_reply(f, "GET", URL_DATA(VIN_B), 200,
		     "{\"response\":{\"vin\":\"" VIN_B "\",\"charge_state\":{\"charging_state\":\"Charging\"},"
		     "\"location_data\":{\"latitude\":52.05,\"longitude\":4.0}}}");
	assert_string_equal(tesla_connector_vin(f->t, 1), VIN_A);
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	assert_int_equal(stats(f)->paid_today, 4);
	assert_int_equal(stats(f)->wakes, 0);
}

static void test_locate_unplugged_car_at_home_is_not_it(void **state)
{
	struct fake *f = *state;

	home(f);
	fk_start(f);
	upd(f, 1, true, true, 0, NULL);
	expect_reply(f, "GET", URL_LIST, 200, list3);
	expect_reply(f, "GET", URL_DATA(VIN_A), 200,
		     "{\"response\":{\"charge_state\":{\"charging_state\":\"Disconnected\"},"
		     "\"drive_state\":{\"latitude\":52.0,\"longitude\":4.0}}}");
	expect_reply(f, "GET", URL_DATA(VIN_B), 200,
		     "{\"response\":{\"charge_state\":{\"charging_state\":\"Stopped\"},"
		     "\"location_data\":{\"latitude\":52.0001,\"longitude\":4.0001}}}");
	expect_reply(f, "POST", URL_STOP(VIN_B), 200, OK);
}

static void test_locate_ambiguous(void **state)
{
	struct fake *f = *state;
	static const char at_home[] = "{\"response\":{\"charge_state\":{\"charging_state\":\"Stopped\"},"
				      "\"drive_state\":{\"latitude\":52.0,\"longitude\":4.0}}}";

	home(f);
	fk_start(f);
	upd(f, 1, true, false, 16, NULL);
	tick_to(f, MONO0 + S(30));
	expect_reply(f, "GET", URL_LIST, 200, list3);
	expect_reply(f, "GET", URL_DATA(VIN_A), 200, at_home);
	expect_reply(f, "GET", URL_DATA(VIN_B), 200, at_home);
	assert_int_equal(count_logs(f, 1, "2 candidate"), 1);
	assert_string_equal(tesla_connector_vin(f->t, 1), "");
	/* no command, no second locate, whatever happens until unplug */
	for (int s = 40; s < 1200; s += 10) {
		at(f, MONO0 + S(s));
		upd(f, 1, true, s % 20 == 0, s % 30 ? 16 : 0, NULL);
	}
	tick_to(f, MONO0 + S(3600));
	assert_int_equal(f->n_rq, 3);
	assert_int_equal(count_logs(f, 1, "2 candidate"), 1);
	/* unplugged and plugged in again: a new attempt */
	upd(f, 1, false, false, 0, NULL);
	upd(f, 1, true, true, 0, NULL);
	expect(f, "GET", URL_LIST);
}

static void test_locate_skips_car_on_other_connector(void **state)
{
	struct fake *f = *state;

	home(f);
	fk_start(f);
	upd(f, 1, true, true, 16, VIN_A); /* A is on connector 1, says its TWC */
	upd(f, 2, true, true, 0, NULL);
	expect_reply(f, "GET", URL_LIST, 200, list3);
	/* only B is asked about */
	expect_reply(f, "GET", URL_DATA(VIN_B), 200,
		     "{\"response\":{\"charge_state\":{\"charging_state\":\"Charging\"},"
		     "\"drive_state\":{\"latitude\":52.0,\"longitude\":4.0}}}");
	assert_string_equal(tesla_connector_vin(f->t, 2), VIN_B);
	expect_reply(f, "POST", URL_STOP(VIN_B), 200, OK);
	assert_int_equal(f->n_rq, 3);
}

static void test_locate_without_home(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	upd(f, 1, true, true, 0, NULL);
	expect_reply(f, "GET", URL_LIST, 200, list3);
	assert_int_equal(count_logs(f, 1, "no tesla.home"), 1);
	tick_to(f, MONO0 + S(600));
	assert_int_equal(f->n_rq, 1);
}

static void test_twc_vin_ends_locate(void **state)
{
	struct fake *f = *state;

	home(f);
	fk_start(f);
	upd(f, 1, true, true, 0, NULL);
	expect(f, "GET", URL_LIST);
	upd(f, 1, true, true, 0, VIN_C); /* the TWC read the VIN meanwhile */
	reply(f, 200, list3, -1);
	expect_reply(f, "POST", URL_STOP(VIN_C), 200, OK);
	assert_string_equal(tesla_connector_vin(f->t, 1), VIN_C);
	assert_int_equal(f->n_rq, 2);
}

static void test_two_connectors_share_the_queue(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	upd(f, 1, true, true, 0, VIN_A);
	upd(f, 2, true, true, 0, VIN_B);
	upd(f, 2, true, true, 0, VIN_B); /* no duplicate */
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	expect_reply(f, "POST", URL_STOP(VIN_B), 200, OK);
	expect_none(f);
	/* the same car moved to another connector keeps its dwell: 60 s from its stop, not the 30 s grace */
	at(f, MONO0 + S(20));
	upd(f, 2, true, false, 0, VIN_B);
	upd(f, 1, false, false, 0, NULL);
	upd(f, 3, true, false, 16, VIN_A);
	assert_true(tesla_next_deadline(f->t) == MONO0 + S(50));
	tick_to(f, MONO0 + S(60) - 1);
	expect_none(f);
	tick_to(f, MONO0 + S(60));
	expect_reply(f, "POST", URL_START(VIN_A), 200, OK);
}

static void test_absent_slave_keeps_the_car(void **state)
{
	struct fake *f = *state;
	struct tesla_conn_state gone = { .present = false };

	fk_start(f);
	upd(f, 1, true, true, 16, NULL);
	upd(f, 1, true, true, 0, NULL);
	expect(f, "GET", URL_LIST);
	/* the slave stops answering while the list is in flight: the car is found, but nothing is asked of
	 * a car we cannot see */
	tesla_connector_update(f->t, 1, &gone, f->mono, f->wall);
	reply(f, 200, "{\"response\":[{\"vin\":\"" VIN_A "\",\"state\":\"online\"}]}", -1);
	expect_none(f);
	tick_to(f, MONO0 + S(120));
	assert_int_equal(f->n_rq, 1);
	/* back, same plug-in: the car is still known, no second locate */
	upd(f, 1, true, true, 0, NULL);
	expect_reply(f, "POST", URL_STOP(VIN_A), 200, OK);
	assert_string_equal(tesla_connector_vin(f->t, 1), VIN_A);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_new_rejects_bad_params),
	T(test_many_connectors),
	T(test_no_tokens_needs_login),
		T(test_stop_when_paused_and_drawing),
		T(test_stop_once_per_pause),
		T(test_dwell),
		T(test_start_after_grace),
		T(test_start_after_we_stopped),
		T(test_start_refused_latches),
		T(test_could_not_wake_buses),
		T(test_car_amps_once_per_plug),
		T(test_401_refreshes_once_and_retries),
		T(test_401_after_refresh_gives_up),
		T(test_refused_refresh_needs_login),
		T(test_refresh_form_encoding),
		T(test_proactive_refresh_before_jwt_exp),
		T(test_persisted_tokens_win),
		T(test_bad_tokens_file_ignored),
		T(test_no_token_in_logs),
		T(test_408_wakes_and_retries),
		T(test_429_blocks_and_persists),
		T(test_429_without_retry_after),
		T(test_absurd_block_capped_and_saved),
		T(test_5xx_backoff),
		T(test_transport_failure),
		T(test_403_stops_commands),
		T(test_other_4xx_logged_once),
		T(test_budget),
		T(test_unplug_drops_and_ignores_late_answer),
		T(test_malformed_answers),
		T(test_locate_single_vehicle),
		T(test_locate_home_geofence),
		T(test_locate_unplugged_car_at_home_is_not_it),
		T(test_locate_ambiguous),
		T(test_locate_skips_car_on_other_connector),
		T(test_locate_without_home),
		T(test_twc_vin_ends_locate),
		T(test_two_connectors_share_the_queue),
		T(test_absent_slave_keeps_the_car),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
