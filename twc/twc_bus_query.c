/*
 * twc_bus_query: the firmware 4.5.3 queries (meter, VIN, serial, firmware) and, with stop_commands,
 * the FC B2 / FC B1 start/stop commands to a paused slave whose car still draws and again when it
 * may charge. Both go out only in the quiet time between heartbeats, one at a time, so they can
 * never delay one; the VIN is read in three parts while a car is present.
 */
#include "twc_bus_internal.h"

#include <string.h>

#define VIN_RETRY_MS 60000u
#define VIN_MAX_ATTEMPTS 6
#define QUERY_GIVE_UP 3             /* unanswered queries in a row before we stop asking */
#define QUERY_RETRY_MS 600000u      /* ... and try again this much later */
#define STOP_SETTLE_CA 700          /* FC B2 once a paused car is down to the 6 A protocol 2 floor, ... */
#define STOP_SETTLE_MS 10000u       /* ... or this long after it was told 0 if it does not come down */
#define CONTROL_DWELL_MS 60000u     /* least time between two start/stop commands to one slave */

void twc_bus_vin_reset(struct slave *s)
{
	s->vin[0] = '\0';
	s->vin_buf[0] = '\0';
	s->vin_part = -1;
	s->vin_attempts = 0;
	s->vin_done = false;
	s->vin_next_ms = 0;
}

void twc_bus_vin_receive(struct twc_bus *bus, struct slave *s, int slot, const struct twc_msg *m)
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
		twc_bus_emit(bus, TWC_EV_VIN, slot, s->id, 0, s->vin);
	} else {
		s->vin_next_ms = bus->now_ms + VIN_RETRY_MS;
	}
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

enum query_kind twc_bus_control_due(const struct twc_bus *bus, const struct slave *s, uint64_t now)
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
uint64_t twc_bus_query_time(const struct twc_bus *bus, const struct slave *s)
{
	enum query_kind kind;
	uint64_t c = control_time(bus, s, &kind), t = data_query_time(bus, s);

	return c < t ? c : t;
}

/* The query slave @s should get now, if any: a start/stop command first, then identity, then the
 * VIN while a car is present, then the meter. */
enum query_kind twc_bus_query_due(const struct twc_bus *bus, const struct slave *s, uint64_t now)
{
	enum query_kind c = twc_bus_control_due(bus, s, now);

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

void twc_bus_query_send(struct twc_bus *bus, int i, enum query_kind kind)
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
	twc_bus_msg_send(bus, &m);
	if (kind == Q_STOP)
		twc_bus_emit(bus, TWC_EV_STOP_SENT, i, s->id, s->measured_ca / 100, NULL);
	else if (kind == Q_START)
		twc_bus_emit(bus, TWC_EV_START_SENT, i, s->id, s->told_amps, NULL);
}

void twc_bus_query_expire(struct twc_bus *bus)
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
bool twc_bus_query_window_open(const struct twc_bus *bus, uint64_t now)
{
	return bus->q.kind == Q_NONE && bus->linkready_left == 0 && now >= bus->last_tx_ms + TWC_REPLY_WINDOW_MS &&
	       now + TWC_REPLY_WINDOW_MS + TWC_BUSY_DEFER_MAX_MS <= twc_bus_hb_due(bus);
}
