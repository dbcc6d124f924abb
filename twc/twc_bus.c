/*
 * twc_bus: the master side of one TWC Gen 2 RS-485 bus. It runs the start-up linkready burst,
 * registers up to three slaves from their linkready (protocol version from its length), heartbeats
 * them round-robin at least TWC_HEARTBEAT_SPACING_MS apart, forgets a slave after 26 s of silence,
 * and fits firmware 4.5.3 queries (meter, VIN, serial, firmware) into the quiet time between
 * heartbeats so they can never delay one. With stop_commands, the FC B2 / FC B1 start/stop commands
 * go out in that same quiet time, to a paused 4.5.3 slave whose car still draws and again when it
 * may charge. The amps in every heartbeat come from twc_alloc, fed with what each slave may really
 * be holding: a limit counts as told only once its frame was written, a lowering only once the slave
 * reports it and its car has come down, and a slave that falls silent, or that a restart knows of
 * only from the persisted table, keeps its amps reserved until it must have stopped.
 * Time is always the caller's now_ms; the only output is env->write, env->event and env->persist.
 */
#include "twc_bus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINKREADY_BURST 10          /* 5 x FC E1 then 5 x FB E2 */
#define VIN_RETRY_MS 60000u
#define VIN_MAX_ATTEMPTS 6
#define QUERY_GIVE_UP 3             /* unanswered queries in a row before we stop asking */
#define QUERY_RETRY_MS 600000u      /* ... and try again this much later */
#define CHARGING_DEBOUNCE_MS 5000u
#define OTHER_MASTER_LOG_MS 60000u
#define STOP_SETTLE_CA 700          /* FC B2 once a paused car is down to the 6 A protocol 2 floor, ... */
#define STOP_SETTLE_MS 10000u       /* ... or this long after it was told 0 if it does not come down */
#define CONTROL_DWELL_MS 60000u     /* least time between two start/stop commands to one slave */

/* What occupies the quiet window: a query, or a start/stop command (which only gets an ack). */
enum query_kind { Q_NONE, Q_FIRMWARE, Q_SERIAL, Q_VIN, Q_METER, Q_STOP, Q_START };

struct slave {
	bool used;
	uint16_t id;
	uint8_t sign;
	uint8_t protocol;
	int rated_amps;
	uint64_t last_heard_ms;
	uint64_t last_hb_ms;
	bool have_shb;
	uint8_t state_code;
	uint16_t limit_ca;
	uint16_t measured_ca;
	uint64_t last_draw_ms;      /* last time it drew >= 1 A */
	enum twc_slave_status status;
	bool told;                  /* a limit was written to it (or restored from before a restart) */
	int told_amps;
	bool confirmed;             /* it answered since the last limit we sent, with that limit or an ack */
	bool reported_since_up;     /* it answered a heartbeat since the link (re)started */
	int cap_amps;
	int target_amps;
	bool stop_sent;             /* FC B2 went out for this pause: FC B1 is owed once it may charge */
	uint64_t control_ms;        /* when the last FC B1 / FC B2 went out, 0 never */
	uint64_t zero_told_ms;      /* when it was told 0 after being told something else */
	/* firmware 4.5.3 queries */
	bool has_firmware, has_serial, has_meter;
	uint8_t firmware[4];
	char serial[TWC_SERIAL_LEN + 1];
	uint32_t energy_raw;
	uint16_t volts[3];
	uint64_t next_meter_ms;
	int unanswered;
	uint64_t queries_paused_until;
	/* VIN: read in three parts while a car is present */
	char vin[TWC_VIN_LEN + 1];
	char vin_buf[TWC_VIN_LEN + 1];
	int vin_part;               /* next part to ask for, -1 = not reading */
	int vin_attempts;
	bool vin_done;              /* read (or empty) for this plug-in */
	uint64_t vin_next_ms;
};

struct twc_bus {
	struct twc_bus_config cfg;
	struct twc_bus_env env;
	struct twc_rx rx;
	struct slave slaves[TWC_MAX_SLAVES];
	/* Slaves out of the registry that may still hold a limit; id 0 is several merged (amps 0: free). */
	struct {
		uint16_t id;
		uint8_t protocol;
		int amps;
		uint64_t release_ms;
	} reserved[TWC_MAX_KNOWN];
	struct twc_held saved[TWC_MAX_KNOWN]; /* the table env->persist last stored */
	int n_saved;
	uint64_t up_ms;             /* the link last came up */
	struct twc_bus_stats stats;
	int available;
	int linkready_left;
	uint64_t next_linkready_ms;
	uint64_t last_tx_ms;
	uint64_t next_hb_ms;
	int rr;                     /* slot of the next heartbeat */
	uint64_t last_other_master_ms;
	bool other_master_seen;
	struct {
		enum query_kind kind;
		int slot;
		uint64_t sent_ms;
	} q;
	uint64_t now_ms;            /* time of the call being handled */
};

const char *twc_slave_status_name(enum twc_slave_status st)
{
	static const char *const names[] = {"absent", "idle", "plugged", "charging", "error"};

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

static void emit(struct twc_bus *bus, enum twc_event_type type, int slot, uint16_t id, int amps,
		 const char *text)
{
	struct twc_event ev = {type, slot, id, amps, text};

	if (bus->env.event)
		bus->env.event(bus->env.user, &ev);
}

/* Return 0 once the frame was handed to the port, else <0 (counted). */
static int send_msg(struct twc_bus *bus, const struct twc_msg *m)
{
	uint8_t wire[TWC_WIRE_MAX];
	int n = twc_msg_to_wire(m, wire, sizeof(wire));

	bus->last_tx_ms = bus->now_ms;
	if (n < 0 || bus->env.write(bus->env.user, wire, (size_t)n) < 0) {
		bus->stats.tx_errors++;
		return n < 0 ? n : -EIO;
	}
	bus->stats.tx_frames++;
	return 0;
}

static bool limits_valid(const struct twc_limits *l)
{
	return l->min_amps > 0 && l->min_amps <= l->wiring_max_per_twc &&
	       l->wiring_max_per_twc <= l->wiring_max_all;
}

struct twc_bus *twc_bus_new(const struct twc_bus_config *cfg, const struct twc_bus_env *env, uint64_t now_ms)
{
	struct twc_bus *bus;

	if (!cfg || !env || !env->write || !limits_valid(&cfg->limits) || cfg->master_id == 0 ||
	    cfg->master_id == 0xFFFF || cfg->default_cap_amps < 0)
		return NULL;
	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return NULL;
	bus->cfg = *cfg;
	bus->env = *env;
	bus->available = cfg->limits.wiring_max_all;
	twc_rx_init(&bus->rx, TWC_RX_STRICT);
	bus->now_ms = now_ms;
	twc_bus_link_up(bus, now_ms);
	return bus;
}

void twc_bus_free(struct twc_bus *bus)
{
	free(bus);
}

void twc_bus_link_up(struct twc_bus *bus, uint64_t now_ms)
{
	struct twc_rx_stats keep = bus->rx.stats; /* counters survive reconnects */

	bus->now_ms = now_ms;
	twc_rx_init(&bus->rx, TWC_RX_STRICT);
	bus->rx.stats = keep;
	bus->linkready_left = LINKREADY_BURST;
	bus->next_linkready_ms = now_ms;
	bus->q.kind = Q_NONE;
	bus->up_ms = now_ms;
	/* The link was down, not the slaves: don't time them out for it, but raise nobody until each
	 * has said what it holds now. */
	for (int i = 0; i < TWC_MAX_SLAVES; i++)
		if (bus->slaves[i].used) {
			bus->slaves[i].last_heard_ms = now_ms;
			bus->slaves[i].reported_since_up = false;
		}
}

int twc_bus_set_config(struct twc_bus *bus, const struct twc_bus_config *cfg)
{
	struct twc_need need;

	if (!limits_valid(&cfg->limits) || cfg->master_id == 0 || cfg->master_id == 0xFFFF ||
	    cfg->default_cap_amps < 0)
		return -EINVAL;
	/* A protocol 2 slave that holds any limit keeps 6 A whatever it is told: a wiring below what
	 * the slaves can be brought down to would be overrun for as long as they hold it. */
	twc_bus_need(bus, &need);
	if (cfg->limits.wiring_max_all < need.all || cfg->limits.wiring_max_per_twc < need.per_twc)
		return -ERANGE;
	if (cfg->master_id != bus->cfg.master_id) {
		bus->linkready_left = LINKREADY_BURST;
		bus->next_linkready_ms = bus->now_ms;
	}
	bus->cfg = *cfg;
	return 0;
}

void twc_bus_set_available(struct twc_bus *bus, int amps)
{
	bus->available = amps < 0 ? 0 : amps;
}

static int find_slot(const struct twc_bus *bus, uint16_t id)
{
	for (int i = 0; i < TWC_MAX_SLAVES; i++)
		if (bus->slaves[i].used && bus->slaves[i].id == id)
			return i;
	return -1;
}

int twc_bus_set_cap(struct twc_bus *bus, uint16_t id, int amps)
{
	int i = find_slot(bus, id);

	if (i < 0)
		return -ENOENT;
	if (amps < 0)
		return -EINVAL;
	bus->slaves[i].cap_amps = amps;
	return 0;
}

static int slave_in_force(const struct slave *s)
{
	return twc_alloc_in_force(s->told, s->told_amps, s->protocol, s->have_shb ? s->limit_ca / 100 : 0);
}

/* What the slave may be allowing now; with @draw, the current its car still draws above that. */
static int slave_held(const struct slave *s, bool draw)
{
	return twc_alloc_held(s->told, s->told_amps, s->protocol, s->have_shb ? s->limit_ca : -1,
			      s->have_shb && draw ? s->measured_ca : -1);
}

int twc_bus_reserved(const struct twc_bus *bus)
{
	int sum = 0;

	for (int k = 0; k < TWC_MAX_KNOWN; k++)
		sum += bus->reserved[k].amps;
	return sum;
}

/* Settling: after a start or reconnect nobody is raised until every registered slave has reported
 * what it holds, or a slave timeout has passed (a slave that never answers must not block for ever;
 * it still counts what it held). */
static bool settling(const struct twc_bus *bus)
{
	if (bus->now_ms - bus->up_ms >= TWC_SLAVE_TIMEOUT_MS)
		return false;
	for (int i = 0; i < TWC_MAX_SLAVES; i++)
		if (bus->slaves[i].used && !bus->slaves[i].reported_since_up)
			return true;
	return false;
}

static void reserve(struct twc_bus *bus, uint16_t id, uint8_t protocol, int amps, uint64_t release_ms)
{
	int k, free_k = -1, late = 0;

	if (amps <= 0)
		return;
	for (k = 0; k < TWC_MAX_KNOWN; k++) {
		if (bus->reserved[k].amps > 0 && id != 0 && bus->reserved[k].id == id)
			break;
		if (bus->reserved[k].amps <= 0 && free_k < 0)
			free_k = k;
		if (bus->reserved[k].release_ms > bus->reserved[late].release_ms)
			late = k;
	}
	if (k < TWC_MAX_KNOWN) {
		/* The same slave again: keep the larger claim for the longer time. */
		if (amps > bus->reserved[k].amps)
			bus->reserved[k].amps = amps;
		if (release_ms > bus->reserved[k].release_ms)
			bus->reserved[k].release_ms = release_ms;
		return;
	}
	if (free_k >= 0) {
		bus->reserved[free_k].id = id;
		bus->reserved[free_k].protocol = protocol;
		bus->reserved[free_k].amps = amps;
		bus->reserved[free_k].release_ms = release_ms;
		return;
	}
	/* Full: never drop a claim; fold this one into the longest-lasting one (anonymous from now on). */
	bus->reserved[late].id = 0;
	if (protocol > bus->reserved[late].protocol)
		bus->reserved[late].protocol = protocol;
	bus->reserved[late].amps += amps;
	if (release_ms > bus->reserved[late].release_ms)
		bus->reserved[late].release_ms = release_ms;
}

int twc_bus_held_table(const struct twc_bus *bus, struct twc_held *out, int cap)
{
	int n = 0;

	for (int i = 0; i < TWC_MAX_SLAVES && n < cap; i++) {
		const struct slave *s = &bus->slaves[i];
		int amps = s->used ? slave_held(s, false) : 0;

		if (amps > 0)
			out[n++] = (struct twc_held){s->id, s->protocol, amps};
	}
	for (int k = 0; k < TWC_MAX_KNOWN && n < cap; k++)
		if (bus->reserved[k].amps > 0)
			out[n++] = (struct twc_held){bus->reserved[k].id, bus->reserved[k].protocol,
						     bus->reserved[k].amps};
	return n;
}

void twc_need_of(const struct twc_held *held, int n, struct twc_need *out)
{
	memset(out, 0, sizeof(*out));
	for (int k = 0; k < n; k++) {
		/* Not knowing the protocol, assume the one that cannot be stopped. */
		int f = twc_alloc_floor(held[k].protocol == 1 ? 1 : 2, held[k].amps);

		if (f > 0) {
			out->all += f;
			out->per_twc = f > out->per_twc ? f : out->per_twc;
			out->floored++;
		}
	}
}

void twc_bus_need(const struct twc_bus *bus, struct twc_need *out)
{
	struct twc_held t[TWC_MAX_SLAVES + TWC_MAX_KNOWN];

	twc_need_of(t, twc_bus_held_table(bus, t, TWC_MAX_SLAVES + TWC_MAX_KNOWN), out);
}

/* Store the held table if it changed. Return 0, or the env's error (the old table stays saved, so a
 * later call tries again; what is stored then is never below what a slave may hold, since raises
 * wait for a successful store). */
static int held_sync(struct twc_bus *bus)
{
	struct twc_held t[TWC_MAX_KNOWN];
	int n, rc;

	if (!bus->env.persist)
		return 0;
	n = twc_bus_held_table(bus, t, TWC_MAX_KNOWN);
	if (n == bus->n_saved) {
		int k = 0;

		/* Field by field: the struct has padding. */
		while (k < n && t[k].id == bus->saved[k].id && t[k].protocol == bus->saved[k].protocol &&
		       t[k].amps == bus->saved[k].amps)
			k++;
		if (k == n)
			return 0;
	}
	rc = bus->env.persist(bus->env.user, t, n);
	if (rc < 0) {
		bus->stats.persist_errors++;
		return rc;
	}
	memcpy(bus->saved, t, sizeof(t[0]) * (size_t)n);
	bus->n_saved = n;
	return 0;
}

int twc_bus_restore(struct twc_bus *bus, const struct twc_held *held, int n, uint64_t now_ms)
{
	int rc = 0;

	bus->now_ms = now_ms;
	for (int k = 0; k < n; k++) {
		if (held[k].amps <= 0 || held[k].amps > 655 || held[k].protocol > 2) {
			rc = -EINVAL;
			continue;
		}
		reserve(bus, held[k].id, held[k].protocol, held[k].amps, now_ms + TWC_HOLD_RELEASE_MS);
		emit(bus, TWC_EV_HOLD_RESERVED, -1, held[k].id, held[k].amps, NULL);
	}
	/* What was read back is what is stored: no write until something changes. */
	bus->n_saved = twc_bus_held_table(bus, bus->saved, TWC_MAX_KNOWN);
	return rc;
}

/* Reservations whose time is up: the slave heard no heartbeat for long enough to have stopped. */
static void release_expired(struct twc_bus *bus)
{
	for (int k = 0; k < TWC_MAX_KNOWN; k++) {
		if (bus->reserved[k].amps <= 0 || bus->now_ms < bus->reserved[k].release_ms)
			continue;
		int amps = bus->reserved[k].amps;

		bus->reserved[k].amps = 0;
		emit(bus, TWC_EV_HOLD_RELEASED, -1, bus->reserved[k].id, amps, NULL);
	}
}
static void alloc_view(const struct twc_bus *bus, struct twc_alloc_slave *v)
{
	for (int i = 0; i < TWC_MAX_SLAVES; i++) {
		const struct slave *s = &bus->slaves[i];

		memset(&v[i], 0, sizeof(v[i]));
		if (!s->used)
			continue;
		v[i].present = true;
		v[i].protocol = s->protocol;
		v[i].rated_amps = s->rated_amps;
		v[i].cap_amps = s->cap_amps;
		v[i].wants = s->status == TWC_SLAVE_PLUGGED || s->status == TWC_SLAVE_CHARGING;
		v[i].charging = s->status == TWC_SLAVE_CHARGING;
		v[i].told = s->told;
		v[i].told_amps = s->told_amps;
		v[i].held_amps = slave_held(s, true);
		v[i].hold = settling(bus);
	}
}

int twc_bus_held_total(const struct twc_bus *bus)
{
	int sum = twc_bus_reserved(bus);

	for (int i = 0; i < TWC_MAX_SLAVES; i++)
		if (bus->slaves[i].used)
			sum += slave_held(&bus->slaves[i], true);
	return sum;
}

/* A slave silent for TWC_SLAVE_TIMEOUT_MS leaves the registry at once (the layers above see it go),
 * but what it holds stays reserved: a slave whose replies are lost still hears us and charges, and
 * one that hears nothing charges on for a while after our last heartbeat. */
static void remove_slave(struct twc_bus *bus, int i, enum twc_event_type why)
{
	struct slave *s = &bus->slaves[i];
	uint16_t id = s->id;
	int held = slave_held(s, true);

	if (bus->q.kind != Q_NONE && bus->q.slot == i)
		bus->q.kind = Q_NONE;
	if (held > 0) {
		reserve(bus, id, s->protocol, held, (s->last_hb_ms ? s->last_hb_ms : bus->now_ms) + TWC_HOLD_RELEASE_MS);
	}
	memset(s, 0, sizeof(*s));
	emit(bus, why, i, id, 0, NULL);
	if (held > 0)
		emit(bus, TWC_EV_HOLD_RESERVED, i, id, held, NULL);
}

static void reset_vin(struct slave *s)
{
	s->vin[0] = '\0';
	s->vin_buf[0] = '\0';
	s->vin_part = -1;
	s->vin_attempts = 0;
	s->vin_done = false;
	s->vin_next_ms = 0;
}

/* ---- receiving ---- */

static void on_slave_linkready(struct twc_bus *bus, const struct twc_msg *m)
{
	int i;

	if (m->src == bus->cfg.master_id) {
		/* A slave using our ID: answer with linkready instead of heartbeats, as a real master
		 * does; the slave then picks a new ID. */
		bus->stats.collisions++;
		bus->linkready_left = LINKREADY_BURST;
		bus->next_linkready_ms = bus->now_ms;
		emit(bus, TWC_EV_ID_COLLISION, -1, m->src, 0, NULL);
		return;
	}
	i = find_slot(bus, m->src);
	if (i >= 0) {
		bus->slaves[i].last_heard_ms = bus->now_ms;
		bus->slaves[i].sign = m->u.linkready.sign;
		return;
	}
	for (i = 0; i < TWC_MAX_SLAVES && bus->slaves[i].used; i++)
		;
	if (i == TWC_MAX_SLAVES) {
		emit(bus, TWC_EV_SLAVE_REJECTED, -1, m->src, 0, NULL);
		return;
	}
	struct slave *s = &bus->slaves[i];
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->id = m->src;
	s->sign = m->u.linkready.sign;
	s->protocol = m->body_len == 14 ? 1 : 2; /* the only reliable sign of the protocol */
	s->rated_amps = m->u.linkready.max_ca / 100;
	s->last_heard_ms = bus->now_ms;
	s->status = TWC_SLAVE_IDLE;
	s->cap_amps = bus->cfg.default_cap_amps;
	s->next_meter_ms = bus->now_ms;
	reset_vin(s);
	/* A slave we reserved amps for is back: it counts as told that limit until it reports (and is
	 * told something else), so the reservation moves into the registry without a gap. */
	for (int k = 0; k < TWC_MAX_KNOWN; k++) {
		if (bus->reserved[k].amps <= 0 || bus->reserved[k].id != s->id)
			continue;
		s->told = true;
		s->told_amps = bus->reserved[k].amps;
		bus->reserved[k].amps = 0;
		break;
	}
	emit(bus, TWC_EV_SLAVE_ADDED, i, s->id, s->rated_amps, NULL);
}

static enum twc_slave_status normalise(struct slave *s, uint64_t now_ms)
{
	bool drawing = s->measured_ca >= 100;

	if (drawing)
		s->last_draw_ms = now_ms;
	switch (s->state_code) {
	case TWC_ST_ERROR:
		return TWC_SLAVE_ERROR;
	case TWC_ST_READY:
		return drawing ? TWC_SLAVE_CHARGING : TWC_SLAVE_IDLE;
	case TWC_ST_CHARGING:
		return TWC_SLAVE_CHARGING;
	case TWC_ST_PLUGGED_NO_CHARGE:
	case TWC_ST_PLUGGED_READY:
	case TWC_ST_STARTING:
		break;
	default:
		/* Acks and "busy" say nothing about the car: keep what we knew. */
		if (s->status == TWC_SLAVE_ABSENT || s->status == TWC_SLAVE_ERROR)
			return drawing ? TWC_SLAVE_CHARGING : TWC_SLAVE_IDLE;
		if (s->status != TWC_SLAVE_CHARGING)
			return drawing ? TWC_SLAVE_CHARGING : s->status;
		break;
	}
	if (drawing)
		return TWC_SLAVE_CHARGING;
	/* A car that dips below 1 A for a moment is still charging (TWCManager debounces 5 s). */
	if (s->status == TWC_SLAVE_CHARGING && now_ms - s->last_draw_ms < CHARGING_DEBOUNCE_MS)
		return TWC_SLAVE_CHARGING;
	return TWC_SLAVE_PLUGGED;
}

static void on_slave_heartbeat(struct twc_bus *bus, const struct twc_msg *m)
{
	int i = find_slot(bus, m->src);
	enum twc_slave_status st;

	if (m->dst != bus->cfg.master_id) {
		bus->stats.foreign++;
		return;
	}
	if (i < 0) {
		/* Slaves must announce themselves with a linkready first (they do every 10 s). */
		bus->stats.foreign++;
		return;
	}
	struct slave *s = &bus->slaves[i];
	s->last_heard_ms = bus->now_ms;
	s->have_shb = true;
	s->reported_since_up = true;
	s->state_code = m->u.shb.state;
	s->limit_ca = m->u.shb.limit_ca;
	s->measured_ca = m->u.shb.measured_ca;
	if (s->told) {
		int ca = twc_alloc_in_force(true, s->told_amps, s->protocol, 0) * 100;

		/* It has the limit we sent: it reports it, or (protocol 2, no car to report it for) it
		 * acknowledges with state 09. */
		if (s->limit_ca == ca || (s->protocol == 2 && s->state_code == TWC_ST_ACK_LIMIT && s->limit_ca == 0))
			s->confirmed = true;
	}
	st = normalise(s, bus->now_ms);
	if (st != s->status) {
		bool car_before = s->status == TWC_SLAVE_PLUGGED || s->status == TWC_SLAVE_CHARGING;
		bool car_now = st == TWC_SLAVE_PLUGGED || st == TWC_SLAVE_CHARGING;

		s->status = st;
		if (car_before && !car_now) {
			bool had_vin = s->vin[0] != '\0';

			reset_vin(s);
			if (had_vin)
				emit(bus, TWC_EV_VIN, i, s->id, 0, "");
		}
		emit(bus, TWC_EV_STATUS_CHANGED, i, s->id, 0, twc_slave_status_name(st));
	}
}

static void on_vin_part(struct twc_bus *bus, struct slave *s, int slot, const struct twc_msg *m)
{
	uint8_t part = m->u.vin.part;
	size_t off = twc_vin_part_offset(part), n = strlen(m->u.vin.chars);

	if (s->vin_part != part)
		return; /* not the part we asked for */
	if (part == 0 && n == 0) {
		/* No VIN at all: a non-Tesla car or DIP switch 2 down. Stop asking. */
		s->vin_done = true;
		s->vin_part = -1;
		return;
	}
	if (n != twc_vin_part_length(part)) {
		s->vin_part = -1; /* a short slice: this read is garbage, start over later */
		s->vin_next_ms = bus->now_ms + VIN_RETRY_MS;
		return;
	}
	memcpy(s->vin_buf + off, m->u.vin.chars, n);
	s->vin_buf[off + n] = '\0';
	if (part < 2) {
		s->vin_part = part + 1;
		return;
	}
	s->vin_part = -1;
	if (twc_vin_valid(s->vin_buf)) {
		memcpy(s->vin, s->vin_buf, sizeof(s->vin));
		s->vin_done = true;
		emit(bus, TWC_EV_VIN, slot, s->id, 0, s->vin);
	} else {
		s->vin_next_ms = bus->now_ms + VIN_RETRY_MS;
	}
}

static void on_reply(struct twc_bus *bus, const struct twc_msg *m)
{
	int i = find_slot(bus, m->src);

	if (i < 0)
		return;
	struct slave *s = &bus->slaves[i];
	s->last_heard_ms = bus->now_ms;
	if (bus->q.kind != Q_NONE && bus->q.slot == i) {
		bus->q.kind = Q_NONE;
		s->unanswered = 0;
	}
	switch (m->type) {
	case TWC_MSG_METER:
		s->has_meter = true;
		s->energy_raw = m->u.meter.energy;
		memcpy(s->volts, m->u.meter.volts, sizeof(s->volts));
		break;
	case TWC_MSG_FIRMWARE:
		s->has_firmware = true;
		memcpy(s->firmware, m->u.firmware.v, 4);
		break;
	case TWC_MSG_SERIAL:
		s->has_serial = true;
		snprintf(s->serial, sizeof(s->serial), "%s", m->u.serial.tsn);
		break;
	case TWC_MSG_VIN:
		on_vin_part(bus, s, i, m);
		break;
	default:
		break; /* FD B1 / FD B2 acks */
	}
}

static void hex_text(const uint8_t *b, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && k + 4 <= cap; i++)
		k += (size_t)snprintf(out + k, cap - k, i ? " %02X" : "%02X", b[i]);
}

static void on_frame(void *user, const uint8_t *body, size_t len)
{
	struct twc_bus *bus = user;
	struct twc_msg m;
	int rc = twc_msg_decode(body, len, &m);

	if (rc < 0) {
		char hex[3 * TWC_BODY_MAX + 1];

		bus->stats.unknown++;
		hex_text(body, len, hex, sizeof(hex));
		emit(bus, TWC_EV_UNKNOWN_FRAME, -1, 0, 0, hex);
		return;
	}
	if (body[0] != 0xFD) {
		/* A master-type frame: our own echo, or another master on the bus. */
		if (m.src == bus->cfg.master_id) {
			bus->stats.echoes++;
			return;
		}
		bus->stats.foreign++;
		if (!bus->other_master_seen || bus->now_ms - bus->last_other_master_ms >= OTHER_MASTER_LOG_MS) {
			bus->other_master_seen = true;
			bus->last_other_master_ms = bus->now_ms;
			emit(bus, TWC_EV_OTHER_MASTER, -1, m.src, 0, twc_msg_type_name(m.type));
		}
		return;
	}
	switch (m.type) {
	case TWC_MSG_SLAVE_LINKREADY:
		on_slave_linkready(bus, &m);
		break;
	case TWC_MSG_SLAVE_HEARTBEAT:
		on_slave_heartbeat(bus, &m);
		break;
	default:
		on_reply(bus, &m);
		break;
	}
}

void twc_bus_input(struct twc_bus *bus, const uint8_t *data, size_t len, uint64_t now_ms)
{
	bus->now_ms = now_ms;
	twc_rx_feed(&bus->rx, data, len, now_ms, on_frame, bus);
	bus->stats.rx = bus->rx.stats;
	held_sync(bus); /* a lowering the slaves reported: store it (a failure is retried later) */
}

/* ---- sending ---- */

static void send_linkready(struct twc_bus *bus)
{
	struct twc_msg m = {0};

	m.type = bus->linkready_left > LINKREADY_BURST / 2 ? TWC_MSG_MASTER_LINKREADY1 : TWC_MSG_MASTER_LINKREADY2;
	m.protocol = 1; /* 14 bytes, what real masters send and every slave accepts */
	m.src = bus->cfg.master_id;
	m.u.linkready.sign = bus->cfg.master_sign;
	send_msg(bus, &m);
	bus->linkready_left--;
	bus->next_linkready_ms = bus->now_ms + TWC_LINKREADY_SPACING_MS;
}

/* The next linkready keeps its spacing from any frame of ours, so it never lands on a reply. */
static uint64_t linkready_time(const struct twc_bus *bus)
{
	uint64_t after_tx = bus->last_tx_ms + TWC_LINKREADY_SPACING_MS;

	if (bus->stats.tx_frames == 0 && bus->stats.tx_errors == 0)
		return bus->next_linkready_ms;
	return bus->next_linkready_ms > after_tx ? bus->next_linkready_ms : after_tx;
}

static int next_slot(const struct twc_bus *bus)
{
	for (int k = 0; k < TWC_MAX_SLAVES; k++) {
		int i = (bus->rr + k) % TWC_MAX_SLAVES;

		if (bus->slaves[i].used)
			return i;
	}
	return -1;
}

/* A car is plugged in and asks for a limit: state 04 or 08 with limit 00 00. */
static bool asking(const struct slave *s)
{
	return s->have_shb && s->limit_ca == 0 &&
	       (s->state_code == TWC_ST_PLUGGED_READY || s->state_code == TWC_ST_STARTING);
}

/*
 * Whether a heartbeat that may tell slave @s @amps carries the command (05/09) or 00. A new value
 * always goes out, and is repeated until the slave confirms it. After that 00, as a real master
 * does: a protocol 2 slave answers state 09 for as long as the master repeats 09, which hides an
 * unplug and the next car (twc-protocol.md section 4.4, TWCManager #644). Exceptions: a protocol 1
 * slave told 0 keeps getting 05 00 00, since with 00 it toggles its relay between 01 and 03 every
 * second (cdragon, section 5.2); a car that asks for a limit it may have gets it again; and a slave
 * that reports some other limit is told ours again.
 */
static bool command_needed(const struct slave *s, int amps)
{
	int ca = twc_alloc_in_force(true, amps, s->protocol, 0) * 100;

	if (!s->told || s->told_amps != amps || !s->confirmed)
		return true;
	if (s->protocol == 1 && amps == 0)
		return true;
	if (amps > 0 && asking(s))
		return true;
	return s->have_shb && s->limit_ca != 0 && s->limit_ca != ca && s->state_code != TWC_ST_ACK_LIMIT;
}

static void send_heartbeat(struct twc_bus *bus, int i)
{
	struct twc_alloc_slave view[TWC_MAX_SLAVES];
	int target[TWC_MAX_SLAVES];
	struct slave *s = &bus->slaves[i];
	struct slave before = *s;
	struct twc_grant g;
	struct twc_msg m = {0};
	bool cmd;

	alloc_view(bus, view);
	twc_alloc_share(&bus->cfg.limits, bus->available, twc_bus_reserved(bus), view, target);
	for (int k = 0; k < TWC_MAX_SLAVES; k++)
		bus->slaves[k].target_amps = target[k];
	g = twc_alloc_clamp(&bus->cfg.limits, twc_bus_reserved(bus), view, i, target[i]);
	/* The first heartbeat to a slave we have not heard from yet is 00, as a real master's: until it
	 * reports, we do not know whether a car is charging on the limit it holds. */
	cmd = g.command && s->have_shb && command_needed(s, g.amps);

	m.type = TWC_MSG_MASTER_HEARTBEAT;
	m.protocol = s->protocol;
	m.src = bus->cfg.master_id;
	m.dst = s->id;
	m.u.mhb.cmd = TWC_CMD_NONE;
	if (cmd) {
		int held = slave_held(s, false);

		s->told = true;
		s->told_amps = g.amps;
		s->confirmed = false;
		/* A raise is stored before it goes out, so a restart never assumes less. */
		if (slave_held(s, false) > held && held_sync(bus) < 0) {
			*s = before;
			cmd = false;
		}
	}
	if (cmd) {
		m.u.mhb.cmd = s->protocol == 1 ? TWC_CMD_SET_V1 : TWC_CMD_SET_V2;
		m.u.mhb.ca = (uint16_t)(g.amps * 100);
	}
	s->last_hb_ms = bus->now_ms;
	bus->stats.heartbeats++;
	if (send_msg(bus, &m) < 0) {
		/* Not written, not told: it still holds what it held. */
		if (cmd) {
			s->told = before.told;
			s->told_amps = before.told_amps;
			s->confirmed = before.confirmed;
		}
		return;
	}
	if (!cmd)
		return;
	if (!before.told || before.told_amps != g.amps)
		emit(bus, TWC_EV_GRANT, i, s->id, g.amps, NULL);
	if (g.amps == 0 && (!before.told || before.told_amps != 0))
		s->zero_told_ms = bus->now_ms;
}

static bool has_car(const struct slave *s)
{
	return s->status == TWC_SLAVE_PLUGGED || s->status == TWC_SLAVE_CHARGING;
}

static bool vin_wanted(const struct slave *s)
{
	return has_car(s) && !s->vin_done && (s->vin_part >= 0 || s->vin_attempts < VIN_MAX_ATTEMPTS);
}

static bool drawing(const struct slave *s)
{
	return s->have_shb && s->measured_ca >= 100;
}

/*
 * When slave @s is next owed a start/stop command (UINT64_MAX: none) and which one (*kind). A
 * protocol 2 slave told 0 A still lets the car take 6 A, so a pause only stops the car with FC B2.
 * It goes out after the heartbeat that told it 0, once the car has come down to that floor (or
 * after STOP_SETTLE_MS if it does not) so the relay does not open under full load, and only once per
 * pause, because every cut counts towards a Tesla car deciding the charger is faulty. FC B1 waits
 * until the slave has been told a limit it can charge at, and is owed even if stop_commands was
 * switched off since: otherwise the contactor would stay open for the rest of the plug-in. Two commands
 * to one slave are at least CONTROL_DWELL_MS apart, so a limit that flaps around the minimum cuts a
 * car at most once a minute.
 */
static uint64_t control_time(const struct twc_bus *bus, const struct slave *s, enum query_kind *kind)
{
	uint64_t dwell = s->control_ms ? s->control_ms + CONTROL_DWELL_MS : 0, t;

	*kind = Q_NONE;
	if (!s->used)
		return UINT64_MAX;
	if (s->stop_sent) {
		int min = twc_alloc_min_offer(&bus->cfg.limits, s->protocol);

		if (!s->told || s->told_amps < min)
			return UINT64_MAX;
		*kind = Q_START;
		return dwell;
	}
	/* has_firmware: it answered FB EC, which only firmware 4.5.3 does; the same firmware has B1/B2. */
	if (!bus->cfg.stop_commands || s->protocol != 2 || !s->has_firmware)
		return UINT64_MAX;
	if (s->target_amps != 0 || !s->told || s->told_amps != 0 || !drawing(s))
		return UINT64_MAX;
	*kind = Q_STOP;
	t = s->measured_ca <= STOP_SETTLE_CA ? 0 : s->zero_told_ms + STOP_SETTLE_MS;
	return t > dwell ? t : dwell;
}

static enum query_kind control_due(const struct twc_bus *bus, const struct slave *s, uint64_t now)
{
	enum query_kind kind;

	return control_time(bus, s, &kind) <= now ? kind : Q_NONE;
}

/* Earliest time slave @s has a data query to make (UINT64_MAX: none). */
static uint64_t data_query_time(const struct twc_bus *bus, const struct slave *s)
{
	uint64_t t;

	if (!s->used || !bus->cfg.query_meter || s->protocol == 1)
		return UINT64_MAX;
	if (!s->has_firmware || !s->has_serial || (vin_wanted(s) && s->vin_part >= 0))
		t = 0;
	else
		t = vin_wanted(s) && s->vin_next_ms < s->next_meter_ms ? s->vin_next_ms : s->next_meter_ms;
	return t > s->queries_paused_until ? t : s->queries_paused_until;
}

/* Earliest time slave @s has a query or a start/stop command to send (UINT64_MAX: none). */
static uint64_t query_time(const struct twc_bus *bus, const struct slave *s)
{
	enum query_kind kind;
	uint64_t c = control_time(bus, s, &kind), t = data_query_time(bus, s);

	return c < t ? c : t;
}

/* The query slave @s should get now, if any: a start/stop command first, then identity, then the
 * VIN while a car is present, then the meter. */
static enum query_kind query_due(const struct twc_bus *bus, const struct slave *s, uint64_t now)
{
	enum query_kind c = control_due(bus, s, now);

	if (c != Q_NONE)
		return c;
	if (data_query_time(bus, s) > now)
		return Q_NONE;
	if (!s->has_firmware)
		return Q_FIRMWARE;
	if (!s->has_serial)
		return Q_SERIAL;
	if (vin_wanted(s) && (s->vin_part >= 0 || now >= s->vin_next_ms))
		return Q_VIN;
	return Q_METER;
}

static void send_query(struct twc_bus *bus, int i, enum query_kind kind)
{
	struct slave *s = &bus->slaves[i];
	struct twc_msg m = {0};

	m.protocol = 2;
	m.src = bus->cfg.master_id;
	m.dst = s->id;
	switch (kind) {
	case Q_FIRMWARE:
		m.type = TWC_MSG_FIRMWARE_REQ;
		break;
	case Q_SERIAL:
		m.type = TWC_MSG_SERIAL_REQ;
		break;
	case Q_VIN:
		if (s->vin_part < 0) {
			s->vin_part = 0;
			s->vin_attempts++;
		}
		m.type = TWC_MSG_VIN_REQ;
		m.u.vin.part = (uint8_t)s->vin_part;
		break;
	case Q_METER:
		m.type = TWC_MSG_METER_REQ;
		s->next_meter_ms = bus->now_ms + TWC_METER_INTERVAL_MS;
		break;
	case Q_STOP:
		m.type = TWC_MSG_STOP;
		s->stop_sent = true;
		s->control_ms = bus->now_ms;
		bus->stats.stop_cmds++;
		break;
	case Q_START:
		m.type = TWC_MSG_START;
		s->stop_sent = false;
		s->control_ms = bus->now_ms;
		bus->stats.start_cmds++;
		break;
	case Q_NONE:
		return;
	}
	bus->q.kind = kind;
	bus->q.slot = i;
	bus->q.sent_ms = bus->now_ms;
	if (kind != Q_STOP && kind != Q_START)
		bus->stats.queries++;
	send_msg(bus, &m);
	if (kind == Q_STOP)
		emit(bus, TWC_EV_STOP_SENT, i, s->id, s->measured_ca / 100, NULL);
	else if (kind == Q_START)
		emit(bus, TWC_EV_START_SENT, i, s->id, s->told_amps, NULL);
}

static void query_expire(struct twc_bus *bus)
{
	struct slave *s;

	if (bus->q.kind == Q_NONE || bus->now_ms - bus->q.sent_ms < TWC_QUERY_TIMEOUT_MS)
		return;
	s = &bus->slaves[bus->q.slot];
	if (bus->q.kind == Q_STOP || bus->q.kind == Q_START) {
		/* A missing ack is not a query going unanswered: it must not pause the meter and VIN,
		 * and the command is not repeated (once per pause). */
		bus->q.kind = Q_NONE;
		return;
	}
	if (bus->q.kind == Q_VIN) {
		s->vin_part = -1;
		s->vin_next_ms = bus->now_ms + VIN_RETRY_MS;
	}
	/* Firmware before 4.5.3 never answers: stop asking for a while instead of wasting the bus. */
	if (++s->unanswered >= QUERY_GIVE_UP) {
		s->unanswered = 0;
		s->queries_paused_until = bus->now_ms + QUERY_RETRY_MS;
	}
	bus->q.kind = Q_NONE;
}

/* A query may go out only in the quiet middle of a heartbeat slot, so that it and its reply are
 * over long before the next heartbeat is due. */
static bool query_window_open(const struct twc_bus *bus, uint64_t now)
{
	return bus->q.kind == Q_NONE && bus->linkready_left == 0 && now >= bus->last_tx_ms + TWC_REPLY_WINDOW_MS &&
	       now + TWC_REPLY_WINDOW_MS + TWC_BUSY_DEFER_MAX_MS <= bus->next_hb_ms;
}

void twc_bus_tick(struct twc_bus *bus, uint64_t now_ms)
{
	bus->now_ms = now_ms;
	if (twc_rx_expire(&bus->rx, now_ms))
		bus->stats.rx = bus->rx.stats;
	query_expire(bus);

	for (int i = 0; i < TWC_MAX_SLAVES; i++)
		if (bus->slaves[i].used && now_ms - bus->slaves[i].last_heard_ms > TWC_SLAVE_TIMEOUT_MS)
			remove_slave(bus, i, TWC_EV_SLAVE_REMOVED);
	release_expired(bus);
	held_sync(bus);

	bool busy = twc_rx_busy(&bus->rx);
	int i = next_slot(bus);

	if (i >= 0 && now_ms >= bus->next_hb_ms) {
		/* Listen before talk, but a heartbeat is never held back more than a few frames' time. */
		if (busy && now_ms < bus->next_hb_ms + TWC_BUSY_DEFER_MAX_MS)
			return;
		send_heartbeat(bus, i);
		bus->rr = (i + 1) % TWC_MAX_SLAVES;
		bus->next_hb_ms = now_ms + TWC_HEARTBEAT_SPACING_MS;
		return;
	}
	if (bus->linkready_left > 0 && now_ms >= linkready_time(bus)) {
		if (!busy)
			send_linkready(bus);
		return;
	}
	if (busy || !query_window_open(bus, now_ms))
		return;
	/* A start/stop command before anyone's query: a car drawing through a pause should stop soon. */
	for (int k = 0; k < TWC_MAX_SLAVES; k++) {
		int j = (bus->rr + k) % TWC_MAX_SLAVES;
		enum query_kind kind = control_due(bus, &bus->slaves[j], now_ms);

		if (kind != Q_NONE) {
			send_query(bus, j, kind);
			return;
		}
	}
	for (int k = 0; k < TWC_MAX_SLAVES; k++) {
		int j = (bus->rr + k) % TWC_MAX_SLAVES;
		enum query_kind kind;

		if (!bus->slaves[j].used)
			continue;
		kind = query_due(bus, &bus->slaves[j], now_ms);
		if (kind != Q_NONE) {
			send_query(bus, j, kind);
			return;
		}
	}
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t twc_bus_next_deadline(const struct twc_bus *bus)
{
	uint64_t t = UINT64_MAX;
	bool any = false;

	for (int i = 0; i < TWC_MAX_SLAVES; i++) {
		if (!bus->slaves[i].used)
			continue;
		any = true;
		t = min64(t, bus->slaves[i].last_heard_ms + TWC_SLAVE_TIMEOUT_MS + 1);
	}
	if (any) {
		uint64_t hb = bus->next_hb_ms;

		/* While deferring for an incoming frame, look again shortly. */
		if (twc_rx_busy(&bus->rx) && bus->now_ms >= hb)
			hb = bus->now_ms + TWC_BUSY_DEFER_MS;
		t = min64(t, hb);
	}
	if (bus->linkready_left > 0) {
		uint64_t lr = linkready_time(bus);

		/* A linkready waits for a frame that is coming in: look again shortly, not at once. */
		if (twc_rx_busy(&bus->rx) && bus->now_ms >= lr)
			lr = bus->now_ms + TWC_BUSY_DEFER_MS;
		t = min64(t, lr);
	}
	for (int k = 0; k < TWC_MAX_KNOWN; k++)
		if (bus->reserved[k].amps > 0)
			t = min64(t, bus->reserved[k].release_ms);
	/* Settling ends by itself after a slave timeout. */
	if (settling(bus))
		t = min64(t, bus->up_ms + TWC_SLAVE_TIMEOUT_MS);
	if (twc_rx_busy(&bus->rx))
		t = min64(t, bus->rx.last_byte_ms + TWC_RX_PARTIAL_TIMEOUT_MS);
	if (bus->q.kind != Q_NONE) {
		t = min64(t, bus->q.sent_ms + TWC_QUERY_TIMEOUT_MS);
	} else if (any && bus->linkready_left == 0) {
		uint64_t due = UINT64_MAX;

		for (int i = 0; i < TWC_MAX_SLAVES; i++)
			due = min64(due, query_time(bus, &bus->slaves[i]));

		if (due != UINT64_MAX) {
			uint64_t open = bus->last_tx_ms + TWC_REPLY_WINDOW_MS;

			due = due > open ? due : open;
			due = due > bus->now_ms ? due : bus->now_ms + 1;
			/* Only worth waking for if the window is still open then. */
			if (due + TWC_REPLY_WINDOW_MS + TWC_BUSY_DEFER_MAX_MS <= bus->next_hb_ms)
				t = min64(t, due);
		}
	}
	return t;
}

int twc_bus_slave_count(const struct twc_bus *bus)
{
	int n = 0;

	for (int i = 0; i < TWC_MAX_SLAVES; i++)
		n += bus->slaves[i].used;
	return n;
}

int twc_bus_slave(const struct twc_bus *bus, int slot, struct twc_slave_info *out)
{
	struct twc_alloc_slave view[TWC_MAX_SLAVES];
	int target[TWC_MAX_SLAVES];
	const struct slave *s;

	if (slot < 0 || slot >= TWC_MAX_SLAVES || !bus->slaves[slot].used)
		return -ENOENT;
	s = &bus->slaves[slot];
	/* The share as of now, not as of the last heartbeat: a cap raised since then would otherwise
	 * read as "allowed current but given none" until the next heartbeat (a false pause). */
	alloc_view(bus, view);
	twc_alloc_share(&bus->cfg.limits, bus->available, twc_bus_reserved(bus), view, target);
	memset(out, 0, sizeof(*out));
	out->id = s->id;
	out->sign = s->sign;
	out->protocol = s->protocol;
	out->rated_amps = s->rated_amps;
	out->status = s->status;
	out->state_code = s->state_code;
	out->measured_amps = s->measured_ca / 100.0;
	out->reported_amps = s->limit_ca / 100.0;
	out->offered_amps = slave_in_force(s);
	out->held_amps = slave_held(s, true);
	out->target_amps = target[slot];
	out->cap_amps = s->cap_amps;
	out->last_heard_ms = s->last_heard_ms;
	out->last_heartbeat_ms = s->last_hb_ms;
	out->has_meter = s->has_meter;
	out->energy_raw = s->energy_raw;
	memcpy(out->volts, s->volts, sizeof(out->volts));
	snprintf(out->vin, sizeof(out->vin), "%s", s->vin);
	snprintf(out->serial, sizeof(out->serial), "%s", s->serial);
	memcpy(out->firmware, s->firmware, 4);
	out->has_firmware = s->has_firmware;
	return 0;
}

const struct twc_bus_stats *twc_bus_stats(const struct twc_bus *bus)
{
	return &bus->stats;
}
