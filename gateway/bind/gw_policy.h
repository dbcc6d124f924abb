/*
 * gw_policy: the standalone policy engine and the energy meters on the gateway's loop. It runs one
 * ems_meter core per member of the ems list (HTTP through gw_http, Modbus TCP through a gw_port,
 * MQTT through gw_mqtt), combines their readings, feeds them with the time and the chargers' draw to
 * the ems_policy core whenever a meter answers, the central system comes or goes, and at the earliest
 * moment the decision could change by itself (a source instead of meters: every second), and hands
 * the decision to the bus as its policy cap. Precedence: without an ocpp section the policy decides alone; with one, the
 * central system's profiles decide and the policy caps them only when policy.applyWithCsms is true or
 * the central system has been unreachable for policy.fallbackAfter seconds.
 *
 * Call only from the loop's thread.
 */
#ifndef GW_POLICY_H
#define GW_POLICY_H

#include "ems.h"
#include "gw_bus.h"
#include "gw_clock.h"
#include "gw_config.h"
#include "gw_loop.h"

struct gw_ocpp;
struct gw_policy;

/* A reading that does not come from configured meters: the demo's simulated house. Called at every
 * evaluation with the simulated time; fills @out (NAN = unknown). */
struct gw_policy_source {
	void *user;
	void (*read)(void *user, uint64_t now_ms, struct ems_reading *out);
};

/**
 * gw_policy_new() - the policy for @cfg->policy with the meters of @cfg->ems, deciding at once.
 * @loop, @clock, @bus: borrowed; they outlive it.
 * @ocpp:   the charge point, or NULL without an ocpp section (borrowed).
 * @source: replaces the meters when not NULL (copied).
 * Return: the policy (running), or NULL (logged).
 */
struct gw_policy *gw_policy_new(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg,
				struct gw_bus *bus, struct gw_ocpp *ocpp, const struct gw_policy_source *source);

/*
 * gw_policy_set_share() - the meters serve @n charge points (buses) of one site: grid, pv, load and
 * battery power are divided by @n before the policy sees them (state of charge and voltage are not),
 * so each bus's policy gets an even share of what flows, while it still counts its own chargers' draw
 * (policy.loadIncludesChargers): a bus keeps what it draws and the rest is split evenly, and the shares
 * add up to the site's surplus. The other buses' policies take this reading through a
 * gw_policy_source (gw_policy_state().reading), so one set of meters is polled once.
 */
void gw_policy_set_share(struct gw_policy *pol, int n);

/* A reloaded config: policy.* takes effect at once (timers kept); ems changes need a restart. */
void gw_policy_apply_config(struct gw_policy *pol, const struct gw_config *cfg);

/* The last decision, for the demo's table. */
struct gw_policy_state {
	enum ems_policy_mode mode; /* in force now (after an until, its then) */
	int amps;                 /* what the policy allows the bus, 0 = cars wait */
	bool applied;             /* the cap is in force (always standalone) */
	double surplus_w;         /* NAN unless track-green knows it */
	struct ems_reading reading;
	const char *reason;
	unsigned starts, stops;
};
void gw_policy_state(const struct gw_policy *pol, struct gw_policy_state *out);

/* Meter @i (0..) for the status page: its name, type, the age of its freshest value (NAN never read),
 * whether that is within its maxAge, and its main figure (grid, else pv, else load; NAN unknown).
 * Return 0, or -ENOENT past the last meter. */
struct gw_policy_meter {
	const char *name, *type; /* borrowed from the policy */
	double age_s;
	bool ok;
	double value_w;
};
int gw_policy_meter(const struct gw_policy *pol, int i, struct gw_policy_meter *out);

/* One status line (also every log.statusInterval seconds). */
void gw_policy_log_status(struct gw_policy *pol);

/* Cancel timers and requests, before lws_context_destroy(). NULL is a no-op. */
void gw_policy_stop(struct gw_policy *pol);
void gw_policy_free(struct gw_policy *pol); /* NULL is a no-op */

#endif
