/*
 * tesla_api: the vehicle API client's life and loop, and the public entry points (see tesla_api.h and
 * tesla_internal.h for how the core is divided). Every entry point ends in run(), which re-decides each
 * connector with the time it was given, sends what may go and computes the next deadline, so a
 * deadline that has passed is always acted on (and moved forward) by the next tesla_tick(). Also here:
 * the small helpers every part uses (logging with tokens blanked, quoting, storing a state file).
 * Pure: no clock, socket or file; HTTP and storage go out through struct tesla_env.
 */
#include "tesla_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- shared helpers */

static const char *secrets_of(const struct tesla *t, int i)
{
	return i == 0 ? t->access : i == 1 ? t->refresh : t->seed;
}

/* Belt and braces: no line leaves with a token in it, even one quoted back by a server. */
void tesla_log(struct tesla *t, enum core_log_level level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!t->env.log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (int i = 0; i < 3; i++)
		core_text_scrub(buf, secrets_of(t, i), SCRUB_MIN);
	t->env.log(t->env.user, (int)level, buf); /* tesla_env keeps its int: 0 error .. 3 debug */
}

const char *tesla_conn_label(struct tesla *t, int ci)
{
	t->label[0] = 0;
	if (t->env.connector_name)
		t->env.connector_name(t->env.user, ci, t->label, sizeof(t->label));
	if (!t->label[0])
		snprintf(t->label, sizeof(t->label), "connector %d", ci);
	return t->label;
}

/* True the first time @key is seen: "log once per kind". */
bool tesla_log_first_time(struct tesla *t, uint32_t key)
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
void tesla_text_quote(char *dst, size_t n, const char *src, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; src && i < len && o + 1 < n; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[o] = 0;
}

bool tesla_vin_ok(const char *s)
{
	if (!s)
		return false;
	for (int i = 0; i < TESLA_VIN_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
			return false;
	return s[TESLA_VIN_LEN] == 0;
}

int tesla_str_set(char **dst, const char *src)
{
	char *s = strdup(src ? src : "");

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

int tesla_json_store(struct tesla *t, const char *name, json_t *j, bool secret)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int r = -ENOMEM;

	json_decref(j);
	if (text) {
		r = t->env.store ? t->env.store(t->env.user, name, text, secret) : 0;
		free(text);
	}
	if (r < 0)
		tesla_log(t, CORE_LOG_ERROR, "could not save %s: %s", name, strerror(-r));
	return r;
}

/* ---------------------------------------------------------------- the loop */

static uint64_t compute_deadline(const struct tesla *t)
{
	uint64_t d = UINT64_MAX;

	if (t->st.needs_login)
		return d;
	for (int ci = 1; ci <= t->nc; ci++)
		if (t->c[ci].next_at < d)
			d = t->c[ci].next_at;
	if (tesla_queue_deadline(t) < d)
		d = tesla_queue_deadline(t);
	if (t->refresh[0] && t->exp_ms && tesla_queue_find(t, 0, K_TOKEN) < 0) {
		uint64_t r = tesla_max_u64(tesla_wall_to_mono(t, t->exp_ms - REFRESH_AHEAD_MS), t->refresh_hold);

		if (r < d)
			d = r;
	}
	return d;
}

static void run(struct tesla *t)
{
	tesla_block_expire(t);
	tesla_budget_roll_day(t);
	/* Until nothing changes: an answer or a send can enable another decision. */
	for (int pass = 0; pass < 8; pass++) {
		uint32_t before = t->changes;

		for (int ci = 1; ci <= t->nc; ci++)
			tesla_decide(t, ci);
		tesla_token_ensure_refresh(t);
		tesla_queue_pump(t);
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

/* ---------------------------------------------------------------- the API */

struct tesla *tesla_new(const struct tesla_params *p, const struct tesla_env *env, int64_t now_wall_ms)
{
	struct tesla *t;
	size_t n;

	if (!p || !env || !env->http || !p->base_url || !p->base_url[0] || !p->token_url || !p->token_url[0] ||
	    !p->client_id || !p->client_id[0] || p->daily_budget <= 0 || strlen(p->base_url) > BASE_URL_MAX ||
	    p->connectors < 0 || p->connectors > TESLA_MAX_CONNECTORS)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->env = *env;
	t->nc = p->connectors ? p->connectors : TESLA_CONNECTORS_DEFAULT;
	t->q_max = QUEUE_PER_CONNECTOR * (t->nc > TESLA_CONNECTORS_DEFAULT ? t->nc : TESLA_CONNECTORS_DEFAULT);
	t->n_dw = DWELL_PER_CONNECTOR * (t->nc > TESLA_CONNECTORS_DEFAULT ? t->nc : TESLA_CONNECTORS_DEFAULT);
	t->c = calloc((size_t)t->nc + 1, sizeof(*t->c));
	t->q = calloc((size_t)t->q_max, sizeof(*t->q));
	t->dw = calloc((size_t)t->n_dw, sizeof(*t->dw));
	if (!t->c || !t->q || !t->dw)
		goto fail;
	if (tesla_str_set(&t->base_url, p->base_url) < 0 || tesla_str_set(&t->token_url, p->token_url) < 0 ||
	    tesla_str_set(&t->client_id, p->client_id) < 0 || tesla_str_set(&t->access, "") < 0 ||
	    tesla_str_set(&t->refresh, "") < 0 || tesla_str_set(&t->seed, "") < 0)
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
	t->day = tesla_day_of(now_wall_ms);
	t->deadline = UINT64_MAX;
	for (int ci = 0; ci <= t->nc; ci++)
		t->c[ci].next_at = UINT64_MAX;
	if (tesla_tokens_load(t, p) < 0)
		goto fail;
	tesla_state_load(t, p->state_json);
	if (!t->access[0] && !t->refresh[0])
		tesla_login_needed(t, "no Tesla tokens configured");
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
	free(t->c);
	free(t->q);
	free(t->dw);
	free(t);
}

void tesla_connector_update(struct tesla *t, int connector, const struct tesla_conn_state *st, uint64_t now_mono_ms,
			    int64_t now_wall_ms)
{
	struct conn *c;

	if (!t || !st || connector < 1 || connector > t->nc)
		return;
	set_now(t, now_mono_ms, now_wall_ms);
	c = &t->c[connector];
	c->seen = true;
	c->present = st->present;
	/* A slave that stops answering says nothing about the car: keep what we knew. */
	if (st->present) {
		if (c->plugged && !st->plugged)
			tesla_conn_unplugged(t, connector);
		c->plugged = st->plugged;
		c->drawing = st->plugged && st->drawing;
		c->granted = st->granted_amps;
		c->min = st->min_amps;
		if (c->plugged && tesla_vin_ok(st->vin) && strcmp(c->vin, st->vin)) {
			tesla_queue_remove_if(t, connector, tesla_req_locate);
			tesla_locate_found(t, connector, st->vin, "reported by the TWC");
		}
		if (c->drawing) {
			c->start_latched = false;
			c->start_ok = false;
			if (!tesla_conn_paused(c))
				c->we_stopped = false;
		}
		if (!tesla_conn_paused(c))
			c->stop_ok = false;
		if (c->plugged && !c->drawing && !tesla_conn_paused(c)) {
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
	tesla_answer(t, id, status, body, len, retry_after_s);
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
	if (!t || connector < 1 || connector > t->nc)
		return "";
	return t->c[connector].vin;
}

const struct tesla_stats *tesla_stats(const struct tesla *t)
{
	return t ? &t->st : NULL;
}
