/*
 * gw_ws: the OCPP-J websocket client on the gateway's one lws loop. It connects to
 * <url>/<chargeBoxId> offering the subprotocol "ocpp1.6", adds HTTP Basic auth for security
 * profiles 1 and 2 (2 only over wss://, with the server certificate and host name checked, TLS 1.2
 * or later), presents a client certificate instead for profile 3 (wss:// only, no Basic auth),
 * says why each failed attempt failed (enum gw_ws_fail), and reconnects for ever with exponential
 * backoff and jitter (1 s doubling to 60 s,
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
#define GW_WS_PATH_MAX 256 /* the CA, certificate and key files */
#define GW_WS_PROTOCOL "ocpp1.6"   /* the lws protocol name is the subprotocol we offer */
#define GW_WS_MSG_MAX 65000        /* longest message either way */
#define GW_WS_TX_FRAMES 64         /* outbound FIFO bound, frames ... */
#define GW_WS_TX_BYTES (256 * 1024) /* ... and bytes */

struct gw_loop;
struct gw_ws;

struct gw_ws_config {
	const char *url;               /* ws://host[:port][/path] or wss://... (copied) */
	const char *charge_box_id;     /* appended as the last path segment, percent-encoded (copied) */
	int security_profile;          /* 0 none, 1 Basic auth, 2 Basic auth over wss:// only, 3 client
					* certificate over wss:// only (no Basic auth) */
	const char *authorization_key; /* secret, profiles 1 and 2 (copied; never logged) */
	const char *ca_file;           /* wss://: the one CA trusted; NULL or "" = system store (copied) */
	const char *cert_file;         /* profile 3: our PEM certificate chain (path copied; ignored below 3) */
	const char *key_file;          /* profile 3: its unencrypted PEM key (path copied; ignored below 3) */
	int ping_interval_s;           /* ws PING period, 0 = none */
};

/* Why a connection attempt failed: what the central system, the network or TLS said. */
enum gw_ws_fail {
	GW_WS_FAIL_CONNECT,     /* no TCP connection: the name did not resolve, refused, unreachable */
	GW_WS_FAIL_SERVER_CERT, /* the server's certificate: untrusted, expired, not yet valid, another host */
	GW_WS_FAIL_TLS_VERSION, /* the server offers only TLS below 1.2 */
	GW_WS_FAIL_TLS,         /* another TLS failure, e.g. the server refused our client certificate */
	GW_WS_FAIL_AUTH,        /* HTTP 401 or 403 on the upgrade (Basic auth or the certificate refused) */
	GW_WS_FAIL_HTTP,        /* another refusal of the websocket upgrade */
	GW_WS_FAIL_TIMEOUT,     /* no answer in time: lws's own wait for TLS, or GW_WS_ATTEMPT_TIMEOUT_S */
};

/* One attempt (one address) may take this long from TCP connect to an open websocket. */
#define GW_WS_ATTEMPT_TIMEOUT_S 15

/* A short English name of @why for logs ("server certificate", "TLS version", ...). */
const char *gw_ws_fail_name(enum gw_ws_fail why);

struct gw_ws_handlers {
	void *user;
	/* The websocket is open (subprotocol agreed); gw_ws_send() works now. */
	void (*on_open)(void *user);
	/* An open websocket closed (not called for failed attempts, nor after gw_ws_stop()). */
	void (*on_close)(void *user);
	/* One complete text message (borrowed for the call; NUL-terminated at @len). */
	void (*on_text)(void *user, const char *text, size_t len);
	/* An attempt failed (every address of the host tried; the most telling reason of them), the
	 * next one is scheduled. Once per attempt; not for a link that had opened (on_close), not for an
	 * attempt cut short by gw_ws_reconfigure(), never after gw_ws_stop(). @detail is for logs
	 * (OpenSSL's or lws's words, the HTTP status). Optional. */
	void (*on_fail)(void *user, enum gw_ws_fail why, const char *detail);
};

/**
 * gw_ws_check_config() - whether @cfg can work: the URL parses, the profile is 0..3, profiles 2 and 3
 * have wss://, profiles 1 and 2 a key, profile 3 a certificate and key file, paths fit
 * GW_WS_PATH_MAX. The files themselves are read by gw_ws_new() / gw_ws_reconfigure().
 * Return: 0, or -EINVAL with the reason in @why (never the key).
 */
int gw_ws_check_config(const struct gw_ws_config *cfg, char *why, size_t whylen);

/**
 * gw_ws_new() - a client for @cfg; the first attempt runs at the next loop turn.
 * @loop: the gateway loop (borrowed; outlives the client's use of it).
 * @cfg, @h: copied.
 * Return: the client, or NULL (bad config, a CA, certificate or key file that does not load, a key
 * that is not the certificate's, no memory; logged).
 */
struct gw_ws *gw_ws_new(struct gw_loop *loop, const struct gw_ws_config *cfg, const struct gw_ws_handlers *h);

/**
 * gw_ws_send() - queue one text frame (copied).
 * Return: 0, -ENOTCONN while the websocket is not open, -ENOBUFS if the FIFO is full, -EMSGSIZE
 * above GW_WS_MSG_MAX. Frames still queued when the link drops are discarded.
 */
int gw_ws_send(struct gw_ws *ws, const char *text, size_t len);

bool gw_ws_is_open(const struct gw_ws *ws);
/* Attempts failed in a row since the websocket last opened or gw_ws_reconfigure() (0 while open). */
int gw_ws_attempts_failed(const struct gw_ws *ws);
/* Frames queued and not yet written. */
size_t gw_ws_pending(const struct gw_ws *ws);

/* New WebSocketPingInterval (seconds, 0 = off), effective at once on an open link. */
void gw_ws_set_ping_interval(struct gw_ws *ws, int seconds);

/**
 * gw_ws_reconfigure() - change the security profile, key, CA, client certificate and key: what is
 * queued is written, the link is closed and reopened with the new settings. Over wss:// the files
 * are read again into a new TLS vhost (even under the same names: a certificate may be rewritten in
 * place); the old vhost is destroyed once lws has let go of its last connection. The URL must stay
 * the same. The count of failed attempts starts again from 0.
 * Return: 0; -EINVAL (nothing changed) for a config gw_ws_check_config() refuses or another URL;
 * -EIO (nothing changed) if the files do not load (logged).
 */
int gw_ws_reconfigure(struct gw_ws *ws, const struct gw_ws_config *cfg);

/* Cancel timers and stop reconnecting; no handler is called after this. An open websocket is
 * closed with 1001 (going away): lws writes the close frame when the socket is next writable and
 * ends the connection itself (at most 5 s for the answer), nothing waits here; frames still queued
 * are dropped. A connection still being made is left for gw_ws_free() or lws_context_destroy().
 * Call it before the context is destroyed (it hands the TLS vhosts back to lws), and not from inside
 * this link's own handlers (the close starts at once); calling it again is a no-op. */
void gw_ws_stop(struct gw_ws *ws);

/* Stop and free; before or after the lws context is destroyed. NULL is a no-op. */
void gw_ws_free(struct gw_ws *ws);

#endif
