/*
 * Tests of the synthetic solar days: a (shape, seed) pair always gives the same day and other seeds
 * give other days; PV is 0 at night and never negative; each shape's daily PV energy lies in its band
 * (clear 58-70 kWh, cloudy 25-52 kWh and at most 80 % of the clear day of the same seed, winter
 * 5-12 kWh); the cloudy day has many jumps of more than 1 kW within 10 s and the clear and winter days
 * none; the house load is always above 0 W, 8-16 kWh a day, with the oven around 18:00; shape names
 * round trip.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sim_solar.h"

#define DAY_S 86400u

/* valgrind runs set TWCGW_TEST_QUICK: fewer seeds, same checks */
static unsigned n_seeds(void)
{
	return getenv("TWCGW_TEST_QUICK") ? 2 : 10;
}

static double kwh(const struct sim_solar_day *d, double (*f)(const struct sim_solar_day *, uint32_t))
{
	double j = 0;
	for (uint32_t t = 0; t < DAY_S; t++)
		j += f(d, t);
	return j / 3.6e6;
}

/* Count jumps of more than 1 kW within 10 s; a jump is counted once, then the next 10 s skipped. */
static unsigned pv_steps(const struct sim_solar_day *d)
{
	unsigned n = 0;
	for (uint32_t t = 0; t + 10 < DAY_S;) {
		if (fabs(sim_solar_pv_w(d, t + 10) - sim_solar_pv_w(d, t)) > 1000) {
			n++;
			t += 10;
		} else {
			t++;
		}
	}
	return n;
}

static void test_deterministic(void **state)
{
	(void)state;
	for (int s = 0; s < SIM_SOLAR_NSHAPES; s++) {
		struct sim_solar_day *a = sim_solar_day_new(s, 7), *b = sim_solar_day_new(s, 7);
		struct sim_solar_day *c = sim_solar_day_new(s, 8);
		assert_non_null(a);
		assert_non_null(b);
		assert_non_null(c);
		unsigned pv_diff = 0, load_diff = 0;
		for (uint32_t t = 0; t < DAY_S; t++) {
			assert_true(sim_solar_pv_w(a, t) == sim_solar_pv_w(b, t));
			assert_true(sim_solar_load_w(a, t) == sim_solar_load_w(b, t));
			pv_diff += sim_solar_pv_w(a, t) != sim_solar_pv_w(c, t);
			load_diff += sim_solar_load_w(a, t) != sim_solar_load_w(c, t);
		}
		/* the shortest daylight is 8 h; the load is noisy every second */
		print_message("%s: seeds 7 and 8 differ in %u PV and %u load samples\n", sim_solar_shape_name(s), pv_diff, load_diff);
		assert_true(pv_diff > 6 * 3600);
		assert_true(load_diff > DAY_S / 2);
		sim_solar_day_free(a);
		sim_solar_day_free(b);
		sim_solar_day_free(c);
	}
}

static void test_night_and_range(void **state)
{
	(void)state;
	/* the header's sunrise/sunset, with 5 min of slack for the bell's edges */
	static const double rise_h[] = {5.5, 5.5, 8.25}, set_h[] = {21.0, 21.0, 16.25}, peak[] = {8000, 8000, 2600};
	for (int s = 0; s < SIM_SOLAR_NSHAPES; s++) {
		struct sim_solar_day *d = sim_solar_day_new(s, 1);
		assert_non_null(d);
		double max = 0;
		for (uint32_t t = 0; t < DAY_S; t++) {
			double pv = sim_solar_pv_w(d, t);
			assert_true(pv >= 0);
			if (pv > max)
				max = pv;
			if (t < rise_h[s] * 3600 - 300 || t > set_h[s] * 3600 + 300)
				assert_true(pv == 0);
		}
		assert_true(max <= peak[s]);
		assert_true(max >= 0.85 * peak[s]);
		/* midnight and noon are the two ends of the scale */
		assert_true(sim_solar_pv_w(d, 0) == 0);
		assert_true(sim_solar_pv_w(d, 3 * 3600) == 0);
		assert_true(sim_solar_pv_w(d, 23 * 3600) == 0);
		sim_solar_day_free(d);
	}
}

static void test_energy_bands(void **state)
{
	(void)state;
	for (uint32_t seed = 1; seed <= n_seeds(); seed++) {
		struct sim_solar_day *clear = sim_solar_day_new(SIM_SOLAR_CLEAR, seed);
		struct sim_solar_day *cloudy = sim_solar_day_new(SIM_SOLAR_CLOUDY, seed);
		struct sim_solar_day *winter = sim_solar_day_new(SIM_SOLAR_WINTER, seed);
		assert_non_null(clear);
		assert_non_null(cloudy);
		assert_non_null(winter);
		double e_clear = kwh(clear, sim_solar_pv_w), e_cloudy = kwh(cloudy, sim_solar_pv_w);
		double e_winter = kwh(winter, sim_solar_pv_w);
		print_message("seed %u: clear %.1f kWh, cloudy %.1f kWh, winter %.1f kWh\n", (unsigned)seed, e_clear,
			      e_cloudy, e_winter);
		assert_true(e_clear >= 58 && e_clear <= 70);
		assert_true(e_cloudy >= 25 && e_cloudy <= 52);
		assert_true(e_cloudy <= 0.8 * e_clear);
		assert_true(e_winter >= 5 && e_winter <= 12);
		sim_solar_day_free(clear);
		sim_solar_day_free(cloudy);
		sim_solar_day_free(winter);
	}
}

static void test_cloud_steps(void **state)
{
	(void)state;
	for (uint32_t seed = 1; seed <= n_seeds(); seed++) {
		struct sim_solar_day *clear = sim_solar_day_new(SIM_SOLAR_CLEAR, seed);
		struct sim_solar_day *cloudy = sim_solar_day_new(SIM_SOLAR_CLOUDY, seed);
		struct sim_solar_day *winter = sim_solar_day_new(SIM_SOLAR_WINTER, seed);
		unsigned n = pv_steps(cloudy);
		print_message("seed %u: cloudy day has %u PV jumps > 1 kW within 10 s\n", (unsigned)seed, n);
		/* clouds every few minutes over ~15 h of daylight: hundreds of edges, most of them big */
		assert_true(n >= 200);
		assert_int_equal(pv_steps(clear), 0);
		assert_int_equal(pv_steps(winter), 0);
		sim_solar_day_free(clear);
		sim_solar_day_free(cloudy);
		sim_solar_day_free(winter);
	}
}

static void test_load(void **state)
{
	(void)state;
	for (uint32_t seed = 1; seed <= n_seeds(); seed++) {
		struct sim_solar_day *d = sim_solar_day_new(SIM_SOLAR_CLEAR, seed);
		struct sim_solar_day *w = sim_solar_day_new(SIM_SOLAR_WINTER, seed);
		double oven = 0, night_max = 0;
		for (uint32_t t = 0; t < DAY_S; t++) {
			double l = sim_solar_load_w(d, t);
			assert_true(l > 0);
			assert_true(l < 6000);
			/* the household does not depend on the weather */
			assert_true(l == sim_solar_load_w(w, t));
			if (t >= 17.5 * 3600 && t < 19.5 * 3600 && l > oven)
				oven = l;
			if (t < 5 * 3600 && l > night_max)
				night_max = l;
		}
		assert_true(oven > 2500);
		assert_true(night_max < 1000);
		double e = kwh(d, sim_solar_load_w);
		assert_true(e >= 8 && e <= 16);
		sim_solar_day_free(d);
		sim_solar_day_free(w);
	}
}

static void test_names(void **state)
{
	(void)state;
	for (int s = 0; s < SIM_SOLAR_NSHAPES; s++) {
		const char *n = sim_solar_shape_name(s);
		assert_non_null(n);
		assert_int_equal(sim_solar_shape_from_name(n), s);
	}
	assert_string_equal(sim_solar_shape_name(SIM_SOLAR_CLEAR), "clear");
	assert_string_equal(sim_solar_shape_name(SIM_SOLAR_CLOUDY), "cloudy");
	assert_string_equal(sim_solar_shape_name(SIM_SOLAR_WINTER), "winter");
	assert_null(sim_solar_shape_name(SIM_SOLAR_NSHAPES));
	assert_int_equal(sim_solar_shape_from_name("rainy"), -1);
	assert_int_equal(sim_solar_shape_from_name(""), -1);
	assert_int_equal(sim_solar_shape_from_name(NULL), -1);
	assert_null(sim_solar_day_new(SIM_SOLAR_NSHAPES, 1));
	sim_solar_day_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deterministic), cmocka_unit_test(test_night_and_range),
		cmocka_unit_test(test_energy_bands), cmocka_unit_test(test_cloud_steps),
		cmocka_unit_test(test_load), cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
