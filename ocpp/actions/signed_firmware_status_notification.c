/*
 * SignedFirmwareStatusNotification (CP -> CS, security whitepaper use case L01): where a signed
 * firmware update stands. The gateway reports each step (ocpp_cp_firmware_status()); this file
 * checks the status, journals the notification (log_status_notification.c says why the journal),
 * remembers the last one for ExtendedTriggerMessage(FirmwareStatusNotification), and raises
 * InvalidFirmwareSignature with InvalidSignature.
 */
#include "ocpp_cp_internal.h"

enum fw_status {
	FW_DOWNLOADED,
	FW_DOWNLOAD_FAILED,
	FW_DOWNLOADING,
	FW_DOWNLOAD_SCHEDULED,
	FW_DOWNLOAD_PAUSED,
	FW_IDLE,
	FW_INSTALLATION_FAILED,
	FW_INSTALLING,
	FW_INSTALLED,
	FW_INSTALL_REBOOTING,
	FW_INSTALL_SCHEDULED,
	FW_INSTALL_VERIFICATION_FAILED,
	FW_INVALID_SIGNATURE,
	FW_SIGNATURE_VERIFIED,
	FW_COUNT
};
_Static_assert(FW_COUNT == OCPP_FW_STATUSES, "one name per status");

/* The whitepaper's FirmwareStatusEnumType of the signed variant, indexed by enum fw_status. */
const char *const ocpp_fw_status_names[OCPP_FW_STATUSES] = {
	[FW_DOWNLOADED] = "Downloaded",
	[FW_DOWNLOAD_FAILED] = "DownloadFailed",
	[FW_DOWNLOADING] = "Downloading",
	[FW_DOWNLOAD_SCHEDULED] = "DownloadScheduled",
	[FW_DOWNLOAD_PAUSED] = "DownloadPaused",
	[FW_IDLE] = "Idle",
	[FW_INSTALLATION_FAILED] = "InstallationFailed",
	[FW_INSTALLING] = "Installing",
	[FW_INSTALLED] = "Installed",
	[FW_INSTALL_REBOOTING] = "InstallRebooting",
	[FW_INSTALL_SCHEDULED] = "InstallScheduled",
	[FW_INSTALL_VERIFICATION_FAILED] = "InstallVerificationFailed",
	[FW_INVALID_SIGNATURE] = "InvalidSignature",
	[FW_SIGNATURE_VERIFIED] = "SignatureVerified",
};

/* Idle, Installed and the failures end an update; every other status is a step on the way. */
bool ocpp_fw_status_in_progress(int st)
{
	switch (st) {
	case FW_DOWNLOADED:
	case FW_DOWNLOADING:
	case FW_DOWNLOAD_SCHEDULED:
	case FW_DOWNLOAD_PAUSED:
	case FW_INSTALLING:
	case FW_INSTALL_REBOOTING:
	case FW_INSTALL_SCHEDULED:
	case FW_SIGNATURE_VERIFIED:
		return true;
	default:
		return false;
	}
}

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

int ocpp_cp_firmware_status_queue(struct ocpp_cp *cp, const char *status, int request_id)
{
	int st = -1, r;

	for (int i = 0; status && i < OCPP_FW_STATUSES; i++)
		if (!strcmp(status, ocpp_fw_status_names[i]))
			st = i;
	if (st < 0)
		return -EINVAL;
	r = ocpp_cp_status_durable_queue(cp, OCPP_OUT_SIGNED_FIRMWARE_STATUS_NOTIFICATION, ocpp_fw_status_names[st],
					 request_id);
	if (r < 0)
		return r;
	cp->fw_status = st;
	cp->fw_request_id = request_id;
	ocpp_cp_log(cp, st == FW_INVALID_SIGNATURE ? CORE_LOG_WARN : CORE_LOG_INFO, "firmware update %d: %s", request_id,
		    ocpp_fw_status_names[st]);
	/* After the status, so the central system reads them in the order they explain each other. */
	if (st == FW_INVALID_SIGNATURE) {
		char info[64];

		if (request_id >= 0)
			snprintf(info, sizeof(info), "SignedUpdateFirmware requestId %d", request_id);
		else
			snprintf(info, sizeof(info), "SignedUpdateFirmware");
		ocpp_cp_security_event_at(cp, "InvalidFirmwareSignature", info, cp->now_wall);
	}
	return 0;
}
