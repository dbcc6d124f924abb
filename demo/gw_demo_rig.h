/*
 * gw_demo_rig: the plumbing every demo scenario shares, internal to gw_demo.c and gw_demo_solar.c.
 * A rig is one lws loop carrying both ends of a socketpair: a real gw_bus on one end, exactly the
 * code that drives an RS-485 port, and the twc_sim core on the other with its own tick timer. A
 * scenario embeds a rig, adds what it needs on top (an OCPP charge point, the policy engine), plays
 * its script on its own timer, and tears down in the order lws needs:
 *
 *   demo_rig_open()  -> scenario objects -> demo_rig_start() -> demo_rig_run()
 *   cancel the scenario's timers, stop its objects -> demo_rig_close() -> free its objects
 *   -> demo_rig_free()
 *
 * demo_rig_close() and demo_rig_free() are safe on a rig whose open failed half-way.
 */
#ifndef GW_DEMO_RIG_H
#define GW_DEMO_RIG_H

#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "gw_bus.h"
#include "gw_clock.h"
#include "gw_config.h"
#include "gw_loop.h"
#include "gw_port.h"
#include "twc_sim.h"

struct gw_control;
struct gw_web;
struct gw_policy;
struct gw_ocpp;

struct demo_rig {
	struct gw_clock clock;
	struct gw_loop *loop;
	struct gw_bus *bus;
	struct twc_sim *sim;
	struct gw_port *sim_port;
	lws_sorted_usec_list_t sul_sim;
	uint64_t start_ms;   /* gateway ms at open; scenario times count from here */
	bool finished;       /* the end or a stop signal: no more simulator ticks */
	struct gw_control *control; /* the page's controls (in memory: the demo keeps nothing) */
	struct gw_web *web;  /* the status page, when asked for */
	bool lingering;      /* the script ended, the page stays up until Ctrl-C (a person is watching) */
	int verdict;         /* the exit code once the lingering ends */
	bool interrupted;    /* SIGINT/SIGTERM */
};

/* The config all scenarios start from: no dataDir, no status lines, 230 V, 1 phase, min 6 A,
 * charge-now; @available A for the bus, @per_twc A per TWC. */
void demo_rig_config(struct gw_config *cfg, int available, int per_twc);

/* A simulator config of @slaves protocol 2, fw 4.5.3, 32 A slaves with the IDs @ids, 230 V, 1 phase. */
void demo_rig_sim_config(struct twc_sim_config *sc, int slaves, const uint16_t *ids);

/**
 * demo_rig_open() - the loop, the socketpair, the simulator (@sc) and a bus (@cfg) on them.
 * @r: zeroed by the caller.
 * Return: 0, or -1 (logged); either way demo_rig_close() and demo_rig_free() follow.
 */
int demo_rig_open(struct demo_rig *r, double speed, const struct twc_sim_config *sc, const struct gw_config *cfg);

/* Let bytes flow and the simulator tick, once the scenario has built its objects. */
void demo_rig_start(struct demo_rig *r);

/* Run the loop. Return: the code given to gw_loop_stop(), 1 if the loop failed, 130 if interrupted. */
int demo_rig_run(struct demo_rig *r);

/* Simulated gateway ms now, and since open. */
uint64_t demo_rig_now(const struct demo_rig *r);
uint64_t demo_rig_elapsed(const struct demo_rig *r);

/* Re-arm the simulator's timer after a scripted plug, unplug or fault changed its deadlines. */
void demo_rig_sim_rearm(struct demo_rig *r);

/* Schedule @cb on @sul after @sim_delay_ms of gateway time. */
void demo_rig_schedule(struct demo_rig *r, lws_sorted_usec_list_t *sul, sul_cb_t cb, uint64_t sim_delay_ms);

/**
 * demo_rig_web() - serve the status page on @addr ("127.0.0.1:8080"; NULL: none) for the scenario's
 * @cfg (borrowed, outlives the rig; the controls change it), @policy and @ocpp (either may be NULL), and
 * print its URL. The default address busy, a free port is taken instead.
 * Return: 0, or -1 (logged).
 */
int demo_rig_web(struct demo_rig *r, struct gw_config *cfg, const char *addr, bool addr_given,
		 struct gw_policy *policy, struct gw_ocpp *ocpp);

/* Whether the operator changed the policy from the page (the scenario's own checks then no longer
 * apply). */
bool demo_rig_policy_changed(const struct demo_rig *r);

/*
 * demo_rig_end() - the scenario's script is over with exit code @verdict. With a status page and a
 * terminal on stdout, the loop goes on (the simulated cars stay, the page stays up) until Ctrl-C, so
 * the person who opened the page can look at the day; otherwise the loop stops now.
 */
void demo_rig_end(struct demo_rig *r, int verdict);

/* Stop the simulator's timer, the bus and the port, then destroy the lws context. */
void demo_rig_close(struct demo_rig *r);
/* Free the bus, the port and the simulator. */
void demo_rig_free(struct demo_rig *r);

/* The solar-day scenario (gw_demo_solar.c); same return as gw_demo_run(). */
int demo_solar_run(double speed, const char *http, bool http_given);

#endif
