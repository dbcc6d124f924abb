/*
 * gw_web: puts the status page, REST API and /metrics on the loop. The snapshot is read from the
 * running objects each time it is needed (a request, the one-second tick); nothing here decides
 * anything about current. What the page can change goes through gw_control. Sessions (plug-in to
 * unplug) are counted here because only the page needs them per connector: OCPP connectors take the
 * energy from the charge point's register, standalone ones integrate the measured power.
 */
#include "gw_web.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "gw_api.h"
#include "gw_auth.h"
#include "gw_bus.h"
#include "gw_control.h"
#include "gw_history.h"
#include "gw_httpd.h"
#include "gw_log.h"
#include "gw_loop.h"
#include "gw_ocpp.h"
#include "gw_policy.h"
#include "gw_status.h"
#include "gw_tesla.h"
#include "gw_timer.h"
#include "ocpp_config.h"
#include "ocpp_cp.h"

#define TICK_MS 1000u
#define PUSH_EVERY_MS 5000u
#define HISTORY_SAMPLES 1440   /* 24 h at one a minute */
#define HISTORY_INTERVAL_MS 60000u

/* One connector's session as the page shows it. */
struct session {
	uint16_t id;          /* TWC, 0 unused */
	bool active;
	uint64_t start_ms;    /* gateway clock */
	double start_wh;      /* OCPP register at the start */
	double wh;            /* standalone: integrated */
	uint64_t last_ms;
	uint32_t count;
};

struct gw_web {
	struct gw_loop *loop;
	const struct gw_clock *clock;
	const struct gw_config *cfg;
	struct gw_web_parts p;  /* the first charge point's: the controls act on it */
	struct gw_web_parts parts[GW_CONFIG_CP_MAX]; /* every charge point's */
	const struct gw_config *cfgs[GW_CONFIG_CP_MAX];
	int n_parts;
	struct gw_httpd *httpd;
	struct gw_auth *auth;
	struct gw_api *api;
	struct gw_history *hist;
	struct session all_sessions[GW_CONFIG_CP_MAX][TWC_MAX_SLAVES]; /* per charge point, as parts[] */
	struct session *sessions; /* of the charge point being filled */
	uint64_t start_ms;    /* real monotonic at creation */
	uint64_t last_push_ms;
	char *last_text;      /* the status pushed last */
	bool stopped;
	lws_sorted_usec_list_t sul_tick;
};

/* ---- the snapshot ---- */

static void process_figures(struct gw_status *st)
{
	char buf[512];
	FILE *f;
	long pages, rss;
	unsigned long ut = 0, stt = 0;
	long tck = sysconf(_SC_CLK_TCK);

	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) == 2)
			st->process.rss_bytes = (double)rss * (double)sysconf(_SC_PAGESIZE);
		fclose(f);
	}
	f = fopen("/proc/self/stat", "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f)) {
			/* The command name may hold spaces and parentheses: count fields after the last ')'. */
			char *p = strrchr(buf, ')');
			int field = 2;

			for (char *tok = p; tok && *tok && field < 15; tok++) {
				if (*tok == ' ') {
					field++;
					if (field == 14)
						ut = strtoul(tok + 1, NULL, 10);
					else if (field == 15)
						stt = strtoul(tok + 1, NULL, 10);
				}
			}
		}
		fclose(f);
	}
	if (tck > 0)
		st->process.cpu_s = (double)(ut + stt) / (double)tck;
}

static enum gw_status_state state_of(const struct twc_slave_info *in, enum ocpp_cp_status ocpp, bool have_ocpp)
{
	if (have_ocpp && ocpp == OCPP_ST_UNAVAILABLE)
		return GW_STATE_UNAVAILABLE;
	switch (in->status) {
	case TWC_SLAVE_CHARGING:
		return GW_STATE_CHARGING;
	case TWC_SLAVE_PLUGGED:
		/* A car that is not drawing: held back (nothing offered), or free to start. */
		return in->offered_amps <= 0 || in->cap_amps == 0 ? GW_STATE_PAUSED : GW_STATE_PLUGGED;
	case TWC_SLAVE_ERROR:
		return GW_STATE_ERROR;
	case TWC_SLAVE_IDLE:
		return GW_STATE_IDLE;
	default:
		return GW_STATE_UNAVAILABLE;
	}
}

static struct session *session_of(struct gw_web *w, uint16_t id)
{
	struct session *free_one = NULL;

	for (int i = 0; i < TWC_MAX_SLAVES; i++) {
		if (w->sessions[i].id == id)
			return &w->sessions[i];
		if (!w->sessions[i].id && !free_one)
			free_one = &w->sessions[i];
	}
	if (!free_one) { /* a slave left and another came: reuse the oldest idle entry */
		for (int i = 0; i < TWC_MAX_SLAVES && !free_one; i++)
			if (!w->sessions[i].active)
				free_one = &w->sessions[i];
		if (!free_one)
			free_one = &w->sessions[0];
	}
	memset(free_one, 0, sizeof(*free_one));
	free_one->id = id;
	return free_one;
}

/* Advance @s to now: a car present opens a session, its absence closes it. */
static void session_step(struct session *s, bool car, double power_w, double register_wh,
			 uint64_t now)
{
	if (car && !s->active) {
		s->active = true;
		s->start_ms = now;
		s->start_wh = register_wh;
		s->wh = 0;
		s->count++;
	} else if (!car) {
		s->active = false;
	} else if (s->last_ms && now > s->last_ms && isfinite(power_w)) {
		s->wh += power_w * (double)(now - s->last_ms) / 3600000.0;
	}
	s->last_ms = now;
}

static void copy_text(char *dst, size_t n, const char *src)
{
	size_t k = 0;

	for (; src && src[k] && k + 1 < n; k++)
		dst[k] = src[k];
	dst[k] = '\0';
}

/* The central system's URL without any user:password@ part. */
static void url_shown(const struct gw_config_ocpp *o, char *out, size_t n)
{
	const char *u = o->url, *scheme_end = strstr(u, "://"), *at, *slash;

	if (scheme_end) {
		at = strchr(scheme_end + 3, '@');
		slash = strchr(scheme_end + 3, '/');
		if (at && (!slash || at < slash)) {
			snprintf(out, n, "%.*s%s%s%s", (int)(scheme_end + 3 - u), u, at + 1,
				 o->charge_box_id[0] && u[strlen(u) - 1] != '/' ? "/" : "", o->charge_box_id);
			return;
		}
	}
	snprintf(out, n, "%s%s%s", u, o->charge_box_id[0] && u[0] && u[strlen(u) - 1] != '/' ? "/" : "",
		 o->charge_box_id);
}

static void fill_ocpp(struct gw_web *w, struct gw_status *st)
{
	const struct ocpp_cp *cp = w->p.ocpp ? gw_ocpp_core(w->p.ocpp) : NULL;
	const struct ocpp_cp_stats *os;

	if (!cp)
		return;
	st->ocpp.enabled = true;
	url_shown(&w->cfg->ocpp, st->ocpp.url, sizeof(st->ocpp.url));
	copy_text(st->charge_point, sizeof(st->charge_point), w->cfg->ocpp.charge_box_id);
	st->ocpp.connected = gw_ocpp_online(w->p.ocpp);
	copy_text(st->ocpp.registration, sizeof(st->ocpp.registration), ocpp_cp_registration(cp));
	st->ocpp.security_profile =
		(int)ocpp_config_int(ocpp_cp_config((struct ocpp_cp *)cp), OCPP_KEY_SECURITY_PROFILE);
	os = ocpp_cp_stats(cp);
	st->ocpp.queued_tx = os->queued;
	st->ocpp.queued_other = os->queued_other;
	st->ocpp.latency_count = os->calls_answered;
	st->ocpp.latency_sum_s = (double)os->answer_ms_sum / 1000.0;
	for (int i = 0; i < GW_STATUS_LATENCY_BUCKETS && i < OCPP_LATENCY_BUCKETS; i++)
		st->ocpp.latency_buckets[i] = os->answer_le[i];
}

static void fill_connectors(struct gw_web *w, struct gw_status *st, uint64_t now)
{
	const struct twc_bus *core = gw_bus_core(w->p.bus);
	const struct ocpp_cp *cp = w->p.ocpp ? gw_ocpp_core(w->p.ocpp) : NULL;
	double volts_phases = (double)w->cfg->twc.voltage * w->cfg->twc.phases;

	for (int slot = 0; core && slot < TWC_MAX_SLAVES && st->n_connectors < GW_STATUS_CONNECTORS_MAX; slot++) {
		struct gw_status_connector *c = &st->c[st->n_connectors];
		struct twc_slave_info in;
		struct session *s;
		enum ocpp_cp_status os = OCPP_ST_AVAILABLE;
		double reg = NAN;
		bool car;
		int conn = 0, max;

		if (twc_bus_slave(core, slot, &in) != 0)
			continue;
		if (cp) {
			conn = gw_ocpp_connector_of(w->p.ocpp, in.id);
			if (conn > 0) {
				os = ocpp_cp_connector_status(cp, conn);
				reg = ocpp_cp_energy_wh(cp, conn);
				c->transaction_id = ocpp_cp_transaction_id(cp, conn) > 0 ? ocpp_cp_transaction_id(cp, conn) : 0;
			}
		} else if (in.has_meter) {
			reg = (double)in.energy_raw * 1000.0; /* kWh on the units that send it */
		}
		c->connector = conn > 0 ? conn : slot + 1;
		snprintf(c->twc, sizeof(c->twc), "%04X", in.id);
		c->state = state_of(&in, os, cp != NULL && conn > 0);
		c->offered_amps = in.offered_amps;
		c->held_amps = in.held_amps;
		c->cap_amps = in.cap_amps;
		max = w->p.control ? gw_control_max(w->p.control, in.id) : -1;
		c->max_amps = max;
		c->measured_amps = isfinite(in.measured_amps) ? in.measured_amps : NAN;
		c->power_w = isfinite(in.measured_amps) ? in.measured_amps * volts_phases : NAN;
		c->energy_wh = reg;
		car = in.status == TWC_SLAVE_PLUGGED || in.status == TWC_SLAVE_CHARGING;
		s = session_of(w, in.id);
		session_step(s, car, c->power_w, reg, now);
		c->in_session = s->active;
		c->session_s = s->active ? (now - s->start_ms) / 1000u : 0;
		/* The OCPP register counts in Wh; a TWC's own counter only in whole kWh (and twc-sim's not
		 * at all), so standalone the session is the measured power integrated here. */
		c->session_wh = !s->active ? 0 : cp && isfinite(reg) && isfinite(s->start_wh) ? reg - s->start_wh : s->wh;
		c->sessions = s->count;
		gw_bus_vin_text(&in, c->vin, sizeof(c->vin));
		c->vehicle = gw_tesla_vehicle(w->p.tesla, w->p.bus, slot, car, gw_clock_wall_ms(), c->vehicle_detail,
					      sizeof(c->vehicle_detail));
		st->n_connectors++;
	}
}

static void fill_one(struct gw_web *w, struct gw_status *st, bool process)
{
	const struct twc_bus *core = gw_bus_core(w->p.bus);
	uint64_t now = gw_clock_now_ms(w->clock);
	struct gw_policy_state ps;
	double measured = 0;

	st->wall_ms = gw_clock_wall_ms();
	st->sim_ms = now;
	st->uptime_s = (gw_clock_mono_ms() - w->start_ms) / 1000u;
	copy_text(st->bus.port, sizeof(st->bus.port), w->cfg->twc.port);
	st->bus.wiring_max_all = w->cfg->twc.wiring_max_all;
	st->bus.wiring_max_per_twc = w->cfg->twc.wiring_max_per_twc;
	st->bus.link_up = gw_bus_link_up(w->p.bus);
	if (core) {
		const struct twc_bus_stats *bs = twc_bus_stats(core);

		st->bus.held_amps = twc_bus_held_total(core);
		st->bus.reserved_amps = twc_bus_reserved(core);
		st->bus.slaves = twc_bus_slave_count(core);
		st->bus.frames_rx = bs->rx.frames;
		st->bus.frames_tx = bs->tx_frames;
		st->bus.frame_errors = (uint64_t)bs->rx.bad_checksum + bs->rx.bad_length + bs->rx.bad_escape +
				       bs->rx.overflow + bs->rx.timeouts;
		for (int slot = 0; slot < TWC_MAX_SLAVES; slot++) {
			struct twc_slave_info in;

			if (twc_bus_slave(core, slot, &in) != 0)
				continue;
			st->bus.offered_amps += in.offered_amps;
			if (isfinite(in.measured_amps))
				measured += in.measured_amps;
			if (in.last_heartbeat_ms && now > in.last_heartbeat_ms &&
			    now - in.last_heartbeat_ms > st->bus.heartbeat_gap_ms)
				st->bus.heartbeat_gap_ms = now - in.last_heartbeat_ms;
		}
	}
	st->bus.measured_amps = measured;
	fill_ocpp(w, st);
	fill_connectors(w, st, now);

	memset(&ps, 0, sizeof(ps));
	ems_reading_clear(&ps.reading);
	ps.surplus_w = NAN;
	if (w->p.policy)
		gw_policy_state(w->p.policy, &ps);
	else
		ps.reason = "the central system decides";
	copy_text(st->policy.mode, sizeof(st->policy.mode), ems_policy_mode_name(ps.mode));
	copy_text(st->policy.source, sizeof(st->policy.source),
		  w->p.control ? gw_control_policy_source(w->p.control) : "config");
	st->policy.amps = ps.amps;
	copy_text(st->policy.reason, sizeof(st->policy.reason), ps.reason ? ps.reason : "");
	st->policy.surplus_w = ps.surplus_w;
	/* The house without the cars: a meter's load includes them unless the config says otherwise. */
	st->policy.house_w = ps.reading.v[EMS_LOAD];
	if (isfinite(st->policy.house_w) && w->cfg->policy.load_includes_chargers)
		st->policy.house_w = fmax(0, st->policy.house_w - gw_bus_drawn_w(w->p.bus));
	st->policy.pv_w = ps.reading.v[EMS_PV];
	st->policy.grid_w = ps.reading.v[EMS_GRID];
	if (w->cfg->policy.has_until) {
		time_t t = (time_t)(w->cfg->policy.until_ms / 1000);
		struct tm tm;

		if (gmtime_r(&t, &tm))
			strftime(st->policy.until, sizeof(st->policy.until), "%Y-%m-%dT%H:%M:%SZ", &tm);
		copy_text(st->policy.then, sizeof(st->policy.then), ems_policy_mode_name(w->cfg->policy.then));
	}
	for (int i = 0; i < GW_STATUS_METERS_MAX; i++) {
		struct gw_policy_meter m;

		if (!w->p.policy || gw_policy_meter(w->p.policy, i, &m) != 0)
			break;
		copy_text(st->meters[i].name, sizeof(st->meters[i].name), m.name);
		copy_text(st->meters[i].type, sizeof(st->meters[i].type), m.type);
		st->meters[i].age_s = m.age_s;
		st->meters[i].ok = m.ok;
		st->meters[i].value_w = m.value_w;
		st->n_meters = i + 1;
	}
	if (process)
		process_figures(st);
}

/* Charge point @i's view in w->p, w->cfg and w->sessions while it is filled. */
static void fill_cp(struct gw_web *w, int i, struct gw_status *st, bool process)
{
	struct gw_web_parts keep = w->p;
	const struct gw_config *keep_cfg = w->cfg;

	w->p = w->parts[i];
	w->cfg = w->cfgs[i];
	w->sessions = w->all_sessions[i];
	fill_one(w, st, process);
	/* A depot's entry is named by its chargeBoxId, also without OCPP (the page and metrics tell them
	 * apart by it). */
	if (!st->charge_point[0] && w->cfgs[i]->cp_id[0])
		copy_text(st->charge_point, sizeof(st->charge_point), w->cfgs[i]->cp_id);
	w->p = keep;
	w->cfg = keep_cfg;
}

static void fill(struct gw_web *w, struct gw_status *st, bool process)
{
	fill_cp(w, 0, st, process);
	if (w->n_parts <= 1)
		return;
	st->more = calloc((size_t)w->n_parts - 1, sizeof(*st->more));
	if (!st->more)
		return;
	st->n_more = w->n_parts - 1;
	for (int i = 1; i < w->n_parts; i++) {
		fill_cp(w, i, &st->more[i - 1], false);
		st->more[i - 1].n_meters = 0; /* the site's meters are listed once, at the top */
	}
}

void gw_web_set_parts(struct gw_web *w, const struct gw_web_parts *parts, const struct gw_config *const *cfgs, int n)
{
	static struct session moved[GW_CONFIG_CP_MAX][TWC_MAX_SLAVES];

	if (!w || n < 1 || n > GW_CONFIG_CP_MAX)
		return;
	/* A charge point that stays keeps its sessions wherever it now is in the list. */
	memset(moved, 0, sizeof(moved));
	for (int i = 0; i < n; i++)
		for (int j = 0; j < w->n_parts; j++)
			if (w->parts[j].bus == parts[i].bus)
				memcpy(moved[i], w->all_sessions[j], sizeof(moved[i]));
	memcpy(w->all_sessions, moved, sizeof(moved));
	for (int i = 0; i < n; i++) {
		w->parts[i] = parts[i];
		w->cfgs[i] = cfgs[i];
	}
	w->n_parts = n;
	w->p = w->parts[0];
	w->cfg = w->cfgs[0]; /* the shared sections are every entry's; the first may have been removed */
}

/* ---- the API's view of the gateway ---- */

static void op_status(void *user, struct gw_status *out)
{
	fill(user, out, true);
}

static json_t *op_settings(void *user)
{
	struct gw_web *w = user;
	const struct twc_bus *core = gw_bus_core(w->p.bus);
	json_t *modes = json_array(), *conns = json_array(), *j;
	unsigned m = w->p.control ? gw_control_modes(w->p.control) : 0;

	if (!modes || !conns)
		goto fail;
	for (int i = EMS_POLICY_OFF; i <= EMS_POLICY_TRACK_GREEN; i++)
		if (m & (1u << i))
			json_array_append_new(modes, json_string(ems_policy_mode_name((enum ems_policy_mode)i)));
	for (int slot = 0; core && slot < TWC_MAX_SLAVES; slot++) {
		struct twc_slave_info in;
		char hex[8];
		int conn, max;

		if (twc_bus_slave(core, slot, &in) != 0)
			continue;
		conn = w->p.ocpp ? gw_ocpp_connector_of(w->p.ocpp, in.id) : 0;
		max = w->p.control ? gw_control_max(w->p.control, in.id) : -1;
		snprintf(hex, sizeof(hex), "%04X", in.id);
		json_array_append_new(conns, json_pack("{s:i,s:s,s:o,s:s,s:s}", "connector", conn > 0 ? conn : slot + 1,
						       "twc", hex, "maxAmps", max >= 0 ? json_integer(max) : json_null(),
						       "source", max >= 0 ? gw_control_max_source(w->p.control, in.id) : "config", "limitBy",
						       w->p.ocpp ? "central system" : "policy"));
	}
	j = json_pack("{s:{s:o,s:s},s:o,s:o,s:i}", "policy", "value",
		      w->p.control ? gw_control_policy_json(w->p.control) : json_object(), "source",
		      w->p.control ? gw_control_policy_source(w->p.control) : "config", "modes", modes, "connectors",
		      conns, "wiringMaxAmpsPerTWC", w->cfg->twc.wiring_max_per_twc);
	/* Which charge point these are (several: the one the request named). */
	if (j && w->n_parts > 1)
		json_object_set_new(j, "chargePoint", json_string(w->cfg->cp_id));
	return j;
fail:
	json_decref(modes);
	json_decref(conns);
	return NULL;
}

static int op_set_policy(void *user, const json_t *policy, const char *by, char *err, size_t errlen)
{
	struct gw_web *w = user;
	const json_t *mode = json_object_get(policy, "mode");
	char *text;
	int rc;

	if (!w->p.control) {
		snprintf(err, errlen, "no controls here");
		return -ENOTSUP;
	}
	/* {"mode": "config"} alone: back to the file's policy. */
	if (json_object_size(policy) == 1 && json_is_string(mode) && !strcmp(json_string_value(mode), "config"))
		return gw_control_set_policy(w->p.control, "config", by, err, errlen);
	text = json_dumps(policy, GW_STATUS_JSON_FLAGS);
	if (!text)
		return -ENOMEM;
	rc = gw_control_set_policy(w->p.control, text, by, err, errlen);
	free(text);
	return rc;
}

static int op_set_max(void *user, int connector, int amps, const char *by, char *err, size_t errlen)
{
	struct gw_web *w = user;
	const struct twc_bus *core = gw_bus_core(w->p.bus);

	for (int slot = 0; core && w->p.control && slot < TWC_MAX_SLAVES; slot++) {
		struct twc_slave_info in;
		int conn;

		if (twc_bus_slave(core, slot, &in) != 0)
			continue;
		conn = w->p.ocpp ? gw_ocpp_connector_of(w->p.ocpp, in.id) : slot + 1;
		if (conn == connector)
			return gw_control_set_max(w->p.control, in.id, amps, by, err, errlen);
	}
	snprintf(err, errlen, "no connector %d on the bus now", connector);
	return -ENOENT;
}

/* The controls of charge point @id (its chargeBoxId) until the request is answered; NULL: the first. */
static int op_select(void *user, const char *id)
{
	struct gw_web *w = user;

	for (int i = 0; i < w->n_parts; i++) {
		if (!id || !strcmp(w->cfgs[i]->cp_id, id) ||
		    (w->n_parts == 1 && !strcmp(w->cfgs[i]->ocpp.charge_box_id, id))) {
			w->p = w->parts[i];
			w->cfg = w->cfgs[i];
			return 0;
		}
	}
	return -ENOENT;
}

static json_t *op_history(void *user, int64_t since_s)
{
	struct gw_web *w = user;

	return gw_history_json(w->hist, since_s);
}

static void op_http_stats(void *user, struct gw_httpd_stats *out)
{
	struct gw_web *w = user;

	gw_httpd_stats(w->httpd, out);
}

static uint64_t op_now_ms(void *user)
{
	(void)user;
	return gw_clock_mono_ms();
}

static void on_request(void *user, const struct gw_httpd_req *req, struct gw_httpd_resp *resp)
{
	struct gw_web *w = user;

	gw_api_handle(w->api, req, resp);
}

/* ---- the tick: history and live pages ---- */

static void tick_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_web *w = lws_container_of(sul, struct gw_web, sul_tick);
	struct gw_status st;
	struct gw_httpd_stats hs;
	uint64_t now = gw_clock_mono_ms();
	json_t *j;
	char *text;

	if (w->stopped)
		return;
	memset(&st, 0, sizeof(st));
	gw_httpd_stats(w->httpd, &hs);
	/* The history and the sessions need the snapshot every second; the JSON only an open page. */
	fill(w, &st, hs.streams > 0);
	if (gw_history_offer(w->hist, &st) == 1 && hs.streams > 0) {
		json_t *h = gw_history_last_json(w->hist);
		char *ht = h ? json_dumps(h, GW_STATUS_JSON_FLAGS) : NULL;

		if (ht)
			gw_httpd_push(w->httpd, "history", ht, strlen(ht));
		free(ht);
		json_decref(h);
	}
	if (hs.streams == 0) {
		gw_status_clear(&st);
		free(w->last_text);
		w->last_text = NULL; /* the next page gets the status at once anyway */
		gw_timer_in(w->loop, NULL, &w->sul_tick, tick_cb, TICK_MS);
		return;
	}
	/* Compared without the clock fields, which change every second by themselves. */
	j = gw_status_json(&st);
	gw_status_clear(&st);
	text = NULL;
	if (j) {
		json_t *copy = json_deep_copy(j);

		if (copy) {
			json_object_del(copy, "time");
			json_object_del(copy, "uptimeS");
			json_object_del(copy, "process");
			text = json_dumps(copy, GW_STATUS_JSON_FLAGS | JSON_SORT_KEYS);
			json_decref(copy);
		}
	}
	if (text && (!w->last_text || strcmp(text, w->last_text) || now - w->last_push_ms >= PUSH_EVERY_MS)) {
		char *full = json_dumps(j, GW_STATUS_JSON_FLAGS);

		if (full)
			gw_httpd_push(w->httpd, "status", full, strlen(full));
		free(full);
		free(w->last_text);
		w->last_text = text;
		w->last_push_ms = now;
		text = NULL;
	}
	free(text);
	json_decref(j);
	gw_timer_in(w->loop, NULL, &w->sul_tick, tick_cb, TICK_MS);
}

struct gw_web *gw_web_new(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg,
			  const struct gw_web_parts *parts)
{
	struct gw_api_ops ops = {
		.status = op_status,
		.settings = op_settings,
		.set_policy = op_set_policy,
		.set_max = op_set_max,
		.history = op_history,
		.http_stats = op_http_stats,
		.now_ms = op_now_ms,
		.select = op_select,
	};
	struct gw_httpd_handlers h = { .on_request = on_request };
	struct gw_httpd_config hc;
	struct gw_web *w = calloc(1, sizeof(*w));
	char err[256];

	if (!w)
		return NULL;
	w->loop = loop;
	w->clock = clock;
	w->cfg = cfg;
	w->p = *parts;
	w->parts[0] = *parts;
	w->cfgs[0] = cfg;
	w->n_parts = 1;
	w->sessions = w->all_sessions[0];
	w->start_ms = gw_clock_mono_ms();
	ops.user = w;
	h.user = w;
	w->auth = gw_auth_new(cfg->http.password_hash, cfg->http.token);
	w->api = w->auth ? gw_api_new(&ops, w->auth, cfg->http.auth_read) : NULL;
	w->hist = gw_history_new(HISTORY_SAMPLES, HISTORY_INTERVAL_MS);
	if (!w->api || !w->hist) {
		gw_log_error("http: out of memory");
		goto fail;
	}
	memset(&hc, 0, sizeof(hc));
	for (int i = 0; i < cfg->http.n_listen && i < GW_HTTPD_LISTEN_MAX; i++)
		hc.listen[hc.n_listen++] = cfg->http.listen[i];
	hc.cert_file = cfg->http.cert_file[0] ? cfg->http.cert_file : NULL;
	hc.key_file = cfg->http.key_file[0] ? cfg->http.key_file : NULL;
	w->httpd = gw_httpd_new(loop, &hc, &h, err, sizeof(err));
	if (!w->httpd) {
		gw_log_error("http: %s", err);
		goto fail;
	}
	for (int i = 0; i < hc.n_listen; i++)
		gw_log_info("http: status page on %s://%s (port %d)", hc.cert_file ? "https" : "http", hc.listen[i],
			    gw_httpd_port(w->httpd, i));
	gw_timer_in(loop, NULL, &w->sul_tick, tick_cb, TICK_MS);
	return w;
fail:
	gw_web_free(w);
	return NULL;
}

int gw_web_port(const struct gw_web *w, int i)
{
	return w && w->httpd ? gw_httpd_port(w->httpd, i) : -1;
}

void gw_web_stop(struct gw_web *w)
{
	if (!w)
		return;
	w->stopped = true;
	lws_sul_cancel(&w->sul_tick);
	gw_httpd_stop(w->httpd);
}

void gw_web_free(struct gw_web *w)
{
	if (!w)
		return;
	gw_httpd_free(w->httpd);
	gw_api_free(w->api);
	gw_auth_free(w->auth);
	gw_history_free(w->hist);
	free(w->last_text);
	free(w);
}
