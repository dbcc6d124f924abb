/*
 * gw_tesla: the Tesla vehicle API on the gateway's loop. One client per process, for one account:
 * it serves every bus attached to it (a depot's charge points share the token pair, which is single
 * use, and the daily budget). It feeds the pure tesla_api core with what each bus knows about its
 * TWCs (plugged, drawing, VIN, the current the allocator grants) whenever that may have changed,
 * performs the requests the core decides through gw_http, and keeps the core's token and state
 * files in the top-level dataDir (tokens 0600). With no tesla section it is not created: the bus
 * alone then decides, and a paused protocol 2 TWC still offers 6 A.
 *
 * Call only from the loop's thread.
 */
#ifndef GW_TESLA_H
#define GW_TESLA_H

#include "gw_bus.h"
#include "gw_clock.h"
#include "gw_config.h"
#include "gw_loop.h"

struct gw_tesla;

/*
 * gw_tesla_new() - the client for @cfg's tesla section, serving up to @buses buses (1..
 * GW_TESLA_BUSES_MAX). Its files live in @data_dir; when one is missing there it is read from
 * @legacy_dir once (NULL for none: a one-entry chargePoints file kept them in the entry's folder
 * before clients were shared). Return: the client (running), or NULL (logged). @clock is borrowed.
 */
#define GW_TESLA_BUSES_MAX 64
struct gw_tesla *gw_tesla_new(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg,
			      const char *data_dir, const char *legacy_dir, int buses);
/*
 * gw_tesla_attach() - serve the TWCs of @bus (borrowed until gw_tesla_detach()); @name ("DEPOT-2",
 * "" for the single-bus form) names its connectors in log lines; @min_amps is its minAmpsPerTWC.
 * Return: 0, -EEXIST (already attached), -ENOSPC (@buses of gw_tesla_new() reached), -ENOMEM.
 */
int gw_tesla_attach(struct gw_tesla *t, struct gw_bus *bus, const char *name, int min_amps);
/* Stop serving @bus: its cars count as unplugged, so nothing queued for them goes out. */
void gw_tesla_detach(struct gw_tesla *t, struct gw_bus *bus);
/* Whether the vehicle API can reach the car on slot @slot of @bus now: 1 (the car is known and
 * commands may go out), 0 (it cannot: @detail says why: login needed, budget spent, rate-limited,
 * car not identified), -1 no car. @t NULL or @bus not attached: -1 with "vehicle API not
 * configured". */
int gw_tesla_vehicle(const struct gw_tesla *t, const struct gw_bus *bus, int slot, bool car, int64_t now_wall_ms,
		     char *detail, size_t n);

/* Cancel timers and abort requests: before lws_context_destroy(). NULL is a no-op. */
void gw_tesla_stop(struct gw_tesla *t);
void gw_tesla_free(struct gw_tesla *t); /* NULL is a no-op */

#endif
