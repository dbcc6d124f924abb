/*
 * gw_site: several TWC buses of one process on one supply (site.maxAmps). It watches every bus it is
 * given (a gw_bus observer) and, whenever what one holds, can come down to or wants changes, splits
 * the site between them with twc_alloc_site() and hands each its budget through gw_bus_set_budget():
 * a bus above its fair share lowers first, the others are raised only into room already given up,
 * so the sum that all TWCs may hold never exceeds site.maxAmps. A bus whose link is lost still counts
 * what its TWCs hold (its core keeps them reserved); a bus removed from the site is kept reserved for
 * TWC_HOLD_RELEASE_MS as it last held.
 *
 * Call only from the loop's thread.
 */
#ifndef GW_SITE_H
#define GW_SITE_H

#include "gw_bus.h"
#include "gw_loop.h"

struct gw_site;

/* A site of @max_amps (1 and up). Return: the site, or NULL (-ENOMEM or a bad value, logged). */
struct gw_site *gw_site_new(struct gw_loop *loop, int max_amps);

/**
 * gw_site_add() - share the site with @bus (borrowed: remove it, or free the site, before freeing
 * the bus). Its budget is set at once, before the bus can raise anyone.
 * Return: 0, -EEXIST if already there, -ENOSPC past TWC_SITE_MAX_BUSES, or gw_bus_add_observer()'s.
 */
int gw_site_add(struct gw_site *site, struct gw_bus *bus);

/* Stop sharing with @bus: its budget is cleared and what it holds now stays reserved for
 * TWC_HOLD_RELEASE_MS (its TWCs may charge on that long). Unknown buses are ignored. */
void gw_site_remove(struct gw_site *site, struct gw_bus *bus);

/* A new site.maxAmps (reload). Return: 0 or -EINVAL. */
int gw_site_set_max(struct gw_site *site, int max_amps);

/* The budget last given to @bus, -ENOENT if it is not in the site. */
int gw_site_budget(const struct gw_site *site, const struct gw_bus *bus);

/* Log one line: the site, what all hold, each bus's budget. */
void gw_site_log_status(struct gw_site *site);

/* Remove every bus (their budgets cleared) and free. NULL is a no-op. */
void gw_site_free(struct gw_site *site);

#endif
