/*
 * gw_config_meters: the ems list, one energy meter each, checked against the schema of its type:
 * which keys the type takes, their defaults, which are required, and the values map of the types
 * that are told where to read (homeassistant, json, mqtt); and how an https meter is trusted (caFile,
 * insecure, pin, or the type's default), settled here into one trust mode so gw_policy only follows it.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gw_config_internal.h"

/* Same order as enum ems_meter_type. */
static const char *const meter_types[] = { "fronius", "powerwall", "envoy", "solaredge-modbus", "homeassistant",
					    "json", "mqtt", NULL };

/* Which keys each type takes besides type, pollSeconds and maxAgeSeconds. */
static const char *const *meter_keys(enum ems_meter_type t)
{
	static const char *const fronius[] = { "url", "caFile", "insecure", "pin", NULL };
	static const char *const powerwall[] = { "url", "email", "password", "caFile", "insecure", "pin", NULL };
	static const char *const envoy[] = { "url", "token", "caFile", "insecure", "pin", NULL };
	static const char *const solaredge[] = { "host", "port", "unitId", "meter", "battery", NULL };
	static const char *const told[] = { "url", "token", "caFile", "insecure", "pin", "values", NULL };
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
#define PIN_PREFIX "sha256//"
#define PIN_B64_LEN 44 /* base64 of a SHA-256 */
#define PINS_MAX 4

/* "sha256//B64" (44 base64 characters ending in '='), one to PINS_MAX joined by ';': the form curl's
 * CURLOPT_PINNEDPUBLICKEY takes as hashes, never the name of a key file. */
static bool pins_ok(const char *s)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const size_t plen = sizeof(PIN_PREFIX) - 1;

	for (int n = 1; n <= PINS_MAX; n++) {
		if (strncmp(s, PIN_PREFIX, plen) != 0 || strspn(s + plen, b64) != PIN_B64_LEN - 1 ||
		    s[plen + PIN_B64_LEN - 1] != '=')
			return false;
		s += plen + PIN_B64_LEN;
		if (!*s)
			return true;
		if (*s++ != ';')
			return false;
	}
	return false;
}

/*
 * pin, caFile and insecure into one trust mode (after the url was checked). Each key that cannot go
 * with another is refused by name rather than one silently winning: a CA and a pin, or either with
 * insecure, would leave the user believing in a check that is not made.
 */
static int trust_settle(const json_t *v, const char *where, struct gw_config_meter *m, char *err, size_t errlen)
{
	const json_t *pin = json_object_get(v, "pin");
	bool https = strncmp(m->url, "https://", 8) == 0;
	bool learn = false;
	char got[GOT_MAX];

	if (m->insecure && m->ca_file[0]) {
		gw_config_err_set(err, errlen,
			"config: %s.insecure: cannot be true with caFile (the CA would not be checked)", where);
		return -EINVAL;
	}
	if (pin) {
		const char *p = json_string_value(pin);

		if (!p || (strcmp(p, "learn") != 0 && strcmp(p, "reset") != 0 && !pins_ok(p))) {
			gw_config_value_describe(pin, false, got, sizeof(got));
			gw_config_err_set(err, errlen,
				"config: %s.pin: must be \"learn\", \"reset\" or sha256//<base64 of the key's "
				"SHA-256> (up to %d joined by ';') (got %s)", where, PINS_MAX, got);
			return -EINVAL;
		}
		if (!https) {
			gw_config_err_set(err, errlen, "config: %s.pin: only for an https:// url", where);
			return -EINVAL;
		}
		if (m->ca_file[0] || m->insecure) {
			gw_config_err_set(err, errlen, "config: %s.pin: cannot be used with %s", where,
					  m->ca_file[0] ? "caFile (the CA is checked instead)" : "insecure: true");
			return -EINVAL;
		}
		learn = strcmp(p, "learn") == 0 || strcmp(p, "reset") == 0;
		m->pin_reset = strcmp(p, "reset") == 0;
		if (!learn)
			snprintf(m->pin, sizeof(m->pin), "%s", p);
	}
	if (!https)
		m->trust = GW_METER_TRUST_SYSTEM;
	else if (m->ca_file[0])
		m->trust = GW_METER_TRUST_CA;
	else if (m->insecure)
		m->trust = GW_METER_TRUST_INSECURE;
	else if (m->pin[0])
		m->trust = GW_METER_TRUST_PIN;
	/* Powerwall and Envoy serve self-signed certificates: the system store could never vouch for them. */
	else if (learn || m->type == EMS_METER_POWERWALL || m->type == EMS_METER_ENVOY)
		m->trust = GW_METER_TRUST_LEARN;
	else
		m->trust = GW_METER_TRUST_SYSTEM;
	return 0;
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
		gw_config_value_describe(v, false, got, sizeof(got));
		gw_config_err_set(err, errlen,
			"config: %s: must be a string or an object with \"%s\" (got %s)", where, main_key, got);
		return -EINVAL;
	}
	rc = gw_config_members_check(v, where, type == EMS_METER_HASS ? hass : type == EMS_METER_JSON ? json : mqtt,
				     err, errlen);
	if (rc)
		return rc;
	if (!json_object_get(v, main_key)) {
		gw_config_err_set(err, errlen, "config: %s.%s: required key missing", where, main_key);
		return -EINVAL;
	}
	rc = gw_config_member_string_read(v, where, main_key, false, src->key, sizeof(src->key), err, errlen);
	if (!rc && type == EMS_METER_MQTT)
		rc = gw_config_member_string_read(v, where, "pointer", false, src->pointer, sizeof(src->pointer), err,
						  errlen);
	if (!rc)
		rc = gw_config_member_bool_read(v, where, "invert", &src->invert, err, errlen);
	if (rc)
		return rc;
	if (json_object_get(v, "scale")) {
		const json_t *s = json_object_get(v, "scale");

		if (!json_is_number(s) || json_number_value(s) == 0 || fabs(json_number_value(s)) > 1e6) {
			gw_config_value_describe(s, false, got, sizeof(got));
			gw_config_err_set(err, errlen,
				"config: %s.scale: must be a number other than 0, e.g. 1000 for kW (got %s)",
				where, got);
			return -EINVAL;
		}
		src->scale = json_number_value(s);
	}
	if (type == EMS_METER_HASS && !entity_ok(src->key)) {
		char shown[61];

		/* Sanitized: a "\n" in the value would otherwise split the one-line message. */
		gw_config_text_sanitize(src->key, shown, sizeof(shown));
		gw_config_err_set(err, errlen,
			"config: %s.entity: must be an entity id such as sensor.grid_power (got \"%s\")", where, shown);
		return -EINVAL;
	}
	if ((type == EMS_METER_JSON && src->key[0] != '/') || (src->pointer[0] && src->pointer[0] != '/')) {
		gw_config_err_set(err, errlen,
			"config: %s.pointer: must be a JSON pointer starting with '/', e.g. /Body/P_Grid", where);
		return -EINVAL;
	}
	if (type == EMS_METER_MQTT && strpbrk(src->key, "+#")) {
		gw_config_err_set(err, errlen,
			"config: %s.topic: must be one topic, without the wildcards + and #", where);
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
		gw_config_err_set(err, errlen,
			"config: %s.values: must be an object naming at least one of grid, pv, load, "
			"battery, soc, voltage", where);
		return -EINVAL;
	}
	json_object_foreach((json_t *)v, name, member) {
		char at[96], shown[KEY_PATH_MAX];
		int idx = ems_value_from_name(name);
		int rc;

		if (idx < 0) {
			gw_config_text_sanitize(name, shown, sizeof(shown));
			gw_config_err_set(err, errlen,
				"config: %s.values.%s: unknown value (grid, pv, load, battery, soc or voltage)",
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
		gw_config_value_describe(v, false, got, sizeof(got));
		gw_config_err_set(err, errlen, "config: %s: must be an object (got %s)", where, got);
		return -EINVAL;
	}
	for (int i = 0; json_is_string(type) && meter_types[i]; i++)
		if (strcmp(json_string_value(type), meter_types[i]) == 0)
			t = i;
	if (t < 0) {
		if (type)
			gw_config_value_describe(type, false, got, sizeof(got));
		gw_config_err_set(err, errlen,
			"config: %s.type: %s fronius, powerwall, envoy, solaredge-modbus, homeassistant, "
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
		rc = gw_config_members_check(v, where, all, err, errlen);
		if (rc) {
			/* Say why: the key exists, only not for this type. No buffer (err NULL or errlen 0,
			 * which gw_config_err_set() allows) holds no message to extend. */
			size_t len = err && errlen ? strlen(err) : 0;
			if (err && len + 40 < errlen)
				snprintf(err + len, errlen - len, " for type %s", meter_types[t]);
			return rc;
		}
	}
	rc = gw_config_member_string_read(v, where, "url", false, m->url, sizeof(m->url), err, errlen);
	if (!rc)
		rc = gw_config_member_string_read(v, where, "host", false, m->host, sizeof(m->host), err, errlen);
	if (!rc)
		rc = gw_config_member_int_read(v, where, "port", 1, 65535, &m->port, err, errlen);
	if (!rc)
		rc = gw_config_member_int_read(v, where, "unitId", 1, 247, &m->unit_id, err, errlen);
	if (!rc)
		rc = gw_config_member_int_read(v, where, "meter", 0, 3, &m->se_meter, err, errlen);
	if (!rc)
		rc = gw_config_member_bool_read(v, where, "battery", &m->se_battery, err, errlen);
	if (!rc)
		rc = gw_config_member_string_read(v, where, "email", false, m->email, sizeof(m->email), err, errlen);
	if (!rc)
		rc = gw_config_member_string_read(v, where, "username", false, m->username, sizeof(m->username), err,
						  errlen);
	if (!rc)
		rc = gw_config_member_string_read(v, where, "password", true, m->password, sizeof(m->password), err,
						  errlen);
	if (!rc)
		rc = gw_config_member_string_read(v, where, "token", true, m->token, sizeof(m->token), err, errlen);
	if (!rc)
		rc = gw_config_member_int_read(v, where, "pollSeconds", 1, 3600, &m->poll_s, err, errlen);
	if (!rc)
		rc = gw_config_member_int_read(v, where, "maxAgeSeconds", 1, 86400, &m->max_age_s, err, errlen);
	if (!rc)
		rc = gw_config_member_bool_read(v, where, "insecure", &m->insecure, err, errlen);
	if (!rc && json_object_get(v, "caFile")) {
		char path[GW_CONFIG_PATH_MAX] = "";
		struct key_spec ks = { .path = "caFile", .size = sizeof(m->ca_file) };

		rc = gw_config_member_string_read(v, where, "caFile", false, path, sizeof(path), err, errlen);
		if (!rc && gw_config_ca_file_parse(&ks, path, m->ca_file, why, sizeof(why)) != 0) {
			gw_config_err_set(err, errlen, "config: %s.caFile: %s", where, why);
			rc = -EINVAL;
		}
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
		gw_config_err_set(err, errlen,
			"config: %s.%s: required key missing for type %s%s", where, need, meter_types[t],
			strcmp(need, "username") == 0 ? " with a password" : "");
		return -EINVAL;
	}
	/* The meter core sends the token as it is in an Authorization header and refuses one it could
	 * not: refused here, so -n does not call a config OK that stops the gateway at start. */
	for (const char *c = m->token; *c; c++) {
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
			gw_config_err_set(err, errlen,
				"config: %s.token: must be printable ASCII without spaces", where);
			return -EINVAL;
		}
	}
	if (m->host[0] && !host_ok(m->host)) {
		char shown[GOT_MAX - 2];

		gw_config_text_sanitize(m->host, shown, sizeof(shown));
		gw_config_err_set(err, errlen,
			"config: %s.host: must be a host name or an IP address, without a port or "
			"brackets (got \"%s\")", where, shown);
		return -EINVAL;
	}
	if (m->url[0]) {
		struct key_spec ks = { .path = "url", .size = sizeof(m->url) };
		char copy[GW_CONFIG_URL_MAX];

		/* URLs reach the debug log: a secret belongs in token/password, not in the query. Checked
		 * first, so a URL with credentials is never echoed by the message below. */
		if (strchr(m->url, '@')) {
			gw_config_err_set(err, errlen,
				"config: %s.url: must not hold credentials; use token or password", where);
			return -EINVAL;
		}
		if (gw_config_http_url_parse(&ks, m->url, copy, why, sizeof(why)) != 0) {
			char shown[81];

			/* Sanitized: what gw_config_http_url_parse() refuses includes control characters. */
			gw_config_text_sanitize(m->url, shown, sizeof(shown));
			gw_config_err_set(err, errlen, "config: %s.url: %s (got \"%s\")", where, why, shown);
			return -EINVAL;
		}
	}
	if (m->url[0] && trust_settle(v, where, m, err, errlen) != 0)
		return -EINVAL;
	if (m->type != EMS_METER_MQTT && m->max_age_s < m->poll_s) {
		gw_config_err_set(err, errlen,
			"config: %s.maxAgeSeconds: must be at least pollSeconds (%d) (got %d)", where,
			m->poll_s, m->max_age_s);
		return -EINVAL;
	}
	return 0;
}

int gw_config_ems_apply(const json_t *v, struct gw_config *cfg, char *err, size_t errlen)
{
	size_t i;
	json_t *m;

	if (!v)
		return 0;
	if (json_array_size(v) > GW_CONFIG_EMS_MAX) {
		gw_config_err_set(err, errlen,
			"config: ems: at most %d meters (got %zu)", GW_CONFIG_EMS_MAX, json_array_size(v));
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
