/*
 * Tests of the TWC slave simulator's bus model with injected time: the wire time of every frame at
 * 9600 bps, the reply latency (default jitter and the delay fault), bytes reaching the master one by
 * one, and half-duplex collisions, where a master frame that overlaps a slave's transmission is heard
 * by nobody and the slave's frame reaches the master garbled. Every byte the simulator writes goes
 * through the project's strict receiver, as a master's would.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "twc_frame.h"
#include "twc_msg.h"
#include "twc_sim.h"

#define MAX_FRAMES 1024
#define MASTER 0x7777
/* A protocol 2 heartbeat without escapes: C0, 16 body bytes, C0. */
#define HB_WIRE_BYTES 18u
/* A protocol 2 slave heartbeat as a TWC sends it: C0, 16 body bytes, C0, junk byte. */
#define SHB_WIRE_BYTES 19u

struct frame {
	uint8_t body[TWC_BODY_MAX];
	size_t len;
	uint64_t t;        /* when its closing C0 was written */
	uint64_t first_t;  /* when the write that opened it came */
};

struct rec {
	uint64_t now;
	struct twc_rx rx;
	struct frame f[MAX_FRAMES];
	size_t n;
	int writes;
	size_t bytes;
	uint64_t open_t;   /* time of the last write that found the receiver outside a frame */
};

static struct rec R;

static void rec_frame(void *user, const uint8_t *body, size_t len)
{
	struct rec *r = user;

	if (r->n < MAX_FRAMES) {
		memcpy(r->f[r->n].body, body, len);
		r->f[r->n].len = len;
		r->f[r->n].t = r->now;
		r->f[r->n].first_t = r->open_t;
		r->n++;
	}
}

static int rec_write(void *user, const uint8_t *bytes, size_t len)
{
	struct rec *r = user;

	r->writes++;
	r->bytes += len;
	if (!r->rx.in_frame)
		r->open_t = r->now;
	twc_rx_feed(&r->rx, bytes, len, r->now, rec_frame, r);
	return 0;
}

static const struct twc_sim_env env = {.user = &R, .write = rec_write};

/* A realistic bus (no ideal_bus): what every test here is about. */
static struct twc_sim_config config(int slaves, int lat_min, int lat_max, uint32_t seed)
{
	struct twc_sim_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.slaves = slaves;
	cfg.seed = seed;
	cfg.voltage = 230;
	cfg.phases = 1;
	cfg.latency_min_ms = lat_min;
	cfg.latency_max_ms = lat_max;
	for (int i = 0; i < slaves; i++) {
		cfg.slave[i].id = (uint16_t)(0x1111 * (i + 1));
		cfg.slave[i].sign = (uint8_t)(0x11 * (i + 1));
		cfg.slave[i].protocol = 2;
		cfg.slave[i].rated_amps = 32;
		cfg.slave[i].fw453 = true;
	}
	return cfg;
}

static struct twc_sim *sim_make(const struct twc_sim_config *cfg, uint64_t t0)
{
	struct twc_sim *sim;

	memset(&R, 0, sizeof(R));
	twc_rx_init(&R.rx, TWC_RX_STRICT);
	R.now = t0;
	sim = twc_sim_new(cfg, &env, t0);
	assert_non_null(sim);
	return sim;
}

/* Every deadline up to @t, each one making progress, as a poll loop would. */
static void run_until(struct twc_sim *sim, uint64_t t)
{
	for (;;) {
		uint64_t d = twc_sim_next_deadline(sim);

		if (d > t)
			break;
		R.now = d;
		twc_sim_tick(sim, d);
		assert_true(twc_sim_next_deadline(sim) > d);
	}
	R.now = t;
	twc_sim_tick(sim, t);
}

/* A protocol 2 master heartbeat to @dst put on the bus at @t; returns its length on the wire. */
static int hb_input(struct twc_sim *sim, uint16_t dst, uint8_t cmd, int amps, uint64_t t)
{
	struct twc_msg m;
	uint8_t wire[TWC_WIRE_MAX];
	int n;

	memset(&m, 0, sizeof(m));
	m.type = TWC_MSG_MASTER_HEARTBEAT;
	m.protocol = 2;
	m.src = MASTER;
	m.dst = dst;
	m.u.mhb.cmd = cmd;
	m.u.mhb.ca = (uint16_t)(amps * 100);
	n = twc_msg_to_wire(&m, wire, sizeof(wire));
	assert_true(n > 0);
	twc_sim_input(sim, wire, (size_t)n, t);
	return n;
}

static void send_hb(struct twc_sim *sim, uint16_t dst, uint8_t cmd, int amps, uint64_t t)
{
	run_until(sim, t);
	assert_int_equal(hb_input(sim, dst, cmd, amps, t), (int)HB_WIRE_BYTES);
}

static size_t count_from(size_t from, uint16_t src)
{
	size_t n = 0;

	for (size_t i = from; i < R.n; i++)
		if (R.f[i].body[0] == 0xFD && R.f[i].body[1] == 0xE0 && (R.f[i].body[2] << 8 | R.f[i].body[3]) == src)
			n++;
	return n;
}

static struct twc_sim_stats stats(const struct twc_sim *sim)
{
	struct twc_sim_stats st;

	twc_sim_stats(sim, &st);
	return st;
}

static struct twc_sim_slave_status status(const struct twc_sim *sim, int i)
{
	struct twc_sim_slave_status st;

	assert_int_equal(twc_sim_slave_status(sim, i, &st), 0);
	return st;
}

/* What a master's receiver threw away or will: frames that failed, bytes beyond the one junk byte
 * after each good frame (a reply whose opening C0 was garbled reaches it as bytes outside any frame),
 * and a frame still open. */
static uint32_t rx_dropped(void)
{
	const struct twc_rx_stats *s = &R.rx.stats;
	uint32_t junk = s->junk_bytes > s->frames ? s->junk_bytes - s->frames : 0;

	/* A frame left open (its end garbled) is dropped at the next C0 or after 2 s. */
	return s->bad_checksum + s->bad_length + s->bad_escape + s->overflow + s->resyncs + s->timeouts + junk +
	       (twc_rx_busy(&R.rx) ? 1u : 0u);
}

/* ms from a heartbeat written at @sent to the master having the whole reply, for a latency of
 * @lat_us: the request's wire time, the latency, the reply's frame (without its junk byte). */
static uint64_t reply_done_ms(uint64_t sent, uint64_t lat_us)
{
	uint64_t us = sent * 1000 + HB_WIRE_BYTES * TWC_SIM_BYTE_US + lat_us + (SHB_WIRE_BYTES - 1) * TWC_SIM_BYTE_US;

	return (us + 999) / 1000;
}

/* Default latency: a reply never comes at once, always within 5..40 ms of the request's end on the
 * wire, different from reply to reply, and the same run for the same seed. */
static void run_latencies(uint32_t seed, uint64_t *out, int n)
{
	struct twc_sim_config cfg = config(1, 0, 0, seed);
	struct twc_sim *sim = sim_make(&cfg, 0);

	for (int k = 0; k < n; k++) {
		uint64_t t = 1000 + (uint64_t)k * 1000;
		size_t mark;

		run_until(sim, t);
		mark = R.n;
		send_hb(sim, 0x1111, TWC_CMD_NONE, 0, t);
		assert_int_equal(R.n, mark); /* nothing inside twc_sim_input() */
		run_until(sim, t + 500);
		assert_int_equal(count_from(mark, 0x1111), 1);
		out[k] = R.f[R.n - 1].t - t;
	}
	assert_int_equal(stats(sim).collisions, 0);
	twc_sim_free(sim);
}

static void test_default_latency(void **state)
{
	uint64_t a[40], b[40], c[40];
	uint64_t lo = reply_done_ms(0, TWC_SIM_LATENCY_MIN_MS * 1000u);
	uint64_t hi = reply_done_ms(0, TWC_SIM_LATENCY_MAX_MS * 1000u);
	uint64_t min = UINT64_MAX, max = 0;
	bool differ = false;

	(void)state;
	run_latencies(7, a, 40);
	run_latencies(7, b, 40);
	run_latencies(8, c, 40);
	for (int k = 0; k < 40; k++) {
		assert_true(a[k] >= lo && a[k] <= hi);
		assert_int_equal(a[k], b[k]);
		if (a[k] != c[k])
			differ = true;
		min = a[k] < min ? a[k] : min;
		max = a[k] > max ? a[k] : max;
	}
	assert_true(differ);
	/* jitter over most of the range, not one fixed value */
	assert_true(max - min >= 20);
}

/* The reply's bytes reach the master one by one at their wire times, so a master sees a frame
 * coming in (and can hold its own) for the ~18 ms it takes. */
static void test_reply_bytes_at_wire_speed(void **state)
{
	struct twc_sim_config cfg = config(1, 10, 10, 1);
	struct twc_sim *sim = sim_make(&cfg, 0);
	uint64_t start_us = 1000 * 1000 + HB_WIRE_BYTES * TWC_SIM_BYTE_US + 10000;
	int writes;

	(void)state;
	run_until(sim, 999);
	R.n = 0;
	writes = R.writes;
	send_hb(sim, 0x1111, TWC_CMD_NONE, 0, 1000);
	/* heard when its last byte is off the wire (18.8 ms), not before */
	run_until(sim, 1018);
	assert_int_equal(status(sim, 0).heartbeats, 0);
	run_until(sim, 1019);
	assert_int_equal(status(sim, 0).heartbeats, 1);
	/* half way through the reply the master holds a partial frame */
	run_until(sim, (start_us + 9 * TWC_SIM_BYTE_US) / 1000 + 1);
	assert_true(twc_rx_busy(&R.rx));
	assert_int_equal(R.n, 0);
	run_until(sim, 1200);
	assert_int_equal(R.n, 1);
	assert_int_equal(R.writes - writes, (int)SHB_WIRE_BYTES); /* one byte per wire time */
	assert_int_equal(R.f[0].t, reply_done_ms(1000, 10000));
	assert_int_equal(R.f[0].first_t, (start_us + TWC_SIM_BYTE_US + 999) / 1000);
	assert_false(twc_rx_busy(&R.rx));
	twc_sim_free(sim);
}

/* fault delay: every reply starts exactly MS after its request, per slave or all; 0 ends it. */
static void test_delay_fault(void **state)
{
	struct twc_sim_config cfg = config(3, 0, 0, 3);
	struct twc_sim *sim = sim_make(&cfg, 0);
	size_t mark;

	(void)state;
	assert_int_equal(twc_sim_fault(sim, -1, TWC_SIM_FAULT_DELAY, 150), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(status(sim, i).delay_ms, 150);
	for (int i = 0; i < 3; i++) {
		uint64_t t = 1000 + (uint64_t)i * 1000;

		mark = R.n;
		send_hb(sim, (uint16_t)(0x1111 * (i + 1)), TWC_CMD_NONE, 0, t);
		run_until(sim, reply_done_ms(t, 150000) - 1);
		assert_int_equal(count_from(mark, (uint16_t)(0x1111 * (i + 1))), 0);
		run_until(sim, reply_done_ms(t, 150000));
		assert_int_equal(count_from(mark, (uint16_t)(0x1111 * (i + 1))), 1);
	}
	/* one slave slow, the others back to the default */
	assert_int_equal(twc_sim_fault(sim, -1, TWC_SIM_FAULT_DELAY, 0), 0);
	assert_int_equal(twc_sim_fault(sim, 1, TWC_SIM_FAULT_DELAY, 400), 0);
	assert_int_equal(status(sim, 0).delay_ms, 0);
	assert_int_equal(status(sim, 1).delay_ms, 400);
	mark = R.n;
	send_hb(sim, 0x1111, TWC_CMD_NONE, 0, 5000);
	run_until(sim, reply_done_ms(5000, TWC_SIM_LATENCY_MAX_MS * 1000u));
	assert_int_equal(count_from(mark, 0x1111), 1);
	mark = R.n;
	send_hb(sim, 0x2222, TWC_CMD_NONE, 0, 6000);
	run_until(sim, reply_done_ms(6000, 400000) - 1);
	assert_int_equal(count_from(mark, 0x2222), 0);
	run_until(sim, reply_done_ms(6000, 400000));
	assert_int_equal(count_from(mark, 0x2222), 1);
	assert_int_equal(stats(sim).collisions, 0);
	/* bad values */
	assert_int_equal(twc_sim_fault(sim, 0, TWC_SIM_FAULT_DELAY, -1), -EINVAL);
	assert_int_equal(twc_sim_fault(sim, 0, TWC_SIM_FAULT_DELAY, TWC_SIM_LATENCY_LIMIT_MS + 1), -EINVAL);
	assert_int_equal(twc_sim_fault(sim, 3, TWC_SIM_FAULT_DELAY, 100), -EINVAL);
	twc_sim_free(sim);
}

/* Half duplex: the master writes its next frame 5 ms after a heartbeat. It leaves the UART behind
 * the heartbeat and is on the wire while the slave answers: the slave to which it goes never hears
 * it, and the reply reaches the master garbled, so a strict receiver drops (and counts) it. */
static void test_collision_5ms_after_heartbeat(void **state)
{
	/* 10 ms: the reply starts 28.8 ms after the heartbeat went out, the second frame is on the wire
	 * from 18.8 to 37.5 ms (queued behind the first). */
	struct twc_sim_config cfg = config(3, 10, 10, 1);
	struct twc_sim *sim = sim_make(&cfg, 0);
	struct twc_sim_stats st;

	(void)state;
	run_until(sim, 999);
	R.n = 0;
	send_hb(sim, 0x1111, TWC_CMD_NONE, 0, 1000);
	send_hb(sim, 0x2222, TWC_CMD_NONE, 0, 1005);
	run_until(sim, 2000);
	st = stats(sim);
	assert_int_equal(st.collisions, 1);
	assert_int_equal(st.master_lost, 1);
	assert_int_equal(st.slave_garbled, 1);
	assert_int_equal(status(sim, 0).heartbeats, 1); /* the first one was heard */
	assert_int_equal(status(sim, 0).garbled, 1);
	assert_int_equal(status(sim, 1).heartbeats, 0); /* the second one was not */
	assert_int_equal(count_from(0, 0x1111), 0);
	assert_int_equal(count_from(0, 0x2222), 0);
	assert_true(rx_dropped() > 0);
	twc_sim_free(sim);
}

/* The same with the reply already on the wire: the master starts 5 ms into it. */
static void test_collision_during_reply(void **state)
{
	struct twc_sim_config cfg = config(3, 10, 10, 1);
	struct twc_sim *sim = sim_make(&cfg, 0);
	uint64_t reply_start_us = 1000 * 1000 + HB_WIRE_BYTES * TWC_SIM_BYTE_US + 10000;
	uint64_t t = (reply_start_us + 5000) / 1000;

	(void)state;
	run_until(sim, 999);
	R.n = 0;
	send_hb(sim, 0x1111, TWC_CMD_NONE, 0, 1000);
	run_until(sim, t);
	assert_true(twc_rx_busy(&R.rx)); /* the reply is coming in */
	send_hb(sim, 0x2222, TWC_CMD_NONE, 0, t);
	run_until(sim, 2000);
	assert_int_equal(stats(sim).collisions, 1);
	assert_int_equal(status(sim, 1).heartbeats, 0);
	assert_int_equal(count_from(0, 0x1111), 0);
	assert_int_equal(count_from(0, 0x2222), 0);
	assert_true(rx_dropped() > 0);

	/* After the reply has ended the bus is free: both are answered. (Not before the master's
	 * receiver has dropped the garbled reply, whose closing C0 was lost, 2 s after its last byte:
	 * until then the next C0 would close that one rather than open a new frame.) */
	send_hb(sim, 0x1111, TWC_CMD_NONE, 0, 3100);
	run_until(sim, reply_done_ms(3100, 10000) + 1);
	send_hb(sim, 0x2222, TWC_CMD_NONE, 0, R.now);
	run_until(sim, 4000);
	assert_int_equal(stats(sim).collisions, 1);
	assert_int_equal(count_from(0, 0x1111), 1);
	assert_int_equal(count_from(0, 0x2222), 1);
	/* reset-stats forgets them */
	twc_sim_reset_stats(sim, 4000);
	assert_int_equal(stats(sim).collisions, 0);
	assert_int_equal(stats(sim).master_lost, 0);
	assert_int_equal(stats(sim).slave_garbled, 0);
	assert_int_equal(status(sim, 0).garbled, 0);
	twc_sim_free(sim);
}

/* Wherever the master's frame lands on a reply, the master never gets a frame that verifies from
 * the overlapped part: the reply verifies exactly when only the junk byte after it was hit. */
static void test_collision_offsets(void **state)
{
	(void)state;
	for (uint32_t seed = 1; seed <= 3; seed++) {
		for (int off = -20; off <= 22; off++) {
			struct twc_sim_config cfg = config(2, 10, 10, seed);
			struct twc_sim *sim = sim_make(&cfg, 0);
			uint64_t start_ms = (1000 * 1000 + HB_WIRE_BYTES * TWC_SIM_BYTE_US + 10000) / 1000;
			struct twc_sim_stats st;

			assert_int_equal(twc_sim_fault(sim, -1, TWC_SIM_FAULT_NOISE, 1), 0);
			run_until(sim, 999);
			R.n = 0;
			send_hb(sim, 0x1111, TWC_CMD_NONE, 0, 1000);
			send_hb(sim, 0x2222, TWC_CMD_NONE, 0, (uint64_t)((int64_t)start_ms + off));
			run_until(sim, 2000);
			st = stats(sim);
			if (st.slave_garbled)
				assert_int_equal(count_from(0, 0x1111), 0);
			else
				assert_int_equal(count_from(0, 0x1111), 1);
			assert_int_equal(st.master_lost, st.collisions ? 1 : 0);
			assert_int_equal(status(sim, 1).heartbeats, st.collisions ? 0 : 1);
			/* it overlaps for offsets inside the reply, noise included */
			if (off >= -10 && off <= 10)
				assert_int_equal(st.collisions, 1);
			twc_sim_free(sim);
		}
	}
}

/* A slave that announces itself while the master talks garbles the master's frame too: a slave does
 * not listen before it talks. */
static void test_collision_with_linkready(void **state)
{
	struct twc_sim_config cfg = config(2, 0, 0, 1);
	struct twc_sim *sim = sim_make(&cfg, 1000);

	(void)state;
	/* slave 0's first linkready goes at 1200; the heartbeat to slave 1 is on the wire 1195-1214 */
	send_hb(sim, 0x2222, TWC_CMD_NONE, 0, 1195);
	run_until(sim, 1500);
	assert_int_equal(stats(sim).collisions, 1);
	assert_int_equal(stats(sim).master_lost, 1);
	assert_int_equal(status(sim, 1).heartbeats, 0);
	for (size_t i = 0; i < R.n; i++)
		assert_false(R.f[i].body[0] == 0xFD && R.f[i].body[1] == 0xE2 && R.f[i].body[2] == 0x11);
	twc_sim_free(sim);
}

/*
 * A master's cadence on three slaves, for @seconds: a heartbeat every @spacing ms round robin, and a
 * second frame (a heartbeat carrying a changed limit, or a query) @follow ms after each one. Returns
 * the collisions.
 */
static uint32_t cadence(int delay_ms, uint64_t spacing, uint64_t follow, int seconds)
{
	struct twc_sim_config cfg = config(3, 0, 0, 5);
	struct twc_sim *sim = sim_make(&cfg, 0);
	uint32_t c;
	int k = 0;

	for (int i = 0; i < 3; i++)
		assert_int_equal(twc_sim_plug(sim, i, 32, NULL, 0), 0);
	if (delay_ms)
		assert_int_equal(twc_sim_fault(sim, -1, TWC_SIM_FAULT_DELAY, delay_ms), 0);
	for (uint64_t t = 1000; t < (uint64_t)seconds * 1000; t += spacing) {
		send_hb(sim, (uint16_t)(0x1111 * (k % 3 + 1)), TWC_CMD_SET_V2, 10 + k % 3, t);
		k++;
		if (follow) {
			send_hb(sim, (uint16_t)(0x1111 * (k % 3 + 1)), TWC_CMD_SET_V2, 10 + k % 3, t + follow);
			k++;
		}
	}
	run_until(sim, (uint64_t)seconds * 1000 + 1000);
	c = stats(sim).collisions;
	if (c == 0) {
		for (int i = 0; i < 3; i++)
			assert_int_equal(status(sim, i).max_gap_ms <= 3 * spacing, true);
		assert_int_equal(stats(sim).master_lost, 0);
	}
	twc_sim_free(sim);
	return c;
}

/* The timings the reference describes do not collide with replies within 100 ms (TWCManager's 1 s,
 * a frame 250 ms or 300 ms after a heartbeat), nor with 150 ms-delayed ones; a follow-up inside the
 * delayed reply does. A reply D ms late is on the wire from 18.8 + D to 38.5 + D ms after its
 * heartbeat went out, so a frame F ms after the heartbeat (on the wire F to F + 18.8) meets it for
 * D in (F - 38.5, F): 150 ms meets a frame at 175 ms; a 300 ms slot meets D in (262, 300), a query
 * 250 ms after a frame D in (212, 250). */
static void test_cadences(void **state)
{
	(void)state;
	assert_int_equal(cadence(0, 1000, 0, 30), 0);
	assert_int_equal(cadence(0, 1000, 250, 30), 0);
	assert_int_equal(cadence(0, 1000, 300, 30), 0);
	assert_int_equal(cadence(150, 1000, 300, 30), 0);
	assert_int_equal(cadence(150, 1000, 250, 30), 0);
	assert_true(cadence(150, 1000, 175, 30) > 0);
	assert_true(cadence(280, 1000, 300, 30) > 0);
	assert_true(cadence(230, 1000, 250, 30) > 0);
}

/* Ticked seldom (every 20 ms, as a test pump might), the bus decides the same as ticked at every
 * deadline: a master frame is heard at the end of its wire time, not at the tick after it. */
static void test_coarse_ticks_same_result(void **state)
{
	struct twc_sim_config cfg = config(3, 0, 0, 9);
	struct twc_sim *sim;
	struct twc_sim_stats fine, coarse;

	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		sim = sim_make(&cfg, 0);
		for (uint64_t t = 100; t < 20000; t += 20) {
			if (pass == 0)
				run_until(sim, t);
			R.now = t;
			twc_sim_tick(sim, t);
			/* a master that talks when it likes, twice 40 ms apart, ignoring the bus */
			if (t % 340 == 0 || t % 340 == 40)
				hb_input(sim, (uint16_t)(0x1111 * ((t / 20) % 3 + 1)), 0, 0, t);
		}
		if (pass == 0)
			fine = stats(sim);
		else
			coarse = stats(sim);
		twc_sim_free(sim);
	}
	assert_true(fine.collisions > 0);
	assert_int_equal(fine.collisions, coarse.collisions);
	assert_int_equal(fine.master_lost, coarse.master_lost);
	assert_int_equal(fine.rx_frames, coarse.rx_frames);
}

/* The explicit ideal bus (for byte-exact tests) answers inside twc_sim_input() and never collides. */
static void test_ideal_bus(void **state)
{
	struct twc_sim_config cfg = config(2, 0, 0, 1);
	struct twc_sim *sim;

	(void)state;
	cfg.ideal_bus = true;
	sim = sim_make(&cfg, 0);
	run_until(sim, 999);
	R.n = 0;
	send_hb(sim, 0x1111, TWC_CMD_NONE, 0, 1000);
	assert_int_equal(count_from(0, 0x1111), 1);
	send_hb(sim, 0x2222, TWC_CMD_NONE, 0, 1000);
	assert_int_equal(count_from(0, 0x2222), 1);
	assert_int_equal(stats(sim).collisions, 0);
	twc_sim_free(sim);
}

static void test_latency_config(void **state)
{
	struct twc_sim_config cfg = config(1, 0, 0, 1);
	struct twc_sim_config bad;

	(void)state;
	bad = cfg;
	bad.latency_min_ms = -1;
	assert_null(twc_sim_new(&bad, &env, 0));
	bad = cfg;
	bad.latency_min_ms = 20;
	bad.latency_max_ms = 10;
	assert_null(twc_sim_new(&bad, &env, 0));
	bad = cfg;
	bad.latency_max_ms = TWC_SIM_LATENCY_LIMIT_MS + 1;
	assert_null(twc_sim_new(&bad, &env, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_latency),
		cmocka_unit_test(test_reply_bytes_at_wire_speed),
		cmocka_unit_test(test_delay_fault),
		cmocka_unit_test(test_collision_5ms_after_heartbeat),
		cmocka_unit_test(test_collision_during_reply),
		cmocka_unit_test(test_collision_offsets),
		cmocka_unit_test(test_collision_with_linkready),
		cmocka_unit_test(test_cadences),
		cmocka_unit_test(test_coarse_ticks_same_result),
		cmocka_unit_test(test_ideal_bus),
		cmocka_unit_test(test_latency_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
