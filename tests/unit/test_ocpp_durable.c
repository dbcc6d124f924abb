/*
 * test_ocpp_durable: the OCPP core when the disk says no. A whole transaction (remote start, plug,
 * charging with MeterValues, unplug) is run once for every journal write it makes, with the disk
 * full from that write on for a while; the central system must see exactly one StartTransaction and
 * one StopTransaction for it, the Stop with the id it gave, and nothing left waiting. The same again
 * with a SIGKILL once the disk is free, and the queue of other messages under a TriggerMessage storm.
 */
#include "ocpp_fake.h"

#define FULL_MS 40000u

static int count_action(const struct fake *f, const char *action, size_t from)
{
	size_t idx[1];

	return calls_of(f, action, from, idx, 0);
}

/* The last CALL of @action, or NULL. */
static json_t *last_call(const struct fake *f, const char *action)
{
	for (size_t i = f->n_fr; i-- > 0;)
		if (f->fr[i].type == 2 && !strcmp(frame_action(&f->fr[i]), action))
			return json_array_get(f->fr[i].j, 3);
	return NULL;
}

/* Remote start, plug, 150 s of charging (MeterValues every 60 s), unplug, 2 min more. With @crash, a
 * SIGKILL comes 20 s after the disk is free again (rebuilt from what is on the disk). */
static void transaction(struct fake *f, bool crash)
{
	bool crashed = false;

	fk_key(f, "MeterValueSampleInterval", "60");
	fk_online(f, 1);
	f->autoack = true;
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"TAG1\"}"),
			    "Accepted");
	fk_ev(f, 1, true, 0);
	for (int s = 0; s < 150 + 120; s++) {
		fk_advance(f, 1000);
		if (crash && !crashed && f->full_since && f->now.mono_ms >= f->full_since + FULL_MS + 20000) {
			crashed = true;
			fk_restart(f, NULL, 0);
			fk_connect_boot(f);
		}
		fk_ev(f, 1, s < 150, s < 150 ? 16 : 0);
	}
	fk_advance(f, 60000);
}

static void check_exactly_once(struct fake *f, int k)
{
	json_t *stop = last_call(f, "StopTransaction");

	if (count_action(f, "StartTransaction", 0) != 1 || count_action(f, "StopTransaction", 0) != 1 || !stop ||
	    jint(stop, "transactionId") != 100)
		fail_msg("disk full from write %d: %d StartTransaction, %d StopTransaction (id %lld)", k,
			 count_action(f, "StartTransaction", 0), count_action(f, "StopTransaction", 0),
			 stop ? (long long)jint(stop, "transactionId") : -1LL);
	assert_int_equal(ocpp_cp_stats(f->cp)->journal_waiting, 0);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued, 0);
	assert_int_equal(f->n_jr, 0); /* nothing left behind on the disk either */
	assert_int_equal(f->stuck, 0);
}

/* How many journal writes the transaction makes on a healthy disk. */
static int writes_of_transaction(void)
{
	void *st = NULL;
	struct fake *f;
	int n;

	setup(&st);
	f = st;
	f->full_at = 1000000; /* counts, never fills */
	transaction(f, false);
	check_exactly_once(f, 0);
	n = f->writes;
	teardown(&st);
	return n;
}

static void run_full_at_each_write(bool crash)
{
	int n = writes_of_transaction();

	assert_true(n >= 6); /* Start, its record, the id map, MeterValues, Stop, and their deletes */
	for (int k = 1; k <= n; k++) {
		void *st = NULL;
		struct fake *f;

		setup(&st);
		f = st;
		f->full_at = k;
		f->full_ms = FULL_MS;
		transaction(f, crash);
		assert_true(f->refused > 0);
		check_exactly_once(f, k);
		if (crash)
			assert_true(ocpp_cp_stats(f->cp)->journal_failures == 0); /* the new process saw a free disk */
		else
			assert_true(ocpp_cp_stats(f->cp)->journal_failures > 0);
		teardown(&st);
	}
}

static void test_disk_full_at_each_write(void **state)
{
	(void)state;
	run_full_at_each_write(false);
}

static void test_disk_full_at_each_write_then_sigkill(void **state)
{
	(void)state;
	run_full_at_each_write(true);
}

/* While a write waits, nothing of the transaction goes out; once the disk frees, it all does, in order. */
static void test_nothing_sent_before_durable(void **state)
{
	struct fake *f = *state;
	size_t from;

	fk_online(f, 1);
	f->full_at = f->writes + 1;
	f->full_ms = FULL_MS;
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"TAG1\"}"),
			    "Accepted");
	from = f->n_fr;
	f->autoack = true;
	fk_ev(f, 1, true, 16);
	fk_advance(f, FULL_MS - 1000);
	assert_int_equal(count_action(f, "StartTransaction", from), 0);
	assert_true(ocpp_cp_stats(f->cp)->journal_waiting >= 2); /* the Start and the transaction record */
	assert_int_equal(f->n_jr, 0);
	/* A transaction a crash would lose gets no current. */
	assert_int_equal(lim_now(f, 1), 0);
	assert_string_equal(f->st[1], "SuspendedEVSE");
	fk_advance(f, 6000); /* free, and the next retry */
	assert_int_equal(count_action(f, "StartTransaction", from), 1);
	assert_int_equal(lim_now(f, 1), -1);
	assert_int_equal(ocpp_cp_stats(f->cp)->journal_waiting, 0);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 100);
	assert_int_equal(journal_count(f, "\"k\":\"map\""), 1);
}

/* While the disk refuses writes no transaction is promised or started: a crash would lose it. A
 * remote start is Rejected; once the disk takes writes again it is Accepted and the car charges. */
static void test_no_transaction_while_full(void **state)
{
	struct fake *f = *state;
	size_t from;

	fk_key(f, "MeterValueSampleInterval", "10");
	fk_online(f, 2);
	f->autoack = true;
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":2,\"idTag\":\"TAG2\"}"),
			    "Accepted");
	fk_ev(f, 2, true, 16);
	fk_charge(f, 2, 5, 16);
	fk_ev(f, 1, true, 0);
	f->full_since = f->now.mono_ms; /* the disk fills; connector 2's next sample finds out */
	f->full_ms = 30000;
	fk_charge(f, 2, 12, 16);
	assert_true(ocpp_cp_stats(f->cp)->journal_waiting > 0);
	from = f->n_fr;
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"TAG1\"}"),
			    "Rejected");
	fk_advance(f, 25000); /* free, and the next retry */
	assert_int_equal(ocpp_cp_stats(f->cp)->journal_waiting, 0);
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"TAG1\"}"),
			    "Accepted");
	fk_advance(f, 2000);
	assert_int_equal(count_action(f, "StartTransaction", from), 1);
	assert_int_equal(lim_now(f, 1), -1);
}

/* A reading the central system saw is never above the register a restart reads back: while the
 * connectors file (which holds the register) cannot be saved, MeterValues wait, and the PowerLoss
 * StopTransaction after a crash is at least the last reading delivered. */
static void test_register_never_behind_a_reading(void **state)
{
	struct fake *f = *state;
	long long last_seen = -1, stop;
	json_t *p;

	fk_key(f, "MeterValueSampleInterval", "10");
	fk_online(f, 1);
	f->autoack = true;
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"TAG1\"}"),
			    "Accepted");
	fk_ev(f, 1, true, 16);
	fk_charge(f, 1, 30, 16);
	f->store_fail = true; /* the state files fail, the journal still takes its appends */
	fk_charge(f, 1, 60, 16);
	f->store_fail = false; /* SIGKILL, then a working disk: the journal's MeterValues go out now */
	fk_restart(f, NULL, 0);
	fk_connect_boot(f);
	fk_advance(f, 10000);
	for (size_t i = 0; i < f->n_fr; i++) {
		const json_t *sv;

		if (f->fr[i].type != 2 || strcmp(frame_action(&f->fr[i]), "MeterValues"))
			continue;
		sv = json_array_get(json_object_get(json_array_get(json_object_get(json_array_get(f->fr[i].j, 3),
			"meterValue"), 0), "sampledValue"), 0);
		last_seen = atoll(json_string_value(json_object_get(sv, "value")));
	}
	assert_true(last_seen > 0);
	p = last_call(f, "StopTransaction");
	assert_non_null(p);
	stop = (long long)jint(p, "meterStop");
	if (stop < last_seen)
		fail_msg("meterStop %lld below the reading %lld the central system saw", stop, last_seen);
}

/* A state file that could not be saved is saved again once the disk frees. */
static void test_state_file_saved_again(void **state)
{
	struct fake *f = *state;
	int before;

	fk_online(f, 1);
	f->autoack = true;
	assert_string_equal(fk_cs_status(f, "ChangeConfiguration", "{\"key\":\"MeterValueSampleInterval\",\"value\":\"30\"}"),
			    "Accepted");
	f->full_since = f->now.mono_ms; /* the disk fills ... */
	f->full_ms = 10000;
	before = f->files[0].writes;
	assert_string_equal(fk_cs_status(f, "ChangeConfiguration", "{\"key\":\"MeterValueSampleInterval\",\"value\":\"45\"}"),
			    "Accepted");
	assert_int_equal(f->files[0].writes, before); /* ... so this save fails */
	fk_advance(f, 16000);
	assert_true(f->files[0].writes > before);
	assert_non_null(strstr(f->files[0].text, "45"));
}

/* A TriggerMessage storm while the central system answers nothing: other messages stay bounded and
 * coalesced (one waiting StatusNotification / MeterValues / Heartbeat per connector). */
static void test_trigger_storm_bounded(void **state)
{
	struct fake *f = *state;
	const char *what[] = {"StatusNotification", "MeterValues", "Heartbeat", "BootNotification"};

	fk_key(f, "MeterValueSampleInterval", "0");
	fk_online(f, 2);
	fk_cs(f, "DataTransfer", "{\"vendorId\":\"x\"}"); /* anything; the next CALL we leave unanswered */
	for (int i = 0; i < 5000; i++) {
		char req[96];

		snprintf(req, sizeof(req), "{\"requestedMessage\":\"%s\",\"connectorId\":%d}", what[i % 4], 1 + i % 2);
		fk_cs(f, "TriggerMessage", req);
		assert_true(ocpp_cp_stats(f->cp)->queued_other <= OCPP_QUEUE_OTHER_MAX);
	}
	assert_true(ocpp_cp_stats(f->cp)->queued_other <= 8);
	assert_true(ocpp_cp_stats(f->cp)->queue_coalesced > 4900);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nothing_sent_before_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file_saved_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_transaction_while_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_never_behind_a_reading, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trigger_storm_bounded, setup, teardown),
		cmocka_unit_test(test_disk_full_at_each_write),
		cmocka_unit_test(test_disk_full_at_each_write_then_sigkill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
