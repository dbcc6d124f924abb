/*
 * gw_httpd: the gateway's HTTP/1.1 server, on the one lws loop (no thread, no second loop). It listens
 * on one or more "address:port" pairs, optionally with TLS, reads each request (headers and a bounded
 * body), hands it to one handler and sends what the handler answers, with the security headers every
 * response carries. It refuses what is too big (413) or too frequent from one peer (429) before the
 * handler sees it, and it keeps server-sent-event streams open for live pages (gw_httpd_push). What a
 * request means (routes, auth, JSON) is not its business: that is gateway/web.
 */
#ifndef GW_HTTPD_H
#define GW_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_loop;
struct gw_httpd;

#define GW_HTTPD_LISTEN_MAX 4
#define GW_HTTPD_HEADERS_MAX 512 /* extra response header lines a handler may add */

struct gw_httpd_config {
	/* "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8080", "[::]:8080"; port 0 picks a free port
	 * (gw_httpd_port() tells which). Checked by the config loader; at least one. */
	const char *listen[GW_HTTPD_LISTEN_MAX];
	int n_listen;
	const char *cert_file; /* both or neither: HTTPS on every listener (TLS 1.2 or later) */
	const char *key_file;
	size_t body_max;       /* a larger request body is answered 413 unread; 0 = 8192 */
	int rate_per_s;        /* requests per second per peer address, sustained; 0 = 20 */
	int rate_burst;        /* ... and in a burst; 0 = 40. Past it: 429 with Retry-After */
	int streams_max;       /* open event streams at once; 0 = 16. Past it: 503 */
};

/* One request, borrowed for the handler call. Header strings are "" when absent. */
struct gw_httpd_req {
	const char *method;        /* "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS" */
	const char *path;          /* as sent, without the query: not percent-decoded */
	const char *query;         /* after '?', "" if none; not decoded */
	const char *peer;          /* the peer's address, for logs and rate limits */
	bool listener_loopback;    /* the request came in on a loopback listener */
	bool tls;                  /* ... on an HTTPS listener */
	const char *host;          /* Host */
	const char *origin;        /* Origin */
	const char *authorization; /* Authorization */
	const char *cookie;        /* Cookie */
	const char *content_type;  /* Content-Type */
	const char *csrf;          /* X-CSRF-Token */
	const char *body;          /* NUL-terminated; body_len bytes (may contain NULs) */
	size_t body_len;
};

/* What the handler answers. Zeroed before the call; status 0 means 500. */
struct gw_httpd_resp {
	int status;
	const char *content_type;   /* default "application/json" */
	const void *body;           /* borrowed; must outlive the send (static assets) */
	size_t len;
	char *owned;                /* or malloc'ed, taken and freed by the server (len bytes) */
	char headers[GW_HTTPD_HEADERS_MAX]; /* extra lines, each "Name: value\r\n" */
	bool stream;                /* status 200: keep it open as a text/event-stream that gets every
				     * gw_httpd_push(); body, if any, is sent first */
};

struct gw_httpd_handlers {
	void *user;
	void (*on_request)(void *user, const struct gw_httpd_req *req, struct gw_httpd_resp *resp);
};

struct gw_httpd_stats {
	uint64_t requests;      /* handed to the handler */
	uint64_t too_large;     /* 413 */
	uint64_t rate_limited;  /* 429 */
	uint64_t bytes_out;     /* response bytes, headers included */
	int streams;            /* open event streams now */
};

/**
 * gw_httpd_new() - listen on every address in @cfg (copied).
 * Return: the server, or NULL with @err saying which address failed and why (in use, no such address,
 * unreadable certificate).
 */
struct gw_httpd *gw_httpd_new(struct gw_loop *loop, const struct gw_httpd_config *cfg,
			      const struct gw_httpd_handlers *h, char *err, size_t errlen);

/* The port listener @i (in config order) is bound to; -1 if none. */
int gw_httpd_port(const struct gw_httpd *s, int i);

/* Send one server-sent event ("event: @event\ndata: @data\n\n", @data one line of JSON) to every open
 * stream; a stream that cannot keep up (more than 256 KiB queued) is closed. */
void gw_httpd_push(struct gw_httpd *s, const char *event, const char *data, size_t len);

void gw_httpd_stats(const struct gw_httpd *s, struct gw_httpd_stats *out);

/* Stop listening and close the streams: before lws_context_destroy(). NULL is a no-op. */
void gw_httpd_stop(struct gw_httpd *s);
void gw_httpd_free(struct gw_httpd *s); /* NULL is a no-op */

#endif
