/*
 * gw_config: load the daemon's JSON config into struct gw_config. All keys live in one table
 * (key_table below): adding a key (tesla.*, ems) is one line there, one field in the struct and, if
 * its value needs more than a type and range, one small check function. ocpp.keys is checked against
 * the OCPP core's own key table, so the file cannot hold a value ChangeConfiguration would refuse. The same
 * table drives the unknown-key check, the defaults and the messages, so they cannot drift apart.
 */
#include "gw_config.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ocpp_config.h"

#define KEY_PATH_MAX 128
#define GOT_MAX 96

enum key_type {
	KEY_OBJECT, /* a nested object; its members are the keys whose path starts with "<path>." */
	KEY_INT,    /* stored as int */
	KEY_STRING, /* stored by its parse function */
	KEY_CHOICE, /* one of a list of names, stored as the int index (an enum) */
	KEY_MAP,    /* an object of free-form members checked by its own function (ocpp.keys) */
	KEY_REAL,   /* a number (integer or real) within [min, max], stored as double */
	KEY_BOOL,   /* true or false, stored as bool; default def_int */
	KEY_LIST,   /* an array checked and stored by its own function (ems, policy.schedule) */
};

struct key_spec;

/* Turn a string value into its field. Return 0, or -EINVAL with the requirement text left in @why
 * ("must be ..."); the caller adds the key and the value. */
typedef int (*key_parse_fn)(const struct key_spec *k, const char *value, void *field, char *why,
			    size_t whylen);
/* Check and store a KEY_LIST array (@v NULL when absent). Messages name the member: "ems[1].url". */
typedef int (*key_list_fn)(const json_t *v, struct gw_config *cfg, char *err, size_t errlen);
/* Extra check of an integer already inside [min, max]. */
typedef bool (*key_int_ok_fn)(long long v);

struct key_spec {
	const char *path;           /* dotted: "twc.port" */
	enum key_type type;
	bool required;
	bool secret;                /* never echo its value in a message */
	size_t offset;              /* field in struct gw_config */
	size_t size;                /* KEY_STRING: size of the field */
	long long min, max;         /* KEY_INT */
	key_int_ok_fn int_ok;       /* KEY_INT, optional */
	const char *must;           /* KEY_INT, optional: requirement text replacing the range */
	long long def_int;          /* KEY_INT and KEY_CHOICE (index) default */
	const char *def_str;        /* KEY_STRING default (parsed like a value), NULL: none */
	const char *const *choices; /* KEY_CHOICE, NULL-terminated, in the order error messages list them */
	const int *values;          /* KEY_CHOICE: the enum value of each choice; NULL: its index */
	key_parse_fn parse;         /* KEY_STRING */
	key_list_fn list;           /* KEY_LIST */
};

static int parse_copy(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen);
static int parse_port(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen);
static int parse_master_id(const struct key_spec *k, const char *value, void *field, char *why,
			   size_t whylen);
static bool phases_ok(long long v);
static int parse_url(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen);
static int parse_cbid(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen);
static int parse_auth_key(const struct key_spec *k, const char *value, void *field, char *why,
			  size_t whylen);
static int parse_ca_file(const struct key_spec *k, const char *value, void *field, char *why,
			 size_t whylen);
static int parse_id_tag(const struct key_spec *k, const char *value, void *field, char *why,
			size_t whylen);
static int parse_http_url(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen);

static int parse_until(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen);
static int apply_schedule(const json_t *v, struct gw_config *cfg, char *err, size_t errlen);
static int apply_ems(const json_t *v, struct gw_config *cfg, char *err, size_t errlen);

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
	  .size = sizeof(((struct gw_config *)0)->f), .parse = parse_copy }
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
	K_STRING("dataDir", true, data_dir, parse_copy, NULL),
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
	K_STRING("policy.until", false, policy.until_ms, parse_until, NULL),
	K_CHOICE_VALUES("policy.then", policy.then, policy_modes, policy_mode_values, EMS_POLICY_OFF),
	K_LIST("policy.schedule", apply_schedule),
	K_INT("policy.enableDelay", false, policy.enable_delay, 0, 3600, 60),
	K_INT("policy.disableDelay", false, policy.disable_delay, 0, 3600, 180),
	K_INT("policy.dwell", false, policy.dwell, 0, 3600, 120),
	K_INT("policy.marginW", false, policy.margin_w, 0, 100000, 100),
	K_INT("policy.batterySoc", false, policy.battery_soc, 0, 100, 0),
	K_BOOL("policy.loadIncludesChargers", policy.load_includes_chargers, 1),
	K_BOOL("policy.applyWithCsms", policy.apply_with_csms, 0),
	K_INT("policy.fallbackAfter", false, policy.fallback_after, 0, 86400, 300),
	/* Each member is checked by apply_ems() against its type. */
	K_LIST("ems", apply_ems),
	K_OBJECT("log"),
	K_CHOICE("log.level", log.level, log_levels, GW_LOG_INFO),
	K_INT("log.statusInterval", false, log.status_interval, 0, 86400, 10),
	/* Required members of ocpp and the rules between its keys: check_ocpp(). */
	K_OBJECT("ocpp"),
	K_STRING("ocpp.url", false, ocpp.url, parse_url, NULL),
	K_STRING("ocpp.chargeBoxId", false, ocpp.charge_box_id, parse_cbid, NULL),
	K_INT("ocpp.securityProfile", false, ocpp.security_profile, 0, 2, 0),
	{ .path = "ocpp.authorizationKey", .type = KEY_STRING, .secret = true, .offset = FIELD(ocpp.authorization_key),
	  .size = sizeof(((struct gw_config *)0)->ocpp.authorization_key), .parse = parse_auth_key },
	K_STRING("ocpp.caFile", false, ocpp.ca_file, parse_ca_file, NULL),
	K_OBJECT("ocpp.idTag"),
	K_CHOICE("ocpp.idTag.source", ocpp.id_tag_source, id_tag_sources, OCPP_IDTAG_REMOTE),
	K_STRING("ocpp.idTag.fixed", false, ocpp.id_tag_fixed, parse_id_tag, NULL),
	{ .path = "ocpp.keys", .type = KEY_MAP },
	K_STRING("ocpp.vendor", false, ocpp.vendor, parse_copy, "twcgw"),
	K_STRING("ocpp.model", false, ocpp.model, parse_copy, "TWC-Gen2-Gateway"),
	K_INT("ocpp.callTimeout", false, ocpp.call_timeout, 1, 300, 30),
	/* Required members of tesla and the rules between its keys: check_tesla(). */
	K_OBJECT("tesla"),
	K_STRING("tesla.baseUrl", false, tesla.base_url, parse_http_url, "https://localhost:4443"),
	K_STRING("tesla.caFile", false, tesla.ca_file, parse_ca_file, NULL),
	K_STRING("tesla.tokenUrl", false, tesla.token_url, parse_http_url,
		 "https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token"),
	K_STRING("tesla.clientId", false, tesla.client_id, parse_copy, NULL),
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
};

#define KEY_COUNT (sizeof(key_table) / sizeof(key_table[0]))

/* ---- messages ---- */

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Copy @s for a message: printable ASCII only, cut with "..." so one bad value cannot flood a log. */
static void sanitize(const char *s, char *out, size_t outlen)
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
static void describe(const json_t *v, bool secret, char *out, size_t outlen)
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
			sanitize(json_string_value(v), s, sizeof(s));
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

static int parse_copy(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen)
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
	return parse_copy(k, value, field, why, whylen);
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

/* ---- ocpp keys ---- */

static int parse_url(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen)
{
	struct gw_url u;

	if (gw_url_split(value, &u) != 0) {
		snprintf(why, whylen, "must be ws://host[:port][/path] or wss://host[:port][/path] with port 1 to "
			 "65535 and no user, query or fragment");
		return -EINVAL;
	}
	return parse_copy(k, value, field, why, whylen);
}

static int parse_cbid(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen)
{
	size_t len = strlen(value);
	bool ok = len >= 1 && len <= GW_CONFIG_CBID_MAX;

	/* It is a URL path segment: '/' would split it, and the rest is percent-encoded when sent. */
	for (size_t i = 0; ok && i < len; i++)
		ok = (unsigned char)value[i] > 0x20 && value[i] != 0x7f && value[i] != '/';
	if (!ok) {
		snprintf(why, whylen, "must be 1 to %d characters without '/', spaces or control characters",
			 GW_CONFIG_CBID_MAX);
		return -EINVAL;
	}
	return parse_copy(k, value, field, why, whylen);
}

/* The OCPP core's own rule for AuthorizationKey decides, so the file and ChangeConfiguration agree. */
static int parse_auth_key(const struct key_spec *k, const char *value, void *field, char *why,
			  size_t whylen)
{
	const struct ocpp_key_info *info = ocpp_config_info(OCPP_KEY_AUTHORIZATION_KEY);
	struct ocpp_config *scratch = ocpp_config_new();
	int rc = scratch && value[0] ? ocpp_config_set(scratch, OCPP_KEY_AUTHORIZATION_KEY, value) : -EINVAL;

	ocpp_config_free(scratch);
	if (rc) {
		snprintf(why, whylen, "must be %ld to %ld printable ASCII characters other than ':'", info->min,
			 info->max);
		return -EINVAL;
	}
	return parse_copy(k, value, field, why, whylen);
}

static int parse_ca_file(const struct key_spec *k, const char *value, void *field, char *why,
			 size_t whylen)
{
	struct stat st;
	const char *fail = NULL;

	if (value[0] != '/')
		fail = "not absolute";
	else if (stat(value, &st) != 0 || access(value, R_OK) != 0)
		fail = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		fail = "not a regular file";
	if (fail) {
		snprintf(why, whylen, "must be the absolute path of a readable file: %s", fail);
		return -EINVAL;
	}
	return parse_copy(k, value, field, why, whylen);
}

/* An http:// or https:// URL with a host, no spaces. */
static int parse_http_url(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen)
{
	const char *host = !strncmp(value, "https://", 8) ? value + 8 : !strncmp(value, "http://", 7) ? value + 7 : NULL;
	bool ok = host && host[0] && host[0] != '/';

	for (const char *p = value; ok && *p; p++)
		ok = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f;
	if (!ok) {
		snprintf(why, whylen, "must be an http:// or https:// URL");
		return -EINVAL;
	}
	return parse_copy(k, value, field, why, whylen);
}

static int parse_id_tag(const struct key_spec *k, const char *value, void *field, char *why,
			size_t whylen)
{
	size_t len = strlen(value);
	bool ok = len >= 1 && len <= OCPP_IDTAG_MAX;

	for (size_t i = 0; ok && i < len; i++)
		ok = value[i] > 0x20 && value[i] < 0x7f;
	if (!ok) {
		snprintf(why, whylen, "must be 1 to %d printable ASCII characters without spaces", OCPP_IDTAG_MAX);
		return -EINVAL;
	}
	return parse_copy(k, value, field, why, whylen);
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
			sanitize(path, shown, sizeof(shown));
			set_err(err, errlen, "config: %s: unknown key", shown);
			return -EINVAL;
		}
		if (k->type == KEY_LIST && !json_is_array(v)) {
			char got[GOT_MAX];
			describe(v, false, got, sizeof(got));
			set_err(err, errlen, "config: %s: must be an array (got %s)", path, got);
			return -EINVAL;
		}
		if (k->type == KEY_OBJECT || k->type == KEY_MAP) {
			if (!json_is_object(v)) {
				char got[GOT_MAX];
				describe(v, false, got, sizeof(got));
				set_err(err, errlen, "config: %s: must be an object (got %s)", path, got);
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
static json_t *lookup(const json_t *root, const char *path)
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
	describe(v, k->secret, got, sizeof(got));
	if (k->must)
		set_err(err, errlen, "config: %s: %s (got %s)", k->path, k->must, got);
	else
		set_err(err, errlen, "config: %s: must be an integer from %lld to %lld (got %s)", k->path, k->min,
			k->max, got);
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
	describe(v, k->secret, got, sizeof(got));
	set_err(err, errlen, "config: %s: must be true or false (got %s)", k->path, got);
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
	describe(v, k->secret, got, sizeof(got));
	set_err(err, errlen, "config: %s: must be a number from %lld to %lld (got %s)", k->path, k->min, k->max, got);
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
			describe(v, k->secret, got, sizeof(got));
			set_err(err, errlen, "config: %s: must be a string (got %s)", k->path, got);
			return -EINVAL;
		}
		s = json_string_value(v);
		if (strlen(s) != json_string_length(v)) {
			set_err(err, errlen, "config: %s: must not contain NUL characters", k->path);
			return -EINVAL;
		}
	}
	why[0] = '\0';
	if (k->parse(k, s, field, why, sizeof(why)) == 0)
		return 0;
	if (v)
		describe(v, k->secret, got, sizeof(got));
	else
		snprintf(got, sizeof(got), "the default \"%s\"", s);
	set_err(err, errlen, "config: %s: %s (got %s)", k->path, why, got);
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
	describe(v, k->secret, got, sizeof(got));
	set_err(err, errlen, "config: %s: must be one of %s (got %s)", k->path, names, got);
	return -EINVAL;
}

/* Ranges that depend on another key; the message names the key whose value is out of range. */
static int check_relations(const struct gw_config *cfg, const json_t *root, char *err, size_t errlen)
{
	const struct gw_config_twc *t = &cfg->twc;

	if (t->wiring_max_per_twc > t->wiring_max_all) {
		set_err(err, errlen,
			"config: twc.wiringMaxAmpsPerTWC: must be an integer from 1 to %d (twc.wiringMaxAmpsAllTWCs) (got %d)",
			t->wiring_max_all, t->wiring_max_per_twc);
		return -EINVAL;
	}
	if (t->wiring_max_per_twc < 5) {
		set_err(err, errlen,
			"config: twc.wiringMaxAmpsPerTWC: must be at least 5, the least a TWC can be told (got %d)",
			t->wiring_max_per_twc);
		return -EINVAL;
	}
	if (t->min_amps > t->wiring_max_per_twc) {
		bool dflt = lookup(root, "twc.minAmpsPerTWC") == NULL;
		set_err(err, errlen,
			"config: twc.minAmpsPerTWC: must be an integer from 5 to %d (twc.wiringMaxAmpsPerTWC) (got %d%s)",
			t->wiring_max_per_twc, t->min_amps, dflt ? ", the default" : "");
		return -EINVAL;
	}
	return 0;
}

/* ---- ocpp.keys: initial values of the charge point's OCPP configuration keys ---- */

/* What the OCPP core's rule for @info asks for, for a message. */
static void key_rule(const struct ocpp_key_info *info, char *out, size_t outlen)
{
	switch (info->type) {
	case OCPP_KT_BOOL:
		snprintf(out, outlen, "must be true or false");
		break;
	case OCPP_KT_INT:
		snprintf(out, outlen, "must be an integer from %ld to %ld", info->min, info->max);
		break;
	case OCPP_KT_CSL:
		snprintf(out, outlen, "must be a comma-separated list of at most %ld known items", info->max);
		break;
	case OCPP_KT_STRING:
		snprintf(out, outlen, "must be %ld to %ld characters", info->min, info->max);
		break;
	}
}

/* A member's value as the text ChangeConfiguration would carry: "300", "true", or the string. */
static bool key_text(const json_t *v, char *out, size_t outlen)
{
	if (json_is_string(v))
		return strlen(json_string_value(v)) == json_string_length(v) &&
		       (size_t)snprintf(out, outlen, "%s", json_string_value(v)) < outlen;
	if (json_is_integer(v))
		return (size_t)snprintf(out, outlen, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < outlen;
	if (json_is_boolean(v))
		return (size_t)snprintf(out, outlen, "%s", json_is_true(v) ? "true" : "false") < outlen;
	return false;
}

/* Check one member against a scratch copy of the core's key table and keep it. */
static int ocpp_key_add(struct ocpp_config *scratch, const char *name, const json_t *v, struct gw_config_ocpp *o,
			char *err, size_t errlen)
{
	char shown[KEY_PATH_MAX], got[GOT_MAX], must[96], text[OCPP_CONFIG_VALUE_MAX + 1];
	const struct ocpp_key_info *info;
	int k = ocpp_config_find(name);

	sanitize(name, shown, sizeof(shown));
	if (k < 0) {
		set_err(err, errlen, "config: ocpp.keys.%s: not a configuration key of this charge point", shown);
		return -EINVAL;
	}
	info = ocpp_config_info((enum ocpp_key)k);
	/* One place for each secret and for the profile: the dedicated keys, never echoed here. */
	if (k == OCPP_KEY_AUTHORIZATION_KEY || k == OCPP_KEY_SECURITY_PROFILE) {
		set_err(err, errlen, "config: ocpp.keys.%s: set it with ocpp.%s", shown,
			k == OCPP_KEY_AUTHORIZATION_KEY ? "authorizationKey" : "securityProfile");
		return -EINVAL;
	}
	if (info->access == OCPP_KA_R) {
		set_err(err, errlen, "config: ocpp.keys.%s: read-only; the charge point sets it itself", shown);
		return -EINVAL;
	}
	for (int i = 0; i < o->n_keys; i++) {
		if (strcmp(o->keys[i].name, info->name) == 0) {
			set_err(err, errlen, "config: ocpp.keys.%s: %s is given twice", shown, info->name);
			return -EINVAL;
		}
	}
	if (o->n_keys >= GW_CONFIG_OCPP_KEYS_MAX) {
		set_err(err, errlen, "config: ocpp.keys: at most %d keys", GW_CONFIG_OCPP_KEYS_MAX);
		return -EINVAL;
	}
	if (!key_text(v, text, sizeof(text)) || ocpp_config_set(scratch, (enum ocpp_key)k, text) != 0) {
		describe(v, false, got, sizeof(got));
		if (json_is_string(v) || json_is_integer(v) || json_is_boolean(v))
			key_rule(info, must, sizeof(must));
		else
			snprintf(must, sizeof(must), "must be a string, an integer or a boolean");
		set_err(err, errlen, "config: ocpp.keys.%s: %s (got %s)", shown, must, got);
		return -EINVAL;
	}
	snprintf(o->keys[o->n_keys].name, sizeof(o->keys[0].name), "%s", info->name);
	snprintf(o->keys[o->n_keys].value, sizeof(o->keys[0].value), "%s", text);
	o->n_keys++;
	return 0;
}

static int apply_ocpp_keys(const json_t *obj, struct gw_config *cfg, char *err, size_t errlen)
{
	struct ocpp_config *scratch;
	const char *name;
	json_t *v;
	int rc = 0;

	if (!obj)
		return 0;
	scratch = ocpp_config_new();
	if (!scratch) {
		set_err(err, errlen, "config: ocpp.keys: out of memory");
		return -ENOMEM;
	}
	json_object_foreach((json_t *)obj, name, v) {
		rc = ocpp_key_add(scratch, name, v, &cfg->ocpp, err, errlen);
		if (rc)
			break;
	}
	ocpp_config_free(scratch);
	return rc;
}

/* The ocpp section's requirements that involve more than one key. */
static int check_ocpp(struct gw_config *cfg, const json_t *root, char *err, size_t errlen)
{
	struct gw_config_ocpp *o = &cfg->ocpp;
	struct gw_url u;

	o->enabled = lookup(root, "ocpp") != NULL;
	if (!o->enabled)
		return 0;
	if (!o->url[0] || !o->charge_box_id[0]) {
		set_err(err, errlen, "config: %s: required key missing (the ocpp section needs it)",
			o->url[0] ? "ocpp.chargeBoxId" : "ocpp.url");
		return -EINVAL;
	}
	if (gw_url_split(o->url, &u) != 0)
		return -EINVAL; /* parse_url() let it through: cannot happen */
	if (o->security_profile == 2 && !u.tls) {
		set_err(err, errlen, "config: ocpp.securityProfile: 2 (TLS and Basic auth) needs a wss:// ocpp.url "
			"(got 2 with a ws:// URL)");
		return -EINVAL;
	}
	if (o->security_profile >= 1 && !o->authorization_key[0]) {
		set_err(err, errlen, "config: ocpp.authorizationKey: required key missing for ocpp.securityProfile %d",
			o->security_profile);
		return -EINVAL;
	}
	if (o->security_profile >= 1 && strchr(o->charge_box_id, ':')) {
		set_err(err, errlen, "config: ocpp.chargeBoxId: must not contain ':' with Basic auth "
			"(ocpp.securityProfile %d)", o->security_profile);
		return -EINVAL;
	}
	if (o->id_tag_source == OCPP_IDTAG_FIXED && !o->id_tag_fixed[0]) {
		set_err(err, errlen, "config: ocpp.idTag.fixed: required key missing when ocpp.idTag.source is "
			"\"fixed\"");
		return -EINVAL;
	}
	return 0;
}

/* The tesla section's requirements that involve more than one key. */
static int check_tesla(struct gw_config *cfg, const json_t *root, char *err, size_t errlen)
{
	struct gw_config_tesla *t = &cfg->tesla;

	t->enabled = lookup(root, "tesla") != NULL;
	if (!t->enabled)
		return 0;
	if (!t->client_id[0]) {
		set_err(err, errlen, "config: tesla.clientId: required key missing (the tesla section needs it)");
		return -EINVAL;
	}
	if (!t->refresh_token[0] && !t->access_token[0]) {
		set_err(err, errlen, "config: tesla.refreshToken: required key missing (or tesla.accessToken)");
		return -EINVAL;
	}
	t->has_home = lookup(root, "tesla.home") != NULL;
	if (t->has_home && (!lookup(root, "tesla.home.latitude") || !lookup(root, "tesla.home.longitude"))) {
		set_err(err, errlen, "config: %s: required key missing (tesla.home needs latitude and longitude)",
			lookup(root, "tesla.home.latitude") ? "tesla.home.longitude" : "tesla.home.latitude");
		return -EINVAL;
	}
	return 0;
}

/* ---- policy: until, schedule and the rules between its keys ---- */

/* Whether @s starts with the shape @pat: 'd' a digit, anything else itself. */
static bool shape(const char *s, const char *pat)
{
	for (; *pat; s++, pat++)
		if (*pat == 'd' ? !isdigit((unsigned char)*s) : *s != *pat)
			return false;
	return true;
}

/* The @n digits at @s (checked by shape() first). */
static int digits(const char *s, int n)
{
	int v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return v;
}

/* "YYYY-MM-DDTHH:MM[:SS](Z|+HH:MM|-HH:MM)": an instant, so the offset is required. */
static int parse_until(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen)
{
	int y, mo, d, h, mi, sec = 0, oh = 0, om = 0;
	const char *p;
	struct tm tm;
	time_t t;

	(void)k;
	if (!shape(value, "dddd-dd-ddTdd:dd"))
		goto bad;
	p = value + 16; /* only now known to be inside the string */
	y = digits(value, 4);
	mo = digits(value + 5, 2);
	d = digits(value + 8, 2);
	h = digits(value + 11, 2);
	mi = digits(value + 14, 2);
	if (*p == ':') {
		if (!shape(p, ":dd"))
			goto bad;
		sec = digits(p + 1, 2);
		p += 3;
	}
	if (*p == 'Z' && p[1] == '\0') {
		oh = om = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && shape(p + 1, "dd:dd")) {
		oh = digits(p + 1, 2);
		om = digits(p + 4, 2);
		if (oh > 14 || om > 59)
			goto bad;
		if (*p == '-') {
			oh = -oh;
			om = -om;
		}
	} else {
		goto bad;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (tm.tm_mday != d) /* 31 February */
		goto bad;
	*(int64_t *)field = ((int64_t)t - (int64_t)oh * 3600 - (int64_t)om * 60) * 1000;
	return 0;
bad:
	snprintf(why, whylen, "must be a date and time with its offset, e.g. 2026-11-22T07:00:00+01:00 or "
		 "2026-11-22T06:00Z");
	return -EINVAL;
}

static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static int day_index(const char *s, size_t len)
{
	for (int i = 0; i < 7; i++)
		if (len == 3 && strncasecmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

/* "daily", or comma-separated days and ranges: "mon-fri", "sat,sun", "fri-mon". Bit 0 is Sunday. */
static int parse_days(const char *s, uint8_t *out)
{
	uint8_t bits = 0;

	if (strcasecmp(s, "daily") == 0) {
		*out = 0x7f;
		return 0;
	}
	while (*s) {
		size_t len = strcspn(s, ",");
		const char *dash = memchr(s, '-', len);
		int a, b;

		if (dash) {
			a = day_index(s, (size_t)(dash - s));
			b = day_index(dash + 1, len - (size_t)(dash - s) - 1);
		} else {
			a = b = day_index(s, len);
		}
		if (a < 0 || b < 0)
			return -EINVAL;
		for (int i = a;; i = (i + 1) % 7) {
			bits |= (uint8_t)(1u << i);
			if (i == b)
				break;
		}
		s += len;
		if (*s == ',' && *++s == '\0')
			return -EINVAL;
	}
	if (!bits)
		return -EINVAL;
	*out = bits;
	return 0;
}

/* "HH:MM" as minutes after midnight. */
static int parse_hhmm(const char *s, int *out)
{
	int h, m;

	if (!shape(s, "dd:dd") || s[5])
		return -EINVAL;
	h = digits(s, 2);
	m = digits(s + 3, 2);
	if (h > 23 || m > 59)
		return -EINVAL;
	*out = h * 60 + m;
	return 0;
}

/* Only @allowed members (NULL-terminated) in @obj, else an "unknown key" error naming @where.key. */
static int only_keys(const json_t *obj, const char *where, const char *const *allowed, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;
		char shown[KEY_PATH_MAX];

		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			sanitize(key, shown, sizeof(shown));
			set_err(err, errlen, "config: %s.%s: unknown key", where, shown);
			return -EINVAL;
		}
	}
	return 0;
}

/* A string member copied into @out (size @outlen); absent leaves @out alone. */
static int member_string(const json_t *obj, const char *where, const char *name, bool secret, char *out,
			 size_t outlen, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, name);
	char got[GOT_MAX];

	if (!v)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
	    json_string_length(v) == 0 || json_string_length(v) >= outlen) {
		describe(v, secret, got, sizeof(got));
		set_err(err, errlen, "config: %s.%s: must be a string of 1 to %zu characters (got %s)", where, name,
			outlen - 1, got);
		return -EINVAL;
	}
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int member_int(const json_t *obj, const char *where, const char *name, long long lo, long long hi,
		      int *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, name);
	char got[GOT_MAX];

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		describe(v, false, got, sizeof(got));
		set_err(err, errlen, "config: %s.%s: must be an integer from %lld to %lld (got %s)", where, name, lo,
			hi, got);
		return -EINVAL;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

static int member_bool(const json_t *obj, const char *where, const char *name, bool *out, char *err,
		       size_t errlen)
{
	const json_t *v = json_object_get(obj, name);
	char got[GOT_MAX];

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		describe(v, false, got, sizeof(got));
		set_err(err, errlen, "config: %s.%s: must be true or false (got %s)", where, name, got);
		return -EINVAL;
	}
	*out = json_is_true(v);
	return 0;
}

static int apply_schedule(const json_t *v, struct gw_config *cfg, char *err, size_t errlen)
{
	static const char *const keys[] = { "days", "start", "end", "amps", NULL };
	struct gw_config_policy *p = &cfg->policy;
	size_t i;
	json_t *w;

	if (!v)
		return 0;
	if (json_array_size(v) > EMS_POLICY_MAX_WINDOWS) {
		set_err(err, errlen, "config: policy.schedule: at most %d windows (got %zu)", EMS_POLICY_MAX_WINDOWS,
			json_array_size(v));
		return -EINVAL;
	}
	json_array_foreach(v, i, w) {
		struct ems_policy_window *win = &p->windows[i];
		char where[48], text[64] = "daily", got[GOT_MAX];
		int rc;

		snprintf(where, sizeof(where), "policy.schedule[%zu]", i);
		if (!json_is_object(w)) {
			describe(w, false, got, sizeof(got));
			set_err(err, errlen, "config: %s: must be an object (got %s)", where, got);
			return -EINVAL;
		}
		rc = only_keys(w, where, keys, err, errlen);
		if (rc)
			return rc;
		for (int k = 1; k <= 2; k++) {
			const char *name = k == 1 ? "start" : "end";
			char hhmm[8] = "";

			if (!json_object_get(w, name)) {
				set_err(err, errlen, "config: %s.%s: required key missing", where, name);
				return -EINVAL;
			}
			rc = member_string(w, where, name, false, hhmm, sizeof(hhmm), err, errlen);
			if (!rc && parse_hhmm(hhmm, k == 1 ? &win->start_min : &win->end_min) != 0) {
				describe(json_object_get(w, name), false, got, sizeof(got));
				set_err(err, errlen, "config: %s.%s: must be a time HH:MM from 00:00 to 23:59 (got %s)",
					where, name, got);
				rc = -EINVAL;
			}
			if (rc)
				return rc;
		}
		rc = member_string(w, where, "days", false, text, sizeof(text), err, errlen);
		if (!rc && parse_days(text, &win->days) != 0) {
			describe(json_object_get(w, "days"), false, got, sizeof(got));
			set_err(err, errlen, "config: %s.days: must be \"daily\" or days and ranges such as "
				"\"mon-fri\" or \"sat,sun\" (got %s)", where, got);
			rc = -EINVAL;
		}
		if (rc)
			return rc;
		if (!json_object_get(w, "amps")) {
			set_err(err, errlen, "config: %s.amps: required key missing", where);
			return -EINVAL;
		}
		/* The range against the twc limits is checked in check_policy(), once they are known. */
		rc = member_int(w, where, "amps", 1, 240, &win->amps, err, errlen);
		if (rc)
			return rc;
	}
	p->n_windows = (int)json_array_size(v);
	return 0;
}

/* ---- ems: the energy meters ---- */

/* Same order as enum ems_meter_type. */
static const char *const meter_types[] = { "fronius", "powerwall", "envoy", "solaredge-modbus", "homeassistant",
					    "json", "mqtt", NULL };

/* Which keys each type takes besides type, pollSeconds and maxAgeSeconds. */
static const char *const *meter_keys(enum ems_meter_type t)
{
	static const char *const fronius[] = { "url", "caFile", "insecure", NULL };
	static const char *const powerwall[] = { "url", "email", "password", "caFile", "insecure", NULL };
	static const char *const envoy[] = { "url", "token", "caFile", "insecure", NULL };
	static const char *const solaredge[] = { "host", "port", "unitId", "meter", "battery", NULL };
	static const char *const told[] = { "url", "token", "caFile", "insecure", "values", NULL };
	static const char *const mqtt[] = { "host", "port", "username", "password", "values", NULL };

	switch (t) {
	case EMS_METER_FRONIUS:
		return fronius;
	case EMS_METER_POWERWALL:
		return powerwall;
	case EMS_METER_ENVOY:
		return envoy;
	case EMS_METER_SOLAREDGE:
		return solaredge;
	case EMS_METER_HASS:
	case EMS_METER_JSON:
		return told;
	case EMS_METER_MQTT:
		return mqtt;
	}
	return told;
}

/* HA entity ids: "domain.object_id" in lower case, digits and '_'. */
static bool entity_ok(const char *s)
{
	const char *dot = strchr(s, '.');

	if (!dot || dot == s || !dot[1] || strchr(dot + 1, '.'))
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_' && *s != '.')
			return false;
	return true;
}

/* A host for the gateway's tcp:// connections (solaredge-modbus, mqtt), by gw_url_host_port_split()'s rules:
 * a name or IPv4 address (letters, digits, '.', '-', '_') or an IPv6 address without brackets. */
static bool host_ok(const char *s)
{
	char spec[160], host[128];
	int port;

	/* A default port stands in for the one the member gives apart. */
	if ((size_t)snprintf(spec, sizeof(spec), strchr(s, ':') ? "[%s]" : "%s", s) >= sizeof(spec))
		return false;
	return gw_url_host_port_split(spec, strlen(spec), host, sizeof(host), &port, 1) == 0;
}
/* One member of values: a string (entity, pointer or topic) or an object with scale and invert. */
static int apply_source(const json_t *v, const char *where, enum ems_meter_type type, struct ems_meter_source *src,
			char *err, size_t errlen)
{
	static const char *const hass[] = { "entity", "scale", "invert", NULL };
	static const char *const json[] = { "pointer", "scale", "invert", NULL };
	static const char *const mqtt[] = { "topic", "pointer", "scale", "invert", NULL };
	const char *main_key = type == EMS_METER_HASS ? "entity" : type == EMS_METER_JSON ? "pointer" : "topic";
	char got[GOT_MAX];
	int rc;

	src->scale = 1.0;
	src->set = true;
	if (json_is_string(v)) {
		json_t *wrap = json_pack("{sO}", main_key, v);

		rc = wrap ? apply_source(wrap, where, type, src, err, errlen) : -ENOMEM;
		json_decref(wrap);
		return rc;
	}
	if (!json_is_object(v)) {
		describe(v, false, got, sizeof(got));
		set_err(err, errlen, "config: %s: must be a string or an object with \"%s\" (got %s)", where, main_key,
			got);
		return -EINVAL;
	}
	rc = only_keys(v, where, type == EMS_METER_HASS ? hass : type == EMS_METER_JSON ? json : mqtt, err, errlen);
	if (rc)
		return rc;
	if (!json_object_get(v, main_key)) {
		set_err(err, errlen, "config: %s.%s: required key missing", where, main_key);
		return -EINVAL;
	}
	rc = member_string(v, where, main_key, false, src->key, sizeof(src->key), err, errlen);
	if (!rc && type == EMS_METER_MQTT)
		rc = member_string(v, where, "pointer", false, src->pointer, sizeof(src->pointer), err, errlen);
	if (!rc)
		rc = member_bool(v, where, "invert", &src->invert, err, errlen);
	if (rc)
		return rc;
	if (json_object_get(v, "scale")) {
		const json_t *s = json_object_get(v, "scale");

		if (!json_is_number(s) || json_number_value(s) == 0 || fabs(json_number_value(s)) > 1e6) {
			describe(s, false, got, sizeof(got));
			set_err(err, errlen, "config: %s.scale: must be a number other than 0, e.g. 1000 for kW (got %s)",
				where, got);
			return -EINVAL;
		}
		src->scale = json_number_value(s);
	}
	if (type == EMS_METER_HASS && !entity_ok(src->key)) {
		char shown[61];

		/* Sanitized: a "\n" in the value would otherwise split the one-line message. */
		sanitize(src->key, shown, sizeof(shown));
		set_err(err, errlen, "config: %s.entity: must be an entity id such as sensor.grid_power (got \"%s\")",
			where, shown);
		return -EINVAL;
	}
	if ((type == EMS_METER_JSON && src->key[0] != '/') || (src->pointer[0] && src->pointer[0] != '/')) {
		set_err(err, errlen, "config: %s.pointer: must be a JSON pointer starting with '/', e.g. /Body/P_Grid",
			where);
		return -EINVAL;
	}
	if (type == EMS_METER_MQTT && strpbrk(src->key, "+#")) {
		set_err(err, errlen, "config: %s.topic: must be one topic, without the wildcards + and #", where);
		return -EINVAL;
	}
	return 0;
}

static int apply_values(const json_t *v, const char *where, struct gw_config_meter *m, char *err, size_t errlen)
{
	const char *name;
	json_t *member;
	int n = 0;

	if (!json_is_object(v) || json_object_size(v) == 0) {
		set_err(err, errlen, "config: %s.values: must be an object naming at least one of grid, pv, load, "
			"battery, soc, voltage", where);
		return -EINVAL;
	}
	json_object_foreach((json_t *)v, name, member) {
		char at[96], shown[KEY_PATH_MAX];
		int idx = ems_value_from_name(name);
		int rc;

		if (idx < 0) {
			sanitize(name, shown, sizeof(shown));
			set_err(err, errlen, "config: %s.values.%s: unknown value (grid, pv, load, battery, soc or voltage)",
				where, shown);
			return -EINVAL;
		}
		snprintf(at, sizeof(at), "%s.values.%s", where, name);
		rc = apply_source(member, at, m->type, &m->src[idx], err, errlen);
		if (rc)
			return rc;
		n++;
	}
	return n ? 0 : -EINVAL;
}

static int apply_meter(const json_t *v, const char *where, struct gw_config_meter *m, char *err, size_t errlen)
{
	const json_t *type = json_object_get(v, "type");
	const char *const *keys;
	const char *need = NULL;
	char got[GOT_MAX], why[160];
	int rc, t = -1;

	if (!json_is_object(v)) {
		describe(v, false, got, sizeof(got));
		set_err(err, errlen, "config: %s: must be an object (got %s)", where, got);
		return -EINVAL;
	}
	for (int i = 0; json_is_string(type) && meter_types[i]; i++)
		if (strcmp(json_string_value(type), meter_types[i]) == 0)
			t = i;
	if (t < 0) {
		if (type)
			describe(type, false, got, sizeof(got));
		set_err(err, errlen, "config: %s.type: %s fronius, powerwall, envoy, solaredge-modbus, homeassistant, "
			"json or mqtt%s%s%s", where, type ? "must be one of" : "required key missing: one of",
			type ? " (got " : "", type ? got : "", type ? ")" : "");
		return -EINVAL;
	}
	memset(m, 0, sizeof(*m));
	m->type = (enum ems_meter_type)t;
	m->port = m->type == EMS_METER_MQTT ? 1883 : 1502;
	m->unit_id = 1;
	m->se_meter = 1;
	m->poll_s = 5;
	m->max_age_s = m->type == EMS_METER_MQTT ? 60 : 30;
	m->insecure = m->type == EMS_METER_POWERWALL || m->type == EMS_METER_ENVOY;
	keys = meter_keys(m->type);
	{
		const char *all[16];
		size_t n = 0;

		all[n++] = "type";
		all[n++] = "maxAgeSeconds";
		if (m->type != EMS_METER_MQTT)
			all[n++] = "pollSeconds";
		for (size_t i = 0; keys[i] && n + 1 < sizeof(all) / sizeof(all[0]); i++)
			all[n++] = keys[i];
		all[n] = NULL;
		rc = only_keys(v, where, all, err, errlen);
		if (rc) {
			/* Say why: the key exists, only not for this type. No buffer (err NULL or errlen 0,
			 * which set_err() allows) holds no message to extend. */
			size_t len = err && errlen ? strlen(err) : 0;
			if (err && len + 40 < errlen)
				snprintf(err + len, errlen - len, " for type %s", meter_types[t]);
			return rc;
		}
	}
	rc = member_string(v, where, "url", false, m->url, sizeof(m->url), err, errlen);
	if (!rc)
		rc = member_string(v, where, "host", false, m->host, sizeof(m->host), err, errlen);
	if (!rc)
		rc = member_int(v, where, "port", 1, 65535, &m->port, err, errlen);
	if (!rc)
		rc = member_int(v, where, "unitId", 1, 247, &m->unit_id, err, errlen);
	if (!rc)
		rc = member_int(v, where, "meter", 0, 3, &m->se_meter, err, errlen);
	if (!rc)
		rc = member_bool(v, where, "battery", &m->se_battery, err, errlen);
	if (!rc)
		rc = member_string(v, where, "email", false, m->email, sizeof(m->email), err, errlen);
	if (!rc)
		rc = member_string(v, where, "username", false, m->username, sizeof(m->username), err, errlen);
	if (!rc)
		rc = member_string(v, where, "password", true, m->password, sizeof(m->password), err, errlen);
	if (!rc)
		rc = member_string(v, where, "token", true, m->token, sizeof(m->token), err, errlen);
	if (!rc)
		rc = member_int(v, where, "pollSeconds", 1, 3600, &m->poll_s, err, errlen);
	if (!rc)
		rc = member_int(v, where, "maxAgeSeconds", 1, 86400, &m->max_age_s, err, errlen);
	if (!rc)
		rc = member_bool(v, where, "insecure", &m->insecure, err, errlen);
	if (!rc && json_object_get(v, "caFile")) {
		char path[GW_CONFIG_PATH_MAX] = "";
		struct key_spec ks = { .path = "caFile", .size = sizeof(m->ca_file) };

		rc = member_string(v, where, "caFile", false, path, sizeof(path), err, errlen);
		if (!rc && parse_ca_file(&ks, path, m->ca_file, why, sizeof(why)) != 0) {
			set_err(err, errlen, "config: %s.caFile: %s", where, why);
			rc = -EINVAL;
		}
		/* A pinned CA is the stronger choice; it wins over the type's default. */
		if (!rc && !json_object_get(v, "insecure"))
			m->insecure = false;
	}
	if (!rc && json_object_get(v, "values"))
		rc = apply_values(json_object_get(v, "values"), where, m, err, errlen);
	if (rc)
		return rc;

	if (keys[0] && strcmp(keys[0], "url") == 0 && !m->url[0])
		need = "url";
	else if (keys[0] && strcmp(keys[0], "host") == 0 && !m->host[0])
		need = "host";
	else if (m->type == EMS_METER_POWERWALL && !m->password[0])
		need = "password";
	else if (m->type == EMS_METER_HASS && !m->token[0])
		need = "token";
	else if ((m->type == EMS_METER_HASS || m->type == EMS_METER_JSON || m->type == EMS_METER_MQTT) &&
		 !json_object_get(v, "values"))
		need = "values";
	if (!need && m->type == EMS_METER_MQTT && m->password[0] && !m->username[0])
		need = "username";
	if (need) {
		set_err(err, errlen, "config: %s.%s: required key missing for type %s%s", where, need, meter_types[t],
			strcmp(need, "username") == 0 ? " with a password" : "");
		return -EINVAL;
	}
	/* The meter core sends the token as it is in an Authorization header and refuses one it could
	 * not: refused here, so -n does not call a config OK that stops the gateway at start. */
	for (const char *c = m->token; *c; c++) {
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
			set_err(err, errlen, "config: %s.token: must be printable ASCII without spaces", where);
			return -EINVAL;
		}
	}
	if (m->host[0] && !host_ok(m->host)) {
		char shown[GOT_MAX - 2];

		sanitize(m->host, shown, sizeof(shown));
		set_err(err, errlen, "config: %s.host: must be a host name or an IP address, without a port or "
			"brackets (got \"%s\")", where, shown);
		return -EINVAL;
	}
	if (m->url[0]) {
		struct key_spec ks = { .path = "url", .size = sizeof(m->url) };
		char copy[GW_CONFIG_URL_MAX];

		/* URLs reach the debug log: a secret belongs in token/password, not in the query. Checked
		 * first, so a URL with credentials is never echoed by the message below. */
		if (strchr(m->url, '@')) {
			set_err(err, errlen, "config: %s.url: must not hold credentials; use token or password", where);
			return -EINVAL;
		}
		if (parse_http_url(&ks, m->url, copy, why, sizeof(why)) != 0) {
			char shown[81];

			/* Sanitized: what parse_http_url() refuses includes control characters. */
			sanitize(m->url, shown, sizeof(shown));
			set_err(err, errlen, "config: %s.url: %s (got \"%s\")", where, why, shown);
			return -EINVAL;
		}
	}
	if (m->type != EMS_METER_MQTT && m->max_age_s < m->poll_s) {
		set_err(err, errlen, "config: %s.maxAgeSeconds: must be at least pollSeconds (%d) (got %d)", where,
			m->poll_s, m->max_age_s);
		return -EINVAL;
	}
	return 0;
}

static int apply_ems(const json_t *v, struct gw_config *cfg, char *err, size_t errlen)
{
	size_t i;
	json_t *m;

	if (!v)
		return 0;
	if (json_array_size(v) > GW_CONFIG_EMS_MAX) {
		set_err(err, errlen, "config: ems: at most %d meters (got %zu)", GW_CONFIG_EMS_MAX, json_array_size(v));
		return -EINVAL;
	}
	json_array_foreach(v, i, m) {
		char where[32];
		int rc;

		snprintf(where, sizeof(where), "ems[%zu]", i);
		rc = apply_meter(m, where, &cfg->ems.m[i], err, errlen);
		if (rc)
			return rc;
	}
	cfg->ems.n = (int)json_array_size(v);
	return 0;
}

/* The policy section's rules that involve other keys. */
static int check_policy(struct gw_config *cfg, const json_t *root, char *err, size_t errlen)
{
	struct gw_config_policy *p = &cfg->policy;
	int lo = cfg->twc.min_amps, hi = cfg->twc.wiring_max_all;

	p->has_until = lookup(root, "policy.until") != NULL;
	if (lookup(root, "policy.then") && !p->has_until) {
		set_err(err, errlen, "config: policy.then: needs policy.until (the time the mode ends)");
		return -EINVAL;
	}
	if (p->has_until && p->then == p->mode) {
		set_err(err, errlen, "config: policy.then: must differ from policy.mode (got \"%s\")",
			ems_policy_mode_name(p->then));
		return -EINVAL;
	}
	for (int i = 0; i < p->n_windows; i++) {
		if (p->windows[i].amps < lo || p->windows[i].amps > hi) {
			set_err(err, errlen,
				"config: policy.schedule[%d].amps: must be from %d (twc.minAmpsPerTWC) to %d "
				"(twc.wiringMaxAmpsAllTWCs) (got %d)", i, lo, hi, p->windows[i].amps);
			return -EINVAL;
		}
	}
	if ((p->mode == EMS_POLICY_SCHEDULED || (p->has_until && p->then == EMS_POLICY_SCHEDULED)) && !p->n_windows) {
		set_err(err, errlen, "config: policy.schedule: required key missing for mode \"scheduled\"");
		return -EINVAL;
	}
	if ((p->mode == EMS_POLICY_TRACK_GREEN || (p->has_until && p->then == EMS_POLICY_TRACK_GREEN)) && !cfg->ems.n) {
		set_err(err, errlen, "config: ems: required key missing for mode \"track-green\" (a meter to track)");
		return -EINVAL;
	}
	return 0;
}

/* mkdir -p with mode 0750 for each missing level. */
static int mkdir_p(const char *dir)
{
	char path[GW_CONFIG_PATH_MAX];
	size_t len = strlen(dir);

	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char saved = path[i];
		path[i] = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST)
			return -errno;
		path[i] = saved;
	}
	return 0;
}

static int check_data_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	char shown[GOT_MAX];
	int rc;

	sanitize(dir, shown, sizeof(shown));
	if (stat(dir, &st) != 0) {
		if (errno != ENOENT) {
			rc = -errno;
			set_err(err, errlen, "config: dataDir: %s (got \"%s\")", strerror(-rc), shown);
			return rc;
		}
		rc = mkdir_p(dir);
		if (rc == 0 && stat(dir, &st) != 0)
			rc = -errno;
		if (rc) {
			set_err(err, errlen, "config: dataDir: cannot create the directory: %s (got \"%s\")",
				strerror(-rc), shown);
			return rc;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "config: dataDir: must be a directory (got \"%s\", which is not)", shown);
		return -ENOTDIR;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		rc = -errno;
		set_err(err, errlen, "config: dataDir: must be a writable directory: %s (got \"%s\")",
			strerror(-rc), shown);
		return rc;
	}
	return 0;
}

static int from_json(const json_t *root, struct gw_config *out, char *err, size_t errlen)
{
	struct gw_config cfg;
	int rc;

	if (!json_is_object(root)) {
		set_err(err, errlen, "config: the top level must be an object");
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
		v = lookup(root, k->path);
		if (!v && k->required) {
			set_err(err, errlen, "config: %s: required key missing", k->path);
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
			rc = apply_ocpp_keys(v, &cfg, err, errlen);
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
		rc = check_ocpp(&cfg, root, err, errlen);
	if (rc == 0)
		rc = check_tesla(&cfg, root, err, errlen);
	if (rc == 0)
		rc = check_policy(&cfg, root, err, errlen);
	if (rc)
		return rc;
	/* Last, because it may create directories: an otherwise invalid file changes nothing on disk. */
	rc = check_data_dir(cfg.data_dir, err, errlen);
	if (rc)
		return rc;
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

	sanitize(source, shown, sizeof(shown));
	set_err(err, errlen, "config: %s:%d:%d: %.*s", shown, je->line, je->column, len, je->text);
}

int gw_config_from_json_text(const char *text, const char *source, struct gw_config *out, char *err,
			     size_t errlen)
{
	json_error_t je;
	json_t *root;
	int rc;

	root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		syntax_error(&je, source ? source : "<text>", err, errlen);
		return -EINVAL;
	}
	rc = from_json(root, out, err, errlen);
	json_decref(root);
	return rc;
}

int gw_config_load(const char *path, struct gw_config *out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;
	FILE *f;
	int rc;

	/* Opened here rather than by json_load_file() so a missing or unreadable file reports errno
	 * instead of a parser message. */
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		char shown[GOT_MAX];
		sanitize(path, shown, sizeof(shown));
		set_err(err, errlen, "config: %s: %s", shown, strerror(-rc));
		return rc;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (!root) {
		syntax_error(&je, path, err, errlen);
		return -EINVAL;
	}
	rc = from_json(root, out, err, errlen);
	json_decref(root);
	return rc;
}
