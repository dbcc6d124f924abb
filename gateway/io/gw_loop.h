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

struct lws;
struct lws_context;
struct lws_protocols;
struct lws_vhost;
struct gw_loop;

/* A transport's lws protocol, registered from the transport's own file before any loop exists (a
 * constructor), so the loop need not know its transports. Up to GW_LOOP_PROTOCOLS_MAX. Protocol 0 of
 * every vhost is the loop's own: lws 4.1.6 sends LWS_CALLBACK_WSI_DESTROY to protocol 0 only, and the
 * loop passes it on to the wsi's protocol (with the wsi's user data), so every transport sees the end
 * of its wsi. */
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

/* The TLS client settings of one vhost (paths borrowed for the call; the files are read at once). */
struct gw_loop_tls {
	const char *ca_file;   /* the only CA trusted for server certificates; NULL or "" = the system store */
	const char *cert_file; /* our PEM certificate chain (security profile 3), NULL or "" = none */
	const char *key_file;  /* its PEM private key, unencrypted; with cert_file */
};

/**
 * gw_loop_tls_vhost_new() - a vhost for TLS client connections (wss://), with the same protocols.
 * @name: a prefix; the vhost is named "<name>-<n>", unique in the loop.
 * @tls:  CA, client certificate and key. lws 4.1.6 binds them to the vhost at creation, so other
 *        ones (or new contents in the same files) mean another vhost.
 * TLS 1.2 or later, the OCPP security whitepaper's TLS 1.2 suites (ECDHE-ECDSA / ECDHE-RSA / RSA with
 * AES-GCM) and OpenSSL's TLS 1.3 defaults, no compression, no renegotiation; lws checks the host name.
 * Return: the vhost (borrowed), or NULL with the reason logged (a file that does not load, a key that
 * is not the certificate's). The vhost lives until gw_loop_tls_vhost_free() or the loop's end.
 */
struct lws_vhost *gw_loop_tls_vhost_new(struct gw_loop *loop, const char *name, const struct gw_loop_tls *tls);

/**
 * gw_loop_tls_vhost_free() - destroy a vhost from gw_loop_tls_vhost_new(). Call it from a timer, not
 * from a callback of a wsi on @vh, and once no wsi uses @vh: lws 4.1.6 then frees it at once. While a
 * wsi is still bound, 4.1.6 never finishes a vhost's destruction before the context's (it does not
 * mark the vhost as being destroyed), so the memory stays until gw_loop_free(): safe, not freed.
 * NULL is a no-op.
 */
void gw_loop_tls_vhost_free(struct lws_vhost *vh);

/* Why a TLS client connection failed, read from its wsi in CLIENT_CONNECTION_ERROR (lws 4.1.6 hands
 * the callback only a string, and clears OpenSSL's error queue before that). */
struct gw_loop_tls_diag {
	bool tls;       /* the wsi had a TLS session (the TCP connection was made) */
	bool done;      /* the handshake completed (on our side: TLS 1.3 servers check our certificate after) */
	int version;    /* the TLS version offered or agreed (TLS1_2_VERSION, TLS1_3_VERSION, ...) */
	bool cert_sent; /* the server asked for our certificate and we sent our Certificate message */
	long verify;    /* X509_V_OK, or why the server's certificate was refused (X509_V_ERR_*) */
	int alert_sent; /* the first TLS alert we sent, -1 for none (a TLS AlertDescription) */
	int alert_rcvd; /* the first TLS alert the server sent, -1 for none */
};
void gw_loop_tls_diag(struct lws *wsi, struct gw_loop_tls_diag *d);

/*
 * Destroy the context: lws closes every descriptor it adopted and delivers their close callbacks,
 * so objects owning an adoption must still exist (with their timers cancelled) when this runs.
 * NULL is a no-op. The stop signals stay blocked: a late SIGTERM must not cut a shutdown short.
 */
void gw_loop_free(struct gw_loop *loop);

#endif
