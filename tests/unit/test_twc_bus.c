/*
 * Tests of the bus master state machine in injected time: the linkready burst, discovery and
 * protocol detection, heartbeat spacing and round-robin, the 26 s timeout, echo and collision
 * handling, commands 00/05/09, the wiring invariant while limits change, queries that fit
 * between heartbeats, the optional FC B2 / FC B1 stop/start commands, and what counts as held: lost
 * and unwritten frames, silent slaves, restarts, reloads below the floors, cars slow to come down.
 * A small scripted responder plays the slaves; every frame the bus writes is decoded and checked, and
 * the sum of what the scripted slaves really hold and draw is tracked against the wiring.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "twc_bus.h"

#define MAX_LOG 4096

struct sent {
	uint64_t t;
	struct twc_msg m;
	uint8_t body[TWC_BODY_MAX]; /* as on the wire, checksum included */
	size_t body_len;
};

struct fake_slave {
	uint16_t id;
	uint8_t protocol;
	bool silent;
	bool car;          /* plugged in */
	int limit_ca;      /* what it has been told, in force */
	bool told;
	const char *vin;   /* NULL: no fw 4.5.3 answers */
	bool full;         /* the car is plugged in but takes nothing */
	bool stubborn;     /* the car draws 8 A even when told 0 (the stop must come from elsewhere) */
	bool stopped;      /* contactor opened by FC B2, until FC B1 */
	int lag_ms;        /* the car takes this long to follow a lower limit ... */
	int follow_ca;     /* ... drawing for this limit until ... */
	uint64_t follow_until;
	bool mute;         /* hears and obeys, its replies are lost */
	bool ack09;        /* protocol 2: answers state 09 until 12 s after the last 09 it heard */
	uint64_t ack_until;
	uint64_t last_hb;  /* last heartbeat it heard; 30 s without one and it stops (holds 0) */
};

struct world {
	struct twc_bus *bus;
	uint64_t now;
	struct sent log[MAX_LOG];
	int nlog;
	struct fake_slave fs[4];
	int nfs;
	/* replies due */
	uint8_t pending[16][TWC_WIRE_MAX];
	size_t pending_len[16];
	uint64_t pending_t[16];
	int npending;
	int events[16];
	int max_held_total;
	bool echo;
	int cap_on_add;
	struct twc_bus_config cfg;
	uint16_t fail_id;  /* writes of frames to this slave fail ... */
	int fail_count;    /* ... this many times */
	int max_fake_held; /* most the scripted slaves really held together, A */
	int max_fake_drawn_ca;
	struct twc_held saved[TWC_MAX_KNOWN]; /* what env->persist stored */
	int nsaved, persist_calls;
	bool persist_fail;
};

static struct world W;

struct one_frame {
	uint8_t b[TWC_BODY_MAX];
	size_t n;
};

static void grab_frame(void *u, const uint8_t *body, size_t n)
{
	struct one_frame *got = u;

	memcpy(got->b, body, n);
	got->n = n;
}

static int on_write(void *user, const uint8_t *bytes, size_t len)
{
	struct world *w = user;
	struct twc_rx rx;
	struct twc_msg m;

	/* Decode what went out: every frame we send must be a valid one. */
	twc_rx_init(&rx, TWC_RX_LENIENT);
	struct one_frame got = {{0}, 0};

	twc_rx_feed(&rx, bytes, len, w->now, grab_frame, &got);
	assert_int_equal(rx.stats.frames, 1);
	assert_int_equal(twc_msg_decode(got.b, got.n, &m), 0);
	if (w->fail_count > 0 && m.dst == w->fail_id) {
		w->fail_count--;
		return -ENOTCONN; /* the TCP bridge is reconnecting */
	}
	/* A raise goes out only once the table that says so is stored. */
	if (m.type == TWC_MSG_MASTER_HEARTBEAT && m.u.mhb.cmd != TWC_CMD_NONE && w->persist_calls) {
		int stored = 0;

		for (int k = 0; k < w->nsaved; k++)
			if (w->saved[k].id == m.dst)
				stored = w->saved[k].amps;
		assert_true(stored >= twc_alloc_in_force(true, m.u.mhb.ca / 100, m.protocol == 1 ? 1 : 2, 0));
	}
	if (w->nlog < MAX_LOG) {
		w->log[w->nlog].t = w->now;
		w->log[w->nlog].m = m;
		memcpy(w->log[w->nlog].body, got.b, got.n);
		w->log[w->nlog].body_len = got.n;
		w->nlog++;
	}
	if (w->echo && w->npending < 16) {
		memcpy(w->pending[w->npending], bytes, len);
		w->pending_len[w->npending] = len;
		w->pending_t[w->npending++] = w->now + 2;
	}
	/* Scripted slaves answer heartbeats and queries 20 ms later. */
	for (int i = 0; i < w->nfs; i++) {
		struct fake_slave *f = &w->fs[i];
		struct twc_msg r = {0};

		if (f->silent || m.dst != f->id)
			continue;
		r.src = f->id;
		r.protocol = f->protocol;
		if (m.type == TWC_MSG_MASTER_HEARTBEAT) {
			if (f->last_hb && w->now - f->last_hb > 30000)
				f->told = false; /* it had stopped for want of a master: waits for a new limit */
			f->last_hb = w->now;
			if (m.u.mhb.cmd == TWC_CMD_SET_V2 && f->protocol == 2)
				f->ack_until = w->now + 12000;
			if (m.u.mhb.cmd == TWC_CMD_SET_V1 || m.u.mhb.cmd == TWC_CMD_SET_V2) {
				if (f->lag_ms && m.u.mhb.ca < f->limit_ca && w->now >= f->follow_until) {
					f->follow_ca = f->limit_ca;
					f->follow_until = w->now + (uint64_t)f->lag_ms;
				}
				f->limit_ca = m.u.mhb.ca;
				f->told = true;
				if (f->protocol == 2 && f->limit_ca < 600)
					f->limit_ca = 600;
			}
			int ca = w->now < f->follow_until ? f->follow_ca : f->limit_ca;
			bool draws = f->car && !f->stopped && !f->full && (ca >= 500 || f->stubborn);

			r.type = TWC_MSG_SLAVE_HEARTBEAT;
			r.dst = m.src;
			if (!f->car)
				r.u.shb.state = TWC_ST_READY;
			else if (f->stopped || f->full)
				r.u.shb.state = TWC_ST_PLUGGED_NO_CHARGE;
			else
				r.u.shb.state = draws ? TWC_ST_CHARGING : TWC_ST_PLUGGED_READY;
			if (f->ack09 && w->now < f->ack_until)
				r.u.shb.state = TWC_ST_ACK_LIMIT; /* hides the car's real state */
			r.u.shb.limit_ca = (uint16_t)(f->car ? f->limit_ca : 0);
			r.u.shb.measured_ca = (uint16_t)(!draws ? 0 : ca >= 500 ? ca - 30 : 800);
		} else if (f->vin && (m.type == TWC_MSG_STOP || m.type == TWC_MSG_START)) {
			f->stopped = m.type == TWC_MSG_STOP;
			r.type = f->stopped ? TWC_MSG_STOP_ACK : TWC_MSG_START_ACK;
		} else if (f->vin && m.type == TWC_MSG_VIN_REQ) {
			r.type = TWC_MSG_VIN;
			r.protocol = 2;
			r.u.vin.part = m.u.vin.part;
			memcpy(r.u.vin.chars, f->vin + twc_vin_part_offset(m.u.vin.part),
			       twc_vin_part_length(m.u.vin.part));
		} else if (f->vin && m.type == TWC_MSG_METER_REQ) {
			r.type = TWC_MSG_METER;
			r.u.meter.energy = 924;
			r.u.meter.volts[0] = 230;
		} else if (f->vin && m.type == TWC_MSG_SERIAL_REQ) {
			r.type = TWC_MSG_SERIAL;
			memcpy(r.u.serial.tsn, "A18B0001234", 11);
		} else if (f->vin && m.type == TWC_MSG_FIRMWARE_REQ) {
			r.type = TWC_MSG_FIRMWARE;
			r.u.firmware.v[0] = 4;
			r.u.firmware.v[1] = 5;
			r.u.firmware.v[2] = 3;
		} else {
			continue;
		}
		if (f->mute)
			continue;
		if (w->npending < 16) {
			int n = twc_msg_to_wire(&r, w->pending[w->npending], TWC_WIRE_MAX);

			assert_true(n > 0);
			w->pending_len[w->npending] = (size_t)n;
			w->pending_t[w->npending++] = w->now + 20;
		}
	}
	return 0;
}

static int on_persist(void *user, const struct twc_held *held, int n)
{
	struct world *w = user;

	assert_true(n >= 0 && n <= TWC_MAX_KNOWN);
	w->persist_calls++;
	if (w->persist_fail)
		return -ENOSPC;
	memcpy(w->saved, held, sizeof(held[0]) * (size_t)n);
	w->nsaved = n;
	return 0;
}

/* What a scripted slave really holds and draws now (0 once 30 s without a heartbeat stopped it). */
static int fake_held(const struct fake_slave *f)
{
	if (!f->told || (f->last_hb && W.now - f->last_hb > 30000))
		return 0;
	return f->limit_ca / 100;
}

static int fake_drawn_ca(const struct fake_slave *f)
{
	int ca = W.now < f->follow_until ? f->follow_ca : f->limit_ca;

	if (!fake_held(f) || !f->car || f->stopped || f->full || ca < 500)
		return 0;
	return ca - 30;
}

static void on_event(void *user, const struct twc_event *ev)
{
	struct world *w = user;

	w->events[ev->type]++;
	if (ev->type == TWC_EV_SLAVE_ADDED && w->cap_on_add)
		twc_bus_set_cap(w->bus, ev->id, w->cap_on_add);
}

static void setup_world(uint8_t proto_unused, int all, int per, int min, int default_cap)
{
	struct twc_bus_config cfg = {0};
	struct twc_bus_env env = {&W, on_write, on_event, on_persist};

	(void)proto_unused;
	memset(&W, 0, sizeof(W));
	cfg.master_id = 0x7777;
	cfg.master_sign = 0x77;
	cfg.limits.wiring_max_all = all;
	cfg.limits.wiring_max_per_twc = per;
	cfg.limits.min_amps = min;
	cfg.default_cap_amps = default_cap;
	cfg.query_meter = true;
	W.cfg = cfg;
	W.now = 1000;
	W.bus = twc_bus_new(&cfg, &env, W.now);
	assert_non_null(W.bus);
}

static void feed_frame(const struct twc_msg *m)
{
	uint8_t wire[TWC_WIRE_MAX + 1];
	int n = twc_msg_to_wire(m, wire, sizeof(wire));

	assert_true(n > 0);
	wire[n++] = 0xFE; /* real TWCs add a junk byte */
	twc_bus_input(W.bus, wire, (size_t)n, W.now);
}

static void announce(uint16_t id, uint8_t protocol, int rated)
{
	struct twc_msg m = {0};

	m.type = TWC_MSG_SLAVE_LINKREADY;
	m.protocol = protocol;
	m.src = id;
	m.u.linkready.sign = 0x42;
	m.u.linkready.max_ca = (uint16_t)(rated * 100);
	feed_frame(&m);
}

static void add_fake(uint16_t id, uint8_t protocol, const char *vin)
{
	struct fake_slave *f = &W.fs[W.nfs++];

	memset(f, 0, sizeof(*f));
	f->id = id;
	f->protocol = protocol;
	f->vin = vin;
	announce(id, protocol, 32);
}

/* Advance simulated time to @until, delivering replies and ticking at every deadline. */
static void run_until(uint64_t until)
{
	while (W.now < until) {
		uint64_t t = twc_bus_next_deadline(W.bus);
		int first = -1;

		for (int i = 0; i < W.npending; i++)
			if (first < 0 || W.pending_t[i] < W.pending_t[first])
				first = i;
		if (first >= 0 && W.pending_t[first] < t)
			t = W.pending_t[first];
		if (t > until)
			t = until;
		if (t > W.now)
			W.now = t; /* a deadline at or before now means "tick now" */
		if (first >= 0 && W.pending_t[first] <= W.now) {
			uint8_t buf[TWC_WIRE_MAX];
			size_t n = W.pending_len[first];

			memcpy(buf, W.pending[first], n);
			memmove(&W.pending[first], &W.pending[first + 1], (size_t)(W.npending - first - 1) * sizeof(W.pending[0]));
			memmove(&W.pending_len[first], &W.pending_len[first + 1], (size_t)(W.npending - first - 1) * sizeof(size_t));
			memmove(&W.pending_t[first], &W.pending_t[first + 1], (size_t)(W.npending - first - 1) * sizeof(uint64_t));
			W.npending--;
			twc_bus_input(W.bus, buf, n, W.now);
		} else {
			twc_bus_tick(W.bus, W.now);
			/* After a tick the bus must not ask to be ticked again at once (no busy loop). */
			assert_true(twc_bus_next_deadline(W.bus) > W.now);
		}
		int tot = twc_bus_held_total(W.bus), held = 0, drawn = 0;
		if (tot > W.max_held_total)
			W.max_held_total = tot;
		for (int i = 0; i < W.nfs; i++) {
			held += fake_held(&W.fs[i]);
			drawn += fake_drawn_ca(&W.fs[i]);
		}
		if (held > W.max_fake_held)
			W.max_fake_held = held;
		if (drawn > W.max_fake_drawn_ca)
			W.max_fake_drawn_ca = drawn;
	}
}

static void teardown_world(void)
{
	twc_bus_free(W.bus);
	W.bus = NULL;
}

static void test_startup_burst(void **state)
{
	(void)state;
	setup_world(2, 40, 32, 6, 0);
	run_until(4000);
	assert_int_equal(W.nlog, 10);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(W.log[i].m.type, i < 5 ? TWC_MSG_MASTER_LINKREADY1 : TWC_MSG_MASTER_LINKREADY2);
		assert_int_equal(W.log[i].m.src, 0x7777);
		assert_int_equal(W.log[i].m.u.linkready.sign, 0x77);
		if (i)
			assert_int_equal(W.log[i].t - W.log[i - 1].t, TWC_LINKREADY_SPACING_MS);
	}
	/* With no slave nothing else is said. */
	assert_int_equal(twc_bus_next_deadline(W.bus), UINT64_MAX);
	teardown_world();
}

static void test_discovery_protocol_and_fourth_rejected(void **state)
{
	struct twc_slave_info info;

	(void)state;
	setup_world(2, 40, 32, 6, 0);
	announce(0x1111, 1, 80);
	announce(0x2222, 2, 32);
	announce(0x2222, 2, 32); /* repeats are the same slave */
	announce(0x3333, 2, 32);
	announce(0x4444, 2, 32);
	assert_int_equal(twc_bus_slave_count(W.bus), 3);
	assert_int_equal(W.events[TWC_EV_SLAVE_ADDED], 3);
	assert_int_equal(W.events[TWC_EV_SLAVE_REJECTED], 1);
	assert_int_equal(twc_bus_slave(W.bus, 0, &info), 0);
	assert_int_equal(info.id, 0x1111);
	assert_int_equal(info.protocol, 1);
	assert_int_equal(info.rated_amps, 80);
	assert_int_equal(twc_bus_slave(W.bus, 1, &info), 0);
	assert_int_equal(info.protocol, 2);
	assert_int_equal(twc_bus_slave(W.bus, 3, &info), -ENOENT);
	teardown_world();
}

static void test_heartbeat_spacing_round_robin(void **state)
{
	uint64_t last_to[3] = {0}, prev_hb = 0;
	int count[3] = {0};

	(void)state;
	setup_world(2, 40, 32, 6, 0);
	run_until(3000); /* burst over */
	add_fake(0x1111, 2, NULL);
	add_fake(0x2222, 1, NULL);
	add_fake(0x3333, 2, NULL);
	W.nlog = 0;
	run_until(3000 + 120000);
	for (int i = 0; i < W.nlog; i++) {
		const struct twc_msg *m = &W.log[i].m;

		if (m->type != TWC_MSG_MASTER_HEARTBEAT)
			continue;
		/* Three new slaves are each heartbeated soon (they are due at once), then it settles into
		 * the regular spacing; never closer than the least spacing. */
		if (prev_hb)
			assert_true(W.log[i].t - prev_hb >= TWC_HEARTBEAT_MIN_SPACING_MS);
		if (prev_hb && W.log[i].t > 8000)
			assert_int_equal(W.log[i].t - prev_hb, TWC_HEARTBEAT_SPACING_MS);
		prev_hb = W.log[i].t;
		int k = m->dst == 0x1111 ? 0 : m->dst == 0x2222 ? 1 : 2;
		/* Body length follows the slave's protocol. */
		assert_int_equal(m->body_len, W.fs[k].protocol == 1 ? 14 : 16);
		if (last_to[k])
			assert_true(W.log[i].t - last_to[k] <= 3500);
		last_to[k] = W.log[i].t;
		count[k]++;
	}
	for (int k = 0; k < 3; k++)
		assert_true(count[k] >= 35);
	assert_int_equal(twc_bus_slave_count(W.bus), 3);
	assert_int_equal(W.events[TWC_EV_SLAVE_REMOVED], 0);
	teardown_world();
}

static void test_silent_slave_forgotten_after_26s(void **state)
{
	(void)state;
	setup_world(2, 40, 32, 6, 0);
	run_until(3000);
	add_fake(0x1111, 2, NULL);
	add_fake(0x2222, 2, NULL);
	run_until(10000);
	W.fs[1].silent = true;
	uint64_t went_quiet = W.now;
	run_until(went_quiet + 25000);
	assert_int_equal(twc_bus_slave_count(W.bus), 2);
	run_until(went_quiet + 27100);
	assert_int_equal(twc_bus_slave_count(W.bus), 1);
	assert_int_equal(W.events[TWC_EV_SLAVE_REMOVED], 1);
	/* It comes back by announcing itself again. */
	W.fs[1].silent = false;
	announce(0x2222, 2, 32);
	assert_int_equal(twc_bus_slave_count(W.bus), 2);
	teardown_world();
}

static void test_echo_dropped_and_counted(void **state)
{
	(void)state;
	setup_world(2, 40, 32, 6, 0);
	W.echo = true;
	run_until(3000);
	add_fake(0x1111, 2, NULL);
	run_until(20000);
	assert_true(twc_bus_stats(W.bus)->echoes >= 10 + 15);
	assert_int_equal(W.events[TWC_EV_OTHER_MASTER], 0);
	assert_int_equal(twc_bus_slave_count(W.bus), 1);
	teardown_world();
}

static void test_collision_repeats_burst(void **state)
{
	(void)state;
	setup_world(2, 40, 32, 6, 0);
	run_until(3000);
	W.nlog = 0;
	announce(0x7777, 2, 32);
	assert_int_equal(twc_bus_slave_count(W.bus), 0);
	assert_int_equal(W.events[TWC_EV_ID_COLLISION], 1);
	run_until(6000);
	assert_int_equal(W.nlog, 10);
	assert_int_equal(W.log[0].m.type, TWC_MSG_MASTER_LINKREADY1);
	assert_int_equal(W.log[9].m.type, TWC_MSG_MASTER_LINKREADY2);
	teardown_world();
}

static void test_other_master_reported(void **state)
{
	struct twc_msg m = {0};

	(void)state;
	setup_world(2, 40, 32, 6, 0);
	m.type = TWC_MSG_MASTER_LINKREADY1;
	m.protocol = 1;
	m.src = 0xABCD;
	feed_frame(&m);
	feed_frame(&m);
	assert_int_equal(W.events[TWC_EV_OTHER_MASTER], 1); /* once, not per frame */
	assert_int_equal(twc_bus_stats(W.bus)->foreign, 2);
	teardown_world();
}

static int last_cmd_to(uint16_t id, struct twc_msg *out)
{
	for (int i = W.nlog - 1; i >= 0; i--)
		if (W.log[i].m.type == TWC_MSG_MASTER_HEARTBEAT && W.log[i].m.dst == id) {
			*out = W.log[i].m;
			return 0;
		}
	return -1;
}

/* The first heartbeat to @id from log entry @from on. */
static int first_hb_to(int from, uint16_t id, struct twc_msg *out)
{
	for (int i = from; i < W.nlog; i++)
		if (W.log[i].m.type == TWC_MSG_MASTER_HEARTBEAT && W.log[i].m.dst == id) {
			*out = W.log[i].m;
			return 0;
		}
	return -1;
}

static struct twc_slave_info slave_info(int slot)
{
	struct twc_slave_info info;

	assert_int_equal(twc_bus_slave(W.bus, slot, &info), 0);
	return info;
}

static uint64_t told_at(int from, uint16_t dst, int ca);

static void test_new_car_waits_without_cap(void **state)
{
	struct twc_msg m;

	(void)state;
	setup_world(2, 40, 32, 6, 0);
	run_until(3000);
	add_fake(0x1111, 2, NULL);
	W.fs[0].car = true;
	run_until(20000);
	/* Plugged in, nobody allowed it to charge: every heartbeat is command 00. */
	for (int i = 0; i < W.nlog; i++)
		if (W.log[i].m.type == TWC_MSG_MASTER_HEARTBEAT)
			assert_int_equal(W.log[i].m.u.mhb.cmd, TWC_CMD_NONE);
	assert_int_equal(W.fs[0].told, false);
	/* Now the layer above allows 16 A: the next heartbeat carries 09 with 16.00 A. */
	int mark = W.nlog;
	assert_int_equal(twc_bus_set_cap(W.bus, 0x1111, 16), 0);
	assert_int_equal(twc_bus_set_cap(W.bus, 0x9999, 16), -ENOENT);
	/* The share reported is the one of now, before any heartbeat: a raised cap never reads as
	 * "allowed but given nothing" (the gateway would report a false SuspendedEVSE). */
	assert_int_equal(slave_info(0).target_amps, 16);
	run_until(W.now + 1100);
	assert_int_equal(first_hb_to(mark, 0x1111, &m), 0);
	assert_int_equal(m.u.mhb.cmd, TWC_CMD_SET_V2);
	assert_int_equal(m.u.mhb.ca, 1600);
	/* Once the slave reports 16 A the master goes back to 00, as a real master does. */
	run_until(W.now + 1100);
	assert_int_equal(last_cmd_to(0x1111, &m), 0);
	assert_int_equal(m.u.mhb.cmd, TWC_CMD_NONE);
	/* Cap to 0: protocol 2 gets an explicit 09 00 00 until it reports the 6 A that means, then 00
	 * (a slave keeps answering state 09 while 09 is repeated, hiding an unplug). */
	mark = W.nlog;
	twc_bus_set_cap(W.bus, 0x1111, 0);
	run_until(W.now + 1100);
	assert_int_equal(first_hb_to(mark, 0x1111, &m), 0);
	assert_int_equal(m.u.mhb.cmd, TWC_CMD_SET_V2);
	assert_int_equal(m.u.mhb.ca, 0);
	(void)told_at(mark, 0x1111, 0);
	run_until(W.now + 2200);
	assert_int_equal(last_cmd_to(0x1111, &m), 0);
	assert_int_equal(m.u.mhb.cmd, TWC_CMD_NONE);
	assert_int_equal(slave_info(0).held_amps, 6);
	teardown_world();
}

static void test_protocol1_gets_05(void **state)
{
	struct twc_msg m;

	(void)state;
	setup_world(2, 40, 32, 6, 20);
	run_until(3000);
	add_fake(0x1111, 1, NULL);
	W.fs[0].car = true;
	run_until(8000);
	assert_int_equal(last_cmd_to(0x1111, &m), 0);
	assert_true(W.fs[0].told);
	assert_int_equal(W.fs[0].limit_ca, 2000);
	teardown_world();
}

static void test_sharing_and_invariant(void **state)
{
	struct twc_slave_info a, b, c;

	(void)state;
	setup_world(2, 40, 32, 6, 32);
	run_until(3000);
	add_fake(0x1111, 2, NULL);
	add_fake(0x2222, 2, NULL);
	add_fake(0x3333, 1, NULL);
	W.fs[0].car = true;
	run_until(15000);
	assert_int_equal(W.fs[0].limit_ca, 3200);
	W.fs[1].car = true;
	run_until(30000);
	assert_int_equal(W.fs[0].limit_ca, 2000);
	assert_int_equal(W.fs[1].limit_ca, 2000);
	W.fs[2].car = true;
	run_until(50000);
	twc_bus_slave(W.bus, 0, &a);
	twc_bus_slave(W.bus, 1, &b);
	twc_bus_slave(W.bus, 2, &c);
	assert_int_equal(a.offered_amps + b.offered_amps + c.offered_amps, 40);
	assert_int_equal(a.status, TWC_SLAVE_CHARGING);
	/* Less available: everyone goes down, never exceeding the wiring on the way. */
	twc_bus_set_available(W.bus, 20);
	run_until(70000);
	assert_true(twc_bus_held_total(W.bus) <= 20);
	/* A lower wiring limit by reload. */
	struct twc_bus_config cfg = {0x7777, 0x77, {24, 16, 6}, 32, true, false};
	assert_int_equal(twc_bus_set_config(W.bus, &cfg), 0);
	twc_bus_set_available(W.bus, 100);
	run_until(90000);
	assert_true(twc_bus_held_total(W.bus) <= 24);
	assert_true(W.max_held_total <= 40);
	cfg.limits.min_amps = 20; /* above per TWC */
	assert_int_equal(twc_bus_set_config(W.bus, &cfg), -EINVAL);
	teardown_world();
}

static void test_queries_never_delay_heartbeats(void **state)
{
	uint64_t prev_hb = 0, prev_any = 0;
	int queries = 0;
	struct twc_slave_info info;

	(void)state;
	setup_world(2, 40, 32, 6, 32);
	run_until(3000);
	add_fake(0x1111, 2, "5YJ3E7EA1KF000001");
	add_fake(0x2222, 2, "5YJSA1E26MF000002");
	W.fs[0].car = true;
	W.fs[1].car = true;
	W.nlog = 0;
	run_until(3000 + 180000);
	for (int i = 0; i < W.nlog; i++) {
		const struct twc_msg *m = &W.log[i].m;

		if (prev_any)
			assert_true(W.log[i].t - prev_any >= 200); /* room for a reply after each frame */
		prev_any = W.log[i].t;
		if (m->type == TWC_MSG_MASTER_HEARTBEAT) {
			/* Early only while the cars get their first limits; a query never delays one. */
			if (prev_hb)
				assert_true(W.log[i].t - prev_hb >= TWC_HEARTBEAT_MIN_SPACING_MS &&
					    W.log[i].t - prev_hb <= TWC_HEARTBEAT_SPACING_MS);
			if (prev_hb && W.log[i].t > 20000)
				assert_int_equal(W.log[i].t - prev_hb, TWC_HEARTBEAT_SPACING_MS);
			prev_hb = W.log[i].t;
		} else {
			queries++;
		}
	}
	assert_true(queries >= 10);
	assert_int_equal(twc_bus_slave(W.bus, 0, &info), 0);
	assert_string_equal(info.vin, "5YJ3E7EA1KF000001");
	assert_string_equal(info.serial, "A18B0001234");
	assert_true(info.has_firmware);
	assert_int_equal(info.firmware[2], 3);
	assert_true(info.has_meter);
	assert_int_equal(info.energy_raw, 924);
	assert_int_equal(W.events[TWC_EV_VIN], 2);
	teardown_world();
}

static void test_unanswered_queries_back_off(void **state)
{
	int queries = 0;

	(void)state;
	setup_world(2, 40, 32, 6, 0);
	run_until(3000);
	add_fake(0x1111, 2, NULL); /* no fw 4.5.3: never answers queries */
	W.nlog = 0;
	run_until(3000 + 300000);
	for (int i = 0; i < W.nlog; i++)
		queries += W.log[i].m.type != TWC_MSG_MASTER_HEARTBEAT;
	assert_int_equal(queries, 3); /* three tries, then quiet for ten minutes */
	assert_int_equal(twc_bus_slave_count(W.bus), 1);
	teardown_world();
}

static void test_link_up_spares_slaves(void **state)
{
	(void)state;
	setup_world(2, 40, 32, 6, 0);
	run_until(3000);
	add_fake(0x1111, 2, NULL);
	W.fs[0].silent = true;
	run_until(20000);
	twc_bus_link_up(W.bus, W.now); /* the TCP bridge came back */
	W.fs[0].silent = false;
	run_until(30000);
	assert_int_equal(twc_bus_slave_count(W.bus), 1);
	assert_int_equal(W.events[TWC_EV_SLAVE_REMOVED], 0);
	teardown_world();
}

/* A frame still coming in when a linkready of the start-up burst is due defers it a little, without
 * the bus asking to be ticked again at once (found by fuzz_twc_bus: a 1 ms busy loop for up to 2 s). */
static void test_linkready_waits_for_incoming_frame(void **state)
{
	const uint8_t partial[] = {0xC0, 0xFD, 0xE2, 0x12};

	(void)state;
	setup_world(2, 40, 32, 6, 0);
	run_until(1200);
	assert_false(twc_bus_rx_busy(W.bus));
	twc_bus_input(W.bus, partial, 1, W.now); /* a lone C0 may be junk's end: not yet */
	assert_false(twc_bus_rx_busy(W.bus));
	twc_bus_input(W.bus, partial + 1, sizeof(partial) - 1, W.now);
	assert_true(twc_bus_rx_busy(W.bus));
	run_until(4500); /* asserts no immediate re-tick after every tick */
	assert_int_equal(W.nlog, 10);
	assert_false(twc_bus_rx_busy(W.bus)); /* the partial frame expired after 2 s */
	teardown_world();
}

/* A frame that starts coming in and never ends keeps the receiver busy for TWC_RX_PARTIAL_TIMEOUT_MS:
 * a due heartbeat waits for it at most TWC_BUSY_DEFER_MAX_MS, then goes out (found by fuzz_twc_bus:
 * the plan's time moved on with now, so the wait never ended and a slave went 3.5 s unheard). */
static uint64_t last_hb_time(void);

static void test_heartbeat_not_held_by_a_stuck_frame(void **state)
{
	static const uint16_t ids[2] = {0x1111, 0x2222};
	const uint8_t partial[] = {0xC0, 0xFD, 0xE0, 0x12};
	uint64_t l0, due;
	int mark, at = -1;

	(void)state;
	setup_world(2, 40, 32, 6, 32);
	run_until(3000);
	for (int k = 0; k < 2; k++)
		add_fake(ids[k], 2, NULL);
	run_until(20000);
	l0 = last_hb_time();
	due = l0 + TWC_HEARTBEAT_SPACING_MS;
	run_until(due - 10);
	mark = W.nlog;
	twc_bus_input(W.bus, partial, sizeof(partial), W.now);
	run_until(due + 1500);
	for (int i = mark; i < W.nlog && at < 0; i++)
		if (W.log[i].m.type == TWC_MSG_MASTER_HEARTBEAT)
			at = i;
	assert_true(at >= 0);
	assert_true(W.log[at].t >= due);
	assert_true(W.log[at].t <= due + TWC_BUSY_DEFER_MAX_MS + TWC_BUSY_DEFER_MS);
	teardown_world();
}

static void test_garbage_counted_not_fatal(void **state)
{
	uint8_t junk[256];

	(void)state;
	setup_world(2, 40, 32, 6, 0);
	for (int i = 0; i < 256; i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	junk[10] = 0xC0;
	junk[100] = 0xC0;
	twc_bus_input(W.bus, junk, sizeof(junk), W.now);
	announce(0x1111, 2, 32);
	assert_int_equal(twc_bus_slave_count(W.bus), 1);
	const struct twc_rx_stats *rx = &twc_bus_stats(W.bus)->rx;
	assert_true(rx->junk_bytes + rx->bad_length + rx->overflow + rx->bad_checksum + rx->bad_escape > 0);
	teardown_world();
}

static void test_bad_config_refused(void **state)
{
	struct twc_bus_config cfg = {0x7777, 0x77, {40, 48, 6}, 0, false, false};
	struct twc_bus_env env = {&W, on_write, NULL, NULL};

	(void)state;
	assert_null(twc_bus_new(&cfg, &env, 0)); /* per TWC above all */
	cfg.limits.wiring_max_per_twc = 32;
	cfg.master_id = 0;
	assert_null(twc_bus_new(&cfg, &env, 0));
	cfg.master_id = 0x7777;
	env.write = NULL;
	assert_null(twc_bus_new(&cfg, &env, 0));
}

/* ---- FC B2 / FC B1 (twc.stopCommands) ---- */

#define VIN_A "5YJ3E7EA1KF000001"
#define VIN_B "5YJSA1E26MF000002"
#define VIN_C "5YJYGDEE1LF000003"

static void set_stop_commands(bool on)
{
	W.cfg.stop_commands = on;
	assert_int_equal(twc_bus_set_config(W.bus, &W.cfg), 0);
}

/* How many frames of @type the bus wrote since log index @from (to @dst, or to anyone if 0). */
static int count_sent(int from, enum twc_msg_type type, uint16_t dst)
{
	int n = 0;

	for (int i = from; i < W.nlog; i++)
		n += W.log[i].m.type == type && (!dst || W.log[i].m.dst == dst);
	return n;
}

static int find_sent(int from, enum twc_msg_type type, uint16_t dst)
{
	for (int i = from; i < W.nlog; i++)
		if (W.log[i].m.type == type && W.log[i].m.dst == dst)
			return i;
	return -1;
}

/* A 4.5.3 slave 1111 whose car charges at 32 A, identity read; stop commands as asked. */
static void one_charging_453(bool stop_commands)
{
	setup_world(2, 40, 32, 6, 32);
	if (stop_commands)
		set_stop_commands(true);
	run_until(3000);
	add_fake(0x1111, 2, VIN_A);
	W.fs[0].car = true;
	run_until(20000);
	assert_int_equal(slave_info(0).status, TWC_SLAVE_CHARGING);
	assert_true(slave_info(0).has_firmware);
	assert_int_equal(W.fs[0].limit_ca, 3200);
}

static void test_stop_commands_off_by_default(void **state)
{
	(void)state;
	one_charging_453(false);
	assert_false(W.cfg.stop_commands);
	twc_bus_set_cap(W.bus, 0x1111, 0);
	run_until(60000);
	/* Paused by 09 00 00 alone, the protocol 2 car keeps taking 6 A: what the option is for. */
	assert_true(slave_info(0).measured_amps >= 5.0);
	twc_bus_set_cap(W.bus, 0x1111, 32);
	run_until(80000);
	assert_int_equal(count_sent(0, TWC_MSG_STOP, 0), 0);
	assert_int_equal(count_sent(0, TWC_MSG_START, 0), 0);
	assert_int_equal(twc_bus_stats(W.bus)->stop_cmds, 0);
	assert_int_equal(twc_bus_stats(W.bus)->start_cmds, 0);
	assert_int_equal(W.events[TWC_EV_STOP_SENT] + W.events[TWC_EV_START_SENT], 0);
	teardown_world();
}

static void test_stop_once_per_pause_then_start_once(void **state)
{
	/* FC B2 / FC B1 + master 7777 + slave 1111 + 9 x 00 + checksum (twc-protocol.md 2.12, 1.9) */
	static const uint8_t b2[16] = {0xFC, 0xB2, 0x77, 0x77, 0x11, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xC2};
	static const uint8_t b1[16] = {0xFC, 0xB1, 0x77, 0x77, 0x11, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xC1};
	struct twc_msg m;
	uint64_t t_stop, t_start;
	int mark, i;

	(void)state;
	one_charging_453(true);
	assert_int_equal(count_sent(0, TWC_MSG_STOP, 0), 0); /* charging with a limit: nothing to stop */

	mark = W.nlog;
	twc_bus_set_cap(W.bus, 0x1111, 0);
	run_until(W.now + 30000);
	assert_int_equal(count_sent(mark, TWC_MSG_STOP, 0), 1);
	i = find_sent(mark, TWC_MSG_STOP, 0x1111);
	assert_int_equal(W.log[i].body_len, sizeof(b2));
	assert_memory_equal(W.log[i].body, b2, sizeof(b2));
	t_stop = W.log[i].t;
	/* Right after the heartbeat that told it 0, in that heartbeat's quiet time. */
	assert_int_equal(W.log[i - 1].m.type, TWC_MSG_MASTER_HEARTBEAT);
	assert_int_equal(W.log[i - 1].m.dst, 0x1111);
	assert_int_equal(W.log[i - 1].m.u.mhb.cmd, TWC_CMD_SET_V2);
	assert_int_equal(W.log[i - 1].m.u.mhb.ca, 0);
	assert_true(W.log[i].t - W.log[i - 1].t >= TWC_REPLY_WINDOW_MS);
	assert_int_equal(twc_bus_stats(W.bus)->stop_cmds, 1);
	assert_int_equal(W.events[TWC_EV_STOP_SENT], 1);
	assert_true(W.fs[0].stopped);
	assert_true(slave_info(0).measured_amps < 1.0);
	assert_int_equal(slave_info(0).status, TWC_SLAVE_PLUGGED);
	assert_int_equal(count_sent(mark, TWC_MSG_START, 0), 0);
	/* The amps stay the allocator's: told 0 (then 00 once it reported the 6 A that means). */
	assert_int_equal(last_cmd_to(0x1111, &m), 0);
	assert_int_equal(m.u.mhb.cmd, TWC_CMD_NONE);
	assert_int_equal(slave_info(0).offered_amps, 6);
	assert_int_equal(slave_info(0).target_amps, 0);

	mark = W.nlog;
	twc_bus_set_cap(W.bus, 0x1111, 32);
	run_until(W.now + 20000);
	assert_int_equal(count_sent(mark, TWC_MSG_START, 0), 0); /* not within a minute of the stop */
	run_until(W.now + 40000);
	assert_int_equal(count_sent(mark, TWC_MSG_START, 0), 1);
	assert_int_equal(count_sent(mark, TWC_MSG_STOP, 0), 0);
	i = find_sent(mark, TWC_MSG_START, 0x1111);
	assert_int_equal(W.log[i].body_len, sizeof(b1));
	assert_memory_equal(W.log[i].body, b1, sizeof(b1));
	t_start = W.log[i].t;
	assert_true(t_start - t_stop >= 60000);
	assert_true(t_start - t_stop < 62000); /* and not much later: at the next heartbeat's quiet time */
	/* After a heartbeat gave it a limit it can charge at, in a quiet time. */
	assert_true(told_at(mark, 0x1111, 3200) < t_start);
	assert_true(W.log[i].t - W.log[i - 1].t >= TWC_REPLY_WINDOW_MS);
	assert_int_equal(twc_bus_stats(W.bus)->start_cmds, 1);
	assert_int_equal(W.events[TWC_EV_START_SENT], 1);
	assert_false(W.fs[0].stopped);
	assert_int_equal(slave_info(0).status, TWC_SLAVE_CHARGING);
	assert_true(slave_info(0).measured_amps > 30.0);

	/* A new pause is a new stop. */
	twc_bus_set_cap(W.bus, 0x1111, 0);
	run_until(W.now + 70000);
	assert_int_equal(twc_bus_stats(W.bus)->stop_cmds, 2);
	assert_true(W.log[find_sent(mark, TWC_MSG_STOP, 0x1111)].t - t_start >= 60000);
	assert_int_equal(twc_bus_stats(W.bus)->start_cmds, 1);
	/* Start/stop are not queries: the meter and VIN bookkeeping is untouched. */
	assert_int_equal(twc_bus_stats(W.bus)->queries, count_sent(0, TWC_MSG_METER_REQ, 0) +
							     count_sent(0, TWC_MSG_FIRMWARE_REQ, 0) +
							     count_sent(0, TWC_MSG_SERIAL_REQ, 0) +
							     count_sent(0, TWC_MSG_VIN_REQ, 0));
	teardown_world();
}

/* Time of the first heartbeat to @dst since @from telling it @ca with command 09. */
static uint64_t told_at(int from, uint16_t dst, int ca)
{
	for (int i = from; i < W.nlog; i++)
		if (W.log[i].m.type == TWC_MSG_MASTER_HEARTBEAT && W.log[i].m.dst == dst &&
		    W.log[i].m.u.mhb.cmd == TWC_CMD_SET_V2 && W.log[i].m.u.mhb.ca == ca)
			return W.log[i].t;
	fail_msg("never told %d", ca);
	return 0;
}

static void test_stop_waits_for_the_car_to_come_down(void **state)
{
	uint64_t t0, t;
	int mark, i;

	(void)state;
	/* A car that takes 4 s to come down to 6 A: the relay is opened at 6 A, not at 32. */
	one_charging_453(true);
	W.fs[0].lag_ms = 4000;
	mark = W.nlog;
	twc_bus_set_cap(W.bus, 0x1111, 0);
	run_until(W.now + 20000);
	t0 = told_at(mark, 0x1111, 0);
	i = find_sent(mark, TWC_MSG_STOP, 0x1111);
	assert_true(i >= 0);
	t = W.log[i].t;
	assert_true(t >= t0 + 4000 && t < t0 + 6000);
	assert_int_equal(twc_bus_stats(W.bus)->stop_cmds, 1);
	teardown_world();

	/* One that does not come down is cut after STOP_SETTLE_MS anyway. */
	one_charging_453(true);
	W.fs[0].lag_ms = 60000;
	mark = W.nlog;
	twc_bus_set_cap(W.bus, 0x1111, 0);
	run_until(W.now + 20000);
	t0 = told_at(mark, 0x1111, 0);
	i = find_sent(mark, TWC_MSG_STOP, 0x1111);
	assert_true(i >= 0);
	t = W.log[i].t;
	assert_true(t >= t0 + 10000 && t < t0 + 11000);
	assert_int_equal(count_sent(mark, TWC_MSG_STOP, 0), 1);
	teardown_world();
}

/* The heartbeats to 1111 over a pause and a resume: (time, command, amps). */
static int heartbeat_trace(bool stop_commands, uint64_t out[][3], int cap)
{
	int n = 0;

	one_charging_453(stop_commands);
	twc_bus_set_cap(W.bus, 0x1111, 0);
	run_until(50000);
	twc_bus_set_cap(W.bus, 0x1111, 20);
	run_until(80000);
	for (int i = 0; i < W.nlog && n < cap; i++)
		if (W.log[i].m.type == TWC_MSG_MASTER_HEARTBEAT) {
			out[n][0] = W.log[i].t;
			out[n][1] = W.log[i].m.u.mhb.cmd;
			out[n][2] = W.log[i].m.u.mhb.ca;
			n++;
		}
	teardown_world();
	return n;
}

static void test_stop_commands_leave_amps_alone(void **state)
{
	static uint64_t off[128][3], on[128][3];
	int n_off, n_on;

	(void)state;
	n_off = heartbeat_trace(false, off, 128);
	n_on = heartbeat_trace(true, on, 128);
	assert_true(n_off >= 70);
	assert_int_equal(n_on, n_off);
	assert_memory_equal(on, off, sizeof(off[0]) * (size_t)n_off);
}

static void test_no_stop_when_not_drawing(void **state)
{
	struct twc_msg m;

	(void)state;
	setup_world(2, 40, 32, 6, 32);
	set_stop_commands(true);
	run_until(3000);
	add_fake(0x1111, 2, VIN_A);
	add_fake(0x2222, 2, VIN_B);
	W.fs[0].car = true;
	W.fs[0].full = true; /* plugged in, takes nothing */
	W.fs[1].car = true;  /* charging, then unplugged before the pause */
	run_until(20000);
	W.fs[1].car = false;
	run_until(30000);
	twc_bus_set_cap(W.bus, 0x1111, 0);
	twc_bus_set_cap(W.bus, 0x2222, 0);
	run_until(70000);
	for (int slot = 0; slot < 2; slot++) {
		assert_true(slave_info(slot).has_firmware);
		assert_int_equal(slave_info(slot).target_amps, 0);
	}
	assert_int_equal(last_cmd_to(0x1111, &m), 0);
	assert_int_equal(m.u.mhb.ca, 0);
	assert_int_equal(count_sent(0, TWC_MSG_STOP, 0), 0);
	assert_int_equal(count_sent(0, TWC_MSG_START, 0), 0);
	assert_int_equal(twc_bus_stats(W.bus)->stop_cmds, 0);
	teardown_world();
}

static void test_no_stop_to_protocol1_or_older_firmware(void **state)
{
	(void)state;
	setup_world(2, 40, 32, 6, 16);
	set_stop_commands(true);
	run_until(3000);
	add_fake(0x1111, 1, VIN_A); /* would answer, but protocol 1 is never asked */
	add_fake(0x2222, 2, NULL);  /* protocol 2 without the 4.5.3 queries */
	for (int k = 0; k < 2; k++) {
		W.fs[k].car = true;
		W.fs[k].stubborn = true;
	}
	run_until(20000);
	twc_bus_set_cap(W.bus, 0x1111, 0);
	twc_bus_set_cap(W.bus, 0x2222, 0);
	run_until(80000);
	for (int slot = 0; slot < 2; slot++) {
		assert_false(slave_info(slot).has_firmware);
		assert_int_equal(slave_info(slot).target_amps, 0);
		assert_true(slave_info(slot).measured_amps >= 1.0); /* still drawing: a stop would apply */
	}
	assert_int_equal(count_sent(0, TWC_MSG_STOP, 0), 0);
	assert_int_equal(twc_bus_stats(W.bus)->stop_cmds, 0);
	teardown_world();
}

static void test_start_owed_after_reload_turns_off(void **state)
{
	(void)state;
	one_charging_453(true);
	twc_bus_set_cap(W.bus, 0x1111, 0);
	run_until(W.now + 10000);
	assert_int_equal(twc_bus_stats(W.bus)->stop_cmds, 1);
	/* Without the B1 the contactor would stay open for the rest of the plug-in. */
	set_stop_commands(false);
	twc_bus_set_cap(W.bus, 0x1111, 32);
	run_until(W.now + 70000);
	assert_int_equal(twc_bus_stats(W.bus)->start_cmds, 1);
	assert_false(W.fs[0].stopped);
	/* And off means off for the next pause. */
	twc_bus_set_cap(W.bus, 0x1111, 0);
	run_until(W.now + 20000);
	assert_int_equal(twc_bus_stats(W.bus)->stop_cmds, 1);
	teardown_world();
}

static void test_heartbeats_keep_spacing_with_stop_start(void **state)
{
	uint64_t prev_hb = 0, prev_any = 0, last_to[3] = {0};
	static const uint16_t ids[3] = {0x1111, 0x2222, 0x3333};

	(void)state;
	setup_world(2, 40, 32, 6, 32);
	set_stop_commands(true);
	run_until(3000);
	add_fake(0x1111, 2, VIN_A);
	add_fake(0x2222, 2, VIN_B);
	add_fake(0x3333, 2, VIN_C);
	for (int k = 0; k < 3; k++)
		W.fs[k].car = true;
	W.nlog = 0;
	run_until(20000);
	/* Pause and resume each slave in turn, overlapping, for two minutes. */
	for (int round = 0; round < 8; round++) {
		uint16_t id = ids[round % 3];

		twc_bus_set_cap(W.bus, id, round & 1 ? 32 : 0);
		twc_bus_set_cap(W.bus, ids[(round + 1) % 3], round & 2 ? 0 : 32);
		run_until(W.now + 13000 + (uint64_t)round * 117);
	}
	for (int k = 0; k < 3; k++)
		twc_bus_set_cap(W.bus, ids[k], 32);
	run_until(W.now + 20000);
	assert_true(twc_bus_stats(W.bus)->stop_cmds >= 3);
	assert_true(twc_bus_stats(W.bus)->start_cmds >= 3);
	/* Every B2 was answered with a B1 once all may charge again. */
	assert_int_equal(twc_bus_stats(W.bus)->start_cmds, twc_bus_stats(W.bus)->stop_cmds);
	for (int k = 0; k < 3; k++)
		assert_false(W.fs[k].stopped);
	for (int i = 0; i < W.nlog; i++) {
		const struct twc_msg *m = &W.log[i].m;

		if (prev_any)
			assert_true(W.log[i].t - prev_any >= 200); /* room for a reply after each frame */
		prev_any = W.log[i].t;
		if (m->type != TWC_MSG_MASTER_HEARTBEAT)
			continue;
		/* New limits go early; start/stop commands never delay a heartbeat. */
		if (prev_hb)
			assert_true(W.log[i].t - prev_hb >= TWC_HEARTBEAT_MIN_SPACING_MS &&
				    W.log[i].t - prev_hb <= TWC_HEARTBEAT_SPACING_MS);
		prev_hb = W.log[i].t;
		int k = m->dst == 0x1111 ? 0 : m->dst == 0x2222 ? 1 : 2;
		if (last_to[k])
			assert_true(W.log[i].t - last_to[k] <= 3500);
		last_to[k] = W.log[i].t;
	}
	assert_true(W.max_held_total <= 40);
	teardown_world();
}


/* ---- a new limit takes the next heartbeat (issue 19) ---- */

static int sent_with(int from, uint16_t dst, int cmd, int ca);
static void two_charging(bool second_car);

/* The heartbeat that first tells @id @ca from log entry @from on: its index, or -1. */
static int tell_index(int from, uint16_t id, int ca)
{
	for (int i = from; i < W.nlog; i++)
		if (W.log[i].m.type == TWC_MSG_MASTER_HEARTBEAT && W.log[i].m.dst == id &&
		    W.log[i].m.u.mhb.cmd == TWC_CMD_SET_V2 && W.log[i].m.u.mhb.ca == ca)
			return i;
	return -1;
}

static uint64_t last_hb_time(void)
{
	for (int i = W.nlog - 1; i >= 0; i--)
		if (W.log[i].m.type == TWC_MSG_MASTER_HEARTBEAT)
			return W.log[i].t;
	fail_msg("no heartbeat yet");
	return 0;
}

/* Three cars sharing 40 A. At every phase of the heartbeat cycle the slave that was just heartbeated
 * (its turn is 3 s away) is lowered: the lowering goes out within one least spacing, with at most one
 * other heartbeat before it, and the others are raised into its room only after it reported. */
static void test_lowering_takes_next_slot(void **state)
{
	static const uint16_t ids[3] = {0x1111, 0x2222, 0x3333};
	int cap[3] = {32, 32, 32};

	(void)state;
	setup_world(2, 40, 32, 6, 32);
	run_until(3000);
	for (int k = 0; k < 3; k++) {
		add_fake(ids[k], 2, NULL);
		W.fs[k].car = true;
	}
	run_until(30000);
	for (uint64_t phase = 0; phase < TWC_HEARTBEAT_SPACING_MS; phase += 37) {
		uint64_t l0 = last_hb_time(), tc;
		int mark, k = -1, lo, others_before = 0;
		struct twc_slave_info info;

		/* The slave heartbeated last, whatever frame came after it. */
		for (int i = W.nlog - 1; i >= 0; i--)
			if (W.log[i].m.type == TWC_MSG_MASTER_HEARTBEAT) {
				k = W.log[i].m.dst == ids[0] ? 0 : W.log[i].m.dst == ids[1] ? 1 : 2;
				break;
			}
		run_until(l0 + phase);
		info = slave_info(k);
		/* Lower it below what it holds, by 2..5 A, never under the minimum; raise it back later. */
		lo = info.offered_amps - 2 - (int)(phase % 4);
		if (lo < 6)
			lo = 6;
		if (lo >= info.offered_amps)
			continue;
		cap[k] = lo;
		mark = W.nlog;
		tc = W.now;
		twc_bus_set_cap(W.bus, ids[k], lo);
		run_until(tc + 2 * TWC_HEARTBEAT_SPACING_MS);
		int at = tell_index(mark, ids[k], lo * 100);

		assert_true(at >= 0);
		assert_true(W.log[at].t - tc <= TWC_HEARTBEAT_MIN_SPACING_MS);
		for (int i = mark; i < at; i++)
			others_before += W.log[i].m.type == TWC_MSG_MASTER_HEARTBEAT;
		assert_true(others_before <= 1);
		/* Nobody else was raised before that lowering was on the wire and answered. */
		for (int i = mark; i < W.nlog; i++) {
			const struct twc_msg *m = &W.log[i].m;

			if (m->type == TWC_MSG_MASTER_HEARTBEAT && m->dst != ids[k] && m->u.mhb.cmd == TWC_CMD_SET_V2)
				assert_true(W.log[i].t > W.log[at].t);
		}
		/* Give it back, so the next round lowers again. */
		cap[k] = 32;
		twc_bus_set_cap(W.bus, ids[k], cap[k]);
		run_until(W.now + 4 * TWC_HEARTBEAT_SPACING_MS + phase);
	}
	assert_true(W.max_fake_held <= 40);
	assert_true(W.max_held_total <= 40);
	teardown_world();
}

static uint32_t lcg(uint32_t *x)
{
	*x = *x * 1664525u + 1013904223u;
	return *x >> 8;
}

/* Caps change every 30 to 400 ms on all three slaves, then on one alone: every slave still hears a
 * heartbeat at least every TWC_HEARTBEAT_DEADLINE_MS, never two heartbeats closer than the least
 * spacing, the wiring holds throughout, and once the storm ends each slave is told its share. */
static void test_storm_of_changes_starves_nobody(void **state)
{
	static const uint16_t ids[3] = {0x1111, 0x2222, 0x3333};
	uint64_t last_to[3] = {0}, prev_hb = 0, max_gap = 0;
	uint32_t x = 12345;
	int early = 0, hbs = 0;

	(void)state;
	setup_world(2, 40, 32, 6, 32);
	run_until(3000);
	for (int k = 0; k < 3; k++) {
		add_fake(ids[k], 2, NULL);
		W.fs[k].car = true;
	}
	run_until(20000);
	W.nlog = 0;
	for (int round = 0; round < 2; round++) {
		uint64_t end = W.now + 300000;

		while (W.now < end) {
			int k = round == 0 ? (int)(lcg(&x) % 3) : 1;

			twc_bus_set_cap(W.bus, ids[k], (int)(lcg(&x) % 33));
			if (lcg(&x) % 8 == 0)
				twc_bus_set_available(W.bus, 12 + (int)(lcg(&x) % 29));
			run_until(W.now + 30 + lcg(&x) % 371);
			/* Read the frames of this step and start the log afresh. */
			for (int i = 0; i < W.nlog; i++) {
				const struct twc_msg *m = &W.log[i].m;

				if (m->type != TWC_MSG_MASTER_HEARTBEAT)
					continue;
				int j = m->dst == ids[0] ? 0 : m->dst == ids[1] ? 1 : 2;

				if (prev_hb) {
					assert_true(W.log[i].t - prev_hb >= TWC_HEARTBEAT_MIN_SPACING_MS);
					early += W.log[i].t - prev_hb < TWC_HEARTBEAT_SPACING_MS;
				}
				if (last_to[j] && W.log[i].t - last_to[j] > max_gap)
					max_gap = W.log[i].t - last_to[j];
				prev_hb = last_to[j] = W.log[i].t;
				hbs++;
			}
			W.nlog = 0;
		}
	}
	assert_true(hbs > 500);
	assert_true(early > 100); /* the changes did go early */
	assert_true(max_gap <= TWC_HEARTBEAT_DEADLINE_MS);
	assert_true(max_gap <= 3500);
	assert_int_equal(twc_bus_slave_count(W.bus), 3);
	assert_true(W.max_fake_held <= 40);
	assert_true(W.max_held_total <= 40);
	/* Calm again: within a few seconds every slave holds its share. */
	twc_bus_set_available(W.bus, 40);
	for (int k = 0; k < 3; k++)
		twc_bus_set_cap(W.bus, ids[k], 10 + 2 * k);
	run_until(W.now + 8000);
	for (int k = 0; k < 3; k++)
		assert_int_equal(W.fs[k].limit_ca, (10 + 2 * k) * 100);
	teardown_world();
}

/* A lowering of one and a raise of the other at the same moment: the lowering goes first, the raise
 * only once the lowered slave answered the heartbeat that carried it; while its answers are lost, the
 * other is not raised into its room at all. */
static void test_raise_waits_for_lowering_confirmed(void **state)
{
	int mark, lower, raise;

	(void)state;
	two_charging(true);
	assert_int_equal(W.fs[0].limit_ca, 1600);
	assert_int_equal(W.fs[1].limit_ca, 1600);
	mark = W.nlog;
	twc_bus_set_cap(W.bus, 0x2222, 26);
	twc_bus_set_cap(W.bus, 0x1111, 6);
	run_until(W.now + 3000);
	lower = tell_index(mark, 0x1111, 600);
	raise = tell_index(mark, 0x2222, 2600);
	assert_true(lower >= 0 && raise >= 0);
	/* The raise went after the lowering's answer (20 ms after it), not before. */
	assert_true(W.log[raise].t >= W.log[lower].t + 20);
	assert_true(W.log[raise].t - W.log[lower].t <= TWC_HEARTBEAT_SPACING_MS);
	assert_int_equal(sent_with(mark, 0x2222, TWC_CMD_SET_V2, -1), 1); /* straight to 26 */
	assert_true(W.max_fake_held <= 32);

	/* Again with the first one's answers lost: no raise while it has not confirmed. */
	twc_bus_set_cap(W.bus, 0x2222, 16);
	twc_bus_set_cap(W.bus, 0x1111, 16);
	run_until(W.now + 8000);
	assert_int_equal(W.fs[0].limit_ca, 1600);
	assert_int_equal(W.fs[1].limit_ca, 1600);
	W.fs[0].mute = true;
	mark = W.nlog;
	twc_bus_set_cap(W.bus, 0x2222, 26);
	twc_bus_set_cap(W.bus, 0x1111, 6);
	run_until(W.now + 10000);
	assert_true(tell_index(mark, 0x1111, 600) >= 0);
	assert_int_equal(W.fs[0].limit_ca, 600);           /* it did hear it ... */
	assert_int_equal(tell_index(mark, 0x2222, 2600), -1); /* ... but nobody knows */
	assert_int_equal(W.fs[1].limit_ca, 1600);
	W.fs[0].mute = false;
	run_until(W.now + 5000);
	assert_int_equal(W.fs[1].limit_ca, 2600);
	assert_true(W.max_fake_held <= 32);
	teardown_world();
}

/* ---- bus truth: what counts as held (issue "bus truth", cases 1-6) ---- */

static int sent_with(int from, uint16_t dst, int cmd, int ca)
{
	int n = 0;

	for (int i = from; i < W.nlog; i++)
		if (W.log[i].m.type == TWC_MSG_MASTER_HEARTBEAT && W.log[i].m.dst == dst && W.log[i].m.u.mhb.cmd == cmd &&
		    (ca < 0 || W.log[i].m.u.mhb.ca == ca))
			n++;
	return n;
}

/* Run until slave @slot has status @st; return how long that took. */
static uint64_t run_until_status(int slot, enum twc_slave_status st, uint64_t limit_ms)
{
	uint64_t t0 = W.now;

	while (slave_info(slot).status != st) {
		assert_true(W.now - t0 < limit_ms);
		run_until(W.now + 100);
	}
	return W.now - t0;
}

/* Two protocol 2 slaves on 32 A wiring, each with a car charging and a cap of 32. */
static void two_charging(bool second_car)
{
	setup_world(2, 32, 32, 6, 0);
	W.cap_on_add = 32;
	run_until(3000);
	add_fake(0x1111, 2, NULL);
	add_fake(0x2222, 2, NULL);
	W.fs[0].car = true;
	W.fs[1].car = second_car;
	run_until(20000);
}

/* Case 1: after a stop the slave is told 0 until it reports the 6 A that means, then 00, so that
 * the ack state 09 ends and an unplug and the next car show within about 15 s. */
static void test_truth_stop_then_unplug_and_next_car(void **state)
{
	struct twc_msg m;
	int mark;
	uint64_t took;

	(void)state;
	setup_world(2, 32, 32, 6, 0);
	run_until(3000);
	add_fake(0x1111, 2, NULL);
	W.fs[0].ack09 = true;
	W.fs[0].car = true;
	twc_bus_set_cap(W.bus, 0x1111, 16);
	run_until(30000);
	assert_int_equal(slave_info(0).status, TWC_SLAVE_CHARGING);

	mark = W.nlog;
	twc_bus_set_cap(W.bus, 0x1111, 0); /* RemoteStop */
	run_until(W.now + 20000);
	assert_int_equal(sent_with(mark, 0x1111, TWC_CMD_SET_V2, 0), 1); /* told once, confirmed */
	assert_int_equal(last_cmd_to(0x1111, &m), 0);
	assert_int_equal(m.u.mhb.cmd, TWC_CMD_NONE);
	assert_int_equal(slave_info(0).held_amps, 6);

	W.fs[0].car = false; /* unplugged */
	took = run_until_status(0, TWC_SLAVE_IDLE, 15000);
	assert_true(took <= 15000);
	mark = W.nlog;
	run_until(W.now + 5000);
	W.fs[0].car = true; /* the next car: it may take the 6 A the slave still holds at once */
	took = 0;
	while (slave_info(0).status == TWC_SLAVE_IDLE) {
		run_until(W.now + 100);
		took += 100;
	}
	assert_true(took <= 15000);
	/* A new car that may not charge yet is told nothing new: 00, no 09 to hide it again. */
	assert_int_equal(sent_with(mark, 0x1111, TWC_CMD_SET_V2, -1), 0);
	twc_bus_set_cap(W.bus, 0x1111, 16); /* the second transaction */
	run_until(W.now + 4000);
	assert_int_equal(W.fs[0].limit_ca, 1600);
	assert_int_equal(slave_info(0).status, TWC_SLAVE_CHARGING);
	assert_true(W.max_fake_held <= 32);
	teardown_world();
}

/* Case 2a: a lowering whose frame could not be written is not told, so the other car waits. */
static void test_truth_unwritten_lowering_not_counted(void **state)
{
	int mark;

	(void)state;
	two_charging(false);
	assert_int_equal(W.fs[0].limit_ca, 3200);
	mark = W.nlog;
	W.fail_id = 0x1111;
	W.fail_count = 4; /* its next four frames are lost to a reconnecting bridge */
	W.fs[1].car = true;
	run_until(W.now + 8000);
	assert_int_equal(W.fs[0].limit_ca, 3200);
	assert_true(twc_bus_stats(W.bus)->tx_errors >= 4);
	assert_int_equal(sent_with(mark, 0x2222, TWC_CMD_SET_V2, 1600), 0); /* B waited */
	assert_int_equal(slave_info(0).held_amps, 32);
	run_until(W.now + 15000);
	assert_int_equal(W.fs[0].limit_ca, 1600);
	assert_int_equal(W.fs[1].limit_ca, 1600);
	assert_true(told_at(mark, 0x2222, 1600) > told_at(mark, 0x1111, 1600));
	assert_true(W.max_fake_held <= 32);
	assert_true(W.max_held_total <= 32);
	teardown_world();
}

/* Case 2b: a lowering written but lost on the wire (the slave deaf for 8 s while a second car
 * arrives) counts only once the slave reports it. */
static void test_truth_lost_lowering_waits_for_report(void **state)
{
	int mark;
	uint64_t back;

	(void)state;
	two_charging(false);
	mark = W.nlog;
	W.fs[0].silent = true; /* hears nothing, says nothing */
	W.fs[1].car = true;
	run_until(W.now + 8000);
	back = W.now;
	W.fs[0].silent = false;
	assert_int_equal(W.fs[0].limit_ca, 3200);
	assert_int_equal(sent_with(mark, 0x2222, TWC_CMD_SET_V2, -1) - sent_with(mark, 0x2222, TWC_CMD_SET_V2, 0), 0);
	run_until(W.now + 15000);
	assert_int_equal(W.fs[1].limit_ca, 1600);
	assert_true(told_at(mark, 0x2222, 1600) > back);
	assert_true(W.max_fake_held <= 32);
	teardown_world();
}

/* Case 3: a slave whose replies are lost keeps its room after it leaves the registry, until it is
 * back or must have stopped (TWC_HOLD_RELEASE_MS after its last heartbeat). */
static void test_truth_silent_slave_keeps_room(void **state)
{
	uint64_t muted;

	(void)state;
	two_charging(true);
	assert_int_equal(W.fs[0].limit_ca, 1600);
	assert_int_equal(W.fs[1].limit_ca, 1600);
	W.fs[1].mute = true;
	muted = W.now;
	run_until(muted + 45000);
	assert_int_equal(W.events[TWC_EV_SLAVE_REMOVED], 1);  /* unavailable to the layers above ... */
	assert_int_equal(twc_bus_slave_count(W.bus), 1);
	assert_int_equal(twc_bus_reserved(W.bus), 16);      /* ... but its 16 A stay reserved */
	assert_int_equal(W.fs[0].limit_ca, 1600);            /* so A is not raised */
	assert_true(W.max_fake_held <= 32);
	/* It comes back: counted as holding 16 A at once, nothing freed in between. */
	W.fs[1].mute = false;
	announce(0x2222, 2, 32);
	assert_int_equal(twc_bus_reserved(W.bus), 0);
	assert_int_equal(slave_info(1).held_amps, 16);
	run_until(W.now + 10000);
	assert_int_equal(W.fs[0].limit_ca, 1600);
	assert_true(W.max_fake_held <= 32);
	assert_true(W.max_held_total <= 32);

	/* Gone for good: released once it must have stopped, then A may have it all. */
	W.fs[1].mute = true;
	W.fs[1].silent = true;
	run_until(W.now + 30000);
	assert_int_equal(twc_bus_reserved(W.bus), 16);
	assert_int_equal(W.fs[0].limit_ca, 1600);
	run_until(W.now + TWC_HOLD_RELEASE_MS);
	assert_int_equal(twc_bus_reserved(W.bus), 0);
	assert_int_equal(W.events[TWC_EV_HOLD_RELEASED], 1);
	assert_int_equal(W.fs[0].limit_ca, 3200);
	assert_true(W.max_fake_held <= 32);
	teardown_world();
}

/* Case 4: after a restart the table from before counts; nobody is raised until the known slaves
 * have reported; a raise is stored before it goes out; a store that fails holds raises back. */
static void test_truth_restart_knows_what_slaves_hold(void **state)
{
	const struct twc_held before[] = {{0x1111, 2, 32}};
	int mark;

	(void)state;
	setup_world(2, 32, 32, 6, 0);
	W.cap_on_add = 32;
	assert_int_equal(twc_bus_restore(W.bus, before, 1, W.now), 0);
	assert_int_equal(twc_bus_held_total(W.bus), 32);
	/* A still charges at 32 A from before the restart. */
	add_fake(0x1111, 2, NULL);
	W.fs[0].told = true;
	W.fs[0].limit_ca = 3200;
	W.fs[0].car = true;
	W.nfs++;
	W.fs[1] = (struct fake_slave){.id = 0x2222, .protocol = 2, .car = true};
	mark = W.nlog;
	announce(0x2222, 2, 32); /* B announces first and wants current */
	run_until(W.now + 250); /* both heard once, A's lowering not yet sent */
	assert_int_equal(twc_bus_held_total(W.bus), 32);
	run_until(W.now + 30000);
	assert_int_equal(W.fs[0].limit_ca, 1600);
	assert_int_equal(W.fs[1].limit_ca, 1600);
	assert_true(told_at(mark, 0x2222, 1600) > told_at(mark, 0x1111, 1600));
	assert_true(W.max_fake_held <= 32);
	/* The table stored says what each holds now. */
	assert_int_equal(W.nsaved, 2);
	assert_int_equal(W.saved[0].amps + W.saved[1].amps, 32);
	teardown_world();

	/* A slave known from before that never comes back keeps its amps until it must have stopped. */
	setup_world(2, 32, 32, 6, 0);
	W.cap_on_add = 32;
	const struct twc_held gone[] = {{0x3333, 2, 20}};
	twc_bus_restore(W.bus, gone, 1, W.now);
	add_fake(0x1111, 2, NULL);
	W.fs[0].car = true;
	run_until(W.now + 30000);
	assert_int_equal(W.fs[0].limit_ca, 1200);
	run_until(1000 + TWC_HOLD_RELEASE_MS + 5000);
	assert_int_equal(W.fs[0].limit_ca, 3200);
	teardown_world();

	/* The store fails: nobody is raised. */
	setup_world(2, 32, 32, 6, 0);
	W.cap_on_add = 32;
	W.persist_fail = true;
	add_fake(0x1111, 2, NULL);
	W.fs[0].car = true;
	run_until(W.now + 20000);
	assert_false(W.fs[0].told);
	assert_true(twc_bus_stats(W.bus)->persist_errors > 0);
	W.persist_fail = false;
	run_until(W.now + 10000);
	assert_int_equal(W.fs[0].limit_ca, 3200);
	teardown_world();
}

/* Case 4b: after the link comes back nobody is raised until every slave has reported again. */
static void test_truth_reconnect_settles(void **state)
{
	int mark;

	(void)state;
	two_charging(false);
	W.fs[1].silent = true;
	twc_bus_link_up(W.bus, W.now);
	mark = W.nlog;
	W.fs[1].car = true;
	run_until(W.now + 10000);
	/* B has not reported since the link came up: A keeps 32 ... no, A is not raised, B gets nothing. */
	assert_int_equal(sent_with(mark, 0x2222, TWC_CMD_SET_V2, -1) - sent_with(mark, 0x2222, TWC_CMD_SET_V2, 0), 0);
	W.fs[1].silent = false;
	run_until(W.now + 15000);
	assert_int_equal(W.fs[1].limit_ca, 1600);
	assert_true(W.max_fake_held <= 32);
	teardown_world();
}

/* Case 5: a reload below what the slaves can be brought down to is refused, naming the figure. */
static void test_truth_reload_below_floors_refused(void **state)
{
	struct twc_bus_config cfg;
	struct twc_need need;

	(void)state;
	setup_world(2, 40, 32, 6, 0);
	W.cap_on_add = 32;
	run_until(3000);
	add_fake(0x1111, 2, NULL);
	add_fake(0x2222, 2, NULL);
	add_fake(0x3333, 2, NULL);
	for (int i = 0; i < 3; i++)
		W.fs[i].car = true;
	run_until(30000);
	cfg = W.cfg;
	cfg.limits.wiring_max_all = 12;
	cfg.limits.wiring_max_per_twc = 12;
	assert_int_equal(twc_bus_set_config(W.bus, &cfg), -ERANGE);
	twc_bus_need(W.bus, &need);
	assert_int_equal(need.all, 18);
	assert_int_equal(need.per_twc, 6);
	assert_int_equal(need.floored, 3);
	run_until(W.now + 10000);
	assert_int_equal(twc_bus_held_total(W.bus), 40); /* the running limits stay */
	assert_true(W.fs[0].limit_ca >= 1300 && W.fs[1].limit_ca >= 1300 && W.fs[2].limit_ca >= 1300);
	cfg.limits.wiring_max_all = 18;
	cfg.limits.wiring_max_per_twc = 5;
	cfg.limits.min_amps = 5;
	assert_int_equal(twc_bus_set_config(W.bus, &cfg), -ERANGE);
	cfg.limits.wiring_max_per_twc = 6;
	cfg.limits.min_amps = 6;
	assert_int_equal(twc_bus_set_config(W.bus, &cfg), 0);
	run_until(W.now + 20000);
	assert_int_equal(twc_bus_held_total(W.bus), 18);
	teardown_world();
}

/* Case 6: the room a lowering frees is handed out only once the car has come down to it. */
static void test_truth_freed_current_waits_for_the_car(void **state)
{
	int mark;

	(void)state;
	two_charging(false);
	W.fs[0].lag_ms = 6000; /* the car takes 6 s to follow a lower limit */
	mark = W.nlog;
	W.fs[1].car = true;
	run_until(W.now + 20000);
	assert_int_equal(W.fs[1].limit_ca, 1600);
	assert_true(told_at(mark, 0x2222, 1600) >= told_at(mark, 0x1111, 1600) + 6000);
	assert_true(W.max_fake_drawn_ca <= 3200);
	teardown_world();
}

/* Case 2c: a slave with no car reports limit 00 00 whatever it holds, so that report proves nothing.
 * A protocol 1 slave's car leaves and the lowering to 0 that frees its room is lost: its 16 A still
 * count until it answers a heartbeat that carried the 0 (found by fuzz_twc_bus). */
static void test_truth_idle_report_proves_no_lowering(void **state)
{
	uint64_t deaf_from;
	int mark;

	(void)state;
	setup_world(2, 32, 32, 6, 0);
	W.cap_on_add = 32;
	run_until(3000);
	add_fake(0x1111, 1, NULL);
	add_fake(0x2222, 2, NULL);
	W.fs[0].car = true;
	W.fs[1].car = true;
	run_until(20000);
	assert_int_equal(W.fs[0].limit_ca, 1600);
	assert_int_equal(W.fs[1].limit_ca, 1600);

	W.fs[0].car = false; /* unplugged: from now on it reports 00 00 */
	run_until_status(0, TWC_SLAVE_IDLE, 5000);
	mark = W.nlog;
	W.fs[0].silent = true; /* the 05 00 00 that follows is lost */
	deaf_from = W.now;
	run_until(W.now + 2500); /* two slaves: a heartbeat each every 2 s */
	assert_true(sent_with(mark, 0x1111, TWC_CMD_SET_V1, 0) >= 1);
	W.fs[0].silent = false;
	run_until(W.now + 1);
	/* It answers the heartbeat it hears next; until then B is not raised. */
	assert_int_equal(W.fs[1].limit_ca, 1600);
	assert_int_equal(slave_info(0).held_amps, 16);
	run_until(W.now + 15000);
	assert_int_equal(W.fs[0].limit_ca, 0);
	assert_int_equal(W.fs[1].limit_ca, 3200);
	assert_true(told_at(mark, 0x2222, 3200) > deaf_from + 2500);
	assert_true(W.max_fake_held <= 32);
	assert_true(W.max_held_total <= 32);
	teardown_world();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_startup_burst),
		cmocka_unit_test(test_discovery_protocol_and_fourth_rejected),
		cmocka_unit_test(test_heartbeat_spacing_round_robin),
		cmocka_unit_test(test_silent_slave_forgotten_after_26s),
		cmocka_unit_test(test_echo_dropped_and_counted),
		cmocka_unit_test(test_collision_repeats_burst),
		cmocka_unit_test(test_other_master_reported),
		cmocka_unit_test(test_new_car_waits_without_cap),
		cmocka_unit_test(test_protocol1_gets_05),
		cmocka_unit_test(test_sharing_and_invariant),
		cmocka_unit_test(test_queries_never_delay_heartbeats),
		cmocka_unit_test(test_unanswered_queries_back_off),
		cmocka_unit_test(test_link_up_spares_slaves),
		cmocka_unit_test(test_linkready_waits_for_incoming_frame),
		cmocka_unit_test(test_heartbeat_not_held_by_a_stuck_frame),
		cmocka_unit_test(test_garbage_counted_not_fatal),
		cmocka_unit_test(test_bad_config_refused),
		cmocka_unit_test(test_stop_commands_off_by_default),
		cmocka_unit_test(test_stop_once_per_pause_then_start_once),
		cmocka_unit_test(test_stop_commands_leave_amps_alone),
		cmocka_unit_test(test_stop_waits_for_the_car_to_come_down),
		cmocka_unit_test(test_no_stop_when_not_drawing),
		cmocka_unit_test(test_no_stop_to_protocol1_or_older_firmware),
		cmocka_unit_test(test_start_owed_after_reload_turns_off),
		cmocka_unit_test(test_heartbeats_keep_spacing_with_stop_start),
		cmocka_unit_test(test_lowering_takes_next_slot),
		cmocka_unit_test(test_storm_of_changes_starves_nobody),
		cmocka_unit_test(test_raise_waits_for_lowering_confirmed),
		cmocka_unit_test(test_truth_stop_then_unplug_and_next_car),
		cmocka_unit_test(test_truth_unwritten_lowering_not_counted),
		cmocka_unit_test(test_truth_lost_lowering_waits_for_report),
		cmocka_unit_test(test_truth_idle_report_proves_no_lowering),
		cmocka_unit_test(test_truth_silent_slave_keeps_room),
		cmocka_unit_test(test_truth_restart_knows_what_slaves_hold),
		cmocka_unit_test(test_truth_reconnect_settles),
		cmocka_unit_test(test_truth_reload_below_floors_refused),
		cmocka_unit_test(test_truth_freed_current_waits_for_the_car),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
