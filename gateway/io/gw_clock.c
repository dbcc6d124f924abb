/*
 * gw_clock: monotonic and wall time for the gateway, with the demo's speed factor. This file holds
 * the project's only calls to clock_gettime(), so a test or a port to another platform has one
 * place to change.
 */
#include "gw_clock.h"

#include <math.h>

static uint64_t ts_to_us(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000u + (uint64_t)ts->tv_nsec / 1000u;
}

uint64_t gw_clock_mono_us(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer; a zero timespec is the fallback anyway. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return ts_to_us(&ts);
}

uint64_t gw_clock_mono_ms(void)
{
	return gw_clock_mono_us() / 1000u;
}

void gw_clock_wall(struct timespec *out)
{
	if (clock_gettime(CLOCK_REALTIME, out) != 0) {
		out->tv_sec = 0;
		out->tv_nsec = 0;
	}
}

int64_t gw_clock_wall_ms(void)
{
	struct timespec ts;

	gw_clock_wall(&ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gw_clock_init(struct gw_clock *clk, double speed)
{
	clk->start_us = gw_clock_mono_us();
	clk->speed = speed > 0 ? speed : 1.0;
}

/* Simulated time in us, computed in one go so the ms value is rounded once, not twice. */
static uint64_t sim_now_us(const struct gw_clock *clk)
{
	uint64_t real = gw_clock_mono_us() - clk->start_us;

	return clk->start_us + (uint64_t)((double)real * clk->speed);
}

uint64_t gw_clock_now_ms(const struct gw_clock *clk)
{
	return sim_now_us(clk) / 1000u;
}

uint64_t gw_clock_elapsed_ms(const struct gw_clock *clk)
{
	return (sim_now_us(clk) - clk->start_us) / 1000u;
}

uint64_t gw_clock_real_delay_us(const struct gw_clock *clk, uint64_t sim_delta_ms)
{
	double us = ceil((double)sim_delta_ms * 1000.0 / clk->speed);

	return us < 1.0 ? 1u : (uint64_t)us;
}
