/*
 * gw_mqtt_status: the bus, the central system and the policy on MQTT, commands back through gw_control,
 * and Home Assistant discovery (see gw_mqtt_status.h). State is published when the bus says something
 * changed (at most once a second) and every PUBLISH_EVERY_MS, each topic only when its payload
 * differs from the last one sent, so an idle garage costs the broker nothing. Everything is retained:
 * a client that subscribes later, Home Assistant after a restart, sees the state at once. After every
 * (re)connect everything is sent again, discovery included.
 */
#include "gw_mqtt_status.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "core_text.h"
#include "ems_policy.h"
#include "gw_bus.h"
#include "gw_control.h"
#include "gw_log.h"
#include "gw_mqtt.h"
#include "gw_ocpp.h"
#include "gw_policy.h"
#include "gw_timer.h"

#define PUBLISH_EVERY_MS 10000u
#define CHANGE_DELAY_MS 1000u
#define TOPIC_MAX 256
#define PAYLOAD_MAX 2048
#define SEEN_MAX TWC_MAX_KNOWN

struct seen {
	uint16_t id;
	bool announced;            /* discovery sent on this connection */
	bool present;              /* on the bus at the last publish */
	char last[PAYLOAD_MAX];    /* last state payload sent */
};

struct gw_mqtt_status {
	struct gw_loop *loop;
	const struct gw_config *cfg;
	struct gw_config_mqtt mc;
	struct gw_bus *bus;
	struct gw_ocpp *ocpp;
	struct gw_policy *policy;
	struct gw_control *control;
	struct gw_mqtt *m;
	char node[64];             /* the prefix as an id: "garage/twcgw" -> "garage_twcgw" */
	char topic_set[TOPIC_MAX];
	char last_gateway[PAYLOAD_MAX];
	struct seen seen[SEEN_MAX];
	lws_sorted_usec_list_t sul_every, sul_change;
	bool change_armed, stopped;
};

static const char *const state_names[] = {
	[TWC_SLAVE_ABSENT] = "unavailable", [TWC_SLAVE_IDLE] = "idle",   [TWC_SLAVE_PLUGGED] = "plugged",
	[TWC_SLAVE_CHARGING] = "charging",  [TWC_SLAVE_ERROR] = "error",
};

static void publish_json(struct gw_mqtt_status *s, const char *topic, json_t *j, char *last, size_t lastlen)
{
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(j);
	if (!text)
		return;
	if (!last || strcmp(text, last)) {
		if (gw_mqtt_publish(s->m, topic, text, strlen(text), true) == 0 && last)
			snprintf(last, lastlen, "%s", text);
	}
	free(text);
}

static void topic_of(const struct gw_mqtt_status *s, char *out, const char *fmt, const char *arg)
{
	char tail[TOPIC_MAX / 2];

	snprintf(tail, sizeof(tail), fmt, arg);
	snprintf(out, TOPIC_MAX, "%s/%s", s->mc.prefix, tail);
}

/* ---- Home Assistant discovery ---- */

static json_t *device_gateway(const struct gw_mqtt_status *s)
{
	char id[96];

	snprintf(id, sizeof(id), "twcgw_%s", s->node);
	return json_pack("{s:[s],s:s,s:s,s:s,s:s}", "identifiers", id, "name", "twcgw", "manufacturer", "twcgw",
			 "model", "Wall Connector Gen 2 gateway", "sw_version", TWCGW_VERSION);
}

static json_t *device_twc(const struct gw_mqtt_status *s, const char *hex)
{
	char id[96], via[96], name[48];

	snprintf(id, sizeof(id), "twcgw_%s_%s", s->node, hex);
	snprintf(via, sizeof(via), "twcgw_%s", s->node);
	snprintf(name, sizeof(name), "Wall Connector %s", hex);
	return json_pack("{s:[s],s:s,s:s,s:s,s:s}", "identifiers", id, "name", name, "manufacturer", "Tesla", "model",
			 "Wall Connector Gen 2", "via_device", via);
}

/* One entity: @component (sensor, select, number), @object its id within the device; @extra is merged
 * into the payload (taken). */
static void announce(struct gw_mqtt_status *s, const char *component, const char *object, const char *name,
		     const char *state_topic, const char *value_template, json_t *device, json_t *extra)
{
	char topic[TOPIC_MAX], uid[160], avail[TOPIC_MAX];
	json_t *j;

	snprintf(uid, sizeof(uid), "%s_%s", s->node, object);
	snprintf(topic, sizeof(topic), "%s/%s/%s/config", s->mc.discovery_prefix, component, uid);
	snprintf(avail, sizeof(avail), "%s/status", s->mc.prefix);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "name", name, "unique_id", uid, "object_id", uid, "state_topic",
		      state_topic, "value_template", value_template, "device", device);
	if (j) {
		json_object_set_new(j, "availability_topic", json_string(avail));
		if (extra)
			json_object_update(j, extra);
	}
	json_decref(extra);
	publish_json(s, topic, j, NULL, 0);
}

static json_t *current_sensor(void)
{
	return json_pack("{s:s,s:s,s:s}", "unit_of_measurement", "A", "device_class", "current", "state_class",
			 "measurement");
}

static void announce_gateway(struct gw_mqtt_status *s)
{
	char st[TOPIC_MAX], cmd[TOPIC_MAX];

	topic_of(s, st, "%s", "gateway");
	topic_of(s, cmd, "%s", "set/mode");
	announce(s, "sensor", "held_current", "Held current", st, "{{ value_json.heldAmps }}", device_gateway(s),
		 current_sensor());
	announce(s, "sensor", "policy_current", "Policy current", st, "{{ value_json.policy.amps }}",
		 device_gateway(s), current_sensor());
	announce(s, "sensor", "policy_reason", "Policy", st, "{{ value_json.policy.reason }}", device_gateway(s),
		 NULL);
	announce(s, "sensor", "central_system", "Central system", st, "{{ value_json.ocpp }}", device_gateway(s),
		 NULL);
	announce(s, "select", "mode", "Mode", st, "{{ value_json.policy.mode }}", device_gateway(s),
		 json_pack("{s:s,s:[s,s,s,s]}", "command_topic", cmd, "options", "off", "charge-now", "scheduled",
			   "track-green"));
}

static void announce_twc(struct gw_mqtt_status *s, uint16_t id)
{
	char hex[8], st[TOPIC_MAX], cmd[TOPIC_MAX], obj[64], tmpl[160];

	snprintf(hex, sizeof(hex), "%04X", id);
	topic_of(s, st, "twc/%s", hex);
	snprintf(cmd, sizeof(cmd), "%s/set/twc/%s/maxAmps", s->mc.prefix, hex);
	snprintf(obj, sizeof(obj), "%s_state", hex);
	announce(s, "sensor", obj, "State", st, "{{ value_json.state }}", device_twc(s, hex),
		 json_pack("{s:s,s:[s,s,s,s,s]}", "device_class", "enum", "options", "unavailable", "idle", "plugged",
			   "charging", "error"));
	snprintf(obj, sizeof(obj), "%s_measured", hex);
	announce(s, "sensor", obj, "Current", st, "{{ value_json.measuredAmps }}", device_twc(s, hex), current_sensor());
	snprintf(obj, sizeof(obj), "%s_offered", hex);
	announce(s, "sensor", obj, "Offered current", st, "{{ value_json.offeredAmps }}", device_twc(s, hex),
		 current_sensor());
	snprintf(obj, sizeof(obj), "%s_power", hex);
	announce(s, "sensor", obj, "Power", st, "{{ value_json.powerW }}", device_twc(s, hex),
		 json_pack("{s:s,s:s,s:s}", "unit_of_measurement", "W", "device_class", "power", "state_class",
			   "measurement"));
	snprintf(obj, sizeof(obj), "%s_max", hex);
	snprintf(tmpl, sizeof(tmpl), "{{ value_json.maxAmps if value_json.maxAmps is not none else %d }}",
		 s->cfg->twc.wiring_max_per_twc);
	announce(s, "number", obj, "Maximum current", st, tmpl, device_twc(s, hex),
		 json_pack("{s:s,s:i,s:i,s:i,s:s,s:s}", "command_topic", cmd, "min", 0, "max",
			   s->cfg->twc.wiring_max_per_twc, "step", 1, "unit_of_measurement", "A", "mode", "box"));
}

/* ---- state ---- */

static struct seen *seen_of(struct gw_mqtt_status *s, uint16_t id, bool make)
{
	struct seen *free_one = NULL;

	for (int i = 0; i < SEEN_MAX; i++) {
		if (s->seen[i].id == id)
			return &s->seen[i];
		if (!s->seen[i].id && !free_one)
			free_one = &s->seen[i];
	}
	if (!make || !free_one)
		return NULL;
	memset(free_one, 0, sizeof(*free_one));
	free_one->id = id;
	return free_one;
}

static void publish_twc(struct gw_mqtt_status *s, const struct twc_slave_info *in, uint16_t id)
{
	struct seen *e = seen_of(s, id, true);
	char hex[8], topic[TOPIC_MAX];
	int max = gw_control_max(s->control, id);
	int conn = s->ocpp ? gw_ocpp_connector_of(s->ocpp, id) : 0;
	json_t *j;

	if (!e)
		return;
	snprintf(hex, sizeof(hex), "%04X", id);
	if (s->mc.discovery && !e->announced) {
		announce_twc(s, id);
		e->announced = gw_mqtt_connected(s->m);
	}
	topic_of(s, topic, "twc/%s", hex);
	if (in) {
		double amps = isfinite(in->measured_amps) ? in->measured_amps : 0;
		char vin[sizeof(in->vin)];

		gw_bus_vin_text(in, vin, sizeof(vin));
		j = json_pack("{s:s,s:s,s:i,s:i,s:f,s:i,s:i,s:s}", "id", hex, "state",
			      state_names[in->status <= TWC_SLAVE_ERROR ? in->status : TWC_SLAVE_ERROR], "offeredAmps",
			      in->offered_amps, "heldAmps", in->held_amps, "measuredAmps", round(amps * 10) / 10,
			      "powerW", (int)lround(amps * s->cfg->twc.voltage * s->cfg->twc.phases), "capAmps",
			      in->cap_amps, "vin", vin);
	} else {
		j = json_pack("{s:s,s:s}", "id", hex, "state", "unavailable");
	}
	if (j) {
		json_object_set_new(j, "maxAmps", max >= 0 ? json_integer(max) : json_null());
		json_object_set_new(j, "connector", conn > 0 ? json_integer(conn) : json_null());
	}
	publish_json(s, topic, j, e->last, sizeof(e->last));
}

static void publish_all(struct gw_mqtt_status *s)
{
	const struct twc_bus *core = gw_bus_core(s->bus);
	struct gw_policy_state ps;
	char topic[TOPIC_MAX];
	bool here[SEEN_MAX] = {false};
	double measured = 0;
	int offered = 0;
	json_t *j;

	if (!gw_mqtt_connected(s->m))
		return;
	for (int slot = 0; core && slot < TWC_MAX_SLAVES; slot++) {
		struct twc_slave_info in;

		if (twc_bus_slave(core, slot, &in) != 0)
			continue;
		publish_twc(s, &in, in.id);
		for (int i = 0; i < SEEN_MAX; i++)
			if (s->seen[i].id == in.id)
				here[i] = s->seen[i].present = true;
		if (isfinite(in.measured_amps))
			measured += in.measured_amps;
		offered += in.offered_amps;
	}
	/* Gone from the bus: "unavailable", kept so a dashboard does not show a stale "charging". */
	for (int i = 0; i < SEEN_MAX; i++) {
		if (s->seen[i].id && s->seen[i].present && !here[i]) {
			s->seen[i].present = false;
			publish_twc(s, NULL, s->seen[i].id);
		}
	}
	gw_policy_state(s->policy, &ps);
	j = json_pack("{s:s,s:i,s:i,s:i,s:i,s:f,s:i,s:s,s:{s:s,s:s,s:i,s:s}}", "version", TWCGW_VERSION,
		      "wiringMaxAmpsAllTWCs", s->cfg->twc.wiring_max_all, "wiringMaxAmpsPerTWC",
		      s->cfg->twc.wiring_max_per_twc, "heldAmps", core ? twc_bus_held_total(core) : 0, "offeredAmps",
		      offered, "measuredAmps", round(measured * 10) / 10, "twcs", core ? twc_bus_slave_count(core) : 0,
		      "ocpp", !s->ocpp ? "off" : gw_ocpp_online(s->ocpp) ? "online" : "offline", "policy", "mode",
		      ems_policy_mode_name(ps.mode), "source", gw_control_policy_source(s->control), "amps", ps.amps,
		      "reason", ps.reason ? ps.reason : "");
	topic_of(s, topic, "%s", "gateway");
	publish_json(s, topic, j, s->last_gateway, sizeof(s->last_gateway));
}

static void every_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_mqtt_status *s = lws_container_of(sul, struct gw_mqtt_status, sul_every);

	if (s->stopped)
		return;
	publish_all(s);
	gw_timer_in(s->loop, NULL, &s->sul_every, every_cb, PUBLISH_EVERY_MS);
}

static void change_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_mqtt_status *s = lws_container_of(sul, struct gw_mqtt_status, sul_change);

	s->change_armed = false;
	if (!s->stopped)
		publish_all(s);
}

static void bus_changed(void *user)
{
	struct gw_mqtt_status *s = user;

	if (s->change_armed || s->stopped)
		return;
	s->change_armed = true;
	gw_timer_in(s->loop, NULL, &s->sul_change, change_cb, CHANGE_DELAY_MS);
}

/* ---- commands ---- */

static void result(struct gw_mqtt_status *s, const char *topic, int rc, const char *err)
{
	char rt[TOPIC_MAX];
	json_t *j = rc == 0 ? json_pack("{s:s,s:b}", "topic", topic, "ok", 1)
			    : json_pack("{s:s,s:b,s:s}", "topic", topic, "ok", 0, "error", err);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	topic_of(s, rt, "%s", "result");
	if (text)
		gw_mqtt_publish(s->m, rt, text, strlen(text), false);
	free(text);
}

/* "16", "-1", "clear" or "" (clear). */
static bool amps_parse(const char *text, int *out)
{
	char *end;
	long v;

	if (!text[0] || !strcmp(text, "clear") || !strcmp(text, "none")) {
		*out = -1;
		return true;
	}
	v = strtol(text, &end, 10);
	while (*end == ' ' || *end == '\n' || *end == '\r')
		end++;
	if (*end || v < -1 || v > 1000)
		return false;
	*out = (int)v;
	return true;
}

/* "twc/1A2B/maxAmps" -> 0x1A2B. */
static bool twc_topic(const char *what, uint16_t *id)
{
	char hex[5];

	if (strncmp(what, "twc/", 4) || strlen(what) != 4 + 4 + strlen("/maxAmps") || strcmp(what + 8, "/maxAmps"))
		return false;
	memcpy(hex, what + 4, 4);
	hex[4] = '\0';
	return core_text_hex16(hex, 4, id) == 0 && *id != 0;
}

static void on_message(void *user, const char *topic, const uint8_t *payload, size_t len)
{
	struct gw_mqtt_status *s = user;
	size_t pl = strlen(s->topic_set) - 1; /* "<prefix>/set/" */
	char text[4096], err[512] = "";
	const char *what = topic + pl;
	int rc = -EINVAL;
	uint16_t id;
	int amps;

	if (len >= sizeof(text)) {
		result(s, topic, -EMSGSIZE, "payload too large");
		return;
	}
	memcpy(text, payload, len);
	text[len] = '\0';
	if (strncmp(topic, s->topic_set, pl))
		return;
	if (!strcmp(what, "mode")) {
		rc = gw_control_set_policy(s->control, text, "mqtt", err, sizeof(err));
	} else if (twc_topic(what, &id)) {
		if (!amps_parse(text, &amps))
			snprintf(err, sizeof(err), "maxAmps: a whole number of amps, or \"clear\" (got \"%.40s\")", text);
		else
			rc = gw_control_set_max(s->control, (uint16_t)id, amps, "mqtt", err, sizeof(err));
	} else {
		snprintf(err, sizeof(err), "unknown command topic (mode, twc/<ID>/maxAmps)");
	}
	if (rc)
		gw_log_warn("mqtt: %s: %s", topic, err);
	else
		gw_log_info("mqtt: %s applied", topic);
	result(s, topic, rc, err);
	publish_all(s);
}

static void on_link(void *user, bool up)
{
	struct gw_mqtt_status *s = user;
	char topic[TOPIC_MAX];

	if (!up) {
		for (int i = 0; i < SEEN_MAX; i++) {
			s->seen[i].announced = false;
			s->seen[i].last[0] = '\0';
		}
		s->last_gateway[0] = '\0';
		return;
	}
	topic_of(s, topic, "%s", "status");
	gw_mqtt_publish(s->m, topic, "online", 6, true);
	if (s->mc.discovery)
		announce_gateway(s);
	publish_all(s);
}

struct gw_mqtt_status *gw_mqtt_status_new(struct gw_loop *loop, const struct gw_config *cfg, struct gw_bus *bus,
					  struct gw_ocpp *ocpp, struct gw_policy *policy, struct gw_control *control)
{
	struct gw_mqtt_status *s = calloc(1, sizeof(*s));
	struct gw_bus_observer obs = { .user = s, .on_change = bus_changed };
	struct gw_mqtt_handlers h = { .user = s, .on_message = on_message, .on_link = on_link };
	struct gw_mqtt_params p = { 0 };
	char will[TOPIC_MAX], client[160];
	const char *topics[1];

	if (!s)
		return NULL;
	s->loop = loop;
	s->cfg = cfg;
	s->mc = cfg->mqtt;
	s->bus = bus;
	s->ocpp = ocpp;
	s->policy = policy;
	s->control = control;
	snprintf(s->node, sizeof(s->node), "%s", s->mc.prefix);
	for (char *c = s->node; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			*c = '_';
	snprintf(s->topic_set, sizeof(s->topic_set), "%s/set/#", s->mc.prefix);
	snprintf(will, sizeof(will), "%s/status", s->mc.prefix);
	snprintf(client, sizeof(client), "twcgw-%s", s->node);
	topics[0] = s->topic_set;
	p.host = s->mc.host;
	p.port = s->mc.port;
	p.username = s->mc.username;
	p.password = s->mc.password;
	p.client_id = s->mc.client_id[0] ? s->mc.client_id : client;
	p.topics = topics;
	p.n_topics = 1;
	p.name = "mqtt";
	p.will_topic = will;
	p.will_payload = "offline";
	p.tls = s->mc.tls;
	p.ca_file = s->mc.ca_file[0] ? s->mc.ca_file : NULL;
	s->m = gw_mqtt_new(loop, &p, &h);
	if (!s->m || gw_bus_add_observer(bus, &obs) < 0) {
		gw_mqtt_free(s->m);
		free(s);
		return NULL;
	}
	gw_timer_in(loop, NULL, &s->sul_every, every_cb, PUBLISH_EVERY_MS);
	return s;
}

void gw_mqtt_status_stop(struct gw_mqtt_status *s)
{
	char topic[TOPIC_MAX];

	if (!s || s->stopped)
		return;
	s->stopped = true;
	lws_sul_cancel(&s->sul_every);
	lws_sul_cancel(&s->sul_change);
	gw_bus_remove_observer(s->bus, s);
	/* A clean stop says so itself; the last will is for the other kind. */
	topic_of(s, topic, "%s", "status");
	gw_mqtt_publish(s->m, topic, "offline", 7, true);
	gw_mqtt_stop(s->m);
}

void gw_mqtt_status_free(struct gw_mqtt_status *s)
{
	if (!s)
		return;
	gw_mqtt_free(s->m);
	free(s);
}
