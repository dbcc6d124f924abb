/*
 * gw_ws: the OCPP websocket client's state machine on top of lws. One lws_sul carries whatever the
 * link waits for (the next attempt after a backoff, or the DNS poll), a second one the ping cycle.
 * lws 4.1.6 resolves names with a blocking getaddrinfo(), so we resolve with gw_dns and hand lws the
 * numeric address; lws takes SNI and the certificate's expected host name from the Host header
 * (i.host, ":port" stripped), so TLS still checks the name the operator configured. lws's own idle
 * pings are switched off (an all-zero retry policy) because WebSocketPingInterval must be changeable
 * on an open link.
 *
 * wss:// runs on a TLS vhost of our own (gw_loop_tls_vhost_new), since lws 4.1.6 binds the CA and
 * the client certificate to the vhost. A reconfiguration builds a new one and retires the old; a
 * retired vhost is destroyed from a timer once lws has destroyed every wsi we made on it (the loop
 * passes WSI_DESTROY on to us): lws 4.1.6 destroys a vhost with a wsi still bound only with the
 * context, so destroying it earlier would keep it, and every rotation's, until the process ends.
 *
 * A failed attempt is classified from what lws leaves on the wsi in CLIENT_CONNECTION_ERROR: the
 * server certificate's verify result and the TLS alerts (gw_loop_tls_diag), then the HTTP status of
 * the upgrade; lws's own string is only the detail, as 4.1.6 reduces TLS errors to "SSL err 1".
 */
#include "gw_ws.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "gw_clock.h"
#include "gw_timer.h"
#include "gw_url.h"
#include "gw_dns.h"
#include "gw_log.h"
#include "gw_loop.h"

#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 60000u
#define STABLE_MS 30000u      /* a connection up this long resets the backoff */
#define PONG_TIMEOUT_MIN_S 10
#define PATH_MAX_LEN (GW_URL_MAX + 3 * GW_WS_CBID_MAX + 2)
#define HOST_HDR_MAX (GW_URL_MAX + 8)
#define RETIRED_MAX 8 /* vhosts waiting for their last wsi to go */
#define ALIVE_MAX 4   /* our wsi that lws has not destroyed yet (one open, others closing) */

enum ws_state {
	ST_IDLE,       /* not started, or stopped */
	ST_WAIT,       /* the sul makes the next attempt */
	ST_RESOLVING,  /* gw_dns in flight; the sul polls it */
	ST_CONNECTING, /* lws is connecting / handshaking */
	ST_OPEN,
	ST_CLOSING,    /* was open; a close is under way */
};

struct tx_frame {
	unsigned char *buf; /* LWS_PRE bytes of headroom, then the text */
	size_t len;
};

struct gw_ws {
	struct gw_loop *loop;
	struct gw_ws_handlers h;
	char url[GW_URL_MAX];
	char cbid[GW_WS_CBID_MAX + 1];
	char key[GW_WS_KEY_MAX + 1];
	char ca_file[GW_WS_PATH_MAX];
	char cert_file[GW_WS_PATH_MAX]; /* profile 3 only, else "" */
	char key_file[GW_WS_PATH_MAX];
	int profile;
	int ping_s;
	struct gw_url u;
	char path[PATH_MAX_LEN];      /* u.path + "/" + percent-encoded cbid */
	char host_hdr[HOST_HDR_MAX];  /* host[:port], what Host, SNI and the certificate check see */
	char shown[HOST_HDR_MAX + PATH_MAX_LEN + 8]; /* the full URL, for logs */
	struct lws_vhost *vh;
	bool vh_owned;          /* vh is our TLS vhost (not the loop's plain one) */
	struct lws_vhost *retired[RETIRED_MAX];
	size_t n_retired;
	struct {
		struct lws *wsi;
		struct lws_vhost *vh;
	} alive[ALIVE_MAX];
	lws_sorted_usec_list_t sul_vh; /* destroys retired vhosts no wsi uses any more */

	enum ws_state state;
	bool stopped;
	struct lws *wsi;
	lws_sorted_usec_list_t sul;
	lws_sorted_usec_list_t sul_ping;
	struct gw_backoff backoff;
	bool quiet;             /* a failure was logged; repeats go to debug until the link opens */
	enum gw_ws_fail quiet_why; /* ... or the reason changes */
	bool reconnect_now;     /* reconfigure: reopen at once after the close */
	bool going_away;        /* gw_ws_stop() began a close (1001) that lws finishes by itself */
	char reason[400];

	/* This attempt's failure: the most telling one over its addresses. */
	lws_sorted_usec_list_t sul_deadline; /* GW_WS_ATTEMPT_TIMEOUT_S for the address being tried */
	bool timed_out;
	bool fail_set;
	enum gw_ws_fail fail_why;
	char fail_detail[320];
	int fails; /* attempts failed in a row */

	struct gw_dns *dns;
	struct addrinfo *ai_list, *ai_next;
	char addr[INET6_ADDRSTRLEN];

	uint64_t opened_ms;
	bool want_close, want_ping, awaiting_pong;
	bool rx_paused;         /* reading stopped until the outbound FIFO drains (rx_flow) */
	uint64_t ping_sent_ms;

	struct tx_frame tx[GW_WS_TX_FRAMES];
	size_t tx_head, tx_count, tx_bytes;
	char *rx;               /* GW_WS_MSG_MAX + 1 */
	size_t rx_len, rx_seen;
	bool rx_drop, rx_binary;
};

/* lws's own validity pings off: zero hangup time disables them (we ping ourselves). */
static const lws_retry_bo_t idle_off;

static void ws_sul_cb(lws_sorted_usec_list_t *sul);
static void ws_ping_cb(lws_sorted_usec_list_t *sul);
static void ws_kill(struct gw_ws *ws);

/* The reason the last attempt failed, for the log line that reports it. */
#define set_reason(o, ...) gw_log_fmt((o)->reason, sizeof((o)->reason), __VA_ARGS__)

static void sul_in(struct gw_ws *ws, lws_sorted_usec_list_t *sul, sul_cb_t cb, uint64_t us)
{
	lws_sul_schedule(gw_loop_context(ws->loop), 0, sul, cb, (lws_usec_t)(us ? us : 1));
}

/* ---- config ---- */

int gw_ws_check_config(const struct gw_ws_config *cfg, char *why, size_t whylen)
{
	struct gw_url u;
	const char *fail = NULL;

	if (!cfg->url || gw_url_split(cfg->url, &u) != 0)
		fail = "the URL is not ws://host[:port][/path] or wss://...";
	else if (!cfg->charge_box_id || !cfg->charge_box_id[0] || strlen(cfg->charge_box_id) > GW_WS_CBID_MAX)
		fail = "the charge box ID is missing or too long";
	else if (cfg->security_profile < 0 || cfg->security_profile > 3)
		fail = "the security profile must be 0, 1, 2 or 3";
	else if (cfg->security_profile >= 2 && !u.tls)
		fail = cfg->security_profile == 2 ? "security profile 2 needs a wss:// URL"
						  : "security profile 3 needs a wss:// URL";
	else if ((cfg->security_profile == 1 || cfg->security_profile == 2) &&
		 (!cfg->authorization_key || !cfg->authorization_key[0] ||
		  strlen(cfg->authorization_key) > GW_WS_KEY_MAX))
		fail = "security profiles 1 and 2 need an authorization key";
	else if (cfg->security_profile == 3 && (!cfg->cert_file || !cfg->cert_file[0] || !cfg->key_file ||
						!cfg->key_file[0]))
		fail = "security profile 3 needs a client certificate and its key";
	else if ((cfg->ca_file && strlen(cfg->ca_file) >= GW_WS_PATH_MAX) ||
		 (cfg->cert_file && strlen(cfg->cert_file) >= GW_WS_PATH_MAX) ||
		 (cfg->key_file && strlen(cfg->key_file) >= GW_WS_PATH_MAX))
		fail = "a CA, certificate or key path is too long";
	if (fail) {
		snprintf(why, whylen, "%s", fail);
		return -EINVAL;
	}
	return 0;
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.' || c == '_' || c == '~';
}

/* Copy what a connection needs from @cfg; the URL has been checked. */
static void config_take(struct gw_ws *ws, const struct gw_ws_config *cfg)
{
	size_t n;

	snprintf(ws->url, sizeof(ws->url), "%s", cfg->url);
	snprintf(ws->cbid, sizeof(ws->cbid), "%s", cfg->charge_box_id);
	snprintf(ws->key, sizeof(ws->key), "%s",
		 cfg->security_profile == 1 || cfg->security_profile == 2 ? cfg->authorization_key : "");
	snprintf(ws->ca_file, sizeof(ws->ca_file), "%s", cfg->ca_file ? cfg->ca_file : "");
	/* A certificate is presented only where it is the credential: profile 3. */
	snprintf(ws->cert_file, sizeof(ws->cert_file), "%s", cfg->security_profile == 3 ? cfg->cert_file : "");
	snprintf(ws->key_file, sizeof(ws->key_file), "%s", cfg->security_profile == 3 ? cfg->key_file : "");
	ws->profile = cfg->security_profile;
	ws->ping_s = cfg->ping_interval_s > 0 ? cfg->ping_interval_s : 0;
	gw_url_split(ws->url, &ws->u);

	n = (size_t)snprintf(ws->path, sizeof(ws->path), "%s/", ws->u.path);
	for (const unsigned char *c = (const unsigned char *)ws->cbid; *c && n + 4 < sizeof(ws->path); c++)
		n += (size_t)snprintf(ws->path + n, sizeof(ws->path) - n, unreserved(*c) ? "%c" : "%%%02X", *c);

	bool v6 = strchr(ws->u.host, ':') != NULL;
	bool dflt = ws->u.port == (ws->u.tls ? 443 : 80);
	char port[8] = "";

	if (!dflt)
		snprintf(port, sizeof(port), ":%d", ws->u.port);
	snprintf(ws->host_hdr, sizeof(ws->host_hdr), v6 ? "[%s]%s" : "%s%s", ws->u.host, port);
	snprintf(ws->shown, sizeof(ws->shown), "%s://%s%s", ws->u.tls ? "wss" : "ws", ws->host_hdr, ws->path);
}

/* ---- the outbound FIFO and the inbound buffer ---- */

/*
 * Past half the FIFO we stop reading the socket, and read again once it is down to a quarter: a
 * central system that sends CALLs faster than we can answer them is slowed by TCP, instead of
 * answers being dropped when the FIFO is full (measured: 4,716 of 5,000 CALLs sent at once went
 * unanswered without this). The half left is room for what one inbound frame makes us send.
 */
static void rx_flow(struct gw_ws *ws)
{
	bool high = ws->tx_count >= GW_WS_TX_FRAMES / 2 || ws->tx_bytes >= GW_WS_TX_BYTES / 2;
	bool low = ws->tx_count <= GW_WS_TX_FRAMES / 4 && ws->tx_bytes <= GW_WS_TX_BYTES / 4;

	if (!ws->wsi || ws->state != ST_OPEN)
		return;
	if (!ws->rx_paused && high) {
		ws->rx_paused = true;
		lws_rx_flow_control(ws->wsi, 0);
	} else if (ws->rx_paused && low) {
		ws->rx_paused = false;
		lws_rx_flow_control(ws->wsi, 1);
	}
}

static void tx_pop(struct gw_ws *ws)
{
	struct tx_frame *f = &ws->tx[ws->tx_head];

	ws->tx_bytes -= f->len;
	free(f->buf);
	f->buf = NULL;
	ws->tx_head = (ws->tx_head + 1) % GW_WS_TX_FRAMES;
	ws->tx_count--;
}

static void link_reset(struct gw_ws *ws)
{
	while (ws->tx_count)
		tx_pop(ws);
	ws->rx_len = ws->rx_seen = 0;
	ws->rx_drop = ws->rx_binary = false;
	ws->want_close = ws->want_ping = ws->awaiting_pong = false;
	ws->rx_paused = false;
	lws_sul_cancel(&ws->sul_ping);
}

/* ---- TLS vhosts: one current, the retired ones until lws has let go of their wsi ---- */

/* A TLS vhost for @cfg (files read now), or NULL (logged). */
static struct lws_vhost *tls_vhost_for(struct gw_ws *ws, const struct gw_ws_config *cfg)
{
	struct gw_loop_tls t = {
		.ca_file = cfg->ca_file,
		.cert_file = cfg->security_profile == 3 ? cfg->cert_file : NULL,
		.key_file = cfg->security_profile == 3 ? cfg->key_file : NULL,
	};

	return gw_loop_tls_vhost_new(ws->loop, "ocpp-tls", &t);
}

static bool vh_in_use(const struct gw_ws *ws, const struct lws_vhost *vh)
{
	for (size_t i = 0; i < ALIVE_MAX; i++)
		if (ws->alive[i].wsi && ws->alive[i].vh == vh)
			return true;
	return false;
}

static void ws_vh_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_ws *ws = lws_container_of(sul, struct gw_ws, sul_vh);
	size_t k = 0;

	for (size_t i = 0; i < ws->n_retired; i++) {
		if (vh_in_use(ws, ws->retired[i]))
			ws->retired[k++] = ws->retired[i];
		else
			gw_loop_tls_vhost_free(ws->retired[i]);
	}
	ws->n_retired = k;
}

/* The current vhost gives way to @vh: the old one goes once no wsi of ours is on it. */
static void vh_replace(struct gw_ws *ws, struct lws_vhost *vh, bool owned)
{
	if (ws->vh_owned) {
		if (ws->n_retired < RETIRED_MAX) {
			ws->retired[ws->n_retired++] = ws->vh;
		} else {
			/* Never expected (one wsi at a time): lws keeps it until the context ends. */
			gw_log_warn("ocpp: %d TLS vhosts waiting for their connections to close", RETIRED_MAX);
			gw_loop_tls_vhost_free(ws->vh);
		}
		/* From a timer: we may be inside a callback of a wsi on the old vhost. */
		sul_in(ws, &ws->sul_vh, ws_vh_cb, 1);
	}
	ws->vh = vh;
	ws->vh_owned = owned;
}

static void alive_add(struct gw_ws *ws, struct lws *wsi)
{
	for (size_t i = 0; i < ALIVE_MAX; i++) {
		if (!ws->alive[i].wsi) {
			ws->alive[i].wsi = wsi;
			ws->alive[i].vh = ws->vh;
			return;
		}
	}
	/* Untracked: a vhost retired under it would be kept (not freed) until the context ends. */
	gw_log_debug("ocpp: more than %d connections closing at once", ALIVE_MAX);
}

/* lws is destroying @wsi: a retired vhost it held may go now. */
static void alive_remove(struct gw_ws *ws, struct lws *wsi)
{
	for (size_t i = 0; i < ALIVE_MAX; i++) {
		if (ws->alive[i].wsi == wsi) {
			ws->alive[i].wsi = NULL;
			ws->alive[i].vh = NULL;
			if (ws->n_retired && !ws->stopped)
				sul_in(ws, &ws->sul_vh, ws_vh_cb, 1);
		}
	}
}

/* ---- why an attempt failed ---- */

const char *gw_ws_fail_name(enum gw_ws_fail why)
{
	switch (why) {
	case GW_WS_FAIL_CONNECT:
		return "no connection";
	case GW_WS_FAIL_SERVER_CERT:
		return "server certificate refused";
	case GW_WS_FAIL_TLS_VERSION:
		return "TLS version refused";
	case GW_WS_FAIL_TLS:
		return "TLS handshake failed";
	case GW_WS_FAIL_AUTH:
		return "authentication refused";
	case GW_WS_FAIL_HTTP:
		return "websocket upgrade refused";
	case GW_WS_FAIL_TIMEOUT:
		return "timed out";
	}
	return "failed";
}

/* With several addresses, the failure that says most: TLS or HTTP over a timeout over no TCP. */
static int fail_rank(enum gw_ws_fail why)
{
	return why == GW_WS_FAIL_CONNECT ? 0 : why == GW_WS_FAIL_TIMEOUT ? 1 : 2;
}

static void fail_note(struct gw_ws *ws, enum gw_ws_fail why, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail_note(struct gw_ws *ws, enum gw_ws_fail why, const char *fmt, ...)
{
	va_list ap;

	if (ws->fail_set && fail_rank(why) <= fail_rank(ws->fail_why))
		return;
	ws->fail_set = true;
	ws->fail_why = why;
	va_start(ap, fmt);
	vsnprintf(ws->fail_detail, sizeof(ws->fail_detail), fmt, ap);
	va_end(ap);
}

/* "unknown CA (48)": OpenSSL 3.0 has no names for the newer alerts, so the number goes along. */
static const char *alert_name(char *buf, size_t len, int desc)
{
	const char *name = desc == 116 ? "certificate required" : desc == 120 ? "no application protocol"
			 : SSL_alert_desc_string_long(desc);

	snprintf(buf, len, "%s (%d)", name, desc);
	return buf;
}

/* Sort out a CLIENT_CONNECTION_ERROR from what lws left on @wsi (see the file's comment). */
static void fail_classify(struct gw_ws *ws, struct lws *wsi, const char *why)
{
	struct gw_loop_tls_diag d;
	char an[48];
	int status;

	if (!why || !why[0])
		why = "connection failed";
	if (ws->timed_out) {
		fail_note(ws, GW_WS_FAIL_TIMEOUT, "%s: no open websocket within %d s", ws->addr, GW_WS_ATTEMPT_TIMEOUT_S);
		return;
	}
	/* lws's own, shorter, phase timeouts ("Timed out waiting SSL"). */
	if (strstr(why, "imed out")) {
		fail_note(ws, GW_WS_FAIL_TIMEOUT, "%s: %s", ws->addr, why);
		return;
	}
	gw_loop_tls_diag(ws->u.tls ? wsi : NULL, &d);
	if (d.tls && d.verify != X509_V_OK) {
		fail_note(ws, GW_WS_FAIL_SERVER_CERT, "%s: %s (X509 error %ld; trusted: %s)", ws->addr,
			  X509_verify_cert_error_string(d.verify), d.verify,
			  ws->ca_file[0] ? ws->ca_file : "the system CA store");
		return;
	}
	if (d.tls && (d.alert_sent == SSL_AD_PROTOCOL_VERSION || d.alert_rcvd == SSL_AD_PROTOCOL_VERSION)) {
		fail_note(ws, GW_WS_FAIL_TLS_VERSION, "%s: no TLS 1.2 or later on offer (%s the alert \"%s\")", ws->addr,
			  d.alert_rcvd == SSL_AD_PROTOCOL_VERSION ? "the server sent" : "we sent",
			  alert_name(an, sizeof(an), SSL_AD_PROTOCOL_VERSION));
		return;
	}
	if (d.tls && d.alert_rcvd >= 0) {
		fail_note(ws, GW_WS_FAIL_TLS, "%s: the server sent the TLS alert \"%s\"%s", ws->addr,
			  alert_name(an, sizeof(an), d.alert_rcvd), d.cert_sent ? " (our client certificate refused?)" : "");
		return;
	}
	status = wsi ? lws_http_client_http_response(wsi) : 0;
	/* A server that refuses our certificate may just hang up: mid-handshake under TLS 1.2 (OpenSSL
	 * then sends "decode error" itself), or under TLS 1.3, which checks it after our side is done,
	 * with the alert lost to the TCP reset of a close that left our upgrade request unread. */
	if (d.tls && d.cert_sent && !status && strncmp(why, "HS:", 3) != 0 &&
	    (!d.done || d.version == TLS1_3_VERSION)) {
		fail_note(ws, GW_WS_FAIL_TLS, "%s: the server hung up after our client certificate (%s; our client "
			  "certificate refused?)", ws->addr, d.alert_sent >= 0 ? alert_name(an, sizeof(an), d.alert_sent) : why);
		return;
	}
	if (d.tls && d.alert_sent >= 0) {
		fail_note(ws, GW_WS_FAIL_TLS, "%s: we sent the TLS alert \"%s\"", ws->addr, alert_name(an, sizeof(an), d.alert_sent));
		return;
	}
	if (d.tls && !d.done) {
		fail_note(ws, GW_WS_FAIL_TLS, "%s: the TLS handshake broke off (%s)", ws->addr, why);
		return;
	}
	if (status == 401 || status == 403)
		fail_note(ws, GW_WS_FAIL_AUTH, "%s: HTTP %d on the websocket upgrade", ws->addr, status);
	else if (status)
		fail_note(ws, GW_WS_FAIL_HTTP, "%s: HTTP %d on the websocket upgrade", ws->addr, status);
	else if (strncmp(why, "HS:", 3) == 0 || d.done)
		fail_note(ws, GW_WS_FAIL_HTTP, "%s: %s", ws->addr, why);
	else
		fail_note(ws, GW_WS_FAIL_CONNECT, "%s: %s", ws->addr, why);
}

static void ws_deadline_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_ws *ws = lws_container_of(sul, struct gw_ws, sul_deadline);

	if (ws->stopped || ws->state != ST_CONNECTING || !ws->wsi)
		return;
	ws->timed_out = true;
	ws_kill(ws);
}

/* ---- attempts and backoff ---- */

/* The next reconnect delay, jittered so that many charge points do not retry in step. */
static uint32_t next_delay(struct gw_ws *ws)
{
	uint16_t r = 0;

	lws_get_random(gw_loop_context(ws->loop), &r, sizeof(r));
	return gw_backoff_next(&ws->backoff, r);
}

static void addr_release(struct gw_ws *ws)
{
	if (ws->ai_list)
		freeaddrinfo(ws->ai_list);
	ws->ai_list = ws->ai_next = NULL;
}

/* Every address failed: log the first failure at warn and repeats at debug (a change of reason at
 * warn again), tell the owner, then back off. */
static void attempt_failed(struct gw_ws *ws)
{
	uint32_t delay = next_delay(ws);
	enum gw_ws_fail why = ws->fail_set ? ws->fail_why : GW_WS_FAIL_CONNECT;
	bool quiet = ws->quiet && why == ws->quiet_why;

	addr_release(ws);
	set_reason(ws, "%s: %s", gw_ws_fail_name(why), ws->fail_set ? ws->fail_detail : "connection failed");
	gw_log(quiet ? GW_LOG_DEBUG : GW_LOG_WARN, "ocpp: cannot connect to %s: %s; retrying in %.1f s%s", ws->shown,
	       ws->reason, delay / 1000.0, quiet ? "" : " (further failures at debug level)");
	ws->quiet = true;
	ws->quiet_why = why;
	ws->fails++;
	ws->state = ST_WAIT;
	sul_in(ws, &ws->sul, ws_sul_cb, (uint64_t)delay * 1000u);
	if (ws->h.on_fail)
		ws->h.on_fail(ws->h.user, why, ws->fail_detail[0] ? ws->fail_detail : "connection failed");
}

static void connect_next(struct gw_ws *ws)
{
	struct lws_client_connect_info i;
	struct addrinfo *ai = ws->ai_next;
	const void *src = ai->ai_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
						     : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;

	ws->ai_next = ai->ai_next;
	if (!inet_ntop(ai->ai_family, src, ws->addr, sizeof(ws->addr)))
		snprintf(ws->addr, sizeof(ws->addr), "?");
	memset(&i, 0, sizeof(i));
	i.context = gw_loop_context(ws->loop);
	i.vhost = ws->vh;
	i.address = ws->addr;
	i.port = ws->u.port;
	i.ssl_connection = ws->u.tls ? LCCSCF_USE_SSL : 0;
	i.path = ws->path;
	i.host = ws->host_hdr;
	i.origin = ws->host_hdr;
	i.protocol = GW_WS_PROTOCOL;
	i.userdata = ws;
	i.pwsi = &ws->wsi;
	i.retry_and_idle_policy = &idle_off;
	gw_log_debug("ocpp: connecting to %s at %s", ws->shown, ws->addr);
	ws->state = ST_CONNECTING;
	ws->timed_out = false;
	sul_in(ws, &ws->sul_deadline, ws_deadline_cb, (uint64_t)GW_WS_ATTEMPT_TIMEOUT_S * 1000000u);
	struct lws *wsi = lws_client_connect_via_info(&i);

	if (wsi)
		alive_add(ws, wsi);
	if (!wsi && ws->state == ST_CONNECTING) {
		/* Refused before any callback: no CLIENT_CONNECTION_ERROR is coming. */
		ws->wsi = NULL;
		lws_sul_cancel(&ws->sul_deadline);
		fail_note(ws, GW_WS_FAIL_CONNECT, "%s: lws could not start the connection", ws->addr);
		if (ws->ai_next) {
			ws->state = ST_WAIT;
			sul_in(ws, &ws->sul, ws_sul_cb, 1);
		} else {
			attempt_failed(ws);
		}
	}
}

static void attempt_begin(struct gw_ws *ws)
{
	char service[8];
	int gai = 0;

	addr_release(ws);
	ws->fail_set = false;
	ws->fail_detail[0] = '\0';
	snprintf(service, sizeof(service), "%d", ws->u.port);
	ws->dns = gw_dns_start(ws->u.host, service, &gai);
	if (!ws->dns) {
		fail_note(ws, GW_WS_FAIL_CONNECT, "resolving %s: %s", ws->u.host, gai_strerror(gai));
		attempt_failed(ws);
		return;
	}
	ws->state = ST_RESOLVING;
	sul_in(ws, &ws->sul, ws_sul_cb, 1);
}

static void dns_poll(struct gw_ws *ws)
{
	int rc = gw_dns_result(ws->dns, &ws->ai_list);

	if (rc == EAI_INPROGRESS) {
		sul_in(ws, &ws->sul, ws_sul_cb, GW_DNS_POLL_US);
		return;
	}
	gw_dns_release(ws->dns, false);
	ws->dns = NULL;
	if (rc != 0 || !ws->ai_list) {
		fail_note(ws, GW_WS_FAIL_CONNECT, "resolving %s: %s", ws->u.host, gai_strerror(rc));
		attempt_failed(ws);
		return;
	}
	ws->ai_next = ws->ai_list;
	connect_next(ws);
}

static void ws_sul_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_ws *ws = lws_container_of(sul, struct gw_ws, sul);

	if (ws->stopped)
		return;
	if (ws->state == ST_RESOLVING)
		dns_poll(ws);
	else if (ws->state == ST_WAIT && ws->ai_next)
		connect_next(ws);
	else if (ws->state == ST_WAIT)
		attempt_begin(ws);
}

/* ---- liveness: WebSocketPingInterval ---- */

static uint64_t pong_timeout_ms(const struct gw_ws *ws)
{
	return (uint64_t)(ws->ping_s > PONG_TIMEOUT_MIN_S ? ws->ping_s : PONG_TIMEOUT_MIN_S) * 1000u;
}

/* Arm the ping timer for whichever comes next: the PONG deadline or the next PING. */
static void ping_arm(struct gw_ws *ws)
{
	uint64_t now = gw_clock_mono_ms(), due;

	if (ws->state != ST_OPEN || ws->ping_s <= 0 || ws->stopped) {
		lws_sul_cancel(&ws->sul_ping);
		ws->awaiting_pong = false;
		return;
	}
	due = ws->ping_sent_ms + (ws->awaiting_pong ? pong_timeout_ms(ws) : (uint64_t)ws->ping_s * 1000u);
	sul_in(ws, &ws->sul_ping, ws_ping_cb, due > now ? (due - now) * 1000u : 1);
}

static void ws_kill(struct gw_ws *ws)
{
	if (ws->state == ST_OPEN)
		ws->state = ST_CLOSING;
	lws_set_timeout(ws->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void ws_ping_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_ws *ws = lws_container_of(sul, struct gw_ws, sul_ping);
	uint64_t now = gw_clock_mono_ms();

	if (ws->state != ST_OPEN || ws->stopped || !ws->wsi)
		return;
	if (ws->awaiting_pong) {
		if (now - ws->ping_sent_ms >= pong_timeout_ms(ws)) {
			set_reason(ws, "no PONG within %llu s", (unsigned long long)pong_timeout_ms(ws) / 1000u);
			gw_log_warn("ocpp: %s; closing the connection", ws->reason);
			ws_kill(ws);
			return;
		}
	} else if (now - ws->ping_sent_ms >= (uint64_t)ws->ping_s * 1000u) {
		ws->want_ping = ws->awaiting_pong = true;
		ws->ping_sent_ms = now;
		lws_callback_on_writable(ws->wsi);
	}
	ping_arm(ws);
}

/* ---- lws callbacks ---- */

static int on_append_header(struct gw_ws *ws, struct lws *wsi, unsigned char **p, size_t len)
{
	char pair[GW_WS_CBID_MAX + GW_WS_KEY_MAX + 2];
	char b64[(sizeof(pair) + 2) / 3 * 4 + 1];
	char value[sizeof(b64) + 8];
	int n, rc;

	/* Profile 3 authenticates by the client certificate alone. */
	if (ws->profile < 1 || ws->profile > 2)
		return 0;
	n = snprintf(pair, sizeof(pair), "%s:%s", ws->cbid, ws->key);
	rc = lws_b64_encode_string(pair, n, b64, (int)sizeof(b64)) < 0 ? -1 : 0;
	if (rc == 0) {
		n = snprintf(value, sizeof(value), "Basic %s", b64);
		rc = lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, (unsigned char *)value, n, p,
						  *p + len);
	}
	/* The key must not linger on the stack. */
	explicit_bzero(pair, sizeof(pair));
	explicit_bzero(b64, sizeof(b64));
	explicit_bzero(value, sizeof(value));
	return rc ? -1 : 0;
}

/* Before ESTABLISHED, while the response headers are still there: OCPP-J says a central system
 * that does not speak ocpp1.6 leaves the header out (and closes). */
static void check_subprotocol(struct lws *wsi)
{
	char proto[32] = "";

	if (lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL) <= 0 || strcmp(proto, GW_WS_PROTOCOL) != 0)
		gw_log_warn("ocpp: the server did not confirm the subprotocol %s", GW_WS_PROTOCOL);
}

static void on_established(struct gw_ws *ws)
{
	lws_sul_cancel(&ws->sul_deadline);
	ws->state = ST_OPEN;
	ws->quiet = false;
	ws->fails = 0;
	ws->reason[0] = '\0';
	ws->opened_ms = ws->ping_sent_ms = gw_clock_mono_ms();
	addr_release(ws);
	gw_log_info("ocpp: connected to %s (%s, %s, security profile %d)", ws->shown, ws->addr,
		    ws->u.tls ? "TLS" : "no TLS", ws->profile);
	ping_arm(ws);
	if (ws->h.on_open)
		ws->h.on_open(ws->h.user);
}

static void on_connect_error(struct gw_ws *ws, struct lws *wsi, const char *why)
{
	ws->wsi = NULL;
	lws_sul_cancel(&ws->sul_deadline);
	if (ws->stopped) {
		ws->state = ST_IDLE;
		return;
	}
	if (ws->reconnect_now) {
		/* Killed by gw_ws_reconfigure(): start over with the new settings at once. */
		ws->reconnect_now = false;
		addr_release(ws);
		ws->state = ST_WAIT;
		sul_in(ws, &ws->sul, ws_sul_cb, 1);
		return;
	}
	fail_classify(ws, wsi, why);
	if (ws->ai_next) {
		gw_log_debug("ocpp: %s: %s; trying the next address", ws->addr, why ? why : "failed");
		ws->state = ST_WAIT;
		sul_in(ws, &ws->sul, ws_sul_cb, 1);
		return;
	}
	attempt_failed(ws);
}

static void on_closed(struct gw_ws *ws)
{
	uint64_t up = gw_clock_mono_ms() - ws->opened_ms;

	ws->wsi = NULL;
	link_reset(ws);
	if (ws->stopped) {
		ws->state = ST_IDLE;
		return;
	}
	gw_backoff_settle(&ws->backoff, up, STABLE_MS);
	ws->state = ST_WAIT;
	if (ws->reconnect_now) {
		ws->reconnect_now = false;
		gw_log_info("ocpp: reconnecting to %s with security profile %d", ws->shown, ws->profile);
		sul_in(ws, &ws->sul, ws_sul_cb, 1);
	} else {
		uint32_t delay = next_delay(ws);

		gw_log_warn("ocpp: connection to %s lost after %llu s (%s); reconnecting in %.1f s", ws->shown,
			    (unsigned long long)up / 1000u, ws->reason[0] ? ws->reason : "closed", delay / 1000.0);
		sul_in(ws, &ws->sul, ws_sul_cb, (uint64_t)delay * 1000u);
	}
	ws->reason[0] = '\0';
	if (ws->h.on_close)
		ws->h.on_close(ws->h.user);
}

static void on_receive(struct gw_ws *ws, struct lws *wsi, const char *in, size_t len)
{
	ws->rx_seen += len;
	if (lws_frame_is_binary(wsi))
		ws->rx_binary = true;
	if (!ws->rx_drop && !ws->rx_binary) {
		if (ws->rx_len + len > GW_WS_MSG_MAX) {
			ws->rx_drop = true;
		} else {
			memcpy(ws->rx + ws->rx_len, in, len);
			ws->rx_len += len;
		}
	}
	if (!lws_is_final_fragment(wsi))
		return;
	if (ws->rx_binary)
		gw_log_warn("ocpp: dropped a binary message of %zu bytes (OCPP-J is text)", ws->rx_seen);
	else if (ws->rx_drop)
		gw_log_warn("ocpp: dropped a message of more than %d bytes", GW_WS_MSG_MAX);
	ws->rx[ws->rx_len] = '\0';
	bool deliver = !ws->rx_drop && !ws->rx_binary;
	size_t n = ws->rx_len;

	ws->rx_len = ws->rx_seen = 0;
	ws->rx_drop = ws->rx_binary = false;
	if (deliver && ws->h.on_text)
		ws->h.on_text(ws->h.user, ws->rx, n);
}

/* One write per writable callback: a PING first, then queued text, then a requested close. */
static int on_writeable(struct gw_ws *ws, struct lws *wsi)
{
	if (ws->want_ping) {
		unsigned char buf[LWS_PRE + 1];

		ws->want_ping = false;
		if (lws_write(wsi, buf + LWS_PRE, 0, LWS_WRITE_PING) < 0) {
			set_reason(ws, "writing a PING failed");
			return -1;
		}
	} else if (ws->tx_count) {
		struct tx_frame *f = &ws->tx[ws->tx_head];
		int n = lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);

		tx_pop(ws);
		if (n < 0) {
			set_reason(ws, "write failed");
			return -1;
		}
		rx_flow(ws);
	} else if (ws->want_close) {
		ws->state = ST_CLOSING;
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return -1;
	}
	if (ws->want_ping || ws->tx_count || ws->want_close)
		lws_callback_on_writable(wsi);
	return 0;
}

static int gw_ws_lws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			      size_t len)
{
	struct gw_ws *ws = user;

	/* Vhost-wide reasons carry no user, nor does a wsi detached by gw_ws_free(). */
	if (!ws)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return on_append_header(ws, wsi, in, len);
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
		check_subprotocol(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (ws->stopped)
			return -1;
		on_established(ws);
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (ws->wsi == wsi || (!ws->wsi && ws->state == ST_CONNECTING))
			on_connect_error(ws, wsi, in ? (const char *)in : NULL);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (ws->state == ST_OPEN)
			on_receive(ws, wsi, in, len);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		ws->awaiting_pong = false;
		ping_arm(ws);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return ws->state == ST_OPEN || ws->state == ST_CLOSING ? on_writeable(ws, wsi) : 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		set_reason(ws, "the server closed the connection (code %u)",
			   len >= 2 ? (unsigned)((const unsigned char *)in)[0] << 8 | ((const unsigned char *)in)[1] : 0u);
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (ws->wsi == wsi)
			on_closed(ws);
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		/* Passed on by the loop's protocol 0. A wsi that went without CLIENT_CLOSED or
		 * CONNECTION_ERROR (killed while connecting) ends here too. */
		if (ws->wsi == wsi) {
			if (ws->state == ST_CONNECTING)
				on_connect_error(ws, wsi, "closed while connecting");
			else
				on_closed(ws);
		}
		alive_remove(ws, wsi);
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols ws_protocol = { GW_WS_PROTOCOL, gw_ws_lws_callback, 0, 0, 0, NULL, 0 };

/* The loop offers our subprotocol on its vhosts: registered before any loop is made. */
__attribute__((constructor)) static void ws_register(void)
{
	gw_loop_register_protocol(&ws_protocol);
}

/* ---- public API ---- */

struct gw_ws *gw_ws_new(struct gw_loop *loop, const struct gw_ws_config *cfg, const struct gw_ws_handlers *h)
{
	struct gw_ws *ws;
	char why[96];

	if (gw_ws_check_config(cfg, why, sizeof(why)) != 0) {
		gw_log_error("ocpp: %s", why);
		return NULL;
	}
	ws = calloc(1, sizeof(*ws));
	if (!ws || !(ws->rx = malloc(GW_WS_MSG_MAX + 1))) {
		free(ws);
		gw_log_error("ocpp: out of memory");
		return NULL;
	}
	ws->loop = loop;
	ws->h = *h;
	gw_backoff_init(&ws->backoff, BACKOFF_MIN_MS, BACKOFF_MAX_MS, true);
	config_take(ws, cfg);
	if (ws->u.tls)
		vh_replace(ws, tls_vhost_for(ws, cfg), true);
	else
		vh_replace(ws, gw_loop_vhost(loop), false);
	if (!ws->vh) {
		gw_ws_free(ws);
		return NULL;
	}
	gw_log_info("ocpp: central system %s, security profile %d%s%s%s%s", ws->shown, ws->profile,
		    ws->u.tls ? (ws->ca_file[0] ? ", CA " : ", system CA store") : "", ws->u.tls ? ws->ca_file : "",
		    ws->cert_file[0] ? ", client certificate " : "", ws->cert_file);
	ws->state = ST_WAIT;
	sul_in(ws, &ws->sul, ws_sul_cb, 1);
	return ws;
}

int gw_ws_send(struct gw_ws *ws, const char *text, size_t len)
{
	struct tx_frame *f;

	if (ws->state != ST_OPEN || !ws->wsi)
		return -ENOTCONN;
	if (len > GW_WS_MSG_MAX)
		return -EMSGSIZE;
	if (ws->tx_count >= GW_WS_TX_FRAMES || ws->tx_bytes + len > GW_WS_TX_BYTES)
		return -ENOBUFS;
	f = &ws->tx[(ws->tx_head + ws->tx_count) % GW_WS_TX_FRAMES];
	f->buf = malloc(LWS_PRE + len + 1);
	if (!f->buf)
		return -ENOMEM;
	memcpy(f->buf + LWS_PRE, text, len);
	f->len = len;
	ws->tx_count++;
	ws->tx_bytes += len;
	lws_callback_on_writable(ws->wsi);
	rx_flow(ws);
	return 0;
}

bool gw_ws_is_open(const struct gw_ws *ws)
{
	return ws->state == ST_OPEN;
}

int gw_ws_attempts_failed(const struct gw_ws *ws)
{
	return ws->fails;
}

size_t gw_ws_pending(const struct gw_ws *ws)
{
	return ws->tx_count;
}

void gw_ws_set_ping_interval(struct gw_ws *ws, int seconds)
{
	ws->ping_s = seconds > 0 ? seconds : 0;
	gw_log_debug("ocpp: websocket ping every %d s%s", ws->ping_s, ws->ping_s ? "" : " (off)");
	ping_arm(ws);
}

int gw_ws_reconfigure(struct gw_ws *ws, const struct gw_ws_config *cfg)
{
	struct lws_vhost *vh = NULL;
	char why[96];

	if (ws->stopped)
		return -EINVAL;
	if (gw_ws_check_config(cfg, why, sizeof(why)) != 0 || strcmp(cfg->url, ws->url) != 0) {
		gw_log_error("ocpp: cannot change the connection settings: %s",
			     strcmp(cfg->url ? cfg->url : "", ws->url) ? "another URL needs a restart" : why);
		return -EINVAL;
	}
	/* The files are read again even under the same names: they may have been rewritten. */
	if (ws->u.tls && !(vh = tls_vhost_for(ws, cfg))) {
		gw_log_error("ocpp: cannot change the connection settings: the TLS files did not load");
		return -EIO;
	}
	config_take(ws, cfg);
	if (vh)
		vh_replace(ws, vh, true);
	ws->fails = 0;
	ws->quiet = false;
	gw_backoff_init(&ws->backoff, BACKOFF_MIN_MS, BACKOFF_MAX_MS, true);
	switch (ws->state) {
	case ST_OPEN:
		/* Still open until the queue is empty: the ChangeConfiguration answer, sent after this
		 * returns, goes out before the close. */
		ws->want_close = ws->reconnect_now = true;
		lws_callback_on_writable(ws->wsi);
		break;
	case ST_CONNECTING:
		ws->reconnect_now = true;
		ws_kill(ws);
		break;
	case ST_WAIT:
		sul_in(ws, &ws->sul, ws_sul_cb, 1);
		break;
	default:
		break;
	}
	ping_arm(ws);
	return 0;
}

void gw_ws_stop(struct gw_ws *ws)
{
	if (!ws || ws->stopped)
		return;
	ws->stopped = true;
	if (ws->state == ST_OPEN && ws->wsi) {
		/* The central system hears why (a charge point removed from the config, or the process
		 * ending). With a reason set, lws's own close writes the close frame at the next POLLOUT
		 * and waits at most 5 s for the answer, with no callback of ours in between, so it
		 * finishes after gw_ws_free() too. It must start now (KILL_SYNC): a wsi killed by its
		 * timeout (KILL_ASYNC) is marked unusable first and dies without a close frame. */
		lws_close_reason(ws->wsi, LWS_CLOSE_STATUS_GOINGAWAY, NULL, 0);
		ws->going_away = true;
		ws->state = ST_CLOSING;
		lws_set_timeout(ws->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
	}
	lws_sul_cancel(&ws->sul);
	lws_sul_cancel(&ws->sul_ping);
	lws_sul_cancel(&ws->sul_deadline);
	lws_sul_cancel(&ws->sul_vh);
	/* Freed at once where no wsi is left on them, else with the context (see gw_loop.h). */
	for (size_t i = 0; i < ws->n_retired; i++)
		gw_loop_tls_vhost_free(ws->retired[i]);
	ws->n_retired = 0;
	if (ws->vh_owned)
		gw_loop_tls_vhost_free(ws->vh);
	ws->vh = NULL;
	ws->vh_owned = false;
}

void gw_ws_free(struct gw_ws *ws)
{
	if (!ws)
		return;
	gw_ws_stop(ws);
	if (ws->wsi) {
		/* The context still runs: detach so no callback reaches freed memory, then let lws close.
		 * A close gw_ws_stop() began is left to finish: killing it again would cut its close
		 * frame short. */
		lws_set_wsi_user(ws->wsi, NULL);
		if (!ws->going_away)
			lws_set_timeout(ws->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		ws->wsi = NULL;
	}
	/* Closing ones too: their WSI_DESTROY is still to come. (After the context, none is left.) */
	for (size_t i = 0; i < ALIVE_MAX; i++)
		if (ws->alive[i].wsi)
			lws_set_wsi_user(ws->alive[i].wsi, NULL);
	link_reset(ws);
	gw_dns_release(ws->dns, true);
	addr_release(ws);
	explicit_bzero(ws->key, sizeof(ws->key));
	free(ws->rx);
	free(ws);
}
