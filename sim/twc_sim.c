/*
 * twc_sim: up to three simulated TWC Gen 2 slaves sharing one bus, as a pure state machine. Master
 * bytes and the time come in; the slaves' frames (each followed by the junk byte real units send)
 * go out through env->write. Each slave announces itself, answers heartbeats and firmware 4.5.3
 * queries, and models a car that ramps its draw to the limit it holds. The simulator also keeps the
 * figures a test checks the master against: heartbeat gaps, forbidden frames, and the highest sums of
 * held limits and of real draw the bus ever carried. Behaviour follows twc-protocol.md sections 2-4
 * and 11. The wire is half duplex at 9600 bps: every frame, the master's and the slaves', occupies the
 * bus for its bytes x 10 bits, a slave hears a request when its last byte is off the wire and answers
 * a latency later, its bytes reach the master one by one as they would from a UART, and two
 * transmissions that overlap garble each other (the master's is heard by nobody, the slave's reaches
 * the master with garbage where they overlapped), as on a real bus with no arbitration.
 */
#include "twc_sim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twc_frame.h"
#include "twc_msg.h"

#define SIM_LINKREADY_PERIOD_MS 10000u
#define SIM_LINKREADY_FIRST_MS 200u
#define SIM_STAGGER_MS 70u           /* per slave index, so no two slaves ever talk at once */
#define SIM_BURST_COUNT 5
#define SIM_BURST_SPACING_MS 200u
#define SIM_RAMP_MS 2000u
#define SIM_RAMP_STEP_MS 100u        /* refresh of the drawn figure while ramping */
/* A protocol 2 slave answers state 09 for as long as the master keeps sending command 09, even the
 * same limit over and over, and shows its real state again about 12 s after the last one (TWCManager
 * #644). A master that never goes back to command 00 therefore never sees the real state. */
#define SIM_ACK_MS 12000u
#define SIM_SILENCE_MS 30000u        /* no heartbeat this long: the car stops */
#define SIM_DRAW_BELOW_LIMIT 0.3     /* a car draws a little under its limit */
#define SIM_NOISE_MAX 4
#define SIM_JUNK_BYTE 0xFE
#define SIM_LOG_MAX 160
#define SIM_TX_BYTES (SIM_NOISE_MAX + TWC_WIRE_MAX + 1)
#define SIM_WIRE_SLOTS 64            /* transmissions on, or waiting for, the wire or a hearing */
/* An ended transmission is kept this long for overlap checks: a master frame that trickles in is
 * dated from its first byte, at most a partial-frame timeout back. */
#define SIM_WIRE_KEEP_US (TWC_RX_PARTIAL_TIMEOUT_MS * 1000ull)
#define SIM_MASTER (-1)
/* What a receiver makes of bytes sent while another driver fights the line: the line mostly reads
 * as idle (1 bits) with framing errors. */
#define SIM_GARBLE_BYTE 0xFF

/* One transmission on the wire, the master's or a slave's, with its place in time (us). */
struct sim_tx {
	bool used;
	int who;                     /* slave index, or SIM_MASTER */
	uint64_t start_us, end_us;
	bool collided;
	/* A slave's: its bytes, written to the master as each one's wire time ends. */
	uint8_t bytes[SIM_TX_BYTES];
	size_t len, sent;
	size_t frame_first, frame_last; /* the opening and the closing C0 in bytes[] */
	uint64_t hit;                /* bit i: byte i overlapped another transmission */
	bool frame_garbled;
	/* The master's: the verified body, heard by the slaves at end_us unless it collided. */
	uint8_t body[TWC_BODY_MAX];
	size_t body_len;
	bool heard;
};

struct sim_slave {
	int index;
	uint16_t id;
	uint8_t sign;
	uint8_t protocol;
	int rated_amps;
	bool fw453;
	char serial[TWC_SERIAL_LEN + 1];

	bool muted;                  /* sends nothing, still hears */
	bool deaf;                   /* hears nothing from the master */
	uint64_t drop_until_ms;      /* also hears nothing before this (a drop period) */
	bool bad_checksum;
	int delay_ms;                /* TWC_SIM_FAULT_DELAY: fixed reply latency, 0 the default */
	uint64_t tx_free_us;         /* its own transmitter is busy until then */
	uint32_t garbled;

	/* The master as this slave hears it. */
	bool heard_master;
	uint16_t master_id;
	uint64_t last_heartbeat_ms;
	bool gap_valid;
	uint64_t gap_base_ms;        /* the next gap is measured from here */
	uint32_t heartbeats;
	uint32_t max_gap_ms;
	bool timed_out;              /* the 30 s silence has been acted on */
	uint32_t linkready2_heard;
	uint64_t linkready_due_ms;
	uint64_t linkready_hold_ms;  /* a heartbeat holds periodic linkready off until then */
	int burst_left;
	uint64_t burst_due_ms;

	int told_amps;               /* -1: never told */
	bool halted;                 /* stopped by master silence: waits for a new limit */
	bool contactor_open;         /* FC B2 */
	uint64_t ack_until_ms;       /* 0: not acknowledging a 09 */

	/* The car. */
	bool plugged;
	int car_max_amps;
	char vin[TWC_VIN_LEN + 1];
	bool active;                 /* on the charging path (limit in force, nothing holding it) */
	bool starting;               /* first ramp after (re)starting: state 08 */
	bool ramping;
	double ramp_from, ramp_to;
	uint64_t ramp_start_ms;
	double drawn;
	double energy_wh;
	uint64_t energy_ms;          /* energy is integrated up to here */
	uint64_t updated_ms;
	uint8_t state;
};

struct twc_sim {
	struct twc_sim_env env;
	int voltage;
	int phases;
	uint32_t rng;
	uint32_t lat_rng;            /* latencies only, so they do not shift IDs and noise */
	bool ideal;
	int lat_min_ms, lat_max_ms;
	struct sim_tx wire[SIM_WIRE_SLOTS];
	uint64_t event_us;           /* the time of what is being handled now */
	uint64_t tick_us;            /* the time of the tick (or input) doing it */
	uint64_t master_line_us;     /* the master's last byte received leaves the wire then */
	uint64_t master_frame_us;    /* the frame being received started on the wire then */
	int count;
	struct sim_slave slave[TWC_SIM_MAX_SLAVES];
	struct twc_rx rx;
	struct twc_rx_stats rx_base; /* receiver counters at the last reset */
	uint32_t decode_bad;
	bool echo;
	bool noise;
	uint64_t now_ms;
	struct twc_sim_stats stats;
};

__attribute__((format(printf, 2, 3))) static void sim_log(const struct twc_sim *sim, const char *fmt, ...)
{
	char line[SIM_LOG_MAX];
	va_list ap;

	if (!sim->env.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sim->env.log(sim->env.user, line);
}

/* xorshift32: deterministic per seed, which is what makes a failing run reproducible. */
static uint32_t xorshift(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static uint32_t sim_random(struct twc_sim *sim)
{
	return xorshift(&sim->rng);
}

static uint64_t ms_to_us(uint64_t ms)
{
	return ms > UINT64_MAX / 1000 ? UINT64_MAX : ms * 1000;
}

/* The first whole ms at or after @us: when a tick at ms resolution can act on it. */
static uint64_t us_to_ms_ceil(uint64_t us)
{
	return us == UINT64_MAX ? UINT64_MAX : (us + 999) / 1000;
}

static bool id_taken(const struct twc_sim *sim, const struct sim_slave *self, uint16_t id)
{
	for (int i = 0; i < sim->count; i++)
		if (&sim->slave[i] != self && sim->slave[i].id == id)
			return true;
	return false;
}

/* 0000 and FFFF look like bus garbage, and 7777 is every open-source master's default ID. */
static uint16_t random_id(struct twc_sim *sim, const struct sim_slave *self, uint16_t avoid)
{
	for (;;) {
		uint16_t id = (uint16_t)(sim_random(sim) >> 8);

		if (id != 0 && id != 0xFFFF && id != 0x7777 && id != avoid && !id_taken(sim, self, id))
			return id;
	}
}

static uint8_t random_sign(struct twc_sim *sim)
{
	uint8_t s;

	do
		s = (uint8_t)(sim_random(sim) >> 16);
	while (s == 0);
	return s;
}

static int protocol_min(const struct sim_slave *s)
{
	return s->protocol == 2 ? 6 : 5;
}

/* A protocol 2 TWC treats any limit below 6 A as 6 A, so once told anything it may draw 6 A. */
static int in_force(const struct sim_slave *s)
{
	if (s->told_amps < 0)
		return 0;
	if (s->protocol == 2 && s->told_amps < 6)
		return 6;
	return s->told_amps;
}

/* What the slave may let a car draw now: a slave stopped by master silence holds nothing until it is
 * told a limit again, whatever it was told before. */
static int held(const struct sim_slave *s)
{
	return s->halted ? 0 : in_force(s);
}

static bool slave_hears(const struct twc_sim *sim, const struct sim_slave *s)
{
	return !s->deaf && sim->now_ms >= s->drop_until_ms;
}

static double draw_target(const struct sim_slave *s)
{
	int lim = in_force(s);

	if (!s->plugged || s->contactor_open || s->halted || lim < protocol_min(s))
		return 0;
	if (lim > s->car_max_amps)
		lim = s->car_max_amps;
	return lim - SIM_DRAW_BELOW_LIMIT;
}

static double draw_at(const struct sim_slave *s, uint64_t t)
{
	if (!s->ramping)
		return s->drawn;
	if (t <= s->ramp_start_ms)
		return s->ramp_from;
	if (t >= s->ramp_start_ms + SIM_RAMP_MS)
		return s->ramp_to;
	return s->ramp_from + (s->ramp_to - s->ramp_from) * (double)(t - s->ramp_start_ms) / SIM_RAMP_MS;
}

/* The draw is piecewise linear with one break at the end of a ramp, so the trapezoid rule on each
 * piece is exact and energy can be brought up to date lazily at any time. */
static void slave_integrate(const struct twc_sim *sim, struct sim_slave *s, uint64_t t)
{
	uint64_t a = s->energy_ms;
	double amp_ms = 0;

	if (t <= a)
		return;
	if (s->ramping && a < s->ramp_start_ms + SIM_RAMP_MS) {
		uint64_t end = s->ramp_start_ms + SIM_RAMP_MS;
		uint64_t b = t < end ? t : end;

		amp_ms += (draw_at(s, a) + draw_at(s, b)) / 2 * (double)(b - a);
		a = b;
	}
	amp_ms += draw_at(s, t) * (double)(t - a);
	s->energy_wh += amp_ms * sim->voltage * sim->phases / 3600000.0;
	s->energy_ms = t;
	s->drawn = draw_at(s, t);
}

static void slave_stop(struct sim_slave *s)
{
	s->active = false;
	s->starting = false;
	s->ramping = false;
	s->drawn = 0;
}

static uint8_t slave_state(const struct sim_slave *s)
{
	/* The acknowledgement hides everything else, car or no car: the trap a master avoids by going
	 * back to command 00 once the limit is mirrored. */
	if (s->ack_until_ms)
		return TWC_ST_ACK_LIMIT;
	if (!s->plugged)
		return TWC_ST_READY;
	if (s->contactor_open)
		return TWC_ST_PLUGGED_NO_CHARGE;
	if (s->halted)
		return TWC_ST_STARTING; /* with limit 00 00: back from master silence, asking for a limit */
	if (!s->active) {
		if (s->protocol == 1 && s->told_amps == 0)
			return TWC_ST_PLUGGED_NO_CHARGE;
		return TWC_ST_PLUGGED_READY; /* with limit 00 00: asking for one */
	}
	if (s->starting)
		return TWC_ST_STARTING;
	return TWC_ST_CHARGING;
}

/* What goes in bytes 7-8 of FD E0: the limit in force while a car could use it, else 00 00. */
static int reported_limit(const struct sim_slave *s)
{
	int lim = in_force(s);

	if (!s->plugged || s->halted || lim < protocol_min(s))
		return 0;
	return lim;
}

/* Bring one slave's clock-driven state up to @now: the silence timeout, the ramp, the 09 ack. */
static void slave_update(struct twc_sim *sim, struct sim_slave *s, uint64_t now)
{
	if (now < s->updated_ms)
		now = s->updated_ms;
	if (s->heard_master && !s->timed_out && now >= s->last_heartbeat_ms + SIM_SILENCE_MS) {
		slave_integrate(sim, s, s->last_heartbeat_ms + SIM_SILENCE_MS);
		s->timed_out = true;
		s->halted = true;
		if (s->active)
			sim_log(sim, "slave %04X: no heartbeat for 30 s, car stops", s->id);
		else
			sim_log(sim, "slave %04X: no heartbeat for 30 s", s->id);
		slave_stop(s);
	}
	slave_integrate(sim, s, now);
	if (s->ramping && now >= s->ramp_start_ms + SIM_RAMP_MS) {
		s->ramping = false;
		s->starting = false;
		s->drawn = s->ramp_to;
	}
	if (s->ack_until_ms && now >= s->ack_until_ms)
		s->ack_until_ms = 0;
	s->updated_ms = now;
	s->state = slave_state(s);
}

/* After the limit, the plug or the contactor changed (and slave_update(@now)): steer the draw. */
static void slave_retarget(struct sim_slave *s, uint64_t now)
{
	double target = draw_target(s);
	double heading;

	if (target <= 0) {
		slave_stop(s);
	} else {
		if (!s->active) {
			s->active = true;
			s->starting = true;
		}
		heading = s->ramping ? s->ramp_to : s->drawn;
		if (target != heading) {
			s->ramp_from = s->drawn;
			s->ramp_to = target;
			s->ramp_start_ms = now;
			s->ramping = true;
		}
	}
	s->state = slave_state(s);
}

/* Call with every slave brought up to sim->now_ms, after anything that may change a held limit or
 * a draw. */
static void sim_totals_update(struct twc_sim *sim)
{
	int total = 0;
	double drawn = 0;

	for (int i = 0; i < sim->count; i++) {
		total += held(&sim->slave[i]);
		drawn += sim->slave[i].drawn;
	}
	sim->stats.held_total = total;
	sim->stats.in_force_total = total;
	if (total > sim->stats.max_held_total)
		sim->stats.max_held_total = total;
	sim->stats.max_in_force_total = sim->stats.max_held_total;
	sim->stats.drawn_total = drawn;
	if (drawn > sim->stats.max_drawn_total)
		sim->stats.max_drawn_total = drawn;
}

/* The earliest moment after which some slave's draw stops following its current straight line: a
 * ramp end or a silence timeout. UINT64_MAX if none. */
static uint64_t sim_next_break(const struct twc_sim *sim)
{
	uint64_t t = UINT64_MAX;

	for (int i = 0; i < sim->count; i++) {
		const struct sim_slave *s = &sim->slave[i];

		if (s->ramping && s->ramp_start_ms + SIM_RAMP_MS < t)
			t = s->ramp_start_ms + SIM_RAMP_MS;
		if (s->heard_master && !s->timed_out && s->last_heartbeat_ms + SIM_SILENCE_MS < t)
			t = s->last_heartbeat_ms + SIM_SILENCE_MS;
	}
	return t;
}

/* Bring every slave up to @now. The summed draw is piecewise linear between breaks and only ever
 * jumps down, so its highest value is reached just before a break or at @now: sampling the draws
 * at each break before acting on it makes max_drawn_total exact however seldom we are ticked. */
static void sim_advance(struct twc_sim *sim, uint64_t now)
{
	for (uint64_t t = sim_next_break(sim); t <= now; t = sim_next_break(sim)) {
		double drawn = 0;

		for (int i = 0; i < sim->count; i++)
			drawn += draw_at(&sim->slave[i], t);
		if (drawn > sim->stats.max_drawn_total)
			sim->stats.max_drawn_total = drawn;
		for (int i = 0; i < sim->count; i++)
			slave_update(sim, &sim->slave[i], t);
	}
	for (int i = 0; i < sim->count; i++)
		slave_update(sim, &sim->slave[i], now);
	sim_totals_update(sim);
}

/* Garbage that never breaks a real frame: either only non-delimiter bytes (a DB outside a frame is
 * junk), or a leading C0 whose short "frame" the next real frame's C0 resynchronises away. A DB is
 * never mixed with a C0, since a DB just before the real frame's C0 would be an escape. */
static size_t noise_fill(struct twc_sim *sim, uint8_t *out)
{
	size_t n = 1 + sim_random(sim) % SIM_NOISE_MAX;
	uint32_t kind = sim_random(sim) % 4;

	for (size_t i = 0; i < n; i++) {
		uint8_t b;

		do
			b = (uint8_t)(sim_random(sim) >> 12);
		while (b == TWC_FRAME_END || b == TWC_FRAME_ESC);
		out[i] = b;
	}
	if (kind == 0)
		out[0] = TWC_FRAME_END;
	else if (kind == 1)
		out[sim_random(sim) % n] = TWC_FRAME_ESC;
	return n;
}

/* Wire form of @m with a checksum that is off by one bit (the body itself is left intact). */
static int wire_bad_checksum(const struct twc_msg *m, uint8_t *out, size_t cap)
{
	uint8_t body[TWC_BODY_MAX];
	int len = twc_msg_encode(m, body, sizeof(body));
	int w;
	uint8_t ck, bad;
	size_t ck_wire, pos;

	if (len < 0)
		return len;
	w = twc_frame_encode(body, (size_t)len, out, cap);
	if (w < 0)
		return w;
	ck = twc_frame_checksum(body, (size_t)len);
	ck_wire = (ck == TWC_FRAME_END || ck == TWC_FRAME_ESC) ? 2 : 1;
	bad = (uint8_t)(ck ^ 0x01);
	if (bad == TWC_FRAME_END || bad == TWC_FRAME_ESC)
		bad = (uint8_t)(ck ^ 0x02);
	pos = (size_t)w - 1 - ck_wire;
	out[pos] = bad;
	out[pos + 1] = TWC_FRAME_END;
	return (int)(pos + 2);
}

/* From the end of a request on the wire to the start of the answer. */
static uint64_t slave_latency_us(struct twc_sim *sim, const struct sim_slave *s)
{
	uint64_t lo, span;

	if (s->delay_ms > 0)
		return ms_to_us((uint64_t)s->delay_ms);
	lo = ms_to_us((uint64_t)sim->lat_min_ms);
	span = ms_to_us((uint64_t)(sim->lat_max_ms - sim->lat_min_ms));
	return lo + (span ? xorshift(&sim->lat_rng) % (span + 1) : 0);
}

static bool tx_overlap(const struct sim_tx *a, const struct sim_tx *b)
{
	return a->start_us < b->end_us && b->start_us < a->end_us;
}

/* Bytes of a slave transmission as the master receives them: garbage where another driver was on. */
static uint8_t tx_byte(const struct sim_tx *t, size_t i)
{
	return (t->hit >> i) & 1 ? SIM_GARBLE_BYTE : t->bytes[i];
}

static void rx_count(void *user, const uint8_t *body, size_t len)
{
	(void)body;
	(void)len;
	(*(int *)user)++;
}

/* Mark the bytes of slave transmission @t that [from, to) overlapped. Bytes already written stay as
 * they went out. If the garbage happens to leave a frame that still verifies (a 1 in 256 checksum
 * chance), its closing C0 is lost too, as a truncated frame, so the master always drops it. */
static void tx_garble(struct twc_sim *sim, struct sim_tx *t, uint64_t from, uint64_t to)
{
	bool frame_hit = false;

	for (size_t i = t->sent; i < t->len; i++) {
		uint64_t b0 = t->start_us + (uint64_t)i * TWC_SIM_BYTE_US, b1 = b0 + TWC_SIM_BYTE_US;

		if (b0 < to && from < b1) {
			t->hit |= (uint64_t)1 << i;
			if (i >= t->frame_first && i <= t->frame_last)
				frame_hit = true;
		}
	}
	if (!frame_hit || t->frame_garbled)
		return;
	t->frame_garbled = true;
	sim->stats.slave_garbled++;
	sim->slave[t->who].garbled++;
	{
		struct twc_rx rx;
		uint8_t copy[SIM_TX_BYTES];
		int frames = 0;

		for (size_t i = 0; i < t->len; i++)
			copy[i] = tx_byte(t, i);
		twc_rx_init(&rx, TWC_RX_LENIENT);
		twc_rx_feed(&rx, copy, t->len, 0, rx_count, &frames);
		if (frames > 0 && t->frame_last >= t->sent)
			t->hit |= (uint64_t)1 << t->frame_last;
	}
}

static const char *tx_who(const struct twc_sim *sim, const struct sim_tx *t)
{
	static const char *names[TWC_SIM_MAX_SLAVES] = {"slave 0", "slave 1", "slave 2"};

	(void)sim;
	return t->who == SIM_MASTER ? "master" : names[t->who];
}

/* Byte @k of the frame's body (type, command), for the log. */
static uint8_t tx_type(const struct sim_tx *t, size_t k)
{
	if (t->who == SIM_MASTER)
		return t->body_len > k ? t->body[k] : 0;
	return t->frame_first + 1 + k < t->len ? t->bytes[t->frame_first + 1 + k] : 0;
}

/* Half duplex: a new transmission that overlaps any other on the wire garbles both. Every interval
 * is known when its record is made (a slave's from its start, the master's from its first byte), so
 * checking each new one against those kept is complete. */
static void wire_check(struct twc_sim *sim, struct sim_tx *n)
{
	for (int k = 0; k < SIM_WIRE_SLOTS; k++) {
		struct sim_tx *o = &sim->wire[k];
		uint64_t from, to;

		if (!o->used || o == n || o->who == n->who || !tx_overlap(o, n))
			continue;
		sim->stats.collisions++;
		from = o->start_us > n->start_us ? o->start_us : n->start_us;
		to = o->end_us < n->end_us ? o->end_us : n->end_us;
		sim_log(sim, "collision on the wire at %llu.%03llu ms: %s %02X %02X and %s %02X %02X overlap %.1f ms",
			(unsigned long long)(from / 1000), (unsigned long long)(from % 1000), tx_who(sim, o),
			tx_type(o, 0), tx_type(o, 1), tx_who(sim, n), tx_type(n, 0), tx_type(n, 1),
			(double)(to - from) / 1000.0);
		o->collided = n->collided = true;
		if (o->who != SIM_MASTER)
			tx_garble(sim, o, from, to);
		if (n->who != SIM_MASTER)
			tx_garble(sim, n, from, to);
	}
}

static void master_hear(struct twc_sim *sim, struct sim_tx *t);

/* A free record: an ended one nobody needs is reused; when the wire is that crowded (a master
 * writing faster than 9600 bps), the oldest master frame still waiting is heard now to make room. */
static struct sim_tx *wire_slot(struct twc_sim *sim)
{
	struct sim_tx *best = NULL;

	for (int k = 0; k < SIM_WIRE_SLOTS; k++) {
		if (!sim->wire[k].used) {
			best = &sim->wire[k];
			memset(best, 0, sizeof(*best));
			return best;
		}
	}
	for (int k = 0; k < SIM_WIRE_SLOTS; k++) {
		struct sim_tx *t = &sim->wire[k];
		bool done = t->who == SIM_MASTER ? t->heard : t->sent == t->len;

		if (done && (!best || t->end_us < best->end_us))
			best = t;
	}
	if (!best) {
		for (int k = 0; k < SIM_WIRE_SLOTS; k++) {
			struct sim_tx *t = &sim->wire[k];

			if (t->who == SIM_MASTER && (!best || t->end_us < best->end_us))
				best = t;
		}
		if (!best)
			return NULL; /* every slot a slave frame still going out: cannot happen with 3 slaves */
		master_hear(sim, best);
	}
	memset(best, 0, sizeof(*best));
	return best;
}

/* Records no later transmission can overlap any more. */
static void wire_forget(struct twc_sim *sim, uint64_t now_us)
{
	for (int k = 0; k < SIM_WIRE_SLOTS; k++) {
		struct sim_tx *t = &sim->wire[k];
		bool done = t->who == SIM_MASTER ? t->heard : t->sent == t->len;

		if (t->used && done && t->end_us + SIM_WIRE_KEEP_US < now_us)
			t->used = false;
	}
}

/* A slave puts @len bytes on the wire at @start_us (or when its own previous frame has gone). */
static void slave_transmit(struct twc_sim *sim, struct sim_slave *s, uint64_t start_us, const uint8_t *bytes,
			   size_t len, size_t frame_first, size_t frame_last)
{
	struct sim_tx *t = wire_slot(sim);

	if (!t || len > SIM_TX_BYTES) {
		sim_log(sim, "slave %04X: frame lost, the wire is full", s->id);
		return;
	}
	if (start_us < s->tx_free_us)
		start_us = s->tx_free_us;
	/* Never before the tick that can put its first byte out: a feeder that ticks late (a loaded
	 * machine) delays the slave, rather than dating bytes the master could not have seen. */
	if (start_us < sim->tick_us)
		start_us = sim->tick_us;
	t->used = true;
	t->who = s->index;
	t->start_us = start_us;
	t->end_us = start_us + (uint64_t)len * TWC_SIM_BYTE_US;
	memcpy(t->bytes, bytes, len);
	t->len = len;
	t->frame_first = frame_first;
	t->frame_last = frame_last;
	s->tx_free_us = t->end_us;
	wire_check(sim, t);
}

/* Write every slave byte whose wire time has ended by @now_us, in the order they ended. */
static void wire_deliver(struct twc_sim *sim, uint64_t now_us)
{
	for (;;) {
		struct sim_tx *t = NULL;
		uint64_t t_end = UINT64_MAX, other = UINT64_MAX;
		uint8_t run[SIM_TX_BYTES];
		size_t n = 0;

		for (int k = 0; k < SIM_WIRE_SLOTS; k++) {
			struct sim_tx *c = &sim->wire[k];
			uint64_t e;

			if (!c->used || c->who == SIM_MASTER || c->sent == c->len)
				continue;
			e = c->start_us + (uint64_t)(c->sent + 1) * TWC_SIM_BYTE_US;
			if (e < t_end) {
				other = t_end;
				t_end = e;
				t = c;
			} else if (e < other) {
				other = e;
			}
		}
		if (!t || t_end > now_us)
			return;
		/* A run from this one transmission up to where another's next byte ends first. */
		while (t->sent < t->len) {
			uint64_t e = t->start_us + (uint64_t)(t->sent + 1) * TWC_SIM_BYTE_US;

			if (e > now_us || (n > 0 && e > other))
				break;
			run[n++] = tx_byte(t, t->sent);
			t->sent++;
		}
		sim->env.write(sim->env.user, run, n);
	}
}

static void slave_send(struct twc_sim *sim, struct sim_slave *s, const struct twc_msg *m, bool reply)
{
	uint8_t buf[SIM_TX_BYTES];
	size_t n = 0, first;
	int w;

	if (s->muted)
		return; /* lost on the way, whatever it was */
	if (sim->noise)
		n = noise_fill(sim, buf);
	first = n;
	if (reply && s->bad_checksum)
		w = wire_bad_checksum(m, buf + n, TWC_WIRE_MAX);
	else
		w = twc_msg_to_wire(m, buf + n, TWC_WIRE_MAX);
	if (w < 0) {
		sim_log(sim, "slave %04X: cannot encode %s (%d)", s->id, twc_msg_type_name(m->type), w);
		return;
	}
	n += (size_t)w;
	buf[n++] = SIM_JUNK_BYTE;
	if (sim->ideal) {
		sim->env.write(sim->env.user, buf, n);
		return;
	}
	/* A reply follows the request's end on the wire (sim->event_us) after a latency; an
	 * announcement goes at its own time. */
	slave_transmit(sim, s, sim->event_us + (reply ? slave_latency_us(sim, s) : 0), buf, n, first,
		       first + (size_t)w - 1);
}

static void slave_send_linkready(struct twc_sim *sim, struct sim_slave *s)
{
	struct twc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = TWC_MSG_SLAVE_LINKREADY;
	m.protocol = s->protocol;
	m.src = s->id;
	m.u.linkready.sign = s->sign;
	m.u.linkready.max_ca = (uint16_t)(s->rated_amps * 100);
	slave_send(sim, s, &m, false);
}

static uint16_t amps_to_ca(double amps)
{
	if (amps <= 0)
		return 0;
	if (amps >= 655.35)
		return 65535;
	return (uint16_t)(amps * 100 + 0.5);
}

static void slave_send_heartbeat(struct twc_sim *sim, struct sim_slave *s)
{
	struct twc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = TWC_MSG_SLAVE_HEARTBEAT;
	m.protocol = s->protocol;
	m.src = s->id;
	m.dst = s->master_id;
	m.u.shb.state = s->state;
	m.u.shb.limit_ca = (uint16_t)(reported_limit(s) * 100);
	m.u.shb.measured_ca = amps_to_ca(s->drawn);
	slave_send(sim, s, &m, true);
}

static void slave_heartbeat(struct twc_sim *sim, struct sim_slave *s, const struct twc_msg *hb, uint64_t now)
{
	slave_update(sim, s, now);
	s->heartbeats++;
	if (s->gap_valid && now - s->gap_base_ms > s->max_gap_ms)
		s->max_gap_ms = (uint32_t)(now - s->gap_base_ms);
	s->gap_valid = true;
	s->gap_base_ms = now;
	s->last_heartbeat_ms = now;
	s->linkready_hold_ms = now + SIM_LINKREADY_PERIOD_MS;
	if (!s->heard_master || s->master_id != hb->src)
		sim_log(sim, "slave %04X hears master %04X", s->id, hb->src);
	s->heard_master = true;
	s->master_id = hb->src;
	s->timed_out = false;

	if (hb->u.mhb.cmd == TWC_CMD_SET_V1 || hb->u.mhb.cmd == TWC_CMD_SET_V2) {
		int told = hb->u.mhb.ca / 100;

		if (told != s->told_amps || s->halted)
			sim_log(sim, "slave %04X told %d A", s->id, told);
		s->told_amps = told;
		s->halted = false;
		/* Every 09 renews it, a changed limit or not; 05 is never acknowledged with 09. */
		if (hb->u.mhb.cmd == TWC_CMD_SET_V2 && s->protocol == 2)
			s->ack_until_ms = now + SIM_ACK_MS;
		slave_retarget(s, now);
	}
	if (!s->muted)
		slave_send_heartbeat(sim, s);
}

static void slave_collision(struct twc_sim *sim, struct sim_slave *s, uint16_t master_id, uint64_t now)
{
	uint16_t old = s->id;

	s->id = random_id(sim, s, master_id);
	s->sign = random_sign(sim);
	sim_log(sim, "ID collision with master %04X: slave %d %04X takes new ID %04X", master_id, s->index, old,
		s->id);
	/* The master has never heard the new ID: announce it now, not after a heartbeat hold. */
	s->linkready_hold_ms = 0;
	s->linkready_due_ms = now + SIM_LINKREADY_FIRST_MS + (uint64_t)s->index * SIM_STAGGER_MS;
}

static void sim_on_linkready(struct twc_sim *sim, const struct twc_msg *m, uint64_t now)
{
	for (int i = 0; i < sim->count; i++) {
		struct sim_slave *s = &sim->slave[i];

		if (!slave_hears(sim, s))
			continue;
		if (m->src == s->id)
			slave_collision(sim, s, m->src, now);
		if (m->type != TWC_MSG_MASTER_LINKREADY2)
			continue;
		/* Real slaves ignore the first linkready2 and answer the second with five linkreadies. */
		s->linkready2_heard++;
		if (s->linkready2_heard % 2 == 0 && !s->muted) {
			s->burst_left = SIM_BURST_COUNT;
			s->burst_due_ms = now + SIM_LINKREADY_FIRST_MS + (uint64_t)s->index * SIM_STAGGER_MS;
		}
	}
}

static void slave_send_meter(struct twc_sim *sim, struct sim_slave *s)
{
	struct twc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = TWC_MSG_METER;
	m.protocol = 2;
	m.src = s->id;
	m.u.meter.energy = (uint32_t)(s->energy_wh / 1000);
	for (int p = 0; p < 3 && p < sim->phases; p++) {
		double half = s->drawn * 2 + 0.5;

		m.u.meter.volts[p] = (uint16_t)sim->voltage;
		m.u.meter.half_amps[p] = half >= 255 ? 255 : (uint8_t)half;
	}
	slave_send(sim, s, &m, true);
}

static void slave_send_reply(struct twc_sim *sim, struct sim_slave *s, enum twc_msg_type type, uint8_t part)
{
	struct twc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.protocol = 2; /* the 4.5.3 firmware that answers these is protocol 2 */
	m.src = s->id;
	switch (type) {
	case TWC_MSG_FIRMWARE:
		m.u.firmware.v[0] = 4;
		m.u.firmware.v[1] = 5;
		m.u.firmware.v[2] = 3;
		m.u.firmware.v[3] = 0;
		break;
	case TWC_MSG_SERIAL:
		snprintf(m.u.serial.tsn, sizeof(m.u.serial.tsn), "%s", s->serial);
		break;
	case TWC_MSG_VIN:
		m.u.vin.part = part;
		if (s->plugged) {
			size_t off = twc_vin_part_offset(part);
			size_t cnt = twc_vin_part_length(part);
			size_t have = strnlen(s->vin, TWC_VIN_LEN);

			if (have > off) {
				size_t n = have - off < cnt ? have - off : cnt;

				memcpy(m.u.vin.chars, s->vin + off, n);
				m.u.vin.chars[n] = '\0';
			}
		}
		break;
	default:
		break;
	}
	slave_send(sim, s, &m, true);
}

static void slave_contactor(struct twc_sim *sim, struct sim_slave *s, bool open, uint64_t now)
{
	slave_update(sim, s, now);
	if (s->contactor_open != open)
		sim_log(sim, "slave %04X contactor %s", s->id, open ? "opened (FC B2)" : "closed (FC B1)");
	s->contactor_open = open;
	slave_retarget(s, now);
	if (!s->muted)
		slave_send_reply(sim, s, open ? TWC_MSG_STOP_ACK : TWC_MSG_START_ACK, 0);
}

static void slave_query(struct twc_sim *sim, struct sim_slave *s, const struct twc_msg *m, uint64_t now)
{
	if (!s->fw453)
		return;
	switch (m->type) {
	case TWC_MSG_START:
		slave_contactor(sim, s, false, now);
		return;
	case TWC_MSG_STOP:
		slave_contactor(sim, s, true, now);
		return;
	default:
		break;
	}
	if (s->muted)
		return;
	slave_update(sim, s, now);
	switch (m->type) {
	case TWC_MSG_METER_REQ:
		slave_send_meter(sim, s);
		break;
	case TWC_MSG_FIRMWARE_REQ:
		slave_send_reply(sim, s, TWC_MSG_FIRMWARE, 0);
		break;
	case TWC_MSG_SERIAL_REQ:
		slave_send_reply(sim, s, TWC_MSG_SERIAL, 0);
		break;
	case TWC_MSG_VIN_REQ:
		slave_send_reply(sim, s, TWC_MSG_VIN, m->u.vin.part);
		break;
	default:
		break;
	}
}

static struct sim_slave *slave_by_id(struct twc_sim *sim, uint16_t id)
{
	for (int i = 0; i < sim->count; i++)
		if (sim->slave[i].id == id)
			return &sim->slave[i];
	return NULL;
}

/* Frames a master must never send: FC 19 / FC 1A write flash, FB E8 crashes the unit, and any
 * heartbeat command other than 00/05/09 (02 locks the slave in an error state). */
static bool frame_forbidden(const uint8_t *body, size_t len)
{
	if (body[0] == 0xFC && (body[1] == 0x19 || body[1] == 0x1A))
		return true;
	if (body[0] == 0xFB && body[1] == 0xE8)
		return true;
	if (body[0] == 0xFB && body[1] == 0xE0 && len > 6)
		return body[6] != TWC_CMD_NONE && body[6] != TWC_CMD_SET_V1 && body[6] != TWC_CMD_SET_V2;
	return false;
}

static void sim_echo(struct twc_sim *sim, const uint8_t *body, size_t len)
{
	uint8_t wire[TWC_WIRE_MAX];
	/* The checksum was verified, so re-encoding gives back exactly what the master sent. */
	int w = twc_frame_encode(body, len - 1, wire, sizeof(wire));

	if (w > 0)
		sim->env.write(sim->env.user, wire, (size_t)w);
}

/* A verified master frame as the slaves hear it: at the end of its wire time, unless @collided. */
static void sim_hear_body(struct twc_sim *sim, const uint8_t *body, size_t len, bool collided)
{
	uint64_t now = sim->now_ms;
	struct sim_slave *s;
	struct twc_msg m;
	int rc;

	sim->stats.rx_frames++;
	if (frame_forbidden(body, len)) {
		sim->stats.forbidden++;
		sim_log(sim, "forbidden frame from the master: %02X %02X %02X", body[0], body[1],
			len > 6 ? body[6] : 0);
		return;
	}
	if (collided) {
		sim->stats.master_lost++;
		sim_log(sim, "master frame %02X %02X garbled by a collision: no slave hears it", body[0], body[1]);
		return;
	}
	rc = twc_msg_decode(body, len, &m);
	if (rc == -EPROTO)
		return; /* not ours to understand (FC 1D idle, legacy queries, ...) */
	if (rc < 0) {
		sim->decode_bad++;
		return;
	}
	switch (m.type) {
	case TWC_MSG_MASTER_LINKREADY1:
		sim->stats.linkready1++;
		sim_on_linkready(sim, &m, now);
		break;
	case TWC_MSG_MASTER_LINKREADY2:
		sim->stats.linkready2++;
		sim_on_linkready(sim, &m, now);
		break;
	case TWC_MSG_MASTER_HEARTBEAT:
		s = slave_by_id(sim, m.dst);
		if (s && slave_hears(sim, s))
			slave_heartbeat(sim, s, &m, now);
		break;
	case TWC_MSG_METER_REQ:
	case TWC_MSG_FIRMWARE_REQ:
	case TWC_MSG_SERIAL_REQ:
	case TWC_MSG_VIN_REQ:
	case TWC_MSG_START:
	case TWC_MSG_STOP:
		s = slave_by_id(sim, m.dst);
		if (s && slave_hears(sim, s))
			slave_query(sim, s, &m, now);
		break;
	default:
		break; /* other slaves' frames */
	}
	sim_totals_update(sim);
}

static void master_hear(struct twc_sim *sim, struct sim_tx *t)
{
	uint64_t saved = sim->event_us;

	t->heard = true;
	sim->event_us = t->end_us;
	sim_hear_body(sim, t->body, t->body_len, t->collided);
	sim->event_us = saved;
}

/* The receiver verified a master frame whose last byte leaves the wire at sim->master_line_us. */
static void sim_on_frame(void *user, const uint8_t *body, size_t len)
{
	struct twc_sim *sim = user;
	struct sim_tx *t;

	/* The adapter hears itself as it sends, not a wire time later. */
	if (sim->echo)
		sim_echo(sim, body, len);
	if (sim->ideal) {
		sim_hear_body(sim, body, len, false);
		return;
	}
	t = wire_slot(sim);
	if (!t)
		return; /* cannot happen: wire_slot() always frees a master record when it must */
	t->used = true;
	t->who = SIM_MASTER;
	t->start_us = sim->master_frame_us;
	t->end_us = sim->master_line_us;
	memcpy(t->body, body, len);
	t->body_len = len;
	wire_check(sim, t);
}

static bool config_valid(const struct twc_sim_config *cfg)
{
	if (cfg->slaves < 1 || cfg->slaves > TWC_SIM_MAX_SLAVES)
		return false;
	if (cfg->voltage <= 0 || cfg->voltage > 1000 || cfg->phases < 1 || cfg->phases > 3)
		return false;
	for (int i = 0; i < cfg->slaves; i++) {
		const struct twc_sim_slave_config *c = &cfg->slave[i];

		if (c->protocol != 1 && c->protocol != 2)
			return false;
		if (c->rated_amps < 1 || c->rated_amps > 655)
			return false;
	}
	if (cfg->latency_min_ms < 0 || cfg->latency_max_ms < cfg->latency_min_ms ||
	    cfg->latency_max_ms > TWC_SIM_LATENCY_LIMIT_MS)
		return false;
	return true;
}

struct twc_sim *twc_sim_new(const struct twc_sim_config *cfg, const struct twc_sim_env *env, uint64_t now_ms)
{
	struct twc_sim *sim;

	if (!cfg || !env || !env->write || !config_valid(cfg)) {
		errno = EINVAL;
		return NULL;
	}
	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return NULL;
	sim->env = *env;
	sim->voltage = cfg->voltage;
	sim->phases = cfg->phases;
	/* Spread small seeds (0, 1, 2...) over the whole state; xorshift must never hold 0. */
	sim->rng = cfg->seed * 2654435761u ^ 0x9E3779B9u;
	if (sim->rng == 0)
		sim->rng = 1;
	sim->lat_rng = cfg->seed * 2246822519u ^ 0x85EBCA6Bu;
	if (sim->lat_rng == 0)
		sim->lat_rng = 1;
	sim->ideal = cfg->ideal_bus;
	if (cfg->latency_max_ms == 0) {
		sim->lat_min_ms = TWC_SIM_LATENCY_MIN_MS;
		sim->lat_max_ms = TWC_SIM_LATENCY_MAX_MS;
	} else {
		sim->lat_min_ms = cfg->latency_min_ms;
		sim->lat_max_ms = cfg->latency_max_ms;
	}
	sim->count = cfg->slaves;
	sim->now_ms = now_ms;
	sim->event_us = ms_to_us(now_ms);
	twc_rx_init(&sim->rx, TWC_RX_LENIENT);

	for (int i = 0; i < sim->count; i++) {
		const struct twc_sim_slave_config *c = &cfg->slave[i];
		struct sim_slave *s = &sim->slave[i];

		s->index = i;
		s->protocol = c->protocol;
		s->rated_amps = c->rated_amps;
		s->fw453 = c->fw453;
		s->id = c->id ? c->id : random_id(sim, s, 0);
		s->sign = c->sign ? c->sign : random_sign(sim);
		if (c->serial[0])
			snprintf(s->serial, sizeof(s->serial), "%.11s", c->serial);
		else /* chars 7-10 of a real TSN are the unit's ID */
			snprintf(s->serial, sizeof(s->serial), "A18B000%04X", (unsigned)s->id);
		s->told_amps = -1;
		s->linkready_due_ms = now_ms + SIM_LINKREADY_FIRST_MS + (uint64_t)i * SIM_STAGGER_MS;
		s->energy_ms = now_ms;
		s->updated_ms = now_ms;
		s->state = TWC_ST_READY;
		sim_log(sim, "slave %d: ID %04X sign %02X protocol %d rated %d A%s", i, s->id, s->sign, s->protocol,
			s->rated_amps, s->fw453 ? " fw 4.5.3" : "");
	}
	return sim;
}

void twc_sim_free(struct twc_sim *sim)
{
	free(sim);
}

/* When slave @s next announces itself unasked (periodic or burst), UINT64_MAX if it does not. */
static uint64_t slave_announce_ms(const struct sim_slave *s)
{
	uint64_t t;

	if (s->muted)
		return UINT64_MAX;
	t = s->linkready_due_ms > s->linkready_hold_ms ? s->linkready_due_ms : s->linkready_hold_ms;
	if (s->burst_left > 0 && s->burst_due_ms < t)
		t = s->burst_due_ms;
	return t;
}

/* The master frame the slaves hear next (the earliest end on the wire), or NULL. */
static struct sim_tx *next_hearing(const struct twc_sim *sim)
{
	const struct sim_tx *best = NULL;

	for (int k = 0; k < SIM_WIRE_SLOTS; k++) {
		const struct sim_tx *t = &sim->wire[k];

		if (t->used && t->who == SIM_MASTER && !t->heard && (!best || t->end_us < best->end_us))
			best = t;
	}
	return (struct sim_tx *)best;
}

/* Move the model's clock to @ms (never back) and everything clock-driven with it. */
static void sim_clock(struct twc_sim *sim, uint64_t ms)
{
	if (ms < sim->now_ms)
		ms = sim->now_ms;
	sim->now_ms = ms;
	sim_advance(sim, ms);
}

static void slave_announce(struct twc_sim *sim, struct sim_slave *s, uint64_t now_ms)
{
	uint64_t due = s->linkready_due_ms > s->linkready_hold_ms ? s->linkready_due_ms : s->linkready_hold_ms;

	if (now_ms >= due) {
		slave_send_linkready(sim, s);
		s->linkready_due_ms = now_ms + SIM_LINKREADY_PERIOD_MS;
	}
	if (s->burst_left > 0 && now_ms >= s->burst_due_ms) {
		slave_send_linkready(sim, s);
		s->burst_left--;
		s->burst_due_ms = now_ms + SIM_BURST_SPACING_MS;
		/* Any linkready restarts the 10 s period, so a burst is not followed at once by another. */
		s->linkready_due_ms = now_ms + SIM_LINKREADY_PERIOD_MS;
	}
}

/* Everything due by @now_ms happens at its own time, in time order (a slave's announcement at 10 ms
 * collides with a master frame on the wire from 5 to 25 ms however late we are ticked), then the
 * bytes whose wire time has ended go out. */
void twc_sim_tick(struct twc_sim *sim, uint64_t now_ms)
{
	uint64_t now_us;

	if (now_ms < sim->now_ms)
		now_ms = sim->now_ms;
	now_us = ms_to_us(now_ms);
	sim->tick_us = now_us;
	for (;;) {
		struct sim_tx *h = next_hearing(sim);
		uint64_t t_us = h ? h->end_us : UINT64_MAX;
		int who = -1;

		for (int i = 0; i < sim->count; i++) {
			uint64_t a = ms_to_us(slave_announce_ms(&sim->slave[i]));

			if (a < t_us) {
				t_us = a;
				who = i;
			}
		}
		if (t_us > now_us)
			break;
		sim_clock(sim, us_to_ms_ceil(t_us));
		sim->event_us = t_us;
		if (who >= 0)
			slave_announce(sim, &sim->slave[who], sim->now_ms);
		else
			master_hear(sim, h);
	}
	sim->event_us = now_us;
	sim_clock(sim, now_ms);
	twc_rx_expire(&sim->rx, now_ms);
	wire_deliver(sim, now_us);
	wire_forget(sim, now_us);
}

void twc_sim_input(struct twc_sim *sim, const uint8_t *data, size_t len, uint64_t now_ms)
{
	uint64_t now_us;

	/* Timers first, so a reply reflects the state at the moment the request arrived. */
	twc_sim_tick(sim, now_ms);
	if (sim->ideal) {
		twc_rx_feed(&sim->rx, data, len, sim->now_ms, sim_on_frame, sim);
		return;
	}
	/* The bytes arrive at once (a pty or a socket) but leave the master's UART at 9600 bps: each one
	 * is on the wire after the one before it. */
	now_us = ms_to_us(sim->now_ms);
	for (size_t i = 0; i < len; i++) {
		uint64_t start = sim->master_line_us > now_us ? sim->master_line_us : now_us;

		sim->master_line_us = start + TWC_SIM_BYTE_US;
		/* The receiver's own rule (twc_rx_feed): a C0 outside a frame, or after too few bytes
		 * to close one, starts a frame. */
		if (data[i] == TWC_FRAME_END && (!sim->rx.in_frame || sim->rx.len < TWC_BODY_MIN))
			sim->master_frame_us = start;
		twc_rx_feed(&sim->rx, &data[i], 1, sim->now_ms, sim_on_frame, sim);
	}
}

static void deadline_min(uint64_t *d, uint64_t t)
{
	if (t < *d)
		*d = t;
}

uint64_t twc_sim_next_deadline(const struct twc_sim *sim)
{
	uint64_t d = UINT64_MAX;
	const struct sim_tx *h = next_hearing(sim);

	if (twc_rx_busy(&sim->rx))
		deadline_min(&d, sim->rx.last_byte_ms + TWC_RX_PARTIAL_TIMEOUT_MS);
	if (h)
		deadline_min(&d, us_to_ms_ceil(h->end_us));
	for (int k = 0; k < SIM_WIRE_SLOTS; k++) {
		const struct sim_tx *t = &sim->wire[k];

		if (t->used && t->who != SIM_MASTER && t->sent < t->len)
			deadline_min(&d, us_to_ms_ceil(t->start_us + (uint64_t)(t->sent + 1) * TWC_SIM_BYTE_US));
	}
	for (int i = 0; i < sim->count; i++) {
		const struct sim_slave *s = &sim->slave[i];

		deadline_min(&d, slave_announce_ms(s));
		if (s->ramping) {
			deadline_min(&d, s->ramp_start_ms + SIM_RAMP_MS);
			deadline_min(&d, s->updated_ms + SIM_RAMP_STEP_MS);
		}
		if (s->ack_until_ms)
			deadline_min(&d, s->ack_until_ms);
		if (s->heard_master && !s->timed_out)
			deadline_min(&d, s->last_heartbeat_ms + SIM_SILENCE_MS);
	}
	return d;
}

static bool vin_ok(const char *vin)
{
	size_t n;

	if (!vin)
		return true;
	n = strnlen(vin, TWC_VIN_LEN + 1);
	if (n > TWC_VIN_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (vin[i] < 0x21 || vin[i] > 0x7E)
			return false;
	return true;
}

int twc_sim_plug(struct twc_sim *sim, int slave, int car_max_amps, const char *vin, uint64_t now_ms)
{
	struct sim_slave *s;

	if (!sim || slave < 0 || slave >= sim->count || car_max_amps < 1 || car_max_amps > 655 || !vin_ok(vin))
		return -EINVAL;
	s = &sim->slave[slave];
	twc_sim_tick(sim, now_ms);
	/* A new car starts from nothing, even if one was already plugged in. */
	slave_stop(s);
	s->plugged = true;
	s->car_max_amps = car_max_amps;
	snprintf(s->vin, sizeof(s->vin), "%s", vin ? vin : "");
	slave_retarget(s, sim->now_ms);
	sim_totals_update(sim);
	sim_log(sim, "car plugged on slave %d (%04X), max %d A%s%s", slave, s->id, car_max_amps,
		s->vin[0] ? ", VIN " : "", s->vin);
	return 0;
}

int twc_sim_unplug(struct twc_sim *sim, int slave, uint64_t now_ms)
{
	struct sim_slave *s;

	if (!sim || slave < 0 || slave >= sim->count)
		return -EINVAL;
	s = &sim->slave[slave];
	twc_sim_tick(sim, now_ms);
	if (s->plugged)
		sim_log(sim, "car unplugged from slave %d (%04X)", slave, s->id);
	s->plugged = false;
	s->vin[0] = '\0';
	/* A stop by FC B2 lasts for the plug-in session. */
	s->contactor_open = false;
	slave_retarget(s, sim->now_ms);
	sim_totals_update(sim);
	return 0;
}

static const char *fault_name(enum twc_sim_fault f)
{
	switch (f) {
	case TWC_SIM_FAULT_ECHO:
		return "echo";
	case TWC_SIM_FAULT_NOISE:
		return "noise";
	case TWC_SIM_FAULT_BAD_CHECKSUM:
		return "bad checksum";
	case TWC_SIM_FAULT_MUTE:
		return "mute";
	case TWC_SIM_FAULT_DEAF:
		return "deaf";
	case TWC_SIM_FAULT_DROP:
		return "drop";
	case TWC_SIM_FAULT_DELAY:
		return "delay";
	}
	return "?";
}

static void slave_fault(struct twc_sim *sim, struct sim_slave *s, enum twc_sim_fault f, int value)
{
	bool on = value != 0;

	switch (f) {
	case TWC_SIM_FAULT_BAD_CHECKSUM:
		s->bad_checksum = on;
		break;
	case TWC_SIM_FAULT_MUTE:
		s->muted = on;
		if (on)
			s->burst_left = 0;
		break;
	case TWC_SIM_FAULT_DEAF:
		s->deaf = on;
		break;
	case TWC_SIM_FAULT_DROP:
		/* Ends by itself: slave_hears() compares each frame's time with this, so no deadline. */
		s->drop_until_ms = on ? sim->now_ms + (uint64_t)value * 1000u : 0;
		break;
	case TWC_SIM_FAULT_DELAY:
		s->delay_ms = value;
		break;
	default:
		break;
	}
}

int twc_sim_fault(struct twc_sim *sim, int slave, enum twc_sim_fault f, int value)
{
	bool on = value != 0;

	if (!sim || slave < -1 || slave >= sim->count)
		return -EINVAL;
	switch (f) {
	case TWC_SIM_FAULT_ECHO:
		sim->echo = on;
		break;
	case TWC_SIM_FAULT_NOISE:
		sim->noise = on;
		break;
	case TWC_SIM_FAULT_DELAY:
		if (value > TWC_SIM_LATENCY_LIMIT_MS)
			return -EINVAL;
		/* fall through */
	case TWC_SIM_FAULT_DROP:
		if (value < 0)
			return -EINVAL;
		/* fall through */
	case TWC_SIM_FAULT_BAD_CHECKSUM:
	case TWC_SIM_FAULT_MUTE:
	case TWC_SIM_FAULT_DEAF:
		for (int i = 0; i < sim->count; i++)
			if (slave == -1 || slave == i)
				slave_fault(sim, &sim->slave[i], f, value);
		break;
	default:
		return -EINVAL;
	}
	if (f == TWC_SIM_FAULT_DELAY && slave >= 0)
		sim_log(sim, "fault delay on slave %d: %d ms%s", slave, value, on ? "" : " (default latency)");
	else if (f == TWC_SIM_FAULT_DELAY)
		sim_log(sim, "fault delay: %d ms%s", value, on ? "" : " (default latency)");
	else if (f == TWC_SIM_FAULT_DROP && on && slave >= 0)
		sim_log(sim, "fault drop on slave %d for %d s", slave, value);
	else if (f == TWC_SIM_FAULT_DROP && on)
		sim_log(sim, "fault drop for %d s", value);
	else if (slave >= 0)
		sim_log(sim, "fault %s on slave %d %s", fault_name(f), slave, on ? "on" : "off");
	else
		sim_log(sim, "fault %s %s", fault_name(f), on ? "on" : "off");
	return 0;
}

int twc_sim_slave_count(const struct twc_sim *sim)
{
	return sim ? sim->count : 0;
}

int twc_sim_slave_status(const struct twc_sim *sim, int slave, struct twc_sim_slave_status *out)
{
	const struct sim_slave *s;

	if (!sim || !out || slave < 0 || slave >= sim->count)
		return -EINVAL;
	s = &sim->slave[slave];
	memset(out, 0, sizeof(*out));
	out->id = s->id;
	out->sign = s->sign;
	out->protocol = s->protocol;
	out->state_code = s->state;
	out->plugged = s->plugged;
	out->charging = s->active;
	out->heard_master = s->heard_master;
	out->master_id = s->master_id;
	out->told_amps = s->told_amps;
	out->held_amps = held(s);
	out->in_force_amps = out->held_amps;
	out->drawn_amps = s->drawn;
	out->energy_wh = s->energy_wh;
	out->heartbeats = s->heartbeats;
	out->max_gap_ms = s->max_gap_ms;
	out->last_heartbeat_ms = s->last_heartbeat_ms;
	out->contactor_open = s->contactor_open;
	out->muted = s->muted;
	out->deaf = !slave_hears(sim, s);
	out->delay_ms = s->delay_ms;
	out->burst_left = s->burst_left;
	out->garbled = s->garbled;
	snprintf(out->vin, sizeof(out->vin), "%s", s->vin);
	return 0;
}

void twc_sim_stats(const struct twc_sim *sim, struct twc_sim_stats *out)
{
	const struct twc_rx_stats *r = &sim->rx.stats;
	const struct twc_rx_stats *b = &sim->rx_base;

	*out = sim->stats;
	out->rx_bad = (r->bad_checksum - b->bad_checksum) + (r->bad_length - b->bad_length) +
		      (r->bad_escape - b->bad_escape) + (r->overflow - b->overflow) + (r->timeouts - b->timeouts) +
		      sim->decode_bad;
}

void twc_sim_reset_stats(struct twc_sim *sim, uint64_t now_ms)
{
	twc_sim_tick(sim, now_ms);
	sim->rx_base = sim->rx.stats;
	sim->decode_bad = 0;
	sim->stats.rx_frames = 0;
	sim->stats.linkready1 = 0;
	sim->stats.linkready2 = 0;
	sim->stats.forbidden = 0;
	sim->stats.collisions = 0;
	sim->stats.master_lost = 0;
	sim->stats.slave_garbled = 0;
	sim_totals_update(sim);
	sim->stats.max_held_total = sim->stats.held_total;
	sim->stats.max_in_force_total = sim->stats.held_total;
	sim->stats.max_drawn_total = sim->stats.drawn_total;
	for (int i = 0; i < sim->count; i++) {
		struct sim_slave *s = &sim->slave[i];

		s->heartbeats = 0;
		s->max_gap_ms = 0;
		s->garbled = 0;
		/* A gap that straddles the reset only counts from the reset on. */
		if (s->gap_valid)
			s->gap_base_ms = sim->now_ms;
	}
}
