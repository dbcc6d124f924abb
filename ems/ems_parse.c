/*
 * ems_parse: the meters' JSON and text answers turned into the normalised reading (see ems_parse.h
 * for each document and ems.h for the signs). Each parser works on a copy of the caller's reading
 * and hands it back only on success, so a malformed or empty answer never leaves half a reading
 * behind. No I/O; error texts name the field, never a value that could be a secret.
 */
#include "ems_parse.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#define NUMBER_TEXT_MAX 64 /* longest number text (with its unit) worth parsing */
#define POINTER_TOKEN_MAX 256
#define NAME_MAX_SHOWN 80  /* how much of a pointer or key an error message repeats */

/* What an optional member held. */
enum member { M_ABSENT, M_NULL, M_NUMBER };

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void err_clear(char *err, size_t errlen)
{
	if (err && errlen > 0)
		err[0] = '\0';
}

/* Up to @n bytes of @s for a message: a pointer or key comes from config or the device and may hold
 * control characters, which would break the one-line message. */
static const char *shown(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] && i + 1 < dstlen; i++)
		dst[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f ? '?' : s[i];
	dst[i] = '\0';
	return dst;
}

/* The parser's message leaves out jansson's text: it quotes the input near the error, and the input
 * may be a login answer holding a token. */
static json_t *load(const char *body, size_t len, bool need_object, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;
	const char *why;

	if (!body || len == 0) {
		seterr(err, errlen, "empty body");
		return NULL;
	}
	root = json_loadb(body, len, JSON_DECODE_ANY, &je);
	if (!root) {
		switch (json_error_code(&je)) {
		case json_error_premature_end_of_input:
			why = "truncated";
			break;
		case json_error_invalid_utf8:
			why = "invalid UTF-8";
			break;
		case json_error_null_character:
			why = "NUL byte";
			break;
		default:
			why = "syntax error";
			break;
		}
		seterr(err, errlen, "not JSON: %s at line %d, column %d", why, je.line, je.column);
		return NULL;
	}
	if (need_object && !json_is_object(root)) {
		seterr(err, errlen, "not a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

/* @key of @obj as a number; @path names @obj in the message ("" for the document). */
static int num_member(const json_t *obj, const char *path, const char *key, double *v, char *err, size_t errlen)
{
	const json_t *m = json_object_get(obj, key);

	if (!m)
		return M_ABSENT;
	if (json_is_null(m))
		return M_NULL;
	if (!json_is_number(m)) {
		seterr(err, errlen, "%s%s%s: not a number", path, *path ? "." : "", key);
		return -EINVAL;
	}
	*v = json_number_value(m);
	return M_NUMBER;
}

/* @key of @obj as an object: 1 with *o set, 0 if absent or null, -EINVAL for anything else. */
static int obj_member(const json_t *obj, const char *path, const char *key, json_t **o, char *err, size_t errlen)
{
	json_t *m = json_object_get(obj, key);

	*o = NULL;
	if (!m || json_is_null(m))
		return 0;
	if (!json_is_object(m)) {
		seterr(err, errlen, "%s%s%s: not an object", path, *path ? "." : "", key);
		return -EINVAL;
	}
	*o = m;
	return 1;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* x negated without producing -0 (which would print as "-0" in logs and the status page). */
static double neg(double x)
{
	return x == 0 ? 0 : -x;
}

/* ------------------------------------------------------------------ numbers in text */

static const struct {
	const char *name;
	double scale;
} units[] = { { "W", 1 }, { "kW", 1e3 }, { "MW", 1e6 }, { "%", 1 }, { "V", 1 } };

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* @s and @n without the whitespace around them. */
static void trim(const char **s, size_t *n)
{
	while (*n > 0 && is_space((*s)[*n - 1]))
		(*n)--;
	while (*n > 0 && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
}

/*
 * @s (@n bytes, no NUL needed): a plain decimal number, then (when @unit_ok) optional whitespace and
 * one of the units above, with whitespace around it all. The syntax is checked before strtod so
 * that its extras (hex, "inf", "nan", "infinity") never count as readings. Return 0 with *v set, or
 * -EINVAL with *why saying what was wrong.
 */
static int number_text(const char *s, size_t n, bool unit_ok, double *v, const char **why)
{
	char buf[NUMBER_TEXT_MAX + 1];
	size_t j = 0, digits = 0;
	const char *u;
	double x, scale = 1;
	char *end;

	trim(&s, &n);
	if (n == 0) {
		*why = "empty";
		return -EINVAL;
	}
	if (n > NUMBER_TEXT_MAX || memchr(s, '\0', n)) {
		*why = "not a number";
		return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';

	if (buf[j] == '+' || buf[j] == '-')
		j++;
	while (is_digit(buf[j])) {
		j++;
		digits++;
	}
	if (buf[j] == '.') {
		j++;
		while (is_digit(buf[j])) {
			j++;
			digits++;
		}
	}
	if (digits == 0) {
		*why = "not a number";
		return -EINVAL;
	}
	if (buf[j] == 'e' || buf[j] == 'E') {
		size_t k = j + 1;

		if (buf[k] == '+' || buf[k] == '-')
			k++;
		if (!is_digit(buf[k])) {
			*why = "not a number";
			return -EINVAL;
		}
		while (is_digit(buf[k]))
			k++;
		j = k;
	}
	x = strtod(buf, &end);
	if (end != buf + j || !isfinite(x)) {
		*why = "not a number";
		return -EINVAL;
	}
	u = buf + j;
	while (is_space(*u))
		u++;
	if (*u) {
		size_t i;

		if (!unit_ok) {
			*why = "not a number";
			return -EINVAL;
		}
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(u, units[i].name) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0])) {
			*why = "unknown unit (W, kW, MW, %, V)";
			return -EINVAL;
		}
		scale = units[i].scale;
	}
	x *= scale;
	if (!isfinite(x)) {
		*why = "out of range";
		return -EINVAL;
	}
	*v = x;
	return 0;
}

/* Load @body, let @fn read the document into a copy of @out, and keep the copy only on success:
 * a failed parse leaves the caller's reading as it was. */
static int parse_doc(const char *body, size_t len, int (*fn)(const json_t *, struct ems_reading *, char *, size_t),
		     struct ems_reading *out, char *err, size_t errlen)
{
	struct ems_reading r = *out;
	json_t *root;
	int rc;

	err_clear(err, errlen);
	if (!(root = load(body, len, true, err, errlen)))
		return -EINVAL;
	rc = fn(root, &r, err, errlen);
	json_decref(root);
	if (rc == 0)
		*out = r;
	return rc;
}

/* ------------------------------------------------------------------ Fronius */

static int fronius(const json_t *root, struct ems_reading *r, char *err, size_t errlen)
{
	json_t *head, *status, *body, *data, *site, *invs, *inv;
	const json_t *code;
	const char *key;
	double v;
	int rc, n = 0;

	if ((rc = obj_member(root, "", "Head", &head, err, errlen)) < 0)
		return rc;
	if ((rc = obj_member(head, "Head", "Status", &status, err, errlen)) < 0)
		return rc;
	code = json_object_get(status, "Code");
	if (json_is_null(code))
		code = NULL;
	if (code && !json_is_integer(code)) {
		seterr(err, errlen, "Head.Status.Code: not an integer");
		return -EINVAL;
	}
	if (code && json_integer_value(code) != 0) {
		seterr(err, errlen, "Head.Status.Code: %lld, no data", (long long)json_integer_value(code));
		return -ENODATA;
	}

	if ((rc = obj_member(root, "", "Body", &body, err, errlen)) < 0 ||
	    (rc = obj_member(body, "Body", "Data", &data, err, errlen)) < 0 ||
	    (rc = obj_member(data, "Body.Data", "Site", &site, err, errlen)) < 0)
		return rc;
	if (!site) {
		seterr(err, errlen, "%s: missing", !body ? "Body" : !data ? "Body.Data" : "Body.Data.Site");
		return -EINVAL;
	}

	if ((rc = num_member(site, "Body.Data.Site", "P_Grid", &v, err, errlen)) < 0)
		return rc;
	if (rc == M_NUMBER) {
		r->v[EMS_GRID] = v;
		n++;
	}
	/* null at night: the inverter sleeps and produces nothing. */
	if ((rc = num_member(site, "Body.Data.Site", "P_PV", &v, err, errlen)) < 0)
		return rc;
	if (rc != M_ABSENT) {
		r->v[EMS_PV] = rc == M_NUMBER && v > 0 ? v : 0;
		n++;
	}
	if ((rc = num_member(site, "Body.Data.Site", "P_Load", &v, err, errlen)) < 0)
		return rc;
	if (rc == M_NUMBER) {
		r->v[EMS_LOAD] = neg(v);
		n++;
	}
	if ((rc = num_member(site, "Body.Data.Site", "P_Akku", &v, err, errlen)) < 0)
		return rc;
	if (rc == M_NUMBER) {
		r->v[EMS_BATTERY] = v;
		n++;
	}

	if ((rc = obj_member(data, "Body.Data", "Inverters", &invs, err, errlen)) < 0)
		return rc;
	json_object_foreach(invs, key, inv) {
		char path[NAME_MAX_SHOWN + 32], name[NAME_MAX_SHOWN + 1];

		snprintf(path, sizeof(path), "Body.Data.Inverters.%s", shown(name, sizeof(name), key, NAME_MAX_SHOWN));
		if (!json_is_object(inv)) {
			seterr(err, errlen, "%s: not an object", path);
			return -EINVAL;
		}
		if ((rc = num_member(inv, path, "SOC", &v, err, errlen)) < 0)
			return rc;
		if (rc == M_NUMBER) {
			r->v[EMS_SOC] = v;
			n++;
			break;
		}
	}
	if (n == 0) {
		seterr(err, errlen, "Body.Data.Site: no values");
		return -ENODATA;
	}
	return 0;
}

int ems_fronius_parse(const char *body, size_t len, struct ems_reading *out, char *err, size_t errlen)
{
	return parse_doc(body, len, fronius, out, err, errlen);
}

/* ------------------------------------------------------------------ Powerwall */

int ems_powerwall_login_body(const char *email, const char *password, char *out, size_t outlen)
{
	json_t *o;
	char *s;
	size_t n;
	int rc;

	if (out && outlen > 0)
		out[0] = '\0';
	if (!password || !out)
		return -EINVAL;
	/* The gateway ignores the e-mail address but wants the member. */
	o = json_pack("{s:s, s:s, s:s, s:b}", "username", "customer", "password", password, "email",
		      email ? email : "", "force_sm_off", 0);
	if (!o)
		return -EINVAL; /* not UTF-8 */
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	n = strlen(s);
	if (n >= outlen || n > INT_MAX) {
		rc = -ENOSPC;
	} else {
		memcpy(out, s, n + 1);
		rc = (int)n;
	}
	explicit_bzero(s, n);
	free(s);
	return rc;
}

int ems_powerwall_login_parse(const char *body, size_t len, char *token, size_t tokenlen, char *err, size_t errlen)
{
	const json_t *t, *code;
	const char *s;
	json_t *root;
	size_t n = 0;
	int rc = -EINVAL;

	err_clear(err, errlen);
	if (token && tokenlen > 0)
		token[0] = '\0';
	if (!(root = load(body, len, true, err, errlen)))
		return -EINVAL;
	t = json_object_get(root, "token");
	code = json_object_get(root, "code");
	if (!t || json_is_null(t)) {
		if (json_is_integer(code))
			seterr(err, errlen, "token: missing (code %lld)", (long long)json_integer_value(code));
		else
			seterr(err, errlen, "token: missing");
	} else if (!json_is_string(t) || (n = json_string_length(t)) == 0) {
		seterr(err, errlen, "token: not a non-empty string");
	} else if (!token || n >= tokenlen) {
		seterr(err, errlen, "token: %zu bytes do not fit", n);
	} else {
		s = json_string_value(t);
		/* It goes into an HTTP header: a control character or space would split or end it. */
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) {
				seterr(err, errlen, "token: not printable ASCII");
				goto out;
			}
		memcpy(token, s, n + 1);
		rc = 0;
	}
out:
	json_decref(root);
	return rc;
}

static int aggregates(const json_t *root, struct ems_reading *r, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum ems_value v;
	} meters[] = { { "site", EMS_GRID }, { "battery", EMS_BATTERY }, { "load", EMS_LOAD }, { "solar", EMS_PV } };
	int rc, n = 0, present = 0;
	json_t *m;
	double v;

	for (size_t i = 0; i < sizeof(meters) / sizeof(meters[0]); i++) {
		if ((rc = obj_member(root, "", meters[i].name, &m, err, errlen)) < 0)
			return rc;
		if (rc == 0)
			continue;
		present++;
		if ((rc = num_member(m, meters[i].name, "instant_power", &v, err, errlen)) < 0)
			return rc;
		if (rc == M_NUMBER) {
			/* The solar CT reads a few watts negative at night (inverter standby). */
			r->v[meters[i].v] = meters[i].v == EMS_PV && v < 0 ? 0 : v;
			n++;
		}
		if (meters[i].v != EMS_GRID)
			continue;
		if ((rc = num_member(m, "site", "instant_average_voltage", &v, err, errlen)) < 0)
			return rc;
		if (rc == M_NUMBER && v > 0) {
			r->v[EMS_VOLTAGE] = v;
			n++;
		}
	}
	if (present == 0) {
		seterr(err, errlen, "no site, battery, load or solar");
		return -EINVAL;
	}
	if (n == 0) {
		seterr(err, errlen, "instant_power: no values");
		return -ENODATA;
	}
	return 0;
}

int ems_powerwall_aggregates_parse(const char *body, size_t len, struct ems_reading *out, char *err, size_t errlen)
{
	return parse_doc(body, len, aggregates, out, err, errlen);
}

int ems_powerwall_soe_parse(const char *body, size_t len, struct ems_reading *out, char *err, size_t errlen)
{
	json_t *root;
	double v;
	int rc;

	err_clear(err, errlen);
	if (!(root = load(body, len, true, err, errlen)))
		return -EINVAL;
	rc = num_member(root, "", "percentage", &v, err, errlen);
	json_decref(root);
	switch (rc) {
	case M_ABSENT:
		seterr(err, errlen, "percentage: missing");
		return -EINVAL;
	case M_NULL:
		seterr(err, errlen, "percentage: null");
		return -ENODATA;
	case M_NUMBER:
		/* The gateway keeps 5 % in reserve it never shows; the app scales it away. */
		out->v[EMS_SOC] = clamp((v - 5) / 0.95, 0, 100);
		return 0;
	default:
		return rc;
	}
}

/* ------------------------------------------------------------------ Envoy */

struct entry {
	const json_t *e;
	char path[48];
};

static const char *str_member(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool str_is(const char *s, const char *want)
{
	return s && strcmp(s, want) == 0;
}

/* The array @key of @root (absent or null: NULL). */
static int array_member(const json_t *root, const char *key, const json_t **a, char *err, size_t errlen)
{
	const json_t *m = json_object_get(root, key);

	*a = NULL;
	if (!m || json_is_null(m))
		return 0;
	if (!json_is_array(m)) {
		seterr(err, errlen, "%s: not an array", key);
		return -EINVAL;
	}
	*a = m;
	return 1;
}

/* Sets @found to the first entry of @a with @type (NULL: any) and @mtype (NULL: any). */
static int find_entry(const json_t *a, const char *name, const char *type, const char *mtype, struct entry *found,
		      char *err, size_t errlen)
{
	size_t i;
	const json_t *e;

	json_array_foreach(a, i, e) {
		if (!json_is_object(e)) {
			seterr(err, errlen, "%s[%zu]: not an object", name, i);
			return -EINVAL;
		}
		if (found->e)
			continue;
		if ((!type || str_is(str_member(e, "type"), type)) &&
		    (!mtype || str_is(str_member(e, "measurementType"), mtype))) {
			found->e = e;
			snprintf(found->path, sizeof(found->path), "%s[%zu]", name, i);
		}
	}
	return 0;
}

/* A consumption entry's wNow into @which: 1 if read. Without consumption CTs the entries are still
 * listed, with activeCount 0 and zeros that would read as a grid of 0 W. */
static int consumption(const struct entry *c, enum ems_value which, struct ems_reading *r, char *err, size_t errlen)
{
	double v;
	int rc;

	if (!c->e)
		return 0;
	if ((rc = num_member(c->e, c->path, "activeCount", &v, err, errlen)) < 0)
		return rc;
	if (rc == M_NUMBER && v <= 0)
		return 0;
	if ((rc = num_member(c->e, c->path, "wNow", &v, err, errlen)) < 0)
		return rc;
	if (rc != M_NUMBER)
		return 0;
	r->v[which] = v;
	return 1;
}

static int envoy(const json_t *root, struct ems_reading *r, char *err, size_t errlen)
{
	struct entry inv = { 0 }, eim = { 0 }, total = { 0 }, net = { 0 };
	const json_t *prod, *cons;
	bool active = false, have_pv = false;
	double v, pv = 0;
	int rc, n = 0;

	if ((rc = array_member(root, "production", &prod, err, errlen)) < 0 ||
	    (rc = array_member(root, "consumption", &cons, err, errlen)) < 0)
		return rc;
	if (!prod && !cons) {
		seterr(err, errlen, "no production or consumption");
		return -EINVAL;
	}
	if ((rc = find_entry(prod, "production", "inverters", NULL, &inv, err, errlen)) < 0 ||
	    (rc = find_entry(prod, "production", "eim", "production", &eim, err, errlen)) < 0 ||
	    (rc = find_entry(cons, "consumption", NULL, "total-consumption", &total, err, errlen)) < 0 ||
	    (rc = find_entry(cons, "consumption", NULL, "net-consumption", &net, err, errlen)) < 0)
		return rc;

	/* A gateway sold without production CTs still lists the eim entry, with activeCount 0 and zeros. */
	if (eim.e) {
		if ((rc = num_member(eim.e, eim.path, "activeCount", &v, err, errlen)) < 0)
			return rc;
		active = rc == M_NUMBER && v > 0;
	}
	if (active) {
		if ((rc = num_member(eim.e, eim.path, "wNow", &pv, err, errlen)) < 0)
			return rc;
		have_pv = rc == M_NUMBER;
	}
	if (!have_pv && inv.e) {
		if ((rc = num_member(inv.e, inv.path, "wNow", &pv, err, errlen)) < 0)
			return rc;
		have_pv = rc == M_NUMBER;
	}
	if (have_pv) {
		r->v[EMS_PV] = pv > 0 ? pv : 0;
		n++;
	}

	/* Line 1 where details=1 gives the lines: on multi-phase meters the entry's own figure is
	 * reported to add the lines up, which is no line-to-neutral voltage. */
	if (active) {
		const json_t *l0 = json_array_get(json_object_get(eim.e, "lines"), 0);
		const json_t *src = json_is_number(json_object_get(l0, "rmsVoltage")) ? l0 : eim.e;

		if ((rc = num_member(src, eim.path, "rmsVoltage", &v, err, errlen)) < 0)
			return rc;
		if (rc == M_NUMBER && v > 0) {
			r->v[EMS_VOLTAGE] = v;
			n++;
		}
	}

	if ((rc = consumption(&total, EMS_LOAD, r, err, errlen)) < 0)
		return rc;
	n += rc;
	if ((rc = consumption(&net, EMS_GRID, r, err, errlen)) < 0)
		return rc;
	n += rc;
	if (n == 0) {
		seterr(err, errlen, "wNow: no values");
		return -ENODATA;
	}
	return 0;
}

int ems_envoy_parse(const char *body, size_t len, struct ems_reading *out, char *err, size_t errlen)
{
	return parse_doc(body, len, envoy, out, err, errlen);
}

/* ------------------------------------------------------------------ Home Assistant */

static bool printable(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= max || (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static int hass(const json_t *root, double *value, char *err, size_t errlen)
{
	static const char *const nodata[] = { "unknown", "unavailable", "none", "" };
	const json_t *state = json_object_get(root, "state"), *unit;
	json_t *attrs;
	const char *s, *why, *u;
	double v, scale = 1;
	size_t i;
	int rc;

	if (!state) {
		seterr(err, errlen, "state: missing");
		return -EINVAL;
	}
	if (!json_is_string(state)) {
		seterr(err, errlen, "state: not a string");
		return -EINVAL;
	}
	s = json_string_value(state);
	for (i = 0; i < sizeof(nodata) / sizeof(nodata[0]); i++)
		if (strcasecmp(s, nodata[i]) == 0) {
			seterr(err, errlen, "state: %s", *s ? nodata[i] : "empty");
			return -ENODATA;
		}
	if ((rc = obj_member(root, "", "attributes", &attrs, err, errlen)) < 0)
		return rc;
	unit = json_object_get(attrs, "unit_of_measurement");
	if (unit && !json_is_null(unit)) {
		if (!json_is_string(unit)) {
			seterr(err, errlen, "attributes.unit_of_measurement: not a string");
			return -EINVAL;
		}
		u = json_string_value(unit);
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(u, units[i].name) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0])) {
			seterr(err, errlen, "attributes.unit_of_measurement: %s%s%s is not a power (W, kW, MW, %%, V)",
			       printable(u, 16) ? "\"" : "", printable(u, 16) ? u : "unit", printable(u, 16) ? "\"" : "");
			return -EINVAL;
		}
		scale = units[i].scale;
	}
	if (number_text(s, json_string_length(state), false, &v, &why) < 0) {
		seterr(err, errlen, "state: %s", why);
		return -EINVAL;
	}
	v *= scale;
	if (!isfinite(v)) {
		seterr(err, errlen, "state: out of range");
		return -EINVAL;
	}
	*value = v;
	return 0;
}

int ems_hass_parse(const char *body, size_t len, double *value, char *err, size_t errlen)
{
	json_t *root;
	int rc;

	err_clear(err, errlen);
	if (!(root = load(body, len, true, err, errlen)))
		return -EINVAL;
	rc = hass(root, value, err, errlen);
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------------ JSON Pointer and payloads */

/* "<the first @upto bytes of @ptr>: @what". */
static void pointer_err(char *err, size_t errlen, const char *ptr, size_t upto, const char *what)
{
	char name[NAME_MAX_SHOWN + 1];

	seterr(err, errlen, "%s: %s", shown(name, sizeof(name), ptr, upto), what);
}

/* RFC 6901 evaluation; messages name the pointer up to the token that failed. */
static int pointer_get(json_t *root, const char *ptr, json_t **out, char *err, size_t errlen)
{
	json_t *cur = root;
	const char *p = ptr;

	if (*p && *p != '/') {
		pointer_err(err, errlen, ptr, SIZE_MAX, "a JSON pointer starts with '/'");
		return -EINVAL;
	}
	while (*p == '/') {
		char tok[POINTER_TOKEN_MAX];
		size_t tn = 0, upto;

		p++;
		while (*p && *p != '/') {
			char c = *p++;

			if (c == '~') {
				if (*p != '0' && *p != '1') {
					pointer_err(err, errlen, ptr, (size_t)(p - ptr), "'~' must be followed by 0 or 1");
					return -EINVAL;
				}
				c = *p++ == '0' ? '~' : '/';
			}
			if (tn + 1 >= sizeof(tok)) {
				pointer_err(err, errlen, ptr, SIZE_MAX, "pointer token too long");
				return -EINVAL;
			}
			tok[tn++] = c;
		}
		tok[tn] = '\0';
		upto = (size_t)(p - ptr);

		if (json_is_object(cur)) {
			json_t *m = json_object_getn(cur, tok, tn);

			if (!m) {
				pointer_err(err, errlen, ptr, upto, "missing");
				return -EINVAL;
			}
			cur = m;
		} else if (json_is_array(cur)) {
			size_t idx = 0, i;

			/* A plain decimal: no sign, no leading zero, and no "-" (the element after the end). */
			if (tn == 0 || (tok[0] == '0' && tn > 1) || tn > 9) {
				pointer_err(err, errlen, ptr, upto, "not an array index");
				return -EINVAL;
			}
			for (i = 0; i < tn; i++) {
				if (!is_digit(tok[i])) {
					pointer_err(err, errlen, ptr, upto, "not an array index");
					return -EINVAL;
				}
				idx = idx * 10 + (size_t)(tok[i] - '0');
			}
			if (idx >= json_array_size(cur)) {
				pointer_err(err, errlen, ptr, upto, "index out of range");
				return -EINVAL;
			}
			cur = json_array_get(cur, idx);
		} else {
			pointer_err(err, errlen, ptr, upto, "parent is not an object or array");
			return -EINVAL;
		}
	}
	*out = cur;
	return 0;
}

int ems_json_pointer_number(const char *body, size_t len, const char *pointer, double *value, char *err,
			    size_t errlen)
{
	const char *name, *why;
	json_t *root, *node;
	double v;
	int rc;

	err_clear(err, errlen);
	if (!pointer)
		pointer = "";
	name = *pointer ? pointer : "document";
	if (!(root = load(body, len, false, err, errlen)))
		return -EINVAL;
	if ((rc = pointer_get(root, pointer, &node, err, errlen)) < 0)
		goto out;
	if (json_is_null(node)) {
		pointer_err(err, errlen, name, SIZE_MAX, "null");
		rc = -ENODATA;
	} else if (json_is_number(node)) {
		*value = json_number_value(node);
		rc = 0;
	} else if (json_is_string(node) &&
		   number_text(json_string_value(node), json_string_length(node), true, &v, &why) == 0) {
		*value = v;
		rc = 0;
	} else {
		pointer_err(err, errlen, name, SIZE_MAX, "not a number");
		rc = -EINVAL;
	}
out:
	json_decref(root);
	return rc;
}

int ems_payload_number(const char *payload, size_t len, const char *pointer, double *value, char *err,
		       size_t errlen)
{
	static const char *const nodata[] = { "unknown", "unavailable", "null", "nan" };
	const char *s = payload, *why;
	size_t n = len, i;
	double v;

	if (pointer && *pointer)
		return ems_json_pointer_number(payload, len, pointer, value, err, errlen);
	err_clear(err, errlen);
	if (!s)
		n = 0;
	trim(&s, &n);
	if (n == 0) {
		seterr(err, errlen, "payload: empty");
		return -ENODATA;
	}
	for (i = 0; i < sizeof(nodata) / sizeof(nodata[0]); i++)
		if (n == strlen(nodata[i]) && strncasecmp(s, nodata[i], n) == 0) {
			seterr(err, errlen, "payload: %s", nodata[i]);
			return -ENODATA;
		}
	if (number_text(s, n, true, &v, &why) < 0) {
		seterr(err, errlen, "payload: %s", why);
		return -EINVAL;
	}
	*value = v;
	return 0;
}
