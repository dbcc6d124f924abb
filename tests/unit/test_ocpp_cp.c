/*
 * Tests of the OCPP 1.6J charge-point engine (ocpp_cp) against a fake environment: every frame the
 * core sends is recorded and parsed, the journal and the state files are kept in memory so a charge
 * point can be rebuilt from them (a SIGKILL), limits, resets and key changes are logged, and time is
 * driven by hand (ticks exactly when ocpp_cp_next_deadline() says, never a sleep). Covered: boot and
 * registration, heartbeat, remote and local (fixed idTag) transactions, energy integration, sampled
 * and clock-aligned meter values, the offline queue with provisional ids, crash recovery, retries,
 * the queue bound, availability, ConnectionTimeOut, Reset, invalid ids, status mapping, connector
 * mapping and the order of limit changes.
 */
#include "ocpp_cp_internal.h" /* only for the limit-ordering test, which sets up two changes at once */
#include "ocpp_fake.h"

/* ------------------------------------------------------------------ 1, 2: boot */

static void test_boot_status_heartbeat(void **state)
{
	struct fake *f = *state;
	char ts[OCPP_TIME_LEN + 1];
	json_t *p;
	uint64_t t;

	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	assert_int_equal(fk_pending(f), 0); /* nothing before the link is up */
	assert_false(ocpp_cp_registered(f->cp));

	ocpp_cp_connected(f->cp, f->now);
	p = fk_expect(f, "BootNotification");
	assert_string_equal(jstr(p, "chargePointVendor"), "Tesla");
	assert_string_equal(jstr(p, "chargePointModel"), "TWC2 gateway");
	assert_string_equal(jstr(p, "chargePointSerialNumber"), "GW-0001");
	assert_string_equal(jstr(p, "firmwareVersion"), "0.1.0");
	assert_int_equal(fk_pending(f), 0);
	fk_advance(f, 300); /* the central system takes 300 ms to answer */
	fk_ack_boot(f, "Accepted", 50);
	assert_true(ocpp_cp_registered(f->cp));
	{
		const struct ocpp_cp_stats *st = ocpp_cp_stats(f->cp);

		/* One answer of 300 ms: in every bucket from 500 ms up, not in those below. */
		assert_int_equal(st->calls_answered, 1);
		assert_int_equal(st->answer_ms_sum, 300);
		assert_int_equal(st->answer_le[2], 0); /* <= 250 ms */
		assert_int_equal(st->answer_le[3], 1); /* <= 500 ms */
		assert_int_equal(st->answer_le[OCPP_LATENCY_BUCKETS - 1], 1);
	}
	assert_string_equal(ocpp_config_str(ocpp_cp_config(f->cp), OCPP_KEY_HEARTBEAT_INTERVAL), "50");

	p = fk_expect(f, "StatusNotification");
	assert_int_equal(jint(p, "connectorId"), 0);
	assert_string_equal(jstr(p, "status"), "Available");
	assert_string_equal(jstr(p, "errorCode"), "NoError");
	fmt_time(f->now.wall_ms, ts);
	assert_string_equal(jstr(p, "timestamp"), ts);
	fk_ack(f, "{}");
	fk_no_call(f); /* connector 1 has not answered on the bus yet: not reported during the grace */

	fk_advance(f, 2000);
	fk_ev(f, 1, false, 0);
	p = fk_expect(f, "StatusNotification");
	assert_int_equal(jint(p, "connectorId"), 1);
	assert_string_equal(jstr(p, "status"), "Available");
	assert_string_equal(jstr(p, "errorCode"), "NoError");
	fk_ack(f, "{}");
	t = f->now.mono_ms;
	/* heartbeat (t + 50 s) comes before the periodic store (T0 + 60 s) */
	assert_int_equal(ocpp_cp_next_deadline(f->cp), t + 50000);

	fk_advance(f, 49999);
	fk_no_call(f);
	fk_advance(f, 1);
	p = fk_expect(f, "Heartbeat");
	assert_int_equal(json_object_size(p), 0);
	assert_int_equal(f->now.mono_ms, t + 50000);
	fk_ack_time(f);
	assert_int_equal(ocpp_cp_next_deadline(f->cp), T0_MONO + 60000); /* the periodic store */
	fk_advance(f, T0_MONO + 60000 - f->now.mono_ms);
	assert_true(f->files[1].writes > 0);
	assert_int_equal(ocpp_cp_next_deadline(f->cp), t + 100000);

	/* Any CALL restarts the heartbeat interval. */
	fk_advance(f, T0_MONO + 70000 - f->now.mono_ms);
	fk_ev(f, 1, true, 0);
	p = fk_expect(f, "StatusNotification");
	assert_string_equal(jstr(p, "status"), "Preparing");
	fk_ack(f, "{}");
	assert_int_equal(ocpp_cp_next_deadline(f->cp), T0_MONO + 120000);
	fk_advance(f, T0_MONO + 119999 - f->now.mono_ms);
	fk_no_call(f);
	fk_advance(f, 1);
	fk_expect(f, "Heartbeat");
	fk_ack_time(f);
	assert_int_equal(f->stuck, 0);
}

static void test_boot_rejected_then_pending(void **state)
{
	struct fake *f = *state;
	json_t *r, *kv;

	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	fk_ev(f, 1, false, 0);
	assert_string_equal(ocpp_cp_registration(f->cp), "none");
	ocpp_cp_connected(f->cp, f->now);
	fk_expect(f, "BootNotification");
	assert_string_equal(ocpp_cp_registration(f->cp), "none"); /* asked, not answered */
	fk_ack_boot(f, "Rejected", 5);
	assert_false(ocpp_cp_registered(f->cp));
	assert_string_equal(ocpp_cp_registration(f->cp), "Rejected");
	fk_no_call(f);
	assert_int_equal(ocpp_cp_next_deadline(f->cp), f->now.mono_ms + 5000);
	fk_advance(f, 4999);
	fk_no_call(f);
	fk_advance(f, 1);
	fk_expect(f, "BootNotification");
	fk_ack_boot(f, "Pending", 10);
	assert_false(ocpp_cp_registered(f->cp));
	assert_string_equal(ocpp_cp_registration(f->cp), "Pending");
	fk_no_call(f);

	/* While Pending the central system's own requests are answered (TC_002). */
	r = fk_cs(f, "GetConfiguration", "{\"key\":[\"HeartbeatInterval\"]}");
	assert_int_equal(json_integer_value(json_array_get(r, 0)), 3);
	kv = json_array_get(json_object_get(json_array_get(r, 2), "configurationKey"), 0);
	assert_string_equal(jstr(kv, "key"), "HeartbeatInterval");
	assert_string_equal(jstr(kv, "value"), "300");
	assert_string_equal(fk_cs_status(f, "ChangeConfiguration", "{\"key\":\"MeterValueSampleInterval\",\"value\":\"30\"}"),
			    "Accepted");
	fk_no_call(f); /* still no StatusNotification */

	fk_advance(f, 9999);
	fk_no_call(f);
	fk_advance(f, 1);
	fk_expect(f, "BootNotification");
	fk_ack_boot(f, "Accepted", 300);
	assert_true(ocpp_cp_registered(f->cp));
	assert_string_equal(ocpp_cp_registration(f->cp), "Accepted");
	fk_settle(f);
	assert_string_equal(f->st[0], "Available");
	assert_string_equal(f->st[1], "Available");
	assert_int_equal(f->stuck, 0);
}

static void test_boot_error_and_timeout_retry(void **state)
{
	struct fake *f = *state;

	f->p.call_timeout_s = 10;
	fk_start(f);
	ocpp_cp_connected(f->cp, f->now);
	fk_expect(f, "BootNotification");
	fk_callerror(f);
	assert_false(ocpp_cp_registered(f->cp));
	fk_advance(f, 59999);
	fk_no_call(f);
	fk_advance(f, 1);
	fk_expect(f, "BootNotification"); /* no interval known: one minute */
	/* unanswered: the call timeout, then the default retry */
	fk_advance(f, 10000);
	assert_int_equal(ocpp_cp_stats(f->cp)->calls_timed_out, 1);
	fk_no_call(f);
	fk_advance(f, 60000);
	fk_expect(f, "BootNotification");
	fk_ack_boot(f, "Accepted", 300);
	assert_true(ocpp_cp_registered(f->cp));
	fk_settle(f);
	assert_string_equal(f->st[0], "Available");
}

/* ------------------------------------------------------------------ 3, 4: transactions */

static void test_remote_start_stop(void **state)
{
	struct fake *f = *state;
	char ts[OCPP_TIME_LEN + 1];
	json_t *p;

	fk_online(f, 1);
	assert_int_equal(lim_now(f, 1), 0);
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"TAG1\"}"),
			    "Accepted");
	p = fk_expect(f, "StatusNotification");
	assert_string_equal(jstr(p, "status"), "Preparing");
	fk_ack(f, "{}");
	assert_int_equal(ocpp_cp_connector_status(f->cp, 1), OCPP_ST_PREPARING);
	assert_int_equal(lim_now(f, 1), 0);

	fk_advance(f, 5000);
	fk_ev(f, 1, true, 0);
	p = fk_expect(f, "StartTransaction");
	assert_int_equal(jint(p, "connectorId"), 1);
	assert_string_equal(jstr(p, "idTag"), "TAG1");
	assert_int_equal(jint(p, "meterStart"), 0);
	fmt_time(f->now.wall_ms, ts);
	assert_string_equal(jstr(p, "timestamp"), ts);
	assert_int_equal(lim_now(f, 1), -1);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), -1); /* provisional until confirmed */
	fk_ack_start(f, 42, "Accepted");
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 42);
	p = fk_expect(f, "StatusNotification");
	assert_string_equal(jstr(p, "status"), "Charging");
	fk_ack(f, "{}");

	fk_charge(f, 1, 10, 16);
	assert_string_equal(fk_cs_status(f, "RemoteStopTransaction", "{\"transactionId\":42}"), "Accepted");
	assert_int_equal(lim_now(f, 1), 0);
	p = fk_expect(f, "StopTransaction");
	assert_int_equal(jint(p, "transactionId"), 42);
	assert_string_equal(jstr(p, "reason"), "Remote");
	assert_string_equal(jstr(p, "idTag"), "TAG1");
	assert_true(jint(p, "meterStop") >= 0);
	fk_ack(f, "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
	p = fk_expect(f, "StatusNotification");
	assert_string_equal(jstr(p, "status"), "Finishing");
	fk_ack(f, "{}");
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 0);
	assert_int_equal(f->n_jr, 0); /* every transaction record acknowledged and gone */

	assert_string_equal(fk_cs_status(f, "RemoteStopTransaction", "{\"transactionId\":42}"), "Rejected");
	assert_string_equal(fk_cs_status(f, "RemoteStopTransaction", "{\"transactionId\":4711}"), "Rejected");
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":0,\"idTag\":\"TAG1\"}"),
			    "Rejected");
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":2,\"idTag\":\"TAG1\"}"),
			    "Rejected");
	/* Finishing: a new remote start waits for the car to leave */
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"TAG1\"}"),
			    "Rejected");
	fk_ev(f, 1, false, 0);
	p = fk_expect(f, "StatusNotification");
	assert_string_equal(jstr(p, "status"), "Available");
	fk_ack(f, "{}");
	fk_no_call(f);
	assert_int_equal(f->jr_del_unknown, 0);
}

static int count_action(const struct fake *f, const char *action, size_t from);

/* After a reconnection without a reboot every connector's status goes out again, connector 0 and
 * each TWC, so the central system never keeps a status from before the outage. */
static void test_reconnect_resends_statuses(void **state)
{
	struct fake *f = *state;
	size_t from;

	fk_online(f, 2);
	ocpp_cp_disconnected(f->cp, f->now);
	f->connected = false;
	fk_advance(f, 5000);
	from = f->n_fr;
	ocpp_cp_connected(f->cp, f->now);
	f->connected = true;
	fk_settle(f);
	assert_int_equal(count_action(f, "StatusNotification", from), 3);
	assert_string_equal(f->st[1], "Available");
	assert_string_equal(f->st[2], "Available");
}

/* idTag source vin: a plugged car waits (Preparing, no Authorize, 0 A) until the TWC has read its
 * VIN; the VIN is then the idTag, checked with Authorize and carried by StartTransaction. */
static void test_vin_idtag(void **state)
{
	struct fake *f = *state;
	struct ocpp_evse e = ev_make(true, 0);
	json_t *p;

	f->p.id_tag_source = OCPP_IDTAG_VIN;
	fk_online(f, 1);
	fk_evse(f, 1, &e);
	fk_settle(f);
	fk_no_call(f);
	assert_string_equal(f->st[1], "Preparing");
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 0);
	assert_int_equal(lim_now(f, 1), 0);
	snprintf(e.vin, sizeof(e.vin), "%s", "5YJ3E1EA7JF000001");
	fk_advance(f, 1000);
	fk_evse(f, 1, &e);
	p = fk_expect_after_status(f, "Authorize");
	assert_string_equal(jstr(p, "idTag"), "5YJ3E1EA7JF000001");
	fk_ack_auth(f, "Accepted");
	p = fk_expect_after_status(f, "StartTransaction");
	assert_string_equal(jstr(p, "idTag"), "5YJ3E1EA7JF000001");
	fk_ack_start(f, 9, "Accepted");
	fk_settle(f);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 9);
	assert_int_equal(lim_now(f, 1), -1);
}

/* An empty idTag is schema-valid; a transaction started with one must survive a SIGKILL like any
 * other (its journal record is read back, and the transaction is stopped with PowerLoss). */
static void test_empty_idtag_survives_restart(void **state)
{
	struct fake *f = *state;
	json_t *p;

	fk_online(f, 1);
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"\"}"),
			    "Accepted");
	fk_settle(f);
	fk_ev(f, 1, true, 0);
	p = fk_expect_after_status(f, "StartTransaction");
	assert_string_equal(jstr(p, "idTag"), "");
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	fk_connect_boot(f);
	p = fk_expect_after_status(f, "StartTransaction");
	fk_ack_start(f, 5, "Accepted");
	p = fk_expect_after_status(f, "StopTransaction");
	assert_int_equal(jint(p, "transactionId"), 5);
	assert_string_equal(jstr(p, "reason"), "PowerLoss");
}

static void test_fixed_idtag(void **state)
{
	struct fake *f = *state;
	json_t *p;

	f->p.id_tag_source = OCPP_IDTAG_FIXED;
	f->p.fixed_id_tag = "FLEET01";
	fk_online(f, 1);

	fk_ev(f, 1, true, 0);
	fk_settle(f); /* Preparing goes out first */
	assert_string_equal(f->st[1], "Preparing");
	p = fk_expect(f, "Authorize");
	assert_string_equal(jstr(p, "idTag"), "FLEET01");
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 0);
	fk_ack_auth(f, "Accepted");
	p = fk_expect_after_status(f, "StartTransaction");
	assert_string_equal(jstr(p, "idTag"), "FLEET01");
	assert_int_equal(jint(p, "connectorId"), 1);
	fk_ack_start(f, 7, "Accepted");
	fk_settle(f);
	assert_string_equal(f->st[1], "Charging");
	assert_int_equal(lim_now(f, 1), -1);

	fk_advance(f, 3000);
	fk_ev(f, 1, false, 0); /* unplugged at the car */
	p = fk_expect(f, "StopTransaction");
	assert_int_equal(jint(p, "transactionId"), 7);
	assert_string_equal(jstr(p, "reason"), "EVDisconnected");
	assert_int_equal(lim_now(f, 1), 0);
	fk_ack(f, "{}");
	fk_settle(f);
	assert_string_equal(f->st[1], "Available");

	/* Authorize answered Invalid: no transaction, the connector stays Preparing (TC_023). */
	fk_ev(f, 1, true, 0);
	fk_settle(f); /* Preparing goes out first */
	fk_expect(f, "Authorize");
	fk_ack_auth(f, "Invalid");
	fk_settle(f);
	assert_string_equal(f->st[1], "Preparing");
	fk_advance(f, 120000);
	fk_settle(f);
	fk_no_call(f);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 0);
	assert_int_equal(lim_now(f, 1), 0);
	/* the next car (unplug, plug) asks again */
	fk_ev(f, 1, false, 0);
	fk_settle(f);
	fk_ev(f, 1, true, 0);
	fk_expect_after_status(f, "Authorize");
	fk_ack_auth(f, "Accepted");
	fk_expect_after_status(f, "StartTransaction");
	fk_ack_start(f, 8, "Accepted");
	fk_settle(f);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 8);
}

/* ------------------------------------------------------------------ 5: energy */

static void test_energy_integration(void **state)
{
	struct fake *f = *state;
	int secs = 3600;

	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	fk_ev(f, 1, true, 16);
	fk_charge(f, 1, secs, 16);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) > 3680.0 - 1.0);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) < 3680.0 + 1.0);
	/* no voltage reported: the nominal one is used */
	{
		struct ocpp_evse e = ev_make(true, 16);

		e.volts = 0;
		fk_evse(f, 1, &e);
		for (int s = 0; s < 900; s++) {
			fk_advance(f, 1000);
			fk_evse(f, 1, &e);
		}
	}
	assert_true(ocpp_cp_energy_wh(f->cp, 1) > 3680.0 * 1.25 - 1.0);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) < 3680.0 * 1.25 + 1.0);
	/* the register is persisted */
	assert_non_null(f->files[1].text);
	assert_non_null(strstr(f->files[1].text, "energyWh"));
}

static void test_energy_three_phase(void **state)
{
	struct fake *f = *state;

	f->p.phases = 3;
	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	fk_ev(f, 1, true, 16);
	fk_charge(f, 1, 600, 16);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) > 1840.0 - 1.0);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) < 1840.0 + 1.0);
}

static void test_energy_lifetime_reconciliation(void **state)
{
	struct fake *f = *state;
	struct ocpp_evse e = ev_make(false, 0);
	double before;

	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	e.has_lifetime = true;
	e.lifetime_wh = 10000;
	fk_evse(f, 1, &e);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) < 0.001);
	/* integration ahead of, or within 1 kWh of, the lifetime counter: nothing changes */
	fk_advance(f, 1000);
	e.lifetime_wh = 10900;
	fk_evse(f, 1, &e);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) < 0.001);
	/* lagging by more than 1 kWh: raised to counter - 1 kWh */
	fk_advance(f, 1000);
	e.lifetime_wh = 12500;
	fk_evse(f, 1, &e);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) > 1500.0 - 0.001);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) < 1500.0 + 0.001);
	fk_advance(f, 1000);
	e.lifetime_wh = 12800;
	fk_evse(f, 1, &e);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) > 1800.0 - 0.001);
	/* a counter that goes back (replaced TWC) never lowers the register */
	before = ocpp_cp_energy_wh(f->cp, 1);
	fk_advance(f, 1000);
	e.lifetime_wh = 3000;
	fk_evse(f, 1, &e);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) >= before);
	fk_advance(f, 1000);
	e.lifetime_wh = 3500;
	fk_evse(f, 1, &e);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) >= before);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) < before + 0.001);
	/* integrated energy ahead of the counter stays */
	fk_ev(f, 1, true, 16);
	fk_charge(f, 1, 600, 16);
	assert_true(ocpp_cp_energy_wh(f->cp, 1) > before + 613.0);
}

/* A transaction open at a crash is stopped at restart with meterStop >= meterStart, even when the
 * saved register is older than the transaction (a connectors file restored from a backup). */
static void test_meter_stop_never_below_start(void **state)
{
	struct fake *f = *state;
	char *old_connectors;
	json_t *p;
	json_int_t start;

	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	fk_ev(f, 1, false, 0);
	old_connectors = strdup(f->files[1].text);
	fk_ev(f, 1, true, 16);
	fk_charge(f, 1, 600, 16); /* 613 Wh before the transaction */
	fk_connect_boot(f);
	fk_settle(f);
	fk_remote_tx(f, 1, 55);
	ocpp_cp_disconnected(f->cp, f->now);
	fk_charge(f, 1, 30, 16);
	free(f->files[1].text);
	f->files[1].text = old_connectors;
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	fk_connect_boot(f);
	p = fk_expect_after_status(f, "StopTransaction");
	assert_int_equal(jint(p, "transactionId"), 55);
	assert_string_equal(jstr(p, "reason"), "PowerLoss");
	start = 613;
	assert_true(jint(p, "meterStop") >= start);
}

/* ------------------------------------------------------------------ 6: meter values */

static void test_sampled_and_aligned_meter_values(void **state)
{
	struct fake *f = *state;
	size_t idx[64];
	int n;
	int64_t t_start;
	size_t from;

	fk_key(f, "MeterValuesSampledData", "Energy.Active.Import.Register,Current.Import,Voltage");
	fk_key(f, "ClockAlignedDataInterval", "900");
	fk_online(f, 1);
	from = f->n_fr;
	fk_remote_tx(f, 1, 42);
	t_start = f->now.wall_ms;
	f->autoack = true;
	fk_charge(f, 1, quick() ? 1000 : 31 * 60, 16);

	n = calls_of(f, "MeterValues", from, idx, 64);
	assert_true(n > 10);
	{
		int periodic = 0, clock = 0;
		int64_t last_energy = -1;

		for (int i = 0; i < n && i < 64; i++) {
			json_t *p = payload_of(f, idx[i]);
			const json_t *sv0 = sampled(p, 0);
			int64_t ts = parse_ts(mv_time(p));

			assert_int_equal(jint(p, "connectorId"), 1);
			assert_int_equal(jint(p, "transactionId"), 42);
			if (!strcmp(jstr(sv0, "context"), "Sample.Periodic")) {
				periodic++;
				assert_int_equal(ts, t_start + periodic * 60000LL);
				assert_int_equal(json_array_size(json_object_get(json_array_get(
							 json_object_get(p, "meterValue"), 0), "sampledValue")), 3);
				assert_string_equal(jstr(sampled(p, 0), "measurand"), "Energy.Active.Import.Register");
				assert_string_equal(jstr(sampled(p, 0), "unit"), "Wh");
				assert_string_equal(jstr(sampled(p, 1), "measurand"), "Current.Import");
				assert_string_equal(jstr(sampled(p, 1), "unit"), "A");
				assert_string_equal(jstr(sampled(p, 1), "value"), "16.0");
				assert_string_equal(jstr(sampled(p, 2), "measurand"), "Voltage");
				assert_string_equal(jstr(sampled(p, 2), "value"), "230.0");
				assert_string_equal(jstr(sampled(p, 0), "format"), "Raw");
				/* energy: 16 A * 230 V = 61.33 Wh a minute */
				assert_true(atoll(jstr(sampled(p, 0), "value")) >= last_energy);
				assert_true(llabs(atoll(jstr(sampled(p, 0), "value")) - (long long)(61.333 * periodic)) <= 2);
				last_energy = atoll(jstr(sampled(p, 0), "value"));
			} else {
				assert_string_equal(jstr(sv0, "context"), "Sample.Clock");
				clock++;
				assert_int_equal(ts % 900000, 0);
				assert_int_equal(json_array_size(json_object_get(json_array_get(
							 json_object_get(p, "meterValue"), 0), "sampledValue")), 1);
				assert_string_equal(jstr(sv0, "measurand"), "Energy.Active.Import.Register");
			}
		}
		assert_int_equal(periodic, quick() ? 16 : 31);
		assert_int_equal(clock, quick() ? 1 : 2);
	}
	/* outside a transaction a clock-aligned reading has no transactionId */
	assert_string_equal(fk_cs_status(f, "RemoteStopTransaction", "{\"transactionId\":42}"), "Accepted");
	from = f->n_fr;
	fk_advance(f, 900000);
	n = calls_of(f, "MeterValues", from, idx, 64);
	assert_int_equal(n, 1);
	assert_null(json_object_get(payload_of(f, idx[0]), "transactionId"));
	assert_string_equal(jstr(sampled(payload_of(f, idx[0]), 0), "context"), "Sample.Clock");
	assert_int_equal(parse_ts(mv_time(payload_of(f, idx[0]))) % 900000, 0);
	assert_int_equal(f->stuck, 0);
}

/* A clock-aligned reading carries its boundary as timestamp even when the tick runs late (TC_071
 * expects wall-clock multiples of ClockAlignedDataInterval). */
static void test_aligned_reading_stamped_with_boundary(void **state)
{
	struct fake *f = *state;
	const int64_t step = 900000;
	int64_t boundary = (T0_WALL / step + 1) * step;
	size_t idx[4], from;

	fk_key(f, "ClockAlignedDataInterval", "900");
	fk_online(f, 1);
	f->autoack = true;
	fk_advance(f, (uint64_t)(boundary - f->now.wall_ms) - 1);
	assert_int_equal(ocpp_cp_next_deadline(f->cp), f->now.mono_ms + 1);
	from = f->n_fr;
	fk_set_time(f, f->now.mono_ms + 1 + 1500); /* the event loop was 1.5 s late */
	ocpp_cp_tick(f->cp, f->now);
	fk_auto(f);
	assert_int_equal(calls_of(f, "MeterValues", from, idx, 4), 1);
	assert_string_equal(jstr(sampled(payload_of(f, idx[0]), 0), "context"), "Sample.Clock");
	assert_int_equal(parse_ts(mv_time(payload_of(f, idx[0]))), boundary);
}

/* Changing ClockAlignedDataInterval re-arms the timer on the new grid: no reading at once, off the
 * boundary, and none at all once it is set to 0. */
static void test_aligned_interval_change_keeps_grid(void **state)
{
	struct fake *f = *state;
	size_t idx[8], from;
	int n;

	fk_online(f, 1);
	f->autoack = true;
	fk_advance(f, 123456);
	from = f->n_fr;
	assert_string_equal(fk_cs_status(f, "ChangeConfiguration", "{\"key\":\"ClockAlignedDataInterval\",\"value\":\"900\"}"),
			    "Accepted");
	fk_advance(f, 1000000);
	n = calls_of(f, "MeterValues", from, idx, 8);
	assert_true(n >= 1);
	for (int i = 0; i < n && i < 8; i++)
		assert_int_equal(parse_ts(mv_time(payload_of(f, idx[i]))) % 900000, 0);
	/* switching it off sends nothing more */
	assert_string_equal(fk_cs_status(f, "ChangeConfiguration", "{\"key\":\"ClockAlignedDataInterval\",\"value\":\"0\"}"),
			    "Accepted");
	from = f->n_fr;
	fk_advance(f, 2000000);
	assert_int_equal(calls_of(f, "MeterValues", from, idx, 8), 0);
}

/* ------------------------------------------------------------------ 7: offline */

static void test_offline_transaction(void **state)
{
	struct fake *f = *state;
	json_t *p;
	int64_t t_plug, t_stop;
	json_int_t meter_start;

	fk_key(f, "AllowOfflineTxForUnknownId", "true");
	fk_key(f, "MeterValueSampleInterval", "30");
	f->p.id_tag_source = OCPP_IDTAG_FIXED;
	f->p.fixed_id_tag = "FLEET01";
	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	fk_ev(f, 1, false, 0);
	fk_charge(f, 1, 0, 0);
	fk_advance(f, 5000);
	fk_ev(f, 1, true, 0);
	t_plug = f->now.wall_ms;
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), -1);
	assert_int_equal(lim_now(f, 1), -1);
	fk_charge(f, 1, 100, 16);
	fk_ev(f, 1, false, 0);
	t_stop = f->now.wall_ms;
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 0);
	assert_int_equal(lim_now(f, 1), 0);
	assert_int_equal(fk_pending(f), 0);
	/* queued and journalled with the provisional id */
	assert_int_equal(ocpp_cp_stats(f->cp)->queued, 5);
	assert_int_equal(f->n_jr, 5);
	assert_int_equal(journal_count(f, "\"transactionId\":-1"), 4);

	fk_advance(f, 60000);
	fk_connect_boot(f);
	p = fk_expect(f, "StartTransaction");
	assert_int_equal(fk_pending(f), 0); /* one at a time */
	assert_string_equal(jstr(p, "idTag"), "FLEET01");
	assert_int_equal(parse_ts(jstr(p, "timestamp")), t_plug);
	meter_start = jint(p, "meterStart");
	fk_ack_start(f, 77, "Accepted");
	for (int i = 1; i <= 3; i++) {
		p = fk_expect(f, "MeterValues");
		assert_int_equal(fk_pending(f), 0);
		assert_int_equal(jint(p, "transactionId"), 77);
		assert_int_equal(parse_ts(mv_time(p)), t_plug + i * 30000LL);
		assert_string_equal(jstr(sampled(p, 0), "context"), "Sample.Periodic");
		fk_ack(f, "{}");
	}
	p = fk_expect(f, "StopTransaction");
	assert_int_equal(fk_pending(f), 0);
	assert_int_equal(jint(p, "transactionId"), 77);
	assert_string_equal(jstr(p, "reason"), "EVDisconnected");
	assert_int_equal(parse_ts(jstr(p, "timestamp")), t_stop);
	assert_true(jint(p, "meterStop") >= meter_start);
	assert_true(jint(p, "meterStop") >= 100 * 16 * 230 / 3600 - 1);
	fk_ack(f, "{}");
	fk_settle(f);
	fk_no_call(f);
	assert_string_equal(f->st[1], "Available");
	assert_int_equal(f->n_jr, 0);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued, 0);
	assert_int_equal(f->jr_del_unknown, 0);
}

/* ------------------------------------------------------------------ 8: crash and restore */

static int count_action(const struct fake *f, const char *action, size_t from)
{
	size_t idx[1];

	return calls_of(f, action, from, idx, 0);
}

static void test_crash_offline_mid_transaction(void **state)
{
	struct fake *f = *state;
	json_t *p;
	size_t from;
	int64_t t_plug;

	fk_key(f, "AllowOfflineTxForUnknownId", "true");
	fk_key(f, "MeterValueSampleInterval", "30");
	f->p.id_tag_source = OCPP_IDTAG_FIXED;
	f->p.fixed_id_tag = "FLEET01";
	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	fk_ev(f, 1, true, 0);
	t_plug = f->now.wall_ms;
	fk_charge(f, 1, 70, 16); /* two samples */
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), -1);

	/* SIGKILL */
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 0); /* stopped at start (PowerLoss) */
	assert_int_equal(lim_now(f, 1), 0);
	fk_ev(f, 1, false, 0);
	from = f->n_fr;
	fk_connect_boot(f);
	p = fk_expect(f, "StartTransaction");
	assert_int_equal(parse_ts(jstr(p, "timestamp")), t_plug);
	fk_ack_start(f, 501, "Accepted");
	for (int i = 1; i <= 2; i++) {
		p = fk_expect(f, "MeterValues");
		assert_int_equal(jint(p, "transactionId"), 501);
		assert_int_equal(parse_ts(mv_time(p)), t_plug + i * 30000LL);
		fk_ack(f, "{}");
	}
	p = fk_expect(f, "StopTransaction");
	assert_int_equal(jint(p, "transactionId"), 501);
	assert_string_equal(jstr(p, "reason"), "PowerLoss");
	assert_string_equal(jstr(p, "idTag"), "FLEET01");
	fk_ack(f, "{}");
	fk_settle(f);
	f->autoack = true;
	fk_advance(f, 600000);
	assert_int_equal(count_action(f, "StartTransaction", from), 1);
	assert_int_equal(count_action(f, "MeterValues", from), 2);
	assert_int_equal(count_action(f, "StopTransaction", from), 1);
	assert_int_equal(f->n_jr, 0);
	assert_int_equal(f->jr_del_unknown, 0);

	/* a second crash after all that sends nothing again */
	from = f->n_fr;
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	fk_ev(f, 1, false, 0);
	fk_connect_boot(f);
	fk_settle(f);
	fk_no_call(f);
	assert_int_equal(count_action(f, "StopTransaction", from), 0);
}

static void test_crash_after_start_confirmed(void **state)
{
	struct fake *f = *state;
	json_t *p;
	size_t from;

	fk_key(f, "MeterValueSampleInterval", "30");
	fk_online(f, 1);
	fk_remote_tx(f, 1, 42);
	ocpp_cp_disconnected(f->cp, f->now);
	fk_charge(f, 1, 65, 16);
	assert_int_equal(journal_count(f, "\"transactionId\":42"), 2);

	from = f->n_fr;
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	fk_ev(f, 1, true, 0);
	fk_connect_boot(f);
	for (int i = 1; i <= 2; i++) {
		p = fk_expect_after_status(f, "MeterValues");
		assert_int_equal(jint(p, "transactionId"), 42);
		fk_ack(f, "{}");
	}
	p = fk_expect_after_status(f, "StopTransaction");
	assert_int_equal(jint(p, "transactionId"), 42);
	assert_string_equal(jstr(p, "reason"), "PowerLoss");
	fk_ack(f, "{}");
	fk_settle(f);
	fk_no_call(f);
	assert_int_equal(count_action(f, "StartTransaction", from), 0);
	assert_int_equal(f->n_jr, 0);
	/* the car still plugged after the restart: Finishing, not a new transaction */
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 0);
}

/* The crash comes between the journalled id mapping and the deletion of the StartTransaction record. */
static void test_crash_between_map_and_delete(void **state)
{
	struct fake *f = *state;
	json_t *p;
	size_t from;

	fk_key(f, "AllowOfflineTxForUnknownId", "true");
	fk_key(f, "MeterValueSampleInterval", "30");
	f->p.id_tag_source = OCPP_IDTAG_FIXED;
	f->p.fixed_id_tag = "FLEET01";
	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	fk_ev(f, 1, true, 0);
	fk_charge(f, 1, 35, 16);
	f->snap_on_map = true;
	fk_connect_boot(f);
	fk_expect(f, "StartTransaction");
	fk_ack_start(f, 900, "Accepted");
	assert_non_null(f->snap);
	from = f->n_fr;
	{
		struct jrec *snap = f->snap;
		size_t n = f->n_snap;

		f->snap = NULL;
		f->n_snap = 0;
		f->snap_on_map = false;
		assert_int_equal(fk_restart(f, snap, n), 0);
		jr_free(snap, n);
	}
	fk_ev(f, 1, false, 0); /* (a car still plugged would start a new fixed-tag transaction) */
	fk_connect_boot(f);
	p = fk_expect_after_status(f, "MeterValues");
	assert_int_equal(jint(p, "transactionId"), 900);
	fk_ack(f, "{}");
	p = fk_expect_after_status(f, "StopTransaction");
	assert_int_equal(jint(p, "transactionId"), 900);
	assert_string_equal(jstr(p, "reason"), "PowerLoss");
	fk_ack(f, "{}");
	fk_settle(f);
	assert_int_equal(count_action(f, "StartTransaction", from), 0);
	assert_int_equal(f->n_jr, 0);
}

static void test_restore_torn_record(void **state)
{
	struct fake *f = *state;
	static const char *const bad[] = {
		"{\"k\":\"msg\",\"a\":\"StartTrans",              /* torn */
		"\x01\x02garbage",                                  /* garbage */
		"[]",                                               /* not an object */
		"{\"k\":\"nope\"}",                                 /* unknown kind */
		"{\"k\":\"msg\",\"a\":\"Heartbeat\",\"p\":{}}",     /* not a transaction message */
		"{\"k\":\"msg\",\"a\":\"StopTransaction\",\"p\":3}", /* payload not an object */
		"{\"k\":\"tx\",\"c\":99,\"l\":1,\"tag\":\"X\"}",    /* connector out of range */
	};

	fk_new(f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		env_jput(f, 10 + i, bad[i]);
		assert_int_equal(ocpp_cp_restore_record(f->cp, 10 + i, bad[i]), -EINVAL);
		assert_int_equal(f->last_del, 10 + i);
	}
	assert_int_equal(f->n_jr, 0);
	assert_int_equal(f->jr_del_unknown, 0);
	ocpp_cp_start(f->cp, 0, f->now);
	fk_connect_boot(f);
	fk_settle(f);
	fk_no_call(f);
	/* new records are numbered above the ones seen */
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	fk_ev(f, 1, false, 0);
	fk_settle(f);
	fk_remote_tx(f, 1, 5);
	assert_true(f->n_jr > 0);
	assert_true(f->jr[0].seq > 10 + sizeof(bad) / sizeof(bad[0]) - 1);
}

/* A tx record without a usable local id or idTag is refused (-EINVAL, deleted) and leaves no
 * transaction behind: nothing is "stopped" with a StopTransaction for id 0 after the restart. */
static void test_restore_bad_tx_record_leaves_nothing(void **state)
{
	struct fake *f = *state;
	const char *rec = "{\"k\":\"tx\",\"c\":1,\"l\":0,\"id\":0,\"tag\":\"\",\"start\":0,\"ms\":0}";
	size_t from;

	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	env_jput(f, 3, rec);
	assert_int_equal(fk_restart(f, NULL, 0), 1);
	assert_int_equal(f->n_jr, 0);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 0);
	fk_ev(f, 1, false, 0);
	from = f->n_fr;
	fk_connect_boot(f);
	fk_settle(f);
	fk_no_call(f);
	assert_int_equal(count_action(f, "StopTransaction", from), 0);
}

/* An open transaction whose connector is not in the connectors file (file lost) is still stopped, so
 * the central system never keeps a transaction that cannot end. */
static void test_restore_without_connectors_file(void **state)
{
	struct fake *f = *state;
	size_t from;

	fk_key(f, "AllowOfflineTxForUnknownId", "true");
	f->p.id_tag_source = OCPP_IDTAG_FIXED;
	f->p.fixed_id_tag = "FLEET01";
	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	fk_ev(f, 1, true, 0);
	fk_charge(f, 1, 10, 16);
	free(f->files[1].text);
	f->files[1].text = NULL;
	from = f->n_fr;
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	f->autoack = true;
	fk_connect_boot(f);
	fk_advance(f, 60000);
	assert_int_equal(count_action(f, "StopTransaction", from), count_action(f, "StartTransaction", from));
}

/* ------------------------------------------------------------------ 9: retries */

static void test_meter_values_retry_and_drop(void **state)
{
	struct fake *f = *state;
	json_t *p;
	uint64_t t;

	fk_key(f, "TransactionMessageAttempts", "3");
	fk_key(f, "TransactionMessageRetryInterval", "10");
	fk_key(f, "MeterValueSampleInterval", "60");
	fk_online(f, 1);
	fk_remote_tx(f, 1, 42);
	fk_charge(f, 1, 60, 16);
	p = fk_expect(f, "MeterValues");
	t = f->now.mono_ms;
	fk_callerror(f);
	assert_int_equal(journal_count(f, "MeterValues"), 1);
	fk_advance(f, 9999);
	fk_no_call(f);
	fk_advance(f, 1);
	fk_expect(f, "MeterValues");
	assert_int_equal(f->now.mono_ms, t + 10000);
	fk_callerror(f);
	fk_advance(f, 19999);
	fk_no_call(f);
	fk_advance(f, 1);
	p = fk_expect(f, "MeterValues");
	assert_int_equal(f->now.mono_ms, t + 30000);
	fk_callerror(f); /* third failure: given up */
	assert_int_equal(journal_count(f, "MeterValues"), 0);
	fk_advance(f, 29000);
	fk_no_call(f);
	fk_advance(f, 1000); /* the next sample is new */
	p = fk_expect(f, "MeterValues");
	assert_int_equal(jint(p, "transactionId"), 42);
	fk_ack(f, "{}");
	assert_int_equal(f->stuck, 0);
}

static void test_start_stop_survive_disconnects(void **state)
{
	struct fake *f = *state;
	json_t *p;

	fk_key(f, "TransactionMessageAttempts", "3");
	fk_key(f, "TransactionMessageRetryInterval", "10");
	fk_online(f, 1);
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"T\"}"), "Accepted");
	fk_settle(f);
	fk_ev(f, 1, true, 0);
	fk_expect(f, "StartTransaction");
	for (int i = 0; i < 5; i++) {
		ocpp_cp_disconnected(f->cp, f->now);
		fk_advance(f, 5000);
		ocpp_cp_connected(f->cp, f->now);
		fk_expect(f, "StartTransaction"); /* resumed first, no new BootNotification */
	}
	/* two real failures are still within TransactionMessageAttempts = 3 */
	fk_callerror(f);
	fk_settle(f); /* the statuses of the reconnect go out meanwhile */
	fk_advance(f, 9999);
	fk_no_call(f);
	fk_advance(f, 1);
	fk_expect(f, "StartTransaction");
	fk_callerror(f);
	fk_advance(f, 20000);
	fk_expect(f, "StartTransaction");
	fk_ack_start(f, 61, "Accepted");
	fk_settle(f);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 61);

	assert_string_equal(fk_cs_status(f, "RemoteStopTransaction", "{\"transactionId\":61}"), "Accepted");
	fk_expect(f, "StopTransaction");
	for (int i = 0; i < 5; i++) {
		ocpp_cp_disconnected(f->cp, f->now);
		fk_advance(f, 5000);
		ocpp_cp_connected(f->cp, f->now);
		p = fk_expect(f, "StopTransaction");
		assert_int_equal(jint(p, "transactionId"), 61);
	}
	fk_ack(f, "{}");
	fk_settle(f);
	assert_int_equal(f->n_jr, 0);
}

static void test_call_timeout_counts_as_failure(void **state)
{
	struct fake *f = *state;
	char late[128], first_id[64];
	json_t *p;

	f->p.call_timeout_s = 10;
	fk_key(f, "TransactionMessageRetryInterval", "20");
	fk_online(f, 1);
	fk_remote_tx(f, 1, 42);
	fk_charge(f, 1, 60, 16);
	p = fk_expect(f, "MeterValues");
	snprintf(first_id, sizeof(first_id), "%s", f->cur_id);
	fk_advance(f, 9999);
	assert_int_equal(ocpp_cp_stats(f->cp)->calls_timed_out, 0);
	fk_advance(f, 1);
	assert_int_equal(ocpp_cp_stats(f->cp)->calls_timed_out, 1);
	fk_no_call(f);
	fk_advance(f, 20000); /* RetryInterval x 1 */
	p = fk_expect(f, "MeterValues");
	assert_int_equal(jint(p, "transactionId"), 42);
	assert_string_not_equal(f->cur_id, first_id);
	/* the late answer to the first attempt does not count for the second one */
	snprintf(late, sizeof(late), "[3,\"%s\",{}]", first_id);
	fk_input(f, late);
	assert_int_equal(journal_count(f, "MeterValues"), 1);
	fk_ack(f, "{}");
	assert_int_equal(journal_count(f, "MeterValues"), 0);
}

/* A StopTransaction that is given up after TransactionMessageAttempts leaves nothing in the journal,
 * not even the transaction's id "map" record. */
static void test_stop_given_up_leaves_no_journal(void **state)
{
	struct fake *f = *state;

	fk_key(f, "TransactionMessageAttempts", "2");
	fk_key(f, "TransactionMessageRetryInterval", "1");
	fk_key(f, "MeterValueSampleInterval", "0");
	fk_online(f, 1);
	fk_remote_tx(f, 1, 42);
	assert_int_equal(journal_count(f, "\"k\":\"map\""), 1);
	assert_string_equal(fk_cs_status(f, "RemoteStopTransaction", "{\"transactionId\":42}"), "Accepted");
	fk_expect(f, "StopTransaction");
	fk_callerror(f);
	fk_settle(f);
	fk_advance(f, 1000);
	fk_expect_after_status(f, "StopTransaction");
	fk_callerror(f); /* second failure of 2: given up */
	fk_settle(f);
	fk_advance(f, 60000);
	fk_settle(f);
	fk_no_call(f);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued, 0);
	assert_int_equal(f->n_jr, 0);
}

/* A StopTransaction queued behind a MeterValues that waits for its retry does not overtake it
 * (a MeterValues after the StopTransaction is a hard error in SteVe). */
static void test_retry_keeps_transaction_order(void **state)
{
	struct fake *f = *state;
	size_t from;
	size_t idx[8];
	int nm, ns;

	fk_key(f, "TransactionMessageRetryInterval", "30");
	fk_key(f, "MeterValueSampleInterval", "60");
	fk_online(f, 1);
	fk_remote_tx(f, 1, 42);
	fk_charge(f, 1, 60, 16);
	fk_expect(f, "MeterValues");
	fk_callerror(f);
	from = f->n_fr;
	assert_string_equal(fk_cs_status(f, "RemoteStopTransaction", "{\"transactionId\":42}"), "Accepted");
	f->autoack = true;
	fk_auto(f);
	fk_advance(f, 60000);
	nm = calls_of(f, "MeterValues", from, idx, 8);
	ns = calls_of(f, "StopTransaction", from, idx + 4, 4);
	assert_int_equal(nm, 1);
	assert_int_equal(ns, 1);
	assert_true(idx[0] < idx[4]);
}

/* While a queued message waits for its retry, the heartbeat time must not keep the deadline in the
 * past (the event loop would spin until the retry). */
static void test_no_busy_loop_heartbeat_during_retry(void **state)
{
	struct fake *f = *state;

	f->boot_interval = 20;
	fk_key(f, "TransactionMessageRetryInterval", "120");
	fk_key(f, "MeterValueSampleInterval", "60");
	fk_online(f, 1);
	fk_remote_tx(f, 1, 42);
	f->autoack = true;
	fk_charge(f, 1, 59, 16);
	f->autoack = false;
	fk_charge(f, 1, 1, 16);
	fk_expect(f, "MeterValues");
	fk_callerror(f);
	fk_settle(f);
	f->stuck = 0;
	fk_advance(f, 60000);
	assert_int_equal(f->stuck, 0);
	assert_true(ocpp_cp_next_deadline(f->cp) > f->now.mono_ms);
}

/* ------------------------------------------------------------------ 10: queue bound */

static void test_queue_bound(void **state)
{
	struct fake *f = *state;
	const struct ocpp_cp_stats *s;
	json_t *p;
	int64_t last = 0;
	int mv = 0;

	f->p.queue_max = 10;
	fk_key(f, "AllowOfflineTxForUnknownId", "true");
	fk_key(f, "MeterValueSampleInterval", "10");
	f->p.id_tag_source = OCPP_IDTAG_FIXED;
	f->p.fixed_id_tag = "FLEET01";
	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	fk_ev(f, 1, true, 0);
	fk_charge(f, 1, 600, 16); /* 60 samples */
	fk_ev(f, 1, false, 0);
	s = ocpp_cp_stats(f->cp);
	assert_true(s->queue_dropped > 0);
	assert_true(s->queued <= 11);
	assert_int_equal(s->queued, f->n_jr);
	assert_int_equal(s->queued + s->queue_dropped, 62);
	assert_non_null(strstr(f->jr[0].text, "StartTransaction"));
	assert_non_null(strstr(f->jr[f->n_jr - 1].text, "StopTransaction"));

	fk_connect_boot(f);
	p = fk_expect(f, "StartTransaction");
	fk_ack_start(f, 3, "Accepted");
	for (;;) {
		struct frm *fr = fk_next(f);

		assert_non_null(fr);
		if (strcmp(frame_action(fr), "MeterValues") != 0)
			break;
		p = fk_expect(f, "MeterValues");
		assert_int_equal(jint(p, "transactionId"), 3);
		assert_true(parse_ts(mv_time(p)) > last);
		last = parse_ts(mv_time(p));
		mv++;
		fk_ack(f, "{}");
	}
	p = fk_expect(f, "StopTransaction");
	assert_int_equal(jint(p, "transactionId"), 3);
	fk_ack(f, "{}");
	assert_int_equal(mv + 2, (int)(62 - s->queue_dropped));
	assert_int_equal(f->n_jr, 0);
}

/* ------------------------------------------------------------------ 11: availability */

static void test_change_availability(void **state)
{
	struct fake *f = *state;
	json_t *p;

	fk_online(f, 2);
	assert_string_equal(fk_cs_status(f, "ChangeAvailability", "{\"connectorId\":1,\"type\":\"Inoperative\"}"),
			    "Accepted");
	p = fk_expect(f, "StatusNotification");
	assert_int_equal(jint(p, "connectorId"), 1);
	assert_string_equal(jstr(p, "status"), "Unavailable");
	fk_ack(f, "{}");
	fk_no_call(f);
	/* an Unavailable connector takes no remote start */
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"T\"}"), "Rejected");
	assert_string_equal(fk_cs_status(f, "ChangeAvailability", "{\"connectorId\":7,\"type\":\"Inoperative\"}"),
			    "Rejected");

	/* persisted: a power cycle keeps it Unavailable (TC_034) */
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	fk_ev(f, 1, false, 0);
	fk_ev(f, 2, false, 0);
	fk_connect_boot(f);
	fk_settle(f);
	assert_string_equal(f->st[0], "Available");
	assert_string_equal(f->st[1], "Unavailable");
	assert_string_equal(f->st[2], "Available");
	assert_string_equal(fk_cs_status(f, "ChangeAvailability", "{\"connectorId\":1,\"type\":\"Operative\"}"),
			    "Accepted");
	fk_settle(f);
	assert_string_equal(f->st[1], "Available");

	/* during a transaction: Scheduled, applied when it ends */
	fk_remote_tx(f, 2, 20);
	assert_string_equal(fk_cs_status(f, "ChangeAvailability", "{\"connectorId\":2,\"type\":\"Inoperative\"}"),
			    "Scheduled");
	fk_settle(f);
	assert_string_equal(f->st[2], "Charging");
	assert_int_equal(lim_now(f, 2), -1);
	fk_ev(f, 2, false, 0);
	fk_expect(f, "StopTransaction");
	fk_ack(f, "{}");
	fk_settle(f);
	assert_string_equal(f->st[2], "Unavailable");
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	fk_ev(f, 1, false, 0);
	fk_ev(f, 2, false, 0);
	fk_connect_boot(f);
	fk_settle(f);
	assert_string_equal(f->st[2], "Unavailable");

	/* connector 0: the whole charge point */
	assert_string_equal(fk_cs_status(f, "ChangeAvailability", "{\"connectorId\":0,\"type\":\"Inoperative\"}"),
			    "Accepted");
	fk_settle(f);
	assert_string_equal(f->st[0], "Unavailable");
	assert_string_equal(f->st[1], "Unavailable");
	assert_string_equal(f->st[2], "Unavailable");
	assert_string_equal(fk_cs_status(f, "ChangeAvailability", "{\"connectorId\":0,\"type\":\"Operative\"}"),
			    "Accepted");
	fk_settle(f);
	assert_string_equal(f->st[0], "Available");
	assert_string_equal(f->st[1], "Available");
	assert_string_equal(f->st[2], "Available");
}

/* ChangeAvailability(0, Inoperative) during a transaction answers Scheduled and makes the charge point
 * itself (connector 0) Unavailable when the transaction ends. */
static void test_change_availability_cp_scheduled(void **state)
{
	struct fake *f = *state;

	fk_online(f, 2);
	fk_remote_tx(f, 1, 11);
	assert_string_equal(fk_cs_status(f, "ChangeAvailability", "{\"connectorId\":0,\"type\":\"Inoperative\"}"),
			    "Scheduled");
	fk_settle(f);
	assert_string_equal(f->st[2], "Unavailable");
	assert_string_equal(f->st[1], "Charging");
	assert_string_equal(fk_cs_status(f, "RemoteStopTransaction", "{\"transactionId\":11}"), "Accepted");
	fk_expect(f, "StopTransaction");
	fk_ack(f, "{}");
	fk_settle(f);
	assert_string_equal(f->st[1], "Unavailable");
	assert_string_equal(f->st[0], "Unavailable");
	assert_int_equal(ocpp_cp_connector_status(f->cp, 0), OCPP_ST_UNAVAILABLE);
}

/* ------------------------------------------------------------------ 12: ConnectionTimeOut */

static void test_connection_timeout(void **state)
{
	struct fake *f = *state;
	json_t *p;

	fk_key(f, "ConnectionTimeOut", "45");
	fk_online(f, 1);
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"idTag\":\"TAG1\"}"), "Accepted");
	fk_settle(f);
	assert_string_equal(f->st[1], "Preparing");
	assert_int_equal(ocpp_cp_next_deadline(f->cp), f->now.mono_ms + 45000);
	fk_advance(f, 44999);
	fk_no_call(f);
	fk_advance(f, 1);
	p = fk_expect(f, "StatusNotification");
	assert_string_equal(jstr(p, "status"), "Available");
	fk_ack(f, "{}");
	/* the authorisation lapsed: plugging in now starts nothing */
	fk_ev(f, 1, true, 0);
	fk_settle(f);
	fk_no_call(f);
	assert_string_equal(f->st[1], "Preparing");
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 0);
	assert_int_equal(lim_now(f, 1), 0);
}

/* ------------------------------------------------------------------ 13: Reset */

static void test_reset_soft_with_transaction(void **state)
{
	struct fake *f = *state;
	json_t *p;
	uint64_t t;

	fk_online(f, 1);
	fk_remote_tx(f, 1, 42);
	fk_charge(f, 1, 10, 16);
	assert_string_equal(fk_cs_status(f, "Reset", "{\"type\":\"Soft\"}"), "Accepted");
	t = f->now.mono_ms;
	assert_int_equal(lim_now(f, 1), 0);
	p = fk_expect(f, "StopTransaction");
	assert_int_equal(jint(p, "transactionId"), 42);
	assert_string_equal(jstr(p, "reason"), "SoftReset");
	fk_advance(f, 3000);
	assert_int_equal(f->resets, 0); /* waits for the StopTransaction.conf */
	fk_ack(f, "{}");
	fk_advance(f, 100);
	assert_int_equal(f->resets, 1);
	assert_false(f->reset_hard);
	assert_true(f->reset_at >= t + 1000);
	fk_advance(f, 60000);
	assert_int_equal(f->resets, 1);
}

static void test_reset_hard_unanswered(void **state)
{
	struct fake *f = *state;
	json_t *p;
	uint64_t t;

	fk_online(f, 1);
	fk_remote_tx(f, 1, 42);
	assert_string_equal(fk_cs_status(f, "Reset", "{\"type\":\"Hard\"}"), "Accepted");
	t = f->now.mono_ms;
	p = fk_expect(f, "StopTransaction");
	assert_string_equal(jstr(p, "reason"), "HardReset");
	fk_advance(f, 9000);
	assert_int_equal(f->resets, 0);
	fk_advance(f, 2000);
	assert_int_equal(f->resets, 1);
	assert_true(f->reset_hard);
	assert_true(f->reset_at >= t + 10000 && f->reset_at <= t + 10100);
}

static void test_reset_idle(void **state)
{
	struct fake *f = *state;
	uint64_t t;

	fk_online(f, 1);
	assert_string_equal(fk_cs_status(f, "Reset", "{\"type\":\"Hard\"}"), "Accepted");
	t = f->now.mono_ms;
	fk_no_call(f);
	fk_advance(f, 999);
	assert_int_equal(f->resets, 0);
	fk_advance(f, 1);
	assert_int_equal(f->resets, 1);
	assert_true(f->reset_hard);
	assert_int_equal(f->reset_at, t + 1000);
	assert_int_equal(f->stuck, 0);
}

/* After a Reset with a StopTransaction still unacknowledged, the deadline is the drain deadline, not
 * a moment in the past (the event loop would spin). */
static void test_no_busy_loop_reset_drain(void **state)
{
	struct fake *f = *state;

	fk_online(f, 1);
	fk_remote_tx(f, 1, 42);
	assert_string_equal(fk_cs_status(f, "Reset", "{\"type\":\"Soft\"}"), "Accepted");
	fk_expect(f, "StopTransaction");
	f->stuck = 0;
	fk_advance(f, 1500);
	assert_int_equal(f->stuck, 0);
	assert_true(ocpp_cp_next_deadline(f->cp) > f->now.mono_ms);
}

/* ------------------------------------------------------------------ 14: invalid idTag */

static void test_start_conf_invalid_stops(void **state)
{
	struct fake *f = *state;
	json_t *p;

	fk_online(f, 1);
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"BAD\"}"),
			    "Accepted");
	fk_settle(f);
	fk_ev(f, 1, true, 0);
	fk_expect(f, "StartTransaction");
	assert_int_equal(lim_now(f, 1), -1);
	fk_ack_start(f, 13, "Invalid");
	assert_int_equal(lim_now(f, 1), 0);
	p = fk_expect_after_status(f, "StopTransaction");
	assert_int_equal(jint(p, "transactionId"), 13);
	assert_string_equal(jstr(p, "reason"), "DeAuthorized");
	fk_ack(f, "{}");
	fk_settle(f);
	assert_string_equal(f->st[1], "Finishing");
	assert_int_equal(f->n_jr, 0);
}

static void test_start_conf_invalid_suspends(void **state)
{
	struct fake *f = *state;

	fk_key(f, "StopTransactionOnInvalidId", "false");
	fk_online(f, 1);
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"BAD\"}"),
			    "Accepted");
	fk_settle(f);
	fk_ev(f, 1, true, 0);
	fk_expect(f, "StartTransaction");
	fk_ack_start(f, 14, "Invalid");
	fk_settle(f);
	fk_no_call(f);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 14);
	assert_int_equal(lim_now(f, 1), 0);
	assert_string_equal(f->st[1], "SuspendedEVSE");
	assert_int_equal(ocpp_cp_connector_status(f->cp, 1), OCPP_ST_SUSPENDED_EVSE);
	/* the tx goes on until the car leaves */
	fk_ev(f, 1, false, 0);
	assert_string_equal(jstr(fk_expect(f, "StopTransaction"), "reason"), "EVDisconnected");
	fk_ack(f, "{}");
}

/* ------------------------------------------------------------------ 15: status mapping */

static void test_status_mapping(void **state)
{
	struct fake *f = *state;
	struct ocpp_evse e;
	json_t *p;

	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1002), 2);
	fk_ev(f, 1, false, 0);
	fk_connect_boot(f);
	fk_settle(f);
	assert_string_equal(f->st[1], "Available");
	assert_null(f->st[2]); /* not heard from, grace running */

	/* a fault */
	e = ev_make(false, 0);
	e.fault = true;
	e.fault_code = 0x0c;
	fk_evse(f, 1, &e);
	p = fk_expect(f, "StatusNotification");
	assert_int_equal(jint(p, "connectorId"), 1);
	assert_string_equal(jstr(p, "status"), "Faulted");
	assert_string_equal(jstr(p, "errorCode"), "OtherError");
	assert_string_equal(jstr(p, "vendorErrorCode"), "0C");
	assert_true(strlen(jstr(p, "info")) <= 50);
	fk_ack(f, "{}");
	assert_int_equal(ocpp_cp_connector_status(f->cp, 1), OCPP_ST_FAULTED);
	fk_ev(f, 1, false, 0);
	fk_settle(f);
	assert_string_equal(f->st[1], "Available");
	assert_string_equal(f->st_err[1], "NoError");

	/* the TWC that never appears: Faulted once the 30 s grace is over */
	fk_advance(f, T0_MONO + 29999 - f->now.mono_ms);
	fk_no_call(f);
	fk_advance(f, 1);
	p = fk_expect(f, "StatusNotification");
	assert_int_equal(jint(p, "connectorId"), 2);
	assert_string_equal(jstr(p, "status"), "Faulted");
	assert_string_equal(jstr(p, "errorCode"), "OtherError");
	fk_ack(f, "{}");

	/* Charging while drawing; SuspendedEV when the car takes nothing after 15 s */
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"T\"}"), "Accepted");
	fk_settle(f);
	fk_ev(f, 1, true, 0);
	fk_expect_after_status(f, "StartTransaction");
	fk_ack_start(f, 9, "Accepted");
	fk_settle(f);
	assert_string_equal(f->st[1], "Charging");
	fk_advance(f, 14999);
	fk_no_call(f);
	fk_advance(f, 1);
	p = fk_expect(f, "StatusNotification");
	assert_string_equal(jstr(p, "status"), "SuspendedEV");
	fk_ack(f, "{}");
	fk_ev(f, 1, true, 16);
	p = fk_expect(f, "StatusNotification");
	assert_string_equal(jstr(p, "status"), "Charging");
	fk_ack(f, "{}");
	fk_ev(f, 1, true, 0);
	p = fk_expect(f, "StatusNotification");
	assert_string_equal(jstr(p, "status"), "SuspendedEV");
	fk_ack(f, "{}");

	/* stopped with the car still plugged: Finishing, then Available when it leaves */
	assert_string_equal(fk_cs_status(f, "RemoteStopTransaction", "{\"transactionId\":9}"), "Accepted");
	fk_expect(f, "StopTransaction");
	fk_ack(f, "{}");
	p = fk_expect(f, "StatusNotification");
	assert_string_equal(jstr(p, "status"), "Finishing");
	fk_ack(f, "{}");
	fk_ev(f, 1, false, 0);
	p = fk_expect(f, "StatusNotification");
	assert_string_equal(jstr(p, "status"), "Available");
	fk_ack(f, "{}");

	/* the missing TWC turns up */
	fk_ev(f, 2, false, 0);
	p = fk_expect(f, "StatusNotification");
	assert_int_equal(jint(p, "connectorId"), 2);
	assert_string_equal(jstr(p, "status"), "Available");
	fk_ack(f, "{}");
	/* and goes silent again */
	e = ev_make(false, 0);
	e.present = false;
	fk_evse(f, 2, &e);
	p = fk_expect(f, "StatusNotification");
	assert_string_equal(jstr(p, "status"), "Faulted");
	fk_ack(f, "{}");
	assert_int_equal(f->stuck, 0);
}

/* ------------------------------------------------------------------ 16: connector mapping */

static void test_connector_mapping(void **state)
{
	struct fake *f = *state;
	struct ocpp_config *cfg;

	fk_start(f);
	cfg = ocpp_cp_config(f->cp);
	assert_int_equal(ocpp_cp_connector_count(f->cp), 0);
	assert_string_equal(ocpp_config_str(cfg, OCPP_KEY_NUMBER_OF_CONNECTORS), "0");
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0xAB01), 1);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x0002), 2);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0xAB01), 1);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0xFFFF), 3);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x0002), 2);
	assert_int_equal(ocpp_cp_connector_count(f->cp), 3);
	assert_string_equal(ocpp_config_str(cfg, OCPP_KEY_NUMBER_OF_CONNECTORS), "3");
	assert_non_null(f->files[1].text);

	assert_int_equal(fk_restart(f, NULL, 0), 0);
	cfg = ocpp_cp_config(f->cp);
	assert_int_equal(ocpp_cp_connector_count(f->cp), 3);
	assert_string_equal(ocpp_config_str(cfg, OCPP_KEY_NUMBER_OF_CONNECTORS), "3");
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0xFFFF), 3);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x0002), 2);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0xAB01), 1);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1234), 4);
	assert_string_equal(ocpp_config_str(cfg, OCPP_KEY_NUMBER_OF_CONNECTORS), "4");
	for (int i = 5; i <= OCPP_MAX_CONNECTORS; i++)
		assert_int_equal(ocpp_cp_connector_for_twc(f->cp, (uint16_t)(0x2000 + i)), i);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x3000), -ENOSPC);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0xAB01), 1);
	/* unknown connectors are ignored */
	{
		struct ocpp_evse e = ev_make(true, 16);

		ocpp_cp_evse_update(f->cp, 0, &e, f->now);
		ocpp_cp_evse_update(f->cp, 9, &e, f->now);
		ocpp_cp_evse_update(f->cp, -1, &e, f->now);
	}
	assert_int_equal(ocpp_cp_connector_status(f->cp, 9), OCPP_ST_UNAVAILABLE);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 9), 0);
	assert_true(ocpp_cp_energy_wh(f->cp, 0) == 0);
	/* a connectors file that does not parse is ignored */
	free(f->files[1].text);
	f->files[1].text = strdup("{not json");
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	assert_int_equal(ocpp_cp_connector_count(f->cp), 0);
}

/* ------------------------------------------------------------------ 17: limit order */

static void test_limits_lower_first(void **state)
{
	struct fake *f = *state;
	struct ocpp_cp *cp;
	int base;

	fk_online(f, 2);
	fk_remote_tx(f, 2, 21);
	assert_int_equal(lim_now(f, 1), 0);
	assert_int_equal(lim_now(f, 2), -1);
	/* one refresh that both lowers connector 2 (its id turned out invalid) and raises connector 1
	 * (a car authorised and plugged) */
	cp = f->cp;
	fk_ev(f, 1, true, 0); /* plugged, nothing authorised yet (remote source) */
	fk_settle(f);
	base = f->n_lim;
	cp->conn[2].tx.invalid = true;
	ocpp_cp_authorized(cp, 1, "TAG1", "", true);
	ocpp_cp_refresh(cp);
	assert_int_equal(f->n_lim, base + 2);
	assert_int_equal(f->lim_c[base], 2);
	assert_int_equal(f->lim_a[base], 0);
	assert_int_equal(f->lim_c[base + 1], 1);
	assert_int_equal(f->lim_a[base + 1], -1);
	/* nothing changes: nothing is set again */
	ocpp_cp_refresh(cp);
	assert_int_equal(f->n_lim, base + 2);

}

/* At a restart with transactions open on two connectors, stopping the first must not raise the
 * second to full current before it is stopped too: a restart only ever sets 0 A. */
static void test_restart_never_raises_limits(void **state)
{
	struct fake *f = *state;

	fk_online(f, 2);
	fk_remote_tx(f, 1, 31);
	fk_remote_tx(f, 2, 32);
	assert_int_equal(lim_now(f, 1), -1);
	assert_int_equal(lim_now(f, 2), -1);
	f->n_lim = 0;
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	for (int i = 0; i < f->n_lim; i++)
		if (f->lim_a[i] != 0)
			fail_msg("set_limit(%d, %d) while restarting", f->lim_c[i], f->lim_a[i]);
	assert_int_equal(lim_now(f, 1), 0);
	assert_int_equal(lim_now(f, 2), 0);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 0);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 2), 0);
}

/* ------------------------------------------------------------------ misc */

static void test_new_rejects_bad_params(void **state)
{
	struct fake *f = *state;
	struct ocpp_cp_params p = f->p;
	struct ocpp_cp_env env = fake_env;

	assert_null(ocpp_cp_new(NULL, &fake_env));
	assert_null(ocpp_cp_new(&p, NULL));
	env.send = NULL;
	assert_null(ocpp_cp_new(&p, &env));
	p.phases = 2;
	assert_null(ocpp_cp_new(&p, &fake_env));
	p = f->p;
	p.voltage = 0;
	assert_null(ocpp_cp_new(&p, &fake_env));
	p = f->p;
	p.vendor = NULL;
	assert_null(ocpp_cp_new(&p, &fake_env));
	p = f->p;
	p.id_tag_source = OCPP_IDTAG_FIXED;
	p.fixed_id_tag = NULL;
	assert_null(ocpp_cp_new(&p, &fake_env));
	p.fixed_id_tag = "123456789012345678901"; /* 21 > CiString20 */
	assert_null(ocpp_cp_new(&p, &fake_env));
	p.fixed_id_tag = "12345678901234567890";
	f->cp = ocpp_cp_new(&p, &fake_env);
	assert_non_null(f->cp);
}

static void test_send_failure_is_a_disconnect(void **state)
{
	struct fake *f = *state;
	json_t *p;

	fk_online(f, 1);
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"T\"}"), "Accepted");
	fk_settle(f);
	f->send_fail = true;
	fk_ev(f, 1, true, 0); /* StartTransaction cannot go out */
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), -1);
	f->send_fail = false;
	fk_advance(f, 5000);
	fk_no_call(f); /* the core considers the link down */
	ocpp_cp_connected(f->cp, f->now);
	p = fk_expect(f, "StartTransaction");
	assert_int_equal(jint(p, "connectorId"), 1);
	fk_ack_start(f, 3, "Accepted");
	fk_settle(f);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 3);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_boot_status_heartbeat),
		T(test_boot_rejected_then_pending),
		T(test_boot_error_and_timeout_retry),
		T(test_remote_start_stop),
		T(test_reconnect_resends_statuses),
		T(test_vin_idtag),
		T(test_empty_idtag_survives_restart),
		T(test_fixed_idtag),
		T(test_energy_integration),
		T(test_energy_three_phase),
		T(test_energy_lifetime_reconciliation),
		T(test_meter_stop_never_below_start),
		T(test_sampled_and_aligned_meter_values),
		T(test_aligned_reading_stamped_with_boundary),
		T(test_aligned_interval_change_keeps_grid),
		T(test_offline_transaction),
		T(test_crash_offline_mid_transaction),
		T(test_crash_after_start_confirmed),
		T(test_crash_between_map_and_delete),
		T(test_restore_torn_record),
		T(test_restore_bad_tx_record_leaves_nothing),
		T(test_restore_without_connectors_file),
		T(test_meter_values_retry_and_drop),
		T(test_start_stop_survive_disconnects),
		T(test_call_timeout_counts_as_failure),
		T(test_stop_given_up_leaves_no_journal),
		T(test_retry_keeps_transaction_order),
		T(test_no_busy_loop_heartbeat_during_retry),
		T(test_queue_bound),
		T(test_change_availability),
		T(test_change_availability_cp_scheduled),
		T(test_connection_timeout),
		T(test_reset_soft_with_transaction),
		T(test_reset_hard_unanswered),
		T(test_reset_idle),
		T(test_no_busy_loop_reset_drain),
		T(test_start_conf_invalid_stops),
		T(test_start_conf_invalid_suspends),
		T(test_status_mapping),
		T(test_connector_mapping),
		T(test_limits_lower_first),
		T(test_restart_never_raises_limits),
		T(test_new_rejects_bad_params),
		T(test_send_failure_is_a_disconnect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
