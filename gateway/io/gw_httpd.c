/*
 * gw_httpd: the HTTP/1.1 server on the gateway's lws loop. We open, bind and listen on the sockets
 * ourselves and adopt them as raw files; each accepted connection is adopted as an lws raw socket
 * (TLS done by lws on the server's vhost), and this file reads requests (the head through the pure
 * parser in gw_httpd_parse.c, which a fuzzer drives) and writes responses. Why
 * not lws's own HTTP role: in 4.1.6 it percent-decodes and normalises the URI and splits the query
 * into decoded fragments (the raw query cannot be recovered), it answers some errors itself without
 * our security headers, and lws_vhost_destroy() never stops a vhost's listener (being_destroyed is
 * never set), while info.iface with an IPv4 literal on an IPv6 socket writes the address into the
 * wrong place. Owning the parser keeps the request exactly as sent, every byte of every response ours,
 * and a stop that really stops.
 */
#include "gw_httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "gw_clock.h"
#include "gw_httpd_parse.h"
#include "gw_log.h"
#include "gw_loop.h"
#include "gw_timer.h"
#include "gw_url.h"

#define PROTO_NAME "twcgw-httpd"
#define HEAD_IN_MAX 8192         /* request line and headers */
#define HEADERS_IN_MAX 100       /* header lines in one request */
#define RX_SLACK 8192            /* room for a pipelined request behind the one being answered */
#define IN_INITIAL 4096
#define TX_CHUNK 16384           /* one lws_write per WRITEABLE, at most this */
#define HEAD_OUT_MAX (1024 + GW_HTTPD_HEADERS_MAX)
#define STREAM_QUEUE_MAX (256u * 1024u)
#define KEEPALIVE_MS 25000u
#define READ_TIMEOUT_S 30        /* a whole request, from its first byte (or idle keep-alive) */
#define WRITE_TIMEOUT_S 60       /* without progress while answering */
#define LINGER_S 2
#define CONNS_MAX 256
#define RATE_PEERS 64
#define PEER_MAX INET6_ADDRSTRLEN

static const char csp[] = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
			  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

enum conn_state {
	C_READ,    /* reading a request */
	C_WRITE,   /* answering; keep-alive or close after */
	C_STREAM,  /* an event stream: the head is out, events follow */
	C_CLOSING, /* the last bytes are queued; close at the next WRITEABLE */
	C_LINGER,  /* answered and half-closed; read and drop what the peer still sends */
};

struct chunk {
	struct chunk *next;
	size_t len, off;
	char data[];
};

struct listener {
	struct gw_httpd *srv;
	struct lws *wsi;
	char addr[64];
	int port;
	bool loopback;
};

struct conn {
	struct gw_httpd *srv;    /* NULL once detached by gw_httpd_stop() */
	struct conn *next, *prev; /* every open connection */
	struct conn *snext, *sprev; /* open event streams */
	struct lws *wsi;
	struct listener *l;
	char peer[PEER_MAX];
	enum conn_state state;

	char *in;
	size_t in_len, in_cap;
	bool rx_off;

	/* the request being read (parsed in place in @in) */
	bool parsed;
	size_t head_len, clen;
	bool keep_alive, expect_continue, want_continue, is_head;
	struct gw_httpd_req req;

	/* the response being written */
	char head[HEAD_OUT_MAX];
	size_t head_len_out, head_off;
	const char *body;
	size_t body_len, body_off;
	char *owned;
	bool close_after, stream_after;
	unsigned char *tx;

	/* event stream queue */
	struct chunk *q_head, *q_tail;
	size_t q_bytes;
	bool dead;
};

struct rate_peer {
	char peer[PEER_MAX];
	uint64_t milli;  /* tokens * 1000 */
	uint64_t last_ms;
};

struct gw_httpd {
	struct gw_loop *loop;
	struct gw_httpd_handlers h;
	size_t body_max;
	int rate_per_s, rate_burst, streams_max;
	bool tls, stopped;
	struct lws_vhost *vh;
	struct listener l[GW_HTTPD_LISTEN_MAX];
	int n_listen;
	struct conn *conns, *streams;
	int n_conns;
	struct gw_httpd_stats st;
	struct rate_peer rate[RATE_PEERS];
	int n_rate;
	lws_sorted_usec_list_t sul_keepalive;
	struct lws *cb_wsi; /* the connection whose callback is running */
};

static int httpd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

static const struct lws_protocols protocols[] = {
	{ PROTO_NAME, httpd_callback, sizeof(struct conn), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* ---- small helpers ---- */

static const char *reason_phrase(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

/* Each line "Name: value\r\n", no bare CR or LF, no empty line: anything else would let a handler
 * end the head early or smuggle a header. */
static bool extra_headers_ok(const char *h)
{
	const char *p = h;

	while (*p) {
		const char *colon = NULL;
		const char *s = p;

		for (; *p && *p != '\r' && *p != '\n'; p++)
			if (*p == ':' && !colon)
				colon = p;
		if (!colon || colon == s || p[0] != '\r' || p[1] != '\n')
			return false;
		p += 2;
	}
	return true;
}

/* ---- rate limit: a token bucket per peer address ---- */

/* Return 0 when the request may go ahead, else the seconds to wait. */
static long rate_take(struct gw_httpd *s, const char *peer)
{
	uint64_t now = gw_clock_mono_ms();
	uint64_t cap = (uint64_t)s->rate_burst * 1000u;
	struct rate_peer *p = NULL;

	for (int i = 0; i < s->n_rate; i++)
		if (strcmp(s->rate[i].peer, peer) == 0)
			p = &s->rate[i];
	if (!p) {
		if (s->n_rate < RATE_PEERS) {
			p = &s->rate[s->n_rate++];
		} else {
			/* The table is full: the peer seen longest ago makes room. */
			p = &s->rate[0];
			for (int i = 1; i < RATE_PEERS; i++)
				if (s->rate[i].last_ms < p->last_ms)
					p = &s->rate[i];
		}
		snprintf(p->peer, sizeof(p->peer), "%s", peer);
		p->milli = cap;
		p->last_ms = now;
	}
	p->milli += (now - p->last_ms) * (uint64_t)s->rate_per_s; /* rate_per_s tokens/s = milli-tokens/ms */
	if (p->milli > cap)
		p->milli = cap;
	p->last_ms = now;
	if (p->milli >= 1000u) {
		p->milli -= 1000u;
		return 0;
	}
	uint64_t wait_ms = (1000u - p->milli + (uint64_t)s->rate_per_s - 1) / (uint64_t)s->rate_per_s;
	long secs = (long)((wait_ms + 999u) / 1000u);

	return secs > 0 ? secs : 1;
}

/* ---- connection bookkeeping ---- */

static void stream_unlink(struct gw_httpd *s, struct conn *c)
{
	if (c->sprev)
		c->sprev->snext = c->snext;
	else if (s->streams == c)
		s->streams = c->snext;
	else
		return;
	if (c->snext)
		c->snext->sprev = c->sprev;
	c->snext = c->sprev = NULL;
	s->st.streams--;
}

static void conn_unlink(struct gw_httpd *s, struct conn *c)
{
	stream_unlink(s, c);
	if (c->prev)
		c->prev->next = c->next;
	else if (s->conns == c)
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	s->n_conns--;
}

static void queue_free(struct conn *c)
{
	while (c->q_head) {
		struct chunk *k = c->q_head;

		c->q_head = k->next;
		free(k);
	}
	c->q_tail = NULL;
	c->q_bytes = 0;
}

static void conn_release(struct conn *c)
{
	queue_free(c);
	free(c->owned);
	c->owned = NULL;
	free(c->in);
	c->in = NULL;
	free(c->tx);
	c->tx = NULL;
}

/* Have lws close @c: now, unless we are inside its own callback. */
static void conn_kill(struct gw_httpd *s, struct conn *c)
{
	c->dead = true;
	if (s && s->cb_wsi == c->wsi)
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	else
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

static void rx_enable(struct conn *c, bool on)
{
	if (c->rx_off == !on)
		return;
	c->rx_off = !on;
	lws_rx_flow_control(c->wsi, on ? 1 : 0);
}

/* ---- responses ---- */

/* Lay out the head of a response in c->head. @clen < 0: no Content-Length (a stream). */
static int head_build(struct conn *c, int status, const char *ctype, long long clen, const char *extra)
{
	struct gw_httpd *s = c->srv;
	int n;

	n = snprintf(c->head, sizeof(c->head),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Security-Policy: %s\r\n"
		     "X-Content-Type-Options: nosniff\r\n"
		     "X-Frame-Options: DENY\r\n"
		     "Referrer-Policy: no-referrer\r\n"
		     "%s"
		     "Content-Type: %s\r\n",
		     status, reason_phrase(status), csp,
		     s->tls ? "Strict-Transport-Security: max-age=31536000\r\n" : "", ctype);
	if (n < 0 || (size_t)n >= sizeof(c->head))
		return -1;
	size_t len = (size_t)n;

	if (clen >= 0 && status != 204 && status != 304)
		len += (size_t)snprintf(c->head + len, sizeof(c->head) - len, "Content-Length: %lld\r\n", clen);
	else if (clen < 0)
		len += (size_t)snprintf(c->head + len, sizeof(c->head) - len, "Cache-Control: no-store\r\n");
	if (len >= sizeof(c->head))
		return -1;
	if (c->close_after)
		n = snprintf(c->head + len, sizeof(c->head) - len, "Connection: close\r\n%s\r\n", extra);
	else
		n = snprintf(c->head + len, sizeof(c->head) - len, "%s\r\n", extra);
	if (n < 0 || (size_t)n >= sizeof(c->head) - len)
		return -1;
	c->head_len_out = len + (size_t)n;
	c->head_off = 0;
	return 0;
}

static void respond_start(struct conn *c)
{
	c->state = C_WRITE;
	rx_enable(c, false);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_CONTENT, WRITE_TIMEOUT_S);
	lws_callback_on_writable(c->wsi);
}

/* A response of our own (an error, 413, 429): JSON @body (copied), optional @extra header lines. */
static void respond_json(struct conn *c, int status, const char *body, const char *extra, bool close)
{
	size_t n = strlen(body);

	c->close_after = close || !c->keep_alive;
	free(c->owned);
	c->owned = malloc(n + 1);
	if (!c->owned) {
		conn_kill(c->srv, c);
		return;
	}
	memcpy(c->owned, body, n + 1);
	c->body = c->owned;
	c->body_len = c->is_head ? 0 : n;
	c->body_off = 0;
	c->stream_after = false;
	if (head_build(c, status, "application/json", (long long)n, extra ? extra : "") < 0) {
		conn_kill(c->srv, c);
		return;
	}
	respond_start(c);
}

/* ---- request parsing ---- */

/* @sp of c->in as a C string: the byte after a span is a delimiter of the head (' ', '?', '#', blank,
 * tab or CR), never part of another span, so it can become the NUL. */
static const char *span_str(struct conn *c, struct gw_httpd_span sp)
{
	if (!sp.len)
		return "";
	c->in[sp.off + sp.len] = '\0';
	return c->in + sp.off;
}

/* Take a head gw_httpd_head_parse() accepted (or refused 413) into the connection and c->req. */
static void req_fill(struct conn *c, const struct gw_httpd_head *h)
{
	memset(&c->req, 0, sizeof(c->req));
	c->req.method = h->method;
	c->req.path = span_str(c, h->path);
	c->req.query = span_str(c, h->query);
	c->req.host = span_str(c, h->host);
	c->req.origin = span_str(c, h->origin);
	c->req.authorization = span_str(c, h->authorization);
	c->req.cookie = span_str(c, h->cookie);
	c->req.content_type = span_str(c, h->content_type);
	c->req.csrf = span_str(c, h->csrf);
}

/* ---- dispatch ---- */

static void dispatch(struct conn *c)
{
	struct gw_httpd *s = c->srv;
	struct gw_httpd_resp resp;
	char *body = c->in + c->head_len;
	char saved = body[c->clen];
	char extra[64];
	long wait_s;

	c->req.body = body;
	c->req.body_len = c->clen;
	c->req.peer = c->peer;
	c->req.listener_loopback = c->l->loopback;
	c->req.tls = s->tls;

	wait_s = rate_take(s, c->peer);
	if (wait_s > 0) {
		s->st.rate_limited++;
		gw_log_debug("httpd: %s %s %s: rate limited", c->peer, c->req.method, c->req.path);
		snprintf(extra, sizeof(extra), "Retry-After: %ld\r\n", wait_s);
		respond_json(c, 429, "{\"error\":\"too many requests\"}", extra, false);
		return;
	}

	body[c->clen] = '\0'; /* the byte after the body may be the next pipelined request */
	memset(&resp, 0, sizeof(resp));
	s->st.requests++;
	s->h.on_request(s->h.user, &c->req, &resp);
	body[c->clen] = saved;
	if (!c->srv) {
		/* gw_httpd_stop() from the handler: this connection is closing. */
		free(resp.owned);
		return;
	}
	gw_log_debug("httpd: %s %s %s -> %d", c->peer, c->req.method, c->req.path, resp.status);

	const char *ctype = resp.content_type && resp.content_type[0] ? resp.content_type : "application/json";

	if (resp.status < 100 || resp.status > 599 || strpbrk(ctype, "\r\n") || !extra_headers_ok(resp.headers)) {
		if (resp.status)
			gw_log_error("httpd: %s %s: the handler's answer is malformed (status %d)", c->req.method,
				     c->req.path, resp.status);
		free(resp.owned);
		respond_json(c, 500, "{\"error\":\"internal error\"}", NULL, false);
		return;
	}
	bool stream = resp.stream && resp.status == 200 && !c->is_head;

	if (stream && s->st.streams >= s->streams_max) {
		free(resp.owned);
		respond_json(c, 503, "{\"error\":\"too many event streams\"}", "Retry-After: 5\r\n", false);
		return;
	}
	free(c->owned);
	c->owned = resp.owned;
	c->body = resp.owned ? resp.owned : resp.body;
	c->body_len = c->body ? resp.len : 0;
	c->body_off = 0;
	c->close_after = !c->keep_alive;
	c->stream_after = stream;
	if (head_build(c, resp.status, stream ? "text/event-stream" : ctype, stream ? -1 : (long long)c->body_len,
		       resp.headers) < 0) {
		respond_json(c, 500, "{\"error\":\"internal error\"}", NULL, false);
		return;
	}
	if (c->is_head || resp.status == 204 || resp.status == 304)
		c->body_len = 0;
	if (stream) {
		c->snext = s->streams;
		if (s->streams)
			s->streams->sprev = c;
		s->streams = c;
		s->st.streams++;
	}
	respond_start(c);
}

/* Work through what c->in holds: at most one request is answered at a time. */
static void conn_process(struct conn *c)
{
	struct gw_httpd *s = c->srv;

	if (c->state != C_READ)
		return;
	if (!c->parsed) {
		const struct gw_httpd_limits lim = { HEAD_IN_MAX, HEADERS_IN_MAX, s->body_max };
		struct gw_httpd_head h;

		if (gw_httpd_head_parse(c->in, c->in_len, &lim, &h) == GW_HTTPD_PARSE_MORE)
			return;
		c->parsed = true;
		c->head_len = h.head_len;
		c->clen = h.content_length; /* on a refusal too: conn_writeable() drains a refused body */
		c->keep_alive = h.keep_alive;
		c->expect_continue = h.expect_continue;
		c->is_head = h.is_head;
		if (h.status == 413) {
			char msg[96];

			req_fill(c, &h);
			s->st.too_large++;
			gw_log_debug("httpd: %s %s %s: body of %zu bytes refused", c->peer, c->req.method, c->req.path,
				     c->clen);
			snprintf(msg, sizeof(msg), "{\"error\":\"request body too large\",\"limit\":%zu}", s->body_max);
			respond_json(c, 413, msg, NULL, true);
			return;
		}
		if (h.status) {
			char msg[64];

			gw_log_debug("httpd: %s: refused a request (%d: %s)", c->peer, h.status, h.why);
			if (h.status == 431 && !h.head_len)
				snprintf(msg, sizeof(msg), "{\"error\":\"request head too large\"}");
			else
				snprintf(msg, sizeof(msg), "{\"error\":\"%s\"}", reason_phrase(h.status));
			c->is_head = false;
			respond_json(c, h.status, msg, NULL, true);
			return;
		}
		req_fill(c, &h);
	}
	if (c->in_len < c->head_len + c->clen) {
		if (c->expect_continue) {
			c->expect_continue = false;
			c->want_continue = true;
			lws_callback_on_writable(c->wsi);
		}
		return;
	}
	dispatch(c);
}

/* The response is out: forget the request and start on the next one (keep-alive). */
static void conn_next(struct conn *c)
{
	size_t used = c->head_len + c->clen;

	free(c->owned);
	c->owned = NULL;
	c->body = NULL;
	c->body_len = c->body_off = 0;
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	c->parsed = false;
	c->is_head = false;
	c->head_len = c->clen = 0;
	c->state = C_READ;
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE, READ_TIMEOUT_S);
	rx_enable(c, true);
	conn_process(c);
}

/* ---- lws events ---- */

static int conn_rx(struct conn *c, const char *in, size_t len)
{
	struct gw_httpd *s = c->srv;
	size_t cap = HEAD_IN_MAX + s->body_max + 1 + RX_SLACK;

	if (c->state == C_STREAM || c->state == C_LINGER || c->state == C_CLOSING)
		return 0; /* a stream's peer has nothing to say; after an answer we only wait */
	if (c->in_len + len > cap) {
		gw_log_debug("httpd: %s: too much pipelined input; closing", c->peer);
		return -1;
	}
	if (c->in_len + len + 1 > c->in_cap) {
		size_t ncap = c->in_cap ? c->in_cap : IN_INITIAL;

		while (ncap < c->in_len + len + 1)
			ncap *= 2;
		if (ncap > cap + 1)
			ncap = cap + 1;
		char *n = realloc(c->in, ncap);

		if (!n)
			return -1;
		c->in = n;
		c->in_cap = ncap;
	}
	memcpy(c->in + c->in_len, in, len);
	c->in_len += len;
	c->in[c->in_len] = '\0';
	if (c->state == C_READ)
		conn_process(c);
	if (c->state != C_READ && c->in_len + RX_SLACK > cap)
		rx_enable(c, false);
	return 0;
}

/* Copy what is due next into c->tx: the interim 100, the head, the body, queued events. */
static size_t tx_fill(struct conn *c)
{
	size_t n = 0, k;
	unsigned char *o = c->tx + LWS_PRE;

	if (c->want_continue) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

		c->want_continue = false;
		memcpy(o, cont, sizeof(cont) - 1);
		return sizeof(cont) - 1;
	}
	if (c->state != C_WRITE && c->state != C_STREAM)
		return 0;
	k = c->head_len_out - c->head_off;
	memcpy(o, c->head + c->head_off, k);
	c->head_off += k;
	n += k;
	k = c->body_len - c->body_off;
	if (k > TX_CHUNK - n)
		k = TX_CHUNK - n;
	if (k) {
		memcpy(o + n, c->body + c->body_off, k);
		c->body_off += k;
		n += k;
	}
	if (c->state == C_STREAM) {
		while (c->q_head && n < TX_CHUNK) {
			struct chunk *q = c->q_head;

			k = q->len - q->off;
			if (k > TX_CHUNK - n)
				k = TX_CHUNK - n;
			memcpy(o + n, q->data + q->off, k);
			q->off += k;
			n += k;
			c->q_bytes -= k;
			if (q->off == q->len) {
				c->q_head = q->next;
				if (!c->q_head)
					c->q_tail = NULL;
				free(q);
			}
		}
	}
	return n;
}

static int conn_writeable(struct conn *c)
{
	struct gw_httpd *s = c->srv;
	size_t n;

	if (c->state == C_CLOSING)
		return -1;
	if (c->state == C_LINGER)
		return 0;
	if (!c->tx) {
		c->tx = malloc(LWS_PRE + TX_CHUNK);
		if (!c->tx)
			return -1;
	}
	n = tx_fill(c);
	if (n) {
		if (lws_write(c->wsi, c->tx + LWS_PRE, n, LWS_WRITE_RAW) < (int)n)
			return -1;
		s->st.bytes_out += n;
	}
	if (c->state == C_STREAM) {
		if (c->q_head)
			lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->state != C_WRITE)
		return 0;
	if (c->head_off < c->head_len_out || c->body_off < c->body_len) {
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_CONTENT, WRITE_TIMEOUT_S);
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	/* The whole response is written (lws holds any unsent tail and calls back once it is out). */
	if (c->stream_after) {
		c->state = C_STREAM;
		lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
		rx_enable(c, true);
		if (c->q_head)
			lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->close_after) {
		if (!s->tls && c->clen > s->body_max) {
			/* The peer may still be sending the body we refused: closing now would reset the
			 * connection and could destroy the 413 before it is read. Half-close and drain. */
			c->state = C_LINGER;
			shutdown(lws_get_socket_fd(c->wsi), SHUT_WR);
			rx_enable(c, true);
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LINGER_S);
			return 0;
		}
		c->state = C_CLOSING;
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	conn_next(c);
	return 0;
}

static int conn_adopted(struct gw_httpd *s, struct conn *c, struct lws *wsi)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(c, 0, sizeof(*c));
	c->wsi = wsi;
	c->l = lws_get_opaque_user_data(wsi);
	if (!c->l || s->stopped || s->n_conns >= CONNS_MAX)
		return -1;
	c->srv = s;
	snprintf(c->peer, sizeof(c->peer), "?");
	if (getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->peer, sizeof(c->peer));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->peer, sizeof(c->peer));
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE, READ_TIMEOUT_S);
	return 0;
}

static void listener_accept(struct listener *l)
{
	struct gw_httpd *s = l->srv;

	for (int i = 0; i < 32; i++) {
		int fd = accept4(lws_get_socket_fd(l->wsi), NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		lws_adopt_desc_t ad;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
				gw_log_warn("httpd: accept on %s: %s", l->addr, strerror(errno));
			return;
		}
		if (s->n_conns >= CONNS_MAX) {
			gw_log_warn("httpd: %d connections open; refusing another on %s", s->n_conns, l->addr);
			close(fd);
			continue;
		}
		/* A response's last small segment must not wait for the client's delayed ACK (40 ms on
		 * Linux): measured on /metrics over keep-alive, 44 ms without this, 1.5 ms with it. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		memset(&ad, 0, sizeof(ad));
		ad.vh = s->vh;
		ad.type = LWS_ADOPT_SOCKET | (s->tls ? LWS_ADOPT_ALLOW_SSL : 0);
		ad.fd.sockfd = fd;
		ad.vh_prot_name = PROTO_NAME;
		ad.opaque = l;
		if (!lws_adopt_descriptor_vhost_via_info(&ad))
			gw_log_warn("httpd: lws refused a connection on %s", l->addr); /* lws closed it */
	}
}

static int httpd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn *c = user;
	struct listener *l;
	struct gw_httpd *s;
	int rc = 0;

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		l = lws_get_opaque_user_data(wsi);
		if (l && l->wsi == wsi)
			listener_accept(l);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		l = lws_get_opaque_user_data(wsi);
		if (l && l->wsi == wsi)
			l->wsi = NULL;
		return 0;
	case LWS_CALLBACK_RAW_ADOPT:
		l = lws_get_opaque_user_data(wsi);
		return l ? conn_adopted(l->srv, c, wsi) : -1;
	case LWS_CALLBACK_RAW_RX:
	case LWS_CALLBACK_RAW_WRITEABLE:
		s = c ? c->srv : NULL;
		if (!s || c->dead)
			return -1;
		s->cb_wsi = wsi;
		rc = reason == LWS_CALLBACK_RAW_RX ? conn_rx(c, in, len) : conn_writeable(c);
		if (c->srv)
			c->srv->cb_wsi = NULL;
		return c->dead ? -1 : rc;
	case LWS_CALLBACK_RAW_CLOSE:
		if (!c)
			return 0;
		if (c->srv)
			conn_unlink(c->srv, c);
		c->srv = NULL;
		conn_release(c);
		return 0;
	default:
		return 0;
	}
}

/* ---- event streams ---- */

static void stream_enqueue(struct gw_httpd *s, struct conn *c, const char *text, size_t len)
{
	struct chunk *k;

	if (c->dead)
		return;
	if (c->q_bytes + len > STREAM_QUEUE_MAX) {
		gw_log_warn("httpd: event stream to %s is not keeping up (%zu bytes queued); closing it", c->peer,
			    c->q_bytes);
		stream_unlink(s, c);
		c->dead = true;
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	k = malloc(sizeof(*k) + len);
	if (!k)
		return;
	k->next = NULL;
	k->len = len;
	k->off = 0;
	memcpy(k->data, text, len);
	if (c->q_tail)
		c->q_tail->next = k;
	else
		c->q_head = k;
	c->q_tail = k;
	c->q_bytes += len;
	if (c->state == C_STREAM)
		lws_callback_on_writable(c->wsi);
}

static void streams_send(struct gw_httpd *s, const char *text, size_t len)
{
	struct conn *c = s->streams;

	while (c) {
		struct conn *next = c->snext; /* enqueue may unlink c */

		stream_enqueue(s, c, text, len);
		c = next;
	}
}

void gw_httpd_push(struct gw_httpd *s, const char *event, const char *data, size_t len)
{
	size_t cap, n = 0;
	char *buf;

	if (!s || s->stopped || !s->streams)
		return;
	/* Worst case every byte of @data is a newline that becomes "\ndata: ". */
	cap = 7 + strlen(event) + 1 + 6 + len * 7 + 3;
	buf = malloc(cap);
	if (!buf)
		return;
	n += (size_t)snprintf(buf, cap, "event: ");
	for (const char *e = event; *e; e++)
		if (*e != '\r' && *e != '\n')
			buf[n++] = *e;
	memcpy(buf + n, "\ndata: ", 7);
	n += 7;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r')
			continue;
		if (data[i] == '\n') {
			/* SSE joins consecutive data lines with a newline: the event stays one event. */
			memcpy(buf + n, "\ndata: ", 7);
			n += 7;
			continue;
		}
		buf[n++] = data[i];
	}
	memcpy(buf + n, "\n\n", 2);
	n += 2;
	streams_send(s, buf, n);
	free(buf);
}

static void keepalive_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_httpd *s = lws_container_of(sul, struct gw_httpd, sul_keepalive);
	static const char ka[] = ": keepalive\n\n";

	if (s->stopped)
		return;
	streams_send(s, ka, sizeof(ka) - 1);
	gw_timer_in(s->loop, NULL, &s->sul_keepalive, keepalive_cb, KEEPALIVE_MS);
}

/* ---- listening ---- */

static int listener_open(struct gw_httpd *s, struct listener *l, const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t sl = 0;
	lws_adopt_desc_t ad;
	int fd, one = 1;

	snprintf(l->addr, sizeof(l->addr), "%s", spec ? spec : "(null)");
	l->srv = s;
	l->port = -1;
	if (gw_url_listen_parse(spec, &sa, &sl, &l->loopback) < 0) {
		snprintf(err, errlen, "listen address \"%s\": not IPv4:port or [IPv6]:port", l->addr);
		return -EINVAL;
	}
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* A restart must not wait out TIME_WAIT; [::] must not also take the IPv4 port ("0.0.0.0:P" is
	 * its own listener). */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (sa.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&sa, sl) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		goto fail;
	l->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
						 : ((struct sockaddr_in *)&sa)->sin_port);
	memset(&ad, 0, sizeof(ad));
	ad.vh = s->vh;
	ad.type = LWS_ADOPT_RAW_FILE_DESC;
	ad.fd.filefd = fd;
	ad.vh_prot_name = PROTO_NAME;
	ad.opaque = l;
	l->wsi = lws_adopt_descriptor_vhost_via_info(&ad);
	if (!l->wsi) {
		close(fd); /* a raw file that lws refused is still ours */
		snprintf(err, errlen, "listen address \"%s\": lws could not adopt the socket", l->addr);
		return -EIO;
	}
	return 0;

fail: {
	int e = errno;

	if (fd >= 0)
		close(fd);
	snprintf(err, errlen, "listen address \"%s\": %s", l->addr, strerror(e));
	return -e;
}
}

struct gw_httpd *gw_httpd_new(struct gw_loop *loop, const struct gw_httpd_config *cfg,
			      const struct gw_httpd_handlers *h, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct gw_httpd *s;

	if (!cfg || cfg->n_listen < 1 || cfg->n_listen > GW_HTTPD_LISTEN_MAX || !h || !h->on_request ||
	    (!cfg->cert_file) != (!cfg->key_file)) {
		snprintf(err, errlen, "httpd: bad configuration (listen addresses, handler, certificate and key)");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "httpd: out of memory");
		return NULL;
	}
	s->loop = loop;
	s->h = *h;
	s->body_max = cfg->body_max ? cfg->body_max : 8192;
	s->rate_per_s = cfg->rate_per_s > 0 ? cfg->rate_per_s : 20;
	s->rate_burst = cfg->rate_burst > 0 ? cfg->rate_burst : 40;
	s->streams_max = cfg->streams_max > 0 ? cfg->streams_max : 16;
	s->tls = cfg->cert_file && cfg->cert_file[0];

	/* One vhost that never listens itself (NO_LISTEN_SERVER still sets up server TLS). */
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = protocols;
	info.vhost_name = PROTO_NAME;
	if (s->tls) {
		info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cfg->cert_file;
		info.ssl_private_key_filepath = cfg->key_file;
		info.ssl_options_set = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
	}
	s->vh = lws_create_vhost(gw_loop_context(loop), &info);
	if (!s->vh) {
		if (s->tls)
			snprintf(err, errlen, "httpd: cannot use the certificate %s with the key %s", cfg->cert_file,
				 cfg->key_file);
		else
			snprintf(err, errlen, "httpd: cannot create the lws vhost");
		goto fail;
	}
	for (int i = 0; i < cfg->n_listen; i++) {
		if (listener_open(s, &s->l[i], cfg->listen[i], err, errlen) < 0)
			goto fail;
		s->n_listen = i + 1;
		gw_log_info("httpd: listening on %s%s (port %d)", s->tls ? "https://" : "http://", s->l[i].addr,
			    s->l[i].port);
	}
	gw_timer_in(loop, NULL, &s->sul_keepalive, keepalive_cb, KEEPALIVE_MS);
	return s;

fail:
	gw_httpd_free(s);
	return NULL;
}

int gw_httpd_port(const struct gw_httpd *s, int i)
{
	if (!s || i < 0 || i >= s->n_listen || !s->l[i].wsi)
		return -1;
	return s->l[i].port;
}

void gw_httpd_stats(const struct gw_httpd *s, struct gw_httpd_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (s)
		*out = s->st;
}

void gw_httpd_stop(struct gw_httpd *s)
{
	struct conn *c;

	if (!s || s->stopped)
		return;
	s->stopped = true;
	lws_sul_cancel(&s->sul_keepalive);
	for (int i = 0; i < s->n_listen; i++) {
		struct lws *w = s->l[i].wsi;

		if (w) {
			lws_set_opaque_user_data(w, NULL);
			s->l[i].wsi = NULL;
			lws_set_timeout(w, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
		}
	}
	/* Detach every connection first, then close it: its close callback finds no server. */
	while ((c = s->conns)) {
		conn_unlink(s, c);
		c->srv = NULL;
		conn_kill(s, c);
	}
	if (s->vh) {
		/* With nothing bound any more, lws frees it at once. */
		lws_vhost_destroy(s->vh);
		s->vh = NULL;
	}
	if (s->n_listen)
		gw_log_info("httpd: stopped");
}

void gw_httpd_free(struct gw_httpd *s)
{
	if (!s)
		return;
	gw_httpd_stop(s);
	free(s);
}
