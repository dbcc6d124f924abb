/*
 * ems_meter: one meter driver's decisions (see ems_meter.h). A poll cycle is a short sequence of
 * steps (Powerwall: login, aggregates, soe; Home Assistant: one entity per step; SolarEdge: inverter,
 * meter, battery block), one request out at a time; every answer either moves the cycle to its next
 * step or ends it. The end of a cycle decides when the next one starts: on the poll grid after a good
 * cycle, after an exponential backoff after a failed one. Each value remembers its last good number
 * and when it was read, so staleness is decided only when a reading is asked for. Pure: no clock, no
 * socket; requests, Modbus bytes and log lines go out through struct ems_meter_env.
 */
#include "ems_meter.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ems_modbus.h"
#include "ems_parse.h"

#define CYCLE_MAX_MS 60000u    /* a cycle still open this long is abandoned: gw_http should have ended it */
#define SLOW_DOWN_MS 300000u   /* 429 and 503: the Powerwall asks for 5 minutes (pypowerwall does so) */
#define BACKOFF_SHIFT_MAX 20u  /* poll_ms << 20 is past any cap; keeps the shift defined */
#define URL_MAX 1024
#define REQ_URL_MAX (URL_MAX + 16 + EMS_METER_KEY_MAX)
#define CRED_MAX 256
#define MNAME_MAX 64
#define WHAT_MAX 320
#define ERR_MAX 160
#define LOG_MAX 640
#define SCRUB_MIN 4            /* shorter secrets would mangle ordinary words */

#define BIT(v) (1u << (v))
#define GIVES_FRONIUS (BIT(EMS_GRID) | BIT(EMS_PV) | BIT(EMS_LOAD) | BIT(EMS_BATTERY) | BIT(EMS_SOC))
#define GIVES_PW_AGG (BIT(EMS_GRID) | BIT(EMS_PV) | BIT(EMS_LOAD) | BIT(EMS_BATTERY) | BIT(EMS_VOLTAGE))
#define GIVES_ENVOY (BIT(EMS_GRID) | BIT(EMS_PV) | BIT(EMS_LOAD) | BIT(EMS_VOLTAGE))

static const char *const type_names[] = {
	[EMS_METER_FRONIUS] = "fronius",       [EMS_METER_POWERWALL] = "powerwall",
	[EMS_METER_ENVOY] = "envoy",           [EMS_METER_SOLAREDGE] = "solaredge-modbus",
	[EMS_METER_HASS] = "homeassistant",    [EMS_METER_JSON] = "json",
	[EMS_METER_MQTT] = "mqtt",
};
#define NTYPES ((int)(sizeof(type_names) / sizeof(type_names[0])))

enum step {
	ST_NONE,
	ST_FRONIUS,
	ST_PW_LOGIN,
	ST_PW_AGG,
	ST_PW_SOE,
	ST_ENVOY,
	ST_HASS,
	ST_JSON,
	ST_SE_INV,
	ST_SE_METER,
	ST_SE_BATT,
};

struct val {
	double x;      /* the last good number */
	uint64_t at;   /* when it was read */
	bool have;     /* there ever was one */
	bool unknown;  /* the latest answer said unavailable or could not be read */
};

struct ems_meter {
	struct ems_meter_env env;
	enum ems_meter_type type;
	char name[MNAME_MAX];
	char url[URL_MAX];               /* http types; the base without trailing '/' except for json */
	char email[CRED_MAX];
	char password[CRED_MAX];         /* secret */
	char token[EMS_METER_TOKEN_MAX]; /* secret */
	uint8_t unit;
	int se_meter;
	bool se_battery;
	uint32_t poll_ms, max_age_ms;
	struct ems_meter_source src[EMS_NVALUES];
	unsigned gives;

	struct val val[EMS_NVALUES];

	/* The cycle */
	uint64_t next_poll;
	bool cycle;
	uint64_t cycle_start;
	enum step step;
	int hass_v;                      /* the value whose entity is being read */
	bool relogged;                   /* the Powerwall login was already redone in this cycle */
	bool cycle_failed;
	bool slow;                       /* a 429 or 503 in this cycle */
	unsigned fails;                  /* failed cycles in a row */
	bool hint_logged;                /* a credentials hint went out at WARN in this failing run */
	bool soe_warned;

	/* HTTP */
	bool req_out;
	uint32_t req_id, last_id;
	char req_url[REQ_URL_MAX];
	char what[WHAT_MAX];             /* "GET /path" or the Modbus block, for log lines */
	char session[EMS_METER_TOKEN_MAX]; /* Powerwall login token: secret */

	/* Modbus */
	bool mb_out;                     /* a read is out */
	bool mb_wait_up;                 /* the socket said ENOTCONN: the cycle waits for modbus_up */
	bool mb_seen_up;
	uint16_t tid;
	uint16_t mb_count;
	uint64_t mb_sent;
	uint8_t rx[EMS_MODBUS_MAX_ADU * 2];
	size_t rx_len;

	/* MQTT */
	bool link_down;
	bool bad[EMS_NVALUES];           /* the last payload for this value was malformed */

	struct ems_meter_stats st;
};

/* ---------------------------------------------------------------- small helpers */

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - 1 - b ? UINT64_MAX - 1 : a + b;
}

static uint64_t since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

/* Belt and braces: no line leaves with a secret in it, even one quoted back by a device. */
static void scrub(char *buf, const char *secret)
{
	size_t n = strlen(secret);
	char *p;

	if (n < SCRUB_MIN)
		return;
	while ((p = strstr(buf, secret))) {
		memmove(p + 3, p + n, strlen(p + n) + 1);
		memcpy(p, "***", 3);
	}
}

__attribute__((format(printf, 3, 4))) static void mlog(struct ems_meter *m, enum ems_log_level level,
							const char *fmt, ...)
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
	scrub(buf, m->password);
	scrub(buf, m->token);
	scrub(buf, m->session);
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

static bool entity_ok(const char *s)
{
	size_t n = strnlen(s, EMS_METER_KEY_MAX);

	if (n == 0 || n == EMS_METER_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

static bool pointer_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	return n < max && (n == 0 || s[0] == '/');
}

static bool topic_ok(const char *s)
{
	size_t n = strnlen(s, EMS_METER_KEY_MAX);

	/* a wildcard would never equal a message's topic */
	return n > 0 && n < EMS_METER_KEY_MAX && !strpbrk(s, "+#");
}

/* A token goes into an HTTP header: printable ASCII without spaces. */
static bool token_ok(const char *s)
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

static bool val_set(struct ems_meter *m, int v, double x, uint64_t now)
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

static void val_clear_mask(struct ems_meter *m, unsigned mask)
{
	for (int v = 0; v < EMS_NVALUES; v++)
		if (mask & BIT(v))
			m->val[v].unknown = true;
}

/* The user's scale and sign for a value a told type reads. */
static double scaled(const struct ems_meter *m, int v, double x)
{
	double k = m->src[v].scale == 0 ? 1 : m->src[v].scale;

	return x * k * (m->src[v].invert ? -1 : 1);
}

/* ---------------------------------------------------------------- failures and the schedule */

/* One failure: a WARN when a run of failures begins, DEBUG while it lasts. A credentials hint is worth
 * one WARN of its own even inside a run that began with something else. */
static void report(struct ems_meter *m, const char *reason, const char *hint)
{
	const char *sep = hint ? ", " : "";

	if (!hint)
		hint = "";
	if (!m->st.failing) {
		mlog(m, EMS_LOG_WARN, "%s: %s%s%s; backing off, no more errors logged until it recovers", m->what,
		     reason, sep, hint);
		m->hint_logged = *hint != 0;
	} else if (*hint && !m->hint_logged) {
		mlog(m, EMS_LOG_WARN, "%s: %s%s%s", m->what, reason, sep, hint);
		m->hint_logged = true;
	} else {
		mlog(m, EMS_LOG_DEBUG, "%s: %s%s%s", m->what, reason, sep, hint);
	}
	m->st.failing = true;
}

static void fail(struct ems_meter *m, const char *reason, const char *hint)
{
	m->cycle_failed = true;
	report(m, reason, hint);
}

/* A request that got no usable answer: a transport error or an HTTP status other than 2xx. */
static void http_fail(struct ems_meter *m, int status, const char *hint)
{
	char reason[64];

	m->st.failed++;
	if (status < 0)
		snprintf(reason, sizeof(reason), "%s", strerror(-status));
	else
		snprintf(reason, sizeof(reason), "HTTP %d", status);
	if (status == 429 || status == 503)
		m->slow = true;
	fail(m, reason, hint);
}

static void malformed(struct ems_meter *m, unsigned mask, const char *err)
{
	char reason[ERR_MAX + 32];

	val_clear_mask(m, mask);
	m->st.malformed++;
	snprintf(reason, sizeof(reason), "malformed answer: %s", *err ? err : "?");
	fail(m, reason, NULL);
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
static void end_cycle(struct ems_meter *m, uint64_t now)
{
	m->cycle = false;
	m->step = ST_NONE;
	m->req_out = false;
	m->mb_out = false;
	m->mb_wait_up = false;
	if (m->cycle_failed) {
		m->fails++;
		m->next_poll = add_sat(now, backoff_ms(m));
	} else {
		uint64_t next = add_sat(m->cycle_start, m->poll_ms);

		if (m->st.failing)
			mlog(m, EMS_LOG_INFO, "recovered after %u failed polls", m->fails);
		m->st.failing = false;
		m->fails = 0;
		m->hint_logged = false;
		if (next <= now)
			next = add_sat(next, (since(now, next) / m->poll_ms + 1) * (uint64_t)m->poll_ms);
		m->next_poll = next;
	}
	m->cycle_failed = false;
	m->slow = false;
}

/* ---------------------------------------------------------------- sending */

static const char *bearer_token(const struct ems_meter *m)
{
	return m->token[0] ? m->token : NULL;
}

/* "GET /path" of the request about to go, for its log lines. */
static void set_what(struct ems_meter *m, const char *method)
{
	char path[WHAT_MAX - 16];

	url_path(m->req_url, path, sizeof(path));
	snprintf(m->what, sizeof(m->what), "%s %s", method, path);
}

static int http_send(struct ems_meter *m, const char *method, const char *body, const char *ctype,
		     const char *bearer)
{
	struct ems_meter_http_req r = {
		.method = method, .url = m->req_url, .body = body, .content_type = ctype, .bearer = bearer,
	};
	uint32_t id;
	int rc;

	set_what(m, method);
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

/* The login body holds the password: built for the one call, wiped after it. */
static int send_login(struct ems_meter *m)
{
	size_t n = 6 * (strlen(m->email) + strlen(m->password)) + 160;
	char *body = malloc(n);
	int rc;

	set_what(m, "POST");
	if (!body)
		return -ENOMEM;
	rc = ems_powerwall_login_body(m->email, m->password, body, n);
	if (rc >= 0) {
		m->st.logins++;
		rc = http_send(m, "POST", body, "application/json", NULL);
	}
	explicit_bzero(body, n);
	free(body);
	return rc;
}

static int next_hass(const struct ems_meter *m, int from)
{
	for (int v = from; v < EMS_NVALUES; v++)
		if (m->src[v].set)
			return v;
	return -1;
}

static void mb_block(enum step s, int se_meter, uint16_t *addr, uint16_t *count, const char **name)
{
	switch (s) {
	case ST_SE_METER:
		*addr = (uint16_t)(EMS_SE_METER1_ADDR + (unsigned)(se_meter - 1) * EMS_SE_METER_STRIDE);
		*count = EMS_SE_METER_COUNT;
		*name = "meter";
		break;
	case ST_SE_BATT:
		*addr = EMS_SE_BATTERY1_ADDR;
		*count = EMS_SE_BATTERY_COUNT;
		*name = "battery";
		break;
	default:
		*addr = EMS_SE_INVERTER_ADDR;
		*count = EMS_SE_INVERTER_COUNT;
		*name = "inverter";
		break;
	}
}

static void mb_send(struct ems_meter *m, uint64_t now)
{
	uint8_t req[EMS_MODBUS_REQ_LEN];
	uint16_t addr, count;
	const char *name;
	int rc;

	mb_block(m->step, m->se_meter, &addr, &count, &name);
	snprintf(m->what, sizeof(m->what), "Modbus read of the %s block (%u, %u registers)", name, addr, count);
	m->tid++;
	rc = ems_modbus_read_request(req, m->tid, m->unit, addr, count);
	if (rc < 0) {
		m->st.failed++;
		fail(m, "could not build the request", NULL);
		end_cycle(m, now);
		return;
	}
	m->st.polls++;
	m->mb_out = true;
	m->mb_sent = now;
	m->mb_count = count;
	rc = m->env.modbus_write(m->env.user, req, (size_t)rc);
	if (rc >= 0)
		return;
	m->mb_out = false;
	if (rc == -ENOTCONN) {
		/* The gateway is (re)connecting: wait for modbus_up rather than retry into the void. Counted as
		 * one failed poll, except before the very first connection, which is only start-up. */
		m->mb_wait_up = true;
		if (m->mb_seen_up) {
			m->st.failed++;
			m->fails++;
			report(m, "not connected", NULL);
		}
		return;
	}
	m->st.failed++;
	fail(m, strerror(-rc), NULL);
	end_cycle(m, now);
}

static void http_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now);

/* Make the current step's request; a request the gateway refuses at once is answered at once. */
static void advance(struct ems_meter *m, uint64_t now)
{
	for (int guard = 0; guard < 32 && m->cycle && !m->req_out && !m->mb_out && !m->mb_wait_up; guard++) {
		int rc = 0;

		switch (m->step) {
		case ST_FRONIUS:
			snprintf(m->req_url, sizeof(m->req_url), "%s/solar_api/v1/GetPowerFlowRealtimeData.fcgi", m->url);
			rc = http_send(m, "GET", NULL, NULL, NULL);
			break;
		case ST_PW_LOGIN:
			snprintf(m->req_url, sizeof(m->req_url), "%s/api/login/Basic", m->url);
			rc = send_login(m);
			break;
		case ST_PW_AGG:
			snprintf(m->req_url, sizeof(m->req_url), "%s/api/meters/aggregates", m->url);
			rc = http_send(m, "GET", NULL, NULL, m->session);
			break;
		case ST_PW_SOE:
			snprintf(m->req_url, sizeof(m->req_url), "%s/api/system_status/soe", m->url);
			rc = http_send(m, "GET", NULL, NULL, m->session);
			break;
		case ST_ENVOY:
			snprintf(m->req_url, sizeof(m->req_url), "%s/production.json?details=1", m->url);
			rc = http_send(m, "GET", NULL, NULL, bearer_token(m));
			break;
		case ST_HASS:
			snprintf(m->req_url, sizeof(m->req_url), "%s/api/states/%s", m->url, m->src[m->hass_v].key);
			rc = http_send(m, "GET", NULL, NULL, bearer_token(m));
			break;
		case ST_JSON:
			snprintf(m->req_url, sizeof(m->req_url), "%s", m->url);
			rc = http_send(m, "GET", NULL, NULL, bearer_token(m));
			break;
		case ST_SE_INV:
		case ST_SE_METER:
		case ST_SE_BATT:
			mb_send(m, now);
			break;
		case ST_NONE:
			end_cycle(m, now);
			break;
		}
		if (rc < 0)
			http_result(m, rc, NULL, 0, now);
	}
}

static void start_cycle(struct ems_meter *m, uint64_t now)
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
		m->step = m->session[0] ? ST_PW_AGG : ST_PW_LOGIN;
		break;
	case EMS_METER_ENVOY:
		m->step = ST_ENVOY;
		break;
	case EMS_METER_HASS:
		m->hass_v = next_hass(m, 0);
		m->step = ST_HASS;
		break;
	case EMS_METER_JSON:
		m->step = ST_JSON;
		break;
	case EMS_METER_SOLAREDGE:
		m->step = ST_SE_INV;
		m->rx_len = 0;
		break;
	case EMS_METER_MQTT:
		m->cycle = false;
		return;
	}
	advance(m, now);
}

/* ---------------------------------------------------------------- answers */

/* A parsed answer: @mask are the values it stands for; each is taken, or becomes unknown if the answer
 * left it NAN (a JSON null, no battery). Return: false when the cycle has failed. */
static bool take(struct ems_meter *m, int rc, unsigned mask, const struct ems_reading *r, const char *err,
		 uint64_t now)
{
	int n = 0;

	if (rc == 0) {
		for (int v = 0; v < EMS_NVALUES; v++)
			if ((mask & BIT(v)) && val_set(m, v, r->v[v], now))
				n++;
		if (n)
			m->st.ok++;
		return true;
	}
	if (rc == -ENODATA) {
		/* the device says it has nothing now: unknown at once, but not an error */
		val_clear_mask(m, mask);
		mlog(m, EMS_LOG_DEBUG, "%s: no data%s%s", m->what, *err ? ": " : "", err);
		return true;
	}
	malformed(m, mask, err);
	return false;
}

static bool ok_status(int status)
{
	return status >= 200 && status <= 299;
}

static void pw_login_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	char err[ERR_MAX] = "";

	if (status == 401) {
		http_fail(m, status, "login refused (bad credentials?)");
		end_cycle(m, now);
		return;
	}
	if (!ok_status(status)) {
		http_fail(m, status, NULL);
		end_cycle(m, now);
		return;
	}
	/* the answer holds the token: its parse error is not quoted */
	if (ems_powerwall_login_parse(body, len, m->session, sizeof(m->session), err, sizeof(err)) < 0 ||
	    strnlen(m->session, sizeof(m->session)) == sizeof(m->session) || !token_ok(m->session)) {
		explicit_bzero(m->session, sizeof(m->session));
		m->st.malformed++;
		fail(m, "malformed answer: no usable token in it", NULL);
		end_cycle(m, now);
		explicit_bzero(err, sizeof(err));
		return;
	}
	explicit_bzero(err, sizeof(err));
	m->step = ST_PW_AGG;
}

static void pw_agg_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	char err[ERR_MAX] = "";
	struct ems_reading r;

	if ((status == 401 || status == 403) && !m->relogged) {
		/* the session expired or the gateway restarted: log in once more, in this cycle */
		explicit_bzero(m->session, sizeof(m->session));
		m->relogged = true;
		mlog(m, EMS_LOG_DEBUG, "%s: HTTP %d, logging in again", m->what, status);
		m->step = ST_PW_LOGIN;
		return;
	}
	if (!ok_status(status)) {
		if (status == 401 || status == 403)
			explicit_bzero(m->session, sizeof(m->session));
		http_fail(m, status, NULL);
		end_cycle(m, now);
		return;
	}
	ems_reading_clear(&r);
	if (!take(m, ems_powerwall_aggregates_parse(body, len, &r, err, sizeof(err)), GIVES_PW_AGG, &r, err, now)) {
		end_cycle(m, now);
		return;
	}
	m->step = ST_PW_SOE;
}

/* The state of charge is extra: its failure leaves soc to age, the cycle still counts as good. */
static void pw_soe_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	char err[ERR_MAX] = "", reason[ERR_MAX + 32];
	struct ems_reading r;
	int rc;

	if (ok_status(status)) {
		ems_reading_clear(&r);
		rc = ems_powerwall_soe_parse(body, len, &r, err, sizeof(err));
		if (rc == 0 || rc == -ENODATA) {
			take(m, rc, BIT(EMS_SOC), &r, err, now);
			m->soe_warned = false;
			end_cycle(m, now);
			return;
		}
		val_clear_mask(m, BIT(EMS_SOC));
		m->st.malformed++;
		snprintf(reason, sizeof(reason), "malformed answer: %s", *err ? err : "?");
	} else {
		m->st.failed++;
		if (status == 401 || status == 403)
			explicit_bzero(m->session, sizeof(m->session)); /* the next cycle logs in */
		if (status < 0)
			snprintf(reason, sizeof(reason), "%s", strerror(-status));
		else
			snprintf(reason, sizeof(reason), "HTTP %d", status);
	}
	mlog(m, m->soe_warned ? EMS_LOG_DEBUG : EMS_LOG_WARN, "%s: %s; the state of charge stays unknown", m->what,
	     reason);
	m->soe_warned = true;
	end_cycle(m, now);
}

static void hass_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	char err[ERR_MAX] = "";
	int v = m->hass_v, rc;
	double x = NAN;

	if (!ok_status(status)) {
		http_fail(m, status, status == 401 ? "token refused" : NULL);
		/* The server is down or refuses us: the other entities would fare no better. A 404 is one
		 * entity's problem; the others are still read. */
		if (status < 0 || status == 401 || status == 403 || status == 429 || status >= 500) {
			end_cycle(m, now);
			return;
		}
	} else {
		rc = ems_hass_parse(body, len, &x, err, sizeof(err));
		if (rc == 0) {
			if (val_set(m, v, scaled(m, v, x), now))
				m->st.ok++;
		} else if (rc == -ENODATA) {
			val_clear_mask(m, BIT(v));
			mlog(m, EMS_LOG_DEBUG, "%s: unavailable", m->what);
		} else {
			malformed(m, BIT(v), err);
		}
	}
	m->hass_v = next_hass(m, v + 1);
	if (m->hass_v < 0)
		end_cycle(m, now);
}

static void json_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	char err[ERR_MAX] = "", first[ERR_MAX + EMS_METER_KEY_MAX + 8] = "";
	unsigned bad = 0;
	int n = 0;

	if (!ok_status(status)) {
		http_fail(m, status, status == 401 ? "token refused" : NULL);
		end_cycle(m, now);
		return;
	}
	for (int v = 0; v < EMS_NVALUES; v++) {
		double x = NAN;
		int rc;

		if (!m->src[v].set)
			continue;
		err[0] = 0;
		rc = ems_json_pointer_number(body, len, m->src[v].key, &x, err, sizeof(err));
		if (rc == 0 && val_set(m, v, scaled(m, v, x), now)) {
			n++;
		} else if (rc == -ENODATA) {
			val_clear_mask(m, BIT(v));
		} else {
			val_clear_mask(m, BIT(v));
			if (!bad)
				/* the parser's message names the pointer */
				snprintf(first, sizeof(first), "%s%s", *err ? err : m->src[v].key,
					 *err ? "" : ": not a number");
			bad |= BIT(v);
		}
	}
	if (n)
		m->st.ok++;
	if (bad)
		malformed(m, bad, first);
	end_cycle(m, now);
}

static void http_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	char err[ERR_MAX] = "";
	struct ems_reading r;

	m->req_out = false;
	if (!body)
		body = "";
	ems_reading_clear(&r);
	switch (m->step) {
	case ST_FRONIUS:
		if (!ok_status(status))
			http_fail(m, status, NULL);
		else
			take(m, ems_fronius_parse(body, len, &r, err, sizeof(err)), GIVES_FRONIUS, &r, err, now);
		end_cycle(m, now);
		break;
	case ST_ENVOY:
		if (!ok_status(status))
			http_fail(m, status, status == 401 ? "token refused (expired? owner tokens last a year)" : NULL);
		else
			take(m, ems_envoy_parse(body, len, &r, err, sizeof(err)), GIVES_ENVOY, &r, err, now);
		end_cycle(m, now);
		break;
	case ST_PW_LOGIN:
		pw_login_result(m, status, body, len, now);
		break;
	case ST_PW_AGG:
		pw_agg_result(m, status, body, len, now);
		break;
	case ST_PW_SOE:
		pw_soe_result(m, status, body, len, now);
		break;
	case ST_HASS:
		hass_result(m, status, body, len, now);
		break;
	case ST_JSON:
		json_result(m, status, body, len, now);
		break;
	default:
		end_cycle(m, now);
		break;
	}
}

void ems_meter_http_done(struct ems_meter *m, uint32_t id, int status, const char *body, size_t len, uint64_t now_ms)
{
	if (!m || !m->cycle || !m->req_out || id != m->req_id)
		return;
	http_result(m, status, body, len, now_ms);
	advance(m, now_ms);
}

/* ---------------------------------------------------------------- Modbus */

/* The stream cannot be trusted any more: drop what is buffered and have the gateway reconnect. The
 * state is settled before the call, which may well come back as modbus_down. */
static void mb_broken(struct ems_meter *m, const char *reason, uint64_t now)
{
	m->rx_len = 0;
	m->st.failed++;
	if (m->cycle && m->mb_out) {
		m->mb_out = false;
		fail(m, reason, NULL);
		end_cycle(m, now);
	} else {
		mlog(m, EMS_LOG_DEBUG, "Modbus: %s", reason);
	}
	if (m->env.modbus_reset)
		m->env.modbus_reset(m->env.user);
}

static void mb_answer(struct ems_meter *m, const struct ems_modbus_resp *resp, uint64_t now)
{
	char err[ERR_MAX] = "", reason[64];
	struct ems_reading r;
	unsigned mask;
	int rc;

	if (!m->cycle || !m->mb_out || resp->tid != m->tid) {
		/* a late answer to a request given up on */
		mlog(m, EMS_LOG_DEBUG, "Modbus: skipped an answer with transaction id %u", resp->tid);
		return;
	}
	m->mb_out = false;
	if (resp->exception) {
		m->st.failed++;
		snprintf(reason, sizeof(reason), "Modbus exception %u", resp->exception);
		fail(m, reason, NULL);
		end_cycle(m, now);
		return;
	}
	ems_reading_clear(&r);
	mask = m->step == ST_SE_METER ? BIT(EMS_GRID)
	       : m->step == ST_SE_BATT ? BIT(EMS_BATTERY) | BIT(EMS_SOC)
				       : BIT(EMS_PV);
	if (resp->n_regs != m->mb_count) {
		snprintf(err, sizeof(err), "%zu registers, %u asked for", resp->n_regs, m->mb_count);
		rc = -EINVAL;
	} else if (m->step == ST_SE_METER) {
		rc = ems_solaredge_meter(resp->regs, resp->n_regs, &r, err, sizeof(err));
	} else if (m->step == ST_SE_BATT) {
		rc = ems_solaredge_battery(resp->regs, resp->n_regs, &r, err, sizeof(err));
	} else {
		rc = ems_solaredge_inverter(resp->regs, resp->n_regs, &r, err, sizeof(err));
	}
	if (!take(m, rc, mask, &r, err, now)) {
		end_cycle(m, now);
		return;
	}
	if (m->step == ST_SE_INV && m->se_meter > 0)
		m->step = ST_SE_METER;
	else if (m->step != ST_SE_BATT && m->se_battery)
		m->step = ST_SE_BATT;
	else
		m->step = ST_NONE;
	advance(m, now);
}

void ems_meter_modbus_rx(struct ems_meter *m, const uint8_t *bytes, size_t len, uint64_t now_ms)
{
	struct ems_modbus_resp resp;

	if (!m || m->type != EMS_METER_SOLAREDGE || !bytes)
		return;
	while (len > 0) {
		size_t take_n = sizeof(m->rx) - m->rx_len;

		if (take_n > len)
			take_n = len;
		memcpy(m->rx + m->rx_len, bytes, take_n);
		m->rx_len += take_n;
		bytes += take_n;
		len -= take_n;
		for (;;) {
			int rc = ems_modbus_parse_response(m->rx, m->rx_len, &resp);

			if (rc == 0 && m->rx_len == sizeof(m->rx))
				rc = -EPROTO; /* no answer is this long */
			if (rc < 0) {
				mb_broken(m, "not a Modbus TCP answer", now_ms);
				return;
			}
			if (rc == 0)
				break;
			if ((size_t)rc > m->rx_len)
				rc = (int)m->rx_len;
			memmove(m->rx, m->rx + rc, m->rx_len - (size_t)rc);
			m->rx_len -= (size_t)rc;
			mb_answer(m, &resp, now_ms);
		}
	}
}

void ems_meter_modbus_up(struct ems_meter *m, uint64_t now_ms)
{
	if (!m || m->type != EMS_METER_SOLAREDGE)
		return;
	m->mb_seen_up = true;
	m->rx_len = 0;
	if (m->cycle && (m->mb_wait_up || m->mb_out)) {
		/* the waiting cycle goes on from its current step; a read that went to the old socket is
		 * made again on this one */
		m->mb_wait_up = false;
		m->mb_out = false;
		m->cycle_start = now_ms;
		advance(m, now_ms);
	} else if (!m->cycle && now_ms >= m->next_poll) {
		start_cycle(m, now_ms);
	}
}

void ems_meter_modbus_down(struct ems_meter *m, uint64_t now_ms)
{
	if (!m || m->type != EMS_METER_SOLAREDGE)
		return;
	m->rx_len = 0;
	if (m->cycle && m->mb_out) {
		m->mb_out = false;
		m->st.failed++;
		fail(m, "connection lost", NULL);
		end_cycle(m, now_ms);
	}
}

/* ---------------------------------------------------------------- the clock */

void ems_meter_tick(struct ems_meter *m, uint64_t now_ms)
{
	if (!m || m->type == EMS_METER_MQTT)
		return;
	if (m->cycle && m->mb_out && since(now_ms, m->mb_sent) >= EMS_METER_MODBUS_TIMEOUT_MS) {
		char reason[48];

		snprintf(reason, sizeof(reason), "no answer within %u s", EMS_METER_MODBUS_TIMEOUT_MS / 1000);
		mb_broken(m, reason, now_ms);
	}
	if (m->cycle && !m->mb_wait_up && since(now_ms, m->cycle_start) >= CYCLE_MAX_MS) {
		bool reset = m->mb_out;

		m->st.failed++;
		m->req_out = false; /* its answer, should it come, is ignored */
		fail(m, "no answer within 60 s", NULL);
		end_cycle(m, now_ms);
		if (reset) {
			m->rx_len = 0;
			if (m->env.modbus_reset)
				m->env.modbus_reset(m->env.user);
		}
	}
	if (!m->cycle && now_ms >= m->next_poll)
		start_cycle(m, now_ms);
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
	d = add_sat(m->cycle_start, CYCLE_MAX_MS);
	if (m->mb_out && add_sat(m->mb_sent, EMS_METER_MODBUS_TIMEOUT_MS) < d)
		d = add_sat(m->mb_sent, EMS_METER_MODBUS_TIMEOUT_MS);
	return d;
}

/* ---------------------------------------------------------------- MQTT */

const char *ems_meter_mqtt_topic(const struct ems_meter *m, enum ems_value v)
{
	if (!m || m->type != EMS_METER_MQTT || (unsigned)v >= EMS_NVALUES || !m->src[v].set)
		return NULL;
	return m->src[v].key;
}

void ems_meter_mqtt_message(struct ems_meter *m, const char *topic, const uint8_t *payload, size_t len,
			    uint64_t now_ms)
{
	bool matched = false, gave = false;

	if (!m || m->type != EMS_METER_MQTT || !topic)
		return;
	if (!payload)
		len = 0;
	for (int v = 0; v < EMS_NVALUES; v++) {
		char err[ERR_MAX] = "";
		double x = NAN;
		int rc;

		if (!m->src[v].set || strcmp(m->src[v].key, topic))
			continue;
		matched = true;
		rc = ems_payload_number(payload ? (const char *)payload : "", len, m->src[v].pointer, &x, err,
					sizeof(err));
		if (rc == 0 && val_set(m, v, scaled(m, v, x), now_ms)) {
			gave = true;
			if (m->bad[v])
				mlog(m, EMS_LOG_INFO, "%s: readable again", topic);
			m->bad[v] = false;
		} else if (rc == -ENODATA) {
			val_clear_mask(m, BIT(v));
		} else {
			val_clear_mask(m, BIT(v));
			m->st.malformed++;
			mlog(m, m->bad[v] ? EMS_LOG_DEBUG : EMS_LOG_WARN, "%s: malformed payload: %s%s", topic,
			     *err ? err : "not a number", m->bad[v] ? "" : "; unknown until a good one arrives");
			m->bad[v] = true;
		}
	}
	if (matched)
		m->st.messages++;
	if (gave)
		m->st.ok++;
}

void ems_meter_mqtt_link(struct ems_meter *m, bool up, uint64_t now_ms)
{
	(void)now_ms;
	if (!m || m->type != EMS_METER_MQTT)
		return;
	if (!up && !m->link_down) {
		m->link_down = true;
		m->st.failing = true;
		mlog(m, EMS_LOG_WARN, "MQTT broker link down; the values age out after %.3g s", m->max_age_ms / 1000.0);
	} else if (up && m->link_down) {
		m->link_down = false;
		m->st.failing = false;
		mlog(m, EMS_LOG_INFO, "MQTT broker link back");
	}
}

/* ---------------------------------------------------------------- readings */

void ems_meter_reading(const struct ems_meter *m, uint64_t now_ms, struct ems_reading *out)
{
	ems_reading_clear(out);
	if (!m)
		return;
	for (int v = 0; v < EMS_NVALUES; v++) {
		const struct val *s = &m->val[v];

		if (s->have && !s->unknown && since(now_ms, s->at) <= m->max_age_ms)
			out->v[v] = s->x;
	}
}

uint64_t ems_meter_age_ms(const struct ems_meter *m, enum ems_value v, uint64_t now_ms)
{
	if (!m || (unsigned)v >= EMS_NVALUES || !m->val[v].have)
		return UINT64_MAX;
	return since(now_ms, m->val[v].at);
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
		if (p->type == EMS_METER_HASS && !entity_ok(s->key))
			return false;
		if (p->type == EMS_METER_JSON && !pointer_ok(s->key, EMS_METER_KEY_MAX))
			return false;
		if (p->type == EMS_METER_MQTT && (!topic_ok(s->key) || !pointer_ok(s->pointer, EMS_METER_POINTER_MAX)))
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
	    copy_str(m->token, sizeof(m->token), p->token) < 0 || (m->token[0] && !token_ok(m->token))) {
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
