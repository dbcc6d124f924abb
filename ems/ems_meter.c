/*
 * ems_meter: the skeleton of one meter driver (see ems_meter.h, and ems_meter_internal.h for how the
 * driver is divided). A poll cycle is a short sequence of steps, one request out at a time; the
 * vendor files make each step's request and turn its answer into values and the next step, this file
 * starts cycles, moves them on and ends them. The end of a cycle decides when the next one starts: on
 * the poll grid after a good cycle, after an exponential backoff after a failed one. Each value
 * remembers its last good number and when it was read, so staleness is decided only when a reading is
 * asked for. Pure: no clock, no socket; requests, Modbus bytes and log lines go out through struct
 * ems_meter_env.
 */
#include "ems_meter_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CYCLE_MAX_MS 60000u    /* a cycle still open this long is abandoned: gw_http should have ended it */
#define SLOW_DOWN_MS 300000u   /* 429 and 503: the Powerwall asks for 5 minutes (pypowerwall does so) */
#define BACKOFF_SHIFT_MAX 20u  /* poll_ms << 20 is past any cap; keeps the shift defined */
#define LOG_MAX 640
#define SCRUB_MIN 4            /* shorter secrets would mangle ordinary words */

static const char *const type_names[] = {
	[EMS_METER_FRONIUS] = "fronius",       [EMS_METER_POWERWALL] = "powerwall",
	[EMS_METER_ENVOY] = "envoy",           [EMS_METER_SOLAREDGE] = "solaredge-modbus",
	[EMS_METER_HASS] = "homeassistant",    [EMS_METER_JSON] = "json",
	[EMS_METER_MQTT] = "mqtt",
};
#define NTYPES ((int)(sizeof(type_names) / sizeof(type_names[0])))

/* ---------------------------------------------------------------- small helpers */

void ems_meter_log(struct ems_meter *m, enum core_log_level level, const char *fmt, ...)
{
	char buf[LOG_MAX];
	va_list ap;

	if (!m->env.log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* device text ends up here: one line, printable */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	/* belt and braces: no line leaves with a secret in it, even one quoted back by a device */
	core_text_scrub(buf, m->password, SCRUB_MIN);
	core_text_scrub(buf, m->token, SCRUB_MIN);
	core_text_scrub(buf, m->session, SCRUB_MIN);
	m->env.log(m->env.user, level, buf);
}

static int copy_str(char *dst, size_t n, const char *src)
{
	size_t len = src ? strnlen(src, n) : 0;

	if (len >= n)
		return -ENAMETOOLONG;
	memcpy(dst, src ? src : "", len);
	dst[len] = 0;
	return 0;
}

/* The path of @url for log lines: no scheme, host, user info, query or fragment. */
static void url_path(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	size_t k;

	p = p ? p + 3 : url;
	p += strcspn(p, "/?#");
	k = strcspn(p, "?#");
	if (k == 0) {
		snprintf(out, n, "/");
		return;
	}
	snprintf(out, n, "%.*s", (int)(k < 200 ? k : 200), p);
}

/* A token goes into an HTTP header: printable ASCII without spaces. */
bool ems_meter_token_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static bool told_type(enum ems_meter_type t)
{
	return t == EMS_METER_HASS || t == EMS_METER_JSON || t == EMS_METER_MQTT;
}

static bool http_type(enum ems_meter_type t)
{
	return t != EMS_METER_SOLAREDGE && t != EMS_METER_MQTT;
}

/* ---------------------------------------------------------------- values */

bool ems_meter_val_set(struct ems_meter *m, int v, double x, uint64_t now)
{
	struct val *s = &m->val[v];

	if (!isfinite(x)) {
		s->unknown = true;
		return false;
	}
	s->x = x;
	s->at = now;
	s->have = true;
	s->unknown = false;
	return true;
}

void ems_meter_vals_clear(struct ems_meter *m, unsigned mask)
{
	for (int v = 0; v < EMS_NVALUES; v++)
		if (mask & BIT(v))
			m->val[v].unknown = true;
}

/* The user's scale and sign for a value a told type reads. */
double ems_meter_scaled(const struct ems_meter *m, int v, double x)
{
	double k = m->src[v].scale == 0 ? 1 : m->src[v].scale;

	return x * k * (m->src[v].invert ? -1 : 1);
}

/* ---------------------------------------------------------------- failures and the schedule */

/* One failure: a WARN when a run of failures begins, DEBUG while it lasts. A credentials hint is worth
 * one WARN of its own even inside a run that began with something else. */
void ems_meter_report(struct ems_meter *m, const char *reason, const char *hint)
{
	const char *sep = hint ? ", " : "";

	if (!hint)
		hint = "";
	if (!m->st.failing) {
		ems_meter_log(m, CORE_LOG_WARN, "%s: %s%s%s; backing off, no more errors logged until it recovers",
			      m->what, reason, sep, hint);
		m->hint_logged = *hint != 0;
	} else if (*hint && !m->hint_logged) {
		ems_meter_log(m, CORE_LOG_WARN, "%s: %s%s%s", m->what, reason, sep, hint);
		m->hint_logged = true;
	} else {
		ems_meter_log(m, CORE_LOG_DEBUG, "%s: %s%s%s", m->what, reason, sep, hint);
	}
	m->st.failing = true;
}

void ems_meter_fail(struct ems_meter *m, const char *reason, const char *hint)
{
	m->cycle_failed = true;
	ems_meter_report(m, reason, hint);
}

/* A request that got no usable answer: a transport error or an HTTP status other than 2xx. */
void ems_meter_http_fail(struct ems_meter *m, int status, const char *hint)
{
	char reason[64];

	m->st.failed++;
	if (status < 0)
		snprintf(reason, sizeof(reason), "%s", strerror(-status));
	else
		snprintf(reason, sizeof(reason), "HTTP %d", status);
	if (status == 429 || status == 503)
		m->slow = true;
	ems_meter_fail(m, reason, hint);
}

void ems_meter_malformed(struct ems_meter *m, unsigned mask, const char *err)
{
	char reason[ERR_MAX + 32];

	ems_meter_vals_clear(m, mask);
	m->st.malformed++;
	snprintf(reason, sizeof(reason), "malformed answer: %s", *err ? err : "?");
	ems_meter_fail(m, reason, NULL);
}

static uint64_t backoff_ms(const struct ems_meter *m)
{
	unsigned k = m->fails < BACKOFF_SHIFT_MAX ? m->fails : BACKOFF_SHIFT_MAX;
	uint64_t d = (uint64_t)m->poll_ms << k;

	if (d > EMS_METER_BACKOFF_MAX_MS)
		d = EMS_METER_BACKOFF_MAX_MS;
	if (d < m->poll_ms)
		d = m->poll_ms;
	if (m->slow && d < SLOW_DOWN_MS)
		d = SLOW_DOWN_MS;
	return d;
}

/* The cycle is over: a good one keeps the poll grid (no drift; missed slots are skipped rather than
 * made up in a burst), a failed one backs off from now. */
void ems_meter_cycle_end(struct ems_meter *m, uint64_t now)
{
	m->cycle = false;
	m->step = ST_NONE;
	m->req_out = false;
	m->mb_out = false;
	m->mb_wait_up = false;
	if (m->cycle_failed) {
		m->fails++;
		m->next_poll = ems_meter_add_sat(now, backoff_ms(m));
	} else {
		uint64_t next = ems_meter_add_sat(m->cycle_start, m->poll_ms);

		if (m->st.failing)
			ems_meter_log(m, CORE_LOG_INFO, "recovered after %u failed polls", m->fails);
		m->st.failing = false;
		m->fails = 0;
		m->hint_logged = false;
		if (next <= now)
			next = ems_meter_add_sat(next,
						 (ems_meter_since(now, next) / m->poll_ms + 1) * (uint64_t)m->poll_ms);
		m->next_poll = next;
	}
	m->cycle_failed = false;
	m->slow = false;
}

/* ---------------------------------------------------------------- sending */

const char *ems_meter_bearer(const struct ems_meter *m)
{
	return m->token[0] ? m->token : NULL;
}

/* "GET /path" of the request about to go, for its log lines. */
void ems_meter_what_set(struct ems_meter *m, const char *method)
{
	char path[WHAT_MAX - 16];

	url_path(m->req_url, path, sizeof(path));
	snprintf(m->what, sizeof(m->what), "%s %s", method, path);
}

int ems_meter_http_send(struct ems_meter *m, const char *method, const char *body, const char *ctype,
			const char *bearer)
{
	struct ems_meter_http_req r = {
		.method = method, .url = m->req_url, .body = body, .content_type = ctype, .bearer = bearer,
	};
	uint32_t id;
	int rc;

	ems_meter_what_set(m, method);
	if (++m->last_id == 0)
		m->last_id = 1;
	id = r.id = m->last_id;
	/* out before the call: an answer is matched against it */
	m->req_out = true;
	m->req_id = id;
	m->st.polls++;
	rc = m->env.http(m->env.user, &r);
	if (rc >= 0)
		return 0;
	if (m->req_out && m->req_id == id)
		m->req_out = false;
	return rc;
}

static void http_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now);

/* Make the current step's request; a request the gateway refuses at once is answered at once. */
void ems_meter_cycle_advance(struct ems_meter *m, uint64_t now)
{
	for (int guard = 0; guard < 32 && m->cycle && !m->req_out && !m->mb_out && !m->mb_wait_up; guard++) {
		int rc = 0;

		switch (m->step) {
		case ST_FRONIUS:
			rc = ems_meter_fronius_send(m);
			break;
		case ST_PW_LOGIN:
		case ST_PW_AGG:
		case ST_PW_SOE:
			rc = ems_meter_powerwall_send(m);
			break;
		case ST_ENVOY:
			rc = ems_meter_envoy_send(m);
			break;
		case ST_HASS:
			rc = ems_meter_hass_send(m);
			break;
		case ST_JSON:
			rc = ems_meter_json_send(m);
			break;
		case ST_SE_INV:
		case ST_SE_METER:
		case ST_SE_BATT:
			ems_meter_solaredge_send(m, now);
			break;
		case ST_NONE:
			ems_meter_cycle_end(m, now);
			break;
		}
		if (rc < 0)
			http_result(m, rc, NULL, 0, now);
	}
}

void ems_meter_cycle_start(struct ems_meter *m, uint64_t now)
{
	m->cycle = true;
	m->cycle_start = now;
	m->relogged = false;
	m->cycle_failed = false;
	m->slow = false;
	switch (m->type) {
	case EMS_METER_FRONIUS:
		m->step = ST_FRONIUS;
		break;
	case EMS_METER_POWERWALL:
		ems_meter_powerwall_start(m);
		break;
	case EMS_METER_ENVOY:
		m->step = ST_ENVOY;
		break;
	case EMS_METER_HASS:
		ems_meter_hass_start(m);
		break;
	case EMS_METER_JSON:
		m->step = ST_JSON;
		break;
	case EMS_METER_SOLAREDGE:
		ems_meter_solaredge_start(m);
		break;
	case EMS_METER_MQTT:
		m->cycle = false;
		return;
	}
	ems_meter_cycle_advance(m, now);
}

/* ---------------------------------------------------------------- answers */

/* A parsed answer: @mask are the values it stands for; each is taken, or becomes unknown if the answer
 * left it NAN (a JSON null, no battery). Return: false when the cycle has failed. */
bool ems_meter_take(struct ems_meter *m, int rc, unsigned mask, const struct ems_reading *r, const char *err,
		    uint64_t now)
{
	int n = 0;

	if (rc == 0) {
		for (int v = 0; v < EMS_NVALUES; v++)
			if ((mask & BIT(v)) && ems_meter_val_set(m, v, r->v[v], now))
				n++;
		if (n)
			m->st.ok++;
		return true;
	}
	if (rc == -ENODATA) {
		/* the device says it has nothing now: unknown at once, but not an error */
		ems_meter_vals_clear(m, mask);
		ems_meter_log(m, CORE_LOG_DEBUG, "%s: no data%s%s", m->what, *err ? ": " : "", err);
		return true;
	}
	ems_meter_malformed(m, mask, err);
	return false;
}

bool ems_meter_status_ok(int status)
{
	return status >= 200 && status <= 299;
}

/* The answer to the current step's request goes to its vendor's step machine. */
static void http_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	m->req_out = false;
	if (!body)
		body = "";
	switch (m->step) {
	case ST_FRONIUS:
		ems_meter_fronius_result(m, status, body, len, now);
		break;
	case ST_ENVOY:
		ems_meter_envoy_result(m, status, body, len, now);
		break;
	case ST_PW_LOGIN:
	case ST_PW_AGG:
	case ST_PW_SOE:
		ems_meter_powerwall_result(m, status, body, len, now);
		break;
	case ST_HASS:
		ems_meter_hass_result(m, status, body, len, now);
		break;
	case ST_JSON:
		ems_meter_json_result(m, status, body, len, now);
		break;
	default:
		ems_meter_cycle_end(m, now);
		break;
	}
}

void ems_meter_http_done(struct ems_meter *m, uint32_t id, int status, const char *body, size_t len, uint64_t now_ms)
{
	if (!m || !m->cycle || !m->req_out || id != m->req_id)
		return;
	http_result(m, status, body, len, now_ms);
	ems_meter_cycle_advance(m, now_ms);
}

/* ---------------------------------------------------------------- the clock */

void ems_meter_tick(struct ems_meter *m, uint64_t now_ms)
{
	if (!m || m->type == EMS_METER_MQTT)
		return;
	if (m->cycle && m->mb_out && ems_meter_since(now_ms, m->mb_sent) >= EMS_METER_MODBUS_TIMEOUT_MS) {
		char reason[48];

		snprintf(reason, sizeof(reason), "no answer within %u s", EMS_METER_MODBUS_TIMEOUT_MS / 1000);
		ems_meter_solaredge_broken(m, reason, now_ms);
	}
	if (m->cycle && !m->mb_wait_up && ems_meter_since(now_ms, m->cycle_start) >= CYCLE_MAX_MS) {
		bool reset = m->mb_out;

		m->st.failed++;
		m->req_out = false; /* its answer, should it come, is ignored */
		ems_meter_fail(m, "no answer within 60 s", NULL);
		ems_meter_cycle_end(m, now_ms);
		if (reset) {
			m->rx_len = 0;
			if (m->env.modbus_reset)
				m->env.modbus_reset(m->env.user);
		}
	}
	if (!m->cycle && now_ms >= m->next_poll)
		ems_meter_cycle_start(m, now_ms);
}

uint64_t ems_meter_next_deadline(const struct ems_meter *m)
{
	uint64_t d;

	if (!m || m->type == EMS_METER_MQTT)
		return UINT64_MAX;
	if (!m->cycle)
		return m->next_poll;
	if (m->mb_wait_up)
		return UINT64_MAX;
	d = ems_meter_add_sat(m->cycle_start, CYCLE_MAX_MS);
	if (m->mb_out && ems_meter_add_sat(m->mb_sent, EMS_METER_MODBUS_TIMEOUT_MS) < d)
		d = ems_meter_add_sat(m->mb_sent, EMS_METER_MODBUS_TIMEOUT_MS);
	return d;
}

/* ---------------------------------------------------------------- readings */

void ems_meter_reading(const struct ems_meter *m, uint64_t now_ms, struct ems_reading *out)
{
	ems_reading_clear(out);
	if (!m)
		return;
	for (int v = 0; v < EMS_NVALUES; v++) {
		const struct val *s = &m->val[v];

		if (s->have && !s->unknown && ems_meter_since(now_ms, s->at) <= m->max_age_ms)
			out->v[v] = s->x;
	}
}

uint64_t ems_meter_age_ms(const struct ems_meter *m, enum ems_value v, uint64_t now_ms)
{
	if (!m || (unsigned)v >= EMS_NVALUES || !m->val[v].have)
		return UINT64_MAX;
	return ems_meter_since(now_ms, m->val[v].at);
}

void ems_meter_stats(const struct ems_meter *m, struct ems_meter_stats *out)
{
	if (m)
		*out = m->st;
	else
		memset(out, 0, sizeof(*out));
}

unsigned ems_meter_gives(const struct ems_meter *m)
{
	return m ? m->gives : 0;
}

void ems_combine(const struct ems_reading *in, const unsigned *gives, size_t n, struct ems_reading *out)
{
	double pv = 0;
	bool any_pv = false;

	ems_reading_clear(out);
	for (int v = 0; v < EMS_NVALUES; v++) {
		if (v == EMS_PV)
			continue;
		for (size_t i = 0; i < n; i++)
			if (gives[i] & BIT(v)) {
				out->v[v] = in[i].v[v]; /* even NAN: a stale meter is not replaced by another */
				break;
			}
	}
	for (size_t i = 0; i < n; i++)
		if (gives[i] & BIT(EMS_PV)) {
			any_pv = true;
			pv += in[i].v[EMS_PV]; /* one NAN makes the sum NAN */
		}
	out->v[EMS_PV] = any_pv && !isnan(pv) ? pv : NAN;
}

/* ---------------------------------------------------------------- life */

const char *ems_meter_type_name(enum ems_meter_type t)
{
	return (unsigned)t < (unsigned)NTYPES ? type_names[t] : NULL;
}

int ems_meter_type_from_name(const char *name)
{
	for (int i = 0; name && i < NTYPES; i++)
		if (!strcmp(name, type_names[i]))
			return i;
	return -1;
}

static unsigned gives_of(const struct ems_meter *m)
{
	unsigned g = 0;

	switch (m->type) {
	case EMS_METER_FRONIUS:
		return GIVES_FRONIUS;
	case EMS_METER_POWERWALL:
		return GIVES_PW_AGG | BIT(EMS_SOC);
	case EMS_METER_ENVOY:
		return GIVES_ENVOY;
	case EMS_METER_SOLAREDGE:
		g = BIT(EMS_PV);
		if (m->se_meter > 0)
			g |= BIT(EMS_GRID);
		if (m->se_battery)
			g |= BIT(EMS_BATTERY) | BIT(EMS_SOC);
		return g;
	case EMS_METER_HASS:
	case EMS_METER_JSON:
	case EMS_METER_MQTT:
		for (int v = 0; v < EMS_NVALUES; v++)
			if (m->src[v].set)
				g |= BIT(v);
		return g;
	}
	return 0;
}

/* The sources a told type reads: at least one, each key fit for its use. */
static bool sources_ok(const struct ems_meter_params *p)
{
	int n = 0;

	for (int v = 0; v < EMS_NVALUES; v++) {
		const struct ems_meter_source *s = &p->src[v];

		if (!s->set)
			continue;
		n++;
		if (!isfinite(s->scale))
			return false;
		if (p->type == EMS_METER_HASS && !ems_meter_hass_entity_ok(s->key))
			return false;
		if (p->type == EMS_METER_JSON && !ems_meter_json_pointer_ok(s->key, EMS_METER_KEY_MAX))
			return false;
		if (p->type == EMS_METER_MQTT &&
		    (!ems_meter_mqtt_topic_ok(s->key) || !ems_meter_json_pointer_ok(s->pointer, EMS_METER_POINTER_MAX)))
			return false;
	}
	return n > 0;
}

struct ems_meter *ems_meter_new(const struct ems_meter_params *p, const struct ems_meter_env *env, uint64_t now_ms)
{
	struct ems_meter *m;
	size_t n;

	if (!p || !env || (unsigned)p->type >= (unsigned)NTYPES || p->poll_ms == 0 || p->max_age_ms == 0)
		return NULL;
	if (http_type(p->type) && (!env->http || !p->url || !p->url[0]))
		return NULL;
	if (p->type == EMS_METER_SOLAREDGE && (!env->modbus_write || p->se_meter < 0 || p->se_meter > 3))
		return NULL;
	if (told_type(p->type) && !sources_ok(p))
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->env = *env;
	m->type = p->type;
	if (copy_str(m->name, sizeof(m->name), p->name ? p->name : type_names[p->type]) < 0 ||
	    copy_str(m->url, sizeof(m->url), http_type(p->type) ? p->url : "") < 0 ||
	    copy_str(m->email, sizeof(m->email), p->email) < 0 ||
	    copy_str(m->password, sizeof(m->password), p->password) < 0 ||
	    copy_str(m->token, sizeof(m->token), p->token) < 0 || (m->token[0] && !ems_meter_token_ok(m->token))) {
		ems_meter_free(m);
		return NULL;
	}
	/* base + path; only the json type takes the URL as it is */
	n = strlen(m->url);
	while (p->type != EMS_METER_JSON && n > 0 && m->url[n - 1] == '/')
		m->url[--n] = 0;
	if (http_type(p->type) && n == 0) {
		ems_meter_free(m);
		return NULL;
	}
	m->unit = p->unit_id ? p->unit_id : 1;
	m->se_meter = p->se_meter;
	m->se_battery = p->se_battery;
	m->poll_ms = p->poll_ms;
	m->max_age_ms = p->max_age_ms;
	if (told_type(p->type))
		memcpy(m->src, p->src, sizeof(m->src));
	m->gives = gives_of(m);
	m->next_poll = now_ms;
	return m;
}

void ems_meter_free(struct ems_meter *m)
{
	if (!m)
		return;
	explicit_bzero(m->password, sizeof(m->password));
	explicit_bzero(m->token, sizeof(m->token));
	explicit_bzero(m->session, sizeof(m->session));
	free(m);
}
