/*
 * StatusNotification (CP -> CS): a connector's status and error code, sent whenever either changes
 * and for every connector after each (re)connection.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_status_notification_req(int connector, enum ocpp_cp_status st, enum ocpp_cp_error err,
				     const char *info, const char *vendor_code, int64_t wall_ms)
{
	char ts[OCPP_TIME_LEN + 1];
	json_t *j;

	ocpp_time_format(wall_ms, ts, sizeof(ts));
	j = json_pack("{s:i,s:s,s:s,s:s}", "connectorId", connector, "errorCode", ocpp_cp_error_names[err], "status",
		      ocpp_cp_status_names[st], "timestamp", ts);
	if (j && info)
		json_object_set_new(j, "info", json_string(info));
	if (j && vendor_code)
		json_object_set_new(j, "vendorErrorCode", json_string(vendor_code));
	return j;
}

int ocpp_status_notification_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf,
				  struct ocpp_perr *e)
{
	static const char *const keys[] = { NULL };

	(void)cp;
	(void)m;
	return ocpp_json_only(conf, keys, e);
}
