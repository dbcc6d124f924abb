/*
 * gw_loop: the gateway's one event loop. It owns the libwebsockets context and its vhosts, whose one
 * protocols table lists every kind of I/O the gateway does ("twc-port" for bus transports and
 * Modbus TCP, "signals" for the signalfd, "ocpp1.6" for the OCPP websocket client, "curl-sock" for
 * libcurl's sockets, "mqtt-sock" for libmosquitto's), and it turns SIGTERM/SIGINT/SIGHUP into calls
 * on the loop rather than in signal handlers. Everything else registers file descriptors and lws_sul
 * timers on this loop; nothing in the gateway calls poll() or starts a thread.
 */
#ifndef GW_LOOP_H
#define GW_LOOP_H

#include <stdbool.h>

struct lws_context;
struct lws_protocols;
struct lws_vhost;
struct gw_loop;

/* A transport's lws protocol, registered from the transport's own file before any loop exists (a
 * constructor), so the loop need not know its transports. Up to GW_LOOP_PROTOCOLS_MAX. */
#define GW_LOOP_PROTOCOLS_MAX 8
void gw_loop_register_protocol(const struct lws_protocols *p);

/* gw_loop_stop() code asking main() to re-execute the program (OCPP Reset); never an exit status. */
#define GW_LOOP_RESTART 256

struct gw_loop_handlers {
	void *user;
	/* SIGTERM or SIGINT arrived; the loop stops once the handler returns. Optional. */
	void (*on_stop)(void *user, int signo);
	/* SIGHUP arrived. Optional. */
	void (*on_reload)(void *user);
};

/**
 * gw_loop_new() - create the lws context and vhost and start listening for signals.
 * @h: handlers (copied).
 * Blocks SIGTERM, SIGINT and SIGHUP for the process (they arrive through the signalfd from now on)
 * and ignores SIGPIPE. Return: the loop, or NULL (logged).
 */
struct gw_loop *gw_loop_new(const struct gw_loop_handlers *h);

/* Run lws_service() until gw_loop_stop() or a stop signal. Return: the code given to
 * gw_loop_stop() (0 after a signal), or -EIO if the service loop failed. */
int gw_loop_run(struct gw_loop *loop);

/* Ask the loop to return from gw_loop_run() with @code; callable from any callback on the loop. */
void gw_loop_stop(struct gw_loop *loop, int code);
bool gw_loop_stopping(const struct gw_loop *loop);

/* Borrowed; valid until gw_loop_free(). */
struct lws_context *gw_loop_context(const struct gw_loop *loop);
struct lws_vhost *gw_loop_vhost(const struct gw_loop *loop);

/**
 * gw_loop_tls_vhost_new() - a vhost for TLS client connections (wss://), with the same protocols.
 * @name:    vhost name (copied by lws).
 * @ca_file: the only CA trusted for server certificates, or NULL for the system store.
 * lws 4.1.6 binds the CA to the vhost at creation, so another CA means another vhost. TLS below 1.2
 * is refused. The vhost lives as long as the context.
 * Return: the vhost (borrowed; valid until the loop is freed), or NULL (logged).
 */
struct lws_vhost *gw_loop_tls_vhost_new(struct gw_loop *loop, const char *name, const char *ca_file);

/*
 * Destroy the context: lws closes every descriptor it adopted and delivers their close callbacks,
 * so objects owning an adoption must still exist (with their timers cancelled) when this runs.
 * NULL is a no-op. The stop signals stay blocked: a late SIGTERM must not cut a shutdown short.
 */
void gw_loop_free(struct gw_loop *loop);

#endif
