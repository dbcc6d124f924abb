/*
 * tesla_api: the vehicle API client's decisions. It owns one FIFO of requests, sent one at a time so
 * the single-use refresh token is never raced and each paid call is counted before the next goes out;
 * the tokens; the Retry-After block and the day's budget; and per connector what the bus last said
 * about it, which car is on it, and what was already asked of that car during this plug-in. Every
 * entry point ends in run(), which re-decides each connector with the time it was given, sends what
 * may go and computes the next deadline, so a deadline that has passed is always acted on (and moved
 * forward) by the next tesla_tick(). Pure: no clock, socket or file; HTTP and storage go out through
 * struct tesla_env.
 */
#include "tesla_api.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define DAY_MS 86400000LL
#define REFRESH_AHEAD_MS 300000LL /* renew the access token this long before it expires */
#define RETRY_FIRST_MS 5000u      /* 5xx and transport failures: 5 s doubling ... */
#define RETRY_MAX_MS 600000u      /* ... up to 10 min ... */
#define RETRY_ATTEMPTS 5          /* ... and given up after this many sends */
#define WAKE_FIRST_MS 15000u      /* after a 408: wake_up, the command again 15, 30, 60 s later */
#define WAKES_MAX 3
#define BUSES_RETRY_MS 5000u      /* could_not_wake_buses: the car itself asks for another try */
#define BUSES_RETRIES 3
#define BLOCK_DEFAULT_S 60L       /* a 429 without Retry-After */
#define BLOCK_MAX_S (7L * 86400)  /* longer (or a corrupt state file) is taken as a week */
#define STOP_REPEAT_MS 60000u     /* a stopped car still drawing this long after is told again */
#define HOLD_MS 600000u           /* a connector whose command or locate was given up rests this long */
#define QUEUE_MAX 48
#define LOCATE_MAX 8              /* online cars asked for vehicle_data when telling cars apart */
#define TOKEN_MAX 8192
#define BASE_URL_MAX 512
#define URL_MAX (BASE_URL_MAX + 160)
#define DWELL_CARS 16
#define TEXT_MAX 120              /* text from an answer quoted in a log line */
#define LOGGED_MAX 48
#define EARTH_RADIUS_M 6371000.0

enum kind { K_TOKEN, K_LIST, K_DATA, K_WAKE, K_AMPS, K_START, K_STOP, K_COUNT };

static const char *const kind_names[K_COUNT] = {
	"token refresh", "vehicle list", "vehicle_data", "wake_up", "set_charging_amps", "charge_start",
	"charge_stop",
};

struct req {
	uint32_t id;          /* of the latest send */
	enum kind kind;
	enum kind for_kind;   /* wake_up: the command it wakes the car for */
	int conn;             /* 1..TESLA_MAX_CONNECTORS; 0 for the token refresh */
	uint32_t plug;        /* the connector's plug-in it was made for */
	char vin[TESLA_VIN_LEN + 1];
	int amps;
	bool in_flight;
	bool retried_401;
	uint64_t not_before;  /* mono ms */
	int attempts;         /* 5xx and transport failures so far */
	int wakes;            /* 408s answered with a wake_up */
	int buses;            /* could_not_wake_buses retries */
};

enum loc { LOC_NONE, LOC_LIST, LOC_DATA, LOC_DONE, LOC_AMBIGUOUS };

struct conn {
	bool seen, present, plugged, drawing;
	int granted, min;
	char vin[TESLA_VIN_LEN + 1];  /* the car in use; "" none yet */
	uint32_t plug;                /* bumped at each unplug: answers for an earlier plug-in are ignored */
	enum loc loc;
	int loc_pending;              /* vehicle_data answers still expected */
	bool loc_failed;              /* one of them failed: the answer is not trustworthy */
	int n_cand;
	char cand[LOCATE_MAX][TESLA_VIN_LEN + 1];
	bool amps_sent;               /* set_charging_amps done (or queued) this plug-in */
	bool start_latched;           /* the car refused charge_start: not again until it draws */
	bool start_ok;                /* the car took charge_start: not again until it draws */
	bool we_stopped;              /* our charge_stop took: a grant restarts it without the grace */
	bool stop_ok;                 /* charge_stop took during this pause */
	uint64_t stop_ok_at;
	bool grant_active;            /* granted >= min while not drawing ... */
	uint64_t grant_since;         /* ... since then */
	uint64_t hold_until;          /* after a command or locate was given up */
	uint64_t next_at;             /* when deciding again may do something */
};

/* Dwell is per car, not per connector: a car moved to another connector keeps its history. */
struct dwell {
	char vin[TESLA_VIN_LEN + 1];
	uint64_t at;
};

struct tesla {
	struct tesla_env env;
	char *base_url, *token_url, *client_id;
	int budget, car_amps;
	uint64_t dwell_ms, grace_ms;
	bool has_home;
	double home_lat, home_lon, home_r;

	char *access, *refresh, *seed; /* never NULL; "" when absent */
	int64_t exp_ms;                /* access token expiry, wall ms; 0 unknown */
	bool token_stale;              /* a 401 said the access token is no good */
	uint64_t refresh_hold;         /* no refresh before this (mono) after one was given up */
	bool commands_off;             /* a 403 to a command: until restart */
	int64_t day;                   /* UTC day of paid_today */

	struct req q[QUEUE_MAX];
	int nq;
	bool in_flight;
	uint32_t last_id;
	struct conn c[TESLA_MAX_CONNECTORS + 1];
	struct dwell dw[DWELL_CARS];

	bool have_mono;
	uint64_t mono;                 /* the latest (mono, wall) pair maps wall deadlines to mono */
	int64_t wall;
	bool pumping;
	uint32_t changes;
	uint64_t deadline;

	uint32_t logged[LOGGED_MAX];
	int n_logged;
	bool budget_logged, block_logged, clock_logged;
	struct tesla_stats st;
};

/* ---------------------------------------------------------------- small helpers */

static const char *secrets_of(const struct tesla *t, int i)
{
	return i == 0 ? t->access : i == 1 ? t->refresh : t->seed;
}

/* Belt and braces: no line leaves with a token in it, even one quoted back by a server. */
static void scrub(char *buf, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	if (n < 6)
		return;
	while ((p = strstr(buf, secret))) {
		memmove(p + 3, p + n, strlen(p + n) + 1);
		memcpy(p, "***", 3);
	}
}

__attribute__((format(printf, 3, 4))) static void tlog(struct tesla *t, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!t->env.log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (int i = 0; i < 3; i++)
		scrub(buf, secrets_of(t, i));
	t->env.log(t->env.user, level, buf);
}

/* True the first time @key is seen: "log once per kind". */
static bool first_time(struct tesla *t, uint32_t key)
{
	for (int i = 0; i < t->n_logged; i++)
		if (t->logged[i] == key)
			return false;
	if (t->n_logged == LOGGED_MAX)
		return false;
	t->logged[t->n_logged++] = key;
	return true;
}

/* Text from an answer, made safe for a log line. */
static void quote_text(char *dst, size_t n, const char *src, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; src && i < len && o + 1 < n; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[o] = 0;
}

static bool vin_ok(const char *s)
{
	if (!s)
		return false;
	for (int i = 0; i < TESLA_VIN_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
			return false;
	return s[TESLA_VIN_LEN] == 0;
}

/* A token goes into an HTTP header and a JSON file: printable ASCII without spaces, bounded. */
static bool token_ok(const char *s)
{
	size_t n = s ? strnlen(s, TOKEN_MAX + 1) : 0;

	if (n == 0 || n > TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static int set_str(char **dst, const char *src)
{
	char *s = strdup(src ? src : "");

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - 1 - b ? UINT64_MAX - 1 : a + b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* A wall-clock instant as mono ms, through the latest pair of readings. */
static uint64_t wall_to_mono(const struct tesla *t, int64_t w)
{
	if (w <= t->wall)
		return t->mono;
	return add_sat(t->mono, (uint64_t)w - (uint64_t)t->wall);
}

static int64_t day_of(int64_t wall)
{
	return wall >= 0 ? wall / DAY_MS : 0;
}

static bool paused(const struct conn *c)
{
	return c->granted <= 0 || c->granted < c->min;
}

static bool is_command(enum kind k)
{
	return k == K_AMPS || k == K_START || k == K_STOP;
}

/* ---------------------------------------------------------------- JWT expiry */

static int b64url_val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '-' || ch == '+')
		return 62;
	if (ch == '_' || ch == '/')
		return 63;
	return -1;
}

/* The "exp" claim of a JWT in wall ms; 0 when @tok is not a JWT we can read. The signature is not
 * checked: the expiry only decides when to refresh, the server still judges the token. */
static int64_t jwt_exp_ms(const char *tok)
{
	const char *a = tok ? strchr(tok, '.') : NULL, *b = a ? strchr(a + 1, '.') : NULL;
	char buf[2048];
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0;
	json_t *j, *e;
	double secs = 0;

	if (!b)
		return 0;
	for (const char *p = a + 1; p < b && *p != '='; p++) {
		int v = b64url_val(*p);

		if (v < 0 || n == sizeof(buf))
			return 0;
		acc = ((acc << 6) | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	j = json_loadb(buf, n, 0, NULL);
	e = json_object_get(j, "exp");
	if (json_is_number(e))
		secs = json_number_value(e);
	json_decref(j);
	/* Seconds since 1970 up to the year 5138: anything else is not an expiry. */
	return secs >= 1 && secs < 1e11 ? (int64_t)secs * 1000 : 0;
}

/* ---------------------------------------------------------------- persistence */

static int store_json(struct tesla *t, const char *name, json_t *j, bool secret)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int r = -ENOMEM;

	json_decref(j);
	if (text) {
		r = t->env.store ? t->env.store(t->env.user, name, text, secret) : 0;
		free(text);
	}
	if (r < 0)
		tlog(t, 0, "could not save %s: %s", name, strerror(-r));
	return r;
}

static void save_state(struct tesla *t)
{
	store_json(t, TESLA_FILE_STATE,
		   json_pack("{s:I, s:I, s:I}", "blocked_until_ms", (json_int_t)t->st.blocked_until_ms, "budget_day",
			     (json_int_t)t->day, "paid_today", (json_int_t)t->st.paid_today),
		   false);
}

static void save_tokens(struct tesla *t)
{
	if (store_json(t, TESLA_FILE_TOKENS,
		       json_pack("{s:s, s:s, s:I, s:s}", "access_token", t->access, "refresh_token", t->refresh,
				 "expires_at_ms", (json_int_t)t->exp_ms, "seed_refresh_token", t->seed),
		       true) < 0)
		tlog(t, 0, "the new refresh token is only in memory: after a restart a new login may be needed");
}

static void roll_day(struct tesla *t)
{
	int64_t d = day_of(t->wall);

	if (d == t->day)
		return;
	t->day = d;
	t->budget_logged = false;
	t->st.budget_exhausted = false;
	if (t->st.paid_today) {
		t->st.paid_today = 0;
		save_state(t);
	}
}

static void count_paid(struct tesla *t)
{
	roll_day(t);
	t->st.paid_today++;
	if (t->st.paid_today >= (uint32_t)t->budget) {
		t->st.budget_exhausted = true;
		if (!t->budget_logged)
			tlog(t, 1, "%" PRIu32 " paid calls today, the daily budget: no vehicle API calls until "
				   "00:00 UTC", t->st.paid_today);
		t->budget_logged = true;
	}
	save_state(t);
}

/* ---------------------------------------------------------------- the queue */

static int q_find(const struct tesla *t, int ci, enum kind k)
{
	for (int i = 0; i < t->nq; i++)
		if (t->q[i].conn == ci && t->q[i].kind == k)
			return i;
	return -1;
}

static struct req *q_add(struct tesla *t, int pos, enum kind k, int ci, const char *vin)
{
	char v[TESLA_VIN_LEN + 1] = "";
	struct req *r;

	if (vin) /* it may point into the queue, which is about to move */
		memcpy(v, vin, sizeof(v));
	if (t->nq == QUEUE_MAX) {
		if (first_time(t, 0xffff0000u))
			tlog(t, 1, "request queue full; %s for connector %d dropped", kind_names[k], ci);
		return NULL;
	}
	if (pos < 0 || pos > t->nq)
		pos = t->nq;
	memmove(&t->q[pos + 1], &t->q[pos], (size_t)(t->nq - pos) * sizeof(t->q[0]));
	t->nq++;
	t->changes++;
	r = &t->q[pos];
	memset(r, 0, sizeof(*r));
	r->kind = k;
	r->conn = ci;
	r->plug = t->c[ci].plug;
	memcpy(r->vin, v, sizeof(v));
	return r;
}

static void q_remove(struct tesla *t, int i)
{
	memmove(&t->q[i], &t->q[i + 1], (size_t)(t->nq - i - 1) * sizeof(t->q[0]));
	t->nq--;
	t->changes++;
}

/* Remove what waits for connector @ci (all connectors when 0) and matches @pred; a request in flight
 * stays, its answer is handled (or ignored) when it comes. */
static void q_remove_if(struct tesla *t, int ci, bool (*pred)(const struct req *r))
{
	for (int i = 0; i < t->nq; i++)
		if (!t->q[i].in_flight && (!ci || t->q[i].conn == ci) && t->q[i].kind != K_TOKEN && pred(&t->q[i]))
			q_remove(t, i--);
}

static bool any_req(const struct req *r)
{
	(void)r;
	return true;
}

static bool command_or_wake(const struct req *r)
{
	return is_command(r->kind) || r->kind == K_WAKE;
}

static bool locate_req(const struct req *r)
{
	return r->kind == K_LIST || r->kind == K_DATA;
}

static bool base_waiting(const struct tesla *t)
{
	for (int i = 0; i < t->nq; i++)
		if (t->q[i].kind != K_TOKEN)
			return true;
	return false;
}

static void needs_login(struct tesla *t, const char *why)
{
	if (!t->st.needs_login)
		tlog(t, 0, "%s: log in again (a new tesla.refreshToken); no more vehicle API calls until then", why);
	t->st.needs_login = true;
	t->nq = 0;
	t->in_flight = false;
	t->changes++;
}

/* ---------------------------------------------------------------- dwell */

static uint64_t dwell_until(const struct tesla *t, const char *vin)
{
	for (int i = 0; i < DWELL_CARS; i++)
		if (!strcmp(t->dw[i].vin, vin))
			return t->dw[i].at + t->dwell_ms;
	return 0;
}

static void dwell_mark(struct tesla *t, const char *vin)
{
	int oldest = 0;

	for (int i = 0; i < DWELL_CARS; i++) {
		if (!strcmp(t->dw[i].vin, vin)) {
			oldest = i;
			break;
		}
		if (t->dw[i].at < t->dw[oldest].at || !t->dw[i].vin[0])
			oldest = i;
	}
	memcpy(t->dw[oldest].vin, vin, TESLA_VIN_LEN + 1);
	t->dw[oldest].at = t->mono;
}

/* ---------------------------------------------------------------- which car is on a connector */

static bool vin_used_elsewhere(const struct tesla *t, int ci, const char *vin)
{
	for (int i = 1; i <= TESLA_MAX_CONNECTORS; i++)
		if (i != ci && t->c[i].plugged && !strcmp(t->c[i].vin, vin))
			return true;
	return false;
}

__attribute__((format(printf, 3, 4))) static void ambiguous(struct tesla *t, int ci, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	t->c[ci].loc = LOC_AMBIGUOUS;
	t->changes++;
	tlog(t, 1, "connector %d: cannot tell which car is plugged in (%s); no vehicle API calls until it is "
		   "unplugged", ci, why);
}

static void located(struct tesla *t, int ci, const char *vin, const char *how)
{
	memcpy(t->c[ci].vin, vin, TESLA_VIN_LEN + 1);
	t->c[ci].loc = LOC_DONE;
	t->changes++;
	tlog(t, 2, "connector %d: car %s (%s)", ci, vin, how);
}

/* A locate that could not finish: try again after a rest rather than guess. */
static void locate_failed(struct tesla *t, int ci)
{
	t->c[ci].loc = LOC_NONE;
	t->c[ci].hold_until = t->mono + HOLD_MS;
	t->changes++;
	tlog(t, 1, "connector %d: could not find which car is plugged in; trying again in %u s", ci,
	     HOLD_MS / 1000);
}

static void locate_start(struct tesla *t, int ci)
{
	if (!q_add(t, -1, K_LIST, ci, NULL))
		return;
	t->c[ci].loc = LOC_LIST;
	t->c[ci].n_cand = 0;
	t->c[ci].loc_pending = 0;
	t->c[ci].loc_failed = false;
	tlog(t, 2, "connector %d: no VIN from the TWC; asking the account which car it is", ci);
}

static void locate_eval(struct tesla *t, int ci)
{
	struct conn *c = &t->c[ci];
	int n = 0, one = -1;

	if (c->loc_failed) {
		locate_failed(t, ci);
		return;
	}
	for (int i = 0; i < c->n_cand; i++)
		if (!vin_used_elsewhere(t, ci, c->cand[i])) {
			n++;
			one = i;
		}
	if (n == 1)
		located(t, ci, c->cand[one], "plugged in at home");
	else
		ambiguous(t, ci, "%d candidate cars plugged in within tesla.home and not on another connector", n);
}

static double rad(double deg)
{
	return deg * M_PI / 180.0;
}

static double distance_m(double lat1, double lon1, double lat2, double lon2)
{
	double a = sin(rad(lat2 - lat1) / 2) * sin(rad(lat2 - lat1) / 2) +
		   cos(rad(lat1)) * cos(rad(lat2)) * sin(rad(lon2 - lon1) / 2) * sin(rad(lon2 - lon1) / 2);

	return 2 * EARTH_RADIUS_M * asin(sqrt(a < 0 ? 0 : a > 1 ? 1 : a));
}

/* A vehicle_data answer's car is a candidate: plugged in (to something) and within tesla.home. */
static bool candidate(const struct tesla *t, const json_t *resp)
{
	static const char *const where[] = { "drive_state", "location_data" };
	const char *cs = json_string_value(json_object_get(json_object_get(resp, "charge_state"), "charging_state"));

	if (!cs || !strcmp(cs, "Disconnected"))
		return false;
	for (int i = 0; i < 2; i++) {
		const json_t *o = json_object_get(resp, where[i]);
		const json_t *la = json_object_get(o, "latitude"), *lo = json_object_get(o, "longitude");

		if (json_is_number(la) && json_is_number(lo))
			return distance_m(t->home_lat, t->home_lon, json_number_value(la), json_number_value(lo)) <=
			       t->home_r;
	}
	return false;
}

/* One vehicle_data answer (@resp NULL: none usable; @failed: not a clean answer). */
static void data_done(struct tesla *t, int ci, const char *vin, const json_t *resp, bool failed)
{
	struct conn *c = &t->c[ci];

	if (c->loc != LOC_DATA)
		return;
	if (failed)
		c->loc_failed = true;
	else if (resp && candidate(t, resp) && c->n_cand < LOCATE_MAX)
		memcpy(c->cand[c->n_cand++], vin, TESLA_VIN_LEN + 1);
	if (--c->loc_pending <= 0)
		locate_eval(t, ci);
}

static void list_answer(struct tesla *t, int ci, const json_t *j)
{
	struct conn *c = &t->c[ci];
	const json_t *arr = json_object_get(j, "response"), *v;
	const char *only = NULL;
	int n = 0, online = 0, asked = 0;
	size_t i;

	if (c->loc != LOC_LIST)
		return;
	if (!json_is_array(arr)) {
		t->st.failures++;
		tlog(t, 1, "connector %d: the vehicle list answer has no \"response\" array", ci);
		locate_failed(t, ci);
		return;
	}
	json_array_foreach(arr, i, v) {
		const char *vin = json_string_value(json_object_get(v, "vin"));

		if (vin_ok(vin)) {
			n++;
			only = vin;
		}
	}
	if (n == 1) {
		if (vin_used_elsewhere(t, ci, only))
			ambiguous(t, ci, "the account's only car %s is on another connector", only);
		else
			located(t, ci, only, "the only car on the account");
		return;
	}
	if (n == 0) {
		ambiguous(t, ci, "no cars on the account");
		return;
	}
	if (!t->has_home) {
		ambiguous(t, ci, "%d cars on the account and no tesla.home to tell them apart", n);
		return;
	}
	c->loc = LOC_DATA;
	c->n_cand = 0;
	c->loc_failed = false;
	/* Only cars already online: waking a car costs 20 commands' worth, and the one just plugged in
	 * is awake. A car on another connector cannot be this one. */
	json_array_foreach(arr, i, v) {
		const char *vin = json_string_value(json_object_get(v, "vin"));
		const char *state = json_string_value(json_object_get(v, "state"));

		if (!vin_ok(vin) || !state || strcmp(state, "online") || vin_used_elsewhere(t, ci, vin))
			continue;
		if (++online > LOCATE_MAX)
			continue;
		if (q_add(t, -1, K_DATA, ci, vin))
			asked++;
	}
	if (online > LOCATE_MAX) {
		q_remove_if(t, ci, locate_req);
		ambiguous(t, ci, "%d cars online on the account, more than the %d looked at", online, LOCATE_MAX);
		return;
	}
	c->loc_pending = asked;
	if (!asked)
		locate_eval(t, ci);
}

/* ---------------------------------------------------------------- decisions */

static bool command_wanted(const struct tesla *t, const struct conn *c, enum kind k)
{
	if (t->commands_off || !c->present || !c->plugged)
		return false;
	if (k == K_STOP)
		return c->drawing && paused(c);
	/* set_charging_amps only ever precedes a charge_start */
	return !c->drawing && !paused(c) && !c->start_latched && !c->start_ok;
}

static bool req_wanted(const struct tesla *t, const struct req *r)
{
	const struct conn *c = &t->c[r->conn];

	if (r->kind == K_TOKEN)
		return true;
	if (r->plug != c->plug || !c->plugged)
		return false;
	if (r->kind == K_LIST || r->kind == K_DATA)
		return true;
	if (strcmp(r->vin, c->vin))
		return false;
	return command_wanted(t, c, r->kind == K_WAKE ? r->for_kind : r->kind);
}

/* The connector's rules: what to ask of its car now, or when to look again. */
static void decide(struct tesla *t, int ci)
{
	struct conn *c = &t->c[ci];
	uint64_t at = 0, d;
	bool stop;

	c->next_at = UINT64_MAX;
	if (!c->seen || !c->present || !c->plugged || t->st.needs_login || t->commands_off || c->loc == LOC_AMBIGUOUS)
		return;
	if (c->drawing && paused(c)) {
		stop = true;
		if (c->stop_ok) /* once per pause, unless it still draws a minute later */
			at = c->stop_ok_at + STOP_REPEAT_MS;
	} else if (command_wanted(t, c, K_START)) {
		stop = false;
		if (!c->we_stopped) /* a car granted current gets the grace to start by itself */
			at = c->grant_since + t->grace_ms;
	} else {
		return;
	}
	at = max_u64(at, c->hold_until);
	if (q_find(t, ci, stop ? K_STOP : K_START) >= 0)
		return;
	if (at > t->mono) {
		c->next_at = at;
		return;
	}
	if (!c->vin[0]) {
		if (c->loc == LOC_NONE)
			locate_start(t, ci);
		return;
	}
	d = dwell_until(t, c->vin);
	if (d > t->mono) {
		c->next_at = d;
		return;
	}
	if (stop) {
		q_add(t, -1, K_STOP, ci, c->vin);
		return;
	}
	if (t->car_amps > 0 && !c->amps_sent) {
		struct req *r = q_add(t, -1, K_AMPS, ci, c->vin);

		if (r) {
			r->amps = t->car_amps;
			c->amps_sent = true;
		}
	}
	q_add(t, -1, K_START, ci, c->vin);
}

static void unplugged(struct tesla *t, int ci)
{
	struct conn *c = &t->c[ci];
	uint32_t plug = c->plug + 1;

	q_remove_if(t, ci, any_req);
	if (c->vin[0] || c->loc != LOC_NONE)
		tlog(t, 2, "connector %d: unplugged%s%s", ci, c->vin[0] ? ", was " : "", c->vin);
	memset(c, 0, sizeof(*c));
	c->seen = true;
	c->plug = plug;
	t->changes++;
}

/* ---------------------------------------------------------------- tokens */

static bool token_usable(const struct tesla *t)
{
	return t->access[0] && !t->token_stale && !(t->exp_ms && t->wall >= t->exp_ms - REFRESH_AHEAD_MS);
}

static void ensure_refresh(struct tesla *t)
{
	bool due;

	if (!t->have_mono || t->st.needs_login || !t->refresh[0] || q_find(t, 0, K_TOKEN) >= 0 ||
	    t->mono < t->refresh_hold)
		return;
	/* Idle too when the expiry is known: a chain used every few hours never reaches its 3 months. */
	due = t->token_stale || (t->exp_ms && t->wall >= t->exp_ms - REFRESH_AHEAD_MS) ||
	      (!t->access[0] && base_waiting(t));
	if (due)
		q_add(t, 0, K_TOKEN, 0, NULL);
}

static void token_answer(struct tesla *t, int qi, int status, const char *body, size_t len);

/* ---------------------------------------------------------------- sending */

static size_t form_encode(char *dst, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		    ch == '_' || ch == '.' || ch == '~') {
			dst[o++] = (char)ch;
		} else {
			dst[o++] = '%';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		}
	}
	dst[o] = 0;
	return o;
}

static char *refresh_body(const struct tesla *t)
{
	static const char a[] = "grant_type=refresh_token&client_id=", b[] = "&refresh_token=";
	char *s = malloc(sizeof(a) + sizeof(b) + 3 * (strlen(t->client_id) + strlen(t->refresh)) + 1);
	size_t o;

	if (!s)
		return NULL;
	memcpy(s, a, sizeof(a) - 1);
	o = sizeof(a) - 1;
	o += form_encode(s + o, t->client_id);
	memcpy(s + o, b, sizeof(b) - 1);
	o += sizeof(b) - 1;
	form_encode(s + o, t->refresh);
	return s;
}

static void answer(struct tesla *t, uint32_t id, int status, const char *body, size_t len, long retry_after_s);

static void send_req(struct tesla *t, int qi)
{
	struct req *r = &t->q[qi];
	struct tesla_http_req h = { .method = "POST" };
	static const char *const cmd[K_COUNT] = {
		[K_AMPS] = "set_charging_amps", [K_START] = "charge_start", [K_STOP] = "charge_stop",
	};
	char url[URL_MAX], amps[48];
	char *form = NULL;
	uint32_t id;
	int rc;

	h.url = url;
	switch (r->kind) {
	case K_TOKEN:
		form = refresh_body(t);
		h.url = t->token_url;
		h.body = form;
		h.content_type = "application/x-www-form-urlencoded";
		h.token_endpoint = true;
		break;
	case K_LIST:
		h.method = "GET";
		snprintf(url, sizeof(url), "%s/api/1/vehicles", t->base_url);
		break;
	case K_DATA:
		h.method = "GET";
		snprintf(url, sizeof(url),
			 "%s/api/1/vehicles/%s/vehicle_data?endpoints=charge_state%%3Bdrive_state%%3Blocation_data",
			 t->base_url, r->vin);
		break;
	case K_WAKE:
		snprintf(url, sizeof(url), "%s/api/1/vehicles/%s/wake_up", t->base_url, r->vin);
		t->st.wakes++;
		break;
	default:
		snprintf(url, sizeof(url), "%s/api/1/vehicles/%s/command/%s", t->base_url, r->vin, cmd[r->kind]);
		snprintf(amps, sizeof(amps), "{\"charging_amps\":%d}", r->amps);
		h.body = r->kind == K_AMPS ? amps : "{}";
		h.content_type = "application/json";
		if (r->kind == K_START || r->kind == K_STOP) {
			dwell_mark(t, r->vin);
			if (r->kind == K_START)
				t->st.starts++;
			else
				t->st.stops++;
		}
		break;
	}
	if (!h.token_endpoint)
		h.bearer = t->access;
	if (++t->last_id == 0)
		t->last_id = 1;
	id = h.id = r->id = t->last_id;
	r->in_flight = true;
	t->in_flight = true;
	t->changes++;
	t->st.requests++;
	tlog(t, 3, "%s %s", h.method, h.url);
	rc = r->kind == K_TOKEN && !form ? -ENOMEM : t->env.http(t->env.user, &h);
	free(form);
	/* A refused start is a transport failure; the answer may also have come back already */
	if (rc < 0)
		answer(t, id, rc < -4095 ? -EIO : rc, NULL, 0, -1);
}

/* The next request that may go now, or -1. FIFO, except that the token refresh goes first, and one
 * connector's requests keep their order (a wake_up before its command, the amps before the start). */
static int pick(struct tesla *t)
{
	unsigned busy = 0;
	int i;

	if (t->in_flight || t->st.needs_login || t->nq == 0)
		return -1;
	if (t->st.blocked_until_ms && t->wall < t->st.blocked_until_ms)
		return -1;
	i = q_find(t, 0, K_TOKEN);
	if (i >= 0)
		return t->q[i].not_before <= t->mono ? i : -1;
	if (!token_usable(t)) {
		if (t->refresh[0])
			return -1; /* ensure_refresh() queues the refresh once any hold is over */
		if (!t->access[0]) {
			needs_login(t, "no Tesla tokens");
			return -1;
		}
		/* an expired access token and nothing to renew it with: let the server say so */
	}
	roll_day(t);
	if (t->st.paid_today >= (uint32_t)t->budget) {
		t->st.budget_exhausted = true;
		return -1;
	}
	for (i = 0; i < t->nq; i++) {
		const struct req *r = &t->q[i];
		unsigned bit = 1u << r->conn;

		if (busy & bit)
			continue;
		if (!req_wanted(t, r)) {
			if (r->kind == K_AMPS)
				t->c[r->conn].amps_sent = false;
			q_remove(t, i--);
			continue;
		}
		if (r->not_before > t->mono) {
			busy |= bit;
			continue;
		}
		return i;
	}
	return -1;
}

static void pump(struct tesla *t)
{
	int i;

	if (t->pumping)
		return;
	t->pumping = true;
	while ((i = pick(t)) >= 0)
		send_req(t, i);
	t->pumping = false;
}

/* ---------------------------------------------------------------- answers */

/* The request is dropped for good; what that means for its connector. */
static void dropped(struct tesla *t, const struct req *r)
{
	struct conn *c = &t->c[r->conn];

	t->st.failures++;
	switch (r->kind) {
	case K_TOKEN:
		t->refresh_hold = t->mono + HOLD_MS;
		break;
	case K_LIST:
		if (c->loc == LOC_LIST)
			locate_failed(t, r->conn);
		break;
	case K_DATA:
		data_done(t, r->conn, r->vin, NULL, true);
		break;
	case K_START:
	case K_STOP:
		c->hold_until = t->mono + HOLD_MS;
		break;
	default:
		break;
	}
}

static void give_up(struct tesla *t, int qi, const char *why)
{
	struct req r = t->q[qi];

	q_remove(t, qi);
	tlog(t, 1, "%s%s%s given up: %s", kind_names[r.kind], r.vin[0] ? " for " : "", r.vin, why);
	dropped(t, &r);
}

static void transient(struct tesla *t, int qi, int status)
{
	struct req *r = &t->q[qi];
	char why[64];
	uint32_t delay;

	if (status < 0)
		snprintf(why, sizeof(why), "no answer (%s)", strerror(-status));
	else
		snprintf(why, sizeof(why), "HTTP %d", status);
	if (++r->attempts >= RETRY_ATTEMPTS) {
		give_up(t, qi, why);
		return;
	}
	delay = RETRY_FIRST_MS << (r->attempts - 1);
	if (delay > RETRY_MAX_MS)
		delay = RETRY_MAX_MS;
	r->not_before = t->mono + delay;
	tlog(t, 2, "%s%s%s: %s; again in %" PRIu32 " s", kind_names[r->kind], r->vin[0] ? " for " : "", r->vin,
	     why, delay / 1000);
}

static void rate_limited(struct tesla *t, long retry_after_s)
{
	long s = retry_after_s < 0 ? BLOCK_DEFAULT_S : retry_after_s;
	int64_t until;

	s = s < 1 ? 1 : s > BLOCK_MAX_S ? BLOCK_MAX_S : s;
	until = t->wall + (int64_t)s * 1000;
	if (until > t->st.blocked_until_ms)
		t->st.blocked_until_ms = until;
	save_state(t);
	if (!t->block_logged)
		tlog(t, 1, "rate limited (HTTP 429): no vehicle API calls for %ld s", s);
	t->block_logged = true;
}

static void error_text(char *dst, size_t n, const char *body, size_t len)
{
	json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
	const json_t *e = json_object_get(j, "error");

	if (json_is_string(e))
		quote_text(dst, n, json_string_value(e), json_string_length(e));
	else
		quote_text(dst, n, body, len < 60 ? len : 60);
	json_decref(j);
}

static void client_error(struct tesla *t, int qi, int status, const char *body, size_t len)
{
	struct req r = t->q[qi];
	char why[TEXT_MAX + 1];

	error_text(why, sizeof(why), body, len);
	q_remove(t, qi);
	if (status == 403 && is_command(r.kind)) {
		if (!t->commands_off)
			tlog(t, 0, "%s refused (HTTP 403: %s): a virtual key or scope problem; no more charge commands "
				   "until restart", kind_names[r.kind], why);
		t->commands_off = true;
		q_remove_if(t, 0, command_or_wake);
	} else if (first_time(t, (uint32_t)r.kind << 16 | (uint32_t)(status & 0xffff))) {
		tlog(t, 1, "%s%s%s: HTTP %d (%s); dropped", kind_names[r.kind], r.vin[0] ? " for " : "", r.vin,
		     status, why);
	}
	dropped(t, &r);
}

static void unauthorized(struct tesla *t, int qi)
{
	struct req *r = &t->q[qi];

	if (!t->refresh[0]) {
		needs_login(t, "the access token was refused (HTTP 401) and there is no refresh token");
		return;
	}
	if (r->retried_401) {
		give_up(t, qi, "HTTP 401 again after a token refresh");
		return;
	}
	r->retried_401 = true;
	t->token_stale = true;
	tlog(t, 2, "the access token was refused (HTTP 401); refreshing it");
}

static void asleep(struct tesla *t, int qi)
{
	struct req *r = &t->q[qi];
	struct req *w;
	uint32_t delay;

	if (r->kind == K_DATA) { /* an asleep car is not the one just plugged in; never woken for this */
		struct req copy = *r;

		q_remove(t, qi);
		data_done(t, copy.conn, copy.vin, NULL, false);
		return;
	}
	if (r->kind == K_WAKE) {
		q_remove(t, qi);
		return;
	}
	if (r->wakes >= WAKES_MAX) {
		give_up(t, qi, "the car stays asleep after three wake_ups");
		return;
	}
	delay = WAKE_FIRST_MS << r->wakes;
	r->wakes++;
	r->not_before = t->mono + delay;
	tlog(t, 2, "%s for %s: the car is asleep (HTTP 408); wake_up, then again in %" PRIu32 " s",
	     kind_names[r->kind], r->vin, delay / 1000);
	w = q_add(t, qi, K_WAKE, r->conn, r->vin); /* before it: the connector's order holds */
	if (w) {
		w->for_kind = t->q[qi + 1].kind;
		w->plug = t->q[qi + 1].plug;
	}
}

static void command_answer(struct tesla *t, int qi, const json_t *j)
{
	struct req r = t->q[qi];
	struct conn *c = &t->c[r.conn];
	const json_t *resp = json_object_get(j, "response"), *res = json_object_get(resp, "result");
	const json_t *rs = json_object_get(resp, "reason");
	char reason[TEXT_MAX + 1] = "";
	bool ok = json_is_true(res);

	if (!json_is_boolean(res)) {
		give_up(t, qi, "the answer has no response.result");
		return;
	}
	if (json_is_string(rs))
		quote_text(reason, sizeof(reason), json_string_value(rs), json_string_length(rs));
	if (!ok && !strcmp(reason, "could_not_wake_buses")) {
		if (t->q[qi].buses < BUSES_RETRIES) {
			t->q[qi].buses++;
			t->q[qi].not_before = t->mono + BUSES_RETRY_MS;
			tlog(t, 2, "%s for %s: could_not_wake_buses; again in %u s", kind_names[r.kind], r.vin,
			     BUSES_RETRY_MS / 1000);
			return;
		}
		give_up(t, qi, "could_not_wake_buses, four times");
		return;
	}
	q_remove(t, qi);
	switch (r.kind) {
	case K_AMPS:
		if (ok)
			tlog(t, 2, "connector %d: %s limited to %d A", r.conn, r.vin, r.amps);
		else
			tlog(t, 1, "connector %d: %s refused set_charging_amps %d (%s)", r.conn, r.vin, r.amps,
			     reason);
		break;
	case K_START:
		if (ok) {
			c->start_ok = true;
			tlog(t, 2, "connector %d: charge_start to %s done", r.conn, r.vin);
		} else {
			c->start_latched = true;
			tlog(t, 2, "connector %d: %s refused charge_start (%s); not asked again until it draws "
				   "or is unplugged", r.conn, r.vin, reason);
		}
		break;
	default:
		/* A car that is not charging has stopped, which is all that was asked. */
		if (ok || !strcmp(reason, "not_charging") || !strcmp(reason, "disconnected") ||
		    !strcmp(reason, "complete")) {
			c->stop_ok = true;
			c->stop_ok_at = t->mono;
			c->we_stopped = true;
			tlog(t, 2, "connector %d: charge_stop to %s done%s%s", r.conn, r.vin, ok ? "" : ": ",
			     ok ? "" : reason);
		} else {
			t->st.failures++;
			tlog(t, 1, "connector %d: %s refused charge_stop (%s)", r.conn, r.vin, reason);
		}
		break;
	}
}

static void success(struct tesla *t, int qi, const char *body, size_t len)
{
	json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
	struct req r = t->q[qi];

	switch (r.kind) {
	case K_WAKE:
		q_remove(t, qi);
		break;
	case K_LIST:
		q_remove(t, qi);
		list_answer(t, r.conn, j);
		break;
	case K_DATA:
		if (!json_is_object(json_object_get(j, "response"))) {
			give_up(t, qi, "the answer has no response object");
		} else {
			q_remove(t, qi);
			data_done(t, r.conn, r.vin, json_object_get(j, "response"), false);
		}
		break;
	default:
		command_answer(t, qi, j);
		break;
	}
	json_decref(j);
}

static void token_answer(struct tesla *t, int qi, int status, const char *body, size_t len)
{
	json_t *j;
	const char *at, *rt;
	const json_t *ei;
	int64_t expiry;

	if (status == 400 || status == 401) {
		char why[TEXT_MAX + 1], msg[TEXT_MAX + 64];

		error_text(why, sizeof(why), body, len);
		snprintf(msg, sizeof(msg), "the refresh token was refused (HTTP %d: %s)", status, why);
		needs_login(t, msg);
		return;
	}
	if (status < 200 || status >= 300) {
		client_error(t, qi, status, body, len);
		return;
	}
	j = body ? json_loadb(body, len, 0, NULL) : NULL;
	at = json_string_value(json_object_get(j, "access_token"));
	rt = json_string_value(json_object_get(j, "refresh_token"));
	ei = json_object_get(j, "expires_in");
	if (!token_ok(at) || (rt && !token_ok(rt)) || set_str(&t->access, at) < 0 ||
	    (rt && set_str(&t->refresh, rt) < 0)) {
		json_decref(j);
		give_up(t, qi, "the answer has no usable access_token");
		return;
	}
	expiry = jwt_exp_ms(t->access);
	/* An expiry already (nearly) past on a token just issued means our clock is off: expires_in is relative
	 * and immune to that; with neither, only a 401 will tell. */
	if ((!expiry || expiry <= t->wall + REFRESH_AHEAD_MS) && json_is_integer(ei) && json_integer_value(ei) > 0 &&
	    json_integer_value(ei) < 100LL * 86400)
		expiry = t->wall + json_integer_value(ei) * 1000;
	if (expiry && expiry <= t->wall + REFRESH_AHEAD_MS) {
		if (!t->clock_logged)
			tlog(t, 1, "a fresh access token already expires: is the clock right?");
		t->clock_logged = true;
		expiry = 0;
	}
	json_decref(j);
	t->exp_ms = expiry;
	t->token_stale = false;
	t->refresh_hold = 0;
	t->st.refreshes++;
	q_remove(t, qi);
	/* Saved before any use: the old refresh token is spent, losing the new one means a new login. */
	save_tokens(t);
	tlog(t, 2, "access token refreshed");
}

static void answer(struct tesla *t, uint32_t id, int status, const char *body, size_t len, long retry_after_s)
{
	struct req *r = NULL;
	int qi;

	for (qi = 0; qi < t->nq; qi++)
		if (t->q[qi].in_flight && t->q[qi].id == id) {
			r = &t->q[qi];
			break;
		}
	if (!r) {
		tlog(t, 3, "answer to request %" PRIu32 ", which is not in flight; ignored", id);
		return;
	}
	r->in_flight = false;
	t->in_flight = false;
	t->changes++;
	if (r->kind != K_TOKEN && status >= 0 && status < 500)
		count_paid(t);
	if (r->kind != K_TOKEN && r->plug != t->c[r->conn].plug) {
		q_remove(t, qi); /* for a car unplugged since */
		return;
	}
	if (status < 0 || status >= 500)
		transient(t, qi, status);
	else if (status == 429)
		rate_limited(t, retry_after_s); /* the request stays and goes again when the block ends */
	else if (r->kind == K_TOKEN)
		token_answer(t, qi, status, body, len);
	else if (status == 401)
		unauthorized(t, qi);
	else if (status == 408 && r->kind != K_LIST)
		asleep(t, qi);
	else if (status >= 200 && status < 300)
		success(t, qi, body, len);
	else
		client_error(t, qi, status, body, len);
}

/* ---------------------------------------------------------------- the loop */

static uint64_t queue_deadline(const struct tesla *t)
{
	uint64_t lo = 0, d = UINT64_MAX;
	unsigned busy = 0;
	int i;

	if (t->in_flight || t->nq == 0)
		return UINT64_MAX;
	if (t->st.blocked_until_ms && t->wall < t->st.blocked_until_ms)
		lo = wall_to_mono(t, t->st.blocked_until_ms);
	i = q_find(t, 0, K_TOKEN);
	if (i >= 0)
		return max_u64(lo, t->q[i].not_before);
	if (!token_usable(t) && t->refresh[0])
		return max_u64(lo, t->refresh_hold);
	if (t->st.paid_today >= (uint32_t)t->budget)
		lo = max_u64(lo, wall_to_mono(t, (t->day + 1) * DAY_MS));
	for (i = 0; i < t->nq; i++) {
		unsigned bit = 1u << t->q[i].conn;

		if (busy & bit)
			continue;
		busy |= bit;
		if (t->q[i].not_before < d)
			d = t->q[i].not_before;
	}
	return d == UINT64_MAX ? d : max_u64(lo, d);
}

static uint64_t compute_deadline(const struct tesla *t)
{
	uint64_t d = UINT64_MAX;

	if (t->st.needs_login)
		return d;
	for (int ci = 1; ci <= TESLA_MAX_CONNECTORS; ci++)
		if (t->c[ci].next_at < d)
			d = t->c[ci].next_at;
	if (queue_deadline(t) < d)
		d = queue_deadline(t);
	if (t->refresh[0] && t->exp_ms && q_find(t, 0, K_TOKEN) < 0) {
		uint64_t r = max_u64(wall_to_mono(t, t->exp_ms - REFRESH_AHEAD_MS), t->refresh_hold);

		if (r < d)
			d = r;
	}
	return d;
}

static void run(struct tesla *t)
{
	if (t->st.blocked_until_ms && t->wall >= t->st.blocked_until_ms) {
		t->st.blocked_until_ms = 0;
		t->block_logged = false;
		save_state(t);
		tlog(t, 2, "the rate limit block is over");
	}
	roll_day(t);
	/* Until nothing changes: an answer or a send can enable another decision. */
	for (int pass = 0; pass < 8; pass++) {
		uint32_t before = t->changes;

		for (int ci = 1; ci <= TESLA_MAX_CONNECTORS; ci++)
			decide(t, ci);
		ensure_refresh(t);
		pump(t);
		if (t->changes == before)
			break;
	}
	t->deadline = compute_deadline(t);
}

static void set_now(struct tesla *t, uint64_t mono, int64_t wall)
{
	if (!t->have_mono || mono > t->mono)
		t->mono = mono;
	t->wall = wall;
	t->have_mono = true;
}

/* ---------------------------------------------------------------- start-up */

/* Persisted tokens win, unless the configured refresh token is not the one their chain started from:
 * then the user logged in again and the configuration is newer. */
static int load_tokens(struct tesla *t, const struct tesla_params *p)
{
	const char *ca = token_ok(p->access_token) ? p->access_token : "";
	const char *cr = token_ok(p->refresh_token) ? p->refresh_token : "";
	json_t *j = p->tokens_json ? json_loads(p->tokens_json, 0, NULL) : NULL;
	const char *fa = json_string_value(json_object_get(j, "access_token"));
	const char *fr = json_string_value(json_object_get(j, "refresh_token"));
	const char *fs = json_string_value(json_object_get(j, "seed_refresh_token"));
	const json_t *fe = json_object_get(j, "expires_at_ms");
	int r = 0;

	if (p->access_token && p->access_token[0] && !ca[0])
		tlog(t, 1, "tesla.accessToken is not a usable token; ignored");
	if (p->refresh_token && p->refresh_token[0] && !cr[0])
		tlog(t, 1, "tesla.refreshToken is not a usable token; ignored");
	if (p->tokens_json &&
	    (!token_ok(fr) || (fa && fa[0] && !token_ok(fa)) || !fs || (fe && !json_is_integer(fe)))) {
		tlog(t, 1, "%s does not parse; ignored", TESLA_FILE_TOKENS);
		fr = NULL;
	} else if (fr && cr[0] && strcmp(cr, fs)) {
		tlog(t, 2, "tesla.refreshToken changed since %s was written: using the configured tokens",
		     TESLA_FILE_TOKENS);
		fr = NULL;
	}
	if (fr) {
		if (set_str(&t->access, fa && token_ok(fa) ? fa : "") < 0 || set_str(&t->refresh, fr) < 0 ||
		    set_str(&t->seed, fs) < 0)
			r = -ENOMEM;
		t->exp_ms = json_integer_value(fe) > 0 ? json_integer_value(fe) : jwt_exp_ms(t->access);
	} else {
		if (set_str(&t->access, ca) < 0 || set_str(&t->refresh, cr) < 0 || set_str(&t->seed, cr) < 0)
			r = -ENOMEM;
		t->exp_ms = jwt_exp_ms(t->access);
	}
	json_decref(j);
	return r;
}

static void load_state(struct tesla *t, const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	const json_t *b = json_object_get(j, "blocked_until_ms"), *d = json_object_get(j, "budget_day");
	const json_t *pt = json_object_get(j, "paid_today");

	if (text && (!json_is_object(j) || (b && !json_is_integer(b)) || (d && !json_is_integer(d)) ||
		     (pt && !json_is_integer(pt)))) {
		tlog(t, 1, "%s does not parse; ignored", TESLA_FILE_STATE);
		json_decref(j);
		return;
	}
	/* A restart must still honour a Retry-After, however long ago the 429 was. */
	if (json_integer_value(b) > t->wall) {
		int64_t most = t->wall + BLOCK_MAX_S * 1000;

		t->st.blocked_until_ms = json_integer_value(b) < most ? json_integer_value(b) : most;
	}
	if (d && json_integer_value(d) == t->day && json_integer_value(pt) > 0)
		t->st.paid_today = json_integer_value(pt) < UINT32_MAX ? (uint32_t)json_integer_value(pt) : UINT32_MAX;
	if (t->st.paid_today >= (uint32_t)t->budget) {
		t->st.budget_exhausted = true;
		t->budget_logged = true;
		tlog(t, 1, "the daily budget of paid calls is spent; no vehicle API calls until 00:00 UTC");
	}
	if (t->st.blocked_until_ms)
		tlog(t, 1, "rate limited: no vehicle API calls for %" PRId64 " s more",
		     (t->st.blocked_until_ms - t->wall + 999) / 1000);
	json_decref(j);
}

/* ---------------------------------------------------------------- the API */

struct tesla *tesla_new(const struct tesla_params *p, const struct tesla_env *env, int64_t now_wall_ms)
{
	struct tesla *t;
	size_t n;

	if (!p || !env || !env->http || !p->base_url || !p->base_url[0] || !p->token_url || !p->token_url[0] ||
	    !p->client_id || !p->client_id[0] || p->daily_budget <= 0 || strlen(p->base_url) > BASE_URL_MAX)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->env = *env;
	if (set_str(&t->base_url, p->base_url) < 0 || set_str(&t->token_url, p->token_url) < 0 ||
	    set_str(&t->client_id, p->client_id) < 0 || set_str(&t->access, "") < 0 || set_str(&t->refresh, "") < 0 ||
	    set_str(&t->seed, "") < 0)
		goto fail;
	n = strlen(t->base_url);
	while (n > 0 && t->base_url[n - 1] == '/')
		t->base_url[--n] = 0;
	t->budget = p->daily_budget;
	t->car_amps = p->car_amps > 0 ? p->car_amps : 0;
	t->dwell_ms = (uint64_t)(p->dwell_s > 0 ? p->dwell_s : 60) * 1000;
	t->grace_ms = (uint64_t)(p->start_grace_s > 0 ? p->start_grace_s : 30) * 1000;
	t->has_home = p->has_home && isfinite(p->home_lat) && isfinite(p->home_lon) && isfinite(p->home_radius_m);
	t->home_lat = p->home_lat;
	t->home_lon = p->home_lon;
	t->home_r = p->home_radius_m;
	t->wall = now_wall_ms;
	t->day = day_of(now_wall_ms);
	t->deadline = UINT64_MAX;
	for (int ci = 0; ci <= TESLA_MAX_CONNECTORS; ci++)
		t->c[ci].next_at = UINT64_MAX;
	if (load_tokens(t, p) < 0)
		goto fail;
	load_state(t, p->state_json);
	if (!t->access[0] && !t->refresh[0])
		needs_login(t, "no Tesla tokens configured");
	return t;
fail:
	tesla_free(t);
	return NULL;
}

void tesla_free(struct tesla *t)
{
	if (!t)
		return;
	free(t->base_url);
	free(t->token_url);
	free(t->client_id);
	free(t->access);
	free(t->refresh);
	free(t->seed);
	free(t);
}

void tesla_connector_update(struct tesla *t, int connector, const struct tesla_conn_state *st, uint64_t now_mono_ms,
			    int64_t now_wall_ms)
{
	struct conn *c;

	if (!t || !st || connector < 1 || connector > TESLA_MAX_CONNECTORS)
		return;
	set_now(t, now_mono_ms, now_wall_ms);
	c = &t->c[connector];
	c->seen = true;
	c->present = st->present;
	/* A slave that stops answering says nothing about the car: keep what we knew. */
	if (st->present) {
		if (c->plugged && !st->plugged)
			unplugged(t, connector);
		c->plugged = st->plugged;
		c->drawing = st->plugged && st->drawing;
		c->granted = st->granted_amps;
		c->min = st->min_amps;
		if (c->plugged && vin_ok(st->vin) && strcmp(c->vin, st->vin)) {
			q_remove_if(t, connector, locate_req);
			located(t, connector, st->vin, "reported by the TWC");
		}
		if (c->drawing) {
			c->start_latched = false;
			c->start_ok = false;
			if (!paused(c))
				c->we_stopped = false;
		}
		if (!paused(c))
			c->stop_ok = false;
		if (c->plugged && !c->drawing && !paused(c)) {
			if (!c->grant_active)
				c->grant_since = now_mono_ms;
			c->grant_active = true;
		} else {
			c->grant_active = false;
		}
	}
	run(t);
}

void tesla_http_done(struct tesla *t, uint32_t id, int status, const char *body, size_t len, long retry_after_s,
		     uint64_t now_mono_ms, int64_t now_wall_ms)
{
	if (!t)
		return;
	set_now(t, now_mono_ms, now_wall_ms);
	answer(t, id, status, body, len, retry_after_s);
	run(t);
}

void tesla_tick(struct tesla *t, uint64_t now_mono_ms, int64_t now_wall_ms)
{
	if (!t)
		return;
	set_now(t, now_mono_ms, now_wall_ms);
	run(t);
}

uint64_t tesla_next_deadline(const struct tesla *t)
{
	if (!t)
		return UINT64_MAX;
	/* Before the first mono reading only a due token refresh could be pending: tick now to learn it. */
	if (!t->have_mono)
		return t->refresh[0] && t->exp_ms && !t->st.needs_login ? 0 : UINT64_MAX;
	return t->deadline;
}

const char *tesla_connector_vin(const struct tesla *t, int connector)
{
	if (!t || connector < 1 || connector > TESLA_MAX_CONNECTORS)
		return "";
	return t->c[connector].vin;
}

const struct tesla_stats *tesla_stats(const struct tesla *t)
{
	return t ? &t->st : NULL;
}
