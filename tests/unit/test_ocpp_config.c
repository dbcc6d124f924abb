/*
 * Tests of the OCPP configuration keys: every key's default and access, the value rules per type
 * (bool, int, the three kinds of list, the AuthorizationKey string), normalisation, the
 * ChangeConfiguration answers including the SecurityProfile downgrade rule, list length limits from
 * the *MaxLength keys, and the persistence round trip.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocpp_config.h"
#include "ocpp_types.h"

struct expect {
	enum ocpp_key k;
	const char *name;
	enum ocpp_key_type type;
	enum ocpp_key_access access;
	const char *dflt;
};

/* The brief's table, written out independently of ocpp_config.c. */
static const struct expect expected[OCPP_KEY_COUNT] = {
	{ OCPP_KEY_ALLOW_OFFLINE_TX_FOR_UNKNOWN_ID, "AllowOfflineTxForUnknownId", OCPP_KT_BOOL, OCPP_KA_RW, "false" },
	{ OCPP_KEY_AUTHORIZATION_CACHE_ENABLED, "AuthorizationCacheEnabled", OCPP_KT_BOOL, OCPP_KA_RW, "true" },
	{ OCPP_KEY_AUTHORIZE_REMOTE_TX_REQUESTS, "AuthorizeRemoteTxRequests", OCPP_KT_BOOL, OCPP_KA_RW, "false" },
	{ OCPP_KEY_CLOCK_ALIGNED_DATA_INTERVAL, "ClockAlignedDataInterval", OCPP_KT_INT, OCPP_KA_RW, "0" },
	{ OCPP_KEY_CONNECTION_TIME_OUT, "ConnectionTimeOut", OCPP_KT_INT, OCPP_KA_RW, "60" },
	{ OCPP_KEY_CONNECTOR_PHASE_ROTATION, "ConnectorPhaseRotation", OCPP_KT_CSL, OCPP_KA_RW, "0.Unknown" },
	{ OCPP_KEY_CONNECTOR_PHASE_ROTATION_MAX_LENGTH, "ConnectorPhaseRotationMaxLength", OCPP_KT_INT, OCPP_KA_R,
	  "9" },
	{ OCPP_KEY_GET_CONFIGURATION_MAX_KEYS, "GetConfigurationMaxKeys", OCPP_KT_INT, OCPP_KA_R, "50" },
	{ OCPP_KEY_HEARTBEAT_INTERVAL, "HeartbeatInterval", OCPP_KT_INT, OCPP_KA_RW, "300" },
	{ OCPP_KEY_LOCAL_AUTHORIZE_OFFLINE, "LocalAuthorizeOffline", OCPP_KT_BOOL, OCPP_KA_RW, "true" },
	{ OCPP_KEY_LOCAL_PRE_AUTHORIZE, "LocalPreAuthorize", OCPP_KT_BOOL, OCPP_KA_RW, "false" },
	{ OCPP_KEY_METER_VALUES_ALIGNED_DATA, "MeterValuesAlignedData", OCPP_KT_CSL, OCPP_KA_RW,
	  "Energy.Active.Import.Register" },
	{ OCPP_KEY_METER_VALUES_ALIGNED_DATA_MAX_LENGTH, "MeterValuesAlignedDataMaxLength", OCPP_KT_INT, OCPP_KA_R,
	  "5" },
	{ OCPP_KEY_METER_VALUES_SAMPLED_DATA, "MeterValuesSampledData", OCPP_KT_CSL, OCPP_KA_RW,
	  "Energy.Active.Import.Register" },
	{ OCPP_KEY_METER_VALUES_SAMPLED_DATA_MAX_LENGTH, "MeterValuesSampledDataMaxLength", OCPP_KT_INT, OCPP_KA_R,
	  "5" },
	{ OCPP_KEY_METER_VALUE_SAMPLE_INTERVAL, "MeterValueSampleInterval", OCPP_KT_INT, OCPP_KA_RW, "60" },
	{ OCPP_KEY_NUMBER_OF_CONNECTORS, "NumberOfConnectors", OCPP_KT_INT, OCPP_KA_R, "0" },
	{ OCPP_KEY_RESET_RETRIES, "ResetRetries", OCPP_KT_INT, OCPP_KA_RW, "1" },
	{ OCPP_KEY_STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT, "StopTransactionOnEVSideDisconnect", OCPP_KT_BOOL,
	  OCPP_KA_RW, "true" },
	{ OCPP_KEY_STOP_TRANSACTION_ON_INVALID_ID, "StopTransactionOnInvalidId", OCPP_KT_BOOL, OCPP_KA_RW, "true" },
	{ OCPP_KEY_STOP_TXN_ALIGNED_DATA, "StopTxnAlignedData", OCPP_KT_CSL, OCPP_KA_RW, "" },
	{ OCPP_KEY_STOP_TXN_ALIGNED_DATA_MAX_LENGTH, "StopTxnAlignedDataMaxLength", OCPP_KT_INT, OCPP_KA_R, "5" },
	{ OCPP_KEY_STOP_TXN_SAMPLED_DATA, "StopTxnSampledData", OCPP_KT_CSL, OCPP_KA_RW, "" },
	{ OCPP_KEY_STOP_TXN_SAMPLED_DATA_MAX_LENGTH, "StopTxnSampledDataMaxLength", OCPP_KT_INT, OCPP_KA_R, "5" },
	{ OCPP_KEY_SUPPORTED_FEATURE_PROFILES, "SupportedFeatureProfiles", OCPP_KT_CSL, OCPP_KA_R,
	  "Core,LocalAuthListManagement,SmartCharging,RemoteTrigger" },
	{ OCPP_KEY_SUPPORTED_FEATURE_PROFILES_MAX_LENGTH, "SupportedFeatureProfilesMaxLength", OCPP_KT_INT,
	  OCPP_KA_R, "6" },
	{ OCPP_KEY_TRANSACTION_MESSAGE_ATTEMPTS, "TransactionMessageAttempts", OCPP_KT_INT, OCPP_KA_RW, "3" },
	{ OCPP_KEY_TRANSACTION_MESSAGE_RETRY_INTERVAL, "TransactionMessageRetryInterval", OCPP_KT_INT, OCPP_KA_RW,
	  "60" },
	{ OCPP_KEY_UNLOCK_CONNECTOR_ON_EV_SIDE_DISCONNECT, "UnlockConnectorOnEVSideDisconnect", OCPP_KT_BOOL,
	  OCPP_KA_RW, "false" },
	{ OCPP_KEY_WEB_SOCKET_PING_INTERVAL, "WebSocketPingInterval", OCPP_KT_INT, OCPP_KA_RW, "60" },
	{ OCPP_KEY_CHARGE_PROFILE_MAX_STACK_LEVEL, "ChargeProfileMaxStackLevel", OCPP_KT_INT, OCPP_KA_R, "8" },
	{ OCPP_KEY_CHARGING_SCHEDULE_ALLOWED_CHARGING_RATE_UNIT, "ChargingScheduleAllowedChargingRateUnit", OCPP_KT_CSL,
	  OCPP_KA_R, "Current,Power" },
	{ OCPP_KEY_CHARGING_SCHEDULE_MAX_PERIODS, "ChargingScheduleMaxPeriods", OCPP_KT_INT, OCPP_KA_R, "48" },
	{ OCPP_KEY_CONNECTOR_SWITCH_3TO1_PHASE_SUPPORTED, "ConnectorSwitch3to1PhaseSupported", OCPP_KT_BOOL, OCPP_KA_R,
	  "false" },
	{ OCPP_KEY_MAX_CHARGING_PROFILES_INSTALLED, "MaxChargingProfilesInstalled", OCPP_KT_INT, OCPP_KA_R, "32" },
	{ OCPP_KEY_LOCAL_AUTH_LIST_ENABLED, "LocalAuthListEnabled", OCPP_KT_BOOL, OCPP_KA_RW, "true" },
	{ OCPP_KEY_LOCAL_AUTH_LIST_MAX_LENGTH, "LocalAuthListMaxLength", OCPP_KT_INT, OCPP_KA_R, "1000" },
	{ OCPP_KEY_SEND_LOCAL_LIST_MAX_LENGTH, "SendLocalListMaxLength", OCPP_KT_INT, OCPP_KA_R, "250" },
	{ OCPP_KEY_AUTHORIZATION_KEY, "AuthorizationKey", OCPP_KT_STRING, OCPP_KA_W, "" },
	{ OCPP_KEY_SECURITY_PROFILE, "SecurityProfile", OCPP_KT_INT, OCPP_KA_RW, "0" },
	{ OCPP_KEY_CPO_NAME, "CpoName", OCPP_KT_STRING, OCPP_KA_RW, "" },
	{ OCPP_KEY_CERTIFICATE_SIGNED_MAX_CHAIN_SIZE, "CertificateSignedMaxChainSize", OCPP_KT_INT, OCPP_KA_R,
	  "10000" },
	{ OCPP_KEY_CERTIFICATE_STORE_MAX_LENGTH, "CertificateStoreMaxLength", OCPP_KT_INT, OCPP_KA_R, "20" },
	{ OCPP_KEY_ADDITIONAL_ROOT_CERTIFICATE_CHECK, "AdditionalRootCertificateCheck", OCPP_KT_BOOL, OCPP_KA_R,
	  "false" },
	{ OCPP_KEY_STOP_TRANSACTION_IF_UNLOCK_NOT_SUPPORTED, "StopTransactionIfUnlockNotSupported", OCPP_KT_BOOL,
	  OCPP_KA_RW, "false" },
};

static int setup(void **state)
{
	*state = ocpp_config_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	ocpp_config_free(*state);
	return 0;
}

/* ChangeConfiguration with the expected answer; on success the stored text must be @stored. */
static void change(struct ocpp_config *c, const char *key, const char *value, enum ocpp_config_status want,
		   const char *stored)
{
	int changed = -2, k = ocpp_config_find(key);
	char before[OCPP_CONFIG_VALUE_MAX + 1] = "";
	enum ocpp_config_status st;

	if (k >= 0)
		snprintf(before, sizeof(before), "%s", ocpp_config_str(c, (enum ocpp_key)k));
	st = ocpp_config_change(c, key, value, &changed);
	if (st != want)
		fail_msg("%s=\"%s\": got %s, want %s", key, value ? value : "(null)", ocpp_config_status_names[st],
			 ocpp_config_status_names[want]);
	if (st == OCPP_CFG_ACCEPTED || st == OCPP_CFG_REBOOT_REQUIRED) {
		assert_int_equal(changed, k);
		assert_string_equal(ocpp_config_str(c, (enum ocpp_key)k), stored ? stored : value);
	} else {
		assert_int_equal(changed, -1);
		if (k >= 0)
			assert_string_equal(ocpp_config_str(c, (enum ocpp_key)k), before);
	}
}

static void test_table(void **state)
{
	(void)state;
	assert_int_equal(OCPP_KEY_COUNT, 45);
	for (int k = 0; k < OCPP_KEY_COUNT; k++) {
		const struct ocpp_key_info *i = ocpp_config_info((enum ocpp_key)k);
		char lower[OCPP_CONFIG_KEY_MAX + 1];

		assert_non_null(i);
		assert_int_equal(expected[k].k, k);
		assert_string_equal(i->name, expected[k].name);
		assert_int_equal(i->type, expected[k].type);
		assert_int_equal(i->access, expected[k].access);
		assert_string_equal(i->dflt, expected[k].dflt);
		assert_true(strlen(i->name) <= OCPP_CONFIG_KEY_MAX);
		assert_false(i->reboot);
		assert_int_equal(ocpp_config_find(i->name), k);
		/* Keys are CiStrings. */
		for (size_t j = 0; j <= strlen(i->name); j++)
			lower[j] = (char)(i->name[j] >= 'A' && i->name[j] <= 'Z' ? i->name[j] + 32 : i->name[j]);
		assert_int_equal(ocpp_config_find(lower), k);
		assert_int_equal(ocpp_config_readable((enum ocpp_key)k), k != OCPP_KEY_AUTHORIZATION_KEY);
	}
	assert_string_equal(ocpp_config_info(OCPP_KEY_HEARTBEAT_INTERVAL)->unit, "s");
	assert_null(ocpp_config_info(OCPP_KEY_RESET_RETRIES)->unit);
	assert_null(ocpp_config_info(OCPP_KEY_COUNT));
	assert_null(ocpp_config_info((enum ocpp_key)-1));
	assert_false(ocpp_config_readable(OCPP_KEY_COUNT));
	assert_int_equal(ocpp_config_find("HeartbeatIntervalX"), -1);
	assert_int_equal(ocpp_config_find("Heartbeat"), -1);
	assert_int_equal(ocpp_config_find(""), -1);
	assert_int_equal(ocpp_config_find(NULL), -1);
	assert_string_equal(ocpp_config_status_names[OCPP_CFG_ACCEPTED], "Accepted");
	assert_string_equal(ocpp_config_status_names[OCPP_CFG_REJECTED], "Rejected");
	assert_string_equal(ocpp_config_status_names[OCPP_CFG_REBOOT_REQUIRED], "RebootRequired");
	assert_string_equal(ocpp_config_status_names[OCPP_CFG_NOT_SUPPORTED], "NotSupported");
}

static void test_defaults(void **state)
{
	struct ocpp_config *c = *state;

	for (int k = 0; k < OCPP_KEY_COUNT; k++)
		assert_string_equal(ocpp_config_str(c, (enum ocpp_key)k), expected[k].dflt);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_HEARTBEAT_INTERVAL), 300);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_CONNECTION_TIME_OUT), 60);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_GET_CONFIGURATION_MAX_KEYS), 50);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_TRANSACTION_MESSAGE_ATTEMPTS), 3);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_RESET_RETRIES), 1);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_NUMBER_OF_CONNECTORS), 0);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_SECURITY_PROFILE), 0);
	assert_true(ocpp_config_bool(c, OCPP_KEY_AUTHORIZATION_CACHE_ENABLED));
	assert_true(ocpp_config_bool(c, OCPP_KEY_LOCAL_AUTHORIZE_OFFLINE));
	assert_true(ocpp_config_bool(c, OCPP_KEY_STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT));
	assert_false(ocpp_config_bool(c, OCPP_KEY_UNLOCK_CONNECTOR_ON_EV_SIDE_DISCONNECT));
	assert_false(ocpp_config_bool(c, OCPP_KEY_LOCAL_PRE_AUTHORIZE));
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_STOP_TRANSACTION_ON_INVALID_ID), 1);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_ALLOW_OFFLINE_TX_FOR_UNKNOWN_ID), 0);
	assert_int_equal(ocpp_config_measurands(c, OCPP_KEY_METER_VALUES_SAMPLED_DATA),
			 1u << OCPP_MS_ENERGY_ACTIVE_IMPORT_REGISTER);
	assert_int_equal(ocpp_config_measurands(c, OCPP_KEY_METER_VALUES_ALIGNED_DATA),
			 1u << OCPP_MS_ENERGY_ACTIVE_IMPORT_REGISTER);
	assert_int_equal(ocpp_config_measurands(c, OCPP_KEY_STOP_TXN_SAMPLED_DATA), 0);
	assert_int_equal(ocpp_config_measurands(c, OCPP_KEY_STOP_TXN_ALIGNED_DATA), 0);
	/* Typed views of the wrong type, and bad keys, are harmless. */
	assert_int_equal(ocpp_config_measurands(c, OCPP_KEY_HEARTBEAT_INTERVAL), 0);
	assert_int_equal(ocpp_config_measurands(c, OCPP_KEY_CONNECTOR_PHASE_ROTATION), 0);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_METER_VALUES_SAMPLED_DATA), 0);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_COUNT), 0);
	assert_false(ocpp_config_bool(c, OCPP_KEY_COUNT));
	assert_string_equal(ocpp_config_str(c, OCPP_KEY_COUNT), "");
	assert_int_equal(ocpp_config_measurands(c, OCPP_KEY_COUNT), 0);
	ocpp_config_free(NULL);
}

static void test_access(void **state)
{
	struct ocpp_config *c = *state;

	for (int k = 0; k < OCPP_KEY_COUNT; k++) {
		if (expected[k].access == OCPP_KA_R)
			change(c, expected[k].name, expected[k].dflt, OCPP_CFG_REJECTED, NULL);
	}
	change(c, "StopTransactionOnEVSideDisconnect", "false", OCPP_CFG_ACCEPTED, NULL);
	change(c, "UnlockConnectorOnEVSideDisconnect", "true", OCPP_CFG_ACCEPTED, NULL);
	change(c, "NumberOfConnectors", "2", OCPP_CFG_REJECTED, NULL);
	change(c, "SupportedFeatureProfiles", "Core,SmartCharging", OCPP_CFG_REJECTED, NULL);
	change(c, "HeartbeatInterval", "900", OCPP_CFG_ACCEPTED, NULL);
	change(c, "heartbeatinterval", "901", OCPP_CFG_ACCEPTED, NULL);
	change(c, "AuthorizationKey", "0123456789abcdef0123", OCPP_CFG_ACCEPTED, NULL);
	change(c, "NoSuchKey", "1", OCPP_CFG_NOT_SUPPORTED, NULL);
	change(c, "", "1", OCPP_CFG_NOT_SUPPORTED, NULL);
	change(c, NULL, "1", OCPP_CFG_NOT_SUPPORTED, NULL);
	change(c, "HeartbeatInterval", NULL, OCPP_CFG_REJECTED, NULL);
	/* *changed may be NULL. */
	assert_int_equal(ocpp_config_change(c, "ResetRetries", "2", NULL), OCPP_CFG_ACCEPTED);
	assert_int_equal(ocpp_config_change(c, "ResetRetries", "x", NULL), OCPP_CFG_REJECTED);
	/* The gateway may set read-only keys. */
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_NUMBER_OF_CONNECTORS, "3"), 0);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_NUMBER_OF_CONNECTORS), 3);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_NUMBER_OF_CONNECTORS, "9"), -EINVAL);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_NUMBER_OF_CONNECTORS, NULL), -EINVAL);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_COUNT, "1"), -EINVAL);
	assert_int_equal(ocpp_config_set(NULL, OCPP_KEY_HEARTBEAT_INTERVAL, "1"), -EINVAL);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_NUMBER_OF_CONNECTORS), 3);
}

static void test_bool(void **state)
{
	static const char *const bad[] = { "", "yes", "no", "1", "0", " true", "true ", "tru", "truee", "t" };
	struct ocpp_config *c = *state;

	change(c, "LocalPreAuthorize", "TRUE", OCPP_CFG_ACCEPTED, "true");
	assert_true(ocpp_config_bool(c, OCPP_KEY_LOCAL_PRE_AUTHORIZE));
	change(c, "LocalPreAuthorize", "False", OCPP_CFG_ACCEPTED, "false");
	assert_false(ocpp_config_bool(c, OCPP_KEY_LOCAL_PRE_AUTHORIZE));
	change(c, "LocalPreAuthorize", "tRuE", OCPP_CFG_ACCEPTED, "true");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		change(c, "AuthorizeRemoteTxRequests", bad[i], OCPP_CFG_REJECTED, NULL);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT, "maybe"), -EINVAL);
}

static void test_int(void **state)
{
	static const char *const bad[] = { "", "-", "+5", " 5", "5 ", "5s", "1e3", "0x10", "3.0", "--1",
					   "86401", "-1", "9999999999999999999", "123456789012345678901234567890" };
	struct ocpp_config *c = *state;

	change(c, "HeartbeatInterval", "0300", OCPP_CFG_ACCEPTED, "300");
	change(c, "HeartbeatInterval", "0", OCPP_CFG_ACCEPTED, NULL);
	change(c, "HeartbeatInterval", "-0", OCPP_CFG_ACCEPTED, "0");
	change(c, "HeartbeatInterval", "86400", OCPP_CFG_ACCEPTED, NULL);
	change(c, "HeartbeatInterval", "000000000000000000000000000042", OCPP_CFG_REJECTED, NULL);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_HEARTBEAT_INTERVAL), 86400);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		change(c, "HeartbeatInterval", bad[i], OCPP_CFG_REJECTED, NULL);
	/* Each key's own range, at and past both ends. */
	change(c, "ConnectionTimeOut", "0", OCPP_CFG_REJECTED, NULL);
	change(c, "ConnectionTimeOut", "1", OCPP_CFG_ACCEPTED, NULL);
	change(c, "ConnectionTimeOut", "3600", OCPP_CFG_ACCEPTED, NULL);
	change(c, "ConnectionTimeOut", "3601", OCPP_CFG_REJECTED, NULL);
	change(c, "ResetRetries", "10", OCPP_CFG_ACCEPTED, NULL);
	change(c, "ResetRetries", "11", OCPP_CFG_REJECTED, NULL);
	change(c, "TransactionMessageAttempts", "0", OCPP_CFG_REJECTED, NULL);
	change(c, "TransactionMessageAttempts", "100", OCPP_CFG_ACCEPTED, NULL);
	change(c, "TransactionMessageAttempts", "101", OCPP_CFG_REJECTED, NULL);
	change(c, "TransactionMessageRetryInterval", "86401", OCPP_CFG_REJECTED, NULL);
	change(c, "ClockAlignedDataInterval", "900", OCPP_CFG_ACCEPTED, NULL);
	change(c, "MeterValueSampleInterval", "0", OCPP_CFG_ACCEPTED, NULL);
	change(c, "WebSocketPingInterval", "-5", OCPP_CFG_REJECTED, NULL);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_CLOCK_ALIGNED_DATA_INTERVAL), 900);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_TRANSACTION_MESSAGE_ATTEMPTS), 100);
}

static void test_too_long(void **state)
{
	struct ocpp_config *c = *state;
	char v[OCPP_CONFIG_VALUE_MAX + 10];

	memset(v, '0', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	change(c, "HeartbeatInterval", v, OCPP_CFG_REJECTED, NULL);
	/* A list at exactly 500 characters would be fine, but no legal list is that long here. */
	memset(v, ' ', sizeof(v) - 1);
	memcpy(v + sizeof(v) - 8, "Voltage", 7);
	change(c, "MeterValuesSampledData", v, OCPP_CFG_REJECTED, NULL);
}

static void test_measurand_lists(void **state)
{
	struct ocpp_config *c = *state;

	change(c, "MeterValuesSampledData", "Current.Import, Voltage", OCPP_CFG_ACCEPTED, "Current.Import,Voltage");
	assert_int_equal(ocpp_config_measurands(c, OCPP_KEY_METER_VALUES_SAMPLED_DATA),
			 (1u << OCPP_MS_CURRENT_IMPORT) | (1u << OCPP_MS_VOLTAGE));
	change(c, "MeterValuesSampledData", "  voltage\t,CURRENT.OFFERED  ", OCPP_CFG_ACCEPTED,
	       "Voltage,Current.Offered");
	change(c, "MeterValuesAlignedData",
	       "Energy.Active.Import.Register,Current.Import,Current.Offered,Voltage,Power.Active.Import",
	       OCPP_CFG_ACCEPTED, NULL);
	assert_int_equal(ocpp_config_measurands(c, OCPP_KEY_METER_VALUES_ALIGNED_DATA), (1u << OCPP_MS_COUNT) - 1);
	/* The empty list is allowed for measurands. */
	change(c, "MeterValuesAlignedData", "", OCPP_CFG_ACCEPTED, NULL);
	assert_int_equal(ocpp_config_measurands(c, OCPP_KEY_METER_VALUES_ALIGNED_DATA), 0);
	change(c, "StopTxnSampledData", "   ", OCPP_CFG_ACCEPTED, "");
	change(c, "StopTxnAlignedData", "Energy.Active.Import.Register", OCPP_CFG_ACCEPTED, NULL);
	assert_int_equal(ocpp_config_measurands(c, OCPP_KEY_STOP_TXN_ALIGNED_DATA), 1);

	static const char *const bad[] = {
		"Voltage,,Current.Import", ",Voltage", "Voltage,", "Voltage, ,Current.Import", ",", "Voltage,Voltage",
		"Voltage,voltage", "Temperature", "Voltage;Current.Import", "Voltage.L1", "Energy.Active.Import",
		"SoC", "Voltage Current.Import",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		change(c, "StopTxnSampledData", bad[i], OCPP_CFG_REJECTED, NULL);

	/* The *MaxLength key caps the count. */
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_STOP_TXN_SAMPLED_DATA_MAX_LENGTH, "2"), 0);
	change(c, "StopTxnSampledData", "Voltage,Current.Import", OCPP_CFG_ACCEPTED, NULL);
	change(c, "StopTxnSampledData", "Voltage,Current.Import,Current.Offered", OCPP_CFG_REJECTED, NULL);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_STOP_TXN_SAMPLED_DATA_MAX_LENGTH, "0"), 0);
	change(c, "StopTxnSampledData", "Voltage", OCPP_CFG_REJECTED, NULL);
	change(c, "StopTxnSampledData", "", OCPP_CFG_ACCEPTED, NULL);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_STOP_TXN_SAMPLED_DATA_MAX_LENGTH, "6"), -EINVAL);
}

static void test_phase_rotation(void **state)
{
	struct ocpp_config *c = *state;

	change(c, "ConnectorPhaseRotation", "0.RST, 1.RTS,2.NotApplicable", OCPP_CFG_ACCEPTED,
	       "0.RST,1.RTS,2.NotApplicable");
	change(c, "ConnectorPhaseRotation", "1.rst,3.unknown", OCPP_CFG_ACCEPTED, "1.RST,3.Unknown");
	change(c, "ConnectorPhaseRotation", "0.RST,1.RTS,2.SRT,3.STR,4.TRS,5.TSR,6.Unknown,7.NotApplicable,8.RST",
	       OCPP_CFG_ACCEPTED, NULL);
	static const char *const bad[] = {
		"", "9.RST", "0.XYZ", "0RST", "00.RST", "0.", ".RST", "0.RST,0.TSR", "-1.RST", "0.RS", "0.RSTU",
		"0 .RST", "a.RST", "0.RST,,1.RST", "10.RST",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		change(c, "ConnectorPhaseRotation", bad[i], OCPP_CFG_REJECTED, NULL);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_CONNECTOR_PHASE_ROTATION_MAX_LENGTH, "2"), 0);
	change(c, "ConnectorPhaseRotation", "0.RST,1.RST,2.RST", OCPP_CFG_REJECTED, NULL);
	change(c, "ConnectorPhaseRotation", "0.RST,1.RST", OCPP_CFG_ACCEPTED, NULL);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_CONNECTOR_PHASE_ROTATION_MAX_LENGTH, "10"), -EINVAL);
}

static void test_feature_profiles(void **state)
{
	struct ocpp_config *c = *state;

	assert_int_equal(ocpp_config_set(c, OCPP_KEY_SUPPORTED_FEATURE_PROFILES, "Core, SmartCharging"), 0);
	assert_string_equal(ocpp_config_str(c, OCPP_KEY_SUPPORTED_FEATURE_PROFILES), "Core,SmartCharging");
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_SUPPORTED_FEATURE_PROFILES,
					 "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,"
					 "RemoteTrigger"), 0);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_SUPPORTED_FEATURE_PROFILES, "Core,Foo"), -EINVAL);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_SUPPORTED_FEATURE_PROFILES, "Core,Core"), -EINVAL);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_SUPPORTED_FEATURE_PROFILES, ""), -EINVAL);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_SUPPORTED_FEATURE_PROFILES_MAX_LENGTH, "1"), 0);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_SUPPORTED_FEATURE_PROFILES, "Core,SmartCharging"), -EINVAL);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_SUPPORTED_FEATURE_PROFILES, "core"), 0);
	assert_string_equal(ocpp_config_str(c, OCPP_KEY_SUPPORTED_FEATURE_PROFILES), "Core");
}

static void test_security_profile(void **state)
{
	struct ocpp_config *c = *state;

	change(c, "SecurityProfile", "01", OCPP_CFG_ACCEPTED, "1");
	change(c, "SecurityProfile", "0", OCPP_CFG_REJECTED, NULL);
	/* only raised: the same value again is not higher (whitepaper A05) */
	change(c, "SecurityProfile", "1", OCPP_CFG_REJECTED, NULL);
	change(c, "SecurityProfile", "001", OCPP_CFG_REJECTED, NULL);
	change(c, "SecurityProfile", "2", OCPP_CFG_ACCEPTED, NULL);
	change(c, "SecurityProfile", "1", OCPP_CFG_REJECTED, NULL);
	change(c, "SecurityProfile", "-0", OCPP_CFG_REJECTED, NULL);
	change(c, "SecurityProfile", "4", OCPP_CFG_REJECTED, NULL);
	change(c, "SecurityProfile", "x", OCPP_CFG_REJECTED, NULL);
	change(c, "SecurityProfile", "", OCPP_CFG_REJECTED, NULL);
	/* the table takes 3 (TLS with client certificates); whether the charge point is ready for it
	 * is the ChangeConfiguration handler's question (test_ocpp_logfw.c) */
	change(c, "SecurityProfile", "3", OCPP_CFG_ACCEPTED, NULL);
	change(c, "SecurityProfile", "3", OCPP_CFG_REJECTED, NULL);
	change(c, "SecurityProfile", "2", OCPP_CFG_REJECTED, NULL);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_SECURITY_PROFILE), 3);
	/* The gateway's own configuration may lower it. */
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_SECURITY_PROFILE, "0"), 0);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_SECURITY_PROFILE), 0);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_SECURITY_PROFILE, "3"), 0);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_SECURITY_PROFILE), 3);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_SECURITY_PROFILE, "4"), -EINVAL);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_SECURITY_PROFILE, "-1"), -EINVAL);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_SECURITY_PROFILE), 3);
}

static void test_authorization_key(void **state)
{
	struct ocpp_config *c = *state;
	char v[64];

	change(c, "AuthorizationKey", "0123456789abcdef", OCPP_CFG_ACCEPTED, NULL);
	change(c, "AuthorizationKey", "0123456789abcdef0123456789abcdef01234567", OCPP_CFG_ACCEPTED, NULL);
	change(c, "AuthorizationKey", "Pass word with ~!@#$%^&*()", OCPP_CFG_ACCEPTED, NULL);
	assert_false(ocpp_config_readable(OCPP_KEY_AUTHORIZATION_KEY));
	/* The core still reads it, for Basic auth. */
	assert_string_equal(ocpp_config_str(c, OCPP_KEY_AUTHORIZATION_KEY), "Pass word with ~!@#$%^&*()");

	static const char *const bad[] = {
		"", "0123456789abcde", "0123456789abcdef0123456789abcdef012345678", "0123456789abcdef:",
		"0123456789abcdef\t", "0123456789abcdef\x7f", "0123456789abcdef\xc3\xa9",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		change(c, "AuthorizationKey", bad[i], OCPP_CFG_REJECTED, NULL);
	/* Only the gateway can clear it. */
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_AUTHORIZATION_KEY, ""), 0);
	assert_string_equal(ocpp_config_str(c, OCPP_KEY_AUTHORIZATION_KEY), "");
	memset(v, 'k', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_AUTHORIZATION_KEY, v), -EINVAL);
}

static void test_to_json(void **state)
{
	struct ocpp_config *c = *state;
	json_t *j = ocpp_config_to_json(c);

	assert_non_null(j);
	assert_int_equal(json_object_size(j), 0);
	json_decref(j);

	change(c, "HeartbeatInterval", "60", OCPP_CFG_ACCEPTED, NULL);
	change(c, "MeterValuesSampledData", "Voltage", OCPP_CFG_ACCEPTED, NULL);
	change(c, "AuthorizationKey", "0123456789abcdefXYZ", OCPP_CFG_ACCEPTED, NULL);
	change(c, "LocalPreAuthorize", "true", OCPP_CFG_ACCEPTED, NULL);
	change(c, "StopTxnAlignedData", "Voltage,Current.Import", OCPP_CFG_ACCEPTED, NULL);
	change(c, "ResetRetries", "01", OCPP_CFG_ACCEPTED, "1"); /* equal to the default once normalised */
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_NUMBER_OF_CONNECTORS, "3"), 0);
	j = ocpp_config_to_json(c);
	assert_int_equal(json_object_size(j), 6);
	assert_string_equal(json_string_value(json_object_get(j, "HeartbeatInterval")), "60");
	assert_string_equal(json_string_value(json_object_get(j, "MeterValuesSampledData")), "Voltage");
	assert_string_equal(json_string_value(json_object_get(j, "AuthorizationKey")), "0123456789abcdefXYZ");
	assert_string_equal(json_string_value(json_object_get(j, "LocalPreAuthorize")), "true");
	assert_string_equal(json_string_value(json_object_get(j, "StopTxnAlignedData")), "Voltage,Current.Import");
	assert_string_equal(json_string_value(json_object_get(j, "NumberOfConnectors")), "3");

	/* Back at a default, a key is no longer listed. */
	change(c, "HeartbeatInterval", "300", OCPP_CFG_ACCEPTED, NULL);
	json_decref(j);
	j = ocpp_config_to_json(c);
	assert_int_equal(json_object_size(j), 5);
	assert_null(json_object_get(j, "HeartbeatInterval"));

	/* Round trip into a fresh config: every key equal. */
	struct ocpp_config *d = ocpp_config_new();
	char *text = json_dumps(j, 0);
	json_t *back = json_loads(text, 0, NULL);

	assert_int_equal(ocpp_config_load_json(d, back), 0);
	for (int k = 0; k < OCPP_KEY_COUNT; k++)
		assert_string_equal(ocpp_config_str(d, (enum ocpp_key)k), ocpp_config_str(c, (enum ocpp_key)k));
	assert_int_equal(ocpp_config_measurands(d, OCPP_KEY_STOP_TXN_ALIGNED_DATA),
			 (1u << OCPP_MS_VOLTAGE) | (1u << OCPP_MS_CURRENT_IMPORT));
	assert_true(ocpp_config_bool(d, OCPP_KEY_LOCAL_PRE_AUTHORIZE));
	free(text);
	json_decref(back);
	json_decref(j);
	ocpp_config_free(d);
}

static void test_load_json(void **state)
{
	struct ocpp_config *c = *state;
	json_t *j = json_loads("{"
			       "\"heartbeatinterval\": 120,"             /* any case; a number is fine */
			       "\"LocalPreAuthorize\": true,"            /* so is a JSON bool */
			       "\"ConnectionTimeOut\": \"0\","           /* out of range: skipped */
			       "\"NoSuchKey\": \"1\","                   /* unknown: skipped */
			       "\"ResetRetries\": [1],"                  /* wrong type: skipped */
			       "\"WebSocketPingInterval\": null,"        /* wrong type: skipped */
			       "\"SecurityProfile\": \"0\","             /* load is not ChangeConfiguration */
			       "\"MeterValuesSampledData\": \"Voltage,Current.Import,Current.Offered\","
			       "\"MeterValuesSampledDataMaxLength\": \"2\"," /* applied before the list: list skipped */
			       "\"StopTxnSampledData\": \"Voltage\","
			       "\"StopTxnSampledDataMaxLength\": \"1\","
			       "\"NumberOfConnectors\": \"2\","
			       "\"AuthorizationKey\": \"short\""
			       "}", 0, NULL);

	assert_non_null(j);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_SECURITY_PROFILE, "2"), 0);
	assert_int_equal(ocpp_config_load_json(c, j), 6);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_HEARTBEAT_INTERVAL), 120);
	assert_true(ocpp_config_bool(c, OCPP_KEY_LOCAL_PRE_AUTHORIZE));
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_CONNECTION_TIME_OUT), 60);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_RESET_RETRIES), 1);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_SECURITY_PROFILE), 0);
	assert_string_equal(ocpp_config_str(c, OCPP_KEY_METER_VALUES_SAMPLED_DATA), "Energy.Active.Import.Register");
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_METER_VALUES_SAMPLED_DATA_MAX_LENGTH), 2);
	assert_string_equal(ocpp_config_str(c, OCPP_KEY_STOP_TXN_SAMPLED_DATA), "Voltage");
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_NUMBER_OF_CONNECTORS), 2);
	assert_string_equal(ocpp_config_str(c, OCPP_KEY_AUTHORIZATION_KEY), "");
	json_decref(j);

	j = json_array();
	assert_int_equal(ocpp_config_load_json(c, j), -EINVAL);
	json_decref(j);
	assert_int_equal(ocpp_config_load_json(c, NULL), 0);

	/* A value longer than the CiString500 is skipped, not cut. */
	char big[OCPP_CONFIG_VALUE_MAX + 2];
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	j = json_pack("{s:s}", "HeartbeatInterval", big);
	assert_int_equal(ocpp_config_load_json(c, j), 1);
	assert_int_equal(ocpp_config_int(c, OCPP_KEY_HEARTBEAT_INTERVAL), 120);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_measurand_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_phase_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feature_profiles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_security_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authorization_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_to_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_json, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
