/*
 * Tests of the meter driver core, run in a fake environment: every HTTP request is recorded (method,
 * URL, body, content type, bearer) and answered by the test through ems_meter_http_done(), every
 * Modbus write is recorded byte for byte and answered with crafted responses, every log line is kept
 * and checked for the password and tokens, and time only moves by hand: ticks happen exactly when
 * ems_meter_next_deadline() says, and after each tick the next deadline must lie in the future (no
 * busy loop). Covered: Fronius polling, ages and staleness, night; backoff timing, its cap and the
 * one-WARN/DEBUG/one-INFO logging; 429/503; abandoned cycles; the Powerwall login, relogin and bad
 * credentials; Envoy bearer and 401; Home Assistant entities, units and unavailable; JSON pointers;
 * SolarEdge Modbus cycles, split and stray answers, exceptions, timeouts, garbage, lost and refused
 * connections; MQTT topics, staleness and bad payloads; ems_combine and ems_meter_gives.
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

#include "ems_meter.h"
#include "hex.h"

#define T0 1000000u
#define S(x) ((uint64_t)(x) * 1000u)
#define POLL S(10)
#define MAX_AGE S(30)

#define PASSWORD "pw-Secret-92741"
#define EMAIL "owner@example.com"
#define TOKEN "tok-ABCDEFG-123456789"     /* envoy JWT, HA token, json bearer */
#define SESSION1 "session-token-one-7777777"
#define SESSION2 "session-token-two-8888888"
#define SHORT_TOKEN "hA-tok-0123456" /* short enough for a parser to quote it back */

#define FRONIUS_BASE "http://fronius.local"
#define FRONIUS_URL FRONIUS_BASE "/solar_api/v1/GetPowerFlowRealtimeData.fcgi"
#define PW_BASE "https://powerwall.local"
#define PW_LOGIN PW_BASE "/api/login/Basic"
#define PW_AGG PW_BASE "/api/meters/aggregates"
#define PW_SOE PW_BASE "/api/system_status/soe"
#define ENVOY_BASE "https://envoy.local"
#define ENVOY_URL ENVOY_BASE "/production.json?details=1"
#define HA_BASE "http://ha.local:8123"

#define FRONIUS_BODY(grid, pv, load, akku, soc, code)                                                           \
	"{\"Body\":{\"Data\":{\"Site\":{\"Mode\":\"produce-only\",\"P_Grid\":" grid ",\"P_Load\":" load          \
	",\"P_Akku\":" akku ",\"P_PV\":" pv ",\"E_Day\":null},\"Inverters\":{\"1\":{\"DT\":1,\"P\":0" soc "}},"  \
	"\"Version\":\"12\"}},\"Head\":{\"RequestArguments\":{},\"Status\":{\"Code\":" code ",\"Reason\":\"\","  \
	"\"UserMessage\":\"\"},\"Timestamp\":\"2026-01-01T12:00:00+01:00\"}}"
#define FRONIUS_DAY FRONIUS_BODY("-1200.5", "2000.5", "-800", "null", ",\"SOC\":55", "0")

#define LOGIN_OK(tok) "{\"email\":\"" EMAIL "\",\"firstname\":\"Tesla\",\"lastname\":\"Energy\",\"roles\":[\"Home_Owner\"]," \
	"\"token\":\"" tok "\",\"provider\":\"Basic\",\"loginTime\":\"2026-01-01T12:00:00+01:00\"}"
#define LOGIN_401 "{\"code\":401,\"error\":\"bad credentials\",\"message\":\"Login Error\"}"
#define AGG "{\"site\":{\"instant_power\":-500,\"instant_average_voltage\":240.5},\"battery\":{\"instant_power\":300}," \
	"\"load\":{\"instant_power\":1500},\"solar\":{\"instant_power\":1700}}"
#define SOE "{\"percentage\":52.5}"

#define ENVOY_BODY "{\"production\":[{\"type\":\"inverters\",\"activeCount\":10,\"wNow\":1900}," \
	"{\"type\":\"eim\",\"activeCount\":1,\"measurementType\":\"production\",\"wNow\":2000,\"rmsVoltage\":239}]," \
	"\"consumption\":[{\"type\":\"eim\",\"activeCount\":1,\"measurementType\":\"total-consumption\",\"wNow\":900}," \
	"{\"type\":\"eim\",\"activeCount\":1,\"measurementType\":\"net-consumption\",\"wNow\":-1100}]}"

#define HA_STATE(entity, state, unit) "{\"entity_id\":\"" entity "\",\"state\":\"" state "\",\"attributes\":" \
	"{\"unit_of_measurement\":\"" unit "\",\"device_class\":\"power\"},\"last_changed\":\"2026-01-01T11:00:00Z\"}"

/* Every secret any test uses: none may ever appear in a log line. */
static const char *const secrets[] = { PASSWORD, TOKEN, SESSION1, SESSION2, SHORT_TOKEN };

/* ------------------------------------------------------------------ the fake environment */

struct rq {
	uint32_t id;
	char *method, *url, *body, *ctype, *bearer;
	bool answered;
	uint64_t at;
};

struct lg {
	int level;
	char *msg;
};

struct mbw {
	uint8_t b[64];
	size_t n;
	uint64_t at;
};

struct fake {
	struct ems_meter *m;
	struct ems_meter_params p;
	uint64_t now;
	struct rq *rq;
	int n_rq, cap_rq;
	struct lg *lg;
	int n_lg, cap_lg;
	struct mbw mb[64];
	int n_mb;
	int http_rc, mb_rc, resets;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int env_http(void *user, const struct ems_meter_http_req *r)
{
	struct fake *f = user;
	struct rq *q;

	/* one request at a time */
	for (int i = 0; i < f->n_rq; i++)
		assert_true(f->rq[i].answered);
	assert_non_null(r->method);
	assert_non_null(r->url);
	assert_true(!strcmp(r->method, "GET") || !strcmp(r->method, "POST"));
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
	q->ctype = dup_or_null(r->content_type);
	q->bearer = dup_or_null(r->bearer);
	q->at = f->now;
	q->answered = f->http_rc != 0; /* a refused start has no answer to wait for */
	return f->http_rc;
}

static int env_modbus_write(void *user, const uint8_t *bytes, size_t len)
{
	struct fake *f = user;

	assert_true(len <= sizeof(f->mb[0].b));
	assert_true(f->n_mb < (int)(sizeof(f->mb) / sizeof(f->mb[0])));
	memcpy(f->mb[f->n_mb].b, bytes, len);
	f->mb[f->n_mb].n = len;
	f->mb[f->n_mb].at = f->now;
	f->n_mb++;
	return f->mb_rc;
}

static void env_modbus_reset(void *user)
{
	struct fake *f = user;

	f->resets++;
}

static void env_log(void *user, enum core_log_level level, const char *msg)
{
	struct fake *f = user;

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (strstr(msg, secrets[i]))
			fail_msg("a secret in a log line: %s", msg);
	if (strstr(msg, "\"password\"") || strstr(msg, "key=abc"))
		fail_msg("a login body or query string in a log line: %s", msg);
	assert_true(level >= CORE_LOG_ERROR && level <= CORE_LOG_DEBUG);
	assert_null(strchr(msg, '\n'));
	if (f->n_lg == f->cap_lg) {
		f->cap_lg = f->cap_lg ? f->cap_lg * 2 : 64;
		f->lg = realloc(f->lg, (size_t)f->cap_lg * sizeof(*f->lg));
		assert_non_null(f->lg);
	}
	f->lg[f->n_lg].level = (int)level;
	f->lg[f->n_lg].msg = strdup(msg);
	f->n_lg++;
}

static const struct ems_meter_env fake_env_tmpl = {
	.http = env_http, .modbus_write = env_modbus_write, .modbus_reset = env_modbus_reset, .log = env_log,
};

static void fk_stop(struct fake *f)
{
	ems_meter_free(f->m);
	f->m = NULL;
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->now = T0;
	f->p.type = EMS_METER_FRONIUS;
	f->p.name = "ems[0] test";
	f->p.url = FRONIUS_BASE "/";
	f->p.poll_ms = POLL;
	f->p.max_age_ms = MAX_AGE;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	fk_stop(f);
	for (int i = 0; i < f->n_rq; i++) {
		free(f->rq[i].method);
		free(f->rq[i].url);
		free(f->rq[i].body);
		free(f->rq[i].ctype);
		free(f->rq[i].bearer);
	}
	free(f->rq);
	for (int i = 0; i < f->n_lg; i++)
		free(f->lg[i].msg);
	free(f->lg);
	free(f);
	return 0;
}

static void fk_start(struct fake *f)
{
	struct ems_meter_env env = fake_env_tmpl;

	env.user = f;
	f->m = ems_meter_new(&f->p, &env, f->now);
	assert_non_null(f->m);
	/* the first poll is due at once */
	assert_true(ems_meter_next_deadline(f->m) == (f->p.type == EMS_METER_MQTT ? UINT64_MAX : f->now));
}

static bool fk_rejects(struct fake *f, const struct ems_meter_params *p)
{
	struct ems_meter_env env = fake_env_tmpl;
	struct ems_meter *m;

	env.user = f;
	m = ems_meter_new(p, &env, f->now);
	ems_meter_free(m);
	return m == NULL;
}

static void no_busy_loop(struct fake *f)
{
	assert_true(ems_meter_next_deadline(f->m) > f->now);
}

static void tick(struct fake *f)
{
	ems_meter_tick(f->m, f->now);
	no_busy_loop(f);
}

/* Let time pass to @target, ticking at every deadline on the way. */
static void tick_to(struct fake *f, uint64_t target)
{
	for (int guard = 0; guard < 100000; guard++) {
		uint64_t d = ems_meter_next_deadline(f->m);

		if (d > target)
			break;
		if (d > f->now)
			f->now = d;
		tick(f);
	}
	assert_true(target >= f->now);
	f->now = target;
	tick(f);
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

static void reply(struct fake *f, int status, const char *body)
{
	struct rq *r = pending(f);

	assert_non_null(r);
	r->answered = true;
	ems_meter_http_done(f->m, r->id, status, body, body ? strlen(body) : 0, f->now);
}

/* Expect @method @url now and answer it; the request is returned (copied; strings borrowed). */
static struct rq expect_reply(struct fake *f, const char *method, const char *url, int status, const char *body)
{
	struct rq copy = *expect(f, method, url);

	reply(f, status, body);
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

static int count_level(const struct fake *f, int level)
{
	return count_logs(f, level, "");
}

static double rd(struct fake *f, enum ems_value v)
{
	struct ems_reading r;

	ems_meter_reading(f->m, f->now, &r);
	return r.v[v];
}

static struct ems_meter_stats stats(struct fake *f)
{
	struct ems_meter_stats s;

	ems_meter_stats(f->m, &s);
	return s;
}

static void set_src(struct ems_meter_params *p, enum ems_value v, const char *key, const char *pointer, double scale,
		    bool invert)
{
	p->src[v].set = true;
	snprintf(p->src[v].key, sizeof(p->src[v].key), "%s", key);
	snprintf(p->src[v].pointer, sizeof(p->src[v].pointer), "%s", pointer ? pointer : "");
	p->src[v].scale = scale;
	p->src[v].invert = invert;
}

/* One Fronius cycle answered with @status and @body at the current time. */
static void fronius_cycle(struct fake *f, int status, const char *body)
{
	tick(f);
	expect_reply(f, "GET", FRONIUS_URL, status, body);
	no_busy_loop(f);
}

/* ------------------------------------------------------------------ construction and names */

static void test_type_names(void **state)
{
	static const char *const names[] = { "fronius", "powerwall", "envoy", "solaredge-modbus", "homeassistant",
					     "json", "mqtt" };

	(void)state;
	for (int i = 0; i < 7; i++) {
		assert_string_equal(ems_meter_type_name((enum ems_meter_type)i), names[i]);
		assert_int_equal(ems_meter_type_from_name(names[i]), i);
	}
	assert_null(ems_meter_type_name((enum ems_meter_type)7));
	assert_int_equal(ems_meter_type_from_name("solaredge"), -1);
	assert_int_equal(ems_meter_type_from_name(NULL), -1);
	ems_meter_free(NULL);
}

static void test_new_validates(void **state)
{
	struct fake *f = *state;
	struct ems_meter_env env = fake_env_tmpl;
	struct ems_meter_params p = f->p;

	env.user = f;
	assert_null(ems_meter_new(NULL, &env, f->now));
	assert_null(ems_meter_new(&p, NULL, f->now));
	assert_false(fk_rejects(f, &p));
	p.url = NULL;
	assert_true(fk_rejects(f, &p));
	p.url = "";
	assert_true(fk_rejects(f, &p));
	p.url = "/";
	assert_true(fk_rejects(f, &p));
	p = f->p;
	p.poll_ms = 0;
	assert_true(fk_rejects(f, &p));
	p = f->p;
	p.max_age_ms = 0;
	assert_true(fk_rejects(f, &p));
	p = f->p;
	p.type = (enum ems_meter_type)7;
	assert_true(fk_rejects(f, &p));
	/* every http type needs a url */
	for (int t = EMS_METER_POWERWALL; t <= EMS_METER_JSON; t++) {
		if (t == EMS_METER_SOLAREDGE)
			continue;
		p = f->p;
		p.type = (enum ems_meter_type)t;
		p.url = NULL;
		set_src(&p, EMS_GRID, t == EMS_METER_JSON ? "/grid" : "sensor.grid", NULL, 1, false);
		assert_true(fk_rejects(f, &p));
	}
	/* the told types need a source */
	p = f->p;
	p.type = EMS_METER_HASS;
	p.url = HA_BASE;
	assert_true(fk_rejects(f, &p));
	set_src(&p, EMS_GRID, "sensor.grid_power_2", NULL, 0, false);
	assert_false(fk_rejects(f, &p));
	/* entity ids: [a-z0-9_.] only */
	set_src(&p, EMS_PV, "sensor.PV", NULL, 0, false);
	assert_true(fk_rejects(f, &p));
	set_src(&p, EMS_PV, "sensor.pv/../../api/config", NULL, 0, false);
	assert_true(fk_rejects(f, &p));
	set_src(&p, EMS_PV, "sensor.pv?x=1", NULL, 0, false);
	assert_true(fk_rejects(f, &p));
	set_src(&p, EMS_PV, "sensor.pv power", NULL, 0, false);
	assert_true(fk_rejects(f, &p));
	set_src(&p, EMS_PV, "", NULL, 0, false);
	assert_true(fk_rejects(f, &p));
	set_src(&p, EMS_PV, "sensor.pv", NULL, NAN, false);
	assert_true(fk_rejects(f, &p));
	p = f->p;
	p.type = EMS_METER_JSON;
	p.url = "http://x.local/status";
	assert_true(fk_rejects(f, &p));
	set_src(&p, EMS_GRID, "grid", NULL, 1, false); /* not a pointer */
	assert_true(fk_rejects(f, &p));
	set_src(&p, EMS_GRID, "/grid", NULL, 1, false);
	assert_false(fk_rejects(f, &p));
	p = f->p;
	p.type = EMS_METER_MQTT;
	p.url = NULL;
	assert_true(fk_rejects(f, &p));
	set_src(&p, EMS_GRID, "meter/+/power", NULL, 1, false);
	assert_true(fk_rejects(f, &p));
	set_src(&p, EMS_GRID, "meter/power", "power", 1, false); /* pointer without '/' */
	assert_true(fk_rejects(f, &p));
	set_src(&p, EMS_GRID, "meter/power", "", 1, false);
	assert_false(fk_rejects(f, &p));
	/* solaredge: nothing else needed, but a meter 1..3 */
	p = f->p;
	p.type = EMS_METER_SOLAREDGE;
	p.url = NULL;
	assert_false(fk_rejects(f, &p));
	p.se_meter = 4;
	assert_true(fk_rejects(f, &p));
	p.se_meter = -1;
	assert_true(fk_rejects(f, &p));
	/* a token that cannot go into a header */
	p = f->p;
	p.type = EMS_METER_ENVOY;
	p.token = "abc\r\nX-Evil: 1";
	assert_true(fk_rejects(f, &p));
	/* the callbacks the type needs */
	p = f->p;
	env.http = NULL;
	assert_null(ems_meter_new(&p, &env, f->now));
	assert_int_equal(f->n_rq + f->n_mb + f->n_lg, 0);
}

/* ------------------------------------------------------------------ Fronius, schedule, values */

static void test_fronius_poll_and_reading(void **state)
{
	struct fake *f = *state;
	struct rq r;
	struct ems_meter_stats s;

	fk_start(f);
	assert_true(isnan(rd(f, EMS_GRID)));
	assert_true(ems_meter_age_ms(f->m, EMS_GRID, f->now) == UINT64_MAX);
	tick(f);
	r = expect_reply(f, "GET", FRONIUS_URL, 200, FRONIUS_DAY);
	assert_null(r.bearer);
	assert_null(r.body);
	assert_true(rd(f, EMS_GRID) == -1200.5);
	assert_true(rd(f, EMS_PV) == 2000.5);
	assert_true(rd(f, EMS_LOAD) == 800);
	assert_true(isnan(rd(f, EMS_BATTERY))); /* P_Akku null: no battery */
	assert_true(rd(f, EMS_SOC) == 55);
	assert_true(isnan(rd(f, EMS_VOLTAGE)));
	assert_true(ems_meter_next_deadline(f->m) == T0 + POLL);
	s = stats(f);
	assert_int_equal(s.polls, 1);
	assert_int_equal(s.ok, 1);
	assert_int_equal(s.failed, 0);
	assert_false(s.failing);

	/* nothing before the next slot */
	tick_to(f, T0 + POLL - 1);
	expect_none(f);
	assert_true(ems_meter_age_ms(f->m, EMS_GRID, f->now) == POLL - 1);
	tick_to(f, T0 + POLL);
	expect(f, "GET", FRONIUS_URL);
	/* a late answer does not move the grid: the next poll is due POLL after this one started */
	f->now += 2500;
	reply(f, 200, FRONIUS_BODY("100", "0", "-100", "null", "", "0"));
	assert_true(ems_meter_next_deadline(f->m) == T0 + 2 * POLL);
	assert_true(rd(f, EMS_GRID) == 100);
	assert_true(isnan(rd(f, EMS_SOC))); /* no SOC any more */
	assert_true(ems_meter_age_ms(f->m, EMS_GRID, f->now) == 0);

	/* the meter goes silent (every request fails): values age out after max_age */
	f->http_rc = -ECONNREFUSED;
	tick_to(f, T0 + POLL + 2500 + MAX_AGE);
	assert_true(rd(f, EMS_GRID) == 100);
	assert_true(ems_meter_age_ms(f->m, EMS_GRID, f->now) == MAX_AGE);
	tick_to(f, T0 + POLL + 2500 + MAX_AGE + 1);
	assert_true(isnan(rd(f, EMS_GRID)));
	assert_true(isnan(rd(f, EMS_PV)));
	assert_true(ems_meter_age_ms(f->m, EMS_GRID, f->now) == MAX_AGE + 1);
}

static void test_fronius_night(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	fronius_cycle(f, 200, FRONIUS_BODY("350", "null", "-350", "null", "", "0"));
	assert_true(rd(f, EMS_PV) == 0);
	assert_true(rd(f, EMS_GRID) == 350);
	assert_true(rd(f, EMS_LOAD) == 350);
	assert_true(isnan(rd(f, EMS_BATTERY)));
}

static void test_fronius_no_data_clears_at_once(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	fronius_cycle(f, 200, FRONIUS_DAY);
	assert_true(rd(f, EMS_PV) == 2000.5);
	f->now = T0 + POLL;
	fronius_cycle(f, 200, FRONIUS_BODY("1", "1", "1", "1", "", "8"));
	/* the device has no data: unknown now, not after max_age; not an error either */
	for (int v = 0; v < EMS_NVALUES; v++)
		assert_true(isnan(rd(f, (enum ems_value)v)));
	assert_false(stats(f).failing);
	assert_int_equal(count_level(f, CORE_LOG_WARN), 0);
	assert_true(ems_meter_next_deadline(f->m) == T0 + 2 * POLL);
	/* and back */
	f->now = T0 + 2 * POLL;
	fronius_cycle(f, 200, FRONIUS_DAY);
	assert_true(rd(f, EMS_PV) == 2000.5);
}

static void test_malformed_clears_and_backs_off(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	fronius_cycle(f, 200, FRONIUS_DAY);
	f->now = T0 + POLL;
	fronius_cycle(f, 200, "<html>oops</html>");
	for (int v = 0; v < EMS_NVALUES; v++)
		assert_true(isnan(rd(f, (enum ems_value)v)));
	assert_int_equal(stats(f).malformed, 1);
	assert_true(stats(f).failing);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "GET /solar_api/v1/GetPowerFlowRealtimeData.fcgi: malformed answer"),
			 1);
	assert_true(ems_meter_next_deadline(f->m) == T0 + POLL + 2 * POLL);
}

static void test_backoff_exact_capped_and_logged_once(void **state)
{
	struct fake *f = *state;
	static const uint64_t expect_delay[] = { S(20), S(40), S(80), S(160), S(300), S(300), S(300) };
	struct ems_meter_stats s;

	fk_start(f);
	fronius_cycle(f, 200, FRONIUS_DAY);
	f->now = T0 + POLL;
	for (size_t i = 0; i < sizeof(expect_delay) / sizeof(expect_delay[0]); i++) {
		uint64_t start = f->now;

		/* the failure is known a little after the request went */
		tick(f);
		f->now += 100;
		expect_reply(f, "GET", FRONIUS_URL, i == 2 ? -ETIMEDOUT : 500, "{\"error\":\"x\"}");
		assert_true(ems_meter_next_deadline(f->m) == start + 100 + expect_delay[i]);
		/* nothing in between */
		tick_to(f, start + 100 + expect_delay[i] - 1);
		expect_none(f);
		f->now = start + 100 + expect_delay[i];
	}
	s = stats(f);
	assert_int_equal(s.failed, 7);
	assert_true(s.failing);
	assert_int_equal(count_level(f, CORE_LOG_WARN), 1);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "GET /solar_api/v1/GetPowerFlowRealtimeData.fcgi: HTTP 500; "
						     "backing off, no more errors logged until it recovers"), 1);
	assert_int_equal(count_level(f, CORE_LOG_DEBUG), 6);
	assert_int_equal(count_logs(f, CORE_LOG_DEBUG, "Connection timed out"), 1);
	assert_int_equal(count_level(f, CORE_LOG_INFO), 0);

	/* recovery: one INFO, then the normal grid again */
	tick(f);
	expect_reply(f, "GET", FRONIUS_URL, 200, FRONIUS_DAY);
	assert_int_equal(count_level(f, CORE_LOG_INFO), 1);
	assert_int_equal(count_logs(f, CORE_LOG_INFO, "recovered after 7 failed polls"), 1);
	assert_false(stats(f).failing);
	assert_true(ems_meter_next_deadline(f->m) == f->now + POLL);
	/* a new failure starts a new run: WARN again, backoff from the start */
	f->now += POLL;
	fronius_cycle(f, 502, NULL);
	assert_int_equal(count_level(f, CORE_LOG_WARN), 2);
	assert_true(ems_meter_next_deadline(f->m) == f->now + 2 * POLL);
}

static void test_slow_down_on_503_and_429(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	fronius_cycle(f, 503, "busy");
	assert_true(ems_meter_next_deadline(f->m) == T0 + S(300));
	f->now = T0 + S(300);
	fronius_cycle(f, 429, NULL);
	assert_true(ems_meter_next_deadline(f->m) == T0 + S(600));
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "HTTP 503; backing off"), 1);
	assert_int_equal(count_logs(f, CORE_LOG_DEBUG, "HTTP 429"), 1);
}

static void test_http_start_refused(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	f->http_rc = -ENOMEM;
	tick(f);
	assert_int_equal(f->n_rq, 1);
	assert_int_equal(stats(f).failed, 1);
	assert_int_equal(stats(f).polls, 1);
	assert_true(ems_meter_next_deadline(f->m) == T0 + 2 * POLL);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "GET /solar_api/v1/GetPowerFlowRealtimeData.fcgi: Cannot allocate memory"), 1);
}

static void test_cycle_abandoned_after_60s(void **state)
{
	struct fake *f = *state;
	struct rq *r;
	uint32_t old;

	f->p.poll_ms = S(5);
	fk_start(f);
	tick(f);
	r = expect(f, "GET", FRONIUS_URL);
	old = r->id;
	/* one cycle at a time: no new poll while this one is open */
	assert_true(ems_meter_next_deadline(f->m) == T0 + S(60));
	tick_to(f, T0 + S(60) - 1);
	assert_int_equal(f->n_rq, 1);
	tick_to(f, T0 + S(60));
	assert_int_equal(stats(f).failed, 1);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "no answer within 60 s"), 1);
	assert_true(ems_meter_next_deadline(f->m) == T0 + S(60) + S(10));
	/* the answer that finally comes is ignored */
	r->answered = true;
	ems_meter_http_done(f->m, old, 200, FRONIUS_DAY, strlen(FRONIUS_DAY), f->now);
	assert_true(isnan(rd(f, EMS_PV)));
	/* as is an id nobody asked for */
	ems_meter_http_done(f->m, old + 100, 200, FRONIUS_DAY, strlen(FRONIUS_DAY), f->now);
	assert_true(isnan(rd(f, EMS_PV)));
	no_busy_loop(f);
}

/* ------------------------------------------------------------------ Powerwall */

static void pw_params(struct fake *f)
{
	f->p.type = EMS_METER_POWERWALL;
	f->p.url = PW_BASE;
	f->p.email = EMAIL;
	f->p.password = PASSWORD;
}

static void check_login(const struct rq *r)
{
	json_t *j;

	assert_string_equal(r->url, PW_LOGIN);
	assert_string_equal(r->method, "POST");
	assert_non_null(r->ctype);
	assert_string_equal(r->ctype, "application/json");
	assert_null(r->bearer);
	assert_non_null(r->body);
	j = json_loads(r->body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "username")), "customer");
	assert_string_equal(json_string_value(json_object_get(j, "password")), PASSWORD);
	assert_string_equal(json_string_value(json_object_get(j, "email")), EMAIL);
	json_decref(j);
}

static void test_powerwall_login_aggregates_soe(void **state)
{
	struct fake *f = *state;
	struct rq r;

	pw_params(f);
	fk_start(f);
	tick(f);
	r = expect_reply(f, "POST", PW_LOGIN, 200, LOGIN_OK(SESSION1));
	check_login(&r);
	r = expect_reply(f, "GET", PW_AGG, 200, AGG);
	assert_string_equal(r.bearer, SESSION1);
	r = expect_reply(f, "GET", PW_SOE, 200, SOE);
	assert_string_equal(r.bearer, SESSION1);
	expect_none(f);
	assert_true(rd(f, EMS_GRID) == -500);
	assert_true(rd(f, EMS_BATTERY) == 300);
	assert_true(rd(f, EMS_LOAD) == 1500);
	assert_true(rd(f, EMS_PV) == 1700);
	assert_true(rd(f, EMS_VOLTAGE) == 240.5);
	assert_true(fabs(rd(f, EMS_SOC) - 50) < 1e-9);
	assert_true(ems_meter_next_deadline(f->m) == T0 + POLL);
	assert_int_equal(stats(f).logins, 1);
	assert_int_equal(stats(f).polls, 3);
	/* the session is kept: the next cycle goes straight to the data */
	tick_to(f, T0 + POLL);
	r = expect_reply(f, "GET", PW_AGG, 200, AGG);
	assert_string_equal(r.bearer, SESSION1);
	expect_reply(f, "GET", PW_SOE, 200, SOE);
	assert_int_equal(stats(f).logins, 1);
	assert_int_equal(count_level(f, CORE_LOG_WARN), 0);
}

static void test_powerwall_relogin_once(void **state)
{
	struct fake *f = *state;
	struct rq r;

	pw_params(f);
	fk_start(f);
	tick(f);
	expect_reply(f, "POST", PW_LOGIN, 200, LOGIN_OK(SESSION1));
	expect_reply(f, "GET", PW_AGG, 200, AGG);
	expect_reply(f, "GET", PW_SOE, 200, SOE);
	/* the gateway restarted: 401, a new login, the data again, in the same cycle */
	tick_to(f, T0 + POLL);
	expect_reply(f, "GET", PW_AGG, 401, NULL);
	r = expect_reply(f, "POST", PW_LOGIN, 200, LOGIN_OK(SESSION2));
	check_login(&r);
	r = expect_reply(f, "GET", PW_AGG, 200, AGG);
	assert_string_equal(r.bearer, SESSION2);
	expect_reply(f, "GET", PW_SOE, 200, SOE);
	assert_false(stats(f).failing);
	assert_true(ems_meter_next_deadline(f->m) == T0 + 2 * POLL);
	/* 403 twice: one new login only, then the cycle fails */
	tick_to(f, T0 + 2 * POLL);
	expect_reply(f, "GET", PW_AGG, 403, NULL);
	expect_reply(f, "POST", PW_LOGIN, 200, LOGIN_OK(SESSION1));
	expect_reply(f, "GET", PW_AGG, 403, NULL);
	expect_none(f);
	assert_true(stats(f).failing);
	assert_int_equal(stats(f).logins, 3);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "GET /api/meters/aggregates: HTTP 403; backing off"), 1);
	/* the refused token is dropped: the next cycle logs in first */
	tick_to(f, T0 + 2 * POLL + 2 * POLL);
	expect_reply(f, "POST", PW_LOGIN, 200, LOGIN_OK(SESSION2));
	expect_reply(f, "GET", PW_AGG, 200, AGG);
	expect_reply(f, "GET", PW_SOE, 200, SOE);
	assert_int_equal(count_logs(f, CORE_LOG_INFO, "recovered after 1 failed polls"), 1);
}

static void test_powerwall_bad_credentials(void **state)
{
	struct fake *f = *state;

	pw_params(f);
	fk_start(f);
	tick(f);
	expect_reply(f, "POST", PW_LOGIN, 401, LOGIN_401);
	expect_none(f);
	assert_true(stats(f).failing);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "POST /api/login/Basic: HTTP 401, login refused (bad credentials?)"),
			 1);
	assert_true(ems_meter_next_deadline(f->m) == T0 + 2 * POLL);
	tick_to(f, T0 + 2 * POLL);
	expect_reply(f, "POST", PW_LOGIN, 401, LOGIN_401);
	assert_int_equal(count_level(f, CORE_LOG_WARN), 1);
	assert_true(ems_meter_next_deadline(f->m) == T0 + 2 * POLL + 4 * POLL);
	assert_int_equal(stats(f).logins, 2);
}

static void test_powerwall_login_answers_without_token(void **state)
{
	struct fake *f = *state;

	pw_params(f);
	fk_start(f);
	tick(f);
	/* a token that cannot be one, quoted nowhere */
	expect_reply(f, "POST", PW_LOGIN, 200, "{\"token\":\"" SESSION1 " x\",\"note\":\"" PASSWORD "\"}");
	expect_none(f);
	assert_int_equal(stats(f).malformed, 1);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "POST /api/login/Basic: malformed answer"), 1);
	tick_to(f, T0 + 2 * POLL);
	expect_reply(f, "POST", PW_LOGIN, 200, "not json " SESSION2);
	assert_int_equal(stats(f).malformed, 2);
}

static void test_powerwall_soe_failure_keeps_the_cycle(void **state)
{
	struct fake *f = *state;

	pw_params(f);
	fk_start(f);
	tick(f);
	expect_reply(f, "POST", PW_LOGIN, 200, LOGIN_OK(SESSION1));
	expect_reply(f, "GET", PW_AGG, 200, AGG);
	expect_reply(f, "GET", PW_SOE, 500, NULL);
	assert_true(isnan(rd(f, EMS_SOC)));
	assert_true(rd(f, EMS_PV) == 1700);
	assert_false(stats(f).failing);
	assert_true(ems_meter_next_deadline(f->m) == T0 + POLL);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "GET /api/system_status/soe: HTTP 500; the state of charge"), 1);
	tick_to(f, T0 + POLL);
	expect_reply(f, "GET", PW_AGG, 200, AGG);
	expect_reply(f, "GET", PW_SOE, 200, "{\"percentage\":\"x\"}");
	assert_true(isnan(rd(f, EMS_SOC)));
	assert_int_equal(count_level(f, CORE_LOG_WARN), 1);
	tick_to(f, T0 + 2 * POLL);
	expect_reply(f, "GET", PW_AGG, 200, AGG);
	expect_reply(f, "GET", PW_SOE, 200, SOE);
	assert_true(fabs(rd(f, EMS_SOC) - 50) < 1e-9);
}

static void test_powerwall_429(void **state)
{
	struct fake *f = *state;

	pw_params(f);
	fk_start(f);
	tick(f);
	expect_reply(f, "POST", PW_LOGIN, 200, LOGIN_OK(SESSION1));
	expect_reply(f, "GET", PW_AGG, 429, NULL);
	expect_none(f);
	assert_true(ems_meter_next_deadline(f->m) == T0 + S(300));
	/* a malformed aggregates answer clears what it would have given */
	tick_to(f, T0 + S(300));
	expect_reply(f, "GET", PW_AGG, 200, AGG);
	expect_reply(f, "GET", PW_SOE, 200, SOE);
	tick_to(f, T0 + S(310));
	expect_reply(f, "GET", PW_AGG, 200, "{\"site\":{\"instant_power\":\"" SESSION1 "\"}}");
	expect_none(f);
	assert_true(isnan(rd(f, EMS_GRID)));
	assert_true(isnan(rd(f, EMS_PV)));
	assert_true(fabs(rd(f, EMS_SOC) - 50) < 1e-9); /* not from that answer */
}

/* ------------------------------------------------------------------ Envoy */

static void test_envoy_bearer_and_401(void **state)
{
	struct fake *f = *state;
	struct rq r;

	f->p.type = EMS_METER_ENVOY;
	f->p.url = ENVOY_BASE;
	f->p.token = TOKEN;
	fk_start(f);
	tick(f);
	r = expect_reply(f, "GET", ENVOY_URL, 200, ENVOY_BODY);
	assert_string_equal(r.bearer, TOKEN);
	assert_true(rd(f, EMS_PV) == 2000);
	assert_true(rd(f, EMS_LOAD) == 900);
	assert_true(rd(f, EMS_GRID) == -1100);
	assert_true(rd(f, EMS_VOLTAGE) == 239);
	assert_true(isnan(rd(f, EMS_BATTERY)));
	tick_to(f, T0 + POLL);
	expect_reply(f, "GET", ENVOY_URL, 401, NULL);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "GET /production.json: HTTP 401, token refused (expired? owner "
						     "tokens last a year)"), 1);
	tick_to(f, T0 + POLL + 2 * POLL);
	expect_reply(f, "GET", ENVOY_URL, 401, NULL);
	assert_int_equal(count_logs(f, -1, "token refused"), 2);
	assert_int_equal(count_level(f, CORE_LOG_WARN), 1);
}

static void test_envoy_401_hint_inside_a_failing_run(void **state)
{
	struct fake *f = *state;
	struct rq r;

	f->p.type = EMS_METER_ENVOY;
	f->p.url = ENVOY_BASE "//";
	fk_start(f);
	tick(f);
	r = expect_reply(f, "GET", ENVOY_URL, 503, NULL);
	assert_null(r.bearer); /* no token configured: none sent */
	tick_to(f, T0 + S(300));
	expect_reply(f, "GET", ENVOY_URL, 401, NULL);
	tick_to(f, T0 + S(340)); /* 40 s: the backoff of a second failure, no slow-down this time */
	expect_reply(f, "GET", ENVOY_URL, 401, NULL);
	assert_int_equal(count_level(f, CORE_LOG_WARN), 2);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "token refused"), 1);
}

/* ------------------------------------------------------------------ Home Assistant and JSON */

static void hass_params(struct fake *f)
{
	f->p.type = EMS_METER_HASS;
	f->p.url = HA_BASE "/";
	f->p.token = TOKEN;
	set_src(&f->p, EMS_GRID, "sensor.grid_power", NULL, 0, false);
	set_src(&f->p, EMS_PV, "sensor.pv_power", NULL, 0, false);
	set_src(&f->p, EMS_SOC, "sensor.battery_soc", NULL, 1, false);
}

static void test_hass_per_entity(void **state)
{
	struct fake *f = *state;
	struct rq r;

	hass_params(f);
	f->p.src[EMS_GRID].invert = true;
	f->p.src[EMS_PV].scale = 0.5;
	fk_start(f);
	assert_int_equal(ems_meter_gives(f->m), (1u << EMS_GRID) | (1u << EMS_PV) | (1u << EMS_SOC));
	tick(f);
	r = expect_reply(f, "GET", HA_BASE "/api/states/sensor.grid_power", 200,
			 HA_STATE("sensor.grid_power", "1.5", "kW"));
	assert_string_equal(r.bearer, TOKEN);
	r = expect_reply(f, "GET", HA_BASE "/api/states/sensor.pv_power", 200, HA_STATE("sensor.pv_power", "3000", "W"));
	assert_string_equal(r.bearer, TOKEN);
	expect_reply(f, "GET", HA_BASE "/api/states/sensor.battery_soc", 200, HA_STATE("sensor.battery_soc", "81", "%"));
	expect_none(f);
	assert_true(rd(f, EMS_GRID) == -1500);
	assert_true(rd(f, EMS_PV) == 1500);
	assert_true(rd(f, EMS_SOC) == 81);
	assert_true(isnan(rd(f, EMS_LOAD)));
	assert_int_equal(stats(f).polls, 3);
	assert_int_equal(stats(f).ok, 3);
	assert_true(ems_meter_next_deadline(f->m) == T0 + POLL);
}

static void test_hass_unavailable_clears_at_once(void **state)
{
	struct fake *f = *state;

	hass_params(f);
	fk_start(f);
	tick(f);
	expect_reply(f, "GET", HA_BASE "/api/states/sensor.grid_power", 200, HA_STATE("sensor.grid_power", "200", "W"));
	expect_reply(f, "GET", HA_BASE "/api/states/sensor.pv_power", 200, HA_STATE("sensor.pv_power", "900", "W"));
	expect_reply(f, "GET", HA_BASE "/api/states/sensor.battery_soc", 200, HA_STATE("sensor.battery_soc", "50", "%"));
	tick_to(f, T0 + POLL);
	expect_reply(f, "GET", HA_BASE "/api/states/sensor.grid_power", 200,
		     HA_STATE("sensor.grid_power", "unavailable", "W"));
	/* unknown now, while the cycle is still going */
	assert_true(isnan(rd(f, EMS_GRID)));
	assert_true(rd(f, EMS_PV) == 900);
	expect_reply(f, "GET", HA_BASE "/api/states/sensor.pv_power", 200, HA_STATE("sensor.pv_power", "950", "W"));
	/* a kWh sensor is a configuration mistake: malformed */
	expect_reply(f, "GET", HA_BASE "/api/states/sensor.battery_soc", 200,
		     HA_STATE("sensor.battery_soc", "50", "kWh"));
	assert_true(isnan(rd(f, EMS_GRID)));
	assert_true(rd(f, EMS_PV) == 950);
	assert_true(isnan(rd(f, EMS_SOC)));
	assert_int_equal(stats(f).malformed, 1);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "GET /api/states/sensor.battery_soc: malformed answer"), 1);
	assert_true(ems_meter_next_deadline(f->m) == T0 + POLL + 2 * POLL);
}

static void test_hass_errors(void **state)
{
	struct fake *f = *state;

	hass_params(f);
	fk_start(f);
	tick(f);
	/* one entity's 404 does not stop the others */
	expect_reply(f, "GET", HA_BASE "/api/states/sensor.grid_power", 404, "{\"message\":\"Entity not found.\"}");
	expect_reply(f, "GET", HA_BASE "/api/states/sensor.pv_power", 200, HA_STATE("sensor.pv_power", "900", "W"));
	expect_reply(f, "GET", HA_BASE "/api/states/sensor.battery_soc", 200, HA_STATE("sensor.battery_soc", "50", "%"));
	assert_true(rd(f, EMS_PV) == 900);
	assert_true(stats(f).failing);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "GET /api/states/sensor.grid_power: HTTP 404; backing off"), 1);
	assert_true(ems_meter_next_deadline(f->m) == T0 + 2 * POLL);
	/* a server error ends the cycle: the others would fare no better */
	tick_to(f, T0 + 2 * POLL);
	expect_reply(f, "GET", HA_BASE "/api/states/sensor.grid_power", 500, NULL);
	expect_none(f);
	/* a bad token too, with a hint */
	tick_to(f, T0 + 2 * POLL + 4 * POLL);
	expect_reply(f, "GET", HA_BASE "/api/states/sensor.grid_power", 401, NULL);
	expect_none(f);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "HTTP 401, token refused"), 1);
	assert_int_equal(stats(f).failed, 3);
}

static void test_secret_quoted_back_is_scrubbed(void **state)
{
	struct fake *f = *state;

	hass_params(f);
	f->p.token = SHORT_TOKEN;
	fk_start(f);
	tick(f);
	/* a server that echoes the token where the parser quotes text: the line goes out without it */
	expect_reply(f, "GET", HA_BASE "/api/states/sensor.grid_power", 200,
		     HA_STATE("sensor.grid_power", "5", SHORT_TOKEN));
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "\"***\""), 1);
}

static void test_json_pointers(void **state)
{
	struct fake *f = *state;
	struct rq r;

	f->p.type = EMS_METER_JSON;
	f->p.url = "http://meter.local/api/status?key=abc";
	f->p.token = TOKEN;
	set_src(&f->p, EMS_GRID, "/grid/power", NULL, 0, true);
	set_src(&f->p, EMS_PV, "/pv/0/w", NULL, 1000, false);
	set_src(&f->p, EMS_LOAD, "/load", NULL, 0, false);
	fk_start(f);
	tick(f);
	r = expect_reply(f, "GET", "http://meter.local/api/status?key=abc", 200,
			 "{\"grid\":{\"power\":-250},\"pv\":[{\"w\":\"1.25\"}],\"load\":\"0.5 kW\"}");
	assert_string_equal(r.bearer, TOKEN);
	assert_true(rd(f, EMS_GRID) == 250);
	assert_true(rd(f, EMS_PV) == 1250);
	assert_true(rd(f, EMS_LOAD) == 500);
	assert_int_equal(stats(f).ok, 1);
	/* null is no data; a member that is not there is a mistake */
	tick_to(f, T0 + POLL);
	expect_reply(f, "GET", "http://meter.local/api/status?key=abc", 200, "{\"grid\":{\"power\":null},\"pv\":[{\"w\":2}]}");
	assert_true(isnan(rd(f, EMS_GRID)));
	assert_true(rd(f, EMS_PV) == 2000);
	assert_true(isnan(rd(f, EMS_LOAD)));
	assert_int_equal(stats(f).malformed, 1);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "GET /api/status: malformed answer: /load"), 1);
	assert_true(ems_meter_next_deadline(f->m) == T0 + POLL + 2 * POLL);
	/* a failure never shows the query string */
	tick_to(f, T0 + POLL + 2 * POLL);
	expect_reply(f, "GET", "http://meter.local/api/status?key=abc", 500, NULL);
	assert_int_equal(count_logs(f, -1, "GET /api/status: HTTP 500"), 1);
}

/* ------------------------------------------------------------------ SolarEdge Modbus */

static void se_params(struct fake *f, int meter, bool battery)
{
	f->p.type = EMS_METER_SOLAREDGE;
	f->p.url = NULL;
	f->p.se_meter = meter;
	f->p.se_battery = battery;
	f->p.unit_id = 0; /* the default, 1 */
}

static size_t mb_resp(uint8_t *out, uint16_t tid, uint8_t unit, const uint16_t *regs, size_t n)
{
	out[0] = (uint8_t)(tid >> 8);
	out[1] = (uint8_t)tid;
	out[2] = 0;
	out[3] = 0;
	out[4] = (uint8_t)((3 + 2 * n) >> 8);
	out[5] = (uint8_t)(3 + 2 * n);
	out[6] = unit;
	out[7] = 3;
	out[8] = (uint8_t)(2 * n);
	for (size_t i = 0; i < n; i++) {
		out[9 + 2 * i] = (uint8_t)(regs[i] >> 8);
		out[10 + 2 * i] = (uint8_t)regs[i];
	}
	return 9 + 2 * n;
}

static void put_float(uint16_t *r, float x)
{
	uint32_t bits;

	memcpy(&bits, &x, sizeof(bits));
	r[0] = (uint16_t)bits; /* low-order word first, as SolarEdge sends it */
	r[1] = (uint16_t)(bits >> 16);
}

static void inverter_regs(uint16_t *r, uint16_t w, uint16_t sf)
{
	memset(r, 0, 40 * sizeof(*r));
	r[0] = 103;
	r[1] = 50;
	r[14] = w;
	r[15] = sf;
}

static void meter_regs(uint16_t *r, int16_t w)
{
	memset(r, 0, 23 * sizeof(*r));
	r[0] = 203;
	r[1] = 105;
	r[18] = (uint16_t)w;
	r[22] = 0;
}

static void battery_regs(uint16_t *r, float w, float soe)
{
	memset(r, 0, 18 * sizeof(*r));
	put_float(r, w);
	put_float(r + 16, soe);
}

/* The last write was exactly @hexreq. */
static void expect_mb(struct fake *f, int n, const char *hexreq)
{
	uint8_t want[32];
	size_t len = hex(hexreq, want);

	assert_int_equal(f->n_mb, n);
	assert_int_equal(f->mb[n - 1].n, len);
	assert_memory_equal(f->mb[n - 1].b, want, len);
}

static void rx(struct fake *f, const uint8_t *b, size_t n)
{
	ems_meter_modbus_rx(f->m, b, n, f->now);
	no_busy_loop(f);
}

static void test_solaredge_full_cycle(void **state)
{
	struct fake *f = *state;
	uint16_t regs[40];
	uint8_t buf[300];
	size_t n;

	se_params(f, 2, true);
	fk_start(f);
	assert_int_equal(ems_meter_gives(f->m), (1u << EMS_PV) | (1u << EMS_GRID) | (1u << EMS_BATTERY) | (1u << EMS_SOC));
	ems_meter_modbus_up(f->m, f->now);
	no_busy_loop(f);
	expect_mb(f, 1, "00 01 00 00 00 06 01 03 9C 85 00 28");
	assert_true(ems_meter_next_deadline(f->m) == T0 + EMS_METER_MODBUS_TIMEOUT_MS);
	/* the inverter answers in pieces, the first byte by byte */
	inverter_regs(regs, 31415, 0xFFFF); /* 3141.5 W */
	n = mb_resp(buf, 1, 1, regs, 40);
	assert_int_equal(n, 89);
	for (size_t i = 0; i < 9; i++)
		rx(f, buf + i, 1);
	assert_int_equal(f->n_mb, 1);
	rx(f, buf + 9, 50);
	assert_int_equal(f->n_mb, 1);
	f->now += 40;
	rx(f, buf + 59, n - 59);
	assert_true(rd(f, EMS_PV) == 3141.5);
	/* meter 2: 40188 + 0xAE = 40362 */
	expect_mb(f, 2, "00 02 00 00 00 06 01 03 9D AA 00 17");
	meter_regs(regs, -1234); /* SolarEdge: - import */
	n = mb_resp(buf, 2, 1, regs, 23);
	rx(f, buf, n);
	assert_true(rd(f, EMS_GRID) == 1234);
	expect_mb(f, 3, "00 03 00 00 00 06 01 03 E1 74 00 12");
	battery_regs(regs, 1500.0f, 80.5f); /* + charging */
	n = mb_resp(buf, 3, 1, regs, 18);
	rx(f, buf, n);
	assert_true(rd(f, EMS_BATTERY) == -1500);
	assert_true(rd(f, EMS_SOC) == 80.5);
	assert_int_equal(f->n_mb, 3);
	assert_int_equal(stats(f).polls, 3);
	assert_int_equal(stats(f).ok, 3);
	assert_true(ems_meter_next_deadline(f->m) == T0 + POLL);
	/* the next cycle, on the grid, with a new transaction id */
	tick_to(f, T0 + POLL);
	expect_mb(f, 4, "00 04 00 00 00 06 01 03 9C 85 00 28");
	assert_int_equal(f->resets, 0);
	assert_int_equal(count_level(f, CORE_LOG_WARN), 0);
}

static void test_solaredge_two_answers_in_one_read(void **state)
{
	struct fake *f = *state;
	uint16_t regs[40];
	uint8_t buf[400];
	size_t n;

	se_params(f, 1, false);
	f->p.unit_id = 7;
	fk_start(f);
	ems_meter_modbus_up(f->m, f->now);
	expect_mb(f, 1, "00 01 00 00 00 06 07 03 9C 85 00 28");
	/* a stray answer (wrong transaction id) first, then the real one, in one read */
	inverter_regs(regs, 999, 0);
	n = mb_resp(buf, 0x4242, 7, regs, 40);
	inverter_regs(regs, 2000, 0);
	n += mb_resp(buf + n, 1, 7, regs, 40);
	rx(f, buf, n);
	assert_true(rd(f, EMS_PV) == 2000);
	expect_mb(f, 2, "00 02 00 00 00 06 07 03 9C FC 00 17");
	assert_int_equal(count_logs(f, CORE_LOG_DEBUG, "transaction id 16962"), 1);
	meter_regs(regs, 300);
	n = mb_resp(buf, 2, 7, regs, 23);
	rx(f, buf, n);
	assert_true(rd(f, EMS_GRID) == -300);
	assert_int_equal(f->n_mb, 2); /* no battery */
	assert_true(ems_meter_next_deadline(f->m) == T0 + POLL);
}

static void test_solaredge_exception(void **state)
{
	struct fake *f = *state;
	uint16_t regs[40];
	uint8_t buf[300];
	size_t n;

	se_params(f, 1, true);
	fk_start(f);
	ems_meter_modbus_up(f->m, f->now);
	inverter_regs(regs, 100, 0);
	n = mb_resp(buf, 1, 1, regs, 40);
	rx(f, buf, n);
	expect_mb(f, 2, "00 02 00 00 00 06 01 03 9C FC 00 17");
	n = hex("00 02 00 00 00 03 01 83 02", buf);
	rx(f, buf, n);
	assert_int_equal(f->n_mb, 2); /* the cycle ends: no battery read */
	assert_int_equal(f->resets, 0);
	assert_true(stats(f).failing);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "Modbus read of the meter block (40188, 23 registers): Modbus exception 2"),
			 1);
	assert_true(ems_meter_next_deadline(f->m) == T0 + 2 * POLL);
	assert_true(rd(f, EMS_PV) == 100);
}

static void test_solaredge_timeout_resets(void **state)
{
	struct fake *f = *state;
	uint16_t regs[40];
	uint8_t buf[300];
	size_t n;

	se_params(f, 0, false);
	fk_start(f);
	ems_meter_modbus_up(f->m, f->now);
	expect_mb(f, 1, "00 01 00 00 00 06 01 03 9C 85 00 28");
	tick_to(f, T0 + EMS_METER_MODBUS_TIMEOUT_MS - 1);
	assert_int_equal(f->resets, 0);
	tick_to(f, T0 + EMS_METER_MODBUS_TIMEOUT_MS);
	assert_int_equal(f->resets, 1);
	assert_int_equal(stats(f).failed, 1);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "no answer within 5 s"), 1);
	assert_true(ems_meter_next_deadline(f->m) == T0 + EMS_METER_MODBUS_TIMEOUT_MS + 2 * POLL);
	/* the gateway reconnects; the late answer on the old stream is not used */
	ems_meter_modbus_down(f->m, f->now);
	ems_meter_modbus_up(f->m, f->now);
	assert_int_equal(f->n_mb, 1); /* not due yet */
	inverter_regs(regs, 5000, 0);
	n = mb_resp(buf, 1, 1, regs, 40);
	rx(f, buf, n);
	assert_true(isnan(rd(f, EMS_PV)));
	tick_to(f, T0 + EMS_METER_MODBUS_TIMEOUT_MS + 2 * POLL);
	expect_mb(f, 2, "00 02 00 00 00 06 01 03 9C 85 00 28");
	n = mb_resp(buf, 2, 1, regs, 40);
	rx(f, buf, n);
	assert_true(rd(f, EMS_PV) == 5000);
	assert_int_equal(count_logs(f, CORE_LOG_INFO, "recovered after 1 failed polls"), 1);
}

static void test_solaredge_garbage_resets(void **state)
{
	struct fake *f = *state;
	uint16_t regs[40];
	uint8_t buf[300];
	size_t n;

	se_params(f, 0, false);
	fk_start(f);
	ems_meter_modbus_up(f->m, f->now);
	/* protocol id 5: not Modbus TCP */
	n = hex("00 01 00 05 00 06 01 03", buf);
	rx(f, buf, n);
	assert_int_equal(f->resets, 1);
	assert_int_equal(stats(f).failed, 1);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "not a Modbus TCP answer"), 1);
	/* the buffer was cleared: a good answer on the new stream parses from its first byte */
	ems_meter_modbus_up(f->m, f->now);
	tick_to(f, T0 + 2 * POLL);
	expect_mb(f, 2, "00 02 00 00 00 06 01 03 9C 85 00 28");
	inverter_regs(regs, 42, 0);
	n = mb_resp(buf, 2, 1, regs, 40);
	rx(f, buf, n);
	assert_true(rd(f, EMS_PV) == 42);
	/* a wrong register count is malformed, not garbage */
	tick_to(f, T0 + 3 * POLL);
	n = mb_resp(buf, 3, 1, regs, 20);
	rx(f, buf, n);
	assert_int_equal(f->resets, 1);
	assert_int_equal(stats(f).malformed, 1);
	assert_true(isnan(rd(f, EMS_PV)));
}

static void test_solaredge_connection_lost_and_refused(void **state)
{
	struct fake *f = *state;
	uint16_t regs[40];
	uint8_t buf[300];
	size_t n;

	se_params(f, 0, false);
	/* before the first connection a refused write is only start-up: no failure, no log */
	f->mb_rc = -ENOTCONN;
	fk_start(f);
	tick(f);
	assert_int_equal(f->n_mb, 1);
	assert_int_equal(stats(f).failed, 0);
	assert_int_equal(f->n_lg, 0);
	assert_true(ems_meter_next_deadline(f->m) == UINT64_MAX);
	f->mb_rc = 0;
	f->now += 700;
	ems_meter_modbus_up(f->m, f->now);
	expect_mb(f, 2, "00 02 00 00 00 06 01 03 9C 85 00 28");
	/* the link drops while a read is out: a failure */
	ems_meter_modbus_down(f->m, f->now);
	no_busy_loop(f);
	assert_int_equal(stats(f).failed, 1);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "connection lost"), 1);
	assert_true(ems_meter_next_deadline(f->m) == T0 + 700 + 2 * POLL);
	/* still down when the next cycle is due: one failure, then it waits for modbus_up */
	f->mb_rc = -ENOTCONN;
	tick_to(f, T0 + S(600));
	assert_int_equal(f->n_mb, 3);
	assert_int_equal(stats(f).failed, 2);
	assert_true(ems_meter_next_deadline(f->m) == UINT64_MAX);
	assert_int_equal(count_level(f, CORE_LOG_WARN), 1);
	assert_int_equal(count_logs(f, CORE_LOG_DEBUG, "not connected"), 1);
	f->mb_rc = 0;
	f->now = T0 + S(601);
	ems_meter_modbus_up(f->m, f->now);
	expect_mb(f, 4, "00 04 00 00 00 06 01 03 9C 85 00 28");
	inverter_regs(regs, 10, 1);
	n = mb_resp(buf, 4, 1, regs, 40);
	rx(f, buf, n);
	assert_true(rd(f, EMS_PV) == 100);
	assert_int_equal(count_logs(f, CORE_LOG_INFO, "recovered after 2 failed polls"), 1);
	assert_true(ems_meter_next_deadline(f->m) == T0 + S(611));
}

/* ------------------------------------------------------------------ MQTT */

static void mqtt_params(struct fake *f)
{
	f->p.type = EMS_METER_MQTT;
	f->p.url = NULL;
	set_src(&f->p, EMS_GRID, "dsmr/json", "/electricity_currently_delivered", 0, false);
	set_src(&f->p, EMS_LOAD, "dsmr/json", "/load", 1, false);
	set_src(&f->p, EMS_PV, "solar/power", "", 2, true);
}

static void mq(struct fake *f, const char *topic, const char *payload)
{
	ems_meter_mqtt_message(f->m, topic, (const uint8_t *)payload, strlen(payload), f->now);
	assert_true(ems_meter_next_deadline(f->m) == UINT64_MAX);
}

static void test_mqtt(void **state)
{
	struct fake *f = *state;

	mqtt_params(f);
	fk_start(f);
	assert_string_equal(ems_meter_mqtt_topic(f->m, EMS_GRID), "dsmr/json");
	assert_string_equal(ems_meter_mqtt_topic(f->m, EMS_PV), "solar/power");
	assert_null(ems_meter_mqtt_topic(f->m, EMS_SOC));
	assert_null(ems_meter_mqtt_topic(f->m, (enum ems_value)EMS_NVALUES));
	ems_meter_tick(f->m, f->now);
	assert_int_equal(f->n_rq + f->n_mb, 0);
	mq(f, "solar/power", "-1.5 kW");
	assert_true(rd(f, EMS_PV) == 3000);
	mq(f, "dsmr/json", "{\"electricity_currently_delivered\":\"0.8 kW\",\"load\":450}");
	assert_true(rd(f, EMS_GRID) == 800);
	assert_true(rd(f, EMS_LOAD) == 450);
	/* exact topics only */
	mq(f, "solar/power/x", "1");
	mq(f, "solar", "1");
	assert_true(rd(f, EMS_PV) == 3000);
	assert_int_equal(stats(f).messages, 2);
	/* staleness */
	f->now = T0 + MAX_AGE;
	assert_true(rd(f, EMS_PV) == 3000);
	f->now = T0 + MAX_AGE + 1;
	assert_true(isnan(rd(f, EMS_PV)));
	assert_true(ems_meter_age_ms(f->m, EMS_PV, f->now) == MAX_AGE + 1);
	mq(f, "solar/power", "100");
	assert_true(rd(f, EMS_PV) == -200);
	/* unavailable clears at once, quietly; garbage clears with one warning */
	mq(f, "solar/power", "unavailable");
	assert_true(isnan(rd(f, EMS_PV)));
	assert_int_equal(count_level(f, CORE_LOG_WARN), 0);
	mq(f, "solar/power", "100");
	mq(f, "solar/power", "lots");
	assert_true(isnan(rd(f, EMS_PV)));
	mq(f, "solar/power", "more");
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "solar/power: malformed payload"), 1);
	assert_int_equal(stats(f).malformed, 2);
	mq(f, "dsmr/json", "{\"electricity_currently_delivered\":null,\"load\":\"x\"}");
	assert_true(isnan(rd(f, EMS_GRID)));
	assert_true(isnan(rd(f, EMS_LOAD)));
	mq(f, "solar/power", "5");
	assert_true(rd(f, EMS_PV) == -10);
	assert_int_equal(count_logs(f, CORE_LOG_INFO, "solar/power: readable again"), 1);
	/* the broker link: logged once each way */
	ems_meter_mqtt_link(f->m, true, f->now);
	assert_int_equal(count_level(f, CORE_LOG_INFO), 1);
	ems_meter_mqtt_link(f->m, false, f->now);
	ems_meter_mqtt_link(f->m, false, f->now);
	assert_true(stats(f).failing);
	assert_int_equal(count_logs(f, CORE_LOG_WARN, "MQTT broker link down"), 1);
	ems_meter_mqtt_link(f->m, true, f->now);
	ems_meter_mqtt_link(f->m, true, f->now);
	assert_false(stats(f).failing);
	assert_int_equal(count_logs(f, CORE_LOG_INFO, "MQTT broker link back"), 1);
	/* values simply age meanwhile */
	assert_true(rd(f, EMS_PV) == -10);
}

static void test_other_types_ignore_foreign_events(void **state)
{
	struct fake *f = *state;
	const uint8_t junk[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

	fk_start(f);
	ems_meter_modbus_up(f->m, f->now);
	ems_meter_modbus_rx(f->m, junk, sizeof(junk), f->now);
	ems_meter_modbus_down(f->m, f->now);
	ems_meter_mqtt_message(f->m, "x", junk, sizeof(junk), f->now);
	ems_meter_mqtt_link(f->m, false, f->now);
	assert_null(ems_meter_mqtt_topic(f->m, EMS_GRID));
	assert_int_equal(f->n_mb + f->resets + f->n_lg + f->n_rq, 0);
	assert_int_equal(ems_meter_gives(f->m),
			 (1u << EMS_GRID) | (1u << EMS_PV) | (1u << EMS_LOAD) | (1u << EMS_BATTERY) | (1u << EMS_SOC));
}

/* ------------------------------------------------------------------ gives and combine */

static void test_gives(void **state)
{
	struct fake *f = *state;
	unsigned all5 = (1u << EMS_GRID) | (1u << EMS_PV) | (1u << EMS_LOAD) | (1u << EMS_BATTERY) | (1u << EMS_SOC);

	pw_params(f);
	fk_start(f);
	assert_int_equal(ems_meter_gives(f->m), all5 | (1u << EMS_VOLTAGE));
	fk_stop(f);
	f->p.type = EMS_METER_ENVOY;
	fk_start(f);
	assert_int_equal(ems_meter_gives(f->m), (1u << EMS_GRID) | (1u << EMS_PV) | (1u << EMS_LOAD) | (1u << EMS_VOLTAGE));
	fk_stop(f);
	se_params(f, 0, false);
	fk_start(f);
	assert_int_equal(ems_meter_gives(f->m), 1u << EMS_PV);
	fk_stop(f);
	se_params(f, 3, false);
	fk_start(f);
	assert_int_equal(ems_meter_gives(f->m), (1u << EMS_PV) | (1u << EMS_GRID));
	assert_int_equal(ems_meter_gives(NULL), 0);
}

static void test_combine(void **state)
{
	struct ems_reading in[3], out;
	unsigned gives[3];

	(void)state;
	for (int i = 0; i < 3; i++)
		ems_reading_clear(&in[i]);
	/* two inverters and a grid meter */
	gives[0] = (1u << EMS_PV) | (1u << EMS_GRID) | (1u << EMS_SOC);
	gives[1] = 1u << EMS_PV;
	gives[2] = (1u << EMS_GRID) | (1u << EMS_LOAD);
	in[0].v[EMS_PV] = 1000;
	in[0].v[EMS_GRID] = 50;
	in[1].v[EMS_PV] = 500;
	in[2].v[EMS_GRID] = -700;
	in[2].v[EMS_LOAD] = 300;
	in[2].v[EMS_PV] = 99999; /* not configured to give pv: ignored */
	ems_combine(in, gives, 3, &out);
	assert_true(out.v[EMS_PV] == 1500);
	assert_true(out.v[EMS_GRID] == 50);
	assert_true(out.v[EMS_LOAD] == 300);
	assert_true(isnan(out.v[EMS_SOC]));     /* the first giver's value, unknown */
	assert_true(isnan(out.v[EMS_BATTERY])); /* nobody gives it */
	/* one pv unknown: the sum is unknown */
	in[1].v[EMS_PV] = NAN;
	ems_combine(in, gives, 3, &out);
	assert_true(isnan(out.v[EMS_PV]));
	/* the first giver wins even when its value is unknown: the stale meter is not replaced */
	in[0].v[EMS_GRID] = NAN;
	ems_combine(in, gives, 3, &out);
	assert_true(isnan(out.v[EMS_GRID]));
	assert_true(out.v[EMS_LOAD] == 300);
	/* nobody gives pv */
	gives[0] = gives[1] = 0;
	ems_combine(in, gives, 3, &out);
	assert_true(isnan(out.v[EMS_PV]));
	assert_true(out.v[EMS_GRID] == -700);
	ems_combine(in, gives, 0, &out);
	for (int v = 0; v < EMS_NVALUES; v++)
		assert_true(isnan(out.v[v]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_type_names),
		T(test_new_validates),
		T(test_fronius_poll_and_reading),
		T(test_fronius_night),
		T(test_fronius_no_data_clears_at_once),
		T(test_malformed_clears_and_backs_off),
		T(test_backoff_exact_capped_and_logged_once),
		T(test_slow_down_on_503_and_429),
		T(test_http_start_refused),
		T(test_cycle_abandoned_after_60s),
		T(test_powerwall_login_aggregates_soe),
		T(test_powerwall_relogin_once),
		T(test_powerwall_bad_credentials),
		T(test_powerwall_login_answers_without_token),
		T(test_powerwall_soe_failure_keeps_the_cycle),
		T(test_powerwall_429),
		T(test_envoy_bearer_and_401),
		T(test_envoy_401_hint_inside_a_failing_run),
		T(test_hass_per_entity),
		T(test_hass_unavailable_clears_at_once),
		T(test_hass_errors),
		T(test_secret_quoted_back_is_scrubbed),
		T(test_json_pointers),
		T(test_solaredge_full_cycle),
		T(test_solaredge_two_answers_in_one_read),
		T(test_solaredge_exception),
		T(test_solaredge_timeout_resets),
		T(test_solaredge_garbage_resets),
		T(test_solaredge_connection_lost_and_refused),
		T(test_mqtt),
		T(test_other_types_ignore_foreign_events),
		T(test_gives),
		T(test_combine),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
