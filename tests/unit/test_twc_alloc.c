/*
 * Tests of the allocation and clamp: worked examples of fair sharing, pausing when short, the
 * protocol 2 floor, and property tests over millions of random inputs and random heartbeat sequences
 * checking that no grant ever exceeds a limit and that the sum of the limits in force never exceeds
 * the wiring at any step. The same for the site split over several buses (twc_alloc_site()): worked
 * examples, and random sequences in which buses raise, lower, fall silent and come back between
 * recomputations. TWCGW_TEST_QUICK=1 (used under valgrind) runs fewer iterations.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "twc_alloc.h"

static const struct twc_limits lim40 = {40, 32, 6};

static struct twc_alloc_slave car(uint8_t proto, int cap, bool charging)
{
	struct twc_alloc_slave s = {0};

	s.present = true;
	s.protocol = proto;
	s.rated_amps = 32;
	s.cap_amps = cap;
	s.wants = true;
	s.charging = charging;
	return s;
}

static void test_single_car_gets_per_twc_limit(void **state)
{
	struct twc_alloc_slave s[3] = {car(2, 80, true)};
	int t[3];

	(void)state;
	twc_alloc_share(&lim40, 100, 0, s, t);
	assert_int_equal(t[0], 32);
	assert_int_equal(t[1], 0);
	assert_int_equal(t[2], 0);
}

static void test_fair_share_two_and_three(void **state)
{
	struct twc_alloc_slave s[3] = {car(2, 32, true), car(2, 32, false), {0}};
	int t[3];

	(void)state;
	twc_alloc_share(&lim40, 40, 0, s, t);
	assert_int_equal(t[0], 20);
	assert_int_equal(t[1], 20);
	s[2] = car(2, 32, false);
	twc_alloc_share(&lim40, 40, 0, s, t);
	assert_int_equal(t[0] + t[1] + t[2], 40);
	assert_in_range(t[0], 13, 14);
	assert_in_range(t[1], 13, 14);
	assert_in_range(t[2], 13, 14);
}

static void test_capped_car_leaves_room_for_others(void **state)
{
	struct twc_alloc_slave s[3] = {car(2, 32, true), car(2, 10, true), car(2, 32, true)};
	int t[3];

	(void)state;
	twc_alloc_share(&lim40, 40, 0, s, t);
	assert_int_equal(t[1], 10);
	assert_int_equal(t[0], 15);
	assert_int_equal(t[2], 15);
}

static void test_available_clipped_to_wiring(void **state)
{
	struct twc_alloc_slave s[3] = {car(2, 32, true), car(2, 32, true), car(2, 32, true)};
	int t[3];

	(void)state;
	twc_alloc_share(&lim40, 500, 0, s, t);
	assert_int_equal(t[0] + t[1] + t[2], 40);
	twc_alloc_share(&lim40, -5, 0, s, t);
	assert_int_equal(t[0] + t[1] + t[2], 0);
}

static void test_short_pauses_newcomer_not_below_minimum(void **state)
{
	struct twc_alloc_slave s[3] = {car(2, 32, false), car(2, 32, true), {0}};
	int t[3];

	(void)state;
	/* 10 A cannot give two cars 6 A each: the charging one keeps it, the other waits. */
	twc_alloc_share(&lim40, 10, 0, s, t);
	assert_int_equal(t[1], 10);
	assert_int_equal(t[0], 0);
	/* 12 A: both get exactly the minimum. */
	twc_alloc_share(&lim40, 12, 0, s, t);
	assert_int_equal(t[0], 6);
	assert_int_equal(t[1], 6);
	/* 5 A: nobody. */
	twc_alloc_share(&lim40, 5, 0, s, t);
	assert_int_equal(t[0] + t[1], 0);
}

static void test_min_amps_config_respected(void **state)
{
	const struct twc_limits lim = {40, 32, 12};
	struct twc_alloc_slave s[3] = {car(1, 32, true), car(1, 32, true), car(1, 32, true)};
	int t[3];

	(void)state;
	twc_alloc_share(&lim, 30, 0, s, t);
	/* 30 A, minimum 12: only two cars fit; they get 15 each. */
	assert_int_equal(t[0], 15);
	assert_int_equal(t[1], 15);
	assert_int_equal(t[2], 0);
}

static void test_protocol2_floor_reserved(void **state)
{
	struct twc_alloc_slave s[3] = {car(2, 32, true), car(2, 32, true), {0}};
	int t[3];

	(void)state;
	/* Slave 2 has no car but was told a limit: it holds 6 A we cannot take back over the bus. */
	s[2].present = true;
	s[2].protocol = 2;
	s[2].rated_amps = 32;
	s[2].told = true;
	s[2].held_amps = 6;
	twc_alloc_share(&lim40, 40, 0, s, t);
	assert_int_equal(t[0] + t[1], 34);
	assert_int_equal(t[2], 0);
}

static void test_cap_below_minimum_means_no_charge(void **state)
{
	struct twc_alloc_slave s[3] = {car(2, 5, true), car(2, 0, false), {0}};
	int t[3];

	(void)state;
	twc_alloc_share(&lim40, 40, 0, s, t);
	assert_int_equal(t[0], 0);
	assert_int_equal(t[1], 0);
}

static void test_rating_limits_offer(void **state)
{
	struct twc_alloc_slave s[3] = {car(2, 80, true)};
	int t[3];

	(void)state;
	s[0].rated_amps = 16;
	twc_alloc_share(&lim40, 40, 0, s, t);
	assert_int_equal(t[0], 16);
	/* A nonsense rating (below any TWC minimum) gets nothing. */
	s[0].rated_amps = 2;
	twc_alloc_share(&lim40, 40, 0, s, t);
	assert_int_equal(t[0], 0);
}

static void test_in_force(void **state)
{
	(void)state;
	assert_int_equal(twc_alloc_in_force(false, 0, 2, 0), 0);
	assert_int_equal(twc_alloc_in_force(false, 0, 2, 32), 32);  /* before we speak: what it says */
	assert_int_equal(twc_alloc_in_force(true, 0, 2, 32), 6);    /* protocol 2: 0 means 6 */
	assert_int_equal(twc_alloc_in_force(true, 3, 2, 0), 6);
	assert_int_equal(twc_alloc_in_force(true, 16, 2, 0), 16);
	assert_int_equal(twc_alloc_in_force(true, 0, 1, 32), 0);    /* protocol 1: 0 means stop */
	assert_int_equal(twc_alloc_in_force(true, 12, 1, 0), 12);
}

/* Held: the most of what it was told (with the protocol 2 floor), what it reports (rounded up) and
 * what its car draws more than TWC_DRAW_TOLERANCE_CA above that (rounded up). */
static void test_held(void **state)
{
	(void)state;
	assert_int_equal(twc_alloc_held(false, 0, 2, -1, -1), 0);      /* nothing known */
	assert_int_equal(twc_alloc_held(false, 0, 2, 3200, -1), 32);   /* before we speak: its report */
	assert_int_equal(twc_alloc_held(true, 0, 2, 0, 0), 6);         /* told 0, protocol 2: 6 */
	assert_int_equal(twc_alloc_held(true, 0, 1, 0, 0), 0);         /* told 0, protocol 1: 0 */
	assert_int_equal(twc_alloc_held(true, 10, 2, 1600, -1), 16);   /* lowering not reported yet */
	assert_int_equal(twc_alloc_held(true, 16, 2, 1000, -1), 16);   /* raise counts once written */
	assert_int_equal(twc_alloc_held(true, 10, 2, 1001, -1), 11);   /* a report rounds up */
	assert_int_equal(twc_alloc_held(true, 10, 2, 1000, 1050), 10); /* within tolerance */
	assert_int_equal(twc_alloc_held(true, 10, 2, 1000, 1051), 11); /* car still coming down */
	assert_int_equal(twc_alloc_held(true, 10, 2, 1000, 2390), 24);
	assert_int_equal(twc_alloc_held(true, 0, 1, -1, 800), 8);      /* a stubborn car on a stopped p1 */
}

static void test_clamp_lower_before_raise(void **state)
{
	struct twc_alloc_slave s[3] = {car(2, 32, true), car(2, 32, false), {0}};
	struct twc_grant g;

	(void)state;
	/* Slave 0 holds 32 A; slave 1 should get 20 but only 8 A are free: not enough for 6+? it is. */
	s[0].told = true;
	s[0].held_amps = 32;
	g = twc_alloc_clamp(&lim40, 0, s, 1, 20);
	assert_true(g.command);
	assert_int_equal(g.amps, 8);
	/* With 36 A held there is no room for a minimum: slave 1 keeps waiting (command 00). */
	s[0].held_amps = 36;
	g = twc_alloc_clamp(&lim40, 0, s, 1, 20);
	assert_false(g.command);
	/* Slave 0 is lowered to its target at once. */
	g = twc_alloc_clamp(&lim40, 0, s, 0, 20);
	assert_true(g.command);
	assert_int_equal(g.amps, 20);
}

static void test_clamp_new_car_waits(void **state)
{
	struct twc_alloc_slave s[3] = {car(2, 0, false)};
	struct twc_grant g;

	(void)state;
	g = twc_alloc_clamp(&lim40, 0, s, 0, 0);
	assert_false(g.command);
	/* Once told, a stop is repeated as an explicit 0. */
	s[0].told = true;
	s[0].held_amps = 6;
	g = twc_alloc_clamp(&lim40, 0, s, 0, 0);
	assert_true(g.command);
	assert_int_equal(g.amps, 0);
}

static void test_clamp_v2_zero_is_not_a_hidden_raise(void **state)
{
	const struct twc_limits lim = {12, 12, 6};
	struct twc_alloc_slave s[3] = {car(2, 12, true), car(2, 12, false), {0}};
	struct twc_grant g;

	(void)state;
	/* Slave 0 holds 8 A; slave 1 reports 2 A in force (never told). Telling it 0 would make 6 A. */
	s[0].told = true;
	s[0].held_amps = 8;
	s[1].held_amps = 2;
	g = twc_alloc_clamp(&lim, 0, s, 1, 0);
	assert_false(g.command);
}

static void test_clamp_restart_over_limit_lowers(void **state)
{
	struct twc_alloc_slave s[3] = {car(2, 32, true), car(2, 32, true), car(2, 32, true)};
	struct twc_grant g;

	(void)state;
	/* After a restart the slaves report 32 A each (96 > 40): any grant lowers. */
	for (int i = 0; i < 3; i++)
		s[i].held_amps = 32;
	g = twc_alloc_clamp(&lim40, 0, s, 0, 14);
	assert_true(g.command);
	assert_true(g.amps <= 14);
}

/* ---- properties ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static long iterations(long full)
{
	const char *q = getenv("TWCGW_TEST_QUICK");

	return q && *q == '1' ? full / 100 : full;
}

static struct twc_limits random_limits(void)
{
	struct twc_limits l;

	l.wiring_max_all = 1 + (int)rnd(120);
	l.wiring_max_per_twc = 1 + (int)rnd((uint32_t)l.wiring_max_all);
	l.min_amps = 1 + (int)rnd((uint32_t)l.wiring_max_per_twc);
	return l;
}

static void random_slave(struct twc_alloc_slave *s)
{
	memset(s, 0, sizeof(*s));
	s->present = rnd(4) != 0;
	s->protocol = (uint8_t)(1 + rnd(2));
	s->rated_amps = (int)rnd(100);
	s->cap_amps = (int)rnd(100);
	s->wants = rnd(3) != 0;
	s->charging = rnd(2);
	s->told = rnd(2);
	s->held_amps = s->told ? twc_alloc_in_force(true, (int)rnd(60), s->protocol, 0) : (int)rnd(4) * (int)rnd(20);
}

static int total(const struct twc_alloc_slave *s)
{
	int sum = 0;

	for (int i = 0; i < TWC_MAX_SLAVES; i++)
		if (s[i].present)
			sum += s[i].held_amps;
	return sum;
}

static void check_share(const struct twc_limits *l, int avail, const struct twc_alloc_slave *s)
{
	int t[TWC_MAX_SLAVES], sum = 0, granted = 0;

	twc_alloc_share(l, avail, 0, s, t);
	for (int i = 0; i < TWC_MAX_SLAVES; i++) {
		if (t[i] == 0) {
			/* A paused protocol 2 slave that holds a limit still takes 6 A. */
			if (s[i].present && s[i].protocol == 2 && s[i].held_amps > 0)
				sum += 6;
			continue;
		}
		assert_true(s[i].present && s[i].wants);
		assert_true(t[i] >= twc_alloc_min_offer(l, s[i].protocol));
		assert_true(t[i] <= l->wiring_max_per_twc);
		assert_true(t[i] <= s[i].rated_amps);
		assert_true(t[i] <= s[i].cap_amps);
		sum += t[i];
		granted += t[i];
	}
	/* Floors alone may exceed a tiny wiring (nothing on the bus can undo them); grants never add to that. */
	if (granted > 0) {
		assert_true(sum <= l->wiring_max_all);
		assert_true(granted <= avail);
	}
}

/* Apply a clamp result to slave i and check it against every limit. */
static void apply_and_check(const struct twc_limits *l, struct twc_alloc_slave *s, int i, int target)
{
	int before_total = total(s), before_me = s[i].held_amps;
	struct twc_grant g = twc_alloc_clamp(l, 0, s, i, target);

	if (!g.command)
		return;
	assert_true(g.amps >= 0);
	assert_true(g.amps <= l->wiring_max_per_twc);
	assert_true(g.amps <= (s[i].rated_amps > 0 ? s[i].rated_amps : 0));
	assert_true(g.amps == 0 || g.amps >= twc_alloc_min_offer(l, s[i].protocol));
	s[i].told = true;
	s[i].held_amps = twc_alloc_in_force(true, g.amps, s[i].protocol, 0);
	if (before_total <= l->wiring_max_all)
		assert_true(total(s) <= l->wiring_max_all);
	else
		assert_true(s[i].held_amps <= before_me); /* over the limit already: only ever lower */
}

static void test_property_random_inputs(void **state)
{
	long n = iterations(2000000);

	(void)state;
	for (long k = 0; k < n; k++) {
		struct twc_limits l = random_limits();
		struct twc_alloc_slave s[TWC_MAX_SLAVES];
		int avail = (int)rnd(300) - 20;

		for (int i = 0; i < TWC_MAX_SLAVES; i++)
			random_slave(&s[i]);
		check_share(&l, avail, s);
		apply_and_check(&l, s, (int)rnd(TWC_MAX_SLAVES), (int)rnd(200) - 10);
	}
}

/* Random sequences from a clean start: cars come and go, caps and the available current change,
 * heartbeats go out round-robin; after every heartbeat the sum in force is within the wiring. */
static void test_property_sequences(void **state)
{
	long n = iterations(20000);

	(void)state;
	for (long run = 0; run < n; run++) {
		struct twc_limits l = random_limits();
		struct twc_alloc_slave s[TWC_MAX_SLAVES];
		int avail = (int)rnd(200);

		memset(s, 0, sizeof(s));
		for (int i = 0; i < TWC_MAX_SLAVES; i++) {
			s[i].present = rnd(5) != 0;
			s[i].protocol = (uint8_t)(1 + rnd(2));
			s[i].rated_amps = rnd(2) ? 32 : 80;
		}
		for (int step = 0; step < 100; step++) {
			int i = step % TWC_MAX_SLAVES, t[TWC_MAX_SLAVES];

			switch (rnd(6)) {
			case 0:
				s[rnd(3)].wants ^= 1;
				break;
			case 1:
				s[rnd(3)].cap_amps = (int)rnd(90);
				break;
			case 2:
				avail = (int)rnd(200);
				break;
			case 3:
				l.wiring_max_all = l.wiring_max_per_twc + (int)rnd(60); /* SIGHUP may lower it */
				break;
			default:
				break;
			}
			s[i].charging = s[i].wants && s[i].held_amps > 0;
			if (!s[i].present)
				continue;
			twc_alloc_share(&l, avail, 0, s, t);
			apply_and_check(&l, s, i, t[i]);
		}
	}
}

/* ---- the site: several buses on one supply ---- */

static struct twc_site_bus sbus(int held, int need, int wants, int start, int cars)
{
	struct twc_site_bus b = {held, need, wants, start, cars};

	return b;
}

/* For every bus: its budget plus what every other may hold (the larger of held and budget). */
static void check_site_invariant(int site, const struct twc_site_bus *b, int n, const int *budget)
{
	for (int i = 0; i < n; i++) {
		long sum = budget[i];

		for (int j = 0; j < n; j++)
			if (j != i)
				sum += b[j].held > budget[j] ? b[j].held : budget[j];
		assert_true(sum <= site);
	}
}

static void test_site_fair_and_safe(void **state)
{
	struct twc_site_bus b[3];
	int bud[3];

	(void)state;
	/* Two buses, one car each, nothing held yet: half each. */
	b[0] = sbus(0, 0, 32, 6, 1);
	b[1] = sbus(0, 0, 32, 6, 1);
	assert_int_equal(twc_alloc_site(40, b, 2, bud), 0);
	assert_int_equal(bud[0], 20);
	assert_int_equal(bud[1], 20);
	/* One bus charges at 32 when the other's car arrives: it comes down to 20, the other may only
	 * use what is free now (8) until it has. */
	b[0] = sbus(32, 0, 32, 6, 1);
	assert_int_equal(twc_alloc_site(40, b, 2, bud), 0);
	assert_int_equal(bud[0], 20);
	assert_int_equal(bud[1], 8);
	check_site_invariant(40, b, 2, bud);
	b[0].held = 20;
	assert_int_equal(twc_alloc_site(40, b, 2, bud), 0);
	assert_int_equal(bud[1], 20);
	/* Per car: two cars on one bus, one on the other, 48 A: 16 A a car. */
	b[0] = sbus(0, 0, 40, 6, 2);
	b[1] = sbus(0, 0, 32, 6, 1);
	assert_int_equal(twc_alloc_site(48, b, 2, bud), 0);
	assert_int_equal(bud[0], 32);
	assert_int_equal(bud[1], 16);
	/* What a bus wants caps it; the rest goes to the others. */
	b[0] = sbus(0, 0, 10, 6, 1);
	b[1] = sbus(0, 0, 32, 6, 1);
	b[2] = sbus(0, 0, 32, 6, 1);
	assert_int_equal(twc_alloc_site(50, b, 3, bud), 0);
	assert_int_equal(bud[0], 10);
	assert_int_equal(bud[1] + bud[2], 40);
	/* Short: 10 A for two cars of 6 A minimum. The one already charging keeps its place; the other
	 * gets no share (not 5 A it could not use). */
	b[0] = sbus(0, 0, 32, 6, 1);
	b[1] = sbus(8, 0, 32, 6, 1);
	assert_int_equal(twc_alloc_site(10, b, 2, bud), 0);
	assert_int_equal(bud[0], 0);
	assert_int_equal(bud[1], 10);
	/* A bus whose TWCs are only reserved (its link is gone) keeps them: need = held. */
	b[0] = sbus(20, 20, 20, 20, 0);
	b[1] = sbus(0, 6, 32, 12, 1);
	assert_int_equal(twc_alloc_site(32, b, 2, bud), 0);
	assert_int_equal(bud[0], 20);
	assert_int_equal(bud[1], 12);
	check_site_invariant(32, b, 2, bud);
	/* ... and when they are released, the room goes to the other. */
	b[0] = sbus(0, 0, 0, 0, 0);
	assert_int_equal(twc_alloc_site(32, b, 2, bud), 0);
	assert_int_equal(bud[0], 0);
	assert_int_equal(bud[1], 32);
	/* Holding more than the site already: nobody is raised. */
	b[0] = sbus(30, 12, 32, 12, 1);
	b[1] = sbus(10, 0, 32, 6, 1);
	assert_int_equal(twc_alloc_site(32, b, 2, bud), -ERANGE);
	assert_true(bud[0] <= 30 && bud[1] <= 10);
	assert_true(bud[0] + bud[1] <= 32);
	assert_int_equal(twc_alloc_site(32, b, TWC_SITE_MAX_BUSES + 1, bud), -EINVAL);
	assert_int_equal(twc_alloc_site(32, b, 0, bud), 0);
}

/* A bus of the random site: what its TWCs hold and what it would do with a budget. */
struct rbus {
	struct twc_site_bus v;
	bool silent;   /* link lost: it can neither raise nor lower ... */
	int silent_for; /* ... until its TWCs must have stopped (steps) */
};

static void rbus_want(struct rbus *r)
{
	int floors = r->silent ? r->v.held : (int)rnd(3) * 6;

	if (floors > r->v.held)
		floors = r->v.held;
	r->v.need = floors;
	r->v.cars = r->silent ? 0 : (int)rnd(4);
	r->v.wants = r->v.need + r->v.cars * (int)rnd(33);
	r->v.start = r->v.cars ? r->v.need + (int)rnd(7) : r->v.need;
	if (r->v.start > r->v.wants)
		r->v.start = r->v.wants;
}

/* Random sites over many steps. Between two computations of the budgets (which come at random,
 * as bus events would trigger them), buses raise up to their budget, lower towards it (never below
 * what they can be brought to), fall silent with their TWCs still holding, and come back or get
 * released. After every single step the sum held is within the site and the invariant holds for the
 * budgets in force. */
static void test_site_property_sequences(void **state)
{
	long runs = iterations(20000);

	(void)state;
	for (long run = 0; run < runs; run++) {
		int n = 1 + (int)rnd(6), site = 6 + (int)rnd(150);
		struct rbus r[6];
		struct twc_site_bus v[6];
		int bud[6];

		memset(r, 0, sizeof(r));
		for (int i = 0; i < n; i++) {
			rbus_want(&r[i]);
			bud[i] = 0;
		}
		for (int step = 0; step < 200; step++) {
			int i = (int)rnd((uint32_t)n);
			struct rbus *x = &r[i];

			switch (rnd(8)) {
			case 0:
			case 1: {
				for (int k = 0; k < n; k++)
					v[k] = r[k].v;
				assert_int_equal(twc_alloc_site(site, v, n, bud), 0);
				for (int k = 0; k < n; k++) {
					assert_true(bud[k] >= 0);
					/* Never more than it wants, unless it holds that much already. */
					assert_true(bud[k] <= v[k].wants || bud[k] <= v[k].held);
				}
				check_site_invariant(site, v, n, bud);
				break;
			}
			case 2:
				if (!x->silent)
					rbus_want(x);
				break;
			case 3:
				/* The link goes: its TWCs keep what they hold, it can do nothing. */
				if (!x->silent && rnd(4) == 0) {
					x->silent = true;
					x->silent_for = 5 + (int)rnd(40);
					rbus_want(x);
				}
				break;
			default:
				if (x->silent) {
					if (--x->silent_for <= 0) {
						/* Back, or released: either way they hold nothing more than before. */
						x->silent = false;
						if (rnd(2))
							x->v.held = 0;
						rbus_want(x);
					}
					break;
				}
				if (x->v.held < bud[i] && x->v.held < x->v.wants) {
					int top = bud[i] < x->v.wants ? bud[i] : x->v.wants;

					x->v.held += 1 + (int)rnd((uint32_t)(top - x->v.held));
				} else if (x->v.held > bud[i] && x->v.held > x->v.need) {
					int low = bud[i] > x->v.need ? bud[i] : x->v.need;

					x->v.held -= 1 + (int)rnd((uint32_t)(x->v.held - low));
				}
				break;
			}
			/* The promise: what all may hold never exceeds the site, and the budgets in force keep
			 * it so for whatever any bus does next. */
			long held = 0;

			for (int k = 0; k < n; k++) {
				held += r[k].v.held;
				v[k] = r[k].v;
			}
			assert_true(held <= site);
			check_site_invariant(site, v, n, bud);
		}
	}
}

/* Buses that follow their budgets settle on the fair split: with equal cars, equal amps. */
static void test_site_converges(void **state)
{
	struct twc_site_bus b[3] = {sbus(32, 0, 32, 6, 1), sbus(0, 0, 32, 6, 1), sbus(0, 0, 32, 6, 1)};
	int bud[3];

	(void)state;
	for (int round = 0; round < 10; round++) {
		assert_int_equal(twc_alloc_site(45, b, 3, bud), 0);
		check_site_invariant(45, b, 3, bud);
		for (int i = 0; i < 3; i++)
			b[i].held = bud[i]; /* each lowers or raises to its budget */
		assert_true(b[0].held + b[1].held + b[2].held <= 45);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(bud[i], 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_car_gets_per_twc_limit),
		cmocka_unit_test(test_fair_share_two_and_three),
		cmocka_unit_test(test_capped_car_leaves_room_for_others),
		cmocka_unit_test(test_available_clipped_to_wiring),
		cmocka_unit_test(test_short_pauses_newcomer_not_below_minimum),
		cmocka_unit_test(test_min_amps_config_respected),
		cmocka_unit_test(test_protocol2_floor_reserved),
		cmocka_unit_test(test_cap_below_minimum_means_no_charge),
		cmocka_unit_test(test_rating_limits_offer),
		cmocka_unit_test(test_in_force),
		cmocka_unit_test(test_held),
		cmocka_unit_test(test_clamp_lower_before_raise),
		cmocka_unit_test(test_clamp_new_car_waits),
		cmocka_unit_test(test_clamp_v2_zero_is_not_a_hidden_raise),
		cmocka_unit_test(test_clamp_restart_over_limit_lowers),
		cmocka_unit_test(test_property_random_inputs),
		cmocka_unit_test(test_property_sequences),
		cmocka_unit_test(test_site_fair_and_safe),
		cmocka_unit_test(test_site_property_sequences),
		cmocka_unit_test(test_site_converges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
