/*
 * gw_timer: lws_sul timers in the gateway clock's time, with the re-arm clamps every binding uses,
 * and the reconnect backoff every transport uses.
 */
#include "gw_timer.h"

#include <string.h>

#include "gw_loop.h"

void gw_timer_in(struct gw_loop *loop, const struct gw_clock *clock, lws_sorted_usec_list_t *sul, sul_cb_t cb,
		 uint64_t delta_ms)
{
	uint64_t us = clock ? gw_clock_real_delay_us(clock, delta_ms) : delta_ms * 1000u;

	lws_sul_schedule(gw_loop_context(loop), 0, sul, cb, (lws_usec_t)(us ? us : 1));
}

void gw_timer_at(struct gw_loop *loop, const struct gw_clock *clock, lws_sorted_usec_list_t *sul, sul_cb_t cb,
		 uint64_t deadline_ms, bool capped)
{
	uint64_t now = clock ? gw_clock_now_ms(clock) : gw_clock_mono_ms();
	uint64_t delta = deadline_ms > now ? deadline_ms - now : 0;

	if (capped && delta > GW_TIMER_MAX_MS)
		delta = GW_TIMER_MAX_MS;
	if (delta < GW_TIMER_MIN_MS)
		delta = GW_TIMER_MIN_MS;
	gw_timer_in(loop, clock, sul, cb, delta);
}

static void core_timer_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_core_timer *t = lws_container_of(sul, struct gw_core_timer, sul);

	if (t->stopped)
		return;
	t->tick(t->owner);
	gw_core_timer_rearm(t);
}

void gw_core_timer_init(struct gw_core_timer *t, struct gw_loop *loop, const struct gw_clock *clock, void *owner,
			uint64_t (*deadline)(void *owner), void (*tick)(void *owner))
{
	memset(t, 0, sizeof(*t));
	t->loop = loop;
	t->clock = clock;
	t->owner = owner;
	t->deadline = deadline;
	t->tick = tick;
}

void gw_core_timer_rearm(struct gw_core_timer *t)
{
	if (t->stopped || !t->loop)
		return;
	gw_timer_at(t->loop, t->clock, &t->sul, core_timer_cb, t->deadline(t->owner), true);
}

void gw_core_timer_stop(struct gw_core_timer *t)
{
	t->stopped = true;
	lws_sul_cancel(&t->sul);
}

void gw_backoff_init(struct gw_backoff *b, uint32_t min_ms, uint32_t max_ms, bool jitter)
{
	b->min_ms = min_ms;
	b->max_ms = max_ms;
	b->step_ms = min_ms;
	b->jitter = jitter;
}

uint32_t gw_backoff_next(struct gw_backoff *b, uint16_t r)
{
	uint32_t ms = b->step_ms;

	if (b->jitter)
		ms = ms * 3u / 4u + (uint32_t)((uint64_t)(ms / 2u) * r / 65535u);
	b->step_ms = b->step_ms * 2 > b->max_ms ? b->max_ms : b->step_ms * 2;
	return ms;
}

uint32_t gw_backoff_step(const struct gw_backoff *b)
{
	return b->step_ms;
}

void gw_backoff_reset(struct gw_backoff *b)
{
	b->step_ms = b->min_ms;
}

void gw_backoff_settle(struct gw_backoff *b, uint64_t up_ms, uint64_t stable_ms)
{
	if (up_ms >= stable_ms)
		b->step_ms = b->min_ms;
}
