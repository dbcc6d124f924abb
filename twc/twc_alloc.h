/*
 * twc_alloc: the one place where amp values for the bus are decided. twc_alloc_share() splits the
 * available current fairly between the slaves that may charge; twc_alloc_clamp() decides, at the
 * moment a heartbeat is sent, what one slave may be told without the sum of the limits in force ever
 * exceeding the wiring. No other code computes an amp value that reaches the bus.
 *
 * What a slave is counted for is the limit it may be *holding* (twc_alloc_held()): not what we meant
 * to send, but the larger of what it was last told (a protocol 2 slave told anything below 6 A still
 * takes 6 A) and what it last reported, and the current its car still draws above that. Slaves that
 * left the registry but may still hold a limit (silent, or known from before a restart) are counted
 * as @reserved amps.
 */
#ifndef TWC_ALLOC_H
#define TWC_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#define TWC_MAX_SLAVES 3

/* The wiring and minimum, from config (whole amps). Validated by the config loader:
 * 0 < min_amps <= per_twc <= all. */
struct twc_limits {
	int wiring_max_all;     /* twc.wiringMaxAmpsAllTWCs */
	int wiring_max_per_twc; /* twc.wiringMaxAmpsPerTWC */
	int min_amps;           /* twc.minAmpsPerTWC */
};

/* One slave as the allocator sees it. */
struct twc_alloc_slave {
	bool present;      /* in the registry */
	uint8_t protocol;  /* 1 or 2 */
	int rated_amps;    /* what the slave advertised in its linkready (whole amps, rounded down) */
	int cap_amps;      /* most the layer above allows for this slave now (0 = may not charge) */
	bool wants;        /* a car is plugged in or charging */
	bool charging;     /* currently drawing current (priority when short) */
	bool told;         /* we have sent it a limit (or it is known to hold one from before a restart) */
	int told_amps;     /* that limit, valid when told */
	int held_amps;     /* the most it may be allowing now, see twc_alloc_held() */
	bool hold;         /* may not be raised now (the bus is settling after a start or reconnect) */
};

/* Smallest limit a slave of @protocol obeys (5 A for protocol 1, 6 A for protocol 2). */
int twc_alloc_protocol_min(uint8_t protocol);

/* Smallest offer we make to a slave: max(minAmpsPerTWC, its protocol minimum). */
int twc_alloc_min_offer(const struct twc_limits *lim, uint8_t protocol);

/* Highest limit a slave may ever be told: min(wiring per TWC, its rated max). */
int twc_alloc_max_offer(const struct twc_limits *lim, int rated_amps);

/**
 * twc_alloc_in_force() - the limit in force of a slave.
 * @told:     true once we have sent it a limit.
 * @told_amps: that limit.
 * @protocol: 1 or 2.
 * @reported_amps: the limit the slave reports in its heartbeat (used until we have told it one).
 */
int twc_alloc_in_force(bool told, int told_amps, uint8_t protocol, int reported_amps);

/* A car may draw a little over its limit; more than this over what a slave holds means the car has
 * not yet come down to a lowered limit, and then the draw itself counts. */
#define TWC_DRAW_TOLERANCE_CA 50

/**
 * twc_alloc_held() - the most a slave may be allowing now, in whole amps.
 * @told, @told_amps: the last limit written to it (or restored after a restart).
 * @protocol:    1 or 2.
 * @reported_ca: the limit it last reported (0.01 A), -1 before it has reported.
 * @measured_ca: what its car last drew (0.01 A), -1 before it has reported.
 *
 * The larger of the told limit in force and the reported limit (rounded up): a lowering counts once
 * the slave reports it, a raise as soon as it may have arrived. A draw more than
 * TWC_DRAW_TOLERANCE_CA over that (a car still coming down) counts, rounded up.
 */
int twc_alloc_held(bool told, int told_amps, uint8_t protocol, int reported_ca, int measured_ca);

/* The least a slave holding @held_amps can be brought down to over the bus: a protocol 2 slave that
 * holds anything never goes below 6 A; a protocol 1 slave stops at 0. */
int twc_alloc_floor(uint8_t protocol, int held_amps);

/**
 * twc_alloc_share() - fair targets for every slave.
 * @lim:       wiring limits.
 * @available: total amps the layer above makes available to the bus (clipped to the wiring).
 * @reserved:  amps held by slaves not in @s (silent ones, or known from before a restart).
 * @s:         TWC_MAX_SLAVES slaves (borrowed).
 * @target:    out, TWC_MAX_SLAVES whole-amp targets; 0 means "do not charge".
 *
 * Slaves that want current and whose cap reaches their minimum are candidates. Each gets at least
 * its minimum offer or nothing: when the total is short, slaves that are charging keep their place
 * and the others are paused (target 0), never starved below the minimum. What is left is shared
 * equally (water-filling), each capped by its cap, the wiring per TWC and its rating. @reserved and
 * the amps that paused protocol 2 slaves still take (6 A once they hold anything) come off first.
 * Pure and total: any input gives targets whose sum with those reservations is <= the wiring.
 */
void twc_alloc_share(const struct twc_limits *lim, int available, int reserved, const struct twc_alloc_slave *s,
		     int *target);

/* What a heartbeat to one slave carries. */
struct twc_grant {
	bool command;   /* false: command 00 (no change) */
	int amps;       /* whole amps to tell, valid when command is true */
};

/**
 * twc_alloc_clamp() - what slave @idx may be told right now.
 * @lim:    wiring limits.
 * @reserved: amps held by slaves not in @s.
 * @s:      TWC_MAX_SLAVES slaves with what they hold (borrowed).
 * @idx:    the slave about to be heartbeated.
 * @target: the amps we would like it to have (from twc_alloc_share()).
 *
 * The result never makes the sum of what the slaves hold exceed lim->wiring_max_all, given what the
 * others hold now (@reserved included): a slave is raised only into room that others have already
 * been seen to give up. It never exceeds the per-TWC wiring or the slave's rating, is never above the
 * limit it was told while @hold is set, and is never a positive value below the slave's minimum (such
 * a value becomes 0 for protocol 1, and "no command" when telling would raise). A slave that has never
 * been told anything and should not charge gets "no command", so a new car waits.
 */
struct twc_grant twc_alloc_clamp(const struct twc_limits *lim, int reserved, const struct twc_alloc_slave *s,
				 int idx, int target);

/* ---- several buses on one supply (site.maxAmps) ---- */

#define TWC_SITE_MAX_BUSES 65 /* 64 buses, and one entry for what removed buses may still hold */

/* One bus of a site as twc_alloc_site() sees it, whole amps (twc_bus_site_view()). */
struct twc_site_bus {
	int held;     /* what its TWCs may hold now, reservations included (twc_bus_held_total()) */
	int need;     /* the least it can be brought down to: reserved amps and protocol 2 floors */
	int wants;    /* what it would hold with the site to itself (>= need) */
	int start;    /* the least budget with which one of its cars can charge (>= need) */
	int cars;     /* cars that want current */
};

/**
 * twc_alloc_site() - each bus's budget (the most it may hold) on a supply of @site_max amps.
 * @site_max: site.maxAmps.
 * @b:        @n buses (borrowed). A bus that lost its link, or whose TWCs are only reserved, is
 *            still one of them: its held amps count as long as it reports them.
 * @budget:   out, @n budgets.
 *
 * Fair first: every bus keeps its need, cars are dropped (whole buses, those not holding above
 * their need and then the last) until each bus left can start one, and the rest is shared per car
 * (water-filling up to what each wants). Safe second: a bus above its fair share gets that share and
 * must come down; a bus below it is raised only into room the others have already given up, so for
 * every bus i, budget[i] + sum over j != i of max(held[j], budget[j]) <= site_max. Each bus raising
 * to its budget while the others are still where they are (or lowering) therefore keeps the sum of
 * what all hold within the site, whatever the order; lowered amps go to the others on the next call.
 * Return: 0, -EINVAL for more than TWC_SITE_MAX_BUSES buses, or -ERANGE when the buses hold more
 * than @site_max already (then nobody is raised: each budget is the bus's fair share, or what it
 * holds if that is less).
 */
int twc_alloc_site(int site_max, const struct twc_site_bus *b, int n, int *budget);

#endif
