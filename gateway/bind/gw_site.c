/*
 * gw_site: the budgets of the buses that share one supply. The split itself is twc_alloc_site()
 * (pure, property-tested); this file keeps the list of buses, listens to each bus's on_load, and
 * recomputes at once on every change, so a budget is never older than the state it was made from.
 * A bus taken out while its TWCs may still hold current leaves a reservation behind ("ghost") that
 * counts like a bus of its own until its hold must have ended; its timer runs on the buses' clock
 * (the demo's is faster than real time).
 */
#include "gw_site.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "gw_log.h"
#include "gw_timer.h"

#define RECOMPUTE_ROUNDS 4 /* a recompute that changes a bus's load runs again, this often at most */

struct gw_site {
	struct gw_loop *loop;
	const struct gw_clock *clock; /* the first bus's; NULL until a bus is added */
	int max_amps;
	struct {
		struct gw_bus *bus;
		int budget;
	} buses[TWC_SITE_MAX_BUSES];
	int n;
	struct {
		int amps;          /* 0 = free */
		uint64_t until_ms; /* clock's ms */
	} ghosts[TWC_SITE_MAX_BUSES];
	lws_sorted_usec_list_t sul_ghost;
	bool busy;          /* recomputing: a change it causes only asks for another round */
	bool again;
	bool short_logged;  /* the "holds more than the site" warning, once until it clears */
};

static void ghost_cb(lws_sorted_usec_list_t *sul);

static int find(const struct gw_site *site, const struct gw_bus *bus)
{
	for (int i = 0; i < site->n; i++)
		if (site->buses[i].bus == bus)
			return i;
	return -1;
}

/* Drop ghosts whose time is up and arm the timer for the next one. */
static void ghosts_expire(struct gw_site *site)
{
	uint64_t now, next = UINT64_MAX;

	if (!site->clock)
		return;
	now = gw_clock_now_ms(site->clock);
	for (int k = 0; k < TWC_SITE_MAX_BUSES; k++) {
		if (site->ghosts[k].amps <= 0)
			continue;
		if (now >= site->ghosts[k].until_ms) {
			gw_log_info("site: %d A held by a removed bus are free again", site->ghosts[k].amps);
			site->ghosts[k].amps = 0;
		} else if (site->ghosts[k].until_ms < next) {
			next = site->ghosts[k].until_ms;
		}
	}
	if (next == UINT64_MAX)
		lws_sul_cancel(&site->sul_ghost);
	else
		gw_timer_at(site->loop, site->clock, &site->sul_ghost, ghost_cb, next, false);
}

static void recompute_once(struct gw_site *site)
{
	struct twc_site_bus v[TWC_SITE_MAX_BUSES];
	int budget[TWC_SITE_MAX_BUSES] = { 0 }, n = 0, ghost = 0, rc;

	ghosts_expire(site);
	for (int i = 0; i < site->n; i++)
		gw_bus_site_view(site->buses[i].bus, &v[n++]);
	/* The ghosts are one bus that can do nothing: it holds, needs and wants what they held. One
	 * entry for all of them, so that with every live bus there is still room for it in the split. */
	for (int k = 0; k < TWC_SITE_MAX_BUSES; k++)
		ghost += site->ghosts[k].amps > 0 ? site->ghosts[k].amps : 0;
	if (ghost > 0)
		v[n++] = (struct twc_site_bus){ghost, ghost, ghost, ghost, 0};
	rc = twc_alloc_site(site->max_amps, v, n, budget);
	if (rc == -EINVAL) /* cannot happen (n <= TWC_SITE_MAX_BUSES): then nobody may hold anything new */
		memset(budget, 0, sizeof(budget));
	if (rc == -ERANGE && !site->short_logged) {
		long held = 0;

		for (int i = 0; i < n; i++)
			held += v[i].held;
		gw_log_warn("site: the buses hold %ld A, more than site.maxAmps %d A: nobody is raised until they "
			    "come down", held, site->max_amps);
	}
	site->short_logged = rc == -ERANGE;
	for (int i = 0; i < site->n; i++) {
		site->buses[i].budget = budget[i];
		gw_bus_set_budget(site->buses[i].bus, budget[i]);
	}
}

/* Budgets from the state of now. Setting a budget may itself change a bus's load (its observers run
 * inside gw_bus_set_budget()); such a change asks for another round rather than nesting. */
static void recompute(struct gw_site *site)
{
	if (site->busy) {
		site->again = true;
		return;
	}
	site->busy = true;
	for (int round = 0; round < RECOMPUTE_ROUNDS; round++) {
		site->again = false;
		recompute_once(site);
		if (!site->again)
			break;
	}
	site->busy = false;
}

static void ghost_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_site *site = lws_container_of(sul, struct gw_site, sul_ghost);

	recompute(site);
}

static void bus_load(void *user)
{
	recompute(user);
}

struct gw_site *gw_site_new(struct gw_loop *loop, int max_amps)
{
	struct gw_site *site;

	if (max_amps < 1) {
		gw_log_error("site: maxAmps %d: must be at least 1", max_amps);
		return NULL;
	}
	site = calloc(1, sizeof(*site));
	if (!site)
		return NULL;
	site->loop = loop;
	site->max_amps = max_amps;
	return site;
}

int gw_site_add(struct gw_site *site, struct gw_bus *bus)
{
	struct gw_bus_observer obs = { .user = site, .on_load = bus_load };
	int rc;

	if (find(site, bus) >= 0)
		return -EEXIST;
	if (site->n >= TWC_SITE_MAX_BUSES - 1) /* the last entry of the split is for the ghosts */
		return -ENOSPC;
	rc = gw_bus_add_observer(bus, &obs);
	if (rc < 0)
		return rc;
	if (!site->clock)
		site->clock = gw_bus_clock(bus);
	site->buses[site->n].bus = bus;
	site->buses[site->n].budget = -1;
	site->n++;
	recompute(site);
	gw_log_info("site: bus %s shares %d A with %d other bus%s; its budget %d A", gw_bus_name(bus),
		    site->max_amps, site->n - 1, site->n == 2 ? "" : "es", site->buses[site->n - 1].budget);
	return 0;
}

void gw_site_remove(struct gw_site *site, struct gw_bus *bus)
{
	struct twc_site_bus v;
	int i = find(site, bus);

	if (i < 0)
		return;
	gw_bus_remove_observer(bus, site);
	gw_bus_site_view(bus, &v);
	gw_bus_set_budget(bus, -1);
	memmove(&site->buses[i], &site->buses[i + 1], sizeof(site->buses[0]) * (size_t)(site->n - i - 1));
	site->n--;
	if (v.held > 0 && site->clock) {
		int k = 0;

		/* Full (only with TWC_SITE_MAX_BUSES ghosts): fold into the first, never drop a hold. */
		while (k < TWC_SITE_MAX_BUSES - 1 && site->ghosts[k].amps > 0)
			k++;
		site->ghosts[k].amps += v.held;
		site->ghosts[k].until_ms = gw_clock_now_ms(site->clock) + TWC_HOLD_RELEASE_MS;
		gw_log_info("site: bus %s left holding %d A: kept reserved for %u s", gw_bus_name(bus), v.held,
			    TWC_HOLD_RELEASE_MS / 1000u);
	}
	recompute(site);
}

int gw_site_set_max(struct gw_site *site, int max_amps)
{
	if (max_amps < 1)
		return -EINVAL;
	site->max_amps = max_amps;
	recompute(site);
	return 0;
}

int gw_site_budget(const struct gw_site *site, const struct gw_bus *bus)
{
	int i = find(site, bus);

	return i < 0 ? -ENOENT : site->buses[i].budget;
}

void gw_site_log_status(struct gw_site *site)
{
	char text[512];
	size_t k = 0;
	int held = 0, reserved = 0;

	text[0] = '\0';
	for (int i = 0; i < site->n; i++) {
		struct twc_site_bus v;
		int w;

		gw_bus_site_view(site->buses[i].bus, &v);
		held += v.held;
		w = snprintf(text + k, sizeof(text) - k, "%s%s %d/%d A", i ? ", " : "", gw_bus_name(site->buses[i].bus),
			     v.held, site->buses[i].budget);
		if (w < 0 || (size_t)w >= sizeof(text) - k)
			break;
		k += (size_t)w;
	}
	for (int g = 0; g < TWC_SITE_MAX_BUSES; g++)
		reserved += site->ghosts[g].amps;
	gw_log_info("site: %d/%d A held (%d reserved for removed buses); held/budget: %s", held + reserved,
		    site->max_amps, reserved, text);
}

void gw_site_free(struct gw_site *site)
{
	if (!site)
		return;
	lws_sul_cancel(&site->sul_ghost);
	while (site->n > 0) {
		struct gw_bus *bus = site->buses[site->n - 1].bus;

		gw_bus_remove_observer(bus, site);
		gw_bus_set_budget(bus, -1);
		site->n--;
	}
	free(site);
}
