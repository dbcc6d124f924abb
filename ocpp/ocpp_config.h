/*
 * ocpp_config: the charge point's OCPP configuration keys, all in one table (ocpp_config.c) with
 * each key's spec type, access, unit, limits, default and whether a change needs a reboot. It
 * answers ChangeConfiguration (Accepted, Rejected, RebootRequired, NotSupported) and
 * GetConfiguration, and turns the changed keys into JSON for the gateway to persist. Pure: no I/O.
 */
#ifndef OCPP_CONFIG_H
#define OCPP_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define OCPP_CONFIG_VALUE_MAX 500 /* CiString500 in ChangeConfiguration / KeyValue */
#define OCPP_CONFIG_KEY_MAX 50    /* CiString50 */

/* Keep in the order of the table in ocpp_config.c. */
enum ocpp_key {
	OCPP_KEY_ALLOW_OFFLINE_TX_FOR_UNKNOWN_ID = 0,
	OCPP_KEY_AUTHORIZATION_CACHE_ENABLED,
	OCPP_KEY_AUTHORIZE_REMOTE_TX_REQUESTS,
	OCPP_KEY_CLOCK_ALIGNED_DATA_INTERVAL,
	OCPP_KEY_CONNECTION_TIME_OUT,
	OCPP_KEY_CONNECTOR_PHASE_ROTATION,
	OCPP_KEY_CONNECTOR_PHASE_ROTATION_MAX_LENGTH,
	OCPP_KEY_GET_CONFIGURATION_MAX_KEYS,
	OCPP_KEY_HEARTBEAT_INTERVAL,
	OCPP_KEY_LOCAL_AUTHORIZE_OFFLINE,
	OCPP_KEY_LOCAL_PRE_AUTHORIZE,
	OCPP_KEY_METER_VALUES_ALIGNED_DATA,
	OCPP_KEY_METER_VALUES_ALIGNED_DATA_MAX_LENGTH,
	OCPP_KEY_METER_VALUES_SAMPLED_DATA,
	OCPP_KEY_METER_VALUES_SAMPLED_DATA_MAX_LENGTH,
	OCPP_KEY_METER_VALUE_SAMPLE_INTERVAL,
	OCPP_KEY_NUMBER_OF_CONNECTORS,
	OCPP_KEY_RESET_RETRIES,
	OCPP_KEY_STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT,
	OCPP_KEY_STOP_TRANSACTION_ON_INVALID_ID,
	OCPP_KEY_STOP_TXN_ALIGNED_DATA,
	OCPP_KEY_STOP_TXN_ALIGNED_DATA_MAX_LENGTH,
	OCPP_KEY_STOP_TXN_SAMPLED_DATA,
	OCPP_KEY_STOP_TXN_SAMPLED_DATA_MAX_LENGTH,
	OCPP_KEY_SUPPORTED_FEATURE_PROFILES,
	OCPP_KEY_SUPPORTED_FEATURE_PROFILES_MAX_LENGTH,
	OCPP_KEY_TRANSACTION_MESSAGE_ATTEMPTS,
	OCPP_KEY_TRANSACTION_MESSAGE_RETRY_INTERVAL,
	OCPP_KEY_UNLOCK_CONNECTOR_ON_EV_SIDE_DISCONNECT,
	OCPP_KEY_WEB_SOCKET_PING_INTERVAL,
	/* Smart Charging profile (section 9.4): capacities, read-only. */
	OCPP_KEY_CHARGE_PROFILE_MAX_STACK_LEVEL,
	OCPP_KEY_CHARGING_SCHEDULE_ALLOWED_CHARGING_RATE_UNIT,
	OCPP_KEY_CHARGING_SCHEDULE_MAX_PERIODS,
	OCPP_KEY_CONNECTOR_SWITCH_3TO1_PHASE_SUPPORTED,
	OCPP_KEY_MAX_CHARGING_PROFILES_INSTALLED,
	/* Local Auth List Management profile (section 9.2). */
	OCPP_KEY_LOCAL_AUTH_LIST_ENABLED,
	OCPP_KEY_LOCAL_AUTH_LIST_MAX_LENGTH,
	OCPP_KEY_SEND_LOCAL_LIST_MAX_LENGTH,
	/* Security whitepaper keys (section 6.3 of the reference): profiles 1 to 3, then certificates. */
	OCPP_KEY_AUTHORIZATION_KEY,
	OCPP_KEY_SECURITY_PROFILE,
	OCPP_KEY_CPO_NAME,                          /* O= of the charge point certificate's CSR */
	OCPP_KEY_CERTIFICATE_SIGNED_MAX_CHAIN_SIZE, /* longest certificateChain accepted, characters */
	OCPP_KEY_CERTIFICATE_STORE_MAX_LENGTH,      /* most root certificates the store holds */
	OCPP_KEY_ADDITIONAL_ROOT_CERTIFICATE_CHECK,
	/* Vendor keys (the names other charge points use for the same choice). */
	OCPP_KEY_STOP_TRANSACTION_IF_UNLOCK_NOT_SUPPORTED,
	OCPP_KEY_COUNT
};

enum ocpp_key_type {
	OCPP_KT_BOOL,   /* "true" / "false" (case-insensitive on input, lower case on output) */
	OCPP_KT_INT,    /* decimal integer within [min, max] */
	OCPP_KT_CSL,    /* comma-separated list; each item checked by the key's item rule */
	OCPP_KT_STRING, /* free text within [min, max] characters */
};

enum ocpp_key_access {
	OCPP_KA_R,  /* read-only: ChangeConfiguration answers Rejected */
	OCPP_KA_RW,
	OCPP_KA_W,  /* write-only: GetConfiguration lists the key but never its value (AuthorizationKey) */
};

struct ocpp_key_info {
	const char *name;
	enum ocpp_key_type type;
	enum ocpp_key_access access;
	const char *unit;       /* "s", "Wh", NULL */
	long min, max;          /* INT: value range; STRING: length range; CSL: max items (min unused) */
	bool reboot;            /* a change takes effect after a reboot: answer RebootRequired */
	const char *dflt;       /* default value text */
};

enum ocpp_config_status {
	OCPP_CFG_ACCEPTED = 0,
	OCPP_CFG_REJECTED,
	OCPP_CFG_REBOOT_REQUIRED,
	OCPP_CFG_NOT_SUPPORTED,
	OCPP_CFG_COUNT
};
extern const char *const ocpp_config_status_names[OCPP_CFG_COUNT];

struct ocpp_config;

/* All keys at their defaults. NULL on allocation failure. */
struct ocpp_config *ocpp_config_new(void);
void ocpp_config_free(struct ocpp_config *c);

const struct ocpp_key_info *ocpp_config_info(enum ocpp_key k);
/* Case-insensitive lookup (OCPP keys are CiStrings). Return the key or -1. */
int ocpp_config_find(const char *name);

/* Typed views of the current value. ocpp_config_int() of a BOOL key is 0 or 1. */
long ocpp_config_int(const struct ocpp_config *c, enum ocpp_key k);
bool ocpp_config_bool(const struct ocpp_config *c, enum ocpp_key k);
const char *ocpp_config_str(const struct ocpp_config *c, enum ocpp_key k);
/* For CSL measurand keys: bit i set when ocpp_measurand_names[i] is in the list. */
unsigned ocpp_config_measurands(const struct ocpp_config *c, enum ocpp_key k);

/*
 * ocpp_config_change() - ChangeConfiguration from the central system.
 * Unknown key -> NOT_SUPPORTED; read-only key, a value that fails the key's rule, or a
 * SecurityProfile not above the current one (never lowered, whitepaper A00) -> REJECTED;
 * otherwise the value is stored (normalised: bools lower case, ints without leading zeros, CSL without
 * spaces) and the answer is ACCEPTED or REBOOT_REQUIRED. *changed (may be NULL) is set to the key on
 * success, -1 otherwise.
 */
enum ocpp_config_status ocpp_config_change(struct ocpp_config *c, const char *key, const char *value,
					   int *changed);

/* Set any key, read-only ones included, from the gateway (config file, NumberOfConnectors).
 * Return 0 or -EINVAL if the value fails the key's rule. */
int ocpp_config_set(struct ocpp_config *c, enum ocpp_key k, const char *value);

/* The value as GetConfiguration reports it; false for write-only keys (the value is withheld). */
bool ocpp_config_readable(enum ocpp_key k);

/* Persistence: {"KeyName": "value", ...} of every key whose value differs from its default. */
json_t *ocpp_config_to_json(const struct ocpp_config *c);
/* Apply such an object; unknown keys and bad values are skipped. Return the number skipped. */
int ocpp_config_load_json(struct ocpp_config *c, const json_t *obj);

#endif
