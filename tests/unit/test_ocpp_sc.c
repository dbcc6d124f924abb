/*
 * Tests of the Smart Charging core: the csChargingProfiles schema checks and the CALLERROR each
 * violation earns, installation with replacement by id and by (connector, purpose, stack), clearing,
 * the save/load round trip, and the evaluation (stacking, purposes, kinds, recurrence, validity,
 * units, gaps, merging, next_ms, the two OCTT cases TC_066 and TC_072), then a property test that
 * holds the limit, the composite and next_ms against a brute-force evaluator written separately here.
 * TWCGW_TEST_QUICK=1 (used under valgrind) runs fewer random cases.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocpp_sc.h"

#define S 1000LL          /* ms per second */
#define H (3600 * S)
#define DAY (24 * H)

static bool quick(void)
{
	return getenv("TWCGW_TEST_QUICK") != NULL;
}

static int64_t ts(const char *s)
{
	int64_t t = 0;

	assert_int_equal(ocpp_time_parse(s, &t), 0);
	return t;
}

/* 08:00 on Monday 1 June 2026: the instant most tests measure from. */
static int64_t t0(void)
{
	return ts("2026-06-01T08:00:00Z");
}

/* ---- building profiles and checking schedules ---- */

/* An Absolute profile, amps, no start, no duration, one period of 32 A. */
static struct ocpp_sc_profile mk(int id, int connector, enum ocpp_sc_purpose purpose, int stack)
{
	struct ocpp_sc_profile p;

	memset(&p, 0, sizeof(p));
	p.id = id;
	p.connector = connector;
	p.purpose = purpose;
	p.stack = stack;
	p.kind = OCPP_SC_ABSOLUTE;
	p.unit = OCPP_SC_AMPS;
	p.n_periods = 1;
	p.periods[0].limit = 32;
	return p;
}

/* @spec is "start:limit,start:limit,..." with starts in seconds. */
static void periods(struct ocpp_sc_profile *p, const char *spec)
{
	int n = 0;

	while (*spec) {
		char *end;
		long start = strtol(spec, &end, 10);

		if (end == spec || *end != ':')
			break;
		spec = end + 1;
		double limit = strtod(spec, &end);
		if (end == spec)
			break;
		assert_true(n < OCPP_SC_MAX_PERIODS);
		p->periods[n].start_s = (int32_t)start;
		p->periods[n].limit = limit;
		p->periods[n].phases = 0;
		n++;
		spec = end;
		if (*spec == ',')
			spec++;
	}
	assert_int_equal(*spec, '\0');
	p->n_periods = n;
}

/* startSchedule @start (INT64_MIN: none) and duration @dur_s (< 0: none). */
static void sched(struct ocpp_sc_profile *p, int64_t start, int32_t dur_s)
{
	p->has_start = start != INT64_MIN;
	p->start_ms = p->has_start ? start : 0;
	p->has_duration = dur_s >= 0;
	p->duration_s = dur_s >= 0 ? dur_s : 0;
}

static void install(struct ocpp_sc *sc, const struct ocpp_sc_profile *p)
{
	assert_int_equal(ocpp_sc_install(sc, p), 0);
}

/* Connector 1, no transaction, 230 V three-phase, 32 A wiring. */
static struct ocpp_sc_ctx ctx1(void)
{
	struct ocpp_sc_ctx c = { .connector = 1, .voltage = 230, .phases = 3, .default_amps = 32 };

	return c;
}

/* The composite must be exactly @want ("start:limit,..."). */
static void composite_is(const struct ocpp_sc *sc, const struct ocpp_sc_ctx *c, int64_t start, int32_t dur,
			 enum ocpp_sc_unit unit, const char *want)
{
	struct ocpp_sc_slot out[64];
	struct ocpp_sc_profile want_p;
	int n;

	periods(&want_p, want);
	n = ocpp_sc_composite(sc, c, start, dur, unit, out, 64);
	if (n != want_p.n_periods) {
		for (int i = 0; i < n; i++)
			print_message("  got %d:%g\n", out[i].start_s, out[i].limit);
		fail_msg("%d periods, want %d (%s)", n, want_p.n_periods, want);
	}
	for (int i = 0; i < n; i++) {
		assert_int_equal(out[i].start_s, want_p.periods[i].start_s);
		if (fabs(out[i].limit - want_p.periods[i].limit) > 1e-9)
			fail_msg("period %d: limit %g, want %g", i, out[i].limit, want_p.periods[i].limit);
	}
}

static void limit_is(const struct ocpp_sc *sc, const struct ocpp_sc_ctx *c, int64_t now, double want, int64_t next)
{
	int64_t got_next = 0;
	double got = ocpp_sc_limit(sc, c, now, &got_next);

	if (fabs(got - want) > 1e-9)
		fail_msg("limit %g, want %g", got, want);
	if (got_next != next)
		fail_msg("next_ms %lld, want %lld (now %lld)", (long long)got_next, (long long)next, (long long)now);
}

static int setup(void **state)
{
	*state = ocpp_sc_new(OCPP_SC_MAX_PROFILES);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	ocpp_sc_free(*state);
	return 0;
}

static void assert_profile_equal(const struct ocpp_sc_profile *a, const struct ocpp_sc_profile *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->connector, b->connector);
	assert_int_equal(a->tx_id, b->tx_id);
	assert_int_equal(a->stack, b->stack);
	assert_int_equal(a->purpose, b->purpose);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->recurrency, b->recurrency);
	assert_int_equal(a->has_valid_from, b->has_valid_from);
	assert_int_equal(a->has_valid_to, b->has_valid_to);
	if (a->has_valid_from)
		assert_true(a->valid_from_ms == b->valid_from_ms);
	if (a->has_valid_to)
		assert_true(a->valid_to_ms == b->valid_to_ms);
	assert_int_equal(a->has_start, b->has_start);
	if (a->has_start)
		assert_true(a->start_ms == b->start_ms);
	assert_int_equal(a->has_duration, b->has_duration);
	if (a->has_duration)
		assert_int_equal(a->duration_s, b->duration_s);
	assert_int_equal(a->unit, b->unit);
	assert_int_equal(a->has_min_rate, b->has_min_rate);
	if (a->has_min_rate)
		assert_true(a->min_rate == b->min_rate);
	assert_int_equal(a->n_periods, b->n_periods);
	for (int i = 0; i < a->n_periods; i++) {
		assert_int_equal(a->periods[i].start_s, b->periods[i].start_s);
		assert_true(a->periods[i].limit == b->periods[i].limit);
		assert_int_equal(a->periods[i].phases, b->periods[i].phases);
	}
}

/* ---- parsing ---- */

static const char FULL[] =
	"{\"chargingProfileId\":12,\"transactionId\":7,\"stackLevel\":2,\"chargingProfilePurpose\":\"TxProfile\","
	"\"chargingProfileKind\":\"Absolute\",\"validFrom\":\"2026-01-01T00:00:00Z\","
	"\"validTo\":\"2026-12-31T00:00:00.250Z\",\"chargingSchedule\":{\"duration\":3600,"
	"\"startSchedule\":\"2026-06-01T10:00:00Z\",\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":["
	"{\"startPeriod\":0,\"limit\":16.0},{\"startPeriod\":600,\"limit\":8.5,\"numberPhases\":1},"
	"{\"startPeriod\":900,\"limit\":0}],\"minChargingRate\":6.1}}";

static json_t *full(void)
{
	json_t *j = json_loads(FULL, 0, NULL);

	assert_non_null(j);
	return j;
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ocpp_sc_purpose_names[OCPP_SC_CP_MAX], "ChargePointMaxProfile");
	assert_string_equal(ocpp_sc_purpose_names[OCPP_SC_TX_DEFAULT], "TxDefaultProfile");
	assert_string_equal(ocpp_sc_purpose_names[OCPP_SC_TX], "TxProfile");
	assert_string_equal(ocpp_sc_kind_names[OCPP_SC_ABSOLUTE], "Absolute");
	assert_string_equal(ocpp_sc_kind_names[OCPP_SC_RECURRING], "Recurring");
	assert_string_equal(ocpp_sc_kind_names[OCPP_SC_RELATIVE], "Relative");
	assert_string_equal(ocpp_sc_unit_names[OCPP_SC_AMPS], "A");
	assert_string_equal(ocpp_sc_unit_names[OCPP_SC_WATTS], "W");
}

static void test_parse_full(void **state)
{
	json_t *j = full(), *back;
	struct ocpp_sc_profile p, q;
	struct ocpp_perr e = { 0 };

	(void)state;
	assert_int_equal(ocpp_sc_profile_parse(j, 3, OCPP_SC_MAX_PERIODS, &p, &e), 0);
	assert_int_equal(e.error, OCPP_ERR_NONE);
	assert_int_equal(p.id, 12);
	assert_int_equal(p.connector, 3);
	assert_int_equal(p.tx_id, 7);
	assert_int_equal(p.stack, 2);
	assert_int_equal(p.purpose, OCPP_SC_TX);
	assert_int_equal(p.kind, OCPP_SC_ABSOLUTE);
	assert_int_equal(p.recurrency, OCPP_SC_REC_NONE);
	assert_true(p.has_valid_from && p.valid_from_ms == ts("2026-01-01T00:00:00Z"));
	assert_true(p.has_valid_to && p.valid_to_ms == ts("2026-12-31T00:00:00Z") + 250);
	assert_true(p.has_start && p.start_ms == ts("2026-06-01T10:00:00Z"));
	assert_true(p.has_duration && p.duration_s == 3600);
	assert_int_equal(p.unit, OCPP_SC_AMPS);
	assert_true(p.has_min_rate && p.min_rate == 6.1);
	assert_int_equal(p.n_periods, 3);
	assert_int_equal(p.periods[1].start_s, 600);
	assert_true(p.periods[1].limit == 8.5);
	assert_int_equal(p.periods[1].phases, 1);
	assert_int_equal(p.periods[0].phases, 0);
	assert_true(p.periods[2].limit == 0);

	/* Out and back in again: the same profile, and the schema's field names exactly. */
	back = ocpp_sc_profile_json(&p);
	assert_non_null(back);
	assert_string_equal(json_string_value(json_object_get(back, "validTo")), "2026-12-31T00:00:00.250Z");
	assert_true(json_is_real(json_object_get(json_array_get(
		json_object_get(json_object_get(back, "chargingSchedule"), "chargingSchedulePeriod"), 2), "limit")));
	assert_null(json_object_get(back, "connectorId"));
	assert_int_equal(ocpp_sc_profile_parse(back, 3, OCPP_SC_MAX_PERIODS, &q, &e), 0);
	assert_profile_equal(&p, &q);
	assert_int_equal(json_object_size(back), json_object_size(j));
	json_decref(back);

	/* The optional fields absent: the has_ flags say so. */
	json_object_del(j, "transactionId");
	json_object_del(j, "validFrom");
	json_object_del(j, "validTo");
	json_object_del(json_object_get(j, "chargingSchedule"), "duration");
	json_object_del(json_object_get(j, "chargingSchedule"), "startSchedule");
	json_object_del(json_object_get(j, "chargingSchedule"), "minChargingRate");
	assert_int_equal(ocpp_sc_profile_parse(j, 0, OCPP_SC_MAX_PERIODS, &p, &e), 0);
	assert_int_equal(p.tx_id, 0);
	assert_false(p.has_valid_from || p.has_valid_to || p.has_duration || p.has_start || p.has_min_rate);
	back = ocpp_sc_profile_json(&p);
	assert_null(json_object_get(back, "transactionId"));
	assert_null(json_object_get(json_object_get(back, "chargingSchedule"), "duration"));
	json_decref(back);
	json_decref(j);
}

/* One change to FULL: @where is "" (the profile), "s" (its schedule) or "pN" (period N); @value is
 * JSON text to set @key to, or NULL to delete it. */
struct mutation {
	const char *where, *key, *value;
	enum ocpp_error want;
};

static enum ocpp_error parse_mutated(const struct mutation *m, int max_periods)
{
	json_t *j = full(), *target = j, *v;
	struct ocpp_sc_profile p = mk(99, 0, OCPP_SC_CP_MAX, 0), before = p;
	struct ocpp_perr e = { 0 };
	int rc;

	if (m->where[0] == 's')
		target = json_object_get(j, "chargingSchedule");
	else if (m->where[0] == 'p')
		target = json_array_get(json_object_get(json_object_get(j, "chargingSchedule"),
							"chargingSchedulePeriod"), (size_t)strtoul(m->where + 1, NULL, 10));
	assert_non_null(target);
	if (m->value) {
		v = json_loads(m->value, JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		assert_int_equal(json_object_set_new(target, m->key, v), 0);
	} else {
		assert_int_equal(json_object_del(target, m->key), 0);
	}
	rc = ocpp_sc_profile_parse(j, 1, max_periods, &p, &e);
	json_decref(j);
	if (rc == 0)
		return OCPP_ERR_NONE;
	assert_int_equal(rc, -EINVAL);
	/* A refused profile leaves the output alone. */
	assert_int_equal(p.id, before.id);
	assert_int_equal(p.n_periods, before.n_periods);
	assert_true(e.desc[0] != '\0');
	return e.error;
}

static void run_mutations(const struct mutation *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum ocpp_error got = parse_mutated(&m[i], OCPP_SC_MAX_PERIODS);

		if (got != m[i].want)
			fail_msg("%s.%s = %s: %s, want %s", m[i].where, m[i].key, m[i].value ? m[i].value : "(deleted)",
				 ocpp_error_name(got), ocpp_error_name(m[i].want));
	}
}

static void test_parse_missing(void **state)
{
	static const struct mutation m[] = {
		{ "", "chargingProfileId", NULL, OCPP_ERR_OCCURENCE_CONSTRAINT },
		{ "", "stackLevel", NULL, OCPP_ERR_OCCURENCE_CONSTRAINT },
		{ "", "chargingProfilePurpose", NULL, OCPP_ERR_OCCURENCE_CONSTRAINT },
		{ "", "chargingProfileKind", NULL, OCPP_ERR_OCCURENCE_CONSTRAINT },
		{ "", "chargingSchedule", NULL, OCPP_ERR_OCCURENCE_CONSTRAINT },
		{ "s", "chargingRateUnit", NULL, OCPP_ERR_OCCURENCE_CONSTRAINT },
		{ "s", "chargingSchedulePeriod", NULL, OCPP_ERR_OCCURENCE_CONSTRAINT },
		{ "p1", "startPeriod", NULL, OCPP_ERR_OCCURENCE_CONSTRAINT },
		{ "p0", "limit", NULL, OCPP_ERR_OCCURENCE_CONSTRAINT },
		/* and the optional ones are optional */
		{ "", "transactionId", NULL, OCPP_ERR_NONE },
		{ "", "validFrom", NULL, OCPP_ERR_NONE },
		{ "s", "minChargingRate", NULL, OCPP_ERR_NONE },
		{ "p1", "numberPhases", NULL, OCPP_ERR_NONE },
	};

	(void)state;
	run_mutations(m, sizeof(m) / sizeof(m[0]));
}

static void test_parse_type(void **state)
{
	static const struct mutation m[] = {
		{ "", "chargingProfileId", "\"12\"", OCPP_ERR_TYPE_CONSTRAINT },
		{ "", "transactionId", "true", OCPP_ERR_TYPE_CONSTRAINT },
		{ "", "stackLevel", "1.5", OCPP_ERR_TYPE_CONSTRAINT },
		{ "", "chargingProfilePurpose", "1", OCPP_ERR_TYPE_CONSTRAINT },
		{ "", "validFrom", "1700000000", OCPP_ERR_TYPE_CONSTRAINT },
		{ "", "chargingSchedule", "[]", OCPP_ERR_TYPE_CONSTRAINT },
		{ "s", "duration", "\"3600\"", OCPP_ERR_TYPE_CONSTRAINT },
		{ "s", "chargingSchedulePeriod", "{}", OCPP_ERR_TYPE_CONSTRAINT },
		{ "s", "chargingSchedulePeriod", "[5]", OCPP_ERR_TYPE_CONSTRAINT },
		{ "s", "chargingSchedulePeriod", "[{\"startPeriod\":0,\"limit\":6},[]]", OCPP_ERR_TYPE_CONSTRAINT },
		{ "s", "minChargingRate", "null", OCPP_ERR_TYPE_CONSTRAINT },
		{ "p0", "limit", "\"16\"", OCPP_ERR_TYPE_CONSTRAINT },
		{ "p1", "numberPhases", "2.5", OCPP_ERR_TYPE_CONSTRAINT },
		/* an integer written as a real is still that integer */
		{ "", "stackLevel", "3.0", OCPP_ERR_NONE },
	};

	(void)state;
	run_mutations(m, sizeof(m) / sizeof(m[0]));
}

static void test_parse_property(void **state)
{
	static const struct mutation m[] = {
		{ "", "chargingProfilePurpose", "\"TxDefault\"", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "", "chargingProfileKind", "\"absolute\"", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "", "recurrencyKind", "\"Monthly\"", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "s", "chargingRateUnit", "\"kW\"", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "", "stackLevel", "-1", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "", "stackLevel", "9", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "", "stackLevel", "8", OCPP_ERR_NONE },
		{ "", "validTo", "\"tomorrow\"", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "s", "startSchedule", "\"2026-02-30T00:00:00Z\"", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "", "connectorId", "1", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "s", "extra", "1", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "p0", "phaseToUse", "1", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "p0", "limit", "-0.1", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "p1", "numberPhases", "4", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "p1", "numberPhases", "0", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "p1", "startPeriod", "-5", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "s", "duration", "-1", OCPP_ERR_PROPERTY_CONSTRAINT },
		/* periods: must start at 0, strictly increase, not be empty */
		{ "p0", "startPeriod", "1", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "p1", "startPeriod", "0", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "p2", "startPeriod", "600", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "p2", "startPeriod", "599", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "s", "chargingSchedulePeriod", "[]", OCPP_ERR_PROPERTY_CONSTRAINT },
		/* recurrence: needs recurrencyKind and startSchedule, and only on Recurring */
		{ "", "recurrencyKind", "\"Daily\"", OCPP_ERR_PROPERTY_CONSTRAINT },
		{ "", "chargingProfileKind", "\"Recurring\"", OCPP_ERR_PROPERTY_CONSTRAINT },
		/* a limit at the schema's 0.1 step and a fine one are both taken */
		{ "p0", "limit", "13.7", OCPP_ERR_NONE },
		{ "p0", "limit", "13.75", OCPP_ERR_NONE },
	};

	(void)state;
	run_mutations(m, sizeof(m) / sizeof(m[0]));
}

static void test_parse_recurring(void **state)
{
	json_t *j = full();
	struct ocpp_sc_profile p;
	struct ocpp_perr e = { 0 };

	(void)state;
	json_object_set_new(j, "chargingProfileKind", json_string("Recurring"));
	json_object_set_new(j, "recurrencyKind", json_string("Weekly"));
	assert_int_equal(ocpp_sc_profile_parse(j, 1, OCPP_SC_MAX_PERIODS, &p, &e), 0);
	assert_int_equal(p.kind, OCPP_SC_RECURRING);
	assert_int_equal(p.recurrency, OCPP_SC_WEEKLY);
	/* Recurring without startSchedule has nothing to repeat from. */
	json_object_del(json_object_get(j, "chargingSchedule"), "startSchedule");
	assert_int_equal(ocpp_sc_profile_parse(j, 1, OCPP_SC_MAX_PERIODS, &p, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_PROPERTY_CONSTRAINT);
	json_decref(j);
}

static void test_parse_too_many_periods(void **state)
{
	json_t *j = full(), *arr = json_array();
	struct ocpp_sc_profile p;
	struct ocpp_perr e = { 0 };

	(void)state;
	for (int i = 0; i < OCPP_SC_MAX_PERIODS; i++)
		json_array_append_new(arr, json_pack("{s:i, s:f}", "startPeriod", i * 60, "limit", 6.0 + i));
	json_object_set_new(json_object_get(j, "chargingSchedule"), "chargingSchedulePeriod", arr);
	assert_int_equal(ocpp_sc_profile_parse(j, 1, OCPP_SC_MAX_PERIODS, &p, &e), 0);
	assert_int_equal(p.n_periods, OCPP_SC_MAX_PERIODS);
	assert_true(p.periods[OCPP_SC_MAX_PERIODS - 1].limit == 6.0 + OCPP_SC_MAX_PERIODS - 1);
	/* The configured maximum is what counts. */
	assert_int_equal(ocpp_sc_profile_parse(j, 10, 10, &p, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_PROPERTY_CONSTRAINT);
	memset(&e, 0, sizeof(e));
	json_array_append_new(arr, json_pack("{s:i, s:f}", "startPeriod", 99999, "limit", 6.0));
	assert_int_equal(ocpp_sc_profile_parse(j, 1, OCPP_SC_MAX_PERIODS, &p, &e), -EINVAL);
	assert_int_equal(e.error, OCPP_ERR_PROPERTY_CONSTRAINT);
	json_decref(j);
	/* 3 periods in FULL: 3 allowed, 2 not. */
	{
		static const struct mutation none = { "", "stackLevel", "1", OCPP_ERR_NONE };

		assert_int_equal(parse_mutated(&none, 3), OCPP_ERR_NONE);
		assert_int_equal(parse_mutated(&none, 2), OCPP_ERR_PROPERTY_CONSTRAINT);
	}
}

/* ---- the installed set ---- */

static void test_install_replace_by_id(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile a = mk(1, 1, OCPP_SC_TX_DEFAULT, 0), b = mk(2, 1, OCPP_SC_TX_DEFAULT, 1);

	install(sc, &a);
	install(sc, &b);
	assert_int_equal(ocpp_sc_count(sc), 2);
	/* Same id, everything else different: it replaces, and goes to the end. */
	a = mk(1, 2, OCPP_SC_TX, 5);
	install(sc, &a);
	assert_int_equal(ocpp_sc_count(sc), 2);
	assert_int_equal(ocpp_sc_get(sc, 0)->id, 2);
	assert_int_equal(ocpp_sc_get(sc, 1)->id, 1);
	assert_int_equal(ocpp_sc_get(sc, 1)->connector, 2);
	assert_int_equal(ocpp_sc_get(sc, 1)->stack, 5);
	assert_null(ocpp_sc_get(sc, 2));
	assert_null(ocpp_sc_get(sc, -1));
	/* Re-installing a borrowed pointer is safe. */
	install(sc, ocpp_sc_get(sc, 0));
	assert_int_equal(ocpp_sc_count(sc), 2);
	assert_int_equal(ocpp_sc_get(sc, 1)->id, 2);
}

static void test_install_replace_by_stack(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile a = mk(1, 1, OCPP_SC_TX_DEFAULT, 0), b = mk(2, 1, OCPP_SC_TX_DEFAULT, 3);
	struct ocpp_sc_profile c = mk(3, 2, OCPP_SC_TX_DEFAULT, 3), d = mk(4, 1, OCPP_SC_TX, 3);

	install(sc, &a);
	install(sc, &b);
	install(sc, &c); /* another connector */
	install(sc, &d); /* another purpose */
	assert_int_equal(ocpp_sc_count(sc), 4);
	/* New id 5 on (1, TxDefault, 3): replaces 2 only. */
	b = mk(5, 1, OCPP_SC_TX_DEFAULT, 3);
	install(sc, &b);
	assert_int_equal(ocpp_sc_count(sc), 4);
	for (int i = 0; i < ocpp_sc_count(sc); i++)
		assert_int_not_equal(ocpp_sc_get(sc, i)->id, 2);
	/* Id 1 on (1, TxDefault, 3): replaces profile 1 by id and profile 5 by place, both. */
	a = mk(1, 1, OCPP_SC_TX_DEFAULT, 3);
	install(sc, &a);
	assert_int_equal(ocpp_sc_count(sc), 3);
	assert_int_equal(ocpp_sc_get(sc, 0)->id, 3);
	assert_int_equal(ocpp_sc_get(sc, 1)->id, 4);
	assert_int_equal(ocpp_sc_get(sc, 2)->id, 1);
}

static void test_install_full(void **state)
{
	struct ocpp_sc *sc = ocpp_sc_new(3);
	struct ocpp_sc_profile p;

	(void)state;
	assert_null(ocpp_sc_new(0));
	for (int i = 0; i < 3; i++) {
		p = mk(10 + i, 1, OCPP_SC_TX_DEFAULT, i);
		install(sc, &p);
	}
	p = mk(20, 1, OCPP_SC_TX_DEFAULT, 7);
	assert_int_equal(ocpp_sc_install(sc, &p), -ENOSPC);
	assert_int_equal(ocpp_sc_count(sc), 3);
	/* Full, but replacing one: fine. */
	p = mk(20, 1, OCPP_SC_TX_DEFAULT, 1);
	assert_int_equal(ocpp_sc_install(sc, &p), 0);
	p = mk(12, 2, OCPP_SC_TX, 0);
	assert_int_equal(ocpp_sc_install(sc, &p), 0);
	assert_int_equal(ocpp_sc_count(sc), 3);
	/* A profile without periods is not one. */
	p.n_periods = 0;
	assert_int_equal(ocpp_sc_install(sc, &p), -EINVAL);
	ocpp_sc_free(sc);
	ocpp_sc_free(NULL);
}

/* Five profiles: (id, connector, purpose, stack). */
static void fill_five(struct ocpp_sc *sc)
{
	struct ocpp_sc_profile p[] = { mk(1, 0, OCPP_SC_CP_MAX, 0), mk(2, 0, OCPP_SC_TX_DEFAULT, 1),
				       mk(3, 1, OCPP_SC_TX_DEFAULT, 1), mk(4, 1, OCPP_SC_TX, 2),
				       mk(5, 2, OCPP_SC_TX, 1) };

	ocpp_sc_clear(sc, NULL);
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		install(sc, &p[i]);
}

static bool has_id(const struct ocpp_sc *sc, int id)
{
	for (int i = 0; i < ocpp_sc_count(sc); i++)
		if (ocpp_sc_get(sc, i)->id == id)
			return true;
	return false;
}

static void test_clear(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_filter f;

	fill_five(sc);
	/* By id, the other criteria ignored even when they would not match. */
	f = (struct ocpp_sc_filter){ .has_id = true, .id = 3, .has_connector = true, .connector = 2 };
	assert_int_equal(ocpp_sc_clear(sc, &f), 1);
	assert_false(has_id(sc, 3));
	f = (struct ocpp_sc_filter){ .has_id = true, .id = 99 };
	assert_int_equal(ocpp_sc_clear(sc, &f), 0);
	assert_int_equal(ocpp_sc_count(sc), 4);

	fill_five(sc);
	f = (struct ocpp_sc_filter){ .has_connector = true, .connector = 0 };
	assert_int_equal(ocpp_sc_clear(sc, &f), 2);
	assert_true(has_id(sc, 3) && has_id(sc, 4) && has_id(sc, 5));

	fill_five(sc);
	f = (struct ocpp_sc_filter){ .has_purpose = true, .purpose = OCPP_SC_TX };
	assert_int_equal(ocpp_sc_clear(sc, &f), 2);
	assert_true(has_id(sc, 1) && has_id(sc, 2) && has_id(sc, 3));

	fill_five(sc);
	f = (struct ocpp_sc_filter){ .has_stack = true, .stack = 1 };
	assert_int_equal(ocpp_sc_clear(sc, &f), 3);
	assert_true(has_id(sc, 1) && has_id(sc, 4));

	fill_five(sc);
	f = (struct ocpp_sc_filter){ .has_connector = true, .connector = 1, .has_purpose = true,
				     .purpose = OCPP_SC_TX_DEFAULT, .has_stack = true, .stack = 1 };
	assert_int_equal(ocpp_sc_clear(sc, &f), 1);
	assert_false(has_id(sc, 3));
	f.stack = 2;
	assert_int_equal(ocpp_sc_clear(sc, &f), 0);

	fill_five(sc);
	f = (struct ocpp_sc_filter){ 0 };
	assert_int_equal(ocpp_sc_clear(sc, &f), 5);
	assert_int_equal(ocpp_sc_count(sc), 0);
	fill_five(sc);
	assert_int_equal(ocpp_sc_clear(sc, NULL), 5);
}

static void test_clear_tx(void **state)
{
	struct ocpp_sc *sc = *state;

	fill_five(sc);
	assert_int_equal(ocpp_sc_clear_tx(sc, 1), 1);
	assert_false(has_id(sc, 4));
	assert_true(has_id(sc, 3) && has_id(sc, 5));
	assert_int_equal(ocpp_sc_clear_tx(sc, 1), 0);
	assert_int_equal(ocpp_sc_clear_tx(sc, 2), 1);
	assert_int_equal(ocpp_sc_count(sc), 3);
	assert_int_equal(ocpp_sc_clear_tx(sc, 0), 0);
}

static void test_save_load(void **state)
{
	struct ocpp_sc *sc = *state, *back = ocpp_sc_new(OCPP_SC_MAX_PROFILES);
	struct ocpp_sc_profile a = mk(1, 0, OCPP_SC_CP_MAX, 0), b = mk(2, 1, OCPP_SC_TX, 3);
	struct ocpp_sc_profile c = mk(3, 2, OCPP_SC_TX_DEFAULT, 8);
	json_t *j, *again;
	char *text;

	periods(&a, "0:16.1,3600:10.25,7200:0");
	a.kind = OCPP_SC_RECURRING;
	a.recurrency = OCPP_SC_DAILY;
	sched(&a, t0() + 123, 14400);
	a.unit = OCPP_SC_WATTS;
	b.kind = OCPP_SC_RELATIVE;
	b.tx_id = -4;
	b.has_min_rate = true;
	b.min_rate = 4.2;
	periods(&b, "0:6,60:7");
	b.periods[1].phases = 3;
	c.has_valid_from = c.has_valid_to = true;
	c.valid_from_ms = t0() - DAY;
	c.valid_to_ms = t0() + DAY + 999;
	sched(&c, t0(), -1);
	install(sc, &a);
	install(sc, &b);
	install(sc, &c);

	/* Through text, as persistence does it. */
	j = ocpp_sc_save(sc);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "profiles")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(j, "profiles"), 2),
							    "connectorId")), 2);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(text);
	j = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(j);
	assert_int_equal(ocpp_sc_load(back, j), 3);
	assert_int_equal(ocpp_sc_count(back), 3);
	for (int i = 0; i < 3; i++)
		assert_profile_equal(ocpp_sc_get(sc, i), ocpp_sc_get(back, i));
	again = ocpp_sc_save(back);
	assert_true(json_equal(j, again));
	json_decref(again);
	json_decref(j);
	ocpp_sc_free(back);
}

static void test_load_bad(void **state)
{
	struct ocpp_sc *sc = *state;
	json_t *j;

	fill_five(sc);
	j = json_loads("[]", 0, NULL);
	assert_int_equal(ocpp_sc_load(sc, j), -EINVAL);
	assert_int_equal(ocpp_sc_count(sc), 0);
	json_decref(j);
	fill_five(sc);
	j = json_loads("{\"profiles\":{}}", 0, NULL);
	assert_int_equal(ocpp_sc_load(sc, j), -EINVAL);
	assert_int_equal(ocpp_sc_count(sc), 0);
	json_decref(j);
	assert_int_equal(ocpp_sc_load(sc, NULL), -EINVAL);

	/* Entries that are not profiles are skipped; the good one stays. */
	j = json_loads("{\"profiles\":[5,{\"connectorId\":1},"
		       "{\"chargingProfileId\":1,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxProfile\","
		       "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{\"chargingRateUnit\":\"A\","
		       "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":6}]}},"
		       "{\"connectorId\":-1,\"chargingProfileId\":1,\"stackLevel\":0,\"chargingProfilePurpose\":"
		       "\"TxProfile\",\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{\"chargingRateUnit\":"
		       "\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":6}]}},"
		       "{\"connectorId\":2,\"chargingProfileId\":7,\"stackLevel\":0,\"chargingProfilePurpose\":"
		       "\"TxProfile\",\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{\"chargingRateUnit\":"
		       "\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":6}]}}]}",
		       0, NULL);
	assert_non_null(j);
	assert_int_equal(ocpp_sc_load(sc, j), 1);
	assert_int_equal(ocpp_sc_get(sc, 0)->id, 7);
	assert_int_equal(ocpp_sc_get(sc, 0)->connector, 2);
	/* The document itself is not changed by loading. */
	assert_non_null(json_object_get(json_array_get(json_object_get(j, "profiles"), 4), "connectorId"));
	json_decref(j);
}

/* ---- evaluation ---- */

static void test_stacking(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile lo = mk(1, 1, OCPP_SC_TX_DEFAULT, 0), hi = mk(2, 1, OCPP_SC_TX_DEFAULT, 1);
	struct ocpp_sc_ctx c = ctx1();
	int64_t t = t0();

	periods(&lo, "0:16");
	sched(&lo, t, -1);
	periods(&hi, "0:8");
	sched(&hi, t + 600 * S, 1200);
	install(sc, &hi);
	install(sc, &lo);
	limit_is(sc, &c, t, 16, t + 600 * S);
	limit_is(sc, &c, t + 600 * S, 8, t + 1800 * S);
	limit_is(sc, &c, t + 1799 * S, 8, t + 1800 * S);
	limit_is(sc, &c, t + 1800 * S, 16, INT64_MAX);
	composite_is(sc, &c, t, 3600, OCPP_SC_AMPS, "0:16,600:8,1800:16");
	/* The stack level decides, not which came first. */
	ocpp_sc_clear(sc, NULL);
	install(sc, &lo);
	install(sc, &hi);
	composite_is(sc, &c, t, 3600, OCPP_SC_AMPS, "0:16,600:8,1800:16");
}

static void test_tx_beats_default(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile def = mk(1, 1, OCPP_SC_TX_DEFAULT, 8), tx = mk(2, 1, OCPP_SC_TX, 0);
	struct ocpp_sc_ctx c = ctx1();
	int64_t t = t0();

	periods(&def, "0:16");
	periods(&tx, "0:10");
	sched(&tx, t, 600);
	install(sc, &def);
	install(sc, &tx);
	/* Without a transaction a TxProfile does not count. */
	limit_is(sc, &c, t, 16, INT64_MAX);
	composite_is(sc, &c, t, 1200, OCPP_SC_AMPS, "0:16");
	c.tx_active = true;
	c.tx_id = 5;
	c.tx_start_ms = t;
	/* With one, a TxProfile at stack 0 beats a TxDefaultProfile at stack 8 while it covers. */
	limit_is(sc, &c, t, 10, t + 600 * S);
	limit_is(sc, &c, t + 600 * S, 16, INT64_MAX);
	composite_is(sc, &c, t, 1200, OCPP_SC_AMPS, "0:10,600:16");
}

static void test_tx_wrong_id(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile def = mk(1, 1, OCPP_SC_TX_DEFAULT, 0), tx = mk(2, 1, OCPP_SC_TX, 0);
	struct ocpp_sc_profile other = mk(3, 2, OCPP_SC_TX, 1);
	struct ocpp_sc_ctx c = ctx1();
	int64_t t = t0();

	periods(&def, "0:16");
	periods(&tx, "0:10");
	periods(&other, "0:6");
	tx.tx_id = 42;
	install(sc, &def);
	install(sc, &tx);
	install(sc, &other); /* on connector 2: never for connector 1 */
	c.tx_active = true;
	c.tx_start_ms = t;
	c.tx_id = 41;
	limit_is(sc, &c, t, 16, INT64_MAX);
	c.tx_id = -1; /* provisional */
	limit_is(sc, &c, t, 16, INT64_MAX);
	c.tx_id = 42;
	limit_is(sc, &c, t, 10, INT64_MAX);
	c.connector = 2;
	limit_is(sc, &c, t, 6, INT64_MAX);
}

static void test_connector_default_beats_cp_default(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile all = mk(1, 0, OCPP_SC_TX_DEFAULT, 8), one = mk(2, 1, OCPP_SC_TX_DEFAULT, 0);
	struct ocpp_sc_ctx c = ctx1();
	int64_t t = t0();

	periods(&all, "0:20");
	periods(&one, "0:12");
	sched(&one, t, 600);
	install(sc, &all);
	install(sc, &one);
	limit_is(sc, &c, t, 12, t + 600 * S);
	limit_is(sc, &c, t + 600 * S, 20, INT64_MAX);
	composite_is(sc, &c, t, 900, OCPP_SC_AMPS, "0:12,600:20");
	c.connector = 2;
	limit_is(sc, &c, t, 20, INT64_MAX);
	/* A TxDefaultProfile is no limit on the charge point as a whole. */
	c.connector = 0;
	limit_is(sc, &c, t, -1, INT64_MAX);
	composite_is(sc, &c, t, 900, OCPP_SC_AMPS, "0:32");
}

static void test_cp_max_caps(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile max = mk(1, 0, OCPP_SC_CP_MAX, 0), def = mk(2, 1, OCPP_SC_TX_DEFAULT, 0);
	struct ocpp_sc_profile stray = mk(3, 1, OCPP_SC_CP_MAX, 0);
	struct ocpp_sc_ctx c = ctx1();
	int64_t t = t0();

	periods(&max, "0:16,300:24");
	sched(&max, t, -1);
	periods(&def, "0:32,100:20");
	sched(&def, t, -1);
	periods(&stray, "0:1");
	install(sc, &max);
	install(sc, &def);
	install(sc, &stray); /* a ChargePointMaxProfile counts on connector 0 only */
	limit_is(sc, &c, t, 16, t + 100 * S);
	limit_is(sc, &c, t + 100 * S, 16, t + 300 * S);
	limit_is(sc, &c, t + 300 * S, 20, INT64_MAX);
	composite_is(sc, &c, t, 600, OCPP_SC_AMPS, "0:16,300:20");
	c.connector = 0;
	limit_is(sc, &c, t, 16, t + 300 * S);
	composite_is(sc, &c, t, 600, OCPP_SC_AMPS, "0:16,300:24");
}

static void test_relative(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile p = mk(1, 1, OCPP_SC_TX_DEFAULT, 0);
	struct ocpp_sc_ctx c = ctx1();
	int64_t t = t0();

	p.kind = OCPP_SC_RELATIVE;
	periods(&p, "0:6,300:16");
	sched(&p, t - 5 * H, 900); /* startSchedule means nothing to a Relative profile */
	install(sc, &p);
	c.tx_active = true;
	c.tx_start_ms = t - 100 * S;
	limit_is(sc, &c, t, 6, t + 200 * S);
	limit_is(sc, &c, t + 200 * S, 16, t + 800 * S);
	limit_is(sc, &c, t + 800 * S, -1, INT64_MAX);
	composite_is(sc, &c, t, 1200, OCPP_SC_AMPS, "0:6,200:16,800:32");
	/* No transaction: as if one started at the evaluation start. */
	c.tx_active = false;
	composite_is(sc, &c, t, 1200, OCPP_SC_AMPS, "0:6,300:16,900:32");
	composite_is(sc, &c, t + 7 * S, 1200, OCPP_SC_AMPS, "0:6,300:16,900:32");
	limit_is(sc, &c, t + 250 * S, 6, t + 550 * S);
}

static void test_absolute_without_start(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile p = mk(1, 1, OCPP_SC_TX_DEFAULT, 0);
	struct ocpp_sc_ctx c = ctx1();
	int64_t t = t0();

	periods(&p, "0:6,60:10");
	install(sc, &p);
	c.tx_active = true;
	c.tx_start_ms = t - 30 * S;
	limit_is(sc, &c, t, 6, t + 30 * S);
	limit_is(sc, &c, t + 30 * S, 10, INT64_MAX);
	composite_is(sc, &c, t, 120, OCPP_SC_AMPS, "0:6,30:10");
	c.tx_active = false;
	composite_is(sc, &c, t, 120, OCPP_SC_AMPS, "0:6,60:10");
	limit_is(sc, &c, t + 1000 * S, 6, t + 1060 * S);
}

static void test_recurring_daily(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile p = mk(1, 1, OCPP_SC_TX_DEFAULT, 0);
	struct ocpp_sc_ctx c = ctx1();

	p.kind = OCPP_SC_RECURRING;
	p.recurrency = OCPP_SC_DAILY;
	periods(&p, "0:10,3600:6");
	sched(&p, ts("2026-06-01T18:00:00Z"), 4 * 3600);
	install(sc, &p);
	/* Before the first start: nothing, until it. */
	limit_is(sc, &c, ts("2026-06-01T17:00:00Z"), -1, ts("2026-06-01T18:00:00Z"));
	limit_is(sc, &c, ts("2026-06-01T18:00:00Z"), 10, ts("2026-06-01T19:00:00Z"));
	/* Two days on, the same schedule. */
	limit_is(sc, &c, ts("2026-06-03T18:30:00Z"), 10, ts("2026-06-03T19:00:00Z"));
	limit_is(sc, &c, ts("2026-06-03T19:30:00Z"), 6, ts("2026-06-03T22:00:00Z"));
	limit_is(sc, &c, ts("2026-06-03T23:00:00Z"), -1, ts("2026-06-04T18:00:00Z"));
	composite_is(sc, &c, ts("2026-06-02T17:00:00Z"), 8 * 3600, OCPP_SC_AMPS, "0:32,3600:10,7200:6,18000:32");
}

static void test_recurring_crossing(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile p = mk(1, 1, OCPP_SC_TX_DEFAULT, 0);
	struct ocpp_sc_ctx c = ctx1();

	/* All day, cheaper from 22:00: a window from 21:00 runs into the next day's first period. */
	p.kind = OCPP_SC_RECURRING;
	p.recurrency = OCPP_SC_DAILY;
	periods(&p, "0:16,79200:8");
	sched(&p, ts("2026-06-01T00:00:00Z"), -1);
	install(sc, &p);
	composite_is(sc, &c, ts("2026-06-05T21:00:00Z"), 4 * 3600, OCPP_SC_AMPS, "0:16,3600:8,10800:16");
	limit_is(sc, &c, ts("2026-06-05T23:59:59.999Z"), 8, ts("2026-06-06T00:00:00Z"));
	limit_is(sc, &c, ts("2026-06-06T00:00:00Z"), 16, ts("2026-06-06T22:00:00Z"));
	/* A duration longer than the day is cut at the recurrence. */
	p.has_duration = true;
	p.duration_s = 2 * 86400;
	install(sc, &p);
	limit_is(sc, &c, ts("2026-06-05T23:00:00Z"), 8, ts("2026-06-06T00:00:00Z"));
}

static void test_recurring_weekly(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile p = mk(1, 0, OCPP_SC_CP_MAX, 0);
	struct ocpp_sc_ctx c = ctx1();

	/* Mondays only (1 June 2026 is a Monday). */
	p.kind = OCPP_SC_RECURRING;
	p.recurrency = OCPP_SC_WEEKLY;
	periods(&p, "0:8");
	sched(&p, ts("2026-06-01T00:00:00Z"), 86400);
	install(sc, &p);
	c.connector = 0;
	limit_is(sc, &c, ts("2026-06-08T12:00:00Z"), 8, ts("2026-06-09T00:00:00Z"));
	limit_is(sc, &c, ts("2026-06-09T12:00:00Z"), -1, ts("2026-06-15T00:00:00Z"));
	limit_is(sc, &c, ts("2026-06-15T00:00:00Z"), 8, ts("2026-06-16T00:00:00Z"));
	c.connector = 1;
	composite_is(sc, &c, ts("2026-06-14T12:00:00Z"), 2 * 86400, OCPP_SC_AMPS, "0:32,43200:8,129600:32");
}

static void test_valid_from_to(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile p = mk(1, 1, OCPP_SC_TX_DEFAULT, 0);
	struct ocpp_sc_ctx c = ctx1();
	int64_t t = t0();

	periods(&p, "0:10");
	sched(&p, t, -1);
	p.has_valid_from = p.has_valid_to = true;
	p.valid_from_ms = t + 100 * S;
	p.valid_to_ms = t + 200 * S;
	install(sc, &p);
	limit_is(sc, &c, t, -1, t + 100 * S);
	limit_is(sc, &c, t + 100 * S, 10, t + 200 * S);
	limit_is(sc, &c, t + 200 * S - 1, 10, t + 200 * S);
	limit_is(sc, &c, t + 200 * S, -1, INT64_MAX);
	composite_is(sc, &c, t, 300, OCPP_SC_AMPS, "0:32,100:10,200:32");
}

static void test_duration(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile p = mk(1, 1, OCPP_SC_TX_DEFAULT, 0);
	struct ocpp_sc_ctx c = ctx1();
	int64_t t = t0();

	periods(&p, "0:10,200:12,400:14");
	sched(&p, t, 300);
	install(sc, &p);
	limit_is(sc, &c, t + 299999, 12, t + 300 * S);
	limit_is(sc, &c, t + 300 * S, -1, INT64_MAX);
	composite_is(sc, &c, t, 600, OCPP_SC_AMPS, "0:10,200:12,300:32");
	/* Duration 0: never in force. */
	p.duration_s = 0;
	install(sc, &p);
	limit_is(sc, &c, t, -1, INT64_MAX);
}

static void test_watts(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile w = mk(1, 1, OCPP_SC_TX_DEFAULT, 0), max = mk(2, 0, OCPP_SC_CP_MAX, 0);
	struct ocpp_sc_ctx c = ctx1();
	int64_t t = t0();

	w.unit = OCPP_SC_WATTS;
	periods(&w, "0:6900,60:11040");
	sched(&w, t, -1);
	install(sc, &w);
	/* 230 V x 3 phases: 6900 W is 10 A, 11040 W is 16 A. */
	limit_is(sc, &c, t, 10, t + 60 * S);
	composite_is(sc, &c, t, 120, OCPP_SC_AMPS, "0:10,60:16");
	composite_is(sc, &c, t, 120, OCPP_SC_WATTS, "0:6900,60:11040");
	c.phases = 1;
	limit_is(sc, &c, t, 30, t + 60 * S);
	c.phases = 3;
	/* An amps profile asked for in watts, and a watts maximum capping it. */
	ocpp_sc_clear(sc, NULL);
	periods(&w, "0:10,60:16");
	w.unit = OCPP_SC_AMPS;
	install(sc, &w);
	composite_is(sc, &c, t, 120, OCPP_SC_WATTS, "0:6900,60:11040");
	max.unit = OCPP_SC_WATTS;
	periods(&max, "0:9200");
	install(sc, &max);
	limit_is(sc, &c, t + 60 * S, 9200.0 / 690, INT64_MAX);
	composite_is(sc, &c, t, 120, OCPP_SC_AMPS, "0:10,60:13.3");
	composite_is(sc, &c, t, 120, OCPP_SC_WATTS, "0:6900,60:9200");
}

static void test_gaps(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile max = mk(1, 0, OCPP_SC_CP_MAX, 0);
	struct ocpp_sc_ctx c = ctx1();
	int64_t t = t0();

	/* Nothing installed: the wiring, in either unit; no limit from ocpp_sc_limit. */
	limit_is(sc, &c, t, -1, INT64_MAX);
	composite_is(sc, &c, t, 3600, OCPP_SC_AMPS, "0:32");
	composite_is(sc, &c, t, 3600, OCPP_SC_WATTS, "0:22080");
	composite_is(sc, &c, t, 0, OCPP_SC_AMPS, "0:32");
	/* A charge point maximum below the wiring caps the gaps, one above does not raise them. */
	periods(&max, "0:16,100:40");
	sched(&max, t, 200);
	install(sc, &max);
	composite_is(sc, &c, t, 300, OCPP_SC_AMPS, "0:16,100:32");
	c.connector = 0;
	composite_is(sc, &c, t, 300, OCPP_SC_AMPS, "0:16,100:32");
}

static void test_merge(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile a = mk(1, 1, OCPP_SC_TX_DEFAULT, 0), b = mk(2, 1, OCPP_SC_TX_DEFAULT, 1);
	struct ocpp_sc_ctx c = ctx1();
	int64_t t = t0();
	struct ocpp_sc_slot out[2];

	/* Equal neighbours become one period, also across profiles and after rounding to 0.1. */
	periods(&a, "0:10,100:10,200:12.01,300:12.04,400:16");
	sched(&a, t, -1);
	periods(&b, "0:12");
	sched(&b, t + 250 * S, 300);
	install(sc, &a);
	install(sc, &b);
	composite_is(sc, &c, t, 1000, OCPP_SC_AMPS, "0:10,200:12,550:16");
	/* Truncated to what fits. */
	assert_int_equal(ocpp_sc_composite(sc, &c, t, 1000, OCPP_SC_AMPS, out, 2), 2);
	assert_int_equal(out[1].start_s, 200);
	assert_true(fabs(out[1].limit - 12) < 1e-9);
	assert_int_equal(ocpp_sc_composite(sc, &c, t, 1000, OCPP_SC_AMPS, out, 0), -EINVAL);
}

static void test_subsecond(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile base = mk(1, 1, OCPP_SC_TX_DEFAULT, 0), blip = mk(2, 1, OCPP_SC_TX_DEFAULT, 1);
	struct ocpp_sc_ctx c = ctx1();
	int64_t t = t0();

	periods(&base, "0:6,100:8");
	sched(&base, t, -1);
	install(sc, &base);
	/* A boundary half a second into the window's 100th second starts the slot at 99 (startPeriod is whole
	 * seconds, and rounding down errs on the side of the change). */
	composite_is(sc, &c, t + 500, 200, OCPP_SC_AMPS, "0:6,99:8");
	/* Two changes inside one second: the later wins and one period is left. */
	periods(&blip, "0:20");
	blip.has_valid_from = blip.has_valid_to = true;
	blip.valid_from_ms = t + 50200;
	blip.valid_to_ms = t + 50700;
	install(sc, &blip);
	composite_is(sc, &c, t, 200, OCPP_SC_AMPS, "0:6,100:8");
	blip.valid_to_ms = t + 51500;
	install(sc, &blip);
	composite_is(sc, &c, t, 200, OCPP_SC_AMPS, "0:6,50:20,51:6,100:8");
	limit_is(sc, &c, t + 50 * S, 6, t + 50200);
	limit_is(sc, &c, t + 50200, 20, t + 51500);
}

static void test_next_ms(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile p = mk(1, 1, OCPP_SC_TX_DEFAULT, 0);
	struct ocpp_sc_ctx c = ctx1();
	int64_t t = t0();

	periods(&p, "0:6,100:8,200:10");
	sched(&p, t, 400);
	install(sc, &p);
	limit_is(sc, &c, t - 5 * S, -1, t);
	limit_is(sc, &c, t, 6, t + 100 * S);
	limit_is(sc, &c, t + 99999, 6, t + 100 * S);
	limit_is(sc, &c, t + 100 * S, 8, t + 200 * S);
	limit_is(sc, &c, t + 150500, 8, t + 200 * S);
	limit_is(sc, &c, t + 200 * S, 10, t + 400 * S);
	limit_is(sc, &c, t + 400 * S, -1, INT64_MAX);
	/* Another connector's profile is no reason to look again. */
	c.connector = 2;
	p = mk(2, 1, OCPP_SC_TX, 0);
	install(sc, &p);
	limit_is(sc, &c, t, -1, INT64_MAX);
	assert_true(ocpp_sc_limit(NULL, &c, t, NULL) == -1);
}

static void test_long_window(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile rec = mk(1, 1, OCPP_SC_TX_DEFAULT, 0), once = mk(2, 1, OCPP_SC_TX_DEFAULT, 1);
	struct ocpp_sc_ctx c = ctx1();
	struct ocpp_sc_slot out[64];
	int64_t t = t0();
	int n;

	/* Decades of a schedule whose periods change nothing, with one event on day 20: exact, and quick
	 * (a week without change after the last one-off instant ends the walk). */
	rec.kind = OCPP_SC_RECURRING;
	rec.recurrency = OCPP_SC_DAILY;
	periods(&rec, "0:10,3600:10,7200:10,43200:10");
	sched(&rec, t - 3 * DAY, -1);
	periods(&once, "0:6");
	sched(&once, t + 20 * DAY, 3600);
	install(sc, &rec);
	install(sc, &once);
	composite_is(sc, &c, t, INT32_MAX, OCPP_SC_AMPS, "0:10,1728000:6,1731600:10");
	/* A weekly change fills the output with one pair of slots per week until it is full. */
	ocpp_sc_clear(sc, NULL);
	rec.recurrency = OCPP_SC_WEEKLY;
	periods(&rec, "0:16,86400:8");
	sched(&rec, t, -1);
	install(sc, &rec);
	n = ocpp_sc_composite(sc, &c, t, INT32_MAX, OCPP_SC_AMPS, out, 64);
	assert_int_equal(n, 64);
	for (int i = 0; i < n; i++) {
		assert_int_equal(out[i].start_s, (i / 2) * 604800 + (i % 2) * 86400);
		assert_true(out[i].limit == (i % 2 ? 8 : 16));
	}
}

/*
 * OCTT TC_072 (Stacking Charging Profiles). From the published case: profile 1 is a TxDefaultProfile,
 * Absolute, stackLevel 0, startSchedule now, duration 400, periods {0: 6 A, 100: 8 A, 200: 10 A}, and
 * profile 2 a TxDefaultProfile at stackLevel 1 starting now. Ours (the text we have stops there):
 * profile 2's duration 150 and periods {0: 10 A, 100: 6 A}, connector 1, no transaction. Expected:
 * profile 2 while it runs (0-150 s: 10, then 6 from 100), then profile 1 (8 from 150, 10 from 200).
 */
static void test_tc072_stacking(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile p1 = mk(1, 1, OCPP_SC_TX_DEFAULT, 0), p2 = mk(2, 1, OCPP_SC_TX_DEFAULT, 1);
	struct ocpp_sc_ctx c = ctx1();
	int64_t now = t0();

	periods(&p1, "0:6,100:8,200:10");
	sched(&p1, now, 400);
	periods(&p2, "0:10,100:6");
	sched(&p2, now, 150);
	install(sc, &p1);
	install(sc, &p2);
	composite_is(sc, &c, now, 400, OCPP_SC_AMPS, "0:10,100:6,150:8,200:10");
	limit_is(sc, &c, now + 120 * S, 6, now + 150 * S);
	limit_is(sc, &c, now + 150 * S, 8, now + 200 * S);
}

/*
 * OCTT TC_066 (Get Composite Schedule). The profile shapes follow the case: a ChargePointMaxProfile on
 * connector 0 (stack 0, Absolute, duration 86400, {0: 10 A}), a TxDefaultProfile on connector 1
 * (stack 0, duration 400, {0: 6, 60: 8, 200: 10}) and a TxProfile for the running transaction (stack 0,
 * duration 260, {0: 8, 50: 11, 140: 16}). Ours: all start at the request time, transaction id 17
 * started then, connector 1. By hand, for 400 s:
 *   0-50    TxProfile 8,  max 10 -> 8
 *   50-140  TxProfile 11, max 10 -> 10
 *   140-260 TxProfile 16, max 10 -> 10
 *   260-400 TxProfile ended; TxDefault period 200: 10, max 10 -> 10
 * so [{0, 8}, {50, 10}]. Without the maximum: [{0, 8}, {50, 11}, {140, 16}, {260, 10}].
 */
static void test_tc066_composite(void **state)
{
	struct ocpp_sc *sc = *state;
	struct ocpp_sc_profile max = mk(1, 0, OCPP_SC_CP_MAX, 0), def = mk(2, 1, OCPP_SC_TX_DEFAULT, 0);
	struct ocpp_sc_profile tx = mk(3, 1, OCPP_SC_TX, 0);
	struct ocpp_sc_ctx c = ctx1();
	int64_t now = t0();
	struct ocpp_sc_filter f = { .has_id = true, .id = 1 };

	periods(&max, "0:10");
	sched(&max, now, 86400);
	periods(&def, "0:6,60:8,200:10");
	sched(&def, now, 400);
	periods(&tx, "0:8,50:11,140:16");
	sched(&tx, now, 260);
	tx.tx_id = 17;
	install(sc, &max);
	install(sc, &def);
	install(sc, &tx);
	c.tx_active = true;
	c.tx_id = 17;
	c.tx_start_ms = now;
	composite_is(sc, &c, now, 400, OCPP_SC_AMPS, "0:8,50:10");
	composite_is(sc, &c, now, 400, OCPP_SC_WATTS, "0:5520,50:6900");
	assert_int_equal(ocpp_sc_clear(sc, &f), 1);
	composite_is(sc, &c, now, 400, OCPP_SC_AMPS, "0:8,50:11,140:16,260:10");
	/* After the transaction, its profile goes and the default is what is left. */
	assert_int_equal(ocpp_sc_clear_tx(sc, 1), 1);
	composite_is(sc, &c, now, 400, OCPP_SC_AMPS, "0:6,60:8,200:10");
}

/* ---- property test against a brute-force evaluator ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Uniform-enough in [lo, hi]. */
static int64_t rnd_in(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/* Written from the rules, step by step, with no shared code: the limit of @p at @t in A, or -1. */
static double bf_profile(const struct ocpp_sc_profile *p, const struct ocpp_sc_ctx *c, int64_t eval_start,
			 int64_t t)
{
	int64_t start, stop = INT64_MAX;
	double limit = -1;

	if (p->has_valid_from && t < p->valid_from_ms)
		return -1;
	if (p->has_valid_to && !(t < p->valid_to_ms))
		return -1;
	if (p->kind == OCPP_SC_RECURRING) {
		int64_t step = p->recurrency == OCPP_SC_WEEKLY ? 7 * DAY : DAY;

		if (t < p->start_ms)
			return -1;
		start = p->start_ms;
		while (start + step <= t)
			start += step;
		stop = start + step;
	} else if (p->kind == OCPP_SC_ABSOLUTE && p->has_start) {
		start = p->start_ms;
	} else if (c->tx_active) {
		start = c->tx_start_ms;
	} else {
		start = eval_start;
	}
	if (p->has_duration && start + p->duration_s * S < stop)
		stop = start + p->duration_s * S;
	if (t < start || t >= stop)
		return -1;
	for (int i = 0; i < p->n_periods; i++)
		if (start + p->periods[i].start_s * S <= t)
			limit = p->periods[i].limit;
	if (limit >= 0 && p->unit == OCPP_SC_WATTS)
		limit = limit / (c->voltage * c->phases);
	return limit;
}

static double bf_pick(const struct ocpp_sc *sc, const struct ocpp_sc_ctx *c, int64_t eval_start, int64_t t,
		      enum ocpp_sc_purpose purpose, int connector)
{
	int best_stack = -1;
	double best = -1;

	for (int i = 0; i < ocpp_sc_count(sc); i++) {
		const struct ocpp_sc_profile *p = ocpp_sc_get(sc, i);
		double v;

		if (p->purpose != purpose || p->connector != connector)
			continue;
		if (purpose == OCPP_SC_TX && (!c->tx_active || (p->tx_id != 0 && p->tx_id != c->tx_id)))
			continue;
		v = bf_profile(p, c, eval_start, t);
		if (v >= 0 && p->stack > best_stack) {
			best_stack = p->stack;
			best = v;
		}
	}
	return best;
}

static void bf_eval(const struct ocpp_sc *sc, const struct ocpp_sc_ctx *c, int64_t eval_start, int64_t t,
		    double *conn, double *max)
{
	*max = bf_pick(sc, c, eval_start, t, OCPP_SC_CP_MAX, 0);
	*conn = -1;
	if (c->connector == 0)
		return;
	*conn = bf_pick(sc, c, eval_start, t, OCPP_SC_TX, c->connector);
	if (*conn < 0)
		*conn = bf_pick(sc, c, eval_start, t, OCPP_SC_TX_DEFAULT, c->connector);
	if (*conn < 0)
		*conn = bf_pick(sc, c, eval_start, t, OCPP_SC_TX_DEFAULT, 0);
}

static double bf_limit(double conn, double max)
{
	if (conn < 0)
		return max;
	if (max < 0)
		return conn;
	return conn < max ? conn : max;
}

/* Whole seconds within @days of @base. */
static int64_t rnd_time(int64_t base, int days_before, int days_after)
{
	return base + rnd_in(-(int64_t)days_before * 86400, (int64_t)days_after * 86400) * S;
}

static struct ocpp_sc_profile rnd_profile(int id, int64_t base)
{
	static const enum ocpp_sc_purpose purposes[] = { OCPP_SC_CP_MAX, OCPP_SC_TX_DEFAULT, OCPP_SC_TX };
	struct ocpp_sc_profile p = mk(id, 0, purposes[rnd() % 3], (int)rnd_in(0, 3));
	int32_t at = 0;

	p.connector = p.purpose == OCPP_SC_CP_MAX ? 0 : p.purpose == OCPP_SC_TX ? (int)rnd_in(1, 2) : (int)rnd_in(0, 2);
	p.kind = (enum ocpp_sc_kind)(rnd() % 3);
	if (p.purpose == OCPP_SC_TX && rnd() % 2)
		p.tx_id = (int)rnd_in(1, 3);
	if (p.kind == OCPP_SC_RECURRING) {
		p.recurrency = rnd() % 3 ? OCPP_SC_DAILY : OCPP_SC_WEEKLY;
		sched(&p, rnd_time(base, 9, rnd() % 3 ? 2 : 20), -1);
	} else if (p.kind == OCPP_SC_ABSOLUTE && rnd() % 4) {
		sched(&p, rnd_time(base, 1, 1), -1);
	}
	if (rnd() % 2) {
		p.has_duration = true;
		p.duration_s = (int32_t)(rnd() % 4 ? rnd_in(0, 20000) : rnd_in(0, 800000));
	}
	if (rnd() % 4 == 0) {
		p.has_valid_from = true;
		p.valid_from_ms = rnd_time(base, 1, rnd() % 3 ? 1 : 25);
	}
	if (rnd() % 4 == 0) {
		p.has_valid_to = true;
		p.valid_to_ms = rnd_time(base, 1, rnd() % 3 ? 2 : 30);
	}
	p.unit = rnd() % 3 ? OCPP_SC_AMPS : OCPP_SC_WATTS;
	p.n_periods = (int)rnd_in(1, 5);
	for (int i = 0; i < p.n_periods; i++) {
		p.periods[i].start_s = at;
		p.periods[i].limit = p.unit == OCPP_SC_AMPS ? (double)rnd_in(0, 800) / 10 : (double)rnd_in(0, 5000) * 3;
		at += (int32_t)(rnd() % 2 ? rnd_in(1, 3000) : rnd_in(1, 40000));
	}
	return p;
}

static void check_composite(const struct ocpp_sc *sc, const struct ocpp_sc_ctx *c, int64_t base)
{
	static struct ocpp_sc_slot out[1024];
	int64_t start = rnd_time(base, 1, 1);
	int32_t dur = (int32_t)(rnd() % 4 ? rnd_in(0, 3 * 86400) : rnd_in(0, 40 * 86400));
	enum ocpp_sc_unit unit = rnd() % 2 ? OCPP_SC_AMPS : OCPP_SC_WATTS;
	double vp = c->voltage * c->phases;
	int n = ocpp_sc_composite(sc, c, start, dur, unit, out, 1024);

	assert_true(n >= 1 && n < 1024);
	assert_int_equal(out[0].start_s, 0);
	for (int i = 1; i < n; i++) {
		assert_true(out[i].start_s > out[i - 1].start_s);
		assert_true(out[i].start_s < (dur > 0 ? dur : 1));
		assert_true(out[i].limit != out[i - 1].limit);
	}
	for (int k = 0; k < 30; k++) {
		int32_t last = dur > 0 ? dur - 1 : 0;
		int32_t sec = (int32_t)(k == 0 ? 0 : k == 1 ? last : rnd_in(0, last));
		int64_t at = start + sec * S;
		double conn, max, want, got;
		int i = n - 1;

		while (out[i].start_s > sec)
			i--;
		got = out[i].limit;
		bf_eval(sc, c, start, at, &conn, &max);
		want = conn < 0 ? c->default_amps : conn;
		if (max >= 0 && max < want)
			want = max;
		/* With a transaction nothing hangs on the evaluation start, so ocpp_sc_limit must agree too. */
		if (c->tx_active) {
			double lim = ocpp_sc_limit(sc, c, at, NULL);
			double via = lim;

			/* A gap is the wiring, under the charge point maximum if one applies. */
			if (lim < 0 || (conn < 0 && c->default_amps < lim))
				via = c->default_amps;

			assert_true(fabs(via - want) < 1e-9);
		}
		if (unit == OCPP_SC_WATTS)
			want *= vp;
		if (fabs(got - want) > 0.05 + 1e-6)
			fail_msg("composite at %d s: %g, want %g", sec, got, want);
	}
}

static void test_property(void **state)
{
	struct ocpp_sc *sc = *state;
	int rounds = quick() ? 200 : 2000;
	int64_t base = t0();

	rng_state = 0x9E3779B97F4A7C15ULL;
	for (int r = 0; r < rounds; r++) {
		struct ocpp_sc_ctx c;
		int n;

		/* One statement each: the order of the draws is then fixed, as it is not inside an initializer. */
		c.connector = (int)rnd_in(0, 2);
		c.tx_active = rnd() % 2;
		c.tx_id = (int)rnd_in(1, 3);
		c.tx_start_ms = rnd_time(base, 1, 0);
		c.voltage = rnd() % 2 ? 230 : 120;
		c.phases = rnd() % 2 ? 3 : 1;
		c.default_amps = (double)rnd_in(6, 80);
		n = (int)rnd_in(0, 7);

		ocpp_sc_clear(sc, NULL);
		for (int i = 0; i < n; i++) {
			struct ocpp_sc_profile p = rnd_profile(i + 1, base);

			install(sc, &p);
		}
		for (int k = 0; k < 4; k++) {
			/* Now at any millisecond. */
			int64_t now = rnd_time(base, 1, 3) + rnd_in(0, 999) * (rnd() % 2);
			int64_t next = 0;
			double conn, max, got = ocpp_sc_limit(sc, &c, now, &next);

			/* (a) the limit now is the brute force's */
			bf_eval(sc, &c, now, now, &conn, &max);
			if (fabs(got - bf_limit(conn, max)) > 1e-9)
				fail_msg("round %d: limit %g, brute force %g", r, got, bf_limit(conn, max));
			/* (c) nothing changes before next_ms */
			assert_true(next > now);
			for (int j = 0; j < 6; j++) {
				int64_t span = next == INT64_MAX ? 10 * DAY : next - now;
				int64_t u = j == 0 ? next - 1 : now + rnd_in(0, span - 1);

				if (next == INT64_MAX && j == 0)
					continue;
				if (fabs(ocpp_sc_limit(sc, &c, u, NULL) - got) > 1e-9)
					fail_msg("round %d: limit changes at %lld before next_ms %lld", r,
						 (long long)(u - now), (long long)(next - now));
			}
		}
		/* (b) the composite at sampled seconds */
		check_composite(sc, &c, base);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_missing),
		cmocka_unit_test(test_parse_type),
		cmocka_unit_test(test_parse_property),
		cmocka_unit_test(test_parse_recurring),
		cmocka_unit_test(test_parse_too_many_periods),
		cmocka_unit_test_setup_teardown(test_install_replace_by_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_replace_by_stack, setup, teardown),
		cmocka_unit_test(test_install_full),
		cmocka_unit_test_setup_teardown(test_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stacking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_beats_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_wrong_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connector_default_beats_cp_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cp_max_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absolute_without_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recurring_daily, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recurring_crossing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recurring_weekly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valid_from_to, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subsecond, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_ms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tc072_stacking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tc066_composite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_property, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
