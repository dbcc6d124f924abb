/*
 * ExtendedTriggerMessage (CS -> CP, security whitepaper): TriggerMessage with the whitepaper's own
 * messages. The four it shares with TriggerMessage (BootNotification, Heartbeat, MeterValues,
 * StatusNotification) go through that handler, so both follow one set of connector and registration
 * rules; LogStatusNotification says Uploading with the GetLog's requestId while the gateway reports an
 * upload running, else Idle; FirmwareStatusNotification is answered with the signed variant, the
 * last status the gateway reported while an update is in progress, else Idle. Both are snapshots:
 * they go in the ordinary queue, not in the journal with the steps the gateway reports (a newer
 * snapshot may replace one still waiting). SignChargePointCertificate asks
 * the gateway for a new key and CSR (env.sign_certificate) once the CALLRESULT is out. Accepted,
 * Rejected (a connector that does not exist, not registered yet, no CpoName) or NotImplemented (the
 * gateway cannot make a CSR).
 */
#include "ocpp_cp_internal.h"

enum ext_trigger {
	ETRG_BOOT,
	ETRG_LOG_STATUS,
	ETRG_FIRMWARE_STATUS,
	ETRG_HEARTBEAT,
	ETRG_METER_VALUES,
	ETRG_SIGN_CP_CERTIFICATE,
	ETRG_STATUS,
	ETRG_COUNT
};

/* Indexed by enum ext_trigger: the whitepaper's MessageTriggerEnumType. */
static const char *const ext_trigger_names[ETRG_COUNT] = {
	[ETRG_BOOT] = "BootNotification",
	[ETRG_LOG_STATUS] = "LogStatusNotification",
	[ETRG_FIRMWARE_STATUS] = "FirmwareStatusNotification",
	[ETRG_HEARTBEAT] = "Heartbeat",
	[ETRG_METER_VALUES] = "MeterValues",
	[ETRG_SIGN_CP_CERTIFICATE] = "SignChargePointCertificate",
	[ETRG_STATUS] = "StatusNotification",
};

static json_t *status(const char *s)
{
	return json_pack("{s:s}", "status", s);
}

/* The same request as a TriggerMessage, answered by its handler (it queues the message). */
static json_t *as_trigger_message(struct ocpp_cp *cp, const char *what, int64_t c, struct ocpp_perr *e)
{
	json_t *req = json_pack("{s:s}", "requestedMessage", what), *conf;

	if (req && c >= 0 && json_object_set_new(req, "connectorId", json_integer(c)) < 0) {
		json_decref(req);
		req = NULL;
	}
	if (!req) {
		ocpp_perr_set(e, OCPP_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	conf = ocpp_handle_trigger_message(cp, req, e);
	json_decref(req);
	return conf;
}

json_t *ocpp_handle_extended_trigger_message(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "requestedMessage", "connectorId", NULL };
	int64_t c = -1;
	int what = 0;

	if (ocpp_json_only(req, keys, e) < 0 ||
	    ocpp_json_enum(req, "requestedMessage", ext_trigger_names, ETRG_COUNT, true, &what, e) < 0 ||
	    ocpp_json_int(req, "connectorId", 0, INT32_MAX, false, &c, e) < 0)
		return NULL;
	if (!json_object_get(req, "connectorId"))
		c = -1;
	switch ((enum ext_trigger)what) {
	case ETRG_BOOT:
	case ETRG_HEARTBEAT:
	case ETRG_METER_VALUES:
	case ETRG_STATUS:
		return as_trigger_message(cp, ext_trigger_names[what], c, e);
	case ETRG_LOG_STATUS:
	case ETRG_FIRMWARE_STATUS:
	case ETRG_SIGN_CP_CERTIFICATE:
	case ETRG_COUNT:
		break;
	}
	if (c > 0 && !ocpp_cp_valid_connector(cp, (int)c))
		return status("Rejected");
	if (what == ETRG_SIGN_CP_CERTIFICATE && !cp->env.sign_certificate)
		return status("NotImplemented");
	/* Nothing but a BootNotification may go out before the central system accepted one. */
	if (!cp->registered)
		return status("Rejected");
	switch ((enum ext_trigger)what) {
	case ETRG_LOG_STATUS:
		if (cp->log_status == OCPP_LOG_ST_UPLOADING)
			ocpp_cp_queue(cp, OCPP_OUT_LOG_STATUS_NOTIFICATION,
				      ocpp_log_status_notification_req("Uploading", cp->log_request_id), 0, 0, false);
		else
			ocpp_cp_queue(cp, OCPP_OUT_LOG_STATUS_NOTIFICATION, ocpp_log_status_notification_req("Idle", -1), 0,
				      0, false);
		break;
	case ETRG_FIRMWARE_STATUS:
		if (ocpp_fw_status_in_progress(cp->fw_status))
			ocpp_cp_queue(cp, OCPP_OUT_SIGNED_FIRMWARE_STATUS_NOTIFICATION,
				      ocpp_signed_firmware_status_notification_req(ocpp_fw_status_names[cp->fw_status],
										   cp->fw_request_id),
				      0, 0, false);
		else
			ocpp_cp_queue(cp, OCPP_OUT_SIGNED_FIRMWARE_STATUS_NOTIFICATION,
				      ocpp_signed_firmware_status_notification_req("Idle", -1), 0, 0, false);
		break;
	case ETRG_SIGN_CP_CERTIFICATE:
		/* The CSR's O= is the CpoName (A02/A03): without one there is nothing to ask for. */
		if (!ocpp_config_str(cp->cfg, OCPP_KEY_CPO_NAME)[0])
			return status("Rejected");
		cp->sign_due = true;
		break;
	default:
		break;
	}
	return status("Accepted");
}
