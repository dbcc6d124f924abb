/*
 * SignedFirmwareStatusNotification (CP -> CS, security whitepaper use case L01): where a signed
 * firmware update stands. twcgw does not take SignedUpdateFirmware yet, so it is only sent when
 * ExtendedTriggerMessage asks for FirmwareStatusNotification (the whitepaper answers that trigger
 * with the signed variant), and then says Idle without a requestId.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_signed_firmware_status_notification_req(const char *status, int request_id)
{
	json_t *j = json_pack("{s:s}", "status", status);

	if (j && request_id >= 0 && json_object_set_new(j, "requestId", json_integer(request_id)) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int ocpp_signed_firmware_status_notification_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf,
						  struct ocpp_perr *e)
{
	static const char *const keys[] = { NULL };

	(void)cp;
	(void)m;
	return ocpp_json_only(conf, keys, e);
}
