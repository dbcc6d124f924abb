/*
 * Tests of the OCPP 1.6J actions one by one (ocpp/actions/): for every central-system CALL the exact
 * CALLRESULT for good input and the CALLERROR for each kind of bad input (missing field, wrong type,
 * unknown field, bad enum, too-long CiString, payload not an object); unknown and unsupported
 * actions and frames that are not JSON; the encoding of every CALL the charge point sends; and how
 * the charge point treats results that do not parse (a failed delivery, retried). Also
 * GetConfiguration/ChangeConfiguration semantics with persistence, SecurityProfile and
 * AuthorizationKey rules, DataTransfer, UnlockConnector and ClearCache. Runs the real ocpp_cp with a
 * small fake environment (frames recorded, journal and files in memory, time driven by hand).
 */
#include "ocpp_cp_internal.h" /* the request builders (encode tests) */
#include "ocpp_fake.h"

/* Connected and registered (BootNotification Accepted), every status acknowledged. */
static void fk_boot(struct fake *f)
{
	fk_connect_boot(f);
	fk_settle(f);
}

/* Started with one TWC present, registered, quiet. */
static void fk_online_quiet(struct fake *f)
{
	fk_online(f, 1);
	fk_no_call(f);
}

/* Send a central-system frame; return the answer with id @id (borrowed), or NULL. */
static json_t *fk_answer_to(struct fake *f, const char *text, const char *id)
{
	size_t before = f->n_fr;

	fk_input(f, text);
	for (size_t i = before; i < f->n_fr; i++)
		if (f->fr[i].type != 2 && !strcmp(json_string_value(json_array_get(f->fr[i].j, 1)), id))
			return f->fr[i].j;
	return NULL;
}

/* The CALLRESULT payload must be exactly @expected (JSON text). */
static void expect_result(struct fake *f, const char *action, const char *payload, const char *expected)
{
	json_t *r = fk_cs(f, action, payload), *want = json_loads(expected, 0, NULL);

	assert_non_null(want);
	if (json_integer_value(json_array_get(r, 0)) != 3)
		fail_msg("%s %s: %s (%s)", action, payload, json_string_value(json_array_get(r, 2)),
			 json_string_value(json_array_get(r, 3)));
	assert_int_equal(json_array_size(r), 3);
	if (!json_equal(json_array_get(r, 2), want)) {
		char *got = json_dumps(json_array_get(r, 2), JSON_COMPACT), msg[1024];

		snprintf(msg, sizeof(msg), "%s", got ? got : "?");
		free(got);
		json_decref(want);
		fail_msg("%s %s: got %s, want %s", action, payload, msg, expected);
	}
	json_decref(want);
}

static const char *result_status(struct fake *f, const char *action, const char *payload)
{
	json_t *r = fk_cs(f, action, payload);

	if (json_integer_value(json_array_get(r, 0)) != 3)
		fail_msg("%s: %s", action, json_string_value(json_array_get(r, 2)));
	return json_string_value(json_object_get(json_array_get(r, 2), "status"));
}

/* The answer must be a CALLERROR @code, well formed. */
static void expect_error(struct fake *f, const char *action, const char *payload, const char *code)
{
	uint32_t bad = ocpp_cp_stats(f->cp)->rx_bad;
	json_t *r = fk_cs(f, action, payload);

	if (json_integer_value(json_array_get(r, 0)) != 4)
		fail_msg("%s %s: answered with a CALLRESULT, want %s", action, payload, code);
	assert_int_equal(json_array_size(r), 5);
	if (strcmp(json_string_value(json_array_get(r, 2)), code) != 0)
		fail_msg("%s %s: got %s (%s), want %s", action, payload, json_string_value(json_array_get(r, 2)),
			 json_string_value(json_array_get(r, 3)), code);
	assert_true(json_is_string(json_array_get(r, 3)));
	assert_true(json_is_object(json_array_get(r, 4)));
	assert_int_equal(ocpp_cp_stats(f->cp)->rx_bad, bad + 1);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ------------------------------------------------------------------ CS -> CP: good input */

static void test_valid_requests(void **state)
{
	struct fake *f = *state;

	fk_online_quiet(f);
	expect_result(f, "ChangeAvailability", "{\"connectorId\":1,\"type\":\"Operative\"}", "{\"status\":\"Accepted\"}");
	expect_result(f, "ChangeAvailability", "{\"connectorId\":0,\"type\":\"Operative\"}", "{\"status\":\"Accepted\"}");
	expect_result(f, "ChangeConfiguration", "{\"key\":\"HeartbeatInterval\",\"value\":\"120\"}",
		      "{\"status\":\"Accepted\"}");
	expect_result(f, "ClearCache", "{}", "{\"status\":\"Accepted\"}");
	expect_result(f, "DataTransfer", "{\"vendorId\":\"com.example\",\"messageId\":\"m\",\"data\":\"d\"}",
		      "{\"status\":\"UnknownVendorId\"}");
	expect_result(f, "DataTransfer", "{\"vendorId\":\"twcgw\",\"messageId\":\"m\"}",
		      "{\"status\":\"UnknownMessageId\"}");
	expect_result(f, "GetConfiguration", "{\"key\":[\"HeartbeatInterval\",\"NoSuchKey\"]}",
		      "{\"configurationKey\":[{\"key\":\"HeartbeatInterval\",\"readonly\":false,\"value\":\"120\"}],"
		      "\"unknownKey\":[\"NoSuchKey\"]}");
	expect_result(f, "GetConfiguration", "{\"key\":[\"NumberOfConnectors\"]}",
		      "{\"configurationKey\":[{\"key\":\"NumberOfConnectors\",\"readonly\":true,\"value\":\"1\"}]}");
	expect_result(f, "GetConfiguration", "{\"key\":[\"Nope\"]}", "{\"unknownKey\":[\"Nope\"]}");
	expect_result(f, "RemoteStopTransaction", "{\"transactionId\":5}", "{\"status\":\"Rejected\"}");
	expect_result(f, "UnlockConnector", "{\"connectorId\":1}", "{\"status\":\"NotSupported\"}");
	expect_result(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"T\"}", "{\"status\":\"Accepted\"}");
	expect_result(f, "Reset", "{\"type\":\"Soft\"}", "{\"status\":\"Accepted\"}");
	assert_int_equal(ocpp_cp_stats(f->cp)->rx_bad, 0);
}

static void test_remote_start_variants(void **state)
{
	struct fake *f = *state;

	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1002), 2);
	fk_ev(f, 1, false, 0);
	fk_ev(f, 2, true, 0); /* a car already waits on 2 */
	fk_boot(f);
	/* no connectorId: the connector with a car waiting */
	expect_result(f, "RemoteStartTransaction",
		      "{\"idTag\":\"T\",\"chargingProfile\":{\"chargingProfileId\":1,\"stackLevel\":0,"
		      "\"chargingProfilePurpose\":\"TxProfile\",\"chargingProfileKind\":\"Absolute\","
		      "\"chargingSchedule\":{\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":16}]}}}",
		      "{\"status\":\"Accepted\"}");
	fk_settle(f);
	fk_expect(f, "StartTransaction");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(f->fr[f->n_fr - 1].j, 3), "connectorId")), 2);
	fk_ack(f, "{\"transactionId\":1,\"idTagInfo\":{\"status\":\"Accepted\"}}");
	fk_settle(f);
	/* a connector with a transaction takes no second one */
	expect_result(f, "RemoteStartTransaction", "{\"connectorId\":2,\"idTag\":\"T\"}", "{\"status\":\"Rejected\"}");
	expect_result(f, "RemoteStartTransaction", "{\"connectorId\":9,\"idTag\":\"T\"}", "{\"status\":\"Rejected\"}");
	expect_result(f, "RemoteStartTransaction", "{\"connectorId\":-3,\"idTag\":\"T\"}", "{\"status\":\"Rejected\"}");
	expect_result(f, "RemoteStartTransaction", "{\"idTag\":\"T\"}", "{\"status\":\"Accepted\"}");
	fk_settle(f);
	assert_int_equal(ocpp_cp_connector_status(f->cp, 1), OCPP_ST_PREPARING);
	expect_result(f, "RemoteStopTransaction", "{\"transactionId\":1}", "{\"status\":\"Accepted\"}");
}

/* AuthorizeRemoteTxRequests: the remote idTag is checked with Authorize first (TC_023_5). */
static void test_remote_start_authorize_first(void **state)
{
	struct fake *f = *state;
	json_t *p;

	fk_key(f, "AuthorizeRemoteTxRequests", "true");
	fk_online_quiet(f);
	expect_result(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"R1\"}", "{\"status\":\"Accepted\"}");
	p = fk_expect(f, "Authorize");
	assert_string_equal(json_string_value(json_object_get(p, "idTag")), "R1");
	fk_ack(f, "{\"idTagInfo\":{\"status\":\"Invalid\"}}");
	fk_settle(f);
	fk_ev(f, 1, true, 0);
	fk_settle(f);
	fk_no_call(f);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 0);
	fk_ev(f, 1, false, 0);
	fk_settle(f);
	expect_result(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"R2\"}", "{\"status\":\"Accepted\"}");
	fk_expect(f, "Authorize");
	fk_ack(f, "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
	fk_settle(f);
	fk_ev(f, 1, true, 0);
	fk_settle(f);
	p = fk_expect(f, "StartTransaction");
	assert_string_equal(json_string_value(json_object_get(p, "idTag")), "R2");
}

/* ------------------------------------------------------------------ CS -> CP: bad input */

struct bad_case {
	const char *action, *payload, *code;
};

#define OCC "OccurenceConstraintViolation"
#define TYP "TypeConstraintViolation"
#define PRP "PropertyConstraintViolation"
#define FRM "FormationViolation"

static void test_bad_requests(void **state)
{
	struct fake *f = *state;
	char *k51 = repeat('K', 51), *v501 = repeat('v', 501), *s21 = repeat('T', 21), *s256 = repeat('V', 256);
	char *s51 = repeat('m', 51);
	char buf[8][700];
	const struct bad_case cases[] = {
		{ "ChangeAvailability", "{\"type\":\"Operative\"}", OCC },
		{ "ChangeAvailability", "{\"connectorId\":1}", OCC },
		{ "ChangeAvailability", "{\"connectorId\":\"1\",\"type\":\"Operative\"}", TYP },
		{ "ChangeAvailability", "{\"connectorId\":1.5,\"type\":\"Operative\"}", TYP },
		{ "ChangeAvailability", "{\"connectorId\":1,\"type\":7}", TYP },
		{ "ChangeAvailability", "{\"connectorId\":1,\"type\":\"operative\"}", PRP },
		{ "ChangeAvailability", "{\"connectorId\":-1,\"type\":\"Operative\"}", PRP },
		{ "ChangeAvailability", "{\"connectorId\":1,\"type\":\"Operative\",\"x\":1}", PRP },
		{ "ChangeConfiguration", "{\"key\":\"HeartbeatInterval\"}", OCC },
		{ "ChangeConfiguration", "{\"value\":\"1\"}", OCC },
		{ "ChangeConfiguration", "{\"key\":5,\"value\":\"1\"}", TYP },
		{ "ChangeConfiguration", "{\"key\":\"HeartbeatInterval\",\"value\":60}", TYP },
		{ "ChangeConfiguration", "{\"key\":\"HeartbeatInterval\",\"value\":null}", TYP },
		{ "ChangeConfiguration", buf[0], PRP }, /* key too long */
		{ "ChangeConfiguration", buf[1], PRP }, /* value too long */
		{ "ChangeConfiguration", "{\"key\":\"HeartbeatInterval\",\"value\":\"1\",\"x\":\"y\"}", PRP },
		{ "ClearCache", "{\"x\":1}", PRP },
		{ "DataTransfer", "{}", OCC },
		{ "DataTransfer", "{\"messageId\":\"m\"}", OCC },
		{ "DataTransfer", "{\"vendorId\":1}", TYP },
		{ "DataTransfer", "{\"vendorId\":\"v\",\"messageId\":2}", TYP },
		{ "DataTransfer", "{\"vendorId\":\"v\",\"data\":{}}", TYP },
		{ "DataTransfer", buf[2], PRP }, /* vendorId too long */
		{ "DataTransfer", buf[3], PRP }, /* messageId too long */
		{ "DataTransfer", "{\"vendorId\":\"v\",\"x\":1}", PRP },
		{ "GetConfiguration", "{\"key\":\"HeartbeatInterval\"}", TYP },
		{ "GetConfiguration", "{\"key\":[1]}", TYP },
		{ "GetConfiguration", "{\"key\":[\"HeartbeatInterval\",null]}", TYP },
		{ "GetConfiguration", buf[4], PRP }, /* key too long */
		{ "GetConfiguration", "{\"keys\":[]}", PRP },
		{ "RemoteStartTransaction", "{}", OCC },
		{ "RemoteStartTransaction", "{\"connectorId\":1}", OCC },
		{ "RemoteStartTransaction", "{\"idTag\":5}", TYP },
		{ "RemoteStartTransaction", "{\"idTag\":\"T\",\"connectorId\":\"1\"}", TYP },
		{ "RemoteStartTransaction", "{\"idTag\":\"T\",\"chargingProfile\":5}", TYP },
		{ "RemoteStartTransaction", buf[5], PRP }, /* idTag too long */
		{ "RemoteStartTransaction", "{\"idTag\":\"T\",\"x\":1}", PRP },
		{ "RemoteStopTransaction", "{}", OCC },
		{ "RemoteStopTransaction", "{\"transactionId\":\"5\"}", TYP },
		{ "RemoteStopTransaction", "{\"transactionId\":true}", TYP },
		{ "RemoteStopTransaction", "{\"transactionId\":5,\"x\":1}", PRP },
		{ "Reset", "{}", OCC },
		{ "Reset", "{\"type\":1}", TYP },
		{ "Reset", "{\"type\":\"Warm\"}", PRP },
		{ "Reset", "{\"type\":\"soft\"}", PRP },
		{ "Reset", "{\"type\":\"Soft\",\"x\":1}", PRP },
		{ "TriggerMessage", "{}", OCC },
		{ "TriggerMessage", "{\"requestedMessage\":\"Foo\"}", PRP },
		{ "TriggerMessage", "{\"requestedMessage\":1}", TYP },
		{ "TriggerMessage", "{\"requestedMessage\":\"Heartbeat\",\"connectorId\":\"1\"}", TYP },
		{ "TriggerMessage", "{\"requestedMessage\":\"Heartbeat\",\"connectorId\":-1}", PRP },
		{ "TriggerMessage", "{\"requestedMessage\":\"Heartbeat\",\"x\":1}", PRP },
		{ "UnlockConnector", "{}", OCC },
		{ "UnlockConnector", "{\"connectorId\":\"1\"}", TYP },
		{ "UnlockConnector", "{\"connectorId\":1,\"x\":0}", PRP },
		{ "UnlockConnector", "{\"connectorId\":-1}", PRP },
	};
	static const char *const actions[] = {
		"ChangeAvailability", "ChangeConfiguration", "ClearCache", "DataTransfer", "GetConfiguration",
		"RemoteStartTransaction", "RemoteStopTransaction", "Reset", "UnlockConnector",
	};

	snprintf(buf[0], sizeof(buf[0]), "{\"key\":\"%s\",\"value\":\"1\"}", k51);
	snprintf(buf[1], sizeof(buf[1]), "{\"key\":\"HeartbeatInterval\",\"value\":\"%s\"}", v501);
	snprintf(buf[2], sizeof(buf[2]), "{\"vendorId\":\"%s\"}", s256);
	snprintf(buf[3], sizeof(buf[3]), "{\"vendorId\":\"v\",\"messageId\":\"%s\"}", s51);
	snprintf(buf[4], sizeof(buf[4]), "{\"key\":[\"%s\"]}", k51);
	snprintf(buf[5], sizeof(buf[5]), "{\"idTag\":\"%s\"}", s21);
	fk_online_quiet(f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(f, cases[i].action, cases[i].payload, cases[i].code);
	/* payload not an object: the frame itself is malformed */
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		expect_error(f, actions[i], "[]", FRM);
		expect_error(f, actions[i], "\"text\"", FRM);
		expect_error(f, actions[i], "null", FRM);
	}
	/* none of it had an effect */
	fk_no_call(f);
	fk_advance(f, 60000);
	assert_int_equal(f->resets, 0);
	assert_int_equal(ocpp_cp_connector_status(f->cp, 1), OCPP_ST_AVAILABLE);
	assert_string_equal(ocpp_config_str(ocpp_cp_config(f->cp), OCPP_KEY_HEARTBEAT_INTERVAL), "3600");
	free(k51);
	free(v501);
	free(s21);
	free(s256);
	free(s51);
}

static void test_unknown_and_unsupported_actions(void **state)
{
	struct fake *f = *state;
	static const char *const not_supported[] = {
		"ReserveNow", "CancelReservation", "GetDiagnostics", "UpdateFirmware",
	};

	fk_online_quiet(f);
	expect_error(f, "FooBar", "{}", "NotImplemented");
	expect_error(f, "remotestarttransaction", "{\"idTag\":\"T\"}", "NotImplemented");
	expect_error(f, "BootNotification", "{\"chargePointVendor\":\"x\",\"chargePointModel\":\"y\"}", "NotImplemented");
	for (size_t i = 0; i < sizeof(not_supported) / sizeof(not_supported[0]); i++)
		expect_error(f, not_supported[i], "{}", "NotSupported");
	expect_error(f, "ReserveNow",
		     "{\"connectorId\":1,\"expiryDate\":\"2026-01-01T01:00:00Z\",\"idTag\":\"T\",\"reservationId\":1}",
		     "NotSupported");
	expect_error(f, "SetChargingProfile", "{\"connectorId\":1,\"csChargingProfiles\":{}}", OCC);
	fk_no_call(f);
}

static void test_bad_frames(void **state)
{
	struct fake *f = *state;
	static const char *const not_json[] = {
		"not json", "[2,\"abc\",\"Reset\",{\"type\":\"Soft\"}", "", "{}", "[]", "[2]", "[2,5,\"Reset\",{}]",
	};
	json_t *r;

	fk_online_quiet(f);
	for (size_t i = 0; i < sizeof(not_json) / sizeof(not_json[0]); i++) {
		uint32_t bad = ocpp_cp_stats(f->cp)->rx_bad;

		r = fk_answer_to(f, not_json[i], "-1");
		if (!r)
			fail_msg("no CALLERROR for %s", not_json[i]);
		assert_int_equal(json_integer_value(json_array_get(r, 0)), 4);
		assert_string_equal(json_string_value(json_array_get(r, 2)), FRM);
		assert_int_equal(ocpp_cp_stats(f->cp)->rx_bad, bad + 1);
	}
	/* a readable id is echoed */
	r = fk_answer_to(f, "[2,\"id-7\",\"Reset\"]", "id-7");
	assert_non_null(r);
	assert_string_equal(json_string_value(json_array_get(r, 2)), FRM);
	r = fk_answer_to(f, "[2,\"id-8\",5,{}]", "id-8");
	assert_non_null(r);
	assert_string_equal(json_string_value(json_array_get(r, 2)), FRM);
	r = fk_answer_to(f, "[\"2\",\"id-9\",\"Reset\",{}]", "id-9");
	assert_non_null(r);
	assert_string_equal(json_string_value(json_array_get(r, 2)), FRM);
	r = fk_answer_to(f, "[7,\"id-10\",\"Reset\",{}]", "id-10");
	assert_non_null(r);
	assert_string_equal(json_string_value(json_array_get(r, 2)), FRM);
	/* answers to nothing in flight are counted and dropped, never answered */
	{
		size_t before = f->n_fr;
		uint32_t bad = ocpp_cp_stats(f->cp)->rx_bad;

		fk_input(f, "[3,\"nobody\",{}]");
		fk_input(f, "[4,\"nobody\",\"GenericError\",\"\",{}]");
		fk_input(f, "[3,\"nobody\"]");
		assert_int_equal(f->n_fr, before);
		assert_int_equal(ocpp_cp_stats(f->cp)->rx_bad, bad + 3);
	}
	assert_int_equal(f->resets, 0);
}

/* ------------------------------------------------------------------ GetConfiguration */

static void test_get_configuration_all(void **state)
{
	struct fake *f = *state;
	json_t *r, *keys, *kv;
	size_t i;
	int seen[OCPP_KEY_COUNT] = { 0 };

	fk_online_quiet(f);
	for (int pass = 0; pass < 2; pass++) {
		r = fk_cs(f, "GetConfiguration", pass ? "{\"key\":[]}" : "{}");
		assert_int_equal(json_integer_value(json_array_get(r, 0)), 3);
		assert_null(json_object_get(json_array_get(r, 2), "unknownKey"));
		keys = json_object_get(json_array_get(r, 2), "configurationKey");
		assert_int_equal(json_array_size(keys), OCPP_KEY_COUNT);
		memset(seen, 0, sizeof(seen));
		json_array_foreach(keys, i, kv) {
			int k = ocpp_config_find(json_string_value(json_object_get(kv, "key")));
			const struct ocpp_key_info *info;

			assert_true(k >= 0);
			info = ocpp_config_info((enum ocpp_key)k);
			seen[k]++;
			assert_true(json_is_boolean(json_object_get(kv, "readonly")));
			assert_int_equal(json_is_true(json_object_get(kv, "readonly")), info->access == OCPP_KA_R);
			if (k == OCPP_KEY_AUTHORIZATION_KEY) {
				assert_null(json_object_get(kv, "value"));
			} else {
				assert_true(json_is_string(json_object_get(kv, "value")));
				assert_true(json_string_length(json_object_get(kv, "value")) <= 500);
			}
		}
		for (int k = 0; k < OCPP_KEY_COUNT; k++)
			assert_int_equal(seen[k], 1);
	}
	/* the write-only key stays hidden once it has a value, asked for by name too */
	expect_result(f, "ChangeConfiguration", "{\"key\":\"AuthorizationKey\",\"value\":\"0123456789abcdef0123\"}",
		      "{\"status\":\"Accepted\"}");
	expect_result(f, "GetConfiguration", "{\"key\":[\"AuthorizationKey\"]}",
		      "{\"configurationKey\":[{\"key\":\"AuthorizationKey\",\"readonly\":false}]}");
	r = fk_cs(f, "GetConfiguration", "{}");
	{
		char *text = json_dumps(r, JSON_COMPACT);

		assert_null(strstr(text, "0123456789abcdef0123"));
		free(text);
	}
	/* case-insensitive key names */
	expect_result(f, "GetConfiguration", "{\"key\":[\"heartbeatinterval\"]}",
		      "{\"configurationKey\":[{\"key\":\"HeartbeatInterval\",\"readonly\":false,\"value\":\"3600\"}]}");
}

/* ------------------------------------------------------------------ ChangeConfiguration */

static void test_change_configuration(void **state)
{
	struct fake *f = *state;

	fk_online_quiet(f);
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"HeartbeatInterval\",\"value\":\"120\"}"),
			    "Accepted");
	assert_non_null(f->files[0].text);
	assert_non_null(strstr(f->files[0].text, "\"HeartbeatInterval\":\"120\""));
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"MeterValuesSampledData\","
								    "\"value\":\"Energy.Active.Import.Register,Voltage\"}"),
			    "Accepted");
	/* rejected: read-only key, bad values */
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"NumberOfConnectors\",\"value\":\"4\"}"),
			    "Rejected");
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"HeartbeatInterval\",\"value\":\"abc\"}"),
			    "Rejected");
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"HeartbeatInterval\",\"value\":\"-5\"}"),
			    "Rejected");
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"AllowOfflineTxForUnknownId\",\"value\":\"yes\"}"),
			    "Rejected");
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"MeterValuesSampledData\",\"value\":\"SoC\"}"),
			    "Rejected");
	/* unknown */
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"NoSuchKey\",\"value\":\"1\"}"),
			    "NotSupported");
	assert_string_equal(ocpp_config_str(ocpp_cp_config(f->cp), OCPP_KEY_HEARTBEAT_INTERVAL), "120");
	assert_string_equal(ocpp_config_str(ocpp_cp_config(f->cp), OCPP_KEY_NUMBER_OF_CONNECTORS), "1");
	/* the heartbeat follows the new interval */
	fk_advance(f, 119999);
	fk_settle(f);
	{
		size_t hb = 0;

		for (size_t i = 0; i < f->n_fr; i++)
			hb += f->fr[i].type == 2 && !strcmp(frame_action(&f->fr[i]), "Heartbeat");
		assert_int_equal(hb, 0);
		fk_advance(f, 1);
		assert_non_null(fk_next(f));
		fk_expect(f, "Heartbeat");
	}
	assert_int_equal(f->n_changed, 0);
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"WebSocketPingInterval\",\"value\":\"30\"}"),
			    "Accepted");
	assert_int_equal(f->n_changed, 1);
	assert_int_equal(f->changed[0], OCPP_KEY_WEB_SOCKET_PING_INTERVAL);

	/* persisted: a new charge point from the stored file has the changes, the rest at defaults */
	ocpp_cp_free(f->cp);
	f->cp = NULL;
	fk_start(f);
	assert_string_equal(ocpp_config_str(ocpp_cp_config(f->cp), OCPP_KEY_HEARTBEAT_INTERVAL), "120");
	assert_string_equal(ocpp_config_str(ocpp_cp_config(f->cp), OCPP_KEY_WEB_SOCKET_PING_INTERVAL), "30");
	assert_string_equal(ocpp_config_str(ocpp_cp_config(f->cp), OCPP_KEY_METER_VALUES_SAMPLED_DATA),
			    "Energy.Active.Import.Register,Voltage");
	assert_string_equal(ocpp_config_str(ocpp_cp_config(f->cp), OCPP_KEY_CONNECTION_TIME_OUT), "60");
}

/* The persisted changes win over the initial keys of the gateway's config file. */
static void test_persisted_keys_win(void **state)
{
	struct fake *f = *state;

	fk_key(f, "HeartbeatInterval", "500");
	fk_key(f, "MeterValueSampleInterval", "15");
	f->files[0].text = strdup("{\"HeartbeatInterval\":\"42\",\"NoSuchKey\":\"1\",\"ConnectionTimeOut\":\"bad\"}");
	fk_start(f);
	assert_string_equal(ocpp_config_str(ocpp_cp_config(f->cp), OCPP_KEY_HEARTBEAT_INTERVAL), "42");
	assert_string_equal(ocpp_config_str(ocpp_cp_config(f->cp), OCPP_KEY_METER_VALUE_SAMPLE_INTERVAL), "15");
	assert_string_equal(ocpp_config_str(ocpp_cp_config(f->cp), OCPP_KEY_CONNECTION_TIME_OUT), "60");
}

static void test_security_profile_and_key(void **state)
{
	struct fake *f = *state;

	fk_online_quiet(f);
	/* no AuthorizationKey yet: a profile with Basic auth would lock us out */
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"SecurityProfile\",\"value\":\"1\"}"),
			    "Rejected");
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"AuthorizationKey\",\"value\":\"short\"}"),
			    "Rejected");
	assert_int_equal(f->n_changed, 0);
	assert_string_equal(result_status(f, "ChangeConfiguration",
					  "{\"key\":\"AuthorizationKey\",\"value\":\"0123456789abcdef0123\"}"),
			    "Accepted");
	assert_int_equal(f->n_changed, 1);
	assert_int_equal(f->changed[0], OCPP_KEY_AUTHORIZATION_KEY);
	assert_true(f->files[0].secret); /* the config file holds the key: 0600 */
	/* above what the link can do (params.max_security_profile = 1) */
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"SecurityProfile\",\"value\":\"2\"}"),
			    "Rejected");
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"SecurityProfile\",\"value\":\"3\"}"),
			    "Rejected");
	assert_string_equal(ocpp_config_str(ocpp_cp_config(f->cp), OCPP_KEY_SECURITY_PROFILE), "0");
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"SecurityProfile\",\"value\":\"1\"}"),
			    "Accepted");
	assert_int_equal(f->n_changed, 2);
	assert_int_equal(f->changed[1], OCPP_KEY_SECURITY_PROFILE);
	assert_string_equal(ocpp_config_str(ocpp_cp_config(f->cp), OCPP_KEY_SECURITY_PROFILE), "1");
	assert_non_null(strstr(f->files[0].text, "\"SecurityProfile\":\"1\""));
}

/* The security whitepaper: a profile is never lowered through OCPP (A00 / A05). */
static void test_security_profile_never_lowered(void **state)
{
	struct fake *f = *state;

	fk_online_quiet(f);
	assert_string_equal(result_status(f, "ChangeConfiguration",
					  "{\"key\":\"AuthorizationKey\",\"value\":\"0123456789abcdef0123\"}"),
			    "Accepted");
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"SecurityProfile\",\"value\":\"1\"}"),
			    "Accepted");
	assert_string_equal(result_status(f, "ChangeConfiguration", "{\"key\":\"SecurityProfile\",\"value\":\"0\"}"),
			    "Rejected");
	assert_string_equal(ocpp_config_str(ocpp_cp_config(f->cp), OCPP_KEY_SECURITY_PROFILE), "1");
}

/* ------------------------------------------------------------------ other CS actions */

static void test_data_transfer_and_unlock(void **state)
{
	struct fake *f = *state;

	fk_online_quiet(f);
	expect_result(f, "DataTransfer", "{\"vendorId\":\"org.openchargealliance\"}", "{\"status\":\"UnknownVendorId\"}");
	expect_result(f, "DataTransfer", "{\"vendorId\":\"twcgw\"}", "{\"status\":\"UnknownMessageId\"}");
	/* UnlockConnector: NotSupported (fixed cable), even with a transaction, which goes on */
	expect_result(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"T\"}", "{\"status\":\"Accepted\"}");
	fk_settle(f);
	fk_ev(f, 1, true, 0);
	fk_expect(f, "StartTransaction");
	fk_ack(f, "{\"transactionId\":77,\"idTagInfo\":{\"status\":\"Accepted\"}}");
	fk_settle(f);
	expect_result(f, "UnlockConnector", "{\"connectorId\":1}", "{\"status\":\"NotSupported\"}");
	expect_result(f, "UnlockConnector", "{\"connectorId\":5}", "{\"status\":\"NotSupported\"}");
	expect_result(f, "UnlockConnector", "{\"connectorId\":0}", "{\"status\":\"NotSupported\"}");
	fk_no_call(f);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 77);
	assert_int_equal(lim_now(f, 1), -1);

	/* StopTransactionIfUnlockNotSupported true: the transaction is finished first (5.18), the
	 * answer is still NotSupported, and an unlock of another connector stops nothing. */
	expect_result(f, "ChangeConfiguration", "{\"key\":\"StopTransactionIfUnlockNotSupported\",\"value\":\"True\"}",
		      "{\"status\":\"Accepted\"}");
	expect_result(f, "UnlockConnector", "{\"connectorId\":5}", "{\"status\":\"NotSupported\"}");
	fk_no_call(f);
	expect_result(f, "UnlockConnector", "{\"connectorId\":1}", "{\"status\":\"NotSupported\"}");
	{
		json_t *stop = fk_expect_after_status(f, "StopTransaction");

		assert_string_equal(jstr(stop, "reason"), "UnlockCommand");
		assert_int_equal(jint(stop, "transactionId"), 77);
	}
	fk_ack(f, "{}");
	fk_settle(f);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 0);
	assert_int_equal(ocpp_cp_connector_status(f->cp, 1), OCPP_ST_FINISHING);
}

/* TriggerMessage: the answer, and only then the message asked for (5.17). */
static const char *trigger(struct fake *f, const char *payload)
{
	size_t before = f->n_fr, res = 0;
	json_t *r = fk_cs(f, "TriggerMessage", payload);

	assert_int_equal(json_integer_value(json_array_get(r, 0)), 3);
	for (size_t i = before; i < f->n_fr; i++)
		if (f->fr[i].j == r)
			res = i;
	for (size_t i = before; i < res; i++)
		assert_int_not_equal(f->fr[i].type, 2);
	return json_string_value(json_object_get(json_array_get(r, 2), "status"));
}

static void test_trigger_message(void **state)
{
	struct fake *f = *state;
	json_t *p;

	fk_online(f, 2);
	fk_no_call(f);
	/* StatusNotification for one connector, for the charge point, and for all of them */
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"StatusNotification\",\"connectorId\":2}"), "Accepted");
	p = fk_expect(f, "StatusNotification");
	assert_int_equal(jint(p, "connectorId"), 2);
	assert_string_equal(jstr(p, "status"), "Available");
	fk_ack(f, "{}");
	fk_no_call(f);
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"StatusNotification\",\"connectorId\":0}"), "Accepted");
	assert_int_equal(jint(fk_expect(f, "StatusNotification"), "connectorId"), 0);
	fk_ack(f, "{}");
	fk_no_call(f);
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"StatusNotification\"}"), "Accepted");
	for (int c = 0; c <= 2; c++) {
		assert_int_equal(jint(fk_expect(f, "StatusNotification"), "connectorId"), c);
		fk_ack(f, "{}");
	}
	fk_no_call(f);
	/* a connector that does not exist */
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"StatusNotification\",\"connectorId\":3}"), "Rejected");
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"MeterValues\",\"connectorId\":9}"), "Rejected");
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"MeterValues\",\"connectorId\":0}"), "Rejected");
	fk_no_call(f);
	/* Heartbeat, and the two firmware-profile notifications, which say Idle */
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"Heartbeat\"}"), "Accepted");
	fk_expect(f, "Heartbeat");
	fk_ack_time(f);
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"DiagnosticsStatusNotification\"}"), "Accepted");
	assert_string_equal(jstr(fk_expect(f, "DiagnosticsStatusNotification"), "status"), "Idle");
	fk_ack(f, "{}");
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"FirmwareStatusNotification\",\"connectorId\":1}"),
			    "Accepted");
	assert_string_equal(jstr(fk_expect(f, "FirmwareStatusNotification"), "status"), "Idle");
	fk_ack(f, "{}");
	fk_no_call(f);
	/* MeterValues: context Trigger, with the running transaction's id; every connector without one */
	fk_remote_tx(f, 1, 41);
	fk_no_call(f);
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"MeterValues\",\"connectorId\":1}"), "Accepted");
	p = fk_expect(f, "MeterValues");
	assert_int_equal(jint(p, "transactionId"), 41);
	assert_string_equal(jstr(sampled(p, 0), "context"), "Trigger");
	assert_string_equal(jstr(sampled(p, 0), "measurand"), "Energy.Active.Import.Register");
	fk_ack(f, "{}");
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"MeterValues\"}"), "Accepted");
	assert_int_equal(jint(fk_expect(f, "MeterValues"), "transactionId"), 41);
	fk_ack(f, "{}");
	p = fk_expect(f, "MeterValues");
	assert_int_equal(jint(p, "connectorId"), 2);
	assert_null(json_object_get(p, "transactionId"));
	fk_ack(f, "{}");
	fk_no_call(f);
	/* BootNotification while registered: its interval becomes the heartbeat's */
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"BootNotification\"}"), "Accepted");
	fk_expect(f, "BootNotification");
	fk_ack_boot(f, "Accepted", 77);
	assert_true(ocpp_cp_registered(f->cp));
	assert_int_equal(ocpp_config_int(ocpp_cp_config(f->cp), OCPP_KEY_HEARTBEAT_INTERVAL), 77);
	fk_no_call(f);
	/* ... and answered Pending: registered no more, only BootNotification may be asked for now,
	 * and then it goes out at once instead of after the interval */
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"BootNotification\"}"), "Accepted");
	fk_expect(f, "BootNotification");
	fk_ack_boot(f, "Pending", 300);
	assert_false(ocpp_cp_registered(f->cp));
	fk_no_call(f);
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"Heartbeat\"}"), "Rejected");
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"StatusNotification\"}"), "Rejected");
	fk_no_call(f);
	assert_string_equal(trigger(f, "{\"requestedMessage\":\"BootNotification\"}"), "Accepted");
	fk_expect(f, "BootNotification");
	fk_ack_boot(f, "Accepted", 60);
	assert_true(ocpp_cp_registered(f->cp));
	assert_int_equal(ocpp_cp_stats(f->cp)->rx_bad, 0);
}

static void test_clear_cache(void **state)
{
	struct fake *f = *state;

	fk_key(f, "LocalPreAuthorize", "true");
	f->p.id_tag_source = OCPP_IDTAG_FIXED;
	f->p.fixed_id_tag = "FLEET01";
	fk_online_quiet(f);
	/* first plug-in: not cached, so Authorize */
	fk_ev(f, 1, true, 0);
	fk_settle(f); /* Preparing goes out first */
	fk_expect(f, "Authorize");
	fk_ack(f, "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
	fk_settle(f);
	fk_expect(f, "StartTransaction");
	fk_ack(f, "{\"transactionId\":1,\"idTagInfo\":{\"status\":\"Accepted\"}}");
	fk_settle(f);
	fk_ev(f, 1, false, 0);
	fk_expect(f, "StopTransaction");
	fk_ack(f, "{}");
	fk_settle(f);
	assert_non_null(f->files[2].text);
	assert_non_null(strstr(f->files[2].text, "FLEET01"));
	/* cached and LocalPreAuthorize: starts without Authorize (TC_007_1) */
	fk_ev(f, 1, true, 0);
	fk_settle(f);
	fk_expect(f, "StartTransaction");
	fk_ack(f, "{\"transactionId\":2,\"idTagInfo\":{\"status\":\"Accepted\"}}");
	fk_settle(f);
	fk_ev(f, 1, false, 0);
	fk_expect(f, "StopTransaction");
	fk_ack(f, "{}");
	fk_settle(f);
	/* cleared: needs Authorize again (TC_061_1), on disk too */
	expect_result(f, "ClearCache", "{}", "{\"status\":\"Accepted\"}");
	assert_null(strstr(f->files[2].text, "FLEET01"));
	/* a charge point rebuilt from the cleared file has no cache either */
	ocpp_cp_free(f->cp);
	f->cp = NULL;
	for (size_t i = 0; i < f->n_fr; i++)
		f->fr[i].seen = true;
	assert_int_equal(f->n_jr, 0);
	fk_start(f);
	fk_ev(f, 1, false, 0);
	fk_boot(f);
	fk_ev(f, 1, true, 0);
	fk_settle(f); /* Preparing goes out first */
	fk_expect(f, "Authorize");
	fk_ack(f, "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
	fk_settle(f);
	fk_expect(f, "StartTransaction");
}

/* Local Auth List Management: versions, updates, what a list entry authorises, persistence. */
static void test_local_auth_list(void **state)
{
	struct fake *f = *state;
	char *big;
	size_t len = 0;

	fk_key(f, "LocalPreAuthorize", "true");
	fk_key(f, "AuthorizationCacheEnabled", "false");
	f->p.id_tag_source = OCPP_IDTAG_FIXED;
	f->p.fixed_id_tag = "FLEET01";
	fk_online_quiet(f);
	expect_result(f, "GetLocalListVersion", "{}", "{\"listVersion\":0}");
	/* a differential update must move the version on; a full one may set any */
	expect_result(f, "SendLocalList", "{\"listVersion\":0,\"updateType\":\"Differential\"}",
		      "{\"status\":\"VersionMismatch\"}");
	expect_result(f, "SendLocalList",
		      "{\"listVersion\":2,\"updateType\":\"Full\",\"localAuthorizationList\":["
		      "{\"idTag\":\"fleet01\",\"idTagInfo\":{\"status\":\"Accepted\"}},"
		      "{\"idTag\":\"GONE\",\"idTagInfo\":{\"status\":\"Accepted\"}},{\"idTag\":\"NOINFO\"}]}",
		      "{\"status\":\"Accepted\"}");
	expect_result(f, "GetLocalListVersion", "{}", "{\"listVersion\":2}");
	assert_non_null(strstr(f->files[4].text, "\"version\":2"));
	assert_null(strstr(f->files[4].text, "NOINFO")); /* a full list keeps only entries with info */
	expect_result(f, "SendLocalList", "{\"listVersion\":2,\"updateType\":\"Differential\"}",
		      "{\"status\":\"VersionMismatch\"}");
	expect_result(f, "SendLocalList",
		      "{\"listVersion\":5,\"updateType\":\"Differential\",\"localAuthorizationList\":["
		      "{\"idTag\":\"GONE\"},{\"idTag\":\"BLOCKED1\",\"idTagInfo\":{\"status\":\"Blocked\"}}]}",
		      "{\"status\":\"Accepted\"}");
	expect_result(f, "GetLocalListVersion", "{}", "{\"listVersion\":5}");
	assert_null(strstr(f->files[4].text, "GONE"));
	assert_non_null(strstr(f->files[4].text, "BLOCKED1"));
	/* a list that cannot be saved is Failed, and the one in force stays */
	f->store_fail = true;
	expect_result(f, "SendLocalList", "{\"listVersion\":9,\"updateType\":\"Full\"}", "{\"status\":\"Failed\"}");
	f->store_fail = false;
	expect_result(f, "GetLocalListVersion", "{}", "{\"listVersion\":5}");
	/* more entries than SendLocalListMaxLength: Failed */
	big = malloc(300 * 64 + 128);
	assert_non_null(big);
	len += (size_t)snprintf(big, 128, "{\"listVersion\":6,\"updateType\":\"Differential\",\"localAuthorizationList\":[");
	for (int i = 0; i < 251; i++)
		len += (size_t)snprintf(big + len, 64, "%s{\"idTag\":\"T%d\",\"idTagInfo\":{\"status\":\"Accepted\"}}",
					i ? "," : "", i);
	snprintf(big + len, 8, "]}");
	{
		char *frame = malloc(strlen(big) + 64);

		assert_non_null(frame);
		snprintf(frame, strlen(big) + 64, "[2,\"big-1\",\"SendLocalList\",%s]", big);
		assert_string_equal(json_string_value(json_object_get(
					    json_array_get(fk_answer_to(f, frame, "big-1"), 2), "status")),
				    "Failed");
		free(frame);
	}
	free(big);
	expect_result(f, "GetLocalListVersion", "{}", "{\"listVersion\":5}");
	fk_no_call(f);

	/* In the list and LocalPreAuthorize: the plug-in starts at once, no Authorize (TC_008_1), with
	 * the cache off, so only the list can have said so. */
	fk_ev(f, 1, true, 0);
	fk_settle(f);
	fk_expect(f, "StartTransaction");
	fk_ack(f, "{\"transactionId\":1,\"idTagInfo\":{\"status\":\"Accepted\"}}");
	fk_settle(f);
	fk_ev(f, 1, false, 0);
	fk_expect(f, "StopTransaction");
	fk_ack(f, "{}");
	fk_settle(f);
	/* LocalAuthListEnabled false: the list is not consulted and updates are NotSupported */
	expect_result(f, "ChangeConfiguration", "{\"key\":\"LocalAuthListEnabled\",\"value\":\"false\"}",
		      "{\"status\":\"Accepted\"}");
	expect_result(f, "SendLocalList", "{\"listVersion\":7,\"updateType\":\"Full\"}", "{\"status\":\"NotSupported\"}");
	fk_ev(f, 1, true, 0);
	fk_settle(f);
	fk_expect(f, "Authorize");
	fk_ack(f, "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
	fk_settle(f);
	fk_expect(f, "StartTransaction");
	fk_ack(f, "{\"transactionId\":2,\"idTagInfo\":{\"status\":\"Accepted\"}}");
	fk_settle(f);
	fk_ev(f, 1, false, 0);
	fk_expect(f, "StopTransaction");
	fk_ack(f, "{}");
	fk_settle(f);
	expect_result(f, "ChangeConfiguration", "{\"key\":\"LocalAuthListEnabled\",\"value\":\"true\"}",
		      "{\"status\":\"Accepted\"}");
	/* a restarted charge point has the list from its file: version and entries */
	fk_restart(f, NULL, 0);
	fk_ev(f, 1, false, 0);
	fk_boot(f);
	expect_result(f, "GetLocalListVersion", "{}", "{\"listVersion\":5}");
	/* offline, LocalAuthorizeOffline: the list authorises; a Blocked entry never does, not even with
	 * AllowOfflineTxForUnknownId (it is known) */
	expect_result(f, "ChangeConfiguration", "{\"key\":\"AllowOfflineTxForUnknownId\",\"value\":\"true\"}",
		      "{\"status\":\"Accepted\"}");
	ocpp_cp_disconnected(f->cp, f->now);
	f->connected = false;
	fk_ev(f, 1, true, 0);
	assert_true(ocpp_cp_transaction_id(f->cp, 1) < 0); /* provisional: started offline */
	assert_int_equal(ocpp_cp_stats(f->cp)->rx_bad, 0);
}

static void test_local_auth_list_blocked_offline(void **state)
{
	struct fake *f = *state;

	f->p.id_tag_source = OCPP_IDTAG_FIXED;
	f->p.fixed_id_tag = "BLOCKED1";
	fk_key(f, "AllowOfflineTxForUnknownId", "true");
	fk_online_quiet(f);
	expect_result(f, "SendLocalList",
		      "{\"listVersion\":1,\"updateType\":\"Full\",\"localAuthorizationList\":["
		      "{\"idTag\":\"BLOCKED1\",\"idTagInfo\":{\"status\":\"Blocked\"}}]}",
		      "{\"status\":\"Accepted\"}");
	ocpp_cp_disconnected(f->cp, f->now);
	f->connected = false;
	fk_ev(f, 1, true, 0);
	fk_advance(f, 5000);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 0);
	assert_int_equal(ocpp_cp_connector_status(f->cp, 1), OCPP_ST_PREPARING);
}

/* ------------------------------------------------------------------ CP -> CS: encoding */

static void expect_json(json_t *got, const char *want_text)
{
	json_t *want = json_loads(want_text, 0, NULL);

	assert_non_null(want);
	assert_non_null(got);
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_COMPACT), msg[1024];

		snprintf(msg, sizeof(msg), "%s", g ? g : "?");
		free(g);
		json_decref(want);
		json_decref(got);
		fail_msg("got %s, want %s", msg, want_text);
	}
	json_decref(want);
	json_decref(got);
}

static void test_request_encoding(void **state)
{
	struct fake *f = *state;
	json_t *mv, *data;

	(void)f;
	expect_json(ocpp_authorize_req("ABC"), "{\"idTag\":\"ABC\"}");
	expect_json(ocpp_heartbeat_req(), "{}");
	expect_json(ocpp_data_transfer_req("v", NULL, NULL), "{\"vendorId\":\"v\"}");
	expect_json(ocpp_data_transfer_req("v", "m", "d"), "{\"vendorId\":\"v\",\"messageId\":\"m\",\"data\":\"d\"}");
	expect_json(ocpp_start_transaction_req(2, "TAG", 1234, T0_WALL),
		    "{\"connectorId\":2,\"idTag\":\"TAG\",\"meterStart\":1234,\"timestamp\":\"2026-01-01T00:00:07.250Z\"}");
	expect_json(ocpp_stop_transaction_req(42, "TAG", 2000, T0_WALL + 1000, OCPP_RSN_EV_DISCONNECTED, NULL),
		    "{\"transactionId\":42,\"idTag\":\"TAG\",\"meterStop\":2000,"
		    "\"timestamp\":\"2026-01-01T00:00:08.250Z\",\"reason\":\"EVDisconnected\"}");
	expect_json(ocpp_stop_transaction_req(-3, "", 0, T0_WALL, OCPP_RSN_POWER_LOSS, NULL),
		    "{\"transactionId\":-3,\"meterStop\":0,\"timestamp\":\"2026-01-01T00:00:07.250Z\",\"reason\":\"PowerLoss\"}");
	data = json_loads("[{\"timestamp\":\"2026-01-01T00:00:07.250Z\",\"sampledValue\":[{\"value\":\"1\"}]}]", 0, NULL);
	expect_json(ocpp_stop_transaction_req(1, "T", 5, T0_WALL, OCPP_RSN_REMOTE, data),
		    "{\"transactionId\":1,\"idTag\":\"T\",\"meterStop\":5,\"timestamp\":\"2026-01-01T00:00:07.250Z\","
		    "\"reason\":\"Remote\",\"transactionData\":[{\"timestamp\":\"2026-01-01T00:00:07.250Z\","
		    "\"sampledValue\":[{\"value\":\"1\"}]}]}");
	expect_json(ocpp_status_notification_req(0, OCPP_ST_AVAILABLE, OCPP_CE_NO_ERROR, NULL, NULL, T0_WALL),
		    "{\"connectorId\":0,\"errorCode\":\"NoError\",\"status\":\"Available\","
		    "\"timestamp\":\"2026-01-01T00:00:07.250Z\"}");
	expect_json(ocpp_status_notification_req(1, OCPP_ST_FAULTED, OCPP_CE_OTHER_ERROR, "TWC 1001 error state", "0C",
						 T0_WALL),
		    "{\"connectorId\":1,\"errorCode\":\"OtherError\",\"status\":\"Faulted\","
		    "\"timestamp\":\"2026-01-01T00:00:07.250Z\",\"info\":\"TWC 1001 error state\",\"vendorErrorCode\":\"0C\"}");
	mv = json_loads("{\"timestamp\":\"2026-01-01T00:00:07.250Z\",\"sampledValue\":[{\"value\":\"10\"}]}", 0, NULL);
	expect_json(ocpp_meter_values_req(1, 42, mv),
		    "{\"connectorId\":1,\"transactionId\":42,\"meterValue\":[{\"timestamp\":\"2026-01-01T00:00:07.250Z\","
		    "\"sampledValue\":[{\"value\":\"10\"}]}]}");
	mv = json_loads("{\"timestamp\":\"2026-01-01T00:00:07.250Z\",\"sampledValue\":[]}", 0, NULL);
	expect_json(ocpp_meter_values_req(3, 0, mv),
		    "{\"connectorId\":3,\"meterValue\":[{\"timestamp\":\"2026-01-01T00:00:07.250Z\",\"sampledValue\":[]}]}");
}

static void test_boot_notification_encoding(void **state)
{
	struct fake *f = *state;
	json_t *p;

	f->p.vendor = "12345678901234567890";
	f->p.model = "M";
	f->p.serial = NULL;
	f->p.firmware = NULL;
	fk_start(f);
	ocpp_cp_connected(f->cp, f->now);
	p = fk_expect(f, "BootNotification");
	expect_json(json_incref(p), "{\"chargePointVendor\":\"12345678901234567890\",\"chargePointModel\":\"M\"}");
}

/* A sampled value: the fields of the 1.6 SampledValue, with our units. */
static void test_meter_value_encoding(void **state)
{
	struct fake *f = *state;
	json_t *p, *sv;
	size_t i;
	static const char *const want[][2] = {
		{ "Energy.Active.Import.Register", "Wh" }, { "Current.Import", "A" }, { "Current.Offered", "A" },
		{ "Voltage", "V" }, { "Power.Active.Import", "W" },
	};

	fk_key(f, "MeterValuesSampledData",
	       "Energy.Active.Import.Register,Current.Import,Current.Offered,Voltage,Power.Active.Import");
	fk_key(f, "MeterValueSampleInterval", "10");
	fk_key(f, "StopTxnSampledData", "Energy.Active.Import.Register");
	fk_online_quiet(f);
	expect_result(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"T\"}", "{\"status\":\"Accepted\"}");
	fk_settle(f);
	fk_ev(f, 1, true, 0);
	fk_expect(f, "StartTransaction");
	fk_ack(f, "{\"transactionId\":5,\"idTagInfo\":{\"status\":\"Accepted\"}}");
	fk_settle(f);
	{
		struct ocpp_evse e;

		memset(&e, 0, sizeof(e));
		e.present = e.plugged = e.drawing = true;
		e.amps = 16;
		e.offered_amps = 24;
		e.volts = 231.5;
		ocpp_cp_evse_update(f->cp, 1, &e, f->now);
		fk_advance(f, 9999);
		/* the register advances with the TWC's updates: 16 A * 231.5 V for 10 s = 10.3 Wh */
		ocpp_cp_evse_update(f->cp, 1, &e, f->now);
	}
	fk_advance(f, 1);
	fk_settle(f);
	p = fk_expect(f, "MeterValues");
	sv = json_object_get(json_array_get(json_object_get(p, "meterValue"), 0), "sampledValue");
	assert_int_equal(json_array_size(sv), 5);
	for (i = 0; i < 5; i++) {
		json_t *v = json_array_get(sv, i);

		assert_string_equal(json_string_value(json_object_get(v, "measurand")), want[i][0]);
		assert_string_equal(json_string_value(json_object_get(v, "unit")), want[i][1]);
		assert_string_equal(json_string_value(json_object_get(v, "context")), "Sample.Periodic");
		assert_string_equal(json_string_value(json_object_get(v, "format")), "Raw");
		assert_string_equal(json_string_value(json_object_get(v, "location")), "Outlet");
		assert_true(json_is_string(json_object_get(v, "value")));
	}
	assert_string_equal(json_string_value(json_object_get(json_array_get(sv, 1), "value")), "16.0");
	assert_string_equal(json_string_value(json_object_get(json_array_get(sv, 2), "value")), "24.0");
	assert_string_equal(json_string_value(json_object_get(json_array_get(sv, 3), "value")), "231.5");
	assert_string_equal(json_string_value(json_object_get(json_array_get(sv, 4), "value")), "3704");
	assert_string_equal(json_string_value(json_object_get(json_array_get(sv, 0), "value")), "10");
	fk_ack(f, "{}");
	expect_result(f, "RemoteStopTransaction", "{\"transactionId\":5}", "{\"status\":\"Accepted\"}");
	p = fk_expect(f, "StopTransaction");
	sv = json_object_get(json_array_get(json_object_get(p, "transactionData"), 0), "sampledValue");
	assert_int_equal(json_array_size(sv), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(sv, 0), "context")), "Transaction.End");
}

/* ------------------------------------------------------------------ CP -> CS: results */

/* Every StartTransaction.conf that does not parse is a failed delivery: the message is sent again
 * (after RetryInterval x attempt) and the transaction stays provisional. */
static void test_bad_start_transaction_conf_retried(void **state)
{
	struct fake *f = *state;
	static const char *const bad[] = {
		"{\"idTagInfo\":{\"status\":\"Accepted\"}}",
		"{\"transactionId\":\"5\",\"idTagInfo\":{\"status\":\"Accepted\"}}",
		"{\"transactionId\":5.5,\"idTagInfo\":{\"status\":\"Accepted\"}}",
		"{\"transactionId\":5}",
		"{\"transactionId\":5,\"idTagInfo\":\"Accepted\"}",
		"{\"transactionId\":5,\"idTagInfo\":{}}",
		"{\"transactionId\":5,\"idTagInfo\":{\"status\":\"Bogus\"}}",
		"{\"transactionId\":5,\"idTagInfo\":{\"status\":\"Accepted\",\"expiryDate\":\"tomorrow\"}}",
		"{\"transactionId\":5,\"idTagInfo\":{\"status\":\"Accepted\",\"parentIdTag\":\"123456789012345678901\"}}",
		"{\"transactionId\":5,\"idTagInfo\":{\"status\":\"Accepted\",\"x\":1}}",
		"{\"transactionId\":5,\"idTagInfo\":{\"status\":\"Accepted\"},\"x\":1}",
	};
	size_t n = sizeof(bad) / sizeof(bad[0]);

	fk_key(f, "TransactionMessageAttempts", "100");
	fk_key(f, "TransactionMessageRetryInterval", "5");
	fk_key(f, "MeterValueSampleInterval", "0");
	fk_online_quiet(f);
	expect_result(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"T\"}", "{\"status\":\"Accepted\"}");
	fk_settle(f);
	fk_ev(f, 1, true, 0);
	fk_settle(f);
	for (size_t i = 0; i < n; i++) {
		uint32_t rx_bad = ocpp_cp_stats(f->cp)->rx_bad;

		fk_expect(f, "StartTransaction");
		fk_ack(f, bad[i]);
		assert_int_equal(ocpp_cp_stats(f->cp)->rx_bad, rx_bad + 1);
		assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), -1);
		fk_settle(f);
		fk_no_call(f);
		fk_advance(f, 5000 * (i + 1) - 1);
		fk_settle(f);
		fk_no_call(f);
		fk_advance(f, 1);
	}
	fk_expect(f, "StartTransaction");
	fk_ack(f, "{\"transactionId\":5,\"idTagInfo\":{\"status\":\"Accepted\",\"expiryDate\":\"2027-01-01T00:00:00Z\","
		  "\"parentIdTag\":\"P\"}}");
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 5);
}

/* With the default TransactionMessageAttempts (3), a StartTransaction whose results never parse is
 * given up after the third try, with the rest of its transaction. */
static void test_bad_conf_gives_up(void **state)
{
	struct fake *f = *state;

	fk_key(f, "TransactionMessageRetryInterval", "1");
	fk_key(f, "MeterValueSampleInterval", "0");
	fk_online_quiet(f);
	expect_result(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"T\"}", "{\"status\":\"Accepted\"}");
	fk_settle(f);
	fk_ev(f, 1, true, 0);
	for (int i = 0; i < 3; i++) {
		fk_settle(f);
		fk_expect(f, "StartTransaction");
		fk_ack(f, "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
		fk_advance(f, 10000);
	}
	fk_settle(f);
	fk_no_call(f);
	fk_advance(f, 100000);
	fk_settle(f);
	fk_no_call(f);
}

static void test_bad_other_confs(void **state)
{
	struct fake *f = *state;
	char ts[OCPP_TIME_LEN + 1], buf[256];
	uint32_t rx_bad;

	fk_key(f, "MeterValueSampleInterval", "10");
	fk_key(f, "TransactionMessageRetryInterval", "3");
	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	fk_ev(f, 1, false, 0);
	ocpp_cp_connected(f->cp, f->now);
	/* BootNotification.conf without currentTime, with a bad status, an extra field: boot again later */
	fk_expect(f, "BootNotification");
	fk_ack(f, "{\"status\":\"Accepted\",\"interval\":10}");
	assert_false(ocpp_cp_registered(f->cp));
	fk_advance(f, 60000);
	fk_expect(f, "BootNotification");
	fmt_time(f->now.wall_ms, ts);
	snprintf(buf, sizeof(buf), "{\"status\":\"Fine\",\"currentTime\":\"%s\",\"interval\":10}", ts);
	fk_ack(f, buf);
	assert_false(ocpp_cp_registered(f->cp));
	fk_advance(f, 60000);
	fk_expect(f, "BootNotification");
	fmt_time(f->now.wall_ms, ts);
	snprintf(buf, sizeof(buf), "{\"status\":\"Accepted\",\"currentTime\":\"%s\",\"interval\":\"10\"}", ts);
	fk_ack(f, buf);
	assert_false(ocpp_cp_registered(f->cp));
	fk_advance(f, 60000);
	fk_expect(f, "BootNotification");
	fmt_time(f->now.wall_ms, ts);
	snprintf(buf, sizeof(buf), "{\"status\":\"Accepted\",\"currentTime\":\"%s\",\"interval\":3600}", ts);
	fk_ack(f, buf);
	assert_true(ocpp_cp_registered(f->cp));
	fk_settle(f);

	/* StatusNotification.conf with a field: counted bad, not retried (statuses are re-derived) */
	fk_ev(f, 1, true, 0);
	fk_expect(f, "StatusNotification");
	rx_bad = ocpp_cp_stats(f->cp)->rx_bad;
	fk_ack(f, "{\"x\":1}");
	assert_int_equal(ocpp_cp_stats(f->cp)->rx_bad, rx_bad + 1);

	/* MeterValues.conf with a field: a failed transaction message, sent again */
	expect_result(f, "RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"T\"}", "{\"status\":\"Accepted\"}");
	fk_settle(f);
	fk_expect(f, "StartTransaction");
	fk_ack(f, "{\"transactionId\":9,\"idTagInfo\":{\"status\":\"Accepted\"}}");
	fk_settle(f);
	fk_advance(f, 10000);
	fk_settle(f);
	fk_expect(f, "MeterValues");
	fk_ack(f, "{\"unexpected\":true}");
	fk_advance(f, 3000);
	fk_settle(f);
	fk_expect(f, "MeterValues");
	fk_ack(f, "{}");

	/* StopTransaction.conf with a bad idTagInfo: sent again */
	expect_result(f, "RemoteStopTransaction", "{\"transactionId\":9}", "{\"status\":\"Accepted\"}");
	fk_settle(f);
	fk_expect(f, "StopTransaction");
	fk_ack(f, "{\"idTagInfo\":{\"status\":\"Nope\"}}");
	assert_true(f->n_jr > 0);
	fk_advance(f, 3000);
	fk_settle(f);
	fk_expect(f, "StopTransaction");
	fk_ack(f, "{}");
	assert_int_equal(f->n_jr, 0);

	/* Heartbeat.conf without currentTime: nothing breaks, the next one comes on time */
	fk_advance(f, 3600000);
	fk_expect(f, "Heartbeat");
	fk_ack(f, "{}");
	fk_no_call(f);
}

/* Authorize.conf: Accepted with parent and expiry is cached; a result that does not parse counts as
 * no answer (the offline rules apply) and the idTag is tried again later, not at once. */
static void test_authorize_conf(void **state)
{
	struct fake *f = *state;
	json_t *p;

	f->p.id_tag_source = OCPP_IDTAG_FIXED;
	f->p.fixed_id_tag = "FLEET01";
	fk_online_quiet(f);
	fk_ev(f, 1, true, 0);
	fk_settle(f); /* Preparing goes out first */
	fk_expect(f, "Authorize");
	fk_ack(f, "{\"idTagInfo\":{\"status\":\"Accepted\",\"bogus\":1}}");
	fk_settle(f);
	fk_no_call(f); /* not a storm of Authorize */
	assert_int_equal(ocpp_cp_transaction_id(f->cp, 1), 0);
	fk_advance(f, 29999);
	fk_settle(f);
	fk_no_call(f);
	/* the retry is a deadline of its own, not left to an unrelated tick */
	fk_advance(f, 1);
	fk_settle(f);
	fk_expect(f, "Authorize");
	fk_callerror(f);
	fk_settle(f);
	fk_no_call(f);
	fk_advance(f, 30000);
	fk_settle(f);
	p = fk_expect(f, "Authorize");
	assert_string_equal(json_string_value(json_object_get(p, "idTag")), "FLEET01");
	fk_ack(f, "{\"idTagInfo\":{\"status\":\"Accepted\",\"parentIdTag\":\"FLEET\",\"expiryDate\":\"2027-01-01T00:00:00Z\"}}");
	fk_settle(f);
	fk_expect(f, "StartTransaction");
	assert_non_null(strstr(f->files[2].text, "FLEET01"));
	assert_non_null(strstr(f->files[2].text, "FLEET\""));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_valid_requests),
		T(test_remote_start_variants),
		T(test_remote_start_authorize_first),
		T(test_bad_requests),
		T(test_unknown_and_unsupported_actions),
		T(test_bad_frames),
		T(test_get_configuration_all),
		T(test_change_configuration),
		T(test_persisted_keys_win),
		T(test_security_profile_and_key),
		T(test_security_profile_never_lowered),
		T(test_data_transfer_and_unlock),
		T(test_trigger_message),
		T(test_local_auth_list),
		T(test_local_auth_list_blocked_offline),
		T(test_clear_cache),
		T(test_request_encoding),
		T(test_boot_notification_encoding),
		T(test_meter_value_encoding),
		T(test_bad_start_transaction_conf_retried),
		T(test_bad_conf_gives_up),
		T(test_bad_other_confs),
		T(test_authorize_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
