/*
 * sim_solar: synthetic days of household PV generation and house load, deterministic for a given
 * shape and seed, for the solar benchmark (bench/bench_solar), the demo's solar day and tests.
 * Shapes: a clear summer day, a cloudy day whose PV flickers (clouds passing in seconds to minutes),
 * and a short, weak winter day. Times are seconds after local midnight; power in W.
 */
#ifndef SIM_SOLAR_H
#define SIM_SOLAR_H

#include <stdint.h>

enum sim_solar_shape {
	SIM_SOLAR_CLEAR = 0,   /* ~9.5 kWp array, sunrise ~05:30, sunset ~21:00, peak ~8 kW */
	SIM_SOLAR_CLOUDY,      /* same array; clouds cut PV to 20-40 % for 10 s to 10 min, often */
	SIM_SOLAR_WINTER,      /* sunrise ~08:15, sunset ~16:15, peak ~2.5 kW, light overcast */
	SIM_SOLAR_NSHAPES
};

/* "clear", "cloudy", "winter"; and back (-1). */
const char *sim_solar_shape_name(enum sim_solar_shape s);
int sim_solar_shape_from_name(const char *name);

struct sim_solar_day;

/* A day of @shape with @seed (same seed, same day). Return NULL on -ENOMEM. */
struct sim_solar_day *sim_solar_day_new(enum sim_solar_shape shape, uint32_t seed);
void sim_solar_day_free(struct sim_solar_day *d);

/* PV generation and house load (without any car) at @t_s seconds after midnight, 0..86399;
 * piecewise constant over 1 s. House load: base ~300 W, a kettle/oven/washer now and then. */
double sim_solar_pv_w(const struct sim_solar_day *d, uint32_t t_s);
double sim_solar_load_w(const struct sim_solar_day *d, uint32_t t_s);

#endif
