/*
 * gw_import: twcgw --import-twcmanager. Reads a TWCManager config.json the way TWCManager does ('#'
 * comments, "//" comment lines and trailing commas allowed) and the settings.json its web UI writes
 * next to it, and builds the equivalent twcgw config: the wiring, the RS-485 port, the energy meters
 * twcgw reads, the policy, MQTT status. Whatever does not map is a note naming the TWCManager key and
 * saying why. A wiring limit is only ever lowered to fit twcgw's ranges, never raised: a figure that
 * would need raising stops the import. The result is run through the config loader before it is
 * printed, so what comes out passes `twcgw -n`.
 */
#include "gw_import.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_config_internal.h"

#define KEY_MAX 160 /* a note's key: "sources.<name>.<member>" */
#define WHY_MAX 512
#define HOST_MAX 128
#define URL_MAX GW_CONFIG_URL_MAX

/* One import: the TWCManager input and the twcgw sections being built. */
struct imp {
	const json_t *root;     /* config.json */
	const json_t *cfg;      /* its "config" section */
	const json_t *settings; /* settings.json, NULL if none */
	const char *settings_why; /* why there is none */
	json_t *twc, *policy, *ems, *mqtt, *log;
	gw_import_note_fn note;
	void *user;
	int all, per, min;      /* the wiring as written; min is what twcgw will use */
	double volts;           /* what TWCManager turned amps into watts with */
	int phases;
	int battery_soc;        /* Powerwall2.minBatteryLevel; -1: none */
	bool grid_delivery;     /* treatGenerationAsGridDelivery: "generation" is really export */
};

/* ---- notes ---- */

static void note_v(struct imp *im, enum gw_import_note_kind kind, const char *key, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void note_v(struct imp *im, enum gw_import_note_kind kind, const char *key, const char *fmt, va_list ap)
{
	char why[WHY_MAX], shown[KEY_MAX];

	if (!im->note)
		return;
	vsnprintf(why, sizeof(why), fmt, ap);
	/* Key names come from the user's file: one printable line each. */
	gw_config_text_sanitize(key, shown, sizeof(shown));
	im->note(im->user, kind, shown, why);
}

static void skipped(struct imp *im, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void changed(struct imp *im, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void skipped(struct imp *im, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	note_v(im, GW_IMPORT_SKIPPED, key, fmt, ap);
	va_end(ap);
}

static void changed(struct imp *im, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	note_v(im, GW_IMPORT_CHANGED, key, fmt, ap);
	va_end(ap);
}

/* "section.member" for a note; cut rather than overflow (the note sanitizes it anyway). */
static const char *key_join(char *buf, size_t n, const char *a, const char *b)
{
	if (snprintf(buf, n, "%s.%s", a, b) >= (int)n && n > 4)
		memcpy(buf + n - 4, "...", 4);
	return buf;
}

/* ---- values as TWCManager reads them (Python: truthiness, int() of strings) ---- */

static bool truthy(const json_t *v)
{
	if (!v)
		return false;
	switch (json_typeof(v)) {
	case JSON_TRUE:
		return true;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0;
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_OBJECT:
		return json_object_size(v) > 0;
	default:
		return false;
	}
}

/* A number, or a string holding one ("8123", " 32 "): settings.json keeps many numbers as strings. */
static bool num_of(const json_t *v, double *out)
{
	const char *s, *p;
	char *end;
	double d;

	if (json_is_number(v)) {
		d = json_number_value(v);
	} else if (json_is_boolean(v)) {
		d = json_is_true(v) ? 1 : 0;
	} else if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v)) {
		s = json_string_value(v);
		for (p = s; *p == ' '; p++)
			;
		/* Decimal only: strtod would also take "nan", "inf" and hex, which no one means here. */
		if (!*p || !strchr("+-.0123456789", *p))
			return false;
		errno = 0;
		d = strtod(p, &end);
		while (*end == ' ')
			end++;
		if (end == p || *end || errno)
			return false;
	} else {
		return false;
	}
	if (!isfinite(d))
		return false;
	*out = d;
	return true;
}

/* A non-empty string without NUL characters, or NULL. */
static const char *str_of(const json_t *v)
{
	if (!json_is_string(v) || json_string_length(v) == 0 || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

/* A TCP port: a number or a numeric string from 1 to 65535; @dflt when absent; -1 when bad. */
static int port_of(const json_t *v, int dflt)
{
	double d;

	if (!v || json_is_null(v))
		return dflt;
	if (!num_of(v, &d) || d != floor(d) || d < 1 || d > 65535)
		return -1;
	return (int)d;
}

/* A host for a URL or a socket: a name or an IPv4 address. TWCManager pastes it into "http://" + host +
 * ":" + port, so an IPv6 address never worked there either. */
static bool host_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= HOST_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == '_'))
			return false;
	}
	return true;
}

/* A secret twcgw can send as it is: printable ASCII without spaces, shorter than @max. */
static bool secret_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* scheme://host[:port], the port left out when it is the scheme's own. */
static void url_make(char *out, size_t n, bool https, const char *host, int port)
{
	if (port == (https ? 443 : 80))
		snprintf(out, n, "%s://%s", https ? "https" : "http", host);
	else
		snprintf(out, n, "%s://%s:%d", https ? "https" : "http", host, port);
}

/* ---- reading TWCManager's JSON ---- */

/* TWCManager drops lines starting with "//" or '#', everything after a '#', and turns tabs into
 * spaces before handing the text to a YAML parser, which also takes trailing commas. The same here,
 * except that a '#' inside a string is kept (TWCManager would cut it, and then fail to read the file).
 * Characters are replaced by spaces, never removed, so a parser's line:column points into the file. */
static void text_clean(char *s, size_t len)
{
	bool line_start = true, in_str = false;
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '\t')
			s[i] = ' ';
	/* A UTF-8 byte order mark, which an editor on another system may have added. */
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		memset(s, ' ', 3);
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\n') {
			/* A JSON string never spans lines: a stray quote cannot hide the rest of the file's comments. */
			line_start = true;
			in_str = false;
			continue;
		}
		if (in_str) {
			if (c == '\\' && i + 1 < len && s[i + 1] != '\n')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (line_start && (c == ' ' || c == '\r'))
			continue;
		if (c == '#' || (line_start && c == '/' && i + 1 < len && s[i + 1] == '/')) {
			while (i < len && s[i] != '\n')
				s[i++] = ' ';
			line_start = true;
			continue;
		}
		line_start = false;
		if (c == '"')
			in_str = true;
	}
	/* Trailing commas: a ',' followed only by blanks up to a '}' or ']'. */
	in_str = false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"' || c == '\n')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == ',') {
			size_t j = i + 1;

			while (j < len && (s[j] == ' ' || s[j] == '\n' || s[j] == '\r'))
				j++;
			if (j < len && (s[j] == '}' || s[j] == ']'))
				s[i] = ' ';
		}
	}
}

/* @text (@len bytes) as TWCManager would read it; NULL with a message naming @name:line:column. */
static json_t *lenient_load(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;
	char *buf, shown[GOT_MAX];

	if (len > GW_IMPORT_FILE_MAX) {
		gw_config_text_sanitize(name, shown, sizeof(shown));
		gw_config_err_set(err, errlen, "%s: larger than %d KiB: not a TWCManager config", shown,
				  GW_IMPORT_FILE_MAX / 1024);
		return NULL;
	}
	buf = malloc(len + 1);
	if (!buf) {
		gw_config_err_set(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	text_clean(buf, len);
	/* Without JSON_REJECT_DUPLICATES: the last of a repeated key wins, as in TWCManager. */
	root = json_loadb(buf, len, JSON_DECODE_ANY, &je);
	free(buf);
	if (!root) {
		/* jansson quotes the text near the error, which may be part of a password: position only. */
		const char *near = strstr(je.text, " near '");
		int n = near ? (int)(near - je.text) : (int)strlen(je.text);

		gw_config_text_sanitize(name, shown, sizeof(shown));
		gw_config_err_set(err, errlen, "%s:%d:%d: not JSON: %.*s", shown, je.line, je.column, n, je.text);
	}
	return root;
}

/* ---- the wiring ---- */

/* A wiring figure in whole amps within [5, hi]: a fraction goes down and a figure above @hi comes down
 * to it, with a note; one below 5 A is refused, since only raising it would fit. */
static int wiring_amps(struct imp *im, const char *name, const json_t *v, int hi, int *out, char *err, size_t errlen)
{
	char key[KEY_MAX];
	double d;

	key_join(key, sizeof(key), "config", name);
	if (!num_of(v, &d)) {
		char got[GOT_MAX];

		gw_config_value_describe(v, false, got, sizeof(got));
		gw_config_err_set(err, errlen, "%s: must be a number of amps (got %s)", key, got);
		return -EINVAL;
	}
	if (d < 5) {
		gw_config_err_set(err, errlen,
			"%s: %g A is below 5 A, the least a Wall Connector can be told: twcgw cannot keep to "
			"it, and the importer never raises a wiring limit (set it from the breaker and the "
			"cable, then run the import again)", key, d);
		return -EINVAL;
	}
	if (d > hi) {
		changed(im, key, "%g A is above twcgw's most, %d A; lowered to %d A", d, hi, hi);
		*out = hi;
		return 0;
	}
	*out = (int)floor(d);
	if (*out != d)
		changed(im, key, "%g A rounded down to %d A (twcgw counts whole amps)", d, *out);
	return 0;
}

static int wiring(struct imp *im, char *err, size_t errlen)
{
	const json_t *v = json_object_get(im->cfg, "wiringMaxAmpsAllTWCs");
	double d;
	int rc;

	if (!v || json_is_null(v)) {
		gw_config_err_set(err, errlen,
			"config.wiringMaxAmpsAllTWCs: missing; twcgw does not guess a wiring limit (set it "
			"from the breaker and the cable that feed the Wall Connectors)");
		return -EINVAL;
	}
	rc = wiring_amps(im, "wiringMaxAmpsAllTWCs", v, 240, &im->all, err, errlen);
	if (rc)
		return rc;
	v = json_object_get(im->cfg, "wiringMaxAmpsPerTWC");
	if (!v || json_is_null(v)) {
		im->per = im->all < 6 ? im->all : 6;
		changed(im, "config.wiringMaxAmpsPerTWC", "missing; TWCManager's default, %d A, written (raise it to "
			"what one Wall Connector's wiring carries)", im->per);
	} else {
		rc = wiring_amps(im, "wiringMaxAmpsPerTWC", v, 80, &im->per, err, errlen);
		if (rc)
			return rc;
		if (im->per > im->all) {
			changed(im, "config.wiringMaxAmpsPerTWC", "%d A is above wiringMaxAmpsAllTWCs; lowered to "
				"%d A (no Wall Connector could get more than the total anyway)", im->per, im->all);
			im->per = im->all;
		}
	}
	json_object_set_new(im->twc, "wiringMaxAmpsAllTWCs", json_integer(im->all));
	json_object_set_new(im->twc, "wiringMaxAmpsPerTWC", json_integer(im->per));

	/* The least offer: not a wiring limit, so it may go up to what a Wall Connector can be told. */
	im->min = im->per < 6 ? im->per : 6;
	v = json_object_get(im->cfg, "minAmpsPerTWC");
	if (v && !json_is_null(v)) {
		if (!num_of(v, &d)) {
			skipped(im, "config.minAmpsPerTWC", "not a number; twcgw's default, %d A, applies", im->min);
		} else if (d > im->per) {
			changed(im, "config.minAmpsPerTWC", "%g A is above wiringMaxAmpsPerTWC, so TWCManager never "
				"charged; lowered to %d A", d, im->per);
			im->min = im->per;
		} else if (d < 5) {
			changed(im, "config.minAmpsPerTWC", "%g A is below what a Wall Connector can be told; "
				"TWCManager offered at least 6 A anyway: %d A", d, im->min);
		} else {
			im->min = (int)ceil(d);
			if (im->min != d)
				changed(im, "config.minAmpsPerTWC", "%g A rounded up to %d A (whole amps)", d, im->min);
		}
		json_object_set_new(im->twc, "minAmpsPerTWC", json_integer(im->min));
	} else if (im->min < 6) {
		/* twcgw's default 6 A would be above the per-TWC limit, which the loader refuses. */
		json_object_set_new(im->twc, "minAmpsPerTWC", json_integer(im->min));
	}
	return 0;
}

/* defaultVoltage, numberOfPhases and the master's bus id. */
static void electrics(struct imp *im)
{
	const json_t *v;
	const char *s;
	double d;

	im->volts = 240; /* TWCManager's default */
	im->phases = 1;
	v = json_object_get(im->cfg, "defaultVoltage");
	if (v && num_of(v, &d) && d >= 100 && d <= 480) {
		im->volts = d;
		json_object_set_new(im->twc, "voltage", json_integer(lround(d)));
	} else if (v) {
		skipped(im, "config.defaultVoltage", "not a number from 100 to 480 V; twcgw's default, 230 V, applies");
	}
	v = json_object_get(im->cfg, "numberOfPhases");
	if (v && num_of(v, &d) && (d == 1 || d == 3)) {
		im->phases = (int)d;
		json_object_set_new(im->twc, "phases", json_integer(im->phases));
	} else if (v) {
		skipped(im, "config.numberOfPhases", "twcgw takes 1 or 3 phases; its default, 1, applies");
	}
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "fakeTWCID" : "TWCID";
		char key[KEY_MAX], id[20];
		unsigned long n = 0;
		bool ok = false;

		v = json_object_get(im->cfg, name);
		if (!v)
			continue;
		key_join(key, sizeof(key), "config", name);
		s = str_of(v);
		if (s && strlen(s) == 4 && strspn(s, "0123456789abcdefABCDEF") == 4) {
			n = strtoul(s, NULL, 16);
			ok = true;
		} else if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 0xffff) {
			n = (unsigned long)json_integer_value(v);
			ok = true;
		}
		if (!ok || n == 0 || n == 0xffff) {
			skipped(im, key, "not 4 hex digits other than 0000 and FFFF; twcgw's default master id 7777 applies");
			continue;
		}
		snprintf(id, sizeof(id), "%04lX", n);
		json_object_set_new(im->twc, "masterId", json_string(id));
		break;
	}
}

/* ---- the RS-485 port ---- */

/* RS485's port: a device, or pyserial's socket://host:port (a raw TCP bridge). */
static bool port_serial(struct imp *im, const char *key, const char *port)
{
	char shown[GOT_MAX - 2], tcp[GW_CONFIG_PORT_MAX], host[GW_CONFIG_PORT_MAX];
	int n;

	gw_config_text_sanitize(port, shown, sizeof(shown));
	if (port[0] == '/') {
		bool ok = strlen(port) < GW_CONFIG_PORT_MAX;

		for (const char *c = port; ok && *c; c++)
			ok = (unsigned char)*c >= 0x20 && *c != 0x7f;
		if (ok) {
			json_object_set_new(im->twc, "port", json_string(port));
			return true;
		}
	} else if (strncmp(port, "socket://", 9) == 0) {
		if ((size_t)snprintf(tcp, sizeof(tcp), "tcp://%s", port + 9) < sizeof(tcp) &&
		    gw_url_tcp_split(tcp, host, sizeof(host), &n) == 0) {
			json_object_set_new(im->twc, "port", json_string(tcp));
			return true;
		}
	} else if (strncmp(port, "rfc2217://", 10) == 0) {
		skipped(im, key, "\"%s\": twcgw speaks raw TCP to a bridge, not RFC 2217: set the bridge to a raw "
			"TCP server and use twc.port tcp://host:port", shown);
		return false;
	}
	skipped(im, key, "\"%s\" is neither an absolute device path nor socket://host:port", shown);
	return false;
}

static void port(struct imp *im)
{
	const json_t *ifc = json_object_get(im->root, "interface");
	const json_t *rs = json_object_get(ifc, "RS485"), *tcp = json_object_get(ifc, "TCP");
	const json_t *dummy = json_object_get(ifc, "Dummy");
	const char *p;
	double baud = 0;
	bool done = false;

	if (json_is_object(dummy) && truthy(json_object_get(dummy, "enabled")))
		skipped(im, "interface.Dummy", "a simulated Wall Connector for tests (twc-sim does that for twcgw)");
	/* RS485 is enabled unless it says otherwise; TCP only when it says so. */
	if (!json_is_object(ifc) || (json_is_object(rs) && (!json_object_get(rs, "enabled") ||
							     truthy(json_object_get(rs, "enabled"))))) {
		const char *key = "interface.RS485.port";

		p = str_of(json_object_get(rs, "port"));
		if (!p) {
			p = str_of(json_object_get(im->cfg, "rs485adapter"));
			key = "config.rs485adapter";
		}
		if (p)
			done = port_serial(im, key, p);
		if (!num_of(json_object_get(rs, "baud"), &baud) || baud == 0)
			num_of(json_object_get(im->cfg, "baud"), &baud);
		if (baud != 0 && baud != 9600)
			skipped(im, json_object_get(rs, "baud") ? "interface.RS485.baud" : "config.baud",
				"%g baud: twcgw always uses 9600 8N1, the Wall Connector's rate", baud);
		if (json_is_object(rs) && json_object_get(rs, "slaveTimeout"))
			skipped(im, "interface.RS485.slaveTimeout", "twcgw keeps the protocol's 26 s");
	}
	if (!done && json_is_object(tcp) && truthy(json_object_get(tcp, "enabled"))) {
		const char *host = str_of(json_object_get(tcp, "server"));
		int tport = port_of(json_object_get(tcp, "port"), 6000);

		if (!host)
			host = str_of(json_object_get(tcp, "host"));
		if (truthy(json_object_get(tcp, "listen"))) {
			skipped(im, "interface.TCP.listen", "twcgw connects to the RS-485 bridge; it does not wait "
				"for the bridge to connect");
		} else if (!host_ok(host) || tport < 0) {
			skipped(im, "interface.TCP.server", "not a host name or IPv4 address with a port from 1 to 65535");
		} else {
			char url[GW_CONFIG_PORT_MAX];

			snprintf(url, sizeof(url), "tcp://%s:%d", host, tport);
			json_object_set_new(im->twc, "port", json_string(url));
			done = true;
		}
	}
	if (!done) {
		skipped(im, "interface", "no RS-485 port twcgw can use; twc.port is /dev/ttyUSB0: check it");
		json_object_set_new(im->twc, "port", json_string("/dev/ttyUSB0"));
	}
}

/* ---- energy meters ---- */

static bool ems_full(struct imp *im, const char *key)
{
	if (json_array_size(im->ems) < GW_CONFIG_EMS_MAX)
		return false;
	skipped(im, key, "twcgw reads at most %d meters", GW_CONFIG_EMS_MAX);
	return true;
}

/* The host and port of a source, or a note and false. */
static bool source_host(struct imp *im, const char *key, const json_t *src, const char *host_name,
			const char *port_name, int dflt, const char **host, int *tport)
{
	char k[KEY_MAX];

	*host = str_of(json_object_get(src, host_name));
	*tport = port_of(json_object_get(src, port_name), dflt);
	if (!*host) {
		skipped(im, key_join(k, sizeof(k), key, host_name), "missing; the meter is not carried over");
		return false;
	}
	if (!host_ok(*host)) {
		skipped(im, key_join(k, sizeof(k), key, host_name),
			"not a host name or IPv4 address; the meter is not carried over");
		return false;
	}
	if (*tport < 0) {
		skipped(im, key_join(k, sizeof(k), key, port_name), "not a port from 1 to 65535; the meter is not "
			"carried over");
		return false;
	}
	return true;
}

static void ems_add(struct imp *im, json_t *meter)
{
	if (meter)
		json_array_append_new(im->ems, meter);
}

/* Fronius: one meter per inverter address (serverIP may be a list). */
static void src_fronius(struct imp *im, const char *key, const json_t *src)
{
	const json_t *ips = json_object_get(src, "serverIP");
	size_t n = json_is_array(ips) ? json_array_size(ips) : 1;

	for (size_t i = 0; i < n; i++) {
		json_t *one = json_object();
		const char *host;
		char url[URL_MAX];
		int tport;

		/* One note for all the addresses that do not fit, however long the list. */
		if (!one || ems_full(im, key)) {
			json_decref(one);
			break;
		}
		json_object_set(one, "serverIP", json_is_array(ips) ? json_array_get(ips, i) : (json_t *)ips);
		json_object_set(one, "serverPort", json_object_get(src, "serverPort"));
		if (source_host(im, key, one, "serverIP", "serverPort", 80, &host, &tport)) {
			url_make(url, sizeof(url), false, host, tport);
			ems_add(im, json_pack("{ss ss}", "type", "fronius", "url", url));
		}
		json_decref(one);
	}
	if (n > 1)
		changed(im, key, "%zu inverters: one fronius meter each; their PV is added up, the grid figure "
			"comes from the first (docs/ems.md)", n);
}

static void src_powerwall(struct imp *im, const char *key, const json_t *src)
{
	const char *host, *pw = str_of(json_object_get(src, "password"));
	char url[URL_MAX], k[KEY_MAX];
	double soc;
	int tport;

	if (!source_host(im, key, src, "serverIP", "serverPort", 443, &host, &tport))
		return;
	if (!pw || !secret_ok(pw, sizeof(((struct gw_config_meter *)0)->password))) {
		skipped(im, key_join(k, sizeof(k), key, "password"), "%s: twcgw logs in with the customer "
			"password (Powerwall firmware 20.49 and later); the meter is not carried over",
			pw ? "not printable ASCII of 1 to 127 characters" : "missing");
		return;
	}
	url_make(url, sizeof(url), true, host, tport);
	ems_add(im, json_pack("{ss ss ss}", "type", "powerwall", "url", url, "password", pw));
	if (json_object_get(src, "minBatteryLevel") && num_of(json_object_get(src, "minBatteryLevel"), &soc) &&
	    soc >= 0 && soc <= 100)
		im->battery_soc = (int)lround(soc);
	else if (json_object_get(src, "minBatteryLevel"))
		skipped(im, key_join(k, sizeof(k), key, "minBatteryLevel"), "not a percentage from 0 to 100");
	if (json_object_get(src, "cloudID"))
		skipped(im, key_join(k, sizeof(k), key, "cloudID"), "twcgw reads the Powerwall on the LAN only "
			"(no storm watch from the cloud)");
}

static void src_enphase(struct imp *im, const char *key, const json_t *src)
{
	const char *host, *token = str_of(json_object_get(src, "token"));
	char url[URL_MAX], k[KEY_MAX];
	json_t *m;
	int tport;

	if (!json_object_get(src, "serverIP")) {
		skipped(im, key, "the Enphase cloud API v2 (apiKey, systemID, userID) is retired; twcgw reads the "
			"Envoy on the LAN: give serverIP and, for firmware 7, token");
		return;
	}
	if (!source_host(im, key, src, "serverIP", "serverPort", 80, &host, &tport))
		return;
	if (token && !secret_ok(token, GW_CONFIG_EMS_SECRET_MAX)) {
		skipped(im, key_join(k, sizeof(k), key, "token"), "not printable ASCII without spaces, shorter than "
			"%d characters; the meter is not carried over", GW_CONFIG_EMS_SECRET_MAX);
		return;
	}
	/* Firmware 7 (the one with tokens) serves https only; TWCManager's http:// URL did not reach it. */
	if (token && (tport == 80 || tport == 443)) {
		url_make(url, sizeof(url), true, host, 443);
		if (tport == 80)
			changed(im, key_join(k, sizeof(k), key, "serverPort"), "firmware 7 (with a token) serves "
				"https: url https://%s", host);
	} else {
		url_make(url, sizeof(url), token != NULL, host, tport);
	}
	m = json_pack("{ss ss}", "type", "envoy", "url", url);
	if (m && token)
		json_object_set_new(m, "token", json_string(token));
	ems_add(im, m);
}

static void src_solaredge(struct imp *im, const char *key, const json_t *src)
{
	const json_t *meters = json_object_get(src, "smartMeters"), *sm;
	const char *host;
	char k[KEY_MAX];
	int tport, grid = 0;
	size_t i, others = 0;
	json_t *m;

	if (!json_object_get(src, "inverterHost")) {
		skipped(im, key, "SolarEdge's cloud Monitoring API V1 (apiKey, siteID) was retired in November "
			"2026; twcgw reads the inverter over Modbus TCP: give inverterHost");
		return;
	}
	if (!source_host(im, key, src, "inverterHost", "inverterPort", 1502, &host, &tport))
		return;
	key_join(k, sizeof(k), key, "smartMeters");
	json_array_foreach(meters, i, sm) {
		const char *name = str_of(json_object_get(sm, "name")), *type = str_of(json_object_get(sm, "type"));
		int idx = name && strlen(name) == 6 && strncmp(name, "Meter", 5) == 0 && name[5] >= '1' && name[5] <= '3'
				  ? name[5] - '0' : 0;

		if (type && strcmp(type, "export") == 0 && idx && !grid)
			grid = idx;
		else
			others++;
	}
	if (others)
		skipped(im, k, "%zu of them: twcgw reads one export (grid) meter, Meter1 to Meter3; a consumption "
			"meter or a second one is not read", others);
	m = json_pack("{ss ss si}", "type", "solaredge-modbus", "host", host, "meter", grid);
	if (m && tport != 1502)
		json_object_set_new(m, "port", json_integer(tport));
	if (!grid)
		skipped(im, k, "no export meter: twcgw reads only the inverter's PV, which is not enough for "
			"track-green without a grid meter");
	ems_add(im, m);
}

/* The values of a meter that is told where to read: consumption as load, generation as pv. */
static bool told_values(struct imp *im, const char *key, json_t *values, const char *cons_name, const json_t *cons,
			const char *gen_name, const json_t *gen, bool hass)
{
	const char *names[2] = { cons_name, gen_name };
	const json_t *vals[2] = { cons, gen };
	char k[KEY_MAX];

	for (int i = 0; i < 2; i++) {
		const char *s = str_of(vals[i]);
		bool ok = s && strlen(s) < EMS_METER_KEY_MAX;

		if (!s)
			continue; /* blank: TWCManager does not read it either */
		key_join(k, sizeof(k), key, names[i]);
		if (i == 1 && im->grid_delivery) {
			skipped(im, k, "with treatGenerationAsGridDelivery this is an export figure, which twcgw would "
				"need as grid with invert: map it by hand (docs/ems.md)");
			continue;
		}
		if (ok && hass) {
			const char *dot = strchr(s, '.');

			ok = dot && dot != s && dot[1] && !strchr(dot + 1, '.');
			for (const char *c = s; ok && *c; c++)
				ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.';
		} else if (ok) {
			ok = !strpbrk(s, "+#");
		}
		if (!ok) {
			skipped(im, k, hass ? "not an entity id such as sensor.grid_power" :
					      "not one topic (wildcards + and # are not read)");
			continue;
		}
		json_object_set_new(values, i ? "pv" : "load", json_string(s));
	}
	if (json_object_size(values) == 0) {
		skipped(im, key, "no value twcgw can read; the meter is not carried over");
		return false;
	}
	return true;
}

static void src_hass(struct imp *im, const char *key, const json_t *src)
{
	const char *host, *token = str_of(json_object_get(src, "apiKey"));
	bool https = truthy(json_object_get(src, "useHttps"));
	json_t *values = json_object();
	char url[URL_MAX], k[KEY_MAX];
	int tport;

	if (!values)
		return;
	if (!source_host(im, key, src, "serverIP", "serverPort", 8123, &host, &tport))
		goto out;
	if (!token || !secret_ok(token, GW_CONFIG_EMS_SECRET_MAX)) {
		skipped(im, key_join(k, sizeof(k), key, "apiKey"), "%s: twcgw needs a long-lived access token; the "
			"meter is not carried over", token ? "not printable ASCII without spaces" : "missing");
		goto out;
	}
	if (!told_values(im, key, values, "hassEntityConsumption", json_object_get(src, "hassEntityConsumption"),
			 "hassEntityGeneration", json_object_get(src, "hassEntityGeneration"), true))
		goto out;
	url_make(url, sizeof(url), https, host, tport);
	ems_add(im, json_pack("{ss ss ss sO}", "type", "homeassistant", "url", url, "token", token, "values", values));
out:
	json_decref(values);
}

static void src_mqtt(struct imp *im, const char *key, const json_t *src)
{
	const char *host, *user = str_of(json_object_get(src, "username")), *pass = str_of(json_object_get(src, "password"));
	json_t *values = json_object(), *m;
	char k[KEY_MAX];
	int tport;

	if (!values)
		return;
	if (!source_host(im, key, src, "brokerIP", "brokerPort", 1883, &host, &tport))
		goto out;
	if (!told_values(im, key, values, "topicConsumption", json_object_get(src, "topicConsumption"),
			 "topicGeneration", json_object_get(src, "topicGeneration"), false))
		goto out;
	m = json_pack("{ss ss}", "type", "mqtt", "host", host);
	if (m && tport != 1883)
		json_object_set_new(m, "port", json_integer(tport));
	/* TWCManager logs in only with both. */
	if (m && user && pass && strlen(user) < 128 && strlen(pass) < 128) {
		json_object_set_new(m, "username", json_string(user));
		json_object_set_new(m, "password", json_string(pass));
	} else if (user || pass) {
		skipped(im, key_join(k, sizeof(k), key, user ? "username" : "password"), "TWCManager logs in only "
			"with both a username and a password of at most 127 characters; the broker is read without");
	}
	if (m)
		json_object_set(m, "values", values);
	ems_add(im, m);
out:
	json_decref(values);
}

/* Sources twcgw has no meter for, with a hint where there is a better one than the general. */
static const struct {
	const char *name;
	const char *hint;
} unsupported_sources[] = {
	{ "DSMRreader", "its kW delivered and returned are two figures twcgw would have to subtract" },
	{ "URL", "a bare number at <url>/<item>: twcgw's json meter reads a value at a JSON pointer instead" },
	{ "openHAB", NULL }, { "OpenHab", NULL }, { "DSMR", NULL }, { "Efergy", NULL }, { "EmonCMS", NULL },
	{ "Growatt", NULL }, { "IotaWatt", NULL }, { "Kostal", NULL }, { "P1Monitor", NULL }, { "SmartMe", NULL },
	{ "SmartPi", NULL }, { "SolarLog", NULL }, { "TED", NULL }, { "Victron", NULL }, { "Volkszahler", NULL },
	{ "OpenWeatherMap", "a cloud-cover forecast, not a meter" },
};

static void sources(struct imp *im)
{
	const json_t *srcs = json_object_get(im->root, "sources");
	const char *name;
	json_t *src;

	if (srcs && !json_is_object(srcs)) {
		skipped(im, "sources", "not an object; no meter is carried over");
		return;
	}
	json_object_foreach((json_t *)srcs, name, src) {
		char key[KEY_MAX];
		bool known = false;

		if (!json_is_object(src) || !truthy(json_object_get(src, "enabled")))
			continue; /* TWCManager does not load a module that is not enabled */
		key_join(key, sizeof(key), "sources", name);
		if (strcmp(name, "Fronius") == 0) {
			src_fronius(im, key, src);
			continue;
		}
		if (strcmp(name, "Powerwall2") == 0 || strcmp(name, "TeslaPowerwall2") == 0 || strcmp(name, "Powerwall") == 0) {
			if (!ems_full(im, key))
				src_powerwall(im, key, src);
		} else if (strcmp(name, "Enphase") == 0 || strcmp(name, "Envoy") == 0) {
			if (!ems_full(im, key))
				src_enphase(im, key, src);
		} else if (strcmp(name, "SolarEdge") == 0) {
			if (!ems_full(im, key))
				src_solaredge(im, key, src);
		} else if (strcmp(name, "HASS") == 0 || strcmp(name, "HomeAssistant") == 0) {
			if (!ems_full(im, key))
				src_hass(im, key, src);
		} else if (strcmp(name, "MQTT") == 0) {
			if (!ems_full(im, key))
				src_mqtt(im, key, src);
		} else {
			for (size_t i = 0; i < sizeof(unsupported_sources) / sizeof(unsupported_sources[0]); i++) {
				if (strcmp(name, unsupported_sources[i].name) == 0) {
					skipped(im, key, "twcgw has no meter of this kind%s%s; read it through Home "
						"Assistant, MQTT or a JSON URL (docs/ems.md)",
						unsupported_sources[i].hint ? ": " : "",
						unsupported_sources[i].hint ? unsupported_sources[i].hint : "");
					known = true;
				}
			}
			if (!known)
				skipped(im, key, "not a source this importer knows; read it through Home Assistant, MQTT "
					"or a JSON URL (docs/ems.md)");
		}
	}
}

/* ---- the policy ---- */

static double setting_num(const struct imp *im, const char *name, double dflt)
{
	double d;

	return num_of(json_object_get(im->settings, name), &d) ? d : dflt;
}

/* Hours as TWCManager keeps them (22 or 22.5) into HH:MM; 24 is the end of the day. */
static bool hhmm_of(double h, bool end, char *out, size_t n)
{
	long m;

	if (!(h >= 0 && h <= 24))
		return false;
	m = lround(h * 60);
	if (m >= 24 * 60) {
		if (!end)
			return false;
		m = 0; /* a window ending at midnight: twcgw's end 00:00 */
	}
	return snprintf(out, n, "%02d:%02d", (int)(m / 60) % 24, (int)(m % 60)) < (int)n;
}

/* scheduledAmpsDaysBitmap (Monday bit 0 ... Sunday bit 6) into twcgw's days. */
static void days_of(int bits, char *out, size_t n)
{
	static const char *const names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
	size_t used = 0;

	if ((bits & 0x7f) == 0x7f) {
		snprintf(out, n, "daily");
		return;
	}
	out[0] = '\0';
	for (int i = 0; i < 7; i++)
		if ((bits & (1 << i)) && used + 5 < n)
			used += (size_t)snprintf(out + used, n - used, "%s%s", used ? "," : "", names[i]);
}

/* Amps of a window: within [min, all], as the loader wants; TWCManager clamped to the total as well. */
static int window_amps(struct imp *im, const char *key, double a)
{
	if (a > im->all) {
		changed(im, key, "%g A is above wiringMaxAmpsAllTWCs; lowered to %d A", a, im->all);
		return im->all;
	}
	if (a < im->min) {
		changed(im, key, "%g A is below minAmpsPerTWC, so no car would have charged; raised to %d A", a,
			im->min);
		return im->min;
	}
	if (floor(a) != a)
		changed(im, key, "%g A rounded down to %d A", a, (int)floor(a));
	return (int)floor(a);
}

/* The scheduled window of settings.json, or NULL (with a note when one was meant but is unusable). */
static json_t *schedule_window(struct imp *im)
{
	double amps = setting_num(im, "scheduledAmpsMax", 0), start = setting_num(im, "scheduledAmpsStartHour", -1);
	double end = setting_num(im, "scheduledAmpsEndHour", -1), bits = setting_num(im, "scheduledAmpsDaysBitmap", 0x7f);
	char s[8], e[8], days[40];

	/* TWCManager's own test: a schedule needs amps, both hours and a day. */
	if (!(amps > 0) || start < 0 || end < 0 || !(bits >= 1 && bits <= 0x7fffffff) || ((int)bits & 0x7f) == 0)
		return NULL;
	if (!hhmm_of(start, false, s, sizeof(s)) || !hhmm_of(end, true, e, sizeof(e))) {
		skipped(im, "settings.scheduledAmpsStartHour", "the scheduled hours are not from 0 to 24; no schedule "
			"is carried over");
		return NULL;
	}
	if (strcmp(s, e) == 0) {
		skipped(im, "settings.scheduledAmpsStartHour", "the schedule starts when it ends, so TWCManager never "
			"used it; not carried over");
		return NULL;
	}
	days_of((int)bits, days, sizeof(days));
	return json_pack("{ss ss ss si}", "days", days, "start", s, "end", e, "amps",
			 window_amps(im, "settings.scheduledAmpsMax", amps));
}

/* greenEnergyAmpsOffset and settings.consumptionOffset: watts kept back from the surplus. */
static void margin(struct imp *im)
{
	const json_t *offs = json_object_get(im->settings, "consumptionOffset"), *o;
	double w = 0, d;
	const char *name, *key = NULL;

	if (num_of(json_object_get(im->cfg, "greenEnergyAmpsOffset"), &d) && d != 0) {
		w += d * im->volts * im->phases;
		key = "config.greenEnergyAmpsOffset";
	}
	json_object_foreach((json_t *)offs, name, o) {
		const char *unit = str_of(json_object_get(o, "unit"));

		if (!num_of(json_object_get(o, "value"), &d) || d == 0)
			continue;
		w += unit && strcmp(unit, "W") == 0 ? d : d * im->volts * im->phases;
		key = "settings.consumptionOffset";
	}
	if (!key)
		return;
	if (w < 0) {
		skipped(im, key, "a negative offset (%.0f W counted as more surplus) is not carried over: twcgw never "
			"offers more than the surplus", -w);
		return;
	}
	if (w > 100000) {
		changed(im, key, "%.0f W kept back is above twcgw's most, 100000 W; lowered", w);
		w = 100000;
	}
	json_object_set_new(im->policy, "marginW", json_integer(lround(w)));
}

static void policy(struct imp *im)
{
	double nsa = setting_num(im, "nonScheduledAction", 0), ns_amps = setting_num(im, "nonScheduledAmpsMax", 0);
	bool green = nsa != 2, has_ems = json_array_size(im->ems) > 0;
	json_t *win = schedule_window(im), *sched = NULL;
	/* Without settings.json TWCManager's defaults apply: Track Green Energy by day. */
	const char *nsa_key = json_object_get(im->settings, "nonScheduledAction") ? "settings.nonScheduledAction"
										       : "sources";
	const char *mode;
	double d;

	if (win) {
		mode = "scheduled";
		sched = json_pack("[o]", win);
		if (green && has_ems)
			skipped(im, nsa_key, "Track Green Energy outside the schedule: twcgw runs "
				"one mode at a time; policy.mode is scheduled and the meters are in ems (policy.mode "
				"track-green charges from the sun instead)");
		if (nsa == 1 && ns_amps > 0)
			skipped(im, "settings.nonScheduledAmpsMax", "charging at %g A outside the schedule: twcgw runs "
				"one mode at a time", ns_amps);
	} else if (nsa == 2) {
		mode = "off";
	} else if (has_ems) {
		mode = "track-green";
		if (nsa == 1 && ns_amps > 0)
			skipped(im, "settings.nonScheduledAmpsMax", "charging at %g A while there is no sun: twcgw "
				"runs one mode at a time; policy.mode is track-green", ns_amps);
	} else if (nsa == 1 && ns_amps > 0) {
		/* A window whose end is not after its start runs past midnight: 00:00 to 00:00 is all day. */
		mode = "scheduled";
		sched = json_pack("[{ss ss ss si}]", "days", "daily", "start", "00:00", "end", "00:00", "amps",
				  window_amps(im, "settings.nonScheduledAmpsMax", ns_amps));
		changed(im, "settings.nonScheduledAction", "Non Scheduled Charging at %g A: an all-day window; "
			"without a meter TWCManager's Track Green Energy hours gave nothing", ns_amps);
	} else {
		mode = "charge-now";
		if (green)
			skipped(im, nsa_key, "Track Green Energy needs an energy meter twcgw reads "
				"and none was carried over: policy.mode is charge-now (the wiring limit)");
	}
	json_object_set_new(im->policy, "mode", json_string(mode));
	if (sched)
		json_object_set_new(im->policy, "schedule", sched);
	if (!im->settings)
		skipped(im, "settings.json", "%s: the schedule, the charge mode and the offsets set in TWCManager's "
			"web UI are not carried over (policy.mode is %s)", im->settings_why, mode);

	if (num_of(json_object_get(im->cfg, "startStopDelay"), &d)) {
		long s = d < 0 ? 0 : d > 3600 ? 3600 : lround(d);

		if (s != d)
			changed(im, "config.startStopDelay", "%g s: twcgw takes 0 to 3600 whole seconds; %ld s", d, s);
		json_object_set_new(im->policy, "enableDelay", json_integer(s));
		json_object_set_new(im->policy, "disableDelay", json_integer(s));
	}
	margin(im);
	if (im->battery_soc >= 0)
		json_object_set_new(im->policy, "batterySoc", json_integer(im->battery_soc));
	/* TWCManager's default is false; twcgw's true: say it whenever it matters. */
	if (has_ems)
		json_object_set_new(im->policy, "loadIncludesChargers",
				    json_boolean(truthy(json_object_get(im->cfg, "subtractChargerLoad"))));

	if (setting_num(im, "hourResumeTrackGreenEnergy", -1) >= 0)
		skipped(im, "settings.hourResumeTrackGreenEnergy", "twcgw's track-green follows the meters at every hour");
	if (truthy(json_object_get(im->settings, "scheduledAmpsFlexStart")))
		skipped(im, "settings.scheduledAmpsFlexStart", "twcgw starts a window at its start time");
	if (setting_num(im, "chargeNowAmps", 0) > 0 && setting_num(im, "chargeNowTimeEnd", 0) > 0)
		skipped(im, "settings.chargeNowAmps", "a Charge Now in progress is not carried over (twcgw: "
			"policy.mode charge-now with policy.until)");
	if (setting_num(im, "chargeAuthorizationMode", 1) == 2)
		skipped(im, "settings.chargeAuthorizationMode", "charging only the VINs allowed: twcgw has no VIN list "
			"(an OCPP central system can authorize by VIN: ocpp.idTag.source vin)");
}

/* ---- MQTT status, logging ---- */

/* Whether the config loader takes @path: a key it does not know is noted, never printed, so the
 * output always passes twcgw -n. */
static bool loader_knows(const char *path)
{
	const char *p;

	for (size_t i = 0; (p = gw_config_key_path(i)) != NULL; i++)
		if (strcmp(p, path) == 0)
			return true;
	return false;
}

static void status_mqtt(struct imp *im, const json_t *m)
{
	static const struct {
		const char *from, *to;
	} keys[] = { { "brokerIP", "host" }, { "brokerPort", "port" }, { "username", "username" },
		     { "password", "password" }, { "topicPrefix", "prefix" } };
	const char *name;
	json_t *v;

	if (!loader_knows("mqtt") && !loader_knows("mqtt.host")) {
		skipped(im, "status.MQTT", "twcgw's own MQTT status publishing is not in this build yet; not carried over");
		return;
	}
	if (!host_ok(str_of(json_object_get(m, "brokerIP")))) {
		skipped(im, "status.MQTT.brokerIP", "not a host name or IPv4 address; MQTT status is not carried over");
		return;
	}
	json_object_foreach((json_t *)m, name, v) {
		char key[KEY_MAX], to[KEY_MAX];
		size_t i;

		if (strcmp(name, "enabled") == 0)
			continue;
		key_join(key, sizeof(key), "status.MQTT", name);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[i].from, name) != 0; i++)
			;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			skipped(im, key, "twcgw's MQTT status has no such setting");
			continue;
		}
		if (!loader_knows(key_join(to, sizeof(to), "mqtt", keys[i].to))) {
			skipped(im, key, "this build's mqtt section has no %s yet", keys[i].to);
			continue;
		}
		if (strcmp(name, "brokerPort") == 0) {
			int p = port_of(v, 1883);

			if (p < 0)
				skipped(im, key, "not a port from 1 to 65535");
			else
				json_object_set_new(im->mqtt, keys[i].to, json_integer(p));
		} else if (str_of(v)) {
			json_object_set_new(im->mqtt, keys[i].to, json_string(str_of(v)));
		}
	}
}

static void log_level(struct imp *im)
{
	const char *level = NULL;
	double d;

	if (num_of(json_object_get(im->cfg, "logLevel"), &d))
		level = d >= 40 ? "error" : d >= 30 ? "warn" : d >= 20 ? "info" : "debug";
	else if (num_of(json_object_get(im->cfg, "debugLevel"), &d))
		level = d <= 0 ? "error" : d <= 1 ? "info" : "debug";
	if (level && strcmp(level, "info") != 0)
		json_object_set_new(im->log, "level", json_string(level));
}

/* ---- what is left: keys and sections with no twcgw counterpart ---- */

/* Keys of the config section: handled above (NAN), or noted unless they hold TWCManager's default. */
static const struct {
	const char *name;
	double dflt; /* NAN: handled elsewhere or harmless; INFINITY: noted whenever set */
	const char *why;
} config_keys[] = {
	{ "wiringMaxAmpsAllTWCs", NAN, NULL }, { "wiringMaxAmpsPerTWC", NAN, NULL }, { "minAmpsPerTWC", NAN, NULL },
	{ "defaultVoltage", NAN, NULL }, { "numberOfPhases", NAN, NULL }, { "TWCID", NAN, NULL },
	{ "fakeTWCID", NAN, NULL }, { "rs485adapter", NAN, NULL }, { "baud", NAN, NULL },
	{ "subtractChargerLoad", NAN, NULL }, { "treatGenerationAsGridDelivery", NAN, NULL },
	{ "greenEnergyAmpsOffset", NAN, NULL }, { "startStopDelay", NAN, NULL }, { "logLevel", NAN, NULL },
	{ "debugLevel", NAN, NULL }, { "settingsPath", NAN, NULL }, { "displayMilliseconds", NAN, NULL },
	{ "cloudUpdateInterval", NAN, NULL }, { "webhookMethod", NAN, NULL }, { "debugOutputToFile", NAN, NULL },
	{ "debugFile", NAN, NULL }, { "wakeDelayMins", NAN, NULL }, { "atHomeRadius", NAN, NULL },
	{ "respectVehicleSchedule", NAN, NULL },
	{ "maxAmpsAllowedFromGrid", INFINITY, "twcgw has no whole-house grid limit; the wiring limits and the "
					      "policy decide" },
	{ "greenEnergyFlexAmps", 0, "twcgw keeps a charging car at the minimum for policy.disableDelay instead" },
	{ "useFlexAmpsToStartCharge", 0, "twcgw starts a car only from the surplus" },
	{ "greenEnergyLatch", INFINITY, "twcgw has one mode at a time, nothing to latch" },
	{ "minChargeLevel", -1, "twcgw does not read the car's state of charge" },
	{ "realPowerFactorMinAmps", 1, "twcgw counts amps × volts × phases" },
	{ "realPowerFactorMaxAmps", 1, "twcgw counts amps × volts × phases" },
	{ "chargeNowLimit", -1, "twcgw does not set the car's charge limit" },
	{ "greenEnergyLimit", -1, "twcgw does not set the car's charge limit" },
	{ "scheduledLimit", -1, "twcgw does not set the car's charge limit" },
	{ "nonScheduledLimit", -1, "twcgw does not set the car's charge limit" },
	{ "fakeMaster", 1, "twcgw is always the master" },
	{ "spikeAmpsToCancel6ALimit", INFINITY, "twcgw does not spike the offer" },
	{ "teslaApiClientID", INFINITY, "the tesla section is not generated: set it up as docs/tesla.md says (twcgw "
					"needs it to stop and start cars)" },
	{ "teslaProxy", INFINITY, "see tesla.baseUrl (docs/tesla.md)" },
	{ "teslaProxyCert", INFINITY, "see tesla.caFile (docs/tesla.md)" },
};

static void config_rest(struct imp *im)
{
	const char *name;
	json_t *v;

	json_object_foreach((json_t *)im->cfg, name, v) {
		char key[KEY_MAX];
		size_t i, n = sizeof(config_keys) / sizeof(config_keys[0]);
		double d;

		for (i = 0; i < n && strcmp(config_keys[i].name, name) != 0; i++)
			;
		key_join(key, sizeof(key), "config", name);
		if (i == n) {
			skipped(im, key, "not a setting this importer knows");
			continue;
		}
		if (isnan(config_keys[i].dflt) || json_is_null(v))
			continue;
		if (isinf(config_keys[i].dflt) || !num_of(v, &d) || d != config_keys[i].dflt)
			skipped(im, key, "%s", config_keys[i].why);
	}
	if (str_of(json_object_get(im->settings, "carApiRefreshToken")) && !json_object_get(im->cfg, "teslaApiClientID"))
		skipped(im, "settings.carApiRefreshToken", "the tesla section is not generated: set it up as "
			"docs/tesla.md says (twcgw needs it to stop and start cars)");
}

/* Members of @section that are enabled: none has a twcgw counterpart, each gets @why. */
static void section_enabled(struct imp *im, const char *section, const char *why)
{
	const json_t *sec = json_object_get(im->root, section);
	const char *name;
	json_t *v;

	json_object_foreach((json_t *)sec, name, v) {
		char key[KEY_MAX];
		const char *reason = why;

		if (!json_is_object(v) || !truthy(json_object_get(v, "enabled")))
			continue;
		if (strcmp(section, "logging") == 0 && (strcmp(name, "Console") == 0 ||
							(strcmp(name, "Sentry") == 0 && !str_of(json_object_get(v, "DSN")))))
			continue; /* the console is what twcgw does too; Sentry without a DSN sends nothing */
		if (strcmp(section, "control") == 0)
			reason = strcmp(name, "OCPP") == 0 ? "twcgw is itself an OCPP 1.6J charge point: give it an "
							     "ocpp section for your central system (docs/ocpp.md)"
				 : strcmp(name, "MQTT") == 0 ? "twcgw takes no commands over MQTT"
							     : "twcgw has no web interface or HTTP API";
		if (strcmp(section, "status") == 0 && strcmp(name, "MQTT") == 0) {
			status_mqtt(im, v);
			continue;
		}
		skipped(im, key_join(key, sizeof(key), section, name), "%s", reason);
	}
}

/* TWCManager's own policy rules (extend, override): twcgw's policy is policy.mode and its keys. */
static void policy_rules(struct imp *im)
{
	const json_t *pol = json_object_get(im->root, "policy"), *ext = json_object_get(pol, "extend");
	const char *name;
	json_t *v;

	json_object_foreach((json_t *)ext, name, v) {
		char key[KEY_MAX];

		if (truthy(v))
			skipped(im, key_join(key, sizeof(key), "policy.extend", name),
				"custom policy rules are not carried over: twcgw's policy is policy.mode (docs/ems.md)");
	}
	if (truthy(json_object_get(pol, "override")))
		skipped(im, "policy.override", "custom policy rules are not carried over: twcgw's policy is policy.mode "
			"(docs/ems.md)");
}

static void sections_rest(struct imp *im)
{
	static const char *const known[] = { "config", "interface", "sources", "status", "control", "logging",
					     "vehicle", "policy", "pricing", NULL };
	const char *name;
	json_t *v;

	section_enabled(im, "status", "twcgw publishes status over MQTT only");
	section_enabled(im, "control", NULL);
	section_enabled(im, "logging", "twcgw logs to stderr, which systemd keeps in the journal");
	section_enabled(im, "vehicle", "twcgw reaches cars only through the Tesla vehicle API (docs/tesla.md)");
	section_enabled(im, "pricing", "twcgw has no tariffs; policy.schedule windows can follow cheap hours");
	policy_rules(im);
	json_object_foreach((json_t *)im->root, name, v) {
		size_t i;

		for (i = 0; known[i] && strcmp(known[i], name) != 0; i++)
			;
		if (!known[i])
			skipped(im, name, "not a section this importer knows");
	}
}

/* ---- assembling and checking ---- */

/* The result through the loader itself, with a dataDir that exists, so `twcgw -n` agrees with it. */
static int output_check(const json_t *out, char *err, size_t errlen)
{
	struct gw_config *cfg = malloc(sizeof(*cfg));
	json_t *copy = json_deep_copy(out);
	char *text = NULL, e[512];
	int rc = -ENOMEM;

	if (cfg && copy && json_object_set_new(copy, "dataDir", json_string("/tmp")) == 0)
		text = json_dumps(copy, 0);
	if (text) {
		rc = gw_config_from_json_text(text, "<import>", cfg, e, sizeof(e));
		/* Only the stand-in directory can fail this one; the real dataDir is the user's. */
		if (rc && strncmp(e, "config: dataDir:", 16) == 0)
			rc = 0;
		if (rc)
			gw_config_err_set(err, errlen, "the converted config does not load (a bug in the importer, "
					  "please report it): %s", e);
	}
	free(text);
	json_decref(copy);
	free(cfg);
	return rc;
}

static json_t *assemble(struct imp *im)
{
	json_t *out = json_object();

	if (!out)
		return NULL;
	json_object_set_new(out, "dataDir", json_string(GW_IMPORT_DATA_DIR));
	json_object_set(out, "twc", im->twc);
	json_object_set(out, "policy", im->policy);
	if (json_array_size(im->ems))
		json_object_set(out, "ems", im->ems);
	if (json_object_size(im->mqtt))
		json_object_set(out, "mqtt", im->mqtt);
	if (json_object_size(im->log))
		json_object_set(out, "log", im->log);
	return out;
}

static int import_root(const json_t *root, const json_t *settings, const char *settings_why, char **text,
		       gw_import_note_fn note, void *user, char *err, size_t errlen)
{
	struct imp im = { .root = root, .settings = settings, .settings_why = settings_why, .note = note,
			  .user = user, .battery_soc = -1 };
	json_t *out = NULL;
	int rc = -ENOMEM;

	*text = NULL;
	if (!json_is_object(root)) {
		gw_config_err_set(err, errlen, "not a TWCManager config: the top level is %s; config.json is an "
				  "object with a \"config\" section", json_is_array(root) ? "an array" : "not an object");
		return -EINVAL;
	}
	im.cfg = json_object_get(root, "config");
	if (!json_is_object(im.cfg)) {
		gw_config_err_set(err, errlen, "not a TWCManager config: %s", json_object_get(root, "dataDir") &&
				  json_object_get(root, "twc") ? "it is a twcgw config already" : "no \"config\" section");
		return -EINVAL;
	}
	im.grid_delivery = truthy(json_object_get(im.cfg, "treatGenerationAsGridDelivery"));
	im.twc = json_object();
	im.policy = json_object();
	im.ems = json_array();
	im.mqtt = json_object();
	im.log = json_object();
	if (!im.twc || !im.policy || !im.ems || !im.mqtt || !im.log)
		goto out;
	json_object_set_new(im.twc, "port", json_null()); /* first in the section; filled by port() */
	rc = wiring(&im, err, errlen);
	if (rc)
		goto out;
	port(&im);
	electrics(&im);
	sources(&im);
	policy(&im);
	log_level(&im);
	config_rest(&im);
	sections_rest(&im);
	rc = -ENOMEM;
	out = assemble(&im);
	if (!out)
		goto out;
	rc = output_check(out, err, errlen);
	if (rc == -EINVAL && json_object_get(out, "mqtt")) {
		/* The mqtt section is another change's, arriving meanwhile: rather no MQTT status than no config. */
		skipped(&im, "status.MQTT", "not carried over: %s", err);
		json_object_del(out, "mqtt");
		rc = output_check(out, err, errlen);
	}
	if (rc == 0) {
		char *s = json_dumps(out, JSON_INDENT(2));
		size_t n = s ? strlen(s) : 0;

		*text = s ? realloc(s, n + 2) : NULL;
		if (*text)
			memcpy(*text + n, "\n", 2);
		else
			free(s);
		rc = *text ? 0 : -ENOMEM;
	}
out:
	json_decref(out);
	json_decref(im.twc);
	json_decref(im.policy);
	json_decref(im.ems);
	json_decref(im.mqtt);
	json_decref(im.log);
	return rc;
}

int gw_import_twcmanager_text(const char *config, const char *settings, char **out, gw_import_note_fn note,
			      void *user, char *err, size_t errlen)
{
	json_t *root, *set = NULL;
	char why[256] = "none given";
	int rc;

	*out = NULL;
	if (strlen(config) > GW_IMPORT_FILE_MAX || (settings && strlen(settings) > GW_IMPORT_FILE_MAX)) {
		gw_config_err_set(err, errlen, "larger than %d KiB: not a TWCManager config", GW_IMPORT_FILE_MAX / 1024);
		return -EFBIG;
	}
	root = lenient_load(config, strlen(config), "config.json", err, errlen);
	if (!root)
		return -EINVAL;
	if (settings) {
		/* A broken settings.json costs the schedule, not the import. */
		set = lenient_load(settings, strlen(settings), "settings.json", why, sizeof(why));
		if (set && !json_is_object(set))
			snprintf(why, sizeof(why), "settings.json: not an object");
	}
	rc = import_root(root, json_is_object(set) ? set : NULL, why, out, note, user, err, errlen);
	json_decref(set);
	json_decref(root);
	return rc;
}

/* ---- the command ---- */

/* Up to GW_IMPORT_FILE_MAX bytes of @path into *@out (NUL-terminated, free() it), length in *@len. */
static int file_read(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	char shown[GOT_MAX];
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;
	int rc = 0;

	gw_config_text_sanitize(path, shown, sizeof(shown));
	if (!f) {
		rc = -errno;
		gw_config_err_set(err, errlen, "%s: %s", shown, strerror(-rc));
		return rc;
	}
	buf = malloc(GW_IMPORT_FILE_MAX + 1);
	n = buf ? fread(buf, 1, GW_IMPORT_FILE_MAX + 1, f) : 0;
	if (!buf)
		rc = -ENOMEM;
	else if (ferror(f))
		rc = errno ? -errno : -EIO;
	else if (n > GW_IMPORT_FILE_MAX)
		rc = -EFBIG;
	fclose(f);
	if (rc) {
		gw_config_err_set(err, errlen, "%s: %s", shown, rc == -EFBIG ? "larger than 1 MiB: not a TWCManager "
				  "config" : strerror(-rc));
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

struct run_ctx {
	FILE *errout;
};

static void run_note(void *user, enum gw_import_note_kind kind, const char *key, const char *why)
{
	struct run_ctx *ctx = user;

	fprintf(ctx->errout, "%s: %s: %s\n", kind == GW_IMPORT_SKIPPED ? "not carried over" : "changed", key, why);
}

/* settings.json next to @path, else in the config's settingsPath; NULL (and a reason) if none. */
static json_t *settings_find(const char *path, const json_t *root, char *why, size_t whylen)
{
	const char *slash = strrchr(path, '/'), *dir2 = str_of(json_object_get(json_object_get(root, "config"),
										 "settingsPath"));
	char file[GW_CONFIG_PATH_MAX + 16], err[256];
	size_t len;
	char *text;
	json_t *set;

	for (int i = 0; i < 2; i++) {
		if (i == 0 && slash)
			snprintf(file, sizeof(file), "%.*s/settings.json", (int)(slash - path), path);
		else if (i == 0)
			snprintf(file, sizeof(file), "settings.json");
		else if (dir2 && strlen(dir2) < GW_CONFIG_PATH_MAX)
			snprintf(file, sizeof(file), "%s/settings.json", dir2);
		else
			break;
		if (file_read(file, &text, &len, err, sizeof(err)) != 0) {
			size_t used = strlen(why);

			/* Both places are named when neither has one. */
			snprintf(why + used, whylen - used, "%s%s", used ? "; " : "", err);
			continue;
		}
		set = lenient_load(text, len, file, err, sizeof(err));
		free(text);
		if (json_is_object(set))
			return set;
		snprintf(why, whylen, "%s", set ? "settings.json: not an object" : err);
		json_decref(set);
		return NULL;
	}
	return NULL;
}

int gw_import_twcmanager_run(const char *path, FILE *out, FILE *errout)
{
	struct run_ctx ctx = { .errout = errout };
	char err[512], why[300] = "";
	char *text = NULL, *result = NULL;
	json_t *root, *settings;
	size_t len;
	int rc;

	rc = file_read(path, &text, &len, err, sizeof(err));
	if (rc) {
		fprintf(errout, "twcgw: --import-twcmanager: %s\n", err);
		return 2;
	}
	root = lenient_load(text, len, path, err, sizeof(err));
	free(text);
	if (!root) {
		fprintf(errout, "twcgw: --import-twcmanager: %s\n", err);
		return 2;
	}
	settings = settings_find(path, root, why, sizeof(why));
	rc = import_root(root, settings, why, &result, run_note, &ctx, err, sizeof(err));
	json_decref(settings);
	json_decref(root);
	if (rc) {
		fprintf(errout, "twcgw: --import-twcmanager: %s\n", err);
		return 2;
	}
	fputs(result, out);
	free(result);
	return fflush(out) == 0 ? 0 : 2;
}
