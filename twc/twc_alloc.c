/*
 * twc_alloc: decides every amp value that goes on the bus. Two steps, both pure functions:
 * twc_alloc_share() computes fair targets for all slaves from what the layer above allows, and
 * twc_alloc_clamp() turns one slave's target into what it may be told at the moment its heartbeat
 * goes out, counting what the other slaves may be holding right now. Because the clamp only ever
 * uses room the others have been seen to give up (a lowering counts once the slave reports it and its
 * car has come down), "lower one slave before raising another" holds by construction, whatever order
 * heartbeats go out in and whichever frames are lost. twc_alloc_site() does the same one level up:
 * budgets for several buses on one supply, each bus raised only into room the others gave up.
 */
#include "twc_alloc.h"

#include <errno.h>

static int imin(int a, int b)
{
	return a < b ? a : b;
}

static int imax(int a, int b)
{
	return a > b ? a : b;
}

int twc_alloc_protocol_min(uint8_t protocol)
{
	return protocol == 1 ? 5 : 6;
}

int twc_alloc_min_offer(const struct twc_limits *lim, uint8_t protocol)
{
	return imax(lim->min_amps, twc_alloc_protocol_min(protocol));
}

int twc_alloc_max_offer(const struct twc_limits *lim, int rated_amps)
{
	/* A slave advertising less than any TWC obeys looks broken: offer it nothing. */
	if (rated_amps < twc_alloc_protocol_min(1))
		return 0;
	return imax(0, imin(lim->wiring_max_per_twc, rated_amps));
}

int twc_alloc_in_force(bool told, int told_amps, uint8_t protocol, int reported_amps)
{
	if (!told)
		return imax(0, reported_amps);
	/* A protocol 2 TWC treats any limit below its 6 A minimum, 0 included, as 6 A. */
	if (protocol != 1)
		return imax(told_amps, twc_alloc_protocol_min(2));
	return imax(0, told_amps);
}

static int ceil_amps(int ca)
{
	return ca <= 0 ? 0 : (ca + 99) / 100;
}

int twc_alloc_held(bool told, int told_amps, uint8_t protocol, int reported_ca, int measured_ca)
{
	int held = told ? twc_alloc_in_force(true, told_amps, protocol, 0) : 0;

	held = imax(held, ceil_amps(reported_ca));
	if (measured_ca > held * 100 + TWC_DRAW_TOLERANCE_CA)
		held = ceil_amps(measured_ca);
	return held;
}

int twc_alloc_floor(uint8_t protocol, int held_amps)
{
	if (protocol == 1 || held_amps <= 0)
		return 0;
	return twc_alloc_protocol_min(2);
}

/* What a slave keeps even when we want it off. */
static int floor_held(const struct twc_alloc_slave *s)
{
	return s->present ? twc_alloc_floor(s->protocol, s->held_amps) : 0;
}

/* Lower and upper bound of a candidate's target; hi < lo means it cannot charge now. */
static void bounds(const struct twc_limits *lim, const struct twc_alloc_slave *s, int *lo, int *hi)
{
	*lo = twc_alloc_min_offer(lim, s->protocol);
	*hi = imin(twc_alloc_max_offer(lim, s->rated_amps), s->cap_amps);
}

void twc_alloc_share(const struct twc_limits *lim, int available, int reserved, const struct twc_alloc_slave *s,
		     int *target)
{
	int order[TWC_MAX_SLAVES], lo[TWC_MAX_SLAVES], hi[TWC_MAX_SLAVES];
	bool selected[TWC_MAX_SLAVES] = {false};
	int n = 0, budget;

	budget = imax(0, imin(available, lim->wiring_max_all)) - imax(0, reserved);
	for (int i = 0; i < TWC_MAX_SLAVES; i++) {
		target[i] = 0;
		if (!s[i].present)
			continue;
		bounds(lim, &s[i], &lo[i], &hi[i]);
		if (s[i].wants && hi[i] >= lo[i] && lo[i] > 0)
			selected[i] = true;
		else
			budget -= floor_held(&s[i]);
	}
	/* Candidates in priority order: cars already charging first, then by slot. */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < TWC_MAX_SLAVES; i++)
			if (selected[i] && s[i].charging == (pass == 0))
				order[n++] = i;

	/* Short of current: pause the lowest-priority candidates until every remaining one can have
	 * its minimum. A paused protocol 2 slave still holds its floor, so count that too. */
	for (;;) {
		int need = 0;

		for (int k = 0; k < n; k++)
			need += lo[order[k]];
		if (n == 0 || need <= budget)
			break;
		n--;
		selected[order[n]] = false;
		budget -= floor_held(&s[order[n]]);
	}
	if (budget < 0 || n == 0)
		return;

	/* Water-filling: everyone starts at its minimum, the rest is shared equally, and what a
	 * capped slave cannot take goes to the others. */
	int left = budget;
	for (int k = 0; k < n; k++) {
		target[order[k]] = lo[order[k]];
		left -= lo[order[k]];
	}
	while (left > 0) {
		int open = 0;

		for (int k = 0; k < n; k++)
			open += target[order[k]] < hi[order[k]];
		if (open == 0)
			break;
		int each = left / open;
		for (int k = 0; k < n && left > 0; k++) {
			int i = order[k];
			int add = imin(each > 0 ? each : 1, hi[i] - target[i]);

			if (add <= 0)
				continue;
			target[i] += add;
			left -= add;
		}
	}
}

struct twc_grant twc_alloc_clamp(const struct twc_limits *lim, int reserved, const struct twc_alloc_slave *s,
				 int idx, int target)
{
	const struct twc_alloc_slave *me = &s[idx];
	struct twc_grant g = {false, 0};
	int others = imax(0, reserved), room, want, after;

	/* Every other slot counts what it holds, present or not: a slot is never holding without us
	 * knowing, and a held limit does not vanish with the registry entry. */
	for (int j = 0; j < TWC_MAX_SLAVES; j++)
		if (j != idx)
			others += imax(0, s[j].held_amps);
	room = lim->wiring_max_all - others;

	want = imin(imax(target, 0), twc_alloc_max_offer(lim, me->rated_amps));
	want = imin(want, room);
	/* Settling after a start or reconnect: nobody goes above what it was told before. */
	if (me->hold)
		want = imin(want, me->told ? me->told_amps : 0);
	if (want < twc_alloc_min_offer(lim, me->protocol))
		want = 0;

	/* A slave we never told anything and that holds nothing is left waiting (command 00). */
	if (want == 0 && !me->told && me->held_amps <= 0)
		return g;

	/* Telling a protocol 2 slave 0 still puts 6 A in force: only do it if that is not a raise
	 * beyond the room left. */
	after = twc_alloc_in_force(true, want, me->protocol, 0);
	if (after > imax(me->held_amps, 0) && after > room)
		return g;

	g.command = true;
	g.amps = want;
	return g;
}

/* ---- the site ---- */

/* Whether bus @i, with @extra amps above its need, comes before bus @j with @extra_j in the per-car
 * water-filling: fewer amps per car first, then the lower index. */
static bool site_before(int extra_i, int cars_i, int i, int extra_j, int cars_j, int j)
{
	long a = (long)extra_i * imax(cars_j, 1), b = (long)extra_j * imax(cars_i, 1);

	return a != b ? a < b : i < j;
}

/* Hand out @left amps one at a time to the bus with the fewest amps per car above its need, each up
 * to @top[i]; @amt[] grows in place. Returns what could not be placed. */
static int site_fill(const struct twc_site_bus *b, int n, const int *top, int *amt, int left)
{
	while (left > 0) {
		int best = -1;

		for (int i = 0; i < n; i++)
			if (amt[i] < top[i] && (best < 0 || site_before(amt[i] - b[i].need, b[i].cars, i,
									 amt[best] - b[best].need, b[best].cars, best)))
				best = i;
		if (best < 0)
			break;
		amt[best]++;
		left--;
	}
	return left;
}

int twc_alloc_site(int site_max, const struct twc_site_bus *b, int n, int *budget)
{
	int fair[TWC_SITE_MAX_BUSES], top[TWC_SITE_MAX_BUSES];
	bool cand[TWC_SITE_MAX_BUSES];
	long need = 0, held = 0, used;
	int room;

	if (n <= 0)
		return 0;
	if (n > TWC_SITE_MAX_BUSES)
		return -EINVAL;
	site_max = imax(site_max, 0);
	for (int i = 0; i < n; i++) {
		need += imax(b[i].need, 0);
		held += imax(b[i].held, 0);
		fair[i] = imax(b[i].need, 0);
		/* A bus that can start a car: its wish reaches its start. */
		cand[i] = b[i].wants > fair[i] && b[i].start <= b[i].wants;
	}
	/* Short: drop whole buses until each left can start a car, those not charging above their need
	 * first, then the last. */
	for (;;) {
		int drop = -1;

		used = need;
		for (int i = 0; i < n; i++)
			if (cand[i])
				used += imax(b[i].start, fair[i]) - fair[i];
		if (used <= site_max)
			break;
		for (int i = n - 1; i >= 0; i--)
			if (cand[i] && (drop < 0 || (b[drop].held > b[drop].need && b[i].held <= b[i].need)))
				drop = i;
		if (drop < 0)
			break;
		cand[drop] = false;
	}
	for (int i = 0; i < n; i++) {
		if (cand[i])
			fair[i] = imax(b[i].start, fair[i]);
		top[i] = cand[i] ? imax(b[i].wants, fair[i]) : fair[i];
	}
	if (used <= site_max)
		site_fill(b, n, top, fair, (int)(site_max - used));

	/* Above its share: come down to it (what it holds still counts until it has). Below: raised
	 * only into the room that is free now, shared the same way. */
	room = site_max;
	for (int i = 0; i < n; i++) {
		budget[i] = imax(b[i].held, 0);
		room -= budget[i];
		top[i] = budget[i];
		if (fair[i] <= budget[i])
			budget[i] = top[i] = fair[i];
		else
			top[i] = fair[i];
	}
	if (held > site_max) {
		for (int i = 0; i < n; i++)
			budget[i] = imin(budget[i], fair[i]);
		return -ERANGE;
	}
	site_fill(b, n, top, budget, room);
	return 0;
}
