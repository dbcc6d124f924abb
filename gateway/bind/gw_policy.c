/*
 * gw_policy: the ems_policy core and the ems_meter cores bound to the loop (see gw_policy.h). Each
 * meter's requests go out through the transport its type needs; the answers come back into its core
 * with the simulated time. One lws_sul ticks the meters when they are due and evaluates the policy
 * at least once a second; the decision becomes the bus's policy cap. Nothing here decides amps: the
 * policy core does, and the bus keeps every wiring limit.
 */
#include "gw_policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include "ems_meter.h"
#include "ems_policy.h"
#include "gw_core_params.h"
#include "gw_http.h"
#include "gw_log.h"
#include "gw_mqtt.h"
#include "gw_ocpp.h"
#include "gw_port.h"
#include "gw_timer.h"

#define EVAL_EVERY_MS 1000u
#define HTTP_SLOTS 8        /* requests one meter may have in flight (HA: one per entity) */
#define HTTP_TIMEOUT_MS 10000

struct gw_policy;

struct http_slot {
	struct meter *m;
	uint32_t id;        /* the core's request id */
	bool busy;
};

struct meter {
	struct gw_policy *pol;
	struct gw_config_meter cfg;
	char name[48];
	struct ems_meter *core;
	struct gw_port *port;   /* solaredge-modbus */
	struct gw_mqtt *mqtt;   /* mqtt */
	bool reset_wanted;      /* the core asked for a new Modbus connection */
	struct http_slot http[HTTP_SLOTS];
};

struct gw_policy {
	struct gw_loop *loop;
	const struct gw_clock *clock;
	struct gw_bus *bus;
	struct gw_ocpp *ocpp;
	struct gw_policy_source source;
	bool has_source;
	struct gw_config_policy cfg;
	int status_interval;
	struct ems_policy *core;
	struct gw_http *http;
	struct meter meters[GW_CONFIG_EMS_MAX];
	int n_meters;
	int64_t wall0_ms;          /* real wall time at creation; wall = wall0 + simulated elapsed */
	uint64_t offline_since_ms; /* OCPP: when the central system was last seen going away; 0 online */
	bool stopped;
	struct ems_policy_decision last;
	bool have_last;
	bool applied;
	struct ems_reading reading;
	double charger_w;          /* the chargers' draw when a meter last answered (see data_arrived) */
	lws_sorted_usec_list_t sul_tick;
	lws_sorted_usec_list_t sul_status;
};

static void tick_cb(lws_sorted_usec_list_t *sul);
static void status_cb(lws_sorted_usec_list_t *sul);
static void evaluate(struct gw_policy *pol);

/* Answers of @m that gave values so far: a change means fresh data. */
static unsigned meter_answers(const struct meter *m)
{
	struct ems_meter_stats st;

	ems_meter_stats(m->core, &st);
	return st.ok + st.messages;
}

/*
 * A meter's grid figure includes what the cars drew when it measured, so the surplus must add back
 * the draw of that moment, not of a later evaluation: between two polls a car ramping to its new
 * limit would otherwise look like more sun and feed back on itself. Called after a meter core was
 * handed an answer (@before: meter_answers() before that); a failed answer keeps the old pair.
 */
static void data_arrived(struct meter *m, unsigned before)
{
	if (meter_answers(m) != before)
		m->pol->charger_w = gw_bus_drawn_w(m->pol->bus);
	evaluate(m->pol);
}

static uint64_t now_ms(const struct gw_policy *pol)
{
	return gw_clock_now_ms(pol->clock);
}

/* ---- meter transports ---- */

static void meter_log(void *user, enum core_log_level level, const char *msg)
{
	struct meter *m = user;

	gw_log(gw_log_level_from_core(level), "%s: %s", m->name, msg);
}

static void http_done(void *user, const struct gw_http_resp *r)
{
	struct http_slot *slot = user;
	struct meter *m = slot->m;
	unsigned before;

	slot->busy = false;
	if (m->pol->stopped)
		return;
	before = meter_answers(m);
	ems_meter_http_done(m->core, slot->id, r->status, r->body, r->len, now_ms(m->pol));
	data_arrived(m, before);
}

static int meter_http(void *user, const struct ems_meter_http_req *req)
{
	struct meter *m = user;
	struct http_slot *slot = NULL;
	struct gw_http_req r;
	long rc;

	for (int i = 0; i < HTTP_SLOTS && !slot; i++)
		if (!m->http[i].busy)
			slot = &m->http[i];
	if (!slot)
		return -EBUSY;
	memset(&r, 0, sizeof(r));
	r.method = req->method;
	r.url = req->url;
	r.body = req->body;
	r.content_type = req->content_type;
	r.bearer = req->bearer;
	r.ca_file = m->cfg.ca_file[0] ? m->cfg.ca_file : NULL;
	r.insecure = m->cfg.insecure;
	r.timeout_ms = HTTP_TIMEOUT_MS;
	r.max_body = 256 * 1024;
	slot->m = m;
	slot->id = req->id;
	slot->busy = true;
	rc = gw_http_request(m->pol->http, &r, http_done, slot);
	if (rc < 0) {
		slot->busy = false;
		return (int)rc;
	}
	return 0;
}

static int meter_modbus_write(void *user, const uint8_t *bytes, size_t len)
{
	struct meter *m = user;

	return m->port ? gw_port_write(m->port, bytes, len) : -ENOTCONN;
}

static void meter_modbus_reset(void *user)
{
	struct meter *m = user;

	/* Asked from inside the port's own callbacks: replace the port from the next tick instead. */
	m->reset_wanted = true;
	gw_timer_in(m->pol->loop, NULL, &m->pol->sul_tick, tick_cb, 0);
}

static void port_rx(void *user, const uint8_t *bytes, size_t len)
{
	struct meter *m = user;

	unsigned before = meter_answers(m);

	ems_meter_modbus_rx(m->core, bytes, len, now_ms(m->pol));
	data_arrived(m, before);
}

static void port_up(void *user)
{
	struct meter *m = user;

	ems_meter_modbus_up(m->core, now_ms(m->pol));
}

static void port_down(void *user)
{
	struct meter *m = user;

	ems_meter_modbus_down(m->core, now_ms(m->pol));
}

static int port_open(struct meter *m)
{
	char spec[GW_PORT_SPEC_MAX];
	bool v6 = strchr(m->cfg.host, ':') != NULL;

	snprintf(spec, sizeof(spec), "tcp://%s%s%s:%d", v6 ? "[" : "", m->cfg.host, v6 ? "]" : "", m->cfg.port);
	m->port = gw_port_new(m->pol->loop, spec, &(struct gw_port_handlers){
		.user = m, .on_rx = port_rx, .on_up = port_up, .on_down = port_down });
	if (!m->port)
		return -ENOMEM;
	return gw_port_start(m->port);
}

static void mqtt_message(void *user, const char *topic, const uint8_t *payload, size_t len)
{
	struct meter *m = user;

	unsigned before = meter_answers(m);

	ems_meter_mqtt_message(m->core, topic, payload, len, now_ms(m->pol));
	data_arrived(m, before);
}

static void mqtt_link(void *user, bool up)
{
	struct meter *m = user;

	ems_meter_mqtt_link(m->core, up, now_ms(m->pol));
}

static int mqtt_open(struct meter *m)
{
	const char *topics[EMS_NVALUES];
	struct gw_mqtt_params p;
	size_t n = 0;

	for (int v = 0; v < EMS_NVALUES; v++) {
		const char *t = ems_meter_mqtt_topic(m->core, (enum ems_value)v);
		bool dup = false;

		for (size_t i = 0; t && i < n; i++)
			dup = dup || strcmp(topics[i], t) == 0;
		if (t && !dup)
			topics[n++] = t;
	}
	memset(&p, 0, sizeof(p));
	p.host = m->cfg.host;
	p.port = m->cfg.port;
	p.username = m->cfg.username;
	p.password = m->cfg.password;
	p.topics = topics;
	p.n_topics = n;
	p.name = m->name;
	m->mqtt = gw_mqtt_new(m->pol->loop, &p, &(struct gw_mqtt_handlers){
		.user = m, .on_message = mqtt_message, .on_link = mqtt_link });
	return m->mqtt ? 0 : -EIO;
}

static int meter_start(struct gw_policy *pol, struct meter *m, const struct gw_config_meter *c, int index)
{
	struct gw_meter_core_params mp;
	struct ems_meter_env env;

	m->pol = pol;
	m->cfg = *c;
	gw_core_params_meter(c, index, &mp);
	snprintf(m->name, sizeof(m->name), "%s", mp.name);
	memset(&env, 0, sizeof(env));
	env.user = m;
	env.http = meter_http;
	env.modbus_write = meter_modbus_write;
	env.modbus_reset = meter_modbus_reset;
	env.log = meter_log;
	m->core = ems_meter_new(&mp.p, &env, now_ms(pol));
	if (!m->core) {
		gw_log_error("%s: the meter core refused its settings", m->name);
		return -EINVAL;
	}
	if (c->type == EMS_METER_SOLAREDGE)
		return port_open(m);
	if (c->type == EMS_METER_MQTT)
		return mqtt_open(m);
	if (c->insecure && strncmp(c->url, "https://", 8) == 0)
		gw_log_info("%s: TLS certificate of %s not checked (self-signed device; set caFile to pin it)", m->name,
			    c->url);
	return 0;
}

/* ---- deciding ---- */

static int64_t wall_now(const struct gw_policy *pol)
{
	return pol->wall0_ms + (int64_t)gw_clock_elapsed_ms(pol->clock);
}

static void read_meters(struct gw_policy *pol, uint64_t now, struct ems_reading *out)
{
	struct ems_reading in[GW_CONFIG_EMS_MAX];
	unsigned gives[GW_CONFIG_EMS_MAX];

	if (pol->has_source) {
		/* A fresh reading at every evaluation: its draw is the one of now. */
		ems_reading_clear(out);
		pol->source.read(pol->source.user, now, out);
		pol->charger_w = gw_bus_drawn_w(pol->bus);
		return;
	}
	for (int i = 0; i < pol->n_meters; i++) {
		ems_meter_reading(pol->meters[i].core, now, &in[i]);
		gives[i] = ems_meter_gives(pol->meters[i].core);
	}
	ems_combine(in, gives, (size_t)pol->n_meters, out);
}

/* Whether the decision is the bus's cap now (see the precedence in gw_policy.h). */
static bool policy_in_force(struct gw_policy *pol, uint64_t now)
{
	if (!pol->ocpp)
		return true;
	if (gw_ocpp_online(pol->ocpp)) {
		pol->offline_since_ms = 0;
		return pol->cfg.apply_with_csms;
	}
	if (!pol->offline_since_ms)
		pol->offline_since_ms = now ? now : 1;
	return pol->cfg.apply_with_csms || now - pol->offline_since_ms >= (uint64_t)pol->cfg.fallback_after * 1000u;
}

static void log_decision(struct gw_policy *pol, const struct ems_policy_decision *d, bool applied)
{
	const struct ems_policy_decision *o = &pol->last;
	bool big = !pol->have_last || (o->amps > 0) != (d->amps > 0) || o->mode != d->mode || pol->applied != applied;
	char surplus[32] = "";

	if (!isnan(d->surplus_w))
		snprintf(surplus, sizeof(surplus), ", surplus %.0f W", d->surplus_w);
	if (big)
		gw_log_info("policy %s: %d A (%s%s)%s", ems_policy_mode_name(d->mode), d->amps, d->reason, surplus,
			    applied ? "" : "; not applied: the central system decides");
	else if (o->amps != d->amps || strcmp(o->reason, d->reason) != 0)
		gw_log_debug("policy %s: %d A (%s%s)", ems_policy_mode_name(d->mode), d->amps, d->reason, surplus);
}

static void evaluate(struct gw_policy *pol)
{
	struct ems_policy_input in;
	struct ems_policy_decision d;
	struct tm tm;
	time_t secs;
	uint64_t now;
	bool applied;

	if (pol->stopped)
		return;
	now = now_ms(pol);
	memset(&in, 0, sizeof(in));
	in.now_ms = now;
	in.wall_ms = wall_now(pol);
	secs = (time_t)(in.wall_ms / 1000);
	localtime_r(&secs, &tm);
	in.wday = tm.tm_wday;
	in.minute = tm.tm_hour * 60 + tm.tm_min;
	read_meters(pol, now, &in.reading);
	in.charger_w = pol->charger_w;
	ems_policy_eval(pol->core, &in, &d);
	applied = policy_in_force(pol, now);
	log_decision(pol, &d, applied);
	gw_bus_set_policy_cap(pol->bus, applied ? d.amps : -1);
	pol->reading = in.reading;
	pol->last = d;
	pol->have_last = true;
	pol->applied = applied;
}

/* ---- timers ---- */

static void tick_arm(struct gw_policy *pol)
{
	uint64_t now = now_ms(pol), next = now + EVAL_EVERY_MS, d;

	for (int i = 0; i < pol->n_meters; i++) {
		d = ems_meter_next_deadline(pol->meters[i].core);
		if (d < next)
			next = d;
	}
	d = ems_policy_next_deadline(pol->core);
	if (d < next)
		next = d;
	gw_timer_at(pol->loop, pol->clock, &pol->sul_tick, tick_cb, next, true);
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_policy *pol = lws_container_of(sul, struct gw_policy, sul_tick);
	uint64_t now = now_ms(pol);

	if (pol->stopped)
		return;
	for (int i = 0; i < pol->n_meters; i++) {
		struct meter *m = &pol->meters[i];

		if (m->reset_wanted) {
			m->reset_wanted = false;
			gw_port_free(m->port);
			m->port = NULL;
			ems_meter_modbus_down(m->core, now);
			if (port_open(m) != 0)
				gw_log_error("%s: cannot reopen the Modbus connection", m->name);
		}
		if (ems_meter_next_deadline(m->core) <= now)
			ems_meter_tick(m->core, now);
	}
	evaluate(pol);
	tick_arm(pol);
}

void gw_policy_log_status(struct gw_policy *pol)
{
	const struct ems_reading *r = &pol->reading;
	char vals[160] = "";
	size_t used = 0;

	for (int v = 0; v < EMS_NVALUES && used < sizeof(vals); v++) {
		int n;

		if (isnan(r->v[v]))
			continue;
		n = snprintf(vals + used, sizeof(vals) - used, " %s %.0f%s", ems_value_name((enum ems_value)v), r->v[v],
			     v == EMS_SOC ? " %" : v == EMS_VOLTAGE ? " V" : " W");
		if (n > 0)
			used += (size_t)n;
	}
	gw_log_info("policy %s: %d A%s (%s);%s", ems_policy_mode_name(pol->last.mode), pol->last.amps,
		    pol->applied ? "" : " not applied", pol->last.reason, used ? vals : " no meter data");
	for (int i = 0; i < pol->n_meters; i++) {
		struct ems_meter_stats st;

		ems_meter_stats(pol->meters[i].core, &st);
		gw_log_info("%s: %u polls, %u ok, %u failed, %u malformed%s", pol->meters[i].name, st.polls, st.ok,
			    st.failed, st.malformed, st.failing ? " (failing)" : "");
	}
}

static void status_arm(struct gw_policy *pol)
{
	if (pol->status_interval <= 0 || pol->stopped)
		return;
	gw_timer_in(pol->loop, pol->clock, &pol->sul_status, status_cb, (uint64_t)pol->status_interval * 1000u);
}

static void status_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_policy *pol = lws_container_of(sul, struct gw_policy, sul_status);

	if (pol->stopped)
		return;
	gw_policy_log_status(pol);
	status_arm(pol);
}

/* ---- life cycle ---- */

struct gw_policy *gw_policy_new(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg,
				struct gw_bus *bus, struct gw_ocpp *ocpp, const struct gw_policy_source *source)
{
	struct ems_policy_params p;
	struct gw_policy *pol;
	struct timespec ts;
	char err[160];

	pol = calloc(1, sizeof(*pol));
	if (!pol)
		return NULL;
	pol->loop = loop;
	pol->clock = clock;
	pol->bus = bus;
	pol->ocpp = ocpp;
	pol->cfg = cfg->policy;
	pol->status_interval = cfg->log.status_interval;
	gw_clock_wall(&ts);
	pol->wall0_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - (int64_t)gw_clock_elapsed_ms(clock);
	if (source) {
		pol->source = *source;
		pol->has_source = true;
	}
	gw_core_params_policy(&cfg->policy, &cfg->twc, &p);
	if (ems_policy_params_check(&p, err, sizeof(err)) != 0) {
		gw_log_error("policy: %s", err);
		free(pol);
		return NULL;
	}
	pol->core = ems_policy_new(&p);
	if (!pol->core) {
		free(pol);
		return NULL;
	}
	if (!source && cfg->ems.n) {
		pol->http = gw_http_new(loop);
		if (!pol->http)
			goto fail;
		for (int i = 0; i < cfg->ems.n; i++) {
			pol->n_meters = i + 1;
			if (meter_start(pol, &pol->meters[i], &cfg->ems.m[i], i) != 0)
				goto fail;
		}
	}
	gw_log_info("policy %s%s, %d meter%s%s", ems_policy_mode_name(cfg->policy.mode),
		    cfg->policy.has_until ? " until a set time" : "", pol->n_meters, pol->n_meters == 1 ? "" : "s",
		    ocpp ? (cfg->policy.apply_with_csms ? "; caps the central system's limits"
						        : "; applies when the central system is unreachable") : "");
	evaluate(pol);
	tick_arm(pol);
	status_arm(pol);
	return pol;
fail:
	gw_policy_stop(pol);
	gw_policy_free(pol);
	return NULL;
}

void gw_policy_apply_config(struct gw_policy *pol, const struct gw_config *cfg)
{
	struct ems_policy_params p;

	gw_core_params_policy(&cfg->policy, &cfg->twc, &p);
	if (ems_policy_set_params(pol->core, &p) != 0) {
		gw_log_error("reload: the policy refused the new settings; keeping the running ones");
		return;
	}
	pol->cfg = cfg->policy;
	if (pol->status_interval != cfg->log.status_interval) {
		pol->status_interval = cfg->log.status_interval;
		lws_sul_cancel(&pol->sul_status);
		status_arm(pol);
	}
	evaluate(pol);
	tick_arm(pol);
}

void gw_policy_state(const struct gw_policy *pol, struct gw_policy_state *out)
{
	struct ems_policy_stats st;

	ems_policy_stats(pol->core, &st);
	out->amps = pol->last.amps;
	out->applied = pol->applied;
	out->surplus_w = pol->last.surplus_w;
	out->reading = pol->reading;
	out->reason = pol->last.reason;
	out->starts = st.starts;
	out->stops = st.stops;
}

void gw_policy_stop(struct gw_policy *pol)
{
	if (!pol)
		return;
	pol->stopped = true;
	lws_sul_cancel(&pol->sul_tick);
	lws_sul_cancel(&pol->sul_status);
	if (pol->http)
		gw_http_stop(pol->http);
	for (int i = 0; i < pol->n_meters; i++) {
		if (pol->meters[i].port)
			gw_port_stop(pol->meters[i].port);
		if (pol->meters[i].mqtt)
			gw_mqtt_stop(pol->meters[i].mqtt);
	}
}

void gw_policy_free(struct gw_policy *pol)
{
	if (!pol)
		return;
	gw_policy_stop(pol);
	for (int i = 0; i < pol->n_meters; i++) {
		gw_port_free(pol->meters[i].port);
		gw_mqtt_free(pol->meters[i].mqtt);
		ems_meter_free(pol->meters[i].core);
	}
	gw_http_free(pol->http);
	ems_policy_free(pol->core);
	free(pol);
}
