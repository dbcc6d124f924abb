/*
 * TriggerMessage (CS -> CP, Remote Trigger profile, OCPP 1.6 section 5.17): send one of six
 * messages now. The CALLRESULT goes out first and the requested message is queued behind it (the
 * caller sends the answer before it pumps the queue). A connectorId that names no connector is
 * Rejected; without one, StatusNotification and MeterValues are sent for the charge point's every
 * connector. Until the central system has accepted the BootNotification only a BootNotification
 * may be asked for: nothing else may be sent yet.
 */
#include "ocpp_cp_internal.h"

enum trigger {
	TRG_BOOT,
	TRG_DIAGNOSTICS,
	TRG_FIRMWARE,
	TRG_HEARTBEAT,
	TRG_METER_VALUES,
	TRG_STATUS,
	TRG_COUNT
};

/* Indexed by enum trigger, so that a change to the enum cannot shift a name onto another message. */
static const char *const trigger_names[TRG_COUNT] = {
	[TRG_BOOT] = "BootNotification",
	[TRG_DIAGNOSTICS] = "DiagnosticsStatusNotification",
	[TRG_FIRMWARE] = "FirmwareStatusNotification",
	[TRG_HEARTBEAT] = "Heartbeat",
	[TRG_METER_VALUES] = "MeterValues",
	[TRG_STATUS] = "StatusNotification",
};

/* The current readings of connector @c, with its transaction's id when one is running. */
static void meter_values_now(struct ocpp_cp *cp, int c)
{
	struct ocpp_conn *k = &cp->conn[c];
	unsigned mask = ocpp_config_measurands(cp->cfg, OCPP_KEY_METER_VALUES_SAMPLED_DATA);

	if (!mask)
		mask = 1u << OCPP_MS_ENERGY_ACTIVE_IMPORT_REGISTER;
	if (k->tx.active)
		ocpp_cp_save_connectors(cp);
	ocpp_cp_queue(cp, OCPP_OUT_METER_VALUES,
		      ocpp_meter_values_req(c, k->tx.active ? ocpp_cp_tx_wire_id(&k->tx) : 0,
					    ocpp_cp_meter_value(cp, c, mask, OCPP_CTX_TRIGGER)),
		      c, k->tx.active ? k->tx.local : 0, k->tx.active);
}

static json_t *status(const char *s)
{
	return json_pack("{s:s}", "status", s);
}

json_t *ocpp_handle_trigger_message(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "requestedMessage", "connectorId", NULL };
	int64_t c = -1;
	int what = 0;

	if (ocpp_json_only(req, keys, e) < 0 ||
	    ocpp_json_enum(req, "requestedMessage", trigger_names, TRG_COUNT, true, &what, e) < 0 ||
	    ocpp_json_int(req, "connectorId", 0, INT32_MAX, false, &c, e) < 0)
		return NULL;
	if (!json_object_get(req, "connectorId"))
		c = -1;
	if (c > 0 && !ocpp_cp_valid_connector(cp, (int)c))
		return status("Rejected");
	if (!cp->registered) {
		if (what != TRG_BOOT)
			return status("Rejected");
		cp->boot_due_ms = cp->now_ms;
		return status("Accepted");
	}
	switch ((enum trigger)what) {
	case TRG_BOOT:
		ocpp_cp_queue(cp, OCPP_OUT_BOOT_NOTIFICATION, ocpp_boot_notification_req(cp), 0, 0, false);
		break;
	case TRG_DIAGNOSTICS:
		ocpp_cp_queue(cp, OCPP_OUT_DIAGNOSTICS_STATUS_NOTIFICATION,
			      ocpp_diagnostics_status_notification_req("Idle"), 0, 0, false);
		break;
	case TRG_FIRMWARE:
		ocpp_cp_queue(cp, OCPP_OUT_FIRMWARE_STATUS_NOTIFICATION, ocpp_firmware_status_notification_req("Idle"),
			      0, 0, false);
		break;
	case TRG_HEARTBEAT:
		ocpp_cp_queue(cp, OCPP_OUT_HEARTBEAT, ocpp_heartbeat_req(), 0, 0, false);
		break;
	case TRG_METER_VALUES:
		/* Connector 0 has no meter of its own: the sum would be a second copy of the same energy. */
		if (c == 0)
			return status("Rejected");
		for (int i = 1; i <= cp->n_conn; i++)
			if ((c < 0 && cp->conn[i].mapped) || i == c)
				meter_values_now(cp, i);
		break;
	case TRG_STATUS:
		if (c <= 0)
			ocpp_cp_status_now(cp, 0);
		for (int i = 1; i <= cp->n_conn; i++)
			if ((c < 0 && cp->conn[i].mapped) || i == c)
				ocpp_cp_status_now(cp, i);
		break;
	case TRG_COUNT:
		break;
	}
	return status("Accepted");
}
