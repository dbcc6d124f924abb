/*
 * gw_tesla: the Tesla vehicle API on the gateway's loop. It feeds the pure tesla_api core with what
 * the bus knows about each TWC (plugged, drawing, VIN, the current the allocator grants) once a
 * second, performs the requests the core decides through gw_http, and keeps
 * the core's token and state files in dataDir (tokens 0600). With no tesla section it is not
 * created: the bus alone then decides, and a paused protocol 2 TWC still offers 6 A.
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

/* Return: the client (running), or NULL (logged). @bus and @clock are borrowed and outlive it. */
struct gw_tesla *gw_tesla_new(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg,
			      struct gw_bus *bus);
/* Cancel timers and abort requests: before lws_context_destroy(). NULL is a no-op. */
/* Whether the vehicle API can reach the car on bus slot @slot now: 1 (the car is known and commands
 * may go out), 0 (it cannot: @detail says why: login needed, budget spent, rate-limited, car not
 * identified), -1 no car. @t NULL: -1 with "vehicle API not configured". */
int gw_tesla_vehicle(const struct gw_tesla *t, int slot, bool car, int64_t now_wall_ms, char *detail, size_t n);

void gw_tesla_stop(struct gw_tesla *t);
void gw_tesla_free(struct gw_tesla *t); /* NULL is a no-op */

#endif
