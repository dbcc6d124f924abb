/*
 * Reset (CS -> CP): stop every transaction (reason SoftReset or HardReset), give the StopTransaction
 * messages a few seconds to be acknowledged, then ask the gateway to restart the process. Both kinds
 * restart the same way; "hard" only shortens nothing we could skip safely.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_handle_reset(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "type", NULL };
	static const char *const types[] = { "Hard", "Soft" };
	int type = 0;

	if (ocpp_json_only(req, keys, e) < 0 || ocpp_json_enum(req, "type", types, 2, true, &type, e) < 0)
		return NULL;
	ocpp_cp_log(cp, CORE_LOG_INFO, "%s reset requested", types[type]);
	ocpp_cp_request_reset(cp, type == 0);
	return json_pack("{s:s}", "status", "Accepted");
}
