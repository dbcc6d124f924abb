/*
 * gw_bus: one TWC bus in the gateway. It binds the pure twc_bus core to a gw_port and an lws_sul:
 * bytes from the port go to twc_bus_input(), the sul calls twc_bus_tick() at twc_bus_next_deadline(),
 * frames the core writes go to the port, and a port that comes up restarts the core's linkready.
 * It turns the core's events into log lines and logs a status block every log.statusInterval
 * seconds. The slaves share the least of the wiring, OCPP's total and the policy engine's total.
 * Standalone, each slave's own cap is the per-TWC wiring and the policy's total (0 until it first
 * decides) lets cars charge; with an ocpp section a new slave is capped at 0 and the OCPP layer sets
 * caps with gw_bus_set_cap(). The layers above learn what happens through observers (gw_ocpp,
 * gw_tesla): every core event, the status block, and any change of what they may read. All state is per bus,
 * so a process can run several.
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

/* Who else wants to know what happens on the bus (gw_ocpp, gw_tesla, gw_mqtt_status, gw_site).
 * Called from the loop, after the bus has logged, in the order they were added; the event and its
 * strings are borrowed for the call. Every callback is optional. */
#define GW_BUS_OBSERVERS_MAX 6
struct gw_bus_observer {
	void *user;
	/* Every core event: TWC_EV_SLAVE_ADDED / _REMOVED / _STATUS_CHANGED / _VIN and the rest. */
	void (*on_event)(void *user, const struct twc_event *ev);
	/* Right after the periodic status block, so related lines come together. */
	void (*on_status)(void *user);
	/* What twc_bus_slave() reports may have changed: after each core event and after a cap, the
	 * total, the budget or the config changed (the shares follow them). */
	void (*on_change)(void *user);
	/* What the bus holds, can be brought down to or wants (gw_bus_site_view()) changed: after any
	 * call into the core that changed it, e.g. a slave that reported a lowering. For gw_site. */
	void (*on_load)(void *user);
};

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

/* Add an observer (copied). Return 0, or -ENOSPC past GW_BUS_OBSERVERS_MAX. */
int gw_bus_add_observer(struct gw_bus *bus, const struct gw_bus_observer *obs);
/* Remove the observers with this @user (teardown). */
void gw_bus_remove_observer(struct gw_bus *bus, void *user);

/**
 * gw_bus_set_cap() - the most current slave @twc_id may be offered (OCPP mode).
 * @amps: 0 (may not charge) up to the wiring; -1 for the per-TWC wiring limit.
 * Return: 0, -ENOENT if the bus does not know the slave now, -EINVAL for a bad value. The core
 * forgets a cap with its slave: set it again when the slave is added.
 */
int gw_bus_set_cap(struct gw_bus *bus, uint16_t twc_id, int amps);

/**
 * gw_bus_set_total_cap() - the most current all slaves together may be offered (OCPP
 * ChargePointMaxProfile); the bus shares it fairly and pauses a slave whose share is below its
 * minimum. @amps: 0 up to the wiring, or -1 for the wiring. Kept across config reloads.
 * Return: 0 or -EINVAL.
 */
int gw_bus_set_total_cap(struct gw_bus *bus, int amps);

/*
 * gw_bus_set_user_max() - the operator's maximum for Wall Connector @twc_id (the controls): its cap
 * becomes the least of this and what OCPP or the wiring allows. -1 clears it. Kept while the slave is
 * away and applied when it registers. Return: 0, -ERANGE beyond the per-TWC wiring, -ENOSPC when
 * TWC_MAX_KNOWN Wall Connectors already have one.
 */
int gw_bus_set_user_max(struct gw_bus *bus, uint16_t twc_id, int amps);

/**
 * gw_bus_set_policy_cap() - the policy engine's total for all slaves (gw_policy): 0 (cars wait) up
 * to the wiring, or -1 for no cap from the policy (OCPP decides alone). Standalone it starts at 0.
 * Return: 0 or -EINVAL.
 */
int gw_bus_set_policy_cap(struct gw_bus *bus, int amps);

/**
 * gw_bus_set_budget() - the most this bus may hold in total, from the site it shares with other
 * buses (gw_site): the core's clamp keeps what the bus holds within it, lowering slaves before it
 * raises any. @amps: 0 up to anything, or -1 for none (the default). Kept across config reloads.
 * Return: 0 or -EINVAL.
 */
int gw_bus_set_budget(struct gw_bus *bus, int amps);
/* What the bus holds, can be brought down to and wants, for twc_alloc_site(). */
void gw_bus_site_view(const struct gw_bus *bus, struct twc_site_bus *out);
/* The port's name, for log lines of the layers above (borrowed). */
const char *gw_bus_name(const struct gw_bus *bus);
/* The clock the bus was made with (borrowed). */
const struct gw_clock *gw_bus_clock(const struct gw_bus *bus);

/* What the cars draw now, W: per slave the lower of its measured amps and its limit in force (so a
 * car ramping to a new limit is never overstated), x twc.voltage x twc.phases. */
double gw_bus_drawn_w(const struct gw_bus *bus);

/* The VIN a slave reported, as text fit for JSON: bytes from the bus, so only A-Z and 0-9 are kept. */
void gw_bus_vin_text(const struct twc_slave_info *in, char *out, size_t n);

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
