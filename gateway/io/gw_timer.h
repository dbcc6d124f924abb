/*
 * gw_timer: the one way the gateway arms a timer and backs off. A binding keeps its core's timer
 * at the core's next deadline with a gw_core_timer (gw_timer_at() underneath) (clamped so that a core saying "now" costs 1 ms of
 * latency instead of a busy loop, and one computing a deadline wrongly far off still wakes within a
 * minute); a transport that reconnects waits gw_backoff_next() (doubling steps between a floor and a
 * ceiling, optionally jittered so that many clients do not retry in step, and reset only by a link
 * that stayed up, so a peer that accepts and drops at once is not hammered).
 */
#ifndef GW_TIMER_H
#define GW_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "gw_clock.h"

struct gw_loop;

#define GW_TIMER_MIN_MS 1u
#define GW_TIMER_MAX_MS 60000u

/* Arm @sul to call @cb after @delta_ms of @clock's (possibly sped-up) time; @clock NULL: real time.
 * At least 1 µs. */
void gw_timer_in(struct gw_loop *loop, const struct gw_clock *clock, lws_sorted_usec_list_t *sul, sul_cb_t cb,
		 uint64_t delta_ms);

/* Arm @sul at @clock's @deadline_ms, at least GW_TIMER_MIN_MS from now and, when @capped, at most
 * GW_TIMER_MAX_MS. */
void gw_timer_at(struct gw_loop *loop, const struct gw_clock *clock, lws_sorted_usec_list_t *sul, sul_cb_t cb,
		 uint64_t deadline_ms, bool capped);

/* A pure core's tick timer: armed at the core's next deadline after every call into the core, it
 * calls @tick and re-arms itself. Embed in the binding; gw_core_timer_init() before use. */
struct gw_core_timer {
	lws_sorted_usec_list_t sul;
	struct gw_loop *loop;
	const struct gw_clock *clock;
	void *owner;
	uint64_t (*deadline)(void *owner); /* the core's next deadline, @clock's ms */
	void (*tick)(void *owner);          /* run the core's tick */
	bool stopped;
};

void gw_core_timer_init(struct gw_core_timer *t, struct gw_loop *loop, const struct gw_clock *clock, void *owner,
			uint64_t (*deadline)(void *owner), void (*tick)(void *owner));
/* Arm at the core's deadline now (after an input into the core); nothing once stopped. */
void gw_core_timer_rearm(struct gw_core_timer *t);
/* Cancel and never arm again (teardown). */
void gw_core_timer_stop(struct gw_core_timer *t);

/* Reconnect delays. Set up with gw_backoff_init(); all times in ms. */
struct gw_backoff {
	uint32_t min_ms, max_ms;
	uint32_t step_ms;   /* what the next wait is based on */
	bool jitter;        /* wait 75-125 % of the step */
};

void gw_backoff_init(struct gw_backoff *b, uint32_t min_ms, uint32_t max_ms, bool jitter);
/* The wait before the next attempt (@r: a random 0..65535, used when jittered); the step after it
 * doubles, up to the ceiling. */
uint32_t gw_backoff_next(struct gw_backoff *b, uint16_t r);
/* The step the next wait is based on (for log lines). */
uint32_t gw_backoff_step(const struct gw_backoff *b);
/* Back to the floor: the link proved itself. */
void gw_backoff_reset(struct gw_backoff *b);
/* Back to the floor only if the link that just ended was up at least @stable_ms. */
void gw_backoff_settle(struct gw_backoff *b, uint64_t up_ms, uint64_t stable_ms);

#endif
