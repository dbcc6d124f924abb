/*
 * Tests of the bus master state machine in injected time: the linkready burst, discovery and
 * protocol detection, heartbeat spacing and round-robin, the 26 s timeout, echo and collision
 * handling, commands 00/05/09, the wiring invariant while limits change, and queries that fit
 * between heartbeats. A small scripted responder plays the slaves; every frame the bus writes is
 * decoded and checked.
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
};

struct fake_slave {
	uint16_t id;
	uint8_t protocol;
	bool silent;
	bool car;          /* plugged in */
	int limit_ca;      /* what it has been told, in force */
	bool told;
	const char *vin;   /* NULL: no fw 4.5.3 answers */
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
	int max_in_force_total;
	bool echo;
	int cap_on_add;
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
	if (w->nlog < MAX_LOG) {
		w->log[w->nlog].t = w->now;
		w->log[w->nlog].m = m;
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
			if (m.u.mhb.cmd == TWC_CMD_SET_V1 || m.u.mhb.cmd == TWC_CMD_SET_V2) {
				f->limit_ca = m.u.mhb.ca;
				f->told = true;
				if (f->protocol == 2 && f->limit_ca < 600)
					f->limit_ca = 600;
			}
			r.type = TWC_MSG_SLAVE_HEARTBEAT;
			r.dst = m.src;
			r.u.shb.state = !f->car ? TWC_ST_READY : f->limit_ca >= 500 ? TWC_ST_CHARGING : TWC_ST_PLUGGED_READY;
			r.u.shb.limit_ca = (uint16_t)(f->car ? f->limit_ca : 0);
			r.u.shb.measured_ca = (uint16_t)(f->car && f->limit_ca >= 500 ? f->limit_ca - 30 : 0);
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
		if (w->npending < 16) {
			int n = twc_msg_to_wire(&r, w->pending[w->npending], TWC_WIRE_MAX);

			assert_true(n > 0);
			w->pending_len[w->npending] = (size_t)n;
			w->pending_t[w->npending++] = w->now + 20;
		}
	}
	return 0;
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
	struct twc_bus_env env = {&W, on_write, on_event};

	(void)proto_unused;
	memset(&W, 0, sizeof(W));
	cfg.master_id = 0x7777;
	cfg.master_sign = 0x77;
	cfg.limits.wiring_max_all = all;
	cfg.limits.wiring_max_per_twc = per;
	cfg.limits.min_amps = min;
	cfg.default_cap_amps = default_cap;
	cfg.query_meter = true;
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
		int tot = twc_bus_in_force_total(W.bus);
		if (tot > W.max_in_force_total)
			W.max_in_force_total = tot;
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
		if (prev_hb)
			assert_true(W.log[i].t - prev_hb >= TWC_HEARTBEAT_SPACING_MS);
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
	assert_int_equal(twc_bus_set_cap(W.bus, 0x1111, 16), 0);
	assert_int_equal(twc_bus_set_cap(W.bus, 0x9999, 16), -ENOENT);
	run_until(W.now + 1100);
	assert_int_equal(last_cmd_to(0x1111, &m), 0);
	assert_int_equal(m.u.mhb.cmd, TWC_CMD_SET_V2);
	assert_int_equal(m.u.mhb.ca, 1600);
	/* Once the slave reports 16 A the master goes back to 00, as a real master does. */
	run_until(W.now + 1100);
	assert_int_equal(last_cmd_to(0x1111, &m), 0);
	assert_int_equal(m.u.mhb.cmd, TWC_CMD_NONE);
	/* Cap to 0: protocol 2 gets an explicit 09 00 00, repeated. */
	twc_bus_set_cap(W.bus, 0x1111, 0);
	run_until(W.now + 2200);
	assert_int_equal(last_cmd_to(0x1111, &m), 0);
	assert_int_equal(m.u.mhb.cmd, TWC_CMD_SET_V2);
	assert_int_equal(m.u.mhb.ca, 0);
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
	assert_true(twc_bus_in_force_total(W.bus) <= 20);
	/* A lower wiring limit by reload. */
	struct twc_bus_config cfg = {0x7777, 0x77, {24, 16, 6}, 32, true};
	assert_int_equal(twc_bus_set_config(W.bus, &cfg), 0);
	twc_bus_set_available(W.bus, 100);
	run_until(90000);
	assert_true(twc_bus_in_force_total(W.bus) <= 24);
	assert_true(W.max_in_force_total <= 40);
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
			if (prev_hb)
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
	struct twc_bus_config cfg = {0x7777, 0x77, {40, 48, 6}, 0, false};
	struct twc_bus_env env = {&W, on_write, NULL};

	(void)state;
	assert_null(twc_bus_new(&cfg, &env, 0)); /* per TWC above all */
	cfg.limits.wiring_max_per_twc = 32;
	cfg.master_id = 0;
	assert_null(twc_bus_new(&cfg, &env, 0));
	cfg.master_id = 0x7777;
	env.write = NULL;
	assert_null(twc_bus_new(&cfg, &env, 0));
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
		cmocka_unit_test(test_garbage_counted_not_fatal),
		cmocka_unit_test(test_bad_config_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
