/*
 * UnlockConnector (CS -> CP): a TWC Gen 2 has a fixed cable and no lock we could release, so the
 * answer is NotSupported for every connector (OCPP 1.6 section 5.18, OCTT TC_017_2/TC_031).
 * Section 5.18 also has a running transaction finished before the unlock; with nothing to unlock
 * the spec leaves open whether that still happens, so StopTransactionIfUnlockNotSupported decides
 * (default false: the transaction goes on; RemoteStopTransaction is the way to end it).
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_handle_unlock_connector(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "connectorId", NULL };
	int64_t c = 0;

	if (ocpp_json_only(req, keys, e) < 0 || ocpp_json_int(req, "connectorId", 0, INT32_MAX, true, &c, e) < 0)
		return NULL;
	if (ocpp_cp_valid_connector(cp, (int)c) && cp->conn[c].tx.active &&
	    ocpp_config_bool(cp->cfg, OCPP_KEY_STOP_TRANSACTION_IF_UNLOCK_NOT_SUPPORTED))
		ocpp_cp_tx_stop(cp, (int)c, OCPP_RSN_UNLOCK_COMMAND);
	return json_pack("{s:s}", "status", "NotSupported");
}
