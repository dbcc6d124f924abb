/*
 * gw_web: the status page, REST API and /metrics on the running gateway. It owns the HTTP server,
 * the auth state, the API router and the history ring; once a second (real time) it takes a status
 * snapshot from the bus, the charge point, the policy, the vehicle API and the process, feeds the
 * history, and pushes the status to open pages when it changed (and at least every 5 s). Controls go
 * through gw_control, so the page, REST and MQTT change the same settings the same way.
 */
#ifndef GW_WEB_H
#define GW_WEB_H

#include "gw_clock.h"
#include "gw_config.h"

struct gw_loop;
struct gw_bus;
struct gw_ocpp;
struct gw_policy;
struct gw_control;
struct gw_tesla;
struct gw_web;

struct gw_web_parts {
	struct gw_bus *bus;
	struct gw_ocpp *ocpp;       /* NULL standalone */
	struct gw_policy *policy;
	struct gw_control *control;
	struct gw_tesla *tesla;     /* NULL without a vehicle API */
};

/* @cfg->http must be enabled; @cfg and @clock are borrowed and outlive the web. NULL on error (logged,
 * e.g. the address is in use). */
struct gw_web *gw_web_new(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg,
			  const struct gw_web_parts *parts);

/* Several charge points (chargePoints): @parts[0..@n-1] (copied; the objects borrowed) and their
 * configs @cfgs (borrowed), in config order; the status shows them all and the controls act on the
 * first. Sessions follow their bus. */
void gw_web_set_parts(struct gw_web *w, const struct gw_web_parts *parts, const struct gw_config *const *cfgs, int n);

/* The bound port of listener @i (config order), -1 if none: for "127.0.0.1:0". */
int gw_web_port(const struct gw_web *w, int i);

/* Timers off, listeners and streams closed: before lws_context_destroy(). NULL is a no-op. */
void gw_web_stop(struct gw_web *w);
void gw_web_free(struct gw_web *w); /* NULL is a no-op */

#endif
