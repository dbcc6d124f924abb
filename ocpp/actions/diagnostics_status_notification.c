/*
 * DiagnosticsStatusNotification (CP -> CS): where a diagnostics upload stands. twcgw does not
 * upload diagnostics (no FirmwareManagement profile), so it is only ever sent when TriggerMessage
 * asks for it, and then says Idle (OCPP 1.6 section 6.17).
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_diagnostics_status_notification_req(const char *status)
{
	return json_pack("{s:s}", "status", status);
}

int ocpp_diagnostics_status_notification_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf,
					      struct ocpp_perr *e)
{
	static const char *const keys[] = { NULL };

	(void)cp;
	(void)m;
	return ocpp_json_only(conf, keys, e);
}
