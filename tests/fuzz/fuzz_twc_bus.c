/*
 * libFuzzer target for the whole bus master against slaves that hold only what they received: the
 * twc_sim model (up to three slaves with cars) on the other end of a wire the input controls. Frames
 * are dropped or corrupted in each direction, the master's writes fail, slaves go mute or deaf or
 * vanish and return, the master restarts from the table it persisted, reloads its limits, reconnects,
 * and the layer above changes caps and the total at random. After every step it asserts what the
 * wiring promise means physically, in the slaves' own terms: the sum of the limits the slaves hold
 * (protocol 2 floors included) never exceeds the wiring (after an accepted lowering reload: never
 * rises while above the new value), no slave holds more than the per-TWC wiring, and every slave the
 * master has registered and can reach hears a heartbeat at least every 3.5 s. Every frame the master
 * writes must be a valid frame with a heartbeat command of 00, 05 or 09 and a whole-amp limit.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twc_bus.h"
#include "twc_sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define QMAX 64
#define LATENCY_MS 2
#define HB_GAP_MAX_MS 3500u
#define STEP_MAX 4000

struct pkt {
	uint8_t b[TWC_WIRE_MAX + 16];
	size_t n;
	uint64_t due;
};

struct queue {
	struct pkt p[QMAX];
	int n;
};

struct world {
	struct twc_bus *bus;
	struct twc_sim *sim;
	struct twc_bus_config cfg;
	uint64_t now;
	struct queue to_sim, to_bus;
	/* wire faults */
	uint8_t drop_to_sim, drop_to_bus;   /* drop one frame in N (0: none) */
	uint8_t corrupt_to_sim, corrupt_to_bus;
	bool fail_writes;
	uint32_t rng;
	/* what the master persisted */
	struct twc_held saved[TWC_MAX_KNOWN];
	int nsaved;
	bool persist_fail;
	/* bounds after an accepted lowering reload */
	int lowering_bound;
	int slave_bound[TWC_SIM_MAX_SLAVES];
	/* when each slave last became reachable without faults (0: not now) */
	uint64_t clean_since[TWC_SIM_MAX_SLAVES];
	bool deaf[TWC_SIM_MAX_SLAVES], mute[TWC_SIM_MAX_SLAVES];
	uint64_t drop_until[TWC_SIM_MAX_SLAVES];
};

static struct world W;

static uint32_t rnd(void)
{
	uint32_t x = W.rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	W.rng = x;
	return x;
}

static void check_sent(void *user, const uint8_t *body, size_t len)
{
	struct twc_msg m;

	*(int *)user += 1;
	if (twc_msg_decode(body, len, &m) != 0 || m.src != W.cfg.master_id)
		abort();
	if (m.type == TWC_MSG_MASTER_HEARTBEAT) {
		if (m.u.mhb.cmd != TWC_CMD_NONE && m.u.mhb.cmd != TWC_CMD_SET_V1 && m.u.mhb.cmd != TWC_CMD_SET_V2)
			abort();
		if (m.u.mhb.ca % 100 != 0 || m.u.mhb.ca > 80 * 100)
			abort();
	}
}

static void enqueue(struct queue *q, const uint8_t *b, size_t n, uint8_t drop, uint8_t corrupt)
{
	struct pkt *p;

	if (drop && rnd() % drop == 0)
		return;
	if (q->n >= QMAX || n > sizeof(q->p[0].b))
		return; /* a full wire loses frames too */
	p = &q->p[q->n++];
	memcpy(p->b, b, n);
	p->n = n;
	p->due = W.now + LATENCY_MS;
	if (corrupt && rnd() % corrupt == 0)
		p->b[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
}

static int bus_write(void *user, const uint8_t *bytes, size_t len)
{

	struct twc_rx rx;
	int frames = 0;

	(void)user;
	twc_rx_init(&rx, TWC_RX_LENIENT);
	twc_rx_feed(&rx, bytes, len, 0, check_sent, &frames);
	if (frames != 1)
		abort();
	if (W.fail_writes)
		return -ENOTCONN;
	enqueue(&W.to_sim, bytes, len, W.drop_to_sim, W.corrupt_to_sim);
	return 0;
}

static int sim_write(void *user, const uint8_t *bytes, size_t len)
{
	(void)user;
	enqueue(&W.to_bus, bytes, len, W.drop_to_bus, W.corrupt_to_bus);
	return 0;
}

static int bus_persist(void *user, const struct twc_held *held, int n)
{
	(void)user;
	if (n < 0 || n > TWC_MAX_KNOWN)
		abort();
	if (W.persist_fail)
		return -EIO;
	memcpy(W.saved, held, sizeof(held[0]) * (size_t)n);
	W.nsaved = n;
	return 0;
}

static void on_event(void *user, const struct twc_event *ev)
{
	(void)user;
	if (ev->type == TWC_EV_SLAVE_ADDED && W.bus)
		twc_bus_set_cap(W.bus, ev->id, (int)(rnd() % 40));
}

static void bus_start(void)
{
	struct twc_bus_env env = {NULL, bus_write, on_event, bus_persist};

	W.bus = twc_bus_new(&W.cfg, &env, W.now);
	if (!W.bus)
		abort();
	twc_bus_restore(W.bus, W.saved, W.nsaved, W.now);
	twc_bus_set_available(W.bus, W.cfg.limits.wiring_max_all);
}

static void reachable_changed(int i)
{
	W.clean_since[i] = 0;
}

static bool reachable(int i)
{
	return !W.deaf[i] && W.now >= W.drop_until[i] && !W.drop_to_sim && !W.corrupt_to_sim && !W.fail_writes;
}

static void check(void)
{
	struct twc_sim_stats st;
	int n = twc_sim_slave_count(W.sim);

	twc_sim_stats(W.sim, &st);
	/* The wiring promise, in what the slaves really hold. */
	if (W.lowering_bound) {
		if (st.held_total > W.lowering_bound)
			abort(); /* it rose while above the new wiring */
		W.lowering_bound = st.held_total > W.cfg.limits.wiring_max_all ? st.held_total : 0;
	} else if (st.held_total > W.cfg.limits.wiring_max_all) {
		abort();
	}
	for (int i = 0; i < n; i++) {
		struct twc_sim_slave_status ss;

		twc_sim_slave_status(W.sim, i, &ss);
		if (W.slave_bound[i]) {
			if (ss.held_amps > W.slave_bound[i])
				abort();
			W.slave_bound[i] = ss.held_amps > W.cfg.limits.wiring_max_per_twc ? ss.held_amps : 0;
		} else if (ss.held_amps > W.cfg.limits.wiring_max_per_twc) {
			abort();
		}
		/* Cadence: a slave the master knows and can reach hears it at least every 3.5 s. */
		bool known = false;
		for (int k = 0; k < TWC_MAX_SLAVES; k++) {
			struct twc_slave_info info;

			if (twc_bus_slave(W.bus, k, &info) == 0 && info.id == ss.id &&
			    info.last_heartbeat_ms > 0)
				known = true;
		}
		if (!known || !reachable(i)) {
			W.clean_since[i] = 0;
			continue;
		}
		if (!W.clean_since[i]) {
			W.clean_since[i] = W.now;
			continue;
		}
		if (W.now - W.clean_since[i] > HB_GAP_MAX_MS && W.now - ss.last_heartbeat_ms > HB_GAP_MAX_MS) 
			abort();
	}
}

static void deliver(struct queue *q, bool to_sim)
{
	while (q->n > 0 && q->p[0].due <= W.now) {
		struct pkt p = q->p[0];

		memmove(&q->p[0], &q->p[1], sizeof(q->p[0]) * (size_t)(q->n - 1));
		q->n--;
		if (to_sim)
			twc_sim_input(W.sim, p.b, p.n, W.now);
		else
			twc_bus_input(W.bus, p.b, p.n, W.now);
		check();
	}
}

/* Run both ends to @until, one event at a time. Many steps without time moving on mean a core that
 * keeps asking to be called "now" without doing anything: a busy loop in the gateway. */
static void run(uint64_t until)
{
	int still = 0;

	while (W.now < until) {
		uint64_t before = W.now;

		uint64_t t = twc_bus_next_deadline(W.bus), s = twc_sim_next_deadline(W.sim);

		if (s < t)
			t = s;
		if (W.to_sim.n && W.to_sim.p[0].due < t)
			t = W.to_sim.p[0].due;
		if (W.to_bus.n && W.to_bus.p[0].due < t)
			t = W.to_bus.p[0].due;
		if (t > until)
			t = until;
		if (t > W.now)
			W.now = t;
		deliver(&W.to_sim, true);
		deliver(&W.to_bus, false);
		twc_sim_tick(W.sim, W.now);
		twc_bus_tick(W.bus, W.now);
		check();
		still = W.now == before ? still + 1 : 0;
		if (still > STEP_MAX)
			abort();
	}
}

static void fault(int i, enum twc_sim_fault f, int v)
{
	if (twc_sim_fault(W.sim, i, f, v) != 0)
		abort();
	reachable_changed(i);
}

static void reload(uint8_t a, uint8_t b, uint8_t c)
{
	struct twc_bus_config cfg = W.cfg;
	struct twc_sim_stats st;
	int rc;

	cfg.limits.wiring_max_all = 6 + a % 75;
	cfg.limits.wiring_max_per_twc = 5 + b % 40;
	if (cfg.limits.wiring_max_per_twc > cfg.limits.wiring_max_all)
		cfg.limits.wiring_max_per_twc = cfg.limits.wiring_max_all;
	cfg.limits.min_amps = 5 + c % 4;
	if (cfg.limits.min_amps > cfg.limits.wiring_max_per_twc)
		cfg.limits.min_amps = cfg.limits.wiring_max_per_twc;
	cfg.stop_commands = c & 0x10;
	rc = twc_bus_set_config(W.bus, &cfg);
	if (rc == -EINVAL || rc == -ERANGE)
		return;
	if (rc)
		abort();
	twc_sim_stats(W.sim, &st);
	if (st.held_total > cfg.limits.wiring_max_all)
		W.lowering_bound = st.held_total > W.lowering_bound ? st.held_total : W.lowering_bound;
	for (int i = 0; i < twc_sim_slave_count(W.sim); i++) {
		struct twc_sim_slave_status ss;

		twc_sim_slave_status(W.sim, i, &ss);
		if (ss.held_amps > cfg.limits.wiring_max_per_twc && ss.held_amps > W.slave_bound[i])
			W.slave_bound[i] = ss.held_amps;
	}
	W.cfg = cfg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct twc_sim_config sc;
	struct twc_sim_env senv = {NULL, sim_write, NULL};
	size_t i = 0;

	if (size < 4)
		return 0;
	memset(&W, 0, sizeof(W));
	memset(&sc, 0, sizeof(sc));
	W.rng = 0x9E3779B9u ^ data[0];
	W.now = 1000;
	sc.slaves = 1 + data[1] % 3;
	sc.seed = data[2];
	sc.voltage = 230;
	sc.phases = 1;
	/* This harness is the wire (its own delays, losses and corruption, which the input controls);
	 * the sim's half-duplex model would add collisions the cadence check cannot tell from a master
	 * that forgot a slave. That model has its own tests (test_twc_sim_bus, bus_halfduplex). */
	sc.ideal_bus = true;
	for (int k = 0; k < sc.slaves; k++) {
		sc.slave[k].protocol = (data[3] >> k) & 1 ? 1 : 2;
		sc.slave[k].rated_amps = (data[3] >> (k + 3)) & 1 ? 80 : 32;
		sc.slave[k].fw453 = true;
	}
	W.cfg = (struct twc_bus_config){0x7777, 0x77, {24 + data[0] % 40, 0, 6}, 0, true, data[2] & 1};
	W.cfg.limits.wiring_max_per_twc = W.cfg.limits.wiring_max_all < 32 ? W.cfg.limits.wiring_max_all : 32;
	W.sim = twc_sim_new(&sc, &senv, W.now);
	if (!W.sim)
		abort();
	bus_start();
	i = 4;
	while (i + 2 < size) {
		uint8_t op = data[i], a = data[i + 1], b = data[i + 2];
		int s = a % sc.slaves;

		i += 3;
		switch (op % 16) {
		case 0:
		case 1:
		case 2:
			run(W.now + 50 + (uint64_t)a * 40 + (uint64_t)(b % 8) * 5000);
			break;
		case 3:
			twc_sim_plug(W.sim, s, 6 + b % 75, NULL, W.now);
			break;
		case 4:
			twc_sim_unplug(W.sim, s, W.now);
			break;
		case 5:
			W.mute[s] = b & 1;
			fault(s, TWC_SIM_FAULT_MUTE, W.mute[s]);
			break;
		case 6:
			W.deaf[s] = b & 1;
			fault(s, TWC_SIM_FAULT_DEAF, W.deaf[s]);
			break;
		case 7:
			W.drop_until[s] = W.now + (uint64_t)(b % 60) * 1000;
			fault(s, TWC_SIM_FAULT_DROP, b % 60);
			break;
		case 8:
			twc_bus_set_available(W.bus, b % 90 - 5);
			break;
		case 9: {
			struct twc_sim_slave_status ss;

			twc_sim_slave_status(W.sim, s, &ss);
			twc_bus_set_cap(W.bus, ss.id, b % 90);
			break;
		}
		case 10:
			W.drop_to_sim = a & 1 ? b % 5 : 0;
			W.drop_to_bus = a & 2 ? b % 7 : 0;
			W.corrupt_to_sim = a & 4 ? b % 3 : 0;
			W.corrupt_to_bus = a & 8 ? b % 4 : 0;
			for (int k = 0; k < sc.slaves; k++)
				reachable_changed(k);
			break;
		case 11:
			W.fail_writes = a & 1;
			W.persist_fail = a & 2;
			for (int k = 0; k < sc.slaves; k++)
				reachable_changed(k);
			break;
		case 12:
			/* A crash and a restart: the new master knows only what was persisted. */
			twc_bus_free(W.bus);
			W.bus = NULL;
			W.to_bus.n = 0;
			W.now += (uint64_t)(b % 20) * 500;
			twc_sim_tick(W.sim, W.now);
			bus_start();
			for (int k = 0; k < sc.slaves; k++)
				reachable_changed(k);
			break;
		case 13:
			reload(a, b, data[i - 3]);
			break;
		case 14:
			twc_bus_link_up(W.bus, W.now);
			break;
		case 15:
			/* A slave vanishes (powered off) or returns. */
			W.deaf[s] = W.mute[s] = b & 1;
			fault(s, TWC_SIM_FAULT_DEAF, b & 1);
			fault(s, TWC_SIM_FAULT_MUTE, b & 1);
			break;
		}
		check();
	}
	twc_bus_free(W.bus);
	twc_sim_free(W.sim);
	return 0;
}
