/*
 * gw_bus: one TWC bus in the gateway. It binds the pure twc_bus core to a gw_port and an lws_sul:
 * bytes from the port go to twc_bus_input(), the sul calls twc_bus_tick() at twc_bus_next_deadline(),
 * frames the core writes go to the port, and a port that comes up restarts the core's linkready.
 * It turns the core's events into log lines, applies the minimal standalone policy (charge-now: the
 * wiring's current for the bus and every slave capped at the per-TWC wiring; off: every cap 0) and
 * logs a status block every log.statusInterval seconds. All state is per bus, so a process can run
 * several.
 *
 * Call only from the loop's thread.
 */
#ifndef GW_BUS_H
#define GW_BUS_H

#include "gw_clock.h"
#include "gw_config.h"
#include "gw_loop.h"
#include "twc_bus.h"

struct gw_bus;

/**
 * gw_bus_new() - a bus on the port named in @cfg->twc.port, opened at the next loop turn.
 * @loop:  the gateway loop (borrowed).
 * @clock: the time base for the core (borrowed; outlives the bus).
 * @cfg:   config (copied as needed).
 * Return: the bus, or NULL (logged).
 */
struct gw_bus *gw_bus_new(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg);

/* The same over an already open descriptor (@fd taken over) named @name in logs: the demo. */
struct gw_bus *gw_bus_new_fd(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg,
			     int fd, const char *name);

/**
 * gw_bus_apply_config() - take a reloaded config.
 * New limits go to twc_bus_set_config() (a lower limit takes effect through the core's clamp), the
 * policy is re-applied, and the port is reopened if twc.port changed.
 * Return: 0, or the core's -EINVAL (then nothing was changed).
 */
int gw_bus_apply_config(struct gw_bus *bus, const struct gw_config *cfg);

/* Log one line per slave and one for the bus (also done every log.statusInterval seconds). */
void gw_bus_log_status(struct gw_bus *bus);

/* The core, for read-only queries (the demo's table). Borrowed. */
const struct twc_bus *gw_bus_core(const struct gw_bus *bus);
bool gw_bus_link_up(const struct gw_bus *bus);

/* Cancel the timers and the port's pending work before lws_context_destroy(). */
void gw_bus_stop(struct gw_bus *bus);
/* NULL is a no-op. */
void gw_bus_free(struct gw_bus *bus);

#endif
