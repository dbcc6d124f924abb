/*
 * gw_mqtt: libmosquitto driven by the lws loop, never by libmosquitto's own thread or loop functions.
 * libmosquitto 2.0.11's "external loop" interface is what we use: mosquitto_connect_async() makes a
 * non-blocking socket and connect() returns at once (EINPROGRESS, or refused on the spot), after
 * which mosquitto_loop_read(), mosquitto_loop_write() and mosquitto_loop_misc() each do one
 * non-blocking step. A dup() of mosquitto_socket() is adopted into lws as a raw file; POLLIN becomes
 * loop_read, POLLOUT (asked for only while mosquitto_want_write()) becomes loop_write, and one lws_sul
 * ticking every second becomes loop_misc (keepalive PINGREQ, and the check that the broker answers).
 *
 * connect_async still calls a blocking getaddrinfo() on whatever host it is given, so it is only ever
 * given a numeric address: the name is resolved first with gw_dns, polled from the same sul. The sul
 * carries whatever the client is waiting for: the reconnect backoff, the DNS answer, or the keepalive
 * tick (which also times out a broker that accepts TCP but never answers CONNECT).
 *
 * Re-entrancy: libmosquitto calls our callbacks from inside loop_read/write/misc. Those callbacks only
 * record what happened (or hand a message out); anything that changes the connection (dropping the
 * adoption, reconnecting, a stop requested by a handler) happens in settle(), after the libmosquitto
 * call has returned.
 *
 * Ownership: lws closes the dup it adopted; libmosquitto closes its own socket, when it sees an error
 * or at the next connect or at mosquitto_destroy(). An adoption record lives until lws reports its
 * dup closed; it is the wsi's opaque pointer.
 *
 * Size: a payload over GW_MQTT_PAYLOAD_MAX (16 KiB) is dropped before the handler sees it, counted,
 * and logged at most once a minute (real time). That alone does not bound memory: libmosquitto reads
 * a whole packet (MQTT allows 256 MiB) before any callback and has no option to refuse a large one.
 * MQTT 5 lets the client say in CONNECT how large a packet it takes (Maximum Packet Size), and the
 * broker then drops larger messages for this client; so the client speaks MQTT 5 with PACKET_MAX
 * (256 KiB), set through proto_set(). A broker that only speaks 3.1.1 refuses MQTT 5 ("unacceptable
 * protocol version", as 3.1.1 requires) and is spoken to in 3.1.1 from the next attempt on, without
 * that bound: there only the drop on arrival applies.
 *
 * TLS: libmosquitto would check the broker's certificate against the address it connects to, which
 * here is numeric (gw_dns resolved it). So the client brings its own SSL_CTX: TLS 1.2 or later, the
 * chain verified against the CA file (or the system's), and the host name given in the config
 * checked by OpenSSL during the handshake, before CONNECT and its password go out.
 */
#include "gw_mqtt.h"

#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <net/if.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw_clock.h"
#include "gw_dns.h"
#include "gw_log.h"
#include "gw_loop.h"
#include "gw_rawfd.h"
#include "gw_timer.h"

#define DEFAULT_PORT 1883
#define DEFAULT_KEEPALIVE_S 30
#define BACKOFF_FIRST_S 1u
#define BACKOFF_MAX_S 30u
#define TICK_US LWS_US_PER_SEC
#define CONNECT_TIMEOUT_MS 10000u /* TCP accepted but no CONNACK/SUBACK: try again */
#define STABLE_MS 30000u          /* a session this old resets the backoff when it ends */
#define READS_PER_WAKE 32         /* packets read per POLLIN before giving the loop back */
#define MAX_TOPICS 64
#define FIELD_MAX 1024            /* client id, user, password, topic: longer is a config error */
#define HOST_MAX 255              /* a DNS name's limit, and gw_dns's */
#define NAME_MAX_LEN 64
#define REASON_MAX 192
#define PACKET_MAX (256u * 1024u)  /* MQTT 5 Maximum Packet Size: what libmosquitto may buffer */
#define DROP_LOG_MS 60000u         /* dropped messages are logged at most this often */

enum phase {
	PH_WAIT,        /* the sul makes the next attempt */
	PH_RESOLVING,   /* gw_dns in flight; the sul polls it */
	PH_CONNECTING,  /* socket adopted, CONNECT queued or sent; waiting for CONNACK */
	PH_SUBSCRIBING, /* CONNACK accepted; waiting for the SUBACK */
	PH_UP,          /* subscribed; on_link(true) has run */
};

/* One dup of a libmosquitto socket that lws polls; see the ownership note at the top. */
struct adoption {
	struct adoption *next;
	struct gw_mqtt *m;
	struct gw_rawfd rf; /* a dup() of libmosquitto's socket on the loop (lws closes it) */
};

struct gw_mqtt {
	struct gw_loop *loop;
	struct mosquitto *mosq;
	struct gw_mqtt_handlers h;
	lws_sorted_usec_list_t sul;
	enum phase phase;

	struct adoption *cur;       /* the adoption of libmosquitto's current socket, or NULL */
	struct adoption *adoptions; /* every live adoption: cur and the ones lws is still closing */
	struct gw_dns *dns;

	char *host;
	int port;
	int keepalive_s;
	char **topics;
	size_t n_topics;
	char name[NAME_MAX_LEN];
	char reason[REASON_MAX]; /* why the attempt in progress or the last link failed */

	int sub_mid;
	struct gw_backoff backoff;
	uint64_t connect_started_ms;
	uint64_t connack_ms; /* when the broker accepted this session, 0 before */

	bool in_mosq;       /* inside a libmosquitto call: its callbacks may run */
	bool lost;          /* libmosquitto reported the connection gone; settle() acts on it */
	bool stopped;
	bool torn_down;
	bool outage_logged; /* the current outage has had its one warning */
	bool lib_ref;
	bool v311;          /* the broker refused MQTT 5 (or libmosquitto could not set it up) */
	bool downgrade;     /* ... just now: settle() reconnects in 3.1.1 */
	bool proto_known;   /* a broker answered CONNACK, or refused MQTT 5 by the book */

	SSL_CTX *ssl_ctx;   /* with tls: ours, see the top of the file */
	uint32_t dropped;   /* messages over GW_MQTT_PAYLOAD_MAX */
	bool drop_logged;
	uint64_t drop_log_ms;
};

static unsigned lib_refs;
static unsigned instances;

static void on_tick(lws_sorted_usec_list_t *sul);

/* ---- small helpers ---- */

/* The reason the last attempt failed, for the log line that reports it. */
#define set_reason(o, ...) gw_log_fmt((o)->reason, sizeof((o)->reason), __VA_ARGS__)

static void sul_in(struct gw_mqtt *m, lws_usec_t us)
{
	lws_sul_schedule(gw_loop_context(m->loop), 0, &m->sul, on_tick, us);
}

static bool field_ok(const char *s)
{
	return s && s[0] && strnlen(s, FIELD_MAX) < FIELD_MAX;
}

static bool given(const char *s)
{
	return s && s[0];
}

/* A CONNACK or DISCONNECT reason: MQTT 5's codes are 128 and up, 3.1.1's CONNACK codes below. */
static const char *reason_text(int rc, bool connack)
{
	if (rc >= 128)
		return mosquitto_reason_string(rc);
	return connack ? mosquitto_connack_string(rc) : mosquitto_strerror(rc);
}

/* MQTT 5 with a Maximum Packet Size of PACKET_MAX, or 3.1.1. libmosquitto 2.0 takes CONNECT
 * properties only through mosquitto_connect_bind_v5(), which connects blocking; but it stores them,
 * for this and every later connect, before it checks its other arguments. Given a keepalive it
 * refuses (1 s) it stores them and returns MOSQ_ERR_INVAL without touching the network; NULL clears
 * them. Return 0 or -EPROTO. */
static int proto_set(struct gw_mqtt *m, bool v5)
{
	mosquitto_property *props = NULL;
	int rc;

	if (v5) {
		if (mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5) != MOSQ_ERR_SUCCESS ||
		    mosquitto_property_add_int32(&props, MQTT_PROP_MAXIMUM_PACKET_SIZE, PACKET_MAX) != MOSQ_ERR_SUCCESS) {
			mosquitto_property_free_all(&props);
			return -EPROTO;
		}
	}
	rc = mosquitto_connect_bind_v5(m->mosq, "", 0, 1, NULL, props);
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_INVAL)
		return -EPROTO;
	if (!v5 && mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311) != MOSQ_ERR_SUCCESS)
		return -EPROTO;
	return 0;
}

/* ---- adoptions ---- */

static const struct gw_rawfd_ops adoption_ops;

static int adopt(struct gw_mqtt *m)
{
	int s = mosquitto_socket(m->mosq);
	struct adoption *a;
	int rc;

	if (s < 0)
		return -ENOTCONN;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->m = m;
	rc = gw_rawfd_adopt(&a->rf, m->loop, s, true, &adoption_ops, a);
	if (rc < 0) {
		free(a);
		return rc;
	}
	a->next = m->adoptions;
	m->adoptions = a;
	m->cur = a;
	return 0;
}

/* Stop polling the current socket; lws closes the dup at its next turn and then frees the record. */
static void drop_current(struct gw_mqtt *m)
{
	struct adoption *a = m->cur;

	if (!a)
		return;
	m->cur = NULL;
	gw_rawfd_rx_enable(&a->rf, false);
	gw_rawfd_close(&a->rf);
}

static void adoption_unlink(struct gw_mqtt *m, struct adoption *a)
{
	struct adoption **pp;

	for (pp = &m->adoptions; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			return;
		}
	}
}

/* ---- connection state ---- */

static void retry_later(struct gw_mqtt *m)
{
	bool was_up = m->phase == PH_UP;
	unsigned delay;

	/* Only a session that lasted resets the backoff: a broker that accepts and drops us at once (a
	 * client id used twice, say) must not get a reconnect, and two log lines, every second. */
	if (m->connack_ms)
		gw_backoff_settle(&m->backoff, gw_clock_mono_ms() - m->connack_ms, STABLE_MS);
	m->connack_ms = 0;
	delay = gw_backoff_next(&m->backoff, 0) / 1000u;
	drop_current(m);
	m->phase = PH_WAIT;
	m->lost = false;
	/* Scheduled before the handler runs, so a gw_mqtt_stop() from inside it cancels the retry. */
	sul_in(m, (lws_usec_t)delay * LWS_US_PER_SEC);

	if (!m->reason[0])
		set_reason(m, "unknown error");
	/* One warning per outage: a broker away for a day must not fill the log. */
	if (was_up)
		gw_log_warn("%s: lost the connection to %s:%d (%s); reconnecting", m->name, m->host, m->port,
			    m->reason);
	else if (!m->outage_logged)
		gw_log_warn("%s: cannot connect to %s:%d (%s); retrying every %u s at most", m->name, m->host,
			    m->port, m->reason, BACKOFF_MAX_S);
	else
		gw_log_debug("%s: cannot connect to %s:%d (%s); next attempt in %u s", m->name, m->host, m->port,
			     m->reason, delay);
	m->outage_logged = true;
	if (was_up && m->h.on_link)
		m->h.on_link(m->h.user, false);
}

static void want_writable(struct gw_mqtt *m)
{
	if (m->cur && mosquitto_want_write(m->mosq))
		gw_rawfd_want_write(&m->cur->rf);
}

/* Disconnect politely if there is a session, and stop polling. */
static void teardown(struct gw_mqtt *m)
{
	if (m->torn_down)
		return;
	m->torn_down = true;
	lws_sul_cancel(&m->sul);
	if (m->cur && (m->phase == PH_SUBSCRIBING || m->phase == PH_UP) && mosquitto_socket(m->mosq) >= 0) {
		/* Written at once when the socket takes it (it nearly always does), so the broker logs a
		 * clean disconnect; otherwise the socket just closes at gw_mqtt_free(). Its callback sees
		 * m->stopped and does nothing. */
		m->in_mosq = true;
		mosquitto_disconnect(m->mosq);
		m->in_mosq = false;
	}
	drop_current(m);
	m->phase = PH_WAIT;
}

/* The broker refused MQTT 5: the next attempt, at once, speaks 3.1.1. */
static void downgrade(struct gw_mqtt *m)
{
	m->downgrade = false;
	m->v311 = true;
	m->proto_known = true;
	if (proto_set(m, false) != 0) {
		set_reason(m, "libmosquitto cannot switch to MQTT 3.1.1");
		retry_later(m);
		return;
	}
	gw_log_info("%s: %s:%d does not speak MQTT 5; using 3.1.1, where a message over %d bytes is dropped only "
		    "once it has arrived", m->name, m->host, m->port, GW_MQTT_PAYLOAD_MAX);
	drop_current(m);
	m->phase = PH_WAIT;
	m->lost = false;
	m->reason[0] = '\0';
	sul_in(m, 1);
}

/* Act on what libmosquitto's callbacks recorded; called after every libmosquitto call. */
static void settle(struct gw_mqtt *m)
{
	if (m->stopped) {
		teardown(m);
		return;
	}
	if (!m->lost && m->cur && mosquitto_socket(m->mosq) < 0) {
		/* Not expected (libmosquitto reports every close), but an unwatched session would be silent.
		 * A failed TLS handshake ends here too, its reason already recorded. */
		if (!m->reason[0])
			set_reason(m, "libmosquitto closed the socket");
		m->lost = true;
	}
	if (m->lost && m->downgrade) {
		downgrade(m);
		return;
	}
	/* A broker that drops an MQTT 5 CONNECT without a CONNACK (not by the book, but some do) would
	 * never hear 3.1.1: until one answers, each attempt that got no CONNACK switches protocol. */
	if (m->lost && m->phase == PH_CONNECTING && !m->proto_known) {
		m->v311 = !m->v311;
		if (proto_set(m, !m->v311) != 0) {
			m->v311 = true;
			(void)proto_set(m, false);
		}
	}
	if (m->lost) {
		retry_later(m);
		return;
	}
	want_writable(m);
}

/* ---- libmosquitto's callbacks (inside a libmosquitto call, so they only record) ---- */

static void set_up(struct gw_mqtt *m)
{
	m->phase = PH_UP;
	if (m->h.on_link)
		m->h.on_link(m->h.user, true);
}

static void mq_on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct gw_mqtt *m = obj;

	if (m->stopped || m->lost)
		return;
	if (rc != 0) {
		/* libmosquitto closes the connection and reports it next. A 3.1.1 broker answers MQTT 5
		 * with its own CONNACK 1, which libmosquitto reports as MQTT 5's 132. */
		if (!m->v311 && (rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION || rc == CONNACK_REFUSED_PROTOCOL_VERSION))
			m->downgrade = true;
		set_reason(m, "%s", reason_text(rc, true));
		return;
	}
	if (m->outage_logged)
		gw_log_info("%s: connected to %s:%d again", m->name, m->host, m->port);
	else
		gw_log_info("%s: connected to %s:%d", m->name, m->host, m->port);
	m->outage_logged = false;
	m->proto_known = true;
	m->connack_ms = gw_clock_mono_ms();
	m->reason[0] = '\0';
	if (!m->n_topics) {
		set_up(m);
		return;
	}
	/* A clean session forgets subscriptions, so every connect subscribes again, in one SUBSCRIBE. */
	m->phase = PH_SUBSCRIBING;
	rc = mosquitto_subscribe_multiple(mosq, &m->sub_mid, (int)m->n_topics, m->topics, 0, 0, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		set_reason(m, "subscribing: %s", mosquitto_strerror(rc));
		m->lost = true;
	}
}

static void mq_on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted)
{
	struct gw_mqtt *m = obj;

	(void)mosq;
	if (m->stopped || m->lost || m->phase != PH_SUBSCRIBING || mid != m->sub_mid)
		return;
	for (int i = 0; i < n && (size_t)i < m->n_topics; i++)
		if (granted[i] >= 0x80)
			gw_log_warn("%s: the broker refused the subscription to %s", m->name, m->topics[i]);
	set_up(m);
}

static void mq_on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	struct gw_mqtt *m = obj;

	(void)mosq;
	if (m->stopped || m->lost || !m->h.on_message || !msg->topic)
		return;
	if (msg->payloadlen > GW_MQTT_PAYLOAD_MAX) {
		uint64_t now = gw_clock_mono_ms();

		m->dropped++;
		if (!m->drop_logged || now - m->drop_log_ms >= DROP_LOG_MS) {
			gw_log_warn("%s: a message of %d bytes on %.128s is over %d bytes: dropped (%u so far)", m->name,
				    msg->payloadlen, msg->topic, GW_MQTT_PAYLOAD_MAX, (unsigned)m->dropped);
			m->drop_logged = true;
			m->drop_log_ms = now;
		}
		return;
	}
	m->h.on_message(m->h.user, msg->topic, msg->payloadlen > 0 ? msg->payload : (const void *)"",
			msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0);
}

static void mq_on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct gw_mqtt *m = obj;
	int err = errno;

	(void)mosq;
	if (m->stopped)
		return;
	if (!m->reason[0]) {
		if (rc == MOSQ_ERR_ERRNO)
			set_reason(m, "%s", strerror(err));
		else if (rc == MOSQ_ERR_CONN_LOST)
			set_reason(m, "the broker closed the connection");
		else if (rc == MOSQ_ERR_KEEPALIVE)
			set_reason(m, "no answer from the broker within the keepalive");
		else
			set_reason(m, "%s", reason_text(rc, false));
	}
	m->lost = true;
}

static void mq_on_log(struct mosquitto *mosq, void *obj, int level, const char *str)
{
	struct gw_mqtt *m = obj;

	(void)mosq;
	/* libmosquitto names packets, never their credentials. Debug only: it narrates every packet. But
	 * a TLS failure is only told here ("OpenSSL Error[0]: ... certificate verify failed"): that is
	 * the reason the next warning gives. */
	gw_log_debug("%s: libmosquitto: %s", m->name, str);
	if (level == MOSQ_LOG_ERR && strstr(str, "OpenSSL Error") && !m->stopped)
		set_reason(m, "TLS: %s", strstr(str, "]: ") ? strstr(str, "]: ") + 3 : str);
}

/* ---- attempts ---- */

/* Try each address in turn: a refusal on the spot (loopback, a local firewall) costs nothing. */
static int connect_any(struct gw_mqtt *m, const struct addrinfo *ai)
{
	for (const struct addrinfo *p = ai; p; p = p->ai_next) {
		char addr[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
		int rc, err, arc;

		if (getnameinfo(p->ai_addr, p->ai_addrlen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		m->in_mosq = true;
		rc = mosquitto_connect_async(m->mosq, addr, m->port, m->keepalive_s);
		err = errno;
		m->in_mosq = false;
		if (rc != MOSQ_ERR_SUCCESS) {
			/* A handshake that failed at once has its OpenSSL reason from mq_on_log(): keep it. */
			if (rc != MOSQ_ERR_TLS || strncmp(m->reason, "TLS: ", 5))
				set_reason(m, "%s: %s", addr, rc == MOSQ_ERR_ERRNO ? strerror(err) : mosquitto_strerror(rc));
			continue;
		}
		arc = adopt(m);
		if (arc != 0) {
			set_reason(m, "the event loop refused the socket: %s", strerror(-arc));
			return arc;
		}
		gw_log_debug("%s: connecting to %s port %d", m->name, addr, m->port);
		m->phase = PH_CONNECTING;
		m->connect_started_ms = gw_clock_mono_ms();
		sul_in(m, TICK_US);
		want_writable(m);
		return 0;
	}
	if (!m->reason[0])
		set_reason(m, "no usable address");
	return -ECONNREFUSED;
}

static void dns_poll(struct gw_mqtt *m)
{
	struct addrinfo *ai = NULL;
	int rc = gw_dns_result(m->dns, &ai);

	if (rc == EAI_INPROGRESS) {
		sul_in(m, GW_DNS_POLL_US);
		return;
	}
	gw_dns_release(m->dns, false);
	m->dns = NULL;
	if (rc != 0) {
		set_reason(m, "resolving %s: %s", m->host, gai_strerror(rc));
		retry_later(m);
		return;
	}
	rc = connect_any(m, ai);
	freeaddrinfo(ai);
	if (rc != 0)
		retry_later(m);
}

static void attempt(struct gw_mqtt *m)
{
	char service[8];
	int gai = 0;

	m->reason[0] = '\0';
	snprintf(service, sizeof(service), "%d", m->port);
	m->dns = gw_dns_start(m->host, service, &gai);
	if (!m->dns) {
		set_reason(m, "resolving %s: %s", m->host, gai_strerror(gai));
		retry_later(m);
		return;
	}
	m->phase = PH_RESOLVING;
	/* A numeric address is answered already. */
	dns_poll(m);
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct gw_mqtt *m = lws_container_of(sul, struct gw_mqtt, sul);

	if (m->stopped)
		return;
	switch (m->phase) {
	case PH_WAIT:
		attempt(m);
		return;
	case PH_RESOLVING:
		dns_poll(m);
		return;
	case PH_CONNECTING:
	case PH_SUBSCRIBING:
		if (gw_clock_mono_ms() - m->connect_started_ms >= CONNECT_TIMEOUT_MS) {
			set_reason(m, "no answer from the broker within %u s", CONNECT_TIMEOUT_MS / 1000);
			retry_later(m);
			return;
		}
		break;
	case PH_UP:
		break;
	}
	sul_in(m, TICK_US);
	m->in_mosq = true;
	mosquitto_loop_misc(m->mosq);
	m->in_mosq = false;
	settle(m);
}

/* ---- the "mqtt-sock" protocol ---- */

static void on_rx(struct gw_mqtt *m, int fd)
{
	/* loop_read handles one packet per call; keep going while the kernel holds more, up to a bound. */
	for (int i = 0; i < READS_PER_WAKE; i++) {
		int avail = 0;

		m->in_mosq = true;
		mosquitto_loop_read(m->mosq, 1);
		m->in_mosq = false;
		if (m->stopped || m->lost || mosquitto_socket(m->mosq) < 0)
			break;
		if (ioctl(fd, FIONREAD, &avail) != 0 || avail <= 0)
			break;
	}
	settle(m);
}

static void on_writeable(struct gw_mqtt *m)
{
	m->in_mosq = true;
	mosquitto_loop_write(m->mosq, 1);
	m->in_mosq = false;
	/* lws clears POLLOUT before this callback: settle() asks again while libmosquitto has more. */
	settle(m);
}

static void on_close(void *owner)
{
	struct adoption *a = owner;
	struct gw_mqtt *m = a->m;
	bool current = m->cur == a;

	adoption_unlink(m, a);
	free(a);
	if (!current)
		return;
	m->cur = NULL;
	if (m->stopped)
		return;
	/* lws saw a hang-up before libmosquitto did (a connect refused by a remote host, say); the next
	 * connect closes libmosquitto's socket. */
	if (!m->reason[0]) {
		int err = 0, s = mosquitto_socket(m->mosq);
		socklen_t el = sizeof(err);

		if (s >= 0 && getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err)
			set_reason(m, "%s", strerror(err));
		else
			set_reason(m, "the connection hung up");
	}
	retry_later(m);
}

static int adoption_on_rx(void *owner)
{
	struct adoption *a = owner;

	if (a == a->m->cur && !a->m->stopped)
		on_rx(a->m, a->rf.fd);
	return 0;
}

static int adoption_on_writeable(void *owner)
{
	struct adoption *a = owner;

	if (a == a->m->cur && !a->m->stopped)
		on_writeable(a->m);
	return 0;
}

static const struct gw_rawfd_ops adoption_ops = {
	.on_rx = adoption_on_rx,
	.on_writeable = adoption_on_writeable,
	.on_close = on_close,
};

/* ---- public API ---- */

static int params_check(const struct gw_mqtt_params *p, const char **why)
{
	if (!p->host || !p->host[0] || strnlen(p->host, HOST_MAX + 1) > HOST_MAX) {
		*why = "no host, or a host name too long";
		return -EINVAL;
	}
	if (p->port < 0 || p->port > 65535) {
		*why = "port out of range";
		return -EINVAL;
	}
	if (p->keepalive_s != 0 && (p->keepalive_s < 5 || p->keepalive_s > 65535)) {
		/* libmosquitto refuses less than 5 s; MQTT's field is 16 bits. */
		*why = "keepalive out of range (5..65535 s)";
		return -EINVAL;
	}
	if ((given(p->username) && !field_ok(p->username)) || (given(p->password) && !field_ok(p->password)) ||
	    (given(p->client_id) && !field_ok(p->client_id))) {
		*why = "user name, password or client id too long";
		return -EINVAL;
	}
	if (given(p->password) && !given(p->username)) {
		/* MQTT 3.1.1 has no password without a user name (3.1.2.9). */
		*why = "a password without a user name";
		return -EINVAL;
	}
	if (p->n_topics > MAX_TOPICS) {
		*why = "too many topics";
		return -EINVAL;
	}
	if (p->n_topics && !p->topics) {
		*why = "topics missing";
		return -EINVAL;
	}
	if (given(p->will_topic) && (!field_ok(p->will_topic) || mosquitto_pub_topic_check(p->will_topic) != MOSQ_ERR_SUCCESS ||
				     !p->will_payload || strlen(p->will_payload) > FIELD_MAX)) {
		*why = "a malformed last-will topic or payload";
		return -EINVAL;
	}
	for (size_t i = 0; i < p->n_topics; i++) {
		if (!field_ok(p->topics[i]) || mosquitto_sub_topic_check(p->topics[i]) != MOSQ_ERR_SUCCESS) {
			*why = "a malformed topic filter";
			return -EINVAL;
		}
	}
	return 0;
}

static SSL_CTX *tls_ctx_new(const char *host, const char *ca_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_VERIFY_PARAM *vp;
	unsigned char ip[16];
	bool is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;

	if (!ctx)
		return NULL;
	vp = SSL_CTX_get0_param(ctx);
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    (ca_file && ca_file[0] ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) : SSL_CTX_set_default_verify_paths(ctx)) != 1 ||
	    (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, host) : X509_VERIFY_PARAM_set1_host(vp, host, 0)) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

struct gw_mqtt *gw_mqtt_new(struct gw_loop *loop, const struct gw_mqtt_params *p, const struct gw_mqtt_handlers *h)
{
	const char *why = NULL;
	char client_id[FIELD_MAX + 1];
	struct gw_mqtt *m;
	const char *name = p && given(p->name) ? p->name : "mqtt";

	if (!loop || !p || !h || params_check(p, &why) != 0) {
		gw_log_error("%s: %s", name, why ? why : "missing loop, parameters or handlers");
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		goto oom;
	m->loop = loop;
	m->h = *h;
	m->port = p->port ? p->port : DEFAULT_PORT;
	m->keepalive_s = p->keepalive_s ? p->keepalive_s : DEFAULT_KEEPALIVE_S;
	gw_backoff_init(&m->backoff, BACKOFF_FIRST_S * 1000u, BACKOFF_MAX_S * 1000u, false);
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->host = strdup(p->host);
	if (!m->host)
		goto oom;
	if (p->n_topics) {
		m->topics = calloc(p->n_topics, sizeof(*m->topics));
		if (!m->topics)
			goto oom;
		for (; m->n_topics < p->n_topics; m->n_topics++) {
			m->topics[m->n_topics] = strdup(p->topics[m->n_topics]);
			if (!m->topics[m->n_topics])
				goto oom;
		}
	}

	if (lib_refs++ == 0)
		mosquitto_lib_init();
	m->lib_ref = true;
	instances++;
	if (given(p->client_id))
		snprintf(client_id, sizeof(client_id), "%s", p->client_id);
	else if (instances == 1)
		snprintf(client_id, sizeof(client_id), "twcgw-%ld", (long)getpid());
	else
		snprintf(client_id, sizeof(client_id), "twcgw-%ld-%u", (long)getpid(), instances);
	m->mosq = mosquitto_new(client_id, true, m);
	if (!m->mosq)
		goto oom;
	if (given(p->username) && mosquitto_username_pw_set(m->mosq, p->username, given(p->password) ? p->password : NULL) !=
					  MOSQ_ERR_SUCCESS)
		goto oom;
	if (given(p->will_topic) &&
	    mosquitto_will_set(m->mosq, p->will_topic, (int)strlen(p->will_payload), p->will_payload, 1, true) !=
		    MOSQ_ERR_SUCCESS)
		goto oom;
	if (p->tls) {
		m->ssl_ctx = tls_ctx_new(p->host, p->ca_file);
		/* Ours, without libmosquitto's defaults (they would check the numeric address); its own
		 * host check off for the same reason: OpenSSL checks @host in the handshake. */
		if (!m->ssl_ctx || mosquitto_int_option(m->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0) != MOSQ_ERR_SUCCESS ||
		    mosquitto_void_option(m->mosq, MOSQ_OPT_SSL_CTX, m->ssl_ctx) != MOSQ_ERR_SUCCESS ||
		    mosquitto_tls_insecure_set(m->mosq, true) != MOSQ_ERR_SUCCESS) {
			gw_log_error("%s: cannot set up TLS%s%s", name, p->ca_file ? " with " : "", p->ca_file ? p->ca_file : "");
			gw_mqtt_free(m);
			return NULL;
		}
	}
	mosquitto_connect_callback_set(m->mosq, mq_on_connect);
	mosquitto_disconnect_callback_set(m->mosq, mq_on_disconnect);
	mosquitto_subscribe_callback_set(m->mosq, mq_on_subscribe);
	mosquitto_message_callback_set(m->mosq, mq_on_message);
	mosquitto_log_callback_set(m->mosq, mq_on_log);
	if (proto_set(m, true) != 0) {
		gw_log_debug("%s: libmosquitto cannot set up MQTT 5; using 3.1.1", m->name);
		m->v311 = true;
		if (proto_set(m, false) != 0) {
			gw_log_error("%s: libmosquitto cannot set the MQTT version", name);
			gw_mqtt_free(m);
			return NULL;
		}
	}

	/* The first attempt at the next loop turn: no handler can run from inside gw_mqtt_new(). */
	m->phase = PH_WAIT;
	sul_in(m, 1);
	gw_log_debug("%s: client %s for %s:%d, %zu topic(s)", m->name, client_id, m->host, m->port, m->n_topics);
	return m;

oom:
	gw_log_error("%s: out of memory", name);
	gw_mqtt_free(m);
	return NULL;
}

bool gw_mqtt_connected(const struct gw_mqtt *m)
{
	return m && !m->stopped && m->phase == PH_UP;
}

int gw_mqtt_publish(struct gw_mqtt *m, const char *topic, const void *payload, size_t len, bool retain)
{
	int rc;

	if (!gw_mqtt_connected(m))
		return -ENOTCONN;
	if (len > GW_MQTT_PAYLOAD_MAX * 16u)
		return -EMSGSIZE;
	m->in_mosq = true;
	rc = mosquitto_publish(m->mosq, NULL, topic, (int)len, payload, 1, retain);
	m->in_mosq = false;
	if (rc == MOSQ_ERR_INVAL || rc == MOSQ_ERR_MALFORMED_UTF8)
		return -EINVAL;
	if (rc == MOSQ_ERR_NOMEM)
		return -ENOMEM;
	if (rc != MOSQ_ERR_SUCCESS)
		return -ENOTCONN; /* the loss shows at the next read */
	want_writable(m);
	return 0;
}

uint32_t gw_mqtt_dropped(const struct gw_mqtt *m)
{
	return m ? m->dropped : 0;
}

void gw_mqtt_stop(struct gw_mqtt *m)
{
	if (!m || m->stopped)
		return;
	m->stopped = true;
	lws_sul_cancel(&m->sul);
	/* From a handler, libmosquitto is mid-call: settle() finishes the job when it returns. */
	if (!m->in_mosq)
		teardown(m);
}

void gw_mqtt_free(struct gw_mqtt *m)
{
	if (!m)
		return;
	gw_mqtt_stop(m);
	/* Records still listed have live wsis, so the context still runs: detach them and let lws close
	 * the dups at its next turn. */
	while (m->adoptions) {
		struct adoption *a = m->adoptions;

		m->adoptions = a->next;
		gw_rawfd_detach(&a->rf);
		free(a);
	}
	/* The resolver thread may still write into a request; this is teardown, so waiting is allowed. */
	gw_dns_release(m->dns, true);
	if (m->mosq)
		mosquitto_destroy(m->mosq);
	SSL_CTX_free(m->ssl_ctx); /* after: libmosquitto leaves a context it was given alone */
	for (size_t i = 0; i < m->n_topics; i++)
		free(m->topics[i]);
	free(m->topics);
	free(m->host);
	if (m->lib_ref && --lib_refs == 0)
		mosquitto_lib_cleanup();
	free(m);
}
