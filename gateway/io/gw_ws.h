/*
 * gw_ws: the OCPP-J websocket client on the gateway's one lws loop. It connects to
 * <url>/<chargeBoxId> offering the subprotocol "ocpp1.6", adds HTTP Basic auth for security
 * profiles 1 and 2 (2 only over wss://, with the server certificate and host name checked, TLS 1.2
 * or later), and reconnects for ever with exponential backoff and jitter (1 s doubling to 60 s,
 * +-25 %; back to 1 s once a connection has lasted 30 s). Names are resolved without blocking the
 * loop (gw_dns); lws then connects to the numeric address while Host, SNI and the certificate check
 * use the name. A ws PING goes out every WebSocketPingInterval seconds and a PONG missing for
 * max(10 s, interval) closes the link. Outbound text frames wait in a bounded FIFO and go out one
 * per writable callback; inbound messages are reassembled up to GW_WS_MSG_MAX bytes (a larger one
 * is dropped and logged, the link is kept). The authorization key is never logged.
 *
 * Call only from the loop's thread. Handlers run from the loop and may call gw_ws_send().
 */
#ifndef GW_WS_H
#define GW_WS_H

#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>

/* Lengths the link accepts (the config checks the same limits with the key names). */
#define GW_WS_CBID_MAX 48  /* a charge box ID */
#define GW_WS_KEY_MAX 40   /* an OCPP AuthorizationKey (16-40 characters) */
#define GW_WS_PATH_MAX 256 /* the CA file */
#define GW_WS_PROTOCOL "ocpp1.6"   /* the lws protocol name is the subprotocol we offer */
#define GW_WS_MSG_MAX 65000        /* longest message either way */
#define GW_WS_TX_FRAMES 64         /* outbound FIFO bound, frames ... */
#define GW_WS_TX_BYTES (256 * 1024) /* ... and bytes */

struct gw_loop;
struct gw_ws;

struct gw_ws_config {
	const char *url;               /* ws://host[:port][/path] or wss://... (copied) */
	const char *charge_box_id;     /* appended as the last path segment, percent-encoded (copied) */
	int security_profile;          /* 0 none, 1 Basic auth, 2 Basic auth over wss:// only */
	const char *authorization_key; /* secret, profiles 1 and 2 (copied; never logged) */
	const char *ca_file;           /* wss://: the one CA trusted; NULL or "" = system store (copied) */
	int ping_interval_s;           /* ws PING period, 0 = none */
};

struct gw_ws_handlers {
	void *user;
	/* The websocket is open (subprotocol agreed); gw_ws_send() works now. */
	void (*on_open)(void *user);
	/* An open websocket closed (not called for failed attempts, nor after gw_ws_stop()). */
	void (*on_close)(void *user);
	/* One complete text message (borrowed for the call; NUL-terminated at @len). */
	void (*on_text)(void *user, const char *text, size_t len);
};

/**
 * gw_ws_check_config() - whether @cfg can work: the URL parses, profile 2 has wss://, profiles 1
 * and 2 have a key. Return: 0, or -EINVAL with the reason in @why (never the key).
 */
int gw_ws_check_config(const struct gw_ws_config *cfg, char *why, size_t whylen);

/**
 * gw_ws_new() - a client for @cfg; the first attempt runs at the next loop turn.
 * @loop: the gateway loop (borrowed; outlives the client's use of it).
 * @cfg, @h: copied.
 * Return: the client, or NULL (bad config or no memory; logged).
 */
struct gw_ws *gw_ws_new(struct gw_loop *loop, const struct gw_ws_config *cfg, const struct gw_ws_handlers *h);

/**
 * gw_ws_send() - queue one text frame (copied).
 * Return: 0, -ENOTCONN while the websocket is not open, -ENOBUFS if the FIFO is full, -EMSGSIZE
 * above GW_WS_MSG_MAX. Frames still queued when the link drops are discarded.
 */
int gw_ws_send(struct gw_ws *ws, const char *text, size_t len);

bool gw_ws_is_open(const struct gw_ws *ws);
/* Frames queued and not yet written. */
size_t gw_ws_pending(const struct gw_ws *ws);

/* New WebSocketPingInterval (seconds, 0 = off), effective at once on an open link. */
void gw_ws_set_ping_interval(struct gw_ws *ws, int seconds);

/**
 * gw_ws_reconfigure() - change the security profile and key: what is queued is written, the link is
 * closed and reopened with the new settings. The URL and CA must stay the same.
 * Return: 0, or -EINVAL (nothing changed) for a config gw_ws_check_config() refuses or another URL
 * or CA.
 */
int gw_ws_reconfigure(struct gw_ws *ws, const struct gw_ws_config *cfg);

/* Cancel timers and stop reconnecting; no handler is called after this. An open websocket is left
 * for lws_context_destroy() (or gw_ws_free()) to close. */
void gw_ws_stop(struct gw_ws *ws);

/* Stop and free; before or after the lws context is destroyed. NULL is a no-op. */
void gw_ws_free(struct gw_ws *ws);

#endif
