/*
 * sim_solar: builds one synthetic day of PV generation and house load, 86400 one-second samples of
 * each, computed once at creation from a private PRNG so that a (shape, seed) pair always gives the
 * same day on every platform and run. PV is a clear-sky bell (sin^1.5 of the sun's position between
 * sunrise and sunset) times a slow overcast factor and, on the cloudy day, a Markov chain of passing
 * clouds. The house is a noisy base load with a fridge, a kettle, a washer and an oven on top. The
 * house depends on the seed only, so the three shapes of one seed share the same household.
 */
#include "sim_solar.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400u

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

struct sim_solar_day {
	enum sim_solar_shape shape;
	/* float halves the footprint (two 86400-sample arrays); 0.1 W resolution is plenty */
	float pv[DAY_S];
	float load[DAY_S];
};

/* ---- PRNG: splitmix64, so the day is the same everywhere (rand() is not) ---- */

struct rng {
	uint64_t s;
};

static uint64_t rng_u64(struct rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* [0, 1) with 53 bits */
static double rng_uniform(struct rng *r)
{
	return (double)(rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_range(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_uniform(r);
}

static double rng_normal(struct rng *r)
{
	/* Box-Muller; 1 - u keeps log() away from 0 */
	double u1 = 1.0 - rng_uniform(r);
	double u2 = rng_uniform(r);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static double rng_exp(struct rng *r, double mean)
{
	return -mean * log(1.0 - rng_uniform(r));
}

static void rng_seed(struct rng *r, uint32_t seed, uint32_t stream)
{
	r->s = ((uint64_t)stream << 32) ^ seed;
	/* a few draws decorrelate neighbouring seeds */
	for (int i = 0; i < 4; i++)
		(void)rng_u64(r);
}

/* Ornstein-Uhlenbeck step of one second: mean-reverting noise with standard deviation @sd around
 * @mu and correlation time @tau_s, the natural model of slowly drifting haze or base load. */
static double ou_step(struct rng *r, double x, double mu, double sd, double tau_s)
{
	return x + (mu - x) / tau_s + sd * sqrt(2.0 / tau_s) * rng_normal(r);
}

static double clampd(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* ---- shapes ---- */

struct shape_params {
	const char *name;
	double rise_s, set_s, peak_w;
	double haze_mu, haze_sd, haze_tau, haze_lo; /* slow overcast factor */
	double fast_sd, fast_tau;                   /* quick light-overcast flicker (winter) */
	bool clouds;
};

static const struct shape_params shapes[SIM_SOLAR_NSHAPES] = {
	[SIM_SOLAR_CLEAR] = {"clear", 5.5 * 3600, 21.0 * 3600, 7600, 0.99, 0.005, 900, 0.95, 0, 1, false},
	[SIM_SOLAR_CLOUDY] = {"cloudy", 5.5 * 3600, 21.0 * 3600, 7600, 0.85, 0.07, 1800, 0.55, 0, 1, true},
	[SIM_SOLAR_WINTER] = {"winter", 8.25 * 3600, 16.25 * 3600, 2500, 0.80, 0.10, 1200, 0.45, 0.04, 20, false},
};

const char *sim_solar_shape_name(enum sim_solar_shape s)
{
	if ((unsigned)s >= SIM_SOLAR_NSHAPES)
		return NULL;
	return shapes[s].name;
}

int sim_solar_shape_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < SIM_SOLAR_NSHAPES; i++)
		if (strcmp(name, shapes[i].name) == 0)
			return i;
	return -1;
}

/* Passing clouds as a two-state Markov chain: clear spells are exponential (mean 150 s), so clouds
 * come often; a cloud lasts 10 s to 10 min with the short ones far more likely (10 * 60^(u^2):
 * median ~28 s), darkens to 20-40 % and has edges of 2-8 s, the time its border takes to cross the
 * array. @c holds the factor per second, 1 = no cloud. */
static void make_clouds(struct rng *r, float *c, const struct shape_params *sp)
{
	for (unsigned t = 0; t < DAY_S; t++)
		c[t] = 1.0f;
	double t = sp->rise_s;
	while (t < sp->set_s) {
		t += 5.0 + rng_exp(r, 150.0);
		double dur = 10.0 * pow(60.0, pow(rng_uniform(r), 2.0));
		double depth = rng_range(r, 0.2, 0.4);
		double ein = rng_range(r, 2.0, 8.0);
		double eout = rng_range(r, 2.0, 8.0);
		if (ein > dur)
			ein = dur;
		double end = t + dur + eout;
		for (double s = floor(t); s < end && s < DAY_S; s += 1.0) {
			double x = s + 0.5 - t, f;
			if (x < 0)
				continue;
			if (x < ein)
				f = 1.0 - (1.0 - depth) * x / ein;
			else if (x < dur)
				f = depth;
			else
				f = depth + (1.0 - depth) * (x - dur) / eout;
			if (f < c[(unsigned)s])
				c[(unsigned)s] = (float)f;
		}
		t = end;
	}
}

static void make_pv(struct sim_solar_day *d, uint32_t seed)
{
	const struct shape_params *sp = &shapes[d->shape];
	struct rng r;
	rng_seed(&r, seed, 0x50560000u + (uint32_t)d->shape);

	/* the cloud factor borrows the load array as scratch; the load is built afterwards */
	float *cloud = d->load;
	if (sp->clouds)
		make_clouds(&r, cloud, sp);

	double haze = sp->haze_mu, fast = 0;
	for (unsigned t = 0; t < DAY_S; t++) {
		haze = ou_step(&r, haze, sp->haze_mu, sp->haze_sd, sp->haze_tau);
		if (sp->fast_sd > 0)
			fast = ou_step(&r, fast, 0, sp->fast_sd, sp->fast_tau);
		double x = (t + 0.5 - sp->rise_s) / (sp->set_s - sp->rise_s);
		double pv = 0;
		if (x > 0 && x < 1) {
			double f = clampd(haze, sp->haze_lo, 1.0) + fast;
			if (sp->clouds)
				f *= cloud[t];
			pv = sp->peak_w * pow(sin(M_PI * x), 1.5) * clampd(f, 0.0, 1.0);
		}
		d->pv[t] = (float)pv;
	}
}

/* Raised-cosine bump of @h W between @a and @b seconds: daily habits swell and fade, not switch. */
static double bump(double t, double a, double b, double h)
{
	if (t <= a || t >= b)
		return 0;
	return h * 0.5 * (1.0 - cos(2.0 * M_PI * (t - a) / (b - a)));
}

static void add_block(float *load, double start, double dur, double w)
{
	for (double s = floor(start); s < start + dur && s < DAY_S; s += 1.0)
		if (s >= 0)
			load[(unsigned)s] += (float)w;
}

static void make_load(struct sim_solar_day *d, uint32_t seed)
{
	struct rng r;
	rng_seed(&r, seed, 0x4C4F4144u);
	float *load = d->load;

	/* base: standby, lighting, routers, drifting around ~300 W, a little more morning and evening */
	double base = 0;
	for (unsigned t = 0; t < DAY_S; t++) {
		base = ou_step(&r, base, 0, 40, 300);
		double w = 300 + base + 12 * rng_normal(&r);
		w += bump(t, 6.5 * 3600, 8.5 * 3600, 150);
		w += bump(t, 17.0 * 3600, 23.5 * 3600, 220);
		load[t] = (float)(w < 120 ? 120 : w);
	}

	/* fridge: ~15 min on, ~30 min off, jittered so it drifts against the clouds and the clock */
	double t = rng_range(&r, 0, 45 * 60);
	while (t < DAY_S) {
		double on = rng_range(&r, 13, 17) * 60;
		add_block(load, t, on, rng_range(&r, 90, 110));
		t += on + rng_range(&r, 27, 33) * 60;
	}

	/* kettle: breakfast, lunch, afternoon tea; 2 kW for ~3 min */
	static const double kettle_at[][2] = {{6.75, 8.0}, {12.0, 13.5}, {15.5, 17.0}};
	for (size_t i = 0; i < sizeof kettle_at / sizeof kettle_at[0]; i++)
		add_block(load, rng_range(&r, kettle_at[i][0], kettle_at[i][1]) * 3600, rng_range(&r, 160, 200),
			  rng_range(&r, 1900, 2100));

	/* washer mid-morning, 1.5 h: fill, heat at 2 kW, tumble at ~500 W, spin */
	double w0 = rng_range(&r, 9.0, 11.0) * 3600;
	add_block(load, w0, 180, 100);
	add_block(load, w0 + 180, 20 * 60, 2000);
	for (double s = w0 + 23 * 60; s < w0 + 80 * 60; s += 30)
		add_block(load, s, 30, rng_range(&r, 400, 600));
	add_block(load, w0 + 80 * 60, 10 * 60, 800);

	/* oven around 18:00, 40 min: 12 min pre-heat at 2.5 kW, then the thermostat cycles */
	double o0 = rng_range(&r, 17.6, 18.3) * 3600;
	add_block(load, o0, 12 * 60, 2500);
	for (double s = o0 + 12 * 60; s < o0 + 40 * 60; s += 180)
		add_block(load, s, 120, 2500);
}

struct sim_solar_day *sim_solar_day_new(enum sim_solar_shape shape, uint32_t seed)
{
	if ((unsigned)shape >= SIM_SOLAR_NSHAPES)
		return NULL;
	struct sim_solar_day *d = malloc(sizeof *d);
	if (!d)
		return NULL;
	d->shape = shape;
	make_pv(d, seed);
	make_load(d, seed);
	return d;
}

void sim_solar_day_free(struct sim_solar_day *d)
{
	free(d);
}

/* Times past the day wrap round: a bench running past midnight sees the same day again. */
double sim_solar_pv_w(const struct sim_solar_day *d, uint32_t t_s)
{
	return d->pv[t_s % DAY_S];
}

double sim_solar_load_w(const struct sim_solar_day *d, uint32_t t_s)
{
	return d->load[t_s % DAY_S];
}
