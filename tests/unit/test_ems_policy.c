/*
 * Tests of the policy engine with injected time only: the monotonic clock starts at MONO0, the wall
 * clock at Monday 2026-01-05 00:00 UTC, both move together, and the local calendar is UTC. Every
 * eval checks that the amps are 0 or within [min, max] and that the next deadline lies in the
 * future. Track-green runs against a simulated car that draws what it was last given, so the grid
 * meter sees the car (grid = car - surplus). Covered: defaults, the mode names and every
 * params_check error; off and charge-now; scheduled windows (midnight crossing, day bits, highest
 * amps wins, 24 h windows) and a week walked edge by edge through the deadline; until -> then; mode
 * switches resetting the timers and reloads keeping them; the surplus from the grid meter (no double
 * counting of the chargers, battery discharge is not surplus) and from pv - load with the load
 * including or excluding the chargers (and lagging them); margin; 1 and 3 phases; the enable delay
 * to the millisecond; the disable side holding min_amps while it counts the grid energy the minimum
 * costs (partial surplus stretches it, sun pays it back); the dwell holding an early stop and an
 * early restart; an hour of clouds; unknown and stale data; battery priority; monotonic time going
 * backwards; stats in every mode; and a seeded property test of 20000 random evaluations.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ems_policy.h"

#define MONO0 1000000u
#define WALL0 1767571200000LL /* 2026-01-05T00:00:00Z, a Monday */
#define DAY_MS 86400000LL
#define S(x) ((uint64_t)((x) * 1000.0 + 0.5))
#define HM(d, h, m) ((uint64_t)(d) * DAY_MS + (uint64_t)(h) * 3600000u + (uint64_t)(m) * 60000u)

enum { SUN = 1, MON = 2, TUE = 4, WED = 8, THU = 16, FRI = 32, SAT = 64 };

static struct ems_policy *pol;
static struct ems_policy_params P;
static struct ems_policy_decision D; /* the last decision */
static uint64_t now_t;                /* ms after MONO0 of the last eval */

static int setup(void **state)
{
	(void)state;
	pol = NULL;
	memset(&D, 0, sizeof(D));
	now_t = 0;
	ems_policy_params_default(&P, 32, 6, 230, 1);
	P.mode = EMS_POLICY_TRACK_GREEN;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ems_policy_free(pol);
	pol = NULL;
	return 0;
}

static void start_engine(void)
{
	pol = ems_policy_new(&P);
	assert_non_null(pol);
}

static void reload(void)
{
	assert_int_equal(ems_policy_set_params(pol, &P), 0);
}

static struct ems_reading rd(double grid, double pv, double load, double battery, double soc)
{
	struct ems_reading r;

	ems_reading_clear(&r);
	r.v[EMS_GRID] = grid;
	r.v[EMS_PV] = pv;
	r.v[EMS_LOAD] = load;
	r.v[EMS_BATTERY] = battery;
	r.v[EMS_SOC] = soc;
	return r;
}

static struct ems_reading grid(double w)
{
	return rd(w, NAN, NAN, NAN, NAN);
}

static struct ems_reading unknown(void)
{
	return rd(NAN, NAN, NAN, NAN, NAN);
}

static uint64_t deadline(void)
{
	return ems_policy_next_deadline(pol);
}

/* Evaluate at @t ms after the start; the calendar follows the wall clock. */
static struct ems_policy_decision ev(uint64_t t, struct ems_reading r, double charger_w)
{
	struct ems_policy_input in = { 0 };
	int64_t wall = WALL0 + (int64_t)t;
	uint64_t d;

	in.now_ms = MONO0 + t;
	in.wall_ms = wall;
	in.wday = (int)((wall / DAY_MS + 4) % 7); /* the epoch was a Thursday */
	in.minute = (int)(wall % DAY_MS / 60000);
	in.reading = r;
	in.charger_w = charger_w;
	ems_policy_eval(pol, &in, &D);
	d = deadline();
	assert_true(d == UINT64_MAX || d > in.now_ms);
	assert_true(D.amps == 0 || (D.amps >= P.min_amps && D.amps <= P.max_amps));
	assert_non_null(D.reason);
	assert_int_equal(D.charging, D.amps > 0);
	now_t = t;
	return D;
}

/* The car draws what it was last given; the house leaves @surplus_w for it; the grid meter sees both. */
static struct ems_policy_decision sun(uint64_t t, double surplus_w)
{
	double car = (double)D.amps * P.voltage * P.phases;

	return ev(t, grid(car - surplus_w), car);
}

static void assert_reason(const char *want)
{
	assert_string_equal(D.reason, want);
}

static void assert_stats(unsigned starts, unsigned stops)
{
	struct ems_policy_stats st;

	ems_policy_stats(pol, &st);
	assert_int_equal(st.starts, starts);
	assert_int_equal(st.stops, stops);
}

/* ------------------------------------------------------------------ params */

static void test_defaults_and_names(void **state)
{
	(void)state;
	ems_policy_params_default(&P, 40, 6, 230, 3);
	assert_int_equal(P.mode, EMS_POLICY_OFF);
	assert_int_equal(P.max_amps, 40);
	assert_int_equal(P.min_amps, 6);
	assert_int_equal(P.voltage, 230);
	assert_int_equal(P.phases, 3);
	assert_int_equal(P.enable_delay_s, 60);
	assert_int_equal(P.disable_delay_s, 180);
	assert_int_equal(P.dwell_s, 120);
	assert_int_equal(P.margin_w, 100);
	assert_int_equal(P.battery_soc, 0);
	assert_true(P.load_includes_chargers);
	assert_false(P.has_until);
	assert_int_equal(P.n_windows, 0);
	assert_int_equal(ems_policy_params_check(&P, NULL, 0), 0);

	for (int m = EMS_POLICY_OFF; m <= EMS_POLICY_TRACK_GREEN; m++)
		assert_int_equal(ems_policy_mode_from_name(ems_policy_mode_name(m)), m);
	assert_string_equal(ems_policy_mode_name(EMS_POLICY_CHARGE_NOW), "charge-now");
	assert_string_equal(ems_policy_mode_name(EMS_POLICY_TRACK_GREEN), "track-green");
	assert_null(ems_policy_mode_name((enum ems_policy_mode)4));
	assert_int_equal(ems_policy_mode_from_name("solar"), -1);
	assert_int_equal(ems_policy_mode_from_name(""), -1);
	assert_int_equal(ems_policy_mode_from_name(NULL), -1);

	/* No eval yet: nothing is timed. */
	start_engine();
	assert_true(deadline() == UINT64_MAX);
	assert_stats(0, 0);
}

struct bad_case {
	void (*mutate)(struct ems_policy_params *p);
	const char *err;
};

#define MUT(name, body) \
	static void name(struct ems_policy_params *p) \
	{ \
		body; \
	}
MUT(m_max0, p->max_amps = 0)
MUT(m_max241, p->max_amps = 241)
MUT(m_min0, p->min_amps = 0)
MUT(m_min_gt_max, p->min_amps = 33)
MUT(m_volt0, p->voltage = 0)
MUT(m_volt481, p->voltage = 481)
MUT(m_phases2, p->phases = 2)
MUT(m_enable, p->enable_delay_s = -1)
MUT(m_disable, p->disable_delay_s = 86401)
MUT(m_dwell, p->dwell_s = -5)
MUT(m_margin, p->margin_w = 100001)
MUT(m_soc, p->battery_soc = 101)
MUT(m_nwin, p->n_windows = EMS_POLICY_MAX_WINDOWS + 1)
MUT(m_nwin_neg, p->n_windows = -1)
MUT(m_mode, p->mode = (enum ems_policy_mode)7)
MUT(m_then, { p->has_until = true; p->then = (enum ems_policy_mode)9; })
MUT(m_then_same, { p->has_until = true; p->mode = p->then = EMS_POLICY_CHARGE_NOW; })
MUT(m_days0, { p->n_windows = 3; p->windows[1].days = 0; })
MUT(m_days128, { p->n_windows = 3; p->windows[0].days = 128; })
MUT(m_start, { p->n_windows = 3; p->windows[2].start_min = 1440; })
MUT(m_end, { p->n_windows = 3; p->windows[2].end_min = -1; })
MUT(m_amps_low, { p->n_windows = 3; p->windows[2].amps = 5; })
MUT(m_amps_high, { p->n_windows = 3; p->windows[1].amps = 33; })

static void test_params_check_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ m_max0, "max_amps: must be from 1 to 240" },
		{ m_max241, "max_amps: must be from 1 to 240" },
		{ m_min0, "min_amps: must be from 1 to 32" },
		{ m_min_gt_max, "min_amps: must be from 1 to 32" },
		{ m_volt0, "voltage: must be from 100 to 480" },
		{ m_volt481, "voltage: must be from 100 to 480" },
		{ m_phases2, "phases: must be 1 or 3" },
		{ m_enable, "enable_delay_s: must be from 0 to 86400" },
		{ m_disable, "disable_delay_s: must be from 0 to 86400" },
		{ m_dwell, "dwell_s: must be from 0 to 86400" },
		{ m_margin, "margin_w: must be from 0 to 100000" },
		{ m_soc, "battery_soc: must be from 0 to 100" },
		{ m_nwin, "n_windows: must be from 0 to 16" },
		{ m_nwin_neg, "n_windows: must be from 0 to 16" },
		{ m_mode, "mode: must be from 0 to 3" },
		{ m_then, "then: must be from 0 to 3" },
		{ m_then_same, "then: must differ from mode" },
		{ m_days0, "windows[1].days: must be from 1 to 127" },
		{ m_days128, "windows[0].days: must be from 1 to 127" },
		{ m_start, "windows[2].start_min: must be from 0 to 1439" },
		{ m_end, "windows[2].end_min: must be from 0 to 1439" },
		{ m_amps_low, "windows[2].amps: must be from 6 to 32" },
		{ m_amps_high, "windows[1].amps: must be from 6 to 32" },
	};
	struct ems_policy_params good;
	char err[128], tiny[8];

	(void)state;
	ems_policy_params_default(&good, 32, 6, 230, 1);
	for (int i = 0; i < 3; i++)
		good.windows[i] = (struct ems_policy_window){ .days = 127, .start_min = 0, .end_min = 1439, .amps = 6 };
	good.n_windows = 3;
	assert_int_equal(ems_policy_params_check(&good, err, sizeof(err)), 0);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ems_policy_params p = good;

		cases[i].mutate(&p);
		err[0] = 0;
		assert_int_equal(ems_policy_params_check(&p, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, cases[i].err);
		assert_int_equal(ems_policy_params_check(&p, NULL, 0), -EINVAL);
		assert_int_equal(ems_policy_params_check(&p, tiny, sizeof(tiny)), -EINVAL);
		assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
		errno = 0;
		assert_null(ems_policy_new(&p));
		assert_int_equal(errno, EINVAL);
	}
	assert_int_equal(ems_policy_params_check(NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "params: missing");

	/* The edges of every range are allowed; "then" only counts with has_until. */
	good.max_amps = 240;
	good.min_amps = 240;
	good.n_windows = 0;
	good.voltage = 480;
	good.enable_delay_s = good.disable_delay_s = good.dwell_s = 86400;
	good.margin_w = 100000;
	good.battery_soc = 100;
	good.then = good.mode;
	assert_int_equal(ems_policy_params_check(&good, err, sizeof(err)), 0);
	good.min_amps = good.max_amps = 1;
	good.voltage = 100;
	good.enable_delay_s = good.disable_delay_s = good.dwell_s = good.margin_w = good.battery_soc = 0;
	assert_int_equal(ems_policy_params_check(&good, err, sizeof(err)), 0);

	/* A rejected reload leaves the engine as it was. */
	P.mode = EMS_POLICY_CHARGE_NOW;
	start_engine();
	P.voltage = 99;
	assert_int_equal(ems_policy_set_params(pol, &P), -EINVAL);
	ev(0, unknown(), 0);
	assert_int_equal(D.amps, 32);
}

/* ------------------------------------------------------------------ off, charge-now, scheduled */

static void test_off_and_charge_now(void **state)
{
	(void)state;
	P.mode = EMS_POLICY_OFF;
	start_engine();
	ev(0, grid(-20000), 0);
	assert_int_equal(D.amps, 0);
	assert_false(D.charging);
	assert_int_equal(D.mode, EMS_POLICY_OFF);
	assert_reason("off");
	assert_true(isnan(D.surplus_w));
	assert_true(deadline() == UINT64_MAX);

	P.mode = EMS_POLICY_CHARGE_NOW;
	reload();
	assert_true(deadline() == MONO0 + 1); /* decide again at once */
	ev(S(1), unknown(), NAN); /* charge-now needs no meter */
	assert_int_equal(D.amps, 32);
	assert_true(D.charging);
	assert_int_equal(D.mode, EMS_POLICY_CHARGE_NOW);
	assert_reason("charge-now");
	assert_true(isnan(D.surplus_w));
	assert_true(deadline() == UINT64_MAX);
	assert_stats(1, 0);

	P.mode = EMS_POLICY_OFF;
	reload();
	ev(S(2), grid(0), 7360);
	assert_int_equal(D.amps, 0);
	assert_stats(1, 1);
}

static void add_window(int days, int start_h, int start_m, int end_h, int end_m, int amps)
{
	P.windows[P.n_windows++] = (struct ems_policy_window){
		.days = (uint8_t)days, .start_min = start_h * 60 + start_m, .end_min = end_h * 60 + end_m, .amps = amps
	};
}

/* Mon-Fri nights at 16 A, Saturday late morning at 10 A, and a 24 h window from Sunday 08:00 at 8 A. */
static void week_schedule(void)
{
	P.mode = EMS_POLICY_SCHEDULED;
	add_window(MON | TUE | WED | THU | FRI, 22, 0, 6, 0, 16);
	add_window(SAT, 10, 0, 12, 0, 10);
	add_window(SUN, 8, 0, 8, 0, 8);
}

static void test_scheduled_windows(void **state)
{
	static const struct {
		uint64_t t;
		int amps;
	} checks[] = {
		{ HM(0, 0, 0), 8 },     /* Monday 00:00: Sunday's 24 h window */
		{ HM(0, 7, 59), 8 },
		{ HM(0, 8, 0), 0 },     /* end is exclusive */
		{ HM(0, 21, 59), 0 },
		{ HM(0, 22, 0), 16 },   /* start is inclusive */
		{ HM(1, 5, 59), 16 },   /* Tuesday morning: Monday's night */
		{ HM(1, 6, 0), 0 },
		{ HM(4, 23, 30), 16 },  /* Friday night */
		{ HM(5, 5, 59), 16 },   /* Saturday morning belongs to Friday */
		{ HM(5, 6, 0), 0 },
		{ HM(5, 9, 59), 0 },
		{ HM(5, 10, 0), 10 },
		{ HM(5, 11, 59), 10 },
		{ HM(5, 12, 0), 0 },
		{ HM(5, 22, 0), 0 },    /* Saturday is not a night day */
		{ HM(6, 5, 0), 0 },     /* nor does Saturday's night run into Sunday */
		{ HM(6, 7, 59), 0 },
		{ HM(6, 8, 0), 8 },
		{ HM(6, 23, 59), 8 },
		{ HM(7, 7, 59), 8 },    /* next Monday */
		{ HM(7, 8, 0), 0 },
	};

	(void)state;
	week_schedule();
	start_engine();
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		ev(checks[i].t, unknown(), 0);
		assert_int_equal(D.amps, checks[i].amps);
		assert_reason(checks[i].amps ? "window" : "outside windows");
		assert_int_equal(D.mode, EMS_POLICY_SCHEDULED);
		assert_true(isnan(D.surplus_w));
	}
	/* 8 -> 0 -> 16 -> 0 -> 16 -> 0 -> 10 -> 0 -> 8 -> 0 */
	assert_stats(5, 5);
}

static void test_scheduled_highest_amps(void **state)
{
	(void)state;
	P.mode = EMS_POLICY_SCHEDULED;
	add_window(MON, 8, 0, 18, 0, 10);
	add_window(MON, 12, 0, 13, 0, 20);
	add_window(MON | TUE, 12, 30, 14, 0, 6);
	start_engine();
	ev(HM(0, 11, 0), unknown(), 0);
	assert_int_equal(D.amps, 10);
	ev(HM(0, 12, 0), unknown(), 0);
	assert_int_equal(D.amps, 20);
	ev(HM(0, 12, 45), unknown(), 0);
	assert_int_equal(D.amps, 20);
	ev(HM(0, 13, 0), unknown(), 0);
	assert_int_equal(D.amps, 10);
	ev(HM(0, 18, 0), unknown(), 0);
	assert_int_equal(D.amps, 0);
	ev(HM(1, 12, 45), unknown(), 0);
	assert_int_equal(D.amps, 6);
	assert_stats(2, 1);
}

/* Walk a week and a day from deadline to deadline: each lands on the next window edge to the ms,
 * and one ms before it nothing has changed yet. */
static void test_scheduled_deadline_walk(void **state)
{
	static const struct {
		uint64_t t;
		int amps;
	} edges[] = {
		{ HM(0, 8, 0), 0 },   { HM(0, 22, 0), 16 }, { HM(1, 6, 0), 0 },  { HM(1, 22, 0), 16 },
		{ HM(2, 6, 0), 0 },   { HM(2, 22, 0), 16 }, { HM(3, 6, 0), 0 },  { HM(3, 22, 0), 16 },
		{ HM(4, 6, 0), 0 },   { HM(4, 22, 0), 16 }, { HM(5, 6, 0), 0 },  { HM(5, 10, 0), 10 },
		{ HM(5, 12, 0), 0 },  { HM(6, 8, 0), 8 },   { HM(7, 8, 0), 0 },  { HM(7, 22, 0), 16 },
	};

	(void)state;
	week_schedule();
	start_engine();
	ev(S(30.25), unknown(), 0);
	assert_int_equal(D.amps, 8);
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		int before = D.amps;

		assert_true(deadline() == MONO0 + edges[i].t);
		ev(edges[i].t - 1, unknown(), 0);
		assert_int_equal(D.amps, before);
		assert_true(deadline() == MONO0 + edges[i].t);
		ev(edges[i].t, unknown(), 0);
		assert_int_equal(D.amps, edges[i].amps);
	}

	/* From anywhere inside a minute, the next edge is counted from the wall clock's second. */
	ev(HM(8, 21, 30) + S(15.5), unknown(), 0);
	assert_true(deadline() == MONO0 + HM(8, 22, 0));

	/* No windows: no deadline. */
	P.n_windows = 0;
	reload();
	ev(HM(8, 23, 0), unknown(), 0);
	assert_int_equal(D.amps, 0);
	assert_true(deadline() == UINT64_MAX);
}

/* ------------------------------------------------------------------ until, reloads, mode switches */

static void test_until_then(void **state)
{
	(void)state;
	P.mode = EMS_POLICY_CHARGE_NOW;
	P.has_until = true;
	P.until_wall_ms = WALL0 + 3600000;
	P.then = EMS_POLICY_OFF;
	start_engine();
	ev(S(0.5), unknown(), 0);
	assert_int_equal(D.amps, 32);
	assert_int_equal(D.mode, EMS_POLICY_CHARGE_NOW);
	assert_true(deadline() == MONO0 + 3600000);
	ev(3600000 - 1, unknown(), 0);
	assert_int_equal(D.amps, 32);
	ev(3600000, unknown(), 0);
	assert_int_equal(D.amps, 0);
	assert_int_equal(D.mode, EMS_POLICY_OFF);
	assert_reason("off");
	assert_true(deadline() == UINT64_MAX);
	assert_stats(1, 1);

	/* Until with a schedule after it, the until already past: the window edges. */
	P.then = EMS_POLICY_SCHEDULED;
	add_window(MON, 2, 0, 5, 0, 12);
	reload();
	ev(HM(0, 1, 30), unknown(), 0);
	assert_int_equal(D.mode, EMS_POLICY_SCHEDULED);
	assert_int_equal(D.amps, 0);
	assert_reason("outside windows");
	assert_true(deadline() == MONO0 + HM(0, 2, 0));
	ev(HM(0, 2, 0), unknown(), 0);
	assert_int_equal(D.amps, 12);
	assert_true(deadline() == MONO0 + HM(0, 5, 0));
	/* The until moved on: charge-now again, up to it. */
	P.until_wall_ms = WALL0 + HM(0, 4, 0);
	reload();
	ev(HM(0, 2, 30), unknown(), 0);
	assert_int_equal(D.mode, EMS_POLICY_CHARGE_NOW);
	assert_int_equal(D.amps, 32);
	assert_true(deadline() == MONO0 + HM(0, 4, 0)); /* charge-now has no windows */
	ev(HM(0, 4, 0), unknown(), 0);
	assert_int_equal(D.amps, 12);
	assert_true(deadline() == MONO0 + HM(0, 5, 0));
}

static void test_until_leaves_track_green(void **state)
{
	(void)state;
	P.has_until = true;
	P.until_wall_ms = WALL0 + S(600);
	P.then = EMS_POLICY_CHARGE_NOW;
	start_engine();
	sun(0, 3000);
	assert_true(deadline() == MONO0 + S(60)); /* the enable delay comes before the until */
	sun(S(60), 3000);
	assert_int_equal(D.amps, 12);
	sun(S(300), 0);
	assert_reason("disable delay");
	assert_true(deadline() == MONO0 + S(480));
	sun(S(400), 0);
	assert_true(deadline() == MONO0 + S(480));
	P.until_wall_ms = WALL0 + S(450);
	reload();
	sun(S(450), 0);
	assert_int_equal(D.mode, EMS_POLICY_CHARGE_NOW);
	assert_int_equal(D.amps, 32);
	assert_stats(1, 0); /* charging on: not a stop */

	/* Back to track-green (the until moves on): the disable delay starts over. */
	P.until_wall_ms = WALL0 + S(460);
	P.mode = EMS_POLICY_CHARGE_NOW;
	P.then = EMS_POLICY_TRACK_GREEN;
	reload();
	sun(S(460), 0);
	assert_int_equal(D.mode, EMS_POLICY_TRACK_GREEN);
	assert_int_equal(D.amps, 6);
	assert_reason("disable delay");
	assert_true(deadline() == MONO0 + S(640));
	sun(S(640), 0);
	assert_int_equal(D.amps, 0);
	assert_stats(1, 1);
}

static void test_mode_switch_resets_timers_reload_keeps_them(void **state)
{
	(void)state;
	start_engine();
	sun(0, 3000);
	sun(S(30), 3000);
	P.margin_w = 0; /* a reload in the same mode keeps the enable timer */
	reload();
	assert_true(deadline() == MONO0 + S(30) + 1);
	sun(S(40), 3000);
	assert_true(deadline() == MONO0 + S(60));
	sun(S(50), 3000);
	P.mode = EMS_POLICY_SCHEDULED; /* outside windows */
	reload();
	sun(S(55), 3000);
	assert_int_equal(D.amps, 0);
	assert_reason("outside windows");
	P.mode = EMS_POLICY_TRACK_GREEN;
	reload();
	sun(S(58), 3000);
	assert_reason("enable delay");
	assert_true(deadline() == MONO0 + S(118));
	sun(S(117.999), 3000);
	assert_int_equal(D.amps, 0);
	sun(S(118), 3000);
	assert_int_equal(D.amps, 13);
	assert_stats(1, 0);

	/* A reload changing max_amps applies at the next eval, charging carries on. */
	P.max_amps = 10;
	reload();
	sun(S(119), 3000);
	assert_int_equal(D.amps, 10);
	assert_stats(1, 0);
}

static void test_charge_now_into_track_green_keeps_charging(void **state)
{
	(void)state;
	P.mode = EMS_POLICY_CHARGE_NOW;
	start_engine();
	sun(0, 0);
	assert_int_equal(D.amps, 32);
	P.mode = EMS_POLICY_TRACK_GREEN;
	reload();
	sun(S(10), 5000);
	assert_int_equal(D.amps, 21);
	assert_true(D.charging);
	/* 400 W of surplus after the margin: the minimum (1380 W) costs 980 W from the grid, so the
	 * 180 s budget of 1380 W lasts 248400 / 980 = 253.47 s. */
	sun(S(20), 500);
	assert_int_equal(D.amps, 6);
	assert_reason("disable delay");
	sun(S(200), 500);
	assert_int_equal(D.amps, 6);
	assert_reason("disable delay");
	assert_true(deadline() == MONO0 + S(20) + 253470);
	sun(S(20) + 253469, 500);
	assert_int_equal(D.amps, 6);
	sun(S(20) + 253470, 500);
	assert_int_equal(D.amps, 0);
	assert_reason("no surplus");
	assert_stats(1, 1);
}

/* ------------------------------------------------------------------ the surplus */

static void test_grid_no_double_counting(void **state)
{
	(void)state;
	P.margin_w = 0;
	P.enable_delay_s = 0;
	P.dwell_s = 0;
	start_engine();
	ev(0, grid(-2300), 0); /* 10 A of export, nothing charging */
	assert_int_equal(D.amps, 10);
	assert_true(D.surplus_w == 2300);
	ev(S(5), grid(0), 2300); /* the car now draws those 10 A: the export is gone */
	assert_int_equal(D.amps, 10);
	assert_reason("surplus");
	assert_true(D.surplus_w == 2300);
	ev(S(10), grid(-1150), 2300);
	assert_int_equal(D.amps, 15);
	ev(S(15), grid(460), 2300); /* importing 2 A: give 2 A back */
	assert_int_equal(D.amps, 8);
	ev(S(20), rd(0, NAN, NAN, 500, NAN), 2300); /* the home battery feeds the car: not surplus */
	assert_int_equal(D.amps, 7);
	ev(S(25), rd(0, NAN, NAN, -1000, NAN), 2300); /* no priority: the battery's charging is surplus */
	assert_int_equal(D.amps, 14);
	ev(S(30), rd(-1000, 99999, 0, 0, NAN), 2300); /* grid wins over pv - load */
	assert_int_equal(D.amps, 14);
	ev(S(32), rd(-1000, NAN, NAN, NAN, NAN), 14 * 230); /* the battery reported before, not now */
	assert_int_equal(D.amps, 6);
	assert_reason("meter unknown");
	ev(S(35), rd(-1e6, NAN, NAN, 0, NAN), 6 * 230);
	assert_int_equal(D.amps, 32);
	assert_stats(1, 0);
}

static void test_pv_load(void **state)
{
	(void)state;
	P.margin_w = 0;
	P.enable_delay_s = 0;
	P.dwell_s = 0;
	start_engine();
	/* The load includes the car: the house is 3000 - 2300 = 700 W. */
	ev(0, rd(NAN, 5000, 3000, NAN, NAN), 2300);
	assert_int_equal(D.amps, 18);
	assert_true(D.surplus_w == 4300);
	/* The meter lags the car: the house counts as 0, not negative. */
	ev(S(5), rd(NAN, 5000, 1000, NAN, NAN), 2300);
	assert_int_equal(D.amps, 21);
	assert_true(D.surplus_w == 5000);

	/* The load excludes the chargers: what the car draws does not matter. */
	P.load_includes_chargers = false;
	reload();
	ev(S(10), rd(NAN, 5000, 700, NAN, NAN), 2300);
	assert_int_equal(D.amps, 18);
	ev(S(15), rd(NAN, 5000, 700, NAN, NAN), 0);
	assert_int_equal(D.amps, 18);
	ev(S(20), rd(NAN, 5000, 3000, NAN, NAN), 2300);
	assert_int_equal(D.amps, 8);

	/* A battery discharge is already outside pv - load. */
	ev(S(25), rd(NAN, 5000, 700, 2000, 50), 4140);
	assert_int_equal(D.amps, 18);
	assert_stats(1, 0);
}

static void test_margin(void **state)
{
	(void)state;
	P.enable_delay_s = 0;
	start_engine();
	ev(0, grid(-1479), 0);
	assert_int_equal(D.amps, 0);
	assert_reason("no surplus");
	assert_true(D.surplus_w == 1379);
	ev(S(1), grid(-1480), 0);
	assert_int_equal(D.amps, 6);
	assert_true(D.surplus_w == 1380);
	P.margin_w = 1000;
	reload();
	ev(S(2), grid(-2380), 1380);
	assert_int_equal(D.amps, 12);
	assert_true(D.surplus_w == 2760);
}

static void test_phases(void **state)
{
	(void)state;
	P.margin_w = 0;
	P.enable_delay_s = 0;
	P.dwell_s = 0;
	P.disable_delay_s = 0;
	P.phases = 3;
	start_engine();
	ev(0, grid(-4139), 0);
	assert_int_equal(D.amps, 0);
	ev(S(1), grid(-4140), 0); /* 6 A on three phases */
	assert_int_equal(D.amps, 6);
	ev(S(2), grid(-4140), 4140);
	assert_int_equal(D.amps, 12);
	ev(S(3), grid(100000), 4140);
	assert_int_equal(D.amps, 0);
	ev(S(4), grid(-30000), 0);
	assert_int_equal(D.amps, 32);

	P.phases = 1;
	reload();
	ev(S(5), grid(-4140), 0);
	assert_int_equal(D.amps, 18);
}

/* ------------------------------------------------------------------ timers */

static void test_enable_delay_boundary(void **state)
{
	(void)state;
	start_engine();
	sun(0, 3000);
	assert_int_equal(D.amps, 0);
	assert_false(D.charging);
	assert_reason("enable delay");
	assert_true(D.surplus_w == 2900);
	assert_true(deadline() == MONO0 + S(60));
	sun(S(59.999), 3000);
	assert_int_equal(D.amps, 0);
	assert_reason("enable delay");
	assert_true(deadline() == MONO0 + S(60));
	sun(S(60), 3000);
	assert_int_equal(D.amps, 12);
	assert_true(D.charging);
	assert_reason("surplus");
	assert_true(deadline() == UINT64_MAX);
	assert_stats(1, 0);
	sun(S(65), 3000); /* the car draws 12 A now: still 12 A */
	assert_int_equal(D.amps, 12);
	sun(S(70), 5000);
	assert_int_equal(D.amps, 21);
	sun(S(75), 8000);
	assert_int_equal(D.amps, 32);

	/* A dip below min_amps starts the enable timer over. */
	teardown(NULL);
	setup(NULL);
	start_engine();
	sun(0, 3000);
	sun(S(30), 1000);
	assert_reason("no surplus");
	assert_true(deadline() == UINT64_MAX);
	sun(S(40), 3000);
	assert_true(deadline() == MONO0 + S(100));
	sun(S(99), 3000);
	assert_int_equal(D.amps, 0);
	sun(S(100), 3000);
	assert_int_equal(D.amps, 12);
}

static void test_disable_delay_holds_min(void **state)
{
	(void)state;
	start_engine();
	sun(0, 3000);
	sun(S(60), 3000);
	assert_int_equal(D.amps, 12);
	/* 900 W after the margin covers all but 480 W of the minimum: the budget of 180 s x 1380 W
	 * would last 517.5 s at that rate. */
	sun(S(300), 1000);
	assert_int_equal(D.amps, 6);
	assert_true(D.charging);
	assert_reason("disable delay");
	assert_true(deadline() == MONO0 + S(817.5));
	/* Then no surplus at all: 48000 W s are spent, 200400 W s are left at 1380 W. */
	sun(S(400), 0);
	assert_int_equal(D.amps, 6);
	assert_true(deadline() == MONO0 + S(400) + 145218);
	sun(S(400) + 145217, 0);
	assert_int_equal(D.amps, 6);
	sun(S(400) + 145218, 0);
	assert_int_equal(D.amps, 0);
	assert_false(D.charging);
	assert_reason("no surplus");
	assert_true(deadline() == UINT64_MAX);
	assert_stats(1, 1);

	/* Restart after the dwell; with no surplus at all the delay is exactly disable_delay_s. */
	sun(S(600), 3000);
	sun(S(665.217), 3000);
	assert_int_equal(D.amps, 0);
	sun(S(665.218), 3000);
	assert_int_equal(D.amps, 12);
	sun(S(800), 0);
	assert_true(deadline() == MONO0 + S(980));
	/* The sun coming back pays the spent time back second for second: 100 s spent, 10 s back. */
	sun(S(900), 3000);
	assert_int_equal(D.amps, 12);
	assert_true(deadline() == UINT64_MAX);
	sun(S(910), 0);
	assert_true(deadline() == MONO0 + S(1000));
	sun(S(999.999), 0);
	assert_int_equal(D.amps, 6);
	sun(S(1000), 0);
	assert_int_equal(D.amps, 0);
	assert_stats(2, 2);
}

static void test_dwell_blocks_early_stop(void **state)
{
	(void)state;
	P.enable_delay_s = 0;
	P.disable_delay_s = 30;
	start_engine();
	sun(0, 3000);
	assert_int_equal(D.amps, 12); /* the first start has no dwell */
	sun(S(10), 0);
	assert_reason("disable delay");
	assert_true(deadline() == MONO0 + S(120)); /* the dwell outlasts the disable delay */
	sun(S(40), 0);
	assert_int_equal(D.amps, 6);
	assert_reason("dwell");
	sun(S(119.999), 0);
	assert_int_equal(D.amps, 6);
	sun(S(120), 0);
	assert_int_equal(D.amps, 0);
	assert_stats(1, 1);
}

static void test_dwell_blocks_early_restart(void **state)
{
	(void)state;
	P.disable_delay_s = 0;
	P.dwell_s = 120;
	start_engine();
	sun(0, 3000);
	sun(S(60), 3000);
	assert_int_equal(D.amps, 12);
	sun(S(200), 0);
	assert_int_equal(D.amps, 0); /* no disable delay, the dwell since the start has passed */
	sun(S(201), 3000);
	assert_reason("enable delay");
	assert_true(deadline() == MONO0 + S(320)); /* the dwell outlasts the enable delay */
	sun(S(261), 3000);
	assert_int_equal(D.amps, 0);
	assert_reason("dwell");
	assert_true(deadline() == MONO0 + S(320));
	sun(S(319.999), 3000);
	assert_int_equal(D.amps, 0);
	sun(S(320), 3000);
	assert_int_equal(D.amps, 12);
	assert_stats(2, 1);
}

static double clouds(uint64_t t)
{
	return (t / 20000) % 2 == 0 ? 4000 : 0;
}

/* An hour of clouds, the surplus switching between 4 kW and nothing every 20 s. */
static void test_cloud_flicker(void **state)
{
	uint64_t t;

	(void)state;
	start_engine();
	/* Waiting: the enable delay never fills, so the clouds alone start nothing. */
	for (t = 0; t < S(3600); t += S(5))
		sun(t, clouds(t));
	assert_stats(0, 0);

	/* Two sunny minutes start the car; the clouds then never stop it. */
	for (; t < S(3720); t += S(5))
		sun(t, 4000);
	assert_int_equal(D.amps, 16);
	for (uint64_t end = t + S(3600); t < end; t += S(5)) {
		sun(t, clouds(t));
		assert_int_equal(D.amps, clouds(t) > 0 ? 16 : 6);
	}
	assert_stats(1, 0);
}

/* ------------------------------------------------------------------ unknown data, battery */

static void test_unknown_data(void **state)
{
	(void)state;
	start_engine();
	sun(0, 5000);
	sun(S(60), 5000);
	assert_int_equal(D.amps, 21);

	ev(S(100), unknown(), 21 * 230); /* the meter went stale */
	assert_int_equal(D.amps, 6);
	assert_true(D.charging);
	assert_reason("meter unknown");
	assert_true(isnan(D.surplus_w));
	assert_true(deadline() == MONO0 + S(280));
	ev(S(110), rd(NAN, 5000, NAN, NAN, NAN), 6 * 230); /* pv without load says nothing */
	assert_int_equal(D.amps, 6);
	ev(S(120), grid(-5000), NAN); /* neither does an unknown charger draw */
	assert_int_equal(D.amps, 6);
	ev(S(130), grid(-INFINITY), 6 * 230);
	assert_int_equal(D.amps, 6);
	sun(S(140), 5000); /* back: follow the surplus, and pay back the time spent */
	assert_int_equal(D.amps, 21);
	assert_true(deadline() == UINT64_MAX);

	/* A long outage counts as no surplus at all: 40 s were spent, 10 s of sun paid 10 back, so the
	 * stop comes 150 s after the outage begins. */
	for (uint64_t t = S(150); t < S(300); t += S(10)) {
		ev(t, unknown(), D.amps * 230.0);
		assert_int_equal(D.amps, 6);
	}
	ev(S(299.999), unknown(), 6 * 230);
	assert_int_equal(D.amps, 6);
	ev(S(300), unknown(), 6 * 230);
	assert_int_equal(D.amps, 0);
	assert_reason("meter unknown");
	assert_stats(1, 1);
	ev(S(340), unknown(), 0);
	assert_int_equal(D.amps, 0);
	assert_true(deadline() == UINT64_MAX);

	/* Unknown while waiting starts the enable timer over. */
	sun(S(500), 3000);
	assert_true(deadline() == MONO0 + S(560));
	ev(S(530), unknown(), 0);
	assert_reason("meter unknown");
	assert_true(deadline() == UINT64_MAX);
	sun(S(540), 3000);
	assert_true(deadline() == MONO0 + S(600));
	sun(S(600), 3000);
	assert_int_equal(D.amps, 12);
}

static void test_battery_priority(void **state)
{
	(void)state;
	P.enable_delay_s = 0;
	P.disable_delay_s = 0;
	P.dwell_s = 0;
	P.battery_soc = 80;
	start_engine();
	/* Below the SoC: 3 kW into the battery are not surplus, only the 500 W export. */
	ev(0, rd(-500, NAN, NAN, -3000, 50), 0);
	assert_int_equal(D.amps, 0);
	assert_reason("battery first");
	assert_true(D.surplus_w == 400);
	/* Not enough either way: plain "no surplus". */
	ev(S(1), rd(-500, NAN, NAN, -300, 50), 0);
	assert_reason("no surplus");
	/* SoC unknown with battery_soc set: still the battery first. */
	ev(S(2), rd(-500, NAN, NAN, -3000, NAN), 0);
	assert_int_equal(D.amps, 0);
	assert_reason("battery first");
	/* At the SoC: the charging power goes to the car. */
	ev(S(3), rd(-500, NAN, NAN, -3000, 80), 0);
	assert_int_equal(D.amps, 14);
	assert_true(D.surplus_w == 3400);
	ev(S(4), rd(-500, NAN, NAN, -3000, 79.5), 14 * 230);
	assert_int_equal(D.amps, 15); /* 500 + 3220 - 100 */
	/* Below it again, and the export alone does not pay for min_amps: stop. */
	ev(S(5), rd(0, NAN, NAN, -2000, 60), 0);
	assert_int_equal(D.amps, 0);
	assert_reason("battery first");
	/* A battery reported before and unknown now may be discharging into the export: the surplus
	 * is unknown, nothing starts. */
	ev(S(6), rd(-3000, NAN, NAN, NAN, 10), 0);
	assert_int_equal(D.amps, 0);
	assert_reason("meter unknown");
	/* Known again and charging nothing: the export is surplus. */
	ev(S(6) + 500, rd(-3000, NAN, NAN, 0, 10), 0);
	assert_int_equal(D.amps, 12);
	/* A discharging battery is never surplus, priority or not. */
	ev(S(7), rd(-3000, NAN, NAN, 1000, 10), 12 * 230);
	assert_int_equal(D.amps, 20); /* 3000 + 2760 - 1000 - 100 */
	/* pv - load: the battery's charging comes out of pv - load too. */
	ev(S(8), rd(NAN, 6000, 1000 + 20 * 230, -3000, 50), 20 * 230);
	assert_int_equal(D.amps, 8); /* 6000 - 1000 - 3000 - 100 */

	/* Off (battery_soc 0): the charging power is surplus whatever the SoC. */
	P.battery_soc = 0;
	reload();
	ev(S(9), rd(-500, NAN, NAN, -3000, 5), 0);
	assert_int_equal(D.amps, 14);
}

/* ------------------------------------------------------------------ odds and ends */

static void test_time_going_backwards(void **state)
{
	(void)state;
	start_engine();
	sun(S(30), 3000);
	sun(S(20), 3000); /* taken as S(30) */
	assert_true(deadline() == MONO0 + S(90));
	sun(S(89), 3000);
	assert_int_equal(D.amps, 0);
	sun(S(90), 3000);
	assert_int_equal(D.amps, 12);
}

static void test_steady_states_have_no_deadline(void **state)
{
	(void)state;
	start_engine();
	sun(0, 0);
	assert_true(deadline() == UINT64_MAX);
	sun(S(1), 3000);
	sun(S(61), 3000);
	assert_int_equal(D.amps, 12);
	assert_true(deadline() == UINT64_MAX);
	/* Stopped and the dwell runs, but without surplus nothing would change. */
	sun(S(200), 0);
	sun(S(380), 0);
	assert_int_equal(D.amps, 0);
	assert_true(deadline() == UINT64_MAX);
}

/* ------------------------------------------------------------------ property */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int rnd_int(int lo, int hi)
{
	return lo + (int)(rnd() % (uint64_t)(hi - lo + 1));
}

static double rnd_val(double lo, double hi)
{
	if (rnd() % 4 == 0)
		return NAN;
	return lo + (hi - lo) * (double)(rnd() % 1000001) / 1000000.0;
}

static void random_params(void)
{
	ems_policy_params_default(&P, 1, 1, 230, 1);
	P.mode = EMS_POLICY_TRACK_GREEN;
	P.max_amps = rnd_int(1, 80);
	P.min_amps = rnd_int(1, P.max_amps < 16 ? P.max_amps : 16);
	P.voltage = rnd() % 2 ? 230 : 120;
	P.phases = rnd() % 2 ? 1 : 3;
	P.enable_delay_s = rnd_int(0, 300);
	P.disable_delay_s = rnd_int(0, 300);
	P.dwell_s = rnd_int(0, 300);
	P.margin_w = rnd_int(0, 500);
	P.battery_soc = rnd() % 2 ? 0 : rnd_int(1, 100);
	P.load_includes_chargers = rnd() % 2;
}

static void test_property_random(void **state)
{
	struct ems_policy_input prev = { 0 };
	unsigned starts = 0, stops = 0;
	uint64_t t = 0;
	bool batt_seen = false;

	(void)state;
	rng_state = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 20000; i++) {
		struct ems_reading r;
		double chg;
		int before = D.amps;
		bool repeat, unknown_in;
		uint64_t dl;

		if (i % 2500 == 0) { /* a new engine with new params now and then */
			ems_policy_free(pol);
			random_params();
			start_engine();
			memset(&D, 0, sizeof(D));
			before = 0;
			starts = stops = 0;
			batt_seen = false;
		}
		dl = deadline();
		/* Now and then the same input again before the deadline: the amps may not change. */
		repeat = i % 2500 != 0 && rnd() % 5 == 0 && (dl == UINT64_MAX || dl > MONO0 + t + 1);
		if (repeat) {
			uint64_t step = rnd_int(1, 30000);

			if (dl != UINT64_MAX && MONO0 + t + step >= dl)
				step = dl - (MONO0 + t) - 1;
			t += step;
			r = prev.reading;
			chg = prev.charger_w;
		} else {
			switch (rnd() % 4) {
			case 0:
				t += dl != UINT64_MAX && dl - MONO0 > t ? dl - MONO0 - t : 1;
				break;
			case 1:
				t += (uint64_t)rnd_int(0, 2000);
				break;
			default:
				t += (uint64_t)rnd_int(0, 400000);
				break;
			}
			ems_reading_clear(&r);
			r.v[EMS_GRID] = rnd() % 3 ? NAN : rnd_val(-20000, 20000);
			r.v[EMS_PV] = rnd_val(0, 20000);
			r.v[EMS_LOAD] = rnd_val(0, 20000);
			r.v[EMS_BATTERY] = rnd_val(-5000, 5000);
			r.v[EMS_SOC] = rnd_val(0, 100);
			chg = rnd() % 20 == 0 ? NAN : D.amps * P.voltage * P.phases * rnd_val(0, 1.2);
			if (isnan(chg) && rnd() % 2)
				chg = 0;
		}
		/* A battery once reported and unknown now makes the surplus unknown too. */
		batt_seen = batt_seen || !isnan(r.v[EMS_BATTERY]);
		unknown_in = isnan(chg) || (isnan(r.v[EMS_GRID]) && (isnan(r.v[EMS_PV]) || isnan(r.v[EMS_LOAD]))) ||
			     (batt_seen && isnan(r.v[EMS_BATTERY]));

		ev(t, r, chg);
		assert_int_equal(D.mode, EMS_POLICY_TRACK_GREEN);
		assert_true(D.amps <= P.max_amps);
		if (unknown_in) {
			assert_true(D.amps <= before);
			assert_true(isnan(D.surplus_w));
			assert_string_equal(D.reason, "meter unknown");
		} else {
			assert_false(isnan(D.surplus_w));
		}
		if (repeat) /* the reason may change (enable delay -> dwell), the amps not */
			assert_int_equal(D.amps, before);
		starts += before == 0 && D.amps > 0;
		stops += before > 0 && D.amps == 0;
		assert_stats(starts, stops);
		prev.reading = r;
		prev.charger_w = chg;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_defaults_and_names),
		T(test_params_check_errors),
		T(test_off_and_charge_now),
		T(test_scheduled_windows),
		T(test_scheduled_highest_amps),
		T(test_scheduled_deadline_walk),
		T(test_until_then),
		T(test_until_leaves_track_green),
		T(test_mode_switch_resets_timers_reload_keeps_them),
		T(test_charge_now_into_track_green_keeps_charging),
		T(test_grid_no_double_counting),
		T(test_pv_load),
		T(test_margin),
		T(test_phases),
		T(test_enable_delay_boundary),
		T(test_disable_delay_holds_min),
		T(test_dwell_blocks_early_stop),
		T(test_dwell_blocks_early_restart),
		T(test_cloud_flicker),
		T(test_unknown_data),
		T(test_battery_priority),
		T(test_time_going_backwards),
		T(test_steady_states_have_no_deadline),
		T(test_property_random),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
