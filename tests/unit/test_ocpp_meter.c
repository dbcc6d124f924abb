/*
 * Tests of the energy register against a TWC lifetime counter that lies (ocpp_cp_meter.c), in the
 * fake environment of ocpp_fake.h with time driven by hand. Covered: one absurd reading (10,690,796
 * kWh, seen on real units) leaves the register alone, is counted once and warned about once, and a
 * plausible rise after it counts from the last good reading; a wrong value repeated for hours stays
 * ignored; a counter that goes back is a new anchor and never lowers the register; a counter that
 * jumped and keeps counting from there is followed without the jump; UINT32_MAX kWh and 0; the first
 * reading after a restart; a register from the connectors file beyond what meterStop can carry;
 * MeterValues stay finite numbers whatever the TWC reports.
 */
#include <math.h>

#include "ocpp_fake.h"

#define ABSURD_KWH 10690796ull
#define WH(kwh) ((uint64_t)(kwh) * 1000u)

static int n_warn, n_info;

static void t_log(void *user, enum core_log_level level, const char *msg)
{
	(void)user;
	if (!strstr(msg, "energy counter"))
		return;
	if (level == CORE_LOG_WARN)
		n_warn++;
	else if (level == CORE_LOG_INFO)
		n_info++;
}

/* fk_start() with the core's log lines counted. */
static void mk_start(struct fake *f)
{
	struct ocpp_cp_env env = fake_env;

	env.user = f;
	env.log = t_log;
	n_warn = n_info = 0;
	f->p.keys = f->keys;
	f->p.n_keys = f->n_keys;
	f->p.config_json = f->files[0].text;
	f->p.connectors_json = f->files[1].text;
	f->p.auth_json = f->files[2].text;
	f->p.profiles_json = f->files[3].text;
	f->p.local_list_json = f->files[4].text;
	f->cp = ocpp_cp_new(&f->p, &env);
	assert_non_null(f->cp);
	ocpp_cp_start(f->cp, 0, f->now);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
}

/* One update of connector 1, its TWC's counter reading @wh, a car plugged in or not. */
static void reading_plugged(struct fake *f, uint64_t wh, bool plugged)
{
	struct ocpp_evse e = ev_make(plugged, 0);

	e.has_lifetime = true;
	e.lifetime_wh = wh;
	fk_evse(f, 1, &e);
}

static void reading(struct fake *f, uint64_t wh)
{
	reading_plugged(f, wh, false);
}

static uint32_t rejected(const struct fake *f)
{
	return ocpp_cp_stats(f->cp)->lifetime_rejected;
}

static void assert_register(const struct fake *f, double wh)
{
	double r = ocpp_cp_energy_wh(f->cp, 1);

	if (fabs(r - wh) > 0.001)
		fail_msg("register %.3f Wh, expected %.3f Wh", r, wh);
}

/* 32 A x 230 V x 1 phase (+10 %) is 8.1 kWh an hour: the test's TWC. */
static void test_lifetime_absurd_reading_ignored(void **state)
{
	struct fake *f = *state;

	mk_start(f);
	reading(f, WH(5000));
	fk_advance(f, 60000);
	reading(f, WH(5001));
	assert_register(f, 0);
	/* One bad reply, repeated by the bus at every heartbeat for a minute. */
	fk_advance(f, 60000);
	for (int i = 0; i < 60; i++) {
		reading(f, WH(ABSURD_KWH));
		fk_advance(f, 1000);
	}
	assert_register(f, 0);
	assert_int_equal(rejected(f), 1);
	assert_int_equal(n_warn, 1);
	/* 2 kWh more than the last good reading, 2 minutes after it: believed, against the anchor. */
	reading(f, WH(5003));
	assert_register(f, 3000 - 1000);
	assert_int_equal(rejected(f), 1);
	assert_int_equal(n_info, 1);
	/* A second episode is warned about again, once. */
	fk_advance(f, 60000);
	reading(f, WH(ABSURD_KWH));
	fk_advance(f, 1000);
	reading(f, WH(ABSURD_KWH + 5));
	assert_int_equal(n_warn, 2);
	assert_int_equal(rejected(f), 3);
	assert_register(f, 2000);
	/* A rise of 3 kWh a second after a good reading is not possible either (8.1 W a second + 2 kWh). */
	fk_advance(f, 1000);
	reading(f, WH(5003));
	fk_advance(f, 1000);
	reading(f, WH(5006));
	assert_register(f, 2000);
	assert_int_equal(rejected(f), 4);
	/* An hour later 2 kWh on from the bad value: the counter really jumped, so it is counted from
	 * there, without the jump. */
	fk_advance(f, 3600000);
	reading(f, WH(5008));
	assert_register(f, 2000);
	fk_advance(f, 3600000);
	reading(f, WH(5012));
	assert_register(f, 2000 + 4000 - 1000);
	assert_int_equal(rejected(f), 4);
}

/* A wrong value the bus keeps repeating does not become plausible with time: 100 kWh more than a
 * minute before stays ignored however long it is repeated, and when the counter goes on from it the
 * jump is still not counted. */
static void test_lifetime_stuck_bad_value(void **state)
{
	struct fake *f = *state;

	mk_start(f);
	reading(f, WH(5000));
	fk_advance(f, 60000);
	for (int h = 0; h < 14; h++) {
		reading(f, WH(5100));
		fk_advance(f, 3600000);
	}
	assert_register(f, 0);
	assert_int_equal(rejected(f), 1);
	assert_int_equal(n_warn, 1);
	reading(f, WH(5101));
	assert_register(f, 0);
	fk_advance(f, 3600000);
	reading(f, WH(5104));
	assert_register(f, 3000 - 1000);
}

static void test_lifetime_counter_reset_reanchors(void **state)
{
	struct fake *f = *state;

	mk_start(f);
	reading(f, WH(100));
	fk_advance(f, 3600000);
	reading(f, WH(110));
	assert_register(f, 9000);
	/* Gone back (a replaced TWC, or a reset one): counted from there, the register stays. */
	fk_advance(f, 60000);
	reading(f, WH(3));
	assert_register(f, 9000);
	assert_int_equal(rejected(f), 1);
	assert_int_equal(n_warn, 1);
	fk_advance(f, 3600000);
	reading(f, WH(4));
	assert_register(f, 9000);
	fk_advance(f, 3600000);
	reading(f, WH(9));
	assert_register(f, 9000 + 6000 - 1000);
	assert_int_equal(rejected(f), 1);
	/* Integration goes on on top of it. */
	fk_ev(f, 1, true, 16);
	fk_charge(f, 1, 3600, 16);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) > 14000 + 3680 - 1);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) < 14000 + 3680 + 1);
}

static void test_lifetime_extremes(void **state)
{
	struct fake *f = *state;
	json_t *p;

	fk_key(f, "MeterValueSampleInterval", "0");
	fk_online(f, 1);
	/* The largest counter a TWC can send, as the first reading: an anchor, nothing more. */
	reading(f, WH(UINT32_MAX));
	assert_register(f, 0);
	fk_advance(f, 60000);
	reading(f, WH(UINT32_MAX));
	/* It wraps to 0: gone back. */
	fk_advance(f, 60000);
	reading(f, 0);
	assert_register(f, 0);
	assert_int_equal(rejected(f), 1);
	/* From 0 to the top in a minute: ignored. */
	fk_advance(f, 60000);
	reading(f, WH(UINT32_MAX));
	assert_register(f, 0);
	assert_int_equal(rejected(f), 2);
	fk_advance(f, 3600000);
	reading(f, WH(3));
	assert_register(f, 2000);
	/* Transactions carry sane meter values. */
	fk_remote_tx(f, 1, 7);
	fk_advance(f, 60000);
	reading_plugged(f, WH(UINT32_MAX), true);
	assert_string_equal(fk_cs_status(f, "RemoteStopTransaction", "{\"transactionId\":7}"), "Accepted");
	p = fk_expect_after_status(f, "StopTransaction");
	assert_int_equal(jint(p, "meterStop"), 2000);
	assert_int_equal(rejected(f), 3);
}

/* A counter that jumped and then keeps counting from the new value is followed, without the jump. */
static void test_lifetime_jump_that_persists(void **state)
{
	struct fake *f = *state;

	mk_start(f);
	reading(f, WH(5000));
	fk_advance(f, 60000);
	reading(f, WH(900000));
	fk_advance(f, 60000);
	reading(f, WH(900000));
	assert_int_equal(rejected(f), 1);
	fk_advance(f, 600000);
	reading(f, WH(900001));
	assert_register(f, 0);
	assert_int_equal(n_warn, 1);
	assert_int_equal(n_info, 1);
	fk_advance(f, 3600000);
	reading(f, WH(900004));
	assert_register(f, 2000);
	assert_int_equal(rejected(f), 1);
}

/* After a restart the time of the last reading is unknown: the counter may add its rounding to the
 * saved register, and an absurd first reading changes nothing. */
static void test_lifetime_after_restart(void **state)
{
	struct fake *f = *state;

	mk_start(f);
	reading(f, WH(1000));
	fk_advance(f, 3600000);
	reading(f, WH(1005));
	assert_register(f, 4000);
	fk_advance(f, 61000); /* the connectors file is saved */
	assert_non_null(strstr(f->files[1].text, "lifeRefWh"));
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	reading(f, WH(1006));
	assert_register(f, 5000);

	fk_advance(f, 61000);
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	reading(f, WH(ABSURD_KWH));
	assert_register(f, 5000);
	assert_int_equal(rejected(f), 1);
	fk_advance(f, 60000);
	reading(f, WH(1007));
	assert_register(f, 5000);
	fk_advance(f, 3600000);
	reading(f, WH(1009));
	assert_register(f, 6000);
}

/* A register in the connectors file beyond what an OCPP integer holds (one an older version inflated)
 * is held at OCPP_ENERGY_MAX_WH: the StopTransaction at restart carries it, not an overflow. */
static void test_energy_register_bounded(void **state)
{
	struct fake *f = *state;
	json_t *root, *p;
	json_error_t jerr;

	fk_key(f, "MeterValueSampleInterval", "0");
	fk_online(f, 1);
	fk_remote_tx(f, 1, 55);
	ocpp_cp_disconnected(f->cp, f->now);
	f->connected = false;
	fk_advance(f, 61000);
	root = json_loads(f->files[1].text, 0, &jerr);
	assert_non_null(root);
	assert_int_equal(json_object_set_new(json_array_get(json_object_get(root, "connectors"), 0), "energyWh",
					     json_real(1e15)),
			 0);
	free(f->files[1].text);
	f->files[1].text = json_dumps(root, 0);
	json_decref(root);
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) == OCPP_ENERGY_MAX_WH);
	fk_connect_boot(f);
	p = fk_expect_after_status(f, "StopTransaction");
	assert_int_equal(jint(p, "transactionId"), 55);
	assert_int_equal(jint(p, "meterStop"), 2147483647);
}

/* Whatever current and voltage a TWC reports, MeterValues carry finite numbers and the register grows
 * no faster than the TWC's rated power. */
static void test_meter_values_stay_numbers(void **state)
{
	struct fake *f = *state;
	struct ocpp_evse e = ev_make(true, 1e6);
	size_t idx[8], from;
	int n;

	fk_key(f, "MeterValuesSampledData",
	       "Energy.Active.Import.Register,Current.Import,Voltage,Power.Active.Import");
	fk_key(f, "MeterValueSampleInterval", "60");
	fk_online(f, 1);
	fk_remote_tx(f, 1, 9);
	f->autoack = true;
	from = f->n_fr;
	e.volts = INFINITY;
	for (int s = 0; s < 120; s++) {
		fk_advance(f, 1000);
		fk_evse(f, 1, &e);
	}
	/* 32 A x 230 V x 1.1 for two minutes */
	assert_true(ocpp_cp_energy_wh(f->cp, 1) <= 32 * 230 * 1.1 * 120 / 3600 + 1);
	n = calls_of(f, "MeterValues", from, idx, 8);
	assert_true(n >= 1);
	for (int i = 0; i < n && i < 8; i++)
		for (size_t k = 0; k < 4; k++) {
			const char *v = jstr(sampled(payload_of(f, idx[i]), k), "value");
			char *end;
			double d = strtod(v, &end);

			if (*end || !isfinite(d) || d < 0)
				fail_msg("%s: %s", jstr(sampled(payload_of(f, idx[i]), k), "measurand"), v);
		}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_lifetime_absurd_reading_ignored),
		T(test_lifetime_stuck_bad_value),
		T(test_lifetime_counter_reset_reanchors),
		T(test_lifetime_extremes),
		T(test_lifetime_jump_that_persists),
		T(test_lifetime_after_restart),
		T(test_energy_register_bounded),
		T(test_meter_values_stay_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
