/*
 * gw_ocpp: glue between the ocpp_cp core and the gateway. The core never sees a clock, a socket or a
 * file: every call carries both clocks (gw_clock's monotonic "now", which the demo speeds up, and the
 * wall clock for OCPP timestamps), and after every call the one tick timer is re-armed at the core's
 * next deadline. The connector <-> TWC map lives in the core (persisted); this file remembers which
 * TWC it saw behind each connector in this run, so that a limit set while a TWC was away is applied
 * when it comes back (the bus core forgets a cap with its slave). Bus events only schedule the next
 * push; the push itself runs from a timer, never inside the bus core.
 *
 * The core is told a TWC's state when it changes, not on a clock: after every bus event and every
 * change of what the bus reports (on_change, on_load), right before each of the core's own ticks
 * (MeterValues, clock-aligned readings, the store of the registers: each sees the readings of that
 * moment) and before each message from the central system (a RemoteStop or TriggerMessage reads
 * them too). Only the connectors whose state differs are pushed. The bus says nothing when a car's
 * draw, the voltage or the lifetime counter move alone, and the core integrates energy from the
 * draw it was last told: so after a push that changed anything the bus is looked at again a second
 * later (EVSE_FOLLOW_MS), and again while the readings keep moving; a steady TWC costs no wake-up.
 */
#include "gw_ocpp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "gw_core_params.h"
#include "gw_ocpp_internal.h"
#include "gw_journal.h"
#include "gw_log.h"
#include "gw_store.h"
#include "gw_timer.h"
#include "gw_ws.h"

#define STATE_FILE_MAX (1024 * 1024)
#define JOURNAL_NAME "ocpp-journal"
#define EVSE_FOLLOW_MS 1000u /* simulated ms between looks at the bus while a TWC's readings move */

static void evse_run(struct gw_ocpp *o);
static void evse_cb(lws_sorted_usec_list_t *sul);

struct ocpp_now gw_ocpp_now(const struct gw_ocpp *o)
{
	return (struct ocpp_now){
		.mono_ms = gw_clock_now_ms(o->clock),
		.wall_ms = gw_clock_wall_ms(),
	};
}

static void sul_in(struct gw_ocpp *o, lws_sorted_usec_list_t *sul, sul_cb_t cb, uint64_t sim_ms)
{
	gw_timer_in(o->loop, o->clock, sul, cb, sim_ms);
}

static uint64_t core_deadline(void *owner)
{
	const struct gw_ocpp *o = owner;

	return ocpp_cp_next_deadline(o->cp);
}

/* The watcher hears when gw_ocpp_online() changed (the link opened and was accepted, or went). */
static void online_check(struct gw_ocpp *o)
{
	bool now = !o->stopped && gw_ocpp_online(o);

	if (now == o->online)
		return;
	o->online = now;
	if (o->online_cb)
		o->online_cb(o->online_user);
}

static void core_tick(void *owner)
{
	struct gw_ocpp *o = owner;

	/* Whatever the core does now (a MeterValues sample, a clock-aligned reading, storing the
	 * registers) uses the readings of now. */
	evse_run(o);
	ocpp_cp_tick(o->cp, gw_ocpp_now(o));
	online_check(o);
}

/* After every call into the core: the next tick at its deadline. */
void gw_ocpp_rearm(struct gw_ocpp *o)
{
	gw_core_timer_rearm(&o->tick);
	online_check(o);
}

/* ---- the link ---- */

static void ws_open(void *user)
{
	struct gw_ocpp *o = user;

	gw_ocpp_security_opened(o);
	ocpp_cp_connected(o->cp, gw_ocpp_now(o));
	gw_ocpp_rearm(o);
}

static void ws_close(void *user)
{
	struct gw_ocpp *o = user;

	ocpp_cp_disconnected(o->cp, gw_ocpp_now(o));
	gw_ocpp_rearm(o);
	gw_ocpp_security_closed(o);
}

static void ws_fail(void *user, enum gw_ws_fail why, const char *detail)
{
	struct gw_ocpp *o = user;

	gw_ocpp_security_failed(o, (int)why, detail);
}

static void ws_text(void *user, const char *text, size_t len)
{
	struct gw_ocpp *o = user;

	/* A RemoteStopTransaction's meterStop or a triggered MeterValues reads the registers. */
	evse_run(o);
	ocpp_cp_input(o->cp, text, len, gw_ocpp_now(o));
	gw_ocpp_rearm(o);
}

/* ---- the core's effects ---- */

static int env_send(void *user, const char *text, size_t len)
{
	struct gw_ocpp *o = user;

	return o->ws ? gw_ws_send(o->ws, text, len) : -ENOTCONN;
}

static int env_journal_put(void *user, uint64_t seq, const char *text)
{
	struct gw_ocpp *o = user;

	return o->journal ? gw_journal_put(o->journal, seq, text) : 0;
}

static int env_journal_del(void *user, uint64_t seq)
{
	struct gw_ocpp *o = user;

	if (!o->journal)
		return 0;
	if (o->restoring) {
		/* Not while gw_journal_foreach() walks the records. */
		if (o->n_dels == o->cap_dels) {
			size_t cap = o->cap_dels ? o->cap_dels * 2 : 16;
			uint64_t *d = realloc(o->dels, cap * sizeof(*d));

			if (!d)
				return -ENOMEM;
			o->dels = d;
			o->cap_dels = cap;
		}
		o->dels[o->n_dels++] = seq;
		return 0;
	}
	return gw_journal_del(o->journal, seq);
}

static int env_store(void *user, const char *name, const char *text, bool secret)
{
	struct gw_ocpp *o = user;

	/* The core logs a failure once and saves again until it works. */
	if (!o->data_dir[0])
		return 0;
	return gw_store_write(o->data_dir, name, text, strlen(text), secret ? 0600 : 0640);
}

static void cap_apply(struct gw_ocpp *o, int c)
{
	int rc;

	if (!o->limit_set[c] || !o->present[c])
		return;
	rc = gw_bus_set_cap(o->bus, o->twc_of[c], o->limit[c]);
	if (rc && rc != -ENOENT)
		gw_log_error("ocpp: connector %d: cannot set the cap of TWC %04X: %s", c, o->twc_of[c], strerror(-rc));
}

static void env_set_limit(void *user, int c, int amps)
{
	struct gw_ocpp *o = user;

	if (c < 1 || c > OCPP_MAX_CONNECTORS)
		return;
	o->limit[c] = amps;
	o->limit_set[c] = true;
	if (amps < 0)
		gw_log_info("ocpp: connector %d may charge up to the wiring limit", c);
	else
		gw_log_info("ocpp: connector %d limited to %d A", c, amps);
	cap_apply(o, c);
}

static void env_set_total_limit(void *user, int amps)
{
	struct gw_ocpp *o = user;

	if (amps < 0)
		gw_log_info("ocpp: the charge point may use the wiring limit");
	else
		gw_log_info("ocpp: the charge point limited to %d A in total", amps);
	gw_bus_set_total_cap(o->bus, amps);
}

static void env_reset(void *user, bool hard)
{
	struct gw_ocpp *o = user;

	gw_log_warn("ocpp: %s reset requested by the central system: restarting twcgw", hard ? "hard" : "soft");
	gw_loop_stop(o->loop, GW_LOOP_RESTART);
}

static void env_config_changed(void *user, enum ocpp_key k)
{
	struct gw_ocpp *o = user;
	struct gw_ws_config wc;

	if (!o->ws)
		return;
	gw_ocpp_link_config(o, &wc);
	if (k == OCPP_KEY_WEB_SOCKET_PING_INTERVAL) {
		gw_ws_set_ping_interval(o->ws, wc.ping_interval_s);
		return;
	}
	/* A new key matters only where Basic auth uses it. */
	if (k == OCPP_KEY_AUTHORIZATION_KEY && wc.security_profile == 0)
		return;
	if (k == OCPP_KEY_SECURITY_PROFILE && wc.security_profile > o->sp_link)
		gw_ocpp_security_raised(o, o->sp_link);
	o->sp_link = wc.security_profile;
	gw_log_info("ocpp: %s changed by the central system: reconnecting", ocpp_config_info(k)->name);
	gw_ws_reconfigure(o->ws, &wc);
}

static void env_log(void *user, enum core_log_level level, const char *msg)
{
	(void)user;
	gw_log(gw_log_level_from_core(level), "ocpp: %s", msg);
}

/* ---- TWC state to connectors ---- */

/* The connector of a TWC the bus knows, assigned on first sight; its cap is re-applied when it
 * (re)appears. */
static int connector_take(struct gw_ocpp *o, uint16_t id)
{
	int c = ocpp_cp_connector_for_twc(o->cp, id);

	if (c < 1 || c > OCPP_MAX_CONNECTORS) {
		if (!o->full_logged)
			gw_log_warn("ocpp: no connector left for TWC %04X (at most %d)", id, OCPP_MAX_CONNECTORS);
		o->full_logged = true;
		return -1;
	}
	o->twc_of[c] = id;
	if (!o->present[c]) {
		o->present[c] = true;
		cap_apply(o, c);
	}
	return c;
}

static void evse_of(const struct twc_slave_info *s, struct ocpp_evse *e)
{
	memset(e, 0, sizeof(*e));
	e->present = true;
	e->fault = s->status == TWC_SLAVE_ERROR;
	e->fault_code = s->state_code;
	e->plugged = s->status == TWC_SLAVE_PLUGGED || s->status == TWC_SLAVE_CHARGING;
	e->drawing = s->status == TWC_SLAVE_CHARGING;
	e->amps = s->measured_amps;
	e->offered_amps = s->offered_amps;
	/* Allowed some current but given none: the bus's share of a short total paused it. */
	e->paused = e->plugged && s->cap_amps > 0 && s->target_amps == 0;
	for (int i = 0; i < 3 && e->volts == 0; i++)
		e->volts = s->volts[i];
	e->has_lifetime = s->has_meter;
	e->lifetime_wh = s->has_meter ? (uint64_t)s->energy_raw * 1000u : 0;
	snprintf(e->vin, sizeof(e->vin), "%s", s->vin);
}

static bool evse_same(const struct ocpp_evse *a, const struct ocpp_evse *b)
{
	return a->present == b->present && a->fault == b->fault && a->fault_code == b->fault_code &&
	       a->plugged == b->plugged && a->drawing == b->drawing && a->amps == b->amps &&
	       a->offered_amps == b->offered_amps && a->paused == b->paused && a->volts == b->volts &&
	       a->has_lifetime == b->has_lifetime && a->lifetime_wh == b->lifetime_wh && strcmp(a->vin, b->vin) == 0;
}

/* Tell the core connector @c's state if it differs from what it was last told. Return true if so. */
static bool evse_push(struct gw_ocpp *o, int c, const struct ocpp_evse *e, struct ocpp_now now)
{
	if (o->pushed_ok[c] && evse_same(&o->pushed[c], e))
		return false;
	ocpp_cp_evse_update(o->cp, c, e, now);
	o->pushed[c] = *e;
	o->pushed_ok[c] = true;
	return true;
}

static void evse_gone(struct gw_ocpp *o, int c, struct ocpp_now now)
{
	struct ocpp_evse e;

	memset(&e, 0, sizeof(e));
	o->present[c] = false;
	evse_push(o, c, &e, now);
}

/* Push the state of every TWC that changed; a TWC seen before that the bus no longer has is pushed
 * as absent. Return true if anything was pushed. */
static bool evse_sync(struct gw_ocpp *o)
{
	const struct twc_bus *core = gw_bus_core(o->bus);
	struct ocpp_now now = gw_ocpp_now(o);
	bool seen[OCPP_MAX_CONNECTORS + 1] = { false };
	bool changed = false;

	for (int slot = 0; slot < TWC_MAX_SLAVES; slot++) {
		struct twc_slave_info s;
		struct ocpp_evse e;
		int c;

		if (twc_bus_slave(core, slot, &s) != 0 || (c = connector_take(o, s.id)) < 0)
			continue;
		seen[c] = true;
		evse_of(&s, &e);
		changed |= evse_push(o, c, &e, now);
	}
	for (int c = 1; c <= OCPP_MAX_CONNECTORS; c++)
		if (o->present[c] && !seen[c]) {
			evse_gone(o, c, now);
			changed = true;
		}
	if (changed)
		gw_ocpp_rearm(o);
	return changed;
}

static void follow_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_ocpp *o = lws_container_of(sul, struct gw_ocpp, sul_follow);

	o->follow_armed = false;
	if (!o->stopped)
		evse_run(o);
}

/* Push what changed; if anything did, look again EVSE_FOLLOW_MS later (a look already due stays
 * where it is, so frequent events do not put it off). */
static void evse_run(struct gw_ocpp *o)
{
	if (o->stopped || !evse_sync(o) || o->follow_armed)
		return;
	o->follow_armed = true;
	sul_in(o, &o->sul_follow, follow_cb, EVSE_FOLLOW_MS);
}

static void evse_cb(lws_sorted_usec_list_t *sul)
{
	evse_run(lws_container_of(sul, struct gw_ocpp, sul_evse));
}

/* Push at the next loop turn rather than from inside the bus, since pushing may set caps on it. */
static void evse_soon(struct gw_ocpp *o)
{
	if (!o->stopped)
		sul_in(o, &o->sul_evse, evse_cb, 0);
}

/* A slave came, went or changed its status or car: every core event may change what it reports. */
static void bus_event(void *user, const struct twc_event *ev)
{
	(void)ev;
	evse_soon(user);
}

/* A cap, a total, a budget or the config changed the shares (paused, offered), or what a slave
 * holds moved (a new limit in force). */
static void bus_change(void *user)
{
	evse_soon(user);
}

static void bus_status(void *user)
{
	gw_ocpp_log_status(user);
}

/* ---- start-up: state files, journal replay ---- */

static char *state_read(const struct gw_ocpp *o, const char *name)
{
	char *text = NULL;
	size_t len;
	int rc;

	if (!o->data_dir[0])
		return NULL;
	rc = gw_store_read(o->data_dir, name, &text, &len, STATE_FILE_MAX);
	if (rc && rc != -ENOENT)
		gw_log_warn("ocpp: cannot read %s/%s (%s); starting without it", o->data_dir, name, strerror(-rc));
	return rc ? NULL : text;
}

static int restore_one(void *user, uint64_t seq, const char *text)
{
	struct gw_ocpp *o = user;

	if (ocpp_cp_restore_record(o->cp, seq, text) != 0)
		gw_log_warn("ocpp: journal record %llu not understood; dropped", (unsigned long long)seq);
	return 0;
}

static int journal_replay(struct gw_ocpp *o)
{
	const struct gw_journal_stats *st;
	int err = 0;

	if (!o->data_dir[0])
		return 0;
	o->journal = gw_journal_open(o->data_dir, JOURNAL_NAME, &err);
	if (!o->journal) {
		gw_log_error("ocpp: cannot open the journal %s/%s: %s", o->data_dir, JOURNAL_NAME, strerror(-err));
		return err ? err : -EIO;
	}
	st = gw_journal_stats(o->journal);
	if (st->skipped_records)
		gw_log_warn("ocpp: journal %s/%s: %u damaged record(s) (%llu bytes) skipped, the records after them "
			    "kept; is the storage failing?", o->data_dir, JOURNAL_NAME, st->skipped_records,
			    (unsigned long long)st->skipped_bytes);
	if (st->dropped_tail)
		gw_log_warn("ocpp: journal %s/%s: a torn last record (a crash in mid-write) dropped", o->data_dir,
			    JOURNAL_NAME);
	o->restoring = true;
	gw_journal_foreach(o->journal, restore_one, o);
	o->restoring = false;
	for (size_t i = 0; i < o->n_dels; i++)
		gw_journal_del(o->journal, o->dels[i]);
	if (gw_journal_stats(o->journal)->live)
		gw_log_info("ocpp: %u transaction messages from the journal to send",
			    gw_journal_stats(o->journal)->live);
	free(o->dels);
	o->dels = NULL;
	o->n_dels = o->cap_dels = 0;
	return 0;
}

#define STATE_FILES 5

static struct ocpp_cp *core_new(struct gw_ocpp *o, const struct gw_config *cfg, char *files[STATE_FILES])
{
	struct gw_ocpp_core_params cp;
	struct ocpp_cp_params *p = &cp.p;
	struct ocpp_cp_env env;

	gw_core_params_ocpp(cfg, o->tls, &cp);
	p->config_json = files[0] = state_read(o, OCPP_FILE_CONFIG);
	p->connectors_json = files[1] = state_read(o, OCPP_FILE_CONNECTORS);
	p->auth_json = files[2] = state_read(o, OCPP_FILE_AUTH);
	p->profiles_json = files[3] = state_read(o, OCPP_FILE_PROFILES);
	p->local_list_json = files[4] = state_read(o, OCPP_FILE_LOCAL_LIST);

	memset(&env, 0, sizeof(env));
	env.user = o;
	env.send = env_send;
	env.journal_put = env_journal_put;
	env.journal_del = env_journal_del;
	env.store = env_store;
	env.set_limit = env_set_limit;
	env.set_total_limit = env_set_total_limit;
	env.reset = env_reset;
	env.config_changed = env_config_changed;
	env.log = env_log;
	gw_ocpp_security_env(&env);
	return ocpp_cp_new(p, &env);
}

struct gw_ocpp *gw_ocpp_new(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg,
			    struct gw_bus *bus)
{
	struct gw_bus_observer obs;
	struct gw_ws_handlers wh;
	struct gw_ws_config wc;
	struct gw_url u;
	struct gw_ocpp *o;
	char *files[STATE_FILES] = { NULL };

	if (!cfg->ocpp.enabled || gw_url_split(cfg->ocpp.url, &u) != 0)
		return NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->loop = loop;
	o->clock = clock;
	o->bus = bus;
	o->cfg = cfg->ocpp;
	o->tls = u.tls;
	snprintf(o->data_dir, sizeof(o->data_dir), "%s", cfg->data_dir);

	o->cp = core_new(o, cfg, files);
	for (int i = 0; i < STATE_FILES; i++)
		free(files[i]);
	if (!o->cp) {
		gw_log_error("ocpp: the charge point core refused its settings");
		goto fail;
	}
	gw_core_timer_init(&o->tick, loop, clock, o, core_deadline, core_tick);
	if (gw_ocpp_security_open(o, cfg) != 0 || journal_replay(o) != 0)
		goto fail;
	ocpp_cp_start(o->cp, o->journal ? gw_journal_max_seq(o->journal) : 0, gw_ocpp_now(o));
	gw_ocpp_security_started(o);

	gw_ocpp_link_config(o, &wc);
	o->sp_link = wc.security_profile;
	memset(&wh, 0, sizeof(wh));
	wh.user = o;
	wh.on_open = ws_open;
	wh.on_close = ws_close;
	wh.on_text = ws_text;
	wh.on_fail = ws_fail;
	o->ws = gw_ws_new(loop, &wc, &wh);
	if (!o->ws)
		goto fail;

	memset(&obs, 0, sizeof(obs));
	obs.user = o;
	obs.on_event = bus_event;
	obs.on_status = bus_status;
	obs.on_change = bus_change;
	obs.on_load = bus_change;
	if (gw_bus_add_observer(bus, &obs) < 0)
		goto fail;
	gw_log_info("ocpp: charge point %s (%s %s, firmware %s), idTag source %s%s%s", cfg->ocpp.charge_box_id,
		    cfg->ocpp.vendor, cfg->ocpp.model, TWCGW_VERSION,
		    cfg->ocpp.id_tag_source == OCPP_IDTAG_FIXED ? "fixed" :
		    cfg->ocpp.id_tag_source == OCPP_IDTAG_VIN ? "vin" : "remote",
		    o->data_dir[0] ? ", state in " : ", nothing kept on disk", o->data_dir);
	evse_run(o);
	return o;

fail:
	gw_ocpp_free(o);
	return NULL;
}

void gw_ocpp_log_status(struct gw_ocpp *o)
{
	const struct ocpp_cp_stats *st = ocpp_cp_stats(o->cp);

	gw_log_info("ocpp: link %s, %s, %u transaction messages queued, rx %u tx %u frames, %u bad, %u timeouts",
		    gw_ws_is_open(o->ws) ? "up" : "down",
		    ocpp_cp_registered(o->cp) ? "registered" : "not registered", st->queued, st->rx_frames,
		    st->tx_frames, st->rx_bad, st->calls_timed_out);
	for (int c = 1; c <= ocpp_cp_connector_count(o->cp) && c <= OCPP_MAX_CONNECTORS; c++) {
		enum ocpp_cp_status s = ocpp_cp_connector_status(o->cp, c);
		char twc[16] = "TWC ?";

		if (o->twc_of[c])
			snprintf(twc, sizeof(twc), "TWC %04X", o->twc_of[c]);
		gw_log_info("ocpp: connector %d %s  %-13s  transaction %d  %.0f Wh", c, twc,
			    (unsigned)s < OCPP_ST_COUNT ? ocpp_cp_status_names[s] : "?", ocpp_cp_transaction_id(o->cp, c),
			    ocpp_cp_energy_wh(o->cp, c));
	}
}

bool gw_ocpp_online(const struct gw_ocpp *o)
{
	/* The core starts (and may be asked) before the link exists. */
	return o->ws && gw_ws_is_open(o->ws) && ocpp_cp_registered(o->cp);
}

void gw_ocpp_watch_online(struct gw_ocpp *o, void (*cb)(void *user), void *user)
{
	o->online_cb = cb;
	o->online_user = user;
}

const struct ocpp_cp *gw_ocpp_core(const struct gw_ocpp *o)
{
	return o->cp;
}

int gw_ocpp_connector_of(const struct gw_ocpp *o, uint16_t twc_id)
{
	for (int c = 1; c <= OCPP_MAX_CONNECTORS; c++)
		if (o->twc_of[c] == twc_id)
			return c;
	return -1;
}

void gw_ocpp_stop(struct gw_ocpp *o)
{
	if (!o)
		return;
	o->stopped = true;
	gw_core_timer_stop(&o->tick);
	lws_sul_cancel(&o->sul_evse);
	lws_sul_cancel(&o->sul_follow);
	o->follow_armed = false;
	if (o->bus)
		gw_bus_remove_observer(o->bus, o);
	gw_ocpp_security_stop(o);
	gw_ws_stop(o->ws);
}

void gw_ocpp_free(struct gw_ocpp *o)
{
	if (!o)
		return;
	gw_ocpp_stop(o);
	gw_ws_free(o->ws);
	gw_ocpp_security_free(o);
	ocpp_cp_free(o->cp);
	gw_journal_close(o->journal);
	free(o->dels);
	free(o);
}
