/*
 * test_ocpp_smart: the Smart Charging profile as the charge point runs it: SetChargingProfile,
 * ClearChargingProfile, GetCompositeSchedule and RemoteStartTransaction with a TxProfile, the limits
 * they hand to the bus (per connector and in total), re-evaluation exactly at period boundaries,
 * pausing below the minimum, persistence across a restart, and a property test that no sequence of
 * random profiles makes the charge point ask for more than the wiring. The composite arithmetic
 * itself is tested in test_ocpp_sc.c; here the real ocpp_cp runs in the fake environment.
 */
#include "ocpp_fake.h"

/* A csChargingProfiles object. @extra: more fields, each starting with a comma, or "". */
static char *profile(int id, const char *purpose, int stack, const char *kind, const char *extra, const char *unit,
		     const char *periods)
{
	char *s = NULL;

	assert_true(asprintf(&s,
			     "{\"chargingProfileId\":%d,\"stackLevel\":%d,\"chargingProfilePurpose\":\"%s\","
			     "\"chargingProfileKind\":\"%s\"%s,\"chargingSchedule\":{\"chargingRateUnit\":\"%s\","
			     "\"chargingSchedulePeriod\":[%s]}}",
			     id, stack, purpose, kind, extra, unit, periods) > 0);
	return s;
}

static const char *set_profile(struct fake *f, int c, char *prof)
{
	char *req = NULL;
	const char *st;

	assert_true(asprintf(&req, "{\"connectorId\":%d,\"csChargingProfiles\":%s}", c, prof) > 0);
	st = fk_cs_status(f, "SetChargingProfile", req);
	free(req);
	free(prof);
	return st;
}

static const json_t *composite(struct fake *f, int c, int duration, const char *unit)
{
	char req[128];
	json_t *r;

	if (unit)
		snprintf(req, sizeof(req), "{\"connectorId\":%d,\"duration\":%d,\"chargingRateUnit\":\"%s\"}", c, duration,
			 unit);
	else
		snprintf(req, sizeof(req), "{\"connectorId\":%d,\"duration\":%d}", c, duration);
	r = fk_cs(f, "GetCompositeSchedule", req);
	assert_int_equal(json_integer_value(json_array_get(r, 0)), 3);
	return json_array_get(r, 2);
}

static double period_limit(const json_t *conf, size_t i, int *start)
{
	const json_t *p = json_array_get(json_object_get(json_object_get(conf, "chargingSchedule"),
							 "chargingSchedulePeriod"),
					 i);

	assert_non_null(p);
	if (start)
		*start = (int)json_integer_value(json_object_get(p, "startPeriod"));
	return json_number_value(json_object_get(p, "limit"));
}

static size_t period_count(const json_t *conf)
{
	return json_array_size(json_object_get(json_object_get(conf, "chargingSchedule"), "chargingSchedulePeriod"));
}

#define P1(lim) "{\"startPeriod\":0,\"limit\":" #lim "}"

/* TC_056: a TxDefaultProfile set before the transaction governs it once it starts. */
static void test_tx_default_applies_to_new_transaction(void **state)
{
	struct fake *f = *state;

	fk_online(f, 2);
	assert_string_equal(set_profile(f, 0, profile(1, "TxDefaultProfile", 0, "Absolute", "", "A", P1(12))),
			    "Accepted");
	assert_int_equal(lim_now(f, 1), 0); /* no transaction: nothing offered */
	fk_remote_tx(f, 1, 100);
	assert_int_equal(lim_now(f, 1), 12);
	assert_int_equal(lim_now(f, 2), 0);
	assert_non_null(strstr(f->files[3].text, "TxDefaultProfile"));
}

/* TC_082: a TxDefaultProfile set during a transaction applies to it at once; a connector's own beats
 * connector 0's. */
static void test_tx_default_during_transaction(void **state)
{
	struct fake *f = *state;

	fk_online(f, 1);
	fk_remote_tx(f, 1, 100);
	assert_int_equal(lim_now(f, 1), -1);
	assert_string_equal(set_profile(f, 0, profile(1, "TxDefaultProfile", 0, "Absolute", "", "A", P1(20))),
			    "Accepted");
	assert_int_equal(lim_now(f, 1), 20);
	assert_string_equal(set_profile(f, 1, profile(2, "TxDefaultProfile", 0, "Absolute", "", "A", P1(14))),
			    "Accepted");
	assert_int_equal(lim_now(f, 1), 14);
}

/* TC_057, TC_058_1, TC_058_2: a TxProfile needs the running transaction, by id when it names one. */
static void test_tx_profile_rules(void **state)
{
	struct fake *f = *state;

	fk_online(f, 2);
	assert_string_equal(set_profile(f, 1, profile(5, "TxProfile", 0, "Relative", "", "A", P1(10))), "Rejected");
	fk_remote_tx(f, 1, 100);
	assert_string_equal(set_profile(f, 1, profile(5, "TxProfile", 0, "Relative", ",\"transactionId\":99", "A",
						      P1(10))),
			    "Rejected");
	assert_string_equal(set_profile(f, 2, profile(5, "TxProfile", 0, "Relative", "", "A", P1(10))), "Rejected");
	assert_string_equal(set_profile(f, 0, profile(5, "TxProfile", 0, "Relative", "", "A", P1(10))), "Rejected");
	assert_int_equal(lim_now(f, 1), -1);
	assert_string_equal(set_profile(f, 1, profile(5, "TxProfile", 0, "Relative", ",\"transactionId\":100", "A",
						      P1(10))),
			    "Accepted");
	assert_int_equal(lim_now(f, 1), 10);
	/* ChargePointMaxProfile only on connector 0 */
	assert_string_equal(set_profile(f, 1, profile(6, "ChargePointMaxProfile", 0, "Absolute", "", "A", P1(10))),
			    "Rejected");
	/* a stack level beyond ChargeProfileMaxStackLevel */
	assert_string_equal(set_profile(f, 1, profile(7, "TxProfile", 9, "Relative", "", "A", P1(10))), "Rejected");
	/* unknown connector */
	assert_string_equal(set_profile(f, 5, profile(8, "TxDefaultProfile", 0, "Relative", "", "A", P1(10))),
			    "Rejected");
	/* the TxProfile ends with its transaction */
	assert_string_equal(fk_cs_status(f, "RemoteStopTransaction", "{\"transactionId\":100}"), "Accepted");
	fk_settle(f);
	assert_null(strstr(f->files[3].text, "TxProfile"));
	assert_int_equal(lim_now(f, 1), 0);
}

/* Schema violations are CALLERRORs, not Rejected. */
static void test_malformed_profiles(void **state)
{
	struct fake *f = *state;
	json_t *r;

	fk_online(f, 1);
	r = fk_cs(f, "SetChargingProfile",
		  "{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":1,\"stackLevel\":0,"
		  "\"chargingProfilePurpose\":\"Bogus\",\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":"
		  "{\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[" P1(6) "]}}}");
	assert_int_equal(json_integer_value(json_array_get(r, 0)), 4);
	assert_string_equal(json_string_value(json_array_get(r, 2)), "PropertyConstraintViolation");
	r = fk_cs(f, "SetChargingProfile", "{\"connectorId\":1}");
	assert_string_equal(json_string_value(json_array_get(r, 2)), "OccurenceConstraintViolation");
	r = fk_cs(f, "GetCompositeSchedule", "{\"connectorId\":1,\"duration\":\"60\"}");
	assert_string_equal(json_string_value(json_array_get(r, 2)), "TypeConstraintViolation");
	r = fk_cs(f, "ClearChargingProfile", "{\"stackLevel\":0,\"colour\":1}");
	assert_string_equal(json_string_value(json_array_get(r, 2)), "PropertyConstraintViolation");
	assert_int_equal(lim_now(f, 1), 0);
}

/* A limit below minAmpsPerTWC pauses the connector (SuspendedEVSE); it resumes when the limit returns,
 * exactly at the period boundary. */
static void test_pause_below_minimum_and_period_boundary(void **state)
{
	struct fake *f = *state;
	char extra[96];

	fk_online(f, 1);
	fk_remote_tx(f, 1, 100);
	f->autoack = true; /* MeterValues come every minute meanwhile */
	fk_charge(f, 1, 2, 16);
	snprintf(extra, sizeof(extra), ",\"transactionId\":100");
	assert_string_equal(set_profile(f, 1, profile(3, "TxProfile", 0, "Relative", extra, "A",
						      "{\"startPeriod\":0,\"limit\":16},{\"startPeriod\":600,\"limit\":4},"
						      "{\"startPeriod\":900,\"limit\":11.7}")),
			    "Accepted");
	assert_int_equal(lim_now(f, 1), 16);
	/* Relative: from the transaction start, which was 2 s (and a bit) ago */
	fk_advance(f, 590000);
	assert_int_equal(lim_now(f, 1), 16);
	{
		int64_t start = f->now.wall_ms;

		for (int i = 0; i < 20000 && lim_now(f, 1) == 16; i++)
			fk_advance(f, 1);
		/* the change came within the first 10 s after the 590 s mark, at a deadline, not by polling */
		assert_true(f->now.wall_ms - start <= 10000);
	}
	assert_int_equal(lim_now(f, 1), 0);
	fk_ev(f, 1, true, 6); /* a protocol 2 TWC told 0 still offers 6 A: the car draws on */
	fk_settle(f);
	assert_int_equal(ocpp_cp_connector_status(f->cp, 1), OCPP_ST_SUSPENDED_EVSE);
	assert_string_equal(f->st[1], "SuspendedEVSE");
	fk_advance(f, 300000);
	assert_int_equal(lim_now(f, 1), 11); /* whole amps, rounded down */
	fk_ev(f, 1, true, 11);
	fk_settle(f);
	assert_string_equal(f->st[1], "Charging");
	assert_int_equal(f->stuck, 0);
}

/* The bus pausing a connector (its share of a short total) shows as SuspendedEVSE too. */
static void test_bus_pause_is_suspended_evse(void **state)
{
	struct fake *f = *state;
	struct ocpp_evse e;

	fk_online(f, 1);
	fk_remote_tx(f, 1, 100);
	e = ev_make(true, 0);
	e.paused = true;
	fk_evse(f, 1, &e);
	fk_settle(f);
	assert_string_equal(f->st[1], "SuspendedEVSE");
	e.paused = false;
	e.amps = 10;
	e.drawing = true;
	fk_evse(f, 1, &e);
	fk_settle(f);
	assert_string_equal(f->st[1], "Charging");
}

/* ChargePointMaxProfile becomes the bus's total (W through voltage and phases), lowered at once. */
static void test_charge_point_max_total(void **state)
{
	struct fake *f = *state;

	fk_online(f, 2);
	assert_int_equal(f->n_total, 1); /* at start: the wiring */
	assert_int_equal(f->total[0], -1);
	assert_string_equal(set_profile(f, 0, profile(1, "ChargePointMaxProfile", 0, "Absolute", "", "A", P1(20))),
			    "Accepted");
	assert_int_equal(f->n_total, 2);
	assert_int_equal(f->total[1], 20);
	/* 2300 W at 230 V on one phase is 10 A; the same stack level and purpose replaces the first */
	assert_string_equal(set_profile(f, 0, profile(2, "ChargePointMaxProfile", 0, "Absolute", "", "W", P1(2300))),
			    "Accepted");
	assert_int_equal(f->total[f->n_total - 1], 10);
	fk_remote_tx(f, 1, 100);
	assert_int_equal(lim_now(f, 1), 10); /* the connector's own limit is never above the total */
	assert_string_equal(fk_cs_status(f, "ClearChargingProfile", "{\"chargingProfilePurpose\":\"ChargePointMaxProfile\"}"),
			    "Accepted");
	assert_int_equal(f->total[f->n_total - 1], -1);
	assert_int_equal(lim_now(f, 1), -1);
	assert_string_equal(fk_cs_status(f, "ClearChargingProfile", "{\"id\":2}"), "Unknown");
}

/* A ChargePointMaxProfile without startSchedule runs from when it arrived: its second period comes. */
static void test_charge_point_max_anchored(void **state)
{
	struct fake *f = *state;

	fk_online(f, 1);
	f->autoack = true;
	assert_string_equal(set_profile(f, 0, profile(1, "ChargePointMaxProfile", 0, "Relative", "", "A",
						      "{\"startPeriod\":0,\"limit\":20},{\"startPeriod\":60,\"limit\":12}")),
			    "Accepted");
	assert_int_equal(f->total[f->n_total - 1], 20);
	fk_advance(f, 59000);
	assert_int_equal(f->total[f->n_total - 1], 20);
	fk_advance(f, 1000);
	assert_int_equal(f->total[f->n_total - 1], 12);
	assert_int_equal(f->stuck, 0);
}

/* TC_059 and TC_060: RemoteStartTransaction with a TxProfile governs the transaction; another purpose
 * is Rejected. */
static void test_remote_start_with_profile(void **state)
{
	struct fake *f = *state;
	char *req = NULL, *prof;
	const json_t *conf;
	int start;

	fk_online(f, 1);
	prof = profile(9, "TxDefaultProfile", 0, "Relative", "", "A", P1(10));
	assert_true(asprintf(&req, "{\"connectorId\":1,\"idTag\":\"T1\",\"chargingProfile\":%s}", prof) > 0);
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", req), "Rejected");
	free(req);
	free(prof);
	prof = profile(9, "TxProfile", 0, "Relative", "", "A", "{\"startPeriod\":0,\"limit\":10},{\"startPeriod\":120,\"limit\":13}");
	assert_true(asprintf(&req, "{\"connectorId\":1,\"idTag\":\"T1\",\"chargingProfile\":%s}", prof) > 0);
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", req), "Accepted");
	free(req);
	free(prof);
	fk_settle(f);
	fk_ev(f, 1, true, 0);
	fk_expect_after_status(f, "StartTransaction");
	fk_ack_start(f, 77, "Accepted");
	fk_settle(f);
	assert_int_equal(lim_now(f, 1), 10);
	conf = composite(f, 1, 300, "A");
	assert_string_equal(jstr(conf, "status"), "Accepted");
	assert_int_equal(jint(conf, "connectorId"), 1);
	assert_int_equal(jint(json_object_get(conf, "chargingSchedule"), "duration"), 300);
	assert_string_equal(jstr(json_object_get(conf, "chargingSchedule"), "chargingRateUnit"), "A");
	assert_int_equal(period_count(conf), 2);
	assert_true(period_limit(conf, 0, &start) == 10.0 && start == 0);
	assert_true(period_limit(conf, 1, &start) == 13.0 && start == 120);
	/* the same in W: 230 V, one phase */
	conf = composite(f, 1, 300, "W");
	assert_true(period_limit(conf, 0, NULL) == 2300.0);
	/* an unknown connector */
	assert_string_equal(jstr(composite(f, 4, 300, NULL), "status"), "Rejected");
}

/* A RemoteStartTransaction's TxProfile goes with its authorisation when no car comes. */
static void test_remote_start_profile_lapses(void **state)
{
	struct fake *f = *state;
	char *req = NULL, *prof = profile(9, "TxProfile", 0, "Relative", "", "A", P1(10));

	fk_online(f, 1);
	assert_true(asprintf(&req, "{\"connectorId\":1,\"idTag\":\"T1\",\"chargingProfile\":%s}", prof) > 0);
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", req), "Accepted");
	free(req);
	free(prof);
	assert_non_null(strstr(f->files[3].text, "TxProfile"));
	fk_advance(f, 61000);
	fk_settle(f);
	assert_null(strstr(f->files[3].text, "TxProfile"));
}

/* Profiles survive a restart (SIGKILL) and apply to the next transaction. */
static void test_profiles_persist(void **state)
{
	struct fake *f = *state;
	const json_t *conf;

	fk_online(f, 1);
	assert_string_equal(set_profile(f, 1, profile(4, "TxDefaultProfile", 2, "Absolute", "", "A", P1(9))), "Accepted");
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	fk_ev(f, 1, false, 0);
	fk_connect_boot(f);
	fk_settle(f);
	conf = composite(f, 1, 60, NULL);
	assert_true(period_limit(conf, 0, NULL) == 9.0);
	fk_remote_tx(f, 1, 101);
	assert_int_equal(lim_now(f, 1), 9);
	/* a corrupt file is logged and ignored, never fatal */
	free(f->files[3].text);
	f->files[3].text = strdup("{\"profiles\":7}");
	assert_int_equal(fk_restart(f, NULL, 0), 0);
}

/* Clearing by criteria: connector, purpose and stack level must all match. */
static void test_clear_by_criteria(void **state)
{
	struct fake *f = *state;

	fk_online(f, 2);
	assert_string_equal(set_profile(f, 1, profile(1, "TxDefaultProfile", 0, "Absolute", "", "A", P1(8))), "Accepted");
	assert_string_equal(set_profile(f, 1, profile(2, "TxDefaultProfile", 1, "Absolute", "", "A", P1(9))), "Accepted");
	assert_string_equal(set_profile(f, 2, profile(3, "TxDefaultProfile", 1, "Absolute", "", "A", P1(10))), "Accepted");
	assert_string_equal(fk_cs_status(f, "ClearChargingProfile", "{\"connectorId\":1,\"stackLevel\":2}"), "Unknown");
	assert_string_equal(fk_cs_status(f, "ClearChargingProfile",
					 "{\"connectorId\":1,\"chargingProfilePurpose\":\"TxDefaultProfile\",\"stackLevel\":1}"),
			    "Accepted");
	assert_true(period_limit(composite(f, 1, 60, NULL), 0, NULL) == 8.0);
	assert_true(period_limit(composite(f, 2, 60, NULL), 0, NULL) == 10.0);
	assert_string_equal(fk_cs_status(f, "ClearChargingProfile", "{}"), "Accepted");
	assert_true(period_limit(composite(f, 2, 60, NULL), 0, NULL) == 32.0); /* the wiring */
	assert_string_equal(fk_cs_status(f, "ClearChargingProfile", "{}"), "Unknown");
}

/* Property: whatever profiles arrive, the charge point never asks the bus for more than the wiring:
 * every connector limit is -1 (the wiring) or within [minAmps, wiring), never positive without a
 * transaction, and the total is -1 or below the total wiring. */
static uint32_t rnd_state = 12345u;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void test_random_profiles_never_exceed_wiring(void **state)
{
	struct fake *f = *state;
	static const char *const purposes[] = { "ChargePointMaxProfile", "TxDefaultProfile", "TxProfile" };
	static const char *const kinds[] = { "Absolute", "Relative", "Recurring" };
	int rounds = quick() ? 60 : 600;

	fk_online(f, 2);
	fk_remote_tx(f, 1, 100);
	for (int r = 0; r < rounds; r++) {
		char periods[512] = "", extra[160] = "";
		int np = 1 + (int)(rnd() % 4), at = 0, kind = (int)(rnd() % 3), c = (int)(rnd() % 3);
		bool watts = rnd() % 2;

		for (int i = 0; i < np; i++) {
			char one[96];
			double lim = (rnd() % 3 == 0) ? (double)(rnd() % 100000) : (double)(rnd() % 700) / 10.0;

			snprintf(one, sizeof(one), "%s{\"startPeriod\":%d,\"limit\":%.1f}", i ? "," : "", at, lim);
			strncat(periods, one, sizeof(periods) - strlen(periods) - 1);
			at += 1 + (int)(rnd() % 300);
		}
		if (kind == 2)
			snprintf(extra, sizeof(extra), ",\"recurrencyKind\":\"%s\"", rnd() % 2 ? "Daily" : "Weekly");
		if (kind != 1 || rnd() % 2) {
			char ts[OCPP_TIME_LEN + 1];

			ocpp_time_format(f->now.wall_ms - (int64_t)(rnd() % 200000), ts, sizeof(ts));
			snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), ",\"validFrom\":\"%s\"", ts);
		}
		{
			char *prof = NULL, *req = NULL;
			char sched[64] = "";

			if (kind == 2 || rnd() % 2) {
				char ts[OCPP_TIME_LEN + 1];

				ocpp_time_format(f->now.wall_ms - (int64_t)(rnd() % 100000), ts, sizeof(ts));
				snprintf(sched, sizeof(sched), ",\"startSchedule\":\"%s\"", ts);
			}
			assert_true(asprintf(&prof,
					     "{\"chargingProfileId\":%d,\"stackLevel\":%d,\"chargingProfilePurpose\":\"%s\","
					     "\"chargingProfileKind\":\"%s\"%s,\"chargingSchedule\":{\"duration\":%d%s,"
					     "\"chargingRateUnit\":\"%s\",\"chargingSchedulePeriod\":[%s]}}",
					     1 + (int)(rnd() % 12), (int)(rnd() % 4), purposes[rnd() % 3], kinds[kind], extra,
					     60 + (int)(rnd() % 2000), sched, watts ? "W" : "A", periods) > 0);
			assert_true(asprintf(&req, "{\"connectorId\":%d,\"csChargingProfiles\":%s}", c, prof) > 0);
			fk_cs(f, "SetChargingProfile", req);
			free(prof);
			free(req);
		}
		if (rnd() % 7 == 0)
			fk_cs(f, "ClearChargingProfile", "{\"chargingProfilePurpose\":\"TxDefaultProfile\"}");
		fk_advance(f, (rnd() % 120) * 1000u);
		fk_settle(f);
		for (int i = 0; i < f->n_lim; i++) {
			int a = f->lim_a[i];

			assert_true(a == -1 || a == 0 || (a >= 6 && a < 32));
			if (f->lim_c[i] == 2)
				assert_int_equal(a, 0); /* no transaction on 2: nothing, whatever the profiles */
		}
		for (int i = 0; i < f->n_total; i++)
			assert_true(f->total[i] == -1 || (f->total[i] >= 0 && f->total[i] < 40));
		f->n_lim = 0;
		f->n_total = 0;
	}
	assert_int_equal(f->stuck, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_tx_default_applies_to_new_transaction),
		T(test_tx_default_during_transaction),
		T(test_tx_profile_rules),
		T(test_malformed_profiles),
		T(test_pause_below_minimum_and_period_boundary),
		T(test_bus_pause_is_suspended_evse),
		T(test_charge_point_max_total),
		T(test_charge_point_max_anchored),
		T(test_remote_start_with_profile),
		T(test_remote_start_profile_lapses),
		T(test_profiles_persist),
		T(test_clear_by_criteria),
		T(test_random_profiles_never_exceed_wiring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
