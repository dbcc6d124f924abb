/*
 * gw_config: load the daemon's JSON config into struct gw_config. All keys live in one table
 * (key_table below): adding a key (tesla.*, ems) is one line there, one field in the struct and, if
 * its value needs more than a type and range, one small check function in the file of its section
 * (gw_config_ocpp.c, gw_config_policy.c, gw_config_meters.c; times in gw_config_time.c). This file
 * walks the table: the same table drives the unknown-key check, the defaults and the messages, so they
 * cannot drift apart; then it runs each section's cross-key checks and, last, the dataDir check.
 */
#include "gw_config.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_config_internal.h"

static int parse_port(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen);
static int parse_topic_prefix(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen);
static int parse_master_id(const struct key_spec *k, const char *value, void *field, char *why,
			   size_t whylen);
static bool phases_ok(long long v);
static int charge_points_none(const json_t *v, struct gw_config *cfg, char *err, size_t errlen);

/* The policy engine's own enum ems_policy_mode, the one mode enum; listed in the order users read. */
static const char *const policy_modes[] = { "charge-now", "off", "scheduled", "track-green", NULL };
static const int policy_mode_values[] = { EMS_POLICY_CHARGE_NOW, EMS_POLICY_OFF, EMS_POLICY_SCHEDULED,
					  EMS_POLICY_TRACK_GREEN };
/* Same order as enum gw_log_level. */
static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };
/* Same order as enum ocpp_id_tag_source. */
static const char *const id_tag_sources[] = { "remote", "vin", "fixed", NULL };

#define FIELD(f) offsetof(struct gw_config, f)
#define K_OBJECT(p) { .path = (p), .type = KEY_OBJECT }
#define K_INT(p, req, f, lo, hi, def) \
	{ .path = (p), .type = KEY_INT, .required = (req), .offset = FIELD(f), .min = (lo), .max = (hi), \
	  .def_int = (def) }
#define K_STRING(p, req, f, fn, def) \
	{ .path = (p), .type = KEY_STRING, .required = (req), .offset = FIELD(f), \
	  .size = sizeof(((struct gw_config *)0)->f), .parse = (fn), .def_str = (def) }
#define K_BOOL(p, f, def) { .path = (p), .type = KEY_BOOL, .offset = FIELD(f), .def_int = (def) }
#define K_REAL(p, f, lo, hi) { .path = (p), .type = KEY_REAL, .offset = FIELD(f), .min = (lo), .max = (hi) }
#define K_SECRET(p, f) \
	{ .path = (p), .type = KEY_STRING, .secret = true, .offset = FIELD(f), \
	  .size = sizeof(((struct gw_config *)0)->f), .parse = gw_config_string_copy }
#define K_LIST(p, fn) { .path = (p), .type = KEY_LIST, .list = (fn) }
#define K_CHOICE(p, f, names, def) \
	{ .path = (p), .type = KEY_CHOICE, .offset = FIELD(f), .choices = (names), .def_int = (def) }
#define K_CHOICE_VALUES(p, f, names, vals, def) \
	{ .path = (p), .type = KEY_CHOICE, .offset = FIELD(f), .choices = (names), .values = (vals), \
	  .def_int = (def) }

/*
 * Every key of the config file. Parents come before their members. Ranges that depend on another
 * key (wiringMaxAmpsPerTWC <= wiringMaxAmpsAllTWCs, minAmpsPerTWC <= wiringMaxAmpsPerTWC) are
 * checked in check_relations() after the table pass.
 */
static const struct key_spec key_table[] = {
	K_BOOL("exampleConfig", example, 0),
	K_STRING("dataDir", true, data_dir, gw_config_string_copy, NULL),
	/* Split into one file-like root per entry before the table is walked (entry_root()). */
	K_LIST("chargePoints", charge_points_none),
	K_OBJECT("site"),
	K_INT("site.maxAmps", false, site.max_amps, 1, GW_CONFIG_SITE_MAX_AMPS, 0),
	K_OBJECT("twc"),
	K_STRING("twc.port", true, twc.port, parse_port, NULL),
	K_INT("twc.wiringMaxAmpsAllTWCs", true, twc.wiring_max_all, 1, 240, 0),
	K_INT("twc.wiringMaxAmpsPerTWC", true, twc.wiring_max_per_twc, 1, 80, 0),
	K_INT("twc.minAmpsPerTWC", false, twc.min_amps, 5, 80, 6),
	K_INT("twc.voltage", false, twc.voltage, 100, 480, 230),
	{ .path = "twc.phases", .type = KEY_INT, .offset = FIELD(twc.phases), .min = 1, .max = 3,
	  .int_ok = phases_ok, .must = "must be 1 or 3", .def_int = 1 },
	K_STRING("twc.masterId", false, twc.master_id, parse_master_id, "7777"),
	K_BOOL("twc.stopCommands", twc.stop_commands, 0),
	K_OBJECT("policy"),
	K_CHOICE_VALUES("policy.mode", policy.mode, policy_modes, policy_mode_values, EMS_POLICY_CHARGE_NOW),
	K_STRING("policy.until", false, policy.until_ms, gw_config_until_parse, NULL),
	K_CHOICE_VALUES("policy.then", policy.then, policy_modes, policy_mode_values, EMS_POLICY_OFF),
	K_LIST("policy.schedule", gw_config_schedule_apply),
	K_INT("policy.enableDelay", false, policy.enable_delay, 0, 3600, 60),
	K_INT("policy.disableDelay", false, policy.disable_delay, 0, 3600, 180),
	K_INT("policy.dwell", false, policy.dwell, 0, 3600, 120),
	K_INT("policy.marginW", false, policy.margin_w, 0, 100000, 100),
	K_INT("policy.batterySoc", false, policy.battery_soc, 0, 100, 0),
	K_BOOL("policy.loadIncludesChargers", policy.load_includes_chargers, 1),
	K_BOOL("policy.applyWithCsms", policy.apply_with_csms, 0),
	K_INT("policy.fallbackAfter", false, policy.fallback_after, 0, 86400, 300),
	/* Each member is checked by gw_config_ems_apply() against its type. */
	K_LIST("ems", gw_config_ems_apply),
	K_OBJECT("log"),
	K_CHOICE("log.level", log.level, log_levels, GW_LOG_INFO),
	K_INT("log.statusInterval", false, log.status_interval, 0, 86400, 10),
	/* Required members of ocpp and the rules between its keys: gw_config_ocpp_check(). */
	K_OBJECT("ocpp"),
	K_STRING("ocpp.url", false, ocpp.url, gw_config_ws_url_parse, NULL),
	K_STRING("ocpp.chargeBoxId", false, ocpp.charge_box_id, gw_config_cbid_parse, NULL),
	K_INT("ocpp.securityProfile", false, ocpp.security_profile, 0, 3, 0),
	{ .path = "ocpp.authorizationKey", .type = KEY_STRING, .secret = true, .offset = FIELD(ocpp.authorization_key),
	  .size = sizeof(((struct gw_config *)0)->ocpp.authorization_key), .parse = gw_config_auth_key_parse },
	K_STRING("ocpp.caFile", false, ocpp.ca_file, gw_config_ca_file_parse, NULL),
	K_STRING("ocpp.certFile", false, ocpp.cert_file, gw_config_ca_file_parse, NULL),
	K_STRING("ocpp.keyFile", false, ocpp.key_file, gw_config_ca_file_parse, NULL),
	K_STRING("ocpp.firmwareInstallCommand", false, ocpp.firmware_install, gw_config_exec_parse, NULL),
	K_OBJECT("ocpp.idTag"),
	K_CHOICE("ocpp.idTag.source", ocpp.id_tag_source, id_tag_sources, OCPP_IDTAG_REMOTE),
	K_STRING("ocpp.idTag.fixed", false, ocpp.id_tag_fixed, gw_config_id_tag_parse, NULL),
	{ .path = "ocpp.keys", .type = KEY_MAP },
	K_STRING("ocpp.vendor", false, ocpp.vendor, gw_config_string_copy, "twcgw"),
	K_STRING("ocpp.model", false, ocpp.model, gw_config_string_copy, "TWC-Gen2-Gateway"),
	K_INT("ocpp.callTimeout", false, ocpp.call_timeout, 1, 300, 30),
	/* Required members of tesla and the rules between its keys: gw_config_tesla_check(). */
	K_OBJECT("tesla"),
	K_STRING("tesla.baseUrl", false, tesla.base_url, gw_config_http_url_parse, "https://localhost:4443"),
	K_STRING("tesla.caFile", false, tesla.ca_file, gw_config_ca_file_parse, NULL),
	K_STRING("tesla.tokenUrl", false, tesla.token_url, gw_config_http_url_parse,
		 "https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token"),
	K_STRING("tesla.clientId", false, tesla.client_id, gw_config_string_copy, NULL),
	K_SECRET("tesla.accessToken", tesla.access_token),
	K_SECRET("tesla.refreshToken", tesla.refresh_token),
	K_INT("tesla.dailyBudget", false, tesla.daily_budget, 1, 100000, 200),
	K_INT("tesla.carAmps", false, tesla.car_amps, 0, 80, 0),
	K_INT("tesla.dwell", false, tesla.dwell, 10, 3600, 60),
	K_INT("tesla.startGrace", false, tesla.start_grace, 0, 3600, 30),
	K_OBJECT("tesla.home"),
	K_REAL("tesla.home.latitude", tesla.home_lat, -90, 90),
	K_REAL("tesla.home.longitude", tesla.home_lon, -180, 180),
	K_INT("tesla.home.radius", false, tesla.home_radius, 10, 100000, 300),
	/* Status out, commands in, Home Assistant discovery: mqtt_check(). */
	K_OBJECT("mqtt"),
	K_STRING("mqtt.host", false, mqtt.host, gw_config_string_copy, NULL),
	K_INT("mqtt.port", false, mqtt.port, 1, 65535, 1883),
	K_BOOL("mqtt.tls", mqtt.tls, 0),
	K_STRING("mqtt.caFile", false, mqtt.ca_file, gw_config_ca_file_parse, NULL),
	K_STRING("mqtt.username", false, mqtt.username, gw_config_string_copy, NULL),
	K_SECRET("mqtt.password", mqtt.password),
	K_STRING("mqtt.clientId", false, mqtt.client_id, gw_config_string_copy, NULL),
	K_STRING("mqtt.prefix", false, mqtt.prefix, parse_topic_prefix, "twcgw"),
	K_BOOL("mqtt.discovery", mqtt.discovery, 1),
	/* The status page, REST API and /metrics: gw_config_http_check(). */
	K_OBJECT("http"),
	{ .path = "http.listen", .type = KEY_LIST, .list = gw_config_http_listen_apply, .string_ok = true },
	K_STRING("http.certFile", false, http.cert_file, gw_config_string_copy, NULL),
	K_STRING("http.keyFile", false, http.key_file, gw_config_string_copy, NULL),
	K_SECRET("http.passwordHash", http.password_hash),
	K_SECRET("http.token", http.token),
	K_BOOL("http.authRead", http.auth_read, 0),
	K_STRING("mqtt.discoveryPrefix", false, mqtt.discovery_prefix, parse_topic_prefix, "homeassistant"),
};

#define KEY_COUNT (sizeof(key_table) / sizeof(key_table[0]))

const char *gw_config_key_path(size_t i)
{
	return i < KEY_COUNT ? key_table[i].path : NULL;
}

/* ---- messages ---- */

void gw_config_err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Copy @s for a message: printable ASCII only, cut with "..." so one bad value cannot flood a log. */
void gw_config_text_sanitize(const char *s, char *out, size_t outlen)
{
	size_t o = 0, i = 0;

	if (outlen == 0)
		return;
	for (; s[i] != '\0' && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
	if (s[i] != '\0' && o >= 3)
		memcpy(out + o - 3, "...", 3);
}

/* How a value looked, for "(got ...)". Values of secret keys are never shown, only their type. */
void gw_config_value_describe(const json_t *v, bool secret, char *out, size_t outlen)
{
	char s[GOT_MAX - 2];

	switch (json_typeof(v)) {
	case JSON_INTEGER:
		if (secret)
			snprintf(out, outlen, "a number");
		else
			snprintf(out, outlen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		if (secret)
			snprintf(out, outlen, "a number");
		else
			snprintf(out, outlen, "%g", json_real_value(v));
		break;
	case JSON_STRING:
		if (secret) {
			snprintf(out, outlen, "a string");
		} else {
			gw_config_text_sanitize(json_string_value(v), s, sizeof(s));
			snprintf(out, outlen, "\"%s\"", s);
		}
		break;
	case JSON_TRUE:
		snprintf(out, outlen, "true");
		break;
	case JSON_FALSE:
		snprintf(out, outlen, "false");
		break;
	case JSON_NULL:
		snprintf(out, outlen, "null");
		break;
	case JSON_OBJECT:
		snprintf(out, outlen, "an object");
		break;
	case JSON_ARRAY:
		snprintf(out, outlen, "an array");
		break;
	}
}

/* ---- string keys ---- */

int gw_config_string_copy(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen)
{
	size_t len = strlen(value);

	if (len == 0) {
		snprintf(why, whylen, "must not be empty");
		return -EINVAL;
	}
	if (len >= k->size) {
		snprintf(why, whylen, "must be at most %zu characters", k->size - 1);
		return -EINVAL;
	}
	memcpy(field, value, len + 1);
	return 0;
}

static int parse_port(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen)
{
	char host[GW_CONFIG_PORT_MAX];
	int tcp_port;
	bool ok;

	if (strncmp(value, "tcp://", 6) == 0) {
		ok = gw_url_tcp_split(value, host, sizeof(host), &tcp_port) == 0;
	} else {
		/* A device path: absolute, since a daemon's working directory means nothing. It need not
		 * exist yet; a USB adapter may be plugged in later and the port keeps retrying. */
		ok = value[0] == '/';
		for (const char *c = value; ok && *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				ok = false;
	}
	if (!ok) {
		snprintf(why, whylen,
			 "must be an absolute device path (e.g. /dev/ttyUSB0) or tcp://host:port with port 1 to 65535");
		return -EINVAL;
	}
	return gw_config_string_copy(k, value, field, why, whylen);
}

/* A topic prefix is a topic's first levels: no wildcards, no empty level, no leading '$'. */
static int parse_topic_prefix(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen)
{
	size_t n = strlen(value);
	bool ok = n > 0 && value[0] != '/' && value[n - 1] != '/' && value[0] != '$' && !strstr(value, "//");

	for (size_t i = 0; ok && i < n; i++)
		ok = value[i] != '+' && value[i] != '#' && (unsigned char)value[i] >= 0x20;
	if (!ok) {
		snprintf(why, whylen, "must be topic levels like \"twcgw\" or \"garage/twcgw\": no +, #, empty "
				      "level, leading '$' or '/'");
		return -EINVAL;
	}
	return gw_config_string_copy(k, value, field, why, whylen);
}

static int parse_master_id(const struct key_spec *k, const char *value, void *field, char *why,
			   size_t whylen)
{
	(void)k;
	bool ok = strlen(value) == 4;

	for (size_t i = 0; ok && i < 4; i++)
		ok = isxdigit((unsigned char)value[i]) != 0;
	if (ok) {
		/* 0000 and FFFF are not usable IDs: FFFF is broadcast and 0000 means "none" in frames. */
		unsigned long id = strtoul(value, NULL, 16);
		if (id != 0 && id != 0xFFFF) {
			*(uint16_t *)field = (uint16_t)id;
			return 0;
		}
	}
	snprintf(why, whylen, "must be 4 hex digits other than 0000 and FFFF");
	return -EINVAL;
}

static bool phases_ok(long long v)
{
	return v == 1 || v == 3;
}

/* The table walk sees entry roots only, which no longer hold the list. */
static int charge_points_none(const json_t *v, struct gw_config *cfg, char *err, size_t errlen)
{
	(void)v;
	(void)cfg;
	(void)err;
	(void)errlen;
	return 0;
}

/* ---- the table walk ---- */

static const struct key_spec *find_key(const char *path)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (strcmp(key_table[i].path, path) == 0)
			return &key_table[i];
	return NULL;
}

/* Build "prefix.key" into @out; false if it does not fit (then no key of ours can match). */
static bool join_path(const char *prefix, const char *key, char *out, size_t outlen)
{
	int n = prefix[0] ? snprintf(out, outlen, "%s.%s", prefix, key) : snprintf(out, outlen, "%s", key);

	return n >= 0 && (size_t)n < outlen;
}

/* Every member of @obj (at @prefix, "" for the root) must be in the table: a typo fails loudly
 * instead of silently leaving a default in force. */
static int check_unknown(const json_t *obj, const char *prefix, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		char path[KEY_PATH_MAX];
		const struct key_spec *k = NULL;
		bool fits = join_path(prefix, key, path, sizeof(path));

		if (fits)
			k = find_key(path);
		if (!k) {
			char shown[KEY_PATH_MAX];
			gw_config_text_sanitize(path, shown, sizeof(shown));
			gw_config_err_set(err, errlen, "config: %s: unknown key", shown);
			return -EINVAL;
		}
		if (k->type == KEY_LIST && !json_is_array(v) && !(k->string_ok && json_is_string(v))) {
			char got[GOT_MAX];
			gw_config_value_describe(v, false, got, sizeof(got));
			gw_config_err_set(err, errlen, "config: %s: must be an array (got %s)", path, got);
			return -EINVAL;
		}
		if (k->type == KEY_OBJECT || k->type == KEY_MAP) {
			if (!json_is_object(v)) {
				char got[GOT_MAX];
				gw_config_value_describe(v, false, got, sizeof(got));
				gw_config_err_set(err, errlen, "config: %s: must be an object (got %s)", path, got);
				return -EINVAL;
			}
			int rc = k->type == KEY_OBJECT ? check_unknown(v, path, err, errlen) : 0;
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* The value at a dotted path, or NULL if any level is missing. Parents were checked to be objects. */
json_t *gw_config_path_lookup(const json_t *root, const char *path)
{
	char part[KEY_PATH_MAX];
	const json_t *cur = root;
	const char *p = path;

	while (cur) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (len >= sizeof(part))
			return NULL;
		memcpy(part, p, len);
		part[len] = '\0';
		cur = json_object_get(cur, part);
		if (!dot)
			return (json_t *)cur;
		p = dot + 1;
	}
	return NULL;
}

static int apply_int(const struct key_spec *k, const json_t *v, struct gw_config *cfg, char *err, size_t errlen)
{
	int *field = (int *)((char *)cfg + k->offset);
	long long n;

	if (!v) {
		*field = (int)k->def_int;
		return 0;
	}
	if (json_is_integer(v)) {
		n = json_integer_value(v);
		if (n >= k->min && n <= k->max && (!k->int_ok || k->int_ok(n))) {
			*field = (int)n;
			return 0;
		}
	}
	char got[GOT_MAX];
	gw_config_value_describe(v, k->secret, got, sizeof(got));
	if (k->must)
		gw_config_err_set(err, errlen, "config: %s: %s (got %s)", k->path, k->must, got);
	else
		gw_config_err_set(err, errlen,
			"config: %s: must be an integer from %lld to %lld (got %s)", k->path, k->min, k->max, got);
	return -EINVAL;
}

static int apply_bool(const struct key_spec *k, const json_t *v, struct gw_config *cfg, char *err, size_t errlen)
{
	bool *field = (bool *)((char *)cfg + k->offset);
	char got[GOT_MAX];

	if (!v) {
		*field = k->def_int != 0;
		return 0;
	}
	if (json_is_boolean(v)) {
		*field = json_is_true(v);
		return 0;
	}
	gw_config_value_describe(v, k->secret, got, sizeof(got));
	gw_config_err_set(err, errlen, "config: %s: must be true or false (got %s)", k->path, got);
	return -EINVAL;
}

static int apply_real(const struct key_spec *k, const json_t *v, struct gw_config *cfg, char *err, size_t errlen)
{
	double *field = (double *)(void *)((char *)cfg + k->offset);
	char got[GOT_MAX];

	if (!v)
		return 0;
	if (json_is_number(v) && json_number_value(v) >= (double)k->min && json_number_value(v) <= (double)k->max) {
		*field = json_number_value(v);
		return 0;
	}
	gw_config_value_describe(v, k->secret, got, sizeof(got));
	gw_config_err_set(err, errlen,
		"config: %s: must be a number from %lld to %lld (got %s)", k->path, k->min, k->max, got);
	return -EINVAL;
}

static int apply_string(const struct key_spec *k, const json_t *v, struct gw_config *cfg, char *err,
			size_t errlen)
{
	void *field = (char *)cfg + k->offset;
	char why[160];
	char got[GOT_MAX];
	const char *s;

	if (!v) {
		if (!k->def_str)
			return 0;
		s = k->def_str;
	} else {
		if (!json_is_string(v)) {
			gw_config_value_describe(v, k->secret, got, sizeof(got));
			gw_config_err_set(err, errlen, "config: %s: must be a string (got %s)", k->path, got);
			return -EINVAL;
		}
		s = json_string_value(v);
		if (strlen(s) != json_string_length(v)) {
			gw_config_err_set(err, errlen, "config: %s: must not contain NUL characters", k->path);
			return -EINVAL;
		}
	}
	why[0] = '\0';
	if (k->parse(k, s, field, why, sizeof(why)) == 0)
		return 0;
	if (v)
		gw_config_value_describe(v, k->secret, got, sizeof(got));
	else
		snprintf(got, sizeof(got), "the default \"%s\"", s);
	gw_config_err_set(err, errlen, "config: %s: %s (got %s)", k->path, why, got);
	return -EINVAL;
}

static int apply_choice(const struct key_spec *k, const json_t *v, struct gw_config *cfg, char *err,
			size_t errlen)
{
	int *field = (int *)((char *)cfg + k->offset);
	char names[160];
	size_t used = 0;

	if (!v) {
		*field = (int)k->def_int;
		return 0;
	}
	if (json_is_string(v)) {
		for (int i = 0; k->choices[i]; i++) {
			if (strcmp(json_string_value(v), k->choices[i]) == 0) {
				*field = k->values ? k->values[i] : i;
				return 0;
			}
		}
	}
	names[0] = '\0';
	for (int i = 0; k->choices[i] && used < sizeof(names); i++) {
		int n = snprintf(names + used, sizeof(names) - used, "%s\"%s\"", i ? ", " : "", k->choices[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	char got[GOT_MAX];
	gw_config_value_describe(v, k->secret, got, sizeof(got));
	gw_config_err_set(err, errlen, "config: %s: must be one of %s (got %s)", k->path, names, got);
	return -EINVAL;
}

/* Ranges that depend on another key; the message names the key whose value is out of range. */
/* The mqtt section needs a broker. */
static int mqtt_check(struct gw_config *cfg, const json_t *root, char *err, size_t errlen)
{
	struct gw_config_mqtt *m = &cfg->mqtt;

	m->enabled = gw_config_path_lookup(root, "mqtt") != NULL;
	if (m->enabled && !m->host[0]) {
		gw_config_err_set(err, errlen, "config: mqtt.host: required key missing (the mqtt section needs a broker)");
		return -EINVAL;
	}
	if (m->ca_file[0])
		m->tls = true;
	if (m->tls && !gw_config_path_lookup(root, "mqtt.port"))
		m->port = 8883;
	if (m->password[0] && !m->username[0]) {
		gw_config_err_set(err, errlen, "config: mqtt.username: required with mqtt.password");
		return -EINVAL;
	}
	return 0;
}

static int check_relations(const struct gw_config *cfg, const json_t *root, char *err, size_t errlen)
{
	const struct gw_config_twc *t = &cfg->twc;

	/* The packaged example must not run as it is: its wiring limits are placeholders. */
	if (cfg->example) {
		gw_config_err_set(err, errlen, "config: exampleConfig: this is the example config: set "
			"twc.wiringMaxAmpsAllTWCs and twc.wiringMaxAmpsPerTWC from the breaker and cable that feed the "
			"Wall Connectors, and twc.port, then delete the exampleConfig line");
		return -EINVAL;
	}
	if (t->wiring_max_per_twc > t->wiring_max_all) {
		gw_config_err_set(err, errlen,
			"config: twc.wiringMaxAmpsPerTWC: must be an integer from 1 to %d (twc.wiringMaxAmpsAllTWCs) (got %d)",
			t->wiring_max_all, t->wiring_max_per_twc);
		return -EINVAL;
	}
	if (t->wiring_max_per_twc < 5) {
		gw_config_err_set(err, errlen,
			"config: twc.wiringMaxAmpsPerTWC: must be at least 5, the least a TWC can be told (got %d)",
			t->wiring_max_per_twc);
		return -EINVAL;
	}
	if (t->min_amps > t->wiring_max_per_twc) {
		bool dflt = gw_config_path_lookup(root, "twc.minAmpsPerTWC") == NULL;
		gw_config_err_set(err, errlen,
			"config: twc.minAmpsPerTWC: must be an integer from 5 to %d (twc.wiringMaxAmpsPerTWC) (got %d%s)",
			t->wiring_max_per_twc, t->min_amps, dflt ? ", the default" : "");
		return -EINVAL;
	}
	return 0;
}

/* ---- members of the objects inside lists (policy.schedule, ems) ---- */

/* Only @allowed members (NULL-terminated) in @obj, else an "unknown key" error naming @where.key. */
int gw_config_members_check(const json_t *obj, const char *where, const char *const *allowed, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;
		char shown[KEY_PATH_MAX];

		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			gw_config_text_sanitize(key, shown, sizeof(shown));
			gw_config_err_set(err, errlen, "config: %s.%s: unknown key", where, shown);
			return -EINVAL;
		}
	}
	return 0;
}

/* A string member copied into @out (size @outlen); absent leaves @out alone. */
int gw_config_member_string_read(const json_t *obj, const char *where, const char *name, bool secret, char *out,
				 size_t outlen, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, name);
	char got[GOT_MAX];

	if (!v)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
	    json_string_length(v) == 0 || json_string_length(v) >= outlen) {
		gw_config_value_describe(v, secret, got, sizeof(got));
		gw_config_err_set(err, errlen,
			"config: %s.%s: must be a string of 1 to %zu characters (got %s)", where, name,
			outlen - 1, got);
		return -EINVAL;
	}
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int gw_config_member_int_read(const json_t *obj, const char *where, const char *name, long long lo, long long hi,
			      int *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, name);
	char got[GOT_MAX];

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		gw_config_value_describe(v, false, got, sizeof(got));
		gw_config_err_set(err, errlen,
			"config: %s.%s: must be an integer from %lld to %lld (got %s)", where, name, lo, hi, got);
		return -EINVAL;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

int gw_config_member_bool_read(const json_t *obj, const char *where, const char *name, bool *out, char *err,
			       size_t errlen)
{
	const json_t *v = json_object_get(obj, name);
	char got[GOT_MAX];

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		gw_config_value_describe(v, false, got, sizeof(got));
		gw_config_err_set(err, errlen, "config: %s.%s: must be true or false (got %s)", where, name, got);
		return -EINVAL;
	}
	*out = json_is_true(v);
	return 0;
}

static int from_json(const json_t *root, struct gw_config *out, bool dir_check, char *err, size_t errlen)
{
	struct gw_config cfg;
	int rc;

	if (!json_is_object(root)) {
		gw_config_err_set(err, errlen, "config: the top level must be an object");
		return -EINVAL;
	}
	rc = check_unknown(root, "", err, errlen);
	if (rc)
		return rc;

	memset(&cfg, 0, sizeof(cfg));
	for (size_t i = 0; i < KEY_COUNT; i++) {
		const struct key_spec *k = &key_table[i];
		const json_t *v;

		if (k->type == KEY_OBJECT)
			continue;
		v = gw_config_path_lookup(root, k->path);
		if (!v && k->required) {
			gw_config_err_set(err, errlen, "config: %s: required key missing", k->path);
			return -EINVAL;
		}
		switch (k->type) {
		case KEY_INT:
			rc = apply_int(k, v, &cfg, err, errlen);
			break;
		case KEY_STRING:
			rc = apply_string(k, v, &cfg, err, errlen);
			break;
		case KEY_CHOICE:
			rc = apply_choice(k, v, &cfg, err, errlen);
			break;
		case KEY_MAP:
			rc = gw_config_ocpp_keys_apply(v, &cfg, err, errlen);
			break;
		case KEY_REAL:
			rc = apply_real(k, v, &cfg, err, errlen);
			break;
		case KEY_BOOL:
			rc = apply_bool(k, v, &cfg, err, errlen);
			break;
		case KEY_LIST:
			rc = k->list(v, &cfg, err, errlen);
			break;
		case KEY_OBJECT:
			rc = 0;
			break;
		}
		if (rc)
			return rc;
	}
	rc = check_relations(&cfg, root, err, errlen);
	if (rc == 0)
		rc = gw_config_ocpp_check(&cfg, root, err, errlen);
	if (rc == 0)
		rc = gw_config_tesla_check(&cfg, root, err, errlen);
	if (rc == 0)
		rc = gw_config_policy_check(&cfg, root, err, errlen);
	if (rc == 0)
		rc = mqtt_check(&cfg, root, err, errlen);
	if (rc == 0)
		rc = gw_config_http_check(&cfg, root, err, errlen);
	if (rc)
		return rc;
	/* Last, because it may create directories: an otherwise invalid file changes nothing on disk. */
	rc = dir_check ? gw_config_data_dir_check(cfg.data_dir, err, errlen) : 0;
	if (rc)
		return rc;
	cfg.cp_count = 1;
	*out = cfg;
	return 0;
}

static void syntax_error(const json_error_t *je, const char *source, char *err, size_t errlen)
{
	char shown[GOT_MAX];
	/* jansson quotes the text near the error ("unexpected newline near '"eyJhbGci'"), which may be
	 * the start of a secret, e.g. a token pasted with a line break: keep the position and what is
	 * wrong, not the text; except for a duplicate key, where the text is the key's name. */
	const char *near = strncmp(je->text, "duplicate object key", 20) ? strstr(je->text, " near '") : NULL;
	int len = near ? (int)(near - je->text) : (int)strlen(je->text);

	gw_config_text_sanitize(source, shown, sizeof(shown));
	gw_config_err_set(err, errlen, "config: %s:%d:%d: %.*s", shown, je->line, je->column, len, je->text);
}

int gw_config_root_load(const json_t *root, struct gw_config *out, bool dir_check, char *err, size_t errlen)
{
	return from_json(root, out, dir_check, err, errlen);
}

int gw_config_text_root(const char *text, const char *source, json_t **out, char *err, size_t errlen)
{
	json_error_t je;

	*out = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!*out) {
		syntax_error(&je, source ? source : "<text>", err, errlen);
		return -EINVAL;
	}
	return 0;
}

int gw_config_from_json_text(const char *text, const char *source, struct gw_config *out, char *err,
			     size_t errlen)
{
	json_t *root;
	int rc = gw_config_text_root(text, source, &root, err, errlen);

	if (rc)
		return rc;
	rc = gw_config_root_entry(root, NULL, NULL, out, err, errlen);
	json_decref(root);
	return rc;
}

/* The operator's policy lies on top of the file's: a mode given replaces mode, until and then as a
 * group (a mode without until has none), a schedule replaces the schedule. */
int gw_config_policy_overlay(json_t *root, const json_t *overlay, char *err, size_t errlen)
{
	static const char *const allowed[] = { "mode", "until", "then", "schedule", NULL };
	json_t *pol = json_object_get(root, "policy");
	const char *key;
	json_t *v;

	if (!overlay)
		return 0;
	if (!json_is_object(overlay) || gw_config_members_check(overlay, "settings: policy", allowed, err, errlen))
		return -EINVAL;
	if (!json_is_object(pol)) {
		pol = json_object();
		if (!pol || json_object_set_new(root, "policy", pol))
			return -ENOMEM;
	}
	if (json_object_get(overlay, "mode")) {
		json_object_del(pol, "until");
		json_object_del(pol, "then");
	}
	json_object_foreach((json_t *)overlay, key, v)
		if (json_object_set(pol, key, v))
			return -ENOMEM;
	return 0;
}

int gw_config_load(const char *path, struct gw_config *out, char *err, size_t errlen)
{
	return gw_config_with_policy(path, NULL, out, err, errlen);
}

int gw_config_with_policy(const char *path, const json_t *policy, struct gw_config *out, char *err, size_t errlen)
{
	return gw_config_entry_with_policy(path, NULL, policy, out, err, errlen);
}

int gw_config_file_root(const char *path, json_t **out, char *err, size_t errlen)
{
	json_error_t je;
	FILE *f;
	int rc;

	/* Opened here rather than by json_load_file() so a missing or unreadable file reports errno
	 * instead of a parser message. */
	*out = NULL;
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		char shown[GOT_MAX];
		gw_config_text_sanitize(path, shown, sizeof(shown));
		gw_config_err_set(err, errlen, "config: %s: %s", shown, strerror(-rc));
		return rc;
	}
	*out = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (!*out) {
		syntax_error(&je, path, err, errlen);
		return -EINVAL;
	}
	return 0;
}
