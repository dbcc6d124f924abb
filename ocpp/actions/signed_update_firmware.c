/*
 * SignedUpdateFirmware (CS -> CP, security whitepaper use case L01): fetch, check and install a
 * firmware image signed by the manufacturer. The core checks the request against the whitepaper's
 * schema (a CALLERROR naming the field when it does not fit) and hands it to the gateway
 * (env.signed_update_firmware), which verifies the signing certificate and the signature and reports
 * each step with ocpp_cp_firmware_status(). Its answer is the status: Accepted, Rejected,
 * AcceptedCanceled, InvalidCertificate (also the security event InvalidFirmwareSigningCertificate)
 * or RevokedCertificate; Rejected when the gateway cannot update firmware.
 */
#include "ocpp_cp_internal.h"

/* Indexed by enum ocpp_fw_update. */
static const char *const update_status_names[] = {
	[OCPP_FW_ACCEPTED] = "Accepted",
	[OCPP_FW_REJECTED] = "Rejected",
	[OCPP_FW_ACCEPTED_CANCELED] = "AcceptedCanceled",
	[OCPP_FW_INVALID_CERTIFICATE] = "InvalidCertificate",
	[OCPP_FW_REVOKED_CERTIFICATE] = "RevokedCertificate",
};
#define UPDATE_STATUSES (int)(sizeof(update_status_names) / sizeof(update_status_names[0]))

json_t *ocpp_handle_signed_update_firmware(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "retries", "retryInterval", "requestId", "firmware", NULL };
	static const char *const fw_keys[] = { "location",	     "retrieveDateTime", "installDateTime",
					       "signingCertificate", "signature",	 NULL };
	struct ocpp_signed_firmware s = { .retries = -1, .retry_interval_s = -1 };
	const json_t *fw = NULL;
	int64_t id = 0, retries = -1, interval = -1;
	int r;

	if (ocpp_json_only(req, keys, e) < 0 || ocpp_json_int(req, "requestId", 0, INT32_MAX, true, &id, e) < 0 ||
	    ocpp_json_int(req, "retries", 0, INT32_MAX, false, &retries, e) < 0 ||
	    ocpp_json_int(req, "retryInterval", 0, INT32_MAX, false, &interval, e) < 0 ||
	    ocpp_json_object(req, "firmware", true, &fw, e) < 0)
		return NULL;
	if (ocpp_json_only(fw, fw_keys, e) < 0 || ocpp_json_uri(fw, "location", OCPP_URI_MAX, true, &s.location, e) < 0 ||
	    ocpp_json_time(fw, "retrieveDateTime", true, &s.retrieve_ms, e) < 0 ||
	    ocpp_json_time(fw, "installDateTime", false, &s.install_ms, e) < 0 ||
	    ocpp_json_string_ref(fw, "signingCertificate", OCPP_FW_SIGNING_CERT_MAX, true, &s.signing_certificate, e) < 0 ||
	    ocpp_json_string_ref(fw, "signature", OCPP_FW_SIGNATURE_MAX, true, &s.signature, e) < 0)
		return NULL;
	s.request_id = (int)id;
	s.retries = (int)retries;
	s.retry_interval_s = (int)interval;

	r = cp->env.signed_update_firmware ? cp->env.signed_update_firmware(cp->env.user, &s) : OCPP_FW_REJECTED;
	if (r < 0 || r >= UPDATE_STATUSES) {
		ocpp_cp_log(cp, CORE_LOG_ERROR, "SignedUpdateFirmware %d: the gateway answered %d: Rejected", s.request_id, r);
		r = OCPP_FW_REJECTED;
	}
	ocpp_cp_log(cp, r == OCPP_FW_ACCEPTED || r == OCPP_FW_ACCEPTED_CANCELED ? CORE_LOG_INFO : CORE_LOG_WARN,
		    "SignedUpdateFirmware %d %s%s", s.request_id, update_status_names[r],
		    cp->env.signed_update_firmware ? "" : ": this gateway cannot update firmware");
	if (r == OCPP_FW_INVALID_CERTIFICATE) {
		char info[64];

		snprintf(info, sizeof(info), "SignedUpdateFirmware requestId %d", s.request_id);
		ocpp_cp_security_event_at(cp, "InvalidFirmwareSigningCertificate", info, cp->now_wall);
	}
	return json_pack("{s:s}", "status", update_status_names[r]);
}
