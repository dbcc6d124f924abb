/*
 * gw_tesla: bind the tesla_api core to the loop: an observer of every attached bus (bus k's slot s is
 * the core's connector 3k + s + 1; a bus keeps its k while attached and a detached k is reused), a
 * timer at the core's deadline, HTTP through gw_http (the core sends one request at a time, so one
 * slot of bookkeeping is enough), and the core's state files in the top-level dataDir.
 */
#include "gw_tesla.h"

#include <errno.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_core_params.h"
#include "gw_http.h"
#include "gw_log.h"
#include "gw_store.h"
#include "gw_timer.h"
#include "tesla_api.h"
#include "twc_bus.h"

#define STATE_FILE_MAX 65536

_Static_assert(GW_TESLA_BUSES_MAX * TWC_MAX_SLAVES <= TESLA_MAX_CONNECTORS, "a connector for every TWC");

/* One attached bus: the observer's user, so each bus's changes come with their block. */
struct tbus {
	struct gw_tesla *t;
	struct gw_bus *bus;                /* NULL: the block is free */
	int block;                         /* its connectors are 3 * block + 1 .. 3 * block + 3 */
	int min_amps;
	char name[GW_CONFIG_CBID_MAX + 1];
	uint16_t slot_id[TWC_MAX_SLAVES];  /* TWC in each slot last time, 0 none */
};

struct gw_tesla {
	struct gw_loop *loop;
	const struct gw_clock *clock;
	struct gw_http *http;
	struct tesla *core;
	char data_dir[GW_CONFIG_PATH_MAX];
	char legacy_dir[GW_CONFIG_PATH_MAX];
	char ca_file[GW_CONFIG_PATH_MAX];
	bool token_pinned;                 /* the token endpoint is the proxy's host: same CA */
	uint32_t req_id;                   /* the request in flight (the core's id) */
	bool stopped;
	struct gw_core_timer tick;         /* the core's deadline */
	int n_bus;                         /* blocks */
	struct tbus *bus;                  /* n_bus of them */
};

static uint64_t core_deadline(void *owner)
{
	const struct gw_tesla *t = owner;

	return tesla_next_deadline(t->core);
}

static void core_tick(void *owner)
{
	struct gw_tesla *t = owner;

	tesla_tick(t->core, gw_clock_now_ms(t->clock), gw_clock_wall_ms());
}

static void tick_rearm(struct gw_tesla *t)
{
	gw_core_timer_rearm(&t->tick);
}

/* ---- the core's environment ---- */

static void http_done(void *user, const struct gw_http_resp *r)
{
	struct gw_tesla *t = user;

	if (r->status < 0)
		gw_log_debug("tesla: request failed: %s", r->error[0] ? r->error : strerror(-r->status));
	tesla_http_done(t->core, t->req_id, r->status, r->body, r->len, r->retry_after_s, gw_clock_now_ms(t->clock),
			gw_clock_wall_ms());
	tick_rearm(t);
}

static int env_http(void *user, const struct tesla_http_req *q)
{
	struct gw_tesla *t = user;
	struct gw_http_req r;
	long rc;

	memset(&r, 0, sizeof(r));
	r.method = q->method;
	r.url = q->url;
	r.body = q->body;
	r.content_type = q->content_type;
	r.bearer = q->bearer;
	/* tesla.caFile is for the signing proxy; Tesla's token host has a public certificate, unless the
	 * token endpoint is served by the proxy's host too (a local stand-in). */
	r.ca_file = t->ca_file[0] && (!q->token_endpoint || t->token_pinned) ? t->ca_file : NULL;
	r.timeout_ms = 20000; /* the proxy's own upstream timeout is 10 s */
	t->req_id = q->id;
	rc = gw_http_request(t->http, &r, http_done, t);
	return rc < 0 ? (int)rc : 0;
}

static int env_store(void *user, const char *name, const char *text, bool secret)
{
	struct gw_tesla *t = user;
	int rc = gw_store_write(t->data_dir, name, text, strlen(text), secret ? 0600 : 0640);

	if (rc)
		gw_log_error("tesla: cannot write %s/%s: %s", t->data_dir, name, strerror(-rc));
	return rc;
}

static void env_log(void *user, enum core_log_level level, const char *msg)
{
	(void)user;
	gw_log(gw_log_level_from_core(level), "tesla: %s", msg);
}

static void env_connector_name(void *user, int connector, char *buf, size_t n)
{
	const struct gw_tesla *t = user;
	int block = (connector - 1) / TWC_MAX_SLAVES;

	if (block >= 0 && block < t->n_bus && t->bus[block].name[0])
		snprintf(buf, n, "%s connector %d", t->bus[block].name, (connector - 1) % TWC_MAX_SLAVES + 1);
}

/* scheme://host[:port] of @url, the part before the path. */
static size_t origin_len(const char *url)
{
	const char *p = strstr(url, "://");
	size_t n;

	if (!p)
		return 0;
	p += 3;
	n = strcspn(p, "/?#");
	return (size_t)(p - url) + n;
}

/* ---- the buses: observers, told whenever what a bus reports may have changed ---- */

/* @st for a slot that holds no TWC now, or whose car left with its bus. */
static void conn_state_none(const struct tbus *b, struct tesla_conn_state *st)
{
	memset(st, 0, sizeof(*st));
	st->vin = "";
	st->min_amps = b->min_amps;
}

static void bus_changed(void *user)
{
	struct tbus *b = user;
	struct gw_tesla *t = b->t;
	const struct twc_bus *core = gw_bus_core(b->bus);
	uint64_t now = gw_clock_now_ms(t->clock);
	int64_t wall = gw_clock_wall_ms();

	if (t->stopped)
		return;
	for (int slot = 0; slot < TWC_MAX_SLAVES; slot++) {
		int conn = b->block * TWC_MAX_SLAVES + slot + 1;
		struct tesla_conn_state st;
		struct twc_slave_info s;
		bool have = twc_bus_slave(core, slot, &s) == 0;

		conn_state_none(b, &st);
		/* Another TWC in this slot: the old one's connector first sees "gone". */
		if (b->slot_id[slot] && (!have || s.id != b->slot_id[slot]))
			tesla_connector_update(t->core, conn, &st, now, wall);
		b->slot_id[slot] = have ? s.id : 0;
		if (!have)
			continue;
		st.present = s.status != TWC_SLAVE_ABSENT;
		st.plugged = s.status == TWC_SLAVE_PLUGGED || s.status == TWC_SLAVE_CHARGING;
		st.drawing = s.status == TWC_SLAVE_CHARGING;
		st.vin = s.vin;
		st.granted_amps = s.target_amps;
		tesla_connector_update(t->core, conn, &st, now, wall);
	}
	tick_rearm(t);
}

static char *state_read_in(const char *dir, const char *name, int *rc)
{
	char *text = NULL;
	size_t len;

	*rc = gw_store_read(dir, name, &text, &len, STATE_FILE_MAX);
	if (*rc && *rc != -ENOENT)
		gw_log_warn("tesla: cannot read %s/%s (%s); starting without it", dir, name, strerror(-*rc));
	return *rc ? NULL : text;
}

/* The file from dataDir, or from where an older version kept it (the next write lands in dataDir:
 * a refresh token is single use, so the one last saved must not be lost). */
static char *state_read(const struct gw_tesla *t, const char *name)
{
	int rc;
	char *text = state_read_in(t->data_dir, name, &rc);

	if (rc == -ENOENT && t->legacy_dir[0]) {
		text = state_read_in(t->legacy_dir, name, &rc);
		if (text)
			gw_log_info("tesla: %s read from %s; it is kept in %s from now on", name, t->legacy_dir,
				    t->data_dir);
	}
	return text;
}

struct gw_tesla *gw_tesla_new(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg,
			      const char *data_dir, const char *legacy_dir, int buses)
{
	const struct gw_config_tesla *c = &cfg->tesla;
	struct gw_tesla_core_params tp;
	struct tesla_params *p = &tp.p;
	const char *base = tp.base;
	struct tesla_env env;
	struct gw_tesla *t;
	char *tokens, *state;
	size_t n;

	if (!c->enabled || buses < 1 || buses > GW_TESLA_BUSES_MAX)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->loop = loop;
	t->clock = clock;
	t->n_bus = buses;
	t->bus = calloc((size_t)buses, sizeof(*t->bus));
	snprintf(t->data_dir, sizeof(t->data_dir), "%s", data_dir);
	snprintf(t->legacy_dir, sizeof(t->legacy_dir), "%s", legacy_dir ? legacy_dir : "");
	snprintf(t->ca_file, sizeof(t->ca_file), "%s", c->ca_file);
	t->http = t->bus ? gw_http_new(loop) : NULL;
	if (!t->http) {
		free(t->bus);
		free(t);
		return NULL;
	}
	gw_core_params_tesla(c, &tp);
	n = origin_len(base);
	t->token_pinned = n && origin_len(c->token_url) == n && !strncmp(base, c->token_url, n);
	p->tokens_json = tokens = state_read(t, TESLA_FILE_TOKENS);
	p->state_json = state = state_read(t, TESLA_FILE_STATE);
	memset(&env, 0, sizeof(env));
	env.user = t;
	env.http = env_http;
	env.store = env_store;
	env.log = env_log;
	env.connector_name = env_connector_name;
	p->connectors = buses * TWC_MAX_SLAVES;
	t->core = tesla_new(p, &env, gw_clock_wall_ms());
	free(tokens);
	free(state);
	if (!t->core) {
		gw_log_error("tesla: the vehicle API client refused its settings");
		gw_http_free(t->http);
		free(t->bus);
		free(t);
		return NULL;
	}
	for (int i = 0; i < buses; i++) {
		t->bus[i].t = t;
		t->bus[i].block = i;
	}
	gw_core_timer_init(&t->tick, loop, clock, t, core_deadline, core_tick);
	gw_log_info("tesla: vehicle API at %s (budget %d paid calls a day)", base, c->daily_budget);
	return t;
}

static struct tbus *tbus_of(const struct gw_tesla *t, const struct gw_bus *bus)
{
	for (int i = 0; t && bus && i < t->n_bus; i++)
		if (t->bus[i].bus == bus)
			return &t->bus[i];
	return NULL;
}

int gw_tesla_attach(struct gw_tesla *t, struct gw_bus *bus, const char *name, int min_amps)
{
	struct gw_bus_observer obs = { .on_change = bus_changed };
	struct tbus *b = NULL;

	if (tbus_of(t, bus))
		return -EEXIST;
	for (int i = 0; i < t->n_bus && !b; i++)
		if (!t->bus[i].bus)
			b = &t->bus[i];
	if (!b)
		return -ENOSPC;
	obs.user = b;
	if (gw_bus_add_observer(bus, &obs) < 0)
		return -ENOMEM;
	b->bus = bus;
	b->min_amps = min_amps;
	snprintf(b->name, sizeof(b->name), "%s", name ? name : "");
	memset(b->slot_id, 0, sizeof(b->slot_id));
	bus_changed(b);
	return 0;
}

void gw_tesla_detach(struct gw_tesla *t, struct gw_bus *bus)
{
	struct tbus *b = tbus_of(t, bus);
	uint64_t now;
	int64_t wall;

	if (!b)
		return;
	gw_bus_remove_observer(bus, b);
	now = gw_clock_now_ms(t->clock);
	wall = gw_clock_wall_ms();
	/* Its cars are no longer ours to command: as if unplugged, which drops what is queued for them
	 * and leaves the block clean for the next bus. */
	for (int slot = 0; slot < TWC_MAX_SLAVES && !t->stopped; slot++) {
		struct tesla_conn_state st;

		conn_state_none(b, &st);
		st.present = true;
		tesla_connector_update(t->core, b->block * TWC_MAX_SLAVES + slot + 1, &st, now, wall);
	}
	b->bus = NULL;
	if (!t->stopped)
		tick_rearm(t);
}

void gw_tesla_stop(struct gw_tesla *t)
{
	if (!t)
		return;
	t->stopped = true;
	for (int i = 0; i < t->n_bus; i++)
		if (t->bus[i].bus)
			gw_bus_remove_observer(t->bus[i].bus, &t->bus[i]);
	gw_core_timer_stop(&t->tick);
	gw_http_stop(t->http);
}

void gw_tesla_free(struct gw_tesla *t)
{
	if (!t)
		return;
	gw_tesla_stop(t);
	tesla_free(t->core);
	gw_http_free(t->http);
	free(t->bus);
	free(t);
}

int gw_tesla_vehicle(const struct gw_tesla *t, const struct gw_bus *bus, int slot, bool car, int64_t now_wall_ms,
		     char *detail, size_t n)
{
	const struct tbus *b = tbus_of(t, bus);
	const struct tesla_stats *st;
	const char *vin;

	if (!b) {
		snprintf(detail, n, "vehicle API not configured");
		return -1;
	}
	if (!car || slot < 0 || slot >= TWC_MAX_SLAVES) {
		snprintf(detail, n, "no car");
		return -1;
	}
	st = tesla_stats(t->core);
	vin = tesla_connector_vin(t->core, b->block * TWC_MAX_SLAVES + slot + 1);
	if (st->needs_login)
		snprintf(detail, n, "login needed (the refresh token was refused)");
	else if (st->budget_exhausted)
		snprintf(detail, n, "daily budget spent");
	else if (st->blocked_until_ms > now_wall_ms)
		snprintf(detail, n, "rate-limited for %lld s", (long long)((st->blocked_until_ms - now_wall_ms + 999) / 1000));
	else if (!vin || !vin[0])
		snprintf(detail, n, "car not identified");
	else {
		snprintf(detail, n, "%s", vin);
		return 1;
	}
	return 0;
}
