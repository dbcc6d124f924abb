/*
 * ocpp_json: typed readers for OCPP payload fields that classify each violation the way the 1.6J
 * spec asks (missing -> Occurence, wrong JSON type -> Type, out of enum/range/length -> Property),
 * and the UTC timestamp format. Time conversion is our own civil-date arithmetic rather than
 * timegm()/gmtime_r(), so it is pure, thread-safe and independent of the C library's time zone state.
 */
#include "ocpp_json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* vsnprintf may cut a field name in the middle of a UTF-8 character; the description goes back into
 * a CALLERROR, which jansson refuses to build from invalid UTF-8, so drop the broken tail. */
static void utf8_trim_tail(char *s)
{
	size_t n = strlen(s), i = n, need;
	unsigned char c;

	while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return;
	c = (unsigned char)s[i - 1];
	need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

int ocpp_perr_set(struct ocpp_perr *e, enum ocpp_error code, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->error != OCPP_ERR_NONE)
		return -EINVAL;
	e->error = code;
	va_start(ap, fmt);
	if (vsnprintf(e->desc, sizeof(e->desc), fmt, ap) >= (int)sizeof(e->desc))
		utf8_trim_tail(e->desc);
	va_end(ap);
	return -EINVAL;
}

/* The common part of every reader: 1 and *v when present, 0 when absent and optional. */
static int field_get(const json_t *obj, const char *key, bool required, const json_t **v, struct ocpp_perr *e)
{
	if (!json_is_object(obj) || !key)
		return ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "payload is not an object");
	*v = json_object_get(obj, key);
	if (*v)
		return 1;
	if (required)
		return ocpp_perr_set(e, OCPP_ERR_OCCURENCE_CONSTRAINT, "'%s' is required", key);
	return 0;
}

/* The checks both string readers share: 1 with *v and its length *len when a string of at most
 * @maxlen bytes is present, 0 when absent and optional, -EINVAL otherwise. */
static int string_get(const json_t *obj, const char *key, size_t maxlen, bool required, const json_t **v,
		      size_t *len, struct ocpp_perr *e)
{
	int rc = field_get(obj, key, required, v, e);

	if (rc <= 0)
		return rc;
	if (!json_is_string(*v))
		return ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "'%s' must be a string", key);
	*len = json_string_length(*v);
	if (*len > maxlen)
		return ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT, "'%s' longer than %zu characters", key, maxlen);
	return 1;
}

int ocpp_json_string(const json_t *obj, const char *key, size_t maxlen, bool required, char *out,
		     size_t outsz, struct ocpp_perr *e)
{
	const json_t *v = NULL;
	size_t len = 0;
	int rc = string_get(obj, key, maxlen, required, &v, &len, e);

	if (rc <= 0)
		return rc;
	if (!out || len >= outsz) /* the caller broke @outsz > @maxlen: refuse rather than overrun */
		return ocpp_perr_set(e, OCPP_ERR_INTERNAL, "no room for '%s'", key);
	memcpy(out, json_string_value(v), len);
	out[len] = '\0';
	return 1;
}

int ocpp_json_string_ref(const json_t *obj, const char *key, size_t maxlen, bool required, const char **out,
			 struct ocpp_perr *e)
{
	const json_t *v = NULL;
	size_t len = 0;
	int rc = string_get(obj, key, maxlen, required, &v, &len, e);

	if (rc <= 0)
		return rc;
	/* "\u0000" is valid JSON; as a C string it would hand on a shorter value than was sent. */
	if (strlen(json_string_value(v)) != len)
		return ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT, "'%s' contains a NUL character", key);
	*out = json_string_value(v);
	return 1;
}

bool ocpp_uri_ok(const char *s)
{
	size_t i = 0;

	if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
	       s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	if (s[i] != ':' || s[i + 1] == '\0')
		return false;
	for (i++; s[i]; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

int ocpp_json_uri(const json_t *obj, const char *key, size_t maxlen, bool required, const char **out,
		  struct ocpp_perr *e)
{
	const char *s = NULL;
	int rc = ocpp_json_string_ref(obj, key, maxlen, required, &s, e);

	if (rc <= 0)
		return rc;
	if (!ocpp_uri_ok(s))
		return ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT, "'%s' is not a URI (scheme:..., no spaces)", key);
	*out = s;
	return 1;
}

int ocpp_json_int(const json_t *obj, const char *key, int64_t min, int64_t max, bool required, int64_t *out,
		  struct ocpp_perr *e)
{
	const json_t *v = NULL;
	int64_t i;
	int rc = field_get(obj, key, required, &v, e);

	if (rc <= 0)
		return rc;
	if (json_is_integer(v)) {
		i = json_integer_value(v);
	} else if (json_is_real(v)) {
		double d = json_real_value(v);

		/* Range first, as [-2^63, 2^63): converting anything outside is undefined behaviour. */
		if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
			return ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT, "'%s' out of range", key);
		i = (int64_t)d;
		if ((double)i != d)
			return ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "'%s' must be an integer", key);
	} else {
		return ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "'%s' must be an integer", key);
	}
	if (i < min || i > max)
		return ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT, "'%s' must be from %lld to %lld", key,
				     (long long)min, (long long)max);
	*out = i;
	return 1;
}

int ocpp_json_number(const json_t *obj, const char *key, double min, double max, bool required, double *out,
		     struct ocpp_perr *e)
{
	const json_t *v = NULL;
	double d;
	int rc = field_get(obj, key, required, &v, e);

	if (rc <= 0)
		return rc;
	if (!json_is_number(v))
		return ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "'%s' must be a number", key);
	d = json_number_value(v);
	if (!(d >= min && d <= max))
		return ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT, "'%s' must be from %g to %g", key, min, max);
	*out = d;
	return 1;
}

int ocpp_json_enum(const json_t *obj, const char *key, const char *const *names, int n, bool required, int *out,
		   struct ocpp_perr *e)
{
	const json_t *v = NULL;
	const char *s;
	int rc = field_get(obj, key, required, &v, e);

	if (rc <= 0)
		return rc;
	if (!json_is_string(v))
		return ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "'%s' must be a string", key);
	s = json_string_value(v);
	for (int i = 0; names && i < n; i++) {
		if (names[i] && strcmp(s, names[i]) == 0) {
			*out = i;
			return 1;
		}
	}
	return ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT, "'%s' is not an allowed value", key);
}

int ocpp_json_time(const json_t *obj, const char *key, bool required, int64_t *out, struct ocpp_perr *e)
{
	const json_t *v = NULL;
	int64_t t;
	int rc = field_get(obj, key, required, &v, e);

	if (rc <= 0)
		return rc;
	if (!json_is_string(v))
		return ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "'%s' must be a date-time string", key);
	if (ocpp_time_parse(json_string_value(v), &t) < 0)
		return ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT, "'%s' is not a valid date-time", key);
	*out = t;
	return 1;
}

int ocpp_json_object(const json_t *obj, const char *key, bool required, const json_t **out, struct ocpp_perr *e)
{
	const json_t *v = NULL;
	int rc = field_get(obj, key, required, &v, e);

	if (rc <= 0)
		return rc;
	if (!json_is_object(v))
		return ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "'%s' must be an object", key);
	*out = v;
	return 1;
}

int ocpp_json_array(const json_t *obj, const char *key, bool required, const json_t **out, struct ocpp_perr *e)
{
	const json_t *v = NULL;
	int rc = field_get(obj, key, required, &v, e);

	if (rc <= 0)
		return rc;
	if (!json_is_array(v))
		return ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "'%s' must be an array", key);
	*out = v;
	return 1;
}

int ocpp_json_only(const json_t *obj, const char *const *allowed, struct ocpp_perr *e)
{
	const char *key;
	const json_t *v = NULL;

	if (!json_is_object(obj))
		return ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "payload is not an object");
	json_object_foreach((json_t *)obj, key, v) {
		size_t i = 0;

		while (allowed && allowed[i] && strcmp(allowed[i], key) != 0)
			i++;
		if (!allowed || !allowed[i])
			return ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT, "unexpected field '%s'", key);
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* The four-digit years the format can show. */
#define TIME_MIN_MS (days_from_civil(0, 1, 1) * 86400000LL)
#define TIME_MAX_MS (days_from_civil(10000, 1, 1) * 86400000LL - 1)

void ocpp_time_format(int64_t unix_ms, char *buf, size_t bufsz)
{
	int64_t days, ms, y;
	unsigned mo, d;

	if (!buf || bufsz == 0)
		return;
	if (unix_ms < TIME_MIN_MS)
		unix_ms = TIME_MIN_MS;
	if (unix_ms > TIME_MAX_MS)
		unix_ms = TIME_MAX_MS;
	/* Floor division, so that instants before 1970 land on the right day. */
	days = unix_ms / 86400000;
	ms = unix_ms % 86400000;
	if (ms < 0) {
		ms += 86400000;
		days--;
	}
	civil_from_days(days, &y, &mo, &d);
	snprintf(buf, bufsz, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)y, mo, d, (int)(ms / 3600000),
		 (int)(ms / 60000 % 60), (int)(ms / 1000 % 60), (int)(ms % 1000));
}

/* Exactly @n digits at *p, advancing *p. */
static bool digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool expect(const char **p, char c1, char c2)
{
	if (**p != c1 && **p != c2)
		return false;
	(*p)++;
	return true;
}

int ocpp_time_parse(const char *s, int64_t *out)
{
	unsigned y, mo, d, h, mi, sec, ms = 0, zh = 0, zm = 0;
	int64_t offset_s = 0;
	const char *p = s;

	if (!s || !out)
		return -EINVAL;
	if (!digits(&p, 4, &y) || !expect(&p, '-', '-') || !digits(&p, 2, &mo) || !expect(&p, '-', '-') ||
	    !digits(&p, 2, &d) || !expect(&p, 'T', 't') || !digits(&p, 2, &h) || !expect(&p, ':', ':') ||
	    !digits(&p, 2, &mi) || !expect(&p, ':', ':') || !digits(&p, 2, &sec))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
		return -EINVAL;
	if (*p == '.') {
		int n = 0;

		/* Any number of digits; the first three are the milliseconds, the rest is cut. */
		for (p++; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 3)
				ms = ms * 10 + (unsigned)(*p - '0');
		if (n == 0)
			return -EINVAL;
		for (; n < 3; n++)
			ms *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if (!digits(&p, 2, &zh) || !expect(&p, ':', ':') || !digits(&p, 2, &zm) || zh > 23 || zm > 59)
			return -EINVAL;
		offset_s = sign * (int64_t)(zh * 3600 + zm * 60);
	}
	if (*p != '\0')
		return -EINVAL;
	*out = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s) * 1000 + ms;
	return 0;
}
