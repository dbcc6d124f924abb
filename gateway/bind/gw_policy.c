/*
 * gw_policy: the ems_policy core and the ems_meter cores bound to the loop (see gw_policy.h). Each
 * meter's requests go out through the transport its type needs; the answers come back into its core
 * with the simulated time. The policy is evaluated whenever something it decides on may have changed:
 * a meter answered, the central system came or went (gw_ocpp_watch_online), the config was reloaded,
 * and at the earliest moment the same inputs would be decided differently. One lws_sul waits for
 * that moment (next_due()): a meter due to poll, the policy core's own deadline (delays, dwell,
 * schedule windows, until), a meter value ageing past its maxAge, the fallback after
 * policy.fallbackAfter; and never longer than GW_TIMER_MAX_MS (a wall clock that jumps is caught
 * within a minute). Only a gw_policy_source, which has no deadline of its own, is read every second.
 * The decision becomes the bus's policy cap. Nothing here decides amps: the policy core does, and the
 * bus keeps every wiring limit and the site's budget whether or not this timer runs.
 *
 * Trust on first use for https meters (trust LEARN, the default of powerwall and envoy): every
 * request of such a meter is pinned to the key of its host:port (curl checks it in the handshake,
 * before the request, and so the password or token, goes out). While no key is known, the meter's
 * requests are held here, not sent, and a probe goes out instead: a TLS handshake that sends nothing
 * at all (gw_http's pin_probe). The key it saw is stored in dataDir/meter-pins.json (atomic write,
 * gw_store) and only then are the held requests sent, pinned to it: a peer that showed that key to
 * the probe but not to them (a swap in between) gets nothing either. A key that no longer matches
 * fails every request with the expected and the seen key logged; "pin": "reset" on the meter (or
 * deleting its entry from the file) learns anew at the next start.
 */
#include "gw_policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "ems_meter.h"
#include "ems_policy.h"
#include "gw_core_params.h"
#include "gw_http.h"
#include "gw_log.h"
#include "gw_mqtt.h"
#include "gw_ocpp.h"
#include "gw_port.h"
#include "gw_store.h"
#include "gw_timer.h"

#define SOURCE_EVERY_MS 1000u /* a gw_policy_source's reading changes when it will: look every second */
#define HTTP_SLOTS 8        /* requests one meter may have in flight (HA: one per entity) */
#define HTTP_TIMEOUT_MS 10000
#define PINS_FILE "meter-pins.json"
#define PINS_FILE_MAX (64 * 1024)
#define ORIGIN_MAX 160

struct gw_policy;

struct http_slot {
	struct meter *m;
	uint32_t id;        /* the core's request id */
	bool busy;
	/* A request held until its meter knows the server's key; body and bearer may be secrets, so the
	 * copies are wiped when they go. */
	bool held;
	char method[8];
	char *url, *body, *content_type, *bearer;
};

struct meter {
	struct gw_policy *pol;
	struct gw_config_meter cfg;
	char name[48];
	struct ems_meter *core;
	struct gw_port *port;   /* solaredge-modbus */
	struct gw_mqtt *mqtt;   /* mqtt */
	bool reset_wanted;      /* the core asked for a new Modbus connection */
	struct http_slot http[HTTP_SLOTS];
	int index;              /* in the ems list, for "ems[N].pin" in messages */
	char origin[ORIGIN_MAX]; /* trust LEARN: "host:port", the meter's key in meter-pins.json */
	char pin[GW_CONFIG_PIN_MAX]; /* trust PIN/LEARN: what the key must match; "" while LEARN knows none */
	bool probing;           /* a probe for the key is out */
	bool pin_failing;       /* a key mismatch was logged: quiet until a request goes through again */
};

struct gw_policy {
	struct gw_loop *loop;
	const struct gw_clock *clock;
	struct gw_bus *bus;
	struct gw_ocpp *ocpp;
	struct gw_policy_source source;
	bool has_source;
	struct gw_config_policy cfg;
	int status_interval;
	struct ems_policy *core;
	struct gw_http *http;
	char data_dir[GW_CONFIG_PATH_MAX];
	json_t *pins;              /* meter-pins.json: "host:port" -> {pin, meter, learnt}; NULL until needed */
	struct meter meters[GW_CONFIG_EMS_MAX];
	int n_meters;
	int64_t wall0_ms;          /* real wall time at creation; wall = wall0 + simulated elapsed */
	uint64_t offline_since_ms; /* OCPP: when the central system was last seen going away; 0 online */
	bool stopped;
	struct ems_policy_decision last;
	bool have_last;
	bool applied;
	struct ems_reading reading;
	double charger_w;          /* the chargers' draw when a meter last answered (see data_arrived) */
	int share;                 /* charge points the meters' flows are divided among, 1 alone */
	lws_sorted_usec_list_t sul_tick;
	lws_sorted_usec_list_t sul_status;
};

static void tick_cb(lws_sorted_usec_list_t *sul);
static void status_cb(lws_sorted_usec_list_t *sul);
static void evaluate(struct gw_policy *pol);
static void tick_arm(struct gw_policy *pol);

/* Answers of @m that gave values so far: a change means fresh data. */
static unsigned meter_answers(const struct meter *m)
{
	struct ems_meter_stats st;

	ems_meter_stats(m->core, &st);
	return st.ok + st.messages;
}

/*
 * A meter's grid figure includes what the cars drew when it measured, so the surplus must add back
 * the draw of that moment, not of a later evaluation: between two polls a car ramping to its new
 * limit would otherwise look like more sun and feed back on itself. Called after a meter core was
 * handed an answer (@before: meter_answers() before that); a failed answer keeps the old pair.
 */
static void data_arrived(struct meter *m, unsigned before)
{
	if (meter_answers(m) != before)
		m->pol->charger_w = gw_bus_drawn_w(m->pol->bus);
	evaluate(m->pol);
}

static uint64_t now_ms(const struct gw_policy *pol)
{
	return gw_clock_now_ms(pol->clock);
}

/* ---- pins (trust on first use; see the top of this file) ---- */

/* "host:port" of an https url, the host in lower case, 443 when none is given. Return 0 or -EINVAL. */
static int origin_of(const char *url, char *out, size_t outlen)
{
	const char *host, *close;
	bool has_port;
	size_t n;

	if (strncmp(url, "https://", 8) != 0)
		return -EINVAL;
	host = url + 8;
	n = strcspn(host, "/?#");
	close = host[0] == '[' ? memchr(host, ']', n) : NULL;
	has_port = close ? (size_t)(close - host) + 1 < n : memchr(host, ':', n) != NULL;
	if (!n || n + 5 >= outlen)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] - 'A' + 'a' : host[i]);
	snprintf(out + n, outlen - n, "%s", has_port ? "" : ":443");
	return 0;
}

/* The stored pin of @origin, or NULL. */
static const char *pins_get(const struct gw_policy *pol, const char *origin)
{
	json_t *e = pol->pins ? json_object_get(pol->pins, origin) : NULL;

	return json_string_value(json_object_get(e, "pin"));
}

/* dataDir/meter-pins.json into pol->pins. A file that is there but cannot be read stops the start:
 * carrying on would learn every key anew, which is just what the file is there to prevent. */
static int pins_load(struct gw_policy *pol)
{
	json_error_t jerr;
	const char *origin;
	json_t *e;
	char *buf = NULL;
	size_t len = 0;
	int rc = gw_store_read(pol->data_dir, PINS_FILE, &buf, &len, PINS_FILE_MAX);

	if (rc == -ENOENT) {
		pol->pins = json_object();
		return pol->pins ? 0 : -ENOMEM;
	}
	if (rc < 0) {
		gw_log_error("%s/" PINS_FILE ": %s", pol->data_dir, strerror(-rc));
		return rc;
	}
	pol->pins = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	rc = json_is_object(pol->pins) ? 0 : -EINVAL;
	json_object_foreach(pol->pins, origin, e) {
		const char *pin = json_string_value(json_object_get(e, "pin"));

		if (!pin || strncmp(pin, GW_HTTP_PIN_PREFIX, sizeof(GW_HTTP_PIN_PREFIX) - 1) != 0 ||
		    strlen(pin) != GW_HTTP_PIN_LEN)
			rc = -EINVAL;
	}
	if (rc) {
		gw_log_error("%s/" PINS_FILE ": not an object of {\"pin\": \"sha256//...\"} by host:port%s%s; fix it, "
			     "or delete it to learn every meter's key anew", pol->data_dir, pol->pins ? "" : ": ",
			     pol->pins ? "" : jerr.text);
		json_decref(pol->pins);
		pol->pins = NULL;
	}
	return rc;
}

/* Record @pin as the key of @m's origin and store the file. Return 0 or -errno (nothing recorded). */
static int pins_put(struct gw_policy *pol, const struct meter *m, const char *pin)
{
	char when[32] = "", *text;
	struct timespec ts;
	struct tm tm;
	json_t *e;
	int rc;

	gw_clock_wall(&ts);
	if (gmtime_r(&ts.tv_sec, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	e = json_pack("{s:s, s:s, s:s}", "pin", pin, "meter", m->name, "learnt", when);
	if (!e || json_object_set_new(pol->pins, m->origin, e) != 0)
		return -ENOMEM;
	text = json_dumps(pol->pins, JSON_INDENT(2) | JSON_SORT_KEYS);
	rc = text ? gw_store_write(pol->data_dir, PINS_FILE, text, strlen(text), 0600) : -ENOMEM;
	free(text);
	if (rc)
		json_object_del(pol->pins, m->origin);
	return rc;
}

static void pin_mismatch(struct meter *m, const char *seen)
{
	struct gw_policy *pol = m->pol;
	bool learnt = m->cfg.trust == GW_METER_TRUST_LEARN;

	if (m->pin_failing)
		return;
	m->pin_failing = true;
	if (learnt)
		gw_log_error("%s: %s showed another TLS key than the one pinned: expected %s, seen %s; nothing was "
			     "sent. If the device was replaced or reset, set \"pin\": \"reset\" on ems[%d] (or delete "
			     "\"%s\" from %s/" PINS_FILE ") and restart to learn the new key; if not, something else "
			     "answers at that address", m->name, m->origin, m->pin, seen[0] ? seen : "(unknown)",
			     m->index, m->origin, pol->data_dir);
	else
		gw_log_error("%s: %s showed another TLS key than ems[%d].pin: expected %s, seen %s; nothing was "
			     "sent. If the device's key really changed, check the new one and put it in ems[%d].pin "
			     "(or \"pin\": \"reset\" to learn it)", m->name, m->cfg.url, m->index, m->pin,
			     seen[0] ? seen : "(unknown)", m->index);
}

static void slot_held_free(struct http_slot *slot)
{
	char **s[] = { &slot->url, &slot->body, &slot->content_type, &slot->bearer };

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (*s[i])
			explicit_bzero(*s[i], strlen(*s[i]));
		free(*s[i]);
		*s[i] = NULL;
	}
	slot->held = false;
}

/* ---- meter transports ---- */

static void meter_log(void *user, enum core_log_level level, const char *msg)
{
	struct meter *m = user;

	gw_log(gw_log_level_from_core(level), "%s: %s", m->name, msg);
}

static void http_done(void *user, const struct gw_http_resp *r)
{
	struct http_slot *slot = user;
	struct meter *m = slot->m;
	unsigned before;

	slot->busy = false;
	if (m->pol->stopped)
		return;
	if (r->status == -EKEYREJECTED)
		pin_mismatch(m, r->pin);
	else if (r->status > 0)
		m->pin_failing = false;
	before = meter_answers(m);
	ems_meter_http_done(m->core, slot->id, r->status, r->body, r->len, now_ms(m->pol));
	data_arrived(m, before);
}

/* @req out on @slot, trusted as the meter's config says. Return 0 or -errno. */
static int slot_send(struct meter *m, struct http_slot *slot, const struct ems_meter_http_req *req)
{
	struct gw_http_req r;
	long rc;

	memset(&r, 0, sizeof(r));
	r.method = req->method;
	r.url = req->url;
	r.body = req->body;
	r.content_type = req->content_type;
	r.bearer = req->bearer;
	switch (m->cfg.trust) {
	case GW_METER_TRUST_CA:
		r.ca_file = m->cfg.ca_file;
		break;
	case GW_METER_TRUST_INSECURE:
		r.insecure = true;
		break;
	case GW_METER_TRUST_PIN:
	case GW_METER_TRUST_LEARN:
		/* Never unpinned: meter_http() holds a LEARN meter's requests until its key is known. */
		if (!m->pin[0])
			return -ENOKEY;
		r.pin = m->pin;
		break;
	case GW_METER_TRUST_SYSTEM:
		break;
	}
	r.timeout_ms = HTTP_TIMEOUT_MS;
	r.max_body = 256 * 1024;
	slot->m = m;
	slot->id = req->id;
	slot->busy = true;
	rc = gw_http_request(m->pol->http, &r, http_done, slot);
	if (rc < 0) {
		slot->busy = false;
		return (int)rc;
	}
	return 0;
}

/* The held requests of @m: sent, pinned to the key now known, or failed with @status. */
static void held_release(struct meter *m, int status)
{
	int idx[HTTP_SLOTS], n = 0;

	for (int i = 0; i < HTTP_SLOTS; i++)
		if (m->http[i].held)
			idx[n++] = i;
	for (int k = 0; k < n; k++) {
		struct http_slot *slot = &m->http[idx[k]];
		struct ems_meter_http_req req = {
			.id = slot->id, .method = slot->method, .url = slot->url, .body = slot->body,
			.content_type = slot->content_type, .bearer = slot->bearer,
		};
		unsigned before;
		int rc = m->pin[0] ? slot_send(m, slot, &req) : (status < 0 ? status : -EPROTO);

		slot_held_free(slot);
		if (rc == 0)
			continue;
		/* Into the core only now: it may start its next request from here, on any free slot. */
		slot->busy = false;
		before = meter_answers(m);
		ems_meter_http_done(m->core, req.id, rc, "", 0, now_ms(m->pol));
		data_arrived(m, before);
	}
}

static void probe_done(void *user, const struct gw_http_resp *r)
{
	struct meter *m = user;
	struct gw_policy *pol = m->pol;
	int status = r->status;

	m->probing = false;
	if (pol->stopped)
		return;
	if (status == 0) {
		int rc = pins_put(pol, m, r->pin);

		if (rc == 0) {
			snprintf(m->pin, sizeof(m->pin), "%s", r->pin);
			gw_log_info("%s: learnt the TLS key of %s: %s (trust on first use, stored in %s/" PINS_FILE
				    "); from now on only this key is trusted", m->name, m->origin, m->pin, pol->data_dir);
		} else {
			gw_log_error("%s: cannot store the TLS key of %s in %s/" PINS_FILE ": %s; nothing sent, trying "
				     "again at the next poll", m->name, m->origin, pol->data_dir, strerror(-rc));
			status = rc;
		}
	}
	held_release(m, status);
}

/* Hold @req on @slot and make sure a probe for the key is out. Return 0 or -errno (nothing held). */
static int hold(struct meter *m, struct http_slot *slot, const struct ems_meter_http_req *req)
{
	struct gw_http_req probe = { .method = "GET", .url = m->cfg.url, .pin_probe = true,
				     .timeout_ms = HTTP_TIMEOUT_MS };
	long rc;

	snprintf(slot->method, sizeof(slot->method), "%s", req->method);
	slot->url = strdup(req->url);
	slot->body = req->body ? strdup(req->body) : NULL;
	slot->content_type = req->content_type ? strdup(req->content_type) : NULL;
	slot->bearer = req->bearer ? strdup(req->bearer) : NULL;
	if (!slot->url || (req->body && !slot->body) || (req->content_type && !slot->content_type) ||
	    (req->bearer && !slot->bearer)) {
		slot_held_free(slot);
		return -ENOMEM;
	}
	if (!m->probing) {
		rc = gw_http_request(m->pol->http, &probe, probe_done, m);
		if (rc < 0) {
			slot_held_free(slot);
			return (int)rc;
		}
		m->probing = true;
		gw_log_info("%s: no TLS key known for %s yet: a handshake that sends nothing learns it first",
			    m->name, m->origin);
	}
	slot->m = m;
	slot->id = req->id;
	slot->held = true;
	slot->busy = true;
	return 0;
}

static int meter_http(void *user, const struct ems_meter_http_req *req)
{
	struct meter *m = user;
	struct http_slot *slot = NULL;

	for (int i = 0; i < HTTP_SLOTS && !slot; i++)
		if (!m->http[i].busy)
			slot = &m->http[i];
	if (!slot)
		return -EBUSY;
	if (m->cfg.trust == GW_METER_TRUST_LEARN && !m->pin[0]) {
		/* Another meter at the same host:port may have learnt it meanwhile. */
		const char *known = pins_get(m->pol, m->origin);

		if (known)
			snprintf(m->pin, sizeof(m->pin), "%s", known);
		else
			return hold(m, slot, req);
	}
	return slot_send(m, slot, req);
}

static int meter_modbus_write(void *user, const uint8_t *bytes, size_t len)
{
	struct meter *m = user;

	return m->port ? gw_port_write(m->port, bytes, len) : -ENOTCONN;
}

static void meter_modbus_reset(void *user)
{
	struct meter *m = user;

	/* Asked from inside the port's own callbacks: replace the port from the next tick instead. */
	m->reset_wanted = true;
	gw_timer_in(m->pol->loop, NULL, &m->pol->sul_tick, tick_cb, 0);
}

static void port_rx(void *user, const uint8_t *bytes, size_t len)
{
	struct meter *m = user;

	unsigned before = meter_answers(m);

	ems_meter_modbus_rx(m->core, bytes, len, now_ms(m->pol));
	data_arrived(m, before);
}

static void port_up(void *user)
{
	struct meter *m = user;

	ems_meter_modbus_up(m->core, now_ms(m->pol));
}

static void port_down(void *user)
{
	struct meter *m = user;

	ems_meter_modbus_down(m->core, now_ms(m->pol));
}

static int port_open(struct meter *m)
{
	char spec[GW_PORT_SPEC_MAX];
	bool v6 = strchr(m->cfg.host, ':') != NULL;

	snprintf(spec, sizeof(spec), "tcp://%s%s%s:%d", v6 ? "[" : "", m->cfg.host, v6 ? "]" : "", m->cfg.port);
	m->port = gw_port_new(m->pol->loop, spec, &(struct gw_port_handlers){
		.user = m, .on_rx = port_rx, .on_up = port_up, .on_down = port_down });
	if (!m->port)
		return -ENOMEM;
	return gw_port_start(m->port);
}

static void mqtt_message(void *user, const char *topic, const uint8_t *payload, size_t len)
{
	struct meter *m = user;

	unsigned before = meter_answers(m);

	ems_meter_mqtt_message(m->core, topic, payload, len, now_ms(m->pol));
	data_arrived(m, before);
}

static void mqtt_link(void *user, bool up)
{
	struct meter *m = user;

	ems_meter_mqtt_link(m->core, up, now_ms(m->pol));
}

static int mqtt_open(struct meter *m)
{
	const char *topics[EMS_NVALUES];
	struct gw_mqtt_params p;
	size_t n = 0;

	for (int v = 0; v < EMS_NVALUES; v++) {
		const char *t = ems_meter_mqtt_topic(m->core, (enum ems_value)v);
		bool dup = false;

		for (size_t i = 0; t && i < n; i++)
			dup = dup || strcmp(topics[i], t) == 0;
		if (t && !dup)
			topics[n++] = t;
	}
	memset(&p, 0, sizeof(p));
	p.host = m->cfg.host;
	p.port = m->cfg.port;
	p.username = m->cfg.username;
	p.password = m->cfg.password;
	p.topics = topics;
	p.n_topics = n;
	p.name = m->name;
	m->mqtt = gw_mqtt_new(m->pol->loop, &p, &(struct gw_mqtt_handlers){
		.user = m, .on_message = mqtt_message, .on_link = mqtt_link });
	return m->mqtt ? 0 : -EIO;
}

/* What an https meter trusts, said once at start; a LEARN meter's stored key looked up (or forgotten). */
static int meter_trust_start(struct gw_policy *pol, struct meter *m)
{
	const struct gw_config_meter *c = &m->cfg;
	const char *stored;

	switch (c->trust) {
	case GW_METER_TRUST_INSECURE:
		if (c->password[0] || c->token[0])
			gw_log_warn("%s: insecure: true: the TLS certificate of %s is not checked, so the %s goes to "
				    "whoever answers at that address; remove insecure to pin the device's key at the "
				    "first connection, or set caFile", m->name, c->url, c->password[0] ? "password" : "token");
		else
			gw_log_warn("%s: insecure: true: the TLS certificate of %s is not checked, so the readings "
				    "come from whoever answers at that address; remove insecure to pin its key, or set "
				    "caFile", m->name, c->url);
		return 0;
	case GW_METER_TRUST_PIN:
		snprintf(m->pin, sizeof(m->pin), "%s", c->pin);
		return 0;
	case GW_METER_TRUST_LEARN:
		break;
	case GW_METER_TRUST_SYSTEM:
	case GW_METER_TRUST_CA:
		return 0;
	}
	if (origin_of(c->url, m->origin, sizeof(m->origin)) != 0) {
		gw_log_error("%s: cannot tell host and port in %s", m->name, c->url);
		return -EINVAL;
	}
	if (!pol->pins && pins_load(pol) != 0)
		return -EINVAL;
	stored = pins_get(pol, m->origin);
	if (c->pin_reset) {
		gw_log_warn("%s: \"pin\": \"reset\": %s%s%s; the key of %s is learnt anew at the first connection. "
			    "Remove \"pin\": \"reset\" from ems[%d] once it is, or every start learns anew", m->name,
			    stored ? "the stored TLS key " : "no TLS key stored", stored ? stored : "",
			    stored ? " is forgotten" : "", m->origin, m->index);
		json_object_del(pol->pins, m->origin);
	} else if (stored) {
		snprintf(m->pin, sizeof(m->pin), "%s", stored);
		gw_log_info("%s: TLS key of %s pinned: %s (learnt earlier, %s/" PINS_FILE ")", m->name, m->origin,
			    m->pin, pol->data_dir);
	}
	return 0;
}

static int meter_start(struct gw_policy *pol, struct meter *m, const struct gw_config_meter *c, int index)
{
	struct gw_meter_core_params mp;
	struct ems_meter_env env;

	m->pol = pol;
	m->cfg = *c;
	m->index = index;
	gw_core_params_meter(c, index, &mp);
	snprintf(m->name, sizeof(m->name), "%s", mp.name);
	memset(&env, 0, sizeof(env));
	env.user = m;
	env.http = meter_http;
	env.modbus_write = meter_modbus_write;
	env.modbus_reset = meter_modbus_reset;
	env.log = meter_log;
	m->core = ems_meter_new(&mp.p, &env, now_ms(pol));
	if (!m->core) {
		gw_log_error("%s: the meter core refused its settings", m->name);
		return -EINVAL;
	}
	if (c->type == EMS_METER_SOLAREDGE)
		return port_open(m);
	if (c->type == EMS_METER_MQTT)
		return mqtt_open(m);
	return meter_trust_start(pol, m);
}

/* ---- deciding ---- */

static int64_t wall_now(const struct gw_policy *pol)
{
	return pol->wall0_ms + (int64_t)gw_clock_elapsed_ms(pol->clock);
}

static void read_meters(struct gw_policy *pol, uint64_t now, struct ems_reading *out)
{
	struct ems_reading in[GW_CONFIG_EMS_MAX];
	unsigned gives[GW_CONFIG_EMS_MAX];

	if (pol->has_source) {
		/* A fresh reading at every evaluation: its draw is the one of now. */
		ems_reading_clear(out);
		pol->source.read(pol->source.user, now, out);
		pol->charger_w = gw_bus_drawn_w(pol->bus);
		return;
	}
	for (int i = 0; i < pol->n_meters; i++) {
		ems_meter_reading(pol->meters[i].core, now, &in[i]);
		gives[i] = ems_meter_gives(pol->meters[i].core);
	}
	ems_combine(in, gives, (size_t)pol->n_meters, out);
	/* Several charge points on one site: each sees its share of the flows (gw_policy_set_share). */
	if (pol->share > 1)
		for (int v = 0; v < EMS_NVALUES; v++)
			if (v != EMS_SOC && v != EMS_VOLTAGE)
				out->v[v] /= pol->share;
}

void gw_policy_set_share(struct gw_policy *pol, int n)
{
	pol->share = n > 1 ? n : 1;
}

/* Whether the decision is the bus's cap now (see the precedence in gw_policy.h). */
static bool policy_in_force(struct gw_policy *pol, uint64_t now)
{
	if (!pol->ocpp)
		return true;
	if (gw_ocpp_online(pol->ocpp)) {
		pol->offline_since_ms = 0;
		return pol->cfg.apply_with_csms;
	}
	if (!pol->offline_since_ms)
		pol->offline_since_ms = now ? now : 1;
	return pol->cfg.apply_with_csms || now - pol->offline_since_ms >= (uint64_t)pol->cfg.fallback_after * 1000u;
}

static void log_decision(struct gw_policy *pol, const struct ems_policy_decision *d, bool applied)
{
	const struct ems_policy_decision *o = &pol->last;
	bool big = !pol->have_last || (o->amps > 0) != (d->amps > 0) || o->mode != d->mode || pol->applied != applied;
	char surplus[32] = "";

	if (!isnan(d->surplus_w))
		snprintf(surplus, sizeof(surplus), ", surplus %.0f W", d->surplus_w);
	if (big)
		gw_log_info("policy %s: %d A (%s%s)%s", ems_policy_mode_name(d->mode), d->amps, d->reason, surplus,
			    applied ? "" : "; not applied: the central system decides");
	else if (o->amps != d->amps || strcmp(o->reason, d->reason) != 0)
		gw_log_debug("policy %s: %d A (%s%s)", ems_policy_mode_name(d->mode), d->amps, d->reason, surplus);
}

static void evaluate(struct gw_policy *pol)
{
	struct ems_policy_input in;
	struct ems_policy_decision d;
	struct tm tm;
	time_t secs;
	uint64_t now;
	bool applied;

	if (pol->stopped)
		return;
	now = now_ms(pol);
	memset(&in, 0, sizeof(in));
	in.now_ms = now;
	in.wall_ms = wall_now(pol);
	secs = (time_t)(in.wall_ms / 1000);
	localtime_r(&secs, &tm);
	in.wday = tm.tm_wday;
	in.minute = tm.tm_hour * 60 + tm.tm_min;
	read_meters(pol, now, &in.reading);
	in.charger_w = pol->charger_w;
	ems_policy_eval(pol->core, &in, &d);
	applied = policy_in_force(pol, now);
	log_decision(pol, &d, applied);
	gw_bus_set_policy_cap(pol->bus, applied ? d.amps : -1);
	pol->reading = in.reading;
	pol->last = d;
	pol->have_last = true;
	pol->applied = applied;
	/* The decision moved the core's deadline (an enable delay began), and fresh values age from
	 * now: the next look is due at the earliest of them. */
	tick_arm(pol);
}

/* ---- timers ---- */

static void earliest(uint64_t *next, uint64_t d)
{
	if (d < *next)
		*next = d;
}

/* The earliest moment the policy could decide differently with nothing arriving (see the top of
 * this file); UINT64_MAX when nothing is due. */
static uint64_t next_due(const struct gw_policy *pol, uint64_t now)
{
	uint64_t next = pol->has_source ? now + SOURCE_EVERY_MS : UINT64_MAX;

	for (int i = 0; i < pol->n_meters; i++) {
		const struct meter *m = &pol->meters[i];
		uint64_t max_age = (uint64_t)m->cfg.max_age_s * 1000u;

		if (m->reset_wanted)
			earliest(&next, now);
		earliest(&next, ems_meter_next_deadline(m->core));
		/* A value is read while it is at most maxAge old (ems_meter_reading()): the
		 * reading changes 1 ms after that, which the meter's poll deadline does not cover
		 * (an MQTT meter has none, a failing one keeps polling without a value). */
		for (int v = 0; v < EMS_NVALUES; v++) {
			uint64_t age = ems_meter_age_ms(m->core, (enum ems_value)v, now);

			if (age <= max_age)
				earliest(&next, now + (max_age - age) + 1);
		}
	}
	earliest(&next, ems_policy_next_deadline(pol->core));
	/* Away from the central system: the policy takes over policy.fallbackAfter after it went. */
	if (pol->ocpp && !pol->cfg.apply_with_csms && pol->offline_since_ms && !pol->applied)
		earliest(&next, pol->offline_since_ms + (uint64_t)pol->cfg.fallback_after * 1000u);
	return next;
}

static void tick_arm(struct gw_policy *pol)
{
	if (pol->stopped)
		return;
	/* Capped: at least once a minute whatever the deadlines say. */
	gw_timer_at(pol->loop, pol->clock, &pol->sul_tick, tick_cb, next_due(pol, now_ms(pol)), true);
}

/* The central system came or went (called from inside gw_ocpp): decide at the next loop turn. */
static void ocpp_online_changed(void *user)
{
	struct gw_policy *pol = user;

	if (!pol->stopped)
		gw_timer_in(pol->loop, NULL, &pol->sul_tick, tick_cb, 0);
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_policy *pol = lws_container_of(sul, struct gw_policy, sul_tick);
	uint64_t now = now_ms(pol);

	if (pol->stopped)
		return;
	for (int i = 0; i < pol->n_meters; i++) {
		struct meter *m = &pol->meters[i];

		if (m->reset_wanted) {
			m->reset_wanted = false;
			gw_port_free(m->port);
			m->port = NULL;
			ems_meter_modbus_down(m->core, now);
			if (port_open(m) != 0)
				gw_log_error("%s: cannot reopen the Modbus connection", m->name);
		}
		if (ems_meter_next_deadline(m->core) <= now)
			ems_meter_tick(m->core, now);
	}
	evaluate(pol); /* and the next tick */
}

void gw_policy_log_status(struct gw_policy *pol)
{
	const struct ems_reading *r = &pol->reading;
	char vals[160] = "";
	size_t used = 0;

	for (int v = 0; v < EMS_NVALUES && used < sizeof(vals); v++) {
		int n;

		if (isnan(r->v[v]))
			continue;
		n = snprintf(vals + used, sizeof(vals) - used, " %s %.0f%s", ems_value_name((enum ems_value)v), r->v[v],
			     v == EMS_SOC ? " %" : v == EMS_VOLTAGE ? " V" : " W");
		if (n > 0)
			used += (size_t)n;
	}
	gw_log_info("policy %s: %d A%s (%s);%s", ems_policy_mode_name(pol->last.mode), pol->last.amps,
		    pol->applied ? "" : " not applied", pol->last.reason, used ? vals : " no meter data");
	for (int i = 0; i < pol->n_meters; i++) {
		struct ems_meter_stats st;

		ems_meter_stats(pol->meters[i].core, &st);
		gw_log_info("%s: %u polls, %u ok, %u failed, %u malformed%s", pol->meters[i].name, st.polls, st.ok,
			    st.failed, st.malformed, st.failing ? " (failing)" : "");
	}
}

static void status_arm(struct gw_policy *pol)
{
	if (pol->status_interval <= 0 || pol->stopped)
		return;
	gw_timer_in(pol->loop, pol->clock, &pol->sul_status, status_cb, (uint64_t)pol->status_interval * 1000u);
}

static void status_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_policy *pol = lws_container_of(sul, struct gw_policy, sul_status);

	if (pol->stopped)
		return;
	gw_policy_log_status(pol);
	status_arm(pol);
}

/* ---- life cycle ---- */

struct gw_policy *gw_policy_new(struct gw_loop *loop, const struct gw_clock *clock, const struct gw_config *cfg,
				struct gw_bus *bus, struct gw_ocpp *ocpp, const struct gw_policy_source *source)
{
	struct ems_policy_params p;
	struct gw_policy *pol;
	struct timespec ts;
	char err[160];

	pol = calloc(1, sizeof(*pol));
	if (!pol)
		return NULL;
	pol->loop = loop;
	pol->clock = clock;
	pol->bus = bus;
	pol->ocpp = ocpp;
	pol->cfg = cfg->policy;
	pol->status_interval = cfg->log.status_interval;
	snprintf(pol->data_dir, sizeof(pol->data_dir), "%s", cfg->data_dir);
	gw_clock_wall(&ts);
	pol->wall0_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - (int64_t)gw_clock_elapsed_ms(clock);
	if (source) {
		pol->source = *source;
		pol->has_source = true;
	}
	gw_core_params_policy(&cfg->policy, &cfg->twc, &p);
	if (ems_policy_params_check(&p, err, sizeof(err)) != 0) {
		gw_log_error("policy: %s", err);
		free(pol);
		return NULL;
	}
	pol->core = ems_policy_new(&p);
	if (!pol->core) {
		free(pol);
		return NULL;
	}
	if (!source && cfg->ems.n) {
		pol->http = gw_http_new(loop);
		if (!pol->http)
			goto fail;
		for (int i = 0; i < cfg->ems.n; i++) {
			pol->n_meters = i + 1;
			if (meter_start(pol, &pol->meters[i], &cfg->ems.m[i], i) != 0)
				goto fail;
		}
	}
	gw_log_info("policy %s%s, %d meter%s%s", ems_policy_mode_name(cfg->policy.mode),
		    cfg->policy.has_until ? " until a set time" : "", pol->n_meters, pol->n_meters == 1 ? "" : "s",
		    ocpp ? (cfg->policy.apply_with_csms ? "; caps the central system's limits"
						        : "; applies when the central system is unreachable") : "");
	if (ocpp)
		gw_ocpp_watch_online(ocpp, ocpp_online_changed, pol);
	evaluate(pol); /* and the first tick */
	status_arm(pol);
	return pol;
fail:
	gw_policy_stop(pol);
	gw_policy_free(pol);
	return NULL;
}

void gw_policy_apply_config(struct gw_policy *pol, const struct gw_config *cfg)
{
	struct ems_policy_params p;

	gw_core_params_policy(&cfg->policy, &cfg->twc, &p);
	if (ems_policy_set_params(pol->core, &p) != 0) {
		gw_log_error("reload: the policy refused the new settings; keeping the running ones");
		return;
	}
	pol->cfg = cfg->policy;
	if (pol->status_interval != cfg->log.status_interval) {
		pol->status_interval = cfg->log.status_interval;
		lws_sul_cancel(&pol->sul_status);
		status_arm(pol);
	}
	evaluate(pol);
}

void gw_policy_state(const struct gw_policy *pol, struct gw_policy_state *out)
{
	struct ems_policy_stats st;

	ems_policy_stats(pol->core, &st);
	out->mode = pol->last.mode;
	out->amps = pol->last.amps;
	out->applied = pol->applied;
	out->surplus_w = pol->last.surplus_w;
	out->reading = pol->reading;
	out->reason = pol->last.reason;
	out->starts = st.starts;
	out->stops = st.stops;
}

void gw_policy_stop(struct gw_policy *pol)
{
	if (!pol)
		return;
	/* Once: gw_policy_free() stops again, and the charge point may be gone by then. */
	if (pol->ocpp && !pol->stopped)
		gw_ocpp_watch_online(pol->ocpp, NULL, NULL);
	pol->stopped = true;
	lws_sul_cancel(&pol->sul_tick);
	lws_sul_cancel(&pol->sul_status);
	if (pol->http)
		gw_http_stop(pol->http);
	for (int i = 0; i < pol->n_meters; i++) {
		/* Held requests never go out now; their copies of secrets go at once. */
		for (int k = 0; k < HTTP_SLOTS; k++)
			slot_held_free(&pol->meters[i].http[k]);
		if (pol->meters[i].port)
			gw_port_stop(pol->meters[i].port);
		if (pol->meters[i].mqtt)
			gw_mqtt_stop(pol->meters[i].mqtt);
	}
}

void gw_policy_free(struct gw_policy *pol)
{
	if (!pol)
		return;
	gw_policy_stop(pol);
	for (int i = 0; i < pol->n_meters; i++) {
		gw_port_free(pol->meters[i].port);
		gw_mqtt_free(pol->meters[i].mqtt);
		ems_meter_free(pol->meters[i].core);
	}
	gw_http_free(pol->http);
	json_decref(pol->pins);
	ems_policy_free(pol->core);
	free(pol);
}

int gw_policy_meter(const struct gw_policy *pol, int i, struct gw_policy_meter *out)
{
	static const enum ems_value order[] = { EMS_GRID, EMS_PV, EMS_LOAD };
	const struct meter *m;
	uint64_t now, best = UINT64_MAX;
	struct ems_reading r;
	struct ems_meter_stats st;

	if (i < 0 || i >= pol->n_meters)
		return -ENOENT;
	m = &pol->meters[i];
	now = gw_clock_now_ms(pol->clock);
	out->name = m->name;
	out->type = ems_meter_type_name(m->cfg.type);
	for (int v = 0; v < EMS_NVALUES; v++) {
		uint64_t age = ems_meter_age_ms(m->core, (enum ems_value)v, now);

		if (age < best)
			best = age;
	}
	out->age_s = best == UINT64_MAX ? NAN : (double)best / 1000.0;
	ems_meter_stats(m->core, &st);
	out->ok = best != UINT64_MAX && best <= (uint64_t)m->cfg.max_age_s * 1000u && !st.failing;
	ems_meter_reading(m->core, now, &r);
	out->value_w = NAN;
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]) && isnan(out->value_w); k++)
		out->value_w = r.v[order[k]];
	return 0;
}
