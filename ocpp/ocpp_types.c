/*
 * ocpp_types: the name tables for the enums in ocpp_types.h, spelled as in the OCPP 1.6 schemas.
 */
#include "ocpp_types.h"

const char *const ocpp_cp_status_names[OCPP_ST_COUNT] = {
	"Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV",
	"Finishing", "Reserved", "Unavailable", "Faulted",
};

const char *const ocpp_cp_error_names[OCPP_CE_COUNT] = {
	"ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature",
	"InternalError", "LocalListConflict", "NoError", "OtherError", "OverCurrentFailure",
	"PowerMeterFailure", "PowerSwitchFailure", "ReaderFailure", "ResetFailure",
	"UnderVoltage", "OverVoltage", "WeakSignal",
};

const char *const ocpp_auth_status_names[OCPP_AUTH_COUNT] = {
	"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx",
};

const char *const ocpp_stop_reason_names[OCPP_RSN_COUNT] = {
	"EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other", "PowerLoss",
	"Reboot", "Remote", "SoftReset", "UnlockCommand", "DeAuthorized",
};

const char *const ocpp_registration_names[OCPP_REG_COUNT] = {
	"Accepted", "Pending", "Rejected",
};

const char *const ocpp_measurand_names[OCPP_MS_COUNT] = {
	"Energy.Active.Import.Register", "Current.Import", "Current.Offered", "Voltage",
	"Power.Active.Import",
};

const char *const ocpp_measurand_units[OCPP_MS_COUNT] = { "Wh", "A", "A", "V", "W" };

const char *const ocpp_context_names[OCPP_CTX_COUNT] = {
	"Sample.Periodic", "Sample.Clock", "Transaction.Begin", "Transaction.End", "Trigger",
};
