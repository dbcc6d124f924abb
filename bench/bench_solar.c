/*
 * bench_solar: how well the track-green policy engine charges a car from solar surplus, measured on
 * synthetic days (sim_solar) against an oracle that knows the whole day's PV and house load in
 * advance. One bus, one car (75 kWh, from 40 % to 90 %), a grid meter (grid = house + car - pv
 * [- home battery]). The policy is the real engine (ems_policy), evaluated every step with the grid
 * meter's reading of the previous step, as real meters lag. The oracle has the same actuator (0, or
 * whole amps from 6 to 32) and the same car, and maximises
 *     solar energy into the car - grid energy imported for the car - penalty x (starts + stops),
 * where the penalty is the energy of 3 minutes at the minimum power (69 Wh on one phase): a start or
 * stop costs a vehicle API call and wear, and is worth a few minutes of charging, no more. Runs of
 * on and off last at least the policy's dwell (120 s). The oracle is an exact dynamic programme over
 * the day's control steps for the model "constant amps per step, no ramp": state = (off/on, run
 * length capped at the dwell), amps while on = the whole amps that score best in that step. The
 * car's capacity is added as a Lagrange price per kWh charged, bisected until the plan fits; the
 * best of the unpriced plan and the two plans either side of the fit, each played on the real car
 * (ramp, stop when full), is the oracle. Wake-ups are not priced. Policy and oracle are both
 * played through the same car model and the same books, so every column compares like with like.
 * With --battery the oracle still plans as if there were no home battery (the battery is only in the
 * replay), so its row is then a reference rather than the optimum.
 * Usage: bench_solar [--shape clear|cloudy|winter|all] [--seed N] [--step S] [--phases 1|3] [--battery]
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ems.h"
#include "ems_policy.h"
#include "sim_solar.h"

#define DAY_S 86400u
#define VOLTAGE 230
#define MAX_A 32
#define MIN_A 6
#define CAR_CAP_WH 75000.0
#define CAR_SOC0 40.0
#define CAR_TARGET 90.0
#define RAMP_A_PER_S 2.0
#define SLEEP_S 900.0      /* a car stopped longer than this is asleep: a start needs a wake_up first */
#define PENALTY_MIN 3.0    /* oracle: a start or stop costs this many minutes at the minimum power */
#define BATT_CAP_WH 10000.0
#define BATT_MAX_W 5000.0
#define BATT_SOC0 20.0     /* drained overnight */
#define BATT_FLOOR 5.0
#define BATT_PRIORITY 50
/* Wednesday 2026-06-17 00:00 UTC; the calendar is only read by scheduled mode, but keep it honest */
#define DATE_MS 1781654400000LL
#define DATE_WDAY 3

struct setup {
	int step;         /* control step, s */
	int phases;
	bool battery;
	uint32_t seed;
	int enable_delay, disable_delay, dwell; /* policy timers, s; -1 = the engine's default */
};

struct tally {
	double car_wh, solar_wh, import_wh, export_wh, car_grid_wh;
	unsigned starts, stops, wakes;
	double end_soc;   /* car, % */
	double score_wh;  /* the oracle's objective, measured */
};

/* The car, the home battery and the books, advanced one second at a time whatever the control step. */
struct world {
	const struct sim_solar_day *day;
	const struct setup *su;
	double need_wh;
	double amps, car_wh;
	bool full;          /* reached the target: draws nothing, and nothing is counted any more */
	double batt_wh;
	bool offered;       /* the last offer was > 0 */
	double stopped_at;  /* s; dawn finds the car asleep */
	/* the last step's averages: what the meter shows at the next decision */
	double grid_avg, car_avg, batt_avg;
	struct tally tl;
};

static double power_per_amp(const struct setup *su)
{
	return (double)VOLTAGE * su->phases;
}

static double penalty_wh(const struct setup *su)
{
	return MIN_A * power_per_amp(su) * PENALTY_MIN / 60.0;
}

static void world_init(struct world *w, const struct sim_solar_day *day, const struct setup *su)
{
	memset(w, 0, sizeof(*w));
	w->day = day;
	w->su = su;
	w->need_wh = CAR_CAP_WH * (CAR_TARGET - CAR_SOC0) / 100.0;
	w->batt_wh = su->battery ? BATT_CAP_WH * BATT_SOC0 / 100.0 : 0;
	w->stopped_at = -1e9;
}

/* Run seconds [t0, t1) with @offer amps on the wire. API calls are counted the way the gateway
 * makes them: the offer rising from 0 is a charge_start (after a wake_up if the car has slept), the
 * offer falling to 0 a charge_stop; none once the car is full, as the gateway leaves it alone. */
static void world_step(struct world *w, uint32_t t0, uint32_t t1, int offer)
{
	bool on = offer > 0;
	if (!w->full) {
		if (on && !w->offered) {
			w->tl.starts++;
			if (t0 - w->stopped_at > SLEEP_S)
				w->tl.wakes++;
		} else if (!on && w->offered) {
			w->tl.stops++;
			w->stopped_at = t0;
		}
	}
	w->offered = on;

	double grid_sum = 0, car_sum = 0, batt_sum = 0;
	for (uint32_t t = t0; t < t1; t++) {
		/* the car takes a higher offer 2 A/s at a time, a lower one at once */
		if (w->full)
			w->amps = 0;
		else if (offer < w->amps)
			w->amps = offer;
		else
			w->amps = fmin(offer, w->amps + RAMP_A_PER_S);
		double car = w->amps * power_per_amp(w->su);
		if (!w->full && w->car_wh + car / 3600.0 >= w->need_wh) {
			car = (w->need_wh - w->car_wh) * 3600.0;
			w->full = true;
			w->amps = 0;
		}
		w->car_wh += car / 3600.0;

		double pv = sim_solar_pv_w(w->day, t), load = sim_solar_load_w(w->day, t);
		/* self-consumption: the battery soaks up export and covers import, within 5 kW and its charge */
		double batt = 0; /* + discharging, as the meters report it */
		if (w->su->battery) {
			double net = pv - load - car;
			if (net > 0)
				batt = -fmin(fmin(net, BATT_MAX_W), (BATT_CAP_WH - w->batt_wh) * 3600.0);
			else
				batt = fmin(fmin(-net, BATT_MAX_W), (w->batt_wh - BATT_CAP_WH * BATT_FLOOR / 100.0) * 3600.0);
			if (batt > 0 && w->batt_wh <= BATT_CAP_WH * BATT_FLOOR / 100.0)
				batt = 0;
			w->batt_wh -= batt / 3600.0;
		}
		double grid = load + car - pv - batt;
		double solar = fmin(car, fmax(0, pv - load));
		if (grid > 0)
			w->tl.import_wh += grid / 3600.0;
		else
			w->tl.export_wh -= grid / 3600.0;
		w->tl.car_wh += car / 3600.0;
		w->tl.solar_wh += solar / 3600.0;
		/* what PV did not cover came from the grid as far as the house imported, else the battery */
		w->tl.car_grid_wh += fmin(car - solar, fmax(0, grid)) / 3600.0;
		grid_sum += grid;
		car_sum += car;
		batt_sum += batt;
	}
	double n = t1 - t0;
	w->grid_avg = grid_sum / n;
	w->car_avg = car_sum / n;
	w->batt_avg = batt_sum / n;
}

static void world_close(struct world *w)
{
	w->tl.end_soc = CAR_SOC0 + 100.0 * w->car_wh / CAR_CAP_WH;
	w->tl.score_wh = w->tl.solar_wh - w->tl.car_grid_wh - penalty_wh(w->su) * (w->tl.starts + w->tl.stops);
}

static unsigned n_steps(const struct setup *su)
{
	return (DAY_S + su->step - 1) / su->step;
}

static uint32_t step_end(const struct setup *su, unsigned i)
{
	uint32_t t1 = (i + 1) * (uint32_t)su->step;
	return t1 > DAY_S ? DAY_S : t1;
}

/* ---- the policy engine ---- */

static int run_policy(const struct sim_solar_day *day, const struct setup *su, struct tally *out)
{
	struct ems_policy_params p;
	ems_policy_params_default(&p, MAX_A, MIN_A, VOLTAGE, su->phases);
	p.mode = EMS_POLICY_TRACK_GREEN;
	p.load_includes_chargers = true;
	if (su->enable_delay >= 0)
		p.enable_delay_s = su->enable_delay;
	if (su->disable_delay >= 0)
		p.disable_delay_s = su->disable_delay;
	if (su->dwell >= 0)
		p.dwell_s = su->dwell;
	if (su->battery)
		p.battery_soc = BATT_PRIORITY;
	struct ems_policy *pol = ems_policy_new(&p);
	if (!pol)
		return -errno;

	struct world w;
	world_init(&w, day, su);
	unsigned n = n_steps(su);
	for (unsigned i = 0; i < n; i++) {
		uint32_t t0 = i * (uint32_t)su->step;
		struct ems_policy_input in = {
			.now_ms = (uint64_t)t0 * 1000u,
			.wall_ms = DATE_MS + (int64_t)t0 * 1000,
			.wday = DATE_WDAY,
			.minute = (int)(t0 / 60),
		};
		ems_reading_clear(&in.reading);
		/* the first decision of the day has no reading yet */
		if (i > 0) {
			in.reading.v[EMS_GRID] = w.grid_avg;
			in.reading.v[EMS_VOLTAGE] = VOLTAGE;
			if (su->battery) {
				in.reading.v[EMS_BATTERY] = w.batt_avg;
				in.reading.v[EMS_SOC] = 100.0 * w.batt_wh / BATT_CAP_WH;
			}
		}
		in.charger_w = i > 0 ? w.car_avg : 0;
		struct ems_policy_decision dec;
		ems_policy_eval(pol, &in, &dec);
		world_step(&w, t0, step_end(su, i), dec.amps);
	}
	world_close(&w);
	ems_policy_free(pol);
	*out = w.tl;
	return 0;
}

/* ---- the oracle ---- */

#define NEG (-1e300)

struct oracle {
	const struct setup *su;
	unsigned n, dwell;   /* steps; runs last at least @dwell steps */
	double *surplus;     /* pv - house per second */
	double *r_on;        /* best score of step i while on */
	double *pre_on;      /* prefix sums of r_on */
	uint8_t *a_on;       /* amps scoring r_on */
	double *a_val[2];    /* best score up to step i with a run of state s starting at i */
	uint8_t *from_run[2]; /* the "free" state at i came from a run that just reached the dwell */
	uint8_t *plan;       /* amps per step, 0 = off */
};

static void oracle_free(struct oracle *o)
{
	free(o->surplus);
	free(o->r_on);
	free(o->pre_on);
	free(o->a_on);
	for (int s = 0; s < 2; s++) {
		free(o->a_val[s]);
		free(o->from_run[s]);
	}
	free(o->plan);
}

static int oracle_init(struct oracle *o, const struct sim_solar_day *day, const struct setup *su, int dwell_s)
{
	memset(o, 0, sizeof(*o));
	o->su = su;
	o->n = n_steps(su);
	o->dwell = (unsigned)(dwell_s + su->step - 1) / (unsigned)su->step;
	if (o->dwell < 1)
		o->dwell = 1;
	o->surplus = malloc(DAY_S * sizeof(double));
	o->r_on = malloc(o->n * sizeof(double));
	o->pre_on = malloc(o->n * sizeof(double));
	o->a_on = malloc(o->n);
	o->plan = malloc(o->n);
	bool ok = o->surplus && o->r_on && o->pre_on && o->a_on && o->plan;
	for (int s = 0; s < 2; s++) {
		o->a_val[s] = malloc(o->n * sizeof(double));
		o->from_run[s] = malloc(o->n);
		ok = ok && o->a_val[s] && o->from_run[s];
	}
	if (!ok) {
		oracle_free(o);
		return -ENOMEM;
	}
	for (uint32_t t = 0; t < DAY_S; t++)
		o->surplus[t] = sim_solar_pv_w(day, t) - sim_solar_load_w(day, t);
	return 0;
}

/* Score per step while on, for a price @lambda per Wh charged: PV surplus into the car counts +1,
 * grid into the car -1. The score is concave in the amps, so the best amps are found by walking up
 * from 6 A until it falls. */
static void oracle_step_scores(struct oracle *o, double lambda)
{
	double ppa = power_per_amp(o->su);
	for (unsigned i = 0; i < o->n; i++) {
		uint32_t t0 = i * (uint32_t)o->su->step, t1 = step_end(o->su, i);
		double best = NEG;
		int best_a = MIN_A;
		for (int a = MIN_A; a <= MAX_A; a++) {
			double p = a * ppa, v = 0;
			for (uint32_t t = t0; t < t1; t++)
				v += 2.0 * fmin(p, fmax(0, o->surplus[t])) - p * (1.0 + lambda);
			v /= 3600.0;
			if (v <= best)
				break;
			best = v;
			best_a = a;
		}
		o->r_on[i] = best;
		o->a_on[i] = (uint8_t)best_a;
		o->pre_on[i] = (i ? o->pre_on[i - 1] : 0) + best;
	}
}

static double run_sum(const struct oracle *o, int s, long a, long b)
{
	if (!s || a > b)
		return 0;
	return o->pre_on[b] - (a > 0 ? o->pre_on[a - 1] : 0);
}

/* The DP. free[s] = best score to the end of step i in state s with a run at least the dwell long
 * (free to switch next step); a_val[s][i] = best score to the end of step i for a run of s starting at
 * step i. A run of s that started at j is "free" at i = j + dwell - 1, so the states with a shorter run
 * never need storing: their score is a_val[s][j] plus the run's steps, read off the prefix sums.
 * Fills o->plan; returns the plan's energy in Wh (no ramp, no capacity). */
static double oracle_dp(struct oracle *o, double lambda)
{
	double pen = penalty_wh(o->su);
	long n = o->n, d = o->dwell;
	oracle_step_scores(o, lambda);

	double fr[2] = {0, NEG}; /* before the day: off for long */
	for (long i = 0; i < n; i++) {
		double nf[2];
		for (int s = 0; s < 2; s++) {
			double rs = s ? o->r_on[i] : 0;
			o->a_val[s][i] = fr[!s] > NEG / 2 ? fr[!s] - pen + rs : NEG;
		}
		for (int s = 0; s < 2; s++) {
			double rs = s ? o->r_on[i] : 0;
			double stay = fr[s] > NEG / 2 ? fr[s] + rs : NEG;
			double run = NEG;
			long j = i - d + 1;
			if (j >= 0 && o->a_val[s][j] > NEG / 2)
				run = o->a_val[s][j] + run_sum(o, s, j + 1, i);
			o->from_run[s][i] = run > stay;
			nf[s] = run > stay ? run : stay;
		}
		fr[0] = nf[0];
		fr[1] = nf[1];
	}

	/* the day may end in a run shorter than the dwell: nothing follows it */
	int s_best = fr[1] > fr[0] ? 1 : 0;
	double best = fr[s_best];
	long j_best = -1;
	for (int s = 0; s < 2; s++)
		for (long j = n - d + 1 > 0 ? n - d + 1 : 0; j < n; j++) {
			if (o->a_val[s][j] <= NEG / 2)
				continue;
			double v = o->a_val[s][j] + run_sum(o, s, j + 1, n - 1);
			if (v > best) {
				best = v;
				s_best = s;
				j_best = j;
			}
		}

	/* walk back: a free state either stayed or ends a run that just reached the dwell; a run's
	 * first step follows a free state of the other side */
	long i = n - 1;
	int s = s_best;
	if (j_best >= 0) {
		for (long m = j_best; m < n; m++)
			o->plan[m] = s ? o->a_on[m] : 0;
		i = j_best - 1;
		s = !s;
	}
	while (i >= 0) {
		if (!o->from_run[s][i]) {
			o->plan[i] = s ? o->a_on[i] : 0;
			i--;
			continue;
		}
		long j = i - d + 1;
		for (long m = j; m <= i; m++)
			o->plan[m] = s ? o->a_on[m] : 0;
		i = j - 1;
		s = !s;
	}

	double e = 0, ppa = power_per_amp(o->su);
	for (unsigned k = 0; k < o->n; k++)
		e += o->plan[k] * ppa * (step_end(o->su, k) - k * (uint32_t)o->su->step) / 3600.0;
	return e;
}

static void oracle_replay(const struct oracle *o, const struct sim_solar_day *day, struct tally *out)
{
	struct world w;
	world_init(&w, day, o->su);
	for (unsigned i = 0; i < o->n; i++)
		world_step(&w, i * (uint32_t)o->su->step, step_end(o->su, i), o->plan[i]);
	world_close(&w);
	*out = w.tl;
}

static int run_oracle(const struct sim_solar_day *day, const struct setup *su, int dwell_s, struct tally *out)
{
	struct oracle o;
	int rc = oracle_init(&o, day, su, dwell_s);
	if (rc < 0)
		return rc;
	double need = CAR_CAP_WH * (CAR_TARGET - CAR_SOC0) / 100.0;

	/* lambda 0 is the plan without capacity; if it overfills the car, raise the price of a kWh until
	 * the plan fits (at lambda 1 no step scores above 0, so nothing is charged) */
	double e = oracle_dp(&o, 0);
	oracle_replay(&o, day, out);
	if (e > need) {
		double lo = 0, hi = 1;
		for (int it = 0; it < 30; it++) {
			double mid = 0.5 * (lo + hi);
			if (oracle_dp(&o, mid) > need)
				lo = mid;
			else
				hi = mid;
		}
		double cand[2] = {lo, hi};
		for (int c = 0; c < 2; c++) {
			struct tally t;
			oracle_dp(&o, cand[c]);
			oracle_replay(&o, day, &t);
			if (t.score_wh > out->score_wh)
				*out = t;
		}
	}
	oracle_free(&o);
	return 0;
}

/* ---- the report ---- */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double solar_pct(const struct tally *t)
{
	return t->car_wh > 0 ? 100.0 * t->solar_wh / t->car_wh : 0;
}

static unsigned api_calls(const struct tally *t)
{
	return t->starts + t->stops + t->wakes;
}

static void print_row(const char *name, const struct tally *t)
{
	printf("  %-7s %8.2f %7.1f %7.2f %7.2f %9.2f %7u %6u %5u %8.1f %7.2f\n", name, t->car_wh / 1000,
	       solar_pct(t), t->import_wh / 1000, t->export_wh / 1000, t->car_grid_wh / 1000, t->starts, t->stops,
	       api_calls(t), t->end_soc, t->score_wh / 1000);
}

static void print_gap(const struct tally *p, const struct tally *o)
{
	printf("  %-7s %+8.2f %+7.1f %+7.2f %+7.2f %+9.2f %+7d %+6d %+5d %+8.1f %+7.2f\n", "gap",
	       (p->car_wh - o->car_wh) / 1000, solar_pct(p) - solar_pct(o), (p->import_wh - o->import_wh) / 1000,
	       (p->export_wh - o->export_wh) / 1000, (p->car_grid_wh - o->car_grid_wh) / 1000,
	       (int)p->starts - (int)o->starts, (int)p->stops - (int)o->stops, (int)api_calls(p) - (int)api_calls(o),
	       p->end_soc - o->end_soc, (p->score_wh - o->score_wh) / 1000);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_solar [--shape clear|cloudy|winter|all] [--seed N] [--step S] [--phases 1|3] "
		   "[--battery]\n"
		   "                   [--enable-delay S] [--disable-delay S] [--dwell S]\n"
		   "  --step S   control step in seconds, 1..3600 (default 10); the physics runs per second\n"
		   "  --battery  add a 10 kWh / 5 kW home battery in self-consumption mode (policy batterySoc 50)\n"
		   "  --enable-delay, --disable-delay, --dwell S  the policy's timers (policy.enableDelay ...;\n"
		   "             defaults 60, 180, 120)\n");
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static int run_shape(enum sim_solar_shape shape, const struct setup *su)
{
	struct ems_policy_params p;
	ems_policy_params_default(&p, MAX_A, MIN_A, VOLTAGE, su->phases);

	double t0 = now_ms();
	struct sim_solar_day *day = sim_solar_day_new(shape, su->seed);
	if (!day) {
		fprintf(stderr, "bench_solar: out of memory\n");
		return -ENOMEM;
	}
	double t1 = now_ms();
	struct tally pol, orc;
	int rc = run_policy(day, su, &pol);
	double t2 = now_ms();
	if (rc == 0)
		rc = run_oracle(day, su, p.dwell_s, &orc);
	double t3 = now_ms();
	if (rc < 0) {
		fprintf(stderr, "bench_solar: %s\n", strerror(-rc));
		sim_solar_day_free(day);
		return rc;
	}

	double pv = 0, load = 0;
	for (uint32_t t = 0; t < DAY_S; t++) {
		pv += sim_solar_pv_w(day, t);
		load += sim_solar_load_w(day, t);
	}
	printf("\n%s day, seed %u: PV %.1f kWh, house %.1f kWh\n", sim_solar_shape_name(shape), (unsigned)su->seed,
	       pv / 3.6e6, load / 3.6e6);
	printf("  %-7s %8s %7s %7s %7s %9s %7s %6s %5s %8s %7s\n", "", "charged", "solar", "import", "export",
	       "car grid", "starts", "stops", "api", "car SoC", "score");
	printf("  %-7s %8s %7s %7s %7s %9s %7s %6s %5s %8s %7s\n", "", "kWh", "%", "kWh", "kWh", "kWh", "", "", "",
	       "% at end", "kWh");
	print_row("policy", &pol);
	print_row("oracle", &orc);
	print_gap(&pol, &orc);
	printf("  run time %.0f ms (day %.0f ms, policy %.0f ms, oracle %.0f ms)\n", t3 - t0, t1 - t0, t2 - t1,
	       t3 - t2);
	sim_solar_day_free(day);
	return 0;
}

int main(int argc, char **argv)
{
	struct setup su = {.step = 10, .phases = 1, .battery = false, .seed = 1, .enable_delay = -1,
			   .disable_delay = -1, .dwell = -1};
	int only = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		long v;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--battery") == 0) {
			su.battery = true;
		} else if (i + 1 < argc && strcmp(a, "--shape") == 0) {
			a = argv[++i];
			if (strcmp(a, "all") == 0) {
				only = -1;
			} else if ((only = sim_solar_shape_from_name(a)) < 0) {
				fprintf(stderr, "bench_solar: unknown shape '%s'\n", a);
				return 2;
			}
		} else if (i + 1 < argc && strcmp(a, "--seed") == 0 && parse_long(argv[i + 1], 0, UINT32_MAX, &v)) {
			su.seed = (uint32_t)v;
			i++;
		} else if (i + 1 < argc && strcmp(a, "--step") == 0 && parse_long(argv[i + 1], 1, 3600, &v)) {
			su.step = (int)v;
			i++;
		} else if (i + 1 < argc && strcmp(a, "--enable-delay") == 0 && parse_long(argv[i + 1], 0, 3600, &v)) {
			su.enable_delay = (int)v;
			i++;
		} else if (i + 1 < argc && strcmp(a, "--disable-delay") == 0 && parse_long(argv[i + 1], 0, 3600, &v)) {
			su.disable_delay = (int)v;
			i++;
		} else if (i + 1 < argc && strcmp(a, "--dwell") == 0 && parse_long(argv[i + 1], 0, 3600, &v)) {
			su.dwell = (int)v;
			i++;
		} else if (i + 1 < argc && strcmp(a, "--phases") == 0 && parse_long(argv[i + 1], 1, 3, &v) && v != 2) {
			su.phases = (int)v;
			i++;
		} else {
			usage(stderr);
			return 2;
		}
	}

	double ppa = power_per_amp(&su);
	printf("bench_solar: the track-green policy engine against an oracle that knows the day in advance\n");
	struct ems_policy_params dflt;
	ems_policy_params_default(&dflt, MAX_A, MIN_A, VOLTAGE, su.phases);
	printf("policy: track-green, enable delay %d s, disable delay %d s, dwell %d s, margin %d W\n",
	       su.enable_delay >= 0 ? su.enable_delay : dflt.enable_delay_s,
	       su.disable_delay >= 0 ? su.disable_delay : dflt.disable_delay_s, su.dwell >= 0 ? su.dwell : dflt.dwell_s,
	       dflt.margin_w);
	printf("setup: %d phase%s x %d V, %d-%d A in whole amps; grid meter read every %d s, seen one step late;\n"
	       "  %s\n",
	       su.phases, su.phases > 1 ? "s" : "", VOLTAGE, MIN_A, MAX_A, su.step,
	       su.battery ? "home battery 10 kWh / 5 kW from 20 %, self-consumption, policy batterySoc 50\n"
			    "  (the oracle plans without the battery: its rows are a reference, not the optimum)"
			  : "no home battery");
	printf("car: %.0f kWh from %.0f %% to %.0f %% (needs %.1f kWh), takes more current at %.0f A/s, %.2f-%.2f kW\n",
	       CAR_CAP_WH / 1000, CAR_SOC0, CAR_TARGET, CAR_CAP_WH * (CAR_TARGET - CAR_SOC0) / 100 / 1000, RAMP_A_PER_S,
	       MIN_A * ppa / 1000, MAX_A * ppa / 1000);
	printf("columns: charged = energy into the car; solar = share of it covered by PV surplus (PV - house,\n"
	       "  per second); import/export = the whole house's grid exchange; car grid = the car's energy that\n"
	       "  came from the grid; starts/stops = charging switched on/off while the car needed energy;\n"
	       "  api = vehicle API calls (charge_start + charge_stop + wake_up when stopped > 15 min);\n"
	       "  car SoC = battery at the end of the day; score = solar - car grid - %.0f Wh per start or stop,\n"
	       "  the oracle's objective; gap = policy - oracle (the oracle has the best score by design).\n",
	       penalty_wh(&su));

	double t0 = now_ms();
	for (int s = 0; s < SIM_SOLAR_NSHAPES; s++) {
		if (only >= 0 && s != only)
			continue;
		if (run_shape(s, &su) < 0)
			return 1;
	}
	printf("\ntotal run time %.0f ms\n", now_ms() - t0);
	return 0;
}
