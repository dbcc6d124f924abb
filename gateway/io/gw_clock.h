/*
 * gw_clock: the gateway's only window on time. Monotonic milliseconds drive the pure cores; wall time
 * stamps log lines. A struct gw_clock adds a speed factor so the demo can run simulated time faster
 * than real time: now = start + (mono - start) * speed, and a timer due after a simulated delta
 * waits delta / speed in real time. Every clock_gettime() in the project is in gw_clock.c.
 */
#ifndef GW_CLOCK_H
#define GW_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Real monotonic time (CLOCK_MONOTONIC). */
uint64_t gw_clock_mono_us(void);
uint64_t gw_clock_mono_ms(void);

/* Real wall time (CLOCK_REALTIME), for log stamps and later OCPP timestamps. */
void gw_clock_wall(struct timespec *out);
/* The same in ms since the epoch, what the cores take as wall time. */
int64_t gw_clock_wall_ms(void);

/*
 * A possibly sped-up monotonic clock. Embedded by value in its owner; set up with gw_clock_init().
 * speed 1 is real time. Callers share one clock so that every core sees the same "now".
 */
struct gw_clock {
	uint64_t start_us; /* real monotonic time at init */
	double speed;      /* simulated seconds per real second, > 0 */
};

/* @speed <= 0 is taken as 1. */
void gw_clock_init(struct gw_clock *clk, double speed);

/* Simulated monotonic ms; equal to gw_clock_mono_ms() at init and running @speed times as fast. */
uint64_t gw_clock_now_ms(const struct gw_clock *clk);

/* Simulated ms since gw_clock_init(). */
uint64_t gw_clock_elapsed_ms(const struct gw_clock *clk);

/*
 * Real microseconds to wait so that @sim_delta_ms of simulated time has passed, rounded up so a
 * timer never fires before its simulated deadline. At least 1.
 */
uint64_t gw_clock_real_delay_us(const struct gw_clock *clk, uint64_t sim_delta_ms);

#endif
