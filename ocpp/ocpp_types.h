/*
 * ocpp_types: the OCPP 1.6 enumerations the charge point sends and reads, each with its name table in
 * the order of the enum, so that encoding is names[value] and parsing is ocpp_json_enum(). Pure data.
 */
#ifndef OCPP_TYPES_H
#define OCPP_TYPES_H

#define OCPP_IDTAG_MAX 20 /* IdToken is CiString20 */

enum ocpp_cp_status {
	OCPP_ST_AVAILABLE = 0,
	OCPP_ST_PREPARING,
	OCPP_ST_CHARGING,
	OCPP_ST_SUSPENDED_EVSE,
	OCPP_ST_SUSPENDED_EV,
	OCPP_ST_FINISHING,
	OCPP_ST_RESERVED,
	OCPP_ST_UNAVAILABLE,
	OCPP_ST_FAULTED,
	OCPP_ST_COUNT
};
extern const char *const ocpp_cp_status_names[OCPP_ST_COUNT];

enum ocpp_cp_error {
	OCPP_CE_CONNECTOR_LOCK_FAILURE = 0,
	OCPP_CE_EV_COMMUNICATION_ERROR,
	OCPP_CE_GROUND_FAILURE,
	OCPP_CE_HIGH_TEMPERATURE,
	OCPP_CE_INTERNAL_ERROR,
	OCPP_CE_LOCAL_LIST_CONFLICT,
	OCPP_CE_NO_ERROR,
	OCPP_CE_OTHER_ERROR,
	OCPP_CE_OVER_CURRENT_FAILURE,
	OCPP_CE_POWER_METER_FAILURE,
	OCPP_CE_POWER_SWITCH_FAILURE,
	OCPP_CE_READER_FAILURE,
	OCPP_CE_RESET_FAILURE,
	OCPP_CE_UNDER_VOLTAGE,
	OCPP_CE_OVER_VOLTAGE,
	OCPP_CE_WEAK_SIGNAL,
	OCPP_CE_COUNT
};
extern const char *const ocpp_cp_error_names[OCPP_CE_COUNT];

enum ocpp_auth_status {
	OCPP_AUTH_ACCEPTED = 0,
	OCPP_AUTH_BLOCKED,
	OCPP_AUTH_EXPIRED,
	OCPP_AUTH_INVALID,
	OCPP_AUTH_CONCURRENT_TX,
	OCPP_AUTH_COUNT
};
extern const char *const ocpp_auth_status_names[OCPP_AUTH_COUNT];

enum ocpp_stop_reason {
	OCPP_RSN_EMERGENCY_STOP = 0,
	OCPP_RSN_EV_DISCONNECTED,
	OCPP_RSN_HARD_RESET,
	OCPP_RSN_LOCAL,
	OCPP_RSN_OTHER,
	OCPP_RSN_POWER_LOSS,
	OCPP_RSN_REBOOT,
	OCPP_RSN_REMOTE,
	OCPP_RSN_SOFT_RESET,
	OCPP_RSN_UNLOCK_COMMAND,
	OCPP_RSN_DEAUTHORIZED,
	OCPP_RSN_COUNT
};
extern const char *const ocpp_stop_reason_names[OCPP_RSN_COUNT];

enum ocpp_registration {
	OCPP_REG_ACCEPTED = 0,
	OCPP_REG_PENDING,
	OCPP_REG_REJECTED,
	OCPP_REG_COUNT
};
extern const char *const ocpp_registration_names[OCPP_REG_COUNT];

/* The measurands this gateway can sample (a TWC gives current, voltage and energy). */
enum ocpp_measurand {
	OCPP_MS_ENERGY_ACTIVE_IMPORT_REGISTER = 0,
	OCPP_MS_CURRENT_IMPORT,
	OCPP_MS_CURRENT_OFFERED,
	OCPP_MS_VOLTAGE,
	OCPP_MS_POWER_ACTIVE_IMPORT,
	OCPP_MS_COUNT
};
extern const char *const ocpp_measurand_names[OCPP_MS_COUNT];
extern const char *const ocpp_measurand_units[OCPP_MS_COUNT]; /* "Wh", "A", "A", "V", "W" */

/* ReadingContext values we send. */
enum ocpp_context {
	OCPP_CTX_SAMPLE_PERIODIC = 0,
	OCPP_CTX_SAMPLE_CLOCK,
	OCPP_CTX_TRANSACTION_BEGIN,
	OCPP_CTX_TRANSACTION_END,
	OCPP_CTX_TRIGGER,
	OCPP_CTX_COUNT
};
extern const char *const ocpp_context_names[OCPP_CTX_COUNT];

#endif
