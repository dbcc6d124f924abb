/*
 * twc_bus: the master side of one TWC Gen 2 RS-485 bus. It runs the start-up linkready burst,
 * registers up to three slaves from their linkready (protocol version from its length), heartbeats
 * them oldest-first TWC_HEARTBEAT_SPACING_MS apart (a slave with a new limit sooner, see
 * hb_plan()), forgets a slave after 26 s of silence, and decides when each heartbeat carries a
 * command. The amps in every heartbeat come from twc_alloc, fed with what each slave may really be
 * holding (twc_bus_held.c) and capped by a site budget if one is set; queries and start/stop
 * commands fill the quiet time between heartbeats (twc_bus_query.c).
 * Time is always the caller's now_ms; the only output is env->write, env->event and env->persist.
 */
#include "twc_bus_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINKREADY_BURST 10          /* 5 x FC E1 then 5 x FB E2 */
#define CHARGING_DEBOUNCE_MS 5000u
#define OTHER_MASTER_LOG_MS 60000u

const char *twc_slave_status_name(enum twc_slave_status st)
{
	static const char *const names[] = {"absent", "idle", "plugged", "charging", "error"};

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

void twc_bus_emit(struct twc_bus *bus, enum twc_event_type type, int slot, uint16_t id, int amps,
		 const char *text)
{
	struct twc_event ev = {type, slot, id, amps, text};

	if (bus->env.event)
		bus->env.event(bus->env.user, &ev);
}

/* Return 0 once the frame was handed to the port, else <0 (counted). */
int twc_bus_msg_send(struct twc_bus *bus, const struct twc_msg *m)
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
	bus->budget = -1;
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

void twc_bus_set_budget(struct twc_bus *bus, int amps)
{
	bus->budget = amps < 0 ? -1 : amps;
}

/* The wiring as the allocator sees it: a site budget below the wiring takes its place as the total,
 * so both the shares and the clamp keep within it. */
void twc_bus_limits(const struct twc_bus *bus, struct twc_limits *out)
{
	*out = bus->cfg.limits;
	if (bus->budget >= 0 && bus->budget < out->wiring_max_all)
		out->wiring_max_all = bus->budget;
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
		v[i].held_amps = twc_bus_slave_held(s, true);
		v[i].hold = twc_bus_settling(bus);
	}
}

/* A slave silent for TWC_SLAVE_TIMEOUT_MS leaves the registry at once (the layers above see it go),
 * but what it holds stays reserved: a slave whose replies are lost still hears us and charges, and
 * one that hears nothing charges on for a while after our last heartbeat. */
static void remove_slave(struct twc_bus *bus, int i, enum twc_event_type why)
{
	struct slave *s = &bus->slaves[i];
	uint16_t id = s->id;
	int held = twc_bus_slave_held(s, true);

	if (bus->q.kind != Q_NONE && bus->q.slot == i)
		bus->q.kind = Q_NONE;
	if (held > 0) {
		twc_bus_held_reserve(bus, id, s->protocol, held,
				     (s->last_hb_ms ? s->last_hb_ms : bus->now_ms) + TWC_HOLD_RELEASE_MS);
	}
	memset(s, 0, sizeof(*s));
	twc_bus_emit(bus, why, i, id, 0, NULL);
	if (held > 0)
		twc_bus_emit(bus, TWC_EV_HOLD_RESERVED, i, id, held, NULL);
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
		twc_bus_emit(bus, TWC_EV_ID_COLLISION, -1, m->src, 0, NULL);
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
		twc_bus_emit(bus, TWC_EV_SLAVE_REJECTED, -1, m->src, 0, NULL);
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
	twc_bus_vin_reset(s);
	twc_bus_held_revive(bus, s);
	twc_bus_emit(bus, TWC_EV_SLAVE_ADDED, i, s->id, s->rated_amps, NULL);
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
	/* It has the limit we sent: it answered the heartbeat that carried it (a slave answers only the
	 * heartbeats it hears), or it reports that very limit. A state 09 alone proves nothing: the
	 * acknowledgement lasts 12 s after any 09, an older one included. Nor does a report of 00 00:
	 * a slave with no car reports that whatever it holds. */
	if (s->told && (s->set_in_flight ||
			(s->limit_ca > 0 &&
			 s->limit_ca == twc_alloc_in_force(true, s->told_amps, s->protocol, 0) * 100))) {
		s->confirmed = true;
		s->keep_amps = 0;
	}
	s->set_in_flight = false;
	st = normalise(s, bus->now_ms);
	if (st != s->status) {
		bool car_before = s->status == TWC_SLAVE_PLUGGED || s->status == TWC_SLAVE_CHARGING;
		bool car_now = st == TWC_SLAVE_PLUGGED || st == TWC_SLAVE_CHARGING;

		s->status = st;
		if (car_before && !car_now) {
			bool had_vin = s->vin[0] != '\0';

			twc_bus_vin_reset(s);
			if (had_vin)
				twc_bus_emit(bus, TWC_EV_VIN, i, s->id, 0, "");
		}
		twc_bus_emit(bus, TWC_EV_STATUS_CHANGED, i, s->id, 0, twc_slave_status_name(st));
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
		twc_bus_vin_receive(bus, s, i, m);
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
		twc_bus_emit(bus, TWC_EV_UNKNOWN_FRAME, -1, 0, 0, hex);
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
			twc_bus_emit(bus, TWC_EV_OTHER_MASTER, -1, m.src, 0, twc_msg_type_name(m.type));
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

bool twc_bus_rx_busy(const struct twc_bus *bus)
{
	return twc_rx_busy(&bus->rx);
}

void twc_bus_input(struct twc_bus *bus, const uint8_t *data, size_t len, uint64_t now_ms)
{
	bus->now_ms = now_ms;
	twc_rx_feed(&bus->rx, data, len, now_ms, on_frame, bus);
	bus->stats.rx = bus->rx.stats;
	twc_bus_held_sync(bus); /* a lowering the slaves reported: store it (a failure is retried later) */
}

/* ---- sending ---- */

static void send_linkready(struct twc_bus *bus)
{
	struct twc_msg m = {0};

	m.type = bus->linkready_left > LINKREADY_BURST / 2 ? TWC_MSG_MASTER_LINKREADY1 : TWC_MSG_MASTER_LINKREADY2;
	m.protocol = 1; /* 14 bytes, what real masters send and every slave accepts */
	m.src = bus->cfg.master_id;
	m.u.linkready.sign = bus->cfg.master_sign;
	twc_bus_msg_send(bus, &m);
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

/*
 * A raise the clamp cuts short while another slave is still coming down (a lowering it has not
 * answered, or a car still drawing above its new limit) waits: the room is on its way, and telling
 * the full value once spares the car a second change. A raise short for any other reason goes out.
 */
static bool raise_waits(const struct twc_bus *bus, const struct twc_alloc_slave *view, const int *target, int i,
			struct twc_grant g)
{
	if (!g.command || g.amps >= target[i] ||
	    twc_alloc_in_force(true, g.amps, view[i].protocol, 0) <= view[i].held_amps)
		return false;
	for (int j = 0; j < TWC_MAX_SLAVES; j++)
		if (j != i && bus->slaves[j].used && view[j].told &&
		    view[j].held_amps > twc_alloc_in_force(true, view[j].told_amps, view[j].protocol, 0))
			return true;
	return false;
}

/* ---- the heartbeat schedule ---- */

/* By when slave @s must hear its next heartbeat. One never heartbeated is due at once: it keeps
 * announcing itself until it hears us, and a real master answers a linkready straight away. */
static uint64_t hb_deadline(const struct slave *s)
{
	return s->last_hb_ms ? s->last_hb_ms + TWC_HEARTBEAT_DEADLINE_MS : 0;
}

/* The registered slots by deadline, earliest first; ties in round-robin order from bus->rr. */
static int hb_order(const struct twc_bus *bus, int *order, uint64_t *due)
{
	int n = 0;

	for (int k = 0; k < TWC_MAX_SLAVES; k++) {
		int i = (bus->rr + k) % TWC_MAX_SLAVES, j;
		uint64_t d;

		if (!bus->slaves[i].used)
			continue;
		d = hb_deadline(&bus->slaves[i]);
		for (j = n; j > 0 && due[j - 1] > d; j--) {
			order[j] = order[j - 1];
			due[j] = due[j - 1];
		}
		order[j] = i;
		due[j] = d;
		n++;
	}
	return n;
}

/* Whether the slaves with deadlines @due[0..n) (earliest first) can each still be heartbeated in
 * time when the first of them can go at @t and the rest follow at the least spacing. */
static bool hb_feasible(const uint64_t *due, int n, uint64_t t)
{
	for (int k = 0; k < n; k++)
		if (t + (uint64_t)k * TWC_HEARTBEAT_MIN_SPACING_MS > due[k])
			return false;
	return true;
}

/*
 * Whether the heartbeat slave @i would get now tells it a new limit (*lowering: one below what it may
 * hold): what makes it worth an early heartbeat. The same amps that send_heartbeat() would tell. Not
 * before it has reported (its first heartbeat carries no command), only once per value, and not for
 * a raise short of its target.
 */
static bool hb_news(const struct twc_bus *bus, const struct twc_limits *lim, const struct twc_alloc_slave *view,
		    const int *target, int i, bool *lowering)
{
	const struct slave *s = &bus->slaves[i];
	struct twc_grant g;

	*lowering = false;
	if (!s->used || !s->have_shb)
		return false;
	g = twc_alloc_clamp(lim, twc_bus_reserved(bus), view, i, target[i]);
	if (!g.command || (s->told && s->told_amps == g.amps) || (s->expedited && s->expedite_amps == g.amps))
		return false;
	*lowering = twc_alloc_in_force(true, g.amps, s->protocol, 0) < view[i].held_amps;
	/* A raise the clamp cuts short waits for the room (a lowering elsewhere not yet answered) or for
	 * its turn: told once when the room is there, the car sees one change instead of two. */
	return *lowering || g.amps >= target[i];
}

struct hb_plan {
	uint64_t at;    /* UINT64_MAX: no slave */
	int slot;
	bool expedite;  /* early, for a new limit */
};

/*
 * When the next heartbeat goes out and to whom. Never sooner than TWC_HEARTBEAT_MIN_SPACING_MS after
 * the last heartbeat, nor inside a query's reply window. Normally the slave heartbeated longest ago
 * gets it TWC_HEARTBEAT_SPACING_MS after the last one, or earlier if the deadlines of those waiting
 * (each TWC_HEARTBEAT_DEADLINE_MS after its last one) could not all be kept otherwise. A slave whose
 * limit changes (a lowering first, then the one waiting longest) gets it as soon as the spacing
 * allows, provided that everyone else can still be heartbeated by their deadlines afterwards; if not,
 * the one whose deadline is nearest goes at once instead, so that the change can follow one least
 * spacing later. So a new limit is on the wire within one or two least spacings, and a storm of
 * changes never starves a slave: every heartbeat still keeps every deadline.
 */
static struct hb_plan hb_plan(const struct twc_bus *bus)
{
	struct hb_plan p = {UINT64_MAX, -1, false};
	struct twc_alloc_slave view[TWC_MAX_SLAVES];
	int target[TWC_MAX_SLAVES], order[TWC_MAX_SLAVES];
	uint64_t due[TWC_MAX_SLAVES], earliest, latest, regular;
	struct twc_limits lim;
	int n = hb_order(bus, order, due), best = -1;
	bool best_lowering = false, news = false;

	if (n == 0)
		return p;
	earliest = bus->last_hb_any_ms ? bus->last_hb_any_ms + TWC_HEARTBEAT_MIN_SPACING_MS : 0;
	if (bus->q.sent_ms && bus->q.sent_ms + TWC_REPLY_WINDOW_MS > earliest)
		earliest = bus->q.sent_ms + TWC_REPLY_WINDOW_MS;
	/* Deadlines are checked for when it really goes: not before the time of this call. */
	if (bus->now_ms > earliest)
		earliest = bus->now_ms;

	twc_bus_limits(bus, &lim);
	alloc_view(bus, view);
	twc_alloc_share(&lim, bus->available, twc_bus_reserved(bus), view, target);
	for (int k = 0; k < n; k++) {
		uint64_t others[TWC_MAX_SLAVES];
		int m = 0;
		bool lowering;

		if (!hb_news(bus, &lim, view, target, order[k], &lowering))
			continue;
		news = true;
		if (best >= 0 && (best_lowering || !lowering))
			continue;
		for (int j = 0; j < n; j++)
			if (j != k)
				others[m++] = due[j];
		if (!hb_feasible(others, m, earliest + TWC_HEARTBEAT_MIN_SPACING_MS))
			continue;
		best = order[k];
		best_lowering = lowering;
	}
	if (best >= 0) {
		p.at = earliest;
		p.slot = best;
		p.expedite = true;
		return p;
	}
	/* The latest the first may go with everyone still in time at the least spacing. */
	latest = due[0];
	for (int k = 1; k < n; k++) {
		uint64_t gap = (uint64_t)k * TWC_HEARTBEAT_MIN_SPACING_MS;
		uint64_t t = due[k] > gap ? due[k] - gap : 0;

		if (t < latest)
			latest = t;
	}
	regular = bus->last_hb_any_ms ? bus->last_hb_any_ms + TWC_HEARTBEAT_SPACING_MS : 0;
	p.at = news ? earliest : regular < latest ? regular : latest;
	if (p.at < earliest)
		p.at = earliest;
	p.slot = order[0];
	return p;
}

uint64_t twc_bus_hb_due(const struct twc_bus *bus)
{
	return hb_plan(bus).at;
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

static void send_heartbeat(struct twc_bus *bus, int i, bool expedite)
{
	struct twc_alloc_slave view[TWC_MAX_SLAVES];
	int target[TWC_MAX_SLAVES];
	struct twc_limits lim;
	struct slave *s = &bus->slaves[i];
	struct slave before = *s;
	struct twc_grant g;
	struct twc_msg m = {0};
	bool cmd;

	twc_bus_limits(bus, &lim);
	alloc_view(bus, view);
	twc_alloc_share(&lim, bus->available, twc_bus_reserved(bus), view, target);
	for (int k = 0; k < TWC_MAX_SLAVES; k++)
		bus->slaves[k].target_amps = target[k];
	g = twc_alloc_clamp(&lim, twc_bus_reserved(bus), view, i, target[i]);
	if (raise_waits(bus, view, target, i, g)) {
		g.command = s->told;
		g.amps = s->told_amps;
	}
	/* One early heartbeat per new value: one that could not be told (a store or a write failed)
	 * waits for the slave's turn rather than taking every early slot. */
	if (expedite) {
		s->expedited = true;
		s->expedite_amps = g.amps;
	}
	/* The first heartbeat to a slave we have not heard from yet is 00, as a real master's: until it
	 * reports, we do not know whether a car is charging on the limit it holds. */
	cmd = g.command && s->have_shb && command_needed(s, g.amps);

	m.type = TWC_MSG_MASTER_HEARTBEAT;
	m.protocol = s->protocol;
	m.src = bus->cfg.master_id;
	m.dst = s->id;
	m.u.mhb.cmd = TWC_CMD_NONE;
	if (cmd) {
		int held = twc_bus_slave_held(s, false);

		s->told = true;
		s->told_amps = g.amps;
		s->confirmed = false;
		/* A lowering: what it held counts until it has answered a heartbeat carrying the new limit. */
		if (twc_alloc_in_force(true, g.amps, s->protocol, 0) < held)
			s->keep_amps = held;
		/* A raise is stored before it goes out, so a restart never assumes less. */
		if (twc_bus_slave_held(s, false) > held && twc_bus_held_sync(bus) < 0) {
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
	if (twc_bus_msg_send(bus, &m) < 0) {
		/* Not written, not told: it still holds what it held. */
		if (cmd) {
			s->told = before.told;
			s->told_amps = before.told_amps;
			s->confirmed = before.confirmed;
			s->keep_amps = before.keep_amps;
		}
		s->set_in_flight = false;
		return;
	}
	/* Only an answer to a heartbeat that carried the limit confirms it. */
	s->set_in_flight = cmd;
	if (!cmd)
		return;
	if (!before.told || before.told_amps != g.amps)
		twc_bus_emit(bus, TWC_EV_GRANT, i, s->id, g.amps, NULL);
	if (g.amps == 0 && (!before.told || before.told_amps != 0))
		s->zero_told_ms = bus->now_ms;
}

void twc_bus_tick(struct twc_bus *bus, uint64_t now_ms)
{
	bus->now_ms = now_ms;
	if (twc_rx_expire(&bus->rx, now_ms))
		bus->stats.rx = bus->rx.stats;
	twc_bus_query_expire(bus);

	for (int i = 0; i < TWC_MAX_SLAVES; i++)
		if (bus->slaves[i].used && now_ms - bus->slaves[i].last_heard_ms > TWC_SLAVE_TIMEOUT_MS)
			remove_slave(bus, i, TWC_EV_SLAVE_REMOVED);
	twc_bus_held_release_expired(bus);
	twc_bus_held_sync(bus);

	bool busy = twc_rx_busy(&bus->rx);
	struct hb_plan hb = hb_plan(bus);

	if (hb.slot >= 0 && now_ms >= hb.at) {
		/* Listen before talk, but a heartbeat is never held back more than a few frames' time:
		 * counted from when it first waited (the plan's time moves on with now while it waits). */
		if (!bus->hb_held_ms)
			bus->hb_held_ms = now_ms;
		if (busy && now_ms < bus->hb_held_ms + TWC_BUSY_DEFER_MAX_MS)
			return;
		bus->hb_held_ms = 0;
		send_heartbeat(bus, hb.slot, hb.expedite);
		bus->rr = (hb.slot + 1) % TWC_MAX_SLAVES;
		bus->last_hb_any_ms = now_ms;
		return;
	}
	bus->hb_held_ms = 0;
	if (bus->linkready_left > 0 && now_ms >= linkready_time(bus)) {
		if (!busy)
			send_linkready(bus);
		return;
	}
	if (busy || !twc_bus_query_window_open(bus, now_ms))
		return;
	/* A start/stop command before anyone's query: a car drawing through a pause should stop soon. */
	for (int k = 0; k < TWC_MAX_SLAVES; k++) {
		int j = (bus->rr + k) % TWC_MAX_SLAVES;
		enum query_kind kind = twc_bus_control_due(bus, &bus->slaves[j], now_ms);

		if (kind != Q_NONE) {
			twc_bus_query_send(bus, j, kind);
			return;
		}
	}
	for (int k = 0; k < TWC_MAX_SLAVES; k++) {
		int j = (bus->rr + k) % TWC_MAX_SLAVES;
		enum query_kind kind;

		if (!bus->slaves[j].used)
			continue;
		kind = twc_bus_query_due(bus, &bus->slaves[j], now_ms);
		if (kind != Q_NONE) {
			twc_bus_query_send(bus, j, kind);
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
		uint64_t hb = twc_bus_hb_due(bus);

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
	if (twc_bus_settling(bus))
		t = min64(t, bus->up_ms + TWC_SLAVE_TIMEOUT_MS);
	if (twc_rx_busy(&bus->rx))
		t = min64(t, bus->rx.last_byte_ms + TWC_RX_PARTIAL_TIMEOUT_MS);
	if (bus->q.kind != Q_NONE) {
		t = min64(t, bus->q.sent_ms + TWC_QUERY_TIMEOUT_MS);
	} else if (any && bus->linkready_left == 0) {
		uint64_t due = UINT64_MAX, hb_due = twc_bus_hb_due(bus);

		for (int i = 0; i < TWC_MAX_SLAVES; i++)
			due = min64(due, twc_bus_query_time(bus, &bus->slaves[i]));

		if (due != UINT64_MAX) {
			uint64_t open = bus->last_tx_ms + TWC_REPLY_WINDOW_MS;

			due = due > open ? due : open;
			due = due > bus->now_ms ? due : bus->now_ms + 1;
			/* Only worth waking for if the window is still open then. */
			if (due + TWC_REPLY_WINDOW_MS + TWC_BUSY_DEFER_MAX_MS <= hb_due)
				t = min64(t, due);
		}
	}
	return t;
}

/*
 * For the site (twc_alloc_site()): what the bus holds, the least it can come down to (reservations
 * cannot be told anything; a protocol 2 slave holding a limit keeps 6 A), and what it would hold
 * with its own wiring and total but no budget: the shares it would give, or each slave's floor.
 */
void twc_bus_site_view(const struct twc_bus *bus, struct twc_site_bus *out)
{
	struct twc_alloc_slave view[TWC_MAX_SLAVES];
	int target[TWC_MAX_SLAVES], reserved = twc_bus_reserved(bus), step = -1;

	memset(out, 0, sizeof(*out));
	out->held = twc_bus_held_total(bus);
	out->need = reserved;
	out->wants = reserved;
	alloc_view(bus, view);
	twc_alloc_share(&bus->cfg.limits, bus->available, reserved, view, target);
	for (int i = 0; i < TWC_MAX_SLAVES; i++) {
		int floor;

		if (!view[i].present)
			continue;
		floor = twc_alloc_floor(view[i].protocol, view[i].held_amps);
		out->need += floor;
		if (target[i] <= 0) {
			out->wants += floor;
			continue;
		}
		out->wants += twc_alloc_in_force(true, target[i], view[i].protocol, 0);
		out->cars++;
		/* Starting this car costs its minimum offer above the floor it keeps anyway. */
		int cost = twc_alloc_min_offer(&bus->cfg.limits, view[i].protocol) - floor;

		if (step < 0 || cost < step)
			step = cost;
	}
	out->start = out->need + (step > 0 ? step : 0);
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
	struct twc_limits lim;
	const struct slave *s;

	if (slot < 0 || slot >= TWC_MAX_SLAVES || !bus->slaves[slot].used)
		return -ENOENT;
	s = &bus->slaves[slot];
	/* The share as of now, not as of the last heartbeat: a cap raised since then would otherwise
	 * read as "allowed current but given none" until the next heartbeat (a false pause). */
	twc_bus_limits(bus, &lim);
	alloc_view(bus, view);
	twc_alloc_share(&lim, bus->available, twc_bus_reserved(bus), view, target);
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
	out->held_amps = twc_bus_slave_held(s, true);
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
