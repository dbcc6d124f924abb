/*
 * gw_ocpp: the OCPP 1.6J charge point in the gateway. It binds the pure ocpp_cp core to the
 * websocket (gw_ws), the TWC bus (gw_bus: each slave is a connector, OCPP limits become caps), the
 * durable journal and state files in dataDir (gw_journal, gw_store) and the clocks. At start it reads
 * the state files back, replays the journal into the core and starts it; from then on websocket
 * events and text go to the core, each TWC's state is pushed when it changes (bus events and changes,
 * before each tick of the core, and a second later while its readings move), one
 * lws_sul calls ocpp_cp_tick() at the core's deadline, and the core's effects come back as frames,
 * journal records, files, caps, a restart (Reset) or new link settings. With log.statusInterval it
 * logs a line per connector right after the bus's status block.
 *
 * Call only from the loop's thread.
 */
#ifndef GW_OCPP_H
#define GW_OCPP_H

#include <stdbool.h>

#include "gw_bus.h"
#include "gw_clock.h"
#include "gw_config.h"
#include "gw_loop.h"
#include "ocpp_cp.h"

struct gw_ocpp;

/**
 * gw_ocpp_new() - the charge point for @cfg->ocpp, connecting at the next loop turn.
 * @loop, @clock, @bus: borrowed; they outlive the charge point (the bus's observer is taken).
 * @cfg: copied as needed. An empty dataDir keeps nothing on disk (the demo only).
 * A Reset from the central system stops the loop with GW_LOOP_RESTART.
 * Return: the charge point, or NULL (logged): bad settings, or the journal cannot be opened.
 */
struct gw_ocpp *gw_ocpp_new(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg,
			    struct gw_bus *bus);

/* One line for the link and one per connector (also after each bus status block). */
void gw_ocpp_log_status(struct gw_ocpp *o);

/* The websocket is open and the BootNotification was accepted. */
bool gw_ocpp_online(const struct gw_ocpp *o);
/* @cb (NULL: nobody) hears each time gw_ocpp_online() changes, with @user. It is called from inside
 * the charge point's own calls, so it should only schedule work. One watcher (the policy); none
 * after gw_ocpp_stop(). */
void gw_ocpp_watch_online(struct gw_ocpp *o, void (*cb)(void *user), void *user);
/* The core, for read-only queries (the demo's table). Borrowed. */
const struct ocpp_cp *gw_ocpp_core(const struct gw_ocpp *o);
/* The connector of TWC @twc_id, or -1 if it has none yet. */
int gw_ocpp_connector_of(const struct gw_ocpp *o, uint16_t twc_id);

/* Cancel timers, leave the bus alone and stop reconnecting, before lws_context_destroy(). An open
 * link is closed with 1001 (going away), without waiting (gw_ws_stop()). */
void gw_ocpp_stop(struct gw_ocpp *o);
/* NULL is a no-op. */
void gw_ocpp_free(struct gw_ocpp *o);

#endif
