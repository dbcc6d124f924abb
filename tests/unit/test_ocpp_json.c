/*
 * Tests of the payload readers and the timestamp format: for each reader the present, absent,
 * required, wrong-type and out-of-range paths with the CALLERROR code each one earns, the
 * first-violation-wins rule, and date-times against fixed instants, the C library's gmtime_r over
 * random instants from year 0 to 9999, leap years, 2038 and beyond, and zone offsets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ocpp_json.h"

static bool quick(void)
{
	return getenv("TWCGW_TEST_QUICK") != NULL;
}

static json_t *obj(const char *text)
{
	json_t *o = json_loads(text, 0, NULL);

	assert_non_null(o);
	return o;
}

static void test_string(void **state)
{
	json_t *o = obj("{\"a\":\"hello\",\"n\":5,\"z\":null,\"u\":\"\xc3\xa9\xc3\xa9\"}");
	struct ocpp_perr e = {0};
	char out[8];

	(void)state;
	assert_int_equal(ocpp_json_string(o, "a", 5, true, out, sizeof(out), &e), 1);
	assert_string_equal(out, "hello");
	assert_int_equal(e.error, OCPP_ERR_NONE);

	/* Absent and optional: 0, output untouched. */
	snprintf(out, sizeof(out), "keep");
	assert_int_equal(ocpp_json_string(o, "b", 5, false, out, sizeof(out), &e), 0);
	assert_string_equal(out, "keep");
	assert_int_equal(e.error, OCPP_ERR_NONE);

	assert_int_equal(ocpp_json_string(o, "b", 5, true, out, sizeof(out), &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_OCCURENCE_CONSTRAINT);
	assert_non_null(strstr(e.desc, "'b'"));
	assert_string_equal(out, "keep");

	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_string(o, "a", 4, true, out, sizeof(out), &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_PROPERTY_CONSTRAINT);

	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_string(o, "n", 5, false, out, sizeof(out), &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_TYPE_CONSTRAINT);
	assert_non_null(strstr(e.desc, "'n'"));

	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_string(o, "z", 5, false, out, sizeof(out), &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_TYPE_CONSTRAINT);

	/* Lengths are bytes: two two-byte characters are 4. */
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_string(o, "u", 3, false, out, sizeof(out), &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_PROPERTY_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_string(o, "u", 4, false, out, sizeof(out), &e), 1);
	assert_string_equal(out, "\xc3\xa9\xc3\xa9");

	/* A caller whose buffer is smaller than its limit is refused, not overrun. */
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_string(o, "a", 20, true, out, 3, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_INTERNAL);

	/* e may be NULL. */
	assert_int_equal(ocpp_json_string(o, "n", 5, false, out, sizeof(out), NULL), -EINVAL);
	json_decref(o);
}

static void test_first_violation_wins(void **state)
{
	json_t *o = obj("{\"n\":5}");
	struct ocpp_perr e = {0};
	char out[8];
	int64_t i;

	(void)state;
	assert_int_equal(ocpp_json_string(o, "missing", 5, true, out, sizeof(out), &e), -EINVAL);
	assert_int_equal(ocpp_json_int(o, "n", 0, 1, true, &i, &e), -EINVAL);
	assert_int_equal(ocpp_perr_set(&e, OCPP_ERR_GENERIC, "later %d", 1), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_OCCURENCE_CONSTRAINT);
	assert_non_null(strstr(e.desc, "missing"));

	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_perr_set(&e, OCPP_ERR_SECURITY, "code %d", 7), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_SECURITY);
	assert_string_equal(e.desc, "code 7");
	assert_int_equal(ocpp_perr_set(NULL, OCPP_ERR_SECURITY, "x"), -EINVAL);
	json_decref(o);
}

static void test_not_an_object(void **state)
{
	json_t *a = json_array();
	struct ocpp_perr e = {0};
	int64_t i = 0;

	(void)state;
	assert_int_equal(ocpp_json_int(a, "x", 0, 1, false, &i, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_TYPE_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_int(NULL, "x", 0, 1, false, &i, &e), -EINVAL);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_only(a, NULL, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_TYPE_CONSTRAINT);
	json_decref(a);
}

static void test_int(void **state)
{
	json_t *o = obj("{\"i\":42,\"r\":3.0,\"f\":3.5,\"s\":\"3\",\"b\":true,\"neg\":-7,\"big\":1e300,"
			"\"max\":9223372036854775807,\"min\":-9223372036854775808,\"p63\":9223372036854775808.0}");
	struct ocpp_perr e = {0};
	int64_t v = -1;

	(void)state;
	assert_int_equal(ocpp_json_int(o, "i", 0, 100, true, &v, &e), 1);
	assert_int_equal(v, 42);
	assert_int_equal(ocpp_json_int(o, "r", 0, 100, true, &v, &e), 1);
	assert_int_equal(v, 3);
	assert_int_equal(ocpp_json_int(o, "neg", -7, 0, true, &v, &e), 1);
	assert_int_equal(v, -7);
	assert_int_equal(ocpp_json_int(o, "max", INT64_MIN, INT64_MAX, true, &v, &e), 1);
	assert_true(v == INT64_MAX);
	assert_int_equal(ocpp_json_int(o, "min", INT64_MIN, INT64_MAX, true, &v, &e), 1);
	assert_true(v == INT64_MIN);
	v = 99;
	assert_int_equal(ocpp_json_int(o, "nope", 0, 100, false, &v, &e), 0);
	assert_int_equal(v, 99);
	assert_int_equal(e.error, OCPP_ERR_NONE);

	static const struct {
		const char *key;
		int64_t min, max;
		enum ocpp_error err;
	} bad[] = {
		{ "f", 0, 100, OCPP_ERR_TYPE_CONSTRAINT },
		{ "s", 0, 100, OCPP_ERR_TYPE_CONSTRAINT },
		{ "b", 0, 100, OCPP_ERR_TYPE_CONSTRAINT },
		{ "i", 43, 100, OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "i", 0, 41, OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "neg", -6, 0, OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "big", INT64_MIN, INT64_MAX, OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "p63", INT64_MIN, INT64_MAX, OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "nope", 0, 100, OCPP_ERR_OCCURENCE_CONSTRAINT },
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		memset(&e, 0, sizeof(e));
		v = 99;
		assert_int_equal(ocpp_json_int(o, bad[k].key, bad[k].min, bad[k].max, true, &v, &e), -EINVAL);
		assert_int_equal(e.error, bad[k].err);
		assert_int_equal(v, 99);
	}
	json_decref(o);
}

static void test_number(void **state)
{
	json_t *o = obj("{\"i\":16,\"r\":15.5,\"s\":\"1\",\"n\":null}");
	struct ocpp_perr e = {0};
	double d = 0;

	(void)state;
	assert_int_equal(ocpp_json_number(o, "i", 0, 100, true, &d, &e), 1);
	assert_true(d == 16.0);
	assert_int_equal(ocpp_json_number(o, "r", 0, 100, true, &d, &e), 1);
	assert_true(d == 15.5);
	assert_int_equal(ocpp_json_number(o, "x", 0, 100, false, &d, &e), 0);
	assert_int_equal(ocpp_json_number(o, "r", 0, 15.4, true, &d, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_PROPERTY_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_number(o, "r", 15.6, 100, true, &d, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_PROPERTY_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_number(o, "s", 0, 100, true, &d, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_TYPE_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_number(o, "n", 0, 100, false, &d, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_TYPE_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_number(o, "x", 0, 100, true, &d, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_OCCURENCE_CONSTRAINT);
	json_decref(o);
}

static void test_enum(void **state)
{
	static const char *const names[] = { "Accepted", "Rejected", "Scheduled" };
	json_t *o = obj("{\"s\":\"Scheduled\",\"lc\":\"accepted\",\"x\":\"Other\",\"n\":1}");
	struct ocpp_perr e = {0};
	int v = -1;

	(void)state;
	assert_int_equal(ocpp_json_enum(o, "s", names, 3, true, &v, &e), 1);
	assert_int_equal(v, 2);
	v = -1;
	assert_int_equal(ocpp_json_enum(o, "none", names, 3, false, &v, &e), 0);
	assert_int_equal(v, -1);
	/* Enums are case-sensitive in the schemas. */
	assert_int_equal(ocpp_json_enum(o, "lc", names, 3, true, &v, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_PROPERTY_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_enum(o, "x", names, 3, true, &v, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_PROPERTY_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	/* Only the first @n names count. */
	assert_int_equal(ocpp_json_enum(o, "s", names, 2, true, &v, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_PROPERTY_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_enum(o, "n", names, 3, true, &v, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_TYPE_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_enum(o, "none", names, 3, true, &v, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_OCCURENCE_CONSTRAINT);
	json_decref(o);
}

static void test_time_field(void **state)
{
	json_t *o = obj("{\"t\":\"2026-11-21T10:00:00.000Z\",\"bad\":\"2026-02-30T00:00:00Z\",\"n\":1795255200}");
	struct ocpp_perr e = {0};
	int64_t t = 0;

	(void)state;
	assert_int_equal(ocpp_json_time(o, "t", true, &t, &e), 1);
	assert_true(t == 1795255200000LL);
	assert_int_equal(ocpp_json_time(o, "x", false, &t, &e), 0);
	assert_int_equal(ocpp_json_time(o, "bad", true, &t, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_PROPERTY_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_time(o, "n", true, &t, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_TYPE_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_time(o, "x", true, &t, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_OCCURENCE_CONSTRAINT);
	json_decref(o);
}

static void test_object_array(void **state)
{
	json_t *o = obj("{\"o\":{\"k\":1},\"a\":[1,2],\"s\":\"x\"}");
	struct ocpp_perr e = {0};
	const json_t *v = NULL;

	(void)state;
	assert_int_equal(ocpp_json_object(o, "o", true, &v, &e), 1);
	assert_ptr_equal(v, json_object_get(o, "o"));
	assert_int_equal(ocpp_json_array(o, "a", true, &v, &e), 1);
	assert_int_equal(json_array_size(v), 2);
	v = NULL;
	assert_int_equal(ocpp_json_object(o, "x", false, &v, &e), 0);
	assert_int_equal(ocpp_json_array(o, "x", false, &v, &e), 0);
	assert_null(v);
	assert_int_equal(ocpp_json_object(o, "a", true, &v, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_TYPE_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_array(o, "o", true, &v, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_TYPE_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_array(o, "x", true, &v, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_OCCURENCE_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_object(o, "x", true, &v, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_OCCURENCE_CONSTRAINT);
	json_decref(o);
}

static void test_only(void **state)
{
	static const char *const allowed[] = { "connectorId", "idTag", NULL };
	static const char *const none[] = { NULL };
	json_t *o = obj("{\"connectorId\":1,\"idTag\":\"A\"}");
	json_t *extra = obj("{\"connectorId\":1,\"chargingProfile\":{}}");
	json_t *empty = obj("{}");
	struct ocpp_perr e = {0};
	char key[200];
	size_t n = 0;

	(void)state;
	assert_int_equal(ocpp_json_only(o, allowed, &e), 0);
	assert_int_equal(ocpp_json_only(empty, none, &e), 0);
	assert_int_equal(e.error, OCPP_ERR_NONE);
	assert_int_equal(ocpp_json_only(extra, allowed, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_PROPERTY_CONSTRAINT);
	assert_non_null(strstr(e.desc, "chargingProfile"));
	memset(&e, 0, sizeof(e));
	assert_int_equal(ocpp_json_only(o, none, &e), -EINVAL);

	/* A long non-ASCII key: the description is cut, but never inside a character. */
	while (n + 2 < sizeof(key)) {
		memcpy(key + n, "\xc3\xa9", 2);
		n += 2;
	}
	key[n] = '\0';
	json_object_set_new(empty, key, json_true());
	for (int pad = 0; pad < 4; pad++) {
		char k2[sizeof(key) + 4];
		json_t *s;

		snprintf(k2, sizeof(k2), "%.*s%s", pad, "xxxx", key);
		json_object_clear(empty);
		json_object_set_new(empty, k2, json_true());
		memset(&e, 0, sizeof(e));
		assert_int_equal(ocpp_json_only(empty, allowed, &e), -EINVAL);
		s = json_string(e.desc);
		assert_non_null(s); /* valid UTF-8 */
		json_decref(s);
	}
	json_decref(o);
	json_decref(extra);
	json_decref(empty);
}

static int64_t parse_ok(const char *s)
{
	int64_t t = 0;

	if (ocpp_time_parse(s, &t) != 0)
		fail_msg("'%s' should parse", s);
	return t;
}

static void test_time_parse_valid(void **state)
{
	(void)state;
	assert_true(parse_ok("1970-01-01T00:00:00Z") == 0);
	assert_true(parse_ok("2026-11-21T10:00:00.000Z") == 1795255200000LL);
	assert_true(parse_ok("2026-11-21T10:00:00Z") == 1795255200000LL);
	assert_true(parse_ok("2026-11-21t10:00:00z") == 1795255200000LL);
	assert_true(parse_ok("2026-11-21T10:00:00") == 1795255200000LL); /* no zone: UTC */
	assert_true(parse_ok("2026-11-21T10:00:00.5Z") == 1795255200500LL);
	assert_true(parse_ok("2026-11-21T10:00:00.12Z") == 1795255200120LL);
	assert_true(parse_ok("2026-11-21T10:00:00.123Z") == 1795255200123LL);
	assert_true(parse_ok("2026-11-21T10:00:00.123999999Z") == 1795255200123LL); /* cut, not rounded */
	assert_true(parse_ok("2026-11-21T10:00:00.999") == 1795255200999LL);
	/* Offsets: local time minus the offset is UTC. */
	assert_true(parse_ok("2026-11-21T11:00:00+01:00") == 1795255200000LL);
	assert_true(parse_ok("2026-11-21T05:30:00-04:30") == 1795255200000LL);
	assert_true(parse_ok("2026-11-21T10:00:00+00:00") == 1795255200000LL);
	assert_true(parse_ok("2026-11-21T10:00:00-00:00") == 1795255200000LL);
	assert_true(parse_ok("2026-11-22T00:30:00.250+14:30") == 1795255200250LL);
	assert_true(parse_ok("2026-11-20T23:00:00-11:00") == 1795255200000LL);
	assert_true(parse_ok("2027-01-01T00:59:59+01:00") == parse_ok("2026-12-31T23:59:59Z"));
	/* Leap days and the 32-bit boundary. */
	assert_true(parse_ok("2000-02-29T12:00:00Z") == 951825600000LL);
	assert_true(parse_ok("2024-02-29T23:59:59Z") == 1709251199000LL);
	assert_true(parse_ok("2100-03-01T00:00:00Z") == 4107542400000LL);
	assert_true(parse_ok("2038-01-19T03:14:07Z") == 2147483647000LL);
	assert_true(parse_ok("2038-01-19T03:14:08Z") == 2147483648000LL);
	assert_true(parse_ok("9999-12-31T23:59:59.999Z") == 253402300799999LL);
	assert_true(parse_ok("1600-03-01T00:00:00Z") == -11670912000000LL);
	assert_true(parse_ok("0000-01-01T00:00:00Z") == -62167219200000LL);
	assert_true(parse_ok("1969-12-31T23:59:59.999Z") == -1);
}

static void test_time_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"", "2026", "2026-11-21", "2026-11-21T10:00", "2026-11-21T10:00Z", "2026-11-21 10:00:00Z",
		"2026-1-21T10:00:00Z", "2026-11-1T10:00:00Z", "26-11-21T10:00:00Z", "+2026-11-21T10:00:00Z",
		"2026/11/21T10:00:00Z", "2026-11-21T10-00-00Z", "2026-11-21T1:00:00Z",
		"2026-00-21T10:00:00Z", "2026-13-21T10:00:00Z", "2026-11-00T10:00:00Z", "2026-11-31T10:00:00Z",
		"2026-04-31T10:00:00Z", "2026-02-29T10:00:00Z", "2026-02-30T10:00:00Z", "2100-02-29T10:00:00Z",
		"1900-02-29T00:00:00Z", "2026-01-32T00:00:00Z", "2026-11-21T24:00:00Z", "2026-11-21T10:60:00Z",
		"2026-11-21T10:00:60Z", "2026-11-21T10:00:00.Z", "2026-11-21T10:00:00.", "2026-11-21T10:00:00ZZ",
		"2026-11-21T10:00:00Z ", " 2026-11-21T10:00:00Z", "2026-11-21T10:00:00+01", "2026-11-21T10:00:00+0100",
		"2026-11-21T10:00:00+1:00", "2026-11-21T10:00:00+24:00", "2026-11-21T10:00:00+01:60",
		"2026-11-21T10:00:00+01:00Z", "2026-11-21T10:00:00UTC", "2026-11-21T10:00:00.1a2Z",
		"2026-11-21T10:00:00,5Z", "2026-11-21T10:00:00\nZ", "2026-1x-21T10:00:00Z", "2026-11-21T10:00:00 +01:00",
	};
	int64_t t = 77;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ocpp_time_parse(bad[i], &t) != -EINVAL)
			fail_msg("'%s' should be refused", bad[i]);
		assert_true(t == 77);
	}
	assert_int_equal(ocpp_time_parse(NULL, &t), -EINVAL);
	assert_int_equal(ocpp_time_parse("2026-11-21T10:00:00Z", NULL), -EINVAL);
	/* Valid leap days for contrast. */
	assert_int_equal(ocpp_time_parse("2000-02-29T00:00:00Z", &t), 0);
	assert_int_equal(ocpp_time_parse("2400-02-29T00:00:00Z", &t), 0);
	assert_int_equal(ocpp_time_parse("2028-02-29T00:00:00Z", &t), 0);
}

static void test_time_format(void **state)
{
	char b[OCPP_TIME_LEN + 1];

	(void)state;
	ocpp_time_format(0, b, sizeof(b));
	assert_string_equal(b, "1970-01-01T00:00:00.000Z");
	ocpp_time_format(1795255200000LL, b, sizeof(b));
	assert_string_equal(b, "2026-11-21T10:00:00.000Z");
	assert_int_equal(strlen(b), OCPP_TIME_LEN);
	ocpp_time_format(2147483648123LL, b, sizeof(b));
	assert_string_equal(b, "2038-01-19T03:14:08.123Z");
	ocpp_time_format(951825600007LL, b, sizeof(b));
	assert_string_equal(b, "2000-02-29T12:00:00.007Z");
	ocpp_time_format(4107542399999LL, b, sizeof(b));
	assert_string_equal(b, "2100-02-28T23:59:59.999Z");
	ocpp_time_format(-1, b, sizeof(b));
	assert_string_equal(b, "1969-12-31T23:59:59.999Z");
	ocpp_time_format(-11670912000000LL, b, sizeof(b));
	assert_string_equal(b, "1600-03-01T00:00:00.000Z");
	/* Outside four-digit years: clamped to the ends. */
	ocpp_time_format(INT64_MAX, b, sizeof(b));
	assert_string_equal(b, "9999-12-31T23:59:59.999Z");
	ocpp_time_format(INT64_MIN, b, sizeof(b));
	assert_string_equal(b, "0000-01-01T00:00:00.000Z");
	/* A short buffer gets a NUL-terminated prefix; a zero-size one is left alone. */
	ocpp_time_format(0, b, 5);
	assert_string_equal(b, "1970");
	b[0] = 'q';
	ocpp_time_format(0, b, 0);
	assert_int_equal(b[0], 'q');
	ocpp_time_format(0, NULL, 10);
}

/* format -> parse is the identity, and both agree with gmtime_r, over random instants. */
static void test_time_roundtrip_vs_libc(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	int rounds = quick() ? 20000 : 400000;
	const int64_t lo = -62167219200000LL, hi = 253402300799999LL;

	(void)state;
	for (int r = 0; r < rounds; r++) {
		char b[OCPP_TIME_LEN + 1], ref[96];
		int64_t t, back = 0;
		time_t secs;
		struct tm tm;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		/* Half the rounds anywhere in 0000..9999, half around 1970..2200 where it matters most. */
		if (r % 2)
			t = lo + (int64_t)(seed % (uint64_t)(hi - lo + 1));
		else
			t = (int64_t)(seed % 7258118400000ull);
		ocpp_time_format(t, b, sizeof(b));
		assert_int_equal(ocpp_time_parse(b, &back), 0);
		if (back != t)
			fail_msg("%lld -> %s -> %lld", (long long)t, b, (long long)back);
		/* libc is the reference only where its time_t reaches (a 32-bit one ends in 2038). */
		if (sizeof(time_t) < 8 && (t / 1000 < INT32_MIN || t / 1000 > INT32_MAX))
			continue;
		secs = (time_t)(t >= 0 ? t / 1000 : (t - 999) / 1000);
		assert_non_null(gmtime_r(&secs, &tm));
		snprintf(ref, sizeof(ref), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(t - (int64_t)secs * 1000));
		assert_string_equal(b, ref);
	}
}

/* Every day of every month across two 400-year cycles' worth of boundaries parses iff it exists. */
static void test_time_every_day(void **state)
{
	int64_t prev = 0;
	bool have_prev = false;

	(void)state;
	for (int y = 1896; y <= 2404; y++) {
		for (int m = 1; m <= 12; m++) {
			for (int d = 1; d <= 31; d++) {
				static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
				bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
				int days = m == 2 && leap ? 29 : dim[m - 1];
				char s[64];
				int64_t t;
				int rc;

				snprintf(s, sizeof(s), "%04d-%02d-%02dT00:00:00Z", y, m, d);
				rc = ocpp_time_parse(s, &t);
				if (d > days) {
					assert_int_equal(rc, -EINVAL);
					continue;
				}
				assert_int_equal(rc, 0);
				/* Consecutive existing days are exactly one day apart. */
				if (have_prev)
					assert_true(t - prev == 86400000LL);
				prev = t;
				have_prev = true;
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string),
		cmocka_unit_test(test_first_violation_wins),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_enum),
		cmocka_unit_test(test_time_field),
		cmocka_unit_test(test_object_array),
		cmocka_unit_test(test_only),
		cmocka_unit_test(test_time_parse_valid),
		cmocka_unit_test(test_time_parse_invalid),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_roundtrip_vs_libc),
		cmocka_unit_test(test_time_every_day),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
