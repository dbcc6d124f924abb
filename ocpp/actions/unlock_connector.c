/*
 * UnlockConnector (CS -> CP): a TWC Gen 2 has a fixed cable and no lock we could release, so the
 * answer is NotSupported for every connector (OCPP 1.6 section 5.17, OCTT TC_017_2/TC_031), and a
 * running transaction is left alone.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_handle_unlock_connector(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "connectorId", NULL };
	int64_t c = 0;

	(void)cp;
	if (ocpp_json_only(req, keys, e) < 0 || ocpp_json_int(req, "connectorId", 0, INT32_MAX, true, &c, e) < 0)
		return NULL;
	return json_pack("{s:s}", "status", "NotSupported");
}
