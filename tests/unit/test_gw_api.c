/*
 * Tests of gw_api, the router between one HTTP request and its answer: every documented path and
 * method (404, 405 with Allow, HEAD as GET, the page's files, the event stream, /metrics), who may do
 * what (loopback, sessions, bearer tokens, the CSRF token, Origin, logins and their lock-out), how
 * bodies and query strings are checked (each error naming its field), and that no secret ever comes
 * back. The gateway behind it is a set of small fakes that record what they were asked; time is
 * injected, nothing sleeps.
 */
#include <errno.h>
#include <math.h>
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

#include "gw_api.h"
#include "gw_assets.h"
#include "gw_auth.h"
#include "gw_metrics.h"

/* A hash at the lowest cost gw_auth accepts (10,000 iterations, a tenth of what gw_auth_hash_password
 * spends), so the logins below stay cheap under valgrind. Made apart with Python:
 *   hashlib.pbkdf2_hmac("sha256", b"api-test-pass-7", b"twcgw-api-test!!", 10000, 32), base64. */
#define PASSWORD "api-test-pass-7"
#define PASSWORD_HASH "pbkdf2-sha256$10000$dHdjZ3ctYXBpLXRlc3QhIQ==$aLq42n5Vj/MREpQ7aIPuFaDKSPLQPgRps7CX4fHX6yw="
#define TOKEN "api-test-token-0123456789abcdef"
#define BEARER "Bearer " TOKEN
#define T0 5000000ull
#define HOUR_MS (3600ull * 1000)

/* ---- the fake gateway ---- */

struct fake {
	uint64_t now_ms;
	int status_calls, settings_calls, history_calls, stats_calls;
	int policy_calls, max_calls;
	char by[8];          /* the last change's @by */
	json_t *policy;      /* a copy of the last policy given */
	int policy_rc;       /* what set_policy answers, with policy_err */
	const char *policy_err;
	int connector, amps; /* the last set_max */
	int max_rc;
	const char *max_err;
	int64_t since;       /* the last history call */
	char selected[64];   /* the charge point select() chose last, "" the first */
	char at_change[64];  /* what was selected when settings, set_policy or set_max ran last */
	int select_calls;
};

/* Several charge points: DEPOT-1 (the first) and DEPOT-2. */
static int fake_select(void *user, const char *cp)
{
	struct fake *f = user;

	f->select_calls++;
	if (cp && strcmp(cp, "DEPOT-1") && strcmp(cp, "DEPOT-2"))
		return -ENOENT;
	snprintf(f->selected, sizeof(f->selected), "%s", cp && strcmp(cp, "DEPOT-1") ? cp : "");
	return 0;
}

static void fake_status(void *user, struct gw_status *st)
{
	struct fake *f = user;

	f->status_calls++;
	st->wall_ms = 1796650000000LL;
	st->uptime_s = 3605;
	snprintf(st->charge_point, sizeof(st->charge_point), "GARAGE-1");
	st->bus.wiring_max_all = 40;
	st->bus.wiring_max_per_twc = 32;
	st->bus.offered_amps = 16;
	st->n_connectors = 1;
	st->c[0].connector = 1;
	memcpy(st->c[0].twc, "ABCD", 5);
	st->c[0].state = GW_STATE_CHARGING;
	st->c[0].offered_amps = 16;
	st->c[0].max_amps = -1;
	st->c[0].measured_amps = 15.9;
	st->c[0].energy_wh = 1e6;
	st->c[0].vehicle = -1;
	snprintf(st->policy.mode, sizeof(st->policy.mode), "charge-now");
	st->policy.surplus_w = 1200;
	st->policy.house_w = st->policy.pv_w = st->policy.grid_w = NAN;
	for (int i = 0; i < GW_STATUS_METERS_MAX; i++)
		st->meters[i].age_s = st->meters[i].value_w = NAN;
}

static json_t *settings_json(void)
{
	return json_pack("{s:{s:{s:s},s:s},s:[s,s]}", "policy", "value", "mode", "charge-now", "source", "config",
			 "modes", "off", "charge-now");
}

static json_t *fake_settings(void *user)
{
	struct fake *f = user;

	f->settings_calls++;
	memcpy(f->at_change, f->selected, sizeof(f->at_change));
	return settings_json();
}

static void by_set(struct fake *f, const char *by)
{
	snprintf(f->by, sizeof(f->by), "%s", by);
}

static int fake_set_policy(void *user, const json_t *policy, const char *by, char *err, size_t errlen)
{
	struct fake *f = user;

	f->policy_calls++;
	memcpy(f->at_change, f->selected, sizeof(f->at_change));
	by_set(f, by);
	json_decref(f->policy);
	f->policy = json_deep_copy(policy);
	if (f->policy_rc)
		snprintf(err, errlen, "%s", f->policy_err);
	return f->policy_rc;
}

static int fake_set_max(void *user, int connector, int amps, const char *by, char *err, size_t errlen)
{
	struct fake *f = user;

	f->max_calls++;
	memcpy(f->at_change, f->selected, sizeof(f->at_change));
	by_set(f, by);
	f->connector = connector;
	f->amps = amps;
	if (f->max_rc && f->max_err)
		snprintf(err, errlen, "%s", f->max_err);
	return f->max_rc;
}

static json_t *fake_history(void *user, int64_t since_s)
{
	struct fake *f = user;

	f->history_calls++;
	f->since = since_s;
	return json_pack("{s:i,s:I,s:[]}", "intervalS", 60, "since", (json_int_t)since_s, "t");
}

static void fake_http_stats(void *user, struct gw_httpd_stats *out)
{
	((struct fake *)user)->stats_calls++;
	out->requests = 42;
	out->streams = 3;
}

static uint64_t fake_now(void *user)
{
	return ((struct fake *)user)->now_ms;
}

/* ---- every answer, for the secrets check at the end ---- */

static char *g_seen;
static size_t g_seen_len;

static void seen_add(const char *text, size_t len)
{
	char *p = realloc(g_seen, g_seen_len + len + 2);

	assert_non_null(p);
	g_seen = p;
	if (len)
		memcpy(g_seen + g_seen_len, text, len);
	g_seen_len += len;
	g_seen[g_seen_len++] = '\n';
	g_seen[g_seen_len] = '\0';
}

static bool mem_has(const char *hay, size_t len, const char *needle)
{
	size_t nl = strlen(needle);

	for (size_t i = 0; hay && i + nl <= len; i++)
		if (!memcmp(hay + i, needle, nl))
			return true;
	return false;
}

/* What the answers not yet freed own: a failed assertion jumps past answer_free(), teardown frees
 * these so a failure reports itself and not a leak as well. */
#define LIVE_MAX 8
static char *g_live_owned[LIVE_MAX];
static json_t *g_live_json[LIVE_MAX];

static void live_add(char *owned, json_t *json)
{
	for (size_t i = 0; i < LIVE_MAX; i++) {
		if (!g_live_owned[i] && !g_live_json[i]) {
			g_live_owned[i] = owned;
			g_live_json[i] = json;
			return;
		}
	}
	fail_msg("more than %d answers alive at once", LIVE_MAX);
}

static void live_drop(const char *owned, const json_t *json, bool free_them)
{
	for (size_t i = 0; i < LIVE_MAX; i++) {
		if ((owned && g_live_owned[i] == owned) || (json && g_live_json[i] == json) ||
		    (!owned && !json && free_them)) {
			if (free_them) {
				free(g_live_owned[i]);
				json_decref(g_live_json[i]);
			}
			g_live_owned[i] = NULL;
			g_live_json[i] = NULL;
		}
	}
}

/* ---- the test's gateway, auth and api ---- */

struct ctx {
	struct fake f;
	struct gw_api_ops ops;
	struct gw_auth *auth;
	struct gw_api *api;
};

/* A new auth (@hash and @token may be "") and api over the same fakes. */
static void ctx_open(struct ctx *c, const char *hash, const char *token, bool auth_read)
{
	gw_api_free(c->api);
	gw_auth_free(c->auth);
	c->auth = gw_auth_new(hash, token);
	assert_non_null(c->auth);
	c->api = gw_api_new(&c->ops, c->auth, auth_read);
	assert_non_null(c->api);
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	c->f.now_ms = T0;
	c->ops.user = &c->f;
	c->ops.status = fake_status;
	c->ops.settings = fake_settings;
	c->ops.set_policy = fake_set_policy;
	c->ops.set_max = fake_set_max;
	c->ops.history = fake_history;
	c->ops.http_stats = fake_http_stats;
	c->ops.now_ms = fake_now;
	ctx_open(c, PASSWORD_HASH, TOKEN, false);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	live_drop(NULL, NULL, true);
	gw_api_free(c->api);
	gw_auth_free(c->auth);
	json_decref(c->f.policy);
	free(c);
	return 0;
}

/* ---- requests and answers ---- */

/* A request with every header absent; loopback ones come to 127.0.0.1:8080, others to gw.lan:8080. */
static struct gw_httpd_req req_make(const char *method, const char *path, bool loopback)
{
	struct gw_httpd_req r;

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.path = path;
	r.query = "";
	r.peer = loopback ? "127.0.0.1" : "192.0.2.7";
	r.listener_loopback = loopback;
	r.host = loopback ? "127.0.0.1:8080" : "gw.lan:8080";
	r.origin = r.authorization = r.cookie = r.content_type = r.csrf = "";
	r.body = "";
	return r;
}

static void req_body(struct gw_httpd_req *r, const char *body)
{
	r->content_type = "application/json";
	r->body = body;
	r->body_len = strlen(body);
}

/* A change as the page sends it: the CSRF token, a JSON body. */
static struct gw_httpd_req req_change(struct ctx *c, const char *method, const char *path, bool loopback,
				      const char *body)
{
	struct gw_httpd_req r = req_make(method, path, loopback);

	r.csrf = gw_auth_csrf(c->auth);
	req_body(&r, body);
	return r;
}

struct answer {
	struct gw_httpd_resp resp;
	const char *text;
	size_t len;
	json_t *json; /* the body parsed, for a JSON answer */
};

/* Every extra header line is "Name: value\r\n", nothing else. */
static void headers_check(const char *h)
{
	while (*h) {
		const char *eol = strstr(h, "\r\n"), *colon = strchr(h, ':');

		assert_non_null(eol);
		assert_non_null(colon);
		assert_true(colon > h && colon < eol && colon[1] == ' ');
		for (const char *p = h; p < eol; p++)
			assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
		h = eol + 2;
	}
}

/* Hand @r to the api: the answer is well-formed (a status, header lines, JSON that parses). */
static int call(struct ctx *c, const struct gw_httpd_req *r, struct answer *a)
{
	const char *ct;

	memset(a, 0, sizeof(*a));
	gw_api_handle(c->api, r, &a->resp);
	live_add(a->resp.owned, NULL);
	assert_in_range(a->resp.status, 200, 599);
	a->text = a->resp.owned ? a->resp.owned : a->resp.body;
	a->len = a->resp.len;
	assert_true(a->text || !a->len);
	headers_check(a->resp.headers);
	seen_add(a->text, a->len);
	seen_add(a->resp.headers, strlen(a->resp.headers));
	ct = a->resp.content_type ? a->resp.content_type : "application/json";
	if (!strcmp(ct, "application/json")) {
		json_error_t e;

		assert_false(a->resp.stream);
		a->json = json_loadb(a->text, a->len, 0, &e);
		live_drop(a->resp.owned, NULL, false);
		live_add(a->resp.owned, a->json);
		if (!a->json)
			fail_msg("answer to %s %s is not JSON (%s): %.*s", r->method, r->path, e.text, (int)a->len,
				 a->text);
	}
	return a->resp.status;
}

static void answer_free(struct answer *a)
{
	live_drop(a->resp.owned, a->json, false);
	json_decref(a->json);
	free(a->resp.owned);
	memset(a, 0, sizeof(*a));
}

/* The value of the one header line @name into @out; false if absent. Two lines of it fail the test. */
static bool header_of(const struct answer *a, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	bool found = false;

	for (const char *h = a->resp.headers; *h;) {
		const char *eol = strstr(h, "\r\n");

		assert_non_null(eol);
		if ((size_t)(eol - h) > nl + 1 && !strncmp(h, name, nl) && h[nl] == ':') {
			const char *v = h + nl + 2;

			assert_false(found);
			found = true;
			assert_true((size_t)(eol - v) < n);
			memcpy(out, v, (size_t)(eol - v));
			out[eol - v] = '\0';
		}
		h = eol + 2;
	}
	return found;
}

static void assert_header(const struct answer *a, const char *name, const char *value)
{
	char v[256];

	if (!header_of(a, name, v, sizeof(v)))
		fail_msg("no %s line in \"%s\"", name, a->resp.headers);
	assert_string_equal(v, value);
}

static void assert_no_header(const struct answer *a, const char *name)
{
	char v[256];

	assert_false(header_of(a, name, v, sizeof(v)));
}

static const char *jstr(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	if (!s)
		fail_msg("no string member \"%s\"", key);
	return s;
}

/* An error answer: @status, {"error": "..."} and "field" = @field (NULL: no field member). */
static void assert_error(const struct answer *a, int status, const char *field)
{
	assert_int_equal(a->resp.status, status);
	assert_non_null(a->json);
	assert_true(json_is_string(json_object_get(a->json, "error")));
	assert_true(strlen(jstr(a->json, "error")) > 0);
	if (field)
		assert_string_equal(jstr(a->json, "field"), field);
	else
		assert_null(json_object_get(a->json, "field"));
	assert_header(a, "Cache-Control", "no-store");
}

/* Send @r and expect the error. */
static void expect_error(struct ctx *c, const struct gw_httpd_req *r, int status, const char *field)
{
	struct answer a;

	call(c, r, &a);
	if (a.resp.status != status)
		fail_msg("%s %s?%s: status %d, wanted %d: %.*s", r->method, r->path, r->query, a.resp.status, status,
			 (int)a.len, a.text);
	assert_error(&a, status, field);
	answer_free(&a);
}

static void assert_settings_answer(const struct answer *a)
{
	json_t *want = settings_json();

	assert_int_equal(a->resp.status, 200);
	assert_true(json_equal(a->json, want));
	json_decref(want);
}

static void assert_lower_hex(const char *s, size_t n)
{
	assert_int_equal(strlen(s), n);
	assert_int_equal(strspn(s, "0123456789abcdef"), n);
}

/* ---- routes ---- */

/* Every page file: 200 with its bytes, type and ETag, even where reading needs credentials. */
static void test_assets_served_to_anyone(void **state)
{
	struct ctx *c = *state;
	size_t n = 0;
	const struct gw_asset *all = gw_assets_all(&n);
	static const char *const methods[] = { "GET", "HEAD" };

	ctx_open(c, PASSWORD_HASH, TOKEN, true);
	assert_true(n > 0);
	assert_non_null(gw_asset_find("/"));
	for (size_t i = 0; i < n; i++) {
		for (size_t m = 0; m < 2; m++) {
			struct gw_httpd_req r = req_make(methods[m], all[i].path, false);
			struct answer a;

			assert_int_equal(call(c, &r, &a), 200);
			assert_ptr_equal(a.resp.body, all[i].data);
			assert_int_equal(a.resp.len, all[i].len);
			assert_null(a.resp.owned);
			assert_string_equal(a.resp.content_type, all[i].content_type);
			assert_false(a.resp.stream);
			assert_header(&a, "ETag", all[i].etag);
			assert_header(&a, "Cache-Control", "no-cache");
			answer_free(&a);
		}
	}
	/* A change to a file is no method of it. */
	{
		struct gw_httpd_req r = req_make("POST", "/", false);
		struct answer a;

		call(c, &r, &a);
		assert_error(&a, 405, NULL);
		assert_header(&a, "Allow", "GET, HEAD");
		answer_free(&a);
	}
	assert_int_equal(c->f.status_calls, 0);
}

static void test_status_settings_session(void **state)
{
	struct ctx *c = *state;
	static const char *const methods[] = { "GET", "HEAD" };

	for (size_t m = 0; m < 2; m++) {
		struct gw_httpd_req r = req_make(methods[m], "/api/v1/status", true);
		struct answer a;
		json_t *conn;

		assert_int_equal(call(c, &r, &a), 200);
		assert_string_equal(a.resp.content_type, "application/json");
		assert_header(&a, "Cache-Control", "no-store");
		assert_string_equal(jstr(a.json, "chargePoint"), "GARAGE-1");
		conn = json_array_get(json_object_get(a.json, "connectors"), 0);
		assert_int_equal(json_integer_value(json_object_get(conn, "connector")), 1);
		assert_string_equal(jstr(conn, "twc"), "ABCD");
		assert_string_equal(jstr(conn, "state"), "charging");
		assert_true(json_is_null(json_object_get(conn, "maxAmps")));
		answer_free(&a);

		r = req_make(methods[m], "/api/v1/settings", true);
		assert_int_equal(call(c, &r, &a), 200);
		assert_settings_answer(&a);
		assert_header(&a, "Cache-Control", "no-store");
		answer_free(&a);
	}
	assert_int_equal(c->f.status_calls, 2);
	assert_int_equal(c->f.settings_calls, 2);

	/* The status text of the event stream is the same object as GET /api/v1/status. */
	{
		struct gw_httpd_req r = req_make("GET", "/api/v1/status", true);
		struct answer a;
		size_t len = 0;
		char *text = gw_api_status_text(c->api, &len);
		json_t *j;

		assert_non_null(text);
		assert_int_equal(strlen(text), len);
		assert_null(strchr(text, '\n'));
		j = json_loads(text, 0, NULL);
		call(c, &r, &a);
		assert_true(json_equal(j, a.json));
		json_decref(j);
		free(text);
		answer_free(&a);
	}
}

static void test_session_info(void **state)
{
	struct ctx *c = *state;
	struct gw_httpd_req r = req_make("GET", "/api/v1/session", true);
	struct answer a;
	json_t *req_;

	/* Loopback: nothing required, so the client counts as authenticated. */
	assert_int_equal(call(c, &r, &a), 200);
	assert_string_equal(jstr(a.json, "csrf"), gw_auth_csrf(c->auth));
	assert_lower_hex(jstr(a.json, "csrf"), GW_AUTH_ID_LEN);
	assert_true(json_is_true(json_object_get(a.json, "authenticated")));
	req_ = json_object_get(a.json, "authRequired");
	assert_true(json_is_false(json_object_get(req_, "read")));
	assert_true(json_is_false(json_object_get(req_, "control")));
	assert_true(json_is_true(json_object_get(a.json, "password")));
	answer_free(&a);

	/* Beyond loopback, without authRead: control needs credentials, this client has none. */
	r = req_make("GET", "/api/v1/session", false);
	assert_int_equal(call(c, &r, &a), 200);
	assert_false(json_is_true(json_object_get(a.json, "authenticated")));
	req_ = json_object_get(a.json, "authRequired");
	assert_true(json_is_false(json_object_get(req_, "read")));
	assert_true(json_is_true(json_object_get(req_, "control")));
	answer_free(&a);

	/* ... with a bearer token it has; with authRead, reading needs them too. */
	ctx_open(c, PASSWORD_HASH, TOKEN, true);
	r.authorization = BEARER;
	assert_int_equal(call(c, &r, &a), 200);
	assert_true(json_is_true(json_object_get(a.json, "authenticated")));
	assert_true(json_is_true(json_object_get(json_object_get(a.json, "authRequired"), "read")));
	answer_free(&a);

	/* The session call is open even where reading is not: the login form needs the CSRF token. */
	r.authorization = "";
	assert_int_equal(call(c, &r, &a), 200);
	assert_string_equal(jstr(a.json, "csrf"), gw_auth_csrf(c->auth));
	assert_false(json_is_true(json_object_get(a.json, "authenticated")));
	answer_free(&a);

	/* Nothing configured (loopback only): no login form. */
	ctx_open(c, "", "", false);
	r = req_make("GET", "/api/v1/session", true);
	assert_int_equal(call(c, &r, &a), 200);
	assert_true(json_is_false(json_object_get(a.json, "password")));
	assert_true(json_is_true(json_object_get(a.json, "authenticated")));
	answer_free(&a);
}

/*
 * "password" says whether a login form makes sense: false with a bearer token alone (login answers
 * 404 there). This test found it saying true for any credential; fixed with gw_auth_has_password().
 */
static void test_session_password_only_with_a_password(void **state)
{
	struct ctx *c = *state;
	struct gw_httpd_req r = req_make("GET", "/api/v1/session", true);
	struct answer a;

	ctx_open(c, "", TOKEN, false);
	assert_int_equal(call(c, &r, &a), 200);
	assert_true(json_is_false(json_object_get(a.json, "password")));
	answer_free(&a);
	r = req_change(c, "POST", "/api/v1/login", true, "{\"password\": \"" PASSWORD "\"}");
	expect_error(c, &r, 404, NULL);
}

static void test_history_route(void **state)
{
	struct ctx *c = *state;
	struct gw_httpd_req r = req_make("GET", "/api/v1/history", true);
	struct answer a;

	c->f.since = -7;
	assert_int_equal(call(c, &r, &a), 200);
	assert_int_equal(c->f.history_calls, 1);
	assert_int_equal(c->f.since, 0); /* no since: everything */
	assert_int_equal(json_integer_value(json_object_get(a.json, "intervalS")), 60);
	assert_header(&a, "Cache-Control", "no-store");
	answer_free(&a);

	r.method = "HEAD";
	r.query = "since=123";
	assert_int_equal(call(c, &r, &a), 200);
	assert_int_equal(c->f.since, 123);
	assert_int_equal(json_integer_value(json_object_get(a.json, "since")), 123);
	answer_free(&a);
}

static void test_metrics_route(void **state)
{
	struct ctx *c = *state;
	static const char *const methods[] = { "GET", "HEAD" };

	assert_string_equal(GW_METRICS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
	for (size_t m = 0; m < 2; m++) {
		struct gw_httpd_req r = req_make(methods[m], "/metrics", true);
		struct answer a;

		assert_int_equal(call(c, &r, &a), 200);
		assert_string_equal(a.resp.content_type, "text/plain; version=0.0.4; charset=utf-8");
		assert_non_null(a.resp.owned);
		assert_false(a.resp.stream);
		assert_header(&a, "Cache-Control", "no-store");
		assert_null(memchr(a.text, '\0', a.len));
		assert_memory_equal(a.text, "# HELP ", 7);
		assert_true(mem_has(a.text, a.len,
				    "\ntwcgw_connector_offered_amperes{charge_point=\"GARAGE-1\",connector=\"1\"} 16\n"));
		/* The HTTP server's own counters come from the http_stats op. */
		assert_true(mem_has(a.text, a.len, "\ntwcgw_http_requests_total{charge_point=\"GARAGE-1\"} 42\n"));
		assert_true(mem_has(a.text, a.len, "\ntwcgw_http_event_streams{charge_point=\"GARAGE-1\"} 3\n"));
		answer_free(&a);
	}
	assert_int_equal(c->f.stats_calls, 2);

	/* Without the op the family is left out, not made up. */
	c->ops.http_stats = NULL;
	ctx_open(c, PASSWORD_HASH, TOKEN, false);
	{
		struct gw_httpd_req r = req_make("GET", "/metrics", true);
		struct answer a;

		assert_int_equal(call(c, &r, &a), 200);
		assert_false(mem_has(a.text, a.len, "twcgw_http_requests_total"));
		assert_true(mem_has(a.text, a.len, "twcgw_connector_offered_amperes"));
		answer_free(&a);
	}
}

/* The stream opens with the status now, as one server-sent event. */
static void test_events_stream(void **state)
{
	struct ctx *c = *state;
	struct gw_httpd_req r = req_make("GET", "/api/v1/events", true);
	struct gw_httpd_req rs = req_make("GET", "/api/v1/status", true);
	struct answer a, s;
	static const char head[] = "event: status\ndata: ";
	json_t *j;

	assert_int_equal(call(c, &r, &a), 200);
	assert_true(a.resp.stream);
	assert_string_equal(a.resp.content_type, "text/event-stream");
	assert_non_null(a.resp.owned);
	assert_int_equal(strlen(a.resp.owned), a.len);
	assert_true(a.len > sizeof(head) + 2);
	assert_memory_equal(a.text, head, sizeof(head) - 1);
	assert_memory_equal(a.text + a.len - 2, "\n\n", 2);
	/* data: one line of JSON, the same object GET /api/v1/status answers. */
	assert_null(memchr(a.text + sizeof(head) - 1, '\n', a.len - (sizeof(head) - 1) - 2));
	j = json_loadb(a.text + sizeof(head) - 1, a.len - (sizeof(head) - 1) - 2, 0, NULL);
	assert_non_null(j);
	call(c, &rs, &s);
	assert_true(json_equal(j, s.json));
	json_decref(j);
	answer_free(&s);
	answer_free(&a);

	/* Not a read beyond loopback with authRead, without credentials; with the token it is. */
	ctx_open(c, PASSWORD_HASH, TOKEN, true);
	r = req_make("GET", "/api/v1/events", false);
	call(c, &r, &a);
	assert_error(&a, 401, NULL);
	assert_false(a.resp.stream);
	answer_free(&a);
	r.authorization = BEARER;
	assert_int_equal(call(c, &r, &a), 200);
	assert_true(a.resp.stream);
	answer_free(&a);
}

static void test_not_found(void **state)
{
	struct ctx *c = *state;
	static const char *const paths[] = {
		"/nope", "/api/v2/status", "/api/v2/", "/api/v1", "/api/v1/", "/api/v1/statusx", "/api/v1/status/",
		"/API/v1/status", "/api/v1/Status", "/api/v1/connectors/1/maxamps", "/api/v1/connectors",
		"/api/app.js", "/api/", "/metrics/", "/metricsx", "/api/v1/settings/policy/x", "//api/v1/status",
		"/api/v1/../v1/status", "/api/v1/%73tatus",
	};
	static const char *const methods[] = { "GET", "POST", "PUT" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		for (size_t m = 0; m < 3; m++) {
			struct gw_httpd_req r = req_make(methods[m], paths[i], true);
			struct answer a;

			call(c, &r, &a);
			if (a.resp.status != 404)
				fail_msg("%s %s: %d", methods[m], paths[i], a.resp.status);
			assert_error(&a, 404, NULL);
			assert_string_equal(jstr(a.json, "error"), "not found");
			answer_free(&a);
		}
	}
	assert_int_equal(c->f.status_calls + c->f.policy_calls + c->f.max_calls + c->f.history_calls, 0);
}

static void test_method_not_allowed(void **state)
{
	struct ctx *c = *state;
	static const struct {
		const char *method, *path, *allow;
	} cases[] = {
		{ "POST", "/api/v1/status", "GET, HEAD" },
		{ "PUT", "/api/v1/status", "GET, HEAD" },
		{ "DELETE", "/api/v1/history", "GET, HEAD" },
		{ "OPTIONS", "/api/v1/settings", "GET, HEAD" },
		{ "PUT", "/api/v1/settings", "GET, HEAD" },
		{ "POST", "/metrics", "GET, HEAD" },
		{ "PUT", "/api/v1/session", "GET, HEAD" },
		{ "POST", "/api/v1/events", "GET, HEAD" },
		{ "GET", "/api/v1/login", "POST" },
		{ "PUT", "/api/v1/login", "POST" },
		{ "HEAD", "/api/v1/logout", "POST" },
		{ "GET", "/api/v1/settings/policy", "PUT, POST" },
		{ "DELETE", "/api/v1/settings/policy", "PUT, POST" },
		{ "GET", "/api/v1/connectors/1/maxAmps", "PUT, POST" },
		{ "DELETE", "/api/v1/connectors/1/maxAmps", "PUT, POST" },
		{ "PUT", "/", "GET, HEAD" },
		{ "DELETE", "/", "GET, HEAD" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* With everything a change needs, so only the method is wrong. */
		struct gw_httpd_req r = req_change(c, cases[i].method, cases[i].path, true, "{\"maxAmps\": 10}");
		struct answer a;

		call(c, &r, &a);
		if (a.resp.status != 405)
			fail_msg("%s %s: %d", cases[i].method, cases[i].path, a.resp.status);
		assert_error(&a, 405, NULL);
		assert_header(&a, "Allow", cases[i].allow);
		answer_free(&a);
	}
	assert_int_equal(c->f.policy_calls + c->f.max_calls + c->f.history_calls + c->f.status_calls, 0);
}

/* ---- who may ---- */

/* Loopback steers without credentials, but only with the CSRF token and from its own Origin. */
static void test_loopback_change_needs_csrf(void **state)
{
	struct ctx *c = *state;
	const char *path = "/api/v1/connectors/1/maxAmps", *body = "{\"maxAmps\": 10}";
	struct gw_httpd_req r;
	struct answer a;
	char wrong[GW_AUTH_ID_LEN + 1];

	r = req_change(c, "PUT", path, true, body);
	r.csrf = "";
	expect_error(c, &r, 403, NULL);
	snprintf(wrong, sizeof(wrong), "%s", gw_auth_csrf(c->auth));
	wrong[0] = wrong[0] == '0' ? '1' : '0';
	r.csrf = wrong;
	expect_error(c, &r, 403, NULL);
	r.csrf = "0"; /* a prefix is not the token */
	expect_error(c, &r, 403, NULL);
	assert_int_equal(c->f.max_calls, 0);

	/* The token from a foreign page, or a look-alike Origin: refused all the same. */
	{
		static const char *const foreign[] = {
			"http://evil.example", "http://127.0.0.1:8080.evil.example", "http://127.0.0.1:8081",
			"https://127.0.0.1:8080", "null", "http://127.0.0.1", "127.0.0.1:8080", "http://",
		};

		for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
			r = req_change(c, "PUT", path, true, body);
			r.origin = foreign[i];
			expect_error(c, &r, 403, NULL);
		}
	}
	/* An Origin but no Host to match it against. */
	r = req_change(c, "PUT", path, true, body);
	r.origin = "http://127.0.0.1:8080";
	r.host = "";
	expect_error(c, &r, 403, NULL);
	assert_int_equal(c->f.max_calls, 0);

	/* Its own Origin, or none (curl): through, as the page. */
	r = req_change(c, "PUT", path, true, body);
	r.origin = "http://127.0.0.1:8080";
	assert_int_equal(call(c, &r, &a), 200);
	assert_settings_answer(&a);
	assert_int_equal(c->f.max_calls, 1);
	assert_int_equal(c->f.connector, 1);
	assert_int_equal(c->f.amps, 10);
	assert_string_equal(c->f.by, "page");
	answer_free(&a);
	r.origin = "HTTP://127.0.0.1:8080"; /* scheme and host are case-insensitive */
	assert_int_equal(call(c, &r, &a), 200);
	answer_free(&a);
	r.origin = "";
	assert_int_equal(call(c, &r, &a), 200);
	answer_free(&a);
	assert_int_equal(c->f.max_calls, 3);

	/* Over TLS the Origin is https. */
	r = req_change(c, "PUT", path, true, body);
	r.tls = true;
	r.origin = "http://127.0.0.1:8080";
	expect_error(c, &r, 403, NULL);
	r.origin = "https://127.0.0.1:8080";
	assert_int_equal(call(c, &r, &a), 200);
	answer_free(&a);
	assert_int_equal(c->f.max_calls, 4);

	/* The policy and login/logout take the same checks. */
	r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"mode\": \"off\"}");
	r.csrf = "";
	expect_error(c, &r, 403, NULL);
	r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"mode\": \"off\"}");
	r.origin = "http://evil.example";
	expect_error(c, &r, 403, NULL);
	r = req_change(c, "POST", "/api/v1/logout", true, "{}");
	r.csrf = "";
	expect_error(c, &r, 403, NULL);
	r = req_change(c, "POST", "/api/v1/login", true, "{\"password\": \"x\"}");
	r.origin = "http://evil.example";
	expect_error(c, &r, 403, NULL);
	assert_int_equal(c->f.policy_calls, 0);
}

/* Loopback reads without credentials even when reading elsewhere needs them. */
static void test_loopback_reads_open(void **state)
{
	struct ctx *c = *state;
	static const char *const paths[] = { "/api/v1/status", "/api/v1/history", "/api/v1/settings", "/metrics",
					     "/api/v1/events" };

	ctx_open(c, PASSWORD_HASH, TOKEN, true);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct gw_httpd_req r = req_make("GET", paths[i], true);
		struct answer a;

		assert_int_equal(call(c, &r, &a), 200);
		answer_free(&a);
	}
}

/* Beyond loopback a change needs a session or the bearer token; a read only with authRead. */
static void test_remote_credentials(void **state)
{
	struct ctx *c = *state;
	static const char *const reads[] = { "/api/v1/status", "/api/v1/history", "/api/v1/settings", "/metrics" };
	struct gw_httpd_req r;
	struct answer a;

	/* authRead false: reading is open. */
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		r = req_make("GET", reads[i], false);
		assert_int_equal(call(c, &r, &a), 200);
		answer_free(&a);
	}
	/* A change with the CSRF token but no credentials: 401 and how to authenticate. */
	r = req_change(c, "PUT", "/api/v1/connectors/1/maxAmps", false, "{\"maxAmps\": 10}");
	call(c, &r, &a);
	assert_error(&a, 401, NULL);
	assert_header(&a, "WWW-Authenticate", "Bearer realm=\"twcgw\"");
	answer_free(&a);
	r = req_change(c, "PUT", "/api/v1/settings/policy", false, "{\"mode\": \"off\"}");
	call(c, &r, &a);
	assert_error(&a, 401, NULL);
	assert_header(&a, "WWW-Authenticate", "Bearer realm=\"twcgw\"");
	answer_free(&a);
	/* A wrong token, a right one badly written, a made-up session: none are credentials. */
	{
		static const char *const bad[] = { "Bearer wrong-token-0123456789abcdef", "Bearer  " TOKEN, TOKEN,
						   "Basic " TOKEN, "Bearer " TOKEN "x" };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			r = req_change(c, "PUT", "/api/v1/connectors/1/maxAmps", false, "{\"maxAmps\": 10}");
			r.authorization = bad[i];
			expect_error(c, &r, 401, NULL);
		}
		r = req_change(c, "PUT", "/api/v1/connectors/1/maxAmps", false, "{\"maxAmps\": 10}");
		r.cookie = GW_AUTH_COOKIE "=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
		expect_error(c, &r, 401, NULL);
	}
	assert_int_equal(c->f.max_calls + c->f.policy_calls, 0);

	/* The bearer token needs no CSRF token (a browser never adds it by itself): the change is "api". */
	r = req_make("PUT", "/api/v1/connectors/2/maxAmps", false);
	req_body(&r, "{\"maxAmps\": null}");
	r.authorization = BEARER;
	assert_int_equal(call(c, &r, &a), 200);
	assert_settings_answer(&a);
	assert_int_equal(c->f.max_calls, 1);
	assert_int_equal(c->f.connector, 2);
	assert_int_equal(c->f.amps, -1);
	assert_string_equal(c->f.by, "api");
	answer_free(&a);
	/* ... "api" even with the CSRF token beside it, and on loopback, and for the policy. */
	r = req_change(c, "POST", "/api/v1/settings/policy", true, "{\"mode\": \"off\"}");
	r.authorization = "bearer " TOKEN; /* the scheme is case-insensitive */
	assert_int_equal(call(c, &r, &a), 200);
	assert_string_equal(c->f.by, "api");
	answer_free(&a);

	/* authRead true: every read needs credentials beyond loopback; the bearer token is enough. */
	ctx_open(c, PASSWORD_HASH, TOKEN, true);
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		r = req_make("GET", reads[i], false);
		call(c, &r, &a);
		assert_error(&a, 401, NULL);
		assert_header(&a, "WWW-Authenticate", "Bearer realm=\"twcgw\"");
		answer_free(&a);
		r.authorization = BEARER;
		assert_int_equal(call(c, &r, &a), 200);
		assert_no_header(&a, "WWW-Authenticate");
		answer_free(&a);
	}
	/* Nothing is told about what exists before the credentials: an unknown API path is 401 too. */
	r = req_make("GET", "/api/v1/nope", false);
	expect_error(c, &r, 401, NULL);
	r.authorization = BEARER;
	expect_error(c, &r, 404, NULL);
}

/* A login: the cookie, the session it opens (still with the CSRF token), logout, expiry, Secure. */
static void test_login_session_logout(void **state)
{
	struct ctx *c = *state;
	struct gw_httpd_req r;
	struct answer a;
	char set[256], cookie[128];
	static const char attrs[] = "; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200";
	size_t pre = strlen(GW_AUTH_COOKIE "=");

	ctx_open(c, PASSWORD_HASH, TOKEN, true);
	/* The login form's request: the CSRF token, no credentials. */
	r = req_change(c, "POST", "/api/v1/login", false, "{\"password\": \"" PASSWORD "\"}");
	r.origin = "http://gw.lan:8080";
	assert_int_equal(call(c, &r, &a), 200);
	assert_true(json_is_true(json_object_get(a.json, "ok")));
	assert_true(header_of(&a, "Set-Cookie", set, sizeof(set)));
	assert_int_equal(strncmp(set, GW_AUTH_COOKIE "=", pre), 0);
	assert_true(strlen(set) > pre + GW_AUTH_ID_LEN);
	assert_int_equal(strspn(set + pre, "0123456789abcdef"), GW_AUTH_ID_LEN);
	assert_string_equal(set + pre + GW_AUTH_ID_LEN, attrs); /* no Secure over plain HTTP */
	answer_free(&a);
	snprintf(cookie, sizeof(cookie), "theme=dark; %.*s", (int)(pre + GW_AUTH_ID_LEN), set);

	/* The session reads ... */
	r = req_make("GET", "/api/v1/status", false);
	r.cookie = cookie;
	assert_int_equal(call(c, &r, &a), 200);
	answer_free(&a);
	r = req_make("GET", "/api/v1/session", false);
	r.cookie = cookie;
	assert_int_equal(call(c, &r, &a), 200);
	assert_true(json_is_true(json_object_get(a.json, "authenticated")));
	answer_free(&a);
	/* ... and steers, but a cookie is sent whoever made the page: the CSRF token is still needed. */
	r = req_change(c, "PUT", "/api/v1/settings/policy", false, "{\"mode\": \"off\"}");
	r.cookie = cookie;
	r.csrf = "";
	expect_error(c, &r, 403, NULL);
	r.csrf = gw_auth_csrf(c->auth);
	r.origin = "http://evil.example";
	expect_error(c, &r, 403, NULL);
	assert_int_equal(c->f.policy_calls, 0);
	r.origin = "http://gw.lan:8080";
	assert_int_equal(call(c, &r, &a), 200);
	assert_int_equal(c->f.policy_calls, 1);
	assert_string_equal(c->f.by, "page");
	answer_free(&a);

	/* Logout (CSRF token too) ends it and clears the cookie. */
	r = req_change(c, "POST", "/api/v1/logout", false, "{}");
	r.cookie = cookie;
	r.csrf = "";
	expect_error(c, &r, 403, NULL);
	r.csrf = gw_auth_csrf(c->auth);
	assert_int_equal(call(c, &r, &a), 200);
	assert_true(json_is_true(json_object_get(a.json, "ok")));
	assert_header(&a, "Set-Cookie", GW_AUTH_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	answer_free(&a);
	r = req_make("GET", "/api/v1/status", false);
	r.cookie = cookie;
	expect_error(c, &r, 401, NULL);
	r = req_change(c, "PUT", "/api/v1/settings/policy", false, "{\"mode\": \"off\"}");
	r.cookie = cookie;
	expect_error(c, &r, 401, NULL);
	assert_int_equal(c->f.policy_calls, 1);

	/* Over TLS the cookie is Secure; a session unused for 12 hours is over (the api's clock). */
	r = req_change(c, "POST", "/api/v1/login", false, "{\"password\": \"" PASSWORD "\"}");
	r.tls = true;
	assert_int_equal(call(c, &r, &a), 200);
	assert_true(header_of(&a, "Set-Cookie", set, sizeof(set)));
	assert_true(strlen(set) > pre + GW_AUTH_ID_LEN);
	assert_string_equal(set + pre + GW_AUTH_ID_LEN,
			    "; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure");
	answer_free(&a);
	snprintf(cookie, sizeof(cookie), "%.*s", (int)(pre + GW_AUTH_ID_LEN), set);
	c->f.now_ms += 12 * HOUR_MS - 1;
	r = req_make("GET", "/api/v1/status", false);
	r.tls = true;
	r.cookie = cookie;
	assert_int_equal(call(c, &r, &a), 200); /* used: 12 more hours from now */
	answer_free(&a);
	c->f.now_ms += 12 * HOUR_MS - 1;
	assert_int_equal(call(c, &r, &a), 200);
	answer_free(&a);
	c->f.now_ms += 12 * HOUR_MS;
	expect_error(c, &r, 401, NULL);
}

/* Wrong passwords: 401 each, the sixth try within the minute is 429 even if right, then it opens. */
static void test_login_wrong_and_lockout(void **state)
{
	struct ctx *c = *state;
	struct gw_httpd_req r;
	struct answer a;
	char v[256];

	for (int i = 0; i < 5; i++) {
		r = req_change(c, "POST", "/api/v1/login", false, "{\"password\": \"not-the-password\"}");
		call(c, &r, &a);
		assert_error(&a, 401, "password");
		assert_false(header_of(&a, "Set-Cookie", v, sizeof(v)));
		assert_no_header(&a, "WWW-Authenticate");
		answer_free(&a);
		c->f.now_ms += 1000;
	}
	r = req_change(c, "POST", "/api/v1/login", false, "{\"password\": \"" PASSWORD "\"}");
	call(c, &r, &a);
	assert_error(&a, 429, NULL);
	assert_header(&a, "Retry-After", "60");
	assert_false(header_of(&a, "Set-Cookie", v, sizeof(v)));
	answer_free(&a);
	/* The bearer token keeps working meanwhile. */
	{
		struct gw_httpd_req rb = req_make("PUT", "/api/v1/connectors/1/maxAmps", false);

		req_body(&rb, "{\"maxAmps\": 6}");
		rb.authorization = BEARER;
		assert_int_equal(call(c, &rb, &a), 200);
		answer_free(&a);
	}
	c->f.now_ms += 60000;
	assert_int_equal(call(c, &r, &a), 200);
	assert_true(header_of(&a, "Set-Cookie", v, sizeof(v)));
	answer_free(&a);
}

static void test_login_bodies(void **state)
{
	struct ctx *c = *state;
	struct gw_httpd_req r;
	static const struct {
		const char *body, *field;
	} bad[] = {
		{ "{}", "password" },
		{ "{\"password\": 12345678}", "password" },
		{ "{\"password\": null}", "password" },
		{ "{\"password\": [\"" PASSWORD "\"]}", "password" },
		{ "{\"password\": \"" PASSWORD "\", \"user\": \"admin\"}", "user" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = req_change(c, "POST", "/api/v1/login", false, bad[i].body);
		expect_error(c, &r, 400, bad[i].field);
	}
	r = req_change(c, "POST", "/api/v1/login", false, "{\"password\": \"" PASSWORD "\"}");
	r.content_type = "application/x-www-form-urlencoded";
	expect_error(c, &r, 415, NULL);

	/* No password configured: there is nothing to log in to. */
	ctx_open(c, "", TOKEN, false);
	r = req_change(c, "POST", "/api/v1/login", false, "{\"password\": \"" PASSWORD "\"}");
	expect_error(c, &r, 404, NULL);
}

/* ---- bodies ---- */

static void test_body_content_type(void **state)
{
	struct ctx *c = *state;
	static const char *const refused[] = { "", "text/plain", "application/jsonp", "application/json-patch+json",
					       "application/x-www-form-urlencoded", "application/jso",
					       "multipart/form-data; boundary=x", "text/json" };
	static const char *const accepted[] = { "application/json", "application/json; charset=utf-8",
						"Application/JSON", "application/json;charset=UTF-8" };
	struct gw_httpd_req r;
	struct answer a;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"mode\": \"off\"}");
		r.content_type = refused[i];
		expect_error(c, &r, 415, NULL);
	}
	assert_int_equal(c->f.policy_calls, 0);
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"mode\": \"off\"}");
		r.content_type = accepted[i];
		assert_int_equal(call(c, &r, &a), 200);
		answer_free(&a);
	}
	assert_int_equal(c->f.policy_calls, 4);
}

static void test_body_not_json(void **state)
{
	struct ctx *c = *state;
	struct gw_httpd_req r;
	struct answer a;
	/* jansson itself refuses a scalar at the top (no JSON_DECODE_ANY): "not valid JSON" for those. */
	static const char *const scalars[] = { "\"off\"", "1", "null", "true" };
	static const char *const not_object[] = { "[]", "[{\"mode\": \"off\"}]" };

	/* Invalid JSON names where: line and column. */
	r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\n  \"mode\": off\n}");
	call(c, &r, &a);
	assert_error(&a, 400, NULL);
	assert_non_null(strstr(jstr(a.json, "error"), "not valid JSON"));
	assert_non_null(strstr(jstr(a.json, "error"), "line 2, column"));
	answer_free(&a);
	r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"mode\": \"off\"");
	call(c, &r, &a);
	assert_error(&a, 400, NULL);
	assert_non_null(strstr(jstr(a.json, "error"), "line 1, column"));
	answer_free(&a);
	{
		static const char *const broken[] = { "", "{", "{\"mode\": \"off\"}}", "{\"mode\": \"off\",}",
						      "{\"mode\": \"off\", \"mode\": \"on\"}" /* a duplicate */ };

		for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
			r = req_change(c, "PUT", "/api/v1/settings/policy", true, broken[i]);
			expect_error(c, &r, 400, NULL);
		}
	}
	/* A NUL inside the body (body_len counts it): not the object before it. */
	r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"mode\": \"off\"}");
	r.body = "{\"mode\": \"off\"}\0{}";
	r.body_len = 18;
	expect_error(c, &r, 400, NULL);
	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		r = req_change(c, "PUT", "/api/v1/connectors/1/maxAmps", true, scalars[i]);
		expect_error(c, &r, 400, NULL);
	}
	for (size_t i = 0; i < sizeof(not_object) / sizeof(not_object[0]); i++) {
		r = req_change(c, "PUT", "/api/v1/connectors/1/maxAmps", true, not_object[i]);
		call(c, &r, &a);
		assert_error(&a, 400, NULL);
		assert_string_equal(jstr(a.json, "error"), "body: must be a JSON object");
		answer_free(&a);
	}
	assert_int_equal(c->f.policy_calls + c->f.max_calls, 0);
}

static void test_body_unknown_member(void **state)
{
	struct ctx *c = *state;
	struct gw_httpd_req r;
	struct answer a;
	char long_key[160], body[256], want[64];

	r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"mode\": \"off\", \"mdoe\": \"off\"}");
	call(c, &r, &a);
	assert_error(&a, 400, "mdoe");
	assert_string_equal(jstr(a.json, "error"), "mdoe: unknown field");
	answer_free(&a);
	r = req_change(c, "PUT", "/api/v1/connectors/1/maxAmps", true, "{\"maxAmps\": 10, \"amps\": 10}");
	expect_error(c, &r, 400, "amps");
	/* Control characters and bytes beyond ASCII in the name do not come back as they are. */
	r = req_change(c, "PUT", "/api/v1/settings/policy", true,
		       "{\"a\\u0001b\\r\\nSet-Cookie: x\\u001b[31m\\u007f\\u00e9\": 1}");
	call(c, &r, &a);
	assert_error(&a, 400, "a?b??Set-Cookie: x?[31m???");
	for (size_t i = 0; i < a.len; i++)
		assert_true((unsigned char)a.text[i] >= 0x20 && (unsigned char)a.text[i] < 0x7f);
	assert_false(mem_has(a.resp.headers, strlen(a.resp.headers), "Set-Cookie"));
	answer_free(&a);
	/* A long name comes back cut short. */
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	snprintf(body, sizeof(body), "{\"%s\": 1}", long_key);
	snprintf(want, sizeof(want), "%.63s", long_key);
	r = req_change(c, "PUT", "/api/v1/settings/policy", true, body);
	expect_error(c, &r, 400, want);
	assert_int_equal(c->f.policy_calls + c->f.max_calls, 0);
}

/* ---- the policy ---- */

static void test_policy_put(void **state)
{
	struct ctx *c = *state;
	struct gw_httpd_req r;
	struct answer a;
	const char *body = "{\"mode\": \"charge-now\", \"until\": \"2026-12-07T18:00:00Z\", \"then\": \"track-green\"}";
	json_t *want = json_loads(body, 0, NULL);

	r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{}");
	call(c, &r, &a);
	assert_error(&a, 400, "mode");
	answer_free(&a);
	assert_int_equal(c->f.policy_calls, 0);

	r = req_change(c, "PUT", "/api/v1/settings/policy", true, body);
	assert_int_equal(call(c, &r, &a), 200);
	assert_settings_answer(&a);
	assert_header(&a, "Cache-Control", "no-store");
	assert_int_equal(c->f.policy_calls, 1);
	assert_true(json_equal(c->f.policy, want));
	assert_string_equal(c->f.by, "page");
	answer_free(&a);
	json_decref(want);

	/* A schedule alone is a policy too: the members are passed as they are. */
	r = req_change(c, "POST", "/api/v1/settings/policy", true,
		       "{\"schedule\": [{\"days\": \"mon-fri\", \"start\": \"22:00\", \"end\": \"06:00\", \"amps\": 16}]}");
	assert_int_equal(call(c, &r, &a), 200);
	assert_int_equal(c->f.policy_calls, 2);
	assert_int_equal(json_object_size(c->f.policy), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(c->f.policy, "schedule"), 0),
							    "amps")),
			 16);
	answer_free(&a);
}

static void test_policy_errors(void **state)
{
	struct ctx *c = *state;
	struct gw_httpd_req r;
	struct answer a;

	/* The checker's words come back whole, the field named from them. */
	c->f.policy_rc = -EINVAL;
	c->f.policy_err = "config: policy.until: must be an ISO 8601 time (got \"tomorrow\")";
	r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"mode\": \"charge-now\", \"until\": \"tomorrow\"}");
	call(c, &r, &a);
	assert_error(&a, 400, "until");
	assert_string_equal(jstr(a.json, "error"), c->f.policy_err);
	answer_free(&a);
	c->f.policy_err = "policy.mode: must be one of off, charge-now";
	expect_error(c, &r, 400, "mode");
	/* Another errno is the gateway's fault, not the request's. */
	c->f.policy_rc = -EIO;
	c->f.policy_err = "config: policy.until: cannot be read back";
	call(c, &r, &a);
	assert_error(&a, 500, "until");
	assert_string_equal(jstr(a.json, "error"), c->f.policy_err);
	answer_free(&a);
	assert_int_equal(c->f.settings_calls, 0); /* no settings answer after a failure */
}

/*
 * An error that names no policy key carries no "field": gw_control's words for a full disk ("cannot
 * store <dataDir>/settings.json: ...") and gw_web's "no controls here". This test found them coming
 * back as {"field": "cannot"} and {"field": "no"}; fixed in field_of().
 */
static void test_policy_error_without_key_has_no_field(void **state)
{
	struct ctx *c = *state;
	struct gw_httpd_req r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"mode\": \"off\"}");

	c->f.policy_rc = -ENOSPC;
	c->f.policy_err = "cannot store /var/lib/twcgw/settings.json: No space left on device; nothing changed";
	expect_error(c, &r, 500, NULL);
	c->f.policy_rc = -ENOTSUP;
	c->f.policy_err = "no controls here";
	expect_error(c, &r, 500, NULL);
}

/* ---- the maximum per connector ---- */

static void test_max_amps_values(void **state)
{
	struct ctx *c = *state;
	static const struct {
		const char *body;
		int amps;
	} good[] = {
		{ "{\"maxAmps\": null}", -1 }, { "{\"maxAmps\": 10}", 10 }, { "{\"maxAmps\": 0}", 0 },
		{ "{\"maxAmps\": 1000}", 1000 },
	};
	static const char *const bad[] = {
		"{\"maxAmps\": \"10\"}", "{\"maxAmps\": -1}",    "{\"maxAmps\": 1001}",
		"{\"maxAmps\": 1.5}",    "{\"maxAmps\": 10.0}",  "{\"maxAmps\": true}",
		"{\"maxAmps\": {}}",     "{\"maxAmps\": [10]}",  "{\"maxAmps\": 4294967306}",
		"{}",
	};
	struct gw_httpd_req r;
	struct answer a;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		r = req_change(c, "PUT", "/api/v1/connectors/1/maxAmps", true, good[i].body);
		c->f.amps = -99;
		assert_int_equal(call(c, &r, &a), 200);
		assert_settings_answer(&a);
		assert_int_equal(c->f.amps, good[i].amps);
		assert_int_equal(c->f.connector, 1);
		answer_free(&a);
	}
	assert_int_equal(c->f.max_calls, 4);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = req_change(c, "PUT", "/api/v1/connectors/1/maxAmps", true, bad[i]);
		expect_error(c, &r, 400, "maxAmps");
	}
	assert_int_equal(c->f.max_calls, 4);
	/* POST does the same as PUT. */
	r = req_change(c, "POST", "/api/v1/connectors/1/maxAmps", true, "{\"maxAmps\": 7}");
	assert_int_equal(call(c, &r, &a), 200);
	assert_int_equal(c->f.amps, 7);
	answer_free(&a);
}

/*
 * The connector in the path: 1 to 99 in at most three digits; anything else is no route (404, the
 * gateway never asked). Leading zeros are taken ("01", "001" are connector 1): the same number, so
 * harmless, just not canonical.
 */
static void test_max_amps_connector_path(void **state)
{
	struct ctx *c = *state;
	static const struct {
		const char *path;
		int connector; /* 0: 404 without a call */
	} cases[] = {
		{ "/api/v1/connectors/1/maxAmps", 1 },     { "/api/v1/connectors/2/maxAmps", 2 },
		{ "/api/v1/connectors/99/maxAmps", 99 },   { "/api/v1/connectors/01/maxAmps", 1 },
		{ "/api/v1/connectors/001/maxAmps", 1 },   { "/api/v1/connectors/0/maxAmps", 0 },
		{ "/api/v1/connectors/00/maxAmps", 0 },    { "/api/v1/connectors/100/maxAmps", 0 },
		{ "/api/v1/connectors/0001/maxAmps", 0 },  { "/api/v1/connectors/1x/maxAmps", 0 },
		{ "/api/v1/connectors/x1/maxAmps", 0 },    { "/api/v1/connectors/-1/maxAmps", 0 },
		{ "/api/v1/connectors/+1/maxAmps", 0 },    { "/api/v1/connectors/ 1/maxAmps", 0 },
		{ "/api/v1/connectors//maxAmps", 0 },      { "/api/v1/connectors/1/maxAmps/", 0 },
		{ "/api/v1/connectors/1/maxAmpsx", 0 },    { "/api/v1/connectors/1", 0 },
		{ "/api/v1/connectors/%31/maxAmps", 0 },   { "/api/v1/connectors/1/maxamps", 0 },
		{ "/api/v1/connectors/99999999999/maxAmps", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gw_httpd_req r = req_change(c, "PUT", cases[i].path, true, "{\"maxAmps\": 8}");
		struct answer a;
		int before = c->f.max_calls;

		call(c, &r, &a);
		if (cases[i].connector) {
			if (a.resp.status != 200)
				fail_msg("%s: %d", cases[i].path, a.resp.status);
			assert_int_equal(c->f.max_calls, before + 1);
			assert_int_equal(c->f.connector, cases[i].connector);
		} else {
			if (a.resp.status != 404)
				fail_msg("%s: %d", cases[i].path, a.resp.status);
			assert_error(&a, 404, NULL);
			assert_int_equal(c->f.max_calls, before);
		}
		answer_free(&a);
	}
}

static void test_max_amps_errors(void **state)
{
	struct ctx *c = *state;
	struct gw_httpd_req r = req_change(c, "PUT", "/api/v1/connectors/3/maxAmps", true, "{\"maxAmps\": 40}");
	struct answer a;

	c->f.max_rc = -ENOENT;
	c->f.max_err = "no connector 3 on the bus now";
	call(c, &r, &a);
	assert_error(&a, 404, NULL);
	assert_string_equal(jstr(a.json, "error"), "no such connector");
	assert_int_equal(c->f.connector, 3);
	answer_free(&a);
	/* -ENOENT needs no words from the gateway. */
	c->f.max_err = NULL;
	expect_error(c, &r, 404, NULL);

	c->f.max_rc = -ERANGE;
	c->f.max_err = "maxAmps: must be 0 to 32 (twc.wiringMaxAmpsPerTWC), or cleared (got 40)";
	call(c, &r, &a);
	assert_error(&a, 400, "maxAmps");
	assert_string_equal(jstr(a.json, "error"), c->f.max_err);
	answer_free(&a);
	c->f.max_rc = -EINVAL;
	expect_error(c, &r, 400, "maxAmps");
	c->f.max_rc = -EIO;
	c->f.max_err = "cannot store /var/lib/twcgw/settings.json: Input/output error; nothing changed";
	call(c, &r, &a);
	assert_error(&a, 500, NULL);
	assert_string_equal(jstr(a.json, "error"), c->f.max_err);
	answer_free(&a);
	assert_int_equal(c->f.settings_calls, 0);
}

/* ---- queries ---- */

static void test_history_query(void **state)
{
	struct ctx *c = *state;
	static const struct {
		const char *query;
		int64_t since;
	} good[] = {
		{ "since=123", 123 },
		{ "since=0", 0 },
		{ "%73ince=5", 5 },         /* the name is decoded too */
		{ "since=%31%32", 12 },
		{ "since=007", 7 },
		{ "since=5&since=7", 7 },   /* the last one counts */
		{ "since=9&", 9 },
		{ "&since=9", 9 },
		{ "since=9223372036854775", 9223372036854775LL }, /* INT64_MAX / 1000: its ms still fit */
		/* Empty, or a bare name, is no since: everything (as without the parameter). */
		{ "since=", 0 },
		{ "since", 0 },
		{ "", 0 },
	};
	static const struct {
		const char *query, *field; /* field NULL: the answer names none */
	} bad[] = {
		{ "since=-1", "since" },
		{ "since=abc", "since" },
		{ "since=1.5", "since" },
		{ "since=+5", "since" },
		{ "since=%205", "since" },
		{ "since=5%20", "since" },
		{ "since=1+2", "since" },   /* '+' is a space */
		{ "since=0x10", "since" },
		{ "since=9223372036854776", "since" },
		{ "since=99999999999999999999", "since" },
		{ "since=123456789012345678901234567890123", "since" }, /* longer than the value buffer */
		{ "since=%G1", "since" },
		{ "since=%1G", "since" },
		{ "since=5%", "since" },
		{ "since=5%3", "since" },
		{ "since=%00", "since" },
		{ "since=1&x=2", "x" },
		{ "x=2&since=1", "x" },
		{ "Since=1", "Since" },
		{ "since=1&since%3D2", "since=2" },
		{ "%01=1", "?" },            /* a control character in the name is not sent back */
		{ "%", NULL },
		{ "%G1=1", NULL },
		{ "%00=1", NULL },
		{ "sin%c=1", NULL },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1", NULL }, /* a name too long to be one we know */
	};
	struct gw_httpd_req r = req_make("GET", "/api/v1/history", true);
	struct answer a;
	int calls;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		r.query = good[i].query;
		c->f.since = -99;
		call(c, &r, &a);
		if (a.resp.status != 200)
			fail_msg("?%s: %d %.*s", good[i].query, a.resp.status, (int)a.len, a.text);
		assert_int_equal(c->f.since, good[i].since);
		answer_free(&a);
	}
	calls = c->f.history_calls;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.query = bad[i].query;
		expect_error(c, &r, 400, bad[i].field);
	}
	assert_int_equal(c->f.history_calls, calls);
	r.query = "since=1&x=2";
	call(c, &r, &a);
	assert_string_equal(jstr(a.json, "error"), "x: unknown query parameter");
	answer_free(&a);
}

/* ---- secrets ---- */

/*
 * The 400 for invalid JSON gives line and column only. This test found it carrying jansson's error
 * text, which quotes up to 20 bytes of the body: a login body cut short sent the password back. Its
 * answers stay out of the collection below, so that this finding fails this one test.
 */
/* Several charge points: a chargePoint member (or query parameter) picks whose controls a request
 * uses, only for that request; unknown ones are 404, bad ones 400; without the select op, 404. */
static void test_charge_point_selected(void **state)
{
	struct ctx *c = *state;
	struct gw_httpd_req r;
	struct answer a;

	/* A gateway of one charge point (no select op) knows no other. */
	r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"mode\": \"off\", \"chargePoint\": \"DEPOT-2\"}");
	call(c, &r, &a);
	assert_error(&a, 404, "chargePoint");
	answer_free(&a);
	assert_int_equal(c->f.policy_calls, 0);

	c->ops.select = fake_select;
	ctx_open(c, PASSWORD_HASH, TOKEN, false);
	r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"mode\": \"off\", \"chargePoint\": \"DEPOT-2\"}");
	assert_int_equal(call(c, &r, &a), 200);
	assert_int_equal(c->f.policy_calls, 1);
	assert_string_equal(c->f.at_change, "DEPOT-2");
	assert_int_equal(json_object_size(c->f.policy), 1); /* chargePoint is not part of the policy */
	assert_string_equal(jstr(c->f.policy, "mode"), "off");
	assert_string_equal(c->f.selected, ""); /* back to the first */
	answer_free(&a);

	/* Without the member: the first. */
	r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"mode\": \"charge-now\"}");
	assert_int_equal(call(c, &r, &a), 200);
	assert_string_equal(c->f.at_change, "");
	answer_free(&a);

	r = req_change(c, "PUT", "/api/v1/connectors/2/maxAmps", true, "{\"maxAmps\": 10, \"chargePoint\": \"DEPOT-2\"}");
	assert_int_equal(call(c, &r, &a), 200);
	assert_int_equal(c->f.connector, 2);
	assert_int_equal(c->f.amps, 10);
	assert_string_equal(c->f.at_change, "DEPOT-2");
	assert_string_equal(c->f.selected, "");
	answer_free(&a);

	r = req_make("GET", "/api/v1/settings", true);
	r.query = "chargePoint=DEPOT-2";
	assert_int_equal(call(c, &r, &a), 200);
	assert_settings_answer(&a);
	assert_string_equal(c->f.at_change, "DEPOT-2");
	assert_string_equal(c->f.selected, "");
	answer_free(&a);
	r.query = "chargePoint=DEPOT%2D1";
	assert_int_equal(call(c, &r, &a), 200);
	assert_string_equal(c->f.at_change, "");
	answer_free(&a);

	/* Unknown: 404 and nothing changed; not a string, or empty: 400. */
	c->f.policy_calls = c->f.max_calls = 0;
	r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"mode\": \"off\", \"chargePoint\": \"NOPE\"}");
	call(c, &r, &a);
	assert_error(&a, 404, "chargePoint");
	answer_free(&a);
	r = req_change(c, "PUT", "/api/v1/connectors/1/maxAmps", true, "{\"maxAmps\": 10, \"chargePoint\": \"NOPE\"}");
	call(c, &r, &a);
	assert_error(&a, 404, "chargePoint");
	answer_free(&a);
	r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"mode\": \"off\", \"chargePoint\": 2}");
	call(c, &r, &a);
	assert_error(&a, 400, "chargePoint");
	answer_free(&a);
	r = req_change(c, "PUT", "/api/v1/connectors/1/maxAmps", true, "{\"maxAmps\": 10, \"chargePoint\": \"\"}");
	call(c, &r, &a);
	assert_error(&a, 400, "chargePoint");
	answer_free(&a);
	/* Only a chargePoint is no policy. */
	r = req_change(c, "PUT", "/api/v1/settings/policy", true, "{\"chargePoint\": \"DEPOT-2\"}");
	call(c, &r, &a);
	assert_error(&a, 400, "mode");
	answer_free(&a);
	assert_int_equal(c->f.policy_calls, 0);
	assert_int_equal(c->f.max_calls, 0);
	r = req_make("GET", "/api/v1/settings", true);
	r.query = "chargePoint=NOPE";
	call(c, &r, &a);
	assert_error(&a, 404, "chargePoint");
	answer_free(&a);
	r.query = "other=1";
	call(c, &r, &a);
	assert_error(&a, 400, "other");
	answer_free(&a);
	assert_string_equal(c->f.selected, "");
}

static void test_invalid_json_does_not_echo_the_password(void **state)
{
	struct ctx *c = *state;
	static const char *const bodies[] = { "{\"password\": \"" PASSWORD, "{\"password\": \"" PASSWORD "\\u0001\"}",
					      "{\"password\": \"" PASSWORD "\x01\"}" };

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct gw_httpd_req r = req_change(c, "POST", "/api/v1/login", false, bodies[i]);
		struct gw_httpd_resp resp;
		const char *text;

		memset(&resp, 0, sizeof(resp));
		gw_api_handle(c->api, &r, &resp);
		live_add(resp.owned, NULL);
		text = resp.owned ? resp.owned : resp.body;
		assert_int_equal(resp.status, i == 1 ? 401 : 400); /* "\\u0001" is valid JSON: a wrong password */
		if (mem_has(text, resp.len, PASSWORD))
			fail_msg("the password came back: %.*s", (int)resp.len, text);
		live_drop(resp.owned, NULL, true);
	}
}

/*
 * Runs last: nothing any test above was answered (bodies and header lines) held the password, its
 * hash or the bearer token. No request above sent a secret where an answer could echo it back (see
 * the note on invalid JSON in the report: jansson's error text quotes up to 20 bytes of the body).
 */
static void test_secrets_never_answered(void **state)
{
	(void)state;
	assert_non_null(g_seen);
	assert_true(g_seen_len > 10000); /* the tests above did run through call() */
	assert_false(mem_has(g_seen, g_seen_len, PASSWORD));
	assert_false(mem_has(g_seen, g_seen_len, TOKEN));
	assert_false(mem_has(g_seen, g_seen_len, PASSWORD_HASH));
	assert_false(mem_has(g_seen, g_seen_len, "aLq42n5Vj")); /* the hash's own bytes */
	free(g_seen);
	g_seen = NULL;
	g_seen_len = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_assets_served_to_anyone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_settings_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_password_only_with_a_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_method_not_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback_change_needs_csrf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback_reads_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remote_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_session_logout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_wrong_and_lockout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_content_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_not_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_unknown_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_error_without_key_has_no_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_amps_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_amps_connector_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_amps_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_charge_point_selected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_json_does_not_echo_the_password, setup, teardown),
		cmocka_unit_test(test_secrets_never_answered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
