/*
 * gw_bus: glue between one twc_bus core, its gw_port and the loop's timers, plus the event log and
 * the bus total. The total the slaves share is the least of the wiring, OCPP's ChargePointMaxProfile
 * (gw_bus_set_total_cap) and the policy engine's decision (gw_bus_set_policy_cap). Standalone, every
 * slave's own cap is the per-TWC wiring and the total decides; in OCPP mode (fixed at creation; a
 * reload cannot switch it) a slave's cap comes from gw_bus_set_cap(). An operator's maximum for one
 * Wall Connector (gw_bus_set_user_max(), from the controls) lowers either, never raises it. A site
 * budget (gw_bus_set_budget(), from gw_site) caps what the whole bus may hold. The core never sees a
 * clock or a descriptor: every call into it carries gw_clock_now_ms(), and after every call the one
 * tick timer is re-armed at the core's next deadline and observers hear if the bus's load changed.
 */
#include "gw_bus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "gw_core_params.h"
#include "gw_held.h"
#include "gw_log.h"
#include "gw_port.h"
#include "gw_timer.h"

#define REJECTED_LOG_EVERY_MS 60000u
/* Wire time of about 18 bytes at 9600 bps: once a frame's first bytes are in, its rest comes in
 * one or two more reads. */
#define RX_GATHER_MS 18u
#define REJECTED_MEMORY 8

struct gw_bus {
	struct gw_loop *loop;
	const struct gw_clock *clock;
	struct twc_bus *core;
	struct gw_port *port;
	struct gw_config_twc twc;
	bool ocpp;                   /* per-slave caps come from the OCPP layer */
	int total_cap;               /* OCPP's limit for the whole bus, -1 = the wiring */
	int policy_cap;              /* the policy engine's total, -1 = none; 0 until it first decides */
	int budget;                  /* the site's budget for this bus, -1 = none */
	struct twc_site_bus load;    /* as last told to the on_load observers */
	struct gw_bus_observer obs[GW_BUS_OBSERVERS_MAX];
	int n_obs;
	int status_interval;
	char data_dir[GW_CONFIG_PATH_MAX]; /* "" = nothing kept (the demo) */
	bool persist_failing;              /* logged once until a store succeeds again */

	struct gw_core_timer tick;   /* the core's deadline */
	lws_sorted_usec_list_t sul_status;
	bool stopped;
	enum twc_slave_status last_status[TWC_MAX_SLAVES];
	struct {
		uint16_t id;
		uint64_t logged_ms;
	} rejected[REJECTED_MEMORY]; /* IDs recently warned about; id 0 = free */
	/* Per Wall Connector: the OCPP layer's cap and the operator's maximum, -1 = none (id 0 = free). */
	struct {
		uint16_t id;
		int ocpp_cap, user_max;
	} caps[TWC_MAX_KNOWN];
};

static void bus_status_cb(lws_sorted_usec_list_t *sul);
static void load_check(struct gw_bus *bus);

static void notify_change(struct gw_bus *bus)
{
	for (int k = 0; k < bus->n_obs; k++)
		if (bus->obs[k].on_change)
			bus->obs[k].on_change(bus->obs[k].user);
}

/* What the bus may share: the least of the wiring, OCPP's total cap and the policy's (-1: none). */
static int total_available(const struct gw_bus *bus)
{
	int avail = bus->twc.wiring_max_all;

	if (bus->total_cap >= 0 && bus->total_cap < avail)
		avail = bus->total_cap;
	if (bus->policy_cap >= 0 && bus->policy_cap < avail)
		avail = bus->policy_cap;
	return avail;
}

/* "5YJ...1234": enough to tell cars apart in a log without writing out a full vehicle identity. */
static void vin_short(const char *vin, char *out, size_t outlen)
{
	size_t len = strlen(vin);

	if (len >= 7)
		snprintf(out, outlen, "%.3s...%s", vin, vin + len - 4);
	else
		snprintf(out, outlen, "%s", len ? "?" : "");
}

static bool on_bus(const struct gw_bus *bus, uint16_t id)
{
	struct twc_slave_info info;

	for (int slot = 0; slot < TWC_MAX_SLAVES; slot++)
		if (twc_bus_slave(bus->core, slot, &info) == 0 && info.id == id)
			return true;
	return false;
}

/* The caps entry of @id, made if @make: a free one, else one of a slave no longer on the bus that has
 * no operator's maximum (that must outlive the slave's absence). -1 when there is none. */
static int cap_slot(struct gw_bus *bus, uint16_t id, bool make)
{
	int free_slot = -1;

	for (int k = 0; k < TWC_MAX_KNOWN; k++) {
		if (bus->caps[k].id == id)
			return k;
		if (!bus->caps[k].id && free_slot < 0)
			free_slot = k;
	}
	for (int k = 0; make && free_slot < 0 && k < TWC_MAX_KNOWN; k++)
		if (bus->caps[k].user_max < 0 && !on_bus(bus, bus->caps[k].id))
			free_slot = k;
	if (!make || free_slot < 0)
		return -1;
	bus->caps[free_slot].id = id;
	bus->caps[free_slot].ocpp_cap = -1;
	bus->caps[free_slot].user_max = -1;
	return free_slot;
}

/* A slave's cap: OCPP's (0 until it says) or the per-TWC wiring standalone, lowered by the operator's
 * maximum. -ENOENT when the slave is not on the bus now (it gets it when it registers). */
static int cap_apply(struct gw_bus *bus, uint16_t id)
{
	int k = cap_slot(bus, id, false);
	int cap = bus->ocpp ? 0 : bus->twc.wiring_max_per_twc;

	if (k >= 0 && bus->ocpp && bus->caps[k].ocpp_cap >= 0)
		cap = bus->caps[k].ocpp_cap;
	if (k >= 0 && bus->caps[k].user_max >= 0 && bus->caps[k].user_max < cap)
		cap = bus->caps[k].user_max;
	return twc_bus_set_cap(bus->core, id, cap);
}

/* A reload may change the per-TWC wiring: bring the slaves already known in line. */
static void caps_apply_all(struct gw_bus *bus)
{
	for (int slot = 0; slot < TWC_MAX_SLAVES; slot++) {
		struct twc_slave_info info;

		if (twc_bus_slave(bus->core, slot, &info) == 0)
			cap_apply(bus, info.id);
	}
}

/* ---- driving the core ---- */

static uint64_t core_deadline(void *owner)
{
	const struct gw_bus *bus = owner;

	return twc_bus_next_deadline(bus->core);
}

static void core_tick(void *owner)
{
	struct gw_bus *bus = owner;

	twc_bus_tick(bus->core, gw_clock_now_ms(bus->clock));
	load_check(bus); /* gw_core_timer re-arms itself after this */
}

/* The on_load observers hear when what the bus holds, needs or wants moved: a reply, a tick or a
 * new cap can each change it. */
static void load_check(struct gw_bus *bus)
{
	struct twc_site_bus now;

	twc_bus_site_view(bus->core, &now);
	if (now.held == bus->load.held && now.need == bus->load.need && now.wants == bus->load.wants &&
	    now.start == bus->load.start && now.cars == bus->load.cars)
		return;
	bus->load = now;
	for (int k = 0; k < bus->n_obs; k++)
		if (bus->obs[k].on_load)
			bus->obs[k].on_load(bus->obs[k].user);
}

/* After every call into the core: the timer at its next deadline, and the observers. */
static void bus_rearm(struct gw_bus *bus)
{
	gw_core_timer_rearm(&bus->tick);
	load_check(bus);
}

static void port_rx(void *user, const uint8_t *bytes, size_t len)
{
	struct gw_bus *bus = user;

	twc_bus_input(bus->core, bytes, len, gw_clock_now_ms(bus->clock));
	/* A frame is coming in: let the rest of it arrive before reading again (an adapter handing
	 * over each byte as it comes would wake us once per byte). Only once the receiver is busy,
	 * which holds the master's own frames back meanwhile: a lone C0 does not, and waiting blind
	 * after one let the master talk over the frame it began (twc-sim counted the collision). */
	if (twc_bus_rx_busy(bus->core))
		gw_port_rx_gather(bus->port, RX_GATHER_MS);
	bus_rearm(bus);
}

static void port_up(void *user)
{
	struct gw_bus *bus = user;

	twc_bus_link_up(bus->core, gw_clock_now_ms(bus->clock));
	bus_rearm(bus);
}

static void port_down(void *user)
{
	struct gw_bus *bus = user;

	/* The core keeps its slaves (link_up will not time them out for the gap); only say so. */
	gw_log_debug("bus %s: link down, %d slaves kept until the link returns", gw_port_name(bus->port),
		     twc_bus_slave_count(bus->core));
}

static int core_write(void *user, const uint8_t *bytes, size_t len)
{
	struct gw_bus *bus = user;
	int rc = gw_port_write(bus->port, bytes, len);

	if (rc && rc != -ENOTCONN)
		gw_log_debug("bus %s: write of %zu bytes failed: %s", gw_port_name(bus->port), len, strerror(-rc));
	return rc;
}

/* The core's table of what the slaves may hold changed: store it before the core raises anyone. */
static int core_persist(void *user, const struct twc_held *held, int n)
{
	struct gw_bus *bus = user;
	int rc = gw_held_save(bus->data_dir, held, n);

	if (rc < 0 && !bus->persist_failing)
		gw_log_error("bus %s: cannot store %s/%s: %s; no Wall Connector is raised until it can be stored",
			     gw_port_name(bus->port), bus->data_dir, GW_HELD_FILE, strerror(-rc));
	else if (rc == 0 && bus->persist_failing)
		gw_log_info("bus %s: %s/%s stored again", gw_port_name(bus->port), bus->data_dir, GW_HELD_FILE);
	bus->persist_failing = rc < 0;
	return rc;
}

/* ---- events to log lines ---- */

static void log_added(struct gw_bus *bus, const struct twc_event *ev)
{
	struct twc_slave_info info;

	if (ev->slave < 0 || ev->slave >= TWC_MAX_SLAVES || twc_bus_slave(bus->core, ev->slave, &info) != 0) {
		gw_log_info("bus %s: slave %04X added", gw_port_name(bus->port), ev->id);
		return;
	}
	bus->last_status[ev->slave] = info.status;
	gw_log_info("bus %s: slave %04X added in slot %d: protocol %u, rated %d A, sign %02X",
		    gw_port_name(bus->port), info.id, ev->slave, info.protocol, info.rated_amps, info.sign);
}

static void log_status_changed(struct gw_bus *bus, const struct twc_event *ev)
{
	struct twc_slave_info info;
	enum twc_slave_status before;

	if (ev->slave < 0 || ev->slave >= TWC_MAX_SLAVES || twc_bus_slave(bus->core, ev->slave, &info) != 0)
		return;
	before = bus->last_status[ev->slave];
	bus->last_status[ev->slave] = info.status;
	gw_log_info("bus %s: slave %04X %s -> %s (state %02X, drawing %.1f A, offered %d A)",
		    gw_port_name(bus->port), info.id, twc_slave_status_name(before), twc_slave_status_name(info.status),
		    info.state_code, info.measured_amps, info.offered_amps);
}

static void log_rejected(struct gw_bus *bus, const struct twc_event *ev)
{
	uint64_t now = gw_clock_now_ms(bus->clock);
	int slot = 0;

	/* A fourth slave repeats its linkready many times a second: warn once a minute per ID. */
	for (int i = 0; i < REJECTED_MEMORY; i++) {
		if (bus->rejected[i].id == ev->id) {
			slot = i;
			break;
		}
		if (bus->rejected[i].logged_ms < bus->rejected[slot].logged_ms)
			slot = i;
	}
	bool loud = bus->rejected[slot].id != ev->id || now - bus->rejected[slot].logged_ms >= REJECTED_LOG_EVERY_MS;

	if (loud) {
		bus->rejected[slot].id = ev->id;
		bus->rejected[slot].logged_ms = now;
	}
	gw_log(loud ? GW_LOG_WARN : GW_LOG_DEBUG, "bus %s: slave %04X ignored: the bus already has %d slaves",
	       gw_port_name(bus->port), ev->id, TWC_MAX_SLAVES);
}

static void core_event(void *user, const struct twc_event *ev)
{
	struct gw_bus *bus = user;
	const char *name = gw_port_name(bus->port);
	char vin[24];

	switch (ev->type) {
	case TWC_EV_SLAVE_ADDED:
		log_added(bus, ev);
		/* Before its first heartbeat is decided: an operator's maximum holds from the start. */
		if (cap_slot(bus, ev->id, false) >= 0)
			cap_apply(bus, ev->id);
		break;
	case TWC_EV_SLAVE_REMOVED:
		if (ev->slave >= 0 && ev->slave < TWC_MAX_SLAVES)
			bus->last_status[ev->slave] = TWC_SLAVE_ABSENT;
		gw_log_warn("bus %s: slave %04X removed: silent for %u s", name, ev->id, TWC_SLAVE_TIMEOUT_MS / 1000u);
		break;
	case TWC_EV_SLAVE_REJECTED:
		log_rejected(bus, ev);
		break;
	case TWC_EV_STATUS_CHANGED:
		log_status_changed(bus, ev);
		break;
	case TWC_EV_VIN:
		if (ev->text && ev->text[0]) {
			vin_short(ev->text, vin, sizeof(vin));
			gw_log_info("bus %s: slave %04X car VIN %s", name, ev->id, vin);
		} else {
			gw_log_info("bus %s: slave %04X car gone (VIN cleared)", name, ev->id);
		}
		break;
	case TWC_EV_ID_COLLISION:
		gw_log_warn("bus %s: a slave announced our own master ID %04X; sending linkready again so it picks "
			    "another", name, ev->id);
		break;
	case TWC_EV_OTHER_MASTER:
		/* The core already holds this back to one event a minute. */
		gw_log_warn("bus %s: another master %04X is talking (%s): is a TWC's rotary switch not set to "
			    "slave?", name, ev->id, ev->text ? ev->text : "?");
		break;
	case TWC_EV_GRANT:
		gw_log_debug("bus %s: slave %04X told %d A", name, ev->id, ev->amps);
		break;
	case TWC_EV_UNKNOWN_FRAME:
		gw_log_debug("bus %s: unknown frame %s", name, ev->text ? ev->text : "");
		break;
	case TWC_EV_STOP_SENT:
		/* Info, not debug: each cut is one more towards a Tesla car calling the charger faulty. */
		gw_log_info("bus %s: slave %04X paused while drawing %d A: sent FC B2 (stop)", name, ev->id, ev->amps);
		break;
	case TWC_EV_START_SENT:
		gw_log_info("bus %s: slave %04X may charge again (%d A): sent FC B1 (start)", name, ev->id, ev->amps);
		break;
	case TWC_EV_HOLD_RESERVED:
		gw_log_info("bus %s: slave %04X may still hold %d A: kept reserved until it reports or for %u s",
			    name, ev->id, ev->amps, TWC_HOLD_RELEASE_MS / 1000u);
		break;
	case TWC_EV_HOLD_RELEASED:
		gw_log_info("bus %s: slave %04X has had no heartbeat long enough to have stopped: its %d A are free",
			    name, ev->id, ev->amps);
		break;
	}
	for (int k = 0; k < bus->n_obs; k++)
		if (bus->obs[k].on_event)
			bus->obs[k].on_event(bus->obs[k].user, ev);
	notify_change(bus);
}

/* ---- status ---- */

static void log_slave(struct gw_bus *bus, const struct twc_slave_info *s)
{
	char meter[48] = "";
	char vin[32] = "";
	char v[24];

	if (s->has_meter) {
		if (bus->twc.phases == 3)
			snprintf(v, sizeof(v), "%u/%u/%u V", s->volts[0], s->volts[1], s->volts[2]);
		else
			snprintf(v, sizeof(v), "%u V", s->volts[0]);
		snprintf(meter, sizeof(meter), "  %u kWh %s", s->energy_raw, v);
	}
	if (s->vin[0]) {
		char short_vin[24];
		vin_short(s->vin, short_vin, sizeof(short_vin));
		snprintf(vin, sizeof(vin), "  VIN %s", short_vin);
	}
	gw_log_info("slave %04X v%u %-8s  drawing %.1f A  offered %d A  target %d A  cap %d A  state %02X%s%s", s->id,
		    s->protocol, twc_slave_status_name(s->status), s->measured_amps, s->offered_amps, s->target_amps,
		    s->cap_amps, s->state_code, meter, vin);
}

void gw_bus_log_status(struct gw_bus *bus)
{
	const struct twc_bus_stats *st = twc_bus_stats(bus->core);
	const struct twc_rx_stats *rx = &st->rx;
	uint32_t bad = rx->bad_checksum + rx->bad_length + rx->bad_escape + rx->overflow + rx->timeouts;

	for (int slot = 0; slot < TWC_MAX_SLAVES; slot++) {
		struct twc_slave_info info;

		if (twc_bus_slave(bus->core, slot, &info) == 0)
			log_slave(bus, &info);
	}
	gw_log_info("bus %s: %d slaves, %d/%d A held (%d reserved), rx %u frames %u bad, tx %u%s",
		    gw_port_name(bus->port), twc_bus_slave_count(bus->core), twc_bus_held_total(bus->core),
		    bus->twc.wiring_max_all, twc_bus_reserved(bus->core), rx->frames, bad, st->tx_frames,
		    gw_port_is_up(bus->port) ? "" : " (link down)");
	for (int k = 0; k < bus->n_obs; k++)
		if (bus->obs[k].on_status)
			bus->obs[k].on_status(bus->obs[k].user);
}

static void status_arm(struct gw_bus *bus)
{
	if (bus->status_interval <= 0 || bus->stopped) {
		lws_sul_cancel(&bus->sul_status);
		return;
	}
	gw_timer_in(bus->loop, bus->clock, &bus->sul_status, bus_status_cb, (uint64_t)bus->status_interval * 1000u);
}

static void bus_status_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_bus *bus = lws_container_of(sul, struct gw_bus, sul_status);

	gw_bus_log_status(bus);
	status_arm(bus);
}

/* ---- life cycle ---- */

static struct gw_port *port_open(struct gw_bus *bus, const char *spec, int fd)
{
	struct gw_port_handlers h = {
		.user = bus,
		.on_rx = port_rx,
		.on_up = port_up,
		.on_down = port_down,
	};
	struct gw_port *port = fd >= 0 ? gw_port_new_fd(bus->loop, fd, spec, &h) : gw_port_new(bus->loop, spec, &h);

	if (!port) {
		gw_log_error("bus %s: cannot create the port", spec);
		return NULL;
	}
	gw_port_start(port);
	return port;
}

static struct gw_bus *bus_new(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg,
			      int fd, const char *name)
{
	struct twc_bus_config bc;
	struct twc_bus_env env;
	struct gw_bus *bus;

	bus = calloc(1, sizeof(*bus));
	if (!bus) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	bus->loop = loop;
	bus->clock = clock;
	bus->twc = cfg->twc;
	bus->ocpp = cfg->ocpp.enabled;
	bus->status_interval = cfg->log.status_interval;
	snprintf(bus->data_dir, sizeof(bus->data_dir), "%s", cfg->data_dir);

	struct twc_held held[TWC_MAX_KNOWN];
	char err[512];
	int n_held = bus->data_dir[0] ? gw_held_load(bus->data_dir, held, TWC_MAX_KNOWN, err, sizeof(err)) : 0;

	if (n_held < 0) {
		gw_log_error("bus %s: %s", name, err);
		if (fd >= 0)
			close(fd);
		free(bus);
		return NULL;
	}
	gw_core_params_twc(cfg, bus->ocpp, &bc);
	memset(&env, 0, sizeof(env));
	env.user = bus;
	env.write = core_write;
	env.event = core_event;
	if (bus->data_dir[0])
		env.persist = core_persist;
	bus->core = twc_bus_new(&bc, &env, gw_clock_now_ms(clock));
	if (!bus->core) {
		gw_log_error("bus %s: the TWC core refused the config", name);
		if (fd >= 0)
			close(fd);
		free(bus);
		return NULL;
	}
	gw_core_timer_init(&bus->tick, loop, clock, bus, core_deadline, core_tick);
	bus->total_cap = -1;
	bus->budget = -1;
	/* Standalone, nothing may charge until the policy engine has decided (at once, at start). */
	bus->policy_cap = bus->ocpp ? -1 : 0;
	twc_bus_set_available(bus->core, total_available(bus));
	bus->port = port_open(bus, name, fd);
	if (!bus->port) {
		twc_bus_free(bus->core);
		free(bus);
		return NULL;
	}
	/* What the slaves may still hold from before this start counts until each reports (after the
	 * port exists: the events it raises are logged with the port's name). */
	twc_bus_restore(bus->core, held, n_held, gw_clock_now_ms(clock));
	gw_log_info("bus %s: master %04X, wiring %d A total / %d A per TWC, min %d A, %s", name,
		    cfg->twc.master_id, cfg->twc.wiring_max_all, cfg->twc.wiring_max_per_twc, cfg->twc.min_amps,
		    bus->ocpp ? "caps from OCPP" : "standalone");
	bus_rearm(bus);
	status_arm(bus);
	return bus;
}

struct gw_bus *gw_bus_new(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg)
{
	return bus_new(loop, clock, cfg, -1, cfg->twc.port);
}

struct gw_bus *gw_bus_new_fd(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg,
			     int fd, const char *name)
{
	return bus_new(loop, clock, cfg, fd, name);
}

int gw_bus_apply_config(struct gw_bus *bus, const struct gw_config *cfg)
{
	struct twc_bus_config bc;
	int rc;

	gw_core_params_twc(cfg, bus->ocpp, &bc);
	rc = twc_bus_set_config(bus->core, &bc);
	if (rc == -ERANGE) {
		struct twc_need need;
		char err[512];

		twc_bus_need(bus->core, &need);
		gw_held_check(&need, bc.limits.wiring_max_all, bc.limits.wiring_max_per_twc, err, sizeof(err));
		gw_log_error("reload: %s", err);
	}
	if (rc)
		return rc;
	bool port_changed = strcmp(cfg->twc.port, bus->twc.port) != 0;

	bus->twc = cfg->twc;
	bus->status_interval = cfg->log.status_interval;
	twc_bus_set_available(bus->core, total_available(bus));
	caps_apply_all(bus);
	gw_log_info("bus %s: config applied: wiring %d A total / %d A per TWC, min %d A",
		    gw_port_name(bus->port), bus->twc.wiring_max_all, bus->twc.wiring_max_per_twc, bus->twc.min_amps);
	if (port_changed && gw_port_kind(bus->port) != GW_PORT_FD) {
		struct gw_port *port = gw_port_new(bus->loop, cfg->twc.port, &(struct gw_port_handlers){
			.user = bus, .on_rx = port_rx, .on_up = port_up, .on_down = port_down });

		if (port) {
			gw_log_info("bus %s: port changed to %s; reopening", gw_port_name(bus->port), cfg->twc.port);
			gw_port_free(bus->port);
			bus->port = port;
			gw_port_start(port);
		} else {
			gw_log_error("bus %s: cannot create the port %s; keeping the old one", gw_port_name(bus->port),
				     cfg->twc.port);
		}
	}
	bus_rearm(bus);
	status_arm(bus);
	notify_change(bus);
	return 0;
}

int gw_bus_add_observer(struct gw_bus *bus, const struct gw_bus_observer *obs)
{
	if (bus->n_obs >= GW_BUS_OBSERVERS_MAX)
		return -ENOSPC;
	bus->obs[bus->n_obs++] = *obs;
	return 0;
}

void gw_bus_remove_observer(struct gw_bus *bus, void *user)
{
	int n = 0;

	for (int k = 0; k < bus->n_obs; k++)
		if (bus->obs[k].user != user)
			bus->obs[n++] = bus->obs[k];
	bus->n_obs = n;
}

int gw_bus_set_cap(struct gw_bus *bus, uint16_t twc_id, int amps)
{
	int rc, k;

	if (amps == -1)
		amps = bus->twc.wiring_max_per_twc;
	if (amps < 0)
		return -EINVAL;
	k = cap_slot(bus, twc_id, true);
	if (k < 0)
		return -ENOSPC;
	bus->caps[k].ocpp_cap = amps;
	rc = cap_apply(bus, twc_id);
	if (rc == 0) {
		gw_log_debug("bus %s: slave %04X cap %d A (ocpp)", gw_port_name(bus->port), twc_id, amps);
		bus_rearm(bus);
		notify_change(bus);
	}
	return rc;
}

int gw_bus_set_user_max(struct gw_bus *bus, uint16_t twc_id, int amps)
{
	int k, rc;

	if (amps < -1 || amps > bus->twc.wiring_max_per_twc)
		return -ERANGE;
	k = cap_slot(bus, twc_id, amps >= 0);
	if (k < 0)
		return amps < 0 ? 0 : -ENOSPC;
	bus->caps[k].user_max = amps;
	rc = cap_apply(bus, twc_id);
	if (amps < 0)
		gw_log_info("bus %s: slave %04X operator's maximum cleared", gw_port_name(bus->port), twc_id);
	else
		gw_log_info("bus %s: slave %04X operator's maximum %d A", gw_port_name(bus->port), twc_id, amps);
	if (rc == 0) {
		bus_rearm(bus);
		notify_change(bus);
	}
	return rc == -ENOENT ? 0 : rc;
}

int gw_bus_set_total_cap(struct gw_bus *bus, int amps)
{
	int avail;

	if (amps < -1)
		return -EINVAL;
	bus->total_cap = amps;
	avail = total_available(bus);
	twc_bus_set_available(bus->core, avail);
	gw_log_debug("bus %s: total cap %d A (ocpp), %d A available", gw_port_name(bus->port), amps, avail);
	bus_rearm(bus);
	notify_change(bus);
	return 0;
}

int gw_bus_set_policy_cap(struct gw_bus *bus, int amps)
{
	int avail;

	if (amps < -1)
		return -EINVAL;
	if (amps == bus->policy_cap)
		return 0;
	bus->policy_cap = amps;
	avail = total_available(bus);
	twc_bus_set_available(bus->core, avail);
	gw_log_debug("bus %s: policy cap %d A, %d A available", gw_port_name(bus->port), amps, avail);
	bus_rearm(bus);
	notify_change(bus);
	return 0;
}

int gw_bus_set_budget(struct gw_bus *bus, int amps)
{
	if (amps < -1)
		return -EINVAL;
	if (amps == bus->budget)
		return 0;
	bus->budget = amps;
	twc_bus_set_budget(bus->core, amps);
	gw_log_debug("bus %s: site budget %d A", gw_port_name(bus->port), amps);
	bus_rearm(bus);
	notify_change(bus);
	return 0;
}

void gw_bus_site_view(const struct gw_bus *bus, struct twc_site_bus *out)
{
	twc_bus_site_view(bus->core, out);
}

const char *gw_bus_name(const struct gw_bus *bus)
{
	return gw_port_name(bus->port);
}

const struct gw_clock *gw_bus_clock(const struct gw_bus *bus)
{
	return bus->clock;
}

double gw_bus_drawn_w(const struct gw_bus *bus)
{
	double amps = 0;

	for (int slot = 0; slot < TWC_MAX_SLAVES; slot++) {
		struct twc_slave_info info;
		double a;

		if (twc_bus_slave(bus->core, slot, &info) != 0)
			continue;
		/* The measured amps lag the car by a heartbeat. A car moving towards its new limit draws
		 * between the two, so the lower one never overstates the draw: the surplus it yields
		 * may be low for a moment, never high. */
		a = info.measured_amps < info.offered_amps ? info.measured_amps : info.offered_amps;
		if (a > 0)
			amps += a;
	}
	return amps * bus->twc.voltage * bus->twc.phases;
}

const struct twc_bus *gw_bus_core(const struct gw_bus *bus)
{
	return bus->core;
}

bool gw_bus_link_up(const struct gw_bus *bus)
{
	return gw_port_is_up(bus->port);
}

void gw_bus_stop(struct gw_bus *bus)
{
	if (!bus)
		return;
	bus->stopped = true;
	gw_core_timer_stop(&bus->tick);
	lws_sul_cancel(&bus->sul_status);
	gw_port_stop(bus->port);
}

void gw_bus_free(struct gw_bus *bus)
{
	if (!bus)
		return;
	gw_bus_stop(bus);
	gw_port_free(bus->port);
	twc_bus_free(bus->core);
	free(bus);
}

void gw_bus_vin_text(const struct twc_slave_info *in, char *out, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; in->vin[i] && k + 1 < n; i++)
		if ((in->vin[i] >= 'A' && in->vin[i] <= 'Z') || (in->vin[i] >= '0' && in->vin[i] <= '9'))
			out[k++] = in->vin[i];
	if (n)
		out[k] = '\0';
}
