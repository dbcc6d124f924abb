/*
 * LogStatusNotification (CP -> CS, security whitepaper use case N01): where the upload of a log asked
 * for by GetLog stands. twcgw does not take GetLog yet, so it is only sent when ExtendedTriggerMessage
 * asks for it, and then says Idle without a requestId (no upload is going on).
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_log_status_notification_req(const char *status, int request_id)
{
	json_t *j = json_pack("{s:s}", "status", status);

	if (j && request_id >= 0 && json_object_set_new(j, "requestId", json_integer(request_id)) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int ocpp_log_status_notification_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf,
				      struct ocpp_perr *e)
{
	static const char *const keys[] = { NULL };

	(void)cp;
	(void)m;
	return ocpp_json_only(conf, keys, e);
}
