/*
 * RemoteStopTransaction (CS -> CP): stop the transaction with that id (reason Remote); an id we are
 * not running is Rejected. The car is left at 0 A: a Gen 2 TWC cannot end the car's session itself.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_handle_remote_stop_transaction(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "transactionId", NULL };
	int64_t id = 0;
	int c;

	if (ocpp_json_only(req, keys, e) < 0 ||
	    ocpp_json_int(req, "transactionId", INT32_MIN, INT32_MAX, true, &id, e) < 0)
		return NULL;
	c = id ? ocpp_cp_find_tx(cp, (int)id) : 0;
	if (!c)
		return json_pack("{s:s}", "status", "Rejected");
	ocpp_cp_tx_stop(cp, c, OCPP_RSN_REMOTE);
	return json_pack("{s:s}", "status", "Accepted");
}
